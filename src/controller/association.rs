//! `ArcServerAssociation` in the controller: re-reconciles associations when their scope
//! changes, and when another association of the same resource group changes its spec or is
//! deleted (its claims on machines change).

use std::collections::HashMap;
use std::sync::Mutex;

use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

use super::kind::{Kind, Watch, watch_referrers};
use crate::api::{ArcPrivateLinkScope, ArcServerAssociation};
use crate::reconcile::association;

impl Kind for ArcServerAssociation {
    fn configure(controller: Controller<Self>, watch: &Watch<'_>) -> Controller<Self> {
        let by_group = watch.declared.associations.clone();
        let generations: Mutex<HashMap<String, Option<i64>>> = Mutex::new(HashMap::new());
        watch_referrers::<_, ArcPrivateLinkScope>(controller, watch, |a| {
            a.spec.scope_ref.as_ref().map(|r| r.name.as_str())
        })
        .watches(
            watch.api::<ArcServerAssociation>(),
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
                by_group
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
