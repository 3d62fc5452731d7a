//! Logs never show a secret or a token, and name what they are about.
//!
//! These tests capture logs in a process where other suites run at the same time; see
//! [`capture_from_every_thread`] for what that takes.

use std::sync::OnceLock;

use tracing::Dispatch;
use tracing::subscriber::NoSubscriber;

mod client;
mod controller;

/// Serialises the capturing tests.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Call before creating a capturing subscriber. While at most one dispatcher exists,
/// tracing-core gives a callsite that is reached for the first time the interest of the
/// current thread's subscriber alone, and caches it: a test on another thread, with no
/// subscriber, reaching `ARM request` first would switch that callsite off for the capturing
/// test too. Two dispatchers that live as long as the process keep tracing-core from that
/// shortcut, so that each callsite's interest counts every live subscriber, the capturing
/// one included, whichever thread reaches it first.
pub fn capture_from_every_thread() {
    static BYSTANDERS: OnceLock<[Dispatch; 2]> = OnceLock::new();
    BYSTANDERS.get_or_init(|| {
        [
            Dispatch::new(NoSubscriber::default()),
            Dispatch::new(NoSubscriber::default()),
        ]
    });
}
