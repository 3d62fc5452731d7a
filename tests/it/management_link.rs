//! ArcResourceManagementPrivateLink reconcile core against the in-process emulator: the link,
//! its association at the root management group, ownership without tags, the role a 403 names,
//! the link's endpoint connections as Azure returns them, deletion, and plan/apply.

use arclink::api::conditions::DRIFTED;
use arclink::api::{DeletionPolicy, DriftPolicy};
use arclink::azure::ResourceId;
use arclink::reconcile::management_link::association::derived_name;
use arclink::reconcile::management_link::connections;
use arclink::reconcile::ownership::Owner;
use arclink::reconcile::{self, ChangeAction, Cleanup};
use serde_json::{Value, json};

use crate::common::bed::step;

mod offline;
mod support;

use support::*;

/// The association name the bed's object `name` derives.
fn derived(name: &str) -> String {
    derived_name(&Owner {
        cluster: "test-cluster".into(),
        namespace: "ns".into(),
        kind: "ArcResourceManagementPrivateLink".into(),
        name: name.into(),
    })
}

async fn cleanup(
    b: &crate::common::bed::Bed,
    obj: &arclink::api::ArcResourceManagementPrivateLink,
) -> (
    Cleanup<arclink::api::ArcResourceManagementPrivateLinkStatus>,
    Vec<reconcile::Change>,
) {
    let state = b
        .ctx
        .states
        .of::<arclink::api::ArcResourceManagementPrivateLink>();
    reconcile::engine::cleanup_with_changes(&b.arm, &b.settings, &*state, obj, &()).await
}

#[tokio::test]
async fn creates_the_link_and_its_association_then_steady_state_writes_nothing() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let assoc = association_id(&derived("arm"));
    let created: Vec<(ChangeAction, String)> = out
        .changes
        .iter()
        .map(|c| (c.action, c.resource_id.clone()))
        .collect();
    assert_eq!(
        created,
        [
            (ChangeAction::Create, link_id("arm")),
            (ChangeAction::Create, assoc.clone())
        ]
    );
    let st = obj.status.as_ref().unwrap();
    assert!(
        st.resource_id
            .as_deref()
            .unwrap()
            .eq_ignore_ascii_case(&link_id("arm"))
    );
    assert!(
        st.association_id
            .as_deref()
            .unwrap()
            .eq_ignore_ascii_case(&assoc)
    );
    assert!(st.link_owned && st.association_created, "{st:?}");
    assert!(uuid::Uuid::parse_str(&derived("arm")).is_ok());
    assert_ne!(derived("arm"), derived("other"));

    // What Azure holds: the location alone, and the wrapped association body.
    let azure = b.admin.get(&link_id("arm")).unwrap();
    assert_eq!(azure["location"], "eastus");
    let a = b.admin.get(&assoc).unwrap();
    assert!(
        a["properties"]["privateLink"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&link_id("arm"))
    );
    assert_eq!(a["properties"]["publicNetworkAccess"], "Enabled");
    assert_eq!(
        a["properties"]["scope"],
        format!("/providers/Microsoft.Management/managementGroups/{ROOT}")
    );

    b.admin.reset_counters();
    for _ in 0..3 {
        let out = step(&b, &mut obj, &()).await;
        assert!(ready(&obj) && out.changes.is_empty(), "{:?}", out.changes);
    }
    let counters = b.admin.counters();
    assert_eq!(counters.writes(), 0, "{:?}", counters.to_json());
    // Two GETs per reconcile: the link and the association.
    assert_eq!(counters.count("GET"), 6, "{:?}", counters.to_json());

    // Drift: someone points the association elsewhere; it is corrected.
    let elsewhere = link_id("someone-elses");
    b.admin
        .patch_out_of_band(&assoc, json!({"properties": {"privateLink": elsewhere}}))
        .unwrap();
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(out.changes.len(), 1, "{:?}", out.changes);
    assert_eq!(
        out.changes[0].diff[0].path,
        "association.properties.privateLink"
    );
    assert_eq!(condition(&obj, DRIFTED).0, "DriftCorrected");
    let a = b.admin.get(&assoc).unwrap();
    assert!(
        a["properties"]["privateLink"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&link_id("arm"))
    );
}

