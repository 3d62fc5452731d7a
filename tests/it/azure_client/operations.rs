//! get / put / patch / delete / list against the emulator.

use super::common::*;
use arclink::azure::models::{
    Machine, MachineUpdate, PrivateLinkScope, PrivateLinkScopeProperties, Subnet,
};
use arclink::azure::{ArmError, CollectionId, Deleted, Write};
use arclink::emulator::{EmulatorConfig, Fault};
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;

fn new_scope() -> PrivateLinkScope {
    PrivateLinkScope {
        location: Some("eastus".to_string()),
        tags: Some(BTreeMap::from([(
            "managed-by".to_string(),
            "arclink".to_string(),
        )])),
        properties: Some(PrivateLinkScopeProperties {
            public_network_access: Some("Disabled".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The client's first request to a namespace of a subscription reads the api-versions Azure
/// serves there; tests counting other requests make it first.
async fn negotiated(client: &arclink::azure::ArmClient) {
    let _: Option<Machine> = client.get(&machine(0)).await.unwrap();
}

#[tokio::test]
async fn get_existing_and_missing() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    let m: Machine = client
        .get(&machine(3))
        .await
        .unwrap()
        .expect("fixture machine");
    assert_eq!(m.id.as_ref(), Some(&machine(3)));
    assert_eq!(m.properties.unwrap().status.as_deref(), Some("Connected"));
    let not_found = client.metrics().request_count("GET", 404);
    let missing: Option<Machine> = client.get(&machine(999)).await.unwrap();
    assert!(missing.is_none());
    assert_eq!(client.metrics().request_count("GET", 404) - not_found, 1);
    let s: Subnet = client.get(&subnet()).await.unwrap().unwrap();
    assert_eq!(
        s.properties.unwrap().address_prefix.as_deref(),
        Some("10.0.1.0/24")
    );
    assert!(client.metrics().request_count("GET", 200) >= 2);
}

#[tokio::test]
async fn put_patch_delete_scope() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    let id = scope("pls-ops");
    let created: PrivateLinkScope = client.put_and_wait(&id, &new_scope()).await.unwrap();
    let props = created.properties.clone().unwrap();
    assert_eq!(props.public_network_access.as_deref(), Some("Disabled"));
    assert!(props.private_link_scope_id.is_some());

    // GET-modify-PUT with read-only fields stripped.
    let mut desired = created.for_write();
    desired.properties.as_mut().unwrap().public_network_access = Some("Enabled".to_string());
    let replaced: PrivateLinkScope = client.put_and_wait(&id, &desired).await.unwrap();
    assert_eq!(
        replaced
            .properties
            .unwrap()
            .public_network_access
            .as_deref(),
        Some("Enabled")
    );

    let tags = serde_json::json!({"tags": {"team": "platform"}});
    let patched: PrivateLinkScope = client.patch_and_wait(&id, &tags).await.unwrap();
    assert_eq!(
        patched.tags.unwrap().get("team").map(String::as_str),
        Some("platform")
    );

    match client.delete(&id).await.unwrap() {
        Deleted::Gone => {}
        Deleted::Pending(token) => {
            client.wait(&token).await.unwrap();
        }
    }
    assert!(client.get::<PrivateLinkScope>(&id).await.unwrap().is_none());
    // Deleting what is gone is not an error.
    assert_eq!(client.delete(&id).await.unwrap(), Deleted::Gone);
}

#[tokio::test]
async fn patch_machine_association() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    let scope_id = scope("pls-assoc");
    let _: PrivateLinkScope = client.put_and_wait(&scope_id, &new_scope()).await.unwrap();
    let m: Machine = client
        .patch_and_wait(
            &machine(1),
            &MachineUpdate::private_link_scope(Some(scope_id.clone())),
        )
        .await
        .unwrap();
    assert_eq!(
        m.properties.unwrap().private_link_scope_resource_id,
        Some(scope_id)
    );
    let stored = emu.admin().get(&machine(1).to_string()).unwrap();
    assert!(
        stored["properties"]["privateLinkScopeResourceId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&scope("pls-assoc").to_string())
    );
}

#[tokio::test]
async fn list_follows_next_link_across_pages() {
    let emu = emulator(EmulatorConfig {
        page_size: 2,
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let machines = CollectionId::new(&rg(), "Microsoft.HybridCompute/machines");
    negotiated(&client).await;
    emu.admin().reset_counters();
    let pages: Vec<Vec<Machine>> = client.list_pages(&machines).try_collect().await.unwrap();
    assert!(pages.len() >= 3, "{} pages", pages.len());
    assert!(pages.iter().all(|p| p.len() <= 2));
    assert_eq!(emu.admin().counters().count("GET"), pages.len() as u64);
    let all: Vec<Machine> = client.list(&machines).try_collect().await.unwrap();
    let mut names: Vec<String> = all.iter().map(|m| m.name.clone().unwrap()).collect();
    names.sort();
    let expected: Vec<String> = (0..MACHINES).map(|i| format!("srv-{i:05}")).collect();
    assert_eq!(names, expected);
    // Items arrive lazily: taking two reads only the first page.
    emu.admin().reset_counters();
    let first_two: Vec<Result<Machine, ArmError>> = client.list(&machines).take(2).collect().await;
    assert_eq!(first_two.len(), 2);
    assert_eq!(emu.admin().counters().count("GET"), 1);
}

#[tokio::test]
async fn transient_503_then_success() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    negotiated(&client).await;
    emu.admin().reset_counters();
    emu.admin().inject(Fault::status(503).times(1));
    let m: Option<Machine> = client.get(&machine(0)).await.unwrap();
    assert!(m.is_some());
    let counters = emu.admin().counters();
    assert_eq!(counters.status(503), 1);
    assert_eq!(counters.count("GET"), 2);
    assert_eq!(client.metrics().request_count("GET", 503), 1);
}

#[tokio::test]
async fn transient_failures_give_up_after_the_retry_budget() {
    let emu = emulator(EmulatorConfig::default()).await;
    let mut options = options(&emu);
    options.retry.max_transient_retries = 2;
    let client = arclink::azure::ArmClient::new(options).unwrap();
    negotiated(&client).await;
    emu.admin().reset_counters();
    emu.admin().inject(Fault::status(500).times(10));
    let err = client.get::<Machine>(&machine(0)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ArmError::Transient {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(emu.admin().counters().count("GET"), 3);
}

#[tokio::test]
async fn terminal_400_is_returned_verbatim() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    emu.admin().reset_counters();
    let body = serde_json::json!({"properties": {"privateLinkScopeResourceId": "not-an-id"}});
    let err = client
        .patch::<_, Machine>(&machine(2), &body)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ArmError::Terminal {
            status: 400,
            code: "LinkedInvalidPropertyId".to_string(),
            message: "Property id 'not-an-id' at path 'properties.privateLinkScopeResourceId' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.".to_string(),
            target: None,
        }
    );
    assert!(!err.is_retryable());
    assert_eq!(err.metric_label(), "terminal");
    // Not retried.
    assert_eq!(emu.admin().counters().count("PATCH"), 1);
}

#[tokio::test]
async fn write_returns_done_or_pending_by_status() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    let w: Write<PrivateLinkScope> = client.put(&scope("pls-w"), &new_scope()).await.unwrap();
    let scope_done = match w {
        Write::Done(s) => s,
        Write::Pending(t) => {
            serde_json::from_value(client.wait(&t).await.unwrap().unwrap()).unwrap()
        }
    };
    assert_eq!(scope_done.name.as_deref(), Some("pls-w"));
}
