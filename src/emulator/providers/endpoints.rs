//! Microsoft.Network private endpoints and the read-only network interfaces Network creates
//! for them, including what ties an endpoint to the HybridCompute scopes it connects to.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::ApiError;
use super::super::ids::{self, ResourceId};
use super::super::state::{self, Map};
use super::call::{Call, Reply, View};
use super::rules::{
    invalid_linked_id, linked_id, new_etag, referenced, tags, tracked_location, writable_properties,
};
use super::scopes::{self, GROUP_ID};
use super::vnets::SUBNETS;
use super::zonegroups::{covered_names, on_zone_group_deleted};

pub const ENDPOINTS: &str = "microsoft.network/privateendpoints";
pub const NICS: &str = "microsoft.network/networkinterfaces";

const ENDPOINT_READ_ONLY: &[&str] = &[
    "provisioningState",
    "networkInterfaces",
    "customDnsConfigs",
    "resourceGuid",
];

const AUTO: &str = "privateLinkServiceConnections";
const MANUAL: &str = "manualPrivateLinkServiceConnections";
/// Azure's limit on a connection's `requestMessage` (reference/arm-behaviours.md 7).
const MAX_REQUEST_MESSAGE: usize = 140;

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
    let covered: Vec<String> = state::children(map, &key, "privatednszonegroups")
        .flat_map(|(_, g)| covered_names(g))
        .collect();
    let mut out = Value::clone(v);
    if let Some(configs) = out["properties"]["customDnsConfigs"].as_array_mut() {
        configs.retain(|c| {
            c["fqdn"]
                .as_str()
                .is_none_or(|f| !covered.contains(&f.to_ascii_lowercase()))
        });
    }
    out
}

/// The FQDNs an Arc private endpoint serves, for a scope in `region`.
pub fn arc_fqdns(region: &str) -> Vec<String> {
    vec![
        "gbl.his.arc.azure.com".to_string(),
        format!("{region}.his.arc.azure.com"),
        "agentserviceapi.guestconfiguration.azure.com".to_string(),
        format!("{region}-gas.guestconfiguration.azure.com"),
        format!("{region}.dp.kubernetesconfiguration.azure.com"),
    ]
}

fn parse_cidr(prefix: &str) -> Option<(u32, u32)> {
    let (addr, len) = prefix.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 30)?;
    let size = 1u32 << (32 - len);
    Some((u32::from(addr) & !(size - 1), size))
}

/// IPs already used by private endpoints in `subnet_key`.
fn used_ips(map: &Map, sub: &str, subnet_key: &str, except: &str) -> Vec<String> {
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    state::range_after(map, &prefix, None)
        .filter(|(k, v)| {
            k.as_str() != except
                && v["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Network/privateEndpoints"))
                && v["properties"]["subnet"]["id"]
                    .as_str()
                    .map(ids::key)
                    .as_deref()
                    == Some(subnet_key)
        })
        .flat_map(|(_, v)| {
            v["properties"]["customDnsConfigs"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["ipAddresses"].as_array().into_iter().flatten())
                .filter_map(|ip| ip.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Azure keeps the first four and the last address of a subnet.
fn allocate_ips(subnet: &Value, used: &[String], n: usize) -> Result<Vec<String>, ApiError> {
    let prefix = subnet["properties"]["addressPrefix"]
        .as_str()
        .unwrap_or_default();
    let (base, size) = parse_cidr(prefix).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidAddressPrefix",
            format!("Subnet address prefix '{prefix}' is not a valid IPv4 prefix."),
        )
    })?;
    let out: Vec<String> = (4..size.saturating_sub(1))
        .map(|i| Ipv4Addr::from(base + i).to_string())
        .filter(|ip| !used.contains(ip))
        .take(n)
        .collect();
    if out.len() < n {
        return Err(ApiError::bad_request(
            "SubnetIsFull",
            format!(
                "Subnet with address prefix {prefix} does not have enough free private IP addresses."
            ),
        ));
    }
    Ok(out)
}

struct ConnIn {
    list: &'static str,
    name: String,
    target: String,
    group_ids: Value,
    request_message: String,
    /// `privateLinkServiceConnectionState` as sent, if it was.
    state: Option<Value>,
}

