//! Production-operation tests: logs, metrics and probes server, shutdown, leader election,
//! Argo CD health Lua.

#[path = "telemetry/argocd_health.rs"]
mod argocd_health;
#[path = "telemetry/arm_metrics.rs"]
mod arm_metrics;
#[path = "telemetry/fake_lease_api.rs"]
mod fake_lease_api;
#[path = "telemetry/leader.rs"]
mod leader;
#[path = "telemetry/logging.rs"]
mod logging;
#[path = "telemetry/server.rs"]
mod server;
#[path = "telemetry/shutdown.rs"]
mod shutdown;
