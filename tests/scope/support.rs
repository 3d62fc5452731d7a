//! A test bed: an in-process emulator and an ARM client trusting it.

use arclink::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeSpec, AzureResource};
use arclink::azure::{ApiVersions, ArmClient, ArmClientOptions, CredentialCache, RetryPolicy};
use arclink::connect::credentials::ArmConfig;
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::Settings;

pub const SUB: &str = "11111111-2222-3333-4444-555555555555";

pub struct Bed {
    pub _emu: Emulator,
    pub admin: Admin,
    pub arm: ArmClient,
    pub settings: Settings,
}

pub async fn bed() -> Bed {
    bed_with(ApiVersions::default()).await
}

/// A bed whose client uses `api_versions` (e.g. an older HybridCompute version).
pub async fn bed_with(api_versions: ApiVersions) -> Bed {
    let fixtures = Fixtures::from_yaml(&format!(
        r#"
subscriptions: [{{id: {SUB}, displayName: test}}]
resourceGroups:
  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}
"#
    ))
    .unwrap();
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        ..Default::default()
    })
    .await
    .unwrap();
    let config = ArmConfig::emulator(&emu.endpoint(), emu.ca_pem()).unwrap();
    let identity = config.default_identity.clone().unwrap();
    let credential = CredentialCache::new()
        .get_or_create(&identity, &config.cloud, config.ca_pem.as_deref())
        .unwrap();
    let mut options = ArmClientOptions::new(credential);
    options.cloud = config.cloud.clone();
    options.ca_pem = config.ca_pem.clone();
    options.api_versions = api_versions;
    // Let throttling and transient errors surface to the reconcile instead of being retried
    // inside the client, so the tests see what the reconcile does with them.
    options.retry = RetryPolicy {
        max_transient_retries: 0,
        max_throttle_retries: 0,
        ..RetryPolicy::default()
    };
    let arm = ArmClient::new(options).unwrap();
    let admin = emu.admin();
    Bed {
        _emu: emu,
        admin,
        arm,
        settings: Settings::new("test-cluster"),
    }
}

pub fn scope(name: &str) -> ArcPrivateLinkScope {
    let mut obj = ArcPrivateLinkScope::new(
        name,
        ArcPrivateLinkScopeSpec {
            azure: AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg-arc".into(),
                name: None,
            },
            location: "eastus".into(),
            public_network_access: Default::default(),
            service_extensions: Vec::new(),
            onboarding: None,
            tags: [("team".to_string(), "platform".to_string())].into(),
            policy: Default::default(),
            suspend: false,
            credential_ref: None,
        },
    );
    obj.metadata.namespace = Some("ns".into());
    obj.metadata.generation = Some(1);
    obj
}

pub fn scope_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/{name}"
    )
}
