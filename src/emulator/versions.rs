//! api-versions the emulator accepts per provider: the versions of the saved specs plus the
//! defaults and neighbours named in DESIGN.md section 5.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiSet {
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

const RESOURCES: &[&str] = &[
    "2016-06-01",
    "2019-10-01",
    "2020-01-01",
    "2020-06-01",
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
const HYBRID_COMPUTE: &[&str] = &[
    "2022-12-27",
    "2023-10-03-preview",
    "2024-03-31-preview",
    "2024-05-20-preview",
    "2024-07-10",
    "2024-07-31-preview",
    "2024-09-10-preview",
    "2024-11-10-preview",
    "2025-01-13",
    "2025-02-19-preview",
    "2026-06-16-preview",
    "2026-07-15",
    "2026-09-01",
];
const NETWORK: &[&str] = &[
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    "2025-09-01",
];
const PRIVATE_DNS: &[&str] = &["2018-09-01", "2020-01-01", "2020-06-01", "2024-06-01"];
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

    /// The newest version (the lists are in date order).
    pub fn newest(self) -> &'static str {
        self.versions().last().copied().unwrap_or_default()
    }

    /// Whether `v` is `since` or newer (previews count by their date).
    pub fn at_least(v: &str, since: &str) -> bool {
        v.get(..10).unwrap_or(v) >= since
    }

    pub fn accepts(self, v: &str) -> bool {
        self.versions().iter().any(|x| x.eq_ignore_ascii_case(v))
    }
}
