//! Microsoft.Network/privateDnsZones: zones, virtual network links and A record sets, with their
//! etags and the `If-Match` / `If-None-Match` conditions on every write ([`conditions`]).

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::Effect;
use super::super::state::{self, Map};
use super::call::{Call, Put, Reply, Update, View, WhileBusy};
use super::conditions::{self, Named};
use super::listing;
use super::rules::{
    linked_id, new_etag, provisioning_state, referenced, require_idle, system_data, tags,
};
use super::vnets::VNETS;

pub const ZONES: &str = "microsoft.network/privatednszones";
pub const ZONE_LINKS: &str = "microsoft.network/privatednszones/virtualnetworklinks";
pub const A_RECORDS: &str = "microsoft.network/privatednszones/a";
/// `…/privateDnsZones/{zone}/ALL`: the list of every record set (RecordSets_List).
pub const ALL_RECORDS: &str = "microsoft.network/privatednszones/all";
/// The record types modelled, as their path segment is stored (lower case).
pub const RECORD_TYPES: &[&str] = &["a"];

const ZONE: &str = "Zone";
const LINK: &str = "Virtual network link";
const RECORD_SET: &str = "Record set";

fn named<'a>(what: &'static str, call: &'a Call) -> Named<'a> {
    Named {
        what,
        name: call.rid.name(),
    }
}

/// Private DNS resources live in the `global` location only (as do other global resource
/// types).
pub fn global_location(
    body: &serde_json::Map<String, Value>,
    type_name: &str,
) -> Result<(), ApiError> {
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

/// A zone's or link's PATCH: long-running, as the spec declares `PrivateZones_Update` and
/// `VirtualNetworkLinks_Update` (202 and an operation, `Updating` until it ends).
fn updating(mut update: Update) -> Reply {
    update.value["etag"] = json!(uuid::Uuid::new_v4().to_string());
    update.value["properties"]["provisioningState"] = json!("Updating");
    update.store();
    Reply::accepted("global", Effect::Provision { key: update.key })
}

/// Etags change on every write.
pub fn put_zone(call: &Call) -> Result<Reply, ApiError> {
    let put = global_put(call, "Microsoft.Network/privateDnsZones")?;
    let existing = put.existing.as_deref();
    conditions::check(call, existing, named(ZONE, call))?;
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
    let update = call.update()?;
    conditions::check(call, Some(&update.existing), named(ZONE, call))?;
    require_idle(Some(&update.existing))?;
    Ok(updating(update))
}

pub fn delete_zone(call: &Call) -> Result<Reply, ApiError> {
    {
        let map = call.shared.store.read();
        if let Some(zone) = map.get(&call.key()) {
            conditions::check(call, Some(zone), named(ZONE, call))?;
        }
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
    let vnet = referenced(&put.map, &vnet_rid, &put.id)?.clone();
    conditions::check(call, put.existing.as_deref(), named(LINK, call))?;
    let overlapping = same_named_zone_linked(&put.map, &put.key, &vnet_rid);
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
    let zone = call
        .rid
        .parent()
        .map(|z| z.name().to_string())
        .unwrap_or_default();
    let reply = provisioning(put, v);
    Ok(match overlapping {
        Some(other) => reply.failing(
            "BadRequest",
            format!(
                "A virtual network cannot be linked to multiple zones with overlapping namespaces. You tried to link virtual network with '{other}' and '{zone}' zones."
            ),
        ),
        None => reply,
    })
}

/// The name of another zone of the same name (DNS names compare without case) that the
/// virtual network is linked to, by a link that did not fail: Azure refuses a second one
/// (MicrosoftDocs/azure-docs pull request 122956, Private Link FAQ: "Creating multiple zones
/// with the same name for a single virtual network is not supported"; the message as users
/// report it, e.g. Azure/ARO-RP issue 796).
fn same_named_zone_linked(map: &Map, link_key: &str, vnet: &ResourceId) -> Option<String> {
    let this = ResourceId::parse(link_key)?;
    let this_zone = this.parent()?;
    let vnet_key = ids::key(&vnet.to_id());
    map.iter()
        .filter(|(k, _)| k.contains("/virtualnetworklinks/") && k.as_str() != link_key)
        .filter(|(_, l)| {
            provisioning_state(l) != "Failed"
                && l["properties"]["virtualNetwork"]["id"]
                    .as_str()
                    .map(ids::key)
                    .as_deref()
                    == Some(vnet_key.as_str())
        })
        .find_map(|(k, l)| {
            let zone = ResourceId::parse(k)?.parent()?;
            let same_name = zone.name().eq_ignore_ascii_case(this_zone.name());
            let other_zone = ids::key(&zone.to_id()) != ids::key(&this_zone.to_id());
            (same_name && other_zone)
                .then(|| l["id"].as_str().and_then(ResourceId::parse))
                .flatten()
                .and_then(|r| r.parent())
                .map(|z| z.name().to_string())
        })
}

pub fn delete_link(call: &Call) -> Result<Reply, ApiError> {
    if let Some(link) = call.shared.store.get(&call.key()) {
        conditions::check(call, Some(&link), named(LINK, call))?;
    }
    call.accepted_delete(WhileBusy::Refuse)
}

pub fn patch_link(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    conditions::check(call, Some(&update.existing), named(LINK, call))?;
    require_idle(Some(&update.existing))?;
    if let Some(r) = update
        .body
        .get("properties")
        .and_then(|p| p.get("registrationEnabled"))
        .and_then(Value::as_bool)
    {
        update.value["properties"]["registrationEnabled"] = json!(r);
    }
    Ok(updating(update))
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
    let existing = map.get(&key).cloned();
    conditions::check(call, existing.as_deref(), named(RECORD_SET, call))?;
    let existed = existing.is_some();
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
    let existing = map.get(&key).cloned().ok_or_else(|| call.not_found())?;
    conditions::check(call, Some(&existing), named(RECORD_SET, call))?;
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
    if let Some(record) = map.get(&call.key()) {
        conditions::check(call, Some(record), named(RECORD_SET, call))?;
    }
    let status = if map.remove(&call.key()).is_some() {
        200
    } else {
        204
    };
    Ok(ArmResponse::empty(status).into())
}

/// `GET …/privateDnsZones/{zone}/ALL`.
pub fn list_all_records(call: &Call) -> Result<Reply, ApiError> {
    listing::list_record_sets(call).map(Reply::from)
}
