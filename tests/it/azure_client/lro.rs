//! Long-running operations: each polling style, failure, and resuming from a serialised token.

use super::common::*;
use arclink::azure::models::{
    PrivateDnsZone, PrivateEndpoint, PrivateEndpointProperties, PrivateLinkScope,
    PrivateLinkScopeProperties, PrivateLinkServiceConnection,
    PrivateLinkServiceConnectionProperties, SubResource,
};
use arclink::azure::{
    ArmClient, ArmError, Deleted, OperationToken, Poll, PollStyle, ResourceId, Write,
};
use arclink::emulator::{EmulatorConfig, Fault};
use std::time::Duration;

fn slow_lro() -> EmulatorConfig {
    EmulatorConfig {
        lro_duration: Duration::from_millis(1500),
        retry_after_secs: 1,
        ..Default::default()
    }
}

async fn make_scope(client: &ArmClient, name: &str) -> ResourceId {
    let id = scope(name);
    let body = PrivateLinkScope {
        location: Some("eastus".into()),
        properties: Some(PrivateLinkScopeProperties {
            public_network_access: Some("Disabled".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let _: PrivateLinkScope = client.put_and_wait(&id, &body).await.unwrap();
    id
}

fn endpoint_body(scope: &ResourceId) -> PrivateEndpoint {
    PrivateEndpoint {
        location: Some("eastus".into()),
        properties: Some(PrivateEndpointProperties {
            subnet: Some(SubResource::new(subnet())),
            private_link_service_connections: Some(vec![PrivateLinkServiceConnection {
                name: Some("arc".into()),
                properties: Some(PrivateLinkServiceConnectionProperties {
                    private_link_service_id: Some(scope.clone()),
                    group_ids: Some(vec!["hybridcompute".into()]),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pe_id(name: &str) -> ResourceId {
    rg().child("Microsoft.Network/privateEndpoints", name)
}

#[tokio::test]
async fn network_put_polls_azure_async_operation_then_gets_the_resource() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let scope = make_scope(&client, "pls-lro").await;
    let w: Write<PrivateEndpoint> = client
        .put(&pe_id("pe-1"), &endpoint_body(&scope))
        .await
        .unwrap();
    let Write::Pending(token) = w else {
        panic!("a Network PUT with a slow LRO must be pending")
    };
    assert_eq!(token.style, PollStyle::AzureAsyncOperation);
    assert_eq!(token.method, "PUT");
    match client.poll(&token).await.unwrap() {
        Poll::InProgress { retry_after } => assert_eq!(retry_after, Duration::from_secs(1)),
        other => panic!("finished before lro_duration: {other:?}"),
    }
    let done = client.wait(&token).await.unwrap().unwrap();
    let pe: PrivateEndpoint = serde_json::from_value(done).unwrap();
    assert_eq!(pe.id.as_ref(), Some(&pe_id("pe-1")));
    assert_eq!(
        pe.properties.unwrap().provisioning_state.as_deref(),
        Some("Succeeded")
    );
    let lro = client.metrics().lro();
    assert!(lro.succeeded >= 1);
    assert!(lro.max_seconds >= 1.0, "{lro:?}");
}

#[tokio::test]
async fn delete_with_both_headers_polls_the_status_and_then_is_gone() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let zone_id = rg().child(
        "Microsoft.Network/privateDnsZones",
        "privatelink.his.arc.azure.com",
    );
    let zone = PrivateDnsZone {
        location: Some("global".into()),
        ..Default::default()
    };
    let _: PrivateDnsZone = client.put_and_wait(&zone_id, &zone).await.unwrap();
    let Deleted::Pending(token) = client.delete(&zone_id).await.unwrap() else {
        panic!("a slow delete must be pending")
    };
    // ARM sends Azure-AsyncOperation and Location; the status resource is polled.
    assert_eq!(token.style, PollStyle::AzureAsyncOperation);
    assert!(token.location_url.is_some());
    assert_eq!(client.wait(&token).await.unwrap(), None);
    assert!(
        client
            .get::<PrivateDnsZone>(&zone_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn location_polling_waits_for_the_result_resource() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let id = make_scope(&client, "pls-loc").await;
    let Deleted::Pending(token) = client.delete(&id).await.unwrap() else {
        panic!("a slow delete must be pending")
    };
    // As if ARM had sent only `Location` (HybridCompute often does).
    let location_only = OperationToken {
        style: PollStyle::Location,
        status_url: token.location_url.clone().expect("Location header"),
        location_url: None,
        ..token
    };
    assert!(matches!(
        client.poll(&location_only).await.unwrap(),
        Poll::InProgress { .. }
    ));
    assert_eq!(client.wait(&location_only).await.unwrap(), None);
    assert!(client.get::<PrivateLinkScope>(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn provisioning_state_polling_for_writes_without_operation_headers() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let scope = make_scope(&client, "pls-ps").await;
    let id = pe_id("pe-ps");
    let Write::Pending(token) = client
        .put::<_, PrivateEndpoint>(&id, &endpoint_body(&scope))
        .await
        .unwrap()
    else {
        panic!("expected a pending write")
    };
    // As if ARM had answered 201 with a non-terminal provisioningState and no header.
    let by_state = OperationToken {
        style: PollStyle::ProvisioningState,
        status_url: format!("{}{id}?api-version=2024-05-01", emu.endpoint()),
        location_url: None,
        ..token
    };
    assert!(matches!(
        client.poll(&by_state).await.unwrap(),
        Poll::InProgress { .. }
    ));
    let done = client.wait(&by_state).await.unwrap().unwrap();
    assert_eq!(done["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn failed_operation_surfaces_its_error_code() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let scope = make_scope(&client, "pls-fail").await;
    emu.admin().inject(
        Fault::lro_failure("PrivateEndpointCreationFailed", "no capacity in subnet").times(1),
    );
    let w: Write<PrivateEndpoint> = client
        .put(&pe_id("pe-fail"), &endpoint_body(&scope))
        .await
        .unwrap();
    let Write::Pending(token) = w else {
        panic!("expected a pending write")
    };
    let err = client.wait(&token).await.unwrap_err();
    match &err {
        ArmError::Terminal { code, message, .. } => {
            assert_eq!(code, "PrivateEndpointCreationFailed");
            assert_eq!(message, "no capacity in subnet");
        }
        other => panic!("expected Terminal, got {other:?}"),
    }
    assert!(client.metrics().lro().failed >= 1);
}

#[tokio::test]
async fn token_from_pending_put_is_resumed_by_a_fresh_client() {
    let emu = emulator(slow_lro()).await;
    let first = client(&emu);
    let scope = make_scope(&first, "pls-resume").await;
    emu.admin().reset_counters();
    let w: Write<PrivateEndpoint> = first
        .put(&pe_id("pe-resume"), &endpoint_body(&scope))
        .await
        .unwrap();
    let Write::Pending(token) = w else {
        panic!("expected a pending write")
    };
    // What a reconciler stores in status and reads back after a restart.
    let stored = serde_json::to_string(&token).unwrap();
    assert!(!stored.contains(CLIENT_SECRET));
    drop(first);

    let restored: OperationToken = serde_json::from_str(&stored).unwrap();
    let second = client(&emu);
    let done = second.wait(&restored).await.unwrap().unwrap();
    assert_eq!(done["properties"]["provisioningState"], "Succeeded");
    // The write was issued exactly once.
    assert_eq!(emu.admin().counters().count("PUT"), 1);
}

#[tokio::test]
async fn tampered_token_is_not_followed_elsewhere() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let scope = make_scope(&client, "pls-tamper").await;
    let Write::Pending(mut token) = client
        .put::<_, PrivateEndpoint>(&pe_id("pe-t"), &endpoint_body(&scope))
        .await
        .unwrap()
    else {
        panic!("expected a pending write")
    };
    token.status_url = "https://attacker.example/steal".into();
    let err = client.poll(&token).await.unwrap_err();
    assert_eq!(err.metric_label(), "invalid_response");
}

/// A poll that fails (the status URL answers 5xx) is an error of the poll, the operation may
/// still run; an operation that ended Failed is a result (`Poll::Failed`), transient when its
/// code is `RetryableError` (reference/arm-behaviours.md 3).
#[tokio::test]
async fn a_failed_poll_is_not_a_failed_operation() {
    let emu = emulator(slow_lro()).await;
    let client = client(&emu);
    let scope = make_scope(&client, "pls-poll").await;
    emu.admin()
        .inject(Fault::lro_failure("RetryableError", "A retryable error occurred.").times(1));
    let Write::Pending(token) = client
        .put::<_, PrivateEndpoint>(&pe_id("pe-poll"), &endpoint_body(&scope))
        .await
        .unwrap()
    else {
        panic!("expected a pending write")
    };
    emu.admin()
        .inject(Fault::status(503).method("GET").times(20));
    let err = client.poll(&token).await.unwrap_err();
    assert!(
        matches!(
            err,
            ArmError::Transient {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    emu.admin().clear_faults();
    let outcome = loop {
        match client.poll(&token).await.unwrap() {
            Poll::InProgress { .. } => tokio::time::sleep(Duration::from_millis(200)).await,
            other => break other,
        }
    };
    let Poll::Failed(e) = outcome else {
        panic!("expected the operation's failure, got {outcome:?}")
    };
    assert_eq!(e.code(), "RetryableError");
    assert!(e.is_retryable());
}
