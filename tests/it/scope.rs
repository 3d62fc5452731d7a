//! ArcPrivateLinkScope reconcile core against the in-process emulator.

use std::time::Duration;

use arclink::api::conditions::{DRIFTED, READY, RECONCILING, STALLED, find, is_true};
use arclink::api::scope::{PublicNetworkAccess, ServiceExtension};
use arclink::api::{ArcPrivateLinkScope, DeletionPolicy, DriftPolicy};
use arclink::azure::Write;
use arclink::emulator::Fault;
use arclink::reconcile::{self, ChangeAction, Cleanup, Drift, Requeue};
use serde_json::json;

use crate::common::bed::{Bed, step};
use crate::common::fixtures::{owned_by, scope, scope_id};

mod fights;

fn reason(obj: &ArcPrivateLinkScope, t: &str) -> String {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

fn ready(obj: &ArcPrivateLinkScope) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, READY)
}

#[tokio::test]
async fn creates_the_scope_with_owner_tags_then_steady_state_is_one_get() {
    let b = Bed::new().await;
    let mut obj = scope("s1");
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    let st = obj.status.as_ref().unwrap();
    assert!(
        st.resource_id
            .as_deref()
            .unwrap()
            .eq_ignore_ascii_case(&scope_id("s1"))
    );
    assert!(
        st.private_link_scope_id
            .as_deref()
            .is_some_and(|g| g.len() == 36),
        "{st:?}"
    );
    assert_eq!(st.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(st.common.observed_generation, Some(1));
    let azure = b.admin.get(&scope_id("s1")).unwrap();
    assert_eq!(
        azure["tags"]["arclink-owner"],
        owned_by("ArcPrivateLinkScope/s1")
    );
    assert_eq!(azure["tags"]["managed-by"], "arclink");
    assert_eq!(azure["tags"]["team"], "platform");
    assert_eq!(azure["properties"]["publicNetworkAccess"], "Disabled");
    assert!(
        matches!(out.requeue, Requeue::After(d) if d >= Duration::from_secs(540) && d <= Duration::from_secs(660))
    );

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!(
        (c.count("GET"), c.writes(), c.total()),
        (1, 0, 1),
        "steady state must be exactly one GET"
    );
    assert!(out.changes.is_empty());
    assert_eq!(out.drift, Drift::observed());
    assert!(ready(&obj));
}

#[tokio::test]
async fn out_of_band_changes_are_corrected_put_for_properties_patch_for_tags() {
    let b = Bed::new().await;
    let mut obj = scope("s2");
    step(&b, &mut obj, &()).await;

    b.enable_public_access("s2");
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!((c.count("PUT"), c.count("PATCH")), (1, 0));
    assert!(
        out.drift
            .corrected
            .iter()
            .any(|e| e.path == "properties.publicNetworkAccess")
    );
    assert_eq!(
        b.admin.get(&scope_id("s2")).unwrap()["properties"]["publicNetworkAccess"],
        "Disabled"
    );
    assert_eq!(reason(&obj, DRIFTED), "DriftCorrected");
    assert!(ready(&obj));

    b.admin
        .patch_out_of_band(&scope_id("s2"), json!({"tags": {"team": null}}))
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!(
        (c.count("PUT"), c.count("PATCH")),
        (0, 1),
        "a tags-only difference is a PATCH"
    );
    assert_eq!(out.changes[0].diff[0].path, "tags.team");
    assert_eq!(
        b.admin.get(&scope_id("s2")).unwrap()["tags"]["team"],
        "platform"
    );
}

#[tokio::test]
async fn report_mode_never_writes_and_reports_the_drift() {
    let b = Bed::new().await;
    let mut obj = scope("s3");
    step(&b, &mut obj, &()).await;
    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.enable_public_access("s3");
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(!out.drift.reported.is_empty());
    let st = obj.status.as_ref().unwrap();
    assert_eq!(st.common.arm.drift.len(), 1);
    assert_eq!(
        (
            st.common.arm.drift[0].path.as_str(),
            st.common.arm.drift[0].desired.as_str(),
            st.common.arm.drift[0].actual.as_str()
        ),
        ("properties.publicNetworkAccess", "Disabled", "Enabled")
    );
    assert!(is_true(&st.common.conditions, DRIFTED));
    assert!(ready(&obj), "Report mode keeps Ready true");
    assert_eq!(
        b.admin.get(&scope_id("s3")).unwrap()["properties"]["publicNetworkAccess"],
        "Enabled"
    );
}

#[tokio::test]
async fn unowned_scopes_need_adopt_and_foreign_ones_are_never_written() {
    let b = Bed::new().await;
    let id: arclink::azure::ResourceId = scope_id("s4").parse().unwrap();
    let body = json!({"location": "eastus", "tags": {"owner": "someone"}, "properties": {"publicNetworkAccess": "Disabled"}});
    assert!(matches!(
        b.arm.put::<_, serde_json::Value>(&id, &body).await.unwrap(),
        Write::Done(_)
    ));

    let mut obj = scope("s4");
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&obj, STALLED), "AdoptionRequired");
    assert!(!ready(&obj));

    obj.spec.common.policy.adopt = true;
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let tags = &b.admin.get(&scope_id("s4")).unwrap()["tags"];
    assert_eq!(tags["arclink-owner"], owned_by("ArcPrivateLinkScope/s4"));
    assert_eq!(
        tags["owner"], "someone",
        "policy.tags Merge (the default) leaves tags the spec does not declare"
    );

    let mut other = scope("s4");
    other.metadata.namespace = Some("other-ns".into());
    other.spec.common.policy.adopt = true;
    b.admin.reset_counters();
    step(&b, &mut other, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&other, STALLED), "OwnedElsewhere");
    assert!(
        find(&other.status.as_ref().unwrap().common.conditions, STALLED)
            .unwrap()
            .message
            .contains("test-cluster/ns/ArcPrivateLinkScope/s4")
    );
}

