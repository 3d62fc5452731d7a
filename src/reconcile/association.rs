//! `ArcServerAssociation` -> `properties.privateLinkScopeResourceId` of
//! `Microsoft.HybridCompute/machines`.
//!
//! Machines are enumerated with one paged LIST of the resource group (one page in memory at a
//! time), never one GET per machine, and are only ever PATCHed (never PUT, created or deleted).
//! A pass writes a bounded batch concurrently and requeues soon while work remains; in steady
//! state a pass is the list pages plus the scope GET, and no write.

mod detach;
mod monitor;
mod pass;
mod select;
mod sweep;
mod tally;
mod writes;

use kube::ResourceExt;
use tokio::time::Instant;

use crate::api::association::{ConflictPolicy, DetachPolicy};
use crate::api::conditions::{READY, find};
use crate::api::{
    ArcServerAssociation, ArcServerAssociationStatus, DeletionPolicy, DriftPolicy, TagPolicy,
};
use crate::azure::{ArmError, CollectionId, ResourceId};

use super::declared::{self, Declared, Dependent};
use super::drift::entry;
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::scope_ref::{self, ScopeSource};
use super::{ChangeAction, Phase, Requeue, Settings, scope};
use detach::{Detached, detach};
use monitor::Monitor;
use pass::Pass;
pub use select::{Claim, MachineRef, Selection, is_scope};
use select::{Rules, rivals};
use sweep::{Entry, Sweep, drive};
pub use sweep::{MAX_SWEEPS, Sweeps};
pub use tally::{MAX_LISTED, MachineState};
pub use writes::Budget;
use writes::Writer;

pub const KIND: &str = "ArcServerAssociation";
const MACHINES: &str = "Microsoft.HybridCompute/machines";
const SCOPE_FIELD: &str = "properties.privateLinkScopeResourceId";
/// The product documentation: a new association can take up to 15 minutes to be accepted.
pub const ACCEPTANCE_NOTE: &str =
    "Azure can take up to 15 minutes to accept a new association with the scope";

/// What the controller layer found in Kubernetes for one association: its scope reference and
/// the other associations of the cluster (so conflicts between objects are decided without
/// Kubernetes I/O here).
#[derive(Clone, Debug)]
pub struct AssociationDeps {
    pub scope: ScopeSource,
    /// The other ArcServerAssociation objects whose scope is known; the object itself may be
    /// included (it is skipped).
    pub claims: Vec<Claim>,
    pub budget: Budget,
}

impl AssociationDeps {
    pub fn new(scope: ScopeSource) -> AssociationDeps {
        AssociationDeps {
            scope,
            claims: Vec::new(),
            budget: Budget::default(),
        }
    }
}

/// `namespace/name`, as claims name objects.
pub fn object_key(obj: &ArcServerAssociation) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The claim this object makes on machines, when its scope id is `scope_id`.
pub fn claim(obj: &ArcServerAssociation, scope_id: String) -> Claim {
    Claim {
        object: object_key(obj),
        created: created(obj),
        scope_id,
        machines: obj.spec.machines.clone(),
    }
}

fn created(obj: &ArcServerAssociation) -> jiff::Timestamp {
    // An object not yet stored by the API server has no creation time: it is the newest.
    obj.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or_else(jiff::Timestamp::now)
}

impl Managed for ArcServerAssociation {
    type Status = ArcServerAssociationStatus;
    type Deps = AssociationDeps;
    type State = Sweeps;
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the machines associated";

    fn common(&self) -> Common<'_> {
        Common {
            suspend: self.spec.suspend,
            drift: self.spec.policy.drift,
            deletion: match self.spec.deletion {
                DetachPolicy::Detach => DeletionPolicy::Delete,
                DetachPolicy::Orphan => DeletionPolicy::Orphan,
            },
            adopt: false,
            tags: TagPolicy::Merge,
            drift_check_interval: self.spec.policy.drift_check_interval.as_deref(),
            credential_ref: self.spec.credential_ref.as_ref(),
        }
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    /// Associates the selected machines with the scope (or, in dry-run, reports what it would
    /// do).
    async fn converge(cx: &mut Cx<'_, Self>, deps: &AssociationDeps) -> Result<Next, ArmError> {
        converge(cx, deps).await
    }

