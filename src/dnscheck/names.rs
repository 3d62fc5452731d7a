//! The names an endpoint serves beyond those its status lists: the catalogue's documented
//! names for what the endpoint connects to, in the endpoint's cloud.

use crate::api::ArcPrivateEndpoint;
use crate::azure::catalogue;
use crate::azure::{KnownCloud, ResourceId};
use crate::reconcile::endpoint::target::declared_group_id;

/// What an endpoint connects to, as the catalogue knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The private link group id (`hybridcompute`, `vault`, `blob`, ...).
    pub group_id: String,
    /// The target resource's name, for the names that carry it (`<vault>.vault.azure.net`);
    /// `None` when the group's names are global (Arc, Azure Monitor, Resource Manager).
    pub resource_name: Option<String>,
}

/// The endpoint's target: as the reconcile resolved it (`status.target`, whatever field named
/// it), else as its spec names it (the group id of its target field; the resource only from
/// `spec.target`). The resource's name fills the names that carry it
/// (`<vault>.vault.azure.net`); the group's names that do not carry it ignore it.
pub fn target(endpoint: &ArcPrivateEndpoint) -> Target {
    let resolved = endpoint.status.as_ref().and_then(|s| s.target.as_ref());
    let (group_id, resource_id) = match (resolved, &endpoint.spec.target) {
        (Some(t), _) => (t.group_id.clone(), Some(t.resource_id.clone())),
        (None, Some(t)) => (t.group_id.clone(), Some(t.resource_id.clone())),
        (None, None) => (declared_group_id(endpoint), None),
    };
    Target {
        group_id,
        resource_name: resource_id
            .and_then(|id| id.parse::<ResourceId>().ok())
            .map(|id| id.name().to_ascii_lowercase()),
    }
}

/// The endpoint's cloud: the one whose catalogue holds the zones of its records (zone names
/// differ between clouds), else `fallback` (`--cloud`).
pub fn cloud(endpoint: &ArcPrivateEndpoint, fallback: KnownCloud) -> KnownCloud {
    endpoint
        .status
        .iter()
        .flat_map(|s| &s.dns_records)
        .find_map(|r| catalogue::cloud_of_zone(&r.zone))
        .unwrap_or(fallback)
}

/// A documented name and the private DNS zone holding its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Documented {
    pub fqdn: String,
    pub zone: &'static str,
}

/// The names of `target` in `cloud` that Microsoft documents and that are known without Azure
/// (no placeholder but the target's name). Inferred names are left out: a name that does not
/// exist would fail the check for nothing.
pub fn documented(cloud: KnownCloud, target: &Target) -> Vec<Documented> {
    let Some(entry) = catalogue::entry(cloud, &target.group_id) else {
        return Vec::new();
    };
    entry
        .names
        .iter()
        .filter(|n| !n.source.is_inferred())
        .filter_map(|n| n.expand(target.resource_name.as_deref()))
        .filter_map(|fqdn| {
            let zone = catalogue::zone_serving(entry.zones, &fqdn)?.name;
            Some(Documented { fqdn, zone })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::endpoint::GROUP_ID;

    fn fqdns(cloud: KnownCloud, group_id: &str, resource: Option<&str>) -> Vec<String> {
        let target = Target {
            group_id: group_id.into(),
            resource_name: resource.map(str::to_string),
        };
        documented(cloud, &target)
            .into_iter()
            .map(|d| d.fqdn)
            .collect()
    }

    #[test]
    fn each_cloud_and_target_has_its_documented_names() {
        assert_eq!(
            fqdns(KnownCloud::AzureCloud, GROUP_ID, None),
            [
                "gbl.his.arc.azure.com",
                "agentserviceapi.guestconfiguration.azure.com"
            ]
        );
        assert_eq!(
            fqdns(KnownCloud::AzureUSGovernment, GROUP_ID, None),
            [
                "gbl.his.arc.azure.us",
                "agentserviceapi.guestconfiguration.azure.us"
            ]
        );
        assert_eq!(
            fqdns(KnownCloud::AzureChinaCloud, GROUP_ID, None),
            ["agentserviceapi.guestconfiguration.azure.cn"],
            "gbl.his.arc.azure.cn is inferred"
        );
        assert_eq!(
            fqdns(KnownCloud::AzureCloud, "vault", Some("kv1")),
            ["kv1.vault.azure.net"]
        );
        assert!(fqdns(KnownCloud::AzureCloud, "vault", None).is_empty());
        assert_eq!(
            fqdns(KnownCloud::AzureCloud, "ResourceManagement", None),
            ["management.azure.com"]
        );
        assert_eq!(
            fqdns(KnownCloud::AzureCloud, "azuremonitor", None).len(),
            5,
            "the global names; the workspace names need the workspace id"
        );
        assert!(fqdns(KnownCloud::AzureChinaCloud, "azuremonitor", None).is_empty());
        let blob = documented(
            KnownCloud::AzureCloud,
            &Target {
                group_id: "blob_secondary".into(),
                resource_name: Some("acct".into()),
            },
        );
        assert_eq!(
            blob,
            [Documented {
                fqdn: "acct-secondary.blob.core.windows.net".into(),
                zone: "privatelink.blob.core.windows.net"
            }]
        );
    }
}
