//! The ArcMonitorPrivateLinkScope CRD: location only `global`, access modes `Open` or
//! `PrivateOnly` defaulting to `Open`, and scoped resources a set of ids of the resources an
//! Azure Monitor scope links.

use serde_json::{Value, json};

use super::{accepted, errors, rejected, with};
use crate::common::fixtures::SUB;

fn ampls() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcMonitorPrivateLinkScope",
        "metadata": {"name": "arc-monitor", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-arc"},
            "accessModes": {"ingestion": "PrivateOnly", "query": "Open"},
            "exclusions": [{"privateEndpointConnectionName": "pe-hub", "query": "PrivateOnly"}],
            "scopedResources": [
                {"resourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.OperationalInsights/workspaces/arc-logs")},
                {"resourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-arc/providers/microsoft.insights/dataCollectionEndpoints/dce-eastus")},
                {"resourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Insights/components/My.App(1)")}
            ],
            "tags": {"team": "platform"}
        }
    })
}

#[test]
fn a_complete_scope_is_accepted_and_the_modes_default_to_open() {
    accepted(&ampls());
    accepted(&with(ampls(), "/spec/accessModes", Value::Null));
    accepted(&with(ampls(), "/spec/location", json!("Global")));
    let schema = super::schema("ArcMonitorPrivateLinkScope");
    let modes = &schema["properties"]["spec"]["properties"]["accessModes"];
    let enum_of = |mode: &str| modes["properties"][mode]["enum"].clone();
    assert_eq!(enum_of("ingestion"), json!(["Open", "PrivateOnly"]));
    assert_eq!(enum_of("query"), json!(["Open", "PrivateOnly"]));
    let described = modes["description"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    assert!(
        described.contains("`privateonly` blocks, for every network sharing the endpoint's dns"),
        "the description says what PrivateOnly does: {described}"
    );
}

#[test]
fn location_is_only_global_and_modes_only_open_or_private_only() {
    rejected(
        &with(ampls(), "/spec/location", json!("eastus")),
        "always global",
    );
    rejected(
        &with(ampls(), "/spec/accessModes/ingestion", json!("Closed")),
        "spec.accessModes.ingestion",
    );
    rejected(
        &with(ampls(), "/spec/exclusions/0/query", json!("Private")),
        "spec.exclusions[0].query",
    );
}

#[test]
fn scoped_resources_are_ids_of_workspaces_endpoints_or_components_each_once() {
    let arc_scope = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/apls"
    );
    let short_workspace = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.OperationalInsights/workspaces/ab"
    );
    let path_step = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Insights/dataCollectionEndpoints/.."
    );
    for bad in [arc_scope, short_workspace, path_step, "law-arc".to_string()] {
        let obj = with(ampls(), "/spec/scopedResources/0/resourceId", json!(bad));
        let errs = errors(&obj, None);
        assert!(
            errs.iter()
                .any(|e| e.contains("scopedResources[0].resourceId")
                    && e.contains("Log Analytics workspace")),
            "{bad}: {errs:?}"
        );
    }
    let first = ampls()["spec"]["scopedResources"][0].clone();
    let twice = with(ampls(), "/spec/scopedResources", json!([first, first]));
    rejected(&twice, "spec.scopedResources[1]");
}
