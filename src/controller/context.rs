//! State shared by every reconcile: clients, settings, metrics, and the caches of the cluster's
//! arclink objects that tell a reconcile what else is declared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use crate::connect::ArmPool;
use crate::reconcile::declared::Declares;
use crate::reconcile::{Settings, States, requeue};
use crate::telemetry::Metrics;

pub struct Context {
    pub client: kube::Client,
    pub settings: Settings,
    /// Kept from one term as leader to the next (see `super::term`).
    pub arm: Arc<ArmPool>,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// The controllers' caches of the kinds.
    pub declared: Stores,
    /// What each kind keeps between reconciles besides status.
    pub states: States,
    /// Consecutive transient failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

macro_rules! stores {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// The reflector stores of the kinds (those of their controllers).
        #[derive(Clone)]
        pub struct Stores {
            $(pub $field: Store<crate::api::$kind>,)*
        }

        impl Stores {
            /// Whether every store has its first full list (before that, a missing object might
            /// only not be listed yet, and a missed rival could cause a write).
            pub fn synced(&self) -> bool {
                $(listed(&self.$field))&&*
            }
        }

        $(impl Declares<crate::api::$kind> for Stores {
            fn all(&self) -> Vec<Arc<crate::api::$kind>> {
                self.$field.state()
            }
        })*
    };
}
crate::kinds::kinds!(stores);

/// Whether `store` has its first full list.
fn listed<K: kube::Resource<DynamicType = ()> + Clone>(store: &Store<K>) -> bool {
    store
        .wait_until_ready()
        .now_or_never()
        .is_some_and(|r| r.is_ok())
}

impl Context {
    pub fn new(
        client: kube::Client,
        settings: Settings,
        arm: impl Into<Arc<ArmPool>>,
        metrics: Metrics,
        recorder: Recorder,
        declared: Stores,
    ) -> Context {
        Context {
            client,
            settings,
            arm: arm.into(),
            metrics,
            recorder,
            declared,
            states: States::default(),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records a transient failure of `key` and returns the delay before the next attempt.
    pub fn backoff(&self, key: &str) -> std::time::Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        requeue::backoff(*n)
    }

    /// Forgets the failures of `key` after a success.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}
