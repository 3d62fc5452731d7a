//! Writes to network security groups and their rules, one at a time per group: Network locks
//! the whole group while a rule or the group is written, and answers another write to it
//! meanwhile 429 `RetryableError` with the detail `RetryableErrorDueToAnotherOperation`
//! ("the network resource provider returns 429 with the RetryableErrorDueToAnotherOperation
//! error code when the target resource is locked by another operation": learn.microsoft.com,
//! "Throttling Resource Manager requests"; the body as Azure/azure-sdk-for-python issue 556
//! shows it). A PUT of the group replaces its `securityRules` (the spec's
//! NetworkSecurityGroups_CreateOrUpdate).

use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::super::lro::{Effect, Poll};
use super::super::names;
use super::super::shared::Shared;
use super::super::state::{self, Map};
use super::call::{Call, Reply, View};
use super::nsg::{NSG_TYPE, attached_subnets, render_nsg, rule_value, validate_rule};
use super::routes::kind_for;
use super::rules::{
    new_etag, provisioning_state, require_idle, set_provisioning_state, tags, tracked_location,
    writable_properties,
};

const NSG_READ_ONLY: &[&str] = &[
    "provisioningState",
    "resourceGuid",
    "securityRules",
    "defaultSecurityRules",
    "networkInterfaces",
    "subnets",
    "flowLogs",
];

/// The group is locked while an operation on it or one of its rules runs.
fn unlocked(map: &Map, nsg_key: &str, shared: &Shared) -> Result<(), ApiError> {
    let Some(group) = map.get(nsg_key) else {
        return Ok(());
    };
    if provisioning_state(group) == "Succeeded" {
        return Ok(());
    }
    let running = state::children(map, nsg_key, "securityrules")
        .find_map(|(_, r)| match provisioning_state(r) {
            "Updating" => Some("PutSecurityRuleOperation"),
            "Deleting" => Some("DeleteSecurityRuleOperation"),
            _ => None,
        })
        .unwrap_or("PutNetworkSecurityGroupOperation");
    let mut e = ApiError::new(429, "RetryableError", "A retryable error occurred.").with_detail(
        "RetryableErrorDueToAnotherOperation",
        format!(
            "Operation {running} is updating resource {}. The call can be retried later.",
            group["id"].as_str().unwrap_or_default()
        ),
    );
    e.retry_after = Some(shared.settings().retry_after_secs);
    Err(e)
}

/// A security rule's name by Network's rule (1-80 characters; the route table's).
pub fn check_rule_name(name: &str) -> Result<(), ApiError> {
    names::check_resource(
        kind_for(super::nsg::SECURITY_RULES).and_then(|k| k.name_rule),
        name,
    )
}

fn parent_key(call: &Call) -> String {
    call.rid
        .parent()
        .map(|p| ids::key(&p.to_id()))
        .unwrap_or_default()
}

/// `PUT …/securityRules/{name}`: the rule and its group are `Updating` until the operation ends.
pub fn put_rule(call: &Call) -> Result<Reply, ApiError> {
    let (mut put, nsg) = call.child_put()?;
    unlocked(&put.map, &nsg.key, call.shared)?;
    let mut props = writable_properties(put.body, &["provisioningState"])?;
    let others: Vec<Arc<Value>> = state::children(&put.map, &nsg.key, "securityrules")
        .filter(|(k, _)| **k != put.key)
        .map(|(_, v)| v.clone())
        .collect();
    validate_rule(&mut props, &put.id, call.rid.name(), &others)?;
    let v = rule_value(&put.id, props, "Updating");
    set_provisioning_state(&mut put.map, &nsg.key, "Updating");
    let location = nsg.value["location"]
        .as_str()
        .unwrap_or("global")
        .to_string();
    Ok(put.provisioning(v, &location).releasing(vec![nsg.key]))
}

/// `DELETE …/securityRules/{name}`: locks the group like a PUT.
pub fn delete_rule(call: &Call) -> Result<Reply, ApiError> {
    let key = call.key();
    let nsg_key = parent_key(call);
    let location = {
        let mut map = call.shared.store.write();
        let Some(rule) = map.get(&key).cloned() else {
            return Ok(ArmResponse::empty(204).into());
        };
        require_idle(Some(&rule))?;
        unlocked(&map, &nsg_key, call.shared)?;
        set_provisioning_state(&mut map, &key, "Deleting");
        set_provisioning_state(&mut map, &nsg_key, "Updating");
        map.get(&nsg_key)
            .and_then(|g| g["location"].as_str().map(str::to_string))
            .unwrap_or_else(|| "global".into())
    };
    Ok(Reply::accepted(&location, Effect::Delete { key }).releasing(vec![nsg_key]))
}

