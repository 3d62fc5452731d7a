//! Tracing, metrics registry and the /metrics /healthz /readyz server.
