//! Clouds other than AzureCloud: an endpoint's documented names are those of its cloud — the
//! cloud of its records' zones, else `--cloud` — and never the public cloud's.

use std::time::Duration;

use arclink::api::ArcPrivateEndpoint;
use arclink::azure::KnownCloud;
use arclink::dnscheck::report::{self, Report, Verdict};
use arclink::dnscheck::resolve::Resolver;

use super::dns_server::{DnsServer, Entry, addresses};
use super::resolution::endpoint_json;
use crate::common::sandbox::Sandbox;

/// The public cloud's documented names, which a Government endpoint must not be checked with.
const PUBLIC_NAMES: [&str; 2] = [
    "gbl.his.arc.azure.com",
    "agentserviceapi.guestconfiguration.azure.com",
];

/// An endpoint with these `(fqdn, ip, zone)` records.
fn endpoint(records: &[(&str, &str, &str)]) -> ArcPrivateEndpoint {
    let pairs: Vec<(&str, &str)> = records.iter().map(|(f, ip, _)| (*f, *ip)).collect();
    let mut json = endpoint_json("arc", "gov", &pairs);
    for (i, (_, _, zone)) in records.iter().enumerate() {
        json["status"]["dnsRecords"][i]["zone"] = (*zone).into();
    }
    serde_json::from_value(json).unwrap()
}

async fn check(server: &DnsServer, cloud: KnownCloud, e: ArcPrivateEndpoint) -> Report {
    let resolver = Resolver::server(server.addr, Duration::from_secs(10)).unwrap();
    let known = [e];
    let selected: Vec<&ArcPrivateEndpoint> = known.iter().collect();
    report::check(&resolver, cloud, &known, &selected).await
}

fn verdicts(report: &Report) -> Vec<(String, Verdict)> {
    report.endpoints[0]
        .names
        .iter()
        .map(|n| (n.name.clone(), n.result))
        .collect()
}

#[tokio::test]
async fn a_government_endpoint_is_checked_with_government_names() {
    let gov = endpoint(&[
        (
            "usgv.his.arc.azure.us",
            "10.30.1.4",
            "privatelink.his.arc.azure.us",
        ),
        (
            "usgovvirginia-gas.guestconfiguration.azure.us",
            "10.30.1.5",
            "privatelink.guestconfiguration.azure.us",
        ),
    ]);
    let server = DnsServer::start(&[
        (
            "gbl.his.arc.azure.us",
            Entry::Cname("gbl.privatelink.his.arc.azure.us".into()),
        ),
        (
            "gbl.privatelink.his.arc.azure.us",
            addresses(&["10.30.1.4"]),
        ),
        ("usgv.his.arc.azure.us", addresses(&["10.30.1.4"])),
        (
            "usgovvirginia-gas.guestconfiguration.azure.us",
            addresses(&["10.30.1.5"]),
        ),
        (
            "agentserviceapi.guestconfiguration.azure.us",
            addresses(&["52.127.60.1"]),
        ),
        // Were the public cloud's names asked, they would resolve: the check would pass.
        ("gbl.his.arc.azure.com", addresses(&["10.30.1.4"])),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.30.1.4"]),
        ),
    ]);
    // `--cloud` says AzureCloud: the records' zones say Government.
    let report = check(&server, KnownCloud::AzureCloud, gov).await;
    assert_eq!(
        verdicts(&report),
        [
            ("usgv.his.arc.azure.us".to_string(), Verdict::Ok),
            (
                "usgovvirginia-gas.guestconfiguration.azure.us".to_string(),
                Verdict::Ok
            ),
            ("gbl.his.arc.azure.us".to_string(), Verdict::Ok),
            (
                "agentserviceapi.guestconfiguration.azure.us".to_string(),
                Verdict::Public
            ),
        ]
    );
    let public = &report.endpoints[0].names[3];
    assert!(
        public
            .message
            .as_deref()
            .unwrap()
            .contains("(forward privatelink.guestconfiguration.azure.us to Azure DNS"),
        "the documented name's zone is named: {public:?}"
    );
    for name in PUBLIC_NAMES {
        assert_eq!(server.count(name, "udp"), 0, "{name} was asked");
    }
    assert_eq!(report.exit().code(), 1);
}

#[tokio::test]
async fn records_without_a_zone_take_the_cloud_flag() {
    let bare = || endpoint(&[("usgv.his.arc.azure.us", "10.30.1.4", "")]);
    let server = DnsServer::start(&[
        ("usgv.his.arc.azure.us", addresses(&["10.30.1.4"])),
        ("gbl.his.arc.azure.us", addresses(&["10.30.1.4"])),
        (
            "agentserviceapi.guestconfiguration.azure.us",
            addresses(&["10.30.1.4"]),
        ),
    ]);
    let gov = check(&server, KnownCloud::AzureUSGovernment, bare()).await;
    assert_eq!(gov.summary.ok, 3, "{gov:#?}");
    assert_eq!(gov.exit().code(), 0);

    let public = check(&server, KnownCloud::AzureCloud, bare()).await;
    let names: Vec<String> = verdicts(&public).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[1..], PUBLIC_NAMES.map(str::to_string));
}

#[tokio::test]
async fn a_china_endpoint_is_not_checked_with_inferred_names() {
    let china = endpoint(&[(
        "chinaeast2-gas.guestconfiguration.azure.cn",
        "10.40.1.4",
        "privatelink.guestconfiguration.azure.cn",
    )]);
    let server = DnsServer::start(&[
        (
            "chinaeast2-gas.guestconfiguration.azure.cn",
            addresses(&["10.40.1.4"]),
        ),
        (
            "agentserviceapi.guestconfiguration.azure.cn",
            addresses(&["10.40.1.4"]),
        ),
    ]);
    let report = check(&server, KnownCloud::AzureCloud, china).await;
    assert_eq!(
        verdicts(&report),
        [
            (
                "chinaeast2-gas.guestconfiguration.azure.cn".to_string(),
                Verdict::Ok
            ),
            (
                "agentserviceapi.guestconfiguration.azure.cn".to_string(),
                Verdict::Ok
            ),
        ],
        "gbl.his.arc.azure.cn is not documented: not asked"
    );
    assert_eq!(server.count("gbl.his.arc.azure.cn", "udp"), 0);
}

#[test]
fn an_unknown_cloud_is_an_error_naming_the_flag() {
    let sb = Sandbox::new("dns-check-cloud");
    let run = sb.arclink(&[
        "dns-check",
        "-f",
        "deploy/examples/",
        "--cloud",
        "AzureMars",
    ]);
    run.exited(1)
        .stderr(|e| e.contains("--cloud \"AzureMars\" is not known"));
}
