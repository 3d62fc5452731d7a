//! `arclink apply`: converges each object in dependency order (scopes, endpoints,
//! associations), stepping its reconcile core until it settles, waiting out long-running
//! operations with the core's own requeue delay.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::manifest::{self, Document, Manifests};
use super::object::Onboarding;
use super::plan::{PlannedChange, PlannedNotice, print_notes, report_errors};
use super::progress::Spinner;
use super::status;
use super::{Exit, MAX_TIMEOUT, OfflineArgs, Output};
use crate::api::conditions::{READY, RECONCILING, STALLED, find, is_true};
use crate::api::duration_up_to;
use crate::azure::ArmClient;
use crate::connect::target::Target;
use crate::printable::{for_terminal, one_line};
use crate::reconcile::{Phase, Requeue, Settings, States, requeue};

/// Flags of `arclink apply` and `arclink delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: OfflineArgs,
    /// Give up on objects still converging (delete: still being deleted) after this long in
    /// total (e.g. 30m, 90s; at most 24h).
    #[arg(long, default_value = "30m", value_parser = duration_up_to(MAX_TIMEOUT))]
    pub timeout: Duration,
    /// Longest wait between two steps of an object while an operation runs (default 5s
    /// against Azure, 200ms against the embedded emulator; at most 1h).
    #[arg(long, value_parser = duration_up_to(Duration::from_secs(3600)))]
    pub poll_interval: Option<Duration>,
}

/// How an object ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Result {
    Ready,
    Suspended,
    Blocked,
    TimedOut,
}

/// One object after `apply`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
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
    /// What someone else did, as the controller would record it in an Event.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<PlannedNotice>,
    /// The object's status as the controller would have written it.
    pub status: Value,
    /// A scope's onboarding commands (`spec.onboarding`), as the controller would write them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onboarding: Option<Onboarding>,
}

/// The `--output json` document of apply.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub target: String,
    pub objects: Vec<Applied>,
}

impl Report {
    /// 0 when every object is Ready (or suspended), else 1.
    pub fn exit(&self) -> Exit {
        if self
            .objects
            .iter()
            .all(|o| matches!(o.result, Result::Ready | Result::Suspended))
        {
            Exit::Clean
        } else {
            Exit::Errors
        }
    }
}

/// Runs `arclink apply`: progress on stderr, the resulting status on stdout.
pub async fn run(args: &ApplyArgs) -> Exit {
    run_writing(args, apply).await
}

/// What `apply` and `delete` report: printed as text or JSON, and the command's exit code.
pub trait Written: Serialize {
    fn render_text(&self) -> String;
    fn exit(&self) -> Exit;
}

impl Written for Report {
    fn render_text(&self) -> String {
        render_text(self)
    }

    fn exit(&self) -> Exit {
        Report::exit(self)
    }
}

/// Runs a command that writes (`apply`, `delete`): reads the manifests, connects to ARM (or the
/// embedded emulator), runs `act` within the flags' limits, prints its report on stdout.
pub(super) async fn run_writing<R: Written>(
    args: &ApplyArgs,
    act: impl AsyncFnOnce(&ArmClient, &Settings, Manifests, bool, Limits) -> R,
) -> Exit {
    let common = &args.common;
    let manifests = match manifest::load(&common.files, common.arm.azure.default_subscription()) {
        Ok(m) => m,
        Err(errors) => return report_errors(common.output, &errors),
    };
    print_notes(&manifests);
    let target = match common.arm.connect().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}", for_terminal(&e.to_string()));
            return Exit::Errors;
        }
    };
    let emulator = target.emulator.is_some();
    let settings = common.settings(emulator, false);
    let poll = args.poll_interval.unwrap_or(if emulator {
        Duration::from_millis(200)
    } else {
        crate::reconcile::arm::OPERATION_POLL
    });
    let limits = Limits {
        timeout: args.timeout,
        poll,
    };
    let report = act(&target.arm, &settings, manifests, emulator, limits).await;
    let finished = Target::finish(target).await;
    match common.output {
        Output::Text => print!("{}", report.render_text()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        ),
    }
    match finished {
        Ok(()) => report.exit(),
        Err(e) => {
            eprintln!(
                "error: {} (what this run did in the emulator is lost)",
                for_terminal(&e.to_string())
            );
            Exit::Errors
        }
    }
}

/// Bounds of the convergence loop.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// For the whole apply.
    pub timeout: Duration,
    /// Cap of the wait between two steps while an operation runs.
    pub poll: Duration,
}

/// Converges every object, in dependency order.
pub async fn apply(
    arm: &ArmClient,
    settings: &Settings,
    manifests: Manifests,
    emulator: bool,
    limits: Limits,
) -> Report {
    let mut deadline = Instant::now() + limits.timeout;
    let mut objects = manifests.objects;
    let mut applied = Vec::with_capacity(objects.len());
    let states = States::default();
    for i in 0..objects.len() {
        let result = converge(
            arm,
            settings,
            &states,
            &mut objects,
            i,
            deadline,
            limits.poll,
        )
        .await;
        if result.result == Result::TimedOut {
            // The next wait would have crossed the deadline: the run's time is up.
            deadline = Instant::now();
        }
        applied.push(result);
    }
    Report {
        version: super::plan::SCHEMA_VERSION,
        target: if emulator { "emulator" } else { "azure" }.into(),
        objects: applied,
    }
}

