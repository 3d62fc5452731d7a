//! ARM resource ids: `/subscriptions/{s}[/resourceGroups/{rg}][/providers/{ns}/{type}/{name}(/{type}/{name})*]`,
//! and the extension resources of a management group
//! (`/providers/Microsoft.Management/managementGroups/{g}[/providers/{ns}/{type}/{name}...]`,
//! such as private link associations), which have no subscription.
//!
//! ARM treats ids case-insensitively but preserves the casing a caller used, so a `ResourceId`
//! keeps the original segments for display and compares/hashes on their lowercase form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A parsed ARM resource id (subscription, resource group, or provider resource at any depth).
#[derive(Clone, Debug)]
pub struct ResourceId {
    /// Path segments exactly as given, e.g. `["subscriptions", "s", "resourceGroups", "rg", ...]`.
    segments: Vec<String>,
    has_group: bool,
    /// Below a management group rather than a subscription.
    management_group: bool,
}

/// Why a string is not an ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ARM resource id '{id}': {reason}")]
pub struct IdError {
    pub id: String,
    pub reason: IdErrorReason,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdErrorReason {
    #[error("the id is empty")]
    Empty,
    #[error(
        "the id must start with '/subscriptions/' (or '/providers/Microsoft.Management/managementGroups/')"
    )]
    MissingSubscriptions,
    #[error("segment {position} is empty (double or trailing '/')")]
    EmptySegment { position: usize },
    #[error("'{keyword}' at segment {position} has no value after it")]
    MissingValue {
        keyword: &'static str,
        position: usize,
    },
    #[error("expected 'resourceGroups' or 'providers' at segment {position}, found '{found}'")]
    UnexpectedSegment { position: usize, found: String },
    #[error("resource type '{type_}' at segment {position} has no name after it")]
    TypeWithoutName { type_: String, position: usize },
    #[error("segment {position} contains the character {character:?}, not allowed in an id")]
    InvalidCharacter { position: usize, character: char },
    #[error("segment {position} is '{segment}', a path step, not a name")]
    PathStep { position: usize, segment: String },
}

const SUBSCRIPTIONS: &str = "subscriptions";
const RESOURCE_GROUPS: &str = "resourceGroups";
const PROVIDERS: &str = "providers";
const MANAGEMENT: &str = "Microsoft.Management";
const MANAGEMENT_GROUPS: &str = "managementGroups";

impl ResourceId {
    /// Parses an ARM id; a single trailing '/' is tolerated, anything else malformed is an error.
    pub fn parse(s: &str) -> Result<ResourceId, IdError> {
        let err = |reason| IdError {
            id: s.to_string(),
            reason,
        };
        if s.is_empty() {
            return Err(err(IdErrorReason::Empty));
        }
        let body = s
            .strip_prefix('/')
            .ok_or_else(|| err(IdErrorReason::MissingSubscriptions))?;
        let body = body.strip_suffix('/').unwrap_or(body);
        let segments: Vec<String> = body.split('/').map(str::to_string).collect();
        for (position, seg) in segments.iter().enumerate() {
            if seg.is_empty() {
                return Err(err(IdErrorReason::EmptySegment { position }));
            }
            // A URL built from the id would lose the step (or the segment before it) and name
            // another resource: `nsg/..` is the resource group's collection.
            if seg == "." || seg == ".." {
                return Err(err(IdErrorReason::PathStep {
                    position,
                    segment: seg.clone(),
                }));
            }
            // '?' and '#' would change the URL the id is turned into; control characters are never valid.
            if let Some(character) = seg
                .chars()
                .find(|c| matches!(c, '?' | '#') || c.is_control())
            {
                return Err(err(IdErrorReason::InvalidCharacter {
                    position,
                    character,
                }));
            }
        }
        let management_group = is_management_group(&segments);
        if management_group {
            if segments.len() < 4 {
                return Err(err(IdErrorReason::MissingValue {
                    keyword: MANAGEMENT_GROUPS,
                    position: 2,
                }));
            }
        } else if !segments[0].eq_ignore_ascii_case(SUBSCRIPTIONS) {
            return Err(err(IdErrorReason::MissingSubscriptions));
        } else if segments.len() < 2 {
            return Err(err(IdErrorReason::MissingValue {
                keyword: SUBSCRIPTIONS,
                position: 0,
            }));
        }
        let mut pos = if management_group { 4 } else { 2 };
        let mut has_group = false;
        if !management_group
            && pos < segments.len()
            && segments[pos].eq_ignore_ascii_case(RESOURCE_GROUPS)
        {
            if pos + 1 >= segments.len() {
                return Err(err(IdErrorReason::MissingValue {
                    keyword: RESOURCE_GROUPS,
                    position: pos,
                }));
            }
            has_group = true;
            pos += 2;
        }
        if pos < segments.len() {
            if !segments[pos].eq_ignore_ascii_case(PROVIDERS) {
                return Err(err(IdErrorReason::UnexpectedSegment {
                    position: pos,
                    found: segments[pos].clone(),
                }));
            }
            if pos + 1 >= segments.len() {
                return Err(err(IdErrorReason::MissingValue {
                    keyword: PROVIDERS,
                    position: pos,
                }));
            }
            let mut t = pos + 2;
            if t >= segments.len() {
                return Err(err(IdErrorReason::MissingValue {
                    keyword: PROVIDERS,
                    position: pos + 1,
                }));
            }
            while t < segments.len() {
                if t + 1 >= segments.len() {
                    return Err(err(IdErrorReason::TypeWithoutName {
                        type_: segments[t].clone(),
                        position: t,
                    }));
                }
                t += 2;
            }
        }
        Ok(ResourceId {
            segments,
            has_group,
            management_group,
        })
    }

