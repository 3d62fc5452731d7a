//! Owner tags (DESIGN.md section 3): who may write an Azure resource.

use std::collections::BTreeMap;
use std::fmt;

use crate::api::{TAG_MANAGED_BY, TAG_OWNER};

/// The arclink object that owns an Azure resource: `<cluster>/<namespace>/<kind>/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub cluster: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.cluster, self.namespace, self.kind, self.name
        )
    }
}

/// Who owns an Azure resource, from its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// The owner tag names this object.
    Ours,
    /// No owner tag: pre-existing or created by hand.
    Unowned,
    /// Another arclink object (possibly in another cluster) owns it.
    Elsewhere(String),
}

/// Azure's limit on a tag value.
pub const MAX_TAG_VALUE: usize = 256;
/// Azure's limit on a security rule's description (the Network spec: "Restricted to 140
/// chars").
pub const MAX_RULE_DESCRIPTION: usize = 140;
/// How arclink's ownership marker starts in a description.
pub const DESCRIPTION_MARKER: &str = "managed by arclink: ";
/// Hex digits of the hash that ends a shortened owner tag.
const HASH_HEX: usize = 16;

impl Owner {
    /// The `arclink-owner` tag value: `<cluster>/<namespace>/<kind>/<name>`, or, when that is
    /// longer than Azure allows a tag value to be, its first characters, `~` and a hash of the
    /// whole (stable, so the same object always recognises its resources).
    pub fn tag_value(&self) -> String {
        self.within(MAX_TAG_VALUE)
    }

    /// The owner in at most `max` characters: itself, or its first characters, `~` and a
    /// hash of the whole.
    fn within(&self, max: usize) -> String {
        let full = self.to_string();
        if full.chars().count() <= max {
            return full;
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, full.as_bytes());
        let hash: String = digest
            .as_ref()
            .iter()
            .take(HASH_HEX / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        let head: String = full.chars().take(max - HASH_HEX - 1).collect();
        format!("{head}~{hash}")
    }

    /// The ownership marker for resources without tags (network security rules):
    /// `managed by arclink: <owner>` as the rule's description, within Azure's 140 characters
    /// (the owner shortened the way the owner tag is when it does not fit).
    pub fn description_marker(&self) -> String {
        format!(
            "{DESCRIPTION_MARKER}{}",
            self.within(MAX_RULE_DESCRIPTION - DESCRIPTION_MARKER.len())
        )
    }

    /// Classifies a resource by its description (see [`Owner::description_marker`]).
    pub fn classify_description(&self, description: Option<&str>) -> Ownership {
        match marker_owner(description) {
            None => Ownership::Unowned,
            Some(v) if v == self.within(MAX_RULE_DESCRIPTION - DESCRIPTION_MARKER.len()) => {
                Ownership::Ours
            }
            Some(v) => Ownership::Elsewhere(v.to_string()),
        }
    }

    /// The tags arclink writes: the user's tags plus `managed-by` and `arclink-owner`.
    pub fn tags(&self, user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut tags = user.clone();
        tags.insert(TAG_MANAGED_BY.to_string(), "arclink".to_string());
        tags.insert(TAG_OWNER.to_string(), self.tag_value());
        tags
    }

    /// Classifies a resource by its tags (ARM tag keys are case-insensitive).
    pub fn classify(&self, tags: Option<&BTreeMap<String, String>>) -> Ownership {
        let owner = tags.and_then(|t| {
            t.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(TAG_OWNER))
                .map(|(_, v)| v.as_str())
        });
        match owner {
            None => Ownership::Unowned,
            Some(v) if v == self.tag_value() => Ownership::Ours,
            Some(v) => Ownership::Elsewhere(v.to_string()),
        }
    }
}

/// The owner named by an ownership marker in `description` (compared without case).
fn marker_owner(description: Option<&str>) -> Option<&str> {
    let d = description?.trim();
    let head = d.get(..DESCRIPTION_MARKER.len())?;
    head.eq_ignore_ascii_case(DESCRIPTION_MARKER)
        .then(|| d[DESCRIPTION_MARKER.len()..].trim())
        .filter(|v| !v.is_empty())
}

