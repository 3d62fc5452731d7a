use serde_json::{Value, json};

use super::support::*;

fn subnet_id(name: &str) -> String {
    net(&format!("virtualNetworks/vnet1/subnets/{name}"))
}

async fn put_zone(env: &Env, zone: &str) -> String {
    let p = format!(
        "{}?api-version={DNS}",
        net(&format!("privateDnsZones/{zone}"))
    );
    let r = env.put(&p, json!({"location": "global"})).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    env.wait(&r.header("location").unwrap()).await;
    let z = env.get(&p).await;
    assert_eq!(z.body["properties"]["provisioningState"], "Succeeded");
    z.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn vnets_and_subnets_are_seeded() {
    let env = env().await;
    let v = env
        .get(&format!(
            "{}?api-version={NET}",
            net("virtualNetworks/VNET1")
        ))
        .await;
    assert_eq!(v.status, 200);
    assert_eq!(
        v.body["properties"]["addressSpace"]["addressPrefixes"],
        json!(["10.0.0.0/16"])
    );
    assert_eq!(v.body["properties"]["subnets"].as_array().unwrap().len(), 2);
    let s = env
        .get(&format!("{}?api-version={NET}", subnet_id("endpoints")))
        .await;
    assert_eq!(s.body["properties"]["addressPrefix"], "10.0.1.0/24");
}

#[tokio::test]
async fn private_endpoint_to_a_scope_creates_connection_ips_dns_and_records() {
    let env = env().await;
    let scope = put_scope(&env, "scope1").await;
    let pe = format!("{}?api-version={NET}", net("privateEndpoints/pe1"));
    let body = json!({
        "location": "westeurope",
        "properties": {
            "subnet": {"id": subnet_id("endpoints")},
            "privateLinkServiceConnections": [{"name": "c1", "properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"]}}],
        }
    });
    let r = env.put(&pe, body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let op = r.header("azure-asyncoperation").unwrap();
    assert!(
        r.header("location").is_none(),
        "Network PUTs finish via Azure-AsyncOperation"
    );
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    assert_eq!(env.wait(&op).await.body["status"], "Succeeded");
    let got = env.get(&pe).await.body;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    let conn = &got["properties"]["privateLinkServiceConnections"][0];
    assert_eq!(
        conn["properties"]["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    let dns = got["properties"]["customDnsConfigs"].as_array().unwrap();
    let fqdns: Vec<&str> = dns.iter().map(|d| d["fqdn"].as_str().unwrap()).collect();
    assert_eq!(
        fqdns,
        [
            "gbl.his.arc.azure.com",
            "westeurope.his.arc.azure.com",
            "agentserviceapi.guestconfiguration.azure.com",
            "westeurope-gas.guestconfiguration.azure.com",
            "westeurope.dp.kubernetesconfiguration.azure.com"
        ]
    );
    let ips: Vec<&str> = dns
        .iter()
        .map(|d| d["ipAddresses"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        ips,
        ["10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7", "10.0.1.8"]
    );

    // The scope sees the connection; re-PUT keeps IPs; a second endpoint gets fresh IPs.
    let s = env.get(&format!("{scope}?api-version={HC}")).await.body;
    let conns = s["properties"]["privateEndpointConnections"]
        .as_array()
        .unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["properties"]["privateEndpoint"]["id"], got["id"]);
    let again = env.put(&pe, body).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["properties"]["customDnsConfigs"],
        got["properties"]["customDnsConfigs"]
    );

    // Zone group writes A records into the linked zones.
    let zone = put_zone(&env, "privatelink.his.arc.azure.com").await;
    let gc_zone = put_zone(&env, "privatelink.guestconfiguration.azure.com").await;
    let zg = format!(
        "{}?api-version={NET}",
        net("privateEndpoints/pe1/privateDnsZoneGroups/default")
    );
    let r = env
        .put(
            &zg,
            json!({"properties": {"privateDnsZoneConfigs": [
            {"name": "his", "properties": {"privateDnsZoneId": zone}},
            {"name": "gc", "properties": {"privateDnsZoneId": gc_zone}}]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    env.wait(&r.header("azure-asyncoperation").unwrap()).await;
    let rec = env
        .get(&format!("{zone}/A/westeurope?api-version={DNS}"))
        .await;
    assert_eq!(rec.status, 200, "{:?}", rec.body);
    assert_eq!(
        rec.body["properties"]["aRecords"],
        json!([{"ipv4Address": "10.0.1.5"}])
    );
    let rec = env
        .get(&format!("{gc_zone}/A/westeurope-gas?api-version={DNS}"))
        .await;
    assert_eq!(
        rec.body["properties"]["aRecords"],
        json!([{"ipv4Address": "10.0.1.7"}])
    );
    let list = env.get(&format!("{zone}/A?api-version={DNS}")).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);

    // Deleting the endpoint removes the zone group's records and the scope's connection.
    let d = env.delete(&pe).await;
    assert_eq!(d.status, 202);
    assert_eq!(env.wait(&d.header("location").unwrap()).await.status, 204);
    assert_eq!(
        env.get(&format!("{zone}/A/westeurope?api-version={DNS}"))
            .await
            .status,
        404
    );
    let s = env.get(&format!("{scope}?api-version={HC}")).await.body;
    assert_eq!(s["properties"]["privateEndpointConnections"], json!([]));
}

#[tokio::test]
async fn manual_connection_is_pending_until_approved_on_the_scope() {
    let env = env().await;
    let scope = put_scope(&env, "scope2").await;
    let pe = format!("{}?api-version={NET}", net("privateEndpoints/pe2"));
    let r = env
        .put(&pe, json!({"location": "westeurope", "properties": {
            "subnet": {"id": subnet_id("endpoints")},
            "manualPrivateLinkServiceConnections": [{"name": "m", "properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"], "requestMessage": "please"}}]}}))
        .await;
    assert_eq!(r.status, 201);
    let conns = env
        .get(&format!(
            "{scope}/privateEndpointConnections?api-version={HC}"
        ))
        .await
        .body;
    let conn = conns["value"][0].clone();
    assert_eq!(
        conn["properties"]["privateLinkServiceConnectionState"]["status"],
        "Pending"
    );
    let conn_path = format!("{}?api-version={HC}", conn["id"].as_str().unwrap());
    let approve = env
        .put(&conn_path, json!({"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}))
        .await;
    assert_eq!(approve.status, 202);
    let done = env.wait(&approve.header("location").unwrap()).await;
    assert_eq!(done.status, 200);
    assert_eq!(
        done.body["properties"]["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    let pe_now = env.get(&pe).await.body;
    assert_eq!(
        pe_now["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Approved"
    );
    let bad = env
        .put(
            &conn_path,
            json!({"properties": {"privateLinkServiceConnectionState": {"status": "Maybe"}}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let del = env.delete(&conn_path).await;
    assert_eq!(del.status, 202);
    assert_eq!(env.wait(&del.header("location").unwrap()).await.status, 204);
    let pe_now = env.get(&pe).await.body;
    assert_eq!(
        pe_now["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Disconnected"
    );
    let plr = env
        .get(&format!("{scope}/privateLinkResources?api-version={HC}"))
        .await
        .body;
    assert_eq!(plr["value"][0]["properties"]["groupId"], "hybridcompute");
    let zones: Vec<Value> = plr["value"][0]["properties"]["requiredZoneNames"]
        .as_array()
        .unwrap()
        .clone();
    assert!(zones.contains(&json!("privatelink.his.arc.azure.com")));
}

#[tokio::test]
async fn endpoint_references_are_validated() {
    let env = env().await;
    let pe = format!("{}?api-version={NET}", net("privateEndpoints/pe3"));
    let r = env
        .put(
            &pe,
            json!({"location": "westeurope", "properties": {"subnet": {"id": "not-an-id"}}}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], "LinkedInvalidPropertyId");
    let r = env.put(&pe, json!({"location": "westeurope", "properties": {"subnet": {"id": subnet_id("missing")}}})).await;
    assert_eq!(r.body["error"]["code"], "InvalidResourceReference");
    // The /29 subnet has 3 usable addresses, an Arc endpoint needs 5.
    let scope = put_scope(&env, "scope3").await;
    let r = env
        .put(&pe, json!({"location": "westeurope", "properties": {"subnet": {"id": subnet_id("tiny")},
            "privateLinkServiceConnections": [{"properties": {"privateLinkServiceId": scope, "groupIds": ["hybridcompute"]}}]}}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "SubnetIsFull");
}

#[tokio::test]
async fn zone_delete_is_refused_while_links_exist() {
    let env = env().await;
    let zone = put_zone(&env, "privatelink.his.arc.azure.com").await;
    let link = format!("{zone}/virtualNetworkLinks/l1?api-version={DNS}");
    let r = env
        .put(&link, json!({"location": "global", "properties": {"virtualNetwork": {"id": net("virtualNetworks/vnet1")}, "registrationEnabled": false}}))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    env.wait(&r.header("location").unwrap()).await;
    assert_eq!(
        env.get(&link).await.body["properties"]["virtualNetworkLinkState"],
        "Completed"
    );
    let z = format!("{zone}?api-version={DNS}");
    assert_eq!(
        env.get(&z).await.body["properties"]["numberOfVirtualNetworkLinks"],
        1
    );
    assert_eq!(env.delete(&z).await.status, 400);
    let d = env.delete(&link).await;
    env.wait(&d.header("location").unwrap()).await;
    let d = env.delete(&z).await;
    assert_eq!(d.status, 202);
    env.wait(&d.header("location").unwrap()).await;
    assert_eq!(env.get(&z).await.status, 404);
    let wrong = env.put(&z, json!({"location": "westeurope"})).await;
    assert_eq!(
        wrong.body["error"]["code"],
        "LocationNotAvailableForResourceType"
    );
}
