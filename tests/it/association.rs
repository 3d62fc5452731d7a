//! ArcServerAssociation reconcile core against the in-process emulator.

mod fleet;
mod monitoring;
mod support;

use arclink::api::ArcServerAssociation;
use arclink::api::association::{ConflictPolicy, DetachPolicy};
use arclink::api::conditions::{DRIFTED, READY, find, is_true};
use arclink::api::{ArcServerAssociationStatus, DriftPolicy};
use arclink::emulator::{Behaviours, ScopeClear};
use arclink::reconcile::{self, Cleanup, Requeue};
use serde_json::json;
use std::time::Duration;
use support::*;

const MACHINES: &str = "Microsoft.HybridCompute/machines";

fn status(obj: &ArcServerAssociation) -> &ArcServerAssociationStatus {
    obj.status.as_ref().unwrap()
}

fn ready(obj: &ArcServerAssociation) -> bool {
    is_true(&status(obj).common.conditions, READY)
}

fn state_of<'a>(obj: &'a ArcServerAssociation, name: &str) -> Option<(&'a str, &'a str)> {
    status(obj)
        .machines
        .iter()
        .find(|m| m.name == name)
        .map(|m| (m.state.as_str(), m.message.as_deref().unwrap_or_default()))
}

#[tokio::test]
async fn names_and_tags_are_a_union_and_missing_names_are_reported() {
    let b = bed(
        vec![
            machine("web-01", "eastus", &[("env", "dev")]),
            machine("web-02", "eastus", &[("env", "dev")]),
            machine("db-01", "East US", &[("env", "prod")]),
            machine("db-02", "eastus", &[("env", "prod"), ("team", "x")]),
            machine("other-01", "eastus", &[("env", "test")]),
        ],
        0,
        100,
    )
    .await;
    let mut obj = association("a", &["WEB-01", "ghost"], &[("env", "prod")], 0);
    let deps = deps("s1", &[]);
    let out = step(&b, &mut obj, &deps).await;
    assert!(ready(&obj), "{:?}", obj.status);
    for m in ["web-01", "db-01", "db-02"] {
        assert!(is_in(&b.admin, m, "s1"), "{m}");
    }
    for m in ["web-02", "other-01"] {
        assert_eq!(scope_of(&b.admin, m), None, "{m}");
    }
    let st = status(&obj);
    assert_eq!(
        (
            st.summary.matched,
            st.summary.associated,
            st.summary.not_found
        ),
        (3, 3, 1)
    );
    assert_eq!(st.machines.len(), 1);
    assert_eq!(state_of(&obj, "ghost").unwrap().0, "NotFound");
    assert_eq!(out.changes.len(), 3);
    let ready_msg = &find(&st.common.conditions, READY).unwrap().message;
    assert!(ready_msg.contains("15 minutes"), "{ready_msg}");
    let c = b.admin.counters();
    assert_eq!(c.count_for("PATCH", MACHINES), 3);
    assert_eq!(c.count("PUT"), 0, "machines are never PUT");

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps).await;
    let c = b.admin.counters();
    assert_eq!(c.writes(), 0);
    assert_eq!(
        c.count_for("GET", MACHINES),
        1,
        "one list page, no per-machine GET"
    );
    assert_eq!(c.total(), 2, "the scope GET and the list page");
    assert!(out.changes.is_empty());
    assert!(ready(&obj));
}

#[tokio::test]
async fn a_machine_in_another_region_is_never_written() {
    let b = bed(
        vec![
            machine("east-01", "eastus", &[]),
            machine("west-01", "westus", &[]),
        ],
        0,
        100,
    )
    .await;
    let mut obj = association("a", &["east-01", "west-01"], &[], 0);
    step(&b, &mut obj, &deps("s1", &[])).await;
    assert!(is_in(&b.admin, "east-01", "s1"));
    assert_eq!(scope_of(&b.admin, "west-01"), None);
    let (state, msg) = state_of(&obj, "west-01").unwrap();
    assert_eq!(state, "RegionMismatch");
    assert!(msg.contains("westus") && msg.contains("eastus"), "{msg}");
    assert_eq!(status(&obj).summary.region_mismatch, 1);
    assert_eq!(b.admin.counters().count_for("PATCH", MACHINES), 1);
}

