//! The private DNS zone catalogue: for each private-link group id an Arc-enabled server's
//! traffic needs (Arc itself, Azure Monitor, Key Vault, storage, Automation, Resource Manager),
//! the private DNS zones Microsoft recommends in each cloud, the public names the endpoint's
//! records serve, and who else writes into each zone — every row with its source
//! ([`table::ENTRIES`]).
//!
//! Managed DNS maps ARM's `requiredZoneNames` to these zones ([`recommended_zones`]); for the
//! companion targets it is to create, link and attach exactly [`zones`] of the endpoint's group
//! id in its cloud, and a group id the catalogue does not hold gives `None` (to be refused: a
//! guessed zone name would be a zone Azure never writes into). `dns-check` asks the documented
//! [`PublicName`]s; [`zone_serving`] finds the zone of a name that comes without one.

mod table;

pub use table::{ENTRIES, GROUPS};

use super::cloud::{KnownCloud, Source};

/// Arc's group id (an Arc Private Link Scope).
pub const HYBRID_COMPUTE: &str = "hybridcompute";
/// Azure Monitor's group id (an Azure Monitor Private Link Scope).
pub const AZURE_MONITOR: &str = "azuremonitor";
/// Resource Manager's group id (a resource management private link).
pub const RESOURCE_MANAGEMENT: &str = "ResourceManagement";

/// A private DNS zone of a group id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    /// The recommended name (lower case, `privatelink.`): Azure writes a zone group's records
    /// only into zones of these names.
    pub name: &'static str,
    /// The public DNS zones whose names resolve through this zone (CNAME to `privatelink.`):
    /// the conditional forwarders on-premises DNS needs, and how a name finds its zone.
    pub serves: &'static [&'static str],
    /// Group ids outside the catalogue whose endpoints also write records into this zone
    /// (Managed Disks, Backup, ...); the catalogue's own sharers are found by [`sharers`].
    pub also_used_by: &'static [&'static str],
}

/// A public name an endpoint's records serve. Placeholders: `{name}` (the target resource's
/// name), `{region}`, `{regionCode}` (the documentation's short region code, e.g. `eus`),
/// `{workspaceId}`, `{accountId}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicName {
    pub pattern: &'static str,
    pub source: Source,
}

impl PublicName {
    /// The name for the target resource `name`, when that is the only placeholder it needs
    /// (other placeholders depend on what only Azure knows: the name is then not predictable).
    pub fn expand(&self, name: Option<&str>) -> Option<String> {
        let out = match name {
            Some(n) => self.pattern.replace("{name}", n),
            None => self.pattern.to_string(),
        };
        (!out.contains('{')).then_some(out)
    }
}

/// One group id in one cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// As ARM spells it in `groupIds` (compared without case).
    pub group_id: &'static str,
    pub cloud: KnownCloud,
    /// Every zone of the group, all in one zone group.
    pub zones: &'static [Zone],
    pub zones_source: Source,
    /// Public zones the documentation lists as forwarders beside those of [`Zone::serves`],
    /// without saying which private zone answers for them.
    pub extra_forwarders: &'static [&'static str],
    /// The names the endpoint's records serve.
    pub names: &'static [PublicName],
}

/// A group id, whatever the cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub group_id: &'static str,
    /// The service, for messages and the README.
    pub service: &'static str,
    /// The ARM type of the resource a private endpoint of this group connects to.
    pub resource_type: &'static str,
    /// `Some` when every endpoint of the group writes the same names (global names, not one
    /// resource's), so that one endpoint per DNS may write the group's zones: a second one
    /// would overwrite the first's records, and deleting either would delete them for both.
    pub one_endpoint_per_dns: Option<Source>,
}

/// The group id `group_id`, compared without case.
pub fn group(group_id: &str) -> Option<&'static Group> {
    GROUPS
        .iter()
        .find(|g| g.group_id.eq_ignore_ascii_case(group_id))
}

/// The catalogue's row of `group_id` in `cloud`; `None` when Microsoft documents no zones for
/// it there.
pub fn entry(cloud: KnownCloud, group_id: &str) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.cloud == cloud && e.group_id.eq_ignore_ascii_case(group_id))
}

