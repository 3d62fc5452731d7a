//! `ArcPrivateEndpoint` -> `Microsoft.Network/privateEndpoints` (group id `hybridcompute`) to an
//! Arc Private Link Scope, its approval, and its private DNS.
//!
//! Order of a reconcile: resolve the scope, validate (subnet, region, one scope per virtual
//! network) before any write, converge the endpoint, approve its connection when allowed,
//! converge DNS ([`dns`]) and the outbound rules ([`outbound`]), report. Only the endpoint PUT keeps its operation token in status:
//! it is the one write whose repetition would race the running operation. Zones, links, zone
//! groups and connections have deterministic names, so after a restart they are re-read and a
//! resource still provisioning is waited for, not re-written.

mod approval;
mod cleanup;
pub mod dns;
pub mod export;
mod network;
pub mod outbound;

use kube::ResourceExt;

use crate::api::endpoint::{Approval, EndpointConnection, PrivateDnsMode};
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus, DriftEntry};
use crate::azure::lro::OperationState;
use crate::azure::models::{
    PrivateEndpoint, PrivateEndpointProperties, PrivateLinkServiceConnection,
    PrivateLinkServiceConnectionProperties, SubResource,
};
use crate::azure::{ArmError, ResourceId, Write};

use super::drift::{self, entry, same_location};
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::scope_ref::{self, ResolvedScope, ScopeSource};
use super::{ChangeAction, Phase, Settings, arm};

use approval::scope_connection;
pub use export::dns_export;

pub const KIND: &str = "ArcPrivateEndpoint";
const NETWORK: &str = "Microsoft.Network";
/// The private link group id of Arc-enabled servers.
pub const GROUP_ID: &str = "hybridcompute";
const AUTO: &str = "privateLinkServiceConnections";
const MANUAL: &str = "manualPrivateLinkServiceConnections";
/// Azure's limit on a connection's `requestMessage` (reference/arm-behaviours.md 7).
pub const MAX_REQUEST_MESSAGE: usize = 140;

/// What the reconcile of an endpoint needs to know about the other declared objects.
#[derive(Clone, Debug)]
pub struct EndpointDeps {
    /// The scope the endpoint points at.
    pub scope: ScopeSource,
    /// The endpoints declared before this one (in any namespace) with the scope each connects
    /// to, for the one-scope-per-virtual-network check.
    pub peers: Vec<PeerEndpoint>,
}

/// Another ArcPrivateEndpoint object.
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

/// The virtual network of `spec.subnetId`.
pub fn vnet_of(subnet_id: &str) -> Option<ResourceId> {
    subnet_id.parse::<ResourceId>().ok()?.parent()
}

impl Managed for ArcPrivateEndpoint {
    type Status = ArcPrivateEndpointStatus;
    type Deps = EndpointDeps;
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the endpoint in Azure";

    fn common(&self) -> Common<'_> {
        Common::of(&self.spec.common)
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    async fn converge(cx: &mut Cx<'_, Self>, deps: &EndpointDeps) -> Result<Next, ArmError> {
        cx.converge_endpoint(deps).await
    }

    async fn delete(cx: &mut Cx<'_, Self>, _: &EndpointDeps) -> Result<Cleaned, ArmError> {
        cx.delete_endpoint().await
    }

    async fn orphan(cx: &mut Cx<'_, Self>, _: &EndpointDeps) -> Result<Cleaned, ArmError> {
        cx.orphan_endpoint().await
    }
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

/// Of two sub-resources' steps, the one that needs a person, else the first.
fn first_stop(a: Option<Next>, b: Option<Next>) -> Option<Next> {
    match (a, b) {
        (Some(a), Some(b))
            if !matches!(a.phase, Phase::Stalled { .. })
                && matches!(b.phase, Phase::Stalled { .. }) =>
        {
            Some(b)
        }
        (a, b) => a.or(b),
    }
}

/// The endpoint's wait while a sub-resource provisions.
fn waiting(reason: &str, message: String) -> Next {
    Next::progressing(reason, message, arm::OPERATION_POLL)
}

impl Cx<'_, ArcPrivateEndpoint> {
    async fn converge_endpoint(&mut self, deps: &EndpointDeps) -> Result<Next, ArmError> {
        let id = match endpoint_id(self.obj, self.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(self.stalled("InvalidSpec", msg)),
        };
        self.status.resource_id = Some(id.to_string());

        let scope =
            match scope_ref::resolve(self.arm, self.settings, &deps.scope, self.interval).await? {
                Ok(s) => s,
                Err((phase, requeue)) => return Ok(Next { phase, requeue }),
            };
        let (vnet_id, subnet_nsg) = match self.validate_network(&scope, &deps.peers).await? {
            Ok(found) => found,
            Err(next) => return Ok(next),
        };

        let actual: Option<PrivateEndpoint> = self.arm.get(&id).await?;
        self.observed();
        let Some(actual) = actual else {
            return self.create(&id, &scope, &vnet_id).await;
        };
        if let Err(stalled) = self.may_write("private endpoint", &id, actual.tags.as_ref()) {
            return Ok(stalled);
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
            return Ok(waiting(
                "Provisioning",
                format!(
                    "private endpoint {id} has provisioningState {}",
                    state.unwrap_or_default()
                ),
            ));
        }
        let mut differences = self.endpoint_differences(&actual);
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
            differences.push(entry(
                "properties.provisioningState",
                "Succeeded",
                &state.unwrap_or_default(),
            ));
        }
        if self.may_correct(differences.clone()) {
            return self.update(&id, &actual, &scope, differences).await;
        }

