//! How arclink reaches ARM, for the controller and for `plan`/`apply` alike: the Azure flags,
//! one client (token cache and rate-limit buckets) per identity, and the choice between Azure and
//! the embedded emulator.

pub mod args;
pub mod credentials;
pub mod target;

pub use args::{ArmTargetArgs, AzureArgs};
pub use credentials::{ArmConfig, ArmPool};
pub use target::{EMULATOR_NOTE, EmulatorFlags, Target, TargetChoice, start_emulator};
