//! Microsoft.Network network security groups and their security rules as Network validates
//! them: the spec's required fields and priority range (tests/azure-specs/SOURCES.md), unique
//! priority per direction (`SecurityRuleConflict`), a description of at most 140 characters.
//! The writes, one at a time per group, are in [`super::nsg_writes`].
//!
//! A group's GET carries its rules (`securityRules`, from the rule children), Azure's six
//! `defaultSecurityRules` and the subnets it is attached to (`subnets`, from the subnets whose
//! `networkSecurityGroup` names it).

use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::ApiError;
use super::super::ids;
use super::super::state::{self, Map};
use super::call::View;
use super::rules::new_etag;

pub const NSGS: &str = "microsoft.network/networksecuritygroups";
pub const SECURITY_RULES: &str = "microsoft.network/networksecuritygroups/securityrules";
const RULE_TYPE: &str = "Microsoft.Network/networkSecurityGroups/securityRules";
pub const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";
/// The spec's range of a rule's priority.
pub const MIN_PRIORITY: i64 = 100;
pub const MAX_PRIORITY: i64 = 4096;
/// The spec: "A description for this rule. Restricted to 140 chars."
pub const MAX_DESCRIPTION: usize = 140;
const PROTOCOLS: [&str; 6] = ["Tcp", "Udp", "Icmp", "Esp", "*", "Ah"];

/// A network security group as seeded: no rules yet (they are children).
pub fn nsg_value(id: &str, location: &str, tags: Value) -> Value {
    json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": ids::normalize_location(location),
        "etag": new_etag(),
        "tags": tags,
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": uuid::Uuid::new_v4().to_string(),
        },
    })
}

/// Azure's default rules of every group (the official NetworkSecurityGroupGet example).
fn default_rules(nsg_id: &str) -> Vec<Value> {
    let rules = [
        (
            "AllowVnetInBound",
            "Allow inbound traffic from all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Inbound",
        ),
        (
            "AllowAzureLoadBalancerInBound",
            "Allow inbound traffic from azure load balancer",
            "AzureLoadBalancer",
            "*",
            "Allow",
            65001,
            "Inbound",
        ),
        (
            "DenyAllInBound",
            "Deny all inbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Inbound",
        ),
        (
            "AllowVnetOutBound",
            "Allow outbound traffic from all VMs to all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Outbound",
        ),
        (
            "AllowInternetOutBound",
            "Allow outbound traffic from all VMs to Internet",
            "*",
            "Internet",
            "Allow",
            65001,
            "Outbound",
        ),
        (
            "DenyAllOutBound",
            "Deny all outbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Outbound",
        ),
    ];
    rules
        .iter()
        .map(
            |(name, description, source, destination, access, priority, direction)| {
                json!({
                    "name": name,
                    "id": format!("{nsg_id}/defaultSecurityRules/{name}"),
                    "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "description": description,
                        "protocol": "*",
                        "sourcePortRange": "*",
                        "destinationPortRange": "*",
                        "sourceAddressPrefix": source,
                        "destinationAddressPrefix": destination,
                        "access": access,
                        "priority": priority,
                        "direction": direction,
                    },
                })
            },
        )
        .collect()
}

/// A group as GET returns it: its rules, the default rules and the subnets attached to it.
pub fn render_nsg(map: &Map, v: &Arc<Value>, _: &View) -> Value {
    let mut out = Value::clone(v);
    let id = v["id"].as_str().unwrap_or_default().to_string();
    let key = ids::key(&id);
    let rules: Vec<Value> = state::children(map, &key, "securityrules")
        .map(|(_, r)| Value::clone(r))
        .collect();
    let subnets: Vec<Value> = attached_subnets(map, &key)
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    if let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("securityRules".into(), Value::Array(rules));
        p.insert(
            "defaultSecurityRules".into(),
            Value::Array(default_rules(&id)),
        );
        p.insert("subnets".into(), Value::Array(subnets));
    }
    out
}

/// The ids of the subnets whose `networkSecurityGroup` is the group `nsg_key`.
pub fn attached_subnets(map: &Map, nsg_key: &str) -> Vec<Value> {
    let sub_prefix = nsg_key
        .split("/resourcegroups/")
        .next()
        .map(|s| format!("{s}/"))
        .unwrap_or_default();
    state::range_after(map, &sub_prefix, None)
        .filter(|(_, s)| {
            s["type"].as_str().is_some_and(|t| {
                t.eq_ignore_ascii_case("Microsoft.Network/virtualNetworks/subnets")
            }) && s["properties"]["networkSecurityGroup"]["id"]
                .as_str()
                .map(ids::key)
                .as_deref()
                == Some(nsg_key)
        })
        .map(|(_, s)| s["id"].clone())
        .collect()
}

fn missing(name: &str, rule_id: &str) -> ApiError {
    ApiError::bad_request(
        "SecurityRuleParameterMissing",
        format!(
            "Required security rule parameter {name} is missing for security rule with Id: {rule_id}."
        ),
    )
}

