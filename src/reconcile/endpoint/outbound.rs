//! The endpoint's outbound rules for Microsoft Entra ID and Azure Resource Manager
//! ("Network configuration" in the Arc private link documentation): two rules in a network
//! security group, `AllowAADOutboundAccess` and `AllowAzOutboundAccess`, TCP 443 from
//! `VirtualNetwork` to the service tags `AzureActiveDirectory` and `AzureResourceManager`.
//!
//! Security rules have no tags: the ownership marker is the rule's `description`
//! (`managed by arclink: <owner>`, see [`crate::reconcile::ownership::Owner::description_marker`]).
//! Rules are written one by one through `securityRules/{name}` (a PUT of the group would
//! replace every rule in it). Before any write: a rule of the same name that arclink does not
//! own, a rule with the same priority and direction, or an outbound Deny rule evaluated before
//! the wanted priority that would block the traffic is reported, never overwritten.

pub mod rules;
pub mod sharing;

use rules::{
    ENTRA_ID_RULE, RESOURCE_MANAGER_RULE, WantedRule, blocker, rule_body, rule_differences,
    wanted_rules,
};

use crate::api::ArcPrivateEndpoint;
use crate::api::DriftEntry;
use crate::api::endpoint::{OutboundRuleStatus, OutboundRulesStatus};
use crate::azure::models::{
    NetworkSecurityGroup, SecurityRule, SecurityRuleProperties, VirtualNetwork, WriteModel,
};
use crate::azure::{ArmError, ResourceId, Write};
use crate::reconcile::ChangeAction;
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::ownership::{Owner, Ownership};
use crate::reconcile::resource::{ArmResource, Converged, state_of};
use crate::reconcile::{Notice, Phase};

use super::vnet_of;
use sharing::RuleSharer;

/// What becomes of this object's rules when it lets go of them.
#[derive(Clone, Copy)]
enum Release {
    Delete,
    Orphan,
}

fn rule_id(nsg: &ResourceId, name: &str) -> ResourceId {
    nsg.child("securityRules", name)
}

/// One of the endpoint's rules in the group, marked as this object's by its description.
struct Rule<'a> {
    id: ResourceId,
    wanted: &'a WantedRule,
    owner: &'a Owner,
    marker: &'a str,
}

