//! `ArcServerAssociation` -> `properties.privateLinkScopeResourceId` of
//! `Microsoft.HybridCompute/machines`.
//!
//! Machines are enumerated with one paged LIST of the resource group (one page in memory at a
//! time), never one GET per machine, and are only ever PATCHed (never PUT, created or deleted).
//! A pass writes a bounded batch concurrently and requeues soon while work remains; in steady
//! state a pass is the list pages plus the scope GET, and no write.

mod select;
mod sweep;
mod tally;
mod writes;

use std::time::Duration;

use kube::ResourceExt;
use tokio::time::Instant;

use crate::api::association::{AssociationSummary, ConflictPolicy, DetachPolicy};
use crate::api::conditions::{READY, find, is_true};
use crate::api::{
    ArcServerAssociation, ArcServerAssociationStatus, DeletionPolicy, DriftEntry, DriftPolicy,
    TagPolicy,
};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId, Write};

use super::arm::{OPERATION_POLL, phase_for_error};
use super::drift::{Drift, entry, same_location};
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::scope_ref::{self, ResolvedScope, ScopeSource};
use super::{Change, ChangeAction, Phase, Requeue, Settings, scope};
pub use select::{Claim, MachineRef, Selection, is_scope};
use select::{Rival, rivals};
use sweep::{Detaching, Entry, Sweep};
pub use sweep::{MAX_SWEEPS, Sweeps};
use tally::Tally;
pub use tally::{MAX_LISTED, MachineState};
pub use writes::Budget;
use writes::{Finished, Writer};

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

