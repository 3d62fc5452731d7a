//! What clients read before they write: api-versions, subscription and tenant lists, resource
//! providers, generic resource lists and the cloud metadata document.

use arclink::emulator::EmulatorConfig;
use serde_json::{Value, json};

use super::support::*;

fn code(r: &Resp) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_default()
}

fn names(r: &Resp) -> Vec<String> {
    r.body["value"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|x| x["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The versions Microsoft's SDK and CLI send (issue 20 item 10), and the readmes' others.
#[tokio::test]
async fn every_api_version_the_readmes_list_is_served() {
    let env = env().await;
    let subnet = net("virtualNetworks/vnet1/subnets/endpoints");
    let nsg_rules = net("networkSecurityGroups/nsg1/securityRules");
    for v in [
        "2026-03-01", // azure-mgmt-network 33.1
        "2026-01-01", // az network private-endpoint create
        "2022-01-01", // az: zone groups and security rules
        "2022-05-01",
        "2024-09-01-preview",
    ] {
        assert_eq!(
            env.get(&format!("{subnet}?api-version={v}")).await.status,
            200,
            "{v}"
        );
        assert_eq!(
            env.get(&format!("{nsg_rules}?api-version={v}"))
                .await
                .status,
            200,
            "{v}"
        );
    }
    for v in [
        "2018-09-01",
        "2020-06-01",
        "2024-06-01",
        "2026-06-01-preview",
    ] {
        let r = env
            .get(&format!(
                "{}/providers/Microsoft.Network/privateDnsZones?api-version={v}",
                rg_path("net")
            ))
            .await;
        assert_eq!(r.status, 200, "{v}");
    }
    for v in [
        "2019-12-12",
        "2022-12-27",
        "2025-06-01",
        "2026-06-04-preview",
    ] {
        assert_eq!(
            env.get(&format!("{}?api-version={v}", machine_path("web-01")))
                .await
                .status,
            200,
            "{v}"
        );
    }
    for v in ["2021-04-01", "2022-12-01", "2025-04-01"] {
        assert_eq!(
            env.get(&format!("{}?api-version={v}", rg_path("net")))
                .await
                .status,
            200,
            "{v}"
        );
    }
    // Versions no readme lists are refused, naming the supported ones.
    for (path, v) in [
        (subnet.clone(), "2021-08-01"),
        (subnet.clone(), "2026-05-01"),
        (machine_path("web-01"), "2026-10-01"),
    ] {
        let r = env.get(&format!("{path}?api-version={v}")).await;
        assert_eq!(
            (r.status, code(&r)),
            (400, "InvalidApiVersionParameter"),
            "{v}"
        );
    }
    let r = env.get(&format!("{subnet}?api-version=2021-08-01")).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2026-03-01"),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn subscriptions_and_tenants_are_listed() {
    let env = env_with_principals("[{tenantId: tenant1, clientId: app, clientSecret: s}]").await;
    let r = env.get("/subscriptions?api-version=2022-12-01").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let subs = r.body["value"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["subscriptionId"], SUB);
    assert_eq!(subs[0]["id"], format!("/subscriptions/{SUB}"));
    assert_eq!(subs[0]["tenantId"], "tenant1");
    assert_eq!(subs[0]["state"], "Enabled");
    assert_eq!(subs[0]["managedByTenants"], json!([]));
    let t = env.get("/tenants?api-version=2022-12-01").await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body["value"][0]["tenantId"], "tenant1");
    assert_eq!(t.body["value"][0]["id"], "/tenants/tenant1");
    assert_eq!(t.body["value"].as_array().unwrap().len(), 1);
    let bad = env.get("/subscriptions?api-version=2021-08-01").await;
    assert_eq!(code(&bad), "InvalidApiVersionParameter");
    let anonymous = client_for(&env.emu)
        .get(env.url("/subscriptions?api-version=2022-12-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn providers_list_their_types_versions_and_locations() {
    let env = env().await;
    let r = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/microsoft.hybridcompute?api-version=2025-04-01"
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["namespace"], "Microsoft.HybridCompute");
    assert_eq!(r.body["registrationState"], "Registered");
    let types = r.body["resourceTypes"].as_array().unwrap();
    let scopes = types
        .iter()
        .find(|t| t["resourceType"] == "privateLinkScopes")
        .expect("privateLinkScopes");
    let versions: Vec<&str> = scopes["apiVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(versions[0], "2026-09-01", "newest first");
    assert!(versions.contains(&"2024-07-10"));
    assert!(
        scopes["locations"]
            .as_array()
            .unwrap()
            .contains(&json!("West Europe"))
    );

    let network = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Network?api-version=2025-04-01"
        ))
        .await;
    let types = network.body["resourceTypes"].as_array().unwrap();
    let of = |t: &str| {
        types
            .iter()
            .find(|x| x["resourceType"] == t)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(of("privateDnsZones")["locations"], json!(["global"]));
    assert_eq!(
        of("privateDnsZones")["apiVersions"][0],
        "2026-06-01-preview"
    );
    assert_eq!(of("privateEndpoints")["apiVersions"][0], "2026-03-01");
    assert!(of("networkSecurityGroups/securityRules").is_object());
    assert!(of("privateDnsZones/ALL").is_object());

    let unknown = env
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Nope?api-version=2025-04-01"
        ))
        .await;
    assert_eq!(
        (unknown.status, code(&unknown)),
        (404, "InvalidResourceNamespace")
    );
    let all = env
        .get(&format!(
            "/subscriptions/{SUB}/providers?api-version=2025-04-01"
        ))
        .await;
    let namespaces: Vec<&str> = all.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["namespace"].as_str().unwrap())
        .collect();
    assert!(
        namespaces.contains(&"Microsoft.HybridCompute")
            && namespaces.contains(&"Microsoft.Network")
    );
    let elsewhere = env
        .get("/subscriptions/00000000-0000-0000-0000-000000000009/providers/Microsoft.Network?api-version=2025-04-01")
        .await;
    assert_eq!(code(&elsewhere), "SubscriptionNotFound");
}

