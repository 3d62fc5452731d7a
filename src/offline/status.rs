//! An object's status for people: the conditions as a table, then the observed fields (ids,
//! private IPs, DNS records, machine summary...) as YAML. Times are left out: they say when the
//! command ran, not what Azure holds.

use std::fmt::Write as _;

use serde_json::Value;

/// Fields of every kind's status that are bookkeeping rather than Azure's state.
const HIDDEN: [&str; 5] = [
    "conditions",
    "lastSyncTime",
    "observedGeneration",
    "operation",
    "operations",
];

pub fn render(status: &Value, indent: &str) -> String {
    let mut out = String::new();
    let Some(map) = status.as_object() else {
        return out;
    };
    let conditions = map
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in &conditions {
        let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}{:<12} {:<6} {:<18} {}",
            field("type"),
            field("status"),
            field("reason"),
            field("message")
        );
    }
    let rest: serde_json::Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !HIDDEN.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if rest.is_empty() {
        return out;
    }
    // Long ids stay on one line (copy-paste into `az`), not folded into block scalars.
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    match serde_saphyr::to_string_with_options(&Value::Object(rest), options) {
        Ok(yaml) => {
            for line in yaml.lines() {
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "{indent}(status cannot be shown: {e})");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shows_conditions_and_fields_without_times() {
        let text = render(
            &json!({
                "resourceId": "/subscriptions/s/x",
                "lastSyncTime": "2026-01-01T00:00:00Z",
                "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                                "message": "ok", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
            }),
            "  ",
        );
        assert!(
            text.contains("Ready        True   Succeeded          ok"),
            "{text}"
        );
        assert!(text.contains("  resourceId: /subscriptions/s/x"), "{text}");
        assert!(!text.contains("2026"), "{text}");
    }
}
