//! The catalogue is consistent (zones, names, sources) and maps ARM's `requiredZoneNames` to the
//! recommended zones for each group id, in each cloud.

use super::*;
use crate::azure::cloud::KnownCloud::{AzureChinaCloud, AzureCloud, AzureUSGovernment};

/// Group ids without Commercial zones, and why.
const NOT_COMMERCIAL: [(&str, &str); 1] = [(
    "file_secondary",
    "the Commercial table lists `file` alone; Government and China add `file_secondary`",
)];

fn names(zones: &[Zone]) -> Vec<&str> {
    zones.iter().map(|z| z.name).collect()
}

fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// `{name}.vault.azure.net` -> `x.vault.azure.net`.
fn without_placeholders(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        out.push('x');
        rest = after.split_once('}').map_or("", |(_, a)| a);
    }
    out.push_str(rest);
    out
}

#[test]
fn every_group_id_has_commercial_zones() {
    for g in &GROUPS {
        let commercial = zones(AzureCloud, g.group_id);
        match NOT_COMMERCIAL.iter().find(|(id, _)| *id == g.group_id) {
            Some((id, _)) => assert!(commercial.is_none(), "{id} is listed as not Commercial"),
            None => assert!(
                commercial.is_some_and(|z| !z.is_empty()),
                "{} has no Commercial zones",
                g.group_id
            ),
        }
    }
}

#[test]
fn zone_names_are_lower_case_privatelink_names_and_serve_public_zones() {
    for e in ENTRIES {
        assert!(!e.zones.is_empty(), "{} {:?}", e.group_id, e.cloud);
        for z in e.zones {
            assert!(
                z.name.starts_with("privatelink.") && is_dns_name(z.name),
                "{}: {:?}",
                e.group_id,
                z.name
            );
            assert!(!z.serves.is_empty(), "{}", z.name);
            for public in z.serves.iter().chain(e.extra_forwarders) {
                assert!(
                    is_dns_name(public) && !public.starts_with("privatelink."),
                    "{}: {public:?}",
                    z.name
                );
            }
            // The zone's own public suffix resolves through it (the recommended naming
            // scheme), except Key Vault's, whose names are vault.*, whose zone vaultcore.*.
            assert!(
                z.serves.contains(&public_suffix(z.name).as_str()) || z.name.contains("vaultcore"),
                "{} does not serve {}",
                z.name,
                public_suffix(z.name)
            );
        }
    }
}

#[test]
fn every_value_has_its_source() {
    for e in ENTRIES {
        assert!(
            !e.zones_source.text().is_empty(),
            "{} {:?}",
            e.group_id,
            e.cloud
        );
        for n in e.names {
            assert!(!n.source.text().is_empty(), "{}", n.pattern);
            assert!(
                is_dns_name(&without_placeholders(n.pattern)),
                "{}",
                n.pattern
            );
        }
    }
    for g in &GROUPS {
        if let Some(s) = g.one_endpoint_per_dns {
            assert!(!s.text().is_empty(), "{}", g.group_id);
        }
    }
}

#[test]
fn rows_are_unique_and_of_known_group_ids() {
    for (i, e) in ENTRIES.iter().enumerate() {
        let g = group(e.group_id).unwrap_or_else(|| panic!("{} not in GROUPS", e.group_id));
        assert_eq!(g.group_id, e.group_id, "spelled as in GROUPS");
        assert!(
            !ENTRIES[..i]
                .iter()
                .any(|o| o.cloud == e.cloud && o.group_id.eq_ignore_ascii_case(e.group_id)),
            "{} {:?} twice",
            e.group_id,
            e.cloud
        );
        assert!(
            e.names
                .iter()
                .all(|n| zone_serving(e.zones, n.pattern).is_some()),
            "every name of {} {:?} is served by one of its zones",
            e.group_id,
            e.cloud
        );
    }
    for (i, g) in GROUPS.iter().enumerate() {
        assert!(!GROUPS[..i].iter().any(|o| o.group_id == g.group_id));
    }
}

