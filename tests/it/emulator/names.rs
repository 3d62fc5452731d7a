//! Resource names in request paths: refused as ARM refuses them, never split or decoded into
//! another id.

use serde_json::json;

use super::support::*;

fn scopes_list() -> String {
    format!(
        "{}/providers/Microsoft.HybridCompute/privateLinkScopes?api-version={HC}",
        rg_path("rg1")
    )
}

#[tokio::test]
async fn an_encoded_slash_in_a_name_is_refused_and_nothing_is_stored() {
    let env = env().await;
    let r = env
        .put(
            &format!("{}?api-version={HC}", scope_path("a%2Fb")),
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "InvalidResourceName");
    assert!(env.emu.admin().get(&scope_path("a/b")).is_none());
    assert_eq!(env.get(&scopes_list()).await.body["value"], json!([]));
}

#[tokio::test]
async fn names_arm_refuses_are_refused() {
    let env = env().await;
    let long = "a".repeat(3000);
    for name in ["%00", "a%00b", "%FF%FE", "-scope", "scope.", &long] {
        let r = env
            .put(
                &format!("{}?api-version={HC}", scope_path(name)),
                json!({"location": "westeurope"}),
            )
            .await;
        assert_eq!(r.status, 400, "{name}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], "InvalidResourceName", "{name}");
    }
    // reqwest would resolve these before sending them.
    for name in ["..", ".", "%2E%2E"] {
        let (status, body) = raw_request(
            &env.emu,
            "PUT",
            &format!("{}?api-version={HC}", scope_path(name)),
            &env.token,
            r#"{"location":"westeurope"}"#,
        )
        .await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"]["code"], "InvalidResourceName", "{name}");
    }
    let endpoint = format!(
        "{}/providers/Microsoft.Network/privateEndpoints/p?api-version={NET}",
        rg_path("rg1")
    );
    let r = env.put(&endpoint, json!({"location": "westeurope"})).await;
    assert_eq!(
        r.body["error"]["code"], "InvalidResourceName",
        "{:?}",
        r.body
    );
    let r = env
        .put(
            &format!("{}?api-version=2021-04-01", rg_path("rg.")),
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "InvalidResourceGroup");
    assert_eq!(env.get(&scopes_list()).await.body["value"], json!([]));
}

#[tokio::test]
async fn valid_names_keep_their_casing_and_match_case_insensitively() {
    let env = env().await;
    let created = env
        .put(
            &format!("{}?api-version={HC}", scope_path("My_Scope.1")),
            json!({"location": "westeurope"}),
        )
        .await;
    assert!(created.status < 300, "{:?}", created.body);
    let r = env
        .get(&format!("{}?api-version={HC}", scope_path("my_scope.1")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "My_Scope.1");
}
