//! The CRDs: checked-in copy is current, schemas are structural and within CEL cost limits, and
//! every validation rule rejects a bad object with a message that names the field.

use arclink::api::{crds, validate::validate};
use kube::core::cel::{ScopeContext, analyze_rule, compile_schema};
use serde_json::{Value, json};

use crate::common::fixtures::{SUB, scope_id};

pub mod cases;
mod ip_configurations;
mod management_link;
mod monitor_scope;
mod target_refs;

fn schema(kind: &str) -> Value {
    let crd = crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .expect("kind exists");
    crds::schema_of(&crd)
}

/// Errors for `obj` (and `old` for transition rules), as "field: message" strings; the schema
/// is that of `obj`'s kind.
fn errors(obj: &Value, old: Option<&Value>) -> Vec<String> {
    let kind = obj["kind"].as_str().expect("the object names its kind");
    validate(&schema(kind), obj, old)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn accepted(obj: &Value) {
    assert_eq!(errors(obj, None), Vec::<String>::new(), "{obj}");
}

fn rejected(obj: &Value, field: &str) {
    rejected_update(obj, None, field);
}

/// `obj` (as an update of `old`, if given) is rejected with an error naming `field`.
fn rejected_update(obj: &Value, old: Option<&Value>, field: &str) {
    let errs = errors(obj, old);
    assert!(
        errs.iter().any(|e| e.contains(field)),
        "{}: expected an error naming {field:?}, got {errs:?}",
        obj["kind"]
    );
}

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
    for obj in [scope(), endpoint(), association()] {
        accepted(&obj);
        assert_eq!(errors(&obj, Some(&obj)), Vec::<String>::new(), "{obj}");
    }
    let by_id = with(
        with(endpoint(), "/spec/scopeRef", Value::Null),
        "/spec/scopeId",
        json!(scope_id("other")),
    );
    accepted(&by_id);
    accepted(&with(association(), "/spec/machines/names", Value::Null));
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
        rejected_update(&with(old.clone(), pointer, value), Some(&old), field);
    }
    let unset_name = with(old.clone(), "/spec/azure/name", Value::Null);
    rejected_update(&unset_name, Some(&old), "azure.name is immutable");
    let old_pe = endpoint();
    let moved = with(old_pe.clone(), "/spec/location", json!("westus"));
    rejected_update(&moved, Some(&old_pe), "location");
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
    rejected(
        &both,
        "scopeRef, spec.scopeId, spec.monitorScopeRef, spec.resourceManagementLinkRef or spec.target",
    );
    let neither = with(association(), "/spec/scopeRef", Value::Null);
    rejected(&neither, "scopeRef or spec.scopeId");
}

#[test]
fn association_needs_names_or_tags() {
    let none = with(
        with(association(), "/spec/machines/names", Value::Null),
        "/spec/machines/tagSelector",
        Value::Null,
    );
    rejected(&none, "machines.names or machines.tagSelector is required");
}

#[test]
fn patterns_and_enums_name_the_field() {
    let not_a_subnet =
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/hub";
    let cases = [
        (
            scope(),
            "/spec/azure/name",
            json!("bad name!"),
            "spec.azure.name",
        ),
        (
            scope(),
            "/spec/azure/subscriptionId",
            json!("not-a-guid"),
            "spec.azure.subscriptionId",
        ),
        (
            scope(),
            "/spec/azure/resourceGroup",
            json!("rg/with/slash"),
            "spec.azure.resourceGroup",
        ),
        (
            scope(),
            "/spec/publicNetworkAccess",
            json!("Sometimes"),
            "spec.publicNetworkAccess",
        ),
        (
            scope(),
            "/spec/policy/drift",
            json!("Ignore"),
            "spec.policy.drift",
        ),
        (
            scope(),
            "/spec/tags/managed-by",
            json!("me"),
            "reserved for arclink",
        ),
        (scope(), "/spec/colour", json!("blue"), "spec.colour"),
        (
            endpoint(),
            "/spec/subnetId",
            json!(not_a_subnet),
            "spec.subnetId",
        ),
        (
            endpoint(),
            "/spec/approval",
            json!("Maybe"),
            "spec.approval",
        ),
        (
            endpoint(),
            "/spec/privateDns/mode",
            json!("Existing"),
            "privateDns.zoneIds is required",
        ),
        (
            association(),
            "/spec/machines/names",
            json!(["ok", "a".repeat(55)]),
            "spec.machines.names[1]",
        ),
        (
            association(),
            "/spec/machines/names",
            json!(["web-01", "web-01"]),
            "spec.machines.names",
        ),
        (
            association(),
            "/spec/onConflict",
            json!("Steal"),
            "spec.onConflict",
        ),
        (
            association(),
            "/spec/deletion",
            json!("Delete"),
            "spec.deletion",
        ),
    ];
    for (obj, pointer, value, field) in cases {
        rejected(&with(obj, pointer, value), field);
    }
}

