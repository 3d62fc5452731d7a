//! DNS modes, DNS drift, and the dnsExport ConfigMap contents.

use arclink::api::DriftPolicy;
use arclink::api::conditions::{DRIFTED, STALLED};
use arclink::api::endpoint::PrivateDnsMode;
use arclink::reconcile::ChangeAction;
use arclink::reconcile::endpoint::dns_export;
use serde_json::json;

use super::support::*;
use crate::common::fixtures::owned_by;

fn group_id() -> String {
    format!("{}/privateDnsZoneGroups/default", endpoint_id("pe"))
}

#[tokio::test]
async fn existing_mode_attaches_the_given_zones_and_creates_none() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let zid = zone_id("privatelink.his.arc.azure.com");
    b.arm
        .put_and_wait::<_, serde_json::Value>(&zid.parse().unwrap(), &json!({"location": "global"}))
        .await
        .unwrap();
    let mut obj = endpoint("pe", "hub", "scope-a");
    let dns = obj.spec.private_dns.as_mut().unwrap();
    dns.mode = PrivateDnsMode::Existing;
    dns.zone_ids = vec![zid.clone()];
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let group = b.admin.get(&group_id()).unwrap();
    let configs = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap();
    assert_eq!(configs.len(), 1);
    assert!(
        configs[0]["properties"]["privateDnsZoneId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&zid)
    );
    assert!(
        b.admin
            .get(&zone_id("privatelink.guestconfiguration.azure.com"))
            .is_none()
    );
    assert!(
        b.admin
            .get(&format!("{zid}/virtualNetworkLinks/arclink-hub"))
            .is_none()
    );
    assert!(obj.status.as_ref().unwrap().dns_zone_ids.is_empty());
}

#[tokio::test]
async fn existing_mode_names_a_zone_id_that_is_not_a_zone() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let vnet = subnet_id("hub").replace("/subnets/private-endpoints", "");
    let mut obj = endpoint("pe", "hub", "scope-a");
    let dns = obj.spec.private_dns.as_mut().unwrap();
    dns.mode = PrivateDnsMode::Existing;
    dns.zone_ids = vec![zone_id("privatelink.his.arc.azure.com"), vnet.clone()];
    converge(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "InvalidSpec");
    let msg = message(&obj, STALLED);
    assert!(msg.contains("spec.privateDns.zoneIds[1]"), "{msg}");
    assert!(msg.contains(&vnet), "{msg}");
    assert!(b.admin.get(&group_id()).is_none());
}

#[tokio::test]
async fn mode_none_writes_no_dns_but_reports_records() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Disabled;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(b.admin.get(&group_id()).is_none());
    for zone in ZONES {
        assert!(b.admin.get(&zone_id(zone)).is_none());
    }
    let st = obj.status.as_ref().unwrap();
    assert_eq!(st.dns_records.len(), 5);
    assert!(st.dns_records.iter().all(|r| r.ip_addresses.len() == 1));

    // A zone group put there by someone else (Azure Policy) is left alone.
    let zid = zone_id("privatelink.his.arc.azure.com");
    b.arm
        .put_and_wait::<_, serde_json::Value>(&zid.parse().unwrap(), &json!({"location": "global"}))
        .await
        .unwrap();
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &group_id().replace("/default", "/policy").parse().unwrap(),
            &json!({"properties": {"privateDnsZoneConfigs": [{"name": "his", "properties": {"privateDnsZoneId": zid}}]}}),
        )
        .await
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn removed_zone_group_is_restored() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    b.admin.delete_out_of_band(&group_id()).unwrap();
    assert!(
        b.admin
            .get(&format!("{}/A/gbl", zone_id(ZONES[0])))
            .is_none(),
        "the group's records go with it"
    );
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    assert!(
        out.changes[0]
            .resource_id
            .ends_with("/privateDnsZoneGroups/default")
    );
    assert!(out.drift.is_corrected(), "{:?}", out.drift);
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    assert!(
        b.admin
            .get(&format!("{}/A/gbl", zone_id(ZONES[0])))
            .is_some()
    );
}

