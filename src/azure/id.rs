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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const SCOPE_CONN: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/myResourceGroup/providers/Microsoft.HybridCompute/privateLinkScopes/myScope/privateEndpointConnections/conn1";

    #[test]
    fn management_group_extension_ids_have_no_subscription() {
        let text = "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/privateLinkAssociations/1d6c0f5c-7e0a-4b0e-9c1e-3f0b5c1a2d3e";
        let id = ResourceId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(id.subscription(), "");
        assert_eq!(id.management_group(), Some("root"));
        assert_eq!(id.resource_group(), None);
        assert_eq!(id.provider(), Some("Microsoft.Authorization"));
        assert_eq!(
            id.resource_type(),
            "Microsoft.Authorization/privateLinkAssociations"
        );
        let group = id.parent().unwrap();
        assert_eq!(group, ResourceId::management_group_id("ROOT"));
        assert_eq!(
            group.resource_type(),
            "Microsoft.Management/managementGroups"
        );
        assert_eq!(group.parent(), None);
        assert_eq!(
            group.child("Microsoft.Authorization/privateLinkAssociations", id.name()),
            id
        );
        assert!(ResourceId::parse("/providers/Microsoft.Management/managementGroups").is_err());
        assert!(
            ResourceId::parse("/providers/Microsoft.Management/managementGroups/g/x/y").is_err()
        );
        assert!(ResourceId::parse("/providers/Microsoft.Network/virtualNetworks/v").is_err());
    }

    #[test]
    fn parses_nested_ids() {
        let id = ResourceId::parse(SCOPE_CONN).unwrap();
        assert_eq!(id.subscription(), "00000000-1111-2222-3333-444444444444");
        assert_eq!(id.resource_group(), Some("myResourceGroup"));
        assert_eq!(id.provider(), Some("Microsoft.HybridCompute"));
        assert_eq!(
            id.resource_type(),
            "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections"
        );
        assert_eq!(id.name(), "conn1");
        let scope = id.parent().unwrap();
        assert_eq!(scope.name(), "myScope");
        assert_eq!(
            scope.resource_type(),
            "Microsoft.HybridCompute/privateLinkScopes"
        );
        let rg = scope.parent().unwrap();
        assert_eq!(
            rg.to_string(),
            "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/myResourceGroup"
        );
        assert_eq!(rg.resource_type(), "Microsoft.Resources/resourceGroups");
        let sub = rg.parent().unwrap();
        assert_eq!(sub.resource_group(), None);
        assert_eq!(sub.name(), "00000000-1111-2222-3333-444444444444");
        assert!(sub.parent().is_none());
    }

    #[test]
    fn subnet_and_record_set() {
        let subnet = ResourceId::resource("s", "rg", "Microsoft.Network", "virtualNetworks", "v")
            .child("subnets", "default");
        assert_eq!(
            subnet.to_string(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default"
        );
        assert_eq!(
            subnet.resource_type(),
            "Microsoft.Network/virtualNetworks/subnets"
        );
        let rg = ResourceId::resource_group_id("s", "rg");
        let zone = rg.child(
            "Microsoft.Network/privateDnsZones",
            "privatelink.his.arc.azure.com",
        );
        assert_eq!(zone.provider(), Some("Microsoft.Network"));
        assert_eq!(zone.name(), "privatelink.his.arc.azure.com");
        let a = zone.child("A", "gbl");
        assert_eq!(a.resource_type(), "Microsoft.Network/privateDnsZones/A");
        assert_eq!(a.parent().unwrap(), zone);
    }

    #[test]
    fn compares_case_insensitively_and_keeps_casing() {
        let a = ResourceId::parse(SCOPE_CONN).unwrap();
        let lower = SCOPE_CONN.to_lowercase();
        let b = ResourceId::parse(&lower).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), SCOPE_CONN);
        assert_eq!(b.to_string(), lower);
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
        let other = ResourceId::parse(&SCOPE_CONN.replace("conn1", "conn2")).unwrap();
        assert_ne!(ResourceId::parse(SCOPE_CONN).unwrap(), other);
    }

    #[test]
    fn serde_as_string() {
        let id = ResourceId::parse(SCOPE_CONN).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{SCOPE_CONN}\""));
        let back: ResourceId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ResourceId>("\"/nope\"").is_err());
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases: &[(&str, IdErrorReason)] = &[
            ("", IdErrorReason::Empty),
            ("subscriptions/s", IdErrorReason::MissingSubscriptions),
            ("/tenants/t", IdErrorReason::MissingSubscriptions),
            (
                "/subscriptions",
                IdErrorReason::MissingValue {
                    keyword: SUBSCRIPTIONS,
                    position: 0,
                },
            ),
            (
                "/subscriptions/s//x",
                IdErrorReason::EmptySegment { position: 2 },
            ),
            (
                "/subscriptions/s/resourceGroups",
                IdErrorReason::MissingValue {
                    keyword: RESOURCE_GROUPS,
                    position: 2,
                },
            ),
            (
                "/subscriptions/s/resourceGroups/rg/virtualNetworks/v",
                IdErrorReason::UnexpectedSegment {
                    position: 4,
                    found: "virtualNetworks".into(),
                },
            ),
            (
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network",
                IdErrorReason::MissingValue {
                    keyword: PROVIDERS,
                    position: 5,
                },
            ),
            (
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks",
                IdErrorReason::TypeWithoutName {
                    type_: "virtualNetworks".into(),
                    position: 6,
                },
            ),
            (
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/..",
                IdErrorReason::PathStep {
                    position: 7,
                    segment: "..".into(),
                },
            ),
            (
                "/subscriptions/s/resourceGroups/./providers/Microsoft.Network/networkSecurityGroups/n",
                IdErrorReason::PathStep {
                    position: 3,
                    segment: ".".into(),
                },
            ),
            (
                "/subscriptions/s/resourceGroups/rg?x=1",
                IdErrorReason::InvalidCharacter {
                    position: 3,
                    character: '?',
                },
            ),
        ];
        for (input, reason) in cases {
            let err = ResourceId::parse(input).unwrap_err();
            assert_eq!(&err.reason, reason, "input {input:?}");
            assert!(err.to_string().contains(input), "{err}");
        }
    }

    #[test]
    fn collection_paths() {
        let rg = ResourceId::resource_group_id("s", "rg");
        let machines = CollectionId::new(&rg, "Microsoft.HybridCompute/machines");
        assert_eq!(
            machines.to_string(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines"
        );
        assert_eq!(machines.provider(), "Microsoft.HybridCompute");
        let scope = rg.child("Microsoft.HybridCompute/privateLinkScopes", "sc");
        let conns = CollectionId::new(&scope, "privateEndpointConnections");
        assert_eq!(
            conns.to_string(),
            format!("{scope}/privateEndpointConnections")
        );
        assert_eq!(
            conns.resource_type(),
            "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections"
        );
    }

    fn segment() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9._() -]{0,12}"
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = ResourceId::parse(&s);
        }

        #[test]
        fn slashy_input_never_panics(parts in proptest::collection::vec("(subscriptions|resourceGroups|providers|x|)", 0..10)) {
            let _ = ResourceId::parse(&format!("/{}", parts.join("/")));
        }

        /// No id that parses has a path step for a segment: the URL of an id names that id.
        #[test]
        fn parsed_ids_have_no_path_steps(
            parts in proptest::collection::vec(
                "(subscriptions|resourceGroups|providers|Microsoft\\.Network|networkSecurityGroups|\\.|\\.\\.|x|\\.x)",
                0..12,
            ),
        ) {
            if let Ok(id) = ResourceId::parse(&format!("/{}", parts.join("/"))) {
                prop_assert!(id.segments().all(|s| s != "." && s != ".."), "{}", id);
            }
        }

        /// Whatever parses survives every accessor, prints back to an equal id and has a parent
        /// chain that ends.
        #[test]
        fn parsed_ids_survive_every_accessor(
            parts in proptest::collection::vec(
                "(subscriptions|SUBSCRIPTIONS|resourceGroups|providers|Microsoft\\.Network|privateDnsZones|A|x|\\PC{0,6})",
                0..14,
            ),
            trailing in any::<bool>(),
        ) {
            let text = format!("/{}{}", parts.join("/"), if trailing { "/" } else { "" });
            let Ok(id) = ResourceId::parse(&text) else {
                return Ok(());
            };
            let _ = (id.subscription(), id.resource_group(), id.provider(), id.name());
            let _ = id.resource_type();
            let collection = CollectionId::new(&id, "children/grandChildren");
            let _ = (collection.to_string(), collection.resource_type());
            prop_assert_eq!(&ResourceId::parse(&id.to_string()).unwrap(), &id);
            let mut depth = 0;
            let mut cur = id.parent();
            while let Some(p) = cur {
                depth += 1;
                prop_assert!(depth <= parts.len(), "parent chain of {} does not end", text);
                cur = p.parent();
            }
        }

        #[test]
        fn round_trips(sub in segment(), rg in segment(), ns in "[A-Za-z]{1,8}\\.[A-Za-z]{1,8}",
                       pairs in proptest::collection::vec((segment(), segment()), 1..4)) {
            let mut id = ResourceId::resource(&sub, &rg, &ns, &pairs[0].0, &pairs[0].1);
            for (t, n) in &pairs[1..] {
                id = id.child(t, n);
            }
            let text = id.to_string();
            let parsed = ResourceId::parse(&text).unwrap();
            prop_assert_eq!(&parsed, &id);
            prop_assert_eq!(parsed.to_string(), text.clone());
            let upper = ResourceId::parse(&text.to_uppercase()).unwrap();
            prop_assert_eq!(&upper, &id);
            prop_assert_eq!(parsed.name(), pairs.last().unwrap().1.as_str());
            prop_assert_eq!(parsed.subscription(), sub.as_str());
            prop_assert_eq!(parsed.resource_group(), Some(rg.as_str()));
            let mut depth = 0;
            let mut cur = Some(parsed);
            while let Some(c) = cur { depth += 1; cur = c.parent(); }
            prop_assert_eq!(depth, pairs.len() + 2);
        }
    }
}
