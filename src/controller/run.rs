//! `arclink run`: the in-cluster controller.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector;
use kube::runtime::watcher::{self, watcher};
use kube::runtime::{PredicateConfig, WatchStreamExt};
use kube::{Api, Client};

use super::context::{Context, Stores};
use super::kind::{self, Kind, Watch};
use super::leader::{Elector, LeaderArgs};
use super::term::{self, Ended, Grace, Trigger};
use crate::api::conditions::{DRIFTED, READY, STALLED};
use crate::api::{KINDS, ManagedStatus};
use crate::connect::AzureArgs;
use crate::connect::credentials::{ArmConfig, ArmPool, identity_from_env};
use crate::connect::{EmulatorFlags, start_emulator};
use crate::reconcile::Settings;
use crate::telemetry::server::{HEADER_READ_TIMEOUT, ServerState, bind, serve};
use crate::telemetry::{Health, LeaderState, Metrics, ShutdownArgs, TelemetryArgs, shutdown};

/// Flags of `arclink run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "ARCLINK_NAMESPACE")]
    pub namespace: Option<String>,
    /// Objects of each kind reconciled at the same time (kube-runtime reads 0 as unbounded).
    #[arg(long, env = "ARCLINK_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub leader: LeaderArgs,
    #[command(flatten)]
    pub shutdown: ShutdownArgs,
    /// Talk to an embedded in-process ARM emulator instead of Azure, seeded from
    /// --emulator-fixtures, to watch the controller converge the examples without an Azure
    /// subscription. Nothing it creates exists in Azure; logs and every condition message say so.
    #[arg(long, env = "ARCLINK_EMULATOR")]
    pub emulator: bool,
    #[command(flatten)]
    pub emulator_flags: EmulatorFlags,
}

