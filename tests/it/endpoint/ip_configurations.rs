//! Static addresses (`spec.ipConfigurations`) and the network interface name
//! (`spec.networkInterfaceName`): written at creation, assigned by the emulator as Azure does,
//! and refused before any write when Azure would refuse them (a missing or unknown member of
//! the target's group, an address outside the subnet or in its reserved range), naming the
//! member.

use arclink::api::ip_configuration::IpConfiguration;
use arclink::azure::ResourceId;
use arclink::reconcile::endpoint::ip_configurations::{MISSING_MEMBERS, required_members};
use arclink::reconcile::{self, Settings};
use serde_json::{Value, json};

use super::support::*;
use super::target_support::{monitor_scope, target_deps, target_endpoint, vault_id};

const MEMBERS: [&str; 3] = [
    "HybridCompute.Server",
    "HybridCompute.K8sConfiguration",
    "GuestConfig.DP",
];

fn statics(addresses: &[(&str, &str)]) -> Vec<IpConfiguration> {
    addresses
        .iter()
        .map(|(m, ip)| IpConfiguration {
            member_name: m.to_string(),
            private_ip_address: ip.to_string(),
        })
        .collect()
}

fn all_three() -> Vec<IpConfiguration> {
    statics(&[
        (MEMBERS[0], "10.1.2.10"),
        (MEMBERS[1], "10.1.2.11"),
        (MEMBERS[2], "10.1.2.12"),
    ])
}

#[tokio::test]
async fn static_addresses_and_the_interface_name_are_what_the_endpoint_gets() {
    let b = bed().await;
    let scope = ready_scope(&b, "s1").await;
    let mut obj = endpoint("pe1", "hub", "s1");
    obj.spec.ip_configurations = all_three();
    obj.spec.network_interface_name = Some("hub-pe1-nic".into());
    converge(&b, &mut obj, &deps(&scope)).await;
    assert!(ready(&obj), "{:?}", obj.status);

    let azure = b.admin.get(&endpoint_id("pe1")).unwrap();
    let props = &azure["properties"];
    assert_eq!(props["customNetworkInterfaceName"], "hub-pe1-nic");
    let mut sent: Vec<(String, String, String)> = props["ipConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let p = &c["properties"];
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (s("groupId"), s("memberName"), s("privateIPAddress"))
        })
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            (
                "hybridcompute".into(),
                "GuestConfig.DP".into(),
                "10.1.2.12".into()
            ),
            (
                "hybridcompute".into(),
                "HybridCompute.K8sConfiguration".into(),
                "10.1.2.11".into()
            ),
            (
                "hybridcompute".into(),
                "HybridCompute.Server".into(),
                "10.1.2.10".into()
            ),
        ]
    );
    let st = obj.status.as_ref().unwrap();
    assert_eq!(st.private_ips, ["10.1.2.10", "10.1.2.11", "10.1.2.12"]);
    let his = st
        .dns_records
        .iter()
        .find(|r| r.fqdn == "gbl.his.arc.azure.com")
        .unwrap();
    assert_eq!(
        his.ip_addresses,
        ["10.1.2.10"],
        "HybridCompute.Server's name"
    );

    b.admin.reset_counters();
    let out = step(&b, &mut obj, &deps(&scope)).await;
    assert!(ready(&obj) && out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(b.admin.counters().writes(), 0);
}

#[tokio::test]
async fn a_missing_or_unknown_member_or_a_foreign_address_is_refused_before_any_write() {
    let b = bed().await;
    let scope = ready_scope(&b, "s1").await;
    let cases: Vec<(Vec<IpConfiguration>, &str, Vec<&str>)> = vec![
        (
            statics(&[(MEMBERS[0], "10.1.2.10"), (MEMBERS[1], "10.1.2.11")]),
            MISSING_MEMBERS,
            vec!["GuestConfig.DP"],
        ),
        (
            [
                all_three(),
                statics(&[("HybridCompute.Other", "10.1.2.13")]),
            ]
            .concat(),
            MISSING_MEMBERS,
            vec!["HybridCompute.Other"],
        ),
        (
            statics(&[
                (MEMBERS[0], "10.1.2.10"),
                (MEMBERS[1], "10.1.3.11"),
                (MEMBERS[2], "10.1.2.12"),
            ]),
            "PrivateIPAddressNotInSubnet",
            vec!["HybridCompute.K8sConfiguration", "10.1.3.11", "10.1.2.0/24"],
        ),
        (
            statics(&[
                (MEMBERS[0], "10.1.2.10"),
                (MEMBERS[1], "10.1.2.11"),
                (MEMBERS[2], "10.1.2.255"),
            ]),
            "PrivateIPAddressInReservedRange",
            vec!["GuestConfig.DP", "10.1.2.255"],
        ),
    ];
    for (i, (configs, code, named)) in cases.into_iter().enumerate() {
        let name = format!("pe-bad-{i}");
        let mut obj = endpoint(&name, "hub", "s1");
        obj.spec.ip_configurations = configs;
        b.admin.reset_counters();
        let out = step(&b, &mut obj, &deps(&scope)).await;
        assert!(stalled(&obj), "{code}: {:?}", obj.status);
        assert_eq!(reason(&obj, "Stalled"), code);
        let text = message(&obj, "Stalled");
        for n in named {
            assert!(text.contains(n), "{code}: {text}");
        }
        assert!(out.changes.is_empty(), "{:?}", out.changes);
        assert_eq!(b.admin.counters().writes(), 0, "{code}");
        assert!(b.admin.get(&endpoint_id(&name)).is_none());

        // plan (a dry run) says the same.
        let plan = Settings {
            dry_run: true,
            ..b.settings.clone()
        };
        let mut fresh = endpoint(&name, "hub", "s1");
        fresh.spec.ip_configurations = obj.spec.ip_configurations.clone();
        let out = reconcile::reconcile(&b.arm, &plan, &(), &fresh, &deps(&scope)).await;
        assert!(
            matches!(&out.phase, reconcile::Phase::Stalled { reason, .. } if reason == code),
            "{:?}",
            out.phase
        );
    }
}

