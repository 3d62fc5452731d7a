//! Resource management private links and their associations at management groups, where Azure
//! RBAC decides who may write them.

use serde_json::json;

use super::companion_support::*;

fn link_url(name: &str) -> String {
    format!(
        "{}?api-version={PRIVATE_LINKS}",
        rg1(&format!(
            "Microsoft.Authorization/resourceManagementPrivateLinks/{name}"
        ))
    )
}

fn association_url(group: &str, name: &str) -> String {
    format!(
        "/providers/Microsoft.Management/managementGroups/{group}/providers/Microsoft.Authorization/privateLinkAssociations/{name}?api-version={PRIVATE_LINKS}"
    )
}

const GUID: &str = "2c8e2f4e-8c0e-4f3e-9b0a-1d7d6f1c3a11";

async fn put_link(env: &Env, name: &str) -> String {
    let r = env
        .put(&link_url(name), json!({"location": "westeurope"}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_resource_management_private_link_is_written_at_once() {
    let env = companion_env().await;
    let r = env.put(&link_url("rmpl"), json!({})).await;
    assert_refused(&r, 400, "LocationRequired");
    let id = put_link(&env, "rmpl").await;
    let r = env
        .put(&link_url("rmpl"), json!({"location": "westeurope"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["properties"]["privateEndpointConnections"],
        json!([])
    );
    let listed = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/resourceManagementPrivateLinks?api-version={PRIVATE_LINKS}"
        ))
        .await;
    assert_eq!(listed.body["value"][0]["id"], json!(id));
    assert_eq!(env.delete(&link_url("rmpl")).await.status, 200);
    assert_eq!(env.delete(&link_url("rmpl")).await.status, 204);
}

#[tokio::test]
async fn an_owner_of_the_root_group_associates_the_link() {
    let env = companion_env().await;
    let link = put_link(&env, "rmpl").await;
    let body = json!({"properties": {"privateLink": link, "publicNetworkAccess": "Enabled"}});
    let url = association_url("root", GUID);
    let r = env.put(&url, body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let p = &r.body["properties"];
    assert_eq!(p["privateLink"], json!(link));
    assert_eq!(p["tenantID"], "00000000-0000-0000-0000-0000000000aa");
    assert_eq!(
        p["scope"],
        "/providers/Microsoft.Management/managementGroups/root"
    );
    assert_eq!(
        r.body["type"],
        "Microsoft.Authorization/privateLinkAssociations"
    );
    assert_eq!(env.put(&url, body.clone()).await.status, 200);
    let listed = env.get(&url.replace(&format!("/{GUID}?"), "?")).await;
    assert_eq!(listed.body["value"][0]["name"], GUID);
    // The role is inherited by child groups.
    assert_eq!(
        env.put(&association_url("child", GUID), body).await.status,
        201
    );
    assert_eq!(env.delete(&url).await.status, 200);
    assert_eq!(env.delete(&url).await.status, 204);
    assert_eq!(env.get(&url).await.status, 404);
    assert_eq!(
        env.emu
            .admin()
            .counters()
            .count_for("PUT", "Microsoft.Authorization/privateLinkAssociations"),
        3
    );
}

#[tokio::test]
async fn associations_need_owner_or_contributor_at_the_group() {
    let env = companion_env().await;
    let link = put_link(&env, "rmpl").await;
    let body = json!({"properties": {"privateLink": link, "publicNetworkAccess": "Enabled"}});
    for group in ["other", "missing"] {
        let r = env.put(&association_url(group, GUID), body.clone()).await;
        assert_refused(&r, 403, "AuthorizationFailed");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("'Microsoft.Authorization/privateLinkAssociations/write'")
                && message.contains(&format!("managementGroups/{group}/providers/Microsoft.Authorization/privateLinkAssociations/{GUID}")),
            "{message}"
        );
    }
    env.emu
        .admin()
        .load_fixtures(
            &arclink::emulator::Fixtures::from_yaml(
                "roleAssignments: [{principalId: app, role: Reader, scope: /providers/Microsoft.Management/managementGroups/other}]",
            )
            .unwrap(),
        )
        .unwrap();
    assert_refused(
        &env.put(&association_url("other", GUID), body.clone()).await,
        403,
        "AuthorizationFailed",
    );
    assert_eq!(
        env.get(&association_url("other", GUID)).await.status,
        404,
        "a Reader may read"
    );
}

#[tokio::test]
async fn associations_are_refused_as_the_documentation_says() {
    let env = companion_env().await;
    let link = put_link(&env, "rmpl").await;
    let r = env
        .put(
            &association_url("root", "not-a-guid"),
            json!({"properties": {"privateLink": link}}),
        )
        .await;
    assert_refused(&r, 400, "BadRequest");
    let url = association_url("root", GUID);
    let r = env
        .put(
            &url,
            json!({"properties": {"privateLink": link, "publicNetworkAccess": "Disabled"}}),
        )
        .await;
    assert_refused(&r, 400, "BadRequest");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be 'Disabled'")
    );
    let r = env
        .put(
            &url,
            json!({"properties": {"privateLink": "00000000-0000-0000-0000-000000000000"}}),
        )
        .await;
    assert_refused(&r, 400, "LinkedInvalidPropertyId");
    let r = env
        .put(
            &url,
            json!({"properties": {"privateLink": link.replace("/rmpl", "/gone")}}),
        )
        .await;
    assert_refused(&r, 400, "InvalidResourceReference");
    let r = env
        .put(
            &format!("/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/roleAssignments/x?api-version={PRIVATE_LINKS}"),
            json!({}),
        )
        .await;
    assert_refused(&r, 404, "InvalidResourceType");
}

/// deploy/emulator/fixtures.yaml lets the embedded emulator's identity associate a link at
/// the tenant's root group (the examples of the next kinds rely on it).
#[tokio::test]
async fn the_shipped_fixtures_make_the_embedded_identity_owner_of_the_root_group() {
    use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/emulator/fixtures.yaml");
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(Fixtures::from_file(std::path::Path::new(path)).unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = client_for(&emu);
    let token = crate::common::fixtures::token(&emu, "t", "arclink-emulator", "any").await;
    let put = |url: String, body: serde_json::Value| {
        client
            .put(format!("{}{url}", emu.endpoint()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send()
    };
    let link = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Authorization/resourceManagementPrivateLinks/arm"
    );
    let r = put(
        format!("{link}?api-version={PRIVATE_LINKS}"),
        json!({"location": "eastus"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let r = put(
        association_url("00000000-0000-0000-0000-0000000000aa", GUID),
        json!({"properties": {"privateLink": link, "publicNetworkAccess": "Enabled"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
}
