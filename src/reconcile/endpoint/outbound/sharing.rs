//! A rule two endpoints need. Endpoints in subnets that share one network security group ask
//! for the same two rules; the first creates them and the others use them as they are (its
//! marker in the description). When the owner goes (deleted, `Orphan`, or its rules moved
//! elsewhere), a rule another declared endpoint still needs with the same values in the same
//! group is handed over to that endpoint (its marker written into the description) instead of
//! being deleted or left unmarked, so the other endpoint's traffic never loses its rule. Which
//! endpoints are declared comes from the same declared objects as the one-scope-per-network
//! rule ([`crate::reconcile::declared`]), for the controller and `plan`/`apply` alike.

use kube::ResourceExt;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::OutboundRules;
use crate::azure::models::{SecurityRule, VirtualNetwork};
use crate::azure::{ArmClient, ArmError, ResourceId};
use crate::reconcile::ownership::Owner;

use super::rules::{rule_differences, wanted_rules};
use super::subnet_nsg;
use crate::reconcile::endpoint::vnet_of;

/// Another declared endpoint that asks for outbound rules.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSharer {
    /// The object, as its rules' ownership marker names it.
    pub owner: Owner,
    /// Its `spec.subnetId`.
    pub subnet_id: String,
    /// The group its rules go into when that is known without Azure: the one its spec names,
    /// else the one its status reports.
    pub group: Option<String>,
    pub rules: OutboundRules,
}

impl RuleSharer {
    /// `obj` as a sharer, when it asks for rules and is not being deleted.
    pub fn of(obj: &ArcPrivateEndpoint, cluster: &str) -> Option<RuleSharer> {
        let rules = obj.spec.outbound_rules.clone()?;
        if obj.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let group = rules.network_security_group_id.clone().or_else(|| {
            obj.status
                .as_ref()?
                .outbound_rules
                .as_ref()
                .map(|s| s.network_security_group_id.clone())
        });
        Some(RuleSharer {
            owner: Owner {
                cluster: cluster.to_string(),
                namespace: obj.namespace().unwrap_or_default(),
                kind: super::super::KIND.to_string(),
                name: obj.name_any(),
            },
            subnet_id: obj.spec.subnet_id.clone(),
            group,
            rules,
        })
    }
}

/// The declared endpoints that need `rule` of group `nsg` as it is, the first of them to take
/// it over; the groups of endpoints known only by their subnet are read from Azure (one read
/// of each virtual network, only when a rule is about to go).
pub async fn heir<'s>(
    arm: &ArmClient,
    sharers: &'s [RuleSharer],
    nsg: &ResourceId,
    rule: &SecurityRule,
) -> Result<Option<&'s RuleSharer>, ArmError> {
    let name = rule.name.as_deref().unwrap_or_default();
    let props = rule.properties.clone().unwrap_or_default();
    let same_rule = |s: &RuleSharer| {
        wanted_rules(&s.rules)
            .iter()
            .any(|w| w.name.eq_ignore_ascii_case(name) && rule_differences(w, &props).is_empty())
    };
    let mut vnets: Vec<(ResourceId, Option<VirtualNetwork>)> = Vec::new();
    for s in sharers.iter().filter(|s| same_rule(s)) {
        let group = match &s.group {
            Some(g) => g.parse::<ResourceId>().ok(),
            None => {
                let Some(vnet_id) = vnet_of(&s.subnet_id) else {
                    continue;
                };
                if !vnets.iter().any(|(id, _)| *id == vnet_id) {
                    let vnet = arm.get::<VirtualNetwork>(&vnet_id).await?;
                    vnets.push((vnet_id.clone(), vnet));
                }
                vnets
                    .iter()
                    .find(|(id, _)| *id == vnet_id)
                    .and_then(|(_, v)| v.as_ref())
                    .and_then(|v| subnet_nsg(v, &s.subnet_id))
            }
        };
        if group.as_ref() == Some(nsg) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}
