//! Static addresses (`spec.ipConfigurations`, Azure's `properties.ipConfigurations`) and the
//! network interface name (`spec.networkInterfaceName`, `customNetworkInterfaceName`) of a
//! private endpoint, for every target.
//!
//! Azure wants one static address per member the target's group requires and refuses the
//! endpoint otherwise (`PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps`, which
//! Azure Monitor endpoints hit often: their group has many members). arclink reads the members
//! from the group's private link resource of the target and refuses, before any write and naming
//! the member, a missing or unknown member and an address outside the subnet or in its reserved
//! range. Both fields are fixed at creation: an existing endpoint that differs is stalled, not
//! rewritten.

use std::net::Ipv4Addr;

use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ArcPrivateEndpointSpec;
use crate::azure::models::{PrivateEndpoint, PrivateLinkResource, Subnet};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};

/// Azure's code for a missing or unknown member.
pub const MISSING_MEMBERS: &str = "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps";

/// The members the group `group_id` of `target` requires (its private link resource's
/// `requiredMembers`), for any target that lists private link resources; `None` when it lists
/// none (a resource management private link has no `privateLinkResources`) or has no such
/// group: Azure then decides alone.
pub async fn required_members(
    arm: &ArmClient,
    target: &ResourceId,
    group_id: &str,
) -> Result<Option<Vec<String>>, ArmError> {
    let listing = CollectionId::new(target, "privateLinkResources");
    let resources: Vec<PrivateLinkResource> = match arm.list(&listing).try_collect().await {
        Ok(found) => found,
        Err(ArmError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(resources
        .into_iter()
        .filter_map(|r| r.properties)
        .find(|p| {
            p.group_id
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case(group_id))
        })
        .and_then(|p| p.required_members))
}

/// What refuses the spec's static addresses before any write, as a stall's reason and message:
/// a member the group requires and the spec leaves out, one it does not know, an address
/// outside the subnet or among the addresses Azure keeps.
pub async fn refusal(
    arm: &ArmClient,
    spec: &ArcPrivateEndpointSpec,
    target: &ResourceId,
    group_id: &str,
) -> Result<Option<(&'static str, String)>, ArmError> {
    if spec.ip_configurations.is_empty() {
        return Ok(None);
    }
    if let Ok(subnet_id) = spec.subnet_id.parse::<ResourceId>()
        && let Some(subnet) = arm.get::<Subnet>(&subnet_id).await?
        && let Some(refused) = outside(spec, &subnet)
    {
        return Ok(Some(refused));
    }
    let Some(required) = required_members(arm, target, group_id).await? else {
        return Ok(None);
    };
    let declared = |m: &str| {
        spec.ip_configurations
            .iter()
            .any(|c| c.member_name.eq_ignore_ascii_case(m))
    };
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|m| !declared(m))
        .collect();
    let unknown: Vec<&str> = spec
        .ip_configurations
        .iter()
        .map(|c| c.member_name.as_str())
        .filter(|m| !required.iter().any(|r| r.eq_ignore_ascii_case(m)))
        .collect();
    let group = format!(
        "group {group_id} of {target} requires {}",
        required.join(", ")
    );
    Ok(if !missing.is_empty() {
        Some((
            MISSING_MEMBERS,
            format!(
                "spec.ipConfigurations has no address for member {}: {group}, one static address each (Azure refuses the endpoint otherwise)",
                missing.join(", ")
            ),
        ))
    } else if !unknown.is_empty() {
        Some((
            MISSING_MEMBERS,
            format!(
                "spec.ipConfigurations names member {}, which the target does not have: {group}",
                unknown.join(", ")
            ),
        ))
    } else {
        None
    })
}

/// The first address that is not a usable address of the subnet.
fn outside(spec: &ArcPrivateEndpointSpec, subnet: &Subnet) -> Option<(&'static str, String)> {
    let props = subnet.properties.as_ref()?;
    let prefixes: Vec<&str> = props
        .address_prefix
        .iter()
        .chain(props.address_prefixes.iter().flatten())
        .map(String::as_str)
        .collect();
    let ranges: Vec<(u32, u32)> = prefixes.iter().filter_map(|p| cidr(p)).collect();
    if ranges.is_empty() {
        return None;
    }
    spec.ip_configurations.iter().find_map(|c| {
        let (member, address) = (&c.member_name, &c.private_ip_address);
        let Ok(ip) = address.parse::<Ipv4Addr>() else {
            return Some((
                "InvalidSpec",
                format!("spec.ipConfigurations: the address {address:?} of member {member} is not an IPv4 address"),
            ));
        };
        let ip = u32::from(ip);
        let Some((base, size)) = ranges.iter().find(|(b, s)| ip.wrapping_sub(*b) < *s) else {
            return Some((
                "PrivateIPAddressNotInSubnet",
                format!(
                    "spec.ipConfigurations: the address {address} of member {member} is not in subnet {} ({})",
                    spec.subnet_id,
                    prefixes.join(", ")
                ),
            ));
        };
        let offset = ip - base;
        (offset < 4 || offset == size - 1).then(|| {
            (
                "PrivateIPAddressInReservedRange",
                format!(
                    "spec.ipConfigurations: the address {address} of member {member} is one Azure keeps in every subnet (the first four and the last)"
                ),
            )
        })
    })
}

