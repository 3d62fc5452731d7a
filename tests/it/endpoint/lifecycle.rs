//! Create, steady state, approval, long-running operations across restarts, drift of the
//! endpoint, deletion.

use std::time::Duration;

use arclink::api::DeletionPolicy;
use arclink::api::DriftPolicy;
use arclink::api::conditions::{DRIFTED, RECONCILING, STALLED};
use arclink::api::endpoint::Approval;
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::scope_ref::ScopeSource;
use arclink::reconcile::{self, ChangeAction, Cleanup, Requeue};
use serde_json::json;

use super::support::*;
use crate::common::fixtures::{arm_client, owned_by};

#[tokio::test]
async fn creates_endpoint_and_managed_dns_then_steady_state_makes_no_writes() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.common.tags = [("team".to_string(), "net".to_string())].into();
    let outs = converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let first = &outs[0];
    assert_eq!(first.changes.len(), 1);
    assert_eq!(first.changes[0].action, ChangeAction::Create);
    assert!(
        first.status.common.arm.operation.is_some(),
        "the endpoint PUT is an LRO kept in status"
    );
    // The first poll follows the 201's Retry-After (the bed's emulator sends 0: floored).
    assert_eq!(
        first.requeue,
        Requeue::After(arclink::azure::lro::MIN_POLL_INTERVAL)
    );

    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert_eq!(
        pe["tags"]["arclink-owner"],
        owned_by("ArcPrivateEndpoint/pe")
    );
    assert_eq!(pe["tags"]["managed-by"], "arclink");
    assert_eq!(pe["tags"]["team"], "net");
    let conn = &pe["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(conn["groupIds"], json!(["hybridcompute"]));
    assert!(
        conn["privateLinkServiceId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&scope_id("scope-a"))
    );
    assert_eq!(
        conn["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );

    for zone in ZONES {
        let z = b
            .admin
            .get(&zone_id(zone))
            .unwrap_or_else(|| panic!("zone {zone}"));
        assert_eq!(z["location"], "global");
        assert_eq!(
            z["tags"]["arclink-owner"],
            owned_by("ArcPrivateEndpoint/pe")
        );
        let link = b
            .admin
            .get(&format!(
                "{}/virtualNetworkLinks/arclink-hub",
                zone_id(zone)
            ))
            .unwrap();
        assert!(
            link["properties"]["virtualNetwork"]["id"]
                .as_str()
                .unwrap()
                .ends_with("/virtualNetworks/hub")
        );
        assert_eq!(link["properties"]["registrationEnabled"], false);
    }
    let group = b
        .admin
        .get(&format!(
            "{}/privateDnsZoneGroups/default",
            endpoint_id("pe")
        ))
        .unwrap();
    assert_eq!(
        group["properties"]["privateDnsZoneConfigs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        b.admin
            .get(&format!("{}/A/gbl", zone_id(ZONES[0])))
            .is_some()
    );

    let st = obj.status.as_ref().unwrap();
    assert_eq!(st.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(st.connection.as_ref().unwrap().status, "Approved");
    assert!(
        st.connection.as_ref().unwrap().name.starts_with("pe."),
        "{:?}",
        st.connection
    );
    assert_eq!(st.private_ips.len(), 5, "{:?}", st.private_ips);
    assert!(st.private_ips.iter().all(|ip| ip.starts_with("10.1.2.")));
    assert_eq!(st.dns_records.len(), 5);
    let gbl = st
        .dns_records
        .iter()
        .find(|r| r.fqdn == "gbl.his.arc.azure.com")
        .unwrap();
    assert_eq!(gbl.zone, "privatelink.his.arc.azure.com");
    let dp = st
        .dns_records
        .iter()
        .find(|r| r.fqdn.contains(".dp."))
        .unwrap();
    assert_eq!(dp.zone, "privatelink.dp.kubernetesconfiguration.azure.com");
    assert_eq!(st.dns_zone_ids.len(), 3);
    assert!(st.common.arm.operation.is_none());
    assert_eq!(st.common.observed_generation, Some(1));

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    let c = b.admin.counters();
    assert_eq!(
        c.writes(),
        0,
        "steady state must not write: {:?}",
        c.to_json()
    );
    assert!(out.changes.is_empty());
    assert_eq!(out.drift, arclink::reconcile::Drift::observed());
    assert!(ready(&obj));
    assert!(matches!(out.requeue, Requeue::After(d) if d >= Duration::from_secs(540)));
}

#[tokio::test]
async fn dry_run_plans_the_create_without_writing() {
    let mut b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.settings.dry_run = true;
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    assert!(out.changes[0].resource_id.ends_with("/privateEndpoints/pe"));
}

#[tokio::test]
async fn manual_connection_waits_then_is_approved_on_a_managed_scope() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.approval = Approval::Manual;
    obj.spec.request_message = Some("please".into());
    converge(&b, &mut obj, &deps(&s)).await;
    // Re-read the scope so it lists the new connection, as the scope controller would.
    let s = ready_scope(&b, "scope-a").await;
    for _ in 0..3 {
        step(&b, &mut obj, &deps(&s)).await;
    }
    assert!(!ready(&obj));
    assert_eq!(reason(&obj, RECONCILING), "WaitingForApproval");
    let conn = obj.status.as_ref().unwrap().connection.clone().unwrap();
    assert_eq!(conn.status, "Pending");
    assert_eq!(conn.description.as_deref(), Some("please"));
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert_eq!(pe["properties"]["privateLinkServiceConnections"], json!([]));
    assert_eq!(
        pe["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["requestMessage"],
        "please"
    );

    obj.spec.approve_connection = true;
    obj.metadata.generation = Some(2);
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, RECONCILING), "Approving");
    assert_eq!(out.changes.len(), 1);
    assert!(
        out.changes[0]
            .resource_id
            .contains("/privateEndpointConnections/")
    );
    let scope_az = b.admin.get(&out.changes[0].resource_id).unwrap();
    assert_eq!(
        scope_az["properties"]["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    let s = ready_scope(&b, "scope-a").await;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        obj.status
            .as_ref()
            .unwrap()
            .connection
            .as_ref()
            .unwrap()
            .status,
        "Approved"
    );
}

#[tokio::test]
async fn approve_connection_is_not_used_on_an_unmanaged_scope() {
    let b = bed().await;
    ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "x");
    obj.spec.scope_ref = None;
    obj.spec.scope_id = Some(scope_id("scope-a"));
    obj.spec.approval = Approval::Manual;
    obj.spec.approve_connection = true;
    let d = EndpointDeps {
        target: ScopeSource::Id(scope_id("scope-a")).into(),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    };
    converge(&b, &mut obj, &d).await;
    for _ in 0..3 {
        let out = step(&b, &mut obj, &d).await;
        assert!(
            out.changes
                .iter()
                .all(|c| !c.resource_id.contains("privateEndpointConnections"))
        );
    }
    assert_eq!(reason(&obj, RECONCILING), "WaitingForApproval");
    assert!(message(&obj, RECONCILING).contains("approveConnection"));
}

#[tokio::test]
async fn rejected_connection_stalls_with_the_description() {
    let b = bed().await;
    ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    let s = ready_scope(&b, "scope-a").await;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let s = ready_scope(&b, "scope-a").await;
    let conn = s.status.as_ref().unwrap().private_endpoint_connections[0]
        .name
        .clone();
    let conn_id = format!("{}/privateEndpointConnections/{conn}", scope_id("scope-a"));
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &conn_id.parse().unwrap(),
            &json!({"properties": {"privateLinkServiceConnectionState": {"status": "Rejected", "description": "not this network"}}}),
        )
        .await
        .unwrap();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "ConnectionRejected");
    assert!(message(&obj, STALLED).contains("not this network"));
    assert!(!ready(&obj));
}

#[tokio::test]
async fn endpoint_lro_is_resumed_after_a_restart_without_a_second_put() {
    let b = bed().lro(Duration::from_millis(1500)).await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    let op = obj
        .status
        .as_ref()
        .unwrap()
        .common
        .arm
        .operation
        .clone()
        .expect("operation in status");
    assert_eq!(op.action, "Creating");
    assert_eq!(reason(&obj, RECONCILING), "Creating");

    // A restarted controller: a new client, the status as stored in Kubernetes.
    let b = Bed {
        arm: arm_client(&b.emu, |_| {}),
        ..b
    };
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(reason(&obj, RECONCILING), "Creating");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    for _ in 0..12 {
        step(&b, &mut obj, &deps(&s)).await;
        if ready(&obj) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1600)).await;
    }
    assert!(ready(&obj), "{:?}", obj.status);
    let c = b.admin.counters();
    assert_eq!(c.count_for("PUT", "Microsoft.Network/privateEndpoints"), 1);
    use futures::TryStreamExt;
    let all: Vec<serde_json::Value> = b
        .arm
        .list(&arclink::azure::CollectionId::new(
            &arclink::azure::ResourceId::subscription_id(SUB),
            "Microsoft.Network/privateEndpoints",
        ))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "exactly one endpoint: {all:?}");
}

