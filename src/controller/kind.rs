//! The generic controller half of every kind: finalizer, credentials, what else is declared,
//! status written only when it changed, events on condition transitions, metrics, requeue. The
//! Azure work is the reconcile engine's ([`crate::reconcile::engine`]); a kind adds only its
//! extra watches and its own Kubernetes writes through [`Kind`].

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::Instrument;

use super::context::{Context, Stores};
use super::error::Error;
use super::run::api;
use crate::api::conditions::{DRIFTED, READY, STALLED, find};
use crate::api::{FINALIZER, ManagedStatus};
use crate::azure::ArmClient;
use crate::connect::credentials::CredentialError;
use crate::reconcile::declared::{Declares, Dependent};
use crate::reconcile::engine::Managed;
use crate::reconcile::phase::write_conditions;
use crate::reconcile::{self, Cleanup, Drift, Outcome, Phase, Requeue};

/// When to retry after a benign race ([`Error::is_benign`]).
const BENIGN_RETRY: Duration = Duration::from_secs(1);

/// Field manager of arclink's status writes (server-side apply).
pub const FIELD_MANAGER: &str = "arclink";

/// What the controller needs besides the reconcile engine's [`Managed`].
pub trait Kind:
    Managed<Deps: 'static>
    + Dependent
    + Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + 'static
{
    /// Adds the watches this kind needs besides its own objects (referenced scopes, owned
    /// ConfigMaps, rival associations).
    fn configure(controller: Controller<Self>, _watch: &Watch<'_>) -> Controller<Self> {
        controller
    }

    /// The kind's own Kubernetes writes after a reconcile (the endpoint's `dnsExport`
    /// ConfigMap); they may change the outcome.
    fn after<'a>(
        _ctx: &'a Context,
        _obj: &'a Self,
        _outcome: &'a mut Outcome<Self::Status>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// Where the controllers watch: the cluster, the namespace (every namespace when `None`), and
/// the caches of the kinds, in which a watch finds the objects a change concerns.
pub struct Watch<'a> {
    pub client: &'a kube::Client,
    pub namespace: Option<&'a str>,
    pub declared: &'a Stores,
}

impl Watch<'_> {
    /// The objects of kind `K` where the controllers watch.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        api(self.client, self.namespace)
    }
}

/// Adds a watch of the objects of kind `R` that re-reconciles the objects of `K` referring to a
/// changed one: those in its namespace whose `refers_to` names it.
pub fn watch_referrers<K: Kind, R: Kind>(
    controller: Controller<K>,
    watch: &Watch<'_>,
    refers_to: fn(&K) -> Option<&str>,
) -> Controller<K>
where
    Stores: Declares<K>,
{
    let declared = watch.declared.clone();
    controller.watches(
        watch.api::<R>(),
        watcher::Config::default(),
        move |referred: R| {
            let namespace = referred.namespace();
            let name = referred.name_any();
            Declares::<K>::all(&declared)
                .into_iter()
                .filter(|o| o.namespace() == namespace && refers_to(o) == Some(name.as_str()))
                .map(|o| ObjectRef::from_obj(&*o))
                .collect::<Vec<_>>()
        },
    )
}

/// Reconciles one object of kind `K`: the entry point handed to kube-runtime's Controller.
pub async fn reconcile<K: Kind>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let timer = ctx.metrics.reconcile_started(K::KIND);
    // Every line logged inside (ARM requests included) names the object.
    let span = tracing::info_span!("reconcile", kind = K::KIND, namespace = %namespace, object = %obj.name_any());
    let result = finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            FinalizerEvent::Apply(obj) => apply(&api, obj, ctx.clone()).await,
            FinalizerEvent::Cleanup(obj) => cleanup(&api, obj, ctx.clone()).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(inner)
        | kube::runtime::finalizer::Error::CleanupFailed(inner) => inner,
        other => Error::Finalizer(Box::new(other)),
    });
    timer.finish(match &result {
        Ok(_) => "success",
        Err(e) => e.metric_label(),
    });
    result
}

/// What to do after a failed reconcile: pending clean-ups come back when due, others back off.
pub fn error_policy<K: Kind>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action {
    match err {
        Error::CleanupPending(after) => Action::requeue(*after),
        benign if benign.is_benign() => {
            tracing::debug!(kind = K::KIND, namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %benign, "reconcile raced with another change; retrying");
            Action::requeue(BENIGN_RETRY)
        }
        other => {
            tracing::warn!(kind = K::KIND, namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %other, "reconcile failed");
            Action::requeue(ctx.backoff(&key(&*obj)))
        }
    }
}

fn key<K: Kind>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::KIND,
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

