//! The target side of private endpoint connections, for every private link target: created
//! when an endpoint connects, approved or rejected through a PUT, mirrored onto the endpoint,
//! and `Disconnected` on the endpoint when they go.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::Effect;
use super::super::state::{self, Map};
use super::call::{Call, Reply, View};
use super::operations::delete_cascade;
use super::rules::require_idle;
use super::targets::{Target, target_for_type};

const STATUSES: [&str; 4] = ["Approved", "Rejected", "Pending", "Disconnected"];

/// The connection state a PUT asks for, with the target's name for "actions required".
fn requested_state(call: &Call, actions_key: &str) -> Result<Value, ApiError> {
    let body = call.body()?;
    let state_in = body
        .get("properties")
        .and_then(|p| p.get("privateLinkServiceConnectionState"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid: 'properties.privateLinkServiceConnectionState' is required.",
            )
        })?;
    let status = state_in
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let status = STATUSES
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(status))
        .ok_or_else(|| {
            ApiError::bad_request(
                "InvalidPrivateLinkServiceConnectionStatus",
                format!("The private link service connection status '{status}' is invalid. Valid values are Approved, Rejected, Pending, Disconnected."),
            )
        })?;
    let description = state_in
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut state = json!({"status": status, "description": description});
    state[actions_key] = json!("None");
    Ok(state)
}

fn actions_key_of(call: &Call) -> &'static str {
    call.rid
        .parent()
        .and_then(|p| target_for_type(&p.type_key()))
        .map_or("actionsRequired", |t| t.actions_key)
}

