//! Deleting an ArcPrivateEndpoint: what it created goes in reverse order — the zone group,
//! the virtual network links, the zones it owns (only when no other link remains), then the
//! endpoint. `deletion: Orphan` leaves everything and removes arclink's owner tags.
//!
//! Each call re-reads Azure; a resource still deleting is waited for, so a restart mid-way
//! continues where it stopped.

use std::collections::BTreeMap;

use futures::TryStreamExt;

use crate::api::endpoint::PrivateDnsMode;
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus, DeletionPolicy};
use crate::azure::models::{
    PrivateDnsZone, PrivateDnsZoneGroup, PrivateEndpoint, VirtualNetworkLink,
};
use crate::azure::{ArmClient, ArmError, CollectionId, Deleted, ResourceId};
use crate::reconcile::arm::{self, Resumed};
use crate::reconcile::ownership::{Owner, Ownership, without_owner_tags};
use crate::reconcile::phase::write_conditions;
use crate::reconcile::{Cleanup, DriftState, Phase, Requeue, Settings};

use super::dns::zone_resource_group;
use super::{NETWORK, drift_interval, endpoint_id, in_flight, owner};

enum Step {
    Done(String),
    Waiting(String, Requeue),
}

fn waiting(what: String) -> Step {
    Step::Waiting(what, Requeue::After(arm::OPERATION_POLL))
}

/// Removes (policy `Delete`) or releases (policy `Orphan`) what the object created in Azure.
pub async fn cleanup(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
) -> Cleanup<ArcPrivateEndpointStatus> {
    let mut status = obj.status.clone().unwrap_or_default();
    let interval = drift_interval(obj, settings);
    let (phase, requeue) = match steps(arm, settings, obj, &mut status).await {
        Ok(Step::Done(msg)) => return Cleanup::Done(msg),
        Ok(Step::Waiting(msg, requeue)) => (Phase::progressing("Deleting", msg), requeue),
        Err(e) => arm::cleanup_phase_for_error(
            &e,
            &mut status.failed_attempts,
            interval,
            "the endpoint in Azure",
        ),
    };
    write_conditions(
        &mut status.conditions,
        &phase,
        &DriftState::InSync,
        obj.metadata.generation,
        jiff::Timestamp::now(),
        settings.note.as_deref(),
    );
    Cleanup::Pending { status, requeue }
}

async fn steps(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
    status: &mut ArcPrivateEndpointStatus,
) -> Result<Step, ArmError> {
    if obj.spec.suspend {
        return Ok(Step::Done(
            "suspended: the private endpoint and its DNS were left in Azure untouched".into(),
        ));
    }
    let Ok(id) = endpoint_id(obj, settings) else {
        return Ok(Step::Done(
            "no subscription resolved: nothing was created".into(),
        ));
    };
    if let Some(mut op) = status.operation.take() {
        match arm::resume(arm, &mut op).await {
            Resumed::Running(after) => {
                let what = format!("{} of {} in progress", op.action, op.resource_id);
                status.operation = Some(op);
                return Ok(Step::Waiting(what, Requeue::After(after)));
            }
            Resumed::Finished(_) if op.action == "Deleting" => {
                return Ok(Step::Done(format!(
                    "deleted private endpoint {id} and its DNS"
                )));
            }
            Resumed::Finished(_) | Resumed::Lost(_) => {}
            Resumed::Failed(e) if op.action == "Deleting" => return Err(e),
            Resumed::Failed(e) => {
                tracing::info!(endpoint = %id, error = %e, "write in flight at deletion failed; deleting anyway");
            }
        }
    }
    let owner = owner(obj, settings);
    let pe: Option<PrivateEndpoint> = arm.get(&id).await?;
    if let Some(pe) = &pe {
        match owner.classify(pe.tags.as_ref()) {
            Ownership::Ours => {}
            Ownership::Elsewhere(other) => {
                return Ok(Step::Done(format!(
                    "private endpoint {id} left in Azure: owned by {other}"
                )));
            }
            Ownership::Unowned => {
                return Ok(Step::Done(format!(
                    "private endpoint {id} left in Azure: not owned by this object"
                )));
            }
        }
    }
    if settings.dry_run {
        return Ok(Step::Done(format!(
            "would delete private endpoint {id} and its DNS"
        )));
    }
    let mode = obj
        .spec
        .private_dns
        .as_ref()
        .map(|d| d.mode)
        .unwrap_or_default();
    let zones = managed_zone_ids(obj, status, &id);
    if obj.spec.policy.deletion == DeletionPolicy::Orphan {
        return orphan(arm, &owner, &id, pe.as_ref(), &zones).await;
    }

    if let Some(pe) = &pe {
        let state = pe
            .properties
            .as_ref()
            .and_then(|p| p.provisioning_state.as_deref());
        if state.is_some_and(|s| s.eq_ignore_ascii_case("Deleting")) {
            return Ok(waiting(format!("deleting private endpoint {id}")));
        }
        if in_flight(state) {
            return Ok(waiting(format!(
                "private endpoint {id} is still provisioning"
            )));
        }
        if mode != PrivateDnsMode::Disabled {
            let groups: Vec<PrivateDnsZoneGroup> = arm
                .list(&CollectionId::new(&id, "privateDnsZoneGroups"))
                .try_collect()
                .await?;
            for g in groups {
                let Some(gid) = g.id.clone() else { continue };
                if let Some(step) = delete(arm, &gid, provisioning(&g)).await? {
                    return Ok(step);
                }
            }
        }
    }
    if mode == PrivateDnsMode::Managed {
        let mut pending = Vec::new();
        for zid in &zones {
            let links: Vec<VirtualNetworkLink> = arm
                .list(&CollectionId::new(zid, "virtualNetworkLinks"))
                .try_collect()
                .await?;
            for l in links {
                let Some(lid) = l.id.clone() else { continue };
                if owner.classify(l.tags.as_ref()) != Ownership::Ours {
                    continue;
                }
                let state = l
                    .properties
                    .as_ref()
                    .and_then(|p| p.provisioning_state.as_deref());
                if delete(arm, &lid, state).await?.is_some() {
                    pending.push(lid.to_string());
                }
            }
        }
        if !pending.is_empty() {
            return Ok(waiting(format!(
                "deleting virtual network links {}",
                pending.join(", ")
            )));
        }
        let mut kept = Vec::new();
        for zid in &zones {
            let Some(zone) = arm.get::<PrivateDnsZone>(zid).await? else {
                continue;
            };
            if owner.classify(zone.tags.as_ref()) != Ownership::Ours {
                continue;
            }
            let links: Vec<VirtualNetworkLink> = arm
                .list(&CollectionId::new(zid, "virtualNetworkLinks"))
                .try_collect()
                .await?;
            if !links.is_empty() {
                kept.push(zid.name().to_string());
                continue;
            }
            let state = zone
                .properties
                .as_ref()
                .and_then(|p| p.provisioning_state.as_deref());
            if delete(arm, zid, state).await?.is_some() {
                pending.push(zid.to_string());
            }
        }
        if !pending.is_empty() {
            return Ok(waiting(format!(
                "deleting private DNS zones {}",
                pending.join(", ")
            )));
        }
        if !kept.is_empty() {
            tracing::info!(endpoint = %id, zones = %kept.join(", "), "private DNS zones kept: other virtual network links remain");
        }
    }
    if pe.is_none() {
        return Ok(Step::Done(format!(
            "private endpoint {id} is gone; its DNS was removed"
        )));
    }
    match arm.delete(&id).await? {
        Deleted::Gone => Ok(Step::Done(format!(
            "deleted private endpoint {id} and its DNS"
        ))),
        Deleted::Pending(token) => {
            status.operation = Some(arm::pending("Deleting", &token)?);
            Ok(waiting(format!("deleting private endpoint {id}")))
        }
    }
}

