//! What the suites share: the test bed, the fixture constants, the API-server verifier, and the
//! sandbox that runs the `arclink` binary.

pub mod api_server;
pub mod bed;
pub mod fixtures;
pub mod sandbox;
