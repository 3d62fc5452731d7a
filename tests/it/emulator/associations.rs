//! Data collection rule associations on Arc machines (the Azure Monitor Agent's
//! `configurationAccessEndpoint`), an extension resource.

use serde_json::json;

use super::companion_support::*;

fn association(machine: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/{name}?api-version={DATA_COLLECTION}",
        machine_path(machine)
    )
}

fn endpoint_body(dce: &str) -> serde_json::Value {
    json!({"properties": {"dataCollectionEndpointId": dce}})
}

#[tokio::test]
async fn a_machine_is_associated_with_a_data_collection_endpoint() {
    let env = companion_env().await;
    let url = association("web-01", "configurationAccessEndpoint");
    let r = env.put(&url, endpoint_body(&dce_id("dce1"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.header("location").is_none() && r.header("azure-asyncoperation").is_none());
    assert_eq!(
        r.body["id"],
        format!(
            "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint",
            machine_path("web-01")
        )
    );
    assert_eq!(
        r.body["type"],
        "Microsoft.Insights/dataCollectionRuleAssociations"
    );
    assert_eq!(
        r.body["properties"]["dataCollectionEndpointId"],
        json!(dce_id("dce1"))
    );
    // Names are case-insensitive; a second PUT replaces (here: an endpoint in another region,
    // which Azure is not documented to refuse).
    let r = env
        .put(
            &association("web-01", "ConfigurationAccessEndpoint"),
            endpoint_body(&dce_id("dce-east")),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let got = env.get(&url).await;
    assert_eq!(
        got.body["properties"]["dataCollectionEndpointId"],
        json!(dce_id("dce-east"))
    );
    let list = env
        .get(&format!(
            "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations?api-version={DATA_COLLECTION}",
            machine_path("web-01")
        ))
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let machine = env
        .get(&format!("{}?api-version={HC}", machine_path("web-01")))
        .await;
    assert_eq!(machine.status, 200, "the machine is unchanged");
    let machines = env
        .get(&format!(
            "{}/providers/Microsoft.HybridCompute/machines?api-version={HC}",
            rg_path("rg1")
        ))
        .await;
    assert_eq!(
        machines.body["value"].as_array().unwrap().len(),
        6,
        "associations are not machines"
    );
    assert_eq!(
        env.emu
            .admin()
            .counters()
            .count_for("PUT", "Microsoft.Insights/dataCollectionRuleAssociations"),
        2
    );
    assert_eq!(env.delete(&url).await.status, 200);
    assert_eq!(env.delete(&url).await.status, 204);
    assert_eq!(env.get(&url).await.status, 404);
}

#[tokio::test]
async fn associations_are_refused_as_azure_refuses_them() {
    let env = companion_env().await;
    let r = env
        .put(
            &association("web-01", "dce"),
            endpoint_body(&dce_id("dce1")),
        )
        .await;
    assert_refused(&r, 400, "InvalidEndpointAssociationName");
    assert_eq!(
        r.body["error"]["message"],
        "An association of data collection endpoint must be named 'configurationAccessEndpoint'."
    );
    let url = association("web-01", "configurationAccessEndpoint");
    let both = json!({"properties": {"dataCollectionEndpointId": dce_id("dce1"),
        "dataCollectionRuleId": rg1("Microsoft.Insights/dataCollectionRules/dcr")}});
    assert_refused(&env.put(&url, both).await, 400, "InvalidPayload");
    assert_refused(
        &env.put(&url, endpoint_body(&dce_id("missing"))).await,
        400,
        "InvalidResourceReference",
    );
    assert_refused(
        &env.put(&url, endpoint_body(&workspace_id())).await,
        400,
        "LinkedInvalidPropertyId",
    );
    assert_refused(
        &env.put(&url, json!({"properties": {}})).await,
        400,
        "InvalidPayload",
    );
    let r = env
        .put(
            &association("no-such-machine", "configurationAccessEndpoint"),
            endpoint_body(&dce_id("dce1")),
        )
        .await;
    assert_refused(&r, 404, "ParentResourceNotFound");
    // Not an extension of a resource group here, nor of a type the emulator does not serve.
    let r = env
        .put(
            &format!("{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint?api-version={DATA_COLLECTION}", rg_path("rg1")),
            endpoint_body(&dce_id("dce1")),
        )
        .await;
    assert_refused(&r, 404, "InvalidResourceType");
    let r = env
        .put(
            &format!("{}/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint?api-version={DATA_COLLECTION}", rg_path("rg1")),
            endpoint_body(&dce_id("dce1")),
        )
        .await;
    assert_refused(&r, 404, "InvalidResourceType");
    // A rule association (rules are not modelled) is taken as it is.
    let r = env
        .put(
            &association("web-01", "rule"),
            json!({"properties": {"dataCollectionRuleId": rg1("Microsoft.Insights/dataCollectionRules/dcr")}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}
