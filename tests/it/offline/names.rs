//! Issue 22 items 5 and 6: `plan`/`apply` accept and refuse the names and ids of the one table
//! (`crds::cases`) exactly as the CRDs do, naming the field; and the probes of item 5 never
//! reach ARM.

use arclink::offline::manifest;

use crate::common::sandbox::Sandbox;
use crate::crds::cases::{self, Base};

/// The manifests of a case: its object, and the scope it refers to when it is not one.
fn manifests(case: &cases::Case) -> String {
    let mut docs = vec![case.object()];
    if !matches!(case.base, Base::Scope) {
        docs.push(
            cases::cases()
                .into_iter()
                .find(|c| matches!(c.base, Base::Scope) && c.refused.is_none())
                .expect("a valid scope")
                .object(),
        );
    }
    // JSON is YAML.
    docs.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn plan_checks_names_and_ids_by_the_same_table_as_the_crds() {
    let sb = Sandbox::new("names");
    for (i, case) in cases::cases().into_iter().enumerate() {
        let path = sb.dir.join(format!("case-{i}.yaml"));
        std::fs::write(&path, manifests(&case)).unwrap();
        let loaded = manifest::load(&[path], None);
        match (case.refused, loaded) {
            (None, Ok(_)) => {}
            (None, Err(errors)) => panic!("{case:?}: refused: {errors:?}"),
            (Some(field), Ok(_)) => panic!("{case:?}: accepted, expected an error naming {field}"),
            (Some(field), Err(errors)) => assert!(
                errors.iter().any(|e| e.field() == Some(field)),
                "{case:?}: expected an error naming {field}, got {errors:?}"
            ),
        }
    }
}

/// The two probes of item 5, through the binary: refused before anything is read from or
/// written to ARM, naming the field.
#[test]
fn the_path_step_probes_never_reach_arm() {
    let sb = Sandbox::new("path-steps");
    let probes = [
        (
            "/spec/outboundRules/networkSecurityGroupId",
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/..",
            Base::Endpoint,
            "spec.outboundRules.networkSecurityGroupId",
        ),
        ("/spec/azure/name", ".", Base::Scope, "spec.azure.name"),
    ];
    for (pointer, value, base, field) in probes {
        let case = cases::Case {
            base,
            set: vec![
                (pointer, serde_json::json!(value)),
                ("/spec/policy", serde_json::json!({"adopt": true})),
            ],
            refused: Some(field),
        };
        let file = sb.write("probe.yaml", &manifests(&case));
        for command in ["plan", "apply"] {
            sb.arclink(&[command, "-f", &file]).exited(1).stderr(|e| {
                e.contains(&format!("{field}: "))
                    && e.contains("nothing was read from or written to Azure")
            });
        }
        assert!(
            !sb.state().exists()
                || sb
                    .resources()
                    .keys()
                    .all(|k| !k.contains("privatelinkscopes")),
            "{:?}",
            sb.resources().keys().collect::<Vec<_>>()
        );
    }
}
