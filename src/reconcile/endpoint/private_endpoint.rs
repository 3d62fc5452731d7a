//! The private endpoint itself, as it describes itself to the engine ([`ArmResource`]): the
//! body it is created with, its tags, and what no write can change (region, subnet, connection).
//! Updates re-send the endpoint exactly as read (its connection and NIC name included, which
//! Azure refuses to see changed) with the tags corrected.

use std::collections::BTreeMap;

use crate::api::ArcPrivateEndpoint;
use crate::api::endpoint::Approval;
use crate::azure::models::{
    PrivateEndpoint, PrivateEndpointProperties, PrivateLinkServiceConnection,
    PrivateLinkServiceConnectionProperties, SubResource,
};
use crate::azure::{ArmClient, ArmError, ResourceId};
use crate::reconcile::engine::Cx;
use crate::reconcile::resource::{ArmResource, region_mismatch};

use super::ip_configurations;
use super::network::azure_conflict;
use super::target::ResolvedTarget;
use super::{AUTO, MANUAL, MAX_REQUEST_MESSAGE};

pub struct Endpoint<'a> {
    id: ResourceId,
    obj: &'a ArcPrivateEndpoint,
    /// `<cluster>/<namespace>/<kind>/<name>`, for the default request message.
    owner: String,
    tags: BTreeMap<String, String>,
    target: &'a ResolvedTarget,
    vnet: &'a ResourceId,
}

