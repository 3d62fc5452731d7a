//! What goes into a reconcile (the controller-wide [`Settings`]) and what comes out of it (an
//! [`Outcome`] with the [`Change`]s made, or a [`Cleanup`]).

use std::time::Duration;

use super::{Drift, Phase, Requeue};
use crate::api::DriftEntry;

/// Controller-wide settings every reconcile needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Written into owner tags (`--cluster-name`).
    pub cluster_name: String,
    /// Subscription for objects that do not name one (`--default-subscription`).
    pub default_subscription: Option<String>,
    /// Default drift check interval (`--drift-check-interval`).
    pub drift_check_interval: Duration,
    /// Appended to every condition message, e.g. when running against the emulator.
    pub note: Option<String>,
    /// Read Azure and report what would change, but never write (`arclink plan`).
    pub dry_run: bool,
    /// The cloud as the Connected Machine agent names it (`azcmagent connect --cloud`), for
    /// the onboarding commands: `AzureCloud`, `AzureUSGovernment` or `AzureChinaCloud`.
    pub agent_cloud: String,
}

impl Settings {
    /// Settings for `cluster_name` with the defaults of the `run` command.
    pub fn new(cluster_name: impl Into<String>) -> Settings {
        Settings {
            cluster_name: cluster_name.into(),
            default_subscription: None,
            drift_check_interval: Duration::from_secs(600),
            note: None,
            dry_run: false,
            agent_cloud: crate::azure::Cloud::AzurePublicCloud()
                .agent_name()
                .to_string(),
        }
    }

    /// An object's drift check interval: `spec.policy.driftCheckInterval` (validated by the
    /// CRD; at most 24h also for objects stored before the CRD said so) or the controller's
    /// default.
    pub fn drift_interval(&self, spec: Option<&str>) -> Duration {
        spec.and_then(|d| crate::api::parse_duration(d).ok())
            .map(|d| d.min(crate::api::MAX_DRIFT_CHECK_INTERVAL))
            .unwrap_or(self.drift_check_interval)
    }
}

/// What a reconcile decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<S> {
    /// The object's new status.
    pub status: S,
    /// Where the object stands (what the conditions in `status` say).
    pub phase: Phase,
    /// When to look again.
    pub requeue: Requeue,
    /// Whether Azure differed from the spec, and whether it was corrected.
    pub drift: Drift,
    /// The writes made (or, in dry-run, that would be made), in order.
    pub changes: Vec<Change>,
    /// What someone else did that the object's owner should hear of (a rule removed by a PUT
    /// of its whole network security group): the controller records each as a Kubernetes
    /// Event, `plan`/`apply` print them.
    pub notices: Vec<Notice>,
}

/// Something worth an Event besides the conditions' transitions.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The Event's reason (`OutboundRuleRemoved`).
    pub reason: String,
    pub message: String,
}

/// One write to Azure, made or planned.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: ChangeAction,
    /// ARM id of the resource written.
    pub resource_id: String,
    /// Field-level differences, desired vs actual (empty for creates and deletes).
    pub diff: Vec<DriftEntry>,
}

/// Kind of write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAction {
    Create,
    Update,
    Delete,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Delete => "delete",
        }
    }
}

/// What a clean-up (object deletion) decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Cleanup<S> {
    /// Nothing left to do; the finalizer may go. The message says what happened in Azure.
    Done(String),
    /// Not finished (operation in flight or an error): keep the finalizer, write `status`.
    Pending { status: S, requeue: Requeue },
}
