//! 429 storms and the client's own per-subscription buckets.

use super::common::*;
use arclink::azure::models::Machine;
use arclink::azure::{ArmClient, BucketLimits, RateLimits};
use arclink::emulator::{Bucket, EmulatorConfig, Fault};
use std::time::{Duration, Instant};

#[tokio::test]
async fn storm_pauses_the_subscription_once_and_sends_few_requests() {
    let emu = emulator(EmulatorConfig::default()).await;
    let client = client(&emu);
    // Warm up the token so that the storm only sees ARM requests.
    let _: Option<Machine> = client.get(&machine(0)).await.unwrap();
    emu.admin().reset_counters();
    emu.admin().inject(
        Fault::status(429)
            .for_duration(Duration::from_secs(5))
            .retry_after(2),
    );
    let started = Instant::now();
    const CALLERS: usize = 20;
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get::<Machine>(&machine(i % MACHINES)).await })
        })
        .collect();
    for t in tasks {
        let m = t.await.unwrap().unwrap();
        assert!(m.is_some());
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(5),
        "finished during the storm: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(12), "took {elapsed:?}");
    let counters = emu.admin().counters();
    let throttled = counters.status(429);
    // The callers already in flight get 429 once each; afterwards one probe per Retry-After.
    assert!(throttled >= 1);
    assert!(
        throttled <= (CALLERS + 4) as u64,
        "{throttled} requests throttled"
    );
    assert_eq!(counters.status(200), CALLERS as u64);
    let stats = client.metrics().throttle();
    assert!(stats.pauses >= 1 && stats.pauses <= 4, "{stats:?}");
    assert_eq!(client.metrics().request_count("GET", 429), throttled);
}

#[tokio::test]
async fn client_buckets_keep_below_the_emulator_limits() {
    let limits = arclink::emulator::RateLimits {
        reads: Bucket {
            burst: 10,
            per_second: 20.0,
        },
        ..Default::default()
    };
    let emu = emulator(EmulatorConfig {
        throttling: Some(limits),
        ..Default::default()
    })
    .await;
    let mut options = options(&emu);
    options.rate_limits = RateLimits {
        reads: BucketLimits {
            burst: 10,
            per_second: 20.0,
        },
        ..RateLimits::default()
    };
    let client = ArmClient::new(options).unwrap();
    // One request to fetch the token and open the connection.
    let _: Option<Machine> = client.get(&machine(0)).await.unwrap();
    emu.admin().reset_counters();
    let started = Instant::now();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get::<Machine>(&machine(i % MACHINES)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    let counters = emu.admin().counters();
    assert_eq!(
        counters.status(429),
        0,
        "client overran the emulator's bucket"
    );
    assert_eq!(counters.status(200), 40);
    // 40 reads with ~9 tokens left and 20/s refill need at least ~1.5 s.
    assert!(elapsed >= Duration::from_millis(1400), "{elapsed:?}");
    let buckets = client.metrics().buckets();
    assert!(
        buckets
            .iter()
            .any(|b| b.subscription == SUB.to_ascii_lowercase())
    );
}
