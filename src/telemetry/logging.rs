//! Structured logs: JSON lines in-cluster (one object per event, span fields included so every
//! reconcile line carries kind/namespace/name/ARM request id), readable text on a terminal.

use std::{
    io::{self, IsTerminal},
    sync::{Arc, Mutex},
};

use tracing::Dispatch;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt::MakeWriter, layer::SubscriberExt, registry::LookupSpan,
};

use crate::telemetry::TelemetryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text when stderr is a terminal, JSON otherwise.
    Auto,
    Json,
    Text,
}

impl LogFormat {
    /// `Auto` resolved against whether stderr is a terminal.
    pub fn resolve(self) -> LogFormat {
        match self {
            LogFormat::Auto if io::stderr().is_terminal() => LogFormat::Text,
            LogFormat::Auto => LogFormat::Json,
            other => other,
        }
    }
}

/// Installs the process-wide subscriber writing to stderr.
pub fn init(format: LogFormat, level: &str) -> Result<(), TelemetryError> {
    let dispatch = build(
        format.resolve(),
        level,
        io::stderr,
        io::stderr().is_terminal(),
    )?;
    tracing::dispatcher::set_global_default(dispatch)
        .map_err(|_| TelemetryError::LoggingAlreadyInitialised)
}

/// A subscriber identical to the one `init` installs but writing into memory, so tests can
/// inspect what a code path logs (e.g. that a secret never appears). Use it with
/// `tracing::dispatcher::set_default` or `tracing::instrument::WithSubscriber`.
pub fn capture(format: LogFormat, level: &str) -> Result<(Dispatch, LogBuffer), TelemetryError> {
    let buffer = LogBuffer::default();
    let dispatch = build(format.resolve(), level, buffer.clone(), false)?;
    Ok((dispatch, buffer))
}

fn build<W>(
    format: LogFormat,
    level: &str,
    writer: W,
    ansi: bool,
) -> Result<Dispatch, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level).map_err(|e| TelemetryError::LogFilter {
        value: level.to_owned(),
        message: e.to_string(),
    })?;
    let layer = match format {
        LogFormat::Text => text_layer(writer, ansi),
        LogFormat::Json | LogFormat::Auto => json_layer(writer),
    };
    Ok(Dispatch::new(
        Registry::default().with(layer.with_filter(filter)),
    ))
}

fn json_layer<S, W>(writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_target(true)
        .with_writer(writer)
        .boxed()
}

fn text_layer<S, W>(writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer)
        .boxed()
}

/// In-memory log sink filled by [`capture`].
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}
