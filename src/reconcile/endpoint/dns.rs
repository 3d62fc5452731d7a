//! The endpoint's private DNS: Arc's privatelink zones, their links to the endpoint's virtual
//! network, the endpoint's zone group, and the A records the zone group maintains.
//!
//! Zones are shared by nature (every endpoint of a region resolves through the same three
//! zones), so a zone owned by another arclink object is used but never written; links are per
//! virtual network, and the one zone group is per endpoint.

use std::collections::BTreeMap;

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::{DnsRecord, PrivateDnsMode};
use crate::azure::models::WriteModel;
use crate::azure::models::{
    ARecord, ARecordSet, NetworkInterface, PrivateDnsZone, PrivateDnsZoneConfig,
    PrivateDnsZoneConfigProperties, PrivateDnsZoneGroup, PrivateDnsZoneGroupProperties,
    PrivateEndpoint, PrivateLinkResource, SubResource, VirtualNetworkLink,
    VirtualNetworkLinkProperties,
};
use crate::azure::{ArmError, CollectionId, ResourceId};
use crate::reconcile::ChangeAction;
use crate::reconcile::drift::{self, entry};
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::ownership::Ownership;
use crate::reconcile::scope_ref::ResolvedScope;

use super::{GROUP_ID, NETWORK, in_flight};

/// Arc's private DNS zones as Microsoft's zone table and the built-in Azure Policy name them
/// (reference/arm-behaviours.md 8). Azure writes a zone group's A records only into zones with
/// these names.
pub const ARC_ZONES: [&str; 3] = [
    "privatelink.his.arc.azure.com",
    "privatelink.guestconfiguration.azure.com",
    "privatelink.dp.kubernetesconfiguration.azure.com",
];
/// Name of the zone group arclink attaches (the portal's name too). A zone group by another
/// name was written by someone else (Azure Policy names its `deployedByPolicy`).
pub const ZONE_GROUP: &str = "default";
/// TTL of A records arclink corrects, as Azure writes them for zone groups.
const RECORD_TTL: i64 = 10;

/// The recommended zone for a name in the scope's `requiredZoneNames`, matched without case:
/// ARM reports `privatelink.kubernetesconfiguration.azure.com` and a mixed-case
/// `privatelink.Guestconfiguration.azure.com`, the table says
/// `privatelink.dp.kubernetesconfiguration.azure.com` and `privatelink.guestconfiguration.azure.com`.
/// A name outside the table is kept as ARM reports it.
pub fn recommended_zone(required: &str) -> String {
    let public = public_suffix(required);
    ARC_ZONES
        .iter()
        .find(|z| {
            let zone = public_suffix(z);
            zone == public || zone.ends_with(&format!(".{public}"))
        })
        .map_or_else(|| required.to_string(), |z| z.to_string())
}

/// `privatelink.his.arc.azure.com` -> `his.arc.azure.com`, lower-cased.
fn public_suffix(zone: &str) -> String {
    let lower = zone.to_ascii_lowercase();
    lower
        .strip_prefix("privatelink.")
        .map_or(lower.clone(), str::to_string)
}

/// The zones a private endpoint to `scope` needs: its `privateLinkResources/hybridcompute`
/// `requiredZoneNames` mapped to the recommended names (deduplicated).
pub async fn required_zone_names(
    arm: &crate::azure::ArmClient,
    scope: &ResourceId,
) -> Result<Vec<String>, ArmError> {
    let plr_id = scope.child("privateLinkResources", GROUP_ID);
    let resource: Option<PrivateLinkResource> = arm.get(&plr_id).await?;
    let mut names: Vec<String> = resource
        .and_then(|r| r.properties)
        .and_then(|p| p.required_zone_names)
        .unwrap_or_default();
    if names.is_empty() {
        names = ARC_ZONES.iter().map(|z| z.to_string()).collect();
    }
    let mut out: Vec<String> = Vec::new();
    for n in names.iter().map(|n| recommended_zone(n)) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The zone serving `fqdn` (`gbl.his.arc.azure.com` -> `privatelink.his.arc.azure.com`):
/// the zone whose name without `privatelink.` is the longest suffix, else Azure's convention.
pub fn zone_for(fqdn: &str, zones: &[String]) -> String {
    let lower = fqdn.to_ascii_lowercase();
    zones
        .iter()
        .filter(|z| lower.ends_with(&format!(".{}", public_suffix(z))))
        .max_by_key(|z| z.len())
        .map(|z| z.to_ascii_lowercase())
        .unwrap_or_else(|| match lower.split_once('.') {
            Some((_, rest)) => format!("privatelink.{rest}"),
            None => lower.clone(),
        })
}

/// Where Azure reports an endpoint's names and IPs (reference/arm-behaviours.md 5): its
/// `customDnsConfigs` (which may be empty for names a zone group covers), its zone groups'
/// `recordSets`, and its network interface's IP configurations.
#[derive(Default)]
pub struct DnsSources<'a> {
    pub endpoint: Option<&'a PrivateEndpoint>,
    pub zone_groups: &'a [PrivateDnsZoneGroup],
    pub nic: Option<&'a NetworkInterface>,
}

