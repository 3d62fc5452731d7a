//! Shared by the e2e tests that run the `arclink` binary against a real cluster: CRD
//! installation, the controller child process, polling and clean-up.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use arclink::emulator::Emulator;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, Resource};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub const MANAGER: &str = "arclink-e2e";

/// The cluster named by `ARCLINK_E2E_KUBECONFIG` with the CRDs installed and a fresh namespace
/// `<prefix>-<random>` for this run; `None` (and a note) when the variable is not set.
pub async fn connect(prefix: &str) -> Option<Env> {
    let Ok(kubeconfig) = std::env::var("ARCLINK_E2E_KUBECONFIG") else {
        println!("skipped: ARCLINK_E2E_KUBECONFIG not set");
        return None;
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
    Some(env)
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
