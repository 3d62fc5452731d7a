//! Issue 20, item 9: api-versions negotiated with what Azure serves. A stand-in ARM on loopback
//! serves `GET /subscriptions/{s}/providers/{namespace}` (the shape of Azure's `Providers_Get`
//! example) and a resource provider that serves only the versions it lists; the in-repo
//! emulator does not serve the providers endpoint yet (then arclink keeps its defaults, which
//! the rest of the suites exercise).

use std::sync::{Arc, Mutex};

use arclink::api::conditions::{READY, find};
use arclink::azure::models::{Machine, PrivateLinkScope, Subscription};
use arclink::azure::{ArmClient, ArmError, CollectionId, ResourceId, RetryPolicy};
use arclink::reconcile::{self, Settings};
use futures::TryStreamExt;

use super::server::{Server, json, serve};

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const OTHER_SUB: &str = "99999999-2222-3333-4444-555555555555";

/// What the stand-in ARM serves: per lower-case resource type (`machines`,
/// `privatelinkscopes`), the api-versions the provider lists and those it answers; and whether
/// `Providers_Get` is readable at all.
struct Region {
    listed: Vec<(&'static str, Vec<&'static str>)>,
    served: Vec<(&'static str, Vec<&'static str>)>,
    providers_readable: bool,
}

struct StandIn {
    server: Server,
    /// Every request: method and path with query.
    log: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    fn requests(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .cloned()
            .collect()
    }

    fn provider_reads(&self) -> usize {
        self.requests("/providers/Microsoft.HybridCompute?").len()
    }

    fn client(&self) -> ArmClient {
        self.server.client(RetryPolicy::default())
    }
}

fn api_version(path: &str) -> &str {
    path.split("api-version=")
        .nth(1)
        .and_then(|v| v.split('&').next())
        .unwrap_or_default()
}

async fn stand_in(region: Region) -> StandIn {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let server = serve(Arc::new(move |method, path| {
        seen.lock().unwrap().push(format!("{method} {path}"));
        let version = api_version(path);
        let lower = path.to_ascii_lowercase();
        if lower.contains("/providers/microsoft.hybridcompute?") {
            if !region.providers_readable {
                return json(
                    403,
                    serde_json::json!({"error": {"code": "AuthorizationFailed", "message": "no read of providers"}}),
                );
            }
            // As Azure answers it: resourceTypes with their apiVersions (and more, ignored).
            let types: Vec<_> = region
                .listed
                .iter()
                .map(|(t, v)| serde_json::json!({"resourceType": t, "apiVersions": v, "locations": ["East US"]}))
                .collect();
            return json(
                200,
                serde_json::json!({"id": format!("/subscriptions/{SUB}/providers/Microsoft.HybridCompute"),
                    "namespace": "Microsoft.HybridCompute", "registrationState": "Registered", "resourceTypes": types}),
            );
        }
        if lower.starts_with(&format!("/subscriptions/{SUB}?")) {
            return json(
                200,
                serde_json::json!({"id": format!("/subscriptions/{SUB}"), "subscriptionId": SUB,
                    "tenantId": "31c75423-32d6-4322-88b7-c478bdde4858", "displayName": "x", "state": "Enabled"}),
            );
        }
        let Some((ty, served)) = region
            .served
            .iter()
            .find(|(t, _)| lower.contains(&format!("/{t}")))
        else {
            return json(404, serde_json::json!({"error": {"code": "NotFound", "message": "no"}}));
        };
        if !served.contains(&version) {
            // Azure's wording, with the region's list.
            return json(
                400,
                serde_json::json!({"error": {"code": "NoRegisteredProviderFound", "message": format!(
                    "No registered resource provider found for location 'eastus' and API version '{version}' for type '{ty}'. The supported api-versions are '{}'. The supported locations are 'eastus'.",
                    served.join(", "))}}),
            );
        }
        if lower.contains("/machines/") {
            json(
                200,
                serde_json::json!({"id": format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m"),
                    "name": "m", "location": "eastus", "properties": {"status": "Connected"}}),
            )
        } else if lower.contains("/machines?") {
            json(200, serde_json::json!({"value": [{"name": "m"}]}))
        } else {
            json(
                200,
                serde_json::json!({"id": format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s"),
                    "name": "s", "location": "eastus", "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Disabled"}}),
            )
        }
    }))
    .await;
    StandIn { server, log }
}

