//! Fleet-scale benchmark of the ArcServerAssociation reconcile core against the emulator, with
//! passes run back to back as the controller would (honouring each pass's requeue).
//!
//! One subscription (default): N machines in one resource group, the emulator's write bucket at
//! B burst / R per second (the client's buckets set to the same). Prints the time to converge,
//! the write rate against the bucket, 429s, the list pages read while converging against
//! ceil(N / page), the reads of the next (steady-state) listing, a small association of the
//! same subscription started meanwhile (fairness), and the controller side's peak memory.
//!
//! `--subscriptions K`: K associations of N machines each, in K subscriptions, each with its
//! own emulator bucket (B / R), converging at once; prints each subscription's write rate
//! against its bucket and the aggregate. `--storm S` injects a 429 storm (every request of the
//! last subscription answered 429 for S seconds) to show that it does not slow the others.
//!
//! The emulator runs in a child process (this binary re-executed with `--serve-emulator`), so
//! the memory figures are the controller side only.
//!
//! cargo bench --bench association_bench -- [--machines N] [--write-burst B]
//!     [--write-rate R] [--page-size P] [--small S] [--drift-interval D]
//!     [--subscriptions K] [--storm SECONDS] [--monitoring true]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arclink::api::association::{AssociationPolicy, MachineSelector, Monitoring};
use arclink::api::conditions::{READY, is_true};
use arclink::api::{ArcServerAssociation, ArcServerAssociationSpec};
use arclink::azure::credentials::CredentialSource;
use arclink::azure::models::PrivateLinkScope;
use arclink::azure::{
    ArmClient, ArmClientOptions, BucketLimits, Cloud, CredentialCache, RateLimits, ResourceId,
};
use arclink::emulator::{Bucket, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::association::{AssociationDeps, Sweeps};
use arclink::reconcile::scope_ref::ScopeSource;
use arclink::reconcile::{self, Requeue, Settings};
use serde_json::{Value, json};

#[path = "association_bench/many.rs"]
mod many;

use many::many_subscriptions;

const RG: &str = "rg-fleet";
/// A small association in the same subscription, started while the big one is writing, shows
/// that the big one's batches do not starve it.
const SMALL_RG: &str = "rg-small";
const SMALL_DELAY: Duration = Duration::from_secs(10);
const READ_BURST: u32 = 250;
const READ_RATE: f64 = 25.0;
/// The data collection endpoint of `--monitoring true`.
const DCE: &str = "dce-eastus";
/// Passes after which a run counts as not converging.
const MAX_PASSES: u32 = 10_000;

#[derive(Clone)]
struct Args {
    machines: usize,
    write_burst: u32,
    write_rate: f64,
    page_size: usize,
    small: usize,
    drift_interval: String,
    subscriptions: usize,
    storm: u64,
    /// `spec.monitoring` with one data collection endpoint in the fleet's region.
    monitoring: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        machines: 10_000,
        write_burst: 200,
        write_rate: 100.0,
        page_size: 100,
        small: 50,
        drift_interval: "10m".into(),
        subscriptions: 1,
        storm: 0,
        monitoring: false,
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
            "--drift-interval" => {
                arclink::api::parse_duration(&value).map_err(|e| bad(&e))?;
                args.drift_interval = value;
            }
            "--subscriptions" => args.subscriptions = value.parse().map_err(|e| bad(&e))?,
            "--storm" => args.storm = value.parse().map_err(|e| bad(&e))?,
            "--monitoring" => args.monitoring = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.machines == 0 || args.write_rate <= 0.0 || args.page_size == 0 {
        return Err("--machines, --write-rate and --page-size must be positive".into());
    }
    if args.subscriptions == 0 {
        return Err("--subscriptions must be positive".into());
    }
    if args.storm > 0 && args.subscriptions < 2 {
        return Err("--storm needs --subscriptions 2 or more (the others are measured)".into());
    }
    Ok(args)
}

fn to_argv(args: &Args) -> Vec<String> {
    [
        ("--machines", args.machines.to_string()),
        ("--write-burst", args.write_burst.to_string()),
        ("--write-rate", args.write_rate.to_string()),
        ("--page-size", args.page_size.to_string()),
        ("--small", args.small.to_string()),
        ("--drift-interval", args.drift_interval.clone()),
        ("--subscriptions", args.subscriptions.to_string()),
        ("--storm", args.storm.to_string()),
        ("--monitoring", args.monitoring.to_string()),
    ]
    .into_iter()
    .flat_map(|(f, v)| [f.to_string(), v])
    .collect()
}

/// The i-th subscription's id.
fn subscription(i: usize) -> String {
    format!(
        "0b1e4c2d-7a6f-4e3b-9c8d-{:012x}",
        0x5f4a3b2c1d0e_u64 + i as u64
    )
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

/// The fixtures: in every subscription a resource group of `machines` machines tagged
/// `fleet=blue`; in the first one also the small association's group.
fn fixtures(args: &Args) -> Result<Fixtures, Box<dyn std::error::Error>> {
    let mut yaml = String::from("subscriptions:\n");
    for i in 0..args.subscriptions {
        yaml.push_str(&format!("  - id: {}\n", subscription(i)));
    }
    yaml.push_str("resourceGroups:\n");
    for i in 0..args.subscriptions {
        yaml.push_str(&format!(
            "  - {{subscriptionId: {}, name: {RG}, location: eastus}}\n",
            subscription(i)
        ));
    }
    yaml.push_str(&format!(
        "  - {{subscriptionId: {}, name: {SMALL_RG}, location: eastus}}\nmachineSets:\n",
        subscription(0)
    ));
    for i in 0..args.subscriptions {
        yaml.push_str(&format!(
            "  - {{subscriptionId: {}, resourceGroup: {RG}, prefix: srv, count: {}, location: eastus, tags: {{fleet: blue}}}}\n",
            subscription(i),
            args.machines
        ));
    }
    if args.small > 0 && args.subscriptions == 1 {
        yaml.push_str(&format!(
            "  - {{subscriptionId: {}, resourceGroup: {SMALL_RG}, prefix: small, count: {}, location: eastus, tags: {{fleet: blue}}}}\n",
            subscription(0),
            args.small
        ));
    }
    if args.monitoring {
        yaml.push_str(&format!(
            "dataCollectionEndpoints:\n  - {{subscriptionId: {}, resourceGroup: {RG}, name: {DCE}, location: eastus}}\n",
            subscription(0)
        ));
    }
    Ok(Fixtures::from_yaml(&yaml)?)
}

/// The child: serves the emulator, prints its endpoint and CA path, runs until killed.
async fn serve_emulator(args: Args, ca_path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures(&args)?),
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
    fn start(args: &Args) -> Result<ChildEmulator, Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("association-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let ca_path = dir.join("ca.pem");
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--serve-emulator".to_string(),
                ca_path.to_string_lossy().into(),
            ])
            .args(to_argv(args))
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

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Box<dyn std::error::Error>> {
        let url = format!("{}/_emulator/{path}", self.endpoint);
        let mut req = self
            .admin
            .request(method, url)
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&body)?);
        }
        let body = req.send().await?.error_for_status()?.bytes().await?;
        Ok(if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)?
        })
    }

    async fn counters(&self) -> Result<Value, Box<dyn std::error::Error>> {
        self.admin(reqwest::Method::GET, "counters", None).await
    }

    async fn reset_counters(&self) -> Result<(), Box<dyn std::error::Error>> {
        self.admin(reqwest::Method::POST, "counters/reset", None)
            .await
            .map(|_| ())
    }
}

