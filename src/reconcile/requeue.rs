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

impl Requeue {
    /// A requeue at the drift check `interval` gets jitter; any other delay (an operation's
    /// `Retry-After`, throttling) is kept as ARM asked.
    pub fn jitter_drift_check(self, interval: Duration) -> Requeue {
        match self {
            Requeue::After(d) if d == interval => Requeue::After(jittered(d)),
            other => other,
        }
    }
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
    fn only_the_drift_check_is_jittered() {
        let interval = Duration::from_secs(600);
        let retry = Requeue::After(Duration::from_secs(7));
        assert_eq!(retry.jitter_drift_check(interval), retry);
        assert_eq!(
            Requeue::Backoff.jitter_drift_check(interval),
            Requeue::Backoff
        );
        let jittered = (0..100)
            .map(|_| Requeue::After(interval).jitter_drift_check(interval))
            .filter(|r| *r != Requeue::After(interval))
            .count();
        assert!(jittered > 90, "{jittered} of 100 drift checks jittered");
    }

    #[test]
    fn spec_interval_overrides_the_default() {
        let settings = crate::reconcile::Settings::new("c");
        assert_eq!(
            settings.drift_interval(Some("30s")),
            Duration::from_secs(30)
        );
        assert_eq!(settings.drift_interval(None), Duration::from_secs(600));
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
