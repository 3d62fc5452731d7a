//! `ArcMonitorPrivateLinkScope` -> `Microsoft.Insights/privateLinkScopes` (Azure Monitor
//! Private Link Scope), in location `global`.
//!
//! Managed fields of the scope: `properties.accessModeSettings` (both default modes, and the
//! declared exclusions; undeclared ones are carried back) and tags, each declared once
//! ([`MonitorScope::fields`]) for the engine's one path ([`super::resource`]). Tags-only
//! differences are PATCHed; anything else is a PUT of the scope as read. Its linked resources
//! are a set diffed on their own ([`scoped`]).

mod access;
pub mod scoped;

use std::collections::BTreeMap;

use kube::ResourceExt;

use crate::api::monitor_scope::GLOBAL;
use crate::api::{
    ArcMonitorPrivateLinkScope, ArcMonitorPrivateLinkScopeSpec, ArcMonitorPrivateLinkScopeStatus,
    DriftEntry,
};
use crate::azure::models::{MonitorPrivateLinkScope, MonitorPrivateLinkScopeProperties};
use crate::azure::names::is_monitor_resource_id;
use crate::azure::{ArmError, ResourceId};

use super::declared::{Declared, Dependent};
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::own::Own;
use super::resource::{ArmResource, Converged, Field, Provisioned};
use super::{Settings, arm};

pub const KIND: &str = "ArcMonitorPrivateLinkScope";
const PROVIDER: &str = "Microsoft.Insights";
const TYPE: &str = "privateLinkScopes";

/// The ARM id the object's scope has (or will have).
pub fn scope_id(
    obj: &ArcMonitorPrivateLinkScope,
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

impl Provisioned for MonitorPrivateLinkScopeProperties {
    fn provisioning_state(&self) -> Option<&str> {
        self.provisioning_state.as_deref()
    }
}

impl Managed for ArcMonitorPrivateLinkScope {
    type Status = ArcMonitorPrivateLinkScopeStatus;
    type Deps = ();
    type State = ();
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the Azure Monitor private link scope in Azure";

    fn common(&self) -> Common<'_> {
        Common::of(&self.spec.common)
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    async fn converge(cx: &mut Cx<'_, Self>, _: &()) -> Result<Next, ArmError> {
        if let Some(msg) = invalid_spec(&cx.obj.spec) {
            return Ok(cx.stalled("InvalidSpec", msg));
        }
        let id = match scope_id(cx.obj, cx.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(cx.stalled("InvalidSpec", msg)),
        };
        cx.status.resource_id = Some(id.to_string());
        let actual: Option<MonitorPrivateLinkScope> = cx.arm.get(&id).await?;
        cx.observed();
        observe(&mut cx.status, actual.as_ref());
        let scope = MonitorScope::new(cx, id);
        let exists = actual.is_some();
        match cx.converge_resource(&scope, actual).await? {
            Converged::Ready(_) => {}
            Converged::Written(written) => observe(&mut cx.status, Some(&written)),
            Converged::Absent => return Ok(cx.not_found(&scope)),
            // A plan of a new scope lists its links too.
            Converged::Waiting(next) if !exists && cx.settings.dry_run => {
                scoped::converge(cx, &scope.id, false).await?;
                return Ok(next);
            }
            Converged::Waiting(next) | Converged::Stopped(next) => return Ok(next),
        }
        if let Some(next) = settled(cx, &scope.id) {
            return Ok(next);
        }
        Ok(match scoped::converge(cx, &scope.id, true).await? {
            Some(next) => next,
            None => cx.ready(format!(
                "Azure Monitor private link scope {} matches the spec ({} linked resources)",
                scope.id,
                cx.status.scoped_resources.len()
            )),
        })
    }

    /// Azure removes the scope's links with it.
    async fn delete(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        own(cx).delete(cx).await
    }

    /// The scope and its links stay.
    async fn orphan(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        own(cx).orphan(cx).await
    }
}

impl Dependent for ArcMonitorPrivateLinkScope {
    fn deps(&self, _: &impl Declared, _: &Settings) {}
}

/// What the CRD refuses, for objects the API server stored before it did, naming the field.
fn invalid_spec(spec: &ArcMonitorPrivateLinkScopeSpec) -> Option<String> {
    if let Some(loc) = spec
        .location
        .as_deref()
        .filter(|l| !l.eq_ignore_ascii_case(GLOBAL))
    {
        return Some(format!(
            "spec.location is {loc:?}: an Azure Monitor private link scope is always in location global"
        ));
    }
    spec.scoped_resources
        .iter()
        .enumerate()
        .find(|(_, r)| !is_monitor_resource_id(&r.resource_id))
        .map(|(i, r)| {
            format!(
                "spec.scopedResources[{i}].resourceId {:?}: {}",
                r.resource_id,
                crate::azure::names::MONITOR_RESOURCE_MESSAGE
            )
        })
}

/// The scope as it describes itself to the engine.
struct MonitorScope {
    id: ResourceId,
    tags: BTreeMap<String, String>,
    fields: Vec<Field<MonitorPrivateLinkScopeProperties>>,
}

impl MonitorScope {
    fn new(cx: &Cx<'_, ArcMonitorPrivateLinkScope>, id: ResourceId) -> MonitorScope {
        let spec = &cx.obj.spec;
        MonitorScope {
            id,
            tags: cx.desired_tags(&spec.common.tags),
            fields: access::fields(spec),
        }
    }
}

impl ArmResource for MonitorScope {
    type Props = MonitorPrivateLinkScopeProperties;
    const OWN: bool = true;

    const WHAT: &'static str = "Azure Monitor private link scope";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.tags)
    }

    /// The scope as read with read-only fields stripped (undeclared exclusions carried back),
    /// or a new one in `global`, with the declared fields set.
    fn desired(&self, actual: Option<&MonitorPrivateLinkScope>) -> MonitorPrivateLinkScope {
        let mut body = actual
            .map(MonitorPrivateLinkScope::for_write)
            .unwrap_or_else(|| MonitorPrivateLinkScope {
                location: Some(GLOBAL.into()),
                ..Default::default()
            });
        for f in &self.fields {
            f.apply(&mut body);
        }
        body
    }

    fn differences(&self, actual: &MonitorPrivateLinkScope) -> Vec<DriftEntry> {
        self.fields
            .iter()
            .filter_map(|f| f.difference(actual))
            .collect()
    }
}

