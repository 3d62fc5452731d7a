//! Integration tests of the ARM emulator over real HTTPS.

mod support;

mod auth;
mod behaviours;
mod catalog;
mod contract;
mod durability;
mod hybridcompute;
mod limits;
mod names;
mod network;
mod nsg;
mod platform;
mod privatedns;
mod sdk;
