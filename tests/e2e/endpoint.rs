//! End to end against a real cluster (Kubernetes 1.32): the CRDs from crds/, an in-process ARM
//! emulator, and `arclink run` as a child process talking to both. The scope and endpoint from
//! deploy/examples become Ready with managed DNS and outbound rules, the dnsExport ConfigMap appears, and deleting
//! them cleans Azure up.
//!
//! Objects go to ARCLINK_E2E_NAMESPACE (default `default`), named for the run.

use std::time::{Duration, Instant};

use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcPrivateEndpoint, ArcPrivateLinkScope};
use arclink::connect::credentials::EMULATOR_TENANT;
use arclink::emulator::Emulator;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, ResourceExt};

use crate::support::{
    cluster_config, emulator_config, example, install_crds, kubeconfig, shared_namespace,
};

const WAIT: Duration = Duration::from_secs(120);

/// The emulator with the example's resource groups and a virtual network named `vnet` (unique
/// per run, so objects left behind by an interrupted run cannot conflict with this one).
async fn emulator(vnet: &str) -> Emulator {
    let more = format!(
        r#"  - {{subscriptionId: $SUB, name: rg-net, location: eastus}}
  - {{subscriptionId: $SUB, name: rg-dns, location: eastus}}
networkSecurityGroups:
  - {{subscriptionId: $SUB, resourceGroup: rg-net, name: {vnet}-nsg, location: eastus}}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: {vnet}
    location: eastus
    addressPrefixes: [10.1.0.0/16]
    subnets:
      - {{name: private-endpoints, addressPrefix: 10.1.2.0/24, networkSecurityGroup: {vnet}-nsg}}
"#
    );
    Emulator::start(emulator_config(&more)).await.unwrap()
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Deletes `name` and waits until the object is gone (its finalizer done).
async fn delete_and_wait<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
    wait_for(&format!("{name} to be gone"), || async {
        api.get_opt(name).await.ok().flatten().is_none()
    })
    .await;
}

