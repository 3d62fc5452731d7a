//! The check itself against the loopback DNS server: each way a name can resolve, CNAME chains,
//! a server that never answers, and a truncated UDP answer completed over TCP.

use std::time::{Duration, Instant};

use arclink::api::ArcPrivateEndpoint;
use arclink::dnscheck::report::{self, Report, Verdict};
use arclink::dnscheck::resolve::Resolver;
use serde_json::json;

use super::dns_server::{DnsServer, Entry, addresses};

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
    report::check(&resolver, endpoints, &selected).await
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
