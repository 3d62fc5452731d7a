//! The CRDs: checked-in copy is current, schemas are structural and within CEL cost limits, and
//! every validation rule rejects a bad object with a message that names the field.

use arclink::api::{crds, validate::validate};
use kube::core::cel::{ScopeContext, analyze_rule, compile_schema};
use serde_json::{Value, json};

fn schema(kind: &str) -> Value {
    let crd = crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .expect("kind exists");
    crds::schema_of(&crd)
}

/// Errors for `obj` (and `old` for transition rules), as "field: message" strings.
fn errors(kind: &str, obj: &Value, old: Option<&Value>) -> Vec<String> {
    validate(&schema(kind), obj, old)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn assert_rejected(kind: &str, obj: &Value, old: Option<&Value>, field: &str) {
    let errs = errors(kind, obj, old);
    assert!(
        errs.iter().any(|e| e.contains(field)),
        "{kind}: expected an error naming {field:?}, got {errs:?}"
    );
}

use crate::common::fixtures::SUB;

fn scope() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateLinkScope",
        "metadata": {"name": "arc-scope", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-arc", "name": "arc-scope"},
            "location": "eastus",
            "publicNetworkAccess": "Disabled",
            "tags": {"team": "platform"},
            "policy": {"drift": "Correct", "deletion": "Delete", "adopt": false, "driftCheckInterval": "10m"}
        }
    })
}

fn endpoint() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateEndpoint",
        "metadata": {"name": "hub-pe", "namespace": "default"},
        "spec": {
            "azure": {"resourceGroup": "rg-net"},
            "location": "eastus",
            "subnetId": format!("/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints"),
            "scopeRef": {"name": "arc-scope"},
            "approval": "Automatic",
            "privateDns": {"mode": "Managed", "resourceGroup": "rg-dns"},
            "dnsExport": {"configMapName": "arc-dns"}
        }
    })
}

fn association() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcServerAssociation",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scopeRef": {"name": "arc-scope"},
            "machines": {"resourceGroup": "rg-servers", "names": ["web-01", "web-02"], "tagSelector": {"env": "prod"}},
            "onConflict": "Skip",
            "deletion": "Detach"
        }
    })
}

fn with(mut obj: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let target = obj.pointer_mut(parent).expect("parent exists");
    match value {
        Value::Null => {
            target.as_object_mut().expect("object").remove(key);
        }
        v => {
            target[key] = v;
        }
    }
    obj
}

#[test]
fn checked_in_crds_are_current() {
    let generated = crds::render().expect("CRDs render");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crds/arclink.io.yaml"))
            .expect("crds/arclink.io.yaml exists");
    assert!(
        generated == checked_in,
        "crds/arclink.io.yaml is stale: run `cargo run -- crds > crds/arclink.io.yaml`"
    );
}

#[test]
fn valid_examples_are_accepted() {
    for (kind, obj) in [
        ("ArcPrivateLinkScope", scope()),
        ("ArcPrivateEndpoint", endpoint()),
        ("ArcServerAssociation", association()),
    ] {
        assert_eq!(errors(kind, &obj, None), Vec::<String>::new(), "{kind}");
        assert_eq!(
            errors(kind, &obj, Some(&obj)),
            Vec::<String>::new(),
            "{kind} update"
        );
    }
    let by_id = with(
        with(endpoint(), "/spec/scopeRef", Value::Null),
        "/spec/scopeId",
        json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/other"
        )),
    );
    assert_eq!(
        errors("ArcPrivateEndpoint", &by_id, None),
        Vec::<String>::new()
    );
    let tags_only = with(association(), "/spec/machines/names", Value::Null);
    assert_eq!(
        errors("ArcServerAssociation", &tags_only, None),
        Vec::<String>::new()
    );
}

