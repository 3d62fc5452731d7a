//! Microsoft.Network: private endpoints, their DNS zone groups, virtual networks and subnets,
//! network security groups and their security rules.

use super::{ConnectionState, Extra, Resource, SubResource, WriteModel, lenient_id};
use crate::azure::id::ResourceId;
use serde::{Deserialize, Serialize};

pub type PrivateEndpoint = Resource<PrivateEndpointProperties>;
pub type PrivateDnsZoneGroup = Resource<PrivateDnsZoneGroupProperties>;
pub type VirtualNetwork = Resource<VirtualNetworkProperties>;
pub type NetworkInterface = Resource<NetworkInterfaceProperties>;
pub type Subnet = Resource<SubnetProperties>;
pub type NetworkSecurityGroup = Resource<NetworkSecurityGroupProperties>;
/// A security rule as `securityRules/{name}` returns it (a sub-resource: no location or tags).
pub type SecurityRule = Resource<SecurityRuleProperties>;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<SubResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_connections: Option<Vec<PrivateLinkServiceConnection>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_private_link_service_connections: Option<Vec<PrivateLinkServiceConnection>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_network_interface_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_dns_configs: Option<Vec<CustomDnsConfig>>,
    /// Read-only; kept as raw JSON because arclink never reads it (and ARM's own examples
    /// carry malformed ids here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interfaces: Option<Vec<serde_json::Value>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkServiceConnection {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub id: Option<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PrivateLinkServiceConnectionProperties>,
    #[serde(flatten)]
    pub extra: Extra,
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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkServiceConnectionProperties {
    /// For Arc: the private link scope's id.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub private_link_service_id: Option<ResourceId>,
    /// For Arc: `["hybridcompute"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_message: Option<String>,
    /// Set by the service provider side; read-only here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_connection_state: Option<ConnectionState>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomDnsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDnsZoneGroupProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_zone_configs: Option<Vec<PrivateDnsZoneConfig>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDnsZoneConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PrivateDnsZoneConfigProperties>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDnsZoneConfigProperties {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub private_dns_zone_id: Option<ResourceId>,
    /// Read-only: the A records the zone group maintains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_sets: Option<Vec<RecordSetInfo>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RecordSetInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_set_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_space: Option<AddressSpace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<Subnet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for VirtualNetworkProperties {
    fn for_write(&self) -> Self {
        VirtualNetworkProperties {
            provisioning_state: None,
            ..self.clone()
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AddressSpace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefixes: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SubnetProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_prefixes: Option<Vec<String>>,
    /// Enabled | Disabled | NetworkSecurityGroupEnabled | RouteTableEnabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_network_policies: Option<String>,
    /// The network security group attached to the subnet, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_security_group: Option<SubResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for SubnetProperties {
    fn for_write(&self) -> Self {
        SubnetProperties {
            provisioning_state: None,
            ..self.clone()
        }
    }
}

/// The read-only network interface Network creates for a private endpoint: its IP
/// configurations carry the private IPs and the FQDNs each serves.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInterfaceProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_configurations: Option<Vec<NicIpConfiguration>>,
    /// The private endpoint the NIC belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint: Option<SubResource>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for NetworkInterfaceProperties {
    fn for_write(&self) -> Self {
        self.clone()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NicIpConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<NicIpConfigurationProperties>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NicIpConfigurationProperties {
    #[serde(
        default,
        rename = "privateIPAddress",
        skip_serializing_if = "Option::is_none"
    )]
    pub private_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_connection_properties: Option<PrivateLinkConnectionProperties>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkConnectionProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_member_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdns: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A network security group: its rules come with it (`securityRules`), as do Azure's
/// `defaultSecurityRules` (priorities 65000-65500, read-only).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSecurityGroupProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_rules: Option<Vec<SecurityRule>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_security_rules: Option<Vec<SecurityRule>>,
    /// Read-only: the subnets the group is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<SubResource>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for NetworkSecurityGroupProperties {
    fn for_write(&self) -> Self {
        NetworkSecurityGroupProperties {
            // Rules embedded in a group keep their names (a group PUT replaces all of them;
            // arclink writes rules one by one instead).
            security_rules: self.security_rules.clone(),
            default_security_rules: None,
            subnets: None,
            provisioning_state: None,
            extra: self.extra.clone(),
        }
    }
}

/// A security rule's properties (`SecurityRulePropertiesFormat`): protocol, access, priority
/// and direction are required; a rule names its addresses and ports either in the singular
/// field or in the plural list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRuleProperties {
    /// At most 140 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tcp | Udp | Icmp | Esp | Ah | `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port_range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port_ranges: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_port_range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_port_ranges: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address_prefixes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_address_prefixes: Option<Vec<String>>,
    /// Allow | Deny.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// 100-4096; unique per direction within a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Inbound | Outbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Application security groups and what else arclink does not read.
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for SecurityRuleProperties {
    fn for_write(&self) -> Self {
        SecurityRuleProperties {
            provisioning_state: None,
            ..self.clone()
        }
    }
}
