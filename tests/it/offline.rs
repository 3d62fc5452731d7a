//! `arclink plan` / `apply` against the embedded emulator: golden plans, exit codes,
//! idempotence, and bad manifests that never reach ARM.

mod golden;

mod bad_input;

mod library;

mod standalone;

mod state_file;

mod failures;

mod declared;
