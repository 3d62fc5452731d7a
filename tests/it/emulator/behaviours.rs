//! The emulator does what real ARM does beyond the specs (reference/arm-behaviours.md): each
//! test shows Azure's refusal or answer for one behaviour of that catalogue.

use arclink::emulator::{Behaviours, EmulatorConfig, Fault};
use serde_json::{Value, json};

use super::support::*;

pub(super) const HC_NEW: &str = "2026-09-01";

fn subnet_id() -> String {
    net("virtualNetworks/vnet1/subnets/endpoints")
}

fn pe_url(name: &str) -> String {
    format!(
        "{}?api-version={NET}",
        net(&format!("privateEndpoints/{name}"))
    )
}

fn endpoint_body(scope: &str, list: &str, extra: Value) -> Value {
    let mut body = json!({
        "location": "westeurope",
        "properties": {
            "subnet": {"id": subnet_id()},
            list: [{"name": "conn", "properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"], "requestMessage": "please"}}],
        }
    });
    if let (Some(p), Some(e)) = (body["properties"].as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    body
}

/// Creates an endpoint and waits for it; returns it as GET shows it.
async fn put_endpoint(env: &Env, name: &str, body: Value) -> Value {
    let r = env.put(&pe_url(name), body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    env.get(&pe_url(name)).await.body
}

/// The endpoint as read, minus what is read-only: what a careful client sends back.
fn as_read(pe: &Value) -> Value {
    let mut body = json!({"location": pe["location"], "tags": pe["tags"], "properties": pe["properties"].clone()});
    let props = body["properties"].as_object_mut().unwrap();
    for f in [
        "provisioningState",
        "networkInterfaces",
        "customDnsConfigs",
        "resourceGuid",
    ] {
        props.remove(f);
    }
    for list in [
        "privateLinkServiceConnections",
        "manualPrivateLinkServiceConnections",
    ] {
        for c in props[list].as_array_mut().unwrap() {
            let c = c.as_object_mut().unwrap();
            c.remove("id");
            c.remove("type");
            c["properties"]
                .as_object_mut()
                .unwrap()
                .remove("provisioningState");
        }
    }
    body
}

pub(super) fn assert_refused(r: &Resp, code: &str) {
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{:?}", r.body);
}

/// Behaviour 1: any change of an existing connection is refused; the connection re-sent
/// exactly as read (with its current state) is accepted.
#[tokio::test]
async fn an_existing_private_link_connection_cannot_change() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let other = put_scope(&env, "s2").await;
    let pe = put_endpoint(
        &env,
        "pe1",
        endpoint_body(&scope, "privateLinkServiceConnections", json!({})),
    )
    .await;
    let read = as_read(&pe);
    let conn = "/properties/privateLinkServiceConnections/0";

    let r = env.put(&pe_url("pe1"), read.clone()).await;
    assert_eq!(r.status, 200, "re-sent as read: {:?}", r.body);
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;

    let mut changes: Vec<(&str, Value)> = Vec::new();
    let mut renamed = read.clone();
    *renamed.pointer_mut(&format!("{conn}/name")).unwrap() = json!("pe1.other-name");
    changes.push(("name", renamed));
    let mut retarget = read.clone();
    *retarget
        .pointer_mut(&format!("{conn}/properties/privateLinkServiceId"))
        .unwrap() = json!(other);
    changes.push(("target", retarget));
    let mut groups = read.clone();
    *groups
        .pointer_mut(&format!("{conn}/properties/groupIds"))
        .unwrap() = json!(["other"]);
    changes.push(("group ids", groups));
    let mut state = read.clone();
    *state
        .pointer_mut(&format!(
            "{conn}/properties/privateLinkServiceConnectionState/status"
        ))
        .unwrap() = json!("Rejected");
    changes.push(("state", state));
    let mut manual = read.clone();
    let moved = manual["properties"]["privateLinkServiceConnections"].take();
    manual["properties"]["privateLinkServiceConnections"] = json!([]);
    manual["properties"]["manualPrivateLinkServiceConnections"] = moved;
    changes.push(("manual vs automatic", manual));
    for (what, body) in changes {
        let r = env.put(&pe_url("pe1"), body).await;
        assert_refused(&r, "CannotChangePrivateLinkConnectionOnPrivateEndpoint");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Cannot change the private link connection on private endpoint")
                && message.contains("/privateLinkServiceConnections/conn'"),
            "{what}: {message}"
        );
    }
}

