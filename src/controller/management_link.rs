//! `ArcResourceManagementPrivateLink` in the controller: no watch besides its own objects and
//! no Kubernetes write besides its status (the generic [`Kind`] defaults).

use super::kind::Kind;
use crate::api::ArcResourceManagementPrivateLink;

impl Kind for ArcResourceManagementPrivateLink {}
