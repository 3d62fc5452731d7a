//! Typed ARM models for the fields arclink reads and writes.
//!
//! Every model is a [`Resource`] envelope around provider-specific properties. Unknown fields are
//! kept in `extra` maps (so a GET-modify-PUT sends back what arclink does not understand), absent
//! fields are not serialised, and [`Resource::for_write`] returns a copy without the read-only
//! fields (`id`, `name`, `type`, `etag`, `systemData`, provisioning state, ...) to use as PUT body.

use crate::azure::id::ResourceId;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Declares a model of an ARM JSON object: camelCase on the wire, every field an `Option` that
/// is `None` when absent and not serialised when `None`, and the fields arclink does not model
/// kept in `extra`.
macro_rules! model {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
    }) => {
        $(#[$meta])*
        #[derive(::serde::Serialize, ::serde::Deserialize, Clone, Debug, PartialEq, Default)]
        #[serde(rename_all = "camelCase", default)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: $ty,
            )*
            #[serde(flatten)]
            pub extra: $crate::azure::models::Extra,
        }
    };
}

/// [`WriteModel`] for properties whose read-only fields are the ones named: a copy with them
/// `None`.
macro_rules! read_only {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::azure::models::WriteModel for $name {
            fn for_write(&self) -> Self {
                $name {
                    $($field: None,)*
                    ..self.clone()
                }
            }
        }
    };
}

mod authorization;
mod hybridcompute;
mod insights;
mod network;
mod privatedns;

pub use authorization::*;
pub use hybridcompute::*;
pub use insights::*;
pub use network::*;
pub use privatedns::*;

/// Unknown JSON fields, preserved verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Properties that know which of their fields ARM computes.
pub trait WriteModel {
    /// A copy without read-only fields.
    fn for_write(&self) -> Self;
}

/// The ARM resource envelope.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Resource<P> {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub id: Option<ResourceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<P>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named child object of a resource's properties: `{"name", "properties"}` (a zone group's
/// zone configs, a NIC's IP configurations).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Named<P> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<P>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Top-level fields ARM computes that are not modelled explicitly.
const READ_ONLY_ENVELOPE_FIELDS: &[&str] = &["systemData", "resources"];

impl<P: WriteModel> Resource<P> {
    /// The body for a PUT: the same resource without read-only fields.
    pub fn for_write(&self) -> Self
    where
        P: Clone,
    {
        let mut extra = self.extra.clone();
        for f in READ_ONLY_ENVELOPE_FIELDS {
            extra.remove(*f);
        }
        Resource {
            id: None,
            name: None,
            type_: None,
            location: self.location.clone(),
            tags: self.tags.clone(),
            etag: None,
            properties: self.properties.as_ref().map(WriteModel::for_write),
            extra,
        }
    }
}

model! {
    /// A reference to another resource: `{"id": "..."}`.
    pub struct SubResource {
        #[serde(deserialize_with = "lenient_id")]
        pub id: Option<ResourceId>,
    }
}

impl SubResource {
    pub fn new(id: ResourceId) -> SubResource {
        SubResource {
            id: Some(id),
            extra: Extra::new(),
        }
    }
}

model! {
    /// Approval state of a private link connection (both HybridCompute and Network use this
    /// shape).
    pub struct ConnectionState {
        pub status: Option<String>,
        pub description: Option<String>,
        pub actions_required: Option<String>,
    }
}

model! {
    /// The fields arclink reads of a subscription (`Microsoft.Resources/subscriptions`).
    pub struct Subscription {
        pub subscription_id: Option<String>,
        /// The Microsoft Entra tenant the subscription belongs to.
        pub tenant_id: Option<String>,
    }
}

/// An optional resource id where ARM may send `null` or `""` for "none".
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ResourceId>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => ResourceId::parse(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod example_tests;
