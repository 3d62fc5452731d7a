//! ARM's per-subscription token buckets.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;

use super::config::{Bucket, RateLimits};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Reads,
    Writes,
    Deletes,
}

impl Class {
    pub fn for_method(method: &http::Method) -> Class {
        match *method {
            http::Method::GET | http::Method::HEAD => Class::Reads,
            http::Method::DELETE => Class::Deletes,
            _ => Class::Writes,
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

struct Tokens {
    available: f64,
    refilled: Instant,
}

#[derive(Default)]
pub struct Throttle {
    inner: Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    limits: Option<RateLimits>,
    buckets: HashMap<(String, Class), Tokens>,
}

/// Outcome of taking a token.
pub enum Taken {
    Unlimited,
    Remaining(u64),
    /// Throttled; seconds until a token is available.
    RetryAfter(u64),
}

impl Throttle {
    pub fn new(limits: Option<RateLimits>) -> Throttle {
        Throttle {
            inner: Mutex::new(ThrottleState {
                limits,
                buckets: HashMap::new(),
            }),
        }
    }

    pub fn set_limits(&self, limits: Option<RateLimits>) {
        let mut s = self.inner.lock();
        s.limits = limits;
        s.buckets.clear();
    }

    pub fn take(&self, subscription: &str, class: Class) -> Taken {
        let mut s = self.inner.lock();
        let Some(limits) = s.limits else {
            return Taken::Unlimited;
        };
        let bucket: Bucket = match class {
            Class::Reads => limits.reads,
            Class::Writes => limits.writes,
            Class::Deletes => limits.deletes,
        };
        let now = Instant::now();
        let burst = f64::from(bucket.burst);
        let tokens = s
            .buckets
            .entry((subscription.to_ascii_lowercase(), class))
            .or_insert(Tokens {
                available: burst,
                refilled: now,
            });
        let elapsed = now.duration_since(tokens.refilled).as_secs_f64();
        tokens.available = (tokens.available + elapsed * bucket.per_second).min(burst);
        tokens.refilled = now;
        if tokens.available >= 1.0 {
            tokens.available -= 1.0;
            Taken::Remaining(tokens.available.floor() as u64)
        } else if bucket.per_second <= 0.0 {
            Taken::RetryAfter(60)
        } else {
            let wait = (1.0 - tokens.available) / bucket.per_second;
            Taken::RetryAfter(wait.ceil().max(1.0) as u64)
        }
    }
}
