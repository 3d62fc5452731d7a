//! `arclink delete` (and `plan --delete`): removes from Azure what a manifest set declared, as
//! the controller does when the objects are deleted — each object's deletion policy
//! (`Delete`/`Orphan`, an association's `Detach`/`Orphan`), through the engine's one clean-up
//! path, which touches only resources whose owner tag names the object — in reverse dependency
//! order (associations, endpoints, scopes: the kinds' list read backwards).
//!
//! The objects have no status from a previous run: a dry-run reconcile of each (what `plan`
//! does) first finds what Azure holds for it, e.g. the private DNS zones an endpoint owns.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use super::Exit;
use super::apply::{ApplyArgs, Limits, Written, run_writing, wait};
use super::manifest::{Document, Manifests};
use super::plan::{self, Action, PlannedChange, PlannedObject};
use super::progress::Spinner;
use super::step::{self, Clean};
use crate::api::conditions::{READY, STALLED, find, is_true};
use crate::azure::ArmClient;
use crate::printable::{for_terminal, one_line};
use crate::reconcile::{ChangeAction, Requeue, Settings, States};

/// How an object's deletion ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Result {
    /// Nothing of it is left to do: its resources were deleted, released or left (the message
    /// says which, e.g. "left in Azure: not owned by this object").
    Done,
    /// Needs a person (an ARM error, or an object depending on it that was not deleted).
    Blocked,
    TimedOut,
}

/// One object after `delete`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub file: String,
    pub document: usize,
    pub result: Result,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The writes made, in order.
    pub changes: Vec<PlannedChange>,
}

/// The `--output json` document of delete.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub target: String,
    /// In the order they were deleted.
    pub objects: Vec<Deleted>,
}

impl Report {
    /// 0 when every object is done, else 1.
    pub fn exit(&self) -> Exit {
        if self.objects.iter().all(|o| o.result == Result::Done) {
            Exit::Clean
        } else {
            Exit::Errors
        }
    }
}

/// Runs `arclink delete`: progress on stderr, what was done on stdout.
pub async fn run(args: &ApplyArgs) -> Exit {
    run_writing(args, delete).await
}

impl Written for Report {
    fn render_text(&self) -> String {
        render_text(self)
    }

    fn exit(&self) -> Exit {
        Report::exit(self)
    }
}

/// Deletes every object, in reverse dependency order, waiting for long-running deletions.
pub async fn delete(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
    limits: Limits,
) -> Report {
    let mut deadline = Instant::now() + limits.timeout;
    let dry_run = Settings {
        dry_run: true,
        ..settings.clone()
    };
    let declared = manifests.objects.clone();
    let discovered = tokio::time::timeout_at(
        deadline.into(),
        discover(arm, &dry_run, manifests, emulator),
    )
    .await;
    let Ok(mut objects) = discovered else {
        let why = "not attempted: --timeout ran out while reading what Azure holds";
        return Report {
            version: plan::SCHEMA_VERSION,
            target: target_name(emulator),
            objects: declared
                .iter()
                .rev()
                .map(|d| ended(d, Result::TimedOut, None, Some(why.into()), Vec::new()))
                .collect(),
        };
    };
    let states = States::default();
    let mut deleted: Vec<Option<Deleted>> = vec![None; objects.len()];
    for i in (0..objects.len()).rev() {
        let result = remove(
            arm,
            settings,
            &states,
            &mut objects,
            &deleted,
            i,
            deadline,
            limits,
        )
        .await;
        if result.result == Result::TimedOut {
            // The next wait would have crossed the deadline: the run's time is up.
            deadline = Instant::now();
        }
        deleted[i] = Some(result);
    }
    Report {
        version: plan::SCHEMA_VERSION,
        target: target_name(emulator),
        objects: deleted.into_iter().rev().flatten().collect(),
    }
}

/// What `arclink delete` would do (`settings.dry_run` must be true): one clean-up step per
/// object, in the order delete takes them.
pub async fn plan(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
) -> plan::Plan {
    let mut objects = discover(arm, settings, manifests, emulator).await;
    let states = States::default();
    let mut planned = Vec::with_capacity(objects.len());
    for i in (0..objects.len()).rev() {
        let clean = step::clean(arm, settings, &states, &mut objects, i).await;
        planned.push(classify(&objects[i], clean));
    }
    let mut plan = plan::Plan {
        version: plan::SCHEMA_VERSION,
        target: target_name(emulator),
        objects: planned,
        delete: true,
        ..plan::Plan::default()
    };
    plan.count();
    plan
}

fn target_name(emulator: bool) -> String {
    if emulator { "emulator" } else { "azure" }.into()
}

/// The objects with the status a dry-run reconcile gives them (what Azure holds for each), all
/// marked as being deleted.
async fn discover(
    arm: &ArmClient,
    dry_run: &Settings,
    manifests: Manifests,
    emulator: bool,
) -> Vec<Document> {
    let (_, mut objects) = plan::plan_objects(arm, dry_run, manifests, emulator).await;
    for d in &mut objects {
        d.object.mark_deleted();
    }
    objects
}

