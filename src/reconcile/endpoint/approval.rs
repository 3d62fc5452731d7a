//! The endpoint's connection to the scope: approving it when arclink manages the scope, and
//! the phase its state implies (`Ready` only when Approved).

use crate::api::endpoint::Approval;
use crate::api::{ArcPrivateEndpoint, DriftEntry};
use crate::azure::models::{
    ConnectionState, PrivateEndpointConnection, PrivateEndpointConnectionProperties,
    PrivateLinkScope, SubResource,
};
use crate::azure::{ArmError, ResourceId};
use crate::reconcile::arm::OPERATION_POLL;
use crate::reconcile::drift::entry;
use crate::reconcile::engine::{Cx, Next};
use crate::reconcile::ownership::{Owner, Ownership};
use crate::reconcile::resource::{ArmResource, Converged};
use crate::reconcile::scope_ref::WAIT_FOR_SCOPE;

use super::target::ResolvedTarget;
use crate::reconcile::{Phase, Requeue};

/// The scope's connection from the endpoint, approved. Only its state is declared; arclink
/// writes it on a scope this cluster manages, so it is this object's to write.
struct Connection<'a> {
    id: ResourceId,
    endpoint: &'a ResourceId,
    description: String,
}

impl ArmResource for Connection<'_> {
    type Props = PrivateEndpointConnectionProperties;

    const WHAT: &'static str = "private endpoint connection";

    fn id(&self) -> &ResourceId {
        &self.id
    }

    fn desired(&self, _: Option<&PrivateEndpointConnection>) -> PrivateEndpointConnection {
        PrivateEndpointConnection {
            properties: Some(PrivateEndpointConnectionProperties {
                private_endpoint: Some(SubResource::new(self.endpoint.clone())),
                private_link_service_connection_state: Some(ConnectionState {
                    status: Some("Approved".into()),
                    description: Some(self.description.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Only a Pending connection is approved (a decision already made is not overruled).
    fn differences(&self, actual: &PrivateEndpointConnection) -> Vec<DriftEntry> {
        let status = actual
            .properties
            .as_ref()
            .and_then(|p| p.private_link_service_connection_state.as_ref())
            .and_then(|s| s.status.as_deref());
        match status {
            Some(s) if !s.eq_ignore_ascii_case("Pending") => Vec::new(),
            _ => vec![entry(
                "properties.privateLinkServiceConnectionState.status",
                "Approved",
                "Pending",
            )],
        }
    }

    fn ownership(&self, _: &Owner, _: &PrivateEndpointConnection) -> Ownership {
        Ownership::Ours
    }
}

impl Cx<'_, ArcPrivateEndpoint> {
    /// Approves a Pending connection when arclink manages the scope and the spec asks for it.
    /// `Some` when the reconcile stops here.
    pub(super) async fn approve(
        &mut self,
        id: &ResourceId,
        target: &ResolvedTarget,
    ) -> Result<Option<Next>, ArmError> {
        let pending = self
            .status
            .connection
            .as_ref()
            .is_some_and(|c| c.status.eq_ignore_ascii_case("Pending"));
        let spec = &self.obj.spec;
        if !pending
            || spec.approval != Approval::Manual
            || !spec.approve_connection
            || !target.managed()
            || self.report_only()
        {
            return Ok(None);
        }
        let Some(conn) = target.connection_of(id).cloned() else {
            return Ok(None);
        };
        let Some(conn_id) = conn.id.clone() else {
            return Ok(None);
        };
        let connection = Connection {
            id: conn_id.clone(),
            endpoint: id,
            description: format!("Approved by arclink for {}", self.owner()),
        };
        let wait = match self.converge_resource(&connection, Some(conn)).await? {
            Converged::Stopped(next) => return Ok(Some(next)),
            Converged::Waiting(next) => next.requeue,
            _ => Requeue::After(OPERATION_POLL),
        };
        let written = self
            .changes
            .iter()
            .any(|c| c.resource_id == conn_id.to_string());
        let message = if written {
            format!("approving connection {conn_id} on {}", target.what())
        } else {
            format!("waiting for connection {conn_id} to be approved")
        };
        Ok(Some(Next {
            phase: Phase::progressing("Approving", message),
            requeue: wait,
        }))
    }

    /// The final phase once the endpoint exists and matches.
    pub(super) fn settled(
        &self,
        id: &ResourceId,
        target: &ResolvedTarget,
        dns_wait: Option<Next>,
    ) -> Next {
        let conn = self.status.connection.clone();
        let (status, description) = conn
            .as_ref()
            .map(|c| (c.status.clone(), c.description.clone().unwrap_or_default()))
            .unwrap_or_else(|| ("Pending".into(), String::new()));
        if status.eq_ignore_ascii_case("Rejected") || status.eq_ignore_ascii_case("Disconnected") {
            let reason = if status.eq_ignore_ascii_case("Rejected") {
                "ConnectionRejected"
            } else {
                "ConnectionDisconnected"
            };
            return self.stalled(
                reason,
                format!(
                    "the connection of private endpoint {id} to {} is {status}: {description}",
                    target.what()
                ),
            );
        }
        if let Some(next) = dns_wait {
            return next;
        }
        if !status.eq_ignore_ascii_case("Approved") {
            let hint = if self.obj.spec.approval == Approval::Manual
                && self.obj.spec.approve_connection
                && !target.managed()
            {
                " (approveConnection works only for a scope this cluster manages through scopeRef)"
            } else {
                ""
            };
            return Next::progressing(
                "WaitingForApproval",
                format!(
                    "the connection of private endpoint {id} to {} is {status}; waiting for its owner to approve it{hint}",
                    target.what()
                ),
                WAIT_FOR_SCOPE,
            );
        }
        self.ready(format!(
            "private endpoint {id} is connected to {} and matches the spec",
            target.what()
        ))
    }
}

/// The scope's connection from the private endpoint `pe`.
pub(super) fn scope_connection<'a>(
    scope: &'a PrivateLinkScope,
    pe: &ResourceId,
) -> Option<&'a PrivateEndpointConnection> {
    scope
        .properties
        .as_ref()?
        .private_endpoint_connections
        .as_ref()?
        .iter()
        .find(|c| {
            c.properties
                .as_ref()
                .and_then(|p| p.private_endpoint.as_ref())
                .and_then(|e| e.id.as_ref())
                == Some(pe)
        })
}
