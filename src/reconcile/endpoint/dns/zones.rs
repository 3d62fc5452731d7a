//! Managed DNS in Azure: Arc's privatelink zones, their links to the endpoint's virtual network,
//! and the endpoint's zone group, each through the engine's one path
//! ([`crate::reconcile::resource`]).
//!
//! Zones are shared by nature (every endpoint of a region resolves through the same three
//! zones), so a zone owned by another arclink object is used but never written; any link of the
//! network to a zone serves, whoever made it; the one zone group is per endpoint.

use std::collections::BTreeMap;

use futures::TryStreamExt;

use crate::api::{ArcPrivateEndpoint, DriftEntry};
use crate::azure::models::{
    PrivateDnsZone, PrivateDnsZoneConfig, PrivateDnsZoneConfigProperties, PrivateDnsZoneGroup,
    PrivateDnsZoneGroupProperties, PrivateDnsZoneProperties, SubResource, VirtualNetworkLink,
    VirtualNetworkLinkProperties,
};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};
use crate::reconcile::arm::OPERATION_POLL;
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::ownership::{Owner, Ownership};
use crate::reconcile::resource::{ArmResource, Converged, Pending};
use crate::reconcile::{Phase, Requeue};

use super::super::NETWORK;
use super::elsewhere::Elsewhere;
use super::{ZONE_GROUP, link_name, zone_resource_group};

/// Where the endpoint waits for its private DNS.
fn waiting(pending: Pending, what: &str) -> Option<Next> {
    pending.wait("ConfiguringDns", |names| {
        format!("waiting for private DNS: {what}{names}")
    })
}

/// A privatelink zone of the endpoint.
struct Zone<'a> {
    id: ResourceId,
    tags: BTreeMap<String, String>,
    elsewhere: &'a Elsewhere,
}

impl ArmResource for Zone<'_> {
    type Props = PrivateDnsZoneProperties;

    const WHAT: &'static str = "private DNS zone";
    const CONDITIONAL: bool = true;

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        format!("privateDnsZones/{}.", self.id.name())
    }

    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.tags)
    }

    fn desired(&self, actual: Option<&PrivateDnsZone>) -> PrivateDnsZone {
        actual
            .map(PrivateDnsZone::for_write)
            .unwrap_or_else(|| PrivateDnsZone {
                location: Some("global".into()),
                ..Default::default()
            })
    }

    /// Another arclink object's zone serves this virtual network too: it is used.
    fn shared(&self, ownership: &Ownership) -> bool {
        matches!(ownership, Ownership::Elsewhere(_))
    }

    fn missing(&self) -> DriftEntry {
        entry(
            &format!("privateDnsZones/{}", self.id.name()),
            "exists",
            "missing",
        )
    }

    fn adoption_hint(&self) -> &'static str {
        ", or use privateDns.mode: Existing with its id"
    }

    /// A zone of the same name already linked to the network: creating this one would only
    /// end in a link Azure refuses.
    async fn before_create(
        &self,
        arm: &ArmClient,
    ) -> Result<Option<(&'static str, String)>, ArmError> {
        self.elsewhere.check(arm, &self.id).await
    }
}

/// The link of a zone to the endpoint's virtual network.
struct Link<'a> {
    id: ResourceId,
    zone: &'a ResourceId,
    vnet: &'a ResourceId,
    tags: &'a BTreeMap<String, String>,
    elsewhere: &'a Elsewhere,
}

