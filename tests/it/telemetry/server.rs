use std::time::Duration;

use arclink::telemetry::{
    Health, LeaderState, Metrics,
    server::{HEADER_READ_TIMEOUT, OPENMETRICS_CONTENT_TYPE, ServerState, bind, serve},
};
use tokio::sync::oneshot;

struct Running {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(metrics: Metrics, health: Health) -> Running {
    start_with(metrics, health, HEADER_READ_TIMEOUT).await
}

async fn start_with(metrics: Metrics, health: Health, header_read_timeout: Duration) -> Running {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        listener,
        ServerState { metrics, health },
        header_read_timeout,
        async {
            let _ = stopped.await;
        },
    ));
    Running { base, stop, task }
}

async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_endpoint_serves_recorded_values_as_openmetrics() {
    let metrics = Metrics::new();
    let timer = metrics.reconcile_started("ArcPrivateLinkScope");
    tokio::time::sleep(Duration::from_millis(20)).await;
    timer.finish("success");
    metrics.reconcile_finished("ArcPrivateEndpoint", "error", Duration::from_millis(3));
    drop(metrics.reconcile_started("ArcServerAssociation"));
    metrics.set_objects("ArcPrivateLinkScope", "Ready", "True", 3);
    metrics.set_objects("ArcPrivateLinkScope", "Stalled", "True", 1);
    metrics.drift_detected("ArcPrivateEndpoint");
    metrics.drift_detected("ArcPrivateEndpoint");
    metrics.drift_corrected("ArcPrivateEndpoint");
    metrics.set_leader(true);
    let server = start(metrics, Health::new(["ArcPrivateLinkScope"], false)).await;

    let (status, content_type, body) = get(&format!("{}/metrics", server.base)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, OPENMETRICS_CONTENT_TYPE);
    for expected in [
        r#"arclink_reconciles_total{kind="ArcPrivateLinkScope",result="success"} 1"#,
        r#"arclink_reconciles_total{kind="ArcPrivateEndpoint",result="error"} 1"#,
        r#"arclink_reconciles_total{kind="ArcServerAssociation",result="cancelled"} 1"#,
        "# TYPE arclink_reconcile_duration_seconds histogram",
        r#"arclink_reconcile_duration_seconds_count{kind="ArcPrivateLinkScope"} 1"#,
        r#"arclink_objects{kind="ArcPrivateLinkScope",condition="Ready",status="True"} 3"#,
        r#"arclink_objects{kind="ArcPrivateLinkScope",condition="Stalled",status="True"} 1"#,
        r#"arclink_drift_detected_total{kind="ArcPrivateEndpoint"} 2"#,
        r#"arclink_drift_corrected_total{kind="ArcPrivateEndpoint"} 1"#,
        "arclink_leader 1",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
    assert!(body.ends_with("# EOF\n"), "{body}");
    // The timed reconcile slept 20ms: its sum must reflect that.
    let sum_line = body
        .lines()
        .find(|l| {
            l.starts_with(r#"arclink_reconcile_duration_seconds_sum{kind="ArcPrivateLinkScope"}"#)
        })
        .unwrap();
    let sum: f64 = sum_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(sum >= 0.02, "{sum_line}");

    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn healthz_is_ok_and_readyz_follows_cache_sync() {
    let health = Health::new(["ArcPrivateLinkScope", "ArcPrivateEndpoint"], false);
    let server = start(Metrics::new(), health.clone()).await;

    assert_eq!(get(&format!("{}/healthz", server.base)).await.0, 200);
    let (status, _, body) = get(&format!("{}/readyz", server.base)).await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        "caches not synced: ArcPrivateEndpoint, ArcPrivateLinkScope"
    );

    health.set_synced("ArcPrivateLinkScope");
    let (status, _, body) = get(&format!("{}/readyz", server.base)).await;
    assert_eq!(status, 503);
    assert_eq!(body, "caches not synced: ArcPrivateEndpoint");

    health.set_synced("ArcPrivateEndpoint");
    assert_eq!(get(&format!("{}/readyz", server.base)).await.0, 200);
    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn readyz_with_leader_election_follows_the_leader_state() {
    let health = Health::new(["ArcPrivateLinkScope"], true);
    let server = start(Metrics::new(), health.clone()).await;
    let readyz = format!("{}/readyz", server.base);

    let (status, _, body) = get(&readyz).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "leader election has not started")
    );

    health.set_leader_state(LeaderState::Standby);
    assert_eq!(
        get(&readyz).await.0,
        200,
        "a standby does not sync caches but is ready"
    );

    health.set_leader_state(LeaderState::Leading);
    let (status, _, body) = get(&readyz).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "caches not synced: ArcPrivateLinkScope")
    );
    health.set_synced("ArcPrivateLinkScope");
    assert_eq!(get(&readyz).await.0, 200);

    health.set_leader_state(LeaderState::Failed("Lease x/y: connection refused".into()));
    let (status, _, body) = get(&readyz).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "leader election: Lease x/y: connection refused")
    );
    assert_eq!(get(&format!("{}/healthz", server.base)).await.0, 200);
    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn binding_a_busy_address_names_it() {
    let taken = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = bind(addr).await.unwrap_err();
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
    assert!(error.to_string().contains("--metrics-addr"), "{error}");
}

