//! `spec.scopedResources`: the Azure Monitor resources linked to the scope, diffed as a set
//! keyed by the linked resource's id (compared without case, as ARM compares ids).
//!
//! Azure's scoped resources are read first, every reconcile: a resource linked already, under
//! whatever name and by whoever linked it, is not written again (Azure answers a second PUT of
//! the same linked resource with 409, Azure/azure-rest-api-specs#28176). Writes go one at a time
//! per scope (concurrent ones fail with "Cannot modify resource while in provisioning state",
//! hashicorp/terraform-provider-azurerm#22236): while a link of the scope is being written —
//! its operation kept in `status.operations`, or Azure showing it provisioning — nothing else
//! is written, and each write's operation is followed to its end.
//!
//! Ownership: the links arclink makes are named after the linked resource ([`link_name`]:
//! `arclink-<resource name>-<8 hex digits of the SHA-256 of its lower-cased id>`), so a link
//! is arclink's exactly when its name is the one derived from its own `linkedResourceId`. Only
//! those are unlinked when their entry leaves the spec, or deleted and linked again when their
//! provisioning failed (a PUT of a linked resource cannot repair it: 409); links others made
//! are left as they are.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;

use crate::api::ArcMonitorPrivateLinkScope;
use crate::api::monitor_scope::ScopedResourceStatus;
use crate::azure::credentials::sha256_hex;
use crate::azure::models::{ScopedResource, ScopedResourceProperties};
use crate::azure::{ArmError, CollectionId, ResourceId};
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::resource::{
    ArmResource, Converged, Pending, Provisioned, failed, first_stop, in_flight, state_of, waiting,
};

/// The prefix of the names of the links arclink makes.
pub const LINK_PREFIX: &str = "arclink-";
/// The child type of the scope's links.
const SCOPED_RESOURCES: &str = "scopedResources";
/// The reason of an object waiting for its links.
const LINKING: &str = "LinkingResources";

impl Provisioned for ScopedResourceProperties {
    fn provisioning_state(&self) -> Option<&str> {
        self.provisioning_state.as_deref()
    }
}

/// The name of the scoped resource arclink makes for `linked`: stable (the same resource,
/// however its id is spelt, gives the same name), valid (letters, digits and `-`, at most 77
/// characters) and distinct per linked resource.
pub fn link_name(linked: &str) -> String {
    let id = linked.trim_end_matches('/').to_ascii_lowercase();
    let name: String = id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let digest = sha256_hex(&id);
    format!("{LINK_PREFIX}{name}-{}", &digest[..8])
}

/// The resource a link links, lower-cased (`None`: Azure reports none).
fn linked_of(link: &ScopedResource) -> Option<String> {
    link.properties
        .as_ref()?
        .linked_resource_id
        .as_deref()
        .map(str::to_ascii_lowercase)
}

/// Whether arclink made the link: its name is the one derived from what it links.
fn is_ours(link: &ScopedResource) -> bool {
    match (link.name.as_deref(), linked_of(link)) {
        (Some(name), Some(linked)) => name.eq_ignore_ascii_case(&link_name(&linked)),
        _ => false,
    }
}

/// A link to create, as it describes itself to the engine.
struct Link {
    id: ResourceId,
    linked: String,
}

impl ArmResource for Link {
    type Props = ScopedResourceProperties;

