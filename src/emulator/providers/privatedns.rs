//! Microsoft.Network/privateDnsZones: zones, virtual network links and A record sets.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::super::lro::Effect;
use super::super::state::{self, Map};
use super::call::{Call, Put, Reply, View, WhileBusy};
use super::rules::{linked_id, new_etag, referenced, require_idle, system_data, tags};
use super::vnets::VNETS;

pub const ZONES: &str = "microsoft.network/privatednszones";
pub const ZONE_LINKS: &str = "microsoft.network/privatednszones/virtualnetworklinks";
pub const A_RECORDS: &str = "microsoft.network/privatednszones/a";

/// Private DNS resources live in the `global` location only.
fn global_location(body: &serde_json::Map<String, Value>, type_name: &str) -> Result<(), ApiError> {
    match body.get("location").and_then(Value::as_str) {
        None => Err(ApiError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        )),
        Some(l) if ids::normalize_location(l) == "global" => Ok(()),
        Some(l) => Err(ApiError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{l}' is not available for resource type '{type_name}'. List of available regions for the resource type is 'global'."
            ),
        )),
    }
}

/// A PUT of a Private DNS resource: its location must be `global`.
fn global_put<'c>(call: &'c Call, type_name: &str) -> Result<Put<'c>, ApiError> {
    global_location(call.body()?, type_name)?;
    call.put()
}

/// Stores what a PUT wrote, answered 202 with an operation that provisions it (in `global`).
fn provisioning(mut put: Put, v: Value) -> Reply {
    put.map.insert(put.key.clone(), Arc::new(v));
    Reply::accepted("global", Effect::Provision { key: put.key })
}

/// Etags change on every write; `If-Match` / `If-None-Match` are checked by [`Call::put`].
pub fn put_zone(call: &Call) -> Result<Reply, ApiError> {
    let put = global_put(call, "Microsoft.Network/privateDnsZones")?;
    let existing = put.existing.as_deref();
    let internal_id = existing
        .map(|e| e["properties"]["internalId"].clone())
        .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/privateDnsZones",
        "location": "global",
        "etag": uuid::Uuid::new_v4().to_string(),
        "tags": tags(put.body)?.unwrap_or(json!({})),
        "properties": {
            "maxNumberOfRecordSets": 25000,
            "maxNumberOfVirtualNetworkLinks": 1000,
            "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
            "provisioningState": "Updating",
            "internalId": internal_id,
        },
        "systemData": system_data(existing, &call.caller),
    });
    Ok(provisioning(put, v))
}

pub fn patch_zone(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    require_idle(Some(&update.existing))?;
    update.value["etag"] = json!(uuid::Uuid::new_v4().to_string());
    let v = update.store();
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(200, render_zone(&update.map, &v, &view)).into())
}

pub fn delete_zone(call: &Call) -> Result<Reply, ApiError> {
    {
        let map = call.shared.store.read();
        if state::children(&map, &call.key(), "virtualnetworklinks")
            .next()
            .is_some()
        {
            return Err(ApiError::bad_request(
                "BadRequest",
                format!(
                    "You cannot delete a Private DNS zone '{}' that has virtual network links. Please delete all virtual network links first.",
                    call.rid.name()
                ),
            ));
        }
    }
    call.accepted_delete(WhileBusy::Refuse)
}

/// A zone with its record set and link counts.
pub fn render_zone(map: &Map, v: &Arc<Value>, _: &View) -> Value {
    let mut out = Value::clone(v);
    let key = v["id"].as_str().map(ids::key).unwrap_or_default();
    let records = state::children(map, &key, "a").count() + 1; // + the SOA record
    let links: Vec<&Arc<Value>> = state::children(map, &key, "virtualnetworklinks")
        .map(|(_, l)| l)
        .collect();
    let with_registration = links
        .iter()
        .filter(|l| l["properties"]["registrationEnabled"] == json!(true))
        .count();
    if let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("numberOfRecordSets".into(), json!(records));
        p.insert("numberOfVirtualNetworkLinks".into(), json!(links.len()));
        p.insert(
            "numberOfVirtualNetworkLinksWithRegistration".into(),
            json!(with_registration),
        );
    }
    out
}

