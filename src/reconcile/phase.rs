//! Where an object stands, and the kstatus conditions that say so. Every kind reports through
//! this one function so `Ready`/`Reconciling`/`Stalled`/`Drifted` mean the same everywhere.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use std::time::Duration;

use super::Requeue;
use super::drift::Drift;
use crate::api::conditions::{self, DRIFTED, READY, RECONCILING, STALLED};

/// The reason of the phase a throttled request leaves the object in.
pub const THROTTLED: &str = "Throttled";

/// Where the object stands after a reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Exists, provisioned, matches the spec (or drift is only reported).
    Ready { reason: String, message: String },
    /// An operation is in flight, a dependency is not ready, or a retry is due.
    Progressing { reason: String, message: String },
    /// A person must act: invalid spec, conflict, authorisation, terminal ARM error.
    Stalled { reason: String, message: String },
    /// `spec.suspend` is true: nothing is done.
    Suspended,
}

impl Phase {
    pub fn ready(reason: &str, message: impl Into<String>) -> Phase {
        Phase::Ready {
            reason: reason.into(),
            message: message.into(),
        }
    }
    pub fn progressing(reason: &str, message: impl Into<String>) -> Phase {
        Phase::Progressing {
            reason: reason.into(),
            message: message.into(),
        }
    }
    pub fn stalled(reason: &str, message: impl Into<String>) -> Phase {
        Phase::Stalled {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// Whether ARM throttled the reconcile (the delay is ARM's, not to be shortened).
    pub fn is_throttled(&self) -> bool {
        matches!(self, Phase::Progressing { reason, .. } if reason == THROTTLED)
    }

    /// The `Ready` condition's reason for this phase.
    pub fn reason(&self) -> &str {
        match self {
            Phase::Ready { reason, .. }
            | Phase::Progressing { reason, .. }
            | Phase::Stalled { reason, .. } => reason,
            Phase::Suspended => "Suspended",
        }
    }
}

/// Where a reconcile leaves the object, and when to look again.
#[derive(Clone, Debug, PartialEq)]
pub struct Next {
    pub phase: Phase,
    pub requeue: Requeue,
}

impl Next {
    pub fn progressing(reason: &str, message: impl Into<String>, after: Duration) -> Next {
        Next {
            phase: Phase::progressing(reason, message),
            requeue: Requeue::After(after),
        }
    }

    pub fn stalled(reason: &str, message: impl Into<String>, after: Duration) -> Next {
        Next {
            phase: Phase::stalled(reason, message),
            requeue: Requeue::After(after),
        }
    }
}

/// Writes the four conditions for `phase` and `drift` (the one place conditions are rendered,
/// for every kind, the controller and `plan`/`apply`). `Drifted` is left as it was when Azure
/// was not read. `note` (e.g. "ARM emulator: not Azure") is appended to every message.
pub fn write_conditions(
    conds: &mut Vec<Condition>,
    phase: &Phase,
    drift: &Drift,
    generation: Option<i64>,
    now: jiff::Timestamp,
    note: Option<&str>,
) {
    let msg = |m: &str| match note {
        Some(n) if m.is_empty() => n.to_string(),
        Some(n) => format!("{m} ({n})"),
        None => m.to_string(),
    };
    let mut set = |t: &str, status: bool, reason: &str, message: &str| {
        conditions::set(conds, t, status, reason, &msg(message), generation, now)
    };
    match phase {
        Phase::Ready { reason, message } => {
            set(READY, true, reason, message);
            set(RECONCILING, false, reason, "");
            set(STALLED, false, reason, "");
        }
        Phase::Progressing { reason, message } => {
            set(READY, false, reason, message);
            set(RECONCILING, true, reason, message);
            set(STALLED, false, reason, "");
        }
        Phase::Stalled { reason, message } => {
            set(READY, false, reason, message);
            set(RECONCILING, false, reason, "");
            set(STALLED, true, reason, message);
        }
        Phase::Suspended => {
            let was_ready = conditions::is_true(conds, READY);
            let message = "reconciliation is suspended (spec.suspend is true)";
            conditions::set(
                conds,
                READY,
                was_ready,
                "Suspended",
                &msg(message),
                generation,
                now,
            );
            for t in [RECONCILING, STALLED] {
                conditions::set(conds, t, false, "Suspended", &msg(message), generation, now);
            }
        }
    }
    if let Some((status, reason, message)) = drift.condition() {
        conditions::set(
            conds,
            DRIFTED,
            status,
            reason,
            &msg(&message),
            generation,
            now,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::{find, is_true};
    use crate::reconcile::drift::entry;

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(100).unwrap()
    }

    #[test]
    fn stalled_sets_ready_false_and_stalled_true_with_the_message() {
        let mut c = Vec::new();
        let phase = Phase::stalled("RegionMismatch", "endpoint in westus, vnet in eastus");
        write_conditions(&mut c, &phase, &Drift::observed(), Some(4), now(), None);
        assert!(!is_true(&c, READY));
        assert!(is_true(&c, STALLED));
        assert!(!is_true(&c, RECONCILING));
        let stalled = find(&c, STALLED).unwrap();
        assert_eq!(stalled.reason, "RegionMismatch");
        assert_eq!(stalled.observed_generation, Some(4));
        assert!(c.iter().all(|x| x.observed_generation == Some(4)));
    }

    #[test]
    fn drift_and_note_are_reported() {
        let mut c = Vec::new();
        let phase = Phase::ready("Succeeded", "scope is ready");
        write_conditions(
            &mut c,
            &phase,
            &Drift {
                reported: vec![entry("tags.team", "a", "b")],
                ..Drift::observed()
            },
            None,
            now(),
            Some("emulator"),
        );
        assert!(is_true(&c, READY));
        assert!(is_true(&c, DRIFTED));
        assert_eq!(
            find(&c, DRIFTED).unwrap().message,
            "differs from the spec: tags.team (emulator)"
        );
        assert_eq!(
            find(&c, READY).unwrap().message,
            "scope is ready (emulator)"
        );
    }

    #[test]
    fn drifted_is_kept_when_azure_was_not_read() {
        let mut c = Vec::new();
        let drifted = Drift {
            reported: vec![entry("tags.a", "1", "2")],
            ..Drift::observed()
        };
        write_conditions(
            &mut c,
            &Phase::ready("Succeeded", "ok"),
            &drifted,
            None,
            now(),
            None,
        );
        write_conditions(
            &mut c,
            &Phase::progressing("KubernetesUnavailable", "the API server is away"),
            &Drift::default(),
            None,
            now(),
            None,
        );
        assert!(is_true(&c, DRIFTED), "not read, so not in sync either");
        assert_eq!(find(&c, READY).unwrap().reason, "KubernetesUnavailable");
    }

    #[test]
    fn suspend_keeps_ready_status() {
        let mut c = Vec::new();
        write_conditions(
            &mut c,
            &Phase::ready("Succeeded", "ok"),
            &Drift::observed(),
            None,
            now(),
            None,
        );
        write_conditions(
            &mut c,
            &Phase::Suspended,
            &Drift::default(),
            None,
            now(),
            None,
        );
        assert!(is_true(&c, READY));
        assert_eq!(find(&c, READY).unwrap().reason, "Suspended");
    }
}
