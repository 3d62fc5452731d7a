//! The clean-up of an object whose Azure resource is its own and carries its owner tags (an Arc
//! scope, an Azure Monitor scope): deleted (`deletion: Delete`) or released (`Orphan`) only when
//! it exists and its owner tags name the object; anything else is left in Azure.

use std::collections::BTreeMap;

use super::engine::{Cleaned, Cx, DELETING, Managed};
use super::ownership::Ownership;
use crate::azure::{ArmError, Deleted, ResourceId};

/// The object's own resource as far as its clean-up reads it.
#[derive(serde::Deserialize)]
struct Tagged {
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
}

/// The object's resource `id` (`Err`: no id could be made, nothing was created), what it is
/// in messages ("scope").
pub struct Own<'a> {
    pub id: Result<ResourceId, String>,
    pub what: &'a str,
}

impl Own<'_> {
    /// Deletes the resource when the object owns it, following the deletion's operation.
    pub async fn delete<K: Managed>(self, cx: &mut Cx<'_, K>) -> Result<Cleaned, ArmError> {
        let Some((id, _)) = self.owned(cx).await? else {
            return Ok(self.left());
        };
        let what = self.what;
        match cx.delete(&id).await? {
            Deleted::Gone => Ok(Cleaned::Done(format!("deleted {what} {id}"))),
            Deleted::Pending(token) => Ok(Cleaned::Waiting(cx.track(
                DELETING,
                &token,
                format!("deleting {what} {id}"),
            ))),
        }
    }

    /// Removes arclink's owner tags from the resource when the object owns it.
    pub async fn orphan<K: Managed>(self, cx: &mut Cx<'_, K>) -> Result<Cleaned, ArmError> {
        let Some((id, tags)) = self.owned(cx).await? else {
            return Ok(self.left());
        };
        cx.release(&id, tags.as_ref()).await?;
        Ok(Cleaned::Done(format!(
            "{} {id} orphaned: left in Azure without arclink's owner tags",
            self.what
        )))
    }

    /// The resource's id and tags, when it exists and the object owns it.
    async fn owned<K: Managed>(
        &self,
        cx: &mut Cx<'_, K>,
    ) -> Result<Option<(ResourceId, Option<BTreeMap<String, String>>)>, ArmError> {
        let Ok(id) = &self.id else {
            return Ok(None);
        };
        let Some(found) = cx.arm.get::<Tagged>(id).await? else {
            return Ok(None);
        };
        let ours = cx.owner().classify(found.tags.as_ref()) == Ownership::Ours;
        Ok(ours.then(|| (id.clone(), found.tags)))
    }

    /// What a clean-up that finds nothing of its own reports.
    fn left(&self) -> Cleaned {
        Cleaned::Done(match &self.id {
            Ok(id) => format!(
                "{} {id} left in Azure: it is gone or not owned by this object",
                self.what
            ),
            Err(_) => "no subscription resolved: nothing was created".into(),
        })
    }
}
