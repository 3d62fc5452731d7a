//! Reconcile cores: declared object + ARM client -> actions -> status. No kube I/O, so the same
//! code serves the in-cluster controller and the offline `plan`/`apply` commands.
//!
//! [`engine`] holds the one reconcile loop and the one clean-up path, with the policies
//! (suspend, adoption, Report/Correct, dry-run, deletion) applied once; [`resource`] holds the
//! one path every Azure resource a kind manages goes through (read, create or stall, ownership,
//! immutable fields, in-flight wait, diff, Report or Correct, write, operation tracking). Each
//! kind's module (`scope`, `endpoint`, `association`) implements [`engine::Managed`] with only
//! what is special about its Azure resources. [`declared`] decides, once for the controller and
//! for `plan`/`apply`, what the other declared objects mean for one object.

pub mod arm;
pub mod association;
pub mod declared;
pub mod drift;
pub mod endpoint;
pub mod engine;
pub mod fights;
pub mod management_link;
pub mod monitor_scope;
mod operation;
mod outcome;
pub mod own;
pub mod ownership;
pub mod phase;
pub mod requeue;
pub mod resource;
pub mod scope;
pub mod scope_ref;

pub use drift::Drift;
pub use engine::{States, cleanup, reconcile};
pub use outcome::{Change, ChangeAction, Cleanup, Notice, Outcome, Settings};
pub use phase::Phase;
pub use requeue::Requeue;
