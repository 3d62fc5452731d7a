//! The fixture constants every suite shares: the subscription, the ids built from it, an
//! ArcPrivateLinkScope object, and clients of an in-process emulator.

use std::time::Duration;

use arclink::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeSpec, AzureResource, CommonSpec};
use arclink::azure::{ArmClient, ArmClientOptions, CredentialCache, RetryPolicy};
use arclink::connect::credentials::ArmConfig;
use arclink::emulator::{Emulator, Fixtures};

/// The subscription of the tests, of deploy/examples and of deploy/emulator/fixtures.yaml.
pub const SUB: &str = "11111111-2222-3333-4444-555555555555";

/// Emulator fixtures from YAML in which `$SUB` stands for [`SUB`].
pub fn fixtures(yaml: &str) -> Fixtures {
    Fixtures::from_yaml(&yaml.replace("$SUB", SUB)).unwrap()
}

/// `fixtures` whose token endpoint accepts only `principals` (a YAML list).
pub fn with_principals(mut fixtures: Fixtures, principals: &str) -> Fixtures {
    fixtures.principals = Fixtures::from_yaml(&format!("principals: {principals}"))
        .unwrap()
        .principals;
    fixtures
}

/// An HTTPS client trusting `emu`'s certificate authority.
pub fn https_client(emu: &Emulator) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(emu.ca_pem().as_bytes()).unwrap()])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An access token from `emu`'s token endpoint for a client-secret principal.
pub async fn token(emu: &Emulator, tenant: &str, client_id: &str, secret: &str) -> String {
    let response = https_client(emu)
        .post(format!("{}/{tenant}/oauth2/v2.0/token", emu.endpoint()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// A fresh ARM client for `emu` (own token cache and buckets, as after a controller restart).
/// Throttling and transient errors are not retried inside the client, so that tests see what
/// the reconcile does with them; `adjust` changes other options.
pub fn arm_client(emu: &Emulator, adjust: impl FnOnce(&mut ArmClientOptions)) -> ArmClient {
    let config = ArmConfig::emulator(&emu.endpoint(), emu.ca_pem()).unwrap();
    let identity = config.default_identity.clone().unwrap();
    let credential = CredentialCache::new()
        .get_or_create(&identity, &config.cloud, config.ca_pem.as_deref())
        .unwrap();
    let mut options = ArmClientOptions::new(credential);
    options.cloud = config.cloud.clone();
    options.ca_pem = config.ca_pem.clone();
    options.retry = RetryPolicy {
        max_transient_retries: 0,
        max_throttle_retries: 0,
        ..RetryPolicy::default()
    };
    adjust(&mut options);
    ArmClient::new(options).unwrap()
}

/// An ArcPrivateLinkScope `name` in namespace `ns` for a scope in `rg-arc`, tagged
/// `team: platform`, at generation 1.
pub fn scope(name: &str) -> ArcPrivateLinkScope {
    in_test_namespace(ArcPrivateLinkScope::new(
        name,
        ArcPrivateLinkScopeSpec {
            azure: AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg-arc".into(),
                name: None,
            },
            location: "eastus".into(),
            common: CommonSpec {
                tags: [("team".to_string(), "platform".to_string())].into(),
                ..Default::default()
            },
            ..Default::default()
        },
    ))
}

/// `obj` in namespace `ns` at generation 1, as the API server hands it to a reconcile.
pub fn in_test_namespace<K: kube::Resource>(mut obj: K) -> K {
    obj.meta_mut().namespace = Some("ns".into());
    obj.meta_mut().generation = Some(1);
    obj
}

/// The owner tag arclink writes on what the bed's object `kind/name` owns.
pub fn owned_by(kind_and_name: &str) -> String {
    format!("test-cluster/ns/{kind_and_name}")
}

/// A response body as JSON; `Null` when empty.
pub fn json_or_null(bytes: &[u8]) -> serde_json::Value {
    if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap()
    }
}

pub fn scope_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/{name}"
    )
}

/// Machine `name` in resource group `rg-servers`.
pub fn machine_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/{name}"
    )
}
