//! `ArcResourceManagementPrivateLink`: a resource management private link
//! (`Microsoft.Authorization/resourceManagementPrivateLinks`), the target of a private endpoint
//! that carries Azure Resource Manager traffic (`management.azure.com`), and optionally its
//! association at the tenant's root management group
//! (`Microsoft.Authorization/privateLinkAssociations`).

// `printcolumn(...)` repeats `type_`/`json_path` keys by design; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::*;
use super::managed::{ArmStatus, CommonSpec, CommonStatus, managed_status};
use super::scope::ConnectionStatus;
use crate::azure::names;

/// Azure keeps no tags on a resource management private link (its PUT body is `location`
/// alone), so `spec.tags` would never be written.
const NO_TAGS_RULE: &str = "!has(self.spec.tags) || size(self.spec.tags) == 0";
const NO_TAGS_MESSAGE: &str = "spec.tags is not supported: Azure keeps no tags on a resource management private link (its body is location alone)";

/// Declares a resource management private link and, optionally, its association at the root
/// management group, which sends the tenant's Azure Resource Manager traffic through private
/// endpoints to the link.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[kube(
    group = "arclink.io",
    version = "v1alpha1",
    kind = "ArcResourceManagementPrivateLink",
    namespaced,
    doc = "A resource management private link managed by arclink (Microsoft.Authorization/resourceManagementPrivateLinks), optionally associated at the root management group.",
    status = "ArcResourceManagementPrivateLinkStatus",
    shortname = "rmpl",
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
        name = "Management Group",
        type_ = "string",
        json_path = ".spec.association.managementGroupId"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    validation = Rule::new("has(self.spec.azure.name) || size(self.metadata.name) <= 64").message("metadata.name is longer than the 64 characters of a link's Azure name: set spec.azure.name").field_path(".spec.azure.name"),
    validation = Rule::new(NO_TAGS_RULE).message(NO_TAGS_MESSAGE).field_path(".spec.tags"),
    cel
)]
#[serde(rename_all = "camelCase")]
pub struct ArcResourceManagementPrivateLinkSpec {
    /// Where the link lives in Azure.
    pub azure: AzureResource,
    /// Azure region of the link (e.g. `eastus`). Immutable: ARM cannot move a resource.
    #[schemars(regex(pattern = LOCATION_PATTERN), length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("location is immutable: ARM cannot move a resource"))]
    pub location: String,
    /// The link's association at the tenant's root management group
    /// (`Microsoft.Authorization/privateLinkAssociations`), which Azure supports there only,
    /// so it applies to the whole tenant. Its `publicNetworkAccess` is always `Enabled`:
    /// Azure cannot disable it, so the association adds a private path to Azure Resource
    /// Manager without closing the public one. Writing it needs Owner or Contributor at the
    /// root management group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<ManagementGroupAssociation>,
    #[serde(flatten)]
    pub common: CommonSpec,
}

/// Where the link is associated.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.managementGroupId == oldSelf.managementGroupId").message("association.managementGroupId is immutable: delete the association by removing spec.association first").field_path(".managementGroupId"),
    validation = Rule::new("!has(oldSelf.name) || (has(self.name) && self.name == oldSelf.name)").message("association.name is immutable once set").field_path(".name")
)]
pub struct ManagementGroupAssociation {
    /// The root management group's id (the tenant id, unless renamed).
    #[schemars(regex(pattern = names::MANAGEMENT_GROUP.whole()), length(min = 1, max = 90))]
    pub management_group_id: String,
    /// The association's name, a GUID; by default a GUID derived from this object (cluster,
    /// namespace, kind and name), the same at every reconcile. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::GUID.whole()), length(max = 36))]
    pub name: Option<String>,
}

/// Observed state of the link.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArcResourceManagementPrivateLinkStatus {
    /// ARM id of the link: the `privateLinkServiceId` of a private endpoint with group id
    /// `ResourceManagement`. Set once the link exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// ARM id of the association at the management group, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_id: Option<String>,
    /// Whether this object created or adopted the link. Azure keeps no tags on it, so this is
    /// where arclink's ownership is recorded: `deletion: Delete` removes the link only then.
    #[serde(default, skip_serializing_if = "is_false")]
    pub link_owned: bool,
    /// Whether arclink created the association for this object: `deletion: Delete` (and
    /// removing `spec.association`) removes it only then.
    #[serde(default, skip_serializing_if = "is_false")]
    pub association_created: bool,
    /// Private endpoint connections Azure reports on the link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_endpoint_connections: Vec<ConnectionStatus>,
    #[serde(flatten)]
    pub common: CommonStatus,
}

managed_status!(ArcResourceManagementPrivateLinkStatus, ArmStatus);

fn is_false(b: &bool) -> bool {
    !*b
}
