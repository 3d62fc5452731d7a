//! The per-kind half of `plan`/`apply`: typing a manifest, and one reconcile step of an object
//! with its status kept in memory (there is no Kubernetes to store it).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use serde_json::Value;

use super::manifest::{Declared, ObjectKey};
use crate::api::ScopeRef;
use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation};
use crate::azure::ArmClient;
use crate::reconcile::association::{AssociationDeps, Claim};
use crate::reconcile::endpoint::{EndpointDeps, PeerEndpoint};
use crate::reconcile::phase::write_conditions;
use crate::reconcile::scope_ref::ScopeSource;
use crate::reconcile::{self, Change, DriftState, Outcome, Phase, Requeue, Settings};

/// The arclink kinds, in dependency order.
pub const KINDS: [&str; 3] = [
    reconcile::scope::KIND,
    reconcile::endpoint::KIND,
    reconcile::association::KIND,
];

/// A declared object of one of the kinds.
#[derive(Clone, Debug)]
pub enum Object {
    Scope(Box<ArcPrivateLinkScope>),
    Endpoint(Box<ArcPrivateEndpoint>),
    Association(Box<ArcServerAssociation>),
}

impl Object {
    /// Types a validated document of `kind`.
    pub fn from_value(kind: &str, value: Value) -> Result<Object, String> {
        let typed = match kind {
            "ArcPrivateLinkScope" => {
                serde_json::from_value(value).map(|o| Object::Scope(Box::new(o)))
            }
            "ArcPrivateEndpoint" => {
                serde_json::from_value(value).map(|o| Object::Endpoint(Box::new(o)))
            }
            "ArcServerAssociation" => {
                serde_json::from_value(value).map(|o| Object::Association(Box::new(o)))
            }
            other => return Err(format!("kind {other:?} is not an arclink kind")),
        };
        typed.map_err(|e| e.to_string())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Object::Scope(_) => KINDS[0],
            Object::Endpoint(_) => KINDS[1],
            Object::Association(_) => KINDS[2],
        }
    }

    fn meta(&self) -> &kube::api::ObjectMeta {
        match self {
            Object::Scope(o) => &o.metadata,
            Object::Endpoint(o) => &o.metadata,
            Object::Association(o) => &o.metadata,
        }
    }

    pub fn key(&self) -> ObjectKey {
        let meta = self.meta();
        ObjectKey {
            kind: self.kind().to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        }
    }

    /// Dependency order first (scopes, endpoints, associations), then namespace and name.
    pub fn sort_key(&self) -> (usize, String, String) {
        let key = self.key();
        let rank = KINDS
            .iter()
            .position(|k| *k == key.kind)
            .unwrap_or(KINDS.len());
        (rank, key.namespace, key.name)
    }

    /// `spec.scopeRef.name`, for kinds that point at a scope.
    pub fn scope_ref(&self) -> Option<&str> {
        match self {
            Object::Scope(_) => None,
            Object::Endpoint(o) => o.spec.scope_ref.as_ref().map(|r| r.name.as_str()),
            Object::Association(o) => o.spec.scope_ref.as_ref().map(|r| r.name.as_str()),
        }
    }

    /// The ARM id of the Azure resource the object creates (scopes and endpoints; associations
    /// only point machines at a scope), when its subscription is known.
    pub fn azure_id(&self, default_subscription: Option<&str>) -> Option<String> {
        let settings = Settings {
            default_subscription: default_subscription.map(str::to_string),
            ..Settings::new("")
        };
        let id = match self {
            Object::Scope(o) => reconcile::scope::scope_id(o, &settings),
            Object::Endpoint(o) => reconcile::endpoint::endpoint_id(o, &settings),
            Object::Association(_) => return None,
        };
        id.ok().map(|id| id.to_string())
    }

    /// Fields that need a cluster and are therefore not honoured offline, with what happens
    /// instead.
    pub fn offline_limits(&self) -> Vec<&'static str> {
        let (credential_ref, dns_export) = match self {
            Object::Scope(o) => (o.spec.credential_ref.is_some(), false),
            Object::Endpoint(o) => (o.spec.credential_ref.is_some(), o.spec.dns_export.is_some()),
            Object::Association(o) => (o.spec.credential_ref.is_some(), false),
        };
        let mut limits = Vec::new();
        if credential_ref {
            limits.push("spec.credentialRef is ignored offline (no cluster to read the Secret from): this command's own identity is used");
        }
        if dns_export {
            limits.push("spec.dnsExport is not written offline (no cluster to hold the ConfigMap): the DNS records are shown in the status instead");
        }
        limits
    }

    /// Sets a creation time from the declaration order, unless the manifest has one, so that
    /// conflicts between associations are decided as in a cluster where the objects were
    /// created in that order: the earlier one wins.
    pub fn set_declared(&mut self, order: usize) {
        let meta = match self {
            Object::Scope(o) => &mut o.metadata,
            Object::Endpoint(o) => &mut o.metadata,
            Object::Association(o) => &mut o.metadata,
        };
        if meta.creation_timestamp.is_none() {
            let offset = jiff::SignedDuration::from_secs(i64::try_from(order).unwrap_or(i64::MAX));
            let at = jiff::Timestamp::UNIX_EPOCH
                .checked_add(offset)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            meta.creation_timestamp = Some(Time(at));
        }
    }

    /// Marks a scope Ready as it will be once a planned update is applied, so that plan
    /// evaluates the objects referring to it (other kinds: unchanged, nothing refers to them).
    pub fn project_ready(&mut self, settings: &Settings) {
        if let Object::Scope(o) = self {
            let generation = o.metadata.generation;
            let status = o.status.get_or_insert_with(Default::default);
            status.observed_generation = generation;
            write_conditions(
                &mut status.conditions,
                &Phase::ready("Succeeded", "after the planned update"),
                &DriftState::InSync,
                generation,
                jiff::Timestamp::now(),
                settings.note.as_deref(),
            );
        }
    }

    /// The conditions of the in-memory status.
    pub fn conditions(&self) -> &[Condition] {
        let conds = match self {
            Object::Scope(o) => o.status.as_ref().map(|s| &s.conditions),
            Object::Endpoint(o) => o.status.as_ref().map(|s| &s.conditions),
            Object::Association(o) => o.status.as_ref().map(|s| &s.conditions),
        };
        conds.map(Vec::as_slice).unwrap_or_default()
    }

    /// The in-memory status as JSON (what `kubectl get -o yaml` would show).
    pub fn status(&self) -> Value {
        let status = match self {
            Object::Scope(o) => serde_json::to_value(&o.status),
            Object::Endpoint(o) => serde_json::to_value(&o.status),
            Object::Association(o) => serde_json::to_value(&o.status),
        };
        status.unwrap_or(Value::Null)
    }
}

