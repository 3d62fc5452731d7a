//! Every class of bad manifest is reported with file, document, object and field, and nothing
//! reaches ARM: a valid object next to the bad one is not created.

use serde_json::Value;

use crate::support::Sandbox;

/// A valid scope that `apply` would create if the bad document did not stop it.
const VALID: &str = r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: extra-scope
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}
  location: eastus
"#;

fn scope(name: &str, spec_extra: &str) -> String {
    format!(
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: {name}
  namespace: team-a
spec:
  azure: {{subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}}
{spec_extra}"#
    )
}

/// Applies `VALID` followed by `bad`; expects exit 1, `expected` in stderr, the JSON error
/// class `class`, and no scope `extra-scope` in the emulator.
fn rejected(name: &str, bad: &str, expected: &[&str], class: &str) {
    let sb = Sandbox::new(name);
    // A first, valid apply creates the emulator state that the rejected one must not change.
    let first = sb.arclink(&["apply", "-f", "deploy/examples/01-scope.yaml"]);
    assert_eq!(first.code, 0, "{first:?}");
    let before = sb.resources();
    let file = sb.write("bad.yaml", &format!("{VALID}---\n{bad}"));

    let apply = sb.arclink(&["apply", "-f", &file]);
    assert_eq!(apply.code, 1, "{apply:?}");
    for e in expected {
        assert!(
            apply.stderr.contains(e),
            "{name}: expected {e:?} in:\n{}",
            apply.stderr
        );
    }
    assert!(
        apply
            .stderr
            .contains("nothing was read from or written to Azure"),
        "{}",
        apply.stderr
    );
    assert!(apply.stdout.is_empty(), "{}", apply.stdout);
    assert_eq!(sb.resources(), before, "{name}: the emulator state changed");

    let plan = sb.arclink(&["plan", "-f", &file, "-o", "json"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    let json: Value = serde_json::from_str(&plan.stdout).unwrap();
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["class"] == class && e["file"] == "<tmp>/bad.yaml"),
        "{name}: no {class} error in {json:#}"
    );
    assert!(json["objects"].as_array().unwrap().is_empty());
}

#[test]
fn invalid_yaml_names_the_file_and_document() {
    rejected(
        "yaml",
        "kind: ArcPrivateLinkScope\nmetadata: {name: broken\nspec: [\n",
        // Line numbers are the file's, not the document's.
        &["error: <tmp>/bad.yaml (document 2): invalid YAML: line 11 column 5: "],
        "yaml",
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    rejected(
        "unknown",
        &scope(
            "typo",
            "  location: eastus\n  publicNetworkAcess: Disabled\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/typo: spec.publicNetworkAcess: unknown field",
        ],
        "invalid",
    );
}

#[test]
fn schema_violations_are_rejected_with_their_path() {
    rejected(
        "schema",
        &scope(
            "bad-enum",
            "  location: eastus\n  publicNetworkAccess: Sometimes\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/bad-enum: spec.publicNetworkAccess: unsupported value \"Sometimes\"",
        ],
        "invalid",
    );
}

#[test]
fn cel_violations_are_rejected_with_the_rule_message() {
    rejected(
        "cel",
        &scope(
            "reserved",
            "  location: eastus\n  tags: {managed-by: someone-else}\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/reserved: spec.tags",
            "tags managed-by and arclink-owner are reserved for arclink",
        ],
        "invalid",
    );
}

#[test]
fn a_dangling_scope_ref_is_rejected() {
    rejected(
        "dangling",
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcServerAssociation
metadata:
  name: orphans
spec:
  scopeRef: {name: no-such-scope}
  machines: {resourceGroup: rg-servers, names: [web-01]}
"#,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcServerAssociation default/orphans: spec.scopeRef.name: ArcPrivateLinkScope default/no-such-scope is not declared in the manifests",
        ],
        "danglingScopeRef",
    );
}

#[test]
fn duplicates_are_rejected_naming_both_places() {
    rejected(
        "duplicate",
        VALID,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope default/extra-scope: duplicate: already declared at <tmp>/bad.yaml (document 1)",
        ],
        "duplicate",
    );
}

#[test]
fn other_kinds_are_ignored_with_a_note() {
    let sb = Sandbox::new("foreign");
    let file = sb.write(
        "mixed.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: unrelated}}\n---\n{VALID}"),
    );
    let plan = sb.arclink(&["plan", "-f", &file]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stderr.contains(
            "note: <tmp>/mixed.yaml (document 1): ignoring ConfigMap (v1): not an arclink kind"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .contains("ArcPrivateLinkScope default/extra-scope (<tmp>/mixed.yaml, document 2)")
    );
}

#[test]
fn missing_fixtures_are_a_clear_error() {
    let sb = Sandbox::new("fixtures");
    let run = sb.arclink(&[
        "plan",
        "-f",
        "deploy/examples/",
        "--emulator-fixtures",
        "no/such/fixtures.yaml",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("--emulator-fixtures no/such/fixtures.yaml: ")
            && run.stderr.contains("run from the repository root"),
        "{}",
        run.stderr
    );
}
