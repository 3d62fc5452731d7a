//! Integration tests of the ARM emulator over real HTTPS.

mod companion_support;
mod support;

mod associations;
mod auth;
mod behaviours;
mod behaviours_general;
mod catalog;
mod contract;
mod durability;
mod hybridcompute;
mod limits;
mod monitor;
mod names;
mod network;
mod nsg;
mod platform;
mod private_links;
mod privatedns;
mod sdk;
mod static_ips;
mod targets;
