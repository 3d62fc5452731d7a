//! `spec.monitoring`: each selected machine's `configurationAccessEndpoint` association with
//! the data collection endpoint of its region, written only on a difference, arclink's alone
//! removed.

use arclink::api::ArcServerAssociation;
use arclink::api::association::{ConflictPolicy, DetachPolicy, MonitoringSummary};
use arclink::api::conditions::{STALLED, find};
use arclink::emulator::Fault;
use arclink::reconcile::{self, Cleanup, Requeue};
use serde_json::json;
use std::time::Duration;

use super::support::*;
use super::{ready, state_of, status};

const ASSOCIATIONS: &str = "Microsoft.Insights/dataCollectionRuleAssociations";

/// A machine's `configurationAccessEndpoint` written by someone else.
async fn foreign(b: &Bed, machine: &str, dce: &str) {
    let body = json!({"properties": {"dataCollectionEndpointId": dce_id(dce), "description": "set by hand"}});
    b.arm
        .put_and_wait::<_, serde_json::Value>(
            &endpoint_association_id(machine).parse().unwrap(),
            &body,
        )
        .await
        .unwrap();
}

fn monitoring(obj: &ArcServerAssociation) -> MonitoringSummary {
    status(obj).summary.monitoring.clone().unwrap()
}

#[tokio::test]
async fn associations_follow_each_machines_region_and_steady_state_writes_nothing() {
    let b = bed(
        vec![
            machine("east-01", "eastus", &[]),
            machine("east-02", "East US", &[]),
            machine("west-01", "westus", &[]),
            machine("north-01", "northeurope", &[]),
        ],
        0,
        100,
    )
    .await;
    let names = ["east-01", "east-02", "west-01", "north-01"];
    let mut obj = monitored(
        association("a", &names, &[], 0),
        &["dce-eastus", "dce-westus"],
    );
    let d = deps("s1", &[]);
    let out = step(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    for m in ["east-01", "east-02"] {
        assert!(points_at(&b.admin, m, "dce-eastus"), "{m}");
    }
    // Out of the scope's region, but monitored with its own region's endpoint.
    assert!(points_at(&b.admin, "west-01", "dce-westus"));
    assert_eq!(
        endpoint_of(&b.admin, "north-01"),
        None,
        "no endpoint in its region"
    );
    let (state, msg) = state_of(&obj, "north-01").unwrap();
    assert_eq!(state, "RegionMismatch");
    assert!(
        msg.contains("NoRegionalEndpoint") && msg.contains("northeurope"),
        "{msg}"
    );
    let m = monitoring(&obj);
    assert_eq!((m.associated, m.no_regional_endpoint, m.pending), (3, 1, 0));
    assert_eq!(b.admin.counters().count_for("PUT", ASSOCIATIONS), 3);
    let created: Vec<_> = out
        .changes
        .iter()
        .filter(|c| c.resource_id.contains("configurationAccessEndpoint"))
        .collect();
    assert_eq!(created.len(), 3);
    let (_, description) = endpoint_of(&b.admin, "east-01").unwrap();
    assert!(
        description.unwrap().contains("ns/ArcServerAssociation/a"),
        "the owner marker"
    );

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    let c = b.admin.counters();
    assert_eq!(c.writes(), 0);
    assert!(out.changes.is_empty());
    assert_eq!(c.count_for("GET", ASSOCIATIONS), 0, "no read per machine");
    // The scope, the machines' page, and per endpoint its GET and its associations' page.
    assert_eq!(c.total(), 6, "{}", c.to_json());
    assert!(ready(&obj));

    // The spec drops the eastus endpoint: the machines there lose arclink's association and
    // are reported, not written.
    obj = monitored(obj, &["dce-westus"]);
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    for m in ["east-01", "east-02"] {
        assert_eq!(endpoint_of(&b.admin, m), None, "{m}");
    }
    assert!(points_at(&b.admin, "west-01", "dce-westus"));
    assert_eq!(state_of(&obj, "east-01").unwrap().0, "NoRegionalEndpoint");
    assert_eq!(monitoring(&obj).no_regional_endpoint, 3);
    assert_eq!(b.admin.counters().count_for("DELETE", ASSOCIATIONS), 2);
    assert_eq!(
        status(&obj).data_collection_endpoint_ids,
        vec![dce_id("dce-westus")]
    );
    assert!(ready(&obj));
}

#[tokio::test]
async fn a_changed_endpoint_is_written_back_and_a_machine_leaving_loses_only_arclinks() {
    let b = bed(
        vec![
            machine("m-01", "eastus", &[]),
            machine("m-02", "eastus", &[]),
            machine("theirs", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    foreign(&b, "theirs", "dce-eastus").await;
    b.admin.reset_counters();
    let mut obj = monitored(
        association("a", &["m-01", "m-02", "theirs"], &[], 0),
        &["dce-eastus"],
    );
    let d = deps("s1", &[]);
    step(&b, &mut obj, &d).await;
    assert_eq!(
        monitoring(&obj).associated,
        3,
        "an equal association is left as it is"
    );
    assert_eq!(b.admin.counters().count_for("PUT", ASSOCIATIONS), 2);

    // Pointed elsewhere out of band (arclink's description kept): written back.
    b.admin
        .patch_out_of_band(
            &endpoint_association_id("m-01"),
            json!({"properties": {"dataCollectionEndpointId": dce_id("dce-eastus-b")}}),
        )
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert!(points_at(&b.admin, "m-01", "dce-eastus"));
    assert_eq!(b.admin.counters().count_for("PUT", ASSOCIATIONS), 1);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(
        out.changes[0].diff[0].path,
        "properties.dataCollectionEndpointId"
    );

    // Two machines leave the selection: arclink's association goes, the other writer's stays.
    obj.spec.machines.names = vec!["m-01".into()];
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &d).await;
    assert!(points_at(&b.admin, "m-01", "dce-eastus"));
    assert_eq!(endpoint_of(&b.admin, "m-02"), None);
    assert!(points_at(&b.admin, "theirs", "dce-eastus"));
    assert!(ready(&obj));
}

#[tokio::test]
async fn another_writers_association_is_a_conflict_unless_takeover() {
    let b = bed(
        vec![
            machine("m-01", "eastus", &[]),
            machine("m-02", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    foreign(&b, "m-01", "dce-eastus-b").await;
    let mut obj = monitored(association("a", &["m-01", "m-02"], &[], 0), &["dce-eastus"]);
    let d = deps("s1", &[]);
    step(&b, &mut obj, &d).await;
    assert!(
        points_at(&b.admin, "m-01", "dce-eastus-b"),
        "Skip leaves it"
    );
    assert!(points_at(&b.admin, "m-02", "dce-eastus"));
    let (state, msg) = state_of(&obj, "m-01").unwrap();
    assert_eq!(state, "Conflict");
    assert!(
        msg.contains("dce-eastus-b") && msg.contains("another writer"),
        "{msg}"
    );
    assert_eq!(monitoring(&obj).conflict, 1);
    assert!(ready(&obj), "a conflict skipped by policy counts as done");

    obj.spec.on_conflict = ConflictPolicy::Takeover;
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &d).await;
    assert!(points_at(&b.admin, "m-01", "dce-eastus"));
    assert_eq!(monitoring(&obj).associated, 2);
    assert!(status(&obj).machines.is_empty());
}

#[tokio::test]
async fn detach_removes_only_arclinks_associations_and_orphan_leaves_them() {
    let b = bed(
        vec![
            machine("m-01", "eastus", &[]),
            machine("m-02", "eastus", &[]),
            machine("theirs", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    foreign(&b, "theirs", "dce-eastus").await;
    let names = ["m-01", "m-02", "theirs"];
    let d = deps("s1", &[]);

    let mut obj = monitored(association("d", &names, &[], 0), &["dce-eastus"]);
    step(&b, &mut obj, &d).await;
    b.admin.reset_counters();
    let states = b.ctx.states.of::<ArcServerAssociation>();
    let done = reconcile::cleanup(&b.arm, &b.settings, &*states, &obj, &d).await;
    assert!(matches!(done, Cleanup::Done { .. }), "{done:?}");
    for m in ["m-01", "m-02"] {
        assert_eq!(endpoint_of(&b.admin, m), None, "{m}");
        assert_eq!(scope_of(&b.admin, m), None, "{m}");
    }
    assert!(points_at(&b.admin, "theirs", "dce-eastus"), "not arclink's");
    assert_eq!(b.admin.counters().count_for("DELETE", ASSOCIATIONS), 2);

    // Orphan: the associations stay, without arclink's owner marker.
    let mut orphan = monitored(association("o", &names, &[], 0), &["dce-eastus"]);
    orphan.spec.deletion = DetachPolicy::Orphan;
    step(&b, &mut orphan, &d).await;
    b.admin.reset_counters();
    let done = reconcile::cleanup(&b.arm, &b.settings, &*states, &orphan, &d).await;
    assert!(matches!(done, Cleanup::Done { .. }));
    let c = b.admin.counters();
    assert_eq!(c.count("DELETE") + c.count("PATCH"), 0);
    assert_eq!(
        c.count_for("PUT", ASSOCIATIONS),
        2,
        "marks taken off arclink's only"
    );
    for m in ["m-01", "m-02", "theirs"] {
        assert!(points_at(&b.admin, m, "dce-eastus"), "{m}");
        assert!(is_in(&b.admin, m, "s1"), "{m}");
    }
    assert_eq!(endpoint_of(&b.admin, "m-01").unwrap().1, None);
    assert_eq!(
        endpoint_of(&b.admin, "theirs").unwrap().1.as_deref(),
        Some("set by hand")
    );
}

#[tokio::test]
async fn a_failed_association_is_reported_per_machine_and_a_throttled_one_retried() {
    let b = bed(
        vec![
            machine("ok-01", "eastus", &[]),
            machine("bad-01", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    let mut obj = monitored(
        association("a", &["ok-01", "bad-01"], &[], 0),
        &["dce-eastus"],
    );
    let d = deps("s1", &[]);
    b.admin.inject(
        Fault::status(403)
            .code("AuthorizationFailed")
            .method("PUT")
            .path_contains("/machines/bad-01/providers"),
    );
    step(&b, &mut obj, &d).await;
    assert!(points_at(&b.admin, "ok-01", "dce-eastus"));
    assert!(
        is_in(&b.admin, "bad-01", "s1"),
        "the scope is written all the same"
    );
    let (state, msg) = state_of(&obj, "bad-01").unwrap();
    assert_eq!(state, "Failed");
    assert!(msg.contains("AuthorizationFailed"), "{msg}");
    assert_eq!(monitoring(&obj).failed, 1);
    let stalled = find(&status(&obj).common.conditions, STALLED).unwrap();
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "AuthorizationFailed")
    );

    b.admin.clear_faults();
    b.admin
        .inject(Fault::status(429).retry_after(7).method("PUT").times(1));
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(state_of(&obj, "bad-01").unwrap().0, "Pending");
    assert!(!ready(&obj));
    assert_eq!(out.requeue, Requeue::After(Duration::from_secs(7)));
    step(&b, &mut obj, &d).await;
    assert!(points_at(&b.admin, "bad-01", "dce-eastus"));
    assert!(ready(&obj));
}

/// The association PUTs share the subscription's write bucket with the machines' PATCHes.
#[tokio::test]
async fn association_writes_go_through_the_write_bucket() {
    let machines = (0..10)
        .map(|i| machine(&format!("m-{i:02}"), "eastus", &[]))
        .collect();
    let writes = arclink::azure::BucketLimits {
        burst: 1,
        per_second: 20.0,
    };
    let b = bed_with_writes(machines, 0, 100, writes).await;
    let names: Vec<String> = (0..10).map(|i| format!("m-{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut obj = monitored(association("a", &names, &[], 0), &["dce-eastus"]);
    let started = tokio::time::Instant::now();
    step(&b, &mut obj, &deps("s1", &[])).await;
    let took = started.elapsed();
    assert!(ready(&obj));
    let c = b.admin.counters();
    assert_eq!(c.count_for("PUT", ASSOCIATIONS), 10);
    // 20 writes from a bucket of 1 refilled at 20/s: at least 19 waits of 50 ms.
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn endpoints_sharing_a_region_are_refused_and_a_missing_one_stalls() {
    let b = bed(vec![machine("m-01", "eastus", &[])], 0, 100).await;
    let d = deps("s1", &[]);
    let mut obj = monitored(
        association("a", &["m-01"], &[], 0),
        &["dce-eastus", "dce-eastus-b"],
    );
    step(&b, &mut obj, &d).await;
    let stalled = find(&status(&obj).common.conditions, STALLED).unwrap();
    assert_eq!(stalled.reason, "InvalidSpec");
    assert!(
        stalled
            .message
            .contains("spec.monitoring.dataCollectionEndpointIds")
    );
    assert!(stalled.message.contains("eastus"), "{}", stalled.message);
    assert_eq!(b.admin.counters().writes(), 0);

    let mut obj = monitored(association("a", &["m-01"], &[], 0), &["dce-gone"]);
    step(&b, &mut obj, &d).await;
    let stalled = find(&status(&obj).common.conditions, STALLED).unwrap();
    assert_eq!(stalled.reason, "DataCollectionEndpointNotFound");
    assert!(stalled.message.contains("dce-gone"), "{}", stalled.message);
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn dry_run_reads_and_lists_the_associations_it_would_write() {
    let mut b = bed(
        vec![
            machine("m-01", "eastus", &[]),
            machine("m-02", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    foreign(&b, "m-02", "dce-eastus-b").await;
    b.admin.reset_counters();
    b.settings.dry_run = true;
    let mut obj = monitored(association("a", &["m-01", "m-02"], &[], 0), &["dce-eastus"]);
    let out = step(&b, &mut obj, &deps("s1", &[])).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let paths: Vec<_> = out
        .changes
        .iter()
        .filter(|c| c.resource_id.contains("configurationAccessEndpoint"))
        .collect();
    assert_eq!(paths.len(), 1, "{:?}", out.changes);
    assert!(paths[0].resource_id.contains("m-01"));
    assert_eq!(state_of(&obj, "m-02").unwrap().0, "Pending");
    assert!(state_of(&obj, "m-02").unwrap().1.contains("Conflict"));
}
