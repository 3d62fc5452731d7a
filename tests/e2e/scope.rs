//! ArcPrivateLinkScope end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/01-scope.yaml into an in-process ARM emulator, corrects an
//! out-of-band change, and deletes the scope with the object.

use std::time::Duration;

use arclink::api::ArcPrivateLinkScope;
use arclink::api::conditions::{READY, is_true};
use arclink::emulator::Admin;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, SUB, apply, delete_and_wait, emulator_config, example, run, wait_for};

const NAME: &str = "arc-scope";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn scope_is_created_corrected_and_deleted_by_the_controller() {
    run("arclink-e2e", emulator_config(""), scenario).await;
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    let mut manifest: Value = example("01-scope.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    // Checked for drift every ~30s (the minimum) so the correction below comes quickly.
    manifest["spec"]["policy"]["driftCheckInterval"] = json!("30s");
    apply(&scopes, NAME, &manifest).await;

    let obj = wait_for("Ready=True", Duration::from_secs(120), child, || async {
        let obj = scopes.get(NAME).await.ok()?;
        let ready = obj
            .status
            .as_ref()
            .is_some_and(|s| is_true(&s.common.conditions, READY));
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
    assert_eq!(status.common.observed_generation, obj.metadata.generation);
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

    delete_and_wait(&scopes, NAME, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&id).is_none(),
        "the scope is still in the emulator after the object was deleted"
    );
}