async fn converge(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    i: usize,
    deadline: Instant,
    poll: Duration,
) -> Applied {
    let key = objects[i].object.key();
    let mut spinner = Spinner::start(key.to_string());
    let mut changes = Vec::new();
    let mut notices = Vec::new();
    let mut failures = 0;
    let (result, reason, message) = loop {
        if Instant::now() >= deadline {
            break (
                Result::TimedOut,
                None,
                Some("not attempted: --timeout ran out before this object's turn".into()),
            );
        }
        if let Some(blocked) = dependency_not_ready(objects, i) {
            break (
                Result::Blocked,
                Some("DependencyNotReady".into()),
                Some(blocked),
            );
        }
        // The client retries throttling and transient failures inside one step, for longer than
        // a short --timeout: the deadline bounds the step itself too.
        let step = super::step::step(arm, settings, states, objects, i);
        let Ok(step) = tokio::time::timeout_at(deadline.into(), step).await else {
            break (
                Result::TimedOut,
                find(objects[i].object.conditions(), READY).map(|c| c.reason.clone()),
                Some("--timeout ran out while waiting for ARM (throttled or slow)".into()),
            );
        };
        changes.extend(step.changes.iter().map(PlannedChange::from));
        notices.extend(PlannedNotice::of(&step.notices));
        let conds = objects[i].object.conditions();
        let ready = find(conds, READY);
        let reason = ready.map(|c| c.reason.clone());
        if is_true(conds, RECONCILING) {
            let message = find(conds, RECONCILING)
                .map(|c| c.message.clone())
                .unwrap_or_default();
            spinner.update(&format!(
                "{}: {message}",
                reason.as_deref().unwrap_or_default()
            ));
            let delay = wait(step.requeue, step.phase.is_throttled(), poll, &mut failures);
            if Instant::now() + delay > deadline {
                break (
                    Result::TimedOut,
                    reason,
                    Some(format!(
                        "still converging when --timeout ran out: {message}"
                    )),
                );
            }
            spinner.wait(delay).await;
            continue;
        }
        if is_true(conds, STALLED) {
            let message = find(conds, STALLED).map(|c| c.message.clone());
            break (Result::Blocked, reason, message);
        }
        let message = ready.map(|c| c.message.clone());
        if step.phase == Phase::Suspended {
            break (Result::Suspended, reason, message);
        }
        break (Result::Ready, reason, message);
    };
    let ok = matches!(result, Result::Ready | Result::Suspended);
    let summary = match (&reason, &message) {
        // ARM errors are already `Code: message`, with the code as the reason.
        (Some(r), Some(m)) if !m.starts_with(&format!("{r}:")) => format!("{r}: {m}"),
        (_, Some(m)) => m.clone(),
        _ => String::new(),
    };
    spinner.finish(ok, &summary);
    let origin = &objects[i].origin;
    Applied {
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        file: origin.file.clone(),
        document: origin.document,
        result,
        reason,
        message,
        changes,
        notices,
        status: objects[i].object.status(),
        onboarding: objects[i].object.onboarding(settings),
    }
}

/// The wait before an object's next step: the core's requeue delay, at most `poll` (but ARM's
/// own delay when throttled), or back-off after `failures` in a row.
pub(super) fn wait(
    requeue: Requeue,
    throttled: bool,
    poll: Duration,
    failures: &mut u32,
) -> Duration {
    match requeue {
        Requeue::After(d) if throttled => d,
        Requeue::After(d) => d.min(poll),
        Requeue::Backoff => {
            *failures += 1;
            requeue::backoff(*failures)
        }
    }
}

/// Why the object it refers to (declared in the same manifests: a scope, an Azure Monitor
/// scope, a resource management link) keeps it from converging.
fn dependency_not_ready(objects: &[Document], i: usize) -> Option<String> {
    let referred = objects
        .iter()
        .find(|d| d.object.is_referred_to_by(&objects[i].object))?;
    (!is_true(referred.object.conditions(), READY)).then(|| {
        format!(
            "{} is not Ready, so this object was not applied",
            referred.object.key()
        )
    })
}

/// The result for people: what was written, then each object's status; ids and messages from
/// ARM each on their line ([`one_line`]), nothing that drives a terminal ([`for_terminal`]).
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let created = count(report, "create");
    let updated = count(report, "update");
    let ready = report
        .objects
        .iter()
        .filter(|o| o.result == Result::Ready)
        .count();
    let _ = writeln!(
        out,
        "Apply: {created} created, {updated} updated, 0 deleted; {ready} of {} objects Ready.",
        report.objects.len()
    );
    for o in &report.objects {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} {}/{}: {}",
            o.kind,
            o.namespace,
            o.name,
            serde_json::to_value(o.result)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        for c in &o.changes {
            let _ = writeln!(out, "  {}d {}", c.action, one_line(&c.resource_id));
        }
        for n in &o.notices {
            out.push_str(&n.render());
        }
        if o.reason.as_deref() == Some("DependencyNotReady") {
            let _ = writeln!(
                out,
                "  {}",
                one_line(o.message.as_deref().unwrap_or_default())
            );
        }
        out.push_str(&status::render(&o.status, "  "));
        if let Some(onboarding) = &o.onboarding {
            out.push_str(&onboarding.render("  "));
        }
    }
    for_terminal(&out).into_owned()
}

fn count(report: &Report, action: &str) -> usize {
    report
        .objects
        .iter()
        .flat_map(|o| &o.changes)
        .filter(|c| c.action == action)
        .count()
}