#[tokio::test]
async fn changed_a_record_is_reported_or_corrected() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let record = format!("{}/A/gbl", zone_id(ZONES[0]));
    let original = b.admin.get(&record).unwrap()["properties"]["aRecords"].clone();
    b.admin
        .patch_out_of_band(
            &record,
            json!({"properties": {"aRecords": [{"ipv4Address": "192.0.2.1"}]}}),
        )
        .unwrap();

    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(ready(&obj), "Report keeps Ready and says what differs");
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        drift[0].path,
        "privateDnsZones/privatelink.his.arc.azure.com/A/gbl"
    );
    assert_eq!(drift[0].actual, "192.0.2.1");
    assert!(!out.drift.reported.is_empty());

    obj.spec.common.policy.drift = DriftPolicy::Correct;
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(out.changes.len(), 1);
    assert!(out.changes[0].resource_id.ends_with("/A/gbl"));
    assert!(out.drift.is_corrected());
    assert_eq!(reason(&obj, DRIFTED), "DriftCorrected");
    assert_eq!(
        b.admin.get(&record).unwrap()["properties"]["aRecords"],
        original
    );
    assert!(obj.status.as_ref().unwrap().common.arm.drift.is_empty());
}

#[tokio::test]
async fn unowned_zone_needs_adoption() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &zone_id(ZONES[1]).parse().unwrap(),
            &json!({"location": "global", "tags": {"team": "dns"}}),
        )
        .await
        .unwrap();
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert_eq!(
        reason(&obj, arclink::api::conditions::STALLED),
        "AdoptionRequired"
    );
    assert!(message(&obj, arclink::api::conditions::STALLED).contains(ZONES[1]));
    obj.spec.common.policy.adopt = true;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let z = b.admin.get(&zone_id(ZONES[1])).unwrap();
    assert_eq!(z["tags"]["team"], "dns");
    assert_eq!(
        z["tags"]["arclink-owner"],
        owned_by("ArcPrivateEndpoint/pe")
    );
}

/// The ConfigMap data as one text: `### key` then the value.
fn render(map: &std::collections::BTreeMap<String, String>) -> String {
    map.iter().map(|(k, v)| format!("### {k}\n{v}")).collect()
}

#[tokio::test]
async fn dns_export_matches_the_golden_file() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let got = render(&dns_export(obj.status.as_ref().unwrap()));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/endpoint/dns-export.txt"
    );
    if std::env::var_os("ARCLINK_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).unwrap();
    assert_eq!(got, want, "set ARCLINK_UPDATE_GOLDEN=1 to rewrite {path}");
}

#[tokio::test]
async fn spec_tags_reach_owned_zones_and_links_keeping_other_tags() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let zone = zone_id(ZONES[0]);
    let link = format!("{zone}/virtualNetworkLinks/arclink-hub");
    b.admin
        .patch_out_of_band(&zone, json!({"tags": {"cost-center": "42"}}))
        .unwrap();
    obj.spec.common.tags = [("team".to_string(), "net".to_string())].into();
    obj.metadata.generation = Some(2);

    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let paths: Vec<String> = obj
        .status
        .as_ref()
        .unwrap()
        .common
        .arm
        .drift
        .iter()
        .map(|d| d.path.clone())
        .collect();
    assert!(paths.contains(&"tags.team".to_string()), "{paths:?}");
    assert!(
        paths.contains(&format!("privateDnsZones/{}.tags.team", ZONES[0])),
        "{paths:?}"
    );
    assert!(
        paths.contains(&format!(
            "privateDnsZones/{}/virtualNetworkLinks/arclink-hub.tags.team",
            ZONES[0]
        )),
        "{paths:?}"
    );

    obj.spec.common.policy.drift = DriftPolicy::Correct;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let z = b.admin.get(&zone).unwrap();
    assert_eq!(z["tags"]["team"], "net");
    assert_eq!(z["tags"]["cost-center"], "42", "tags set by others stay");
    assert_eq!(b.admin.get(&link).unwrap()["tags"]["team"], "net");
    assert_eq!(
        b.admin.get(&endpoint_id("pe")).unwrap()["tags"]["team"],
        "net"
    );
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
}
