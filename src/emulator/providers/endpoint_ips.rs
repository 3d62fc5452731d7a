//! Addresses of private endpoints: what a subnet has free, the static addresses a request asks
//! for (`properties.ipConfigurations`), and the address of each name an endpoint serves.

use std::net::Ipv4Addr;

use serde_json::{Map as JsonMap, Value};

use super::super::http::ApiError;
use super::super::ids;
use super::super::state::{self, Map};
use super::targets::Group;

/// A name an endpoint serves: the group and member it belongs to.
pub struct Served {
    pub group_id: String,
    pub member: String,
    pub fqdn: String,
}

/// A served name with its address; `static_config` names the request's IP configuration
/// that fixed it.
pub struct Addressed {
    pub served: Served,
    pub ip: String,
    pub static_config: Option<String>,
}

/// An entry of `properties.ipConfigurations`.
pub struct StaticIp {
    pub name: String,
    pub group_id: String,
    pub member: String,
    pub ip: Ipv4Addr,
}

fn parse_cidr(prefix: &str) -> Option<(u32, u32)> {
    let (addr, len) = prefix.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 30)?;
    let size = 1u32 << (32 - len);
    Some((u32::from(addr) & !(size - 1), size))
}

fn subnet_range(subnet: &Value) -> Result<(String, u32, u32), ApiError> {
    let prefix = subnet["properties"]["addressPrefix"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (base, size) = parse_cidr(&prefix).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidAddressPrefix",
            format!("Subnet address prefix '{prefix}' is not a valid IPv4 prefix."),
        )
    })?;
    Ok((prefix, base, size))
}

/// IPs already used by private endpoints in `subnet_key`.
pub fn used_ips(map: &Map, sub: &str, subnet_key: &str, except: &str) -> Vec<String> {
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
    let (prefix, base, size) = subnet_range(subnet)?;
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

fn invalid(path: &str, what: &str) -> ApiError {
    ApiError::bad_request(
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{path}' {what}."),
    )
}

/// The request's static IP configurations (`[{name, properties: {groupId, memberName,
/// privateIPAddress}}]`).
pub fn static_ips(props: &JsonMap<String, Value>) -> Result<Vec<StaticIp>, ApiError> {
    let items = match props.get("ipConfigurations") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("properties.ipConfigurations", "must be an array")),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("properties.ipConfigurations[{i}]");
        let text = |field: &str| -> Result<String, ApiError> {
            item["properties"][field]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(&format!("{path}.properties.{field}"), "must be a string"))
        };
        let address = text("privateIPAddress")?;
        let ip = address.parse::<Ipv4Addr>().map_err(|_| {
            invalid(
                &format!("{path}.properties.privateIPAddress"),
                "must be an IPv4 address",
            )
        })?;
        out.push(StaticIp {
            name: item["name"].as_str().unwrap_or_default().to_string(),
            group_id: text("groupId")?,
            member: text("memberName")?,
            ip,
        });
    }
    Ok(out)
}

