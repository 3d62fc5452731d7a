//! Microsoft.Insights private link scopes (Azure Monitor), their scoped resources and the
//! status resources their scoped-resource operations are followed through.

use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::{Effect, Poll};
use super::super::state::{self, Map};
use super::call::{Call, Reply, View, WhileBusy};
use super::connections::render_with_connections;
use super::privatedns::global_location;
use super::rules::{invalid_linked_id, referenced, system_data, tags, writable_properties};
use super::targets::{DATA_COLLECTION_ENDPOINTS, WORKSPACES};

pub const MONITOR_CONNECTIONS: &str =
    "microsoft.insights/privatelinkscopes/privateendpointconnections";
pub const MONITOR_LINK_RESOURCES: &str =
    "microsoft.insights/privatelinkscopes/privatelinkresources";
pub const SCOPED_RESOURCES: &str = "microsoft.insights/privatelinkscopes/scopedresources";
pub const SCOPE_OPERATION_STATUSES: &str = "microsoft.insights/privatelinkscopeoperationstatuses";
/// The type segment of the status resources scoped-resource operations point at.
pub const SCOPE_OPERATION_STATUS_TYPE: &str = "privateLinkScopeOperationStatuses";

const SCOPE_READ_ONLY: &[&str] = &["provisioningState", "privateEndpointConnections"];
const ACCESS_MODES: [&str; 2] = ["Open", "PrivateOnly"];

/// An `AccessMode` (`Open` | `PrivateOnly`, matched without case) in its canonical spelling.
fn access_mode(v: Option<&Value>, path: &str, required: bool) -> Result<Option<Value>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return if required {
            Err(ApiError::bad_request(
                "InvalidRequestContent",
                format!("The request content was invalid: '{path}' is required."),
            ))
        } else {
            Ok(None)
        };
    };
    let given = v.as_str().unwrap_or_default();
    ACCESS_MODES
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(given))
        .map(|m| Some(json!(m)))
        .ok_or_else(|| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!("The value '{v}' of '{path}' is not valid. Allowed values are: Open, PrivateOnly."),
            )
        })
}

/// `properties.accessModeSettings` as the spec requires it: both modes, and optional
/// exclusions with a connection name and modes each.
fn access_mode_settings(props: &JsonMap<String, Value>) -> Result<Value, ApiError> {
    let base = "properties.accessModeSettings";
    let settings = props
        .get("accessModeSettings")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!("The request content was invalid: '{base}' is required."),
            )
        })?;
    let mut out = JsonMap::new();
    for mode in ["queryAccessMode", "ingestionAccessMode"] {
        if let Some(m) = access_mode(settings.get(mode), &format!("{base}.{mode}"), true)? {
            out.insert(mode.into(), m);
        }
    }
    let mut exclusions = Vec::new();
    for (i, e) in settings
        .get("exclusions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("{base}.exclusions[{i}]");
        let mut x = JsonMap::new();
        if let Some(name) = e["privateEndpointConnectionName"].as_str() {
            x.insert("privateEndpointConnectionName".into(), json!(name));
        }
        for mode in ["queryAccessMode", "ingestionAccessMode"] {
            if let Some(m) = access_mode(e.get(mode), &format!("{path}.{mode}"), false)? {
                x.insert(mode.into(), m);
            }
        }
        exclusions.push(Value::Object(x));
    }
    out.insert("exclusions".into(), Value::Array(exclusions));
    Ok(Value::Object(out))
}

/// PUT of a scope: not long-running (200/201), in `global` only.
pub fn put_scope(call: &Call) -> Result<Reply, ApiError> {
    global_location(call.body()?, "Microsoft.Insights/privateLinkScopes")?;
    let mut put = call.put()?;
    let existing = put.existing.as_deref();
    let mut props = writable_properties(put.body, SCOPE_READ_ONLY)?;
    let settings = access_mode_settings(&props)?;
    props.insert("accessModeSettings".into(), settings);
    props.insert("provisioningState".into(), json!("Succeeded"));
    let v = Arc::new(json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Insights/privateLinkScopes",
        "location": "global",
        "tags": tags(put.body)?.unwrap_or(json!({})),
        "properties": props,
        "systemData": system_data(existing, &call.caller),
    }));
    let status = if existing.is_some() { 200 } else { 201 };
    put.map.insert(put.key.clone(), v.clone());
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(status, render_with_connections(&put.map, &v, &view)).into())
}

pub fn delete_scope(call: &Call) -> Result<Reply, ApiError> {
    call.accepted_delete(WhileBusy::Refuse)
}

