use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
            Err(e) => {
                eprintln!("error: rendering CRDs: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
