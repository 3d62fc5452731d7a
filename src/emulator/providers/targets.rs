//! Private link targets: the first-party resources a private endpoint connects to, what their
//! `privateLinkResources` list (group ids, required members, required zone names) and the names
//! an endpoint to each group serves, with the private DNS zone each name's record belongs in.
//!
//! Sources: the `privateLinkResources` examples of each service (group ids, members, zones),
//! learn "Azure Private Endpoint DNS configuration" (zones and names), the Arc documentation's
//! names for Arc; reference/companion-endpoints.md gathers them. Where no source names a member
//! or a host, the choice is marked so here and in the README.

use serde_json::{Value, json};

use super::super::hash::stable_hex;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::state::{self, Map};
use super::call::{Call, Reply};

/// A group a private endpoint connects to.
pub struct Group {
    pub id: &'static str,
    pub members: Vec<String>,
    pub zones: Vec<&'static str>,
    /// (member, FQDN) in the order Network gives them addresses.
    pub names: Vec<(String, String)>,
}

impl Group {
    fn new(id: &'static str, zones: &[&'static str]) -> Group {
        Group {
            id,
            members: Vec::new(),
            zones: zones.to_vec(),
            names: Vec::new(),
        }
    }

    /// A member serving `fqdns`.
    fn member(mut self, member: &str, fqdns: &[String]) -> Group {
        self.members.push(member.to_string());
        self.names
            .extend(fqdns.iter().map(|f| (member.to_string(), f.clone())));
        self
    }
}

/// A resource type private endpoints connect to.
pub struct Target {
    pub type_key: &'static str,
    /// Canonical `Namespace/type`.
    pub type_name: &'static str,
    groups: fn(&Map, &Value) -> Vec<Group>,
    /// Storage is reported to compare group ids with their case (Azure/azure-cli#16750); the
    /// other services accept any case.
    pub group_id_case: bool,
    /// The name of the "actions required" field of a connection state: Storage's examples
    /// spell it `actionRequired`.
    pub actions_key: &'static str,
    /// Key Vault's connections carry an `etag`.
    pub connection_etag: bool,
}

pub const ARC_SCOPES: &str = "microsoft.hybridcompute/privatelinkscopes";
pub const MONITOR_SCOPES: &str = "microsoft.insights/privatelinkscopes";
pub const VAULTS: &str = "microsoft.keyvault/vaults";
pub const STORAGE_ACCOUNTS: &str = "microsoft.storage/storageaccounts";
pub const AUTOMATION_ACCOUNTS: &str = "microsoft.automation/automationaccounts";
pub const RESOURCE_MANAGEMENT_LINKS: &str =
    "microsoft.authorization/resourcemanagementprivatelinks";
pub const WORKSPACES: &str = "microsoft.operationalinsights/workspaces";
pub const DATA_COLLECTION_ENDPOINTS: &str = "microsoft.insights/datacollectionendpoints";

const fn target(
    type_key: &'static str,
    type_name: &'static str,
    groups: fn(&Map, &Value) -> Vec<Group>,
) -> Target {
    Target {
        type_key,
        type_name,
        groups,
        group_id_case: false,
        actions_key: "actionsRequired",
        connection_etag: false,
    }
}

pub static TARGETS: &[Target] = &[
    target(
        ARC_SCOPES,
        "Microsoft.HybridCompute/privateLinkScopes",
        arc_groups,
    ),
    target(
        MONITOR_SCOPES,
        "Microsoft.Insights/privateLinkScopes",
        monitor_groups,
    ),
    Target {
        connection_etag: true,
        ..target(VAULTS, "Microsoft.KeyVault/vaults", vault_groups)
    },
    Target {
        group_id_case: true,
        actions_key: "actionRequired",
        ..target(
            STORAGE_ACCOUNTS,
            "Microsoft.Storage/storageAccounts",
            storage_groups,
        )
    },
    target(
        AUTOMATION_ACCOUNTS,
        "Microsoft.Automation/automationAccounts",
        automation_groups,
    ),
    target(
        RESOURCE_MANAGEMENT_LINKS,
        "Microsoft.Authorization/resourceManagementPrivateLinks",
        resource_management_groups,
    ),
];

/// The target a `privateLinkServiceId` points at, if it is a type the emulator models.
pub fn target_of(id: &str) -> Option<(&'static Target, ResourceId)> {
    let rid = ResourceId::parse(id)?;
    let t = TARGETS.iter().find(|t| rid.is_type(t.type_key))?;
    Some((t, rid))
}

pub fn target_for_type(type_key: &str) -> Option<&'static Target> {
    TARGETS
        .iter()
        .find(|t| t.type_key.eq_ignore_ascii_case(type_key))
}