#[tokio::test]
async fn endpoint_deleted_out_of_band_is_recreated_or_reported() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    b.admin.delete_out_of_band(&endpoint_id("pe")).unwrap();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    assert!(
        out.drift.corrected.iter().any(|e| e.path == "(resource)"),
        "{:?}",
        out.drift
    );
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);

    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin.delete_out_of_band(&endpoint_id("pe")).unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(!out.drift.reported.is_empty());
    assert_eq!(reason(&obj, STALLED), "NotFound");
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
}

/// Which of the endpoint's resources exist and are not being deleted. A resource whose
/// deletion has started counts as gone: the emulator completes due operations on a timer, so
/// whether it is still there a moment later is a race the test must not depend on.
fn inventory(b: &Bed) -> (bool, usize, usize, bool) {
    let live = |id: &str| {
        b.admin.get(id).is_some_and(|v| {
            !v["properties"]["provisioningState"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("Deleting"))
        })
    };
    let group = live(&format!(
        "{}/privateDnsZoneGroups/default",
        endpoint_id("pe")
    ));
    let links = ZONES
        .iter()
        .filter(|z| live(&format!("{}/virtualNetworkLinks/arclink-hub", zone_id(z))))
        .count();
    let zones = ZONES.iter().filter(|z| live(&zone_id(z))).count();
    let pe = live(&endpoint_id("pe"));
    (group, links, zones, pe)
}

