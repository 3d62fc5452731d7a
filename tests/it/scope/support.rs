//! A test bed: an in-process emulator and an ARM client trusting it.

use arclink::azure::{ApiVersions, ArmClient};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::Settings;

pub use crate::common::shared::{SUB, scope, scope_id};

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
    let arm =
        crate::common::shared::arm_client(&emu, |options| options.api_versions = api_versions);
    let admin = emu.admin();
    Bed {
        _emu: emu,
        admin,
        arm,
        settings: Settings::new("test-cluster"),
    }
}
