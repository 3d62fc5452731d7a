//! Microsoft.Network private endpoints and the read-only network interfaces Network creates
//! for them: the names each serves for the targets it connects to ([`super::targets`]), their
//! addresses ([`super::endpoint_ips`]) and its connections ([`super::endpoint_links`]).

use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::ApiError;
use super::super::ids;
use super::super::state::{self, Map};
use super::call::{Call, Reply, View};
use super::connections::connections_of_endpoint;
use super::endpoint_ips::{Addressed, Served, assign, check_members, static_ips, used_ips};
use super::endpoint_links::{
    AUTO, MANUAL, connections_in, connections_out, connections_unchanged, plan,
};
use super::rules::{linked_id, new_etag, referenced, tags, tracked_location, writable_properties};
use super::targets::record_of;
use super::vnets::SUBNETS;
use super::zonegroups::{covered_records, on_zone_group_deleted};

pub const ENDPOINTS: &str = "microsoft.network/privateendpoints";
pub const NICS: &str = "microsoft.network/networkinterfaces";

const ENDPOINT_READ_ONLY: &[&str] = &[
    "provisioningState",
    "networkInterfaces",
    "customDnsConfigs",
    "resourceGuid",
];

/// A private endpoint's network interface belongs to the endpoint.
pub fn refuse_nic_write(call: &Call) -> Result<Reply, ApiError> {
    Err(ApiError::bad_request(
        "CannotModifyNicAttachedToPrivateEndpoint",
        format!(
            "Network interface {} is attached to a private endpoint and cannot be modified by the user.",
            call.rid.to_id()
        ),
    ))
}

/// A private endpoint as GET returns it. Network is reported to leave out of
/// `customDnsConfigs` the names a DNS zone group covers (reference/arm-behaviours.md 5).
pub fn render_endpoint(map: &Map, v: &Arc<Value>, view: &View) -> Value {
    if !view.behaviours.dns_configs_covered_by_zone_group {
        return Value::clone(v);
    }
    let key = v["id"].as_str().map(ids::key).unwrap_or_default();
    let covered: Vec<(String, String)> = state::children(map, &key, "privatednszonegroups")
        .flat_map(|(_, g)| covered_records(g))
        .collect();
    let mut out = Value::clone(v);
    if let Some(configs) = out["properties"]["customDnsConfigs"].as_array_mut() {
        configs.retain(|c| {
            let record = c["fqdn"]
                .as_str()
                .and_then(record_of)
                .map(|(zone, rel)| (zone.to_string(), rel));
            record.is_none_or(|r| !covered.contains(&r))
        });
    }
    out
}

