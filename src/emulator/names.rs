//! Request paths and names: how a path splits into segments, what no segment may hold, and the
//! naming rules ARM applies when a resource or resource group is created (learn.microsoft.com
//! "Naming rules and restrictions for Azure resources"; HybridCompute's path patterns in the
//! saved specs).

use super::http::ApiError;
use crate::azure::names::{is_network_name, is_resource_group};

/// Splits a request path on `/` and then percent-decodes each segment, in that order: an
/// encoded slash (`a%2Fb`) stays inside its segment, where [`check_segment`] refuses it, instead
/// of silently becoming two segments of a stored id. Empty segments (`//`) are skipped.
pub fn path_segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let decoded = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| {
                    invalid_name(format!(
                        "The path segment '{raw}' is not valid percent-encoded UTF-8."
                    ))
                })?
                .into_owned();
            check_segment(&decoded)?;
            Ok(decoded)
        })
        .collect()
}

/// What no segment may be under any rule: a path step (`.`, `..`), a separator, or a control
/// character such as NUL.
fn check_segment(segment: &str) -> Result<(), ApiError> {
    if segment == "." || segment == ".." {
        return Err(invalid_name(format!(
            "The resource name '{segment}' is invalid: '.' and '..' are not names."
        )));
    }
    if segment
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(invalid_name(format!(
            "The resource name {segment:?} is invalid: it contains a slash, a backslash or a control character."
        )));
    }
    Ok(())
}

fn invalid_name(message: String) -> ApiError {
    ApiError::bad_request("InvalidResourceName", message)
}

/// A resource group name: 1-90 letters, digits, `-`, `.`, `_`, `(` and `)`, not ending with a
/// period.
pub fn check_resource_group(name: &str) -> Result<(), ApiError> {
    if is_resource_group(name) {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "InvalidResourceGroup",
        format!(
            "The provided resource group name {name:?} is invalid. The name can be 1 to 90 characters long, can only be a letter, digit, '-', '.', '(', ')' or '_', and cannot end with a period."
        ),
    ))
}

