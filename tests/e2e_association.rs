//! ArcServerAssociation end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/01-scope.yaml and 03-association.yaml (plus a tag
//! selector) into an in-process ARM emulator holding the machines, reports Ready, and on delete
//! detaches the machines. Runs only with ARCLINK_E2E_KUBECONFIG set (path to a kubeconfig whose
//! user may install CRDs and create namespaces).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcPrivateLinkScope, ArcServerAssociation};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "arc-scope";
const ASSOCIATION: &str = "web-servers";
const MANAGER: &str = "arclink-e2e";

struct Env {
    client: Client,
    kubeconfig: String,
    namespace: String,
    dir: PathBuf,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn association_becomes_ready_then_detaches_on_delete() {
    let Ok(kubeconfig) = std::env::var("ARCLINK_E2E_KUBECONFIG") else {
        println!("skipped: ARCLINK_E2E_KUBECONFIG not set");
        return;
    };
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let client = Client::try_from(config).unwrap();
    install_crds(&client).await;

    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let env = Env {
        client: client.clone(),
        kubeconfig,
        namespace: format!("arclink-e2e-asa-{suffix}"),
        dir: std::env::temp_dir().join(format!("arclink-e2e-asa-{suffix}")),
    };
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures()),
        // Several list pages even for this small fleet.
        page_size: 10,
        ..Default::default()
    })
    .await
    .unwrap();
    std::fs::create_dir_all(&env.dir).unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": env.namespace}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();

    let mut child = start_controller(&env, &emu);

    let result = std::panic::AssertUnwindSafe(scenario(&env, &emu.admin(), &mut child))
        .catch_unwind()
        .await;

    let _ = child.kill().await;
    if result.is_err() {
        let log = std::fs::read_to_string(env.dir.join("arclink.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        eprintln!("--- arclink log (last lines) ---");
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
    }
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

/// Server-side applies every CRD of crds/arclink.io.yaml and waits until each is Established.
async fn install_crds(client: &Client) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/arclink.io.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        crds.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&doc),
        )
        .await
        .unwrap();
        names.push(name);
    }
    assert_eq!(names.len(), 3, "{names:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    for name in names {
        loop {
            let crd = crds.get(&name).await.unwrap();
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            assert!(Instant::now() < deadline, "CRD {name} not Established");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn start_controller(env: &Env, emu: &Emulator) -> Child {
    let ca = env.dir.join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem()).unwrap();
    let log = std::fs::File::create(env.dir.join("arclink.log")).unwrap();
    let endpoint = emu.endpoint();
    Command::new(env!("CARGO_BIN_EXE_arclink"))
        .args(["run", "--namespace", &env.namespace])
        .args(["--arm-endpoint", &endpoint, "--authority-host", &endpoint])
        .arg("--arm-ca-file")
        .arg(&ca)
        .args(["--metrics-addr", "127.0.0.1:0", "--cluster-name", "e2e"])
        .args(["--log-format", "text", "--log-level", "info,arclink=debug"])
        .env("KUBECONFIG", &env.kubeconfig)
        // One instance: no Lease, whatever the calling environment says.
        .env("ARCLINK_LEADER_ELECT", "false")
        .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000e2")
        .env("AZURE_CLIENT_ID", "arclink-e2e")
        .env("AZURE_CLIENT_SECRET", "e2e-not-a-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Polls `check` every second until it yields a value, failing after `within` or when the
/// controller exits.
async fn wait_for<T, F, Fut>(what: &str, within: Duration, child: &mut Child, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if let Ok(Some(code)) = child.try_wait() {
            panic!("arclink exited ({code}) while waiting for {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Lets a failed run's objects go (the controller is stopped, so nobody removes their
/// finalizers) and deletes the namespace.
async fn cleanup(env: &Env) {
    let patch = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    let associations: Api<ArcServerAssociation> =
        Api::namespaced(env.client.clone(), &env.namespace);
    if let Ok(list) = associations.list(&ListParams::default()).await {
        for obj in list.items {
            let name = obj.metadata.name.unwrap_or_default();
            let _ = associations
                .patch(&name, &PatchParams::default(), &patch)
                .await;
        }
    }
    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    if let Ok(list) = scopes.list(&ListParams::default()).await {
        for obj in list.items {
            let name = obj.metadata.name.unwrap_or_default();
            let _ = scopes.patch(&name, &PatchParams::default(), &patch).await;
        }
    }
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    if let Err(e) = namespaces
        .delete(&env.namespace, &DeleteParams::default())
        .await
    {
        eprintln!("deleting namespace {}: {e}", env.namespace);
    }
    let _ = std::fs::remove_dir_all(&env.dir);
}