/// What one reconcile step did (or, in dry-run, would do).
#[derive(Clone, Debug)]
pub struct Step {
    pub changes: Vec<Change>,
    pub requeue: Requeue,
    pub drift: DriftState,
}

/// One reconcile step of `objects[index]`, its status stored back on the object. The other
/// objects stand in for what the controller would look up in Kubernetes: the referenced scope
/// (with its in-memory status) and the peers a kind checks conflicts against.
pub async fn step(
    arm: &ArmClient,
    settings: &Settings,
    objects: &mut [Declared],
    index: usize,
) -> Step {
    match &objects[index].object {
        Object::Scope(obj) => {
            let out = reconcile::scope::reconcile(arm, settings, obj).await;
            let step = Step::from(&out);
            if let Object::Scope(obj) = &mut objects[index].object {
                obj.status = Some(out.status);
            }
            step
        }
        Object::Endpoint(obj) => {
            let deps = EndpointDeps {
                scope: scope_source(
                    objects,
                    &obj.spec.scope_ref,
                    &obj.spec.scope_id,
                    obj.as_ref(),
                ),
                peers: endpoint_peers(objects, settings, index),
            };
            let out = reconcile::endpoint::reconcile(arm, settings, obj, &deps).await;
            let step = Step::from(&out);
            if let Object::Endpoint(obj) = &mut objects[index].object {
                obj.status = Some(out.status);
            }
            step
        }
        Object::Association(obj) => {
            let mut deps = AssociationDeps::new(scope_source(
                objects,
                &obj.spec.scope_ref,
                &obj.spec.scope_id,
                obj.as_ref(),
            ));
            deps.claims = association_claims(objects, settings);
            let out = reconcile::association::reconcile(arm, settings, obj, &deps).await;
            let step = Step::from(&out);
            if let Object::Association(obj) = &mut objects[index].object {
                obj.status = Some(out.status);
            }
            step
        }
    }
}

