//! Microsoft.Resources providers: `GET /subscriptions/{s}/providers/{namespace}` (Providers_Get)
//! and the list of every provider, built from the route table: a resource type for each kind, with
//! the api-versions the emulator serves (newest first, as ARM lists them) and its locations.
//! Clients read it to pick an api-version (`az resource`, arclink's negotiation).

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::shared::Shared;
use super::super::versions::ApiSet;
use super::call::Kind;
use super::routes::KINDS;
use super::rules::require_subscription;

/// The regions listed for regional types. The emulator accepts any region; these are the
/// public cloud's largest ones, in ARM's display form.
const REGIONS: &[&str] = &[
    "East US",
    "East US 2",
    "West US",
    "West US 2",
    "West US 3",
    "Central US",
    "North Europe",
    "West Europe",
    "UK South",
    "France Central",
    "Germany West Central",
    "Sweden Central",
    "Southeast Asia",
    "Australia East",
    "Japan East",
    "Canada Central",
];

fn resource_type(kind: &Kind) -> Value {
    let mut versions: Vec<&str> = kind.api.versions().to_vec();
    versions.reverse();
    let locations: Vec<&str> = if kind.api == ApiSet::PrivateDns {
        vec!["global"]
    } else {
        REGIONS.to_vec()
    };
    let capabilities = if kind.types.len() == 1 {
        "SupportsTags, SupportsLocation"
    } else {
        "None"
    };
    json!({
        "resourceType": kind.types.join("/"),
        "locations": locations,
        "apiVersions": versions,
        "capabilities": capabilities,
    })
}

/// The namespaces served, in the route table's order and canonical casing.
fn namespaces() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for kind in KINDS {
        if !out.contains(&kind.namespace) {
            out.push(kind.namespace);
        }
    }
    out
}

fn provider(sub: &str, namespace: &str) -> Value {
    let types: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.namespace == namespace)
        .map(resource_type)
        .collect();
    json!({
        "id": format!("/subscriptions/{sub}/providers/{namespace}"),
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types,
    })
}

fn subscription_checked(shared: &Shared, sub: &str) -> Result<(), ApiError> {
    let map = shared.store.read();
    require_subscription(&map, sub)
}

/// `GET /subscriptions/{s}/providers/{namespace}`.
pub fn get_provider(shared: &Shared, sub: &str, ns: &str) -> Result<ArmResponse, ApiError> {
    subscription_checked(shared, sub)?;
    let namespace = namespaces()
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(ns))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "InvalidResourceNamespace",
                format!("The resource namespace '{ns}' is invalid."),
            )
        })?;
    Ok(ArmResponse::json(200, provider(sub, namespace)))
}

/// `GET /subscriptions/{s}/providers`.
pub fn list_providers(shared: &Shared, sub: &str) -> Result<ArmResponse, ApiError> {
    subscription_checked(shared, sub)?;
    let value: Vec<Value> = namespaces().iter().map(|n| provider(sub, n)).collect();
    Ok(ArmResponse::json(200, json!({ "value": value })))
}
