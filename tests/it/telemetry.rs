//! Production-operation tests: logs, metrics and probes server, shutdown, leader election,
//! Argo CD health Lua.

mod argocd_health;
mod arm_metrics;
mod fake_lease_api;
mod leader;
mod logging;
mod server;
mod shutdown;
