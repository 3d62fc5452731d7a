//! `ArcPrivateEndpoint` in the controller: writes the `dnsExport` ConfigMap, and re-reconciles
//! endpoints when the object they refer to (scope, Azure Monitor scope, resource management
//! link) or their ConfigMap changes.

use futures::FutureExt;
use futures::future::BoxFuture;
use kube::runtime::controller::Controller;

use super::config_map::{self, ConfigMapError};
use super::context::Context;
use super::kind::{Kind, Watch, watch_referrers};
use crate::api::{
    ArcMonitorPrivateLinkScope, ArcPrivateEndpoint, ArcPrivateEndpointStatus, ArcPrivateLinkScope,
    ArcResourceManagementPrivateLink,
};
use crate::reconcile::Outcome;
use crate::reconcile::endpoint::dns_export;
use crate::reconcile::endpoint::reference::Referable;

/// Label on the ConfigMaps arclink writes (the controller watches only those).
pub const EXPORT_LABEL: (&str, &str) = config_map::MANAGED_LABEL;

impl Kind for ArcPrivateEndpoint {
    fn configure(controller: Controller<Self>, watch: &Watch<'_>) -> Controller<Self> {
        let controller = config_map::watch_owned(controller, watch);
        let controller = watch_referrers::<_, ArcPrivateLinkScope>(controller, watch, |e| {
            e.spec.scope_ref.as_ref().map(|r| r.name.as_str())
        });
        let controller = watch_referrers::<_, ArcMonitorPrivateLinkScope>(controller, watch, |e| {
            ArcMonitorPrivateLinkScope::reference(e).map(|r| r.name.as_str())
        });
        watch_referrers::<_, ArcResourceManagementPrivateLink>(controller, watch, |e| {
            ArcResourceManagementPrivateLink::reference(e).map(|r| r.name.as_str())
        })
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
    use crate::controller::config_map::testing::{
        self, assert_written_for, body_of, foreign_config_map, not_found, respond,
    };
    use serde_json::json;

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
        let (obj, status) = exporting();
        let (client, server) = testing::serve(|mut api| async move {
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::GET);
            assert_eq!(req.uri().path(), "/api/v1/namespaces/ns/configmaps/arc-dns");
            send.send_response(not_found());
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::PATCH);
            assert!(req.uri().query().unwrap().contains("fieldManager=arclink"));
            let body = body_of(req).await;
            assert_eq!(body["data"]["hosts"], "10.0.0.4 gbl.his.arc.azure.com\n");
            assert!(
                body["data"]["privatelink.his.arc.azure.com"]
                    .as_str()
                    .unwrap()
                    .contains("gbl IN A 10.0.0.4")
            );
            assert_written_for(&body, "ArcPrivateEndpoint");
            send.send_response(respond(200, body.clone()));
            // Unchanged content: one GET, no write.
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::GET);
            send.send_response(respond(200, body));
        });
        export(&client, &obj, &status).await.unwrap();
        export(&client, &obj, &status).await.unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn export_leaves_a_config_map_it_does_not_own() {
        let (obj, status) = exporting();
        let (client, server) = testing::serve(|mut api| async move {
            let (_, send) = api.next().await;
            send.send_response(foreign_config_map("arc-dns"));
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
