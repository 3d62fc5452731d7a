//! Endpoints to declared objects of other kinds: `monitorScopeRef` (an
//! ArcMonitorPrivateLinkScope, group `azuremonitor`) and `resourceManagementLinkRef` (an
//! ArcResourceManagementPrivateLink, group `ResourceManagement`). Each waits until its object
//! is Ready, is Stalled naming the field while the object is not declared, then connects to
//! the object's resource with the catalogue's zones; the one-Azure-Monitor-scope-per-DNS rule
//! treats them as `spec.target` endpoints, in the controller and in `plan`, before the
//! referenced scope even exists.

use std::sync::Arc;

use arclink::api::common::LocalRef;
use arclink::api::conditions::{READY, RECONCILING, STALLED, find, is_true};
use arclink::api::endpoint::TargetStatus;
use arclink::api::{
    ArcMonitorPrivateLinkScope, ArcMonitorPrivateLinkScopeSpec, ArcPrivateEndpoint,
    ArcResourceManagementPrivateLink, ArcResourceManagementPrivateLinkSpec, AzureResource,
};
use arclink::controller::Stores;
use arclink::offline::manifest;
use arclink::offline::object::Object;
use arclink::offline::plan::{self, Action};
use arclink::reconcile::declared::Dependent;
use arclink::reconcile::endpoint::target;
use arclink::reconcile::{self, Settings};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::{reflector, watcher};
use serde_json::json;

use super::support::*;
use super::target_support::*;
use crate::common::fixtures::in_test_namespace;
use crate::common::sandbox::Sandbox;

const MONITOR_ZONES: [&str; 5] = [
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.core.windows.net",
    "privatelink.monitor.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.oms.opinsights.azure.com",
];

fn azure(rg: &str) -> AzureResource {
    AzureResource {
        subscription_id: Some(SUB.into()),
        resource_group: rg.into(),
        name: None,
    }
}

/// An ArcMonitorPrivateLinkScope `name` in `rg-arc`, nothing linked.
fn monitor_scope_object(name: &str) -> ArcMonitorPrivateLinkScope {
    in_test_namespace(ArcMonitorPrivateLinkScope::new(
        name,
        ArcMonitorPrivateLinkScopeSpec {
            azure: azure("rg-arc"),
            ..Default::default()
        },
    ))
}

/// An ArcResourceManagementPrivateLink `name` in `rg-arc`, without association.
fn link_object(name: &str) -> ArcResourceManagementPrivateLink {
    in_test_namespace(ArcResourceManagementPrivateLink::new(
        name,
        ArcResourceManagementPrivateLinkSpec {
            azure: azure("rg-arc"),
            location: "eastus".into(),
            ..Default::default()
        },
    ))
}

/// Reconciles `obj` (a kind without deps) until Ready.
async fn make_ready<K>(b: &Bed, obj: &mut K)
where
    K: reconcile::engine::Managed<Deps = ()>
        + kube::core::object::HasStatus<Status = <K as reconcile::engine::Managed>::Status>,
{
    use arclink::api::ManagedStatus;
    for _ in 0..8 {
        let out = step(b, obj, &()).await;
        if is_true(&out.status.common().conditions, READY) {
            return;
        }
    }
    panic!("{} not Ready", K::KIND);
}

/// Endpoint `name` in `vnet` naming its target through `monitorScopeRef` or
/// `resourceManagementLinkRef`.
fn monitor_endpoint(name: &str, vnet: &str, scope: &str) -> ArcPrivateEndpoint {
    let mut obj = endpoint(name, vnet, "unused");
    obj.spec.scope_ref = None;
    obj.spec.monitor_scope_ref = Some(LocalRef { name: scope.into() });
    obj
}

fn management_endpoint(name: &str, vnet: &str, link: &str) -> ArcPrivateEndpoint {
    let mut obj = endpoint(name, vnet, "unused");
    obj.spec.scope_ref = None;
    obj.spec.resource_management_link_ref = Some(LocalRef { name: link.into() });
    obj
}

fn created<K: kube::Resource>(mut obj: K, second: i64) -> K {
    obj.meta_mut().creation_timestamp = Some(Time(jiff::Timestamp::from_second(second).unwrap()));
    obj
}