#[test]
fn immutable_fields_cannot_change() {
    let old = scope();
    for (pointer, value, field) in [
        ("/spec/azure/name", json!("renamed"), "name"),
        (
            "/spec/azure/subscriptionId",
            json!("00000000-0000-0000-0000-000000000002"),
            "subscriptionId",
        ),
        (
            "/spec/azure/resourceGroup",
            json!("rg-other"),
            "resourceGroup",
        ),
        ("/spec/location", json!("westeurope"), "location"),
    ] {
        let new = with(old.clone(), pointer, value);
        assert_rejected("ArcPrivateLinkScope", &new, Some(&old), field);
    }
    let unset_name = with(old.clone(), "/spec/azure/name", Value::Null);
    assert_rejected(
        "ArcPrivateLinkScope",
        &unset_name,
        Some(&old),
        "azure.name is immutable",
    );
    let old_pe = endpoint();
    let moved = with(old_pe.clone(), "/spec/location", json!("westus"));
    assert_rejected("ArcPrivateEndpoint", &moved, Some(&old_pe), "location");
}

#[test]
fn exactly_one_of_scope_ref_and_scope_id() {
    let both = with(
        endpoint(),
        "/spec/scopeId",
        json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s"
        )),
    );
    assert_rejected(
        "ArcPrivateEndpoint",
        &both,
        None,
        "scopeRef or spec.scopeId",
    );
    let neither = with(association(), "/spec/scopeRef", Value::Null);
    assert_rejected(
        "ArcServerAssociation",
        &neither,
        None,
        "scopeRef or spec.scopeId",
    );
}

#[test]
fn association_needs_names_or_tags() {
    let none = with(
        with(association(), "/spec/machines/names", Value::Null),
        "/spec/machines/tagSelector",
        Value::Null,
    );
    assert_rejected(
        "ArcServerAssociation",
        &none,
        None,
        "machines.names or machines.tagSelector is required",
    );
}

#[test]
fn patterns_and_enums_name_the_field() {
    let cases = [
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/azure/name", json!("bad name!")),
            "spec.azure.name",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/azure/subscriptionId", json!("not-a-guid")),
            "spec.azure.subscriptionId",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/azure/resourceGroup", json!("rg/with/slash")),
            "spec.azure.resourceGroup",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/publicNetworkAccess", json!("Sometimes")),
            "spec.publicNetworkAccess",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/policy/drift", json!("Ignore")),
            "spec.policy.drift",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/tags/managed-by", json!("me")),
            "reserved for arclink",
        ),
        (
            "ArcPrivateLinkScope",
            with(scope(), "/spec/colour", json!("blue")),
            "spec.colour",
        ),
        (
            "ArcPrivateEndpoint",
            with(
                endpoint(),
                "/spec/subnetId",
                json!(
                    "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/hub"
                ),
            ),
            "spec.subnetId",
        ),
        (
            "ArcPrivateEndpoint",
            with(endpoint(), "/spec/approval", json!("Maybe")),
            "spec.approval",
        ),
        (
            "ArcPrivateEndpoint",
            with(endpoint(), "/spec/privateDns/mode", json!("Existing")),
            "privateDns.zoneIds is required",
        ),
        (
            "ArcServerAssociation",
            with(
                association(),
                "/spec/machines/names",
                json!(["ok", "a".repeat(55)]),
            ),
            "spec.machines.names[1]",
        ),
        (
            "ArcServerAssociation",
            with(
                association(),
                "/spec/machines/names",
                json!(["web-01", "web-01"]),
            ),
            "spec.machines.names",
        ),
        (
            "ArcServerAssociation",
            with(association(), "/spec/onConflict", json!("Steal")),
            "spec.onConflict",
        ),
        (
            "ArcServerAssociation",
            with(association(), "/spec/deletion", json!("Delete")),
            "spec.deletion",
        ),
    ];
    for (kind, obj, field) in cases {
        assert_rejected(kind, &obj, None, field);
    }
}

