//! Errors of the controller layer; each variant has a metric label.

use std::time::Duration;

/// What can go wrong in one reconcile, outside the reconcile core (which reports through status).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object has no namespace")]
    NoNamespace,
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("status does not serialise: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The object's credentials cannot be read right now (no status change; retried).
    #[error("credentials unavailable: {0}")]
    CredentialsUnavailable(String),
    /// Azure clean-up is not finished; the finalizer stays. Not a failure.
    #[error("clean-up in progress; looking again in {0:?}")]
    CleanupPending(Duration),
}

impl Error {
    /// A race the next reconcile settles by itself: a finalizer patch against a stale cache
    /// (409/422 on its JSON-patch test) or on an object already gone (404).
    pub fn is_benign(&self) -> bool {
        use kube::runtime::finalizer::Error as Finalizer;
        let code = |e: &kube::Error| match e {
            kube::Error::Api(status) => Some(status.code),
            _ => None,
        };
        match self {
            Error::Finalizer(f) => match f.as_ref() {
                Finalizer::AddFinalizer(e) | Finalizer::RemoveFinalizer(e) => {
                    matches!(code(e), Some(404 | 409 | 422))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// A bounded label for the reconcile-result metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::NoNamespace => "no_namespace",
            Error::Kube(_) => "kube",
            Error::Finalizer(_) => "finalizer",
            Error::Serialize(_) => "serialize",
            Error::CredentialsUnavailable(_) => "credentials_unavailable",
            Error::CleanupPending(_) => "cleanup_pending",
        }
    }
}
