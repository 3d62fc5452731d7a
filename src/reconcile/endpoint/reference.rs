//! `monitorScopeRef` and `resourceManagementLinkRef`: a target declared as an arclink object in
//! the endpoint's namespace, resolved as `scopeRef` is ([`crate::reconcile::scope_ref`]): not
//! declared, the endpoint is `Stalled` naming the field; declared but not Ready (at its
//! generation), it waits (the controller also watches the kind, so a change usually comes
//! sooner); Ready, the endpoint connects to the ARM id in its status. A kind that endpoints may
//! name this way is one more [`Referable`] impl.

use kube::ResourceExt;

use crate::api::common::LocalRef;
use crate::api::conditions::{READY, is_true};
use crate::api::{
    ArcMonitorPrivateLinkScope, ArcPrivateEndpoint, ArcResourceManagementPrivateLink, ManagedStatus,
};
use crate::azure::ResourceId;
use crate::azure::catalogue::{AZURE_MONITOR, RESOURCE_MANAGEMENT};
use crate::reconcile::declared::{Declared, Declares};
use crate::reconcile::engine::Managed;
use crate::reconcile::phase::Next;
use crate::reconcile::scope_ref::WAIT_FOR_SCOPE;
use crate::reconcile::{Settings, management_link, monitor_scope};

/// A kind an endpoint may name by a reference field.
pub trait Referable: Managed + Clone {
    /// The endpoint's field that names it (`monitorScopeRef`).
    const FIELD: &'static str;
    /// The group id of an endpoint to it.
    const GROUP_ID: &'static str;
    /// The `Stalled` reason when it is not declared.
    const NOT_FOUND: &'static str;
    /// The `Reconciling` reason while it is not Ready.
    const WAITING: &'static str;

    /// The endpoint's reference to this kind.
    fn reference(endpoint: &ArcPrivateEndpoint) -> Option<&LocalRef>;

    /// The ARM id its Azure resource has, or will have once created.
    fn azure_id(&self, settings: &Settings) -> Result<ResourceId, String>;

    /// `status.resourceId`.
    fn resource_id(&self) -> Option<&str>;
}

impl Referable for ArcMonitorPrivateLinkScope {
    const FIELD: &'static str = "monitorScopeRef";
    const GROUP_ID: &'static str = AZURE_MONITOR;
    const NOT_FOUND: &'static str = "MonitorScopeNotFound";
    const WAITING: &'static str = "WaitingForMonitorScope";

    fn reference(endpoint: &ArcPrivateEndpoint) -> Option<&LocalRef> {
        endpoint.spec.monitor_scope_ref.as_ref()
    }

    fn azure_id(&self, settings: &Settings) -> Result<ResourceId, String> {
        monitor_scope::scope_id(self, settings)
    }

    fn resource_id(&self) -> Option<&str> {
        self.status.as_ref()?.resource_id.as_deref()
    }
}

impl Referable for ArcResourceManagementPrivateLink {
    const FIELD: &'static str = "resourceManagementLinkRef";
    const GROUP_ID: &'static str = RESOURCE_MANAGEMENT;
    const NOT_FOUND: &'static str = "ManagementLinkNotFound";
    const WAITING: &'static str = "WaitingForManagementLink";

    fn reference(endpoint: &ArcPrivateEndpoint) -> Option<&LocalRef> {
        endpoint.spec.resource_management_link_ref.as_ref()
    }

    fn azure_id(&self, settings: &Settings) -> Result<ResourceId, String> {
        management_link::link_id(self, settings)
    }

    fn resource_id(&self) -> Option<&str> {
        self.status.as_ref()?.resource_id.as_deref()
    }
}

/// A reference as the declared objects give it: the name, and the object if declared.
#[derive(Clone, Debug)]
pub struct Referenced<K> {
    pub name: String,
    pub object: Option<Box<K>>,
}

/// The endpoint's reference to a `K`, with the object if declared.
pub fn referenced<K, D>(declared: &D, endpoint: &ArcPrivateEndpoint) -> Option<Referenced<K>>
where
    K: Referable,
    D: Declared + Declares<K>,
{
    let name = K::reference(endpoint)?.name.clone();
    let namespace = endpoint.namespace().unwrap_or_default();
    let object = declared
        .named::<K>(&namespace, &name)
        .map(|o| Box::new(K::clone(&o)));
    Some(Referenced { name, object })
}

/// The ARM id of the declared `K` the endpoint names, when declared: what it has or will have,
/// so that the rules between endpoints hold before it is created.
pub fn declared_id<K, D>(
    declared: &D,
    settings: &Settings,
    endpoint: &ArcPrivateEndpoint,
) -> Option<String>
where
    K: Referable,
    D: Declared + Declares<K>,
{
    let object = referenced::<K, D>(declared, endpoint)?.object?;
    object.azure_id(settings).ok().map(|id| id.to_string())
}

impl<K: Referable> Referenced<K> {
    /// The ARM id to connect to; otherwise the phase to report and when to retry.
    pub fn resolve(
        &self,
        settings: &Settings,
        interval: std::time::Duration,
    ) -> Result<ResourceId, Next> {
        let Some(obj) = &self.object else {
            return Err(Next::stalled(
                K::NOT_FOUND,
                format!(
                    "{} {} (spec.{}) does not exist in this namespace",
                    K::KIND,
                    self.name,
                    K::FIELD
                ),
                interval,
            ));
        };
        let ready = obj.status().is_some_and(|s| {
            is_true(&s.common().conditions, READY)
                && s.common().observed_generation == obj.meta().generation
        });
        if !ready {
            return Err(Next::progressing(
                K::WAITING,
                format!(
                    "waiting for {} {} (spec.{}) to be Ready",
                    K::KIND,
                    obj.name_any(),
                    K::FIELD
                ),
                WAIT_FOR_SCOPE,
            ));
        }
        match obj.resource_id().and_then(|id| id.parse().ok()) {
            Some(id) => Ok(id),
            None => obj.azure_id(settings).map_err(|m| {
                Next::stalled(
                    K::NOT_FOUND,
                    format!("{} {} (spec.{}): {m}", K::KIND, obj.name_any(), K::FIELD),
                    interval,
                )
            }),
        }
    }
}
