//! Field-level differences between the spec and what ARM reports, with ARM's normalisations.

use std::collections::BTreeMap;

use crate::api::{DriftEntry, TagPolicy};

/// ARM accepts `East US` and reports `eastus`: compare regions without case and spaces.
pub fn same_location(a: &str, b: &str) -> bool {
    normalize_location(a) == normalize_location(b)
}

/// A region name in ARM's canonical form (`eastus`).
pub fn normalize_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A tag's value by key, compared without case as ARM does.
fn find_tag<'a>(tags: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// The tags to write: `desired` over what Azure has, keeping tags others set unless the
/// policy is [`TagPolicy::Exact`] (so an Azure Policy `modify` effect causes no write loop).
pub fn tags_to_write(
    desired: &BTreeMap<String, String>,
    actual: Option<&BTreeMap<String, String>>,
    policy: TagPolicy,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = match policy {
        TagPolicy::Exact => BTreeMap::new(),
        TagPolicy::Merge => actual
            .into_iter()
            .flatten()
            .filter(|(k, _)| find_tag(desired, k).is_none())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    out.extend(desired.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// The differences found so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    pub entries: Vec<DriftEntry>,
}

impl Diff {
    /// Records `path` when `actual` differs from `desired` without regard to case (ARM
    /// normalises enum values and ids).
    pub fn field_ci(&mut self, path: &str, desired: &str, actual: Option<&str>) {
        if !actual.is_some_and(|a| a.eq_ignore_ascii_case(desired)) {
            self.push(path, desired, actual.unwrap_or_default());
        }
    }

    /// Records each desired tag whose value differs or is missing, and, under
    /// [`TagPolicy::Exact`], each tag in Azure that is not desired. Tag keys are
    /// case-insensitive in ARM; values are compared exactly.
    pub fn tags(
        &mut self,
        desired: &BTreeMap<String, String>,
        actual: Option<&BTreeMap<String, String>>,
        policy: TagPolicy,
    ) {
        let empty = BTreeMap::new();
        let actual = actual.unwrap_or(&empty);
        for (k, v) in desired {
            let a = find_tag(actual, k);
            if a != Some(v.as_str()) {
                self.push(&format!("tags.{k}"), v, a.unwrap_or_default());
            }
        }
        if policy == TagPolicy::Exact {
            for (k, v) in actual {
                if find_tag(desired, k).is_none() {
                    self.push(&format!("tags.{k}"), "", v);
                }
            }
        }
    }

    /// Records a difference.
    pub fn push(&mut self, path: &str, desired: &str, actual: &str) {
        self.entries.push(DriftEntry {
            path: path.to_string(),
            desired: desired.to_string(),
            actual: actual.to_string(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether every difference is a tag (a PATCH suffices).
    pub fn only_tags(&self) -> bool {
        self.entries.iter().all(|e| e.path.starts_with("tags."))
    }

    /// The differing paths, for condition messages.
    pub fn paths(&self) -> String {
        self.entries
            .iter()
            .map(|e| e.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn locations_compare_like_arm() {
        assert!(same_location("East US", "eastus"));
        assert!(!same_location("eastus2", "eastus"));
    }

    #[test]
    fn enum_values_compare_case_insensitively() {
        let mut d = Diff::default();
        d.field_ci(
            "properties.publicNetworkAccess",
            "Disabled",
            Some("disabled"),
        );
        assert!(d.is_empty());
        d.field_ci(
            "properties.publicNetworkAccess",
            "Disabled",
            Some("Enabled"),
        );
        d.field_ci("properties.other", "x", None);
        assert_eq!(
            d.paths(),
            "properties.publicNetworkAccess, properties.other"
        );
        assert!(!d.only_tags());
    }

    #[test]
    fn tags_missing_changed_and_extra_are_drift_under_exact() {
        let mut d = Diff::default();
        d.tags(
            &map(&[("team", "a"), ("env", "prod")]),
            Some(&map(&[("Team", "a"), ("env", "dev"), ("x", "1")])),
            TagPolicy::Exact,
        );
        assert_eq!(d.paths(), "tags.env, tags.x");
        assert!(d.only_tags());
        assert_eq!(d.entries[0].actual, "dev");
        assert_eq!(d.entries[1].desired, "");
    }

    /// Behaviour 13 of reference/arm-behaviours.md: tags others add (Azure Policy `modify`)
    /// are neither drift nor removed under the default `Merge`.
    #[test]
    fn merge_leaves_other_tags_alone() {
        let desired = map(&[("team", "a"), ("env", "prod")]);
        let actual = map(&[("Team", "a"), ("env", "dev"), ("costCenter", "42")]);
        let mut d = Diff::default();
        d.tags(&desired, Some(&actual), TagPolicy::Merge);
        assert_eq!(d.paths(), "tags.env");
        assert_eq!(
            tags_to_write(&desired, Some(&actual), TagPolicy::Merge),
            map(&[("team", "a"), ("env", "prod"), ("costCenter", "42")])
        );
        assert_eq!(
            tags_to_write(&desired, Some(&actual), TagPolicy::Exact),
            desired
        );
        let mut d = Diff::default();
        d.tags(
            &desired,
            Some(&tags_to_write(&desired, Some(&actual), TagPolicy::Merge)),
            TagPolicy::Merge,
        );
        assert!(d.is_empty(), "what is written is in sync: {d:?}");
    }
}
