//! ArcMonitorPrivateLinkScope reconcile core against the in-process emulator: the scope (in
//! `global`, access modes, tags, ownership) and its scoped resources diffed as a set.

use std::time::Duration;

use arclink::api::conditions::{READY, RECONCILING, STALLED, find, is_true};
use arclink::api::monitor_scope::{AccessMode, AccessModes, ScopedResource};
use arclink::api::{
    ArcMonitorPrivateLinkScope, ArcMonitorPrivateLinkScopeSpec, AzureResource, CommonSpec,
    DeletionPolicy, DriftPolicy,
};
use arclink::reconcile::monitor_scope::scoped::link_name;
use arclink::reconcile::{self, Cleanup, Outcome};
use serde_json::{Value, json};

use crate::common::bed::{Bed, step};
use crate::common::fixtures::{SUB, in_test_namespace, owned_by};

mod lifecycle;
mod scoped;

/// The Azure Monitor resources of the bed: two workspaces and a data collection endpoint.
const MONITOR_FIXTURES: &str = "
logAnalyticsWorkspaces:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: law-arc, location: eastus}
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: law-audit, location: eastus}
dataCollectionEndpoints:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: dce-eastus, location: eastus}
";

/// A bed with the Azure Monitor resources, operations running for `lro`.
async fn bed(lro: Duration) -> Bed {
    Bed::new().fixtures(MONITOR_FIXTURES).lro(lro).start().await
}

fn workspace(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.OperationalInsights/workspaces/{name}"
    )
}

fn dce(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Insights/dataCollectionEndpoints/{name}"
    )
}

fn ampls_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Insights/privateLinkScopes/{name}"
    )
}

/// The scope's link to `linked` named `name`.
fn link_id(scope: &str, name: &str) -> String {
    format!("{}/scopedResources/{name}", ampls_id(scope))
}

/// An ArcMonitorPrivateLinkScope `name` in `rg-arc` linking `linked`, tagged `team: platform`.
fn ampls(name: &str, linked: &[String]) -> ArcMonitorPrivateLinkScope {
    in_test_namespace(ArcMonitorPrivateLinkScope::new(
        name,
        ArcMonitorPrivateLinkScopeSpec {
            azure: AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg-arc".into(),
                name: None,
            },
            scoped_resources: linked
                .iter()
                .map(|id| ScopedResource {
                    resource_id: id.clone(),
                })
                .collect(),
            common: CommonSpec {
                tags: [("team".to_string(), "platform".to_string())].into(),
                ..Default::default()
            },
            ..Default::default()
        },
    ))
}

fn reason(obj: &ArcMonitorPrivateLinkScope, t: &str) -> String {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

fn message(obj: &ArcMonitorPrivateLinkScope, t: &str) -> String {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

fn ready(obj: &ArcMonitorPrivateLinkScope) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, READY)
}

