//! Request counters, so that tests and benchmarks can assert how many ARM calls were made.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde_json::{Value, json};

/// A snapshot of the ARM request counters (token and admin requests are not counted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    /// (method, lower-cased resource type) -> requests.
    by_type: HashMap<(String, String), u64>,
    by_status: HashMap<u16, u64>,
}

impl Counters {
    pub fn total(&self) -> u64 {
        self.by_type.values().sum()
    }

    pub fn count(&self, method: &str) -> u64 {
        self.by_type
            .iter()
            .filter(|((m, _), _)| m.eq_ignore_ascii_case(method))
            .map(|(_, n)| n)
            .sum()
    }

    /// `resource_type` is e.g. `Microsoft.HybridCompute/machines`; operation polls count under
    /// `operationStatuses` and `operationResults`.
    pub fn count_for(&self, method: &str, resource_type: &str) -> u64 {
        self.by_type
            .iter()
            .filter(|((m, t), _)| {
                m.eq_ignore_ascii_case(method) && t.eq_ignore_ascii_case(resource_type)
            })
            .map(|(_, n)| n)
            .sum()
    }

    pub fn writes(&self) -> u64 {
        ["PUT", "PATCH", "DELETE", "POST"]
            .iter()
            .map(|m| self.count(m))
            .sum()
    }

    pub fn status(&self, code: u16) -> u64 {
        self.by_status.get(&code).copied().unwrap_or(0)
    }

    pub fn to_json(&self) -> Value {
        let mut by_method: HashMap<String, u64> = HashMap::new();
        let mut by_type: HashMap<String, u64> = HashMap::new();
        for ((m, t), n) in &self.by_type {
            *by_method.entry(m.clone()).or_default() += n;
            *by_type.entry(format!("{m} {t}")).or_default() += n;
        }
        let by_status: HashMap<String, u64> = self
            .by_status
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        json!({
            "total": self.total(),
            "writes": self.writes(),
            "byMethod": by_method,
            "byType": by_type,
            "byStatus": by_status,
        })
    }
}

#[derive(Default)]
pub struct CounterSet {
    inner: Mutex<Counters>,
}

impl CounterSet {
    pub fn record(&self, method: &str, resource_type: &str, status: u16) {
        let mut c = self.inner.lock();
        *c.by_type
            .entry((method.to_string(), resource_type.to_ascii_lowercase()))
            .or_default() += 1;
        *c.by_status.entry(status).or_default() += 1;
    }

    pub fn snapshot(&self) -> Counters {
        self.inner.lock().clone()
    }

    pub fn reset(&self) {
        *self.inner.lock() = Counters::default();
    }
}
