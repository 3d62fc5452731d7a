//! The documentation's two outbound rules: their bodies, where a rule in Azure differs from
//! them field by field, and what in a network security group stands in the way of one (a rule
//! of the same name arclink does not own, a rule with the same priority and direction, an
//! outbound Deny rule evaluated first that blocks the traffic).

use crate::api::DriftEntry;
use crate::api::endpoint::OutboundRules;
use crate::azure::ResourceId;
use crate::azure::models::{SecurityRule, SecurityRuleProperties};
use crate::reconcile::drift::{entry, field_ci};
use crate::reconcile::ownership::{Owner, Ownership};

/// The documentation's rule for Microsoft Entra ID.
pub const ENTRA_ID_RULE: &str = "AllowAADOutboundAccess";
/// The documentation's rule for Azure Resource Manager.
pub const RESOURCE_MANAGER_RULE: &str = "AllowAzOutboundAccess";
/// Service tag of Microsoft Entra ID.
pub const ENTRA_ID_TAG: &str = "AzureActiveDirectory";
/// Service tag of Azure Resource Manager.
pub const RESOURCE_MANAGER_TAG: &str = "AzureResourceManager";
const SOURCE: &str = "VirtualNetwork";
const PROTOCOL: &str = "Tcp";
const PORT: &str = "443";
const OUTBOUND: &str = "Outbound";

/// Destinations through which an outbound Deny rule blocks the agent's way to Entra ID and
/// ARM (regional `AzureCloud.<region>` tags too).
const BLOCKING_DESTINATIONS: [&str; 6] = [
    "*",
    "Internet",
    "0.0.0.0/0",
    "AzureCloud",
    ENTRA_ID_TAG,
    RESOURCE_MANAGER_TAG,
];

/// One rule the spec asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct WantedRule {
    pub name: &'static str,
    pub destination: &'static str,
    pub priority: u32,
}

/// The two rules of the documentation's table, with the spec's priorities.
pub fn wanted_rules(spec: &OutboundRules) -> [WantedRule; 2] {
    [
        WantedRule {
            name: ENTRA_ID_RULE,
            destination: ENTRA_ID_TAG,
            priority: spec.entra_id_priority,
        },
        WantedRule {
            name: RESOURCE_MANAGER_RULE,
            destination: RESOURCE_MANAGER_TAG,
            priority: spec.resource_manager_priority,
        },
    ]
}

