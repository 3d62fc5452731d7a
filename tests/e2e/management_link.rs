//! ArcResourceManagementPrivateLink end to end against a real cluster (Kubernetes 1.32): the
//! `arclink run` binary reconciles deploy/examples/06-management-link.yaml into an in-process
//! ARM emulator (the link and its association at the root management group), re-creates the
//! association deleted out of band, connects the hub network to the link through the endpoint of
//! deploy/examples/06-management-link-endpoint.yaml (`resourceManagementLinkRef`), stalls a
//! second object whose identity has no role at its management group naming the role needed,
//! and deletes all of them with their objects.

use std::time::Duration;

use arclink::api::conditions::{READY, STALLED, find, is_true};
use arclink::api::{ArcPrivateEndpoint, ArcResourceManagementPrivateLink};
use arclink::emulator::Admin;
use kube::Api;
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, apply, delete_and_wait, emulator_config, example, run, wait_for};

const NAME: &str = "arm-link";
const ENDPOINT: &str = "hub-management-pe";
const DENIED: &str = "arm-link-denied";
const ROOT: &str = "00000000-0000-0000-0000-0000000000aa";
/// A management group where the controller's identity (arclink-e2e) holds no role.
const OTHER: &str = "mg-without-role";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn management_link_and_association_are_created_corrected_and_deleted() {
    let fixtures = format!(
        "  - {{subscriptionId: $SUB, name: rg-net, location: eastus}}
  - {{subscriptionId: $SUB, name: rg-dns, location: eastus}}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: hub
    location: eastus
    addressPrefixes: [10.10.0.0/16]
    subnets:
      - {{name: private-endpoints, addressPrefix: 10.10.1.0/24}}
managementGroups:
  - {{name: {ROOT}, displayName: Tenant Root Group, tenantId: {ROOT}}}
  - {{name: {OTHER}, displayName: Other, tenantId: {ROOT}}}
roleAssignments:
  - {{principalId: arclink-e2e, role: Contributor, scope: /providers/Microsoft.Management/managementGroups/{ROOT}}}
"
    );
    run("arclink-e2e-rmpl", emulator_config(&fixtures), scenario).await;
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let links: Api<ArcResourceManagementPrivateLink> =
        Api::namespaced(env.client.clone(), &env.namespace);
    let mut manifest: Value = example("06-management-link.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    // In a cluster the status records what arclink created: no adoption needed.
    manifest["spec"]["policy"]["adopt"] = json!(false);
    manifest["spec"]["policy"]["driftCheckInterval"] = json!("30s");
    apply(&links, NAME, &manifest).await;

    let obj = wait_for("Ready=True", Duration::from_secs(120), child, || async {
        let obj = links.get(NAME).await.ok()?;
        let ready = obj
            .status
            .as_ref()
            .is_some_and(|s| is_true(&s.common.conditions, READY));
        ready.then_some(obj)
    })
    .await;
    let status = obj.status.unwrap();
    let link = status.resource_id.clone().unwrap();
    assert!(
        link.ends_with("/resourceManagementPrivateLinks/arm-link"),
        "{link}"
    );
    let association = status.association_id.clone().unwrap();
    assert!(
        association.starts_with(&format!(
            "/providers/Microsoft.Management/managementGroups/{ROOT}/providers/Microsoft.Authorization/privateLinkAssociations/"
        )),
        "{association}"
    );
    assert!(status.link_owned && status.association_created);
    let azure = admin.get(&association).expect("association missing");
    assert!(
        azure["properties"]["privateLink"]
            .as_str()
            .is_some_and(|l| l.eq_ignore_ascii_case(&link))
    );
    assert_eq!(azure["properties"]["publicNetworkAccess"], "Enabled");

    // Someone deletes the association; the next drift check creates it again.
    admin.delete_out_of_band(&association).unwrap();
    wait_for(
        "association re-created",
        Duration::from_secs(120),
        child,
        || async { admin.get(&association).map(|_| ()) },
    )
    .await;

    let endpoint = endpoint_converges(env, admin, child, &link).await;

    // A second link associated where the controller has no role: stalled, naming the role.
    let mut denied = manifest.clone();
    denied["metadata"]["name"] = json!(DENIED);
    denied["spec"]["association"]["managementGroupId"] = json!(OTHER);
    apply(&links, DENIED, &denied).await;
    let message = wait_for(
        "Stalled naming the role",
        Duration::from_secs(120),
        child,
        || async {
            let obj = links.get(DENIED).await.ok()?;
            let conditions = &obj.status.as_ref()?.common.conditions;
            if !is_true(conditions, STALLED) {
                return None;
            }
            find(conditions, STALLED).map(|c| c.message.clone())
        },
    )
    .await;
    assert!(
        message.contains("Owner or Contributor at the root management group")
            && message.contains(OTHER),
        "{message}"
    );

    let endpoints: Api<ArcPrivateEndpoint> = Api::namespaced(env.client.clone(), &env.namespace);
    delete_and_wait(&endpoints, ENDPOINT, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&endpoint).is_none(),
        "the endpoint is still there"
    );
    delete_and_wait(&links, NAME, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&association).is_none(),
        "the association is still there"
    );
    assert!(admin.get(&link).is_none(), "the link is still there");
    delete_and_wait(&links, DENIED, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&link.replace("arm-link", DENIED)).is_none(),
        "the denied object's link was created by it and goes with it"
    );
}

/// The endpoint to the link, Ready with group `ResourceManagement` and its one zone
/// `privatelink.azure.com` in its zone group; its Azure id.
async fn endpoint_converges(env: &Env, admin: &Admin, child: &mut Child, link: &str) -> String {
    let endpoints: Api<ArcPrivateEndpoint> = Api::namespaced(env.client.clone(), &env.namespace);
    let mut manifest: Value = example("06-management-link-endpoint.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    apply(&endpoints, ENDPOINT, &manifest).await;
    let obj = wait_for(
        "endpoint Ready",
        Duration::from_secs(120),
        child,
        || async {
            let obj = endpoints.get(ENDPOINT).await.ok()?;
            let ready = obj
                .status
                .as_ref()
                .is_some_and(|s| is_true(&s.common.conditions, READY));
            ready.then_some(obj)
        },
    )
    .await;
    let status = obj.status.unwrap();
    let target = status.target.unwrap();
    assert_eq!(
        (target.source.as_str(), target.group_id.as_str()),
        ("resourceManagementLinkRef", "ResourceManagement")
    );
    assert!(target.resource_id.eq_ignore_ascii_case(link), "{target:?}");
    let pe = status.resource_id.unwrap();
    let group = admin
        .get(&format!("{pe}/privateDnsZoneGroups/default"))
        .expect("zone group");
    let zones: Vec<String> = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["properties"]["privateDnsZoneId"].as_str())
        .map(|z| {
            z.rsplit('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect();
    assert_eq!(zones, ["privatelink.azure.com"]);
    pe
}
