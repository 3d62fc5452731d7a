//! ArcPrivateEndpoint's `monitorScopeRef` and `resourceManagementLinkRef` in the CRD: each is
//! one of the exactly-one target fields, with an object name, and never changes (nor turns into
//! another target field).

use serde_json::{Value, json};

use super::{accepted, endpoint, errors, rejected, rejected_update, with};

/// `endpoint()` naming its target by `field` only.
fn by(field: &str, value: Value) -> Value {
    with(
        with(endpoint(), "/spec/scopeRef", Value::Null),
        &format!("/spec/{field}"),
        value,
    )
}

fn monitor(name: &str) -> Value {
    by("monitorScopeRef", json!({"name": name}))
}

fn management(name: &str) -> Value {
    by("resourceManagementLinkRef", json!({"name": name}))
}

const EXACTLY_ONE: &str = "exactly one of spec.scopeRef, spec.scopeId, spec.monitorScopeRef, spec.resourceManagementLinkRef or spec.target must be set";

#[test]
fn each_reference_is_one_of_the_exactly_one_target_fields() {
    accepted(&monitor("arc-monitor"));
    accepted(&management("arm-link"));
    for both in [
        with(
            monitor("arc-monitor"),
            "/spec/scopeRef",
            json!({"name": "arc-scope"}),
        ),
        with(
            monitor("arc-monitor"),
            "/spec/resourceManagementLinkRef",
            json!({"name": "arm-link"}),
        ),
        with(
            management("arm-link"),
            "/spec/target",
            json!({"resourceId": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.Insights/privateLinkScopes/x", "groupId": "azuremonitor"}),
        ),
    ] {
        let errs = errors(&both, None);
        assert!(
            errs.iter().any(|e| e.contains(EXACTLY_ONE)),
            "{both}: {errs:?}"
        );
    }
    // A name is an object name.
    rejected(&monitor("Not_A_Name"), "spec.monitorScopeRef.name");
    rejected(&management(""), "spec.resourceManagementLinkRef.name");
}

#[test]
fn a_reference_never_changes_nor_becomes_another_target_field() {
    for old in [monitor("arc-monitor"), management("arm-link")] {
        assert_eq!(errors(&old, Some(&old)), Vec::<String>::new());
        let renamed = if old["spec"].get("monitorScopeRef").is_some() {
            monitor("other")
        } else {
            management("other")
        };
        for changed in [
            renamed,
            endpoint(),
            monitor("arm-link"),
            management("arc-monitor"),
        ] {
            if changed == old {
                continue;
            }
            rejected_update(&changed, Some(&old), "immutable");
            rejected_update(&old, Some(&changed), "immutable");
        }
    }
}
