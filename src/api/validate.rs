//! Validates an object the way the API server would: the CRD's OpenAPI schema (types, required
//! fields, unknown fields, enums, patterns, lengths, list and map bounds), then its CEL rules.
//! The offline commands use this so bad manifests fail before anything reaches Azure.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use crate::azure::names::{explain, portable};

/// One rejected field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `spec.azure.resourceGroup`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks `object` against `schema` (an openAPIV3Schema) and its CEL rules; `old` enables
/// transition rules such as immutability.
pub fn validate(schema: &Value, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check(schema, object, "", &mut errors);
    if errors.is_empty()
        && let Err(cel) = kube::core::cel::Validator::new().validate(schema, object, old)
    {
        errors.extend(cel.into_vec().into_iter().map(|e| FieldError {
            field: e.field_path.clone(),
            message: e.message.clone(),
        }));
    }
    errors
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn err(errors: &mut Vec<FieldError>, path: &str, message: String) {
    let field = if path.is_empty() { "<root>" } else { path };
    errors.push(FieldError {
        field: field.to_string(),
        message,
    });
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true) {
            err(errors, path, "must not be null".into());
        }
        return;
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !type_matches(ty, value)
    {
        err(errors, path, format!("must be of type {ty}"));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let names: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
        err(
            errors,
            path,
            format!(
                "unsupported value {value}: must be one of {}",
                names.join(", ")
            ),
        );
    }
    match value {
        Value::Number(n) => check_number(schema, n, path, errors),
        Value::String(s) => check_string(schema, s, path, errors),
        Value::Array(items) => check_array(schema, items, path, errors),
        Value::Object(map) => check_object(schema, map, path, errors),
        _ => {}
    }
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => true,
    }
}

fn check_number(schema: &Value, n: &serde_json::Number, path: &str, errors: &mut Vec<FieldError>) {
    let Some(v) = n.as_f64() else { return };
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && v > max
    {
        err(errors, path, format!("must be less than or equal to {max}"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && v < min
    {
        err(
            errors,
            path,
            format!("must be greater than or equal to {min}"),
        );
    }
}

fn check_string(schema: &Value, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        err(
            errors,
            path,
            format!("may not be longer than {max} characters"),
        );
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        err(errors, path, format!("must be at least {min} characters"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match compiled(pattern) {
            Ok(re) if !re.is_match(s) => err(
                errors,
                path,
                match explain(pattern) {
                    Some(rule) => format!("{s:?} is not {rule}"),
                    None => format!("{s:?} does not match pattern {pattern}"),
                },
            ),
            Ok(_) => {}
            Err(e) => err(
                errors,
                path,
                format!("schema pattern {pattern} is invalid: {e}"),
            ),
        }
    }
}

/// `pattern` compiled once per process (the CRDs have a few dozen; some take a while to
/// compile). The API server runs RE2: a pattern that RE2 reads otherwise is refused, as this
/// check would disagree with it.
fn compiled(pattern: &str) -> Result<Regex, String> {
    static CACHE: LazyLock<Mutex<HashMap<String, Result<Regex, String>>>> =
        LazyLock::new(Mutex::default);
    // A panicking holder only ever leaves whole entries behind.
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| {
            portable(pattern).and_then(|()| Regex::new(pattern).map_err(|e| e.to_string()))
        })
        .clone()
}

fn check_array(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && items.len() as u64 > max
    {
        err(errors, path, format!("must have at most {max} items"));
    }
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
        let mut seen = HashSet::new();
        for item in items {
            if !seen.insert(item.to_string()) {
                err(errors, path, format!("duplicate entry {item}"));
            }
        }
    }
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
        let keys: Vec<&str> = schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let key: Vec<String> = keys.iter().map(|k| item[*k].to_string()).collect();
            if !seen.insert(key.clone()) {
                err(
                    errors,
                    &format!("{path}[{i}]"),
                    format!("duplicate entry with {}", describe_key(&keys, &key)),
                );
            }
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), errors);
        }
    }
}

/// `type="SQL"` for the map keys of a list entry.
fn describe_key(keys: &[&str], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_object(
    schema: &Value,
    map: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        err(errors, path, format!("must have at most {max} entries"));
    }
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = name.as_str()
            && !map.contains_key(name)
        {
            err(
                errors,
                &join(path, name),
                "required field is missing".into(),
            );
        }
    }
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (key, value) in map {
        let field = join(path, key);
        // metadata is validated by the API server's own rules, not the CRD schema.
        if path.is_empty() && (key == "metadata" || key == "apiVersion" || key == "kind") {
            continue;
        }
        match (properties.and_then(|p| p.get(key)), additional) {
            (Some(sub), _) => check(sub, value, &field, errors),
            (None, Some(sub)) => check(sub, value, &field, errors),
            (None, None) if !preserve => err(errors, &field, "unknown field".into()),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_type_enum_pattern_and_unknown_fields_with_their_paths() {
        let schema = json!({
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "string", "pattern": "^x+$", "maxLength": 3},
                "b": {"type": "string", "enum": ["On", "Off"]},
                "c": {"type": "array", "maxItems": 1, "items": {"type": "integer"}}
            }
        });
        let errors = validate(
            &schema,
            &json!({"a": "xxxx", "b": "Maybe", "c": [1, "2"], "d": 1}),
            None,
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["a", "b", "c", "c[1]", "d"], "{errors:?}");
        let missing = validate(&schema, &json!({}), None);
        assert_eq!(missing[0].field, "a");
        assert!(missing[0].message.contains("required"));
        assert!(validate(&schema, &json!({"a": "xx", "b": "On", "c": [1]}), None).is_empty());
    }

    #[test]
    fn map_lists_refuse_two_entries_with_the_same_key() {
        let schema = json!({
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "v": {"type": "string"}}}
        });
        let errors = validate(
            &schema,
            &json!([{"type": "SQL", "v": "a"}, {"type": "X"}, {"type": "SQL", "v": "b"}]),
            None,
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "[2]");
        assert!(errors[0].message.contains(r#"type="SQL""#), "{errors:?}");
        assert!(validate(&schema, &json!([{"type": "SQL"}, {"type": "X"}]), None).is_empty());
    }

    #[test]
    fn reports_numbers_out_of_range() {
        let schema = json!({
            "type": "object",
            "properties": {"p": {"type": "integer", "minimum": 100, "maximum": 4096}}
        });
        for (p, ok) in [(99, false), (100, true), (4096, true), (4097, false)] {
            let errors = validate(&schema, &json!({ "p": p }), None);
            assert_eq!(errors.is_empty(), ok, "{p}: {errors:?}");
        }
        let low = validate(&schema, &json!({"p": 5}), None);
        assert_eq!(low[0].field, "p");
        assert!(low[0].message.contains("greater than or equal to 100"));
    }
}
