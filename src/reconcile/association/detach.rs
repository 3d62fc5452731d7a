//! `deletion: Detach`: clears the scope on the machines this association put there, in batches,
//! continuing its listing between passes like convergence does.

use crate::api::ArcServerAssociation;
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId, Write};

use super::select::{MachineRef, Rival, Selection, is_scope, rivals};
use super::sweep::{self, Cursor, Detaching, Entry, Sweeps, Visit, drive};
use super::writes::{Finished, Job, Writer};
use super::{AssociationDeps, MACHINES, SCOPE_FIELD, created, object_key};
use crate::reconcile::Settings;

/// How far a deletion got.
pub enum Detached {
    All(u32),
    Some { done: u32, left: u32 },
}

/// Detaches in batches, continuing the listing where the previous pass of this deletion left it.
/// `written` receives each machine whose scope this pass cleared or asked ARM to clear (in
/// dry-run: would clear).
pub async fn detach(
    arm: &ArmClient,
    settings: &Settings,
    sweeps: &Sweeps,
    obj: &ArcServerAssociation,
    deps: &AssociationDeps,
    scope_id: &ResourceId,
    written: &mut Vec<ResourceId>,
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
    let mut state = match sweeps.take(&key) {
        Some(Entry::Detach(d)) if d.basis == basis => *d,
        _ => Detaching {
            basis,
            ..Detaching::default()
        },
    };
    if state.cursor.is_done() {
        // The last listing ended with operations ARM accepted: a new one sees their outcome.
        state = state.relisted();
    }
    let mut pass = Detach {
        group: &group,
        scope_id,
        mine: &mine,
        keepers: &keepers,
        dry_run: settings.dry_run,
        writer: Writer::new(arm, deps.budget),
        state,
        failure: None,
        written,
    };
    let collection = CollectionId::new(&group, MACHINES);
    loop {
        match drive(&mut pass, arm, &collection).await {
            Err(f) if f.kept_link && !f.error.is_retryable() => {
                // As in convergence: a kept nextLink may have expired; list from the first
                // page again (the machines detached so far stay counted).
                tracing::info!(collection = %collection, error = %f.error, "continuing the listing failed; listing from the first page again");
                pass.state = std::mem::take(&mut pass.state).relisted();
            }
            Err(f) => {
                pass.failure.get_or_insert(f.error);
                break;
            }
            Ok(()) => break,
        }
    }
    let Detach { state, failure, .. } = pass;
    if let Some(e) = failure {
        if e.is_retryable() {
            sweeps.put(key, Entry::Detach(Box::new(state)));
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
    sweeps.put(key, Entry::Detach(Box::new(state)));
    Ok(Detached::Some { done, left })
}

/// One pass of a deletion.
struct Detach<'a> {
    group: &'a ResourceId,
    scope_id: &'a ResourceId,
    mine: &'a Selection,
    /// Other associations of the same scope: the machines they select stay.
    keepers: &'a [Rival],
    dry_run: bool,
    writer: Writer,
    state: Detaching,
    failure: Option<ArmError>,
    written: &'a mut Vec<ResourceId>,
}

impl Visit for Detach<'_> {
    fn cursor(&mut self) -> &mut Cursor {
        &mut self.state.cursor
    }

    fn writer(&mut self) -> &mut Writer {
        &mut self.writer
    }

    fn unbounded(&self) -> bool {
        self.dry_run
    }

    fn stopped(&self) -> bool {
        self.failure.is_some()
    }

    fn wants(&mut self, m: &MachineRef) -> bool {
        self.mine.selects(m)
            && m.scope().is_some_and(|c| is_scope(c, self.scope_id))
            && !self.keepers.iter().any(|r| r.selection.selects(m))
    }

    async fn machine(&mut self, m: MachineRef) {
        if self.dry_run {
            self.state.done += 1;
            self.written.push(self.group.child(MACHINES, &m.name));
        } else if !self.writer.has_budget() {
            self.state.cursor.defer(m);
        } else {
            let id = self.group.child(MACHINES, &m.name);
            let job = Job {
                scope: Some(None),
                monitor: None,
            };
            if let Some(f) = self.writer.start(id, m, job).await {
                self.finished(f);
            }
        }
    }

    /// A machine counts as detached only when ARM shows it without a scope
    /// (reference/arm-behaviours.md 15); an accepted operation is seen by a later listing.
    fn finished(&mut self, f: Finished) {
        let id = self.group.child(MACHINES, &f.machine.name);
        let Some(result) = f.result else {
            return;
        };
        match result {
            Ok(Write::Done(m)) if m.scope().is_none() => {
                self.state.done += 1;
                self.written.push(id);
            }
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
            Ok(Write::Pending(_)) => {
                self.state.accepted += 1;
                self.written.push(id);
            }
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
