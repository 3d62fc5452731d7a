//! Write loops with other writers. An Azure Policy `modify` effect, another controller or a
//! scheduled script that sets a field arclink also manages (a tag under `policy.tags: Exact`, a
//! property) would have arclink correct the same field at every drift check for ever, each
//! write undone by the next of theirs. A field corrected from the same value to the same value
//! at [`FIGHT_AFTER`] drift checks in a row is taken to have another writer: arclink stops
//! writing it (`Drifted/FightingAnotherWriter` names it and the values) and keeps correcting
//! every other field, until the spec changes (the object's generation) or Azure shows the
//! desired value again. The count lives in `status.corrections`, at most [`MAX_TRACKED`]
//! fields.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::api::{Correction, DriftEntry};

/// Corrections of one field from and to the same values in a row after which arclink leaves
/// it to the other writer.
pub const FIGHT_AFTER: u32 = 3;
/// Fields `status.corrections` keeps.
pub const MAX_TRACKED: usize = 16;

/// Whether a difference is counted: a failed provisioning state is repaired with the failed
/// attempts counted instead.
pub fn tracked_path(d: &DriftEntry) -> bool {
    !d.path.ends_with("provisioningState")
}

/// How far apart two sightings of a difference may be and still be in a row: drift checks
/// come one drift interval (+/- 10%) apart.
pub fn window(interval: Duration) -> Duration {
    interval.saturating_mul(2)
}

/// Whether `tracked` says to leave difference `d` alone: the same field corrected from the
/// same value to the same value [`FIGHT_AFTER`] times in a row, the last time within
/// `window` of `now` (or left alone already).
pub fn is_held(tracked: &[Correction], d: &DriftEntry, now: Timestamp, window: Duration) -> bool {
    tracked
        .iter()
        .any(|c| c.count >= FIGHT_AFTER && same(c, d) && continues(c, now, window))
}

/// Whether a sighting at `now` continues the row of `c`.
fn continues(c: &Correction, now: Timestamp, window: Duration) -> bool {
    holding(c)
        || c.last_seen
            .parse::<Timestamp>()
            .ok()
            .and_then(|t| Duration::try_from(now.duration_since(t)).ok())
            .is_some_and(|age| age <= window)
}

fn same(c: &Correction, d: &DriftEntry) -> bool {
    c.path == d.path && c.desired == d.desired && c.actual == d.actual
}

/// What one reconcile did about the tracked fields.
pub struct Checked<'a> {
    /// Differences it corrected (updates of existing resources).
    pub corrected: &'a [DriftEntry],
    /// Differences it left alone because they are held.
    pub held: &'a [DriftEntry],
    /// Whether it compared every resource (it ended Ready): a held field it did not find
    /// differing shows the desired value again.
    pub complete: bool,
    pub now: Timestamp,
    /// See [`window`].
    pub window: Duration,
}

/// Whether arclink has left the field alone at least once: it stays so until Azure shows the
/// desired value again (or the spec changes), however long that takes.
fn holding(c: &Correction) -> bool {
    c.count > FIGHT_AFTER
}

/// `tracked` after a reconcile. A difference found again with the same values counts one more
/// (up to [`FIGHT_AFTER`] it is corrected each time, then held); one not found again is
/// forgotten once it is older than the window, or, when held, at the first complete check.
/// A check right after arclink's own correction finds the field in sync, which is why that
/// alone does not reset the count.
pub fn update(tracked: &mut Vec<Correction>, checked: &Checked) {
    let continued = |c: &Correction| continues(c, checked.now, checked.window);
    let mut next: Vec<Correction> = checked
        .corrected
        .iter()
        .chain(checked.held)
        .filter(|d| tracked_path(d))
        .map(|d| {
            let before = tracked.iter().find(|c| same(c, d) && continued(c));
            Correction {
                path: d.path.clone(),
                desired: d.desired.clone(),
                actual: d.actual.clone(),
                count: before.map_or(1, |c| c.count.saturating_add(1)),
                last_seen: checked.now.to_string(),
            }
        })
        .collect();
    let kept: Vec<Correction> = tracked
        .drain(..)
        .filter(|c| !next.iter().any(|n| n.path == c.path))
        .filter(|c| {
            if holding(c) {
                !checked.complete
            } else {
                continued(c)
            }
        })
        .collect();
    next.extend(kept);
    // The held fields first, then the most recent.
    next.sort_by(|a, b| (holding(b), &b.last_seen).cmp(&(holding(a), &a.last_seen)));
    next.truncate(MAX_TRACKED);
    *tracked = next;
}

