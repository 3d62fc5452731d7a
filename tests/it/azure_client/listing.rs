//! Issue 22, item 3: a listing is bounded (pages, items, time spent reading) and fails as
//! `InvalidResponse` beyond; `plan --timeout` bounds the whole plan.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arclink::azure::{ArmClient, ArmError, CollectionId, ListLimits, ResourceId, RetryPolicy};
use futures::TryStreamExt;

use super::server::{Server, json, serve};

const SUB: &str = "11111111-2222-3333-4444-555555555555";

fn machines() -> CollectionId {
    CollectionId::new(
        &ResourceId::resource_group_id(SUB, "rg-servers"),
        "Microsoft.HybridCompute/machines",
    )
}

/// A provider whose every page of machines carries `per_page` items and a new `nextLink`;
/// the second value counts the pages served.
async fn endless(per_page: usize) -> (Server, Arc<AtomicUsize>) {
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let pages = Arc::new(AtomicUsize::new(0));
    let (base, served) = (endpoint.clone(), pages.clone());
    let server = serve(Arc::new(move |_, path| {
        if !path.contains("/machines") {
            return json(404, serde_json::json!({"error": {"code": "NotFound", "message": "no"}}));
        }
        let n = served.fetch_add(1, Ordering::SeqCst) + 1;
        let items: Vec<_> = (0..per_page)
            .map(|i| serde_json::json!({"name": format!("m-{n}-{i}")}))
            .collect();
        let base = base.get().cloned().unwrap_or_default();
        json(
            200,
            serde_json::json!({
                "value": items,
                "nextLink": format!("{base}/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines?api-version=2026-09-01&$skipToken={n}")
            }),
        )
    }))
    .await;
    endpoint.set(server.endpoint.clone()).unwrap();
    (server, pages)
}

fn client(server: &Server, limits: ListLimits) -> ArmClient {
    let mut options = server.options(RetryPolicy::default());
    options.list_limits = limits;
    ArmClient::new(options).unwrap()
}

async fn list_all(arm: &ArmClient) -> Result<Vec<serde_json::Value>, ArmError> {
    arm.list(&machines()).try_collect().await
}

/// The probe: every page a new `nextLink` and no items (1,708 pages in 75 s, then killed).
#[tokio::test]
async fn empty_pages_without_end_stop_at_the_page_bound() {
    let (server, pages) = endless(0).await;
    let limits = ListLimits {
        max_pages: 40,
        ..ListLimits::default()
    };
    let err = list_all(&client(&server, limits)).await.unwrap_err();
    let ArmError::InvalidResponse(message) = &err else {
        panic!("{err:?}");
    };
    assert!(message.contains("more than 40 pages"), "{message}");
    assert!(
        message.contains("list /subscriptions/") && message.contains("/machines"),
        "names the listing: {message}"
    );
    assert_eq!(pages.load(Ordering::SeqCst), 40, "read up to the bound");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_listing_of_more_items_than_the_bound_is_an_error() {
    let (server, pages) = endless(10).await;
    let limits = ListLimits {
        max_items: 25,
        ..ListLimits::default()
    };
    let err = list_all(&client(&server, limits)).await.unwrap_err();
    assert!(
        matches!(&err, ArmError::InvalidResponse(m) if m.contains("more than 25 items")),
        "{err:?}"
    );
    assert_eq!(pages.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_listing_whose_pages_keep_coming_ends_at_its_reading_time() {
    let (server, _) = endless(1).await;
    let limits = ListLimits {
        max_reading: Duration::from_millis(300),
        ..ListLimits::default()
    };
    let started = Instant::now();
    let err = list_all(&client(&server, limits)).await.unwrap_err();
    assert!(
        matches!(&err, ArmError::InvalidResponse(m) if m.contains("pages still coming after 300ms")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A listing exactly at its bounds is whole: the bounds are "more than", and a last page
/// (without `nextLink`) is always read.
#[tokio::test]
async fn a_listing_within_its_bounds_is_read_whole() {
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let base = endpoint.clone();
    let server = serve(Arc::new(move |_, path| {
        let page: usize = path
            .split("$skipToken=")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let next = (page < 5).then(|| {
            format!(
                "{}/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines?$skipToken={}",
                base.get().cloned().unwrap_or_default(),
                page + 1
            )
        });
        json(
            200,
            serde_json::json!({"value": [{"name": format!("m{page}a")}, {"name": format!("m{page}b")}], "nextLink": next}),
        )
    }))
    .await;
    endpoint.set(server.endpoint.clone()).unwrap();
    let limits = ListLimits {
        max_pages: 5,
        max_items: 10,
        ..ListLimits::default()
    };
    let all = list_all(&client(&server, limits)).await.unwrap();
    assert_eq!(all.len(), 10);
}

/// `plan --timeout` bounds the whole plan as `apply --timeout` bounds apply: an association
/// whose machine listing never ends (within the default bounds, it would take minutes) is
/// reported as an error, exit code 1.
#[tokio::test]
async fn plan_timeout_ends_a_listing_without_end_with_exit_1() {
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let base = endpoint.clone();
    let scope = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/arc-scope"
    );
    let scope_id = scope.clone();
    let pages = Arc::new(AtomicUsize::new(0));
    let served = pages.clone();
    let server = serve(Arc::new(move |method, path| {
        let base = base.get().cloned().unwrap_or_default();
        if method == "POST" && path.contains("/oauth2/v2.0/token") {
            return json(
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "t"}),
            );
        }
        if path.starts_with(&format!("{scope_id}?")) {
            return json(
                200,
                serde_json::json!({"id": scope_id, "name": "arc-scope", "location": "eastus",
                    "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Disabled"}}),
            );
        }
        if path.contains("/machines") {
            let n = served.fetch_add(1, Ordering::SeqCst);
            return json(
                200,
                serde_json::json!({"value": [], "nextLink": format!("{base}/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines?$skipToken={n}")}),
            );
        }
        json(404, serde_json::json!({"error": {"code": "NotFound", "message": "no"}}))
    }))
    .await;
    endpoint.set(server.endpoint.clone()).unwrap();

    let dir = std::env::temp_dir().join(format!("arclink-plan-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("association.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: arclink.io/v1alpha1\nkind: ArcServerAssociation\nmetadata: {{name: fleet, namespace: default}}\nspec:\n  scopeId: {scope}\n  machines:\n    subscriptionId: {SUB}\n    resourceGroup: rg-servers\n    tagSelector: {{fleet: blue}}\n"
        ),
    )
    .unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_arclink"));
    cmd.args(["plan", "-f"])
        .arg(&manifest)
        .args(["--arm-endpoint", &server.endpoint])
        .args(["--authority-host", &server.endpoint])
        .arg("--arm-ca-file")
        .arg(&ca)
        .args(["--timeout", "3s", "-o", "json"])
        .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
        .env("AZURE_CLIENT_ID", "arclink-test")
        .env("AZURE_CLIENT_SECRET", "not-a-secret");
    for (k, _) in std::env::vars() {
        if k.starts_with("ARCLINK_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("plan --timeout 3s did not end within a minute")
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let object = &plan["objects"][0];
    assert_eq!(object["action"], "error", "{plan:#}");
    assert_eq!(object["reason"], "TimedOut", "{plan:#}");
    assert!(
        object["message"]
            .as_str()
            .is_some_and(|m| m.contains("--timeout ran out")),
        "{plan:#}"
    );
    assert!(
        pages.load(Ordering::SeqCst) > 1,
        "the listing was under way"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
