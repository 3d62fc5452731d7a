//! The path of one logical ARM request: the subscription's rate-limit bucket, one HTTP exchange
//! on azure_core's pipeline (which adds the user agent and the bearer token), retries of 429s
//! and transient failures, and the request metrics.

use crate::azure::error::ArmError;
use crate::azure::lro::MIN_POLL_INTERVAL;
use crate::azure::metrics::ArmMetrics;
use crate::azure::ratelimit::{RateLimiter, RateLimits, RequestClass};
use crate::azure::retry_after::parse_retry_after;
use crate::azure::transport::RedirectRefused;
use azure_core::http::{Context, Method, Pipeline, PipelineStreamOptions, Request};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Largest response body read; a larger one is an error, not an out-of-memory kill (the
/// Deployment's limit is 256 MiB, and ARM pages are a few MiB at most).
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// Code of a request that never reached ARM (connection refused, DNS): safe to retry, writes
/// included.
const CONNECT_FAILED: &str = "ConnectFailed";

/// Retries done inside one client call.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries of reads after 408/5xx/connection errors/transient codes (writes are retried by
    /// the reconcile, unless they never reached ARM).
    pub max_transient_retries: u32,
    /// Retries after 429 (each waits for the subscription's bucket to reopen).
    pub max_throttle_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest time one call may take, waits for the bucket and retries included.
    pub max_call_duration: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_transient_retries: 3,
            max_throttle_retries: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_call_duration: Duration::from_secs(60),
        }
    }
}

/// A response as the client sees it: status, lowercase headers, body.
pub(super) struct ArmResponse {
    pub(super) status: u16,
    headers: HashMap<String, String>,
    pub(super) body: Vec<u8>,
}

impl ArmResponse {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(|n| self.header(n), jiff::Timestamp::now())
    }

    pub(super) fn error(&self) -> ArmError {
        ArmError::from_response(self.status, &self.body, self.retry_after())
    }

    pub(super) fn json(&self) -> Result<Option<serde_json::Value>, ArmError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&self.body)
            .map(Some)
            .map_err(|e| ArmError::InvalidResponse(format!("response body is not JSON: {e}")))
    }
}

/// Decodes an ARM body; a field of the wrong shape is an error naming its path (e.g.
/// `properties.subnet.id`), since retrying the same read would only get the same body.
pub(super) fn decode<T: DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, ArmError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ArmError::InvalidResponse(format!(
            "{what}: unexpected body at {path}: {}",
            e.into_inner()
        ))
    })
}

/// [`decode`] for raw bytes.
pub(super) fn decode_bytes<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ArmError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ArmError::InvalidResponse(format!(
            "{what}: unexpected body at {path}: {}",
            e.into_inner()
        ))
    })
}

/// Sends requests for one client: its HTTP pipeline, retry policy, rate limiter and metrics.
pub(super) struct Sender {
    http: Pipeline,
    retry: RetryPolicy,
    limiter: Arc<RateLimiter>,
    metrics: ArmMetrics,
}

impl Sender {
    pub(super) fn new(http: Pipeline, retry: RetryPolicy, rate_limits: RateLimits) -> Sender {
        let limiter = Arc::new(RateLimiter::new(rate_limits));
        Sender {
            http,
            retry,
            metrics: ArmMetrics::new(limiter.clone()),
            limiter,
        }
    }

    pub(super) fn metrics(&self) -> &ArmMetrics {
        &self.metrics
    }

