//! Microsoft.HybridCompute: private link scopes, their private endpoint connections and private
//! link resources, and Arc machines (seeded, never created through ARM here).

use std::sync::Arc;

use http::Method;
use serde_json::{Map as JsonMap, Value, json};

use super::super::admin::merge;
use super::super::config::ScopeClear;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::Effect;
use super::super::state::{self, Map};
use super::super::versions::ApiSet;
use super::{
    CONNECTIONS, Call, LINK_RESOURCES, MACHINES, Poll, SCOPES, method_not_allowed, require_idle,
    start_operation, system_data, tags, tracked_location, writable_properties,
};

const SCOPE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "privateLinkScopeId",
    "privateEndpointConnections",
];
const MACHINE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "status",
    "lastStatusChange",
    "errorDetails",
    "agentVersion",
    "vmId",
    "displayName",
    "machineFqdn",
    "osName",
    "osVersion",
    "vmUuid",
    "osSku",
    "domainName",
    "adFqdn",
    "dnsFqdn",
    "detectedProperties",
    "networkProfile",
    "hardwareProfile",
    "storageProfile",
    "firmwareProfile",
    "cloudProvider",
    "osType",
    "osEdition",
    "mssqlDiscovered",
    "serviceStatuses",
    "identityKeyStore",
    "tpmEkCertificate",
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

pub fn handle(call: &Call) -> Result<ArmResponse, ApiError> {
    match (call.kind.key, &call.method) {
        (SCOPES, &Method::PUT) => put_scope(call),
        (SCOPES, &Method::PATCH) => patch_scope(call),
        (SCOPES, &Method::DELETE) => delete_scope(call),
        (CONNECTIONS, &Method::PUT) => put_connection(call),
        (CONNECTIONS, &Method::DELETE) => delete_connection(call),
        (LINK_RESOURCES, &Method::GET) => get_link_resource(call),
        (MACHINES, &Method::PATCH) => patch_machine(call),
        _ => Err(method_not_allowed(call)),
    }
}

