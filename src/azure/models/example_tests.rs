//! Every relevant request/response example of the saved ARM specs deserialises into its model and
//! serialises back to the same JSON (nothing lost, nothing invented).

use super::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The specs kept in this repository (tests/azure-specs/SOURCES.md names their sources).
fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/azure-specs")
}

fn examples() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json")
                && path.components().any(|c| c.as_os_str() == "examples")
            {
                out.push(path);
            }
        }
    }
    // The services these models cover; the companion services' examples are the emulator's.
    let mut out = Vec::new();
    for service in ["hybridcompute", "network", "privatedns"] {
        let dir = specs_dir().join(service);
        if dir.is_dir() {
            walk(&dir, &mut out);
        }
    }
    out.sort();
    out
}

/// Request and response bodies of one example file; list responses are split into items.
fn bodies(example: &Value, is_delete: bool) -> Vec<Value> {
    let mut out = Vec::new();
    // Some delete examples carry an unrelated `parameters` object; deletes have no body.
    if let Some(p) = example["parameters"]
        .get("parameters")
        .filter(|_| !is_delete)
    {
        out.push(p.clone());
    }
    if let Some(responses) = example["responses"].as_object() {
        for r in responses.values() {
            match r.get("body") {
                Some(Value::Object(b)) if b.contains_key("value") => {
                    out.extend(b["value"].as_array().cloned().unwrap_or_default());
                }
                Some(b @ Value::Object(_)) => out.push(b.clone()),
                _ => {}
            }
        }
    }
    out
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(file: &Path, body: &Value) -> T {
    let typed: T = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{}: {e}\n{body:#}", file.display()));
    let back = serde_json::to_value(&typed).unwrap();
    // A typed field that is `null` on the wire comes back absent; both mean "no value".
    assert_eq!(
        without_nulls(&back),
        without_nulls(body),
        "{} does not round-trip",
        file.display()
    );
    typed
}

#[test]
fn every_relevant_example_round_trips() {
    let mut checked = 0;
    let mut files = 0;
    for file in examples() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let example: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let bodies = bodies(&example, name.contains("Delete"));
        let before = checked;
        for body in &bodies {
            // Field checks apply to responses (they carry an id); request bodies may be partial.
            let response = body.get("id").is_some();
            if name.starts_with("PrivateLinkScopes_") && !name.contains("Validation") {
                let scope: PrivateLinkScope = round_trip(&file, body);
                if name.contains("_Get") && response {
                    let p = scope.properties.unwrap();
                    assert!(p.private_link_scope_id.is_some(), "{name}");
                    assert_eq!(p.public_network_access.as_deref(), Some("Disabled"));
                }
            } else if name.starts_with("PrivateLinkScopePrivateLinkResource_") {
                let r: PrivateLinkResource = round_trip(&file, body);
                assert!(
                    !response || r.properties.unwrap().required_zone_names.is_some(),
                    "{name}"
                );
            } else if name.starts_with("PrivateEndpointConnection_") {
                let c: PrivateEndpointConnection = round_trip(&file, body);
                assert!(
                    c.properties
                        .unwrap()
                        .private_link_service_connection_state
                        .is_some(),
                    "{name}"
                );
            } else if name.starts_with("Machines_") {
                let _: Machine = round_trip(&file, body);
            } else if name.starts_with("PrivateEndpointDnsZoneGroup") {
                let g: PrivateDnsZoneGroup = round_trip(&file, body);
                if response {
                    let configs = g.properties.unwrap().private_dns_zone_configs.unwrap();
                    assert!(
                        configs[0]
                            .properties
                            .as_ref()
                            .unwrap()
                            .private_dns_zone_id
                            .is_some(),
                        "{name}"
                    );
                }
            } else if name.starts_with("PrivateEndpoint") {
                let pe: PrivateEndpoint = round_trip(&file, body);
                assert!(
                    pe.properties.unwrap().subnet.unwrap().id.is_some(),
                    "{name}"
                );
            } else if name.starts_with("PrivateZone") {
                let _: PrivateDnsZone = round_trip(&file, body);
            } else if name.starts_with("VirtualNetworkLink") {
                let l: VirtualNetworkLink = round_trip(&file, body);
                assert!(
                    !response || l.properties.unwrap().virtual_network.is_some(),
                    "{name}"
                );
            } else if name.starts_with("RecordSetA") && !name.starts_with("RecordSetALL") {
                // RecordSetALLList lists record sets of every type, not only A.
                let r: ARecordSet = round_trip(&file, body);
                assert!(
                    !response || r.properties.unwrap().a_records.is_some(),
                    "{name}"
                );
            } else if name.starts_with("NetworkSecurityGroupRule") {
                let r: SecurityRule = round_trip(&file, body);
                if response {
                    let p = r.properties.unwrap();
                    assert!(p.priority.is_some() && p.direction.is_some(), "{name}");
                }
            } else if name.starts_with("NetworkSecurityGroup") {
                let g: NetworkSecurityGroup = round_trip(&file, body);
                if response {
                    let p = g.properties.unwrap();
                    assert!(p.security_rules.is_some(), "{name}");
                    assert!(p.default_security_rules.is_some(), "{name}");
                }
            } else {
                continue;
            }
            checked += 1;
        }
        if checked > before {
            files += 1;
        }
    }
    // 36 shared example files and 5 of this repository's are saved; all but the validation
    // and bodiless delete examples apply.
    assert!(files >= 29, "only {files} example files checked");
    assert!(checked >= 51, "only {checked} bodies checked");
}

#[test]
fn for_write_strips_read_only_fields_and_keeps_unknown_ones() {
    let file = examples()
        .into_iter()
        .find(|p| p.ends_with("PrivateLinkScopes_Get.json"))
        .unwrap();
    let example: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let mut scope: PrivateLinkScope =
        serde_json::from_value(example["responses"]["200"]["body"].clone()).unwrap();
    scope
        .extra
        .insert("systemData".into(), serde_json::json!({"createdBy": "x"}));
    let body = serde_json::to_value(scope.for_write()).unwrap();
    for ro in ["id", "name", "type", "etag", "systemData"] {
        assert!(body.get(ro).is_none(), "{ro} sent");
    }
    let props = &body["properties"];
    assert!(props.get("provisioningState").is_none());
    assert!(props.get("privateLinkScopeId").is_none());
    assert!(props.get("privateEndpointConnections").is_none());
    assert_eq!(props["publicNetworkAccess"], "Disabled");
    assert_eq!(props["serviceExtensions"][0]["serviceExtensionType"], "SQL");
    assert_eq!(body["location"], "westus");
}

#[test]
fn private_endpoint_for_write() {
    let file = examples()
        .into_iter()
        .find(|p| p.ends_with("PrivateEndpointGet.json"))
        .unwrap();
    let example: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let pe: PrivateEndpoint =
        serde_json::from_value(example["responses"]["200"]["body"].clone()).unwrap();
    let body = serde_json::to_value(pe.for_write()).unwrap();
    let props = &body["properties"];
    assert!(props.get("provisioningState").is_none());
    assert!(props.get("networkInterfaces").is_none());
    // Behaviour 1 of reference/arm-behaviours.md: the connection goes back exactly as read,
    // with its name (taken from the id when the body has none) and its current state.
    let read =
        &example["responses"]["200"]["body"]["properties"]["privateLinkServiceConnections"][0];
    let conn = &props["privateLinkServiceConnections"][0];
    assert!(conn.get("id").is_none());
    assert_eq!(
        conn["name"],
        read["id"].as_str().unwrap().rsplit('/').next().unwrap()
    );
    assert_eq!(
        conn["properties"]["privateLinkServiceConnectionState"],
        read["properties"]["privateLinkServiceConnectionState"]
    );
    assert_eq!(
        conn["properties"]["privateLinkServiceId"],
        read["properties"]["privateLinkServiceId"]
    );
    assert_eq!(conn["properties"]["groupIds"][0], "groupIdFromResource");
    assert!(
        props["subnet"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/subnets/mySubnet")
    );
}

#[test]
fn machine_update_sets_or_clears_the_scope() {
    let scope = crate::azure::id::ResourceId::resource(
        "s",
        "rg",
        "Microsoft.HybridCompute",
        "privateLinkScopes",
        "sc",
    );
    let set = serde_json::to_value(MachineUpdate::private_link_scope(Some(scope.clone()))).unwrap();
    assert_eq!(
        set,
        serde_json::json!({"properties": {"privateLinkScopeResourceId": scope.to_string()}})
    );
    let clear = serde_json::to_value(MachineUpdate::private_link_scope(None)).unwrap();
    assert_eq!(
        clear,
        serde_json::json!({"properties": {"privateLinkScopeResourceId": null}})
    );
    let untouched = serde_json::to_value(MachineUpdate {
        tags: Some([("a".to_string(), "b".to_string())].into()),
        properties: None,
    })
    .unwrap();
    assert_eq!(untouched, serde_json::json!({"tags": {"a": "b"}}));
    let m: Machine = serde_json::from_value(
        serde_json::json!({"properties": {"privateLinkScopeResourceId": ""}}),
    )
    .unwrap();
    assert_eq!(m.properties.unwrap().private_link_scope_resource_id, None);
}

/// The Azure Monitor private link scope examples (Insights 2021-09-01): scopes and scoped
/// resources round-trip through their models.
#[test]
fn monitor_scope_examples_round_trip() {
    let dir = specs_dir().join(
        "monitor/resource-manager/Microsoft.Insights/PrivateLinkScopes/stable/2021-09-01/examples",
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let example: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for body in bodies(&example, name.contains("Delete")) {
            let response = body.get("id").is_some();
            if name.starts_with("PrivateLinkScopes") {
                let scope: MonitorPrivateLinkScope = round_trip(&file, &body);
                let props = scope.properties.unwrap_or_default();
                if response && !name.contains("TagsOnly") {
                    let modes = props.access_mode_settings.unwrap();
                    assert!(modes.query_access_mode.is_some(), "{name}");
                    assert!(modes.ingestion_access_mode.is_some(), "{name}");
                }
            } else if name.starts_with("PrivateLinkScopedResource") {
                let scoped: ScopedResource = round_trip(&file, &body);
                assert!(
                    scoped.properties.unwrap().linked_resource_id.is_some(),
                    "{name}"
                );
            } else {
                continue;
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} bodies checked");
}
