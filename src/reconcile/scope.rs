//! `ArcPrivateLinkScope` -> `Microsoft.HybridCompute/privateLinkScopes`.
//!
//! Managed fields: location (immutable), `properties.publicNetworkAccess`, tags (the spec's plus
//! arclink's owner tags). Tags-only differences are PATCHed; anything else is a PUT of the
//! resource as read, with read-only fields stripped and unknown fields preserved.

use std::collections::BTreeMap;

use kube::ResourceExt;

use crate::api::scope::ConnectionStatus;
use crate::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeStatus, DeletionPolicy, DriftPolicy};
use crate::azure::lro::OperationState;
use crate::azure::models::{PrivateLinkScope, PrivateLinkScopeProperties};
use crate::azure::{ArmClient, ArmError, Deleted, ResourceId, Write};

use super::arm::{self, Resumed};
use super::diff::{Diff, same_location, tags_to_write};
use super::ownership::{Owner, Ownership, without_owner_tags};
use super::phase::write_conditions;
use super::{Change, ChangeAction, Cleanup, DriftState, Outcome, Phase, Requeue, Settings};

pub const KIND: &str = "ArcPrivateLinkScope";
const PROVIDER: &str = "Microsoft.HybridCompute";
const TYPE: &str = "privateLinkScopes";

/// The ARM id the object's scope has (or will have).
pub fn scope_id(obj: &ArcPrivateLinkScope, settings: &Settings) -> Result<ResourceId, String> {
    arm::resource_id(
        &obj.spec.azure,
        settings.default_subscription.as_deref(),
        PROVIDER,
        TYPE,
        &obj.name_any(),
    )
}

/// The owner tag value of this object.
pub fn owner(obj: &ArcPrivateLinkScope, settings: &Settings) -> Owner {
    Owner {
        cluster: settings.cluster_name.clone(),
        namespace: obj.namespace().unwrap_or_default(),
        kind: KIND.to_string(),
        name: obj.name_any(),
    }
}

/// The drift check interval of this object.
pub fn drift_interval(obj: &ArcPrivateLinkScope, settings: &Settings) -> std::time::Duration {
    settings.drift_interval(obj.spec.policy.drift_check_interval.as_deref())
}

/// Converges the scope in Azure towards the spec (or, in dry-run, reports what would change).
pub async fn reconcile(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateLinkScope,
) -> Outcome<ArcPrivateLinkScopeStatus> {
    let mut status = obj.status.clone().unwrap_or_default();
    let interval = drift_interval(obj, settings);
    arm::reset_attempts_on_spec_change(
        &mut status.failed_attempts,
        status.observed_generation,
        obj.metadata.generation,
    );
    let mut run = Run {
        arm,
        settings,
        obj,
        status: &mut status,
        changes: Vec::new(),
    };
    let (phase, drift, requeue) = if obj.spec.suspend {
        (
            Phase::Suspended,
            DriftState::InSync,
            Requeue::After(interval),
        )
    } else {
        match run.converge().await {
            Ok(done) => done,
            Err(e) => {
                let (phase, requeue) =
                    arm::phase_for_error(&e, &mut run.status.failed_attempts, interval);
                (phase, DriftState::InSync, requeue)
            }
        }
    };
    let changes = std::mem::take(&mut run.changes);
    arm::reset_attempts_when_ready(&mut status.failed_attempts, &phase);
    status.observed_generation = obj.metadata.generation;
    let drift_for_conditions = match (&drift, status.drift.is_empty()) {
        (DriftState::InSync, false) => {
            DriftState::Detected(format!("differs: {}", paths(&status.drift)))
        }
        _ => drift.clone(),
    };
    write_conditions(
        &mut status.conditions,
        &phase,
        &drift_for_conditions,
        obj.metadata.generation,
        jiff::Timestamp::now(),
        settings.note.as_deref(),
    );
    Outcome {
        status,
        requeue: requeue.jitter_drift_check(interval),
        drift,
        changes,
    }
}

