//! The check itself against the loopback DNS server: each way a name can resolve, CNAME chains,
//! a server that never answers, and a truncated UDP answer completed over TCP.

use std::time::{Duration, Instant};

use arclink::api::ArcPrivateEndpoint;
use arclink::azure::KnownCloud;
use arclink::dnscheck::report::{self, Report, Verdict};
use arclink::dnscheck::resolve::Resolver;
use serde_json::json;

use super::dns_server::{DnsServer, Entry, Tcp, addresses};

/// An endpoint as the cluster stores it, with these `(fqdn, ip)` records.
pub fn endpoint(namespace: &str, name: &str, records: &[(&str, &str)]) -> ArcPrivateEndpoint {
    serde_json::from_value(endpoint_json(namespace, name, records)).unwrap()
}

pub fn endpoint_json(namespace: &str, name: &str, records: &[(&str, &str)]) -> serde_json::Value {
    let mut ips: Vec<&str> = records.iter().map(|(_, ip)| *ip).collect();
    ips.sort_unstable();
    json!({
        "apiVersion": "arclink.io/v1alpha1",
        "kind": "ArcPrivateEndpoint",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "azure": {"resourceGroup": "rg-net"},
            "location": "eastus",
            "subnetId": "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/pe",
            "scopeRef": {"name": "arc-scope"}
        },
        "status": {
            "privateIPs": ips,
            "dnsRecords": records.iter().map(|(fqdn, ip)| json!({
                "fqdn": fqdn,
                "zone": "privatelink.his.arc.azure.com",
                "ipAddresses": [ip],
            })).collect::<Vec<_>>(),
        }
    })
}

pub async fn check(
    server: &DnsServer,
    endpoints: &[ArcPrivateEndpoint],
    timeout: Duration,
) -> Report {
    let resolver = Resolver::server(server.addr, timeout).unwrap();
    let selected: Vec<&ArcPrivateEndpoint> = endpoints.iter().collect();
    report::check(&resolver, KnownCloud::AzureCloud, endpoints, &selected).await
}

fn result_of<'a>(report: &'a Report, endpoint: &str, name: &str) -> &'a report::NameReport {
    report
        .endpoints
        .iter()
        .find(|e| e.name == endpoint)
        .and_then(|e| e.names.iter().find(|n| n.name == name))
        .unwrap_or_else(|| panic!("{endpoint} {name} not in {report:#?}"))
}

#[tokio::test]
async fn each_way_a_name_resolves_gets_its_verdict() {
    let hub = endpoint(
        "arc",
        "hub",
        &[
            ("gbl.his.arc.azure.com", "10.10.1.4"),
            ("eastus.his.arc.azure.com", "10.10.1.5"),
            ("agentserviceapi.guestconfiguration.azure.com", "10.10.1.6"),
            ("eastus-gas.guestconfiguration.azure.com", "10.10.1.7"),
        ],
    );
    let spoke = endpoint("arc", "spoke", &[("westus.his.arc.azure.com", "10.20.1.4")]);
    let server = DnsServer::start(&[
        // How Azure DNS answers through a privatelink zone.
        (
            "gbl.his.arc.azure.com",
            Entry::Cname("gbl.privatelink.his.arc.azure.com".into()),
        ),
        (
            "gbl.privatelink.his.arc.azure.com",
            addresses(&["10.10.1.4"]),
        ),
        ("eastus.his.arc.azure.com", addresses(&["20.49.109.3"])),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.20.1.4"]),
        ),
        ("westus.his.arc.azure.com", addresses(&["10.20.1.4"])),
    ]);
    let report = check(&server, &[hub, spoke], Duration::from_secs(10)).await;

    let ok = result_of(&report, "hub", "gbl.his.arc.azure.com");
    assert_eq!(
        (ok.result, ok.addresses.as_slice()),
        (Verdict::Ok, ["10.10.1.4".to_string()].as_slice())
    );
    let public = result_of(&report, "hub", "eastus.his.arc.azure.com");
    assert_eq!(public.result, Verdict::Public, "{public:?}");
    let other = result_of(
        &report,
        "hub",
        "agentserviceapi.guestconfiguration.azure.com",
    );
    assert_eq!(other.result, Verdict::OtherPrivate, "{other:?}");
    assert!(
        other
            .message
            .as_deref()
            .unwrap()
            .contains("is the record of arc/spoke westus.his.arc.azure.com"),
        "{other:?}"
    );
    let missing = result_of(&report, "hub", "eastus-gas.guestconfiguration.azure.com");
    assert_eq!(missing.result, Verdict::Unresolved, "{missing:?}");
    assert!(
        missing.message.as_deref().unwrap().starts_with("NXDOMAIN"),
        "{missing:?}"
    );
    // The documented names the spoke does not list are expected at its private IP: one
    // resolves there, the other to the hub's record.
    assert_eq!(
        result_of(&report, "spoke", "westus.his.arc.azure.com").result,
        Verdict::Ok
    );
    assert_eq!(
        result_of(
            &report,
            "spoke",
            "agentserviceapi.guestconfiguration.azure.com"
        )
        .result,
        Verdict::Ok
    );
    let theirs = result_of(&report, "spoke", "gbl.his.arc.azure.com");
    assert_eq!(theirs.result, Verdict::OtherPrivate);
    assert!(
        theirs
            .message
            .as_deref()
            .unwrap()
            .contains("arc/hub gbl.his.arc.azure.com"),
        "{theirs:?}"
    );
    let s = &report.summary;
    assert_eq!(
        (s.ok, s.public, s.other_private, s.unresolved),
        (3, 1, 2, 1),
        "{s:?}"
    );
    assert_eq!(report.exit().code(), 1);
    // Each name is asked once, however many endpoints list it.
    assert_eq!(
        server.count("gbl.his.arc.azure.com", "udp"),
        2,
        "A and AAAA"
    );
}

