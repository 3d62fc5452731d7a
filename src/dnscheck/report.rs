//! What each Arc name of each endpoint resolves to, judged against the endpoint's status, and
//! the report of it (text for people, JSON schema version 1 for pipelines).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use kube::ResourceExt;
use serde::Serialize;

use super::names;
use super::resolve::{Answer, Resolved, Resolver};
use crate::api::ArcPrivateEndpoint;
use crate::api::conditions::{READY, find};
use crate::azure::KnownCloud;
use crate::offline::Exit;
use crate::printable::{for_terminal, one_line};

/// Version of the JSON report schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// How one name resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Only to the endpoint's private IP for it.
    Ok,
    /// To an address that is not private: the resolver answers from public DNS.
    Public,
    /// To a private address that is not the endpoint's for this name.
    OtherPrivate,
    /// Not at all.
    Unresolved,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Public => "public",
            Verdict::OtherPrivate => "other-private",
            Verdict::Unresolved => "unresolved",
        }
    }
}

/// One name of one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NameReport {
    pub name: String,
    /// The endpoint's private IPs for this name, from its status.
    pub expected: Vec<String>,
    /// What DNS answered (A and AAAA).
    pub addresses: Vec<String>,
    pub result: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why the first lookup failed, when the answer judged came from a second one.
    #[serde(rename = "retriedAfter", skip_serializing_if = "Option::is_none")]
    pub retried_after: Option<String>,
}

/// One endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReport {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "privateIPs")]
    pub private_ips: Vec<String>,
    /// Why the endpoint could not be checked (no private IP in its status yet, an unreadable
    /// address); then `names` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub names: Vec<NameReport>,
}

/// Counts of names by result, and of endpoints that could not be checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub ok: usize,
    pub public: usize,
    pub other_private: usize,
    pub unresolved: usize,
    pub unchecked: usize,
}

/// The whole check (the `--output json` document).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub version: u32,
    /// `system`, or the `--server` address.
    pub resolver: String,
    pub endpoints: Vec<EndpointReport>,
    pub summary: Summary,
    /// What stopped the check before any name was resolved (bad manifests, no endpoint, the
    /// cluster or ARM unreachable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Report {
    /// A check that could not run.
    pub fn failed(resolver: String, errors: Vec<String>) -> Report {
        Report {
            version: SCHEMA_VERSION,
            resolver,
            endpoints: Vec::new(),
            summary: Summary::default(),
            errors,
        }
    }

    /// 0 when every name of every endpoint resolves to the endpoint's private IP, else 1.
    pub fn exit(&self) -> Exit {
        let s = &self.summary;
        let mismatches = s.public + s.other_private + s.unresolved + s.unchecked;
        if self.errors.is_empty() && mismatches == 0 && !self.endpoints.is_empty() {
            Exit::Clean
        } else {
            Exit::Errors
        }
    }
}

/// A name an endpoint serves and the addresses it must resolve to.
struct Expected {
    fqdn: String,
    /// The private DNS zone holding its record, when the status names it.
    zone: Option<String>,
    ips: Vec<IpAddr>,
}

/// Resolves the names of the `selected` endpoints. `known` (which includes them) tells whose
/// record an unexpected private address is; `cloud` (`--cloud`) is the cloud of the endpoints
/// whose records do not tell theirs.
pub async fn check(
    resolver: &Resolver,
    cloud: KnownCloud,
    known: &[ArcPrivateEndpoint],
    selected: &[&ArcPrivateEndpoint],
) -> Report {
    let owners = owners(known);
    let plans: Vec<Result<Vec<Expected>, String>> =
        selected.iter().map(|e| expectations(e, cloud)).collect();
    let names: BTreeSet<String> = plans
        .iter()
        .flatten()
        .flatten()
        .map(|x| x.fqdn.clone())
        .collect();
    let answers: BTreeMap<String, Resolved> =
        futures::future::join_all(names.into_iter().map(|n| async move {
            let answer = resolver.resolve(&n).await;
            (n, answer)
        }))
        .await
        .into_iter()
        .collect();
    let mut report = Report::failed(resolver.label.clone(), Vec::new());
    for (endpoint, plan) in selected.iter().zip(plans) {
        let mut entry = EndpointReport {
            namespace: endpoint.namespace().unwrap_or_default(),
            name: endpoint.name_any(),
            private_ips: endpoint
                .status
                .as_ref()
                .map(|s| s.private_ips.clone())
                .unwrap_or_default(),
            problem: None,
            names: Vec::new(),
        };
        match plan {
            Err(problem) => {
                report.summary.unchecked += 1;
                entry.problem = Some(problem);
            }
            Ok(expected) => {
                for x in expected {
                    let Some(resolved) = answers.get(&x.fqdn) else {
                        continue;
                    };
                    let mut name = judge(&x, &resolved.answer, &owners);
                    name.retried_after.clone_from(&resolved.retried_after);
                    match name.result {
                        Verdict::Ok => report.summary.ok += 1,
                        Verdict::Public => report.summary.public += 1,
                        Verdict::OtherPrivate => report.summary.other_private += 1,
                        Verdict::Unresolved => report.summary.unresolved += 1,
                    }
                    entry.names.push(name);
                }
            }
        }
        report.endpoints.push(entry);
    }
    report
}

