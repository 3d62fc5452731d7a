//! When to look at an object again.

use std::time::Duration;

use rand::Rng;

/// Cap of the exponential backoff after transient errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
const FIRST_BACKOFF: Duration = Duration::from_secs(5);

/// When the controller should reconcile the object again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// After this delay (drift check, LRO `Retry-After`, throttling).
    After(Duration),
    /// After the object's next exponential-backoff delay (transient failure).
    Backoff,
}

/// `interval` +/- 10%, so that a restart does not re-read every object at the same moment.
pub fn jittered(interval: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..=1.1);
    interval.mul_f64(factor)
}

/// Delay after the `failures`-th consecutive transient failure: 5s doubling, capped at 5 min,
/// with jitter.
pub fn backoff(failures: u32) -> Duration {
    let exp = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
    jittered(exp.min(MAX_BACKOFF)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(600));
            assert!(
                d >= Duration::from_secs(540) && d <= Duration::from_secs(660),
                "{d:?}"
            );
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_secs(6));
        assert!(backoff(3) >= Duration::from_secs(18));
        for n in [10, 100, u32::MAX] {
            assert!(backoff(n) <= MAX_BACKOFF);
            assert!(backoff(n) >= MAX_BACKOFF.mul_f64(0.9));
        }
    }
}
