//! What someone else did, as a Kubernetes Event (issue 20 item 4): rules a PUT of the whole
//! network security group removed are re-created, and the controller says so in a Warning
//! Event naming them, besides the events of the conditions' transitions.

use std::sync::Arc;

use arclink::api::ArcPrivateEndpoint;
use arclink::api::endpoint::OutboundRules;
use arclink::controller::kind;
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::scope_ref::ScopeSource;
use http::Method;
use serde_json::Value;

use super::support::{EVENTS, NS, condition, expect_secret};
use crate::endpoint::support::{bed, converge, endpoint, nsg_id, ready, ready_scope, scope_id};

const STATUS: &str = "/apis/arclink.io/v1alpha1/namespaces/ns/arcprivateendpoints/pe/status";

/// The next request, an Event about endpoint `pe`, answered; its body.
async fn endpoint_event(api: &mut crate::common::api_server::ApiServer) -> Value {
    let call = api.expect(Method::POST, EVENTS).await;
    let event = call.body.clone();
    assert_eq!(event["regarding"]["kind"], "ArcPrivateEndpoint");
    assert_eq!(event["regarding"]["name"], "pe");
    assert_eq!(event["regarding"]["namespace"], NS);
    let mut answer = event.clone();
    answer["metadata"]["name"] = "event-1".into();
    call.respond(201, &answer);
    event
}

#[tokio::test]
async fn rules_removed_by_someone_else_are_reported_in_a_warning_event() {
    let mut b = bed().await;
    let _scope = ready_scope(&b, "scope-a").await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    obj.spec.scope_ref = None;
    obj.spec.scope_id = Some(scope_id("scope-a"));
    obj.spec.outbound_rules = Some(OutboundRules::default());
    obj.metadata.uid = Some("uid-pe".into());
    obj.metadata.resource_version = Some("1".into());
    obj.metadata.finalizers = Some(vec![arclink::api::FINALIZER.to_string()]);
    let d = EndpointDeps {
        target: ScopeSource::Id(scope_id("scope-a")).into(),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    };
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    // Terraform applies the group with inline rules that do not list arclink's.
    for rule in ["AllowAADOutboundAccess", "AllowAzOutboundAccess"] {
        b.admin
            .delete_out_of_band(&format!("{}/securityRules/{rule}", nsg_id("hub-nsg")))
            .unwrap();
    }
    let task = tokio::spawn(kind::reconcile::<ArcPrivateEndpoint>(
        Arc::new(obj.clone()),
        b.ctx.clone(),
    ));
    expect_secret(&mut b.api, "arclink-credential", None).await;
    let notice = endpoint_event(&mut b.api).await;
    assert_eq!(notice["type"], "Warning");
    assert_eq!(notice["reason"], "OutboundRulesRemoved");
    let note = notice["note"].as_str().unwrap();
    assert!(
        note.contains("AllowAADOutboundAccess") && note.contains("AllowAzOutboundAccess"),
        "{note}"
    );
    assert!(note.contains("hub-nsg"), "{note}");

    let call = b.api.expect(Method::PATCH, STATUS).await;
    let status = call.body["status"].clone();
    let mut answer = serde_json::to_value(&obj).unwrap();
    answer["status"] = status.clone();
    call.ok(&answer);
    assert_eq!(condition(&status, "Reconciling")["status"], "True");
    // The transitions: Ready goes False while the rules are written, and the drift corrected.
    let mut reasons: Vec<String> = Vec::new();
    for _ in 0..2 {
        let event = endpoint_event(&mut b.api).await;
        assert_eq!(event["type"], "Normal");
        reasons.push(event["reason"].as_str().unwrap().to_string());
    }
    reasons.sort();
    assert_eq!(reasons, ["ConfiguringOutboundRules", "DriftCorrected"]);
    b.api.finish(task).await.unwrap();
    assert!(
        b.admin
            .get(&format!(
                "{}/securityRules/AllowAADOutboundAccess",
                nsg_id("hub-nsg")
            ))
            .is_some(),
        "the first rule is being re-created"
    );
}