/// The PUT body of a wanted rule, carrying the ownership marker.
pub fn rule_body(wanted: &WantedRule, marker: &str) -> SecurityRule {
    SecurityRule {
        properties: Some(SecurityRuleProperties {
            description: Some(marker.to_string()),
            protocol: Some(PROTOCOL.into()),
            source_port_range: Some("*".into()),
            destination_port_range: Some(PORT.into()),
            source_address_prefix: Some(SOURCE.into()),
            destination_address_prefix: Some(wanted.destination.into()),
            access: Some("Allow".into()),
            priority: Some(i64::from(wanted.priority)),
            direction: Some(OUTBOUND.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn is(value: Option<&str>, wanted: &str) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case(wanted))
}

fn non_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// Where a rule differs from `wanted`, field by field (enum values and service tags compared
/// without case, as Network normalises them). The description is not compared here.
pub fn rule_differences(wanted: &WantedRule, actual: &SecurityRuleProperties) -> Vec<DriftEntry> {
    let path = |f: &str| format!("securityRules/{}.properties.{f}", wanted.name);
    let mut out = Vec::new();
    let mut ci = |f: &str, want: &str, got: Option<&str>| {
        if let Some(d) = field_ci(&path(f), want, got) {
            out.push(d);
        }
    };
    ci("protocol", PROTOCOL, actual.protocol.as_deref());
    ci("sourcePortRange", "*", actual.source_port_range.as_deref());
    ci(
        "destinationPortRange",
        PORT,
        actual.destination_port_range.as_deref(),
    );
    ci(
        "sourceAddressPrefix",
        SOURCE,
        actual.source_address_prefix.as_deref(),
    );
    ci(
        "destinationAddressPrefix",
        wanted.destination,
        actual.destination_address_prefix.as_deref(),
    );
    ci("access", "Allow", actual.access.as_deref());
    ci("direction", OUTBOUND, actual.direction.as_deref());
    if actual.priority != Some(i64::from(wanted.priority)) {
        out.push(entry(
            &path("priority"),
            &wanted.priority.to_string(),
            &actual.priority.map(|p| p.to_string()).unwrap_or_default(),
        ));
    }
    let lists = [
        ("sourcePortRanges", &actual.source_port_ranges),
        ("destinationPortRanges", &actual.destination_port_ranges),
        ("sourceAddressPrefixes", &actual.source_address_prefixes),
        (
            "destinationAddressPrefixes",
            &actual.destination_address_prefixes,
        ),
    ];
    for (f, v) in lists {
        if non_empty(v) {
            out.push(entry(
                &path(f),
                "",
                &v.as_deref().unwrap_or_default().join(","),
            ));
        }
    }
    for f in [
        "sourceApplicationSecurityGroups",
        "destinationApplicationSecurityGroups",
    ] {
        if actual
            .extra
            .get(f)
            .and_then(|v| v.as_array())
            .is_some_and(|a| !a.is_empty())
        {
            out.push(entry(&path(f), "", "set"));
        }
    }
    out
}

/// Whether a port or range (`443`, `400-500`, `*`) covers 443.
fn covers_https(range: &str) -> bool {
    let r = range.trim();
    if r == "*" {
        return true;
    }
    match r.split_once('-') {
        Some((lo, hi)) => match (lo.trim().parse::<u32>(), hi.trim().parse::<u32>()) {
            (Ok(lo), Ok(hi)) => lo <= 443 && 443 <= hi,
            _ => false,
        },
        None => r.parse::<u32>().is_ok_and(|p| p == 443),
    }
}

/// Whether a destination reaches the internet, Entra ID or ARM.
fn blocking_destination(prefix: &str) -> bool {
    let p = prefix.trim();
    BLOCKING_DESTINATIONS
        .iter()
        .any(|d| d.eq_ignore_ascii_case(p))
        || p.to_ascii_lowercase().starts_with("azurecloud.")
}

/// Whether a rule is an outbound Deny that drops TCP 443 to the internet (and so to Entra ID
/// and ARM). Its source is not looked at: a Deny from any source may cover the servers'
/// traffic, so it is treated as if it did.
pub fn blocks_arc_egress(p: &SecurityRuleProperties) -> bool {
    if !is(p.access.as_deref(), "Deny") || !is(p.direction.as_deref(), OUTBOUND) {
        return false;
    }
    let protocol = p
        .protocol
        .as_deref()
        .is_none_or(|x| x == "*" || x.eq_ignore_ascii_case(PROTOCOL));
    let ports: Vec<&str> = p
        .destination_port_range
        .iter()
        .map(String::as_str)
        .chain(
            p.destination_port_ranges
                .iter()
                .flatten()
                .map(String::as_str),
        )
        .collect();
    let port = ports.is_empty() || ports.iter().any(|r| covers_https(r));
    let destinations: Vec<&str> = p
        .destination_address_prefix
        .iter()
        .map(String::as_str)
        .chain(
            p.destination_address_prefixes
                .iter()
                .flatten()
                .map(String::as_str),
        )
        .collect();
    let destination = destinations.iter().any(|d| blocking_destination(d));
    protocol && port && destination
}

/// What stands in the way of one wanted rule.
pub(super) fn blocker(
    wanted: &WantedRule,
    rules: &[SecurityRule],
    nsg: &ResourceId,
    owner: &Owner,
    adopt: bool,
) -> Option<(&'static str, String)> {
    let own_names = [ENTRA_ID_RULE, RESOURCE_MANAGER_RULE];
    let name_of = |r: &SecurityRule| r.name.clone().unwrap_or_default();
    let props = |r: &SecurityRule| r.properties.clone().unwrap_or_default();
    let who = |r: &SecurityRule| match owner
        .classify_description(r.properties.as_ref().and_then(|p| p.description.as_deref()))
    {
        Ownership::Ours => "this object".to_string(),
        Ownership::Elsewhere(o) => format!("arclink object {o}"),
        Ownership::Unowned => "no arclink object".to_string(),
    };
    let same_name = rules.iter().find(|r| {
        r.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(wanted.name))
    });
    if let Some(r) = same_name {
        let p = props(r);
        match owner.classify_description(p.description.as_deref()) {
            Ownership::Ours => {}
            Ownership::Unowned if adopt => {}
            Ownership::Unowned => {
                return Some((
                    "OutboundRuleConflict",
                    format!(
                        "security rule {} already exists in network security group {nsg} and no arclink object owns it (its description has no \"managed by arclink\" marker); arclink will not overwrite it: set spec.policy.adopt: true to take it over, or delete it",
                        wanted.name
                    ),
                ));
            }
            Ownership::Elsewhere(o) if !rule_differences(wanted, &p).is_empty() => {
                return Some((
                    "OwnedElsewhere",
                    format!(
                        "security rule {} in network security group {nsg} is owned by {o} and differs from this object's ({}); arclink will not write it",
                        wanted.name,
                        rule_differences(wanted, &p)
                            .iter()
                            .map(|d| format!("{}: {} vs {}", d.path, d.actual, d.desired))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            // Another arclink object keeps the same rule: it serves this endpoint too.
            Ownership::Elsewhere(_) => {}
        }
    }
    let clash = rules.iter().find(|r| {
        let p = props(r);
        !name_of(r).eq_ignore_ascii_case(wanted.name)
            && is(p.direction.as_deref(), OUTBOUND)
            && p.priority == Some(i64::from(wanted.priority))
    });
    if let Some(r) = clash {
        return Some((
            "OutboundRuleConflict",
            format!(
                "security rule {} (owned by {}) in network security group {nsg} already has outbound priority {}, which {} is to get; Azure refuses two rules with the same priority and direction (SecurityRuleConflict): choose another priority in spec.outboundRules",
                name_of(r),
                who(r),
                wanted.priority,
                wanted.name
            ),
        ));
    }
    let deny = rules
        .iter()
        .filter(|r| !own_names.iter().any(|n| name_of(r).eq_ignore_ascii_case(n)))
        .filter(|r| blocks_arc_egress(&props(r)))
        .filter_map(|r| Some((r, props(r).priority?)))
        .filter(|(_, p)| *p <= i64::from(wanted.priority))
        .min_by_key(|(_, p)| *p);
    if let Some((r, p)) = deny {
        return Some((
            "OutboundRuleShadowed",
            format!(
                "outbound Deny rule {} (priority {p}) in network security group {nsg} blocks TCP 443 to the internet and is evaluated before {} (priority {}); give spec.outboundRules a priority lower than {p}",
                name_of(r),
                wanted.name,
                wanted.priority
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: serde_json::Value) -> SecurityRuleProperties {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_wanted_rules_are_the_documentation_table() {
        let [aad, arm] = wanted_rules(&OutboundRules::default());
        let body = serde_json::to_value(rule_body(&aad, "managed by arclink: c/n/k/x")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"properties": {
                "description": "managed by arclink: c/n/k/x",
                "protocol": "Tcp",
                "sourcePortRange": "*",
                "destinationPortRange": "443",
                "sourceAddressPrefix": "VirtualNetwork",
                "destinationAddressPrefix": "AzureActiveDirectory",
                "access": "Allow",
                "priority": 150,
                "direction": "Outbound"
            }})
        );
        assert_eq!(aad.name, "AllowAADOutboundAccess");
        assert_eq!(arm.name, "AllowAzOutboundAccess");
        assert_eq!(arm.destination, "AzureResourceManager");
        assert_eq!(arm.priority, 151);
        let written = rule_body(&arm, "m").properties.unwrap();
        assert!(rule_differences(&arm, &written).is_empty());
    }

    #[test]
    fn differences_are_field_by_field_and_ignore_case() {
        let [aad, _] = wanted_rules(&OutboundRules::default());
        let mut p = rule_body(&aad, "m").properties.unwrap();
        p.protocol = Some("TCP".into());
        p.destination_address_prefix = Some("azureactivedirectory".into());
        assert!(rule_differences(&aad, &p).is_empty());
        p.priority = Some(300);
        p.destination_port_range = Some("8443".into());
        p.source_address_prefixes = Some(vec!["10.0.0.0/8".into()]);
        let d = rule_differences(&aad, &p);
        let paths: Vec<&str> = d.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "securityRules/AllowAADOutboundAccess.properties.destinationPortRange",
                "securityRules/AllowAADOutboundAccess.properties.priority",
                "securityRules/AllowAADOutboundAccess.properties.sourceAddressPrefixes",
            ]
        );
        assert_eq!(d[1].desired, "150");
        assert_eq!(d[1].actual, "300");
    }

    #[test]
    fn deny_rules_that_block_the_internet_are_found() {
        let deny = |dest: &str, port: &str, proto: &str| {
            props(
                serde_json::json!({"access": "Deny", "direction": "Outbound", "protocol": proto,
                "sourcePortRange": "*", "destinationPortRange": port,
                "sourceAddressPrefix": "*", "destinationAddressPrefix": dest, "priority": 200}),
            )
        };
        assert!(blocks_arc_egress(&deny("Internet", "*", "*")));
        assert!(blocks_arc_egress(&deny("*", "443", "Tcp")));
        assert!(blocks_arc_egress(&deny(
            "AzureCloud.eastus",
            "400-500",
            "*"
        )));
        assert!(blocks_arc_egress(&deny(
            "AzureActiveDirectory",
            "443",
            "tcp"
        )));
        assert!(
            !blocks_arc_egress(&deny("Internet", "80", "*")),
            "other port"
        );
        assert!(
            !blocks_arc_egress(&deny("Internet", "*", "Udp")),
            "other protocol"
        );
        assert!(
            !blocks_arc_egress(&deny("10.0.0.0/8", "*", "*")),
            "private range"
        );
        assert!(!blocks_arc_egress(&deny("VirtualNetwork", "*", "*")));
        let mut allow = deny("Internet", "*", "*");
        allow.access = Some("Allow".into());
        assert!(!blocks_arc_egress(&allow));
        let mut inbound = deny("Internet", "*", "*");
        inbound.direction = Some("Inbound".into());
        assert!(!blocks_arc_egress(&inbound));
        let mut listed = deny("10.0.0.0/8", "80", "*");
        listed.destination_address_prefixes = Some(vec!["Internet".into()]);
        listed.destination_port_ranges = Some(vec!["443".into()]);
        assert!(blocks_arc_egress(&listed));
    }
}
