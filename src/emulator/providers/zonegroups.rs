//! Microsoft.Network private DNS zone groups: one per private endpoint, writing the A records
//! of the endpoint's FQDNs into the private DNS zones it names.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::ApiError;
use super::super::ids;
use super::super::state::{self, Map};
use super::call::{Call, Reply};
use super::privatedns::{ZONES, record_value};
use super::rules::{linked_id, new_etag, referenced};
use super::targets::record_of;

pub const ZONE_GROUPS: &str = "microsoft.network/privateendpoints/privatednszonegroups";
/// The TTL of the records zone groups write.
const RECORD_TTL: u64 = 10;

/// The records a zone group maintains, as (zone name, record name) in lower case.
pub fn covered_records(group: &Value) -> Vec<(String, String)> {
    group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|cfg| {
            let zone = cfg["properties"]["privateDnsZoneId"]
                .as_str()
                .and_then(|z| z.rsplit('/').next())
                .unwrap_or_default()
                .to_ascii_lowercase();
            cfg["properties"]["recordSets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |rs| {
                    let name = rs["recordSetName"].as_str()?;
                    Some((zone.clone(), name.to_ascii_lowercase()))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Removes the A records a zone group wrote.
pub fn on_zone_group_deleted(map: &mut Map, _key: &str, group: &Value) {
    for cfg in group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let zone = cfg["properties"]["privateDnsZoneId"]
            .as_str()
            .map(ids::key)
            .unwrap_or_default();
        for rs in cfg["properties"]["recordSets"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(name) = rs["recordSetName"].as_str() {
                map.remove(&format!("{zone}/a/{}", name.to_ascii_lowercase()));
            }
        }
    }
}

pub fn put_zone_group(call: &Call) -> Result<Reply, ApiError> {
    let (mut put, endpoint) = call.child_put()?;
    if put.existing.is_none()
        && let Some((_, other)) =
            state::children(&put.map, &endpoint.key, "privatednszonegroups").next()
    {
        // Behaviour 6: one zone group per endpoint.
        return Err(ApiError::bad_request(
            "BadRequest",
            format!(
                "Cannot create more than one private dns zone groups in the private endpoint {}; it already has {}.",
                call.rid
                    .parent()
                    .map(|p| p.name().to_string())
                    .unwrap_or_default(),
                other["name"].as_str().unwrap_or_default()
            ),
        ));
    }
    let configs_in = put
        .body
        .get("properties")
        .and_then(|p| p.get("privateDnsZoneConfigs"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut zones = Vec::new();
    for (i, cfg) in configs_in.iter().enumerate() {
        let path = format!("properties.privateDnsZoneConfigs[{i}].properties.privateDnsZoneId");
        let zone_rid = linked_id(&cfg["properties"]["privateDnsZoneId"], &path, ZONES)?;
        let zone = referenced(&put.map, &zone_rid, &put.id)?.clone();
        let name = cfg["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| zone_rid.name().replace('.', "-"));
        zones.push((name, zone));
    }
    if let Some(old) = &put.existing {
        on_zone_group_deleted(&mut put.map, &put.key, old);
    }
    let dns = endpoint.value["properties"]["customDnsConfigs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let configs: Vec<Value> = zones
        .into_iter()
        .map(|(name, zone)| {
            json!({
                "id": format!("{}/privateDnsZoneConfigs/{name}", put.id),
                "name": name,
                "properties": {
                    "privateDnsZoneId": zone["id"].as_str().unwrap_or_default(),
                    "recordSets": write_records(&mut put.map, &zone, &dns),
                },
            })
        })
        .collect();
    let v = json!({
        "id": put.id,
        "name": call.rid.name(),
        "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        "etag": new_etag(),
        "properties": {"provisioningState": "Updating", "privateDnsZoneConfigs": configs},
    });
    let location = endpoint.value["location"].as_str().unwrap_or("global");
    Ok(put.provisioning(v, location))
}

/// Writes into `zone` the A records of the endpoint's FQDNs that belong there; returns them as
/// the zone config's `recordSets`.
fn write_records(map: &mut Map, zone: &Value, dns: &[Value]) -> Vec<Value> {
    let zone_id = zone["id"].as_str().unwrap_or_default();
    let zone_name = zone["name"].as_str().unwrap_or_default();
    let mut record_sets = Vec::new();
    for c in dns {
        let fqdn = c["fqdn"].as_str().unwrap_or_default();
        // Records are written only into the zone Microsoft's table recommends for a name
        // (reference/arm-behaviours.md 5, 8).
        let Some((recommended, rel)) = record_of(fqdn) else {
            continue;
        };
        if !recommended.eq_ignore_ascii_case(zone_name) {
            continue;
        }
        let rel = &fqdn[..rel.len()];
        let record_id = format!("{zone_id}/A/{rel}");
        let a_records: Vec<Value> = c["ipAddresses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|ip| json!({"ipv4Address": ip}))
            .collect();
        let record = record_value(&record_id, zone_name, RECORD_TTL, a_records, json!({}));
        map.insert(ids::key(&record_id), Arc::new(record));
        record_sets.push(json!({
            "recordType": "A",
            "recordSetName": rel,
            "fqdn": format!("{rel}.{zone_name}"),
            "provisioningState": "Succeeded",
            "ttl": RECORD_TTL,
            "ipAddresses": c["ipAddresses"],
        }));
    }
    record_sets
}
