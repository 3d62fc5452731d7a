//! ARM resource ids: parsing, canonical type names, and case-insensitive keys.

/// A resource id below a resource group:
/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}[/{t2}/{n2}...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceId {
    pub subscription: String,
    pub resource_group: String,
    pub namespace: String,
    /// (type segment, name) pairs, outermost first.
    pub segments: Vec<(String, String)>,
}

impl ResourceId {
    /// Parses a full id; `None` when it is not a resource below a resource group.
    pub fn parse(id: &str) -> Option<ResourceId> {
        let parts: Vec<&str> = id.split('/').collect();
        // ["", "subscriptions", s, "resourceGroups", rg, "providers", ns, t1, n1, ...]
        if parts.len() < 9 || !(parts.len() - 7).is_multiple_of(2) || !parts[0].is_empty() {
            return None;
        }
        if !parts[1].eq_ignore_ascii_case("subscriptions")
            || !parts[3].eq_ignore_ascii_case("resourcegroups")
            || !parts[5].eq_ignore_ascii_case("providers")
        {
            return None;
        }
        if parts[1..].iter().any(|p| p.is_empty()) {
            return None;
        }
        let segments = parts[7..]
            .chunks(2)
            .map(|c| (c[0].to_string(), c[1].to_string()))
            .collect();
        Some(ResourceId {
            subscription: parts[2].to_string(),
            resource_group: parts[4].to_string(),
            namespace: parts[6].to_string(),
            segments,
        })
    }

    /// `Microsoft.Ns/type1/type2`, lower-cased. An extension resource
    /// (`…/{type}/{name}/providers/{Ns2}/{type2}/{name2}`) has a type of its own namespace.
    pub fn type_key(&self) -> String {
        let mut s = self.namespace.to_ascii_lowercase();
        for (t, n) in &self.segments {
            if t.eq_ignore_ascii_case("providers") {
                s = n.to_ascii_lowercase();
            } else {
                s.push('/');
                s.push_str(&t.to_ascii_lowercase());
            }
        }
        s
    }

    /// The resource an extension resource is attached to; `None` for other resources.
    pub fn extended(&self) -> Option<ResourceId> {
        let at = self
            .segments
            .iter()
            .rposition(|(t, _)| t.eq_ignore_ascii_case("providers"))?;
        let mut base = self.clone();
        base.segments.truncate(at);
        Some(base).filter(|b| !b.segments.is_empty())
    }

    pub fn name(&self) -> &str {
        self.segments.last().map(|(_, n)| n.as_str()).unwrap_or("")
    }

    pub fn parent(&self) -> Option<ResourceId> {
        if self.segments.len() < 2 {
            return None;
        }
        let mut p = self.clone();
        p.segments.pop();
        Some(p)
    }

    pub fn to_id(&self) -> String {
        let mut s = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}",
            self.subscription, self.resource_group, self.namespace
        );
        for (t, n) in &self.segments {
            s.push('/');
            s.push_str(t);
            s.push('/');
            s.push_str(n);
        }
        s
    }

    pub fn is_type(&self, type_key: &str) -> bool {
        self.type_key().eq_ignore_ascii_case(type_key)
    }
}

/// Map key for an id: ARM ids compare case-insensitively.
pub fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

pub fn subscription_id(sub: &str) -> String {
    format!("/subscriptions/{sub}")
}

pub fn resource_group_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// ARM normalises locations: "West Europe" and "westeurope" are the same region.
pub fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_ids_and_rejects_malformed_ones() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/privateDnsZones/z.com/A/rec",
        )
        .unwrap();
        assert_eq!(id.type_key(), "microsoft.network/privatednszones/a");
        assert_eq!(id.name(), "rec");
        assert_eq!(id.resource_group, "RG");
        assert_eq!(
            id.parent().unwrap().to_id(),
            "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/privateDnsZones/z.com"
        );
        assert!(ResourceId::parse("/subscriptions/s/resourceGroups/rg").is_none());
        assert!(ResourceId::parse("/subscriptions/s/resourceGroups/rg/providers/ns/t").is_none());
        assert!(ResourceId::parse("subscriptions/s/resourceGroups/rg/providers/ns/t/n").is_none());
        assert!(ResourceId::parse("/subscriptions//resourceGroups/rg/providers/ns/t/n").is_none());
        assert_eq!(normalize_location("West Europe"), "westeurope");
    }

    #[test]
    fn an_extension_resource_has_its_own_type_and_knows_what_it_extends() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m/providers/Microsoft.Insights/dataCollectionRuleAssociations/a",
        )
        .unwrap();
        assert_eq!(
            id.type_key(),
            "microsoft.insights/datacollectionruleassociations"
        );
        assert_eq!(
            id.extended().unwrap().to_id(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m"
        );
        assert!(
            ResourceId::parse("/subscriptions/s/resourceGroups/rg/providers/ns/t/n")
                .unwrap()
                .extended()
                .is_none()
        );
    }
}
