//! What the controller tests script: objects, Secrets, and the API-server requests the
//! controller makes with their answers. The bed is [`crate::common::bed::Bed`]: its `ctx` is
//! the controller's context and its `api` the verifier.

use arclink::api::{ArcPrivateLinkScope, FINALIZER};
use http::Method;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use crate::common::api_server::{ApiServer, Call};

pub use crate::common::bed::Bed;
pub use crate::common::fixtures::{SUB, scope_id};
pub const NS: &str = "ns";
pub const OBJECTS: &str = "/apis/arclink.io/v1alpha1/namespaces/ns/arcprivatelinkscopes";
pub const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/ns/events";

pub fn scope(name: &str) -> ArcPrivateLinkScope {
    let mut obj = crate::common::fixtures::scope(name);
    obj.metadata.uid = Some(format!("uid-{name}"));
    obj.metadata.resource_version = Some("1".into());
    obj
}

pub fn with_finalizer(mut obj: ArcPrivateLinkScope) -> ArcPrivateLinkScope {
    obj.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
    obj
}

pub fn object_path(name: &str) -> String {
    format!("{OBJECTS}/{name}")
}

pub fn secret(name: &str, pairs: &[(&str, &str)]) -> Secret {
    let mut s = Secret {
        data: Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        ..Default::default()
    };
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(NS.into());
    s
}

/// The object as the API server returns it after applying `status` (a status PATCH body).
pub fn with_status(obj: &ArcPrivateLinkScope, status: &Value) -> ArcPrivateLinkScope {
    let mut v = serde_json::to_value(obj).unwrap();
    v["status"] = status.clone();
    serde_json::from_value(v).unwrap()
}

/// Expects the lookup of Secret `name` in the test namespace and answers `secret` or 404.
pub async fn expect_secret(api: &mut ApiServer, name: &str, secret: Option<&Secret>) {
    let call = api
        .expect(
            Method::GET,
            &format!("/api/v1/namespaces/{NS}/secrets/{name}"),
        )
        .await;
    match secret {
        Some(s) => call.ok(&serde_json::to_value(s).unwrap()),
        None => call.not_found("secrets", name),
    }
}

/// Expects a server-side apply of `name`'s status by arclink and answers with the object
/// carrying it; returns the applied status.
pub async fn expect_status_apply(api: &mut ApiServer, obj: &ArcPrivateLinkScope) -> Value {
    let name = obj.metadata.name.clone().unwrap();
    let call = api
        .expect(Method::PATCH, &format!("{}/status", object_path(&name)))
        .await;
    assert_eq!(call.content_type, "application/apply-patch+yaml");
    assert!(call.has_param("fieldManager", "arclink"), "{}", call.query);
    assert!(call.has_param("force", "true"), "{}", call.query);
    assert_eq!(call.body["apiVersion"], "arclink.io/v1alpha1");
    assert_eq!(call.body["kind"], "ArcPrivateLinkScope");
    let status = call.body["status"].clone();
    let answer = serde_json::to_value(with_status(obj, &status)).unwrap();
    call.ok(&answer);
    status
}

/// Expects an events.k8s.io/v1 Event about `name`; returns its body.
pub async fn expect_event(api: &mut ApiServer, name: &str) -> Value {
    let call = api.expect(Method::POST, EVENTS).await;
    let event = call.body.clone();
    assert_eq!(event["apiVersion"], "events.k8s.io/v1");
    assert_eq!(event["regarding"]["kind"], "ArcPrivateLinkScope");
    assert_eq!(event["regarding"]["name"], name);
    assert_eq!(event["regarding"]["namespace"], NS);
    assert_eq!(event["reportingController"], "arclink");
    respond_created(call);
    event
}

fn respond_created(call: Call) {
    let mut body = call.body.clone();
    if body["metadata"]["name"].is_null() {
        body["metadata"]["name"] = json!("event-1");
    }
    call.respond(201, &body);
}

pub fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or_else(|| panic!("no {type_} condition in {status}"))
}