/// Insights answers a write to a scope's scoped resources while one of them is provisioning
/// with this message (hashicorp/terraform-provider-azurerm#22236; the status and code are
/// chosen).
fn refuse_while_provisioning(map: &Map, scope_key: &str, serialized: bool) -> Result<(), ApiError> {
    let provisioning = state::children(map, scope_key, "scopedresources").any(|(_, v)| {
        v["properties"]["provisioningState"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("Provisioning"))
    });
    if serialized && provisioning {
        return Err(ApiError::new(
            409,
            "Conflict",
            "Cannot modify resource while in provisioning state: 'Provisioning'",
        ));
    }
    Ok(())
}

/// The resource a scoped resource links: a Log Analytics workspace or a data collection
/// endpoint must exist; an Application Insights component (not modelled) is taken as it is.
fn linked_resource(map: &Map, body: &JsonMap<String, Value>, by: &str) -> Result<String, ApiError> {
    let path = "properties.linkedResourceId";
    let linked = body
        .get("properties")
        .and_then(|p| p.get("linkedResourceId"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rid = ResourceId::parse(linked).ok_or_else(|| invalid_linked_id(linked, path))?;
    if rid.is_type(WORKSPACES) || rid.is_type(DATA_COLLECTION_ENDPOINTS) {
        let v = referenced(map, &rid, by)?;
        return Ok(v["id"].as_str().unwrap_or(linked).to_string());
    }
    if rid.is_type("microsoft.insights/components") {
        return Ok(linked.to_string());
    }
    Err(ApiError::bad_request(
        "BadRequest",
        format!(
            "The resource {linked} cannot be linked to an Azure Monitor private link scope: only Log Analytics workspaces, Application Insights components and data collection endpoints can."
        ),
    ))
}

/// PUT of a scoped resource: 202 with `Location` pointing at a
/// `privateLinkScopeOperationStatuses` resource; a second scoped resource linking the same
/// resource (even under the same name) is a 409 (Azure/azure-rest-api-specs#28176).
pub fn put_scoped_resource(call: &Call) -> Result<Reply, ApiError> {
    let serialized = call
        .shared
        .settings()
        .behaviours
        .scoped_resource_writes_serialized;
    let (mut put, scope) = call.child_put()?;
    refuse_while_provisioning(&put.map, &scope.key, serialized)?;
    let linked = linked_resource(&put.map, put.body, &put.id)?;
    let taken = state::children(&put.map, &scope.key, "scopedresources").any(|(_, v)| {
        v["properties"]["linkedResourceId"]
            .as_str()
            .is_some_and(|l| l.eq_ignore_ascii_case(&linked))
    });
    if taken {
        return Err(ApiError::new(
            409,
            "Conflict",
            "Scoped resource with same linked resource id already exists in this private link scope",
        ));
    }
    let v = json!({
        "id": put.id,
        "name": call.rid.name(),
        "type": "Microsoft.Insights/privateLinkScopes/scopedResources",
        "properties": {"linkedResourceId": linked, "provisioningState": "Provisioning"},
        "systemData": system_data(put.existing.as_deref(), &call.caller),
    });
    put.map.insert(put.key.clone(), Arc::new(v));
    Ok(Reply::with_operation(
        ArmResponse::empty(202),
        "global",
        Effect::Provision {
            key: put.key.clone(),
        },
        Poll::LocationAt(SCOPE_OPERATION_STATUS_TYPE),
    ))
}

pub fn delete_scoped_resource(call: &Call) -> Result<Reply, ApiError> {
    {
        let map = call.shared.store.read();
        let scope_key = call
            .rid
            .parent()
            .map(|p| ids::key(&p.to_id()))
            .unwrap_or_default();
        let serialized = call
            .shared
            .settings()
            .behaviours
            .scoped_resource_writes_serialized;
        refuse_while_provisioning(&map, &scope_key, serialized)?;
    }
    call.accepted_delete(WhileBusy::Refuse)
}

/// `GET …/privateLinkScopeOperationStatuses/{id}`: the operation's status, 200 while it runs
/// too (the spec's `OperationStatus`).
pub fn get_operation_status(call: &Call) -> Result<Reply, ApiError> {
    let op = call
        .shared
        .ops
        .ops
        .lock()
        .get(&call.rid.name().to_ascii_lowercase())
        .filter(|o| o.subscription.eq_ignore_ascii_case(&call.rid.subscription))
        .cloned()
        .ok_or_else(|| call.not_found())?;
    let mut body = op.status_body();
    body["id"] = json!(call.rid.to_id());
    Ok(ArmResponse::json(200, body).into())
}
