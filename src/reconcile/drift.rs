//! Where Azure differs from the spec: the one shape of drift every kind reports, and the
//! field comparisons (with ARM's normalisations) that find it.

use std::collections::BTreeMap;

use crate::api::{DriftEntry, TagPolicy};

/// What a reconcile found about Azure against the spec.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drift {
    /// Whether Azure was read: when not (suspended, no credentials, an early failure), the
    /// `Drifted` condition keeps what the last read said.
    pub observed: bool,
    /// Differences left as they are: `policy.drift: Report`, or not arclink's to change.
    pub reported: Vec<DriftEntry>,
    /// Differences this reconcile corrected.
    pub corrected: Vec<DriftEntry>,
    /// Differences left alone because another writer sets them again after each correction
    /// ([`super::fights`]); they are among `reported` too.
    pub held: Vec<DriftEntry>,
    /// What to say instead of the list of paths (why a difference is not corrected, or a
    /// summary where the paths would be thousands of machines).
    pub notes: Vec<String>,
}

impl Drift {
    /// Drift of a reconcile that read Azure.
    pub fn observed() -> Drift {
        Drift {
            observed: true,
            ..Drift::default()
        }
    }

    pub fn is_detected(&self) -> bool {
        !self.reported.is_empty() || !self.corrected.is_empty() || !self.notes.is_empty()
    }

    pub fn is_corrected(&self) -> bool {
        !self.corrected.is_empty()
    }

    /// The `Drifted` condition's reason and message; `None` when Azure was not read.
    pub fn condition(&self) -> Option<(bool, &'static str, String)> {
        if !self.observed {
            return None;
        }
        let (drifted, reason, message) = if !self.held.is_empty() {
            let others: Vec<DriftEntry> = self
                .reported
                .iter()
                .filter(|d| !self.held.contains(d))
                .cloned()
                .collect();
            let mut message = super::fights::message(&self.held);
            if !others.is_empty() {
                message.push_str(&format!("; also differs from the spec: {}", paths(&others)));
            }
            (true, "FightingAnotherWriter", message)
        } else if !self.reported.is_empty() {
            (
                true,
                "DriftDetected",
                format!("differs from the spec: {}", paths(&self.reported)),
            )
        } else if !self.corrected.is_empty() {
            (
                false,
                "DriftCorrected",
                format!("corrected: {}", paths(&self.corrected)),
            )
        } else if !self.notes.is_empty() {
            (true, "DriftDetected", String::new())
        } else {
            (false, "Succeeded", "Azure matches the spec".to_string())
        };
        let message = if self.notes.is_empty() || !self.held.is_empty() {
            message
        } else {
            self.notes.join("; ")
        };
        Some((drifted, reason, message))
    }
}

/// The paths of `entries`, for messages.
pub fn paths(entries: &[DriftEntry]) -> String {
    entries
        .iter()
        .map(|e| e.path.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A difference at `path`.
pub fn entry(path: &str, desired: &str, actual: &str) -> DriftEntry {
    DriftEntry {
        path: path.to_string(),
        desired: desired.to_string(),
        actual: actual.to_string(),
    }
}

/// The difference at `path` when `actual` is not `desired` regardless of case (ARM normalises
/// enum values and ids).
pub fn field_ci(path: &str, desired: &str, actual: Option<&str>) -> Option<DriftEntry> {
    (!actual.is_some_and(|a| a.eq_ignore_ascii_case(desired)))
        .then(|| entry(path, desired, actual.unwrap_or_default()))
}

/// Each desired tag whose value differs or is missing, and, under [`TagPolicy::Exact`], each
/// tag in Azure that is not desired. Tag keys are case-insensitive in ARM; values are compared
/// exactly. `prefix` names the resource for sub-resources (`privateDnsZones/x.`).
pub fn tags(
    prefix: &str,
    desired: &BTreeMap<String, String>,
    actual: Option<&BTreeMap<String, String>>,
    policy: TagPolicy,
) -> Vec<DriftEntry> {
    let empty = BTreeMap::new();
    let actual = actual.unwrap_or(&empty);
    let mut out: Vec<DriftEntry> = desired
        .iter()
        .filter_map(|(k, v)| {
            let a = find_tag(actual, k);
            (a != Some(v.as_str()))
                .then(|| entry(&format!("{prefix}tags.{k}"), v, a.unwrap_or_default()))
        })
        .collect();
    if policy == TagPolicy::Exact {
        out.extend(
            actual
                .iter()
                .filter(|(k, _)| find_tag(desired, k).is_none())
                .map(|(k, v)| entry(&format!("{prefix}tags.{k}"), "", v)),
        );
    }
    out
}

/// Whether every difference is a tag (a PATCH suffices).
pub fn only_tags(entries: &[DriftEntry]) -> bool {
    entries.iter().all(|e| e.path.starts_with("tags."))
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
        assert_eq!(field_ci("p", "Disabled", Some("disabled")), None);
        assert_eq!(
            field_ci("p", "Disabled", Some("Enabled")),
            Some(entry("p", "Disabled", "Enabled"))
        );
        assert_eq!(field_ci("q", "x", None), Some(entry("q", "x", "")));
    }

    #[test]
    fn tags_missing_changed_and_extra_are_drift_under_exact() {
        let d = tags(
            "",
            &map(&[("team", "a"), ("env", "prod")]),
            Some(&map(&[("Team", "a"), ("env", "dev"), ("x", "1")])),
            TagPolicy::Exact,
        );
        assert_eq!(paths(&d), "tags.env, tags.x");
        assert!(only_tags(&d));
        assert_eq!(d[0].actual, "dev");
        assert_eq!(d[1].desired, "");
    }

    /// Behaviour 13 of reference/arm-behaviours.md: tags others add (Azure Policy `modify`)
    /// are neither drift nor removed under the default `Merge`.
    #[test]
    fn merge_leaves_other_tags_alone() {
        let desired = map(&[("team", "a"), ("env", "prod")]);
        let actual = map(&[("Team", "a"), ("env", "dev"), ("costCenter", "42")]);
        assert_eq!(
            paths(&tags("", &desired, Some(&actual), TagPolicy::Merge)),
            "tags.env"
        );
        let written = tags_to_write(&desired, Some(&actual), TagPolicy::Merge);
        assert_eq!(
            written,
            map(&[("team", "a"), ("env", "prod"), ("costCenter", "42")])
        );
        assert_eq!(
            tags_to_write(&desired, Some(&actual), TagPolicy::Exact),
            desired
        );
        assert!(
            tags("", &desired, Some(&written), TagPolicy::Merge).is_empty(),
            "what is written is in sync"
        );
    }

    #[test]
    fn the_drifted_condition_says_what_was_found() {
        assert_eq!(Drift::default().condition(), None, "Azure not read");
        let mut d = Drift::observed();
        assert_eq!(d.condition().unwrap().1, "Succeeded");
        d.corrected.push(entry("tags.a", "1", "2"));
        assert_eq!(
            d.condition(),
            Some((false, "DriftCorrected", "corrected: tags.a".into()))
        );
        d.reported.push(entry("properties.x", "1", "2"));
        assert_eq!(
            d.condition(),
            Some((
                true,
                "DriftDetected",
                "differs from the spec: properties.x".into()
            ))
        );
        d.notes.push("a record of another endpoint".into());
        assert_eq!(d.condition().unwrap().2, "a record of another endpoint");
    }
}
