//! The ARM client: resource ids, models, errors, pipeline, LRO, rate limiting, credentials.

pub mod api_versions;
pub mod catalogue;
pub mod client;
pub mod cloud;
pub mod credentials;
pub mod error;
pub mod id;
pub mod listing;
pub mod lro;
pub mod metrics;
pub mod models;
pub mod names;
mod negotiation;
mod operations;
pub mod pipeline;
pub mod ratelimit;
pub mod retry_after;
pub mod transport;

pub use api_versions::ApiVersions;
pub use client::{ArmClient, ArmClientOptions, Precondition, precondition_failed};
pub use cloud::{Cloud, KnownCloud};
pub use credentials::{CredentialCache, CredentialSource, StaticTokenCredential};
pub use error::ArmError;
pub use id::{CollectionId, IdError, ResourceId};
pub use listing::{ListLimits, Listing};
pub use lro::{Deleted, OperationToken, Poll, PollStyle, Write};
pub use metrics::ArmMetrics;
pub use pipeline::RetryPolicy;
pub use ratelimit::{BucketLimits, RateLimits, RequestClass};
