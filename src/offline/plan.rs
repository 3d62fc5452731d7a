//! `arclink plan`: one dry-run reconcile per object, reported as create / update / no-op /
//! blocked / waiting / drift, and an exit code a pipeline can gate on. Never writes.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::manifest::{self, Document, ManifestError, Manifests};
use super::object::Onboarding;
use super::step::{self, Step};
use super::{Exit, MAX_TIMEOUT, OfflineArgs, Output};
use crate::api::conditions::{DRIFTED, READY, RECONCILING, STALLED, find, is_true};
use crate::api::{DriftEntry, duration_up_to};
use crate::azure::ArmClient;
use crate::connect::target::Target;
use crate::printable::{for_terminal, one_line};
use crate::reconcile::{Change, ChangeAction, Phase, Requeue, Settings, States};

/// Flags of `arclink plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: OfflineArgs,
    /// Give up reading ARM after this long in total (e.g. 30m, 90s; at most 24h): objects not
    /// planned by then are reported as errors (exit code 1), as `apply` reports them.
    #[arg(long, default_value = "30m", value_parser = duration_up_to(MAX_TIMEOUT))]
    pub timeout: Duration,
    /// Show what `arclink delete` would do with these manifests instead of `apply`.
    #[arg(long)]
    pub delete: bool,
}

/// Version of the JSON plan schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// What would happen to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Its Azure resource does not exist and would be created.
    Create,
    /// Its Azure resource differs from the manifest and would be updated (`plan --delete`: its
    /// resources would be released or its machines detached).
    Update,
    /// `plan --delete`: its Azure resources would be deleted.
    Delete,
    /// Azure matches the manifest.
    NoOp,
    /// Azure differs, and `policy.drift: Report` forbids correcting it.
    Drift,
    /// Would wait: a dependency (its scope) is created first, or ARM is still provisioning.
    Waiting,
    /// Needs a person (RegionMismatch, OwnedElsewhere, AdoptionRequired, ...).
    Blocked,
    /// `spec.suspend: true`: nothing is done.
    Suspended,
    /// ARM could not be read (throttled, transient error).
    Error,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Drift => "drift",
            Action::Waiting => "waiting",
            Action::Blocked => "blocked",
            Action::Suspended => "suspended",
            Action::Error => "error",
        }
    }
}

/// A planned write.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChange {
    pub action: &'static str,
    pub resource_id: String,
    pub diff: Vec<DriftEntry>,
}

/// What someone else did, as the controller would record it in an Event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedNotice {
    pub reason: String,
    pub message: String,
}

impl PlannedNotice {
    pub fn of(notices: &[crate::reconcile::Notice]) -> Vec<PlannedNotice> {
        notices
            .iter()
            .map(|n| PlannedNotice {
                reason: n.reason.clone(),
                message: n.message.clone(),
            })
            .collect()
    }

    /// One line for people.
    pub fn render(&self) -> String {
        format!(
            "  ! {}: {}\n",
            one_line(&self.reason),
            one_line(&self.message)
        )
    }
}

impl From<&Change> for PlannedChange {
    fn from(c: &Change) -> PlannedChange {
        PlannedChange {
            action: c.action.as_str(),
            resource_id: c.resource_id.clone(),
            diff: c.diff.clone(),
        }
    }
}

/// The plan of one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub file: String,
    pub document: usize,
    pub action: Action,
    /// The condition reason behind the action (e.g. `OwnedElsewhere`, `WaitingForScope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub changes: Vec<PlannedChange>,
    /// Fields that differ and are reported, not corrected (`policy.drift: Report`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftEntry>,
    /// What someone else did, as the controller would record it in an Event.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<PlannedNotice>,
    /// Parts of the object that need a person although the rest converges (machines of an
    /// association in another region, in another scope, not found, or failing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<BlockedItem>,
    /// A scope's onboarding commands (`spec.onboarding`), as the controller would write them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onboarding: Option<Onboarding>,
}

/// A blocked part of an object.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct BlockedItem {
    pub name: String,
    /// E.g. `RegionMismatch`, `Conflict`, `NotFound`, `Failed`.
    #[serde(alias = "state")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Machine states of an association that need a person.
const BLOCKED_MACHINE_STATES: [&str; 4] = ["RegionMismatch", "Conflict", "NotFound", "Failed"];

