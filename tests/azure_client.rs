//! The ARM client against the in-process ARM emulator over HTTPS (no Azure needed).

#[path = "azure_client/common.rs"]
mod common;
#[path = "azure_client/credentials.rs"]
mod credentials;
#[path = "azure_client/hostile.rs"]
mod hostile;
#[path = "azure_client/lro.rs"]
mod lro;
#[path = "azure_client/operations.rs"]
mod operations;
#[path = "azure_client/throttling.rs"]
mod throttling;
