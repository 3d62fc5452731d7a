//! Counts of machines by state, and the bounded list of machines that are not associated, so an
//! association of 10,000 servers keeps a status far below etcd's object size limit.

use std::collections::BTreeMap;

use crate::api::association::{AssociationSummary, MachineStatus};

/// Most machines listed in `status.machines`; the rest are counted in `machinesOmitted`.
pub const MAX_LISTED: usize = 100;

/// State of one machine, as `status.machines[].state` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineState {
    Associated,
    Pending,
    Conflict,
    RegionMismatch,
    NotFound,
    Failed,
    /// Not associated and drift policy `Report` forbids the write.
    Drifted,
}

impl MachineState {
    pub fn as_str(self) -> &'static str {
        match self {
            MachineState::Associated => "Associated",
            MachineState::Pending => "Pending",
            MachineState::Conflict => "Conflict",
            MachineState::RegionMismatch => "RegionMismatch",
            MachineState::NotFound => "NotFound",
            MachineState::Failed => "Failed",
            MachineState::Drifted => "Drifted",
        }
    }
}

/// State of one machine's `configurationAccessEndpoint` (`spec.monitoring`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorState {
    Associated,
    Pending,
    /// No endpoint of the spec is in the machine's region: nothing is written.
    NoRegionalEndpoint,
    Conflict,
    Failed,
    /// Not as the spec says and drift policy `Report` forbids the write.
    Drifted,
}

impl MonitorState {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorState::Associated => "Associated",
            MonitorState::Pending => "Pending",
            MonitorState::NoRegionalEndpoint => "NoRegionalEndpoint",
            MonitorState::Conflict => "Conflict",
            MonitorState::Failed => "Failed",
            MonitorState::Drifted => "Drifted",
        }
    }
}

/// Accumulates one pass's machine states. The listed machines are the first [`MAX_LISTED`] by
/// name, so the list does not depend on ARM's page order and does not churn between passes.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub summary: AssociationSummary,
    /// Machines with drift policy `Report` that are not associated (counted as pending).
    pub drifted: u32,
    /// Machines with drift policy `Report` whose endpoint association is not as the spec says.
    pub monitor_drifted: u32,
    listed: BTreeMap<String, MachineStatus>,
    omitted: u32,
}

impl Tally {
    pub fn add(&mut self, name: &str, state: MachineState, message: Option<String>) {
        let s = &mut self.summary;
        match state {
            MachineState::NotFound => s.not_found += 1,
            _ => s.matched += 1,
        }
        match state {
            MachineState::Associated => {
                s.associated += 1;
                return;
            }
            MachineState::Pending => s.pending += 1,
            MachineState::Drifted => {
                s.pending += 1;
                self.drifted += 1;
            }
            MachineState::Conflict => s.conflict += 1,
            MachineState::RegionMismatch => s.region_mismatch += 1,
            MachineState::NotFound => {}
            MachineState::Failed => s.failed += 1,
        }
        self.list(name, state.as_str(), message);
    }

    /// Adds the state of a machine's endpoint association. A machine listed for its scope
    /// keeps that state, the association's message added to it.
    pub fn monitor(&mut self, name: &str, state: MonitorState, message: Option<String>) {
        let m = self.summary.monitoring.get_or_insert_with(Default::default);
        match state {
            MonitorState::Associated => {
                m.associated += 1;
                return;
            }
            MonitorState::Pending => m.pending += 1,
            MonitorState::NoRegionalEndpoint => m.no_regional_endpoint += 1,
            MonitorState::Conflict => m.conflict += 1,
            MonitorState::Failed => m.failed += 1,
            MonitorState::Drifted => self.monitor_drifted += 1,
        }
        let message = format!(
            "configurationAccessEndpoint {}: {}",
            state.as_str(),
            message.unwrap_or_default()
        );
        if let Some(listed) = self.listed.get_mut(name) {
            let kept = listed.message.take().unwrap_or_default();
            listed.message = Some(format!("{kept}; {message}"));
            return;
        }
        self.list(name, state.as_str(), Some(message));
    }

    fn list(&mut self, name: &str, state: &str, message: Option<String>) {
        self.listed.insert(
            name.to_string(),
            MachineStatus {
                name: name.to_string(),
                state: state.to_string(),
                message,
            },
        );
        if self.listed.len() > MAX_LISTED {
            self.listed.pop_last();
            self.omitted += 1;
        }
    }

    /// `status.machines` and `status.machinesOmitted`.
    pub fn into_listed(self) -> (Vec<MachineStatus>, Option<u32>) {
        let omitted = (self.omitted > 0).then_some(self.omitted);
        (self.listed.into_values().collect(), omitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_at_most_100_by_name_and_counts_the_rest() {
        let mut t = Tally::default();
        for i in (0..250).rev() {
            t.add(&format!("m-{i:03}"), MachineState::Pending, None);
        }
        for i in 0..50 {
            t.add(&format!("a-{i:03}"), MachineState::Associated, None);
        }
        t.add("zz-missing", MachineState::NotFound, None);
        assert_eq!(t.summary.matched, 300);
        assert_eq!(t.summary.associated, 50);
        assert_eq!(t.summary.pending, 250);
        assert_eq!(t.summary.not_found, 1);
        let (listed, omitted) = t.into_listed();
        assert_eq!(listed.len(), MAX_LISTED);
        assert_eq!(omitted, Some(151));
        assert_eq!(listed[0].name, "m-000");
        assert_eq!(listed[99].name, "m-099");
        assert!(listed.iter().all(|m| m.state == "Pending"));
    }
}