fn put_scope(call: &Call) -> Result<ArmResponse, ApiError> {
    let body = call.body()?;
    let key = call.key();
    let mut map = call.shared.store.write();
    let existing = map.get(&key).cloned();
    require_idle(existing.as_ref())?;
    let location = tracked_location(body, existing.as_deref(), call.rid.name())?;
    let mut props = writable_properties(body, SCOPE_READ_ONLY)?;
    let access = match props.get("publicNetworkAccess") {
        None | Some(Value::Null) => "Disabled",
        Some(v) => access_value(v, "properties.publicNetworkAccess")?,
    };
    props.insert("publicNetworkAccess".into(), json!(access));
    // An older api-version does not know serviceExtensions: its PUT puts the server default
    // back, dropping what a newer client set (which is why clients must PUT with the newest).
    let extensions = match props.remove("serviceExtensions") {
        Some(v @ Value::Array(_)) if has_service_extensions(&call.api_version) => v,
        Some(Value::Null) | None if has_service_extensions(&call.api_version) => existing
            .as_ref()
            .map(|e| e["properties"]["serviceExtensions"].clone())
            .filter(Value::is_array)
            .unwrap_or_else(default_service_extensions),
        Some(_) if has_service_extensions(&call.api_version) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties.serviceExtensions' must be an array.",
            ));
        }
        _ => default_service_extensions(),
    };
    let extensions = if has_service_extensions(&call.api_version) {
        checked_service_extensions(extensions)?
    } else {
        extensions
    };
    props.insert("serviceExtensions".into(), extensions);
    let scope_guid = existing
        .as_ref()
        .and_then(|e| {
            e["properties"]["privateLinkScopeId"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    props.insert("privateLinkScopeId".into(), json!(scope_guid));
    props.insert("provisioningState".into(), json!("Succeeded"));
    let id = existing
        .as_ref()
        .and_then(|e| e["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| call.canonical_id());
    let v = json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.HybridCompute/privateLinkScopes",
        "location": location,
        "tags": tags(body)?.unwrap_or(json!({})),
        "properties": props,
        "systemData": system_data(existing.as_deref(), &call.caller),
    });
    let v = Arc::new(v);
    map.insert(key, v.clone());
    let status = if existing.is_some() { 200 } else { 201 };
    Ok(ArmResponse::json(
        status,
        render_scope(&map, &v, &call.api_version),
    ))
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

fn patch_scope(call: &Call) -> Result<ArmResponse, ApiError> {
    let body = call.body()?;
    let new_tags = tags(body)?;
    let key = call.key();
    let mut map = call.shared.store.write();
    let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
    require_idle(Some(&existing))?;
    let mut v = Value::clone(&existing);
    if let Some(t) = new_tags {
        v["tags"] = t;
    }
    v["systemData"] = system_data(Some(&existing), &call.caller);
    let v = Arc::new(v);
    map.insert(key, v.clone());
    Ok(ArmResponse::json(
        200,
        render_scope(&map, &v, &call.api_version),
    ))
}

fn delete_scope(call: &Call) -> Result<ArmResponse, ApiError> {
    let key = call.key();
    let location = {
        let mut map = call.shared.store.write();
        let Some(existing) = map.get(&key).cloned() else {
            return Ok(ArmResponse::empty(204));
        };
        super::set_provisioning_state(&mut map, &key, "Deleting");
        existing["location"]
            .as_str()
            .unwrap_or("global")
            .to_string()
    };
    let headers = start_operation(call, &location, Effect::Delete { key }, Poll::Location);
    Ok(with_headers(ArmResponse::empty(202), headers))
}

pub fn with_headers(mut r: ArmResponse, headers: Vec<(&'static str, String)>) -> ArmResponse {
    r.headers.extend(headers);
    r
}

/// A scope with `privateEndpointConnections` filled from its connection children, in the shape
/// of `api_version`.
pub fn render_scope(map: &Map, v: &Arc<Value>, api_version: &str) -> Value {
    let mut out = Value::clone(v);
    if !has_service_extensions(api_version)
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

fn put_connection(call: &Call) -> Result<ArmResponse, ApiError> {
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
    let headers = start_operation(call, &location, Effect::Provision { key }, Poll::Location);
    Ok(with_headers(ArmResponse::empty(202), headers))
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

fn delete_connection(call: &Call) -> Result<ArmResponse, ApiError> {
    let key = call.key();
    let location = {
        let mut map = call.shared.store.write();
        let Some(existing) = map.get(&key).cloned() else {
            return Ok(ArmResponse::empty(204));
        };
        require_idle(Some(&existing))?;
        super::set_provisioning_state(&mut map, &key, "Deleting");
        let scope_key = call
            .rid
            .parent()
            .map(|p| ids::key(&p.to_id()))
            .unwrap_or_default();
        map.get(&scope_key)
            .and_then(|s| s["location"].as_str().map(str::to_string))
            .unwrap_or_else(|| "global".into())
    };
    let headers = start_operation(call, &location, Effect::Delete { key }, Poll::Location);
    Ok(with_headers(ArmResponse::empty(202), headers))
}

/// The scope's connections go; endpoints that pointed at it see `Disconnected`.
pub fn on_scope_deleted(map: &mut Map, scope_key: &str) {
    let conns: Vec<Arc<Value>> = state::children(map, scope_key, "privateendpointconnections")
        .map(|(_, v)| v.clone())
        .collect();
    for c in conns {
        on_connection_deleted(map, &c);
    }
}

pub fn on_connection_deleted(map: &mut Map, conn: &Value) {
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

fn get_link_resource(call: &Call) -> Result<ArmResponse, ApiError> {
    if !call.rid.name().eq_ignore_ascii_case(GROUP_ID) {
        return Err(call.not_found());
    }
    let map = call.shared.store.read();
    let scope = call.rid.parent().ok_or_else(|| call.not_found())?;
    Ok(ArmResponse::json(
        200,
        link_resource(&scope_stored_id(&map, &scope)),
    ))
}

pub fn list_link_resources(call: &Call) -> Result<ArmResponse, ApiError> {
    let map = call.shared.store.read();
    let scope = call.rid.parent().ok_or_else(|| call.not_found())?;
    Ok(ArmResponse::json(
        200,
        json!({"value": [link_resource(&scope_stored_id(&map, &scope))]}),
    ))
}

fn patch_machine(call: &Call) -> Result<ArmResponse, ApiError> {
    let body = call.body()?;
    let new_tags = tags(body)?;
    let key = call.key();
    let mut map = call.shared.store.write();
    let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
    if let Some(loc) = body.get("location").and_then(Value::as_str) {
        super::check_location_unchanged(Some(&existing), loc, call.rid.name())?;
    }
    let mut v = Value::clone(&existing);
    if let Some(t) = new_tags {
        v["tags"] = t;
    }
    let props = writable_properties(body, MACHINE_READ_ONLY)?;
    let clear = call.shared.settings().behaviours.machine_scope_clear;
    let target = v
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::new(500, "InternalServerError", "machine has no properties"))?;
    for (k, val) in props {
        if k.eq_ignore_ascii_case("privateLinkScopeResourceId") {
            set_scope_link(target, &val, clear)?;
        } else if val.is_null() {
            target.remove(&k);
        } else if let Some(existing) = target.get_mut(&k).filter(|e| e.is_object()) {
            merge(existing, &val);
        } else {
            target.insert(k, val);
        }
    }
    for field in ["kind", "identity"] {
        if let Some(val) = body.get(field) {
            v[field] = val.clone();
        }
    }
    v["systemData"] = system_data(Some(&existing), &call.caller);
    let v = Arc::new(v);
    map.insert(key, v.clone());
    Ok(ArmResponse::json(200, render_machine(&v)))
}

/// Whether `null` or `""` clears a machine's scope is not documented
/// (reference/arm-behaviours.md 15): [`ScopeClear`] picks the shape.
fn set_scope_link(
    props: &mut JsonMap<String, Value>,
    val: &Value,
    clear: ScopeClear,
) -> Result<(), ApiError> {
    let path = "properties.privateLinkScopeResourceId";
    match (val, clear) {
        (Value::Null, ScopeClear::EmptyString) => {}
        (Value::Null, _) => {
            props.remove("privateLinkScopeResourceId");
        }
        (Value::String(s), ScopeClear::Null) if s.is_empty() => {
            return Err(super::invalid_linked_id(s, path));
        }
        (Value::String(s), _) if s.is_empty() => {
            props.remove("privateLinkScopeResourceId");
        }
        _ => {
            let rid = super::linked_id(val, path, SCOPES)?;
            if rid.segments.len() != 1 {
                return Err(super::invalid_linked_id(
                    val.as_str().unwrap_or_default(),
                    path,
                ));
            }
            props.insert("privateLinkScopeResourceId".into(), val.clone());
        }
    }
    Ok(())
}

/// What the Connected Machine agent reports about its host, as the official `Machines_Get`
/// example shows it; a machine's own values (from fixtures or PATCHes) win. Merged when a
/// machine is rendered rather than stored per machine, so that a fleet of 100,000 machines
/// stays small in memory.
static AGENT_REPORTED: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::from_str(AGENT_REPORTED_JSON).unwrap_or_default());

/// The properties of the official Machines_Get example (2026-07-15) that the agent reports.
const AGENT_REPORTED_JSON: &str = r#"{
  "adFqdn": null,
  "agentConfiguration": {
    "configMode": "full",
    "extensionsAllowList": null,
    "extensionsBlockList": null,
    "extensionsEnabled": "true",
    "guestConfigurationEnabled": "true",
    "incomingConnectionsPorts": [
      "22",
      "23"
    ],
    "proxyBypass": [
      "proxy1",
      "proxy2"
    ],
    "proxyUrl": "https://test.test"
  },
  "clientPublicKey": "string",
  "detectedProperties": {
    "cloudprovider": "N/A",
    "manufacturer": "Microsoft Corporation",
    "model": "Virtual Machine"
  },
  "dnsFqdn": null,
  "domainName": null,
  "errorDetails": null,
  "firmwareProfile": {
    "serialNumber": "007f0232-1c2e-4978-8604-ea44e7a5f5a0",
    "type": "BIOS"
  },
  "hardwareProfile": {
    "numberOfCpuSockets": 2,
    "processors": [
      {
        "name": "Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz",
        "numberOfCores": 4
      }
    ],
    "totalPhysicalMemoryInBytes": 34359738368
  },
  "hardwareResourceId": null,
  "identityKeyStore": "TPM",
  "licenseProfile": {
    "esuProfile": {
      "esuEligibility": "Ineligible",
      "esuKeyState": "Inactive",
      "esuKeys": [
        {
          "licenseStatus": 1,
          "sku": "skuNumber1"
        },
        {
          "licenseStatus": 1,
          "sku": "skuNumber2"
        }
      ],
      "licenseAssignmentState": "Assigned",
      "serverType": "Standard"
    },
    "licenseChannel": "PSG",
    "licenseStatus": "Licensed",
    "productProfile": {
      "billingEndDate": "2023-11-05T20:36:49.745Z",
      "billingStartDate": "2023-10-05T20:36:49.745Z",
      "disenrollmentDate": "2023-11-05T20:36:49.745Z",
      "enrollmentDate": "2023-10-05T20:36:49.745Z",
      "productFeatures": [
        {
          "billingEndDate": "2023-11-05T20:36:49.745Z",
          "billingStartDate": "2023-10-05T20:36:49.745Z",
          "disenrollmentDate": "2023-11-05T20:36:49.745Z",
          "enrollmentDate": "2023-10-05T20:36:49.745Z",
          "name": "Hotpatch",
          "subscriptionStatus": "Enabled"
        }
      ],
      "productType": "WindowsServer",
      "subscriptionStatus": "Enabled"
    },
    "softwareAssurance": {
      "softwareAssuranceCustomer": true
    }
  },
  "locationData": {
    "city": "redmond",
    "countryOrRegion": "usa",
    "district": null,
    "name": "Redmond"
  },
  "mssqlDiscovered": "false",
  "networkProfile": {
    "networkInterfaces": [
      {
        "id": "8",
        "ipAddresses": [
          {
            "address": "192.168.12.345",
            "ipAddressVersion": "IPv4",
            "subnet": {
              "addressPrefix": "192.168.12.0/24"
            }
          }
        ],
        "macAddress": "3c:49:6e:13:0e:73",
        "name": "Wi-Fi"
      },
      {
        "id": "23",
        "ipAddresses": [
          {
            "address": "1001:0:34aa:5000:1234:aaaa:bbbb:cccc",
            "ipAddressVersion": "IPv6",
            "subnet": {
              "addressPrefix": "1001:0:34aa:5000::/64"
            }
          }
        ],
        "macAddress": "10:15:5c:52:f9:b8",
        "name": "Ethernet"
      }
    ]
  },
  "osEdition": "Standard",
  "osProfile": {
    "computerName": null,
    "linuxConfiguration": {
      "patchSettings": {
        "assessmentMode": null,
        "patchMode": null
      }
    },
    "windowsConfiguration": {
      "patchSettings": {
        "assessmentMode": null,
        "enableHotpatching": true,
        "patchMode": null,
        "status": {
          "error": null,
          "hotpatchEnablementStatus": "Enabled"
        }
      }
    }
  },
  "osSku": null,
  "osVersion": null,
  "serviceStatuses": {
    "extensionService": {
      "startupType": "Automatic",
      "status": "Running"
    },
    "guestConfigurationService": {
      "startupType": "Automatic",
      "status": "Running"
    }
  },
  "storageProfile": {
    "disks": [
      {
        "diskType": "Fixed",
        "generatedId": "94318602-6e46-4eaa-997e-0e528afe3d17",
        "id": "2",
        "maxSizeInBytes": 1022870155264,
        "name": "Windows",
        "path": "C:/",
        "usedSpaceInBytes": 435501297664
      }
    ]
  },
  "tpmEkCertificate": "string",
  "vmUuid": null
}"#;

/// A machine as GET and PATCH return it: stored values merged over the agent-reported
/// defaults.
pub fn render_machine(v: &Arc<Value>) -> Value {
    let mut out = Value::clone(v);
    let mut props = AGENT_REPORTED.clone();
    merge(&mut props, &v["properties"]);
    out["properties"] = props;
    out
}

/// A machine as the agent registers it.
pub fn machine_value(
    id: &str,
    location: &str,
    tags: &Value,
    status: &str,
    scope: Option<&str>,
) -> Value {
    let name = id.rsplit('/').next().unwrap_or_default();
    let mut props = json!({
        "provisioningState": "Succeeded",
        "status": status,
        "agentVersion": "1.50.02995.1843",
        "osType": "linux",
        "osName": "linux",
        "displayName": name,
        "machineFqdn": name,
        "vmId": uuid::Uuid::new_v4().to_string(),
        "lastStatusChange": super::now(),
    });
    if let Some(s) = scope {
        props["privateLinkScopeResourceId"] = json!(s);
    }
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": ids::normalize_location(location),
        "tags": tags,
        "properties": props,
    })
}

pub fn is_scope_id(id: &str) -> Option<ResourceId> {
    ResourceId::parse(id).filter(|r| r.is_type(SCOPES))
}
