//! Client-side token buckets per (subscription, reads|writes|deletes), mirroring ARM's own, so that
//! arclink does not cause 429s; a 429 pauses the bucket for everyone instead of each request
//! retrying on its own, and after a pause one probe request goes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestClass {
    Reads,
    Writes,
    Deletes,
}

impl RequestClass {
    pub fn for_method(method: &str) -> RequestClass {
        match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => RequestClass::Reads,
            "DELETE" => RequestClass::Deletes,
            _ => RequestClass::Writes,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestClass::Reads => "reads",
            RequestClass::Writes => "writes",
            RequestClass::Deletes => "deletes",
        }
    }

    /// The headers in which ARM reports what is left of this class's buckets: the
    /// subscription's (per principal) and, since the 2024 token-bucket limits, the global one
    /// shared by every principal of the subscription. The lower of the two is what is left.
    pub fn remaining_headers(self) -> [&'static str; 2] {
        match self {
            RequestClass::Reads => [
                "x-ms-ratelimit-remaining-subscription-reads",
                "x-ms-ratelimit-remaining-subscription-global-reads",
            ],
            RequestClass::Writes => [
                "x-ms-ratelimit-remaining-subscription-writes",
                "x-ms-ratelimit-remaining-subscription-global-writes",
            ],
            RequestClass::Deletes => [
                "x-ms-ratelimit-remaining-subscription-deletes",
                "x-ms-ratelimit-remaining-subscription-global-deletes",
            ],
        }
    }
}

/// One token bucket: `burst` tokens at most, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketLimits {
    pub burst: u32,
    pub per_second: f64,
}

/// Limits per request class; the defaults are ARM's published per-subscription buckets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    pub reads: BucketLimits,
    pub writes: BucketLimits,
    pub deletes: BucketLimits,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            reads: BucketLimits {
                burst: 250,
                per_second: 25.0,
            },
            writes: BucketLimits {
                burst: 200,
                per_second: 10.0,
            },
            deletes: BucketLimits {
                burst: 200,
                per_second: 10.0,
            },
        }
    }
}

impl RateLimits {
    pub fn for_class(&self, class: RequestClass) -> BucketLimits {
        match class {
            RequestClass::Reads => self.reads,
            RequestClass::Writes => self.writes,
            RequestClass::Deletes => self.deletes,
        }
    }
}

#[derive(Debug)]
struct BucketState {
    inner: Mutex<Inner>,
    notify: Notify,
    limits: BucketLimits,
}

#[derive(Debug)]
struct Inner {
    tokens: f64,
    last_refill: Instant,
    paused_until: Option<Instant>,
    /// After a pause only one request may be in flight until one comes back not throttled.
    probing: bool,
    probe_in_flight: bool,
    /// Permits handed out whose response has not been seen yet.
    in_flight: u32,
}

impl BucketState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another task panicked mid-update; the numbers stay usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn refill(&mut self, now: Instant, limits: BucketLimits) {
        if now > self.last_refill {
            let elapsed = (now - self.last_refill).as_secs_f64();
            self.tokens = (self.tokens + elapsed * limits.per_second).min(f64::from(limits.burst));
            self.last_refill = now;
        }
    }
}

/// Snapshot of one bucket for metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketSnapshot {
    pub subscription: String,
    pub class: RequestClass,
    pub tokens: f64,
    pub paused: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ThrottleStats {
    /// Number of times a bucket was paused after a 429 (extensions of a running pause excluded).
    pub pauses: u64,
    /// Total time callers were held by pauses, summed per pause (not per waiting caller).
    pub paused_seconds: f64,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(String, RequestClass), Arc<BucketState>>>,
    stats: Mutex<ThrottleStats>,
}

/// Permission to send one request; tell the limiter how it went with [`Permit::finish`].
#[derive(Debug)]
pub struct Permit {
    bucket: Arc<BucketState>,
    probe: bool,
    throttled: bool,
}

