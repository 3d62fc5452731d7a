//! Microsoft.HybridCompute machines: seeded (the Connected Machine agent creates them, never
//! ARM here), read, and PATCHed for their tags and private link scope.

use std::sync::Arc;

use serde_json::{Map as JsonMap, Value, json};

use super::super::config::ScopeClear;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::super::json::merge;
use super::super::state::Map;
use super::call::{Call, Reply, View};
use super::rules::{
    check_location_unchanged, invalid_linked_id, linked_id, now, system_data, writable_properties,
};
use super::scopes::SCOPES;

pub const MACHINES: &str = "microsoft.hybridcompute/machines";

const MACHINE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "status",
    "lastStatusChange",
    "errorDetails",
    "agentVersion",
    "vmId",
    "displayName",
    "machineFqdn",
    "osName",
    "osVersion",
    "vmUuid",
    "osSku",
    "domainName",
    "adFqdn",
    "dnsFqdn",
    "detectedProperties",
    "networkProfile",
    "hardwareProfile",
    "storageProfile",
    "firmwareProfile",
    "cloudProvider",
    "osType",
    "osEdition",
    "mssqlDiscovered",
    "serviceStatuses",
    "identityKeyStore",
    "tpmEkCertificate",
];

pub fn patch_machine(call: &Call) -> Result<Reply, ApiError> {
    let mut update = call.update()?;
    let body = update.body;
    if let Some(loc) = body.get("location").and_then(Value::as_str) {
        check_location_unchanged(Some(&update.existing), loc, call.rid.name())?;
    }
    let v = &mut update.value;
    let props = writable_properties(body, MACHINE_READ_ONLY)?;
    let clear = call.shared.settings().behaviours.machine_scope_clear;
    let target = v
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::new(500, "InternalServerError", "machine has no properties"))?;
    for (k, val) in props {
        if k.eq_ignore_ascii_case("privateLinkScopeResourceId") {
            set_scope_link(target, &val, clear)?;
        } else if val.is_null() {
            target.remove(&k);
        } else if let Some(existing) = target.get_mut(&k).filter(|e| e.is_object()) {
            merge(existing, &val);
        } else {
            target.insert(k, val);
        }
    }
    for field in ["kind", "identity"] {
        if let Some(val) = body.get(field) {
            v[field] = val.clone();
        }
    }
    v["systemData"] = system_data(Some(&update.existing), &call.caller);
    let v = update.store();
    Ok(ArmResponse::json(200, machine_properties(&v)).into())
}

/// Whether `null` or `""` clears a machine's scope is not documented
/// (reference/arm-behaviours.md 15): [`ScopeClear`] picks the shape.
fn set_scope_link(
    props: &mut JsonMap<String, Value>,
    val: &Value,
    clear: ScopeClear,
) -> Result<(), ApiError> {
    let path = "properties.privateLinkScopeResourceId";
    match (val, clear) {
        (Value::Null, ScopeClear::EmptyString) => {}
        (Value::Null, _) => {
            props.remove("privateLinkScopeResourceId");
        }
        (Value::String(s), ScopeClear::Null) if s.is_empty() => {
            return Err(invalid_linked_id(s, path));
        }
        (Value::String(s), _) if s.is_empty() => {
            props.remove("privateLinkScopeResourceId");
        }
        _ => {
            let rid = linked_id(val, path, SCOPES)?;
            if rid.segments.len() != 1 {
                return Err(invalid_linked_id(val.as_str().unwrap_or_default(), path));
            }
            props.insert("privateLinkScopeResourceId".into(), val.clone());
        }
    }
    Ok(())
}

/// What the Connected Machine agent reports about its host, as the official `Machines_Get`
/// example shows it; a machine's own values (from fixtures or PATCHes) win. Merged when a
/// machine is rendered rather than stored per machine, so that a fleet of 100,000 machines
/// stays small in memory.
static AGENT_REPORTED: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::from_str(AGENT_REPORTED_JSON).unwrap_or_default());

