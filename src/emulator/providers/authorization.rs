//! Microsoft.Authorization resource management private links (in a resource group) and private
//! link associations (at a management group, where Azure RBAC decides who may write them).

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::shared::Shared;
use super::super::state::{self, Map};
use super::call::{Call, Reply, View};
use super::connections::render_with_connections;
use super::rules::{invalid_linked_id, referenced, tracked_location};
use super::targets::RESOURCE_MANAGEMENT_LINKS;

pub const ASSOCIATIONS: &str = "microsoft.authorization/privatelinkassociations";
const ASSOCIATIONS_TYPE: &str = "Microsoft.Authorization/privateLinkAssociations";

/// Built-in role definitions (their ids are the same in every tenant).
pub const ROLES: &[(&str, &str)] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
];

/// PUT of a resource management private link: 200/201, not long-running; only `location`.
pub fn put_link(call: &Call) -> Result<Reply, ApiError> {
    let mut put = call.put()?;
    let location = tracked_location(put.body, put.existing.as_deref(), call.rid.name())?;
    let v = Arc::new(json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Authorization/resourceManagementPrivateLinks",
        "location": location,
        "properties": {},
    }));
    let status = if put.existing.is_some() { 200 } else { 201 };
    put.map.insert(put.key.clone(), v.clone());
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(status, render_with_connections(&put.map, &v, &view)).into())
}

pub fn management_group_id(group: &str) -> String {
    format!("/providers/Microsoft.Management/managementGroups/{group}")
}

/// A management group as the fixtures seed it.
pub fn management_group_value(
    name: &str,
    display: &str,
    parent: Option<&str>,
    tenant: &str,
) -> Value {
    json!({
        "id": management_group_id(name),
        "name": name,
        "type": "Microsoft.Management/managementGroups",
        "properties": {
            "displayName": display,
            "tenantId": tenant,
            "details": {"parent": parent.map(|p| json!({"id": management_group_id(p), "name": p}))},
        },
    })
}

/// A role assignment of a built-in role to a principal (its client id, the caller identity
/// the emulator knows) at `scope`.
pub fn role_assignment_value(scope: &str, principal: &str, role: &str) -> Option<Value> {
    let (role, definition) = ROLES.iter().find(|(r, _)| r.eq_ignore_ascii_case(role))?;
    let name = format!("{principal}-{role}").to_ascii_lowercase();
    Some(json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "principalId": principal,
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{definition}"),
            "roleDefinitionName": role,
            "scope": scope,
        },
    }))
}

/// A request for a resource at a management group.
pub struct GroupCall {
    pub method: Method,
    pub group: String,
    pub type_key: String,
    pub name: Option<String>,
    pub body: Option<Value>,
    pub caller: String,
}

pub fn management_group_type(type_key: &str) -> Option<&'static str> {
    type_key
        .eq_ignore_ascii_case(ASSOCIATIONS)
        .then_some(ASSOCIATIONS_TYPE)
}

/// Whether `caller` holds one of `roles` at the management group or one above it.
fn holds_role(map: &Map, group: &str, caller: &str, roles: &[&str]) -> bool {
    let mut at = Some(group.to_string());
    let mut seen = 0;
    while let Some(g) = at.take().filter(|_| seen < 16) {
        seen += 1;
        let key = ids::key(&management_group_id(&g));
        let Some(mg) = map.get(&key) else {
            return false;
        };
        let granted = state::children(
            map,
            &format!("{key}/providers/microsoft.authorization"),
            "roleassignments",
        )
        .any(|(_, a)| {
            let p = &a["properties"];
            p["principalId"]
                .as_str()
                .is_some_and(|pr| pr.eq_ignore_ascii_case(caller))
                && p["roleDefinitionName"]
                    .as_str()
                    .is_some_and(|r| roles.iter().any(|x| x.eq_ignore_ascii_case(r)))
        });
        if granted {
            return true;
        }
        at = mg["properties"]["details"]["parent"]["name"]
            .as_str()
            .map(str::to_string);
    }
    false
}

