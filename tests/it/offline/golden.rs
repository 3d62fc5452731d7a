//! Plans (text and JSON) for create, no-op, drift and blocked, compared with golden files.

use serde_json::{Value, json};

use crate::common::fixtures::{machine_id, scope_id};
use crate::common::sandbox::{Sandbox, golden};

const EXAMPLES: &str = "deploy/examples/";

#[test]
fn plan_on_a_fresh_emulator_creates_the_scope_and_waits_for_it() {
    let sb = Sandbox::new("create");
    let text = sb.arclink(&["plan", "-f", EXAMPLES]);
    assert_eq!(text.code, 2, "{text:?}");
    assert!(
        text.stderr.contains("embedded ARM emulator") && text.stderr.contains("NOT Azure"),
        "{}",
        text.stderr
    );
    golden("create.txt", &text.stdout);
    let json = sb.arclink(&["plan", "-f", EXAMPLES, "--output", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    golden("create.json", &json.stdout);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    // The Arc scope, the Azure Monitor scope, the resource management link, and the Key Vault
    // and blob endpoints (they wait for nothing); the association and the endpoints to the
    // Arc scope, the Azure Monitor scope and the link wait for them.
    assert_eq!(plan["summary"]["create"], 5);
    assert_eq!(plan["summary"]["waiting"], 4);
    for (name, reason) in [
        ("hub-monitor-pe", "WaitingForMonitorScope"),
        ("hub-management-pe", "WaitingForManagementLink"),
    ] {
        let planned = plan["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap();
        assert_eq!(
            (planned["action"].as_str(), planned["reason"].as_str()),
            (Some("waiting"), Some(reason)),
            "{planned:#}"
        );
    }
    assert_eq!(sb.scopes_and_endpoints(), 0, "plan must not write");
}

#[test]
fn apply_converges_the_examples_then_plan_and_apply_report_no_changes() {
    let sb = Sandbox::new("noop");
    let apply = sb.arclink(&["apply", "-f", EXAMPLES]);
    assert_eq!(apply.code, 0, "{apply:?}");
    golden("apply.txt", &apply.stdout);
    for object in [
        "ArcPrivateLinkScope default/arc-scope",
        "ArcMonitorPrivateLinkScope default/arc-monitor",
        "ArcPrivateEndpoint default/hub-arc-pe",
        "ArcPrivateEndpoint default/hub-blob-pe",
        "ArcPrivateEndpoint default/hub-keyvault-pe",
        "ArcPrivateEndpoint default/hub-monitor-pe",
        "ArcPrivateEndpoint default/hub-management-pe",
        "ArcResourceManagementPrivateLink default/arm-link",
        "ArcServerAssociation default/web-servers",
    ] {
        assert!(
            apply.stderr.contains(&format!("{object}: ✓")),
            "{}",
            apply.stderr
        );
    }
    let text = sb.arclink(&["plan", "-f", EXAMPLES]);
    assert_eq!(text.code, 0, "{text:?}");
    golden("noop.txt", &text.stdout);
    let json = sb.arclink(&["plan", "-f", EXAMPLES, "-o", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    golden("noop.json", &json.stdout);

    let before = sb.resources();
    let again = sb.arclink(&["apply", "-f", EXAMPLES]);
    again
        .exited(0)
        .stdout(|o| o.starts_with("Apply: 0 created, 0 updated, 0 deleted; 9 of 9 objects Ready."));
    assert_eq!(sb.resources(), before, "a second apply must not write");
}

#[test]
fn plan_shows_field_level_drift_made_out_of_band_and_apply_corrects_it() {
    let sb = Sandbox::new("drift");
    assert_eq!(sb.arclink(&["apply", "-f", EXAMPLES]).code, 0);
    sb.edit(&scope_id("arc-scope"), |s| {
        s["properties"]["publicNetworkAccess"] = json!("Enabled");
        s["properties"]["serviceExtensions"][0]["serviceExtensionPublicNetworkAccess"] =
            json!("Enabled");
        s["tags"]["team"] = json!("ops");
    });
    sb.edit(&machine_id("web-02"), |m| {
        m["properties"]["privateLinkScopeResourceId"] = Value::Null;
    });
    let text = sb.arclink(&["plan", "-f", EXAMPLES]);
    assert_eq!(text.code, 2, "{text:?}");
    golden("drift.txt", &text.stdout);
    let json = sb.arclink(&["plan", "-f", EXAMPLES, "-o", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    golden("drift.json", &json.stdout);

    // The same drift under `policy.drift: Report` is shown, not planned as a write.
    let example = std::fs::read_to_string(
        crate::common::sandbox::root().join("deploy/examples/01-scope.yaml"),
    )
    .unwrap();
    assert!(example.contains("drift: Correct"));
    let report = sb.write(
        "scope-report.yaml",
        &example.replace("drift: Correct", "drift: Report"),
    );
    let reported = sb.arclink(&["plan", "-f", &report]);
    assert_eq!(reported.code, 2, "{reported:?}");
    golden("drift-report.txt", &reported.stdout);

    assert_eq!(sb.arclink(&["apply", "-f", EXAMPLES]).code, 0);
    let after = sb.arclink(&["plan", "-f", EXAMPLES]);
    assert_eq!(after.code, 0, "{after:?}");
}

#[test]
fn plan_reports_a_scope_owned_by_another_cluster_as_blocked() {
    let sb = Sandbox::new("owned");
    let other = sb.arclink(&[
        "apply",
        "-f",
        "deploy/examples/01-scope.yaml",
        "--cluster-name",
        "other-cluster",
    ]);
    assert_eq!(other.code, 0, "{other:?}");
    let text = sb.arclink(&["plan", "-f", EXAMPLES]);
    assert_eq!(text.code, 1, "{text:?}");
    golden("blocked-owned.txt", &text.stdout);
    let json = sb.arclink(&["plan", "-f", EXAMPLES, "-o", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    golden("blocked-owned.json", &json.stdout);
    // The pipeline of the owning cluster sees no change.
    let owner = sb.arclink(&[
        "plan",
        "-f",
        "deploy/examples/01-scope.yaml",
        "--cluster-name",
        "other-cluster",
    ]);
    assert_eq!(owner.code, 0, "{owner:?}");
}

const WEST: &str = r#"
apiVersion: arclink.io/v1alpha1
kind: ArcPrivateEndpoint
metadata:
  name: west-pe
spec:
  azure:
    subscriptionId: 11111111-2222-3333-4444-555555555555
    resourceGroup: rg-net
  location: westus
  subnetId: /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints
  scopeRef:
    name: arc-scope
  privateDns:
    mode: None
---
apiVersion: arclink.io/v1alpha1
kind: ArcServerAssociation
metadata:
  name: legacy
spec:
  scopeRef:
    name: arc-scope
  machines:
    subscriptionId: 11111111-2222-3333-4444-555555555555
    resourceGroup: rg-servers
    names: [legacy-01]
"#;

#[test]
fn plan_reports_region_mismatches_as_blocked() {
    let sb = Sandbox::new("region");
    assert_eq!(sb.arclink(&["apply", "-f", EXAMPLES]).code, 0);
    let west = sb.write("west.yaml", WEST);
    let text = sb.arclink(&["plan", "-f", EXAMPLES, &west]);
    assert_eq!(text.code, 1, "{text:?}");
    golden("blocked-region.txt", &text.stdout);
    let json = sb.arclink(&["plan", "-f", EXAMPLES, &west, "-o", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    golden("blocked-region.json", &json.stdout);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    let reasons: Vec<&str> = plan["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["action"] == "blocked")
        .map(|o| o["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        vec!["RegionMismatch", "RegionMismatch"],
        "{plan:#}"
    );
}
