//! Microsoft.HybridCompute private link scopes (their connections are in [`super::connections`],
//! their private link resource in [`super::targets`]).

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::ResourceId;
use super::super::state::Map;
use super::super::versions::ApiSet;
use super::call::{Call, Reply, View, WhileBusy};
use super::connections::render_with_connections;
use super::rules::{system_data, tags, tracked_location, writable_properties};

pub const SCOPES: &str = "microsoft.hybridcompute/privatelinkscopes";
pub const CONNECTIONS: &str =
    "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections";
pub const LINK_RESOURCES: &str = "microsoft.hybridcompute/privatelinkscopes/privatelinkresources";

const SCOPE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "privateLinkScopeId",
    "privateEndpointConnections",
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

/// Deleting a scope that is already being deleted starts another operation (no 409 here).
pub fn delete_scope(call: &Call) -> Result<Reply, ApiError> {
    call.accepted_delete(WhileBusy::Accept)
}

/// A scope with its connections, in the shape of the api-version asked for.
pub fn render_scope(map: &Map, v: &Arc<Value>, view: &View) -> Value {
    let mut out = render_with_connections(map, v, view);
    if !has_service_extensions(view.api_version)
        && let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut)
    {
        p.remove("serviceExtensions");
    }
    out
}

pub fn is_scope_id(id: &str) -> Option<ResourceId> {
    ResourceId::parse(id).filter(|r| r.is_type(SCOPES))
}