fn count(counters: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(counters, |v, k| &v[*k])
        .as_u64()
        .unwrap_or(0)
}

fn list_reads(counters: &Value) -> u64 {
    count(
        counters,
        &["byType", "GET microsoft.hybridcompute/machines"],
    )
}

/// An ARM client for the emulator with the emulator's limits (as the controller is configured
/// with ARM's).
fn client(emu: &ChildEmulator, args: &Args) -> Result<ArmClient, Box<dyn std::error::Error>> {
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
    Ok(ArmClient::new(options)?)
}

async fn scope_in(arm: &ArmClient, i: usize) -> Result<ResourceId, Box<dyn std::error::Error>> {
    let id: ResourceId = format!(
        "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/privateLinkScopes/pls-fleet",
        subscription(i)
    )
    .parse()?;
    arm.put_and_wait::<_, PrivateLinkScope>(&id, &json!({"location": "eastus"}))
        .await?;
    Ok(id)
}

async fn bench(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let emu = ChildEmulator::start(&args)?;
    let arm = client(&emu, &args)?;
    if args.subscriptions > 1 {
        return many_subscriptions(&args, &emu, &arm).await;
    }
    let scope_id = scope_in(&arm, 0).await?;
    let mut obj = association("fleet", RG, &scope_id, &args.drift_interval);
    if args.monitoring {
        let dce = ResourceId::resource(
            scope_id.subscription(),
            RG,
            "Microsoft.Insights",
            "dataCollectionEndpoints",
            DCE,
        );
        obj.spec.monitoring = Some(Monitoring {
            data_collection_endpoint_ids: vec![dce.to_string()],
        });
    }
    let deps = AssociationDeps::new(ScopeSource::Id(scope_id.to_string()));
    let settings = Settings::new("bench");
    // One controller's listings in progress, shared by its reconciles.
    let sweeps = Sweeps::default();

    emu.reset_counters().await?;
    let started = Instant::now();
    let small = (args.small > 0).then(|| {
        let (arm, settings, scope_id) = (arm.clone(), settings.clone(), scope_id.clone());
        let sweeps = sweeps.clone();
        let interval = args.drift_interval.clone();
        tokio::spawn(async move {
            // Start once the big association has drained the write bucket's burst.
            tokio::time::sleep(SMALL_DELAY).await;
            let mut obj = association("small", SMALL_RG, &scope_id, &interval);
            let deps = AssociationDeps::new(ScopeSource::Id(scope_id.to_string()));
            converge(&arm, &settings, &sweeps, &mut obj, &deps, false).await
        })
    });
    let big = converge(&arm, &settings, &sweeps, &mut obj, &deps, true).await?;
    let elapsed = big.done.duration_since(started).as_secs_f64();
    let c = emu.counters().await?;
    let small = match small {
        Some(task) => Some(task.await??),
        None => None,
    };
    // The endpoint association PUTs share the write bucket with the PATCHes.
    let patches = count(&c, &["byMethod", "PATCH"]) + count(&c, &["byMethod", "PUT"]);
    let throttled = count(&c, &["byStatus", "429"]);
    let list_pages = list_reads(&c);
    let sustained = (patches as f64 - f64::from(args.write_burst)).max(0.0) / elapsed;
    let pages = args.machines.div_ceil(args.page_size) as f64;

    // The next listing, as the drift check makes it: passes until it is over (the controller
    // would come back one interval later; the figures do not depend on when).
    let synced = obj
        .status
        .as_ref()
        .and_then(|s| s.common.last_sync_time.clone());
    emu.reset_counters().await?;
    let steady_started = Instant::now();
    let mut steady_passes = 0;
    let steady_ready = loop {
        let out = reconcile::reconcile(&arm, &settings, &sweeps, &obj, &deps).await;
        steady_passes += 1;
        let over = out.status.common.last_sync_time != synced;
        let ready = is_true(&out.status.common.conditions, READY);
        obj.status = Some(out.status);
        if over || steady_passes >= MAX_PASSES {
            break ready;
        }
        if let Requeue::After(d) = out.requeue {
            tokio::time::sleep(d).await;
        }
    };
    let steady_secs = steady_started.elapsed().as_secs_f64();
    let steady = emu.counters().await?;

    println!("machines                : {}", args.machines);
    println!(
        "write bucket            : {} burst, {} /s (emulator and client)",
        args.write_burst, args.write_rate
    );
    println!("page size               : {}", args.page_size);
    println!("drift check interval    : {}", args.drift_interval);
    println!(
        "passes to converge      : {} (requeue waits {:.1}s in total)",
        big.passes,
        big.slept.as_secs_f64()
    );
    println!("time to converge        : {elapsed:.1} s");
    println!("writes (PATCH + PUT)    : {patches}");
    if args.monitoring {
        println!(
            "association PUTs        : {} (configurationAccessEndpoint, one per machine)",
            count(&c, &["byMethod", "PUT"])
        );
    }
    // The small association's pages are counted too.
    let small_pages = args.small.div_ceil(args.page_size) as u64;
    let big_pages = list_pages.saturating_sub(small_pages);
    println!(
        "list page reads         : {list_pages} ({big_pages} of the big association = {:.3} x ceil(N/page); goal <= 1.1 x {pages} + {} passes = {:.0}; {small_pages} of the small one)",
        big_pages as f64 / pages,
        big.passes,
        1.1 * pages + f64::from(big.passes)
    );
    println!(
        "write rate (total)      : {:.1} /s",
        patches as f64 / elapsed
    );
    println!(
        "write rate (burst excl.): {sustained:.1} /s = {:.3} x bucket rate",
        sustained / args.write_rate
    );
    println!("429 responses           : {throttled}");
    if let Some(small) = small {
        let small_secs = small
            .done
            .duration_since(started + SMALL_DELAY)
            .as_secs_f64();
        println!(
            "small association       : {} machines in the same subscription, started {}s into the big one, Ready after {} passes, {small_secs:.1} s",
            args.small,
            SMALL_DELAY.as_secs(),
            small.passes
        );
    }
    // With monitoring, the endpoint's GET and its associations' pages (one per machine page).
    let (bound, extra) = match args.monitoring {
        true => (2.0 * pages, 3),
        false => (pages, 2),
    };
    println!(
        "steady-state listing    : {} reads ({} machine list pages; reads bound {bound} + {extra}), {} writes, {steady_passes} passes, {steady_secs:.1} s, Ready {steady_ready}",
        count(&steady, &["byMethod", "GET"]),
        list_reads(&steady),
        count(&steady, &["writes"]),
    );
    if let Some(status) = &obj.status {
        println!(
            "status size             : {} bytes",
            serde_json::to_vec(status)?.len()
        );
    }
    println!(
        "controller process      : VmHWM {} VmRSS {} (emulator in a child process)",
        proc_status("VmHWM:"),
        proc_status("VmRSS:")
    );
    Ok(())
}

