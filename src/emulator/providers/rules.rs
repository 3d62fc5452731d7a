//! The rules every provider applies the way ARM does: subscription and resource group checks,
//! `systemData`, locations, tags, read-only properties, linked ids and provisioning states.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map as JsonMap, Value, json};

use super::super::http::ApiError;
use super::super::ids::{self, ResourceId};
use super::super::state::Map;

pub fn require_subscription(map: &Map, sub: &str) -> Result<(), ApiError> {
    if map.contains_key(&ids::key(&ids::subscription_id(sub))) {
        return Ok(());
    }
    Err(ApiError::new(
        404,
        "SubscriptionNotFound",
        format!("The subscription '{sub}' could not be found."),
    ))
}

pub fn require_resource_group(map: &Map, sub: &str, rg: &str) -> Result<(), ApiError> {
    require_subscription(map, sub)?;
    if !map.contains_key(&ids::key(&ids::resource_group_id(sub, rg))) {
        return Err(ApiError::new(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        ));
    }
    Ok(())
}

pub fn now() -> String {
    Timestamp::now().to_string()
}

/// `systemData` as ARM maintains it: creation fields kept from `existing`.
pub fn system_data(existing: Option<&Value>, caller: &str) -> Value {
    let now = now();
    let created = existing.and_then(|e| e.get("systemData"));
    json!({
        "createdBy": created.and_then(|c| c.get("createdBy")).cloned().unwrap_or(json!(caller)),
        "createdByType": "Application",
        "createdAt": created.and_then(|c| c.get("createdAt")).cloned().unwrap_or(json!(now)),
        "lastModifiedBy": caller,
        "lastModifiedByType": "Application",
        "lastModifiedAt": now,
    })
}

/// Location of a tracked resource on PUT: required, and immutable once the resource exists.
pub fn tracked_location(
    body: &JsonMap<String, Value>,
    existing: Option<&Value>,
    name: &str,
) -> Result<String, ApiError> {
    let Some(loc) = body
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.trim().is_empty())
    else {
        return Err(ApiError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let loc = ids::normalize_location(loc);
    check_location_unchanged(existing, &loc, name)?;
    Ok(loc)
}

pub fn check_location_unchanged(
    existing: Option<&Value>,
    loc: &str,
    name: &str,
) -> Result<(), ApiError> {
    if let Some(old) = existing.and_then(|e| e["location"].as_str())
        && ids::normalize_location(old) != ids::normalize_location(loc)
    {
        return Err(ApiError::bad_request(
            "InvalidResourceLocation",
            format!(
                "The resource '{name}' already exists in location '{old}'. A resource with the same name cannot be created in location '{loc}'. Please select a new resource name."
            ),
        ));
    }
    Ok(())
}

/// Azure's tag limits (reference/arm-behaviours.md 13).
const MAX_TAGS: usize = 50;
const MAX_TAG_NAME: usize = 512;
const MAX_TAG_VALUE: usize = 256;

/// `tags` from a request body: an object of at most 50 strings, names of at most 512
/// characters without `<>%&\?/` or control characters, values of at most 256.
pub fn tags(body: &JsonMap<String, Value>) -> Result<Option<Value>, ApiError> {
    let tags = match body.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) if o.values().all(Value::is_string) => o,
        Some(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'tags' must be an object of strings.",
            ));
        }
    };
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(
            "InvalidTagCount",
            format!(
                "The resource has {} tags; the maximum is {MAX_TAGS}.",
                tags.len()
            ),
        ));
    }
    for (name, value) in tags {
        if name
            .chars()
            .any(|c| "<>%&\\?/".contains(c) || c.is_control())
        {
            return Err(ApiError::bad_request(
                "InvalidTagNameCharacters",
                format!(
                    "The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or control characters."
                ),
            ));
        }
        if name.is_empty() || name.chars().count() > MAX_TAG_NAME {
            return Err(ApiError::bad_request(
                "InvalidTagNameLength",
                format!("Tag name must be 1 to {MAX_TAG_NAME} characters long."),
            ));
        }
        if value.as_str().unwrap_or_default().chars().count() > MAX_TAG_VALUE {
            return Err(ApiError::bad_request(
                "InvalidTagValueLength",
                format!(
                    "Tag value too long for tag '{name}'. The maximum length for a tag value is {MAX_TAG_VALUE} characters."
                ),
            ));
        }
    }
    Ok(Some(Value::Object(tags.clone())))
}

/// The writable properties of a request body: `properties` minus the read-only fields.
pub fn writable_properties(
    body: &JsonMap<String, Value>,
    read_only: &[&str],
) -> Result<JsonMap<String, Value>, ApiError> {
    match body.get("properties") {
        None | Some(Value::Null) => Ok(JsonMap::new()),
        Some(Value::Object(p)) => Ok(p
            .iter()
            .filter(|(k, _)| !read_only.iter().any(|r| r.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()),
        Some(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'properties' must be an object.",
        )),
    }
}

/// A resource id in a request body: well-formed and of the expected type, else
/// `LinkedInvalidPropertyId` as ARM answers.
pub fn linked_id(value: &Value, path: &str, type_key: &str) -> Result<ResourceId, ApiError> {
    let s = value.as_str().unwrap_or_default();
    ResourceId::parse(s)
        .filter(|r| r.is_type(type_key))
        .ok_or_else(|| invalid_linked_id(s, path))
}

pub fn invalid_linked_id(s: &str, path: &str) -> ApiError {
    ApiError::bad_request(
        "LinkedInvalidPropertyId",
        format!(
            "Property id '{s}' at path '{path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
        ),
    )
}

/// A referenced resource that must exist (Network answers `InvalidResourceReference`).
pub fn referenced<'m>(map: &'m Map, id: &ResourceId, by: &str) -> Result<&'m Arc<Value>, ApiError> {
    map.get(&ids::key(&id.to_id())).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidResourceReference",
            format!("Resource {} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", id.to_id()),
        )
    })
}

pub fn provisioning_state(v: &Value) -> &str {
    v["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
}

/// ARM refuses writes to a resource that is being deleted or is mid-update.
pub fn require_idle(existing: Option<&Arc<Value>>) -> Result<(), ApiError> {
    match existing.map(|v| provisioning_state(v)) {
        Some(s @ ("Deleting" | "Updating" | "Creating")) => Err(ApiError::new(
            409,
            "AnotherOperationInProgress",
            format!(
                "Another operation on this or a dependent resource is in progress (provisioningState '{s}'). Retry the request later."
            ),
        )),
        _ => Ok(()),
    }
}

pub fn set_provisioning_state(map: &mut Map, key: &str, state: &str) {
    if let Some(v) = map.get_mut(key) {
        let v = Arc::make_mut(v);
        if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("provisioningState".into(), json!(state));
        }
    }
}

pub fn new_etag() -> String {
    format!("W/\"{}\"", uuid::Uuid::new_v4())
}

/// The stored id of an existing resource, else `fresh`: ids keep the casing they were created
/// with.
pub fn stored_id(existing: Option<&Arc<Value>>, fresh: impl FnOnce() -> String) -> String {
    existing
        .and_then(|e| e["id"].as_str().map(str::to_string))
        .unwrap_or_else(fresh)
}
