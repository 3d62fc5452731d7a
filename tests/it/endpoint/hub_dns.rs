//! Managed DNS in a network that already resolves the privatelink zones elsewhere (issue 20
//! item 2): a hub-and-spoke landing zone keeps them centrally and links the network to them;
//! arclink stalls before creating or linking a second zone of the same name, naming the zone
//! to use with `privateDns.mode: Existing`, and looks only when about to create or link.

use arclink::api::conditions::STALLED;
use arclink::api::endpoint::PrivateDnsMode;
use arclink::reconcile::endpoint::dns::LINKED_ELSEWHERE;
use serde_json::{Value, json};

use super::support::*;

const HIS: &str = "privatelink.his.arc.azure.com";
const ZONES_TYPE: &str = "Microsoft.Network/privateDnsZones";
const LINKS_TYPE: &str = "Microsoft.Network/privateDnsZones/virtualNetworkLinks";

fn vnet_id(vnet: &str) -> String {
    subnet_id(vnet).replace("/subnets/private-endpoints", "")
}

/// A zone of the landing zone's central resource group `rg-hub`.
fn hub_zone_id(zone: &str) -> String {
    zone_id(zone).replace("/rg-dns/", "/rg-hub/")
}

/// The platform team's zone `id`, linked to network `vnet` (by its tooling, not arclink).
async fn central_zone(b: &Bed, id: &str, vnet: &str) {
    b.arm
        .put_and_wait::<_, Value>(&id.parse().unwrap(), &json!({"location": "global"}))
        .await
        .unwrap();
    let link = format!("{id}/virtualNetworkLinks/platform-{vnet}");
    b.arm
        .put_and_wait::<_, Value>(
            &link.parse().unwrap(),
            &json!({"location": "global", "properties": {
                "virtualNetwork": {"id": vnet_id(vnet)}, "registrationEnabled": false}}),
        )
        .await
        .unwrap();
}

async fn hub_bed() -> Bed {
    bed()
        .fixtures("resourceGroups: [{subscriptionId: $SUB, name: rg-hub, location: eastus}]")
        .await
}

#[tokio::test]
async fn a_zone_the_network_resolves_elsewhere_stalls_before_anything_is_created() {
    let b = hub_bed().await;
    let s = ready_scope(&b, "scope-a").await;
    central_zone(&b, &hub_zone_id(HIS), "hub").await;
    // The same name linked to another network only is no obstacle for this one.
    central_zone(
        &b,
        &hub_zone_id("privatelink.guestconfiguration.azure.com"),
        "spoke",
    )
    .await;
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;
    assert_eq!(reason(&obj, STALLED), LINKED_ELSEWHERE, "{:?}", obj.status);
    let msg = message(&obj, STALLED);
    assert!(msg.contains(&hub_zone_id(HIS)), "{msg}");
    assert!(msg.contains("privateDns.mode: Existing"), "{msg}");
    assert!(msg.contains(&vnet_id("hub")), "{msg}");
    for zone in ZONES {
        assert!(
            b.admin.get(&zone_id(zone)).is_none(),
            "{zone} was created in rg-dns"
        );
    }
    assert!(
        b.admin
            .get(&format!(
                "{}/privateDnsZoneGroups/default",
                endpoint_id("pe")
            ))
            .is_none()
    );

    // Pointed at the central zones, the endpoint uses them and creates none.
    for zone in &ZONES[1..] {
        central_zone(&b, &hub_zone_id(zone), "hub").await;
    }
    let dns = obj.spec.private_dns.as_mut().unwrap();
    dns.mode = PrivateDnsMode::Existing;
    dns.zone_ids = ZONES.iter().map(|z| hub_zone_id(z)).collect();
    obj.metadata.generation = Some(2);
    converge(&b, &mut obj, &deps(&s)).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(b.admin.get(&zone_id(HIS)).is_none());
}

#[tokio::test]
async fn the_search_happens_only_when_about_to_create_or_link() {
    let b = hub_bed().await;
    let s = ready_scope(&b, "scope-a").await;
    // Zones of the same names that are not linked to the network: looked at, not in the way.
    central_zone(&b, &hub_zone_id(HIS), "spoke").await;
    let d = deps(&s);
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    b.admin.reset_counters();
    step(&b, &mut obj, &d).await;
    assert!(ready(&obj));
    let steady = b.admin.counters();
    assert_eq!(steady.writes(), 0);
    assert_eq!(
        steady.count_for("GET", ZONES_TYPE),
        3,
        "steady state reads each zone once and lists no zones: {:?}",
        steady.to_json()
    );
    assert_eq!(
        steady.count_for("GET", LINKS_TYPE),
        3,
        "steady state lists each zone's links once: {:?}",
        steady.to_json()
    );
}

#[tokio::test]
async fn a_link_to_recreate_is_checked_and_the_own_zone_does_not_count() {
    let b = hub_bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let own_link = format!("{}/virtualNetworkLinks/arclink-hub", zone_id(HIS));

    // Its own link gone: the own zone is no obstacle, the link comes back.
    b.admin.delete_out_of_band(&own_link).unwrap();
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert!(b.admin.get(&own_link).is_some());

    // The platform links the network to its central zone (Azure would refuse that while
    // arclink's link exists; here arclink's link was removed first): arclink does not link
    // its own zone again.
    b.admin.delete_out_of_band(&own_link).unwrap();
    central_zone(&b, &hub_zone_id(HIS), "hub").await;
    converge(&b, &mut obj, &d).await;
    assert_eq!(reason(&obj, STALLED), LINKED_ELSEWHERE, "{:?}", obj.status);
    assert!(message(&obj, STALLED).contains(&hub_zone_id(HIS)));
    assert!(b.admin.get(&own_link).is_none());
}
