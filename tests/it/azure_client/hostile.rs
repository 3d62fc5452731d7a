//! The client against an HTTPS server that answers what ARM never should: bodies too large or
//! of the wrong shape, paging links that loop, throttling that never ends, absurd headers.
//! Each must end as an error (never a panic, a hang or an out-of-memory kill).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arclink::azure::retry_after::MAX_RETRY_AFTER;
use arclink::azure::{ArmClient, ArmError, CollectionId, ResourceId, RetryPolicy};
use futures::TryStreamExt;

use super::server::{Reply, Server, json, serve};

fn client(server: &Server, retry: RetryPolicy) -> ArmClient {
    server.client(retry)
}

pub fn scope() -> ResourceId {
    ResourceId::resource(
        "00000000-0000-0000-0000-000000000001",
        "rg",
        "Microsoft.HybridCompute",
        "privateLinkScopes",
        "s",
    )
}

/// Issue 13, item 14: a 200 MB answer once took the process to 436 MB; bodies are capped.
#[tokio::test]
async fn a_body_larger_than_the_cap_is_an_error() {
    let server = serve(Arc::new(|_, _| Reply::Huge(200 << 20))).await;
    let err = client(&server, RetryPolicy::default())
        .get::<serde_json::Value>(&scope())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ArmError::InvalidResponse(m) if m.contains("larger than 32 MiB")),
        "{err:?}"
    );
}

/// Issue 13, item 14: a provider whose `nextLink` leads back to a page already read would be
/// listed for ever.
#[tokio::test]
async fn a_next_link_that_repeats_is_an_error() {
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let seen = endpoint.clone();
    let server = serve(Arc::new(move |_, path| {
        let base = seen.get().cloned().unwrap_or_default();
        let page = if path.contains("page=2") { 1 } else { 2 };
        json(
            200,
            serde_json::json!({"value": [{"id": null}], "nextLink": format!("{base}/subscriptions/s/providers/Microsoft.HybridCompute/machines?api-version=x&page={page}")}),
        )
    }))
    .await;
    endpoint.set(server.endpoint.clone()).unwrap();
    let collection = CollectionId::new(
        &ResourceId::subscription_id("00000000-0000-0000-0000-000000000001"),
        "Microsoft.HybridCompute/machines",
    );
    let listed: Result<Vec<serde_json::Value>, _> = client(&server, RetryPolicy::default())
        .list(&collection)
        .try_collect()
        .await;
    let err = listed.unwrap_err();
    assert!(
        matches!(&err, ArmError::InvalidResponse(m) if m.contains("nextLink repeats")),
        "{err:?}"
    );
}

/// Issue 13, item 11: a body that does not decode is an error naming the field, not a
/// transient failure retried until the timeout.
#[tokio::test]
async fn a_body_of_the_wrong_shape_names_the_field() {
    let server = serve(Arc::new(|_, _| {
        json(
            200,
            serde_json::json!({"id": 5, "properties": {"publicNetworkAccess": "Disabled"}}),
        )
    }))
    .await;
    let err = client(&server, RetryPolicy::default())
        .get::<arclink::azure::models::PrivateLinkScope>(&scope())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ArmError::InvalidResponse(m) if m.contains("at id")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

/// Behaviour 11 and issue 13, item 1: absurd `Retry-After` values are clamped before they
/// become durations; behaviour 5 of the issue: one call never holds its caller longer than
/// its bound, however long the throttling lasts.
#[tokio::test]
async fn endless_throttling_and_absurd_retry_after_end_the_call_within_its_bound() {
    let server = serve(Arc::new(|_, path| {
        let header = if path.contains("absurd") {
            ("retry-after-ms", "1e300".to_string())
        } else {
            ("retry-after", "1".to_string())
        };
        Reply::Full(
            429,
            vec![header],
            br#"{"error":{"code":"SubscriptionRequestsThrottled","message":"slow down"}}"#.to_vec(),
        )
    }))
    .await;
    let retry = RetryPolicy {
        max_call_duration: Duration::from_secs(3),
        ..RetryPolicy::default()
    };
    let arm = client(&server, retry);
    let started = Instant::now();
    let err = arm.get::<serde_json::Value>(&scope()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, ArmError::Throttled { .. }), "{err:?}");
    assert!(
        took < Duration::from_secs(6),
        "10 retries of 1 s were allowed, the call bound is 3 s: {took:?}"
    );

    let absurd = scope().child("absurd", "x");
    let err = arm.get::<serde_json::Value>(&absurd).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(MAX_RETRY_AFTER));
}

/// Behaviour 12: since 2024 a subscription also has a global bucket shared by every principal;
/// when it is the lower of the two, the client paces itself by it.
#[tokio::test]
async fn the_global_rate_limit_header_lowers_the_bucket_too() {
    let server = serve(Arc::new(|_, _| {
        Reply::Full(
            200,
            vec![
                ("content-type", "application/json".into()),
                ("x-ms-ratelimit-remaining-subscription-reads", "240".into()),
                (
                    "x-ms-ratelimit-remaining-subscription-global-reads",
                    "3".into(),
                ),
            ],
            br#"{"id": null}"#.to_vec(),
        )
    }))
    .await;
    let arm = client(&server, RetryPolicy::default());
    arm.get::<serde_json::Value>(&scope()).await.unwrap();
    let buckets = arm.metrics().buckets();
    let reads = buckets
        .iter()
        .find(|b| b.class == arclink::azure::RequestClass::Reads)
        .unwrap();
    assert!(reads.tokens <= 3.5, "{reads:?}");
}