    /// `deletion: Detach`: clears the scope on the selected machines that still point to this
    /// object's scope and that no other association of the same scope selects. Large groups
    /// are detached in batches, keeping the finalizer in between.
    async fn delete(cx: &mut Cx<'_, Self>, deps: &AssociationDeps) -> Result<Cleaned, ArmError> {
        if let Some(waiting) = release_monitoring(cx, deps, false).await? {
            return Ok(Cleaned::Waiting(waiting));
        }
        let Some(scope_id) = scope_of(cx, deps) else {
            return Ok(Cleaned::Done(
                "no scope was ever resolved: no machine was associated".into(),
            ));
        };
        let mut written = Vec::new();
        let detached = detach(
            cx.arm,
            cx.settings,
            cx.state,
            cx.obj,
            deps,
            &scope_id,
            &mut written,
        )
        .await;
        // In name order: the writes run side by side and end in any order.
        written.sort_by_key(|id| id.name().to_ascii_lowercase());
        for machine in &written {
            let diff = vec![entry(SCOPE_FIELD, "", &scope_id.to_string())];
            cx.record(machine, ChangeAction::Update, diff);
        }
        Ok(match detached? {
            Detached::All(n) if cx.settings.dry_run => {
                Cleaned::Done(format!("would detach {n} machines from scope {scope_id}"))
            }
            Detached::All(n) => {
                Cleaned::Done(format!("detached {n} machines from scope {scope_id}"))
            }
            Detached::Some { done, left } => Cleaned::Waiting(Next::progressing(
                "Detaching",
                format!("detached {done} machines from scope {scope_id}; {left} left"),
                deps.budget.requeue,
            )),
        })
    }

    /// `deletion: Orphan`: the machines stay associated, their endpoint associations too,
    /// without arclink's owner marker.
    async fn orphan(cx: &mut Cx<'_, Self>, deps: &AssociationDeps) -> Result<Cleaned, ArmError> {
        if let Some(waiting) = release_monitoring(cx, deps, true).await? {
            return Ok(Cleaned::Waiting(waiting));
        }
        cx.state.forget(&object_key(cx.obj));
        Ok(Cleaned::Done(match scope_of(cx, deps) {
            Some(id) => format!("deletion Orphan: machines left associated with scope {id}"),
            None => "no scope was ever resolved: no machine was associated".into(),
        }))
    }
}

impl Dependent for ArcServerAssociation {
    /// The referenced scope, and the claims of the other associations on the same resource
    /// group. An association being deleted gives its machines up (Detach clears only machines
    /// still in its own scope, so the two never write the same machine back and forth).
    fn deps(&self, declared: &impl Declared, settings: &Settings) -> AssociationDeps {
        let namespace = self.namespace().unwrap_or_default();
        let me = object_key(self);
        let group = &self.spec.machines.resource_group;
        let claims = declared
            .associations()
            .into_iter()
            .filter(|other| {
                object_key(other) != me
                    && other.metadata.deletion_timestamp.is_none()
                    && other
                        .spec
                        .machines
                        .resource_group
                        .eq_ignore_ascii_case(group)
            })
            .filter_map(|other| {
                let ns = other.namespace().unwrap_or_default();
                let id = declared::scope_id(
                    declared,
                    settings,
                    &ns,
                    &other.spec.scope_ref,
                    &other.spec.scope_id,
                )?;
                Some(claim(&other, id))
            })
            .collect();
        let mut deps = AssociationDeps::new(declared::source(
            declared,
            &namespace,
            &self.spec.scope_ref,
            &self.spec.scope_id,
        ));
        deps.claims = claims;
        deps
    }
}

/// The scope the object's machines were associated with: as recorded, else as declared.
fn scope_of(cx: &Cx<'_, ArcServerAssociation>, deps: &AssociationDeps) -> Option<ResourceId> {
    cx.status
        .scope_resource_id
        .as_deref()
        .and_then(|s| s.parse::<ResourceId>().ok())
        .or_else(|| match &deps.scope {
            ScopeSource::Id(raw) => raw.parse().ok(),
            ScopeSource::Ref {
                object: Some(o), ..
            } => scope::scope_id(o, cx.settings).ok(),
            ScopeSource::Ref { object: None, .. } => None,
        })
}