impl<'a> Endpoint<'a> {
    pub fn new(
        cx: &Cx<'a, ArcPrivateEndpoint>,
        id: ResourceId,
        target: &'a ResolvedTarget,
        vnet: &'a ResourceId,
    ) -> Endpoint<'a> {
        Endpoint {
            id,
            obj: cx.obj,
            owner: cx.owner().to_string(),
            tags: cx.desired_tags(&cx.obj.spec.common.tags),
            target,
            vnet,
        }
    }

    /// The connection a new endpoint is created with. It is never changed afterwards: Azure
    /// refuses any change of it (reference/arm-behaviours.md 1).
    fn connection(&self) -> PrivateLinkServiceConnection {
        let spec = &self.obj.spec;
        let request_message = match spec.approval {
            Approval::Automatic => None,
            Approval::Manual => Some(spec.request_message.clone().unwrap_or_else(|| {
                let message = format!("Requested by arclink for {}", self.owner);
                message.chars().take(MAX_REQUEST_MESSAGE).collect()
            })),
        };
        PrivateLinkServiceConnection {
            name: Some(self.id.name().to_string()),
            properties: Some(PrivateLinkServiceConnectionProperties {
                private_link_service_id: Some(self.target.id.clone()),
                group_ids: Some(vec![self.target.group_id.clone()]),
                request_message,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The connection list the spec's approval mode uses.
    fn wanted_list(&self) -> &'static str {
        match self.obj.spec.approval {
            Approval::Automatic => AUTO,
            Approval::Manual => MANUAL,
        }
    }

    /// The connection, when it is not the spec's (its target, approval mode and group): the
    /// endpoint is `Stalled`, naming the connection, instead of being sent a PUT that Azure
    /// refuses.
    fn connection_mismatch(&self, actual: &PrivateEndpoint) -> Option<String> {
        let wanted_list = self.wanted_list();
        let mut conns = actual.properties.iter().flat_map(|p| {
            let auto = p.private_link_service_connections.iter().flatten();
            let manual = p.manual_private_link_service_connections.iter().flatten();
            auto.map(|c| (AUTO, c)).chain(manual.map(|c| (MANUAL, c)))
        });
        let first = conns.next();
        let matches = |(list, c): (&str, &PrivateLinkServiceConnection)| {
            list == wanted_list
                && c.properties.as_ref().is_some_and(|p| {
                    p.private_link_service_id.as_ref() == Some(&self.target.id)
                        && p.group_ids.as_ref().is_some_and(|g| {
                            g.len() == 1 && g[0].eq_ignore_ascii_case(&self.target.group_id)
                        })
                })
        };
        if first.is_some_and(matches) && conns.next().is_none() {
            return None;
        }
        let existing = match first {
            Some((list, c)) => {
                let p = c.properties.as_ref();
                format!(
                    "connection {} ({list}) to {} with group ids [{}]",
                    c.name().unwrap_or_default(),
                    p.and_then(|p| p.private_link_service_id.as_ref())
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    p.and_then(|p| p.group_ids.as_ref())
                        .map(|g| g.join(","))
                        .unwrap_or_default()
                )
            }
            None => "no private link connection".to_string(),
        };
        Some(format!(
            "private endpoint {} has {existing}, but the spec asks for a {} connection ({wanted_list}) to {}; Azure cannot change a private endpoint's connection: delete the endpoint in Azure (or the object, if arclink created it) so that arclink creates it anew",
            self.id,
            match self.obj.spec.approval {
                Approval::Automatic => "automatic",
                Approval::Manual => "manual",
            },
            self.target.what()
        ))
    }
}

impl ArmResource for Endpoint<'_> {
    type Props = PrivateEndpointProperties;
    const OWN: bool = true;
    // Private endpoints have no tags-only PATCH in the Network API.
    const TAGS_PATCH: bool = false;

    const WHAT: &'static str = "private endpoint";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn tags(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.tags)
    }

    fn desired(&self, actual: Option<&PrivateEndpoint>) -> PrivateEndpoint {
        if let Some(actual) = actual {
            let mut body = actual.for_write();
            // Azure computes these for Arc's FQDNs; sending them back would pin stale values.
            if let Some(p) = body.properties.as_mut() {
                p.custom_dns_configs = None;
            }
            return body;
        }
        let spec = &self.obj.spec;
        let (auto, manual) = match spec.approval {
            Approval::Automatic => (vec![self.connection()], Vec::new()),
            Approval::Manual => (Vec::new(), vec![self.connection()]),
        };
        let mut body = PrivateEndpoint {
            location: Some(spec.location.clone()),
            properties: Some(PrivateEndpointProperties {
                subnet: spec.subnet_id.parse().ok().map(SubResource::new),
                private_link_service_connections: Some(auto),
                manual_private_link_service_connections: Some(manual),
                ..Default::default()
            }),
            ..Default::default()
        };
        ip_configurations::apply(spec, &mut body);
        body
    }

    /// ARM cannot move a resource, nor a private endpoint to another subnet, nor change its
    /// connection.
    fn immutable(&self, actual: &PrivateEndpoint) -> Option<(&'static str, String)> {
        let spec = &self.obj.spec;
        let id = &self.id;
        let region = region_mismatch(Self::WHAT, id, actual.location.as_deref(), &spec.location);
        if region.is_some() {
            return region;
        }
        let subnet = actual
            .properties
            .as_ref()
            .and_then(|p| p.subnet.as_ref())
            .and_then(|s| s.id.as_ref());
        let wanted_subnet = spec.subnet_id.parse::<ResourceId>().ok();
        if let Some(subnet) = subnet
            && wanted_subnet.as_ref() != Some(subnet)
        {
            return Some((
                "SubnetMismatch",
                format!(
                    "private endpoint {id} is in subnet {subnet} but spec.subnetId is {}; a private endpoint cannot move: delete it in Azure or point spec.azure at another name",
                    spec.subnet_id
                ),
            ));
        }
        self.connection_mismatch(actual)
            .map(|message| ("ConnectionMismatch", message))
            .or_else(|| ip_configurations::mismatch(spec, id, actual))
    }

    /// Static addresses Azure would refuse (a missing or unknown member, an address outside
    /// the subnet) forbid it; so does an endpoint in the virtual network to another Arc scope
    /// (or Azure Monitor scope, or resource management link): a network serves one.
    async fn before_create(
        &self,
        arm: &ArmClient,
    ) -> Result<Option<(&'static str, String)>, ArmError> {
        let target = self.target;
        let refused =
            ip_configurations::refusal(arm, &self.obj.spec, &target.id, &target.group_id).await?;
        if refused.is_some() {
            return Ok(refused);
        }
        azure_conflict(arm, &self.id, self.vnet, target).await
    }
}