async fn apply<K: Kind>(api: &Api<K>, obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let old = obj.status().cloned().unwrap_or_default();
    if obj.common().suspend {
        let mut status = old.clone();
        stamp(&mut status, &*obj, &ctx, &Phase::Suspended);
        write_status(api, &*obj, &ctx, &old, &status).await?;
        return Ok(Action::await_change());
    }
    let (arm, deps) = match prepare(&*obj, &ctx).await? {
        Ok(ready) => ready,
        Err(phase) => {
            let mut status = old.clone();
            stamp(&mut status, &*obj, &ctx, &phase);
            write_status(api, &*obj, &ctx, &old, &status).await?;
            // Secrets are not watched (arclink may only `get` them), so look again soon.
            return Ok(Action::requeue(ctx.backoff(&key(&*obj))));
        }
    };
    let state = ctx.states.of::<K>();
    let mut outcome = reconcile::reconcile(&arm, &ctx.settings, &*state, &*obj, &deps).await;
    K::after(&ctx, &obj, &mut outcome).await;
    for notice in &outcome.notices {
        publish(
            &ctx,
            &*obj,
            EventType::Warning,
            &notice.reason,
            &notice.message,
        )
        .await;
    }
    if outcome.drift.is_detected() {
        ctx.metrics.drift_detected(K::KIND);
    }
    if outcome.drift.is_corrected() {
        ctx.metrics.drift_corrected(K::KIND);
    }
    write_status(api, &*obj, &ctx, &old, &outcome.status).await?;
    Ok(match outcome.requeue {
        Requeue::After(d) => {
            ctx.succeeded(&key(&*obj));
            Action::requeue(d)
        }
        Requeue::Backoff => Action::requeue(ctx.backoff(&key(&*obj))),
    })
}

async fn cleanup<K: Kind>(api: &Api<K>, obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let old = obj.status().cloned().unwrap_or_default();
    let (arm, deps) = match prepare(&*obj, &ctx).await? {
        Ok(ready) => ready,
        Err(phase) if obj.common().suspend => {
            tracing::info!(kind = K::KIND, name = %obj.name_any(), reason = phase.reason(), "suspended object deleted without credentials; Azure left untouched");
            return Ok(Action::await_change());
        }
        Err(phase) => {
            let mut status = old.clone();
            stamp(&mut status, &*obj, &ctx, &phase);
            write_status(api, &*obj, &ctx, &old, &status).await?;
            return Err(Error::CleanupPending(ctx.backoff(&key(&*obj))));
        }
    };
    let state = ctx.states.of::<K>();
    match reconcile::cleanup(&arm, &ctx.settings, &*state, &*obj, &deps).await {
        Cleanup::Done(message) => {
            publish(&ctx, &*obj, EventType::Normal, "Deleted", &message).await;
            ctx.succeeded(&key(&*obj));
            Ok(Action::await_change())
        }
        Cleanup::Pending { status, requeue } => {
            write_status(api, &*obj, &ctx, &old, &status).await?;
            let after = match requeue {
                Requeue::After(d) => d,
                Requeue::Backoff => ctx.backoff(&key(&*obj)),
            };
            Err(Error::CleanupPending(after))
        }
    }
}

/// The ARM client and what else is declared for `obj`, or the phase explaining why a reconcile
/// cannot read Azure now; `Err` when the credentials cannot be looked up right now (nothing to
/// report, retry with backoff).
async fn prepare<K: Kind>(
    obj: &K,
    ctx: &Context,
) -> Result<Result<(ArmClient, K::Deps), Phase>, Error> {
    let arm = match arm_client(obj, ctx).await? {
        Ok(arm) => arm,
        Err(phase) => return Ok(Err(phase)),
    };
    if !ctx.declared.synced() {
        return Ok(Err(Phase::progressing(
            "KubernetesUnavailable",
            "the controller's caches of the arclink objects are not synced with the API server yet",
        )));
    }
    Ok(Ok((arm, obj.deps(&ctx.declared, &ctx.settings))))
}

/// The ARM client for `obj`, or the phase explaining why there is none; `Err` when the
/// credentials cannot be looked up right now (nothing to report, retry with backoff).
async fn arm_client<K: Kind>(obj: &K, ctx: &Context) -> Result<Result<ArmClient, Phase>, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    match ctx
        .arm
        .for_object(&ctx.client, &namespace, obj.common().credential_ref)
        .await
    {
        Ok(arm) => Ok(Ok(arm)),
        Err(CredentialError::NotFound(m)) => Ok(Err(Phase::stalled("CredentialsNotFound", m))),
        Err(CredentialError::Invalid(m)) => Ok(Err(Phase::stalled("AuthenticationFailed", m))),
        Err(CredentialError::Unavailable(m)) => Err(Error::CredentialsUnavailable(m)),
    }
}

