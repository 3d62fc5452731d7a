//! Classification of ARM failures. ARM's error `code` and `message` are kept verbatim so the
//! reconcilers can surface them in conditions.

use serde::Deserialize;
use std::time::Duration;

/// Delay assumed when ARM answers 429 without any retry header.
pub const DEFAULT_THROTTLE_DELAY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArmError {
    #[error("not found: {code}: {message}")]
    NotFound { code: String, message: String },
    /// ARM's or the provider's request throttling (429 without a transient code): the
    /// subscription's bucket is paused.
    #[error("throttled by ARM; retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// The same request may succeed later: 408, 5xx, connection errors and the codes of
    /// [`TRANSIENT_CODES`] (e.g. Network's `429 RetryableError`, `409 AnotherOperationInProgress`).
    #[error("transient failure (status {status:?}): {code}: {message}")]
    Transient {
        status: Option<u16>,
        code: String,
        message: String,
        /// The delay ARM advised, if any.
        retry_after: Option<Duration>,
    },
    /// 401 (who the caller is: no, an invalid or an expired token) or 403 (what it may do: no
    /// role grants the action); [`ArmError::is_authentication`] tells them apart.
    #[error("authorization failed (status {status}): {code}: {message}")]
    Auth {
        status: u16,
        code: String,
        message: String,
    },
    /// Needs a person: validation errors, locks, policy denials, quota, unregistered
    /// providers, immutable properties, resource groups being deleted.
    #[error("request rejected (status {status}): {code}: {message}{}", target.as_deref().map(|t| format!(" (target {t})")).unwrap_or_default())]
    Terminal {
        status: u16,
        code: String,
        message: String,
        target: Option<String>,
    },
    #[error("credential error: {0}")]
    Credential(String),
    #[error("invalid response from ARM: {0}")]
    InvalidResponse(String),
    #[error("invalid ARM client configuration: {0}")]
    Config(String),
}

/// Codes after which the same request may succeed without a change by a person
/// (reference/arm-behaviours.md 3, 4 and 10). `RetryableError` also matches its
/// `RetryableErrorDueTo...` variants.
pub const TRANSIENT_CODES: &[&str] = &[
    "AnotherOperationInProgress",
    "CanceledAndSupersededDueToAnotherOperation",
    "Conflict",
    "OperationPreempted",
    "ReferencedResourceNotProvisioned",
    "RetryableError",
    "InternalServerError",
    "ServiceUnavailable",
    "GatewayTimeout",
    "RequestTimeout",
    "TooManyRequests",
];

/// Codes that need a person whatever the HTTP status says (a 409 or 403 with one of these is
/// not a race or a missing role assignment). Any code containing `Quota` counts too.
pub const NEEDS_A_PERSON_CODES: &[&str] = &[
    "MissingSubscriptionRegistration",
    "SubscriptionNotRegistered",
    "ScopeLocked",
    "ResourceGroupBeingDeleted",
    "RequestDisallowedByPolicy",
    "PrivateEndpointCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled",
    "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
    "NameOfExistingPrivateEndpointNicCannotBeChanged",
    "OperationNotAllowed",
];

impl ArmError {
    /// ARM's error code, or a fixed code for failures that did not come from ARM.
    pub fn code(&self) -> &str {
        match self {
            ArmError::NotFound { code, .. }
            | ArmError::Transient { code, .. }
            | ArmError::Auth { code, .. }
            | ArmError::Terminal { code, .. } => code,
            ArmError::Throttled { .. } => "TooManyRequests",
            ArmError::Credential(_) => "CredentialUnavailable",
            ArmError::InvalidResponse(_) => "InvalidResponse",
            ArmError::Config(_) => "InvalidConfiguration",
        }
    }

    /// ARM's error message (verbatim) or our description.
    pub fn message(&self) -> String {
        match self {
            ArmError::NotFound { message, .. }
            | ArmError::Transient { message, .. }
            | ArmError::Auth { message, .. }
            | ArmError::Terminal { message, .. } => message.clone(),
            ArmError::Credential(m) | ArmError::InvalidResponse(m) | ArmError::Config(m) => {
                m.clone()
            }
            other => other.to_string(),
        }
    }

