//! What an endpoint connects to, resolved once per reconcile into one value
//! ([`ResolvedTarget`]: the Azure resource id, the private-link group id, and the spec field it
//! came from) that every later step uses: the connection the endpoint is created with, the
//! checks before any write, the DNS zones, the records and the readiness message.
//! `scopeRef`/`scopeId` resolve to an Arc Private Link Scope (group `hybridcompute`),
//! `monitorScopeRef` and `resourceManagementLinkRef` to the declared object's resource
//! ([`super::reference`]), `target` to an existing resource; another kind of reference is one
//! more [`TargetSource`] variant resolved here.
//!
//! The same is said without ARM for the declared endpoints ([`declared_target`],
//! [`dns_zone_ids`]), for the rules between endpoints: one Arc scope per virtual network, one
//! Azure Monitor scope per DNS ([`conflicts`]).

use kube::ResourceExt;

use crate::api::endpoint::{EndpointTarget, PrivateDnsMode, TargetStatus};
use crate::api::{
    ArcMonitorPrivateLinkScope, ArcPrivateEndpoint, ArcResourceManagementPrivateLink,
};
use crate::azure::catalogue::{self, HYBRID_COMPUTE};
use crate::azure::models::PrivateEndpointConnection;
use crate::azure::{ArmClient, ArmError, KnownCloud, ResourceId, names};
use crate::reconcile::Settings;
use crate::reconcile::declared::{self, Declared};
use crate::reconcile::phase::Next;
use crate::reconcile::scope_ref::{self, ResolvedScope, ScopeSource};

use super::approval::scope_connection;
use super::dns::zone_resource_group;
use super::reference::{self, Referable, Referenced};
use super::{NETWORK, PeerEndpoint, endpoint_id, vnet_of};

/// What the spec names, as the declared objects give it.
#[derive(Clone, Debug)]
pub enum TargetSource {
    /// `spec.scopeRef` or `spec.scopeId`: an Arc Private Link Scope.
    Scope(ScopeSource),
    /// `spec.monitorScopeRef`: an ArcMonitorPrivateLinkScope of the namespace.
    MonitorScope(Referenced<ArcMonitorPrivateLinkScope>),
    /// `spec.resourceManagementLinkRef`: an ArcResourceManagementPrivateLink of the namespace.
    ManagementLink(Referenced<ArcResourceManagementPrivateLink>),
    /// `spec.target`: an existing private-link resource.
    Resource(EndpointTarget),
}

impl From<ScopeSource> for TargetSource {
    fn from(scope: ScopeSource) -> TargetSource {
        TargetSource::Scope(scope)
    }
}

/// Where a resolved target came from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// An Arc Private Link Scope, as ARM reports it (its connections are read from it).
    ArcScope(Box<ResolvedScope>),
    /// A declared object that a reference field names (`field`, `name`): not read.
    Declared { field: &'static str, name: String },
    /// `spec.target`: not read; its service refuses an unknown group id itself.
    Resource,
}

/// The endpoint's target, resolved.
#[derive(Clone, Debug)]
pub struct ResolvedTarget {
    /// ARM id of the resource the connection points at (`privateLinkServiceId`).
    pub id: ResourceId,
    /// The connection's one group id.
    pub group_id: String,
    pub origin: Origin,
}

impl ResolvedTarget {
    /// Whether an object of this cluster manages the target (then arclink may approve
    /// connections on it).
    pub fn managed(&self) -> bool {
        match &self.origin {
            Origin::ArcScope(scope) => scope.managed,
            Origin::Declared { .. } | Origin::Resource => false,
        }
    }

