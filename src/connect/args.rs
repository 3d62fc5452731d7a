//! Flags shared by `arclink run`, `plan`, `apply` and `dns-check`: where Azure is and how to talk
//! to it.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::target::{self, EmulatorFlags, Target, TargetChoice, TargetError};
use crate::api::{MAX_DRIFT_CHECK_INTERVAL, duration_up_to};
use crate::azure::{ApiVersions, BucketLimits, Cloud, RateLimits};
use crate::reconcile::Settings;

/// Which ARM the commands without a cluster talk to (`plan`, `apply`, `dns-check -f`), and where
/// their diagnostics go.
#[derive(Debug, Clone, clap::Args)]
pub struct ArmTargetArgs {
    /// Where ARM is: `auto` uses Azure when --arm-endpoint or credentials are configured and
    /// the embedded emulator otherwise.
    #[arg(long, env = "ARCLINK_TARGET", value_enum, default_value_t = TargetChoice::Auto)]
    pub target: TargetChoice,
    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub emulator: EmulatorFlags,
    /// Log filter for diagnostics on stderr (tracing `EnvFilter` syntax).
    #[arg(long, env = "RUST_LOG", default_value = "warn")]
    pub log_level: String,
}

impl ArmTargetArgs {
    /// Azure, or the embedded emulator, as `--target` says.
    pub async fn connect(&self) -> Result<Target, TargetError> {
        target::connect(self.target, &self.azure, &self.emulator).await
    }
}

/// How arclink reaches Azure Resource Manager.
#[derive(Debug, Clone, clap::Args)]
pub struct AzureArgs {
    /// Azure cloud: AzurePublicCloud, AzureUSGovernment or AzureChinaCloud.
    #[arg(long, env = "ARCLINK_CLOUD", default_value = "AzurePublicCloud")]
    pub cloud: String,
    /// ARM endpoint overriding the cloud's (a proxy, Azure Stack, or the arclink emulator).
    #[arg(long, env = "ARCLINK_ARM_ENDPOINT")]
    pub arm_endpoint: Option<Url>,
    /// Entra ID authority host overriding the cloud's (the emulator serves one at its endpoint).
    #[arg(long, env = "ARCLINK_AUTHORITY_HOST")]
    pub authority_host: Option<Url>,
    /// PEM file of extra CA certificates to trust for ARM and Entra ID (TLS verification is
    /// never disabled).
    #[arg(long, env = "ARCLINK_ARM_CA_FILE")]
    pub arm_ca_file: Option<PathBuf>,
    /// Subscription (GUID) used by objects that do not set spec.azure.subscriptionId.
    #[arg(long, env = "ARCLINK_DEFAULT_SUBSCRIPTION", value_parser = subscription_id)]
    pub default_subscription: Option<String>,
    /// Name of this cluster, written into the arclink-owner tag of every Azure resource
    /// arclink creates; must be unique among clusters sharing a subscription.
    #[arg(long, env = "ARCLINK_CLUSTER_NAME", default_value = "default")]
    pub cluster_name: String,
    /// How often Azure is re-read when nothing changed, unless an object sets
    /// spec.policy.driftCheckInterval (Go duration up to 24h, e.g. 10m).
    #[arg(long, env = "ARCLINK_DRIFT_CHECK_INTERVAL", default_value = "10m", value_parser = nonzero_duration)]
    pub drift_check_interval: Duration,
    /// ARM read bucket per subscription: burst size.
    #[arg(long, env = "ARCLINK_ARM_READ_BURST", default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..))]
    pub arm_read_burst: u32,
    /// ARM read bucket per subscription: refill per second.
    #[arg(long, env = "ARCLINK_ARM_READS_PER_SECOND", default_value_t = 25.0, value_parser = positive_rate)]
    pub arm_reads_per_second: f64,
    /// ARM write bucket per subscription: burst size.
    #[arg(long, env = "ARCLINK_ARM_WRITE_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub arm_write_burst: u32,
    /// ARM write bucket per subscription: refill per second.
    #[arg(long, env = "ARCLINK_ARM_WRITES_PER_SECOND", default_value_t = 10.0, value_parser = positive_rate)]
    pub arm_writes_per_second: f64,
    /// ARM delete bucket per subscription: burst size.
    #[arg(long, env = "ARCLINK_ARM_DELETE_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub arm_delete_burst: u32,
    /// ARM delete bucket per subscription: refill per second.
    #[arg(long, env = "ARCLINK_ARM_DELETES_PER_SECOND", default_value_t = 10.0, value_parser = positive_rate)]
    pub arm_deletes_per_second: f64,
    /// Pins the api-version of Microsoft.HybridCompute. Unset: the newest that Azure serves in
    /// each subscription among those arclink supports (2026-09-01 first).
    #[arg(long, env = "ARCLINK_HYBRIDCOMPUTE_API_VERSION", value_parser = api_version)]
    pub hybridcompute_api_version: Option<String>,
    /// Pins the api-version of Microsoft.Network (except private DNS). Unset: negotiated
    /// (2025-07-01 first).
    #[arg(long, env = "ARCLINK_NETWORK_API_VERSION", value_parser = api_version)]
    pub network_api_version: Option<String>,
    /// Pins the api-version of Microsoft.Network/privateDnsZones. Unset: negotiated (2024-06-01
    /// first).
    #[arg(long, env = "ARCLINK_PRIVATEDNS_API_VERSION", value_parser = api_version)]
    pub privatedns_api_version: Option<String>,
}

