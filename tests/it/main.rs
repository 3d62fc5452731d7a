//! The in-process test suites, one binary: the reconcile cores, the ARM client and the
//! emulator over loopback HTTPS, the controller against a scripted API server, the CLI, and
//! telemetry. Shared test beds and fixtures live in `common`.

mod common;

mod association;
mod azure_client;
mod controller;
mod crds;
mod dnscheck;
mod emulator;
mod endpoint;
mod logs;
mod management_link;
mod monitor_scope;
mod offline;
mod scope;
mod telemetry;
