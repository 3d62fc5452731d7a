//! Which operation each example file documents: method, path template and body parameter.

const HC: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.HybridCompute";
const NET: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network";
const INS: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Insights";
const AUTH: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Authorization";
const RG: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers";

pub struct Op {
    pub method: &'static str,
    pub template: String,
    pub body: Option<&'static str>,
}

impl Op {
    /// A collection: the template does not end with a name parameter.
    pub fn is_list(&self) -> bool {
        !self.template.ends_with('}')
    }
}

fn op(method: &'static str, template: String, body: Option<&'static str>) -> Op {
    Op {
        method,
        template,
        body,
    }
}

/// The example's operation; `service` is the first folder below tests/azure-specs (for
/// `resources`, the namespace's: `authorization`).
pub fn operation(service: &str, file: &str) -> Option<Op> {
    match service {
        "hybridcompute" | "network" | "privatedns" => arc_and_network(file),
        "monitor" => monitor(file),
        "authorization" => authorization(file),
        "resources" => resources(file),
        "keyvault" => target_connections(
            file,
            &format!("{RG}/Microsoft.KeyVault/vaults/{{vaultName}}"),
            &[
                ("getVault.json", "GET", ""),
                (
                    "listPrivateLinkResources.json",
                    "GET",
                    "/privateLinkResources",
                ),
                (
                    "listPrivateEndpointConnection.json",
                    "GET",
                    "/privateEndpointConnections",
                ),
                (
                    "getPrivateEndpointConnection.json",
                    "GET",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "putPrivateEndpointConnection.json",
                    "PUT",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "deletePrivateEndpointConnection.json",
                    "DELETE",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
            ],
            "properties",
        ),
        "storage" => target_connections(
            file,
            &format!("{RG}/Microsoft.Storage/storageAccounts/{{accountName}}"),
            &[
                ("StorageAccountGetProperties.json", "GET", ""),
                (
                    "StorageAccountListPrivateLinkResources.json",
                    "GET",
                    "/privateLinkResources",
                ),
                (
                    "StorageAccountListPrivateEndpointConnections.json",
                    "GET",
                    "/privateEndpointConnections",
                ),
                (
                    "StorageAccountGetPrivateEndpointConnection.json",
                    "GET",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "StorageAccountPutPrivateEndpointConnection.json",
                    "PUT",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "StorageAccountDeletePrivateEndpointConnection.json",
                    "DELETE",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
            ],
            "properties",
        ),
        "automation" => target_connections(
            file,
            &format!("{RG}/Microsoft.Automation/automationAccounts/{{automationAccountName}}"),
            &[
                ("getAutomationAccount.json", "GET", ""),
                (
                    "PrivateLinkResourceListGet.json",
                    "GET",
                    "/privateLinkResources",
                ),
                (
                    "PrivateEndpointConnectionListGet.json",
                    "GET",
                    "/privateEndpointConnections",
                ),
                (
                    "PrivateEndpointConnectionGet.json",
                    "GET",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "PrivateEndpointConnectionUpdate.json",
                    "PUT",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
                (
                    "PrivateEndpointConnectionDelete.json",
                    "DELETE",
                    "/privateEndpointConnections/{privateEndpointConnectionName}",
                ),
            ],
            "parameters",
        ),
        "operationalinsights" => (file == "WorkspacesGet.json").then(|| {
            op(
                "GET",
                format!("{RG}/Microsoft.OperationalInsights/workspaces/{{workspaceName}}"),
                None,
            )
        }),
        _ => None,
    }
}

/// A seeded target's GET, its private link resources and its endpoint connections.
fn target_connections(
    file: &str,
    target: &str,
    ops: &[(&str, &'static str, &str)],
    body: &'static str,
) -> Option<Op> {
    let (_, method, suffix) = ops.iter().find(|(f, _, _)| *f == file)?;
    let body = (*method == "PUT").then_some(body);
    Some(op(method, format!("{target}{suffix}"), body))
}

fn arc_and_network(file: &str) -> Option<Op> {
    let scope = format!("{HC}/privateLinkScopes/{{scopeName}}");
    let pec = format!("{scope}/privateEndpointConnections/{{privateEndpointConnectionName}}");
    let pe = format!("{NET}/privateEndpoints/{{privateEndpointName}}");
    let zg = format!("{pe}/privateDnsZoneGroups/{{privateDnsZoneGroupName}}");
    let zone = format!("{NET}/privateDnsZones/{{privateZoneName}}");
    let link = format!("{zone}/virtualNetworkLinks/{{virtualNetworkLinkName}}");
    let rec = format!("{zone}/{{recordType}}/{{relativeRecordSetName}}");
    let nsg = format!("{NET}/networkSecurityGroups/{{networkSecurityGroupName}}");
    let rule = format!("{nsg}/securityRules/{{securityRuleName}}");
    let p = Some("parameters");
    Some(match file {
        "PrivateLinkScopes_Create.json" | "PrivateLinkScopes_Update.json" => op("PUT", scope, p),
        "PrivateLinkScopes_Get.json" => op("GET", scope, None),
        "PrivateLinkScopes_UpdateTagsOnly.json" => op("PATCH", scope, Some("PrivateLinkScopeTags")),
        "PrivateLinkScopes_Delete.json" => op("DELETE", scope, None),
        "PrivateLinkScopes_ListByResourceGroup.json" => {
            op("GET", format!("{HC}/privateLinkScopes"), None)
        }
        "PrivateEndpointConnection_Get.json" => op("GET", pec, None),
        "PrivateEndpointConnection_Update.json" => op("PUT", pec, p),
        "PrivateEndpointConnection_Delete.json" => op("DELETE", pec, None),
        "PrivateEndpointConnection_List.json" => {
            op("GET", format!("{scope}/privateEndpointConnections"), None)
        }
        "PrivateLinkScopePrivateLinkResource_Get.json" => op(
            "GET",
            format!("{scope}/privateLinkResources/{{groupName}}"),
            None,
        ),
        "PrivateLinkScopePrivateLinkResource_ListGet.json" => {
            op("GET", format!("{scope}/privateLinkResources"), None)
        }
        "Machines_Get.json" => op("GET", format!("{HC}/machines/{{machineName}}"), None),
        "Machines_Update.json" => op("PATCH", format!("{HC}/machines/{{machineName}}"), p),
        "PrivateEndpointGet.json" | "PrivateEndpointGetForManualApproval.json" => {
            op("GET", pe, None)
        }
        "PrivateEndpointCreate.json" | "PrivateEndpointCreateForManualApproval.json" => {
            op("PUT", pe, p)
        }
        "PrivateEndpointDnsZoneGroupCreate.json" => op("PUT", zg, p),
        "PrivateEndpointDnsZoneGroupGet.json" => op("GET", zg, None),
        "PrivateEndpointDnsZoneGroupDelete.json" => op("DELETE", zg, None),
        "PrivateZonePut.json" => op("PUT", zone, p),
        "PrivateZoneGet.json" => op("GET", zone, None),
        "PrivateZonePatch.json" => op("PATCH", zone, p),
        "PrivateZoneDelete.json" => op("DELETE", zone, None),
        "VirtualNetworkLinkPut.json" => op("PUT", link, p),
        "VirtualNetworkLinkGet.json" => op("GET", link, None),
        "VirtualNetworkLinkPatch.json" => op("PATCH", link, p),
        "VirtualNetworkLinkDelete.json" => op("DELETE", link, None),
        "RecordSetAPut.json" => op("PUT", rec, p),
        "RecordSetAGet.json" => op("GET", rec, None),
        "RecordSetAPatch.json" => op("PATCH", rec, p),
        "RecordSetADelete.json" => op("DELETE", rec, None),
        "NetworkSecurityGroupGet.json" => op("GET", nsg, None),
        "NetworkSecurityGroupRuleCreate.json" => op("PUT", rule, Some("securityRuleParameters")),
        "NetworkSecurityGroupRuleGet.json" => op("GET", rule, None),
        "NetworkSecurityGroupRuleDelete.json" => op("DELETE", rule, None),
        "NetworkSecurityGroupRuleList.json" => op("GET", format!("{nsg}/securityRules"), None),
        "RecordSetALLList.json" => op("GET", format!("{zone}/ALL"), None),
        "PrivateZoneListInResourceGroup.json" => op("GET", format!("{NET}/privateDnsZones"), None),
        "PrivateZoneListInSubscription.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateDnsZones".into(),
            None,
        ),
        _ => return None,
    })
}

/// Subscriptions, tenants, resource groups and resource providers (Microsoft.Resources).
fn resources(file: &str) -> Option<Op> {
    Some(match file {
        "ResourceGroups_Get.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}".into(),
            None,
        ),
        "GetSubscription.json" => op("GET", "/subscriptions/{subscriptionId}".into(), None),
        "GetSubscriptions.json" => op("GET", "/subscriptions".into(), None),
        "GetTenants.json" => op("GET", "/tenants".into(), None),
        "GetProvider.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}".into(),
            None,
        ),
        _ => return None,
    })
}

fn monitor(file: &str) -> Option<Op> {
    let scope = format!("{INS}/privateLinkScopes/{{scopeName}}");
    let pec = format!("{scope}/privateEndpointConnections/{{privateEndpointConnectionName}}");
    let scoped = format!("{scope}/scopedResources/{{name}}");
    let dcra = "/{resourceUri}/providers/Microsoft.Insights/dataCollectionRuleAssociations";
    let assoc = format!("{dcra}/{{associationName}}");
    let dce = format!("{INS}/dataCollectionEndpoints");
    Some(match file {
        "PrivateLinkScopesCreate.json" | "PrivateLinkScopesUpdate.json" => {
            op("PUT", scope, Some("AzureMonitorPrivateLinkScopePayload"))
        }
        "PrivateLinkScopesGet.json" => op("GET", scope, None),
        "PrivateLinkScopesDelete.json" => op("DELETE", scope, None),
        "PrivateLinkScopesUpdateTagsOnly.json" => op("PATCH", scope, Some("PrivateLinkScopeTags")),
        "PrivateLinkScopesList.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/privateLinkScopes".into(),
            None,
        ),
        "PrivateLinkScopesListByResourceGroup.json" => {
            op("GET", format!("{INS}/privateLinkScopes"), None)
        }
        "PrivateLinkScopePrivateLinkResourceListGet.json" => {
            op("GET", format!("{scope}/privateLinkResources"), None)
        }
        "PrivateLinkScopePrivateLinkResourceGet.json" => op(
            "GET",
            format!("{scope}/privateLinkResources/{{groupName}}"),
            None,
        ),
        "PrivateEndpointConnectionGet.json" => op("GET", pec, None),
        "PrivateEndpointConnectionUpdate.json" => op("PUT", pec, Some("parameters")),
        "PrivateEndpointConnectionDelete.json" => op("DELETE", pec, None),
        "PrivateEndpointConnectionList.json" => {
            op("GET", format!("{scope}/privateEndpointConnections"), None)
        }
        "PrivateLinkScopedResourceGet.json" => op("GET", scoped, None),
        "PrivateLinkScopedResourceUpdate.json" => op("PUT", scoped, Some("parameters")),
        "PrivateLinkScopedResourceDelete.json" => op("DELETE", scoped, None),
        "PrivateLinkScopedResourceList.json" => op("GET", format!("{scope}/scopedResources"), None),
        "privateLinkScopeOperationStatuses.json" => op(
            "GET",
            format!("{INS}/privateLinkScopeOperationStatuses/{{asyncOperationId}}"),
            None,
        ),
        "DataCollectionRuleAssociationsCreate.json"
        | "DataCollectionRuleAssociationsCreateEndpointAssoc.json" => {
            op("PUT", assoc, Some("body"))
        }
        "DataCollectionRuleAssociationsGet.json" => op("GET", assoc, None),
        "DataCollectionRuleAssociationsDelete.json" => op("DELETE", assoc, None),
        "DataCollectionRuleAssociationsListByResource.json" => op("GET", dcra.into(), None),
        "DataCollectionEndpointsGet.json" => {
            op("GET", format!("{dce}/{{dataCollectionEndpointName}}"), None)
        }
        "DataCollectionEndpointsListByResourceGroup.json" => op("GET", dce, None),
        "DataCollectionEndpointsListBySubscription.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/dataCollectionEndpoints"
                .into(),
            None,
        ),
        _ => return None,
    })
}

