//! The endpoint's private DNS: the privatelink zones of its target's group id (the catalogue's,
//! [`crate::azure::catalogue`]), their links to the endpoint's virtual network, the endpoint's
//! zone group ([`zones`]), the A records the zone group maintains ([`records`]), and the
//! records the endpoint's status reports from wherever Azure keeps them. Zones are shared
//! (`privatelink.blob.core.windows.net` by storage, Azure Monitor and others; the monitor zones
//! by every Azure Monitor endpoint of a DNS): records are written only through the endpoint's
//! zone group, and a zone another declared endpoint needs is handed over, not deleted
//! ([`sharing`]).

mod elsewhere;
mod records;
pub mod sharing;
mod zones;

use std::collections::BTreeMap;

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::{DnsRecord, PrivateDnsMode};
use crate::azure::catalogue::{self, public_suffix};
use crate::azure::models::{
    NetworkInterface, PrivateDnsZoneGroup, PrivateEndpoint, PrivateLinkResource,
};
use crate::azure::{ArmError, CollectionId, KnownCloud, ResourceId};
use crate::reconcile::engine::{Cx, Next};

use super::target::ResolvedTarget;
use elsewhere::Elsewhere;
pub use elsewhere::LINKED_ELSEWHERE;

/// Name of the zone group arclink attaches (the portal's name too). A zone group by another
/// name was written by someone else (Azure Policy names its `deployedByPolicy`).
pub const ZONE_GROUP: &str = "default";

/// The zones a private endpoint to `target` needs in `cloud`. For an Arc scope: its
/// `privateLinkResources/hybridcompute` `requiredZoneNames` mapped to the catalogue's
/// recommended names (reference/arm-behaviours.md 8), or the catalogue's zones when ARM reports
/// none. For any other target: exactly the catalogue's zones of its group id (a zone outside
/// them is one Azure's zone group never writes into), none when the catalogue has none.
pub async fn required_zone_names(
    arm: &crate::azure::ArmClient,
    target: &ResolvedTarget,
    cloud: KnownCloud,
) -> Result<Vec<String>, ArmError> {
    if !target
        .group_id
        .eq_ignore_ascii_case(catalogue::HYBRID_COMPUTE)
    {
        return Ok(catalogue::zones(cloud, &target.group_id)
            .unwrap_or_default()
            .iter()
            .map(|z| z.name.to_string())
            .collect());
    }
    let plr_id = target
        .id
        .child("privateLinkResources", catalogue::HYBRID_COMPUTE);
    let resource: Option<PrivateLinkResource> = arm.get(&plr_id).await?;
    let reported: Vec<String> = resource
        .and_then(|r| r.properties)
        .and_then(|p| p.required_zone_names)
        .unwrap_or_default();
    Ok(catalogue::recommended_zones(
        cloud,
        catalogue::HYBRID_COMPUTE,
        &reported,
    ))
}

/// The public zones whose names `zone`'s records answer for: the catalogue's (Key Vault's
/// `privatelink.vaultcore.azure.net` serves `vault.azure.net` first), else the zone's name
/// without `privatelink.`.
pub(super) fn served_by(zone: &str) -> Vec<String> {
    let listed = catalogue::ENTRIES
        .iter()
        .flat_map(|e| e.zones)
        .find(|z| z.name.eq_ignore_ascii_case(zone));
    match listed {
        Some(z) if !z.serves.is_empty() => z.serves.iter().map(|s| s.to_string()).collect(),
        _ => vec![public_suffix(zone)],
    }
}

/// The zone serving `fqdn` (`gbl.his.arc.azure.com` -> `privatelink.his.arc.azure.com`,
/// `kv.vault.azure.net` -> `privatelink.vaultcore.azure.net`): the zone of `zones` serving the
/// longest suffix of it, else Azure's convention.
pub fn zone_for(fqdn: &str, zones: &[String]) -> String {
    let lower = fqdn.to_ascii_lowercase();
    zones
        .iter()
        .filter_map(|z| {
            served_by(z)
                .iter()
                .filter(|s| lower.ends_with(&format!(".{s}")))
                .map(String::len)
                .max()
                .map(|len| (len, z))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, z)| z.to_ascii_lowercase())
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
                // The name clients ask: the first public zone the private one serves.
                let suffix = served_by(&zone).into_iter().next().unwrap_or_default();
                let fqdn = format!("{name}.{suffix}");
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

impl Cx<'_, ArcPrivateEndpoint> {
    /// Converges DNS for the mode in the spec; `Some` while something is still provisioning
    /// or a person must act.
    pub(super) async fn converge_dns(
        &mut self,
        pe_id: &ResourceId,
        pe: &PrivateEndpoint,
        target: &ResolvedTarget,
        vnet: &ResourceId,
    ) -> Result<Option<Next>, ArmError> {
        let groups: Vec<PrivateDnsZoneGroup> = self
            .arm
            .list(&CollectionId::new(pe_id, "privateDnsZoneGroups"))
            .try_collect()
            .await?;
        let cloud = KnownCloud::for_agent(&self.settings.agent_cloud);
        let zone_names = required_zone_names(self.arm, target, cloud).await?;
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
            PrivateDnsMode::Managed => {
                let elsewhere = Elsewhere::new(vnet);
                match self.managed_zones(pe_id, &zone_names, &elsewhere).await? {
                    Err(step) => Some(step),
                    Ok(zones) => match self.links(&zones, vnet, &elsewhere).await? {
                        Some(step) => Some(step),
                        None => self.zone_group(pe_id, &zones, &groups).await?,
                    },
                }
            }
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

    /// Managed DNS creates exactly the catalogue's zones of the target's group id in the
    /// controller's cloud: a group id without them is refused before any write (a guessed zone
    /// would be one Azure never writes records into).
    pub(super) fn dns_catalogue_check(&self, target: &ResolvedTarget) -> Option<Next> {
        if self.dns_mode() != PrivateDnsMode::Managed {
            return None;
        }
        let cloud = KnownCloud::for_agent(&self.settings.agent_cloud);
        if catalogue::entry(cloud, &target.group_id).is_some() {
            return None;
        }
        let known = catalogue::ENTRIES
            .iter()
            .filter(|e| e.cloud == cloud)
            .map(|e| e.group_id)
            .collect::<Vec<_>>()
            .join(", ");
        Some(self.stalled(
            "InvalidSpec",
            format!(
                "{} {:?} has no private DNS zones in arclink's catalogue for {cloud:?} ({known}), so spec.privateDns.mode Managed (the default) cannot know which zones to create; set spec.privateDns.mode to Existing with zoneIds, or None",
                target.group_field(),
                target.group_id
            ),
        ))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Behaviour 5: each source alone gives the same records.
    #[test]
    fn records_are_the_same_from_each_source() {
        let zones: Vec<String> = KnownCloud::AzureCloud
            .arc_zones()
            .iter()
            .map(|z| z.name.to_string())
            .collect();
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