/// ARM's answer when RBAC denies an action (also for a management group that does not exist:
/// "or the scope is invalid").
fn authorization_failed(caller: &str, action: &str, scope: &str) -> ApiError {
    ApiError::new(
        403,
        "AuthorizationFailed",
        format!(
            "The client '{caller}' with object id '{caller}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        ),
    )
}

/// Serves `…/managementGroups/{group}/providers/Microsoft.Authorization/privateLinkAssociations`:
/// writes need Owner or Contributor at the group (or above), reads any of the built-in roles
/// (learn "Create a resource management private link": Owner or Contributor at the root
/// management group).
pub fn dispatch_management_group(
    shared: &Shared,
    call: &GroupCall,
) -> Result<ArmResponse, ApiError> {
    if management_group_type(&call.type_key).is_none() {
        let (ns, ty) = call
            .type_key
            .split_once('/')
            .unwrap_or((&call.type_key, ""));
        return Err(ApiError::new(
            404,
            "InvalidResourceType",
            format!("The resource type '{ty}' could not be found in the namespace '{ns}'."),
        ));
    }
    let group_id = management_group_id(&call.group);
    let collection = format!("{group_id}/providers/{ASSOCIATIONS_TYPE}");
    let scope = match &call.name {
        Some(n) => format!("{collection}/{n}"),
        None => collection.clone(),
    };
    let (action, roles): (&str, &[&str]) = match call.method {
        Method::GET => ("read", &["Owner", "Contributor", "Reader"]),
        Method::PUT => ("write", &["Owner", "Contributor"]),
        Method::DELETE => ("delete", &["Owner", "Contributor"]),
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                format!("The requested method '{}' is not allowed.", call.method),
            ));
        }
    };
    let mut map = shared.store.write();
    if !holds_role(&map, &call.group, &call.caller, roles) {
        return Err(authorization_failed(
            &call.caller,
            &format!("{ASSOCIATIONS_TYPE}/{action}"),
            &scope,
        ));
    }
    let Some(name) = &call.name else {
        let parent = ids::key(&format!("{group_id}/providers/Microsoft.Authorization"));
        let items: Vec<Value> = state::children(&map, &parent, "privatelinkassociations")
            .map(|(_, v)| Value::clone(v))
            .collect();
        return match call.method {
            Method::GET => Ok(ArmResponse::json(200, json!({"value": items}))),
            _ => Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "Only GET is served for the collection.",
            )),
        };
    };
    let key = ids::key(&scope);
    match call.method {
        Method::GET => map
            .get(&key)
            .map(|v| ArmResponse::json(200, Value::clone(v)))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "ResourceNotFound",
                    format!("The private link association '{name}' was not found at '{group_id}'."),
                )
            }),
        Method::DELETE => Ok(ArmResponse::empty(if map.remove(&key).is_some() {
            200
        } else {
            204
        })),
        _ => {
            let v = association_value(&map, call, name, &scope, &group_id)?;
            let status = if map.contains_key(&key) { 200 } else { 201 };
            map.insert(key, Arc::new(v.clone()));
            Ok(ArmResponse::json(status, v))
        }
    }
}

/// A private link association as PUT writes it: a GUID name, an existing resource management
/// private link, and public network access that cannot be disabled (learn "Create a resource
/// management private link"; the codes of these refusals are chosen).
fn association_value(
    map: &Map,
    call: &GroupCall,
    name: &str,
    id: &str,
    group_id: &str,
) -> Result<Value, ApiError> {
    if uuid::Uuid::parse_str(name).is_err() {
        return Err(ApiError::bad_request(
            "BadRequest",
            format!("The private link association name '{name}' must be a GUID."),
        ));
    }
    let props = call
        .body
        .as_ref()
        .and_then(|b| b.get("properties"))
        .cloned()
        .unwrap_or(Value::Null);
    let link = props["privateLink"].as_str().unwrap_or_default();
    let rid = ResourceId::parse(link)
        .filter(|r| r.is_type(RESOURCE_MANAGEMENT_LINKS))
        .ok_or_else(|| invalid_linked_id(link, "properties.privateLink"))?;
    let stored = referenced(map, &rid, id)?;
    let access = match props["publicNetworkAccess"].as_str() {
        None => "Enabled",
        Some(a) if a.eq_ignore_ascii_case("Enabled") => "Enabled",
        Some(a) if a.eq_ignore_ascii_case("Disabled") => {
            return Err(ApiError::bad_request(
                "BadRequest",
                "The publicNetworkAccess of a private link association cannot be 'Disabled': the association gives a private path to Azure Resource Manager but does not block public access.",
            ));
        }
        Some(a) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                format!(
                    "The value '{a}' of 'properties.publicNetworkAccess' is not valid. Allowed values are: Enabled, Disabled."
                ),
            ));
        }
    };
    let tenant = map
        .get(&ids::key(group_id))
        .and_then(|g| g["properties"]["tenantId"].as_str().map(str::to_string))
        .unwrap_or_default();
    Ok(json!({
        "id": id,
        "name": name,
        "type": ASSOCIATIONS_TYPE,
        "properties": {
            "privateLink": stored["id"],
            "publicNetworkAccess": access,
            "tenantID": tenant,
            "scope": group_id,
        },
    }))
}