/// One pass: continues (or begins) the object's listing of its resource group, writing what
/// the pages call for, then says where the object stands.
async fn converge(
    cx: &mut Cx<'_, ArcServerAssociation>,
    deps: &AssociationDeps,
) -> Result<Next, ArmError> {
    let interval = cx.interval;
    let (target, managed) = match scope_ref::target(cx.settings, &deps.scope, interval) {
        Ok(target) => target,
        Err(next) => return Ok(next),
    };
    // Machines this object moved to its previous scope follow it when spec.scopeRef changes.
    let moved_from = cx
        .status
        .scope_resource_id
        .as_deref()
        .and_then(|s| s.parse::<ResourceId>().ok())
        .filter(|p| p != &target);
    let obj = cx.obj;
    let mine = Selection::new(&obj.spec.machines, target.subscription());
    let key = object_key(obj);
    let basis = sweep::basis(obj, &target, &deps.claims, cx.settings.dry_run);
    let kept = match cx.state.take(&key) {
        Some(Entry::Converge(s)) => Some(s),
        _ => None,
    };
    let sweep = match kept {
        Some(s) if s.continues(basis, interval) => *s,
        kept => {
            // A new listing reads the scope first: it may have gone, or moved region.
            let scope = match scope_ref::read(cx.arm, target.clone(), managed, interval).await? {
                Ok(scope) => scope,
                Err(next) => return Ok(next),
            };
            let previous = moved_from.or_else(|| {
                kept.filter(|s| s.scope.id == target)
                    .and_then(|s| s.previous)
            });
            // Ready for this very spec: what the new listing writes is drift, and until it is
            // over the status of the last one stands.
            let settled = find(&cx.status.common.conditions, READY).is_some_and(|c| {
                c.status == "True" && c.observed_generation == obj.metadata.generation
            });
            let mut sweep = Sweep::new(basis, scope, previous, settled, mine.names());
            let group = ResourceId::resource_group_id(mine.subscription(), mine.resource_group());
            match read_monitor(cx, &group).await? {
                Ok(monitor) => sweep.monitor = monitor,
                Err(next) => return Ok(next),
            }
            if obj.spec.monitoring.is_some() {
                sweep.tally.summary.monitoring = Some(Default::default());
            }
            sweep
        }
    };
    cx.status.scope_resource_id = Some(target.to_string());
    let scope = sweep.scope.clone();
    let (older, newer) = rivals(&deps.claims, &key, created(obj), &mine);
    let group = ResourceId::resource_group_id(mine.subscription(), mine.resource_group());
    let rules = Rules {
        scope: &scope,
        previous: sweep.previous.clone(),
        older: older.into_iter().filter(|r| r.scope != scope.id).collect(),
        newer: newer.into_iter().filter(|r| r.scope != scope.id).collect(),
        takeover: obj.spec.on_conflict == ConflictPolicy::Takeover,
        report: obj.spec.policy.drift == DriftPolicy::Report,
    };
    let started = Instant::now();
    let (arm, state, batch) = (cx.arm, cx.state, deps.budget.requeue);
    let writer = Writer::new(arm, deps.budget);
    let mut pass = Pass::new(cx, &group, &mine, rules, writer, sweep);
    let collection = CollectionId::new(&group, MACHINES);
    let driven = drive(&mut pass, arm, &collection).await;
    pass.record_changes();
    if let Err(failure) = driven {
        let e = failure.error;
        if e.is_retryable() {
            // The page is read again by the next pass, which goes on from there.
            state.put(key, Entry::Converge(Box::new(pass.sweep)));
            return Err(e);
        }
        if failure.kept_link {
            // A nextLink kept since an earlier pass may have expired (ARM's skip tokens are
            // opaque): the next pass lists from the first page rather than stalling.
            tracing::info!(collection = %collection, error = %e, "continuing the listing failed; listing from the first page again");
            return Ok(Next::progressing(
                "Associating",
                format!(
                    "the listing of the machines in {group} could not be continued ({}: {}); listing them again from the first page",
                    e.code(),
                    e.message()
                ),
                batch,
            ));
        }
        return Err(e);
    }
    if pass.sweep.cursor.is_done() {
        pass.remove_stale().await;
    }
    pass.record_changes();
    let next = if pass.sweep.cursor.is_done() {
        // The whole group was read: the status and `Drifted` say what this listing found.
        let began_earlier = pass.sweep.cursor.began_before(started);
        let age = pass.sweep.cursor.age();
        let mut tally = std::mem::take(&mut pass.sweep.tally);
        let mut missing: Vec<String> = std::mem::take(&mut pass.sweep.unseen)
            .into_values()
            .collect();
        missing.sort();
        for name in missing {
            tally.add(
                &name,
                MachineState::NotFound,
                Some(format!(
                    "no machine named {name} in resource group {}",
                    mine.resource_group()
                )),
            );
        }
        pass.cx.observed();
        let next = pass.complete(&tally, batch);
        if pass.stale_left == 0 && !pass.cx.settings.dry_run {
            // Every association with an endpoint no longer listed is gone.
            let listed = obj.spec.monitoring.as_ref();
            pass.cx.status.data_collection_endpoint_ids = listed
                .map(|m| m.data_collection_endpoint_ids.clone())
                .unwrap_or_default();
        }
        pass::record(&mut pass.cx.status, tally);
        // Due again one interval after the first page was read, so that every page is read at
        // least once per interval however many passes the listing took.
        match next {
            Next {
                phase: phase @ Phase::Ready { .. },
                requeue: Requeue::After(d),
            } if began_earlier && d == interval => Next {
                phase,
                requeue: Requeue::After(interval.saturating_sub(age).max(batch)),
            },
            other => other,
        }
    } else {
        pass.partial(batch)
    };
    state.put(key, Entry::Converge(Box::new(pass.sweep)));
    Ok(next)
}

