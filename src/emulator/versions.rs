//! api-versions the emulator accepts per provider: the versions of the saved specs plus the
//! defaults and neighbours named in DESIGN.md section 5.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiSet {
    Resources,
    HybridCompute,
    Network,
    PrivateDns,
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

impl ApiSet {
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            ApiSet::Resources => RESOURCES,
            ApiSet::HybridCompute => HYBRID_COMPUTE,
            ApiSet::Network => NETWORK,
            ApiSet::PrivateDns => PRIVATE_DNS,
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
