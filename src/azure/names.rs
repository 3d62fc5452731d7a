//! Azure's naming rules, each written once (learn.microsoft.com "Naming rules and restrictions
//! for Azure resources"; the path patterns of the ARM specs): subscription and tenant ids,
//! resource group and resource names, the ids of the resources a spec refers to, regions.
//!
//! A rule is a pattern in the syntax that RE2 (what the Kubernetes API server runs for a CRD's
//! `pattern` and CEL's `matches`) and Rust's `regex` (what `plan`/`apply` and the controller
//! run) read alike: no lookaround or backreferences (RE2 has none), and no `\w`, `\d`, `\s` or
//! `\b`, which RE2 reads as ASCII and `regex` as Unicode. The CRDs' patterns are built from
//! these rules ([`Rule::whole`], [`IdRule::pattern`]) and the checks here run the same
//! patterns, so the API server, the offline commands and the reconcile agree by construction.

use std::sync::OnceLock;

use regex::Regex;

mod portable;
pub use portable::portable;

/// A naming rule: the pattern of a name alone, unanchored (so that ids can be assembled from
/// rules), its length bounds included.
#[derive(Debug)]
pub struct Rule {
    pub pattern: &'static str,
    /// The rule in words, for messages.
    pub describe: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Rule {
    const fn new(pattern: &'static str, describe: &'static str) -> Rule {
        Rule {
            pattern,
            describe,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern of a whole value (anchored), as a CRD field's `pattern`.
    pub fn whole(&self) -> String {
        format!("^(?:{})$", self.pattern)
    }

    /// Whether `name` follows the rule.
    pub fn accepts(&self, name: &str) -> bool {
        matches(&self.compiled, || self.whole(), name)
    }
}

fn matches(cell: &OnceLock<Option<Regex>>, pattern: impl FnOnce() -> String, s: &str) -> bool {
    // The patterns are this module's constants; a test compiles every one of them.
    cell.get_or_init(|| Regex::new(&pattern()).ok())
        .as_ref()
        .is_some_and(|re| re.is_match(s))
}

/// A GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits: subscription and tenant ids.
pub static GUID: Rule = Rule::new(
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
);

/// A resource group: 1-90 letters (of any script: .NET's `Char.IsLetterOrDigit`, Unicode
/// categories L and Nd), digits, `-`, `.`, `_`, `(` and `)`, not ending with a period (hence
/// never `.` or `..`).
pub static RESOURCE_GROUP: Rule = Rule::new(
    r"[-\p{L}\p{Nd}_.()]{0,89}[-\p{L}\p{Nd}_()]",
    "a resource group name: 1-90 letters, digits, '-', '.', '_', '(' or ')', not ending with '.'",
);

/// A resource name as arclink's CRDs accept it where Azure states no stricter rule (an Arc
/// Private Link Scope: `[a-zA-Z0-9-_.]+` in the HybridCompute spec): 1-64 ASCII letters,
/// digits, `_`, `.` and `-`, and not a path step (`.`, `..`).
pub static RESOURCE: Rule = Rule::new(
    r"[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,63}|\.[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,62}|\.\.[a-zA-Z0-9_.-]{1,62}",
    "an Azure resource name: 1-64 letters, digits, '_', '.' or '-', and not '.' or '..'",
);

/// An Arc-enabled server: `^[a-zA-Z0-9-_.]{1,54}$` (HybridCompute spec), and not a path step.
pub static MACHINE: Rule = Rule::new(
    r"[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,53}|\.[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,52}|\.\.[a-zA-Z0-9_.-]{1,52}",
    "a machine name: 1-54 letters, digits, '_', '.' or '-', and not '.' or '..'",
);

/// A private endpoint or virtual network: 2-64 letters, digits, `_`, `.` and `-`, starting with
/// a letter or digit, ending with a letter, digit or `_` (reference/arm-behaviours.md 7).
pub static NETWORK_2_64: Rule = Rule::new(
    "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9_]",
    "a name of 2-64 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'",
);

/// A subnet or network security group: 1-80 letters, digits, `_`, `.` and `-`, starting with a
/// letter or digit, ending with a letter, digit or `_`.
pub static NETWORK_1_80: Rule = Rule::new(
    "[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?",
    "a name of 1-80 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'",
);

/// A private DNS zone: a DNS name of labels of 1-63 letters, digits, `-` or `_`, at least two.
/// Azure's bounds of 34 labels and 253 characters are left out: RE2 allows no more than 1000
/// copies of a label's class in all (an id's length is bounded by the CRD).
pub static PRIVATE_DNS_ZONE: Rule = Rule::new(
    r"[a-zA-Z0-9_-]{1,63}(?:\.[a-zA-Z0-9_-]{1,63})+",
    "a DNS name of at least 2 labels of 1-63 letters, digits, '-' or '_'",
);

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

/// A management group id: 1-90 ASCII letters, digits, `-`, `_`, `.`, `(` and `)`, not ending
/// with a period (learn "Naming rules": Microsoft.Management/managementGroups).
pub static MANAGEMENT_GROUP: Rule = Rule::new(
    r"[-a-zA-Z0-9_.()]{0,89}[-a-zA-Z0-9_()]",
    "a management group id: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'",
);

/// A region as ARM names it once normalised (`eastus`): 1-64 lower-case ASCII letters and
/// digits.
pub static REGION: Rule = Rule::new(
    "[a-z0-9]{1,64}",
    "an Azure region (letters and digits, e.g. eastus)",
);

/// The ARM id of a resource of one type in a resource group:
/// `/subscriptions/{GUID}/resourceGroups/{RESOURCE_GROUP}/providers/{provider}/{type}/{name}`,
/// then `/{type}/{name}` per child type. Keywords, provider and types are compared without
/// (ASCII) case, as ARM compares them; each name by its type's rule.
#[derive(Debug)]
pub struct IdRule {
    /// What the id names, for messages ("a subnet").
    pub what: &'static str,
    provider: &'static str,
    types: &'static [(&'static str, &'static Rule)],
    compiled: OnceLock<Option<Regex>>,
}

impl IdRule {
    const fn new(
        what: &'static str,
        provider: &'static str,
        types: &'static [(&'static str, &'static Rule)],
    ) -> IdRule {
        IdRule {
            what,
            provider,
            types,
            compiled: OnceLock::new(),
        }
    }

    /// The anchored pattern of the id, as a CRD field's `pattern`.
    pub fn pattern(&self) -> String {
        let mut p = format!(
            "^/{}/{}/{}/(?:{})/{}/{}",
            caseless("subscriptions"),
            GUID.pattern,
            caseless("resourceGroups"),
            RESOURCE_GROUP.pattern,
            caseless("providers"),
            caseless(self.provider),
        );
        for (type_, name) in self.types {
            p.push_str(&format!("/{}/(?:{})", caseless(type_), name.pattern));
        }
        p.push('$');
        p
    }

    /// The type's path in words, e.g. `Microsoft.Network/virtualNetworks/subnets`.
    pub fn type_path(&self) -> String {
        let mut t = self.provider.to_string();
        for (type_, _) in self.types {
            t.push('/');
            t.push_str(type_);
        }
        t
    }

    /// Whether `id` is an id of this type.
    pub fn accepts(&self, id: &str) -> bool {
        matches(&self.compiled, || self.pattern(), id)
    }
}

/// An Arc Private Link Scope.
pub static SCOPE_ID: IdRule = IdRule::new(
    "an Arc Private Link Scope",
    "Microsoft.HybridCompute",
    &[("privateLinkScopes", &RESOURCE)],
);

/// A subnet of a virtual network.
pub static SUBNET_ID: IdRule = IdRule::new(
    "a subnet",
    "Microsoft.Network",
    &[
        ("virtualNetworks", &NETWORK_2_64),
        ("subnets", &NETWORK_1_80),
    ],
);

/// A network security group.
pub static NSG_ID: IdRule = IdRule::new(
    "a network security group",
    "Microsoft.Network",
    &[("networkSecurityGroups", &NETWORK_1_80)],
);

/// A private DNS zone.
pub static DNS_ZONE_ID: IdRule = IdRule::new(
    "a private DNS zone",
    "Microsoft.Network",
    &[("privateDnsZones", &PRIVATE_DNS_ZONE)],
);

/// A Log Analytics workspace: 4-63 letters, digits and `-`, starting and ending with a letter
/// or digit (learn.microsoft.com naming rules, Microsoft.OperationalInsights).
pub static WORKSPACE: Rule = Rule::new(
    "[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]",
    "a workspace name: 4-63 letters, digits or '-', starting and ending with a letter or digit",
);

/// An Application Insights component: 1-260 ASCII letters, digits, `-`, `_`, `.`, `(` and `)`,
/// not ending with a period. Azure refuses only `%&\?/`, control characters and a final period
/// or space; arclink keeps to ASCII, as a class of any letter repeated 260 times exceeds the
/// size of a regular expression CEL compiles.
pub static COMPONENT: Rule = Rule::new(
    r"[-a-zA-Z0-9_.()]{0,259}[-a-zA-Z0-9_()]",
    "an Application Insights component name: 1-260 ASCII letters, digits, '-', '_', '.', '(' or ')', not ending with '.'",
);

/// A Log Analytics workspace.
pub static WORKSPACE_ID: IdRule = IdRule::new(
    "a Log Analytics workspace",
    "Microsoft.OperationalInsights",
    &[("workspaces", &WORKSPACE)],
);

/// A data collection endpoint (Azure Monitor Agent's configuration and ingestion endpoint; no
/// stricter rule is published than a resource's).
pub static DATA_COLLECTION_ENDPOINT_ID: IdRule = IdRule::new(
    "a data collection endpoint",
    "Microsoft.Insights",
    &[("dataCollectionEndpoints", &RESOURCE)],
);

/// The ARM id of any resource in a resource group, such as a private-link target (a Key Vault,
/// a storage account, an Azure Monitor Private Link Scope): provider namespace and types of
/// ASCII letters and digits, each name by [`RESOURCE`], at most four child types deep.
pub fn any_resource_id_pattern() -> String {
    let name = format!("(?:{})", RESOURCE.pattern);
    format!(
        "^/{}/{}/{}/(?:{})/{}/[a-zA-Z][a-zA-Z0-9]*(?:\\.[a-zA-Z][a-zA-Z0-9]*)+/[a-zA-Z][a-zA-Z0-9]*/{name}(?:/[a-zA-Z][a-zA-Z0-9]*/{name}){{0,4}}$",
        caseless("subscriptions"),
        GUID.pattern,
        caseless("resourceGroups"),
        RESOURCE_GROUP.pattern,
        caseless("providers"),
    )
}

/// Whether `id` is the id of a resource in a resource group ([`any_resource_id_pattern`]).
pub fn is_any_resource_id(id: &str) -> bool {
    static COMPILED: OnceLock<Option<Regex>> = OnceLock::new();
    matches(&COMPILED, any_resource_id_pattern, id)
}

/// An Application Insights component.
pub static COMPONENT_ID: IdRule = IdRule::new(
    "an Application Insights component",
    "Microsoft.Insights",
    &[("components", &COMPONENT)],
);

/// The resources an Azure Monitor Private Link Scope links (its `scopedResources`).
pub const MONITOR_RESOURCE_IDS: [&IdRule; 3] =
    [&WORKSPACE_ID, &DATA_COLLECTION_ENDPOINT_ID, &COMPONENT_ID];

/// Why a scoped resource's id is refused.
pub const MONITOR_RESOURCE_MESSAGE: &str = "resourceId must be the ARM id of a Log Analytics workspace (Microsoft.OperationalInsights/workspaces), a data collection endpoint (Microsoft.Insights/dataCollectionEndpoints) or an Application Insights component (Microsoft.Insights/components)";

/// The CEL rule that accepts the id of a resource an Azure Monitor Private Link Scope links.
pub fn monitor_resource_rule() -> String {
    MONITOR_RESOURCE_IDS
        .iter()
        .map(|id| format!("self.matches('{}')", id.pattern().replace('\\', "\\\\")))
        .collect::<Vec<_>>()
        .join(" || ")
}

/// Whether `id` is the id of a resource an Azure Monitor Private Link Scope links.
pub fn is_monitor_resource_id(id: &str) -> bool {
    MONITOR_RESOURCE_IDS.iter().any(|rule| rule.accepts(id))
}

/// The rules and ids the CRDs use, for [`explain`].
const RULES: [&Rule; 9] = [
    &GUID,
    &RESOURCE_GROUP,
    &RESOURCE,
    &MACHINE,
    &NETWORK_2_64,
    &NETWORK_1_80,
    &PRIVATE_DNS_ZONE,
    &REGION,
    &MANAGEMENT_GROUP,
];
const IDS: [&IdRule; 5] = [
    &SCOPE_ID,
    &SUBNET_ID,
    &NSG_ID,
    &DNS_ZONE_ID,
    &DATA_COLLECTION_ENDPOINT_ID,
];

/// What a value matching `pattern` (a CRD field's, built here) must be, in words; `None` for a
/// pattern not built here.
pub fn explain(pattern: &str) -> Option<String> {
    if let Some(rule) = RULES.iter().find(|r| r.whole() == pattern) {
        return Some(rule.describe.to_string());
    }
    IDS.iter().find(|i| i.pattern() == pattern).map(|id| {
        let mut shape =
            "/subscriptions/<GUID>/resourceGroups/<resource group>/providers/".to_string();
        shape.push_str(id.provider);
        for (type_, _) in id.types {
            shape.push_str(&format!("/{type_}/<name>"));
        }
        format!(
            "the id of {} ({shape}), each name by Azure's rules for it (never '.' or '..')",
            id.what
        )
    })
}

/// `literal` matched without ASCII case in the syntax RE2 and `regex` share (`(?i)` would fold
/// Unicode too: `ſ` for `s`, the Kelvin sign for `k`).
fn caseless(literal: &str) -> String {
    literal
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphabetic() => {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            }
            '.' => r"\.".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A GUID: subscription and tenant ids.
pub fn is_guid(s: &str) -> bool {
    GUID.accepts(s)
}

/// A resource group name ([`RESOURCE_GROUP`]).
pub fn is_resource_group(name: &str) -> bool {
    RESOURCE_GROUP.accepts(name)
}

/// A resource name as the CRDs accept it ([`RESOURCE`]).
pub fn is_resource_name(name: &str) -> bool {
    RESOURCE.accepts(name)
}

/// A normalised region ([`REGION`]).
pub fn is_region(location: &str) -> bool {
    REGION.accepts(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_reads_the_same_in_re2() {
        for rule in RULES {
            assert!(Regex::new(&rule.whole()).is_ok(), "{}", rule.pattern);
            assert_eq!(portable(&rule.whole()), Ok(()), "{}", rule.pattern);
        }
        for id in IDS {
            assert!(Regex::new(&id.pattern()).is_ok(), "{}", id.pattern());
            assert_eq!(portable(&id.pattern()), Ok(()), "{}", id.pattern());
        }
    }

    #[test]
    fn monitor_resource_ids_compile_read_the_same_in_re2_and_name_their_types() {
        for id in MONITOR_RESOURCE_IDS {
            assert_eq!(portable(&id.pattern()), Ok(()), "{}", id.pattern());
        }
        let rg = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg";
        for good in [
            format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/law-arc"),
            format!("{rg}/providers/microsoft.insights/dataCollectionEndpoints/dce-eastus"),
            format!("{rg}/providers/Microsoft.Insights/components/My.App(1)"),
        ] {
            assert!(is_monitor_resource_id(&good), "{good}");
        }
        for bad in [
            format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/abc"),
            format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/-law"),
            format!("{rg}/providers/Microsoft.Insights/components/app."),
            format!("{rg}/providers/Microsoft.Insights/privateLinkScopes/ampls"),
            format!("{rg}/providers/Microsoft.Insights/dataCollectionEndpoints/.."),
        ] {
            assert!(!is_monitor_resource_id(&bad), "{bad}");
        }
        assert!(monitor_resource_rule().contains("self.matches('^/[sS]"));
    }

    #[test]
    fn patterns_are_explained_in_words() {
        assert_eq!(
            explain(&RESOURCE_GROUP.whole()).as_deref(),
            Some(RESOURCE_GROUP.describe)
        );
        let nsg = explain(&NSG_ID.pattern()).unwrap_or_default();
        assert!(
            nsg.starts_with("the id of a network security group (/subscriptions/<GUID>/resourceGroups/<resource group>/providers/Microsoft.Network/networkSecurityGroups/<name>)"),
            "{nsg}"
        );
        assert_eq!(explain("^x$"), None);
    }

    #[test]
    fn guids() {
        assert!(is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
        assert!(is_guid("11111111-2222-3333-4444-555555555555"));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee"));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeg"));
        assert!(!is_guid(
            "11111111-2222-3333-4444-555555555555\ntouch MARK\n#"
        ));
        assert!(!is_guid("11111111-2222-3333-4444-555555555555\n"));
        assert!(!is_guid(""));
    }

    #[test]
    fn resource_groups_follow_azure_and_nothing_else() {
        for ok in [
            "rg-arc",
            "rg_(1).x",
            "rg-ärc",
            "日本",
            "rg-١٢",
            "r",
            "-",
            &"r".repeat(90),
            &"ä".repeat(90),
        ] {
            assert!(is_resource_group(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "rg.",
            "rg arc",
            "rg'x",
            "rg\nx",
            "rg;x",
            "rg$x",
            "rg/x",
            // Other numbers are not .NET's letters or digits.
            "rg²",
            "rgⅫ",
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
    fn resource_and_machine_names_are_never_a_path_step() {
        for ok in ["arc-scope_1.x", ".x", "..x", "x.", "...", &"n".repeat(64)] {
            assert!(is_resource_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a b", "a/b", "ä", "a\n", &"n".repeat(65)] {
            assert!(!is_resource_name(bad), "{bad:?}");
        }
        for ok in ["web-01", "..x", &"m".repeat(54)] {
            assert!(MACHINE.accepts(ok), "{ok}");
        }
        for bad in [".", "..", &"m".repeat(55)] {
            assert!(!MACHINE.accepts(bad), "{bad:?}");
        }
    }

    #[test]
    fn network_names_and_zones() {
        for ok in ["hub", "a", "a_", "a.b-c_", &"s".repeat(80)] {
            assert!(NETWORK_1_80.accepts(ok), "{ok}");
        }
        for bad in ["", ".", "..", "-a", "a-", "a.", &"s".repeat(81)] {
            assert!(!NETWORK_1_80.accepts(bad), "{bad:?}");
        }
        assert!(NETWORK_2_64.accepts("pe") && !NETWORK_2_64.accepts("p"));
        for ok in ["privatelink.his.arc.azure.com", "a.b", "x_y.z-1"] {
            assert!(PRIVATE_DNS_ZONE.accepts(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "contoso",
            "a..b",
            ".a.b",
            "a.b.",
            "a b.c",
            &format!("{}.com", "l".repeat(64)),
        ] {
            assert!(!PRIVATE_DNS_ZONE.accepts(bad), "{bad:?}");
        }
        assert!(PRIVATE_DNS_ZONE.accepts(&["a"; 40].join(".")));
    }

    #[test]
    fn regions() {
        assert!(is_region("eastus2"));
        for bad in ["", "East US", "east-us", "eastus\n"] {
            assert!(!is_region(bad), "{bad:?}");
        }
    }

    #[test]
    fn ids_name_their_type_as_a_whole() {
        const SUB: &str = "11111111-2222-3333-4444-555555555555";
        let nsg = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/hub-nsg"
        );
        assert!(NSG_ID.accepts(&nsg));
        assert!(NSG_ID.accepts(&nsg.to_ascii_lowercase()));
        assert!(NSG_ID.accepts(&nsg.replace("rg-net", "rg-ärc")));
        for bad in [
            nsg.replace("hub-nsg", ".."),
            nsg.replace("hub-nsg", "."),
            nsg.replace("networkSecurityGroups", "virtualNetworks"),
            format!("{nsg}/securityRules/AllowAADOutboundAccess"),
            format!("{nsg}/"),
            nsg.replace(SUB, "x"),
            nsg.replace("rg-net", ".."),
            nsg.replace("hub-nsg", "hub nsg"),
            // `(?i)` would fold these into `s` and `k`; ARM does not.
            nsg.replace("subscriptions", "ſubscriptions"),
            nsg.replace("Network", "Networ\u{212a}"),
        ] {
            assert!(!NSG_ID.accepts(&bad), "{bad}");
        }
        let subnet = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints"
        );
        assert!(SUBNET_ID.accepts(&subnet));
        assert!(!SUBNET_ID.accepts(&subnet.replace("/hub/", "/../")));
        assert!(!SUBNET_ID.accepts(&subnet.replace("private-endpoints", "..")));
        let scope = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/arc-scope"
        );
        assert!(SCOPE_ID.accepts(&scope));
        assert!(!SCOPE_ID.accepts(&scope.replace("arc-scope", ".")));
        assert!(!SCOPE_ID.accepts(&scope.replace("HybridCompute", "Insights")));
        let zone = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.his.arc.azure.com"
        );
        assert!(DNS_ZONE_ID.accepts(&zone));
        assert!(!DNS_ZONE_ID.accepts(&zone.replace("privatelink.his.arc.azure.com", "..")));
        assert_eq!(
            SUBNET_ID.type_path(),
            "Microsoft.Network/virtualNetworks/subnets"
        );
    }

    proptest::proptest! {
        // PROPTEST_CASES sets the number of cases (256 by default).
        /// An id an id rule accepts is an ARM id of that type, with no path step in it: the
        /// CRD's check and the reconcile's parser agree.
        #[test]
        fn ids_a_rule_accepts_parse_as_that_type(
            keywords in "(subscriptions|SUBSCRIPTIONS|subscription)/(11111111-2222-3333-4444-555555555555|x|\\.)/(resourceGroups|resourcegroups|resourceGroup)",
            group in "(rg|rg-ärc|\\.|\\.\\.|rg\\.|[a-z(]{1,3})",
            provider in "(providers|Providers|provider)/(Microsoft\\.Network|microsoft\\.NETWORK|Microsoft\\.HybridCompute|Microsoft-Network)",
            type_ in "(networkSecurityGroups|virtualNetworks|privateDnsZones|privateLinkScopes)",
            name in "(\\.|\\.\\.|n|a\\.b|-x|x_|a b|[a-z.]{1,5})",
            tail in "(|/subnets/s|/subnets/\\.\\.|/subnets/\\.|/securityRules/r|/)",
        ) {
            let id = format!("/{keywords}/{group}/{provider}/{type_}/{name}{tail}");
            for rule in IDS {
                if rule.accepts(&id) {
                    let parsed = crate::azure::ResourceId::parse(&id);
                    proptest::prop_assert!(parsed.is_ok(), "{id}: {parsed:?}");
                    let parsed = parsed.unwrap();
                    proptest::prop_assert!(
                        parsed.resource_type().eq_ignore_ascii_case(&rule.type_path()),
                        "{id} is not {}", rule.type_path()
                    );
                    proptest::prop_assert!(parsed.segments().all(|s| s != "." && s != ".."));
                }
            }
        }

        #[test]
        fn any_pattern_is_judged_without_panicking(s in "\\PC{0,60}") {
            let _ = portable(&s);
        }
    }
}
