//! A local, stateful stand-in for Azure Resource Manager (and the Entra token endpoint), faithful
//! to the saved OpenAPI specs: same paths, api-versions, status codes, long-running operation
//! headers and error bodies. Served over HTTPS with its own CA. See DESIGN.md section 7.
//!
//! Choices where the specs are silent (what ARM answers, as far as known):
//! - api-versions: every version each provider's readme lists (one list per provider, the newest
//!   shape at every version; `versions.rs`); unsupported: 400 `InvalidApiVersionParameter`;
//!   missing: 400 `MissingApiVersionParameter`; unknown type: 404 `InvalidResourceType`; unknown
//!   namespace in `GET /subscriptions/{s}/providers/{ns}`: 404 `InvalidResourceNamespace`.
//! - request bodies: over 4 MB 413 `RequestContentTooLarge` (ARM's message); nesting deeper than
//!   64 levels 400 `InvalidRequestContent` (ARM's limit is not documented); a body that takes
//!   longer than `ConnectionLimits::body_read_timeout` to arrive 408 and the connection closed.
//! - missing `location` on PUT: 400 `LocationRequired`; changed location: 400
//!   `InvalidResourceLocation`; Private DNS outside `global`: 400
//!   `LocationNotAvailableForResourceType`.
//! - malformed id in a body: 400 `LinkedInvalidPropertyId`; well-formed id of a missing resource
//!   (subnet, scope, zone, virtual network): 400 `InvalidResourceReference` (Network's code).
//! - write to a resource that is `Deleting`/`Updating`/`Creating`: 409 `AnotherOperationInProgress`.
//! - zone delete while virtual network links exist: 400 `BadRequest`.
//! - machines are never created or deleted through ARM here (the agent does that): PUT/DELETE on a
//!   machine answers 405 `MethodNotAllowed`; fixtures and the admin API seed them.
//! - long-running operations: Network PUTs answer 201/200 with `Azure-AsyncOperation`; deletes and
//!   HybridCompute/Private DNS operations answer 202 with `Location` (and `Azure-AsyncOperation`).
//!   A failed or canceled operation's `operationResults` answers 400 with the operation's error.
//! - private endpoints to the targets in `providers/targets.rs` (Arc and Azure Monitor scopes,
//!   Key Vault, storage, Automation, resource management private links) get the names, members
//!   and zones of their group; other private link services are accepted as opaque targets
//!   (auto-approved, no IPs or DNS configs). `$top`, `$filter` (refused on resource lists) and
//!   record types other than A are not modelled; `If-Match`/`If-None-Match` are honoured by
//!   Private DNS only (412 `PreconditionFailed`, `providers/conditions.rs`).
//! - the companion targets (vaults, storage and Automation accounts, Log Analytics workspaces,
//!   data collection endpoints) are seeded only (writes answer 405), but for their endpoint
//!   connections; management groups and role assignments are seeded, and decide who may write
//!   private link associations (403 `AuthorizationFailed`, as ARM answers).
//! - ARM's cloud metadata document (`GET /metadata/endpoints?api-version=2022-09-01`) is served
//!   without a token, naming the emulator as Resource Manager and login endpoint.
//!
//! How the real services behave beyond the specs (reference/arm-behaviours.md, numbered as
//! there) is modelled too: connections and NIC names that cannot change (1, 2; Azure's codes and
//! messages), operations that fail `RetryableError` or are superseded (3, 4; by fault), names a
//! zone group covers left out of `customDnsConfigs` (5; switchable, see [`Behaviours`]), one zone
//! group per endpoint and records only in the recommended zones (6, 8), per-principal and global
//! buckets (12), tag limits (13), `serviceExtensions` by api-version (14) and what clears a
//! machine's scope (15; switchable). Codes chosen without a source: a second zone group and a
//! `requestMessage` over 140 characters answer 400 `BadRequest` (the second with Azure's
//! reported message); the tag limits answer `InvalidTagCount`, `InvalidTagNameCharacters`,
//! `InvalidTagNameLength` and `InvalidTagValueLength`.
//!
//! Network security groups are written one operation at a time: while a rule or the group is
//! written, another write to the group answers 429 `RetryableError` with the detail
//! `RetryableErrorDueToAnotherOperation`; a PUT of a group replaces its rules; a group a subnet
//! uses is not deleted (`InUseNetworkSecurityGroupCannotBeDeleted`). A virtual network linked to
//! a private DNS zone cannot be linked to another zone of the same name (the link's operation
//! fails `BadRequest`). Security rules answer what users report Network answering
//! (tests/azure-specs/SOURCES.md): `SecurityRuleConflict` for a second rule with the same
//! priority and direction, `SecurityRuleInvalidPriority` outside 100-4096,
//! `SecurityRuleParameterMissing`, `SecurityRuleInvalidProtocol`; chosen without a source:
//! `SecurityRuleInvalidAccess`, `SecurityRuleInvalidDirection` and, for a description over 140
//! characters, `SecurityRuleInvalidDescription`.

