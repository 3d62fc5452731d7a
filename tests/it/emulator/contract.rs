//! Replays every example under tests/azure-specs/**/examples against the emulator (with seeded
//! prerequisites) and checks the status code is one the example documents and that the response
//! has the example's fields with the same JSON types.

use std::path::{Path, PathBuf};

use arclink::emulator::{EmulatorConfig, Fixtures};
use serde_json::{Value, json};

use super::support::{Env, env_with};

const HC: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.HybridCompute";
const NET: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network";

/// Example file -> (method, path template below HC/NET, body parameter).
fn operation(file: &str) -> Option<(&'static str, String, Option<&'static str>)> {
    let scope = format!("{HC}/privateLinkScopes/{{scopeName}}");
    let pec = format!("{scope}/privateEndpointConnections/{{privateEndpointConnectionName}}");
    let pe = format!("{NET}/privateEndpoints/{{privateEndpointName}}");
    let zg = format!("{pe}/privateDnsZoneGroups/{{privateDnsZoneGroupName}}");
    let zone = format!("{NET}/privateDnsZones/{{privateZoneName}}");
    let link = format!("{zone}/virtualNetworkLinks/{{virtualNetworkLinkName}}");
    let rec = format!("{zone}/{{recordType}}/{{relativeRecordSetName}}");
    let nsg = format!("{NET}/networkSecurityGroups/{{networkSecurityGroupName}}");
    let rule = format!("{nsg}/securityRules/{{securityRuleName}}");
    let p = Some("parameters");
    Some(match file {
        "PrivateLinkScopes_Create.json" | "PrivateLinkScopes_Update.json" => ("PUT", scope, p),
        "PrivateLinkScopes_Get.json" => ("GET", scope, None),
        "PrivateLinkScopes_UpdateTagsOnly.json" => ("PATCH", scope, Some("PrivateLinkScopeTags")),
        "PrivateLinkScopes_Delete.json" => ("DELETE", scope, None),
        "PrivateLinkScopes_ListByResourceGroup.json" => {
            ("GET", format!("{HC}/privateLinkScopes"), None)
        }
        "PrivateEndpointConnection_Get.json" => ("GET", pec, None),
        "PrivateEndpointConnection_Update.json" => ("PUT", pec, p),
        "PrivateEndpointConnection_Delete.json" => ("DELETE", pec, None),
        "PrivateEndpointConnection_List.json" => {
            ("GET", format!("{scope}/privateEndpointConnections"), None)
        }
        "PrivateLinkScopePrivateLinkResource_Get.json" => (
            "GET",
            format!("{scope}/privateLinkResources/{{groupName}}"),
            None,
        ),
        "PrivateLinkScopePrivateLinkResource_ListGet.json" => {
            ("GET", format!("{scope}/privateLinkResources"), None)
        }
        "Machines_Get.json" => ("GET", format!("{HC}/machines/{{machineName}}"), None),
        "Machines_Update.json" => ("PATCH", format!("{HC}/machines/{{machineName}}"), p),
        "PrivateEndpointGet.json" | "PrivateEndpointGetForManualApproval.json" => ("GET", pe, None),
        "PrivateEndpointCreate.json" | "PrivateEndpointCreateForManualApproval.json" => {
            ("PUT", pe, p)
        }
        "PrivateEndpointDnsZoneGroupCreate.json" => ("PUT", zg, p),
        "PrivateEndpointDnsZoneGroupGet.json" => ("GET", zg, None),
        "PrivateEndpointDnsZoneGroupDelete.json" => ("DELETE", zg, None),
        "PrivateZonePut.json" => ("PUT", zone, p),
        "PrivateZoneGet.json" => ("GET", zone, None),
        "PrivateZonePatch.json" => ("PATCH", zone, p),
        "PrivateZoneDelete.json" => ("DELETE", zone, None),
        "VirtualNetworkLinkPut.json" => ("PUT", link, p),
        "VirtualNetworkLinkGet.json" => ("GET", link, None),
        "VirtualNetworkLinkPatch.json" => ("PATCH", link, p),
        "VirtualNetworkLinkDelete.json" => ("DELETE", link, None),
        "RecordSetAPut.json" => ("PUT", rec, p),
        "RecordSetAGet.json" => ("GET", rec, None),
        "RecordSetAPatch.json" => ("PATCH", rec, p),
        "RecordSetADelete.json" => ("DELETE", rec, None),
        "NetworkSecurityGroupGet.json" => ("GET", nsg, None),
        "NetworkSecurityGroupRuleCreate.json" => ("PUT", rule, Some("securityRuleParameters")),
        "NetworkSecurityGroupRuleGet.json" => ("GET", rule, None),
        "NetworkSecurityGroupRuleDelete.json" => ("DELETE", rule, None),
        "NetworkSecurityGroupRuleList.json" => ("GET", format!("{nsg}/securityRules"), None),
        "RecordSetALLList.json" => ("GET", format!("{zone}/ALL"), None),
        "PrivateZoneListInResourceGroup.json" => ("GET", format!("{NET}/privateDnsZones"), None),
        "PrivateZoneListInSubscription.json" => (
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateDnsZones".into(),
            None,
        ),
        "ResourceGroups_Get.json" => (
            "GET",
            "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}".into(),
            None,
        ),
        "GetSubscription.json" => ("GET", "/subscriptions/{subscriptionId}".into(), None),
        "GetSubscriptions.json" => ("GET", "/subscriptions".into(), None),
        "GetTenants.json" => ("GET", "/tenants".into(), None),
        "GetProvider.json" => (
            "GET",
            "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}".into(),
            None,
        ),
        _ => return None,
    })
}

