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
// Short so the tests run quickly: renew (and re-check as a standby) every second, each Lease
// request times out after a second, a leader whose renewals fail gives up after 4s.
const DURATION: Duration = Duration::from_secs(6);
const RENEW_DEADLINE: Duration = Duration::from_secs(4);
const RETRY: Duration = Duration::from_secs(1);

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
        lease_renew_deadline: RENEW_DEADLINE,
        lease_retry_period: RETRY,
        identity: Some(identity.into()),
    }
}

fn start(frontend: &Frontend, identity: &str) -> Instance {
    start_with(frontend, args(identity))
}

fn start_with(frontend: &Frontend, args: LeaderArgs) -> Instance {
    let identity = args.identity.clone().unwrap();
    let health = Health::new(["ArcPrivateLinkScope"], true);
    let metrics = Metrics::new();
    let (is_leader, handle) =
        Elector::start(frontend.config(), &args, health.clone(), metrics.clone()).unwrap();
    Instance {
        identity,
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

/// Fails the test's later check if `instance` ever stops leading.
fn watch_lost(instance: &Instance) -> Arc<AtomicBool> {
    let lost = Arc::new(AtomicBool::new(false));
    let mut rx = instance.is_leader.clone();
    let seen = lost.clone();
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            if !*rx.borrow() {
                seen.store(true, Ordering::SeqCst);
            }
        }
    });
    lost
}

