//! The api-version arclink sends for each resource type (DESIGN.md section 5).
//!
//! Microsoft.Resources types have fixed, spec-backed versions. For the others arclink supports
//! a set of versions per type: its default (the newest stable of the specs it is built
//! against) and the older ones whose shapes it handles. Which one it sends is negotiated per
//! subscription (`GET /subscriptions/{s}/providers/{namespace}`, [`NEGOTIATION`]): the newest
//! version both listed by Azure for the type and supported by arclink, so that a region or
//! cloud that does not serve arclink's default yet does not stall every object. A flag that
//! pins a provider's version wins over the negotiation.

use std::collections::HashMap;

use crate::azure::error::ArmError;

/// The newest stable api-versions of the specs arclink is built against (DESIGN.md 5): a
/// GET-modify-PUT with an older version can drop properties a newer client set, such as a
/// scope's `serviceExtensions` (reference/arm-behaviours.md 14).
pub const HYBRID_COMPUTE_API_VERSION: &str = "2026-09-01";
pub const NETWORK_API_VERSION: &str = "2025-07-01";
pub const PRIVATE_DNS_API_VERSION: &str = "2024-06-01";
/// `Microsoft.Insights/privateLinkScopes` (Azure Monitor) and everything below it.
pub const INSIGHTS_SCOPES_API_VERSION: &str = "2021-09-01";

/// `Microsoft.Resources/subscriptions`: the Subscriptions spec's newest stable version (its
/// readme's default `package-2022-12`; 2021-04-01 is a Resources version, not in that spec).
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// Resource groups and resource providers: the Resources readme's default
/// (`package-resources-2025-04`).
pub const RESOURCES_API_VERSION: &str = "2025-04-01";

/// Resource management private links and private link associations: the privateLinks spec's
/// only version. Fixed rather than negotiated: an association lies below a management group,
/// where there is no subscription whose provider list could be read.
pub const AUTHORIZATION_PRIVATE_LINKS_API_VERSION: &str = "2020-05-01";

/// The version of `GET /subscriptions/{s}/providers/{namespace}` (`Providers_Get`), which
/// lists each resource type's api-versions.
pub const NEGOTIATION: &str = RESOURCES_API_VERSION;

/// The codes with which a resource provider refuses an api-version it does not serve (in that
/// region): the versions Azure lists are read again.
pub const API_VERSION_REFUSED: [&str; 2] =
    ["NoRegisteredProviderFound", "InvalidApiVersionParameter"];

