//! `arclink dns-check -f`: the built binary reads the examples' status from its embedded
//! emulator (as `plan` does, never writing) and asks the loopback DNS server.

use serde_json::Value;

use super::dns_server::{DnsServer, Entry, addresses};
use crate::common::sandbox::{Run, Sandbox, golden};

const EXAMPLES: &str = "deploy/examples/";

fn dns_check(sb: &Sandbox, server: &DnsServer, extra: &[&str]) -> Run {
    let addr = server.addr.to_string();
    let mut args = vec!["dns-check", "-f", EXAMPLES, "--server", &addr];
    args.extend_from_slice(extra);
    let mut run = sb.arclink(&args);
    run.stdout = run.stdout.replace(&addr, "127.0.0.1:<port>");
    run
}

/// The Log Analytics workspace's `customerId`: its names carry it, and the sandbox shows every
/// GUID in output as `<guid>`.
fn workspace_guid(sb: &Sandbox) -> String {
    sb.resources()
        .iter()
        .find(|(id, _)| id.ends_with("/microsoft.operationalinsights/workspaces/arc-logs"))
        .and_then(|(_, w)| w["properties"]["customerId"].as_str().map(str::to_string))
        .expect("the examples' workspace")
}

/// `fqdn -> ip` of the example endpoints after `apply`, GUIDs in names being the workspace's.
fn records(apply_json: &str, workspace: &str) -> Vec<(String, String)> {
    let report: Value = serde_json::from_str(apply_json).unwrap();
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "ArcPrivateEndpoint")
        .flat_map(|e| e["status"]["dnsRecords"].as_array().unwrap())
        .map(|r| {
            (
                r["fqdn"].as_str().unwrap().replace("<guid>", workspace),
                r["ipAddresses"][0].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ip_of<'a>(records: &'a [(String, String)], fqdn: &str) -> &'a str {
    &records.iter().find(|(f, _)| f == fqdn).unwrap().1
}

#[test]
fn before_apply_the_endpoint_has_no_address_to_check() {
    let sb = Sandbox::new("dns-check-fresh");
    let server = DnsServer::start(&[]);
    let run = dns_check(&sb, &server, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("ArcPrivateEndpoint default/hub-arc-pe (no private IP)")
            && run
                .stdout
                .contains("! not checked: no private IP in its status yet (Ready False"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("5 endpoint(s) not checked"),
        "{}",
        run.stdout
    );
    assert_eq!(sb.scopes_and_endpoints(), 0, "dns-check must not write");
}

#[test]
fn after_apply_each_name_is_judged_against_the_endpoint_status() {
    let sb = Sandbox::new("dns-check");
    let apply = sb.arclink(&["apply", "-f", EXAMPLES, "-o", "json"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let records = records(&apply.stdout, &workspace_guid(&sb));
    // Arc's five names, the storage account's, the vault's, Resource Manager's and the Azure
    // Monitor scope's thirteen (global names, the workspace's, the data collection endpoint's).
    assert_eq!(records.len(), 21, "{records:?}");
    let ip = |fqdn: &str| ip_of(&records, fqdn).to_string();

    let misconfigured = DnsServer::start(&[
        (
            "gbl.his.arc.azure.com",
            Entry::Cname("gbl.privatelink.his.arc.azure.com".into()),
        ),
        (
            "gbl.privatelink.his.arc.azure.com",
            addresses(&[&ip("gbl.his.arc.azure.com")]),
        ),
        (
            "eastus.his.arc.azure.com",
            addresses(&[&ip("eastus.his.arc.azure.com")]),
        ),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&[&ip("eastus-gas.guestconfiguration.azure.com")]),
        ),
        (
            "eastus.dp.kubernetesconfiguration.azure.com",
            addresses(&["20.49.109.3"]),
        ),
        (
            "arclink-kv.vault.azure.net",
            Entry::Cname("arclink-kv.privatelink.vaultcore.azure.net".into()),
        ),
        (
            "arclink-kv.privatelink.vaultcore.azure.net",
            addresses(&[&ip("arclink-kv.vault.azure.net")]),
        ),
    ]);
    let text = dns_check(&sb, &misconfigured, &[]);
    assert_eq!(text.code, 1, "{text:?}");
    golden("dns-check.txt", &text.stdout);
    let readme = std::fs::read_to_string(crate::common::sandbox::root().join("README.md")).unwrap();
    assert!(
        readme.contains(&text.stdout),
        "the README's example output of dns-check is stale:\n{}",
        text.stdout
    );
    let json = dns_check(&sb, &misconfigured, &["-o", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    golden("dns-check.json", &json.stdout);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["summary"],
        serde_json::json!({"ok": 3, "public": 1, "otherPrivate": 1, "unresolved": 16, "unchecked": 0})
    );

    let table: Vec<(&str, Entry)> = records
        .iter()
        .map(|(fqdn, ip)| (fqdn.as_str(), addresses(&[ip])))
        .collect();
    let fixed = DnsServer::start(&table);
    let ok = dns_check(&sb, &fixed, &[]);
    ok.exited(0)
        .stdout(|o| o.ends_with("\nDNS check through 127.0.0.1:<port>: 21 ok.\n"));
}

#[test]
fn a_selection_that_matches_nothing_is_an_error_naming_it() {
    let sb = Sandbox::new("dns-check-none");
    let server = DnsServer::start(&[]);
    let run = dns_check(&sb, &server, &["--namespace", "arc", "--endpoint", "hub"]);
    run.exited(1).stderr(|e| {
        e.contains(
            "error: no ArcPrivateEndpoint named \"hub\" in namespace \"arc\" of the manifests",
        )
    });
    assert_eq!(run.stdout, "");
    let json = dns_check(&sb, &server, &["--endpoint", "hub", "-o", "json"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["errors"][0],
        "no ArcPrivateEndpoint named \"hub\" in any namespace of the manifests"
    );
    assert_eq!(json.code, 1);
}
