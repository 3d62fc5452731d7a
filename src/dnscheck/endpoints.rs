//! Where the endpoints and their status come from: the cluster, or manifests whose status is
//! what a dry-run reconcile reads from Azure (the machinery of `arclink plan`).

use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

use super::DnsCheckArgs;
use crate::api::ArcPrivateEndpoint;
use crate::connect::target;
use crate::offline::object::Object;
use crate::offline::{manifest, plan};

/// Which endpoints to check: `--namespace` and `--endpoint`, each unset meaning any.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub namespace: Option<String>,
    pub endpoint: Option<String>,
}

impl Selection {
    pub fn matches(&self, e: &ArcPrivateEndpoint) -> bool {
        let namespace = e.namespace().unwrap_or_default();
        self.namespace.as_deref().is_none_or(|n| n == namespace)
            && self.endpoint.as_deref().is_none_or(|n| n == e.name_any())
    }

    /// The endpoints of `all` that are selected; an error naming the selection when none is.
    pub fn select<'a>(
        &self,
        all: &'a [ArcPrivateEndpoint],
        source: &str,
    ) -> Result<Vec<&'a ArcPrivateEndpoint>, String> {
        let selected: Vec<&ArcPrivateEndpoint> = all.iter().filter(|e| self.matches(e)).collect();
        if !selected.is_empty() {
            return Ok(selected);
        }
        let name = self
            .endpoint
            .as_deref()
            .map(|n| format!(" named {n:?}"))
            .unwrap_or_default();
        let namespace = match &self.namespace {
            Some(n) => format!("namespace {n:?}"),
            None => "any namespace".into(),
        };
        Err(format!(
            "no ArcPrivateEndpoint{name} in {namespace} of {source}"
        ))
    }
}

/// The ArcPrivateEndpoints of `namespace` (all namespaces when `None`), as stored.
pub async fn from_cluster(
    client: Client,
    namespace: Option<&str>,
) -> Result<Vec<ArcPrivateEndpoint>, String> {
    let api: Api<ArcPrivateEndpoint> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let scope = match namespace {
        Some(ns) => format!("in namespace {ns:?}"),
        None => "in all namespaces (narrow with --namespace)".into(),
    };
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(format!(
            "listing ArcPrivateEndpoints {scope}: the cluster does not know the kind (install the CRDs: arclink crds | kubectl apply -f -)"
        )),
        Err(kube::Error::Api(status)) if status.code == 403 => Err(format!(
            "listing ArcPrivateEndpoints {scope} is forbidden: {}",
            status.message
        )),
        Err(e) => Err(format!("listing ArcPrivateEndpoints {scope}: {e}")),
    }
}

/// The ArcPrivateEndpoints of the manifests, with the status a dry-run reconcile of every
/// scope and endpoint gives them against Azure or the embedded emulator (never written to).
pub async fn from_manifests(args: &DnsCheckArgs) -> Result<Vec<ArcPrivateEndpoint>, Vec<String>> {
    let offline = args.offline();
    let mut manifests = manifest::load(&offline.files, offline.arm.azure.default_subscription())
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    // Associations neither feed an endpoint's status nor are checked: not worth ARM's reads.
    manifests
        .objects
        .retain(|d| !matches!(d.object, Object::Association(_)));
    plan::print_notes(&manifests);
    let target = offline
        .arm
        .connect()
        .await
        .map_err(|e| vec![e.to_string()])?;
    let emulator = target.emulator.is_some();
    let settings = offline.settings(emulator, true);
    let (_, objects) = plan::plan_objects(&target.arm, &settings, manifests, emulator).await;
    target::Target::finish(target)
        .await
        .map_err(|e| vec![e.to_string()])?;
    Ok(objects
        .into_iter()
        .filter_map(|d| match d.object {
            Object::Endpoint(e) => Some(std::sync::Arc::unwrap_or_clone(e)),
            _ => None,
        })
        .collect())
}
