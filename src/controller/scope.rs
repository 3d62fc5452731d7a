//! `ArcPrivateLinkScope` in the controller: writes the `onboarding` ConfigMap (the Connected
//! Machine agent's connect commands), and re-reconciles a scope when its ConfigMap changes.

use futures::FutureExt;
use futures::future::BoxFuture;
use kube::runtime::controller::Controller;

use super::config_map::{self, ConfigMapError};
use super::context::Context;
use super::kind::{Kind, Watch};
use crate::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeStatus};
use crate::reconcile::scope::onboarding::{Connect, config_map_data};
use crate::reconcile::{Outcome, Settings};

impl Kind for ArcPrivateLinkScope {
    fn configure(controller: Controller<Self>, watch: &Watch<'_>) -> Controller<Self> {
        config_map::watch_owned(controller, watch)
    }

    /// Writes the `onboarding` ConfigMap; one that this object does not own stalls it.
    fn after<'a>(
        ctx: &'a Context,
        obj: &'a Self,
        outcome: &'a mut Outcome<ArcPrivateLinkScopeStatus>,
    ) -> BoxFuture<'a, ()> {
        let status = outcome.status.clone();
        let write =
            async move { onboarding(&ctx.client, &ctx.settings, obj, status).await }.boxed();
        config_map::settle(ctx, obj, outcome, "onboarding", write)
    }
}

/// Writes the `onboarding` ConfigMap once the scope exists in Azure (its GUID is known), when
/// its content changed.
async fn onboarding(
    client: &kube::Client,
    settings: &Settings,
    obj: &ArcPrivateLinkScope,
    status: ArcPrivateLinkScopeStatus,
) -> Result<(), ConfigMapError> {
    let Some(onboarding) = &obj.spec.onboarding else {
        return Ok(());
    };
    if status.private_link_scope_id.is_none() {
        return Ok(());
    }
    let mut observed = obj.clone();
    observed.status = Some(status);
    let connect = match Connect::of(&observed, settings) {
        Ok(c) => c,
        // Without a subscription the reconcile already stalls the object; a value that breaks
        // Azure's rules (the CRD refuses them, objects stored before may hold them) never
        // reaches a script.
        Err(e) => {
            tracing::warn!(error = %e, "onboarding commands not written");
            return Ok(());
        }
    };
    config_map::write(
        client,
        obj,
        &onboarding.config_map_name,
        "spec.onboarding.configMapName",
        &config_map_data(&connect),
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

    fn onboarding_scope() -> (ArcPrivateLinkScope, ArcPrivateLinkScopeStatus) {
        let obj: ArcPrivateLinkScope = serde_json::from_value(json!({
            "apiVersion": "arclink.io/v1alpha1",
            "kind": "ArcPrivateLinkScope",
            "metadata": {"name": "s1", "namespace": "ns", "uid": "uid-1"},
            "spec": {
                "azure": {"subscriptionId": "11111111-2222-3333-4444-555555555555", "resourceGroup": "rg"},
                "location": "eastus",
                "onboarding": {"configMapName": "arc-onboarding"}
            }
        }))
        .unwrap();
        let status = ArcPrivateLinkScopeStatus {
            private_link_scope_id: Some("e5dc51d3-92ed-4d7e-947a-775ea79b4919".into()),
            tenant_id: Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into()),
            ..Default::default()
        };
        (obj, status)
    }

    #[tokio::test]
    async fn writes_the_commands_then_only_when_they_change() {
        let (obj, status) = onboarding_scope();
        let (client, server) = testing::serve(|mut api| async move {
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::GET);
            assert_eq!(
                req.uri().path(),
                "/api/v1/namespaces/ns/configmaps/arc-onboarding"
            );
            send.send_response(not_found());
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::PATCH);
            let body = body_of(req).await;
            let linux = body["data"]["connect-linux.sh"].as_str().unwrap();
            assert!(linux.contains("--tenant-id \"$TENANT_ID\""), "{linux}");
            assert!(linux.contains("TENANT_ID='aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'"));
            assert!(linux.contains("--private-link-scope '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s1'"));
            assert!(
                body["data"]["connect-windows.ps1"]
                    .as_str()
                    .unwrap()
                    .contains("azcmagent.exe\" connect")
            );
            assert!(body["data"]["README.md"].is_string());
            assert_written_for(&body, "ArcPrivateLinkScope");
            send.send_response(respond(200, body.clone()));
            let (req, send) = api.next().await;
            assert_eq!(req.method(), http::Method::GET);
            send.send_response(respond(200, body));
        });
        let settings = Settings::new("c");
        onboarding(&client, &settings, &obj, status.clone())
            .await
            .unwrap();
        onboarding(&client, &settings, &obj, status).await.unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn nothing_is_written_before_the_scope_exists_or_without_onboarding() {
        // No request may reach the API server: it is dropped.
        let (client, _) = testing::client();
        let (mut obj, status) = onboarding_scope();
        let settings = Settings::new("c");
        let not_yet = ArcPrivateLinkScopeStatus {
            private_link_scope_id: None,
            ..status.clone()
        };
        onboarding(&client, &settings, &obj, not_yet).await.unwrap();
        obj.spec.onboarding = None;
        onboarding(&client, &settings, &obj, status).await.unwrap();
    }

    #[tokio::test]
    async fn leaves_a_config_map_it_does_not_own() {
        let (obj, status) = onboarding_scope();
        let (client, server) = testing::serve(|mut api| async move {
            let (_, send) = api.next().await;
            send.send_response(foreign_config_map("arc-onboarding"));
        });
        let err = onboarding(&client, &Settings::new("c"), &obj, status)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ConfigMap ns/arc-onboarding (spec.onboarding.configMapName) exists and is not owned by this ArcPrivateLinkScope; arclink will not overwrite it"
        );
        server.await.unwrap();
    }
}
