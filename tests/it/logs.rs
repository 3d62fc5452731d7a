//! Logs never show a secret or a token, and name what they are about.
//!
//! A binary of its own, whose tests run one at a time: tracing computes per-callsite interest
//! process-wide, so tests on other threads registering callsites without a subscriber can make
//! a capturing test miss events.

mod client;
mod controller;

/// Serialises the capturing tests of this binary.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
