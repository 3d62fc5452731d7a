//! `ArcPrivateLinkScope` -> `Microsoft.HybridCompute/privateLinkScopes`.
//!
//! Managed fields: location (immutable), `properties.publicNetworkAccess`, the declared
//! entries of `properties.serviceExtensions` ([`extensions`]), tags (the spec's plus arclink's
//! owner tags). Tags-only differences are PATCHed; anything else is a PUT of the resource as
//! read, with read-only fields stripped and unknown and server-defaulted fields (undeclared
//! `serviceExtensions`) carried back.

pub mod extensions;
pub mod onboarding;
mod quote;

use kube::ResourceExt;

use crate::api::scope::ConnectionStatus;
use crate::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeStatus, DriftEntry};
use crate::azure::lro::OperationState;
use crate::azure::models::{PrivateLinkScope, PrivateLinkScopeProperties, Subscription};
use crate::azure::names::is_guid;
use crate::azure::{ArmError, Deleted, ResourceId, Write};

use super::drift::{self, entry, same_location};
use super::engine::{Cleaned, Common, Cx, DELETING, Managed, Next};
use super::ownership::Ownership;
use super::{ChangeAction, Settings, arm};

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
    const KIND: &'static str = KIND;
    const LEFT_IN_AZURE: &'static str = "the scope in Azure";

    fn common(&self) -> Common<'_> {
        Common::of(&self.spec.common)
    }

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }

    async fn converge(cx: &mut Cx<'_, Self>, _: &()) -> Result<Next, ArmError> {
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
        let Some(actual) = actual else {
            observe(&mut cx.status, None);
            return create(cx, &id).await;
        };
        observe(&mut cx.status, Some(&actual));
        if let Err(stalled) = cx.may_write("scope", &id, actual.tags.as_ref()) {
            return Ok(stalled);
        }
        let spec = &cx.obj.spec;
        if let Some(loc) = actual.location.as_deref()
            && !same_location(loc, &spec.location)
        {
            return Ok(cx.stalled(
                "RegionMismatch",
                format!(
                    "scope {id} is in {loc} but spec.location is {}; ARM cannot move a resource",
                    spec.location
                ),
            ));
        }
        let desired_tags = cx.desired_tags(&spec.common.tags);
        let mut differences: Vec<DriftEntry> = drift::field_ci(
            "properties.publicNetworkAccess",
            spec.public_network_access.as_str(),
            actual
                .properties
                .as_ref()
                .and_then(|p| p.public_network_access.as_deref()),
        )
        .into_iter()
        .collect();
        let actual_extensions = actual
            .properties
            .as_ref()
            .and_then(|p| p.service_extensions.as_deref());
        differences.extend(extensions::drift(
            &spec.service_extensions,
            actual_extensions,
        ));
        differences.extend(drift::tags(
            "",
            &desired_tags,
            actual.tags.as_ref(),
            cx.common().tags,
        ));
        let state = cx.status.provisioning_state.clone().unwrap_or_default();
        let failed = matches!(
            OperationState::parse(&state),
            OperationState::Failed | OperationState::Canceled
        );
        if failed && !cx.report_only() {
            // A scope left Failed is repaired by sending the same PUT again
            // (reference/arm-behaviours.md 3).
            differences.push(entry("properties.provisioningState", "Succeeded", &state));
        }
        if !cx.may_correct(differences.clone()) {
            return Ok(settled(cx, &id));
        }
        let tags = cx.tags_to_write(&desired_tags, actual.tags.as_ref());
        let written = if drift::only_tags(&differences) {
            cx.patch_tags::<PrivateLinkScope>(&id, &tags, differences)
                .await?
        } else {
            let mut body = actual.for_write();
            body.tags = Some(tags);
            let props = body.properties.get_or_insert_with(Default::default);
            props.public_network_access = Some(spec.public_network_access.as_str().to_string());
            if !spec.service_extensions.is_empty() {
                props.service_extensions = Some(extensions::merged(
                    &spec.service_extensions,
                    props.service_extensions.as_deref(),
                ));
            }
            cx.put::<_, PrivateLinkScope>(&id, ChangeAction::Update, differences, &body)
                .await?
        };
        Ok(after_write(cx, &id, written, "Updating"))
    }

    async fn delete(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        let Some((id, _)) = owned_scope(cx).await? else {
            return Ok(left(cx));
        };
        match cx.delete(&id).await? {
            Deleted::Gone => Ok(Cleaned::Done(format!("deleted scope {id}"))),
            Deleted::Pending(token) => Ok(Cleaned::Waiting(cx.track(
                DELETING,
                &token,
                format!("deleting scope {id}"),
            ))),
        }
    }

    async fn orphan(cx: &mut Cx<'_, Self>, _: &()) -> Result<Cleaned, ArmError> {
        let Some((id, scope)) = owned_scope(cx).await? else {
            return Ok(left(cx));
        };
        cx.release(&id, scope.tags.as_ref()).await?;
        Ok(Cleaned::Done(format!(
            "scope {id} orphaned: left in Azure without arclink's owner tags"
        )))
    }
}