impl ArmResource for Rule<'_> {
    type Props = SecurityRuleProperties;

    const WHAT: &'static str = "security rule";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn label(&self) -> String {
        format!("securityRules/{}.", self.wanted.name)
    }

    fn desired(&self, _: Option<&SecurityRule>) -> SecurityRule {
        rule_body(self.wanted, self.marker)
    }

    /// The fields of the documentation's rule, and the marker an adopted rule gets.
    fn differences(&self, actual: &SecurityRule) -> Vec<DriftEntry> {
        let props = actual.properties.clone().unwrap_or_default();
        let mut out = rule_differences(self.wanted, &props);
        if self.ownership(self.owner, actual) == Ownership::Unowned {
            out.push(entry(
                &format!("securityRules/{}.properties.description", self.wanted.name),
                self.marker,
                props.description.as_deref().unwrap_or_default(),
            ));
        }
        out
    }

    fn ownership(&self, owner: &Owner, actual: &SecurityRule) -> Ownership {
        owner.classify_description(
            actual
                .properties
                .as_ref()
                .and_then(|p| p.description.as_deref()),
        )
    }

    /// Another arclink object keeps the same rule (one that differs was stopped before): it
    /// serves this endpoint too.
    fn shared(&self, ownership: &Ownership) -> bool {
        matches!(ownership, Ownership::Elsewhere(_))
    }

    fn missing(&self) -> DriftEntry {
        entry(
            &format!("securityRules/{}", self.wanted.name),
            "exists",
            "missing",
        )
    }
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// Converges `spec.outboundRules`; `Some` while a rule provisions, a previous group is
    /// being cleaned, or a person must act. `subnet_nsg`: the group attached to the subnet.
    pub(super) async fn converge_outbound(
        &mut self,
        subnet_nsg: Option<&ResourceId>,
        sharers: &[RuleSharer],
    ) -> Result<Option<Next>, ArmError> {
        let previous = self
            .status
            .outbound_rules
            .as_ref()
            .and_then(|s| s.network_security_group_id.parse::<ResourceId>().ok());
        let Some(spec) = self.obj.spec.outbound_rules.clone() else {
            return self.leave_previous(previous.as_ref(), None, sharers).await;
        };
        let nsg_id = match spec.network_security_group_id.as_deref() {
            Some(id) => match id.parse::<ResourceId>() {
                Ok(id) => id,
                Err(e) => {
                    return Ok(Some(self.stalled(
                        "InvalidSpec",
                        format!("spec.outboundRules.networkSecurityGroupId {id:?}: {e}"),
                    )));
                }
            },
            None => match subnet_nsg {
                Some(id) => id.clone(),
                None => {
                    return Ok(Some(self.stalled(
                        "NoNetworkSecurityGroup",
                        format!(
                            "spec.outboundRules asks for outbound rules, but subnet {} has no network security group and spec.outboundRules.networkSecurityGroupId names none; attach a network security group to the subnet or name one",
                            self.obj.spec.subnet_id
                        ),
                    )));
                }
            },
        };
        if let Some(step) = self
            .leave_previous(previous.as_ref(), Some(&nsg_id), sharers)
            .await?
        {
            return Ok(Some(step));
        }
        let Some(nsg) = self.arm.get::<NetworkSecurityGroup>(&nsg_id).await? else {
            return Ok(Some(self.stalled(
                "NetworkSecurityGroupNotFound",
                format!(
                    "network security group {nsg_id} (spec.outboundRules) does not exist (or is not visible to the credential)"
                ),
            )));
        };
        let rules: Vec<SecurityRule> = nsg
            .properties
            .as_ref()
            .and_then(|p| p.security_rules.clone())
            .unwrap_or_default();
        let wanted = wanted_rules(&spec);
        let owner = self.owner();
        let blocked: Vec<(&'static str, String)> = wanted
            .iter()
            .filter_map(|w| blocker(w, &rules, &nsg_id, &owner, self.common().adopt))
            .collect();
        self.notice_removed(&nsg_id, &wanted, &rules);
        self.status.outbound_rules = Some(OutboundRulesStatus {
            network_security_group_id: nsg_id.to_string(),
            rules: observed(&rules),
        });
        if let Some((reason, _)) = blocked.first() {
            let message = blocked
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            return Ok(Some(self.stalled(reason, message)));
        }
        // Azure locks the whole group while one of its rules is written: one write at a time,
        // the next once the last one's operation has ended.
        if let Some(next) = self.rule_in_flight(&nsg_id) {
            return Ok(Some(next));
        }
        let marker = owner.description_marker();
        for w in &wanted {
            let rule = Rule {
                id: rule_id(&nsg_id, w.name),
                wanted: w,
                owner: &owner,
                marker: &marker,
            };
            let actual = rules.iter().find(|r| {
                r.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(w.name))
            });
            match self.converge_resource(&rule, actual.cloned()).await? {
                Converged::Ready(_) | Converged::Written(_) | Converged::Absent => {}
                Converged::Waiting(next) => {
                    return Ok(Some(Next {
                        phase: Phase::progressing(
                            "ConfiguringOutboundRules",
                            format!(
                                "waiting for outbound rule {} in network security group {nsg_id}",
                                w.name
                            ),
                        ),
                        requeue: next.requeue,
                    }));
                }
                Converged::Stopped(next) => return Ok(Some(next)),
            }
        }
        Ok(None)
    }

    /// The wait for a write of a rule of `nsg` whose operation has not ended (kept in
    /// status): Azure refuses another write to the group meanwhile (429
    /// `RetryableErrorDueToAnotherOperation`).
    fn rule_in_flight(&self, nsg: &ResourceId) -> Option<Next> {
        let (id, next) = self
            .running
            .iter()
            .find(|(id, _)| id.parent().as_ref() == Some(nsg))?;
        Some(Next {
            phase: Phase::progressing(
                "ConfiguringOutboundRules",
                format!(
                    "waiting for the write of security rule {} to end: Azure writes one rule of network security group {nsg} at a time",
                    id.name()
                ),
            ),
            requeue: next.requeue,
        })
    }

    /// An Event for each of this object's rules that the group had at the last look and has
    /// no more: someone removed it, most often a PUT of the whole group (Terraform or Bicep
    /// with inline rules) that does not list it.
    fn notice_removed(&mut self, nsg: &ResourceId, wanted: &[WantedRule], rules: &[SecurityRule]) {
        let Some(before) = self.status.outbound_rules.as_ref().filter(|s| {
            s.network_security_group_id
                .parse::<ResourceId>()
                .is_ok_and(|id| id == *nsg)
        }) else {
            return;
        };
        let present = |name: &str| {
            rules.iter().any(|r| {
                r.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        };
        let gone: Vec<&str> = wanted
            .iter()
            .map(|w| w.name)
            .filter(|n| before.rules.iter().any(|r| r.name == *n) && !present(n))
            .collect();
        if gone.is_empty() {
            return;
        }
        let then = if self.report_only() {
            "policy.drift: Report leaves them missing"
        } else {
            "arclink re-creates them"
        };
        self.notices.push(Notice {
            reason: "OutboundRulesRemoved".into(),
            message: format!(
                "security rules {} were removed from network security group {nsg} by someone else, most likely a PUT of the whole group (Terraform or Bicep with inline security rules) that does not list them; {then}. To keep such a tool from removing them, see the README on inline-rule IaC",
                gone.join(", ")
            ),
        });
    }

    /// Removes this object's rules from the group it used before, when the spec no longer
    /// asks for rules there (`now`: the group asked for now). `Report` removes nothing and
    /// reports them.
    async fn leave_previous(
        &mut self,
        previous: Option<&ResourceId>,
        now: Option<&ResourceId>,
        sharers: &[RuleSharer],
    ) -> Result<Option<Next>, ArmError> {
        let Some(previous) = previous else {
            return Ok(None);
        };
        if now == Some(previous) {
            return Ok(None);
        }
        if self.report_only() {
            let owned = self.owned_rules(previous).await?;
            for r in owned {
                let name = r.name.clone().unwrap_or_default();
                self.drift.reported.push(entry(
                    &format!("securityRules/{name}"),
                    "absent",
                    &format!("present in {previous}"),
                ));
            }
            return Ok(None);
        }
        match self.delete_owned_rules(previous, sharers).await? {
            Some(step) => Ok(Some(step)),
            None => {
                self.status.outbound_rules = None;
                Ok(None)
            }
        }
    }

    /// The rules of `nsg` whose ownership marker names this object (none when the group is
    /// gone).
    async fn owned_rules(&self, nsg: &ResourceId) -> Result<Vec<SecurityRule>, ArmError> {
        let owner = self.owner();
        let group = self.arm.get::<NetworkSecurityGroup>(nsg).await?;
        Ok(group
            .and_then(|g| g.properties)
            .and_then(|p| p.security_rules)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                owner.classify_description(
                    r.properties.as_ref().and_then(|p| p.description.as_deref()),
                ) == Ownership::Ours
            })
            .collect())
    }

    /// Deletes the rules of `nsg` this object owns (and only those), one at a time; a rule
    /// another declared endpoint needs as it is goes to that endpoint instead. `Some` while a
    /// write runs.
    pub(super) async fn delete_owned_rules(
        &mut self,
        nsg: &ResourceId,
        sharers: &[RuleSharer],
    ) -> Result<Option<Next>, ArmError> {
        self.release_owned_rules(nsg, sharers, Release::Delete)
            .await
    }

    /// `deletion: Orphan`: the rules this object owns stay, without the ownership marker (or
    /// with that of another declared endpoint that needs them), one write at a time; `Some`
    /// while a write runs.
    pub(super) async fn orphan_owned_rules(
        &mut self,
        nsg: &ResourceId,
        sharers: &[RuleSharer],
    ) -> Result<Option<Next>, ArmError> {
        self.release_owned_rules(nsg, sharers, Release::Orphan)
            .await
    }

    /// Lets go of this object's rules in `nsg` one write at a time, following each write's
    /// operation to its end before the next (Azure locks the group meanwhile).
    async fn release_owned_rules(
        &mut self,
        nsg: &ResourceId,
        sharers: &[RuleSharer],
        how: Release,
    ) -> Result<Option<Next>, ArmError> {
        if let Some(next) = self.rule_in_flight(nsg) {
            return Ok(Some(next));
        }
        for r in self.owned_rules(nsg).await? {
            let name = r.name.clone().unwrap_or_default();
            let id = rule_id(nsg, &name);
            let heir = sharing::heir(self.arm, sharers, nsg, &r).await?;
            let written = match (heir, how) {
                (Some(heir), _) => {
                    let marker = heir.owner.description_marker();
                    self.rewrite_marker(&id, &r, Some(marker)).await?
                }
                (None, Release::Orphan) => self.rewrite_marker(&id, &r, None).await?,
                (None, Release::Delete) => self.delete_followed(&id, state_of(&r)).await?,
            };
            if let Some(next) = written {
                return Ok(Some(next));
            }
        }
        Ok(None)
    }

    /// Writes rule `id` (as read: `rule`) with `marker` as its description (none: no owner),
    /// following the operation; `Some` while it runs.
    async fn rewrite_marker(
        &mut self,
        id: &ResourceId,
        rule: &SecurityRule,
        marker: Option<String>,
    ) -> Result<Option<Next>, ArmError> {
        let mut props = rule
            .properties
            .as_ref()
            .map(WriteModel::for_write)
            .unwrap_or_default();
        let before = props.description.take().unwrap_or_default();
        let diff = vec![entry(
            &format!("securityRules/{}.properties.description", id.name()),
            marker.as_deref().unwrap_or_default(),
            &before,
        )];
        let handed_over = marker.is_some();
        props.description = marker;
        let body = SecurityRule {
            properties: Some(props),
            ..Default::default()
        };
        let written = self
            .put::<_, serde_json::Value>(id, ChangeAction::Update, diff, &body)
            .await?;
        let verb = if handed_over {
            "handing over"
        } else {
            "orphaning"
        };
        match written {
            Some(Write::Pending(token)) => self
                .follow("Updating", &token, format!("{verb} security rule {id}"))
                .map(Some),
            _ => Ok(None),
        }
    }

    /// The group holding this object's rules, for clean-up: the one in status, else the one
    /// the spec names, else the one attached to the subnet.
    pub(super) async fn outbound_nsg_for_cleanup(&self) -> Result<Option<ResourceId>, ArmError> {
        if let Some(id) = self
            .status
            .outbound_rules
            .as_ref()
            .and_then(|s| s.network_security_group_id.parse().ok())
        {
            return Ok(Some(id));
        }
        let Some(spec) = self.obj.spec.outbound_rules.as_ref() else {
            return Ok(None);
        };
        if let Some(id) = spec.network_security_group_id.as_deref() {
            return Ok(id.parse().ok());
        }
        let subnet = &self.obj.spec.subnet_id;
        let Some(vnet_id) = vnet_of(subnet) else {
            return Ok(None);
        };
        let Some(vnet) = self.arm.get::<VirtualNetwork>(&vnet_id).await? else {
            return Ok(None);
        };
        Ok(subnet_nsg(&vnet, subnet))
    }
}

/// The network security group attached to subnet `subnet_id` of `vnet`.
pub fn subnet_nsg(vnet: &VirtualNetwork, subnet_id: &str) -> Option<ResourceId> {
    let name = subnet_id.rsplit('/').next().unwrap_or_default();
    vnet.properties
        .as_ref()?
        .subnets
        .as_ref()?
        .iter()
        .find(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })?
        .properties
        .as_ref()?
        .network_security_group
        .as_ref()?
        .id
        .clone()
}

/// `status.outboundRules.rules`: arclink's two rules as the group has them.
fn observed(rules: &[SecurityRule]) -> Vec<OutboundRuleStatus> {
    rules
        .iter()
        .filter_map(|r| {
            let name = r.name.as_deref()?;
            let canonical = [ENTRA_ID_RULE, RESOURCE_MANAGER_RULE]
                .into_iter()
                .find(|n| n.eq_ignore_ascii_case(name))?;
            let p = r.properties.as_ref()?;
            Some(OutboundRuleStatus {
                name: canonical.to_string(),
                destination: p.destination_address_prefix.clone().unwrap_or_default(),
                priority: p
                    .priority
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or_default(),
            })
        })
        .collect()
}