/// The `Drifted` message for held fields.
pub fn message(held: &[DriftEntry]) -> String {
    let fields = held
        .iter()
        .map(|d| {
            format!(
                "{} (Azure shows {:?}, the spec says {:?})",
                d.path, d.actual, d.desired
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "another writer sets {fields} again after each correction ({FIGHT_AFTER} drift checks in a row); arclink no longer writes it until the spec changes or Azure shows the desired value again (an Azure Policy modify effect or another controller: exempt this resource, or make the spec agree)"
    )
}

/// Sets each held field in `body` (a resource's JSON as it is to be written) back to what
/// Azure has, so that a write of the other differences leaves it alone. `label` is the prefix
/// of the resource's drift paths. `false` when a path is not a plain field of the body (a list
/// entry): then the resource cannot be written without it.
pub fn keep_as_read(body: &mut Value, label: &str, held: &[DriftEntry]) -> bool {
    held.iter().all(|d| {
        let Some(rest) = d.path.strip_prefix(label) else {
            return false;
        };
        if let Some(key) = rest.strip_prefix("tags.") {
            let tags = object(body, "tags");
            set_tag(tags, key, &d.actual);
            return true;
        }
        let Some(field) = rest.strip_prefix("properties.") else {
            return false;
        };
        let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        let segments: Vec<&str> = field.split('.').collect();
        if !segments.iter().all(|s| plain(s)) {
            return false;
        }
        let Some((leaf, parents)) = segments.split_last() else {
            return false;
        };
        let mut at = object(body, "properties");
        for p in parents {
            at = object_in(at, p);
        }
        set_value(at, leaf, &d.actual);
        true
    })
}

/// Sets each held tag of `tags` (the tags about to be written) back to what Azure has.
pub fn keep_tags_as_read(
    tags: &mut std::collections::BTreeMap<String, String>,
    label: &str,
    held: &[DriftEntry],
) {
    for d in held {
        if let Some(key) = d
            .path
            .strip_prefix(label)
            .and_then(|r| r.strip_prefix("tags."))
        {
            tags.retain(|k, _| !k.eq_ignore_ascii_case(key));
            if !d.actual.is_empty() {
                tags.insert(key.to_string(), d.actual.clone());
            }
        }
    }
}

fn object<'v>(body: &'v mut Value, key: &str) -> &'v mut Map<String, Value> {
    if !body.is_object() {
        *body = Value::Object(Map::new());
    }
    match body {
        Value::Object(map) => object_in(map, key),
        _ => unreachable!("made an object above"),
    }
}

fn object_in<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("made an object above"),
    }
}

fn set_tag(tags: &mut Map<String, Value>, key: &str, actual: &str) {
    tags.retain(|k, _| !k.eq_ignore_ascii_case(key));
    if !actual.is_empty() {
        tags.insert(key.to_string(), Value::String(actual.to_string()));
    }
}

