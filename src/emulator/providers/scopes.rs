//! Microsoft.HybridCompute private link scopes, their private endpoint connections and their
//! private link resource.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::Effect;
use super::super::state::{self, Map};
use super::super::versions::ApiSet;
use super::call::{Call, Reply, View, WhileBusy};
use super::rules::{require_idle, system_data, tags, tracked_location, writable_properties};

pub const SCOPES: &str = "microsoft.hybridcompute/privatelinkscopes";
pub const CONNECTIONS: &str =
    "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections";
pub const LINK_RESOURCES: &str = "microsoft.hybridcompute/privatelinkscopes/privatelinkresources";

const SCOPE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "privateLinkScopeId",
    "privateEndpointConnections",
];

pub const GROUP_ID: &str = "hybridcompute";
pub const REQUIRED_MEMBERS: &[&str] = &[
    "HybridCompute.Server",
    "HybridCompute.K8sConfiguration",
    "GuestConfig.DP",
];
/// As the official `PrivateLinkScopePrivateLinkResource_Get` example reports them: without
/// `dp.` and with a mixed-case name (reference/arm-behaviours.md 8). Clients map them to the
/// recommended zones.
pub const REQUIRED_ZONES: &[&str] = &[
    "privatelink.his.arc.azure.com",
    "privatelink.kubernetesconfiguration.azure.com",
    "privatelink.Guestconfiguration.azure.com",
];

/// First api-version whose official examples carry `properties.serviceExtensions` on scopes
/// (the 2026-07-15 stable examples, and the 2026-06-16 preview before them).
const SERVICE_EXTENSIONS_SINCE: &str = "2026-06-16";

/// What HybridCompute fills in when a request does not say (the 2026 examples return it for a
/// PUT that only sent `location`).
fn default_service_extensions() -> Value {
    json!([{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Enabled"}])
}

fn has_service_extensions(api_version: &str) -> bool {
    ApiSet::at_least(api_version, SERVICE_EXTENSIONS_SINCE)
}

pub fn put_scope(call: &Call) -> Result<Reply, ApiError> {
    let mut put = call.put()?;
    let existing = put.existing.as_deref();
    let location = tracked_location(put.body, existing, call.rid.name())?;
    let mut props = writable_properties(put.body, SCOPE_READ_ONLY)?;
    let access = match props.get("publicNetworkAccess") {
        None | Some(Value::Null) => "Disabled",
        Some(v) => access_value(v, "properties.publicNetworkAccess")?,
    };
    props.insert("publicNetworkAccess".into(), json!(access));
    let extensions = service_extensions(props.remove("serviceExtensions"), existing, call)?;
    props.insert("serviceExtensions".into(), extensions);
    let scope_guid = existing
        .and_then(|e| {
            e["properties"]["privateLinkScopeId"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    props.insert("privateLinkScopeId".into(), json!(scope_guid));
    props.insert("provisioningState".into(), json!("Succeeded"));
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.HybridCompute/privateLinkScopes",
        "location": location,
        "tags": tags(put.body)?.unwrap_or(json!({})),
        "properties": props,
        "systemData": system_data(existing, &call.caller),
    });
    let status = if existing.is_some() { 200 } else { 201 };
    let v = Arc::new(v);
    put.map.insert(put.key.clone(), v.clone());
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(status, render_scope(&put.map, &v, &view)).into())
}

/// The `serviceExtensions` a scope PUT stores. An older api-version does not know them: its
/// PUT puts the server default back, dropping what a newer client set (which is why clients
/// must PUT with the newest).
fn service_extensions(
    sent: Option<Value>,
    existing: Option<&Value>,
    call: &Call,
) -> Result<Value, ApiError> {
    if !has_service_extensions(&call.api_version) {
        return Ok(default_service_extensions());
    }
    let extensions = match sent {
        Some(v @ Value::Array(_)) => v,
        Some(Value::Null) | None => existing
            .map(|e| e["properties"]["serviceExtensions"].clone())
            .filter(Value::is_array)
            .unwrap_or_else(default_service_extensions),
        Some(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties.serviceExtensions' must be an array.",
            ));
        }
    };
    checked_service_extensions(extensions)
}

/// Values of `PublicNetworkAccessType` and `ServiceExtensionPublicNetworkAccess`.
const ACCESS_VALUES: [&str; 2] = ["Enabled", "Disabled"];

/// An `Enabled`/`Disabled` value in its canonical spelling (ARM matches enum values without
/// case); anything else is refused as the spec's enum refuses it.
fn access_value(v: &Value, path: &str) -> Result<&'static str, ApiError> {
    let given = v.as_str().ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{path}' must be a string."),
        )
    })?;
    ACCESS_VALUES
        .into_iter()
        .find(|a| a.eq_ignore_ascii_case(given))
        .ok_or_else(|| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!(
                    "The value '{given}' of '{path}' is not valid. Allowed values are: {}.",
                    ACCESS_VALUES.join(", ")
                ),
            )
        })
}

