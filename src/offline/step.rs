//! One reconcile step of a declared object offline. The other documents stand in for what the
//! controller reads from its caches: [`Declared`] over the manifests gives the same scope,
//! peers and claims the controller would see, by the same rules.

use std::sync::Arc;

use super::manifest::Document;
use super::object::Object;
use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation};
use crate::azure::ArmClient;
use crate::reconcile::declared::{Declared, Dependent};
use crate::reconcile::engine::Managed;
use crate::reconcile::{self, Change, Drift, Outcome, Phase, Requeue, Settings, States};

/// What one reconcile step did (or, in dry-run, would do).
#[derive(Clone, Debug)]
pub struct Step {
    pub phase: Phase,
    pub changes: Vec<Change>,
    pub requeue: Requeue,
    pub drift: Drift,
}

/// One reconcile step of `objects[index]`, its status stored back on the object.
pub async fn step(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    index: usize,
) -> Step {
    let declared = Documents(objects);
    match &objects[index].object {
        Object::Scope(obj) => {
            let out = once(arm, settings, states, obj, &declared).await;
            store(&mut objects[index].object, out, |o| match o {
                Object::Scope(o) => Some(&mut Arc::make_mut(o).status),
                _ => None,
            })
        }
        Object::Endpoint(obj) => {
            let out = once(arm, settings, states, obj, &declared).await;
            store(&mut objects[index].object, out, |o| match o {
                Object::Endpoint(o) => Some(&mut Arc::make_mut(o).status),
                _ => None,
            })
        }
        Object::Association(obj) => {
            let out = once(arm, settings, states, obj, &declared).await;
            store(&mut objects[index].object, out, |o| match o {
                Object::Association(o) => Some(&mut Arc::make_mut(o).status),
                _ => None,
            })
        }
    }
}

async fn once<K: Dependent>(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    obj: &Arc<K>,
    declared: &Documents<'_>,
) -> Outcome<<K as Managed>::Status> {
    let obj = Arc::clone(obj);
    let deps = obj.deps(declared, settings);
    let state = states.of::<K>();
    reconcile::reconcile(arm, settings, &*state, obj.as_ref(), &deps).await
}

fn store<S>(
    object: &mut Object,
    out: Outcome<S>,
    status: impl FnOnce(&mut Object) -> Option<&mut Option<S>>,
) -> Step {
    if let Some(slot) = status(object) {
        *slot = Some(out.status);
    }
    Step {
        phase: out.phase,
        changes: out.changes,
        requeue: out.requeue,
        drift: out.drift,
    }
}

/// The documents of the manifests as the declared set.
struct Documents<'a>(&'a [Document]);

impl Declared for Documents<'_> {
    fn scope(&self, namespace: &str, name: &str) -> Option<Arc<ArcPrivateLinkScope>> {
        self.0.iter().find_map(|d| match &d.object {
            Object::Scope(s)
                if s.metadata.namespace.as_deref() == Some(namespace)
                    && s.metadata.name.as_deref() == Some(name) =>
            {
                Some(Arc::clone(s))
            }
            _ => None,
        })
    }

    fn endpoints(&self) -> Vec<Arc<ArcPrivateEndpoint>> {
        self.0
            .iter()
            .filter_map(|d| match &d.object {
                Object::Endpoint(e) => Some(Arc::clone(e)),
                _ => None,
            })
            .collect()
    }

    fn associations(&self) -> Vec<Arc<ArcServerAssociation>> {
        self.0
            .iter()
            .filter_map(|d| match &d.object {
                Object::Association(a) => Some(Arc::clone(a)),
                _ => None,
            })
            .collect()
    }
}