pub fn put_link(call: &Call) -> Result<Reply, ApiError> {
    let put = global_put(
        call,
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    )?;
    let props = put.body.get("properties").cloned().unwrap_or(Value::Null);
    let vnet_rid = linked_id(
        &props["virtualNetwork"]["id"],
        "properties.virtualNetwork.id",
        VNETS,
    )?;
    let vnet = referenced(&put.map, &vnet_rid, &put.id)?;
    let registration = props["registrationEnabled"].as_bool().unwrap_or(false);
    let mut p = json!({
        "virtualNetwork": {"id": vnet["id"]},
        "registrationEnabled": registration,
        "virtualNetworkLinkState": "Completed",
        "provisioningState": "Updating",
    });
    if let Some(policy) = props.get("resolutionPolicy") {
        p["resolutionPolicy"] = policy.clone();
    }
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "location": "global",
        "etag": uuid::Uuid::new_v4().to_string(),
        "tags": tags(put.body)?.unwrap_or(json!({})),
        "properties": p,
    });
    Ok(provisioning(put, v))
}

pub fn patch_link(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    require_idle(Some(&update.existing))?;
    if let Some(r) = update
        .body
        .get("properties")
        .and_then(|p| p.get("registrationEnabled"))
        .and_then(Value::as_bool)
    {
        update.value["properties"]["registrationEnabled"] = json!(r);
    }
    update.value["etag"] = json!(uuid::Uuid::new_v4().to_string());
    let v = update.store();
    Ok(ArmResponse::json(200, Value::clone(&v)).into())
}

pub fn record_value(
    id: &str,
    zone_name: &str,
    ttl: u64,
    a_records: Vec<Value>,
    metadata: Value,
) -> Value {
    let name = id.rsplit('/').next().unwrap_or_default();
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Network/privateDnsZones/A",
        "etag": uuid::Uuid::new_v4().to_string(),
        "properties": {
            "metadata": metadata,
            "ttl": ttl,
            "fqdn": format!("{name}.{zone_name}."),
            "isAutoRegistered": false,
            "aRecords": a_records,
        },
    })
}

/// The writable fields of an A record set: ttl, aRecords, metadata.
type RecordInput = (Option<u64>, Option<Vec<Value>>, Option<Value>);

fn record_input(v: &Value) -> Result<RecordInput, ApiError> {
    let p = &v["properties"];
    let ttl = p.get("ttl").and_then(Value::as_u64);
    let a = match p.get("aRecords") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            for r in items {
                let ip = r["ipv4Address"].as_str().unwrap_or_default();
                if ip.parse::<std::net::Ipv4Addr>().is_err() {
                    return Err(ApiError::bad_request(
                        "BadRequest",
                        format!("The IPv4 address '{ip}' is invalid."),
                    ));
                }
            }
            Some(items.clone())
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "'properties.aRecords' must be an array.",
            ));
        }
    };
    Ok((ttl, a, p.get("metadata").cloned()))
}

pub fn put_record(call: &Call) -> Result<Reply, ApiError> {
    let body = call.body.clone().unwrap_or(Value::Null);
    call.body()?;
    let (ttl, a, metadata) = record_input(&body)?;
    let key = call.key();
    let mut map = call.shared.store.write();
    let zone_key = call
        .rid
        .parent()
        .map(|p| ids::key(&p.to_id()))
        .unwrap_or_default();
    let zone = map
        .get(&zone_key)
        .cloned()
        .ok_or_else(|| call.not_found())?;
    call.preconditions(map.get(&key))?;
    let existed = map.contains_key(&key);
    let id = format!(
        "{}/A/{}",
        zone["id"].as_str().unwrap_or_default(),
        call.rid.name()
    );
    let v = record_value(
        &id,
        zone["name"].as_str().unwrap_or_default(),
        ttl.unwrap_or(3600),
        a.unwrap_or_default(),
        metadata.unwrap_or(json!({})),
    );
    map.insert(key, Arc::new(v.clone()));
    Ok(ArmResponse::json(if existed { 200 } else { 201 }, v).into())
}

pub fn patch_record(call: &Call) -> Result<Reply, ApiError> {
    let body = call.body.clone().unwrap_or(Value::Null);
    call.body()?;
    let (ttl, a, metadata) = record_input(&body)?;
    let key = call.key();
    let mut map = call.shared.store.write();
    call.preconditions(map.get(&key))?;
    let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
    let mut v = Value::clone(&existing);
    if let Some(t) = ttl {
        v["properties"]["ttl"] = json!(t);
    }
    if let Some(a) = a {
        v["properties"]["aRecords"] = Value::Array(a);
    }
    if let Some(m) = metadata {
        v["properties"]["metadata"] = m;
    }
    v["etag"] = json!(new_etag().trim_start_matches("W/").trim_matches('"'));
    map.insert(key, Arc::new(v.clone()));
    Ok(ArmResponse::json(200, v).into())
}

pub fn delete_record(call: &Call) -> Result<Reply, ApiError> {
    let mut map = call.shared.store.write();
    call.preconditions(map.get(&call.key()))?;
    let status = if map.remove(&call.key()).is_some() {
        200
    } else {
        204
    };
    Ok(ArmResponse::empty(status).into())
}