async fn clean(b: &Bed, obj: &mut ArcPrivateLinkScope) -> String {
    for _ in 0..20 {
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

#[tokio::test]
async fn delete_removes_owned_scopes_and_orphan_releases_them() {
    let b = Bed::new().await;
    let mut obj = scope("s5");
    step(&b, &mut obj, &()).await;
    let msg = clean(&b, &mut obj).await;
    assert!(msg.contains("deleted"), "{msg}");
    assert!(b.admin.get(&scope_id("s5")).is_none());

    let mut kept = scope("s6");
    kept.spec.common.policy.deletion = DeletionPolicy::Orphan;
    step(&b, &mut kept, &()).await;
    let msg = clean(&b, &mut kept).await;
    assert!(msg.contains("orphaned"), "{msg}");
    let tags = &b.admin.get(&scope_id("s6")).unwrap()["tags"];
    assert_eq!(tags.get("arclink-owner"), None);
    assert_eq!(tags["team"], "platform");

    // A scope owned by someone else is never deleted.
    let mut foreign = scope("s6");
    foreign.metadata.namespace = Some("elsewhere".into());
    b.admin
        .patch_out_of_band(
            &scope_id("s6"),
            json!({"tags": {"arclink-owner": "c/ns/ArcPrivateLinkScope/other"}}),
        )
        .unwrap();
    let msg = clean(&b, &mut foreign).await;
    assert!(msg.contains("left in Azure"), "{msg}");
    assert!(b.admin.get(&scope_id("s6")).is_some());
}

#[tokio::test]
async fn suspended_objects_make_no_arm_calls() {
    let b = Bed::new().await;
    let mut obj = scope("s7");
    obj.spec.common.suspend = true;
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().total(), 0);
    assert_eq!(reason(&obj, READY), "Suspended");
}

#[tokio::test]
async fn terminal_arm_errors_stall_with_the_arm_code_verbatim() {
    let b = Bed::new().await;
    let mut obj = scope("s8");
    obj.spec.azure.resource_group = "rg-missing".into();
    let out = step(&b, &mut obj, &()).await;
    let stalled = find(&obj.status.as_ref().unwrap().common.conditions, STALLED)
        .unwrap()
        .clone();
    assert_eq!(stalled.status, "True");
    assert_eq!(stalled.reason, "ResourceGroupNotFound");
    assert!(
        stalled.message.starts_with("ResourceGroupNotFound: "),
        "{}",
        stalled.message
    );
    assert!(
        matches!(out.requeue, Requeue::After(d) if d >= Duration::from_secs(500)),
        "terminal errors do not hot-loop"
    );
}

#[tokio::test]
async fn throttling_reports_reconciling_then_succeeds() {
    let b = Bed::new().await;
    let mut obj = scope("s9");
    b.admin.inject(
        Fault::status(429)
            .times(1)
            .retry_after(3)
            .path_contains("/privateLinkScopes/"),
    );
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(reason(&obj, RECONCILING), "Throttled");
    assert!(is_true(
        &obj.status.as_ref().unwrap().common.conditions,
        RECONCILING
    ));
    assert_eq!(out.requeue, Requeue::After(Duration::from_secs(3)));
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
}

#[tokio::test]
async fn transient_errors_back_off() {
    let b = Bed::new().await;
    let mut obj = scope("s10");
    b.admin.inject(
        Fault::status(503)
            .times(1)
            .path_contains("/privateLinkScopes/"),
    );
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(out.requeue, Requeue::Backoff);
    assert!(!ready(&obj));
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj));
}

