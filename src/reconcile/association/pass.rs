//! One reconcile pass of an association: continues its listing, writing what the pages call
//! for, and says where the object stands once the pass is over.

use std::time::Duration;

use crate::api::association::AssociationSummary;
use crate::api::{ArcServerAssociationStatus, DriftEntry};
use crate::azure::{ArmError, ResourceId, Write};
use crate::reconcile::arm::{self, OPERATION_POLL};
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::{ChangeAction, Phase, Requeue};

use super::monitor::{self, Done, Work};
use super::select::{Decision, MachineRef, Rules, Selection, is_scope};
use super::sweep::{Cursor, Sweep, Visit};
use super::tally::MonitorState;
use super::tally::{MachineState, Tally};
use super::writes::{Finished, Job, Writer};
use super::{ACCEPTANCE_NOTE, MACHINES, SCOPE_FIELD};
use crate::api::ArcServerAssociation;

/// One pass: the object's reconcile, its listing, and what the pass wrote.
pub struct Pass<'p, 'c> {
    pub cx: &'p mut Cx<'c, ArcServerAssociation>,
    pub group: &'p ResourceId,
    pub mine: &'p Selection,
    pub rules: Rules<'p>,
    pub writer: Writer,
    pub sweep: Sweep,
    /// PATCHes ARM accepted in this pass.
    written: u32,
    /// PATCHes that failed for good in this pass.
    failed: u32,
    /// PATCHes ARM accepted as long-running operations in this pass.
    accepted: u32,
    /// Earliest retry a throttled or transient failure asks for.
    retry: Option<Requeue>,
    /// arclink's endpoint associations removed in this pass (in dry-run: that would be).
    removed: u32,
    /// arclink's endpoint associations left to remove for want of budget or after a failure.
    pub stale_left: u32,
    /// The endpoint association writes of this pass, recorded in id order once it is over
    /// (they end in any order).
    changes: Vec<(ResourceId, ChangeAction, Vec<DriftEntry>)>,
}

impl Visit for Pass<'_, '_> {
    fn cursor(&mut self) -> &mut Cursor {
        &mut self.sweep.cursor
    }

    fn writer(&mut self) -> &mut Writer {
        &mut self.writer
    }

    fn unbounded(&self) -> bool {
        self.cx.settings.dry_run
    }

    fn wants(&mut self, m: &MachineRef) -> bool {
        if !self.mine.selects(m) {
            return false;
        }
        self.sweep.unseen.remove(&m.name.to_ascii_lowercase());
        true
    }

    async fn machine(&mut self, m: MachineRef) {
        let id = self.group.child(MACHINES, &m.name);
        let dry_run = self.cx.settings.dry_run;
        match self.rules.decide(&m) {
            Decision::Is(state, message) => {
                // Monitoring covers every selected machine whatever its scope, but those an
                // older association claims (that one decides).
                let work = match self.rules.claimed(&m) {
                    false => self.plan(&m, &id),
                    true => None,
                };
                if matches!(work, Some(Work::Set(_))) && !dry_run && !self.writer.has_budget() {
                    // Planned again by the next pass.
                    self.sweep.cursor.defer(m);
                    return;
                }
                self.sweep.tally.add(&m.name, state, message);
                match work {
                    Some(Work::Known(state, message)) => {
                        self.sweep.tally.monitor(&m.name, state, message)
                    }
                    Some(work) => {
                        let job = Job {
                            scope: None,
                            monitor: Some(work),
                        };
                        if let Some(done) = self.writer.start(id, m, job).await {
                            self.finished(done);
                        }
                    }
                    None => {}
                }
            }
            Decision::Write => {
                if !dry_run && !self.writer.has_budget() {
                    self.sweep.cursor.defer(m);
                    return;
                }
                let scope = self.rules.scope.id.clone();
                let diff = vec![entry(
                    SCOPE_FIELD,
                    &scope.to_string(),
                    m.scope().unwrap_or_default(),
                )];
                let monitor = self.plan(&m, &id);
                if !self.cx.record(&id, ChangeAction::Update, diff) {
                    self.sweep.tally.add(
                        &m.name,
                        MachineState::Pending,
                        Some(format!("would associate with scope {scope}")),
                    );
                    if let Some(work) = monitor {
                        self.monitored(&m.name, work.run(self.cx.arm).await);
                    }
                    return;
                }
                let job = Job {
                    scope: Some(Some(scope)),
                    monitor,
                };
                if let Some(done) = self.writer.start(id, m, job).await {
                    self.finished(done);
                }
            }
        }
    }