/// Behaviour 1, as Bicep users met it: once a manual connection is approved, re-sending it
/// without its state (what a template that created it would send) is refused.
#[tokio::test]
async fn an_approved_manual_connection_must_be_re_sent_with_its_state() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let body = endpoint_body(&scope, "manualPrivateLinkServiceConnections", json!({}));
    let pe = put_endpoint(&env, "pe1", body.clone()).await;
    assert_eq!(
        pe["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Pending"
    );
    assert_eq!(env.put(&pe_url("pe1"), body.clone()).await.status, 200);
    let conns = env
        .get(&format!(
            "{scope}/privateEndpointConnections?api-version={HC}"
        ))
        .await;
    let conn_id = conns.body["value"][0]["id"].as_str().unwrap().to_string();
    let r = env
        .put(
            &format!("{conn_id}?api-version={HC}"),
            json!({"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}),
        )
        .await;
    env.wait(&r.header("location").unwrap()).await;
    // Let the endpoint's own operation finish too.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    assert_refused(
        &env.put(&pe_url("pe1"), body).await,
        "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
    );
    let read = as_read(&env.get(&pe_url("pe1")).await.body);
    assert_eq!(env.put(&pe_url("pe1"), read).await.status, 200);
}

/// Behaviour 2: the NIC's name never changes, and the NIC is the endpoint's (read-only); it
/// carries the private IPs and the FQDNs each serves.
#[tokio::test]
async fn the_nic_name_cannot_change_and_the_nic_is_read_only() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let custom = endpoint_body(
        &scope,
        "privateLinkServiceConnections",
        json!({"customNetworkInterfaceName": "pe1-nic"}),
    );
    let pe = put_endpoint(&env, "pe1", custom).await;
    let nic_id = pe["properties"]["networkInterfaces"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(nic_id.ends_with("/networkInterfaces/pe1-nic"), "{nic_id}");

    let mut without = as_read(&pe);
    without["properties"]
        .as_object_mut()
        .unwrap()
        .remove("customNetworkInterfaceName");
    let r = env.put(&pe_url("pe1"), without).await;
    assert_refused(&r, "NameOfExistingPrivateEndpointNicCannotBeChanged");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("contains existing NIC name pe1-nic"),
        "{:?}",
        r.body
    );
    assert_eq!(env.put(&pe_url("pe1"), as_read(&pe)).await.status, 200);

    let auto = put_endpoint(
        &env,
        "pe2",
        endpoint_body(&scope, "privateLinkServiceConnections", json!({})),
    )
    .await;
    let mut named = as_read(&auto);
    named["properties"]["customNetworkInterfaceName"] = json!("late-name");
    assert_refused(
        &env.put(&pe_url("pe2"), named).await,
        "NameOfExistingPrivateEndpointNicCannotBeChanged",
    );

    let nic = env.get(&format!("{nic_id}?api-version={NET}")).await;
    assert_eq!(nic.status, 200);
    let configs = nic.body["properties"]["ipConfigurations"]
        .as_array()
        .unwrap();
    assert_eq!(configs.len(), 5);
    assert_eq!(
        configs[0]["properties"]["privateLinkConnectionProperties"]["fqdns"],
        json!(["gbl.his.arc.azure.com"])
    );
    assert_eq!(configs[0]["properties"]["privateIPAddress"], "10.0.1.4");
    assert_refused(
        &env.put(&format!("{nic_id}?api-version={NET}"), nic.body.clone())
            .await,
        "CannotModifyNicAttachedToPrivateEndpoint",
    );
    let r = env.delete(&pe_url("pe1")).await;
    env.wait(&r.header("location").unwrap()).await;
    assert_eq!(
        env.get(&format!("{nic_id}?api-version={NET}")).await.status,
        404,
        "the NIC goes with its endpoint"
    );
}

/// Behaviour 3: a private endpoint operation can end `Failed` with `RetryableError`, leaving
/// the endpoint `Failed`; the same error can come synchronously as a 429; and a write can
/// fail with 500 although it was applied.
#[tokio::test]
async fn creation_fails_transiently_in_the_three_reported_shapes() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let body = endpoint_body(&scope, "privateLinkServiceConnections", json!({}));
    env.emu.admin().inject(
        Fault::lro_failure("RetryableError", "A retryable error occurred.")
            .method("PUT")
            .path_contains("privateEndpoints")
            .times(1),
    );
    let r = env.put(&pe_url("pe1"), body.clone()).await;
    assert_eq!(r.status, 201);
    let op = env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(op.body["status"], "Failed");
    assert_eq!(op.body["error"]["code"], "RetryableError");
    let pe = env.get(&pe_url("pe1")).await;
    assert_eq!(pe.body["properties"]["provisioningState"], "Failed");
    let again = env.put(&pe_url("pe1"), body.clone()).await;
    assert_eq!(
        again.status, 200,
        "a Failed endpoint takes the same PUT again"
    );

    env.emu.admin().inject(
        Fault::status(429)
            .code("RetryableError")
            .message("A retryable error occurred.")
            .method("PUT")
            .path_contains("privateEndpoints/pe2")
            .times(1),
    );
    let r = env.put(&pe_url("pe2"), body.clone()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], "RetryableError");
    assert_eq!(env.get(&pe_url("pe2")).await.status, 404);

    env.emu.admin().inject(
        Fault::status(500)
            .applied()
            .method("PUT")
            .path_contains("privateEndpoints/pe3")
            .times(1),
    );
    let r = env.put(&pe_url("pe3"), body).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        env.get(&pe_url("pe3")).await.status,
        200,
        "the endpoint exists although its PUT answered 500"
    );
}