/// The drift check interval of this object.
pub fn drift_interval(obj: &ArcServerAssociation, settings: &Settings) -> Duration {
    settings.drift_interval(obj.spec.policy.drift_check_interval.as_deref())
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

type Step = (Phase, Requeue);

impl Managed for ArcServerAssociation {
    type Status = ArcServerAssociationStatus;
    type Deps = AssociationDeps;
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
        let (phase, requeue) = converge(
            cx.arm,
            cx.settings,
            cx.obj,
            deps,
            &mut cx.status,
            &mut cx.changes,
            &mut cx.drift,
        )
        .await?;
        Ok(Next { phase, requeue })
    }

    /// `deletion: Detach`: clears the scope on the selected machines that still point to this
    /// object's scope and that no other association of the same scope selects. Large groups
    /// are detached in batches, keeping the finalizer in between.
    async fn delete(cx: &mut Cx<'_, Self>, deps: &AssociationDeps) -> Result<Cleaned, ArmError> {
        let Some(scope_id) = scope_of(cx, deps) else {
            return Ok(Cleaned::Done(
                "no scope was ever resolved: no machine was associated".into(),
            ));
        };
        Ok(
            match detach(cx.arm, cx.settings, cx.obj, deps, &scope_id).await? {
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
            },
        )
    }

    /// `deletion: Orphan`: the machines stay associated.
    async fn orphan(cx: &mut Cx<'_, Self>, deps: &AssociationDeps) -> Result<Cleaned, ArmError> {
        cx.settings.sweeps.forget(&object_key(cx.obj));
        Ok(Cleaned::Done(match scope_of(cx, deps) {
            Some(id) => format!("deletion Orphan: machines left associated with scope {id}"),
            None => "no scope was ever resolved: no machine was associated".into(),
        }))
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

async fn converge(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcServerAssociation,
    deps: &AssociationDeps,
    status: &mut ArcServerAssociationStatus,
    changes: &mut Vec<Change>,
    drift: &mut Drift,
) -> Result<Step, ArmError> {
    let interval = drift_interval(obj, settings);
    let was_ready = is_true(&status.common.conditions, READY);
    let (target, managed) = match scope_ref::target(settings, &deps.scope, interval) {
        Ok(target) => target,
        Err(next) => return Ok(next),
    };
    // Machines this object moved to its previous scope follow it when spec.scopeRef changes.
    let moved_from = status
        .scope_resource_id
        .as_deref()
        .and_then(|s| s.parse::<ResourceId>().ok())
        .filter(|p| p != &target);
    let mine = Selection::new(&obj.spec.machines, target.subscription());
    let key = object_key(obj);
    let basis = sweep::basis(obj, &target, &deps.claims, settings.dry_run);
    let kept = match settings.sweeps.take(&key) {
        Some(Entry::Converge(s)) => Some(s),
        _ => None,
    };
    let sweep = match kept {
        Some(s) if s.continues(basis, interval) => *s,
        kept => {
            // A new listing reads the scope first: it may have gone, or moved region.
            let scope = match scope_ref::read(arm, target.clone(), managed, interval).await? {
                Ok(scope) => scope,
                Err(next) => return Ok(next),
            };
            let previous = moved_from.or_else(|| {
                kept.filter(|s| s.scope.id == target)
                    .and_then(|s| s.previous)
            });
            // Ready for this very spec: what the new listing writes is drift, and until it is
            // over the status of the last one stands.
            let settled = find(&status.common.conditions, READY).is_some_and(|c| {
                c.status == "True" && c.observed_generation == obj.metadata.generation
            });
            Sweep::new(basis, scope, previous, settled, mine.names())
        }
    };
    status.scope_resource_id = Some(target.to_string());
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
    let mut pass = Pass {
        group: &group,
        scope: &scope,
        dry_run: settings.dry_run,
        writer: Writer::new(arm, deps.budget),
        sweep,
        changes,
        written: 0,
        failed: 0,
        accepted: 0,
        retry: None,
    };
    let collection = CollectionId::new(&group, MACHINES);
    if let Err(failure) = pass.run(arm, &collection, &mine, &rules).await {
        let e = failure.error;
        if e.is_retryable() {
            // The page is read again by the next pass, which goes on from there.
            settings
                .sweeps
                .put(key, Entry::Converge(Box::new(pass.sweep)));
            return Err(e);
        }
        if failure.kept_link {
            // A nextLink kept since an earlier pass may have expired (ARM's skip tokens are
            // opaque): the next pass lists from the first page rather than stalling.
            tracing::info!(collection = %collection, error = %e, "continuing the listing failed; listing from the first page again");
            return Ok((
                Phase::progressing(
                    "Associating",
                    format!(
                        "the listing of the machines in {group} could not be continued ({}: {}); listing them again from the first page",
                        e.code(),
                        e.message()
                    ),
                ),
                Requeue::After(deps.budget.requeue),
            ));
        }
        return Err(e);
    }
    let step = if pass.sweep.cursor.is_done() {
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
        status.common.last_sync_time = Some(jiff::Timestamp::now().to_string());
        drift.observed = true;
        let step = pass.complete(&tally, interval, deps.budget.requeue, drift);
        // Due again one interval after the first page was read, so that every page is read at
        // least once per interval however many passes the listing took.
        let step = match step {
            (phase @ Phase::Ready { .. }, Requeue::After(d)) if began_earlier && d == interval => (
                phase,
                Requeue::After(interval.saturating_sub(age).max(deps.budget.requeue)),
            ),
            other => other,
        };
        status.summary = tally.summary.clone();
        let (machines, omitted) = tally.into_listed();
        status.machines = machines;
        status.machines_omitted = omitted;
        step
    } else {
        pass.partial(status, was_ready, interval, deps.budget.requeue)
    };
    settings
        .sweeps
        .put(key, Entry::Converge(Box::new(pass.sweep)));
    Ok(step)
}

/// What decides a machine's fate, besides the machine.
struct Rules<'a> {
    scope: &'a ResolvedScope,
    previous: Option<ResourceId>,
    /// Older associations with another scope: they win.
    older: Vec<Rival>,
    /// Newer associations with another scope: they yield, so their scope may be overwritten.
    newer: Vec<Rival>,
    takeover: bool,
    report: bool,
}

enum Decision {
    Is(MachineState, Option<String>),
    Write,
}

impl Rules<'_> {
    fn decide(&self, m: &MachineRef) -> Decision {
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

/// A page read failed.
struct ListFailure {
    error: ArmError,
    /// The page was the one a `nextLink` kept from an earlier pass points at.
    kept_link: bool,
}

/// One reconcile pass: continues the object's listing, writing what its pages call for.
struct Pass<'a> {
    group: &'a ResourceId,
    scope: &'a ResolvedScope,
    dry_run: bool,
    writer: Writer,
    sweep: Sweep,
    changes: &'a mut Vec<Change>,
    /// PATCHes ARM accepted in this pass.
    written: u32,
    /// PATCHes that failed for good in this pass.
    failed: u32,
    /// PATCHes ARM accepted as long-running operations in this pass.
    accepted: u32,
    /// Earliest retry a throttled or transient failure asks for.
    retry: Option<Requeue>,
}

impl Pass<'_> {
    /// Handles the machines earlier passes left, then reads pages while the budget lasts and
    /// the listing is not over. A page is read only when no machine is waiting for budget, so
    /// at most the rest of one page is carried to the next pass. Waits for the PATCHes in
    /// flight, also after an error.
    async fn run(
        &mut self,
        arm: &ArmClient,
        collection: &CollectionId,
        mine: &Selection,
        rules: &Rules<'_>,
    ) -> Result<(), ListFailure> {
        for m in self.sweep.cursor.take_left() {
            self.machine(m, rules).await;
        }
        let mut kept_link = self.sweep.cursor.at_link();
        let mut listed = Ok(());
        // A dry run writes nothing and reads the whole group in one pass (`plan` reports it
        // whole). Every pass reads a page at least, so that the listing progresses however
        // slow ARM is against the time bound.
        let mut read = 0;
        while self.sweep.cursor.wants_page()
            && (self.dry_run || read == 0 || self.writer.has_budget())
        {
            read += 1;
            let page = match self.sweep.cursor.next_page(arm, collection).await {
                Ok(page) => page,
                Err(error) => {
                    listed = Err(ListFailure { error, kept_link });
                    break;
                }
            };
            kept_link = false;
            for m in page {
                if !mine.selects(&m) {
                    continue;
                }
                self.sweep.unseen.remove(&m.name.to_ascii_lowercase());
                self.machine(m, rules).await;
            }
        }
        while let Some(done) = self.writer.next().await {
            self.finished(done);
        }
        listed
    }

    async fn machine(&mut self, m: MachineRef, rules: &Rules<'_>) {
        match rules.decide(&m) {
            Decision::Is(state, message) => self.sweep.tally.add(&m.name, state, message),
            Decision::Write => {
                if !self.dry_run && !self.writer.has_budget() {
                    self.sweep.cursor.defer(m);
                    return;
                }
                let id = self.group.child(MACHINES, &m.name);
                self.changes.push(Change {
                    action: ChangeAction::Update,
                    resource_id: id.to_string(),
                    diff: vec![DriftEntry {
                        path: SCOPE_FIELD.into(),
                        desired: self.scope.id.to_string(),
                        actual: m.scope().unwrap_or_default().to_string(),
                    }],
                });
                if self.dry_run {
                    self.sweep.tally.add(
                        &m.name,
                        MachineState::Pending,
                        Some(format!("would associate with scope {}", self.scope.id)),
                    );
                    return;
                }
                if let Some(done) = self.writer.start(id, m, Some(self.scope.id.clone())).await {
                    self.finished(done);
                }
            }
        }
    }

    fn finished(&mut self, done: Finished) {
        let Finished { machine, result } = done;
        let name = machine.name.as_str();
        match result {
            Ok(Write::Done(m)) => match m.scope() {
                Some(c) if !is_scope(c, &self.scope.id) => self.sweep.tally.add(
                    name,
                    MachineState::Pending,
                    Some(format!("ARM accepted the update but reports scope {c}")),
                ),
                _ => {
                    self.written += 1;
                    self.sweep.written += 1;
                    self.sweep.tally.add(name, MachineState::Associated, None);
                }
            },
            Ok(Write::Pending(_)) => {
                self.written += 1;
                self.sweep.written += 1;
                self.accepted += 1;
                self.sweep.tally.add(
                    name,
                    MachineState::Pending,
                    Some("update accepted; ARM is applying it".into()),
                );
            }
            Err(e) if e.is_retryable() => {
                self.unrecord(name);
                let retry = match &e {
                    ArmError::Throttled { retry_after } => Requeue::After(*retry_after),
                    _ => Requeue::Backoff,
                };
                self.retry = Some(match self.retry {
                    Some(Requeue::After(a)) if matches!(retry, Requeue::After(b) if b < a) => {
                        Requeue::After(a)
                    }
                    Some(Requeue::Backoff) => Requeue::Backoff,
                    _ => retry,
                });
                // Written again by the next pass without listing it again.
                let why = format!("{}: {} (will retry)", e.code(), e.message());
                self.sweep.cursor.retry(machine, why);
            }
            Err(e) => {
                self.unrecord(name);
                self.failed += 1;
                self.sweep.tally.add(
                    name,
                    MachineState::Failed,
                    Some(format!("{}: {}", e.code(), e.message())),
                );
                self.sweep.failure.get_or_insert(e);
            }
        }
    }

    /// Drops the change recorded when the PATCH of machine `name` started: ARM refused it.
    fn unrecord(&mut self, name: &str) {
        let id = self.group.child(MACHINES, name).to_string();
        self.changes.retain(|c| c.resource_id != id);
    }

    /// The outcome of a listing that is over (`tally` holds every machine it found).
    fn complete(
        &mut self,
        tally: &Tally,
        interval: Duration,
        batch: Duration,
        drift: &mut Drift,
    ) -> Step {
        let s = &tally.summary;
        let id = &self.scope.id;
        let counts = counts(s, id, true);
        // One entry for the fleet, however many machines: the note says how many.
        let machines = |n: u32| entry(SCOPE_FIELD, &id.to_string(), &format!("{n} machines"));
        if tally.drifted > 0 {
            drift.reported.push(machines(tally.drifted));
            drift.notes.push(format!(
                "{} machines are not associated with scope {id} (drift policy Report)",
                tally.drifted
            ));
        } else if self.sweep.written > 0 && self.sweep.was_ready {
            drift.corrected.push(machines(self.sweep.written));
            drift.notes.push(format!(
                "re-associated {} machines with scope {id}",
                self.sweep.written
            ));
        }
        if let Some(e) = self.sweep.failure.take() {
            return stalled(&e, s.failed, &counts, interval);
        }
        let pending = s.pending - tally.drifted;
        if pending > 0 {
            return self.progressing(&counts, pending, interval, batch, "");
        }
        (
            Phase::ready("Succeeded", ready_message(s, tally.drifted, id)),
            Requeue::After(interval),
        )
    }

    /// The outcome of a pass that leaves the listing for the next. An object Ready for its
    /// current spec, in which this listing found nothing to do so far, keeps its status as the
    /// last complete listing wrote it (a large group read over several passes in steady state
    /// changes nothing, so nothing is written to the API server); otherwise the status shows
    /// the machines listed so far.
    fn partial(
        &mut self,
        status: &mut ArcServerAssociationStatus,
        was_ready: bool,
        interval: Duration,
        batch: Duration,
    ) -> Step {
        let mut tally = self.sweep.tally.clone();
        for (m, why) in self.sweep.cursor.left() {
            tally.add(&m.name, MachineState::Pending, Some(why.to_string()));
        }
        let s = &tally.summary;
        let id = &self.scope.id;
        let pending = s.pending - tally.drifted;
        if was_ready && self.sweep.was_ready && pending == 0 && s.failed == 0 {
            let kept = &status.summary;
            let drifted = kept.pending;
            return (
                Phase::ready("Succeeded", ready_message(kept, drifted, id)),
                Requeue::After(batch),
            );
        }
        let counts = counts(s, id, false);
        // A pass whose every write failed for good stops the listing until the drift check
        // (a missing permission would fail the rest the same way); otherwise the listing goes
        // on and the failures are reported when it is over.
        let step = match &self.sweep.failure {
            Some(e) if self.written == 0 && self.failed > 0 => {
                stalled(e, s.failed, &counts, interval)
            }
            _ => self.progressing(&counts, pending, interval, batch, "; more machines to list"),
        };
        status.summary = tally.summary.clone();
        let (machines, omitted) = tally.into_listed();
        status.machines = machines;
        status.machines_omitted = omitted;
        step
    }

    fn progressing(
        &self,
        counts: &str,
        pending: u32,
        interval: Duration,
        batch: Duration,
        more: &str,
    ) -> Step {
        let (verb, requeue) = if self.dry_run {
            ("would associate", Requeue::After(interval))
        } else {
            let requeue = match self.retry {
                Some(r) => r,
                None if self.accepted > 0 => Requeue::After(OPERATION_POLL),
                None => Requeue::After(batch),
            };
            ("associating", requeue)
        };
        let message = if pending > 0 {
            format!("{counts}; {verb} {pending} more{more}")
        } else {
            format!("{counts}{more}")
        };
        (Phase::progressing("Associating", message), requeue)
    }
}

