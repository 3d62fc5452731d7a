//! The emulator's answers beyond the specs that are not a private endpoint's (the rest of the
//! catalogue in `behaviours`): injected errors, the rate-limit headers, Azure's tag limits, the
//! scope's service extensions per api-version, and what clears a machine's scope.

use arclink::emulator::{Behaviours, Fault, ScopeClear};
use serde_json::{Value, json};

use super::behaviours::{HC_NEW, assert_refused};
use super::support::*;

/// Behaviour 10: the emulator answers any ARM error code on demand.
#[tokio::test]
async fn error_codes_are_injected_with_their_status() {
    let env = env().await;
    for (status, code) in [
        (409, "MissingSubscriptionRegistration"),
        (409, "ScopeLocked"),
        (409, "ResourceGroupBeingDeleted"),
        (403, "RequestDisallowedByPolicy"),
        (409, "AnotherOperationInProgress"),
    ] {
        env.emu.admin().inject(
            Fault::status(status)
                .code(code)
                .message("injected")
                .method("PUT")
                .times(1),
        );
        let r = env
            .put(
                &format!("{}?api-version={HC}", scope_path("s1")),
                json!({"location": "westeurope"}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (status, Some(code))
        );
    }
}

/// Behaviour 12: each response reports the caller's bucket and the subscription's global one
/// (15 times larger, shared by every principal).
#[tokio::test]
async fn responses_report_the_principal_and_the_global_bucket() {
    let env = env().await;
    let r = env
        .get(&format!("{}?api-version={HC}", machine_path("web-01")))
        .await;
    let own: u64 = r
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .unwrap()
        .parse()
        .unwrap();
    let global: u64 = r
        .header("x-ms-ratelimit-remaining-subscription-global-reads")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(own, 249, "250 burst, one taken");
    assert_eq!(global, 250 * 15 - 1);
}

/// Behaviour 13: Azure's tag limits.
#[tokio::test]
async fn tags_beyond_azures_limits_are_refused() {
    let env = env().await;
    let url = format!("{}?api-version={HC}", scope_path("s1"));
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        (json!(many), "InvalidTagCount"),
        (json!({"a/b": "v"}), "InvalidTagNameCharacters"),
        (json!({"a%b": "v"}), "InvalidTagNameCharacters"),
        (json!({"k".repeat(513): "v"}), "InvalidTagNameLength"),
        (json!({"k": "v".repeat(257)}), "InvalidTagValueLength"),
    ];
    for (tags, code) in cases {
        let r = env
            .put(&url, json!({"location": "westeurope", "tags": tags}))
            .await;
        assert_refused(&r, code);
    }
    let fifty: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("k{i}"), json!("v".repeat(256))))
        .collect();
    let r = env
        .put(&url, json!({"location": "westeurope", "tags": fifty}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// Behaviour 14: newer HybridCompute api-versions carry `serviceExtensions` (a server
/// default when not sent); an older version does not show it, and its PUT drops what a
/// newer client set.
#[tokio::test]
async fn service_extensions_follow_the_api_version() {
    let env = env().await;
    let new = format!("{}?api-version={HC_NEW}", scope_path("s1"));
    let old = format!("{}?api-version={HC}", scope_path("s1"));
    let r = env.put(&new, json!({"location": "westeurope"})).await;
    assert_eq!(
        r.body["properties"]["serviceExtensions"],
        json!([{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Enabled"}])
    );
    let disabled =
        json!([{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled"}]);
    env.put(
        &new,
        json!({"location": "westeurope", "properties": {"serviceExtensions": disabled}}),
    )
    .await;
    assert!(
        env.get(&old).await.body["properties"]
            .get("serviceExtensions")
            .is_none()
    );
    assert_eq!(
        env.get(&new).await.body["properties"]["serviceExtensions"],
        disabled
    );
    env.put(&old, json!({"location": "westeurope"})).await;
    assert_eq!(
        env.get(&new).await.body["properties"]["serviceExtensions"][0]["serviceExtensionPublicNetworkAccess"],
        "Enabled",
        "an older api-version's PUT put the default back"
    );
}

/// `serviceExtensions` in the shape of the 2026-09-01 spec: stored as sent (enum values in
/// their canonical spelling); what the spec refuses (an access other than Enabled/Disabled, an
/// entry that is not an object, a type that is not a string or null) is a 400 that changes
/// nothing. The scope's own `publicNetworkAccess` enum is checked the same way.
#[tokio::test]
async fn service_extensions_take_the_specs_shape_only() {
    let env = env().await;
    let url = format!("{}?api-version={HC_NEW}", scope_path("s1"));
    let two = json!([
        {"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "disabled"},
        {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"}
    ]);
    let r = env
        .put(
            &url,
            json!({"location": "westeurope", "properties": {"serviceExtensions": two}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let stored = json!([
        {"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled"},
        {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"}
    ]);
    assert_eq!(r.body["properties"]["serviceExtensions"], stored);
    for bad in [
        json!({"serviceExtensions": [{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Sometimes"}]}),
        json!({"serviceExtensions": [{"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": 1}]}),
        json!({"serviceExtensions": [{"serviceExtensionType": null, "serviceExtensionPublicNetworkAccess": "Enabled"}]}),
        json!({"serviceExtensions": [{"serviceExtensionType": 7}]}),
        json!({"serviceExtensions": ["SQL"]}),
        json!({"serviceExtensions": {"SQL": "Disabled"}}),
        json!({"publicNetworkAccess": "Sometimes"}),
    ] {
        let r = env
            .put(&url, json!({"location": "westeurope", "properties": bad}))
            .await;
        assert_refused(&r, "InvalidRequestContent");
    }
    let now = env.get(&url).await.body;
    assert_eq!(now["properties"]["serviceExtensions"], stored, "unchanged");
    assert_eq!(now["properties"]["publicNetworkAccess"], "Disabled");
}

/// Behaviour 15: what clears a machine's scope is switchable, since Azure does not document it.
#[tokio::test]
async fn what_clears_a_machines_scope_is_switchable() {
    let env = env().await;
    let scope = put_scope(&env, "s1").await;
    let url = format!("{}?api-version={HC}", machine_path("web-01"));
    let set = json!({"properties": {"privateLinkScopeResourceId": scope}});
    let scope_now = |m: &Value| m["properties"]["privateLinkScopeResourceId"].clone();
    for (clear, null_clears, empty_clears) in [
        (ScopeClear::EmptyString, false, true),
        (ScopeClear::Null, true, false),
        (ScopeClear::Either, true, true),
    ] {
        env.emu.admin().set_behaviours(Behaviours {
            machine_scope_clear: clear,
            ..Behaviours::default()
        });
        env.patch(&url, set.clone()).await;
        let r = env
            .patch(
                &url,
                json!({"properties": {"privateLinkScopeResourceId": null}}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(scope_now(&r.body).is_null(), null_clears, "{clear:?} null");
        env.patch(&url, set.clone()).await;
        let r = env
            .patch(
                &url,
                json!({"properties": {"privateLinkScopeResourceId": ""}}),
            )
            .await;
        if empty_clears {
            assert!(scope_now(&r.body).is_null(), "{clear:?} \"\"");
        } else {
            assert_refused(&r, "LinkedInvalidPropertyId");
        }
    }
    let m = env.get(&url).await.body;
    assert_eq!(
        m["properties"]["agentConfiguration"]["configMode"], "full",
        "machines carry the agent-reported properties of Machines_Get"
    );
}
