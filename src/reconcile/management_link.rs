//! `ArcResourceManagementPrivateLink` -> `Microsoft.Authorization/resourceManagementPrivateLinks`
//! and, with `spec.association`, its `privateLinkAssociations/{GUID}` at the root management
//! group ([`association`]).
//!
//! The link's only field is its location (immutable), and Azure keeps no tags on it: which
//! links this object created or adopted is recorded in `status.linkOwned`, and a link found
//! without that record goes through adoption like any other resource. Its
//! `privateEndpointConnections` are objects on the wire although the spec types them as
//! strings, so each entry is decoded on its own ([`connections`]).

pub mod association;

use kube::ResourceExt;
use serde_json::Value;

use crate::api::scope::ConnectionStatus;
use crate::api::{ArcResourceManagementPrivateLink, ArcResourceManagementPrivateLinkStatus};
use crate::azure::models::{
    PrivateEndpointConnection, PrivateLinkAssociationProperties, ResourceManagementPrivateLink,
    ResourceManagementPrivateLinkProperties,
};
use crate::azure::{ArmError, Deleted, ResourceId};

use super::declared::{Declared, Dependent};
use super::engine::{Cleaned, Common, Cx, DELETING, Managed, Next};
use super::ownership::{Owner, Ownership};
use super::resource::{ArmResource, Converged, Provisioned, region_mismatch};
use super::scope::connection_status;
use super::{Settings, arm};

pub const KIND: &str = "ArcResourceManagementPrivateLink";
const PROVIDER: &str = "Microsoft.Authorization";
const TYPE: &str = "resourceManagementPrivateLinks";

/// The ARM id the object's link has (or will have).
pub fn link_id(
    obj: &ArcResourceManagementPrivateLink,
    settings: &Settings,
) -> Result<ResourceId, String> {
    arm::resource_id(
        &obj.spec.azure,
        settings.default_subscription.as_deref(),
        PROVIDER,
        TYPE,
        &obj.name_any(),
    )
}

impl Managed for ArcResourceManagementPrivateLink {
    type Status = ArcResourceManagementPrivateLinkStatus;
    type Deps = ();
    type State = ();
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the resource management private link in Azure";

    fn common(&self) -> Common<'_> {
        Common::of(&self.spec.common)
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    async fn converge(cx: &mut Cx<'_, Self>, _: &()) -> Result<Next, ArmError> {
        let id = match link_id(cx.obj, cx.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(cx.stalled("InvalidSpec", msg)),
        };
        let actual: Option<ResourceManagementPrivateLink> = cx.arm.get(&id).await?;
        cx.observed();
        observe(&mut cx.status, actual.as_ref());
        let link = Link {
            id,
            location: cx.obj.spec.location.clone(),
            owned: cx.status.link_owned,
        };
        match cx.converge_resource(&link, actual).await? {
            Converged::Ready(_) => {}
            Converged::Written(written) => observe(&mut cx.status, Some(&written)),
            Converged::Absent => return Ok(cx.not_found(&link)),
            Converged::Waiting(next) | Converged::Stopped(next) => return Ok(next),
        }
        // Written, or found and allowed to be written: this object's from now on.
        cx.status.link_owned = true;
        cx.status.resource_id = Some(link.id.to_string());
        if let Some(next) = association::converge(cx, &link.id).await? {
            return Ok(next);
        }
        Ok(cx.ready(match &cx.status.association_id {
            Some(a) => format!(
                "resource management private link {} exists, associated by {a}",
                link.id
            ),
            None => format!("resource management private link {} exists", link.id),
        }))
    }

    async fn delete(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        if let Some(waiting) = association::remove(cx).await? {
            return Ok(waiting);
        }
        let Some(id) = owned_link(cx) else {
            return Ok(left(cx));
        };
        match cx.delete(&id).await? {
            Deleted::Gone => Ok(Cleaned::Done(format!(
                "deleted resource management private link {id}"
            ))),
            Deleted::Pending(token) => Ok(Cleaned::Waiting(cx.track(
                DELETING,
                &token,
                format!("deleting resource management private link {id}"),
            ))),
        }
    }

