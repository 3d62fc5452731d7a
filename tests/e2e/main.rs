//! End to end against a real cluster (Kubernetes 1.32): the `arclink` binary, the CRDs from
//! crds/ and an in-process ARM emulator. Every test needs ARCLINK_E2E_KUBECONFIG and is
//! ignored by default: `ARCLINK_E2E_KUBECONFIG=~/.kube/config cargo test --test e2e -- --ignored`.

mod support;

/// The table of names and ids shared with the `it` suites.
#[path = "../it/crds/cases.rs"]
mod cases;

mod association;
mod companion;
mod endpoint;
mod leader;
mod management_link;
mod monitor_scope;
mod scope;
mod steady;
mod validation;
