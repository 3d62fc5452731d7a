//! Exports the ARM clients' own counters (`ArmClient::metrics`) at scrape time, so the client
//! does not depend on the registry and nothing is copied on the request path.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, RwLock},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};

use crate::azure::ArmClient;

#[derive(Debug, Clone, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RequestLabels {
    provider: String,
    method: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct BucketLabels {
    subscription: String,
    class: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

/// The ARM clients whose counters /metrics reports (one client per credential identity).
#[derive(Clone, Default)]
pub(crate) struct ArmClients {
    clients: Arc<RwLock<Vec<ArmClient>>>,
}

impl fmt::Debug for ArmClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClients")
            .field("clients", &self.read().len())
            .finish()
    }
}

impl ArmClients {
    /// Adds `client` unless it (or a clone of it) is tracked already.
    pub(crate) fn track(&self, client: &ArmClient) {
        let mut clients = self.clients.write().unwrap_or_else(|p| p.into_inner());
        if !clients
            .iter()
            .any(|known| std::ptr::eq(known.metrics(), client.metrics()))
        {
            clients.push(client.clone());
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<ArmClient>> {
        self.clients.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl Collector for ArmClients {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let clients = self.read();
        let mut requests: BTreeMap<RequestLabels, u64> = BTreeMap::new();
        // Each credential has its own buckets; for a subscription reached with several, the
        // emptiest bucket is the one that throttles first.
        let mut tokens: BTreeMap<BucketLabels, (f64, bool)> = BTreeMap::new();
        let (mut pauses, mut paused_seconds) = (0u64, 0f64);
        let (mut lro_ok, mut lro_failed, mut lro_seconds) = (0u64, 0u64, 0f64);
        for client in clients.iter() {
            let metrics = client.metrics();
            for (key, count) in metrics.requests() {
                let labels = RequestLabels {
                    provider: key.provider,
                    method: key.method.to_ascii_uppercase(),
                    code: key.status.to_string(),
                };
                *requests.entry(labels).or_default() += count;
            }
            for bucket in metrics.buckets() {
                let labels = BucketLabels {
                    subscription: bucket.subscription,
                    class: bucket.class.as_str().to_owned(),
                };
                let entry = tokens
                    .entry(labels)
                    .or_insert((bucket.tokens, bucket.paused));
                entry.0 = entry.0.min(bucket.tokens);
                entry.1 |= bucket.paused;
            }
            let throttle = metrics.throttle();
            pauses += throttle.pauses;
            paused_seconds += throttle.paused_seconds;
            let lro = metrics.lro();
            lro_ok += lro.succeeded;
            lro_failed += lro.failed;
            lro_seconds += lro.total_seconds;
        }
        drop(clients);

        let mut family = encoder.encode_descriptor(
            "arm_requests",
            "ARM requests by provider, method and HTTP status code (0: no response)",
            None,
            MetricType::Counter,
        )?;
        for (labels, count) in &requests {
            ConstCounter::new(*count).encode(family.encode_family(labels)?)?;
        }

        let metric = encoder.encode_descriptor(
            "arm_throttle_waits",
            "Times a subscription's requests were paused by a 429 Retry-After",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(pauses).encode(metric)?;
        let metric = encoder.encode_descriptor(
            "arm_throttle_wait_seconds",
            "Time subscriptions spent paused by 429 Retry-After",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(paused_seconds).encode(metric)?;

        let mut family = encoder.encode_descriptor(
            "arm_rate_limit_tokens",
            "Requests the client-side bucket still allows now, per subscription and class",
            None,
            MetricType::Gauge,
        )?;
        for (labels, (available, _)) in &tokens {
            ConstGauge::new(*available).encode(family.encode_family(labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "arm_rate_limit_paused",
            "1 while a subscription's bucket is paused after a 429",
            None,
            MetricType::Gauge,
        )?;
        for (labels, (_, paused)) in &tokens {
            ConstGauge::new(i64::from(*paused)).encode(family.encode_family(labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "arm_lros",
            "Long-running ARM operations finished, by result",
            None,
            MetricType::Counter,
        )?;
        for (result, count) in [("succeeded", lro_ok), ("failed", lro_failed)] {
            let labels = ResultLabels {
                result: result.to_owned(),
            };
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        // The client keeps count and sum only, so the histogram has the +Inf bucket alone
        // (prometheus-client writes f64::MAX as `+Inf`): enough for the mean, not quantiles.
        let mut metric = encoder.encode_descriptor(
            "arm_lro_duration_seconds",
            "Duration of long-running ARM operations from submission to a terminal state",
            None,
            MetricType::Histogram,
        )?;
        let count = lro_ok + lro_failed;
        metric.encode_histogram::<NoLabelSet>(lro_seconds, count, &[(f64::MAX, count)], None)
    }
}