/// The scope's links in Azure, as `(name, linkedResourceId lower-cased, provisioningState)`,
/// by name.
async fn links(b: &Bed, scope: &str) -> Vec<(String, String, String)> {
    use futures::TryStreamExt;
    let scope: arclink::azure::ResourceId = ampls_id(scope).parse().unwrap();
    let collection = arclink::azure::CollectionId::new(&scope, "scopedResources");
    let listed: Vec<Value> = match b.arm.list(&collection).try_collect().await {
        Ok(listed) => listed,
        Err(_) => return Vec::new(),
    };
    let mut out: Vec<(String, String, String)> = listed
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["properties"]["linkedResourceId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                r["properties"]["provisioningState"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Steps until Ready (at most `n` reconciles, waiting `pause` between them); the outcomes.
async fn settle(
    b: &Bed,
    obj: &mut ArcMonitorPrivateLinkScope,
    n: usize,
    pause: Duration,
) -> Vec<Outcome<arclink::api::ArcMonitorPrivateLinkScopeStatus>> {
    let mut outs = Vec::new();
    for _ in 0..n {
        let out = step(b, obj, &()).await;
        outs.push(out);
        if ready(obj) {
            return outs;
        }
        tokio::time::sleep(pause).await;
    }
    panic!("not Ready after {n} reconciles: {:#?}", obj.status);
}

/// Runs the clean-up to its end; its message.
async fn clean(b: &Bed, obj: &mut ArcMonitorPrivateLinkScope) -> String {
    for _ in 0..40 {
        match reconcile::cleanup(&b.arm, &b.settings, &(), obj, &()).await {
            Cleanup::Done(msg) => return msg,
            Cleanup::Pending { status, .. } => {
                obj.status = Some(status);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    panic!("cleanup did not finish");
}

/// Links `linked` to scope `scope` under `name` as someone else would (the portal), waiting for
/// the operation.
async fn link_out_of_band(b: &Bed, scope: &str, name: &str, linked: &str) {
    let id: arclink::azure::ResourceId = link_id(scope, name).parse().unwrap();
    let body = json!({"properties": {"linkedResourceId": linked}});
    let _: Value = b.arm.put_and_wait(&id, &body).await.unwrap();
}

#[tokio::test]
async fn creates_the_scope_in_global_and_links_each_resource_then_steady_state_is_two_gets() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("m1", &[workspace("law-arc"), dce("dce-eastus")]);
    let outs = settle(&b, &mut obj, 6, Duration::from_millis(10)).await;
    assert_eq!(outs.len(), 3, "scope + first link, second link, then Ready");
    assert_eq!(reason(&obj, READY), "Succeeded", "{:?}", obj.status);
    let azure = b.admin.get(&ampls_id("m1")).unwrap();
    assert!(
        azure["location"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("global")
    );
    assert_eq!(
        azure["tags"]["arclink-owner"],
        owned_by("ArcMonitorPrivateLinkScope/m1")
    );
    assert_eq!(azure["tags"]["team"], "platform");
    let settings = &azure["properties"]["accessModeSettings"];
    assert_eq!(
        (
            &settings["ingestionAccessMode"],
            &settings["queryAccessMode"]
        ),
        (&json!("Open"), &json!("Open")),
        "both modes default to Open"
    );
    assert_eq!(
        links(&b, "m1").await,
        vec![
            (
                link_name(&dce("dce-eastus")),
                dce("dce-eastus").to_ascii_lowercase(),
                "Succeeded".to_string()
            ),
            (
                link_name(&workspace("law-arc")),
                workspace("law-arc").to_ascii_lowercase(),
                "Succeeded".to_string()
            ),
        ]
    );
    let st = obj.status.as_ref().unwrap();
    assert!(
        st.resource_id
            .as_deref()
            .unwrap()
            .eq_ignore_ascii_case(&ampls_id("m1"))
    );
    assert_eq!(st.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(st.scoped_resources.len(), 2, "{st:?}");
    assert!(
        st.scoped_resources
            .iter()
            .all(|s| s.provisioning_state.as_deref() == Some("Succeeded"))
    );
    assert!(st.common.arm.operations.is_empty(), "{st:?}");

    // Steady state: the scope and its links are read, nothing is written.
    b.admin.reset_counters();
    for _ in 0..3 {
        let out = step(&b, &mut obj, &()).await;
        assert!(out.changes.is_empty(), "{:?}", out.changes);
    }
    let c = b.admin.counters();
    assert_eq!(
        (c.count("GET"), c.writes(), c.total()),
        (6, 0, 6),
        "steady state is two GETs per reconcile (the scope, its scoped resources)"
    );
    assert!(ready(&obj));
}

#[tokio::test]
async fn access_modes_and_tags_are_corrected_and_reported_like_the_arc_scope() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("m2", &[]);
    obj.spec.access_modes = AccessModes {
        ingestion: AccessMode::PrivateOnly,
        query: AccessMode::Open,
    };
    settle(&b, &mut obj, 3, Duration::ZERO).await;
    assert_eq!(
        b.admin.get(&ampls_id("m2")).unwrap()["properties"]["accessModeSettings"]["ingestionAccessMode"],
        "PrivateOnly"
    );

    // Someone opens ingestion in the portal: a PUT of the scope as read puts it back.
    b.admin
        .patch_out_of_band(
            &ampls_id("m2"),
            json!({"properties": {"accessModeSettings": {"ingestionAccessMode": "Open", "queryAccessMode": "Open", "exclusions": []}}}),
        )
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!((c.count("PUT"), c.count("PATCH")), (1, 0));
    assert_eq!(
        out.drift.corrected[0].path,
        "properties.accessModeSettings.ingestionAccessMode"
    );
    assert_eq!(reason(&obj, "Drifted"), "DriftCorrected");
    assert_eq!(
        b.admin.get(&ampls_id("m2")).unwrap()["properties"]["accessModeSettings"]["ingestionAccessMode"],
        "PrivateOnly"
    );

    // A tag removed: a PATCH of the tags only.
    b.admin
        .patch_out_of_band(&ampls_id("m2"), json!({"tags": {"team": null}}))
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!((c.count("PUT"), c.count("PATCH")), (0, 1));

    // Report: the difference is listed and nothing is written.
    obj.spec.common.policy.drift = DriftPolicy::Report;
    obj.metadata.generation = Some(2);
    b.admin
        .patch_out_of_band(
            &ampls_id("m2"),
            json!({"properties": {"accessModeSettings": {"queryAccessMode": "PrivateOnly"}}}),
        )
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(out.changes.is_empty());
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (
            drift[0].path.as_str(),
            drift[0].desired.as_str(),
            drift[0].actual.as_str()
        ),
        (
            "properties.accessModeSettings.queryAccessMode",
            "Open",
            "PrivateOnly"
        )
    );
    assert_eq!(reason(&obj, "Drifted"), "DriftDetected");
    assert!(ready(&obj), "Report keeps Ready");
}

#[tokio::test]
async fn suspended_objects_make_no_arm_calls_and_bad_ids_stored_earlier_stall_without_one() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("m3", &[workspace("law-arc")]);
    obj.spec.common.suspend = true;
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().total(), 0);
    assert_eq!(reason(&obj, READY), "Suspended");

    let scope_id = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/apls".to_string();
    let mut bad = ampls("m3b", &[workspace("law-arc"), scope_id]);
    let mut elsewhere = ampls("m3c", &[]);
    elsewhere.spec.location = Some("eastus".into());
    for (obj, field) in [
        (&mut bad, "spec.scopedResources[1].resourceId"),
        (&mut elsewhere, "spec.location"),
    ] {
        b.admin.reset_counters();
        step(&b, obj, &()).await;
        assert_eq!(b.admin.counters().total(), 0, "{field}");
        assert_eq!(reason(obj, STALLED), "InvalidSpec");
        assert!(
            message(obj, STALLED).contains(field),
            "{}",
            message(obj, STALLED)
        );
    }
}

#[tokio::test]
async fn a_linked_resource_that_does_not_exist_is_reported_with_the_arm_code() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("m4", &[workspace("law-missing")]);
    step(&b, &mut obj, &()).await;
    let conditions = &obj.status.as_ref().unwrap().common.conditions;
    assert!(
        is_true(conditions, STALLED) || is_true(conditions, RECONCILING),
        "{conditions:?}"
    );
    assert!(!ready(&obj));
    assert!(links(&b, "m4").await.is_empty());
}

#[tokio::test]
async fn deletion_removes_the_owned_scope_with_its_links_and_orphan_keeps_both() {
    let b = bed(Duration::ZERO).await;
    let mut obj = ampls("m5", &[workspace("law-arc")]);
    settle(&b, &mut obj, 4, Duration::ZERO).await;
    let msg = clean(&b, &mut obj).await;
    assert!(msg.contains("deleted"), "{msg}");
    assert!(b.admin.get(&ampls_id("m5")).is_none());
    assert!(
        b.admin
            .get(&link_id("m5", &link_name(&workspace("law-arc"))))
            .is_none()
    );

    let mut kept = ampls("m6", &[workspace("law-arc")]);
    kept.spec.common.policy.deletion = DeletionPolicy::Orphan;
    settle(&b, &mut kept, 4, Duration::ZERO).await;
    let msg = clean(&b, &mut kept).await;
    assert!(msg.contains("orphaned"), "{msg}");
    let azure = b.admin.get(&ampls_id("m6")).unwrap();
    assert_eq!(azure["tags"].get("arclink-owner"), None);
    assert_eq!(azure["tags"]["team"], "platform");
    assert_eq!(
        links(&b, "m6").await.len(),
        1,
        "the links stay with the scope"
    );

    // A scope owned by another object is never deleted.
    let mut foreign = ampls("m6", &[]);
    foreign.metadata.namespace = Some("elsewhere".into());
    b.admin
        .patch_out_of_band(
            &ampls_id("m6"),
            json!({"tags": {"arclink-owner": "c/ns/ArcMonitorPrivateLinkScope/other"}}),
        )
        .unwrap();
    let msg = clean(&b, &mut foreign).await;
    assert!(msg.contains("left in Azure"), "{msg}");
    assert!(b.admin.get(&ampls_id("m6")).is_some());
}
