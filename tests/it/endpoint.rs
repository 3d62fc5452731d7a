//! ArcPrivateEndpoint reconcile core against the in-process emulator.

pub mod support;

mod arm_behaviours;
mod authorization;
mod dns;
mod hub_dns;
mod ip_configurations;
mod lifecycle;
mod operations;
mod outbound;
mod outbound_group;
mod preconditions;
mod validation;