/// Cleans up after `objects[i]` until nothing is left to do, it needs a person, or the deadline.
#[allow(clippy::too_many_arguments)]
async fn remove(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    deleted: &[Option<Deleted>],
    i: usize,
    deadline: Instant,
    limits: Limits,
) -> Deleted {
    let key = objects[i].object.key();
    let mut spinner = Spinner::start(key.to_string());
    let mut changes = Vec::new();
    let mut failures = 0;
    let (result, reason, message) = loop {
        if Instant::now() >= deadline {
            break (
                Result::TimedOut,
                None,
                Some("not attempted: --timeout ran out before this object's turn".into()),
            );
        }
        if let Some(blocked) = dependent_not_deleted(objects, deleted, i) {
            break (
                Result::Blocked,
                Some("DependentNotDeleted".into()),
                Some(blocked),
            );
        }
        let step = step::clean(arm, settings, states, objects, i);
        let Ok(step) = tokio::time::timeout_at(deadline.into(), step).await else {
            break (
                Result::TimedOut,
                None,
                Some("--timeout ran out while waiting for ARM (throttled or slow)".into()),
            );
        };
        changes.extend(step.changes.iter().map(PlannedChange::from));
        if let Some(message) = step.done {
            break (Result::Done, None, Some(message));
        }
        let conds = objects[i].object.conditions();
        let reason = find(conds, READY).map(|c| c.reason.clone());
        if is_true(conds, STALLED) {
            break (
                Result::Blocked,
                reason,
                find(conds, STALLED).map(|c| c.message.clone()),
            );
        }
        let waiting = find(conds, READY)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        spinner.update(&format!(
            "{}: {waiting}",
            reason.as_deref().unwrap_or_default()
        ));
        let delay = wait(step.requeue, false, limits.poll, &mut failures);
        if Instant::now() + delay > deadline {
            break (
                Result::TimedOut,
                reason,
                Some(format!("still deleting when --timeout ran out: {waiting}")),
            );
        }
        spinner.wait(delay).await;
    };
    spinner.finish(
        result == Result::Done,
        message.as_deref().unwrap_or_default(),
    );
    ended(&objects[i], result, reason, message, changes)
}

fn ended(
    d: &Document,
    result: Result,
    reason: Option<String>,
    message: Option<String>,
    changes: Vec<PlannedChange>,
) -> Deleted {
    let key = d.object.key();
    Deleted {
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        file: d.origin.file.clone(),
        document: d.origin.document,
        result,
        reason,
        message,
        changes,
    }
}

/// An object of the manifests that refers to `objects[i]` (a scope, an Azure Monitor scope, a
/// resource management link) and whose deletion did not finish: `objects[i]` stays, as Azure
/// would not let it go with endpoints still connected.
fn dependent_not_deleted(
    objects: &[Document],
    deleted: &[Option<Deleted>],
    i: usize,
) -> Option<String> {
    let referred = &objects[i].object;
    objects.iter().zip(deleted).find_map(|(d, result)| {
        let done = result.as_ref().is_some_and(|r| r.result == Result::Done);
        (referred.is_referred_to_by(&d.object) && !done).then(|| {
            format!(
                "{} was not deleted, so this {} was left",
                d.object.key(),
                referred.kind()
            )
        })
    })
}

/// An object's plan of deletion from its clean-up step.
fn classify(declared: &Document, clean: Clean) -> PlannedObject {
    let key = declared.object.key();
    let conds = declared.object.conditions();
    let changes: Vec<PlannedChange> = clean.changes.iter().map(PlannedChange::from).collect();
    let (action, reason, message) = match clean.done {
        Some(_)
            if clean
                .changes
                .iter()
                .any(|c| c.action == ChangeAction::Delete) =>
        {
            (Action::Delete, None, None)
        }
        Some(_) if !changes.is_empty() => (Action::Update, None, None),
        Some(message) => (Action::NoOp, None, Some(message)),
        None => {
            let reason = find(conds, READY).map(|c| c.reason.clone());
            if is_true(conds, STALLED) {
                let message = find(conds, STALLED).map(|c| c.message.clone());
                (Action::Blocked, reason, message)
            } else {
                let message = find(conds, READY).map(|c| c.message.clone());
                let action = if clean.requeue == Requeue::Backoff {
                    Action::Error
                } else {
                    Action::Waiting
                };
                (action, reason, message)
            }
        }
    };
    PlannedObject {
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        file: declared.origin.file.clone(),
        document: declared.origin.document,
        action,
        reason,
        message,
        changes,
        drift: Vec::new(),
        notices: Vec::new(),
        blocked: Vec::new(),
        onboarding: None,
    }
}

/// The result for people: what was written, then how each object ended; ids and messages from
/// ARM each on their line ([`one_line`]), nothing that drives a terminal ([`for_terminal`]).
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let count = |action: &str| {
        report
            .objects
            .iter()
            .flat_map(|o| &o.changes)
            .filter(|c| c.action == action)
            .count()
    };
    let done = report
        .objects
        .iter()
        .filter(|o| o.result == Result::Done)
        .count();
    let _ = writeln!(
        out,
        "Delete: {} deleted, {} updated; {done} of {} objects done.",
        count("delete"),
        count("update"),
        report.objects.len()
    );
    for o in &report.objects {
        let _ = writeln!(out);
        let result = match o.result {
            Result::Done => "done",
            Result::Blocked => "blocked",
            Result::TimedOut => "timed-out",
        };
        let _ = writeln!(out, "{} {}/{}: {result}", o.kind, o.namespace, o.name);
        for c in &o.changes {
            let _ = writeln!(out, "  {}d {}", c.action, one_line(&c.resource_id));
        }
        let reason = o
            .reason
            .as_deref()
            .map(|r| format!("{}: ", one_line(r)))
            .unwrap_or_default();
        if let Some(m) = &o.message {
            let _ = writeln!(out, "  outcome: {reason}{}", one_line(m));
        }
    }
    for_terminal(&out).into_owned()
}
