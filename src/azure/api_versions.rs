//! The api-version arclink sends to each resource provider (DESIGN.md section 5).

use crate::azure::error::ArmError;

/// api-version per provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersions {
    pub hybrid_compute: String,
    pub network: String,
    /// `Microsoft.Network/privateDnsZones` and everything below it.
    pub private_dns: String,
    /// `Microsoft.Resources` (subscriptions, resource groups).
    pub resources: String,
}

/// The newest stable api-versions of the specs arclink is built against (DESIGN.md 5): a
/// GET-modify-PUT with an older version can drop properties a newer client set, such as a
/// scope's `serviceExtensions` (reference/arm-behaviours.md 14).
pub const HYBRID_COMPUTE_API_VERSION: &str = "2026-09-01";
pub const NETWORK_API_VERSION: &str = "2025-07-01";
pub const PRIVATE_DNS_API_VERSION: &str = "2024-06-01";

impl Default for ApiVersions {
    fn default() -> Self {
        ApiVersions {
            hybrid_compute: HYBRID_COMPUTE_API_VERSION.to_string(),
            network: NETWORK_API_VERSION.to_string(),
            private_dns: PRIVATE_DNS_API_VERSION.to_string(),
            resources: "2021-04-01".to_string(),
        }
    }
}

impl ApiVersions {
    /// The api-version for a full resource type such as `Microsoft.Network/virtualNetworks/subnets`.
    pub fn for_type(&self, resource_type: &str) -> Result<&str, ArmError> {
        let t = resource_type.to_ascii_lowercase();
        if t.starts_with("microsoft.hybridcompute/") {
            Ok(&self.hybrid_compute)
        } else if t.starts_with("microsoft.network/privatednszones") {
            Ok(&self.private_dns)
        } else if t.starts_with("microsoft.network/") {
            Ok(&self.network)
        } else if t.starts_with("microsoft.resources/") {
            Ok(&self.resources)
        } else {
            Err(ArmError::Config(format!(
                "no api-version configured for resource type '{resource_type}'"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_per_provider() {
        let v = ApiVersions::default();
        assert_eq!(
            v.for_type("Microsoft.HybridCompute/machines").unwrap(),
            "2026-09-01"
        );
        assert_eq!(
            v.for_type("microsoft.network/virtualNetworks/subnets")
                .unwrap(),
            "2025-07-01"
        );
        assert_eq!(
            v.for_type("Microsoft.Network/privateDnsZones/A").unwrap(),
            "2024-06-01"
        );
        assert_eq!(
            v.for_type("Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
                .unwrap(),
            "2025-07-01"
        );
        assert!(v.for_type("Microsoft.Compute/virtualMachines").is_err());
    }
}
