use std::{net::SocketAddr, time::Duration};

/// Failures of the operational plumbing: logging, the probe/metrics server, shutdown.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log level filter {value:?} (--log-level / RUST_LOG): {message}")]
    LogFilter { value: String, message: String },
    #[error("a global tracing subscriber is already installed")]
    LoggingAlreadyInitialised,
    #[error("cannot bind the metrics/health server to {addr} (--metrics-addr): {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{what} did not finish within the shutdown timeout of {timeout:?} (--shutdown-timeout)"
    )]
    ShutdownTimeout { what: String, timeout: Duration },
}
