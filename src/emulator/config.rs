use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fixtures::Fixtures;

/// How an emulator instance is started.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub bind: SocketAddr,
    pub fixtures: Option<Fixtures>,
    pub state_file: Option<PathBuf>,
    /// How long a long-running operation stays `InProgress`; zero completes on the first poll.
    pub lro_duration: Duration,
    /// Value of `Retry-After` on 201/202 responses, operation status resources and 429s from faults.
    pub retry_after_secs: u64,
    pub page_size: usize,
    /// `None` disables throttling.
    pub throttling: Option<RateLimits>,
    /// Which shape of behaviours Azure is only reported to have the emulator shows.
    pub behaviours: Behaviours,
    pub connections: ConnectionLimits,
}

/// Behaviours of the real services that are reported rather than documented
/// (reference/arm-behaviours.md): the emulator models the reported shape by default and can be
/// switched, so that arclink is tested against both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Behaviours {
    /// Network leaves names that a private DNS zone group covers out of the endpoint's
    /// `customDnsConfigs` (behaviour 5); `false` lists every name there.
    #[serde(default = "yes")]
    pub dns_configs_covered_by_zone_group: bool,
    /// What clears a machine's `privateLinkScopeResourceId` in a PATCH (behaviour 15, not
    /// documented).
    #[serde(default)]
    pub machine_scope_clear: ScopeClear,
    /// Insights refuses a write to a private link scope's scoped resources while another one
    /// is provisioning (hashicorp/terraform-provider-azurerm#22236); `false` accepts it.
    #[serde(default = "yes")]
    pub scoped_resource_writes_serialized: bool,
}

fn yes() -> bool {
    true
}

impl Default for Behaviours {
    fn default() -> Self {
        Behaviours {
            dns_configs_covered_by_zone_group: true,
            machine_scope_clear: ScopeClear::default(),
            scoped_resource_writes_serialized: true,
        }
    }
}

/// How a machine PATCH clears its scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScopeClear {
    /// `""` clears; `null` is ignored, as many resource providers treat null in a PATCH.
    #[default]
    EmptyString,
    /// `null` clears; `""` is refused as an invalid resource id.
    Null,
    /// Either clears.
    Either,
}

/// Bounds on what one client connection may hold: a client that never finishes its TLS
/// handshake, its request headers or its request body (or idles between requests) is cut off,
/// and the number of connections served at once is capped, the rest waiting in the listen
/// backlog.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnectionLimits {
    pub handshake_timeout: Duration,
    /// Also how long a kept-alive connection may idle before its next request.
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive, from the end of its headers (then 408 and
    /// the connection is closed).
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            fixtures: None,
            state_file: None,
            lro_duration: Duration::ZERO,
            retry_after_secs: 0,
            page_size: 100,
            throttling: Some(RateLimits::default()),
            behaviours: Behaviours::default(),
            connections: ConnectionLimits::default(),
        }
    }
}

/// Token buckets per subscription, as ARM applies them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    pub reads: Bucket,
    pub writes: Bucket,
    pub deletes: Bucket,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub burst: u32,
    pub per_second: f64,
}

impl Default for RateLimits {
    /// ARM's documented per-subscription limits.
    fn default() -> Self {
        RateLimits {
            reads: Bucket {
                burst: 250,
                per_second: 25.0,
            },
            writes: Bucket {
                burst: 200,
                per_second: 10.0,
            },
            deletes: Bucket {
                burst: 200,
                per_second: 10.0,
            },
        }
    }
}