#[test]
fn drift_check_interval_is_a_duration_of_at_least_30s() {
    assert_rejected(
        "ArcPrivateLinkScope",
        &with(
            scope(),
            "/spec/policy/driftCheckInterval",
            json!("10 minutes"),
        ),
        None,
        "spec.policy.driftCheckInterval",
    );
    assert_rejected(
        "ArcPrivateLinkScope",
        &with(scope(), "/spec/policy/driftCheckInterval", json!("5s")),
        None,
        "driftCheckInterval must be at least 30s",
    );
    let ok = with(scope(), "/spec/policy/driftCheckInterval", json!("30s"));
    assert_eq!(
        errors("ArcPrivateLinkScope", &ok, None),
        Vec::<String>::new()
    );
    let assoc = with(
        association(),
        "/spec/policy",
        json!({"driftCheckInterval": "1s"}),
    );
    assert_rejected(
        "ArcServerAssociation",
        &assoc,
        None,
        "driftCheckInterval must be at least 30s",
    );
}

/// kube-cel's scope analysis counts a macro's iteration variable (`k` in `self.all(k, ...)`)
/// as an unknown variable; the API server binds it.
fn is_macro_variable(rule: &str, warning: &str) -> bool {
    let Some(var) = warning
        .strip_prefix("variable '")
        .and_then(|w| w.split('\'').next())
    else {
        return false;
    };
    ["all", "exists", "exists_one", "map", "filter"]
        .iter()
        .any(|m| rule.contains(&format!(".{m}({var},")))
}

#[test]
fn drift_check_interval_is_at_most_24h_and_never_overflows() {
    for (kind, obj, pointer) in [
        (
            "ArcPrivateLinkScope",
            scope(),
            "/spec/policy/driftCheckInterval",
        ),
        (
            "ArcPrivateEndpoint",
            endpoint(),
            "/spec/policy/driftCheckInterval",
        ),
        (
            "ArcServerAssociation",
            association(),
            "/spec/policy/driftCheckInterval",
        ),
    ] {
        let at = |v: &str| {
            let mut obj = obj.clone();
            if obj.pointer("/spec/policy").is_none() {
                obj["spec"]["policy"] = json!({});
            }
            with(obj, pointer, json!(v))
        };
        for ok in ["24h", "86400s", "1440m", "23h59m59.999s"] {
            assert_eq!(
                errors(kind, &at(ok), None),
                Vec::<String>::new(),
                "{kind} {ok}"
            );
        }
        assert_rejected(
            kind,
            &at("25h"),
            None,
            "driftCheckInterval must be at most 24h",
        );
        // Past 64-bit nanoseconds, alone or as a sum: an error, not a panic or a wrap-around.
        for huge in ["99999999999999999999h", "999999h999999h999999h999999h"] {
            assert_rejected(kind, &at(huge), None, "spec.policy.driftCheckInterval: ");
        }
    }
}

/// Walks every schema node, checking what a Kubernetes API server requires of a structural
/// schema, and that every CEL rule compiles, is in scope and is within the cost budget.
fn check_node(node: &Value, path: &str, rules: &mut usize) {
    let obj = node.as_object().expect("schema node is an object");
    for forbidden in [
        "$ref",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "definitions",
        "$schema",
    ] {
        assert!(
            !obj.contains_key(forbidden),
            "{path}: {forbidden} is not allowed in a structural schema"
        );
    }
    let preserve = obj.contains_key("x-kubernetes-preserve-unknown-fields")
        || obj.contains_key("x-kubernetes-int-or-string");
    assert!(
        preserve || obj.contains_key("type"),
        "{path}: every node needs a type"
    );
    assert!(
        !(obj.contains_key("properties")
            && obj
                .get("additionalProperties")
                .is_some_and(Value::is_object)),
        "{path}: properties and additionalProperties together"
    );
    if let Some(rules_here) = obj
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        let compiled = compile_schema(node);
        assert!(
            !compiled.has_errors(),
            "{path}: CEL rules do not compile: {:?}",
            compiled.compilation_errors()
        );
        for rule in rules_here {
            let text = rule["rule"].as_str().expect("rule text");
            let warnings: Vec<_> = analyze_rule(text, &compiled, ScopeContext::CrdValidation)
                .into_iter()
                .filter(|w| !is_macro_variable(text, &w.message))
                .collect();
            assert!(warnings.is_empty(), "{path}: rule {text:?}: {warnings:?}");
            *rules += 1;
        }
    }
    if node.get("type").and_then(Value::as_str) == Some("string") && path.contains(".spec") {
        assert!(
            obj.contains_key("maxLength") || obj.contains_key("enum"),
            "{path}: spec strings need maxLength"
        );
    }
    if node.get("type").and_then(Value::as_str) == Some("array") && path.contains(".spec") {
        assert!(
            obj.contains_key("maxItems"),
            "{path}: spec lists need maxItems"
        );
    }
    for (key, child) in obj
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check_node(child, &format!("{path}.{key}"), rules);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = obj.get(key).filter(|c| c.is_object()) {
            check_node(child, &format!("{path}.{key}"), rules);
        }
    }
}