fn provisioning(g: &PrivateDnsZoneGroup) -> Option<&str> {
    g.properties
        .as_ref()
        .and_then(|p| p.provisioning_state.as_deref())
}

/// Deletes `id` unless it is already deleting; `Some` while the deletion runs.
async fn delete(
    arm: &ArmClient,
    id: &ResourceId,
    state: Option<&str>,
) -> Result<Option<Step>, ArmError> {
    if state.is_some_and(|s| s.eq_ignore_ascii_case("Deleting")) {
        return Ok(Some(waiting(format!("deleting {id}"))));
    }
    match arm.delete(id).await? {
        Deleted::Gone => Ok(None),
        Deleted::Pending(_) => Ok(Some(waiting(format!("deleting {id}")))),
    }
}

/// Zones the object may have created or linked: the ones it owns (status) and the zones its
/// records live in, in the managed zone resource group.
fn managed_zone_ids(
    obj: &ArcPrivateEndpoint,
    status: &ArcPrivateEndpointStatus,
    pe: &ResourceId,
) -> Vec<ResourceId> {
    let rg = zone_resource_group(obj);
    let mut out: Vec<ResourceId> = status
        .dns_zone_ids
        .iter()
        .filter_map(|z| z.parse().ok())
        .collect();
    for r in &status.dns_records {
        let zid = ResourceId::resource(pe.subscription(), &rg, NETWORK, "privateDnsZones", &r.zone);
        if !out.contains(&zid) {
            out.push(zid);
        }
    }
    out
}

/// `deletion: Orphan`: everything stays; owner tags go so another object can adopt it.
async fn orphan(
    arm: &ArmClient,
    owner: &Owner,
    id: &ResourceId,
    pe: Option<&PrivateEndpoint>,
    zones: &[ResourceId],
) -> Result<Step, ArmError> {
    for zid in zones {
        let links: Vec<VirtualNetworkLink> = arm
            .list(&CollectionId::new(zid, "virtualNetworkLinks"))
            .try_collect()
            .await?;
        for l in links {
            if let (Some(lid), Ownership::Ours) = (&l.id, owner.classify(l.tags.as_ref())) {
                let tags = without_owner_tags(l.tags.as_ref().unwrap_or(&BTreeMap::new()));
                arm.patch::<_, serde_json::Value>(lid, &serde_json::json!({ "tags": tags }))
                    .await?;
            }
        }
        if let Some(zone) = arm.get::<PrivateDnsZone>(zid).await?
            && owner.classify(zone.tags.as_ref()) == Ownership::Ours
        {
            let tags = without_owner_tags(zone.tags.as_ref().unwrap_or(&BTreeMap::new()));
            arm.patch::<_, serde_json::Value>(zid, &serde_json::json!({ "tags": tags }))
                .await?;
        }
    }
    if let Some(pe) = pe {
        // Private endpoints have no tags-only PATCH in the Network API: PUT the endpoint as
        // read, without the owner tags.
        let mut body = pe.for_write();
        body.tags = Some(without_owner_tags(
            pe.tags.as_ref().unwrap_or(&BTreeMap::new()),
        ));
        if let Some(p) = body.properties.as_mut() {
            p.custom_dns_configs = None;
        }
        arm.put::<_, serde_json::Value>(id, &body).await?;
    }
    Ok(Step::Done(format!(
        "private endpoint {id} and its DNS orphaned: left in Azure without arclink's owner tags"
    )))
}
