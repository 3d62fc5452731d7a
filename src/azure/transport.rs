//! The HTTP transport shared by ARM requests and token requests: reqwest (rustls) with an optional
//! extra CA bundle, merged with the platform roots. TLS verification is never disabled.

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
/// (the ARM client retries itself, coordinated with the rate limiter).
pub fn client_options(client: &reqwest::Client) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(Arc::new(client.clone()))),
        retry: RetryOptions::none(),
        ..ClientOptions::default()
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
