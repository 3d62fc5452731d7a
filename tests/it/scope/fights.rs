//! Write loops with other writers (issue 20 item 6): a field another writer sets back after
//! every correction (an Azure Policy `modify` effect on a tag under `policy.tags: Exact`) is
//! corrected at three drift checks in a row, then left alone with `Drifted` saying so, while
//! every other field is still corrected; until the spec changes or Azure shows the desired
//! value again.

use arclink::api::conditions::{DRIFTED, READY, find, is_true};
use arclink::api::{ArcPrivateLinkScope, TagPolicy};
use serde_json::{Value, json};

use crate::common::bed::{Bed, step};
use crate::common::fixtures::{scope, scope_id};

fn drifted(obj: &ArcPrivateLinkScope) -> (String, String) {
    let c = find(&obj.status.as_ref().unwrap().common.conditions, DRIFTED).unwrap();
    (c.reason.clone(), c.message.clone())
}

fn corrections(obj: &ArcPrivateLinkScope) -> Vec<(String, u32)> {
    obj.status
        .as_ref()
        .unwrap()
        .common
        .arm
        .corrections
        .iter()
        .map(|c| (c.path.clone(), c.count))
        .collect()
}

fn azure(b: &Bed) -> Value {
    b.admin.get(&scope_id("s1")).unwrap()
}

/// The policy's `modify` effect: the tag is back after arclink's write.
fn policy_adds_the_tag(b: &Bed) {
    b.admin
        .patch_out_of_band(&scope_id("s1"), json!({"tags": {"costCenter": "42"}}))
        .unwrap();
}

async fn ready_exact(b: &Bed) -> ArcPrivateLinkScope {
    let mut obj = scope("s1");
    obj.spec.common.policy.tags = TagPolicy::Exact;
    step(b, &mut obj, &()).await;
    assert!(is_true(
        &obj.status.as_ref().unwrap().common.conditions,
        READY
    ));
    obj
}

/// Three checks in a row that remove the policy's tag again.
async fn fight_three_times(b: &Bed, obj: &mut ArcPrivateLinkScope) {
    for n in 1..=3 {
        policy_adds_the_tag(b);
        b.admin.reset_counters();
        let out = step(b, obj, &()).await;
        assert_eq!(b.admin.counters().writes(), 1, "correction {n}");
        assert_eq!(out.drift.corrected[0].path, "tags.costCenter");
        assert_eq!(corrections(obj), [("tags.costCenter".to_string(), n)]);
        assert_eq!(azure(b)["tags"].get("costCenter"), None);
    }
}

#[tokio::test]
async fn a_field_another_writer_keeps_setting_is_left_to_it_after_three_checks() {
    let b = Bed::new().await;
    let mut obj = ready_exact(&b).await;
    fight_three_times(&b, &mut obj).await;

    // The fourth time: no write, and Drifted says who is fighting over what.
    policy_adds_the_tag(&b);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert!(is_true(
        &obj.status.as_ref().unwrap().common.conditions,
        READY
    ));
    let (reason, message) = drifted(&obj);
    assert_eq!(reason, "FightingAnotherWriter");
    assert!(message.contains("tags.costCenter"), "{message}");
    assert!(message.contains("\"42\""), "{message}");
    let listed = &obj.status.as_ref().unwrap().common.arm.drift;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].desired.as_str(), listed[0].actual.as_str()),
        ("", "42")
    );
    // Steady: still no write at the next check.
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);

    // Every other field is still corrected, and the write leaves the held one as Azure has it.
    b.enable_public_access("s1");
    b.admin.reset_counters();
    let out = step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 1);
    let paths: Vec<&str> = out.changes[0]
        .diff
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, ["properties.publicNetworkAccess"]);
    let now = azure(&b);
    assert_eq!(now["properties"]["publicNetworkAccess"], "Disabled");
    assert_eq!(now["tags"]["costCenter"], "42");
    assert_eq!(drifted(&obj).0, "FightingAnotherWriter");

    // The other writer stops: Azure shows the desired value, the field is arclink's again.
    b.admin
        .patch_out_of_band(&scope_id("s1"), json!({"tags": {"costCenter": null}}))
        .unwrap();
    step(&b, &mut obj, &()).await;
    assert_eq!(drifted(&obj).0, "Succeeded");
    assert_eq!(
        corrections(&obj),
        [("properties.publicNetworkAccess".to_string(), 1)],
        "only the one-off correction is still remembered"
    );
    policy_adds_the_tag(&b);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(
        b.admin.counters().writes(),
        1,
        "corrected again, counted anew"
    );
    assert_eq!(corrections(&obj)[0], ("tags.costCenter".to_string(), 1));
}

#[tokio::test]
async fn a_new_spec_counts_anew() {
    let b = Bed::new().await;
    let mut obj = ready_exact(&b).await;
    fight_three_times(&b, &mut obj).await;
    policy_adds_the_tag(&b);
    step(&b, &mut obj, &()).await;
    assert_eq!(drifted(&obj).0, "FightingAnotherWriter");

    // A changed spec (here: a new tag of its own) is written, the held field with it, and
    // the count starts again (the writes that apply a new spec are not counted).
    obj.spec.common.tags.insert("env".into(), "prod".into());
    obj.metadata.generation = Some(2);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 1);
    let tags = &azure(&b)["tags"];
    assert_eq!(tags["env"], "prod");
    assert_eq!(tags.get("costCenter"), None);
    assert!(corrections(&obj).is_empty());
    assert_ne!(drifted(&obj).0, "FightingAnotherWriter");
    fight_three_times(&b, &mut obj).await;
}
