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
async fn rules_need_their_group() {
    let env = env().await;
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

/// An emulator whose operations run until the test is done with them.
async fn slow_env() -> Env {
    env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        lro_duration: std::time::Duration::from_secs(30),
        ..Default::default()
    })
    .await
}

/// Azure/azure-sdk-for-python issue 556: a second rule write while the first runs.
fn assert_group_locked(r: &Resp) {
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(code(r), "RetryableError");
    let detail = &r.body["error"]["details"][0];
    assert_eq!(detail["code"], "RetryableErrorDueToAnotherOperation");
    assert!(
        detail["message"]
            .as_str()
            .unwrap()
            .contains("/networkSecurityGroups/nsg1"),
        "{detail}"
    );
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn a_rule_write_locks_its_whole_group_until_its_operation_ends() {
    let env = slow_env().await;
    let first = put_rule(&env, "first", props(150, "Outbound")).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let group = env.get(&format!("{}?api-version={NET}", nsg("nsg1"))).await;
    assert_eq!(group.body["properties"]["provisioningState"], "Updating");
    // Another rule, a delete of the seeded rule, and the group itself: all wait.
    assert_group_locked(&put_rule(&env, "second", props(160, "Outbound")).await);
    assert_group_locked(&env.delete(&rule("DenyInternet")).await);
    assert_group_locked(
        &env.put(
            &format!("{}?api-version={NET}", nsg("nsg1")),
            json!({"location": "westeurope"}),
        )
        .await,
    );
    // The same rule again is the rule's own conflict (409), as before.
    assert_eq!(
        code(&put_rule(&env, "first", props(151, "Outbound")).await),
        "AnotherOperationInProgress"
    );
    // Other groups are not locked.
    env.emu
        .admin()
        .load_fixtures(
            &Fixtures::from_yaml(&format!(
                "networkSecurityGroups: [{{subscriptionId: {SUB}, resourceGroup: net, name: other, location: westeurope}}]"
            ))
            .unwrap(),
        )
        .unwrap();
    let other = env
        .put(
            &format!("{}/securityRules/r?api-version={NET}", nsg("other")),
            json!({ "properties": props(150, "Outbound") }),
        )
        .await;
    assert_eq!(other.status, 201, "{:?}", other.body);
}

#[tokio::test]
async fn once_the_first_rule_write_ends_the_second_goes_through() {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        lro_duration: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let first = put_rule(&env, "first", props(150, "Outbound")).await;
    assert_group_locked(&put_rule(&env, "second", props(160, "Outbound")).await);
    env.wait(&first.header("azure-asyncoperation").unwrap())
        .await;
    let group = env.get(&format!("{}?api-version={NET}", nsg("nsg1"))).await;
    assert_eq!(group.body["properties"]["provisioningState"], "Succeeded");
    let second = put_rule(&env, "second", props(160, "Outbound")).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    // A delete locks the group the same way.
    env.wait(&second.header("azure-asyncoperation").unwrap())
        .await;
    let d = env.delete(&rule("first")).await;
    assert_eq!(d.status, 202);
    assert_group_locked(&put_rule(&env, "third", props(170, "Outbound")).await);
    env.wait(&d.header("location").unwrap()).await;
    assert_eq!(
        put_rule(&env, "third", props(170, "Outbound")).await.status,
        201
    );
}

#[tokio::test]
async fn a_group_put_replaces_its_rules_as_network_does() {
    let env = env().await;
    let added = put_rule(&env, "ArclinkRule", props(150, "Outbound")).await;
    env.wait(&added.header("azure-asyncoperation").unwrap())
        .await;
    // Terraform or Bicep with inline rules: the group as they declare it.
    let r = env
        .put(
            &format!("{}?api-version={NET}", nsg("nsg1")),
            json!({"location": "westeurope", "tags": {"owner": "iac"}, "properties": {"securityRules": [
                {"name": "Inline", "properties": props(300, "Inbound")}
            ]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    let names: Vec<&str> = r.body["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Inline"]);
    env.wait(
        &r.header("azure-asyncoperation")
            .expect("Network PUTs are async"),
    )
    .await;
    assert_eq!(env.get(&rule("ArclinkRule")).await.status, 404);
    assert_eq!(env.get(&rule("DenyInternet")).await.status, 404);
    let inline = env.get(&rule("Inline")).await;
    assert_eq!(inline.body["properties"]["provisioningState"], "Succeeded");
    let g = env.get(&format!("{}?api-version={NET}", nsg("nsg1"))).await;
    assert_eq!(g.body["tags"], json!({"owner": "iac"}));
    assert_eq!(
        g.body["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(g.body["properties"]["subnets"].as_array().unwrap().len(), 1);

    // A new group, its rules validated as rule PUTs are.
    let new = format!("{}?api-version={NET}", nsg("fresh"));
    let clash = env
        .put(
            &new,
            json!({"location": "westeurope", "properties": {"securityRules": [
                {"name": "a", "properties": props(300, "Inbound")},
                {"name": "b", "properties": props(300, "Inbound")}
            ]}}),
        )
        .await;
    assert_eq!(code(&clash), "SecurityRuleConflict");
    let twice = env
        .put(
            &new,
            json!({"location": "westeurope", "properties": {"securityRules": [
                {"name": "a", "properties": props(300, "Inbound")},
                {"name": "A", "properties": props(301, "Inbound")}
            ]}}),
        )
        .await;
    assert_eq!(code(&twice), "DuplicateResourceName");
    let bad_name = env
        .put(
            &new,
            json!({"location": "westeurope", "properties": {"securityRules": [
                {"name": "trailing.", "properties": props(300, "Inbound")}
            ]}}),
        )
        .await;
    assert_eq!(code(&bad_name), "InvalidResourceName");
    assert_eq!(
        env.get(&new).await.status,
        404,
        "refused PUTs create nothing"
    );
    let created = env.put(&new, json!({"location": "westeurope"})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.body["type"],
        "Microsoft.Network/networkSecurityGroups"
    );
    assert_eq!(
        code(&env.put(&new, json!({"location": "eastus"})).await),
        "InvalidResourceLocation"
    );
}

#[tokio::test]
async fn a_group_in_use_by_a_subnet_is_not_deleted_and_tags_patch() {
    let env = env().await;
    let d = env
        .delete(&format!("{}?api-version={NET}", nsg("nsg1")))
        .await;
    assert_eq!(d.status, 400);
    assert_eq!(code(&d), "InUseNetworkSecurityGroupCannotBeDeleted");
    let t = env
        .patch(
            &format!("{}?api-version={NET}", nsg("nsg1")),
            json!({"tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(t.body["tags"], json!({"a": "b"}));
    let created = env
        .put(
            &format!("{}?api-version={NET}", nsg("unused")),
            json!({"location": "westeurope"}),
        )
        .await;
    env.wait(&created.header("azure-asyncoperation").unwrap())
        .await;
    let d = env
        .delete(&format!("{}?api-version={NET}", nsg("unused")))
        .await;
    assert_eq!(d.status, 202);
    env.wait(&d.header("location").unwrap()).await;
    assert_eq!(
        env.get(&format!("{}?api-version={NET}", nsg("unused")))
            .await
            .status,
        404
    );
}

/// Issue 22 probe: rule names Network refuses (81 characters, a trailing dot or space).
#[tokio::test]
async fn rule_names_follow_networks_rule() {
    let env = env().await;
    let long = "r".repeat(81);
    for bad in [long.as_str(), "rule.", "rule%20", "-rule", "_rule"] {
        let r = put_rule(&env, bad, props(150, "Outbound")).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert_eq!(code(&r), "InvalidResourceName", "{bad}");
    }
    let fits = "r".repeat(80);
    for ok in [fits.as_str(), "rule_", "a.b-c"] {
        assert_eq!(
            put_rule(&env, ok, props(150, "Outbound")).await.status,
            201,
            "{ok}"
        );
        env.delete(&rule(ok)).await;
    }
    let bad_fixture = Fixtures::from_yaml(&format!(
        r#"
resourceGroups: [{{subscriptionId: {SUB}, name: net, location: westeurope}}]
networkSecurityGroups:
  - subscriptionId: {SUB}
    resourceGroup: net
    name: n
    location: westeurope
    securityRules:
      - {{name: 'dot.', properties: {{protocol: Tcp, sourcePortRange: '*', destinationPortRange: '*', sourceAddressPrefix: '*', destinationAddressPrefix: '*', access: Deny, priority: 300, direction: Outbound}}}}
"#
    ))
    .unwrap();
    let err = arclink::emulator::Emulator::start(EmulatorConfig {
        fixtures: Some(bad_fixture),
        ..Default::default()
    })
    .await
    .err()
    .expect("a fixture rule with a name Network refuses");
    assert!(err.to_string().contains("InvalidResourceName"), "{err}");
}