    const WHAT: &'static str = "scoped resource";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        format!("scopedResources[{}].", self.linked)
    }

    fn desired(&self, _: Option<&ScopedResource>) -> ScopedResource {
        ScopedResource {
            properties: Some(ScopedResourceProperties {
                linked_resource_id: Some(self.linked.clone()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn missing(&self) -> crate::api::DriftEntry {
        entry(
            &format!("scopedResources[{}]", self.linked),
            "linked",
            "missing",
        )
    }
}

/// Converges the scope's links: `None` once every declared resource is linked (and provisioned)
/// and none of arclink's links is left over; else where the object waits or stops. A scope
/// that does not `exist` yet has none (a plan's new scope).
pub async fn converge(
    cx: &mut Cx<'_, ArcMonitorPrivateLinkScope>,
    scope: &ResourceId,
    exists: bool,
) -> Result<Option<Next>, ArmError> {
    let actual: Vec<ScopedResource> = if exists {
        let collection = CollectionId::new(scope, SCOPED_RESOURCES);
        cx.arm.list(&collection).try_collect().await?
    } else {
        Vec::new()
    };
    cx.status.scoped_resources = actual.iter().map(status_of).collect();
    if let Some(next) = busy(cx, scope, &actual) {
        return Ok(Some(next));
    }
    let declared = declared(cx.obj);
    if let Some(next) = repair(cx, scope, &actual, &declared).await? {
        return Ok(Some(next));
    }
    // Under dry-run every write is only recorded, so the plan lists all of them.
    let one_write = !cx.settings.dry_run;
    let mut next = None;
    let linked: BTreeSet<String> = actual.iter().filter_map(linked_of).collect();
    for (key, id) in &declared {
        if linked.contains(key) {
            continue;
        }
        let link = Link {
            id: scope.child(SCOPED_RESOURCES, &link_name(id)),
            linked: id.clone(),
        };
        match cx.converge_resource(&link, None).await? {
            Converged::Stopped(stop) => return Ok(Some(stop)),
            Converged::Waiting(wait) => {
                next = first_stop(next, Some(wait));
                if one_write {
                    return Ok(next);
                }
            }
            // Reported (`Report`), or written and provisioned at once.
            Converged::Absent | Converged::Ready(_) | Converged::Written(_) => {}
        }
    }
    for link in actual.iter().filter(|l| is_ours(l)) {
        let Some(key) = linked_of(link).filter(|k| !declared.contains_key(k)) else {
            continue;
        };
        let Some(id) = link.id.clone() else {
            continue;
        };
        let leftover = entry(&format!("scopedResources[{key}]"), "unlinked", "linked");
        if cx.may_correct(vec![leftover]).is_none() {
            continue;
        }
        if let Some(wait) = cx.delete_followed(&id, state_of(link)).await? {
            next = first_stop(next, Some(wait));
            if one_write {
                return Ok(next);
            }
        }
    }
    Ok(next)
}

/// The declared resources by lower-cased id (an id listed twice in another case is one).
fn declared(obj: &ArcMonitorPrivateLinkScope) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in &obj.spec.scoped_resources {
        out.entry(r.resource_id.to_ascii_lowercase())
            .or_insert_with(|| r.resource_id.clone());
    }
    out
}

/// The wait while a link of the scope is being written: by arclink (an operation kept in
/// status that still runs) or by anyone (Azure shows it provisioning or deleting). Azure
/// refuses a write to a scope's links meanwhile.
fn busy(
    cx: &Cx<'_, ArcMonitorPrivateLinkScope>,
    scope: &ResourceId,
    actual: &[ScopedResource],
) -> Option<Next> {
    let prefix = format!("{scope}/{SCOPED_RESOURCES}/").to_ascii_lowercase();
    let mut pending = Pending::default();
    let mut named = BTreeSet::new();
    for (id, next) in &cx.running {
        if id.to_string().to_ascii_lowercase().starts_with(&prefix)
            && named.insert(id.name().to_ascii_lowercase())
        {
            pending.add(id.name(), next);
        }
    }
    for link in actual.iter().filter(|l| in_flight(state_of(l))) {
        let name = link.name.clone().unwrap_or_default();
        if named.insert(name.to_ascii_lowercase()) {
            let state = state_of(link).unwrap_or_default();
            pending.add(
                name,
                &waiting(LINKING, format!("provisioningState {state}")),
            );
        }
    }
    pending.wait(LINKING, |names| {
        format!("waiting for scoped resources of {scope} being written, one at a time: {names}")
    })
}

/// A declared resource whose link failed to provision: arclink's link is deleted so that the
/// next reconcile links it again (under `Correct`), or reported; a link someone else made is
/// not arclink's to repair.
async fn repair(
    cx: &mut Cx<'_, ArcMonitorPrivateLinkScope>,
    scope: &ResourceId,
    actual: &[ScopedResource],
    declared: &BTreeMap<String, String>,
) -> Result<Option<Next>, ArmError> {
    let broken = actual
        .iter()
        .find(|l| failed(state_of(l)) && linked_of(l).is_some_and(|k| declared.contains_key(&k)));
    let Some(link) = broken else {
        return Ok(None);
    };
    let name = link.name.clone().unwrap_or_default();
    let state = state_of(link).unwrap_or_default().to_string();
    let linked = linked_of(link).unwrap_or_default();
    let message = format!(
        "scoped resource {name} of {scope} (linking {linked}) has provisioningState {state}"
    );
    let (Some(id), true) = (link.id.clone(), is_ours(link)) else {
        return Ok(Some(cx.stalled(
            "ScopedResourceFailed",
            format!("{message}; it was linked by someone else, and arclink does not repair it"),
        )));
    };
    let difference = entry(
        &format!("scopedResources[{linked}].properties.provisioningState"),
        "Succeeded",
        &state,
    );
    if cx.report_only() {
        cx.may_correct(vec![difference]);
        return Ok(Some(cx.stalled("ScopedResourceFailed", message)));
    }
    if cx.may_correct(vec![difference]).is_none() {
        return Ok(Some(cx.stalled("ScopedResourceFailed", message)));
    }
    // Deleted, then linked again by the next reconcile: a PUT cannot repair it (409).
    let wait = cx.delete_followed(&id, Some(&state)).await?;
    Ok(Some(wait.unwrap_or_else(|| {
        waiting(LINKING, format!("{message}: deleted, to be linked again"))
    })))
}

/// A link as the status lists it.
fn status_of(link: &ScopedResource) -> ScopedResourceStatus {
    ScopedResourceStatus {
        name: link.name.clone().unwrap_or_default(),
        resource_id: link
            .properties
            .as_ref()
            .and_then(|p| p.linked_resource_id.clone()),
        provisioning_state: state_of(link).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.OperationalInsights/workspaces/arc-logs";

    #[test]
    fn link_names_are_stable_valid_and_distinct() {
        let name = link_name(WS);
        assert!(name.starts_with("arclink-arc-logs-"), "{name}");
        assert_eq!(name.len(), "arclink-arc-logs-".len() + 8);
        assert_eq!(
            link_name(&WS.to_uppercase()),
            name,
            "ids compare without case"
        );
        assert_ne!(link_name(&WS.replace("rg-arc", "rg-other")), name);
        let odd = link_name(&format!(
            "{}/My.App(1)",
            WS.replace(
                "Microsoft.OperationalInsights/workspaces/arc-logs",
                "Microsoft.Insights/components"
            )
        ));
        assert!(odd.starts_with("arclink-my-app-1--"), "{odd}");
        assert!(odd.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        let long = link_name(&format!("{WS}{}", "x".repeat(200)));
        assert!(long.len() <= LINK_PREFIX.len() + 60 + 9, "{long}");
    }

    #[test]
    fn a_link_is_ours_only_under_the_name_derived_from_what_it_links() {
        let link = |name: &str, linked: &str| ScopedResource {
            name: Some(name.into()),
            properties: Some(ScopedResourceProperties {
                linked_resource_id: Some(linked.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(is_ours(&link(&link_name(WS), WS)));
        assert!(is_ours(&link(
            &link_name(WS).to_uppercase(),
            &WS.to_lowercase()
        )));
        assert!(!is_ours(&link("arc-logs-connection", WS)));
        assert!(!is_ours(&link(
            &link_name(WS),
            &WS.replace("arc-logs", "other")
        )));
    }
}
