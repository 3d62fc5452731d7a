//! The route table: every resource type the emulator serves, with its path (namespace and
//! type segments), its api-version family, its naming rule and its handlers. A GET of one
//! resource is answered from the store and a GET of a collection lists its children unless a
//! kind routes them; a method a kind does not route answers 405.

use std::sync::Arc;

use serde_json::Value;

use super::super::names::NameRule;
use super::super::state::Map;
use super::super::versions::ApiSet::{
    Automation, DataCollection, HybridCompute, KeyVault, MonitorScopes, Network,
    OperationalInsights, PrivateDns, PrivateLinks, Storage,
};
use super::authorization;
use super::call::{Cascade, Kind, Verb::*, View, delete, patch_tags};
use super::connections::{
    self, delete_now, on_connection_deleted, on_target_deleted, put_connection, put_connection_now,
    render_with_connections,
};
use super::datacollection::{self, ASSOCIATIONS};
use super::endpoints::{self, ENDPOINTS, NICS};
use super::insights::{
    self, MONITOR_CONNECTIONS, MONITOR_LINK_RESOURCES, SCOPE_OPERATION_STATUSES, SCOPED_RESOURCES,
};
use super::machines::{self, MACHINES};
use super::nsg::{self, NSGS, SECURITY_RULES};
use super::nsg_writes;
use super::privatedns::{self, A_RECORDS, ALL_RECORDS, ZONE_LINKS, ZONES};
use super::scopes::{self, CONNECTIONS, LINK_RESOURCES, SCOPES};
use super::targets::{
    self, AUTOMATION_ACCOUNTS, DATA_COLLECTION_ENDPOINTS, MONITOR_SCOPES,
    RESOURCE_MANAGEMENT_LINKS, STORAGE_ACCOUNTS, VAULTS, WORKSPACES,
};
use super::vnets::{self, SUBNETS, VNETS};
use super::zonegroups::{self, ZONE_GROUPS};

/// Network's naming rule for most of its resources.
const fn word(min: usize, max: usize) -> NameRule {
    NameRule::Word { min, max }
}