/// A drift check interval: zero would requeue every object immediately, forever; more than
/// the CRD allows an object would leave drift unnoticed for longer than any object may ask.
fn nonzero_duration(s: &str) -> Result<Duration, String> {
    match duration_up_to(MAX_DRIFT_CHECK_INTERVAL)(s)? {
        d if d.is_zero() => Err(format!("{s:?} must be greater than zero")),
        d => Ok(d),
    }
}

/// A subscription id is a GUID: it goes into ARM ids and into the onboarding scripts people
/// run, where anything else has no business. Empty is no default (deploy/ sets it so).
fn subscription_id(s: &str) -> Result<String, String> {
    if s.is_empty() || crate::azure::names::is_guid(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} (--default-subscription, ARCLINK_DEFAULT_SUBSCRIPTION) is not a subscription id: a GUID such as 11111111-2222-3333-4444-555555555555"
        ))
    }
}

/// An api-version: a date, with a suffix such as `-preview` (it goes into every request's
/// query). Empty is none (deploy/ may set the variable so).
fn api_version(s: &str) -> Result<String, String> {
    let date = s.get(..10).unwrap_or_default();
    let suffix = s.get(10..).unwrap_or_default();
    let is_date = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let is_suffix = suffix.is_empty()
        || (suffix.starts_with('-')
            && (2..=20).contains(&suffix.len())
            && suffix[1..].chars().all(|c| c.is_ascii_alphanumeric()));
    if s.is_empty() || (is_date && is_suffix) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not an api-version (a date such as 2025-07-01, optionally with a suffix such as -preview)"
        ))
    }
}

/// A bucket refill rate: a rate that is zero, negative or not a number would stall or disable
/// the bucket instead of limiting it.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(_) => Err(format!(
            "{s:?} must be a positive number of requests per second"
        )),
        Err(e) => Err(format!("{s:?} is not a number: {e}")),
    }
}

impl AzureArgs {
    /// The settings every reconcile gets; `emulator` when ARM is the emulator (every condition
    /// then says so), `dry_run` for `plan`.
    pub fn settings(&self, emulator: bool, dry_run: bool) -> Settings {
        Settings {
            cluster_name: self.cluster_name.clone(),
            default_subscription: self.default_subscription().map(str::to_string),
            drift_check_interval: self.drift_check_interval,
            note: emulator.then(|| super::EMULATOR_NOTE.to_string()),
            dry_run,
            // An unknown --cloud is refused where the client is built; the emulator stands in
            // for the public cloud.
            agent_cloud: Cloud::by_name(&self.cloud)
                .unwrap_or_else(Cloud::AzurePublicCloud)
                .agent_name()
                .to_string(),
        }
    }

    /// `--default-subscription`, unless empty.
    pub fn default_subscription(&self) -> Option<&str> {
        self.default_subscription
            .as_deref()
            .filter(|s| !s.is_empty())
    }

    /// The cloud, with `--arm-endpoint` / `--authority-host` applied.
    pub fn cloud(&self) -> Result<Cloud, String> {
        let mut cloud = Cloud::by_name(&self.cloud).ok_or_else(|| {
            format!(
                "--cloud {:?} is not known (AzurePublicCloud, AzureUSGovernment, AzureChinaCloud)",
                self.cloud
            )
        })?;
        if let Some(endpoint) = &self.arm_endpoint {
            cloud.arm_endpoint = endpoint.clone();
        }
        if let Some(authority) = &self.authority_host {
            cloud.authority_host = authority.clone();
        }
        Ok(cloud)
    }

