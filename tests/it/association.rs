//! ArcServerAssociation reconcile core against the in-process emulator.

mod support;

use arclink::api::ArcServerAssociation;
use arclink::api::association::{ConflictPolicy, DetachPolicy};
use arclink::api::conditions::{DRIFTED, READY, find, is_true};
use arclink::api::{ArcServerAssociationStatus, DriftPolicy};
use arclink::emulator::{Behaviours, ScopeClear};
use arclink::reconcile::association::{Budget, MAX_LISTED};
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
async fn three_thousand_machines_on_four_pages_converge_reading_each_page_once() {
    let b = bed(Vec::new(), 3000, 750).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    // Batches bounded by count only, so a slow debug build cannot change the number of passes.
    d.budget.duration = Duration::from_secs(600);
    let mut passes = 0;
    while passes == 0 || !ready(&obj) {
        let out = step(&b, &mut obj, &d).await;
        passes += 1;
        assert!(
            passes <= 5,
            "did not converge: {:?}",
            obj.status.as_ref().map(|s| &s.summary)
        );
        if !ready(&obj) {
            assert_eq!(out.requeue, Requeue::After(d.budget.requeue));
        }
    }
    assert_eq!(passes, 3, "1000 writes per pass");
    let c = b.admin.counters();
    assert_eq!(c.count_for("PATCH", MACHINES), 3000);
    assert_eq!(
        c.count_for("GET", MACHINES),
        4,
        "each pass continues the listing where the previous one stopped"
    );
    assert_eq!(
        c.total() - c.count_for("GET", MACHINES) - c.count_for("PATCH", MACHINES),
        1,
        "the scope is read once per listing"
    );
    assert_eq!(status(&obj).summary.associated, 3000);

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    let c = b.admin.counters();
    assert_eq!(c.writes(), 0);
    assert_eq!(c.count_for("GET", MACHINES), 4);
    assert_eq!(c.total(), 5, "four list pages and the scope GET");
    assert!(out.changes.is_empty());
    assert!(matches!(out.requeue, Requeue::After(d) if d > Duration::from_secs(60)));
}

/// Issue 16, item 1: converging N machines reads ceil(N / page) list pages, not a listing per
/// pass, whatever the batch size against the page size (the rest of a page waits in memory).
#[tokio::test]
async fn converging_with_small_pages_reads_each_page_once() {
    let (n, page, batch) = (2000, 25, 150);
    let b = bed(Vec::new(), n, page).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    d.budget.writes = batch;
    d.budget.duration = Duration::from_secs(600);
    let mut passes = 0;
    while passes == 0 || !ready(&obj) {
        step(&b, &mut obj, &d).await;
        passes += 1;
        assert!(passes <= 20, "did not converge: {:?}", status(&obj).summary);
        if !ready(&obj) {
            let st = status(&obj);
            // The status shows the machines listed so far; pending are those read, not written.
            assert!(
                st.summary.pending <= page as u32,
                "{passes}: {:?}",
                st.summary
            );
            let reconciling =
                find(&st.common.conditions, arclink::api::conditions::RECONCILING).unwrap();
            assert!(
                reconciling.message.contains("listed so far"),
                "{}",
                reconciling.message
            );
        }
    }
    assert_eq!(passes, n.div_ceil(batch));
    let c = b.admin.counters();
    assert_eq!(c.count_for("PATCH", MACHINES), n as u64);
    assert_eq!(c.count_for("GET", MACHINES), n.div_ceil(page) as u64);
    assert_eq!(status(&obj).summary.associated, n as u32);
    assert_eq!(status(&obj).summary.matched, n as u32);
}

