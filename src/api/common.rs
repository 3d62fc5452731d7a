//! Blocks shared by the three kinds: where the Azure resource lives, policies, references.

use std::time::Duration;

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::azure::names;

/// Pattern of an Azure region name as ARM accepts it (`eastus`, `East US`).
pub const LOCATION_PATTERN: &str = r"^[A-Za-z0-9 ]+$";
/// Pattern of a Go duration string, the format CEL's `duration()` parses.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";
/// Pattern of the name of a Kubernetes object (a DNS subdomain), as the API server requires of
/// `metadata.name`: what `scopeRef`, `credentialRef` and the ConfigMaps name.
pub const OBJECT_NAME_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Azure's tag limits (learn.microsoft.com "Use tags to organize your Azure resources"): 50
/// tags per resource, of which arclink writes two; keys of at most 512 characters without
/// `<>%&\?/` or control characters; values of at most 256 characters.
pub const MAX_USER_TAGS: usize = 48;
pub const TAG_KEYS_RULE: &str =
    r#"self.all(k, size(k) >= 1 && size(k) <= 512 && !k.matches('[<>%&\\\\?/\\x00-\\x1f]'))"#;
pub const TAG_KEYS_MESSAGE: &str = "tag keys must be 1-512 characters without < > % & \\ ? / or control characters (Azure's tag rules)";
pub const RESERVED_TAGS_RULE: &str = "!('managed-by' in self) && !('arclink-owner' in self)";
pub const RESERVED_TAGS_MESSAGE: &str =
    "tags managed-by and arclink-owner are reserved for arclink";

/// Tag keys that arclink writes itself; users may not set them.
pub const TAG_MANAGED_BY: &str = "managed-by";
/// Tag naming the arclink object that owns an Azure resource.
pub const TAG_OWNER: &str = "arclink-owner";

/// Where the Azure resource lives.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(oldSelf.name) || (has(self.name) && self.name == oldSelf.name)").message("azure.name is immutable once set").field_path(".name"),
    validation = Rule::new("!has(oldSelf.subscriptionId) || (has(self.subscriptionId) && self.subscriptionId == oldSelf.subscriptionId)").message("azure.subscriptionId is immutable once set").field_path(".subscriptionId"),
    validation = Rule::new("self.resourceGroup == oldSelf.resourceGroup").message("azure.resourceGroup is immutable").field_path(".resourceGroup")
)]
pub struct AzureResource {
    /// Azure subscription (GUID). Defaults to the controller's `--default-subscription`.
    /// Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::GUID.whole()), length(max = 36))]
    pub subscription_id: Option<String>,
    /// Resource group that holds the resource. Immutable.
    #[schemars(regex(pattern = names::RESOURCE_GROUP.whole()), length(min = 1, max = 90))]
    pub resource_group: String,
    /// Name of the Azure resource. Defaults to `metadata.name`. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = names::RESOURCE.whole()), length(min = 1, max = 64))]
    pub name: Option<String>,
}

/// `Correct` converges Azure to the spec; `Report` never writes and reports differences.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DriftPolicy {
    /// Converge Azure to the spec.
    #[default]
    Correct,
    /// Never write; report differences in `status.drift` and the `Drifted` condition.
    Report,
}

/// What happens in Azure when the object is deleted.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Delete the Azure resource, but only when its owner tag names this object.
    #[default]
    Delete,
    /// Leave the Azure resource; remove arclink's owner tags so it can be adopted elsewhere.
    Orphan,
}

/// Which tags arclink manages on the Azure resource.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum TagPolicy {
    /// The spec's tags and arclink's owner tags; tags others set (e.g. Azure Policy's `modify`
    /// effect) are left alone and are not drift.
    #[default]
    Merge,
    /// Exactly the spec's tags and arclink's owner tags: other tags are drift and removed.
    Exact,
}

/// How arclink treats the Azure resource.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `Correct` (default) converges drift; `Report` never writes and reports it.
    #[serde(default)]
    pub drift: DriftPolicy,
    /// `Delete` (default) removes the Azure resource with the object; `Orphan` leaves it.
    #[serde(default)]
    pub deletion: DeletionPolicy,
    /// Take over a pre-existing Azure resource that no arclink object owns.
    #[serde(default)]
    pub adopt: bool,
    /// How often Azure is re-read when nothing changed (Go duration, 30s to 24h, e.g. `10m`).
    /// Defaults to the controller's `--drift-check-interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN), length(max = 32))]
    #[x_kube(
        validation = Rule::new("duration(self) >= duration('30s')").message("driftCheckInterval must be at least 30s"),
        validation = Rule::new("duration(self) <= duration('24h')").message("driftCheckInterval must be at most 24h")
    )]
    pub drift_check_interval: Option<String>,
    /// `Merge` (default) manages the spec's tags and leaves others; `Exact` removes tags the
    /// spec does not declare.
    #[serde(default)]
    pub tags: TagPolicy,
}

/// A Secret in the object's namespace holding Azure credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct CredentialRef {
    /// Name of the Secret (keys `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, and `AZURE_CLIENT_SECRET`
    /// or `AZURE_FEDERATED_TOKEN_FILE`).
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,
}

/// A reference to an ArcPrivateLinkScope in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct ScopeRef {
    /// Name of the ArcPrivateLinkScope object.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,
}

/// A reference to an arclink object of another kind in the same namespace (the field says
/// which kind).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct LocalRef {
    /// Name of the object.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,
}

