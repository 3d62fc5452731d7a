use std::process::ExitCode;

use clap::{Parser, Subcommand};

use arclink::controller::RunArgs;
use arclink::dnscheck::DnsCheckArgs;
use arclink::emulator::cli::EmulatorArgs;
use arclink::offline::apply::ApplyArgs;
use arclink::offline::plan::PlanArgs;
use arclink::telemetry::logging;

/// arclink: Azure Arc private connectivity (Private Link Scopes, private endpoints, server
/// associations) managed from Kubernetes.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller in a cluster (or against the cluster of the current kubeconfig).
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions as one multi-document YAML stream.
    Crds,
    /// Show what `apply` (or, with --delete, `delete`) would change in Azure for these
    /// manifests, without writing. Exit code 0: no changes, 2: changes pending, 1: errors.
    Plan(Box<PlanArgs>),
    /// Converge Azure to these manifests without a cluster (scopes, then endpoints, then
    /// associations), waiting for long-running operations, and print each object's status.
    Apply(Box<ApplyArgs>),
    /// Remove from Azure what these manifests declare, as the controller does when the objects
    /// are deleted: each object's deletion policy (Delete/Orphan, an association's
    /// Detach/Orphan), only for resources whose owner tag names the object, in reverse order
    /// (associations, endpoints, scopes). Exit code 0: all done, 1: errors or timeouts.
    Delete(Box<ApplyArgs>),
    /// Serve the ARM emulator (HTTPS) until SIGINT/SIGTERM.
    Emulator(Box<EmulatorArgs>),
    /// Check that the Arc names of the private endpoints (from the cluster, or from manifests
    /// with -f) resolve to their private IPs. Exit code 0: all do, 1: any does not, or errors.
    DnsCheck(Box<DnsCheckArgs>),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A usage error exits 1, not clap's 2, which for `plan` means "changes pending".
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Crds => match arclink::api::crds::render() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("rendering CRDs: {e}")),
        },
        Command::Plan(args) => offline(&args.common.arm.log_level.clone(), async move {
            arclink::offline::plan::run(&args).await
        }),
        Command::Apply(args) => offline(&args.common.arm.log_level.clone(), async move {
            arclink::offline::apply::run(&args).await
        }),
        Command::Delete(args) => offline(&args.common.arm.log_level.clone(), async move {
            arclink::offline::delete::run(&args).await
        }),
        Command::DnsCheck(args) => offline(&args.arm.log_level.clone(), async move {
            arclink::dnscheck::run(&args).await
        }),
        Command::Emulator(args) => runtime(async move {
            arclink::emulator::cli::run(*args)
                .await
                .map_err(|e| e.to_string())
        }),
        Command::Run(args) => {
            if let Err(e) = logging::init(args.telemetry.log_format, &args.telemetry.log_level) {
                return fail(e.to_string());
            }
            runtime(async move {
                arclink::controller::run(*args)
                    .await
                    .map_err(|e| e.to_string())
            })
        }
    }
}

fn runtime(fut: impl Future<Output = Result<(), String>>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => match rt.block_on(fut) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Err(e) => fail(format!("starting the async runtime: {e}")),
    }
}

/// Runs `plan`/`apply`: diagnostics as text on stderr, their own exit code.
fn offline(log_level: &str, fut: impl Future<Output = arclink::offline::Exit>) -> ExitCode {
    if let Err(e) = logging::init(logging::LogFormat::Text, log_level) {
        return fail(e.to_string());
    }
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(fut).into(),
        Err(e) => fail(format!("starting the async runtime: {e}")),
    }
}

fn fail(message: String) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("error: {}", arclink::printable::for_terminal(&message));
    ExitCode::FAILURE
}