#[tokio::test]
async fn all_names_resolving_to_their_endpoint_exit_zero() {
    let hub = endpoint(
        "arc",
        "hub",
        &[
            ("gbl.his.arc.azure.com", "10.10.1.4"),
            ("agentserviceapi.guestconfiguration.azure.com", "10.10.1.6"),
        ],
    );
    let server = DnsServer::start(&[
        ("gbl.his.arc.azure.com", addresses(&["10.10.1.4"])),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.10.1.6"]),
        ),
    ]);
    let report = check(&server, &[hub], Duration::from_secs(10)).await;
    assert_eq!(report.summary.ok, 2, "{report:#?}");
    assert_eq!(report.exit().code(), 0);
}

#[tokio::test]
async fn a_server_that_never_answers_is_reported_within_the_timeout() {
    let hub = endpoint("arc", "hub", &[("gbl.his.arc.azure.com", "10.10.1.4")]);
    let server = DnsServer::start(&[
        ("gbl.his.arc.azure.com", Entry::Silent),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            Entry::Silent,
        ),
    ]);
    let started = Instant::now();
    let report = check(&server, &[hub], Duration::from_secs(1)).await;
    let took = started.elapsed();
    // Both names are asked concurrently, each bounded by the timeout; the bound is generous for
    // a loaded machine but far below hickory's own default of 5s per attempt.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let silent = result_of(&report, "hub", "gbl.his.arc.azure.com");
    assert_eq!(silent.result, Verdict::Unresolved);
    assert_eq!(
        silent.message.as_deref(),
        Some("no answer within 1s (expected 10.10.1.4)")
    );
    assert!(server.count("gbl.his.arc.azure.com", "udp") >= 1);
}

#[tokio::test]
async fn a_truncated_answer_is_asked_again_over_tcp_on_the_same_port() {
    let hub = endpoint("arc", "hub", &[("gbl.his.arc.azure.com", "10.10.1.4")]);
    let server = DnsServer::start(&[
        (
            "gbl.his.arc.azure.com",
            Entry::Truncated(vec!["10.10.1.4".parse().unwrap()]),
        ),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.10.1.4"]),
        ),
    ]);
    let report = check(&server, &[hub], Duration::from_secs(10)).await;
    let name = result_of(&report, "hub", "gbl.his.arc.azure.com");
    assert_eq!(name.result, Verdict::Ok, "{name:?}");
    assert!(server.count("gbl.his.arc.azure.com", "tcp") >= 1);
}