/// Sets the conditions for a phase decided without reading Azure (suspended, no credentials,
/// caches not synced): `Drifted` keeps what the last read of Azure said.
fn stamp<K: Kind>(status: &mut K::Status, obj: &K, ctx: &Context, phase: &Phase) {
    let generation = obj.meta().generation;
    let common = status.common_mut();
    common.observed_generation = generation;
    write_conditions(
        &mut common.conditions,
        phase,
        &Drift::default(),
        generation,
        jiff::Timestamp::now(),
        ctx.settings.note.as_deref(),
    );
}

/// Writes `new` (server-side apply on the status subresource) unless it says the same as `old`.
/// A newer `lastSyncTime` alone does not justify a write: in steady state nothing is written,
/// so neither the API server nor the watchers of GitOps tools see a change per object and
/// drift check. `lastSyncTime` is the time of the last reconcile that changed the status.
async fn write_status<K: Kind>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
    old: &K::Status,
    new: &K::Status,
) -> Result<(), Error> {
    let old_json = serde_json::to_value(old)?;
    let new_json = serde_json::to_value(new)?;
    if !status_changed(&old_json, &new_json) {
        return Ok(());
    }
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": new_json,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    transitions(ctx, obj, &old_json, &new_json).await;
    Ok(())
}

/// Whether `new` says something `old` does not, `lastSyncTime` aside.
pub fn status_changed(old: &Value, new: &Value) -> bool {
    let without_sync = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("lastSyncTime");
        }
        v
    };
    without_sync(old) != without_sync(new)
}

/// Publishes an event for each transition of Ready, Stalled or Drifted.
async fn transitions<K: Kind>(ctx: &Context, obj: &K, old: &Value, new: &Value) {
    let conds = |v: &Value| -> Vec<Condition> {
        v.get("conditions")
            .cloned()
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default()
    };
    let (old_c, new_c) = (conds(old), conds(new));
    // Ready=False and Stalled=True usually carry the same reason and message; one event says it.
    let mut published: Vec<(bool, &str, &str)> = Vec::new();
    for t in [READY, STALLED, DRIFTED] {
        let Some(n) = find(&new_c, t) else { continue };
        let changed = find(&old_c, t).is_none_or(|o| o.status != n.status || o.reason != n.reason);
        if !changed || (t != READY && n.status != "True" && n.reason != "DriftCorrected") {
            continue;
        }
        let warning = (t == READY
            && n.status != "True"
            && matches!(find(&new_c, STALLED), Some(s) if s.status == "True"))
            || (t != READY && n.status == "True");
        if published.contains(&(warning, n.reason.as_str(), n.message.as_str())) {
            continue;
        }
        published.push((warning, n.reason.as_str(), n.message.as_str()));
        let type_ = if warning {
            EventType::Warning
        } else {
            EventType::Normal
        };
        publish(ctx, obj, type_, &n.reason, &n.message).await;
    }
}

/// The API server rejects an events.k8s.io/v1 Event whose note exceeds 1 kB; ARM messages can be
/// longer and are not always ASCII, so cut at a character boundary within 1024 bytes.
fn event_note(note: &str) -> &str {
    const MAX: usize = 1024;
    if note.len() <= MAX {
        return note;
    }
    let end = (0..=MAX)
        .rev()
        .find(|&i| note.is_char_boundary(i))
        .unwrap_or(0);
    &note[..end]
}

async fn publish<K: Kind>(ctx: &Context, obj: &K, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(event_note(note).to_string()),
        action: "Reconcile".to_string(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(kind = K::KIND, name = %obj.name_any(), error = %e, "publishing event failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_notes_fit_the_api_server_limit_in_bytes() {
        assert_eq!(event_note("short"), "short");
        let long = "µ".repeat(1000);
        let note = event_note(&long);
        assert!(note.len() <= 1024, "{} bytes", note.len());
        assert_eq!(note.chars().count(), 512);
        assert_eq!(event_note(&"a".repeat(2000)).len(), 1024);
    }

    #[test]
    fn last_sync_time_alone_is_never_written() {
        let now = jiff::Timestamp::now();
        let old = json!({"resourceId": "x", "lastSyncTime": now.to_string()});
        let days_later = json!({"resourceId": "x", "lastSyncTime": (now + jiff::SignedDuration::from_hours(48)).to_string()});
        assert!(!status_changed(&old, &days_later));
        let changed = json!({"resourceId": "y", "lastSyncTime": now.to_string()});
        assert!(status_changed(&old, &changed));
        assert!(status_changed(&json!({}), &old));
    }
}
