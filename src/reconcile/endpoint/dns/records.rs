//! The A records an endpoint's zone group writes into the zones, compared with what the zones
//! hold: a record changed by hand is reported or corrected; one another endpoint's zone group
//! wrote (reference/arm-behaviours.md 9) is reported, never fought over.

use futures::TryStreamExt;

use crate::api::ArcPrivateEndpoint;
use crate::azure::models::{
    ARecord, ARecordSet, NetworkInterface, PrivateDnsZoneConfig, WriteModel,
};
use crate::azure::{ArmError, CollectionId, Precondition, ResourceId, Write, precondition_failed};
use crate::reconcile::ChangeAction;
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::resource::{Pending, waiting};

use super::sorted_ips;

/// TTL of A records arclink corrects, as Azure writes them for zone groups.
const RECORD_TTL: i64 = 10;

impl Cx<'_, ArcPrivateEndpoint> {
    /// Private IPs of the other private endpoints in the subscription (from their network
    /// interfaces): an A record pointing to one of them was written by that endpoint's zone
    /// group, not changed by hand.
    async fn other_endpoint_ips(&self, pe_id: &ResourceId) -> Result<Vec<String>, ArmError> {
        let nics: Vec<NetworkInterface> = self
            .arm
            .list(&CollectionId::new(
                &ResourceId::subscription_id(pe_id.subscription()),
                "Microsoft.Network/networkInterfaces",
            ))
            .try_collect()
            .await?;
        Ok(nics
            .iter()
            .filter_map(|n| n.properties.as_ref())
            .filter(|p| {
                p.private_endpoint
                    .as_ref()
                    .and_then(|e| e.id.as_ref())
                    .is_some_and(|e| e != pe_id)
            })
            .flat_map(|p| p.ip_configurations.iter().flatten())
            .filter_map(|c| c.properties.as_ref()?.private_ip_address.clone())
            .collect())
    }

    /// Compares the A records the zone group wrote with the zones' record sets; `Some` while
    /// a record's write runs.
    pub(super) async fn a_records(
        &mut self,
        pe_id: &ResourceId,
        configs: &[PrivateDnsZoneConfig],
    ) -> Result<Option<Next>, ArmError> {
        let mut elsewhere: Option<Vec<String>> = None;
        let mut pending = Pending::default();
        for cfg in configs {
            let Some(p) = cfg.properties.as_ref() else {
                continue;
            };
            let Some(zid) = p.private_dns_zone_id.as_ref() else {
                continue;
            };
            let expected: Vec<(String, Vec<String>)> = p
                .record_sets
                .iter()
                .flatten()
                .filter(|r| {
                    r.record_type
                        .as_deref()
                        .is_none_or(|t| t.eq_ignore_ascii_case("A"))
                })
                .filter_map(|r| {
                    Some((
                        r.record_set_name.clone()?,
                        sorted_ips(r.ip_addresses.clone().unwrap_or_default()),
                    ))
                })
                .collect();
            if expected.is_empty() {
                continue;
            }
            let sets: Vec<ARecordSet> = self
                .arm
                .list(&CollectionId::new(zid, "A"))
                .try_collect()
                .await?;
            let own_ips: Vec<&String> = expected.iter().flat_map(|(_, ips)| ips).collect();
            for (name, ips) in expected.iter().cloned() {
                let id = zid.child("A", &name);
                if let Some(next) = self.running(&id) {
                    pending.add(&name, &next);
                    continue;
                }
                let set = sets.iter().find(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&name))
                });
                let actual = sorted_ips(
                    set.and_then(|s| s.properties.as_ref())
                        .and_then(|p| p.a_records.clone())
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|a| a.ipv4_address),
                );
                if actual == ips {
                    continue;
                }
                let path = format!("privateDnsZones/{}/A/{name}", zid.name());
                // Another endpoint's zone group writing into the same zone replaces the
                // record (reference/arm-behaviours.md 9): report it, do not fight over it.
                if actual.iter().any(|ip| !own_ips.contains(&ip)) && elsewhere.is_none() {
                    elsewhere = Some(self.other_endpoint_ips(pe_id).await?);
                }
                let theirs = elsewhere.as_deref().unwrap_or_default();
                let difference = entry(&path, &ips.join(","), &actual.join(","));
                if actual.iter().any(|ip| theirs.contains(ip)) {
                    self.drift.reported.push(difference);
                    self.drift.notes.push(format!(
                        "{path} points to {} (not this endpoint's address): another private endpoint writes into the same zone; it is not rewritten",
                        actual.join(",")
                    ));
                    continue;
                }
                let mark = self.mark();
                if self.may_correct(vec![difference.clone()]).is_none() {
                    continue;
                }
                let mut props = set
                    .and_then(|s| s.properties.as_ref())
                    .map(WriteModel::for_write)
                    .unwrap_or_default();
                props.ttl = props.ttl.or(Some(RECORD_TTL));
                props.a_records = Some(
                    ips.iter()
                        .map(|ip| ARecord {
                            ipv4_address: Some(ip.clone()),
                            ..Default::default()
                        })
                        .collect(),
                );
                let body = ARecordSet {
                    properties: Some(props),
                    ..Default::default()
                };
                // Only the record set as read is replaced (or, absent, created): another
                // writer's change meanwhile is read and compared again first.
                let precondition = match set {
                    Some(s) => Precondition::read(s.etag.as_deref()),
                    None => Some(Precondition::Absent),
                };
                if !self.record(&id, ChangeAction::Update, vec![difference.clone()]) {
                    continue;
                }
                let result = match &precondition {
                    Some(p) => self.arm.put_if::<_, serde_json::Value>(&id, &body, p).await,
                    None => self.arm.put::<_, serde_json::Value>(&id, &body).await,
                };
                match self.written(result) {
                    Ok(Some(Write::Pending(token))) => {
                        let next = self.follow("Updating", &token, format!("Updating {id}"))?;
                        pending.add(&name, &next);
                    }
                    Ok(_) => {}
                    Err(e) if precondition_failed(&e) => {
                        // Changed since it was read: neither corrected nor known to differ.
                        self.rewind(mark);
                        pending.add(&name, &waiting("Updating", String::new()));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(pending.wait("ConfiguringDns", |names| {
            format!("waiting for private DNS: A records {names}")
        }))
    }
}