/// "a of m matched machines associated with scope id" (`listed_so_far`: of a listing not over).
fn counts(s: &AssociationSummary, id: &ResourceId, complete: bool) -> String {
    let which = if complete {
        "matched machines"
    } else {
        "machines listed so far"
    };
    format!(
        "{} of {} {which} associated with scope {id}",
        s.associated, s.matched
    )
}

/// The Ready message for a complete listing's summary (`drifted`: machines left by drift policy
/// Report, counted as pending).
fn ready_message(s: &AssociationSummary, drifted: u32, id: &ResourceId) -> String {
    let mut message = counts(s, id, true);
    if s.conflict + s.region_mismatch + drifted + s.not_found > 0 {
        message.push_str(&format!(
            " ({} conflict, {} region mismatch, {} not associated by drift policy Report, {} names not found)",
            s.conflict, s.region_mismatch, drifted, s.not_found
        ));
    }
    message.push_str(&format!("; {ACCEPTANCE_NOTE}"));
    message
}

/// The phase for machine updates that failed for good (transient failures are left pending).
fn stalled(e: &ArmError, failed: u32, counts: &str, interval: Duration) -> Step {
    let (phase, requeue) = phase_for_error(e, &mut 0, interval);
    let phase = match phase {
        Phase::Stalled { reason, message } => Phase::Stalled {
            reason,
            message: format!("{failed} machine updates failed, first: {message}; {counts}"),
        },
        other => other,
    };
    (phase, requeue)
}

