//! `spec.monitoring`: Azure Monitor Agent over private link. Every machine the association
//! selects (but those an older association claims: that one decides) gets the extension
//! resource
//! `{machine}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint`
//! pointing at the listed data collection endpoint in the machine's region (the agent reads an
//! endpoint association under no other name, and uses an endpoint of its own region only).
//!
//! Reads: when a listing begins, one GET per listed endpoint (for its region: a missing one
//! stalls the object, two in one region are refused) and one paged list of each endpoint's
//! associations (`…/dataCollectionEndpoints/{name}/associations`). A machine found there with
//! its region's endpoint needs nothing more, so a converged fleet costs no read per machine and
//! no write. A machine not found there is read (GET of its association) before it is written:
//! none → PUT; arclink's own (its description carries the owner marker, as network security
//! rules do: the resource has no tags) → PUT; another writer's → `Conflict`, or PUT with
//! `onConflict: Takeover`.
//!
//! arclink removes only what it wrote: when a listing is over, its associations on machines of
//! the resource group it no longer covers (left the selection, claimed by an older association,
//! no endpoint in their region any more, or `spec.monitoring` removed; `status.dataCollectionEndpointIds`
//! keeps the endpoints to look at until then); all of them on `deletion: Detach`.

use std::collections::HashMap;
use std::time::Duration;

use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::api::DriftEntry;
use crate::api::association::Monitoring;
use crate::azure::{ArmClient, ArmError, CollectionId, ResourceId};
use crate::reconcile::ChangeAction;
use crate::reconcile::association::writes::{Budget, Job, Writer};
use crate::reconcile::drift::{entry, normalize_location};
use crate::reconcile::phase::Next;

use super::MACHINES;
use super::select::{MachineRef, is_scope};
use super::tally::MonitorState;

/// The one name Azure Monitor Agent reads an endpoint association under.
pub const NAME: &str = "configurationAccessEndpoint";
pub const TYPE: &str = "Microsoft.Insights/dataCollectionRuleAssociations";
pub const FIELD: &str = "spec.monitoring.dataCollectionEndpointIds";
pub const ENDPOINT_FIELD: &str = "properties.dataCollectionEndpointId";

/// A data collection endpoint, as far as arclink reads it.
#[derive(Deserialize)]
struct Located {
    #[serde(default)]
    location: Option<String>,
}

/// An endpoint association as ARM returns one (GET, PUT, an endpoint's list).
#[derive(Deserialize, Clone, Debug, Default)]
pub struct EndpointAssociation {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub properties: AssociationProperties,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct AssociationProperties {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub data_collection_endpoint_id: Option<String>,
    #[serde(default)]
    pub data_collection_rule_id: Option<String>,
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

impl EndpointAssociation {
    fn points_at(&self, endpoint: &ResourceId) -> bool {
        let p = &self.properties;
        p.data_collection_endpoint_id
            .as_deref()
            .is_some_and(|e| is_scope(e, endpoint))
    }