#[tokio::test]
async fn arm_client_counters_are_exported_at_scrape_time() {
    use arclink::azure::{
        ArmClient, ArmClientOptions, ResourceId, RetryPolicy, StaticTokenCredential,
    };

    let mut options = ArmClientOptions::new(StaticTokenCredential::new("token"));
    // Nothing listens on port 1: the request fails without an HTTP response (code 0).
    options.endpoint = Some("https://127.0.0.1:1".parse().unwrap());
    options.retry = RetryPolicy {
        max_transient_retries: 0,
        ..RetryPolicy::default()
    };
    let client = ArmClient::new(options).unwrap();
    let metrics = Metrics::new();
    metrics.track_arm_client(&client);
    metrics.track_arm_client(&client.clone());
    let server = start(metrics, Health::new(["ArcPrivateLinkScope"], false)).await;

    let (_, _, before) = get(&format!("{}/metrics", server.base)).await;
    assert!(
        before.contains("# TYPE arclink_arm_requests counter"),
        "{before}"
    );
    assert!(!before.contains("arclink_arm_requests_total{"), "{before}");

    let id = ResourceId::parse(
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1",
    )
    .unwrap();
    assert!(client.get::<serde_json::Value>(&id).await.is_err());

    let (_, _, body) = get(&format!("{}/metrics", server.base)).await;
    let requests = body
        .lines()
        .find(|l| l.starts_with("arclink_arm_requests_total{"))
        .unwrap_or_else(|| panic!("no ARM request counter in:\n{body}"));
    assert_eq!(
        requests,
        r#"arclink_arm_requests_total{provider="microsoft.hybridcompute",method="GET",code="0"} 1"#,
        "a client tracked twice is counted once"
    );
    assert!(
        body.contains(r#"arclink_arm_rate_limit_tokens{subscription="00000000-0000-0000-0000-000000000001",class="reads"} "#),
        "{body}"
    );
    for expected in [
        "arclink_arm_throttle_waits_total 0",
        "arclink_arm_throttle_wait_seconds_total 0",
        r#"arclink_arm_lros_total{result="succeeded"} 0"#,
        "arclink_arm_lro_duration_seconds_count 0",
        r#"arclink_arm_lro_duration_seconds_bucket{le="+Inf"} 0"#,
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}

/// How long until the server closes a connection that sent `sent` and then nothing.
async fn closed_after(base: &str, sent: &[u8]) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut tcp = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    tcp.write_all(sent).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection was still open after 10s");
    started.elapsed()
}

#[tokio::test]
async fn a_client_that_stalls_before_or_inside_its_request_headers_is_disconnected() {
    let timeout = Duration::from_secs(1);
    let server = start_with(Metrics::new(), Health::new(["A"], false), timeout).await;
    for sent in [&b""[..], b"GET /metrics HTTP/1.1\r\nhost: x\r\n"] {
        let took = closed_after(&server.base, sent).await;
        assert!(took >= timeout / 2, "closed after {took:?}");
    }
    let (status, _, _) = get(&format!("{}/healthz", server.base)).await;
    assert_eq!(status, 200, "the server still serves");
    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}
