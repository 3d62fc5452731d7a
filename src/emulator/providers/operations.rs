//! Long-running operations: started after a handler's reply, settled when due (applying
//! their effect on the store) and polled through `operationStatuses` / `operationResults`.

use jiff::Timestamp;
use serde_json::Value;

use super::super::faults::FaultAction;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::{Effect, OpStatus, Operation, Outcome, Poll};
use super::super::shared::Shared;
use super::super::state::{self, Map};
use super::call::{Call, NewOperation, View};
use super::routes::{cascade_for, render};
use super::rules::set_provisioning_state;

/// Starts an operation and returns the response headers that point to it.
pub fn start_operation(call: &Call, new: NewOperation) -> Vec<(&'static str, String)> {
    let NewOperation {
        location,
        effect,
        poll,
        fails,
        released,
    } = new;
    let shared = call.shared;
    let settings = shared.settings();
    let start = Timestamp::now();
    let due = start
        .checked_add(jiff::SignedDuration::try_from(settings.lro_duration).unwrap_or_default())
        .unwrap_or(start);
    let outcome = match shared
        .faults
        .for_operation(call.method.as_str(), &call.path)
    {
        Some(FaultAction::LroFailure { code, message }) => Outcome::Fail { code, message },
        Some(FaultAction::LroCanceled) => Outcome::Cancel,
        _ => match fails {
            Some((code, message)) => Outcome::Fail { code, message },
            None => Outcome::Succeed,
        },
    };
    let op = Operation {
        name: uuid::Uuid::new_v4().to_string(),
        subscription: call.rid.subscription.clone(),
        namespace: call.kind.namespace.to_string(),
        location: ids::normalize_location(&location),
        api_version: call.api_version.clone(),
        start,
        due,
        end: None,
        status: OpStatus::InProgress,
        outcome,
        effect,
        released,
    };
    let base = &shared.endpoint;
    let (name, api_version) = (op.name.clone(), op.api_version.clone());
    let status_url = format!(
        "{base}{}?api-version={}",
        op.status_path("operationStatuses"),
        op.api_version
    );
    let result_url = format!(
        "{base}{}?api-version={}",
        op.status_path("operationResults"),
        op.api_version
    );
    shared.ops.insert(op);
    shared.store.mark_dirty();
    let mut headers = vec![("retry-after", settings.retry_after_secs.to_string())];
    match poll {
        Poll::AsyncOperation => headers.push(("azure-asyncoperation", status_url)),
        Poll::Location => {
            headers.push(("location", result_url));
            headers.push(("azure-asyncoperation", status_url));
        }
        Poll::LocationAt(status_type) => headers.push((
            "location",
            format!(
                "{base}{}/providers/{}/{status_type}/{name}?api-version={api_version}",
                ids::resource_group_id(&call.rid.subscription, &call.rid.resource_group),
                call.kind.namespace,
            ),
        )),
    }
    headers
}

/// Completes every due operation, applying its effect. Operations are locked before resources,
/// and request handlers never take the operations lock while holding the resources lock.
pub fn settle(shared: &Shared) {
    if !shared.ops.has_pending() {
        return;
    }
    let now = Timestamp::now();
    let mut ops = shared.ops.ops.lock();
    let mut due: Vec<&mut Operation> = ops
        .values_mut()
        .filter(|o| o.status == OpStatus::InProgress && o.due <= now)
        .collect();
    if due.is_empty() {
        return;
    }
    due.sort_by_key(|o| o.start);
    let mut map = shared.store.write();
    for op in due {
        op.status = match op.outcome {
            Outcome::Succeed => OpStatus::Succeeded,
            Outcome::Fail { .. } => OpStatus::Failed,
            Outcome::Cancel => OpStatus::Canceled,
        };
        op.end = Some(now);
        shared
            .ops
            .pending
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        match (&op.effect, op.status) {
            (Effect::Provision { key }, OpStatus::Succeeded) => {
                set_provisioning_state(&mut map, key, "Succeeded")
            }
            (Effect::Provision { key }, OpStatus::Canceled) => {
                set_provisioning_state(&mut map, key, "Canceled")
            }
            (Effect::Provision { key }, _) => set_provisioning_state(&mut map, key, "Failed"),
            (Effect::Delete { key }, OpStatus::Succeeded) => delete_cascade(&mut map, key),
            (Effect::Delete { key }, _) => set_provisioning_state(&mut map, key, "Succeeded"),
        }
        for key in &op.released {
            set_provisioning_state(&mut map, key, "Succeeded");
        }
    }
}

/// Removes a resource with what depends on it, the way the real providers do.
pub fn delete_cascade(map: &mut Map, key: &str) {
    let Some(v) = map.get(key).cloned() else {
        return;
    };
    if let Some(cascade) = cascade_for(&type_key_of(&v)) {
        cascade(map, key, &v);
    }
    state::remove_tree(map, key);
}

/// `operationStatuses` / `operationResults` polls.
pub fn poll_operation(
    shared: &Shared,
    sub: &str,
    name: &str,
    results: bool,
) -> Result<ArmResponse, ApiError> {
    let retry = shared.settings().retry_after_secs.to_string();
    let op = shared
        .ops
        .ops
        .lock()
        .get(&name.to_ascii_lowercase())
        .filter(|o| o.subscription.eq_ignore_ascii_case(sub))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                404,
                "OperationNotFound",
                format!("The operation '{name}' could not be found."),
            )
        })?;
    if !results {
        let resp = ArmResponse::json(200, op.status_body());
        return Ok(if op.status == OpStatus::InProgress {
            resp.header("retry-after", retry)
        } else {
            resp
        });
    }
    match (op.status, &op.outcome, &op.effect) {
        (OpStatus::InProgress, _, _) => {
            let url = format!(
                "{}{}?api-version={}",
                shared.endpoint,
                op.status_path("operationResults"),
                op.api_version
            );
            Ok(ArmResponse::empty(202)
                .header("location", url)
                .header("retry-after", retry))
        }
        (OpStatus::Succeeded, _, Effect::Delete { .. }) => Ok(ArmResponse::empty(204)),
        (OpStatus::Succeeded, _, Effect::Provision { key }) => {
            let map = shared.store.read();
            match map.get(key) {
                Some(v) => {
                    let view = View::new(shared, &op.api_version);
                    Ok(ArmResponse::json(
                        200,
                        render(&map, &type_key_of(v), v, &view),
                    ))
                }
                None => Ok(ArmResponse::empty(204)),
            }
        }
        (_, Outcome::Fail { code, message }, _) => {
            Err(ApiError::bad_request(code, message.clone()))
        }
        _ => Err(ApiError::bad_request(
            "OperationCanceled",
            "The operation was canceled.",
        )),
    }
}

/// The lower-cased type of a stored resource.
pub fn type_key_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .and_then(ResourceId::parse)
        .map(|r| r.type_key())
        .unwrap_or_default()
}
