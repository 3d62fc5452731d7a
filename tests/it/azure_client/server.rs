//! A small HTTPS server on loopback that answers what a test tells it to (what ARM never
//! should, or what a test needs that the emulator does not serve), and counts what reached it.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arclink::azure::{ArmClient, ArmClientOptions, RetryPolicy, StaticTokenCredential};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// What the server answers for a request's method and path (with its query).
pub type Answer = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

pub enum Reply {
    /// Status, headers, body.
    Full(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// 200 with a body of `n` bytes, streamed.
    Huge(usize),
}

/// A JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply::Full(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string().into_bytes(),
    )
}

/// One certificate for every host the servers of a test listen on (127.0.0.1, 127.0.0.2,
/// localhost), so that a client trusting it could reach each of them: a test that a redirect
/// is not followed then fails if it is, rather than on the TLS handshake.
pub struct Cert {
    pub pem: String,
    der: rustls::pki_types::CertificateDer<'static>,
    key: Vec<u8>,
}

impl Cert {
    pub fn new() -> Cert {
        let hosts = ["127.0.0.1", "127.0.0.2", "localhost"].map(String::from);
        let cert = rcgen::generate_simple_self_signed(hosts.to_vec()).unwrap();
        Cert {
            pem: cert.cert.pem(),
            der: cert.cert.der().clone(),
            key: cert.signing_key.serialize_der(),
        }
    }
}

pub struct Server {
    pub endpoint: String,
    pub ca_pem: String,
    /// Connections accepted (whatever came of them).
    connections: Arc<AtomicUsize>,
    /// Requests read (each with its head complete).
    requests: Arc<AtomicUsize>,
}

impl Server {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// A client of this server with a fixed token and `retry`.
    pub fn client(&self, retry: RetryPolicy) -> ArmClient {
        ArmClient::new(self.options(retry)).unwrap()
    }

    pub fn options(&self, retry: RetryPolicy) -> ArmClientOptions {
        let mut options = ArmClientOptions::new(StaticTokenCredential::new("t"));
        options.endpoint = Some(Url::parse(&self.endpoint).unwrap());
        options.ca_pem = Some(self.ca_pem.clone());
        options.retry = retry;
        options
    }
}

/// A server on 127.0.0.1 with a certificate of its own.
pub async fn serve(answer: Answer) -> Server {
    serve_on("127.0.0.1", &Cert::new(), answer).await
}

/// A server on `ip` (a loopback address) presenting `cert`.
pub async fn serve_on(ip: &str, cert: &Cert, answer: Answer) -> Server {
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key.clone().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der.clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let ip: IpAddr = ip.parse().unwrap();
    assert!(ip.is_loopback(), "tests stay on loopback");
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (accepted, read) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            let read = read.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                read.fetch_add(1, Ordering::SeqCst);
                let text = String::from_utf8_lossy(&head);
                let mut first = text.split_whitespace();
                let method = first.next().unwrap_or_default().to_string();
                let path = first.next().unwrap_or_default().to_string();
                let _ = match answer(&method, &path) {
                    Reply::Full(status, headers, body) => {
                        let mut out = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str("\r\n");
                        let mut bytes = out.into_bytes();
                        bytes.extend(body);
                        tls.write_all(&bytes).await
                    }
                    Reply::Huge(n) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {n}\r\nconnection: close\r\n\r\n"
                        );
                        let chunk = vec![b' '; 64 * 1024];
                        let mut result = tls.write_all(head.as_bytes()).await;
                        let mut sent = 0;
                        while result.is_ok() && sent < n {
                            result = tls.write_all(&chunk).await;
                            sent += chunk.len();
                        }
                        result
                    }
                };
                let _ = tls.shutdown().await;
            });
        }
    });
    Server {
        endpoint: format!("https://{}:{port}", host_of(ip)),
        ca_pem: cert.pem.clone(),
        connections,
        requests,
    }
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}