/// Issue 22, item 3: the bounds of a listing count the pages of every pass that continues it,
/// not of one pass: a listing of 20 pages over 5 passes converges within a bound of 20 pages
/// and crosses one of 19, although no pass reads more than 4 pages.
#[tokio::test]
async fn a_listing_is_bounded_over_the_passes_that_continue_it() {
    let (n, page, batch) = (100, 5, 20);
    for (max_pages, converges) in [(20, true), (19, false)] {
        let mut b = bed(Vec::new(), n, page).await;
        b.arm = crate::common::fixtures::arm_client(&b.emu, move |o| {
            o.list_limits.max_pages = max_pages;
        });
        let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
        let mut d = deps("s1", &[]);
        d.budget.writes = batch;
        d.budget.duration = Duration::from_secs(600);
        let mut passes = 0;
        let stalled = loop {
            step(&b, &mut obj, &d).await;
            passes += 1;
            let conds = &status(&obj).common.conditions;
            if is_true(conds, arclink::api::conditions::STALLED) {
                break find(conds, READY).cloned();
            }
            if ready(&obj) {
                break None;
            }
            assert!(passes <= 10, "{max_pages}: {:?}", status(&obj).summary);
        };
        let pages = b.admin.counters().count_for("GET", MACHINES);
        if converges {
            assert_eq!(stalled, None);
            assert_eq!((passes, pages), (5, 20));
            assert_eq!(status(&obj).summary.associated, n as u32);
        } else {
            let ready = stalled.expect("stalled on the listing's bound");
            assert_eq!(ready.reason, "InvalidResponse", "{ready:?}");
            assert!(ready.message.contains("more than 19 pages"), "{ready:?}");
            assert_eq!((passes, pages), (5, 19), "{ready:?}");
        }
    }
}

/// Issue 16, item 1: a listing is not continued past one drift interval after its first page,
/// so a machine changed out of band behind it is seen within the interval; one that took
/// several passes is due again one interval after its first page.
#[tokio::test]
async fn a_machine_changed_behind_the_listing_is_seen_within_the_drift_interval() {
    let interval = Duration::from_secs(4);
    let b = bed(Vec::new(), 300, 10).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    obj.spec.policy.drift_check_interval = Some("4s".into());
    let mut d = deps("s1", &[]);
    d.budget.writes = 50;
    d.budget.duration = Duration::from_secs(600);
    let first = tokio::time::Instant::now();
    step(&b, &mut obj, &d).await;
    assert!(is_in(&b.admin, "node-00000", "s1"));
    // Dissociated in the portal, on the first page, after the listing passed it.
    b.admin
        .patch_out_of_band(
            &machine_id("node-00000"),
            json!({"properties": {"privateLinkScopeResourceId": null}}),
        )
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    assert!(
        first.elapsed() < interval,
        "the test needs the second pass within the interval"
    );
    assert_eq!(
        scope_of(&b.admin, "node-00000"),
        None,
        "the listing went on from page 6, not from the first page"
    );
    assert_eq!(b.admin.counters().count_for("GET", MACHINES), 5);

    // The listing's first page was read just after `first`. The association measures a
    // listing's age on tokio's clock, so the clock jumps past the interval; it is paused only
    // while nothing is in flight (the emulator's own timers are far longer than the jump).
    tokio::time::pause();
    tokio::time::sleep_until(first + interval + Duration::from_millis(300)).await;
    tokio::time::resume();
    let out = step(&b, &mut obj, &d).await;
    assert!(
        is_in(&b.admin, "node-00000", "s1"),
        "a listing older than the interval starts from the first page"
    );
    assert_eq!(out.changes.len(), 50);

    // Converge, then the next listing is due one interval after its first page.
    let mut passes = 0;
    let mut out = out;
    while !ready(&obj) {
        out = step(&b, &mut obj, &d).await;
        passes += 1;
        assert!(passes < 20, "did not converge: {:?}", status(&obj).summary);
    }
    assert!(
        matches!(out.requeue, Requeue::After(d) if d < interval),
        "{:?}",
        out.requeue
    );
    assert_eq!(status(&obj).summary.associated, 300);
}

