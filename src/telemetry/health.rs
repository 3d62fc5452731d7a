//! Liveness/readiness state shared between the controller and the probe server.

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

/// Where this instance stands in leader election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderState {
    /// The elector has not talked to the API server yet.
    Starting,
    Leading,
    /// Another instance holds the lease and this one is ready to take over.
    Standby,
    /// The elector cannot reach or update the Lease; the reason is reported by /readyz.
    Failed(String),
}

/// Cheap-to-clone handle the controller updates and /readyz reads.
#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<RwLock<State>>,
}

#[derive(Debug)]
struct State {
    synced: BTreeMap<String, bool>,
    leader_election: bool,
    leader: LeaderState,
}

impl Health {
    /// `kinds` are the watched kinds whose caches must sync before the instance is ready.
    pub fn new<K: Into<String>>(kinds: impl IntoIterator<Item = K>, leader_election: bool) -> Self {
        let synced = kinds.into_iter().map(|k| (k.into(), false)).collect();
        Self {
            inner: Arc::new(RwLock::new(State {
                synced,
                leader_election,
                leader: LeaderState::Starting,
            })),
        }
    }

    pub fn set_synced(&self, kind: &str) {
        self.write().synced.insert(kind.to_owned(), true);
    }

    /// A new term as leader (leading after not leading) starts with new caches: the instance is
    /// not ready until they sync again.
    pub fn set_leader_state(&self, state: LeaderState) {
        let mut current = self.write();
        if state == LeaderState::Leading && current.leader != LeaderState::Leading {
            current
                .synced
                .values_mut()
                .for_each(|synced| *synced = false);
        }
        current.leader = state;
    }

    /// `Ok` when ready, otherwise a short reason for the 503 body.
    ///
    /// A standby is ready without synced caches: it does not watch until it leads, and a
    /// rolling update must not wait for a standby to become leader.
    pub fn readiness(&self) -> Result<(), String> {
        let state = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if state.leader_election {
            match &state.leader {
                LeaderState::Starting => return Err("leader election has not started".into()),
                LeaderState::Failed(reason) => return Err(format!("leader election: {reason}")),
                LeaderState::Standby => return Ok(()),
                LeaderState::Leading => {}
            }
        }
        let pending: Vec<&str> = state
            .synced
            .iter()
            .filter(|(_, synced)| !**synced)
            .map(|(kind, _)| kind.as_str())
            .collect();
        if pending.is_empty() {
            Ok(())
        } else {
            Err(format!("caches not synced: {}", pending.join(", ")))
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}
