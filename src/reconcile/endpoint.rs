//! `ArcPrivateEndpoint` -> `Microsoft.Network/privateEndpoints` to an Arc Private Link Scope
//! (group id `hybridcompute`) or another private-link resource ([`target`]), its approval, and
//! its private DNS.
//!
//! Order of a reconcile: resolve the target into one value ([`target::ResolvedTarget`]; while
//! a referenced object is not Ready, only the rules between declared endpoints are checked, on
//! the id it will have), validate (managed DNS knows the group's zones, subnet, region, one Arc scope per virtual
//! network, one Azure Monitor scope per DNS) before any write, converge the endpoint, approve its connection when allowed,
//! converge DNS ([`dns`]) and the outbound rules ([`outbound`]), report. Each of these Azure
//! resources goes through the engine's one path ([`super::resource`]); the operation of every
//! write is kept in status (the endpoint's in `status.operation`, the others' in
//! `status.operations`), so that after a restart it is resumed, not written again, and its
//! failure reaches the conditions.

mod approval;
mod cleanup;
pub mod dns;
pub mod export;
pub mod ip_configurations;
mod network;
pub mod outbound;
mod private_endpoint;
pub mod reference;
pub mod target;

use kube::ResourceExt;

use crate::api::endpoint::{EndpointConnection, PrivateDnsMode};
use crate::api::{ArcPrivateEndpoint, ArcPrivateEndpointStatus};
use crate::azure::models::{
    PrivateEndpoint, PrivateEndpointProperties, PrivateLinkServiceConnection,
};
use crate::azure::{ArmError, ResourceId};

use super::declared::{self, Declared, Dependent};
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::resource::{Converged, first_stop, waiting};
use super::{Settings, arm};
use target::{ResolvedTarget, TargetSource};

pub use dns::sharing::DnsSharer;
pub use export::dns_export;
pub use outbound::sharing::RuleSharer;

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
    /// What the endpoint connects to.
    pub target: TargetSource,
    /// The endpoints declared before this one (in any namespace) that resolve through the
    /// same DNS, with the target each connects to, for the one-scope-per-virtual-network and
    /// one-Azure-Monitor-scope-per-DNS checks.
    pub peers: Vec<PeerEndpoint>,
    /// The other endpoints (in any namespace, not being deleted) that ask for outbound rules:
    /// a rule one of them needs as it is is handed over, never deleted.
    pub rule_sharers: Vec<RuleSharer>,
    /// The other endpoints (in any namespace, not being deleted) with managed DNS: a zone or
    /// link one of them needs is handed over, never deleted.
    pub dns_sharers: Vec<DnsSharer>,
}

/// Another ArcPrivateEndpoint object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerEndpoint {
    /// `<namespace>/<name>`.
    pub name: String,
    /// Its `spec.subnetId`.
    pub subnet_id: String,
    /// ARM id of the scope (or other target) it connects to.
    pub scope_id: String,
    /// Its group id (`hybridcompute` for a scope).
    pub group_id: String,
    /// The private DNS zones its DNS uses (ids in lower case, [`target::dns_zone_ids`]).
    pub zone_ids: Vec<String>,
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
    type State = ();
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

    async fn delete(cx: &mut Cx<'_, Self>, deps: &EndpointDeps) -> Result<Cleaned, ArmError> {
        cx.delete_endpoint(deps).await
    }

    async fn orphan(cx: &mut Cx<'_, Self>, deps: &EndpointDeps) -> Result<Cleaned, ArmError> {
        cx.orphan_endpoint(deps).await
    }
}