    /// The id of a subscription.
    pub fn subscription_id(subscription: &str) -> ResourceId {
        ResourceId {
            segments: vec![SUBSCRIPTIONS.to_string(), subscription.to_string()],
            has_group: false,
            management_group: false,
        }
    }

    /// The id of a resource group.
    pub fn resource_group_id(subscription: &str, resource_group: &str) -> ResourceId {
        ResourceId {
            segments: vec![
                SUBSCRIPTIONS.to_string(),
                subscription.to_string(),
                RESOURCE_GROUPS.to_string(),
                resource_group.to_string(),
            ],
            has_group: true,
            management_group: false,
        }
    }

    /// The id of a management group (`/providers/Microsoft.Management/managementGroups/{g}`);
    /// [`ResourceId::child`] gives its extension resources.
    pub fn management_group_id(group: &str) -> ResourceId {
        ResourceId {
            segments: vec![
                PROVIDERS.to_string(),
                MANAGEMENT.to_string(),
                MANAGEMENT_GROUPS.to_string(),
                group.to_string(),
            ],
            has_group: false,
            management_group: true,
        }
    }

    /// A top-level resource in a resource group, e.g. (`Microsoft.Network`, `virtualNetworks`, `v`);
    /// use [`ResourceId::child`] for nested resources.
    pub fn resource(
        subscription: &str,
        resource_group: &str,
        provider: &str,
        type_: &str,
        name: &str,
    ) -> ResourceId {
        let mut id = Self::resource_group_id(subscription, resource_group);
        id.segments.extend([
            PROVIDERS.to_string(),
            provider.to_string(),
            type_.to_string(),
            name.to_string(),
        ]);
        id
    }

    /// The child resource `{self}/{type_}/{name}`. On a subscription or resource group id,
    /// `type_` must be a full type such as `Microsoft.Network/virtualNetworks`.
    pub fn child(&self, type_: &str, name: &str) -> ResourceId {
        let mut id = self.clone();
        if self.provider_index().is_none() {
            id.segments.push(PROVIDERS.to_string());
        }
        id.segments.extend(type_.split('/').map(str::to_string));
        id.segments.push(name.to_string());
        id
    }

    /// The namespace after the last `providers` (an extension resource has its own type).
    fn provider_index(&self) -> Option<usize> {
        let i = if self.has_group || self.management_group {
            4
        } else {
            2
        };
        let mut keys = self.segments.iter().skip(i).step_by(2);
        let last = keys.rposition(|k| k.eq_ignore_ascii_case(PROVIDERS))?;
        Some(i + 2 * last + 1)
    }

    /// The subscription; empty for what lies below a management group (the rate limiter then
    /// counts it in a bucket of its own).
    pub fn subscription(&self) -> &str {
        if self.management_group {
            return "";
        }
        &self.segments[1]
    }

    /// The management group the id is below (or is), if any.
    pub fn management_group(&self) -> Option<&str> {
        self.management_group.then(|| self.segments[3].as_str())
    }

