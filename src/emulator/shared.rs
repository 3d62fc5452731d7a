//! State shared by the server, the admin handle and the background tasks.

use std::path::PathBuf;
use std::time::Duration;

use parking_lot::RwLock;

use super::auth::Keys;
use super::config::Behaviours;
use super::counters::CounterSet;
use super::faults::Faults;
use super::fixtures::PrincipalFixture;
use super::lro::Operations;
use super::state::Store;
use super::throttle::Throttle;
use super::tls::CaMaterial;

#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub lro_duration: Duration,
    pub retry_after_secs: u64,
    pub page_size: usize,
    pub behaviours: Behaviours,
}

pub struct Shared {
    pub endpoint: String,
    pub store: Store,
    pub ops: Operations,
    pub settings: RwLock<Settings>,
    pub throttle: Throttle,
    pub faults: Faults,
    pub counters: CounterSet,
    pub principals: RwLock<Vec<PrincipalFixture>>,
    /// Persisted in the state file; `keys` are derived from it.
    pub token_secret: String,
    pub keys: Keys,
    pub ca: CaMaterial,
    pub state_file: Option<PathBuf>,
}

impl Shared {
    pub fn settings(&self) -> Settings {
        *self.settings.read()
    }
}
