//! `ArcMonitorPrivateLinkScope`: an Azure Monitor Private Link Scope
//! (`Microsoft.Insights/privateLinkScopes`), through which the Azure Monitor Agent on
//! Arc-enabled servers sends its data privately.

// `printcolumn(...)` repeats `type_`/`json_path` keys by design; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::*;
use super::managed::{ArmStatus, CommonSpec, CommonStatus, managed_status};
use super::scope::ConnectionStatus;
use crate::azure::names;

/// The one location of an Azure Monitor Private Link Scope.
pub const GLOBAL: &str = "global";

/// Most scoped resources declared on one object. Azure allows thousands, but each is written on
/// its own (one at a time per scope), and the API server bounds the cost of the id rule over
/// the list (500 entries exceed its CEL budget).
pub const MAX_SCOPED_RESOURCES: u32 = 100;

/// Declares an Azure Monitor Private Link Scope (AMPLS): the scope that Azure Monitor
/// resources (Log Analytics workspaces, data collection endpoints, Application Insights) are
/// linked to, and that one private endpoint with group id `azuremonitor` connects a network to.
/// Microsoft: "create only a single AMPLS object per DNS" — its endpoint rewrites the DNS of all
/// Azure Monitor traffic of every network sharing that DNS.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[kube(
    group = "arclink.io",
    version = "v1alpha1",
    kind = "ArcMonitorPrivateLinkScope",
    namespaced,
    doc = "An Azure Monitor Private Link Scope managed by arclink (Microsoft.Insights/privateLinkScopes).",
    status = "ArcMonitorPrivateLinkScopeStatus",
    shortname = "ampls",
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
    printcolumn(
        name = "Ingestion",
        type_ = "string",
        json_path = ".spec.accessModes.ingestion"
    ),
    printcolumn(name = "Query", type_ = "string", json_path = ".spec.accessModes.query"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    validation = Rule::new("has(self.spec.azure.name) || size(self.metadata.name) <= 64").message("metadata.name is longer than the 64 characters of a scope's Azure name: set spec.azure.name").field_path(".spec.azure.name"),
    cel
)]
#[serde(rename_all = "camelCase")]
pub struct ArcMonitorPrivateLinkScopeSpec {
    /// Where the scope lives in Azure.
    pub azure: AzureResource,
    /// Always `global` (Azure Monitor Private Link Scopes are global resources); may be left
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new("self.lowerAscii() == 'global'").message("location of an Azure Monitor Private Link Scope is always global"))]
    pub location: Option<String>,
    /// Which traffic the scope's private endpoints let through. `Open` (the default) lets the
    /// networks that resolve through the endpoint still reach Azure Monitor resources outside
    /// the scope. `PrivateOnly` blocks, for EVERY network sharing the endpoint's DNS (whatever
    /// their subscription or tenant), all traffic to Azure Monitor resources that are not in
    /// this scope: start with `Open`. Log Analytics ingestion does not honour these modes (set
    /// the workspace's own public access flags too).
    #[serde(default)]
    pub access_modes: AccessModes,
    /// Per private endpoint connection, access modes other than `accessModes` (Azure's
    /// `accessModeSettings.exclusions`). Only the connections listed are managed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["privateEndpointConnectionName"]))]
    pub exclusions: Vec<Exclusion>,
    /// The Azure Monitor resources linked to the scope, a set keyed by `resourceId`: Log
    /// Analytics workspaces, data collection endpoints (Azure Monitor Agent needs the one in the
    /// machines' region here) and Application Insights components. A resource already linked
    /// (by anyone) is left as it is; removing an entry unlinks only a link arclink made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_SCOPED_RESOURCES))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["resourceId"]))]
    pub scoped_resources: Vec<ScopedResource>,
    #[serde(flatten)]
    pub common: CommonSpec,
}

/// The default access modes of the scope's private endpoints.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessModes {
    /// Ingestion (`accessModeSettings.ingestionAccessMode`).
    #[serde(default)]
    pub ingestion: AccessMode,
    /// Queries (`accessModeSettings.queryAccessMode`).
    #[serde(default)]
    pub query: AccessMode,
}

/// How a private endpoint of the scope reaches Azure Monitor.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum AccessMode {
    /// Azure Monitor resources in and out of the scope are reachable.
    #[default]
    Open,
    /// Only the resources in the scope are reachable, from every network sharing the DNS.
    PrivateOnly,
}

impl AccessMode {
    /// The value ARM uses on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Open => "Open",
            AccessMode::PrivateOnly => "PrivateOnly",
        }
    }
}

/// Access modes of one private endpoint connection, overriding `accessModes`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exclusion {
    /// The private endpoint connection of the scope they apply to.
    #[schemars(length(min = 1, max = 128))]
    pub private_endpoint_connection_name: String,
    /// Ingestion through that connection; left as Azure has it when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion: Option<AccessMode>,
    /// Queries through that connection; left as Azure has it when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<AccessMode>,
}

/// An Azure Monitor resource linked to the scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopedResource {
    /// ARM id of a Log Analytics workspace (`Microsoft.OperationalInsights/workspaces`), a data
    /// collection endpoint (`Microsoft.Insights/dataCollectionEndpoints`) or an Application
    /// Insights component (`Microsoft.Insights/components`).
    #[schemars(length(min = 1, max = 512))]
    #[x_kube(validation = Rule::new(names::monitor_resource_rule()).message(names::MONITOR_RESOURCE_MESSAGE))]
    pub resource_id: String,
}

/// Observed state of the scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArcMonitorPrivateLinkScopeStatus {
    /// ARM id of the scope: what a private endpoint to it (group id `azuremonitor`) connects to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// ARM provisioning state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Every resource linked to the scope in Azure (declared or not), as last read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped_resources: Vec<ScopedResourceStatus>,
    /// Private endpoint connections Azure reports on the scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_endpoint_connections: Vec<ConnectionStatus>,
    #[serde(flatten)]
    pub common: CommonStatus,
}

managed_status!(ArcMonitorPrivateLinkScopeStatus, ArmStatus);

/// A scoped resource of the scope as Azure reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopedResourceStatus {
    /// Name of the scoped resource (`arclink-...` when arclink linked it).
    pub name: String,
    /// ARM id of the linked resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// ARM provisioning state of the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}