#[tokio::test]
async fn a_machine_in_another_scope_is_skipped_or_taken_over() {
    let mut taken = machine("taken", "eastus", &[]);
    taken.private_link_scope_resource_id = Some(scope_id("s2"));
    let b = bed(vec![taken, machine("free", "eastus", &[])], 0, 100).await;
    let mut obj = association("a", &["taken", "free"], &[], 0);
    let deps = deps("s1", &[]);
    step(&b, &mut obj, &deps).await;
    assert!(is_in(&b.admin, "taken", "s2"), "Skip leaves it");
    assert!(is_in(&b.admin, "free", "s1"));
    let (state, msg) = state_of(&obj, "taken").unwrap();
    assert_eq!(state, "Conflict");
    assert!(
        msg.to_lowercase().contains(&scope_id("s2").to_lowercase()),
        "{msg}"
    );
    assert_eq!(status(&obj).summary.conflict, 1);
    assert!(
        ready(&obj),
        "a conflict skipped by policy still counts as done"
    );

    obj.spec.on_conflict = ConflictPolicy::Takeover;
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &deps).await;
    assert!(is_in(&b.admin, "taken", "s1"));
    assert_eq!(status(&obj).summary.associated, 2);
    assert!(status(&obj).machines.is_empty());
}

#[tokio::test]
async fn two_objects_competing_for_a_machine_never_flip_it() {
    // The machine starts in the newer object's scope, as if the newer object had written it
    // before the older one was seen.
    let mut shared = machine("shared", "eastus", &[("role", "web")]);
    shared.private_link_scope_resource_id = Some(scope_id("s2"));
    let b = bed(vec![shared, machine("only-b", "eastus", &[])], 0, 100).await;
    let mut older = association("older", &["shared"], &[], 0);
    let mut newer = association("newer", &["only-b"], &[("role", "web")], 10);
    newer.spec.on_conflict = ConflictPolicy::Takeover;
    let older_deps = deps("s1", &[(&newer, "s2")]);
    let newer_deps = deps("s2", &[(&older, "s1")]);
    for round in 0..5 {
        step(&b, &mut older, &older_deps).await;
        assert!(is_in(&b.admin, "shared", "s1"), "round {round}");
        step(&b, &mut newer, &newer_deps).await;
        assert!(is_in(&b.admin, "shared", "s1"), "round {round}");
        let (state, msg) = state_of(&newer, "shared").unwrap();
        assert_eq!(state, "Conflict");
        assert!(msg.contains("ns/older"), "{msg}");
    }
    assert!(is_in(&b.admin, "only-b", "s2"));
    assert!(ready(&older) && ready(&newer));
    let c = b.admin.counters();
    assert_eq!(
        c.count_for("PATCH", MACHINES),
        2,
        "one takeover by the older object, one write of only-b"
    );
}

