//! `ArcPrivateEndpoint` -> `Microsoft.Network/privateEndpoints` (group id `hybridcompute`) to an
//! Arc Private Link Scope, its approval, and its private DNS.
//!
//! Order of a reconcile: resume the endpoint's operation, resolve the scope, validate (subnet,
//! region, one scope per virtual network) before any write, converge the endpoint, approve its
//! connection when allowed, converge DNS ([`dns`]), report. Only the endpoint PUT keeps its
//! operation token in status: it is the one write whose repetition would race the running
//! operation. Zones, links, zone groups and connections have deterministic names, so after a
//! restart they are re-read and a resource still provisioning is waited for, not re-written.

mod approval;
mod cleanup;
pub mod dns;
pub mod export;
mod network;

use std::time::Duration;

use kube::ResourceExt;

use crate::api::conditions::{READY, is_true};
use crate::api::endpoint::{Approval, EndpointConnection, PrivateDnsMode};
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus, DriftEntry, DriftPolicy};
use crate::azure::lro::OperationState;
use crate::azure::models::{
    PrivateEndpoint, PrivateEndpointProperties, PrivateLinkServiceConnection,
    PrivateLinkServiceConnectionProperties, SubResource,
};
use crate::azure::{ArmClient, ArmError, ResourceId, Write};

use super::arm::{self, Resumed};
use super::diff::{Diff, same_location, tags_to_write};
use super::ownership::{Owner, Ownership};
use super::phase::write_conditions;
use super::scope_ref::{self, ResolvedScope, ScopeSource};
use super::{Change, ChangeAction, DriftState, Outcome, Phase, Requeue, Settings};

use approval::scope_connection;
pub use cleanup::cleanup;
pub use export::dns_export;

pub const KIND: &str = "ArcPrivateEndpoint";
const NETWORK: &str = "Microsoft.Network";
/// The private link group id of Arc-enabled servers.
pub const GROUP_ID: &str = "hybridcompute";
const AUTO: &str = "privateLinkServiceConnections";
const MANUAL: &str = "manualPrivateLinkServiceConnections";
/// Azure's limit on a connection's `requestMessage` (reference/arm-behaviours.md 7).
pub const MAX_REQUEST_MESSAGE: usize = 140;

/// What the controller layer looked up in Kubernetes for one reconcile.
#[derive(Clone, Debug)]
pub struct EndpointDeps {
    /// The scope the endpoint points at.
    pub scope: ScopeSource,
    /// The other ArcPrivateEndpoint objects of the cluster (any namespace), for the
    /// one-scope-per-virtual-network check.
    pub peers: Vec<PeerEndpoint>,
}

/// Another ArcPrivateEndpoint object of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerEndpoint {
    /// `<namespace>/<name>`.
    pub name: String,
    /// Its `spec.subnetId`.
    pub subnet_id: String,
    /// ARM id of the scope it connects to.
    pub scope_id: String,
}

/// The ARM id the object's private endpoint has (or will have).
pub fn endpoint_id(obj: &ArcPrivateEndpoint, settings: &Settings) -> Result<ResourceId, String> {
    arm::resource_id(
        &obj.spec.azure,
        settings.default_subscription.as_deref(),
        NETWORK,
        "privateEndpoints",
        &obj.name_any(),
    )
}

/// The owner tag value of this object.
pub fn owner(obj: &ArcPrivateEndpoint, settings: &Settings) -> Owner {
    Owner {
        cluster: settings.cluster_name.clone(),
        namespace: obj.namespace().unwrap_or_default(),
        kind: KIND.to_string(),
        name: obj.name_any(),
    }
}

/// The drift check interval of this object.
pub fn drift_interval(obj: &ArcPrivateEndpoint, settings: &Settings) -> Duration {
    settings.drift_interval(obj.spec.policy.drift_check_interval.as_deref())
}

/// The virtual network of `spec.subnetId`.
pub fn vnet_of(subnet_id: &str) -> Option<ResourceId> {
    subnet_id.parse::<ResourceId>().ok()?.parent()
}