#[tokio::test]
async fn dry_run_reports_the_change_without_writing() {
    let mut b = Bed::new().await;
    b.settings.dry_run = true;
    let mut obj = scope("s11");
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(out.changes[0].action, ChangeAction::Create);
    assert!(b.admin.get(&scope_id("s11")).is_none());
}

/// Behaviour 10 of reference/arm-behaviours.md: the ARM code, not only the status, decides
/// whether a failure needs a person (Stalled, with the code) or will pass (Reconciling).
#[tokio::test]
async fn arm_error_codes_decide_between_stalled_and_reconciling() {
    let b = Bed::new().await;
    let cases: &[(u16, &str, bool)] = &[
        (409, "MissingSubscriptionRegistration", true),
        (409, "ScopeLocked", true),
        (409, "ResourceGroupBeingDeleted", true),
        (403, "RequestDisallowedByPolicy", true),
        (409, "QuotaExceeded", true),
        (400, "OperationNotAllowed", true),
        (409, "AnotherOperationInProgress", false),
        (409, "Conflict", false),
        (429, "RetryableError", false),
        (409, "CanceledAndSupersededDueToAnotherOperation", false),
    ];
    for (i, (status, code, stalls)) in cases.iter().enumerate() {
        let mut obj = scope(&format!("codes-{i}"));
        b.admin.inject(
            Fault::status(*status)
                .code(code)
                .message("as Azure says it")
                .method("PUT")
                .times(1),
        );
        step(&b, &mut obj, &()).await;
        let conds = &obj.status.as_ref().unwrap().common.conditions;
        let (t, expected_stall) = if *stalls {
            (STALLED, true)
        } else {
            (RECONCILING, false)
        };
        assert!(is_true(conds, t), "{code}: {conds:?}");
        assert_eq!(is_true(conds, STALLED), expected_stall, "{code}");
        assert_eq!(reason(&obj, t), *code);
        let message = &find(conds, t).unwrap().message;
        assert!(
            message.starts_with(&format!("{code}: as Azure says it")),
            "{code}: {message}"
        );
        if !stalls {
            step(&b, &mut obj, &()).await;
            assert!(ready(&obj), "{code}: recovers once the error passes");
        }
    }
}

