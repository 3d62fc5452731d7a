//! The reconcile engine: the one loop and the one clean-up path every kind goes through, with
//! the policies applied once — suspend, resuming the long-running operations kept in status
//! ([`super::operation`]), `Report` or `Correct`, dry-run, the deletion policy, transient-failure
//! counting, conditions; each Azure resource a kind manages goes through the one path of
//! [`super::resource`] (ownership and adoption among it). A kind ([`Managed`]) supplies only
//! what is special about its Azure resources: how to converge them and how to delete or release
//! them, and the state it keeps between reconciles ([`States`]).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::arm;
use super::drift::{Drift, tags_to_write};
use super::fights;
use super::ownership::{Owner, without_owner_tags};
pub use super::phase::Next;
use super::phase::write_conditions;
use super::{Change, ChangeAction, Cleanup, Notice, Outcome, Phase, Requeue, Settings};
pub use crate::api::ManagedStatus;
use crate::api::conditions::{READY, is_true};
use crate::api::{CommonSpec, CredentialRef, DeletionPolicy, DriftEntry, DriftPolicy, TagPolicy};
use crate::azure::{ArmClient, ArmError, Deleted, ResourceId, Write};

/// What a kind supplies to the engine.
pub trait Managed: Resource<DynamicType = ()> + Sized + Send + Sync + 'static {
    type Status: ManagedStatus;
    /// What a reconcile needs to know about the other declared objects (the referenced scope,
    /// rivals in the same network or resource group); see [`super::declared`].
    type Deps: Send + Sync;
    /// What the kind keeps between reconciles of its objects besides their status (the
    /// association's listings in progress): one per controller or `apply` run ([`States`]).
    type State: Default + Send + Sync + 'static;
    const KIND: &'static str;
    /// What stays in Azure when someone removes the finalizer of an object whose deletion is
    /// blocked ("the scope in Azure").
    const LEFT_IN_AZURE: &'static str;

    fn common(&self) -> Common<'_>;
    fn status(&self) -> Option<&Self::Status>;

    /// Converges Azure towards the spec. Not called while suspended, nor while an operation
    /// kept in status is still running.
    fn converge(
        cx: &mut Cx<'_, Self>,
        deps: &Self::Deps,
    ) -> impl Future<Output = Result<Next, ArmError>> + Send;

    /// Removes what the object owns in Azure (`deletion: Delete`, an association's `Detach`).
    fn delete(
        cx: &mut Cx<'_, Self>,
        deps: &Self::Deps,
    ) -> impl Future<Output = Result<Cleaned, ArmError>> + Send;

    /// Leaves what the object owns in Azure without arclink's owner tags (`deletion: Orphan`).
    fn orphan(
        cx: &mut Cx<'_, Self>,
        deps: &Self::Deps,
    ) -> impl Future<Output = Result<Cleaned, ArmError>> + Send;
}

/// The fields every kind's spec has, in one shape.
#[derive(Clone, Copy, Debug)]
pub struct Common<'a> {
    pub suspend: bool,
    pub drift: DriftPolicy,
    pub deletion: DeletionPolicy,
    pub adopt: bool,
    pub tags: TagPolicy,
    pub drift_check_interval: Option<&'a str>,
    pub credential_ref: Option<&'a CredentialRef>,
}

impl<'a> Common<'a> {
    /// The common fields of a kind with the shared [`CommonSpec`] block.
    pub fn of(spec: &'a CommonSpec) -> Common<'a> {
        let policy = &spec.policy;
        Common {
            suspend: spec.suspend,
            drift: policy.drift,
            deletion: policy.deletion,
            adopt: policy.adopt,
            tags: policy.tags,
            drift_check_interval: policy.drift_check_interval.as_deref(),
            credential_ref: spec.credential_ref.as_ref(),
        }
    }
}

/// Where a clean-up stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Cleaned {
    /// Nothing left to do; what happened in Azure.
    Done(String),
    /// Not finished: keep the finalizer.
    Waiting(Next),
}

/// One reconcile of one object: the object, the status being built, and the policies as
/// helpers the kinds call.
pub struct Cx<'a, K: Managed> {
    pub arm: &'a ArmClient,
    pub settings: &'a Settings,
    /// The kind's state kept between reconciles.
    pub state: &'a K::State,
    pub obj: &'a K,
    pub status: K::Status,
    /// The writes made (or, in dry-run, that would be made), in order.
    pub changes: Vec<Change>,
    pub drift: Drift,
    /// Whether the object was Ready before: then what is missing in Azure is drift.
    pub was_ready: bool,
    pub interval: Duration,
    /// The operations kept in status that are still running, by resource.
    pub(super) running: Vec<(ResourceId, Next)>,
    /// Differences of existing resources corrected (written), for [`fights`]; not counted in
    /// the first reconcile of a new spec, whose writes apply it.
    corrections: Vec<DriftEntry>,
    new_spec: bool,
    /// What someone else did that deserves an Event.
    pub notices: Vec<Notice>,
}

