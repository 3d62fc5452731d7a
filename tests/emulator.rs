//! Integration tests of the ARM emulator over real HTTPS.

#[path = "emulator/support.rs"]
mod support;

#[path = "emulator/auth.rs"]
mod auth;
#[path = "emulator/behaviours.rs"]
mod behaviours;
#[path = "emulator/contract.rs"]
mod contract;
#[path = "emulator/durability.rs"]
mod durability;
#[path = "emulator/hybridcompute.rs"]
mod hybridcompute;
#[path = "emulator/limits.rs"]
mod limits;
#[path = "emulator/names.rs"]
mod names;
#[path = "emulator/network.rs"]
mod network;
#[path = "emulator/nsg.rs"]
mod nsg;
#[path = "emulator/platform.rs"]
mod platform;
