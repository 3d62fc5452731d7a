//! Endpoints to existing private-link resources (`spec.target`): Key Vault, blob storage, an
//! existing Azure Monitor scope. Each connects with its one group id, gets exactly the
//! catalogue's zones for it in one zone group, reports its names, and writes nothing in steady
//! state; a group id outside the catalogue with managed DNS is refused before any write.

use arclink::api::conditions::{READY, STALLED};
use arclink::api::endpoint::{PrivateDnsMode, TargetStatus};
use arclink::azure::KnownCloud;
use arclink::dnscheck::names;

use super::support::*;
use super::target_support::*;

const MONITOR_ZONES: [&str; 5] = [
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.core.windows.net",
    "privatelink.monitor.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.oms.opinsights.azure.com",
];

fn connection(b: &Bed, endpoint: &str) -> serde_json::Value {
    let pe = b
        .admin
        .get(&endpoint_id(endpoint))
        .expect("endpoint exists");
    pe["properties"]["privateLinkServiceConnections"][0]["properties"].clone()
}

#[tokio::test]
async fn a_key_vault_endpoint_gets_its_one_zone_its_names_and_then_writes_nothing() {
    let b = target_bed().await;
    let mut obj = target_endpoint("kv-pe", "hub", &vault_id(), "vault");
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    let conn = connection(&b, "kv-pe");
    assert_eq!(conn["privateLinkServiceId"].as_str().unwrap(), vault_id());
    assert_eq!(conn["groupIds"], serde_json::json!(["vault"]));
    // Exactly the catalogue's zone for `vault`: no Arc zone, no Azure Monitor zone.
    assert_eq!(zones_in_rg_dns(&b), ["privatelink.vaultcore.azure.net"]);
    let zone = zone_id("privatelink.vaultcore.azure.net");
    assert_eq!(group_zones(&b, "kv-pe"), [zone.to_ascii_lowercase()]);
    assert!(
        b.admin
            .get(&format!("{zone}/virtualNetworkLinks/arclink-hub"))
            .is_some()
    );
    assert!(b.admin.get(&format!("{zone}/A/kv-arc")).is_some());

    let st = obj.status.clone().unwrap();
    assert_eq!(
        st.target,
        Some(TargetStatus {
            name: "kv-arc/vault".into(),
            resource_id: vault_id(),
            group_id: "vault".into(),
            source: "target".into(),
        })
    );
    assert_eq!(st.dns_records.len(), 1, "{:?}", st.dns_records);
    assert_eq!(st.dns_records[0].fqdn, "kv-arc.vault.azure.net");
    assert_eq!(st.dns_records[0].zone, "privatelink.vaultcore.azure.net");
    assert_eq!(st.dns_records[0].ip_addresses, st.private_ips);
    assert_eq!(st.dns_zone_ids, std::slice::from_ref(&zone));
    let ready_message = message(&obj, READY);
    assert!(ready_message.contains("Azure Key Vault"), "{ready_message}");

    // dns-check asks the vault's documented name, in the zone the status names.
    let documented = names::documented(KnownCloud::AzureCloud, &names::target(&obj));
    assert_eq!(documented.len(), 1);
    assert_eq!(documented[0].fqdn, "kv-arc.vault.azure.net");
    assert_eq!(documented[0].zone, "privatelink.vaultcore.azure.net");

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(
        b.admin.counters().writes(),
        0,
        "{:?}",
        b.admin.counters().to_json()
    );
    assert!(out.changes.is_empty());
    assert!(ready(&obj));
}

#[tokio::test]
async fn a_blob_endpoint_creates_only_the_blob_zone() {
    let b = target_bed().await;
    let mut obj = target_endpoint("blob-pe", "hub", &storage_id("scripts"), "blob");
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(zones_in_rg_dns(&b), ["privatelink.blob.core.windows.net"]);
    let st = obj.status.clone().unwrap();
    let fqdns: Vec<&str> = st.dns_records.iter().map(|r| r.fqdn.as_str()).collect();
    assert_eq!(fqdns, ["scripts.blob.core.windows.net"]);
    let documented = names::documented(KnownCloud::AzureCloud, &names::target(&obj));
    assert_eq!(documented[0].fqdn, "scripts.blob.core.windows.net");
}

