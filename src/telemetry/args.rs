use std::{net::SocketAddr, time::Duration};

use crate::api::duration_up_to;
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
    /// anyway (e.g. `20s`, `1m`, `500ms`; at most 1h).
    #[arg(long, env = "ARCLINK_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = duration_up_to(Duration::from_secs(3600)))]
    pub shutdown_timeout: Duration,
}
