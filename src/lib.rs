//! arclink: Azure Arc private connectivity (Private Link Scopes, private endpoints, server
//! associations) managed from Kubernetes custom resources.

pub mod api;
pub mod azure;
pub mod connect;
pub mod controller;
pub mod dnscheck;
pub mod emulator;
mod kinds;
pub mod offline;
pub mod printable;
pub mod reconcile;
pub mod telemetry;
