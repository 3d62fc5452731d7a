//! The seeded, read-only resources the companion endpoints of Arc-enabled servers point at:
//! Key Vault vaults, storage accounts, Automation accounts and Log Analytics workspaces, in the
//! shape of each service's GET example (arclink never creates them; fixtures seed them).

use serde_json::{Value, json};

use super::super::ids;
use super::rules::{now, system_data};
use super::targets::account_guid;

fn base(id: &str, type_name: &str, location: &str, tags: Value) -> Value {
    json!({
        "id": id,
        "name": id.rsplit('/').next().unwrap_or_default(),
        "type": type_name,
        "location": ids::normalize_location(location),
        "tags": tags,
        "systemData": system_data(None, "fixtures"),
    })
}

/// A vault as the `getVault` example shows one (RBAC authorization, public network access
/// enabled).
pub fn vault_value(id: &str, location: &str, tags: Value, tenant: &str) -> Value {
    let name = id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut v = base(id, "Microsoft.KeyVault/vaults", location, tags);
    v["properties"] = json!({
        "sku": {"family": "A", "name": "standard"},
        "tenantId": tenant,
        "accessPolicies": [],
        "enabledForDeployment": false,
        "enabledForDiskEncryption": false,
        "enabledForTemplateDeployment": false,
        "enableRbacAuthorization": true,
        "vaultUri": format!("https://{name}.vault.azure.net/"),
        "provisioningState": "Succeeded",
        "publicNetworkAccess": "Enabled",
    });
    v
}

/// Services with a secondary endpoint in a read-access geo-redundant account.
const SECONDARY: &[&str] = &["blob", "queue", "table", "web", "dfs"];

/// A storage account as the `StorageAccountGetProperties` example shows one; a read-access
/// geo-redundant SKU (`Standard_RAGRS`, `Standard_RAGZRS`) adds the secondary endpoints.
pub fn storage_value(id: &str, location: &str, tags: Value, sku: &str, kind: &str) -> Value {
    let name = id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let endpoint =
        |service: &str, suffix: &str| format!("https://{name}{suffix}.{service}.core.windows.net/");
    let primary: serde_json::Map<String, Value> = ["blob", "dfs", "file", "queue", "table", "web"]
        .iter()
        .map(|s| (s.to_string(), json!(endpoint(s, ""))))
        .collect();
    let location = ids::normalize_location(location);
    let created = now();
    let mut v = base(id, "Microsoft.Storage/storageAccounts", &location, tags);
    v["kind"] = json!(kind);
    v["sku"] = json!({"name": sku, "tier": sku.split('_').next().unwrap_or("Standard")});
    v["properties"] = json!({
        "accountMigrationInProgress": false,
        "creationTime": created,
        "encryption": {
            "keySource": "Microsoft.Storage",
            "services": {
                "blob": {"enabled": true, "keyType": "Account", "lastEnabledTime": created},
                "file": {"enabled": true, "keyType": "Account", "lastEnabledTime": created},
            },
        },
        "isHnsEnabled": false,
        "isSkuConversionBlocked": false,
        "keyCreationTime": {"key1": created, "key2": created},
        "minimumTlsVersion": "TLS1_2",
        "networkAcls": {
            "bypass": "AzureServices",
            "defaultAction": "Allow",
            "ipRules": [],
            "resourceAccessRules": [],
            "virtualNetworkRules": [],
        },
        "primaryEndpoints": primary,
        "primaryLocation": location,
        "provisioningState": "Succeeded",
        "publicNetworkAccess": "Enabled",
        "statusOfPrimary": "available",
        "supportsHttpsTrafficOnly": true,
    });
    if sku.to_ascii_uppercase().contains("RAG") {
        let secondary: serde_json::Map<String, Value> = SECONDARY
            .iter()
            .map(|s| (s.to_string(), json!(endpoint(s, "-secondary"))))
            .collect();
        let p = &mut v["properties"];
        p["secondaryEndpoints"] = Value::Object(secondary);
        p["secondaryLocation"] = json!(format!("{location}-paired"));
        p["statusOfSecondary"] = json!("available");
        p["geoReplicationStats"] =
            json!({"status": "Live", "lastSyncTime": created, "canFailover": true});
    }
    v
}

/// An Automation account as the `getAutomationAccount` example shows one (the service spells
/// its type `AutomationAccounts`).
pub fn automation_value(id: &str, location: &str, tags: Value) -> Value {
    let created = now();
    let mut v = base(
        id,
        "Microsoft.Automation/AutomationAccounts",
        location,
        tags,
    );
    v["properties"] = json!({
        "sku": {"name": "Basic"},
        "state": "Ok",
        "creationTime": created,
        "lastModifiedBy": "fixtures",
        "lastModifiedTime": created,
        "publicNetworkAccess": true,
        "disableLocalAuth": false,
    });
    v
}

/// A Log Analytics workspace as the `WorkspacesGet` example shows one, with a workspace
/// (customer) id derived from its resource id.
pub fn workspace_value(id: &str, location: &str, tags: Value) -> Value {
    let mut v = base(
        id,
        "Microsoft.OperationalInsights/workspaces",
        location,
        tags,
    );
    v["properties"] = json!({
        "customerId": account_guid(&v),
        "provisioningState": "Succeeded",
        "sku": {"name": "PerGB2018"},
        "retentionInDays": 30,
        "publicNetworkAccessForIngestion": "Enabled",
        "publicNetworkAccessForQuery": "Enabled",
    });
    v
}