    /// Whether the same request may succeed later without a change by the user.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ArmError::Throttled { .. } | ArmError::Transient { .. }
        )
    }

    /// The delay ARM advised before the request is tried again, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ArmError::Throttled { retry_after } => Some(*retry_after),
            ArmError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ArmError::NotFound { .. } => "not_found",
            ArmError::Throttled { .. } => "throttled",
            ArmError::Transient { .. } => "transient",
            ArmError::Auth { .. } => "auth",
            ArmError::Terminal { .. } => "terminal",
            ArmError::Credential(_) => "credential",
            ArmError::InvalidResponse(_) => "invalid_response",
            ArmError::Config(_) => "config",
        }
    }

    /// Classifies an unsuccessful ARM response by status and code. `retry_after` is the
    /// advertised delay, if any.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> ArmError {
        let detail = ErrorDetail::parse(body);
        // A blank code or message is as good as none: classification and the condition text
        // need something to show.
        let code = detail
            .code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| default_code(status).to_string());
        let message = detail
            .message
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    text.chars().take(512).collect()
                }
            });
        let transient = ArmError::Transient {
            status: Some(status),
            code: code.clone(),
            message: message.clone(),
            retry_after,
        };
        let terminal = |code: String, message: String| ArmError::Terminal {
            status,
            code,
            message,
            target: detail.target.clone(),
        };
        if needs_a_person(&code) {
            return terminal(code, message);
        }
        // A 400 that is a missing permission on a linked resource (`LinkedAccessCheckFailed`).
        if code.eq_ignore_ascii_case("LinkedAccessCheckFailed") {
            return ArmError::Auth {
                status,
                code,
                message,
            };
        }
        match status {
            // A provider's `429 RetryableError` is a failed write, not throttling.
            429 if is_transient_code(&code) && code != "TooManyRequests" => transient,
            429 => ArmError::Throttled {
                retry_after: retry_after.unwrap_or(DEFAULT_THROTTLE_DELAY),
            },
            408 | 500..=599 => transient,
            _ if is_transient_code(&code) => transient,
            404 => ArmError::NotFound { code, message },
            // An etag race: re-read and try again.
            412 => transient,
            401 | 403 => ArmError::Auth {
                status,
                code,
                message,
            },
            400..=499 => terminal(code, message),
            _ => ArmError::InvalidResponse(format!(
                "unexpected HTTP status {status}: {code}: {message}"
            )),
        }
    }

    /// Classifies the `error` of a Failed/Canceled long-running operation. A cancellation
    /// (another write superseded this one) is transient: the resource is re-read.
    pub fn from_operation(status: u16, state: &str, error: Option<ErrorDetail>) -> ArmError {
        let error = error.unwrap_or_default();
        let code = error.code.unwrap_or_else(|| state.to_string());
        let message = error
            .message
            .unwrap_or_else(|| format!("the operation ended in state {state}"));
        let canceled =
            state.eq_ignore_ascii_case("Canceled") || state.eq_ignore_ascii_case("Cancelled");
        if !needs_a_person(&code) && (canceled || is_transient_code(&code)) {
            return ArmError::Transient {
                status: Some(status),
                code,
                message,
                retry_after: None,
            };
        }
        ArmError::Terminal {
            status,
            code,
            message,
            target: error.target,
        }
    }
}

/// What an authorization failure says the caller may not do, from ARM's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The action(s) not granted, e.g.
    /// `Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnectionsApproval/action`.
    pub actions: String,
    /// The scope(s) they were not granted on (a linked resource's for
    /// `LinkedAuthorizationFailed`).
    pub scope: String,
}

