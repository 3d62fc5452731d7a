//! Microsoft.Network/privateDnsZones: zones, virtual network links, A record sets.

use super::{Extra, Resource, SubResource, WriteModel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type PrivateDnsZone = Resource<PrivateDnsZoneProperties>;
pub type VirtualNetworkLink = Resource<VirtualNetworkLinkProperties>;
pub type ARecordSet = Resource<RecordSetProperties>;

/// A zone's properties are all computed by ARM; a PUT body carries only location and tags.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDnsZoneProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_record_sets: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_virtual_network_links: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for PrivateDnsZoneProperties {
    fn for_write(&self) -> Self {
        PrivateDnsZoneProperties::default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkLinkProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_network: Option<SubResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_policy: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_network_link_state: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for VirtualNetworkLinkProperties {
    fn for_write(&self) -> Self {
        VirtualNetworkLinkProperties {
            virtual_network_link_state: None,
            provisioning_state: None,
            ..self.clone()
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RecordSetProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_records: Option<Vec<ARecord>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_auto_registered: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for RecordSetProperties {
    fn for_write(&self) -> Self {
        RecordSetProperties {
            fqdn: None,
            is_auto_registered: None,
            ..self.clone()
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ARecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
