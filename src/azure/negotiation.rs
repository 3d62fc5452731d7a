//! Sending a request with the api-version negotiated for its resource type ([`api_versions`]):
//! Azure's list of versions is read once per subscription and namespace, on first use, and
//! again when a provider refuses the version sent (`NoRegisteredProviderFound`,
//! `InvalidApiVersionParameter`), after which the request is sent once more if that changes
//! the version.
//!
//! [`api_versions`]: super::api_versions

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use azure_core::http::Method;
use tokio::sync::OnceCell;
use url::Url;

use crate::azure::api_versions::{
    API_VERSION_REFUSED, Choice, NEGOTIATION, Offered, ProviderListing, negotiate,
};
use crate::azure::client::ArmClient;
use crate::azure::error::{ArmError, ErrorDetail};
use crate::azure::pipeline::{ArmResponse, decode_bytes};

/// What Azure lists for one subscription and namespace, read once: `None` when the list could
/// not be read (arclink's defaults are used then; a refused version reads it again).
type Cell = Arc<OnceCell<Option<Arc<Offered>>>>;

/// The lists per subscription and namespace (lower-case).
#[derive(Default)]
pub(super) struct Negotiated {
    offered: Mutex<HashMap<(String, String), Cell>>,
}

impl Negotiated {
    fn cell(&self, key: &(String, String)) -> Cell {
        let mut map = self.offered.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.clone()).or_default().clone()
    }

    fn replace(&self, key: (String, String), offered: Option<Arc<Offered>>) {
        let cell = Arc::new(OnceCell::new_with(Some(offered)));
        let mut map = self.offered.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key, cell);
    }
}

/// Where a request goes: the id's path segments, its full resource type and subscription.
pub(super) struct Target<'a> {
    pub(super) segments: Vec<&'a str>,
    pub(super) resource_type: &'a str,
    pub(super) subscription: &'a str,
    /// The provider namespace, for metrics and the rate limiter's bucket.
    pub(super) provider: &'a str,
}

impl ArmClient {
    /// Sends `method` to `target` with its api-version; a provider refusing that version makes
    /// arclink read Azure's list again and, when that gives another version, send once more.
    /// Returns the response and the URL that got it.
    pub(super) async fn send_to(
        &self,
        method: Method,
        target: &Target<'_>,
        body: Option<&[u8]>,
        header: Option<(&'static str, &str)>,
    ) -> Result<(ArmResponse, Url), ArmError> {
        let url = self.url_of(target).await?;
        let resp = self.send_url(method, &url, target, body, header).await?;
        let negotiated = matches!(
            self.api_versions().choice(target.resource_type)?,
            Choice::Among(_)
        );
        let detail = ErrorDetail::parse(&resp.body);
        let refused = resp.status >= 400
            && detail.code.as_deref().is_some_and(|c| {
                API_VERSION_REFUSED
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(c))
            });
        if !negotiated || !refused {
            return Ok((resp, url));
        }
        self.read_again(target, detail.message.as_deref()).await;
        let again = self.url_of(target).await?;
        if again == url {
            return Ok((resp, url));
        }
        tracing::info!(
            resource_type = target.resource_type,
            subscription = target.subscription,
            refused = %url.query().unwrap_or_default(),
            now = %again.query().unwrap_or_default(),
            "ARM refused the api-version; sending again with the one Azure lists"
        );
        let resp = self.send_url(method, &again, target, body, header).await?;
        Ok((resp, again))
    }

