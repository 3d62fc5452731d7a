//! Long-running operations: the outcome of a write, and a serialisable token to resume polling
//! after a controller restart without issuing the write twice.

use crate::azure::id::ResourceId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Poll interval used when ARM does not advertise one.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Shortest poll interval honoured, so a `Retry-After: 0` cannot turn polling into a busy loop.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How the operation's progress is observed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PollStyle {
    /// `Azure-AsyncOperation`: a status resource `{status, error}`.
    AzureAsyncOperation,
    /// `Location`: 202 while running, then 200/201/204.
    Location,
    /// No operation header: GET the resource until its `provisioningState` is terminal (or, for a
    /// delete, until it is gone).
    ProvisioningState,
}

/// A resumable long-running operation. It holds no secret: `status_url` and `location_url` are
/// URLs ARM itself returned, and the client refuses to poll them unless they point at the ARM
/// endpoint it is configured with (so a tampered token cannot send our bearer token elsewhere).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationToken {
    pub resource_id: ResourceId,
    /// The write that started the operation: `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    pub style: PollStyle,
    /// The URL polled (for `ProvisioningState`, the resource's own URL).
    pub status_url: String,
    /// ARM's `Location` header when it sent one alongside `Azure-AsyncOperation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_url: Option<String>,
    /// When the write was accepted (for LRO duration metrics).
    pub started_at: jiff::Timestamp,
    /// The `Retry-After` of the response that started the operation: when to poll first.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl OperationToken {
    /// When to look at the operation first: as ARM advised on the 201/202, else the default.
    pub fn first_poll(&self) -> Duration {
        self.retry_after
            .unwrap_or(DEFAULT_POLL_INTERVAL)
            .max(MIN_POLL_INTERVAL)
    }
}

impl OperationToken {
    pub fn is_delete(&self) -> bool {
        self.method.eq_ignore_ascii_case("DELETE")
    }
}

/// Result of a PUT/PATCH.
#[derive(Debug, Clone, PartialEq)]
pub enum Write<T> {
    Done(T),
    Pending(OperationToken),
}

/// Result of a DELETE.
#[derive(Debug, Clone, PartialEq)]
pub enum Deleted {
    Gone,
    Pending(OperationToken),
}

/// One poll of an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    InProgress {
        retry_after: Duration,
    },
    /// Finished successfully; for PUT/PATCH the resource as ARM now reports it.
    Done(Option<serde_json::Value>),
    /// Finished `Failed` or `Canceled`, with the operation's error (transient for
    /// `RetryableError` and cancellations: the write is re-sent after the resource is re-read).
    Failed(crate::azure::ArmError),
}

/// Terminal state of an operation status or a `provisioningState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    Succeeded,
    Failed,
    Canceled,
    Running,
}

impl OperationState {
    pub fn parse(s: &str) -> OperationState {
        match s.to_ascii_lowercase().as_str() {
            "succeeded" => OperationState::Succeeded,
            "failed" => OperationState::Failed,
            "canceled" | "cancelled" => OperationState::Canceled,
            _ => OperationState::Running,
        }
    }
}

/// `properties.provisioningState` of a resource body, if any.
pub fn provisioning_state(body: &serde_json::Value) -> Option<&str> {
    body.get("properties")?.get("provisioningState")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_has_stable_field_names() {
        let token = OperationToken {
            resource_id: ResourceId::parse(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
            )
            .unwrap(),
            method: "PUT".into(),
            style: PollStyle::AzureAsyncOperation,
            status_url: "https://management.azure.com/subscriptions/s/providers/Microsoft.Network/locations/eastus/operations/1?api-version=2024-05-01".into(),
            location_url: None,
            started_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            retry_after: None,
        };
        let json = serde_json::to_value(&token).unwrap();
        assert_eq!(json["style"], "azureAsyncOperation");
        assert_eq!(json["method"], "PUT");
        assert!(json.get("locationUrl").is_none());
        let back: OperationToken = serde_json::from_value(json).unwrap();
        assert_eq!(back, token);
        assert!(!back.is_delete());
    }

    #[test]
    fn states() {
        assert_eq!(
            OperationState::parse("Succeeded"),
            OperationState::Succeeded
        );
        assert_eq!(OperationState::parse("FAILED"), OperationState::Failed);
        assert_eq!(OperationState::parse("Canceled"), OperationState::Canceled);
        assert_eq!(OperationState::parse("InProgress"), OperationState::Running);
        assert_eq!(OperationState::parse("Updating"), OperationState::Running);
        let body = serde_json::json!({"properties": {"provisioningState": "Creating"}});
        assert_eq!(provisioning_state(&body), Some("Creating"));
    }
}
