//! `arclink plan`, `arclink apply` and `arclink delete`: the reconcile cores run against manifests read from
//! files, with no Kubernetes involved, for GitOps pipelines and for trying arclink without a
//! cluster. ARM is Azure when credentials (or `--arm-endpoint`) are configured, otherwise an
//! embedded emulator.
//!
//! Objects have no Kubernetes status here: status lives in memory between the reconcile steps
//! of one command. A long-running operation started by an earlier, interrupted `apply` is
//! therefore not resumed; the next `apply` reads Azure afresh (a resource still provisioning is
//! waited for, a write ARM still runs is answered with a retryable conflict and retried).

pub mod apply;
pub mod delete;
pub mod manifest;
pub mod object;
pub mod plan;
mod progress;
mod status;
pub mod step;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::connect::ArmTargetArgs;
use crate::reconcile::Settings;

/// Upper bound of `plan`'s and `apply`'s `--timeout`: longer is a typo, not a wish to wait for
/// days.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Flags shared by `plan`, `apply` and `delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct OfflineArgs {
    /// Manifest files or directories (their *.yaml and *.yml files in any case, not
    /// recursive); YAML streams of several documents are read document by document. Regular
    /// files of at most 16 MiB only.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// `text` for people, `json` for pipelines (schema in the README).
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub arm: ArmTargetArgs,
}

impl OfflineArgs {
    /// The settings every reconcile gets; `emulator` when ARM is the emulator.
    pub fn settings(&self, emulator: bool, dry_run: bool) -> Settings {
        self.arm.azure.settings(emulator, dry_run)
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// How a command ended, as its process exit code (`terraform plan -detailed-exitcode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing to change (plan), everything converged (apply).
    Clean,
    /// 1: errors (bad manifests, ARM errors, blocked objects, kinds not supported offline,
    /// timeouts).
    Errors,
    /// 2: changes pending (plan only).
    Changes,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Errors => 1,
            Exit::Changes => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Notes printed on stderr for manifests that use something only a cluster has.
fn offline_notes(manifests: &manifest::Manifests) -> Vec<String> {
    manifests
        .objects
        .iter()
        .flat_map(|d| {
            d.object
                .offline_limits()
                .into_iter()
                .map(move |limit| format!("{}: {}: {limit}", d.origin, d.object.key()))
        })
        .collect()
}
