//! ArcMonitorPrivateLinkScope end to end against a real cluster (Kubernetes 1.32): the
//! `arclink run` binary reconciles deploy/examples/04-monitor-scope.yaml into an in-process ARM
//! emulator — the scope in `global` and its two links, one at a time — re-links a link removed
//! out of band, unlinks an entry removed from the spec, and deletes the scope with the object.
//! The endpoint of deploy/examples/04-monitor-endpoint.yaml (`monitorScopeRef`), applied
//! before the scope, waits for it, becomes Ready with the five Azure Monitor zones in one zone
//! group once the scope is Ready, and is deleted with everything arclink created for it.

use std::time::Duration;

use arclink::api::conditions::{READY, RECONCILING, find, is_true};
use arclink::api::{ArcMonitorPrivateLinkScope, ArcPrivateEndpoint};
use arclink::emulator::Admin;
use arclink::reconcile::scope_ref::WAIT_FOR_SCOPE;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, SUB, apply, delete_and_wait, emulator_config, example, run, wait_for};

const NAME: &str = "arc-monitor";
const ENDPOINT: &str = "hub-monitor-pe";

/// The hub network of the endpoint, and the workspace and data collection endpoint the
/// example links.
const MONITOR_FIXTURES: &str = "  - {subscriptionId: $SUB, name: rg-net, location: eastus}
  - {subscriptionId: $SUB, name: rg-dns, location: eastus}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: hub
    location: eastus
    addressPrefixes: [10.10.0.0/16]
    subnets:
      - {name: private-endpoints, addressPrefix: 10.10.1.0/24}
logAnalyticsWorkspaces:
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

/// The endpoint's Ready condition's reason, once its status is at its generation.
async fn endpoint_reason(api: &Api<ArcPrivateEndpoint>) -> Option<(String, ArcPrivateEndpoint)> {
    let obj = api.get(ENDPOINT).await.ok()?;
    let status = obj.status.as_ref()?;
    if status.common.observed_generation != obj.metadata.generation {
        return None;
    }
    let reason = find(&status.common.conditions, READY)?.reason.clone();
    Some((reason, obj))
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let api: Api<ArcMonitorPrivateLinkScope> = Api::namespaced(env.client.clone(), &env.namespace);
    let endpoints: Api<ArcPrivateEndpoint> = Api::namespaced(env.client.clone(), &env.namespace);

    // The endpoint first: it waits for the scope it names.
    let mut endpoint: Value = example("04-monitor-endpoint.yaml");
    endpoint["metadata"]["namespace"] = json!(env.namespace);
    apply(&endpoints, ENDPOINT, &endpoint).await;
    let waiting = wait_for(
        "endpoint waiting",
        Duration::from_secs(60),
        child,
        || async {
            let (reason, obj) = endpoint_reason(&endpoints).await?;
            (reason == "MonitorScopeNotFound").then_some(obj)
        },
    )
    .await;
    let conditions = &waiting.status.as_ref().unwrap().common.conditions;
    assert!(
        find(conditions, READY).is_some_and(|c| c.message.contains("spec.monitorScopeRef")),
        "{conditions:?}"
    );

    let mut manifest: Value = example("04-monitor-scope.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    manifest["spec"]["policy"]["driftCheckInterval"] = json!("30s");
    apply(&api, NAME, &manifest).await;

    let obj = ready(&api, child, "Ready=True").await;
    let scope_ready = std::time::Instant::now();
    endpoint_converges(env, admin, child, &endpoints, &obj).await;
    // The endpoint was Stalled (scope not declared yet), looked at again only at its drift
    // check (minutes) or when the controller's watch of Azure Monitor scopes brings it back:
    // Ready within the scope's wait proves the watch.
    let after = scope_ready.elapsed();
    eprintln!("endpoint Ready {after:?} after its Azure Monitor scope");
    assert!(after < WAIT_FOR_SCOPE, "{after:?}");
    delete_and_wait(&endpoints, ENDPOINT, Duration::from_secs(120), child).await;
    let pe_id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/{ENDPOINT}"
    );
    assert!(
        admin.get(&pe_id).is_none(),
        "the endpoint is still in Azure"
    );
    for zone in MONITOR_ZONES {
        assert!(
            admin.get(&zone_id(zone)).is_none(),
            "{zone} is still in Azure"
        );
    }

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

const MONITOR_ZONES: [&str; 5] = [
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.core.windows.net",
    "privatelink.monitor.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.oms.opinsights.azure.com",
];

fn zone_id(zone: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{zone}"
    )
}

/// The endpoint, Ready once its scope is: connected to the scope with group `azuremonitor`,
/// the five zones in one zone group.
async fn endpoint_converges(
    env: &Env,
    admin: &Admin,
    child: &mut Child,
    endpoints: &Api<ArcPrivateEndpoint>,
    scope: &ArcMonitorPrivateLinkScope,
) {
    let obj = wait_for(
        "endpoint Ready",
        Duration::from_secs(120),
        child,
        || async {
            let (_, obj) = endpoint_reason(endpoints).await?;
            is_true(&obj.status.as_ref()?.common.conditions, READY).then_some(obj)
        },
    )
    .await;
    let st = obj.status.unwrap();
    assert!(
        !is_true(&st.common.conditions, RECONCILING),
        "{:?}",
        st.common.conditions
    );
    let scope_id = scope.status.as_ref().unwrap().resource_id.clone().unwrap();
    let target = st.target.clone().unwrap();
    assert_eq!(
        (
            target.name.as_str(),
            target.source.as_str(),
            target.group_id.as_str()
        ),
        (NAME, "monitorScopeRef", "azuremonitor")
    );
    assert!(target.resource_id.eq_ignore_ascii_case(&scope_id));
    let pe_id = st.resource_id.clone().unwrap();
    let pe = admin.get(&pe_id).expect("endpoint in Azure");
    assert_eq!(
        pe["tags"]["arclink-owner"],
        format!("e2e/{}/ArcPrivateEndpoint/{ENDPOINT}", env.namespace)
    );
    let conn = &pe["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(conn["groupIds"], json!(["azuremonitor"]));
    let group = admin
        .get(&format!("{pe_id}/privateDnsZoneGroups/default"))
        .expect("zone group");
    let mut zones: Vec<String> = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["properties"]["privateDnsZoneId"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
        })
        .collect();
    zones.sort();
    let expected: Vec<String> = MONITOR_ZONES
        .iter()
        .map(|z| zone_id(z).to_ascii_lowercase())
        .collect();
    assert_eq!(zones, expected);
}
