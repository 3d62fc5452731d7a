//! Microsoft.Authorization private links: resource management private links (in a resource
//! group) and their private link associations (at a management group).

use super::Resource;

pub type ResourceManagementPrivateLink = Resource<ResourceManagementPrivateLinkProperties>;
pub type PrivateLinkAssociation = Resource<PrivateLinkAssociationProperties>;

model! {
    pub struct ResourceManagementPrivateLinkProperties {
        /// Read-only. The spec types the entries as strings but the service returns connection
        /// objects (Azure/azure-rest-api-specs#29885): kept untyped, decoded entry by entry.
        pub private_endpoint_connections: Option<Vec<serde_json::Value>>,
    }
}

read_only!(ResourceManagementPrivateLinkProperties {
    private_endpoint_connections
});

model! {
    pub struct PrivateLinkAssociationProperties {
        /// The resource management private link's id (the spec's examples put a GUID here, so
        /// it is not parsed as an id).
        pub private_link: Option<String>,
        /// `Enabled`: Azure cannot disable public access through an association.
        pub public_network_access: Option<String>,
        /// Read-only.
        #[serde(rename = "tenantID")]
        pub tenant_id: Option<String>,
        /// Read-only: the management group.
        pub scope: Option<String>,
    }
}

read_only!(PrivateLinkAssociationProperties { tenant_id, scope });
