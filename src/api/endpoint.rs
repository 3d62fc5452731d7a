//! `ArcPrivateEndpoint`: a private endpoint (`Microsoft.Network/privateEndpoints`, group id
//! `hybridcompute`) connecting a virtual network to an Arc Private Link Scope, with its DNS.

// `printcolumn(...)` repeats `type_`/`json_path` keys by design; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::*;
use super::ip_configuration::*;
use super::managed::{ArmStatus, CommonSpec, CommonStatus, managed_status};
use crate::azure::{catalogue, names};

/// The fields that name what an endpoint connects to, each with the CEL expression of its
/// value (`$` standing for `self` or `oldSelf`): exactly one is set, and it never changes. A
/// new kind of target is one more row.
const TARGET_FIELDS: &[(&str, &str)] = &[
    ("scopeRef", "$.spec.scopeRef.name"),
    ("scopeId", "$.spec.scopeId"),
    ("monitorScopeRef", "$.spec.monitorScopeRef.name"),
    (
        "resourceManagementLinkRef",
        "$.spec.resourceManagementLinkRef.name",
    ),
    (
        "target",
        "$.spec.target.resourceId + '|' + $.spec.target.groupId",
    ),
];

/// `(has(self.spec.scopeRef) ? 1 : 0) + ... == 1`.
fn exactly_one_target_rule() -> String {
    let terms: Vec<String> = TARGET_FIELDS
        .iter()
        .map(|(f, _)| format!("(has(self.spec.{f}) ? 1 : 0)"))
        .collect();
    format!("{} == 1", terms.join(" + "))
}