#[test]
fn outbound_rule_priorities_are_in_range_and_differ() {
    let nsg = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/hub-nsg"
    );
    let ok = with(
        endpoint(),
        "/spec/outboundRules",
        json!({"networkSecurityGroupId": nsg, "entraIdPriority": 100, "resourceManagerPriority": 4096}),
    );
    assert_eq!(
        errors("ArcPrivateEndpoint", &ok, None),
        Vec::<String>::new()
    );
    let defaults = with(endpoint(), "/spec/outboundRules", json!({}));
    assert_eq!(
        errors("ArcPrivateEndpoint", &defaults, None),
        Vec::<String>::new()
    );
    for bad in [99, 4097] {
        let obj = with(
            endpoint(),
            "/spec/outboundRules",
            json!({ "entraIdPriority": bad }),
        );
        assert_rejected(
            "ArcPrivateEndpoint",
            &obj,
            None,
            "spec.outboundRules.entraIdPriority",
        );
    }
    // 151 is the default of the other priority.
    let same = with(
        endpoint(),
        "/spec/outboundRules",
        json!({"entraIdPriority": 151}),
    );
    let errs = errors("ArcPrivateEndpoint", &same, None);
    assert!(
        errs.iter()
            .any(|e| e.contains("resourceManagerPriority") && e.contains("must differ")),
        "{errs:?}"
    );
    let not_a_group = with(
        endpoint(),
        "/spec/outboundRules",
        json!({ "networkSecurityGroupId": nsg.replace("networkSecurityGroups", "virtualNetworks") }),
    );
    assert_rejected(
        "ArcPrivateEndpoint",
        &not_a_group,
        None,
        "spec.outboundRules.networkSecurityGroupId",
    );
}

#[test]
fn schemas_are_structural_bounded_and_rules_compile() {
    let mut rules = 0;
    for crd in crds::all() {
        check_node(&crds::schema_of(&crd), &crd.spec.names.kind, &mut rules);
        let version = &crd.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "status subresource"
        );
        assert_eq!(
            crd.spec.names.categories,
            Some(vec!["arclink".to_string(), "azure".to_string()])
        );
    }
    assert_eq!(rules, 28, "every CEL rule of the three CRDs is visited");
}

#[test]
fn deploy_examples_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(dir).expect("deploy/examples exists") {
        let path = entry.expect("dir entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        for doc in docs {
            let kind = doc["kind"].as_str().expect("kind").to_string();
            assert_eq!(
                errors(&kind, &doc, None),
                Vec::<String>::new(),
                "{}",
                path.display()
            );
            kinds.push(kind);
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ArcPrivateEndpoint",
            "ArcPrivateLinkScope",
            "ArcServerAssociation"
        ]
    );
}