impl Dependent for ArcPrivateEndpoint {
    /// The target, and the endpoints declared before this one that resolve through the same
    /// DNS, with the target each connects to (an established endpoint is never stalled by a
    /// newcomer; endpoints whose target is unknown are left out).
    fn deps(&self, declared: &impl Declared, settings: &Settings) -> EndpointDeps {
        let namespace = self.namespace().unwrap_or_default();
        let mine = declared::order(&self.metadata);
        let me = target::peer(declared, settings, self);
        // Earliest first: a conflict names the endpoint that came first, whatever order the
        // cache lists them in.
        let mut earlier: Vec<_> = declared
            .endpoints()
            .into_iter()
            .filter(|e| declared::order(&e.metadata) < mine)
            .collect();
        earlier.sort_by_key(|e| declared::order(&e.metadata));
        let peers = earlier
            .iter()
            .filter_map(|e| target::peer(declared, settings, e))
            .filter(|p| me.as_ref().is_some_and(|me| me.same_dns(p)))
            .collect();
        let name = self.name_any();
        let others: Vec<_> = declared
            .endpoints()
            .into_iter()
            .filter(|e| e.namespace().unwrap_or_default() != namespace || e.name_any() != name)
            .collect();
        EndpointDeps {
            target: target::source(declared, self),
            peers,
            rule_sharers: others
                .iter()
                .filter_map(|e| RuleSharer::of(e, &settings.cluster_name))
                .collect(),
            dns_sharers: others
                .iter()
                .filter_map(|e| DnsSharer::of(e, settings))
                .collect(),
        }
    }
}

impl Cx<'_, ArcPrivateEndpoint> {
    async fn converge_endpoint(&mut self, deps: &EndpointDeps) -> Result<Next, ArmError> {
        let id = match endpoint_id(self.obj, self.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(self.stalled("InvalidSpec", msg)),
        };
        self.status.resource_id = Some(id.to_string());

        let target =
            match target::resolve(self.arm, self.settings, &deps.target, self.interval).await? {
                Ok(t) => t,
                Err(next) => {
                    let planned = target::planned(self.settings, &deps.target);
                    let conflict = planned.and_then(|t| self.peer_conflict(&t, &deps.peers));
                    return Ok(conflict.unwrap_or(next));
                }
            };
        self.status.target = Some(target.status(self.obj));
        if let Some(refused) = self.dns_catalogue_check(&target) {
            return Ok(refused);
        }
        let (vnet_id, subnet_nsg) = match self.validate_network(&target, &deps.peers).await? {
            Ok(found) => found,
            Err(next) => return Ok(next),
        };

        let actual: Option<PrivateEndpoint> = self.arm.get(&id).await?;
        self.observed();
        self.observe(actual.as_ref(), &target);
        let verb = if actual.is_some() {
            "Updating"
        } else {
            "Creating"
        };
        let endpoint = private_endpoint::Endpoint::new(self, id.clone(), &target, &vnet_id);
        let pe = match self.converge_resource(&endpoint, actual).await? {
            Converged::Ready(pe) => pe,
            Converged::Written(pe) => {
                self.observe(Some(&pe), &target);
                return Ok(waiting(verb, format!("{verb} private endpoint {id}")));
            }
            Converged::Absent => return Ok(self.not_found(&endpoint)),
            Converged::Waiting(next) | Converged::Stopped(next) => return Ok(next),
        };

        if let Some(next) = self.approve(&id, &target).await? {
            return Ok(next);
        }
        let dns_wait = self.converge_dns(&id, &pe, &target, &vnet_id).await?;
        let rules_wait = self
            .converge_outbound(subnet_nsg.as_ref(), &deps.rule_sharers)
            .await?;
        Ok(self.settled(&id, &target, first_stop(dns_wait, rules_wait)))
    }

    /// Status fields from the endpoint as ARM reports it (`None`: it does not exist).
    fn observe(&mut self, pe: Option<&PrivateEndpoint>, target: &ResolvedTarget) {
        let Some(pe) = pe else {
            self.status.provisioning_state = None;
            self.status.connection = None;
            self.status.private_ips.clear();
            return;
        };
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
                    == Some(&target.id)
            })
        });
        let state = conn
            .and_then(|c| c.properties.as_ref())
            .and_then(|p| p.private_link_service_connection_state.as_ref());
        let target_side = pe.id.as_ref().and_then(|pe_id| target.connection_of(pe_id));
        self.status.connection = state.map(|s| EndpointConnection {
            name: target_side
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
