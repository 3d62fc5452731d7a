//! Machine PATCHes in flight at the same time, bounded, and a per-pass budget so that one huge
//! association makes progress in batches instead of holding a worker (and the subscription's
//! write bucket) until it is done.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::azure::models::MachineUpdate;
use crate::azure::{ArmClient, ArmError, ResourceId, Write};

use super::monitor;
use super::select::MachineRef;

/// How much one reconcile pass may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// PATCHes in flight at once; the client's per-subscription write bucket paces them.
    pub in_flight: usize,
    /// PATCHes started per pass at most.
    pub writes: usize,
    /// No PATCH is started and no list page read once the pass has run this long (at ARM's
    /// default 10 writes/s, or 25 reads/s for the pages of 100,000 machines, a pass would
    /// otherwise take minutes); the next pass continues where this one stopped.
    pub duration: Duration,
    /// When to come back while work remains.
    pub requeue: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            in_flight: 32,
            writes: 1000,
            duration: Duration::from_secs(15),
            requeue: Duration::from_secs(1),
        }
    }
}

/// Clears a machine's scope. Whether ARM clears it on `null` or on `""` is not documented
/// (reference/arm-behaviours.md 15): `null` first (JSON merge patch), then `""` when the
/// machine still reports a scope.
async fn clear_scope(arm: &ArmClient, id: &ResourceId) -> Result<Write<MachineRef>, ArmError> {
    let first = arm
        .patch::<_, MachineRef>(id, &MachineUpdate::private_link_scope(None))
        .await?;
    match first {
        Write::Done(m) if m.scope().is_some() => {
            let body = serde_json::json!({"properties": {"privateLinkScopeResourceId": ""}});
            arm.patch::<_, MachineRef>(id, &body).await
        }
        other => Ok(other),
    }
}

/// What to write for one machine: its scope (set, or cleared with `None`) and then, unless the
/// scope write failed, its data collection endpoint association.
#[derive(Default)]
pub struct Job {
    pub scope: Option<Option<ResourceId>>,
    pub monitor: Option<monitor::Work>,
}

/// A finished job of `machine` (as listed before the PATCH, so that a write to retry can be
/// kept for the next pass without reading the machine again).
pub struct Finished {
    pub machine: MachineRef,
    /// The scope PATCH, when the job had one.
    pub result: Option<Result<Write<MachineRef>, ArmError>>,
    /// The endpoint association, when the job had one and its scope PATCH did not fail.
    pub monitor: Option<Result<monitor::Done, ArmError>>,
}

/// Runs PATCHes as tasks (so they progress while the next list page is fetched), at most
/// `budget.in_flight` at a time. Dropping it aborts what is still in flight.
pub struct Writer {
    arm: ArmClient,
    budget: Budget,
    started_at: Instant,
    started: usize,
    tasks: JoinSet<Finished>,
}

impl Writer {
    pub fn new(arm: &ArmClient, budget: Budget) -> Writer {
        Writer {
            arm: arm.clone(),
            budget,
            started_at: Instant::now(),
            started: 0,
            tasks: JoinSet::new(),
        }
    }

    /// Whether this pass may still start a PATCH (or, for the listing, read another page: the
    /// time bound holds for a pass that only reads, too).
    pub fn has_budget(&self) -> bool {
        self.started < self.budget.writes && self.started_at.elapsed() < self.budget.duration
    }

    /// Starts the job of machine `id`; when `in_flight` jobs are already running, first waits
    /// for one and returns it.
    pub async fn start(
        &mut self,
        id: ResourceId,
        machine: MachineRef,
        job: Job,
    ) -> Option<Finished> {
        let done = if self.tasks.len() >= self.budget.in_flight.max(1) {
            self.next().await
        } else {
            None
        };
        self.started += 1;
        let arm = self.arm.clone();
        self.tasks.spawn(async move {
            let result = match job.scope {
                Some(Some(scope)) => {
                    let body = MachineUpdate::private_link_scope(Some(scope));
                    Some(arm.patch::<_, MachineRef>(&id, &body).await)
                }
                Some(None) => Some(clear_scope(&arm, &id).await),
                None => None,
            };
            let monitor = match (job.monitor, &result) {
                (Some(work), None | Some(Ok(_))) => Some(work.run(&arm).await),
                _ => None,
            };
            Finished {
                machine,
                result,
                monitor,
            }
        });
        done
    }

    /// The next PATCH to finish, `None` when none is in flight.
    pub async fn next(&mut self) -> Option<Finished> {
        loop {
            match self.tasks.join_next().await? {
                Ok(done) => return Some(done),
                // A task only ends without a result if it panicked; its machine is looked at
                // again on the next pass.
                Err(e) => tracing::warn!(error = %e, "machine write task failed"),
            }
        }
    }
}
