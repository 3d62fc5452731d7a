//! Issue 20, item 1: the long-running operation of every write the endpoint makes is followed
//! (zones, links, zone group, security rules, the connection approval), resumed from status
//! after a restart, its failure reported with Azure's code and message and counted, and polled
//! as ARM's `Retry-After` says.

use std::time::Duration;

use arclink::api::ArcPrivateEndpoint;
use arclink::api::conditions::{RECONCILING, STALLED};
use arclink::api::endpoint::{Approval, OutboundRules};
use arclink::emulator::Fault;
use arclink::reconcile::arm::MAX_ATTEMPTS;
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::{Change, ChangeAction, Requeue};

use super::support::*;
use crate::common::fixtures::arm_client;

/// The operation of the first PUT whose path contains `path` fails once with a transient
/// `code`: the endpoint is not Ready, the condition carries Azure's code and message with the
/// attempt counted, and the endpoint converges, the write re-sent when `resent` (a resource
/// left `Failed`).
async fn a_failed_operation_is_reported_counted_and_re_sent(
    b: &Bed,
    obj: &mut ArcPrivateEndpoint,
    deps: &EndpointDeps,
    path: &str,
    (code, azure_message): (&str, &str),
    resent: bool,
) {
    b.admin.inject(
        Fault::lro_failure(code, azure_message)
            .method("PUT")
            .path_contains(path)
            .times(1),
    );
    let mut writes = 0;
    let mut reported = false;
    for _ in 0..12 {
        let out = step(b, obj, deps).await;
        writes += out
            .changes
            .iter()
            .filter(|c| c.resource_id.contains(path))
            .count();
        if reason(obj, RECONCILING) == code {
            reported = true;
            break;
        }
        assert!(!ready(obj), "{path}: Ready before the operation ended");
    }
    assert!(
        reported,
        "{path}: the failure never reached the conditions: {:?}",
        obj.status
    );
    assert!(!ready(obj), "{path}");
    let said = message(obj, RECONCILING);
    assert!(said.contains(azure_message), "{path}: {said}");
    assert!(
        said.contains(&format!("attempt 1 of {MAX_ATTEMPTS}")),
        "{path}: {said}"
    );
    let status = obj.status.as_ref().unwrap();
    assert_eq!(status.common.failed_attempts, 1, "{path}");
    assert!(
        status
            .common
            .arm
            .operations
            .iter()
            .all(|op| !op.resource_id.contains(path)),
        "{path}: a failed operation is not polled again: {:?}",
        status.common.arm.operations
    );

    for out in converge(b, obj, deps).await {
        writes += out
            .changes
            .iter()
            .filter(|c| c.resource_id.contains(path))
            .count();
    }
    assert!(ready(obj), "{path}: {:?}", obj.status);
    if resent {
        assert!(writes >= 2, "{path}: the failed write was sent again");
    }
    let status = obj.status.as_ref().unwrap();
    assert_eq!(status.common.failed_attempts, 0, "{path}");
    assert!(
        status.common.arm.operations.is_empty(),
        "{:?}",
        status.common.arm.operations
    );
}

/// A zone, a link, the zone group, a security rule and the connection approval whose
/// operation ends `Failed` are each reported with Azure's code and message, counted, not taken
/// as ready, and (but for the approval) written again.
#[tokio::test]
async fn every_sub_resource_whose_operation_failed_is_reported_counted_and_re_sent() {
    let zone = format!("privateDnsZones/{}", ZONES[0]);
    let cases = [
        (
            zone.as_str(),
            "InternalServerError",
            "An internal error occurred while creating the zone.",
        ),
        (
            "virtualNetworkLinks/arclink-hub",
            "RetryableError",
            "A retryable error occurred.",
        ),
        (
            "privateDnsZoneGroups/default",
            "InternalServerError",
            "The zone group could not be written.",
        ),
        (
            "securityRules/AllowAzOutboundAccess",
            "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress.",
        ),
        (
            APPROVAL,
            "ServiceUnavailable",
            "The service is unavailable; the approval was not applied.",
        ),
    ];
    for (path, code, azure_message) in cases {
        let b = bed().await;
        let mut s = ready_scope(&b, "scope-a").await;
        let mut obj = endpoint("pe", "hub", "scope-a");
        obj.spec.outbound_rules = Some(OutboundRules::default());
        let approval = path == APPROVAL;
        if approval {
            obj.spec.approval = Approval::Manual;
            converge(&b, &mut obj, &deps(&s)).await;
            // The scope as its controller re-reads it, listing the new connection.
            s = ready_scope(&b, "scope-a").await;
            obj.spec.approve_connection = true;
            obj.metadata.generation = Some(2);
        }
        a_failed_operation_is_reported_counted_and_re_sent(
            &b,
            &mut obj,
            &deps(&s),
            path,
            (code, azure_message),
            // The emulator applies an approval with its write, so a failed operation leaves it
            // approved: nothing to send again.
            !approval,
        )
        .await;
    }
}