/// A record name carrying a colour escape and a BEL (as a hostile ARM could hand it to the
/// controller, which writes it into the status): the text report shows it escaped, the JSON
/// report keeps it exact.
#[tokio::test]
async fn names_carrying_terminal_escapes_are_shown_escaped_and_exact_in_json() {
    let hostile = "gbl.his.arc.azure.com\u{1b}[31m\u{7}";
    let hub = endpoint("arc", "hub", &[(hostile, "10.10.1.4")]);
    let server = DnsServer::start(&[(
        "agentserviceapi.guestconfiguration.azure.com",
        addresses(&["10.10.1.4"]),
    )]);
    let report = check(&server, &[hub], Duration::from_secs(5)).await;
    let text = report::render_text(&report);
    assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
    assert!(
        text.contains("gbl.his.arc.azure.com\\u{1b}[31m\\u{7}"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::render_json(&report)).unwrap();
    assert_eq!(json["endpoints"][0]["names"][0]["name"], json!(hostile));
}

/// The probe of issue 22: every name truncated over UDP, and a server that closes each TCP
/// connection after one answer, while several names are asked at once.
#[tokio::test]
async fn a_server_closing_tcp_after_one_answer_gets_every_name_resolved() {
    let names = [
        "gbl.his.arc.azure.com",
        "eastus.his.arc.azure.com",
        "agentserviceapi.guestconfiguration.azure.com",
        "eastus-gas.guestconfiguration.azure.com",
        "eastus.dp.kubernetesconfiguration.azure.com",
    ];
    let records: Vec<(&str, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, format!("10.10.1.{}", i + 4)))
        .collect();
    let hub = endpoint(
        "arc",
        "hub",
        &records
            .iter()
            .map(|(n, ip)| (*n, ip.as_str()))
            .collect::<Vec<_>>(),
    );
    let table: Vec<(&str, Entry)> = records
        .iter()
        .map(|(n, ip)| (*n, Entry::Truncated(vec![ip.parse().unwrap()])))
        .collect();
    let server = DnsServer::start_with(&table, Tcp::OneAnswer);
    let report = check(&server, &[hub], Duration::from_secs(10)).await;
    assert_eq!(report.summary.ok, names.len(), "{report:#?}");
    assert_eq!(report.exit().code(), 0);
}

/// The hub with one name whose A query is truncated over UDP and whose first `cuts` TCP
/// fallbacks are cut (the AAAA query has no record), next to a name answered plainly.
async fn check_cut(cuts: usize) -> (DnsServer, Report) {
    let hub = endpoint("arc", "hub", &[("gbl.his.arc.azure.com", "10.10.1.4")]);
    let server = DnsServer::start(&[
        (
            "gbl.his.arc.azure.com",
            Entry::TruncatedCut {
                ips: vec!["10.10.1.4".parse().unwrap()],
                cuts,
            },
        ),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.10.1.4"]),
        ),
    ]);
    let report = check(&server, &[hub], Duration::from_secs(10)).await;
    (server, report)
}

/// The retry itself, made certain: with two cuts (hickory tries a cut connection once more by
/// itself) the first lookup fails without an answer; the second gets the address, and the
/// report says it took two.
#[tokio::test]
async fn a_cut_tcp_fallback_is_asked_again_once_and_the_report_says_so() {
    let (server, report) = check_cut(2).await;
    let cut = result_of(&report, "hub", "gbl.his.arc.azure.com");
    assert_eq!(cut.result, Verdict::Ok, "{cut:?}");
    assert!(cut.retried_after.is_some(), "{cut:?}");
    let plain = result_of(
        &report,
        "hub",
        "agentserviceapi.guestconfiguration.azure.com",
    );
    assert_eq!((plain.result, &plain.retried_after), (Verdict::Ok, &None));
    // The first lookup's two cut queries, then the second's.
    assert_eq!(server.count_type("gbl.his.arc.azure.com", "tcp", "A"), 3);
    assert_eq!(report.exit().code(), 0);

    let text = report::render_text(&report);
    assert!(
        text.contains("  ok            gbl.his.arc.azure.com -> 10.10.1.4 (asked twice; the first try failed: "),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::render_json(&report)).unwrap();
    let names = &json["endpoints"][0]["names"];
    assert!(names[0]["retriedAfter"].is_string(), "{json:#}");
    assert!(names[1].get("retriedAfter").is_none(), "{json:#}");
}

/// A name whose TCP fallback is cut on both lookups is judged after the second, and says so.
#[tokio::test]
async fn a_name_failing_twice_is_unresolved_after_the_second_try() {
    let (server, report) = check_cut(4).await;
    let name = result_of(&report, "hub", "gbl.his.arc.azure.com");
    assert_eq!(name.result, Verdict::Unresolved, "{name:?}");
    assert!(name.retried_after.is_some(), "{name:?}");
    assert_eq!(
        server.count_type("gbl.his.arc.azure.com", "tcp", "A"),
        4,
        "twice per lookup (hickory asks twice itself), two lookups"
    );
    assert!(
        report::render_text(&report).contains("(asked twice; the first try failed: "),
        "{report:#?}"
    );
}