/// The controller's caches holding these objects.
fn stores(
    endpoints: &[&ArcPrivateEndpoint],
    monitor_scopes: &[&ArcMonitorPrivateLinkScope],
    links: &[&ArcResourceManagementPrivateLink],
) -> Stores {
    fn store<K>(objects: &[&K]) -> reflector::Store<K>
    where
        K: kube::Resource<DynamicType = ()> + Clone + 'static,
    {
        let (store, mut writer) = reflector::store();
        for o in objects {
            writer.apply_watcher_event(&watcher::Event::Apply(K::clone(o)));
        }
        store
    }
    Stores {
        scopes: reflector::store().0,
        monitor_scopes: store(monitor_scopes),
        management_links: store(links),
        endpoints: store(endpoints),
        associations: reflector::store().0,
    }
}

fn settings() -> Settings {
    Settings::new("test-cluster")
}

fn connection(b: &Bed, endpoint: &str) -> serde_json::Value {
    let pe = b
        .admin
        .get(&endpoint_id(endpoint))
        .expect("endpoint exists");
    pe["properties"]["privateLinkServiceConnections"][0]["properties"].clone()
}

#[tokio::test]
async fn a_monitor_scope_ref_waits_for_the_scope_then_gets_the_five_zones_in_one_group() {
    let b = target_bed().await;
    let mut scope = monitor_scope_object("ampls");
    let mut obj = monitor_endpoint("monitor-pe", "hub", "ampls");

    // Declared, not Ready yet: waiting, nothing written.
    let d = obj.deps(&stores(&[&obj], &[&scope], &[]), &settings());
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&obj, RECONCILING), "WaitingForMonitorScope");
    assert!(
        message(&obj, RECONCILING)
            .contains("ArcMonitorPrivateLinkScope ampls (spec.monitorScopeRef)"),
        "{}",
        message(&obj, RECONCILING)
    );
    assert!(!stalled(&obj));
    assert!(
        matches!(out.requeue, reconcile::Requeue::After(d) if d <= reconcile::scope_ref::WAIT_FOR_SCOPE)
    );

    // Ready at an older generation is not Ready.
    make_ready(&b, &mut scope).await;
    let mut newer = scope.clone();
    newer.metadata.generation = Some(2);
    let d = obj.deps(&stores(&[&obj], &[&newer], &[]), &settings());
    step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, RECONCILING), "WaitingForMonitorScope");

    let d = obj.deps(&stores(&[&obj], &[&scope], &[]), &settings());
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let id = monitor_scope_id("ampls");
    let conn = connection(&b, "monitor-pe");
    assert!(
        conn["privateLinkServiceId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&id)
    );
    assert_eq!(conn["groupIds"], json!(["azuremonitor"]));
    assert_eq!(zones_in_rg_dns(&b), MONITOR_ZONES);
    let in_group: Vec<String> = MONITOR_ZONES
        .iter()
        .map(|z| zone_id(z).to_ascii_lowercase())
        .collect();
    assert_eq!(group_zones(&b, "monitor-pe"), in_group);
    let st = obj.status.clone().unwrap();
    let target = st.target.clone().unwrap();
    assert_eq!(
        target,
        TargetStatus {
            name: "ampls".into(),
            resource_id: target.resource_id.clone(),
            group_id: "azuremonitor".into(),
            source: "monitorScopeRef".into(),
        }
    );
    assert!(target.resource_id.eq_ignore_ascii_case(&id));
    assert!(
        st.dns_records
            .iter()
            .any(|r| r.fqdn == "global.in.ai.monitor.azure.com"),
        "{:?}",
        st.dns_records
    );

    // Steady state: nothing written.
    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn a_reference_to_an_object_not_declared_stalls_naming_the_field() {
    let b = target_bed().await;
    for (mut obj, field, reason_) in [
        (
            monitor_endpoint("monitor-pe", "hub", "nope"),
            "spec.monitorScopeRef",
            "MonitorScopeNotFound",
        ),
        (
            management_endpoint("management-pe", "hub", "nope"),
            "spec.resourceManagementLinkRef",
            "ManagementLinkNotFound",
        ),
    ] {
        // A scope of another namespace does not count.
        let mut elsewhere = monitor_scope_object("nope");
        elsewhere.metadata.namespace = Some("other".into());
        let d = obj.deps(&stores(&[&obj], &[&elsewhere], &[]), &settings());
        b.admin.reset_counters();
        step(&b, &mut obj, &d).await;
        assert_eq!(b.admin.counters().writes(), 0);
        assert_eq!(reason(&obj, STALLED), reason_);
        let msg = message(&obj, STALLED);
        assert!(
            msg.contains(field) && msg.contains("nope") && msg.contains("does not exist"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn a_resource_management_link_ref_connects_with_its_one_zone() {
    let b = target_bed().await;
    let mut link = link_object("arm-link");
    let mut obj = management_endpoint("management-pe", "hub", "arm-link");
    let d = obj.deps(&stores(&[&obj], &[], &[&link]), &settings());
    step(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, RECONCILING), "WaitingForManagementLink");

    make_ready(&b, &mut link).await;
    let d = obj.deps(&stores(&[&obj], &[], &[&link]), &settings());
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let conn = connection(&b, "management-pe");
    let link_id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Authorization/resourceManagementPrivateLinks/arm-link"
    );
    assert!(
        conn["privateLinkServiceId"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&link_id)
    );
    assert_eq!(conn["groupIds"], json!(["ResourceManagement"]));
    assert_eq!(zones_in_rg_dns(&b), ["privatelink.azure.com"]);
    let st = obj.status.clone().unwrap();
    let target = st.target.unwrap();
    assert_eq!(
        (target.name.as_str(), target.source.as_str()),
        ("arm-link", "resourceManagementLinkRef")
    );
    assert_eq!(
        st.dns_records
            .iter()
            .map(|r| r.fqdn.as_str())
            .collect::<Vec<_>>(),
        ["management.azure.com"]
    );
}

#[tokio::test]
async fn one_azure_monitor_scope_per_dns_holds_between_refs_and_targets_in_the_controller() {
    let b = target_bed().await;
    let existing = monitor_scope(&b, "ampls-a").await;
    let mut declared_scope = monitor_scope_object("ampls-b");
    let settings = settings();

    // A target endpoint first, a monitorScopeRef endpoint to another scope later in the same
    // network: the later one is Stalled naming the first, even before its scope exists.
    let mut first = created(
        target_endpoint("pe-1", "hub", &existing, "azuremonitor"),
        100,
    );
    let mut later = created(monitor_endpoint("pe-2", "hub", "ampls-b"), 200);
    let declared = stores(&[&first, &later], &[&declared_scope], &[]);
    let d = first.deps(&declared, &settings);
    converge(&b, &mut first, &d).await;
    assert!(ready(&first), "{:?}", first.status);

    let d = later.deps(&declared, &settings);
    b.admin.reset_counters();
    step(&b, &mut later, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(
        reason(&later, STALLED),
        "ScopeConflict",
        "{:?}",
        later.status
    );
    let msg = message(&later, STALLED);
    assert!(msg.contains("ns/pe-1") && msg.contains(&existing), "{msg}");

    // Once the scope is Ready, the same.
    make_ready(&b, &mut declared_scope).await;
    let declared = stores(&[&first, &later], &[&declared_scope], &[]);
    let d = later.deps(&declared, &settings);
    b.admin.reset_counters();
    step(&b, &mut later, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&later, STALLED), "ScopeConflict");

    // The other way round: a monitorScopeRef endpoint first, a target endpoint to another
    // scope later, through the same managed zones from another network.
    let by_ref = created(monitor_endpoint("pe-3", "spoke", "ampls-b"), 50);
    let mut by_target = created(
        target_endpoint("pe-4", "spoke", &existing, "azuremonitor"),
        300,
    );
    let declared = stores(&[&by_ref, &by_target], &[&declared_scope], &[]);
    let d = by_target.deps(&declared, &settings);
    assert_eq!(d.peers.len(), 1, "{:?}", d.peers);
    b.admin.reset_counters();
    step(&b, &mut by_target, &d).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&by_target, STALLED), "ScopeConflict");
    let msg = message(&by_target, STALLED);
    assert!(
        msg.contains("ns/pe-3") && msg.contains(&monitor_scope_id("ampls-b")),
        "{msg}"
    );

    // A target endpoint to the scope a reference names is no conflict.
    let same = created(
        target_endpoint(
            "pe-5",
            "spoke",
            &monitor_scope_id("ampls-b"),
            "azuremonitor",
        ),
        400,
    );
    let declared = stores(&[&by_ref, &same], &[&declared_scope], &[]);
    let peers = same.deps(&declared, &settings).peers;
    assert_eq!(peers.len(), 1, "{peers:?}");
    let me = target::peer(&declared, &settings, &same).unwrap();
    assert!(target::conflicts(&me, &peers).is_none());
}

/// A manifest of the Azure Monitor scope `scope` and two endpoints in the hub network: the
/// first to `existing` through `spec.target`, the second to `scope` through `monitorScopeRef`.
fn manifests(scope: &str, existing: &str) -> String {
    let endpoint = |name: &str, target: &str| {
        format!(
            "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateEndpoint\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  azure: {{subscriptionId: {SUB}, resourceGroup: rg-net}}\n  location: eastus\n  subnetId: {}\n  {target}\n  privateDns: {{mode: Managed, resourceGroup: rg-dns}}\n",
            subnet_id("hub")
        )
    };
    [
        format!(
            "apiVersion: arclink.io/v1alpha1\nkind: ArcMonitorPrivateLinkScope\nmetadata: {{name: {scope}, namespace: ns}}\nspec:\n  azure: {{subscriptionId: {SUB}, resourceGroup: rg-arc}}\n"
        ),
        endpoint(
            "pe-1",
            &format!("target: {{resourceId: {existing}, groupId: azuremonitor}}"),
        ),
        endpoint("pe-2", &format!("monitorScopeRef: {{name: {scope}}}")),
    ]
    .join("---\n")
}

#[tokio::test]
async fn plan_blocks_a_monitor_scope_ref_endpoint_in_a_taken_dns_before_its_scope_exists() {
    let b = target_bed().await;
    let existing = monitor_scope(&b, "ampls-a").await;
    let sandbox = Sandbox::new("monitor-refs");
    let file = sandbox.write("path.yaml", &manifests("ampls-b", &existing));
    let loaded = manifest::load(&[file.into()], None).unwrap();
    let mut settings = settings();
    settings.dry_run = true;
    b.admin.reset_counters();
    let (planned, objects) = plan::plan_objects(&b.arm, &settings, loaded, true).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let action = |name: &str| {
        planned
            .objects
            .iter()
            .find(|o| o.name == name)
            .map(|o| (o.action, o.reason.clone()))
            .unwrap()
    };
    assert_eq!(action("ampls-b").0, Action::Create);
    assert_eq!(action("pe-1").0, Action::Create);
    assert_eq!(
        action("pe-2"),
        (Action::Blocked, Some("ScopeConflict".to_string()))
    );
    let second = objects
        .iter()
        .find_map(|d| match &d.object {
            Object::Endpoint(e) if e.metadata.name.as_deref() == Some("pe-2") => {
                Some(Arc::clone(e))
            }
            _ => None,
        })
        .unwrap();
    let conditions = second.status.clone().unwrap().common.conditions;
    let stalled = find(&conditions, STALLED).unwrap();
    assert!(
        stalled.message.contains("ns/pe-1") && stalled.message.contains(&existing),
        "{}",
        stalled.message
    );

    // Without the conflicting endpoint, the referring endpoint waits for its scope.
    let file = sandbox.write(
        "alone.yaml",
        &manifests("ampls-b", &existing)
            .split("---\n")
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, d)| d)
            .collect::<Vec<_>>()
            .join("---\n"),
    );
    let loaded = manifest::load(&[file.into()], None).unwrap();
    let (planned, _) = plan::plan_objects(&b.arm, &settings, loaded, true).await;
    let pe = planned.objects.iter().find(|o| o.name == "pe-2").unwrap();
    assert_eq!(
        (pe.action, pe.reason.as_deref()),
        (Action::Waiting, Some("WaitingForMonitorScope"))
    );
}