/// A zone belongs to one cloud (so an endpoint's records tell its cloud), and a zone shared by
/// several group ids of one cloud is the same zone everywhere.
#[test]
fn zones_belong_to_one_cloud_and_agree_where_shared() {
    for e in ENTRIES {
        for z in e.zones {
            assert_eq!(cloud_of_zone(z.name), Some(e.cloud), "{}", z.name);
            for o in ENTRIES.iter().filter(|o| o.cloud == e.cloud) {
                for same in o.zones.iter().filter(|oz| oz.name == z.name) {
                    assert_eq!(same, z, "{} in {} and {}", z.name, e.group_id, o.group_id);
                }
            }
        }
    }
}

#[test]
fn arc_has_its_three_zones_in_every_cloud_inferred_outside_commercial() {
    for (cloud, suffix) in [
        (AzureCloud, "com"),
        (AzureUSGovernment, "us"),
        (AzureChinaCloud, "cn"),
    ] {
        let e = entry(cloud, HYBRID_COMPUTE).unwrap();
        assert_eq!(
            names(e.zones),
            [
                format!("privatelink.his.arc.azure.{suffix}"),
                format!("privatelink.guestconfiguration.azure.{suffix}"),
                format!("privatelink.dp.kubernetesconfiguration.azure.{suffix}"),
            ]
        );
        assert_eq!(e.zones_source.is_inferred(), cloud != AzureCloud);
    }
}

#[test]
fn azure_monitor_has_five_zones_six_in_government_none_confirmed_in_china() {
    assert_eq!(
        names(zones(AzureCloud, AZURE_MONITOR).unwrap()),
        [
            "privatelink.monitor.azure.com",
            "privatelink.oms.opinsights.azure.com",
            "privatelink.ods.opinsights.azure.com",
            "privatelink.agentsvc.azure-automation.net",
            "privatelink.blob.core.windows.net",
        ]
    );
    assert_eq!(zones(AzureUSGovernment, AZURE_MONITOR).unwrap().len(), 6);
    assert!(zones(AzureChinaCloud, AZURE_MONITOR).is_none());
    assert!(group(AZURE_MONITOR).unwrap().one_endpoint_per_dns.is_some());
    assert!(group("vault").unwrap().one_endpoint_per_dns.is_none());
}

#[test]
fn the_other_group_ids_have_their_documented_zones() {
    for (cloud, group_id, zone) in [
        (AzureCloud, "vault", "privatelink.vaultcore.azure.net"),
        (
            AzureUSGovernment,
            "vault",
            "privatelink.vaultcore.usgovcloudapi.net",
        ),
        (AzureChinaCloud, "vault", "privatelink.vaultcore.azure.cn"),
        (AzureCloud, "blob", "privatelink.blob.core.windows.net"),
        (
            AzureCloud,
            "blob_secondary",
            "privatelink.blob.core.windows.net",
        ),
        (
            AzureUSGovernment,
            "dfs_secondary",
            "privatelink.dfs.core.usgovcloudapi.net",
        ),
        (
            AzureChinaCloud,
            "file_secondary",
            "privatelink.file.core.chinacloudapi.cn",
        ),
        (AzureCloud, "webhook", "privatelink.azure-automation.net"),
        (
            AzureCloud,
            "DSCAndHybridWorker",
            "privatelink.azure-automation.net",
        ),
        (
            AzureUSGovernment,
            "Webhook",
            "privatelink.azure-automation.us",
        ),
        (AzureCloud, "ResourceManagement", "privatelink.azure.com"),
    ] {
        assert_eq!(
            zones(cloud, group_id).map(names),
            Some(vec![zone]),
            "{group_id} {cloud:?}"
        );
    }
    assert!(zones(AzureUSGovernment, "ResourceManagement").is_none());
    assert!(zones(AzureChinaCloud, "ResourceManagement").is_none());
    assert!(
        zones(AzureCloud, "sqlServer").is_none(),
        "outside the catalogue"
    );
}