    /// The spec field the target came from.
    pub fn field(&self) -> &'static str {
        match &self.origin {
            Origin::ArcScope(scope) if scope.managed => "scopeRef",
            Origin::ArcScope(_) => "scopeId",
            Origin::Declared { field, .. } => field,
            Origin::Resource => "target",
        }
    }

    /// The target in messages: `scope <id>`, `Azure Key Vault <id> (group vault)`.
    pub fn what(&self) -> String {
        match &self.origin {
            Origin::ArcScope(_) => format!("scope {}", self.id),
            Origin::Declared { .. } | Origin::Resource => {
                let service = catalogue::group(&self.group_id).map_or("resource", |g| g.service);
                format!("{service} {} (group {})", self.id, self.group_id)
            }
        }
    }

    /// The target's side of the connection from the private endpoint `pe`, when the target
    /// was read.
    pub fn connection_of(&self, pe: &ResourceId) -> Option<&PrivateEndpointConnection> {
        match &self.origin {
            Origin::ArcScope(scope) => scope_connection(&scope.arm, pe),
            Origin::Declared { .. } | Origin::Resource => None,
        }
    }

    /// `status.target`.
    pub fn status(&self, obj: &ArcPrivateEndpoint) -> TargetStatus {
        let name = match (&self.origin, &obj.spec.scope_ref) {
            (Origin::ArcScope(s), Some(r)) if s.managed => r.name.clone(),
            (Origin::ArcScope(_), _) => self.id.name().to_string(),
            (Origin::Declared { name, .. }, _) => name.clone(),
            (Origin::Resource, _) => format!("{}/{}", self.id.name(), self.group_id),
        };
        TargetStatus {
            name,
            resource_id: self.id.to_string(),
            group_id: self.group_id.clone(),
            source: self.field().to_string(),
        }
    }

    /// The field that names the group id, for messages.
    pub fn group_field(&self) -> String {
        match &self.origin {
            Origin::Resource => "spec.target.groupId".to_string(),
            _ => format!("spec.{} (group id {})", self.field(), self.group_id),
        }
    }
}

/// Resolves the target; otherwise the phase to report and when to retry. `Err` when ARM
/// could not be read.
pub async fn resolve(
    arm: &ArmClient,
    settings: &Settings,
    source: &TargetSource,
    interval: std::time::Duration,
) -> Result<Result<ResolvedTarget, Next>, ArmError> {
    match source {
        TargetSource::Scope(scope) => Ok(scope_ref::resolve(arm, settings, scope, interval)
            .await?
            .map(|scope| ResolvedTarget {
                id: scope.id.clone(),
                group_id: HYBRID_COMPUTE.to_string(),
                origin: Origin::ArcScope(Box::new(scope)),
            })),
        TargetSource::MonitorScope(r) => Ok(declared_ref(settings, r, interval)),
        TargetSource::ManagementLink(r) => Ok(declared_ref(settings, r, interval)),
        TargetSource::Resource(target) => Ok(resource(target, interval)),
    }
}

/// What a reference to a declared object will resolve to once the object is Ready (the ARM id
/// it will have), for the rules between endpoints while it is not: a conflict is reported
/// before the object is even created. `None` for the other sources.
pub fn planned(settings: &Settings, source: &TargetSource) -> Option<ResolvedTarget> {
    fn of<K: Referable>(settings: &Settings, r: &Referenced<K>) -> Option<ResolvedTarget> {
        Some(ResolvedTarget {
            id: r.object.as_ref()?.azure_id(settings).ok()?,
            group_id: K::GROUP_ID.to_string(),
            origin: Origin::Declared {
                field: K::FIELD,
                name: r.name.clone(),
            },
        })
    }
    match source {
        TargetSource::MonitorScope(r) => of(settings, r),
        TargetSource::ManagementLink(r) => of(settings, r),
        TargetSource::Scope(_) | TargetSource::Resource(_) => None,
    }
}

/// A reference to a declared object, resolved to the ARM id in its status once it is Ready.
fn declared_ref<K: Referable>(
    settings: &Settings,
    r: &Referenced<K>,
    interval: std::time::Duration,
) -> Result<ResolvedTarget, Next> {
    Ok(ResolvedTarget {
        id: r.resolve(settings, interval)?,
        group_id: K::GROUP_ID.to_string(),
        origin: Origin::Declared {
            field: K::FIELD,
            name: r.name.clone(),
        },
    })
}

/// `spec.target`, checked as the CRD checks it (an object stored before the CRD did must not
/// be used).
fn resource(
    target: &EndpointTarget,
    interval: std::time::Duration,
) -> Result<ResolvedTarget, Next> {
    let invalid = |message: String| Next::stalled("InvalidSpec", message, interval);
    let raw = &target.resource_id;
    let id = match raw.parse::<ResourceId>() {
        Ok(id) if names::is_any_resource_id(raw) => id,
        _ => {
            return Err(invalid(format!(
                "spec.target.resourceId {raw:?} is not the id of a resource in a resource group (/subscriptions/<GUID>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>)"
            )));
        }
    };
    let group = target.group_id.trim();
    if group.is_empty() || group.contains(',') || group.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "spec.target.groupId {:?} is not one group id (Azure: OnlyOneGroupIdPermitted)",
            target.group_id
        )));
    }
    Ok(ResolvedTarget {
        id,
        group_id: group.to_string(),
        origin: Origin::Resource,
    })
}

