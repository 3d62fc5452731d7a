//! The ARM client against the in-process ARM emulator over HTTPS (no Azure needed).

mod api_versions;
pub mod common;
mod credentials;
mod hostile;
mod listing;
mod lro;
mod operations;
mod redirects;
mod server;
mod throttling;
