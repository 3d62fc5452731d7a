//! Leader election on a `coordination.k8s.io/v1` Lease (kube-lease-manager): only the leader
//! reconciles; a standby takes over within the lease duration after the leader dies, and at
//! once (within one retry period) after the leader steps down.

use std::time::Duration;

use kube::{Client, Config};
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerError, LeaseParams};
use tokio::{
    sync::{oneshot, watch},
    task::JoinHandle,
};

use crate::api::parse_duration;
use crate::telemetry::{Health, LeaderState, Metrics};

/// Leader election flags of `arclink run`.
#[derive(Debug, Clone, clap::Args)]
pub struct LeaderArgs {
    /// Elect one active replica through a Lease; the others stand by (on in deploy/).
    #[arg(long, env = "ARCLINK_LEADER_ELECT")]
    pub leader_elect: bool,
    /// Name of the coordination.k8s.io/v1 Lease used for leader election.
    #[arg(long, env = "ARCLINK_LEASE_NAME", default_value = "arclink-leader")]
    pub lease_name: String,
    /// Namespace of the Lease (the controller's own namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "arclink-system")]
    pub lease_namespace: String,
    /// How long a lease stays valid without renewal; a standby takes over after this when the
    /// leader dies (at least 2s).
    #[arg(long, env = "ARCLINK_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// Identity written into the Lease; defaults to the host name plus a random suffix.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("--lease-duration {0:?} is too short: leader election needs at least 2s")]
    LeaseDurationTooShort(Duration),
    #[error("releasing Lease {namespace}/{name}: {source}")]
    Release {
        namespace: String,
        name: String,
        #[source]
        source: LeaseManagerError,
    },
    #[error("building the Kubernetes client for Lease {namespace}/{name}: {source}")]
    Client {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("leader election task for Lease {namespace}/{name} panicked")]
    TaskPanicked { namespace: String, name: String },
}

/// Runs leader election until [`ElectorHandle::step_down`].
pub struct Elector;

impl Elector {
    /// Starts electing and returns `is_leader` (gate reconciling on it) and the handle that
    /// releases the lease on shutdown. With `--leader-elect` off, `is_leader` is always true.
    /// Keeps `health` (readiness) and the leader gauge of `metrics` current.
    ///
    /// Takes the cluster `Config` rather than a `Client` because the elector needs its own
    /// client with every request bounded well inside the lease: kube's default has no read
    /// timeout, and a leader whose renewal hangs would keep reconciling after its lease
    /// expired and a standby took over.
    pub fn start(
        config: Config,
        args: &LeaderArgs,
        health: Health,
        metrics: Metrics,
    ) -> Result<(watch::Receiver<bool>, ElectorHandle), LeaderError> {
        if !args.leader_elect {
            metrics.set_leader(true);
            let (tx, rx) = watch::channel(true);
            return Ok((
                rx,
                ElectorHandle {
                    run: None,
                    _always_leader: Some(tx),
                },
            ));
        }
        let seconds = args.lease_duration.as_secs();
        if seconds < 2 {
            return Err(LeaderError::LeaseDurationTooShort(args.lease_duration));
        }
        // Renew a third of the duration before expiry: that margin absorbs slow API calls and
        // clock skew between nodes.
        let grace = (seconds / 3).max(1);
        let client = Client::try_from(bounded_config(config, Duration::from_secs(grace))).map_err(
            |source| LeaderError::Client {
                namespace: args.lease_namespace.clone(),
                name: args.lease_name.clone(),
                source,
            },
        )?;
        let identity = args.identity.clone().unwrap_or_else(default_identity);
        let election = Election {
            client,
            params: LeaseParams::new(identity.clone(), seconds, grace),
            identity,
            name: args.lease_name.clone(),
            namespace: args.lease_namespace.clone(),
            retry: (args.lease_duration / 5).max(Duration::from_millis(200)),
            health,
            metrics,
        };
        election.metrics.set_leader(false);
        let (tx, rx) = watch::channel(false);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(election.run(tx, stopped));
        Ok((
            rx,
            ElectorHandle {
                run: Some(Running {
                    stop,
                    task,
                    name: args.lease_name.clone(),
                    namespace: args.lease_namespace.clone(),
                }),
                _always_leader: None,
            },
        ))
    }
}

/// Stops leader election. Dropping it without [`step_down`](Self::step_down) aborts the
/// election without releasing the lease, like a crash: a standby waits for expiry.
pub struct ElectorHandle {
    run: Option<Running>,
    // Keeps the constant `true` channel open while leader election is off.
    _always_leader: Option<watch::Sender<bool>>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), LeaseManagerError>>,
    name: String,
    namespace: String,
}