/// ARM's wording: `AuthorizationFailed` "... does not have authorization to perform action 'A'
/// over scope 'S' or the scope is invalid"; `LinkedAuthorizationFailed` "... has permission to
/// perform action 'B' on scope 'T'; however, it does not have permission to perform action(s)
/// 'A' on the linked scope(s) 'S' or the linked scope(s) are invalid"; `LinkedAccessCheckFailed`
/// as `AuthorizationFailed`.
static DENIED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"perform action(?:\(s\))? '([^']+)' (?:over scope|on the linked scope\(s\)) '([^']+)'",
    )
    .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});

impl ArmError {
    /// Whether an `Auth` failure is about who the caller is (401; a token ARM refuses) rather
    /// than about what it may do (403: the credentials work, a role assignment is missing).
    pub fn is_authentication(&self) -> bool {
        match self {
            ArmError::Auth { status, code, .. } => {
                // `InvalidAuthenticationToken`, `ExpiredAuthenticationToken`, ...
                let code = code.to_ascii_lowercase();
                *status == 401 || code.contains("authentication") || code.contains("token")
            }
            ArmError::Credential(_) => true,
            _ => false,
        }
    }

    /// The action and scope an authorization failure names, when ARM's message names them.
    pub fn denied(&self) -> Option<Denied> {
        let ArmError::Auth { message, .. } = self else {
            return None;
        };
        let found = DENIED.captures(message)?;
        Some(Denied {
            actions: found.get(1)?.as_str().to_string(),
            scope: found.get(2)?.as_str().to_string(),
        })
    }
}

fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.iter().any(|c| c.eq_ignore_ascii_case(code))
        || code
            .get(..14)
            .is_some_and(|p| p.eq_ignore_ascii_case("RetryableError"))
}

fn needs_a_person(code: &str) -> bool {
    NEEDS_A_PERSON_CODES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(code))
        || code.to_ascii_lowercase().contains("quota")
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "HttpError",
    }
}

/// ARM's `{"error": {"code", "message", "target", "details"}}` (some providers omit the wrapper).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
    pub target: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorDetail>,
    code: Option<String>,
    message: Option<String>,
    target: Option<String>,
}

impl ErrorDetail {
    pub fn parse(body: &[u8]) -> ErrorDetail {
        match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(ErrorEnvelope { error: Some(e), .. }) => e,
            Ok(ErrorEnvelope {
                code,
                message,
                target,
                ..
            }) => ErrorDetail {
                code,
                message,
                target,
            },
            Err(_) => ErrorDetail::default(),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties {
    use super::*;
    use crate::azure::models::{Machine, PrivateDnsZoneGroup, PrivateEndpoint, PrivateLinkScope};
    use proptest::prelude::*;

    /// Arbitrary JSON, a few levels deep, with ARM-looking keys now and then.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            ".{0,20}".prop_map(serde_json::Value::from),
            Just(serde_json::json!(
                "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/p"
            )),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            let key = prop_oneof![
                Just("id".to_string()),
                Just("properties".to_string()),
                Just("tags".to_string()),
                Just("privateLinkServiceConnections".to_string()),
                Just("privateDnsZoneConfigs".to_string()),
                Just("error".to_string()),
                Just("code".to_string()),
                ".{0,8}".prop_map(String::from),
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(key, inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// No error body and no status makes the classification panic.
        #[test]
        fn any_error_response_is_classified(status in 0u16..1000, body in prop::collection::vec(any::<u8>(), 0..200), v in json()) {
            let _ = ArmError::from_response(status, &body, None);
            let e = ArmError::from_response(status, v.to_string().as_bytes(), Some(Duration::from_secs(1)));
            prop_assert!(!e.code().is_empty());
        }

        /// The ARM models decode any JSON to a value or an error, never a panic.
        #[test]
        fn models_decode_any_json(v in json()) {
            let _ = serde_json::from_value::<PrivateEndpoint>(v.clone());
            let _ = serde_json::from_value::<PrivateLinkScope>(v.clone());
            let _ = serde_json::from_value::<PrivateDnsZoneGroup>(v.clone());
            let _ = serde_json::from_value::<Machine>(v);
        }
    }
}
