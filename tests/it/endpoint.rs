//! ArcPrivateEndpoint reconcile core against the in-process emulator.

mod support;

mod arm_behaviours;
mod authorization;
mod dns;
mod lifecycle;
mod operations;
mod outbound;
mod validation;