/// Examples of operations the emulator deliberately does not serve: machines are created and
/// deleted by the Connected Machine agent, not by arclink; machine validation is out of scope.
const NOT_SERVED: &[&str] = &[
    "Machines_CreateOrUpdate.json",
    "Machines_Delete.json",
    "PrivateLinkScopes_GetValidationForMachine.json",
];

/// Fields shown in examples that the emulator does not model (see the emulator's module docs).
const UNMODELLED: &[&str] = &[
    // Machine inventory beyond what the emulator renders from the Machines_Get example.
    "properties.cloudMetadata",
    "properties.agentUpgrade",
    "properties.osInstallDate",
    "properties.productFeatures",
    "properties.extensions",
    "properties.parentClusterResourceId",
    "properties.privateLinkScopeResourceId",
    "identity",
    "resources",
    "kind",
    // Network extras not modelled; the NIC name is echoed only when sent.
    "extendedLocation",
    "properties.ipVersionType",
    "properties.customNetworkInterfaceName",
    // Present only when there is a further page.
    "nextLink",
    // Edge zones of a provider's resource types.
    "locationMappings",
];

/// The example's provider (`Microsoft.TestRP1`) is replayed as one the emulator serves.
const SERVED_PROVIDER: &str = "Microsoft.HybridCompute";

/// Examples of lists outside a resource group, or of record sets of every type: what they list
/// is seeded here (the generic replay seeds one child named `seed`).
async fn seed_catalog(env: &Env, name: &str, id: &str) -> bool {
    let sub = seg(id, 2);
    let zone_in = |rg: &str| {
        format!(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/seed.zone"
        )
    };
    match name {
        "GetSubscriptions.json" | "GetTenants.json" => ensure_rg(env, "seed-sub", "seed-rg"),
        "GetSubscription.json" | "GetProvider.json" => ensure_rg(env, &sub, "seed-rg"),
        "ResourceGroups_Get.json" => ensure_rg(env, &sub, &seg(id, 4)),
        "PrivateZoneListInSubscription.json" => {
            ensure(env, &zone_in("seed-rg")).await;
        }
        "PrivateZoneListInResourceGroup.json" => {
            ensure(env, &zone_in(&seg(id, 4))).await;
        }
        "RecordSetALLList.json" => {
            ensure(env, &format!("{}/A/seed", id.trim_end_matches("/ALL"))).await;
        }
        _ => return false,
    }
    true
}

/// Free-form user maps: only their type is compared (their keys are whatever the caller sent).
const USER_MAPS: &[&str] = &["tags", "metadata"];

fn unmodelled(path: &str) -> bool {
    UNMODELLED
        .iter()
        .any(|u| path == *u || path.ends_with(&format!(".{u}")))
}

/// The specs kept in this repository (tests/azure-specs/SOURCES.md names their sources).
fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/azure-specs")
}

fn examples(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            examples(&p, out);
        } else if p.extension().is_some_and(|x| x == "json")
            && p.components().any(|c| c.as_os_str() == "examples")
        {
            out.push(p);
        }
    }
}

