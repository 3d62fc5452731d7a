//! ArcPrivateEndpoint reconcile core against the in-process emulator.

pub mod support;
pub mod target_support;

mod arm_behaviours;
mod authorization;
mod dns;
mod hub_dns;
mod ip_configurations;
mod lifecycle;
mod monitor_dns;
mod operations;
mod outbound;
mod outbound_group;
mod preconditions;
mod refs;
mod shared_zones;
mod target_crd;
mod targets;
mod validation;