/// Counts by action. `delete` is 0 but for `plan --delete`: plan and apply never delete Azure
/// resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub no_op: usize,
    pub drift: usize,
    pub waiting: usize,
    pub blocked: usize,
    pub suspended: usize,
    pub error: usize,
}

/// A manifest error, for JSON output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEntry {
    pub class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl From<&ManifestError> for ErrorEntry {
    fn from(e: &ManifestError) -> ErrorEntry {
        let object = e.object();
        ErrorEntry {
            class: e.class(),
            file: e.origin().map(|o| o.file.clone()),
            document: e.origin().map(|o| o.document),
            kind: object.map(|o| o.kind.clone()),
            namespace: object.map(|o| o.namespace.clone()),
            name: object.map(|o| o.name.clone()),
            field: e.field().map(str::to_string),
            message: e.to_string(),
        }
    }
}

/// The whole plan (the `--output json` document).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub version: u32,
    /// `azure` or `emulator`; absent when the manifests had errors (no ARM was contacted).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    pub objects: Vec<PlannedObject>,
    pub summary: Summary,
    pub errors: Vec<ErrorEntry>,
    /// A plan of `arclink delete` (`plan --delete`) rather than of `apply`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delete: bool,
}

impl Plan {
    /// 1 on errors or blocked objects (or blocked parts of objects); 2 when anything would change or differs;
    /// else 0.
    pub fn exit(&self) -> Exit {
        let s = &self.summary;
        let blocked_items = self.objects.iter().any(|o| !o.blocked.is_empty());
        if !self.errors.is_empty() || s.blocked + s.error > 0 || blocked_items {
            Exit::Errors
        } else if s.create + s.update + s.delete + s.drift + s.waiting > 0 {
            Exit::Changes
        } else {
            Exit::Clean
        }
    }

    pub(super) fn count(&mut self) {
        let mut s = Summary::default();
        for o in &self.objects {
            match o.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::NoOp => s.no_op += 1,
                Action::Drift => s.drift += 1,
                Action::Waiting => s.waiting += 1,
                Action::Blocked => s.blocked += 1,
                Action::Suspended => s.suspended += 1,
                Action::Error => s.error += 1,
            }
        }
        self.summary = s;
    }
}

/// Runs `arclink plan`: prints the plan on stdout, notes on stderr.
pub async fn run(plan_args: &PlanArgs) -> Exit {
    let timeout = plan_args.timeout;
    let args = &plan_args.common;
    let manifests = match manifest::load(&args.files, args.arm.azure.default_subscription()) {
        Ok(m) => m,
        Err(errors) => return report_errors(args.output, &errors),
    };
    print_notes(&manifests);
    let target = match args.arm.connect().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}", for_terminal(&e.to_string()));
            return Exit::Errors;
        }
    };
    let emulator = target.emulator.is_some();
    let settings = args.settings(emulator, true);
    let deadline = Instant::now() + timeout;
    let plan = if plan_args.delete {
        let delete = super::delete::plan(&target.arm, &settings, manifests, emulator);
        match tokio::time::timeout_at(deadline.into(), delete).await {
            Ok(plan) => plan,
            Err(_) => {
                if let Err(e) = Target::finish(target).await {
                    eprintln!("error: {}", for_terminal(&e.to_string()));
                }
                eprintln!(
                    "error: --timeout ({}s) ran out while reading ARM for the deletion plan (throttled or slow); nothing was written",
                    timeout.as_secs()
                );
                return Exit::Errors;
            }
        }
    } else {
        plan_until(&target.arm, &settings, manifests, emulator, deadline)
            .await
            .0
    };
    let finished = Target::finish(target).await;
    match args.output {
        Output::Text => print!("{}", render_text(&plan)),
        Output::Json => println!("{}", render_json(&plan)),
    }
    match finished {
        Ok(()) => plan.exit(),
        Err(e) => {
            eprintln!("error: {}", for_terminal(&e.to_string()));
            Exit::Errors
        }
    }
}

/// Prints manifest errors (text on stderr, or a JSON plan with `errors` on stdout).
pub fn report_errors(output: Output, errors: &[ManifestError]) -> Exit {
    match output {
        Output::Text => {
            for e in errors {
                eprintln!("error: {}", for_terminal(&e.to_string()));
            }
            eprintln!(
                "{} error(s) in the manifests; nothing was read from or written to Azure",
                errors.len()
            );
        }
        Output::Json => {
            let plan = Plan {
                version: SCHEMA_VERSION,
                errors: errors.iter().map(ErrorEntry::from).collect(),
                ..Plan::default()
            };
            println!("{}", render_json(&plan));
        }
    }
    Exit::Errors
}

