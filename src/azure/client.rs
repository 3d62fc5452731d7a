//! The ARM client: get, put, patch, delete and list on resource ids, each request through the
//! [`pipeline`](super::pipeline) (rate limited per subscription, retried on throttling and
//! transient failures); a write's long-running operation comes back as a resumable token,
//! followed by the polling and waiting in `operations.rs`.

use crate::azure::cloud::Cloud;
use crate::azure::error::ArmError;
use crate::azure::id::{CollectionId, ResourceId};
use crate::azure::lro::{
    Deleted, OperationState, OperationToken, PollStyle, Write, provisioning_state,
};
use crate::azure::metrics::ArmMetrics;
use crate::azure::pipeline::{ArmResponse, RetryPolicy, Sender, decode, decode_bytes};
use crate::azure::ratelimit::RateLimits;
use crate::azure::transport::{self, UserAgentPolicy};
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{Method, Pipeline};
use futures::{Stream, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use url::Url;

// Also reachable here, where the command-line defaults and the scope reconcile name them.
pub use crate::azure::api_versions::{
    ApiVersions, HYBRID_COMPUTE_API_VERSION, NETWORK_API_VERSION, PRIVATE_DNS_API_VERSION,
};

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
    sender: Sender,
    endpoint: Url,
    api_versions: ApiVersions,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .finish_non_exhaustive()
    }
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
        Ok(ArmClient {
            inner: Arc::new(Inner {
                sender: Sender::new(pipeline, options.retry, options.rate_limits),
                endpoint,
                api_versions: options.api_versions,
            }),
        })
    }

    pub fn metrics(&self) -> &ArmMetrics {
        self.inner.sender.metrics()
    }

    pub(super) fn sender(&self) -> &Sender {
        &self.inner.sender
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
        // `url` drops a `.` or `..` segment (and so the type or name before it): the request
        // would go to another resource. The CRDs refuse such names; this holds for the rest.
        let segments: Vec<&str> = segments.collect();
        if let Some(step) = segments.iter().find(|s| matches!(**s, "." | "..")) {
            return Err(ArmError::Config(format!(
                "'{step}' in /{} is a path step, not a name: no request was sent",
                segments.join("/")
            )));
        }
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
    pub(super) fn check_own_url(&self, url: &str, what: &str) -> Result<Url, ArmError> {
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

    async fn request_id(
        &self,
        method: Method,
        id: &ResourceId,
        body: Option<&[u8]>,
    ) -> Result<ArmResponse, ArmError> {
        let url = self.resource_url(id)?;
        self.inner
            .sender
            .send(
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

    pub(super) async fn get_json(
        &self,
        id: &ResourceId,
    ) -> Result<Option<serde_json::Value>, ArmError> {
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

    pub(super) async fn write<B: Serialize, T: DeserializeOwned>(
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
            .inner
            .sender
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
    fn ids_with_path_steps_never_become_urls() {
        let c = client();
        let group = ResourceId::resource_group_id("s", "rg");
        for name in [".", ".."] {
            let id = group.child("Microsoft.HybridCompute/privateLinkScopes", name);
            assert!(
                matches!(c.resource_url(&id), Err(ArmError::Config(ref m)) if m.contains("path step")),
                "{id}"
            );
        }
        let nsg = group
            .child("Microsoft.Network/networkSecurityGroups", "..")
            .child("securityRules", "AllowAADOutboundAccess");
        assert!(c.resource_url(&nsg).is_err());
        let odd = group.child("Microsoft.HybridCompute/privateLinkScopes", "...");
        assert!(c.resource_url(&odd).is_ok());
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
