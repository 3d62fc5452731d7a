//! The management link suite's bed (a root management group whose Owner is the bed's
//! identity) and helpers.

use arclink::api::conditions::{READY, STALLED, find, is_true};
use arclink::api::management_link::ManagementGroupAssociation;
use arclink::api::{
    ArcResourceManagementPrivateLink, ArcResourceManagementPrivateLinkSpec, AzureResource,
};
use arclink::azure::ResourceId;
use serde_json::{Value, json};

use crate::common::bed::{Bed, BedBuilder};
pub use crate::common::fixtures::SUB;
use crate::common::fixtures::in_test_namespace;

pub const ROOT: &str = "root-mg";
/// The bed's client id (the emulator's default identity).
const IDENTITY: &str = "arclink-emulator";

/// A bed with the root management group; the bed's identity holds `role` there (none: `None`).
pub fn bed(role: Option<&str>) -> BedBuilder {
    let mut yaml = format!(
        "
resourceGroups:
  - {{subscriptionId: $SUB, name: rg-net, location: eastus}}
virtualNetworks:
  - subscriptionId: $SUB
    resourceGroup: rg-net
    name: hub
    location: eastus
    addressPrefixes: [10.1.0.0/16]
    subnets:
      - {{name: private-endpoints, addressPrefix: 10.1.2.0/24}}
managementGroups:
  - {{name: {ROOT}, displayName: Tenant Root Group, tenantId: 00000000-0000-0000-0000-0000000000aa}}
"
    );
    if let Some(role) = role {
        yaml.push_str(&format!(
            "roleAssignments:\n  - {{principalId: {IDENTITY}, role: {role}, scope: /providers/Microsoft.Management/managementGroups/{ROOT}}}\n"
        ));
    }
    Bed::new().fixtures(&yaml)
}

/// An ArcResourceManagementPrivateLink `name` in `rg-arc`, eastus, associated at the root
/// management group under a derived name.
pub fn link(name: &str) -> ArcResourceManagementPrivateLink {
    in_test_namespace(ArcResourceManagementPrivateLink::new(
        name,
        ArcResourceManagementPrivateLinkSpec {
            azure: AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg-arc".into(),
                name: None,
            },
            location: "eastus".into(),
            association: Some(ManagementGroupAssociation {
                management_group_id: ROOT.into(),
                name: None,
            }),
            ..Default::default()
        },
    ))
}

pub fn link_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Authorization/resourceManagementPrivateLinks/{name}"
    )
}

pub fn association_id(name: &str) -> String {
    format!(
        "/providers/Microsoft.Management/managementGroups/{ROOT}/providers/Microsoft.Authorization/privateLinkAssociations/{name}"
    )
}

/// Creates an association out of band (someone else, with the bed's rights).
pub async fn put_association(b: &Bed, name: &str, link: &str) {
    let id = ResourceId::parse(&association_id(name)).unwrap();
    let body = json!({"properties": {"privateLink": link, "publicNetworkAccess": "Enabled"}});
    let _: arclink::azure::Write<Value> = b.arm.put(&id, &body).await.unwrap();
}

pub fn condition(obj: &ArcResourceManagementPrivateLink, t: &str) -> (String, String) {
    find(&obj.status.as_ref().unwrap().common.conditions, t)
        .map(|c| (c.reason.clone(), c.message.clone()))
        .unwrap_or_default()
}

pub fn ready(obj: &ArcResourceManagementPrivateLink) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, READY)
}

pub fn stalled(obj: &ArcResourceManagementPrivateLink) -> bool {
    is_true(&obj.status.as_ref().unwrap().common.conditions, STALLED)
}