/// A scope that does not exist yet: created, unless `policy.drift: Report`.
async fn create(cx: &mut Cx<'_, ArcPrivateLinkScope>, id: &ResourceId) -> Result<Next, ArmError> {
    if let Some(stalled) = cx.may_create("scope", id) {
        return Ok(stalled);
    }
    let spec = &cx.obj.spec;
    let body = PrivateLinkScope {
        location: Some(spec.location.clone()),
        tags: Some(cx.desired_tags(&spec.common.tags)),
        properties: Some(PrivateLinkScopeProperties {
            public_network_access: Some(spec.public_network_access.as_str().to_string()),
            service_extensions: (!spec.service_extensions.is_empty())
                .then(|| extensions::merged(&spec.service_extensions, None)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let written = cx
        .put::<_, PrivateLinkScope>(id, ChangeAction::Create, Vec::new(), &body)
        .await?;
    Ok(after_write(cx, id, written, "Creating"))
}

/// The phase after a write: pending operations are kept, a synchronous answer is observed.
fn after_write(
    cx: &mut Cx<'_, ArcPrivateLinkScope>,
    id: &ResourceId,
    written: Option<Write<PrivateLinkScope>>,
    verb: &str,
) -> Next {
    match written {
        None => Next::progressing(
            verb,
            format!(
                "would {} scope {id}",
                if verb == "Creating" {
                    "create"
                } else {
                    "update"
                }
            ),
            cx.interval,
        ),
        Some(Write::Done(scope)) => {
            observe(&mut cx.status, Some(&scope));
            if let Some(stalled) = extensions_not_taken(cx, id, &scope) {
                return stalled;
            }
            settled(cx, id)
        }
        Some(Write::Pending(token)) => cx.track(verb, &token, format!("{verb} scope {id}")),
    }
}

/// A written scope whose answer does not carry the declared `serviceExtensions`: the
/// HybridCompute api-version in use does not know the property (an older version's PUT puts
/// the server default back, reference/arm-behaviours.md 14), so writing again would not help.
fn extensions_not_taken(
    cx: &mut Cx<'_, ArcPrivateLinkScope>,
    id: &ResourceId,
    scope: &PrivateLinkScope,
) -> Option<Next> {
    let missing = extensions::drift(
        &cx.obj.spec.service_extensions,
        scope
            .properties
            .as_ref()
            .and_then(|p| p.service_extensions.as_deref()),
    );
    if missing.is_empty() {
        return None;
    }
    // Not corrected after all: what differs is reported.
    let paths: Vec<&str> = missing.iter().map(|e| e.path.as_str()).collect();
    cx.drift
        .corrected
        .retain(|e| !paths.contains(&e.path.as_str()));
    cx.drift.reported.extend(missing.iter().cloned());
    Some({
        cx.stalled(
            "ServiceExtensionsNotApplied",
            format!(
                "ARM accepted the write of scope {id} but does not report spec.serviceExtensions as declared ({}): the Microsoft.HybridCompute api-version in use may not have properties.serviceExtensions (arclink's default {} has it)",
                drift::paths(&missing),
                crate::azure::client::HYBRID_COMPUTE_API_VERSION
            ),
        )
    })
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

/// `status.tenantId` for the onboarding commands: the tenant of the scope's subscription, read
/// once (a subscription's tenant is kept in status; the scope's subscription is immutable).
/// When it cannot be read the commands carry a placeholder, and the next reconcile tries again;
/// the scope itself is not held up by it.
async fn read_tenant(cx: &mut Cx<'_, ArcPrivateLinkScope>, id: &ResourceId) {
    if cx.status.tenant_id.as_deref().is_some_and(is_guid) {
        return;
    }
    let sub = ResourceId::subscription_id(id.subscription());
    cx.status.tenant_id = match cx.arm.get::<Subscription>(&sub).await {
        Ok(found) => found.and_then(|s| s.tenant_id).filter(|t| is_guid(t)),
        Err(e) => {
            tracing::info!(kind = KIND, subscription = %id.subscription(), error = %e, "reading the subscription's tenant for the onboarding commands failed");
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
        .map(|c| {
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
        })
        .collect();
}

/// The scope, when it exists and this object owns it.
async fn owned_scope(
    cx: &mut Cx<'_, ArcPrivateLinkScope>,
) -> Result<Option<(ResourceId, PrivateLinkScope)>, ArmError> {
    let Ok(id) = scope_id(cx.obj, cx.settings) else {
        return Ok(None);
    };
    let Some(scope) = cx.arm.get::<PrivateLinkScope>(&id).await? else {
        return Ok(None);
    };
    Ok((cx.owner().classify(scope.tags.as_ref()) == Ownership::Ours).then_some((id, scope)))
}

/// What a deletion that finds nothing of its own reports.
fn left(cx: &Cx<'_, ArcPrivateLinkScope>) -> Cleaned {
    Cleaned::Done(match scope_id(cx.obj, cx.settings) {
        Ok(id) => format!("scope {id} left in Azure: it is gone or not owned by this object"),
        Err(_) => "no subscription resolved: nothing was created".into(),
    })
}