/// One field where Azure differs from the spec.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct DriftEntry {
    /// ARM path of the field, e.g. `properties.publicNetworkAccess` or `tags.team`.
    pub path: String,
    /// Value the spec asks for (empty when the field should be absent).
    pub desired: String,
    /// Value Azure reports (empty when absent).
    pub actual: String,
}

/// A long-running ARM operation in flight, kept in status so a restarted controller resumes
/// it instead of issuing the write again.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingOperation {
    /// What the operation does (`Create`, `Update`, `Delete`, ...).
    pub action: String,
    /// ARM id of the resource being written.
    pub resource_id: String,
    /// Serialised operation token (ARM's own status URL; no secrets).
    pub token: String,
    /// When the operation started (RFC 3339).
    pub started_at: String,
    /// Polls of the operation's status that failed in a row; at 3 the operation is given up
    /// and the resource re-read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_failures: u32,
}

pub(crate) fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Longest duration [`parse_duration`] accepts: Go's own limit (nanoseconds in an `i64`, about
/// 292 years), so that anything the API server's CEL accepts parses here too.
pub const MAX_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);
/// Upper bound of `spec.policy.driftCheckInterval` and `--drift-check-interval`: a day without
/// looking at Azure is already a long time for drift to go unnoticed.
pub const MAX_DRIFT_CHECK_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Parses a Go-style duration (`90s`, `10m`, `1h30m`, `1.5h`, `0`). Integer arithmetic
/// throughout: anything above [`MAX_DURATION`], negative or malformed is an error, never a
/// panic or a silently wrapped value.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!("invalid duration {s:?}: {why}");
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return Err(invalid("negative"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid("empty"));
    }
    let max = MAX_DURATION.as_nanos();
    let too_large = || invalid(&format!("more than {}", display(MAX_DURATION)));
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (int, after) = split_digits(rest);
        let (frac, after) = match after.strip_prefix('.') {
            Some(after) => split_digits(after),
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid("expected a number"));
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{00b5}s" | "\u{03bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(invalid("missing unit (ns, us, ms, s, m or h)")),
            other => {
                return Err(invalid(&format!(
                    "unknown unit {other:?} (ns, us, ms, s, m or h)"
                )));
            }
        };
        // Each step stays below `max * 10 + 9`, far inside u128.
        let mut whole: u128 = 0;
        for d in int.bytes() {
            whole = whole * 10 + u128::from(d - b'0');
            if whole > max {
                return Err(too_large());
            }
        }
        // Digits past the 18th are below a nanosecond even for hours.
        let (mut fraction, mut scale) = (0u128, 1u128);
        for d in frac.bytes().take(18) {
            fraction = fraction * 10 + u128::from(d - b'0');
            scale *= 10;
        }
        total += whole * per_unit + fraction * per_unit / scale;
        if total > max {
            return Err(too_large());
        }
        rest = after;
    }
    u64::try_from(total)
        .map(Duration::from_nanos)
        .map_err(|_| too_large())
}

/// A flag's value parser: [`parse_duration`], and at most `max` (an absurd value is a typo, not
/// a wish to wait for years).
pub fn duration_up_to(
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |s| match parse_duration(s)? {
        d if d > max => Err(format!("{s:?} is more than {}", display(max))),
        d => Ok(d),
    }
}

/// `s` split after its leading ASCII digits.
fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// A bound for messages, as a Go duration (`24h`, `2562047h47m16.854775807s`).
fn display(d: Duration) -> String {
    let secs = d.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push_str(&format!("{seconds}.{}s", fraction.trim_end_matches('0')));
    } else if seconds > 0 || out.is_empty() {
        out.push_str(&format!("{seconds}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("+2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1µs2us3μs"), Ok(Duration::from_micros(6)));
        assert_eq!(parse_duration("1ns"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_duration("2562047h47m16.854775807s"), Ok(MAX_DURATION));
        for bad in ["ten minutes", "-5m", "", "5", "1.5.h", "h", "1d", "."] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_past_the_limit_are_errors_not_panics() {
        for huge in [
            "99999999999999999999h",
            "2562047h47m16.854775808s",
            "9999999999999999999ns",
            "2562047h2562047h",
            "340282366920938463463374607431768211456h",
        ] {
            let err = parse_duration(huge).unwrap_err();
            assert!(err.contains("more than 2562047h"), "{huge}: {err}");
        }
    }

    #[test]
    fn flag_durations_have_an_upper_bound() {
        let parse = duration_up_to(MAX_DRIFT_CHECK_INTERVAL);
        assert_eq!(parse("24h"), Ok(MAX_DRIFT_CHECK_INTERVAL));
        assert_eq!(
            parse("24h1ns"),
            Err("\"24h1ns\" is more than 24h".to_string())
        );
        assert!(parse("99999999999999999999h").is_err());
    }

    proptest! {
        // PROPTEST_CASES sets the number of cases (256 by default; the long run: 100000).
        #[test]
        fn any_text_parses_or_errors(s in "\\PC*") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn duration_like_text_parses_or_errors(s in "[+-]?([0-9]{0,25}(\\.[0-9]{0,25})?(ns|us|µs|ms|s|m|h|x)?){1,6}") {
            if let Ok(d) = parse_duration(&s) {
                prop_assert!(d <= MAX_DURATION);
            }
        }

        #[test]
        fn whole_seconds_round_trip(secs in 0u64..=MAX_DURATION.as_secs()) {
            prop_assert_eq!(parse_duration(&format!("{secs}s")), Ok(Duration::from_secs(secs)));
        }
    }
}
