//! Ownership of the scope: an unowned scope needs `policy.adopt` (its links stay as they are),
//! one owned by another object is never written, and the links of an adopted scope that
//! arclink did not make are never unlinked.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn unowned_scopes_need_adopt_and_foreign_ones_are_never_written() {
    let b = bed(Duration::ZERO).await;
    let id: arclink::azure::ResourceId = ampls_id("l1").parse().unwrap();
    let body = json!({
        "location": "global",
        "tags": {"owner": "someone"},
        "properties": {"accessModeSettings": {"queryAccessMode": "Open", "ingestionAccessMode": "Open"}}
    });
    let _: Value = b.arm.put_and_wait(&id, &body).await.unwrap();
    link_out_of_band(&b, "l1", "theirs", &workspace("law-audit")).await;

    let mut obj = ampls("l1", &[workspace("law-arc")]);
    b.admin.reset_counters();
    step(&b, &mut obj, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&obj, STALLED), "AdoptionRequired");
    assert!(!ready(&obj));

    obj.spec.common.policy.adopt = true;
    settle(&b, &mut obj, 4, Duration::ZERO).await;
    let tags = &b.admin.get(&ampls_id("l1")).unwrap()["tags"];
    assert_eq!(
        tags["arclink-owner"],
        owned_by("ArcMonitorPrivateLinkScope/l1")
    );
    assert_eq!(
        tags["owner"], "someone",
        "policy.tags Merge keeps undeclared tags"
    );
    let names: Vec<String> = links(&b, "l1").await.into_iter().map(|l| l.0).collect();
    assert_eq!(
        names,
        [link_name(&workspace("law-arc")), "theirs".to_string()]
    );
    let listed = &obj.status.as_ref().unwrap().scoped_resources;
    assert!(
        listed.iter().any(|s| s.name == "theirs"),
        "the status lists every link of the scope: {listed:?}"
    );

    let mut other = ampls("l1", &[]);
    other.metadata.namespace = Some("other-ns".into());
    other.spec.common.policy.adopt = true;
    b.admin.reset_counters();
    step(&b, &mut other, &()).await;
    assert_eq!(b.admin.counters().writes(), 0);
    assert_eq!(reason(&other, STALLED), "OwnedElsewhere");
    assert!(
        message(&other, STALLED).contains("test-cluster/ns/ArcMonitorPrivateLinkScope/l1"),
        "{}",
        message(&other, STALLED)
    );
    assert_eq!(
        links(&b, "l1").await.len(),
        2,
        "nothing unlinked by the other object"
    );
}