/// The names of an endpoint's `status.dnsRecords` with their addresses, then the documented
/// names of its target in its cloud ([`names::documented`]) it does not list, expected at any
/// of its `status.privateIPs`.
fn expectations(endpoint: &ArcPrivateEndpoint, cloud: KnownCloud) -> Result<Vec<Expected>, String> {
    let status = endpoint.status.clone().unwrap_or_default();
    if status.private_ips.is_empty() && status.dns_records.is_empty() {
        let ready = find(&status.common.conditions, READY)
            .map(|c| format!(" (Ready {} {}: {})", c.status, c.reason, c.message))
            .unwrap_or_default();
        return Err(format!(
            "no private IP in its status yet{ready}: nothing to resolve to"
        ));
    }
    let mut out = Vec::new();
    for (i, record) in status.dns_records.iter().enumerate() {
        let field = format!("status.dnsRecords[{i}].ipAddresses");
        out.push(Expected {
            fqdn: record.fqdn.trim_end_matches('.').to_ascii_lowercase(),
            zone: Some(record.zone.clone()).filter(|z| !z.is_empty()),
            ips: parse_ips(&record.ip_addresses, &field)?,
        });
    }
    let private_ips = parse_ips(&status.private_ips, "status.privateIPs")?;
    let cloud = names::cloud(endpoint, cloud);
    for name in names::documented(cloud, &names::target(endpoint)) {
        if !out.iter().any(|x| x.fqdn == name.fqdn) {
            out.push(Expected {
                fqdn: name.fqdn,
                zone: Some(name.zone.to_string()),
                ips: private_ips.clone(),
            });
        }
    }
    Ok(out)
}

fn parse_ips(values: &[String], field: &str) -> Result<Vec<IpAddr>, String> {
    values
        .iter()
        .map(|v| {
            v.parse()
                .map_err(|_| format!("{field}: {v:?} is not an IP address"))
        })
        .collect()
}

/// Who holds each address: `<namespace>/<name> <fqdn>` of every record of every known endpoint.
fn owners(known: &[ArcPrivateEndpoint]) -> BTreeMap<IpAddr, Vec<String>> {
    let mut out: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for e in known {
        let who = format!("{}/{}", e.namespace().unwrap_or_default(), e.name_any());
        for r in e.status.iter().flat_map(|s| &s.dns_records) {
            for ip in r.ip_addresses.iter().filter_map(|ip| ip.parse().ok()) {
                out.entry(ip).or_default().push(format!("{who} {}", r.fqdn));
            }
        }
    }
    out
}

fn judge(x: &Expected, answer: &Answer, owners: &BTreeMap<IpAddr, Vec<String>>) -> NameReport {
    let expected = list(&x.ips);
    let mut name = NameReport {
        name: x.fqdn.clone(),
        expected: x.ips.iter().map(IpAddr::to_string).collect(),
        addresses: Vec::new(),
        result: Verdict::Ok,
        message: None,
        retried_after: None,
    };
    let ips = match answer {
        Answer::Unresolved(why) => {
            name.result = Verdict::Unresolved;
            name.message = Some(format!("{why} (expected {expected})"));
            return name;
        }
        Answer::Addresses(ips) => ips,
    };
    name.addresses = ips.iter().map(IpAddr::to_string).collect();
    let unexpected: Vec<&IpAddr> = ips.iter().filter(|ip| !x.ips.contains(ip)).collect();
    if let Some(public) = unexpected.iter().find(|ip| !is_private(ip)) {
        name.result = Verdict::Public;
        let zone = x.zone.as_deref().unwrap_or("its privatelink zone");
        name.message = Some(format!(
            "{public} is not a private address: this resolver answers from public DNS, so DNS forwarding is misconfigured (forward {zone} to Azure DNS, or hold its A record); expected {expected}"
        ));
    } else if let Some(other) = unexpected.first() {
        name.result = Verdict::OtherPrivate;
        let whose = match owners.get(other) {
            Some(records) => format!("is the record of {}", records.join(", ")),
            None => {
                "is no checked endpoint's record (a stale record, or another network's endpoint)"
                    .into()
            }
        };
        name.message = Some(format!(
            "{other} {whose}, not this endpoint's address for the name; expected {expected}"
        ));
    }
    name
}

