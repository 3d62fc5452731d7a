//! An association over large fleets: paged listings continued between passes, their bounds,
//! batches, and the subscription's write bucket shared with other associations.

use arclink::api::ArcServerAssociation;
use arclink::api::conditions::{READY, find, is_true};
use arclink::reconcile::association::{Budget, MAX_LISTED};
use arclink::reconcile::{self, Cleanup, Requeue};
use serde_json::json;
use std::time::Duration;

use super::support::*;
use super::{MACHINES, ready, status};

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