mod admin;
mod arm;
mod auth;
mod body;
pub mod cli;
mod config;
mod counters;
mod error;
mod faults;
mod fixtures;
mod hash;
mod http;
mod ids;
mod json;
mod lro;
mod metadata;
mod names;
mod persist;
mod providers;
mod seed;
mod server;
mod shared;
mod state;
mod throttle;
mod tls;
mod versions;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use admin::Admin;
pub use config::{Behaviours, Bucket, ConnectionLimits, EmulatorConfig, RateLimits, ScopeClear};
pub use counters::Counters;
pub use error::EmulatorError;
pub use faults::{Fault, FaultAction};
pub use fixtures::{
    Fixtures, MachineFixture, MachineSetFixture, ManagementGroupFixture,
    NetworkSecurityGroupFixture, PrincipalFixture, ResourceGroupFixture, RoleAssignmentFixture,
    SecurityRuleFixture, SeededFixture, SubnetFixture, SubscriptionFixture, VirtualNetworkFixture,
};

use shared::{Settings, Shared};

/// A running emulator.
pub struct Emulator {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Released after the last write of the state file.
    _lock: Option<persist::StateLock>,
}

const SETTLE_INTERVAL: Duration = Duration::from_millis(50);
const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

impl Emulator {
    /// Starts serving. With a state file: locks it (failing if another emulator uses it),
    /// restores it, and writes it once at once, so that a file that cannot be written fails
    /// here rather than after clients made changes that would be lost.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let lock = config
            .state_file
            .as_deref()
            .map(persist::lock)
            .transpose()?;
        let saved = match &config.state_file {
            Some(p) => persist::load(p)?,
            None => None,
        };
        let (ca, token_secret) = match &saved {
            Some(s) => (s.ca.clone(), s.token_secret.clone()),
            None => (tls::new_ca()?, auth::new_secret()),
        };
        let tls_config = tls::server_config(&ca)?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let host = match local.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        };
        let shared = Arc::new(Shared {
            endpoint: format!("https://{host}:{}", local.port()),
            store: Default::default(),
            ops: Default::default(),
            settings: RwLock::new(Settings {
                lro_duration: config.lro_duration,
                retry_after_secs: config.retry_after_secs,
                page_size: config.page_size.max(1),
                behaviours: config.behaviours,
            }),
            throttle: throttle::Throttle::new(config.throttling),
            faults: Default::default(),
            counters: Default::default(),
            principals: RwLock::new(Vec::new()),
            keys: auth::Keys::new(&token_secret),
            token_secret,
            ca,
            state_file: config.state_file.clone(),
        });
        let restored = saved.is_some();
        if let Some(s) = saved {
            persist::restore(&shared, s);
        }
        if let Some(f) = &config.fixtures {
            admin::load_fixtures(&shared, f, !restored)?;
        }
        if let Some(path) = &config.state_file {
            shared.store.take_dirty();
            persist::save(&shared, path)?;
        }
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(server::serve(
            listener,
            tls_config,
            shared.clone(),
            config.connections,
            stop_rx.clone(),
        ))];
        tasks.push(tokio::spawn(background(shared.clone(), stop_rx)));
        tracing::info!(endpoint = %shared.endpoint, "ARM emulator listening");
        Ok(Emulator {
            shared,
            stop,
            tasks,
            _lock: lock,
        })
    }

    /// `https://127.0.0.1:PORT`; also the Entra authority host.
    pub fn endpoint(&self) -> String {
        self.shared.endpoint.clone()
    }

    /// PEM of the CA that signed the server certificate (SANs 127.0.0.1 and localhost).
    pub fn ca_pem(&self) -> &str {
        &self.shared.ca.cert_pem
    }

    /// The bearer token for the HTTPS admin API under `/_emulator/` (an access token this
    /// emulator issued works too); it stays the same across restarts from a state file.
    pub fn admin_token(&self) -> &str {
        self.shared.keys.admin_token()
    }

    pub fn admin(&self) -> Admin {
        Admin {
            shared: self.shared.clone(),
        }
    }

    /// Stops serving and writes the state file one last time; the error says when that
    /// failed (the previous file is then left as it was).
    pub async fn shutdown(self) -> Result<(), EmulatorError> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        flush(&self.shared)
    }
}

/// Completes due operations even when nobody polls, and writes the state file when it changed.
async fn background(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut settle = tokio::time::interval(SETTLE_INTERVAL);
    let mut flush_tick = tokio::time::interval(FLUSH_INTERVAL);
    loop {
        tokio::select! {
            _ = settle.tick() => providers::settle(&shared),
            _ = flush_tick.tick() => {
                // Tried again on the next tick and at shutdown, whose error ends the command.
                if let Err(e) = flush(&shared) {
                    tracing::warn!(error = %e, "cannot write the emulator state file");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Writes the state file if it changed since the last write.
fn flush(shared: &Shared) -> Result<(), EmulatorError> {
    let Some(path) = &shared.state_file else {
        return Ok(());
    };
    if !shared.store.take_dirty() {
        return Ok(());
    }
    persist::save(shared, path).inspect_err(|_| shared.store.mark_dirty())
}