pub static KINDS: &[Kind] = &[
    Kind::new(
        SCOPES,
        "Microsoft.HybridCompute",
        &["privateLinkScopes"],
        HybridCompute,
    )
    .named(word(1, 64))
    .serve(&[
        (Put, scopes::put_scope),
        (Patch, patch_tags),
        (Delete, scopes::delete_scope),
    ])
    .rendered(scopes::render_scope)
    .on_delete(on_target_deleted),
    Kind::new(
        CONNECTIONS,
        "Microsoft.HybridCompute",
        &["privateLinkScopes", "privateEndpointConnections"],
        HybridCompute,
    )
    .serve(&[(Put, put_connection), (Delete, delete)])
    .on_delete(on_connection_deleted),
    Kind::new(
        LINK_RESOURCES,
        "Microsoft.HybridCompute",
        &["privateLinkScopes", "privateLinkResources"],
        HybridCompute,
    )
    .serve(&[
        (Get, targets::get_link_resource),
        (List, targets::list_link_resources),
    ]),
    Kind::new(
        MACHINES,
        "Microsoft.HybridCompute",
        &["machines"],
        HybridCompute,
    )
    .named(NameRule::Machine)
    .serve(&[(Patch, machines::patch_machine)])
    .rendered(machines::render_machine),
    Kind::new(VNETS, "Microsoft.Network", &["virtualNetworks"], Network)
        .named(word(2, 64))
        .rendered(vnets::render_vnet),
    Kind::new(
        SUBNETS,
        "Microsoft.Network",
        &["virtualNetworks", "subnets"],
        Network,
    )
    .named(word(1, 80)),
    Kind::new(NICS, "Microsoft.Network", &["networkInterfaces"], Network)
        .serve(&[(AnyWrite, endpoints::refuse_nic_write)]),
    Kind::new(
        NSGS,
        "Microsoft.Network",
        &["networkSecurityGroups"],
        Network,
    )
    .named(word(1, 80))
    .serve(&[
        (Put, nsg_writes::put_nsg),
        (Patch, nsg_writes::patch_nsg),
        (Delete, nsg_writes::delete_nsg),
    ])
    .rendered(nsg::render_nsg),
    Kind::new(
        SECURITY_RULES,
        "Microsoft.Network",
        &["networkSecurityGroups", "securityRules"],
        Network,
    )
    .named(word(1, 80))
    .serve(&[
        (Put, nsg_writes::put_rule),
        (Delete, nsg_writes::delete_rule),
    ]),
    Kind::new(
        ENDPOINTS,
        "Microsoft.Network",
        &["privateEndpoints"],
        Network,
    )
    .named(word(2, 64))
    .serve(&[(Put, endpoints::put_endpoint), (Delete, delete)])
    .rendered(endpoints::render_endpoint)
    .on_delete(endpoints::on_endpoint_deleted),
    Kind::new(
        ZONE_GROUPS,
        "Microsoft.Network",
        &["privateEndpoints", "privateDnsZoneGroups"],
        Network,
    )
    .named(word(1, 80))
    .serve(&[(Put, zonegroups::put_zone_group), (Delete, delete)])
    .on_delete(zonegroups::on_zone_group_deleted),
    Kind::new(ZONES, "Microsoft.Network", &["privateDnsZones"], PrivateDns)
        .named(NameRule::Zone)
        .serve(&[
            (Put, privatedns::put_zone),
            (Patch, privatedns::patch_zone),
            (Delete, privatedns::delete_zone),
        ])
        .rendered(privatedns::render_zone),
    Kind::new(
        ZONE_LINKS,
        "Microsoft.Network",
        &["privateDnsZones", "virtualNetworkLinks"],
        PrivateDns,
    )
    .named(word(1, 80))
    .serve(&[
        (Put, privatedns::put_link),
        (Patch, privatedns::patch_link),
        (Delete, privatedns::delete_link),
    ]),
    Kind::new(
        A_RECORDS,
        "Microsoft.Network",
        &["privateDnsZones", "A"],
        PrivateDns,
    )
    .named(NameRule::RecordSet)
    .serve(&[
        (Put, privatedns::put_record),
        (Patch, privatedns::patch_record),
        (Delete, privatedns::delete_record),
    ]),
    Kind::new(
        ALL_RECORDS,
        "Microsoft.Network",
        &["privateDnsZones", "ALL"],
        PrivateDns,
    )
    .serve(&[(List, privatedns::list_all_records)]),
    // The companion services of issue 21.
    Kind::new(
        MONITOR_SCOPES,
        "Microsoft.Insights",
        &["privateLinkScopes"],
        MonitorScopes,
    )
    .serve(&[
        (Put, insights::put_scope),
        (Patch, patch_tags),
        (Delete, insights::delete_scope),
    ])
    .rendered(render_with_connections)
    .on_delete(on_target_deleted),
    Kind::new(
        MONITOR_CONNECTIONS,
        "Microsoft.Insights",
        &["privateLinkScopes", "privateEndpointConnections"],
        MonitorScopes,
    )
    .serve(&[(Put, put_connection), (Delete, delete)])
    .on_delete(on_connection_deleted),
    Kind::new(
        MONITOR_LINK_RESOURCES,
        "Microsoft.Insights",
        &["privateLinkScopes", "privateLinkResources"],
        MonitorScopes,
    )
    .serve(&[
        (Get, targets::get_link_resource),
        (List, targets::list_link_resources),
    ]),
    Kind::new(
        SCOPED_RESOURCES,
        "Microsoft.Insights",
        &["privateLinkScopes", "scopedResources"],
        MonitorScopes,
    )
    .serve(&[
        (Put, insights::put_scoped_resource),
        (Delete, insights::delete_scoped_resource),
    ]),
    Kind::new(
        SCOPE_OPERATION_STATUSES,
        "Microsoft.Insights",
        &["privateLinkScopeOperationStatuses"],
        MonitorScopes,
    )
    .serve(&[(Get, insights::get_operation_status)]),
    // Seeded: arclink reads data collection endpoints, never writes them.
    Kind::new(
        DATA_COLLECTION_ENDPOINTS,
        "Microsoft.Insights",
        &["dataCollectionEndpoints"],
        DataCollection,
    ),
    Kind::new(
        "microsoft.insights/datacollectionendpoints/associations",
        "Microsoft.Insights",
        &["dataCollectionEndpoints", "associations"],
        DataCollection,
    )
    .serve(&[(List, super::listing::list_endpoint_associations)]),
    Kind::new(
        ASSOCIATIONS,
        "Microsoft.Insights",
        &["dataCollectionRuleAssociations"],
        DataCollection,
    )
    .extension()
    .serve(&[(Put, datacollection::put_association), (Delete, delete_now)]),
    Kind::new(
        RESOURCE_MANAGEMENT_LINKS,
        "Microsoft.Authorization",
        &["resourceManagementPrivateLinks"],
        PrivateLinks,
    )
    .serve(&[(Put, authorization::put_link), (Delete, delete_now)])
    .rendered(render_with_connections)
    .on_delete(on_target_deleted),
    // Seeded targets: read-only but for their endpoint connections.
    Kind::new(VAULTS, "Microsoft.KeyVault", &["vaults"], KeyVault)
        .rendered(render_with_connections),
    Kind::new(
        "microsoft.keyvault/vaults/privateendpointconnections",
        "Microsoft.KeyVault",
        &["vaults", "privateEndpointConnections"],
        KeyVault,
    )
    .serve(&[(Put, put_connection_now), (Delete, delete)])
    .on_delete(on_connection_deleted),
    Kind::new(
        "microsoft.keyvault/vaults/privatelinkresources",
        "Microsoft.KeyVault",
        &["vaults", "privateLinkResources"],
        KeyVault,
    )
    .serve(&[(List, targets::list_link_resources)]),
    Kind::new(
        STORAGE_ACCOUNTS,
        "Microsoft.Storage",
        &["storageAccounts"],
        Storage,
    )
    .rendered(render_with_connections),
    Kind::new(
        "microsoft.storage/storageaccounts/privateendpointconnections",
        "Microsoft.Storage",
        &["storageAccounts", "privateEndpointConnections"],
        Storage,
    )
    .serve(&[(Put, put_connection_now), (Delete, connections::delete_now)])
    .on_delete(on_connection_deleted),
    Kind::new(
        "microsoft.storage/storageaccounts/privatelinkresources",
        "Microsoft.Storage",
        &["storageAccounts", "privateLinkResources"],
        Storage,
    )
    .serve(&[(List, targets::list_link_resources)]),
    Kind::new(
        AUTOMATION_ACCOUNTS,
        "Microsoft.Automation",
        &["automationAccounts"],
        Automation,
    )
    .rendered(render_with_connections),
    Kind::new(
        "microsoft.automation/automationaccounts/privateendpointconnections",
        "Microsoft.Automation",
        &["automationAccounts", "privateEndpointConnections"],
        Automation,
    )
    .serve(&[(Put, put_connection), (Delete, delete)])
    .on_delete(on_connection_deleted),
    Kind::new(
        "microsoft.automation/automationaccounts/privatelinkresources",
        "Microsoft.Automation",
        &["automationAccounts", "privateLinkResources"],
        Automation,
    )
    .serve(&[(List, targets::list_link_resources)]),
    Kind::new(
        WORKSPACES,
        "Microsoft.OperationalInsights",
        &["workspaces"],
        OperationalInsights,
    ),
];

pub fn kind_for(type_key: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.key.eq_ignore_ascii_case(type_key))
}

/// The resource as GET returns it: some properties are views of other resources.
pub fn render(map: &Map, type_key: &str, v: &Arc<Value>, view: &View) -> Value {
    match kind_for(type_key) {
        Some(kind) => kind.render(map, v, view),
        None => Value::clone(v),
    }
}

/// What goes with a resource of `type_key` when it is deleted.
pub fn cascade_for(type_key: &str) -> Option<Cascade> {
    kind_for(type_key).and_then(|k| k.on_delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_its_path_in_lower_case_and_appears_once() {
        for kind in KINDS {
            assert_eq!(kind.key, kind.type_name().to_ascii_lowercase());
            let same = KINDS.iter().filter(|k| k.key == kind.key).count();
            assert_eq!(same, 1, "{}", kind.key);
        }
    }
}
