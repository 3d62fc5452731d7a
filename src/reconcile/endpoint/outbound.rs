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
use crate::azure::{ArmError, ResourceId};
use crate::reconcile::ChangeAction;
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, DELETING, Next};
use crate::reconcile::ownership::{Owner, Ownership};
use crate::reconcile::resource::{ArmResource, Converged, Pending, state_of};

use super::vnet_of;
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
    ) -> Result<Option<Next>, ArmError> {
        let previous = self
            .status
            .outbound_rules
            .as_ref()
            .and_then(|s| s.network_security_group_id.parse::<ResourceId>().ok());
        let Some(spec) = self.obj.spec.outbound_rules.clone() else {
            return self.leave_previous(previous.as_ref(), None).await;
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
            .leave_previous(previous.as_ref(), Some(&nsg_id))
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
        let marker = owner.description_marker();
        let mut pending = Pending::default();
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
                Converged::Waiting(next) => pending.add(w.name, &next),
                Converged::Stopped(next) => return Ok(Some(next)),
            }
        }
        Ok(pending.wait("ConfiguringOutboundRules", |names| {
            format!("waiting for outbound rules: {names} in network security group {nsg_id}")
        }))
    }

    /// Removes this object's rules from the group it used before, when the spec no longer
    /// asks for rules there (`now`: the group asked for now). `Report` removes nothing and
    /// reports them.
    async fn leave_previous(
        &mut self,
        previous: Option<&ResourceId>,
        now: Option<&ResourceId>,
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
        match self.delete_owned_rules(previous).await? {
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

    /// Deletes the rules of `nsg` this object owns (and only those); `Some` while deletions
    /// run.
    pub(super) async fn delete_owned_rules(
        &mut self,
        nsg: &ResourceId,
    ) -> Result<Option<Next>, ArmError> {
        let mut pending = Pending::default();
        for r in self.owned_rules(nsg).await? {
            let name = r.name.clone().unwrap_or_default();
            let id = rule_id(nsg, &name);
            if let Some(next) = self.delete_followed(&id, state_of(&r)).await? {
                pending.add(name, &next);
            }
        }
        Ok(pending.wait(DELETING, |names| {
            format!("deleting outbound rules {names} in network security group {nsg}")
        }))
    }

    /// `deletion: Orphan`: the rules this object owns stay, without the ownership marker.
    pub(super) async fn orphan_owned_rules(&mut self, nsg: &ResourceId) -> Result<(), ArmError> {
        for r in self.owned_rules(nsg).await? {
            let name = r.name.clone().unwrap_or_default();
            let mut props = r
                .properties
                .as_ref()
                .map(WriteModel::for_write)
                .unwrap_or_default();
            props.description = None;
            let body = SecurityRule {
                properties: Some(props),
                ..Default::default()
            };
            let diff = vec![entry(
                &format!("securityRules/{name}.properties.description"),
                "",
                r.properties
                    .as_ref()
                    .and_then(|p| p.description.as_deref())
                    .unwrap_or_default(),
            )];
            self.put::<_, serde_json::Value>(
                &rule_id(nsg, &name),
                ChangeAction::Update,
                diff,
                &body,
            )
            .await?;
        }
        Ok(())
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
