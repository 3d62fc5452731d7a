//! Shared private DNS zones: `privatelink.blob.core.windows.net` serves every storage account
//! (and Azure Monitor); two endpoints needing the same managed zone both work, the zone goes
//! to the one that stays when the other is deleted (never deleted under it), and a zone that
//! holds records arclink did not write is never deleted.

use arclink::reconcile::endpoint::{DnsSharer, EndpointDeps};
use arclink::reconcile::{self, ChangeAction, Cleanup, Settings};
use serde_json::json;

use super::support::*;
use super::target_support::*;
use crate::common::fixtures::owned_by;

const BLOB: &str = "privatelink.blob.core.windows.net";

fn owner_of(b: &Bed, id: &str) -> String {
    let v = b.admin.get(id).unwrap_or_else(|| panic!("{id} exists"));
    v["tags"]["arclink-owner"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Cleans `obj` up until done.
async fn delete(b: &Bed, obj: &mut arclink::api::ArcPrivateEndpoint, d: &EndpointDeps) -> String {
    for _ in 0..12 {
        match reconcile::cleanup(&b.arm, &b.settings, &(), obj, d).await {
            Cleanup::Done(msg) => return msg,
            Cleanup::Pending { status, .. } => obj.status = Some(status),
        }
    }
    panic!("cleanup of {:?} did not finish", obj.metadata.name);
}

fn sharers(objs: &[&arclink::api::ArcPrivateEndpoint]) -> Vec<DnsSharer> {
    let settings = Settings::new("test-cluster");
    objs.iter()
        .filter_map(|o| DnsSharer::of(o, &settings))
        .collect()
}

#[tokio::test]
async fn two_endpoints_share_the_blob_zone_and_the_one_that_stays_keeps_it() {
    let b = target_bed().await;
    let mut first = target_endpoint("scripts-pe", "hub", &storage_id("scripts"), "blob");
    let mut second = target_endpoint("logs-pe", "hub", &storage_id("logs"), "blob");
    let d1 = target_deps(&first);
    let d2 = target_deps(&second);
    converge(&b, &mut first, &d1).await;
    converge(&b, &mut second, &d2).await;
    assert!(ready(&first), "{:?}", first.status);
    assert!(ready(&second), "{:?}", second.status);
    let zone = zone_id(BLOB);
    let link = format!("{zone}/virtualNetworkLinks/arclink-hub");
    // One zone, one link, made by the first; the second uses them as they are.
    assert_eq!(
        owner_of(&b, &zone),
        owned_by("ArcPrivateEndpoint/scripts-pe")
    );
    assert_eq!(
        owner_of(&b, &link),
        owned_by("ArcPrivateEndpoint/scripts-pe")
    );
    assert!(second.status.as_ref().unwrap().dns_zone_ids.is_empty());
    assert!(b.admin.get(&format!("{zone}/A/scripts")).is_some());
    assert!(b.admin.get(&format!("{zone}/A/logs")).is_some());
    // Steady state of both: no fight over the zone.
    b.admin.reset_counters();
    step(&b, &mut first, &d1).await;
    step(&b, &mut second, &d2).await;
    assert_eq!(b.admin.counters().writes(), 0);

    // The first goes while the second is declared: zone and link are handed over.
    let d1 = EndpointDeps {
        dns_sharers: sharers(&[&second]),
        ..target_deps(&first)
    };
    delete(&b, &mut first, &d1).await;
    assert!(b.admin.get(&endpoint_id("scripts-pe")).is_none());
    assert_eq!(owner_of(&b, &zone), owned_by("ArcPrivateEndpoint/logs-pe"));
    assert_eq!(owner_of(&b, &link), owned_by("ArcPrivateEndpoint/logs-pe"));
    assert!(b.admin.get(&format!("{zone}/A/scripts")).is_none());
    assert!(b.admin.get(&format!("{zone}/A/logs")).is_some());
    // The heir owns what it was given and writes nothing more.
    b.admin.reset_counters();
    step(&b, &mut second, &d2).await;
    assert!(ready(&second));
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(
        second.status.as_ref().unwrap().dns_zone_ids,
        std::slice::from_ref(&zone)
    );

    // The last one goes: nothing but the SOA is left, so the zone goes too.
    delete(&b, &mut second, &d2).await;
    assert!(b.admin.get(&zone).is_none());
}

#[tokio::test]
async fn a_zone_holding_records_arclink_did_not_write_is_never_deleted() {
    let b = target_bed().await;
    let mut obj = target_endpoint("scripts-pe", "hub", &storage_id("scripts"), "blob");
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let zone = zone_id(BLOB);
    // Someone else's endpoint (a managed disk, say) wrote its record into the shared zone.
    let record = format!("{zone}/A/disk-access");
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &record.parse().unwrap(),
            &json!({"properties": {"ttl": 10, "aRecords": [{"ipv4Address": "10.9.9.9"}]}}),
        )
        .await
        .unwrap();

    // A plan of the deletion already says the zone stays.
    let mut dry = Settings::new("test-cluster");
    dry.dry_run = true;
    let (_, planned) = reconcile::engine::cleanup_with_changes(&b.arm, &dry, &(), &obj, &d).await;
    let deletes: Vec<String> = planned
        .iter()
        .filter(|c| c.action == ChangeAction::Delete)
        .map(|c| c.resource_id.to_ascii_lowercase())
        .collect();
    let link = format!("{zone}/virtualNetworkLinks/arclink-hub").to_ascii_lowercase();
    assert!(deletes.contains(&link), "{deletes:?}");
    assert!(!deletes.contains(&zone.to_ascii_lowercase()), "{deletes:?}");

    delete(&b, &mut obj, &d).await;
    assert!(b.admin.get(&endpoint_id("scripts-pe")).is_none());
    assert!(
        b.admin.get(&zone).is_some(),
        "the zone with a foreign record stays"
    );
    assert!(b.admin.get(&record).is_some());
    assert!(b.admin.get(&format!("{zone}/A/scripts")).is_none());
    // Its link to the network is this endpoint's and goes.
    assert!(
        b.admin
            .get(&format!("{zone}/virtualNetworkLinks/arclink-hub"))
            .is_none()
    );
}

#[tokio::test]
async fn a_zone_arclink_did_not_create_is_used_and_never_deleted() {
    let b = target_bed().await;
    let zone = zone_id("privatelink.vaultcore.azure.net");
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &zone.parse().unwrap(),
            &json!({"location": "global"}),
        )
        .await
        .unwrap();
    let mut obj = target_endpoint("kv-pe", "hub", &vault_id(), "vault");
    obj.spec.common.policy.adopt = false;
    let dns = obj.spec.private_dns.as_mut().unwrap();
    dns.mode = arclink::api::endpoint::PrivateDnsMode::Existing;
    dns.zone_ids = vec![zone.clone()];
    let d = target_deps(&obj);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    delete(&b, &mut obj, &d).await;
    assert!(b.admin.get(&zone).is_some());
    assert!(
        b.admin.get(&format!("{zone}/A/kv-arc")).is_none(),
        "its record went with the zone group"
    );
}