fn renewed_at(api: &FakeLeaseApi) -> jiff::Timestamp {
    api.lease(NS, LEASE).unwrap()["spec"]["renewTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

// Longer than the defaults of the other tests, so that timing has room on a loaded machine:
// renewals fail for 3s, well inside a 7s renew deadline.
fn patient(identity: &str) -> LeaderArgs {
    LeaderArgs {
        lease_duration: Duration::from_secs(10),
        lease_renew_deadline: Duration::from_secs(7),
        ..args(identity)
    }
}

#[tokio::test]
async fn a_leader_keeps_leading_through_renewal_failures_shorter_than_the_renew_deadline() {
    let api = FakeLeaseApi::default();
    let (front_a, front_b) = (api.frontend().await, api.frontend().await);
    let mut a = start_with(&front_a, patient("a"));
    wait_leading(&mut a, Duration::from_secs(5)).await;
    let b = start_with(&front_b, patient("b"));
    let lost = watch_lost(&a);
    let overlap = watch_overlap(&a, &b);

    // An API server restart, as seen from the leader.
    front_a.fail();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = renewed_at(&api);
    front_a.restore();
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert!(!lost.load(Ordering::SeqCst), "the leader stepped down");
    assert!(*a.is_leader.borrow());
    assert!(!*b.is_leader.borrow());
    assert!(!overlap.load(Ordering::SeqCst), "two leaders at once");
    assert_eq!(api.holder(NS, LEASE).as_deref(), Some("a"));
    assert!(renewed_at(&api) > before, "renewals resumed");
    a.health.set_synced("ArcPrivateLinkScope");
    assert_eq!(
        a.health.readiness(),
        Ok(()),
        "a leader that renews again is ready"
    );
}

#[tokio::test]
async fn a_leader_whose_renewals_fail_past_the_renew_deadline_steps_down_before_the_lease_expires()
{
    let api = FakeLeaseApi::default();
    let (front_a, front_b) = (api.frontend().await, api.frontend().await);
    let mut a = start_with(&front_a, patient("a"));
    wait_leading(&mut a, Duration::from_secs(5)).await;
    let mut b = start_with(&front_b, patient("b"));
    let overlap = watch_overlap(&a, &b);

    front_a.fail();
    let cut = Instant::now();
    let last_renewal = renewed_at(&api);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(*a.is_leader.borrow(), "gave up before the renew deadline");
    tokio::time::timeout(Duration::from_secs(10), a.is_leader.wait_for(|l| !*l))
        .await
        .expect("a leader that cannot renew must step down")
        .unwrap();
    let expiry = last_renewal + jiff::SignedDuration::from_secs(10);
    assert!(
        jiff::Timestamp::now() < expiry,
        "stepped down {:?} after the failures began, after its lease expired",
        cut.elapsed()
    );
    assert!(
        a.health
            .readiness()
            .unwrap_err()
            .contains("not renewed within the renew deadline")
    );
    assert!(a.metrics.encode().contains("arclink_leader 0"));

    wait_leading(&mut b, Duration::from_secs(15)).await;
    assert_eq!(api.holder(NS, LEASE).as_deref(), Some("b"));
    assert!(!overlap.load(Ordering::SeqCst), "two leaders at once");
}

#[tokio::test]
async fn renew_deadline_and_retry_period_are_checked_against_the_lease_duration() {
    let api = FakeLeaseApi::default();
    let frontend = api.frontend().await;
    let refused = |args: LeaderArgs| {
        Elector::start(
            frontend.config(),
            &args,
            Health::new(["A"], true),
            Metrics::new(),
        )
        .err()
        .unwrap()
        .to_string()
    };
    let error = refused(LeaderArgs {
        lease_renew_deadline: DURATION,
        ..args("x")
    });
    assert!(
        error.contains("--lease-renew-deadline") && error.contains("--lease-duration"),
        "{error}"
    );
    let error = refused(LeaderArgs {
        lease_retry_period: RENEW_DEADLINE,
        ..args("x")
    });
    assert!(error.contains("--lease-retry-period"), "{error}");
    let error = refused(LeaderArgs {
        lease_retry_period: Duration::ZERO,
        ..args("x")
    });
    assert!(error.contains("--lease-retry-period"), "{error}");
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
    assert_eq!(cli.leader.lease_renew_deadline, Duration::from_secs(10));
    assert_eq!(cli.leader.lease_retry_period, Duration::from_secs(2));
    // Reconciles still running when leadership is lost get half of the 5s left of the lease.
    assert_eq!(cli.leader.grace_after_loss(), Duration::from_millis(2500));
    let cli = Cli::try_parse_from([
        "arclink",
        "--leader-elect",
        "--lease-duration",
        "30s",
        "--lease-renew-deadline",
        "20s",
        "--lease-retry-period",
        "3s",
        "--identity",
        "pod-1",
    ])
    .unwrap();
    assert!(cli.leader.leader_elect);
    assert_eq!(cli.leader.lease_duration, Duration::from_secs(30));
    assert_eq!(cli.leader.lease_renew_deadline, Duration::from_secs(20));
    assert_eq!(cli.leader.lease_retry_period, Duration::from_secs(3));
    assert_eq!(cli.leader.identity.as_deref(), Some("pod-1"));
    for flag in [
        "--lease-duration",
        "--lease-renew-deadline",
        "--lease-retry-period",
    ] {
        let err = Cli::try_parse_from(["arclink", flag, "99999999999999999h"])
            .err()
            .unwrap_or_else(|| panic!("{flag} accepted an absurd duration"));
        assert!(err.to_string().contains(flag), "{err}");
    }
}

/// Issue 22: past the renew deadline the leader stops leading (before its lease can expire),
/// says so in its metrics and readiness, and stands for election again in the same process:
/// with nobody else standing, it leads again once the API server answers, with a new term
/// whose caches must sync before it is ready.
#[tokio::test]
async fn a_leader_past_the_renew_deadline_stands_again_and_leads_again_in_the_same_process() {
    let api = FakeLeaseApi::default();
    let front = api.frontend().await;
    let mut a = start(&front, "a");
    wait_leading(&mut a, Duration::from_secs(5)).await;
    a.health.set_synced("ArcPrivateLinkScope");
    assert!(
        a.metrics
            .encode()
            .contains("arclink_leadership_lost_total 0")
    );

    front.fail();
    let last_renewal = renewed_at(&api);
    tokio::time::timeout(DURATION, a.is_leader.wait_for(|l| !*l))
        .await
        .expect("a leader that cannot renew stops leading")
        .unwrap();
    assert!(
        jiff::Timestamp::now() < last_renewal + jiff::SignedDuration::try_from(DURATION).unwrap(),
        "stopped leading after its lease could expire"
    );
    let metrics = a.metrics.encode();
    assert!(metrics.contains("arclink_leader 0"), "{metrics}");
    assert!(
        metrics.contains("arclink_leadership_lost_total 1"),
        "{metrics}"
    );
    let not_ready = a.health.readiness().unwrap_err();
    assert!(
        not_ready.contains("not renewed within the renew deadline"),
        "{not_ready}"
    );

    front.restore();
    wait_leading(&mut a, Duration::from_secs(10)).await;
    assert_eq!(api.holder(NS, LEASE).as_deref(), Some("a"));
    assert!(a.metrics.encode().contains("arclink_leader 1"));
    let syncing = a.health.readiness().unwrap_err();
    assert!(
        syncing.contains("caches not synced"),
        "a new term waits for its caches: {syncing}"
    );
    a.health.set_synced("ArcPrivateLinkScope");
    assert_eq!(a.health.readiness(), Ok(()));
    a.handle.step_down().await.unwrap();
}

/// The same with a standby: it takes over once the lease expired; the old leader, answered
/// again, stands by (ready, not leading) and takes over at once when the new leader steps down.
/// Never two leaders.
#[tokio::test]
async fn a_leader_that_lost_to_a_standby_stands_by_and_can_lead_again() {
    let api = FakeLeaseApi::default();
    let (front_a, front_b) = (api.frontend().await, api.frontend().await);
    let mut a = start(&front_a, "a");
    wait_leading(&mut a, Duration::from_secs(5)).await;
    let mut b = start(&front_b, "b");
    let overlap = watch_overlap(&a, &b);

    front_a.fail();
    wait_leading(&mut b, DURATION + Duration::from_secs(4)).await;
    assert!(!*a.is_leader.borrow());
    front_a.restore();
    tokio::time::timeout(Duration::from_secs(5), async {
        while a.health.readiness().is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the old leader stands by again (a healthy standby is ready)");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!*a.is_leader.borrow(), "the lease is b's");
    assert!(a.metrics.encode().contains("arclink_leader 0"));

    b.handle.step_down().await.unwrap();
    let took = wait_leading(&mut a, DURATION).await;
    assert!(took < DURATION, "takeover after release took {took:?}");
    assert_eq!(api.holder(NS, LEASE).as_deref(), Some("a"));
    assert!(!overlap.load(Ordering::SeqCst), "two leaders at once");
    a.handle.step_down().await.unwrap();
}
