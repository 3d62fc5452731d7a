//! Fleet-scale benchmark of the ArcServerAssociation reconcile core: N machines in one resource
//! group, the emulator's write bucket at B burst / R per second (the client's buckets set to
//! the same), passes run back to back as the controller would (honouring each pass's requeue).
//! Prints the achieved write rate, 429s, the steady-state pass's ARM calls and the process's
//! resident memory.
//!
//! The emulator runs in a child process (this binary re-executed with `--serve-emulator`), so
//! the memory figures are the controller side only.
//!
//! cargo run --release --example association_bench -- [--machines N] [--write-burst B]
//!     [--write-rate R] [--page-size P] [--small S]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arclink::api::association::{AssociationPolicy, MachineSelector};
use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcServerAssociation, ArcServerAssociationSpec};
use arclink::azure::credentials::CredentialSource;
use arclink::azure::models::PrivateLinkScope;
use arclink::azure::{
    ArmClient, ArmClientOptions, BucketLimits, Cloud, CredentialCache, RateLimits, ResourceId,
};
use arclink::emulator::{Bucket, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::association::AssociationDeps;
use arclink::reconcile::scope_ref::ScopeSource;
use arclink::reconcile::{self, Requeue, Settings};
use serde_json::{Value, json};

const SUB: &str = "0b1e4c2d-7a6f-4e3b-9c8d-5f4a3b2c1d0e";
const RG: &str = "rg-fleet";
/// A small association in the same subscription, started while the big one is writing, shows
/// that the big one's batches do not starve it.
const SMALL_RG: &str = "rg-small";
const SMALL_DELAY: Duration = Duration::from_secs(10);
const READ_BURST: u32 = 250;
const READ_RATE: f64 = 25.0;

#[derive(Clone, Copy)]
struct Args {
    machines: usize,
    write_burst: u32,
    write_rate: f64,
    page_size: usize,
    small: usize,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        machines: 10_000,
        write_burst: 200,
        write_rate: 100.0,
        page_size: 100,
        small: 50,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--machines" => args.machines = value.parse().map_err(|e| bad(&e))?,
            "--write-burst" => args.write_burst = value.parse().map_err(|e| bad(&e))?,
            "--write-rate" => args.write_rate = value.parse().map_err(|e| bad(&e))?,
            "--page-size" => args.page_size = value.parse().map_err(|e| bad(&e))?,
            "--small" => args.small = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.machines == 0 || args.write_rate <= 0.0 || args.page_size == 0 {
        return Err("--machines, --write-rate and --page-size must be positive".into());
    }
    Ok(args)
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The child: serves the emulator, prints its endpoint and CA path, runs until killed.
async fn serve_emulator(args: Args, ca_path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let fixtures = Fixtures::from_yaml(&format!(
        "subscriptions:\n  - id: {SUB}\nresourceGroups:\n  - subscriptionId: {SUB}\n    name: {RG}\n    location: eastus\n  - subscriptionId: {SUB}\n    name: {SMALL_RG}\n    location: eastus\nmachineSets:\n  - subscriptionId: {SUB}\n    resourceGroup: {RG}\n    prefix: srv\n    count: {}\n    location: eastus\n    tags: {{fleet: blue}}\n  - subscriptionId: {SUB}\n    resourceGroup: {SMALL_RG}\n    prefix: small\n    count: {}\n    location: eastus\n    tags: {{fleet: blue}}\n",
        args.machines, args.small
    ))?;
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        page_size: args.page_size,
        throttling: Some(arclink::emulator::RateLimits {
            reads: Bucket {
                burst: READ_BURST,
                per_second: READ_RATE,
            },
            writes: Bucket {
                burst: args.write_burst,
                per_second: args.write_rate,
            },
            ..Default::default()
        }),
        ..Default::default()
    })
    .await?;
    std::fs::write(ca_path, emu.ca_pem())?;
    println!("ENDPOINT {} {}", emu.endpoint(), emu.admin_token());
    tokio::signal::ctrl_c().await?;
    Ok(())
}