impl Target {
    pub fn groups(&self, map: &Map, target: &Value) -> Vec<Group> {
        (self.groups)(map, target)
    }

    /// The group `asked` names, matched as the service matches group ids.
    pub fn group(&self, map: &Map, target: &Value, asked: &str) -> Option<Group> {
        self.groups(map, target).into_iter().find(|g| {
            if self.group_id_case {
                g.id == asked
            } else {
                g.id.eq_ignore_ascii_case(asked)
            }
        })
    }
}

fn location(v: &Value) -> String {
    ids::normalize_location(v["location"].as_str().unwrap_or("global"))
}

fn name_of(v: &Value) -> &str {
    v["name"].as_str().unwrap_or_default()
}

/// The host of an endpoint URL (`https://host/...`).
fn host(url: &Value) -> Option<String> {
    let s = url.as_str()?;
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let host = rest.split('/').next()?.to_ascii_lowercase();
    Some(host).filter(|h| !h.is_empty())
}

/// Arc's required members (the `PrivateLinkScopePrivateLinkResource_Get` example) and the
/// names each serves (the Arc documentation's DNS table), in the order Arc endpoints have
/// always been given their addresses here.
fn arc_groups(_: &Map, scope: &Value) -> Vec<Group> {
    let region = location(scope);
    let mut g = Group::new(
        "hybridcompute",
        // As the example spells them: without `dp.` and with a capital G (behaviour 8).
        &[
            "privatelink.his.arc.azure.com",
            "privatelink.kubernetesconfiguration.azure.com",
            "privatelink.Guestconfiguration.azure.com",
        ],
    );
    g.members = [
        "HybridCompute.Server",
        "HybridCompute.K8sConfiguration",
        "GuestConfig.DP",
    ]
    .map(str::to_string)
    .to_vec();
    g.names = [
        ("HybridCompute.Server", "gbl.his.arc.azure.com".to_string()),
        (
            "HybridCompute.Server",
            format!("{region}.his.arc.azure.com"),
        ),
        (
            "GuestConfig.DP",
            "agentserviceapi.guestconfiguration.azure.com".to_string(),
        ),
        (
            "GuestConfig.DP",
            format!("{region}-gas.guestconfiguration.azure.com"),
        ),
        (
            "HybridCompute.K8sConfiguration",
            format!("{region}.dp.kubernetesconfiguration.azure.com"),
        ),
    ]
    .map(|(m, f)| (m.to_string(), f))
    .to_vec();
    vec![g]
}

const MONITOR_ZONES: &[&str] = &[
    "privatelink.monitor.azure.com",
    "privatelink.oms.opinsights.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.core.windows.net",
];

/// Azure Monitor: the members of the 2021-09-01 `PrivateLinkScopePrivateLinkResourceListGet`
/// example with their global names, then per scoped workspace `oms-`, `ods-` and `agent-`
/// members (the 2021-07-01-preview example's pattern) and per scoped data collection endpoint
/// its three hosts (member names chosen: the record names).
fn monitor_groups(map: &Map, scope: &Value) -> Vec<Group> {
    let one = |host: &str| vec![host.to_string()];
    let mut g = Group::new("azuremonitor", MONITOR_ZONES)
        .member("api", &one("api.monitor.azure.com"))
        .member("global.in.ai", &one("global.in.ai.monitor.azure.com"))
        .member("profiler", &one("profiler.monitor.azure.com"))
        .member("live", &one("live.monitor.azure.com"))
        .member("snapshot", &one("snapshot.monitor.azure.com"))
        // The solution packs' storage (MicrosoftDocs/azure-docs#74291).
        .member(
            "agentsolutionpackstore",
            &one("scadvisorcontentpl.blob.core.windows.net"),
        )
        .member(
            "dce-global",
            &one("global.handler.control.monitor.azure.com"),
        );
    let key = scope["id"].as_str().map(ids::key).unwrap_or_default();
    for (_, scoped) in state::children(map, &key, "scopedresources") {
        let linked = scoped["properties"]["linkedResourceId"]
            .as_str()
            .map(ids::key)
            .unwrap_or_default();
        let Some(resource) = map.get(&linked) else {
            continue;
        };
        if ResourceId::parse(&linked).is_some_and(|r| r.is_type(WORKSPACES)) {
            let w = resource["properties"]["customerId"]
                .as_str()
                .unwrap_or_default();
            g = g
                .member(
                    &format!("oms-{w}"),
                    &one(&format!("{w}.oms.opinsights.azure.com")),
                )
                .member(
                    &format!("ods-{w}"),
                    &one(&format!("{w}.ods.opinsights.azure.com")),
                )
                .member(
                    &format!("agent-{w}"),
                    &one(&format!("{w}.agentsvc.azure-automation.net")),
                );
        } else if ResourceId::parse(&linked).is_some_and(|r| r.is_type(DATA_COLLECTION_ENDPOINTS)) {
            let p = &resource["properties"];
            for endpoint in ["configurationAccess", "logsIngestion", "metricsIngestion"] {
                if let Some(h) = host(&p[endpoint]["endpoint"]) {
                    let member = h.trim_end_matches(".monitor.azure.com").to_string();
                    g = g.member(&member, &[h]);
                }
            }
        }
    }
    vec![g]
}