    /// What it points at, in words.
    fn target(&self) -> String {
        let p = &self.properties;
        match (&p.data_collection_endpoint_id, &p.data_collection_rule_id) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => format!("data collection rule {r}"),
            (None, None) => "nothing".into(),
        }
    }
}

/// `{machine}/providers/Microsoft.Insights/dataCollectionRuleAssociations/configurationAccessEndpoint`.
pub fn association_id(machine: &ResourceId) -> Result<ResourceId, ArmError> {
    format!("{machine}/providers/{TYPE}/{NAME}")
        .parse()
        .map_err(|e| ArmError::InvalidResponse(format!("machine {machine}: {e}")))
}

/// A machine's association as the endpoints' lists show it.
#[derive(Clone, Debug)]
struct Found {
    /// The machine's name as the association's id spells it.
    name: String,
    endpoint: String,
    ours: bool,
}

/// What a listing knows of `spec.monitoring`, read when it begins.
#[derive(Debug, Default)]
pub struct Monitor {
    /// Whether the spec has `monitoring` (else only what arclink wrote is looked at, to remove).
    pub enabled: bool,
    /// Region (normalised) -> the spec's endpoint there.
    by_region: HashMap<String, ResourceId>,
    /// Machines of the resource group (lower-cased name) with an association with one of the
    /// endpoints read; a machine leaves once the listing decided on it, and what is left of
    /// arclink's when the listing is over is removed.
    found: HashMap<String, Found>,
    /// The owner marker arclink writes as the association's description.
    marker: String,
}

/// Reads the spec's endpoints and the associations of those and of the `recorded` ones. `Err`
/// of the inner result: where the object stands when the spec cannot be applied.
pub async fn read(
    arm: &ArmClient,
    spec: Option<&Monitoring>,
    recorded: &[String],
    group: &ResourceId,
    marker: String,
    interval: Duration,
) -> Result<Result<Monitor, Next>, ArmError> {
    let mut m = Monitor {
        enabled: spec.is_some(),
        marker,
        ..Monitor::default()
    };
    let listed = spec.map(|s| s.data_collection_endpoint_ids.as_slice());
    for raw in listed.unwrap_or_default() {
        let id: ResourceId = match raw.parse() {
            Ok(id) => id,
            Err(e) => {
                return Ok(Err(Next::stalled(
                    "InvalidSpec",
                    format!("{FIELD}: {e}"),
                    interval,
                )));
            }
        };
        let Some(endpoint) = arm.get::<Located>(&id).await? else {
            let message = format!("data collection endpoint {id} of {FIELD} does not exist");
            return Ok(Err(Next::stalled(
                "DataCollectionEndpointNotFound",
                message,
                interval,
            )));
        };
        let region = normalize_location(endpoint.location.as_deref().unwrap_or_default());
        if let Some(other) = m.by_region.insert(region.clone(), id.clone()) {
            let message = format!(
                "{FIELD} lists two data collection endpoints in region {region}, {other} and {id}: Azure Monitor Agent uses one, in its own region"
            );
            return Ok(Err(Next::stalled("InvalidSpec", message, interval)));
        }
    }
    for endpoint in endpoints(listed.unwrap_or_default(), recorded) {
        m.list(arm, &endpoint, group).await?;
    }
    Ok(Ok(m))
}

/// The endpoints `listed` and `recorded`, each once.
pub fn endpoints(listed: &[String], recorded: &[String]) -> Vec<ResourceId> {
    let mut all: Vec<ResourceId> = Vec::new();
    for id in listed.iter().chain(recorded) {
        if let Ok(id) = id.parse::<ResourceId>()
            && !all.contains(&id)
        {
            all.push(id);
        }
    }
    all
}

impl Monitor {
    /// Notes the associations of this group's machines with `endpoint`. An endpoint that is
    /// gone has none left to look at.
    async fn list(
        &mut self,
        arm: &ArmClient,
        endpoint: &ResourceId,
        group: &ResourceId,
    ) -> Result<(), ArmError> {
        let machines = format!("{group}/providers/{MACHINES}/").to_ascii_lowercase();
        let suffix = format!("/providers/{TYPE}/{NAME}").to_ascii_lowercase();
        let collection = CollectionId::new(endpoint, "associations");
        let mut pages = std::pin::pin!(arm.list_pages::<EndpointAssociation>(&collection));
        loop {
            let page = match pages.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) | Err(ArmError::NotFound { .. }) => return Ok(()),
                Err(e) => return Err(e),
            };
            for a in page {
                let id = a.id.clone().unwrap_or_default();
                let lower = id.to_ascii_lowercase();
                let Some(name) = lower
                    .strip_prefix(&machines)
                    .and_then(|rest| rest.strip_suffix(&suffix))
                    .filter(|n| !n.is_empty() && !n.contains('/'))
                else {
                    continue;
                };
                let start = machines.len();
                let found = Found {
                    name: id[start..start + name.len()].to_string(),
                    endpoint: a.target(),
                    ours: a.properties.description.as_deref() == Some(self.marker.as_str()),
                };
                self.found.insert(name.to_string(), found);
            }
        }
    }

    /// What to do for machine `m` (`id`), which the association selects; `None` when the spec
    /// has no `monitoring`.
    pub fn plan(&mut self, m: &MachineRef, id: &ResourceId, takeover: bool) -> Option<Work> {
        if !self.enabled {
            return None;
        }
        let region = normalize_location(m.location.as_deref().unwrap_or_default());
        let Some(want) = self.by_region.get(&region).cloned() else {
            // An association arclink wrote with an endpoint no longer listed stays in `found`,
            // to be removed when the listing is over.
            let message = format!("no data collection endpoint of {FIELD} is in region {region}");
            return Some(Work::Known(MonitorState::NoRegionalEndpoint, Some(message)));
        };
        let found = self.found.remove(&m.name.to_ascii_lowercase());
        let association = match association_id(id) {
            Ok(a) => a,
            Err(e) => return Some(Work::Known(MonitorState::Failed, Some(e.to_string()))),
        };
        Some(match found {
            Some(f) if is_scope(&f.endpoint, &want) => Work::Known(MonitorState::Associated, None),
            Some(f) if !f.ours && !takeover => {
                Work::Known(MonitorState::Conflict, Some(conflict(&f.endpoint)))
            }
            found => Work::Set(Set {
                association,
                endpoint: want,
                marker: self.marker.clone(),
                takeover,
                current: found.map(|f| f.endpoint),
                write: true,
            }),
        })
    }

    /// Takes arclink's associations left once a listing is over: machine name and the work
    /// removing it, in name order.
    pub fn take_stale(&mut self, group: &ResourceId) -> Vec<(String, Work)> {
        let mut stale: Vec<(String, Work)> = self
            .found
            .drain()
            .filter(|(_, f)| f.ours)
            .filter_map(|(_, f)| {
                let association = association_id(&group.child(MACHINES, &f.name)).ok()?;
                let work = Work::Remove {
                    association,
                    endpoint: f.endpoint,
                    write: true,
                };
                Some((f.name, work))
            })
            .collect();
        stale.sort_by(|a, b| a.0.cmp(&b.0));
        stale
    }
}

