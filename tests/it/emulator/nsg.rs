//! Network security groups (seeded) and their security rules, validated as Network does.

use arclink::emulator::{EmulatorConfig, Fixtures};
use serde_json::{Value, json};

use super::support::*;

fn nsg(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/{name}",
        rg_path("net")
    )
}

fn rule(name: &str) -> String {
    format!("{}/securityRules/{name}?api-version={NET}", nsg("nsg1"))
}

fn props(priority: i64, direction: &str) -> Value {
    json!({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
        "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "AzureActiveDirectory",
        "access": "Allow", "priority": priority, "direction": direction})
}

async fn put_rule(env: &Env, name: &str, p: Value) -> Resp {
    env.put(&rule(name), json!({ "properties": p })).await
}

fn code(r: &Resp) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_group_shows_its_rules_default_rules_and_subnets() {
    let env = env().await;
    let g = env.get(&format!("{}?api-version={NET}", nsg("NSG1"))).await;
    assert_eq!(g.status, 200, "{:?}", g.body);
    assert_eq!(g.body["type"], "Microsoft.Network/networkSecurityGroups");
    let rules = g.body["properties"]["securityRules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["name"], "DenyInternet");
    assert_eq!(
        rules[0]["properties"]["destinationAddressPrefix"],
        "Internet"
    );
    let defaults = g.body["properties"]["defaultSecurityRules"]
        .as_array()
        .unwrap();
    assert_eq!(defaults.len(), 6);
    assert!(
        defaults
            .iter()
            .any(|d| d["name"] == "DenyAllOutBound" && d["properties"]["priority"] == 65500)
    );
    let subnets = g.body["properties"]["subnets"].as_array().unwrap();
    assert_eq!(subnets.len(), 1);
    assert!(
        subnets[0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/subnets/tiny")
    );
    // The subnet names its group.
    let s = env
        .get(&format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/tiny?api-version={NET}",
            rg_path("net")
        ))
        .await;
    assert!(
        s.body["properties"]["networkSecurityGroup"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/networkSecurityGroups/nsg1")
    );
}

#[tokio::test]
async fn a_rule_is_created_read_listed_updated_and_deleted() {
    let env = env().await;
    let r = put_rule(&env, "AllowAAD", props(150, "outbound")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    assert_eq!(
        r.body["properties"]["direction"], "Outbound",
        "enum values normalised"
    );
    let op = r
        .header("azure-asyncoperation")
        .expect("Network PUTs are async");
    env.wait(&op).await;
    let got = env.get(&rule("allowaad")).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body["name"], "AllowAAD",
        "the casing it was created with"
    );
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        got.body["type"],
        "Microsoft.Network/networkSecurityGroups/securityRules"
    );
    let list = env
        .get(&format!("{}/securityRules?api-version={NET}", nsg("nsg1")))
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);

    let again = put_rule(&env, "AllowAAD", props(160, "Outbound")).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    env.wait(&again.header("azure-asyncoperation").unwrap())
        .await;

    let d = env.delete(&rule("AllowAAD")).await;
    assert_eq!(d.status, 202);
    env.wait(&d.header("location").unwrap()).await;
    assert_eq!(env.get(&rule("AllowAAD")).await.status, 404);
    assert_eq!(env.delete(&rule("AllowAAD")).await.status, 204);
}

#[tokio::test]
async fn a_write_while_the_rule_updates_is_refused() {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        lro_duration: std::time::Duration::from_secs(30),
        ..Default::default()
    })
    .await;
    assert_eq!(
        put_rule(&env, "r", props(150, "Outbound")).await.status,
        201
    );
    let busy = put_rule(&env, "r", props(151, "Outbound")).await;
    assert_eq!(busy.status, 409, "{:?}", busy.body);
    assert_eq!(code(&busy), "AnotherOperationInProgress");
}

#[tokio::test]
async fn priorities_are_in_range_and_unique_per_direction() {
    let env = env().await;
    for p in [99, 4097, 0] {
        let r = put_rule(&env, "x", props(p, "Outbound")).await;
        assert_eq!(r.status, 400);
        assert_eq!(code(&r), "SecurityRuleInvalidPriority", "{p}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Allowed range 100-4096"),
            "{:?}",
            r.body
        );
    }
    for p in [100, 4096] {
        let r = put_rule(&env, &format!("edge{p}"), props(p, "Outbound")).await;
        assert_eq!(r.status, 201, "{p}: {:?}", r.body);
        env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    }
    // The seeded DenyInternet is outbound at 4000.
    let clash = put_rule(&env, "Mine", props(4000, "Outbound")).await;
    assert_eq!(clash.status, 400);
    assert_eq!(code(&clash), "SecurityRuleConflict");
    assert_eq!(
        clash.body["error"]["message"],
        "Security rule DenyInternet conflicts with rule Mine. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules."
    );
    let inbound = put_rule(&env, "Mine", props(4000, "Inbound")).await;
    assert_eq!(inbound.status, 201, "other direction: {:?}", inbound.body);
    env.wait(&inbound.header("azure-asyncoperation").unwrap())
        .await;
    // Re-sending a rule with its own priority is no conflict with itself.
    let same = put_rule(&env, "Mine", props(4000, "Inbound")).await;
    assert_eq!(same.status, 200, "{:?}", same.body);
}

