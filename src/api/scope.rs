//! `ArcPrivateLinkScope`: an Azure Arc Private Link Scope (`Microsoft.HybridCompute/privateLinkScopes`).

// `printcolumn(...)` repeats `type_`/`json_path` keys by design; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::*;
use super::managed::{ArmStatus, CommonSpec, CommonStatus, managed_status};
use crate::azure::names;

/// Azure compares extension types without case: `SQL` and `sql` are one extension, which two
/// entries would set twice (ASCII folding is enough, the types are ASCII by their pattern).
const SERVICE_EXTENSIONS_UNIQUE_RULE: &str =
    "self.all(e, self.exists_one(o, o.type.lowerAscii() == e.type.lowerAscii()))";
const SERVICE_EXTENSIONS_UNIQUE_MESSAGE: &str = "spec.serviceExtensions lists an extension type twice: types are compared without case (SQL and sql are the same extension)";

/// Declares an Azure Arc Private Link Scope: the object that lets Arc-enabled servers reach
/// Azure Arc through private endpoints.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[kube(
    group = "arclink.io",
    version = "v1alpha1",
    kind = "ArcPrivateLinkScope",
    namespaced,
    doc = "An Azure Arc Private Link Scope managed by arclink (Microsoft.HybridCompute/privateLinkScopes).",
    status = "ArcPrivateLinkScopeStatus",
    shortname = "apls",
    category = "arclink",
    category = "azure",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Resource Group",
        type_ = "string",
        json_path = ".spec.azure.resourceGroup"
    ),
    printcolumn(name = "Location", type_ = "string", json_path = ".spec.location"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    validation = Rule::new("has(self.spec.azure.name) || size(self.metadata.name) <= 64").message("metadata.name is longer than the 64 characters of a scope's Azure name: set spec.azure.name").field_path(".spec.azure.name"),
    cel
)]
#[serde(rename_all = "camelCase")]
pub struct ArcPrivateLinkScopeSpec {
    /// Where the scope lives in Azure.
    pub azure: AzureResource,
    /// Azure region of the scope (e.g. `eastus`). Arc-enabled servers must be in the same
    /// region to join it. Immutable: ARM cannot move a resource.
    #[schemars(regex(pattern = LOCATION_PATTERN), length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("location is immutable: ARM cannot move a resource"))]
    pub location: String,
    /// Whether associated servers may also reach Azure Arc over public networks.
    /// `Disabled` (default) forces traffic through the private endpoints.
    #[serde(default)]
    pub public_network_access: PublicNetworkAccess,
    /// Public network access per Azure Arc extension (`properties.serviceExtensions`), e.g.
    /// `[{type: SQL, publicNetworkAccess: Disabled}]`. Only the extensions listed are managed:
    /// others keep what Azure has, and leaving the field out (or empty) leaves all of them as
    /// Azure has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    #[x_kube(validation = Rule::new(SERVICE_EXTENSIONS_UNIQUE_RULE).message(SERVICE_EXTENSIONS_UNIQUE_MESSAGE))]
    pub service_extensions: Vec<ServiceExtension>,
    /// Opt-in: a ConfigMap with the Connected Machine agent's commands that connect a server
    /// to Azure Arc through this scope ("Connect to an Azure Arc-enabled server").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboarding: Option<Onboarding>,
    #[serde(flatten)]
    pub common: CommonSpec,
}

impl ArcPrivateLinkScopeSpec {
    /// An extension type listed twice in `serviceExtensions`, compared without case: what the
    /// CRD's rule refuses, for objects stored before it did.
    pub fn repeated_extension(&self) -> Option<(&str, &str)> {
        let types = &self.service_extensions;
        types.iter().enumerate().find_map(|(i, a)| {
            types[i + 1..]
                .iter()
                .find(|b| a.type_.eq_ignore_ascii_case(&b.type_))
                .map(|b| (a.type_.as_str(), b.type_.as_str()))
        })
    }
}

/// Public network access of a scope.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum PublicNetworkAccess {
    /// Servers may use public and private networks.
    Enabled,
    /// Servers must use private endpoints.
    #[default]
    Disabled,
}

impl PublicNetworkAccess {
    /// The value ARM uses on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicNetworkAccess::Enabled => "Enabled",
            PublicNetworkAccess::Disabled => "Disabled",
        }
    }
}

/// Pattern of an Azure Arc extension name in `serviceExtensions` (e.g. `SQL`).
pub const SERVICE_EXTENSION_TYPE_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// Public network access of one Azure Arc extension (an entry of the scope's
/// `properties.serviceExtensions`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceExtension {
    /// The extension (`serviceExtensionType`), e.g. `SQL`; compared without case.
    #[serde(rename = "type")]
    #[schemars(regex(pattern = SERVICE_EXTENSION_TYPE_PATTERN), length(min = 1, max = 64))]
    pub type_: String,
    /// `Enabled`: the extension may also use Azure Arc's public extension endpoints;
    /// `Disabled`: it must use the private link (`serviceExtensionPublicNetworkAccess`).
    pub public_network_access: PublicNetworkAccess,
}

/// Where arclink writes the onboarding commands, and for which machines.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Onboarding {
    /// ConfigMap (same namespace) receiving `connect-linux.sh`, `connect-windows.ps1` and
    /// `README.md`. The service principal's id and secret are placeholders: arclink never
    /// writes a secret there.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub config_map_name: String,
    /// Subscription the machines are created in (`--subscription-id`); defaults to the
    /// scope's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::GUID.whole()), length(max = 36))]
    pub subscription_id: Option<String>,
    /// Resource group the machines are created in (`--resource-group`); defaults to the
    /// scope's. The machines' region is the scope's (`spec.location`): a server connects only
    /// to a scope in its own region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::RESOURCE_GROUP.whole()), length(min = 1, max = 90))]
    pub resource_group: Option<String>,
}

/// Observed state of the scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArcPrivateLinkScopeStatus {
    /// ARM id of the scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The scope's GUID, needed by the Connected Machine agent's onboarding script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_scope_id: Option<String>,
    /// ARM provisioning state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Microsoft Entra tenant of the scope's subscription (read from ARM when
    /// `spec.onboarding` is set), used in the onboarding commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Private endpoint connections Azure reports on the scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_endpoint_connections: Vec<ConnectionStatus>,
    #[serde(flatten)]
    pub common: CommonStatus,
}

managed_status!(ArcPrivateLinkScopeStatus, ArmStatus);

/// A private endpoint connection on a scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    /// Name of the connection.
    pub name: String,
    /// ARM id of the private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_id: Option<String>,
    /// `Approved`, `Pending`, `Rejected` or `Disconnected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Description given with the approval state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
