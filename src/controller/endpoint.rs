//! `ArcPrivateEndpoint` in the controller: looks up the referenced scope and the other
//! endpoints of the cluster for the reconcile core, writes the `dnsExport` ConfigMap, and
//! re-reconciles endpoints when their scope or ConfigMap changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference};
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::Context;
use super::kind::{FIELD_MANAGER, Kind};
use super::run::api;
use crate::api::{
    ArcPrivateEndpoint, ArcPrivateEndpointStatus, ArcPrivateLinkScope, CredentialRef,
};
use crate::azure::ArmClient;
use crate::reconcile::endpoint::{self, EndpointDeps, PeerEndpoint, dns_export};
use crate::reconcile::phase::write_conditions;
use crate::reconcile::scope_ref::ScopeSource;
use crate::reconcile::{Cleanup, DriftState, Outcome, Phase, Requeue, Settings, scope};

/// Label on the ConfigMaps arclink writes (the controller watches only those).
pub const EXPORT_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "arclink");

impl Kind for ArcPrivateEndpoint {
    type Status = ArcPrivateEndpointStatus;
    const KIND: &'static str = endpoint::KIND;

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn conditions(status: &mut Self::Status) -> &mut Vec<Condition> {
        &mut status.conditions
    }
    fn set_observed_generation(status: &mut Self::Status, generation: Option<i64>) {
        status.observed_generation = generation;
    }
    fn credential_ref(&self) -> Option<&CredentialRef> {
        self.spec.credential_ref.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend
    }
    fn drift_interval(&self, ctx: &Context) -> Duration {
        endpoint::drift_interval(self, &ctx.settings)
    }
    fn reconcile(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Outcome<Self::Status>> {
        async move {
            let deps = match deps(&ctx.client, &ctx.settings, &obj).await {
                Ok(d) => d,
                Err(e) => return kube_failure(&ctx.settings, &obj, &e),
            };
            let mut outcome = endpoint::reconcile(&arm, &ctx.settings, &obj, &deps).await;
            match export(&ctx.client, &obj, &outcome.status).await {
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
                    tracing::warn!(name = %obj.name_any(), namespace = ?obj.namespace(), error = %e, "writing the dnsExport ConfigMap failed");
                    outcome.requeue = Requeue::Backoff;
                }
            }
            outcome
        }
        .boxed()
    }
    fn cleanup(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Cleanup<Self::Status>> {
        async move { endpoint::cleanup(&arm, &ctx.settings, &obj).await }.boxed()
    }
    fn configure(
        controller: Controller<Self>,
        client: &kube::Client,
        namespace: Option<&str>,
    ) -> Controller<Self> {
        let endpoints = controller.store();
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
}

/// The status for a reconcile that could not read Kubernetes.
fn kube_failure(
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
    err: &kube::Error,
) -> Outcome<ArcPrivateEndpointStatus> {
    let mut status = obj.status.clone().unwrap_or_default();
    status.observed_generation = obj.metadata.generation;
    write_conditions(
        &mut status.conditions,
        &Phase::progressing(
            "KubernetesError",
            format!("reading the scope and other endpoints from Kubernetes failed: {err}"),
        ),
        &DriftState::InSync,
        obj.metadata.generation,
        jiff::Timestamp::now(),
        settings.note.as_deref(),
    );
    Outcome {
        status,
        requeue: Requeue::Backoff,
        drift: DriftState::InSync,
        changes: Vec::new(),
    }
}

/// Lists all objects of `K`, or those of `namespace` when the controller may not list
/// cluster-wide.
async fn list_all<K>(client: &kube::Client, namespace: &str) -> Result<Vec<K>, kube::Error>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(e)) if e.code == 403 => {
            Ok(Api::<K>::namespaced(client.clone(), namespace)
                .list(&ListParams::default())
                .await?
                .items)
        }
        Err(e) => Err(e),
    }
}

/// The referenced scope and the endpoints created before this one (an established endpoint
/// is never stalled by a newcomer in its virtual network).
async fn deps(
    client: &kube::Client,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
) -> Result<EndpointDeps, kube::Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let scope = match (&obj.spec.scope_ref, &obj.spec.scope_id) {
        (Some(r), _) => ScopeSource::Ref {
            name: r.name.clone(),
            object: Api::<ArcPrivateLinkScope>::namespaced(client.clone(), &namespace)
                .get_opt(&r.name)
                .await?
                .map(Box::new),
        },
        (None, Some(id)) => ScopeSource::Id(id.clone()),
        (None, None) => ScopeSource::Id(String::new()),
    };
    // Only endpoints in the same virtual network can conflict; read just their scopes.
    let vnet = endpoint::vnet_of(&obj.spec.subnet_id);
    let endpoints: Vec<ArcPrivateEndpoint> = list_all::<ArcPrivateEndpoint>(client, &namespace)
        .await?
        .into_iter()
        .filter(|e| vnet.is_some() && endpoint::vnet_of(&e.spec.subnet_id) == vnet)
        .collect();
    let mut scopes = Vec::new();
    for e in &endpoints {
        if let (Some(r), Some(ns)) = (&e.spec.scope_ref, e.namespace()) {
            let api: Api<ArcPrivateLinkScope> = Api::namespaced(client.clone(), ns.as_str());
            scopes.extend(api.get_opt(&r.name).await?);
        }
    }
    let peers = peers(settings, obj, &endpoints, &scopes);
    Ok(EndpointDeps { scope, peers })
}