#[tokio::test]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn scope_and_endpoint_become_ready_export_dns_and_clean_up() {
    let client = Client::try_from(cluster_config().await).unwrap();
    let ns = shared_namespace();
    install_crds(&client).await;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let vnet = format!("hub-{run}");
    let emu = emulator(&vnet).await;
    let admin = emu.admin();
    let dir = std::env::temp_dir().join(format!("arclink-e2e-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem()).unwrap();

    let mut controller = tokio::process::Command::new(env!("CARGO_BIN_EXE_arclink"))
        .args([
            "run",
            "--arm-endpoint",
            &emu.endpoint(),
            "--authority-host",
            &emu.endpoint(),
        ])
        .arg("--arm-ca-file")
        .arg(&ca)
        .args(["--namespace", &ns, "--cluster-name", &format!("e2e-{run}")])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .env("KUBECONFIG", kubeconfig())
        .env("AZURE_TENANT_ID", EMULATOR_TENANT)
        .env("AZURE_CLIENT_ID", "arclink-e2e")
        .env("AZURE_CLIENT_SECRET", "e2e-secret")
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let scopes: Api<ArcPrivateLinkScope> = Api::namespaced(client.clone(), &ns);
    let endpoints: Api<ArcPrivateEndpoint> = Api::namespaced(client.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);

    let mut scope: ArcPrivateLinkScope = example("01-scope.yaml");
    let scope_name = format!("e2e-scope-{run}");
    scope.metadata.name = Some(scope_name.clone());
    let mut pe: ArcPrivateEndpoint = example("02-endpoint.yaml");
    let pe_name = format!("e2e-pe-{run}");
    let cm_name = format!("arc-dns-{run}");
    pe.metadata.name = Some(pe_name.clone());
    pe.spec.scope_ref.as_mut().unwrap().name = scope_name.clone();
    pe.spec.subnet_id = pe.spec.subnet_id.replace(
        "/virtualNetworks/hub/",
        &format!("/virtualNetworks/{vnet}/"),
    );
    assert!(pe.spec.subnet_id.contains(&vnet), "{}", pe.spec.subnet_id);
    pe.spec.dns_export.as_mut().unwrap().config_map_name = cm_name.clone();
    scopes.create(&PostParams::default(), &scope).await.unwrap();
    endpoints.create(&PostParams::default(), &pe).await.unwrap();

    let ready = |api: Api<ArcPrivateEndpoint>, name: String| async move {
        api.get(&name).await.ok().is_some_and(|o| {
            o.status.as_ref().is_some_and(|s| {
                is_true(&s.common.conditions, READY)
                    && s.common.observed_generation == o.metadata.generation
            })
        })
    };
    wait_for("the scope to be Ready", || async {
        scopes.get(&scope_name).await.ok().is_some_and(|o| {
            o.status
                .as_ref()
                .is_some_and(|s| is_true(&s.common.conditions, READY))
        })
    })
    .await;
    wait_for("the endpoint to be Ready", || {
        ready(endpoints.clone(), pe_name.clone())
    })
    .await;

    let obj = endpoints.get(&pe_name).await.unwrap();
    let st = obj.status.clone().unwrap();
    assert_eq!(st.connection.as_ref().unwrap().status, "Approved");
    assert_eq!(st.dns_zone_ids.len(), 3, "{st:?}");
    assert!(obj.finalizers().iter().any(|f| f == "arclink.io/cleanup"));
    let pe_id = st.resource_id.clone().unwrap();
    assert!(admin.get(&pe_id).is_some());
    // spec.outboundRules of the example: the two rules in the subnet's group.
    let nsg = st.outbound_rules.clone().unwrap().network_security_group_id;
    assert!(
        nsg.ends_with(&format!("/networkSecurityGroups/{vnet}-nsg")),
        "{nsg}"
    );
    let rule_ids: Vec<String> = ["AllowAADOutboundAccess", "AllowAzOutboundAccess"]
        .iter()
        .map(|r| format!("{nsg}/securityRules/{r}"))
        .collect();
    for r in &rule_ids {
        assert!(admin.get(r).is_some(), "{r}");
    }

    wait_for("the dnsExport ConfigMap", || async {
        config_maps.get_opt(&cm_name).await.ok().flatten().is_some()
    })
    .await;
    let cm = config_maps.get(&cm_name).await.unwrap();
    let data = cm.data.clone().unwrap();
    let hosts = &data["hosts"];
    let gbl = st
        .dns_records
        .iter()
        .find(|r| r.fqdn == "gbl.his.arc.azure.com")
        .unwrap();
    assert!(
        hosts.contains(&format!("{} gbl.his.arc.azure.com\n", gbl.ip_addresses[0])),
        "{hosts}"
    );
    assert!(
        data["privatelink.his.arc.azure.com"].contains("$ORIGIN privatelink.his.arc.azure.com.")
    );
    let owner = &cm.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("ArcPrivateEndpoint", obj.uid().unwrap().as_str())
    );

    delete_and_wait(&endpoints, &pe_name).await;
    assert!(
        admin.get(&pe_id).is_none(),
        "the private endpoint is deleted in Azure"
    );
    for zone in &st.dns_zone_ids {
        assert!(admin.get(zone).is_none(), "zone {zone} is deleted in Azure");
    }
    for r in &rule_ids {
        assert!(admin.get(r).is_none(), "rule {r} is deleted in Azure");
    }
    let scope_id = scopes
        .get(&scope_name)
        .await
        .unwrap()
        .status
        .and_then(|s| s.resource_id)
        .unwrap();
    delete_and_wait(&scopes, &scope_name).await;
    assert!(admin.get(&scope_id).is_none());
    // Garbage collection removes the ConfigMap where a controller manager runs; do not rely on it.
    let _ = config_maps.delete(&cm_name, &DeleteParams::default()).await;

    controller.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
