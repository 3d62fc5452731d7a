//! api-versions the emulator accepts per provider: every version the provider's readme in
//! Azure/azure-rest-api-specs lists (tests/azure-specs/SOURCES.md, "api-versions served"), in date
//! order. One list per provider, not per resource type: a type that a provider added later
//! (HybridCompute's private link scopes came with 2020-08-15-preview) is served at the older
//! versions too, in the newest shape (README, "How arclink matches Azure").

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiSet {
    /// Microsoft.Resources: resource groups, subscriptions, tenants, providers.
    Resources,
    HybridCompute,
    Network,
    PrivateDns,
    /// Microsoft.Insights private link scopes (Azure Monitor).
    MonitorScopes,
    /// Microsoft.Insights data collection endpoints and rule associations.
    DataCollection,
    /// Microsoft.Authorization resource management private links and their associations.
    PrivateLinks,
    KeyVault,
    Storage,
    Automation,
    OperationalInsights,
}

/// The resources readme's tags (2015-11-01 … 2025-04-01) and the subscriptions readme's
/// (2016-06-01, 2018-06-01, 2019-06-01, 2019-11-01, 2020-01-01, 2022-12-01), plus 2022-01-01 and
/// 2025-01-01 that earlier emulator versions accepted.
const RESOURCES: &[&str] = &[
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2018-06-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-06-01",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2019-11-01",
    "2020-01-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-01-01",
    "2022-09-01",
    "2022-12-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-01-01",
    "2025-03-01",
    "2025-04-01",
];
/// HybridCompute's readme: stable, the dated folders under `preview/` (2019-03-18, 2019-08-02,
/// 2025-06-01, without a `-preview` suffix) and every preview.
const HYBRID_COMPUTE: &[&str] = &[
    "2019-03-18",
    "2019-08-02",
    "2019-12-12",
    "2020-07-30-preview",
    "2020-08-02",
    "2020-08-15-preview",
    "2021-01-28-preview",
    "2021-03-25-preview",
    "2021-04-22-preview",
    "2021-05-17-preview",
    "2021-05-20",
    "2021-06-10-preview",
    "2021-12-10-preview",
    "2022-03-10",
    "2022-05-10-preview",
    "2022-08-11-preview",
    "2022-11-10",
    "2022-12-27",
    "2022-12-27-preview",
    "2023-03-15-preview",
    "2023-06-20-preview",
    "2023-10-03-preview",
    "2024-03-31-preview",
    "2024-05-20-preview",
    "2024-07-10",
    "2024-07-31-preview",
    "2024-09-10-preview",
    "2024-11-10-preview",
    "2025-01-13",
    "2025-02-19-preview",
    "2025-06-01",
    "2025-08-21-preview",
    "2025-09-16-preview",
    "2026-02-12-preview",
    "2026-06-04-preview",
    "2026-06-16-preview",
    "2026-07-15",
    "2026-09-01",
];
/// Network's readme tags from 2022-01-01 on, its previews, and the 2026-01-01 and 2026-03-01
/// folders (upstream, not yet in a readme version: the Azure CLI 2.91 and azure-mgmt-network
/// 33.1 send them).
const NETWORK: &[&str] = &[
    "2021-05-01-preview",
    "2022-01-01",
    "2022-02-01-preview",
    "2022-04-01-preview",
    "2022-05-01",
    "2022-06-01-preview",
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-03-01-preview",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-01-01-preview",
    "2024-03-01",
    "2024-05-01",
    "2024-06-01-preview",
    "2024-07-01",
    "2024-09-01-preview",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    "2025-09-01",
    "2026-01-01",
    "2026-03-01",
];
/// Private DNS's readme: four stable versions and the default preview.
const PRIVATE_DNS: &[&str] = &[
    "2018-09-01",
    "2020-01-01",
    "2020-06-01",
    "2024-06-01",
    "2026-06-01-preview",
];
// The companion services of issue 21: the api-versions their readmes list
// (tests/azure-specs/SOURCES.md).
const MONITOR_SCOPES: &[&str] = &[
    "2019-10-17-preview",
    "2021-07-01-preview",
    "2021-09-01",
    "2023-06-01-preview",
];
const DATA_COLLECTION: &[&str] = &[
    "2021-09-01-preview",
    "2022-06-01",
    "2023-03-11",
    "2024-03-11",
];
const PRIVATE_LINKS: &[&str] = &["2020-05-01"];
const KEY_VAULT: &[&str] = &["2024-11-01", "2025-05-01", "2026-02-01", "2026-04-01"];
const STORAGE: &[&str] = &[
    "2025-06-01",
    "2025-08-01",
    "2026-04-01",
    "2026-06-01",
    "2026-09-01",
];
const AUTOMATION: &[&str] = &[
    "2020-01-13-preview",
    "2021-06-22",
    "2022-08-08",
    "2023-05-15-preview",
    "2024-10-23",
];
const OPERATIONAL_INSIGHTS: &[&str] = &[
    "2020-08-01",
    "2020-10-01",
    "2021-06-01",
    "2021-12-01-preview",
    "2022-10-01",
    "2023-09-01",
    "2025-02-01",
    "2025-07-01",
    "2026-03-01",
];

impl ApiSet {
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            ApiSet::Resources => RESOURCES,
            ApiSet::HybridCompute => HYBRID_COMPUTE,
            ApiSet::Network => NETWORK,
            ApiSet::PrivateDns => PRIVATE_DNS,
            ApiSet::MonitorScopes => MONITOR_SCOPES,
            ApiSet::DataCollection => DATA_COLLECTION,
            ApiSet::PrivateLinks => PRIVATE_LINKS,
            ApiSet::KeyVault => KEY_VAULT,
            ApiSet::Storage => STORAGE,
            ApiSet::Automation => AUTOMATION,
            ApiSet::OperationalInsights => OPERATIONAL_INSIGHTS,
        }
    }

    /// The newest stable version.
    pub fn newest(self) -> &'static str {
        self.versions()
            .iter()
            .rev()
            .find(|v| !is_preview(v))
            .copied()
            .unwrap_or_default()
    }

    /// Whether `v` is `since` or newer (previews count by their date).
    pub fn at_least(v: &str, since: &str) -> bool {
        v.get(..10).unwrap_or(v) >= since
    }

    pub fn accepts(self, v: &str) -> bool {
        self.versions().iter().any(|x| x.eq_ignore_ascii_case(v))
    }
}

pub fn is_preview(v: &str) -> bool {
    v.to_ascii_lowercase().ends_with("-preview")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_in_date_order_without_duplicates_and_newest_is_stable() {
        for set in [
            ApiSet::Resources,
            ApiSet::HybridCompute,
            ApiSet::Network,
            ApiSet::PrivateDns,
        ] {
            let v = set.versions();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "{set:?}: {v:?}");
            assert!(!is_preview(set.newest()), "{set:?}");
        }
        assert_eq!(ApiSet::Network.newest(), "2026-03-01");
        assert_eq!(ApiSet::PrivateDns.newest(), "2024-06-01");
        assert_eq!(ApiSet::HybridCompute.newest(), "2026-09-01");
    }
}
