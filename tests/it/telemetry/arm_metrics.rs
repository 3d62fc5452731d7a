//! /metrics after real ARM traffic against the emulator: a throttled read and an LRO.

use std::time::Duration;

use arclink::{
    azure::{ArmClient, ArmClientOptions, ResourceId, StaticTokenCredential},
    emulator::{Emulator, EmulatorConfig, Fault},
    telemetry::Metrics,
};
use serde_json::{Value, json};

use crate::common::fixtures::{SUB, fixtures, token};

async fn emulator() -> Emulator {
    let fixtures = fixtures(
        r#"
subscriptions:
  - {id: $SUB, displayName: test}
resourceGroups:
  - {subscriptionId: $SUB, name: rg1, location: westeurope}
machines:
  - {subscriptionId: $SUB, resourceGroup: rg1, name: web-01, location: westeurope}
"#,
    );
    Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        lro_duration: Duration::from_millis(300),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn client(emu: &Emulator) -> ArmClient {
    let token = token(emu, "tenant1", "app", "s").await;
    let mut options = ArmClientOptions::new(StaticTokenCredential::new(&token));
    options.endpoint = Some(emu.endpoint().parse().unwrap());
    options.ca_pem = Some(emu.ca_pem().to_owned());
    ArmClient::new(options).unwrap()
}

fn value(body: &str, prefix: &str) -> f64 {
    let line = body
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in:\n{body}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn metrics_reflect_throttling_and_long_running_operations() {
    let emu = emulator().await;
    let client = client(&emu).await;
    let metrics = Metrics::new();
    metrics.track_arm_client(&client);

    emu.admin().inject(
        Fault::status(429)
            .times(1)
            .retry_after(1)
            .method("GET")
            .path_contains("/machines/"),
    );
    let machine = ResourceId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/web-01"
    ))
    .unwrap();
    assert!(client.get::<Value>(&machine).await.unwrap().is_some());

    let scope = ResourceId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.HybridCompute/privateLinkScopes/scope-1"
    ))
    .unwrap();
    let _: Value = client
        .put_and_wait(
            &scope,
            &json!({"location": "westeurope", "properties": {"publicNetworkAccess": "Disabled"}}),
        )
        .await
        .unwrap();
    // Deletes are long-running (Location polling) in the emulator, as in ARM.
    client.delete_and_wait(&scope).await.unwrap();

    let body = metrics.encode();
    assert_eq!(
        value(
            &body,
            r#"arclink_arm_requests_total{provider="microsoft.hybridcompute",method="GET",code="429"}"#
        ),
        1.0
    );
    assert!(
        value(
            &body,
            r#"arclink_arm_requests_total{provider="microsoft.hybridcompute",method="GET",code="200"}"#
        ) >= 1.0
    );
    assert_eq!(value(&body, "arclink_arm_throttle_waits_total"), 1.0);
    assert!(
        value(&body, "arclink_arm_throttle_wait_seconds_total") >= 0.9,
        "{body}"
    );
    assert_eq!(
        value(&body, r#"arclink_arm_lros_total{result="succeeded"}"#),
        1.0,
        "{body}"
    );
    assert!(
        value(&body, "arclink_arm_lro_duration_seconds_sum") >= 0.3,
        "{body}"
    );
    // One bucket per request class used; each at most its burst (writes and deletes 200).
    for class in ["reads", "writes", "deletes"] {
        let tokens = value(
            &body,
            &format!(r#"arclink_arm_rate_limit_tokens{{subscription="{SUB}",class="{class}"}}"#),
        );
        assert!(tokens <= 250.0, "{class}: {tokens}");
    }
    emu.shutdown().await.unwrap();
}
