//! spec.outboundRules: the documentation's outbound rules for Microsoft Entra ID and Azure
//! Resource Manager in a network security group.

use arclink::api::conditions::{DRIFTED, READY, STALLED, find};
use arclink::api::endpoint::OutboundRules;
use arclink::api::{ArcPrivateEndpoint, DeletionPolicy, DriftPolicy};
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::{self, ChangeAction, Cleanup};
use serde_json::{Value, json};

use super::support::*;

const AAD: &str = "AllowAADOutboundAccess";
const AZ: &str = "AllowAzOutboundAccess";
const MARKER: &str = "managed by arclink: test-cluster/ns/ArcPrivateEndpoint/pe";

fn rule_id(nsg: &str, rule: &str) -> String {
    format!("{}/securityRules/{rule}", nsg_id(nsg))
}

fn with_rules(mut obj: ArcPrivateEndpoint) -> ArcPrivateEndpoint {
    obj.spec.outbound_rules = Some(OutboundRules::default());
    obj
}

fn rule(b: &Bed, nsg: &str, name: &str) -> Option<Value> {
    b.admin.get(&rule_id(nsg, name))
}

/// A rule put into the group by someone else (a person, another tool).
async fn seed_rule(b: &Bed, nsg: &str, name: &str, props: Value) {
    b.arm
        .put_and_wait::<_, Value>(
            &rule_id(nsg, name).parse().unwrap(),
            &json!({ "properties": props }),
        )
        .await
        .unwrap();
}

fn outbound(priority: i64, access: &str, destination: &str) -> Value {
    json!({"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
        "sourceAddressPrefix": "*", "destinationAddressPrefix": destination,
        "access": access, "priority": priority, "direction": "Outbound"})
}

async fn ready_with_rules(b: &Bed) -> (ArcPrivateEndpoint, EndpointDeps) {
    let s = ready_scope(b, "scope-a").await;
    let d = deps(&s);
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    (obj, d)
}

async fn clean_up(b: &Bed, obj: &mut ArcPrivateEndpoint, d: &EndpointDeps) -> String {
    for _ in 0..12 {
        match reconcile::cleanup(&b.arm, &b.settings, &(), obj, d).await {
            Cleanup::Done(msg) => return msg,
            Cleanup::Pending { status, .. } => obj.status = Some(status),
        }
    }
    panic!("cleanup did not finish: {:?}", obj.status);
}

#[tokio::test]
async fn the_documented_rules_go_into_the_subnets_group_and_steady_state_writes_nothing() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    let aad = rule(&b, "hub-nsg", AAD).expect("AllowAADOutboundAccess exists");
    assert_eq!(
        aad["properties"],
        json!({
            "description": MARKER,
            "protocol": "Tcp",
            "sourcePortRange": "*",
            "destinationPortRange": "443",
            "sourceAddressPrefix": "VirtualNetwork",
            "destinationAddressPrefix": "AzureActiveDirectory",
            "access": "Allow",
            "priority": 150,
            "direction": "Outbound",
            "provisioningState": "Succeeded"
        })
    );
    let az = rule(&b, "hub-nsg", AZ).expect("AllowAzOutboundAccess exists");
    assert_eq!(
        az["properties"]["destinationAddressPrefix"],
        "AzureResourceManager"
    );
    assert_eq!(az["properties"]["priority"], 151);
    // The group's GET shows them with its default rules and the subnet it is attached to.
    let group = b.admin.get(&nsg_id("hub-nsg")).unwrap();
    assert_eq!(
        group["properties"]["securityRules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        group["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert!(
        group["properties"]["subnets"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/hub/subnets/private-endpoints")
    );
    let st = obj.status.clone().unwrap().outbound_rules.unwrap();
    assert!(
        st.network_security_group_id
            .eq_ignore_ascii_case(&nsg_id("hub-nsg"))
    );
    let names: Vec<(&str, u32)> = st
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.priority))
        .collect();
    assert_eq!(names, vec![(AAD, 150), (AZ, 151)]);

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(
        b.admin.counters().writes(),
        0,
        "steady state writes nothing"
    );
}

#[tokio::test]
async fn drift_is_corrected_field_by_field() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    b.admin
        .patch_out_of_band(
            &rule_id("hub-nsg", AZ),
            json!({"properties": {"priority": 160, "destinationPortRange": "80"}}),
        )
        .unwrap();
    let out = step(&b, &mut obj, &d).await;
    let change = out
        .changes
        .iter()
        .find(|c| {
            c.resource_id
                .ends_with("/securityRules/AllowAzOutboundAccess")
        })
        .expect("the rule is rewritten");
    assert_eq!(change.action, ChangeAction::Update);
    let paths: Vec<&str> = change.diff.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "securityRules/AllowAzOutboundAccess.properties.destinationPortRange",
            "securityRules/AllowAzOutboundAccess.properties.priority",
        ]
    );
    assert_eq!(out.changes.len(), 1, "the other rule is not written");
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    let az = rule(&b, "hub-nsg", AZ).unwrap();
    assert_eq!(az["properties"]["priority"], 151);
    assert_eq!(az["properties"]["destinationPortRange"], "443");
}

