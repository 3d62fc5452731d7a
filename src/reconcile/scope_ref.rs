//! The scope an endpoint or association points at (`spec.scopeRef` or `spec.scopeId`).

use kube::ResourceExt;

use crate::api::ArcPrivateLinkScope;
use crate::api::conditions::{READY, is_true};
use crate::azure::models::PrivateLinkScope;
use crate::azure::{ArmClient, ArmError, ResourceId, names};

use super::phase::Next;
use super::{Settings, scope};

/// How long to wait for a referenced scope that is not Ready yet (the controller also watches
/// scopes, so a change usually arrives sooner).
pub const WAIT_FOR_SCOPE: std::time::Duration = std::time::Duration::from_secs(30);

/// The scope reference as the controller layer found it.
#[derive(Clone, Debug)]
pub enum ScopeSource {
    /// `spec.scopeRef`: the named ArcPrivateLinkScope in the object's namespace, if it exists.
    Ref {
        name: String,
        object: Option<Box<ArcPrivateLinkScope>>,
    },
    /// `spec.scopeId`: an existing scope not managed here.
    Id(String),
}

/// A scope that exists in Azure.
#[derive(Clone, Debug)]
pub struct ResolvedScope {
    pub id: ResourceId,
    /// Region of the scope (ARM's spelling).
    pub location: String,
    /// Whether an ArcPrivateLinkScope object of this cluster manages it (then arclink may
    /// approve connections on it).
    pub managed: bool,
    /// The scope as ARM reports it.
    pub arm: PrivateLinkScope,
}

/// Resolves the scope, reading it from ARM; otherwise the phase to report and when to retry.
/// `Err` when ARM could not be read (the caller counts transient failures).
pub async fn resolve(
    arm: &ArmClient,
    settings: &Settings,
    source: &ScopeSource,
    interval: std::time::Duration,
) -> Result<Result<ResolvedScope, Next>, ArmError> {
    match target(settings, source, interval) {
        Ok((id, managed)) => read(arm, id, managed, interval).await,
        Err(next) => Ok(Err(next)),
    }
}

/// The scope's ARM id and whether an ArcPrivateLinkScope of this cluster manages it, decided
/// without ARM (a reconcile that read the scope recently may go on with what it read);
/// otherwise the phase to report and when to retry.
pub fn target(
    settings: &Settings,
    source: &ScopeSource,
    interval: std::time::Duration,
) -> Result<(ResourceId, bool), Next> {
    match source {
        ScopeSource::Ref { name, object: None } => Err(Next::stalled(
            "ScopeNotFound",
            format!("ArcPrivateLinkScope {name} (spec.scopeRef) does not exist in this namespace"),
            interval,
        )),
        ScopeSource::Ref {
            object: Some(obj), ..
        } => {
            let ready = obj.status.as_ref().is_some_and(|s| {
                is_true(&s.common.conditions, READY)
                    && s.common.observed_generation == obj.metadata.generation
            });
            if !ready {
                return Err(Next::progressing(
                    "WaitingForScope",
                    format!(
                        "waiting for ArcPrivateLinkScope {} to be Ready",
                        obj.name_any()
                    ),
                    WAIT_FOR_SCOPE,
                ));
            }
            match scope::scope_id(obj, settings) {
                Ok(id) => Ok((id, true)),
                Err(m) => Err(Next::stalled(
                    "ScopeNotFound",
                    format!("ArcPrivateLinkScope {}: {m}", obj.name_any()),
                    interval,
                )),
            }
        }
        // The CRD refuses any other id; an object stored before it did must not be used.
        ScopeSource::Id(raw) if !names::SCOPE_ID.accepts(raw) => Err(Next::stalled(
            "InvalidSpec",
            format!(
                "spec.scopeId {raw:?} is not {}",
                names::explain(&names::SCOPE_ID.pattern()).unwrap_or_default()
            ),
            interval,
        )),
        ScopeSource::Id(raw) => match raw.parse::<ResourceId>() {
            Ok(id) => Ok((id, false)),
            Err(e) => Err(Next::stalled(
                "InvalidSpec",
                format!("spec.scopeId: {e}"),
                interval,
            )),
        },
    }
}

/// Reads the scope `id` ([`target`]) from ARM.
pub async fn read(
    arm: &ArmClient,
    id: ResourceId,
    managed: bool,
    interval: std::time::Duration,
) -> Result<Result<ResolvedScope, Next>, ArmError> {
    Ok(match arm.get::<PrivateLinkScope>(&id).await? {
        Some(scope) => Ok(ResolvedScope {
            location: scope.location.clone().unwrap_or_default(),
            id,
            managed,
            arm: scope,
        }),
        None if managed => Err(Next::progressing(
            "WaitingForScope",
            format!("scope {id} does not exist in Azure yet"),
            WAIT_FOR_SCOPE,
        )),
        None => Err(Next::stalled(
            "ScopeNotFound",
            format!("scope {id} (spec.scopeId) does not exist in Azure"),
            interval,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Phase;

    /// A `spec.scopeId` stored before the CRD checked it: only an Arc Private Link Scope's id,
    /// without path steps, is used.
    #[test]
    fn only_an_arc_scope_id_is_a_target() {
        let settings = Settings::new("c");
        let interval = std::time::Duration::from_secs(600);
        let good = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/s";
        let target = |id: &str| target(&settings, &ScopeSource::Id(id.into()), interval);
        assert!(matches!(target(good), Ok((_, false))));
        for bad in [
            good.replace("/s", "/.."),
            good.replace("HybridCompute", "Insights"),
            format!("{good}/privateEndpointConnections/c"),
        ] {
            let Err(next) = target(&bad) else {
                panic!("{bad} was used")
            };
            assert!(
                matches!(next.phase, Phase::Stalled { ref reason, ref message }
                    if reason == "InvalidSpec" && message.contains("is not the id of an Arc Private Link Scope")),
                "{bad}: {:?}",
                next.phase
            );
        }
    }
}
