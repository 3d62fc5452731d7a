//! Graceful shutdown: wait for SIGTERM/SIGINT, then give in-flight work a bounded time.

use std::{future::Future, time::Duration};

use tokio::signal::unix::{SignalKind, signal as unix_signal};

use crate::telemetry::TelemetryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Interrupt,
}

/// Installs the SIGTERM and SIGINT handlers now (so a signal arriving before the returned
/// future is first polled is not lost, and no longer kills the process) and returns a future
/// resolving on the first of them.
pub fn signal() -> Result<impl Future<Output = Signal> + Send + 'static, TelemetryError> {
    let mut term =
        unix_signal(SignalKind::terminate()).map_err(|source| TelemetryError::Signal {
            signal: "SIGTERM",
            source,
        })?;
    let mut int =
        unix_signal(SignalKind::interrupt()).map_err(|source| TelemetryError::Signal {
            signal: "SIGINT",
            source,
        })?;
    Ok(async move {
        let received = tokio::select! {
            _ = term.recv() => Signal::Terminate,
            _ = int.recv() => Signal::Interrupt,
        };
        tracing::info!(signal = ?received, "shutdown requested");
        received
    })
}

/// Runs `fut` for at most `timeout`. kube-runtime's controller can hang in shutdown when its
/// first list never succeeded, so every shutdown step goes through this.
pub async fn bounded<F: Future>(
    what: &str,
    timeout: Duration,
    fut: F,
) -> Result<F::Output, TelemetryError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(output) => Ok(output),
        Err(_) => {
            tracing::warn!(
                what,
                ?timeout,
                "shutdown step cut off at the shutdown timeout"
            );
            Err(TelemetryError::ShutdownTimeout {
                what: what.to_owned(),
                timeout,
            })
        }
    }
}