impl<'a, K: Managed> Cx<'a, K> {
    fn new(
        arm: &'a ArmClient,
        settings: &'a Settings,
        state: &'a K::State,
        obj: &'a K,
    ) -> Cx<'a, K> {
        let status = obj.status().cloned().unwrap_or_default();
        let was_ready = is_true(&status.common().conditions, READY);
        let interval = settings.drift_interval(obj.common().drift_check_interval);
        Cx {
            arm,
            settings,
            state,
            obj,
            status,
            changes: Vec::new(),
            drift: Drift::default(),
            was_ready,
            interval,
            running: Vec::new(),
            corrections: Vec::new(),
            new_spec: false,
            notices: Vec::new(),
        }
    }

    pub fn common(&self) -> Common<'a> {
        self.obj.common()
    }

    pub fn report_only(&self) -> bool {
        self.common().drift == DriftPolicy::Report
    }

    /// The arclink object named in owner tags.
    pub fn owner(&self) -> Owner {
        Owner {
            cluster: self.settings.cluster_name.clone(),
            namespace: self.obj.namespace().unwrap_or_default(),
            kind: K::KIND.to_string(),
            name: self.obj.name_any(),
        }
    }

    /// The tags arclink writes on a resource it owns: the spec's and the owner tags.
    pub fn desired_tags(
        &self,
        spec: &std::collections::BTreeMap<String, String>,
    ) -> std::collections::BTreeMap<String, String> {
        self.owner().tags(spec)
    }

    pub fn stalled(&self, reason: &str, message: impl Into<String>) -> Next {
        Next {
            phase: Phase::stalled(reason, message),
            requeue: Requeue::After(self.interval),
        }
    }

    pub fn ready(&self, message: impl Into<String>) -> Next {
        Next {
            phase: Phase::ready("Succeeded", message),
            requeue: Requeue::After(self.interval),
        }
    }

    /// Azure was read: drift found now is what the `Drifted` condition says.
    pub fn observed(&mut self) {
        self.drift.observed = true;
        self.status.common_mut().last_sync_time = Some(jiff::Timestamp::now().to_string());
    }

    /// The drift policy for differences: `Report` records them and forbids the write;
    /// `Correct` records them as corrected and allows it, except those another writer sets
    /// again after each correction ([`fights`]), which are reported instead. `None` when there
    /// is nothing to write; else the differences held, which the write must leave as Azure
    /// has them.
    pub fn may_correct(&mut self, differences: Vec<DriftEntry>) -> Option<Vec<DriftEntry>> {
        if differences.is_empty() {
            return None;
        }
        if self.report_only() {
            self.drift.reported.extend(differences);
            return None;
        }
        let tracked = self
            .status
            .common_mut()
            .corrections()
            .map(|c| c.clone())
            .unwrap_or_default();
        let (now, window) = (jiff::Timestamp::now(), fights::window(self.interval));
        let (held, corrected): (Vec<DriftEntry>, Vec<DriftEntry>) = differences
            .into_iter()
            .partition(|d| fights::is_held(&tracked, d, now, window));
        self.drift.reported.extend(held.iter().cloned());
        self.drift.held.extend(held.iter().cloned());
        if corrected.is_empty() {
            return None;
        }
        self.corrections.extend(corrected.iter().cloned());
        self.drift.corrected.extend(corrected);
        Some(held)
    }

    /// Where the drift found so far stands, to go back to with [`Cx::rewind`].
    pub(super) fn mark(&self) -> Mark {
        Mark {
            reported: self.drift.reported.len(),
            corrected: self.drift.corrected.len(),
            held: self.drift.held.len(),
            corrections: self.corrections.len(),
        }
    }

    /// Forgets the drift found since `mark`: the resource is looked at again.
    pub(super) fn rewind(&mut self, mark: Mark) {
        self.drift.reported.truncate(mark.reported);
        self.drift.corrected.truncate(mark.corrected);
        self.drift.held.truncate(mark.held);
        self.corrections.truncate(mark.corrections);
    }

    /// Differences that were to be corrected and are not written after all: reported.
    pub fn not_corrected(&mut self, differences: &[DriftEntry]) {
        self.drift.corrected.retain(|d| !differences.contains(d));
        self.corrections.retain(|d| !differences.contains(d));
        self.drift.reported.extend(differences.iter().cloned());
    }

    /// The tags to write on a resource this object owns, by `policy.tags`.
    pub fn tags_to_write(
        &self,
        desired: &std::collections::BTreeMap<String, String>,
        actual: Option<&std::collections::BTreeMap<String, String>>,
    ) -> std::collections::BTreeMap<String, String> {
        tags_to_write(desired, actual, self.common().tags)
    }

    /// A PUT, recorded as a change; under dry-run only recorded (`None`). A write ARM refuses is
    /// not reported as made.
    pub async fn put<B: Serialize + Sync, T: DeserializeOwned>(
        &mut self,
        id: &ResourceId,
        action: ChangeAction,
        diff: Vec<DriftEntry>,
        body: &B,
    ) -> Result<Option<Write<T>>, ArmError> {
        if !self.record(id, action, diff) {
            return Ok(None);
        }
        let result = self.arm.put(id, body).await;
        self.written(result)
    }

    /// A PATCH of the tags only, recorded like [`Cx::put`] and followed to its end: Private
    /// DNS answers a zone's or link's PATCH with an operation (long-running in its spec), whose
    /// failure is the write's.
    pub async fn patch_tags(
        &mut self,
        id: &ResourceId,
        tags: &std::collections::BTreeMap<String, String>,
        diff: Vec<DriftEntry>,
    ) -> Result<(), ArmError> {
        if !self.record(id, ChangeAction::Update, diff) {
            return Ok(());
        }
        let body = serde_json::json!({ "tags": tags });
        let result = self.arm.patch::<_, serde_json::Value>(id, &body).await;
        if let Some(Write::Pending(token)) = self.written(result)? {
            let ended = self.arm.wait(&token).await;
            self.written(ended)?;
        }
        Ok(())
    }

    /// A DELETE, recorded like [`Cx::put`] (under dry-run the resource counts as gone).
    pub async fn delete(&mut self, id: &ResourceId) -> Result<Deleted, ArmError> {
        if !self.record(id, ChangeAction::Delete, Vec::new()) {
            return Ok(Deleted::Gone);
        }
        let result = self.arm.delete(id).await;
        self.written(result).map(|d| d.unwrap_or(Deleted::Gone))
    }

    /// Removes arclink's owner tags from a resource it owns, with a tags PATCH.
    pub async fn release(
        &mut self,
        id: &ResourceId,
        tags: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Result<(), ArmError> {
        let kept = without_owner_tags(tags.unwrap_or(&std::collections::BTreeMap::new()));
        self.patch_tags(id, &kept, Vec::new()).await
    }

    /// Records a write about to be made; `false` under dry-run (then it is not made).
    pub fn record(&mut self, id: &ResourceId, action: ChangeAction, diff: Vec<DriftEntry>) -> bool {
        self.changes.push(Change {
            action,
            resource_id: id.to_string(),
            diff,
        });
        !self.settings.dry_run
    }

    /// Drops the changes recorded for `id`: ARM refused the write.
    pub fn unrecord(&mut self, id: &ResourceId) {
        let id = id.to_string();
        self.changes.retain(|c| c.resource_id != id);
    }

    /// A write that failed was not made: it leaves the list of changes.
    pub(super) fn written<T>(
        &mut self,
        result: Result<T, ArmError>,
    ) -> Result<Option<T>, ArmError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.changes.pop();
                Err(e)
            }
        }
    }

    fn finish(mut self, phase: &Phase) -> (K::Status, Vec<Change>, Drift) {
        let window = fights::window(self.interval);
        let common = self.status.common_mut();
        if self.drift.observed
            && let Some(listed) = common.drift()
        {
            listed.clone_from(&self.drift.reported);
        }
        if self.drift.observed
            && !self.settings.dry_run
            && let Some(tracked) = common.corrections()
        {
            fights::update(
                tracked,
                &fights::Checked {
                    corrected: if self.new_spec {
                        &[]
                    } else {
                        &self.corrections
                    },
                    held: &self.drift.held,
                    complete: matches!(phase, Phase::Ready { .. }),
                    now: jiff::Timestamp::now(),
                    window,
                },
            );
        }
        let generation = self.obj.meta().generation;
        common.observed_generation = generation;
        write_conditions(
            &mut common.conditions,
            phase,
            &self.drift,
            generation,
            jiff::Timestamp::now(),
            self.settings.note.as_deref(),
        );
        (self.status, self.changes, self.drift)
    }
}

