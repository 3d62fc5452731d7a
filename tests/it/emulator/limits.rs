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

/// Issue 22 probe: a PUT whose `properties` nest 126 levels was stored and then made the state
/// file unloadable.
#[tokio::test]
async fn a_body_nesting_deeper_than_64_levels_is_refused_at_the_door() {
    let dir = std::env::temp_dir().join(format!("arclink-emu-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let config = || EmulatorConfig {
        fixtures: Some(fixtures()),
        state_file: Some(state.clone()),
        ..Default::default()
    };
    let env = env_with(config()).await;
    let nested = |levels: usize| {
        let mut v = json!("leaf");
        for _ in 0..levels {
            v = json!({ "n": v });
        }
        v
    };
    for levels in [126, 63] {
        let r = env
            .put(
                &format!("{}?api-version={HC}", scope_path("deep")),
                json!({"location": "westeurope", "properties": {"x": nested(levels)}}),
            )
            .await;
        assert_eq!(r.status, 400, "{levels}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "InvalidRequestContent");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("64 levels"),
            "{:?}",
            r.body
        );
    }
    // Within the limit: stored, and the state file still loads.
    let r = env
        .put(
            &format!("{}?api-version={HC}", scope_path("deep")),
            json!({"location": "westeurope", "properties": {"x": nested(60)}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // The admin API is held to the same limit.
    let patch = env
        .admin(
            "PATCH",
            &format!("/_emulator/resources{}", scope_path("deep")),
            serde_json::to_vec(&json!({"tags": nested(100)})).unwrap(),
        )
        .await;
    assert_eq!(patch.status, 400);
    env.emu.shutdown().await.unwrap();
    let again = Emulator::start(config())
        .await
        .expect("the state file loads");
    assert!(again.admin().get(&scope_path("deep")).is_some());
    again.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 22 probe: bodies trickling one byte every 10 s held their connections past 45 s.
#[tokio::test]
async fn a_body_that_trickles_is_cut_off_after_the_body_read_timeout() {
    let emu = emulator(ConnectionLimits {
        body_read_timeout: SHORT,
        ..Default::default()
    })
    .await;
    let token = crate::common::fixtures::token(&emu, "t", "app", "s").await;
    let mut tls = raw_tls(&emu).await;
    let head = format!(
        "PUT {}?api-version={HC} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{",
        scope_path("slow")
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if tls.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(SHORT * 2, trickle).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(BOUND, tls.read_to_end(&mut response)).await;
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("RequestTimeout"), "{text}");
    assert!(took < BOUND, "closed after {took:?}");
    assert!(emu.admin().get(&scope_path("slow")).is_none());
}