impl Permit {
    /// Records whether the response was a 429 (dropping the permit counts as "not throttled").
    pub fn finish(mut self, throttled: bool) {
        self.throttled = throttled;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut g = self.bucket.lock();
        g.in_flight = g.in_flight.saturating_sub(1);
        if self.probe {
            g.probe_in_flight = false;
            if !self.throttled {
                g.probing = false;
            }
            drop(g);
            self.bucket.notify.notify_waiters();
        }
    }
}

enum Next {
    Sleep(Duration),
    WaitForProbe,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
            stats: Mutex::new(ThrottleStats::default()),
        }
    }

    fn bucket(&self, subscription: &str, class: RequestClass) -> Arc<BucketState> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((subscription.to_ascii_lowercase(), class))
            .or_insert_with(|| {
                let limits = self.limits.for_class(class);
                Arc::new(BucketState {
                    inner: Mutex::new(Inner {
                        tokens: f64::from(limits.burst),
                        last_refill: Instant::now(),
                        paused_until: None,
                        probing: false,
                        probe_in_flight: false,
                        in_flight: 0,
                    }),
                    notify: Notify::new(),
                    limits,
                })
            })
            .clone()
    }

    /// Waits until the subscription's bucket for `class` allows one more request.
    pub async fn acquire(&self, subscription: &str, class: RequestClass) -> Permit {
        let bucket = self.bucket(subscription, class);
        loop {
            let notified = bucket.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = {
                let mut g = bucket.lock();
                let now = Instant::now();
                g.refill(now, bucket.limits);
                match g.paused_until {
                    Some(until) if until > now => Next::Sleep(until - now),
                    _ if g.probing && g.probe_in_flight => Next::WaitForProbe,
                    _ if g.probing => {
                        g.probe_in_flight = true;
                        g.in_flight += 1;
                        g.tokens -= 1.0;
                        drop(g);
                        return Permit {
                            bucket: bucket.clone(),
                            probe: true,
                            throttled: false,
                        };
                    }
                    _ if g.tokens >= 1.0 => {
                        g.in_flight += 1;
                        g.tokens -= 1.0;
                        drop(g);
                        return Permit {
                            bucket: bucket.clone(),
                            probe: false,
                            throttled: false,
                        };
                    }
                    _ => Next::Sleep(Duration::from_secs_f64(
                        (1.0 - g.tokens) / bucket.limits.per_second.max(0.001),
                    )),
                }
            };
            match next {
                Next::Sleep(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut notified => {}
                    }
                }
                Next::WaitForProbe => notified.await,
            }
        }
    }

    /// A 429: nobody sends on this bucket until `retry_after` has passed, then one probe goes first.
    pub fn pause(&self, subscription: &str, class: RequestClass, retry_after: Duration) {
        let bucket = self.bucket(subscription, class);
        let mut g = bucket.lock();
        let now = Instant::now();
        let until = now + retry_after;
        let previous = g.paused_until.filter(|p| *p > now);
        if previous.is_some_and(|p| p >= until) {
            g.probing = true;
            return;
        }
        let added = previous.map_or(retry_after, |p| until - p);
        g.paused_until = Some(until);
        g.tokens = g.tokens.min(0.0);
        g.last_refill = until;
        g.probing = true;
        drop(g);
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        // Requests already in flight when the first 429 came extend the same pause.
        if previous.is_none() {
            stats.pauses += 1;
        }
        stats.paused_seconds += added.as_secs_f64();
    }

    /// How much longer the bucket is paused after a 429, if it is.
    pub fn paused_for(&self, subscription: &str, class: RequestClass) -> Option<Duration> {
        let bucket = self.bucket(subscription, class);
        let g = bucket.lock();
        let now = Instant::now();
        g.paused_until.filter(|p| *p > now).map(|p| p - now)
    }

    /// ARM reported `remaining` requests left in its own bucket, seen by a request still holding
    /// its permit; never believe we have more than that minus our other requests in flight
    /// (ARM has not counted those yet).
    pub fn observe_remaining(&self, subscription: &str, class: RequestClass, remaining: u64) {
        let bucket = self.bucket(subscription, class);
        let mut g = bucket.lock();
        g.refill(Instant::now(), bucket.limits);
        // Precision loss above 2^53 is irrelevant for bucket sizes.
        let available = remaining as f64 - f64::from(g.in_flight.saturating_sub(1));
        if available < g.tokens {
            g.tokens = available;
        }
    }

    pub fn snapshot(&self) -> Vec<BucketSnapshot> {
        let map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.iter()
            .map(|((subscription, class), bucket)| {
                let mut g = bucket.lock();
                g.refill(now, bucket.limits);
                BucketSnapshot {
                    subscription: subscription.clone(),
                    class: *class,
                    tokens: g.tokens,
                    paused: g.paused_until.is_some_and(|p| p > now),
                }
            })
            .collect()
    }

    pub fn throttle_stats(&self) -> ThrottleStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32, per_second: f64) -> RateLimits {
        let b = BucketLimits { burst, per_second };
        RateLimits {
            reads: b,
            writes: b,
            deletes: b,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let rl = RateLimiter::new(limits(5, 10.0));
        let start = Instant::now();
        for _ in 0..5 {
            rl.acquire("s", RequestClass::Writes).await.finish(false);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..10 {
            rl.acquire("s", RequestClass::Writes).await.finish(false);
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(990) && elapsed <= Duration::from_millis(1100),
            "{elapsed:?}"
        );
        // Other subscriptions and classes have their own buckets.
        let t = Instant::now();
        rl.acquire("S2", RequestClass::Writes).await.finish(false);
        rl.acquire("s", RequestClass::Reads).await.finish(false);
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everyone_then_one_probe_goes_first() {
        let rl = Arc::new(RateLimiter::new(limits(100, 100.0)));
        rl.pause("sub", RequestClass::Reads, Duration::from_secs(3));
        // Casing of the subscription does not matter.
        let start = Instant::now();
        let probe = rl.acquire("SUB", RequestClass::Reads).await;
        assert!(start.elapsed() >= Duration::from_secs(3));

        let waiter = {
            let rl = rl.clone();
            tokio::spawn(async move {
                let p = rl.acquire("sub", RequestClass::Reads).await;
                p.finish(false);
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            !waiter.is_finished(),
            "others must wait while the probe is in flight"
        );
        let probe_done = Instant::now();
        probe.finish(false);
        let released = waiter.await.unwrap();
        assert!(released >= probe_done);
        let stats = rl.throttle_stats();
        assert_eq!(stats.pauses, 1);
        assert!((stats.paused_seconds - 3.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_probe_keeps_others_waiting() {
        let rl = RateLimiter::new(limits(100, 100.0));
        rl.pause("sub", RequestClass::Writes, Duration::from_secs(1));
        let probe = rl.acquire("sub", RequestClass::Writes).await;
        rl.pause("sub", RequestClass::Writes, Duration::from_secs(2));
        probe.finish(true);
        let start = Instant::now();
        let second = rl.acquire("sub", RequestClass::Writes).await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        drop(second);
        assert_eq!(rl.throttle_stats().pauses, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_header_lowers_tokens() {
        let rl = RateLimiter::new(limits(200, 10.0));
        let seen = rl.acquire("s", RequestClass::Writes).await;
        let other = rl.acquire("s", RequestClass::Writes).await;
        // ARM counted `seen` but not yet `other`, which is still in flight.
        rl.observe_remaining("s", RequestClass::Writes, 3);
        seen.finish(false);
        other.finish(false);
        let snap = rl.snapshot();
        assert_eq!(snap.len(), 1);
        assert!((snap[0].tokens - 2.0).abs() < 1e-9, "{snap:?}");
        rl.observe_remaining("s", RequestClass::Writes, 1000);
        assert!((rl.snapshot()[0].tokens - 2.0).abs() < 1e-9);
        let start = Instant::now();
        for _ in 0..3 {
            rl.acquire("s", RequestClass::Writes).await.finish(false);
        }
        assert!(
            start.elapsed() >= Duration::from_millis(99),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn method_classes() {
        assert_eq!(RequestClass::for_method("get"), RequestClass::Reads);
        assert_eq!(RequestClass::for_method("PATCH"), RequestClass::Writes);
        assert_eq!(RequestClass::for_method("PUT"), RequestClass::Writes);
        assert_eq!(RequestClass::for_method("DELETE"), RequestClass::Deletes);
    }
}
