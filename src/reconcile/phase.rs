//! Where an object stands, and the kstatus conditions that say so. Every kind reports through
//! this one function so `Ready`/`Reconciling`/`Stalled`/`Drifted` mean the same everywhere.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::conditions::{self, DRIFTED, READY, RECONCILING, STALLED};

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

/// Whether Azure matches the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriftState {
    /// Nothing differs (or Azure was not read).
    InSync,
    /// Differences found and not corrected (`drift: Report`, or a write is blocked).
    Detected(String),
    /// Differences found and corrected by this reconcile.
    Corrected(String),
}

/// Writes the four conditions for `phase` and `drift`. `note` (e.g. "emulator: not Azure") is
/// appended to every message.
pub fn write_conditions(
    conds: &mut Vec<Condition>,
    phase: &Phase,
    drift: &DriftState,
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
            conditions::set(
                conds,
                RECONCILING,
                false,
                "Suspended",
                &msg(message),
                generation,
                now,
            );
            conditions::set(
                conds,
                STALLED,
                false,
                "Suspended",
                &msg(message),
                generation,
                now,
            );
            return;
        }
    }
    match drift {
        DriftState::InSync => conditions::set(
            conds,
            DRIFTED,
            false,
            "Succeeded",
            &msg("Azure matches the spec"),
            generation,
            now,
        ),
        DriftState::Detected(m) => conditions::set(
            conds,
            DRIFTED,
            true,
            "DriftDetected",
            &msg(m),
            generation,
            now,
        ),
        DriftState::Corrected(m) => conditions::set(
            conds,
            DRIFTED,
            false,
            "DriftCorrected",
            &msg(m),
            generation,
            now,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::{find, is_true};

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(100).unwrap()
    }

    #[test]
    fn stalled_sets_ready_false_and_stalled_true_with_the_message() {
        let mut c = Vec::new();
        let phase = Phase::stalled("RegionMismatch", "endpoint in westus, vnet in eastus");
        write_conditions(&mut c, &phase, &DriftState::InSync, Some(4), now(), None);
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
            &DriftState::Detected("tags.team differs".into()),
            None,
            now(),
            Some("emulator"),
        );
        assert!(is_true(&c, READY));
        assert!(is_true(&c, DRIFTED));
        assert_eq!(
            find(&c, DRIFTED).unwrap().message,
            "tags.team differs (emulator)"
        );
        assert_eq!(
            find(&c, READY).unwrap().message,
            "scope is ready (emulator)"
        );
    }

    #[test]
    fn suspend_keeps_ready_status() {
        let mut c = Vec::new();
        write_conditions(
            &mut c,
            &Phase::ready("Succeeded", "ok"),
            &DriftState::InSync,
            None,
            now(),
            None,
        );
        write_conditions(
            &mut c,
            &Phase::Suspended,
            &DriftState::InSync,
            None,
            now(),
            None,
        );
        assert!(is_true(&c, READY));
        assert_eq!(find(&c, READY).unwrap().reason, "Suspended");
    }
}