/// `spec.scopeRef, spec.scopeId <word> spec.target`.
fn target_fields_text(word: &str) -> String {
    let names: Vec<String> = TARGET_FIELDS
        .iter()
        .map(|(f, _)| format!("spec.{f}"))
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {word} {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn exactly_one_target_message() -> String {
    format!("exactly one of {} must be set", target_fields_text("or"))
}

/// The target as one string, the same for the same target whichever field names it.
fn target_key(of: &str) -> String {
    let terms: Vec<String> = TARGET_FIELDS
        .iter()
        .map(|(f, value)| {
            let value = value.replace('$', of);
            format!("(has({of}.spec.{f}) ? '{f}:' + {value} : '')")
        })
        .collect();
    format!("({})", terms.join(" + "))
}

/// What an endpoint connects to never changes.
fn target_immutable_rule() -> String {
    format!("{} == {}", target_key("self"), target_key("oldSelf"))
}

fn target_immutable_message() -> String {
    format!(
        "{} are immutable: Azure refuses to change a private endpoint's connection (CannotChangePrivateLinkConnectionOnPrivateEndpoint); to connect the network to another target, delete this ArcPrivateEndpoint and create a new one",
        target_fields_text("and")
    )
}

/// With managed private DNS (the default), `spec.target.groupId` must be a group id whose
/// zones the catalogue holds (in some cloud: the controller checks its own cloud).
fn managed_dns_group_rule() -> String {
    let mut groups: Vec<String> = catalogue::GROUPS
        .iter()
        .map(|g| format!("'{}'", g.group_id.to_ascii_lowercase()))
        .collect();
    groups.dedup();
    format!(
        "!has(self.spec.target) || (has(self.spec.privateDns) && has(self.spec.privateDns.mode) && self.spec.privateDns.mode != 'Managed') || self.spec.target.groupId.lowerAscii() in [{}]",
        groups.join(", ")
    )
}

const MANAGED_DNS_GROUP_MESSAGE: &str = "spec.target.groupId is not in arclink's private DNS zone catalogue, so spec.privateDns.mode: Managed (the default) cannot know which zones to create; set spec.privateDns.mode to Existing (with zoneIds) or None";

/// Azure's private endpoint name rule (reference/arm-behaviours.md 7), on the name arclink
/// uses: `spec.azure.name`, else `metadata.name`.
fn endpoint_name_rule() -> String {
    format!(
        "(has(self.spec.azure.name) ? self.spec.azure.name : self.metadata.name).matches('{}')",
        names::NETWORK_2_64.whole()
    )
}
const ENDPOINT_NAME_MESSAGE: &str = "the private endpoint's Azure name (spec.azure.name, else metadata.name) must be 2-64 characters of letters, digits, '_', '.' and '-', start with a letter or digit and end with a letter, digit or '_'";

/// Declares a private endpoint from a virtual network's subnet to an Arc Private Link Scope,
/// and the private DNS that makes Arc's FQDNs resolve to it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[kube(
    group = "arclink.io",
    version = "v1alpha1",
    kind = "ArcPrivateEndpoint",
    namespaced,
    doc = "A private endpoint from a virtual network to an Azure Arc Private Link Scope or another private-link resource (Key Vault, storage, Automation, Azure Monitor, Resource Manager), with its private DNS, managed by arclink.",
    status = "ArcPrivateEndpointStatus",
    shortname = "ape",
    category = "arclink",
    category = "azure",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Target", type_ = "string", json_path = ".status.target.name"),
    printcolumn(name = "Connection", type_ = "string", json_path = ".status.connection.status"),
    printcolumn(name = "Location", type_ = "string", json_path = ".spec.location"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new(exactly_one_target_rule()).message(kube::core::Message::Message(exactly_one_target_message())).field_path(".spec"),
    validation = Rule::new(target_immutable_rule()).message(kube::core::Message::Message(target_immutable_message())).field_path(".spec.scopeRef"),
    validation = Rule::new(managed_dns_group_rule()).message(MANAGED_DNS_GROUP_MESSAGE).field_path(".spec.target.groupId"),
    validation = Rule::new("(has(self.spec.approval) ? self.spec.approval : 'Automatic') == (has(oldSelf.spec.approval) ? oldSelf.spec.approval : 'Automatic')").message("spec.approval is immutable: Azure cannot switch a private endpoint's connection between automatic and manual approval; delete this ArcPrivateEndpoint and create a new one").field_path(".spec.approval"),
    validation = Rule::new(endpoint_name_rule()).message(ENDPOINT_NAME_MESSAGE).field_path(".spec.azure.name"),
    validation = Rule::new(IP_CONFIGURATIONS_IMMUTABLE).message(IP_CONFIGURATIONS_IMMUTABLE_MESSAGE).field_path(".spec.ipConfigurations"),
    validation = Rule::new(NETWORK_INTERFACE_NAME_IMMUTABLE).message(NETWORK_INTERFACE_NAME_IMMUTABLE_MESSAGE).field_path(".spec.networkInterfaceName"),
    cel
)]
#[serde(rename_all = "camelCase")]
pub struct ArcPrivateEndpointSpec {
    /// Where the private endpoint lives in Azure.
    pub azure: AzureResource,
    /// Azure region of the endpoint; must equal the virtual network's region (checked before
    /// any write). Immutable.
    #[schemars(regex(pattern = LOCATION_PATTERN), length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("location is immutable: ARM cannot move a resource"))]
    pub location: String,
    /// ARM id of the subnet the endpoint's network interface is placed in. Immutable.
    #[schemars(regex(pattern = names::SUBNET_ID.pattern()), length(max = 512))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("subnetId is immutable: a private endpoint cannot move to another subnet"))]
    pub subnet_id: String,
    /// The ArcPrivateLinkScope (same namespace) to connect to (group `hybridcompute`). Exactly
    /// one of the target fields (`scopeRef`, `scopeId`, `monitorScopeRef`,
    /// `resourceManagementLinkRef`, `target`); immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_ref: Option<ScopeRef>,
    /// ARM id of an existing Arc Private Link Scope not managed by this cluster. Exactly one of
    /// the target fields; immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::SCOPE_ID.pattern()), length(max = 512))]
    pub scope_id: Option<String>,
    /// The ArcMonitorPrivateLinkScope (same namespace) to connect to (group `azuremonitor`):
    /// the endpoint waits until it is Ready. With managed DNS, all five Azure Monitor zones in
    /// one zone group; only one Azure Monitor scope per DNS. Exactly one of the target fields;
    /// immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_scope_ref: Option<LocalRef>,
    /// The ArcResourceManagementPrivateLink (same namespace) to connect to (group
    /// `ResourceManagement`, zone `privatelink.azure.com`): the endpoint waits until it is
    /// Ready. Exactly one of the target fields; immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_management_link_ref: Option<LocalRef>,
    /// An existing private-link resource to connect to instead of an Arc scope: a Key Vault
    /// (group `vault`), a storage account (`blob`, `file`, ...), an Automation account
    /// (`Webhook` or `DSCAndHybridWorker`), an Azure Monitor Private Link Scope
    /// (`azuremonitor`), a resource management private link (`ResourceManagement`). Exactly
    /// one of the target fields; immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<EndpointTarget>,
    /// `Automatic` (default) requests an auto-approved connection; `Manual` requests one that
    /// the scope's owner approves.
    #[serde(default)]
    pub approval: Approval,
    /// With `approval: Manual` and a `scopeRef` that arclink manages: approve the pending
    /// connection on the scope.
    #[serde(default)]
    pub approve_connection: bool,
    /// Message sent with a manual connection request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 140))]
    pub request_message: Option<String>,
    /// Private DNS for the endpoint. Defaults to mode `Managed` in the endpoint's resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns: Option<PrivateDns>,
    /// Export the DNS records into a ConfigMap for on-premises DNS servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_export: Option<DnsExport>,
    /// The documentation's outbound rules for Microsoft Entra ID and Azure Resource Manager
    /// (`AllowAADOutboundAccess`, `AllowAzOutboundAccess`) in a network security group.
    /// Absent: arclink does not touch network security groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_rules: Option<OutboundRules>,
    /// Static private addresses (Azure's `ipConfigurations`): one per member the target's
    /// group requires (its private link resource's `requiredMembers`; Arc's `hybridcompute`:
    /// `HybridCompute.Server`, `HybridCompute.K8sConfiguration`, `GuestConfig.DP`), each a free
    /// address of the subnet, so that DNS forwarders and firewalls can be set up before the
    /// endpoint exists. A missing or unknown member, or an address outside the subnet, is
    /// refused before any write. Absent: Azure assigns the addresses. Immutable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["memberName"]))]
    #[x_kube(validation = Rule::new(MEMBERS_UNIQUE_RULE).message(MEMBERS_UNIQUE_MESSAGE))]
    pub ip_configurations: Vec<IpConfiguration>,
    /// The name of the endpoint's network interface (`customNetworkInterfaceName`), for naming
    /// policies; absent: Azure names it after the endpoint. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::NETWORK_1_80.whole()), length(min = 1, max = 80))]
    pub network_interface_name: Option<String>,
    #[serde(flatten)]
    pub common: CommonSpec,
}

/// An existing private-link resource (`spec.target`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointTarget {
    /// ARM id of the resource, e.g.
    /// `/subscriptions/.../resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-arc`.
    #[schemars(regex(pattern = names::any_resource_id_pattern()), length(max = 512))]
    pub resource_id: String,
    /// The one private-link group id (sub-resource) to connect to (Azure refuses several:
    /// `OnlyOneGroupIdPermitted`). With `privateDns.mode: Managed` (the default) it must be in
    /// arclink's DNS zone catalogue: `vault`, `blob`, `blob_secondary`, `file`, `table`,
    /// `queue`, `web`, `dfs` (and their `_secondary`), `Webhook`, `DSCAndHybridWorker`,
    /// `azuremonitor`, `ResourceManagement`, `hybridcompute`.
    #[schemars(regex(pattern = GROUP_ID_PATTERN), length(min = 1, max = 80))]
    pub group_id: String,
}