/// How much drift a reconcile had found at one point ([`Cx::mark`]).
pub(super) struct Mark {
    reported: usize,
    corrected: usize,
    held: usize,
    corrections: usize,
}

/// The action recorded for a deletion in flight.
pub const DELETING: &str = "Deleting";

/// Converges one object (or, in dry-run, finds what would change).
pub async fn reconcile<K: Managed>(
    arm: &ArmClient,
    settings: &Settings,
    state: &K::State,
    obj: &K,
    deps: &K::Deps,
) -> Outcome<K::Status> {
    let mut cx = Cx::new(arm, settings, state, obj);
    if cx.status.common().observed_generation != obj.meta().generation {
        cx.new_spec = true;
        let common = cx.status.common_mut();
        common.failed_attempts = 0;
        // A new spec may agree with the other writer, or mean to overrule it: count anew.
        if let Some(tracked) = common.corrections() {
            tracked.clear();
        }
    }
    let next = if cx.common().suspend {
        Ok(Next {
            phase: Phase::Suspended,
            requeue: Requeue::After(cx.interval),
        })
    } else {
        match cx.resume().await {
            Ok(Some(running)) => Ok(running),
            Ok(None) => K::converge(&mut cx, deps).await,
            Err(e) => Err(e),
        }
    };
    let next = match next {
        Ok(next) => next,
        Err(e) => {
            // A correction that failed did not happen.
            let failed = std::mem::take(&mut cx.drift.corrected);
            cx.drift.reported.extend(failed);
            cx.corrections.clear();
            arm::next_for_error(&e, &mut cx.status.common_mut().failed_attempts, cx.interval)
        }
    };
    if matches!(next.phase, Phase::Ready { .. }) {
        cx.status.common_mut().failed_attempts = 0;
    }
    let next = cx.poll_soon(next);
    let interval = cx.interval;
    let notices = std::mem::take(&mut cx.notices);
    let (status, changes, drift) = cx.finish(&next.phase);
    Outcome {
        status,
        phase: next.phase,
        requeue: next.requeue.jitter_drift_check(interval),
        drift,
        changes,
        notices,
    }
}