#[tokio::test]
async fn drift_is_reported_under_report_and_nothing_is_written() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin
        .patch_out_of_band(
            &rule_id("hub-nsg", AAD),
            json!({"properties": {"sourceAddressPrefix": "10.0.0.0/8"}}),
        )
        .unwrap();
    b.admin.delete_out_of_band(&rule_id("hub-nsg", AZ)).unwrap();
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(out.changes.is_empty());
    let drift: Vec<String> = obj
        .status
        .as_ref()
        .unwrap()
        .common
        .arm
        .drift
        .iter()
        .map(|e| e.path.clone())
        .collect();
    assert!(
        drift.contains(
            &"securityRules/AllowAADOutboundAccess.properties.sourceAddressPrefix".into()
        ),
        "{drift:?}"
    );
    assert!(
        drift.contains(&"securityRules/AllowAzOutboundAccess".into()),
        "{drift:?}"
    );
    assert_eq!(reason(&obj, DRIFTED), "DriftDetected");
    assert_eq!(
        rule(&b, "hub-nsg", AAD).unwrap()["properties"]["sourceAddressPrefix"],
        "10.0.0.0/8"
    );
    assert!(rule(&b, "hub-nsg", AZ).is_none());
}

#[tokio::test]
async fn an_unowned_rule_of_the_same_name_is_reported_then_adopted_on_request() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut by_hand = outbound(150, "Allow", "AzureActiveDirectory");
    by_hand["description"] = json!("created by hand from the docs");
    by_hand["protocol"] = json!("Tcp");
    by_hand["destinationPortRange"] = json!("443");
    seed_rule(&b, "hub-nsg", AAD, by_hand).await;
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert!(stalled(&obj), "{:?}", obj.status);
    assert_eq!(reason(&obj, STALLED), "OutboundRuleConflict");
    let msg = message(&obj, STALLED);
    assert!(msg.contains(AAD) && msg.contains("adopt"), "{msg}");
    let kept = rule(&b, "hub-nsg", AAD).unwrap();
    assert_eq!(
        kept["properties"]["description"],
        "created by hand from the docs"
    );
    assert!(
        rule(&b, "hub-nsg", AZ).is_none(),
        "checked before any write"
    );

    obj.spec.common.policy.adopt = true;
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let adopted = rule(&b, "hub-nsg", AAD).unwrap();
    assert_eq!(adopted["properties"]["description"], MARKER);
    assert_eq!(
        adopted["properties"]["sourceAddressPrefix"],
        "VirtualNetwork"
    );
    assert!(rule(&b, "hub-nsg", AZ).is_some());
}

#[tokio::test]
async fn a_rule_with_the_same_priority_is_reported_not_overwritten() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    seed_rule(
        &b,
        "hub-nsg",
        "CorpProxy",
        outbound(151, "Allow", "10.9.0.0/16"),
    )
    .await;
    // An inbound rule at 150 is no conflict: priorities are unique per direction.
    let mut inbound = outbound(150, "Allow", "*");
    inbound["direction"] = json!("Inbound");
    seed_rule(&b, "hub-nsg", "InboundAt150", inbound).await;
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "OutboundRuleConflict");
    let msg = message(&obj, STALLED);
    assert!(
        msg.contains("CorpProxy") && msg.contains("151") && msg.contains(AZ),
        "{msg}"
    );
    assert!(!msg.contains("InboundAt150"), "{msg}");
    assert!(rule(&b, "hub-nsg", AAD).is_none() && rule(&b, "hub-nsg", AZ).is_none());
    assert_eq!(
        rule(&b, "hub-nsg", "CorpProxy").unwrap()["properties"]["priority"],
        151
    );

    obj.spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .resource_manager_priority = 152;
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        rule(&b, "hub-nsg", AZ).unwrap()["properties"]["priority"],
        152
    );
}

#[tokio::test]
async fn a_deny_rule_evaluated_first_is_reported() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    seed_rule(
        &b,
        "hub-nsg",
        "DenyInternet",
        outbound(140, "Deny", "Internet"),
    )
    .await;
    // Deny rules that do not block the internet, or come later, are no obstacle.
    seed_rule(
        &b,
        "hub-nsg",
        "DenyOnPrem",
        outbound(120, "Deny", "192.168.0.0/16"),
    )
    .await;
    seed_rule(&b, "hub-nsg", "DenyAllLate", outbound(4000, "Deny", "*")).await;
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "OutboundRuleShadowed");
    let msg = message(&obj, STALLED);
    assert!(msg.contains("DenyInternet") && msg.contains("140"), "{msg}");
    assert!(
        !msg.contains("DenyOnPrem") && !msg.contains("DenyAllLate"),
        "{msg}"
    );
    assert!(rule(&b, "hub-nsg", AAD).is_none());

    let rules = obj.spec.outbound_rules.as_mut().unwrap();
    rules.entra_id_priority = 130;
    rules.resource_manager_priority = 131;
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        rule(&b, "hub-nsg", AAD).unwrap()["properties"]["priority"],
        130
    );
}

