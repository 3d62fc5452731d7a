//! The controller layer (finalizer, credentials, status, events) without a cluster: the
//! Kubernetes API is a `tower_test` mock scripted by each test, Azure is the in-process emulator.

pub mod support;

mod notices;

use std::sync::Arc;

use arclink::api::{ArcPrivateLinkScope, CredentialRef, FINALIZER};
use arclink::controller::kind;
use arclink::emulator::PrincipalFixture;
use http::Method;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use serde_json::json;
use support::{
    Bed, condition, expect_event, expect_secret, expect_status_apply, object_path, scope, scope_id,
    secret, with_finalizer, with_status,
};

fn spawn(
    b: &Bed,
    obj: ArcPrivateLinkScope,
) -> tokio::task::JoinHandle<Result<Action, arclink::controller::Error>> {
    tokio::spawn(kind::reconcile::<ArcPrivateLinkScope>(
        Arc::new(obj),
        b.ctx.clone(),
    ))
}

#[tokio::test]
async fn finalizer_is_added_before_any_azure_call() {
    let mut b = Bed::new().await;
    let obj = scope("s1");
    let task = spawn(&b, obj.clone());

    let call = b.api.expect(Method::PATCH, &object_path("s1")).await;
    assert_eq!(call.content_type, "application/json-patch+json");
    assert_eq!(
        call.body,
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    );
    assert_eq!(
        b.admin.counters().total(),
        0,
        "Azure was called before the finalizer was in place"
    );
    call.ok(&serde_json::to_value(with_finalizer(obj)).unwrap());

    let action = b.api.finish(task).await.unwrap();
    assert_eq!(action, Action::await_change());
    assert_eq!(b.admin.counters().total(), 0);
}

#[tokio::test]
async fn creates_in_azure_then_applies_status_and_publishes_ready_once() {
    let mut b = Bed::new().await;
    let obj = with_finalizer(scope("s1"));
    let task = spawn(&b, obj.clone());

    // No credentialRef and no arclink-credential Secret: the controller's own identity.
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    let c = b.admin.counters();
    assert_eq!(
        c.count_for("PUT", "Microsoft.HybridCompute/privateLinkScopes"),
        1,
        "the scope is created before its status is written: {:?}",
        c.to_json()
    );
    assert!(b.admin.get(&scope_id("s1")).is_some());
    let ready = condition(&status, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("True"), &json!("Succeeded"))
    );
    assert_eq!(ready["observedGeneration"], 1);
    assert_eq!(status["observedGeneration"], 1);
    assert!(
        status["resourceId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&scope_id("s1"))
    );
    assert_eq!(status["privateLinkScopeId"].as_str().unwrap().len(), 36);
    assert_eq!(condition(&status, "Stalled")["status"], "False");

    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["reason"], "Succeeded");
    assert_eq!(event["action"], "Reconcile");

    let action = b.api.finish(task).await.unwrap();
    assert_ne!(
        action,
        Action::await_change(),
        "a ready scope is re-read for drift"
    );

    // The same object carrying that status: one ARM read, no status write, no event.
    let obj = with_status(&obj, &status);
    b.admin.reset_counters();
    let task = spawn(&b, obj);
    expect_secret(&mut b.api, "arclink-credential", None).await;
    b.api.finish(task).await.unwrap();
    let c = b.admin.counters();
    assert_eq!((c.count("GET"), c.writes()), (1, 0), "{:?}", c.to_json());
}

#[tokio::test]
async fn deletion_removes_the_scope_then_the_finalizer() {
    let mut b = Bed::new().await;
    let obj = with_finalizer(scope("s1"));
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    expect_event(&mut b.api, "s1").await;
    b.api.finish(task).await.unwrap();
    assert!(b.admin.get(&scope_id("s1")).is_some());

    let mut obj = with_status(&obj, &status);
    obj.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    b.admin.reset_counters();

    // ARM answers the DELETE with 202: the operation goes into status, the finalizer stays.
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(b.admin.counters().count("DELETE"), 1);
    assert_eq!(status["operation"]["action"], "Deleting");
    let ready = condition(&status, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("False"), &json!("Deleting"))
    );
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Normal"), &json!("Deleting"))
    );
    assert!(matches!(
        b.api.finish(task).await,
        Err(arclink::controller::Error::CleanupPending(_))
    ));

    // The next look finds the operation finished.
    let obj = with_status(&obj, &status);
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let call = b.api.next().await;
    assert!(
        b.admin.get(&scope_id("s1")).is_none(),
        "scope still in Azure"
    );
    assert_eq!(b.admin.counters().count("DELETE"), 1);

    // The Deleted event, then the finalizer goes.
    assert_eq!(
        (&call.method, call.path.as_str()),
        (&Method::POST, support::EVENTS)
    );
    assert_eq!(call.body["reason"], "Deleted");
    let body = call.body.clone();
    call.respond(201, &body);
    let call = b.api.expect(Method::PATCH, &object_path("s1")).await;
    assert_eq!(call.content_type, "application/json-patch+json");
    assert_eq!(
        call.body,
        json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": FINALIZER},
            {"op": "remove", "path": "/metadata/finalizers/0"},
        ])
    );
    let mut gone = obj.clone();
    gone.metadata.finalizers = None;
    call.ok(&serde_json::to_value(gone).unwrap());
    assert_eq!(b.api.finish(task).await.unwrap(), Action::await_change());
}

