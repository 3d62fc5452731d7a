//! Issue 8: logs of a full reconcile run never show a secret or a token. A binary of its own:
//! tracing's per-callsite interest is process-wide, so other tests running on other threads
//! without a subscriber would hide the events this test must see.

#[path = "controller/api_server.rs"]
mod api_server;
#[path = "controller/logs.rs"]
mod logs;
// Shared by tests/controller.rs and tests/logs.rs; each uses part of it.
#[allow(dead_code)]
#[path = "controller/support.rs"]
mod support;
