//! The one path every Azure resource a kind manages goes through: the scope, the private
//! endpoint, each private DNS zone, virtual network link, the zone group, each security rule,
//! the connection approval, and whatever comes next.
//!
//! A resource describes itself ([`ArmResource`]): its id, the body to write (to create it and to
//! update it alike), the declared fields it compares, what cannot change, who owns it.
//! [`Cx::converge_resource`] then applies the policies once to it as read: absent -> created, or reported
//! (and, for the object's own resource, stalled) under `policy.drift: Report`; present ->
//! ownership and adoption, immutable fields, a write or provisioning in flight waited for,
//! differences (a `Failed` provisioning state is one: the same PUT repairs it,
//! reference/arm-behaviours.md 3) reported or corrected; the write (a PATCH of the tags when
//! only tags differ, else a PUT) with its long-running operation followed.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ChangeAction;
use super::arm::OPERATION_POLL;
use super::drift::{self, entry, field_ci, same_location};
use super::engine::{Cx, Managed};
use super::fights;
use super::ownership::{Owner, Ownership};
use super::phase::{Next, Phase};
use crate::api::DriftEntry;
use crate::azure::lro::OperationState;
use crate::azure::models::{
    PrivateDnsZoneGroupProperties, PrivateDnsZoneProperties, PrivateEndpointConnectionProperties,
    PrivateEndpointProperties, PrivateLinkScopeProperties, Resource, SecurityRuleProperties,
    VirtualNetworkLinkProperties, WriteModel,
};
use crate::azure::{ArmClient, ArmError, Precondition, ResourceId, Write, precondition_failed};

/// Properties that report a provisioning state.
pub trait Provisioned {
    fn provisioning_state(&self) -> Option<&str>;
}

macro_rules! provisioned {
    ($($t:ty),* $(,)?) => {$(
        impl Provisioned for $t {
            fn provisioning_state(&self) -> Option<&str> {
                self.provisioning_state.as_deref()
            }
        }
    )*};
}

provisioned!(
    PrivateLinkScopeProperties,
    PrivateEndpointProperties,
    PrivateEndpointConnectionProperties,
    PrivateDnsZoneProperties,
    VirtualNetworkLinkProperties,
    PrivateDnsZoneGroupProperties,
    SecurityRuleProperties,
);

/// An Azure resource a kind manages, as it describes itself to [`Cx::converge_resource`].
pub trait ArmResource: Sync {
    type Props: WriteModel
        + Provisioned
        + Clone
        + Default
        + Serialize
        + DeserializeOwned
        + Send
        + Sync;
    /// The object's own resource (the scope, the endpoint) rather than one it manages besides:
    /// the operation of its write (`status.operation`) holds the object back while it runs.
    const OWN: bool = false;
    /// Whether differences in tags alone are written with a PATCH of the tags (Network's
    /// private endpoints have none: they are PUT).
    const TAGS_PATCH: bool = true;
    /// Whether its writes are conditional (Private DNS honours `If-None-Match: *` and
    /// `If-Match: <etag>`): created only while still absent, updated only as read. A write
    /// refused so — someone else (Azure Policy, another tool) created or changed it since it
    /// was read — is decided anew on a fresh read: an existing resource goes through ownership
    /// and adoption, never taken over silently.
    const CONDITIONAL: bool = false;

    /// What it is, for messages: "scope", "private DNS zone".
    const WHAT: &'static str;
    fn id(&self) -> &ResourceId;
    /// The prefix of its drift paths (`privateDnsZones/<zone>.`); empty for the object's own.
    fn label(&self) -> String {
        String::new()
    }
    /// The tags it carries (the spec's and arclink's owner tags), for resources with tags.
    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        None
    }
    /// The body to write, tags aside: to create it (`actual` is `None`) or to update it as read
    /// (carrying back what arclink does not manage).
    fn desired(&self, actual: Option<&Resource<Self::Props>>) -> Resource<Self::Props>;
    /// Where its declared fields differ, tags aside.
    fn differences(&self, _actual: &Resource<Self::Props>) -> Vec<DriftEntry> {
        Vec::new()
    }
    /// What a write cannot change, as the stall's reason and message.
    fn immutable(&self, _actual: &Resource<Self::Props>) -> Option<(&'static str, String)> {
        None
    }
    /// Who owns it: by owner tags (a security rule, which has none, by its description).
    fn ownership(&self, owner: &Owner, actual: &Resource<Self::Props>) -> Ownership {
        owner.classify(actual.tags.as_ref())
    }
    /// Whether, owned so, it is used as it is: neither written nor adopted (a zone or rule
    /// another arclink object keeps, any link of the network to a zone).
    fn shared(&self, _ownership: &Ownership) -> bool {
        false
    }
    /// The difference its absence is.
    fn missing(&self) -> DriftEntry {
        entry("(resource)", "exists", "missing")
    }
    /// What else a person may do than adopting it, for the `AdoptionRequired` message.
    fn adoption_hint(&self) -> &'static str {
        ""
    }
    /// What forbids creating it once the drift policy allows it, as a stall's reason and
    /// message.
    fn before_create(
        &self,
        _arm: &ArmClient,
    ) -> impl Future<Output = Result<Option<(&'static str, String)>, ArmError>> + Send {
        async { Ok(None) }
    }
}