/// The endpoints created before `obj` (ties broken by namespace and name), with the scope each
/// connects to; endpoints whose scope is unknown are left out.
fn peers(
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
    endpoints: &[ArcPrivateEndpoint],
    scopes: &[ArcPrivateLinkScope],
) -> Vec<PeerEndpoint> {
    let key = |e: &ArcPrivateEndpoint| {
        (
            e.metadata.creation_timestamp.clone().map(|t| t.0),
            e.namespace(),
            e.name_any(),
        )
    };
    let mine = key(obj);
    endpoints
        .iter()
        .filter(|e| key(e) < mine)
        .filter_map(|e| {
            let scope_id = match (&e.spec.scope_ref, &e.spec.scope_id) {
                (Some(r), _) => scopes
                    .iter()
                    .find(|s| s.namespace() == e.namespace() && s.name_any() == r.name)
                    .and_then(|s| scope::scope_id(s, settings).ok())?
                    .to_string(),
                (None, Some(id)) => id.clone(),
                (None, None) => return None,
            };
            Some(PeerEndpoint {
                name: format!("{}/{}", e.namespace().unwrap_or_default(), e.name_any()),
                subnet_id: e.spec.subnet_id.clone(),
                scope_id,
            })
        })
        .collect()
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
    use crate::api::{ArcPrivateEndpointSpec, ArcPrivateLinkScopeSpec, AzureResource, ScopeRef};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn at(secs: i64) -> Option<Time> {
        Some(Time(jiff::Timestamp::from_second(secs).unwrap()))
    }

    fn endpoint(
        name: &str,
        created: i64,
        scope_ref: Option<&str>,
        scope_id: Option<&str>,
    ) -> ArcPrivateEndpoint {
        let mut e = ArcPrivateEndpoint::new(
            name,
            ArcPrivateEndpointSpec {
                azure: AzureResource {
                    subscription_id: Some("sub".into()),
                    resource_group: "rg".into(),
                    name: None,
                },
                location: "eastus".into(),
                subnet_id: format!(
                    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{name}-vnet/subnets/s"
                ),
                scope_ref: scope_ref.map(|n| ScopeRef { name: n.into() }),
                scope_id: scope_id.map(str::to_string),
                approval: Default::default(),
                approve_connection: false,
                request_message: None,
                private_dns: None,
                dns_export: None,
                tags: Default::default(),
                policy: Default::default(),
                suspend: false,
                credential_ref: None,
            },
        );
        e.metadata.namespace = Some("ns".into());
        e.metadata.creation_timestamp = at(created);
        e
    }

    #[test]
    fn only_earlier_endpoints_with_a_known_scope_are_peers() {
        let settings = Settings::new("c");
        let mut scope = ArcPrivateLinkScope::new(
            "s1",
            ArcPrivateLinkScopeSpec {
                azure: AzureResource {
                    subscription_id: Some("sub".into()),
                    resource_group: "rg-arc".into(),
                    name: Some("azure-s1".into()),
                },
                location: "eastus".into(),
                public_network_access: Default::default(),
                tags: Default::default(),
                policy: Default::default(),
                suspend: false,
                credential_ref: None,
            },
        );
        scope.metadata.namespace = Some("ns".into());
        let me = endpoint("me", 100, Some("s1"), None);
        let all = vec![
            endpoint("old-ref", 50, Some("s1"), None),
            endpoint(
                "old-id",
                60,
                None,
                Some(
                    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/x",
                ),
            ),
            endpoint("old-missing-scope", 70, Some("nope"), None),
            endpoint("a-same-time", 100, Some("s1"), None),
            endpoint("z-same-time", 100, Some("s1"), None),
            endpoint("newer", 200, Some("s1"), None),
            me.clone(),
        ];
        let peers = peers(&settings, &me, &all, &[scope]);
        let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ns/old-ref", "ns/old-id", "ns/a-same-time"]);
        assert_eq!(
            peers[0].scope_id,
            "/subscriptions/sub/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/azure-s1"
        );
        assert!(peers[1].scope_id.ends_with("/privateLinkScopes/x"));
    }

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
        let mut obj = endpoint("me", 1, Some("s1"), None);
        obj.metadata.uid = Some("uid-1".into());
        obj.spec.dns_export = Some(crate::api::endpoint::DnsExport {
            config_map_name: "arc-dns".into(),
        });
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