/// Versions arclink supports per resource type (lower-case prefix), newest first; the first is
/// the default. The first matching prefix applies.
const SUPPORTED: &[(&str, Provider, &[&str])] = &[
    // Only versions with `properties.serviceExtensions`: a PUT with an older one drops the
    // scope's extensions (behaviour 14; the 2025-01-13 examples have none, 2026-07-15's do).
    (
        "microsoft.hybridcompute/privatelinkscopes",
        Provider::HybridCompute,
        &["2026-09-01", "2026-07-15"],
    ),
    // Machines are read and PATCHed (`properties.privateLinkScopeResourceId`, in every stable
    // version since 2020-08-02); a PATCH drops nothing.
    (
        "microsoft.hybridcompute/machines",
        Provider::HybridCompute,
        &[
            "2026-09-01",
            "2026-07-15",
            "2025-01-13",
            "2024-07-10",
            "2022-12-27",
        ],
    ),
    (
        "microsoft.hybridcompute/",
        Provider::HybridCompute,
        &[HYBRID_COMPUTE_API_VERSION],
    ),
    // Azure Monitor private link scopes and their scoped resources: the newest stable
    // (companion-endpoints.md 1.1); not pinned by a flag.
    (
        "microsoft.insights/privatelinkscope",
        Provider::Unpinned,
        &[INSIGHTS_SCOPES_API_VERSION],
    ),
    // Zones, links (arclink sets no `resolutionPolicy`, the one 2024-06-01 addition) and
    // record sets have had the same shape since 2020-06-01.
    (
        "microsoft.network/privatednszones",
        Provider::PrivateDns,
        &[PRIVATE_DNS_API_VERSION, "2020-06-01"],
    ),
    // Private endpoints (with `customNetworkInterfaceName` and `ipConfigurations`), zone
    // groups, subnets and security rules as arclink uses them: unchanged since 2023-09-01.
    (
        "microsoft.network/",
        Provider::Network,
        &[
            NETWORK_API_VERSION,
            "2025-05-01",
            "2025-03-01",
            "2025-01-01",
            "2024-10-01",
            "2024-07-01",
            "2024-05-01",
            "2024-03-01",
            "2024-01-01",
            "2023-11-01",
            "2023-09-01",
        ],
    ),
    // The services an endpoint's `spec.target` names, read only for their private link
    // resources (group ids and required members, the same shape in every stable version):
    // their specs' stable versions (companion-endpoints.md 2-4; tests/azure-specs/SOURCES.md).
    (
        "microsoft.keyvault/vaults",
        Provider::Unpinned,
        &["2026-04-01", "2026-02-01", "2025-05-01", "2024-11-01"],
    ),
    (
        "microsoft.storage/storageaccounts",
        Provider::Unpinned,
        &[
            "2026-09-01",
            "2026-06-01",
            "2026-04-01",
            "2025-08-01",
            "2025-06-01",
        ],
    ),
    (
        "microsoft.automation/automationaccounts",
        Provider::Unpinned,
        &["2024-10-23", "2022-08-08", "2021-06-22"],
    ),
    // Data collection endpoints (read) and Azure Monitor Agent's endpoint associations on
    // machines: the DataCollection spec's stable versions (2024-03-11 is the newest; 2022-06-01
    // the .NET SDK's default), same shapes for what arclink reads and writes.
    (
        "microsoft.insights/datacollection",
        Provider::Unpinned,
        &["2024-03-11", "2023-03-11", "2022-06-01"],
    ),
];

/// The providers whose version a flag may pin (all but `Unpinned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provider {
    HybridCompute,
    Network,
    PrivateDns,
    /// Azure Monitor and the services endpoints target: not pinned by a flag.
    Unpinned,
}

/// Versions pinned by flags, per provider; `None`: negotiated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiVersions {
    pub hybrid_compute: Option<String>,
    pub network: Option<String>,
    /// `Microsoft.Network/privateDnsZones` and everything below it.
    pub private_dns: Option<String>,
}

/// How a type's api-version is decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Choice<'a> {
    /// Fixed or pinned.
    Fixed(&'a str),
    /// Negotiated among these, newest first.
    Among(&'static [&'static str]),
}

impl ApiVersions {
    /// How the api-version of a full resource type (such as
    /// `Microsoft.Network/virtualNetworks/subnets`) is decided.
    pub fn choice(&self, resource_type: &str) -> Result<Choice<'_>, ArmError> {
        let t = resource_type.to_ascii_lowercase();
        if t == "microsoft.resources/subscriptions" {
            return Ok(Choice::Fixed(SUBSCRIPTIONS_API_VERSION));
        }
        if t.starts_with("microsoft.resources/") {
            return Ok(Choice::Fixed(RESOURCES_API_VERSION));
        }
        if t.starts_with("microsoft.authorization/resourcemanagementprivatelinks")
            || t.starts_with("microsoft.authorization/privatelinkassociations")
        {
            return Ok(Choice::Fixed(AUTHORIZATION_PRIVATE_LINKS_API_VERSION));
        }
        let Some((_, provider, versions)) = SUPPORTED.iter().find(|(p, ..)| t.starts_with(p))
        else {
            return Err(ArmError::Config(format!(
                "no api-version configured for resource type '{resource_type}'"
            )));
        };
        let pinned = match provider {
            Provider::HybridCompute => self.hybrid_compute.as_deref(),
            Provider::Network => self.network.as_deref(),
            Provider::PrivateDns => self.private_dns.as_deref(),
            Provider::Unpinned => None,
        };
        Ok(match pinned {
            Some(v) => Choice::Fixed(v),
            None => Choice::Among(versions),
        })
    }
}

