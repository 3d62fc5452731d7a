//! The per-kind half of `plan`/`apply`: typing a manifest, and one reconcile step of an object
//! with its status kept in memory (there is no Kubernetes to store it).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use serde_json::Value;

use super::manifest::{Declared, ObjectKey};
use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation};
use crate::azure::ArmClient;
use crate::reconcile::{self, Change, DriftState, Requeue, Settings};

/// The arclink kinds, in dependency order.
pub const KINDS: [&str; 3] = [
    reconcile::scope::KIND,
    "ArcPrivateEndpoint",
    "ArcServerAssociation",
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

    /// Whether the manifest names a credential Secret (not readable without a cluster).
    pub fn has_credential_ref(&self) -> bool {
        match self {
            Object::Scope(o) => o.spec.credential_ref.is_some(),
            Object::Endpoint(o) => o.spec.credential_ref.is_some(),
            Object::Association(o) => o.spec.credential_ref.is_some(),
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

    /// The ARM id the object's own Azure resource has, when the kind has one resource.
    pub fn resource_id(&self, settings: &Settings) -> Option<String> {
        match self {
            Object::Scope(o) => reconcile::scope::scope_id(o, settings)
                .ok()
                .map(|id| id.to_string()),
            Object::Endpoint(_) | Object::Association(_) => None,
        }
    }

    /// The object's name in messages.
    pub fn name(&self) -> String {
        match self {
            Object::Scope(o) => o.name_any(),
            Object::Endpoint(o) => o.name_any(),
            Object::Association(o) => o.name_any(),
        }
    }
}

/// What one reconcile step did (or, in dry-run, would do).
#[derive(Clone, Debug)]
pub struct Step {
    pub changes: Vec<Change>,
    pub requeue: Requeue,
    pub drift: DriftState,
}

/// One reconcile step of `objects[index]`, its status stored back on the object. `None` when
/// the kind cannot be reconciled offline.
pub async fn step(
    arm: &ArmClient,
    settings: &Settings,
    objects: &mut [Declared],
    index: usize,
) -> Option<Step> {
    match &mut objects[index].object {
        Object::Scope(obj) => {
            let out = reconcile::scope::reconcile(arm, settings, obj).await;
            obj.status = Some(out.status);
            Some(Step {
                changes: out.changes,
                requeue: out.requeue,
                drift: out.drift,
            })
        }
        Object::Endpoint(_) | Object::Association(_) => None,
    }
}
