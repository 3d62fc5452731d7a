use std::path::PathBuf;

/// Errors of the emulator's own machinery (start-up, fixtures, state file, admin operations).
/// Errors returned to ARM clients are [`super::http::ApiError`] instead.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot bind the emulator listener to {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the emulator TLS certificate: {0}")]
    Tls(String),
    #[error("invalid fixtures: {0}")]
    Fixtures(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path}: {message}")]
    Lock { path: PathBuf, message: String },
    #[error("state file {path} is invalid: {message}")]
    StateFile { path: PathBuf, message: String },
    #[error("state file {path} not written, the previous file is kept: {message}")]
    StateNotSaved { path: PathBuf, message: String },
    #[error("resource {id} not found")]
    NotFound { id: String },
    #[error("invalid resource id {id:?}: {reason}")]
    InvalidId { id: String, reason: String },
    #[error("invalid merge patch for {id}: {reason}")]
    InvalidPatch { id: String, reason: String },
    #[error("invalid value for --{flag}: {message}")]
    Flag { flag: &'static str, message: String },
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
}
