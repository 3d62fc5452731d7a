//! What an example needs to exist before it is replayed, created through ARM or seeded as
//! fixtures the way arclink would find it in Azure.

use arclink::emulator::Fixtures;
use serde_json::{Value, json};

use super::super::support::{Env, Resp};

pub fn load(env: &Env, yaml: String) {
    env.emu
        .admin()
        .load_fixtures(&Fixtures::from_yaml(&yaml).unwrap())
        .unwrap();
}

pub fn ensure_rg(env: &Env, sub: &str, rg: &str) {
    load(
        env,
        format!("resourceGroups: [{{subscriptionId: '{sub}', name: '{rg}', location: westus}}]"),
    );
}

/// A management group whose Owner is the test's principal (`app`).
pub fn ensure_management_group(env: &Env, group: &str) {
    load(
        env,
        format!(
            "managementGroups: [{{name: '{group}'}}]\nroleAssignments: [{{principalId: app, role: Owner, scope: '/providers/Microsoft.Management/managementGroups/{group}'}}]"
        ),
    );
}

/// The lower-cased type of an id (an extension resource's own; `mg:` for one at a management
/// group).
pub fn type_key(id: &str) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    if id
        .to_ascii_lowercase()
        .starts_with("/providers/microsoft.management/managementgroups/")
    {
        return format!("mg:{}/{}", parts[6], parts[7]).to_ascii_lowercase();
    }
    let mut ns = parts[6];
    let mut types = Vec::new();
    for pair in parts[7..].chunks(2) {
        if pair[0].eq_ignore_ascii_case("providers") {
            ns = pair.get(1).copied().unwrap_or_default();
            types.clear();
        } else {
            types.push(pair[0]);
        }
    }
    format!("{ns}/{}", types.join("/")).to_ascii_lowercase()
}

async fn wait(env: &Env, r: &Resp) {
    if let Some(u) = r.header("azure-asyncoperation").or(r.header("location")) {
        env.wait(&u).await;
    }
}

async fn put_ok(env: &Env, url: &str, body: Value) -> Resp {
    let r = env.put(url, body).await;
    assert!(r.status < 300, "PUT {url}: {:?}", r.body);
    wait(env, &r).await;
    r
}

/// The group a seeding endpoint connects to, per target type.
fn group_of(target_type: &str) -> &'static str {
    match target_type {
        "microsoft.insights/privatelinkscopes" => "azuremonitor",
        "microsoft.keyvault/vaults" => "vault",
        "microsoft.storage/storageaccounts" => "blob",
        "microsoft.automation/automationaccounts" => "Webhook",
        _ => "hybridcompute",
    }
}

/// Seeds a resource the fixtures know how to describe.
fn seed(env: &Env, list: &str, sub: &str, rg: &str, name: &str, extra: &str) {
    load(
        env,
        format!(
            "{list}: [{{subscriptionId: '{sub}', resourceGroup: '{rg}', name: '{name}', location: westus{extra}}}]"
        ),
    );
}

