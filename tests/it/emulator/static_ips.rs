//! Static IP configurations and custom interface names of private endpoints: addresses
//! assigned as asked, every required member named, addresses of the subnet only.

use serde_json::{Value, json};

use super::companion_support::*;

fn ip_config(group: &str, member: &str, ip: &str) -> Value {
    json!({"name": format!("cfg-{}", member.to_ascii_lowercase().replace('.', "-")),
        "properties": {"groupId": group, "memberName": member, "privateIPAddress": ip}})
}

fn arc_configs(ips: [&str; 3]) -> Value {
    json!([
        ip_config("hybridcompute", "HybridCompute.Server", ips[0]),
        ip_config("hybridcompute", "HybridCompute.K8sConfiguration", ips[1]),
        ip_config("hybridcompute", "GuestConfig.DP", ips[2]),
    ])
}

#[tokio::test]
async fn an_arc_endpoint_gets_the_static_addresses_of_its_three_members() {
    let env = companion_env().await;
    let scope = put_scope(&env, "scope1").await;
    let plr = env
        .get(&format!(
            "{}/privateLinkResources?api-version={HC}",
            scope_path("scope1")
        ))
        .await;
    let required: Vec<String> = plr.body["value"][0]["properties"]["requiredMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        required,
        [
            "HybridCompute.Server",
            "HybridCompute.K8sConfiguration",
            "GuestConfig.DP"
        ]
    );
    let body = endpoint_body(
        &scope,
        json!(["hybridcompute"]),
        json!({"ipConfigurations": arc_configs(["10.0.1.10", "10.0.1.11", "10.0.1.12"]),
            "customNetworkInterfaceName": "nic-arc"}),
    );
    let pe = put_endpoint(&env, "pe-arc", body).await;
    let names: Vec<(String, String)> = dns_names(&pe);
    let by_name = |f: &str| names.iter().find(|(n, _)| n == f).unwrap().1.clone();
    assert_eq!(by_name("gbl.his.arc.azure.com"), "10.0.1.10");
    assert_eq!(by_name("westeurope.his.arc.azure.com"), "10.0.1.10");
    assert_eq!(
        by_name("westeurope.dp.kubernetesconfiguration.azure.com"),
        "10.0.1.11"
    );
    assert_eq!(
        by_name("agentserviceapi.guestconfiguration.azure.com"),
        "10.0.1.12"
    );

    let nic_id = pe["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .unwrap();
    assert!(nic_id.ends_with("/networkInterfaces/nic-arc"), "{nic_id}");
    let nic = env.get(&format!("{nic_id}?api-version={NET}")).await.body;
    let configs = nic["properties"]["ipConfigurations"].as_array().unwrap();
    assert_eq!(configs.len(), 3);
    let mut members: Vec<&str> = configs
        .iter()
        .map(|c| {
            assert_eq!(c["properties"]["privateIPAllocationMethod"], "Static");
            c["properties"]["privateLinkConnectionProperties"]["requiredMemberName"]
                .as_str()
                .unwrap()
        })
        .collect();
    members.sort();
    let mut expected = required.clone();
    expected.sort();
    assert_eq!(
        members, expected,
        "the NIC's members are the private link resource's"
    );
    assert_eq!(
        configs[0]["properties"]["privateLinkConnectionProperties"]["fqdns"],
        json!(["gbl.his.arc.azure.com", "westeurope.his.arc.azure.com"])
    );
}

#[tokio::test]
async fn without_static_addresses_an_arc_endpoints_nic_names_the_real_members() {
    let env = companion_env().await;
    let scope = put_scope(&env, "scope1").await;
    let pe = put_endpoint(
        &env,
        "pe-arc",
        endpoint_body(&scope, json!(["hybridcompute"]), json!({})),
    )
    .await;
    let nic_id = pe["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .unwrap();
    let nic = env.get(&format!("{nic_id}?api-version={NET}")).await.body;
    let members: Vec<&str> = nic["properties"]["ipConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["properties"]["privateLinkConnectionProperties"]["requiredMemberName"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        members,
        [
            "HybridCompute.Server",
            "HybridCompute.Server",
            "GuestConfig.DP",
            "GuestConfig.DP",
            "HybridCompute.K8sConfiguration"
        ]
    );
}

#[tokio::test]
async fn static_configurations_must_name_every_required_member_and_no_other() {
    let env = companion_env().await;
    let scope = put_scope(&env, "scope1").await;
    let url = format!("{}?api-version={NET}", endpoint_path("pe-arc"));
    let missing = json!([
        ip_config("hybridcompute", "HybridCompute.Server", "10.0.1.10"),
        ip_config("hybridcompute", "GuestConfig.DP", "10.0.1.12"),
    ]);
    let r = env
        .put(
            &url,
            endpoint_body(
                &scope,
                json!(["hybridcompute"]),
                json!({"ipConfigurations": missing}),
            ),
        )
        .await;
    assert_refused(
        &r,
        400,
        "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps",
    );
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("contains static ipconfigurations: [PrivateIPAddress: 10.0.1.10, GroupId: hybridcompute, MemberName: HybridCompute.Server; PrivateIPAddress: 10.0.1.12, GroupId: hybridcompute, MemberName: GuestConfig.DP]")
            && message.contains("missing these membernames/groupids requested by Private Link service [GroupId: hybridcompute, MemberName: HybridCompute.K8sConfiguration]"),
        "{message}"
    );
    let mut unknown = arc_configs(["10.0.1.10", "10.0.1.11", "10.0.1.12"]);
    unknown.as_array_mut().unwrap().push(ip_config(
        "hybridcompute",
        "HybridCompute.Other",
        "10.0.1.13",
    ));
    let r = env
        .put(
            &url,
            endpoint_body(
                &scope,
                json!(["hybridcompute"]),
                json!({"ipConfigurations": unknown}),
            ),
        )
        .await;
    assert_refused(
        &r,
        400,
        "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps",
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MemberName: HybridCompute.Other")
    );

    // Key Vault's member is `default`, not `vault` (as users meet it).
    let kv = rg1("Microsoft.KeyVault/vaults/kv1");
    let r = env
        .put(
            &url,
            endpoint_body(
                &kv,
                json!(["vault"]),
                json!({"ipConfigurations": [ip_config("vault", "vault", "10.0.1.10")]}),
            ),
        )
        .await;
    assert_refused(
        &r,
        400,
        "PrivateEndpointIpConfigurationMissingMemberNamesRequiredByFps",
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[GroupId: vault, MemberName: default]")
    );
    assert_eq!(env.get(&url).await.status, 404, "nothing was written");
}

#[tokio::test]
async fn static_addresses_must_be_free_usable_addresses_of_the_subnet() {
    let env = companion_env().await;
    let scope = put_scope(&env, "scope1").await;
    let url = format!("{}?api-version={NET}", endpoint_path("pe-arc"));
    for (ips, code) in [
        (
            ["10.0.2.10", "10.0.1.11", "10.0.1.12"],
            "PrivateIPAddressNotInSubnet",
        ),
        (
            ["10.0.1.2", "10.0.1.11", "10.0.1.12"],
            "PrivateIPAddressInReservedRange",
        ),
        (
            ["10.0.1.255", "10.0.1.11", "10.0.1.12"],
            "PrivateIPAddressInReservedRange",
        ),
    ] {
        let r = env
            .put(
                &url,
                endpoint_body(
                    &scope,
                    json!(["hybridcompute"]),
                    json!({"ipConfigurations": arc_configs(ips)}),
                ),
            )
            .await;
        assert_refused(&r, 400, code);
    }
    let r = env
        .put(&url, endpoint_body(&scope, json!(["hybridcompute"]), json!({"ipConfigurations": [{"name": "x", "properties": {"groupId": "hybridcompute", "memberName": "GuestConfig.DP", "privateIPAddress": "ten"}}]})))
        .await;
    assert_refused(&r, 400, "InvalidRequestContent");

    let kv = rg1("Microsoft.KeyVault/vaults/kv1");
    put_endpoint(
        &env,
        "pe-kv",
        endpoint_body(&kv, json!(["vault"]), json!({})),
    )
    .await;
    let r = env
        .put(
            &url,
            endpoint_body(
                &scope,
                json!(["hybridcompute"]),
                json!({"ipConfigurations": arc_configs(["10.0.1.4", "10.0.1.11", "10.0.1.12"])}),
            ),
        )
        .await;
    assert_refused(&r, 400, "PrivateIPAddressIsAllocated");
    // Dynamic addresses go around the static ones.
    let pe = put_endpoint(
        &env,
        "pe-arc",
        endpoint_body(
            &scope,
            json!(["hybridcompute"]),
            json!({"ipConfigurations": arc_configs(["10.0.1.5", "10.0.1.6", "10.0.1.7"])}),
        ),
    )
    .await;
    assert_eq!(dns_names(&pe)[0].1, "10.0.1.5");
    let st = rg1("Microsoft.Storage/storageAccounts/st1");
    let next = put_endpoint(
        &env,
        "pe-st",
        endpoint_body(&st, json!(["blob"]), json!({})),
    )
    .await;
    assert_eq!(dns_names(&next)[0].1, "10.0.1.8");
}
