//! The seeded companion targets (Key Vault, storage, Automation, Log Analytics, data collection
//! endpoints) and private endpoints to each target: group ids, approval, names and records.

use serde_json::{Value, json};

use super::companion_support::*;

fn vault() -> String {
    rg1("Microsoft.KeyVault/vaults/kv1")
}

fn account(name: &str) -> String {
    rg1(&format!("Microsoft.Storage/storageAccounts/{name}"))
}

fn automation() -> String {
    rg1("Microsoft.Automation/automationAccounts/aa1")
}

fn groups(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["groupId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn seeded_targets_are_read_only_and_list_their_private_link_resources() {
    let env = companion_env().await;
    let kv = env
        .get(&format!("{}?api-version={KEY_VAULT}", vault()))
        .await;
    assert_eq!(kv.status, 200);
    assert_eq!(
        kv.body["properties"]["vaultUri"],
        "https://kv1.vault.azure.net/"
    );
    assert_eq!(
        kv.body["properties"]["privateEndpointConnections"],
        json!([])
    );
    let r = env
        .put(
            &format!("{}?api-version={KEY_VAULT}", vault()),
            json!({"location": "westeurope"}),
        )
        .await;
    assert_refused(&r, 405, "MethodNotAllowed");
    let ws = env
        .get(&format!("{}?api-version={WORKSPACES}", workspace_id()))
        .await;
    assert_eq!(ws.body["properties"]["customerId"], WORKSPACE_ID);
    let dces = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/dataCollectionEndpoints?api-version={DATA_COLLECTION}"
        ))
        .await;
    let regions: Vec<&str> = dces.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["location"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["eastus", "westeurope"]);

    let plr = env
        .get(&format!(
            "{}/privateLinkResources?api-version={KEY_VAULT}",
            vault()
        ))
        .await;
    let v = &plr.body["value"][0]["properties"];
    assert_eq!(v["groupId"], "vault");
    assert_eq!(v["requiredMembers"], json!(["default"]));
    assert_eq!(
        v["requiredZoneNames"],
        json!(["privatelink.vaultcore.azure.net"])
    );
    let lrs = env
        .get(&format!(
            "{}/privateLinkResources?api-version={STORAGE}",
            account("st1")
        ))
        .await;
    assert_eq!(
        groups(&lrs.body),
        ["blob", "table", "queue", "file", "web", "dfs"]
    );
    let ragrs = env
        .get(&format!(
            "{}/privateLinkResources?api-version={STORAGE}",
            account("stgrs")
        ))
        .await;
    assert_eq!(
        groups(&ragrs.body),
        [
            "blob",
            "blob_secondary",
            "table",
            "table_secondary",
            "queue",
            "queue_secondary",
            "file",
            "web",
            "web_secondary",
            "dfs",
            "dfs_secondary"
        ]
    );
    let aa = env
        .get(&format!(
            "{}/privateLinkResources?api-version={AUTOMATION}",
            automation()
        ))
        .await;
    assert_eq!(groups(&aa.body), ["Webhook", "DSCAndHybridWorker"]);
}

#[tokio::test]
async fn group_ids_are_checked_as_network_checks_them_for_first_party_targets() {
    let env = companion_env().await;
    let url = format!("{}?api-version={NET}", endpoint_path("pe-st"));
    let cases: [(Value, &str, &str); 4] = [
        (
            json!(["blob", "file"]),
            "OnlyOneGroupIdPermitted",
            "has the following group Ids: blob, file. Only one group Id is permitted when connecting to a first-party resource",
        ),
        (
            json!([]),
            "MissingParameterOnPrivateLinkServiceConnection",
            "is missing required parameter 'group Id'",
        ),
        (
            json!(["vault"]),
            "InvalidValuesForRequestParameters",
            "Call to Microsoft.Storage/storageAccounts failed. Error message: Values for request parameters are invalid: GroupId: vault.",
        ),
        // Storage compares group ids with their case (reported).
        (
            json!(["BLOB"]),
            "InvalidValuesForRequestParameters",
            "GroupId: BLOB",
        ),
    ];
    for (groups, code, message) in cases {
        let r = env
            .put(
                &url,
                endpoint_body(&account("st1"), groups.clone(), json!({})),
            )
            .await;
        assert_refused(&r, 400, code);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{groups}: {:?}",
            r.body
        );
    }
    // Other services accept any case.
    let pe = put_endpoint(
        &env,
        "pe-kv",
        endpoint_body(&vault(), json!(["VAULT"]), json!({})),
    )
    .await;
    assert_eq!(dns_names(&pe)[0].0, "kv1.vault.azure.net");
    let r = env
        .put(
            &url,
            endpoint_body(&account("missing"), json!(["blob"]), json!({})),
        )
        .await;
    assert_refused(&r, 400, "InvalidResourceReference");
}

