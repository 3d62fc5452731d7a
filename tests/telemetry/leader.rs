use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use arclink::{
    controller::leader::{Elector, ElectorHandle, LeaderArgs},
    telemetry::{Health, Metrics},
};
use tokio::sync::watch;

use super::fake_lease_api::{FakeLeaseApi, Frontend};

const NS: &str = "arclink-system";
const LEASE: &str = "arclink-leader";
// Short so the tests run quickly: renew every 4s, standbys re-check every 1.2s, each Lease
// request times out after 666ms.
const DURATION: Duration = Duration::from_secs(6);

struct Instance {
    identity: String,
    is_leader: watch::Receiver<bool>,
    handle: ElectorHandle,
    health: Health,
    metrics: Metrics,
}

fn args(identity: &str) -> LeaderArgs {
    LeaderArgs {
        leader_elect: true,
        lease_name: LEASE.into(),
        lease_namespace: NS.into(),
        lease_duration: DURATION,
        identity: Some(identity.into()),
    }
}

fn start(frontend: &Frontend, identity: &str) -> Instance {
    let health = Health::new(["ArcPrivateLinkScope"], true);
    let metrics = Metrics::new();
    let (is_leader, handle) = Elector::start(
        frontend.config(),
        &args(identity),
        health.clone(),
        metrics.clone(),
    )
    .unwrap();
    Instance {
        identity: identity.into(),
        is_leader,
        handle,
        health,
        metrics,
    }
}

/// Fails the test if both instances ever claim leadership at the same moment.
fn watch_overlap(a: &Instance, b: &Instance) -> Arc<AtomicBool> {
    let overlap = Arc::new(AtomicBool::new(false));
    let (mut a, mut b) = (a.is_leader.clone(), b.is_leader.clone());
    let seen = overlap.clone();
    tokio::spawn(async move {
        loop {
            if *a.borrow() && *b.borrow() {
                seen.store(true, Ordering::SeqCst);
            }
            tokio::select! {
                r = a.changed() => if r.is_err() { return },
                r = b.changed() => if r.is_err() { return },
            }
        }
    });
    overlap
}

async fn wait_leading(instance: &mut Instance, within: Duration) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(within, instance.is_leader.wait_for(|leading| *leading))
        .await
        .unwrap_or_else(|_| panic!("{} did not lead within {within:?}", instance.identity))
        .unwrap();
    started.elapsed()
}

