//! Microsoft.HybridCompute: private link scopes, their connections and link resources, machines.

use super::{ConnectionState, Extra, Resource, SubResource, WriteModel, lenient_id};
use crate::azure::id::ResourceId;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

pub type PrivateLinkScope = Resource<PrivateLinkScopeProperties>;
pub type PrivateEndpointConnection = Resource<PrivateEndpointConnectionProperties>;
pub type PrivateLinkResource = Resource<PrivateLinkResourceProperties>;
pub type Machine = Resource<MachineProperties>;

model! {
    pub struct PrivateLinkScopeProperties {
        pub public_network_access: Option<String>,
        /// Read-only.
        pub provisioning_state: Option<String>,
        /// Read-only: the scope's GUID used by the onboarding script.
        pub private_link_scope_id: Option<String>,
        /// Read-only.
        pub private_endpoint_connections: Option<Vec<PrivateEndpointConnection>>,
        /// Public network access per Azure Arc extension (newer api-versions; a server default
        /// when a request does not send it, reference/arm-behaviours.md 14).
        pub service_extensions: Option<Vec<ServiceExtension>>,
    }
}

read_only!(PrivateLinkScopeProperties {
    provisioning_state,
    private_link_scope_id,
    private_endpoint_connections
});

model! {
    /// An entry of a scope's `properties.serviceExtensions`: whether one Azure Arc extension may
    /// use public endpoints.
    pub struct ServiceExtension {
        /// E.g. `SQL`.
        pub service_extension_type: Option<String>,
        /// `Enabled` or `Disabled`.
        pub service_extension_public_network_access: Option<String>,
    }
}

model! {
    pub struct PrivateEndpointConnectionProperties {
        pub private_endpoint: Option<SubResource>,
        pub private_link_service_connection_state: Option<ConnectionState>,
        /// Read-only.
        pub group_ids: Option<Vec<String>>,
        /// Read-only.
        pub provisioning_state: Option<String>,
    }
}

impl WriteModel for PrivateEndpointConnectionProperties {
    fn for_write(&self) -> Self {
        PrivateEndpointConnectionProperties {
            private_endpoint: self.private_endpoint.clone(),
            private_link_service_connection_state: self
                .private_link_service_connection_state
                .as_ref()
                .map(|s| ConnectionState {
                    // actionsRequired is read-only in the HybridCompute spec.
                    actions_required: None,
                    ..s.clone()
                }),
            group_ids: None,
            provisioning_state: None,
            extra: self.extra.clone(),
        }
    }
}

model! {
    /// Read-only resource: what DNS zones a private endpoint to the scope needs.
    pub struct PrivateLinkResourceProperties {
        pub group_id: Option<String>,
        pub required_members: Option<Vec<String>>,
        pub required_zone_names: Option<Vec<String>>,
    }
}

impl WriteModel for PrivateLinkResourceProperties {
    fn for_write(&self) -> Self {
        PrivateLinkResourceProperties::default()
    }
}

model! {
    /// The machine fields arclink reads; everything else stays in `extra`. Machines are only ever
    /// PATCHed with a [`MachineUpdate`], never PUT.
    pub struct MachineProperties {
        #[serde(deserialize_with = "lenient_id")]
        pub private_link_scope_resource_id: Option<ResourceId>,
        pub provisioning_state: Option<String>,
        /// Connected | Disconnected | Error | Expired.
        pub status: Option<String>,
        pub vm_id: Option<String>,
        pub display_name: Option<String>,
        pub os_type: Option<String>,
        pub agent_version: Option<String>,
    }
}

impl WriteModel for MachineProperties {
    fn for_write(&self) -> Self {
        MachineProperties {
            private_link_scope_resource_id: self.private_link_scope_resource_id.clone(),
            extra: Extra::new(),
            ..MachineProperties::default()
        }
    }
}

/// PATCH body for a machine: tags and/or the scope association.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MachineUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<MachineUpdateProperties>,
}

model! {
    pub struct MachineUpdateProperties {
        /// `Some(Some(id))` associates, `Some(None)` sends `null` (dissociates), `None` leaves it.
        #[serde(deserialize_with = "double_option_id")]
        pub private_link_scope_resource_id: Option<Option<ResourceId>>,
    }
}

impl MachineUpdate {
    /// A PATCH setting (or, with `None`, clearing) the machine's private link scope.
    pub fn private_link_scope(scope: Option<ResourceId>) -> MachineUpdate {
        MachineUpdate {
            tags: None,
            properties: Some(MachineUpdateProperties {
                private_link_scope_resource_id: Some(scope),
                extra: Extra::new(),
            }),
        }
    }
}

fn double_option_id<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ResourceId>>, D::Error> {
    lenient_id(d).map(Some)
}