#[tokio::test]
async fn missing_credential_secret_stalls_without_azure_calls_until_it_exists() {
    let principal = PrincipalFixture {
        tenant_id: "tenant-1".into(),
        client_id: "app-1".into(),
        client_secret: Some("s3cret-value".into()),
    };
    let mut b = Bed::new()
        .edit_fixtures(|f| f.principals = vec![principal])
        .await;
    let mut obj = with_finalizer(scope("s1"));
    obj.spec.common.credential_ref = Some(CredentialRef {
        name: "azure-creds".into(),
    });

    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "azure-creds", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    let stalled = condition(&status, "Stalled");
    assert_eq!(
        (&stalled["status"], &stalled["reason"]),
        (&json!("True"), &json!("CredentialsNotFound"))
    );
    assert!(
        stalled["message"].as_str().unwrap().contains("azure-creds"),
        "{stalled}"
    );
    assert_eq!(condition(&status, "Ready")["status"], "False");
    assert!(
        status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] != "Drifted"),
        "Azure was not read, so nothing can be said about drift: {status}"
    );
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Warning"), &json!("CredentialsNotFound"))
    );
    let action = b.api.finish(task).await.unwrap();
    assert_ne!(
        action,
        Action::await_change(),
        "the Secret is looked up again"
    );
    assert_eq!(
        b.admin.counters().total(),
        0,
        "no ARM call without credentials"
    );

    // The Secret appears with a principal the emulator accepts (the controller's own identity
    // would be refused, so success proves the Secret was used).
    let obj = with_status(&obj, &status);
    let creds = secret(
        "azure-creds",
        &[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "app-1"),
            ("AZURE_CLIENT_SECRET", "s3cret-value"),
        ],
    );
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "azure-creds", Some(&creds)).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    let ready = condition(&status, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("True"), &json!("Succeeded"))
    );
    assert_eq!(condition(&status, "Stalled")["status"], "False");
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Normal"), &json!("Succeeded"))
    );
    b.api.finish(task).await.unwrap();
    assert!(b.admin.get(&scope_id("s1")).is_some());
}

#[tokio::test]
async fn run_refuses_a_ca_file_that_holds_no_certificate() {
    let dir = std::env::temp_dir().join(format!("arclink-ca-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // A syntactically valid kubeconfig for an API server nobody listens on.
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n",
    )
    .unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_arclink"))
        .args(["run", "--metrics-addr", "127.0.0.1:0", "--arm-ca-file"])
        .arg(&ca)
        .env("KUBECONFIG", &kubeconfig)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .expect("arclink run kept running with an unusable --arm-ca-file")
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--arm-ca-file"), "{stderr}");
}

#[tokio::test]
async fn an_unreadable_credential_secret_is_retried_not_replaced_by_the_controller_identity() {
    let mut b = Bed::new().await;
    let obj = with_finalizer(scope("s1"));

    // The API server fails the lookup: no status, no Azure call, an error for the backoff.
    let task = spawn(&b, obj.clone());
    let call = b
        .api
        .expect(
            Method::GET,
            "/api/v1/namespaces/ns/secrets/arclink-credential",
        )
        .await;
    call.respond(
        500,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "etcdserver: request timed out", "reason": "InternalError", "code": 500}),
    );
    let err = b.api.finish(task).await.unwrap_err();
    assert!(
        matches!(err, arclink::controller::Error::CredentialsUnavailable(ref m) if m.contains("ns/arclink-credential")),
        "{err}"
    );
    assert_eq!(b.admin.counters().total(), 0);

    // No permission to read Secrets in the namespace: the controller's own identity.
    let task = spawn(&b, obj.clone());
    let call = b
        .api
        .expect(
            Method::GET,
            "/api/v1/namespaces/ns/secrets/arclink-credential",
        )
        .await;
    call.respond(
        403,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "secrets \"arclink-credential\" is forbidden", "reason": "Forbidden", "code": 403}),
    );
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(condition(&status, "Ready")["status"], "True");
    expect_event(&mut b.api, "s1").await;
    b.api.finish(task).await.unwrap();
}