#[tokio::test]
async fn resources_of_a_group_and_a_subscription_are_listed_top_level_only() {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        page_size: 4,
        ..Default::default()
    })
    .await;
    let r = env
        .get(&format!(
            "{}/resources?api-version=2025-04-01",
            rg_path("net")
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut got = names(&r);
    got.sort();
    assert_eq!(got, ["nsg1", "vnet1"], "no subnets or rules");
    let item = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "vnet1")
        .unwrap();
    assert_eq!(item["type"], "Microsoft.Network/virtualNetworks");
    assert_eq!(item["location"], "westeurope");
    assert!(item.get("properties").is_none(), "GenericResourceExpanded");

    // rg1 has 6 machines: two pages of 4.
    let first = env
        .get(&format!(
            "{}/resources?api-version=2025-04-01",
            rg_path("rg1")
        ))
        .await;
    assert_eq!(names(&first).len(), 4);
    let next = first.body["nextLink"].as_str().unwrap().to_string();
    let second = env.get(&next).await;
    assert_eq!(names(&second).len(), 2);
    assert!(second.body.get("nextLink").is_none());
    let machine = &first.body["value"][0];
    assert_eq!(machine["identity"]["type"], "SystemAssigned");

    let mut all = Vec::new();
    let mut url = format!("/subscriptions/{SUB}/resources?api-version=2025-04-01");
    loop {
        let page = env.get(&url).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        all.extend(names(&page));
        match page.body["nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(all.len(), 8, "{all:?}");
    let missing = env
        .get(&format!(
            "{}/resources?api-version=2025-04-01",
            rg_path("absent")
        ))
        .await;
    assert_eq!(code(&missing), "ResourceGroupNotFound");
    let filtered = env
        .get(&format!(
            "{}/resources?api-version=2025-04-01&$filter=resourceType%20eq%20'x'",
            rg_path("net")
        ))
        .await;
    assert_eq!(filtered.status, 400, "a filter is refused, not ignored");
}

/// `az cloud register` reads it without a token.
#[tokio::test]
async fn the_cloud_metadata_document_points_at_the_emulator() {
    let env = env().await;
    let client = client_for(&env.emu);
    let get = |q: &str| {
        client
            .get(env.url(&format!("/metadata/endpoints{q}")))
            .send()
    };
    let r = read(get("?api-version=2022-09-01").await.unwrap()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let base = env.emu.endpoint();
    assert_eq!(r.body["resourceManager"], format!("{base}/"));
    assert_eq!(r.body["authentication"]["loginEndpoint"], base);
    assert_eq!(r.body["authentication"]["tenant"], "common");
    assert!(r.body["authentication"]["audiences"].is_array());
    assert_eq!(r.body["suffixes"]["storage"], "core.windows.net");
    // The shape of the public cloud's document, key for key.
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/azure-specs/_other/arm-metadata-endpoints-2022-09-01.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&r.body), keys(&saved));
    assert_eq!(keys(&r.body["suffixes"]), keys(&saved["suffixes"]));
    assert_eq!(
        keys(&r.body["authentication"]),
        keys(&saved["authentication"])
    );
    let old = read(get("?api-version=2019-05-01").await.unwrap()).await;
    assert_eq!(old.body["error"]["code"], "InvalidApiVersionParameter");
    let none = read(get("").await.unwrap()).await;
    assert_eq!(none.body["error"]["code"], "MissingApiVersionParameter");
}

/// Machines_Get shows the agent's system-assigned identity and the machine's extensions.
#[tokio::test]
async fn machines_carry_an_identity_and_resources() {
    let env = env().await;
    let m = env
        .get(&format!("{}?api-version={HC}", machine_path("web-01")))
        .await;
    assert_eq!(m.body["identity"]["type"], "SystemAssigned");
    let principal = m.body["identity"]["principalId"].as_str().unwrap();
    assert_eq!(principal.len(), 36);
    assert_eq!(
        m.body["identity"]["tenantId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(m.body["resources"], json!([]));
    let other = env
        .get(&format!("{}?api-version={HC}", machine_path("node-00000")))
        .await;
    assert_ne!(other.body["identity"]["principalId"], principal);
}