enum Detached {
    All(u32),
    Some { done: u32, left: u32 },
}

/// Detaches in batches, continuing the listing where the previous pass of this deletion left it.
async fn detach(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcServerAssociation,
    deps: &AssociationDeps,
    scope_id: &ResourceId,
) -> Result<Detached, ArmError> {
    let mine = Selection::new(&obj.spec.machines, scope_id.subscription());
    let key = object_key(obj);
    let (older, newer) = rivals(&deps.claims, &key, created(obj), &mine);
    let keepers: Vec<Rival> = older
        .into_iter()
        .chain(newer)
        .filter(|r| &r.scope == scope_id)
        .collect();
    let group = ResourceId::resource_group_id(mine.subscription(), mine.resource_group());
    let basis = sweep::basis(obj, scope_id, &deps.claims, settings.dry_run);
    let mut state = match settings.sweeps.take(&key) {
        Some(Entry::Detach(d)) if d.basis == basis => *d,
        _ => Detaching {
            basis,
            ..Detaching::default()
        },
    };
    if state.cursor.is_done() {
        // The last listing ended with operations ARM accepted: a new one sees their outcome.
        state = Detaching {
            basis,
            done: state.done,
            ..Detaching::default()
        };
    }
    let mut pass = Detach {
        group: &group,
        dry_run: settings.dry_run,
        writer: Writer::new(arm, deps.budget),
        state,
        failure: None,
    };
    let ours = |m: &MachineRef| {
        mine.selects(m)
            && m.scope().is_some_and(|c| is_scope(c, scope_id))
            && !keepers.iter().any(|r| r.selection.selects(m))
    };
    for m in pass.state.cursor.take_left() {
        pass.machine(m).await;
    }
    let collection = CollectionId::new(&group, MACHINES);
    let mut kept_link = pass.state.cursor.at_link();
    let mut read = 0;
    while pass.failure.is_none()
        && pass.state.cursor.wants_page()
        && (pass.dry_run || read == 0 || pass.writer.has_budget())
    {
        read += 1;
        match pass.state.cursor.next_page(arm, &collection).await {
            Ok(page) => {
                kept_link = false;
                for m in page.into_iter().filter(|m| ours(m)) {
                    pass.machine(m).await;
                }
            }
            Err(e) if kept_link && !e.is_retryable() => {
                // As in convergence: a kept nextLink may have expired; list from the first
                // page again (the machines detached so far stay counted).
                tracing::info!(collection = %collection, error = %e, "continuing the listing failed; listing from the first page again");
                pass.state = Detaching {
                    basis,
                    done: pass.state.done,
                    ..Detaching::default()
                };
                kept_link = false;
            }
            Err(e) => {
                pass.failure.get_or_insert(e);
            }
        }
    }
    while let Some(f) = pass.writer.next().await {
        pass.finished(f);
    }
    let Detach { state, failure, .. } = pass;
    if let Some(e) = failure {
        if e.is_retryable() {
            settings.sweeps.put(key, Entry::Detach(Box::new(state)));
        }
        return Err(e);
    }
    if state.cursor.is_done() && state.accepted == 0 {
        return Ok(Detached::All(state.done));
    }
    let left = u32::try_from(state.cursor.left_count())
        .unwrap_or(u32::MAX)
        .saturating_add(state.accepted);
    let done = state.done;
    settings.sweeps.put(key, Entry::Detach(Box::new(state)));
    Ok(Detached::Some { done, left })
}