async fn elect_one(api: &FakeLeaseApi, frontend: &Frontend) -> (Instance, Instance) {
    let mut a = start(frontend, "a");
    let mut b = start(frontend, "b");
    tokio::select! {
        _ = a.is_leader.wait_for(|l| *l) => {},
        _ = b.is_leader.wait_for(|l| *l) => {},
        _ = tokio::time::sleep(Duration::from_secs(5)) => panic!("nobody became leader"),
    }
    let (leader, standby) = if *a.is_leader.borrow() {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(
        api.holder(NS, LEASE).as_deref(),
        Some(leader.identity.as_str())
    );
    (leader, standby)
}

#[tokio::test]
async fn exactly_one_leads_and_a_released_lease_is_taken_over_at_once() {
    let api = FakeLeaseApi::default();
    let frontend = api.frontend().await;
    let (leader, mut standby) = elect_one(&api, &frontend).await;
    let overlap = watch_overlap(&leader, &standby);

    // Longer than a renewal period: the leader renews, the standby keeps standing by.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(*leader.is_leader.borrow());
    assert!(!*standby.is_leader.borrow());
    assert_eq!(
        standby.health.readiness(),
        Ok(()),
        "a healthy standby is ready"
    );
    assert!(
        leader
            .health
            .readiness()
            .unwrap_err()
            .contains("ArcPrivateLinkScope"),
        "a leader is not ready before its caches sync"
    );
    leader.health.set_synced("ArcPrivateLinkScope");
    assert_eq!(leader.health.readiness(), Ok(()));
    assert!(leader.metrics.encode().contains("arclink_leader 1"));
    assert!(standby.metrics.encode().contains("arclink_leader 0"));

    let mut old_leader_rx = leader.is_leader.clone();
    leader.handle.step_down().await.unwrap();
    assert!(
        !*old_leader_rx.borrow_and_update(),
        "stepping down clears is_leader"
    );
    assert_eq!(
        api.holder(NS, LEASE),
        None,
        "stepping down releases the lease"
    );

    let took = wait_leading(&mut standby, DURATION).await;
    assert!(took < DURATION, "takeover after release took {took:?}");
    assert_eq!(api.holder(NS, LEASE), Some(standby.identity.clone()));
    assert!(!overlap.load(Ordering::SeqCst), "two leaders at once");
}

#[tokio::test]
async fn standby_takes_over_after_the_lease_of_a_dead_leader_expires() {
    let api = FakeLeaseApi::default();
    let frontend = api.frontend().await;
    let (leader, mut standby) = elect_one(&api, &frontend).await;

    // Dropping the handle aborts the election without releasing: the process died.
    drop(leader);
    let lease = api.lease(NS, LEASE).unwrap();
    let renewed: jiff::Timestamp = lease["spec"]["renewTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expiry = renewed + jiff::SignedDuration::try_from(DURATION).unwrap();

    wait_leading(&mut standby, DURATION + Duration::from_secs(2)).await;
    assert!(
        jiff::Timestamp::now() >= expiry,
        "standby took a lease that had not expired yet (expiry {expiry})"
    );
    assert_eq!(api.holder(NS, LEASE), Some(standby.identity.clone()));
}

async fn partitioned_leader_stops_before_the_standby_starts(cut: impl FnOnce(&Frontend)) {
    let api = FakeLeaseApi::default();
    let (front_a, front_b) = (api.frontend().await, api.frontend().await);
    let mut a = start(&front_a, "a");
    wait_leading(&mut a, Duration::from_secs(5)).await;
    let mut b = start(&front_b, "b");
    let overlap = watch_overlap(&a, &b);

    cut(&front_a);
    tokio::time::timeout(DURATION, a.is_leader.wait_for(|l| !*l))
        .await
        .expect("a partitioned leader must give up leadership before its lease expires")
        .unwrap();
    assert!(
        a.health
            .readiness()
            .unwrap_err()
            .contains("Lease arclink-system/arclink-leader")
    );

    wait_leading(&mut b, DURATION + Duration::from_secs(2)).await;
    assert_eq!(api.holder(NS, LEASE).as_deref(), Some("b"));
    assert!(!overlap.load(Ordering::SeqCst), "two leaders at once");
}

#[tokio::test]
async fn a_leader_whose_renewals_fail_stops_leading_before_the_standby_starts() {
    partitioned_leader_stops_before_the_standby_starts(Frontend::fail).await;
}

#[tokio::test]
async fn a_leader_whose_renewals_hang_stops_leading_before_the_standby_starts() {
    partitioned_leader_stops_before_the_standby_starts(Frontend::hang).await;
}

#[tokio::test]
async fn without_leader_election_the_instance_always_leads() {
    let api = FakeLeaseApi::default();
    let frontend = api.frontend().await;
    let metrics = Metrics::new();
    let mut args = args("solo");
    args.leader_elect = false;
    let (is_leader, handle) = Elector::start(
        frontend.config(),
        &args,
        Health::new(["A"], false),
        metrics.clone(),
    )
    .unwrap();
    assert!(*is_leader.borrow());
    assert!(metrics.encode().contains("arclink_leader 1"));
    assert_eq!(api.lease(NS, LEASE), None, "no Lease is touched");
    handle.step_down().await.unwrap();
}

#[tokio::test]
async fn a_lease_duration_under_two_seconds_is_rejected() {
    let api = FakeLeaseApi::default();
    let frontend = api.frontend().await;
    let mut args = args("x");
    args.lease_duration = Duration::from_millis(1500);
    let error = Elector::start(
        frontend.config(),
        &args,
        Health::new(["A"], true),
        Metrics::new(),
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("--lease-duration"), "{error}");
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    leader: LeaderArgs,
}

#[test]
fn leader_flags_have_the_documented_defaults() {
    use clap::Parser;
    let cli = Cli::try_parse_from(["arclink"]).unwrap();
    assert!(!cli.leader.leader_elect);
    assert_eq!(cli.leader.lease_name, "arclink-leader");
    assert_eq!(cli.leader.lease_duration, Duration::from_secs(15));
    let cli = Cli::try_parse_from([
        "arclink",
        "--leader-elect",
        "--lease-duration",
        "30s",
        "--identity",
        "pod-1",
    ])
    .unwrap();
    assert!(cli.leader.leader_elect);
    assert_eq!(cli.leader.lease_duration, Duration::from_secs(30));
    assert_eq!(cli.leader.identity.as_deref(), Some("pod-1"));
}