/// DNS records of an endpoint from every source, merged by name (lower-cased), sorted by zone
/// and name; `zones` names the zones for names that come without one.
pub fn records(sources: &DnsSources, zones: &[String]) -> Vec<DnsRecord> {
    let mut by_name: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut add = |fqdn: &str, zone: Option<String>, ips: &[String]| {
        let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
        if fqdn.is_empty() {
            return;
        }
        let zone = zone.unwrap_or_else(|| zone_for(&fqdn, zones));
        let entry = by_name.entry(fqdn).or_insert((zone, Vec::new()));
        entry.1.extend(ips.iter().cloned());
    };
    let props = sources.endpoint.and_then(|pe| pe.properties.as_ref());
    for c in props
        .and_then(|p| p.custom_dns_configs.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(fqdn) = &c.fqdn {
            add(fqdn, None, c.ip_addresses.as_deref().unwrap_or_default());
        }
    }
    let configs = sources
        .zone_groups
        .iter()
        .filter_map(|g| g.properties.as_ref()?.private_dns_zone_configs.as_ref())
        .flatten()
        .filter_map(|c| c.properties.as_ref());
    for cfg in configs {
        let Some(zone) = cfg
            .private_dns_zone_id
            .as_ref()
            .map(|z| z.name().to_ascii_lowercase())
        else {
            continue;
        };
        for rs in cfg.record_sets.iter().flatten() {
            let a = rs
                .record_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("A"));
            if let (true, Some(name)) = (a, rs.record_set_name.as_deref()) {
                let fqdn = format!("{name}.{}", public_suffix(&zone));
                add(
                    &fqdn,
                    Some(zone.clone()),
                    rs.ip_addresses.as_deref().unwrap_or_default(),
                );
            }
        }
    }
    let ip_configs = sources
        .nic
        .and_then(|n| n.properties.as_ref()?.ip_configurations.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| c.properties.as_ref());
    for ipc in ip_configs {
        let ips: Vec<String> = ipc.private_ip_address.iter().cloned().collect();
        let fqdns = ipc
            .private_link_connection_properties
            .as_ref()
            .and_then(|p| p.fqdns.as_ref());
        for fqdn in fqdns.into_iter().flatten() {
            add(fqdn, None, &ips);
        }
    }
    let mut out: Vec<DnsRecord> = by_name
        .into_iter()
        .map(|(fqdn, (zone, ips))| DnsRecord {
            fqdn,
            zone,
            ip_addresses: sorted_ips(ips),
        })
        .collect();
    out.sort_by(|a, b| (&a.zone, &a.fqdn).cmp(&(&b.zone, &b.fqdn)));
    out
}

/// The endpoint's network interface, from its `networkInterfaces` (raw JSON: ARM's own
/// examples carry malformed ids there).
fn nic_id(pe: &PrivateEndpoint) -> Option<ResourceId> {
    pe.properties
        .as_ref()?
        .network_interfaces
        .as_ref()?
        .iter()
        .find_map(|n| n.get("id")?.as_str()?.parse().ok())
}

