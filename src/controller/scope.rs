//! `ArcPrivateLinkScope` in the controller: nothing beyond the generic wiring.

use super::kind::Kind;
use crate::api::ArcPrivateLinkScope;

impl Kind for ArcPrivateLinkScope {}
