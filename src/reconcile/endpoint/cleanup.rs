//! Deleting an ArcPrivateEndpoint: what it created goes in reverse order — the outbound rules
//! it owns, the zone group, the virtual network links, the zones it owns (only when no other
//! link remains), then the endpoint. `deletion: Orphan` leaves everything and removes
//! arclink's owner tags (and the ownership marker of the outbound rules).
//!
//! Each call re-reads Azure; a resource still deleting is waited for, so a restart mid-way
//! continues where it stopped.

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::PrivateDnsMode;
use crate::azure::models::{
    PrivateDnsZone, PrivateDnsZoneGroup, PrivateEndpoint, VirtualNetworkLink,
};
use crate::azure::{ArmError, CollectionId, Deleted, ResourceId};
use crate::reconcile::ChangeAction;
use crate::reconcile::engine::{Cleaned, Cx, DELETING};
use crate::reconcile::ownership::{Ownership, without_owner_tags};
use crate::reconcile::resource::{Pending, in_flight, state_of, waiting};

use super::dns::zone_resource_group;
use super::outbound::sharing::RuleSharer;
use super::{NETWORK, endpoint_id};

fn deleting(what: String) -> Cleaned {
    Cleaned::Waiting(waiting(DELETING, what))
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// `deletion: Delete`: the zone group, the links and zones this object owns, then the
    /// endpoint, each waited for.
    pub(super) async fn delete_endpoint(
        &mut self,
        sharers: &[RuleSharer],
    ) -> Result<Cleaned, ArmError> {
        let Ok(id) = endpoint_id(self.obj, self.settings) else {
            return Ok(Cleaned::Done(
                "no subscription resolved: nothing was created".into(),
            ));
        };
        // The outbound rules went in last; they carry this object's marker, so they go first
        // whoever owns the endpoint.
        if let Some(nsg) = self.outbound_nsg_for_cleanup().await?
            && let Some(next) = self.delete_owned_rules(&nsg, sharers).await?
        {
            return Ok(Cleaned::Waiting(next));
        }
        let pe = match self.owned_endpoint(&id).await? {
            Ok(pe) => pe,
            Err(left) => return Ok(left),
        };
        let mode = self.dns_mode();
        let zones = self.managed_zone_ids(&id);
        if let Some(pe) = &pe {
            let state = state_of(pe);
            if state.is_some_and(|s| s.eq_ignore_ascii_case(DELETING)) {
                return Ok(deleting(format!("deleting private endpoint {id}")));
            }
            if in_flight(state) {
                return Ok(deleting(format!(
                    "private endpoint {id} is still provisioning"
                )));
            }
            if mode != PrivateDnsMode::Disabled {
                let groups: Vec<PrivateDnsZoneGroup> = self
                    .arm
                    .list(&CollectionId::new(&id, "privateDnsZoneGroups"))
                    .try_collect()
                    .await?;
                for g in groups {
                    let Some(gid) = g.id.clone() else { continue };
                    if let Some(next) = self.delete_followed(&gid, state_of(&g)).await? {
                        return Ok(Cleaned::Waiting(next));
                    }
                }
            }
        }
        if mode == PrivateDnsMode::Managed
            && let Some(waiting) = self.delete_managed_dns(&id, &zones).await?
        {
            return Ok(waiting);
        }
        if pe.is_none() {
            return Ok(Cleaned::Done(format!(
                "private endpoint {id} is gone; its DNS was removed"
            )));
        }
        match self.delete(&id).await? {
            Deleted::Gone => Ok(Cleaned::Done(format!(
                "deleted private endpoint {id} and its DNS"
            ))),
            Deleted::Pending(token) => Ok(Cleaned::Waiting(self.track(
                DELETING,
                &token,
                format!("deleting private endpoint {id}"),
            ))),
        }
    }

    /// The links this object made to its zones, then the zones it owns that no other link
    /// uses; `Some` while deletions run.
    async fn delete_managed_dns(
        &mut self,
        pe: &ResourceId,
        zones: &[ResourceId],
    ) -> Result<Option<Cleaned>, ArmError> {
        let owner = self.owner();
        let mut links = Pending::default();
        // The links deleted here: gone for the zones below even where ARM still lists them (a
        // dry run, `plan --delete`, deletes nothing).
        let mut deleted = Vec::new();
        for zid in zones {
            for l in self.links_of(zid).await? {
                let Some(lid) = l.id.clone() else { continue };
                if owner.classify(l.tags.as_ref()) != Ownership::Ours {
                    continue;
                }
                if let Some(next) = self.delete_followed(&lid, state_of(&l)).await? {
                    links.add(lid.to_string(), &next);
                }
                deleted.push(lid);
            }
        }
        if let Some(next) = links.wait(DELETING, |l| format!("deleting virtual network links {l}"))
        {
            return Ok(Some(Cleaned::Waiting(next)));
        }
        let mut pending = Pending::default();
        let mut kept = Vec::new();
        for zid in zones {
            let Some(zone) = self.arm.get::<PrivateDnsZone>(zid).await? else {
                continue;
            };
            if owner.classify(zone.tags.as_ref()) != Ownership::Ours {
                continue;
            }
            let others = self.links_of(zid).await?;
            if others
                .iter()
                .any(|l| l.id.as_ref().is_none_or(|id| !deleted.contains(id)))
            {
                kept.push(zid.name().to_string());
                continue;
            }
            if let Some(next) = self.delete_followed(zid, state_of(&zone)).await? {
                pending.add(zid.to_string(), &next);
            }
        }
        if let Some(next) = pending.wait(DELETING, |z| format!("deleting private DNS zones {z}")) {
            return Ok(Some(Cleaned::Waiting(next)));
        }
        if !kept.is_empty() {
            tracing::info!(endpoint = %pe, zones = %kept.join(", "), "private DNS zones kept: other virtual network links remain");
        }
        Ok(None)
    }

    /// `deletion: Orphan`: everything stays; owner tags go so another object can adopt it.
    pub(super) async fn orphan_endpoint(
        &mut self,
        sharers: &[RuleSharer],
    ) -> Result<Cleaned, ArmError> {
        let Ok(id) = endpoint_id(self.obj, self.settings) else {
            return Ok(Cleaned::Done(
                "no subscription resolved: nothing was created".into(),
            ));
        };
        if let Some(nsg) = self.outbound_nsg_for_cleanup().await?
            && let Some(next) = self.orphan_owned_rules(&nsg, sharers).await?
        {
            return Ok(Cleaned::Waiting(next));
        }
        let pe = match self.owned_endpoint(&id).await? {
            Ok(pe) => pe,
            Err(left) => return Ok(left),
        };
        let owner = self.owner();
        for zid in self.managed_zone_ids(&id) {
            for l in self.links_of(&zid).await? {
                if let (Some(lid), Ownership::Ours) = (&l.id, owner.classify(l.tags.as_ref())) {
                    self.release(lid, l.tags.as_ref()).await?;
                }
            }
            if let Some(zone) = self.arm.get::<PrivateDnsZone>(&zid).await?
                && owner.classify(zone.tags.as_ref()) == Ownership::Ours
            {
                self.release(&zid, zone.tags.as_ref()).await?;
            }
        }
        if let Some(pe) = pe {
            // Private endpoints have no tags-only PATCH in the Network API: PUT the endpoint as
            // read, without the owner tags.
            let mut body = pe.for_write();
            body.tags = Some(without_owner_tags(
                pe.tags.as_ref().unwrap_or(&Default::default()),
            ));
            if let Some(p) = body.properties.as_mut() {
                p.custom_dns_configs = None;
            }
            self.put::<_, serde_json::Value>(&id, ChangeAction::Update, Vec::new(), &body)
                .await?;
        }
        Ok(Cleaned::Done(format!(
            "private endpoint {id} and its DNS orphaned: left in Azure without arclink's owner tags"
        )))
    }

    /// The endpoint when this object owns it (`None`: gone); `Err` when it is someone else's.
    async fn owned_endpoint(
        &self,
        id: &ResourceId,
    ) -> Result<Result<Option<PrivateEndpoint>, Cleaned>, ArmError> {
        let pe: Option<PrivateEndpoint> = self.arm.get(id).await?;
        Ok(
            match pe.as_ref().map(|p| self.owner().classify(p.tags.as_ref())) {
                Some(Ownership::Elsewhere(other)) => Err(Cleaned::Done(format!(
                    "private endpoint {id} left in Azure: owned by {other}"
                ))),
                Some(Ownership::Unowned) => Err(Cleaned::Done(format!(
                    "private endpoint {id} left in Azure: not owned by this object"
                ))),
                _ => Ok(pe),
            },
        )
    }

    async fn links_of(&self, zone: &ResourceId) -> Result<Vec<VirtualNetworkLink>, ArmError> {
        self.arm
            .list(&CollectionId::new(zone, "virtualNetworkLinks"))
            .try_collect()
            .await
    }

    /// Zones the object may have created or linked: the ones it owns (status) and the zones its
    /// records live in, in the managed zone resource group.
    fn managed_zone_ids(&self, pe: &ResourceId) -> Vec<ResourceId> {
        let rg = zone_resource_group(self.obj);
        let mut out: Vec<ResourceId> = self
            .status
            .dns_zone_ids
            .iter()
            .filter_map(|z| z.parse().ok())
            .collect();
        for r in &self.status.dns_records {
            let zid =
                ResourceId::resource(pe.subscription(), &rg, NETWORK, "privateDnsZones", &r.zone);
            if !out.contains(&zid) {
                out.push(zid);
            }
        }
        out
    }
}