fn machine(sub: &str) -> ResourceId {
    ResourceId::resource(sub, "rg", "Microsoft.HybridCompute", "machines", "m")
}

fn scope() -> ResourceId {
    ResourceId::resource(
        SUB,
        "rg",
        "Microsoft.HybridCompute",
        "privateLinkScopes",
        "s",
    )
}

/// A region that does not serve HybridCompute 2026-09-01 yet: every object used to stall on
/// `NoRegisteredProviderFound`.
fn older_region() -> Region {
    Region {
        listed: vec![
            (
                "machines",
                vec!["2025-02-19-preview", "2025-01-13", "2024-07-10"],
            ),
            ("privateLinkScopes", vec!["2026-07-15", "2025-01-13"]),
            (
                "privateLinkScopes/privateEndpointConnections",
                vec!["2026-07-15"],
            ),
        ],
        served: vec![
            (
                "machines",
                vec!["2025-02-19-preview", "2025-01-13", "2024-07-10"],
            ),
            ("privatelinkscopes", vec!["2026-07-15", "2025-01-13"]),
        ],
        providers_readable: true,
    }
}

#[tokio::test]
async fn the_newest_version_azure_lists_and_arclink_supports_is_used_once_read() {
    let arm = stand_in(older_region()).await;
    let client = arm.client();
    let m: Machine = client.get(&machine(SUB)).await.unwrap().unwrap();
    assert_eq!(m.name.as_deref(), Some("m"));
    let s: PrivateLinkScope = client.get(&scope()).await.unwrap().unwrap();
    assert_eq!(s.name.as_deref(), Some("s"));
    let listed: Vec<serde_json::Value> = client
        .list(&CollectionId::new(
            &ResourceId::resource_group_id(SUB, "rg"),
            "Microsoft.HybridCompute/machines",
        ))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // No preview, not arclink's default: the newest of both lists; and nothing refused.
    assert!(
        arm.requests("/machines")
            .iter()
            .all(|r| api_version(r) == "2025-01-13"),
        "{:?}",
        arm.requests("/machines")
    );
    assert!(
        arm.requests("/privateLinkScopes/s")
            .iter()
            .all(|r| api_version(r) == "2026-07-15")
    );
    assert_eq!(
        arm.requests("/providers/Microsoft.HybridCompute?")[0],
        format!(
            "GET /subscriptions/{SUB}/providers/Microsoft.HybridCompute?api-version=2025-04-01"
        )
    );
    assert_eq!(
        arm.provider_reads(),
        1,
        "once per subscription and namespace"
    );
    // Another subscription is read on its own.
    let _: Option<Machine> = client.get(&machine(OTHER_SUB)).await.unwrap();
    assert_eq!(arm.provider_reads(), 2);
}

/// Azure's list may be wider than what the region serves: `NoRegisteredProviderFound` (whose
/// message names the region's versions) makes arclink read again and send once more.
#[tokio::test]
async fn a_refused_version_is_negotiated_again_and_the_request_sent_once_more() {
    let mut region = older_region();
    region.listed = vec![("machines", vec!["2026-09-01", "2025-01-13", "2024-07-10"])];
    region.served = vec![("machines", vec!["2024-07-10"])];
    let arm = stand_in(region).await;
    let client = arm.client();
    let m: Machine = client.get(&machine(SUB)).await.unwrap().unwrap();
    assert_eq!(m.name.as_deref(), Some("m"));
    let tried: Vec<String> = arm
        .requests("/machines/m")
        .iter()
        .map(|r| api_version(r).to_string())
        .collect();
    assert_eq!(tried, ["2026-09-01", "2024-07-10"]);
    assert_eq!(
        arm.provider_reads(),
        2,
        "read at start and after the refusal"
    );
    // Settled: the next request goes straight to the version served.
    let _: Option<Machine> = client.get(&machine(SUB)).await.unwrap();
    assert_eq!(arm.requests("/machines/m").len(), 3);
    assert_eq!(arm.provider_reads(), 2);
}

