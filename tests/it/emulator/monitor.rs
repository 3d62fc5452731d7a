//! Azure Monitor private link scopes: the scope, its scoped resources (followed through
//! `privateLinkScopeOperationStatuses`, duplicates and concurrent writes refused) and its
//! private link resource.

use std::time::Duration;

use arclink::emulator::{Behaviours, EmulatorConfig};
use serde_json::{Value, json};

use super::companion_support::*;

fn scope_url(name: &str) -> String {
    format!("{}?api-version={INSIGHTS}", monitor_scope_path(name))
}

#[tokio::test]
async fn a_scope_is_written_at_once_in_global_with_both_access_modes() {
    let env = companion_env().await;
    let url = scope_url("ampls");
    let modes = |query: &str, ingestion: Option<&str>| {
        let mut settings = json!({"queryAccessMode": query});
        if let Some(i) = ingestion {
            settings["ingestionAccessMode"] = json!(i);
        }
        json!({"location": "global", "properties": {"accessModeSettings": settings}})
    };
    let r = env.put(&url, modes("Open", None)).await;
    assert_refused(&r, 400, "InvalidRequestContent");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ingestionAccessMode")
    );
    let r = env
        .put(&url, json!({"location": "global", "properties": {}}))
        .await;
    assert_refused(&r, 400, "InvalidRequestContent");
    let r = env.put(&url, modes("Closed", Some("Open"))).await;
    assert_refused(&r, 400, "InvalidRequestContent");
    let mut in_region = modes("Open", Some("Open"));
    in_region["location"] = json!("westeurope");
    let r = env.put(&url, in_region).await;
    assert_refused(&r, 400, "LocationNotAvailableForResourceType");

    let r = env.put(&url, modes("privateonly", Some("Open"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.header("location").is_none() && r.header("azure-asyncoperation").is_none());
    let settings = &r.body["properties"]["accessModeSettings"];
    assert_eq!(settings["queryAccessMode"], "PrivateOnly");
    assert_eq!(settings["exclusions"], json!([]));
    assert_eq!(r.body["location"], "global");
    assert_eq!(
        r.body["properties"]["privateEndpointConnections"],
        json!([])
    );
    let r = env.put(&url, modes("Open", Some("Open"))).await;
    assert_eq!(r.status, 200);

    let r = env.patch(&url, json!({"tags": {"team": "ops"}})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tags"]["team"], "ops");
    assert_eq!(
        r.body["properties"]["accessModeSettings"]["queryAccessMode"],
        "Open"
    );
    let by_rg = env
        .get(&format!(
            "{}?api-version={INSIGHTS}",
            rg1("Microsoft.Insights/privateLinkScopes")
        ))
        .await;
    assert_eq!(by_rg.body["value"].as_array().unwrap().len(), 1);
    let by_sub = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/privateLinkScopes?api-version={INSIGHTS}"
        ))
        .await;
    assert_eq!(by_sub.body["value"][0]["name"], "ampls");
    let unknown = env
        .get(&format!(
            "{}?api-version=2024-07-10",
            monitor_scope_path("ampls")
        ))
        .await;
    assert_refused(&unknown, 400, "InvalidApiVersionParameter");
}

