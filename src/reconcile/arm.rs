//! The generic half of every kind's reconcile: ARM errors as phases, resuming long-running
//! operations kept in status, and resource-id resolution.

use std::time::Duration;

use crate::api::{AzureResource, PendingOperation};
use crate::azure::{ArmClient, ArmError, OperationToken, Poll, ResourceId, names};

use super::phase::{Next, THROTTLED};
use super::{Phase, Requeue};

/// Poll interval while an operation runs and ARM did not say.
pub const OPERATION_POLL: Duration = Duration::from_secs(5);

/// Transient failures in a row (a write ARM refused with `RetryableError`, an operation that
/// ended `Failed` with a transient code, a 5xx) after which the object is `Stalled` until the
/// next drift check, instead of `Reconciling` for ever.
pub const MAX_ATTEMPTS: u32 = 6;

/// When to try again after `err`, for every retry of an ARM failure (a reconcile's, a machine
/// PATCH's): throttling after ARM's delay, a transient failure after its `Retry-After` when it
/// gave one (not shorter than [`MIN_RETRY`]), else with back-off.
pub fn retry(err: &ArmError) -> Requeue {
    match err {
        ArmError::Throttled { retry_after } => Requeue::After(*retry_after),
        _ => match err.retry_after() {
            Some(d) if d >= MIN_RETRY => Requeue::After(d),
            _ => Requeue::Backoff,
        },
    }
}

/// Where an ARM failure leaves the object. ARM's code and message are kept verbatim.
/// Transient failures are counted in `attempts` (the object's `status.failedAttempts`):
/// retried with back-off and the count in the message, until [`MAX_ATTEMPTS`].
pub fn next_for_error(err: &ArmError, attempts: &mut u32, drift_interval: Duration) -> Next {
    let code = err.code();
    let (phase, requeue) = match err {
        ArmError::Throttled { retry_after } => (
            Phase::progressing(
                THROTTLED,
                format!(
                    "ARM throttled this subscription; retrying in {}s",
                    retry_after.as_secs()
                ),
            ),
            retry(err),
        ),
        ArmError::Transient { .. } => {
            *attempts = attempts.saturating_add(1);
            if *attempts >= MAX_ATTEMPTS {
                let n = std::mem::take(attempts);
                return Next {
                    phase: Phase::stalled(
                        &reason(code),
                        format!(
                            "{code}: {}; failed {n} times in a row, tried again at the next drift check or spec change",
                            err.message()
                        ),
                    ),
                    requeue: Requeue::After(drift_interval),
                };
            }
            (
                Phase::progressing(
                    &reason(code),
                    format!(
                        "{code}: {} (attempt {} of {MAX_ATTEMPTS}; retrying with back-off)",
                        err.message(),
                        attempts
                    ),
                ),
                retry(err),
            )
        }
        ArmError::InvalidResponse(message) => (
            Phase::stalled("InvalidResponse", message.clone()),
            Requeue::Backoff,
        ),
        ArmError::Auth { code, message, .. } if err.is_authentication() => (
            Phase::stalled(
                "AuthenticationFailed",
                format!("{code}: {message}; check the credentials this object uses"),
            ),
            Requeue::After(drift_interval),
        ),
        ArmError::Auth { code, message, .. } => (
            Phase::stalled("AuthorizationFailed", not_allowed(err, code, message)),
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
    };
    Next { phase, requeue }
}

/// The message of a 403: the credentials work, a permission is missing. Names the action and
/// the resource ARM says were refused, when it says.
fn not_allowed(err: &ArmError, code: &str, message: &str) -> String {
    match err.denied() {
        Some(denied) => format!(
            "{code}: the identity this object uses may not perform {} on {}: assign it a role that grants this permission on that resource (or above it); ARM said: {message}",
            denied.actions, denied.scope
        ),
        None => format!(
            "{code}: {message}; the identity this object uses signed in but is not allowed this request: assign it a role that grants it"
        ),
    }
}

/// Shortest `Retry-After` that replaces the back-off (a `Retry-After: 0` must not make the
/// retries a busy loop).
const MIN_RETRY: Duration = Duration::from_secs(1);

/// Where an ARM failure leaves an object being deleted: a stall also says that deletion waits
/// for the fix, and how to give up on it (`left`: what then stays).
pub fn cleanup_next_for_error(
    err: &ArmError,
    attempts: &mut u32,
    drift_interval: Duration,
    left: &str,
) -> Next {
    let mut next = next_for_error(err, attempts, drift_interval);
    if let Phase::Stalled { message, .. } = &mut next.phase {
        message.push_str(&format!(
            "; deletion is blocked until this is fixed (or remove the finalizer to leave {left})"
        ));
    }
    next
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
    /// Its status can no longer be read (gone, or failing [`MAX_POLL_FAILURES`] times): the
    /// resource is re-read instead, which tells whether the write took.
    Lost(String),
    /// Ended Failed/Canceled (a transient code means: re-read, then re-send), or the token is
    /// unusable.
    Failed(ArmError),
}

/// Polls of an operation that may fail in a row (5xx, 409, 404 from its status URL) before
/// the operation is given up and the resource re-read.
pub const MAX_POLL_FAILURES: u32 = 3;

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
        poll_failures: 0,
    })
}

