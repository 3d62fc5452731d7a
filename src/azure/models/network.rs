//! Microsoft.Network: private endpoints, their DNS zone groups, virtual networks and subnets,
//! network security groups and their security rules.

use super::{ConnectionState, Named, Resource, SubResource, WriteModel, lenient_id};
use crate::azure::id::ResourceId;

pub type PrivateEndpoint = Resource<PrivateEndpointProperties>;
pub type PrivateDnsZoneGroup = Resource<PrivateDnsZoneGroupProperties>;
pub type VirtualNetwork = Resource<VirtualNetworkProperties>;
pub type NetworkInterface = Resource<NetworkInterfaceProperties>;
pub type Subnet = Resource<SubnetProperties>;
pub type NetworkSecurityGroup = Resource<NetworkSecurityGroupProperties>;
/// A security rule as `securityRules/{name}` returns it (a sub-resource: no location or tags).
pub type SecurityRule = Resource<SecurityRuleProperties>;

model! {
    pub struct PrivateEndpointProperties {
        pub subnet: Option<SubResource>,
        pub private_link_service_connections: Option<Vec<PrivateLinkServiceConnection>>,
        pub manual_private_link_service_connections: Option<Vec<PrivateLinkServiceConnection>>,
        pub custom_network_interface_name: Option<String>,
        pub custom_dns_configs: Option<Vec<CustomDnsConfig>>,
        /// Read-only; kept as raw JSON because arclink never reads it (and ARM's own examples
        /// carry malformed ids here).
        pub network_interfaces: Option<Vec<serde_json::Value>>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

impl WriteModel for PrivateEndpointProperties {
    fn for_write(&self) -> Self {
        let conns = |v: &Option<Vec<PrivateLinkServiceConnection>>| {
            v.as_ref().map(|v| {
                v.iter()
                    .map(PrivateLinkServiceConnection::for_write)
                    .collect()
            })
        };
        PrivateEndpointProperties {
            subnet: self.subnet.clone(),
            private_link_service_connections: conns(&self.private_link_service_connections),
            manual_private_link_service_connections: conns(
                &self.manual_private_link_service_connections,
            ),
            custom_network_interface_name: self.custom_network_interface_name.clone(),
            custom_dns_configs: self.custom_dns_configs.clone(),
            network_interfaces: None,
            provisioning_state: None,
            extra: self.extra.clone(),
        }
    }
}

model! {
    pub struct PrivateLinkServiceConnection {
        #[serde(deserialize_with = "lenient_id")]
        pub id: Option<ResourceId>,
        pub name: Option<String>,
        pub properties: Option<PrivateLinkServiceConnectionProperties>,
    }
}

impl PrivateLinkServiceConnection {
    /// The connection exactly as read, minus what is read-only. Network refuses any change of
    /// an existing connection, its name and current approval state included
    /// (`CannotChangePrivateLinkConnectionOnPrivateEndpoint`), so a PUT re-sends it like this.
    fn for_write(&self) -> Self {
        let mut extra = self.extra.clone();
        extra.remove("etag");
        extra.remove("type");
        PrivateLinkServiceConnection {
            id: None,
            name: self.name(),
            properties: self
                .properties
                .as_ref()
                .map(|p| PrivateLinkServiceConnectionProperties {
                    provisioning_state: None,
                    ..p.clone()
                }),
            extra,
        }
    }

    /// The connection's name; ARM's own examples sometimes carry it only in the id.
    pub fn name(&self) -> Option<String> {
        self.name
            .clone()
            .or_else(|| self.id.as_ref().map(|id| id.name().to_string()))
    }
}

model! {
    pub struct PrivateLinkServiceConnectionProperties {
        /// For Arc: the private link scope's id.
        #[serde(deserialize_with = "lenient_id")]
        pub private_link_service_id: Option<ResourceId>,
        /// For Arc: `["hybridcompute"]`.
        pub group_ids: Option<Vec<String>>,
        pub request_message: Option<String>,
        /// Set by the service provider side; read-only here.
        pub private_link_service_connection_state: Option<ConnectionState>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

model! {
    pub struct CustomDnsConfig {
        pub fqdn: Option<String>,
        pub ip_addresses: Option<Vec<String>>,
    }
}

model! {
    pub struct PrivateDnsZoneGroupProperties {
        pub private_dns_zone_configs: Option<Vec<PrivateDnsZoneConfig>>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

impl WriteModel for PrivateDnsZoneGroupProperties {
    fn for_write(&self) -> Self {
        PrivateDnsZoneGroupProperties {
            private_dns_zone_configs: self.private_dns_zone_configs.as_ref().map(|v| {
                v.iter()
                    .map(|c| PrivateDnsZoneConfig {
                        properties: c
                            .properties
                            .as_ref()
                            .map(|p| PrivateDnsZoneConfigProperties {
                                record_sets: None,
                                ..p.clone()
                            }),
                        ..c.clone()
                    })
                    .collect()
            }),
            provisioning_state: None,
            extra: self.extra.clone(),
        }
    }
}

/// One private DNS zone of a zone group.
pub type PrivateDnsZoneConfig = Named<PrivateDnsZoneConfigProperties>;

model! {
    pub struct PrivateDnsZoneConfigProperties {
        #[serde(deserialize_with = "lenient_id")]
        pub private_dns_zone_id: Option<ResourceId>,
        /// Read-only: the A records the zone group maintains.
        pub record_sets: Option<Vec<RecordSetInfo>>,
    }
}

model! {
    pub struct RecordSetInfo {
        pub record_type: Option<String>,
        pub record_set_name: Option<String>,
        pub fqdn: Option<String>,
        pub ip_addresses: Option<Vec<String>>,
    }
}

model! {
    pub struct VirtualNetworkProperties {
        pub address_space: Option<AddressSpace>,
        pub subnets: Option<Vec<Subnet>>,
        pub provisioning_state: Option<String>,
    }
}

read_only!(VirtualNetworkProperties { provisioning_state });

model! {
    pub struct AddressSpace {
        pub address_prefixes: Option<Vec<String>>,
    }
}

model! {
    pub struct SubnetProperties {
        pub address_prefix: Option<String>,
        pub address_prefixes: Option<Vec<String>>,
        /// Enabled | Disabled | NetworkSecurityGroupEnabled | RouteTableEnabled.
        pub private_endpoint_network_policies: Option<String>,
        /// The network security group attached to the subnet, if any.
        pub network_security_group: Option<SubResource>,
        pub provisioning_state: Option<String>,
    }
}

read_only!(SubnetProperties { provisioning_state });

model! {
    /// The read-only network interface Network creates for a private endpoint: its IP
    /// configurations carry the private IPs and the FQDNs each serves.
    pub struct NetworkInterfaceProperties {
        pub ip_configurations: Option<Vec<NicIpConfiguration>>,
        /// The private endpoint the NIC belongs to, if any.
        pub private_endpoint: Option<SubResource>,
    }
}

read_only!(NetworkInterfaceProperties {});

/// One IP configuration of a network interface.
pub type NicIpConfiguration = Named<NicIpConfigurationProperties>;

model! {
    pub struct NicIpConfigurationProperties {
        #[serde(rename = "privateIPAddress")]
        pub private_ip_address: Option<String>,
        pub private_link_connection_properties: Option<PrivateLinkConnectionProperties>,
    }
}

model! {
    pub struct PrivateLinkConnectionProperties {
        pub group_id: Option<String>,
        pub required_member_name: Option<String>,
        pub fqdns: Option<Vec<String>>,
    }
}

model! {
    /// A network security group: its rules come with it (`securityRules`), as do Azure's
    /// `defaultSecurityRules` (priorities 65000-65500, read-only).
    pub struct NetworkSecurityGroupProperties {
        pub security_rules: Option<Vec<SecurityRule>>,
        /// Read-only.
        pub default_security_rules: Option<Vec<SecurityRule>>,
        /// Read-only: the subnets the group is attached to.
        pub subnets: Option<Vec<SubResource>>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

// Rules embedded in a group keep their names (a group PUT replaces all of them; arclink writes
// rules one by one instead).
read_only!(NetworkSecurityGroupProperties {
    default_security_rules,
    subnets,
    provisioning_state
});

model! {
    /// A security rule's properties (`SecurityRulePropertiesFormat`): protocol, access, priority
    /// and direction are required; a rule names its addresses and ports either in the singular
    /// field or in the plural list. Application security groups and what else arclink does not
    /// read stay in `extra`.
    pub struct SecurityRuleProperties {
        /// At most 140 characters.
        pub description: Option<String>,
        /// Tcp | Udp | Icmp | Esp | Ah | `*`.
        pub protocol: Option<String>,
        pub source_port_range: Option<String>,
        pub source_port_ranges: Option<Vec<String>>,
        pub destination_port_range: Option<String>,
        pub destination_port_ranges: Option<Vec<String>>,
        pub source_address_prefix: Option<String>,
        pub source_address_prefixes: Option<Vec<String>>,
        pub destination_address_prefix: Option<String>,
        pub destination_address_prefixes: Option<Vec<String>>,
        /// Allow | Deny.
        pub access: Option<String>,
        /// 100-4096; unique per direction within a group.
        pub priority: Option<i64>,
        /// Inbound | Outbound.
        pub direction: Option<String>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

read_only!(SecurityRuleProperties { provisioning_state });