/// The api-versions Azure lists for each type of one namespace in one subscription
/// (lower-case type without the namespace, e.g. `virtualnetworks/subnets`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offered {
    pub by_type: HashMap<String, Vec<String>>,
}

/// `Providers_Get`'s answer, as far as arclink reads it.
#[derive(serde::Deserialize)]
pub(super) struct ProviderListing {
    #[serde(rename = "resourceTypes", default)]
    resource_types: Vec<ProviderType>,
}

#[derive(serde::Deserialize)]
struct ProviderType {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(rename = "apiVersions", default)]
    api_versions: Vec<String>,
}

impl From<ProviderListing> for Offered {
    fn from(listing: ProviderListing) -> Offered {
        Offered {
            by_type: listing
                .resource_types
                .into_iter()
                .map(|t| (t.resource_type.to_ascii_lowercase(), t.api_versions))
                .collect(),
        }
    }
}

impl Offered {
    /// What Azure lists for `resource_type`, or for its nearest listed parent type (a child
    /// type such as `virtualNetworks/subnets` may not be listed on its own); `None` when
    /// neither is listed.
    fn for_type(&self, resource_type: &str) -> Option<&[String]> {
        let t = resource_type.to_ascii_lowercase();
        let mut path = t.split_once('/').map(|(_, rest)| rest)?;
        loop {
            if let Some(versions) = self.by_type.get(path) {
                return Some(versions);
            }
            path = path.rsplit_once('/')?.0;
        }
    }
}

