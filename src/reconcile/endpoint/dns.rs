//! The endpoint's private DNS: Arc's privatelink zones, their links to the endpoint's virtual
//! network, the endpoint's zone group, and the A records the zone group maintains.
//!
//! Zones are shared by nature (every endpoint of a region resolves through the same three
//! zones), so a zone owned by another arclink object is used but never written; links are per
//! virtual network, and the one zone group is per endpoint.

use std::collections::BTreeMap;

use futures::TryStreamExt;

use crate::api::endpoint::{DnsRecord, PrivateDnsMode};
use crate::azure::models::WriteModel;
use crate::azure::models::{
    ARecord, ARecordSet, PrivateDnsZone, PrivateDnsZoneConfig, PrivateDnsZoneConfigProperties,
    PrivateDnsZoneGroup, PrivateDnsZoneGroupProperties, PrivateEndpoint, PrivateLinkResource,
    SubResource, VirtualNetworkLink, VirtualNetworkLinkProperties,
};
use crate::azure::{ArmError, CollectionId, ResourceId};
use crate::reconcile::ownership::Ownership;
use crate::reconcile::scope_ref::ResolvedScope;
use crate::reconcile::{ChangeAction, Phase, Requeue, arm};

use super::{GROUP_ID, NETWORK, Run, Step, in_flight, owner};

/// Arc's private DNS zones (DESIGN.md section 1), used when the scope does not report
/// `requiredZoneNames`.
pub const ARC_ZONES: [&str; 3] = [
    "privatelink.his.arc.azure.com",
    "privatelink.guestconfiguration.azure.com",
    "privatelink.kubernetesconfiguration.azure.com",
];
/// Name of the zone group arclink attaches (the portal's name too).
pub const ZONE_GROUP: &str = "default";
/// TTL of A records arclink corrects, as Azure writes them for zone groups.
const RECORD_TTL: i64 = 10;