/// The properties of the official Machines_Get example (2026-07-15) that the agent reports.
const AGENT_REPORTED_JSON: &str = r#"{
  "adFqdn": null,
  "agentConfiguration": {
    "configMode": "full",
    "extensionsAllowList": null,
    "extensionsBlockList": null,
    "extensionsEnabled": "true",
    "guestConfigurationEnabled": "true",
    "incomingConnectionsPorts": [
      "22",
      "23"
    ],
    "proxyBypass": [
      "proxy1",
      "proxy2"
    ],
    "proxyUrl": "https://test.test"
  },
  "clientPublicKey": "string",
  "detectedProperties": {
    "cloudprovider": "N/A",
    "manufacturer": "Microsoft Corporation",
    "model": "Virtual Machine"
  },
  "dnsFqdn": null,
  "domainName": null,
  "errorDetails": null,
  "firmwareProfile": {
    "serialNumber": "007f0232-1c2e-4978-8604-ea44e7a5f5a0",
    "type": "BIOS"
  },
  "hardwareProfile": {
    "numberOfCpuSockets": 2,
    "processors": [
      {
        "name": "Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz",
        "numberOfCores": 4
      }
    ],
    "totalPhysicalMemoryInBytes": 34359738368
  },
  "hardwareResourceId": null,
  "identityKeyStore": "TPM",
  "licenseProfile": {
    "esuProfile": {
      "esuEligibility": "Ineligible",
      "esuKeyState": "Inactive",
      "esuKeys": [
        {
          "licenseStatus": 1,
          "sku": "skuNumber1"
        },
        {
          "licenseStatus": 1,
          "sku": "skuNumber2"
        }
      ],
      "licenseAssignmentState": "Assigned",
      "serverType": "Standard"
    },
    "licenseChannel": "PSG",
    "licenseStatus": "Licensed",
    "productProfile": {
      "billingEndDate": "2023-11-05T20:36:49.745Z",
      "billingStartDate": "2023-10-05T20:36:49.745Z",
      "disenrollmentDate": "2023-11-05T20:36:49.745Z",
      "enrollmentDate": "2023-10-05T20:36:49.745Z",
      "productFeatures": [
        {
          "billingEndDate": "2023-11-05T20:36:49.745Z",
          "billingStartDate": "2023-10-05T20:36:49.745Z",
          "disenrollmentDate": "2023-11-05T20:36:49.745Z",
          "enrollmentDate": "2023-10-05T20:36:49.745Z",
          "name": "Hotpatch",
          "subscriptionStatus": "Enabled"
        }
      ],
      "productType": "WindowsServer",
      "subscriptionStatus": "Enabled"
    },
    "softwareAssurance": {
      "softwareAssuranceCustomer": true
    }
  },
  "locationData": {
    "city": "redmond",
    "countryOrRegion": "usa",
    "district": null,
    "name": "Redmond"
  },
  "mssqlDiscovered": "false",
  "networkProfile": {
    "networkInterfaces": [
      {
        "id": "8",
        "ipAddresses": [
          {
            "address": "192.168.12.345",
            "ipAddressVersion": "IPv4",
            "subnet": {
              "addressPrefix": "192.168.12.0/24"
            }
          }
        ],
        "macAddress": "3c:49:6e:13:0e:73",
        "name": "Wi-Fi"
      },
      {
        "id": "23",
        "ipAddresses": [
          {
            "address": "1001:0:34aa:5000:1234:aaaa:bbbb:cccc",
            "ipAddressVersion": "IPv6",
            "subnet": {
              "addressPrefix": "1001:0:34aa:5000::/64"
            }
          }
        ],
        "macAddress": "10:15:5c:52:f9:b8",
        "name": "Ethernet"
      }
    ]
  },
  "osEdition": "Standard",
  "osProfile": {
    "computerName": null,
    "linuxConfiguration": {
      "patchSettings": {
        "assessmentMode": null,
        "patchMode": null
      }
    },
    "windowsConfiguration": {
      "patchSettings": {
        "assessmentMode": null,
        "enableHotpatching": true,
        "patchMode": null,
        "status": {
          "error": null,
          "hotpatchEnablementStatus": "Enabled"
        }
      }
    }
  },
  "osSku": null,
  "osVersion": null,
  "serviceStatuses": {
    "extensionService": {
      "startupType": "Automatic",
      "status": "Running"
    },
    "guestConfigurationService": {
      "startupType": "Automatic",
      "status": "Running"
    }
  },
  "storageProfile": {
    "disks": [
      {
        "diskType": "Fixed",
        "generatedId": "94318602-6e46-4eaa-997e-0e528afe3d17",
        "id": "2",
        "maxSizeInBytes": 1022870155264,
        "name": "Windows",
        "path": "C:/",
        "usedSpaceInBytes": 435501297664
      }
    ]
  },
  "tpmEkCertificate": "string",
  "vmUuid": null
}"#;

/// A machine as GET returns it.
pub fn render_machine(_: &Map, v: &Arc<Value>, _: &View) -> Value {
    machine_properties(v)
}

/// A machine as GET and PATCH return it: stored values merged over the agent-reported
/// defaults, with its extensions (`resources`; the emulator has none).
fn machine_properties(v: &Arc<Value>) -> Value {
    let mut out = Value::clone(v);
    let mut props = AGENT_REPORTED.clone();
    merge(&mut props, &v["properties"]);
    out["properties"] = props;
    if let Some(o) = out.as_object_mut() {
        o.entry("resources").or_insert(json!([]));
    }
    out
}

/// A machine as the agent registers it, with the system-assigned identity the agent gets
/// (`tenant`: its subscription's).
pub fn machine_value(
    id: &str,
    location: &str,
    tags: &Value,
    status: &str,
    scope: Option<&str>,
    tenant: &str,
) -> Value {
    let name = id.rsplit('/').next().unwrap_or_default();
    let mut props = json!({
        "provisioningState": "Succeeded",
        "status": status,
        "agentVersion": "1.50.02995.1843",
        "osType": "linux",
        "osName": "linux",
        "displayName": name,
        "machineFqdn": name,
        "vmId": uuid::Uuid::new_v4().to_string(),
        "lastStatusChange": now(),
    });
    if let Some(s) = scope {
        props["privateLinkScopeResourceId"] = json!(s);
    }
    json!({
        "id": id,
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": ids::normalize_location(location),
        "tags": tags,
        "identity": {
            "type": "SystemAssigned",
            "principalId": uuid::Uuid::new_v4().to_string(),
            "tenantId": tenant,
        },
        "properties": props,
    })
}
