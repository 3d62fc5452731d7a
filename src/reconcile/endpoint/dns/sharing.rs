//! A private DNS zone two endpoints need. Zones are shared by nature: every Arc endpoint of a
//! DNS resolves through the same three zones, every Azure Monitor endpoint through the same
//! five, and `privatelink.blob.core.windows.net` serves storage and Azure Monitor alike. The
//! first endpoint creates a zone (its owner tags on it) and links it; the others use it as it
//! is. When the owner goes (deleted, or `Orphan`), a zone another declared endpoint still needs
//! is handed over to that endpoint (its owner tags written on it) instead of being deleted or
//! left unowned, and so is the link of that zone to the other endpoint's network, so the other
//! endpoint's names never stop resolving. Which endpoints are declared comes from the same
//! declared objects as the outbound rules' hand-over ([`super::super::outbound::sharing`]), for
//! the controller and `plan`/`apply` alike.

use kube::ResourceExt;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::PrivateDnsMode;
use crate::azure::ResourceId;
use crate::reconcile::Settings;
use crate::reconcile::ownership::Owner;

use super::super::target::dns_zone_ids;
use super::super::{KIND, vnet_of};

/// Another declared endpoint with managed private DNS.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsSharer {
    /// The object, as its owner tags name it.
    pub owner: Owner,
    /// The virtual network its zones are linked to.
    pub vnet: Option<ResourceId>,
    /// The zones it creates or uses ([`dns_zone_ids`]).
    pub zones: Vec<ResourceId>,
}

impl DnsSharer {
    /// `obj` as a sharer, when its DNS is managed and it is not being deleted.
    pub fn of(obj: &ArcPrivateEndpoint, settings: &Settings) -> Option<DnsSharer> {
        let mode = obj.spec.private_dns.as_ref().map(|d| d.mode);
        if mode.unwrap_or_default() != PrivateDnsMode::Managed
            || obj.metadata.deletion_timestamp.is_some()
        {
            return None;
        }
        Some(DnsSharer {
            owner: Owner {
                cluster: settings.cluster_name.clone(),
                namespace: obj.namespace().unwrap_or_default(),
                kind: KIND.to_string(),
                name: obj.name_any(),
            },
            vnet: vnet_of(&obj.spec.subnet_id),
            zones: dns_zone_ids(obj, settings),
        })
    }
}

/// The first declared endpoint that needs `zone`.
pub fn zone_heir<'s>(sharers: &'s [DnsSharer], zone: &ResourceId) -> Option<&'s DnsSharer> {
    sharers.iter().find(|s| s.zones.contains(zone))
}

/// The first declared endpoint that needs `zone` linked to `vnet`.
pub fn link_heir<'s>(
    sharers: &'s [DnsSharer],
    zone: &ResourceId,
    vnet: Option<&ResourceId>,
) -> Option<&'s DnsSharer> {
    sharers
        .iter()
        .find(|s| s.zones.contains(zone) && vnet.is_some() && s.vnet.as_ref() == vnet)
}
