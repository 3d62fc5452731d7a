//! How the endpoint core handles what real ARM does beyond the specs
//! (reference/arm-behaviours.md); the emulator's side of each is in tests/emulator/behaviours.rs.

use arclink::api::DriftPolicy;
use arclink::api::conditions::{DRIFTED, RECONCILING, STALLED};
use arclink::api::endpoint::{Approval, PrivateDnsMode};
use arclink::emulator::{Behaviours, Fault};
use arclink::reconcile::arm::MAX_ATTEMPTS;
use serde_json::{Value, json};

use super::support::*;
use crate::common::fixtures::owned_by;

const PE_TYPE: &str = "Microsoft.Network/privateEndpoints";

fn pe_puts(b: &Bed) -> u64 {
    b.admin.counters().count_for("PUT", PE_TYPE)
}

/// Creates an endpoint the way someone else would (outside arclink).
async fn foreign_endpoint(b: &Bed, name: &str, body: Value) {
    let id: arclink::azure::ResourceId = endpoint_id(name).parse().unwrap();
    b.arm
        .put_and_wait::<_, Value>(&id, &body)
        .await
        .expect("endpoint created");
}

fn connection_body(scope: &str, list: &str, conn: &str, extra: Value) -> Value {
    let mut body = json!({
        "location": "eastus",
        "tags": {"owner": "net-team"},
        "properties": {
            "subnet": {"id": subnet_id("hub")},
            list: [{"name": conn, "properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"]}}],
        }
    });
    if let (Some(p), Some(e)) = (body["properties"].as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    body
}

/// Behaviours 1 and 2: adopting an endpoint whose connection matches the spec writes its tags
/// with a PUT that re-sends the connection (its own name, its state) and the NIC name as read.
#[tokio::test]
async fn an_adopted_endpoint_is_updated_with_its_connection_and_nic_name_as_read() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    foreign_endpoint(
        &b,
        "pe",
        connection_body(
            &scope_id("scope-a"),
            "privateLinkServiceConnections",
            "made-by-hand",
            json!({"customNetworkInterfaceName": "pe-nic"}),
        ),
    )
    .await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.common.policy.adopt = true;
    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Disabled;
    b.admin.reset_counters();
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(pe_puts(&b), 1, "one update, accepted by Azure's rules");
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    let conn = &pe["properties"]["privateLinkServiceConnections"][0];
    assert_eq!(conn["name"], "made-by-hand");
    assert_eq!(pe["properties"]["customNetworkInterfaceName"], "pe-nic");
    assert_eq!(
        pe["tags"]["arclink-owner"],
        owned_by("ArcPrivateEndpoint/pe")
    );
    assert_eq!(
        pe["tags"]["owner"], "net-team",
        "policy.tags Merge keeps it"
    );
}

/// Behaviour 1: the connection of an adopted endpoint that is not the spec's cannot be
/// changed in place: the object stalls naming it, and nothing is written.
#[tokio::test]
async fn an_adopted_endpoint_with_another_connection_stalls_naming_it() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    foreign_endpoint(
        &b,
        "pe",
        connection_body(
            &scope_id("scope-a"),
            "manualPrivateLinkServiceConnections",
            "legacy",
            json!({}),
        ),
    )
    .await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.common.policy.adopt = true;
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "ConnectionMismatch");
    let msg = message(&obj, STALLED);
    assert!(
        msg.contains("connection legacy (manualPrivateLinkServiceConnections)")
            && msg.contains("asks for a automatic connection"),
        "{msg}"
    );
    assert_eq!(b.admin.counters().writes(), 0);
}

/// Behaviour 1 through the manual approval flow: after the connection is approved, a tag
/// change re-sends it with its new state, which Azure accepts.
#[tokio::test]
async fn a_tag_change_after_manual_approval_keeps_the_approved_connection() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.approval = Approval::Manual;
    obj.spec.approve_connection = true;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    obj.spec.common.tags = [("team".to_string(), "net".to_string())].into();
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let pe = b.admin.get(&endpoint_id("pe")).unwrap();
    assert_eq!(pe["tags"]["team"], "net");
    assert_eq!(
        pe["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Approved"
    );
}

/// Behaviour 3: an operation that ends `Failed` with `RetryableError` is not polled again: the
/// write is re-sent (once here), with the attempt count in the condition.
#[tokio::test]
async fn a_retryable_operation_failure_is_re_sent_with_the_attempt_count() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.admin.inject(
        Fault::lro_failure("RetryableError", "A retryable error occurred.")
            .method("PUT")
            .path_contains("privateEndpoints/pe")
            .times(1),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, RECONCILING), "RetryableError");
    assert!(
        message(&obj, RECONCILING).contains(&format!("attempt 1 of {MAX_ATTEMPTS}")),
        "{}",
        message(&obj, RECONCILING)
    );
    assert!(obj.status.as_ref().unwrap().common.arm.operation.is_none());
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(pe_puts(&b), 2, "exactly one extra write");
    assert_eq!(obj.status.as_ref().unwrap().common.failed_attempts, 0);
}

