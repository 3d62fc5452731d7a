//! Checks before any write: the subnet exists, the endpoint is in its virtual network's
//! region, the virtual network serves no other Arc Private Link Scope (documentation: "You can
//! associate at most one Azure Arc Private Link Scope with a virtual network"), and the DNS the
//! endpoint resolves through serves no other Azure Monitor Private Link Scope (Azure Monitor:
//! "create only a single AMPLS object per DNS"; a virtual network connects to one AMPLS), nor
//! another resource management private link (every one writes `management.azure.com`).

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::azure::catalogue::{self, HYBRID_COMPUTE};
use crate::azure::models::{PrivateEndpoint, VirtualNetwork};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};
use crate::reconcile::drift::same_location;
use crate::reconcile::engine::{Cx, Next};

use super::outbound::subnet_nsg;
use super::target::{self, ResolvedTarget};
use super::{PeerEndpoint, connections, vnet_of};

impl Cx<'_, ArcPrivateEndpoint> {
    /// Subnet exists, regions match, and the virtual network (or DNS) serves no other target
    /// of a one-per-DNS group. The virtual network, and the network security group attached to
    /// the subnet (if any).
    pub(super) async fn validate_network(
        &mut self,
        target: &ResolvedTarget,
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
        if let Some(conflict) = self.peer_conflict(target, peers) {
            return Ok(Err(conflict));
        }
        Ok(Ok((vnet_id, nsg)))
    }

    /// The one-target-per-DNS rules between the declared endpoints (one Arc scope per virtual
    /// network, one Azure Monitor scope per DNS): the condition to report when an earlier peer
    /// forbids this endpoint's target. Told without ARM.
    pub(super) fn peer_conflict(
        &mut self,
        target: &ResolvedTarget,
        peers: &[PeerEndpoint],
    ) -> Option<Next> {
        let spec = &self.obj.spec;
        let vnet_id = vnet_of(&spec.subnet_id)?;
        let me = PeerEndpoint {
            name: String::new(),
            subnet_id: spec.subnet_id.clone(),
            scope_id: target.id.to_string(),
            group_id: target.group_id.clone(),
            zone_ids: target::dns_zone_ids(self.obj, self.settings)
                .iter()
                .map(|z| z.to_string().to_ascii_lowercase())
                .collect(),
        };
        let peer = target::conflicts(&me, peers)?;
        let message = if target.group_id.eq_ignore_ascii_case(HYBRID_COMPUTE) {
            format!(
                "virtual network {vnet_id} is already connected to Arc Private Link Scope {} by ArcPrivateEndpoint {}; a virtual network can serve only one scope",
                peer.scope_id, peer.name
            )
        } else {
            let service = catalogue::group(&target.group_id).map_or("", |g| g.service);
            format!(
                "ArcPrivateEndpoint {} already connects {} to {service} {} (group {}), and this endpoint's DNS is the same (virtual network {vnet_id} or a private DNS zone in common); {service} allows one per DNS (Azure Monitor: create only a single AMPLS object per DNS): connect this network through {} as well, or use another virtual network and DNS",
                peer.name,
                vnet_of(&peer.subnet_id)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                peer.scope_id,
                peer.group_id,
                peer.scope_id
            )
        };
        Some(self.stalled("ScopeConflict", message))
    }
}

/// A private endpoint in Azure in `vnet_id` connected to another target of `target`'s group,
/// for the groups of which a network serves one: the condition to report.
pub(super) async fn azure_conflict(
    arm: &ArmClient,
    own: &ResourceId,
    vnet_id: &ResourceId,
    target: &ResolvedTarget,
) -> Result<Option<(&'static str, String)>, ArmError> {
    let Some(group) =
        catalogue::group(&target.group_id).filter(|g| g.one_endpoint_per_dns.is_some())
    else {
        return Ok(None);
    };
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
            let Some(p) = c.properties.as_ref() else {
                continue;
            };
            let Some(other) = p.private_link_service_id.as_ref() else {
                continue;
            };
            let same_group = other
                .resource_type()
                .eq_ignore_ascii_case(group.resource_type)
                || p.group_ids
                    .iter()
                    .flatten()
                    .any(|g| g.eq_ignore_ascii_case(group.group_id));
            if !same_group || other == &target.id {
                continue;
            }
            let pe_name = pe.id.as_ref().map(|i| i.to_string()).unwrap_or_default();
            let message = if group.group_id == HYBRID_COMPUTE {
                format!(
                    "virtual network {vnet_id} is already connected to Arc Private Link Scope {other} (private endpoint {pe_name}); a virtual network can serve only one scope"
                )
            } else {
                format!(
                    "virtual network {vnet_id} is already connected to {} {other} (private endpoint {pe_name}); a virtual network can serve only one (Azure Monitor: create only a single AMPLS object per DNS)",
                    group.service
                )
            };
            return Ok(Some(("ScopeConflict", message)));
        }
    }
    Ok(None)
}
