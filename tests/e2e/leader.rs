//! Leader election against a real cluster (Kubernetes 1.32). The namespace comes from
//! ARCLINK_E2E_NAMESPACE (default `default`) and must allow creating Leases.

use std::time::{Duration, Instant};

use arclink::{
    controller::leader::{Elector, ElectorHandle, LeaderArgs},
    telemetry::{Health, Metrics},
};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client, Config, api::DeleteParams};
use tokio::sync::watch;

use crate::support::{cluster_config, shared_namespace};

const DURATION: Duration = Duration::from_secs(6);

fn start(
    config: &Config,
    namespace: &str,
    lease: &str,
    identity: &str,
) -> (watch::Receiver<bool>, ElectorHandle) {
    let args = LeaderArgs {
        leader_elect: true,
        lease_name: lease.into(),
        lease_namespace: namespace.into(),
        lease_duration: DURATION,
        lease_renew_deadline: Duration::from_secs(4),
        lease_retry_period: Duration::from_secs(1),
        identity: Some(identity.into()),
    };
    Elector::start(
        config.clone(),
        &args,
        Health::new(["ArcPrivateLinkScope"], true),
        Metrics::new(),
    )
    .unwrap()
}

async fn holder(api: &Api<Lease>, lease: &str) -> Option<String> {
    api.get(lease)
        .await
        .unwrap()
        .spec
        .and_then(|s| s.holder_identity)
}

async fn wait_leading(rx: &mut watch::Receiver<bool>, within: Duration) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(within, rx.wait_for(|l| *l))
        .await
        .expect("no takeover in time")
        .unwrap();
    started.elapsed()
}

#[tokio::test]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn two_electors_fail_over_on_a_real_cluster() {
    let config = cluster_config().await;
    let namespace = shared_namespace();
    let client = Client::try_from(config.clone()).unwrap();
    let lease = format!(
        "arclink-e2e-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let api: Api<Lease> = Api::namespaced(client.clone(), &namespace);

    let (mut a_rx, a) = start(&config, &namespace, &lease, "e2e-a");
    wait_leading(&mut a_rx, Duration::from_secs(10)).await;
    let (mut b_rx, b) = start(&config, &namespace, &lease, "e2e-b");
    tokio::time::sleep(DURATION).await;
    assert!(*a_rx.borrow() && !*b_rx.borrow(), "exactly one leader");
    assert_eq!(holder(&api, &lease).await.as_deref(), Some("e2e-a"));

    // Clean step-down: b takes over well before a lease duration.
    a.step_down().await.unwrap();
    let took = wait_leading(&mut b_rx, DURATION).await;
    assert!(took < DURATION, "takeover after release took {took:?}");
    assert_eq!(holder(&api, &lease).await.as_deref(), Some("e2e-b"));

    // Crash: c takes over only after b's lease expires.
    let (mut c_rx, c) = start(&config, &namespace, &lease, "e2e-c");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!*c_rx.borrow());
    drop(b);
    wait_leading(&mut c_rx, DURATION + Duration::from_secs(4)).await;
    assert_eq!(holder(&api, &lease).await.as_deref(), Some("e2e-c"));

    c.step_down().await.unwrap();
    api.delete(&lease, &DeleteParams::default()).await.unwrap();
}