#[tokio::test]
async fn without_a_group_the_condition_says_so() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    // The spoke's subnet has no network security group.
    let mut obj = with_rules(endpoint("pe", "spoke", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "NoNetworkSecurityGroup");
    assert!(message(&obj, STALLED).contains("spoke"));

    // A named group that does not exist.
    obj.spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .network_security_group_id = Some(nsg_id("missing"));
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), "NetworkSecurityGroupNotFound");

    // A named group that exists receives the rules.
    obj.spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .network_security_group_id = Some(nsg_id("other-nsg"));
    obj.metadata.generation = Some(3);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(rule(&b, "other-nsg", AAD).is_some() && rule(&b, "other-nsg", AZ).is_some());
}

#[tokio::test]
async fn moving_to_another_group_or_dropping_the_block_removes_the_owned_rules() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    obj.spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .network_security_group_id = Some(nsg_id("other-nsg"));
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(rule(&b, "hub-nsg", AAD).is_none() && rule(&b, "hub-nsg", AZ).is_none());
    assert!(rule(&b, "other-nsg", AAD).is_some());

    seed_rule(
        &b,
        "other-nsg",
        "KeepMe",
        outbound(300, "Allow", "Internet"),
    )
    .await;
    obj.spec.outbound_rules = None;
    obj.metadata.generation = Some(3);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(rule(&b, "other-nsg", AAD).is_none() && rule(&b, "other-nsg", AZ).is_none());
    assert!(rule(&b, "other-nsg", "KeepMe").is_some());
    assert!(obj.status.as_ref().unwrap().outbound_rules.is_none());
}

#[tokio::test]
async fn deletion_removes_only_the_rules_this_object_owns() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    seed_rule(&b, "hub-nsg", "KeepMe", outbound(300, "Allow", "Internet")).await;
    let mut foreign = outbound(310, "Allow", "Internet");
    foreign["description"] = json!("managed by arclink: other/ns/ArcPrivateEndpoint/x");
    seed_rule(&b, "hub-nsg", "TheirRule", foreign).await;
    let msg = clean_up(&b, &mut obj, &d).await;
    assert!(msg.starts_with("deleted "), "{msg}");
    assert!(rule(&b, "hub-nsg", AAD).is_none() && rule(&b, "hub-nsg", AZ).is_none());
    assert!(rule(&b, "hub-nsg", "KeepMe").is_some());
    assert!(rule(&b, "hub-nsg", "TheirRule").is_some());
    assert!(b.admin.get(&endpoint_id("pe")).is_none());
}

#[tokio::test]
async fn orphan_leaves_the_rules_without_the_marker() {
    let b = bed().await;
    let (mut obj, d) = ready_with_rules(&b).await;
    obj.spec.common.policy.deletion = DeletionPolicy::Orphan;
    let msg = clean_up(&b, &mut obj, &d).await;
    assert!(msg.contains("orphaned"), "{msg}");
    for name in [AAD, AZ] {
        let r = rule(&b, "hub-nsg", name).expect("left in Azure");
        assert!(r["properties"].get("description").is_none(), "{r}");
        assert_eq!(r["properties"]["direction"], "Outbound");
    }
    // Another object may now adopt them.
    let s = ready_scope(&b, "scope-a").await;
    let mut next = with_rules(endpoint("pe", "hub", "scope-a"));
    next.spec.common.policy.adopt = true;
    converge(&b, &mut next, &deps(&s)).await;
    assert!(ready(&next), "{:?}", next.status);
    assert_eq!(
        rule(&b, "hub-nsg", AAD).unwrap()["properties"]["description"],
        MARKER
    );
}

#[tokio::test]
async fn two_endpoints_in_one_group_share_identical_rules() {
    let b = bed().await;
    let (_, d) = ready_with_rules(&b).await;
    let mut second = with_rules(endpoint("pe2", "hub", "scope-a"));
    converge(&b, &mut second, &d).await;
    assert!(ready(&second), "{:?}", second.status);
    assert_eq!(
        rule(&b, "hub-nsg", AAD).unwrap()["properties"]["description"],
        MARKER
    );
    // Different priorities cannot be shared: the other object's rule is not written.
    second
        .spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .entra_id_priority = 170;
    second.metadata.generation = Some(2);
    converge(&b, &mut second, &d).await;
    assert_eq!(reason(&second, STALLED), "OwnedElsewhere");
    assert_eq!(
        rule(&b, "hub-nsg", AAD).unwrap()["properties"]["priority"],
        150
    );
    let ready_cond = find(&second.status.as_ref().unwrap().common.conditions, READY).unwrap();
    assert_eq!(ready_cond.status, "False");
}
