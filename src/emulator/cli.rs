//! `arclink emulator`: flags and the serve-until-signal loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Emulator;
use super::config::{Behaviours, Bucket, EmulatorConfig, RateLimits, ScopeClear};
use super::error::EmulatorError;
use super::fixtures::Fixtures;

#[derive(Clone, Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub bind: SocketAddr,
    /// YAML fixtures: subscriptions, resource groups, virtual networks, machines, principals.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// State file; the emulator restores from it at start and keeps it up to date.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Write the CA certificate (PEM) that clients must trust to this file.
    #[arg(long)]
    pub ca_out: Option<PathBuf>,
    /// How long long-running operations stay InProgress, e.g. "2s", "500ms".
    #[arg(long, default_value = "2s")]
    pub lro_duration: String,
    /// Retry-After (seconds) on 201/202 responses and operation status resources.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Items per list page before nextLink.
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// Disable ARM's per-subscription throttling.
    #[arg(long)]
    pub no_throttling: bool,
    /// Read bucket size (ARM default 250).
    #[arg(long, default_value_t = 250)]
    pub read_burst: u32,
    /// Read bucket refill per second (ARM default 25).
    #[arg(long, default_value_t = 25.0)]
    pub read_rate: f64,
    /// Write bucket size (ARM default 200).
    #[arg(long, default_value_t = 200)]
    pub write_burst: u32,
    /// Write bucket refill per second (ARM default 10).
    #[arg(long, default_value_t = 10.0)]
    pub write_rate: f64,
    /// Delete bucket size (ARM default 200).
    #[arg(long, default_value_t = 200)]
    pub delete_burst: u32,
    /// Delete bucket refill per second (ARM default 10).
    #[arg(long, default_value_t = 10.0)]
    pub delete_rate: f64,
    /// List every name in a private endpoint's customDnsConfigs, even those its DNS zone group
    /// covers (by default they are left out, as Azure is reported to do).
    #[arg(long)]
    pub dns_configs_always_listed: bool,
    /// Accept a write to an Azure Monitor scope's scoped resources while another is still
    /// provisioning (by default it is refused, as Azure is reported to do).
    #[arg(long)]
    pub concurrent_scoped_resource_writes: bool,
    /// What clears a machine's privateLinkScopeResourceId in a PATCH (undocumented in Azure).
    #[arg(long, value_enum, default_value = "empty-string")]
    pub machine_scope_clear: ScopeClearArg,
}

/// `--machine-scope-clear`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ScopeClearArg {
    EmptyString,
    Null,
    Either,
}

/// Upper bound of the emulated long-running operations' duration: longer would only make a
/// client wait for nothing.
pub const MAX_LRO_DURATION: Duration = Duration::from_secs(3600);

pub fn parse_duration(s: &str) -> Result<Duration, EmulatorError> {
    let flag_err = |message: String| EmulatorError::Flag {
        flag: "lro-duration",
        message,
    };
    crate::api::duration_up_to(MAX_LRO_DURATION)(s.trim()).map_err(flag_err)
}

impl EmulatorArgs {
    pub fn config(&self) -> Result<EmulatorConfig, EmulatorError> {
        let fixtures = self
            .fixtures
            .as_deref()
            .map(Fixtures::from_file)
            .transpose()?;
        let throttling = (!self.no_throttling).then_some(RateLimits {
            reads: Bucket {
                burst: self.read_burst,
                per_second: self.read_rate,
            },
            writes: Bucket {
                burst: self.write_burst,
                per_second: self.write_rate,
            },
            deletes: Bucket {
                burst: self.delete_burst,
                per_second: self.delete_rate,
            },
        });
        Ok(EmulatorConfig {
            bind: self.bind,
            fixtures,
            state_file: self.state.clone(),
            lro_duration: parse_duration(&self.lro_duration)?,
            retry_after_secs: self.retry_after,
            page_size: self.page_size,
            throttling,
            behaviours: Behaviours {
                dns_configs_covered_by_zone_group: !self.dns_configs_always_listed,
                scoped_resource_writes_serialized: !self.concurrent_scoped_resource_writes,
                machine_scope_clear: match self.machine_scope_clear {
                    ScopeClearArg::EmptyString => ScopeClear::EmptyString,
                    ScopeClearArg::Null => ScopeClear::Null,
                    ScopeClearArg::Either => ScopeClear::Either,
                },
            },
            connections: Default::default(),
        })
    }
}

/// What to tell whoever binds an address other machines can reach.
fn exposure_warning(bind: SocketAddr) -> Option<String> {
    (!bind.ip().is_loopback()).then(|| {
        format!(
            "WARNING: the ARM emulator listens on {bind}, which other machines can reach. Anyone who can connect can get tokens (any client id, unless the fixtures declare principals) and read and change the emulated Azure; the admin API needs the admin token printed below. Bind 127.0.0.1 unless this is on purpose."
        )
    })
}

/// Serves until SIGINT or SIGTERM.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    if let Some(warning) = exposure_warning(args.bind) {
        eprintln!("{warning}");
    }
    let emulator = Emulator::start(args.config()?).await?;
    if let Some(path) = &args.ca_out {
        std::fs::write(path, emulator.ca_pem()).map_err(|source| EmulatorError::Write {
            path: path.clone(),
            source,
        })?;
    }
    println!("ARM emulator listening on {}", emulator.endpoint());
    println!(
        "admin API: {}/_emulator/ with Authorization: Bearer {}",
        emulator.endpoint(),
        emulator.admin_token()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(EmulatorError::Signal)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(EmulatorError::Signal)?,
        _ = term.recv() => {}
    }
    emulator.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn flags_build_the_config() {
        use clap::Parser;
        let cli = Cli::parse_from([
            "x",
            "--bind",
            "127.0.0.1:0",
            "--lro-duration",
            "250ms",
            "--page-size",
            "7",
            "--write-burst",
            "3",
        ]);
        let c = cli.args.config().unwrap();
        assert_eq!(c.lro_duration, Duration::from_millis(250));
        assert_eq!(c.page_size, 7);
        assert_eq!(c.throttling.unwrap().writes.burst, 3);
        assert_eq!(c.throttling.unwrap().reads.burst, 250);
        let off = Cli::parse_from(["x", "--no-throttling"])
            .args
            .config()
            .unwrap();
        assert!(off.throttling.is_none());
        assert_eq!(off.bind.port(), 8443);
        let bad = Cli::parse_from(["x", "--lro-duration", "soon"])
            .args
            .config();
        assert!(matches!(
            bad,
            Err(EmulatorError::Flag {
                flag: "lro-duration",
                ..
            })
        ));
    }

    #[test]
    fn only_a_loopback_bind_goes_without_a_warning() {
        let warned = |addr: &str| exposure_warning(addr.parse().unwrap());
        assert_eq!(warned("127.0.0.1:8443"), None);
        assert_eq!(warned("[::1]:8443"), None);
        for exposed in ["0.0.0.0:8443", "[::]:8443", "192.168.1.10:8443"] {
            let warning = warned(exposed).unwrap();
            assert!(
                warning.starts_with("WARNING") && warning.contains(exposed),
                "{warning}"
            );
        }
    }

    #[test]
    fn durations_parse_in_friendly_units() {
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }
}
