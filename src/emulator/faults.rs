//! Injected faults: error statuses, latency, and long-running operations that end badly.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// Longest `forSeconds` a fault may ask for: a day is longer than any test or demo.
pub const MAX_FAULT_SECONDS: f64 = 86_400.0;

/// A fault to inject into ARM requests. Without `times` or `for_duration` it stays until
/// [`super::Admin::clear_faults`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    pub action: FaultAction,
    #[serde(default)]
    pub times: Option<u32>,
    #[serde(default)]
    pub for_seconds: Option<f64>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Only requests with this HTTP method (case-insensitive).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path contains this text (case-insensitive).
    #[serde(default)]
    pub path_contains: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultAction {
    /// Answer with this status and an ARM error body (429 uses `SubscriptionRequestsThrottled`)
    /// with `code` and `message` when given. With `applied`, the request takes effect first
    /// and the error is answered anyway (reference/arm-behaviours.md 3: a 500 while the
    /// resource is created).
    #[serde(rename_all = "camelCase")]
    Status {
        status: u16,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        applied: bool,
    },
    /// Delay the request, then handle it normally.
    Latency { ms: u64 },
    /// The next long-running operation started ends `Failed` with this error.
    LroFailure { code: String, message: String },
    /// The next long-running operation started ends `Canceled`.
    LroCanceled,
}

impl Fault {
    fn new(action: FaultAction) -> Fault {
        Fault {
            action,
            times: None,
            for_seconds: None,
            retry_after: None,
            method: None,
            path_contains: None,
        }
    }

    pub fn status(status: u16) -> Fault {
        Fault::new(FaultAction::Status {
            status,
            code: None,
            message: None,
            applied: false,
        })
    }

    pub fn latency(ms: u64) -> Fault {
        Fault::new(FaultAction::Latency { ms })
    }

    pub fn lro_failure(code: &str, message: &str) -> Fault {
        Fault::new(FaultAction::LroFailure {
            code: code.to_string(),
            message: message.to_string(),
        })
    }

    pub fn lro_canceled() -> Fault {
        Fault::new(FaultAction::LroCanceled)
    }

    pub fn code(mut self, code: &str) -> Fault {
        if let FaultAction::Status { code: c, .. } = &mut self.action {
            *c = Some(code.to_string());
        }
        self
    }

    pub fn message(mut self, message: &str) -> Fault {
        if let FaultAction::Status { message: m, .. } = &mut self.action {
            *m = Some(message.to_string());
        }
        self
    }

    /// The request takes effect before the injected error is answered.
    pub fn applied(mut self) -> Fault {
        if let FaultAction::Status { applied, .. } = &mut self.action {
            *applied = true;
        }
        self
    }

    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    pub fn for_duration(mut self, d: Duration) -> Fault {
        self.for_seconds = Some(d.as_secs_f64());
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Fault {
        self.retry_after = Some(secs);
        self
    }

    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_string());
        self
    }

    pub fn path_contains(mut self, s: &str) -> Fault {
        self.path_contains = Some(s.to_string());
        self
    }

    /// Why the fault makes no sense, for a 400 of `POST /_emulator/faults`.
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = self.for_seconds
            && !(0.0..=MAX_FAULT_SECONDS).contains(&s)
        {
            return Err(format!(
                "forSeconds must be a number of seconds from 0 to {MAX_FAULT_SECONDS}, not {s}"
            ));
        }
        match self.action {
            FaultAction::Status { status, .. } if !(400..=599).contains(&status) => Err(format!(
                "status must be an HTTP error status (400 to 599), not {status}"
            )),
            _ => Ok(()),
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()))
    }
}

struct Active {
    fault: Fault,
    remaining: Option<u32>,
    until: Option<Instant>,
}

#[derive(Default)]
pub struct Faults {
    active: Mutex<Vec<Active>>,
}

/// What the request path must do because of faults.
#[derive(Debug, Default)]
pub struct RequestFaults {
    pub latency: Duration,
    pub status: Option<InjectedStatus>,
}

/// An error status to answer instead of (or, `applied`, after) handling the request.
#[derive(Debug)]
pub struct InjectedStatus {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub retry_after: Option<u64>,
    pub applied: bool,
}

impl Faults {
    /// Adds a fault; a `for_seconds` out of range is clamped to it (the HTTP route refuses it
    /// with [`Fault::check`] instead).
    pub fn inject(&self, fault: Fault) {
        let until = fault.for_seconds.map(|s| {
            let secs = if s.is_nan() {
                0.0
            } else {
                s.clamp(0.0, MAX_FAULT_SECONDS)
            };
            Instant::now() + Duration::from_secs_f64(secs)
        });
        self.active.lock().push(Active {
            remaining: fault.times,
            until,
            fault,
        });
    }

    pub fn clear(&self) {
        self.active.lock().clear();
    }

    pub fn is_empty(&self) -> bool {
        self.active.lock().is_empty()
    }

    fn prune(active: &mut Vec<Active>) {
        let now = Instant::now();
        active.retain(|a| a.remaining != Some(0) && a.until.is_none_or(|u| now < u));
    }

    /// Faults for an incoming request; consumes one use of each fault that fires.
    pub fn for_request(&self, method: &str, path: &str) -> RequestFaults {
        let mut active = self.active.lock();
        Self::prune(&mut active);
        let mut out = RequestFaults::default();
        for a in active.iter_mut() {
            if !a.fault.matches(method, path) {
                continue;
            }
            match &a.fault.action {
                FaultAction::Latency { ms } => {
                    out.latency += Duration::from_millis(*ms);
                }
                FaultAction::Status {
                    status,
                    code,
                    message,
                    applied,
                } if out.status.is_none() => {
                    out.status = Some(InjectedStatus {
                        status: *status,
                        code: code.clone(),
                        message: message.clone(),
                        retry_after: a.fault.retry_after,
                        applied: *applied,
                    });
                }
                _ => continue,
            }
            if let Some(r) = a.remaining.as_mut() {
                *r -= 1;
            }
        }
        out
    }

    /// The failure planned for a long-running operation started by this request, if any.
    pub fn for_operation(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut active = self.active.lock();
        Self::prune(&mut active);
        let a = active.iter_mut().find(|a| {
            matches!(
                a.fault.action,
                FaultAction::LroFailure { .. } | FaultAction::LroCanceled
            ) && a.fault.matches(method, path)
        })?;
        if let Some(r) = a.remaining.as_mut() {
            *r -= 1;
        }
        Some(a.fault.action.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_is_refused_by_check_and_clamped_by_inject() {
        for s in [
            1e300,
            f64::INFINITY,
            f64::NAN,
            -1.0,
            MAX_FAULT_SECONDS + 1.0,
        ] {
            let mut fault = Fault::status(429);
            fault.for_seconds = Some(s);
            let err = fault.check().unwrap_err();
            assert!(err.contains("forSeconds"), "{s}: {err}");
            Faults::default().inject(fault);
        }
        let faults = Faults::default();
        let mut long = Fault::status(503);
        long.for_seconds = Some(1e300);
        faults.inject(long);
        assert_eq!(
            faults.for_request("GET", "/x").status.map(|s| s.status),
            Some(503)
        );
        assert!(Fault::status(200).check().unwrap_err().contains("status"));
        let fine = Fault::status(429).for_duration(Duration::from_secs(5));
        assert_eq!(fine.check(), Ok(()));
    }
}