    /// Nothing to release: Azure keeps no owner tags on the link or the association.
    async fn orphan(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        let mut left = vec![];
        if let Some(id) = owned_link(cx) {
            left.push(format!("resource management private link {id}"));
        }
        if let Some(a) = &cx.status.association_id {
            left.push(format!("association {a}"));
        }
        Ok(Cleaned::Done(if left.is_empty() {
            "nothing of this object's was found in Azure".to_string()
        } else {
            format!(
                "{} orphaned: left in Azure as they are (they carry no owner tags)",
                left.join(" and ")
            )
        }))
    }
}

impl Dependent for ArcResourceManagementPrivateLink {
    fn deps(&self, _: &impl Declared, _: &Settings) {}
}

/// The link as it describes itself to the engine: a location, no tags, and ownership from
/// status.
struct Link {
    id: ResourceId,
    location: String,
    owned: bool,
}

impl Provisioned for ResourceManagementPrivateLinkProperties {
    fn provisioning_state(&self) -> Option<&str> {
        None
    }
}

impl Provisioned for PrivateLinkAssociationProperties {
    fn provisioning_state(&self) -> Option<&str> {
        None
    }
}

impl ArmResource for Link {
    type Props = ResourceManagementPrivateLinkProperties;
    const OWN: bool = true;

    const WHAT: &'static str = "resource management private link";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    /// The body Azure takes: the location alone.
    fn desired(&self, _: Option<&ResourceManagementPrivateLink>) -> ResourceManagementPrivateLink {
        ResourceManagementPrivateLink {
            location: Some(self.location.clone()),
            ..Default::default()
        }
    }

    fn immutable(&self, actual: &ResourceManagementPrivateLink) -> Option<(&'static str, String)> {
        region_mismatch(
            Self::WHAT,
            &self.id,
            actual.location.as_deref(),
            &self.location,
        )
    }

    fn ownership(&self, _: &Owner, _: &ResourceManagementPrivateLink) -> Ownership {
        if self.owned {
            Ownership::Ours
        } else {
            Ownership::Unowned
        }
    }

    fn adoption_hint(&self) -> &'static str {
        " (Azure keeps no tags on the link: this object's status records that it created or adopted it, and plan/apply, which keep no status, need the adoption for a link an earlier run created)"
    }
}

/// The status fields from the link as ARM reports it (`None`: it does not exist).
fn observe(
    status: &mut ArcResourceManagementPrivateLinkStatus,
    link: Option<&ResourceManagementPrivateLink>,
) {
    if let Some(id) = link.and_then(|l| l.id.as_ref()) {
        status.resource_id = Some(id.to_string());
    }
    status.private_endpoint_connections = link
        .and_then(|l| l.properties.as_ref())
        .and_then(|p| p.private_endpoint_connections.as_deref())
        .map(connections)
        .unwrap_or_default();
}

/// The link's `privateEndpointConnections`, whatever their shape: connection objects (what the
/// service returns), or the connection ids the spec's `string` type describes.
pub fn connections(entries: &[Value]) -> Vec<ConnectionStatus> {
    entries
        .iter()
        .filter_map(|entry| match entry {
            Value::String(id) => Some(ConnectionStatus {
                name: id.rsplit('/').next().unwrap_or(id).to_string(),
                ..Default::default()
            }),
            Value::Object(fields) => Some(
                serde_json::from_value::<PrivateEndpointConnection>(entry.clone())
                    .map(|c| connection_status(&c))
                    .unwrap_or_else(|_| ConnectionStatus {
                        name: fields
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        ..Default::default()
                    }),
            ),
            _ => None,
        })
        .collect()
}

/// The link, when this object created or adopted it.
fn owned_link(cx: &Cx<'_, ArcResourceManagementPrivateLink>) -> Option<ResourceId> {
    if !cx.status.link_owned {
        return None;
    }
    link_id(cx.obj, cx.settings).ok()
}

/// What a deletion that finds nothing of its own reports.
fn left(cx: &Cx<'_, ArcResourceManagementPrivateLink>) -> Cleaned {
    Cleaned::Done(match link_id(cx.obj, cx.settings) {
        Ok(id) => format!(
            "resource management private link {id} left in Azure: this object did not create or adopt it"
        ),
        Err(_) => "no subscription resolved: nothing was created".into(),
    })
}
