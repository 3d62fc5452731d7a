//! The plan/apply loop in process, with the emulator's request counters: plan never writes,
//! apply converges in dependency order, a second apply writes nothing.

use std::time::Duration;

use arclink::emulator::Fault;
use arclink::offline::apply::{self, Limits, Result as Applied};
use arclink::offline::plan::{self, Action};
use arclink::reconcile::Settings;

use super::examples;

fn settings(dry_run: bool) -> Settings {
    Settings {
        dry_run,
        ..Settings::new("default")
    }
}

const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(60),
    poll: Duration::from_millis(50),
};

#[tokio::test]
async fn plan_reads_only_and_apply_waits_for_operations_then_is_idempotent() {
    let (emu, arm) = super::emulator(Duration::from_millis(300)).await;
    let admin = emu.admin();

    let planned = plan::plan(&arm, &settings(true), examples(), true).await;
    let actions: Vec<Action> = planned.objects.iter().map(|o| o.action).collect();
    assert_eq!(
        actions,
        vec![
            Action::Create,
            Action::Create,
            Action::Waiting,
            Action::Waiting
        ],
        "{planned:#?}"
    );
    assert_eq!(admin.counters().writes(), 0, "plan wrote to ARM");

    let report = apply::apply(&arm, &settings(false), examples(), true, LIMITS).await;
    let results: Vec<Applied> = report.objects.iter().map(|o| o.result).collect();
    assert_eq!(results, vec![Applied::Ready; 4], "{report:#?}");
    // The Azure Monitor scope's links are long-running operations, one at a time: apply
    // followed each to its end.
    let monitor = &report.objects[1];
    assert_eq!(monitor.kind, "ArcMonitorPrivateLinkScope");
    assert_eq!(monitor.changes.len(), 3, "{monitor:#?}");
    assert_eq!(
        monitor.status["scopedResources"].as_array().map(|l| l
            .iter()
            .filter(|s| s["provisioningState"] == "Succeeded")
            .count()),
        Some(2),
        "{:#}",
        monitor.status
    );
    // The endpoint's PUT is a long-running operation: apply polled it to completion.
    let endpoint = &report.objects[2];
    assert_eq!(endpoint.kind, "ArcPrivateEndpoint");
    assert_eq!(endpoint.status["provisioningState"], "Succeeded");
    assert!(
        endpoint.status["privateIPs"]
            .as_array()
            .is_some_and(|ips| !ips.is_empty()),
        "{:#}",
        endpoint.status
    );
    assert_eq!(report.objects[3].status["summary"]["associated"], 2);

    admin.reset_counters();
    let again = apply::apply(&arm, &settings(false), examples(), true, LIMITS).await;
    assert!(
        again
            .objects
            .iter()
            .all(|o| o.changes.is_empty() && o.result == Applied::Ready),
        "{again:#?}"
    );
    assert_eq!(
        admin.counters().writes(),
        0,
        "a converged apply wrote to ARM"
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn apply_gives_up_at_the_timeout_while_an_operation_runs() {
    let (emu, arm) = super::emulator(Duration::from_secs(30)).await;
    let limits = Limits {
        timeout: Duration::from_millis(600),
        poll: Duration::from_millis(100),
    };
    let report = apply::apply(&arm, &settings(false), examples(), true, limits).await;
    let results: Vec<Applied> = report.objects.iter().map(|o| o.result).collect();
    // The scope is written synchronously; the endpoint's operation outlasts the timeout, and
    // the association is not attempted any more.
    assert_eq!(results[0], Applied::Ready, "{report:#?}");
    assert_eq!(results[1], Applied::TimedOut, "{report:#?}");
    assert_eq!(results[2], Applied::TimedOut, "{report:#?}");
    assert!(report.objects[2].changes.is_empty());
    assert_eq!(report.exit(), arclink::offline::Exit::Errors);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_timeout_bounds_apply_under_throttling_that_never_stops() {
    let (emu, arm) = super::emulator(Duration::from_millis(300)).await;
    // Each request is throttled for 5s, and the client retries throttling 10 times per call:
    // one call alone would outlast the timeout ten times over.
    emu.admin().inject(Fault::status(429).retry_after(5));
    let started = std::time::Instant::now();
    let limits = Limits {
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(50),
    };
    let report = apply::apply(&arm, &settings(false), examples(), true, limits).await;
    let took = started.elapsed();
    // Generous for a loaded machine, far below the 50s of one throttled call.
    assert!(
        took < Duration::from_secs(20),
        "apply --timeout 2s took {took:?}"
    );
    let results: Vec<Applied> = report.objects.iter().map(|o| o.result).collect();
    assert_eq!(results, vec![Applied::TimedOut; 4], "{report:#?}");
    assert!(
        report.objects[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("--timeout ran out while waiting for ARM")),
        "{report:#?}"
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn writes_arm_refused_are_not_reported_as_changes() {
    let (emu, arm) = super::emulator(Duration::from_millis(300)).await;
    emu.admin().inject(
        Fault::status(400)
            .code("InvalidParameter")
            .method("PATCH")
            .path_contains("/machines/"),
    );
    let report = apply::apply(&arm, &settings(false), examples(), true, LIMITS).await;
    let association = &report.objects[3];
    assert_eq!(association.kind, "ArcServerAssociation");
    assert_eq!(association.result, Applied::Blocked, "{report:#?}");
    assert!(association.changes.is_empty(), "{:#?}", association.changes);
    assert_eq!(
        association.status["summary"]["failed"], 2,
        "{:#}",
        association.status
    );
    // What ARM accepted still is.
    assert_eq!(report.objects[0].changes.len(), 1, "{report:#?}");
    emu.shutdown().await.unwrap();
}
