//! ArcServerAssociation end to end against a real cluster (Kubernetes 1.32): an in-process ARM
//! emulator with machines, `arclink run` as a child process pointed at it, a scope and an
//! association applied, Ready awaited, then deleted and the machines checked detached.
//!
//! Runs only with ARCLINK_E2E_KUBECONFIG set (path to a kubeconfig with rights to apply CRDs);
//! objects go to ARCLINK_E2E_NAMESPACE (default `default`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcPrivateLinkScope, ArcServerAssociation, crds};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, ResourceExt};
use serde_json::json;

const SUB: &str = "0d5e2a1b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const WAIT: Duration = Duration::from_secs(120);

/// Kills the controller when the test ends, however it ends.
struct Controller(Child);

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::all() {
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply("arclink-e2e").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
        wait_for(&format!("CRD {name} to be established"), || async {
            api.get(&name).await.is_ok_and(|c| {
                c.status.and_then(|s| s.conditions).is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                })
            })
        })
        .await;
    }
}

fn machine_scope(admin: &Admin, name: &str) -> Option<String> {
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/{name}"
    );
    admin.get(&id).unwrap()["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test]
async fn association_becomes_ready_then_detaches_on_delete() {
    let Ok(kubeconfig_path) = std::env::var("ARCLINK_E2E_KUBECONFIG") else {
        println!("skipped: ARCLINK_E2E_KUBECONFIG not set");
        return;
    };
    let namespace = std::env::var("ARCLINK_E2E_NAMESPACE").unwrap_or_else(|_| "default".into());
    let kubeconfig = Kubeconfig::read_from(&kubeconfig_path).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    install_crds(&client).await;

    let fixtures = Fixtures::from_yaml(&format!(
        r#"
subscriptions: [{{id: {SUB}}}]
resourceGroups:
  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}
  - {{subscriptionId: {SUB}, name: rg-servers, location: eastus}}
machines:
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, name: web-01, location: eastus}}
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, name: other-01, location: eastus, tags: {{env: dev}}}}
machineSets:
  - {{subscriptionId: {SUB}, resourceGroup: rg-servers, prefix: node, count: 25, location: eastus, tags: {{env: prod}}}}
"#
    ))
    .unwrap();
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        page_size: 10,
        ..Default::default()
    })
    .await
    .unwrap();
    let admin = emu.admin();
    let dir = std::env::temp_dir().join(format!("arclink-e2e-association-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("emulator-ca.pem");
    std::fs::write(&ca_file, emu.ca_pem()).unwrap();

    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let scope_name = format!("e2e-scope-{suffix}");
    let association_name = format!("e2e-servers-{suffix}");
    let _controller = Controller(
        Command::new(env!("CARGO_BIN_EXE_arclink"))
            .args([
                "run",
                "--arm-endpoint",
                &emu.endpoint(),
                "--authority-host",
                &emu.endpoint(),
                "--arm-ca-file",
                &ca_file.to_string_lossy(),
                "--namespace",
                &namespace,
                "--cluster-name",
                &format!("e2e-{suffix}"),
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .env("KUBECONFIG", &kubeconfig_path)
            .env("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
            .env("AZURE_CLIENT_ID", "arclink-e2e")
            .env("AZURE_CLIENT_SECRET", "e2e-secret")
            .env("RUST_LOG", "info,arclink=debug")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(client.clone(), &namespace);
    let associations: Api<ArcServerAssociation> = Api::namespaced(client.clone(), &namespace);
    let scope: ArcPrivateLinkScope = serde_json::from_value(json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateLinkScope",
        "metadata": {"name": scope_name},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-arc"},
            "location": "eastus",
            "publicNetworkAccess": "Disabled"
        }
    }))
    .unwrap();
    scopes.create(&PostParams::default(), &scope).await.unwrap();
    let association: ArcServerAssociation = serde_json::from_value(json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcServerAssociation",
        "metadata": {"name": association_name},
        "spec": {
            "scopeRef": {"name": scope_name},
            "machines": {"resourceGroup": "rg-servers", "names": ["web-01", "missing-01"], "tagSelector": {"env": "prod"}},
            "deletion": "Detach"
        }
    }))
    .unwrap();
    associations
        .create(&PostParams::default(), &association)
        .await
        .unwrap();

    wait_for("the association to be Ready", || async {
        associations.get(&association_name).await.is_ok_and(|a| {
            a.status.is_some_and(|s| {
                is_true(&s.conditions, READY) && s.observed_generation == a.metadata.generation
            })
        })
    })
    .await;
    let status = associations
        .get(&association_name)
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(status.summary.associated, 26, "{status:?}");
    assert_eq!(status.summary.not_found, 1);
    assert_eq!(status.machines.len(), 1);
    assert_eq!(status.machines[0].name, "missing-01");
    let scope_id = status.scope_resource_id.clone().unwrap();
    assert!(scope_id.ends_with(&format!("/privateLinkScopes/{scope_name}")));
    for m in ["web-01", "node-00000", "node-00024"] {
        assert_eq!(
            machine_scope(&admin, m).as_deref(),
            Some(scope_id.as_str()),
            "{m}"
        );
    }
    assert_eq!(machine_scope(&admin, "other-01"), None);

    associations
        .delete(&association_name, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the association to be gone", || async {
        matches!(associations.get_opt(&association_name).await, Ok(None))
    })
    .await;
    for m in ["web-01", "node-00000", "node-00024"] {
        assert_eq!(machine_scope(&admin, m), None, "{m} detached");
    }

    scopes
        .delete(&scope_name, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the scope to be gone", || async {
        matches!(scopes.get_opt(&scope_name).await, Ok(None))
    })
    .await;
}