impl ArmResource for Link<'_> {
    type Props = VirtualNetworkLinkProperties;

    const WHAT: &'static str = "virtual network link";
    const CONDITIONAL: bool = true;

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        format!(
            "privateDnsZones/{}/virtualNetworkLinks/{}.",
            self.zone.name(),
            self.id.name()
        )
    }

    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        Some(self.tags)
    }

    fn desired(&self, actual: Option<&VirtualNetworkLink>) -> VirtualNetworkLink {
        actual
            .map(VirtualNetworkLink::for_write)
            .unwrap_or_else(|| VirtualNetworkLink {
                location: Some("global".into()),
                properties: Some(VirtualNetworkLinkProperties {
                    virtual_network: Some(SubResource::new(self.vnet.clone())),
                    registration_enabled: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            })
    }

    /// Any link of the network to the zone serves, whoever made it.
    fn shared(&self, ownership: &Ownership) -> bool {
        *ownership != Ownership::Ours
    }

    fn missing(&self) -> DriftEntry {
        entry(
            &format!("privateDnsZones/{}/virtualNetworkLinks", self.zone.name()),
            &self.vnet.to_string(),
            "",
        )
    }

    /// A zone of the same name already linked to the network: Azure refuses a second link.
    async fn before_create(
        &self,
        arm: &ArmClient,
    ) -> Result<Option<(&'static str, String)>, ArmError> {
        self.elsewhere.check(arm, self.zone).await
    }
}

/// The endpoint's one zone group (Azure allows one), naming exactly its zones.
struct ZoneGroup<'a> {
    id: ResourceId,
    zones: &'a [ResourceId],
}

