//! The client against an HTTPS server that answers what ARM never should: bodies too large or
//! of the wrong shape, paging links that loop, throttling that never ends, absurd headers.
//! Each must end as an error (never a panic, a hang or an out-of-memory kill).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arclink::azure::retry_after::MAX_RETRY_AFTER;
use arclink::azure::{
    ArmClient, ArmClientOptions, ArmError, CollectionId, ResourceId, RetryPolicy,
    StaticTokenCredential,
};
use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// What the server answers for a request path.
type Answer = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

enum Reply {
    /// Status, headers, body.
    Full(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// 200 with a body of `n` bytes, streamed.
    Huge(usize),
}

struct Server {
    endpoint: String,
    ca_pem: String,
}

async fn serve(answer: Answer) -> Server {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let mut first = text.split_whitespace();
                let method = first.next().unwrap_or_default().to_string();
                let path = first.next().unwrap_or_default().to_string();
                let _ = match answer(&method, &path) {
                    Reply::Full(status, headers, body) => {
                        let mut out = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str("\r\n");
                        let mut bytes = out.into_bytes();
                        bytes.extend(body);
                        tls.write_all(&bytes).await
                    }
                    Reply::Huge(n) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {n}\r\nconnection: close\r\n\r\n"
                        );
                        let chunk = vec![b' '; 64 * 1024];
                        let mut result = tls.write_all(head.as_bytes()).await;
                        let mut sent = 0;
                        while result.is_ok() && sent < n {
                            result = tls.write_all(&chunk).await;
                            sent += chunk.len();
                        }
                        result
                    }
                };
                let _ = tls.shutdown().await;
            });
        }
    });
    Server {
        endpoint: format!("https://127.0.0.1:{port}"),
        ca_pem: cert.cert.pem(),
    }
}

fn client(server: &Server, retry: RetryPolicy) -> ArmClient {
    let mut options = ArmClientOptions::new(StaticTokenCredential::new("t"));
    options.endpoint = Some(Url::parse(&server.endpoint).unwrap());
    options.ca_pem = Some(server.ca_pem.clone());
    options.retry = retry;
    ArmClient::new(options).unwrap()
}

fn scope() -> ResourceId {
    ResourceId::resource(
        "00000000-0000-0000-0000-000000000001",
        "rg",
        "Microsoft.HybridCompute",
        "privateLinkScopes",
        "s",
    )
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply::Full(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string().into_bytes(),
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