/// Where a resource stands after [`Cx::converge_resource`].
#[derive(Debug)]
pub enum Converged<P> {
    /// Exists, provisioned, and matches the spec (or its differences are only reported).
    Ready(Resource<P>),
    /// Written, and ARM answered with the resource as it now is.
    Written(Resource<P>),
    /// Does not exist, and `policy.drift: Report` forbids creating it (reported as drift; the
    /// object's own resource stalls it, see [`Cx::not_found`]).
    Absent,
    /// Being written or provisioned (or, in dry-run, would be written): look again.
    Waiting(Next),
    /// A person must act: the object stops here.
    Stopped(Next),
}

/// A declared field, compared without case (ARM normalises enum values) and written as
/// declared: the one description from which both its difference and the body to write come.
pub struct Field<P> {
    path: String,
    desired: String,
    read: Reader<P>,
    write: Writer<P>,
}

type Reader<P> = Box<dyn for<'r> Fn(&'r Resource<P>) -> Option<&'r str> + Send + Sync>;
type Writer<P> = Box<dyn Fn(&mut Resource<P>, &str) + Send + Sync>;

impl<P> Field<P> {
    /// The field at drift path `path`, wanted as `desired`, read and written as the two
    /// functions say.
    pub fn new(
        path: impl Into<String>,
        desired: impl Into<String>,
        read: impl for<'r> Fn(&'r Resource<P>) -> Option<&'r str> + Send + Sync + 'static,
        write: impl Fn(&mut Resource<P>, &str) + Send + Sync + 'static,
    ) -> Field<P> {
        Field {
            path: path.into(),
            desired: desired.into(),
            read: Box::new(read),
            write: Box::new(write),
        }
    }

    /// Its difference in `actual`, if any.
    pub fn difference(&self, actual: &Resource<P>) -> Option<DriftEntry> {
        field_ci(&self.path, &self.desired, (self.read)(actual))
    }

    /// Sets it as declared in the body to write.
    pub fn apply(&self, body: &mut Resource<P>) {
        (self.write)(body, &self.desired);
    }
}

/// A resource in another region than the spec says, as a stall's reason and message: ARM
/// cannot move a resource.
pub fn region_mismatch(
    what: &str,
    id: &ResourceId,
    actual: Option<&str>,
    wanted: &str,
) -> Option<(&'static str, String)> {
    let loc = actual?;
    (!same_location(loc, wanted)).then(|| {
        (
            "RegionMismatch",
            format!(
                "{what} {id} is in {loc} but spec.location is {wanted}; ARM cannot move a resource"
            ),
        )
    })
}

/// The provisioning state of a resource as read.
pub fn state_of<P: Provisioned>(r: &Resource<P>) -> Option<&str> {
    r.properties
        .as_ref()
        .and_then(Provisioned::provisioning_state)
}

/// Whether a provisioning state means an operation is still running.
pub fn in_flight(state: Option<&str>) -> bool {
    state.is_some_and(|s| OperationState::parse(s) == OperationState::Running)
}

/// Whether a provisioning state means the last write failed.
pub fn failed(state: Option<&str>) -> bool {
    state.is_some_and(|s| {
        matches!(
            OperationState::parse(s),
            OperationState::Failed | OperationState::Canceled
        )
    })
}

