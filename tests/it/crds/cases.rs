//! One table of names and ids from specs, valid or refused (issue 22 items 5 and 6), run
//! through the CRDs' schema and CEL as `arclink` evaluates them (`crds::names_and_ids_follow_one_table`),
//! through `plan`'s manifest checks (`offline::names`), and through a real API server, whose
//! patterns are RE2 (`e2e: validation`): the three must agree case by case.
//!
//! Shared by the `it` and `e2e` test binaries (`#[path]`), so it uses nothing of either.

use serde_json::{Value, json};

pub const SUB: &str = "11111111-2222-3333-4444-555555555555";

#[derive(Clone, Copy, Debug)]
pub enum Base {
    Scope,
    Endpoint,
    Association,
}

/// A valid object with `set` applied; valid again (`refused: None`) or refused with an error
/// naming the field `refused`.
#[derive(Debug)]
pub struct Case {
    pub base: Base,
    /// JSON pointer and the value it gets (`null`: removed).
    pub set: Vec<(&'static str, Value)>,
    pub refused: Option<&'static str>,
}

fn scope() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateLinkScope",
        "metadata": {"name": "arc-scope", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-arc"},
            "location": "eastus",
            "serviceExtensions": [{"type": "SQL", "publicNetworkAccess": "Disabled"}]
        }
    })
}

fn endpoint() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateEndpoint",
        "metadata": {"name": "hub-pe", "namespace": "default"},
        "spec": {
            "azure": {"subscriptionId": SUB, "resourceGroup": "rg-net"},
            "location": "eastus",
            "subnetId": subnet("rg-net", "hub", "private-endpoints"),
            "scopeRef": {"name": "arc-scope"},
            "outboundRules": {"networkSecurityGroupId": nsg("rg-net", "hub-nsg")}
        }
    })
}

fn association() -> Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1", "kind": "ArcServerAssociation",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scopeRef": {"name": "arc-scope"},
            "machines": {"subscriptionId": SUB, "resourceGroup": "rg-servers", "names": ["web-01"]}
        }
    })
}

fn group(rg: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}")
}

fn nsg(rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/{name}",
        group(rg)
    )
}

fn subnet(rg: &str, vnet: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}",
        group(rg)
    )
}

fn scope_id(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.HybridCompute/privateLinkScopes/{name}",
        group("rg-arc")
    )
}

fn zone_id(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/privateDnsZones/{name}",
        group("rg-dns")
    )
}

impl Case {
    /// The object of the case.
    pub fn object(&self) -> Value {
        let mut obj = match self.base {
            Base::Scope => scope(),
            Base::Endpoint => endpoint(),
            Base::Association => association(),
        };
        for (pointer, value) in &self.set {
            let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
            let target = obj.pointer_mut(parent).expect("parent exists");
            match value {
                Value::Null => {
                    target.as_object_mut().expect("object").remove(key);
                }
                v => target[key] = v.clone(),
            }
        }
        obj
    }
}

