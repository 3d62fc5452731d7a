//! HTTPS front: TLS accept loop and the per-request split between Entra, admin and ARM routes.

use std::convert::Infallible;
use std::sync::Arc;

use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::admin;
use super::arm;
use super::auth;
use super::body;
use super::config::ConnectionLimits;
use super::http::{self as h, ApiError, Response};
use super::metadata;
use super::names;
use super::shared::Shared;

pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Waiting for a free slot before accepting leaves further clients in the listen backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "emulator accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let handshake = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp));
            let tls = tokio::select! {
                tls = handshake => match tls {
                    Ok(Ok(t)) => t,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "emulator TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(timeout = ?limits.handshake_timeout, "emulator TLS handshake timed out");
                        return;
                    }
                },
                _ = stop.changed() => return,
            };
            let body_timeout = limits.body_read_timeout;
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req, body_timeout).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn handle(
    shared: &Arc<Shared>,
    req: http::Request<Incoming>,
    body_timeout: Duration,
) -> Response {
    let (parts, body) = req.into_parts();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut echo: Vec<(&'static str, String)> = vec![("x-ms-request-id", request_id.clone())];
    for name in ["x-ms-correlation-request-id", "x-ms-client-request-id"] {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            echo.push((name, v.to_string()));
        }
    }
    if !echo
        .iter()
        .any(|(n, _)| *n == "x-ms-correlation-request-id")
    {
        echo.push(("x-ms-correlation-request-id", request_id));
    }
    let mut resp = match answer(shared, &parts, body, body_timeout).await {
        Ok(r) => r,
        Err(e) => error_response(shared, &e),
    };
    if resp.status() == http::StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may still be on its way: the connection cannot be reused.
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    for (n, v) in echo {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut()
                .insert(http::HeaderName::from_static(n), v);
        }
    }
    resp
}

async fn answer(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: Incoming,
    body_timeout: Duration,
) -> Result<Response, ApiError> {
    let body = body::read(body, body_timeout).await?;
    let path = parts.uri.path();
    let segs = names::path_segments(path)?;
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let header = |name: http::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header(http::header::AUTHORIZATION);

    if let [m, e] = segs.as_slice()
        && m == "metadata"
        && e == "endpoints"
    {
        return Ok(metadata_endpoints(shared, &parts.method, &query));
    }
    if let Some(r) = entra(shared, &parts.method, &segs, &body) {
        return Ok(r);
    }
    // What the state file stores must read back: refused before anyone parses it.
    body::check_depth(&body)?;
    if segs.first().is_some_and(|s| s == "_emulator") {
        auth::check_admin(authorization, &shared.keys)?;
        return Ok(admin::handle_http(shared, &parts.method, &segs[1..], &body).await);
    }
    let (result, extra) = arm::handle(
        shared,
        arm::Incoming {
            method: &parts.method,
            path,
            segs: &segs,
            query: &query,
            authorization,
            if_match: header(http::header::IF_MATCH),
            if_none_match: header(http::header::IF_NONE_MATCH),
            body,
        },
    )
    .await;
    let status = match &result {
        Ok(r) => r.status,
        Err(e) => e.status,
    };
    shared
        .counters
        .record(parts.method.as_str(), &arm::counted_type(&segs), status);
    let mut resp = match result {
        Ok(r) => {
            let mut headers = r.headers;
            headers.extend(extra);
            h::build(r.status, r.body.as_ref(), &headers)
        }
        Err(e) => {
            let mut resp = error_response(shared, &e);
            for (n, v) in extra {
                if let Ok(v) = http::HeaderValue::from_str(&v) {
                    resp.headers_mut()
                        .insert(http::HeaderName::from_static(n), v);
                }
            }
            resp
        }
    };
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    Ok(resp)
}

/// An ARM error body; a 401 also carries the challenge ARM sends.
fn error_response(shared: &Shared, e: &ApiError) -> Response {
    let mut resp = h::error_response(e);
    if e.status == 401 {
        let challenge = format!(
            "Bearer authorization_uri=\"{}/common\", error=\"invalid_token\", error_description=\"{}\"",
            shared.endpoint, e.message
        );
        if let Ok(v) = http::HeaderValue::from_str(&challenge) {
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

/// `GET /metadata/endpoints`: unauthenticated, as ARM serves it.
fn metadata_endpoints(
    shared: &Shared,
    method: &http::Method,
    query: &[(String, String)],
) -> Response {
    if *method != http::Method::GET {
        return h::error_response(&ApiError::new(405, "MethodNotAllowed", "Use GET."));
    }
    let version = query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v.as_str());
    match metadata::endpoints(&shared.endpoint, version) {
        Ok(v) => h::build(200, Some(&v), &[]),
        Err(e) => h::error_response(&e),
    }
}

/// Entra routes: `POST /{tenant}/oauth2/v2.0/token` and the OpenID configuration document.
fn entra(
    shared: &Shared,
    method: &http::Method,
    segs: &[String],
    body: &Bytes,
) -> Option<Response> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] => {
            if *method != http::Method::POST {
                return Some(h::error_response(&ApiError::new(
                    405,
                    "MethodNotAllowed",
                    "Use POST.",
                )));
            }
            let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
            let principals = shared.principals.read().clone();
            Some(
                match auth::issue_token(tenant, &form, &principals, &shared.keys) {
                    Ok(v) => h::build(200, Some(&v), &[]),
                    Err((status, v)) => h::build(status, Some(&v), &[]),
                },
            )
        }
        [tenant, "v2.0", ".well-known", "openid-configuration"] => {
            let v = auth::openid_configuration(&shared.endpoint, tenant);
            Some(h::build(200, Some(&v), &[]))
        }
        _ => None,
    }
}
