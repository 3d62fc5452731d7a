//! kube-runtime wiring: watches, finalizers, status patches, events, leases. The only place
//! that talks to Kubernetes; the reconcile cores in `crate::reconcile` do the Azure work.

pub mod association;
pub mod config_map;
pub mod context;
pub mod endpoint;
pub mod error;
pub mod kind;
pub mod leader;
pub mod management_link;
pub mod monitor_scope;
pub mod run;
pub mod scope;
pub mod term;

pub use context::{Context, Stores};
pub use error::Error;
pub use run::{RunArgs, run};
