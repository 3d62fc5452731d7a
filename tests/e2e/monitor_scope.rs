//! ArcMonitorPrivateLinkScope end to end against a real cluster (Kubernetes 1.32): the
//! `arclink run` binary reconciles deploy/examples/04-monitor-scope.yaml into an in-process ARM
//! emulator — the scope in `global` and its two links, one at a time — re-links a link removed
//! out of band, unlinks an entry removed from the spec, and deletes the scope with the object.

use std::time::Duration;

use arclink::api::ArcMonitorPrivateLinkScope;
use arclink::api::conditions::{READY, is_true};
use arclink::emulator::Admin;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, SUB, apply, delete_and_wait, emulator_config, example, run, wait_for};

const NAME: &str = "arc-monitor";

/// The workspace and data collection endpoint the example links.
const MONITOR_FIXTURES: &str = "logAnalyticsWorkspaces:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: arc-logs, location: eastus}
dataCollectionEndpoints:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: dce-eastus, location: eastus}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn monitor_scope_links_its_resources_and_is_deleted_by_the_controller() {
    run(
        "arclink-e2e-ampls",
        emulator_config(MONITOR_FIXTURES),
        scenario,
    )
    .await;
}

/// The scope's links in the emulator, as lower-cased linked resource ids.
fn linked(admin: &Admin, scope: &str, names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .filter_map(|n| admin.get(&format!("{scope}/scopedResources/{n}")))
        .filter(|l| l["properties"]["provisioningState"] == "Succeeded")
        .filter_map(|l| {
            l["properties"]["linkedResourceId"]
                .as_str()
                .map(str::to_ascii_lowercase)
        })
        .collect();
    out.sort();
    out
}

async fn ready(
    api: &Api<ArcMonitorPrivateLinkScope>,
    child: &mut Child,
    what: &str,
) -> ArcMonitorPrivateLinkScope {
    wait_for(what, Duration::from_secs(120), child, || async {
        let obj = api.get(NAME).await.ok()?;
        let status = obj.status.as_ref()?;
        (is_true(&status.common.conditions, READY)
            && status.common.observed_generation == obj.metadata.generation)
            .then_some(obj)
    })
    .await
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let api: Api<ArcMonitorPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    let mut manifest: Value = example("04-monitor-scope.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    manifest["spec"]["policy"]["driftCheckInterval"] = json!("30s");
    apply(&api, NAME, &manifest).await;

    let obj = ready(&api, child, "Ready=True").await;
    let status = obj.status.unwrap();
    let id = status.resource_id.clone().unwrap();
    assert!(
        id.eq_ignore_ascii_case(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Insights/privateLinkScopes/{NAME}"
        )),
        "{id}"
    );
    let azure = admin.get(&id).expect("scope missing from the emulator");
    assert!(
        azure["location"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("global")
    );
    assert_eq!(
        azure["tags"]["arclink-owner"],
        format!("e2e/{}/ArcMonitorPrivateLinkScope/{NAME}", env.namespace)
    );
    let names: Vec<String> = status
        .scoped_resources
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let declared: Vec<String> = {
        let mut d: Vec<String> = manifest["spec"]["scopedResources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["resourceId"].as_str().unwrap().to_ascii_lowercase())
            .collect();
        d.sort();
        d
    };
    assert_eq!(linked(admin, &id, &names), declared, "{status:?}");
    assert!(status.common.arm.operations.is_empty(), "{status:?}");

    // A link removed in the portal is linked again at the next drift check.
    let workspace = names
        .iter()
        .find(|n| n.starts_with("arclink-arc-logs-"))
        .expect("arclink's link of the workspace")
        .clone();
    admin
        .delete_out_of_band(&format!("{id}/scopedResources/{workspace}"))
        .unwrap();
    wait_for("link restored", Duration::from_secs(120), child, || async {
        (linked(admin, &id, &names) == declared).then_some(())
    })
    .await;

    // The data collection endpoint leaves the spec: only its link goes.
    let patch =
        json!({"spec": {"scopedResources": [manifest["spec"]["scopedResources"][0].clone()]}});
    api.patch(NAME, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let obj = ready(&api, child, "Ready after unlinking").await;
    assert_eq!(obj.status.unwrap().scoped_resources.len(), 1);
    assert_eq!(linked(admin, &id, &names), declared[1..].to_vec());

    delete_and_wait(&api, NAME, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&id).is_none(),
        "the scope is still in the emulator after the object was deleted"
    );
}
