//! Microsoft.Insights data collection endpoints (seeded, read-only) and data collection rule
//! associations, the extension resource that points a machine's Azure Monitor Agent at an
//! endpoint (`…/machines/{m}/providers/Microsoft.Insights/dataCollectionRuleAssociations/…`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::hash::stable_hex;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::call::{Call, Reply};
use super::rules::{linked_id, referenced, system_data};
use super::targets::DATA_COLLECTION_ENDPOINTS;

pub const ASSOCIATIONS: &str = "microsoft.insights/datacollectionruleassociations";
/// The only name an association with a data collection endpoint may have.
pub const ENDPOINT_ASSOCIATION: &str = "configurationAccessEndpoint";

/// A data collection endpoint as the `DataCollectionEndpointsGet` example shows one, with
/// hosts and an immutable id derived from its id.
pub fn endpoint_value(id: &str, location: &str, tags: Value) -> Value {
    let name = id.rsplit('/').next().unwrap_or_default();
    let location = ids::normalize_location(location);
    let key = ids::key(id);
    let host = format!(
        "{}-{}.{location}-1",
        name.to_ascii_lowercase(),
        &stable_hex(&key, 4)
    );
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Insights/dataCollectionEndpoints",
        "location": location,
        "tags": tags,
        "etag": stable_hex(&format!("{key}/etag"), 32),
        "properties": {
            "immutableId": format!("dce-{}", stable_hex(&key, 32)),
            "configurationAccess": {"endpoint": format!("https://{host}.handler.control.monitor.azure.com")},
            "logsIngestion": {"endpoint": format!("https://{host}.ingest.monitor.azure.com")},
            "metricsIngestion": {"endpoint": format!("https://{host}.metrics.ingest.monitor.azure.com")},
            "networkAcls": {"publicNetworkAccess": "Enabled"},
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(None, "fixtures"),
    })
}

fn refuse(code: &str, message: &str) -> ApiError {
    ApiError::bad_request(code, message)
}

/// PUT of an association (200/201, not long-running). An association with an endpoint must be
/// named `configurationAccessEndpoint` and carry no rule (Azure/arm-template-whatif#282,
/// Azure/bicep#10542); the endpoint must exist. Whether the endpoint is in the machine's region
/// is not checked: no source says Azure refuses it (Azure Monitor Agent needs it, arclink
/// checks it).
pub fn put_association(call: &Call) -> Result<Reply, ApiError> {
    let mut put = call.extension_put()?;
    let p = put.body.get("properties").cloned().unwrap_or(Value::Null);
    let mut props = serde_json::Map::new();
    if let Some(d) = p["description"].as_str() {
        props.insert("description".into(), json!(d));
    }
    let endpoint = p.get("dataCollectionEndpointId").filter(|v| !v.is_null());
    let rule = p.get("dataCollectionRuleId").filter(|v| !v.is_null());
    match (endpoint, rule) {
        (Some(_), Some(_)) => {
            return Err(refuse(
                "InvalidPayload",
                "An association of data collection endpoint cannot include data collection rule",
            ));
        }
        (Some(e), None) => {
            if !call.rid.name().eq_ignore_ascii_case(ENDPOINT_ASSOCIATION) {
                return Err(refuse(
                    "InvalidEndpointAssociationName",
                    "An association of data collection endpoint must be named 'configurationAccessEndpoint'.",
                ));
            }
            let rid = linked_id(
                e,
                "properties.dataCollectionEndpointId",
                DATA_COLLECTION_ENDPOINTS,
            )?;
            let dce = referenced(&put.map, &rid, &put.id)?;
            props.insert("dataCollectionEndpointId".into(), dce["id"].clone());
        }
        // Data collection rules are not modelled: a well-formed id is taken as it is.
        (None, Some(r)) => {
            linked_id(
                r,
                "properties.dataCollectionRuleId",
                "microsoft.insights/datacollectionrules",
            )?;
            props.insert("dataCollectionRuleId".into(), r.clone());
        }
        (None, None) => {
            return Err(refuse(
                "InvalidPayload",
                "An association must name a data collection rule or a data collection endpoint.",
            ));
        }
    }
    let v = json!({
        "id": put.id,
        "name": put.id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Insights/dataCollectionRuleAssociations",
        "etag": uuid::Uuid::new_v4().to_string(),
        "properties": props,
        "systemData": system_data(put.existing.as_deref(), &call.caller),
    });
    let status = if put.existing.is_some() { 200 } else { 201 };
    put.map.insert(put.key.clone(), Arc::new(v.clone()));
    Ok(ArmResponse::json(status, v).into())
}
