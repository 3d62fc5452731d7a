use std::time::Duration;

use arclink::emulator::{Bucket, EmulatorConfig, Fault, RateLimits};
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn arm_errors_have_arm_codes() {
    let env = env().await;
    let cases = [
        (
            format!("{}?api-version=1999-01-01", scope_path("s")),
            400,
            "InvalidApiVersionParameter",
        ),
        (scope_path("s"), 400, "MissingApiVersionParameter"),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.HybridCompute/privateLinkScopes/s?api-version={HC}"
            ),
            404,
            "ResourceGroupNotFound",
        ),
        (
            "/subscriptions/unknown/resourceGroups/rg1?api-version=2021-04-01".to_string(),
            404,
            "SubscriptionNotFound",
        ),
        (
            format!("{}?api-version={HC}", scope_path("missing")),
            404,
            "ResourceNotFound",
        ),
        (
            format!(
                "{}/privateEndpointConnections?api-version={HC}",
                scope_path("missing")
            ),
            404,
            "ParentResourceNotFound",
        ),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.HybridCompute/gadgets/g?api-version={HC}"
            ),
            404,
            "InvalidResourceType",
        ),
        (
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.HybridCompute/locations/westeurope/operationResults/none?api-version={HC}"
            ),
            404,
            "OperationNotFound",
        ),
    ];
    for (path, status, code) in cases {
        let r = env.get(&path).await;
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str().unwrap()),
            (status, code),
            "{path}"
        );
    }
    let r = env
        .client
        .put(env.url(&format!("{}?api-version={HC}", scope_path("s"))))
        .bearer_auth(&env.token)
        .header("x-ms-client-request-id", "abc")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-client-request-id"], "abc");
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "InvalidRequestContent");
    let rg = env
        .get(&format!("{}?api-version=2021-04-01", rg_path("RG1")))
        .await;
    assert_eq!(rg.status, 200);
    assert_eq!(rg.body["name"], "rg1");
}

