//! The generic half of every kind's reconcile: ARM errors as phases, resuming long-running
//! operations kept in status, and resource-id resolution.

use std::time::Duration;

use crate::api::{AzureResource, PendingOperation};
use crate::azure::{ArmClient, ArmError, OperationToken, Poll, ResourceId};

use super::{Phase, Requeue};

/// Poll interval while an operation runs and ARM did not say.
pub const OPERATION_POLL: Duration = Duration::from_secs(5);

/// The phase and requeue for an ARM failure. ARM's code and message are kept verbatim.
pub fn phase_for_error(err: &ArmError, drift_interval: Duration) -> (Phase, Requeue) {
    match err {
        ArmError::Throttled { retry_after } => (
            Phase::progressing(
                "Throttled",
                format!(
                    "ARM throttled this subscription; retrying in {}s",
                    retry_after.as_secs()
                ),
            ),
            Requeue::After(*retry_after),
        ),
        ArmError::Transient { .. } | ArmError::Conflict { .. } | ArmError::InvalidResponse(_) => (
            Phase::progressing(
                &reason(err.code()),
                format!("{}: {} (will retry)", err.code(), err.message()),
            ),
            Requeue::Backoff,
        ),
        ArmError::Auth { code, message, .. } => (
            Phase::stalled("AuthenticationFailed", format!("{code}: {message}")),
            Requeue::After(drift_interval),
        ),
        ArmError::Credential(message) => (
            Phase::stalled("AuthenticationFailed", message.clone()),
            Requeue::Backoff,
        ),
        ArmError::NotFound { code, message } | ArmError::Terminal { code, message, .. } => (
            Phase::stalled(&reason(code), format!("{code}: {message}")),
            Requeue::After(drift_interval),
        ),
        ArmError::Config(message) => (
            Phase::stalled("InvalidSpec", message.clone()),
            Requeue::After(drift_interval),
        ),
    }
}

/// The phase and requeue for an ARM failure while an object is being deleted: a stall also
/// says that deletion waits for the fix, and how to give up on it (`left`: what then stays).
pub fn cleanup_phase_for_error(
    err: &ArmError,
    drift_interval: Duration,
    left: &str,
) -> (Phase, Requeue) {
    match phase_for_error(err, drift_interval) {
        (Phase::Stalled { reason, message }, requeue) => (
            Phase::Stalled {
                reason,
                message: format!(
                    "{message}; deletion is blocked until this is fixed (or remove the finalizer to leave {left})"
                ),
            },
            requeue,
        ),
        other => other,
    }
}

/// A condition reason from an ARM error code (Kubernetes allows letters, digits, `_`, `,`, `:`).
fn reason(code: &str) -> String {
    let cleaned: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match cleaned.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => cleaned,
        _ => "ArmError".to_string(),
    }
}

/// Where a resumed operation stands.
pub enum Resumed {
    /// Still running: look again after the delay.
    Running(Duration),
    /// Finished; for PUT/PATCH, the resource as ARM reports it.
    Finished(Option<serde_json::Value>),
    /// Ended Failed/Canceled, or the token is unusable.
    Failed(ArmError),
}

/// Records an operation in status so a restarted controller resumes it.
pub fn pending(action: &str, token: &OperationToken) -> Result<PendingOperation, ArmError> {
    let token_json = serde_json::to_string(token).map_err(|e| {
        ArmError::InvalidResponse(format!("operation token does not serialise: {e}"))
    })?;
    Ok(PendingOperation {
        action: action.to_string(),
        resource_id: token.resource_id.to_string(),
        token: token_json,
        started_at: token.started_at.to_string(),
    })
}