impl ZoneGroup<'_> {
    fn zones_text(&self) -> String {
        self.zones
            .iter()
            .map(|z| z.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl ArmResource for ZoneGroup<'_> {
    type Props = PrivateDnsZoneGroupProperties;

    const WHAT: &'static str = "private DNS zone group";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        "privateDnsZoneGroups.".into()
    }

    fn desired(&self, _: Option<&PrivateDnsZoneGroup>) -> PrivateDnsZoneGroup {
        let configs = self
            .zones
            .iter()
            .map(|z| PrivateDnsZoneConfig {
                name: Some(z.name().replace('.', "-")),
                properties: Some(PrivateDnsZoneConfigProperties {
                    private_dns_zone_id: Some(z.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        PrivateDnsZoneGroup {
            properties: Some(PrivateDnsZoneGroupProperties {
                private_dns_zone_configs: Some(configs),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn differences(&self, actual: &PrivateDnsZoneGroup) -> Vec<DriftEntry> {
        let lower = |z: &ResourceId| z.to_string().to_ascii_lowercase();
        let mut actual: Vec<String> = actual
            .properties
            .as_ref()
            .and_then(|p| p.private_dns_zone_configs.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| c.properties.as_ref()?.private_dns_zone_id.as_ref())
            .map(lower)
            .collect();
        actual.sort();
        let mut wanted: Vec<String> = self.zones.iter().map(lower).collect();
        wanted.sort();
        if actual == wanted {
            return Vec::new();
        }
        vec![entry(
            "privateDnsZoneGroups",
            &self.zones_text(),
            &actual.join(","),
        )]
    }

    /// The group named `default` is arclink's (one by another name was stopped before).
    fn ownership(&self, _: &Owner, _: &PrivateDnsZoneGroup) -> Ownership {
        Ownership::Ours
    }

    fn missing(&self) -> DriftEntry {
        entry("privateDnsZoneGroups", &self.zones_text(), "")
    }
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// Creates or adopts the zones; the ready ones, or the step to report.
    pub(super) async fn managed_zones(
        &mut self,
        pe_id: &ResourceId,
        names: &[String],
        elsewhere: &Elsewhere,
    ) -> Result<Result<Vec<ResourceId>, Next>, ArmError> {
        let rg = zone_resource_group(self.obj);
        let owner = self.owner();
        let tags = owner.tags(&self.obj.spec.common.tags);
        let mut ready = Vec::new();
        let mut owned: Vec<String> = Vec::new();
        let mut pending = Pending::default();
        for name in names {
            let id =
                ResourceId::resource(pe_id.subscription(), &rg, NETWORK, "privateDnsZones", name);
            let zone = Zone {
                id: id.clone(),
                tags: tags.clone(),
                elsewhere,
            };
            let actual = match self.running(&id) {
                Some(_) => None,
                None => self.arm.get::<PrivateDnsZone>(&id).await?,
            };
            // Created or adopted now, or owned before.
            let ours = match actual.as_ref().map(|z| owner.classify(z.tags.as_ref())) {
                None | Some(Ownership::Unowned) if self.report_only() => false,
                None | Some(Ownership::Ours) => true,
                Some(Ownership::Unowned) => self.common().adopt,
                Some(Ownership::Elsewhere(_)) => false,
            };
            match self.converge_resource(&zone, actual).await? {
                Converged::Ready(z) | Converged::Written(z) => {
                    ready.push(z.id.unwrap_or(id.clone()))
                }
                Converged::Absent => {}
                Converged::Waiting(next) => pending.add(name.clone(), &next),
                Converged::Stopped(next) => return Ok(Err(next)),
            }
            if ours {
                owned.push(id.to_string());
            }
        }
        owned.sort_by_key(|z| z.to_ascii_lowercase());
        self.status.dns_zone_ids = owned;
        Ok(match waiting(pending, "zones ") {
            Some(wait) => Err(wait),
            None => Ok(ready),
        })
    }

    /// Links each zone to the endpoint's virtual network (any existing link to it counts).
    pub(super) async fn links(
        &mut self,
        zones: &[ResourceId],
        vnet: &ResourceId,
        elsewhere: &Elsewhere,
    ) -> Result<Option<Next>, ArmError> {
        let tags = self.owner().tags(&self.obj.spec.common.tags);
        let mut pending = Pending::default();
        for zone in zones {
            let links: Vec<VirtualNetworkLink> = self
                .arm
                .list(&CollectionId::new(zone, "virtualNetworkLinks"))
                .try_collect()
                .await?;
            let actual = links.into_iter().find(|l| {
                l.properties
                    .as_ref()
                    .and_then(|p| p.virtual_network.as_ref())
                    .and_then(|v| v.id.as_ref())
                    == Some(vnet)
            });
            let id = actual
                .as_ref()
                .and_then(|l| l.id.clone())
                .unwrap_or_else(|| zone.child("virtualNetworkLinks", &link_name(vnet)));
            let link = Link {
                id,
                zone,
                vnet,
                tags: &tags,
                elsewhere,
            };
            match self.converge_resource(&link, actual).await? {
                Converged::Ready(_) | Converged::Written(_) | Converged::Absent => {}
                Converged::Waiting(next) => pending.add(zone.name(), &next),
                Converged::Stopped(next) => return Ok(Some(next)),
            }
        }
        Ok(waiting(pending, "virtual network links of "))
    }

    /// The endpoint's one zone group, naming exactly `zones`; then its A records. A zone group
    /// arclink did not write is reported, never replaced.
    pub(super) async fn zone_group(
        &mut self,
        pe_id: &ResourceId,
        zones: &[ResourceId],
        groups: &[PrivateDnsZoneGroup],
    ) -> Result<Option<Next>, ArmError> {
        if let Some(foreign) = groups.iter().find(|g| {
            g.name
                .as_deref()
                .is_some_and(|n| !n.eq_ignore_ascii_case(ZONE_GROUP))
        }) {
            let name = foreign.name.as_deref().unwrap_or_default();
            return Ok(Some(self.stalled(
                "DnsZoneGroupConflict",
                format!(
                    "private endpoint {pe_id} already has the private DNS zone group {name:?}, which arclink did not write (Azure Policy's \"Configure Azure Arc Private Link Scopes to use private DNS zones\" names its group deployedByPolicy); an endpoint has only one zone group: set spec.privateDns.mode: None to leave DNS to it, or delete that zone group"
                ),
            )));
        }
        let group = ZoneGroup {
            id: pe_id.child("privateDnsZoneGroups", ZONE_GROUP),
            zones,
        };
        let requeue = match self
            .converge_resource(&group, groups.first().cloned())
            .await?
        {
            Converged::Ready(g) => {
                let configs = g
                    .properties
                    .and_then(|p| p.private_dns_zone_configs)
                    .unwrap_or_default();
                return self.a_records(pe_id, &configs).await;
            }
            Converged::Absent => return Ok(None),
            Converged::Stopped(next) => return Ok(Some(next)),
            Converged::Written(_) => Requeue::After(OPERATION_POLL),
            Converged::Waiting(next) => next.requeue,
        };
        Ok(Some(Next {
            phase: Phase::progressing(
                "ConfiguringDns",
                "waiting for private DNS: the endpoint's private DNS zone group",
            ),
            requeue,
        }))
    }
}
