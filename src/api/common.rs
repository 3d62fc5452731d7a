//! Blocks shared by the three kinds: where the Azure resource lives, policies, references.

use std::time::Duration;

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Pattern of an ARM resource name (scopes, endpoints): letters, digits, `-`, `_` and `.`.
pub const ARM_NAME_PATTERN: &str = r"^[a-zA-Z0-9_.-]+$";
/// Pattern of a subscription id.
pub const GUID_PATTERN: &str =
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// Pattern of a resource group name.
pub const RESOURCE_GROUP_PATTERN: &str = r"^[-\w._()]+$";
/// Pattern of an Azure region name as ARM accepts it (`eastus`, `East US`).
pub const LOCATION_PATTERN: &str = r"^[A-Za-z0-9 ]+$";
/// Pattern of a Go duration string, the format CEL's `duration()` parses.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";
/// Pattern of an ARM id of an Arc Private Link Scope.
pub const SCOPE_ID_PATTERN: &str = r"(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.hybridcompute/privatelinkscopes/[^/]+$";
/// Pattern of an ARM id of a subnet.
pub const SUBNET_ID_PATTERN: &str = r"(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/virtualnetworks/[^/]+/subnets/[^/]+$";
/// Pattern of an ARM id of a private DNS zone.
pub const DNS_ZONE_ID_PATTERN: &str = r"(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/privatednszones/[^/]+$";

/// Azure's tag limits (learn.microsoft.com "Use tags to organize your Azure resources"): 50
/// tags per resource, of which arclink writes two; keys of at most 512 characters without
/// `<>%&\?/` or control characters; values of at most 256 characters.
pub const MAX_USER_TAGS: usize = 48;
pub const TAG_KEYS_RULE: &str =
    r#"self.all(k, size(k) >= 1 && size(k) <= 512 && !k.matches('[<>%&\\\\?/\\x00-\\x1f]'))"#;
pub const TAG_KEYS_MESSAGE: &str = "tag keys must be 1-512 characters without < > % & \\ ? / or control characters (Azure's tag rules)";
pub const RESERVED_TAGS_RULE: &str = "!('managed-by' in self) && !('arclink-owner' in self)";
pub const RESERVED_TAGS_MESSAGE: &str =
    "tags managed-by and arclink-owner are reserved for arclink";

/// Tag keys that arclink writes itself; users may not set them.
pub const TAG_MANAGED_BY: &str = "managed-by";
/// Tag naming the arclink object that owns an Azure resource.
pub const TAG_OWNER: &str = "arclink-owner";

/// Where the Azure resource lives.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(oldSelf.name) || (has(self.name) && self.name == oldSelf.name)").message("azure.name is immutable once set").field_path(".name"),
    validation = Rule::new("!has(oldSelf.subscriptionId) || (has(self.subscriptionId) && self.subscriptionId == oldSelf.subscriptionId)").message("azure.subscriptionId is immutable once set").field_path(".subscriptionId"),
    validation = Rule::new("self.resourceGroup == oldSelf.resourceGroup").message("azure.resourceGroup is immutable").field_path(".resourceGroup")
)]
pub struct AzureResource {
    /// Azure subscription (GUID). Defaults to the controller's `--default-subscription`.
    /// Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = GUID_PATTERN), length(max = 36))]
    pub subscription_id: Option<String>,
    /// Resource group that holds the resource. Immutable.
    #[schemars(regex(pattern = RESOURCE_GROUP_PATTERN), length(min = 1, max = 90))]
    pub resource_group: String,
    /// Name of the Azure resource. Defaults to `metadata.name`. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ARM_NAME_PATTERN), length(min = 1, max = 64))]
    pub name: Option<String>,
}

/// `Correct` converges Azure to the spec; `Report` never writes and reports differences.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DriftPolicy {
    /// Converge Azure to the spec.
    #[default]
    Correct,
    /// Never write; report differences in `status.drift` and the `Drifted` condition.
    Report,
}

/// What happens in Azure when the object is deleted.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Delete the Azure resource, but only when its owner tag names this object.
    #[default]
    Delete,
    /// Leave the Azure resource; remove arclink's owner tags so it can be adopted elsewhere.
    Orphan,
}

/// Which tags arclink manages on the Azure resource.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum TagPolicy {
    /// The spec's tags and arclink's owner tags; tags others set (e.g. Azure Policy's `modify`
    /// effect) are left alone and are not drift.
    #[default]
    Merge,
    /// Exactly the spec's tags and arclink's owner tags: other tags are drift and removed.
    Exact,
}

/// How arclink treats the Azure resource.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `Correct` (default) converges drift; `Report` never writes and reports it.
    #[serde(default)]
    pub drift: DriftPolicy,
    /// `Delete` (default) removes the Azure resource with the object; `Orphan` leaves it.
    #[serde(default)]
    pub deletion: DeletionPolicy,
    /// Take over a pre-existing Azure resource that no arclink object owns.
    #[serde(default)]
    pub adopt: bool,
    /// How often Azure is re-read when nothing changed (Go duration, at least 30s, e.g. `10m`).
    /// Defaults to the controller's `--drift-check-interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN), length(max = 32))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('30s')").message("driftCheckInterval must be at least 30s"))]
    pub drift_check_interval: Option<String>,
    /// `Merge` (default) manages the spec's tags and leaves others; `Exact` removes tags the
    /// spec does not declare.
    #[serde(default)]
    pub tags: TagPolicy,
}

/// A Secret in the object's namespace holding Azure credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct CredentialRef {
    /// Name of the Secret (keys `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, and `AZURE_CLIENT_SECRET`
    /// or `AZURE_FEDERATED_TOKEN_FILE`).
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A reference to an ArcPrivateLinkScope in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct ScopeRef {
    /// Name of the ArcPrivateLinkScope object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// One field where Azure differs from the spec.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct DriftEntry {
    /// ARM path of the field, e.g. `properties.publicNetworkAccess` or `tags.team`.
    pub path: String,
    /// Value the spec asks for (empty when the field should be absent).
    pub desired: String,
    /// Value Azure reports (empty when absent).
    pub actual: String,
}

/// A long-running ARM operation in flight, kept in status so a restarted controller resumes
/// it instead of issuing the write again.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingOperation {
    /// What the operation does (`Create`, `Update`, `Delete`, ...).
    pub action: String,
    /// ARM id of the resource being written.
    pub resource_id: String,
    /// Serialised operation token (ARM's own status URL; no secrets).
    pub token: String,
    /// When the operation started (RFC 3339).
    pub started_at: String,
    /// Polls of the operation's status that failed in a row; at 3 the operation is given up
    /// and the resource re-read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_failures: u32,
}

pub(crate) fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Parses a Go-style duration (`90s`, `10m`, `1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d: kube::core::Duration = s
        .parse()
        .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    if d.is_negative() {
        return Err(format!("invalid duration {s:?}: negative"));
    }
    Ok(d.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("-5m").is_err());
    }
}
