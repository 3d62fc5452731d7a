//! Asking DNS what a name resolves to: the servers of the system configuration
//! (`/etc/resolv.conf`, as `nslookup` in the documentation's troubleshooting steps) or one
//! server given with `--server`, over UDP with TCP for truncated answers.
//!
//! A lookup that failed without the server answering it (a TCP fallback on a connection the
//! server closed after its first answer, a connection cut) is tried once more before the name
//! is judged, each query of the second attempt on a connection of its own.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

/// The DNS port `--server` uses when none is given.
const DNS_PORT: u16 = 53;

/// What DNS answered for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The A and AAAA addresses, sorted, CNAMEs followed.
    Addresses(Vec<IpAddr>),
    /// No address: why (`NXDOMAIN`, no A or AAAA record, no answer in time, a server error).
    Unresolved(String),
}

/// An [`Answer`], and why the first attempt failed when it took a second one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub answer: Answer,
    pub retried_after: Option<String>,
}

/// Where the name servers come from.
#[derive(Clone, Copy, Debug)]
enum Servers {
    System,
    Only(SocketAddr),
}

/// A DNS client for the check.
pub struct Resolver {
    inner: TokioResolver,
    servers: Servers,
    timeout: Duration,
    /// `system` or the `--server` address, for the report.
    pub label: String,
}

impl Resolver {
    /// The name servers of the system configuration.
    pub fn system(timeout: Duration) -> Result<Resolver, String> {
        Resolver::new(Servers::System, timeout, "system".into())
    }

    /// Only `server`, over UDP and TCP on its port.
    pub fn server(server: SocketAddr, timeout: Duration) -> Result<Resolver, String> {
        Resolver::new(Servers::Only(server), timeout, server.to_string())
    }

    fn new(servers: Servers, timeout: Duration, label: String) -> Result<Resolver, String> {
        Ok(Resolver {
            inner: client(servers, timeout, &label)?,
            servers,
            timeout,
            label,
        })
    }

    /// The addresses of `fqdn`, never taking longer than the timeout, asked a second time when
    /// the first attempt failed without an answer from the server.
    pub async fn resolve(&self, fqdn: &str) -> Resolved {
        // The trailing dot keeps the system's search domains out of it.
        let absolute = format!("{}.", fqdn.trim_end_matches('.'));
        let deadline = Instant::now() + self.timeout;
        let first = match timeout_at(deadline, self.inner.lookup_ip(absolute.as_str())).await {
            Err(_) => Err(NetError::Timeout),
            Ok(lookup) => lookup.map(|l| l.iter().collect()),
        };
        let failure = match first {
            Err(e) if worth_retrying(&e) => unresolved_reason(&e, self.timeout),
            first => {
                return Resolved {
                    answer: self.answer(first),
                    retried_after: None,
                };
            }
        };
        tracing::debug!(name = %fqdn, error = %failure, "lookup failed without an answer; asking again");
        let second = match timeout_at(deadline, self.retry(&absolute)).await {
            Err(_) => Err(NetError::Timeout),
            Ok(second) => second,
        };
        Resolved {
            answer: self.answer(second),
            retried_after: Some(failure),
        }
    }

    fn answer(&self, result: Result<Vec<IpAddr>, NetError>) -> Answer {
        match result {
            Ok(mut ips) => {
                ips.sort();
                ips.dedup();
                if ips.is_empty() {
                    Answer::Unresolved("no A or AAAA record".into())
                } else {
                    Answer::Addresses(ips)
                }
            }
            Err(e) => Answer::Unresolved(unresolved_reason(&e, self.timeout)),
        }
    }

    /// The A and AAAA queries, each through a client of its own: its own connections, so that
    /// a server that answers one query per TCP connection answers both. As the first attempt,
    /// one of them answering is an answer.
    async fn retry(&self, absolute: &str) -> Result<Vec<IpAddr>, NetError> {
        let query = |record_type| async move {
            let client = client(self.servers, self.timeout, &self.label).map_err(NetError::from)?;
            let lookup = client.lookup(absolute, record_type).await?;
            Ok::<_, NetError>(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                        _ => None,
                    })
                    .collect::<Vec<IpAddr>>(),
            )
        };
        match futures::future::join(query(RecordType::A), query(RecordType::AAAA)).await {
            (Ok(mut v4), Ok(v6)) => {
                v4.extend(v6);
                Ok(v4)
            }
            (Ok(ips), Err(_)) | (Err(_), Ok(ips)) => Ok(ips),
            (Err(e), Err(_)) => Err(e),
        }
    }
}

/// A client of `servers` whose lookups (A and AAAA) fit in `timeout`.
fn client(servers: Servers, timeout: Duration, label: &str) -> Result<TokioResolver, String> {
    let mut builder = match servers {
        Servers::System => TokioResolver::builder_tokio().map_err(|e| {
            format!("reading the system DNS configuration (/etc/resolv.conf): {e}; pass --server IP[:port]")
        })?,
        Servers::Only(server) => {
            let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                .into_iter()
                .map(|mut c| {
                    c.port = server.port();
                    c
                })
                .collect();
            let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
                server.ip(),
                true,
                connections,
            )]);
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        }
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    // Half the budget per attempt, so that one lost UDP datagram is retried in time.
    opts.timeout = timeout / 2;
    opts.attempts = 1;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    // What DNS servers answer is checked, as nslookup does: not /etc/hosts.
    opts.use_hosts_file = ResolveHosts::Never;
    builder
        .build()
        .map_err(|e| format!("setting up the DNS resolver ({label}): {e}"))
}

/// A failure the server did not answer: not a timeout (the budget is spent) and not an answer
/// such as NXDOMAIN, no record or SERVFAIL.
fn worth_retrying(e: &NetError) -> bool {
    !matches!(e, NetError::Timeout | NetError::Dns(_))
}

fn no_answer(timeout: Duration) -> String {
    format!("no answer within {timeout:?}")
}

fn unresolved_reason(e: &NetError, timeout: Duration) -> String {
    match e {
        NetError::Timeout => no_answer(timeout),
        NetError::Dns(DnsError::NoRecordsFound(n)) if n.response_code == ResponseCode::NXDomain => {
            "NXDOMAIN: the name does not exist".into()
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => "no A or AAAA record".into(),
        NetError::Dns(DnsError::ResponseCode(code)) => format!("the server answered {code}"),
        other => other.to_string(),
    }
}

/// `--server`: `IP` or `IP:port` (`[IPv6]:port`).
pub fn parse_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    s.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| format!("{s:?} is not IP or IP:port (IPv6 with a port: [IP]:port)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_an_ip_with_an_optional_port() {
        assert_eq!(
            parse_server("10.0.0.4").unwrap(),
            "10.0.0.4:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_server("fd00::1").unwrap(),
            "[fd00::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("[fd00::1]:5300").unwrap(),
            "[fd00::1]:5300".parse().unwrap()
        );
        for bad in ["dns.example", "10.0.0.4:", "10.0.0.4:99999", ""] {
            let err = parse_server(bad).unwrap_err();
            assert!(err.contains("is not IP or IP:port"), "{bad}: {err}");
        }
    }
}