#[tokio::test]
async fn deletion_detaches_only_this_scope_or_orphans() {
    let mut elsewhere = machine("elsewhere", "eastus", &[("env", "prod")]);
    elsewhere.private_link_scope_resource_id = Some(scope_id("s2"));
    let b = bed(
        vec![
            machine("a-01", "eastus", &[("env", "prod")]),
            machine("a-02", "eastus", &[("env", "prod")]),
            machine("kept", "eastus", &[("env", "prod"), ("keep", "yes")]),
            elsewhere,
        ],
        0,
        100,
    )
    .await;
    let mut obj = association("a", &[], &[("env", "prod")], 0);
    // Another object associates `kept` with the same scope: it must stay associated.
    let other = association("b", &[], &[("keep", "yes")], 5);
    let d = deps("s1", &[(&other, "s1")]);
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    for m in ["a-01", "a-02", "kept"] {
        assert!(is_in(&b.admin, m, "s1"), "{m}");
    }

    obj.spec.deletion = DetachPolicy::Orphan;
    b.admin.reset_counters();
    let done = reconcile::cleanup(
        &b.arm,
        &b.settings,
        &*b.ctx.states.of::<ArcServerAssociation>(),
        &obj,
        &d,
    )
    .await;
    assert!(
        matches!(done, Cleanup::Done(ref m) if m.contains("Orphan")),
        "{done:?}"
    );
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(is_in(&b.admin, "a-01", "s1"));

    obj.spec.deletion = DetachPolicy::Detach;
    let done = reconcile::cleanup(
        &b.arm,
        &b.settings,
        &*b.ctx.states.of::<ArcServerAssociation>(),
        &obj,
        &d,
    )
    .await;
    assert!(
        matches!(done, Cleanup::Done(ref m) if m.contains("detached 2 machines")),
        "{done:?}"
    );
    assert_eq!(scope_of(&b.admin, "a-01"), None);
    assert_eq!(scope_of(&b.admin, "a-02"), None);
    assert!(
        is_in(&b.admin, "kept", "s1"),
        "another object of this scope selects it"
    );
    assert!(
        is_in(&b.admin, "elsewhere", "s2"),
        "never touch another scope"
    );
    let c = b.admin.counters();
    assert_eq!(
        c.count_for("PATCH", MACHINES),
        4,
        "the emulator ignores null by default, so each machine takes null then \"\""
    );
    assert_eq!(c.count("DELETE"), 0, "machines are never deleted");
}

/// Behaviour 15 of reference/arm-behaviours.md: whether `null` or `""` clears a machine's scope
/// is not documented, so a machine counts as detached only when ARM shows it without one.
#[tokio::test]
async fn detach_works_whichever_value_clears_the_scope_and_is_verified() {
    for (clear, patches) in [
        (ScopeClear::Null, 1),
        (ScopeClear::EmptyString, 2),
        (ScopeClear::Either, 1),
    ] {
        let b = bed(vec![machine("m-01", "eastus", &[])], 0, 100).await;
        b.admin.set_behaviours(Behaviours {
            machine_scope_clear: clear,
            ..Behaviours::default()
        });
        let mut obj = association("a", &["m-01"], &[], 0);
        let d = deps("s1", &[]);
        step(&b, &mut obj, &d).await;
        assert!(is_in(&b.admin, "m-01", "s1"), "{clear:?}");
        b.admin.reset_counters();
        let done = reconcile::cleanup(
            &b.arm,
            &b.settings,
            &*b.ctx.states.of::<ArcServerAssociation>(),
            &obj,
            &d,
        )
        .await;
        assert!(
            matches!(done, Cleanup::Done(ref m) if m.contains("detached 1 machines")),
            "{clear:?}: {done:?}"
        );
        assert_eq!(scope_of(&b.admin, "m-01"), None, "{clear:?}");
        assert_eq!(
            b.admin.counters().count_for("PATCH", MACHINES),
            patches,
            "{clear:?}"
        );
    }
}

