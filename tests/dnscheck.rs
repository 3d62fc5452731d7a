//! `arclink dns-check` against a DNS server the tests start on loopback (never the internet):
//! the verdicts, timeouts and TCP fallback, endpoints from a (fake) cluster, and the command on
//! manifests with the embedded emulator.

#[allow(dead_code)]
#[path = "controller/api_server.rs"]
mod api_server;
#[path = "dnscheck/dns_server.rs"]
mod dns_server;
// Shared with tests/offline.rs; this crate uses the sandbox and golden files only.
#[allow(dead_code)]
#[path = "offline/support.rs"]
mod support;

#[path = "dnscheck/cluster.rs"]
mod cluster;
#[path = "dnscheck/manifests.rs"]
mod manifests;
#[path = "dnscheck/resolution.rs"]
mod resolution;