/// `Some` while the scope is not provisioned: a failed or provisioning scope takes no links.
fn settled(cx: &Cx<'_, ArcMonitorPrivateLinkScope>, id: &ResourceId) -> Option<Next> {
    match cx.status.provisioning_state.as_deref() {
        None | Some("Succeeded") => None,
        Some(s) if s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Canceled") => {
            Some(cx.stalled(
                "ProvisioningFailed",
                format!("Azure Monitor private link scope {id} has provisioningState {s}"),
            ))
        }
        Some(s) => Some(Next::progressing(
            "Provisioning",
            format!("Azure Monitor private link scope {id} has provisioningState {s}"),
            arm::OPERATION_POLL,
        )),
    }
}

/// The status fields from the scope as ARM reports it (`None`: it does not exist).
fn observe(status: &mut ArcMonitorPrivateLinkScopeStatus, scope: Option<&MonitorPrivateLinkScope>) {
    let props = scope.and_then(|s| s.properties.as_ref());
    if let Some(id) = scope.and_then(|s| s.id.as_ref()) {
        status.resource_id = Some(id.to_string());
    }
    status.provisioning_state = props.and_then(|p| p.provisioning_state.clone());
    status.private_endpoint_connections = props
        .and_then(|p| p.private_endpoint_connections.as_ref())
        .into_iter()
        .flatten()
        .map(super::scope::connection_status)
        .collect();
    if scope.is_none() {
        status.scoped_resources.clear();
    }
}

/// The scope as its clean-up sees it.
fn own(cx: &Cx<'_, ArcMonitorPrivateLinkScope>) -> Own<'static> {
    Own {
        id: scope_id(cx.obj, cx.settings),
        what: "Azure Monitor private link scope",
    }
}
