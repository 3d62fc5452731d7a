//! What several suites share: the API-server verifier, the sandbox that runs the `arclink`
//! binary, and the fixtures.

pub mod api_server;
pub mod sandbox;
pub mod shared;