#[tokio::test]
async fn a_scoped_resource_is_followed_through_its_operation_status_and_linked_once() {
    let env = companion_env_with(EmulatorConfig {
        lro_duration: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    put_monitor_scope(&env, "ampls").await;
    let scoped = format!(
        "{}/scopedResources/ws?api-version={INSIGHTS}",
        monitor_scope_path("ampls")
    );
    let r = env
        .put(
            &scoped,
            json!({"properties": {"linkedResourceId": workspace_id()}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let location = r.header("location").unwrap();
    assert!(
        location.contains(
            "/resourceGroups/rg1/providers/Microsoft.Insights/privateLinkScopeOperationStatuses/"
        ),
        "{location}"
    );
    assert!(r.header("azure-asyncoperation").is_none());
    let running = env.get(&location).await;
    assert_eq!(
        running.status, 200,
        "the status resource answers 200 while it runs"
    );
    assert_eq!(running.body["status"], "InProgress");
    assert_eq!(
        env.get(&scoped).await.body["properties"]["provisioningState"],
        "Provisioning"
    );

    // A second write while one provisions is refused (reported behaviour).
    let r = env
        .put(
            &scoped.replace("/ws?", "/dce?"),
            json!({"properties": {"linkedResourceId": dce_id("dce1")}}),
        )
        .await;
    assert_refused(&r, 409, "Conflict");
    assert_eq!(
        r.body["error"]["message"],
        "Cannot modify resource while in provisioning state: 'Provisioning'"
    );

    let done = env.wait(&location).await;
    assert_eq!(done.body["status"], "Succeeded");
    assert!(done.body["endTime"].is_string());
    let got = env.get(&scoped).await.body;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["properties"]["linkedResourceId"], json!(workspace_id()));

    // The same linked resource again, under its name or another, is a conflict.
    for name in ["ws", "ws-again"] {
        let r = env
            .put(
                &scoped.replace("/ws?", &format!("/{name}?")),
                json!({"properties": {"linkedResourceId": workspace_id().to_uppercase()}}),
            )
            .await;
        assert_refused(&r, 409, "Conflict");
        assert_eq!(
            r.body["error"]["message"],
            "Scoped resource with same linked resource id already exists in this private link scope"
        );
    }
    let list = env
        .get(&format!(
            "{}/scopedResources?api-version={INSIGHTS}",
            monitor_scope_path("ampls")
        ))
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);

    let r = env.delete(&scoped).await;
    assert_eq!(r.status, 202);
    env.wait(&r.header("location").unwrap()).await;
    assert_eq!(env.get(&scoped).await.status, 404);
}

#[tokio::test]
async fn concurrent_scoped_resource_writes_are_accepted_when_switched_off() {
    let env = companion_env_with(EmulatorConfig {
        lro_duration: Duration::from_secs(5),
        ..Default::default()
    })
    .await;
    env.emu.admin().set_behaviours(Behaviours {
        scoped_resource_writes_serialized: false,
        ..Behaviours::default()
    });
    put_monitor_scope(&env, "ampls").await;
    let base = format!("{}/scopedResources", monitor_scope_path("ampls"));
    for (name, linked) in [("ws", workspace_id()), ("dce", dce_id("dce1"))] {
        let r = env
            .put(
                &format!("{base}/{name}?api-version={INSIGHTS}"),
                json!({"properties": {"linkedResourceId": linked}}),
            )
            .await;
        assert_eq!(r.status, 202, "{name}: {:?}", r.body);
    }
}

#[tokio::test]
async fn scoped_resources_link_existing_monitor_resources_only() {
    let env = companion_env().await;
    put_monitor_scope(&env, "ampls").await;
    let r = link(
        &env,
        "ampls",
        "gone",
        &rg1("Microsoft.OperationalInsights/workspaces/gone"),
    )
    .await;
    assert_refused(&r, 400, "InvalidResourceReference");
    let r = link(&env, "ampls", "bad", "not-an-id").await;
    assert_refused(&r, 400, "LinkedInvalidPropertyId");
    let r = link(
        &env,
        "ampls",
        "vault",
        &rg1("Microsoft.KeyVault/vaults/kv1"),
    )
    .await;
    assert_refused(&r, 400, "BadRequest");
    let component = rg1("Microsoft.Insights/components/app1");
    assert_eq!(link(&env, "ampls", "app", &component).await.status, 202);
    let r = env
        .put(
            &format!(
                "{}/scopedResources/x?api-version={INSIGHTS}",
                monitor_scope_path("missing")
            ),
            json!({"properties": {"linkedResourceId": workspace_id()}}),
        )
        .await;
    assert_refused(&r, 404, "ParentResourceNotFound");
}

fn members(resource: &Value) -> Vec<String> {
    resource["properties"]["requiredMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_private_link_resource_names_the_members_of_what_is_linked() {
    let env = companion_env().await;
    put_monitor_scope(&env, "ampls").await;
    let plr = format!(
        "{}/privateLinkResources/azuremonitor?api-version={INSIGHTS}",
        monitor_scope_path("ampls")
    );
    let r = env.get(&plr).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        members(&r.body),
        [
            "api",
            "global.in.ai",
            "profiler",
            "live",
            "snapshot",
            "agentsolutionpackstore",
            "dce-global"
        ]
    );
    assert_eq!(
        r.body["properties"]["requiredZoneNames"],
        json!([
            "privatelink.monitor.azure.com",
            "privatelink.oms.opinsights.azure.com",
            "privatelink.ods.opinsights.azure.com",
            "privatelink.agentsvc.azure-automation.net",
            "privatelink.blob.core.windows.net"
        ])
    );
    assert_eq!(link(&env, "ampls", "ws", &workspace_id()).await.status, 202);
    assert_eq!(
        link(&env, "ampls", "dce", &dce_id("dce1")).await.status,
        202
    );
    let linked = members(&env.get(&plr).await.body);
    assert_eq!(linked.len(), 7 + 3 + 3, "{linked:?}");
    for m in ["oms-", "ods-", "agent-"] {
        assert!(
            linked.contains(&format!("{m}{WORKSPACE_ID}")),
            "{m}: {linked:?}"
        );
    }
    assert!(
        linked
            .iter()
            .any(|m| m.starts_with("dce1-") && m.ends_with(".westeurope-1.handler.control")),
        "{linked:?}"
    );
    let list = env.get(&plr.replace("/azuremonitor?", "?")).await;
    assert_eq!(list.body["value"][0]["name"], "azuremonitor");
    assert_eq!(
        env.get(&plr.replace("azuremonitor", "other")).await.status,
        404
    );
}

#[tokio::test]
async fn deleting_a_scope_disconnects_its_endpoints() {
    let env = companion_env().await;
    let scope = put_monitor_scope(&env, "ampls").await;
    put_endpoint(
        &env,
        "pe-mon",
        endpoint_body(&scope, json!(["azuremonitor"]), json!({})),
    )
    .await;
    let conns = env
        .get(&format!(
            "{}/privateEndpointConnections?api-version={INSIGHTS}",
            monitor_scope_path("ampls")
        ))
        .await;
    let conn = &conns.body["value"][0];
    assert_eq!(
        conn["type"],
        "Microsoft.Insights/privateLinkScopes/privateEndpointConnections"
    );
    assert_eq!(conn["properties"]["groupIds"], json!(["azuremonitor"]));
    let scope_body = env.get(&scope_url("ampls")).await.body;
    assert_eq!(
        scope_body["properties"]["privateEndpointConnections"][0]["id"],
        conn["id"]
    );
    let r = env.delete(&scope_url("ampls")).await;
    assert_eq!(r.status, 202);
    env.wait(&r.header("location").unwrap()).await;
    let pe = env
        .get(&format!("{}?api-version={NET}", endpoint_path("pe-mon")))
        .await
        .body;
    assert_eq!(
        pe["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Disconnected"
    );
}