/// One pass of a deletion.
struct Detach<'a> {
    group: &'a ResourceId,
    dry_run: bool,
    writer: Writer,
    state: Detaching,
    failure: Option<ArmError>,
}

impl Detach<'_> {
    async fn machine(&mut self, m: MachineRef) {
        if self.dry_run {
            self.state.done += 1;
        } else if !self.writer.has_budget() {
            self.state.cursor.defer(m);
        } else {
            let id = self.group.child(MACHINES, &m.name);
            if let Some(f) = self.writer.start(id, m, None).await {
                self.finished(f);
            }
        }
    }

    /// A machine counts as detached only when ARM shows it without a scope
    /// (reference/arm-behaviours.md 15); an accepted operation is seen by a later listing.
    fn finished(&mut self, f: Finished) {
        match f.result {
            Ok(Write::Done(m)) if m.scope().is_none() => self.state.done += 1,
            Ok(Write::Done(m)) => {
                self.failure.get_or_insert(ArmError::Terminal {
                    status: 200,
                    code: "ScopeNotCleared".into(),
                    message: format!(
                        "machine {} still reports scope {} after PATCHes clearing it with null and with \"\"",
                        f.machine.name,
                        m.scope().unwrap_or_default()
                    ),
                    target: Some(SCOPE_FIELD.into()),
                });
            }
            Ok(Write::Pending(_)) => self.state.accepted += 1,
            Err(e) => {
                if e.is_retryable() {
                    let why = format!("{}: {}", e.code(), e.message());
                    self.state.cursor.retry(f.machine, why);
                }
                self.failure.get_or_insert(e);
            }
        }
    }
}
