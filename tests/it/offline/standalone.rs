//! `arclink apply` against the standalone `arclink emulator` (a separate process, as a user
//! would run it), with faults injected through the emulator's admin API: a failure that needs a
//! person ends the run at once naming the ARM code; a retryable one costs one extra write.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::sandbox::{Sandbox, root};

/// A running `arclink emulator`, stopped on drop.
struct Standalone {
    child: Child,
    endpoint: String,
    admin_token: String,
    ca: String,
    http: reqwest::Client,
}

impl Standalone {
    fn start(sandbox: &Sandbox) -> Standalone {
        let ca = sandbox.dir.join("ca.pem").display().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_arclink"))
            .current_dir(root())
            .args([
                "emulator",
                "--bind",
                "127.0.0.1:0",
                "--fixtures",
                "deploy/emulator/fixtures.yaml",
                "--ca-out",
                &ca,
                "--lro-duration",
                "0s",
                "--retry-after",
                "0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut endpoint = String::new();
        let mut admin_token = String::new();
        while endpoint.is_empty() || admin_token.is_empty() {
            let line = lines
                .next()
                .expect("the emulator prints its endpoint")
                .unwrap();
            if let Some(e) = line.strip_prefix("ARM emulator listening on ") {
                endpoint = e.trim().to_string();
            }
            if let Some(t) = line.split("Authorization: Bearer ").nth(1) {
                admin_token = t.trim().to_string();
            }
        }
        let pem = std::fs::read(&ca).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
            .build()
            .unwrap();
        Standalone {
            child,
            endpoint,
            admin_token,
            ca,
            http,
        }
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/_emulator/{path}", self.endpoint))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let bytes = resp.bytes().await.unwrap();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    async fn inject(&self, fault: Value) {
        self.admin(reqwest::Method::POST, "faults", Some(fault))
            .await;
    }

    async fn puts_of(&self, resource_type: &str) -> u64 {
        let counters = self.admin(reqwest::Method::GET, "counters", None).await;
        counters["byType"][format!("PUT {}", resource_type.to_ascii_lowercase())]
            .as_u64()
            .unwrap_or(0)
    }

    /// `arclink apply -f deploy/examples/` against this emulator as if it were Azure.
    fn apply(&self) -> (i32, String, Duration) {
        let started = Instant::now();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_arclink"));
        cmd.current_dir(root())
            .args([
                "apply",
                "-f",
                "deploy/examples/",
                "--arm-endpoint",
                &self.endpoint,
                "--authority-host",
                &self.endpoint,
                "--arm-ca-file",
                &self.ca,
                "--timeout",
                "5m",
            ])
            .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
            .env("AZURE_CLIENT_ID", "arclink-test")
            .env("AZURE_CLIENT_SECRET", "emulator-secret");
        for (k, _) in std::env::vars() {
            if k.starts_with("ARCLINK_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text, started.elapsed())
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 12: a 409 `MissingSubscriptionRegistration` on the scope's writes needs a person:
/// `apply` exits 1 within a minute naming the code, instead of waiting out `--timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn apply_stops_at_once_on_a_provider_that_is_not_registered() {
    let sandbox = Sandbox::new("standalone-409");
    let emu = Standalone::start(&sandbox);
    emu.inject(json!({
        "action": {
            "kind": "status",
            "status": 409,
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.HybridCompute'."
        },
        "method": "PUT",
        "pathContains": "privateLinkScopes"
    }))
    .await;
    let (code, text, took) = emu.apply();
    assert_eq!(code, 1, "{text}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(text.contains("MissingSubscriptionRegistration"), "{text}");
    assert_eq!(
        emu.puts_of("Microsoft.HybridCompute/privateLinkScopes")
            .await,
        1
    );
}

/// Issue 12: a private endpoint operation that Azure ends `Failed` with `RetryableError` is
/// re-sent once and the run converges, with exactly one extra write.
#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_through_one_retryable_operation_failure_with_one_extra_write() {
    let sandbox = Sandbox::new("standalone-retryable");
    let emu = Standalone::start(&sandbox);
    emu.inject(json!({
        "action": {"kind": "lroFailure", "code": "RetryableError", "message": "A retryable error occurred."},
        "method": "PUT",
        "pathContains": "privateEndpoints/hub-arc-pe",
        "times": 1
    }))
    .await;
    let (code, text, _) = emu.apply();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("9 of 9 objects Ready"), "{text}");
    // One PUT for each of the five endpoints, and the one re-sent.
    assert_eq!(
        emu.puts_of("Microsoft.Network/privateEndpoints").await,
        6,
        "{text}"
    );
}