fn ok(base: Base, set: Vec<(&'static str, Value)>) -> Case {
    Case {
        base,
        set,
        refused: None,
    }
}

fn refused(base: Base, set: Vec<(&'static str, Value)>, field: &'static str) -> Case {
    Case {
        base,
        set,
        refused: Some(field),
    }
}

/// The table.
pub fn cases() -> Vec<Case> {
    use Base::*;
    let rg = "/spec/azure/resourceGroup";
    let name = "/spec/azure/name";
    let nsg_field = "/spec/outboundRules/networkSecurityGroupId";
    let mut cases = Vec::new();

    // Resource groups: Azure's rule, Unicode letters and digits included (item 6).
    for good in ["rg-ärc", "日本-rg", "rg_(1).x", "rg-١٢", &"r".repeat(90)] {
        cases.push(ok(Scope, vec![(rg, json!(good))]));
    }
    for bad in [".", "..", "rg.", "rg arc", "rg/x", "rg²", &"r".repeat(91)] {
        cases.push(refused(
            Scope,
            vec![(rg, json!(bad))],
            "spec.azure.resourceGroup",
        ));
    }
    cases.push(ok(
        Endpoint,
        vec![("/spec/privateDns", json!({"resourceGroup": "rg-ärc"}))],
    ));
    cases.push(refused(
        Endpoint,
        vec![("/spec/privateDns", json!({"resourceGroup": ".."}))],
        "spec.privateDns.resourceGroup",
    ));
    cases.push(ok(
        Association,
        vec![("/spec/machines/resourceGroup", json!("rg-ärc"))],
    ));
    cases.push(refused(
        Association,
        vec![("/spec/machines/resourceGroup", json!("."))],
        "spec.machines.resourceGroup",
    ));
    cases.push(ok(
        Scope,
        vec![(
            "/spec/onboarding",
            json!({"configMapName": "arc-onboarding", "resourceGroup": "rg-ärc"}),
        )],
    ));

    // Names: never a path step (item 5: a scope named '.' adopted PUT to the collection URL).
    for bad in [".", ".."] {
        cases.push(refused(
            Scope,
            vec![(name, json!(bad)), ("/spec/policy", json!({"adopt": true}))],
            "spec.azure.name",
        ));
        cases.push(refused(
            Endpoint,
            vec![(name, json!(bad))],
            "spec.azure.name",
        ));
        cases.push(refused(
            Association,
            vec![("/spec/machines/names", json!(["web-01", bad]))],
            "spec.machines.names[1]",
        ));
    }
    for good in [".scope", "scope.", "a_b-c.d", &"s".repeat(64)] {
        cases.push(ok(Scope, vec![(name, json!(good))]));
    }
    for bad in ["ä", "a b", &"s".repeat(65)] {
        cases.push(refused(Scope, vec![(name, json!(bad))], "spec.azure.name"));
    }
    cases.push(refused(
        Scope,
        vec![("/spec/azure/subscriptionId", json!("x"))],
        "spec.azure.subscriptionId",
    ));
    cases.push(refused(
        Endpoint,
        vec![("/spec/scopeRef/name", json!(".."))],
        "spec.scopeRef.name",
    ));
    cases.push(refused(
        Association,
        vec![("/spec/credentialRef", json!({"name": ".."}))],
        "spec.credentialRef.name",
    ));

    // Network security group ids (item 5: `/networkSecurityGroups/..` sent rule PUTs to
    // `…/networkSecurityGroups/securityRules/…`).
    let hub = nsg("rg-net", "hub-nsg");
    for good in [
        hub.clone(),
        hub.to_ascii_lowercase(),
        nsg("rg-ärc", "hub_nsg.1"),
    ] {
        cases.push(ok(Endpoint, vec![(nsg_field, json!(good))]));
    }
    for bad in [
        nsg("rg-net", ".."),
        nsg("rg-net", "."),
        nsg("..", "hub-nsg"),
        hub.replace("networkSecurityGroups", "virtualNetworks"),
        format!("{hub}/securityRules/AllowAADOutboundAccess"),
        format!("{hub}/"),
        hub.replace(SUB, "x"),
        hub.replace("subscriptions", "ſubscriptions"),
    ] {
        cases.push(refused(
            Endpoint,
            vec![(nsg_field, json!(bad))],
            "spec.outboundRules.networkSecurityGroupId",
        ));
    }

    // Subnet ids.
    cases.push(ok(
        Endpoint,
        vec![("/spec/subnetId", json!(subnet("rg-ärc", "hub.1", "pe_")))],
    ));
    for bad in [
        subnet("rg-net", "hub", ".."),
        subnet("rg-net", "..", "pe"),
        subnet("rg-net", "hub", "."),
        hub.clone(),
        format!("{}/subnets/pe", nsg("rg-net", "hub")),
    ] {
        cases.push(refused(
            Endpoint,
            vec![("/spec/subnetId", json!(bad))],
            "spec.subnetId",
        ));
    }

    // Scope ids: a HybridCompute privateLinkScopes id.
    let by_id = |id: String| {
        vec![
            ("/spec/scopeRef", Value::Null),
            ("/spec/scopeId", json!(id)),
        ]
    };
    cases.push(ok(Endpoint, by_id(scope_id("other-scope"))));
    cases.push(ok(Association, by_id(scope_id("other-scope"))));
    for bad in [
        scope_id("."),
        scope_id(".."),
        scope_id("s").replace("HybridCompute", "Insights"),
        format!("{}/privateEndpointConnections/c", scope_id("s")),
    ] {
        cases.push(refused(Endpoint, by_id(bad.clone()), "spec.scopeId"));
        cases.push(refused(Association, by_id(bad), "spec.scopeId"));
    }

    // Private DNS zone ids.
    let existing = |id: String| {
        vec![(
            "/spec/privateDns",
            json!({"mode": "Existing", "zoneIds": [zone_id("privatelink.his.arc.azure.com"), id]}),
        )]
    };
    cases.push(ok(
        Endpoint,
        existing(zone_id("privatelink.guestconfiguration.azure.com")),
    ));
    for bad in [
        zone_id(".."),
        zone_id("."),
        zone_id("privatelink..azure.com"),
        zone_id("contoso"),
        nsg("rg-dns", "privatelink.his.arc.azure.com"),
    ] {
        cases.push(refused(
            Endpoint,
            existing(bad),
            "spec.privateDns.zoneIds[1]",
        ));
    }

    // Service extensions: one entry per type, compared without case (item 6).
    let extensions = |types: [&str; 2]| {
        vec![(
            "/spec/serviceExtensions",
            json!(types.map(|t| json!({"type": t, "publicNetworkAccess": "Disabled"}))),
        )]
    };
    cases.push(ok(Scope, extensions(["SQL", "Other"])));
    for twice in [["SQL", "sql"], ["Sql", "SQL"]] {
        cases.push(refused(Scope, extensions(twice), "spec.serviceExtensions"));
    }
    cases
}
