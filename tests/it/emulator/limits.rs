//! What one client may hold: a TLS handshake, request headers, a request body, a connection slot.

use std::time::{Duration, Instant};

use arclink::emulator::{ConnectionLimits, Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::*;

const SHORT: Duration = Duration::from_secs(1);
// Generous: the machine running the tests may be loaded.
const BOUND: Duration = Duration::from_secs(10);

async fn emulator(limits: ConnectionLimits) -> Emulator {
    Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures()),
        connections: limits,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn address(emu: &Emulator) -> String {
    emu.endpoint().trim_start_matches("https://").to_string()
}

/// How long until the peer closes `stream` (read returns EOF or an error).
async fn time_to_close(mut stream: impl AsyncReadExt + Unpin) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection was still open after {BOUND:?}"
    );
    started.elapsed()
}

#[tokio::test]
async fn a_connection_that_never_starts_tls_is_closed_after_the_handshake_timeout() {
    let emu = emulator(ConnectionLimits {
        handshake_timeout: SHORT,
        ..Default::default()
    })
    .await;
    let silent = tokio::net::TcpStream::connect(address(&emu)).await.unwrap();
    let took = time_to_close(silent).await;
    assert!(took >= SHORT / 2, "closed after {took:?}");
}

#[tokio::test]
async fn half_a_request_header_is_closed_after_the_header_read_timeout() {
    let emu = emulator(ConnectionLimits {
        header_read_timeout: SHORT,
        ..Default::default()
    })
    .await;
    let mut tls = raw_tls(&emu).await;
    tls.write_all(b"GET /subscriptions HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let took = time_to_close(tls).await;
    assert!(took >= SHORT / 2, "closed after {took:?}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_read_timeout() {
    let emu = emulator(ConnectionLimits {
        header_read_timeout: SHORT,
        ..Default::default()
    })
    .await;
    let mut tls = raw_tls(&emu).await;
    tls.write_all(
        b"GET /t/v2.0/.well-known/openid-configuration HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n",
    )
    .await
    .unwrap();
    let mut first = [0u8; 12];
    tls.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    time_to_close(tls).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let emu = emulator(ConnectionLimits {
        handshake_timeout: SHORT,
        max_connections: 1,
        ..Default::default()
    })
    .await;
    // Holds the only slot until the handshake timeout closes it.
    let _silent = tokio::net::TcpStream::connect(address(&emu)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let r = client_for(&emu)
        .get(format!(
            "{}/t/v2.0/.well-known/openid-configuration",
            emu.endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let waited = started.elapsed();
    assert!(
        waited >= SHORT / 2,
        "served after {waited:?}, while the only slot was taken"
    );
}

#[tokio::test]
async fn a_body_over_4_mib_gets_413_and_changes_nothing() {
    let env = env().await;
    let big = "x".repeat(5 * 1024 * 1024);
    let r = env
        .put(
            &format!("{}?api-version={HC}", scope_path("big")),
            json!({"location": "westeurope", "tags": {"big": big}}),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["error"]["code"], "RequestContentTooLarge");
    assert!(r.header("x-ms-request-id").is_some());
    assert!(env.emu.admin().get(&scope_path("big")).is_none());
    let small = env
        .put(
            &format!("{}?api-version={HC}", scope_path("small")),
            json!({"location": "westeurope", "properties": {}}),
        )
        .await;
    assert!(small.status < 300, "{:?}", small.body);
    assert_eq!(
        env.emu
            .admin()
            .get(&scope_path("small"))
            .map(|v| v["name"].clone()),
        Some(Value::from("small"))
    );
}
