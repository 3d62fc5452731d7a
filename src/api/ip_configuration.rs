//! `ArcPrivateEndpoint.spec.ipConfigurations` and `spec.networkInterfaceName`: static private
//! addresses, one per required member of the target's group (Azure's `ipConfigurations`), and
//! the endpoint's network interface name (`customNetworkInterfaceName`). Both are immutable.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// An IPv4 address in dotted decimal, each octet 0-255 without leading zeros.
pub const IPV4_PATTERN: &str = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$";
/// A member of a private link resource's group (`HybridCompute.Server`, `GuestConfig.DP`,
/// `default`, `oms-<workspace id>`).
pub const MEMBER_NAME_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// Neither field may be added, removed or changed once the endpoint exists: Azure keeps a
/// private endpoint's addresses and network interface name for its lifetime.
pub const IP_CONFIGURATIONS_IMMUTABLE: &str = "has(self.spec.ipConfigurations) == has(oldSelf.spec.ipConfigurations) && (!has(self.spec.ipConfigurations) || self.spec.ipConfigurations == oldSelf.spec.ipConfigurations)";
pub const IP_CONFIGURATIONS_IMMUTABLE_MESSAGE: &str = "spec.ipConfigurations is immutable: a private endpoint keeps its static addresses; delete this ArcPrivateEndpoint and create a new one";
pub const NETWORK_INTERFACE_NAME_IMMUTABLE: &str = "has(self.spec.networkInterfaceName) == has(oldSelf.spec.networkInterfaceName) && (!has(self.spec.networkInterfaceName) || self.spec.networkInterfaceName == oldSelf.spec.networkInterfaceName)";
pub const NETWORK_INTERFACE_NAME_IMMUTABLE_MESSAGE: &str = "spec.networkInterfaceName is immutable: Azure cannot rename a private endpoint's network interface (NameOfExistingPrivateEndpointNicCannotBeChanged)";
/// Member names compare without case in Azure: one entry each.
pub const MEMBERS_UNIQUE_RULE: &str =
    "self.all(c, self.exists_one(o, o.memberName.lowerAscii() == c.memberName.lowerAscii()))";
pub const MEMBERS_UNIQUE_MESSAGE: &str =
    "spec.ipConfigurations names a member twice: one static address per member";

/// The static address of one member of the target's group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct IpConfiguration {
    /// The member (`requiredMembers` of the group's private link resource), e.g.
    /// `HybridCompute.Server`.
    #[schemars(regex(pattern = MEMBER_NAME_PATTERN), length(min = 1, max = 128))]
    pub member_name: String,
    /// Its address: a free address of the endpoint's subnet, not among the subnet's first four
    /// or its last (Azure keeps those).
    #[serde(rename = "privateIPAddress")]
    #[schemars(regex(pattern = IPV4_PATTERN), length(min = 7, max = 15))]
    pub private_ip_address: String,
}
