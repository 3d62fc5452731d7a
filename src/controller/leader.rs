//! Leader election on a `coordination.k8s.io/v1` Lease: only the leader reconciles; a standby
//! takes over within the lease duration after the leader dies, and at once (within one retry
//! period) after the leader steps down. kube-lease-manager acquires the Lease; the leader renews
//! it itself every retry period, so that it knows when it last succeeded and keeps leading through
//! failed renewals until the renew deadline has passed since then (controller-runtime's rule).
//! Past it the instance stops leading and stands for election again in the same process
//! ([`super::term`] stops the reconciles before the lease can expire).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client, Config};
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseParams};
use serde_json::json;
use tokio::{
    sync::{oneshot, watch},
    task::JoinHandle,
    time::Instant,
};

use crate::api::duration_up_to;

/// Upper bound of the lease timings: a standby waits at most this long for a dead leader.
const MAX_LEASE_TIMING: Duration = Duration::from_secs(3600);
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
    #[arg(long, env = "ARCLINK_LEASE_DURATION", default_value = "15s", value_parser = duration_up_to(MAX_LEASE_TIMING))]
    pub lease_duration: Duration,
    /// How long the leader keeps leading while its renewals fail, counted from the last one that
    /// succeeded; it then stops reconciling and stands for election again. Must be shorter
    /// than --lease-duration.
    #[arg(long, env = "ARCLINK_LEASE_RENEW_DEADLINE", default_value = "10s", value_parser = duration_up_to(MAX_LEASE_TIMING))]
    pub lease_renew_deadline: Duration,
    /// How often the leader renews the Lease (and retries a failed renewal) and a standby checks
    /// it; also the bound on each Lease request. Must be shorter than --lease-renew-deadline.
    #[arg(long, env = "ARCLINK_LEASE_RETRY_PERIOD", default_value = "2s", value_parser = duration_up_to(MAX_LEASE_TIMING))]
    pub lease_retry_period: Duration,
    /// Identity written into the Lease; defaults to the host name plus a random suffix.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("--lease-duration {0:?} is too short: leader election needs at least 2s")]
    LeaseDurationTooShort(Duration),
    #[error(
        "--lease-renew-deadline {renew_deadline:?} must be shorter than --lease-duration {lease_duration:?}: a leader that cannot renew must stop before its lease expires and a standby takes over"
    )]
    RenewDeadlineNotBelowLeaseDuration {
        renew_deadline: Duration,
        lease_duration: Duration,
    },
    #[error(
        "--lease-retry-period {retry_period:?} must be more than zero and shorter than --lease-renew-deadline {renew_deadline:?}, so that a failed renewal is retried before the deadline"
    )]
    RetryPeriodNotBelowRenewDeadline {
        retry_period: Duration,
        renew_deadline: Duration,
    },
    #[error("releasing Lease {namespace}/{name}: {source}")]
    Release {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
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

impl LeaderArgs {
    /// How long reconciles already running may go on once leadership is lost: half of what is
    /// left of the lease after the renew deadline (the lease can expire `--lease-duration` after
    /// the last renewal, the deadline is `--lease-renew-deadline` after it), so that they end
    /// before another instance can take over.
    pub fn grace_after_loss(&self) -> Duration {
        self.lease_duration
            .saturating_sub(self.lease_renew_deadline)
            / 2
    }

    fn validate(&self) -> Result<(), LeaderError> {
        if self.lease_duration.as_secs() < 2 {
            return Err(LeaderError::LeaseDurationTooShort(self.lease_duration));
        }
        if self.lease_renew_deadline >= self.lease_duration {
            return Err(LeaderError::RenewDeadlineNotBelowLeaseDuration {
                renew_deadline: self.lease_renew_deadline,
                lease_duration: self.lease_duration,
            });
        }
        if self.lease_retry_period.is_zero() || self.lease_retry_period >= self.lease_renew_deadline
        {
            return Err(LeaderError::RetryPeriodNotBelowRenewDeadline {
                retry_period: self.lease_retry_period,
                renew_deadline: self.lease_renew_deadline,
            });
        }
        Ok(())
    }
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
        args.validate()?;
        let seconds = args.lease_duration.as_secs();
        let client = Client::try_from(bounded_config(config, args.lease_retry_period)).map_err(
            |source| LeaderError::Client {
                namespace: args.lease_namespace.clone(),
                name: args.lease_name.clone(),
                source,
            },
        )?;
        let identity = args.identity.clone().unwrap_or_else(default_identity);
        let election = Election {
            client,
            // The manager only acquires; its own renewal schedule (the grace) is never used.
            params: LeaseParams::new(identity.clone(), seconds, (seconds / 3).max(1)),
            lease_seconds: seconds,
            identity,
            name: args.lease_name.clone(),
            namespace: args.lease_namespace.clone(),
            retry: args.lease_retry_period,
            renew_deadline: args.lease_renew_deadline,
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
    task: JoinHandle<Result<(), kube::Error>>,
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
    lease_seconds: u64,
    identity: String,
    name: String,
    namespace: String,
    retry: Duration,
    renew_deadline: Duration,
    health: Health,
    metrics: Metrics,
}

/// How a term as leader ended.
enum Term {
    Stopped,
    Lost,
}

impl Election {
    async fn run(
        self,
        is_leader: watch::Sender<bool>,
        mut stop: oneshot::Receiver<()>,
    ) -> Result<(), kube::Error> {
        loop {
            if !self.acquire(&mut stop).await {
                return Ok(());
            }
            match self.lead(&is_leader, &mut stop).await {
                Term::Lost => {}
                Term::Stopped => {
                    self.publish(&is_leader, false);
                    tracing::info!(lease = %self.name, identity = %self.identity, "stepping down");
                    return self.release().await;
                }
            }
        }
    }

    /// Stands by until the Lease is this instance's; false when asked to stop first.
    async fn acquire(&self, stop: &mut oneshot::Receiver<()>) -> bool {
        let mut failures: u32 = 0;
        loop {
            // A fresh manager re-reads the Lease. kube-lease-manager only re-reads it when its
            // cached copy expires, so a standby rebuilds it every retry period to notice a
            // released lease at once.
            let manager = tokio::select! {
                _ = &mut *stop => return false,
                manager = LeaseManager::new(
                    self.client.clone(),
                    &self.name,
                    &self.namespace,
                    self.params.clone(),
                    LeaseCreateMode::AutoCreate,
                ) => manager,
            };
            let result = match manager {
                Ok(manager) => {
                    // The Lease is readable, so this instance is at least a healthy standby.
                    self.health.set_leader_state(LeaderState::Standby);
                    tokio::select! {
                        biased;
                        _ = &mut *stop => return false,
                        changed = manager.changed() => changed.map(Some),
                        _ = tokio::time::sleep(self.retry) => Ok(None),
                    }
                }
                Err(error) => Err(error),
            };
            match result {
                Ok(Some(true)) => return true,
                Ok(_) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(lease = %self.name, namespace = %self.namespace, %error, "leader election request failed");
                    self.health.set_leader_state(LeaderState::Failed(format!(
                        "Lease {}/{}: {error}",
                        self.namespace, self.name
                    )));
                    // Back off after a failure.
                    let delay = self.retry.saturating_mul(failures.min(8));
                    tokio::select! {
                        _ = &mut *stop => return false,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Renews the Lease every retry period and leads while it can. A failed renewal is retried:
    /// a short API server outage (a control-plane upgrade) must not cost the leadership. But once
    /// the renew deadline has passed since the last renewal that succeeded, this instance stops
    /// leading, before its lease can expire and a standby take over.
    async fn lead(
        &self,
        is_leader: &watch::Sender<bool>,
        stop: &mut oneshot::Receiver<()>,
    ) -> Term {
        // Leadership is published after the first renewal of its own: the manager may have found
        // a lease this identity held before a restart, about to expire.
        let mut renewed = Instant::now();
        let mut next_attempt = renewed;
        let mut leading = false;
        let mut last_error = String::new();
        loop {
            let deadline = renewed + self.renew_deadline;
            let attempt = async {
                tokio::time::sleep_until(next_attempt).await;
                let started = Instant::now();
                (started, self.renew().await)
            };
            let (started, result) = tokio::select! {
                biased;
                _ = &mut *stop => return Term::Stopped,
                _ = tokio::time::sleep_until(deadline) => {
                    self.give_up(is_leader, leading, &last_error);
                    return Term::Lost;
                }
                attempt = attempt => attempt,
            };
            next_attempt = started + self.retry;
            match result {
                Ok(true) => {
                    renewed = started;
                    if !last_error.is_empty() {
                        tracing::info!(lease = %self.name, identity = %self.identity, "Lease renewed again");
                        last_error.clear();
                    }
                    if !leading {
                        leading = true;
                        self.publish(is_leader, true);
                    }
                }
                Ok(false) => {
                    tracing::warn!(lease = %self.name, identity = %self.identity, "Lease taken over by another instance");
                    if leading {
                        self.metrics.leadership_lost();
                    }
                    self.publish(is_leader, false);
                    return Term::Lost;
                }
                Err(error) => {
                    tracing::warn!(
                        lease = %self.name, namespace = %self.namespace, %error,
                        still_leading_for = ?deadline.saturating_duration_since(Instant::now()),
                        "Lease renewal failed; retrying until the renew deadline"
                    );
                    last_error = error.to_string();
                }
            }
        }
    }

    /// One renewal; false when the Lease no longer names this instance. The write carries the
    /// version read, so a takeover between the two requests makes it fail instead of being
    /// overwritten.
    async fn renew(&self) -> Result<bool, kube::Error> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &self.namespace);
        let lease = api.get(&self.name).await?;
        if !self.holds(&lease) {
            return Ok(false);
        }
        let patch = json!({
            "metadata": {"resourceVersion": lease.metadata.resource_version},
            "spec": {
                "renewTime": MicroTime(k8s_openapi::jiff::Timestamp::now()),
                "leaseDurationSeconds": self.lease_seconds,
            },
        });
        api.patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(true)
    }

    /// Clears the holder so that a standby takes over at once; a Lease held by another instance
    /// is left alone.
    async fn release(&self) -> Result<(), kube::Error> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &self.namespace);
        let lease = api.get(&self.name).await?;
        if !self.holds(&lease) {
            return Ok(());
        }
        let patch = json!({
            "metadata": {"resourceVersion": lease.metadata.resource_version},
            "spec": {
                "holderIdentity": null,
                "acquireTime": null,
                "renewTime": null,
                "leaseDurationSeconds": null,
            },
        });
        api.patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(())
    }

    fn holds(&self, lease: &Lease) -> bool {
        lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref())
            == Some(self.identity.as_str())
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

    /// The renew deadline passed without a renewal: stop leading now, before the lease expires
    /// (then stand for election again).
    fn give_up(&self, is_leader: &watch::Sender<bool>, leading: bool, last_error: &str) {
        if leading {
            tracing::warn!(
                lease = %self.name, identity = %self.identity, renew_deadline = ?self.renew_deadline,
                "leadership given up: the Lease was not renewed within the renew deadline; standing for election again"
            );
            self.metrics.leadership_lost();
        }
        self.publish(is_leader, false);
        self.health.set_leader_state(LeaderState::Failed(format!(
            "Lease {}/{}: not renewed within the renew deadline of {:?}: {last_error}",
            self.namespace, self.name, self.renew_deadline
        )));
    }
}

/// Every Lease request is bounded by the retry period, so a hanging one is retried in time. The
/// elector retries by itself, so kube's own retries (which could outlast the renew deadline) are
/// off.
fn bounded_config(mut config: Config, request: Duration) -> Config {
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
