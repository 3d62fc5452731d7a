//! Private DNS: record set lists, etags with `If-Match` / `If-None-Match`, and the refusal to
//! link one virtual network to two zones of the same name.

use arclink::emulator::{EmulatorConfig, Fixtures};
use serde_json::json;

use super::support::*;

fn zone_path(rg: &str, zone: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/privateDnsZones/{zone}",
        rg_path(rg)
    )
}

fn vnet_id() -> String {
    net("virtualNetworks/vnet1")
}

async fn done(env: &Env, r: &Resp) {
    if let Some(url) = r.header("location") {
        env.wait(&url).await;
    }
}

fn code(r: &Resp) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_default()
}

fn message(r: &Resp) -> &str {
    r.body["error"]["message"].as_str().unwrap_or_default()
}

async fn put_zone(env: &Env, rg: &str, zone: &str) -> Resp {
    let r = env
        .put(
            &format!("{}?api-version={DNS}", zone_path(rg, zone)),
            json!({"location": "global"}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    done(env, &r).await;
    r
}

async fn put_link(env: &Env, rg: &str, zone: &str, name: &str) -> Resp {
    let r = env
        .put(
            &format!(
                "{}/virtualNetworkLinks/{name}?api-version={DNS}",
                zone_path(rg, zone)
            ),
            json!({"location": "global", "properties": {"virtualNetwork": {"id": vnet_id()}, "registrationEnabled": false}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    r
}

#[tokio::test]
async fn record_sets_are_listed_all_and_per_type() {
    let env = env().await;
    put_zone(&env, "net", "contoso.example").await;
    let zone = zone_path("net", "contoso.example");
    for (name, ip) in [("web", "10.0.0.4"), ("api", "10.0.0.5")] {
        let r = env
            .put(
                &format!("{zone}/A/{name}?api-version={DNS}"),
                json!({"properties": {"ttl": 60, "aRecords": [{"ipv4Address": ip}]}}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    for list in ["ALL", "all", "A"] {
        let r = env.get(&format!("{zone}/{list}?api-version={DNS}")).await;
        assert_eq!(r.status, 200, "{list}: {:?}", r.body);
        let names: Vec<&str> = r.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["api", "web"], "{list}");
        assert_eq!(
            r.body["value"][0]["type"],
            "Microsoft.Network/privateDnsZones/A"
        );
    }
    let missing = env
        .get(&format!(
            "{}/ALL?api-version={DNS}",
            zone_path("net", "absent.example")
        ))
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn zones_honour_if_none_match_and_if_match() {
    let env = env().await;
    let zone = format!("{}?api-version={DNS}", zone_path("net", "contoso.example"));
    let create_only = [("If-None-Match", "*")];
    let r = env
        .call_with(
            "PUT",
            &zone,
            Some(json!({"location": "global"})),
            &create_only,
        )
        .await;
    assert_eq!(r.status, 202, "a new zone is created: {:?}", r.body);
    done(&env, &r).await;
    let again = env
        .call_with(
            "PUT",
            &zone,
            Some(json!({"location": "global"})),
            &create_only,
        )
        .await;
    assert_eq!(again.status, 412, "{:?}", again.body);
    assert_eq!(code(&again), "PreconditionFailed");
    assert_eq!(
        message(&again),
        "The Zone contoso.example exists already and hence cannot be created again."
    );

    let etag = env.get(&zone).await.body["etag"]
        .as_str()
        .unwrap()
        .to_string();
    let stale = [("If-Match", "00000000-0000-0000-0000-000000000000")];
    let r = env
        .call_with("PATCH", &zone, Some(json!({"tags": {"a": "b"}})), &stale)
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        message(&r),
        "The Zone contoso.example has been modified (etag mismatch)."
    );
    let quoted = format!("\"{etag}\"");
    let r = env
        .call_with(
            "PATCH",
            &zone,
            Some(json!({"tags": {"a": "b"}})),
            &[("If-Match", quoted.as_str())],
        )
        .await;
    // A zone's PATCH is long-running (PrivateZones_Update: 200 or 202).
    assert_eq!(r.status, 202, "the current etag matches: {:?}", r.body);
    let mut updated = env.get(&zone).await.body;
    for _ in 0..100 {
        if updated["properties"]["provisioningState"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        updated = env.get(&zone).await.body;
    }
    assert_eq!(updated["properties"]["provisioningState"], "Succeeded");
    let newer = updated["etag"].as_str().unwrap().to_string();
    assert_ne!(newer, etag, "every write changes the etag");
    let r = env
        .call_with(
            "PUT",
            &zone,
            Some(json!({"location": "global"})),
            &[("If-Match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, 412, "the old etag no longer matches");
    let r = env
        .call_with("DELETE", &zone, None, &[("If-Match", etag.as_str())])
        .await;
    assert_eq!(r.status, 412);
    let r = env
        .call_with(
            "PUT",
            &zone,
            Some(json!({"location": "global"})),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(r.status, 202, "* matches any existing zone");
    done(&env, &r).await;
    let absent = format!("{}?api-version={DNS}", zone_path("net", "absent.example"));
    let r = env
        .call_with(
            "PUT",
            &absent,
            Some(json!({"location": "global"})),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(r.status, 412, "If-Match needs the zone to exist");
    assert_eq!(env.get(&absent).await.status, 404);
}

#[tokio::test]
async fn links_and_record_sets_honour_the_same_conditions() {
    let env = env().await;
    put_zone(&env, "net", "contoso.example").await;
    let zone = zone_path("net", "contoso.example");
    let link = format!("{zone}/virtualNetworkLinks/l1?api-version={DNS}");
    let body = json!({"location": "global", "properties": {"virtualNetwork": {"id": vnet_id()}}});
    let r = env
        .call_with("PUT", &link, Some(body.clone()), &[("If-None-Match", "*")])
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    done(&env, &r).await;
    let again = env
        .call_with("PUT", &link, Some(body.clone()), &[("If-None-Match", "*")])
        .await;
    assert_eq!((again.status, code(&again)), (412, "PreconditionFailed"));
    assert!(message(&again).contains("exists already and hence cannot be created again"));
    let r = env
        .call_with(
            "PATCH",
            &link,
            Some(json!({"tags": {}})),
            &[("If-Match", "nope")],
        )
        .await;
    assert_eq!(r.status, 412);
    assert!(message(&r).contains("(etag mismatch)"));
    let r = env
        .call_with("DELETE", &link, None, &[("If-Match", "nope")])
        .await;
    assert_eq!(r.status, 412);
    let etag = env.get(&link).await.body["etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .call_with("DELETE", &link, None, &[("If-Match", etag.as_str())])
        .await;
    assert_eq!(r.status, 202);
    done(&env, &r).await;

    let rec = format!("{zone}/A/web?api-version={DNS}");
    let a = json!({"properties": {"ttl": 60, "aRecords": [{"ipv4Address": "10.0.0.4"}]}});
    let r = env
        .call_with("PUT", &rec, Some(a.clone()), &[("If-None-Match", "*")])
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let etag = r.body["etag"].as_str().unwrap().to_string();
    let r = env
        .call_with("PUT", &rec, Some(a.clone()), &[("If-None-Match", "*")])
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        message(&r),
        "The Record set web exists already and hence cannot be created again."
    );
    let r = env
        .call_with(
            "PATCH",
            &rec,
            Some(json!({"properties": {"ttl": 30}})),
            &[("If-Match", "stale")],
        )
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        message(&r),
        "The Record set web has been modified (etag mismatch)."
    );
    let r = env
        .call_with("PUT", &rec, Some(a), &[("If-Match", etag.as_str())])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = env
        .call_with("DELETE", &rec, None, &[("If-Match", etag.as_str())])
        .await;
    assert_eq!(r.status, 412, "the PUT changed the etag");
    assert_eq!(env.get(&rec).await.status, 200);
}

#[tokio::test]
async fn a_network_cannot_be_linked_to_two_zones_of_the_same_name() {
    let env = env_with(EmulatorConfig {
        fixtures: Some(fixtures()),
        ..Default::default()
    })
    .await;
    env.emu
        .admin()
        .load_fixtures(
            &Fixtures::from_yaml(&format!(
                "resourceGroups: [{{subscriptionId: {SUB}, name: hub, location: westeurope}}]"
            ))
            .unwrap(),
        )
        .unwrap();
    let name = "privatelink.his.arc.azure.com";
    put_zone(&env, "hub", name).await;
    let central = put_link(&env, "hub", name, "hub-link").await;
    done(&env, &central).await;
    // A zone of the same name elsewhere: created, but its link fails in the operation.
    put_zone(&env, "net", "PrivateLink.his.arc.azure.com").await;
    let second = put_link(&env, "net", "PrivateLink.his.arc.azure.com", "spoke-link").await;
    let op = env
        .wait(&second.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(op.body["status"], "Failed", "{:?}", op.body);
    assert_eq!(op.body["error"]["code"], "BadRequest");
    assert_eq!(
        op.body["error"]["message"],
        format!(
            "A virtual network cannot be linked to multiple zones with overlapping namespaces. You tried to link virtual network with '{name}' and 'PrivateLink.his.arc.azure.com' zones."
        )
    );
    let result = env.get(&second.header("location").unwrap()).await;
    assert_eq!((result.status, code(&result)), (400, "BadRequest"));
    let link = env
        .get(&format!(
            "{}/virtualNetworkLinks/spoke-link?api-version={DNS}",
            zone_path("net", "PrivateLink.his.arc.azure.com")
        ))
        .await;
    assert_eq!(link.body["properties"]["provisioningState"], "Failed");
    // Another zone name, and the same zone again, are fine.
    put_zone(&env, "net", "privatelink.guestconfiguration.azure.com").await;
    let other = put_link(&env, "net", "privatelink.guestconfiguration.azure.com", "l").await;
    let op = env
        .wait(&other.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(op.body["status"], "Succeeded");
    let same = put_link(&env, "hub", name, "hub-link").await;
    let op = env
        .wait(&same.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(
        op.body["status"], "Succeeded",
        "re-writing the existing link"
    );
}