/// Behaviour 14: a server default of a newer api-version (`serviceExtensions`) is not drift,
/// and a GET-modify-PUT carries back what someone else set there.
#[tokio::test]
async fn server_defaults_are_not_drift_and_survive_an_update() {
    let b = Bed::new().await;
    let mut obj = scope("s-ext");
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj));
    assert_eq!(
        b.admin.get(&scope_id("s-ext")).unwrap()["properties"]["serviceExtensions"][0]["serviceExtensionPublicNetworkAccess"],
        "Enabled",
        "the server default"
    );
    b.admin
        .patch_out_of_band(
            &scope_id("s-ext"),
            json!({"properties": {"serviceExtensions": [{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled"}]}}),
        )
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0, "not drift");
    assert_eq!(reason(&obj, DRIFTED), "Succeeded");

    obj.spec.public_network_access = arclink::api::scope::PublicNetworkAccess::Enabled;
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj));
    let azure = b.admin.get(&scope_id("s-ext")).unwrap();
    assert_eq!(azure["properties"]["publicNetworkAccess"], "Enabled");
    assert_eq!(
        azure["properties"]["serviceExtensions"][0]["serviceExtensionPublicNetworkAccess"],
        "Disabled",
        "the PUT (with the newest api-version) carried it back"
    );
}

fn sql(access: PublicNetworkAccess) -> ServiceExtension {
    ServiceExtension {
        type_: "SQL".into(),
        public_network_access: access,
    }
}

fn extensions(b: &Bed, name: &str) -> serde_json::Value {
    b.admin.get(&scope_id(name)).unwrap()["properties"]["serviceExtensions"].clone()
}

/// `spec.serviceExtensions` is written on create, diffed field by field like
/// `publicNetworkAccess` (corrected under `Correct`, reported under `Report`), and extensions
/// the spec does not list are carried back untouched.
#[tokio::test]
async fn declared_service_extensions_are_created_diffed_and_corrected() {
    let b = Bed::new().await;
    let mut obj = scope("s-sql");
    obj.spec.service_extensions = vec![sql(PublicNetworkAccess::Disabled)];
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        extensions(&b, "s-sql"),
        json!([{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled"}])
    );

    // Steady state: nothing to write.
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);

    // Someone enables SQL's public access and adds another extension in the portal.
    b.admin
        .patch_out_of_band(
            &scope_id("s-sql"),
            json!({"properties": {"serviceExtensions": [
                {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"},
                {"serviceExtensionType": "sql", "serviceExtensionPublicNetworkAccess": "Enabled"}
            ]}}),
        )
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    let c = b.admin.counters();
    assert_eq!((c.count("PUT"), c.count("PATCH")), (1, 0));
    let path = "properties.serviceExtensions[SQL].serviceExtensionPublicNetworkAccess";
    assert_eq!(out.changes[0].diff.len(), 1, "{:?}", out.changes);
    assert_eq!(
        (
            out.changes[0].diff[0].path.as_str(),
            out.changes[0].diff[0].desired.as_str(),
            out.changes[0].diff[0].actual.as_str()
        ),
        (path, "Disabled", "Enabled")
    );
    assert_eq!(reason(&obj, DRIFTED), "DriftCorrected");
    assert_eq!(
        extensions(&b, "s-sql"),
        json!([
            {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"},
            {"serviceExtensionType": "sql", "serviceExtensionPublicNetworkAccess": "Disabled"}
        ]),
        "the undeclared extension is left as it was"
    );

    // Report: the difference is listed, nothing is written.
    obj.spec.common.policy.drift = DriftPolicy::Report;
    obj.metadata.generation = Some(2);
    b.admin
        .patch_out_of_band(
            &scope_id("s-sql"),
            json!({"properties": {"serviceExtensions": [{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Enabled"}]}}),
        )
        .unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(out.changes.is_empty());
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
    let drift = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (drift[0].path.as_str(), drift[0].actual.as_str()),
        (path, "Enabled")
    );
    assert!(ready(&obj), "Report keeps Ready");
}

/// Without `spec.serviceExtensions`, Azure's extensions are neither drift nor written, even
/// when another field is corrected with a PUT.
#[tokio::test]
async fn absent_service_extensions_leave_azure_as_it_is() {
    let b = Bed::new().await;
    let mut obj = scope("s-none");
    step(&b, &mut obj, &()).await;
    let theirs = json!([
        {"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled"},
        {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"}
    ]);
    b.admin
        .patch_out_of_band(
            &scope_id("s-none"),
            json!({"properties": {"serviceExtensions": theirs, "publicNetworkAccess": "Enabled"}}),
        )
        .unwrap();
    let out = step(&b, &mut obj, &()).await;
    assert!(
        out.drift
            .corrected
            .iter()
            .all(|e| !e.path.contains("serviceExtensions")),
        "{:?}",
        out.drift
    );
    assert_eq!(extensions(&b, "s-none"), theirs);
    assert_eq!(
        b.admin.get(&scope_id("s-none")).unwrap()["properties"]["publicNetworkAccess"],
        "Disabled"
    );
}

/// With a HybridCompute api-version that does not know `serviceExtensions`, a declared entry
/// cannot be written: the scope is Stalled (and the difference reported) instead of PUT again
/// on every drift check.
#[tokio::test]
async fn an_api_version_without_service_extensions_stalls_instead_of_looping() {
    let b = Bed::new()
        .client(|o| {
            o.api_versions = arclink::azure::ApiVersions {
                hybrid_compute: Some("2024-07-10".into()),
                ..Default::default()
            }
        })
        .await;
    let mut obj = scope("s-old");
    obj.spec.service_extensions = vec![sql(PublicNetworkAccess::Disabled)];
    step(&b, &mut obj, &()).await;
    assert!(
        is_true(&obj.status.as_ref().unwrap().common.conditions, STALLED),
        "{:?}",
        obj.status
    );
    assert_eq!(reason(&obj, STALLED), "ServiceExtensionsNotApplied");
    let message = &find(&obj.status.as_ref().unwrap().common.conditions, STALLED)
        .unwrap()
        .message;
    assert!(message.contains("spec.serviceExtensions"), "{message}");
    assert!(message.contains("2026-09-01"), "{message}");
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
}

/// Issue 20, item 8: the onboarding commands carry the tenant of the subscription the machines
/// onboard into (`spec.onboarding.subscriptionId`), not the scope's; it is read again when the
/// spec changes, and not on every reconcile.
#[tokio::test]
async fn the_onboarding_tenant_is_the_machines_subscriptions() {
    const MACHINES_SUB: &str = "99999999-8888-7777-6666-555555555555";
    const MACHINES_TENANT: &str = "0f0e0d0c-0b0a-0908-0706-050403020100";
    let b = Bed::new()
        .fixtures(&format!(
            "subscriptions: [{{id: {MACHINES_SUB}, displayName: servers, tenantId: {MACHINES_TENANT}}}]"
        ))
        .start()
        .await;
    let scope_tenant = b
        .admin
        .get(&format!("/subscriptions/{}", crate::common::fixtures::SUB))
        .unwrap()["tenantId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(scope_tenant, MACHINES_TENANT);
    let tenant = |obj: &ArcPrivateLinkScope| obj.status.as_ref().unwrap().tenant_id.clone();
    let mut obj = scope("s1");
    obj.spec.onboarding = Some(arclink::api::scope::Onboarding {
        config_map_name: "arc-onboarding".into(),
        subscription_id: Some(MACHINES_SUB.into()),
        ..Default::default()
    });
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(tenant(&obj).as_deref(), Some(MACHINES_TENANT));

    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(
        b.admin
            .counters()
            .count_for("GET", "Microsoft.Resources/subscriptions"),
        0,
        "kept in status while the spec is unchanged"
    );
    assert_eq!(tenant(&obj).as_deref(), Some(MACHINES_TENANT));

    // The machines move to the scope's subscription: the tenant follows.
    obj.spec.onboarding.as_mut().unwrap().subscription_id = None;
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &()).await;
    assert_eq!(tenant(&obj), Some(scope_tenant));
}

/// Issue 22 items 5 and 6, for objects the API server stored before the CRD refused them: a
/// scope listing one extension type twice (without case), or whose resource group or name is
/// outside Azure's rules (a path step), stalls `InvalidSpec` naming the field and sends nothing.
#[tokio::test]
async fn invalid_names_and_repeated_extensions_stored_earlier_stall_without_a_request() {
    let b = Bed::new().await;
    let mut twice = scope("s-twice");
    let mut lower = sql(PublicNetworkAccess::Enabled);
    lower.type_ = "sql".into();
    twice.spec.service_extensions = vec![sql(PublicNetworkAccess::Disabled), lower];
    let mut dot = scope("s-dot");
    dot.spec.azure.name = Some(".".into());
    dot.spec.common.policy.adopt = true;
    let mut group = scope("s-group");
    group.spec.azure.resource_group = "..".into();
    for (mut obj, field) in [
        (twice, "spec.serviceExtensions"),
        (dot, "spec.azure.name"),
        (group, "spec.azure.resourceGroup"),
    ] {
        b.admin.reset_counters();
        step(&b, &mut obj, &()).await;
        assert_eq!(b.admin.counters().total(), 0, "{field}");
        let stalled = find(&obj.status.as_ref().unwrap().common.conditions, STALLED)
            .unwrap()
            .clone();
        assert_eq!(
            (stalled.status.as_str(), stalled.reason.as_str()),
            ("True", "InvalidSpec")
        );
        assert!(stalled.message.contains(field), "{}", stalled.message);
    }
}
