//! Write-rate benchmark: N machine PATCHes across T tasks against the in-process emulator whose
//! write bucket refills at R per second. Prints the achieved rate and the 429s received.
//!
//! cargo bench --bench write_rate_bench -- [--rate R] [--burst B] [--count N] [--tasks T]

use arclink::azure::credentials::CredentialSource;
use arclink::azure::models::{Machine, MachineUpdate};
use arclink::azure::{
    ArmClient, ArmClientOptions, BucketLimits, Cloud, CredentialCache, RateLimits, ResourceId,
    Write,
};
use arclink::emulator::{Bucket, Emulator, EmulatorConfig, Fixtures};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const SUB: &str = "0b1e4c2d-7a6f-4e3b-9c8d-5f4a3b2c1d0e";
const RG: &str = "rg-bench";

struct Args {
    rate: f64,
    burst: u32,
    count: usize,
    tasks: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rate: 200.0,
        burst: 200,
        count: 10_000,
        tasks: 16,
    };
    // `cargo bench` appends `--bench`.
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--rate" => args.rate = value.parse().map_err(|e| bad(&e))?,
            "--burst" => args.burst = value.parse().map_err(|e| bad(&e))?,
            "--count" => args.count = value.parse().map_err(|e| bad(&e))?,
            "--tasks" => args.tasks = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.rate <= 0.0 || args.count == 0 || args.tasks == 0 {
        return Err("--rate, --count and --tasks must be positive".into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let fixtures = Fixtures::from_yaml(&format!(
        "subscriptions:\n  - id: {SUB}\nresourceGroups:\n  - subscriptionId: {SUB}\n    name: {RG}\n    location: eastus\nmachineSets:\n  - subscriptionId: {SUB}\n    resourceGroup: {RG}\n    prefix: m\n    count: {}\n    location: eastus\n",
        args.count
    ))?;
    let write_bucket = Bucket {
        burst: args.burst,
        per_second: args.rate,
    };
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        throttling: Some(arclink::emulator::RateLimits {
            writes: write_bucket,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await?;

    let url = url::Url::parse(&emu.endpoint())?;
    let cloud = Cloud::custom("emulator", url.clone(), url, "https://management.azure.com");
    let credential = CredentialCache::new().get_or_create(
        &CredentialSource::ClientSecret {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "bench".into(),
            secret: "bench-secret".into(),
        },
        &cloud,
        Some(emu.ca_pem()),
    )?;
    let mut options = ArmClientOptions::new(credential);
    options.cloud = cloud;
    options.ca_pem = Some(emu.ca_pem().to_string());
    // The client is configured with the same limits ARM (here: the emulator) applies.
    options.rate_limits = RateLimits {
        writes: BucketLimits {
            burst: args.burst,
            per_second: args.rate,
        },
        ..RateLimits::default()
    };
    let client = ArmClient::new(options)?;

    let scope = ResourceId::resource_group_id(SUB, RG)
        .child("Microsoft.HybridCompute/privateLinkScopes", "pls-bench");
    let body = MachineUpdate::private_link_scope(Some(scope));
    let next = Arc::new(AtomicUsize::new(0));
    emu.admin().reset_counters();
    let started = Instant::now();
    let workers: Vec<_> = (0..args.tasks)
        .map(|_| {
            let client = client.clone();
            let next = next.clone();
            let body = body.clone();
            let count = args.count;
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), arclink::azure::ArmError>(());
                    }
                    let id = ResourceId::resource_group_id(SUB, RG)
                        .child("Microsoft.HybridCompute/machines", &format!("m-{i:05}"));
                    match client.patch::<_, Machine>(&id, &body).await? {
                        Write::Done(_) => {}
                        Write::Pending(token) => {
                            client.wait(&token).await?;
                        }
                    }
                }
            })
        })
        .collect();
    let mut failures = 0;
    for w in workers {
        if let Err(e) = w.await? {
            failures += 1;
            eprintln!("worker failed: {e}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counters = emu.admin().counters();
    let patches = counters.count("PATCH");
    let throttled = counters.status(429);
    // The burst is free; the sustained rate is what the bucket refill allows.
    let sustained = (args.count as f64 - f64::from(args.burst)).max(0.0) / elapsed;
    println!(
        "write bucket R          : {} /s (burst {})",
        args.rate, args.burst
    );
    println!(
        "PATCHes                 : {} across {} tasks",
        args.count, args.tasks
    );
    println!("PATCH requests sent     : {patches}");
    println!("elapsed                 : {elapsed:.2} s");
    println!(
        "achieved rate (total)   : {:.1} /s",
        args.count as f64 / elapsed
    );
    println!(
        "achieved rate (sustained, burst excluded): {sustained:.1} /s = {:.3} R",
        sustained / args.rate
    );
    println!("429 responses           : {throttled}");
    println!(
        "client throttle pauses  : {}",
        client.metrics().throttle().pauses
    );
    println!("failed workers          : {failures}");
    emu.shutdown().await?;
    Ok(())
}
