//! A companion endpoint end to end against a real cluster (Kubernetes 1.32): the `arclink run`
//! binary reconciles deploy/examples/05-keyvault-endpoint.yaml (an endpoint to an existing Key
//! Vault, `spec.target`) into an in-process ARM emulator: the endpoint, exactly the vault's
//! private DNS zone, its link and zone group; the API server refuses a change of the target;
//! deleting the object removes what arclink created and leaves the vault.

use std::time::Duration;

use arclink::api::ArcPrivateEndpoint;
use arclink::api::conditions::{READY, is_true};
use arclink::emulator::Admin;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{Env, SUB, apply, delete_and_wait, emulator_config, example, run, wait_for};

const NAME: &str = "hub-keyvault-pe";

const MORE: &str = r#"  - {subscriptionId: $SUB, name: rg-net, location: eastus}
  - {subscriptionId: $SUB, name: rg-dns, location: eastus}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: hub
    location: eastus
    addressPrefixes: [10.10.0.0/16]
    subnets:
      - {name: private-endpoints, addressPrefix: 10.10.1.0/24}
keyVaults:
  - {subscriptionId: $SUB, resourceGroup: rg-arc, name: arclink-kv, location: eastus}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn a_key_vault_endpoint_becomes_ready_with_its_zone_and_is_deleted() {
    run("arclink-e2e-kv", emulator_config(MORE), scenario).await;
}

async fn scenario(env: &Env, admin: &Admin, child: &mut Child) {
    let endpoints: Api<ArcPrivateEndpoint> = Api::namespaced(env.client.clone(), &env.namespace);
    let mut manifest: Value = example("05-keyvault-endpoint.yaml");
    manifest["metadata"]["namespace"] = json!(env.namespace);
    apply(&endpoints, NAME, &manifest).await;

    let obj = wait_for("Ready=True", Duration::from_secs(120), child, || async {
        let obj = endpoints.get(NAME).await.ok()?;
        let ready = obj.status.as_ref().is_some_and(|s| {
            is_true(&s.common.conditions, READY)
                && s.common.observed_generation == obj.metadata.generation
        });
        ready.then_some(obj)
    })
    .await;
    let st = obj.status.unwrap();
    let vault = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.KeyVault/vaults/arclink-kv"
    );
    let target = st.target.clone().unwrap();
    assert_eq!(
        (target.name.as_str(), target.group_id.as_str()),
        ("arclink-kv/vault", "vault")
    );
    assert!(target.resource_id.eq_ignore_ascii_case(&vault));
    assert_eq!(st.dns_records.len(), 1, "{st:?}");
    assert_eq!(st.dns_records[0].fqdn, "arclink-kv.vault.azure.net");
    let zone = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net"
    );
    assert_eq!(st.dns_zone_ids.len(), 1, "{st:?}");
    assert!(st.dns_zone_ids[0].eq_ignore_ascii_case(&zone));
    let pe_id = st.resource_id.clone().unwrap();
    let pe = admin.get(&pe_id).expect("endpoint in Azure");
    let conn = &pe["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(conn["groupIds"], json!(["vault"]));
    assert!(admin.get(&format!("{zone}/A/arclink-kv")).is_some());
    assert_eq!(
        pe["tags"]["arclink-owner"],
        format!("e2e/{}/ArcPrivateEndpoint/{NAME}", env.namespace)
    );

    // The target is immutable: the API server refuses another group id.
    let change = json!({"spec": {"target": {"resourceId": vault, "groupId": "blob"}}});
    let refused = endpoints
        .patch(NAME, &PatchParams::default(), &Patch::Merge(&change))
        .await
        .expect_err("the API server refuses a change of the target");
    assert!(refused.to_string().contains("immutable"), "{refused}");
    // A group id outside the DNS zone catalogue needs privateDns.mode Existing or None.
    let mut unknown = manifest.clone();
    unknown["metadata"]["name"] = json!("sql-pe");
    unknown["spec"]["target"]["groupId"] = json!("sqlServer");
    let refused = endpoints
        .patch(
            "sql-pe",
            &PatchParams::apply("arclink-e2e").force(),
            &Patch::Apply(&unknown),
        )
        .await
        .expect_err("the API server refuses managed DNS for an unknown group id");
    assert!(
        refused.to_string().contains("spec.privateDns.mode"),
        "{refused}"
    );

    delete_and_wait(&endpoints, NAME, Duration::from_secs(120), child).await;
    assert!(
        admin.get(&pe_id).is_none(),
        "the endpoint is deleted in Azure"
    );
    assert!(
        admin.get(&zone).is_none(),
        "the zone arclink created is deleted"
    );
    assert!(admin.get(&vault).is_some(), "the vault is never touched");
}
