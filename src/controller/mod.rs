//! kube-runtime wiring: watches, finalizers, status patches, events, leases.

pub mod leader;
