//! Tracing, metrics registry, the /metrics /healthz /readyz server and graceful shutdown.

pub mod args;
mod arm;
pub mod error;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod redact;
pub mod server;
pub mod shutdown;

pub use args::{ShutdownArgs, TelemetryArgs};
pub use error::TelemetryError;
pub use health::{Health, LeaderState};
pub use metrics::Metrics;