/// `spec.monitoring` for a new listing: the endpoints' regions and associations, those of the
/// endpoints the status still records included (`None` when there is neither). The status
/// records the spec's endpoints from now on, so that they are looked at until arclink's
/// associations with them are removed.
async fn read_monitor(
    cx: &mut Cx<'_, ArcServerAssociation>,
    group: &ResourceId,
) -> Result<Result<Option<Monitor>, Next>, ArmError> {
    let spec = cx.obj.spec.monitoring.as_ref();
    let recorded = &cx.status.data_collection_endpoint_ids;
    if spec.is_none() && recorded.is_empty() {
        return Ok(Ok(None));
    }
    let marker = cx.owner().description_marker();
    let read = monitor::read(cx.arm, spec, recorded, group, marker, cx.interval).await?;
    let monitor = match read {
        Ok(m) => m,
        Err(next) => return Ok(Err(next)),
    };
    if !cx.settings.dry_run {
        let listed = spec.map(|s| s.data_collection_endpoint_ids.as_slice());
        let all = monitor::endpoints(recorded, listed.unwrap_or_default());
        cx.status.data_collection_endpoint_ids = all.iter().map(ToString::to_string).collect();
    }
    Ok(Ok(Some(monitor)))
}

/// Deletion, first: removes arclink's endpoint associations on the machines of the group
/// (`orphan`: leaves them without its owner marker), in batches. `Some`: where the deletion
/// stands while some are left.
async fn release_monitoring(
    cx: &mut Cx<'_, ArcServerAssociation>,
    deps: &AssociationDeps,
    orphan: bool,
) -> Result<Option<Next>, ArmError> {
    let listed = cx.obj.spec.monitoring.as_ref();
    let listed = listed.map(|m| m.data_collection_endpoint_ids.as_slice());
    let endpoints = monitor::endpoints(
        listed.unwrap_or_default(),
        &cx.status.data_collection_endpoint_ids,
    );
    if endpoints.is_empty() {
        return Ok(None);
    }
    let sel = &cx.obj.spec.machines;
    // The machines' subscription defaults to the scope's, which every endpoint id would not
    // tell: without a resolved scope, the endpoint's subscription is the best guess.
    let subscription = sel
        .subscription_id
        .clone()
        .or_else(|| scope_of(cx, deps).map(|s| s.subscription().to_string()))
        .unwrap_or_else(|| endpoints[0].subscription().to_string());
    let group = ResourceId::resource_group_id(&subscription, &sel.resource_group);
    let marker = cx.owner().description_marker();
    let dry_run = cx.settings.dry_run;
    let mut removal = monitor::remove_all(
        cx.arm,
        dry_run,
        orphan,
        deps.budget,
        &group,
        &endpoints,
        marker.clone(),
    )
    .await?;
    // In name order: the writes run side by side and end in any order.
    removal
        .removed
        .sort_by_key(|(id, _)| id.to_string().to_ascii_lowercase());
    for (id, endpoint) in &removal.removed {
        let (action, diff) = match orphan {
            true => (
                ChangeAction::Update,
                entry("properties.description", "", &marker),
            ),
            false => (
                ChangeAction::Delete,
                entry(monitor::ENDPOINT_FIELD, "", endpoint),
            ),
        };
        cx.record(id, action, vec![diff]);
    }
    if removal.left == 0 {
        if !dry_run {
            cx.status.data_collection_endpoint_ids.clear();
        }
        return Ok(None);
    }
    Ok(Some(Next::progressing(
        "Detaching",
        format!(
            "{} {} configurationAccessEndpoint associations arclink wrote; {} left",
            if orphan { "released" } else { "removed" },
            removal.removed.len(),
            removal.left
        ),
        deps.budget.requeue,
    )))
}
