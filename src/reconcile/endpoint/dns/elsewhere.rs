//! Managed DNS where the network already resolves a zone elsewhere. Hub-and-spoke landing zones
//! keep the privatelink zones centrally (where the built-in Arc policy writes the records) and
//! link every spoke to them; Azure refuses to link a virtual network to a second zone of the
//! same name (`BadRequest`: "A virtual network cannot be linked to multiple zones with
//! overlapping namespaces"). Before it creates a zone or links one, arclink looks for a zone of
//! the same name, other than the one it would create, already linked to the endpoint's network:
//! the subscription's private DNS zones (one listing), then the links of those with that name.
//! It looks only when about to create or link, once per reconcile, never in steady state.

use futures::TryStreamExt;
use tokio::sync::OnceCell;

use crate::azure::models::{PrivateDnsZone, VirtualNetworkLink};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};

/// The condition reason of an endpoint whose network resolves a zone elsewhere.
pub const LINKED_ELSEWHERE: &str = "DnsZoneLinkedElsewhere";

/// The search for zones linked to `vnet` elsewhere, made at most once per reconcile.
pub struct Elsewhere {
    vnet: ResourceId,
    zones: OnceCell<Vec<PrivateDnsZone>>,
}

impl Elsewhere {
    pub fn new(vnet: &ResourceId) -> Elsewhere {
        Elsewhere {
            vnet: vnet.clone(),
            zones: OnceCell::new(),
        }
    }

    /// The stall for creating or linking `own` when the network already resolves a zone of
    /// its name from another one.
    pub async fn check(
        &self,
        arm: &ArmClient,
        own: &ResourceId,
    ) -> Result<Option<(&'static str, String)>, ArmError> {
        let Some(other) = self.linked(arm, own).await? else {
            return Ok(None);
        };
        let (name, vnet) = (own.name(), &self.vnet);
        Ok(Some((
            LINKED_ELSEWHERE,
            format!(
                "virtual network {vnet} already resolves {name} through private DNS zone {other} (linked to it, as a hub-and-spoke landing zone or Azure Policy keeps privatelink zones centrally); Azure refuses to link a network to two zones of the same name, so arclink will not create or link {own}: set spec.privateDns.mode: Existing with zoneIds naming {other} (and the other privatelink zones this network resolves)"
            ),
        )))
    }

    /// A zone named as `own`, other than `own`, linked to the network.
    async fn linked(
        &self,
        arm: &ArmClient,
        own: &ResourceId,
    ) -> Result<Option<ResourceId>, ArmError> {
        let zones = self
            .zones
            .get_or_try_init(|| async {
                arm.list(&CollectionId::new(
                    &ResourceId::subscription_id(own.subscription()),
                    "Microsoft.Network/privateDnsZones",
                ))
                .try_collect()
                .await
            })
            .await?;
        let same_name = zones
            .iter()
            .filter_map(|z| z.id.as_ref())
            .filter(|id| id.name().eq_ignore_ascii_case(own.name()) && *id != own);
        for zone in same_name {
            let links: Vec<VirtualNetworkLink> = arm
                .list(&CollectionId::new(zone, "virtualNetworkLinks"))
                .try_collect()
                .await?;
            let to_vnet = links.iter().any(|l| {
                l.properties
                    .as_ref()
                    .and_then(|p| p.virtual_network.as_ref())
                    .and_then(|v| v.id.as_ref())
                    == Some(&self.vnet)
            });
            if to_vnet {
                return Ok(Some(zone.clone()));
            }
        }
        Ok(None)
    }
}
