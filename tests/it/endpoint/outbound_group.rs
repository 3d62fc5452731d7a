//! Outbound rules in a network security group arclink shares with others (issue 20 items 3
//! and 4): Azure writes one rule of a group at a time, a PUT of the whole group (Terraform or
//! Bicep with inline rules) removes the rules it does not list, and endpoints in subnets
//! sharing one group share its rules.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arclink::api::conditions::RECONCILING;
use arclink::api::endpoint::OutboundRules;
use arclink::api::{
    ArcMonitorPrivateLinkScope, ArcPrivateEndpoint, ArcPrivateLinkScope,
    ArcResourceManagementPrivateLink, ArcServerAssociation, DeletionPolicy, DriftPolicy,
};
use arclink::emulator::{Admin, Fault};
use arclink::reconcile::declared::{Declares, Dependent};
use arclink::reconcile::endpoint::{EndpointDeps, RuleSharer};
use arclink::reconcile::{self, Cleanup, Notice, Settings};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::support::*;

const AAD: &str = "AllowAADOutboundAccess";
const AZ: &str = "AllowAzOutboundAccess";
const RULES: &str = "Microsoft.Network/networkSecurityGroups/securityRules";

fn rule_id(nsg: &str, rule: &str) -> String {
    format!("{}/securityRules/{rule}", nsg_id(nsg))
}

fn with_rules(mut obj: ArcPrivateEndpoint) -> ArcPrivateEndpoint {
    obj.spec.outbound_rules = Some(OutboundRules::default());
    obj
}

fn description(b: &Bed, rule: &str) -> Option<String> {
    b.admin.get(&rule_id("hub-nsg", rule))?["properties"]["description"]
        .as_str()
        .map(str::to_string)
}

fn marker(name: &str) -> String {
    format!("managed by arclink: test-cluster/ns/ArcPrivateEndpoint/{name}")
}