/// `properties.serviceExtensions` in the spec's shape (`ServiceExtension`): objects whose
/// `serviceExtensionType` is a string (`x-nullable: false`) and whose
/// `serviceExtensionPublicNetworkAccess` is `Enabled` or `Disabled`.
fn checked_service_extensions(v: Value) -> Result<Value, ApiError> {
    let Value::Array(items) = v else {
        return Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'properties.serviceExtensions' must be an array.",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("properties.serviceExtensions[{i}]");
        let Value::Object(mut item) = item else {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                format!(
                    "The request content was invalid and could not be deserialized: '{path}' must be an object."
                ),
            ));
        };
        match item.get("serviceExtensionType") {
            None | Some(Value::String(_)) => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "InvalidRequestContent",
                    format!(
                        "The request content was invalid and could not be deserialized: '{path}.serviceExtensionType' must be a string."
                    ),
                ));
            }
        }
        if let Some(access) = item.get("serviceExtensionPublicNetworkAccess") {
            let canonical = access_value(
                access,
                &format!("{path}.serviceExtensionPublicNetworkAccess"),
            )?;
            item.insert(
                "serviceExtensionPublicNetworkAccess".into(),
                json!(canonical),
            );
        }
        out.push(Value::Object(item));
    }
    Ok(Value::Array(out))
}

pub fn patch_scope(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    require_idle(Some(&update.existing))?;
    update.value["systemData"] = system_data(Some(&update.existing), &call.caller);
    let v = update.store();
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(200, render_scope(&update.map, &v, &view)).into())
}

/// Deleting a scope that is already being deleted starts another operation (no 409 here).
pub fn delete_scope(call: &Call) -> Result<Reply, ApiError> {
    call.accepted_delete(WhileBusy::Accept)
}

/// A scope with `privateEndpointConnections` filled from its connection children, in the shape
/// of the api-version asked for.
pub fn render_scope(map: &Map, v: &Arc<Value>, view: &View) -> Value {
    let mut out = Value::clone(v);
    if !has_service_extensions(view.api_version)
        && let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut)
    {
        p.remove("serviceExtensions");
    }
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

pub fn put_connection(call: &Call) -> Result<Reply, ApiError> {
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
    let status = ["Approved", "Rejected", "Pending", "Disconnected"]
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
    let key = call.key();
    let location = {
        let mut map = call.shared.store.write();
        let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
        require_idle(Some(&existing))?;
        let new_state =
            json!({"status": status, "description": description, "actionsRequired": "None"});
        let mut v = Value::clone(&existing);
        v["properties"]["privateLinkServiceConnectionState"] = new_state.clone();
        v["properties"]["provisioningState"] = json!("Updating");
        let pe_id = v["properties"]["privateEndpoint"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        map.insert(key.clone(), Arc::new(v));
        let scope_id = call.rid.parent().map(|p| p.to_id()).unwrap_or_default();
        mirror_on_endpoint(&mut map, &pe_id, &scope_id, &new_state);
        let scope_key = ids::key(&scope_id);
        map.get(&scope_key)
            .and_then(|s| s["location"].as_str().map(str::to_string))
            .unwrap_or_else(|| "global".into())
    };
    Ok(Reply::accepted(&location, Effect::Provision { key }))
}

/// Copies a connection state onto the private endpoint's connection to `scope_id`.
pub fn mirror_on_endpoint(map: &mut Map, pe_id: &str, scope_id: &str, new_state: &Value) {
    let Some(pe) = map.get_mut(&ids::key(pe_id)) else {
        return;
    };
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
                if target.eq_ignore_ascii_case(scope_id) {
                    c["properties"]["privateLinkServiceConnectionState"] = new_state.clone();
                }
            }
        }
    }
}

