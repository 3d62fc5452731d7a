//! `ArcServerAssociation`: which Arc-enabled servers (`Microsoft.HybridCompute/machines`) belong
//! to which Arc Private Link Scope (`properties.privateLinkScopeResourceId`).

// `printcolumn(...)` repeats `type_`/`json_path` keys by design; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::*;
use super::managed::{CommonStatus, NoArmStatus, managed_status};
use crate::azure::names;

/// Declares that the selected Arc-enabled servers connect through an Arc Private Link Scope.
/// arclink never creates or deletes machines; it only sets their scope.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "arclink.io",
    version = "v1alpha1",
    kind = "ArcServerAssociation",
    namespaced,
    doc = "Associates Azure Arc-enabled servers (by name or tags) with an Azure Arc Private Link Scope.",
    status = "ArcServerAssociationStatus",
    shortname = "asa",
    category = "arclink",
    category = "azure",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Scope", type_ = "string", json_path = ".spec.scopeRef.name"),
    printcolumn(name = "Matched", type_ = "integer", json_path = ".status.summary.matched"),
    printcolumn(name = "Associated", type_ = "integer", json_path = ".status.summary.associated"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("has(self.spec.scopeRef) != has(self.spec.scopeId)").message("exactly one of spec.scopeRef or spec.scopeId must be set").field_path(".spec"),
    cel
)]
#[serde(rename_all = "camelCase")]
pub struct ArcServerAssociationSpec {
    /// The ArcPrivateLinkScope (same namespace) the machines join. Exactly one of `scopeRef`
    /// and `scopeId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_ref: Option<ScopeRef>,
    /// ARM id of an existing Arc Private Link Scope. Exactly one of `scopeRef` and `scopeId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::SCOPE_ID.pattern()), length(max = 512))]
    pub scope_id: Option<String>,
    /// Which machines: by name and/or by tags (a union), in one resource group.
    pub machines: MachineSelector,
    /// A machine already in ANOTHER scope: `Skip` (default, report `Conflict`) or `Takeover`.
    #[serde(default)]
    pub on_conflict: ConflictPolicy,
    /// Azure Monitor Agent over private link: each machine's
    /// `dataCollectionRuleAssociations/configurationAccessEndpoint` points at the listed data
    /// collection endpoint in its region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// On delete: `Detach` (default) clears the scope on machines that still point to it and
    /// removes the endpoint associations arclink wrote; `Orphan` leaves both.
    #[serde(default)]
    pub deletion: DetachPolicy,
    /// Drift policy and check interval.
    #[serde(default)]
    pub policy: AssociationPolicy,
    /// Do nothing at all while true (no Azure calls).
    #[serde(default)]
    pub suspend: bool,
    /// Secret with Azure credentials in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_ref: Option<CredentialRef>,
}

/// Selects machines in one resource group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.names) && size(self.names) > 0) || (has(self.tagSelector) && size(self.tagSelector) > 0)").message("machines.names or machines.tagSelector is required").reason(Reason::FieldValueRequired).field_path(".names"))]
pub struct MachineSelector {
    /// Subscription of the machines. Defaults to the scope's subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::GUID.whole()), length(max = 36))]
    pub subscription_id: Option<String>,
    /// Resource group of the machines.
    #[schemars(regex(pattern = names::RESOURCE_GROUP.whole()), length(min = 1, max = 90))]
    pub resource_group: String,
    /// Machine names (1-54 characters each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10000), inner(regex(pattern = names::MACHINE.whole()), length(max = 54)))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub names: Vec<String>,
    /// Every machine in the resource group carrying all these tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 16, "additionalProperties" = {"type": "string", "maxLength": 256}))]
    pub tag_selector: BTreeMap<String, String>,
}

