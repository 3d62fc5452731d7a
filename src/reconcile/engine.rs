//! The reconcile engine: the one loop and the one clean-up path every kind goes through, with
//! the policies applied once — suspend, resuming a long-running operation, ownership and
//! adoption, `Report` or `Correct`, dry-run, the deletion policy, transient-failure counting,
//! conditions. A kind ([`Managed`]) supplies only what is special about its Azure resources:
//! how to converge them and how to delete or release them.

use std::future::Future;
use std::time::Duration;

use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::arm::{self, Resumed};
use super::drift::{Drift, entry, tags_to_write};
use super::ownership::{Owner, Ownership, without_owner_tags};
use super::phase::write_conditions;
use super::{Change, ChangeAction, Cleanup, Outcome, Phase, Requeue, Settings};
pub use crate::api::ManagedStatus;
use crate::api::conditions::{READY, is_true};
use crate::api::{CommonSpec, CredentialRef, DeletionPolicy, DriftEntry, DriftPolicy, TagPolicy};
use crate::azure::{ArmClient, ArmError, Deleted, OperationToken, ResourceId, Write};

/// What a kind supplies to the engine.
pub trait Managed: Resource<DynamicType = ()> + Sized + Send + Sync {
    type Status: ManagedStatus;
    /// What a reconcile needs to know about the other declared objects (the referenced scope,
    /// rivals in the same network or resource group); see [`super::declared`].
    type Deps: Send + Sync;
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

/// Where a reconcile leaves the object, and when to look again.
#[derive(Clone, Debug, PartialEq)]
pub struct Next {
    pub phase: Phase,
    pub requeue: Requeue,
}

impl Next {
    pub fn progressing(reason: &str, message: impl Into<String>, after: Duration) -> Next {
        Next {
            phase: Phase::progressing(reason, message),
            requeue: Requeue::After(after),
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
    pub obj: &'a K,
    pub status: K::Status,
    /// The writes made (or, in dry-run, that would be made), in order.
    pub changes: Vec<Change>,
    pub drift: Drift,
    /// Whether the object was Ready before: then what is missing in Azure is drift.
    pub was_ready: bool,
    pub interval: Duration,
}

impl<'a, K: Managed> Cx<'a, K> {
    fn new(arm: &'a ArmClient, settings: &'a Settings, obj: &'a K) -> Cx<'a, K> {
        let status = obj.status().cloned().unwrap_or_default();
        let was_ready = is_true(&status.common().conditions, READY);
        let interval = settings.drift_interval(obj.common().drift_check_interval);
        Cx {
            arm,
            settings,
            obj,
            status,
            changes: Vec::new(),
            drift: Drift::default(),
            was_ready,
            interval,
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

    /// The ownership policy for an existing resource: written only when its owner tag names
    /// this object, or it has none and `policy.adopt` is set.
    pub fn may_write(
        &self,
        what: &str,
        id: &ResourceId,
        tags: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Result<Ownership, Next> {
        match self.owner().classify(tags) {
            Ownership::Elsewhere(other) => Err(self.stalled(
                "OwnedElsewhere",
                format!("{what} {id} is owned by {other}; arclink will not write it"),
            )),
            Ownership::Unowned if !self.common().adopt => Err(self.stalled(
                "AdoptionRequired",
                format!(
                    "{what} {id} already exists and no arclink object owns it; set spec.policy.adopt: true to take it over"
                ),
            )),
            other => Ok(other),
        }
    }

    /// The drift policy for a resource that does not exist: `Report` may not create it (the
    /// object is stalled); `Correct` creates it, a re-creation counting as corrected drift.
    pub fn may_create(&mut self, what: &str, id: &ResourceId) -> Option<Next> {
        let missing = entry("(resource)", "exists", "missing");
        if self.report_only() {
            self.drift.reported.push(missing);
            return Some(self.stalled(
                "NotFound",
                format!(
                    "{what} {id} does not exist in Azure and drift policy Report forbids creating it"
                ),
            ));
        }
        if self.was_ready {
            self.drift.corrected.push(missing);
        }
        None
    }

    /// The drift policy for differences: `Report` records them and forbids the write;
    /// `Correct` records them as corrected and allows it. `false` when there is nothing to do.
    pub fn may_correct(&mut self, differences: Vec<DriftEntry>) -> bool {
        if differences.is_empty() {
            return false;
        }
        if self.report_only() {
            self.drift.reported.extend(differences);
            return false;
        }
        self.drift.corrected.extend(differences);
        true
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

    /// A PATCH of the tags only, recorded like [`Cx::put`].
    pub async fn patch_tags<T: DeserializeOwned>(
        &mut self,
        id: &ResourceId,
        tags: &std::collections::BTreeMap<String, String>,
        diff: Vec<DriftEntry>,
    ) -> Result<Option<Write<T>>, ArmError> {
        if !self.record(id, ChangeAction::Update, diff) {
            return Ok(None);
        }
        let body = serde_json::json!({ "tags": tags });
        let result = self.arm.patch(id, &body).await;
        self.written(result)
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
        self.patch_tags::<serde_json::Value>(id, &kept, Vec::new())
            .await
            .map(|_| ())
    }

    /// Keeps a long-running operation in status, so that a restarted controller resumes it
    /// instead of writing again; the first look is when ARM advised.
    pub fn track(&mut self, action: &str, token: &OperationToken, message: String) -> Next {
        match arm::pending(action, token) {
            Ok(op) => {
                if let Some(slot) = self.status.common_mut().operation() {
                    *slot = Some(op);
                }
                Next::progressing(action, message, token.first_poll())
            }
            Err(e) => self.stalled(e.code(), e.message()),
        }
    }

    /// Records a write; `false` under dry-run (the write is not made).
    fn record(&mut self, id: &ResourceId, action: ChangeAction, diff: Vec<DriftEntry>) -> bool {
        self.changes.push(Change {
            action,
            resource_id: id.to_string(),
            diff,
        });
        !self.settings.dry_run
    }

    /// A write that failed was not made: it leaves the list of changes.
    fn written<T>(&mut self, result: Result<T, ArmError>) -> Result<Option<T>, ArmError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.changes.pop();
                Err(e)
            }
        }
    }

    /// Resumes the operation kept in status: `Some` while it runs.
    async fn resume(&mut self) -> Result<Option<Next>, ArmError> {
        let arm = self.arm;
        let Some(slot) = self.status.common_mut().operation() else {
            return Ok(None);
        };
        let Some(mut op) = slot.take() else {
            return Ok(None);
        };
        match arm::resume(arm, &mut op).await {
            Resumed::Running(after) => {
                let next = Next::progressing(
                    &op.action,
                    format!("{} of {} in progress", op.action, op.resource_id),
                    after,
                );
                *slot = Some(op);
                Ok(Some(next))
            }
            Resumed::Finished(_) => Ok(None),
            Resumed::Lost(why) => {
                tracing::info!(kind = K::KIND, %why, "operation given up; re-reading");
                Ok(None)
            }
            // A transient failure (`RetryableError`, a cancellation) counts as an attempt; the
            // next reconcile re-reads the resource and writes again.
            Resumed::Failed(e) => Err(e),
        }
    }

    /// During deletion: `Some(done)` when the deletion kept in status finished; a failed write
    /// that was in flight does not stop the deletion.
    async fn resume_deletion(&mut self) -> Result<Option<Cleaned>, ArmError> {
        let kept = self.status.common_mut().operation().and_then(|slot| {
            slot.as_ref()
                .map(|op| (op.action.clone(), op.resource_id.clone()))
        });
        let deleting = kept.as_ref().is_some_and(|(action, _)| action == DELETING);
        match self.resume().await {
            Ok(Some(next)) => Ok(Some(Cleaned::Waiting(next))),
            Ok(None) if deleting => Ok(Some(Cleaned::Done(format!(
                "deleted {}",
                kept.map(|(_, id)| id).unwrap_or_default()
            )))),
            Ok(None) => Ok(None),
            Err(e) if deleting => Err(e),
            Err(e) => {
                tracing::info!(kind = K::KIND, error = %e, "write in flight at deletion failed; deleting anyway");
                Ok(None)
            }
        }
    }

    fn finish(mut self, phase: &Phase) -> (K::Status, Vec<Change>, Drift) {
        let common = self.status.common_mut();
        if self.drift.observed
            && let Some(listed) = common.drift()
        {
            listed.clone_from(&self.drift.reported);
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

/// The action recorded for a deletion in flight.
pub const DELETING: &str = "Deleting";

/// Converges one object (or, in dry-run, finds what would change).
pub async fn reconcile<K: Managed>(
    arm: &ArmClient,
    settings: &Settings,
    obj: &K,
    deps: &K::Deps,
) -> Outcome<K::Status> {
    let mut cx = Cx::new(arm, settings, obj);
    if cx.status.common().observed_generation != obj.meta().generation {
        cx.status.common_mut().failed_attempts = 0;
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
            let (phase, requeue) =
                arm::phase_for_error(&e, &mut cx.status.common_mut().failed_attempts, cx.interval);
            Next { phase, requeue }
        }
    };
    if matches!(next.phase, Phase::Ready { .. }) {
        cx.status.common_mut().failed_attempts = 0;
    }
    let interval = cx.interval;
    let (status, changes, drift) = cx.finish(&next.phase);
    Outcome {
        status,
        requeue: next.requeue.jitter_drift_check(interval),
        drift,
        changes,
    }
}

/// Cleans up after one object being deleted, by its deletion policy.
pub async fn cleanup<K: Managed>(
    arm: &ArmClient,
    settings: &Settings,
    obj: &K,
    deps: &K::Deps,
) -> Cleanup<K::Status> {
    let mut cx = Cx::new(arm, settings, obj);
    if cx.common().suspend {
        return Cleanup::Done(format!(
            "suspended: {} was left untouched",
            K::LEFT_IN_AZURE
        ));
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
        Ok(Cleaned::Done(message)) => return Cleanup::Done(message),
        Ok(Cleaned::Waiting(next)) => next,
        Err(e) => {
            let (phase, requeue) = arm::cleanup_phase_for_error(
                &e,
                &mut cx.status.common_mut().failed_attempts,
                cx.interval,
                K::LEFT_IN_AZURE,
            );
            Next { phase, requeue }
        }
    };
    let (status, _, _) = cx.finish(&next.phase);
    Cleanup::Pending {
        status,
        requeue: next.requeue,
    }
}
