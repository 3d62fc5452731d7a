use std::{net::SocketAddr, time::Duration};

use crate::telemetry::logging::LogFormat;

/// Observability flags of `arclink run`.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Address of the HTTP server exposing /metrics (OpenMetrics), /healthz and /readyz.
    #[arg(long, env = "ARCLINK_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Log output format: `auto` writes human-readable text on a terminal and JSON otherwise.
    #[arg(long, env = "ARCLINK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Log filter in tracing `EnvFilter` syntax, e.g. `info` or `arclink=debug,kube=warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_level: String,
}

/// Graceful shutdown flags of `arclink run`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShutdownArgs {
    /// How long in-flight reconciles may run after SIGTERM/SIGINT before the process exits
    /// anyway (e.g. `20s`, `1m`, `500ms`).
    #[arg(long, env = "ARCLINK_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
}

/// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h`; a bare number means seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("duration {value:?} must start with a whole number, e.g. 15s"))?;
    let millis = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(format!(
                "duration {value:?} has unknown unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    number
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration {value:?} is too large"))
}
