//! Microsoft.Network virtual networks and their subnets: seeded from fixtures, read through
//! ARM (a virtual network carries its subnets).

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::ids;
use super::super::state::{self, Map};
use super::call::View;
use super::rules::new_etag;

pub const VNETS: &str = "microsoft.network/virtualnetworks";
pub const SUBNETS: &str = "microsoft.network/virtualnetworks/subnets";

/// A virtual network with `subnets` filled from its subnet children.
pub fn render_vnet(map: &Map, v: &Arc<Value>, _: &View) -> Value {
    let mut out = Value::clone(v);
    let key = v["id"].as_str().map(ids::key).unwrap_or_default();
    let subnets: Vec<Value> = state::children(map, &key, "subnets")
        .map(|(_, s)| Value::clone(s))
        .collect();
    if let Some(p) = out.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("subnets".into(), Value::Array(subnets));
    }
    out
}

pub fn vnet_value(id: &str, location: &str, prefixes: &[String]) -> Value {
    json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/virtualNetworks",
        "location": ids::normalize_location(location),
        "etag": new_etag(),
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": uuid::Uuid::new_v4().to_string(),
            "addressSpace": {"addressPrefixes": prefixes},
            "privateEndpointVNetPolicies": "Disabled",
        },
    })
}

/// A subnet; `nsg`: the id of the network security group attached to it.
pub fn subnet_value(id: &str, prefix: &str, nsg: Option<&str>) -> Value {
    let mut v = json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "etag": new_etag(),
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": prefix,
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
    });
    if let Some(nsg) = nsg {
        v["properties"]["networkSecurityGroup"] = json!({ "id": nsg });
    }
    v
}
