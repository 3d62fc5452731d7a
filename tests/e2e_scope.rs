//! ArcPrivateLinkScope end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/01-scope.yaml into an in-process ARM emulator, corrects an
//! out-of-band change, and deletes the scope with the object. Runs only with
//! ARCLINK_E2E_KUBECONFIG set (path to a kubeconfig whose user may install CRDs and create
//! namespaces).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use arclink::api::ArcPrivateLinkScope;
use arclink::api::conditions::{READY, is_true};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const NAME: &str = "arc-scope";
const MANAGER: &str = "arclink-e2e";

struct Env {
    client: Client,
    kubeconfig: String,
    namespace: String,
    dir: PathBuf,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_is_created_corrected_and_deleted_by_the_controller() {
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
        namespace: format!("arclink-e2e-{suffix}"),
        dir: std::env::temp_dir().join(format!("arclink-e2e-{suffix}")),
    };
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures()),
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
    let mut manifest = example(Path::new(env!("CARGO_MANIFEST_DIR")));
    manifest["metadata"]["namespace"] = json!(env.namespace);
    // Checked for drift every ~30s (the minimum) so the correction below comes quickly.
    manifest["spec"]["policy"]["driftCheckInterval"] = json!("30s");
    scopes
        .patch(
            NAME,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&manifest),
        )
        .await
        .unwrap();

    let obj = wait_for("Ready=True", Duration::from_secs(120), child, || async {
        let obj = scopes.get(NAME).await.ok()?;
        let ready = obj
            .status
            .as_ref()
            .is_some_and(|s| is_true(&s.conditions, READY));
        ready.then_some(obj)
    })
    .await;
    let status = obj.status.unwrap();
    let id = status.resource_id.clone().unwrap();
    assert!(
        id.eq_ignore_ascii_case(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/{NAME}"
        )),
        "{id}"
    );
    assert_eq!(status.observed_generation, obj.metadata.generation);
    let azure = admin.get(&id).expect("scope missing from the emulator");
    assert_eq!(azure["properties"]["publicNetworkAccess"], "Disabled");
    assert_eq!(
        azure["tags"]["arclink-owner"],
        format!("e2e/{}/ArcPrivateLinkScope/{NAME}", env.namespace)
    );
    assert_eq!(azure["tags"]["team"], "platform");

    // Someone enables public access in the portal; the next drift check turns it off again.
    admin
        .patch_out_of_band(
            &id,
            json!({"properties": {"publicNetworkAccess": "Enabled"}}),
        )
        .unwrap();
    wait_for(
        "drift corrected",
        Duration::from_secs(120),
        child,
        || async {
            let azure = admin.get(&id)?;
            (azure["properties"]["publicNetworkAccess"] == "Disabled").then_some(())
        },
    )
    .await;
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.namespace);
    wait_for(
        "DriftCorrected event",
        Duration::from_secs(30),
        child,
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("DriftCorrected")
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(NAME)
                })
                .then_some(())
        },
    )
    .await;

    scopes.delete(NAME, &DeleteParams::default()).await.unwrap();
    wait_for(
        "object deleted from Kubernetes",
        Duration::from_secs(120),
        child,
        || async {
            match scopes.get_opt(NAME).await {
                Ok(None) => Some(()),
                _ => None,
            }
        },
    )
    .await;
    assert!(
        admin.get(&id).is_none(),
        "the scope is still in the emulator after the object was deleted"
    );
}

fn fixtures() -> Fixtures {
    Fixtures::from_yaml(&format!(
        r#"
subscriptions: [{{id: {SUB}, displayName: e2e}}]
resourceGroups:
  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}
"#
    ))
    .unwrap()
}

fn example(root: &Path) -> Value {
    let text = std::fs::read_to_string(root.join("deploy/examples/01-scope.yaml")).unwrap();
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

/// Lets a failed run's object go (the controller is stopped, so nobody removes its finalizer)
/// and deletes the namespace.
async fn cleanup(env: &Env) {
    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    if let Ok(list) = scopes.list(&ListParams::default()).await {
        for obj in list.items {
            let name = obj.metadata.name.unwrap_or_default();
            let _ = scopes
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"finalizers": null}})),
                )
                .await;
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
