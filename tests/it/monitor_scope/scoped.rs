//! The scope's scoped resources as a set: read first, what is linked already (by anyone) is
//! skipped, one write at a time per scope with its operation followed, only arclink's links
//! unlinked, and a failed link operation reported, counted and repaired.

use std::time::Duration;

use arclink::api::DriftPolicy;
use arclink::api::monitor_scope::ScopedResource;
use arclink::emulator::Fault;
use arclink::reconcile::ChangeAction;

use super::*;

const SCOPED: &str = "Microsoft.Insights/privateLinkScopes/scopedResources";

#[tokio::test]
async fn a_resource_linked_already_under_another_name_is_skipped_and_never_unlinked() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("s1", &[]);
    settle(&b, &mut obj, 3, Duration::ZERO).await;
    link_out_of_band(&b, "s1", "law-arc-connection", &workspace("law-arc")).await;

    obj.spec.scoped_resources = vec![
        ScopedResource {
            resource_id: workspace("law-arc").to_uppercase(),
        },
        ScopedResource {
            resource_id: dce("dce-eastus"),
        },
    ];
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    settle(&b, &mut obj, 6, Duration::ZERO).await;
    let c = b.admin.counters();
    assert_eq!(
        c.count_for("PUT", SCOPED),
        1,
        "only the data collection endpoint is linked"
    );
    assert_eq!(c.status(409), 0, "no second PUT of a linked resource");
    assert_eq!(
        links(&b, "s1")
            .await
            .iter()
            .map(|l| l.0.as_str())
            .collect::<Vec<_>>(),
        [link_name(&dce("dce-eastus")).as_str(), "law-arc-connection"]
    );

    // Both entries leave the spec: only arclink's link goes.
    obj.spec.scoped_resources.clear();
    obj.metadata.generation = Some(3);
    b.admin.reset_counters();
    settle(&b, &mut obj, 6, Duration::ZERO).await;
    assert_eq!(b.admin.counters().count_for("DELETE", SCOPED), 1);
    assert_eq!(
        links(&b, "s1")
            .await
            .iter()
            .map(|l| l.0.as_str())
            .collect::<Vec<_>>(),
        ["law-arc-connection"],
        "a link someone else made stays"
    );
    assert_eq!(obj.status.as_ref().unwrap().scoped_resources.len(), 1);
}

#[tokio::test]
async fn scoped_resource_writes_go_one_at_a_time_each_followed_in_status() {
    let b = bed(Duration::from_millis(600)).await;
    let linked = [
        workspace("law-arc"),
        workspace("law-audit"),
        dce("dce-eastus"),
    ];
    let mut obj = ampls("s2", &linked);
    let mut writes_per_reconcile = Vec::new();
    let mut in_flight_max = 0;
    for _ in 0..60 {
        b.admin.reset_counters();
        let out = step(&b, &mut obj, &()).await;
        let c = b.admin.counters();
        assert_eq!(c.status(409), 0, "no write refused: {:?}", obj.status);
        writes_per_reconcile.push(c.count_for("PUT", SCOPED));
        let ops = &obj.status.as_ref().unwrap().common.arm.operations;
        in_flight_max = in_flight_max.max(ops.len());
        if !ops.is_empty() {
            let waiting = reason(&obj, RECONCILING);
            assert!(
                ["Creating", "LinkingResources"].contains(&waiting.as_str()),
                "{:?}",
                out.phase
            );
        }
        if ready(&obj) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        writes_per_reconcile.iter().sum::<u64>(),
        3,
        "{writes_per_reconcile:?}"
    );
    assert!(
        writes_per_reconcile.iter().all(|w| *w <= 1),
        "at most one scoped-resource write per reconcile: {writes_per_reconcile:?}"
    );
    assert_eq!(
        in_flight_max, 1,
        "one scoped-resource operation in flight at a time"
    );
    assert!(
        writes_per_reconcile.len() >= 6,
        "reconciles while an operation runs write nothing: {writes_per_reconcile:?}"
    );
    assert_eq!(links(&b, "s2").await.len(), 3);
}

