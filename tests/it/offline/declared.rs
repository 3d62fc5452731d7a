//! The rules about other declared objects (endpoints sharing a virtual network, associations
//! claiming the same machines) decide the same in a cluster and in `apply`: each scenario runs
//! through the controller's caches ([`Stores`]) and through the manifests, against two fresh
//! emulators, and must end with the same conditions and the same machines in Azure.

use std::sync::Arc;
use std::time::Duration;

use arclink::api::conditions::{READY, STALLED, find};
use arclink::azure::ArmClient;
use arclink::controller::Stores;
use arclink::emulator::Admin;
use arclink::offline::apply::{self, Limits};
use arclink::offline::manifest::{self, Manifests};
use arclink::offline::object::Object;
use arclink::reconcile::declared::Dependent;
use arclink::reconcile::engine::Managed;
use arclink::reconcile::{self, Settings, States};
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher;

use crate::common::fixtures::{SUB, machine_id, scope_id};
use crate::common::sandbox::Sandbox;

fn scope(name: &str) -> String {
    format!(
        "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateLinkScope\nmetadata: {{name: {name}}}\nspec:\n  azure: {{subscriptionId: {SUB}, resourceGroup: rg-arc}}\n  location: eastus\n"
    )
}

fn endpoint(name: &str, scope: &str) -> String {
    format!(
        "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateEndpoint\nmetadata: {{name: {name}}}\nspec:\n  azure: {{subscriptionId: {SUB}, resourceGroup: rg-net}}\n  location: eastus\n  subnetId: /subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints\n  scopeRef: {{name: {scope}}}\n  privateDns: {{mode: None}}\n"
    )
}

fn association(name: &str, scope: &str, machines: &str) -> String {
    format!(
        "apiVersion: arclink.io/v1alpha1\nkind: ArcServerAssociation\nmetadata: {{name: {name}}}\nspec:\n  scopeRef: {{name: {scope}}}\n  machines: {{subscriptionId: {SUB}, resourceGroup: rg-servers, names: [{machines}]}}\n  onConflict: Skip\n"
    )
}

/// Ready status and reason, and Stalled status, per object name.
type Conditions = Vec<(String, String, String, String)>;

struct Scenario {
    name: &'static str,
    /// Documents in declaration order (which decides who came first).
    documents: Vec<String>,
    /// Objects expected Stalled, with the reason.
    stalled: &'static [(&'static str, &'static str)],
    /// Machines and the scope each must end in.
    machines: &'static [(&'static str, &'static str)],
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "two endpoints in one virtual network, two scopes: the later one stalls",
            documents: vec![
                scope("scope-a"),
                scope("scope-b"),
                endpoint("pe-1", "scope-a"),
                endpoint("pe-2", "scope-b"),
            ],
            stalled: &[("pe-2", "ScopeConflict")],
            machines: &[],
        },
        Scenario {
            name: "declared the other way round, the other endpoint stalls",
            documents: vec![
                scope("scope-a"),
                scope("scope-b"),
                endpoint("pe-2", "scope-b"),
                endpoint("pe-1", "scope-a"),
            ],
            stalled: &[("pe-1", "ScopeConflict")],
            machines: &[],
        },
        Scenario {
            name: "two endpoints in one virtual network, one scope: both ready",
            documents: vec![
                scope("scope-a"),
                endpoint("pe-1", "scope-a"),
                endpoint("pe-2", "scope-a"),
            ],
            stalled: &[],
            machines: &[],
        },
        Scenario {
            name: "two associations claiming web-01: the earlier one has it",
            documents: vec![
                scope("scope-a"),
                scope("scope-b"),
                association("web-b", "scope-b", "web-01, web-02"),
                association("web-a", "scope-a", "web-01"),
            ],
            stalled: &[],
            machines: &[("web-01", "scope-b"), ("web-02", "scope-b")],
        },
    ]
}

#[tokio::test]
async fn the_controller_and_apply_decide_the_same() {
    for scenario in scenarios() {
        let sandbox = Sandbox::new("declared");
        let file = sandbox.write("objects.yaml", &scenario.documents.join("---\n"));
        let load = || manifest::load(&[file.clone().into()], None).unwrap();

        let (cluster_emu, arm) = super::emulator(Duration::from_millis(100)).await;
        let in_cluster = through_the_controller(&arm, load()).await;
        let (apply_emu, arm) = super::emulator(Duration::from_millis(100)).await;
        let applied = through_apply(&arm, load()).await;

        assert_eq!(in_cluster, applied, "{}", scenario.name);
        for (name, _, reason, stalled) in &in_cluster {
            let expected = scenario
                .stalled
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, r)| *r);
            match expected {
                Some(r) => assert_eq!((stalled.as_str(), reason.as_str()), ("True", r)),
                None => assert_eq!(stalled, "False", "{}: {name} {reason}", scenario.name),
            }
        }
        for admin in [cluster_emu.admin(), apply_emu.admin()] {
            for (machine, scope) in scenario.machines {
                assert_eq!(
                    scope_of(&admin, machine).to_ascii_lowercase(),
                    scope_id(scope).to_ascii_lowercase(),
                    "{}: {machine}",
                    scenario.name
                );
            }
        }
    }
}

