//! Microsoft.HybridCompute: private link scopes, their connections and link resources, machines.

use super::{ConnectionState, Extra, Resource, SubResource, WriteModel, lenient_id};
use crate::azure::id::ResourceId;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

pub type PrivateLinkScope = Resource<PrivateLinkScopeProperties>;
pub type PrivateEndpointConnection = Resource<PrivateEndpointConnectionProperties>;
pub type PrivateLinkResource = Resource<PrivateLinkResourceProperties>;
pub type Machine = Resource<MachineProperties>;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkScopeProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Read-only: the scope's GUID used by the onboarding script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_scope_id: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_connections: Option<Vec<PrivateEndpointConnection>>,
    /// Public network access per Azure Arc extension (newer api-versions; a server default
    /// when a request does not send it, reference/arm-behaviours.md 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_extensions: Option<Vec<ServiceExtension>>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for PrivateLinkScopeProperties {
    fn for_write(&self) -> Self {
        PrivateLinkScopeProperties {
            public_network_access: self.public_network_access.clone(),
            provisioning_state: None,
            private_link_scope_id: None,
            private_endpoint_connections: None,
            service_extensions: self.service_extensions.clone(),
            extra: self.extra.clone(),
        }
    }
}

/// An entry of a scope's `properties.serviceExtensions`: whether one Azure Arc extension may
/// use public endpoints.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceExtension {
    /// E.g. `SQL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_extension_type: Option<String>,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_extension_public_network_access: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointConnectionProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint: Option<SubResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_link_service_connection_state: Option<ConnectionState>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<String>>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
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

/// Read-only resource: what DNS zones a private endpoint to the scope needs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkResourceProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_members: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_zone_names: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl WriteModel for PrivateLinkResourceProperties {
    fn for_write(&self) -> Self {
        PrivateLinkResourceProperties::default()
    }
}

/// The machine fields arclink reads; everything else stays in `extra`. Machines are only ever
/// PATCHed with a [`MachineUpdate`], never PUT.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MachineProperties {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub private_link_scope_resource_id: Option<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Connected | Disconnected | Error | Expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
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
#[serde(rename_all = "camelCase")]
pub struct MachineUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<MachineUpdateProperties>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MachineUpdateProperties {
    /// `Some(Some(id))` associates, `Some(None)` sends `null` (dissociates), `None` leaves it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option_id"
    )]
    pub private_link_scope_resource_id: Option<Option<ResourceId>>,
    #[serde(flatten)]
    pub extra: Extra,
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