/// Polls the operation recorded in status once.
pub async fn resume(arm: &ArmClient, op: &PendingOperation) -> Resumed {
    let token: OperationToken = match serde_json::from_str(&op.token) {
        Ok(t) => t,
        Err(e) => {
            return Resumed::Failed(ArmError::InvalidResponse(format!(
                "status.operation.token for {} cannot be read: {e}",
                op.resource_id
            )));
        }
    };
    match arm.poll(&token).await {
        Ok(Poll::InProgress { retry_after }) => Resumed::Running(retry_after),
        Ok(Poll::Done(body)) => Resumed::Finished(body),
        Err(ArmError::Throttled { retry_after }) => Resumed::Running(retry_after),
        Err(e) if e.is_retryable() => Resumed::Running(OPERATION_POLL),
        Err(e) => Resumed::Failed(e),
    }
}

/// The ARM id of `type_` named `name` where `azure` says, or a message naming the field.
pub fn resource_id(
    azure: &AzureResource,
    default_subscription: Option<&str>,
    provider: &str,
    type_: &str,
    metadata_name: &str,
) -> Result<ResourceId, String> {
    let subscription = azure
        .subscription_id
        .as_deref()
        .or(default_subscription)
        .ok_or(
            "spec.azure.subscriptionId is not set and the controller has no --default-subscription",
        )?;
    let name = azure.name.as_deref().unwrap_or(metadata_name);
    Ok(ResourceId::resource(
        subscription,
        &azure.resource_group,
        provider,
        type_,
        name,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_during_deletion_says_deletion_waits() {
        let interval = Duration::from_secs(600);
        let auth = ArmError::Auth {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "no rights".into(),
        };
        let (phase, requeue) = cleanup_phase_for_error(&auth, interval, "the scope in Azure");
        assert_eq!(
            phase,
            Phase::stalled(
                "AuthenticationFailed",
                "AuthorizationFailed: no rights; deletion is blocked until this is fixed (or remove the finalizer to leave the scope in Azure)"
            )
        );
        assert_eq!(requeue, Requeue::After(interval));
        let throttled = ArmError::Throttled {
            retry_after: Duration::from_secs(7),
        };
        assert_eq!(
            cleanup_phase_for_error(&throttled, interval, "x"),
            phase_for_error(&throttled, interval)
        );
    }

    #[test]
    fn errors_map_to_phases_verbatim() {
        let interval = Duration::from_secs(600);
        let terminal = ArmError::Terminal {
            status: 400,
            code: "InvalidResourceName".into(),
            message: "Resource name x! is invalid.".into(),
            target: None,
        };
        let (phase, requeue) = phase_for_error(&terminal, interval);
        assert_eq!(
            phase,
            Phase::stalled(
                "InvalidResourceName",
                "InvalidResourceName: Resource name x! is invalid."
            )
        );
        assert_eq!(requeue, Requeue::After(interval));
        let (phase, requeue) = phase_for_error(
            &ArmError::Throttled {
                retry_after: Duration::from_secs(7),
            },
            interval,
        );
        assert_eq!(phase.reason(), "Throttled");
        assert_eq!(requeue, Requeue::After(Duration::from_secs(7)));
        let auth = ArmError::Auth {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "no".into(),
        };
        assert_eq!(
            phase_for_error(&auth, interval).0.reason(),
            "AuthenticationFailed"
        );
        let transient = ArmError::Transient {
            status: Some(503),
            code: "Service.Unavailable".into(),
            message: "x".into(),
        };
        let (phase, requeue) = phase_for_error(&transient, interval);
        assert_eq!(phase.reason(), "ServiceUnavailable");
        assert_eq!(requeue, Requeue::Backoff);
    }

    #[test]
    fn resource_id_needs_a_subscription() {
        let azure = AzureResource {
            subscription_id: None,
            resource_group: "rg".into(),
            name: None,
        };
        let err = resource_id(
            &azure,
            None,
            "Microsoft.HybridCompute",
            "privateLinkScopes",
            "s",
        )
        .unwrap_err();
        assert!(err.contains("spec.azure.subscriptionId"));
        let id = resource_id(
            &azure,
            Some("sub"),
            "Microsoft.HybridCompute",
            "privateLinkScopes",
            "s",
        )
        .unwrap();
        assert_eq!(
            id.to_string(),
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s"
        );
    }
}