/// `a.b.c.d/n` as its first address and size.
fn cidr(prefix: &str) -> Option<(u32, u32)> {
    let (addr, len) = prefix.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 30)?;
    let size = 1u32 << (32 - len);
    Some((u32::from(addr) & !(size - 1), size))
}

/// Sets the spec's static addresses (with the group of the body's connection) and network
/// interface name in the body of a new endpoint.
pub fn apply(spec: &ArcPrivateEndpointSpec, body: &mut PrivateEndpoint) {
    let Some(props) = body.properties.as_mut() else {
        return;
    };
    if let Some(name) = &spec.network_interface_name {
        props.custom_network_interface_name = Some(name.clone());
    }
    if spec.ip_configurations.is_empty() {
        return;
    }
    let group_id = props
        .private_link_service_connections
        .iter()
        .chain(props.manual_private_link_service_connections.iter())
        .flatten()
        .find_map(|c| c.properties.as_ref()?.group_ids.as_ref()?.first().cloned())
        .unwrap_or_default();
    let configs: Vec<Value> = spec
        .ip_configurations
        .iter()
        .map(|c| {
            json!({
                "name": config_name(&c.member_name),
                "properties": {
                    "groupId": group_id,
                    "memberName": c.member_name,
                    "privateIPAddress": c.private_ip_address,
                },
            })
        })
        .collect();
    props
        .extra
        .insert("ipConfigurations".into(), Value::Array(configs));
}

/// An IP configuration's name from its member's: letters, digits, `-` and `_`.
fn config_name(member: &str) -> String {
    member
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// An entry of an endpoint's `properties.ipConfigurations` as read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ReadConfig {
    properties: ReadConfigProperties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ReadConfigProperties {
    member_name: String,
    #[serde(rename = "privateIPAddress")]
    private_ip_address: String,
}

/// An existing endpoint whose static addresses or network interface name are not the spec's,
/// as a stall's reason and message: neither can change (the spec's are immutable, Azure keeps
/// the interface's name).
pub fn mismatch(
    spec: &ArcPrivateEndpointSpec,
    id: &ResourceId,
    actual: &PrivateEndpoint,
) -> Option<(&'static str, String)> {
    let props = actual.properties.as_ref()?;
    if let Some(wanted) = &spec.network_interface_name {
        let name = props.custom_network_interface_name.as_deref();
        if !name.is_some_and(|n| n.eq_ignore_ascii_case(wanted)) {
            return Some((
                "NetworkInterfaceNameMismatch",
                format!(
                    "private endpoint {id} has network interface name {} but spec.networkInterfaceName is {wanted}; Azure cannot rename it: delete the endpoint in Azure (or the object, if arclink created it) so that arclink creates it anew",
                    name.unwrap_or("(Azure's default)")
                ),
            ));
        }
    }
    if spec.ip_configurations.is_empty() {
        return None;
    }
    let read: Vec<ReadConfig> = props
        .extra
        .get("ipConfigurations")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let differs = spec.ip_configurations.iter().find(|c| {
        !read.iter().any(|r| {
            r.properties
                .member_name
                .eq_ignore_ascii_case(&c.member_name)
                && r.properties.private_ip_address == c.private_ip_address
        })
    });
    let extra = read.len() != spec.ip_configurations.len();
    if differs.is_none() && !extra {
        return None;
    }
    let member = differs.map_or_else(
        || "members the spec does not list".to_string(),
        |c| format!("member {} ({})", c.member_name, c.private_ip_address),
    );
    Some((
        "IpConfigurationsMismatch",
        format!(
            "private endpoint {id} does not have the static addresses of spec.ipConfigurations ({member} differs); an endpoint keeps its addresses: delete it in Azure (or the object, if arclink created it) so that arclink creates it anew"
        ),
    ))
}