/// Converges the endpoint and its DNS towards the spec (or, in dry-run, reports what would
/// change).
pub async fn reconcile(
    arm: &ArmClient,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
    deps: &EndpointDeps,
) -> Outcome<ArcPrivateEndpointStatus> {
    let mut status = obj.status.clone().unwrap_or_default();
    let interval = drift_interval(obj, settings);
    arm::reset_attempts_on_spec_change(
        &mut status.failed_attempts,
        status.observed_generation,
        obj.metadata.generation,
    );
    let was_ready = is_true(&status.conditions, READY);
    let mut run = Run {
        arm,
        settings,
        obj,
        deps,
        status: &mut status,
        changes: Vec::new(),
        drift: Diff::default(),
        corrected: Vec::new(),
        was_ready,
        conflicts: Vec::new(),
        interval,
    };
    let (phase, requeue) = if obj.spec.suspend {
        (Phase::Suspended, Requeue::After(interval))
    } else {
        match run.converge().await {
            Ok(done) => done,
            Err(e) => arm::phase_for_error(&e, &mut run.status.failed_attempts, interval),
        }
    };
    let changes = std::mem::take(&mut run.changes);
    let drift = run.drift_state();
    arm::reset_attempts_when_ready(&mut status.failed_attempts, &phase);
    status.observed_generation = obj.metadata.generation;
    write_conditions(
        &mut status.conditions,
        &phase,
        &drift,
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

type Step = (Phase, Requeue);

struct Run<'a> {
    arm: &'a ArmClient,
    settings: &'a Settings,
    obj: &'a ArcPrivateEndpoint,
    deps: &'a EndpointDeps,
    status: &'a mut ArcPrivateEndpointStatus,
    changes: Vec<Change>,
    /// Differences found and not corrected (policy `Report`).
    drift: Diff,
    /// Differences corrected by this reconcile.
    corrected: Vec<String>,
    /// Whether the object was Ready before: then anything missing in Azure is drift.
    was_ready: bool,
    /// DNS records another endpoint wrote into a shared zone (reported, never rewritten).
    conflicts: Vec<String>,
    interval: Duration,
}

/// Whether a provisioning state means an operation is still running.
fn in_flight(state: Option<&str>) -> bool {
    state.is_some_and(|s| OperationState::parse(s) == OperationState::Running)
}

fn failed(state: Option<&str>) -> bool {
    state.is_some_and(|s| {
        matches!(
            OperationState::parse(s),
            OperationState::Failed | OperationState::Canceled
        )
    })
}

impl Run<'_> {
    fn report_only(&self) -> bool {
        self.obj.spec.policy.drift == DriftPolicy::Report
    }

    fn drift_state(&mut self) -> DriftState {
        self.status.drift = self.drift.entries.clone();
        if !self.conflicts.is_empty() {
            DriftState::Detected(self.conflicts.join("; "))
        } else if !self.drift.is_empty() {
            DriftState::Detected(format!("differs from the spec: {}", self.drift.paths()))
        } else if !self.corrected.is_empty() {
            DriftState::Corrected(format!("corrected: {}", self.corrected.join(", ")))
        } else {
            DriftState::InSync
        }
    }

    fn stalled(&self, reason: &str, message: String) -> Step {
        (
            Phase::stalled(reason, message),
            Requeue::After(self.interval),
        )
    }

    /// Makes a write (never in dry-run) and records it once ARM accepted it (in dry-run: as
    /// planned). `None` in dry-run.
    async fn put<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &mut self,
        id: &ResourceId,
        action: ChangeAction,
        diff: Vec<DriftEntry>,
        body: &B,
    ) -> Result<Option<Write<T>>, ArmError> {
        let written = if self.settings.dry_run {
            None
        } else {
            Some(self.arm.put(id, body).await?)
        };
        self.changes.push(Change {
            action,
            resource_id: id.to_string(),
            diff,
        });
        Ok(written)
    }

    async fn patch_tags<T: serde::de::DeserializeOwned>(
        &mut self,
        id: &ResourceId,
        tags: &std::collections::BTreeMap<String, String>,
        diff: Vec<DriftEntry>,
    ) -> Result<Option<Write<T>>, ArmError> {
        let written = if self.settings.dry_run {
            None
        } else {
            Some(
                self.arm
                    .patch(id, &serde_json::json!({ "tags": tags }))
                    .await?,
            )
        };
        self.changes.push(Change {
            action: ChangeAction::Update,
            resource_id: id.to_string(),
            diff,
        });
        Ok(written)
    }

    async fn converge(&mut self) -> Result<Step, ArmError> {
        let id = match endpoint_id(self.obj, self.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(self.stalled("InvalidSpec", msg)),
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
                    return Ok((phase, Requeue::After(after)));
                }
                Resumed::Finished(_) => {}
                Resumed::Lost(why) => tracing::info!(%why, "operation given up; re-reading"),
                // A transient failure (`RetryableError`, a cancellation) counts as an attempt;
                // the next reconcile re-reads the endpoint and re-sends the write.
                Resumed::Failed(e) => return Err(e),
            }
        }

        let scope =
            match scope_ref::resolve(self.arm, self.settings, &self.deps.scope, self.interval)
                .await?
            {
                Ok(s) => s,
                Err(step) => return Ok(step),
            };
        let vnet_id = match self.validate_network(&scope).await? {
            Ok(vnet) => vnet,
            Err(step) => return Ok(step),
        };

        let actual: Option<PrivateEndpoint> = self.arm.get(&id).await?;
        self.status.last_sync_time = Some(jiff::Timestamp::now().to_string());
        let Some(actual) = actual else {
            return self.create(&id, &scope, &vnet_id).await;
        };
        let owner = owner(self.obj, self.settings);
        match owner.classify(actual.tags.as_ref()) {
            Ownership::Ours => {}
            Ownership::Elsewhere(other) => {
                return Ok(self.stalled(
                    "OwnedElsewhere",
                    format!("private endpoint {id} is owned by {other}; arclink will not write it"),
                ));
            }
            Ownership::Unowned if !self.obj.spec.policy.adopt => {
                return Ok(self.stalled(
                    "AdoptionRequired",
                    format!(
                        "private endpoint {id} already exists and no arclink object owns it; set spec.policy.adopt: true to take it over"
                    ),
                ));
            }
            Ownership::Unowned => {}
        }
        if let Some(loc) = actual.location.as_deref()
            && !same_location(loc, &self.obj.spec.location)
        {
            return Ok(self.stalled(
                "RegionMismatch",
                format!(
                    "private endpoint {id} is in {loc} but spec.location is {}; ARM cannot move a resource",
                    self.obj.spec.location
                ),
            ));
        }
        self.observe(&actual, &scope);
        if let Some(step) = self.immutable_mismatch(&id, &actual, &scope.id) {
            return Ok(step);
        }
        let state = self.status.provisioning_state.clone();
        if in_flight(state.as_deref()) {
            return Ok((
                Phase::progressing(
                    "Provisioning",
                    format!(
                        "private endpoint {id} has provisioningState {}",
                        state.unwrap_or_default()
                    ),
                ),
                Requeue::After(arm::OPERATION_POLL),
            ));
        }
        let mut diff = self.endpoint_diff(&actual);
        if failed(state.as_deref()) {
            if self.report_only() {
                return Ok(self.stalled(
                    "ProvisioningFailed",
                    format!(
                        "private endpoint {id} has provisioningState {}",
                        state.unwrap_or_default()
                    ),
                ));
            }
            // A failed endpoint is repaired by re-sending the same PUT, at most once per
            // reconcile (reference/arm-behaviours.md 3).
            diff.push(
                "properties.provisioningState",
                "Succeeded",
                &state.unwrap_or_default(),
            );
        }
        if !diff.is_empty() {
            if self.report_only() {
                self.drift.entries.extend(diff.entries);
            } else {
                return self.update(&id, &actual, &scope, diff).await;
            }
        }

        if let Some(step) = self.approve(&id, &scope).await? {
            return Ok(step);
        }
        let dns_wait = self.converge_dns(&id, &actual, &scope, &vnet_id).await?;
        Ok(self.settled(&id, &scope, dns_wait))
    }
    /// The connection a new endpoint is created with. It is never changed afterwards: Azure
    /// refuses any change of it (reference/arm-behaviours.md 1).
    fn desired_connection(
        &self,
        id: &ResourceId,
        scope: &ResourceId,
    ) -> PrivateLinkServiceConnection {
        let spec = &self.obj.spec;
        let request_message = match spec.approval {
            Approval::Automatic => None,
            Approval::Manual => Some(spec.request_message.clone().unwrap_or_else(|| {
                let message = format!(
                    "Requested by arclink for {}",
                    owner(self.obj, self.settings)
                );
                message.chars().take(MAX_REQUEST_MESSAGE).collect()
            })),
        };
        PrivateLinkServiceConnection {
            name: Some(id.name().to_string()),
            properties: Some(PrivateLinkServiceConnectionProperties {
                private_link_service_id: Some(scope.clone()),
                group_ids: Some(vec![GROUP_ID.to_string()]),
                request_message,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn create(
        &mut self,
        id: &ResourceId,
        scope: &ResolvedScope,
        vnet_id: &ResourceId,
    ) -> Result<Step, ArmError> {
        let existed = self.was_ready || self.status.provisioning_state.is_some();
        self.status.provisioning_state = None;
        self.status.connection = None;
        self.status.private_ips.clear();
        if self.report_only() {
            self.drift.push("(resource)", "exists", "missing");
            return Ok(self.stalled(
                "NotFound",
                format!(
                    "private endpoint {id} does not exist in Azure and drift policy Report forbids creating it"
                ),
            ));
        }
        if let Some((other, pe)) = self.azure_conflict(id, vnet_id, &scope.id).await? {
            return Ok(self.stalled(
                "ScopeConflict",
                format!(
                    "virtual network {vnet_id} is already connected to Arc Private Link Scope {other} (private endpoint {pe}); a virtual network can serve only one scope"
                ),
            ));
        }
        if existed {
            self.corrected
                .push("private endpoint deleted out of band: recreated".into());
        }
        let spec = &self.obj.spec;
        let conn = self.desired_connection(id, &scope.id);
        let (auto, manual) = match spec.approval {
            Approval::Automatic => (vec![conn], Vec::new()),
            Approval::Manual => (Vec::new(), vec![conn]),
        };
        let body = PrivateEndpoint {
            location: Some(spec.location.clone()),
            tags: Some(owner(self.obj, self.settings).tags(&spec.tags)),
            properties: Some(PrivateEndpointProperties {
                subnet: spec.subnet_id.parse().ok().map(SubResource::new),
                private_link_service_connections: Some(auto),
                manual_private_link_service_connections: Some(manual),
                ..Default::default()
            }),
            ..Default::default()
        };
        let written = self
            .put::<_, PrivateEndpoint>(id, ChangeAction::Create, Vec::new(), &body)
            .await?;
        self.after_endpoint_write(id, scope, written, "Creating")
    }

    /// What an update cannot change: the subnet and the connection (its target, approval mode
    /// and group). An endpoint whose connection is not the spec's is `Stalled`, naming the
    /// connection, instead of being sent a PUT that Azure refuses.
    fn immutable_mismatch(
        &self,
        id: &ResourceId,
        actual: &PrivateEndpoint,
        scope: &ResourceId,
    ) -> Option<Step> {
        let props = actual.properties.as_ref();
        let subnet = props
            .and_then(|p| p.subnet.as_ref())
            .and_then(|s| s.id.as_ref());
        let wanted_subnet = self.obj.spec.subnet_id.parse::<ResourceId>().ok();
        if let Some(subnet) = subnet
            && wanted_subnet.as_ref() != Some(subnet)
        {
            return Some(self.stalled(
                "SubnetMismatch",
                format!(
                    "private endpoint {id} is in subnet {subnet} but spec.subnetId is {}; a private endpoint cannot move: delete it in Azure or point spec.azure at another name",
                    self.obj.spec.subnet_id
                ),
            ));
        }
        let (wanted_list, _) = self.desired_lists();
        let mut conns = props.into_iter().flat_map(|p| {
            let auto = p.private_link_service_connections.iter().flatten();
            let manual = p.manual_private_link_service_connections.iter().flatten();
            auto.map(|c| (AUTO, c)).chain(manual.map(|c| (MANUAL, c)))
        });
        let first = conns.next();
        let matches = |(list, c): (&str, &PrivateLinkServiceConnection)| {
            list == wanted_list
                && c.properties.as_ref().is_some_and(|p| {
                    p.private_link_service_id.as_ref() == Some(scope)
                        && p.group_ids
                            .as_ref()
                            .is_some_and(|g| g.len() == 1 && g[0].eq_ignore_ascii_case(GROUP_ID))
                })
        };
        if first.is_some_and(matches) && conns.next().is_none() {
            return None;
        }
        let existing = match first {
            Some((list, c)) => {
                let p = c.properties.as_ref();
                format!(
                    "connection {} ({list}) to {} with group ids [{}]",
                    c.name().unwrap_or_default(),
                    p.and_then(|p| p.private_link_service_id.as_ref())
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    p.and_then(|p| p.group_ids.as_ref())
                        .map(|g| g.join(","))
                        .unwrap_or_default()
                )
            }
            None => "no private link connection".to_string(),
        };
        Some(self.stalled(
            "ConnectionMismatch",
            format!(
                "private endpoint {id} has {existing}, but the spec asks for a {} connection ({wanted_list}) to scope {scope} with group id {GROUP_ID}; Azure cannot change a private endpoint's connection: delete the endpoint in Azure (or the object, if arclink created it) so that arclink creates it anew",
                match self.obj.spec.approval {
                    Approval::Automatic => "automatic",
                    Approval::Manual => "manual",
                }
            ),
        ))
    }

    fn desired_lists(&self) -> (&'static str, &'static str) {
        match self.obj.spec.approval {
            Approval::Automatic => (AUTO, MANUAL),
            Approval::Manual => (MANUAL, AUTO),
        }
    }

    /// What a PUT of the endpoint as read can correct: its tags.
    fn endpoint_diff(&self, actual: &PrivateEndpoint) -> Diff {
        let mut diff = Diff::default();
        let desired_tags = owner(self.obj, self.settings).tags(&self.obj.spec.tags);
        diff.tags(
            &desired_tags,
            actual.tags.as_ref(),
            self.obj.spec.policy.tags,
        );
        diff
    }

    /// Re-sends the endpoint exactly as read (its connection and NIC name included, which
    /// Azure refuses to see changed) with the tags corrected.
    async fn update(
        &mut self,
        id: &ResourceId,
        actual: &PrivateEndpoint,
        scope: &ResolvedScope,
        diff: Diff,
    ) -> Result<Step, ArmError> {
        let mut body = actual.for_write();
        let desired = owner(self.obj, self.settings).tags(&self.obj.spec.tags);
        body.tags = Some(tags_to_write(
            &desired,
            actual.tags.as_ref(),
            self.obj.spec.policy.tags,
        ));
        let props = body.properties.get_or_insert_with(Default::default);
        // Azure computes these for Arc's FQDNs; sending them back would pin stale values.
        props.custom_dns_configs = None;
        self.corrected.push(diff.paths());
        let written = self
            .put::<_, PrivateEndpoint>(id, ChangeAction::Update, diff.entries, &body)
            .await?;
        self.after_endpoint_write(id, scope, written, "Updating")
    }

    fn after_endpoint_write(
        &mut self,
        id: &ResourceId,
        scope: &ResolvedScope,
        written: Option<Write<PrivateEndpoint>>,
        verb: &str,
    ) -> Result<Step, ArmError> {
        match written {
            None => Ok((
                Phase::progressing(verb, format!("would write private endpoint {id}")),
                Requeue::After(self.interval),
            )),
            Some(Write::Pending(token)) => {
                self.status.operation = Some(arm::pending(verb, &token)?);
                Ok((
                    Phase::progressing(verb, format!("{verb} private endpoint {id}")),
                    Requeue::After(token.first_poll()),
                ))
            }
            Some(Write::Done(pe)) => {
                self.observe(&pe, scope);
                Ok((
                    Phase::progressing(verb, format!("{verb} private endpoint {id}")),
                    Requeue::After(arm::OPERATION_POLL),
                ))
            }
        }
    }

    /// Status fields from the endpoint as ARM reports it.
    fn observe(&mut self, pe: &PrivateEndpoint, scope: &ResolvedScope) {
        let props = pe.properties.as_ref();
        if let Some(id) = &pe.id {
            self.status.resource_id = Some(id.to_string());
        }
        self.status.provisioning_state = props.and_then(|p| p.provisioning_state.clone());
        let conn = props.and_then(|p| {
            connections(p).find(|c| {
                c.properties
                    .as_ref()
                    .and_then(|cp| cp.private_link_service_id.as_ref())
                    == Some(&scope.id)
            })
        });
        let state = conn
            .and_then(|c| c.properties.as_ref())
            .and_then(|p| p.private_link_service_connection_state.as_ref());
        let scope_side = pe
            .id
            .as_ref()
            .and_then(|pe_id| scope_connection(&scope.arm, pe_id));
        self.status.connection = state.map(|s| EndpointConnection {
            name: scope_side
                .and_then(|c| c.name.clone())
                .or_else(|| conn.and_then(|c| c.name.clone()))
                .unwrap_or_default(),
            status: s.status.clone().unwrap_or_else(|| "Pending".into()),
            description: s.description.clone().filter(|d| !d.is_empty()),
        });
        let mut ips: Vec<String> = props
            .and_then(|p| p.custom_dns_configs.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|c| c.ip_addresses.clone().unwrap_or_default())
            .collect();
        ips.sort();
        ips.dedup();
        self.status.private_ips = ips;
    }

    fn dns_mode(&self) -> PrivateDnsMode {
        self.obj
            .spec
            .private_dns
            .as_ref()
            .map(|d| d.mode)
            .unwrap_or_default()
    }
}

/// Both connection lists of an endpoint.
fn connections(
    props: &PrivateEndpointProperties,
) -> impl Iterator<Item = &PrivateLinkServiceConnection> {
    props
        .private_link_service_connections
        .iter()
        .flatten()
        .chain(
            props
                .manual_private_link_service_connections
                .iter()
                .flatten(),
        )
}