/// The private DNS zones of `group_id` in `cloud`.
pub fn zones(cloud: KnownCloud, group_id: &str) -> Option<&'static [Zone]> {
    entry(cloud, group_id).map(|e| e.zones)
}

/// `privatelink.his.arc.azure.com` -> `his.arc.azure.com`, lower-cased.
pub fn public_suffix(zone: &str) -> String {
    let lower = zone.to_ascii_lowercase();
    lower
        .strip_prefix("privatelink.")
        .map_or(lower.clone(), str::to_string)
}

/// The recommended zone for a name ARM reports in a private link resource's
/// `requiredZoneNames`, matched without case against the zones of `group_id` in `cloud`: ARM
/// reports Arc's `privatelink.kubernetesconfiguration.azure.com` and a mixed-case
/// `privatelink.Guestconfiguration.azure.com`, the documentation names
/// `privatelink.dp.kubernetesconfiguration.azure.com` and
/// `privatelink.guestconfiguration.azure.com`. The zones of `cloud` are searched first, then
/// those of the other clouds: ARM names its own cloud's zones (the emulator the public
/// cloud's, whatever `--cloud` says), and zone names differ between clouds. A name outside the
/// catalogue is kept as ARM reports it.
pub fn recommended_zone(cloud: KnownCloud, group_id: &str, required: &str) -> String {
    let public = public_suffix(required);
    let others = KnownCloud::ALL.into_iter().filter(|c| *c != cloud);
    std::iter::once(cloud)
        .chain(others)
        .filter_map(|c| zones(c, group_id))
        .flatten()
        .find(|z| {
            let zone = public_suffix(z.name);
            zone == public || zone.ends_with(&format!(".{public}"))
        })
        .map_or_else(|| required.to_string(), |z| z.name.to_string())
}

/// The zones an endpoint of `group_id` needs in `cloud`: the `requiredZoneNames` ARM reports,
/// each mapped to its recommended name (deduplicated), or the catalogue's zones when ARM
/// reports none.
pub fn recommended_zones(cloud: KnownCloud, group_id: &str, reported: &[String]) -> Vec<String> {
    if reported.is_empty() {
        return zones(cloud, group_id)
            .unwrap_or_default()
            .iter()
            .map(|z| z.name.to_string())
            .collect();
    }
    let mut out: Vec<String> = Vec::new();
    for name in reported
        .iter()
        .map(|r| recommended_zone(cloud, group_id, r))
    {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

/// Every group id whose endpoints write records into `zone` in `cloud`: the catalogue's, then
/// the others the documentation names. More than one means a shared zone: arclink never
/// deletes it while it holds records arclink did not write.
pub fn sharers(cloud: KnownCloud, zone: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for e in ENTRIES.iter().filter(|e| e.cloud == cloud) {
        for z in e.zones.iter().filter(|z| z.name.eq_ignore_ascii_case(zone)) {
            if !out.contains(&e.group_id) {
                out.push(e.group_id);
            }
            for other in z.also_used_by {
                if !out.contains(other) {
                    out.push(other);
                }
            }
        }
    }
    out
}

/// The cloud whose catalogue holds a zone of this name (zone names differ between clouds).
pub fn cloud_of_zone(zone: &str) -> Option<KnownCloud> {
    ENTRIES
        .iter()
        .find(|e| e.zones.iter().any(|z| z.name.eq_ignore_ascii_case(zone)))
        .map(|e| e.cloud)
}

/// The zone of `zones` whose records answer for `fqdn`: the one serving the longest public
/// suffix of it (`myvault.vault.azure.net` -> `privatelink.vaultcore.azure.net`).
pub fn zone_serving<'a>(zones: &'a [Zone], fqdn: &str) -> Option<&'a Zone> {
    let lower = fqdn.trim_end_matches('.').to_ascii_lowercase();
    zones
        .iter()
        .filter_map(|z| {
            z.serves
                .iter()
                .filter(|s| lower.ends_with(&format!(".{s}")))
                .map(|s| s.len())
                .max()
                .map(|len| (len, z))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, z)| z)
}

#[cfg(test)]
mod tests;
