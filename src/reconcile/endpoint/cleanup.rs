//! Deleting an ArcPrivateEndpoint: what it created goes in reverse order — the outbound rules
//! it owns, the zone group (and with it the records it wrote), the virtual network links, the
//! zones it owns, then the endpoint. A zone (or link) another declared endpoint needs is handed
//! over to it ([`super::dns::sharing`]); a zone is deleted only when no other link remains and
//! it holds no record set but its SOA (records others wrote: storage or Azure Monitor
//! endpoints, people). `deletion: Orphan` leaves everything and removes arclink's owner tags
//! (and the ownership marker of the outbound rules), handing over what others need.
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

use super::dns::sharing::{DnsSharer, link_heir, zone_heir};
use super::dns::zone_resource_group;
use super::{EndpointDeps, NETWORK, endpoint_id};

fn deleting(what: String) -> Cleaned {
    Cleaned::Waiting(waiting(DELETING, what))
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// `deletion: Delete`: the zone group, the links and zones this object owns, then the
    /// endpoint, each waited for.
    pub(super) async fn delete_endpoint(
        &mut self,
        deps: &EndpointDeps,
    ) -> Result<Cleaned, ArmError> {
        let Ok(id) = endpoint_id(self.obj, self.settings) else {
            return Ok(Cleaned::Done(
                "no subscription resolved: nothing was created".into(),
            ));
        };
        // The outbound rules went in last; they carry this object's marker, so they go first
        // whoever owns the endpoint.
        if let Some(nsg) = self.outbound_nsg_for_cleanup().await?
            && let Some(next) = self.delete_owned_rules(&nsg, &deps.rule_sharers).await?
        {
            return Ok(Cleaned::Waiting(next));
        }
        let pe = match self.owned_endpoint(&id).await? {
            Ok(pe) => pe,
            Err(left) => return Ok(left),
        };
        let mode = self.dns_mode();
        let zones = self.managed_zone_ids(&id);
        // The records this endpoint's zone group wrote: gone with it (a dry run deletes
        // nothing, so they are told from the others by name).
        let mut written: Vec<(String, String)> = Vec::new();
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
                    written.extend(group_records(&g));
                    let Some(gid) = g.id.clone() else { continue };
                    if let Some(next) = self.delete_followed(&gid, state_of(&g)).await? {
                        return Ok(Cleaned::Waiting(next));
                    }
                }
            }
        }
        if mode == PrivateDnsMode::Managed
            && let Some(waiting) = self
                .delete_managed_dns(&id, &zones, &deps.dns_sharers, &written)
                .await?
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
    /// uses and that hold no record but those its zone group wrote (`written`); what another
    /// declared endpoint needs is handed over instead. `Some` while deletions run.
    async fn delete_managed_dns(
        &mut self,
        pe: &ResourceId,
        zones: &[ResourceId],
        sharers: &[DnsSharer],
        written: &[(String, String)],
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
                if let Some(heir) = link_heir(sharers, zid, link_vnet(&l).as_ref()) {
                    self.hand_over(&lid, l.tags.as_ref(), heir).await?;
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
            if let Some(heir) = zone_heir(sharers, zid) {
                self.hand_over(zid, zone.tags.as_ref(), heir).await?;
                kept.push(format!("{} (handed over to {})", zid.name(), heir.owner));
                continue;
            }
            let others = self.links_of(zid).await?;
            if others
                .iter()
                .any(|l| l.id.as_ref().is_none_or(|id| !deleted.contains(id)))
            {
                kept.push(format!(
                    "{} (other virtual network links remain)",
                    zid.name()
                ));
                continue;
            }
            let foreign = self.foreign_records(zid, written).await?;
            if !foreign.is_empty() {
                kept.push(format!(
                    "{} (holds record sets this endpoint did not write: {})",
                    zid.name(),
                    foreign.join(", ")
                ));
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
            tracing::info!(endpoint = %pe, zones = %kept.join(", "), "private DNS zones kept");
        }
        Ok(None)
    }

    /// The record sets of `zone` other than its SOA and those this endpoint's zone group
    /// wrote, as `<type> <name>`.
    async fn foreign_records(
        &self,
        zone: &ResourceId,
        written: &[(String, String)],
    ) -> Result<Vec<String>, ArmError> {
        let sets: Vec<serde_json::Value> = self
            .arm
            .list(&CollectionId::new(zone, "ALL"))
            .try_collect()
            .await?;
        let zone_name = zone.name().to_ascii_lowercase();
        Ok(sets
            .iter()
            .filter_map(|rs| {
                let kind = rs["type"].as_str()?.rsplit('/').next()?.to_string();
                let name = rs["name"].as_str()?.to_ascii_lowercase();
                let soa = kind.eq_ignore_ascii_case("SOA") && name == "@";
                let ours = kind.eq_ignore_ascii_case("A")
                    && written.contains(&(zone_name.clone(), name.clone()));
                (!soa && !ours).then(|| format!("{kind} {name}"))
            })
            .collect())
    }

    /// Gives a zone or link this object owns to `heir`: its owner tags on it.
    async fn hand_over(
        &mut self,
        id: &ResourceId,
        tags: Option<&std::collections::BTreeMap<String, String>>,
        heir: &DnsSharer,
    ) -> Result<(), ArmError> {
        let tags = heir
            .owner
            .tags(&without_owner_tags(tags.unwrap_or(&Default::default())));
        self.patch_tags(id, &tags, Vec::new()).await
    }

    /// `deletion: Orphan`: everything stays; owner tags go so another object can adopt it.
    pub(super) async fn orphan_endpoint(
        &mut self,
        deps: &EndpointDeps,
    ) -> Result<Cleaned, ArmError> {
        let Ok(id) = endpoint_id(self.obj, self.settings) else {
            return Ok(Cleaned::Done(
                "no subscription resolved: nothing was created".into(),
            ));
        };
        if let Some(nsg) = self.outbound_nsg_for_cleanup().await?
            && let Some(next) = self.orphan_owned_rules(&nsg, &deps.rule_sharers).await?
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
                    match link_heir(&deps.dns_sharers, &zid, link_vnet(&l).as_ref()) {
                        Some(heir) => self.hand_over(lid, l.tags.as_ref(), heir).await?,
                        None => self.release(lid, l.tags.as_ref()).await?,
                    }
                }
            }
            if let Some(zone) = self.arm.get::<PrivateDnsZone>(&zid).await?
                && owner.classify(zone.tags.as_ref()) == Ownership::Ours
            {
                match zone_heir(&deps.dns_sharers, &zid) {
                    Some(heir) => self.hand_over(&zid, zone.tags.as_ref(), heir).await?,
                    None => self.release(&zid, zone.tags.as_ref()).await?,
                }
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

/// The virtual network a link links.
fn link_vnet(link: &VirtualNetworkLink) -> Option<ResourceId> {
    link.properties
        .as_ref()?
        .virtual_network
        .as_ref()?
        .id
        .clone()
}

/// The A records a zone group wrote, as (zone name, record name) in lower case.
fn group_records(group: &PrivateDnsZoneGroup) -> Vec<(String, String)> {
    group
        .properties
        .iter()
        .flat_map(|p| p.private_dns_zone_configs.iter().flatten())
        .filter_map(|c| c.properties.as_ref())
        .flat_map(|p| {
            let zone = p
                .private_dns_zone_id
                .as_ref()
                .map(|z| z.name().to_ascii_lowercase())
                .unwrap_or_default();
            p.record_sets.iter().flatten().filter_map(move |r| {
                Some((
                    zone.clone(),
                    r.record_set_name.as_ref()?.to_ascii_lowercase(),
                ))
            })
        })
        .collect()
}
