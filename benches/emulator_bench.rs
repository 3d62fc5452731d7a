//! Throughput of the ARM emulator for simple GETs with throttling disabled.
//!
//! `cargo bench --bench emulator_bench -- [seconds] [concurrency]`
//!
//! Client and emulator share the process (and the cores), over TLS with keep-alive. On the
//! 2-core development machine, with other builds running (load average 8), release build:
//! 6,466 GETs/s at concurrency 32, 5,582 at 64, 5,353 at 16.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};

const SUB: &str = "00000000-0000-0000-0000-000000000001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` appends `--bench`.
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let concurrency: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(32);

    let fixtures = Fixtures::from_yaml(&format!(
        "resourceGroups: [{{subscriptionId: {SUB}, name: rg, location: westeurope}}]\n\
         machineSets: [{{subscriptionId: {SUB}, resourceGroup: rg, prefix: m, count: 1000, location: westeurope, tags: {{env: bench}}}}]"
    ))?;
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        throttling: None,
        ..Default::default()
    })
    .await?;
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(emu.ca_pem().as_bytes())?])
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let token_resp = client
        .post(format!("{}/bench/oauth2/v2.0/token", emu.endpoint()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=bench&client_secret=x&scope=https%3A%2F%2Fmanagement.azure.com%2F.default")
        .send()
        .await?
        .bytes()
        .await?;
    let token: serde_json::Value = serde_json::from_slice(&token_resp)?;
    let token = token["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_string();

    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, token, done, failed) =
            (client.clone(), token.clone(), done.clone(), failed.clone());
        let base = emu.endpoint();
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < deadline {
                let url = format!(
                    "{base}/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m-{:05}?api-version=2024-07-10",
                    i % 1000
                );
                i += concurrency;
                let ok = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let counter = if ok { &done } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ok = done.load(Ordering::Relaxed);
    let counted = emu
        .admin()
        .counters()
        .count_for("GET", "Microsoft.HybridCompute/machines");
    println!(
        "emulator_bench: {ok} GETs in {elapsed:.2}s = {:.0} GETs/s (concurrency {concurrency}, failures {}, server counted {counted})",
        ok as f64 / elapsed,
        failed.load(Ordering::Relaxed)
    );
    emu.shutdown().await?;
    Ok(())
}