fn fill(template: &str, params: &Value) -> String {
    let mut s = template.to_string();
    if let Some(o) = params.as_object() {
        for (k, v) in o {
            if let Some(v) = v.as_str() {
                s = s.replace(&format!("{{{k}}}"), v);
            }
        }
    }
    s
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field of `expected` must be in `actual` with the same JSON type.
fn compare(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    if unmodelled(path) {
        return;
    }
    if json_type(expected) != json_type(actual) && !expected.is_null() {
        errors.push(format!(
            "{path}: expected {} got {}",
            json_type(expected),
            json_type(actual)
        ));
        return;
    }
    let last = path.rsplit('.').next().unwrap_or_default();
    match (expected, actual) {
        (Value::Object(_), Value::Object(_)) if USER_MAPS.contains(&last) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match a.get(k) {
                    Some(av) => compare(ev, av, &p, errors),
                    None if unmodelled(&p) => {}
                    None => errors.push(format!("{p}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(e0), Some(a0)) = (e.first(), a.first()) {
                compare(e0, a0, path, errors);
            }
        }
        _ => {}
    }
}

fn seg(id: &str, i: usize) -> String {
    id.split('/').nth(i).unwrap_or_default().to_string()
}

fn load(env: &Env, yaml: String) {
    env.emu
        .admin()
        .load_fixtures(&Fixtures::from_yaml(&yaml).unwrap())
        .unwrap();
}

fn ensure_rg(env: &Env, sub: &str, rg: &str) {
    load(
        env,
        format!("resourceGroups: [{{subscriptionId: '{sub}', name: '{rg}', location: westus}}]"),
    );
}

/// Makes sure the resource `id` exists (creating what it needs first); returns its actual id,
/// which differs from `id` where the service names the resource (endpoint connections).
async fn ensure(env: &Env, id: &str) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    let (sub, rg) = (parts[2], parts[4]);
    ensure_rg(env, sub, rg);
    let rg_id = format!("/subscriptions/{sub}/resourceGroups/{rg}");
    let types: Vec<String> = parts[7..]
        .iter()
        .step_by(2)
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let key = format!("{}/{}", parts[6].to_ascii_lowercase(), types.join("/"));
    if env.emu.admin().get(id).is_some()
        && key != "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections"
    {
        return id.to_string();
    }
    let wait = |r: super::support::Resp| async move {
        if let Some(u) = r.header("azure-asyncoperation").or(r.header("location")) {
            env.wait(&u).await;
        }
    };
    match key.as_str() {
        "microsoft.hybridcompute/privatelinkscopes" => {
            let r = env
                .put(
                    &format!("{id}?api-version=2024-07-10"),
                    json!({"location": "westus"}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
        }
        "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections" => {
            let scope = parts[..9].join("/");
            Box::pin(ensure(env, &scope)).await;
            let subnet = format!(
                "{rg_id}/providers/Microsoft.Network/virtualNetworks/seed-vnet/subnets/seed-subnet"
            );
            Box::pin(ensure(env, &subnet)).await;
            let pe = format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/seed-pe");
            let r = env
                .put(&format!("{pe}?api-version=2024-05-01"), json!({"location": "westus", "properties": {"subnet": {"id": subnet},
                    "manualPrivateLinkServiceConnections": [{"name": "seed", "properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"]}}]}}))
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
            let list = env
                .get(&format!(
                    "{scope}/privateEndpointConnections?api-version=2024-07-10"
                ))
                .await;
            return list.body["value"][0]["id"].as_str().unwrap().to_string();
        }
        "microsoft.hybridcompute/machines" => load(
            env,
            format!(
                "machines: [{{subscriptionId: '{sub}', resourceGroup: '{rg}', name: '{}', location: westus}}]",
                parts[8]
            ),
        ),
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
            let subnet = format!(
                "{rg_id}/providers/Microsoft.Network/virtualNetworks/seed-vnet/subnets/seed-subnet"
            );
            Box::pin(ensure(env, &subnet)).await;
            let r = env
                .put(
                    &format!("{id}?api-version=2024-05-01"),
                    json!({"location": "westus", "properties": {"subnet": {"id": subnet}}}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
        }
        "microsoft.network/privateendpoints/privatednszonegroups" => {
            Box::pin(ensure(env, &parts[..9].join("/"))).await;
            let zone = format!("{rg_id}/providers/Microsoft.Network/privateDnsZones/seed.zone");
            Box::pin(ensure(env, &zone)).await;
            let r = env
                .put(&format!("{id}?api-version=2024-05-01"), json!({"properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {"privateDnsZoneId": zone}}]}}))
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
        }
        "microsoft.network/privatednszones" => {
            let r = env
                .put(
                    &format!("{id}?api-version=2024-06-01"),
                    json!({"location": "global"}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
        }
        "microsoft.network/privatednszones/virtualnetworklinks" => {
            Box::pin(ensure(env, &parts[..9].join("/"))).await;
            let vnet = format!("{rg_id}/providers/Microsoft.Network/virtualNetworks/seed-vnet");
            Box::pin(ensure(env, &vnet)).await;
            let r = env
                .put(
                    &format!("{id}?api-version=2024-06-01"),
                    json!({"location": "global", "properties": {"virtualNetwork": {"id": vnet}}}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
        }
        "microsoft.network/privatednszones/a" => {
            Box::pin(ensure(env, &parts[..9].join("/"))).await;
            let r = env
                .put(
                    &format!("{id}?api-version=2024-06-01"),
                    json!({"properties": {"ttl": 60, "aRecords": [{"ipv4Address": "10.1.1.1"}]}}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
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
            Box::pin(ensure(env, &parts[..9].join("/"))).await;
            let r = env
                .put(
                    &format!("{id}?api-version=2025-07-01"),
                    json!({"properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "80",
                        "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow",
                        "priority": 4000, "direction": "Inbound"}}),
                )
                .await;
            assert!(r.status < 300, "{:?}", r.body);
            wait(r).await;
        }
        other => panic!("no seeding rule for {other}"),
    }
    id.to_string()
}

/// Resources the request body points at.
fn referenced_ids(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = body["properties"]["subnet"]["id"].as_str() {
        out.push(s.to_string());
    }
    if let Some(s) = body["properties"]["virtualNetwork"]["id"].as_str() {
        out.push(s.to_string());
    }
    for c in body["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(s) = c["properties"]["privateDnsZoneId"].as_str() {
            out.push(s.to_string());
        }
    }
    out
}

async fn replay(file: &Path) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let ex: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let (method, template, body_param) =
        operation(&name).ok_or_else(|| format!("{name}: no operation mapping"))?;
    let params = &ex["parameters"];
    let env = env_with(EmulatorConfig {
        throttling: None,
        ..Default::default()
    })
    .await;
    let id = fill(&template, params).replace("Microsoft.TestRP1", SERVED_PROVIDER);
    let api = params["api-version"].as_str().unwrap();
    let body = body_param.map(|p| params[p].clone());
    let is_list = id.split('/').count().is_multiple_of(2);
    let target = if seed_catalog(&env, &name, &id).await {
        id.clone()
    } else if is_list {
        // A list needs something to list: the scope for its link resources, else one child.
        if name.starts_with("PrivateLinkScopePrivateLinkResource") {
            ensure(&env, id.trim_end_matches("/privateLinkResources")).await;
        } else {
            ensure(&env, &format!("{id}/seed")).await;
        }
        id.clone()
    } else if method == "PUT"
        && !name.contains("PrivateEndpointConnection")
        && !name.contains("PrivateLinkScopes_Update")
    {
        let parent_depth = if id.split('/').count() > 9 { 9 } else { 5 };
        let parent = id
            .split('/')
            .take(parent_depth)
            .collect::<Vec<_>>()
            .join("/");
        if parent_depth == 9 {
            ensure(&env, &parent).await;
        } else {
            ensure_rg(&env, &seg(&id, 2), &seg(&id, 4));
        }
        for r in referenced_ids(body.as_ref().unwrap_or(&Value::Null)) {
            ensure(&env, &r).await;
        }
        id.clone()
    } else if name.starts_with("PrivateLinkScopePrivateLinkResource") {
        ensure(&env, id.split("/privateLinkResources").next().unwrap()).await;
        id.clone()
    } else if name == "PrivateLinkScopes_Update.json" {
        let loc = body
            .as_ref()
            .and_then(|b| b["location"].as_str())
            .unwrap_or("westus");
        ensure_rg(&env, &seg(&id, 2), &seg(&id, 4));
        let r = env
            .put(&format!("{id}?api-version={api}"), json!({"location": loc}))
            .await;
        assert!(r.status < 300);
        id.clone()
    } else {
        ensure(&env, &id).await
    };
    let r = env
        .call(method, &format!("{target}?api-version={api}"), body)
        .await;
    let documented = &ex["responses"];
    let status = r.status.to_string();
    if documented.get(&status).is_none() {
        return Err(format!(
            "{name}: {method} {target} answered {status}, documented {:?}: {}",
            documented.as_object().unwrap().keys().collect::<Vec<_>>(),
            r.body
        ));
    }
    let mut errors = Vec::new();
    if let Some(expected) = documented[&status].get("body") {
        compare(expected, &r.body, "", &mut errors);
    }
    // For a started operation, check the final resource against the example's 200 body.
    if let Some(url) = r.header("azure-asyncoperation").or(r.header("location")) {
        let done = env.wait(&url).await;
        if method != "DELETE"
            && let Some(expected) = documented.get("200").and_then(|d| d.get("body"))
        {
            let now = env.get(&format!("{target}?api-version={api}")).await;
            compare(expected, &now.body, "", &mut errors);
            if done.status >= 300 {
                errors.push(format!("operation ended with {}", done.status));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}", errors.join("; ")))
    }
}

#[tokio::test]
async fn every_spec_example_replays_against_the_emulator() {
    let mut files = Vec::new();
    examples(&specs_dir(), &mut files);
    files.sort();
    assert!(files.len() >= 35, "found only {} examples", files.len());
    let mut failures = Vec::new();
    let mut replayed = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if NOT_SERVED.contains(&name.as_str()) {
            continue;
        }
        replayed += 1;
        if let Err(e) = replay(f).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