/// The resource group of managed zones.
pub fn zone_resource_group(obj: &crate::api::ArcPrivateEndpoint) -> String {
    obj.spec
        .private_dns
        .as_ref()
        .and_then(|d| d.resource_group.clone())
        .unwrap_or_else(|| obj.spec.azure.resource_group.clone())
}

/// Name of the link arclink creates from a zone to `vnet`.
pub fn link_name(vnet: &ResourceId) -> String {
    format!("arclink-{}", vnet.name())
        .chars()
        .take(80)
        .collect()
}

fn sorted_ips(ips: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = ips.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

fn waiting(what: String) -> Next {
    super::waiting("ConfiguringDns", format!("waiting for private DNS: {what}"))
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// Converges DNS for the mode in the spec; `Some` while something is still provisioning
    /// or a person must act.
    pub(super) async fn converge_dns(
        &mut self,
        pe_id: &ResourceId,
        pe: &PrivateEndpoint,
        scope: &ResolvedScope,
        vnet: &ResourceId,
    ) -> Result<Option<Next>, ArmError> {
        let groups: Vec<PrivateDnsZoneGroup> = self
            .arm
            .list(&CollectionId::new(pe_id, "privateDnsZoneGroups"))
            .try_collect()
            .await?;
        let zone_names = required_zone_names(self.arm, &scope.id).await?;
        let mode = self.dns_mode();
        let step = match mode {
            PrivateDnsMode::Disabled => {
                self.status.dns_zone_ids.clear();
                None
            }
            PrivateDnsMode::Existing => {
                self.status.dns_zone_ids.clear();
                match self.existing_zone_ids() {
                    Ok(zones) => self.zone_group(pe_id, &zones, &groups).await?,
                    Err(msg) => Some(self.stalled("InvalidSpec", msg)),
                }
            }
            PrivateDnsMode::Managed => match self.managed_zones(pe_id, &zone_names).await? {
                Err(step) => Some(step),
                Ok(zones) => match self.links(&zones, vnet).await? {
                    Some(step) => Some(step),
                    None => self.zone_group(pe_id, &zones, &groups).await?,
                },
            },
        };
        let label_zones = match mode {
            PrivateDnsMode::Existing => self
                .existing_zone_ids()
                .unwrap_or_default()
                .iter()
                .map(|z| z.name().to_string())
                .collect(),
            _ => zone_names,
        };
        self.record_dns(pe, &groups, &label_zones).await?;
        Ok(step)
    }

    /// `status.dnsRecords` and `status.privateIPs` from wherever Azure reports them; the
    /// network interface is read only when neither the endpoint nor a zone group names any.
    async fn record_dns(
        &mut self,
        pe: &PrivateEndpoint,
        groups: &[PrivateDnsZoneGroup],
        zones: &[String],
    ) -> Result<(), ArmError> {
        let mut sources = DnsSources {
            endpoint: Some(pe),
            zone_groups: groups,
            nic: None,
        };
        let mut found = records(&sources, zones);
        let nic: Option<NetworkInterface> = match nic_id(pe) {
            Some(id) if found.is_empty() => self.arm.get(&id).await?,
            _ => None,
        };
        if nic.is_some() {
            sources.nic = nic.as_ref();
            found = records(&sources, zones);
        }
        let mut ips: Vec<String> = found
            .iter()
            .flat_map(|r| r.ip_addresses.iter().cloned())
            .collect();
        ips.append(&mut self.status.private_ips);
        self.status.private_ips = sorted_ips(ips);
        self.status.dns_records = found;
        Ok(())
    }

    fn existing_zone_ids(&self) -> Result<Vec<ResourceId>, String> {
        let ids = self
            .obj
            .spec
            .private_dns
            .as_ref()
            .map(|d| d.zone_ids.as_slice());
        ids.unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, z)| {
                z.parse::<ResourceId>()
                    .ok()
                    .filter(|id| {
                        id.resource_type()
                            .eq_ignore_ascii_case("Microsoft.Network/privateDnsZones")
                    })
                    .ok_or_else(|| {
                        format!("spec.privateDns.zoneIds[{i}] {z:?} is not a private DNS zone id")
                    })
            })
            .collect()
    }

    /// Creates or adopts the zones; the ready ones, or the step to report.
    async fn managed_zones(
        &mut self,
        pe_id: &ResourceId,
        names: &[String],
    ) -> Result<Result<Vec<ResourceId>, Next>, ArmError> {
        let rg = zone_resource_group(self.obj);
        let owner = self.owner();
        let tags = owner.tags(&self.obj.spec.common.tags);
        let mut ready = Vec::new();
        let mut owned: Vec<String> = Vec::new();
        let mut pending = Vec::new();
        for name in names {
            let zid =
                ResourceId::resource(pe_id.subscription(), &rg, NETWORK, "privateDnsZones", name);
            let Some(zone) = self.arm.get::<PrivateDnsZone>(&zid).await? else {
                let missing = entry(&format!("privateDnsZones/{name}"), "exists", "missing");
                if self.report_only() {
                    self.drift.reported.push(missing);
                    continue;
                }
                if self.was_ready {
                    self.drift.corrected.push(missing);
                }
                let body = PrivateDnsZone {
                    location: Some("global".into()),
                    tags: Some(tags.clone()),
                    ..Default::default()
                };
                self.put::<_, PrivateDnsZone>(&zid, ChangeAction::Create, Vec::new(), &body)
                    .await?;
                owned.push(zid.to_string());
                pending.push(name.clone());
                continue;
            };
            match owner.classify(zone.tags.as_ref()) {
                Ownership::Ours => {
                    owned.push(zid.to_string());
                    self.converge_tags(
                        &zid,
                        &format!("privateDnsZones/{name}"),
                        zone.tags.as_ref(),
                        &tags,
                    )
                    .await?;
                }
                // Another arclink object's zone serves this virtual network too: use it.
                Ownership::Elsewhere(_) => {}
                Ownership::Unowned if !self.common().adopt => {
                    return Ok(Err(self.stalled(
                        "AdoptionRequired",
                        format!(
                            "private DNS zone {zid} already exists and no arclink object owns it; set spec.policy.adopt: true to take it over, or use privateDns.mode: Existing with its id"
                        ),
                    )));
                }
                Ownership::Unowned => {
                    if !self.report_only() {
                        let mut merged = zone.tags.clone().unwrap_or_default();
                        merged.extend(owner.tags(&BTreeMap::new()));
                        self.patch_tags::<serde_json::Value>(&zid, &merged, Vec::new())
                            .await?;
                        owned.push(zid.to_string());
                    }
                }
            }
            let state = zone
                .properties
                .as_ref()
                .and_then(|p| p.provisioning_state.as_deref());
            if in_flight(state) {
                pending.push(name.clone());
                continue;
            }
            ready.push(zone.id.clone().unwrap_or(zid));
        }
        owned.sort_by_key(|z| z.to_ascii_lowercase());
        self.status.dns_zone_ids = owned;
        if !pending.is_empty() {
            return Ok(Err(waiting(format!("zones {}", pending.join(", ")))));
        }
        Ok(Ok(ready))
    }

    /// Links each zone to the endpoint's virtual network (any existing link to it counts).
    async fn links(
        &mut self,
        zones: &[ResourceId],
        vnet: &ResourceId,
    ) -> Result<Option<Next>, ArmError> {
        let me = self.owner();
        let tags = me.tags(&self.obj.spec.common.tags);
        let mut pending = Vec::new();
        for zid in zones {
            let links: Vec<VirtualNetworkLink> = self
                .arm
                .list(&CollectionId::new(zid, "virtualNetworkLinks"))
                .try_collect()
                .await?;
            let link = links.iter().find(|l| {
                l.properties
                    .as_ref()
                    .and_then(|p| p.virtual_network.as_ref())
                    .and_then(|v| v.id.as_ref())
                    == Some(vnet)
            });
            match link {
                Some(l) => {
                    if let (Some(lid), Ownership::Ours) = (&l.id, me.classify(l.tags.as_ref())) {
                        let label = format!(
                            "privateDnsZones/{}/virtualNetworkLinks/{}",
                            zid.name(),
                            lid.name()
                        );
                        self.converge_tags(lid, &label, l.tags.as_ref(), &tags)
                            .await?;
                    }
                    if in_flight(
                        l.properties
                            .as_ref()
                            .and_then(|p| p.provisioning_state.as_deref()),
                    ) {
                        pending.push(zid.name().to_string());
                    }
                }
                None => {
                    let missing = entry(
                        &format!("privateDnsZones/{}/virtualNetworkLinks", zid.name()),
                        &vnet.to_string(),
                        "",
                    );
                    if self.report_only() {
                        self.drift.reported.push(missing);
                        continue;
                    }
                    if self.was_ready {
                        self.drift.corrected.push(missing);
                    }
                    let body = VirtualNetworkLink {
                        location: Some("global".into()),
                        tags: Some(tags.clone()),
                        properties: Some(VirtualNetworkLinkProperties {
                            virtual_network: Some(SubResource::new(vnet.clone())),
                            registration_enabled: Some(false),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    let id = zid.child("virtualNetworkLinks", &link_name(vnet));
                    self.put::<_, VirtualNetworkLink>(&id, ChangeAction::Create, Vec::new(), &body)
                        .await?;
                    pending.push(zid.name().to_string());
                }
            }
        }
        if pending.is_empty() {
            Ok(None)
        } else {
            Ok(Some(waiting(format!(
                "virtual network links of {}",
                pending.join(", ")
            ))))
        }
    }

    /// Adds or fixes the desired tags on a DNS resource this object owns; other tags are kept
    /// (an adopted zone keeps the tags it had).
    async fn converge_tags(
        &mut self,
        id: &ResourceId,
        label: &str,
        actual: Option<&BTreeMap<String, String>>,
        desired: &BTreeMap<String, String>,
    ) -> Result<(), ArmError> {
        let differences = drift::tags(&format!("{label}."), desired, actual, self.common().tags);
        if !self.may_correct(differences.clone()) {
            return Ok(());
        }
        let merged = self.tags_to_write(desired, actual);
        self.patch_tags::<serde_json::Value>(id, &merged, differences)
            .await?;
        Ok(())
    }

    /// The endpoint's one zone group (Azure allows one), naming exactly `zones`; then its A
    /// records. A zone group arclink did not write is reported, never replaced.
    async fn zone_group(
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
        let group = groups.first();
        let desired: Vec<String> = zones
            .iter()
            .map(|z| z.to_string().to_ascii_lowercase())
            .collect();
        let desired_text = zones
            .iter()
            .map(|z| z.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let body = |zones: &[ResourceId]| PrivateDnsZoneGroup {
            properties: Some(PrivateDnsZoneGroupProperties {
                private_dns_zone_configs: Some(
                    zones
                        .iter()
                        .map(|z| PrivateDnsZoneConfig {
                            name: Some(z.name().replace('.', "-")),
                            properties: Some(PrivateDnsZoneConfigProperties {
                                private_dns_zone_id: Some(z.clone()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let group_id = pe_id.child("privateDnsZoneGroups", ZONE_GROUP);
        let Some(group) = group else {
            let missing = entry("privateDnsZoneGroups", &desired_text, "");
            if self.report_only() {
                self.drift.reported.push(missing);
                return Ok(None);
            }
            if self.was_ready {
                self.drift.corrected.push(missing);
            }
            self.put::<_, PrivateDnsZoneGroup>(
                &group_id,
                ChangeAction::Create,
                Vec::new(),
                &body(zones),
            )
            .await?;
            return Ok(Some(waiting(
                "the endpoint's private DNS zone group".into(),
            )));
        };
        let props = group.properties.as_ref();
        let state = props.and_then(|p| p.provisioning_state.as_deref());
        if in_flight(state) {
            return Ok(Some(waiting(
                "the endpoint's private DNS zone group".into(),
            )));
        }
        let configs = props
            .and_then(|p| p.private_dns_zone_configs.clone())
            .unwrap_or_default();
        let mut actual: Vec<String> = configs
            .iter()
            .filter_map(|c| c.properties.as_ref()?.private_dns_zone_id.as_ref())
            .map(|z| z.to_string().to_ascii_lowercase())
            .collect();
        actual.sort();
        let mut wanted = desired.clone();
        wanted.sort();
        let failed = super::failed(state);
        if actual != wanted || failed {
            let difference = if failed {
                entry(
                    "privateDnsZoneGroups.provisioningState",
                    "Succeeded",
                    state.unwrap_or_default(),
                )
            } else {
                entry("privateDnsZoneGroups", &desired_text, &actual.join(","))
            };
            if !self.may_correct(vec![difference.clone()]) {
                return Ok(None);
            }
            self.put::<_, PrivateDnsZoneGroup>(
                &group_id,
                ChangeAction::Update,
                vec![difference],
                &body(zones),
            )
            .await?;
            return Ok(Some(waiting(
                "the endpoint's private DNS zone group".into(),
            )));
        }
        self.a_records(pe_id, &configs).await?;
        Ok(None)
    }

    /// Private IPs of the other private endpoints in the subscription (from their network
    /// interfaces): an A record pointing to one of them was written by that endpoint's zone
    /// group, not changed by hand.
    async fn other_endpoint_ips(&self, pe_id: &ResourceId) -> Result<Vec<String>, ArmError> {
        let nics: Vec<NetworkInterface> = self
            .arm
            .list(&CollectionId::new(
                &ResourceId::subscription_id(pe_id.subscription()),
                "Microsoft.Network/networkInterfaces",
            ))
            .try_collect()
            .await?;
        Ok(nics
            .iter()
            .filter_map(|n| n.properties.as_ref())
            .filter(|p| {
                p.private_endpoint
                    .as_ref()
                    .and_then(|e| e.id.as_ref())
                    .is_some_and(|e| e != pe_id)
            })
            .flat_map(|p| p.ip_configurations.iter().flatten())
            .filter_map(|c| c.properties.as_ref()?.private_ip_address.clone())
            .collect())
    }

    /// Compares the A records the zone group wrote with the zones' record sets.
    async fn a_records(
        &mut self,
        pe_id: &ResourceId,
        configs: &[PrivateDnsZoneConfig],
    ) -> Result<(), ArmError> {
        let mut elsewhere: Option<Vec<String>> = None;
        for cfg in configs {
            let Some(p) = cfg.properties.as_ref() else {
                continue;
            };
            let Some(zid) = p.private_dns_zone_id.as_ref() else {
                continue;
            };
            let expected: Vec<(String, Vec<String>)> = p
                .record_sets
                .iter()
                .flatten()
                .filter(|r| {
                    r.record_type
                        .as_deref()
                        .is_none_or(|t| t.eq_ignore_ascii_case("A"))
                })
                .filter_map(|r| {
                    Some((
                        r.record_set_name.clone()?,
                        sorted_ips(r.ip_addresses.clone().unwrap_or_default()),
                    ))
                })
                .collect();
            if expected.is_empty() {
                continue;
            }
            let sets: Vec<ARecordSet> = self
                .arm
                .list(&CollectionId::new(zid, "A"))
                .try_collect()
                .await?;
            let own_ips: Vec<&String> = expected.iter().flat_map(|(_, ips)| ips).collect();
            for (name, ips) in expected.iter().cloned() {
                let set = sets.iter().find(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&name))
                });
                let actual = sorted_ips(
                    set.and_then(|s| s.properties.as_ref())
                        .and_then(|p| p.a_records.clone())
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|a| a.ipv4_address),
                );
                if actual == ips {
                    continue;
                }
                let path = format!("privateDnsZones/{}/A/{name}", zid.name());
                // Another endpoint's zone group writing into the same zone replaces the
                // record (reference/arm-behaviours.md 9): report it, do not fight over it.
                if actual.iter().any(|ip| !own_ips.contains(&ip)) && elsewhere.is_none() {
                    elsewhere = Some(self.other_endpoint_ips(pe_id).await?);
                }
                let theirs = elsewhere.as_deref().unwrap_or_default();
                let difference = entry(&path, &ips.join(","), &actual.join(","));
                if actual.iter().any(|ip| theirs.contains(ip)) {
                    self.drift.reported.push(difference);
                    self.drift.notes.push(format!(
                        "{path} points to {} (not this endpoint's address): another private endpoint writes into the same zone; it is not rewritten",
                        actual.join(",")
                    ));
                    continue;
                }
                if !self.may_correct(vec![difference.clone()]) {
                    continue;
                }
                let mut props = set
                    .and_then(|s| s.properties.as_ref())
                    .map(WriteModel::for_write)
                    .unwrap_or_default();
                props.ttl = props.ttl.or(Some(RECORD_TTL));
                props.a_records = Some(
                    ips.iter()
                        .map(|ip| ARecord {
                            ipv4_address: Some(ip.clone()),
                            ..Default::default()
                        })
                        .collect(),
                );
                let body = ARecordSet {
                    properties: Some(props),
                    ..Default::default()
                };
                self.put::<_, serde_json::Value>(
                    &zid.child("A", &name),
                    ChangeAction::Update,
                    vec![difference],
                    &body,
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Behaviour 8: ARM's `requiredZoneNames` (official example: no `dp.`, mixed case) map to
    /// the zones Microsoft's table and the built-in Azure Policy use.
    #[test]
    fn required_zone_names_map_to_the_recommended_zones() {
        assert_eq!(
            recommended_zone("privatelink.kubernetesconfiguration.azure.com"),
            "privatelink.dp.kubernetesconfiguration.azure.com"
        );
        assert_eq!(
            recommended_zone("privatelink.Guestconfiguration.azure.com"),
            "privatelink.guestconfiguration.azure.com"
        );
        assert_eq!(
            recommended_zone("PRIVATELINK.HIS.ARC.AZURE.COM"),
            "privatelink.his.arc.azure.com"
        );
        assert_eq!(
            recommended_zone("privatelink.example.azure.com"),
            "privatelink.example.azure.com",
            "a name outside the table is kept"
        );
    }

    /// Behaviour 5: each source alone gives the same records.
    #[test]
    fn records_are_the_same_from_each_source() {
        let zones: Vec<String> = ARC_ZONES.iter().map(|z| z.to_string()).collect();
        let from_configs: PrivateEndpoint = serde_json::from_value(serde_json::json!({
            "properties": {"customDnsConfigs": [
                {"fqdn": "gbl.his.arc.azure.com", "ipAddresses": ["10.0.0.4"]},
                {"fqdn": "eastus.dp.kubernetesconfiguration.azure.com", "ipAddresses": ["10.0.0.5"]}
            ]}
        }))
        .unwrap();
        let group: PrivateDnsZoneGroup = serde_json::from_value(serde_json::json!({
            "name": "default",
            "properties": {"privateDnsZoneConfigs": [
                {"properties": {"privateDnsZoneId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateDnsZones/privatelink.his.arc.azure.com",
                  "recordSets": [{"recordType": "A", "recordSetName": "gbl", "ipAddresses": ["10.0.0.4"]}]}},
                {"properties": {"privateDnsZoneId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateDnsZones/privatelink.dp.kubernetesconfiguration.azure.com",
                  "recordSets": [{"recordType": "A", "recordSetName": "eastus", "ipAddresses": ["10.0.0.5"]}]}}
            ]}
        }))
        .unwrap();
        let nic: NetworkInterface = serde_json::from_value(serde_json::json!({
            "properties": {"ipConfigurations": [
                {"properties": {"privateIPAddress": "10.0.0.4", "privateLinkConnectionProperties": {"fqdns": ["gbl.his.arc.azure.com"]}}},
                {"properties": {"privateIPAddress": "10.0.0.5", "privateLinkConnectionProperties": {"fqdns": ["eastus.dp.kubernetesconfiguration.azure.com"]}}}
            ]}
        }))
        .unwrap();
        let a = records(
            &DnsSources {
                endpoint: Some(&from_configs),
                ..Default::default()
            },
            &zones,
        );
        let groups = [group];
        let b = records(
            &DnsSources {
                zone_groups: &groups,
                ..Default::default()
            },
            &zones,
        );
        let c = records(
            &DnsSources {
                nic: Some(&nic),
                ..Default::default()
            },
            &zones,
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(
            a[0].zone,
            "privatelink.dp.kubernetesconfiguration.azure.com"
        );
    }
}
