//! Typed ARM models for the fields arclink reads and writes.
//!
//! Every model is a [`Resource`] envelope around provider-specific properties. Unknown fields are
//! kept in `extra` maps (so a GET-modify-PUT sends back what arclink does not understand), absent
//! fields are not serialised, and [`Resource::for_write`] returns a copy without the read-only
//! fields (`id`, `name`, `type`, `etag`, `systemData`, provisioning state, ...) to use as PUT body.

mod hybridcompute;
mod network;
mod privatedns;

pub use hybridcompute::*;
pub use network::*;
pub use privatedns::*;

use crate::azure::id::ResourceId;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Unknown JSON fields, preserved verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Properties that know which of their fields ARM computes.
pub trait WriteModel {
    /// A copy without read-only fields.
    fn for_write(&self) -> Self;
}

/// The ARM resource envelope.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Resource<P> {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub id: Option<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// A reference to another resource: `{"id": "..."}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SubResource {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub id: Option<ResourceId>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl SubResource {
    pub fn new(id: ResourceId) -> SubResource {
        SubResource {
            id: Some(id),
            extra: Extra::new(),
        }
    }
}

/// Approval state of a private link connection (both HybridCompute and Network use this shape).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_required: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The fields arclink reads of a subscription (`Microsoft.Resources/subscriptions`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// The Microsoft Entra tenant the subscription belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
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