impl<S> From<&Outcome<S>> for Step {
    fn from(out: &Outcome<S>) -> Step {
        Step {
            changes: out.changes.clone(),
            requeue: out.requeue,
            drift: out.drift.clone(),
        }
    }
}

/// `spec.scopeRef` as the declared scope of the same namespace, or `spec.scopeId`.
fn scope_source<K: kube::Resource>(
    objects: &[Declared],
    scope_ref: &Option<ScopeRef>,
    scope_id: &Option<String>,
    obj: &K,
) -> ScopeSource {
    match (scope_ref, scope_id) {
        (Some(r), _) => ScopeSource::Ref {
            name: r.name.clone(),
            object: find_scope(objects, obj.meta().namespace.as_deref(), &r.name)
                .map(|s| Box::new(s.clone())),
        },
        (None, id) => ScopeSource::Id(id.clone().unwrap_or_default()),
    }
}

fn find_scope<'a>(
    objects: &'a [Declared],
    namespace: Option<&str>,
    name: &str,
) -> Option<&'a ArcPrivateLinkScope> {
    objects.iter().find_map(|d| match &d.object {
        Object::Scope(s)
            if s.metadata.namespace.as_deref() == namespace
                && s.metadata.name.as_deref() == Some(name) =>
        {
            Some(s.as_ref())
        }
        _ => None,
    })
}

/// The ARM id of the scope an object points at, when it can be told without ARM.
fn scope_id_of<K: kube::Resource>(
    objects: &[Declared],
    settings: &Settings,
    scope_ref: &Option<ScopeRef>,
    scope_id: &Option<String>,
    obj: &K,
) -> Option<String> {
    match (scope_ref, scope_id) {
        (Some(r), _) => find_scope(objects, obj.meta().namespace.as_deref(), &r.name)
            .and_then(|s| reconcile::scope::scope_id(s, settings).ok())
            .map(|id| id.to_string()),
        (None, id) => id.clone(),
    }
}

/// The other endpoints of the manifests (for the one-scope-per-virtual-network check).
fn endpoint_peers(objects: &[Declared], settings: &Settings, me: usize) -> Vec<PeerEndpoint> {
    objects
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != me)
        .filter_map(|(_, d)| match &d.object {
            Object::Endpoint(e) => Some(PeerEndpoint {
                name: format!(
                    "{}/{}",
                    e.metadata.namespace.as_deref().unwrap_or_default(),
                    e.name_any()
                ),
                subnet_id: e.spec.subnet_id.clone(),
                scope_id: scope_id_of(
                    objects,
                    settings,
                    &e.spec.scope_ref,
                    &e.spec.scope_id,
                    e.as_ref(),
                )?,
            }),
            _ => None,
        })
        .collect()
}

/// The machine claims of every association of the manifests (the core skips its own).
fn association_claims(objects: &[Declared], settings: &Settings) -> Vec<Claim> {
    objects
        .iter()
        .filter_map(|d| match &d.object {
            Object::Association(a) => {
                let scope = scope_id_of(
                    objects,
                    settings,
                    &a.spec.scope_ref,
                    &a.spec.scope_id,
                    a.as_ref(),
                )?;
                Some(reconcile::association::claim(a, scope))
            }
            _ => None,
        })
        .collect()
}
