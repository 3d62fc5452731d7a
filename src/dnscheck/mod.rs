//! `arclink dns-check`: the documentation's troubleshooting step ("these lookup commands should
//! return private IP addresses in your Azure virtual network") for every Arc name of every
//! endpoint, judged against the private IPs the endpoint's status records.

pub mod endpoints;
pub mod names;
pub mod report;
pub mod resolve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::connect::ArmTargetArgs;
use crate::offline::{Exit, OfflineArgs, Output};
use endpoints::Selection;
use report::Report;
use resolve::Resolver;

/// Flags of `arclink dns-check`.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_arg("target", |a| a.help("With -f: where ARM is, as for `plan`")))]
pub struct DnsCheckArgs {
    /// Read the endpoints from these manifests (files or directories, as `plan`) and their
    /// status from Azure or the embedded emulator, instead of from the cluster.
    #[arg(short = 'f', long = "filename", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Check only the endpoints of this namespace.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Check only the endpoint(s) of this name.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Ask this DNS server (IP or IP:port) instead of those of /etc/resolv.conf, e.g. the
    /// on-premises server that forwards to Azure DNS.
    #[arg(long, value_parser = resolve::parse_server)]
    pub server: Option<SocketAddr>,
    /// Longest wait for the answer about one name (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = positive_duration)]
    pub timeout: Duration,
    /// `text` for people, `json` for pipelines (schema in the README).
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub arm: ArmTargetArgs,
}

impl DnsCheckArgs {
    /// The flags as `plan` has them, for reading the manifests' status.
    pub fn offline(&self) -> OfflineArgs {
        OfflineArgs {
            files: self.files.clone(),
            output: self.output,
            arm: self.arm.clone(),
        }
    }

    fn selection(&self) -> Selection {
        Selection {
            namespace: self.namespace.clone(),
            endpoint: self.endpoint.clone(),
        }
    }

    fn resolver_label(&self) -> String {
        self.server
            .map_or_else(|| "system".to_string(), |s| s.to_string())
    }
}

/// A zero timeout would report every name unresolved without asking.
fn positive_duration(s: &str) -> Result<Duration, String> {
    match crate::api::parse_duration(s)? {
        d if d.is_zero() => Err(format!("{s:?} must be greater than zero")),
        d => Ok(d),
    }
}

/// Runs `arclink dns-check`: the report on stdout, exit 0 when every name resolves to its
/// endpoint's private IP, else 1.
pub async fn run(args: &DnsCheckArgs) -> Exit {
    let report = match check(args).await {
        Ok(report) => report,
        Err(errors) => Report::failed(args.resolver_label(), errors),
    };
    match args.output {
        Output::Text => {
            for e in &report.errors {
                eprintln!("error: {}", crate::printable::for_terminal(e));
            }
            if report.errors.is_empty() {
                print!("{}", report::render_text(&report));
            }
        }
        Output::Json => println!("{}", report::render_json(&report)),
    }
    report.exit()
}

async fn check(args: &DnsCheckArgs) -> Result<Report, Vec<String>> {
    // The cloud of endpoints whose records do not name a zone of the catalogue.
    let cloud = args.arm.azure.cloud().map_err(|e| vec![e])?;
    let resolver = match args.server {
        Some(server) => Resolver::server(server, args.timeout),
        None => Resolver::system(args.timeout),
    }
    .map_err(|e| vec![e])?;
    let (known, source) = if args.files.is_empty() {
        (cluster_endpoints(args).await?, "the cluster")
    } else {
        (endpoints::from_manifests(args).await?, "the manifests")
    };
    let selected = args
        .selection()
        .select(&known, source)
        .map_err(|e| vec![e])?;
    let cloud = cloud.known().unwrap_or_default();
    Ok(report::check(&resolver, cloud, &known, &selected).await)
}

/// The cluster of the kubeconfig (or the in-cluster configuration), as `arclink run` finds it.
async fn cluster_endpoints(
    args: &DnsCheckArgs,
) -> Result<Vec<crate::api::ArcPrivateEndpoint>, Vec<String>> {
    let config = kube::Config::infer().await.map_err(|e| {
        vec![format!(
            "no Kubernetes configuration ({e}); or pass -f MANIFESTS"
        )]
    })?;
    let client = kube::Client::try_from(config)
        .map_err(|e| vec![format!("connecting to the cluster: {e}")])?;
    endpoints::from_cluster(client, args.namespace.as_deref())
        .await
        .map_err(|e| vec![e])
}