#[test]
fn drift_check_interval_is_a_duration_of_at_least_30s() {
    let interval = |v: &str| with(scope(), "/spec/policy/driftCheckInterval", json!(v));
    rejected(&interval("10 minutes"), "spec.policy.driftCheckInterval");
    rejected(&interval("5s"), "driftCheckInterval must be at least 30s");
    accepted(&interval("30s"));
    let assoc = with(
        association(),
        "/spec/policy",
        json!({"driftCheckInterval": "1s"}),
    );
    rejected(&assoc, "driftCheckInterval must be at least 30s");
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
    for obj in [scope(), endpoint(), association()] {
        let at = |v: &str| {
            let mut obj = obj.clone();
            if obj.pointer("/spec/policy").is_none() {
                obj["spec"]["policy"] = json!({});
            }
            with(obj, "/spec/policy/driftCheckInterval", json!(v))
        };
        for ok in ["24h", "86400s", "1440m", "23h59m59.999s"] {
            accepted(&at(ok));
        }
        rejected(&at("25h"), "driftCheckInterval must be at most 24h");
        // Past 64-bit nanoseconds, alone or as a sum: an error, not a panic or a wrap-around.
        for huge in ["99999999999999999999h", "999999h999999h999999h999999h"] {
            rejected(&at(huge), "spec.policy.driftCheckInterval: ");
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
    let rules = |v: Value| with(endpoint(), "/spec/outboundRules", v);
    accepted(&rules(
        json!({"networkSecurityGroupId": nsg, "entraIdPriority": 100, "resourceManagerPriority": 4096}),
    ));
    accepted(&rules(json!({})));
    for bad in [99, 4097] {
        rejected(
            &rules(json!({ "entraIdPriority": bad })),
            "spec.outboundRules.entraIdPriority",
        );
    }
    // 151 is the default of the other priority.
    let errs = errors(&rules(json!({"entraIdPriority": 151})), None);
    assert!(
        errs.iter()
            .any(|e| e.contains("resourceManagerPriority") && e.contains("must differ")),
        "{errs:?}"
    );
    let not_a_group = nsg.replace("networkSecurityGroups", "virtualNetworks");
    rejected(
        &rules(json!({ "networkSecurityGroupId": not_a_group })),
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
    assert_eq!(rules, 55, "every CEL rule of the four CRDs is visited");
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
                errors(&doc, None),
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
            "ArcMonitorPrivateLinkScope",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateLinkScope",
            "ArcResourceManagementPrivateLink",
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
    let replace = "delete this ArcPrivateEndpoint and create a new one";
    rejected_update(&other_ref, Some(&old), replace);
    let by_id = with(
        with(old.clone(), "/spec/scopeRef", Value::Null),
        "/spec/scopeId",
        json!(scope_id("arc-scope")),
    );
    let immutable = "spec.scopeRef, spec.scopeId, spec.monitorScopeRef, spec.resourceManagementLinkRef and spec.target are immutable";
    rejected_update(&by_id, Some(&old), immutable);
    let manual = with(old.clone(), "/spec/approval", json!("Manual"));
    rejected_update(&manual, Some(&old), "spec.approval is immutable");
    let defaulted = with(old.clone(), "/spec/approval", Value::Null);
    assert_eq!(
        errors(&defaulted, Some(&old)),
        Vec::<String>::new(),
        "an absent approval is the default, Automatic"
    );
}

/// Reference/arm-behaviours.md 7: the name arclink gives the private endpoint obeys Azure's
/// rule, whether it comes from spec.azure.name or metadata.name.
#[test]
fn an_endpoints_azure_name_follows_azures_rule() {
    let named = |name: &str| with(endpoint(), "/spec/azure/name", json!(name));
    for bad in ["a", "-pe", "pe.", "pe-"] {
        rejected(&named(bad), "2-64 characters");
    }
    rejected(&named(&"e".repeat(65)), "spec.azure.name");
    for good in ["pe", "pe_", "Hub.PE-1_", &"e".repeat(64)] {
        accepted(&named(good));
    }
    let long_metadata = with(endpoint(), "/metadata/name", json!("e".repeat(70)));
    rejected(&long_metadata, "metadata.name");
    let long_scope = with(
        with(scope(), "/spec/azure/name", Value::Null),
        "/metadata/name",
        json!("s".repeat(65)),
    );
    rejected(&long_scope, "set spec.azure.name");
    let too_long_message = with(endpoint(), "/spec/requestMessage", json!("m".repeat(141)));
    rejected(&too_long_message, "requestMessage");
}

/// Reference/arm-behaviours.md 13: Azure's tag limits, with arclink's two tags counted.
#[test]
fn tags_obey_azures_limits() {
    for base in [scope(), endpoint()] {
        let tags = |t: Value| with(base.clone(), "/spec/tags", t);
        for bad_key in ["a/b", "a<b", "a%b", "a&b", "a\\b", "a?b", "a\u{1}b"] {
            rejected(
                &tags(json!({bad_key: "v"})),
                "tag keys must be 1-512 characters",
            );
        }
        rejected(
            &tags(json!({"k".repeat(513): "v"})),
            "tag keys must be 1-512 characters",
        );
        rejected(&tags(json!({"k": "v".repeat(257)})), "tags");
        let many: serde_json::Map<String, Value> =
            (0..49).map(|i| (format!("k{i}"), json!("v"))).collect();
        rejected(&tags(Value::Object(many)), "tags");
        let ok: serde_json::Map<String, Value> = (0..48)
            .map(|i| (format!("k{i}-{}", "x".repeat(500)), json!("v".repeat(256))))
            .collect();
        accepted(&tags(Value::Object(ok)));
    }
}

/// Issue 22 items 5 and 6: every name and id of the table is accepted or refused by the CRDs as
/// the table says, the refusal naming the field; `offline::names` runs the same table through
/// `plan`'s manifest checks and the e2e suite through a real API server.
#[test]
fn names_and_ids_follow_one_table() {
    let cases = cases::cases();
    assert!(cases.len() > 60, "{}", cases.len());
    for case in cases {
        let obj = case.object();
        let errs = errors(&obj, None);
        match case.refused {
            None => assert_eq!(errs, Vec::<String>::new(), "{case:?}"),
            Some(field) => assert!(
                errs.iter().any(|e| e.starts_with(&format!("{field}: "))),
                "{case:?}: expected an error naming {field}, got {errs:?}"
            ),
        }
    }
}

/// A refused id or name says what it must be, not only the pattern it misses.
#[test]
fn refused_ids_say_what_they_must_be() {
    let nsg = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/.."
    );
    let errs = errors(
        &with(
            endpoint(),
            "/spec/outboundRules",
            json!({ "networkSecurityGroupId": nsg }),
        ),
        None,
    );
    assert!(
        errs.iter().any(|e| e.contains(
            "is not the id of a network security group (/subscriptions/<GUID>/resourceGroups/<resource group>/providers/Microsoft.Network/networkSecurityGroups/<name>)"
        )),
        "{errs:?}"
    );
    let errs = errors(
        &with(scope(), "/spec/azure/resourceGroup", json!("rg.")),
        None,
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("\"rg.\" is not a resource group name: 1-90 letters")),
        "{errs:?}"
    );
}

/// Every pattern of the CRDs means the same to RE2, which the API server runs, and to Rust's
/// regex, which `plan`/`apply` run: no Perl classes, no flags only one of them knows.
#[test]
fn every_crd_pattern_reads_the_same_in_re2() {
    fn walk(node: &Value, path: &str, found: &mut usize) {
        if let Some(p) = node.get("pattern").and_then(Value::as_str) {
            assert_eq!(arclink::azure::names::portable(p), Ok(()), "{path}: {p}");
            *found += 1;
        }
        for key in ["properties", "items", "additionalProperties"] {
            match node.get(key) {
                Some(Value::Object(m)) if key == "properties" => {
                    for (k, child) in m {
                        walk(child, &format!("{path}.{k}"), found);
                    }
                }
                Some(child @ Value::Object(_)) => walk(child, &format!("{path}[]"), found),
                _ => {}
            }
        }
    }
    let mut found = 0;
    for crd in crds::all() {
        walk(&crds::schema_of(&crd), &crd.spec.names.kind, &mut found);
    }
    assert!(found >= 20, "{found} patterns");
}