/// Why the controller stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("connecting to Kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error(transparent)]
    Leader(#[from] super::leader::LeaderError),
    #[error("leader election ended unexpectedly (see the log)")]
    ElectionEnded,
    #[error("embedded ARM emulator: {0}")]
    Emulator(#[from] crate::emulator::EmulatorError),
}

/// Runs the controller until SIGTERM/SIGINT.
pub async fn run(args: RunArgs) -> Result<(), RunError> {
    let kube_config = kube::Config::infer()
        .await
        .map_err(|e| RunError::Config(format!("no Kubernetes configuration: {e}")))?;
    if args.emulator {
        return run_on_emulator(kube_config, args).await;
    }
    let config = ArmConfig {
        cloud: args.azure.cloud().map_err(RunError::Config)?,
        ca_pem: args.azure.ca_pem().map_err(RunError::Config)?,
        api_versions: args.azure.api_versions(),
        rate_limits: args.azure.rate_limits(),
        default_identity: identity_from_env(),
    };
    let settings = args.azure.settings(false, false);
    // A bad --arm-ca-file must stop the start, not surface later as every object's status.
    crate::azure::transport::http_client(config.ca_pem.as_deref())
        .map_err(|e| RunError::Config(format!("--arm-ca-file: {e}")))?;
    tracing::info!(cluster = %settings.cluster_name, arm = %config.cloud.arm_endpoint, "starting arclink controller");
    run_with(kube_config, args, settings, ArmPool::new(config)).await
}

/// `run --emulator`: the controller against an embedded ARM emulator.
async fn run_on_emulator(kube_config: kube::Config, args: RunArgs) -> Result<(), RunError> {
    if args.azure.arm_endpoint.is_some() {
        return Err(RunError::Config(
            "--emulator and --arm-endpoint exclude each other".into(),
        ));
    }
    let emulator = start_emulator(&args.emulator_flags)
        .await
        .map_err(|e| RunError::Config(e.to_string()))?;
    let endpoint = emulator.endpoint();
    let mut config = ArmConfig::emulator(&endpoint, emulator.ca_pem()).map_err(RunError::Config)?;
    config.rate_limits = args.azure.rate_limits();
    let settings = args.azure.settings(true, false);
    tracing::warn!(
        arm = %endpoint,
        fixtures = %args.emulator_flags.emulator_fixtures.display(),
        "NOT TALKING TO AZURE: --emulator is set, every ARM call goes to an embedded in-process emulator; nothing the controller creates exists in Azure"
    );
    let result = run_with(kube_config, args, settings, ArmPool::new(config)).await;
    let stopped = emulator.shutdown().await;
    tracing::warn!(
        "the embedded ARM emulator stopped: its resources are gone unless --emulator-state was set"
    );
    result?;
    Ok(stopped?)
}

/// Runs the controller with a prepared ARM pool (also used by `run --emulator`).
pub async fn run_with(
    kube_config: kube::Config,
    args: RunArgs,
    settings: Settings,
    pool: ArmPool,
) -> Result<(), RunError> {
    let client = Client::try_from(kube_config.clone())?;
    let metrics = Metrics::new();
    let pool = pool.with_metrics(metrics.clone());
    let health = Health::new(KINDS, args.leader.leader_elect);
    let stop: Trigger = shutdown::signal()?.map(|_| ()).boxed().shared();

    let listener = bind(args.telemetry.metrics_addr).await?;
    let server = tokio::spawn(serve(
        listener,
        ServerState {
            metrics: metrics.clone(),
            health: health.clone(),
        },
        HEADER_READ_TIMEOUT,
        stop.clone(),
    ));

    let (is_leader, elector) =
        Elector::start(kube_config, &args.leader, health.clone(), metrics.clone())?;
    let grace = Grace {
        lost: args.leader.grace_after_loss(),
        stop: args.shutdown.shutdown_timeout,
    };
    // The pool outlives the terms: its tokens and rate-limit buckets are the process's.
    let pool = Arc::new(pool);
    let ended = term::lead(is_leader, stop.clone(), grace, |trigger| {
        run_term(
            &client,
            &args,
            settings.clone(),
            pool.clone(),
            metrics.clone(),
            health.clone(),
            trigger,
        )
    })
    .await;
    let result = match ended {
        Ended::Stopped => Ok(()),
        Ended::ElectorGone => Err(RunError::ElectionEnded),
    };
    if let Err(e) = shutdown::bounded(
        "releasing the leader lease",
        Duration::from_secs(5),
        elector.step_down(),
    )
    .await
    {
        tracing::warn!(error = %e, "leader lease not released");
    }
    server.abort();
    tracing::info!("arclink stopped");
    result
}

/// One term as leader: the controllers of every kind, until `trigger` (leadership lost, or
/// shutdown) and their in-flight reconciles end.
async fn run_term(
    client: &Client,
    args: &RunArgs,
    settings: Settings,
    pool: Arc<ArmPool>,
    metrics: Metrics,
    health: Health,
    trigger: Trigger,
) {
    health.set_leader_state(LeaderState::Leading);
    let reporter = Reporter {
        controller: "arclink".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let namespace = args.namespace.as_deref();
    let controllers = Controllers::new(client, namespace, args.concurrency);
    let ctx = Arc::new(Context::new(
        client.clone(),
        settings,
        pool,
        metrics,
        recorder,
        controllers.stores(),
    ));
    controllers
        .run(client, namespace, &ctx, &health, &trigger)
        .await;
}

/// `K` in `namespace`, or in all namespaces.
pub(crate) fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

macro_rules! controllers {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// The controller of every kind, before they run.
        struct Controllers {
            $($field: Controller<crate::api::$kind>,)*
        }

        impl Controllers {
            fn new(client: &Client, namespace: Option<&str>, concurrency: u16) -> Controllers {
                Controllers {
                    $($field: new_controller(client, namespace, concurrency),)*
                }
            }

            /// Their caches, where each kind looks up the objects of the others.
            fn stores(&self) -> Stores {
                Stores {
                    $($field: self.$field.store(),)*
                }
            }

            /// Runs them all until `stop` resolves.
            async fn run(
                self,
                client: &Client,
                namespace: Option<&str>,
                ctx: &Arc<Context>,
                health: &Health,
                stop: &Trigger,
            ) {
                futures::join!($(run_controller(
                    self.$field,
                    client,
                    namespace,
                    ctx.clone(),
                    health.clone(),
                    stop.clone(),
                )),*);
            }
        }
    };
}
crate::kinds::kinds!(controllers);

/// The controller of kind `K`, before it runs: its store is what the others look objects of
/// `K` up in. The store sees every change; a reconcile is triggered only by the changes in
/// [`what_triggers`].
fn new_controller<K: Kind>(
    client: &Client,
    namespace: Option<&str>,
    concurrency: u16,
) -> Controller<K> {
    let (store, writer) = reflector::store();
    let changes = watcher(api::<K>(client, namespace), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(what_triggers::<K>, PredicateConfig::default());
    Controller::for_stream(changes, store)
        .with_config(ControllerConfig::default().concurrency(concurrency))
}

/// What of an object triggers its reconcile: its spec (the generation), labels, annotations,
/// finalizers and deletion. Not its status: arclink's own status write would otherwise come
/// back through the watch and reconcile the object (and read Azure) a second time at once.
/// Azure is re-read on the drift check's schedule, not on watch events.
pub fn what_triggers<K: kube::Resource>(obj: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = obj.meta();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut h);
    meta.labels.hash(&mut h);
    meta.annotations.hash(&mut h);
    meta.finalizers.hash(&mut h);
    meta.deletion_timestamp.is_some().hash(&mut h);
    Some(h.finish())
}

/// Runs the controller of kind `K` until `stop` resolves.
async fn run_controller<K: Kind>(
    controller: Controller<K>,
    client: &Client,
    namespace: Option<&str>,
    ctx: Arc<Context>,
    health: Health,
    stop: Trigger,
) {
    let watch = Watch {
        client,
        namespace,
        declared: &ctx.declared,
    };
    let controller = K::configure(controller, &watch);
    let store = controller.store();
    let metrics = ctx.metrics.clone();
    // Aborted when the term's work is dropped too (see `term`), not only when it ends.
    let _gauges = AbortOnDrop(tokio::spawn(async move {
        if store.wait_until_ready().await.is_ok() {
            health.set_synced(K::KIND);
        }
        loop {
            let objects: Vec<Vec<Condition>> = store
                .state()
                .iter()
                .map(|o| {
                    o.status()
                        .cloned()
                        .map(|s| s.common().conditions.clone())
                        .unwrap_or_default()
                })
                .collect();
            record(&metrics, K::KIND, &objects);
            tokio::time::sleep(Duration::from_secs(15)).await;
        }
    }));
    controller
        .graceful_shutdown_on(stop)
        .run(kind::reconcile::<K>, kind::error_policy::<K>, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(kind = K::KIND, error = %e, "reconcile error");
            }
        })
        .await;
}