/// The connection approval's path.
const APPROVAL: &str = "privateEndpointConnections";

/// The example: Azure's error arrives only in the failed operation of a link. A
/// terminal code stalls the endpoint with it (a zone or link that ended Failed is not ready);
/// once the cause is gone, the Failed link is re-sent and the endpoint converges.
#[tokio::test]
async fn a_link_refused_in_its_operation_stalls_with_azures_error_then_is_re_sent() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let refusal = "A virtual network cannot be linked to multiple zones with overlapping namespaces. You tried to link virtual network with 'privatelink.his.arc.azure.com' and 'privatelink.his.arc.azure.com' zones.";
    b.admin.inject(
        Fault::lro_failure("BadRequest", refusal)
            .method("PUT")
            .path_contains(&format!("{}/virtualNetworkLinks", ZONES[0]))
            .times(1),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(stalled(&obj), "{:?}", obj.status);
    assert!(!ready(&obj));
    assert_eq!(reason(&obj, STALLED), "BadRequest");
    let said = message(&obj, STALLED);
    assert!(said.contains(refusal), "{said}");
    assert!(said.contains("virtualNetworkLinks/arclink-hub"), "{said}");
    let link = b
        .admin
        .get(&format!(
            "{}/virtualNetworkLinks/arclink-hub",
            zone_id(ZONES[0])
        ))
        .unwrap();
    assert_eq!(link["properties"]["provisioningState"], "Failed");

    // The next look (the drift check, or a spec change) re-sends the Failed link.
    let out = step(&b, &mut obj, &deps(&s)).await;
    let resent = out
        .changes
        .iter()
        .find(|c| c.resource_id.contains("virtualNetworkLinks/arclink-hub"))
        .expect("the Failed link is written again");
    assert_eq!(resent.action, ChangeAction::Update);
    assert!(
        resent.diff[0]
            .path
            .ends_with("virtualNetworkLinks/arclink-hub.properties.provisioningState"),
        "{:?}",
        resent.diff
    );
    assert!(!ready(&obj));
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
}

/// Private DNS answers `Retry-After: 60`: the endpoint looks again when ARM says, not after a
/// fixed 5 s.
#[tokio::test]
async fn the_operations_retry_after_decides_when_to_look_again() {
    let b = bed().emulator(|c| c.retry_after_secs = 60).await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    for _ in 0..4 {
        let out = step(&b, &mut obj, &deps(&s)).await;
        let wrote_zones = out
            .changes
            .iter()
            .any(|c| c.resource_id.contains("/privateDnsZones/"));
        if wrote_zones {
            assert_eq!(reason(&obj, RECONCILING), "ConfiguringDns");
            assert_eq!(out.requeue, Requeue::After(Duration::from_secs(60)));
            let operations = &obj.status.as_ref().unwrap().common.arm.operations;
            assert_eq!(operations.len(), 3, "{operations:?}");
            return;
        }
        assert_eq!(out.requeue, Requeue::After(Duration::from_secs(60)));
    }
    panic!("the zones were never written: {:?}", obj.status);
}

/// Writes of the zones themselves (not of their links or records).
fn zone_writes(changes: &[Change]) -> usize {
    changes
        .iter()
        .filter(|c| ZONES.iter().any(|z| c.resource_id == zone_id(z)))
        .count()
}

/// The operations of the zones kept in status are resumed by a restarted controller: the zones
/// are not written a second time.
#[tokio::test]
async fn zone_operations_are_resumed_after_a_restart_without_a_second_put() {
    let b = bed().lro(Duration::from_millis(800)).await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    let mut zone_puts = 0;
    for _ in 0..20 {
        let out = step(&b, &mut obj, &deps(&s)).await;
        zone_puts += zone_writes(&out.changes);
        if zone_puts > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
    assert_eq!(zone_puts, 3);
    let kept = obj.status.as_ref().unwrap().common.arm.operations.clone();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept.iter().all(|op| op.action == "Creating"), "{kept:?}");

    // A restarted controller: a new client, the status as stored in Kubernetes.
    let b = Bed {
        arm: arm_client(&b.emu, |_| {}),
        ..b
    };
    let out = step(&b, &mut obj, &deps(&s)).await;
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(reason(&obj, RECONCILING), "ConfiguringDns");
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        let out = step(&b, &mut obj, &deps(&s)).await;
        zone_puts += zone_writes(&out.changes);
        if ready(&obj) {
            break;
        }
    }
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(zone_puts, 3, "each zone written once");
}
