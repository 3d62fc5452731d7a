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
/// Hex digits of the hash that ends a shortened owner tag.
const HASH_HEX: usize = 16;

impl Owner {
    /// The `arclink-owner` tag value: `<cluster>/<namespace>/<kind>/<name>`, or, when that is
    /// longer than Azure allows a tag value to be, its first characters, `~` and a hash of the
    /// whole (stable, so the same object always recognises its resources).
    pub fn tag_value(&self) -> String {
        let full = self.to_string();
        if full.chars().count() <= MAX_TAG_VALUE {
            return full;
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, full.as_bytes());
        let hash: String = digest
            .as_ref()
            .iter()
            .take(HASH_HEX / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        let head: String = full.chars().take(MAX_TAG_VALUE - HASH_HEX - 1).collect();
        format!("{head}~{hash}")
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
