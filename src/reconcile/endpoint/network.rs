//! Checks before any write: the subnet exists, the endpoint is in its virtual network's
//! region, and the virtual network serves no other Arc Private Link Scope (documentation:
//! "You can associate at most one Azure Arc Private Link Scope with a virtual network").

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::azure::models::{PrivateEndpoint, VirtualNetwork};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};
use crate::reconcile::drift::same_location;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::scope_ref::ResolvedScope;

use super::outbound::subnet_nsg;
use super::{PeerEndpoint, connections, vnet_of};

impl Cx<'_, ArcPrivateEndpoint> {
    /// Subnet exists, regions match, and the virtual network serves no other scope. The
    /// virtual network, and the network security group attached to the subnet (if any).
    pub(super) async fn validate_network(
        &mut self,
        scope: &ResolvedScope,
        peers: &[PeerEndpoint],
    ) -> Result<Result<(ResourceId, Option<ResourceId>), Next>, ArmError> {
        let spec = &self.obj.spec;
        let Some(vnet_id) = vnet_of(&spec.subnet_id) else {
            return Ok(Err(self.stalled(
                "InvalidSpec",
                format!("spec.subnetId {} is not a subnet id", spec.subnet_id),
            )));
        };
        let subnet_name = spec
            .subnet_id
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(vnet) = self.arm.get::<VirtualNetwork>(&vnet_id).await? else {
            return Ok(Err(self.stalled(
                "SubnetNotFound",
                format!(
                    "virtual network {vnet_id} of spec.subnetId does not exist (or is not visible to the credential)"
                ),
            )));
        };
        let has_subnet = vnet
            .properties
            .as_ref()
            .and_then(|p| p.subnets.as_ref())
            .is_some_and(|subs| {
                subs.iter().any(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&subnet_name))
                })
            });
        let nsg = subnet_nsg(&vnet, &spec.subnet_id);
        if !has_subnet {
            return Ok(Err(self.stalled(
                "SubnetNotFound",
                format!("subnet {subnet_name} (spec.subnetId) does not exist in virtual network {vnet_id}"),
            )));
        }
        if let Some(region) = vnet.location.as_deref()
            && !same_location(region, &spec.location)
        {
            return Ok(Err(self.stalled(
                "RegionMismatch",
                format!(
                    "spec.location is {} but virtual network {vnet_id} is in {region}; a private endpoint must be in its virtual network's region",
                    spec.location
                ),
            )));
        }
        for peer in peers {
            let same_vnet = vnet_of(&peer.subnet_id).is_some_and(|v| v == vnet_id);
            let other_scope = peer
                .scope_id
                .parse::<ResourceId>()
                .is_ok_and(|s| s != scope.id);
            if same_vnet && other_scope {
                return Ok(Err(self.stalled(
                    "ScopeConflict",
                    format!(
                        "virtual network {vnet_id} is already connected to Arc Private Link Scope {} by ArcPrivateEndpoint {}; a virtual network can serve only one scope",
                        peer.scope_id, peer.name
                    ),
                )));
            }
        }
        Ok(Ok((vnet_id, nsg)))
    }
}

/// Private endpoints in Azure in `vnet_id` connected to a scope other than `scope`.
pub(super) async fn azure_conflict(
    arm: &ArmClient,
    own: &ResourceId,
    vnet_id: &ResourceId,
    scope: &ResourceId,
) -> Result<Option<(String, String)>, ArmError> {
    let collection = CollectionId::new(
        &ResourceId::subscription_id(vnet_id.subscription()),
        "Microsoft.Network/privateEndpoints",
    );
    let endpoints: Vec<PrivateEndpoint> = arm.list(&collection).try_collect().await?;
    for pe in endpoints {
        if pe.id.as_ref() == Some(own) {
            continue;
        }
        let Some(props) = pe.properties.as_ref() else {
            continue;
        };
        let in_vnet = props
            .subnet
            .as_ref()
            .and_then(|s| s.id.as_ref())
            .and_then(ResourceId::parent)
            .is_some_and(|v| v == *vnet_id);
        if !in_vnet {
            continue;
        }
        for c in connections(props) {
            let Some(target) = c
                .properties
                .as_ref()
                .and_then(|p| p.private_link_service_id.as_ref())
            else {
                continue;
            };
            let is_arc_scope = target
                .resource_type()
                .eq_ignore_ascii_case("Microsoft.HybridCompute/privateLinkScopes");
            if is_arc_scope && target != scope {
                let pe_name = pe.id.as_ref().map(|i| i.to_string()).unwrap_or_default();
                return Ok(Some((target.to_string(), pe_name)));
            }
        }
    }
    Ok(None)
}
