//! Endpoints to private-link targets other than an Arc scope: a bed whose emulator also holds a
//! Key Vault and two storage accounts (in `rg-arc`), Azure Monitor scopes made through ARM,
//! and endpoint objects naming a `spec.target`.

use arclink::api::ArcPrivateEndpoint;
use arclink::api::endpoint::EndpointTarget;
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::endpoint::target::TargetSource;
use serde_json::json;

use super::support::*;
use crate::common::bed::BedBuilder;
use crate::common::fixtures::{https_client, token};

const TARGETS: &str = "
keyVaults:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: kv-arc, location: eastus}
storageAccounts:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: scripts, location: eastus}
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: logs, location: eastus}
";

/// The endpoint suite's bed with the targets.
pub fn target_bed() -> BedBuilder {
    bed().fixtures(TARGETS)
}

fn in_rg_arc(provider_type: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-arc/providers/{provider_type}/{name}")
}

pub fn vault_id() -> String {
    in_rg_arc("Microsoft.KeyVault/vaults", "kv-arc")
}

pub fn storage_id(name: &str) -> String {
    in_rg_arc("Microsoft.Storage/storageAccounts", name)
}

pub fn monitor_scope_id(name: &str) -> String {
    in_rg_arc("Microsoft.Insights/privateLinkScopes", name)
}

/// An Azure Monitor Private Link Scope created through ARM (as a person or another tool
/// would), the target of an endpoint's `spec.target`.
pub async fn monitor_scope(b: &Bed, name: &str) -> String {
    let id = monitor_scope_id(name);
    let token = token(&b.emu, "t", "arclink-emulator", "any").await;
    let response = https_client(&b.emu)
        .put(format!("{}{id}?api-version=2021-09-01", b.emu.endpoint()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(
            json!({"location": "global", "properties": {"accessModeSettings": {
                "queryAccessMode": "Open", "ingestionAccessMode": "Open"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    id
}

/// Endpoint `name` in `vnet`'s subnet to `resource_id`'s group `group_id`, managed DNS in
/// `rg-dns`.
pub fn target_endpoint(
    name: &str,
    vnet: &str,
    resource_id: &str,
    group_id: &str,
) -> ArcPrivateEndpoint {
    let mut obj = endpoint(name, vnet, "unused");
    obj.spec.scope_ref = None;
    obj.spec.target = Some(EndpointTarget {
        resource_id: resource_id.to_string(),
        group_id: group_id.to_string(),
    });
    obj
}

/// What the controller gives an endpoint alone: its target, no other endpoint.
pub fn target_deps(obj: &ArcPrivateEndpoint) -> EndpointDeps {
    EndpointDeps {
        target: TargetSource::Resource(obj.spec.target.clone().unwrap()),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    }
}

pub fn zone_group(endpoint: &str) -> String {
    format!("{}/privateDnsZoneGroups/default", endpoint_id(endpoint))
}

/// The zone ids a zone group names, lower-cased and sorted.
pub fn group_zones(b: &Bed, endpoint: &str) -> Vec<String> {
    let group = b
        .admin
        .get(&zone_group(endpoint))
        .expect("zone group exists");
    let mut zones: Vec<String> = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["properties"]["privateDnsZoneId"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
        })
        .collect();
    zones.sort();
    zones
}

/// The private DNS zones in `rg-dns` by name, sorted.
pub fn zones_in_rg_dns(b: &Bed) -> Vec<String> {
    let prefix = zone_id("").to_ascii_lowercase();
    let mut names: Vec<String> = b.admin.dump()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter_map(|id| {
            id.to_ascii_lowercase()
                .strip_prefix(&prefix)
                .map(str::to_string)
        })
        .filter(|rest| !rest.contains('/'))
        .collect();
    names.sort();
    names
}
