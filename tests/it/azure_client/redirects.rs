//! Issue 22, item 2: ARM and Microsoft Entra ID do not redirect these calls, so no redirect is
//! followed. Each test has a second host (127.0.0.2, trusted through the same certificate) that
//! answers 200 to anything: were a redirect followed, the call would succeed there.

use std::sync::Arc;

use arclink::api::conditions::{READY, find};
use arclink::azure::credentials::CredentialSource;
use arclink::azure::transport::RedirectRefused;
use arclink::azure::{ArmClient, ArmClientOptions, ArmError, Cloud, CredentialCache, RetryPolicy};
use arclink::reconcile::{self, Settings};
use url::Url;

use super::hostile::scope;
use super::server::{Cert, Reply, Server, json, serve_on};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SECRET: &str = "client-secret-that-must-stay-home";

/// The host a redirect points at: answers 200 with a scope that looks created.
async fn elsewhere(cert: &Cert) -> Server {
    serve_on(
        "127.0.0.2",
        cert,
        Arc::new(|_, _| {
            json(
                200,
                serde_json::json!({
                    "id": scope().to_string(),
                    "name": "s",
                    "location": "eastus",
                    "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Disabled"}
                }),
            )
        }),
    )
    .await
}

/// ARM answering `status` with a `Location` on `to` (with a query that must not be repeated)
/// to every request of `method`; other requests get 404.
async fn redirecting(cert: &Cert, method: &'static str, status: u16, to: &Server) -> Server {
    let location = format!("{}/moved?sig=SIGNATURE-IN-QUERY", to.endpoint);
    serve_on(
        "127.0.0.1",
        cert,
        Arc::new(move |m, _| {
            if m == method {
                Reply::Full(status, vec![("location", location.clone())], Vec::new())
            } else {
                json(
                    404,
                    serde_json::json!({"error": {"code": "ResourceNotFound", "message": "no"}}),
                )
            }
        }),
    )
    .await
}

fn refused(err: &ArmError, status: u16) {
    let ArmError::InvalidResponse(message) = err else {
        panic!("a redirect must be an invalid response: {err:?}");
    };
    assert!(message.contains(&format!("HTTP {status}")), "{message}");
    assert!(message.contains("redirecting to 127.0.0.2"), "{message}");
    assert!(
        !message.contains("SIGNATURE-IN-QUERY") && !message.contains("/moved"),
        "the Location is named by its host only: {message}"
    );
}

#[tokio::test]
async fn a_redirected_put_is_an_error_and_the_scope_is_not_created() {
    let cert = Cert::new();
    let other = elsewhere(&cert).await;
    for status in [301, 302, 303, 307, 308] {
        let arm = redirecting(&cert, "PUT", status, &other).await;
        let client = arm.client(RetryPolicy::default());
        let body = serde_json::json!({"location": "eastus", "properties": {}});
        let err = client
            .put::<_, serde_json::Value>(&scope(), &body)
            .await
            .unwrap_err();
        refused(&err, status);
    }

    // Through the reconcile: `apply` printed `✓ Succeeded … created` with nothing in Azure.
    let arm = redirecting(&cert, "PUT", 307, &other).await;
    let client = arm.client(RetryPolicy::default());
    let mut obj = arclink::api::ArcPrivateLinkScope::new(
        "s",
        arclink::api::ArcPrivateLinkScopeSpec {
            azure: arclink::api::AzureResource {
                subscription_id: Some(scope().subscription().to_string()),
                resource_group: "rg".into(),
                name: None,
            },
            location: "eastus".into(),
            ..Default::default()
        },
    );
    obj.metadata.namespace = Some("ns".into());
    obj.metadata.generation = Some(1);
    let out = reconcile::reconcile(&client, &Settings::new("c"), &(), &obj, &()).await;
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    let ready = find(&out.status.common.conditions, READY).unwrap();
    assert_eq!(ready.reason, "InvalidResponse", "{ready:?}");
    assert!(ready.message.contains("HTTP 307"), "{ready:?}");
    assert_eq!(other.connections(), 0, "the other host was contacted");
}

#[tokio::test]
async fn a_redirected_get_is_not_trusted() {
    let cert = Cert::new();
    let other = elsewhere(&cert).await;
    for status in [302, 307] {
        let arm = redirecting(&cert, "GET", status, &other).await;
        let err = arm
            .client(RetryPolicy::default())
            .get::<serde_json::Value>(&scope())
            .await
            .unwrap_err();
        refused(&err, status);
        assert!(!err.is_retryable(), "{err:?}");
    }
    assert_eq!(other.connections(), 0, "the other host was contacted");
}

/// The token request carries the client secret in its body: a 307 would re-send it, body and
/// all, to the other host.
#[tokio::test]
async fn the_token_endpoint_redirecting_receives_nothing_more_and_the_other_host_nothing() {
    let cert = Cert::new();
    let other = elsewhere(&cert).await;
    let entra = redirecting(&cert, "POST", 307, &other).await;
    let url = Url::parse(&entra.endpoint).unwrap();
    let cloud = Cloud::custom("hostile", url.clone(), url, "https://management.azure.com");
    let source = CredentialSource::ClientSecret {
        tenant_id: TENANT.into(),
        client_id: "a1b2c3d4-0000-1111-2222-333344445555".into(),
        secret: SECRET.into(),
    };
    let credential = CredentialCache::new()
        .get_or_create(&source, &cloud, Some(&cert.pem))
        .unwrap();

    let err = credential
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .unwrap_err();
    let found = RedirectRefused::find(&err).expect("the refused redirect is the cause");
    assert_eq!(
        (found.status, found.location_host.as_str()),
        (307, "127.0.0.2")
    );

    let mut options = ArmClientOptions::new(credential);
    options.cloud = cloud;
    options.ca_pem = Some(cert.pem.clone());
    let err = ArmClient::new(options)
        .unwrap()
        .get::<serde_json::Value>(&scope())
        .await
        .unwrap_err();
    refused(&err, 307);
    assert!(!err.to_string().contains(SECRET), "{err}");
    assert_eq!(other.connections(), 0, "the other host was contacted");
    assert!(entra.requests() >= 2, "the token requests reached Entra");
}