pub fn put_endpoint(call: &Call) -> Result<Reply, ApiError> {
    let mut put = call.put()?;
    let location = tracked_location(put.body, put.existing.as_deref(), call.rid.name())?;
    let tags_in = tags(put.body)?.unwrap_or(json!({}));
    let mut props = writable_properties(put.body, ENDPOINT_READ_ONLY)?;
    let subnet_rid = linked_id(
        &props
            .get("subnet")
            .map(|s| s["id"].clone())
            .unwrap_or(Value::Null),
        "properties.subnet.id",
        SUBNETS,
    )?;
    let subnet = referenced(&put.map, &subnet_rid, &put.id)?.clone();
    let conns = connections_in(&props, call.rid.name())?;
    if let Some(e) = &put.existing {
        connections_unchanged(e, &conns, &put.id)?;
        nic_name_unchanged(e, &props, &put.id)?;
    }
    let new_nic = match &put.existing {
        Some(_) => None,
        None => Some(new_nic_id(call, &props, &put.map, &put.id)?),
    };

    let plans = plan(&put.map, &conns, &put.id)?;
    let statics = static_ips(&props)?;
    let groups: Vec<_> = plans.iter().flatten().map(|p| &p.group).collect();
    if !groups.is_empty() {
        check_members(&statics, &groups, &put.id)?;
    }
    let served: Vec<Served> = groups
        .iter()
        .flat_map(|g| {
            g.names.iter().map(|(member, fqdn)| Served {
                group_id: g.id.to_string(),
                member: member.clone(),
                fqdn: fqdn.clone(),
            })
        })
        .collect();
    let subnet_key = ids::key(&subnet_rid.to_id());
    let used = used_ips(&put.map, &call.rid.subscription, &subnet_key, &put.key);
    let old = old_addresses(put.existing.as_deref(), &subnet_key);
    let addressed = assign(served, &statics, &old, &subnet, &used)?;
    let custom_dns: Vec<Value> = addressed
        .iter()
        .map(|a| json!({"fqdn": a.served.fqdn, "ipAddresses": [a.ip]}))
        .collect();
    let (auto, manual) = connections_out(
        &mut put.map,
        put.existing.as_deref(),
        call.rid.name(),
        &put.id,
        &conns,
        &plans,
    );
    // Connections dropped from the endpoint disappear from their targets.
    let kept: Vec<String> = plans
        .iter()
        .flatten()
        .map(|p| ids::key(&p.target_id))
        .collect();
    for conn_key in connections_of_endpoint(&put.map, &put.key) {
        if !kept.iter().any(|t| conn_key.starts_with(&format!("{t}/"))) {
            state::remove_tree(&mut put.map, &conn_key);
        }
    }

    let nic = match (put.existing.as_ref(), new_nic) {
        (Some(e), _) => e["properties"]["networkInterfaces"].clone(),
        (None, Some(nic_id)) => {
            let value = nic_value(&nic_id, &put.id, &location, &subnet, &addressed);
            put.map.insert(ids::key(&nic_id), Arc::new(value));
            json!([{"id": nic_id}])
        }
        (None, None) => json!([]),
    };
    props.insert("subnet".into(), json!({"id": subnet["id"]}));
    props.insert(AUTO.into(), Value::Array(auto));
    props.insert(MANUAL.into(), Value::Array(manual));
    props.insert("networkInterfaces".into(), nic);
    props.insert("customDnsConfigs".into(), Value::Array(custom_dns));
    props.entry("ipConfigurations").or_insert(json!([]));
    props
        .entry("applicationSecurityGroups")
        .or_insert(json!([]));
    props.insert("provisioningState".into(), json!("Updating"));
    props.insert(
        "resourceGuid".into(),
        put.existing
            .as_ref()
            .map(|e| e["properties"]["resourceGuid"].clone())
            .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
    );
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/privateEndpoints",
        "location": location,
        "etag": new_etag(),
        "tags": tags_in,
        "properties": props,
    });
    Ok(put.provisioning(v, &location))
}

