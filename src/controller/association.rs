//! `ArcServerAssociation` in the controller: finds the referenced scope and the other
//! associations of the cluster (claims on machines) so the reconcile core decides conflicts
//! between objects without talking to Kubernetes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};

use super::context::Context;
use super::kind::Kind;
use super::run::api;
use crate::api::conditions::{DRIFTED, find};
use crate::api::{
    ArcPrivateLinkScope, ArcServerAssociation, ArcServerAssociationStatus, CredentialRef,
};
use crate::azure::ArmClient;
use crate::reconcile::association::{self, AssociationDeps, Claim};
use crate::reconcile::phase::write_conditions;
use crate::reconcile::scope_ref::ScopeSource;
use crate::reconcile::{Cleanup, DriftState, Outcome, Phase, Requeue, scope};

/// The controller's cache of ArcServerAssociation objects, read for claims. Set by `configure`
/// when the controller starts (the kube-runtime store is only reachable from the Controller).
static ASSOCIATIONS: Mutex<Option<Store<ArcServerAssociation>>> = Mutex::new(None);

fn associations() -> Vec<Arc<ArcServerAssociation>> {
    ASSOCIATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(Store::state)
        .unwrap_or_default()
}

impl Kind for ArcServerAssociation {
    type Status = ArcServerAssociationStatus;
    const KIND: &'static str = association::KIND;

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
        association::drift_interval(self, &ctx.settings)
    }
    fn reconcile(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Outcome<Self::Status>> {
        async move {
            match deps(&ctx, &obj).await {
                Ok(deps) => association::reconcile(&arm, &ctx.settings, &obj, &deps).await,
                Err(message) => {
                    let mut status = obj.status.clone().unwrap_or_default();
                    status.observed_generation = obj.metadata.generation;
                    let phase = Phase::progressing("KubernetesUnavailable", message);
                    stamp(&mut status, &obj, &ctx, &phase);
                    Outcome {
                        status,
                        requeue: Requeue::Backoff,
                        drift: DriftState::InSync,
                        changes: Vec::new(),
                    }
                }
            }
        }
        .boxed()
    }
    fn cleanup(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Cleanup<Self::Status>> {
        async move {
            match deps(&ctx, &obj).await {
                Ok(deps) => association::cleanup(&arm, &ctx.settings, &obj, &deps).await,
                Err(message) => {
                    let mut status = obj.status.clone().unwrap_or_default();
                    let phase = Phase::progressing("KubernetesUnavailable", message);
                    stamp(&mut status, &obj, &ctx, &phase);
                    Cleanup::Pending {
                        status,
                        requeue: Requeue::Backoff,
                    }
                }
            }
        }
        .boxed()
    }
    /// Reconciles the associations that reference a scope when that scope changes (for
    /// example when it becomes Ready), and the associations of the same resource group when
    /// another association's spec changes or it is deleted (its claims on machines go).
    fn configure(
        controller: Controller<Self>,
        client: &kube::Client,
        namespace: Option<&str>,
    ) -> Controller<Self> {
        let store = controller.store();
        *ASSOCIATIONS.lock().unwrap_or_else(|e| e.into_inner()) = Some(store.clone());
        let by_scope = store.clone();
        let generations: Mutex<HashMap<String, Option<i64>>> = Mutex::new(HashMap::new());
        controller
            .watches(
                api::<ArcPrivateLinkScope>(client, namespace),
                watcher::Config::default(),
                move |scope: ArcPrivateLinkScope| {
                    let namespace = scope.namespace();
                    let name = scope.name_any();
                    by_scope
                        .state()
                        .into_iter()
                        .filter(|a| {
                            a.namespace() == namespace
                                && a.spec.scope_ref.as_ref().is_some_and(|r| r.name == name)
                        })
                        .map(|a| ObjectRef::from_obj(&*a))
                        .collect::<Vec<_>>()
                },
            )
            .watches(
                api::<ArcServerAssociation>(client, namespace),
                watcher::Config::default(),
                move |changed: ArcServerAssociation| {
                    // Status writes do not change claims: only spec changes and deletion do.
                    let key = association::object_key(&changed);
                    let deleting = changed.metadata.deletion_timestamp.is_some();
                    let generation = changed.metadata.generation;
                    let mut seen = generations.lock().unwrap_or_else(|e| e.into_inner());
                    if deleting {
                        seen.remove(&key);
                    } else if seen.insert(key.clone(), generation) == Some(generation) {
                        return Vec::new();
                    }
                    drop(seen);
                    let group = &changed.spec.machines.resource_group;
                    store
                        .state()
                        .into_iter()
                        .filter(|a| {
                            association::object_key(a) != key
                                && a.spec.machines.resource_group.eq_ignore_ascii_case(group)
                        })
                        .map(|a| ObjectRef::from_obj(&*a))
                        .collect::<Vec<_>>()
                },
            )
    }
}

/// Conditions for a phase decided without reading Azure: `Drifted` keeps what the last read
/// said.
fn stamp(
    status: &mut ArcServerAssociationStatus,
    obj: &ArcServerAssociation,
    ctx: &Context,
    phase: &Phase,
) {
    let drifted = find(&status.conditions, DRIFTED).cloned();
    write_conditions(
        &mut status.conditions,
        phase,
        &DriftState::InSync,
        obj.metadata.generation,
        jiff::Timestamp::now(),
        ctx.settings.note.as_deref(),
    );
    status.conditions.retain(|c| c.type_ != DRIFTED);
    status.conditions.extend(drifted);
}

/// Scope objects read during one reconcile, by `namespace/name` (`None`: does not exist).
type Scopes = HashMap<String, Option<Box<ArcPrivateLinkScope>>>;

async fn scope_object(
    ctx: &Context,
    scopes: &mut Scopes,
    namespace: &str,
    name: &str,
) -> Result<Option<Box<ArcPrivateLinkScope>>, String> {
    let key = format!("{namespace}/{name}");
    if let Some(found) = scopes.get(&key) {
        return Ok(found.clone());
    }
    let found = Api::<ArcPrivateLinkScope>::namespaced(ctx.client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| format!("reading ArcPrivateLinkScope {key}: {e}"))?
        .map(Box::new);
    scopes.insert(key, found.clone());
    Ok(found)
}

/// The object's scope source and the claims of the other associations on the same resource
/// group; an error message when Kubernetes could not be read (then nothing is written, so a
/// missed older claim can never cause a write).
async fn deps(ctx: &Context, obj: &ArcServerAssociation) -> Result<AssociationDeps, String> {
    let mut scopes = Scopes::new();
    let namespace = obj.namespace().unwrap_or_default();
    let source = match (&obj.spec.scope_ref, &obj.spec.scope_id) {
        (Some(r), _) => ScopeSource::Ref {
            name: r.name.clone(),
            object: scope_object(ctx, &mut scopes, &namespace, &r.name).await?,
        },
        (None, Some(id)) => ScopeSource::Id(id.clone()),
        (None, None) => ScopeSource::Id(String::new()),
    };
    let me = association::object_key(obj);
    let group = &obj.spec.machines.resource_group;
    let mut claims: Vec<Claim> = Vec::new();
    for other in associations() {
        // An object being deleted gives its machines up (Detach clears only machines still in
        // its own scope, so the two never write the same machine back and forth).
        if association::object_key(&other) == me
            || other.metadata.deletion_timestamp.is_some()
            || !other
                .spec
                .machines
                .resource_group
                .eq_ignore_ascii_case(group)
        {
            continue;
        }
        let scope_id = match (&other.spec.scope_ref, &other.spec.scope_id) {
            (_, Some(id)) => Some(id.clone()),
            (Some(r), None) => {
                let ns = other.namespace().unwrap_or_default();
                scope_object(ctx, &mut scopes, &ns, &r.name)
                    .await?
                    .and_then(|s| scope::scope_id(&s, &ctx.settings).ok())
                    .map(|id| id.to_string())
            }
            (None, None) => None,
        };
        if let Some(scope_id) = scope_id {
            claims.push(association::claim(&other, scope_id));
        }
    }
    Ok(AssociationDeps {
        scope: source,
        claims,
        budget: Default::default(),
    })
}
