//! A test bed: an in-process emulator seeded with machines, a scope in Azure, and an ARM client
//! trusting the emulator.

use std::collections::BTreeMap;

use arclink::api::association::{AssociationPolicy, MachineSelector};
use arclink::api::{ArcServerAssociation, ArcServerAssociationSpec};
use arclink::azure::models::PrivateLinkScope;
use arclink::azure::{ArmClient, BucketLimits, RateLimits, ResourceId};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures, MachineFixture};
use arclink::reconcile::Settings;
use arclink::reconcile::association::{AssociationDeps, Claim};
use arclink::reconcile::scope_ref::ScopeSource;
use serde_json::json;

pub use crate::common::shared::{SUB, scope_id};
pub const RG: &str = "rg-servers";

pub struct Bed {
    pub _emu: Emulator,
    pub admin: Admin,
    pub arm: ArmClient,
    pub settings: Settings,
}

pub fn machine(name: &str, location: &str, tags: &[(&str, &str)]) -> MachineFixture {
    MachineFixture {
        subscription_id: SUB.into(),
        resource_group: RG.into(),
        name: name.into(),
        location: location.into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        status: "Connected".into(),
        private_link_scope_resource_id: None,
        properties: Default::default(),
    }
}

fn base_fixtures() -> Fixtures {
    Fixtures::from_yaml(&format!(
        r#"
subscriptions: [{{id: {SUB}, displayName: test}}]
resourceGroups:
  - {{subscriptionId: {SUB}, name: rg-arc, location: eastus}}
  - {{subscriptionId: {SUB}, name: {RG}, location: eastus}}
"#
    ))
    .unwrap()
}

/// An emulator holding `machines` (plus `generated` machines `node-00000`.. tagged
/// `fleet=blue` in eastus) and scopes `s1`, `s2` in eastus. Throttling is off in the emulator
/// and generous in the client so the tests measure behaviour, not waiting.
pub async fn bed(machines: Vec<MachineFixture>, generated: usize, page_size: usize) -> Bed {
    bed_with_writes(machines, generated, page_size, FAST).await
}

const FAST: BucketLimits = BucketLimits {
    burst: 100_000,
    per_second: 100_000.0,
};

/// [`bed`] with the client's write bucket at `writes` (the emulator does not throttle), so that
/// associations compete for the subscription's writes as they do against ARM.
pub async fn bed_with_writes(
    machines: Vec<MachineFixture>,
    generated: usize,
    page_size: usize,
    writes: BucketLimits,
) -> Bed {
    let mut fixtures = base_fixtures();
    fixtures.machines = machines;
    if generated > 0 {
        fixtures.machine_sets = vec![arclink::emulator::MachineSetFixture {
            subscription_id: SUB.into(),
            resource_group: RG.into(),
            prefix: "node".into(),
            count: generated,
            location: "eastus".into(),
            tags: [("fleet".to_string(), "blue".to_string())].into(),
            status: "Connected".into(),
        }];
    }
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        page_size,
        throttling: None,
        ..Default::default()
    })
    .await
    .unwrap();
    let arm = crate::common::shared::arm_client(&emu, |options| {
        options.rate_limits = RateLimits {
            reads: FAST,
            writes,
            deletes: FAST,
        }
    });
    for s in ["s1", "s2"] {
        arm.put_and_wait::<_, PrivateLinkScope>(
            &scope_id(s).parse().unwrap(),
            &json!({"location": "eastus", "properties": {"publicNetworkAccess": "Disabled"}}),
        )
        .await
        .unwrap();
    }
    let admin = emu.admin();
    admin.reset_counters();
    Bed {
        _emu: emu,
        admin,
        arm,
        settings: Settings::new("test-cluster"),
    }
}

pub fn machine_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/machines/{name}"
    )
}

/// The scope a machine points at in the emulator, if any.
pub fn scope_of(admin: &Admin, machine: &str) -> Option<ResourceId> {
    let m = admin.get(&machine_id(machine)).unwrap();
    m["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .map(|s| s.parse().unwrap())
}

pub fn is_in(admin: &Admin, machine: &str, scope: &str) -> bool {
    scope_of(admin, machine) == Some(scope_id(scope).parse().unwrap())
}

/// An association of `names` and `tags` with scope id `scope`, created at second `created`.
pub fn association(
    name: &str,
    names: &[&str],
    tags: &[(&str, &str)],
    created: i64,
) -> ArcServerAssociation {
    let mut obj = ArcServerAssociation::new(
        name,
        ArcServerAssociationSpec {
            scope_ref: None,
            scope_id: None,
            machines: MachineSelector {
                subscription_id: None,
                resource_group: RG.into(),
                names: names.iter().map(|n| n.to_string()).collect(),
                tag_selector: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            },
            on_conflict: Default::default(),
            deletion: Default::default(),
            policy: AssociationPolicy::default(),
            suspend: false,
            credential_ref: None,
        },
    );
    obj.metadata.namespace = Some("ns".into());
    obj.metadata.generation = Some(1);
    obj.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        jiff::Timestamp::from_second(1_700_000_000 + created).unwrap(),
    ));
    obj
}

/// Dependencies for an object pointing at scope id `scope`, with `others` as claims.
pub fn deps(scope: &str, others: &[(&ArcServerAssociation, &str)]) -> AssociationDeps {
    let mut d = AssociationDeps::new(ScopeSource::Id(scope_id(scope)));
    d.claims = others
        .iter()
        .map(|(o, s)| arclink::reconcile::association::claim(o, scope_id(s)))
        .collect::<Vec<Claim>>();
    d
}