#[tokio::test]
async fn a_link_someone_else_is_writing_holds_arclinks_writes_back() {
    let b = bed(Duration::from_millis(800)).await;
    let mut obj = ampls("s3", &[]);
    settle(&b, &mut obj, 3, Duration::ZERO).await;
    // The portal links a workspace: its operation runs.
    let id: arclink::azure::ResourceId = link_id("s3", "portal-link").parse().unwrap();
    let body = json!({"properties": {"linkedResourceId": workspace("law-audit")}});
    let written: arclink::azure::Write<Value> = b.arm.put(&id, &body).await.unwrap();
    assert!(matches!(written, arclink::azure::Write::Pending(_)));

    obj.spec.scoped_resources = vec![ScopedResource {
        resource_id: workspace("law-arc"),
    }];
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0, "{:?}", obj.status);
    assert_eq!(reason(&obj, RECONCILING), "LinkingResources");
    assert!(
        message(&obj, RECONCILING).contains("portal-link"),
        "{}",
        message(&obj, RECONCILING)
    );
    settle(&b, &mut obj, 40, Duration::from_millis(100)).await;
    assert_eq!(b.admin.counters().status(409), 0);
    assert_eq!(links(&b, "s3").await.len(), 2);
}

#[tokio::test]
async fn a_failed_link_operation_is_reported_counted_and_linked_again() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("s4", &[workspace("law-arc")]);
    // A failure the next attempt may not meet: Reconciling, counted as a failed attempt.
    b.admin.inject(
        Fault::lro_failure("RetryableError", "the workspace could not be linked")
            .path_contains("/scopedResources/")
            .times(1),
    );
    step(&b, &mut obj, &()).await;
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(
        reason(&obj, RECONCILING),
        "RetryableError",
        "{:?}",
        out.phase
    );
    assert!(
        message(&obj, RECONCILING).contains("the workspace could not be linked"),
        "{}",
        message(&obj, RECONCILING)
    );
    assert_eq!(obj.status.as_ref().unwrap().common.failed_attempts, 1);
    assert!(
        obj.status
            .as_ref()
            .unwrap()
            .common
            .arm
            .operations
            .is_empty()
    );

    settle(&b, &mut obj, 8, Duration::from_millis(10)).await;
    assert_eq!(obj.status.as_ref().unwrap().common.failed_attempts, 0);
    assert_eq!(
        links(&b, "s4").await,
        vec![(
            link_name(&workspace("law-arc")),
            workspace("law-arc").to_ascii_lowercase(),
            "Succeeded".to_string()
        )]
    );

    // A failure that needs a person: Stalled with the code; arclink's failed link cannot be
    // PUT again (409), so it is deleted and linked anew.
    b.admin.inject(
        Fault::lro_failure(
            "LinkedResourceUnavailable",
            "the endpoint could not be linked",
        )
        .path_contains("/scopedResources/")
        .times(1),
    );
    obj.spec.scoped_resources.push(ScopedResource {
        resource_id: dce("dce-eastus"),
    });
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &()).await;
    step(&b, &mut obj, &()).await;
    assert_eq!(
        reason(&obj, STALLED),
        "LinkedResourceUnavailable",
        "{:?}",
        obj.status
    );
    let failed: Vec<_> = links(&b, "s4")
        .await
        .into_iter()
        .filter(|l| l.2 != "Succeeded")
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "the failed link stays in Azure: {failed:?}"
    );
    assert_eq!(failed[0].0, link_name(&dce("dce-eastus")));
    b.admin.reset_counters();
    settle(&b, &mut obj, 8, Duration::from_millis(10)).await;
    let c = b.admin.counters();
    assert_eq!(c.status(409), 0);
    assert_eq!(
        c.count_for("DELETE", SCOPED),
        1,
        "a failed link of arclink's is deleted before it is linked again: {failed:?}"
    );
    assert_eq!(links(&b, "s4").await.len(), 2);
    assert!(links(&b, "s4").await.iter().all(|l| l.2 == "Succeeded"));
}

