//! ArcServerAssociation end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/01-scope.yaml and 03-association.yaml (plus a tag
//! selector, and its `monitoring`) into an in-process ARM emulator holding the machines, reports
//! Ready, and on delete detaches the machines and removes their endpoint associations.

use std::time::Duration;

use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcPrivateLinkScope, ArcServerAssociation};
use arclink::emulator::{Admin, EmulatorConfig};
use kube::Api;
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, SUB, apply, delete_and_wait, emulator_config, example, run, wait_for};

const SCOPE: &str = "arc-scope";
const ASSOCIATION: &str = "web-servers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn association_becomes_ready_then_detaches_on_delete() {
    let config = EmulatorConfig {
        // Several list pages even for this small fleet.
        page_size: 10,
        ..emulator_config(MACHINES)
    };
    run("arclink-e2e-asa", config, scenario).await;
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    let associations: Api<ArcServerAssociation> =
        Api::namespaced(env.client.clone(), &env.namespace);
    let mut scope: Value = example("01-scope.yaml");
    scope["metadata"]["namespace"] = json!(env.namespace);
    apply(&scopes, SCOPE, &scope).await;
    let mut association: Value = example("03-association.yaml");
    association["metadata"]["namespace"] = json!(env.namespace);
    association["spec"]["machines"]["names"] = json!(["web-01", "web-02", "missing-01"]);
    association["spec"]["machines"]["tagSelector"] = json!({"role": "web"});
    apply(&associations, ASSOCIATION, &association).await;

    let obj = wait_for(
        "association Ready=True",
        Duration::from_secs(120),
        child,
        || async {
            let obj = associations.get(ASSOCIATION).await.ok()?;
            let ready = obj.status.as_ref().is_some_and(|s| {
                is_true(&s.common.conditions, READY)
                    && s.common.observed_generation == obj.metadata.generation
            });
            ready.then_some(obj)
        },
    )
    .await;
    let status = obj.status.unwrap();
    // web-01, web-02 by name; node-00000..node-00019 by tag; db-01 has neither.
    assert_eq!(status.summary.matched, 22, "{status:?}");
    assert_eq!(status.summary.associated, 22, "{status:?}");
    assert_eq!(status.summary.not_found, 1, "{status:?}");
    assert_eq!(status.machines.len(), 1);
    assert_eq!(status.machines[0].name, "missing-01");
    assert_eq!(status.machines[0].state, "NotFound");
    let scope_id = status.scope_resource_id.clone().unwrap();
    assert!(
        scope_id
            .to_ascii_lowercase()
            .ends_with("/privatelinkscopes/arc-scope"),
        "{scope_id}"
    );
    for m in ["web-01", "web-02", "node-00000", "node-00019"] {
        assert_eq!(
            machine_scope(admin, m).map(|s| s.to_ascii_lowercase()),
            Some(scope_id.to_ascii_lowercase()),
            "{m}"
        );
    }
    assert_eq!(machine_scope(admin, "db-01"), None);
    // spec.monitoring: every selected machine points at the eastus data collection endpoint.
    let monitoring = status.summary.monitoring.clone().unwrap();
    assert_eq!(monitoring.associated, 22, "{status:?}");
    assert_eq!(status.data_collection_endpoint_ids, vec![DCE.to_string()]);
    for m in ["web-01", "web-02", "node-00000", "node-00019"] {
        let endpoint = machine_endpoint(admin, m).map(|s| s.to_ascii_lowercase());
        assert_eq!(endpoint, Some(DCE.to_ascii_lowercase()), "{m}");
    }
    assert_eq!(machine_endpoint(admin, "db-01"), None);

    // spec.monitoring removed: the associations arclink wrote go, the scope stays.
    let mut unmonitored = association.clone();
    unmonitored["spec"]["monitoring"] = Value::Null;
    apply(&associations, ASSOCIATION, &unmonitored).await;
    wait_for(
        "endpoint associations removed",
        Duration::from_secs(60),
        child,
        || async {
            let obj = associations.get(ASSOCIATION).await.ok()?;
            let s = obj.status?;
            let done = s.data_collection_endpoint_ids.is_empty()
                && s.common.observed_generation == obj.metadata.generation
                && is_true(&s.common.conditions, READY);
            done.then_some(())
        },
    )
    .await;
    for m in ["web-01", "node-00019"] {
        assert_eq!(machine_endpoint(admin, m), None, "{m}");
        assert!(machine_scope(admin, m).is_some(), "{m} stays in the scope");
    }

    // Monitoring again, then deletion (Detach) removes both.
    apply(&associations, ASSOCIATION, &association).await;
    wait_for(
        "endpoint associations written again",
        Duration::from_secs(60),
        child,
        || async { machine_endpoint(admin, "node-00019") },
    )
    .await;

    delete_and_wait(&associations, ASSOCIATION, Duration::from_secs(60), child).await;
    for m in ["web-01", "web-02", "node-00000", "node-00019"] {
        assert_eq!(machine_scope(admin, m), None, "{m} is detached");
        assert_eq!(
            machine_endpoint(admin, m),
            None,
            "{m}'s endpoint association"
        );
    }

    delete_and_wait(&scopes, SCOPE, Duration::from_secs(60), child).await;
}

fn machine_scope(admin: &Admin, name: &str) -> Option<String> {
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/{name}"
    );
    admin.get(&id).unwrap()["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .map(str::to_string)
}

/// The `configurationAccessEndpoint` a machine points at.
fn machine_endpoint(admin: &Admin, name: &str) -> Option<String> {
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/{name}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint"
    );
    admin.get(&id)?["properties"]["dataCollectionEndpointId"]
        .as_str()
        .map(str::to_string)
}

/// The data collection endpoint of 03-association.yaml's `monitoring`.
const DCE: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.Insights/dataCollectionEndpoints/dce-eastus";

/// The resource group of 03-association.yaml, its machines and data collection endpoint.
const MACHINES: &str = "  - {subscriptionId: $SUB, name: rg-servers, location: eastus}
machines:
  - {subscriptionId: $SUB, resourceGroup: rg-servers, name: web-01, location: eastus}
  - {subscriptionId: $SUB, resourceGroup: rg-servers, name: web-02, location: East US}
  - {subscriptionId: $SUB, resourceGroup: rg-servers, name: db-01, location: eastus, tags: {role: db}}
machineSets:
  - {subscriptionId: $SUB, resourceGroup: rg-servers, prefix: node, count: 20, location: eastus, tags: {role: web}}
dataCollectionEndpoints:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: dce-eastus, location: eastus}
";