/// A private-link group id: letters, digits, `_`, `.` and `-`.
const GROUP_ID_PATTERN: &str = "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$";

/// How the connection to the scope is approved.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum Approval {
    /// `privateLinkServiceConnections`: approved automatically when the caller may.
    #[default]
    Automatic,
    /// `manualPrivateLinkServiceConnections`: pending until the scope owner approves.
    Manual,
}

/// Private DNS for the endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.mode != 'Existing' || (has(self.zoneIds) && size(self.zoneIds) > 0)").message("privateDns.zoneIds is required when privateDns.mode is Existing").field_path(".zoneIds"))]
pub struct PrivateDns {
    /// `Managed` (default): create and own Arc's privatelink zones, link them to the endpoint's
    /// virtual network and attach a zone group. `Existing`: attach a zone group for `zoneIds`.
    /// `None`: no DNS in Azure (records are still reported in status).
    #[serde(default)]
    pub mode: PrivateDnsMode,
    /// Resource group of the managed zones. Defaults to the endpoint's resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::RESOURCE_GROUP.whole()), length(min = 1, max = 90))]
    pub resource_group: Option<String>,
    /// ARM ids of existing private DNS zones (mode `Existing`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8), inner(regex(pattern = names::DNS_ZONE_ID.pattern()), length(max = 512)))]
    pub zone_ids: Vec<String>,
}

/// Who manages the endpoint's private DNS.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum PrivateDnsMode {
    /// arclink creates and owns the zones, links and zone group.
    #[default]
    Managed,
    /// arclink attaches a zone group for existing zones.
    Existing,
    /// No DNS in Azure (e.g. zone groups managed by Azure Policy, or on-premises DNS).
    #[serde(rename = "None")]
    Disabled,
}

/// Export of DNS records for on-premises DNS servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DnsExport {
    /// ConfigMap (same namespace) receiving key `hosts` (hosts-file lines) and one BIND zone
    /// fragment per zone.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub config_map_name: String,
}

/// Priority of `AllowAADOutboundAccess` in the documentation's table.
pub const DEFAULT_ENTRA_ID_PRIORITY: u32 = 150;
/// Priority of `AllowAzOutboundAccess` in the documentation's table.
pub const DEFAULT_RESOURCE_MANAGER_PRIORITY: u32 = 151;