/// Nothing in common: the object stalls naming the versions Azure offers, and nothing is sent
/// with a version that would drop the scope's `serviceExtensions`.
#[tokio::test]
async fn nothing_in_common_stalls_naming_the_versions_offered() {
    let mut region = older_region();
    region.listed = vec![("privateLinkScopes", vec!["2025-01-13", "2024-07-10"])];
    let arm = stand_in(region).await;
    let err = arm
        .client()
        .get::<PrivateLinkScope>(&scope())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ArmError::Terminal { code, message, .. }
            if code == "NoSupportedApiVersion" && message.contains("2025-01-13, 2024-07-10")),
        "{err:?}"
    );
    assert!(arm.requests("/privateLinkScopes/s").is_empty());

    let mut obj = arclink::api::ArcPrivateLinkScope::new(
        "s",
        arclink::api::ArcPrivateLinkScopeSpec {
            azure: arclink::api::AzureResource {
                subscription_id: Some(SUB.into()),
                resource_group: "rg".into(),
                name: None,
            },
            location: "eastus".into(),
            ..Default::default()
        },
    );
    obj.metadata.namespace = Some("ns".into());
    obj.metadata.generation = Some(1);
    let out = reconcile::reconcile(&arm.client(), &Settings::new("c"), &(), &obj, &()).await;
    let ready = find(&out.status.common.conditions, READY).unwrap();
    assert_eq!(ready.reason, "NoSupportedApiVersion", "{ready:?}");
    assert!(
        ready.message.contains("2025-01-13, 2024-07-10")
            && ready.message.contains("2026-09-01, 2026-07-15"),
        "{ready:?}"
    );
    assert!(out.changes.is_empty());
}

/// A flag that pins the version wins: no negotiation, no second try.
#[tokio::test]
async fn a_pinned_version_is_sent_as_is() {
    let arm = stand_in(older_region()).await;
    let mut options = arm.server.options(RetryPolicy::default());
    options.api_versions.hybrid_compute = Some("2026-09-01".into());
    let client = ArmClient::new(options).unwrap();
    let err = client.get::<Machine>(&machine(SUB)).await.unwrap_err();
    assert_eq!(err.code(), "NoRegisteredProviderFound");
    assert_eq!(arm.provider_reads(), 0);
    assert_eq!(arm.requests("/machines/m").len(), 1);
}

/// Azure's list cannot be read (no permission): arclink's defaults, read once; a refusal still
/// gets its second try from the versions the refusal names.
#[tokio::test]
async fn without_azures_list_the_defaults_and_the_refusals_list_serve() {
    let mut region = older_region();
    region.providers_readable = false;
    let arm = stand_in(region).await;
    let client = arm.client();
    let s: PrivateLinkScope = client.get(&scope()).await.unwrap().unwrap();
    assert_eq!(s.name.as_deref(), Some("s"));
    let tried: Vec<String> = arm
        .requests("/privateLinkScopes/s")
        .iter()
        .map(|r| api_version(r).to_string())
        .collect();
    assert_eq!(tried, ["2026-09-01", "2026-07-15"]);
}

/// `GET /subscriptions/{id}` uses the Subscriptions spec's 2022-12-01 (2021-04-01 is not in it).
#[tokio::test]
async fn the_subscription_is_read_with_a_version_of_the_subscriptions_spec() {
    let arm = stand_in(older_region()).await;
    let sub: Subscription = arm
        .client()
        .get(&ResourceId::subscription_id(SUB))
        .await
        .unwrap()
        .unwrap();
    assert!(sub.tenant_id.is_some());
    assert_eq!(
        arm.requests(&format!("/subscriptions/{SUB}?")),
        [format!("GET /subscriptions/{SUB}?api-version=2022-12-01")]
    );
}

/// The emulator answers the subscription read with that version too.
#[tokio::test]
async fn the_emulator_serves_the_subscription_at_2022_12_01() {
    let emu = super::common::emulator(Default::default()).await;
    let sub: Subscription = super::common::client(&emu)
        .get(&ResourceId::subscription_id(SUB))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.tenant_id.as_deref(), Some(super::common::TENANT));
}
