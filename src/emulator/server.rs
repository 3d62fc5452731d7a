//! HTTPS front: TLS accept loop and the per-request split between Entra, admin and ARM routes.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::admin;
use super::arm;
use super::auth;
use super::config::ConnectionLimits;
use super::http::{self as h, ApiError, Response};
use super::names;
use super::providers::Conditions;
use super::shared::Shared;

/// ARM's limit on a request body.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// How much of a too large body is read on and discarded before answering 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

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
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
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

async fn handle(shared: &Arc<Shared>, req: http::Request<Incoming>) -> Response {
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
    let mut resp = match answer(shared, &parts, body).await {
        Ok(r) => r,
        Err(e) => error_response(shared, &e),
    };
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
) -> Result<Response, ApiError> {
    let body = read_body(body).await?;
    let path = parts.uri.path();
    let segs = names::path_segments(path)?;
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let authorization = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());

    if segs.first().is_some_and(|s| s == "_emulator") {
        auth::check_admin(authorization, &shared.keys)?;
        return Ok(admin::handle_http(shared, &parts.method, &segs[1..], &body).await);
    }
    if let Some(r) = entra(shared, &parts.method, &segs, &body) {
        return Ok(r);
    }
    let (result, extra) = arm::handle(
        shared,
        arm::Incoming {
            method: &parts.method,
            path,
            segs: &segs,
            query: &query,
            authorization,
            conditions: Conditions::of(&parts.headers),
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

/// Keeps at most `MAX_BODY` bytes. A larger body is read on and discarded (up to `DRAIN_LIMIT`)
/// so that a client still sending it gets to read the 413 rather than a reset connection.
async fn read_body(mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut kept = Vec::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!("The request content could not be read: {e}."),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= MAX_BODY {
            kept.extend_from_slice(&data);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > MAX_BODY {
        return Err(ApiError::new(
            413,
            "RequestContentTooLarge",
            "The request content size exceeds the maximum size of 4 MB.",
        ));
    }
    Ok(Bytes::from(kept))
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