/// The name of a resource being created, by its kind's rule. Kinds without a documented rule
/// (`None`) only get the checks every segment gets.
pub fn check_resource(rule: Option<NameRule>, name: &str) -> Result<(), ApiError> {
    match rule {
        Some(rule) if !rule.accepts(name) => Err(invalid_name(format!(
            "Resource name {name:?} is invalid. {}",
            rule.describe()
        ))),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// Network's rule: letters, digits, `_`, `.` and `-`; starts with a letter or digit, ends
    /// with a letter, digit or `_`.
    Word { min: usize, max: usize },
    /// `^[a-zA-Z0-9-_.]{1,54}$` (HybridCompute spec).
    Machine,
    /// A DNS name of 2-34 labels.
    Zone,
    /// `@` or a relative DNS name, optionally starting with a `*` label.
    RecordSet,
}

impl NameRule {
    fn accepts(&self, name: &str) -> bool {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-';
        match *self {
            NameRule::Word { min, max } => is_network_name(name, min, max),
            NameRule::Machine => (1..=54).contains(&name.len()) && name.chars().all(word),
            NameRule::Zone => {
                let labels: Vec<&str> = name.split('.').collect();
                name.len() <= 253
                    && (2..=34).contains(&labels.len())
                    && labels.iter().all(|l| dns_label(l))
            }
            NameRule::RecordSet => {
                name == "@"
                    || (name.len() <= 253
                        && name
                            .split('.')
                            .enumerate()
                            .all(|(i, l)| (i == 0 && l == "*") || dns_label(l)))
            }
        }
    }

    fn describe(&self) -> String {
        match *self {
            NameRule::Word { min, max } => format!(
                "The name must be {min} to {max} characters long. It must begin with a letter or digit, and it must end with a letter, digit or '_'. The name may contain letters, digits, '.', '-' and '_'."
            ),
            NameRule::Machine => "The name must be 1 to 54 letters, digits, '.', '-' or '_'.".into(),
            NameRule::Zone => "A zone name must have 2 to 34 labels separated by '.', each 1 to 63 letters, digits, '-' or '_', and at most 253 characters in all.".into(),
            NameRule::RecordSet => "A record set name must be '@' or labels separated by '.', each 1 to 63 letters, digits, '-' or '_' (the first may be '*'), and at most 253 characters in all.".into(),
        }
    }
}

fn dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::providers::{
        A_RECORDS, ENDPOINTS, MACHINES, SCOPES, SUBNETS, VNETS, ZONE_GROUPS, ZONE_LINKS, ZONES,
        kind_for,
    };
    use super::*;

    /// The check a PUT of a resource of `type_key` makes of its name.
    fn check(type_key: &str, name: &str) -> Result<(), ApiError> {
        check_resource(kind_for(type_key).and_then(|k| k.name_rule), name)
    }

    fn refused(path: &str) -> String {
        path_segments(path).unwrap_err().code
    }

    #[test]
    fn an_encoded_slash_stays_inside_its_segment_and_is_refused() {
        assert_eq!(
            path_segments("/subscriptions/s//resourceGroups/a%20b").unwrap(),
            ["subscriptions", "s", "resourceGroups", "a b"]
        );
        assert_eq!(refused("/x/privateLinkScopes/a%2Fb"), "InvalidResourceName");
        assert_eq!(refused("/x/privateLinkScopes/a%5Cb"), "InvalidResourceName");
    }

    #[test]
    fn dot_segments_control_characters_and_bad_utf8_are_refused() {
        for path in [
            "/x/..",
            "/x/.",
            "/x/%2E%2E",
            "/x/a%00b",
            "/x/a%0Ab",
            "/x/%FF%FE",
        ] {
            assert_eq!(refused(path), "InvalidResourceName", "{path}");
        }
        assert!(path_segments("/x/a..b/.c").is_ok());
    }

    #[test]
    fn resource_group_names_follow_arm_rules() {
        for ok in ["rg", "Rg_(1).x-y", "ñandú", &"r".repeat(90)] {
            assert!(check_resource_group(ok).is_ok(), "{ok}");
        }
        for bad in ["", "rg.", "a b", "a!b", &"r".repeat(91)] {
            assert_eq!(
                check_resource_group(bad).unwrap_err().code,
                "InvalidResourceGroup",
                "{bad}"
            );
        }
    }

    #[test]
    fn resource_names_follow_the_rules_of_their_type() {
        let long = "a".repeat(3000);
        let cases: &[(&str, &str, bool)] = &[
            (SCOPES, "scope-1", true),
            (SCOPES, "s", true),
            (SCOPES, "scope.", false),
            (SCOPES, "-scope", false),
            (SCOPES, &long, false),
            (SCOPES, &"a".repeat(64), true),
            (SCOPES, &"a".repeat(65), false),
            (ENDPOINTS, "pe", true),
            (ENDPOINTS, "p", false),
            (ENDPOINTS, "pe_", true),
            (ENDPOINTS, "pe-", false),
            (ZONE_LINKS, &format!("arclink-{}", "v".repeat(72)), true),
            (ZONE_LINKS, &"v".repeat(81), false),
            (ZONES, "privatelink.his.arc.azure.com", true),
            (ZONES, "localhost", false),
            (ZONES, "a..b", false),
            (ZONES, &format!("{}.com", "a".repeat(64)), false),
            (A_RECORDS, "@", true),
            (A_RECORDS, "*.gbl", true),
            (A_RECORDS, "gbl.*", false),
            (A_RECORDS, "my name", false),
            (MACHINES, "web-01.contoso", true),
            (
                "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections",
                "pe.1234",
                true,
            ),
        ];
        for (type_key, name, ok) in cases {
            let result = check(type_key, name);
            assert_eq!(result.is_ok(), *ok, "{type_key} {name:?}: {result:?}");
            if let Err(e) = result {
                assert_eq!(e.code, "InvalidResourceName");
                assert_eq!(e.status, 400);
            }
        }
    }

    proptest! {
        #[test]
        fn path_splitting_never_panics_and_keeps_no_separator(path in "(/|%2F|%2f|%00|%FF|%|\\.|[a-zA-Z0-9]|\\PC){0,40}") {
            if let Ok(segments) = path_segments(&path) {
                for s in segments {
                    prop_assert!(!s.is_empty() && !s.contains('/') && !s.contains('\0'));
                    prop_assert!(s != "." && s != "..");
                }
            }
        }

        #[test]
        fn name_checks_never_panic(name in "\\PC{0,300}", type_index in 0usize..10) {
            let types = [SCOPES, VNETS, ENDPOINTS, SUBNETS, ZONE_GROUPS, ZONE_LINKS, MACHINES, ZONES, A_RECORDS, "other/type"];
            let _ = check(types[type_index], &name);
            let _ = check_resource_group(&name);
        }
    }
}
