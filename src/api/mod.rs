//! CRD types, validation rules and condition helpers (no I/O).
//!
//! Field names follow `DESIGN.md` section 1 and are a contract: extend, never rename.

pub mod association;
pub mod common;
pub mod conditions;
pub mod crds;
pub mod endpoint;
pub mod ip_configuration;
pub mod managed;
pub mod management_link;
pub mod monitor_scope;
pub mod scope;
pub mod validate;

pub use association::{ArcServerAssociation, ArcServerAssociationSpec, ArcServerAssociationStatus};
pub use common::*;
pub use endpoint::{ArcPrivateEndpoint, ArcPrivateEndpointSpec, ArcPrivateEndpointStatus};
pub use managed::{
    ArmFields, ArmStatus, CommonSpec, CommonStatus, Correction, ManagedStatus, NoArmStatus,
};
pub use management_link::{
    ArcResourceManagementPrivateLink, ArcResourceManagementPrivateLinkSpec,
    ArcResourceManagementPrivateLinkStatus,
};
pub use monitor_scope::{
    ArcMonitorPrivateLinkScope, ArcMonitorPrivateLinkScopeSpec, ArcMonitorPrivateLinkScopeStatus,
};
pub use scope::{ArcPrivateLinkScope, ArcPrivateLinkScopeSpec, ArcPrivateLinkScopeStatus};

/// API group of every arclink kind.
pub const GROUP: &str = "arclink.io";
/// Finalizer that guards Azure clean-up.
pub const FINALIZER: &str = "arclink.io/cleanup";

macro_rules! kind_names {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// The arclink kinds, in dependency order (a scope before what refers to it).
        pub const KINDS: [&str; [$(stringify!($kind)),*].len()] = [$(stringify!($kind)),*];
    };
}
crate::kinds::kinds!(kind_names);
