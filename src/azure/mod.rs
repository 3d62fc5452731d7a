//! The ARM client: resource ids, models, errors, pipeline, LRO, rate limiting, credentials.
