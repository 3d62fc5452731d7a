//! ARM's token buckets (reference/arm-behaviours.md 12): per security principal per
//! subscription, plus a global bucket per subscription, [`GLOBAL_FACTOR`] times larger, shared
//! by every principal. A request needs a token from both.

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

    pub fn global_header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-global-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-global-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-global-deletes",
        }
    }
}

/// The global bucket of a subscription is this many times a principal's.
pub const GLOBAL_FACTOR: u32 = 15;

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
    /// Keyed by (subscription, principal or `""` for the global bucket, class), lower-cased.
    buckets: HashMap<(String, String, Class), Tokens>,
}

/// Outcome of taking a token.
pub enum Taken {
    Unlimited,
    /// Tokens left in the principal's bucket and in the subscription's global one.
    Remaining {
        principal: u64,
        global: u64,
    },
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

    /// Takes one token for `principal` in `subscription`, from its own bucket and the global one.
    pub fn take(&self, subscription: &str, principal: &str, class: Class) -> Taken {
        let mut s = self.inner.lock();
        let Some(limits) = s.limits else {
            return Taken::Unlimited;
        };
        let own: Bucket = match class {
            Class::Reads => limits.reads,
            Class::Writes => limits.writes,
            Class::Deletes => limits.deletes,
        };
        let global = Bucket {
            burst: own.burst.saturating_mul(GLOBAL_FACTOR),
            per_second: own.per_second * f64::from(GLOBAL_FACTOR),
        };
        let now = Instant::now();
        let sub = subscription.to_ascii_lowercase();
        let mine = (sub.clone(), principal.to_ascii_lowercase(), class);
        let all = (sub, String::new(), class);
        let own_left = refill(&mut s.buckets, mine.clone(), own, now);
        let global_left = refill(&mut s.buckets, all.clone(), global, now);
        if own_left >= 1.0 && global_left >= 1.0 {
            let mut take = |key| {
                let t: &mut Tokens = s.buckets.get_mut(&key)?;
                t.available -= 1.0;
                Some(t.available.floor() as u64)
            };
            let principal = take(mine).unwrap_or(0);
            let global = take(all).unwrap_or(0);
            return Taken::Remaining { principal, global };
        }
        let wait = |left: f64, b: Bucket| {
            if left >= 1.0 {
                0.0
            } else if b.per_second <= 0.0 {
                60.0
            } else {
                (1.0 - left) / b.per_second
            }
        };
        let secs = wait(own_left, own).max(wait(global_left, global));
        Taken::RetryAfter(secs.ceil().clamp(1.0, 3600.0) as u64)
    }
}

/// Refills the bucket at `key` and returns its tokens.
fn refill(
    buckets: &mut HashMap<(String, String, Class), Tokens>,
    key: (String, String, Class),
    bucket: Bucket,
    now: Instant,
) -> f64 {
    let burst = f64::from(bucket.burst);
    let tokens = buckets.entry(key).or_insert(Tokens {
        available: burst,
        refilled: now,
    });
    let elapsed = now.duration_since(tokens.refilled).as_secs_f64();
    tokens.available = (tokens.available + elapsed * bucket.per_second).min(burst);
    tokens.refilled = now;
    tokens.available
}
