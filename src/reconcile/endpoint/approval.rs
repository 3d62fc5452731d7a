//! The endpoint's connection to the scope: approving it when arclink manages the scope, and
//! the phase its state implies (`Ready` only when Approved).

use crate::api::DriftEntry;
use crate::api::endpoint::Approval;
use crate::azure::models::{
    ConnectionState, PrivateEndpointConnection, PrivateEndpointConnectionProperties,
    PrivateLinkScope, SubResource,
};
use crate::azure::{ArmError, ResourceId};
use crate::reconcile::scope_ref::{ResolvedScope, WAIT_FOR_SCOPE};
use crate::reconcile::{ChangeAction, Phase, Requeue, arm};

use super::{Run, Step, in_flight, owner};

impl Run<'_> {
    /// Approves a Pending connection when arclink manages the scope and the spec asks for it.
    /// `Some` when the reconcile stops here.
    pub(super) async fn approve(
        &mut self,
        id: &ResourceId,
        scope: &ResolvedScope,
    ) -> Result<Option<Step>, ArmError> {
        let pending = self
            .status
            .connection
            .as_ref()
            .is_some_and(|c| c.status.eq_ignore_ascii_case("Pending"));
        let spec = &self.obj.spec;
        if !pending
            || spec.approval != Approval::Manual
            || !spec.approve_connection
            || !scope.managed
            || self.report_only()
        {
            return Ok(None);
        }
        let Some(conn) = scope_connection(&scope.arm, id).cloned() else {
            return Ok(None);
        };
        let Some(conn_id) = conn.id.clone() else {
            return Ok(None);
        };
        let state = conn
            .properties
            .as_ref()
            .and_then(|p| p.private_link_service_connection_state.as_ref());
        if state
            .and_then(|s| s.status.as_deref())
            .is_some_and(|s| !s.eq_ignore_ascii_case("Pending"))
            || in_flight(
                conn.properties
                    .as_ref()
                    .and_then(|p| p.provisioning_state.as_deref()),
            )
        {
            return Ok(Some((
                Phase::progressing(
                    "Approving",
                    format!("waiting for connection {conn_id} to be approved"),
                ),
                Requeue::After(arm::OPERATION_POLL),
            )));
        }
        let body = PrivateEndpointConnection {
            properties: Some(PrivateEndpointConnectionProperties {
                private_endpoint: Some(SubResource::new(id.clone())),
                private_link_service_connection_state: Some(ConnectionState {
                    status: Some("Approved".into()),
                    description: Some(format!(
                        "Approved by arclink for {}",
                        owner(self.obj, self.settings)
                    )),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let diff = vec![DriftEntry {
            path: "properties.privateLinkServiceConnectionState.status".into(),
            desired: "Approved".into(),
            actual: "Pending".into(),
        }];
        self.put::<_, serde_json::Value>(&conn_id, ChangeAction::Update, diff, &body)
            .await?;
        Ok(Some((
            Phase::progressing(
                "Approving",
                format!("approving connection {conn_id} on scope {}", scope.id),
            ),
            Requeue::After(arm::OPERATION_POLL),
        )))
    }

    /// The final phase once the endpoint exists and matches.
    pub(super) fn settled(
        &self,
        id: &ResourceId,
        scope: &ResolvedScope,
        dns_wait: Option<Step>,
    ) -> Step {
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
                    "the connection of private endpoint {id} to scope {} is {status}: {description}",
                    scope.id
                ),
            );
        }
        if let Some(step) = dns_wait {
            return step;
        }
        if !status.eq_ignore_ascii_case("Approved") {
            let hint = if self.obj.spec.approval == Approval::Manual
                && self.obj.spec.approve_connection
                && !scope.managed
            {
                " (approveConnection works only for a scope this cluster manages through scopeRef)"
            } else {
                ""
            };
            return (
                Phase::progressing(
                    "WaitingForApproval",
                    format!(
                        "the connection of private endpoint {id} to scope {} is {status}; waiting for the scope owner to approve it{hint}",
                        scope.id
                    ),
                ),
                Requeue::After(WAIT_FOR_SCOPE),
            );
        }
        (
            Phase::ready(
                "Succeeded",
                format!(
                    "private endpoint {id} is connected to scope {} and matches the spec",
                    scope.id
                ),
            ),
            Requeue::After(self.interval),
        )
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