/// The addresses an endpoint's names had, when it stays in the same subnet.
fn old_addresses(existing: Option<&Value>, subnet_key: &str) -> Vec<(String, Value)> {
    existing
        .filter(|e| {
            e["properties"]["subnet"]["id"]
                .as_str()
                .map(ids::key)
                .as_deref()
                == Some(subnet_key)
        })
        .and_then(|e| e["properties"]["customDnsConfigs"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| Some((c["fqdn"].as_str()?.to_string(), c["ipAddresses"].clone())))
        .collect()
}

/// Behaviour 2: the name of an endpoint's NIC never changes; a request must send the custom
/// name the endpoint has (an absent one counts as empty), or none when Azure named the NIC.
fn nic_name_unchanged(
    existing: &Value,
    props: &JsonMap<String, Value>,
    pe_id: &str,
) -> Result<(), ApiError> {
    let custom = existing["properties"]["customNetworkInterfaceName"]
        .as_str()
        .unwrap_or_default();
    let nic = existing["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .and_then(|n| n.rsplit('/').next())
        .unwrap_or_default();
    let asked = props
        .get("customNetworkInterfaceName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let changed = if custom.is_empty() {
        !asked.is_empty() && !asked.eq_ignore_ascii_case(nic)
    } else {
        !asked.eq_ignore_ascii_case(custom)
    };
    if changed {
        return Err(ApiError::bad_request(
            "NameOfExistingPrivateEndpointNicCannotBeChanged",
            format!(
                "Private Endpoint {pe_id} contains existing NIC name {nic} which does not match request's custom network interface name {asked}. Updating the name of existing nic not allowed."
            ),
        ));
    }
    Ok(())
}

/// The id of a new endpoint's NIC: its `customNetworkInterfaceName`, else Network's
/// `<endpoint>.nic.<guid>`; a custom name already taken is refused.
fn new_nic_id(
    call: &Call,
    props: &JsonMap<String, Value>,
    map: &Map,
    pe_id: &str,
) -> Result<String, ApiError> {
    let custom = props
        .get("customNetworkInterfaceName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let name = custom
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.nic.{}", call.rid.name(), uuid::Uuid::new_v4()));
    let nic_id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkInterfaces/{name}",
        call.rid.subscription, call.rid.resource_group
    );
    if map.contains_key(&ids::key(&nic_id)) {
        return Err(ApiError::bad_request(
            "BadRequest",
            format!("{pe_id} contains custom NIC name {name} which already exists."),
        ));
    }
    Ok(nic_id)
}

/// The read-only NIC Network creates with a private endpoint: one IP configuration per
/// address, carrying the group, member and names it serves (`privateLinkConnectionProperties`).
fn nic_value(
    nic_id: &str,
    pe_id: &str,
    location: &str,
    subnet: &Value,
    addressed: &[Addressed],
) -> Value {
    let mut by_ip: Vec<(&Addressed, Vec<&str>)> = Vec::new();
    for a in addressed {
        match by_ip.iter_mut().find(|(first, _)| first.ip == a.ip) {
            Some((_, fqdns)) => fqdns.push(&a.served.fqdn),
            None => by_ip.push((a, vec![&a.served.fqdn])),
        }
    }
    let ip_configs: Vec<Value> = by_ip
        .iter()
        .enumerate()
        .map(|(i, (a, fqdns))| {
            let name = a
                .static_config
                .clone()
                .unwrap_or_else(|| format!("privateEndpointIpConfig.{i}"));
            json!({
                "name": name,
                "id": format!("{nic_id}/ipConfigurations/{name}"),
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": a.ip,
                    "privateIPAllocationMethod": if a.static_config.is_some() { "Static" } else { "Dynamic" },
                    "subnet": {"id": subnet["id"]},
                    "primary": i == 0,
                    "privateIPAddressVersion": "IPv4",
                    "privateLinkConnectionProperties": {
                        "groupId": a.served.group_id,
                        "requiredMemberName": a.served.member,
                        "fqdns": fqdns,
                    },
                },
            })
        })
        .collect();
    json!({
        "id": nic_id,
        "name": nic_id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/networkInterfaces",
        "location": location,
        "etag": new_etag(),
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": uuid::Uuid::new_v4().to_string(),
            "ipConfigurations": ip_configs,
            "privateEndpoint": {"id": pe_id},
            "nicType": "Standard",
        },
    })
}

/// The endpoint's NIC, its zone group's records and its target-side connections go with it.
pub fn on_endpoint_deleted(map: &mut Map, pe_key: &str, _endpoint: &Value) {
    let nics: Vec<String> = map
        .get(pe_key)
        .and_then(|pe| pe["properties"]["networkInterfaces"].as_array().cloned())
        .into_iter()
        .flatten()
        .filter_map(|n| n["id"].as_str().map(ids::key))
        .collect();
    for nic in nics {
        map.remove(&nic);
    }
    let groups: Vec<Arc<Value>> = state::children(map, pe_key, "privatednszonegroups")
        .map(|(_, v)| v.clone())
        .collect();
    for g in groups {
        on_zone_group_deleted(map, "", &g);
    }
    for conn in connections_of_endpoint(map, pe_key) {
        state::remove_tree(map, &conn);
    }
}