/// Behaviour 4: a write while an operation runs is refused with 409
/// `AnotherOperationInProgress`; an operation can end cancelled and superseded.
#[tokio::test]
async fn a_second_write_during_an_operation_is_refused_or_supersedes() {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        lro_duration: std::time::Duration::from_secs(30),
        ..Default::default()
    })
    .await;
    let scope = put_scope(&env, "s1").await;
    let body = endpoint_body(&scope, "privateLinkServiceConnections", json!({}));
    assert_eq!(env.put(&pe_url("pe1"), body.clone()).await.status, 201);
    let r = env.put(&pe_url("pe1"), body.clone()).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["code"], "AnotherOperationInProgress");

    let quick = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        ..Default::default()
    })
    .await;
    let scope = put_scope(&quick, "s1").await;
    quick.emu.admin().inject(
        Fault::lro_failure(
            "CanceledAndSupersededDueToAnotherOperation",
            "Operation was canceled and superseded by another operation.",
        )
        .times(1),
    );
    let r = quick
        .put(
            &pe_url("pe1"),
            endpoint_body(&scope, "privateLinkServiceConnections", json!({})),
        )
        .await;
    let op = quick.wait(&r.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(
        op.body["error"]["code"],
        "CanceledAndSupersededDueToAnotherOperation"
    );
}

/// Behaviours 5, 6, 8: names a zone group covers leave `customDnsConfigs` (switchable); an
/// endpoint takes one zone group; records go only into the recommended zones; the scope
/// reports `requiredZoneNames` as the official example does.
#[tokio::test]
async fn dns_zone_groups_cover_names_one_per_endpoint_in_recommended_zones() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let plr = env
        .get(&format!(
            "{scope}/privateLinkResources/hybridcompute?api-version={HC_NEW}"
        ))
        .await;
    assert_eq!(
        plr.body["properties"]["requiredZoneNames"],
        json!([
            "privatelink.his.arc.azure.com",
            "privatelink.kubernetesconfiguration.azure.com",
            "privatelink.Guestconfiguration.azure.com"
        ])
    );
    put_endpoint(
        &env,
        "pe1",
        endpoint_body(&scope, "privateLinkServiceConnections", json!({})),
    )
    .await;
    let mut zones = Vec::new();
    for zone in [
        "privatelink.his.arc.azure.com",
        "privatelink.kubernetesconfiguration.azure.com",
    ] {
        let p = format!(
            "{}?api-version={DNS}",
            net(&format!("privateDnsZones/{zone}"))
        );
        let r = env.put(&p, json!({"location": "global"})).await;
        env.wait(&r.header("location").unwrap()).await;
        zones.push(env.get(&p).await.body["id"].as_str().unwrap().to_string());
    }
    let group = |name: &str| {
        format!(
            "{}?api-version={NET}",
            net(&format!("privateEndpoints/pe1/privateDnsZoneGroups/{name}"))
        )
    };
    let configs: Vec<Value> = zones
        .iter()
        .enumerate()
        .map(|(i, z)| json!({"name": format!("z{i}"), "properties": {"privateDnsZoneId": z}}))
        .collect();
    let r = env
        .put(
            &group("default"),
            json!({"properties": {"privateDnsZoneConfigs": configs.clone()}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    let second = env
        .put(
            &group("deployedByPolicy"),
            json!({"properties": {"privateDnsZoneConfigs": configs}}),
        )
        .await;
    assert_eq!(second.status, 400, "{:?}", second.body);
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Cannot create more than one private dns zone groups")
    );

    let g = env.get(&group("default")).await.body;
    let sets = |i: usize| -> Vec<String> {
        g["properties"]["privateDnsZoneConfigs"][i]["properties"]["recordSets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["recordSetName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(sets(0), ["gbl", "westeurope"]);
    assert!(
        sets(1).is_empty(),
        "no record in a zone the table does not recommend: {:?}",
        sets(1)
    );

    let listed = |pe: &Value| -> Vec<String> {
        pe["properties"]["customDnsConfigs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["fqdn"].as_str().unwrap().to_string())
            .collect()
    };
    let covered = env.get(&pe_url("pe1")).await.body;
    assert_eq!(
        listed(&covered),
        [
            "agentserviceapi.guestconfiguration.azure.com",
            "westeurope-gas.guestconfiguration.azure.com",
            "westeurope.dp.kubernetesconfiguration.azure.com"
        ],
        "the names the zone group covers are left out"
    );
    env.emu.admin().set_behaviours(Behaviours {
        dns_configs_covered_by_zone_group: false,
        ..Behaviours::default()
    });
    assert_eq!(listed(&env.get(&pe_url("pe1")).await.body).len(), 5);
}

/// Behaviour 7: a connection's request message is at most 140 characters.
#[tokio::test]
async fn a_request_message_longer_than_140_characters_is_refused() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let mut body = endpoint_body(&scope, "manualPrivateLinkServiceConnections", json!({}));
    body["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["requestMessage"] =
        json!("x".repeat(141));
    let r = env.put(&pe_url("pe1"), body.clone()).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("140"));
    body["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["requestMessage"] =
        json!("x".repeat(140));
    assert_eq!(env.put(&pe_url("pe1"), body).await.status, 201);
}