/// Sets `field` to `actual` in the shape the body has it in (a number stays a number); an
/// empty `actual` (absent in Azure) removes it.
fn set_value(map: &mut Map<String, Value>, field: &str, actual: &str) {
    if actual.is_empty() {
        map.remove(field);
        return;
    }
    let value = match map.get(field) {
        Some(Value::Number(_)) => actual
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(actual.to_string())),
        Some(Value::Bool(_)) => actual
            .parse::<bool>()
            .map(Value::Bool)
            .unwrap_or_else(|_| Value::String(actual.to_string())),
        _ => Value::String(actual.to_string()),
    };
    map.insert(field.to_string(), value);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reconcile::drift::entry;

    const WINDOW: Duration = Duration::from_secs(1200);

    fn check(
        tracked: &mut Vec<Correction>,
        corrected: &[DriftEntry],
        held: &[DriftEntry],
        complete: bool,
        at: i64,
    ) {
        update(
            tracked,
            &Checked {
                corrected,
                held,
                complete,
                now: Timestamp::from_second(at).unwrap(),
                window: WINDOW,
            },
        );
    }

    #[test]
    fn the_same_correction_in_a_row_is_held_at_the_third() {
        let d = entry("tags.costCenter", "", "42");
        let mut tracked = Vec::new();
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        for (n, t) in [(1, 0), (2, 600), (3, 1200)] {
            assert!(
                !is_held(&tracked, &d, at(t), WINDOW),
                "held before correction {n}"
            );
            check(&mut tracked, std::slice::from_ref(&d), &[], true, t);
            assert_eq!(tracked[0].count, n);
        }
        assert!(is_held(&tracked, &d, at(1800), WINDOW));
        assert!(
            !is_held(&tracked, &d, at(1200 + 1201), WINDOW),
            "not in a row any more"
        );
        // Other values are another story: corrected, counted anew.
        let other = entry("tags.costCenter", "", "43");
        assert!(!is_held(&tracked, &other, at(1300), WINDOW));
        check(&mut tracked, std::slice::from_ref(&other), &[], true, 1300);
        assert_eq!(tracked.len(), 1);
        assert_eq!(tracked[0].count, 1);
    }

    #[test]
    fn a_correction_long_after_the_last_starts_the_count_again() {
        let d = entry("properties.publicNetworkAccess", "Disabled", "Enabled");
        let mut tracked = Vec::new();
        check(&mut tracked, std::slice::from_ref(&d), &[], true, 0);
        check(&mut tracked, std::slice::from_ref(&d), &[], true, 600);
        // An in-sync check right after a write does not reset the count ...
        check(&mut tracked, &[], &[], true, 605);
        assert_eq!(tracked[0].count, 2);
        // ... a field left alone for longer than the window drops out.
        check(&mut tracked, &[], &[], true, 600 + 1201);
        assert!(tracked.is_empty());
        check(&mut tracked, std::slice::from_ref(&d), &[], true, 5000);
        assert_eq!(tracked[0].count, 1);
    }

    #[test]
    fn a_held_field_is_released_when_a_complete_check_no_longer_finds_it() {
        let d = entry("tags.a", "1", "2");
        let mut tracked = Vec::new();
        for t in [0, 600, 1200] {
            check(&mut tracked, std::slice::from_ref(&d), &[], true, t);
        }
        // Right after the third correction the field is in sync: not a release.
        check(&mut tracked, &[], &[], true, 1205);
        assert_eq!(tracked[0].count, FIGHT_AFTER);
        // Found again: held, and kept however long it is fought over.
        check(&mut tracked, &[], std::slice::from_ref(&d), true, 1800);
        check(&mut tracked, &[], std::slice::from_ref(&d), true, 100_000);
        let at = Timestamp::from_second(200_000).unwrap();
        assert!(is_held(&tracked, &d, at, WINDOW));
        // A check that stopped early says nothing.
        check(&mut tracked, &[], &[], false, 200_000);
        assert!(is_held(&tracked, &d, at, WINDOW));
        // Azure shows the desired value: released.
        check(&mut tracked, &[], &[], true, 200_600);
        assert!(tracked.is_empty());
    }

    #[test]
    fn at_most_sixteen_fields_are_kept_the_held_ones_first() {
        let mut tracked = vec![Correction {
            path: "tags.held".into(),
            count: FIGHT_AFTER + 1,
            last_seen: Timestamp::from_second(0).unwrap().to_string(),
            ..Correction::default()
        }];
        let many: Vec<DriftEntry> = (0..40)
            .map(|i| entry(&format!("tags.t{i}"), "a", "b"))
            .collect();
        let held = [entry("tags.held", "", "")];
        check(&mut tracked, &many, &held, true, 10);
        assert_eq!(tracked.len(), MAX_TRACKED);
        assert_eq!(tracked[0].path, "tags.held");
        assert_eq!(tracked[0].count, FIGHT_AFTER + 2);
    }

    #[test]
    fn held_fields_are_written_as_azure_has_them() {
        let mut body = json!({
            "tags": {"Team": "a", "costCenter": "1"},
            "properties": {"priority": 151, "access": "Allow", "nested": {"x": "y"}}
        });
        let held = [
            entry("securityRules/r.tags.team", "a", "b"),
            entry("securityRules/r.tags.costCenter", "1", ""),
            entry("securityRules/r.properties.priority", "151", "160"),
            entry("securityRules/r.properties.nested.x", "y", "z"),
        ];
        assert!(keep_as_read(&mut body, "securityRules/r.", &held));
        assert_eq!(
            body,
            json!({
                "tags": {"team": "b"},
                "properties": {"priority": 160, "access": "Allow", "nested": {"x": "z"}}
            })
        );
        let listed = [entry(
            "properties.serviceExtensions[SQL].serviceExtensionPublicNetworkAccess",
            "Disabled",
            "Enabled",
        )];
        assert!(!keep_as_read(&mut body, "", &listed));
        let mut tags = std::collections::BTreeMap::from([("Team".to_string(), "a".to_string())]);
        keep_tags_as_read(&mut tags, "", &[entry("tags.team", "a", "")]);
        assert!(tags.is_empty());
    }
}
