//! State shared by every reconcile: clients, settings, metrics, and the caches of the cluster's
//! arclink objects that tell a reconcile what else is declared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use kube::ResourceExt;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation};
use crate::connect::ArmPool;
use crate::reconcile::declared::Declared;
use crate::reconcile::{Settings, requeue};
use crate::telemetry::Metrics;

pub struct Context {
    pub client: kube::Client,
    pub settings: Settings,
    /// Kept from one term as leader to the next (see `super::term`).
    pub arm: Arc<ArmPool>,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// The controllers' caches of the three kinds.
    pub declared: Stores,
    /// Consecutive transient failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

/// The reflector stores of the three kinds (those of their controllers).
#[derive(Clone)]
pub struct Stores {
    pub scopes: Store<ArcPrivateLinkScope>,
    pub endpoints: Store<ArcPrivateEndpoint>,
    pub associations: Store<ArcServerAssociation>,
}

impl Stores {
    /// Whether every store has its first full list (before that, a missing object might only
    /// not be listed yet, and a missed rival could cause a write).
    pub fn synced(&self) -> bool {
        let ready = |f: futures::future::BoxFuture<'_, bool>| f.now_or_never().unwrap_or(false);
        ready(self.scopes.wait_until_ready().map(|r| r.is_ok()).boxed())
            && ready(self.endpoints.wait_until_ready().map(|r| r.is_ok()).boxed())
            && ready(
                self.associations
                    .wait_until_ready()
                    .map(|r| r.is_ok())
                    .boxed(),
            )
    }
}

impl Declared for Stores {
    fn scope(&self, namespace: &str, name: &str) -> Option<Arc<ArcPrivateLinkScope>> {
        self.scopes
            .find(|s| s.namespace().as_deref() == Some(namespace) && s.name_any() == name)
    }
    fn endpoints(&self) -> Vec<Arc<ArcPrivateEndpoint>> {
        self.endpoints.state()
    }
    fn associations(&self) -> Vec<Arc<ArcServerAssociation>> {
        self.associations.state()
    }
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