/// Creates `name` through the controller and returns the object carrying its Ready status.
async fn created(b: &mut Bed, obj: ArcPrivateLinkScope) -> ArcPrivateLinkScope {
    let task = spawn(b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    expect_event(&mut b.api, &obj.metadata.name.clone().unwrap()).await;
    b.api.finish(task).await.unwrap();
    with_status(&obj, &status)
}

#[tokio::test]
async fn corrected_drift_is_announced_by_one_normal_event() {
    let mut b = Bed::new().await;
    let obj = created(&mut b, with_finalizer(scope("s1"))).await;
    b.enable_public_access("s1");

    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    let drifted = condition(&status, "Drifted");
    assert_eq!(
        (&drifted["status"], &drifted["reason"]),
        (&json!("False"), &json!("DriftCorrected"))
    );
    assert_eq!(condition(&status, "Ready")["status"], "True");
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Normal"), &json!("DriftCorrected"))
    );
    assert!(
        event["note"]
            .as_str()
            .unwrap()
            .contains("publicNetworkAccess"),
        "{event}"
    );
    b.api.finish(task).await.unwrap();
    assert_eq!(
        b.admin.get(&scope_id("s1")).unwrap()["properties"]["publicNetworkAccess"],
        "Disabled"
    );
}

#[tokio::test]
async fn reported_drift_is_a_warning_and_azure_is_left_alone() {
    let mut b = Bed::new().await;
    // Created in Correct mode, then switched to Report (Report never creates anything).
    let mut obj = created(&mut b, with_finalizer(scope("s1"))).await;
    obj.spec.common.policy.drift = arclink::api::DriftPolicy::Report;
    obj.metadata.generation = Some(2);
    b.enable_public_access("s1");
    b.admin.reset_counters();

    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(condition(&status, "Drifted")["status"], "True");
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(condition(&status, "Drifted")["observedGeneration"], 2);
    assert_eq!(status["drift"][0]["path"], "properties.publicNetworkAccess");
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Warning"), &json!("DriftDetected"))
    );
    b.api.finish(task).await.unwrap();
    assert_eq!(b.admin.counters().writes(), 0);

    // Still drifted on the next look: no new status, no new event.
    let obj = with_status(&obj, &status);
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    b.api.finish(task).await.unwrap();

    // The credentials go away: Azure is not read, so the drift report stays as it was.
    let mut obj = obj;
    obj.spec.common.credential_ref = Some(CredentialRef {
        name: "gone".into(),
    });
    obj.metadata.generation = Some(3);
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "gone", None).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(
        condition(&status, "Stalled")["reason"],
        "CredentialsNotFound"
    );
    let drifted = condition(&status, "Drifted");
    assert_eq!(
        (&drifted["status"], &drifted["reason"]),
        (&json!("True"), &json!("DriftDetected"))
    );
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(event["reason"], "CredentialsNotFound");
    b.api.finish(task).await.unwrap();
}

#[tokio::test]
async fn suspended_objects_make_no_azure_call_and_wait_for_a_change() {
    let mut b = Bed::new().await;
    let mut obj = with_finalizer(scope("s1"));
    obj.spec.common.suspend = true;
    let task = spawn(&b, obj.clone());
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(condition(&status, "Ready")["reason"], "Suspended");
    assert_eq!(condition(&status, "Stalled")["status"], "False");
    let event = expect_event(&mut b.api, "s1").await;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Normal"), &json!("Suspended"))
    );
    assert_eq!(b.api.finish(task).await.unwrap(), Action::await_change());
    assert_eq!(b.admin.counters().total(), 0);
}

#[tokio::test]
async fn no_event_for_a_status_the_api_server_refused() {
    let mut b = Bed::new().await;
    let obj = with_finalizer(scope("s1"));
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let call = b
        .api
        .expect(Method::PATCH, &format!("{}/status", object_path("s1")))
        .await;
    call.respond(
        409,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "the object has been modified", "reason": "Conflict", "code": 409}),
    );
    // finish() fails on any further request, an Event included.
    let err = b.api.finish(task).await.unwrap_err();
    assert!(matches!(err, arclink::controller::Error::Kube(_)), "{err}");
}

