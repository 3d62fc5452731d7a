//! The endpoint suite's bed (a hub network in the emulator) and helpers to drive the scope and
//! endpoint reconcile cores the way the controller does.

use arclink::api::conditions::{READY, STALLED, find, is_true};
use arclink::api::endpoint::{Approval, PrivateDns, PrivateDnsMode};
use arclink::api::{
    ArcPrivateEndpoint, ArcPrivateEndpointSpec, ArcPrivateEndpointStatus, ArcPrivateLinkScope,
    AzureResource, ScopeRef,
};
use arclink::reconcile::endpoint::EndpointDeps;
use arclink::reconcile::scope_ref::ScopeSource;
use arclink::reconcile::{self, Outcome};

use crate::common::bed::BedBuilder;
pub use crate::common::bed::{Bed, step};
use crate::common::fixtures::in_test_namespace;
pub use crate::common::fixtures::{SUB, scope_id};

/// A bed whose emulator holds resource groups `rg-net` (hub, spoke and west networks, two
/// network security groups) and `rg-dns`.
pub fn bed() -> BedBuilder {
    Bed::new().fixtures(HUB)
}

const HUB: &str = r#"
resourceGroups:
  - {subscriptionId: $SUB, name: rg-net, location: eastus}
  - {subscriptionId: $SUB, name: rg-dns, location: eastus}
networkSecurityGroups:
  - {subscriptionId: $SUB, resourceGroup: rg-net, name: hub-nsg, location: eastus}
  - {subscriptionId: $SUB, resourceGroup: rg-net, name: other-nsg, location: eastus}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: hub
    location: eastus
    addressPrefixes: [10.1.0.0/16]
    subnets:
      - {name: private-endpoints, addressPrefix: 10.1.2.0/24, networkSecurityGroup: hub-nsg}
      - {name: other, addressPrefix: 10.1.3.0/24}
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: spoke
    location: eastus
    addressPrefixes: [10.2.0.0/16]
    subnets:
      - {name: private-endpoints, addressPrefix: 10.2.2.0/24}
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: west
    location: westus
    addressPrefixes: [10.3.0.0/16]
    subnets:
      - {name: private-endpoints, addressPrefix: 10.3.2.0/24}
"#;

pub fn subnet_id(vnet: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/private-endpoints"
    )
}

pub fn endpoint_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/{name}"
    )
}

pub fn nsg_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/{name}"
    )
}

pub fn zone_id(zone: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{zone}"
    )
}

pub const ZONES: [&str; 3] = [
    "privatelink.his.arc.azure.com",
    "privatelink.guestconfiguration.azure.com",
    "privatelink.dp.kubernetesconfiguration.azure.com",
];

/// A Ready ArcPrivateLinkScope object (and its scope in the emulator).
pub async fn ready_scope(b: &Bed, name: &str) -> ArcPrivateLinkScope {
    let mut obj = crate::common::fixtures::scope(name);
    for _ in 0..5 {
        let out = reconcile::reconcile(&b.arm, &b.settings, &(), &obj, &()).await;
        obj.status = Some(out.status);
        if is_true(&obj.status.as_ref().unwrap().common.conditions, READY) {
            return obj;
        }
    }
    panic!("scope {name} not Ready: {:?}", obj.status);
}

pub fn endpoint(name: &str, vnet: &str, scope: &str) -> ArcPrivateEndpoint {
    in_test_namespace(ArcPrivateEndpoint::new(
        name,
        ArcPrivateEndpointSpec {
            azure: AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg-net".into(),
                name: None,
            },
            location: "eastus".into(),
            subnet_id: subnet_id(vnet),
            scope_ref: Some(ScopeRef { name: scope.into() }),
            approval: Approval::Automatic,
            private_dns: Some(PrivateDns {
                mode: PrivateDnsMode::Managed,
                resource_group: Some("rg-dns".into()),
                zone_ids: Vec::new(),
            }),
            ..Default::default()
        },
    ))
}

pub fn deps(scope: &ArcPrivateLinkScope) -> EndpointDeps {
    EndpointDeps {
        target: ScopeSource::Ref {
            name: kube::ResourceExt::name_any(scope),
            object: Some(Box::new(scope.clone())),
        }
        .into(),
        peers: Vec::new(),
        rule_sharers: Vec::new(),
        dns_sharers: Vec::new(),
    }
}

/// Reconciles until Ready (or Stalled), at most `n` times; returns every outcome.
pub async fn converge(
    b: &Bed,
    obj: &mut ArcPrivateEndpoint,
    deps: &EndpointDeps,
) -> Vec<Outcome<ArcPrivateEndpointStatus>> {
    let mut outs = Vec::new();
    for _ in 0..12 {
        let out = step(b, obj, deps).await;
        outs.push(out);
        if ready(obj) || stalled(obj) {
            break;
        }
    }
    outs
}

pub fn ready(obj: &ArcPrivateEndpoint) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, READY)
}

pub fn stalled(obj: &ArcPrivateEndpoint) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, STALLED)
}

pub fn reason(obj: &ArcPrivateEndpoint, t: &str) -> String {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

pub fn message(obj: &ArcPrivateEndpoint, t: &str) -> String {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}
