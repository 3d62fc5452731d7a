//! Shared set-up: an emulator with a small fixture and clients pointed at it.

use arclink::azure::credentials::CredentialSource;
use arclink::azure::{ArmClient, ArmClientOptions, Cloud, CredentialCache, ResourceId};
use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};
use url::Url;

pub use crate::common::fixtures::SUB;
use crate::common::fixtures::with_principals;
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "a1b2c3d4-0000-1111-2222-333344445555";
pub const CLIENT_SECRET: &str = "emulator-client-secret-do-not-log";
pub const RG: &str = "rg-arc";
pub const MACHINES: usize = 7;

pub fn fixtures() -> Fixtures {
    crate::common::fixtures::fixtures(&format!(
        r#"
subscriptions:
  - id: $SUB
    tenantId: {TENANT}
resourceGroups:
  - subscriptionId: $SUB
    name: {RG}
    location: eastus
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: {RG}
    name: vnet-arc
    location: eastus
    addressPrefixes: [10.0.0.0/16]
    subnets:
      - name: endpoints
        addressPrefix: 10.0.1.0/24
machineSets:
  - subscriptionId: $SUB
    resourceGroup: {RG}
    prefix: srv
    count: {MACHINES}
    location: eastus
"#
    ))
}

pub async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures()),
        ..config
    })
    .await
    .unwrap()
}

/// The emulator whose token endpoint accepts only `principals` (a YAML list).
pub async fn emulator_with_principals(principals: &str) -> Emulator {
    Emulator::start(EmulatorConfig {
        fixtures: Some(with_principals(fixtures(), principals)),
        ..Default::default()
    })
    .await
    .unwrap()
}

pub fn cloud(emu: &Emulator) -> Cloud {
    let url = Url::parse(&emu.endpoint()).unwrap();
    Cloud::custom("emulator", url.clone(), url, "https://management.azure.com")
}

pub fn secret_source() -> CredentialSource {
    CredentialSource::ClientSecret {
        tenant_id: TENANT.to_string(),
        client_id: CLIENT_ID.to_string(),
        secret: CLIENT_SECRET.to_string(),
    }
}

/// Options for a fresh client (its own credential instance and token cache).
pub fn options(emu: &Emulator) -> ArmClientOptions {
    let cloud = cloud(emu);
    let credential = CredentialCache::new()
        .get_or_create(&secret_source(), &cloud, Some(emu.ca_pem()))
        .unwrap();
    let mut options = ArmClientOptions::new(credential);
    options.cloud = cloud;
    options.ca_pem = Some(emu.ca_pem().to_string());
    options.retry.base_delay = std::time::Duration::from_millis(100);
    options
}

pub fn client(emu: &Emulator) -> ArmClient {
    ArmClient::new(options(emu)).unwrap()
}

pub fn rg() -> ResourceId {
    ResourceId::resource_group_id(SUB, RG)
}

pub fn machine(i: usize) -> ResourceId {
    rg().child("Microsoft.HybridCompute/machines", &format!("srv-{i:05}"))
}

pub fn scope(name: &str) -> ResourceId {
    rg().child("Microsoft.HybridCompute/privateLinkScopes", name)
}

pub fn subnet() -> ResourceId {
    rg().child("Microsoft.Network/virtualNetworks", "vnet-arc")
        .child("subnets", "endpoints")
}