#[tokio::test]
async fn drift_is_corrected_or_reported_and_new_machines_are_picked_up() {
    let b = bed(
        vec![
            machine("m-01", "eastus", &[("env", "prod")]),
            machine("m-02", "eastus", &[("env", "prod")]),
        ],
        0,
        100,
    )
    .await;
    let mut obj = association("a", &[], &[("env", "prod")], 0);
    let d = deps("s1", &[]);
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));

    // Cleared out of band (someone dissociated it in the portal).
    b.admin
        .patch_out_of_band(
            &machine_id("m-01"),
            json!({"properties": {"privateLinkScopeResourceId": null}}),
        )
        .unwrap();
    let joined = arclink::emulator::Fixtures {
        machines: vec![machine("m-03", "eastus", &[("env", "prod")])],
        resource_groups: vec![arclink::emulator::ResourceGroupFixture {
            subscription_id: SUB.into(),
            name: RG.into(),
            location: "eastus".into(),
            tags: Default::default(),
        }],
        ..Default::default()
    };
    b.admin.load_fixtures(&joined).unwrap();
    let out = step(&b, &mut obj, &d).await;
    assert!(is_in(&b.admin, "m-01", "s1"));
    assert!(
        is_in(&b.admin, "m-03", "s1"),
        "a new machine with matching tags joins"
    );
    assert_eq!(out.changes.len(), 2);
    let drifted = find(&status(&obj).common.conditions, DRIFTED).unwrap();
    assert_eq!(drifted.reason, "DriftCorrected", "{drifted:?}");
    assert!(ready(&obj));

    obj.spec.policy.drift = DriftPolicy::Report;
    obj.spec.on_conflict = ConflictPolicy::Takeover;
    b.admin
        .patch_out_of_band(
            &machine_id("m-02"),
            json!({"properties": {"privateLinkScopeResourceId": scope_id("s2")}}),
        )
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    assert_eq!(b.admin.counters().writes(), 0, "Report never writes");
    assert!(is_in(&b.admin, "m-02", "s2"));
    let drifted = find(&status(&obj).common.conditions, DRIFTED).unwrap();
    assert_eq!(drifted.status, "True");
    assert_eq!(state_of(&obj, "m-02").unwrap().0, "Drifted");
    assert!(
        ready(&obj),
        "Report keeps Ready and says what differs in Drifted"
    );
}

#[tokio::test]
async fn dry_run_writes_nothing_and_lists_the_changes() {
    let b = bed(vec![machine("m-01", "eastus", &[])], 0, 100).await;
    let mut obj = association("a", &["m-01"], &[], 0);
    let mut b = b;
    b.settings.dry_run = true;
    let out = step(&b, &mut obj, &deps("s1", &[])).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(
        out.changes[0].diff[0].path,
        "properties.privateLinkScopeResourceId"
    );
    assert_eq!(scope_of(&b.admin, "m-01"), None);
}

#[tokio::test]
async fn failed_and_throttled_patches_are_reported_per_machine() {
    let b = bed(
        vec![
            machine("ok-01", "eastus", &[]),
            machine("bad-01", "eastus", &[]),
        ],
        0,
        100,
    )
    .await;
    let mut obj = association("a", &["ok-01", "bad-01"], &[], 0);
    let d = deps("s1", &[]);
    b.admin.inject(
        arclink::emulator::Fault::status(403)
            .code("AuthorizationFailed")
            .method("PATCH")
            .path_contains("/machines/bad-01"),
    );
    let out = step(&b, &mut obj, &d).await;
    assert!(is_in(&b.admin, "ok-01", "s1"));
    let (state, msg) = state_of(&obj, "bad-01").unwrap();
    assert_eq!(state, "Failed");
    assert!(msg.starts_with("AuthorizationFailed"), "{msg}");
    assert_eq!(status(&obj).summary.failed, 1);
    let stalled = find(
        &status(&obj).common.conditions,
        arclink::api::conditions::STALLED,
    )
    .unwrap();
    assert_eq!(stalled.status, "True");
    // A missing role, not bad credentials (issue 20, item 8).
    assert_eq!(stalled.reason, "AuthorizationFailed");
    assert!(
        stalled.message.contains("1 machine updates failed"),
        "{}",
        stalled.message
    );
    assert!(matches!(out.requeue, Requeue::After(_)));

    b.admin.clear_faults();
    b.admin.inject(
        arclink::emulator::Fault::status(429)
            .retry_after(7)
            .method("PATCH")
            .times(1),
    );
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(state_of(&obj, "bad-01").unwrap().0, "Pending");
    assert!(!ready(&obj));
    assert_eq!(out.requeue, Requeue::After(Duration::from_secs(7)));
    step(&b, &mut obj, &d).await;
    assert!(is_in(&b.admin, "bad-01", "s1"));
    assert!(ready(&obj));
}
