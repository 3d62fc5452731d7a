//! Azure's rules for the values arclink hands on outside an ARM request path (the onboarding
//! commands run by people): subscription and tenant ids, resource group and resource names,
//! regions (learn.microsoft.com "Naming rules and restrictions for Azure resources").

/// A GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits: subscription and tenant ids.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A resource group name: 1-90 letters (of any script), digits, `-`, `.`, `_`, `(` and `)`,
/// not ending with a period.
pub fn is_resource_group(name: &str) -> bool {
    let allowed = |c: char| c.is_alphanumeric() || "-._()".contains(c);
    (1..=90).contains(&name.chars().count()) && name.chars().all(allowed) && !name.ends_with('.')
}

/// A resource name as the CRDs accept it: 1-64 ASCII letters, digits, `_`, `.` and `-`, and not
/// a path step (`.`, `..`).
pub fn is_resource_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    (1..=64).contains(&name.len()) && name.chars().all(allowed) && name != "." && name != ".."
}

/// A name by Network's rule (private endpoints, virtual networks, subnets, network security
/// groups and their security rules, zone groups, DNS zone links): `min` to `max` ASCII letters,
/// digits, `_`, `.` and `-`, starting with a letter or digit and ending with a letter, digit or
/// `_` (a security rule: 1-80).
pub fn is_network_name(name: &str, min: usize, max: usize) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last_ok = name
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    (min..=max).contains(&name.len()) && name.chars().all(allowed) && first_ok && last_ok
}

/// A region as ARM names it once normalised (`eastus`): 1-64 lower-case ASCII letters and
/// digits.
pub fn is_region(location: &str) -> bool {
    (1..=64).contains(&location.len())
        && location
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
        assert!(is_guid("11111111-2222-3333-4444-555555555555"));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee"));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeg"));
        assert!(!is_guid(
            "11111111-2222-3333-4444-555555555555\ntouch MARK\n#"
        ));
        assert!(!is_guid(""));
    }

    #[test]
    fn resource_groups_follow_azure_and_nothing_else() {
        for ok in ["rg-arc", "rg_(1).x", "rg-ärc", &"r".repeat(90)] {
            assert!(is_resource_group(ok), "{ok}");
        }
        for bad in [
            "",
            "rg.",
            "rg arc",
            "rg'x",
            "rg\nx",
            "rg;x",
            "rg$x",
            &"r".repeat(91),
        ] {
            assert!(!is_resource_group(bad), "{bad:?}");
        }
    }

    #[test]
    fn network_names() {
        for ok in ["r", "AllowAAD_", "a.b-c_d", &"n".repeat(80)] {
            assert!(is_network_name(ok, 1, 80), "{ok:?}");
        }
        for bad in [
            "",
            "rule.",
            "rule ",
            " rule",
            "-rule",
            "_rule",
            "a/b",
            "ä",
            &"n".repeat(81),
        ] {
            assert!(!is_network_name(bad, 1, 80), "{bad:?}");
        }
        assert!(!is_network_name("p", 2, 64));
    }

    #[test]
    fn resource_names_and_regions() {
        assert!(is_resource_name("arc-scope_1.x"));
        for bad in ["", ".", "..", "a b", "a/b", "ä", &"n".repeat(65)] {
            assert!(!is_resource_name(bad), "{bad:?}");
        }
        assert!(is_region("eastus2"));
        for bad in ["", "East US", "east-us", "eastus\n"] {
            assert!(!is_region(bad), "{bad:?}");
        }
    }
}
