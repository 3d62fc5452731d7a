//! A test bed: an in-process emulator and an ARM client trusting it.

use arclink::azure::ArmClient;
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::Settings;

pub use crate::shared::{SUB, scope, scope_id};

pub struct Bed {
    pub _emu: Emulator,
    pub admin: Admin,
    pub arm: ArmClient,
    pub settings: Settings,
}

pub async fn bed() -> Bed {
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
    let arm = crate::shared::arm_client(&emu, |_| {});
    let admin = emu.admin();
    Bed {
        _emu: emu,
        admin,
        arm,
        settings: Settings::new("test-cluster"),
    }
}
