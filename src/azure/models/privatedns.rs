//! Microsoft.Network/privateDnsZones: zones, virtual network links, A record sets.

use super::{Resource, SubResource, WriteModel};
use std::collections::BTreeMap;

pub type PrivateDnsZone = Resource<PrivateDnsZoneProperties>;
pub type VirtualNetworkLink = Resource<VirtualNetworkLinkProperties>;
pub type ARecordSet = Resource<RecordSetProperties>;

model! {
    /// A zone's properties are all computed by ARM; a PUT body carries only location and tags.
    pub struct PrivateDnsZoneProperties {
        pub provisioning_state: Option<String>,
        pub number_of_record_sets: Option<i64>,
        pub number_of_virtual_network_links: Option<i64>,
    }
}

impl WriteModel for PrivateDnsZoneProperties {
    fn for_write(&self) -> Self {
        PrivateDnsZoneProperties::default()
    }
}

model! {
    pub struct VirtualNetworkLinkProperties {
        pub virtual_network: Option<SubResource>,
        pub registration_enabled: Option<bool>,
        pub resolution_policy: Option<String>,
        /// Read-only.
        pub virtual_network_link_state: Option<String>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

read_only!(VirtualNetworkLinkProperties {
    virtual_network_link_state,
    provisioning_state
});

model! {
    pub struct RecordSetProperties {
        pub metadata: Option<BTreeMap<String, String>>,
        pub ttl: Option<i64>,
        pub a_records: Option<Vec<ARecord>>,
        /// Read-only.
        pub fqdn: Option<String>,
        /// Read-only.
        pub is_auto_registered: Option<bool>,
    }
}

read_only!(RecordSetProperties {
    fqdn,
    is_auto_registered
});

model! {
    pub struct ARecord {
        pub ipv4_address: Option<String>,
    }
}
