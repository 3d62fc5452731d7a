//! ARM's unauthenticated cloud metadata document, `GET /metadata/endpoints?api-version=2022-09-01`
//! (what `az cloud register --endpoint-resource-manager` and Terraform's `metadata_host` read):
//! the public cloud's document (tests/azure-specs/_other/arm-metadata-endpoints-2022-09-01.json)
//! with the emulator as its Resource Manager and its login endpoint.

use serde_json::{Value, json};

use super::http::ApiError;

/// The only api-version served: the one the Azure CLI (since Azure/azure-cli#30682) and
/// go-azure-sdk ask for. Older versions answer other shapes (an array of clouds, or
/// `galleryEndpoint`-style objects).
pub const API_VERSION: &str = "2022-09-01";

/// The name the document gives the emulated cloud.
const CLOUD_NAME: &str = "ArclinkEmulator";

pub fn endpoints(endpoint: &str, api_version: Option<&str>) -> Result<Value, ApiError> {
    match api_version {
        Some(v) if v == API_VERSION => {}
        Some(v) => {
            return Err(ApiError::bad_request(
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{v}' is invalid. The supported versions are '{API_VERSION}'."
                ),
            ));
        }
        None => {
            return Err(ApiError::bad_request(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            ));
        }
    }
    Ok(json!({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": endpoint,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{endpoint}/"),
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    }))
}