impl ElectorHandle {
    /// Stops renewing, sets `is_leader` to false and releases the lease so a standby takes
    /// over immediately. Bound it with `telemetry::shutdown::bounded`.
    pub async fn step_down(mut self) -> Result<(), LeaderError> {
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        // The task may already have ended; it then has nothing left to release.
        let _ = run.stop.send(());
        match run.task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(LeaderError::Release {
                namespace: run.namespace,
                name: run.name,
                source,
            }),
            Err(_) => Err(LeaderError::TaskPanicked {
                namespace: run.namespace,
                name: run.name,
            }),
        }
    }
}

impl Drop for ElectorHandle {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            run.task.abort();
        }
    }
}

struct Election {
    client: Client,
    params: LeaseParams,
    identity: String,
    name: String,
    namespace: String,
    retry: Duration,
    health: Health,
    metrics: Metrics,
}

impl Election {
    async fn run(
        self,
        is_leader: watch::Sender<bool>,
        mut stop: oneshot::Receiver<()>,
    ) -> Result<(), LeaseManagerError> {
        let mut failures: u32 = 0;
        loop {
            // A fresh manager re-reads the Lease. kube-lease-manager only re-reads it when its
            // cached copy expires, so a standby rebuilds it every retry period to notice a
            // released lease at once.
            let manager = tokio::select! {
                _ = &mut stop => return Ok(()),
                manager = LeaseManager::new(
                    self.client.clone(),
                    &self.name,
                    &self.namespace,
                    self.params.clone(),
                    LeaseCreateMode::AutoCreate,
                ) => manager,
            };
            let manager = match manager {
                Ok(manager) => {
                    // The Lease is readable, so this instance is at least a healthy standby.
                    if !*is_leader.borrow() {
                        self.health.set_leader_state(LeaderState::Standby);
                    }
                    manager
                }
                Err(error) => {
                    self.failed(&is_leader, &error, &mut failures);
                    if self.pause(&mut stop, failures).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            loop {
                let leading = *is_leader.borrow();
                let standby_recheck = async {
                    if leading {
                        std::future::pending::<()>().await
                    } else {
                        tokio::time::sleep(self.retry).await
                    }
                };
                tokio::select! {
                    biased;
                    _ = &mut stop => {
                        self.publish(&is_leader, false);
                        tracing::info!(lease = %self.name, identity = %self.identity, "stepping down");
                        return manager.release().await;
                    }
                    changed = manager.changed() => match changed {
                        Ok(now_leading) => {
                            failures = 0;
                            self.publish(&is_leader, now_leading);
                        }
                        Err(error) => {
                            self.failed(&is_leader, &error, &mut failures);
                            if self.pause(&mut stop, failures).await {
                                return Ok(());
                            }
                            break;
                        }
                    },
                    _ = standby_recheck => {
                        failures = 0;
                        break;
                    }
                }
            }
        }
    }

    fn publish(&self, is_leader: &watch::Sender<bool>, leading: bool) {
        let previous = is_leader.send_replace(leading);
        if previous != leading {
            tracing::info!(lease = %self.name, identity = %self.identity, leading, "leadership changed");
        }
        self.metrics.set_leader(leading);
        self.health.set_leader_state(if leading {
            LeaderState::Leading
        } else {
            LeaderState::Standby
        });
    }

    /// Stops leading at once when the Lease cannot be read or renewed: another instance may
    /// take it over after expiry, and two leaders must never reconcile at the same time.
    fn failed(
        &self,
        is_leader: &watch::Sender<bool>,
        error: &LeaseManagerError,
        failures: &mut u32,
    ) {
        *failures = failures.saturating_add(1);
        if is_leader.send_replace(false) {
            tracing::warn!(lease = %self.name, identity = %self.identity, "leadership given up: lease cannot be renewed");
        }
        self.metrics.set_leader(false);
        tracing::warn!(lease = %self.name, namespace = %self.namespace, %error, "leader election request failed");
        self.health.set_leader_state(LeaderState::Failed(format!(
            "Lease {}/{}: {error}",
            self.namespace, self.name
        )));
    }

    /// Backs off after a failure; true when asked to stop meanwhile.
    async fn pause(&self, stop: &mut oneshot::Receiver<()>, failures: u32) -> bool {
        let delay = self.retry.saturating_mul(failures.min(8));
        tokio::select! {
            _ = stop => true,
            _ = tokio::time::sleep(delay) => false,
        }
    }
}

/// Every Lease request must fail before the renewal margin runs out. The elector retries by
/// itself, so kube's own retries (which could outlast the margin) are off.
fn bounded_config(mut config: Config, margin: Duration) -> Config {
    // A renewal is a PATCH and a GET, and failing must leave time to stop reconciling.
    let request = margin / 3;
    config.connect_timeout = Some(request);
    config.read_timeout = Some(request);
    config.write_timeout = Some(request);
    config.reset_reader_on_write = true;
    config.default_retry = false;
    config
}

fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "arclink".to_owned());
    // Two processes on one host (local runs, tests) must not share an identity.
    format!("{host}_{}", uuid::Uuid::new_v4().simple())
}
