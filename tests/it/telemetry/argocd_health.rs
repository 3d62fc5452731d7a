//! Runs deploy/argocd/health.lua the way Argo CD does: `obj` global in, `{status, message}` out.

use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Value, json};

const SCRIPT: &str = include_str!("../../../deploy/argocd/health.lua");

fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Null => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => LuaValue::Integer(i),
            None => LuaValue::Number(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Array(items) => {
            let table = lua.create_table()?;
            for (i, item) in items.iter().enumerate() {
                table.set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
        Value::Object(fields) => {
            let table = lua.create_table()?;
            for (key, item) in fields {
                table.set(key.as_str(), to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
    })
}

fn health(obj: Value) -> (String, String) {
    let lua = Lua::new();
    lua.globals()
        .set("obj", to_lua(&lua, &obj).unwrap())
        .unwrap();
    let hs: Table = lua.load(SCRIPT).set_name("health.lua").eval().unwrap();
    (hs.get("status").unwrap(), hs.get("message").unwrap())
}

fn scope(generation: i64, observed: Option<i64>, conditions: Value, spec: Value) -> Value {
    let mut status = json!({ "conditions": conditions });
    if let Some(observed) = observed {
        status["observedGeneration"] = json!(observed);
    }
    json!({
        "apiVersion": "arclink.io/v1alpha1",
        "kind": "ArcPrivateLinkScope",
        "metadata": { "name": "prod", "namespace": "arc", "generation": generation },
        "spec": spec,
        "status": status,
    })
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({ "type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": 2, "lastTransitionTime": "2026-01-01T00:00:00Z" })
}

#[test]
fn ready_and_current_is_healthy() {
    let obj = scope(
        2,
        Some(2),
        json!([
            condition(
                "Ready",
                "True",
                "Succeeded",
                "Private Link Scope is provisioned"
            ),
            condition("Reconciling", "False", "Succeeded", ""),
            condition("Stalled", "False", "Succeeded", ""),
        ]),
        json!({}),
    );
    assert_eq!(
        health(obj),
        (
            "Healthy".into(),
            "Succeeded: Private Link Scope is provisioned".into()
        )
    );
}

#[test]
fn ready_but_drifted_in_report_mode_stays_healthy() {
    let obj = scope(
        2,
        Some(2),
        json!([
            condition("Ready", "True", "Succeeded", "ok"),
            condition(
                "Drifted",
                "True",
                "DriftDetected",
                "properties.publicNetworkAccess"
            ),
        ]),
        json!({"drift": "Report"}),
    );
    assert_eq!(health(obj).0, "Healthy");
}

#[test]
fn stalled_is_degraded_with_the_condition_message() {
    let obj = scope(
        2,
        Some(2),
        json!([
            condition(
                "Ready",
                "False",
                "OwnedElsewhere",
                "owned by cluster-b/arc/ArcPrivateLinkScope/prod"
            ),
            condition(
                "Stalled",
                "True",
                "OwnedElsewhere",
                "owned by cluster-b/arc/ArcPrivateLinkScope/prod"
            ),
        ]),
        json!({}),
    );
    assert_eq!(
        health(obj),
        (
            "Degraded".into(),
            "OwnedElsewhere: owned by cluster-b/arc/ArcPrivateLinkScope/prod".into()
        )
    );
}

#[test]
fn reconciling_is_progressing() {
    let obj = scope(
        2,
        Some(2),
        json!([
            condition(
                "Ready",
                "False",
                "Creating",
                "waiting for the ARM operation"
            ),
            condition(
                "Reconciling",
                "True",
                "Creating",
                "PUT accepted, operation in progress"
            ),
        ]),
        json!({}),
    );
    assert_eq!(
        health(obj),
        (
            "Progressing".into(),
            "Creating: PUT accepted, operation in progress".into()
        )
    );
}

#[test]
fn observed_generation_behind_is_progressing_even_when_ready() {
    let obj = scope(
        3,
        Some(2),
        json!([condition("Ready", "True", "Succeeded", "ok")]),
        json!({}),
    );
    assert_eq!(
        health(obj),
        (
            "Progressing".into(),
            "Waiting for the controller to observe generation 3".into()
        )
    );
}

#[test]
fn no_status_yet_is_progressing() {
    let obj = json!({
        "apiVersion": "arclink.io/v1alpha1",
        "kind": "ArcPrivateEndpoint",
        "metadata": { "name": "pe", "namespace": "arc", "generation": 1 },
        "spec": {},
    });
    assert_eq!(health(obj).0, "Progressing");
}

#[test]
fn ready_unknown_is_progressing() {
    let obj = scope(
        2,
        Some(2),
        json!([condition(
            "Ready",
            "Unknown",
            "WaitingForScope",
            "scope prod is not Ready"
        )]),
        json!({}),
    );
    assert_eq!(
        health(obj),
        (
            "Progressing".into(),
            "WaitingForScope: scope prod is not Ready".into()
        )
    );
}

#[test]
fn ready_missing_is_progressing() {
    let obj = scope(1, Some(1), json!([]), json!({}));
    assert_eq!(
        health(obj),
        (
            "Progressing".into(),
            "Waiting for the Ready condition".into()
        )
    );
}

#[test]
fn suspended_wins_over_conditions() {
    let obj = scope(
        2,
        Some(2),
        json!([condition("Stalled", "True", "InvalidSpec", "bad")]),
        json!({"suspend": true}),
    );
    assert_eq!(health(obj).0, "Suspended");
}

#[test]
fn suspend_false_does_not_suspend() {
    let obj = scope(
        2,
        Some(2),
        json!([condition("Ready", "True", "Succeeded", "ok")]),
        json!({"suspend": false}),
    );
    assert_eq!(health(obj).0, "Healthy");
}

#[test]
fn kustomize_component_installs_the_script_for_every_kind() {
    let kustomization = include_str!("../../../deploy/argocd/kustomization.yaml");
    let readme = include_str!("../../../deploy/argocd/README.md");
    for kind in arclink::api::KINDS {
        let entry = format!("resource.customizations.health.arclink.io_{kind}=health.lua");
        assert!(kustomization.contains(&entry), "missing {entry}");
        let key = format!("resource.customizations.health.arclink.io_{kind}: |");
        assert!(
            readme.contains(&key),
            "deploy/argocd/README.md misses {key}"
        );
    }
}
