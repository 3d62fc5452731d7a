//! `plan`/`apply`/`delete` of deploy/examples/06-management-link.yaml on the emulator seeded by
//! deploy/emulator/fixtures.yaml: plan writes nothing, apply creates the link and its
//! association, a second apply writes nothing, delete removes both.

use std::time::Duration;

use arclink::connect::credentials::{ArmConfig, ArmPool};
use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};
use arclink::offline::apply::{self, Limits, Result as Applied};
use arclink::offline::delete::{self, Result as Deleted};
use arclink::offline::manifest;
use arclink::offline::plan::{self, Action};
use arclink::reconcile::Settings;

use crate::common::sandbox::root;

const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(60),
    poll: Duration::from_millis(50),
};

fn example() -> manifest::Manifests {
    manifest::load(
        &[root().join("deploy/examples/06-management-link.yaml")],
        None,
    )
    .unwrap()
}

fn settings(dry_run: bool) -> Settings {
    Settings {
        dry_run,
        ..Settings::new("default")
    }
}

#[tokio::test]
async fn plan_apply_and_delete_the_example() {
    let fixtures = Fixtures::from_file(&root().join("deploy/emulator/fixtures.yaml")).unwrap();
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        ..Default::default()
    })
    .await
    .unwrap();
    let admin = emu.admin();
    let arm = ArmPool::new(ArmConfig::emulator(&emu.endpoint(), emu.ca_pem()).unwrap())
        .default_client()
        .unwrap();

    let planned = plan::plan(&arm, &settings(true), example(), true).await;
    assert_eq!(planned.objects.len(), 1);
    assert_eq!(planned.objects[0].action, Action::Create, "{planned:#?}");
    assert_eq!(admin.counters().writes(), 0, "plan wrote to ARM");

    let report = apply::apply(&arm, &settings(false), example(), true, LIMITS).await;
    assert_eq!(report.objects[0].result, Applied::Ready, "{report:#?}");
    let changes: Vec<&str> = report.objects[0]
        .changes
        .iter()
        .map(|c| c.resource_id.as_str())
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "the link and its association: {changes:?}"
    );
    assert!(changes[1].contains("/managementGroups/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Authorization/privateLinkAssociations/"));
    let association = report.objects[0].status["associationId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(admin.get(&association).is_some());

    // A later run keeps no status: the example's adoption and the derived association name
    // let it take up both without a write.
    admin.reset_counters();
    let again = apply::apply(&arm, &settings(false), example(), true, LIMITS).await;
    assert_eq!(again.objects[0].result, Applied::Ready, "{again:#?}");
    assert!(again.objects[0].changes.is_empty(), "{again:#?}");
    assert_eq!(admin.counters().writes(), 0);

    let deleted = delete::delete(&arm, &settings(false), example(), true, LIMITS).await;
    assert_eq!(deleted.objects[0].result, Deleted::Done, "{deleted:#?}");
    assert!(
        admin.get(&association).is_none(),
        "created by arclink: deleted"
    );
    let link = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.Authorization/resourceManagementPrivateLinks/arm-link";
    assert!(admin.get(link).is_none());
    emu.shutdown().await.unwrap();
}
