//! `ArcMonitorPrivateLinkScope` in the controller: nothing besides the generic half (it writes
//! nothing into the cluster and watches nothing else).

use super::kind::Kind;
use crate::api::ArcMonitorPrivateLinkScope;

impl Kind for ArcMonitorPrivateLinkScope {}
