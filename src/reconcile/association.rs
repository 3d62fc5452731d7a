//! `ArcServerAssociation` -> `properties.privateLinkScopeResourceId` of
//! `Microsoft.HybridCompute/machines`.
//!
//! Machines are enumerated with one paged LIST of the resource group (one page in memory at a
//! time), never one GET per machine, and are only ever PATCHed (never PUT, created or deleted).
//! A pass writes a bounded batch concurrently and requeues soon while work remains; in steady
//! state a pass is the list pages plus the scope GET, and no write.

mod select;
mod tally;
mod writes;

use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use crate::api::association::{ConflictPolicy, DetachPolicy};
use crate::api::conditions::{READY, is_true};
use crate::api::{
    ArcServerAssociation, ArcServerAssociationStatus, DeletionPolicy, DriftEntry, DriftPolicy,
    TagPolicy,
};
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId, Write};

use super::arm::{OPERATION_POLL, phase_for_error};
use super::drift::{Drift, entry, same_location};
use super::engine::{Cleaned, Common, Cx, Managed, ManagedStatus, Next};
use super::scope_ref::{self, ResolvedScope, ScopeSource};
use super::{Change, ChangeAction, Phase, Requeue, Settings, scope};
pub use select::{Claim, MachineRef, Selection, is_scope};
use select::{Rival, rivals};
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
        Ok(Cleaned::Done(match scope_of(cx, deps) {
            Some(id) => format!("deletion Orphan: machines left associated with scope {id}"),
            None => "no scope was ever resolved: no machine was associated".into(),
        }))
    }
}

