//! Shared by the e2e tests: the cluster from `ARCLINK_E2E_KUBECONFIG`, CRD installation, the
//! controller child process, the emulator's fixtures, polling and clean-up.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use arclink::api::{
    ArcPrivateEndpoint, ArcPrivateLinkScope, ArcResourceManagementPrivateLink, ArcServerAssociation,
};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use futures::FutureExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, Resource};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const MANAGER: &str = "arclink-e2e";
/// The subscription of deploy/examples.
pub const SUB: &str = "11111111-2222-3333-4444-555555555555";

/// The kubeconfig path in `ARCLINK_E2E_KUBECONFIG`. These tests are ignored (with the reason "needs ARCLINK_E2E_KUBECONFIG"); run with
/// `--ignored` and without the variable, they fail here rather than pass without a cluster.
pub fn kubeconfig() -> String {
    std::env::var("ARCLINK_E2E_KUBECONFIG").unwrap_or_else(|_| {
        panic!(
            "ARCLINK_E2E_KUBECONFIG is not set: the e2e tests need the path of a kubeconfig for a \
             Kubernetes 1.32 cluster whose user may install CRDs and create namespaces"
        )
    })
}

/// The client configuration of the cluster named by `ARCLINK_E2E_KUBECONFIG`.
pub async fn cluster_config() -> Config {
    let kubeconfig = Kubeconfig::read_from(kubeconfig()).unwrap();
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap()
}

/// `ARCLINK_E2E_NAMESPACE`, `default` when unset: where the tests that need no namespace of their
/// own put their objects.
pub fn shared_namespace() -> String {
    std::env::var("ARCLINK_E2E_NAMESPACE").unwrap_or_else(|_| "default".into())
}

/// The cluster named by `ARCLINK_E2E_KUBECONFIG` with the CRDs installed and a fresh namespace
/// `<prefix>-<random>` for this run.
pub async fn connect(prefix: &str) -> Env {
    let client = Client::try_from(cluster_config().await).unwrap();
    install_crds(&client).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let env = Env {
        client: client.clone(),
        kubeconfig: kubeconfig(),
        namespace: format!("{prefix}-{suffix}"),
        dir: std::env::temp_dir().join(format!("{prefix}-{suffix}")),
    };
    std::fs::create_dir_all(&env.dir).unwrap();
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": env.namespace}})).unwrap();
    Api::<Namespace>::all(client)
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    env
}

/// Connects (namespace `<prefix>-<random>`), starts an emulator with `config` and the controller
/// against both, runs `scenario`, then stops the controller and cleans the namespace up whatever
/// happened; a failed scenario fails the test after the clean-up, with the end of the
/// controller's log.
pub async fn run<S>(prefix: &str, config: EmulatorConfig, scenario: S)
where
    S: AsyncFnOnce(&Env, &Admin, &mut Child),
{
    let env = &connect(prefix).await;
    let emu = Emulator::start(config).await.unwrap();
    let mut child = start_controller(env, &emu);
    let admin = emu.admin();
    let result = std::panic::AssertUnwindSafe(scenario(env, &admin, &mut child))
        .catch_unwind()
        .await;

    stop_controller(env, child, result.is_err()).await;
    release_finalizers::<ArcServerAssociation>(env).await;
    release_finalizers::<ArcPrivateEndpoint>(env).await;
    release_finalizers::<ArcPrivateLinkScope>(env).await;
    release_finalizers::<ArcResourceManagementPrivateLink>(env).await;
    release_finalizers::<arclink::api::ArcMonitorPrivateLinkScope>(env).await;
    delete_namespace(env).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// An emulator configuration holding subscription [`SUB`] with resource group `rg-arc`, and
/// `more`: fixture YAML (`$SUB` standing for [`SUB`]) whose first lines continue the list of
/// resource groups.
pub fn emulator_config(more: &str) -> EmulatorConfig {
    let yaml = format!(
        "subscriptions: [{{id: {SUB}, displayName: e2e}}]\nresourceGroups:\n  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}\n{}",
        more.replace("$SUB", SUB)
    );
    EmulatorConfig {
        fixtures: Some(Fixtures::from_yaml(&yaml).unwrap()),
        ..Default::default()
    }
}

/// Server-side applies `manifest` as `name`, the way `kubectl apply --server-side` would.
pub async fn apply<K>(api: &Api<K>, name: &str, manifest: &Value)
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    api.patch(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(manifest),
    )
    .await
    .unwrap();
}

/// Deletes `name` and waits until it is gone from Kubernetes (its finalizer done).
pub async fn delete_and_wait<K>(api: &Api<K>, name: &str, within: Duration, child: &mut Child)
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
    let what = format!("{name} deleted from Kubernetes");
    wait_for(&what, within, child, || async {
        matches!(api.get_opt(name).await, Ok(None)).then_some(())
    })
    .await;
}

/// A manifest of deploy/examples.
pub fn example<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/examples")
        .join(file);
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Stops the controller; after a failed scenario, prints the end of its log.
pub async fn stop_controller(env: &Env, mut child: Child, failed: bool) {
    let _ = child.kill().await;
    if failed {
        let log = std::fs::read_to_string(env.dir.join("arclink.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        eprintln!("--- arclink log (last lines) ---");
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
    }
}

/// One test run: its cluster client, kubeconfig path, namespace and scratch directory.
pub struct Env {
    pub client: Client,
    pub kubeconfig: String,
    pub namespace: String,
    pub dir: PathBuf,
}

/// Server-side applies every CRD of crds/arclink.io.yaml and waits until each is Established.
pub async fn install_crds(client: &Client) {
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
    assert_eq!(names.len(), arclink::api::KINDS.len(), "{names:?}");
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

pub fn start_controller(env: &Env, emu: &Emulator) -> Child {
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
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, child: &mut Child, check: F) -> T
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

/// Removes the finalizers of every `K` left in the namespace (the controller is stopped, so
/// nobody else will).
pub async fn release_finalizers<K>(env: &Env)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(env.client.clone(), &env.namespace);
    let patch = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    if let Ok(list) = api.list(&ListParams::default()).await {
        for obj in list.items {
            let name = obj.meta().name.clone().unwrap_or_default();
            let _ = api.patch(&name, &PatchParams::default(), &patch).await;
        }
    }
}

/// Deletes the run's namespace and scratch directory.
pub async fn delete_namespace(env: &Env) {
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    if let Err(e) = namespaces
        .delete(&env.namespace, &DeleteParams::default())
        .await
    {
        eprintln!("deleting namespace {}: {e}", env.namespace);
    }
    let _ = std::fs::remove_dir_all(&env.dir);
}