struct ChildEmulator {
    child: Child,
    endpoint: String,
    ca_pem: String,
    admin: reqwest::Client,
    admin_token: String,
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildEmulator {
    fn start(args: Args) -> Result<ChildEmulator, Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("association-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let ca_path = dir.join("ca.pem");
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--serve-emulator",
                &ca_path.to_string_lossy(),
                "--machines",
                &args.machines.to_string(),
                "--write-burst",
                &args.write_burst.to_string(),
                "--write-rate",
                &args.write_rate.to_string(),
                "--page-size",
                &args.page_size.to_string(),
                "--small",
                &args.small.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("child has no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let (endpoint, admin_token) = line
            .strip_prefix("ENDPOINT ")
            .and_then(|rest| rest.trim().split_once(' '))
            .ok_or_else(|| format!("unexpected emulator output: {line:?}"))?;
        let (endpoint, admin_token) = (endpoint.to_string(), admin_token.to_string());
        let ca_pem = std::fs::read_to_string(&ca_path)?;
        let admin = reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())?)
            .build()?;
        Ok(ChildEmulator {
            child,
            endpoint,
            ca_pem,
            admin,
            admin_token,
        })
    }

    async fn counters(&self) -> Result<Value, Box<dyn std::error::Error>> {
        let url = format!("{}/_emulator/counters", self.endpoint);
        let body = self
            .admin
            .get(url)
            .bearer_auth(&self.admin_token)
            .send()
            .await?
            .bytes()
            .await?;
        Ok(serde_json::from_slice(&body)?)
    }

