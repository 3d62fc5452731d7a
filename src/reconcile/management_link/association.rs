//! The link's `Microsoft.Authorization/privateLinkAssociations/{GUID}` at the root management
//! group (`spec.association`): `properties.privateLink` is the link's id and
//! `publicNetworkAccess` is `Enabled`, the only value Azure takes (learn "Create a resource
//! management private link": "you can't disable the publicNetworkAccess field").
//!
//! Azure keeps no tags on an association either. Its name, by default a GUID derived from the
//! object, marks it as this object's; under a name the spec gives, one that already points at
//! the link is used as it is, one pointing elsewhere is taken over only with `policy.adopt`,
//! and only an association arclink created (`status.associationCreated`) is ever deleted. Writing it needs
//! Owner or Contributor at the root management group; a 403 there stalls the object naming
//! that role.

use crate::api::{ArcResourceManagementPrivateLink, DriftEntry};
use crate::azure::models::{PrivateLinkAssociation, PrivateLinkAssociationProperties};
use crate::azure::{ArmError, Deleted, ResourceId};

use super::super::engine::{Cleaned, Cx, DELETING, Next};
use super::super::ownership::{Owner, Ownership};
use super::super::resource::{ArmResource, Converged, Field};

const TYPE: &str = "Microsoft.Authorization/privateLinkAssociations";
/// The only value Azure takes.
const PUBLIC_NETWORK_ACCESS: &str = "Enabled";
/// Who may write an association, for the stall a 403 gives.
pub const ROLE_NEEDED: &str = "Owner or Contributor at the root management group";

type Lx<'c, 'a> = &'c mut Cx<'a, ArcResourceManagementPrivateLink>;

/// The association's id: `spec.association.name`, else a GUID derived from the object; and
/// whether it is derived (then an association of that name can only be this object's).
pub fn association_id(cx: &Cx<'_, ArcResourceManagementPrivateLink>) -> Option<(ResourceId, bool)> {
    let a = cx.obj.spec.association.as_ref()?;
    let (name, derived) = match &a.name {
        Some(name) => (name.clone(), false),
        None => (derived_name(&cx.owner()), true),
    };
    let group = ResourceId::management_group_id(&a.management_group_id);
    Some((group.child(TYPE, &name), derived))
}