#[tokio::test]
async fn deletion_removes_group_links_zones_then_endpoint() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    assert_eq!(inventory(&b), (true, 3, 3, true));
    let mut seen = vec![inventory(&b)];
    let mut done = None;
    for _ in 0..12 {
        match reconcile::cleanup(&b.arm, &b.settings, &(), &obj, &deps(&s)).await {
            Cleanup::Done(msg) => {
                done = Some(msg);
                break;
            }
            Cleanup::Pending { status, .. } => obj.status = Some(status),
        }
        seen.push(inventory(&b));
    }
    let msg = done.expect("cleanup finished");
    assert!(
        msg.starts_with("deleted /subscriptions/") && msg.ends_with("/privateEndpoints/pe"),
        "{msg}"
    );
    // Each stage starts only once the one before it is gone: the zone group, then the links,
    // then the zones, then the endpoint, each on a pass of its own.
    seen.dedup();
    assert_eq!(
        seen,
        vec![
            (true, 3, 3, true),
            (false, 3, 3, true),
            (false, 0, 3, true),
            (false, 0, 0, true),
            (false, 0, 0, false),
        ]
    );
    // Cleanup reports Done once the endpoint's deletion finished: nothing is left at all.
    assert!(b.admin.get(&endpoint_id("pe")).is_none());
    for zone in ZONES {
        assert!(b.admin.get(&zone_id(zone)).is_none(), "{zone}");
    }
}

#[tokio::test]
async fn owned_zones_are_kept_while_another_link_remains() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut hub = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut hub, &deps(&s)).await;
    assert!(ready(&hub));
    // The spoke network resolves through the hub's zones (linked by hand).
    let spoke_vnet = subnet_id("spoke").replace("/subnets/private-endpoints", "");
    for zone in &ZONES[..2] {
        b.arm
            .put_and_wait::<_, serde_json::Value>(
                &format!("{}/virtualNetworkLinks/spoke", zone_id(zone)).parse().unwrap(),
                &json!({"location": "global", "properties": {"virtualNetwork": {"id": spoke_vnet}, "registrationEnabled": false}}),
            )
            .await
            .unwrap();
    }
    let mut done = false;
    for _ in 0..12 {
        if let Cleanup::Done(_) =
            reconcile::cleanup(&b.arm, &b.settings, &(), &hub, &deps(&s)).await
        {
            done = true;
            break;
        }
    }
    assert!(done);
    let _ = b
        .arm
        .get::<serde_json::Value>(&endpoint_id("pe").parse().unwrap())
        .await;
    for zone in &ZONES[..2] {
        assert!(
            b.admin.get(&zone_id(zone)).is_some(),
            "{zone} kept for the spoke"
        );
        assert!(
            b.admin
                .get(&format!(
                    "{}/virtualNetworkLinks/arclink-hub",
                    zone_id(zone)
                ))
                .is_none()
        );
        assert!(
            b.admin
                .get(&format!("{}/virtualNetworkLinks/spoke", zone_id(zone)))
                .is_some()
        );
    }
    assert!(
        b.admin.get(&zone_id(ZONES[2])).is_none(),
        "a zone without other links goes"
    );
    assert!(b.admin.get(&endpoint_id("pe")).is_none());
}

