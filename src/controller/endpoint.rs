//! `ArcPrivateEndpoint` in the controller: writes the `dnsExport` ConfigMap, and re-reconciles
//! endpoints when their scope or ConfigMap changes.

use futures::FutureExt;
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

use super::config_map::{self, ConfigMapError};
use super::context::{Context, Stores};
use super::kind::Kind;
use super::run::api;
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus, ArcPrivateLinkScope};
use crate::reconcile::Outcome;
use crate::reconcile::endpoint::dns_export;

/// Label on the ConfigMaps arclink writes (the controller watches only those).
pub const EXPORT_LABEL: (&str, &str) = config_map::MANAGED_LABEL;

impl Kind for ArcPrivateEndpoint {
    fn configure(
        controller: Controller<Self>,
        client: &kube::Client,
        namespace: Option<&str>,
        declared: &Stores,
    ) -> Controller<Self> {
        let endpoints = declared.endpoints.clone();
        let scopes: kube::Api<ArcPrivateLinkScope> = api(client, namespace);
        config_map::watch_owned(controller, client, namespace).watches(
            scopes,
            watcher::Config::default(),
            move |s| {
                let ns = s.namespace();
                let name = s.name_any();
                endpoints
                    .state()
                    .into_iter()
                    .filter(|e| {
                        e.namespace() == ns
                            && e.spec.scope_ref.as_ref().is_some_and(|r| r.name == name)
                    })
                    .map(|e| ObjectRef::from_obj(&*e))
                    .collect::<Vec<_>>()
            },
        )
    }

    /// Writes the `dnsExport` ConfigMap; one that this object does not own stalls it.
    fn after<'a>(
        ctx: &'a Context,
        obj: &'a Self,
        outcome: &'a mut Outcome<ArcPrivateEndpointStatus>,
    ) -> BoxFuture<'a, ()> {
        let status = outcome.status.clone();
        let write = async move { export(&ctx.client, obj, &status).await }.boxed();
        config_map::settle(ctx, obj, outcome, "dnsExport", write)
    }
}

/// Writes the `dnsExport` ConfigMap when its content changed. A ConfigMap of that name that
/// this object does not own is left alone.
async fn export(
    client: &kube::Client,
    obj: &ArcPrivateEndpoint,
    status: &ArcPrivateEndpointStatus,
) -> Result<(), ConfigMapError> {
    let Some(export) = &obj.spec.dns_export else {
        return Ok(());
    };
    if status.dns_records.is_empty() {
        return Ok(());
    }
    config_map::write(
        client,
        obj,
        &export.config_map_name,
        "spec.dnsExport.configMapName",
        &dns_export(status),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Mock = tower_test::mock::Handle<
        http::Request<kube::client::Body>,
        http::Response<kube::client::Body>,
    >;

    fn respond(status: u16, body: serde_json::Value) -> http::Response<kube::client::Body> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(kube::client::Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap()
    }

    fn exporting() -> (ArcPrivateEndpoint, ArcPrivateEndpointStatus) {
        let obj: ArcPrivateEndpoint = serde_json::from_value(json!({
            "apiVersion": "arclink.io/v1alpha1",
            "kind": "ArcPrivateEndpoint",
            "metadata": {"name": "me", "namespace": "ns", "uid": "uid-1"},
            "spec": {
                "azure": {"subscriptionId": "sub", "resourceGroup": "rg"},
                "location": "eastus",
                "subnetId": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
                "scopeRef": {"name": "s1"},
                "dnsExport": {"configMapName": "arc-dns"}
            }
        }))
        .unwrap();
        let status = ArcPrivateEndpointStatus {
            dns_records: vec![crate::api::endpoint::DnsRecord {
                fqdn: "gbl.his.arc.azure.com".into(),
                zone: "privatelink.his.arc.azure.com".into(),
                ip_addresses: vec!["10.0.0.4".into()],
            }],
            ..Default::default()
        };
        (obj, status)
    }

    #[tokio::test]
    async fn export_writes_the_config_map_then_only_when_it_changes() {
        let (svc, handle): (_, Mock) = tower_test::mock::pair();
        let client = kube::Client::new(svc, "ns");
        let (obj, status) = exporting();
        let server = tokio::spawn(async move {
            let mut handle = std::pin::pin!(handle);
            let (req, send) = handle.next_request().await.unwrap();
            assert_eq!(req.method(), http::Method::GET);
            assert_eq!(req.uri().path(), "/api/v1/namespaces/ns/configmaps/arc-dns");
            send.send_response(respond(
                404,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}),
            ));
            let (req, send) = handle.next_request().await.unwrap();
            assert_eq!(req.method(), http::Method::PATCH);
            assert!(req.uri().query().unwrap().contains("fieldManager=arclink"));
            let body: serde_json::Value =
                serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap()).unwrap();
            assert_eq!(body["data"]["hosts"], "10.0.0.4 gbl.his.arc.azure.com\n");
            assert!(
                body["data"]["privatelink.his.arc.azure.com"]
                    .as_str()
                    .unwrap()
                    .contains("gbl IN A 10.0.0.4")
            );
            let owner = &body["metadata"]["ownerReferences"][0];
            assert_eq!(
                (
                    owner["kind"].as_str(),
                    owner["uid"].as_str(),
                    owner["controller"].as_bool()
                ),
                (Some("ArcPrivateEndpoint"), Some("uid-1"), Some(true))
            );
            assert_eq!(
                body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "arclink"
            );
            send.send_response(respond(200, body.clone()));
            // Unchanged content: one GET, no write.
            let (req, send) = handle.next_request().await.unwrap();
            assert_eq!(req.method(), http::Method::GET);
            send.send_response(respond(200, body));
        });
        export(&client, &obj, &status).await.unwrap();
        export(&client, &obj, &status).await.unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn export_leaves_a_config_map_it_does_not_own() {
        let (svc, handle): (_, Mock) = tower_test::mock::pair();
        let client = kube::Client::new(svc, "ns");
        let (obj, status) = exporting();
        let server = tokio::spawn(async move {
            let mut handle = std::pin::pin!(handle);
            let (_, send) = handle.next_request().await.unwrap();
            send.send_response(respond(
                200,
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "arc-dns", "namespace": "ns"}, "data": {"x": "y"}}),
            ));
        });
        let err = export(&client, &obj, &status).await.unwrap_err();
        assert!(
            matches!(err, ConfigMapError::NotOwned { ref name, .. } if name == "ns/arc-dns"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "ConfigMap ns/arc-dns (spec.dnsExport.configMapName) exists and is not owned by this ArcPrivateEndpoint; arclink will not overwrite it"
        );
        server.await.unwrap();
    }
}
