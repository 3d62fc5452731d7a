//! Replays every example under tests/azure-specs/**/examples against the emulator (with seeded
//! prerequisites) and checks the status code is one the example documents and that the response
//! has the example's fields with the same JSON types.

mod operations;
mod seeding;

use std::path::{Path, PathBuf};

use arclink::emulator::EmulatorConfig;
use serde_json::{Value, json};

use super::support::{Env, env_with};
use operations::{Op, operation};
use seeding::{ensure, ensure_link, ensure_management_group, ensure_rg, referenced_ids, type_key};

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
    // Companion targets are seeded with the properties arclink reads: a vault's managed HSM
    // pool, a workspace's replication and failover, a storage account's routing preference
    // (and the endpoints it publishes) are left out.
    "properties.hsmPoolResourceId",
    "properties.replication",
    "properties.failover",
    "properties.routingPreference",
    "properties.primaryEndpoints.internetEndpoints",
    "properties.primaryEndpoints.microsoftEndpoints",
    "properties.geoPriorityReplicationStatus",
];

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

/// The first folder below tests/azure-specs; for `resources`, its namespace's
/// (`authorization`, `resources`).
fn service_of(file: &Path) -> String {
    let rel = file.strip_prefix(specs_dir()).unwrap();
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    match parts[0].as_str() {
        "resources" => parts[2]
            .trim_start_matches("Microsoft.")
            .to_ascii_lowercase(),
        first => first.to_string(),
    }
}

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

fn seg(id: &str, i: usize) -> String {
    id.split('/').nth(i).unwrap_or_default().to_string()
}

/// The resource a resource belongs to: the one an extension resource extends, else its parent.
fn owner(id: &str) -> String {
    let at = id.rfind("/providers/").unwrap_or_default();
    if id[..at].contains("/providers/") {
        id[..at].to_string()
    } else {
        id.rsplitn(3, '/').nth(2).unwrap_or_default().to_string()
    }
}

/// Creates what the example's request needs; returns the URL path it is sent to.
async fn prepare(env: &Env, name: &str, op: &Op, id: &str, body: Option<&mut Value>) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    if op.is_list() {
        // A list needs something to list.
        if let Some(target) = id.strip_suffix("/privateLinkResources") {
            ensure(env, target).await;
        } else if parts[1] == "subscriptions" && parts[3] == "providers" {
            ensure(
                env,
                &format!(
                    "/subscriptions/{}/resourceGroups/seed-rg/providers/{}/{}/seed",
                    parts[2], parts[4], parts[5]
                ),
            )
            .await;
        } else if parts[1] == "providers" {
            ensure(env, &format!("{id}/00000000-0000-0000-0000-000000000001")).await;
        } else {
            ensure(env, &format!("{id}/seed")).await;
        }
        return id.to_string();
    }
    let key = type_key(id);
    match name {
        "privateLinkScopeOperationStatuses.json" => {
            // The status of a scoped-resource operation that ran.
            let rg = parts[..5].join("/");
            let scoped = format!(
                "{rg}/providers/Microsoft.Insights/privateLinkScopes/seed-scope/scopedResources/s"
            );
            ensure(env, &owner(&scoped)).await;
            let ws = format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/seed-ws");
            ensure(env, &ws).await;
            let r = env
                .put(
                    &format!("{scoped}?api-version=2021-09-01"),
                    json!({"properties": {"linkedResourceId": ws}}),
                )
                .await;
            let location = r.header("location").unwrap();
            env.wait(&location).await;
            let url = location.split('?').next().unwrap().to_string();
            return url.trim_start_matches(&env.emu.endpoint()).to_string();
        }
        "PutPrivateLinkAssociation.json" => {
            // The example's `privateLink` is a placeholder GUID, not a resource id
            // (reference/companion-endpoints.md 5.4): it is pointed at a real link.
            ensure_management_group(env, parts[4]);
            let link = ensure_link(env).await;
            if let Some(b) = body {
                b["properties"]["privateLink"] = json!(link);
            }
            return id.to_string();
        }
        "PrivateLinkScopes_Update.json" => {
            let loc = body
                .as_ref()
                .and_then(|b| b["location"].as_str())
                .unwrap_or("westus")
                .to_string();
            ensure_rg(env, parts[2], parts[4]);
            let r = env
                .put(
                    &format!("{id}?api-version=2024-07-10"),
                    json!({"location": loc}),
                )
                .await;
            assert!(r.status < 300);
            return id.to_string();
        }
        _ => {}
    }
    if id.contains("/privateLinkResources/") {
        ensure(env, id.split("/privateLinkResources").next().unwrap()).await;
        id.to_string()
    } else if op.method == "PUT" && !key.ends_with("/privateendpointconnections") {
        if parts[1] == "providers" {
            ensure_management_group(env, parts[4]);
        } else if parts.len() > 9 {
            ensure(env, &owner(id)).await;
        } else {
            ensure_rg(env, parts[2], parts[4]);
        }
        for r in referenced_ids(body.map(|b| &*b).unwrap_or(&Value::Null)) {
            ensure(env, &r).await;
        }
        id.to_string()
    } else {
        ensure(env, id).await
    }
}

async fn replay(file: &Path) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let ex: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let op = operation(&service_of(file), &name)
        .ok_or_else(|| format!("{name}: no operation mapping"))?;
    let mut params = ex["parameters"].clone();
    // The emulator serves data collection rule associations on Arc machines: the examples'
    // virtual machine becomes a machine of the same name.
    if let Some(uri) = params["resourceUri"].as_str() {
        params["resourceUri"] = json!(uri.replace(
            "Microsoft.Compute/virtualMachines",
            "Microsoft.HybridCompute/machines"
        ));
    }
    let env = env_with(EmulatorConfig {
        throttling: None,
        ..Default::default()
    })
    .await;
    let id = fill(&op.template, &params).replace("Microsoft.TestRP1", SERVED_PROVIDER);
    let api = params["api-version"].as_str().unwrap();
    let mut body = op.body.map(|p| params[p].clone());
    let target = if seed_catalog(&env, &name, &id).await {
        id.clone()
    } else {
        prepare(&env, &name, &op, &id, body.as_mut()).await
    };
    let method = op.method;
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
    assert!(files.len() >= 95, "found only {} examples", files.len());
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
