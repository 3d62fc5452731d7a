//! Issue 20, item 8: a principal that signs in but lacks a permission gets an authorization
//! failure naming the permission and the resource ARM refused, not "check the credentials".

use arclink::api::conditions::{READY, RECONCILING, STALLED};
use arclink::api::endpoint::Approval;
use arclink::emulator::Fault;

use super::support::*;

const APPROVAL_ACTION: &str =
    "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnectionsApproval/action";

/// The endpoint's PUT asks for automatic approval on a scope the principal may not approve
/// connections of: ARM answers 403 `LinkedAuthorizationFailed` naming the linked scope.
#[tokio::test]
async fn a_linked_authorization_failure_names_the_permission_and_the_scope() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let scope = scope_id("scope-a");
    let pe = endpoint_id("pe");
    b.admin.inject(
        Fault::status(403)
            .code("LinkedAuthorizationFailed")
            .message(&format!(
                "The client 'c' with object id 'o' has permission to perform action 'Microsoft.Network/privateEndpoints/write' on scope '{pe}'; however, it does not have permission to perform action(s) '{APPROVAL_ACTION}' on the linked scope(s) '{scope}' (respectively) or the linked scope(s) are invalid."
            ))
            .method("PUT")
            .path_contains("/privateEndpoints/pe"),
    );
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(stalled(&obj), "{:?}", obj.status);
    assert_eq!(reason(&obj, READY), "AuthorizationFailed");
    let text = message(&obj, STALLED);
    assert!(
        text.contains(&format!("may not perform {APPROVAL_ACTION} on {scope}")),
        "{text}"
    );
    assert!(!text.contains("credentials"), "{text}");
}

/// A manual connection approved through the scope (`approveConnection`) by a principal without
/// write access to the scope's connections: 403 `AuthorizationFailed`.
#[tokio::test]
async fn a_refused_connection_approval_is_an_authorization_failure() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.approval = Approval::Manual;
    converge(&b, &mut obj, &deps(&s)).await;
    let s = ready_scope(&b, "scope-a").await;
    for _ in 0..3 {
        step(&b, &mut obj, &deps(&s)).await;
    }
    assert_eq!(reason(&obj, RECONCILING), "WaitingForApproval");
    let action = "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections/write";
    let connections = format!("{}/privateEndpointConnections", scope_id("scope-a"));
    b.admin.inject(
        Fault::status(403)
            .code("AuthorizationFailed")
            .message(&format!(
                "The client 'c' with object id 'o' does not have authorization to perform action '{action}' over scope '{connections}/pe-conn' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ))
            .method("PUT")
            .path_contains("/privateEndpointConnections/"),
    );
    obj.spec.approve_connection = true;
    obj.metadata.generation = Some(2);
    step(&b, &mut obj, &deps(&s)).await;
    assert!(stalled(&obj), "{:?}", obj.status);
    assert_eq!(reason(&obj, READY), "AuthorizationFailed");
    let text = message(&obj, STALLED);
    assert!(
        text.contains(&format!(
            "may not perform {action} on {connections}/pe-conn"
        )),
        "{text}"
    );
}