#[test]
fn shared_zones_name_every_writer() {
    let blob = sharers(AzureCloud, "privatelink.blob.core.windows.net");
    for writer in [
        "azuremonitor",
        "blob",
        "blob_secondary",
        "disks",
        "volumegroup",
        "AzureBackup",
        "cluster",
    ] {
        assert!(blob.contains(&writer), "{writer} in {blob:?}");
    }
    assert_eq!(
        sharers(AzureCloud, "privatelink.monitor.azure.com"),
        ["azuremonitor"]
    );
    assert_eq!(
        sharers(AzureCloud, "privatelink.azure-automation.net"),
        ["Webhook", "DSCAndHybridWorker"]
    );
    assert_eq!(
        sharers(AzureUSGovernment, "privatelink.blob.core.usgovcloudapi.net"),
        ["azuremonitor", "blob", "blob_secondary"]
    );
    assert!(sharers(AzureCloud, "privatelink.example.com").is_empty());
}

/// Behaviour 8: ARM's `requiredZoneNames` (official example: no `dp.`, mixed case) map to
/// the zones Microsoft's table and the built-in Azure Policy use.
#[test]
fn required_zone_names_map_to_the_recommended_zones() {
    let arc = |n| recommended_zone(AzureCloud, HYBRID_COMPUTE, n);
    assert_eq!(
        arc("privatelink.kubernetesconfiguration.azure.com"),
        "privatelink.dp.kubernetesconfiguration.azure.com"
    );
    assert_eq!(
        arc("privatelink.Guestconfiguration.azure.com"),
        "privatelink.guestconfiguration.azure.com"
    );
    assert_eq!(
        arc("PRIVATELINK.HIS.ARC.AZURE.COM"),
        "privatelink.his.arc.azure.com"
    );
    assert_eq!(
        arc("privatelink.example.azure.com"),
        "privatelink.example.azure.com",
        "a name outside the table is kept"
    );
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// The `requiredZoneNames` of each group's official `privateLinkResources` example map to the
/// catalogue's zones of that group.
#[test]
fn each_groups_example_required_zone_names_give_its_zones() {
    for (group_id, example) in [
        // hybridcompute PrivateLinkScopePrivateLinkResource_Get.json (2026-09-01)
        (
            HYBRID_COMPUTE,
            &[
                "privatelink.his.arc.azure.com",
                "privatelink.kubernetesconfiguration.azure.com",
                "privatelink.Guestconfiguration.azure.com",
            ][..],
        ),
        // monitor PrivateLinkScopePrivateLinkResourceListGet.json (2021-09-01)
        (
            AZURE_MONITOR,
            &[
                "privatelink.monitor.azure.com",
                "privatelink.oms.opinsights.azure.com",
                "privatelink.ods.opinsights.azure.com",
                "privatelink.agentsvc.azure-automation.net",
                "privatelink.blob.core.windows.net",
            ][..],
        ),
        // keyvault listPrivateLinkResources.json (2026-04-01)
        ("vault", &["privatelink.vaultcore.azure.net"][..]),
        // storage StorageAccountListPrivateLinkResources.json (2025-06-01)
        ("blob", &["privatelink.blob.core.windows.net"][..]),
        ("blob_secondary", &["privatelink.blob.core.windows.net"][..]),
        ("table", &["privatelink.table.core.windows.net"][..]),
        (
            "table_secondary",
            &["privatelink.table.core.windows.net"][..],
        ),
        ("dfs", &["privatelink.dfs.core.windows.net"][..]),
        ("dfs_secondary", &["privatelink.dfs.core.windows.net"][..]),
    ] {
        let mut got = recommended_zones(AzureCloud, group_id, &owned(example));
        let mut want: Vec<String> = owned(&names(zones(AzureCloud, group_id).unwrap()));
        got.sort();
        want.sort();
        assert_eq!(got, want, "{group_id}");
    }
}

#[test]
fn government_names_map_to_government_zones() {
    let reported = owned(&[
        "privatelink.his.arc.azure.us",
        "privatelink.kubernetesconfiguration.azure.us",
        "privatelink.Guestconfiguration.azure.us",
        "privatelink.his.arc.azure.us",
    ]);
    assert_eq!(
        recommended_zones(AzureUSGovernment, HYBRID_COMPUTE, &reported),
        [
            "privatelink.his.arc.azure.us",
            "privatelink.dp.kubernetesconfiguration.azure.us",
            "privatelink.guestconfiguration.azure.us",
        ],
        "mapped and deduplicated"
    );
    // A public cloud's name (the emulator's, whatever --cloud says) maps to that cloud's zone.
    assert_eq!(
        recommended_zone(
            AzureUSGovernment,
            HYBRID_COMPUTE,
            "privatelink.kubernetesconfiguration.azure.com"
        ),
        "privatelink.dp.kubernetesconfiguration.azure.com"
    );
    assert_eq!(
        recommended_zone(
            AzureCloud,
            HYBRID_COMPUTE,
            "privatelink.Guestconfiguration.azure.cn"
        ),
        "privatelink.guestconfiguration.azure.cn"
    );
    assert_eq!(
        recommended_zone(
            AzureUSGovernment,
            "VAULT",
            "privatelink.vaultcore.usgovcloudapi.net"
        ),
        "privatelink.vaultcore.usgovcloudapi.net"
    );
}

#[test]
fn without_required_zone_names_the_catalogues_zones_apply() {
    assert_eq!(
        recommended_zones(AzureUSGovernment, HYBRID_COMPUTE, &[]),
        names(zones(AzureUSGovernment, HYBRID_COMPUTE).unwrap())
    );
    assert_eq!(recommended_zones(AzureCloud, AZURE_MONITOR, &[]).len(), 5);
    assert!(recommended_zones(AzureCloud, "sqlServer", &[]).is_empty());
    assert_eq!(
        recommended_zones(
            AzureCloud,
            "sqlServer",
            &owned(&["privatelink.database.windows.net"])
        ),
        ["privatelink.database.windows.net"],
        "a group outside the catalogue keeps ARM's names"
    );
}

#[test]
fn names_find_their_zone_and_cloud() {
    let vault = zones(AzureCloud, "vault").unwrap();
    assert_eq!(
        zone_serving(vault, "MyVault.vault.azure.net.").map(|z| z.name),
        Some("privatelink.vaultcore.azure.net")
    );
    assert_eq!(zone_serving(vault, "myvault.vault.usgovcloudapi.net"), None);
    let arc = zones(AzureUSGovernment, HYBRID_COMPUTE).unwrap();
    assert_eq!(
        zone_serving(arc, "gbl.his.arc.azure.us").map(|z| z.name),
        Some("privatelink.his.arc.azure.us")
    );
    assert_eq!(
        zone_serving(arc, "usgovvirginia.dp.kubernetesconfiguration.azure.us").map(|z| z.name),
        Some("privatelink.dp.kubernetesconfiguration.azure.us")
    );
    assert_eq!(
        cloud_of_zone("privatelink.his.arc.azure.us"),
        Some(AzureUSGovernment)
    );
    assert_eq!(
        cloud_of_zone("PRIVATELINK.VAULTCORE.AZURE.CN"),
        Some(AzureChinaCloud)
    );
    assert_eq!(cloud_of_zone("privatelink.example.com"), None);
}

#[test]
fn names_expand_only_with_what_is_known() {
    let vault = &entry(AzureUSGovernment, "vault").unwrap().names[0];
    assert_eq!(
        vault.expand(Some("kv1")).as_deref(),
        Some("kv1.vault.usgovcloudapi.net")
    );
    assert_eq!(vault.expand(None), None, "the vault's name is needed");
    let arc = entry(AzureCloud, HYBRID_COMPUTE).unwrap().names;
    let known: Vec<String> = arc.iter().filter_map(|n| n.expand(None)).collect();
    assert_eq!(
        known,
        [
            "gbl.his.arc.azure.com",
            "agentserviceapi.guestconfiguration.azure.com"
        ],
        "regional names need the region"
    );
    let rm = &entry(AzureCloud, "ResourceManagement").unwrap().names[0];
    assert_eq!(
        rm.expand(Some("rmpl")).as_deref(),
        Some("management.azure.com")
    );
}