/// The failure of the operation `op` follows, naming the write it ended (ARM's own message
/// names neither).
pub fn operation_failed(op: &PendingOperation, mut err: ArmError) -> ArmError {
    if let ArmError::Transient { message, .. }
    | ArmError::Terminal { message, .. }
    | ArmError::NotFound { message, .. }
    | ArmError::Auth { message, .. } = &mut err
    {
        message.push_str(&format!(" ({} {})", op.action, op.resource_id));
    }
    err
}

/// Polls the operation recorded in status once, counting failed polls in it.
pub async fn resume(arm: &ArmClient, op: &mut PendingOperation) -> Resumed {
    let token: OperationToken = match serde_json::from_str(&op.token) {
        Ok(t) => t,
        Err(e) => {
            return Resumed::Lost(format!(
                "status.operation.token for {} cannot be read ({e})",
                op.resource_id
            ));
        }
    };
    match arm.poll(&token).await {
        Ok(Poll::InProgress { retry_after }) => {
            op.poll_failures = 0;
            Resumed::Running(retry_after)
        }
        Ok(Poll::Done(body)) => Resumed::Finished(body),
        Ok(Poll::Failed(e)) => Resumed::Failed(e),
        Err(ArmError::Throttled { retry_after }) => Resumed::Running(retry_after),
        Err(e) if e.is_retryable() || matches!(e, ArmError::NotFound { .. }) => {
            op.poll_failures += 1;
            if op.poll_failures >= MAX_POLL_FAILURES {
                Resumed::Lost(format!(
                    "the status of the {} operation on {} could not be read {} times ({}: {})",
                    op.action,
                    op.resource_id,
                    op.poll_failures,
                    e.code(),
                    e.message()
                ))
            } else {
                Resumed::Running(e.retry_after().unwrap_or(OPERATION_POLL))
            }
        }
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
    // The CRD refuses these; an object stored before it did must not make a URL of them.
    let checks = [
        (
            "spec.azure.resourceGroup",
            &azure.resource_group[..],
            &names::RESOURCE_GROUP,
        ),
        ("spec.azure.name (or metadata.name)", name, &names::RESOURCE),
    ];
    if let Some((field, value, rule)) = checks.iter().find(|(_, v, rule)| !rule.accepts(v)) {
        return Err(format!("{field} {value:?} must be {}", rule.describe));
    }
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
        let Next { phase, requeue } =
            cleanup_next_for_error(&auth, &mut 0, interval, "the scope in Azure");
        assert_eq!(
            phase,
            Phase::stalled(
                "AuthorizationFailed",
                "AuthorizationFailed: no rights; the identity this object uses signed in but is not allowed this request: assign it a role that grants it; deletion is blocked until this is fixed (or remove the finalizer to leave the scope in Azure)"
            )
        );
        assert_eq!(requeue, Requeue::After(interval));
        let throttled = ArmError::Throttled {
            retry_after: Duration::from_secs(7),
        };
        assert_eq!(
            cleanup_next_for_error(&throttled, &mut 0, interval, "x"),
            next_for_error(&throttled, &mut 0, interval)
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
        let Next { phase, requeue } = next_for_error(&terminal, &mut 0, interval);
        assert_eq!(
            phase,
            Phase::stalled(
                "InvalidResourceName",
                "InvalidResourceName: Resource name x! is invalid."
            )
        );
        assert_eq!(requeue, Requeue::After(interval));
        let Next { phase, requeue } = next_for_error(
            &ArmError::Throttled {
                retry_after: Duration::from_secs(7),
            },
            &mut 0,
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
            next_for_error(&auth, &mut 0, interval).phase.reason(),
            "AuthorizationFailed"
        );
        let token = ArmError::Auth {
            status: 401,
            code: "InvalidAuthenticationToken".into(),
            message: "The access token is invalid.".into(),
        };
        let Next { phase, requeue } = next_for_error(&token, &mut 0, interval);
        assert_eq!(
            phase,
            Phase::stalled(
                "AuthenticationFailed",
                "InvalidAuthenticationToken: The access token is invalid.; check the credentials this object uses"
            )
        );
        assert_eq!(requeue, Requeue::After(interval));
        let transient = ArmError::Transient {
            status: Some(503),
            code: "Service.Unavailable".into(),
            message: "x".into(),
            retry_after: None,
        };
        let mut attempts = 0;
        let Next { phase, requeue } = next_for_error(&transient, &mut attempts, interval);
        assert_eq!(phase.reason(), "ServiceUnavailable");
        assert_eq!(requeue, Requeue::Backoff);
        assert_eq!(attempts, 1);
    }

    /// Issue 20, item 8: a missing role is an authorization problem naming the permission and
    /// the resource (from ARM's message), not "check the credentials".
    #[test]
    fn a_missing_permission_names_the_action_and_the_resource() {
        let interval = Duration::from_secs(600);
        let linked = ArmError::from_response(
            403,
            br#"{"error":{"code":"LinkedAuthorizationFailed","message":"The client 'c' with object id 'o' has permission to perform action 'Microsoft.Network/privateEndpoints/write' on scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe'; however, it does not have permission to perform action(s) 'Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnectionsApproval/action' on the linked scope(s) '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/scope' (respectively) or the linked scope(s) are invalid."}}"#,
            None,
        );
        let Next { phase, .. } = next_for_error(&linked, &mut 0, interval);
        assert_eq!(phase.reason(), "AuthorizationFailed");
        let Phase::Stalled { message, .. } = &phase else {
            panic!("{phase:?}");
        };
        assert!(
            message.starts_with("LinkedAuthorizationFailed: the identity this object uses may not perform Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnectionsApproval/action on /subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/scope: assign it a role"),
            "{message}"
        );
        assert!(!message.contains("credentials"), "{message}");

        let plain = ArmError::from_response(
            403,
            br#"{"error":{"code":"AuthorizationFailed","message":"The client 'c' with object id 'o' does not have authorization to perform action 'Microsoft.HybridCompute/privateLinkScopes/write' over scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/scope' or the scope is invalid. If access was recently granted, please refresh your credentials."}}"#,
            None,
        );
        let phase = next_for_error(&plain, &mut 0, interval).phase;
        let Phase::Stalled { reason, message } = &phase else {
            panic!("{phase:?}");
        };
        assert_eq!(reason, "AuthorizationFailed");
        assert!(
            message.contains("may not perform Microsoft.HybridCompute/privateLinkScopes/write on /subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/scope"),
            "{message}"
        );

        // The tenant wording names no action: ARM's message is kept, the reason still right.
        let tenant = ArmError::from_response(
            403,
            br#"{"error":{"code":"LinkedAuthorizationFailed","message":"The client has permission to perform action 'Microsoft.Network/virtualNetworks/subnets/join/action' on scope '/x', however the current tenant 't' is not authorized to access linked subscription 's'."}}"#,
            None,
        );
        let phase = next_for_error(&tenant, &mut 0, interval).phase;
        assert_eq!(phase.reason(), "AuthorizationFailed");
        assert!(
            matches!(&phase, Phase::Stalled { message, .. } if message.contains("not authorized to access linked subscription 's'")),
            "{phase:?}"
        );
    }

    #[test]
    fn transient_failures_are_counted_then_stall() {
        let interval = Duration::from_secs(600);
        let retryable = ArmError::Transient {
            status: Some(429),
            code: "RetryableError".into(),
            message: "A retryable error occurred.".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        let mut attempts = 0;
        for n in 1..MAX_ATTEMPTS {
            let Next { phase, requeue } = next_for_error(&retryable, &mut attempts, interval);
            assert!(matches!(phase, Phase::Progressing { .. }), "{phase:?}");
            let Phase::Progressing { message, .. } = phase else {
                unreachable!()
            };
            assert!(
                message.contains(&format!("attempt {n} of {MAX_ATTEMPTS}")),
                "{message}"
            );
            assert_eq!(requeue, Requeue::After(Duration::from_secs(3)));
        }
        let Next { phase, requeue } = next_for_error(&retryable, &mut attempts, interval);
        assert_eq!(phase.reason(), "RetryableError");
        assert!(matches!(phase, Phase::Stalled { .. }), "{phase:?}");
        assert_eq!(requeue, Requeue::After(interval));
        assert_eq!(attempts, 0, "the next drift check starts a fresh round");
        let malformed = ArmError::InvalidResponse("GET x: unexpected body at id".into());
        let phase = next_for_error(&malformed, &mut attempts, interval).phase;
        assert!(matches!(phase, Phase::Stalled { .. }), "{phase:?}");
    }

    /// One rule for every retry: throttling after ARM's delay, a transient failure after its
    /// `Retry-After` when it is at least a second, else back-off; terminal errors are not
    /// retried early.
    #[test]
    fn one_retry_rule() {
        let transient = |retry_after| ArmError::Transient {
            status: Some(503),
            code: "ServiceUnavailable".into(),
            message: "x".into(),
            retry_after,
        };
        assert_eq!(
            retry(&ArmError::Throttled {
                retry_after: Duration::from_secs(9)
            }),
            Requeue::After(Duration::from_secs(9))
        );
        assert_eq!(
            retry(&transient(Some(Duration::from_secs(60)))),
            Requeue::After(Duration::from_secs(60))
        );
        assert_eq!(retry(&transient(Some(Duration::ZERO))), Requeue::Backoff);
        assert_eq!(retry(&transient(None)), Requeue::Backoff);
    }

    #[test]
    fn a_failed_operation_names_the_write_it_ended() {
        let op = PendingOperation {
            action: "Creating".into(),
            resource_id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/z/virtualNetworkLinks/l".into(),
            token: String::new(),
            started_at: String::new(),
            poll_failures: 0,
        };
        let err = operation_failed(
            &op,
            ArmError::Terminal {
                status: 200,
                code: "BadRequest".into(),
                message: "overlapping namespaces".into(),
                target: None,
            },
        );
        assert_eq!(err.code(), "BadRequest");
        assert_eq!(
            err.message(),
            format!("overlapping namespaces (Creating {})", op.resource_id)
        );
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