    fn finished(&mut self, done: Finished) {
        let Finished {
            machine,
            result,
            monitor,
        } = done;
        if let Some(monitor) = monitor {
            self.monitored(&machine.name, monitor);
        }
        let Some(result) = result else {
            return;
        };
        let name = machine.name.as_str();
        let scope = &self.rules.scope.id;
        match result {
            Ok(Write::Done(m)) => match m.scope() {
                Some(c) if !is_scope(c, scope) => self.sweep.tally.add(
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
                self.cx.unrecord(&self.group.child(MACHINES, name));
                self.retry_after(&e);
                // Written again by the next pass without listing it again.
                let why = format!("{}: {} (will retry)", e.code(), e.message());
                self.sweep.cursor.retry(machine, why);
            }
            Err(e) => {
                self.cx.unrecord(&self.group.child(MACHINES, name));
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
}

impl<'p, 'c> Pass<'p, 'c> {
    pub fn new(
        cx: &'p mut Cx<'c, ArcServerAssociation>,
        group: &'p ResourceId,
        mine: &'p Selection,
        rules: Rules<'p>,
        writer: Writer,
        sweep: Sweep,
    ) -> Self {
        Pass {
            cx,
            group,
            mine,
            rules,
            writer,
            sweep,
            written: 0,
            failed: 0,
            accepted: 0,
            retry: None,
            removed: 0,
            stale_left: 0,
            changes: Vec::new(),
        }
    }

    /// Records the endpoint association writes of the pass, in id order.
    pub fn record_changes(&mut self) {
        let mut changes = std::mem::take(&mut self.changes);
        changes.sort_by_key(|(id, ..)| id.to_string().to_ascii_lowercase());
        for (id, action, diff) in changes {
            self.cx.record(&id, action, diff);
        }
    }

    /// Once the listing is over: removes arclink's endpoint associations on machines it no
    /// longer covers (in dry-run and under drift policy `Report`: says it would), within the
    /// pass's budget; the next listing finds those left.
    pub async fn remove_stale(&mut self) {
        let Some(monitor) = self.sweep.monitor.as_mut() else {
            return;
        };
        let stale = monitor.take_stale(self.group);
        let quiet = self.cx.settings.dry_run || self.rules.report;
        let (removed, mut attempted) = (self.removed, 0);
        for (name, work) in stale {
            if self.rules.report {
                let why = "arclink's association, on a machine it no longer covers; drift policy Report leaves it";
                self.sweep
                    .tally
                    .monitor(&name, MonitorState::Drifted, Some(why.into()));
                continue;
            }
            if !quiet && !self.writer.has_budget() {
                self.stale_left += 1;
                continue;
            }
            let machine = MachineRef {
                name,
                ..MachineRef::default()
            };
            let id = self.group.child(MACHINES, &machine.name);
            attempted += 1;
            let work = if quiet { work.without_write() } else { work };
            let job = Job {
                scope: None,
                monitor: Some(work),
            };
            if let Some(done) = self.writer.start(id, machine, job).await {
                self.finished(done);
            }
        }
        while let Some(done) = self.writer.next().await {
            self.finished(done);
        }
        self.stale_left += attempted - (self.removed - removed);
    }

    /// The endpoint association work for machine `m` (`id`), in the scope.
    fn plan(&mut self, m: &MachineRef, id: &ResourceId) -> Option<Work> {
        let takeover = self.rules.takeover;
        let work = self.sweep.monitor.as_mut()?.plan(m, id, takeover)?;
        let quiet = self.cx.settings.dry_run || self.rules.report;
        Some(if quiet { work.without_write() } else { work })
    }

    /// Takes the outcome of a machine's endpoint association work into the tally (a write
    /// into the list of changes).
    fn monitored(&mut self, name: &str, result: Result<Done, ArmError>) {
        let tally = &mut self.sweep.tally;
        match result {
            Ok(Done::Is(state, message)) => tally.monitor(name, state, message),
            Ok(Done::Wrote(w)) => {
                self.written += 1;
                self.sweep.monitor_written += 1;
                tally.monitor(name, MonitorState::Associated, None);
                let (action, diff) = w.change();
                self.changes.push((w.association, action, diff));
            }
            Ok(Done::Would(w)) => {
                let now = w.from.as_deref().unwrap_or("no endpoint");
                let message = Some(format!("points at {now}, not {}", w.to));
                if self.rules.report {
                    tally.monitor(name, MonitorState::Drifted, message);
                } else {
                    tally.monitor(name, MonitorState::Pending, message);
                    let (action, diff) = w.change();
                    self.changes.push((w.association, action, diff));
                }
            }
            Ok(
                Done::Removed(id, endpoint)
                | Done::WouldRemove(id, endpoint)
                | Done::Released(id, endpoint),
            ) => {
                self.removed += 1;
                let diff = vec![entry(monitor::ENDPOINT_FIELD, "", &endpoint)];
                self.changes.push((id, ChangeAction::Delete, diff));
            }
            Err(e) if e.is_retryable() => {
                let why = format!("{}: {} (will retry)", e.code(), e.message());
                tally.monitor(name, MonitorState::Pending, Some(why));
                self.retry_after(&e);
            }
            Err(e) => {
                self.failed += 1;
                let why = format!("{}: {}", e.code(), e.message());
                tally.monitor(name, MonitorState::Failed, Some(why));
                self.sweep.failure.get_or_insert(e);
            }
        }
    }

    fn retry_after(&mut self, e: &ArmError) {
        let retry = arm::retry(e);
        self.retry = Some(match self.retry {
            Some(Requeue::After(a)) if matches!(retry, Requeue::After(b) if b < a) => {
                Requeue::After(a)
            }
            Some(Requeue::Backoff) => Requeue::Backoff,
            _ => retry,
        });
    }

    /// The outcome of a listing that is over (`tally` holds every machine it found).
    pub fn complete(&mut self, tally: &Tally, batch: Duration) -> Next {
        let s = &tally.summary;
        let id = &self.rules.scope.id;
        let interval = self.cx.interval;
        let counts = counts(s, id, true);
        // One entry for the fleet, however many machines: the note says how many.
        let machines = |n: u32| entry(SCOPE_FIELD, &id.to_string(), &format!("{n} machines"));
        let drift = &mut self.cx.drift;
        let monitoring = s.monitoring.clone().unwrap_or_default();
        let endpoints = |n: u32| entry(monitor::ENDPOINT_FIELD, "", &format!("{n} machines"));
        if tally.monitor_drifted > 0 {
            drift.reported.push(endpoints(tally.monitor_drifted));
            drift.notes.push(format!(
                "{} machines' configurationAccessEndpoint is not as spec.monitoring says (drift policy Report)",
                tally.monitor_drifted
            ));
        } else if self.sweep.monitor_written > 0 && self.sweep.was_ready {
            drift.corrected.push(endpoints(self.sweep.monitor_written));
            drift.notes.push(format!(
                "pointed {} machines' configurationAccessEndpoint at their region's endpoint again",
                self.sweep.monitor_written
            ));
        }
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
            return stalled(&e, s.failed + monitoring.failed, &counts, interval);
        }
        let pending = s.pending - tally.drifted + monitoring.pending;
        if pending > 0 {
            return self.progressing(&counts, pending, batch, "");
        }
        if self.stale_left > 0 {
            let more = format!(
                "; {} endpoint associations arclink wrote on machines it no longer covers left to remove",
                self.stale_left
            );
            return self.progressing(&counts, 0, batch, &more);
        }
        Next {
            phase: Phase::ready("Succeeded", ready_message(s, tally.drifted, id)),
            requeue: Requeue::After(interval),
        }
    }

    /// The outcome of a pass that leaves the listing for the next. An object Ready for its
    /// current spec, in which this listing found nothing to do so far, keeps its status as the
    /// last complete listing wrote it (a large group read over several passes in steady state
    /// changes nothing, so nothing is written to the API server); otherwise the status shows
    /// the machines listed so far.
    pub fn partial(&mut self, batch: Duration) -> Next {
        let mut tally = self.sweep.tally.clone();
        for (m, why) in self.sweep.cursor.left() {
            tally.add(&m.name, MachineState::Pending, Some(why.to_string()));
        }
        let s = &tally.summary;
        let id = &self.rules.scope.id;
        let monitoring = s.monitoring.clone().unwrap_or_default();
        let pending = s.pending - tally.drifted + monitoring.pending;
        let failed = s.failed + monitoring.failed;
        if self.cx.was_ready && self.sweep.was_ready && pending == 0 && failed == 0 {
            let kept = &self.cx.status.summary;
            let drifted = kept.pending;
            return Next {
                phase: Phase::ready("Succeeded", ready_message(kept, drifted, id)),
                requeue: Requeue::After(batch),
            };
        }
        let counts = counts(s, id, false);
        // A pass whose every write failed for good stops the listing until the drift check
        // (a missing permission would fail the rest the same way); otherwise the listing goes
        // on and the failures are reported when it is over.
        let next = match &self.sweep.failure {
            Some(e) if self.written == 0 && self.failed > 0 => {
                stalled(e, failed, &counts, self.cx.interval)
            }
            _ => self.progressing(&counts, pending, batch, "; more machines to list"),
        };
        record(&mut self.cx.status, tally);
        next
    }

    fn progressing(&self, counts: &str, pending: u32, batch: Duration, more: &str) -> Next {
        let (verb, requeue) = if self.cx.settings.dry_run {
            ("would associate", Requeue::After(self.cx.interval))
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
        Next {
            phase: Phase::progressing("Associating", message),
            requeue,
        }
    }
}

/// `status.summary`, `status.machines` and `status.machinesOmitted` from a tally.
pub fn record(status: &mut ArcServerAssociationStatus, tally: Tally) {
    status.summary = tally.summary.clone();
    let (machines, omitted) = tally.into_listed();
    status.machines = machines;
    status.machines_omitted = omitted;
}

/// "a of m matched machines associated with scope id" (`complete`: of a listing that is over).
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
    if let Some(m) = &s.monitoring {
        message.push_str(&format!(
            "; {} configurationAccessEndpoint associations with the region's data collection endpoint ({} machines in a region without one, {} conflict)",
            m.associated, m.no_regional_endpoint, m.conflict
        ));
    }
    message.push_str(&format!("; {ACCEPTANCE_NOTE}"));
    message
}

/// Where machine updates that failed for good leave the object (transient failures are left
/// pending).
fn stalled(e: &ArmError, failed: u32, counts: &str, interval: Duration) -> Next {
    let mut next = arm::next_for_error(e, &mut 0, interval);
    if let Phase::Stalled { message, .. } = &mut next.phase {
        *message = format!("{failed} machine updates failed, first: {message}; {counts}");
    }
    next
}