/// Watches the group for as long as it lives and keeps the largest number of its rules seen
/// with a write in flight (provisioning state other than `Succeeded`).
struct Watcher {
    most: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    fn start(admin: Admin) -> Watcher {
        let most = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (most.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                let busy = admin
                    .get(&nsg_id("hub-nsg"))
                    .and_then(|g| g["properties"]["securityRules"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter(|r| r["properties"]["provisioningState"] != "Succeeded")
                    .count();
                m.fetch_max(busy, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        Watcher { most, stop, task }
    }

    async fn most(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        self.most.load(Ordering::Relaxed)
    }
}

/// Reconciles until Ready or Stalled with pauses, so that operations end in between.
async fn settle(b: &Bed, obj: &mut ArcPrivateEndpoint, d: &EndpointDeps) {
    for _ in 0..60 {
        step(b, obj, d).await;
        if ready(obj) || stalled(obj) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not settled: {:?}", obj.status);
}

async fn clean_up(b: &Bed, obj: &mut ArcPrivateEndpoint, d: &EndpointDeps) -> String {
    for _ in 0..60 {
        match reconcile::cleanup(&b.arm, &b.settings, &(), obj, d).await {
            Cleanup::Done(msg) => return msg,
            Cleanup::Pending { status, .. } => obj.status = Some(status),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cleanup did not finish: {:?}", obj.status);
}

#[tokio::test]
async fn rules_are_written_one_at_a_time_on_create_delete_and_orphan() {
    let b = bed().lro(Duration::from_millis(300)).await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);

    let watcher = Watcher::start(b.admin.clone());
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    settle(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(description(&b, AAD).is_some() && description(&b, AZ).is_some());
    assert_eq!(
        watcher.most().await,
        1,
        "creating: two rules in flight at once"
    );

    let watcher = Watcher::start(b.admin.clone());
    let msg = clean_up(&b, &mut obj, &d).await;
    assert!(msg.starts_with("deleted "), "{msg}");
    assert!(description(&b, AAD).is_none() && description(&b, AZ).is_none());
    assert_eq!(
        watcher.most().await,
        1,
        "deleting: two rules in flight at once"
    );

    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    settle(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    obj.spec.common.policy.deletion = DeletionPolicy::Orphan;
    let watcher = Watcher::start(b.admin.clone());
    let msg = clean_up(&b, &mut obj, &d).await;
    assert!(msg.contains("orphaned"), "{msg}");
    assert_eq!(
        (description(&b, AAD), description(&b, AZ)),
        (None, None),
        "both rules left without the marker"
    );
    assert!(b.admin.get(&rule_id("hub-nsg", AZ)).is_some());
    assert_eq!(
        watcher.most().await,
        1,
        "orphaning: two rules in flight at once"
    );
}

#[tokio::test]
async fn another_write_holding_the_group_is_waited_for_and_counted() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    b.admin.inject(
        Fault::status(429)
            .code("RetryableErrorDueToAnotherOperation")
            .message("Operation PutSecurityRuleOperation failed: another operation on this or dependent resource is in progress.")
            .method("PUT")
            .path_contains("/securityRules/")
            .times(1),
    );
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    let mut waited = false;
    for _ in 0..12 {
        step(&b, &mut obj, &d).await;
        let st = obj.status.as_ref().unwrap();
        if reason(&obj, RECONCILING) == "RetryableErrorDueToAnotherOperation" {
            assert_eq!(st.common.failed_attempts, 1);
            assert!(!stalled(&obj));
            assert!(message(&obj, RECONCILING).contains("attempt 1 of"));
            waited = true;
        }
        if ready(&obj) {
            break;
        }
    }
    assert!(waited, "the refusal was not reported as a wait");
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(obj.status.as_ref().unwrap().common.failed_attempts, 0);
    assert!(description(&b, AAD).is_some() && description(&b, AZ).is_some());
}

#[tokio::test]
async fn rules_removed_by_a_put_of_the_group_are_recreated_with_a_notice() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    // Terraform applies the group with its inline rules, which do not list arclink's.
    for rule in [AAD, AZ] {
        b.admin
            .delete_out_of_band(&rule_id("hub-nsg", rule))
            .unwrap();
    }
    let out = step(&b, &mut obj, &d).await;
    let notices: Vec<&Notice> = out.notices.iter().collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].reason, "OutboundRulesRemoved");
    let msg = &notices[0].message;
    assert!(msg.contains(AAD) && msg.contains(AZ), "{msg}");
    assert!(msg.contains("hub-nsg") && msg.contains("inline"), "{msg}");
    assert!(msg.contains("re-creates"), "{msg}");
    let outs = converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(outs.iter().all(|o| o.notices.is_empty()), "one notice only");
    assert_eq!(description(&b, AAD), Some(marker("pe")));
    assert_eq!(description(&b, AZ), Some(marker("pe")));

    // Under Report they stay missing, and the notice says so.
    obj.spec.common.policy.drift = DriftPolicy::Report;
    b.admin.delete_out_of_band(&rule_id("hub-nsg", AZ)).unwrap();
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(out.notices.len(), 1, "{:?}", out.notices);
    assert!(out.notices[0].message.contains(AZ));
    assert!(!out.notices[0].message.contains(AAD));
    assert!(out.notices[0].message.contains("Report"));
    assert!(b.admin.get(&rule_id("hub-nsg", AZ)).is_none());
    assert!(step(&b, &mut obj, &d).await.notices.is_empty());
}

/// Two endpoints whose subnets share hub-nsg: `pe` (first) owns the rules, `pe2` uses them.
async fn two_sharing(b: &Bed) -> (ArcPrivateEndpoint, ArcPrivateEndpoint, EndpointDeps) {
    let s = ready_scope(b, "scope-a").await;
    let d = deps(&s);
    let mut first = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(b, &mut first, &d).await;
    assert!(ready(&first), "{:?}", first.status);
    let mut second = with_rules(endpoint("pe2", "hub", "scope-a"));
    converge(b, &mut second, &d).await;
    assert!(ready(&second), "{:?}", second.status);
    assert_eq!(description(b, AAD), Some(marker("pe")));
    (first, second, d)
}

fn sharing(d: &EndpointDeps, others: &[&ArcPrivateEndpoint]) -> EndpointDeps {
    EndpointDeps {
        rule_sharers: others
            .iter()
            .filter_map(|o| RuleSharer::of(o, "test-cluster"))
            .collect(),
        ..d.clone()
    }
}

#[tokio::test]
async fn a_rule_another_endpoint_still_needs_is_handed_over_not_deleted() {
    let b = bed().await;
    let (mut first, mut second, d) = two_sharing(&b).await;

    let msg = clean_up(&b, &mut first, &sharing(&d, &[&second])).await;
    assert!(msg.starts_with("deleted "), "{msg}");
    assert_eq!(description(&b, AAD), Some(marker("pe2")));
    assert_eq!(description(&b, AZ), Some(marker("pe2")));
    // pe2 keeps them as they are (its DNS, which used pe's zones, is another matter).
    b.admin.reset_counters();
    converge(&b, &mut second, &d).await;
    assert!(ready(&second), "{:?}", second.status);
    assert_eq!(b.admin.counters().count_for("PUT", RULES), 0);
    assert_eq!(b.admin.counters().count_for("DELETE", RULES), 0);

    // The last one that needs them deletes them.
    let msg = clean_up(&b, &mut second, &sharing(&d, &[])).await;
    assert!(msg.starts_with("deleted "), "{msg}");
    assert!(description(&b, AAD).is_none() && b.admin.get(&rule_id("hub-nsg", AZ)).is_none());
}

#[tokio::test]
async fn only_the_same_rule_of_an_endpoint_still_declared_is_handed_over() {
    let b = bed().await;
    let (first, mut second, d) = two_sharing(&b).await;

    // Another priority is not the same rule: it goes with its owner.
    let mut other = second.clone();
    other
        .spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .entra_id_priority = 170;
    let msg = clean_up(&b, &mut first.clone(), &sharing(&d, &[&other])).await;
    assert!(msg.starts_with("deleted "), "{msg}");
    assert!(b.admin.get(&rule_id("hub-nsg", AAD)).is_none());
    assert_eq!(
        description(&b, AZ),
        Some(marker("pe2")),
        "the same rule is kept"
    );

    // pe2 re-creates the rule it lost; pe3 uses pe2's.
    converge(&b, &mut second, &d).await;
    assert!(ready(&second), "{:?}", second.status);
    assert_eq!(description(&b, AAD), Some(marker("pe2")));
    let mut third = with_rules(endpoint("pe3", "hub", "scope-a"));
    converge(&b, &mut third, &d).await;
    assert!(ready(&third), "{:?}", third.status);

    // An endpoint being deleted needs nothing; one not reconciled yet is found through its
    // subnet's group in Azure; Orphan hands over like Delete.
    let mut leaving = first.clone();
    leaving.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    let mut unread = third.clone();
    unread.status = None;
    second.spec.common.policy.deletion = DeletionPolicy::Orphan;
    let msg = clean_up(&b, &mut second, &sharing(&d, &[&leaving, &unread])).await;
    assert!(msg.contains("orphaned"), "{msg}");
    assert_eq!(description(&b, AAD), Some(marker("pe3")));
    assert_eq!(description(&b, AZ), Some(marker("pe3")));
    // (pe2's orphaned zones need adopting; its rules need nothing.)
    third.spec.common.policy.adopt = true;
    b.admin.reset_counters();
    converge(&b, &mut third, &d).await;
    assert!(ready(&third), "{:?}", third.status);
    assert_eq!(b.admin.counters().count_for("PUT", RULES), 0);
}

#[test]
fn the_declared_endpoints_with_rules_are_the_sharers() {
    struct Set(Vec<Arc<ArcPrivateEndpoint>>);
    impl Declares<ArcPrivateEndpoint> for Set {
        fn all(&self) -> Vec<Arc<ArcPrivateEndpoint>> {
            self.0.clone()
        }
    }
    impl Declares<ArcPrivateLinkScope> for Set {
        fn all(&self) -> Vec<Arc<ArcPrivateLinkScope>> {
            Vec::new()
        }
    }
    impl Declares<ArcServerAssociation> for Set {
        fn all(&self) -> Vec<Arc<ArcServerAssociation>> {
            Vec::new()
        }
    }
    impl Declares<ArcMonitorPrivateLinkScope> for Set {
        fn all(&self) -> Vec<Arc<ArcMonitorPrivateLinkScope>> {
            Vec::new()
        }
    }
    impl Declares<ArcResourceManagementPrivateLink> for Set {
        fn all(&self) -> Vec<Arc<ArcResourceManagementPrivateLink>> {
            Vec::new()
        }
    }
    let me = with_rules(endpoint("pe", "hub", "scope-a"));
    let mut named = with_rules(endpoint("named", "spoke", "scope-a"));
    named
        .spec
        .outbound_rules
        .as_mut()
        .unwrap()
        .network_security_group_id = Some(nsg_id("hub-nsg"));
    let without_rules = endpoint("plain", "hub", "scope-a");
    let mut leaving = with_rules(endpoint("leaving", "hub", "scope-a"));
    leaving.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    let set = Set([me.clone(), named, without_rules, leaving]
        .into_iter()
        .map(Arc::new)
        .collect());
    let deps = me.deps(&set, &Settings::new("test-cluster"));
    let names: Vec<(String, Option<String>)> = deps
        .rule_sharers
        .iter()
        .map(|s| (s.owner.to_string(), s.group.clone()))
        .collect();
    assert_eq!(
        names,
        [(
            "test-cluster/ns/ArcPrivateEndpoint/named".to_string(),
            Some(nsg_id("hub-nsg"))
        )]
    );
}

#[tokio::test]
async fn a_rule_field_another_writer_keeps_setting_is_left_to_it_the_others_corrected() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut obj = with_rules(endpoint("pe", "hub", "scope-a"));
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let az = rule_id("hub-nsg", AZ);
    let priority = |b: &Bed| b.admin.get(&az).unwrap()["properties"]["priority"].clone();
    let other_writer = |b: &Bed| {
        b.admin
            .patch_out_of_band(&az, serde_json::json!({"properties": {"priority": 160}}))
            .unwrap()
    };
    for _ in 0..3 {
        other_writer(&b);
        converge(&b, &mut obj, &d).await;
        assert!(ready(&obj), "{:?}", obj.status);
        assert_eq!(priority(&b), 151);
        eprintln!(
            "CORR {:?}",
            obj.status.as_ref().unwrap().common.arm.corrections
        );
    }
    other_writer(&b);
    b.admin.reset_counters();
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(priority(&b), 160);
    let drifted = arclink::api::conditions::find(
        &obj.status.as_ref().unwrap().common.conditions,
        arclink::api::conditions::DRIFTED,
    )
    .unwrap()
    .clone();
    assert_eq!(drifted.reason, "FightingAnotherWriter");
    assert!(
        drifted
            .message
            .contains("securityRules/AllowAzOutboundAccess.properties.priority"),
        "{}",
        drifted.message
    );

    // Another field of the same rule is still corrected; the write keeps the held priority.
    b.admin
        .patch_out_of_band(
            &az,
            serde_json::json!({"properties": {"destinationPortRange": "80"}}),
        )
        .unwrap();
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let rule = b.admin.get(&az).unwrap();
    assert_eq!(rule["properties"]["destinationPortRange"], "443");
    assert_eq!(rule["properties"]["priority"], 160);
}
