//! Microsoft.Insights: Azure Monitor private link scopes and their scoped resources.

use super::{PrivateEndpointConnection, Resource};

pub type MonitorPrivateLinkScope = Resource<MonitorPrivateLinkScopeProperties>;
pub type ScopedResource = Resource<ScopedResourceProperties>;

model! {
    pub struct MonitorPrivateLinkScopeProperties {
        /// Required by the spec on every PUT.
        pub access_mode_settings: Option<AccessModeSettings>,
        /// Read-only.
        pub provisioning_state: Option<String>,
        /// Read-only.
        pub private_endpoint_connections: Option<Vec<PrivateEndpointConnection>>,
    }
}

read_only!(MonitorPrivateLinkScopeProperties {
    provisioning_state,
    private_endpoint_connections
});

model! {
    /// The default access modes of the scope's endpoints and the exceptions per connection.
    pub struct AccessModeSettings {
        /// `Open` or `PrivateOnly`.
        pub query_access_mode: Option<String>,
        /// `Open` or `PrivateOnly`.
        pub ingestion_access_mode: Option<String>,
        pub exclusions: Option<Vec<AccessModeSettingsExclusion>>,
    }
}

model! {
    /// Access modes of one private endpoint connection.
    pub struct AccessModeSettingsExclusion {
        pub private_endpoint_connection_name: Option<String>,
        pub query_access_mode: Option<String>,
        pub ingestion_access_mode: Option<String>,
    }
}

model! {
    pub struct ScopedResourceProperties {
        /// The linked Azure Monitor resource.
        pub linked_resource_id: Option<String>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

read_only!(ScopedResourceProperties { provisioning_state });