/// A GUID from the object's owner name (cluster, namespace, kind, name): the same at every
/// reconcile, in the controller and in `plan`/`apply` alike, and another for another object.
pub fn derived_name(owner: &Owner) -> String {
    let input = format!("arclink private link association {owner}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Converges the association the spec declares, after removing one arclink created that the
/// spec no longer declares. `None`: nothing holds the object back.
pub async fn converge(cx: Lx<'_, '_>, link: &ResourceId) -> Result<Option<Next>, ArmError> {
    let wanted = association_id(cx);
    let stale = recorded(cx).filter(|a| wanted.as_ref().map(|(w, _)| w) != Some(a));
    if let Some(old) = stale
        && let Some(next) = release(cx, &old).await?
    {
        return Ok(Some(next));
    }
    let Some((id, derived)) = wanted else {
        return Ok(None);
    };
    match converge_declared(cx, &id, derived, link).await {
        Ok(next) => Ok(next),
        Err(e) => needs_role(cx, &id, e).map(Some),
    }
}

/// `derived`: the association's name is derived from this object, which marks it as this
/// object's (so a later `plan`/`apply` run, which keeps no status, knows it too).
async fn converge_declared(
    cx: Lx<'_, '_>,
    id: &ResourceId,
    derived: bool,
    link: &ResourceId,
) -> Result<Option<Next>, ArmError> {
    let actual: Option<PrivateLinkAssociation> = cx.arm.get(id).await?;
    let creating = actual.is_none();
    let created = cx.status.association_created || derived;
    let association = Association {
        id: id.clone(),
        link: link.to_string(),
        created,
    };
    match cx.converge_resource(&association, actual).await? {
        Converged::Ready(_) => cx.status.association_created = created,
        Converged::Written(_) => cx.status.association_created = created || creating,
        // Reported as drift (policy.drift: Report); the link itself is fine.
        Converged::Absent => {
            cx.status.association_id = None;
            return Ok(None);
        }
        Converged::Waiting(next) | Converged::Stopped(next) => return Ok(Some(next)),
    }
    cx.status.association_id = Some(id.to_string());
    Ok(None)
}

/// Removes the association on the object's deletion, when arclink created it. `Some`: the
/// deletion waits.
pub async fn remove(cx: Lx<'_, '_>) -> Result<Option<Cleaned>, ArmError> {
    let Some(id) = recorded(cx) else {
        return Ok(None);
    };
    Ok(release(cx, &id).await?.map(Cleaned::Waiting))
}

/// The association status records.
fn recorded(cx: &Cx<'_, ArcResourceManagementPrivateLink>) -> Option<ResourceId> {
    let id = cx.status.association_id.as_deref()?;
    ResourceId::parse(id).ok()
}

/// Lets go of the association status records: deleted if arclink created it, else left as it
/// is. `Some`: waiting for its deletion, or stalled.
async fn release(cx: Lx<'_, '_>, id: &ResourceId) -> Result<Option<Next>, ArmError> {
    if cx.status.association_created {
        match cx.delete(id).await {
            Ok(Deleted::Gone) => {}
            Ok(Deleted::Pending(token)) => {
                let message = format!("deleting private link association {id}");
                return Ok(Some(cx.track(DELETING, &token, message)));
            }
            Err(e) => return needs_role(cx, id, e).map(Some),
        }
    }
    cx.status.association_id = None;
    cx.status.association_created = false;
    Ok(None)
}

/// A 403 at the management group as a stall naming the role that writes there need; other
/// errors as they are.
fn needs_role(
    cx: &Cx<'_, ArcResourceManagementPrivateLink>,
    id: &ResourceId,
    err: ArmError,
) -> Result<Next, ArmError> {
    let ArmError::Auth {
        status: 403,
        code,
        message,
    } = err
    else {
        return Err(err);
    };
    let group = id.management_group().unwrap_or_default();
    Ok(cx.stalled(
        &code,
        format!(
            "private link association {id}: {code}: {message} Writing an association at management group {group} needs {ROLE_NEEDED} (a Global Administrator elevates access first to grant it)."
        ),
    ))
}

/// The association as it describes itself to the engine.
struct Association {
    id: ResourceId,
    link: String,
    created: bool,
}

impl Association {
    fn fields(&self) -> [Field<PrivateLinkAssociationProperties>; 2] {
        [
            Field::new(
                "association.properties.privateLink",
                self.link.as_str(),
                |a: &PrivateLinkAssociation| a.properties.as_ref()?.private_link.as_deref(),
                |a, v| properties(a).private_link = Some(v.to_string()),
            ),
            Field::new(
                "association.properties.publicNetworkAccess",
                PUBLIC_NETWORK_ACCESS,
                |a: &PrivateLinkAssociation| {
                    a.properties.as_ref()?.public_network_access.as_deref()
                },
                |a, v| properties(a).public_network_access = Some(v.to_string()),
            ),
        ]
    }
}

fn properties(a: &mut PrivateLinkAssociation) -> &mut PrivateLinkAssociationProperties {
    a.properties.get_or_insert_with(Default::default)
}

impl ArmResource for Association {
    type Props = PrivateLinkAssociationProperties;

    const WHAT: &'static str = "private link association";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        "association.".to_string()
    }

    /// The whole body Azure takes (the read-only `tenantID` and `scope` left out).
    fn desired(&self, _: Option<&PrivateLinkAssociation>) -> PrivateLinkAssociation {
        let mut body = PrivateLinkAssociation::default();
        for f in self.fields() {
            f.apply(&mut body);
        }
        body
    }

    fn differences(&self, actual: &PrivateLinkAssociation) -> Vec<DriftEntry> {
        self.fields()
            .iter()
            .filter_map(|f| f.difference(actual))
            .collect()
    }

    /// Ours when arclink created it, or when it already points at the link (nothing to
    /// write); anything else is someone else's, taken over only by adoption.
    fn ownership(&self, _: &Owner, actual: &PrivateLinkAssociation) -> Ownership {
        let points_here = self.fields()[0].difference(actual).is_none();
        if self.created || points_here {
            Ownership::Ours
        } else {
            Ownership::Unowned
        }
    }

    fn missing(&self) -> DriftEntry {
        DriftEntry {
            path: format!("{}(resource)", self.label()),
            desired: "exists".into(),
            actual: "missing".into(),
        }
    }

    fn adoption_hint(&self) -> &'static str {
        " (it points at another resource management private link; arclink would point it at this one), or name another GUID in spec.association.name"
    }
}