/// Reference/arm-behaviours.md 1: what would need a different private link connection cannot
/// change in place; the message says how to replace the endpoint.
#[test]
fn an_endpoints_scope_and_approval_are_immutable() {
    let old = endpoint();
    let other_ref = with(old.clone(), "/spec/scopeRef/name", json!("other-scope"));
    assert_rejected(
        "ArcPrivateEndpoint",
        &other_ref,
        Some(&old),
        "delete this ArcPrivateEndpoint and create a new one",
    );
    let by_id = with(
        with(old.clone(), "/spec/scopeRef", Value::Null),
        "/spec/scopeId",
        json!(format!(
            "/subscriptions/{SUB}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/arc-scope"
        )),
    );
    assert_rejected(
        "ArcPrivateEndpoint",
        &by_id,
        Some(&old),
        "spec.scopeRef and spec.scopeId are immutable",
    );
    let manual = with(old.clone(), "/spec/approval", json!("Manual"));
    assert_rejected(
        "ArcPrivateEndpoint",
        &manual,
        Some(&old),
        "spec.approval is immutable",
    );
    let defaulted = with(old.clone(), "/spec/approval", Value::Null);
    assert_eq!(
        errors("ArcPrivateEndpoint", &defaulted, Some(&old)),
        Vec::<String>::new(),
        "an absent approval is the default, Automatic"
    );
}

/// Reference/arm-behaviours.md 7: the name arclink gives the private endpoint obeys Azure's
/// rule, whether it comes from spec.azure.name or metadata.name.
#[test]
fn an_endpoints_azure_name_follows_azures_rule() {
    for bad in ["a", "-pe", "pe.", "pe-"] {
        let named = with(endpoint(), "/spec/azure/name", json!(bad));
        assert_rejected("ArcPrivateEndpoint", &named, None, "2-64 characters");
    }
    let long = with(endpoint(), "/spec/azure/name", json!("e".repeat(65)));
    assert_rejected("ArcPrivateEndpoint", &long, None, "spec.azure.name");
    for good in ["pe", "pe_", "Hub.PE-1_", &"e".repeat(64)] {
        let named = with(endpoint(), "/spec/azure/name", json!(good));
        assert_eq!(
            errors("ArcPrivateEndpoint", &named, None),
            Vec::<String>::new(),
            "{good}"
        );
    }
    let long_metadata = with(endpoint(), "/metadata/name", json!("e".repeat(70)));
    assert_rejected("ArcPrivateEndpoint", &long_metadata, None, "metadata.name");
    let long_scope = with(
        with(scope(), "/spec/azure/name", Value::Null),
        "/metadata/name",
        json!("s".repeat(65)),
    );
    assert_rejected(
        "ArcPrivateLinkScope",
        &long_scope,
        None,
        "set spec.azure.name",
    );
    let too_long_message = with(endpoint(), "/spec/requestMessage", json!("m".repeat(141)));
    assert_rejected(
        "ArcPrivateEndpoint",
        &too_long_message,
        None,
        "requestMessage",
    );
}

/// Reference/arm-behaviours.md 13: Azure's tag limits, with arclink's two tags counted.
#[test]
fn tags_obey_azures_limits() {
    for (kind, base) in [
        ("ArcPrivateLinkScope", scope()),
        ("ArcPrivateEndpoint", endpoint()),
    ] {
        for bad_key in ["a/b", "a<b", "a%b", "a&b", "a\\b", "a?b", "a\u{1}b"] {
            let obj = with(base.clone(), "/spec/tags", json!({bad_key: "v"}));
            assert_rejected(kind, &obj, None, "tag keys must be 1-512 characters");
        }
        let long_key = with(base.clone(), "/spec/tags", json!({"k".repeat(513): "v"}));
        assert_rejected(kind, &long_key, None, "tag keys must be 1-512 characters");
        let long_value = with(base.clone(), "/spec/tags", json!({"k": "v".repeat(257)}));
        assert_rejected(kind, &long_value, None, "tags");
        let many: serde_json::Map<String, Value> =
            (0..49).map(|i| (format!("k{i}"), json!("v"))).collect();
        let too_many = with(base.clone(), "/spec/tags", Value::Object(many));
        assert_rejected(kind, &too_many, None, "tags");
        let ok: serde_json::Map<String, Value> = (0..48)
            .map(|i| (format!("k{i}-{}", "x".repeat(500)), json!("v".repeat(256))))
            .collect();
        let fine = with(base.clone(), "/spec/tags", Value::Object(ok));
        assert_eq!(errors(kind, &fine, None), Vec::<String>::new(), "{kind}");
    }
}