#[tokio::test]
async fn an_association_of_another_link_needs_adoption_and_is_left_on_delete() {
    let b = bed(Some("Contributor")).await;
    let name = "6f1c1e0a-4a5b-4c4d-8e8f-9a0b1c2d3e4f";
    let other = link_id("other-link");
    b.arm
        .put::<_, Value>(
            &ResourceId::parse(&other).unwrap(),
            &json!({"location": "eastus"}),
        )
        .await
        .unwrap();
    put_association(&b, name, &other).await;
    let mut obj = link("arm");
    obj.spec.association.as_mut().unwrap().name = Some(name.into());
    step(&b, &mut obj, &()).await;
    let (reason, message) = condition(&obj, "Ready");
    assert_eq!(reason, "AdoptionRequired", "{message}");
    assert!(
        message.contains(name) && message.contains("another resource management private link"),
        "{message}"
    );
    let a = b.admin.get(&association_id(name)).unwrap();
    assert!(
        a["properties"]["privateLink"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&other),
        "left as it was"
    );

    obj.spec.common.policy.adopt = true;
    obj.metadata.generation = Some(2);
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(out.changes.len(), 1, "{:?}", out.changes);
    assert_eq!(out.changes[0].action, ChangeAction::Update);
    let st = obj.status.as_ref().unwrap();
    assert!(!st.association_created, "adopted, not created: {st:?}");

    // Deleted with the object: the link, not the association arclink did not create.
    obj.spec.common.policy.deletion = DeletionPolicy::Delete;
    let (done, changes) = cleanup(&b, &obj).await;
    assert!(matches!(done, Cleanup::Done(_)), "{done:?}");
    let deleted: Vec<&str> = changes.iter().map(|c| c.resource_id.as_str()).collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(deleted[0].eq_ignore_ascii_case(&link_id("arm")));
    assert!(
        b.admin.get(&association_id(name)).is_some(),
        "not arclink's to delete"
    );
    assert!(b.admin.get(&link_id("arm")).is_none());
}

#[tokio::test]
async fn an_association_already_pointing_at_the_link_is_used_and_left_on_delete() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    obj.spec.association = None;
    step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let name = "0e2d6a4c-1b3f-4d5e-8a7b-6c5d4e3f2a1b";
    put_association(&b, name, &link_id("arm")).await;
    obj.spec.association = Some(arclink::api::management_link::ManagementGroupAssociation {
        management_group_id: ROOT.into(),
        name: Some(name.into()),
    });
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj) && out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(b.admin.counters().writes(), 0);
    let st = obj.status.as_ref().unwrap();
    assert!(
        !st.association_created && st.association_id.is_some(),
        "{st:?}"
    );

    let (done, changes) = cleanup(&b, &obj).await;
    assert!(matches!(done, Cleanup::Done(_)), "{done:?}");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(b.admin.get(&association_id(name)).is_some());
}

#[tokio::test]
async fn a_403_at_the_management_group_stalls_naming_the_role() {
    for role in [None, Some("Reader")] {
        let b = bed(role).await;
        let mut obj = link("arm");
        let out = step(&b, &mut obj, &()).await;
        assert!(stalled(&obj), "{role:?}: {:?}", obj.status);
        let (reason, message) = condition(&obj, "Stalled");
        assert_eq!(reason, "AuthorizationFailed", "{role:?}");
        assert!(
            message.contains("Owner or Contributor at the root management group")
                && message.contains(ROOT),
            "{role:?}: {message}"
        );
        // The link itself was created; no association write was reported as made.
        assert_eq!(out.changes.len(), 1, "{role:?}: {:?}", out.changes);
        let st = obj.status.as_ref().unwrap();
        assert!(
            st.resource_id.is_some() && st.association_id.is_none(),
            "{st:?}"
        );
        assert!(!st.association_created, "{st:?}");
        // No role: the association's GET is refused; Reader: its PUT is.
        let counters = b.admin.counters();
        assert_eq!(
            counters.status(403),
            1,
            "{role:?}: {:?}",
            counters.to_json()
        );
        let puts = if role.is_some() { 2 } else { 1 };
        assert_eq!(
            counters.count("PUT"),
            puts,
            "{role:?}: {:?}",
            counters.to_json()
        );
    }
}

#[tokio::test]
async fn private_endpoint_connections_are_decoded_from_objects() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    obj.spec.association = None;
    step(&b, &mut obj, &()).await;
    let pe = ResourceId::parse(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-arm"
    ))
    .unwrap();
    let body = json!({
        "location": "eastus",
        "properties": {
            "subnet": {"id": format!("/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints")},
            "privateLinkServiceConnections": [{"name": "arm", "properties": {"privateLinkServiceId": link_id("arm"), "groupIds": ["ResourceManagement"]}}],
        },
    });
    let _: Value = b.arm.put_and_wait(&pe, &body).await.unwrap();
    step(&b, &mut obj, &()).await;
    let st = obj.status.as_ref().unwrap();
    assert_eq!(st.private_endpoint_connections.len(), 1, "{st:?}");
    let c = &st.private_endpoint_connections[0];
    assert!(
        c.private_endpoint_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(&pe.to_string())),
        "{c:?}"
    );
    assert_eq!(c.status.as_deref(), Some("Approved"), "{c:?}");
    assert!(!c.name.is_empty());

    // The spec's string form and anything unreadable decode too, without failing the rest.
    let decoded = connections(&[
        json!(
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Authorization/resourceManagementPrivateLinks/l/privateEndpointConnections/c1"
        ),
        json!({"name": "c2", "properties": {"privateEndpoint": {"id": "not an id"}}}),
        json!(42),
    ]);
    let names: Vec<&str> = decoded.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["c1", "c2"]);
}

