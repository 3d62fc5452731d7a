//! Reading manifests that are barely manifests: every error names where it is.

use super::*;
use proptest::prelude::*;

/// Lines that make documents of every kind, valid or not, and YAML that is barely YAML.
const FRAGMENTS: &[&str] = &[
    "---",
    "...",
    "--- {apiVersion: arclink.io/v1alpha1, kind: ArcPrivateLinkScope}",
    "apiVersion: arclink.io/v1alpha1",
    "apiVersion: v1",
    "kind: ArcPrivateLinkScope",
    "kind: ArcPrivateEndpoint",
    "kind: ArcServerAssociation",
    "kind: ConfigMap",
    "metadata:",
    "  name: a",
    "  name: a",
    "  namespace: Team_A",
    "spec:",
    "  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg}",
    "  azure: {resourceGroup: rg, name: A}",
    "  location: eastus",
    "  policy: {driftCheckInterval: 99999h99999h99999h99999h}",
    "  policy: {driftCheckInterval: 99999999999999999999h}",
    "  policy: {driftCheckInterval: 1e300s}",
    "  scopeRef: {name: a}",
    "  subnetId: /subscriptions/x/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
    "  machines: {resourceGroup: rg, names: [a, a]}",
    "  tags: &t {k: v}",
    "  labels: *t",
    "  - [",
    "{",
    "'",
    "\"\\u0000\"",
    "\t",
    "%YAML 1.2",
    "!!binary x",
    "",
];

fn load_text(text: &str) -> (Manifests, Vec<ManifestError>) {
    let mut manifests = Manifests::default();
    let mut errors = Vec::new();
    parse_file("f.yaml", text, &mut manifests, &mut errors);
    check_set(&manifests.objects, Some("s"), &mut errors);
    (manifests, errors)
}

proptest! {
    // PROPTEST_CASES sets the number of cases (256 by default; the long run: 100000).
    #[test]
    fn any_text_loads_or_errors(text in "\\PC{0,300}") {
        load_text(&text);
    }

    #[test]
    fn manifest_like_text_loads_or_errors(
        lines in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..30)
    ) {
        let (manifests, errors) = load_text(&lines.join("\n"));
        for e in &errors {
            prop_assert!(e.origin().is_some(), "{e}");
        }
        prop_assert!(manifests.objects.iter().all(|d| d.origin.document >= 1));
    }
}

#[test]
fn yaml_errors_carry_the_line_number_of_the_file() {
    let (_, errors) = load_text("a: 1\n---\nb: 2\n---\n\n\nc: [\n");
    let yaml: Vec<String> = errors
        .iter()
        .filter(|e| e.class() == "yaml")
        .map(ToString::to_string)
        .collect();
    assert_eq!(yaml.len(), 1, "{errors:?}");
    assert!(
        yaml[0].starts_with("f.yaml (document 3): invalid YAML: line 7 column 4: "),
        "{yaml:?}"
    );
}

#[test]
fn documents_split_at_markers_only_at_line_start() {
    let chunks = split_documents("a: 1\n---\nb: |\n  ---\n  x\n--- # c\nc: 3\n...\n");
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.trim()).collect();
    assert_eq!(texts, vec!["a: 1", "b: |\n  ---\n  x", "# c\nc: 3", ""]);
    assert_eq!(chunks[1].line, 2);
}