/// A listing that takes several passes in steady state leaves the status as the last complete
/// listing wrote it (nothing for the controller to write to the API server) and is due again
/// one interval after its first page.
#[tokio::test]
async fn a_steady_state_listing_over_several_passes_changes_no_status() {
    let b = bed(Vec::new(), 50, 10).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    let settled = status(&obj).clone();
    // A time bound that lets each pass read only the one page every pass reads.
    d.budget.duration = Duration::ZERO;
    b.admin.reset_counters();
    for page in 1..5 {
        let out = step(&b, &mut obj, &d).await;
        assert_eq!(status(&obj), &settled, "page {page}");
        assert_eq!(out.requeue, Requeue::After(d.budget.requeue));
        assert_eq!(b.admin.counters().count_for("GET", MACHINES), page);
    }
    let out = step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    assert_ne!(
        status(&obj).common.last_sync_time,
        settled.common.last_sync_time
    );
    assert_eq!(status(&obj).summary, settled.summary);
    assert!(
        matches!(out.requeue, Requeue::After(d) if d < b.settings.drift_check_interval),
        "{:?}",
        out.requeue
    );
    let c = b.admin.counters();
    assert_eq!(c.count_for("GET", MACHINES), 5);
    assert_eq!(c.total(), 6, "five pages and one scope GET for the listing");
}

/// A new spec is not reported Ready before its listing is over, even when the passes so far
/// found nothing pending (their budget ended at a page boundary).
#[tokio::test]
async fn a_changed_spec_is_not_ready_before_its_listing_is_over() {
    let b = bed(Vec::new(), 100, 10).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    d.budget.duration = Duration::from_secs(600);
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    // spec.scopeRef now names another scope: the machines follow, 30 per pass.
    obj.metadata.generation = Some(2);
    let mut d = deps("s2", &[]);
    d.budget.writes = 30;
    d.budget.duration = Duration::from_secs(600);
    let mut passes = 0;
    loop {
        step(&b, &mut obj, &d).await;
        passes += 1;
        if passes < 4 {
            assert!(
                !ready(&obj),
                "pass {passes}: {:?}",
                status(&obj).common.conditions
            );
        } else {
            break;
        }
    }
    assert!(ready(&obj), "{:?}", status(&obj));
    assert_eq!(status(&obj).summary.associated, 100);
    assert!(is_in(&b.admin, "node-00099", "s2"));
}

/// Deletion continues its listing between passes too: detaching N machines in batches reads
/// each page once.
#[tokio::test]
async fn detaching_in_batches_reads_each_page_once() {
    let b = bed(Vec::new(), 600, 50).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    d.budget.duration = Duration::from_secs(600);
    while obj.status.is_none() || !ready(&obj) {
        step(&b, &mut obj, &d).await;
    }
    d.budget.writes = 100;
    b.admin.reset_counters();
    let mut passes = 0;
    let message = loop {
        passes += 1;
        assert!(passes <= 10, "did not finish");
        match reconcile::cleanup(
            &b.arm,
            &b.settings,
            &*b.ctx.states.of::<ArcServerAssociation>(),
            &obj,
            &d,
        )
        .await
        {
            Cleanup::Done(m) => break m,
            Cleanup::Pending { status, .. } => obj.status = Some(status),
        }
    };
    assert_eq!(passes, 6, "100 machines per pass");
    assert!(message.contains("detached 600 machines"), "{message}");
    let c = b.admin.counters();
    assert_eq!(c.count_for("GET", MACHINES), 12);
    assert_eq!(scope_of(&b.admin, "node-00599"), None);
}

