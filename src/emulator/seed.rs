//! Seeding the companion targets, management groups and role assignments of the fixtures.

use std::sync::Arc;

use serde_json::{Value, json};

use super::error::EmulatorError;
use super::fixtures::{Fixtures, SeededFixture};
use super::ids;
use super::providers::{
    automation_value, data_collection_endpoint, management_group_id, management_group_value,
    role_assignment_value, storage_value, vault_value, workspace_value,
};
use super::state::Map;

/// Inserts the fixtures' companion targets, management groups and role assignments; with
/// `overwrite` false, existing resources are kept.
pub fn load(
    map: &mut Map,
    f: &Fixtures,
    tenant: &str,
    overwrite: bool,
) -> Result<(), EmulatorError> {
    let put = |map: &mut Map, v: Value| {
        let key = ids::key(v["id"].as_str().unwrap_or_default());
        if overwrite || !map.contains_key(&key) {
            map.insert(key, Arc::new(v));
        }
    };
    let seeded: [(&[SeededFixture], &str, &str); 5] = [
        (&f.key_vaults, "Microsoft.KeyVault/vaults", "key vault"),
        (
            &f.storage_accounts,
            "Microsoft.Storage/storageAccounts",
            "storage account",
        ),
        (
            &f.automation_accounts,
            "Microsoft.Automation/automationAccounts",
            "Automation account",
        ),
        (
            &f.log_analytics_workspaces,
            "Microsoft.OperationalInsights/workspaces",
            "Log Analytics workspace",
        ),
        (
            &f.data_collection_endpoints,
            "Microsoft.Insights/dataCollectionEndpoints",
            "data collection endpoint",
        ),
    ];
    for (items, type_name, what) in seeded {
        for s in items {
            let rg = ids::resource_group_id(&s.subscription_id, &s.resource_group);
            if !map.contains_key(&ids::key(&rg)) {
                return Err(EmulatorError::Fixtures(format!(
                    "{what} '{}' is in resource group '{}' of subscription '{}', which neither the fixtures nor the emulator's state have",
                    s.name, s.resource_group, s.subscription_id
                )));
            }
            let id = format!("{rg}/providers/{type_name}/{}", s.name);
            let tags = serde_json::to_value(&s.tags).unwrap_or(json!({}));
            let mut v = match type_name {
                "Microsoft.KeyVault/vaults" => vault_value(&id, &s.location, tags, tenant),
                "Microsoft.Storage/storageAccounts" => storage_value(
                    &id,
                    &s.location,
                    tags,
                    s.sku.as_deref().unwrap_or("Standard_LRS"),
                    "StorageV2",
                ),
                "Microsoft.Automation/automationAccounts" => {
                    automation_value(&id, &s.location, tags)
                }
                "Microsoft.OperationalInsights/workspaces" => {
                    workspace_value(&id, &s.location, tags)
                }
                _ => data_collection_endpoint(&id, &s.location, tags),
            };
            if let Some(props) = v["properties"].as_object_mut() {
                props.extend(s.properties.clone());
            }
            put(map, v);
        }
    }
    for g in &f.management_groups {
        let mg_tenant = g.tenant_id.as_deref().unwrap_or(tenant);
        let display = g.display_name.as_deref().unwrap_or(&g.name);
        put(
            map,
            management_group_value(&g.name, display, g.parent.as_deref(), mg_tenant),
        );
    }
    for a in &f.role_assignments {
        let declared = f
            .management_groups
            .iter()
            .any(|g| ids::key(&management_group_id(&g.name)) == ids::key(&a.scope))
            || map.contains_key(&ids::key(&a.scope));
        if !declared {
            return Err(EmulatorError::Fixtures(format!(
                "role assignment of '{}' to '{}': scope '{}' is not a management group of the fixtures or the emulator's state",
                a.role, a.principal_id, a.scope
            )));
        }
        let v = role_assignment_value(&a.scope, &a.principal_id, &a.role).ok_or_else(|| {
            EmulatorError::Fixtures(format!(
                "role assignment of '{}' at '{}': role '{}' is not one of Owner, Contributor, Reader",
                a.principal_id, a.scope, a.role
            ))
        })?;
        put(map, v);
    }
    Ok(())
}
