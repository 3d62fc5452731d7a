//! The connections of private endpoints: as a request sends them, what may not change, the
//! target each points at and the group it connects to, and the connections as stored (with
//! their target-side twins).

use serde_json::{Map as JsonMap, Value, json};

use super::super::http::ApiError;
use super::super::ids::ResourceId;
use super::super::state::Map;
use super::connections::add_connection;
use super::rules::{invalid_linked_id, referenced};
use super::targets::{Group, Target, target_of};

pub const AUTO: &str = "privateLinkServiceConnections";
pub const MANUAL: &str = "manualPrivateLinkServiceConnections";
/// Azure's limit on a connection's `requestMessage` (reference/arm-behaviours.md 7).
const MAX_REQUEST_MESSAGE: usize = 140;

pub struct ConnIn {
    pub list: &'static str,
    pub name: String,
    pub target: String,
    group_ids: Value,
    request_message: String,
    /// `privateLinkServiceConnectionState` as sent, if it was.
    state: Option<Value>,
}

/// A connection to a target the emulator models, with the group it connects to.
pub struct Planned {
    pub target: &'static Target,
    /// As stored (ids keep the casing they were created with).
    pub target_id: String,
    pub group: Group,
}

/// The target and group of each connection that points at a modelled target (`None` for
/// other private link services), refusing what Network refuses for first-party targets: no
/// group id (azure-cli#15136), several (`OnlyOneGroupIdPermitted`,
/// DFE-Digital/terraform-azurerm-container-apps-hosting#352) or one the target does not have
/// (azure-cli#16750, reported for Storage).
pub fn plan(map: &Map, conns: &[ConnIn], pe_id: &str) -> Result<Vec<Option<Planned>>, ApiError> {
    let mut out = Vec::with_capacity(conns.len());
    for c in conns {
        let Some((target, rid)) = target_of(&c.target) else {
            out.push(None);
            continue;
        };
        let value = referenced(map, &rid, pe_id)?;
        let target_id = value["id"].as_str().unwrap_or(&c.target).to_string();
        let conn_id = format!("{pe_id}/{}/{}", c.list, c.name);
        let groups: Vec<&str> = c
            .group_ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let asked = match groups.as_slice() {
            [] => {
                return Err(ApiError::bad_request(
                    "MissingParameterOnPrivateLinkServiceConnection",
                    format!(
                        "Private link service connection {conn_id} is missing required parameter 'group Id'."
                    ),
                ));
            }
            [one] => *one,
            many => {
                return Err(ApiError::bad_request(
                    "OnlyOneGroupIdPermitted",
                    format!(
                        "Private link service connection {conn_id} has the following group Ids: {}. Only one group Id is permitted when connecting to a first-party resource ({target_id}).",
                        many.join(", ")
                    ),
                ));
            }
        };
        let group = target.group(map, value, asked).ok_or_else(|| {
            ApiError::bad_request(
                "InvalidValuesForRequestParameters",
                format!(
                    "Call to {} failed. Error message: Values for request parameters are invalid: GroupId: {asked}.",
                    target.type_name
                ),
            )
        })?;
        out.push(Some(Planned {
            target,
            target_id,
            group,
        }));
    }
    Ok(out)
}

