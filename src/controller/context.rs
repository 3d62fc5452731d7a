//! State shared by every reconcile.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::runtime::events::Recorder;

use super::credentials::ArmPool;
use crate::reconcile::{Settings, requeue};
use crate::telemetry::Metrics;

pub struct Context {
    pub client: kube::Client,
    pub settings: Settings,
    pub arm: ArmPool,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// Consecutive transient failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(
        client: kube::Client,
        settings: Settings,
        arm: ArmPool,
        metrics: Metrics,
        recorder: Recorder,
    ) -> Context {
        Context {
            client,
            settings,
            arm,
            metrics,
            recorder,
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
