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

impl Owner {
    /// The tags arclink writes: the user's tags plus `managed-by` and `arclink-owner`.
    pub fn tags(&self, user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut tags = user.clone();
        tags.insert(TAG_MANAGED_BY.to_string(), "arclink".to_string());
        tags.insert(TAG_OWNER.to_string(), self.to_string());
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
            Some(v) if v == self.to_string() => Ownership::Ours,
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
}