/// The rules a group PUT sends, each validated as a rule PUT is (name, fields, priority unique
/// per direction among them); `Value`s with their ids below `nsg_id`.
fn rules_in(
    props: &JsonMap<String, Value>,
    nsg_id: &str,
    map: &Map,
) -> Result<Vec<(String, Value)>, ApiError> {
    let items = match props.get("securityRules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties.securityRules' must be an array.",
            ));
        }
    };
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut seen: Vec<Arc<Value>> = Vec::new();
    for item in items {
        let name = item["name"].as_str().unwrap_or_default();
        check_rule_name(name)?;
        if out
            .iter()
            .any(|(k, _)| k.rsplit('/').next() == Some(&name.to_ascii_lowercase()))
        {
            return Err(ApiError::bad_request(
                "DuplicateResourceName",
                format!("Resource {nsg_id} has two child resources with the same name ({name})."),
            ));
        }
        let fresh_id = format!("{nsg_id}/securityRules/{name}");
        let key = ids::key(&fresh_id);
        let id = map
            .get(&key)
            .and_then(|r| r["id"].as_str().map(str::to_string))
            .unwrap_or(fresh_id);
        let mut rule_props = match item.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => JsonMap::new(),
        };
        rule_props.remove("provisioningState");
        validate_rule(&mut rule_props, &id, name, &seen)?;
        let v = rule_value(&id, rule_props, "Updating");
        seen.push(Arc::new(v.clone()));
        out.push((key, v));
    }
    Ok(out)
}

/// `PUT …/networkSecurityGroups/{name}`: creates or replaces the group with exactly the rules
/// it sends (rules left out are deleted), answered as Network answers a PUT (201/200 with
/// `Azure-AsyncOperation`).
pub fn put_nsg(call: &Call) -> Result<Reply, ApiError> {
    {
        let map = call.shared.store.read();
        unlocked(&map, &call.key(), call.shared)?;
    }
    let mut put = call.put()?;
    let existing = put.existing.clone();
    let location = tracked_location(put.body, existing.as_deref(), call.rid.name())?;
    let mut props = writable_properties(put.body, &[])?;
    let rules = rules_in(&props, &put.id, &put.map)?;
    for read_only in NSG_READ_ONLY {
        props.remove(*read_only);
    }
    props.insert("provisioningState".into(), json!("Updating"));
    props.insert(
        "resourceGuid".into(),
        existing
            .as_ref()
            .map(|e| e["properties"]["resourceGuid"].clone())
            .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
    );
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": NSG_TYPE,
        "location": location,
        "etag": new_etag(),
        "tags": tags(put.body)?.unwrap_or(json!({})),
        "properties": props,
    });
    let stale: Vec<String> = state::children(&put.map, &put.key, "securityrules")
        .map(|(k, _)| k.clone())
        .filter(|k| !rules.iter().any(|(r, _)| r == k))
        .collect();
    for k in stale {
        state::remove_tree(&mut put.map, &k);
    }
    let rule_keys: Vec<String> = rules.iter().map(|(k, _)| k.clone()).collect();
    for (k, r) in rules {
        put.map.insert(k, Arc::new(r));
    }
    let v = Arc::new(v);
    put.map.insert(put.key.clone(), v.clone());
    let view = View::new(call.shared, &call.api_version);
    let status = if existing.is_some() { 200 } else { 201 };
    let response = ArmResponse::json(status, render_nsg(&put.map, &v, &view));
    Ok(Reply::with_operation(
        response,
        &location,
        Effect::Provision { key: put.key },
        Poll::AsyncOperation,
    )
    .releasing(rule_keys))
}

/// `PATCH …/networkSecurityGroups/{name}` (UpdateTags): only the tags change.
pub fn patch_nsg(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    update.value["etag"] = json!(new_etag());
    let v = update.store();
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(200, render_nsg(&update.map, &v, &view)).into())
}

/// `DELETE …/networkSecurityGroups/{name}`: refused while subnets use the group (Network's
/// `InUseNetworkSecurityGroupCannotBeDeleted`, as users report it), else deleted with its rules.
pub fn delete_nsg(call: &Call) -> Result<Reply, ApiError> {
    {
        let map = call.shared.store.read();
        let key = call.key();
        if map.contains_key(&key) {
            unlocked(&map, &key, call.shared)?;
            let users = attached_subnets(&map, &key);
            if !users.is_empty() {
                let ids: Vec<&str> = users.iter().filter_map(Value::as_str).collect();
                return Err(ApiError::bad_request(
                    "InUseNetworkSecurityGroupCannotBeDeleted",
                    format!(
                        "Network security group {} cannot be deleted because it is in use by the following resources: {}. In order to delete the Network security group, remove the association with the resource(s).",
                        call.rid.to_id(),
                        ids.join(", ")
                    ),
                ));
            }
        }
    }
    call.accepted_delete(super::call::WhileBusy::Refuse)
}