/// The scope's connections go; endpoints that pointed at it see `Disconnected`.
pub fn on_scope_deleted(map: &mut Map, scope_key: &str, _scope: &Value) {
    let conns: Vec<Arc<Value>> = state::children(map, scope_key, "privateendpointconnections")
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
    let scope_id = conn["id"]
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
    mirror_on_endpoint(map, pe_id, &scope_id, &disconnected);
}

/// Creates the scope-side connection for a new private endpoint.
pub fn add_connection(
    map: &mut Map,
    scope: &ResourceId,
    pe_id: &str,
    conn_name: &str,
    state: &Value,
) {
    let id = format!(
        "{}/privateEndpointConnections/{conn_name}",
        scope_stored_id(map, scope)
    );
    let v = json!({
        "id": id,
        "name": conn_name,
        "type": "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections",
        "properties": {
            "privateEndpoint": {"id": pe_id},
            "privateLinkServiceConnectionState": state,
            "provisioningState": "Succeeded",
            "groupIds": [GROUP_ID],
        },
    });
    map.insert(ids::key(&id), Arc::new(v));
}

fn scope_stored_id(map: &Map, scope: &ResourceId) -> String {
    map.get(&ids::key(&scope.to_id()))
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| scope.to_id())
}

/// Connections on scopes that belong to the endpoint `pe_key`.
pub fn connections_of_endpoint(map: &Map, pe_key: &str) -> Vec<String> {
    map.iter()
        .filter(|(k, v)| {
            k.contains("/privateendpointconnections/")
                && v["type"].as_str().is_some_and(|t| {
                    t.eq_ignore_ascii_case(
                        "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections",
                    )
                })
                && v["properties"]["privateEndpoint"]["id"]
                    .as_str()
                    .map(ids::key)
                    .as_deref()
                    == Some(pe_key)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn link_resource(scope_id: &str) -> Value {
    json!({
        "id": format!("{scope_id}/privateLinkResources/{GROUP_ID}"),
        "name": GROUP_ID,
        "type": "Microsoft.HybridCompute/privateLinkScopes/privateLinkResources",
        "properties": {
            "groupId": GROUP_ID,
            "requiredMembers": REQUIRED_MEMBERS,
            "requiredZoneNames": REQUIRED_ZONES,
        },
    })
}

pub fn get_link_resource(call: &Call) -> Result<Reply, ApiError> {
    if !call.rid.name().eq_ignore_ascii_case(GROUP_ID) {
        return Err(call.not_found());
    }
    let map = call.shared.store.read();
    let scope = call.rid.parent().ok_or_else(|| call.not_found())?;
    Ok(ArmResponse::json(200, link_resource(&scope_stored_id(&map, &scope))).into())
}

pub fn list_link_resources(call: &Call) -> Result<Reply, ApiError> {
    let map = call.shared.store.read();
    let scope = call.rid.parent().ok_or_else(|| call.not_found())?;
    let items = json!({"value": [link_resource(&scope_stored_id(&map, &scope))]});
    Ok(ArmResponse::json(200, items).into())
}

pub fn is_scope_id(id: &str) -> Option<ResourceId> {
    ResourceId::parse(id).filter(|r| r.is_type(SCOPES))
}
