//! The ARM client: requests on azure_core's `Pipeline`, rate limited per subscription, retried on
//! throttling and transient failures, with long-running operations as resumable tokens.

use crate::azure::cloud::Cloud;
use crate::azure::error::{ArmError, ErrorDetail};
use crate::azure::id::{CollectionId, ResourceId};
use crate::azure::lro::{
    DEFAULT_POLL_INTERVAL, Deleted, MIN_POLL_INTERVAL, OperationState, OperationToken, Poll,
    PollStyle, Write, provisioning_state,
};
use crate::azure::metrics::ArmMetrics;
use crate::azure::ratelimit::{RateLimiter, RateLimits, RequestClass};
use crate::azure::retry_after::parse_retry_after;
use crate::azure::transport::{self, UserAgentPolicy};
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{Context, Method, Pipeline, PipelineStreamOptions, Request};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// api-version per provider (DESIGN.md section 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersions {
    pub hybrid_compute: String,
    pub network: String,
    /// `Microsoft.Network/privateDnsZones` and everything below it.
    pub private_dns: String,
    /// `Microsoft.Resources` (subscriptions, resource groups).
    pub resources: String,
}

/// The newest stable api-versions of the specs arclink is built against (DESIGN.md 5): a
/// GET-modify-PUT with an older version can drop properties a newer client set, such as a
/// scope's `serviceExtensions` (reference/arm-behaviours.md 14).
pub const HYBRID_COMPUTE_API_VERSION: &str = "2026-09-01";
pub const NETWORK_API_VERSION: &str = "2025-07-01";
pub const PRIVATE_DNS_API_VERSION: &str = "2024-06-01";

impl Default for ApiVersions {
    fn default() -> Self {
        ApiVersions {
            hybrid_compute: HYBRID_COMPUTE_API_VERSION.to_string(),
            network: NETWORK_API_VERSION.to_string(),
            private_dns: PRIVATE_DNS_API_VERSION.to_string(),
            resources: "2021-04-01".to_string(),
        }
    }
}

impl ApiVersions {
    /// The api-version for a full resource type such as `Microsoft.Network/virtualNetworks/subnets`.
    pub fn for_type(&self, resource_type: &str) -> Result<&str, ArmError> {
        let t = resource_type.to_ascii_lowercase();
        if t.starts_with("microsoft.hybridcompute/") {
            Ok(&self.hybrid_compute)
        } else if t.starts_with("microsoft.network/privatednszones") {
            Ok(&self.private_dns)
        } else if t.starts_with("microsoft.network/") {
            Ok(&self.network)
        } else if t.starts_with("microsoft.resources/") {
            Ok(&self.resources)
        } else {
            Err(ArmError::Config(format!(
                "no api-version configured for resource type '{resource_type}'"
            )))
        }
    }
}

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

#[derive(Clone)]
pub struct ArmClientOptions {
    pub cloud: Cloud,
    /// Overrides the cloud's ARM endpoint (e.g. the emulator).
    pub endpoint: Option<Url>,
    /// PEM bundle trusted in addition to the system roots.
    pub ca_pem: Option<String>,
    pub api_versions: ApiVersions,
    pub rate_limits: RateLimits,
    pub retry: RetryPolicy,
    pub credential: Arc<dyn TokenCredential>,
}

impl ArmClientOptions {
    /// Defaults (public cloud, DESIGN.md api-versions and ARM's rate limits) for `credential`.
    pub fn new(credential: Arc<dyn TokenCredential>) -> ArmClientOptions {
        ArmClientOptions {
            cloud: Cloud::AzurePublicCloud(),
            endpoint: None,
            ca_pem: None,
            api_versions: ApiVersions::default(),
            rate_limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            credential,
        }
    }
}

impl fmt::Debug for ArmClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClientOptions")
            .field("cloud", &self.cloud.name)
            .field("endpoint", &self.endpoint)
            .field("api_versions", &self.api_versions)
            .field("rate_limits", &self.rate_limits)
            .finish_non_exhaustive()
    }
}

/// Cheap to clone; one per credential identity.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: Pipeline,
    endpoint: Url,
    api_versions: ApiVersions,
    retry: RetryPolicy,
    limiter: Arc<RateLimiter>,
    metrics: ArmMetrics,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// A response as the client sees it: status, lowercase headers, body.