fn text<'a>(props: &'a JsonMap<String, Value>, field: &str) -> Option<&'a str> {
    props
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn listed(props: &JsonMap<String, Value>, field: &str) -> bool {
    props
        .get(field)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// One of `allowed` matching `value` without case, in its canonical casing.
fn canonical(value: &str, allowed: &[&'static str]) -> Option<&'static str> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .copied()
}

/// Validates a rule's properties as Network does and normalises its enum values; `others`
/// are the group's other rules (for the priority-per-direction check).
pub fn validate_rule(
    props: &mut JsonMap<String, Value>,
    rule_id: &str,
    rule_name: &str,
    others: &[Arc<Value>],
) -> Result<(), ApiError> {
    let protocol = text(props, "protocol").ok_or_else(|| missing("Protocol", rule_id))?;
    let protocol = canonical(protocol, &PROTOCOLS).ok_or_else(|| {
        ApiError::bad_request(
            "SecurityRuleInvalidProtocol",
            format!(
                "Security rule has invalid Protocol. Value provided: {protocol} Allowed values: Icmp,Tcp,Udp,Esp,Ah,*."
            ),
        )
    })?;
    let access = text(props, "access").ok_or_else(|| missing("Access", rule_id))?;
    let access = canonical(access, &["Allow", "Deny"]).ok_or_else(|| {
        ApiError::bad_request(
            "SecurityRuleInvalidAccess",
            format!("Security rule has invalid Access. Value provided: {access} Allowed values: Allow,Deny."),
        )
    })?;
    let direction = text(props, "direction").ok_or_else(|| missing("Direction", rule_id))?;
    let direction = canonical(direction, &["Inbound", "Outbound"]).ok_or_else(|| {
        ApiError::bad_request(
            "SecurityRuleInvalidDirection",
            format!(
                "Security rule has invalid Direction. Value provided: {direction} Allowed values: Inbound,Outbound."
            ),
        )
    })?;
    let priority = match props.get("priority") {
        None | Some(Value::Null) => return Err(missing("Priority", rule_id)),
        Some(v) => v
            .as_i64()
            .filter(|p| (MIN_PRIORITY..=MAX_PRIORITY).contains(p)),
    };
    let Some(priority) = priority else {
        return Err(ApiError::bad_request(
            "SecurityRuleInvalidPriority",
            format!(
                "Security rule has invalid Priority. Value provided: {} Allowed range {MIN_PRIORITY}-{MAX_PRIORITY}.",
                props
                    .get("priority")
                    .map(Value::to_string)
                    .unwrap_or_default()
            ),
        ));
    };
    for (single, plural, asgs, name) in [
        (
            "sourceAddressPrefix",
            "sourceAddressPrefixes",
            Some("sourceApplicationSecurityGroups"),
            "SourceAddressPrefix",
        ),
        (
            "destinationAddressPrefix",
            "destinationAddressPrefixes",
            Some("destinationApplicationSecurityGroups"),
            "DestinationAddressPrefix",
        ),
        (
            "sourcePortRange",
            "sourcePortRanges",
            None,
            "SourcePortRange",
        ),
        (
            "destinationPortRange",
            "destinationPortRanges",
            None,
            "DestinationPortRange",
        ),
    ] {
        let given = text(props, single).is_some()
            || listed(props, plural)
            || asgs.is_some_and(|a| listed(props, a));
        if !given {
            return Err(missing(name, rule_id));
        }
    }
    if let Some(d) = props.get("description").and_then(Value::as_str)
        && d.chars().count() > MAX_DESCRIPTION
    {
        return Err(ApiError::bad_request(
            "SecurityRuleInvalidDescription",
            format!(
                "Security rule with Id: {rule_id} has a description of {} characters; the maximum is {MAX_DESCRIPTION}.",
                d.chars().count()
            ),
        ));
    }
    let clash = others.iter().find(|o| {
        let p = &o["properties"];
        !o["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(rule_name))
            && p["priority"].as_i64() == Some(priority)
            && p["direction"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(direction))
    });
    if let Some(other) = clash {
        return Err(ApiError::bad_request(
            "SecurityRuleConflict",
            format!(
                "Security rule {} conflicts with rule {rule_name}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.",
                other["name"].as_str().unwrap_or_default()
            ),
        ));
    }
    props.insert("protocol".into(), json!(protocol));
    props.insert("access".into(), json!(access));
    props.insert("direction".into(), json!(direction));
    Ok(())
}

/// A rule as stored, from validated properties.
pub fn rule_value(id: &str, props: JsonMap<String, Value>, state: &str) -> Value {
    let mut props = props;
    props.insert("provisioningState".into(), json!(state));
    json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": RULE_TYPE,
        "etag": new_etag(),
        "properties": props,
    })
}
