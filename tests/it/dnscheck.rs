//! `arclink dns-check` against a DNS server the tests start on loopback (never the internet):
//! the verdicts, timeouts and TCP fallback, endpoints from a (fake) cluster, and the command on
//! manifests with the embedded emulator.

mod dns_server;

mod clouds;
mod cluster;
mod manifests;
mod resolution;
