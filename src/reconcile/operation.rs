//! The long-running operations of an object's writes, kept in status so that a restarted
//! controller resumes them instead of writing again. The operation of the object's own resource
//! (`status.operation`: the scope, the endpoint) holds the object back while it runs; those of
//! the resources it manages besides (`status.operations`: zones, links, zone group, security
//! rules, the connection approval, and their deletions) run side by side, each waited for where
//! its resource is converged, and each polled as often as ARM's `Retry-After` says (the
//! soonest of them). An operation that ends `Failed` is an ARM error like any other:
//! classified, counted in `status.failedAttempts`, its code and message in the conditions.

use std::time::Duration;

use crate::azure::{ArmError, Deleted, OperationToken, ResourceId};

use super::arm::{self, OPERATION_POLL, Resumed};
use super::engine::{Cleaned, Cx, DELETING, Managed, ManagedStatus};
use super::phase::Next;
use super::{Phase, Requeue};
use crate::api::PendingOperation;

impl<K: Managed> Cx<'_, K> {
    /// Keeps the operation of a write of the object's own resource in status, so that a
    /// restarted controller resumes it instead of writing again; the first look is when ARM
    /// advised.
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

    /// Keeps the operation of a write of a resource the object manages besides its own (a
    /// zone, a rule, ...) in status; the step that waits for it, first when ARM advised.
    pub fn follow(
        &mut self,
        action: &str,
        token: &OperationToken,
        message: String,
    ) -> Result<Next, ArmError> {
        let op = arm::pending(action, token)?;
        if let Some(ops) = self.status.common_mut().operations() {
            ops.retain(|o| o.resource_id != op.resource_id);
            ops.push(op);
        }
        let next = Next::progressing(action, message, token.first_poll());
        self.running.push((token.resource_id.clone(), next.clone()));
        Ok(next)
    }

    /// Deletes `id` (a resource the object manages besides its own, whose provisioning state
    /// is `state`) unless it is already being deleted, following the operation; `Some` while
    /// the deletion runs.
    pub async fn delete_followed(
        &mut self,
        id: &ResourceId,
        state: Option<&str>,
    ) -> Result<Option<Next>, ArmError> {
        if let Some(next) = self.running(id) {
            return Ok(Some(next));
        }
        let message = format!("deleting {id}");
        if state.is_some_and(|s| s.eq_ignore_ascii_case(DELETING)) {
            return Ok(Some(Next::progressing(DELETING, message, OPERATION_POLL)));
        }
        match self.delete(id).await? {
            Deleted::Gone => Ok(None),
            Deleted::Pending(token) => self.follow(DELETING, &token, message).map(Some),
        }
    }

    /// The wait for the operation on `id` kept in status, while it runs.
    pub fn running(&self, id: &ResourceId) -> Option<Next> {
        self.running
            .iter()
            .find(|(r, _)| r == id)
            .map(|(_, next)| next.clone())
    }

    /// Resumes the operations kept in status: `Some` while the object's own runs (nothing else
    /// is done meanwhile). The others are polled once each: those still running are waited
    /// for where their resource is converged, and the first that failed is the reconcile's
    /// error.
    pub(super) async fn resume(&mut self) -> Result<Option<Next>, ArmError> {
        if let Some(running) = self.resume_own().await? {
            return Ok(Some(running));
        }
        match self.resume_others().await.into_iter().next() {
            Some((op, e)) => Err(arm::operation_failed(&op, e)),
            None => Ok(None),
        }
    }

    /// During deletion: `Some(done)` when the deletion of the object's own resource kept in
    /// status finished. A failed deletion stops the clean-up; a failed write that was in flight
    /// does not.
    pub(super) async fn resume_deletion(&mut self) -> Result<Option<Cleaned>, ArmError> {
        let kept = self.status.common_mut().operation().and_then(|slot| {
            slot.as_ref()
                .map(|op| (op.action.clone(), op.resource_id.clone()))
        });
        let deleting = kept.as_ref().is_some_and(|(action, _)| action == DELETING);
        match self.resume_own().await {
            Ok(Some(next)) => return Ok(Some(Cleaned::Waiting(next))),
            Ok(None) if deleting => {
                return Ok(Some(Cleaned::Done(format!(
                    "deleted {}",
                    kept.map(|(_, id)| id).unwrap_or_default()
                ))));
            }
            Ok(None) => {}
            Err(e) if deleting => return Err(e),
            Err(e) => {
                tracing::info!(kind = K::KIND, error = %e, "write in flight at deletion failed; deleting anyway");
            }
        }
        for (op, e) in self.resume_others().await {
            if op.action == DELETING {
                return Err(arm::operation_failed(&op, e));
            }
            tracing::info!(kind = K::KIND, resource = %op.resource_id, error = %e, "write in flight at deletion failed; deleting anyway");
        }
        Ok(None)
    }

    /// `next`, looking again no later than the soonest poll of an operation still running.
    pub(super) fn poll_soon(&self, mut next: Next) -> Next {
        let soonest = self
            .running
            .iter()
            .filter_map(|(_, n)| match n.requeue {
                Requeue::After(d) => Some(d),
                Requeue::Backoff => None,
            })
            .min();
        if let (Some(soonest), Requeue::After(d)) = (soonest, next.requeue)
            && soonest < d
        {
            next.requeue = Requeue::After(soonest);
        }
        next
    }

    /// Polls the operation of the object's own resource: `Some` while it runs.
    async fn resume_own(&mut self) -> Result<Option<Next>, ArmError> {
        let arm = self.arm;
        let Some(slot) = self.status.common_mut().operation() else {
            return Ok(None);
        };
        let Some(mut op) = slot.take() else {
            return Ok(None);
        };
        match arm::resume(arm, &mut op).await {
            Resumed::Running(after) => {
                let next = in_progress(&op, after);
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
            Resumed::Failed(e) => Err(arm::operation_failed(&op, e)),
        }
    }

    /// Polls the other operations once each, keeping those that run (see [`Cx::running`]);
    /// the ones that failed, with their errors.
    async fn resume_others(&mut self) -> Vec<(PendingOperation, ArmError)> {
        let arm = self.arm;
        let Some(ops) = self.status.common_mut().operations() else {
            return Vec::new();
        };
        let mut failed = Vec::new();
        for mut op in std::mem::take(ops) {
            match arm::resume(arm, &mut op).await {
                Resumed::Running(after) => {
                    if let Ok(id) = op.resource_id.parse::<ResourceId>() {
                        self.running.push((id, in_progress(&op, after)));
                    }
                    ops.push(op);
                }
                Resumed::Finished(_) => {}
                Resumed::Lost(why) => {
                    tracing::info!(kind = K::KIND, %why, "operation given up; re-reading");
                }
                Resumed::Failed(e) => failed.push((op, e)),
            }
        }
        failed
    }
}

/// The wait for an operation still running.
fn in_progress(op: &PendingOperation, after: Duration) -> Next {
    Next {
        phase: Phase::progressing(
            &op.action,
            format!("{} of {} in progress", op.action, op.resource_id),
        ),
        requeue: Requeue::After(after),
    }
}