/// Cleans up after one object being deleted, by its deletion policy.
pub async fn cleanup<K: Managed>(
    arm: &ArmClient,
    settings: &Settings,
    state: &K::State,
    obj: &K,
    deps: &K::Deps,
) -> Cleanup<K::Status> {
    cleanup_with_changes(arm, settings, state, obj, deps)
        .await
        .0
}

/// [`cleanup`], and the writes it made (or, in dry-run, would make), in order: what
/// `arclink delete` reports.
pub async fn cleanup_with_changes<K: Managed>(
    arm: &ArmClient,
    settings: &Settings,
    state: &K::State,
    obj: &K,
    deps: &K::Deps,
) -> (Cleanup<K::Status>, Vec<Change>) {
    let mut cx = Cx::new(arm, settings, state, obj);
    if cx.common().suspend {
        let message = format!("suspended: {} was left untouched", K::LEFT_IN_AZURE);
        return (Cleanup::Done(message), Vec::new());
    }
    let cleaned = match cx.resume_deletion().await {
        Ok(Some(done)) => Ok(done),
        Ok(None) => match cx.common().deletion {
            DeletionPolicy::Delete => K::delete(&mut cx, deps).await,
            DeletionPolicy::Orphan => K::orphan(&mut cx, deps).await,
        },
        Err(e) => Err(e),
    };
    let next = match cleaned {
        Ok(Cleaned::Done(message)) => return (Cleanup::Done(message), cx.changes),
        Ok(Cleaned::Waiting(next)) => next,
        Err(e) => arm::cleanup_next_for_error(
            &e,
            &mut cx.status.common_mut().failed_attempts,
            cx.interval,
            K::LEFT_IN_AZURE,
        ),
    };
    let (status, changes, _) = cx.finish(&next.phase);
    let pending = Cleanup::Pending {
        status,
        requeue: next.requeue,
    };
    (pending, changes)
}

/// Each kind's [`Managed::State`], created on first use: the controller keeps one for its
/// lifetime and `arclink apply` one per run, so every reconcile of a kind shares its state.
#[derive(Default)]
pub struct States(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl States {
    /// The state of kind `K`.
    pub fn of<K: Managed>(&self) -> Arc<K::State> {
        // Entries are only ever inserted whole, so a panicking holder left the map intact.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Arc::new(K::State::default()));
        // The entry of `K` holds a `K::State`, so the downcast always succeeds.
        Arc::clone(entry)
            .downcast::<K::State>()
            .unwrap_or_else(|_| Arc::new(K::State::default()))
    }
}