/// A task that ends with its handle.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sets the objects-by-condition gauges of `kind`.
fn record(metrics: &Metrics, kind: &str, objects: &[Vec<Condition>]) {
    for t in [READY, STALLED, DRIFTED] {
        for status in ["True", "False", "Unknown"] {
            let n = objects
                .iter()
                .filter(|c| {
                    crate::api::conditions::find(c, t)
                        .map(|c| c.status.as_str())
                        .unwrap_or("Unknown")
                        == status
                })
                .count();
            metrics.set_objects(kind, t, status, n as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::api::ArcPrivateLinkScope;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn status_and_resource_version_do_not_trigger_but_spec_and_metadata_do() {
        let mut obj: ArcPrivateLinkScope = serde_json::from_value(serde_json::json!({
            "apiVersion": "arclink.io/v1alpha1", "kind": "ArcPrivateLinkScope",
            "metadata": {"name": "s", "namespace": "ns", "generation": 1, "resourceVersion": "1"},
            "spec": {"azure": {"resourceGroup": "rg"}, "location": "eastus"},
        }))
        .unwrap();
        let before = what_triggers(&obj);
        obj.metadata.resource_version = Some("2".into());
        obj.status = Some(Default::default());
        assert_eq!(what_triggers(&obj), before, "a status write");
        let changes: [fn(&mut ArcPrivateLinkScope); 5] = [
            |o| o.metadata.generation = Some(2),
            |o| o.metadata.labels = Some([("a".into(), "b".into())].into()),
            |o| o.metadata.annotations = Some([("a".into(), "b".into())].into()),
            |o| o.metadata.finalizers = Some(vec![crate::api::FINALIZER.into()]),
            |o| {
                o.metadata.deletion_timestamp = Some(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
                )
            },
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = obj.clone();
            change(&mut changed);
            assert_ne!(what_triggers(&changed), before, "change {i}");
        }
    }

    #[test]
    fn concurrency_must_be_at_least_one() {
        let ok = Cli::try_parse_from(["arclink", "--concurrency", "2"]).unwrap();
        assert_eq!(ok.run.concurrency, 2);
        let err = Cli::try_parse_from(["arclink", "--concurrency", "0"]).unwrap_err();
        assert!(err.to_string().contains("--concurrency"), "{err}");
    }
}