impl ManagedStatus for ArcServerAssociationStatus {
    fn conditions(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
    fn observed_generation(&mut self) -> &mut Option<i64> {
        &mut self.observed_generation
    }
    fn failed_attempts(&mut self) -> &mut u32 {
        &mut self.failed_attempts
    }
    fn last_sync_time(&mut self) -> &mut Option<String> {
        &mut self.last_sync_time
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
    let was_ready = is_true(&status.conditions, READY);
    let scope = match scope_ref::resolve(arm, settings, &deps.scope, interval).await? {
        Ok(scope) => scope,
        Err(next) => return Ok(next),
    };
    // Machines this object moved to its previous scope follow it when spec.scopeRef changes.
    let previous = status
        .scope_resource_id
        .as_deref()
        .and_then(|s| s.parse::<ResourceId>().ok())
        .filter(|p| p != &scope.id);
    status.scope_resource_id = Some(scope.id.to_string());
    let mine = Selection::new(&obj.spec.machines, scope.id.subscription());
    let (older, newer) = rivals(&deps.claims, &object_key(obj), created(obj), &mine);
    let group = ResourceId::resource_group_id(mine.subscription(), mine.resource_group());
    let rules = Rules {
        scope: &scope,
        previous: previous.as_ref(),
        older: older.into_iter().filter(|r| r.scope != scope.id).collect(),
        newer: newer.into_iter().filter(|r| r.scope != scope.id).collect(),
        takeover: obj.spec.on_conflict == ConflictPolicy::Takeover,
        report: obj.spec.policy.drift == DriftPolicy::Report,
    };
    let mut pass = Pass {
        group: &group,
        scope: &scope,
        dry_run: settings.dry_run,
        writer: Writer::new(arm, deps.budget),
        tally: Tally::default(),
        changes,
        written: 0,
        queued: 0,
        accepted: 0,
        retry: None,
        failure: None,
    };
    let mut unseen = mine.names().clone();
    let collection = CollectionId::new(&group, MACHINES);
    let mut pages = pin!(arm.list_pages::<MachineRef>(&collection));
    while let Some(page) = pages.next().await {
        let page = page?;
        for m in page {
            if !mine.selects(&m) {
                continue;
            }
            unseen.remove(&m.name.to_ascii_lowercase());
            pass.machine(m, &rules).await;
        }
    }
    pass.drain().await;
    status.last_sync_time = Some(jiff::Timestamp::now().to_string());
    drift.observed = true;
    let mut missing: Vec<String> = unseen.into_values().collect();
    missing.sort();
    for name in missing {
        pass.tally.add(
            &name,
            MachineState::NotFound,
            Some(format!(
                "no machine named {name} in resource group {}",
                mine.resource_group()
            )),
        );
    }
    let step = pass.outcome(interval, was_ready, deps.budget.requeue, drift);
    let tally = std::mem::take(&mut pass.tally);
    status.summary = tally.summary.clone();
    let (machines, omitted) = tally.into_listed();
    status.machines = machines;
    status.machines_omitted = omitted;
    Ok(step)
}

/// What decides a machine's fate, besides the machine.
struct Rules<'a> {
    scope: &'a ResolvedScope,
    previous: Option<&'a ResourceId>,
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
            let yielded = self.previous.is_some_and(|p| is_scope(c, p))
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

/// One reconcile pass over the listed machines.
struct Pass<'a> {
    group: &'a ResourceId,
    scope: &'a ResolvedScope,
    dry_run: bool,
    writer: Writer,
    tally: Tally,
    changes: &'a mut Vec<Change>,
    /// PATCHes ARM accepted.
    written: u32,
    /// Machines left for the next pass (budget spent).
    queued: u32,
    /// PATCHes ARM accepted as long-running operations.
    accepted: u32,
    /// Earliest retry a throttled or transient failure asks for.
    retry: Option<Requeue>,
    /// First terminal failure.
    failure: Option<ArmError>,
}

impl Pass<'_> {
    async fn machine(&mut self, m: MachineRef, rules: &Rules<'_>) {
        match rules.decide(&m) {
            Decision::Is(state, message) => self.tally.add(&m.name, state, message),
            Decision::Write => {
                let id = self.group.child(MACHINES, &m.name);
                if !self.dry_run && !self.writer.has_budget() {
                    self.queued += 1;
                    self.tally.add(
                        &m.name,
                        MachineState::Pending,
                        Some("queued for the next batch".into()),
                    );
                    return;
                }
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
                    self.tally.add(
                        &m.name,
                        MachineState::Pending,
                        Some(format!("would associate with scope {}", self.scope.id)),
                    );
                    return;
                }
                if let Some(done) = self
                    .writer
                    .start(id, m.name, Some(self.scope.id.clone()))
                    .await
                {
                    self.finished(done);
                }
            }
        }
    }

    async fn drain(&mut self) {
        while let Some(done) = self.writer.next().await {
            self.finished(done);
        }
    }

    fn finished(&mut self, done: Finished) {
        let Finished { name, result } = done;
        match result {
            Ok(Write::Done(m)) => match m.scope() {
                Some(c) if !is_scope(c, &self.scope.id) => self.tally.add(
                    &name,
                    MachineState::Pending,
                    Some(format!("ARM accepted the update but reports scope {c}")),
                ),
                _ => {
                    self.written += 1;
                    self.tally.add(&name, MachineState::Associated, None);
                }
            },
            Ok(Write::Pending(_)) => {
                self.written += 1;
                self.accepted += 1;
                self.tally.add(
                    &name,
                    MachineState::Pending,
                    Some("update accepted; ARM is applying it".into()),
                );
            }
            Err(e) if e.is_retryable() => {
                self.unrecord(&name);
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
                self.tally.add(
                    &name,
                    MachineState::Pending,
                    Some(format!("{}: {} (will retry)", e.code(), e.message())),
                );
            }
            Err(e) => {
                self.unrecord(&name);
                self.tally.add(
                    &name,
                    MachineState::Failed,
                    Some(format!("{}: {}", e.code(), e.message())),
                );
                self.failure.get_or_insert(e);
            }
        }
    }

    /// Drops the change recorded when the PATCH of machine `name` started: ARM refused it.
    fn unrecord(&mut self, name: &str) {
        let id = self.group.child(MACHINES, name).to_string();
        self.changes.retain(|c| c.resource_id != id);
    }

    fn outcome(
        &mut self,
        interval: Duration,
        was_ready: bool,
        batch: Duration,
        drift: &mut Drift,
    ) -> Step {
        let s = &self.tally.summary;
        let id = &self.scope.id;
        let counts = format!(
            "{} of {} matched machines associated with scope {id}",
            s.associated, s.matched
        );
        // One entry for the fleet, however many machines: the note says how many.
        let machines = |n: u32| entry(SCOPE_FIELD, &id.to_string(), &format!("{n} machines"));
        if self.tally.drifted > 0 {
            drift.reported.push(machines(self.tally.drifted));
            drift.notes.push(format!(
                "{} machines are not associated with scope {id} (drift policy Report)",
                self.tally.drifted
            ));
        } else if self.written > 0 && was_ready {
            drift.corrected.push(machines(self.written));
            drift.notes.push(format!(
                "re-associated {} machines with scope {id}",
                self.written
            ));
        }
        if let Some(e) = self.failure.take() {
            // Terminal: transient machine failures were left pending above.
            let (phase, requeue) = phase_for_error(&e, &mut 0, interval);
            let phase = match phase {
                Phase::Stalled { reason, message } => Phase::Stalled {
                    reason,
                    message: format!(
                        "{} machine updates failed, first: {message}; {counts}",
                        s.failed
                    ),
                },
                other => other,
            };
            return (phase, requeue);
        }
        let pending = s.pending - self.tally.drifted;
        if pending > 0 {
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
            return (
                Phase::progressing("Associating", format!("{counts}; {verb} {pending} more")),
                requeue,
            );
        }
        let skipped = s.conflict + s.region_mismatch + self.tally.drifted;
        let mut message = counts;
        if skipped + s.not_found > 0 {
            message.push_str(&format!(
                " ({} conflict, {} region mismatch, {} not associated by drift policy Report, {} names not found)",
                s.conflict, s.region_mismatch, self.tally.drifted, s.not_found
            ));
        }
        message.push_str(&format!("; {ACCEPTANCE_NOTE}"));
        (Phase::ready("Succeeded", message), Requeue::After(interval))
    }
}