/// Makes sure the resource `id` exists (creating what it needs first); returns its actual id,
/// which differs from `id` where the service names the resource (endpoint connections).
pub async fn ensure(env: &Env, id: &str) -> String {
    let key = type_key(id);
    let parts: Vec<&str> = id.split('/').collect();
    let is_connection = key.ends_with("/privateendpointconnections");
    if env.emu.admin().get(id).is_some() && !is_connection {
        return id.to_string();
    }
    if let Some(kind) = key.strip_prefix("mg:") {
        assert_eq!(kind, "microsoft.authorization/privatelinkassociations");
        ensure_management_group(env, parts[4]);
        let link = ensure_link(env).await;
        put_ok(
            env,
            &format!("{id}?api-version=2020-05-01"),
            json!({"properties": {"privateLink": link, "publicNetworkAccess": "Enabled"}}),
        )
        .await;
        return id.to_string();
    }
    let (sub, rg) = (parts[2], parts[4]);
    ensure_rg(env, sub, rg);
    let rg_id = format!("/subscriptions/{sub}/resourceGroups/{rg}");
    let subnet = format!(
        "{rg_id}/providers/Microsoft.Network/virtualNetworks/seed-vnet/subnets/seed-subnet"
    );
    let parent = parts[..parts.len() - 2].join("/");
    match key.as_str() {
        "microsoft.hybridcompute/privatelinkscopes" => {
            put_ok(
                env,
                &format!("{id}?api-version=2024-07-10"),
                json!({"location": "westus"}),
            )
            .await;
        }
        "microsoft.insights/privatelinkscopes" => {
            put_ok(
                env,
                &format!("{id}?api-version=2021-09-01"),
                json!({"location": "global", "properties": {"accessModeSettings": {"queryAccessMode": "Open", "ingestionAccessMode": "Open"}}}),
            )
            .await;
        }
        "microsoft.insights/privatelinkscopes/scopedresources" => {
            Box::pin(ensure(env, &parent)).await;
            let ws = format!(
                "{rg_id}/providers/Microsoft.OperationalInsights/workspaces/seed-{}",
                parts[parts.len() - 1]
            );
            Box::pin(ensure(env, &ws)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2021-09-01"),
                json!({"properties": {"linkedResourceId": ws}}),
            )
            .await;
        }
        k if k.ends_with("/privateendpointconnections") => {
            Box::pin(ensure(env, &parent)).await;
            Box::pin(ensure(env, &subnet)).await;
            let pe = format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/seed-pe");
            let group = group_of(&type_key(&parent));
            put_ok(env, &format!("{pe}?api-version=2024-05-01"), json!({"location": "westus", "properties": {"subnet": {"id": subnet},
                "manualPrivateLinkServiceConnections": [{"name": "seed", "properties": {"privateLinkServiceId": parent, "groupIds": [group]}}]}}))
            .await;
            let list = env
                .get(&format!(
                    "{parent}/privateEndpointConnections?api-version={}",
                    api_of(&key)
                ))
                .await;
            return list.body["value"][0]["id"].as_str().unwrap().to_string();
        }
        "microsoft.hybridcompute/machines" => seed(env, "machines", sub, rg, parts[8], ""),
        "microsoft.keyvault/vaults" => seed(env, "keyVaults", sub, rg, parts[8], ""),
        "microsoft.storage/storageaccounts" => seed(
            env,
            "storageAccounts",
            sub,
            rg,
            parts[8],
            ", sku: Standard_RAGRS",
        ),
        "microsoft.automation/automationaccounts" => {
            seed(env, "automationAccounts", sub, rg, parts[8], "")
        }
        "microsoft.operationalinsights/workspaces" => {
            seed(env, "logAnalyticsWorkspaces", sub, rg, parts[8], "")
        }
        "microsoft.insights/datacollectionendpoints" => {
            seed(env, "dataCollectionEndpoints", sub, rg, parts[8], "")
        }
        // Application Insights components are not modelled: a scoped resource takes them as
        // they are.
        "microsoft.insights/components" => {}
        "microsoft.insights/datacollectionruleassociations" => {
            let machine = id.split("/providers/Microsoft.Insights").next().unwrap();
            Box::pin(ensure(env, machine)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2024-03-11"),
                json!({"properties": {"dataCollectionRuleId": format!("{rg_id}/providers/Microsoft.Insights/dataCollectionRules/seed")}}),
            )
            .await;
        }
        "microsoft.authorization/resourcemanagementprivatelinks" => {
            put_ok(
                env,
                &format!("{id}?api-version=2020-05-01"),
                json!({"location": "westus"}),
            )
            .await;
        }
        "microsoft.network/virtualnetworks" | "microsoft.network/virtualnetworks/subnets" => {
            let subnet = parts.get(10).copied().unwrap_or("default");
            load(
                env,
                format!(
                    "virtualNetworks: [{{subscriptionId: '{sub}', resourceGroup: '{rg}', name: '{}', location: westus, addressPrefixes: [192.168.0.0/16], subnets: [{{name: '{subnet}', addressPrefix: 192.168.0.0/24}}]}}]",
                    parts[8]
                ),
            )
        }
        "microsoft.network/privateendpoints" => {
            Box::pin(ensure(env, &subnet)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2024-05-01"),
                json!({"location": "westus", "properties": {"subnet": {"id": subnet}}}),
            )
            .await;
        }
        "microsoft.network/privateendpoints/privatednszonegroups" => {
            Box::pin(ensure(env, &parent)).await;
            let zone = format!("{rg_id}/providers/Microsoft.Network/privateDnsZones/seed.zone");
            Box::pin(ensure(env, &zone)).await;
            put_ok(env, &format!("{id}?api-version=2024-05-01"), json!({"properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {"privateDnsZoneId": zone}}]}}))
            .await;
        }
        "microsoft.network/privatednszones" => {
            put_ok(
                env,
                &format!("{id}?api-version=2024-06-01"),
                json!({"location": "global"}),
            )
            .await;
        }
        "microsoft.network/privatednszones/virtualnetworklinks" => {
            Box::pin(ensure(env, &parent)).await;
            let vnet = format!("{rg_id}/providers/Microsoft.Network/virtualNetworks/seed-vnet");
            Box::pin(ensure(env, &vnet)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2024-06-01"),
                json!({"location": "global", "properties": {"virtualNetwork": {"id": vnet}}}),
            )
            .await;
        }
        "microsoft.network/privatednszones/a" => {
            Box::pin(ensure(env, &parent)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2024-06-01"),
                json!({"properties": {"ttl": 60, "aRecords": [{"ipv4Address": "10.1.1.1"}]}}),
            )
            .await;
        }
        // Network security groups are seeded (arclink never creates one); rules are PUT.
        "microsoft.network/networksecuritygroups" => load(
            env,
            format!(
                "networkSecurityGroups: [{{subscriptionId: '{sub}', resourceGroup: '{rg}', name: '{}', location: westus}}]",
                parts[8]
            ),
        ),
        "microsoft.network/networksecuritygroups/securityrules" => {
            Box::pin(ensure(env, &parent)).await;
            put_ok(
                env,
                &format!("{id}?api-version=2025-07-01"),
                json!({"properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "80",
                    "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow",
                    "priority": 4000, "direction": "Inbound"}}),
            )
            .await;
        }
        other => panic!("no seeding rule for {other}"),
    }
    id.to_string()
}

/// The api-version to list a target's connections with.
fn api_of(connection_type: &str) -> &'static str {
    match connection_type.split('/').next().unwrap_or_default() {
        "microsoft.insights" => "2021-09-01",
        "microsoft.keyvault" => "2026-04-01",
        "microsoft.storage" => "2025-06-01",
        "microsoft.automation" => "2024-10-23",
        _ => "2024-07-10",
    }
}

/// A resource management private link for associations to point at.
pub async fn ensure_link(env: &Env) -> String {
    let sub = "00000000-0000-0000-0000-0000000000aa";
    ensure_rg(env, sub, "seed-links");
    let id = format!(
        "/subscriptions/{sub}/resourceGroups/seed-links/providers/Microsoft.Authorization/resourceManagementPrivateLinks/seed-link"
    );
    Box::pin(ensure(env, &id)).await
}

/// Resources the request body points at.
pub fn referenced_ids(body: &Value) -> Vec<String> {
    let p = &body["properties"];
    let mut out: Vec<String> = [
        &p["subnet"]["id"],
        &p["virtualNetwork"]["id"],
        &p["dataCollectionEndpointId"],
        &p["linkedResourceId"],
    ]
    .into_iter()
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect();
    for c in p["privateDnsZoneConfigs"].as_array().into_iter().flatten() {
        if let Some(s) = c["properties"]["privateDnsZoneId"].as_str() {
            out.push(s.to_string());
        }
    }
    out
}