/// `tags` without arclink's own tags, so an orphaned resource can be adopted elsewhere.
pub fn without_owner_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case(TAG_OWNER) && !k.eq_ignore_ascii_case(TAG_MANAGED_BY)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            cluster: "prod".into(),
            namespace: "arc".into(),
            kind: "ArcPrivateLinkScope".into(),
            name: "scope".into(),
        }
    }

    #[test]
    fn classifies_by_owner_tag_case_insensitively() {
        let o = owner();
        let ours = o.tags(&BTreeMap::from([("team".to_string(), "x".to_string())]));
        assert_eq!(o.classify(Some(&ours)), Ownership::Ours);
        assert_eq!(ours["arclink-owner"], "prod/arc/ArcPrivateLinkScope/scope");
        assert_eq!(o.classify(None), Ownership::Unowned);
        let upper = BTreeMap::from([("ARCLINK-OWNER".to_string(), o.to_string())]);
        assert_eq!(o.classify(Some(&upper)), Ownership::Ours);
        let other = BTreeMap::from([(
            "arclink-owner".to_string(),
            "dev/arc/ArcPrivateLinkScope/scope".to_string(),
        )]);
        assert_eq!(
            o.classify(Some(&other)),
            Ownership::Elsewhere("dev/arc/ArcPrivateLinkScope/scope".into())
        );
        assert_eq!(
            without_owner_tags(&ours),
            BTreeMap::from([("team".to_string(), "x".to_string())])
        );
    }

    /// Security rules have no tags: the owner goes into the description, within 140
    /// characters, and the same object recognises it.
    #[test]
    fn description_markers_name_the_owner_within_140_characters() {
        let o = owner();
        assert_eq!(
            o.description_marker(),
            "managed by arclink: prod/arc/ArcPrivateLinkScope/scope"
        );
        assert_eq!(
            o.classify_description(Some(&o.description_marker())),
            Ownership::Ours
        );
        assert_eq!(
            o.classify_description(Some(
                "MANAGED BY ARCLINK: prod/arc/ArcPrivateLinkScope/scope "
            )),
            Ownership::Ours
        );
        assert_eq!(o.classify_description(None), Ownership::Unowned);
        assert_eq!(
            o.classify_description(Some("Allow Entra ID (by hand)")),
            Ownership::Unowned
        );
        assert_eq!(
            o.classify_description(Some("managed by arclink: ")),
            Ownership::Unowned
        );
        assert_eq!(
            o.classify_description(Some("managed by arclink: dev/arc/ArcPrivateEndpoint/pe")),
            Ownership::Elsewhere("dev/arc/ArcPrivateEndpoint/pe".into())
        );
        let long = Owner {
            cluster: "c".repeat(63),
            namespace: "n".repeat(63),
            kind: "ArcPrivateEndpoint".into(),
            name: "x".repeat(253),
        };
        let marker = long.description_marker();
        assert_eq!(marker.chars().count(), MAX_RULE_DESCRIPTION);
        assert_eq!(long.classify_description(Some(&marker)), Ownership::Ours);
        let mut other = long.clone();
        other.name = format!("{}y", "x".repeat(252));
        assert!(matches!(
            other.classify_description(Some(&marker)),
            Ownership::Elsewhere(_)
        ));
    }

    /// Behaviour 13: a tag value is at most 256 characters, whatever the object's names.
    #[test]
    fn long_owner_tags_are_shortened_stably() {
        let long = Owner {
            cluster: "c".repeat(63),
            namespace: "n".repeat(63),
            kind: "ArcPrivateEndpoint".into(),
            name: "x".repeat(253),
        };
        let value = long.tag_value();
        assert_eq!(value.chars().count(), MAX_TAG_VALUE);
        assert_eq!(value, long.tag_value(), "stable");
        let mut other = long.clone();
        other.name = format!("{}y", "x".repeat(252));
        assert_ne!(other.tag_value(), value, "the hash tells objects apart");
        assert_eq!(
            long.classify(Some(&long.tags(&BTreeMap::new()))),
            Ownership::Ours
        );
        assert!(matches!(
            other.classify(Some(&long.tags(&BTreeMap::new()))),
            Ownership::Elsewhere(_)
        ));
        assert_eq!(
            owner().tag_value(),
            owner().to_string(),
            "short values unchanged"
        );
    }
}
