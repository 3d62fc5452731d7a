//! The single Prometheus registry, encoded as OpenMetrics text on /metrics.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};

use crate::{azure::ArmClient, telemetry::arm::ArmClients};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    kind: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    kind: String,
    condition: String,
    status: String,
}

type DurationFamily = Family<KindLabels, Histogram, fn() -> Histogram>;

/// Controller metrics. Cloning shares the registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    reconcile_duration: DurationFamily,
    objects: Family<ConditionLabels, Gauge>,
    drift_detected: Family<KindLabels, Counter>,
    drift_corrected: Family<KindLabels, Counter>,
    leader: Gauge,
    leadership_lost: Counter,
    arm: ArmClients,
}

fn reconcile_histogram() -> Histogram {
    // 5 ms .. ~82 s: reconciles are mostly a few ARM round-trips, never an LRO wait.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("arclink");
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and result",
            reconciles.clone(),
        );
        let reconcile_duration: DurationFamily =
            Family::new_with_constructor(reconcile_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "reconcile_duration",
            "Reconcile duration by kind",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let objects = Family::<ConditionLabels, Gauge>::default();
        registry.register(
            "objects",
            "Objects by kind and condition (Ready, Stalled, Drifted) status",
            objects.clone(),
        );
        let drift_detected = Family::<KindLabels, Counter>::default();
        registry.register(
            "drift_detected",
            "Differences between Azure and the spec found, by kind",
            drift_detected.clone(),
        );
        let drift_corrected = Family::<KindLabels, Counter>::default();
        registry.register(
            "drift_corrected",
            "Differences between Azure and the spec written back, by kind",
            drift_corrected.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this instance holds the leader lease (or leader election is off)",
            leader.clone(),
        );
        let leadership_lost = Counter::default();
        registry.register(
            "leadership_lost",
            "Terms as leader that ended without stepping down (the Lease not renewed within the renew deadline, or held by another instance); the instance then stands for election again",
            leadership_lost.clone(),
        );
        let arm = ArmClients::default();
        registry.register_collector(Box::new(arm.clone()));
        Self {
            inner: Arc::new(Inner {
                registry,
                reconciles,
                reconcile_duration,
                objects,
                drift_detected,
                drift_corrected,
                leader,
                leadership_lost,
                arm,
            }),
        }
    }

    /// Starts timing a reconcile; call [`ReconcileTimer::finish`] with its result. A timer
    /// dropped unfinished (the reconcile future was cancelled) counts as `cancelled`.
    pub fn reconcile_started(&self, kind: &str) -> ReconcileTimer {
        ReconcileTimer {
            metrics: self.clone(),
            kind: kind.to_owned(),
            started: Instant::now(),
            finished: false,
        }
    }

    /// Records one reconcile; `result` is a short label such as `success`, `requeue`, `error`.
    pub fn reconcile_finished(&self, kind: &str, result: &str, duration: Duration) {
        self.inner
            .reconciles
            .get_or_create(&ResultLabels {
                kind: kind.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        self.inner
            .reconcile_duration
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    /// Sets how many objects of `kind` have `condition` (Ready, Stalled, Drifted) at `status`
    /// (True, False, Unknown).
    pub fn set_objects(&self, kind: &str, condition: &str, status: &str, count: i64) {
        self.inner
            .objects
            .get_or_create(&ConditionLabels {
                kind: kind.to_owned(),
                condition: condition.to_owned(),
                status: status.to_owned(),
            })
            .set(count);
    }

    pub fn drift_detected(&self, kind: &str) {
        self.inner
            .drift_detected
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn drift_corrected(&self, kind: &str) {
        self.inner
            .drift_corrected
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn set_leader(&self, leading: bool) {
        self.inner.leader.set(i64::from(leading));
    }

    /// A term as leader ended without stepping down.
    pub fn leadership_lost(&self) {
        self.inner.leadership_lost.inc();
    }

    /// Reports `client`'s ARM request, throttling, rate-limit and LRO counters on /metrics
    /// (read at scrape time). Call it for every client created (one per credential); tracking
    /// a clone of a tracked client again is a no-op.
    pub fn track_arm_client(&self, client: &ArmClient) {
        self.inner.arm.track(client);
    }

    /// The registry as OpenMetrics text (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in a collector,
        // and a partial scrape is more useful than none.
        if let Err(e) = encode(&mut out, &self.inner.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Times one reconcile; see [`Metrics::reconcile_started`].
#[derive(Debug)]
pub struct ReconcileTimer {
    metrics: Metrics,
    kind: String,
    started: Instant,
    finished: bool,
}

impl ReconcileTimer {
    pub fn finish(mut self, result: &str) {
        self.finished = true;
        self.metrics
            .reconcile_finished(&self.kind, result, self.started.elapsed());
    }
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        if !self.finished {
            self.metrics
                .reconcile_finished(&self.kind, "cancelled", self.started.elapsed());
        }
    }
}
