//! Which ARM `plan`/`apply` (and `run --emulator`) talk to: Azure, or an embedded in-process
//! emulator seeded from a fixtures file.

use std::path::PathBuf;
use std::time::Duration;

use crate::azure::ArmClient;
use crate::connect::AzureArgs;
use crate::connect::credentials::{ArmConfig, ArmPool, identity_from_env};
use crate::emulator::{Emulator, EmulatorConfig, Fixtures};

/// Appended to every condition message when the ARM is the embedded emulator.
pub const EMULATOR_NOTE: &str = "ARM emulator: not Azure";

/// Flags of the embedded emulator.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorFlags {
    /// Seed data of the embedded emulator (subscriptions, resource groups, virtual networks,
    /// Arc servers), relative to the current directory.
    #[arg(
        long,
        env = "ARCLINK_EMULATOR_FIXTURES",
        default_value = "deploy/emulator/fixtures.yaml"
    )]
    pub emulator_fixtures: PathBuf,
    /// State file of the embedded emulator: restored at start, written as it changes, so that a
    /// later command sees what an earlier one did. Without it, every run starts from the fixtures.
    #[arg(long, env = "ARCLINK_EMULATOR_STATE")]
    pub emulator_state: Option<PathBuf>,
    /// How long the embedded emulator's long-running operations stay InProgress (e.g. 1s, 0s;
    /// at most 1h).
    #[arg(long, default_value = "1s", value_parser = crate::api::duration_up_to(crate::emulator::cli::MAX_LRO_DURATION))]
    pub emulator_lro_duration: Duration,
}

/// `--target`: where ARM is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetChoice {
    /// Azure when --arm-endpoint is given or credentials are in the environment
    /// (AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE); otherwise the emulator.
    Auto,
    /// Azure (or --arm-endpoint), with the identity from the environment (a client secret,
    /// workload identity, then managed identity).
    Azure,
    /// The embedded emulator.
    Emulator,
}

/// Why no ARM client could be made.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "--emulator-fixtures {path}: {message} (run from the repository root, or pass --emulator-fixtures FILE)"
    )]
    Fixtures { path: String, message: String },
    #[error("embedded ARM emulator: {0}")]
    Emulator(String),
    #[error("invalid Azure configuration: {0}")]
    Config(String),
}

/// The ARM in use.
pub struct Target {
    pub arm: ArmClient,
    /// Set when ARM is the embedded emulator; stop it with [`Target::finish`] so its state file
    /// is written.
    pub emulator: Option<Emulator>,
}

impl Target {
    /// Flushes the emulator's state file, if any; the error names the file that could not be
    /// written (what the run did in the emulator is then lost).
    pub async fn finish(self) -> Result<(), TargetError> {
        match self.emulator {
            Some(emulator) => emulator
                .shutdown()
                .await
                .map_err(|e| TargetError::Emulator(e.to_string())),
            None => Ok(()),
        }
    }
}

/// Whether `choice` means the emulator, given the flags and environment.
pub fn use_emulator(choice: TargetChoice, azure: &AzureArgs) -> bool {
    match choice {
        TargetChoice::Emulator => true,
        TargetChoice::Azure => false,
        TargetChoice::Auto => {
            let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
            let credentials = set("AZURE_CLIENT_ID")
                && set("AZURE_TENANT_ID")
                && (set("AZURE_CLIENT_SECRET") || set("AZURE_FEDERATED_TOKEN_FILE"));
            azure.arm_endpoint.is_none() && !credentials
        }
    }
}

/// Connects to Azure or starts the embedded emulator. The emulator is announced on stderr.
pub async fn connect(
    choice: TargetChoice,
    azure: &AzureArgs,
    flags: &EmulatorFlags,
) -> Result<Target, TargetError> {
    if use_emulator(choice, azure) {
        let emulator = start_emulator(flags).await?;
        eprintln!(
            "note: no Azure credentials or --arm-endpoint: using an embedded ARM emulator at {} seeded from {}{} (NOT Azure)",
            emulator.endpoint(),
            flags.emulator_fixtures.display(),
            flags
                .emulator_state
                .as_ref()
                .map(|p| format!(", state in {}", p.display()))
                .unwrap_or_default()
        );
        let config = ArmConfig::emulator(&emulator.endpoint(), emulator.ca_pem())
            .map_err(TargetError::Emulator)?;
        let arm = ArmPool::new(config)
            .default_client()
            .map_err(|e| TargetError::Emulator(e.to_string()))?;
        return Ok(Target {
            arm,
            emulator: Some(emulator),
        });
    }
    let config = ArmConfig {
        cloud: azure.cloud().map_err(TargetError::Config)?,
        ca_pem: azure.ca_pem().map_err(TargetError::Config)?,
        api_versions: azure.api_versions(),
        rate_limits: azure.rate_limits(),
        default_identity: identity_from_env(),
    };
    let arm = ArmPool::new(config)
        .default_client()
        .map_err(|e| TargetError::Config(e.to_string()))?;
    Ok(Target {
        arm,
        emulator: None,
    })
}

/// Starts an in-process emulator on a free loopback port, seeded from `flags`.
pub async fn start_emulator(flags: &EmulatorFlags) -> Result<Emulator, TargetError> {
    let path = &flags.emulator_fixtures;
    let fixtures_err = |message: String| TargetError::Fixtures {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fixtures_err(e.to_string()))?;
    let fixtures = Fixtures::from_yaml(&text).map_err(|e| fixtures_err(e.to_string()))?;
    Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        state_file: flags.emulator_state.clone(),
        lro_duration: flags.emulator_lro_duration,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| TargetError::Emulator(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        azure: AzureArgs,
    }

    #[test]
    fn an_arm_endpoint_or_an_explicit_choice_decides_the_target() {
        let plain = Flags::parse_from(["x"]).azure;
        let endpoint = Flags::parse_from(["x", "--arm-endpoint", "https://127.0.0.1:8443"]).azure;
        assert!(!use_emulator(TargetChoice::Auto, &endpoint));
        assert!(use_emulator(TargetChoice::Emulator, &endpoint));
        assert!(!use_emulator(TargetChoice::Azure, &plain));
    }
}