fn conflict(endpoint: &str) -> String {
    format!("associated with {endpoint} by another writer (not arclink's); spec.onConflict is Skip")
}

/// How far `deletion: Detach` got with arclink's endpoint associations.
pub struct Removal {
    /// Removed or released (in dry-run: would be), with the endpoint each pointed at.
    pub removed: Vec<(ResourceId, String)>,
    /// Left for the next pass.
    pub left: usize,
}

/// `deletion: Detach`: removes arclink's endpoint associations on the machines of `group`
/// with the `endpoints` (`release`, for `Orphan`: leaves them without arclink's marker), at
/// most the budget's writes in one pass.
pub async fn remove_all(
    arm: &ArmClient,
    dry_run: bool,
    release: bool,
    budget: Budget,
    group: &ResourceId,
    endpoints: &[ResourceId],
    marker: String,
) -> Result<Removal, ArmError> {
    let mut m = Monitor {
        marker,
        ..Monitor::default()
    };
    for endpoint in endpoints {
        m.list(arm, endpoint, group).await?;
    }
    let mut writer = Writer::new(arm, budget);
    let mut removal = Removal {
        removed: Vec::new(),
        left: 0,
    };
    let mut finished = Vec::new();
    for (name, work) in m.take_stale(group) {
        if !dry_run && !writer.has_budget() {
            removal.left += 1;
            continue;
        }
        let machine = MachineRef {
            name,
            ..MachineRef::default()
        };
        let work = match work {
            Work::Remove {
                association,
                endpoint,
                ..
            } if release => Work::Release {
                association,
                endpoint,
                write: true,
            },
            work => work,
        };
        let work = if dry_run { work.without_write() } else { work };
        let job = Job {
            scope: None,
            monitor: Some(work),
        };
        let id = group.child(MACHINES, &machine.name);
        finished.extend(writer.start(id, machine, job).await);
    }
    while let Some(done) = writer.next().await {
        finished.push(done);
    }
    let mut failure = None;
    for result in finished.into_iter().filter_map(|f| f.monitor) {
        match result {
            Ok(
                Done::Removed(id, endpoint)
                | Done::WouldRemove(id, endpoint)
                | Done::Released(id, endpoint),
            ) => {
                removal.removed.push((id, endpoint));
            }
            Ok(_) => {}
            Err(e) => {
                removal.left += 1;
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(removal),
    }
}

/// One machine's endpoint association work, run in the machine's write task.
#[derive(Debug)]
pub enum Work {
    /// Decided without a call.
    Known(MonitorState, Option<String>),
    Set(Set),
    /// Remove arclink's association, pointing at `endpoint` (`write: false`: say it would).
    Remove {
        association: ResourceId,
        endpoint: String,
        write: bool,
    },
    /// `deletion: Orphan`: leave the association, without arclink's owner marker.
    Release {
        association: ResourceId,
        endpoint: String,
        write: bool,
    },
}

/// Points a machine's association at `endpoint`.
#[derive(Debug)]
pub struct Set {
    pub association: ResourceId,
    pub endpoint: ResourceId,
    marker: String,
    takeover: bool,
    /// What it points at now, when the endpoints' lists showed it (else it is read first).
    current: Option<String>,
    /// `false` in dry-run and under drift policy `Report`: say what would be written.
    pub write: bool,
}

/// How a machine's endpoint association work ended.
#[derive(Debug)]
pub enum Done {
    Is(MonitorState, Option<String>),
    Wrote(Written),
    /// Not written (dry-run, drift policy `Report`).
    Would(Written),
    /// Removed (it pointed at the endpoint named).
    Removed(ResourceId, String),
    WouldRemove(ResourceId, String),
    /// Left without arclink's marker (in dry-run: would be).
    Released(ResourceId, String),
}

/// An association pointed at `to` (from `from`, if it pointed anywhere).
#[derive(Debug)]
pub struct Written {
    pub association: ResourceId,
    pub from: Option<String>,
    pub to: ResourceId,
}

impl Written {
    /// The change as `plan`/`apply` list it.
    pub fn change(&self) -> (ChangeAction, Vec<DriftEntry>) {
        let action = match self.from {
            Some(_) => ChangeAction::Update,
            None => ChangeAction::Create,
        };
        let from = self.from.as_deref().unwrap_or_default();
        (
            action,
            vec![entry(ENDPOINT_FIELD, &self.to.to_string(), from)],
        )
    }
}

impl Work {
    /// Turns the write off (dry-run, drift policy `Report`).
    pub fn without_write(mut self) -> Work {
        match &mut self {
            Work::Set(s) => s.write = false,
            Work::Remove { write, .. } | Work::Release { write, .. } => *write = false,
            Work::Known(..) => {}
        }
        self
    }

    /// Runs the work, following each write's operation to its end.
    pub async fn run(self, arm: &ArmClient) -> Result<Done, ArmError> {
        match self {
            Work::Known(state, message) => Ok(Done::Is(state, message)),
            Work::Remove {
                association,
                endpoint,
                write: false,
            } => Ok(Done::WouldRemove(association, endpoint)),
            Work::Remove {
                association,
                endpoint,
                ..
            } => {
                arm.delete_and_wait(&association).await?;
                Ok(Done::Removed(association, endpoint))
            }
            Work::Release {
                association,
                endpoint,
                write,
            } => {
                if write {
                    let body = json!({"properties": {"dataCollectionEndpointId": endpoint}});
                    arm.put_and_wait::<_, EndpointAssociation>(&association, &body)
                        .await?;
                }
                Ok(Done::Released(association, endpoint))
            }
            Work::Set(set) => set.run(arm).await,
        }
    }
}

impl Set {
    async fn run(self, arm: &ArmClient) -> Result<Done, ArmError> {
        let from = match self.current {
            Some(current) => Some(current),
            None => match arm.get::<EndpointAssociation>(&self.association).await? {
                None => None,
                Some(a) if a.points_at(&self.endpoint) => {
                    return Ok(Done::Is(MonitorState::Associated, None));
                }
                Some(a)
                    if self.takeover
                        || a.properties.description.as_deref() == Some(&self.marker) =>
                {
                    Some(a.target())
                }
                Some(a) => {
                    return Ok(Done::Is(
                        MonitorState::Conflict,
                        Some(conflict(&a.target())),
                    ));
                }
            },
        };
        let written = Written {
            association: self.association.clone(),
            from,
            to: self.endpoint.clone(),
        };
        if !self.write {
            return Ok(Done::Would(written));
        }
        let body = json!({"properties": {
            "dataCollectionEndpointId": self.endpoint.to_string(),
            "description": self.marker,
        }});
        let now: EndpointAssociation = arm.put_and_wait(&self.association, &body).await?;
        let state = now.properties.provisioning_state.as_deref();
        if state.is_some_and(|s| !s.eq_ignore_ascii_case("Succeeded"))
            || !now.points_at(&self.endpoint)
        {
            return Err(ArmError::Terminal {
                status: 200,
                code: "AssociationNotApplied".into(),
                message: format!(
                    "{} is {} and points at {} after the PUT pointing it at {}",
                    self.association,
                    state.unwrap_or("written"),
                    now.target(),
                    self.endpoint
                ),
                target: Some(ENDPOINT_FIELD.into()),
            });
        }
        Ok(Done::Wrote(written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_association_id_is_an_extension_resource_of_its_machine() {
        let machine: ResourceId =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m"
                .parse()
                .unwrap();
        let a = association_id(&machine).unwrap();
        assert_eq!(a.provider(), Some("Microsoft.Insights"));
        assert_eq!(a.resource_type(), TYPE);
        assert_eq!(a.name(), NAME);
        assert_eq!(a.parent(), Some(machine.clone()));
        assert_eq!(machine.resource_type(), MACHINES);
    }

    #[test]
    fn endpoints_are_listed_once_whatever_their_case() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionEndpoints/d";
        let all = endpoints(&[id.into()], &[id.to_uppercase(), "bad".into()]);
        assert_eq!(all.len(), 1);
    }
}
