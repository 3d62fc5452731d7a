//! Counters kept by the ARM client; the telemetry layer exports them.

use crate::azure::ratelimit::{BucketSnapshot, RateLimiter, ThrottleStats};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Labels of one request counter. `status` is 0 when no HTTP response arrived.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey {
    /// Lowercase provider namespace, e.g. `microsoft.hybridcompute`.
    pub provider: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LroStats {
    pub succeeded: u64,
    pub failed: u64,
    pub total_seconds: f64,
    pub max_seconds: f64,
}

#[derive(Debug)]
pub struct ArmMetrics {
    requests: Mutex<HashMap<RequestKey, u64>>,
    lro: Mutex<LroStats>,
    limiter: Arc<RateLimiter>,
}

impl ArmMetrics {
    pub(crate) fn new(limiter: Arc<RateLimiter>) -> ArmMetrics {
        ArmMetrics {
            requests: Mutex::new(HashMap::new()),
            lro: Mutex::new(LroStats::default()),
            limiter,
        }
    }

    pub(crate) fn record_request(&self, provider: &str, method: &str, status: u16) {
        let key = RequestKey {
            provider: provider.to_ascii_lowercase(),
            method: method.to_string(),
            status,
        };
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
    }

    pub(crate) fn record_lro(&self, duration: Duration, succeeded: bool) {
        let mut lro = self.lro.lock().unwrap_or_else(|e| e.into_inner());
        if succeeded {
            lro.succeeded += 1;
        } else {
            lro.failed += 1;
        }
        let secs = duration.as_secs_f64();
        lro.total_seconds += secs;
        lro.max_seconds = lro.max_seconds.max(secs);
    }

    /// All request counters.
    pub fn requests(&self) -> Vec<(RequestKey, u64)> {
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Requests sent with `method` that got `status` (any provider).
    pub fn request_count(&self, method: &str, status: u16) -> u64 {
        self.requests()
            .into_iter()
            .filter(|(k, _)| k.method.eq_ignore_ascii_case(method) && k.status == status)
            .map(|(_, v)| v)
            .sum()
    }

    pub fn lro(&self) -> LroStats {
        *self.lro.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn throttle(&self) -> ThrottleStats {
        self.limiter.throttle_stats()
    }

    /// Tokens currently available per (subscription, class) bucket.
    pub fn buckets(&self) -> Vec<BucketSnapshot> {
        self.limiter.snapshot()
    }
}