fn paths(entries: &[crate::api::DriftEntry]) -> String {
    entries
        .iter()
        .map(|e| e.path.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

struct Run<'a> {
    arm: &'a ArmClient,
    settings: &'a Settings,
    obj: &'a ArcPrivateLinkScope,
    status: &'a mut ArcPrivateLinkScopeStatus,
    changes: Vec<Change>,
}

type Step = (Phase, DriftState, Requeue);

impl Run<'_> {
    async fn converge(&mut self) -> Result<Step, ArmError> {
        let interval = drift_interval(self.obj, self.settings);
        let id = match scope_id(self.obj, self.settings) {
            Ok(id) => id,
            Err(msg) => {
                return Ok((
                    Phase::stalled("InvalidSpec", msg),
                    DriftState::InSync,
                    Requeue::After(interval),
                ));
            }
        };
        self.status.resource_id = Some(id.to_string());

        if let Some(mut op) = self.status.operation.take() {
            match arm::resume(self.arm, &mut op).await {
                Resumed::Running(after) => {
                    let phase = Phase::progressing(
                        &op.action,
                        format!("{} of {} in progress", op.action, op.resource_id),
                    );
                    self.status.operation = Some(op);
                    return Ok((phase, DriftState::InSync, Requeue::After(after)));
                }
                Resumed::Finished(_) => {}
                Resumed::Lost(why) => tracing::info!(%why, "operation given up; re-reading"),
                Resumed::Failed(e) => return Err(e),
            }
        }

        let actual: Option<PrivateLinkScope> = self.arm.get(&id).await?;
        self.status.last_sync_time = Some(jiff::Timestamp::now().to_string());
        let spec = &self.obj.spec;
        let owner = owner(self.obj, self.settings);
        let desired_tags = owner.tags(&spec.tags);

        let Some(actual) = actual else {
            self.status.private_link_scope_id = None;
            self.status.provisioning_state = None;
            self.status.private_endpoint_connections.clear();
            if spec.policy.drift == DriftPolicy::Report {
                self.status.drift = vec![crate::api::DriftEntry {
                    path: "(resource)".into(),
                    desired: "exists".into(),
                    actual: "missing".into(),
                }];
                return Ok((
                    Phase::stalled(
                        "NotFound",
                        format!(
                            "scope {id} does not exist in Azure and drift policy Report forbids creating it"
                        ),
                    ),
                    DriftState::Detected("the scope is missing".into()),
                    Requeue::After(interval),
                ));
            }
            self.status.drift.clear();
            let body = PrivateLinkScope {
                location: Some(spec.location.clone()),
                tags: Some(desired_tags),
                properties: Some(PrivateLinkScopeProperties {
                    public_network_access: Some(spec.public_network_access.as_str().to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            return self
                .write(
                    &id,
                    ChangeAction::Create,
                    Vec::new(),
                    WriteKind::Put(Box::new(body)),
                )
                .await;
        };

        self.observe(&actual);
        match owner.classify(actual.tags.as_ref()) {
            Ownership::Ours => {}
            Ownership::Elsewhere(other) => {
                return Ok((
                    Phase::stalled(
                        "OwnedElsewhere",
                        format!("scope {id} is owned by {other}; arclink will not write it"),
                    ),
                    DriftState::InSync,
                    Requeue::After(interval),
                ));
            }
            Ownership::Unowned if !spec.policy.adopt => {
                return Ok((
                    Phase::stalled(
                        "AdoptionRequired",
                        format!(
                            "scope {id} already exists and no arclink object owns it; set spec.policy.adopt: true to take it over"
                        ),
                    ),
                    DriftState::InSync,
                    Requeue::After(interval),
                ));
            }
            Ownership::Unowned => {}
        }
        if let Some(loc) = actual.location.as_deref()
            && !same_location(loc, &spec.location)
        {
            return Ok((
                Phase::stalled(
                    "RegionMismatch",
                    format!(
                        "scope {id} is in {loc} but spec.location is {}; ARM cannot move a resource",
                        spec.location
                    ),
                ),
                DriftState::InSync,
                Requeue::After(interval),
            ));
        }

        let mut diff = Diff::default();
        let actual_pna = actual
            .properties
            .as_ref()
            .and_then(|p| p.public_network_access.as_deref());
        diff.field_ci(
            "properties.publicNetworkAccess",
            spec.public_network_access.as_str(),
            actual_pna,
        );
        diff.tags(&desired_tags, actual.tags.as_ref(), spec.policy.tags);
        let failed = matches!(
            self.status
                .provisioning_state
                .as_deref()
                .map(OperationState::parse),
            Some(OperationState::Failed | OperationState::Canceled)
        );
        if failed && spec.policy.drift == DriftPolicy::Correct {
            // A scope left Failed is repaired by sending the same PUT again
            // (reference/arm-behaviours.md 3).
            diff.push(
                "properties.provisioningState",
                "Succeeded",
                self.status
                    .provisioning_state
                    .as_deref()
                    .unwrap_or_default(),
            );
        }

        if diff.is_empty() {
            self.status.drift.clear();
            return Ok(self.settled(&id, DriftState::InSync, interval));
        }
        if spec.policy.drift == DriftPolicy::Report {
            let msg = format!("differs from the spec: {}", diff.paths());
            self.status.drift = diff.entries;
            return Ok((
                self.settled(&id, DriftState::InSync, interval).0,
                DriftState::Detected(msg),
                Requeue::After(interval),
            ));
        }
        self.status.drift.clear();
        let tags = tags_to_write(&desired_tags, actual.tags.as_ref(), spec.policy.tags);
        let kind = if diff.only_tags() {
            WriteKind::PatchTags(tags)
        } else {
            let mut body = actual.for_write();
            body.tags = Some(tags);
            let props = body.properties.get_or_insert_with(Default::default);
            props.public_network_access = Some(spec.public_network_access.as_str().to_string());
            WriteKind::Put(Box::new(body))
        };
        let corrected = format!("corrected: {}", diff.paths());
        let (phase, _, requeue) = self
            .write(&id, ChangeAction::Update, diff.entries, kind)
            .await?;
        Ok((phase, DriftState::Corrected(corrected), requeue))
    }

    /// Ready when provisioned; progressing while ARM is still provisioning.
    fn settled(&self, id: &ResourceId, drift: DriftState, interval: std::time::Duration) -> Step {
        match self.status.provisioning_state.as_deref() {
            None | Some("Succeeded") => (
                Phase::ready("Succeeded", format!("scope {id} matches the spec")),
                drift,
                Requeue::After(interval),
            ),
            Some(s) if s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Canceled") => (
                Phase::stalled(
                    "ProvisioningFailed",
                    format!("scope {id} has provisioningState {s}"),
                ),
                drift,
                Requeue::After(interval),
            ),
            Some(s) => (
                Phase::progressing(
                    "Provisioning",
                    format!("scope {id} has provisioningState {s}"),
                ),
                drift,
                Requeue::After(arm::OPERATION_POLL),
            ),
        }
    }

    async fn write(
        &mut self,
        id: &ResourceId,
        action: ChangeAction,
        diff: Vec<crate::api::DriftEntry>,
        kind: WriteKind,
    ) -> Result<Step, ArmError> {
        let interval = drift_interval(self.obj, self.settings);
        let change = Change {
            action,
            resource_id: id.to_string(),
            diff,
        };
        let verb = match action {
            ChangeAction::Create => "Creating",
            _ => "Updating",
        };
        if self.settings.dry_run {
            self.changes.push(change);
            return Ok((
                Phase::progressing(verb, format!("would {} scope {id}", action.as_str())),
                DriftState::InSync,
                Requeue::After(interval),
            ));
        }
        let written = match kind {
            WriteKind::Put(body) => self.arm.put::<_, PrivateLinkScope>(id, &*body).await?,
            WriteKind::PatchTags(tags) => {
                self.arm
                    .patch::<_, PrivateLinkScope>(id, &serde_json::json!({ "tags": tags }))
                    .await?
            }
        };
        // Only a write ARM accepted is a change; a refused one is the error in the status.
        self.changes.push(change);
        match written {
            Write::Done(scope) => {
                self.observe(&scope);
                Ok(self.settled(id, DriftState::InSync, interval))
            }
            Write::Pending(token) => {
                self.status.operation = Some(arm::pending(verb, &token)?);
                Ok((
                    Phase::progressing(verb, format!("{verb} scope {id}")),
                    DriftState::InSync,
                    Requeue::After(token.first_poll()),
                ))
            }
        }
    }

    fn observe(&mut self, scope: &PrivateLinkScope) {
        let props = scope.properties.as_ref();
        if let Some(id) = &scope.id {
            self.status.resource_id = Some(id.to_string());
        }
        self.status.private_link_scope_id = props.and_then(|p| p.private_link_scope_id.clone());
        self.status.provisioning_state = props.and_then(|p| p.provisioning_state.clone());
        self.status.private_endpoint_connections = props
            .and_then(|p| p.private_endpoint_connections.as_ref())
            .map(|conns| {
                conns
                    .iter()
                    .map(|c| {
                        let cp = c.properties.as_ref();
                        let state =
                            cp.and_then(|p| p.private_link_service_connection_state.as_ref());
                        ConnectionStatus {
                            name: c.name.clone().unwrap_or_default(),
                            private_endpoint_id: cp
                                .and_then(|p| p.private_endpoint.as_ref())
                                .and_then(|e| e.id.as_ref())
                                .map(|i| i.to_string()),
                            status: state.and_then(|s| s.status.clone()),
                            description: state.and_then(|s| s.description.clone()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
}

enum WriteKind {
    Put(Box<PrivateLinkScope>),
    PatchTags(BTreeMap<String, String>),
}

/// Deletes (policy `Delete`, owned by this object) or releases (policy `Orphan`) the scope.
pub async fn cleanup(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateLinkScope,
) -> Cleanup<ArcPrivateLinkScopeStatus> {
    let mut status = obj.status.clone().unwrap_or_default();
    let interval = drift_interval(obj, settings);
    let (phase, requeue) = match cleanup_steps(arm, settings, obj, &mut status).await {
        Ok(CleanupStep::Done(msg)) => return Cleanup::Done(msg),
        Ok(CleanupStep::Waiting(phase, requeue)) => (phase, requeue),
        Err(e) => arm::cleanup_phase_for_error(
            &e,
            &mut status.failed_attempts,
            interval,
            "the scope in Azure",
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

enum CleanupStep {
    Done(String),
    Waiting(Phase, Requeue),
}

async fn cleanup_steps(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateLinkScope,
    status: &mut ArcPrivateLinkScopeStatus,
) -> Result<CleanupStep, ArmError> {
    if obj.spec.suspend {
        return Ok(CleanupStep::Done(
            "suspended: the scope was left in Azure untouched".into(),
        ));
    }
    let Ok(id) = scope_id(obj, settings) else {
        return Ok(CleanupStep::Done(
            "no subscription resolved: nothing was created".into(),
        ));
    };
    if let Some(mut op) = status.operation.take() {
        match arm::resume(arm, &mut op).await {
            Resumed::Running(after) => {
                status.operation = Some(op);
                return Ok(CleanupStep::Waiting(
                    Phase::progressing("Deleting", format!("deleting scope {id}")),
                    Requeue::After(after),
                ));
            }
            Resumed::Finished(_) if op.action == "Deleting" => {
                return Ok(CleanupStep::Done(format!("deleted scope {id}")));
            }
            Resumed::Finished(_) | Resumed::Lost(_) => {}
            Resumed::Failed(e) => return Err(e),
        }
    }
    let Some(actual) = arm.get::<PrivateLinkScope>(&id).await? else {
        return Ok(CleanupStep::Done(format!("scope {id} is already gone")));
    };
    let owner = owner(obj, settings);
    match owner.classify(actual.tags.as_ref()) {
        Ownership::Ours => {}
        Ownership::Elsewhere(other) => {
            return Ok(CleanupStep::Done(format!(
                "scope {id} left in Azure: owned by {other}"
            )));
        }
        Ownership::Unowned => {
            return Ok(CleanupStep::Done(format!(
                "scope {id} left in Azure: not owned by this object"
            )));
        }
    }
    if settings.dry_run {
        return Ok(CleanupStep::Done(format!("would delete scope {id}")));
    }
    match obj.spec.policy.deletion {
        DeletionPolicy::Orphan => {
            let tags = without_owner_tags(actual.tags.as_ref().unwrap_or(&BTreeMap::new()));
            arm.patch::<_, serde_json::Value>(&id, &serde_json::json!({ "tags": tags }))
                .await?;
            Ok(CleanupStep::Done(format!(
                "scope {id} orphaned: left in Azure without arclink's owner tags"
            )))
        }
        DeletionPolicy::Delete => match arm.delete(&id).await? {
            Deleted::Gone => Ok(CleanupStep::Done(format!("deleted scope {id}"))),
            Deleted::Pending(token) => {
                status.operation = Some(arm::pending("Deleting", &token)?);
                Ok(CleanupStep::Waiting(
                    Phase::progressing("Deleting", format!("deleting scope {id}")),
                    Requeue::After(token.first_poll()),
                ))
            }
        },
    }
}