pub fn connections_in(
    props: &JsonMap<String, Value>,
    pe_name: &str,
) -> Result<Vec<ConnIn>, ApiError> {
    let mut out = Vec::new();
    for list in [AUTO, MANUAL] {
        let Some(items) = props.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let path = format!("properties.{list}[{i}].properties.privateLinkServiceId");
            let target = c["properties"]["privateLinkServiceId"]
                .as_str()
                .unwrap_or_default();
            if ResourceId::parse(target).is_none() {
                return Err(invalid_linked_id(target, &path));
            }
            let request_message = c["properties"]["requestMessage"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if request_message.chars().count() > MAX_REQUEST_MESSAGE {
                return Err(ApiError::bad_request(
                    "BadRequest",
                    format!(
                        "The request message of properties.{list}[{i}] is {} characters long; the maximum is {MAX_REQUEST_MESSAGE}.",
                        request_message.chars().count()
                    ),
                ));
            }
            out.push(ConnIn {
                list,
                name: c["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| pe_name.to_string()),
                target: target.to_string(),
                group_ids: c["properties"]["groupIds"].clone(),
                request_message,
                state: c["properties"]
                    .get("privateLinkServiceConnectionState")
                    .filter(|s| !s.is_null())
                    .cloned(),
            });
        }
    }
    Ok(out)
}

/// The endpoint's automatic and manual connections as stored: a connection keeps the state
/// it had; a new one is approved (automatic) or pending (manual) and, to a modelled target,
/// gets its target-side connection.
pub fn connections_out(
    map: &mut Map,
    existing: Option<&Value>,
    pe_name: &str,
    pe_id: &str,
    conns: &[ConnIn],
    plans: &[Option<Planned>],
) -> (Vec<Value>, Vec<Value>) {
    let mut auto = Vec::new();
    let mut manual = Vec::new();
    for (c, planned) in conns.iter().zip(plans) {
        let previous = existing.and_then(|e| {
            e["properties"][c.list].as_array().and_then(|l| {
                l.iter()
                    .find(|p| {
                        p["properties"]["privateLinkServiceId"]
                            .as_str()
                            .is_some_and(|t| t.eq_ignore_ascii_case(&c.target))
                    })
                    .cloned()
            })
        });
        let state = match &previous {
            Some(p) => p["properties"]["privateLinkServiceConnectionState"].clone(),
            None if c.list == AUTO => {
                json!({"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"})
            }
            None => {
                json!({"status": "Pending", "description": c.request_message, "actionsRequired": "None"})
            }
        };
        if previous.is_none()
            && let Some(p) = planned
        {
            let conn_name = format!("{pe_name}.{}", uuid::Uuid::new_v4());
            add_connection(
                map,
                p.target,
                &p.target_id,
                pe_id,
                &conn_name,
                &state,
                p.group.id,
            );
        }
        let v = json!({
            "id": format!("{pe_id}/{}/{}", c.list, c.name),
            "name": c.name,
            "type": format!("Microsoft.Network/privateEndpoints/{}", c.list),
            "properties": {
                "provisioningState": "Succeeded",
                "privateLinkServiceId": c.target,
                "groupIds": c.group_ids,
                "requestMessage": c.request_message,
                "privateLinkServiceConnectionState": state,
            },
        });
        if c.list == AUTO {
            auto.push(v)
        } else {
            manual.push(v)
        }
    }
    (auto, manual)
}

/// Behaviour 1: an existing connection cannot change — not its name, target, group ids,
/// manual-vs-automatic list, nor its approval state (a request that sends no state is taken
/// as asking for the state a new connection would get).
pub fn connections_unchanged(
    existing: &Value,
    incoming: &[ConnIn],
    pe_id: &str,
) -> Result<(), ApiError> {
    let current: Vec<(&str, &Value)> = [AUTO, MANUAL]
        .into_iter()
        .flat_map(|list| {
            existing["properties"][list]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
        .collect();
    let refuse = |conn_id: &str| {
        ApiError::bad_request(
            "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
            format!(
                "Cannot change the private link connection on private endpoint {pe_id}. Please ensure you are not updating the details of existing private link connection: '{conn_id}'. That is not allowed."
            ),
        )
    };
    let first_id = current
        .first()
        .and_then(|(_, c)| c["id"].as_str())
        .unwrap_or(pe_id);
    if current.len() != incoming.len() {
        return Err(refuse(first_id));
    }
    for (list, cur) in current {
        let cur_id = cur["id"].as_str().unwrap_or(pe_id);
        let name = cur["name"].as_str().unwrap_or_default();
        let Some(new) = incoming.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
            return Err(refuse(cur_id));
        };
        let p = &cur["properties"];
        let same_target = p["privateLinkServiceId"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(&new.target));
        let groups = |v: &Value| {
            let mut g: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                .collect();
            g.sort();
            g
        };
        let state = &p["privateLinkServiceConnectionState"];
        let same_state = match &new.state {
            Some(sent) => ["status", "description", "actionsRequired"]
                .iter()
                .all(|f| match (sent.get(*f), state.get(*f)) {
                    (None | Some(Value::Null), _) => true,
                    (Some(a), Some(b)) if *f == "status" => a
                        .as_str()
                        .zip(b.as_str())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b)),
                    (Some(a), b) => Some(a) == b,
                }),
            None => {
                let fresh = if list == AUTO { "Approved" } else { "Pending" };
                state["status"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(fresh))
            }
        };
        if new.list != list
            || !same_target
            || groups(&p["groupIds"]) != groups(&new.group_ids)
            || !same_state
        {
            return Err(refuse(cur_id));
        }
    }
    Ok(())
}