fn connections_in(props: &JsonMap<String, Value>, pe_name: &str) -> Result<Vec<ConnIn>, ApiError> {
    let mut out = Vec::new();
    for list in [AUTO, MANUAL] {
        let Some(items) = props.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let path = format!("properties.{list}[{i}].properties.privateLinkServiceId");
            let target = c["properties"]["privateLinkServiceId"]
                .as_str()
                .unwrap_or_default();
            if ResourceId::parse(target).is_none() {
                return Err(invalid_linked_id(target, &path));
            }
            let request_message = c["properties"]["requestMessage"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if request_message.chars().count() > MAX_REQUEST_MESSAGE {
                return Err(ApiError::bad_request(
                    "BadRequest",
                    format!(
                        "The request message of properties.{list}[{i}] is {} characters long; the maximum is {MAX_REQUEST_MESSAGE}.",
                        request_message.chars().count()
                    ),
                ));
            }
            out.push(ConnIn {
                list,
                name: c["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| pe_name.to_string()),
                target: target.to_string(),
                group_ids: c["properties"]["groupIds"].clone(),
                request_message,
                state: c["properties"]
                    .get("privateLinkServiceConnectionState")
                    .filter(|s| !s.is_null())
                    .cloned(),
            });
        }
    }
    Ok(out)
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

    // Only Arc scopes are modelled; other private link services are accepted as opaque targets.
    let mut fqdns = Vec::new();
    let mut scope_links = Vec::new();
    for c in &conns {
        if let Some(scope) = scopes::is_scope_id(&c.target) {
            let scope_v = referenced(&put.map, &scope, &put.id)?;
            let region = scope_v["location"].as_str().unwrap_or("global").to_string();
            fqdns.extend(arc_fqdns(&region));
            scope_links.push(scope);
        }
    }
    let subnet_key = ids::key(&subnet_rid.to_id());
    let used = used_ips(&put.map, &call.rid.subscription, &subnet_key, &put.key);
    let custom_dns =
        custom_dns_configs(put.existing.as_deref(), &subnet_key, &subnet, &used, &fqdns)?;
    let (auto, manual) = connections_out(
        &mut put.map,
        put.existing.as_deref(),
        call.rid.name(),
        &put.id,
        &conns,
    );
    // Connections dropped from the endpoint disappear from their scopes.
    let kept: Vec<String> = scope_links.iter().map(|s| ids::key(&s.to_id())).collect();
    for conn_key in scopes::connections_of_endpoint(&put.map, &put.key) {
        if !kept.iter().any(|s| conn_key.starts_with(&format!("{s}/"))) {
            state::remove_tree(&mut put.map, &conn_key);
        }
    }

    let nic = match (put.existing.as_ref(), new_nic) {
        (Some(e), _) => e["properties"]["networkInterfaces"].clone(),
        (None, Some(nic_id)) => {
            let value = nic_value(&nic_id, &put.id, &location, &subnet, &custom_dns);
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

/// The endpoint's `customDnsConfigs`: a free IP of the subnet for each FQDN, or the IP it had
/// when the endpoint stays in the same subnet.
fn custom_dns_configs(
    existing: Option<&Value>,
    subnet_key: &str,
    subnet: &Value,
    used: &[String],
    fqdns: &[String],
) -> Result<Vec<Value>, ApiError> {
    let old_ips: Vec<(String, Value)> = existing
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
        .filter_map(|c| {
            Some((
                c["fqdn"].as_str()?.to_ascii_lowercase(),
                c["ipAddresses"].clone(),
            ))
        })
        .collect();
    let missing = fqdns
        .iter()
        .filter(|f| !old_ips.iter().any(|(o, _)| *o == f.to_ascii_lowercase()))
        .count();
    let mut fresh = allocate_ips(subnet, used, missing)?.into_iter();
    Ok(fqdns
        .iter()
        .map(|f| {
            let ips = old_ips
                .iter()
                .find(|(o, _)| *o == f.to_ascii_lowercase())
                .map(|(_, ips)| ips.clone())
                .unwrap_or_else(|| json!([fresh.next().unwrap_or_default()]));
            json!({"fqdn": f, "ipAddresses": ips})
        })
        .collect())
}

/// The endpoint's automatic and manual connections as stored: a connection keeps the state
/// it had; a new one is approved (automatic) or pending (manual) and, to an Arc scope, gets
/// its scope-side connection.
fn connections_out(
    map: &mut Map,
    existing: Option<&Value>,
    pe_name: &str,
    pe_id: &str,
    conns: &[ConnIn],
) -> (Vec<Value>, Vec<Value>) {
    let mut auto = Vec::new();
    let mut manual = Vec::new();
    for c in conns {
        let previous = existing.and_then(|e| {
            e["properties"][c.list].as_array().and_then(|l| {
                l.iter()
                    .find(|p| {
                        p["properties"]["privateLinkServiceId"]
                            .as_str()
                            .is_some_and(|t| t.eq_ignore_ascii_case(&c.target))
                    })
                    .cloned()
            })
        });
        let state = match &previous {
            Some(p) => p["properties"]["privateLinkServiceConnectionState"].clone(),
            None if c.list == AUTO => {
                json!({"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"})
            }
            None => {
                json!({"status": "Pending", "description": c.request_message, "actionsRequired": "None"})
            }
        };
        if previous.is_none()
            && let Some(scope) = scopes::is_scope_id(&c.target)
        {
            let conn_name = format!("{pe_name}.{}", uuid::Uuid::new_v4());
            scopes::add_connection(map, &scope, pe_id, &conn_name, &state);
        }
        let v = json!({
            "id": format!("{pe_id}/{}/{}", c.list, c.name),
            "name": c.name,
            "type": format!("Microsoft.Network/privateEndpoints/{}", c.list),
            "properties": {
                "provisioningState": "Succeeded",
                "privateLinkServiceId": c.target,
                "groupIds": c.group_ids,
                "requestMessage": c.request_message,
                "privateLinkServiceConnectionState": state,
            },
        });
        if c.list == AUTO {
            auto.push(v)
        } else {
            manual.push(v)
        }
    }
    (auto, manual)
}

/// Behaviour 1: an existing connection cannot change — not its name, target, group ids,
/// manual-vs-automatic list, nor its approval state (a request that sends no state is taken
/// as asking for the state a new connection would get).
fn connections_unchanged(
    existing: &Value,
    incoming: &[ConnIn],
    pe_id: &str,
) -> Result<(), ApiError> {
    let current: Vec<(&str, &Value)> = [AUTO, MANUAL]
        .into_iter()
        .flat_map(|list| {
            existing["properties"][list]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
        .collect();
    let refuse = |conn_id: &str| {
        ApiError::bad_request(
            "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
            format!(
                "Cannot change the private link connection on private endpoint {pe_id}. Please ensure you are not updating the details of existing private link connection: '{conn_id}'. That is not allowed."
            ),
        )
    };
    let first_id = current
        .first()
        .and_then(|(_, c)| c["id"].as_str())
        .unwrap_or(pe_id);
    if current.len() != incoming.len() {
        return Err(refuse(first_id));
    }
    for (list, cur) in current {
        let cur_id = cur["id"].as_str().unwrap_or(pe_id);
        let name = cur["name"].as_str().unwrap_or_default();
        let Some(new) = incoming.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
            return Err(refuse(cur_id));
        };
        let p = &cur["properties"];
        let same_target = p["privateLinkServiceId"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(&new.target));
        let groups = |v: &Value| {
            let mut g: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                .collect();
            g.sort();
            g
        };
        let state = &p["privateLinkServiceConnectionState"];
        let same_state = match &new.state {
            Some(sent) => ["status", "description", "actionsRequired"]
                .iter()
                .all(|f| match (sent.get(*f), state.get(*f)) {
                    (None | Some(Value::Null), _) => true,
                    (Some(a), Some(b)) if *f == "status" => a
                        .as_str()
                        .zip(b.as_str())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b)),
                    (Some(a), b) => Some(a) == b,
                }),
            None => {
                let fresh = if list == AUTO { "Approved" } else { "Pending" };
                state["status"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(fresh))
            }
        };
        if new.list != list
            || !same_target
            || groups(&p["groupIds"]) != groups(&new.group_ids)
            || !same_state
        {
            return Err(refuse(cur_id));
        }
    }
    Ok(())
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
/// private IP, carrying the FQDNs it serves (`privateLinkConnectionProperties`).
fn nic_value(nic_id: &str, pe_id: &str, location: &str, subnet: &Value, dns: &[Value]) -> Value {
    let ip_configs: Vec<Value> = dns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": format!("privateEndpointIpConfig.{i}"),
                "id": format!("{nic_id}/ipConfigurations/privateEndpointIpConfig.{i}"),
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": c["ipAddresses"][0],
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": subnet["id"]},
                    "primary": i == 0,
                    "privateIPAddressVersion": "IPv4",
                    "privateLinkConnectionProperties": {
                        "groupId": GROUP_ID,
                        "requiredMemberName": format!("member{i}"),
                        "fqdns": [c["fqdn"]],
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

/// The endpoint's NIC, its zone group's records and its scope-side connections go with it.
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
    for conn in scopes::connections_of_endpoint(map, pe_key) {
        state::remove_tree(map, &conn);
    }
}
