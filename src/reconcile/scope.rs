//! `ArcPrivateLinkScope` -> `Microsoft.HybridCompute/privateLinkScopes`.
//!
//! Managed fields: location (immutable), `properties.publicNetworkAccess`, the declared
//! entries of `properties.serviceExtensions` ([`extensions`]), tags (the spec's plus arclink's
//! owner tags), each declared once ([`Scope::fields`]) for the engine's one path
//! ([`super::resource`]). Tags-only differences are PATCHed; anything else is a PUT of the
//! resource as read, with read-only fields stripped and unknown and server-defaulted fields
//! (undeclared `serviceExtensions`) carried back.

pub mod extensions;
pub mod onboarding;
mod quote;

use kube::ResourceExt;

use std::collections::BTreeMap;

use crate::api::scope::ConnectionStatus;
use crate::api::{
    ArcPrivateLinkScope, ArcPrivateLinkScopeSpec, ArcPrivateLinkScopeStatus, DriftEntry,
};
use crate::azure::models::{
    PrivateEndpointConnection, PrivateLinkScope, PrivateLinkScopeProperties, Subscription,
};
use crate::azure::names::is_guid;
use crate::azure::{ArmError, ResourceId};

use super::declared::{Declared, Dependent};
use super::drift;
use super::engine::{Cleaned, Common, Cx, Managed, Next};
use super::own::Own;
use super::resource::{ArmResource, Converged, Field, region_mismatch};
use super::{Settings, arm};

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

impl Managed for ArcPrivateLinkScope {
    type Status = ArcPrivateLinkScopeStatus;
    type Deps = ();
    type State = ();
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the scope in Azure";

    fn common(&self) -> Common<'_> {
        Common::of(&self.spec.common)
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    async fn converge(cx: &mut Cx<'_, Self>, _: &()) -> Result<Next, ArmError> {
        if let Some((a, b)) = cx.obj.spec.repeated_extension() {
            return Ok(cx.stalled(
                "InvalidSpec",
                format!("spec.serviceExtensions lists {a:?} and {b:?}: Azure compares extension types without case, so both name one extension"),
            ));
        }
        let id = match scope_id(cx.obj, cx.settings) {
            Ok(id) => id,
            Err(msg) => return Ok(cx.stalled("InvalidSpec", msg)),
        };
        cx.status.resource_id = Some(id.to_string());
        if cx.obj.spec.onboarding.is_some() {
            read_tenant(cx, &id).await;
        }
        let actual: Option<PrivateLinkScope> = cx.arm.get(&id).await?;
        cx.observed();
        observe(&mut cx.status, actual.as_ref());
        let scope = Scope::new(cx, id);
        Ok(match cx.converge_resource(&scope, actual).await? {
            Converged::Ready(_) => settled(cx, &scope.id),
            Converged::Written(written) => {
                observe(&mut cx.status, Some(&written));
                not_taken(cx, &scope, &written).unwrap_or_else(|| settled(cx, &scope.id))
            }
            Converged::Absent => cx.not_found(&scope),
            Converged::Waiting(next) | Converged::Stopped(next) => next,
        })
    }

    async fn delete(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        own(cx).delete(cx).await
    }

    async fn orphan(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        own(cx).orphan(cx).await
    }
}

impl Dependent for ArcPrivateLinkScope {
    fn deps(&self, _: &impl Declared, _: &Settings) {}
}

/// The scope as it describes itself to the engine: its declared fields ([`Scope::fields`])
/// give both the differences and the body to write.
struct Scope {
    id: ResourceId,
    location: String,
    tags: BTreeMap<String, String>,
    fields: Vec<Field<PrivateLinkScopeProperties>>,
}

impl Scope {
    fn new(cx: &Cx<'_, ArcPrivateLinkScope>, id: ResourceId) -> Scope {
        let spec = &cx.obj.spec;
        Scope {
            id,
            location: spec.location.clone(),
            tags: cx.desired_tags(&spec.common.tags),
            fields: Scope::fields(spec),
        }
    }

    /// Every managed property of the scope besides location and tags: a new one is one entry
    /// here.
    fn fields(spec: &ArcPrivateLinkScopeSpec) -> Vec<Field<PrivateLinkScopeProperties>> {
        let mut fields = vec![Field::new(
            "properties.publicNetworkAccess",
            spec.public_network_access.as_str(),
            |s: &PrivateLinkScope| s.properties.as_ref()?.public_network_access.as_deref(),
            |s, v| properties(s).public_network_access = Some(v.to_string()),
        )];
        fields.extend(spec.service_extensions.iter().map(extensions::field));
        fields
    }
}

/// The scope's properties in a body to write.
pub(crate) fn properties(s: &mut PrivateLinkScope) -> &mut PrivateLinkScopeProperties {
    s.properties.get_or_insert_with(Default::default)
}

impl ArmResource for Scope {
    type Props = PrivateLinkScopeProperties;
    const OWN: bool = true;

    const WHAT: &'static str = "scope";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.tags)
    }

    /// The scope as read with read-only fields stripped (unknown and server-defaulted fields,
    /// such as undeclared `serviceExtensions`, carried back), or a new one, with the declared
    /// fields set.
    fn desired(&self, actual: Option<&PrivateLinkScope>) -> PrivateLinkScope {
        let mut body =
            actual
                .map(PrivateLinkScope::for_write)
                .unwrap_or_else(|| PrivateLinkScope {
                    location: Some(self.location.clone()),
                    ..Default::default()
                });
        for f in &self.fields {
            f.apply(&mut body);
        }
        body
    }

    fn differences(&self, actual: &PrivateLinkScope) -> Vec<DriftEntry> {
        self.fields
            .iter()
            .filter_map(|f| f.difference(actual))
            .collect()
    }

    fn immutable(&self, actual: &PrivateLinkScope) -> Option<(&'static str, String)> {
        region_mismatch(
            Self::WHAT,
            &self.id,
            actual.location.as_deref(),
            &self.location,
        )
    }
}