        if let Some(next) = self.approve(&id, &scope).await? {
            return Ok(next);
        }
        let dns_wait = self.converge_dns(&id, &actual, &scope, &vnet_id).await?;
        let rules_wait = self.converge_outbound(subnet_nsg.as_ref()).await?;
        Ok(self.settled(&id, &scope, first_stop(dns_wait, rules_wait)))
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
                let message = format!("Requested by arclink for {}", self.owner());
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
    ) -> Result<Next, ArmError> {
        self.status.provisioning_state = None;
        self.status.connection = None;
        self.status.private_ips.clear();
        if let Some(stalled) = self.may_create("private endpoint", id) {
            return Ok(stalled);
        }
        if let Some((other, pe)) = self.azure_conflict(id, vnet_id, &scope.id).await? {
            return Ok(self.stalled(
                "ScopeConflict",
                format!(
                    "virtual network {vnet_id} is already connected to Arc Private Link Scope {other} (private endpoint {pe}); a virtual network can serve only one scope"
                ),
            ));
        }
        let spec = &self.obj.spec;
        let conn = self.desired_connection(id, &scope.id);
        let (auto, manual) = match spec.approval {
            Approval::Automatic => (vec![conn], Vec::new()),
            Approval::Manual => (Vec::new(), vec![conn]),
        };
        let body = PrivateEndpoint {
            location: Some(spec.location.clone()),
            tags: Some(self.desired_tags(&spec.common.tags)),
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
        Ok(self.after_endpoint_write(id, scope, written, "Creating"))
    }

    /// What an update cannot change: the subnet and the connection (its target, approval mode
    /// and group). An endpoint whose connection is not the spec's is `Stalled`, naming the
    /// connection, instead of being sent a PUT that Azure refuses.
    fn immutable_mismatch(
        &self,
        id: &ResourceId,
        actual: &PrivateEndpoint,
        scope: &ResourceId,
    ) -> Option<Next> {
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
    fn endpoint_differences(&self, actual: &PrivateEndpoint) -> Vec<DriftEntry> {
        let desired_tags = self.desired_tags(&self.obj.spec.common.tags);
        drift::tags("", &desired_tags, actual.tags.as_ref(), self.common().tags)
    }

    /// Re-sends the endpoint exactly as read (its connection and NIC name included, which
    /// Azure refuses to see changed) with the tags corrected.
    async fn update(
        &mut self,
        id: &ResourceId,
        actual: &PrivateEndpoint,
        scope: &ResolvedScope,
        differences: Vec<DriftEntry>,
    ) -> Result<Next, ArmError> {
        let mut body = actual.for_write();
        let desired = self.desired_tags(&self.obj.spec.common.tags);
        body.tags = Some(self.tags_to_write(&desired, actual.tags.as_ref()));
        let props = body.properties.get_or_insert_with(Default::default);
        // Azure computes these for Arc's FQDNs; sending them back would pin stale values.
        props.custom_dns_configs = None;
        let written = self
            .put::<_, PrivateEndpoint>(id, ChangeAction::Update, differences, &body)
            .await?;
        Ok(self.after_endpoint_write(id, scope, written, "Updating"))
    }

    fn after_endpoint_write(
        &mut self,
        id: &ResourceId,
        scope: &ResolvedScope,
        written: Option<Write<PrivateEndpoint>>,
        verb: &str,
    ) -> Next {
        match written {
            None => Next::progressing(
                verb,
                format!("would write private endpoint {id}"),
                self.interval,
            ),
            Some(Write::Pending(token)) => {
                self.track(verb, &token, format!("{verb} private endpoint {id}"))
            }
            Some(Write::Done(pe)) => {
                self.observe(&pe, scope);
                waiting(verb, format!("{verb} private endpoint {id}"))
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
