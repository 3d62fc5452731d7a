//! The ARM client: get, put, patch and delete on resource ids, each request through the
//! [`pipeline`](super::pipeline) (rate limited per subscription, retried on throttling and
//! transient failures); a write's long-running operation comes back as a resumable token,
//! followed by the polling and waiting in `operations.rs`; listings are in `listing.rs`.

use crate::azure::cloud::Cloud;
use crate::azure::error::ArmError;
use crate::azure::id::ResourceId;
use crate::azure::listing::ListLimits;
use crate::azure::lro::{
    Deleted, OperationState, OperationToken, PollStyle, Write, provisioning_state,
};
use crate::azure::metrics::ArmMetrics;
use crate::azure::negotiation::{Negotiated, Target};
use crate::azure::pipeline::{ArmResponse, RetryPolicy, Sender, decode};
use crate::azure::ratelimit::RateLimits;
use crate::azure::transport::{self, UserAgentPolicy};
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{Method, Pipeline};
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
    pub list_limits: ListLimits,
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
            list_limits: ListLimits::default(),
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
            .field("list_limits", &self.list_limits)
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
    negotiated: Negotiated,
    list_limits: ListLimits,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// What a conditional write asks of the resource as it is in Azure (Private DNS honours both
/// on its zones, virtual network links and record sets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// `If-None-Match: *`: create it only if it does not exist.
    Absent,
    /// `If-Match: <etag>`: write it only if it is still as read (its etag then).
    Unchanged(String),
}

impl Precondition {
    /// The condition as it is read: `Unchanged` with the resource's etag, else none.
    pub fn read(etag: Option<&str>) -> Option<Precondition> {
        etag.filter(|e| !e.is_empty())
            .map(|e| Precondition::Unchanged(e.to_string()))
    }

    fn header(&self) -> (&'static str, &str) {
        match self {
            Precondition::Absent => ("if-none-match", "*"),
            Precondition::Unchanged(etag) => ("if-match", etag),
        }
    }
}

/// Whether ARM refused a conditional write because the resource is not as the condition said
/// (412 `PreconditionFailed`): someone else created or changed it meanwhile.
pub fn precondition_failed(err: &ArmError) -> bool {
    matches!(
        err,
        ArmError::Transient {
            status: Some(412),
            ..
        }
    ) || err.code().eq_ignore_ascii_case("PreconditionFailed")
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
                negotiated: Negotiated::default(),
                list_limits: options.list_limits,
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

    pub(super) fn list_limits(&self) -> &ListLimits {
        &self.inner.list_limits
    }

    pub(super) fn api_versions(&self) -> &ApiVersions {
        &self.inner.api_versions
    }

    pub(super) fn negotiated(&self) -> &Negotiated {
        &self.inner.negotiated
    }

    /// The URL of `segments` on the endpoint, with `api_version`.
    pub(super) fn url_with<'a>(
        &self,
        segments: impl Iterator<Item = &'a str>,
        api_version: &str,
    ) -> Result<Url, ArmError> {
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

    /// Sends `method` to `id`; the response and the URL that got it (with the api-version
    /// negotiated for the id's type).
    async fn request_id(
        &self,
        method: Method,
        id: &ResourceId,
        body: Option<&[u8]>,
        precondition: Option<&Precondition>,
    ) -> Result<(ArmResponse, Url), ArmError> {
        let resource_type = id.resource_type();
        let target = Target {
            segments: id.segments().collect(),
            resource_type: &resource_type,
            subscription: id.subscription(),
            provider: id.provider().unwrap_or("microsoft.resources"),
        };
        let header = precondition.map(Precondition::header);
        self.send_to(method, &target, body, header).await
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
        let (resp, _) = self.request_id(Method::Get, id, None, None).await?;
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
        self.write(Method::Put, id, body, None).await
    }

    /// PATCH (merge update).
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<Write<T>, ArmError> {
        self.write(Method::Patch, id, body, None).await
    }

    /// A PUT made only if the resource is as `precondition` says; when it is not, ARM answers
    /// 412 (see [`precondition_failed`]).
    pub async fn put_if<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
        precondition: &Precondition,
    ) -> Result<Write<T>, ArmError> {
        self.write(Method::Put, id, body, Some(precondition)).await
    }

    /// A PATCH made only if the resource is as `precondition` says, like [`ArmClient::put_if`].
    pub async fn patch_if<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
        precondition: &Precondition,
    ) -> Result<Write<T>, ArmError> {
        self.write(Method::Patch, id, body, Some(precondition))
            .await
    }

    pub(super) async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        id: &ResourceId,
        body: &B,
        precondition: Option<&Precondition>,
    ) -> Result<Write<T>, ArmError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            ArmError::Config(format!("{method} {id}: body does not serialise: {e}"))
        })?;
        let (resp, url) = self
            .request_id(method, id, Some(&bytes), precondition)
            .await?;
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
        Ok(Write::Pending(self.token_from(method, id, &resp, url)?))
    }

    /// The token of a write's operation; `url` (the write's) is polled for the provisioning
    /// state when ARM names no operation URL.
    fn token_from(
        &self,
        method: Method,
        id: &ResourceId,
        resp: &ArmResponse,
        url: Url,
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
            (None, None) => (PollStyle::ProvisioningState, url.to_string(), None),
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
        let (resp, url) = self.request_id(Method::Delete, id, None, None).await?;
        match resp.status {
            200 | 204 | 404 => Ok(Deleted::Gone),
            202 => Ok(Deleted::Pending(self.token_from(
                Method::Delete,
                id,
                &resp,
                url,
            )?)),
            s if s >= 400 => Err(resp.error()),
            s => Err(ArmError::InvalidResponse(format!(
                "DELETE {id}: unexpected status {s}"
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

    #[tokio::test]
    async fn urls_are_built_from_ids_with_encoding() {
        let mut options = ArmClientOptions::new(StaticTokenCredential::new("t"));
        options.endpoint = Some(Url::parse("https://127.0.0.1:8443").unwrap());
        options.api_versions.private_dns = Some("2024-06-01".into());
        let c = ArmClient::new(options).unwrap();
        let id = ResourceId::resource_group_id("s", "rg")
            .child(
                "Microsoft.Network/privateDnsZones",
                "privatelink.his.arc.azure.com",
            )
            .child("A", "my name");
        let resource_type = id.resource_type();
        let target = Target {
            segments: id.segments().collect(),
            resource_type: &resource_type,
            subscription: id.subscription(),
            provider: "Microsoft.Network",
        };
        let url = c.url_of(&target).await.unwrap();
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
                matches!(c.url_with(id.segments(), "2026-09-01"), Err(ArmError::Config(ref m)) if m.contains("path step")),
                "{id}"
            );
        }
        let nsg = group
            .child("Microsoft.Network/networkSecurityGroups", "..")
            .child("securityRules", "AllowAADOutboundAccess");
        assert!(c.url_with(nsg.segments(), "2025-07-01").is_err());
        let odd = group.child("Microsoft.HybridCompute/privateLinkScopes", "...");
        assert!(c.url_with(odd.segments(), "2026-09-01").is_ok());
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
