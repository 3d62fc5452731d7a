//! `arclink plan` / `apply` against the embedded emulator: golden plans, exit codes,
//! idempotence, and bad manifests that never reach ARM.

#[path = "offline/support.rs"]
mod support;

#[path = "offline/golden.rs"]
mod golden;

#[path = "offline/bad_input.rs"]
mod bad_input;

#[path = "offline/library.rs"]
mod library;

#[path = "offline/standalone.rs"]
mod standalone;

#[path = "offline/state_file.rs"]
mod state_file;

#[path = "offline/failures.rs"]
mod failures;

#[path = "offline/declared.rs"]
mod declared;