#[tokio::test]
async fn the_required_members_come_from_the_targets_private_link_resources() {
    let b = bed().await;
    ready_scope(&b, "s1").await;
    let scope = ResourceId::parse(&scope_id("s1")).unwrap();
    let mut members = required_members(&b.arm, &scope, "hybridcompute")
        .await
        .unwrap()
        .unwrap();
    members.sort();
    assert_eq!(
        members,
        [
            "GuestConfig.DP",
            "HybridCompute.K8sConfiguration",
            "HybridCompute.Server"
        ]
    );
    assert_eq!(
        required_members(&b.arm, &scope, "nosuchgroup")
            .await
            .unwrap(),
        None
    );
    // A resource management private link lists no private link resources: Azure decides.
    let link = ResourceId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.Authorization/resourceManagementPrivateLinks/arm"
    ))
    .unwrap();
    let _: arclink::azure::Write<Value> = b
        .arm
        .put(&link, &json!({"location": "eastus"}))
        .await
        .unwrap();
    assert_eq!(
        required_members(&b.arm, &link, "ResourceManagement")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_existing_endpoint_with_other_addresses_or_interface_name_is_stalled_not_rewritten() {
    let b = bed().await;
    let scope = ready_scope(&b, "s1").await;
    let mut obj = endpoint("pe1", "hub", "s1");
    converge(&b, &mut obj, &deps(&scope)).await;
    assert!(ready(&obj), "{:?}", obj.status);

    // Declared afterwards (an object stored before the CRD's rule, or Azure changed by hand).
    obj.spec.ip_configurations = all_three();
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    step(&b, &mut obj, &deps(&scope)).await;
    assert_eq!(reason(&obj, "Stalled"), "IpConfigurationsMismatch");
    assert!(message(&obj, "Stalled").contains("HybridCompute.Server"));

    obj.spec.ip_configurations.clear();
    obj.spec.network_interface_name = Some("renamed-nic".into());
    obj.metadata.generation = Some(3);
    step(&b, &mut obj, &deps(&scope)).await;
    assert_eq!(reason(&obj, "Stalled"), "NetworkInterfaceNameMismatch");
    assert!(message(&obj, "Stalled").contains("renamed-nic"));
    assert_eq!(b.admin.counters().writes(), 0);
}

/// Every target's service is asked for its group's members (each with an api-version of its
/// own): a Key Vault endpoint gets its one static address, and an Azure Monitor endpoint that
/// leaves out one of its many members is refused before any write, naming it.
#[tokio::test]
async fn static_addresses_work_for_companion_targets_too() {
    let b = super::target_support::target_bed().await;
    let mut vault = target_endpoint("pe-kv", "hub", &vault_id(), "vault");
    vault.spec.ip_configurations = statics(&[("default", "10.1.2.20")]);
    let vault_deps = target_deps(&vault);
    converge(&b, &mut vault, &vault_deps).await;
    assert!(ready(&vault), "{:?}", vault.status);
    assert_eq!(vault.status.as_ref().unwrap().private_ips, ["10.1.2.20"]);

    let ampls = monitor_scope(&b, "ampls-1").await;
    let id = ResourceId::parse(&ampls).unwrap();
    let members = required_members(&b.arm, &id, "azuremonitor")
        .await
        .unwrap()
        .unwrap();
    assert!(members.len() > 5, "{members:?}");
    let mut monitor = target_endpoint("pe-ampls", "hub", &ampls, "azuremonitor");
    monitor.spec.ip_configurations = members
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, m)| IpConfiguration {
            member_name: m.clone(),
            private_ip_address: format!("10.1.2.{}", 30 + i),
        })
        .collect();
    let monitor_deps = target_deps(&monitor);
    b.admin.reset_counters();
    step(&b, &mut monitor, &monitor_deps).await;
    assert_eq!(reason(&monitor, "Stalled"), MISSING_MEMBERS);
    assert!(message(&monitor, "Stalled").contains(&members[0]));
    assert_eq!(b.admin.counters().writes(), 0);
}