/// A written scope whose answer does not carry a declared field: for `serviceExtensions`, the
/// HybridCompute api-version in use does not know the property (an older version's PUT puts
/// the server default back, reference/arm-behaviours.md 14), so writing again would not help.
fn not_taken(
    cx: &mut Cx<'_, ArcPrivateLinkScope>,
    scope: &Scope,
    written: &PrivateLinkScope,
) -> Option<Next> {
    let missing = scope.differences(written);
    if missing.is_empty() {
        return None;
    }
    // Not corrected after all: what differs is reported.
    let paths: Vec<&str> = missing.iter().map(|e| e.path.as_str()).collect();
    cx.drift
        .corrected
        .retain(|e| !paths.contains(&e.path.as_str()));
    cx.drift.reported.extend(missing.iter().cloned());
    Some(cx.stalled(
        "ServiceExtensionsNotApplied",
        format!(
            "ARM accepted the write of scope {} but does not report spec.serviceExtensions as declared ({}): the Microsoft.HybridCompute api-version in use may not have properties.serviceExtensions (arclink's default {} has it)",
            scope.id,
            drift::paths(&missing),
            crate::azure::client::HYBRID_COMPUTE_API_VERSION
        ),
    ))
}

/// Ready when provisioned; progressing while ARM is still provisioning.
fn settled(cx: &Cx<'_, ArcPrivateLinkScope>, id: &ResourceId) -> Next {
    match cx.status.provisioning_state.as_deref() {
        None | Some("Succeeded") => cx.ready(format!("scope {id} matches the spec")),
        Some(s) if s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Canceled") => cx
            .stalled(
                "ProvisioningFailed",
                format!("scope {id} has provisioningState {s}"),
            ),
        Some(s) => Next::progressing(
            "Provisioning",
            format!("scope {id} has provisioningState {s}"),
            arm::OPERATION_POLL,
        ),
    }
}

/// `status.tenantId` for the onboarding commands: the tenant of the subscription the machines
/// onboard into (`spec.onboarding.subscriptionId`, else the scope's), whose tenant
/// `azcmagent connect --tenant-id` needs. Read once and kept in status, and read again when the
/// spec changed (the subscription may have). When it cannot be read the commands carry a
/// placeholder, and the next reconcile tries again; the scope itself is not held up by it.
async fn read_tenant(cx: &mut Cx<'_, ArcPrivateLinkScope>, id: &ResourceId) {
    let spec_changed = cx.status.common.observed_generation != cx.obj.metadata.generation;
    if !spec_changed && cx.status.tenant_id.as_deref().is_some_and(is_guid) {
        return;
    }
    let subscription = cx
        .obj
        .spec
        .onboarding
        .as_ref()
        .and_then(|o| o.subscription_id.as_deref())
        .unwrap_or(id.subscription());
    // Anything else is refused where the commands are made, naming the field.
    if !is_guid(subscription) {
        cx.status.tenant_id = None;
        return;
    }
    let sub = ResourceId::subscription_id(subscription);
    cx.status.tenant_id = match cx.arm.get::<Subscription>(&sub).await {
        Ok(found) => found.and_then(|s| s.tenant_id).filter(|t| is_guid(t)),
        Err(e) => {
            tracing::info!(kind = KIND, subscription, error = %e, "reading the tenant of the machines' subscription for the onboarding commands failed");
            None
        }
    };
}

/// The status fields from the scope as ARM reports it (`None`: it does not exist).
fn observe(status: &mut ArcPrivateLinkScopeStatus, scope: Option<&PrivateLinkScope>) {
    let props = scope.and_then(|s| s.properties.as_ref());
    if let Some(id) = scope.and_then(|s| s.id.as_ref()) {
        status.resource_id = Some(id.to_string());
    }
    status.private_link_scope_id = props.and_then(|p| p.private_link_scope_id.clone());
    status.provisioning_state = props.and_then(|p| p.provisioning_state.clone());
    status.private_endpoint_connections = props
        .and_then(|p| p.private_endpoint_connections.as_ref())
        .into_iter()
        .flatten()
        .map(connection_status)
        .collect();
}

/// A private endpoint connection of a scope (Arc's or Azure Monitor's) as the status lists it.
pub(crate) fn connection_status(c: &PrivateEndpointConnection) -> ConnectionStatus {
    let cp = c.properties.as_ref();
    let state = cp.and_then(|p| p.private_link_service_connection_state.as_ref());
    ConnectionStatus {
        name: c.name.clone().unwrap_or_default(),
        private_endpoint_id: cp
            .and_then(|p| p.private_endpoint.as_ref())
            .and_then(|e| e.id.as_ref())
            .map(|i| i.to_string()),
        status: state.and_then(|s| s.status.clone()),
        description: state.and_then(|s| s.description.clone()),
    }
}

/// The scope as its clean-up sees it.
fn own(cx: &Cx<'_, ArcPrivateLinkScope>) -> Own<'static> {
    Own {
        id: scope_id(cx.obj, cx.settings),
        what: "scope",
    }
}
