//! One reconcile step of a declared object offline. The other documents stand in for what the
//! controller reads from its caches: [`Declared`](crate::reconcile::declared::Declared) over the
//! manifests gives the same scope, peers and claims the controller would see, by the same rules.

use std::sync::Arc;

use super::manifest::Document;
use super::object::{Object, OfflineKind};
use crate::azure::ArmClient;
use crate::reconcile::declared::Declares;
use crate::reconcile::engine::cleanup_with_changes;
use crate::reconcile::{self, Change, Cleanup, Drift, Notice, Phase, Requeue, Settings, States};

/// What one reconcile step did (or, in dry-run, would do).
#[derive(Clone, Debug)]
pub struct Step {
    pub phase: Phase,
    pub changes: Vec<Change>,
    pub requeue: Requeue,
    pub drift: Drift,
    /// What someone else did that the controller would record as an Event.
    pub notices: Vec<Notice>,
}

/// One reconcile step of `objects[index]`, its status stored back on the object.
pub async fn step(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    index: usize,
) -> Step {
    macro_rules! by_kind {
        ($($variant:ident($kind:ident) $field:ident,)*) => {
            match &objects[index].object {
                $(Object::$variant(obj) => {
                    once(arm, settings, states, objects, index, Arc::clone(obj)).await
                })*
            }
        };
    }
    crate::kinds::kinds!(by_kind)
}

async fn once<K: OfflineKind>(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    index: usize,
    obj: Arc<K>,
) -> Step {
    let deps = obj.deps(&Documents(objects), settings);
    let state = states.of::<K>();
    let out = reconcile::reconcile(arm, settings, &*state, obj.as_ref(), &deps).await;
    drop(obj);
    if let Some(stored) = objects[index].object.downcast_mut::<K>() {
        *Arc::make_mut(stored).status_mut() = Some(out.status);
    }
    Step {
        phase: out.phase,
        changes: out.changes,
        requeue: out.requeue,
        drift: out.drift,
        notices: out.notices,
    }
}

/// What one clean-up step of a deleted object did (or, in dry-run, would do).
#[derive(Clone, Debug)]
pub struct Clean {
    /// `Some` when nothing is left to do: what happened in Azure.
    pub done: Option<String>,
    pub changes: Vec<Change>,
    /// When to look again, while not done.
    pub requeue: Requeue,
}

/// One clean-up step of `objects[index]` by its deletion policy (the controller's, when the
/// object is deleted), its status stored back on the object while not done.
pub async fn clean(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    index: usize,
) -> Clean {
    macro_rules! by_kind {
        ($($variant:ident($kind:ident) $field:ident,)*) => {
            match &objects[index].object {
                $(Object::$variant(obj) => {
                    clean_once(arm, settings, states, objects, index, Arc::clone(obj)).await
                })*
            }
        };
    }
    crate::kinds::kinds!(by_kind)
}

async fn clean_once<K: OfflineKind>(
    arm: &ArmClient,
    settings: &Settings,
    states: &States,
    objects: &mut [Document],
    index: usize,
    obj: Arc<K>,
) -> Clean {
    let deps = obj.deps(&Documents(objects), settings);
    let state = states.of::<K>();
    let (cleanup, changes) =
        cleanup_with_changes(arm, settings, &*state, obj.as_ref(), &deps).await;
    drop(obj);
    match cleanup {
        Cleanup::Done(message) => Clean {
            done: Some(message),
            changes,
            requeue: Requeue::After(std::time::Duration::ZERO),
        },
        Cleanup::Pending { status, requeue } => {
            if let Some(stored) = objects[index].object.downcast_mut::<K>() {
                *Arc::make_mut(stored).status_mut() = Some(status);
            }
            Clean {
                done: None,
                changes,
                requeue,
            }
        }
    }
}

/// The documents of the manifests as the declared set.
struct Documents<'a>(&'a [Document]);

impl<K: OfflineKind> Declares<K> for Documents<'_> {
    fn all(&self) -> Vec<Arc<K>> {
        self.0
            .iter()
            .filter_map(|d| d.object.downcast::<K>().cloned())
            .collect()
    }
}
