//! Asking DNS what a name resolves to: the servers of the system configuration
//! (`/etc/resolv.conf`, as `nslookup` in the documentation's troubleshooting steps) or one
//! server given with `--server`, over UDP with TCP for truncated answers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;

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

/// A DNS client for the check.
pub struct Resolver {
    inner: TokioResolver,
    timeout: Duration,
    /// `system` or the `--server` address, for the report.
    pub label: String,
}

impl Resolver {
    /// The name servers of the system configuration.
    pub fn system(timeout: Duration) -> Result<Resolver, String> {
        let builder = TokioResolver::builder_tokio().map_err(|e| {
            format!("reading the system DNS configuration (/etc/resolv.conf): {e}; pass --server IP[:port]")
        })?;
        Resolver::build(builder, timeout, "system".into())
    }

    /// Only `server`, over UDP and TCP on its port.
    pub fn server(server: SocketAddr, timeout: Duration) -> Result<Resolver, String> {
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
        let builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        Resolver::build(builder, timeout, server.to_string())
    }

    fn build(
        mut builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>,
        timeout: Duration,
        label: String,
    ) -> Result<Resolver, String> {
        let opts: &mut ResolverOpts = builder.options_mut();
        // Half the budget per attempt, so that one lost UDP datagram is retried in time.
        opts.timeout = timeout / 2;
        opts.attempts = 1;
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        // What DNS servers answer is checked, as nslookup does: not /etc/hosts.
        opts.use_hosts_file = ResolveHosts::Never;
        let inner = builder
            .build()
            .map_err(|e| format!("setting up the DNS resolver ({label}): {e}"))?;
        Ok(Resolver {
            inner,
            timeout,
            label,
        })
    }

    /// The addresses of `fqdn`, never taking longer than the timeout.
    pub async fn resolve(&self, fqdn: &str) -> Answer {
        // The trailing dot keeps the system's search domains out of it.
        let absolute = format!("{}.", fqdn.trim_end_matches('.'));
        match tokio::time::timeout(self.timeout, self.inner.lookup_ip(absolute.as_str())).await {
            Err(_) => Answer::Unresolved(no_answer(self.timeout)),
            Ok(Ok(lookup)) => {
                let mut ips: Vec<IpAddr> = lookup.iter().collect();
                ips.sort();
                ips.dedup();
                if ips.is_empty() {
                    Answer::Unresolved("no A or AAAA record".into())
                } else {
                    Answer::Addresses(ips)
                }
            }
            Ok(Err(e)) => Answer::Unresolved(unresolved_reason(&e, self.timeout)),
        }
    }
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