/// A nextLink kept between passes may have expired: the listing starts from the first page
/// again instead of stalling.
#[tokio::test]
async fn a_kept_next_link_that_fails_lists_from_the_first_page_again() {
    let b = bed(Vec::new(), 100, 10).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    d.budget.writes = 30;
    d.budget.duration = Duration::from_secs(600);
    step(&b, &mut obj, &d).await;
    b.admin.inject(
        arclink::emulator::Fault::status(400)
            .code("InvalidSkipToken")
            .method("GET")
            .path_contains("/machines")
            .times(1),
    );
    let out = step(&b, &mut obj, &d).await;
    let reconciling = find(
        &status(&obj).common.conditions,
        arclink::api::conditions::RECONCILING,
    )
    .unwrap();
    assert_eq!(reconciling.status, "True");
    assert!(
        reconciling.message.contains("InvalidSkipToken")
            && reconciling.message.contains("first page"),
        "{}",
        reconciling.message
    );
    assert_eq!(out.requeue, Requeue::After(d.budget.requeue));
    b.admin.reset_counters();
    let mut passes = 0;
    while !ready(&obj) {
        step(&b, &mut obj, &d).await;
        passes += 1;
        assert!(passes < 10, "did not converge: {:?}", status(&obj).summary);
    }
    assert_eq!(status(&obj).summary.associated, 100);
    assert_eq!(
        b.admin.counters().count_for("GET", MACHINES),
        10,
        "listed once more from the first page"
    );
}

/// Issue 16, item 1: a small association in the same subscription gets its writes through while
/// a large one converges (they share the subscription's write bucket; a pass of the large one
/// is bounded and has at most `in_flight` writes queued ahead).
#[tokio::test]
async fn a_small_association_is_not_starved_by_a_large_one() {
    let small_machines = ["small-01", "small-02", "small-03"]
        .map(|n| machine(n, "eastus", &[("team", "small")]))
        .to_vec();
    let b = std::sync::Arc::new(
        bed_with_writes(
            small_machines,
            600,
            100,
            arclink::azure::BucketLimits {
                burst: 10,
                per_second: 200.0,
            },
        )
        .await,
    );
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let big = {
        let b = b.clone();
        tokio::spawn(async move {
            let mut obj = association("big", &[], &[("fleet", "blue")], 0);
            let mut d = deps("s1", &[]);
            d.budget = Budget {
                writes: 50,
                in_flight: 8,
                ..Budget::default()
            };
            let mut started = Some(started_tx);
            let mut passes = 0;
            while passes == 0 || !ready(&obj) {
                step(&b, &mut obj, &d).await;
                passes += 1;
                if let Some(tx) = started.take() {
                    let _ = tx.send(());
                }
            }
            tokio::time::Instant::now()
        })
    };
    started_rx.await.unwrap();
    let mut small = association("small", &[], &[("team", "small")], 5);
    step(&b, &mut small, &deps("s2", &[])).await;
    let small_done = tokio::time::Instant::now();
    assert!(ready(&small), "{:?}", small.status);
    for m in ["small-01", "small-02", "small-03"] {
        assert!(is_in(&b.admin, m, "s2"), "{m}");
    }
    let big_done = big.await.unwrap();
    assert!(
        small_done < big_done,
        "the small association finished before the large one"
    );
    assert_eq!(b.admin.counters().count_for("PATCH", MACHINES), 603);
}

#[tokio::test]
async fn status_stays_small_while_a_batch_is_in_progress() {
    let b = bed(Vec::new(), 3000, 1000).await;
    let mut obj = association("fleet", &[], &[("fleet", "blue")], 0);
    let mut d = deps("s1", &[]);
    d.budget = Budget {
        writes: 200,
        ..Budget::default()
    };
    step(&b, &mut obj, &d).await;
    let st = status(&obj);
    assert!(!ready(&obj));
    // The listing stopped after the first page: the rest of it waits for the next pass.
    assert_eq!((st.summary.associated, st.summary.pending), (200, 800));
    assert_eq!(st.machines.len(), MAX_LISTED);
    assert_eq!(st.machines_omitted, Some(700));
    assert!(st.machines.iter().all(|m| m.state == "Pending"));
    let size = serde_json::to_vec(st).unwrap().len();
    assert!(size < 16 * 1024, "status is {size} bytes");
    assert_eq!(b.admin.counters().count_for("PATCH", MACHINES), 200);
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
