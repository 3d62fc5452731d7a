use arclink::emulator::EmulatorConfig;
use serde_json::Value;

use super::support::*;

#[tokio::test]
async fn arm_requests_need_a_token_issued_by_the_emulator() {
    let env = env().await;
    let url = env.url(&format!("{}?api-version={HC}", machine_path("web-01")));
    let r = env.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("x-ms-request-id").is_some());
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");

    let r = env
        .client
        .get(&url)
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let ok = env
        .get(&format!("{}?api-version={HC}", machine_path("web-01")))
        .await;
    assert_eq!(ok.status, 200);
    // Token and admin requests are not ARM requests; the two 401s and the 200 are.
    let c = env.emu.admin().counters();
    assert_eq!(c.total(), 3);
    assert_eq!(c.status(401), 2);
}

#[tokio::test]
async fn token_endpoint_checks_principals_when_configured() {
    let env = env_with_principals(
        "[{tenantId: t1, clientId: app1, clientSecret: right}, {tenantId: tenant1, clientId: app, clientSecret: s}]",
    )
    .await;
    let post = |body: &'static str| {
        env.client
            .post(format!("{}/t1/oauth2/v2.0/token", env.emu.endpoint()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r =
        post("grant_type=client_credentials&client_id=app1&client_secret=wrong&scope=x%2F.default")
            .await
            .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    let r =
        post("grant_type=client_credentials&client_id=app1&client_secret=right&scope=x%2F.default")
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    // A principal with a secret cannot be passed off with an assertion instead.
    let r = post("grant_type=client_credentials&client_id=app1&client_assertion=h.p.s&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&scope=x%2F.default").await.unwrap();
    assert_eq!(r.status(), 401);

    let r = env
        .client
        .get(format!(
            "{}/t1/v2.0/.well-known/openid-configuration",
            env.emu.endpoint()
        ))
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        body["token_endpoint"],
        format!("{}/t1/oauth2/v2.0/token", env.emu.endpoint())
    );
}

#[tokio::test]
async fn azure_identity_client_secret_credential_works_against_the_emulator() {
    use std::sync::Arc;

    use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
    use azure_core::credentials::{Secret, TokenCredential};
    use azure_core::http::{ClientOptions, Transport};
    use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};

    let env = env().await;
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = env.emu.endpoint();
    let options = ClientSecretCredentialOptions {
        client_options: ClientOptions {
            transport: Some(Transport::new(Arc::new(client_for(&env.emu)))),
            cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
            ..Default::default()
        },
    };
    let cred =
        ClientSecretCredential::new("tenant1", "app".into(), Secret::new("s"), Some(options))
            .unwrap();
    let token = cred
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .unwrap();
    let r = env
        .client
        .get(env.url(&format!("{}?api-version={HC}", machine_path("web-01"))))
        .bearer_auth(token.token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_token_with_edited_claims_is_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let env = env().await;
    let parts: Vec<&str> = env.token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["appid"] = "someone-else".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let r = env
        .client
        .get(env.url(&format!("{}?api-version={HC}", machine_path("web-01"))))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn workload_identity_principals_need_an_assertion_the_emulator_signed() {
    let env = env_with_principals(
        "[{tenantId: t1, clientId: wi}, {tenantId: tenant1, clientId: app, clientSecret: s}]",
    )
    .await;
    let token_for = |assertion: String| {
        env.client
            .post(format!("{}/t1/oauth2/v2.0/token", env.emu.endpoint()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&client_id=wi&client_assertion={assertion}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&scope=x%2F.default"))
            .send()
    };
    let r = token_for("x.y.z".into()).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700027"),
        "{body}"
    );

    let signed = env
        .emu
        .admin()
        .federated_token("system:serviceaccount:arclink-system:arclink");
    assert_eq!(token_for(signed).await.unwrap().status(), 200);

    // The same over the admin API, for an emulator in another process.
    let r = env
        .client
        .post(format!("{}/_emulator/federated-tokens", env.emu.endpoint()))
        .bearer_auth(env.emu.admin_token())
        .body(r#"{"subject":"system:serviceaccount:ns:sa"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let from_http = body["token"].as_str().unwrap().to_string();
    assert_eq!(token_for(from_http).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token_or_an_issued_token() {
    let env = env().await;
    let base = env.emu.endpoint();
    let machine = machine_path("web-01");
    let delete = |auth: Option<String>| {
        let req = env
            .client
            .delete(format!("{base}/_emulator/resources{machine}"));
        match auth {
            Some(a) => req.bearer_auth(a),
            None => req,
        }
        .send()
    };
    let r = delete(None).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    assert_eq!(delete(Some("a.b.c".into())).await.unwrap().status(), 401);
    let other = arclink::emulator::Emulator::start(EmulatorConfig::default())
        .await
        .unwrap();
    assert_eq!(
        delete(Some(other.admin_token().into()))
            .await
            .unwrap()
            .status(),
        401
    );
    for unauthenticated in [
        env.client.get(format!("{base}/_emulator/state")),
        env.client
            .post(format!("{base}/_emulator/faults"))
            .body(r#"{"action":{"kind":"status","status":503}}"#),
        env.client
            .post(format!("{base}/_emulator/fixtures"))
            .body("principals: [{tenantId: t, clientId: c, clientSecret: s}]"),
    ] {
        assert_eq!(unauthenticated.send().await.unwrap().status(), 401);
    }
    assert!(
        env.emu.admin().get(&machine).is_some(),
        "nothing was deleted"
    );
    let p = format!("{machine}?api-version={HC}");
    assert_eq!(env.get(&p).await.status, 200, "no fault was injected");

    // An access token the emulator issued opens it, as does the admin token.
    assert_eq!(delete(Some(env.token.clone())).await.unwrap().status(), 204);
    assert!(env.emu.admin().get(&machine).is_none());
    let r = env
        .client
        .get(format!("{base}/_emulator/counters"))
        .bearer_auth(env.emu.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