    async fn reset_counters(&self) -> Result<(), Box<dyn std::error::Error>> {
        let url = format!("{}/_emulator/counters/reset", self.endpoint);
        self.admin
            .post(url)
            .bearer_auth(&self.admin_token)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

fn count(counters: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(counters, |v, k| &v[*k])
        .as_u64()
        .unwrap_or(0)
}

async fn bench(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let emu = ChildEmulator::start(args)?;
    let url = url::Url::parse(&emu.endpoint)?;
    let cloud = Cloud::custom("emulator", url.clone(), url, "https://management.azure.com");
    let credential = CredentialCache::new().get_or_create(
        &CredentialSource::ClientSecret {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "bench".into(),
            secret: "bench-secret".into(),
        },
        &cloud,
        Some(&emu.ca_pem),
    )?;
    let mut options = ArmClientOptions::new(credential);
    options.cloud = cloud;
    options.ca_pem = Some(emu.ca_pem.clone());
    // The client is configured with the limits ARM (here: the emulator) applies.
    options.rate_limits = RateLimits {
        reads: BucketLimits {
            burst: READ_BURST,
            per_second: READ_RATE,
        },
        writes: BucketLimits {
            burst: args.write_burst,
            per_second: args.write_rate,
        },
        ..RateLimits::default()
    };
    let arm = ArmClient::new(options)?;
    let scope_id: ResourceId = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/privateLinkScopes/pls-fleet"
    )
    .parse()?;
    arm.put_and_wait::<_, PrivateLinkScope>(&scope_id, &json!({"location": "eastus"}))
        .await?;

    let mut obj = association("fleet", RG, &scope_id);
    let deps = AssociationDeps::new(ScopeSource::Id(scope_id.to_string()));
    let settings = Settings::new("bench");

    emu.reset_counters().await?;
    let started = Instant::now();
    let small = {
        let (arm, settings, scope_id) = (arm.clone(), settings.clone(), scope_id.clone());
        tokio::spawn(async move {
            // Start once the big association has drained the write bucket's burst.
            tokio::time::sleep(SMALL_DELAY).await;
            let mut obj = association("small", SMALL_RG, &scope_id);
            let deps = AssociationDeps::new(ScopeSource::Id(scope_id.to_string()));
            converge(&arm, &settings, &mut obj, &deps, false).await
        })
    };
    let (passes, slept, _) = converge(&arm, &settings, &mut obj, &deps, true).await?;
    let (small_passes, _, small_done) = small.await??;
    let small_secs = small_done
        .duration_since(started + SMALL_DELAY)
        .as_secs_f64();
    let elapsed = started.elapsed().as_secs_f64();
    let c = emu.counters().await?;
    let patches = count(&c, &["byMethod", "PATCH"]);
    let throttled = count(&c, &["byStatus", "429"]);
    let list_pages = count(&c, &["byType", "GET microsoft.hybridcompute/machines"]);
    let sustained = (patches as f64 - f64::from(args.write_burst)).max(0.0) / elapsed;

    emu.reset_counters().await?;
    let steady_started = Instant::now();
    let out = reconcile::reconcile(&arm, &settings, &obj, &deps).await;
    let steady_secs = steady_started.elapsed().as_secs_f64();
    let steady = emu.counters().await?;
    let pages_expected = args.machines.div_ceil(args.page_size);

    println!("machines                : {}", args.machines);
    println!(
        "write bucket            : {} burst, {} /s (emulator and client)",
        args.write_burst, args.write_rate
    );
    println!("page size               : {}", args.page_size);
    println!(
        "passes to converge      : {passes} (requeue waits {:.1}s in total)",
        slept.as_secs_f64()
    );
    println!("time to converge        : {elapsed:.1} s");
    println!("PATCH requests          : {patches}");
    println!("list page reads         : {list_pages}");
    println!(
        "write rate (total)      : {:.1} /s",
        patches as f64 / elapsed
    );
    println!(
        "write rate (burst excl.): {sustained:.1} /s = {:.3} x bucket rate",
        sustained / args.write_rate
    );
    println!("429 responses           : {throttled}");
    println!(
        "small association       : {} machines in the same subscription, started {}s into the big one, Ready after {small_passes} passes, {small_secs:.1} s",
        args.small,
        SMALL_DELAY.as_secs()
    );
    println!(
        "steady-state pass       : {} reads ({} list pages, bound {}), {} writes, {steady_secs:.2} s, Ready {}",
        count(&steady, &["byMethod", "GET"]),
        count(&steady, &["byType", "GET microsoft.hybridcompute/machines"]),
        pages_expected + 2,
        count(&steady, &["writes"]),
        is_true(&out.status.conditions, READY)
    );
    println!(
        "status size             : {} bytes",
        serde_json::to_vec(&out.status)?.len()
    );
    println!(
        "controller process      : VmHWM {} VmRSS {} (emulator in a child process)",
        proc_status("VmHWM:"),
        proc_status("VmRSS:")
    );
    Ok(())
}

fn association(name: &str, resource_group: &str, scope_id: &ResourceId) -> ArcServerAssociation {
    let mut obj = ArcServerAssociation::new(
        name,
        ArcServerAssociationSpec {
            scope_ref: None,
            scope_id: Some(scope_id.to_string()),
            machines: MachineSelector {
                subscription_id: None,
                resource_group: resource_group.into(),
                names: Vec::new(),
                tag_selector: [("fleet".to_string(), "blue".to_string())].into(),
            },
            on_conflict: Default::default(),
            deletion: Default::default(),
            policy: AssociationPolicy::default(),
            suspend: false,
            credential_ref: None,
        },
    );
    obj.metadata.namespace = Some("bench".into());
    obj.metadata.generation = Some(1);
    obj
}

/// Runs passes as the controller would until the object is Ready; returns the passes and the
/// time spent waiting for requeues and when it became Ready.
async fn converge(
    arm: &ArmClient,
    settings: &Settings,
    obj: &mut ArcServerAssociation,
    deps: &AssociationDeps,
    verbose: bool,
) -> Result<(u32, Duration, Instant), String> {
    let started = Instant::now();
    let mut passes = 0;
    let mut slept = Duration::ZERO;
    loop {
        let out = reconcile::reconcile(arm, settings, obj, deps).await;
        passes += 1;
        let done = is_true(&out.status.conditions, READY);
        let s = &out.status.summary;
        if verbose {
            println!(
                "pass {passes:>2} at {:>6.1}s: associated {:>5} pending {:>5} failed {}",
                started.elapsed().as_secs_f64(),
                s.associated,
                s.pending,
                s.failed
            );
        }
        obj.status = Some(out.status);
        if done {
            return Ok((passes, slept, Instant::now()));
        }
        if passes > 200 {
            return Err(format!(
                "{} did not converge in 200 passes",
                obj.metadata.name.as_deref().unwrap_or_default()
            ));
        }
        let wait = match out.requeue {
            Requeue::After(d) => d,
            Requeue::Backoff => Duration::from_secs(5),
        };
        slept += wait;
        tokio::time::sleep(wait).await;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let serve = match argv.first().map(String::as_str) {
        Some("--serve-emulator") if argv.len() >= 2 => {
            let ca = argv.remove(1);
            argv.remove(0);
            Some(ca)
        }
        _ => None,
    };
    let args = parse_args(argv.into_iter())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match serve {
        Some(ca) => runtime.block_on(serve_emulator(args, &ca)),
        None => runtime.block_on(bench(args)),
    }
}
