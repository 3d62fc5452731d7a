//! The emulator suite's fixtures, and a client that calls the emulator over HTTPS with a token.

use std::time::Duration;

use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};
use serde_json::Value;

pub use crate::common::fixtures::SUB;
use crate::common::fixtures::{token, with_principals};
pub const HC: &str = "2024-07-10";
pub const NET: &str = "2024-05-01";
pub const DNS: &str = "2024-06-01";

/// Resource groups `rg1` (machine `web-01`, machines `node-00000`..`node-00004`) and `net`
/// (network `vnet1`, group `nsg1`), in westeurope.
pub fn fixtures() -> Fixtures {
    crate::common::fixtures::fixtures(
        r#"
subscriptions:
  - id: $SUB
    displayName: test
resourceGroups:
  - {subscriptionId: $SUB, name: rg1, location: westeurope}
  - {subscriptionId: $SUB, name: net, location: westeurope}
networkSecurityGroups:
  - subscriptionId: $SUB
    resourceGroup: net
    name: nsg1
    location: westeurope
    securityRules:
      - name: DenyInternet
        properties: {protocol: '*', sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: Internet, access: Deny, priority: 4000, direction: Outbound}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: net
    name: vnet1
    location: westeurope
    addressPrefixes: [10.0.0.0/16]
    subnets:
      - {name: endpoints, addressPrefix: 10.0.1.0/24}
      - {name: tiny, addressPrefix: 10.0.2.0/29, networkSecurityGroup: nsg1}
machines:
  - subscriptionId: $SUB
    resourceGroup: rg1
    name: web-01
    location: westeurope
    tags: {env: prod}
machineSets:
  - {subscriptionId: $SUB, resourceGroup: rg1, prefix: node, count: 5, location: westeurope, tags: {pool: a}}
"#,
    )
}

pub struct Env {
    pub emu: Emulator,
    pub client: reqwest::Client,
    pub token: String,
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub use crate::common::fixtures::https_client as client_for;

/// A response's status, headers and JSON body (`Null` when empty).
pub async fn read(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let body = crate::common::fixtures::json_or_null(&bytes);
    Resp {
        status,
        headers,
        body,
    }
}

pub async fn env_with(config: EmulatorConfig) -> Env {
    let emu = Emulator::start(config).await.unwrap();
    let client = client_for(&emu);
    let token = token(&emu, "tenant1", "app", "s").await;
    Env { emu, client, token }
}

pub async fn env() -> Env {
    env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        ..Default::default()
    })
    .await
}

/// An env whose token endpoint accepts only `principals` (a YAML list).
pub async fn env_with_principals(principals: &str) -> Env {
    env_with(EmulatorConfig {
        fixtures: Some(with_principals(fixtures(), principals)),
        ..Default::default()
    })
    .await
}

impl Env {
    pub fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("https://") {
            path_and_query.to_string()
        } else {
            format!("{}{path_and_query}", self.emu.endpoint())
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_with(method, path, body, &[]).await
    }

    /// [`Env::call`] with extra request headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        read(req.send().await.unwrap()).await
    }

    /// `method` on the admin API (`/_emulator/...`) with the admin token and a raw `body`.
    pub async fn admin(&self, method: &str, path: &str, body: impl Into<reqwest::Body>) -> Resp {
        let req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(self.emu.admin_token())
            .body(body);
        read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None).await
    }

    /// Polls an operation URL until it leaves InProgress / 202.
    pub async fn wait(&self, url: &str) -> Resp {
        for _ in 0..200 {
            let r = self.get(url).await;
            let running = r.status == 202 || r.body["status"] == "InProgress";
            if !running {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operation {url} did not finish");
    }
}

pub fn rg_path(rg: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}")
}

pub fn scope_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.HybridCompute/privateLinkScopes/{name}",
        rg_path("rg1")
    )
}

/// A Microsoft.Network resource path in resource group `net`.
pub fn net(path: &str) -> String {
    format!("{}/providers/Microsoft.Network/{path}", rg_path("net"))
}

/// Creates private link scope `name` in `rg1`; returns its id.
pub async fn put_scope(env: &Env, name: &str) -> String {
    let r = env
        .put(
            &format!("{}?api-version={HC}", scope_path(name)),
            serde_json::json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

pub fn machine_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.HybridCompute/machines/{name}",
        rg_path("rg1")
    )
}

/// A TLS connection to the emulator that carries whatever bytes a test writes.
pub async fn raw_tls(emu: &Emulator) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use std::sync::Arc;

    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut emu.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let addr = emu.endpoint().trim_start_matches("https://").to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

/// Sends `method path` with `token` and `body` exactly as written (reqwest would normalise `..`
/// in the path) and returns the status and JSON body.
pub async fn raw_request(
    emu: &Emulator,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut tls = raw_tls(emu).await;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}