/// Azure Monitor Agent over private link, for every machine the association selects (but those
/// an older association claims).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    /// Data collection endpoints (`Microsoft.Insights/dataCollectionEndpoints` ids), at most one
    /// per region: each machine is associated with the one in its region, under the name
    /// `configurationAccessEndpoint` (Azure Monitor Agent reads no other). Machines in a
    /// region without one are reported (`NoRegionalEndpoint`), not written. An association
    /// with another endpoint that arclink did not write is a `Conflict` unless
    /// `onConflict: Takeover`.
    #[schemars(length(min = 1, max = 64))]
    #[schemars(inner(regex(pattern = names::DATA_COLLECTION_ENDPOINT_ID.pattern()), length(max = 512)))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub data_collection_endpoint_ids: Vec<String>,
}

/// What to do with a machine that is already in another scope.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum ConflictPolicy {
    /// Leave it and report `Conflict`.
    #[default]
    Skip,
    /// Move it to this scope.
    Takeover,
}

/// What to do with associated machines when the object is deleted.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DetachPolicy {
    /// Clear `privateLinkScopeResourceId` on machines that still point to this scope.
    #[default]
    Detach,
    /// Leave the machines associated.
    Orphan,
}

/// Drift policy of an association.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssociationPolicy {
    /// `Correct` (default) re-associates machines moved out of band; `Report` only reports.
    #[serde(default)]
    pub drift: DriftPolicy,
    /// How often Azure is re-read when nothing changed (Go duration, 30s to 24h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN), length(max = 32))]
    #[x_kube(
        validation = Rule::new("duration(self) >= duration('30s')").message("driftCheckInterval must be at least 30s"),
        validation = Rule::new("duration(self) <= duration('24h')").message("driftCheckInterval must be at most 24h")
    )]
    pub drift_check_interval: Option<String>,
}

/// Observed state of the association.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArcServerAssociationStatus {
    /// ARM id of the scope the machines join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_resource_id: Option<String>,
    /// Counts of machines by state.
    #[serde(default)]
    pub summary: AssociationSummary,
    /// Machines NOT associated, with the reason (at most 100 entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineStatus>,
    /// Number of non-associated machines left out of `machines` to bound the object's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machines_omitted: Option<u32>,
    /// The data collection endpoints machines may be associated with by this object: the
    /// spec's, plus those removed from it until arclink has removed its associations with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_collection_endpoint_ids: Vec<String>,
    // No operation and no drift field by field: a drifted machine is listed in `machines`.
    #[serde(flatten)]
    pub common: CommonStatus<NoArmStatus>,
}

managed_status!(ArcServerAssociationStatus, NoArmStatus);

/// Machine counts by state.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssociationSummary {
    /// Machines selected by name or tags and found.
    pub matched: u32,
    /// Machines whose scope is this scope.
    pub associated: u32,
    /// Machines being associated.
    pub pending: u32,
    /// Machines in another scope (or claimed by an older association).
    pub conflict: u32,
    /// Machines in another region than the scope.
    pub region_mismatch: u32,
    /// Names that do not exist in the resource group.
    pub not_found: u32,
    /// Machines whose update failed.
    pub failed: u32,
    /// The endpoint associations of `spec.monitoring`, machine by machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSummary>,
}

/// Counts of `spec.monitoring` over the selected machines.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSummary {
    /// Machines whose `configurationAccessEndpoint` is their region's endpoint.
    pub associated: u32,
    /// Machines whose association is being written.
    pub pending: u32,
    /// Machines in a region without a listed data collection endpoint (not written).
    pub no_regional_endpoint: u32,
    /// Machines with another endpoint association arclink did not write.
    pub conflict: u32,
    /// Machines whose association write failed.
    pub failed: u32,
}

/// A machine that is not associated, and why.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct MachineStatus {
    /// Machine name.
    pub name: String,
    /// `Pending`, `Conflict`, `RegionMismatch`, `NotFound`, `Failed`, `Drifted`, or
    /// `NoRegionalEndpoint` (`spec.monitoring` lists no data collection endpoint in its region).
    pub state: String,
    /// Details, e.g. the other scope or the ARM error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