#[tokio::test]
async fn an_existing_azure_monitor_scope_gets_its_five_zones_in_one_zone_group() {
    let b = target_bed().await;
    let ampls = monitor_scope(&b, "ampls-a").await;
    let mut obj = target_endpoint("ampls-pe", "hub", &ampls, "azuremonitor");
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(zones_in_rg_dns(&b), MONITOR_ZONES);
    let mut wanted: Vec<String> = MONITOR_ZONES
        .iter()
        .map(|z| zone_id(z).to_ascii_lowercase())
        .collect();
    wanted.sort();
    assert_eq!(group_zones(&b, "ampls-pe"), wanted);
    for zone in MONITOR_ZONES {
        assert!(
            b.admin
                .get(&format!(
                    "{}/virtualNetworkLinks/arclink-hub",
                    zone_id(zone)
                ))
                .is_some(),
            "{zone} is linked"
        );
    }
    let st = obj.status.clone().unwrap();
    assert_eq!(st.dns_zone_ids.len(), 5);
    let fqdns: Vec<&str> = st.dns_records.iter().map(|r| r.fqdn.as_str()).collect();
    for global in ["api.monitor.azure.com", "global.in.ai.monitor.azure.com"] {
        assert!(fqdns.contains(&global), "{fqdns:?}");
    }
    assert!(
        fqdns.contains(&"scadvisorcontentpl.blob.core.windows.net"),
        "{fqdns:?}"
    );
    // dns-check adds the documented global names the status may not list.
    let documented = names::documented(KnownCloud::AzureCloud, &names::target(&obj));
    assert_eq!(documented.len(), 5);
    assert!(
        documented
            .iter()
            .all(|n| n.zone == "privatelink.monitor.azure.com")
    );

    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn a_group_id_outside_the_catalogue_needs_existing_or_no_dns() {
    let b = target_bed().await;
    let mut obj = target_endpoint("sql-pe", "hub", &vault_id(), "sqlServer");
    b.admin.reset_counters();
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "InvalidSpec");
    let msg = message(&obj, STALLED);
    assert!(
        msg.contains("spec.target.groupId") && msg.contains("spec.privateDns.mode"),
        "{msg}"
    );
    assert!(msg.contains("sqlServer"), "{msg}");
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(b.admin.get(&endpoint_id("sql-pe")).is_none());

    // Without managed DNS the catalogue is not needed: Azure judges the group id (the vault
    // has none of that name) and its refusal is reported as it is.
    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Disabled;
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "InvalidValuesForRequestParameters");
    assert!(zones_in_rg_dns(&b).is_empty());
}

#[tokio::test]
async fn a_group_the_controllers_cloud_has_no_zones_for_is_refused() {
    let mut b = target_bed().await;
    b.settings.agent_cloud = "AzureChinaCloud".into();
    let ampls = monitor_scope(&b, "ampls-a").await;
    let mut obj = target_endpoint("ampls-pe", "hub", &ampls, "azuremonitor");
    b.admin.reset_counters();
    let d = target_deps(&obj);
    step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "InvalidSpec");
    assert!(message(&obj, STALLED).contains("AzureChinaCloud"));
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn a_target_id_stored_before_the_crd_checked_it_is_not_used() {
    let b = target_bed().await;
    let mut obj = target_endpoint("bad-pe", "hub", "/subscriptions/x/../vaults/kv", "vault");
    let d = target_deps(&obj);
    step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "InvalidSpec");
    assert!(message(&obj, STALLED).contains("spec.target.resourceId"));
    assert!(b.admin.get(&endpoint_id("bad-pe")).is_none());
}