#[tokio::test]
async fn an_endpoint_to_a_vault_is_approved_and_its_record_goes_to_the_vault_zone_only() {
    let env = companion_env().await;
    let pe = put_endpoint(
        &env,
        "pe-kv",
        endpoint_body(&vault(), json!(["vault"]), json!({})),
    )
    .await;
    let conn = &pe["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(
        conn["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    assert_eq!(
        dns_names(&pe),
        [("kv1.vault.azure.net".to_string(), "10.0.1.4".to_string())]
    );
    let nic_id = pe["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .unwrap();
    let nic = env.get(&format!("{nic_id}?api-version={NET}")).await.body;
    let props =
        &nic["properties"]["ipConfigurations"][0]["properties"]["privateLinkConnectionProperties"];
    assert_eq!(props["groupId"], "vault");
    assert_eq!(props["requiredMemberName"], "default");
    let conns = env
        .get(&format!(
            "{}/privateEndpointConnections?api-version={KEY_VAULT}",
            vault()
        ))
        .await;
    let c = &conns.body["value"][0];
    assert_eq!(c["etag"], "", "Key Vault's connections carry an etag");
    assert_eq!(c["properties"]["privateEndpoint"]["id"], pe["id"]);
    let kv = env
        .get(&format!("{}?api-version={KEY_VAULT}", vault()))
        .await;
    assert_eq!(
        kv.body["properties"]["privateEndpointConnections"][0]["id"],
        c["id"]
    );

    // The zone group writes `kv1` into the recommended zone, nothing into another.
    let mut zones = Vec::new();
    for zone in [
        "privatelink.vaultcore.azure.net",
        "privatelink.vault.azure.net",
    ] {
        let url = format!(
            "{}?api-version={DNS}",
            net(&format!("privateDnsZones/{zone}"))
        );
        let r = env.put(&url, json!({"location": "global"})).await;
        env.wait(&r.header("location").unwrap()).await;
        zones.push(json!({"name": zone.replace('.', "-"), "properties": {"privateDnsZoneId": net(&format!("privateDnsZones/{zone}"))}}));
    }
    let zg = format!(
        "{}/privateDnsZoneGroups/default?api-version={NET}",
        endpoint_path("pe-kv")
    );
    let r = env
        .put(&zg, json!({"properties": {"privateDnsZoneConfigs": zones}}))
        .await;
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    let record = env
        .get(&format!(
            "{}?api-version={DNS}",
            net("privateDnsZones/privatelink.vaultcore.azure.net/A/kv1")
        ))
        .await;
    assert_eq!(
        record.body["properties"]["aRecords"],
        json!([{"ipv4Address": "10.0.1.4"}])
    );
    let elsewhere = env
        .get(&format!(
            "{}?api-version={DNS}",
            net("privateDnsZones/privatelink.vault.azure.net/A/kv1")
        ))
        .await;
    assert_eq!(elsewhere.status, 404);
    let got = env
        .get(&format!("{}?api-version={NET}", endpoint_path("pe-kv")))
        .await
        .body;
    assert_eq!(
        got["properties"]["customDnsConfigs"],
        json!([]),
        "the covered name is left out"
    );
}

#[tokio::test]
async fn manual_connections_are_approved_by_the_target_owner() {
    let env = companion_env().await;
    let mut body = endpoint_body(&account("st1"), json!(["blob"]), json!({}));
    let conns = body["properties"]["privateLinkServiceConnections"].take();
    body["properties"]["manualPrivateLinkServiceConnections"] = conns;
    let pe = put_endpoint(&env, "pe-st", body).await;
    let state = |pe: &Value| {
        pe["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]
            ["privateLinkServiceConnectionState"]["status"]
            .clone()
    };
    assert_eq!(state(&pe), "Pending");
    assert_eq!(dns_names(&pe)[0].0, "st1.blob.core.windows.net");
    let list = env
        .get(&format!(
            "{}/privateEndpointConnections?api-version={STORAGE}",
            account("st1")
        ))
        .await;
    let conn_id = list.body["value"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        list.body["value"][0]["properties"]["privateLinkServiceConnectionState"]["actionRequired"],
        "None",
        "Storage spells it actionRequired"
    );
    let r = env
        .put(
            &format!("{conn_id}?api-version={STORAGE}"),
            json!({"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "Storage answers at once: {:?}", r.body);
    let pe_url = format!("{}?api-version={NET}", endpoint_path("pe-st"));
    assert_eq!(state(&env.get(&pe_url).await.body), "Approved");
    let r = env
        .delete(&format!("{conn_id}?api-version={STORAGE}"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        env.delete(&format!("{conn_id}?api-version={STORAGE}"))
            .await
            .status,
        204
    );
    assert_eq!(state(&env.get(&pe_url).await.body), "Disconnected");
}

#[tokio::test]
async fn each_target_serves_its_own_names() {
    let env = companion_env().await;
    let secondary = put_endpoint(
        &env,
        "pe-grs",
        endpoint_body(&account("stgrs"), json!(["blob_secondary"]), json!({})),
    )
    .await;
    assert_eq!(
        dns_names(&secondary)[0].0,
        "stgrs-secondary.blob.core.windows.net"
    );
    let aa = put_endpoint(
        &env,
        "pe-aa",
        endpoint_body(&automation(), json!(["DSCAndHybridWorker"]), json!({})),
    )
    .await;
    let names: Vec<String> = dns_names(&aa).into_iter().map(|(f, _)| f).collect();
    assert_eq!(names.len(), 2);
    assert!(
        names[0].ends_with(".agentsvc.we.azure-automation.net"),
        "{names:?}"
    );
    assert!(
        names[1].ends_with(".jrds.we.azure-automation.net"),
        "{names:?}"
    );
}

#[tokio::test]
async fn an_azure_monitor_endpoint_serves_the_global_names_and_those_of_what_is_linked() {
    let env = companion_env().await;
    let scope = put_monitor_scope(&env, "ampls").await;
    link(&env, "ampls", "ws", &workspace_id()).await;
    link(&env, "ampls", "dce", &dce_id("dce1")).await;
    let pe = put_endpoint(
        &env,
        "pe-mon",
        endpoint_body(&scope, json!(["azuremonitor"]), json!({})),
    )
    .await;
    let names: Vec<String> = dns_names(&pe).into_iter().map(|(f, _)| f).collect();
    for expected in [
        "api.monitor.azure.com".to_string(),
        "global.in.ai.monitor.azure.com".to_string(),
        "scadvisorcontentpl.blob.core.windows.net".to_string(),
        "global.handler.control.monitor.azure.com".to_string(),
        format!("{WORKSPACE_ID}.oms.opinsights.azure.com"),
        format!("{WORKSPACE_ID}.ods.opinsights.azure.com"),
        format!("{WORKSPACE_ID}.agentsvc.azure-automation.net"),
    ] {
        assert!(names.contains(&expected), "{expected}: {names:?}");
    }
    assert!(
        names.iter().any(
            |n| n.starts_with("dce1-") && n.ends_with(".westeurope-1.ingest.monitor.azure.com")
        )
    );
    assert_eq!(names.len(), 13);

    // One zone group with the five zones writes each name into its own zone.
    let zones = [
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        "privatelink.blob.core.windows.net",
    ];
    let mut configs = Vec::new();
    for zone in zones {
        let url = format!(
            "{}?api-version={DNS}",
            net(&format!("privateDnsZones/{zone}"))
        );
        let r = env.put(&url, json!({"location": "global"})).await;
        env.wait(&r.header("location").unwrap()).await;
        configs.push(json!({"name": zone, "properties": {"privateDnsZoneId": net(&format!("privateDnsZones/{zone}"))}}));
    }
    let zg = format!(
        "{}/privateDnsZoneGroups/default?api-version={NET}",
        endpoint_path("pe-mon")
    );
    let r = env
        .put(
            &zg,
            json!({"properties": {"privateDnsZoneConfigs": configs}}),
        )
        .await;
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    let group = env.get(&zg).await.body;
    let written: usize = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["properties"]["recordSets"].as_array().unwrap().len())
        .sum();
    assert_eq!(written, 13);
    for (zone, record) in [
        ("privatelink.monitor.azure.com", "api".to_string()),
        (
            "privatelink.oms.opinsights.azure.com",
            WORKSPACE_ID.to_string(),
        ),
        (
            "privatelink.blob.core.windows.net",
            "scadvisorcontentpl".to_string(),
        ),
    ] {
        let r = env
            .get(&format!(
                "{}?api-version={DNS}",
                net(&format!("privateDnsZones/{zone}/A/{record}"))
            ))
            .await;
        assert_eq!(r.status, 200, "{zone} {record}");
    }
}

#[tokio::test]
async fn a_resource_management_endpoint_serves_management_azure_com() {
    let env = companion_env().await;
    let link = rg1("Microsoft.Authorization/resourceManagementPrivateLinks/rmpl");
    let r = env
        .put(
            &format!("{link}?api-version={PRIVATE_LINKS}"),
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let pe = put_endpoint(
        &env,
        "pe-arm",
        endpoint_body(&link, json!(["ResourceManagement"]), json!({})),
    )
    .await;
    assert_eq!(dns_names(&pe)[0].0, "management.azure.com");
    let got = env
        .get(&format!("{link}?api-version={PRIVATE_LINKS}"))
        .await
        .body;
    let conn = &got["properties"]["privateEndpointConnections"][0];
    assert!(conn.is_object(), "objects, as the service answers: {got}");
    assert_eq!(conn["properties"]["privateEndpoint"]["id"], pe["id"]);
}
