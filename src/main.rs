use std::process::ExitCode;

use clap::{Parser, Subcommand};

use arclink::controller::RunArgs;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => match arclink::api::crds::render() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("rendering CRDs: {e}")),
        },
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

fn fail(message: String) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