fn list(ips: &[IpAddr]) -> String {
    if ips.is_empty() {
        return "(none)".into();
    }
    ips.iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 1918, RFC 6598 (shared address space) and IPv6 unique local addresses, which a
/// private endpoint's address is drawn from.
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(&IpAddr::V4(v4)),
            None => (v6.segments()[0] & 0xfe00) == 0xfc00,
        },
    }
}

/// The report for people: names and messages each on their line ([`one_line`]), nothing that
/// drives a terminal ([`for_terminal`]).
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.endpoints {
        let ips = if e.private_ips.is_empty() {
            "no private IP".to_string()
        } else {
            format!("private IPs {}", one_line(&e.private_ips.join(", ")))
        };
        let _ = writeln!(
            out,
            "ArcPrivateEndpoint {}/{} ({ips})",
            one_line(&e.namespace),
            one_line(&e.name)
        );
        if let Some(problem) = &e.problem {
            let _ = writeln!(out, "  ! not checked: {}", one_line(problem));
        }
        for n in &e.names {
            let answered = if n.addresses.is_empty() {
                String::new()
            } else {
                format!(" -> {}", n.addresses.join(", "))
            };
            let why = n
                .message
                .as_deref()
                .map(|m| format!(": {}", one_line(m)))
                .unwrap_or_default();
            let retried = n
                .retried_after
                .as_deref()
                .map(|m| format!(" (asked twice; the first try failed: {})", one_line(m)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<13} {}{answered}{why}{retried}",
                n.result.as_str(),
                one_line(&n.name)
            );
        }
    }
    let s = &report.summary;
    let mut line = format!("\nDNS check through {}: {} ok", report.resolver, s.ok);
    for (n, what) in [
        (s.public, "resolving to a public address"),
        (s.other_private, "resolving to another private address"),
        (s.unresolved, "not resolving"),
        (s.unchecked, "endpoint(s) not checked"),
    ] {
        if n > 0 {
            let _ = write!(line, ", {n} {what}");
        }
    }
    let _ = writeln!(out, "{line}.");
    for_terminal(&out).into_owned()
}