enum Detached {
    All(u32),
    Some { done: u32, left: u32 },
}

async fn detach(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcServerAssociation,
    deps: &AssociationDeps,
    scope_id: &ResourceId,
) -> Result<Detached, ArmError> {
    let mine = Selection::new(&obj.spec.machines, scope_id.subscription());
    let (older, newer) = rivals(&deps.claims, &object_key(obj), created(obj), &mine);
    let keepers: Vec<Rival> = older
        .into_iter()
        .chain(newer)
        .filter(|r| &r.scope == scope_id)
        .collect();
    let group = ResourceId::resource_group_id(mine.subscription(), mine.resource_group());
    let mut writer = Writer::new(arm, deps.budget);
    let (mut done, mut left) = (0u32, 0u32);
    let mut failure = None;
    // A machine counts as detached only when ARM shows it without a scope
    // (reference/arm-behaviours.md 15); an accepted operation is seen on the next pass.
    let mut count = |f: Finished, done: &mut u32, left: &mut u32| match f.result {
        Ok(Write::Done(m)) if m.scope().is_none() => *done += 1,
        Ok(Write::Done(m)) => {
            failure.get_or_insert(ArmError::Terminal {
                status: 200,
                code: "ScopeNotCleared".into(),
                message: format!(
                    "machine {} still reports scope {} after PATCHes clearing it with null and with \"\"",
                    f.name,
                    m.scope().unwrap_or_default()
                ),
                target: Some(SCOPE_FIELD.into()),
            });
        }
        Ok(Write::Pending(_)) => *left += 1,
        Err(e) => {
            failure.get_or_insert(e);
        }
    };
    let mut pages = pin!(arm.list_pages::<MachineRef>(&CollectionId::new(&group, MACHINES)));
    while let Some(page) = pages.next().await {
        for m in page? {
            let ours = mine.selects(&m) && m.scope().is_some_and(|c| is_scope(c, scope_id));
            if !ours || keepers.iter().any(|r| r.selection.selects(&m)) {
                continue;
            }
            if settings.dry_run {
                done += 1;
            } else if writer.has_budget() {
                let id = group.child(MACHINES, &m.name);
                if let Some(f) = writer.start(id, m.name, None).await {
                    count(f, &mut done, &mut left);
                }
            } else {
                left += 1;
            }
        }
    }
    while let Some(f) = writer.next().await {
        count(f, &mut done, &mut left);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(if left == 0 {
        Detached::All(done)
    } else {
        Detached::Some { done, left }
    })
}
