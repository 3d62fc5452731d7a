//! ArcServerAssociation end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/01-scope.yaml and 03-association.yaml (plus a tag
//! selector) into an in-process ARM emulator holding the machines, reports Ready, and on delete
//! detaches the machines. Runs only with ARCLINK_E2E_KUBECONFIG set (path to a kubeconfig whose
//! user may install CRDs and create namespaces).

use std::path::Path;

use std::time::Duration;

use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcPrivateLinkScope, ArcServerAssociation};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use futures::FutureExt;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{
    Env, MANAGER, connect, delete_namespace, release_finalizers, start_controller, stop_controller,
    wait_for,
};

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "arc-scope";
const ASSOCIATION: &str = "web-servers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn association_becomes_ready_then_detaches_on_delete() {
    let Some(env) = connect("arclink-e2e-asa").await else {
        return;
    };
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures()),
        // Several list pages even for this small fleet.
        page_size: 10,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut child = start_controller(&env, &emu);

    let result = std::panic::AssertUnwindSafe(scenario(&env, &emu.admin(), &mut child))
        .catch_unwind()
        .await;

    stop_controller(&env, child, result.is_err()).await;
    cleanup(&env).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    let associations: Api<ArcServerAssociation> =
        Api::namespaced(env.client.clone(), &env.namespace);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scope = example(root, "01-scope.yaml");
    scope["metadata"]["namespace"] = json!(env.namespace);
    scopes
        .patch(
            SCOPE,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&scope),
        )
        .await
        .unwrap();
    let mut association = example(root, "03-association.yaml");
    association["metadata"]["namespace"] = json!(env.namespace);
    association["spec"]["machines"]["names"] = json!(["web-01", "web-02", "missing-01"]);
    association["spec"]["machines"]["tagSelector"] = json!({"role": "web"});
    associations
        .patch(
            ASSOCIATION,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&association),
        )
        .await
        .unwrap();

    let obj = wait_for(
        "association Ready=True",
        Duration::from_secs(120),
        child,
        || async {
            let obj = associations.get(ASSOCIATION).await.ok()?;
            let ready = obj.status.as_ref().is_some_and(|s| {
                is_true(&s.conditions, READY) && s.observed_generation == obj.metadata.generation
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

    associations
        .delete(ASSOCIATION, &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        "association deleted from Kubernetes",
        Duration::from_secs(60),
        child,
        || async { matches!(associations.get_opt(ASSOCIATION).await, Ok(None)).then_some(()) },
    )
    .await;
    for m in ["web-01", "web-02", "node-00000", "node-00019"] {
        assert_eq!(machine_scope(admin, m), None, "{m} is detached");
    }

    scopes
        .delete(SCOPE, &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        "scope deleted from Kubernetes",
        Duration::from_secs(60),
        child,
        || async { matches!(scopes.get_opt(SCOPE).await, Ok(None)).then_some(()) },
    )
    .await;
}

fn machine_scope(admin: &Admin, name: &str) -> Option<String> {
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/{name}"
    );
    admin.get(&id).unwrap()["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .map(str::to_string)
}

fn fixtures() -> Fixtures {
    Fixtures::from_yaml(&format!(
        r#"
subscriptions: [{{id: {SUB}, displayName: e2e}}]
resourceGroups:
  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}
  - {{subscriptionId: {SUB}, name: rg-servers, location: eastus}}
machines:
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, name: web-01, location: eastus}}
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, name: web-02, location: East US}}
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, name: db-01, location: eastus, tags: {{role: db}}}}
machineSets:
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, prefix: node, count: 20, location: eastus, tags: {{role: web}}}}
"#
    ))
    .unwrap()
}

fn example(root: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(root.join("deploy/examples").join(file)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// Lets a failed run's objects go and deletes the namespace.
async fn cleanup(env: &Env) {
    release_finalizers::<ArcServerAssociation>(env).await;
    release_finalizers::<ArcPrivateLinkScope>(env).await;
    delete_namespace(env).await;
}