#[tokio::test]
async fn links_removed_out_of_band_are_drift_corrected_or_reported() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("s5", &[workspace("law-arc")]);
    settle(&b, &mut obj, 4, Duration::ZERO).await;
    let ours = link_id("s5", &link_name(&workspace("law-arc")));

    b.admin.delete_out_of_band(&ours).unwrap();
    let out = step(&b, &mut obj, &()).await;
    let path = format!("scopedResources[{}]", workspace("law-arc"));
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    assert!(
        out.drift.corrected.iter().any(|d| d.path == path),
        "{:?}",
        out.drift
    );
    settle(&b, &mut obj, 4, Duration::ZERO).await;
    assert_eq!(links(&b, "s5").await.len(), 1);

    obj.spec.common.policy.drift = DriftPolicy::Report;
    obj.metadata.generation = Some(2);
    b.admin.delete_out_of_band(&ours).unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (
            drift[0].path.as_str(),
            drift[0].desired.as_str(),
            drift[0].actual.as_str()
        ),
        (path.as_str(), "linked", "missing")
    );

    // Report: arclink's link left over is reported, not unlinked.
    obj.spec.common.policy.drift = DriftPolicy::Correct;
    obj.metadata.generation = Some(3);
    settle(&b, &mut obj, 4, Duration::ZERO).await;
    obj.spec.scoped_resources.clear();
    obj.spec.common.policy.drift = DriftPolicy::Report;
    obj.metadata.generation = Some(4);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(
        drift
            .iter()
            .map(|d| (d.desired.as_str(), d.actual.as_str()))
            .collect::<Vec<_>>(),
        [("unlinked", "linked")],
        "{drift:?}"
    );
    assert_eq!(links(&b, "s5").await.len(), 1);
}

#[tokio::test]
async fn dry_run_lists_every_link_to_make_without_writing() {
    let mut b = bed(Duration::ZERO).await;
    b.settings.dry_run = true;
    let mut obj = ampls("s6", &[workspace("law-arc"), dce("dce-eastus")]);
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(
        out.changes.len(),
        3,
        "the scope and its two links: {:?}",
        out.changes
    );
    assert!(out.changes.iter().all(|c| c.action == ChangeAction::Create));
    assert!(
        out.changes[0]
            .resource_id
            .ends_with("/privateLinkScopes/s6")
    );

    b.settings.dry_run = false;
    let mut existing = ampls("s6", &[]);
    settle(&b, &mut existing, 3, Duration::ZERO).await;
    b.settings.dry_run = true;
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let created: Vec<&str> = out
        .changes
        .iter()
        .filter(|c| c.action == ChangeAction::Create)
        .map(|c| c.resource_id.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        created,
        [
            link_name(&dce("dce-eastus")),
            link_name(&workspace("law-arc"))
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
    );
}

/// Insights points a scoped resource's `Location` at a `privateLinkScopeOperationStatuses`
/// resource that answers 200 while the operation runs: the client reads its `status` rather
/// than take the 200 for the end, and ends with the scoped resource itself.
#[tokio::test]
async fn a_location_operation_status_answering_200_is_followed_to_its_end() {
    let b = bed(Duration::from_millis(500)).await;
    let mut obj = ampls("s7", &[]);
    settle(&b, &mut obj, 3, Duration::ZERO).await;
    let id: arclink::azure::ResourceId = link_id("s7", "ws").parse().unwrap();
    let body = json!({"properties": {"linkedResourceId": workspace("law-arc")}});
    let arclink::azure::Write::Pending(token) = b.arm.put::<_, Value>(&id, &body).await.unwrap()
    else {
        panic!("a scoped resource PUT is long-running");
    };
    assert!(
        token
            .status_url
            .contains("privateLinkScopeOperationStatuses"),
        "{token:?}"
    );
    assert!(matches!(
        b.arm.poll(&token).await.unwrap(),
        arclink::azure::Poll::InProgress { .. }
    ));
    let done = b.arm.wait(&token).await.unwrap().unwrap();
    assert_eq!(done["name"], "ws", "{done}");
    assert_eq!(done["properties"]["provisioningState"], "Succeeded");
}
