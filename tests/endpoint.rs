//! ArcPrivateEndpoint reconcile core against the in-process emulator.

#[allow(dead_code)]
#[path = "shared/mod.rs"]
mod shared;
#[path = "endpoint/support.rs"]
mod support;

#[path = "endpoint/arm_behaviours.rs"]
mod arm_behaviours;
#[path = "endpoint/dns.rs"]
mod dns;
#[path = "endpoint/lifecycle.rs"]
mod lifecycle;
#[path = "endpoint/operations.rs"]
mod operations;
#[path = "endpoint/outbound.rs"]
mod outbound;
#[path = "endpoint/validation.rs"]
mod validation;