/// What `obj` names, from the declared objects.
pub fn source(declared: &impl Declared, obj: &ArcPrivateEndpoint) -> TargetSource {
    if let Some(r) = reference::referenced(declared, obj) {
        return TargetSource::MonitorScope(r);
    }
    if let Some(r) = reference::referenced(declared, obj) {
        return TargetSource::ManagementLink(r);
    }
    match &obj.spec.target {
        Some(t) => TargetSource::Resource(t.clone()),
        None => TargetSource::Scope(declared::source(
            declared,
            &obj.namespace().unwrap_or_default(),
            &obj.spec.scope_ref,
            &obj.spec.scope_id,
        )),
    }
}

/// The group id `obj` connects with, told from its spec.
pub fn declared_group_id(obj: &ArcPrivateEndpoint) -> String {
    if ArcMonitorPrivateLinkScope::reference(obj).is_some() {
        return ArcMonitorPrivateLinkScope::GROUP_ID.to_string();
    }
    if ArcResourceManagementPrivateLink::reference(obj).is_some() {
        return ArcResourceManagementPrivateLink::GROUP_ID.to_string();
    }
    match &obj.spec.target {
        Some(t) => t.group_id.clone(),
        None => HYBRID_COMPUTE.to_string(),
    }
}

/// The ARM id of what a declared endpoint connects to, when it can be told without ARM (a
/// referenced object not created yet: the id it will have).
pub fn declared_target(
    declared: &impl Declared,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
) -> Option<String> {
    if ArcMonitorPrivateLinkScope::reference(obj).is_some() {
        return reference::declared_id::<ArcMonitorPrivateLinkScope, _>(declared, settings, obj);
    }
    if ArcResourceManagementPrivateLink::reference(obj).is_some() {
        return reference::declared_id::<ArcResourceManagementPrivateLink, _>(
            declared, settings, obj,
        );
    }
    match &obj.spec.target {
        Some(t) => Some(t.resource_id.clone()),
        None => declared::scope_id(
            declared,
            settings,
            &obj.namespace().unwrap_or_default(),
            &obj.spec.scope_ref,
            &obj.spec.scope_id,
        ),
    }
}

/// The private DNS zones the endpoint's DNS uses, told from its spec: in mode `Managed`, the
/// catalogue's zones of its group id in the controller's cloud, in the zone resource group; in
/// mode `Existing`, the spec's zones; none otherwise.
pub fn dns_zone_ids(obj: &ArcPrivateEndpoint, settings: &Settings) -> Vec<ResourceId> {
    let mode = obj.spec.private_dns.as_ref().map(|d| d.mode);
    match mode.unwrap_or_default() {
        PrivateDnsMode::Disabled => Vec::new(),
        PrivateDnsMode::Existing => obj
            .spec
            .private_dns
            .iter()
            .flat_map(|d| &d.zone_ids)
            .filter_map(|z| z.parse().ok())
            .collect(),
        PrivateDnsMode::Managed => {
            let Ok(pe) = endpoint_id(obj, settings) else {
                return Vec::new();
            };
            let rg = zone_resource_group(obj);
            let cloud = KnownCloud::for_agent(&settings.agent_cloud);
            catalogue::zones(cloud, &declared_group_id(obj))
                .unwrap_or_default()
                .iter()
                .map(|z| {
                    ResourceId::resource(pe.subscription(), &rg, NETWORK, "privateDnsZones", z.name)
                })
                .collect()
        }
    }
}

/// A declared endpoint as the rules between endpoints see it; `None` when its target cannot
/// be told without ARM.
pub fn peer(
    declared: &impl Declared,
    settings: &Settings,
    obj: &ArcPrivateEndpoint,
) -> Option<PeerEndpoint> {
    Some(PeerEndpoint {
        name: format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()),
        subnet_id: obj.spec.subnet_id.clone(),
        scope_id: declared_target(declared, settings, obj)?,
        group_id: declared_group_id(obj),
        zone_ids: dns_zone_ids(obj, settings)
            .iter()
            .map(|z| z.to_string().to_ascii_lowercase())
            .collect(),
    })
}

