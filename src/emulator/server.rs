//! HTTPS front: TLS accept loop and the per-request split between Entra, admin and ARM routes.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::admin;
use super::arm;
use super::auth;
use super::http::{self as h, ApiError, Response};
use super::shared::Shared;

const MAX_BODY: usize = 16 * 1024 * 1024;

pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
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
            let tls = tokio::select! {
                tls = acceptor.accept(tcp) => match tls {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::debug!(error = %e, "emulator TLS handshake failed");
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
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let path = parts.uri.path().to_string();
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();

    let mut resp = if segs.first().is_some_and(|s| s == "_emulator") {
        admin::handle_http(shared, &parts.method, &segs[1..], &body).await
    } else if let Some(r) = entra(shared, &parts.method, &segs, &body) {
        r
    } else {
        let (result, extra) = arm::handle(
            shared,
            arm::Incoming {
                method: &parts.method,
                path: &path,
                segs: &segs,
                query: &query,
                authorization: parts
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
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
                let mut resp = h::error_response(&e);
                if e.status == 401 {
                    let challenge = format!(
                        "Bearer authorization_uri=\"{}/common\", error=\"invalid_token\", error_description=\"{}\"",
                        shared.endpoint, e.message
                    );
                    if let Ok(v) = http::HeaderValue::from_str(&challenge) {
                        resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
                    }
                }
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
        resp
    };
    for (n, v) in echo {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut()
                .insert(http::HeaderName::from_static(n), v);
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
                match auth::issue_token(tenant, &form, &principals, &shared.token_secret) {
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
