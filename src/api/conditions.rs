//! kstatus-compatible conditions: `Ready`, `Reconciling`, `Stalled`, `Drifted`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// The Azure resource exists, is provisioned and matches the spec.
pub const READY: &str = "Ready";
/// An ARM operation is in flight or a dependency is not ready yet.
pub const RECONCILING: &str = "Reconciling";
/// Progress needs a person.
pub const STALLED: &str = "Stalled";
/// Azure differs from the spec.
pub const DRIFTED: &str = "Drifted";

/// Sets condition `type_`, keeping `lastTransitionTime` when the status does not change.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: jiff::Timestamp,
) {
    let status = if status { "True" } else { "False" };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = Time(now);
                c.status = status.to_string();
            }
            c.reason = reason.to_string();
            c.message = message.to_string();
            c.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message: message.to_string(),
            observed_generation: generation,
            last_transition_time: Time(now),
        }),
    }
}

/// The condition of type `type_`, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether condition `type_` is present with status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Whether two condition lists say the same thing, ignoring transition times.
pub fn same(a: &[Condition], b: &[Condition]) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| {
            find(b, &x.type_).is_some_and(|y| {
                x.status == y.status
                    && x.reason == y.reason
                    && x.message == y.message
                    && x.observed_generation == y.observed_generation
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn transition_time_changes_only_with_status() {
        let mut c = Vec::new();
        set(
            &mut c,
            READY,
            false,
            "Creating",
            "creating",
            Some(1),
            ts(10),
        );
        set(
            &mut c,
            READY,
            false,
            "Creating",
            "still creating",
            Some(1),
            ts(20),
        );
        assert_eq!(c[0].last_transition_time, Time(ts(10)));
        assert_eq!(c[0].message, "still creating");
        set(&mut c, READY, true, "Succeeded", "ok", Some(2), ts(30));
        assert_eq!(c[0].last_transition_time, Time(ts(30)));
        assert_eq!(c[0].observed_generation, Some(2));
        assert!(is_true(&c, READY));
        assert!(!is_true(&c, STALLED));
    }

    #[test]
    fn same_ignores_transition_times() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        set(&mut a, READY, true, "Succeeded", "ok", Some(1), ts(1));
        set(&mut b, READY, true, "Succeeded", "ok", Some(1), ts(2));
        assert!(same(&a, &b));
        set(&mut b, STALLED, false, "Succeeded", "", Some(1), ts(2));
        assert!(!same(&a, &b));
    }
}