fn listed(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

/// Static IP configurations must name every member the groups require and no other, as
/// Network answers (Azure/bicep-registry-modules#1389 and hashicorp/terraform-provider-azurerm
/// #21781 report the code and the wording for missing members; the wording for an unknown
/// member is chosen).
pub fn check_members(statics: &[StaticIp], groups: &[&Group], pe_id: &str) -> Result<(), ApiError> {
    if statics.is_empty() {
        return Ok(());
    }
    let same = |s: &StaticIp, g: &str, m: &str| {
        s.group_id.eq_ignore_ascii_case(g) && s.member.eq_ignore_ascii_case(m)
    };
    let configured = listed(statics.iter().map(|s| {
        format!(
            "PrivateIPAddress: {}, GroupId: {}, MemberName: {}",
            s.ip, s.group_id, s.member
        )
    }));
    let missing: Vec<(&str, &str)> = groups
        .iter()
        .flat_map(|g| g.members.iter().map(move |m| (g.id, m.as_str())))
        .filter(|(g, m)| !statics.iter().any(|s| same(s, g, m)))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(
            "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps",
            format!(
                "Private Endpoint {pe_id} contains static ipconfigurations: [{configured}] and its missing these membernames/groupids requested by Private Link service [{}]. Private Endpoint needs to be reconfigured with missing memberNames.",
                listed(
                    missing
                        .iter()
                        .map(|(g, m)| format!("GroupId: {g}, MemberName: {m}"))
                )
            ),
        ));
    }
    let unknown: Vec<&StaticIp> = statics
        .iter()
        .filter(|s| {
            !groups
                .iter()
                .any(|g| g.members.iter().any(|m| same(s, g.id, m)))
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(
            "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps",
            format!(
                "Private Endpoint {pe_id} contains static ipconfigurations: [{configured}] with membernames/groupids the Private Link service does not request [{}]. Private Endpoint needs to be reconfigured with the requested memberNames.",
                listed(
                    unknown
                        .iter()
                        .map(|s| format!("GroupId: {}, MemberName: {}", s.group_id, s.member))
                )
            ),
        ));
    }
    Ok(())
}

/// A static address must be a usable address of the subnet that no other endpoint holds
/// (Network's codes for static addresses of network interfaces).
fn check_addresses(statics: &[StaticIp], subnet: &Value, used: &[String]) -> Result<(), ApiError> {
    let (prefix, base, size) = subnet_range(subnet)?;
    for s in statics {
        let offset = u32::from(s.ip).wrapping_sub(base);
        if offset >= size {
            return Err(ApiError::bad_request(
                "PrivateIPAddressNotInSubnet",
                format!(
                    "Private static IP address {} of IP configuration '{}' does not belong to the range of subnet prefix {prefix}.",
                    s.ip, s.name
                ),
            ));
        }
        if offset < 4 || offset == size - 1 {
            return Err(ApiError::bad_request(
                "PrivateIPAddressInReservedRange",
                format!(
                    "Private static IP address {} of IP configuration '{}' is in the reserved range of subnet prefix {prefix}.",
                    s.ip, s.name
                ),
            ));
        }
        if used.contains(&s.ip.to_string()) {
            return Err(ApiError::bad_request(
                "PrivateIPAddressIsAllocated",
                format!(
                    "IP configuration '{}' is using the private IP address {} which is already allocated to another resource.",
                    s.name, s.ip
                ),
            ));
        }
    }
    Ok(())
}

/// The address of each served name: the static address of its member, else the address it had
/// when the endpoint stays in the same subnet, else a free one.
pub fn assign(
    served: Vec<Served>,
    statics: &[StaticIp],
    old: &[(String, Value)],
    subnet: &Value,
    used: &[String],
) -> Result<Vec<Addressed>, ApiError> {
    check_addresses(statics, subnet, used)?;
    let static_of = |s: &Served| {
        statics.iter().find(|x| {
            x.group_id.eq_ignore_ascii_case(&s.group_id) && x.member.eq_ignore_ascii_case(&s.member)
        })
    };
    let old_of = |s: &Served| {
        old.iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(&s.fqdn))
            .and_then(|(_, ips)| ips[0].as_str().map(str::to_string))
    };
    let mut taken: Vec<String> = used.to_vec();
    taken.extend(statics.iter().map(|s| s.ip.to_string()));
    let missing = served
        .iter()
        .filter(|s| static_of(s).is_none() && old_of(s).is_none())
        .count();
    let mut fresh = allocate_ips(subnet, &taken, missing)?.into_iter();
    Ok(served
        .into_iter()
        .map(|s| {
            let (ip, static_config) = match static_of(&s) {
                Some(x) => (x.ip.to_string(), Some(x.name.clone())),
                None => (
                    old_of(&s).unwrap_or_else(|| fresh.next().unwrap_or_default()),
                    None,
                ),
            };
            Addressed {
                served: s,
                ip,
                static_config,
            }
        })
        .collect())
}