fn association(
    name: &str,
    resource_group: &str,
    scope_id: &ResourceId,
    drift_interval: &str,
) -> ArcServerAssociation {
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
            monitoring: None,
            deletion: Default::default(),
            policy: AssociationPolicy {
                drift_check_interval: Some(drift_interval.into()),
                ..AssociationPolicy::default()
            },
            suspend: false,
            credential_ref: None,
        },
    );
    obj.metadata.namespace = Some("bench".into());
    obj.metadata.generation = Some(1);
    obj.metadata.uid = Some(format!("uid-{name}"));
    obj
}

/// How a run of passes went.
struct Converged {
    passes: u32,
    /// Time spent waiting for requeues.
    slept: Duration,
    /// When the object became Ready.
    done: Instant,
    /// PATCHes ARM accepted.
    written: u32,
}

/// Runs passes as the controller would until the object is Ready.
async fn converge(
    arm: &ArmClient,
    settings: &Settings,
    sweeps: &Sweeps,
    obj: &mut ArcServerAssociation,
    deps: &AssociationDeps,
    verbose: bool,
) -> Result<Converged, String> {
    let started = Instant::now();
    let mut run = Converged {
        passes: 0,
        slept: Duration::ZERO,
        done: started,
        written: 0,
    };
    let mut failures = 0;
    loop {
        let out = reconcile::reconcile(arm, settings, sweeps, obj, deps).await;
        run.passes += 1;
        run.written += u32::try_from(out.changes.len()).unwrap_or(u32::MAX);
        let done = is_true(&out.status.common.conditions, READY);
        let s = &out.status.summary;
        if verbose && (run.passes % 10 == 1 || done) {
            // Why the first machine listed as not associated is not (when one is).
            let first = out
                .status
                .machines
                .first()
                .map(|m| {
                    format!(
                        " ({}: {} {})",
                        m.name,
                        m.state,
                        m.message.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            println!(
                "pass {:>4} at {:>7.1}s: listed {:>6} associated {:>6} pending {:>5} failed {}{first}",
                run.passes,
                started.elapsed().as_secs_f64(),
                s.matched,
                s.associated,
                s.pending,
                s.failed
            );
        }
        obj.status = Some(out.status);
        if done {
            run.done = Instant::now();
            return Ok(run);
        }
        if run.passes > MAX_PASSES {
            return Err(format!(
                "{} did not converge in {MAX_PASSES} passes",
                obj.metadata.name.as_deref().unwrap_or_default()
            ));
        }
        let wait = match out.requeue {
            Requeue::After(d) => d,
            Requeue::Backoff => {
                // As the controller's backoff: 5 s doubling, at most 5 min.
                failures += 1;
                arclink::reconcile::requeue::backoff(failures)
            }
        };
        run.slept += wait;
        tokio::time::sleep(wait).await;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` appends `--bench`.
    let mut argv: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
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
