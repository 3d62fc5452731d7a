//! Reconcile cores: declared object + ARM client -> actions -> status. No kube I/O, so the same
//! code serves the in-cluster controller and the offline `plan`/`apply` commands.

pub mod diff;
pub mod ownership;
pub mod phase;
pub mod requeue;