pub fn print_notes(manifests: &Manifests) {
    for note in manifests
        .notes
        .iter()
        .chain(&super::offline_notes(manifests))
    {
        eprintln!("note: {}", for_terminal(note));
    }
}

/// The plan of every object, in dependency order. `settings.dry_run` must be true.
pub async fn plan(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
) -> Plan {
    plan_objects(arm, settings, manifests, emulator).await.0
}

/// The plan, and the objects with the status their dry-run reconcile gave them (what Azure
/// holds now, e.g. an existing endpoint's private IPs).
pub async fn plan_objects(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
) -> (Plan, Vec<Document>) {
    let deadline = Instant::now() + MAX_TIMEOUT;
    plan_until(arm, settings, manifests, emulator, deadline).await
}

/// [`plan_objects`], giving up at `deadline`: an object whose turn comes later, or whose reads
/// are still under way then (ARM throttling, slow or endless), is an error.
pub async fn plan_until(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
    deadline: Instant,
) -> (Plan, Vec<Document>) {
    let mut objects = manifests.objects;
    let mut planned = Vec::with_capacity(objects.len());
    let states = States::default();
    for i in 0..objects.len() {
        // The client retries throttling and transient failures inside one step, and a listing
        // may take minutes before its bounds end it: the deadline bounds the step itself too.
        let step = if Instant::now() >= deadline {
            Err("not planned: --timeout ran out before this object's turn")
        } else {
            let step = step::step(arm, settings, &states, &mut objects, i);
            tokio::time::timeout_at(deadline.into(), step)
                .await
                .map_err(|_| "--timeout ran out while reading ARM (throttled, slow, or a listing without end)")
        };
        let step = match step {
            Ok(step) => step,
            Err(message) => {
                planned.push(timed_out(&objects[i], settings, message));
                continue;
            }
        };
        let p = classify(&objects[i], step, settings);
        if p.action == Action::Update {
            // The resource exists and apply would update it, after which it is Ready: plan the
            // objects depending on it against that, not against "waiting".
            objects[i].object.project_ready(settings);
        }
        planned.push(p);
    }
    let mut plan = Plan {
        version: SCHEMA_VERSION,
        target: if emulator { "emulator" } else { "azure" }.into(),
        objects: planned,
        ..Plan::default()
    };
    plan.count();
    (plan, objects)
}

/// The plan entry of an object, before anything is known of it.
fn entry(declared: &Document, settings: &Settings) -> PlannedObject {
    let key = declared.object.key();
    PlannedObject {
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        file: declared.origin.file.clone(),
        document: declared.origin.document,
        action: Action::NoOp,
        reason: None,
        message: None,
        changes: Vec::new(),
        drift: Vec::new(),
        notices: Vec::new(),
        blocked: Vec::new(),
        onboarding: declared.object.onboarding(settings),
    }
}

/// An object `--timeout` left unplanned: an error, as `apply` counts it.
fn timed_out(declared: &Document, settings: &Settings, message: &str) -> PlannedObject {
    PlannedObject {
        action: Action::Error,
        reason: Some("TimedOut".into()),
        message: Some(message.into()),
        ..entry(declared, settings)
    }
}

