//! ArcResourceManagementPrivateLink's schema: the example's shape, immutable location and
//! association, a GUID association name, a management group id by Azure's rule, no tags.

use serde_json::{Value, json};

use super::{SUB, accepted, errors, rejected, rejected_update, with};

fn link() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcResourceManagementPrivateLink",
        "metadata": {"name": "arm-link", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-arc"},
            "location": "eastus",
            "association": {"managementGroupId": "00000000-0000-0000-0000-0000000000aa"},
            "policy": {"drift": "Correct", "deletion": "Delete", "adopt": false}
        }
    })
}

#[test]
fn a_link_and_its_association_are_checked_before_azure_sees_them() {
    let old = link();
    accepted(&old);
    accepted(&with(old.clone(), "/spec/association", Value::Null));
    let named = with(
        old.clone(),
        "/spec/association/name",
        json!("6f1c1e0a-4a5b-4c4d-8e8f-9a0b1c2d3e4f"),
    );
    accepted(&named);
    rejected(
        &with(old.clone(), "/spec/association/name", json!("not-a-guid")),
        "spec.association.name",
    );
    rejected(
        &with(
            old.clone(),
            "/spec/association/managementGroupId",
            json!("ends."),
        ),
        "spec.association.managementGroupId",
    );
    rejected(
        &with(old.clone(), "/spec/tags", json!({"team": "platform"})),
        "Azure keeps no tags on a resource management private link",
    );

    let moved = with(old.clone(), "/spec/location", json!("westus"));
    rejected_update(&moved, Some(&old), "location is immutable");
    let regrouped = with(
        old.clone(),
        "/spec/association/managementGroupId",
        json!("other"),
    );
    rejected_update(
        &regrouped,
        Some(&old),
        "association.managementGroupId is immutable",
    );
    let renamed = with(
        named.clone(),
        "/spec/association/name",
        json!("0e2d6a4c-1b3f-4d5e-8a7b-6c5d4e3f2a1b"),
    );
    rejected_update(
        &renamed,
        Some(&named),
        "association.name is immutable once set",
    );
    // Naming the derived association, or removing the association, are allowed.
    assert_eq!(errors(&named, Some(&old)), Vec::<String>::new());
    let removed = with(old.clone(), "/spec/association", Value::Null);
    assert_eq!(errors(&removed, Some(&old)), Vec::<String>::new());
}