    async fn send_url(
        &self,
        method: Method,
        url: &Url,
        target: &Target<'_>,
        body: Option<&[u8]>,
        header: Option<(&'static str, &str)>,
    ) -> Result<ArmResponse, ArmError> {
        self.sender()
            .send_with(
                method,
                url.clone(),
                target.subscription,
                target.provider,
                body,
                header,
            )
            .await
    }

    /// The URL of `target` with its api-version.
    pub(super) async fn url_of(&self, target: &Target<'_>) -> Result<Url, ArmError> {
        let version = match self.api_versions().choice(target.resource_type)? {
            Choice::Fixed(v) => v.to_string(),
            Choice::Among(supported) => {
                let offered = self.offered(target).await;
                negotiate(
                    target.resource_type,
                    target.subscription,
                    supported,
                    offered.as_deref(),
                )?
                .to_string()
            }
        };
        self.url_with(target.segments.iter().copied(), &version)
    }

    /// What Azure lists for the namespace of `target` in its subscription, read on first use.
    async fn offered(&self, target: &Target<'_>) -> Option<Arc<Offered>> {
        let key = key(target);
        let cell = self.negotiated().cell(&key);
        cell.get_or_init(|| self.read_offered(&key.0, namespace(target)))
            .await
            .clone()
    }

    /// Reads Azure's list again after a provider refused a version; the refusal's own list of
    /// supported versions (`NoRegisteredProviderFound` names those of the region) narrows the
    /// type's entry.
    async fn read_again(&self, target: &Target<'_>, refusal: Option<&str>) {
        let key = key(target);
        let mut offered = match self.read_offered(&key.0, namespace(target)).await {
            Some(o) => Offered::clone(&o),
            None => Offered::default(),
        };
        if let Some(versions) = refusal.and_then(versions_in_message) {
            let type_key = target
                .resource_type
                .split_once('/')
                .map(|(_, t)| t.to_ascii_lowercase())
                .unwrap_or_default();
            offered.by_type.insert(type_key, versions);
        }
        let offered = (!offered.by_type.is_empty()).then(|| Arc::new(offered));
        self.negotiated().replace(key, offered);
    }

    /// `GET /subscriptions/{s}/providers/{namespace}`; `None` when it cannot be read (no
    /// permission, throttled, unknown namespace, another shape): arclink's defaults are used
    /// then, and a provider refusing one of them makes arclink read the list again.
    async fn read_offered(&self, subscription: &str, namespace: &str) -> Option<Arc<Offered>> {
        let segments = ["subscriptions", subscription, "providers", namespace];
        let read = async {
            let url = self.url_with(segments.into_iter(), NEGOTIATION)?;
            let resp = self
                .sender()
                .send(Method::Get, url, subscription, "Microsoft.Resources", None)
                .await?;
            if resp.status != 200 {
                return Err(resp.error());
            }
            decode_bytes::<ProviderListing>(&resp.body, &format!("GET providers/{namespace}"))
        };
        match read.await {
            Ok(listing) => Some(Arc::new(Offered::from(listing))),
            Err(error) => {
                tracing::info!(subscription, namespace, %error, "the api-versions Azure serves could not be read; using arclink's defaults");
                None
            }
        }
    }
}

fn key(target: &Target<'_>) -> (String, String) {
    (
        target.subscription.to_ascii_lowercase(),
        namespace(target).to_ascii_lowercase(),
    )
}

fn namespace<'a>(target: &Target<'a>) -> &'a str {
    target
        .resource_type
        .split_once('/')
        .map_or(target.resource_type, |(ns, _)| ns)
}

/// The versions an ARM refusal lists: "The supported api-versions are 'a, b, c'"
/// (`NoRegisteredProviderFound`) or "The supported versions are 'a,b'"
/// (`InvalidApiVersionParameter`).
fn versions_in_message(message: &str) -> Option<Vec<String>> {
    static SUPPORTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)supported (?:api-)?versions are '([^']+)'")
            .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
    });
    let list = SUPPORTED.captures(message)?.get(1)?.as_str();
    let versions: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    (!versions.is_empty()).then_some(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_versions_they_serve() {
        assert_eq!(
            versions_in_message(
                "No registered resource provider found for location 'westus' and API version '2026-09-01' for type 'privateLinkScopes'. The supported api-versions are '2020-08-15-preview, 2024-07-10, 2025-01-13'. The supported locations are 'westus'."
            ),
            Some(vec![
                "2020-08-15-preview".to_string(),
                "2024-07-10".into(),
                "2025-01-13".into()
            ])
        );
        assert_eq!(
            versions_in_message(
                "The api-version '2021-04-01' is invalid. The supported versions are '2025-04-01,2024-11-01'."
            ),
            Some(vec!["2025-04-01".to_string(), "2024-11-01".into()])
        );
        assert_eq!(versions_in_message("The api-version is invalid."), None);
    }
}
