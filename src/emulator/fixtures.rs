use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::EmulatorError;

/// Seed data: what exists in "Azure" before arclink runs. Loaded from YAML (`--fixtures`), from
/// [`super::Admin::load_fixtures`] or `POST /_emulator/fixtures`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Fixtures {
    pub subscriptions: Vec<SubscriptionFixture>,
    pub resource_groups: Vec<ResourceGroupFixture>,
    /// Network security groups with their rules; subnets name them to attach them.
    pub network_security_groups: Vec<NetworkSecurityGroupFixture>,
    pub virtual_networks: Vec<VirtualNetworkFixture>,
    pub machines: Vec<MachineFixture>,
    /// Generated machines for scale tests: `{prefix}-00000` .. `{prefix}-{count-1}`.
    pub machine_sets: Vec<MachineSetFixture>,
    /// Service principals the token endpoint accepts; empty accepts any client id and secret.
    pub principals: Vec<PrincipalFixture>,
    /// The targets of the companion endpoints (issue 21), seeded: arclink never creates them.
    pub key_vaults: Vec<SeededFixture>,
    pub storage_accounts: Vec<SeededFixture>,
    pub automation_accounts: Vec<SeededFixture>,
    pub log_analytics_workspaces: Vec<SeededFixture>,
    pub data_collection_endpoints: Vec<SeededFixture>,
    /// Management groups, for private link associations.
    pub management_groups: Vec<ManagementGroupFixture>,
    /// Built-in roles held by principals at management groups.
    pub role_assignments: Vec<RoleAssignmentFixture>,
}

/// A resource the fixtures seed in a resource group: a vault, storage account, Automation
/// account, Log Analytics workspace or data collection endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeededFixture {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Storage accounts only: the SKU name (default `Standard_LRS`); a read-access
    /// geo-redundant one (`Standard_RAGRS`) has the `*_secondary` groups too.
    pub sku: Option<String>,
    /// Properties over the defaults of the service's GET example (a workspace's
    /// `customerId`, a vault's `publicNetworkAccess`, ...).
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagementGroupFixture {
    pub name: String,
    pub display_name: Option<String>,
    /// The parent group's name; none for the root group.
    pub parent: Option<String>,
    /// Default: the first principal's tenant.
    pub tenant_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignmentFixture {
    /// The principal's client id (the identity the emulator knows a caller by).
    pub principal_id: String,
    /// `Owner`, `Contributor` or `Reader`.
    pub role: String,
    /// A management group id (`/providers/Microsoft.Management/managementGroups/{name}`).
    pub scope: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionFixture {
    pub id: String,
    pub display_name: Option<String>,
    pub tenant_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroupFixture {
    pub subscription_id: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VirtualNetworkFixture {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub address_prefixes: Vec<String>,
    #[serde(default)]
    pub subnets: Vec<SubnetFixture>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubnetFixture {
    pub name: String,
    pub address_prefix: String,
    /// The network security group attached to the subnet: a name in the virtual network's
    /// resource group, or a full id.
    pub network_security_group: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSecurityGroupFixture {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Rules as a PUT of `securityRules/{name}` sends them (validated the same way).
    #[serde(default)]
    pub security_rules: Vec<SecurityRuleFixture>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityRuleFixture {
    pub name: String,
    /// `protocol`, `access`, `priority`, `direction`, address prefixes and port ranges,
    /// `description`.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MachineFixture {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Agent status as ARM reports it: Connected, Disconnected, Error, Expired.
    #[serde(default = "connected")]
    pub status: String,
    pub private_link_scope_resource_id: Option<String>,
    /// Agent-reported properties (`agentVersion`, `osName`, `osProfile`, ...) over the
    /// defaults of the official Machines_Get example.
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MachineSetFixture {
    pub subscription_id: String,
    pub resource_group: String,
    pub prefix: String,
    pub count: usize,
    pub location: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default = "connected")]
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalFixture {
    pub tenant_id: String,
    pub client_id: String,
    /// `None` accepts a client assertion (workload identity) instead of a secret.
    pub client_secret: Option<String>,
}

fn connected() -> String {
    "Connected".to_string()
}

impl Fixtures {
    pub fn from_yaml(s: &str) -> Result<Fixtures, EmulatorError> {
        serde_saphyr::from_str(s).map_err(|e| EmulatorError::Fixtures(e.to_string()))
    }

    pub fn from_file(p: &Path) -> Result<Fixtures, EmulatorError> {
        let text = std::fs::read_to_string(p).map_err(|source| EmulatorError::Read {
            path: p.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text).map_err(|e| EmulatorError::Fixtures(format!("{}: {e}", p.display())))
    }

    /// The explicit machines followed by every generated one.
    pub fn all_machines(&self) -> impl Iterator<Item = MachineFixture> + '_ {
        let generated = self.machine_sets.iter().flat_map(|set| {
            (0..set.count).map(move |i| MachineFixture {
                subscription_id: set.subscription_id.clone(),
                resource_group: set.resource_group.clone(),
                name: format!("{}-{i:05}", set.prefix),
                location: set.location.clone(),
                tags: set.tags.clone(),
                status: set.status.clone(),
                private_link_scope_resource_id: None,
                properties: serde_json::Map::new(),
            })
        });
        self.machines.iter().cloned().chain(generated)
    }
}