/// Key Vault: group `vault`, member `default` (the `listPrivateLinkResources` example), the
/// vault's own host.
fn vault_groups(_: &Map, vault: &Value) -> Vec<Group> {
    let h = host(&vault["properties"]["vaultUri"])
        .unwrap_or_else(|| format!("{}.vault.azure.net", name_of(vault).to_ascii_lowercase()));
    vec![Group::new("vault", &["privatelink.vaultcore.azure.net"]).member("default", &[h])]
}

/// Storage: one group per service endpoint the account has, `<service>_secondary` for the
/// secondary endpoints of a read-access geo-redundant account (the
/// `StorageAccountListPrivateLinkResources` example; the member is the group id).
fn storage_groups(_: &Map, account: &Value) -> Vec<Group> {
    const SERVICES: &[(&str, &str, &str)] = &[
        (
            "blob",
            "blob_secondary",
            "privatelink.blob.core.windows.net",
        ),
        (
            "table",
            "table_secondary",
            "privatelink.table.core.windows.net",
        ),
        (
            "queue",
            "queue_secondary",
            "privatelink.queue.core.windows.net",
        ),
        ("file", "", "privatelink.file.core.windows.net"),
        ("web", "web_secondary", "privatelink.web.core.windows.net"),
        ("dfs", "dfs_secondary", "privatelink.dfs.core.windows.net"),
    ];
    let p = &account["properties"];
    let mut out = Vec::new();
    for (service, secondary, zone) in SERVICES {
        for (group, endpoints) in [
            (*service, "primaryEndpoints"),
            (*secondary, "secondaryEndpoints"),
        ] {
            if let (false, Some(h)) = (group.is_empty(), host(&p[endpoints][service])) {
                out.push(Group::new(group, &[zone]).member(group, &[h]));
            }
        }
    }
    out
}

/// Automation: `Webhook` and `DSCAndHybridWorker` (learn "Use Azure Private Link to securely
/// connect networks to Azure Automation": the webhook, job runtime data and agent service
/// hosts). Member names and the region codes of the hosts are chosen.
fn automation_groups(_: &Map, account: &Value) -> Vec<Group> {
    let id = account_guid(account);
    let code = region_code(&location(account));
    let at = |service: &str| vec![format!("{id}.{service}.{code}.azure-automation.net")];
    let zones = &["privatelink.azure-automation.net"];
    vec![
        Group::new("Webhook", zones).member("Webhook", &at("webhook")),
        Group::new("DSCAndHybridWorker", zones)
            .member("DSCAndHybridWorker", &at("agentsvc"))
            .member("JRDS", &at("jrds")),
    ]
}

/// A stable identifier derived from the resource id (the service assigns one at creation).
pub fn account_guid(v: &Value) -> String {
    let id = v["id"].as_str().map(ids::key).unwrap_or_default();
    let h = stable_hex(&id, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Automation's short region names in its hosts, for the regions the fixtures use; other
/// regions keep their name.
fn region_code(region: &str) -> String {
    match region {
        "eastus" => "eus",
        "eastus2" => "eus2",
        "westus" => "wus",
        "westus2" => "wus2",
        "westeurope" => "we",
        "northeurope" => "ne",
        other => other,
    }
    .to_string()
}

/// The resource management private link: `management.azure.com` in `privatelink.azure.com`
/// (learn "Create a resource management private link"); the member name is chosen.
fn resource_management_groups(_: &Map, _: &Value) -> Vec<Group> {
    vec![
        Group::new("ResourceManagement", &["privatelink.azure.com"])
            .member("ResourceManagement", &["management.azure.com".to_string()]),
    ]
}

/// Public DNS suffixes and the recommended private zone of their names (learn "Azure Private
/// Endpoint DNS configuration", commercial cloud).
const ZONES: &[(&str, &str)] = &[
    ("his.arc.azure.com", "privatelink.his.arc.azure.com"),
    (
        "guestconfiguration.azure.com",
        "privatelink.guestconfiguration.azure.com",
    ),
    (
        "dp.kubernetesconfiguration.azure.com",
        "privatelink.dp.kubernetesconfiguration.azure.com",
    ),
    ("monitor.azure.com", "privatelink.monitor.azure.com"),
    (
        "oms.opinsights.azure.com",
        "privatelink.oms.opinsights.azure.com",
    ),
    (
        "ods.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
    ),
    (
        "agentsvc.azure-automation.net",
        "privatelink.agentsvc.azure-automation.net",
    ),
    ("azure-automation.net", "privatelink.azure-automation.net"),
    ("blob.core.windows.net", "privatelink.blob.core.windows.net"),
    (
        "table.core.windows.net",
        "privatelink.table.core.windows.net",
    ),
    (
        "queue.core.windows.net",
        "privatelink.queue.core.windows.net",
    ),
    ("file.core.windows.net", "privatelink.file.core.windows.net"),
    ("web.core.windows.net", "privatelink.web.core.windows.net"),
    ("dfs.core.windows.net", "privatelink.dfs.core.windows.net"),
    ("vault.azure.net", "privatelink.vaultcore.azure.net"),
    ("azure.com", "privatelink.azure.com"),
];

/// The recommended zone of a name and the record's name in it (`gbl.his.arc.azure.com` →
/// `privatelink.his.arc.azure.com`, `gbl`): the longest public suffix decides.
pub fn record_of(fqdn: &str) -> Option<(&'static str, String)> {
    let f = fqdn.to_ascii_lowercase();
    ZONES
        .iter()
        .filter_map(|(suffix, zone)| {
            let rel = f.strip_suffix(suffix)?.strip_suffix('.')?;
            Some((suffix.len(), *zone, rel.to_string()))
        })
        .filter(|(_, _, rel)| !rel.is_empty())
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, zone, rel)| (zone, rel))
}