/// The report for pipelines: pretty JSON with the fields in a fixed order.
pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::endpoint::{ArcPrivateEndpointStatus, DnsRecord};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_means_rfc1918_rfc6598_and_unique_local() {
        for private in [
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "fd00::1",
            "fc00::1",
            "::ffff:10.1.2.3",
        ] {
            assert!(is_private(&ip(private)), "{private}");
        }
        for public in [
            "20.42.0.1",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "8.8.8.8",
            "127.0.0.1",
            "169.254.1.1",
            "2001:db8::1",
            "fe80::1",
            "::ffff:20.1.2.3",
        ] {
            assert!(!is_private(&ip(public)), "{public}");
        }
    }

    fn endpoint(records: &[(&str, &str)], private_ips: &[&str]) -> ArcPrivateEndpoint {
        let mut e: ArcPrivateEndpoint = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "pe", "namespace": "ns"},
            "spec": {
                "azure": {"resourceGroup": "rg"},
                "location": "eastus",
                "subnetId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
                "scopeId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/x"
            }
        }))
        .unwrap();
        e.status = Some(ArcPrivateEndpointStatus {
            private_ips: private_ips.iter().map(|s| s.to_string()).collect(),
            dns_records: records
                .iter()
                .map(|(fqdn, ip)| DnsRecord {
                    fqdn: fqdn.to_string(),
                    zone: String::new(),
                    ip_addresses: vec![ip.to_string()],
                })
                .collect(),
            ..Default::default()
        });
        e
    }

    #[test]
    fn the_documented_names_are_always_expected_at_the_private_ips() {
        let e = endpoint(&[("eastus.his.arc.azure.com", "10.0.0.5")], &["10.0.0.5"]);
        let x = expectations(&e, KnownCloud::AzureCloud).unwrap();
        let names: Vec<&str> = x.iter().map(|x| x.fqdn.as_str()).collect();
        assert_eq!(
            names,
            [
                "eastus.his.arc.azure.com",
                "gbl.his.arc.azure.com",
                "agentserviceapi.guestconfiguration.azure.com"
            ]
        );
        assert!(x.iter().all(|x| x.ips == [ip("10.0.0.5")]));
        // Listed in the records: its own address there, not every private IP.
        let e = endpoint(
            &[("GBL.his.arc.azure.com.", "10.0.0.4")],
            &["10.0.0.4", "10.0.0.5"],
        );
        let x = expectations(&e, KnownCloud::AzureCloud).unwrap();
        assert_eq!(x[0].fqdn, "gbl.his.arc.azure.com");
        assert_eq!(x[0].ips, [ip("10.0.0.4")]);
        assert_eq!(x.len(), 2);
    }

    /// The documented names are the endpoint's cloud's: the cloud of its records' zones, else
    /// the `--cloud` given.
    #[test]
    fn the_documented_names_are_those_of_the_endpoints_cloud() {
        let mut gov = endpoint(&[("usgv.his.arc.azure.us", "10.0.0.5")], &["10.0.0.5"]);
        for r in &mut gov.status.as_mut().unwrap().dns_records {
            r.zone = "privatelink.his.arc.azure.us".into();
        }
        let names = |e: &ArcPrivateEndpoint, cloud| -> Vec<(String, Option<String>)> {
            expectations(e, cloud)
                .unwrap()
                .into_iter()
                .map(|x| (x.fqdn, x.zone))
                .collect()
        };
        let expected = [
            ("usgv.his.arc.azure.us", "privatelink.his.arc.azure.us"),
            ("gbl.his.arc.azure.us", "privatelink.his.arc.azure.us"),
            (
                "agentserviceapi.guestconfiguration.azure.us",
                "privatelink.guestconfiguration.azure.us",
            ),
        ]
        .map(|(f, z)| (f.to_string(), Some(z.to_string())));
        assert_eq!(names(&gov, KnownCloud::AzureCloud), expected);
        // Records without a zone: the cloud given.
        let bare = endpoint(&[("usgv.his.arc.azure.us", "10.0.0.5")], &["10.0.0.5"]);
        let got = names(&bare, KnownCloud::AzureUSGovernment);
        assert_eq!(got[1..], expected[1..]);
        assert_eq!(got[0], ("usgv.his.arc.azure.us".to_string(), None));
    }

    #[test]
    fn an_endpoint_without_addresses_or_with_a_bad_one_is_not_checked() {
        let err = expectations(&endpoint(&[], &[]), KnownCloud::AzureCloud)
            .err()
            .unwrap();
        assert!(err.contains("no private IP in its status yet"), "{err}");
        let err = expectations(
            &endpoint(&[("gbl.his.arc.azure.com", "10.0.0.x")], &[]),
            KnownCloud::AzureCloud,
        )
        .err()
        .unwrap();
        assert!(
            err.contains("status.dnsRecords[0].ipAddresses: \"10.0.0.x\" is not an IP address"),
            "{err}"
        );
    }

    #[test]
    fn answers_are_judged_against_the_expected_addresses() {
        let other = endpoint(&[("westus.his.arc.azure.com", "10.9.0.4")], &["10.9.0.4"]);
        let owners = owners(&[other]);
        let x = Expected {
            fqdn: "gbl.his.arc.azure.com".into(),
            zone: Some("privatelink.his.arc.azure.com".into()),
            ips: vec![ip("10.0.0.4")],
        };
        let judged = |answer: Answer| judge(&x, &answer, &owners);
        assert_eq!(
            judged(Answer::Addresses(vec![ip("10.0.0.4")])).result,
            Verdict::Ok
        );
        let public = judged(Answer::Addresses(vec![ip("10.0.0.4"), ip("20.42.0.1")]));
        assert_eq!(public.result, Verdict::Public);
        assert!(
            public
                .message
                .as_deref()
                .unwrap()
                .starts_with("20.42.0.1 is not a private address: this resolver answers from public DNS, so DNS forwarding is misconfigured (forward privatelink.his.arc.azure.com to Azure DNS"),
            "{public:?}"
        );
        let theirs = judged(Answer::Addresses(vec![ip("10.9.0.4")]));
        assert_eq!(theirs.result, Verdict::OtherPrivate);
        assert!(
            theirs
                .message
                .as_deref()
                .unwrap()
                .contains("10.9.0.4 is the record of ns/pe westus.his.arc.azure.com"),
            "{theirs:?}"
        );
        let stray = judged(Answer::Addresses(vec![ip("192.168.7.7")]));
        assert_eq!(stray.result, Verdict::OtherPrivate);
        assert!(
            stray
                .message
                .as_deref()
                .unwrap()
                .contains("no checked endpoint's record"),
            "{stray:?}"
        );
        let none = judged(Answer::Unresolved("NXDOMAIN".into()));
        assert_eq!(none.result, Verdict::Unresolved);
        assert_eq!(
            none.message.as_deref(),
            Some("NXDOMAIN (expected 10.0.0.4)")
        );
    }
}