    pub fn resource_group(&self) -> Option<&str> {
        self.has_group.then(|| self.segments[3].as_str())
    }

    /// The provider namespace as written, e.g. `Microsoft.Network`.
    pub fn provider(&self) -> Option<&str> {
        self.provider_index().map(|i| self.segments[i].as_str())
    }

    /// Pairs of (type, name) below the provider namespace.
    fn type_name_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let start = self.provider_index().map_or(self.segments.len(), |i| i + 1);
        self.segments[start..]
            .chunks(2)
            .map(|c| (c[0].as_str(), c[1].as_str()))
    }

    /// The full type, e.g. `Microsoft.Network/virtualNetworks/subnets`; resource groups and
    /// subscriptions report `Microsoft.Resources/resourceGroups` / `Microsoft.Resources/subscriptions`.
    pub fn resource_type(&self) -> String {
        match self.provider() {
            Some(ns) => {
                let mut t = ns.to_string();
                for (type_, _) in self.type_name_pairs() {
                    t.push('/');
                    t.push_str(type_);
                }
                t
            }
            None if self.has_group => "Microsoft.Resources/resourceGroups".to_string(),
            None if self.management_group => format!("{MANAGEMENT}/{MANAGEMENT_GROUPS}"),
            None => "Microsoft.Resources/subscriptions".to_string(),
        }
    }

    /// The last name in the id (resource, resource group or subscription).
    pub fn name(&self) -> &str {
        self.segments.last().map_or("", String::as_str)
    }

    /// The enclosing resource, resource group or subscription; `None` for a subscription.
    pub fn parent(&self) -> Option<ResourceId> {
        let n = self.segments.len();
        let keep = match self.provider_index() {
            Some(i) if n > i + 3 => n - 2,
            Some(i) => i - 1,
            None if self.has_group => 2,
            None => return None,
        };
        Some(ResourceId {
            segments: self.segments[..keep].to_vec(),
            has_group: self.has_group && keep > 2,
            management_group: self.management_group,
        })
    }

    /// The URL path of the id, segments percent-encoded by the caller of `path_segments_mut`.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(String::as_str)
    }
}

/// Whether segments start `providers/Microsoft.Management/managementGroups`.
fn is_management_group(segments: &[String]) -> bool {
    segments.len() >= 3
        && segments[0].eq_ignore_ascii_case(PROVIDERS)
        && segments[1].eq_ignore_ascii_case(MANAGEMENT)
        && segments[2].eq_ignore_ascii_case(MANAGEMENT_GROUPS)
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

impl Eq for ResourceId {}

impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for s in &self.segments {
            s.to_ascii_lowercase().hash(state);
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.segments {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

impl FromStr for ResourceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceId::parse(s)
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ResourceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A collection to list: the children of one type under a parent, e.g. the machines of a resource
/// group or the private endpoint connections of a scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionId {
    parent: ResourceId,
    /// Segments appended to the parent: `["providers", ns, type]` or `[type]`.
    tail: Vec<String>,
    provider: String,
    resource_type: String,
}

impl CollectionId {
    /// Children of `parent` of `type_`. Below a subscription or resource group `type_` is a full
    /// type (`Microsoft.HybridCompute/machines`); below a resource it is a child type
    /// (`privateEndpointConnections`).
    pub fn new(parent: &ResourceId, type_: &str) -> CollectionId {
        let (tail, provider, resource_type) = match parent.provider() {
            Some(ns) => (
                type_.split('/').map(str::to_string).collect(),
                ns.to_string(),
                format!("{}/{}", parent.resource_type(), type_),
            ),
            None => {
                let mut tail = vec![PROVIDERS.to_string()];
                tail.extend(type_.split('/').map(str::to_string));
                let provider = type_.split('/').next().unwrap_or_default().to_string();
                (tail, provider, type_.to_string())
            }
        };
        CollectionId {
            parent: parent.clone(),
            tail,
            provider,
            resource_type,
        }
    }

    pub fn parent(&self) -> &ResourceId {
        &self.parent
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The type of the listed resources, e.g. `Microsoft.HybridCompute/machines`.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.parent
            .segments()
            .chain(self.tail.iter().map(String::as_str))
    }
}

impl fmt::Display for CollectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.parent)?;
        for s in &self.tail {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
