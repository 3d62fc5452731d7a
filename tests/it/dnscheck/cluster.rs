//! Endpoints read from the cluster: the Kubernetes API is the `tower_test` verifier of
//! tests/controller, answering the list requests `dns-check` makes.

use std::time::Duration;

use arclink::azure::KnownCloud;
use arclink::dnscheck::endpoints::{Selection, from_cluster};
use arclink::dnscheck::report::{self, Verdict};
use arclink::dnscheck::resolve::Resolver;
use http::Method;
use serde_json::json;

use super::dns_server::{DnsServer, addresses};
use super::resolution::endpoint_json;
use crate::common::api_server::{self, ApiServer, Call};

const GROUP: &str = "/apis/arclink.io/v1alpha1";

/// Lists in a task; the test keeps a clone of the client so that the verifier's `finish` sees
/// the task end, not the client dropped.
fn spawn_list(
    client: &kube::Client,
    namespace: Option<&'static str>,
) -> tokio::task::JoinHandle<Result<Vec<arclink::api::ArcPrivateEndpoint>, String>> {
    let client = client.clone();
    tokio::spawn(async move { from_cluster(client, namespace).await })
}

/// Expects the listing of the endpoints in `namespace` (all namespaces: `None`).
async fn expect_list(api: &mut ApiServer, namespace: Option<&str>) -> Call {
    let path = match namespace {
        Some(ns) => format!("{GROUP}/namespaces/{ns}/arcprivateendpoints"),
        None => format!("{GROUP}/arcprivateendpoints"),
    };
    api.expect(Method::GET, &path).await
}

fn list(items: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "apiVersion": "arclink.io/v1alpha1",
        "kind": "ArcPrivateEndpointList",
        "metadata": {"resourceVersion": "7"},
        "items": items,
    })
}

#[tokio::test]
async fn the_endpoints_of_a_namespace_are_listed_then_narrowed_by_name() {
    let (client, mut api) = api_server::client();
    let listing = spawn_list(&client, Some("arc"));
    expect_list(&mut api, Some("arc")).await.ok(&list(vec![
        endpoint_json("arc", "hub", &[("gbl.his.arc.azure.com", "10.10.1.4")]),
        endpoint_json("arc", "spoke", &[("gbl.his.arc.azure.com", "10.20.1.4")]),
    ]));
    let known = api.finish(listing).await.unwrap();
    assert_eq!(known.len(), 2);

    let selection = Selection {
        namespace: Some("arc".into()),
        endpoint: Some("spoke".into()),
    };
    let selected = selection.select(&known, "the cluster").unwrap();
    let server = DnsServer::start(&[
        ("gbl.his.arc.azure.com", addresses(&["10.10.1.4"])),
        (
            "agentserviceapi.guestconfiguration.azure.com",
            addresses(&["10.20.1.4"]),
        ),
    ]);
    let resolver = Resolver::server(server.addr, Duration::from_secs(10)).unwrap();
    let report = report::check(&resolver, KnownCloud::AzureCloud, &known, &selected).await;
    assert_eq!(report.endpoints.len(), 1, "{report:#?}");
    let spoke = &report.endpoints[0];
    assert_eq!(spoke.name, "spoke");
    let gbl = &spoke.names[0];
    assert_eq!(
        (gbl.name.as_str(), gbl.result),
        ("gbl.his.arc.azure.com", Verdict::OtherPrivate)
    );
    // The hub is not checked, but still tells whose address the answer is.
    assert!(
        gbl.message
            .as_deref()
            .unwrap()
            .contains("the record of arc/hub gbl.his.arc.azure.com"),
        "{gbl:?}"
    );
    assert_eq!(report.exit().code(), 1);
}

#[tokio::test]
async fn without_a_namespace_every_namespace_is_listed() {
    let (client, mut api) = api_server::client();
    let listing = spawn_list(&client, None);
    expect_list(&mut api, None)
        .await
        .ok(&list(vec![endpoint_json("other", "pe", &[])]));
    let known = api.finish(listing).await.unwrap();
    let err = Selection {
        namespace: None,
        endpoint: Some("hub".into()),
    }
    .select(&known, "the cluster")
    .unwrap_err();
    assert_eq!(
        err,
        "no ArcPrivateEndpoint named \"hub\" in any namespace of the cluster"
    );
}

#[tokio::test]
async fn a_cluster_without_the_crds_or_the_permission_is_a_clear_error() {
    let (client, mut api) = api_server::client();
    let listing = spawn_list(&client, Some("arc"));
    expect_list(&mut api, Some("arc"))
        .await
        .not_found("arcprivateendpoints", "");
    let err = api.finish(listing).await.unwrap_err();
    assert!(
        err.contains("in namespace \"arc\"") && err.contains("install the CRDs"),
        "{err}"
    );

    let (client, mut api) = api_server::client();
    let listing = spawn_list(&client, None);
    let forbidden = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "arcprivateendpoints.arclink.io is forbidden: User \"dev\" cannot list resource \"arcprivateendpoints\" at the cluster scope",
        "reason": "Forbidden", "code": 403,
    });
    expect_list(&mut api, None).await.respond(403, &forbidden);
    let err = api.finish(listing).await.unwrap_err();
    assert!(
        err.starts_with(
            "listing ArcPrivateEndpoints in all namespaces (narrow with --namespace) is forbidden: "
        ) && err.contains("cannot list resource"),
        "{err}"
    );
}