struct ArmResponse {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl ArmResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(|n| self.header(n), jiff::Timestamp::now())
    }

    fn error(&self) -> ArmError {
        ArmError::from_response(self.status, &self.body, self.retry_after())
    }

    fn json(&self) -> Result<Option<serde_json::Value>, ArmError> {
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
fn decode<T: DeserializeOwned>(value: serde_json::Value, what: &str) -> Result<T, ArmError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ArmError::InvalidResponse(format!(
            "{what}: unexpected body at {path}: {}",
            e.into_inner()
        ))
    })
}

/// [`decode`] for raw bytes.
fn decode_bytes<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ArmError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ArmError::InvalidResponse(format!(
            "{what}: unexpected body at {path}: {}",
            e.into_inner()
        ))
    })
}

#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

/// One page of a listing and the link to the next one (`None` on the last page).
#[derive(Debug)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<Url>,
}

/// The error for a provider whose `nextLink` repeats an earlier page of `collection` (the link's
/// query, which may carry a skip token, is left out).
pub fn repeated_link(collection: &CollectionId, link: &Url) -> ArmError {
    ArmError::InvalidResponse(format!(
        "list {collection}: nextLink repeats an earlier page ({}{})",
        link.origin().ascii_serialization(),
        link.path()
    ))
}

#[derive(serde::Deserialize)]
struct OperationStatus {
    status: Option<String>,
    error: Option<ErrorDetail>,
}