fn link_resource(target_id: &str, type_name: &str, g: &Group) -> Value {
    json!({
        "id": format!("{target_id}/privateLinkResources/{}", g.id),
        "name": g.id,
        "type": format!("{type_name}/privateLinkResources"),
        "properties": {
            "groupId": g.id,
            "requiredMembers": g.members,
            "requiredZoneNames": g.zones,
        },
    })
}

/// The stored target a `privateLinkResources` request is below, with its kind.
fn target_of_call(call: &Call) -> Result<(&'static Target, std::sync::Arc<Value>), ApiError> {
    let parent = call.rid.parent().ok_or_else(|| call.not_found())?;
    let t = target_for_type(&parent.type_key()).ok_or_else(|| call.not_found())?;
    let v = call
        .shared
        .store
        .get(&ids::key(&parent.to_id()))
        .ok_or_else(|| call.not_found())?;
    Ok((t, v))
}

pub fn get_link_resource(call: &Call) -> Result<Reply, ApiError> {
    let (t, v) = target_of_call(call)?;
    let map = call.shared.store.read();
    let g = t
        .group(&map, &v, call.rid.name())
        .ok_or_else(|| call.not_found())?;
    let id = v["id"].as_str().unwrap_or_default();
    Ok(ArmResponse::json(200, link_resource(id, t.type_name, &g)).into())
}

pub fn list_link_resources(call: &Call) -> Result<Reply, ApiError> {
    let (t, v) = target_of_call(call)?;
    let map = call.shared.store.read();
    let id = v["id"].as_str().unwrap_or_default();
    let items: Vec<Value> = t
        .groups(&map, &v)
        .iter()
        .map(|g| link_resource(id, t.type_name, g))
        .collect();
    Ok(ArmResponse::json(200, json!({"value": items})).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_their_recommended_zones() {
        let cases = [
            (
                "gbl.his.arc.azure.com",
                "privatelink.his.arc.azure.com",
                "gbl",
            ),
            (
                "eastus.dp.kubernetesconfiguration.azure.com",
                "privatelink.dp.kubernetesconfiguration.azure.com",
                "eastus",
            ),
            (
                "kv1.vault.azure.net",
                "privatelink.vaultcore.azure.net",
                "kv1",
            ),
            (
                "management.azure.com",
                "privatelink.azure.com",
                "management",
            ),
            (
                "w.agentsvc.azure-automation.net",
                "privatelink.agentsvc.azure-automation.net",
                "w",
            ),
            (
                "a.agentsvc.eus.azure-automation.net",
                "privatelink.azure-automation.net",
                "a.agentsvc.eus",
            ),
            (
                "acct.z13.web.core.windows.net",
                "privatelink.web.core.windows.net",
                "acct.z13",
            ),
            (
                "api.monitor.azure.com",
                "privatelink.monitor.azure.com",
                "api",
            ),
        ];
        for (fqdn, zone, rel) in cases {
            assert_eq!(record_of(fqdn), Some((zone, rel.to_string())), "{fqdn}");
        }
        assert_eq!(record_of("example.org"), None);
        assert_eq!(record_of("vault.azure.net"), None);
    }
}
