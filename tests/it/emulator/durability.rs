//! State file, concurrency and scale behaviour.

use std::sync::Arc;

use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn state_file_survives_a_restart_with_same_ca_and_tokens() {
    let dir = std::env::temp_dir().join(format!("arclink-emu-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let config = || EmulatorConfig {
        fixtures: Some(fixtures()),
        state_file: Some(state.clone()),
        ..Default::default()
    };
    let env = env_with(config()).await;
    let p = format!("{}?api-version={HC}", scope_path("kept"));
    assert_eq!(
        env.put(&p, json!({"location": "westeurope", "tags": {"k": "v"}}))
            .await
            .status,
        201
    );
    let m = format!("{}?api-version={HC}", machine_path("web-01"));
    env.patch(&m, json!({"tags": {"drifted": "yes"}})).await;
    let ca = env.emu.ca_pem().to_string();
    let token = env.token.clone();
    env.emu.shutdown().await.unwrap();
    assert!(state.is_file());

    let emu = Emulator::start(config()).await.unwrap();
    assert_eq!(emu.ca_pem(), ca);
    let env2 = Env {
        client: client_for(&emu),
        emu,
        token,
    };
    let got = env2.get(&p).await;
    assert_eq!(
        got.status, 200,
        "token and resource survive: {:?}",
        got.body
    );
    assert_eq!(got.body["tags"], json!({"k": "v"}));
    // Fixtures do not overwrite state restored from the file.
    assert_eq!(env2.get(&m).await.body["tags"], json!({"drifted": "yes"}));
    env2.emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_parallel_puts_and_conflicting_writes_keep_state_consistent() {
    let env = Arc::new(
        env_with(EmulatorConfig {
            fixtures: Some(fixtures()),
            throttling: None,
            ..Default::default()
        })
        .await,
    );
    let mut tasks = Vec::new();
    for i in 0..100 {
        let env = env.clone();
        tasks.push(tokio::spawn(async move {
            env.put(
                &format!("{}?api-version={HC}", scope_path(&format!("scope-{i}"))),
                json!({"location": "westeurope"}),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let list = env
        .get(&format!(
            "{}/providers/Microsoft.HybridCompute/privateLinkScopes?api-version={HC}",
            rg_path("rg1")
        ))
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 100);

    // 50 writers race on one scope's tags; every response is a whole resource, and the final
    // state is one of the written values.
    let p = format!("{}?api-version={HC}", scope_path("scope-0"));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let env = env.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let r = env.put(&p, json!({"location": "westeurope", "tags": {"writer": i.to_string()}, "properties": {"publicNetworkAccess": "Enabled"}})).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.body["tags"]["writer"], i.to_string());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = env.get(&p).await.body;
    let writer: u32 = last["tags"]["writer"].as_str().unwrap().parse().unwrap();
    assert!(writer < 50);
    assert_eq!(
        last["properties"]["privateLinkScopeId"],
        env.emu.admin().get(&scope_path("scope-0")).unwrap()["properties"]["privateLinkScopeId"]
    );
    assert_eq!(env.emu.admin().counters().count("PUT"), 150);
}

#[tokio::test]
async fn ten_thousand_machines_page_through_a_resource_group_and_subscription_lists_work() {
    let f = Fixtures::from_yaml(&format!(
        "resourceGroups: [{{subscriptionId: {SUB}, name: big, location: eastus}}, {{subscriptionId: {SUB}, name: rg1, location: eastus}}]\nmachineSets: [{{subscriptionId: {SUB}, resourceGroup: big, prefix: m, count: 10000, location: eastus, tags: {{fleet: x}}}}]"
    ))
    .unwrap();
    let env = env_with(EmulatorConfig {
        fixtures: Some(f),
        throttling: None,
        page_size: 1000,
        ..Default::default()
    })
    .await;
    let mut next = Some(format!(
        "{}/providers/Microsoft.HybridCompute/machines?api-version={HC}",
        rg_path("big")
    ));
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    while let Some(url) = next {
        let r = env.get(&url).await;
        pages += 1;
        for m in r.body["value"].as_array().unwrap() {
            assert!(
                seen.insert(m["name"].as_str().unwrap().to_string()),
                "duplicate {}",
                m["name"]
            );
            assert_eq!(m["tags"]["fleet"], "x");
        }
        next = r.body["nextLink"].as_str().map(str::to_string);
    }
    assert_eq!((seen.len(), pages), (10000, 10));

    env.put(
        &format!("{}?api-version={HC}", scope_path("a")),
        json!({"location": "eastus"}),
    )
    .await;
    let subs = env.get(&format!("/subscriptions/{SUB}/providers/Microsoft.HybridCompute/privateLinkScopes?api-version={HC}")).await;
    assert_eq!(subs.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(subs.body["value"][0]["name"], "a");
    let groups = env
        .get(&format!(
            "/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(groups.body["value"].as_array().unwrap().len(), 2);
}