/// Behaviour 3: a synchronous `429 RetryableError` is retried the same way, bounded: after
/// MAX_ATTEMPTS in a row the object is Stalled with the code.
#[tokio::test]
async fn a_retryable_error_that_persists_stalls_after_the_bound() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.admin.inject(
        Fault::status(429)
            .code("RetryableError")
            .message("A retryable error occurred.")
            .method("PUT")
            .path_contains("privateEndpoints/pe"),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    for n in 1..MAX_ATTEMPTS {
        step(&b, &mut obj, &deps(&s)).await;
        assert!(
            message(&obj, RECONCILING).contains(&format!("attempt {n} of")),
            "{n}: {:?}",
            obj.status
        );
    }
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "RetryableError");
    assert!(message(&obj, STALLED).contains("failed 6 times in a row"));
    assert_eq!(
        b.admin.counters().status(429),
        u64::from(MAX_ATTEMPTS),
        "the subscription's bucket was not paused for a failed write"
    );
}

/// Behaviour 3: a PUT that answered 500 but created the endpoint: the next reconcile finds its
/// own endpoint by the owner tag and carries on (no AdoptionRequired, no second create).
#[tokio::test]
async fn a_500_after_the_endpoint_was_created_is_carried_on() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.admin.inject(
        Fault::status(500)
            .applied()
            .method("PUT")
            .path_contains("privateEndpoints/pe")
            .times(1),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, RECONCILING), "InternalServerError");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(pe_puts(&b), 1);
}

/// Behaviour 4: an operation cancelled because another write superseded it is transient:
/// the endpoint is re-read, not stalled.
#[tokio::test]
async fn a_superseded_operation_is_re_read_not_stalled() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    b.admin.inject(
        Fault::lro_failure(
            "CanceledAndSupersededDueToAnotherOperation",
            "Operation was canceled and superseded by another operation.",
        )
        .method("PUT")
        .path_contains("privateEndpoints/pe")
        .times(1),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    step(&b, &mut obj, &deps(&s)).await;
    step(&b, &mut obj, &deps(&s)).await;
    assert_eq!(
        reason(&obj, RECONCILING),
        "CanceledAndSupersededDueToAnotherOperation"
    );
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
}

/// An operation whose status URL keeps failing is given up after a bounded number of polls,
/// and the endpoint is re-read instead (not polled for ever, not written twice).
#[tokio::test]
async fn an_operation_status_that_keeps_failing_is_given_up_and_the_endpoint_re_read() {
    let b = bed().lro(std::time::Duration::from_millis(300)).await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    assert!(obj.status.as_ref().unwrap().common.arm.operation.is_some());
    b.admin.inject(
        Fault::status(503)
            .method("GET")
            .path_contains("operationStatuses"),
    );
    for _ in 0..arclink::reconcile::arm::MAX_POLL_FAILURES {
        step(&b, &mut obj, &deps(&s)).await;
    }
    assert!(
        obj.status.as_ref().unwrap().common.arm.operation.is_none(),
        "{:?}",
        obj.status
    );
    b.admin.clear_faults();
    for _ in 0..60 {
        step(&b, &mut obj, &deps(&s)).await;
        if ready(&obj) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(pe_puts(&b), 1);
}

/// Behaviour 5: the records in status are the same whether Azure lists the names in
/// `customDnsConfigs` or only in the zone group's record sets.
#[tokio::test]
async fn dns_records_are_the_same_whichever_source_carries_them() {
    let mut seen = Vec::new();
    for covered in [true, false] {
        let b = bed().await;
        b.admin.set_behaviours(Behaviours {
            dns_configs_covered_by_zone_group: covered,
            ..Behaviours::default()
        });
        let s = ready_scope(&b, "scope-a").await;
        let mut obj = endpoint("pe", "hub", "scope-a");
        converge(&b, &mut obj, &deps(&s)).await;
        assert!(ready(&obj), "{:?}", obj.status);
        let pe = b.admin.get(&endpoint_id("pe")).unwrap();
        let listed = pe["properties"]["customDnsConfigs"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(listed, if covered { 0 } else { 5 });
        let status = obj.status.unwrap();
        assert_eq!(status.dns_records.len(), 5);
        assert_eq!(status.private_ips.len(), 5);
        seen.push((status.dns_records, status.private_ips));
    }
    assert_eq!(seen[0], seen[1]);
}

/// Behaviour 5: with neither `customDnsConfigs` nor a zone group naming them, the names and
/// IPs come from the endpoint's network interface.
#[tokio::test]
async fn dns_records_come_from_the_nic_when_nothing_else_names_them() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Disabled;
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj));
    let before = obj.status.clone().unwrap();
    b.admin
        .patch_out_of_band(
            &endpoint_id("pe"),
            json!({"properties": {"customDnsConfigs": []}}),
        )
        .unwrap();
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&s)).await;
    let after = obj.status.clone().unwrap();
    assert_eq!(after.dns_records, before.dns_records);
    assert_eq!(after.private_ips, before.private_ips);
    assert_eq!(
        b.admin
            .counters()
            .count_for("GET", "Microsoft.Network/networkInterfaces"),
        1
    );
}