fn scope_of(admin: &Admin, machine: &str) -> String {
    let m = admin.get(&machine_id(machine)).unwrap();
    m["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn settings() -> Settings {
    Settings::new("default")
}

async fn through_apply(arm: &ArmClient, manifests: Manifests) -> Conditions {
    let limits = Limits {
        timeout: Duration::from_secs(60),
        poll: Duration::from_millis(50),
    };
    let report = apply::apply(arm, &settings(), manifests, true, limits).await;
    let mut out: Conditions = report
        .objects
        .iter()
        .map(|o| {
            let conditions: Vec<_> =
                serde_json::from_value(o.status["conditions"].clone()).unwrap();
            summary(&o.name, &conditions)
        })
        .collect();
    out.sort();
    out
}

/// A controller in miniature: every object reconciled in turn, its status stored back into the
/// cache the others read, until nothing changes.
async fn through_the_controller(arm: &ArmClient, manifests: Manifests) -> Conditions {
    let (scopes, mut scope_writer) = reflector::store();
    let (endpoints, mut endpoint_writer) = reflector::store();
    let (associations, mut association_writer) = reflector::store();
    let (management_links, mut management_link_writer) = reflector::store();
    let (monitor_scopes, mut monitor_scope_writer) = reflector::store();
    let stores = Stores {
        scopes,
        monitor_scopes,
        endpoints,
        associations,
        management_links,
    };
    let mut objects: Vec<Object> = manifests.objects.into_iter().map(|d| d.object).collect();
    for o in &objects {
        match o {
            Object::Scope(s) => publish(&mut scope_writer, s),
            Object::Endpoint(e) => publish(&mut endpoint_writer, e),
            Object::Association(a) => publish(&mut association_writer, a),
            Object::ManagementLink(l) => publish(&mut management_link_writer, l),
            Object::MonitorScope(m) => publish(&mut monitor_scope_writer, m),
        }
    }
    // One controller: its settings and the kinds' states (the association's listings kept
    // between passes) last the run.
    let settings = settings();
    let states = States::default();
    let mut last = Vec::new();
    for _ in 0..40 {
        for o in objects.iter_mut() {
            match o {
                Object::Scope(s) => {
                    once(
                        arm,
                        &settings,
                        &states,
                        &stores,
                        s,
                        &mut scope_writer,
                        |o, s| o.status = Some(s),
                    )
                    .await
                }
                Object::Endpoint(e) => {
                    once(
                        arm,
                        &settings,
                        &states,
                        &stores,
                        e,
                        &mut endpoint_writer,
                        |o, s| o.status = Some(s),
                    )
                    .await
                }
                Object::Association(a) => {
                    once(
                        arm,
                        &settings,
                        &states,
                        &stores,
                        a,
                        &mut association_writer,
                        |o, s| o.status = Some(s),
                    )
                    .await
                }
                Object::ManagementLink(l) => {
                    once(
                        arm,
                        &settings,
                        &states,
                        &stores,
                        l,
                        &mut management_link_writer,
                        |o, s| o.status = Some(s),
                    )
                    .await
                }
                Object::MonitorScope(m) => {
                    once(
                        arm,
                        &settings,
                        &states,
                        &stores,
                        m,
                        &mut monitor_scope_writer,
                        |o, s| o.status = Some(s),
                    )
                    .await
                }
            }
        }
        let mut now: Conditions = objects
            .iter()
            .map(|o| summary(&o.key().name, o.conditions()))
            .collect();
        now.sort();
        let settled = now
            .iter()
            .all(|(_, ready, _, stalled)| ready == "True" || stalled == "True");
        if settled && now == last {
            return now;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    last
}

async fn once<K: Dependent + Clone>(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    stores: &Stores,
    obj: &mut Arc<K>,
    writer: &mut Writer<K>,
    set_status: impl FnOnce(&mut K, <K as Managed>::Status),
) {
    let deps = obj.deps(stores, settings);
    let state = states.of::<K>();
    let out = reconcile::reconcile(arm, settings, &*state, obj.as_ref(), &deps).await;
    set_status(Arc::make_mut(obj), out.status);
    publish(writer, obj);
}

fn publish<K: kube::Resource<DynamicType = ()> + Clone>(writer: &mut Writer<K>, obj: &Arc<K>) {
    writer.apply_watcher_event(&watcher::Event::Apply(K::clone(obj)));
}

fn summary(
    name: &str,
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> (String, String, String, String) {
    let ready = find(conditions, READY);
    let stalled = find(conditions, STALLED);
    (
        name.to_string(),
        ready.map(|c| c.status.clone()).unwrap_or_default(),
        ready.map(|c| c.reason.clone()).unwrap_or_default(),
        stalled
            .map(|c| c.status.clone())
            .unwrap_or_else(|| "False".into()),
    )
}
