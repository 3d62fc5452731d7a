//! The association suite's bed (machines, and scopes `s1`, `s2` in Azure) and objects.

use std::collections::BTreeMap;

use arclink::api::association::{AssociationPolicy, MachineSelector};
use arclink::api::{ArcServerAssociation, ArcServerAssociationSpec};
use arclink::azure::models::PrivateLinkScope;
use arclink::azure::{BucketLimits, RateLimits, ResourceId};
use arclink::emulator::{Admin, MachineFixture};
use arclink::reconcile::association::{AssociationDeps, Claim};
use arclink::reconcile::scope_ref::ScopeSource;
use serde_json::json;

pub use crate::common::bed::{Bed, step};
use crate::common::fixtures::in_test_namespace;
pub use crate::common::fixtures::{SUB, machine_id, scope_id};
pub const RG: &str = "rg-servers";
/// The data collection endpoints every bed holds (name, region).
pub const ENDPOINTS: [(&str, &str); 3] = [
    ("dce-eastus", "eastus"),
    ("dce-eastus-b", "eastus"),
    ("dce-westus", "westus"),
];

pub fn dce_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionEndpoints/{name}"
    )
}

/// The id of a machine's `configurationAccessEndpoint` association.
pub fn endpoint_association_id(machine: &str) -> String {
    format!(
        "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint",
        machine_id(machine)
    )
}

/// The endpoint a machine's `configurationAccessEndpoint` points at in the emulator, if any,
/// and its description.
pub fn endpoint_of(admin: &Admin, machine: &str) -> Option<(String, Option<String>)> {
    let a = admin.get(&endpoint_association_id(machine))?;
    let p = &a["properties"];
    Some((
        p["dataCollectionEndpointId"].as_str()?.to_string(),
        p["description"].as_str().map(str::to_string),
    ))
}

/// Whether a machine's `configurationAccessEndpoint` points at endpoint `dce`.
pub fn points_at(admin: &Admin, machine: &str, dce: &str) -> bool {
    endpoint_of(admin, machine).is_some_and(|(e, _)| e.eq_ignore_ascii_case(&dce_id(dce)))
}

/// `obj` with `spec.monitoring` listing `endpoints`.
pub fn monitored(mut obj: ArcServerAssociation, endpoints: &[&str]) -> ArcServerAssociation {
    obj.spec.monitoring = Some(arclink::api::association::Monitoring {
        data_collection_endpoint_ids: endpoints.iter().map(|e| dce_id(e)).collect(),
    });
    obj
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
    let b = Bed::new()
        .fixtures(&format!(
            "resourceGroups: [{{subscriptionId: $SUB, name: {RG}, location: eastus}}]"
        ))
        .edit_fixtures(|fixtures| {
            fixtures.machines = machines;
            fixtures.data_collection_endpoints = ENDPOINTS
                .iter()
                .map(|(name, location)| arclink::emulator::SeededFixture {
                    subscription_id: SUB.into(),
                    resource_group: RG.into(),
                    name: name.to_string(),
                    location: location.to_string(),
                    tags: Default::default(),
                    sku: None,
                    properties: Default::default(),
                })
                .collect();
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
        })
        .emulator(|c| {
            c.page_size = page_size;
            c.throttling = None;
        })
        .client(move |options| {
            options.rate_limits = RateLimits {
                reads: FAST,
                writes,
                deletes: FAST,
            }
        })
        .await;
    for s in ["s1", "s2"] {
        b.arm
            .put_and_wait::<_, PrivateLinkScope>(
                &scope_id(s).parse().unwrap(),
                &json!({"location": "eastus", "properties": {"publicNetworkAccess": "Disabled"}}),
            )
            .await
            .unwrap();
    }
    b.admin.reset_counters();
    b
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
    let mut obj = in_test_namespace(ArcServerAssociation::new(
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
            monitoring: None,
            deletion: Default::default(),
            policy: AssociationPolicy::default(),
            suspend: false,
            credential_ref: None,
        },
    ));
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