/// `spec.onboarding`: once the scope exists, the controller writes the ConfigMap with the
/// connect commands (owned by the scope, labelled, the tenant read from the subscription),
/// then only reads it while nothing changes; one it does not own stalls the scope.
#[tokio::test]
async fn onboarding_config_map_is_written_with_the_connect_commands() {
    let mut b = Bed::new().await;
    let mut obj = with_finalizer(scope("s1"));
    obj.spec.onboarding = Some(arclink::api::scope::Onboarding {
        config_map_name: "arc-onboarding".into(),
        ..Default::default()
    });
    let config_map = format!(
        "/api/v1/namespaces/{}/configmaps/arc-onboarding",
        support::NS
    );
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    b.api
        .expect(Method::GET, &config_map)
        .await
        .not_found("configmaps", "arc-onboarding");
    let call = b.api.expect(Method::PATCH, &config_map).await;
    assert_eq!(call.content_type, "application/apply-patch+yaml");
    assert!(call.has_param("fieldManager", "arclink"), "{}", call.query);
    let written = call.body.clone();
    call.ok(&written);
    assert!(
        b.admin.get(&scope_id("s1")).is_some(),
        "written after the scope exists"
    );
    let owner = &written["metadata"]["ownerReferences"][0];
    assert_eq!(
        (
            &owner["kind"],
            &owner["name"],
            &owner["uid"],
            &owner["controller"]
        ),
        (
            &json!("ArcPrivateLinkScope"),
            &json!("s1"),
            &json!("uid-s1"),
            &json!(true)
        )
    );
    assert_eq!(
        written["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "arclink"
    );
    // The emulator's subscriptions belong to its default tenant.
    let tenant = "00000000-0000-0000-0000-000000000000";
    let linux = written["data"]["connect-linux.sh"].as_str().unwrap();
    for expected in [
        "azcmagent connect \\\n".to_string(),
        "--service-principal-secret \"$SERVICE_PRINCIPAL_SECRET\"".to_string(),
        format!("TENANT_ID='{tenant}'"),
        "--location 'eastus'".to_string(),
        "--resource-group 'rg-arc'".to_string(),
        format!("--subscription-id '{}'", support::SUB),
        "--cloud 'AzureCloud'".to_string(),
        format!("--private-link-scope '{}'", scope_id("s1")),
    ] {
        assert!(linux.contains(&expected), "{expected}: {linux}");
    }
    let windows = written["data"]["connect-windows.ps1"].as_str().unwrap();
    assert!(windows.contains(&format!("--private-link-scope '{}'", scope_id("s1"))));
    assert!(
        written["data"]["README.md"]
            .as_str()
            .unwrap()
            .contains("1.4 or later")
    );
    let status = expect_status_apply(&mut b.api, &obj).await;
    assert_eq!(status["tenantId"], tenant);
    assert_eq!(condition(&status, "Ready")["status"], "True");
    expect_event(&mut b.api, "s1").await;
    b.api.finish(task).await.unwrap();

    // Steady state: the ConfigMap is read, not written; the tenant is not read again.
    let obj = with_status(&obj, &status);
    b.admin.reset_counters();
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    b.api.expect(Method::GET, &config_map).await.ok(&written);
    b.api.finish(task).await.unwrap();
    let c = b.admin.counters();
    assert_eq!((c.count("GET"), c.writes()), (1, 0), "{:?}", c.to_json());

    // A ConfigMap of that name that someone else owns is left alone; the scope is Stalled.
    let task = spawn(&b, obj.clone());
    expect_secret(&mut b.api, "arclink-credential", None).await;
    b.api.expect(Method::GET, &config_map).await.ok(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "arc-onboarding", "namespace": support::NS},
        "data": {"theirs": "x"}
    }));
    let status = expect_status_apply(&mut b.api, &obj).await;
    let stalled = condition(&status, "Stalled");
    assert_eq!(
        (&stalled["status"], &stalled["reason"]),
        (&json!("True"), &json!("ConfigMapOwnedElsewhere"))
    );
    assert!(
        stalled["message"]
            .as_str()
            .unwrap()
            .contains("spec.onboarding.configMapName"),
        "{stalled}"
    );
    expect_event(&mut b.api, "s1").await;
    b.api.finish(task).await.unwrap();
}