#[tokio::test]
async fn required_fields_and_values_are_checked() {
    let env = env().await;
    for (field, name) in [
        ("protocol", "Protocol"),
        ("access", "Access"),
        ("direction", "Direction"),
        ("priority", "Priority"),
        ("sourceAddressPrefix", "SourceAddressPrefix"),
        ("destinationAddressPrefix", "DestinationAddressPrefix"),
        ("sourcePortRange", "SourcePortRange"),
        ("destinationPortRange", "DestinationPortRange"),
    ] {
        let mut p = props(200, "Outbound");
        p.as_object_mut().unwrap().remove(field);
        let r = put_rule(&env, "x", p).await;
        assert_eq!(r.status, 400, "{field}");
        assert_eq!(code(&r), "SecurityRuleParameterMissing", "{field}");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!(
                "Required security rule parameter {name} is missing"
            )),
            "{msg}"
        );
    }
    // The plural forms satisfy the requirement too.
    let mut plural = props(201, "Outbound");
    let o = plural.as_object_mut().unwrap();
    o.remove("destinationAddressPrefix");
    o.insert("destinationAddressPrefixes".into(), json!(["1.2.3.4/32"]));
    assert_eq!(put_rule(&env, "plural", plural).await.status, 201);

    let mut bad = props(202, "Outbound");
    bad["protocol"] = json!("Http");
    let r = put_rule(&env, "x", bad).await;
    assert_eq!(code(&r), "SecurityRuleInvalidProtocol");
    let mut bad = props(202, "Outbound");
    bad["access"] = json!("Maybe");
    assert_eq!(
        code(&put_rule(&env, "x", bad).await),
        "SecurityRuleInvalidAccess"
    );
    let mut bad = props(202, "Sideways");
    bad["direction"] = json!("Sideways");
    assert_eq!(
        code(&put_rule(&env, "x", bad).await),
        "SecurityRuleInvalidDirection"
    );
    let mut long = props(202, "Outbound");
    long["description"] = json!("d".repeat(141));
    assert_eq!(
        code(&put_rule(&env, "x", long).await),
        "SecurityRuleInvalidDescription"
    );
    let mut fits = props(202, "Outbound");
    fits["description"] = json!("d".repeat(140));
    assert_eq!(put_rule(&env, "fits", fits).await.status, 201);
    let r = put_rule(&env, "x", Value::Null).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn groups_are_seeded_not_written_and_rules_need_their_group() {
    let env = env().await;
    let r = env
        .put(
            &format!("{}?api-version={NET}", nsg("new")),
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(r.status, 405);
    let r = env
        .put(
            &format!("{}/securityRules/x?api-version={NET}", nsg("missing")),
            json!({ "properties": props(200, "Outbound") }),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "ParentResourceNotFound");
}

#[tokio::test]
async fn fixtures_check_their_rules_and_subnet_links() {
    let bad_rule = Fixtures::from_yaml(&format!(
        r#"
resourceGroups: [{{subscriptionId: {SUB}, name: net, location: westeurope}}]
networkSecurityGroups:
  - subscriptionId: {SUB}
    resourceGroup: net
    name: n
    location: westeurope
    securityRules:
      - {{name: a, properties: {{protocol: Tcp, sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: '*', access: Deny, priority: 300, direction: Outbound}}}}
      - {{name: b, properties: {{protocol: Tcp, sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: '*', access: Deny, priority: 300, direction: Outbound}}}}
"#
    ))
    .unwrap();
    let err = arclink::emulator::Emulator::start(EmulatorConfig {
        fixtures: Some(bad_rule),
        ..Default::default()
    })
    .await
    .err()
    .expect("two rules with one priority are refused");
    assert!(err.to_string().contains("SecurityRuleConflict"), "{err}");

    let unknown_group = Fixtures::from_yaml(&format!(
        r#"
resourceGroups: [{{subscriptionId: {SUB}, name: net, location: westeurope}}]
virtualNetworks:
  - {{subscriptionId: {SUB}, resourceGroup: net, name: v, location: westeurope, addressPrefixes: [10.0.0.0/16],
      subnets: [{{name: s, addressPrefix: 10.0.0.0/24, networkSecurityGroup: nope}}]}}
"#
    ))
    .unwrap();
    let err = arclink::emulator::Emulator::start(EmulatorConfig {
        fixtures: Some(unknown_group),
        ..Default::default()
    })
    .await
    .err()
    .expect("a subnet naming an unknown group is refused");
    assert!(err.to_string().contains("nope"), "{err}");
}
