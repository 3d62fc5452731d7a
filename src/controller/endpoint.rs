//! `ArcPrivateEndpoint` in the controller: writes the `dnsExport` ConfigMap, and re-reconciles
//! endpoints when their scope or ConfigMap changes.

use std::collections::BTreeMap;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::{Context, Stores};
use super::kind::{FIELD_MANAGER, Kind};
use super::run::api;
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus, ArcPrivateLinkScope};
use crate::reconcile::endpoint::dns_export;
use crate::reconcile::phase::write_conditions;
use crate::reconcile::{Outcome, Phase, Requeue};

/// Label on the ConfigMaps arclink writes (the controller watches only those).
pub const EXPORT_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "arclink");

impl Kind for ArcPrivateEndpoint {
    fn configure(
        controller: Controller<Self>,
        client: &kube::Client,
        namespace: Option<&str>,
        declared: &Stores,
    ) -> Controller<Self> {
        let endpoints = declared.endpoints.clone();
        let (key, value) = EXPORT_LABEL;
        let config_maps: Api<ConfigMap> = api(client, namespace);
        let scopes: Api<ArcPrivateLinkScope> = api(client, namespace);
        controller
            .owns(
                config_maps,
                watcher::Config::default().labels(&format!("{key}={value}")),
            )
            .watches(scopes, watcher::Config::default(), move |s| {
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
            })
    }

    /// Writes the `dnsExport` ConfigMap; one that this object does not own stalls it.
    fn after<'a>(
        ctx: &'a Context,
        obj: &'a Self,
        outcome: &'a mut Outcome<ArcPrivateEndpointStatus>,
    ) -> BoxFuture<'a, ()> {
        async move {
            match export(&ctx.client, obj, &outcome.status).await {
                Ok(()) => {}
                Err(e @ ExportError::NotOwned(_)) => {
                    write_conditions(
                        &mut outcome.status.conditions,
                        &Phase::stalled("ConfigMapOwnedElsewhere", e.to_string()),
                        &outcome.drift,
                        obj.metadata.generation,
                        jiff::Timestamp::now(),
                        ctx.settings.note.as_deref(),
                    );
                }
                Err(e) => {
                    tracing::warn!(namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %e, "writing the dnsExport ConfigMap failed");
                    outcome.requeue = Requeue::Backoff;
                }
            }
        }
        .boxed()
    }
}

/// Writes the `dnsExport` ConfigMap when its content changed. A ConfigMap of that name that
/// this object does not own is left alone.
async fn export(
    client: &kube::Client,
    obj: &ArcPrivateEndpoint,
    status: &ArcPrivateEndpointStatus,
) -> Result<(), ExportError> {
    let Some(export) = &obj.spec.dns_export else {
        return Ok(());
    };
    if status.dns_records.is_empty() {
        return Ok(());
    }
    let namespace = obj.namespace().unwrap_or_default();
    let name = &export.config_map_name;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let data = dns_export(status);
    let owner = OwnerReference {
        api_version: ArcPrivateEndpoint::api_version(&()).to_string(),
        kind: ArcPrivateEndpoint::kind(&()).to_string(),
        name: obj.name_any(),
        uid: obj.uid().ok_or(ExportError::NoUid)?,
        controller: Some(true),
        block_owner_deletion: None,
    };
    if let Some(existing) = api.get_opt(name).await? {
        let ours = existing
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|refs| refs.iter().any(|r| r.uid == owner.uid));
        if !ours {
            return Err(ExportError::NotOwned(format!("{namespace}/{name}")));
        }
        if existing.data.as_ref() == Some(&data) {
            return Ok(());
        }
    }
    let (key, value) = EXPORT_LABEL;
    let patch = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": BTreeMap::from([(key, value)]),
            "ownerReferences": [owner],
        },
        "data": data,
    });
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error(
        "ConfigMap {0} (spec.dnsExport.configMapName) exists and is not owned by this ArcPrivateEndpoint; arclink will not overwrite it"
    )]
    NotOwned(String),
    #[error("the object has no uid yet")]
    NoUid,
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

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
            matches!(err, ExportError::NotOwned(ref n) if n == "ns/arc-dns"),
            "{err}"
        );
        server.await.unwrap();
    }
}
