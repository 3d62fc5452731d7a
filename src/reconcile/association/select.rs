//! Which machines an association selects, which other association has the older claim on a
//! machine, and what to do with each. Pure functions over what one list page returned: no I/O.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::api::association::MachineSelector;
use crate::azure::ResourceId;
use crate::reconcile::drift::same_location;
use crate::reconcile::scope_ref::ResolvedScope;

use super::SCOPE_FIELD;
use super::tally::MachineState;

/// The fields of a machine the association reads; everything else in ARM's (large) machine
/// body is skipped while deserialising, so a page of machines stays small in memory.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct MachineRef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub properties: Option<MachineRefProperties>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct MachineRefProperties {
    #[serde(default)]
    pub private_link_scope_resource_id: Option<String>,
}

impl MachineRef {
    /// The scope the machine points at, `None` when it has none (absent or empty).
    pub fn scope(&self) -> Option<&str> {
        self.properties
            .as_ref()
            .and_then(|p| p.private_link_scope_resource_id.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
}

/// Whether a scope id ARM reported is `scope` (ARM ids compare without case; an id that does not
/// parse is compared as text).
pub fn is_scope(reported: &str, scope: &ResourceId) -> bool {
    match reported.parse::<ResourceId>() {
        Ok(id) => &id == scope,
        Err(_) => reported.eq_ignore_ascii_case(&scope.to_string()),
    }
}

/// Whether `tags` carry every `selector` entry (tag names without case, as ARM treats them;
/// values exactly).
pub fn tags_match(
    selector: &BTreeMap<String, String>,
    tags: Option<&BTreeMap<String, String>>,
) -> bool {
    !selector.is_empty()
        && selector.iter().all(|(k, v)| {
            tags.is_some_and(|t| {
                t.iter()
                    .any(|(tk, tv)| tk.eq_ignore_ascii_case(k) && tv == v)
            })
        })
}

/// One association's selector, prepared for many lookups.
#[derive(Clone, Debug)]
pub struct Selection {
    subscription: String,
    resource_group: String,
    /// Lower-cased name -> the spelling in the spec.
    names: HashMap<String, String>,
    tags: BTreeMap<String, String>,
}

impl Selection {
    /// `default_subscription` is the scope's subscription (the spec's default).
    pub fn new(sel: &MachineSelector, default_subscription: &str) -> Selection {
        Selection {
            subscription: sel
                .subscription_id
                .clone()
                .unwrap_or_else(|| default_subscription.to_string()),
            resource_group: sel.resource_group.clone(),
            names: sel
                .names
                .iter()
                .map(|n| (n.to_ascii_lowercase(), n.clone()))
                .collect(),
            tags: sel.tag_selector.clone(),
        }
    }

    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    pub fn resource_group(&self) -> &str {
        &self.resource_group
    }

    /// The names the spec lists (lower-cased -> as written).
    pub fn names(&self) -> &HashMap<String, String> {
        &self.names
    }

    /// Whether both selectors look at the same resource group.
    pub fn same_group(&self, other: &Selection) -> bool {
        self.subscription.eq_ignore_ascii_case(&other.subscription)
            && self
                .resource_group
                .eq_ignore_ascii_case(&other.resource_group)
    }

    /// Whether a machine of this selector's resource group is selected (by name or by tags).
    pub fn selects(&self, m: &MachineRef) -> bool {
        self.names.contains_key(&m.name.to_ascii_lowercase())
            || tags_match(&self.tags, m.tags.as_ref())
    }
}

/// Another ArcServerAssociation of this cluster, as the controller layer found it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// `namespace/name` of the other object.
    pub object: String,
    /// Its `metadata.creationTimestamp`.
    pub created: jiff::Timestamp,
    /// ARM id of the scope it associates machines with.
    pub scope_id: String,
    /// Its `spec.machines`.
    pub machines: MachineSelector,
}

/// A claim on the same resource group, prepared for lookups.
#[derive(Debug)]
pub struct Rival {
    pub object: String,
    pub scope: ResourceId,
    pub selection: Selection,
}

/// The other associations that matter to `me` (`namespace/name`, created at `created`) in the
/// resource group of `mine`, split into older and newer claims. Ordering is by creation time,
/// then by `namespace/name`, so every object agrees on who is older and the outcome never
/// flips between reconciles.
pub fn rivals(
    claims: &[Claim],
    me: &str,
    created: jiff::Timestamp,
    mine: &Selection,
) -> (Vec<Rival>, Vec<Rival>) {
    let mut older = Vec::new();
    let mut newer = Vec::new();
    for c in claims.iter().filter(|c| c.object != me) {
        let Ok(scope) = c.scope_id.parse::<ResourceId>() else {
            continue;
        };
        let selection = Selection::new(&c.machines, scope.subscription());
        if !selection.same_group(mine) {
            continue;
        }
        let rival = Rival {
            object: c.object.clone(),
            scope,
            selection,
        };
        if (c.created, c.object.as_str()) < (created, me) {
            older.push(rival);
        } else {
            newer.push(rival);
        }
    }
    (older, newer)
}

/// What decides a machine's fate, besides the machine.
pub struct Rules<'a> {
    pub scope: &'a ResolvedScope,
    pub previous: Option<ResourceId>,
    /// Older associations with another scope: they win.
    pub older: Vec<Rival>,
    /// Newer associations with another scope: they yield, so their scope may be overwritten.
    pub newer: Vec<Rival>,
    pub takeover: bool,
    pub report: bool,
}

