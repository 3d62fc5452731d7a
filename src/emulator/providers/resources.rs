//! Microsoft.Resources: subscriptions, tenants and resource groups.

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::super::shared::Shared;
use super::super::state;
use super::rules::{require_resource_group, require_subscription, tags, tracked_location};

pub fn get_subscription(shared: &Shared, sub: &str) -> Result<ArmResponse, ApiError> {
    shared
        .store
        .get(&ids::key(&ids::subscription_id(sub)))
        .map(|v| ArmResponse::json(200, render_subscription(&v)))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "SubscriptionNotFound",
                format!("The subscription '{sub}' could not be found."),
            )
        })
}

/// A subscription as GET returns it; state files of earlier versions lack the fields the
/// GetSubscriptions example shows since.
fn render_subscription(v: &Value) -> Value {
    let mut out = v.clone();
    if let Some(o) = out.as_object_mut() {
        o.entry("managedByTenants").or_insert(json!([]));
        o.entry("tags").or_insert(json!({}));
    }
    out
}

/// The stored subscriptions, in id order.
fn subscriptions(shared: &Shared) -> Vec<Value> {
    let map = shared.store.read();
    state::range_after(&map, "/subscriptions/", None)
        .filter(|(k, _)| !k["/subscriptions/".len()..].contains('/'))
        .map(|(_, v)| render_subscription(v))
        .collect()
}

/// `GET /subscriptions`: every subscription (the emulator has no role assignments to filter by).
pub fn list_subscriptions(shared: &Shared) -> Result<ArmResponse, ApiError> {
    Ok(ArmResponse::json(
        200,
        json!({ "value": subscriptions(shared) }),
    ))
}

/// `GET /tenants`: the tenants of the subscriptions and of the principals, in the shape of the
/// GetTenants example.
pub fn list_tenants(shared: &Shared) -> Result<ArmResponse, ApiError> {
    let mut tenants: Vec<String> = subscriptions(shared)
        .iter()
        .filter_map(|s| s["tenantId"].as_str().map(str::to_string))
        .chain(shared.principals.read().iter().map(|p| p.tenant_id.clone()))
        .collect();
    tenants.sort_by_key(|t| t.to_ascii_lowercase());
    tenants.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let value: Vec<Value> = tenants
        .iter()
        .map(|t| {
            json!({
                "id": format!("/tenants/{t}"),
                "tenantId": t,
                "tenantCategory": "Home",
                "tenantType": "AAD",
                "countryCode": "US",
                "displayName": format!("Emulated tenant {t}"),
                "domains": ["arclink-emulator.example"],
                "defaultDomain": "arclink-emulator.example",
            })
        })
        .collect();
    Ok(ArmResponse::json(200, json!({ "value": value })))
}

pub fn get_resource_group(shared: &Shared, sub: &str, rg: &str) -> Result<ArmResponse, ApiError> {
    let map = shared.store.read();
    require_resource_group(&map, sub, rg)?;
    let v = map
        .get(&ids::key(&ids::resource_group_id(sub, rg)))
        .map(|v| Value::clone(v))
        .unwrap_or(Value::Null);
    Ok(ArmResponse::json(200, v))
}

pub fn list_resource_groups(shared: &Shared, sub: &str) -> Result<ArmResponse, ApiError> {
    let map = shared.store.read();
    require_subscription(&map, sub)?;
    let sub_key = ids::key(&ids::subscription_id(sub));
    let groups: Vec<Value> = state::children(&map, &sub_key, "resourcegroups")
        .map(|(_, v)| Value::clone(v))
        .collect();
    Ok(ArmResponse::json(200, json!({ "value": groups })))
}

/// `PUT /subscriptions/{s}/resourceGroups/{rg}`: creates or updates the group's tags.
pub fn put_resource_group(
    shared: &Shared,
    sub: &str,
    rg: &str,
    body: Option<&Value>,
) -> Result<ArmResponse, ApiError> {
    let body = body.and_then(Value::as_object).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        )
    })?;
    let mut map = shared.store.write();
    require_subscription(&map, sub)?;
    let key = ids::key(&ids::resource_group_id(sub, rg));
    let existing = map.get(&key).cloned();
    let loc = tracked_location(body, existing.as_deref(), rg)?;
    let tags = tags(body)?;
    let v = resource_group_value(
        existing
            .as_ref()
            .and_then(|e| e["id"].as_str())
            .unwrap_or(&ids::resource_group_id(sub, rg)),
        &loc,
        tags.unwrap_or(json!({})),
    );
    map.insert(key, std::sync::Arc::new(v.clone()));
    Ok(ArmResponse::json(
        if existing.is_some() { 200 } else { 201 },
        v,
    ))
}

pub fn resource_group_value(id: &str, location: &str, tags: Value) -> Value {
    let name = id.rsplit('/').next().unwrap_or_default();
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": ids::normalize_location(location),
        "tags": tags,
        "properties": {"provisioningState": "Succeeded"},
    })
}

pub fn subscription_value(id: &str, display_name: &str, tenant: &str) -> Value {
    json!({
        "id": ids::subscription_id(id),
        "subscriptionId": id,
        "displayName": display_name,
        "tenantId": tenant,
        "state": "Enabled",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        },
    })
}