/// The zones a private endpoint to `scope` needs, from its `privateLinkResources/hybridcompute`
/// (deduplicated case-insensitively, ARM's casing kept).
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
    for n in names {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The zone serving `fqdn` (`gbl.his.arc.azure.com` -> `privatelink.his.arc.azure.com`):
/// the zone whose name without `privatelink.` is a suffix, else Azure's convention.
pub fn zone_for(fqdn: &str, zones: &[String]) -> String {
    let lower = fqdn.to_ascii_lowercase();
    zones
        .iter()
        .filter(|z| {
            let z = z.to_ascii_lowercase();
            let public = z.strip_prefix("privatelink.").unwrap_or(&z).to_string();
            lower.ends_with(&format!(".{public}"))
        })
        .max_by_key(|z| z.len())
        .cloned()
        .unwrap_or_else(|| match fqdn.split_once('.') {
            Some((_, rest)) => format!("privatelink.{rest}"),
            None => fqdn.to_string(),
        })
}

/// DNS records from the endpoint's `customDnsConfigs`, sorted by zone and name.
pub fn records(pe: &PrivateEndpoint, zones: &[String]) -> Vec<DnsRecord> {
    let mut out: Vec<DnsRecord> = pe
        .properties
        .as_ref()
        .and_then(|p| p.custom_dns_configs.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let fqdn = c.fqdn.clone()?;
            let mut ips = c.ip_addresses.clone().unwrap_or_default();
            ips.sort();
            Some(DnsRecord {
                zone: zone_for(&fqdn, zones),
                fqdn,
                ip_addresses: ips,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.zone, &a.fqdn).cmp(&(&b.zone, &b.fqdn)));
    out
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

fn waiting(what: String) -> Step {
    (
        Phase::progressing("ConfiguringDns", format!("waiting for private DNS: {what}")),
        Requeue::After(arm::OPERATION_POLL),
    )
}

impl Run<'_> {
    /// Converges DNS for the mode in the spec; `Some` while something is still provisioning
    /// or a person must act.
    pub(super) async fn converge_dns(
        &mut self,
        pe_id: &ResourceId,
        pe: &PrivateEndpoint,
        scope: &ResolvedScope,
        vnet: &ResourceId,
    ) -> Result<Option<Step>, ArmError> {
        let zone_names = required_zone_names(self.arm, &scope.id).await?;
        let mode = self.dns_mode();
        self.status.dns_records = match mode {
            PrivateDnsMode::Existing => {
                let names: Vec<String> = self
                    .existing_zone_ids()
                    .unwrap_or_default()
                    .iter()
                    .map(|z| z.name().to_string())
                    .collect();
                records(pe, &names)
            }
            _ => records(pe, &zone_names),
        };
        match mode {
            PrivateDnsMode::Disabled => {
                self.status.dns_zone_ids.clear();
                Ok(None)
            }
            PrivateDnsMode::Existing => {
                self.status.dns_zone_ids.clear();
                let zones = match self.existing_zone_ids() {
                    Ok(zones) => zones,
                    Err(msg) => return Ok(Some(self.stalled("InvalidSpec", msg))),
                };
                self.zone_group(pe_id, &zones).await
            }
            PrivateDnsMode::Managed => {
                let zones = match self.managed_zones(pe_id, &zone_names).await? {
                    Ok(z) => z,
                    Err(step) => return Ok(Some(step)),
                };
                if let Some(step) = self.links(&zones, vnet).await? {
                    return Ok(Some(step));
                }
                self.zone_group(pe_id, &zones).await
            }
        }
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
    ) -> Result<Result<Vec<ResourceId>, Step>, ArmError> {
        let rg = zone_resource_group(self.obj);
        let owner = owner(self.obj, self.settings);
        let tags = owner.tags(&self.obj.spec.tags);
        let mut ready = Vec::new();
        let mut owned: Vec<String> = Vec::new();
        let mut pending = Vec::new();
        for name in names {
            let zid =
                ResourceId::resource(pe_id.subscription(), &rg, NETWORK, "privateDnsZones", name);
            let Some(zone) = self.arm.get::<PrivateDnsZone>(&zid).await? else {
                if self.report_only() {
                    self.drift
                        .push(&format!("privateDnsZones/{name}"), "exists", "missing");
                    continue;
                }
                if self.was_ready {
                    self.corrected
                        .push(format!("privateDnsZones/{name} recreated"));
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
                Ownership::Unowned if !self.obj.spec.policy.adopt => {
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
    ) -> Result<Option<Step>, ArmError> {
        let me = owner(self.obj, self.settings);
        let tags = me.tags(&self.obj.spec.tags);
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
                None if self.report_only() => {
                    self.drift.push(
                        &format!("privateDnsZones/{}/virtualNetworkLinks", zid.name()),
                        &vnet.to_string(),
                        "",
                    );
                }
                None => {
                    if self.was_ready {
                        self.corrected.push(format!(
                            "privateDnsZones/{}/virtualNetworkLinks",
                            zid.name()
                        ));
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
        let find = |key: &str| {
            actual.and_then(|t| {
                t.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.as_str())
            })
        };
        let mut diff = crate::reconcile::diff::Diff::default();
        for (k, v) in desired {
            let a = find(k);
            if a != Some(v.as_str()) {
                diff.push(&format!("{label}.tags.{k}"), v, a.unwrap_or_default());
            }
        }
        if diff.is_empty() {
            return Ok(());
        }
        if self.report_only() {
            self.drift.entries.extend(diff.entries);
            return Ok(());
        }
        let mut merged: BTreeMap<String, String> = actual
            .into_iter()
            .flatten()
            .filter(|(k, _)| !desired.keys().any(|d| d.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merged.extend(desired.clone());
        self.corrected.push(diff.paths());
        self.patch_tags::<serde_json::Value>(id, &merged, diff.entries)
            .await?;
        Ok(())
    }

    /// The endpoint's one zone group, naming exactly `zones`; then its A records.
    async fn zone_group(
        &mut self,
        pe_id: &ResourceId,
        zones: &[ResourceId],
    ) -> Result<Option<Step>, ArmError> {
        let groups: Vec<PrivateDnsZoneGroup> = self
            .arm
            .list(&CollectionId::new(pe_id, "privateDnsZoneGroups"))
            .try_collect()
            .await?;
        let group = groups.into_iter().next();
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
        let Some(group) = group else {
            if self.report_only() {
                self.drift.push("privateDnsZoneGroups", &desired_text, "");
                return Ok(None);
            }
            if self.was_ready {
                self.corrected.push("privateDnsZoneGroups restored".into());
            }
            let id = pe_id.child("privateDnsZoneGroups", ZONE_GROUP);
            self.put::<_, PrivateDnsZoneGroup>(&id, ChangeAction::Create, Vec::new(), &body(zones))
                .await?;
            return Ok(Some(waiting(
                "the endpoint's private DNS zone group".into(),
            )));
        };
        let props = group.properties.as_ref();
        if in_flight(props.and_then(|p| p.provisioning_state.as_deref())) {
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
        if actual != wanted {
            let actual_text = actual.join(",");
            if self.report_only() {
                self.drift
                    .push("privateDnsZoneGroups", &desired_text, &actual_text);
                return Ok(None);
            }
            self.corrected.push("privateDnsZoneGroups".into());
            let name = group.name.clone().unwrap_or_else(|| ZONE_GROUP.to_string());
            let diff = vec![crate::api::DriftEntry {
                path: "privateDnsZoneGroups".into(),
                desired: desired_text,
                actual: actual_text,
            }];
            self.put::<_, PrivateDnsZoneGroup>(
                &pe_id.child("privateDnsZoneGroups", &name),
                ChangeAction::Update,
                diff,
                &body(zones),
            )
            .await?;
            return Ok(Some(waiting(
                "the endpoint's private DNS zone group".into(),
            )));
        }
        self.a_records(&configs).await?;
        Ok(None)
    }

    /// Compares the A records the zone group wrote with the zones' record sets.
    async fn a_records(&mut self, configs: &[PrivateDnsZoneConfig]) -> Result<(), ArmError> {
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
            for (name, ips) in expected {
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
                if self.report_only() {
                    self.drift.push(&path, &ips.join(","), &actual.join(","));
                    continue;
                }
                self.corrected.push(path.clone());
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
                let diff = vec![crate::api::DriftEntry {
                    path,
                    desired: ips.join(","),
                    actual: actual.join(","),
                }];
                self.put::<_, serde_json::Value>(
                    &zid.child("A", &name),
                    ChangeAction::Update,
                    diff,
                    &body,
                )
                .await?;
            }
        }
        Ok(())
    }
}
