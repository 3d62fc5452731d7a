//! Private DNS writes with concurrency headers (issue 20 item 5): zones, links and record sets
//! are created with `If-None-Match: *` and updated with `If-Match: <etag read>`; a 412
//! `PreconditionFailed` means someone else created or changed the resource between arclink's
//! read and its write, and arclink reads it again and decides anew (ownership and adoption for
//! a resource that now exists, a new comparison for one that changed).

use std::time::Duration;

use arclink::api::conditions::STALLED;
use arclink::emulator::Fault;
use serde_json::{Value, json};

use super::support::*;

const HIS: &str = "privatelink.his.arc.azure.com";

/// Returns once arclink has read a resource of `resource_type` (its write, held back by an
/// injected latency, comes next), for another writer to change it in between.
async fn after_arclink_read(b: &Bed, resource_type: &str) {
    for _ in 0..2500 {
        if b.admin.counters().count_for("GET", resource_type) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("arclink never read a {resource_type}");
}

fn owner_tag(v: &Value) -> Option<&str> {
    v["tags"]["arclink-owner"].as_str()
}

#[tokio::test]
async fn a_zone_created_by_someone_else_at_the_same_moment_is_not_taken_over() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    // Azure Policy (deployIfNotExists) creates the zone in the same resource group ...
    b.arm
        .put_and_wait::<_, Value>(
            &zone_id(HIS).parse().unwrap(),
            &json!({"location": "global", "tags": {"createdBy": "policy"}}),
        )
        .await
        .unwrap();
    // ... just after arclink's read found it absent.
    b.admin.inject(
        Fault::status(404)
            .method("GET")
            .path_contains(&format!("privateDnsZones/{HIS}"))
            .times(1),
    );
    b.admin.reset_counters();
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &deps(&s)).await;

    let zone = b.admin.get(&zone_id(HIS)).unwrap();
    assert_eq!(zone["tags"], json!({"createdBy": "policy"}), "{zone}");
    assert_eq!(owner_tag(&zone), None);
    assert_eq!(
        b.admin.counters().status(412),
        1,
        "the create was refused once, not retried blindly"
    );
    assert_eq!(
        reason(&obj, STALLED),
        "AdoptionRequired",
        "{:?}",
        obj.status
    );
    assert!(message(&obj, STALLED).contains(HIS));
}

#[tokio::test]
async fn a_zone_changed_between_read_and_write_is_read_and_compared_again() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    // Someone changes arclink's owner tags on a zone: arclink PATCHes the zone's tags as it
    // read them. While its PATCH is on the way, another tool adds a tag of its own.
    b.admin
        .patch_out_of_band(&zone_id(HIS), json!({"tags": {"managed-by": "someone"}}))
        .unwrap();
    b.admin.inject(
        Fault::latency(1000)
            .method("PATCH")
            .path_contains(&format!("privateDnsZones/{HIS}"))
            .times(1),
    );
    b.admin.reset_counters();
    let other_writer = async {
        // The zones are read in turn, each written right after its read; HIS comes first.
        after_arclink_read(&b, "Microsoft.Network/privateDnsZones").await;
        b.admin
            .patch_out_of_band(
                &zone_id(HIS),
                json!({"etag": "changed-by-another-tool", "tags": {"costCenter": "42"}}),
            )
            .unwrap();
    };
    let (out, ()) = tokio::join!(step(&b, &mut obj, &d), other_writer);
    let patched: Vec<&str> = out.changes.iter().map(|c| c.resource_id.as_str()).collect();
    assert_eq!(patched, [zone_id(HIS).as_str()], "{:?}", out.changes);
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);

    assert_eq!(b.admin.counters().status(412), 1);
    let zone = b.admin.get(&zone_id(HIS)).unwrap();
    assert_eq!(zone["tags"]["managed-by"], "arclink", "{zone}");
    assert_eq!(
        zone["tags"]["costCenter"], "42",
        "the other tool's tag survives: arclink wrote the version it read again: {zone}"
    );
}

#[tokio::test]
async fn a_record_set_changed_between_read_and_write_is_not_overwritten_blindly() {
    let b = bed().await;
    let s = ready_scope(&b, "scope-a").await;
    let d = deps(&s);
    let mut obj = endpoint("pe", "hub", "scope-a");
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    let record = format!("{}/A/gbl", zone_id(HIS));
    let ip = b.admin.get(&record).unwrap()["properties"]["aRecords"][0]["ipv4Address"].clone();

    // Someone points the record elsewhere; while arclink's correction is on the way, the
    // record changes again.
    b.admin
        .patch_out_of_band(
            &record,
            json!({"properties": {"aRecords": [{"ipv4Address": "10.9.9.9"}]}}),
        )
        .unwrap();
    b.admin.inject(
        Fault::latency(1000)
            .method("PUT")
            .path_contains("/A/gbl")
            .times(1),
    );
    b.admin.reset_counters();
    let other_writer = async {
        // The zones' record sets are listed in turn, HIS's first.
        after_arclink_read(&b, "Microsoft.Network/privateDnsZones/A").await;
        b.admin
            .patch_out_of_band(
                &record,
                json!({"etag": "changed-again", "properties": {"aRecords": [{"ipv4Address": "10.9.9.8"}]}}),
            )
            .unwrap();
    };
    let (out, ()) = tokio::join!(step(&b, &mut obj, &d), other_writer);
    assert_eq!(b.admin.counters().status(412), 1);
    assert!(
        !out.changes
            .iter()
            .any(|c| c.resource_id.ends_with("/A/gbl")),
        "a refused write is not reported as made: {:?}",
        out.changes
    );
    assert_eq!(
        b.admin.get(&record).unwrap()["properties"]["aRecords"][0]["ipv4Address"],
        "10.9.9.8"
    );
    // The next look compares the record as it now is, and corrects it.
    converge(&b, &mut obj, &d).await;
    assert!(ready(&obj), "{:?}", obj.status);
    assert_eq!(
        b.admin.get(&record).unwrap()["properties"]["aRecords"][0]["ipv4Address"],
        ip
    );
}
