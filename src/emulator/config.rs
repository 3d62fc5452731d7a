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
    pub connections: ConnectionLimits,
}

/// Bounds on what one client connection may hold: a client that never finishes its TLS
/// handshake or its request headers (or idles between requests) is cut off, and the number of
/// connections served at once is capped, the rest waiting in the listen backlog.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnectionLimits {
    pub handshake_timeout: Duration,
    /// Also how long a kept-alive connection may idle before its next request.
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
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
