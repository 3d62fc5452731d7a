//! Issue 8: a full reconcile run (finalizer, create, steady state, delete) with a client-secret
//! credential from a Secret, logged at debug level for every target, never shows the secret or
//! a bearer token, while the lines do name the object.

use std::sync::Arc;

use arclink::api::{ArcPrivateLinkScope, CredentialRef};
use arclink::controller::kind;
use arclink::emulator::{Emulator, PrincipalFixture};
use arclink::telemetry::logging::{self, LogFormat};
use http::Method;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::common::fixtures::token;
use crate::controller::support::{
    Bed, expect_event, expect_secret, expect_status_apply, object_path, scope, scope_id, secret,
    with_finalizer, with_status,
};

const CLIENT_SECRET: &str = "Zx9-never-log-me-4711";

fn spawn(
    b: &Bed,
    obj: &ArcPrivateLinkScope,
    logs: &Dispatch,
) -> tokio::task::JoinHandle<Result<kube::runtime::controller::Action, arclink::controller::Error>>
{
    let fut = kind::reconcile::<ArcPrivateLinkScope>(Arc::new(obj.clone()), b.ctx.clone());
    tokio::spawn(fut.with_subscriber(logs.clone()))
}

/// The signature part every token of this emulator carries (its signing secret).
async fn token_signature(emu: &Emulator) -> String {
    let token = token(emu, "tenant-1", "app-1", CLIENT_SECRET).await;
    let signature = token.rsplit('.').next().unwrap().to_string();
    assert!(signature.len() >= 16, "{token}");
    signature
}

#[tokio::test]
async fn debug_logs_of_a_full_run_hold_no_secret_and_no_token() {
    let _one = super::ONE_AT_A_TIME.lock().await;
    super::capture_from_every_thread();
    let mut b = Bed::new()
        .edit_fixtures(|f| {
            f.principals = vec![PrincipalFixture {
                tenant_id: "tenant-1".into(),
                client_id: "app-1".into(),
                client_secret: Some(CLIENT_SECRET.into()),
            }]
        })
        .await;
    let (logs, buffer) = logging::capture(LogFormat::Json, "debug").unwrap();
    let creds = secret(
        "azure-creds",
        &[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "app-1"),
            ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ],
    );
    let mut obj = scope("logged-scope");
    obj.spec.common.credential_ref = Some(CredentialRef {
        name: "azure-creds".into(),
    });

    // Finalizer.
    let task = spawn(&b, &obj, &logs);
    let call = b
        .api
        .expect(Method::PATCH, &object_path("logged-scope"))
        .await;
    let obj = with_finalizer(obj);
    call.ok(&serde_json::to_value(&obj).unwrap());
    b.api.finish(task).await.unwrap();

    // Create.
    let task = spawn(&b, &obj, &logs);
    expect_secret(&mut b.api, "azure-creds", Some(&creds)).await;
    let status = expect_status_apply(&mut b.api, &obj).await;
    expect_event(&mut b.api, "logged-scope").await;
    b.api.finish(task).await.unwrap();
    assert!(b.admin.get(&scope_id("logged-scope")).is_some());

    // Steady state.
    let obj = with_status(&obj, &status);
    let task = spawn(&b, &obj, &logs);
    expect_secret(&mut b.api, "azure-creds", Some(&creds)).await;
    b.api.finish(task).await.unwrap();

    // Delete: 202, then the operation is found finished.
    let mut deleting = obj.clone();
    deleting.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    let task = spawn(&b, &deleting, &logs);
    expect_secret(&mut b.api, "azure-creds", Some(&creds)).await;
    let status = expect_status_apply(&mut b.api, &deleting).await;
    expect_event(&mut b.api, "logged-scope").await;
    assert!(b.api.finish(task).await.is_err());
    let deleting = with_status(&deleting, &status);
    let task = spawn(&b, &deleting, &logs);
    expect_secret(&mut b.api, "azure-creds", Some(&creds)).await;
    expect_event(&mut b.api, "logged-scope").await;
    let call = b
        .api
        .expect(Method::PATCH, &object_path("logged-scope"))
        .await;
    call.ok(&serde_json::to_value(&deleting).unwrap());
    b.api.finish(task).await.unwrap();
    assert!(b.admin.get(&scope_id("logged-scope")).is_none());

    let text = buffer.contents();
    let signature = token_signature(&b.emu).await;
    assert!(
        !text.contains(CLIENT_SECRET),
        "client secret logged:\n{text}"
    );
    assert!(!text.contains(&signature), "bearer token logged:\n{text}");
    let arm_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"ARM request\""))
        .collect();
    assert!(arm_lines.len() >= 4, "ARM requests not logged:\n{text}");
    for line in arm_lines {
        assert!(
            line.contains("\"object\":\"logged-scope\"")
                && line.contains("\"kind\":\"ArcPrivateLinkScope\"")
                && line.contains("\"namespace\":\"ns\""),
            "ARM request line without the object: {line}"
        );
        assert!(line.contains("request_id"), "{line}");
    }
}
