//! Checks made before any write: scope, subnet, region, one scope per virtual network,
//! ownership.

use arclink::api::conditions::{READY, RECONCILING, STALLED};
use arclink::reconcile::endpoint::{EndpointDeps, PeerEndpoint};
use arclink::reconcile::scope_ref::ScopeSource;
use serde_json::json;

use super::support::*;
use crate::common::fixtures::owned_by;

#[tokio::test]
async fn region_mismatch_is_rejected_without_any_arm_write() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.location = "westus".into();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "RegionMismatch");
    assert!(
        message(&obj, STALLED).contains("eastus"),
        "{}",
        message(&obj, STALLED)
    );
    assert!(!ready(&obj));
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(out.changes.is_empty());
    assert!(b.admin.get(&endpoint_id("pe")).is_none());

    // The west network is in westus: the same endpoint there is accepted.
    let mut west = endpoint("pe-west", "west", "scope-a");
    west.spec.location = "West US".into();
    converge(&b, &mut west, &deps(&s)).await;
    assert!(ready(&west), "{:?}", west.status);
}

#[tokio::test]
async fn missing_subnet_or_network_stalls_without_writes() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.subnet_id = obj.spec.subnet_id.replace("private-endpoints", "nope");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "SubnetNotFound");
    assert!(message(&obj, STALLED).contains("nope"));
    let mut obj = endpoint("pe", "nowhere", "scope-a");
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "SubnetNotFound");
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn a_second_scope_in_the_same_network_is_rejected_from_cluster_peers() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-b").await;
    let mut obj = endpoint("pe-b", "hub", "scope-b");
    let mut d = deps(&s);
    d.peers = vec![
        // Same network, same scope: allowed.
        PeerEndpoint {
            name: "ns/same".into(),
            subnet_id: subnet_id("hub").replace("private-endpoints", "other"),
            scope_id: scope_id("scope-b").to_uppercase(),
            group_id: "hybridcompute".into(),
            zone_ids: Vec::new(),
        },
        // Other network, other scope: allowed.
        PeerEndpoint {
            name: "ns/spoke".into(),
            subnet_id: subnet_id("spoke"),
            scope_id: scope_id("scope-a"),
            group_id: "hybridcompute".into(),
            zone_ids: Vec::new(),
        },
    ];
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    let mut obj = endpoint("pe-c", "hub", "scope-b");
    d.peers.push(PeerEndpoint {
        name: "other-ns/pe-a".into(),
        subnet_id: subnet_id("hub").replace("private-endpoints", "other"),
        scope_id: scope_id("scope-a"),
        group_id: "hybridcompute".into(),
        zone_ids: Vec::new(),
    });
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "ScopeConflict");
    let msg = message(&obj, STALLED);
    assert!(
        msg.contains(&scope_id("scope-a")) && msg.contains("other-ns/pe-a"),
        "{msg}"
    );
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(out.changes.is_empty());
}

#[tokio::test]
async fn a_second_scope_in_the_same_network_is_rejected_from_azure() {
    let b = bed().await;
    let a = ready_scope(&b, "scope-a").await;
    let s = ready_scope(&b, "scope-b").await;
    // An endpoint created outside arclink connects the hub network to scope-a.
    let id = endpoint_id("manual-pe").parse().unwrap();
    let body = json!({
        "location": "eastus",
        "properties": {
            "subnet": {"id": subnet_id("hub").replace("private-endpoints", "other")},
            "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": scope_id("scope-a"), "groupIds": ["hybridcompute"]}}],
        }
    });
    b.arm
        .put_and_wait::<_, serde_json::Value>(&id, &body)
        .await
        .unwrap();
    let mut obj = endpoint("pe-b", "hub", "scope-b");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "ScopeConflict");
    let msg = message(&obj, STALLED);
    assert!(
        msg.contains(&scope_id("scope-a")) && msg.contains("manual-pe"),
        "{msg}"
    );
    assert_eq!(b.admin.counters().writes(), 0);

    // Another endpoint to the SAME scope in that network is fine.
    let mut same = endpoint("pe-a", "hub", "scope-a");
    converge(&b, &mut same, &deps(&a)).await;
    assert!(ready(&same), "{:?}", same.status);
}

#[tokio::test]
async fn scope_must_exist_and_be_ready() {
    let b = bed().await;
    let mut obj = endpoint("pe", "hub", "missing");
    let d = EndpointDeps {
        target: ScopeSource::Ref {
            name: "missing".into(),
            object: None,
        }
        .into(),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    };
    step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "ScopeNotFound");

    let mut s = ready_scope(&b, "scope-a").await;
    s.metadata.generation = Some(2);
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, RECONCILING), "WaitingForScope");
    assert!(!ready(&obj));

    let mut by_id = endpoint("pe", "hub", "x");
    by_id.spec.scope_ref = None;
    by_id.spec.scope_id = Some(scope_id("gone"));
    let d = EndpointDeps {
        target: ScopeSource::Id(scope_id("gone")).into(),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    };
    step(&b, &mut by_id, &d).await;
    assert_eq!(reason(&by_id, STALLED), "ScopeNotFound");
    assert_eq!(b.admin.get(&endpoint_id("pe")), None);
}

#[tokio::test]
async fn endpoints_owned_elsewhere_or_unowned_are_not_written() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let id = endpoint_id("pe").parse().unwrap();
    let body = |tags: serde_json::Value| {
        json!({
            "location": "eastus",
            "tags": tags,
            "properties": {
                "subnet": {"id": subnet_id("hub")},
                "privateLinkServiceConnections": [{"name": "pe", "properties": {"privateLinkServiceId": scope_id("scope-a"), "groupIds": ["hybridcompute"]}}],
            }
        })
    };
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &id,
            &body(json!({"arclink-owner": "other/ns/ArcPrivateEndpoint/pe"})),
        )
        .await
        .unwrap();
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "OwnedElsewhere");
    assert_eq!(b.admin.counters().writes(), 0);

    b.arm
        .put_and_wait::<_, serde_json::Value>(&id, &body(json!({"team": "net"})))
        .await
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "AdoptionRequired");
    assert_eq!(b.admin.counters().writes(), 0);

    obj.spec.common.policy.adopt = true;
    obj.spec.common.tags = [("team".to_string(), "net".to_string())].into();
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert_eq!(
        pe["tags"]["arclink-owner"],
        owned_by("ArcPrivateEndpoint/pe")
    );
    assert_eq!(pe["tags"]["team"], "net");
    assert_eq!(reason(&obj, READY), "Succeeded");
}
