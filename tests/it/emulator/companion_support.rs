//! Fixtures and helpers of the companion services' suites: seeded targets, Azure Monitor scopes
//! and private endpoints to any target.

use arclink::emulator::{EmulatorConfig, Fixtures};
use serde_json::{Value, json};

pub use super::support::*;

pub const INSIGHTS: &str = "2021-09-01";
pub const DATA_COLLECTION: &str = "2024-03-11";
pub const PRIVATE_LINKS: &str = "2020-05-01";
pub const KEY_VAULT: &str = "2026-04-01";
pub const STORAGE: &str = "2025-06-01";
pub const AUTOMATION: &str = "2024-10-23";
pub const WORKSPACES: &str = "2026-03-01";

/// The workspace id (`customerId`) of `ws1`.
pub const WORKSPACE_ID: &str = "5b02755b-5bf4-430c-9487-45502a2a7e62";

/// Companion targets in `rg1` (westeurope), and management groups `root` > `child` with the
/// test principal (`app`) Owner at `root` and principal `reader` Reader there.
const COMPANIONS: &str = r#"
keyVaults:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: kv1, location: westeurope}
storageAccounts:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: st1, location: westeurope}
  - {subscriptionId: $SUB, resourceGroup: rg1, name: stgrs, location: westeurope, sku: Standard_RAGRS}
automationAccounts:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: aa1, location: westeurope}
logAnalyticsWorkspaces:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: ws1, location: westeurope, properties: {customerId: 5b02755b-5bf4-430c-9487-45502a2a7e62}}
dataCollectionEndpoints:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: dce1, location: westeurope}
  - {subscriptionId: $SUB, resourceGroup: rg1, name: dce-east, location: eastus}
managementGroups:
  - {name: root, displayName: Tenant Root Group, tenantId: 00000000-0000-0000-0000-0000000000aa}
  - {name: child, parent: root}
  - {name: other}
roleAssignments:
  - {principalId: app, role: Owner, scope: /providers/Microsoft.Management/managementGroups/root}
"#;

pub async fn companion_env_with(config: EmulatorConfig) -> Env {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        ..config
    })
    .await;
    let extra = Fixtures::from_yaml(&COMPANIONS.replace("$SUB", SUB)).unwrap();
    env.emu.admin().load_fixtures(&extra).unwrap();
    env
}

pub async fn companion_env() -> Env {
    companion_env_with(EmulatorConfig::default()).await
}

/// A resource path in `rg1` below `providers/`.
pub fn rg1(path: &str) -> String {
    format!("{}/providers/{path}", rg_path("rg1"))
}

pub fn monitor_scope_path(name: &str) -> String {
    rg1(&format!("Microsoft.Insights/privateLinkScopes/{name}"))
}

pub fn workspace_id() -> String {
    rg1("Microsoft.OperationalInsights/workspaces/ws1")
}

pub fn dce_id(name: &str) -> String {
    rg1(&format!(
        "Microsoft.Insights/dataCollectionEndpoints/{name}"
    ))
}

/// Creates Azure Monitor scope `name` (access modes `Open`); returns its id.
pub async fn put_monitor_scope(env: &Env, name: &str) -> String {
    let r = env
        .put(
            &format!("{}?api-version={INSIGHTS}", monitor_scope_path(name)),
            json!({"location": "global", "properties": {"accessModeSettings": {"queryAccessMode": "Open", "ingestionAccessMode": "Open"}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Links `linked` to scope `scope` as scoped resource `name` and waits for its operation.
pub async fn link(env: &Env, scope: &str, name: &str, linked: &str) -> Resp {
    let r = env
        .put(
            &format!(
                "{}/scopedResources/{name}?api-version={INSIGHTS}",
                monitor_scope_path(scope)
            ),
            json!({"properties": {"linkedResourceId": linked}}),
        )
        .await;
    if let Some(location) = r.header("location") {
        env.wait(&location).await;
    }
    r
}

pub fn endpoint_path(name: &str) -> String {
    net(&format!("privateEndpoints/{name}"))
}

/// A private endpoint body in subnet `endpoints` with one automatic connection.
pub fn endpoint_body(target: &str, groups: Value, extra: Value) -> Value {
    let mut body = json!({
        "location": "westeurope",
        "properties": {
            "subnet": {"id": net("virtualNetworks/vnet1/subnets/endpoints")},
            "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": target, "groupIds": groups}}],
        }
    });
    if let (Some(p), Some(e)) = (body["properties"].as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    body
}

/// PUTs a private endpoint and waits for it; returns the endpoint as GET shows it.
pub async fn put_endpoint(env: &Env, name: &str, body: Value) -> Value {
    let url = format!("{}?api-version={NET}", endpoint_path(name));
    let r = env.put(&url, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    env.get(&url).await.body
}

/// The `customDnsConfigs` of an endpoint as (fqdn, first address).
pub fn dns_names(endpoint: &Value) -> Vec<(String, String)> {
    endpoint["properties"]["customDnsConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["fqdn"].as_str().unwrap().to_string(),
                c["ipAddresses"][0].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn assert_refused(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{:?}", r.body);
}