impl ArmClient {
    pub fn new(options: ArmClientOptions) -> Result<ArmClient, ArmError> {
        let endpoint = options
            .endpoint
            .clone()
            .unwrap_or_else(|| options.cloud.arm_endpoint.clone());
        if endpoint.scheme() != "https" {
            return Err(ArmError::Config(format!(
                "endpoint {endpoint}: ARM must be reached over https"
            )));
        }
        let http = transport::http_client(options.ca_pem.as_deref())?;
        let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(
            options.credential.clone(),
            [options.cloud.scope()],
        ));
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            transport::client_options(&http),
            Vec::new(),
            vec![Arc::new(UserAgentPolicy), auth],
            None,
        );
        let limiter = Arc::new(RateLimiter::new(options.rate_limits));
        Ok(ArmClient {
            inner: Arc::new(Inner {
                pipeline,
                endpoint,
                api_versions: options.api_versions,
                retry: options.retry,
                metrics: ArmMetrics::new(limiter.clone()),
                limiter,
            }),
        })
    }

    pub fn metrics(&self) -> &ArmMetrics {
        &self.inner.metrics
    }

    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    fn url_for<'a>(
        &self,
        segments: impl Iterator<Item = &'a str>,
        resource_type: &str,
    ) -> Result<Url, ArmError> {
        let api_version = self.inner.api_versions.for_type(resource_type)?;
        let mut url = self.inner.endpoint.clone();
        url.path_segments_mut()
            .map_err(|()| {
                ArmError::Config(format!(
                    "endpoint {} cannot be a base URL",
                    self.inner.endpoint
                ))
            })?
            .pop_if_empty()
            .extend(segments);
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }

    fn resource_url(&self, id: &ResourceId) -> Result<Url, ArmError> {
        self.url_for(id.segments(), &id.resource_type())
    }

    /// URLs from ARM (nextLink, operation URLs) are followed only on the configured endpoint.
    fn check_own_url(&self, url: &str, what: &str) -> Result<Url, ArmError> {
        let parsed = Url::parse(url)
            .map_err(|e| ArmError::InvalidResponse(format!("{what} '{url}' is not a URL: {e}")))?;
        let own = &self.inner.endpoint;
        if parsed.scheme() != "https"
            || parsed.host_str() != own.host_str()
            || parsed.port_or_known_default() != own.port_or_known_default()
        {
            return Err(ArmError::InvalidResponse(format!(
                "{what} '{}' does not point at the ARM endpoint {}",
                parsed.origin().ascii_serialization(),
                own.origin().ascii_serialization()
            )));
        }
        Ok(parsed)
    }

    /// Sends one logical request: waits for the subscription's bucket, retries 429s (after the
    /// bucket pause) and, for reads, transient failures, and returns the first other response.
    /// The whole call is bounded by `retry.max_call_duration`: a wait that would cross it
    /// returns the error instead, so that the caller's requeue takes over and no reconcile
    /// worker is held for the length of a long throttling pause.
    async fn send(
        &self,
        method: Method,
        url: Url,
        subscription: &str,
        provider: &str,
        body: Option<&[u8]>,
    ) -> Result<ArmResponse, ArmError> {
        let class = RequestClass::for_method(method.as_ref());
        let retry = &self.inner.retry;
        let deadline = tokio::time::Instant::now() + retry.max_call_duration;
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        // Writes are retried by the reconcile (which counts the attempts), never here: a
        // write that failed may still have been applied.
        let retries_transient = class == RequestClass::Reads;
        let mut transient_retries = 0;
        let mut throttle_retries = 0;
        loop {
            let acquire = self.inner.limiter.acquire(subscription, class);
            let Ok(permit) = tokio::time::timeout(left(), acquire).await else {
                let retry_after = self
                    .inner
                    .limiter
                    .paused_for(subscription, class)
                    .unwrap_or(MIN_POLL_INTERVAL);
                return Err(ArmError::Throttled { retry_after });
            };
            let sent = self.transmit(&method, &url, body).await;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    drop(permit);
                    self.inner
                        .metrics
                        .record_request(provider, method.as_ref(), 0);
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
            self.inner
                .metrics
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
                self.inner
                    .limiter
                    .observe_remaining(subscription, class, remaining);
            }
            if response.status < 400 {
                permit.finish(false);
                return Ok(response);
            }
            let err = response.error();
            if let ArmError::Throttled { retry_after } = &err {
                self.inner.limiter.pause(subscription, class, *retry_after);
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
    ) -> Result<ArmResponse, ArmError> {
        let mut request = Request::new(url.clone(), *method);
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
            .inner
            .pipeline
            .stream(&ctx, &mut request, Some(options))
            .await
            .map_err(|e| match e.kind() {
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
            })?;
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
        let r = &self.inner.retry;
        let exp = r.base_delay.saturating_mul(2u32.saturating_pow(attempt));
        let jitter = rand::random::<f64>() * 0.2 + 0.9;
        exp.min(r.max_delay).mul_f64(jitter)
    }

    async fn request_id(
        &self,
        method: Method,
        id: &ResourceId,
        body: Option<&[u8]>,
    ) -> Result<ArmResponse, ArmError> {
        let url = self.resource_url(id)?;
        self.send(
            method,
            url,
            id.subscription(),
            id.provider().unwrap_or("microsoft.resources"),
            body,
        )
        .await
    }

    /// GET a resource; 404 is `None`.
    pub async fn get<T: DeserializeOwned>(&self, id: &ResourceId) -> Result<Option<T>, ArmError> {
        match self.get_json(id).await? {
            Some(v) => decode(v, &format!("GET {id}")).map(Some),
            None => Ok(None),
        }
    }

    async fn get_json(&self, id: &ResourceId) -> Result<Option<serde_json::Value>, ArmError> {
        let resp = self.request_id(Method::Get, id, None).await?;
        match resp.status {
            200 => resp
                .json()?
                .map(Some)
                .ok_or_else(|| ArmError::InvalidResponse(format!("GET {id}: empty body"))),
            404 => Ok(None),
            s if s >= 400 => Err(resp.error()),
            s => Err(ArmError::InvalidResponse(format!(
                "GET {id}: unexpected status {s}"
            ))),
        }
    }

    /// PUT (create or replace). Strip read-only fields first (see `models`).
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<Write<T>, ArmError> {
        self.write(Method::Put, id, body).await
    }

    /// PATCH (merge update).
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<Write<T>, ArmError> {
        self.write(Method::Patch, id, body).await
    }

    async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        id: &ResourceId,
        body: &B,
    ) -> Result<Write<T>, ArmError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            ArmError::Config(format!("{method} {id}: body does not serialise: {e}"))
        })?;
        let resp = self.request_id(method, id, Some(&bytes)).await?;
        if resp.status >= 400 {
            return Err(resp.error());
        }
        if !(200..=202).contains(&resp.status) {
            return Err(ArmError::InvalidResponse(format!(
                "{method} {id}: unexpected status {}",
                resp.status
            )));
        }
        let json = resp.json()?;
        let state = json
            .as_ref()
            .and_then(provisioning_state)
            .map(OperationState::parse);
        let pending =
            resp.status == 202 || json.is_none() || matches!(state, Some(OperationState::Running));
        if !pending {
            if let Some(OperationState::Failed | OperationState::Canceled) = state {
                // The write was taken but the resource ended Failed: re-sending it is what
                // works (reference/arm-behaviours.md 3); the reconcile counts the attempts.
                return Err(ArmError::Transient {
                    status: Some(resp.status),
                    code: "ProvisioningFailed".to_string(),
                    message: format!(
                        "{method} {id}: provisioningState is {}",
                        provisioning_state(json.as_ref().unwrap_or(&serde_json::Value::Null))
                            .unwrap_or("unknown")
                    ),
                    retry_after: None,
                });
            }
            let value = json.unwrap_or(serde_json::Value::Null);
            return decode(value, &format!("{method} {id}")).map(Write::Done);
        }
        Ok(Write::Pending(self.token_from(method, id, &resp)?))
    }

    fn token_from(
        &self,
        method: Method,
        id: &ResourceId,
        resp: &ArmResponse,
    ) -> Result<OperationToken, ArmError> {
        let async_op = resp.header("azure-asyncoperation");
        let location = resp.header("location");
        let (style, status_url, location_url) = match (async_op, location) {
            (Some(a), loc) => (
                PollStyle::AzureAsyncOperation,
                self.check_own_url(a, "Azure-AsyncOperation")?.to_string(),
                loc.map(|l| self.check_own_url(l, "Location").map(|u| u.to_string()))
                    .transpose()?,
            ),
            (None, Some(l)) => (
                PollStyle::Location,
                self.check_own_url(l, "Location")?.to_string(),
                None,
            ),
            (None, None) => (
                PollStyle::ProvisioningState,
                self.resource_url(id)?.to_string(),
                None,
            ),
        };
        Ok(OperationToken {
            resource_id: id.clone(),
            method: method.to_string(),
            style,
            status_url,
            location_url,
            started_at: jiff::Timestamp::now(),
            retry_after: resp.retry_after(),
        })
    }

    /// DELETE; 200/204/404 mean gone.
    pub async fn delete(&self, id: &ResourceId) -> Result<Deleted, ArmError> {
        let resp = self.request_id(Method::Delete, id, None).await?;
        match resp.status {
            200 | 204 | 404 => Ok(Deleted::Gone),
            202 => Ok(Deleted::Pending(self.token_from(
                Method::Delete,
                id,
                &resp,
            )?)),
            s if s >= 400 => Err(resp.error()),
            s => Err(ArmError::InvalidResponse(format!(
                "DELETE {id}: unexpected status {s}"
            ))),
        }
    }

    /// Lists a collection item by item, following `nextLink`; one page is held at a time.
    pub fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: &CollectionId,
    ) -> impl Stream<Item = Result<T, ArmError>> + Send + 'static {
        self.list_pages(collection)
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Lists a collection page by page, following `nextLink`.
    pub fn list_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: &CollectionId,
    ) -> impl Stream<Item = Result<Vec<T>, ArmError>> + Send + 'static {
        let client = self.clone();
        let collection = collection.clone();
        // `Some(None)`: the first page is due; `None`: the listing is over.
        let start = (Some(None::<Url>), std::collections::HashSet::new());
        futures::stream::try_unfold(start, move |(link, mut seen)| {
            let client = client.clone();
            let collection = collection.clone();
            async move {
                let Some(link) = link else {
                    return Ok(None);
                };
                let page: ListPage<T> = client.list_page(&collection, link.as_ref()).await?;
                // A provider that hands out a link it handed out before would be listed for
                // ever.
                if let Some(next) = &page.next
                    && !seen.insert(next.to_string())
                {
                    return Err(repeated_link(&collection, next));
                }
                Ok(Some((page.items, (page.next.map(Some), seen))))
            }
        })
    }

    /// One page of a collection: the first when `link` is `None`, else the page a `nextLink`
    /// of an earlier page points at. A caller that keeps [`ListPage::next`] can continue the
    /// listing in a later reconcile instead of listing from the start again.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        collection: &CollectionId,
        link: Option<&Url>,
    ) -> Result<ListPage<T>, ArmError> {
        let url = match link {
            // Checked again: a link kept between passes is followed only on this endpoint.
            Some(l) => self.check_own_url(l.as_str(), "nextLink")?,
            None => self.url_for(collection.segments(), collection.resource_type())?,
        };
        let subscription = collection.parent().subscription();
        let resp = self
            .send(Method::Get, url, subscription, collection.provider(), None)
            .await?;
        if resp.status == 404 {
            return Ok(ListPage {
                items: Vec::new(),
                next: None,
            });
        }
        if resp.status != 200 {
            return Err(resp.error());
        }
        let page: Page<T> = decode_bytes(&resp.body, &format!("list {collection}"))?;
        let next = match page.next_link.filter(|l| !l.is_empty()) {
            Some(l) => Some(self.check_own_url(&l, "nextLink")?),
            None => None,
        };
        Ok(ListPage {
            items: page.value,
            next,
        })
    }

    /// Polls an operation once. `Err` means the poll itself failed (the operation may still be
    /// running); an operation that ended badly is `Ok(Poll::Failed(..))`.
    pub async fn poll(&self, token: &OperationToken) -> Result<Poll, ArmError> {
        let url = self.check_own_url(&token.status_url, "operation URL")?;
        let id = &token.resource_id;
        let provider = id.provider().unwrap_or("microsoft.resources");
        let resp = self
            .send(Method::Get, url, id.subscription(), provider, None)
            .await?;
        let running = Poll::InProgress {
            retry_after: resp
                .retry_after()
                .unwrap_or(DEFAULT_POLL_INTERVAL)
                .max(MIN_POLL_INTERVAL),
        };
        let outcome = match token.style {
            PollStyle::AzureAsyncOperation => {
                if resp.status != 200 {
                    return Err(resp.error());
                }
                let status: OperationStatus =
                    decode_bytes(&resp.body, &format!("operation status for {id}"))?;
                let state = status.status.as_deref().unwrap_or("InProgress");
                match OperationState::parse(state) {
                    OperationState::Running => return Ok(running),
                    OperationState::Succeeded => self.final_result(token, None).await?,
                    _ => Poll::Failed(ArmError::from_operation(resp.status, state, status.error)),
                }
            }
            PollStyle::Location => match resp.status {
                202 => return Ok(running),
                200 | 201 | 204 => self.final_result(token, resp.json()?).await?,
                // The status resource is unreachable or gone, which says nothing about the
                // operation; any other error status is the operation's own failure.
                404 | 408 | 409 | 429 | 500..=599 => return Err(resp.error()),
                _ => Poll::Failed(resp.error()),
            },
            PollStyle::ProvisioningState => match resp.status {
                404 if token.is_delete() => Poll::Done(None),
                200 if token.is_delete() => return Ok(running),
                200 => {
                    let body = resp.json()?.unwrap_or(serde_json::Value::Null);
                    let state = provisioning_state(&body).unwrap_or("Succeeded").to_string();
                    match OperationState::parse(&state) {
                        OperationState::Running => return Ok(running),
                        OperationState::Succeeded => Poll::Done(Some(body)),
                        _ => Poll::Failed(ArmError::from_operation(resp.status, &state, None)),
                    }
                }
                _ => return Err(resp.error()),
            },
        };
        let elapsed = jiff::Timestamp::now().duration_since(token.started_at);
        let elapsed = Duration::try_from(elapsed).unwrap_or_default();
        self.inner
            .metrics
            .record_lro(elapsed, matches!(outcome, Poll::Done(_)));
        Ok(outcome)
    }

    /// After success: PUT/PATCH return the resource (a final GET unless the Location body holds
    /// it); DELETE returns the Location body if any.
    async fn final_result(
        &self,
        token: &OperationToken,
        location_body: Option<serde_json::Value>,
    ) -> Result<Poll, ArmError> {
        if token.is_delete() {
            return Ok(Poll::Done(location_body));
        }
        if let Some(body) = location_body.filter(|b| b.get("id").is_some()) {
            return Ok(Poll::Done(Some(body)));
        }
        match self.get_json(&token.resource_id).await? {
            Some(body) => Ok(Poll::Done(Some(body))),
            None => Err(ArmError::NotFound {
                code: "ResourceNotFound".to_string(),
                message: format!(
                    "{} {} succeeded but the resource is not found",
                    token.method, token.resource_id
                ),
            }),
        }
    }

    /// Polls until the operation is done, sleeping as ARM advises between polls.
    pub async fn wait(
        &self,
        token: &OperationToken,
    ) -> Result<Option<serde_json::Value>, ArmError> {
        loop {
            match self.poll(token).await? {
                Poll::Done(v) => return Ok(v),
                Poll::Failed(e) => return Err(e),
                Poll::InProgress { retry_after } => tokio::time::sleep(retry_after).await,
            }
        }
    }

    /// PUT and wait for completion; returns the resource.
    pub async fn put_and_wait<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<T, ArmError> {
        match self.put(id, body).await? {
            Write::Done(v) => Ok(v),
            Write::Pending(token) => self.wait_for_resource(&token).await,
        }
    }

    /// PATCH and wait for completion; returns the resource.
    pub async fn patch_and_wait<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<T, ArmError> {
        match self.patch(id, body).await? {
            Write::Done(v) => Ok(v),
            Write::Pending(token) => self.wait_for_resource(&token).await,
        }
    }

    /// DELETE and wait until the resource is gone.
    pub async fn delete_and_wait(&self, id: &ResourceId) -> Result<(), ArmError> {
        match self.delete(id).await? {
            Deleted::Gone => Ok(()),
            Deleted::Pending(token) => self.wait(&token).await.map(|_| ()),
        }
    }

    async fn wait_for_resource<T: DeserializeOwned>(
        &self,
        token: &OperationToken,
    ) -> Result<T, ArmError> {
        let what = format!("{} {}", token.method, token.resource_id);
        match self.wait(token).await? {
            Some(v) => decode(v, &what),
            None => Err(ArmError::InvalidResponse(format!(
                "{what}: finished without a resource"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::credentials::StaticTokenCredential;

    fn client() -> ArmClient {
        let mut options = ArmClientOptions::new(StaticTokenCredential::new("t"));
        options.endpoint = Some(Url::parse("https://127.0.0.1:8443").unwrap());
        ArmClient::new(options).unwrap()
    }

    #[test]
    fn api_versions_per_provider() {
        let v = ApiVersions::default();
        assert_eq!(
            v.for_type("Microsoft.HybridCompute/machines").unwrap(),
            "2026-09-01"
        );
        assert_eq!(
            v.for_type("microsoft.network/virtualNetworks/subnets")
                .unwrap(),
            "2025-07-01"
        );
        assert_eq!(
            v.for_type("Microsoft.Network/privateDnsZones/A").unwrap(),
            "2024-06-01"
        );
        assert_eq!(
            v.for_type("Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
                .unwrap(),
            "2025-07-01"
        );
        assert!(v.for_type("Microsoft.Compute/virtualMachines").is_err());
    }

    #[test]
    fn urls_are_built_from_ids_with_encoding() {
        let c = client();
        let id = ResourceId::resource_group_id("s", "rg")
            .child(
                "Microsoft.Network/privateDnsZones",
                "privatelink.his.arc.azure.com",
            )
            .child("A", "my name");
        let url = c.resource_url(&id).unwrap();
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:8443/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.his.arc.azure.com/A/my%20name?api-version=2024-06-01"
        );
    }

    #[test]
    fn refuses_foreign_operation_urls() {
        let c = client();
        assert!(
            c.check_own_url("https://127.0.0.1:8443/op/1?api-version=x", "op")
                .is_ok()
        );
        for bad in [
            "https://evil.example/op",
            "http://127.0.0.1:8443/op",
            "https://127.0.0.1:9999/op",
            "not a url",
        ] {
            assert!(
                matches!(
                    c.check_own_url(bad, "op"),
                    Err(ArmError::InvalidResponse(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_plain_http_endpoint() {
        let mut options = ArmClientOptions::new(StaticTokenCredential::new("t"));
        options.endpoint = Some(Url::parse("http://127.0.0.1:8080").unwrap());
        assert!(matches!(ArmClient::new(options), Err(ArmError::Config(_))));
    }
}