fn authorization(file: &str) -> Option<Op> {
    let link = format!("{AUTH}/resourceManagementPrivateLinks/{{rmplName}}");
    let pla = "/providers/Microsoft.Management/managementGroups/{groupId}/providers/Microsoft.Authorization/privateLinkAssociations";
    Some(match file {
        "PutResourceManagementPrivateLink.json" => op("PUT", link, Some("parameters")),
        "GetResourceManagementPrivateLink.json" => op("GET", link, None),
        "DeleteResourceManagementPrivateLink.json" => op("DELETE", link, None),
        "ListResourceGroupResourceManagementPrivateLink.json" => {
            op("GET", format!("{AUTH}/resourceManagementPrivateLinks"), None)
        }
        "ListSubscriptionResourceManagementPrivateLink.json" => op(
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/resourceManagementPrivateLinks".into(),
            None,
        ),
        "PutPrivateLinkAssociation.json" => op("PUT", format!("{pla}/{{plaId}}"), Some("parameters")),
        "GetPrivateLinkAssociation.json" => op("GET", format!("{pla}/{{plaId}}"), None),
        "DeletePrivateLinkAssociation.json" => op("DELETE", format!("{pla}/{{plaId}}"), None),
        "ListPrivateLinkAssociation.json" => op("GET", pla.into(), None),
        _ => return None,
    })
}
