//! `arclink plan` / `apply` / `delete` against the embedded emulator: golden plans, exit codes,
//! idempotence, and bad manifests that never reach ARM.

mod golden;

mod bad_input;

mod library;

mod standalone;

mod state_file;

mod failures;

mod declared;

mod names;

mod delete;

use std::time::Duration;

use arclink::azure::ArmClient;
use arclink::connect::credentials::{ArmConfig, ArmPool};
use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};
use arclink::offline::manifest;

use crate::common::sandbox::root;

/// The emulator `arclink apply` embeds (deploy/emulator/fixtures.yaml), its operations running
/// for `lro`, and the client `apply` talks to it with.
async fn emulator(lro: Duration) -> (Emulator, ArmClient) {
    let fixtures = Fixtures::from_file(&root().join("deploy/emulator/fixtures.yaml")).unwrap();
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        lro_duration: lro,
        ..Default::default()
    })
    .await
    .unwrap();
    let arm = ArmPool::new(ArmConfig::emulator(&emu.endpoint(), emu.ca_pem()).unwrap())
        .default_client()
        .unwrap();
    (emu, arm)
}

/// The examples of the Arc path (scope, endpoint, association) and the Azure Monitor scope
/// (its links are operations of their own): the machinery of plan, apply and delete is the
/// same for every kind; the companion endpoints are converged in `golden`.
fn examples() -> manifest::Manifests {
    let files = [
        "01-scope.yaml",
        "02-endpoint.yaml",
        "03-association.yaml",
        "04-monitor-scope.yaml",
    ];
    let paths: Vec<_> = files
        .iter()
        .map(|f| root().join("deploy/examples").join(f))
        .collect();
    manifest::load(&paths, None).unwrap()
}
