//! The HTTP transport shared by ARM requests and token requests: reqwest (rustls) with an optional
//! extra CA bundle, merged with the platform roots. TLS verification is never disabled, and no
//! redirect is followed: ARM and Entra ID do not redirect these calls, and a followed redirect
//! would send a write, or the client secret of a token request, to another host.

use crate::azure::error::ArmError;
use azure_core::http::{
    ClientOptions, Context, Request, RetryOptions, Transport,
    headers::{HeaderName, HeaderValue},
    policies::{Policy, PolicyResult},
};
use std::sync::Arc;
use std::time::Duration;

pub const USER_AGENT: &str = concat!("arclink/", env!("CARGO_PKG_VERSION"));

/// Builds the reqwest client; `ca_pem` is a PEM bundle trusted in addition to the system roots.
pub fn http_client(ca_pem: Option<&str>) -> Result<reqwest::Client, ArmError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT);
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| ArmError::Config(format!("ca_pem: not a PEM certificate bundle: {e}")))?;
        if certs.is_empty() {
            return Err(ArmError::Config(
                "ca_pem: the bundle holds no certificate".to_string(),
            ));
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| ArmError::Config(format!("building the HTTPS client: {e}")))
}

/// azure_core client options using `client` as transport, with azure_core's own retries off
/// (the ARM client retries itself, coordinated with the rate limiter) and a 3xx answer turned
/// into an error ([`RefuseRedirects`]).
pub fn client_options(client: &reqwest::Client) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(Arc::new(client.clone()))),
        retry: RetryOptions::none(),
        per_try_policies: vec![Arc::new(RefuseRedirects)],
        ..ClientOptions::default()
    }
}

/// A redirect that was not followed: the status and the host it pointed at (not the whole
/// `Location`, whose query may carry tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{method} {host}{path} answered HTTP {status} redirecting to {location_host}: ARM and Microsoft Entra ID do not redirect, so arclink follows no redirect"
)]
pub struct RedirectRefused {
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    /// The host of `Location`, or what stands for it when there is none or it is not a URL.
    pub location_host: String,
}

impl RedirectRefused {
    /// The refused redirect somewhere in `error`'s chain of causes (azure_identity wraps what
    /// the token request's pipeline returned).
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a RedirectRefused> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if let Some(found) = e.downcast_ref::<RedirectRefused>() {
                return Some(found);
            }
            cause = e.source();
        }
        None
    }
}

/// Turns a 3xx answer into an error (the transport follows none), so that neither the ARM
/// client nor azure_identity's token requests read a redirect as an answer.
#[derive(Debug)]
pub struct RefuseRedirects;

#[async_trait::async_trait]
impl Policy for RefuseRedirects {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let response = next[0].send(ctx, request, &next[1..]).await?;
        let status = u16::from(response.status());
        if !(300..400).contains(&status) {
            return Ok(response);
        }
        let location = response
            .headers()
            .get_optional_str(&HeaderName::from_static("location"));
        let base = request.url().clone();
        let location_host = match location.map(|l| base.join(l)) {
            Some(Ok(url)) => url
                .host_str()
                .map_or_else(|| "(a URL without host)".to_string(), str::to_string),
            Some(Err(_)) => "(a Location that is not a URL)".to_string(),
            None => "(no Location)".to_string(),
        };
        let refused = RedirectRefused {
            method: request.method().to_string(),
            host: base.host_str().unwrap_or_default().to_string(),
            path: base.path().to_string(),
            status,
            location_host,
        };
        Err(azure_core::Error::new(
            azure_core::error::ErrorKind::DataConversion,
            refused,
        ))
    }
}

/// Sets `User-Agent: arclink/<version>` (azure_core's own policy would name the SDK instead).
#[derive(Debug)]
pub struct UserAgentPolicy;

#[async_trait::async_trait]
impl Policy for UserAgentPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        request.insert_header(
            HeaderName::from_static("user-agent"),
            HeaderValue::from_static(USER_AGENT),
        );
        next[0].send(ctx, request, &next[1..]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_pem_ca() {
        assert!(matches!(
            http_client(Some("not a cert")),
            Err(ArmError::Config(_))
        ));
        assert!(http_client(None).is_ok());
    }
}
