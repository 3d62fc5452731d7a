//! `--subscriptions K`: K associations of N machines each, in K subscriptions, converging at
//! once, each subscription with its own bucket.

use super::*;
use arclink::emulator::Fault;

/// `--subscriptions K`: K associations in K subscriptions converging at once.
pub async fn many_subscriptions(
    args: &Args,
    emu: &ChildEmulator,
    arm: &ArmClient,
) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::new("bench");
    let sweeps = Sweeps::default();
    let mut scopes = Vec::new();
    for i in 0..args.subscriptions {
        scopes.push(scope_in(arm, i).await?);
    }
    let stormed = (args.storm > 0).then_some(args.subscriptions - 1);
    emu.reset_counters().await?;
    if let Some(i) = stormed {
        let fault = Fault::status(429)
            .retry_after(1)
            .path_contains(&format!("/subscriptions/{}/", subscription(i)))
            .for_duration(Duration::from_secs(args.storm));
        emu.admin(
            reqwest::Method::POST,
            "faults",
            Some(serde_json::to_value(fault)?),
        )
        .await?;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, scope) in scopes.iter().enumerate() {
        let (arm, settings, scope) = (arm.clone(), settings.clone(), scope.clone());
        let sweeps = sweeps.clone();
        let interval = args.drift_interval.clone();
        tasks.push(tokio::spawn(async move {
            let mut obj = association(&format!("fleet-{i}"), RG, &scope, &interval);
            obj.spec.machines.subscription_id = Some(subscription(i));
            let deps = AssociationDeps::new(ScopeSource::Id(scope.to_string()));
            converge(&arm, &settings, &sweeps, &mut obj, &deps, false).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let c = emu.counters().await?;
    println!(
        "subscriptions           : {} x {} machines, each its own bucket of {} burst, {} /s",
        args.subscriptions, args.machines, args.write_burst, args.write_rate
    );
    match stormed {
        Some(i) => println!(
            "429 storm               : every request of subscription {i} answered 429 (Retry-After 1) for the first {} s",
            args.storm
        ),
        None => println!("429 storm               : none"),
    }
    let rate = |r: &Converged| {
        let secs = r.done.duration_since(started).as_secs_f64();
        let sustained = (f64::from(r.written) - f64::from(args.write_burst)).max(0.0) / secs;
        (secs, sustained)
    };
    let (mut sum, mut lowest) = (0.0, f64::MAX);
    let mut last = 0.0_f64;
    for (i, r) in results.iter().enumerate() {
        let (secs, sustained) = rate(r);
        let note = if Some(i) == stormed { " (storm)" } else { "" };
        println!(
            "subscription {i:>2}         : {} PATCHes accepted in {secs:.1} s, {} passes: {sustained:.1} /s = {:.3} x its bucket{note}",
            r.written,
            r.passes,
            sustained / args.write_rate
        );
        if Some(i) != stormed {
            sum += f64::from(r.written);
            lowest = lowest.min(sustained / args.write_rate);
            last = last.max(secs);
        }
    }
    let measured = args.subscriptions - usize::from(stormed.is_some());
    let buckets = measured as f64 * args.write_rate;
    let aggregate = (sum - measured as f64 * f64::from(args.write_burst)).max(0.0) / last;
    println!(
        "aggregate ({measured} subscriptions{}): {aggregate:.1} /s = {:.3} x the sum of their buckets ({buckets} /s); lowest single {lowest:.3}",
        if stormed.is_some() {
            " without the storm"
        } else {
            ""
        },
        aggregate / buckets
    );
    println!(
        "all converged           : {elapsed:.1} s; PATCH requests {}, 429 responses {}",
        count(&c, &["byMethod", "PATCH"]),
        count(&c, &["byStatus", "429"])
    );
    println!(
        "controller process      : VmHWM {} VmRSS {} (emulator in a child process)",
        proc_status("VmHWM:"),
        proc_status("VmRSS:")
    );
    Ok(())
}