#[tokio::test]
async fn throttling_counts_down_and_answers_429_with_retry_after() {
    let limits = RateLimits {
        reads: Bucket {
            burst: 3,
            per_second: 0.5,
        },
        writes: Bucket {
            burst: 2,
            per_second: 0.5,
        },
        deletes: Bucket {
            burst: 2,
            per_second: 0.5,
        },
    };
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        throttling: Some(limits),
        ..Default::default()
    })
    .await;
    let p = format!("{}?api-version={HC}", machine_path("web-01"));
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = env.get(&p).await;
        assert_eq!(r.status, 200);
        remaining.push(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .unwrap(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = env.get(&p).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    assert_eq!(r.header("retry-after").unwrap(), "2");
    // Writes have their own bucket.
    let w = env.patch(&p, json!({"tags": {}})).await;
    assert_eq!(w.status, 200);
    assert_eq!(
        w.header("x-ms-ratelimit-remaining-subscription-writes")
            .unwrap(),
        "1"
    );
    env.emu.admin().set_rate_limits(None);
    assert_eq!(env.get(&p).await.status, 200);
}

#[tokio::test]
async fn injected_faults_fire_the_requested_number_of_times() {
    let env = env().await;
    let admin = env.emu.admin();
    let p = format!("{}?api-version={HC}", machine_path("web-01"));
    admin.inject(
        Fault::status(429)
            .times(2)
            .retry_after(7)
            .method("GET")
            .path_contains("/machines/"),
    );
    admin.inject(Fault::status(503).times(1).method("PUT"));
    for _ in 0..2 {
        let r = env.get(&p).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after").unwrap(), "7");
        assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    }
    assert_eq!(env.get(&p).await.status, 200);
    let s = format!("{}?api-version={HC}", scope_path("s"));
    assert_eq!(
        env.put(&s, json!({"location": "westeurope"})).await.status,
        503
    );
    assert_eq!(
        env.put(&s, json!({"location": "westeurope"})).await.status,
        201
    );

    admin.inject(Fault::status(500).for_duration(Duration::from_millis(300)));
    assert_eq!(env.get(&p).await.status, 500);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(env.get(&p).await.status, 200);

    admin.inject(Fault::lro_failure("InternalError", "boom").times(1));
    let del = env.delete(&s).await;
    let st = env.wait(&del.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(st.body["status"], "Failed");
    assert_eq!(st.body["error"]["code"], "InternalError");
    let res = env.get(&del.header("location").unwrap()).await;
    assert_eq!(res.body["error"]["code"], "InternalError");
    assert_eq!(
        env.get(&s).await.body["properties"]["provisioningState"],
        "Succeeded"
    );

    admin.inject(Fault::lro_canceled().times(1));
    let del = env.delete(&s).await;
    let st = env.wait(&del.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(st.body["status"], "Canceled");

    let c = admin.counters();
    assert_eq!(c.status(429), 2);
    assert_eq!(c.status(503), 1);
    admin.reset_counters();
    assert_eq!(admin.counters().total(), 0);
}

#[tokio::test]
async fn admin_api_over_https() {
    let env = env().await;
    let fault = r#"{"action":{"kind":"status","status":503},"times":1}"#;
    assert_eq!(
        env.admin("POST", "/_emulator/faults", fault).await.status,
        204
    );
    let p = format!("{}?api-version={HC}", machine_path("web-01"));
    assert_eq!(env.get(&p).await.status, 503);
    let resource = format!("/_emulator/resources{}", machine_path("web-01"));
    let drift = r#"{"tags":{"drift":"yes"}}"#;
    assert_eq!(env.admin("PATCH", &resource, drift).await.status, 200);
    assert_eq!(env.get(&p).await.body["tags"]["drift"], "yes");
    let counters = env.admin("GET", "/_emulator/counters", "").await.body;
    assert_eq!(counters["total"], 2);
    let added =
        format!("resourceGroups: [{{subscriptionId: {SUB}, name: added, location: eastus}}]");
    assert_eq!(
        env.admin("POST", "/_emulator/fixtures", added).await.status,
        204
    );
    assert_eq!(
        env.get(&format!("{}?api-version=2021-04-01", rg_path("added")))
            .await
            .status,
        200
    );
    assert_eq!(
        env.admin("PUT", "/_emulator/rate-limits", "null")
            .await
            .status,
        204
    );
    let state = env.admin("GET", "/_emulator/state", "").await.body;
    assert!(state["resources"].as_array().unwrap().len() > 5);
}

#[tokio::test]
async fn nonsense_faults_get_400_and_the_emulator_keeps_serving() {
    let env = env().await;
    let base = env.emu.endpoint();
    for body in [
        r#"{"action":{"kind":"status","status":429},"forSeconds":1e300}"#,
        r#"{"action":{"kind":"status","status":429},"forSeconds":-1}"#,
        r#"{"action":{"kind":"status","status":200}}"#,
    ] {
        let r = env
            .client
            .post(format!("{base}/_emulator/faults"))
            .bearer_auth(env.emu.admin_token())
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains("invalid fault"), "{body}: {text}");
    }
    let p = format!("{}?api-version={HC}", machine_path("web-01"));
    assert_eq!(env.get(&p).await.status, 200, "no fault was injected");
}

#[test]
fn shipped_fixtures_parse() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/emulator/fixtures.yaml"
    ))
    .unwrap();
    let f = arclink::emulator::Fixtures::from_yaml(&text).unwrap();
    assert_eq!(f.all_machines().count(), 4);
    assert_eq!(f.virtual_networks[0].subnets.len(), 1);
    // The companion targets of deploy/examples, in the region of the hub and the machines.
    for seeded in [
        &f.log_analytics_workspaces,
        &f.data_collection_endpoints,
        &f.key_vaults,
        &f.storage_accounts,
    ] {
        assert_eq!(seeded.len(), 1);
        assert_eq!(seeded[0].location, "eastus");
    }
    let root = &f.management_groups[0];
    assert!(root.parent.is_none());
    assert_eq!(f.role_assignments[0].principal_id, "arclink-emulator");
    assert_eq!(f.role_assignments[0].role, "Owner");
    assert!(f.role_assignments[0].scope.ends_with(&root.name));
}