    /// Contents of `--arm-ca-file`.
    pub fn ca_pem(&self) -> Result<Option<String>, String> {
        self.arm_ca_file
            .as_ref()
            .map(|p| {
                std::fs::read_to_string(p)
                    .map_err(|e| format!("--arm-ca-file {}: {e}", p.display()))
            })
            .transpose()
    }

    pub fn rate_limits(&self) -> RateLimits {
        RateLimits {
            reads: BucketLimits {
                burst: self.arm_read_burst,
                per_second: self.arm_reads_per_second,
            },
            writes: BucketLimits {
                burst: self.arm_write_burst,
                per_second: self.arm_writes_per_second,
            },
            deletes: BucketLimits {
                burst: self.arm_delete_burst,
                per_second: self.arm_deletes_per_second,
            },
        }
    }

    pub fn api_versions(&self) -> ApiVersions {
        let pinned = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        ApiVersions {
            hybrid_compute: pinned(&self.hybridcompute_api_version),
            network: pinned(&self.network_api_version),
            private_dns: pinned(&self.privatedns_api_version),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        azure: AzureArgs,
    }

    fn parse(args: &[&str]) -> Result<AzureArgs, String> {
        Cli::try_parse_from(std::iter::once("arclink").chain(args.iter().copied()))
            .map(|c| c.azure)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn rate_and_interval_flags_reject_values_that_would_stall_or_spin() {
        let ok = parse(&[
            "--arm-writes-per-second",
            "0.5",
            "--drift-check-interval",
            "30s",
        ])
        .unwrap();
        assert_eq!(ok.arm_writes_per_second, 0.5);
        assert_eq!(ok.drift_check_interval, Duration::from_secs(30));
        for (flag, value) in [
            ("--arm-reads-per-second", "0"),
            ("--arm-writes-per-second", "-1"),
            ("--arm-deletes-per-second", "NaN"),
            ("--arm-reads-per-second", "inf"),
            ("--arm-read-burst", "0"),
            ("--drift-check-interval", "0s"),
            ("--drift-check-interval", "25h"),
            ("--drift-check-interval", "99999999999999999999h"),
        ] {
            let err = parse(&[&format!("{flag}={value}")]).unwrap_err();
            assert!(err.contains(flag), "{flag} {value}: {err}");
        }
    }

    /// Issue 20, item 9: unset flags leave the api-versions to the negotiation; a flag pins
    /// its provider's.
    #[test]
    fn api_version_flags_pin_or_leave_to_negotiation() {
        let unset = parse(&[]).unwrap();
        assert_eq!(unset.api_versions(), ApiVersions::default());
        let pinned = parse(&[
            "--hybridcompute-api-version",
            "2025-01-13",
            "--privatedns-api-version",
            "2024-06-01",
            "--network-api-version",
            "",
        ])
        .unwrap()
        .api_versions();
        assert_eq!(pinned.hybrid_compute.as_deref(), Some("2025-01-13"));
        assert_eq!(pinned.private_dns.as_deref(), Some("2024-06-01"));
        assert_eq!(pinned.network, None);
        assert!(
            parse(&["--network-api-version", "2025-02-01-preview"])
                .unwrap()
                .network_api_version
                .is_some()
        );
        for bad in ["latest", "2025-7-01", "2025-07-01&x=y", "2025-07-01-"] {
            let err = parse(&["--network-api-version", bad]).unwrap_err();
            assert!(err.contains("is not an api-version"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_default_subscription_is_a_guid() {
        let sub = "11111111-2222-3333-4444-555555555555";
        let ok = parse(&["--default-subscription", sub]).unwrap();
        assert_eq!(ok.default_subscription(), Some(sub));
        let none = parse(&["--default-subscription", ""]).unwrap();
        assert_eq!(none.default_subscription(), None);
        assert_eq!(none.settings(false, false).default_subscription, None);
        for bad in [
            "11111111-2222-3333-4444-555555555555\ntouch MARK\n#",
            "my-subscription",
            "11111111-2222-3333-4444-555555555555 ",
        ] {
            let err = parse(&["--default-subscription", bad]).unwrap_err();
            assert!(
                err.contains("--default-subscription") && err.contains("is not a subscription id"),
                "{bad:?}: {err}"
            );
        }
    }
}