/// The wait while something the object manages provisions, when ARM gave no delay.
pub fn waiting(reason: &str, message: String) -> Next {
    Next::progressing(reason, message, OPERATION_POLL)
}

/// Of two steps, the one that needs a person, else the first, looking again when the sooner
/// of two waits says.
pub fn first_stop(a: Option<Next>, b: Option<Next>) -> Option<Next> {
    let stalled = |n: &Option<Next>| {
        matches!(
            n,
            Some(Next {
                phase: Phase::Stalled { .. },
                ..
            })
        )
    };
    match (a, b) {
        (a, _) if stalled(&a) => a,
        (_, b) if stalled(&b) => b,
        (Some(mut a), Some(b)) => {
            a.requeue = sooner(a.requeue, b.requeue);
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

fn sooner(a: super::Requeue, b: super::Requeue) -> super::Requeue {
    use super::Requeue::{After, Backoff};
    match (a, b) {
        (After(x), After(y)) => After(x.min(y)),
        (Backoff, _) | (_, Backoff) => Backoff,
    }
}

/// Resources of one sort still being written or provisioned: their names, and when to look
/// again (the soonest any of them asks).
#[derive(Default)]
pub struct Pending {
    names: Vec<String>,
    after: Option<Duration>,
}

impl Pending {
    /// `name` waits as `next` says.
    pub fn add(&mut self, name: impl Into<String>, next: &Next) {
        self.names.push(name.into());
        if let super::Requeue::After(d) = next.requeue {
            self.after = Some(self.after.map_or(d, |a| a.min(d)));
        }
    }

    /// The wait for them all (`None` when nothing waits), saying `message(names)`.
    pub fn wait(self, reason: &str, message: impl FnOnce(&str) -> String) -> Option<Next> {
        (!self.names.is_empty()).then(|| {
            Next::progressing(
                reason,
                message(&self.names.join(", ")),
                self.after.unwrap_or(OPERATION_POLL),
            )
        })
    }
}

impl<K: Managed> Cx<'_, K> {
    /// Converges the resource as read (`None`: it does not exist).
    pub async fn converge_resource<R: ArmResource>(
        &mut self,
        r: &R,
        actual: Option<Resource<R::Props>>,
    ) -> Result<Converged<R::Props>, ArmError> {
        let mark = self.mark();
        match self.converge_as_read(r, actual).await {
            Err(e) if R::CONDITIONAL && precondition_failed(&e) => {
                tracing::info!(resource = %r.id(), "created or changed by someone else since it was read; reading it again");
                self.rewind(mark);
                let actual = self.arm.get(r.id()).await?;
                self.converge_as_read(r, actual).await
            }
            other => other,
        }
    }

    /// [`Cx::converge_resource`] on one read.
    async fn converge_as_read<R: ArmResource>(
        &mut self,
        r: &R,
        actual: Option<Resource<R::Props>>,
    ) -> Result<Converged<R::Props>, ArmError> {
        if let Some(next) = self.running(r.id()) {
            return Ok(Converged::Waiting(next));
        }
        let Some(actual) = actual else {
            return self.create(r).await;
        };
        let (what, id) = (R::WHAT, r.id());
        let ownership = r.ownership(&self.owner(), &actual);
        let state = state_of(&actual).map(str::to_string);
        let state = state.as_deref();
        if r.shared(&ownership) {
            return Ok(if failed(state) {
                Converged::Stopped(self.stalled(
                    "ProvisioningFailed",
                    format!(
                        "{what} {id} has provisioningState {} and is not this object's to repair",
                        state.unwrap_or_default()
                    ),
                ))
            } else if in_flight(state) {
                Converged::Waiting(provisioning(r, state))
            } else {
                Converged::Ready(actual)
            });
        }
        if let Some(stop) = self.may_write(r, ownership) {
            return Ok(Converged::Stopped(stop));
        }
        if let Some((reason, message)) = r.immutable(&actual) {
            return Ok(Converged::Stopped(self.stalled(reason, message)));
        }
        if in_flight(state) {
            return Ok(Converged::Waiting(provisioning(r, state)));
        }
        let label = r.label();
        let mut differences = r.differences(&actual);
        if let Some(tags) = r.tags() {
            differences.extend(drift::tags(
                &label,
                tags,
                actual.tags.as_ref(),
                self.common().tags,
            ));
        }
        if failed(state) {
            let state = state.unwrap_or_default();
            if self.report_only() {
                self.may_correct(differences);
                return Ok(Converged::Stopped(self.stalled(
                    "ProvisioningFailed",
                    format!("{what} {id} has provisioningState {state}"),
                )));
            }
            differences.push(entry(
                &format!("{label}properties.provisioningState"),
                "Succeeded",
                state,
            ));
        }
        let Some(held) = self.may_correct(differences.clone()) else {
            return Ok(Converged::Ready(actual));
        };
        let differences: Vec<DriftEntry> = differences
            .into_iter()
            .filter(|d| !held.contains(d))
            .collect();
        let tags = r.tags().map(|t| {
            let mut tags = self.tags_to_write(t, actual.tags.as_ref());
            fights::keep_tags_as_read(&mut tags, &label, &held);
            tags
        });
        let tags_only = differences
            .iter()
            .all(|e| e.path.starts_with(&format!("{label}tags.")));
        let precondition = conditional::<R>(Some(&actual));
        let written = match tags {
            Some(tags) if R::TAGS_PATCH && tags_only => {
                let body = serde_json::json!({ "tags": tags });
                self.write(id, Method::Patch, differences, &body, precondition)
                    .await?
            }
            tags => {
                let mut body = r.desired(Some(&actual));
                if tags.is_some() {
                    body.tags = tags;
                }
                let mut body = serde_json::to_value(&body).map_err(|e| {
                    ArmError::Config(format!("PUT {id}: body does not serialise: {e}"))
                })?;
                if !fights::keep_as_read(&mut body, &label, &held) {
                    // A held field the body cannot leave out: writing the others would write
                    // it too.
                    self.not_corrected(&differences);
                    return Ok(Converged::Ready(actual));
                }
                self.write(id, Method::Put, differences, &body, precondition)
                    .await?
            }
        };
        self.after_write(r, written, ChangeAction::Update)
    }

    /// A PUT or PATCH of a resource recorded as a change (an update, or a create when
    /// `differences` is empty and `precondition` asks for an absent resource), made under
    /// `precondition` when there is one; under dry-run only recorded.
    async fn write<T: DeserializeOwned>(
        &mut self,
        id: &ResourceId,
        method: Method,
        differences: Vec<DriftEntry>,
        body: &serde_json::Value,
        precondition: Option<Precondition>,
    ) -> Result<Option<Write<T>>, ArmError> {
        let action = match (&method, &precondition) {
            (Method::Put, Some(Precondition::Absent)) => ChangeAction::Create,
            _ => ChangeAction::Update,
        };
        if !self.record(id, action, differences) {
            return Ok(None);
        }
        let arm = self.arm;
        let result = match (method, &precondition) {
            (Method::Put, None) => arm.put(id, body).await,
            (Method::Put, Some(p)) => arm.put_if(id, body, p).await,
            (Method::Patch, None) => arm.patch(id, body).await,
            (Method::Patch, Some(p)) => arm.patch_if(id, body, p).await,
        };
        self.written(result)
    }

    /// The ownership policy: a resource is written only when it is this object's, or no
    /// object's and `policy.adopt` is set.
    fn may_write<R: ArmResource>(&self, r: &R, ownership: Ownership) -> Option<Next> {
        let (what, id) = (R::WHAT, r.id());
        match ownership {
            Ownership::Elsewhere(other) => Some(self.stalled(
                "OwnedElsewhere",
                format!("{what} {id} is owned by {other}; arclink will not write it"),
            )),
            Ownership::Unowned if !self.common().adopt => Some(self.stalled(
                "AdoptionRequired",
                format!(
                    "{what} {id} already exists and no arclink object owns it; set spec.policy.adopt: true to take it over{}",
                    r.adoption_hint()
                ),
            )),
            _ => None,
        }
    }

    /// Where the object stands when its own resource is [`Converged::Absent`].
    pub fn not_found<R: ArmResource>(&self, r: &R) -> Next {
        self.stalled(
            "NotFound",
            format!(
                "{} {} does not exist in Azure and drift policy Report forbids creating it",
                R::WHAT,
                r.id()
            ),
        )
    }

    /// A resource that does not exist: created, unless `policy.drift: Report` forbids it.
    async fn create<R: ArmResource>(&mut self, r: &R) -> Result<Converged<R::Props>, ArmError> {
        let missing = r.missing();
        if self.report_only() {
            self.drift.reported.push(missing);
            return Ok(Converged::Absent);
        }
        if let Some((reason, message)) = r.before_create(self.arm).await? {
            return Ok(Converged::Stopped(self.stalled(reason, message)));
        }
        if self.was_ready {
            self.drift.corrected.push(missing);
        }
        let mut body = r.desired(None);
        if let Some(tags) = r.tags() {
            body.tags = Some(tags.clone());
        }
        let written = match conditional::<R>(None) {
            Some(precondition) => {
                let body = serde_json::to_value(&body).map_err(|e| {
                    ArmError::Config(format!("PUT {}: body does not serialise: {e}", r.id()))
                })?;
                self.write(r.id(), Method::Put, Vec::new(), &body, Some(precondition))
                    .await?
            }
            None => {
                self.put(r.id(), ChangeAction::Create, Vec::new(), &body)
                    .await?
            }
        };
        self.after_write(r, written, ChangeAction::Create)
    }

    /// Where a write leaves the resource: its operation followed, or its answer.
    fn after_write<R: ArmResource>(
        &mut self,
        r: &R,
        written: Option<Write<Resource<R::Props>>>,
        action: ChangeAction,
    ) -> Result<Converged<R::Props>, ArmError> {
        let (what, id) = (R::WHAT, r.id());
        let verb = match action {
            ChangeAction::Create => "Creating",
            _ => "Updating",
        };
        Ok(match written {
            None => Converged::Waiting(Next::progressing(
                verb,
                format!("would {} {what} {id}", action.as_str()),
                self.interval,
            )),
            Some(Write::Done(resource)) => Converged::Written(resource),
            Some(Write::Pending(token)) => {
                let message = format!("{verb} {what} {id}");
                Converged::Waiting(if R::OWN {
                    self.track(verb, &token, message)
                } else {
                    self.follow(verb, &token, message)?
                })
            }
        })
    }
}

/// A write's method.
enum Method {
    Put,
    Patch,
}

/// The condition of a write of `R` as read (`None`: absent), for resources that opt in.
fn conditional<R: ArmResource>(actual: Option<&Resource<R::Props>>) -> Option<Precondition> {
    if !R::CONDITIONAL {
        return None;
    }
    match actual {
        None => Some(Precondition::Absent),
        Some(a) => Precondition::read(a.etag.as_deref()),
    }
}

/// The wait for a resource ARM is still provisioning.
fn provisioning<R: ArmResource>(r: &R, state: Option<&str>) -> Next {
    waiting(
        "Provisioning",
        format!(
            "{} {} has provisioningState {}",
            R::WHAT,
            r.id(),
            state.unwrap_or_default()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Requeue;

    fn wait(secs: u64) -> Next {
        Next::progressing("Provisioning", "x", Duration::from_secs(secs))
    }

    #[test]
    fn the_step_that_needs_a_person_wins_and_waits_take_the_sooner_look() {
        let stall = Next::stalled("OwnedElsewhere", "y", Duration::from_secs(600));
        assert_eq!(
            first_stop(Some(wait(60)), Some(stall.clone())),
            Some(stall.clone())
        );
        assert_eq!(first_stop(Some(stall.clone()), Some(wait(5))), Some(stall));
        let both = first_stop(Some(wait(60)), Some(wait(10))).unwrap();
        assert_eq!(both.phase, wait(60).phase);
        assert_eq!(both.requeue, Requeue::After(Duration::from_secs(10)));
        assert_eq!(first_stop(None, Some(wait(3))), Some(wait(3)));
        assert_eq!(first_stop(None, None), None);
    }

    #[test]
    fn pending_resources_are_named_and_looked_at_when_the_soonest_asks() {
        assert_eq!(
            Pending::default().wait("ConfiguringDns", str::to_string),
            None
        );
        let mut pending = Pending::default();
        pending.add("a", &wait(60));
        pending.add("b", &wait(10));
        let next = pending
            .wait("ConfiguringDns", |n| format!("zones {n}"))
            .unwrap();
        assert_eq!(
            next.phase,
            Phase::progressing("ConfiguringDns", "zones a, b")
        );
        assert_eq!(next.requeue, Requeue::After(Duration::from_secs(10)));
    }
}
