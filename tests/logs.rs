//! Logs never show a secret or a token, and name what they are about.
//!
//! A binary of its own, whose tests run one at a time: tracing computes per-callsite interest
//! process-wide, so tests on other threads registering callsites without a subscriber can make
//! a capturing test miss events.

#[path = "controller/api_server.rs"]
mod api_server;
#[path = "logs/client.rs"]
mod client;
#[path = "azure_client/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "controller/logs.rs"]
mod controller;
// Shared by tests/controller.rs and tests/logs.rs; each uses part of it.
#[allow(dead_code)]
#[path = "shared/mod.rs"]
mod shared;
#[allow(dead_code)]
#[path = "controller/support.rs"]
mod support;

/// Serialises the capturing tests of this binary.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