fn classify(declared: &Document, step: Step, settings: &Settings) -> PlannedObject {
    let mut planned = entry(declared, settings);
    let conds = declared.object.conditions();
    let ready = find(conds, READY);
    planned.reason = ready.map(|c| c.reason.clone());
    planned.message = ready.map(|c| c.message.clone());
    planned.changes = step.changes.iter().map(PlannedChange::from).collect();
    planned.notices = PlannedNotice::of(&step.notices);
    let status = declared.object.status();
    planned.drift = status
        .get("drift")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    planned.blocked = status
        .get("machines")
        .and_then(|m| serde_json::from_value::<Vec<BlockedItem>>(m.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|m| BLOCKED_MACHINE_STATES.contains(&m.reason.as_str()))
        .collect();
    planned.action = if step
        .changes
        .iter()
        .any(|c| c.action == ChangeAction::Create)
    {
        Action::Create
    } else if !step.changes.is_empty() {
        Action::Update
    } else if step.phase == Phase::Suspended {
        Action::Suspended
    } else if is_true(conds, STALLED) {
        planned.message = find(conds, STALLED).map(|c| c.message.clone());
        Action::Blocked
    } else if !planned.blocked.is_empty() {
        let mut reasons: Vec<&str> = planned.blocked.iter().map(|b| b.reason.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        planned.reason = Some(reasons.join(","));
        Action::Blocked
    } else if is_true(conds, RECONCILING) {
        let throttled = step.phase.is_throttled();
        let failed = status
            .get("failedAttempts")
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|n| n > 0);
        if step.requeue == Requeue::Backoff || throttled || failed {
            Action::Error
        } else {
            Action::Waiting
        }
    } else if step.drift.is_detected() || is_true(conds, DRIFTED) {
        planned.message = find(conds, DRIFTED).map(|c| c.message.clone());
        Action::Drift
    } else {
        Action::NoOp
    };
    planned
}

/// The plan for people: names, ids and messages from ARM each on their line
/// ([`one_line`]), and nothing in the whole that drives a terminal ([`for_terminal`]).
pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    for o in &plan.objects {
        let _ = writeln!(
            out,
            "{} {}/{} ({}, document {})",
            o.kind, o.namespace, o.name, o.file, o.document
        );
        match o.action {
            Action::Create | Action::Update | Action::Delete => {
                for c in &o.changes {
                    let sign = match c.action {
                        "create" => '+',
                        "delete" => '-',
                        _ => '~',
                    };
                    let _ = writeln!(out, "  {sign} {} {}", c.action, one_line(&c.resource_id));
                    for d in &c.diff {
                        let _ = writeln!(
                            out,
                            "      {}: {} -> {}",
                            d.path,
                            shown(&d.actual),
                            shown(&d.desired)
                        );
                    }
                }
            }
            Action::Drift => {
                let _ = writeln!(
                    out,
                    "  ! drift (policy.drift: Report, not corrected): {}",
                    one_line(o.message.as_deref().unwrap_or_default())
                );
                for d in &o.drift {
                    let _ = writeln!(
                        out,
                        "      {}: {} (manifest: {})",
                        d.path,
                        shown(&d.actual),
                        shown(&d.desired)
                    );
                }
            }
            other => {
                let sign = match other {
                    Action::NoOp | Action::Suspended => '=',
                    Action::Waiting => '~',
                    _ => '!',
                };
                let reason = o
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({})", one_line(r)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {sign} {}{reason}: {}",
                    other.as_str(),
                    one_line(o.message.as_deref().unwrap_or_default())
                );
            }
        }
        for n in &o.notices {
            out.push_str(&n.render());
        }
        for b in &o.blocked {
            let _ = writeln!(
                out,
                "      ! {} {}: {}",
                one_line(&b.name),
                one_line(&b.reason),
                one_line(b.message.as_deref().unwrap_or_default())
            );
        }
        if let Some(onboarding) = &o.onboarding {
            out.push_str(&onboarding.render("  "));
        }
    }
    let s = &plan.summary;
    let mut line = format!(
        "\nPlan: {} to create, {} to update, {} to delete, {} unchanged",
        s.create, s.update, s.delete, s.no_op
    );
    for (n, what) in [
        (s.drift, "drifted (reported only)"),
        (s.waiting, "waiting"),
        (s.blocked, "blocked"),
        (s.suspended, "suspended"),
        (s.error, "with errors"),
    ] {
        if n > 0 {
            let _ = write!(line, ", {n} {what}");
        }
    }
    let _ = writeln!(out, "{line}.");
    let _ = writeln!(
        out,
        "{}",
        if plan.delete {
            "This is what `arclink delete` would do: only resources whose owner tag names their object are deleted or released; machines are detached, never deleted."
        } else {
            "Nothing is ever deleted by plan/apply: Azure resources of objects removed from the manifests stay (`arclink delete` or the in-cluster controller deletes them with their objects)."
        }
    );
    for_terminal(&out).into_owned()
}

fn shown(v: &str) -> String {
    if v.is_empty() {
        "(absent)".into()
    } else {
        format!("{v:?}")
    }
}

/// The plan for pipelines: pretty JSON with the fields in a fixed order.
pub fn render_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