fn default_entra_id_priority() -> u32 {
    DEFAULT_ENTRA_ID_PRIORITY
}

fn default_resource_manager_priority() -> u32 {
    DEFAULT_RESOURCE_MANAGER_PRIORITY
}

/// The outbound security rules the Connected Machine agent needs while Microsoft Entra ID and
/// Azure Resource Manager have no private endpoints ("Network configuration" in the Arc private
/// link documentation): TCP 443 from `VirtualNetwork` to the service tags
/// `AzureActiveDirectory` and `AzureResourceManager`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.entraIdPriority) ? self.entraIdPriority : 150) != (has(self.resourceManagerPriority) ? self.resourceManagerPriority : 151)").message("outboundRules.entraIdPriority and outboundRules.resourceManagerPriority must differ: Azure refuses two outbound rules with the same priority").field_path(".resourceManagerPriority"))]
pub struct OutboundRules {
    /// ARM id of the network security group that receives the rules. Defaults to the group
    /// attached to `spec.subnetId`; without one, the endpoint is `Stalled`
    /// (`NoNetworkSecurityGroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::NSG_ID.pattern()), length(max = 512))]
    pub network_security_group_id: Option<String>,
    /// Priority of `AllowAADOutboundAccess` (Microsoft Entra ID), 100-4096. Must be lower
    /// (evaluated earlier) than every outbound Deny rule of the group that blocks the internet.
    #[serde(default = "default_entra_id_priority")]
    #[schemars(range(min = 100, max = 4096))]
    pub entra_id_priority: u32,
    /// Priority of `AllowAzOutboundAccess` (Azure Resource Manager), 100-4096. Same rule.
    #[serde(default = "default_resource_manager_priority")]
    #[schemars(range(min = 100, max = 4096))]
    pub resource_manager_priority: u32,
}

impl Default for OutboundRules {
    fn default() -> OutboundRules {
        OutboundRules {
            network_security_group_id: None,
            entra_id_priority: DEFAULT_ENTRA_ID_PRIORITY,
            resource_manager_priority: DEFAULT_RESOURCE_MANAGER_PRIORITY,
        }
    }
}

/// Where arclink keeps the outbound rules.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundRulesStatus {
    /// ARM id of the network security group holding the rules (also where a deletion or a
    /// change of group removes them from).
    pub network_security_group_id: String,
    /// The rules as Azure has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<OutboundRuleStatus>,
}

/// One outbound rule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundRuleStatus {
    /// `AllowAADOutboundAccess` or `AllowAzOutboundAccess`.
    pub name: String,
    /// Destination service tag.
    pub destination: String,
    /// Priority in Azure.
    pub priority: u32,
}

/// Observed state of the endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArcPrivateEndpointStatus {
    /// ARM id of the private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// ARM provisioning state of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// What the endpoint connects to, as arclink resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetStatus>,
    /// The endpoint's connection to the scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<EndpointConnection>,
    /// Private IP addresses of the endpoint.
    #[serde(default, rename = "privateIPs", skip_serializing_if = "Vec::is_empty")]
    pub private_ips: Vec<String>,
    /// DNS records on-premises resolvers need (from the endpoint's DNS configuration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_records: Vec<DnsRecord>,
    /// Private DNS zones arclink created for this endpoint (mode `Managed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_zone_ids: Vec<String>,
    /// The outbound rules arclink keeps (`spec.outboundRules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_rules: Option<OutboundRulesStatus>,
    #[serde(flatten)]
    pub common: CommonStatus,
}

managed_status!(ArcPrivateEndpointStatus, ArmStatus);

/// What an endpoint connects to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// Short form for people (the `Target` column): the referenced object's name, the scope's
    /// name, or the target resource's name and group id (`kv-arc/vault`).
    pub name: String,
    /// ARM id of the resource the endpoint connects to.
    pub resource_id: String,
    /// The private-link group id.
    pub group_id: String,
    /// The spec field that names it (`scopeRef`, `scopeId`, `monitorScopeRef`,
    /// `resourceManagementLinkRef`, `target`).
    pub source: String,
}

/// State of the endpoint's connection to the scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct EndpointConnection {
    /// Name of the connection.
    pub name: String,
    /// `Approved`, `Pending`, `Rejected` or `Disconnected`.
    pub status: String,
    /// Description given with the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One DNS name of the endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    /// Fully qualified name clients resolve, e.g. `gbl.his.arc.azure.com`.
    pub fqdn: String,
    /// Private DNS zone holding the record, e.g. `privatelink.his.arc.azure.com`.
    pub zone: String,
    /// Private IP addresses the name resolves to.
    pub ip_addresses: Vec<String>,
}
