use serde_json::json;

use super::support::*;

#[tokio::test]
async fn scope_lifecycle_put_patch_delete_with_location_lro() {
    let env = env().await;
    let p = format!("{}?api-version={HC}", scope_path("MyScope"));
    let created = env
        .put(&p, json!({"location": "West Europe", "properties": {"publicNetworkAccess": "Disabled", "provisioningState": "Failed", "privateLinkScopeId": "forged"}, "id": "/forged", "tags": {"a": "1"}}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["location"], "westeurope");
    assert_eq!(created.body["name"], "MyScope");
    assert_eq!(
        created.body["type"],
        "Microsoft.HybridCompute/privateLinkScopes"
    );
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");
    assert_ne!(created.body["properties"]["privateLinkScopeId"], "forged");
    assert_eq!(
        created.body["properties"]["privateEndpointConnections"],
        json!([])
    );
    assert!(
        created.body["id"]
            .as_str()
            .unwrap()
            .ends_with("/privateLinkScopes/MyScope")
    );

    // Same name in another casing updates the same resource and keeps the original casing.
    let lower = format!("{}?api-version={HC}", scope_path("myscope"));
    let updated = env
        .put(
            &lower,
            json!({"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}}),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["name"], "MyScope");
    assert_eq!(updated.body["properties"]["publicNetworkAccess"], "Enabled");
    assert_eq!(
        updated.body["properties"]["privateLinkScopeId"],
        created.body["properties"]["privateLinkScopeId"]
    );

    let moved = env.put(&p, json!({"location": "eastus"})).await;
    assert_eq!(moved.status, 400);
    assert_eq!(moved.body["error"]["code"], "InvalidResourceLocation");
    let no_loc = env
        .put(
            &format!("{}?api-version={HC}", scope_path("other")),
            json!({"properties": {}}),
        )
        .await;
    assert_eq!(no_loc.status, 400);
    assert_eq!(no_loc.body["error"]["code"], "LocationRequired");

    let patched = env
        .patch(
            &p,
            json!({"tags": {"b": "2"}, "properties": {"publicNetworkAccess": "Disabled"}}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["tags"], json!({"b": "2"}));
    assert_eq!(
        patched.body["properties"]["publicNetworkAccess"], "Enabled",
        "PATCH changes tags only"
    );

    let del = env.delete(&p).await;
    assert_eq!(del.status, 202);
    let loc = del.header("location").unwrap();
    assert!(loc.contains("/operationResults/"), "{loc}");
    assert!(del.header("retry-after").is_some());
    let during = env.get(&p).await;
    assert!(during.status == 404 || during.body["properties"]["provisioningState"] == "Deleting");
    let done = env.wait(&loc).await;
    assert_eq!(done.status, 204);
    assert_eq!(env.get(&p).await.status, 404);
    assert_eq!(env.delete(&p).await.status, 204);
    let c = env.emu.admin().counters();
    assert_eq!(
        c.count_for("PUT", "Microsoft.HybridCompute/privateLinkScopes"),
        4
    );
    assert!(c.count_for("GET", "operationResults") >= 1);
}

#[tokio::test]
async fn lro_status_resource_reports_in_progress_then_succeeded() {
    let env = env().await;
    let p = format!("{}?api-version={HC}", scope_path("s1"));
    assert_eq!(
        env.put(&p, json!({"location": "westeurope"})).await.status,
        201
    );
    let del = env.delete(&p).await;
    let status_url = del.header("azure-asyncoperation").unwrap();
    let first = env.get(&status_url).await;
    assert_eq!(first.status, 200);
    // lro_duration 0: the operation completes at the first poll.
    assert_eq!(first.body["status"], "Succeeded");
    assert!(first.body["startTime"].is_string() && first.body["endTime"].is_string());
    let unknown = env
        .get(&format!("/subscriptions/{SUB}/providers/Microsoft.HybridCompute/locations/westeurope/operationStatuses/nope?api-version={HC}"))
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn machines_list_pages_and_patch_links_scope() {
    let env = env_with(arclink::emulator::EmulatorConfig {
        fixtures: Some(fixtures()),
        page_size: 4,
        ..Default::default()
    })
    .await;
    let list = format!(
        "{}/providers/Microsoft.HybridCompute/machines?api-version={HC}",
        rg_path("rg1")
    );
    let mut names = Vec::new();
    let mut next = Some(list);
    let mut pages = 0;
    while let Some(url) = next {
        let r = env.get(&url).await;
        assert_eq!(r.status, 200);
        pages += 1;
        for m in r.body["value"].as_array().unwrap() {
            assert!(m["tags"].is_object() && m["location"] == "westeurope");
            names.push(m["name"].as_str().unwrap().to_string());
        }
        next = r.body["nextLink"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(n.starts_with(&env.emu.endpoint()) && n.contains("$skipToken="));
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(names.len(), 6);
    assert!(names.contains(&"web-01".to_string()) && names.contains(&"node-00004".to_string()));

    let scope = scope_path("s1");
    let m = format!("{}?api-version={HC}", machine_path("WEB-01"));
    let r = env
        .patch(
            &m,
            json!({"properties": {"privateLinkScopeResourceId": scope}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["privateLinkScopeResourceId"], scope);
    assert_eq!(r.body["name"], "web-01");
    let bad = env.patch(&m, json!({"properties": {"privateLinkScopeResourceId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/v"}})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["code"], "LinkedInvalidPropertyId");
    let cleared = env
        .patch(
            &m,
            json!({"properties": {"privateLinkScopeResourceId": ""}}),
        )
        .await;
    assert!(
        cleared.body["properties"]
            .get("privateLinkScopeResourceId")
            .is_none()
    );
    assert_eq!(
        env.put(&m, json!({"location": "westeurope"})).await.status,
        405
    );
    let c = env.emu.admin().counters();
    assert_eq!(c.count_for("PATCH", "Microsoft.HybridCompute/machines"), 3);
    assert_eq!(c.count_for("GET", "microsoft.hybridcompute/MACHINES"), 2);
}

#[tokio::test]
async fn out_of_band_drift_is_visible_to_arm_reads() {
    let env = env().await;
    let admin = env.emu.admin();
    let id = machine_path("web-01");
    admin
        .patch_out_of_band(
            &id.to_uppercase(),
            json!({"tags": {"env": null, "owner": "me"}}),
        )
        .unwrap();
    let r = env.get(&format!("{id}?api-version={HC}")).await;
    assert_eq!(r.body["tags"], json!({"owner": "me"}));
    admin.delete_out_of_band(&id).unwrap();
    assert_eq!(env.get(&format!("{id}?api-version={HC}")).await.status, 404);
    assert!(admin.delete_out_of_band(&id).is_err());
}

#[tokio::test]
async fn operations_stay_in_progress_for_the_configured_duration() {
    let env = env_with(arclink::emulator::EmulatorConfig {
        fixtures: Some(fixtures()),
        lro_duration: std::time::Duration::from_millis(400),
        retry_after_secs: 3,
        ..Default::default()
    })
    .await;
    let p = format!("{}?api-version={HC}", scope_path("slow"));
    env.put(&p, json!({"location": "westeurope"})).await;
    let del = env.delete(&p).await;
    assert_eq!(del.header("retry-after").unwrap(), "3");
    let results = del.header("location").unwrap();
    let status = del.header("azure-asyncoperation").unwrap();
    let r = env.get(&results).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("retry-after").unwrap(), "3");
    let s = env.get(&status).await;
    assert_eq!(s.body["status"], "InProgress");
    assert!(s.body.get("endTime").is_none());
    assert_eq!(
        env.get(&p).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    let again = env.put(&p, json!({"location": "westeurope"})).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["error"]["code"], "AnotherOperationInProgress");
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(env.get(&status).await.body["status"], "Succeeded");
    assert_eq!(env.get(&results).await.status, 204);
    assert_eq!(env.get(&p).await.status, 404);
}
