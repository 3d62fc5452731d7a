//! One Azure Monitor Private Link Scope per DNS: two endpoints (group `azuremonitor`) to
//! different scopes whose zones would be linked to the same virtual network (the same network,
//! or the same managed zones) — the later one is Stalled before any write, naming the other,
//! through the controller's caches, through `plan`, and from what Azure already has.

use std::sync::Arc;

use arclink::api::ArcPrivateEndpoint;
use arclink::api::conditions::{READY, STALLED, find};
use arclink::controller::Stores;
use arclink::offline::manifest;
use arclink::offline::object::Object;
use arclink::offline::plan;
use arclink::reconcile::Settings;
use arclink::reconcile::declared::Dependent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector;
use kube::runtime::watcher;

use super::support::*;
use super::target_support::*;
use crate::common::sandbox::Sandbox;

fn created(mut obj: ArcPrivateEndpoint, second: i64) -> ArcPrivateEndpoint {
    obj.metadata.creation_timestamp = Some(Time(jiff::Timestamp::from_second(second).unwrap()));
    obj
}

/// The controller's caches holding `endpoints`.
fn stores(endpoints: &[&ArcPrivateEndpoint]) -> Stores {
    let (scopes, _) = reflector::store();
    let (endpoint_store, mut endpoint_writer) = reflector::store();
    let (associations, _) = reflector::store();
    for e in endpoints {
        endpoint_writer.apply_watcher_event(&watcher::Event::Apply(ArcPrivateEndpoint::clone(e)));
    }
    Stores {
        scopes,
        endpoints: endpoint_store,
        associations,
        management_links: reflector::store().0,
        monitor_scopes: reflector::store().0,
    }
}

#[tokio::test]
async fn a_second_azure_monitor_scope_in_the_same_dns_stalls_in_the_controller() {
    let b = target_bed().await;
    let a = monitor_scope(&b, "ampls-a").await;
    let other = monitor_scope(&b, "ampls-b").await;
    let mut first = created(target_endpoint("pe-1", "hub", &a, "azuremonitor"), 100);
    let same_network = created(target_endpoint("pe-2", "hub", &other, "azuremonitor"), 200);
    // In another network, but through the same managed zones in rg-dns.
    let same_zones = created(
        target_endpoint("pe-3", "spoke", &other, "azuremonitor"),
        300,
    );
    // Another network with zones of its own: another DNS.
    let mut own_dns = created(
        target_endpoint("pe-4", "spoke", &other, "azuremonitor"),
        400,
    );
    own_dns.spec.private_dns.as_mut().unwrap().resource_group = Some("rg-net".into());
    // The same scope again (declared before the second scope), and a Key Vault endpoint, in
    // the first one's network.
    let mut same_scope = created(target_endpoint("pe-5", "hub", &a, "azuremonitor"), 150);
    let mut vault = created(target_endpoint("pe-6", "hub", &vault_id(), "vault"), 600);
    let all = [
        &first,
        &same_network,
        &same_zones,
        &own_dns,
        &same_scope,
        &vault,
    ];
    let declared = stores(&all);
    let settings = Settings::new("test-cluster");

    let d = first.deps(&declared, &settings);

    converge(&b, &mut first, &d).await;
    assert!(ready(&first), "{:?}", first.status);

    for mut later in [same_network.clone(), same_zones.clone()] {
        let d = later.deps(&declared, &settings);
        b.admin.reset_counters();
        step(&b, &mut later, &d).await;
        assert_eq!(
            reason(&later, STALLED),
            "ScopeConflict",
            "{:?}",
            later.status
        );
        let msg = message(&later, STALLED);
        assert!(msg.contains("ns/pe-1") && msg.contains(&a), "{msg}");
        assert!(msg.contains("Azure Monitor"), "{msg}");
        assert_eq!(b.admin.counters().writes(), 0);
    }

    for obj in [&mut own_dns, &mut same_scope, &mut vault] {
        let d = obj.deps(&declared, &settings);
        converge(&b, obj, &d).await;
        assert!(ready(obj), "{:?}: {:?}", obj.metadata.name, obj.status);
    }
}

#[tokio::test]
async fn a_second_azure_monitor_scope_in_a_network_azure_already_connects_stalls() {
    let b = target_bed().await;
    let a = monitor_scope(&b, "ampls-a").await;
    let other = monitor_scope(&b, "ampls-b").await;
    // The first endpoint is not declared here (made by another cluster or by hand).
    let mut first = target_endpoint("pe-1", "hub", &a, "azuremonitor");
    let d = target_deps(&first);
    converge(&b, &mut first, &d).await;
    assert!(ready(&first), "{:?}", first.status);

    let mut later = target_endpoint("pe-2", "hub", &other, "azuremonitor");
    later.spec.private_dns.as_mut().unwrap().mode =
        arclink::api::endpoint::PrivateDnsMode::Disabled;
    b.admin.reset_counters();
    let d = target_deps(&later);
    converge(&b, &mut later, &d).await;
    assert_eq!(reason(&later, STALLED), "ScopeConflict");
    let msg = message(&later, STALLED);
    assert!(
        msg.contains(&a) && msg.contains(&endpoint_id("pe-1")),
        "{msg}"
    );
    assert_eq!(b.admin.counters().writes(), 0);
}

fn manifest_endpoint(name: &str, scope: &str) -> String {
    format!(
        "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateEndpoint\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  azure: {{subscriptionId: {SUB}, resourceGroup: rg-net}}\n  location: eastus\n  subnetId: {}\n  target: {{resourceId: {scope}, groupId: azuremonitor}}\n  privateDns: {{mode: Managed, resourceGroup: rg-dns}}\n",
        subnet_id("hub")
    )
}

#[tokio::test]
async fn plan_stalls_the_second_azure_monitor_scope_of_a_dns_as_the_controller_does() {
    let b = target_bed().await;
    let a = monitor_scope(&b, "ampls-a").await;
    let other = monitor_scope(&b, "ampls-b").await;
    let sandbox = Sandbox::new("monitor-dns");
    let file = sandbox.write(
        "endpoints.yaml",
        &[
            manifest_endpoint("pe-1", &a),
            manifest_endpoint("pe-2", &other),
        ]
        .join("---\n"),
    );
    let manifests = manifest::load(&[file.into()], None).unwrap();
    let mut settings = Settings::new("test-cluster");
    settings.dry_run = true;
    b.admin.reset_counters();
    let (_, objects) = plan::plan_objects(&b.arm, &settings, manifests, true).await;
    assert_eq!(b.admin.counters().writes(), 0);
    let endpoint = |name: &str| {
        objects
            .iter()
            .find_map(|d| match &d.object {
                Object::Endpoint(e) if e.metadata.name.as_deref() == Some(name) => {
                    Some(Arc::clone(e))
                }
                _ => None,
            })
            .unwrap()
    };
    let conditions = |e: &ArcPrivateEndpoint| e.status.clone().unwrap().common.conditions;
    let first = endpoint("pe-1");
    assert!(find(&conditions(&first), STALLED).is_none_or(|c| c.status == "False"));
    let second = endpoint("pe-2");
    let stalled = find(&conditions(&second), STALLED).cloned().unwrap();
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "ScopeConflict")
    );
    assert!(
        stalled.message.contains("ns/pe-1") && stalled.message.contains(&a),
        "{}",
        stalled.message
    );
    assert!(find(&conditions(&second), READY).is_some_and(|c| c.status == "False"));
}