/// Stores the new state on the connection and on the endpoint's side; returns the connection
/// and the location of the target.
fn set_state(call: &Call, provisioning: &str) -> Result<(Value, String), ApiError> {
    let new_state = requested_state(call, actions_key_of(call))?;
    let key = call.key();
    let mut map = call.shared.store.write();
    let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
    require_idle(Some(&existing))?;
    let mut v = Value::clone(&existing);
    v["properties"]["privateLinkServiceConnectionState"] = new_state.clone();
    v["properties"]["provisioningState"] = json!(provisioning);
    let pe_id = v["properties"]["privateEndpoint"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    map.insert(key, Arc::new(v.clone()));
    let target_id = call.rid.parent().map(|p| p.to_id()).unwrap_or_default();
    mirror_on_endpoint(&mut map, &pe_id, &target_id, &new_state);
    let location = map
        .get(&ids::key(&target_id))
        .and_then(|t| t["location"].as_str().map(str::to_string))
        .unwrap_or_else(|| "global".into());
    Ok((v, location))
}

/// A connection PUT that a long-running operation completes (HybridCompute, Insights,
/// Automation): 202 with `Location`.
pub fn put_connection(call: &Call) -> Result<Reply, ApiError> {
    let (_, location) = set_state(call, "Updating")?;
    Ok(Reply::accepted(
        &location,
        Effect::Provision { key: call.key() },
    ))
}

/// A connection PUT answered at once with the connection (Key Vault, Storage).
pub fn put_connection_now(call: &Call) -> Result<Reply, ApiError> {
    let (v, _) = set_state(call, "Succeeded")?;
    Ok(ArmResponse::json(200, v).into())
}

/// A DELETE answered at once: 200 with what goes, 204 when there was nothing (Storage's
/// connections, resource management private links).
pub fn delete_now(call: &Call) -> Result<Reply, ApiError> {
    let key = call.key();
    let mut map = call.shared.store.write();
    let Some(existing) = map.get(&key).cloned() else {
        return Ok(ArmResponse::empty(204).into());
    };
    require_idle(Some(&existing))?;
    delete_cascade(&mut map, &key);
    Ok(ArmResponse::empty(200).into())
}

/// Copies a connection state onto the private endpoint's connection to `target_id`, in
/// Network's shape (`actionsRequired`).
pub fn mirror_on_endpoint(map: &mut Map, pe_id: &str, target_id: &str, new_state: &Value) {
    let Some(pe) = map.get_mut(&ids::key(pe_id)) else {
        return;
    };
    let network_state = json!({
        "status": new_state["status"],
        "description": new_state["description"],
        "actionsRequired": "None",
    });
    let pe = Arc::make_mut(pe);
    for list in [
        "privateLinkServiceConnections",
        "manualPrivateLinkServiceConnections",
    ] {
        if let Some(conns) = pe["properties"][list].as_array_mut() {
            for c in conns {
                let target = c["properties"]["privateLinkServiceId"]
                    .as_str()
                    .unwrap_or_default();
                if target.eq_ignore_ascii_case(target_id) {
                    c["properties"]["privateLinkServiceConnectionState"] = network_state.clone();
                }
            }
        }
    }
}

/// A target's connections go with it; endpoints that pointed at it see `Disconnected`.
pub fn on_target_deleted(map: &mut Map, target_key: &str, _target: &Value) {
    let conns: Vec<Arc<Value>> = state::children(map, target_key, "privateendpointconnections")
        .map(|(_, v)| v.clone())
        .collect();
    for c in conns {
        on_connection_deleted(map, "", &c);
    }
}

pub fn on_connection_deleted(map: &mut Map, _key: &str, conn: &Value) {
    let pe_id = conn["properties"]["privateEndpoint"]["id"]
        .as_str()
        .unwrap_or_default();
    let target_id = conn["id"]
        .as_str()
        .and_then(ResourceId::parse)
        .and_then(|r| r.parent())
        .map(|p| p.to_id())
        .unwrap_or_default();
    let disconnected = json!({
        "status": "Disconnected",
        "description": "The private endpoint connection was removed by the service.",
        "actionsRequired": "None",
    });
    mirror_on_endpoint(map, pe_id, &target_id, &disconnected);
}

/// Creates the target-side connection of a new private endpoint connection.
pub fn add_connection(
    map: &mut Map,
    target: &Target,
    target_id: &str,
    pe_id: &str,
    conn_name: &str,
    state: &Value,
    group_id: &str,
) {
    let id = format!("{target_id}/privateEndpointConnections/{conn_name}");
    let mut conn_state = json!({
        "status": state["status"],
        "description": state["description"],
    });
    conn_state[target.actions_key] = json!("None");
    let mut v = json!({
        "id": id,
        "name": conn_name,
        "type": format!("{}/privateEndpointConnections", target.type_name),
        "properties": {
            "privateEndpoint": {"id": pe_id},
            "privateLinkServiceConnectionState": conn_state,
            "provisioningState": "Succeeded",
            "groupIds": [group_id],
        },
    });
    if target.connection_etag {
        v["etag"] = json!("");
    }
    map.insert(ids::key(&id), Arc::new(v));
}

/// Keys of the target-side connections that belong to the endpoint `pe_key`.
pub fn connections_of_endpoint(map: &Map, pe_key: &str) -> Vec<String> {
    map.iter()
        .filter(|(k, v)| {
            k.contains("/privateendpointconnections/")
                && !k.contains("/providers/microsoft.network/")
                && v["properties"]["privateEndpoint"]["id"]
                    .as_str()
                    .map(ids::key)
                    .as_deref()
                    == Some(pe_key)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// A target with `properties.privateEndpointConnections` filled from its connections, as
/// objects (Authorization's spec says strings, the service answers objects:
/// Azure/azure-rest-api-specs#29885).
pub fn render_with_connections(map: &Map, v: &Arc<Value>, _: &View) -> Value {
    let mut out = Value::clone(v);
    let key = v["id"].as_str().map(ids::key).unwrap_or_default();
    let conns: Vec<Value> = state::children(map, &key, "privateendpointconnections")
        .map(|(_, c)| {
            json!({
                "id": c["id"],
                "name": c["name"],
                "type": c["type"],
                "properties": c["properties"],
            })
        })
        .collect();
    if let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("privateEndpointConnections".into(), Value::Array(conns));
    }
    out
}
