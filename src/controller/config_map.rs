//! The ConfigMaps arclink writes for an object (an endpoint's `dnsExport`, a scope's
//! `onboarding`): in the object's namespace, owned by it (controller owner reference, so
//! Kubernetes deletes them with it), labelled so the controller watches only those, written by
//! server-side apply only when the data changed. A ConfigMap of that name that the object does
//! not own is left alone.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Controller;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::Context;
use super::kind::{FIELD_MANAGER, Kind, Watch};
use crate::api::ManagedStatus;
use crate::reconcile::phase::write_conditions;
use crate::reconcile::{Outcome, Phase, Requeue};

/// Label on the ConfigMaps arclink writes (the controller watches only those).
pub const MANAGED_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "arclink");

/// Why a ConfigMap was not written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigMapError {
    #[error(
        "ConfigMap {name} ({field}) exists and is not owned by this {kind}; arclink will not overwrite it"
    )]
    NotOwned {
        /// `namespace/name`.
        name: String,
        field: &'static str,
        kind: String,
    },
    #[error("the object has no uid yet")]
    NoUid,
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// Watches the labelled ConfigMaps `K` owns, so that a ConfigMap deleted or edited by hand is
/// written again.
pub fn watch_owned<K: Kind>(controller: Controller<K>, watch: &Watch<'_>) -> Controller<K> {
    let (key, value) = MANAGED_LABEL;
    controller.owns(
        watch.api::<ConfigMap>(),
        watcher::Config::default().labels(&format!("{key}={value}")),
    )
}

/// Writes ConfigMap `name` with `data` for `obj` when its content changed.
pub async fn write<K: Resource<DynamicType = ()>>(
    client: &kube::Client,
    obj: &K,
    name: &str,
    field: &'static str,
    data: &BTreeMap<String, String>,
) -> Result<(), ConfigMapError> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let owner = OwnerReference {
        api_version: K::api_version(&()).to_string(),
        kind: K::kind(&()).to_string(),
        name: obj.name_any(),
        uid: obj.uid().ok_or(ConfigMapError::NoUid)?,
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
            return Err(ConfigMapError::NotOwned {
                name: format!("{namespace}/{name}"),
                field,
                kind: K::kind(&()).to_string(),
            });
        }
        if existing.data.as_ref() == Some(data) {
            return Ok(());
        }
    }
    let (key, value) = MANAGED_LABEL;
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

/// What a failed write does to the outcome: a ConfigMap owned by someone else stalls the
/// object (`ConfigMapOwnedElsewhere`); other failures are retried with backoff.
pub fn settle<'a, K: Kind>(
    ctx: &'a Context,
    obj: &'a K,
    outcome: &'a mut Outcome<K::Status>,
    what: &'a str,
    result: BoxFuture<'a, Result<(), ConfigMapError>>,
) -> BoxFuture<'a, ()> {
    Box::pin(async move {
        match result.await {
            Ok(()) => {}
            Err(e @ ConfigMapError::NotOwned { .. }) => {
                write_conditions(
                    &mut outcome.status.common_mut().conditions,
                    &Phase::stalled("ConfigMapOwnedElsewhere", e.to_string()),
                    &outcome.drift,
                    obj.meta().generation,
                    jiff::Timestamp::now(),
                    ctx.settings.note.as_deref(),
                );
            }
            Err(e) => {
                tracing::warn!(kind = K::KIND, namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %e, "writing the {what} ConfigMap failed");
                outcome.requeue = Requeue::Backoff;
            }
        }
    })
}

/// A scripted API server for the unit tests of the controller's Kubernetes writes.
#[cfg(test)]
pub(crate) mod testing {
    use http::{Request, Response};
    use kube::client::Body;
    use serde_json::{Value, json};
    use tokio::task::JoinHandle;
    use tower_test::mock::{Handle, SendResponse};

    /// The API server of a unit test: the test takes each request in turn and answers it.
    pub(crate) struct ApiServer(Handle<Request<Body>, Response<Body>>);

    /// A client of namespace `ns` and the API server it talks to. Dropping the server makes every
    /// request fail.
    pub(crate) fn client() -> (kube::Client, ApiServer) {
        let (service, handle) = tower_test::mock::pair();
        (kube::Client::new(service, "ns"), ApiServer(handle))
    }

    /// A client whose API server runs `script` on a task of its own (await it to see the
    /// script's assertions).
    pub(crate) fn serve<F>(script: impl FnOnce(ApiServer) -> F) -> (kube::Client, JoinHandle<()>)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (client, api) = client();
        (client, tokio::spawn(script(api)))
    }

    impl ApiServer {
        /// The next request, and where to send its response.
        pub(crate) async fn next(&mut self) -> (Request<Body>, SendResponse<Response<Body>>) {
            self.0
                .next_request()
                .await
                .expect("the client sent a request")
        }
    }

    /// A response with a JSON body.
    pub(crate) fn respond(status: u16, body: Value) -> Response<Body> {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap()
    }

    /// The API server's answer to a GET of an object that does not exist.
    pub(crate) fn not_found() -> Response<Body> {
        respond(
            404,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}),
        )
    }

    /// ConfigMap `name` in `ns` with data, owned by no arclink object.
    pub(crate) fn foreign_config_map(name: &str) -> Response<Body> {
        respond(
            200,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": {"x": "y"}}),
        )
    }

    /// The JSON body of a request.
    pub(crate) async fn body_of(req: Request<Body>) -> Value {
        serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap()).unwrap()
    }

    /// Asserts that `config_map` is one arclink writes for the `kind` object of uid `uid-1`:
    /// owned by it as its controller, and labelled so the controller watches it.
    pub(crate) fn assert_written_for(config_map: &Value, kind: &str) {
        let owner = &config_map["metadata"]["ownerReferences"][0];
        assert_eq!(
            (
                owner["kind"].as_str(),
                owner["uid"].as_str(),
                owner["controller"].as_bool()
            ),
            (Some(kind), Some("uid-1"), Some(true))
        );
        assert_eq!(
            config_map["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "arclink"
        );
    }
}