/// Behaviour 6: an endpoint has one zone group; one written by someone else (Azure Policy's
/// `deployedByPolicy`) is reported with its name, never replaced; with `privateDns.mode: None`
/// its records are used.
#[tokio::test]
async fn a_zone_group_written_by_azure_policy_is_reported_not_replaced() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Disabled;
    converge(&b, &mut obj, &deps(&s)).await;
    // The policy's zone lives in another resource group than the one arclink manages.
    let zone: arclink::azure::ResourceId = zone_id(ZONES[0])
        .replace("/rg-dns/", "/rg-net/")
        .parse()
        .unwrap();
    b.arm
        .put_and_wait::<_, Value>(&zone, &json!({"location": "global"}))
        .await
        .unwrap();
    let group: arclink::azure::ResourceId = format!(
        "{}/privateDnsZoneGroups/deployedByPolicy",
        endpoint_id("pe")
    )
    .parse()
    .unwrap();
    b.arm
        .put_and_wait::<_, Value>(
            &group,
            &json!({"properties": {"privateDnsZoneConfigs": [{"name": "his", "properties": {"privateDnsZoneId": zone.to_string()}}]}}),
        )
        .await
        .unwrap();

    step(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "mode None leaves DNS to the policy");
    let records = &obj.status.as_ref().unwrap().dns_records;
    assert_eq!(records.len(), 5, "{records:?}");

    obj.spec.private_dns.as_mut().unwrap().mode = PrivateDnsMode::Managed;
    converge(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), "DnsZoneGroupConflict");
    assert!(message(&obj, STALLED).contains("\"deployedByPolicy\""));
    assert_eq!(
        b.admin.counters().count_for(
            "PUT",
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
        ),
        1,
        "only the policy's own PUT"
    );
}

/// Behaviour 9: two endpoints whose zone groups write into the same zones overwrite each
/// other's records; the first one reports it and does not fight over the record.
#[tokio::test]
async fn another_endpoints_record_in_a_shared_zone_is_reported_not_rewritten() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut first = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut first, &deps(&s)).await;
    assert!(ready(&first));
    let mut second = endpoint("pe2", "spoke", "scope-a");
    converge(&b, &mut second, &deps(&s)).await;
    assert!(ready(&second), "{:?}", second.status);
    let gbl = format!("{}/A/gbl", zone_id(ZONES[0]));
    let theirs = b.admin.get(&gbl).unwrap()["properties"]["aRecords"].clone();
    assert_eq!(theirs[0]["ipv4Address"], "10.2.2.4");

    b.admin.reset_counters();
    let out = step(&b, &mut first, &deps(&s)).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(ready(&first));
    assert_eq!(reason(&first, DRIFTED), "DriftDetected");
    assert!(
        message(&first, DRIFTED).contains("another private endpoint writes into the same zone"),
        "{}",
        message(&first, DRIFTED)
    );
    assert!(!out.drift.reported.is_empty());
    assert_eq!(b.admin.get(&gbl).unwrap()["properties"]["aRecords"], theirs);

    // A record changed by hand (to an address no endpoint has) is still corrected.
    first.spec.common.policy.drift = DriftPolicy::Correct;
    let own = format!("{}/A/eastus", zone_id(ZONES[0]));
    b.admin
        .patch_out_of_band(
            &own,
            json!({"properties": {"aRecords": [{"ipv4Address": "192.0.2.9"}]}}),
        )
        .unwrap();
    let out = step(&b, &mut second, &deps(&s)).await;
    assert!(
        out.changes
            .iter()
            .any(|c| c.resource_id.ends_with("/A/eastus")),
        "{:?}",
        out.changes
    );
}