impl PeerEndpoint {
    /// Whether `self` and `other` resolve through the same DNS for the one-target-per-DNS
    /// rules: the same virtual network, or (except Arc, whose documented rule is one scope per
    /// virtual network) a private DNS zone in common.
    pub fn same_dns(&self, other: &PeerEndpoint) -> bool {
        let vnet = vnet_of(&self.subnet_id);
        if vnet.is_some() && vnet == vnet_of(&other.subnet_id) {
            return true;
        }
        !self.group_id.eq_ignore_ascii_case(HYBRID_COMPUTE)
            && self.zone_ids.iter().any(|z| other.zone_ids.contains(z))
    }

    /// Whether `self` and `other` are two endpoints of a one-per-DNS group (Arc, Azure Monitor,
    /// Resource Manager) to different targets that resolve through the same DNS.
    pub fn conflicts(&self, other: &PeerEndpoint) -> bool {
        let one_per_dns =
            catalogue::group(&self.group_id).is_some_and(|g| g.one_endpoint_per_dns.is_some());
        let other_target = match (
            self.scope_id.parse::<ResourceId>(),
            other.scope_id.parse::<ResourceId>(),
        ) {
            (Ok(a), Ok(b)) => a != b,
            _ => false,
        };
        one_per_dns
            && self.group_id.eq_ignore_ascii_case(&other.group_id)
            && other_target
            && self.same_dns(other)
    }
}

/// The first of `peers` that forbids `me` ([`PeerEndpoint::conflicts`]).
pub fn conflicts<'p>(me: &PeerEndpoint, peers: &'p [PeerEndpoint]) -> Option<&'p PeerEndpoint> {
    peers.iter().find(|p| me.conflicts(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "/subscriptions/11111111-2222-3333-4444-555555555555";

    fn peer(vnet: &str, target: &str, group: &str, zones: &[&str]) -> PeerEndpoint {
        PeerEndpoint {
            name: format!("ns/{vnet}-{target}"),
            subnet_id: format!(
                "{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/pe"
            ),
            scope_id: format!(
                "{SUB}/resourceGroups/rg/providers/Microsoft.Insights/privateLinkScopes/{target}"
            ),
            group_id: group.into(),
            zone_ids: zones.iter().map(|z| z.to_string()).collect(),
        }
    }

    #[test]
    fn one_target_per_dns_for_the_groups_that_write_global_names() {
        let a = peer("hub", "a", "azuremonitor", &["zone-1"]);
        // Same network, another scope: a conflict; the same scope (any case) is not.
        assert!(peer("hub", "b", "azuremonitor", &[]).conflicts(&a));
        assert!(!peer("hub", "A", "AzureMonitor", &[]).conflicts(&a));
        // Another network through a zone in common: the same DNS; without one: another DNS.
        assert!(peer("spoke", "b", "azuremonitor", &["zone-1"]).conflicts(&a));
        assert!(!peer("spoke", "b", "azuremonitor", &["zone-2"]).conflicts(&a));
        // Groups whose endpoints write their own resource's names share a DNS freely.
        assert!(!peer("hub", "b", "vault", &["zone-1"]).conflicts(&peer(
            "hub",
            "a",
            "vault",
            &["zone-1"]
        )));
        // Another group in the same network is no conflict.
        assert!(!peer("hub", "b", "vault", &[]).conflicts(&a));
        // Arc's rule is per virtual network, as documented: a zone in common is not enough.
        let arc = peer("hub", "a", "hybridcompute", &["zone-1"]);
        assert!(peer("hub", "b", "hybridcompute", &[]).conflicts(&arc));
        assert!(!peer("spoke", "b", "hybridcompute", &["zone-1"]).conflicts(&arc));
    }

    #[test]
    fn a_target_resource_id_is_checked_as_the_crd_checks_it() {
        let interval = std::time::Duration::from_secs(60);
        let ok = |id: &str, group: &str| {
            resource(
                &EndpointTarget {
                    resource_id: id.into(),
                    group_id: group.into(),
                },
                interval,
            )
        };
        let vault = format!("{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv");
        let resolved = ok(&vault, "vault").unwrap();
        assert_eq!(
            (resolved.field(), resolved.group_id.as_str()),
            ("target", "vault")
        );
        assert!(!resolved.managed());
        for bad in [
            format!("{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/.."),
            format!("{SUB}/resourceGroups/rg"),
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv".into(),
        ] {
            assert!(ok(&bad, "vault").is_err(), "{bad}");
        }
        assert!(ok(&vault, "vault,blob").is_err());
        assert!(ok(&vault, " ").is_err());
    }
}
