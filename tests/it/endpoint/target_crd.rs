//! The CRD's rules for `spec.target`, as the API server (and `plan`) evaluate them: exactly one
//! target field, immutable like the scope, one group id, managed DNS only for a group id of the
//! catalogue; manifests written before `target` existed keep working unchanged.

use arclink::api::{crds, validate::validate};
use serde_json::{Value, json};

use super::support::SUB;

fn errors(obj: &Value, old: Option<&Value>) -> Vec<String> {
    let crd = crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == "ArcPrivateEndpoint")
        .unwrap();
    validate(&crds::schema_of(&crd), obj, old)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn base() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateEndpoint",
        "metadata": {"name": "kv-pe", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-net"},
            "location": "eastus",
            "subnetId": format!("/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints"),
        }
    })
}

fn vault() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.KeyVault/vaults/kv-arc")
}

fn with(mut obj: Value, field: &str, value: Value) -> Value {
    obj["spec"][field] = value;
    obj
}

fn to_vault(group: &str) -> Value {
    with(
        base(),
        "target",
        json!({"resourceId": vault(), "groupId": group}),
    )
}

fn names(errs: &[String], field: &str) -> bool {
    errs.iter()
        .any(|e| e.trim_start_matches('.').starts_with(field))
}

#[test]
fn exactly_one_target_field() {
    assert_eq!(errors(&to_vault("vault"), None), Vec::<String>::new());
    let scope_ref = with(base(), "scopeRef", json!({"name": "arc-scope"}));
    assert_eq!(
        errors(&scope_ref, None),
        Vec::<String>::new(),
        "a manifest of before"
    );
    let both = with(to_vault("vault"), "scopeRef", json!({"name": "arc-scope"}));
    let errs = errors(&both, None);
    assert!(
        errs.iter()
            .any(|e| e.contains("exactly one of spec.scopeRef, spec.scopeId, spec.monitorScopeRef, spec.resourceManagementLinkRef or spec.target")),
        "{errs:?}"
    );
    assert!(!errors(&base(), None).is_empty(), "no target at all");
}

#[test]
fn the_target_is_immutable_and_one_group_id() {
    let old = to_vault("vault");
    assert_eq!(errors(&old, Some(&old)), Vec::<String>::new());
    let other_vault = with(
        base(),
        "target",
        json!({"resourceId": vault().replace("kv-arc", "kv-other"), "groupId": "vault"}),
    );
    let scope = with(base(), "scopeRef", json!({"name": "arc-scope"}));
    for changed in [other_vault, to_vault("blob"), scope.clone()] {
        let errs = errors(&changed, Some(&old));
        assert!(
            errs.iter().any(|e| e.contains("immutable")),
            "{changed}: {errs:?}"
        );
    }
    // A scope reference stays as it was, too.
    assert!(!errors(&old, Some(&scope)).is_empty());
    assert_eq!(errors(&scope, Some(&scope)), Vec::<String>::new());
    // One group id: a list (or a comma-separated pair) is refused by the schema.
    assert!(names(
        &errors(&to_vault("vault,blob"), None),
        "spec.target.groupId"
    ));
    let list = with(
        base(),
        "target",
        json!({"resourceId": vault(), "groupId": ["vault"]}),
    );
    assert!(names(&errors(&list, None), "spec.target.groupId"));
    let not_an_id = with(
        base(),
        "target",
        json!({"resourceId": "/subscriptions/x/vaults/kv", "groupId": "vault"}),
    );
    assert!(names(&errors(&not_an_id, None), "spec.target.resourceId"));
}

#[test]
fn managed_dns_needs_a_group_id_of_the_catalogue() {
    // Managed is the default mode: an unknown group id is refused with or without privateDns.
    for obj in [
        to_vault("sqlServer"),
        with(
            to_vault("sqlServer"),
            "privateDns",
            json!({"mode": "Managed"}),
        ),
    ] {
        let errs = errors(&obj, None);
        assert!(
            errs.iter()
                .any(|e| names(std::slice::from_ref(e), "spec.target.groupId")
                    && e.contains("spec.privateDns.mode")),
            "{errs:?}"
        );
    }
    for mode in [
        json!({"mode": "None"}),
        json!({"mode": "Existing", "zoneIds": [format!("/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.database.windows.net")]}),
    ] {
        let obj = with(to_vault("sqlServer"), "privateDns", mode);
        assert_eq!(errors(&obj, None), Vec::<String>::new());
    }
    // Group ids are compared as Azure compares them, without case.
    assert_eq!(errors(&to_vault("Vault"), None), Vec::<String>::new());
    assert_eq!(
        errors(&to_vault("azuremonitor"), None),
        Vec::<String>::new()
    );
}