#[tokio::test]
async fn deletion_removes_what_it_created_and_orphan_leaves_everything() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    step(&b, &mut obj, &()).await;
    let assoc = association_id(&derived("arm"));
    let (done, changes) = cleanup(&b, &obj).await;
    assert!(matches!(done, Cleanup::Done(_)), "{done:?}");
    let order: Vec<(ChangeAction, &str)> = changes
        .iter()
        .map(|c| (c.action, c.resource_id.as_str()))
        .collect();
    assert_eq!(order.len(), 2, "{order:?}");
    assert!(
        order[0].1.eq_ignore_ascii_case(&assoc),
        "the association first: {order:?}"
    );
    assert!(b.admin.get(&assoc).is_none() && b.admin.get(&link_id("arm")).is_none());

    let mut kept = link("kept");
    kept.spec.common.policy.deletion = DeletionPolicy::Orphan;
    step(&b, &mut kept, &()).await;
    b.admin.reset_counters();
    let (done, changes) = cleanup(&b, &kept).await;
    assert!(
        matches!(&done, Cleanup::Done(m) if m.contains("orphaned")),
        "{done:?}"
    );
    assert!(changes.is_empty());
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(b.admin.get(&link_id("kept")).is_some());
    assert!(b.admin.get(&association_id(&derived("kept"))).is_some());
}

#[tokio::test]
async fn a_link_made_by_hand_needs_adoption_and_is_never_deleted_without_it() {
    let b = bed(Some("Owner")).await;
    b.arm
        .put::<_, Value>(
            &ResourceId::parse(&link_id("hand")).unwrap(),
            &json!({"location": "eastus"}),
        )
        .await
        .unwrap();
    let mut obj = link("hand");
    obj.spec.association = None;
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(condition(&obj, "Ready").0, "AdoptionRequired");
    assert!(out.changes.is_empty());
    let (done, changes) = cleanup(&b, &obj).await;
    assert!(
        matches!(&done, Cleanup::Done(m) if m.contains("left in Azure")),
        "{done:?}"
    );
    assert!(changes.is_empty());
    assert!(b.admin.get(&link_id("hand")).is_some());

    obj.spec.common.policy.adopt = true;
    obj.metadata.generation = Some(2);
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj) && out.changes.is_empty(), "{:?}", obj.status);
    assert!(obj.status.as_ref().unwrap().link_owned);

    // In another region: refused, ARM cannot move it.
    obj.spec.location = "westus".into();
    obj.metadata.generation = Some(3);
    step(&b, &mut obj, &()).await;
    assert_eq!(condition(&obj, "Stalled").0, "RegionMismatch");
}

#[tokio::test]
async fn removing_the_association_from_the_spec_deletes_the_one_arclink_created() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    step(&b, &mut obj, &()).await;
    let assoc = association_id(&derived("arm"));
    assert!(b.admin.get(&assoc).is_some());
    obj.spec.association = None;
    obj.metadata.generation = Some(2);
    let out = step(&b, &mut obj, &()).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].action, ChangeAction::Delete);
    assert!(b.admin.get(&assoc).is_none());
    let st = obj.status.as_ref().unwrap();
    assert!(
        st.association_id.is_none() && !st.association_created,
        "{st:?}"
    );
}

#[tokio::test]
async fn suspended_objects_make_no_calls_and_report_mode_never_creates() {
    let b = bed(Some("Owner")).await;
    let mut obj = link("arm");
    obj.spec.common.suspend = true;
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().total(), 0);
    assert_eq!(condition(&obj, "Ready").0, "Suspended");

    let mut report = link("report");
    report.spec.common.policy.drift = DriftPolicy::Report;
    let out = step(&b, &mut report, &()).await;
    assert!(out.changes.is_empty());
    assert_eq!(condition(&report, "Stalled").0, "NotFound");
    assert_eq!(b.admin.counters().writes(), 0);
}