    /// Sends one logical request: waits for the subscription's bucket, retries 429s (after the
    /// bucket pause) and, for reads, transient failures, and returns the first other response.
    /// The whole call is bounded by `retry.max_call_duration`: a wait that would cross it
    /// returns the error instead, so that the caller's requeue takes over and no reconcile
    /// worker is held for the length of a long throttling pause.
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        subscription: &str,
        provider: &str,
        body: Option<&[u8]>,
    ) -> Result<ArmResponse, ArmError> {
        self.send_with(method, url, subscription, provider, body, None)
            .await
    }

    /// [`Sender::send`] with one more request header (a write's precondition).
    pub(super) async fn send_with(
        &self,
        method: Method,
        url: Url,
        subscription: &str,
        provider: &str,
        body: Option<&[u8]>,
        header: Option<(&'static str, &str)>,
    ) -> Result<ArmResponse, ArmError> {
        let class = RequestClass::for_method(method.as_ref());
        let retry = &self.retry;
        let deadline = tokio::time::Instant::now() + retry.max_call_duration;
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        // Writes are retried by the reconcile (which counts the attempts), never here: a
        // write that failed may still have been applied.
        let retries_transient = class == RequestClass::Reads;
        let mut transient_retries = 0;
        let mut throttle_retries = 0;
        loop {
            let acquire = self.limiter.acquire(subscription, class);
            let Ok(permit) = tokio::time::timeout(left(), acquire).await else {
                let retry_after = self
                    .limiter
                    .paused_for(subscription, class)
                    .unwrap_or(MIN_POLL_INTERVAL);
                return Err(ArmError::Throttled { retry_after });
            };
            let sent = self.transmit(&method, &url, body, header).await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    drop(permit);
                    self.metrics.record_request(provider, method.as_ref(), 0);
                    tracing::debug!(%method, provider, error = %err, "ARM request failed");
                    let wait = self.backoff(transient_retries);
                    let retryable = matches!(err, ArmError::Transient { .. })
                        && (retries_transient || err.code() == CONNECT_FAILED);
                    if !retryable
                        || transient_retries >= retry.max_transient_retries
                        || wait >= left()
                    {
                        return Err(err);
                    }
                    tokio::time::sleep(wait).await;
                    transient_retries += 1;
                    continue;
                }
            };
            self.metrics
                .record_request(provider, method.as_ref(), response.status);
            let request_id = response.header("x-ms-request-id").unwrap_or("-");
            let client_request_id = response.header("x-ms-client-request-id").unwrap_or("-");
            let correlation_id = response
                .header("x-ms-correlation-request-id")
                .unwrap_or("-");
            if class == RequestClass::Reads {
                tracing::debug!(%method, provider, status = response.status, request_id, client_request_id, correlation_id, "ARM request");
            } else {
                // Every write to someone's Azure is on record, with the ids Azure support asks for.
                tracing::info!(%method, resource = url.path(), status = response.status, request_id, client_request_id, correlation_id, "ARM write");
            }
            if let Some(remaining) = class
                .remaining_headers()
                .iter()
                .filter_map(|h| response.header(h)?.trim().parse::<u64>().ok())
                .min()
            {
                self.limiter
                    .observe_remaining(subscription, class, remaining);
            }
            if response.status < 400 {
                permit.finish(false);
                return Ok(response);
            }
            let err = response.error();
            if let ArmError::Throttled { retry_after } = &err {
                self.limiter.pause(subscription, class, *retry_after);
                permit.finish(true);
                tracing::debug!(
                    subscription,
                    class = class.as_str(),
                    wait = ?retry_after,
                    "ARM throttled; bucket paused"
                );
                if throttle_retries >= retry.max_throttle_retries || *retry_after >= left() {
                    return Err(err);
                }
                throttle_retries += 1;
                continue;
            }
            permit.finish(false);
            if matches!(err, ArmError::Transient { .. })
                && retries_transient
                && transient_retries < retry.max_transient_retries
            {
                let wait = err
                    .retry_after()
                    .unwrap_or_else(|| self.backoff(transient_retries));
                if wait < left() {
                    tokio::time::sleep(wait).await;
                    transient_retries += 1;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// One HTTP exchange; the body is read up to [`MAX_RESPONSE_BYTES`].
    async fn transmit(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        header: Option<(&'static str, &str)>,
    ) -> Result<ArmResponse, ArmError> {
        let mut request = Request::new(url.clone(), *method);
        if let Some((name, value)) = header {
            request.insert_header(name, value.to_string());
        }
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(body.to_vec());
        }
        let ctx = Context::new();
        let options = PipelineStreamOptions {
            skip_checks: true,
            ..PipelineStreamOptions::default()
        };
        let raw = self
            .http
            .stream(&ctx, &mut request, Some(options))
            .await
            .map_err(transport_error)?;
        let (status, headers, mut stream) = raw.deconstruct();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ArmError::Transient {
                status: Some(u16::from(status)),
                code: "ConnectionError".to_string(),
                message: format!("reading the response body: {e}"),
                retry_after: None,
            })?;
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ArmError::InvalidResponse(format!(
                    "{method} {}: the response body is larger than {} MiB",
                    url.path(),
                    MAX_RESPONSE_BYTES >> 20
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ArmResponse {
            status: u16::from(status),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.as_str().to_string()))
                .collect(),
            body,
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.retry;
        let exp = r.base_delay.saturating_mul(2u32.saturating_pow(attempt));
        let jitter = rand::random::<f64>() * 0.2 + 0.9;
        exp.min(r.max_delay).mul_f64(jitter)
    }
}

/// What a request that got no usable answer ends as: a refused redirect (of the ARM call or of
/// its token request) is an invalid response; a connection that failed before anything was
/// sent is safe to retry, writes included.
fn transport_error(e: azure_core::Error) -> ArmError {
    if let Some(refused) = RedirectRefused::find(&e) {
        return ArmError::InvalidResponse(refused.to_string());
    }
    match e.kind() {
        azure_core::error::ErrorKind::Credential => ArmError::Credential(e.to_string()),
        azure_core::error::ErrorKind::Connection => ArmError::Transient {
            status: None,
            code: CONNECT_FAILED.to_string(),
            message: e.to_string(),
            retry_after: None,
        },
        azure_core::error::ErrorKind::Io => ArmError::Transient {
            status: None,
            code: "ConnectionError".to_string(),
            message: e.to_string(),
            retry_after: None,
        },
        _ => ArmError::InvalidResponse(e.to_string()),
    }
}