pub enum Decision {
    Is(MachineState, Option<String>),
    Write,
}

impl Rules<'_> {
    /// Whether an older association with another scope selects `m`.
    pub fn claimed(&self, m: &MachineRef) -> bool {
        self.older.iter().any(|r| r.selection.selects(m))
    }

    pub fn decide(&self, m: &MachineRef) -> Decision {
        let id = &self.scope.id;
        let current = m.scope();
        if current.is_some_and(|c| is_scope(c, id)) {
            return Decision::Is(MachineState::Associated, None);
        }
        if let Some(r) = self.older.iter().find(|r| r.selection.selects(m)) {
            return Decision::Is(
                MachineState::Conflict,
                Some(format!(
                    "claimed by the older ArcServerAssociation {} (scope {})",
                    r.object, r.scope
                )),
            );
        }
        if let Some(loc) = m.location.as_deref()
            && !same_location(loc, &self.scope.location)
        {
            return Decision::Is(
                MachineState::RegionMismatch,
                Some(format!(
                    "machine is in {loc}, the scope is in {}",
                    self.scope.location
                )),
            );
        }
        if let Some(c) = current {
            let yielded = self.previous.as_ref().is_some_and(|p| is_scope(c, p))
                || self
                    .newer
                    .iter()
                    .any(|r| is_scope(c, &r.scope) && r.selection.selects(m));
            if !yielded && !self.takeover {
                return Decision::Is(
                    MachineState::Conflict,
                    Some(format!(
                        "associated with scope {c}; spec.onConflict is Skip"
                    )),
                );
            }
        }
        if self.report {
            let actual = current.unwrap_or("no scope");
            return Decision::Is(
                MachineState::Drifted,
                Some(format!(
                    "{SCOPE_FIELD} is {actual}; drift policy Report leaves it"
                )),
            );
        }
        Decision::Write
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(name: &str, tags: &[(&str, &str)]) -> MachineRef {
        MachineRef {
            name: name.into(),
            tags: Some(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn selector(names: &[&str], tags: &[(&str, &str)]) -> MachineSelector {
        MachineSelector {
            subscription_id: None,
            resource_group: "rg".into(),
            names: names.iter().map(|n| n.to_string()).collect(),
            tag_selector: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn names_and_tags_are_a_union_with_arm_casing_rules() {
        let s = Selection::new(&selector(&["Web-01"], &[("env", "prod")]), "sub");
        assert!(s.selects(&machine("web-01", &[])));
        assert!(s.selects(&machine("db-01", &[("ENV", "prod"), ("x", "y")])));
        assert!(!s.selects(&machine("db-02", &[("env", "Prod")])));
        assert!(!s.selects(&machine("db-03", &[])));
        let names_only = Selection::new(&selector(&["a"], &[]), "sub");
        assert!(
            !names_only.selects(&machine("b", &[])),
            "empty tagSelector selects nothing"
        );
    }

    #[test]
    fn older_and_newer_claims_are_ordered_by_creation_then_name() {
        let t = |s| jiff::Timestamp::from_second(s).unwrap();
        let scope = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s";
        let claim = |object: &str, created, rg: &str| Claim {
            object: object.into(),
            created,
            scope_id: scope.into(),
            machines: MachineSelector {
                resource_group: rg.into(),
                ..selector(&["m"], &[])
            },
        };
        let mine = Selection::new(&selector(&["m"], &[]), "sub");
        let claims = vec![
            claim("ns/a", t(10), "rg"),
            claim("ns/b", t(20), "RG"),
            claim("ns/c", t(20), "rg"),
            claim("ns/d", t(5), "other-rg"),
            claim("ns/me", t(20), "rg"),
        ];
        let (older, newer) = rivals(&claims, "ns/me", t(20), &mine);
        let names = |v: &[Rival]| v.iter().map(|r| r.object.clone()).collect::<Vec<_>>();
        assert_eq!(names(&older), ["ns/a", "ns/b", "ns/c"]);
        assert!(newer.is_empty());
        let (older, newer) = rivals(&claims, "ns/b", t(20), &mine);
        assert_eq!(names(&older), ["ns/a"]);
        assert_eq!(names(&newer), ["ns/c", "ns/me"]);
    }

    #[test]
    fn scope_ids_compare_without_case() {
        let id: ResourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/p"
            .parse()
            .unwrap();
        assert!(is_scope(
            "/SUBSCRIPTIONS/s/resourcegroups/RG/providers/microsoft.hybridcompute/privatelinkscopes/P",
            &id
        ));
        assert!(!is_scope(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/q",
            &id
        ));
        assert!(!is_scope("garbage", &id));
    }
}
