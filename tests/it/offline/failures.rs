//! ARM refusing a write: the write is not reported as made, and ARM's code is said once.

use serde_json::Value;

use crate::common::sandbox::Sandbox;

#[test]
fn a_refused_put_is_not_listed_as_created_and_the_code_is_said_once() {
    let sb = Sandbox::new("refused");
    let file = sb.write(
        "lost.yaml",
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: lost
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-missing}
  location: eastus
"#,
    );
    let apply = sb.arclink(&["apply", "-f", &file]);
    apply
        .exited(1)
        .stdout(|o| o.starts_with("Apply: 0 created, 0 updated, 0 deleted; 0 of 1 objects Ready."));
    assert!(!apply.stdout.contains("  created "), "{}", apply.stdout);
    assert!(
        apply.stderr.contains(
            "ArcPrivateLinkScope default/lost: ✗ ResourceGroupNotFound: Resource group 'rg-missing' could not be found."
        ),
        "{}",
        apply.stderr
    );

    let json = sb.arclink(&["apply", "-f", &file, "-o", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["objects"][0]["changes"],
        serde_json::json!([]),
        "{report:#}"
    );

    // plan still lists what it would write.
    let plan = sb.arclink(&["plan", "-f", &file]);
    assert!(
        plan.stdout.contains("  + create /subscriptions/"),
        "{plan:?}"
    );
}