/// The newest of `supported` that Azure lists for `resource_type` in `subscription`; the
/// default when Azure's list could not be read (`None`) or names neither the type nor a parent
/// of it; an error naming both lists when they have nothing in common.
pub fn negotiate(
    resource_type: &str,
    subscription: &str,
    supported: &'static [&'static str],
    offered: Option<&Offered>,
) -> Result<&'static str, ArmError> {
    let default = supported.first().copied().unwrap_or(NETWORK_API_VERSION);
    let Some(listed) = offered.and_then(|o| o.for_type(resource_type)) else {
        return Ok(default);
    };
    if let Some(v) = supported
        .iter()
        .find(|v| listed.iter().any(|l| l.eq_ignore_ascii_case(v)))
    {
        return Ok(v);
    }
    Err(ArmError::Terminal {
        status: 400,
        code: "NoSupportedApiVersion".to_string(),
        message: format!(
            "Azure serves {resource_type} in subscription {subscription} with api-versions {} and arclink supports {}: none in common (a newer arclink may support what Azure offers; a flag such as --hybridcompute-api-version pins a version at your own risk)",
            listed.join(", "),
            supported.join(", ")
        ),
        target: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn among(v: &ApiVersions, t: &str) -> &'static [&'static str] {
        match v.choice(t).unwrap() {
            Choice::Among(list) => list,
            other => panic!("{t}: {other:?}"),
        }
    }

    #[test]
    fn defaults_per_type() {
        let v = ApiVersions::default();
        assert_eq!(
            among(&v, "Microsoft.HybridCompute/machines")[0],
            "2026-09-01"
        );
        assert_eq!(
            among(
                &v,
                "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections"
            ),
            ["2026-09-01", "2026-07-15"]
        );
        assert_eq!(
            among(&v, "microsoft.network/virtualNetworks/subnets")[0],
            "2025-07-01"
        );
        assert_eq!(
            among(&v, "Microsoft.Network/privateDnsZones/A")[0],
            "2024-06-01"
        );
        assert_eq!(
            among(
                &v,
                "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
            )[0],
            "2025-07-01"
        );
        assert_eq!(
            v.choice("Microsoft.Resources/subscriptions").unwrap(),
            Choice::Fixed("2022-12-01")
        );
        assert_eq!(
            v.choice("Microsoft.Resources/resourceGroups").unwrap(),
            Choice::Fixed("2025-04-01")
        );
        assert!(v.choice("Microsoft.Compute/virtualMachines").is_err());
    }

    #[test]
    fn a_pinned_version_wins() {
        let v = ApiVersions {
            hybrid_compute: Some("2024-07-10".into()),
            ..ApiVersions::default()
        };
        assert_eq!(
            v.choice("Microsoft.HybridCompute/privateLinkScopes")
                .unwrap(),
            Choice::Fixed("2024-07-10")
        );
        assert_eq!(
            among(&v, "Microsoft.Network/privateEndpoints")[0],
            "2025-07-01"
        );
    }

    fn offered(pairs: &[(&str, &[&str])]) -> Offered {
        Offered {
            by_type: pairs
                .iter()
                .map(|(t, v)| {
                    (
                        t.to_ascii_lowercase(),
                        v.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn the_newest_version_both_sides_know() {
        let v = ApiVersions::default();
        let machines = among(&v, "Microsoft.HybridCompute/machines");
        let region = offered(&[(
            "machines",
            &[
                "2025-02-19-preview",
                "2025-01-13",
                "2024-07-10",
                "2022-12-27",
            ],
        )]);
        assert_eq!(
            negotiate(
                "Microsoft.HybridCompute/machines",
                "s",
                machines,
                Some(&region)
            ),
            Ok("2025-01-13")
        );
        // Not readable, or the type not listed: the default.
        assert_eq!(
            negotiate("Microsoft.HybridCompute/machines", "s", machines, None),
            Ok("2026-09-01")
        );
        let other = offered(&[("licenses", &["2025-01-13"])]);
        assert_eq!(
            negotiate(
                "Microsoft.HybridCompute/machines",
                "s",
                machines,
                Some(&other)
            ),
            Ok("2026-09-01")
        );
        // A child type not listed on its own: its parent's list.
        let network = offered(&[("virtualNetworks", &["2024-05-01", "2023-04-01"])]);
        let subnets = among(&v, "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(
            negotiate(
                "Microsoft.Network/virtualNetworks/subnets",
                "s",
                subnets,
                Some(&network)
            ),
            Ok("2024-05-01")
        );
    }

    #[test]
    fn nothing_in_common_names_both_lists() {
        let v = ApiVersions::default();
        let scopes = among(&v, "Microsoft.HybridCompute/privateLinkScopes");
        let old = offered(&[("privateLinkScopes", &["2025-01-13", "2024-07-10"])]);
        let err = negotiate(
            "Microsoft.HybridCompute/privateLinkScopes",
            "sub-1",
            scopes,
            Some(&old),
        )
        .unwrap_err();
        assert_eq!(err.code(), "NoSupportedApiVersion");
        let message = err.message();
        assert!(
            message.contains("2025-01-13, 2024-07-10")
                && message.contains("2026-09-01, 2026-07-15")
                && message.contains("sub-1"),
            "{message}"
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn providers_get_example_reads_as_offered() {
        // The shape of Providers_Get (resources/examples/2025-04-01/GetProvider.json).
        let body = r#"{"id": "/subscriptions/s/providers/Microsoft.TestRP1", "namespace": "Microsoft.TestRP1",
            "resourceTypes": [{"resourceType": "TestResourceType", "apiVersions": ["2018-01-01", "2015-05-01"],
            "locations": ["West US"]}]}"#;
        let listing: ProviderListing = serde_json::from_str(body).unwrap();
        let offered = Offered::from(listing);
        assert_eq!(
            offered.for_type("Microsoft.TestRP1/testResourceType/children"),
            Some(&["2018-01-01".to_string(), "2015-05-01".to_string()][..])
        );
    }
}