#[tokio::test]
async fn orphan_leaves_everything_without_owner_tags() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.common.policy.deletion = DeletionPolicy::Orphan;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let out = reconcile::cleanup(&b.arm, &b.settings, &(), &obj, &deps(&s)).await;
    assert!(
        matches!(out, Cleanup::Done(ref m) if m.contains("orphaned")),
        "{out:?}"
    );
    let _ = b
        .arm
        .get::<serde_json::Value>(&endpoint_id("pe").parse().unwrap())
        .await;
    assert_eq!(inventory(&b), (true, 3, 3, true));
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert!(
        pe["tags"].get("arclink-owner").is_none(),
        "{:?}",
        pe["tags"]
    );
    for zone in ZONES {
        let z = b.admin.get(&zone_id(zone)).unwrap();
        assert!(z["tags"].get("arclink-owner").is_none());
        let l = b
            .admin
            .get(&format!(
                "{}/virtualNetworkLinks/arclink-hub",
                zone_id(zone)
            ))
            .unwrap();
        assert!(l["tags"].get("arclink-owner").is_none());
    }
}

#[tokio::test]
async fn endpoint_field_drift_is_reported_or_corrected() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    b.admin
        .patch_out_of_band(&endpoint_id("pe"), json!({"tags": {"added": "by-hand"}}))
        .unwrap();

    // Under the default `policy.tags: Merge`, a tag someone else added is theirs.
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&obj, DRIFTED), "Succeeded");
    assert_eq!(
        b.admin.get(&endpoint_id("pe")).unwrap()["tags"]["added"],
        "by-hand"
    );

    obj.spec.common.policy.tags = arclink::api::TagPolicy::Exact;
    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(ready(&obj));
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (drift[0].path.as_str(), drift[0].actual.as_str()),
        ("tags.added", "by-hand")
    );
    assert!(!out.drift.reported.is_empty());

    obj.spec.common.policy.drift = DriftPolicy::Correct;
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Update);
    assert_eq!(out.changes[0].diff[0].path, "tags.added");
    assert!(out.drift.is_corrected());
    assert_eq!(reason(&obj, RECONCILING), "Updating");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert!(pe["tags"].get("added").is_none());
    assert_eq!(
        pe["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Approved",
        "the update keeps the approved connection"
    );
    assert_eq!(
        b.admin
            .counters()
            .count_for("PUT", "Microsoft.Network/privateEndpoints"),
        1
    );
}

#[tokio::test]
async fn failed_endpoint_operation_stalls_with_the_arm_error_then_is_retried() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.admin.inject(
        arclink::emulator::Fault::lro_failure("PrivateEndpointCreationFailed", "no capacity")
            .method("PUT")
            .path_contains("privateEndpoints")
            .times(1),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    step(&b, &mut obj, &deps(&s)).await;
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "PrivateEndpointCreationFailed");
    assert!(message(&obj, STALLED).contains("no capacity"));
    assert!(obj.status.as_ref().unwrap().common.arm.operation.is_none());
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].diff[0].path, "properties.provisioningState");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
}

/// Private DNS answers a zone's tags PATCH with an operation: the release of a zone on Orphan
/// waits for it, and an operation that fails is the clean-up's error, not "orphaned".
#[tokio::test]
async fn a_failed_release_of_a_zone_is_not_reported_as_orphaned() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.common.policy.deletion = DeletionPolicy::Orphan;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    b.admin.inject(
        arclink::emulator::Fault::lro_failure("InternalServerError", "zone update failed")
            .method("PATCH")
            .path_contains("privateDnsZones")
            .times(1),
    );
    let out = reconcile::cleanup(&b.arm, &b.settings, &(), &obj, &deps(&s)).await;
    let Cleanup::Pending { status, .. } = out else {
        panic!("a failed release was reported as done: {out:?}")
    };
    let text = format!("{:?}", status.common.conditions);
    assert!(text.contains("zone update failed"), "{text}");
    let out = reconcile::cleanup(&b.arm, &b.settings, &(), &obj, &deps(&s)).await;
    assert!(
        matches!(out, Cleanup::Done(ref m) if m.contains("orphaned")),
        "{out:?}"
    );
}
