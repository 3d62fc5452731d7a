//! The generic controller half of every kind: finalizer, credentials, status written only when
//! it changed, events on condition transitions, metrics, requeue. Each kind supplies its
//! reconcile core through [`Kind`].

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
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::Instrument;

use super::context::Context;
use super::credentials::CredentialError;
use super::error::Error;
use crate::api::conditions::{DRIFTED, READY, STALLED, find};
use crate::api::{CredentialRef, FINALIZER};
use crate::azure::ArmClient;
use crate::reconcile::phase::write_conditions;
use crate::reconcile::{Cleanup, DriftState, Outcome, Phase, Requeue};

/// Field manager of arclink's status writes (server-side apply).
pub const FIELD_MANAGER: &str = "arclink";

/// What the generic controller needs to know about a kind.
pub trait Kind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    type Status: Clone + Default + Serialize + Debug + Send + Sync + 'static;
    const KIND: &'static str;
    fn status(&self) -> Option<&Self::Status>;
    fn conditions(status: &mut Self::Status) -> &mut Vec<Condition>;
    fn set_observed_generation(status: &mut Self::Status, generation: Option<i64>);
    fn credential_ref(&self) -> Option<&CredentialRef>;
    fn suspended(&self) -> bool;
    fn drift_interval(&self, ctx: &Context) -> Duration;
    fn reconcile(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Outcome<Self::Status>>;
    fn cleanup(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Cleanup<Self::Status>>;
    /// Adds the watches this kind needs besides its own objects (referenced scopes, owned
    /// ConfigMaps, ...).
    fn configure(
        controller: Controller<Self>,
        _client: &kube::Client,
        _namespace: Option<&str>,
    ) -> Controller<Self> {
        controller
    }
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
        other => {
            tracing::warn!(kind = K::KIND, name = %obj.name_any(), namespace = ?obj.namespace(), error = %other, "reconcile failed");
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
    let interval = obj.drift_interval(&ctx);
    if obj.suspended() {
        let mut status = old.clone();
        stamp(&mut status, &*obj, &ctx, &Phase::Suspended);
        write_status(api, &*obj, &ctx, &old, &status, interval).await?;
        return Ok(Action::await_change());
    }
    let arm = match arm_client(&*obj, &ctx).await? {
        Ok(arm) => arm,
        Err(phase) => {
            let mut status = old.clone();
            stamp(&mut status, &*obj, &ctx, &phase);
            write_status(api, &*obj, &ctx, &old, &status, interval).await?;
            // Secrets are not watched (arclink may only `get` them), so look again soon.
            return Ok(Action::requeue(ctx.backoff(&key(&*obj))));
        }
    };
    let outcome = K::reconcile(arm, ctx.clone(), obj.clone()).await;
    match &outcome.drift {
        DriftState::Detected(_) => ctx.metrics.drift_detected(K::KIND),
        DriftState::Corrected(_) => {
            ctx.metrics.drift_detected(K::KIND);
            ctx.metrics.drift_corrected(K::KIND);
        }
        DriftState::InSync => {}
    }
    write_status(api, &*obj, &ctx, &old, &outcome.status, interval).await?;
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
    let interval = obj.drift_interval(&ctx);
    let arm = match arm_client(&*obj, &ctx).await? {
        Ok(arm) => arm,
        Err(phase) if obj.suspended() => {
            tracing::info!(kind = K::KIND, name = %obj.name_any(), reason = phase.reason(), "suspended object deleted without credentials; Azure left untouched");
            return Ok(Action::await_change());
        }
        Err(phase) => {
            let mut status = old.clone();
            stamp(&mut status, &*obj, &ctx, &phase);
            write_status(api, &*obj, &ctx, &old, &status, interval).await?;
            return Err(Error::CleanupPending(ctx.backoff(&key(&*obj))));
        }
    };
    match K::cleanup(arm, ctx.clone(), obj.clone()).await {
        Cleanup::Done(message) => {
            publish(&ctx, &*obj, EventType::Normal, "Deleted", &message).await;
            ctx.succeeded(&key(&*obj));
            Ok(Action::await_change())
        }
        Cleanup::Pending { status, requeue } => {
            write_status(api, &*obj, &ctx, &old, &status, interval).await?;
            let after = match requeue {
                Requeue::After(d) => d,
                Requeue::Backoff => ctx.backoff(&key(&*obj)),
            };
            Err(Error::CleanupPending(after))
        }
    }
}

/// The ARM client for `obj`, or the phase explaining why there is none; `Err` when the
/// credentials cannot be looked up right now (nothing to report, retry with backoff).
async fn arm_client<K: Kind>(obj: &K, ctx: &Context) -> Result<Result<ArmClient, Phase>, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    match ctx
        .arm
        .for_object(&ctx.client, &namespace, obj.credential_ref())
        .await
    {
        Ok(arm) => Ok(Ok(arm)),
        Err(CredentialError::NotFound(m)) => Ok(Err(Phase::stalled("CredentialsNotFound", m))),
        Err(CredentialError::Invalid(m)) => Ok(Err(Phase::stalled("AuthenticationFailed", m))),
        Err(CredentialError::Unavailable(m)) => Err(Error::CredentialsUnavailable(m)),
    }
}

/// Sets the conditions for a phase decided without reading Azure (suspended, no credentials):
/// `Drifted` keeps what the last read of Azure said, since nothing was compared now.
fn stamp<K: Kind>(status: &mut K::Status, obj: &K, ctx: &Context, phase: &Phase) {
    let generation = obj.meta().generation;
    K::set_observed_generation(status, generation);
    let conditions = K::conditions(status);
    let drifted = find(conditions, DRIFTED).cloned();
    write_conditions(
        conditions,
        phase,
        &DriftState::InSync,
        generation,
        jiff::Timestamp::now(),
        ctx.settings.note.as_deref(),
    );
    conditions.retain(|c| c.type_ != DRIFTED);
    conditions.extend(drifted);
}

/// Writes `new` (server-side apply on the status subresource) unless it says the same as `old`.
/// `lastSyncTime` alone does not justify a write until half the drift interval has passed, so
/// that a status write never triggers an endless chain of reconciles.
async fn write_status<K: Kind>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
    old: &K::Status,
    new: &K::Status,
    interval: Duration,
) -> Result<(), Error> {
    let old_json = serde_json::to_value(old)?;
    let mut new_json = serde_json::to_value(new)?;
    if !status_changed(&old_json, &mut new_json, interval) {
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

/// Whether `new` must be written; keeps the old `lastSyncTime` in `new` when that is the only
/// difference and it is recent.
pub fn status_changed(old: &Value, new: &mut Value, interval: Duration) -> bool {
    let old_sync = old.get("lastSyncTime").cloned();
    let mut candidate = new.clone();
    match (candidate.as_object_mut(), &old_sync) {
        (Some(map), Some(sync)) => {
            map.insert("lastSyncTime".into(), sync.clone());
        }
        (Some(map), None) => {
            map.remove("lastSyncTime");
        }
        _ => {}
    }
    if candidate != *old {
        return true;
    }
    let recent = old_sync
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .is_some_and(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs() < interval / 2);
    if recent || new.get("lastSyncTime").is_none() {
        *new = candidate;
        return false;
    }
    true
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
    fn last_sync_time_alone_does_not_write_while_recent() {
        let now = jiff::Timestamp::now();
        let old = json!({"resourceId": "x", "lastSyncTime": now.to_string()});
        let mut new = json!({"resourceId": "x", "lastSyncTime": (now + jiff::SignedDuration::from_secs(5)).to_string()});
        assert!(!status_changed(&old, &mut new, Duration::from_secs(600)));
        assert_eq!(new["lastSyncTime"], old["lastSyncTime"]);
        let mut changed = json!({"resourceId": "y", "lastSyncTime": now.to_string()});
        assert!(status_changed(&old, &mut changed, Duration::from_secs(600)));
        let stale = json!({"resourceId": "x", "lastSyncTime": (now - jiff::SignedDuration::from_secs(400)).to_string()});
        let mut fresh = json!({"resourceId": "x", "lastSyncTime": now.to_string()});
        assert!(status_changed(&stale, &mut fresh, Duration::from_secs(600)));
    }
}
