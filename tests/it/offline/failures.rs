//! ARM refusing a write: the write is not reported as made, and ARM's code is said once. ARM
//! handing back a name that carries terminal escapes: shown escaped, exact in JSON.

use serde_json::{Value, json};

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

/// A machine whose name (and so its id) carries `ESC[2J` (clear the screen), an OSC title and
/// a BEL, as a hostile or broken ARM could list it.
const HOSTILE: &str = "evil\u{1b}[2J\u{1b}]0;owned\u{7}";

fn no_escapes(what: &str, text: &str) {
    assert!(
        !text.contains(['\u{1b}', '\u{7}']),
        "{what} drives the terminal: {text:?}"
    );
}

#[test]
fn names_from_arm_carrying_terminal_escapes_are_shown_escaped_and_exact_in_json() {
    let sb = Sandbox::new("escapes");
    let file = sb.write(
        "evil.yaml",
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata: {name: arc-scope}
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}
  location: eastus
---
apiVersion: arclink.io/v1alpha1
kind: ArcServerAssociation
metadata: {name: evil}
spec:
  scopeRef: {name: arc-scope}
  machines:
    subscriptionId: 11111111-2222-3333-4444-555555555555
    resourceGroup: rg-servers
    tagSelector: {role: evil}
"#,
    );
    let first = sb.arclink(&["apply", "-f", &file]);
    assert_eq!(first.code, 0, "no machine carries the tag yet: {first:?}");
    let group = format!(
        "/subscriptions/{}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines",
        crate::common::fixtures::SUB
    );
    let id = format!("{group}/{HOSTILE}");
    let text = std::fs::read_to_string(sb.state()).unwrap();
    let mut state: Value = serde_json::from_str(&text).unwrap();
    let mut machine = state["resources"][format!("{group}/web-01").to_ascii_lowercase()].clone();
    machine["id"] = json!(id);
    machine["name"] = json!(HOSTILE);
    machine["tags"] = json!({"role": "evil"});
    state["resources"][id.to_ascii_lowercase()] = machine;
    std::fs::write(sb.state(), serde_json::to_string(&state).unwrap()).unwrap();

    let plan = sb.arclink(&["plan", "-f", &file]);
    assert_eq!(plan.code, 2, "{plan:?}");
    no_escapes("plan", &plan.stdout);
    no_escapes("plan's stderr", &plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "  ~ update {group}/evil\\u{{1b}}[2J\\u{{1b}}]0;owned\\u{{7}}\n"
        )),
        "{}",
        plan.stdout
    );
    let json = sb.arclink(&["plan", "-f", &file, "-o", "json"]);
    let parsed: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        parsed["objects"][1]["changes"][0]["resourceId"],
        json!(id),
        "{parsed:#}"
    );

    // The emulator refuses the name in a path, as ARM would: the machine is reported failed.
    let apply = sb.arclink(&["apply", "-f", &file]);
    assert_eq!(apply.code, 1, "{apply:?}");
    no_escapes("apply", &apply.stdout);
    no_escapes("apply's progress", &apply.stderr);
    assert!(apply.stdout.contains("evil\\"), "{}", apply.stdout);
    let json = sb.arclink(&["apply", "-f", &file, "-o", "json"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["objects"][1]["status"]["machines"][0]["name"],
        json!(HOSTILE),
        "{report:#}"
    );
}
