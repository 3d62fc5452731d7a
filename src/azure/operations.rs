//! Following a long-running operation: one poll, the result once it succeeded, and the waits
//! of a write until its operation is over.

use crate::azure::client::ArmClient;
use crate::azure::error::{ArmError, ErrorDetail};
use crate::azure::id::ResourceId;
use crate::azure::lro::{
    DEFAULT_POLL_INTERVAL, Deleted, MIN_POLL_INTERVAL, OperationState, OperationToken, Poll,
    PollStyle, Write, provisioning_state,
};
use crate::azure::pipeline::{decode, decode_bytes};
use azure_core::http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

#[derive(serde::Deserialize)]
struct OperationStatus {
    status: Option<String>,
    error: Option<ErrorDetail>,
}

/// A `Location` poll's 200 body as an operation status (a `status` string and no resource
/// `properties`), else the body as it came (the resource, or nothing).
fn operation_status(
    body: Option<serde_json::Value>,
) -> Result<OperationStatus, Option<serde_json::Value>> {
    let is_status = body.as_ref().is_some_and(|b| {
        b.get("status").is_some_and(serde_json::Value::is_string) && b.get("properties").is_none()
    });
    match body {
        Some(b) if is_status => serde_json::from_value(b.clone()).map_err(|_| Some(b)),
        other => Err(other),
    }
}

impl ArmClient {
    /// Polls an operation once. `Err` means the poll itself failed (the operation may still be
    /// running); an operation that ended badly is `Ok(Poll::Failed(..))`.
    pub async fn poll(&self, token: &OperationToken) -> Result<Poll, ArmError> {
        let url = self.check_own_url(&token.status_url, "operation URL")?;
        let id = &token.resource_id;
        let provider = id.provider().unwrap_or("microsoft.resources");
        let resp = self
            .sender()
            .send(Method::Get, url, id.subscription(), provider, None)
            .await?;
        let running = Poll::InProgress {
            retry_after: resp
                .retry_after()
                .unwrap_or(DEFAULT_POLL_INTERVAL)
                .max(MIN_POLL_INTERVAL),
        };
        let outcome = match token.style {
            PollStyle::AzureAsyncOperation => {
                if resp.status != 200 {
                    return Err(resp.error());
                }
                let status: OperationStatus =
                    decode_bytes(&resp.body, &format!("operation status for {id}"))?;
                let state = status.status.as_deref().unwrap_or("InProgress");
                match OperationState::parse(state) {
                    OperationState::Running => return Ok(running),
                    OperationState::Succeeded => self.final_result(token, None).await?,
                    _ => Poll::Failed(ArmError::from_operation(resp.status, state, status.error)),
                }
            }
            PollStyle::Location => match resp.status {
                202 => return Ok(running),
                // A `Location` that points at an operation status resource (Insights'
                // `privateLinkScopeOperationStatuses`) answers 200 while the operation runs
                // too: its `status` says where it stands.
                200 => match operation_status(resp.json()?) {
                    Ok(status) => {
                        let state = status.status.as_deref().unwrap_or("InProgress");
                        match OperationState::parse(state) {
                            OperationState::Running => return Ok(running),
                            OperationState::Succeeded => self.final_result(token, None).await?,
                            _ => Poll::Failed(ArmError::from_operation(
                                resp.status,
                                state,
                                status.error,
                            )),
                        }
                    }
                    Err(body) => self.final_result(token, body).await?,
                },
                201 | 204 => self.final_result(token, resp.json()?).await?,
                // The status resource is unreachable or gone, which says nothing about the
                // operation; any other error status is the operation's own failure.
                404 | 408 | 409 | 429 | 500..=599 => return Err(resp.error()),
                _ => Poll::Failed(resp.error()),
            },
            PollStyle::ProvisioningState => match resp.status {
                404 if token.is_delete() => Poll::Done(None),
                200 if token.is_delete() => return Ok(running),
                200 => {
                    let body = resp.json()?.unwrap_or(serde_json::Value::Null);
                    let state = provisioning_state(&body).unwrap_or("Succeeded").to_string();
                    match OperationState::parse(&state) {
                        OperationState::Running => return Ok(running),
                        OperationState::Succeeded => Poll::Done(Some(body)),
                        _ => Poll::Failed(ArmError::from_operation(resp.status, &state, None)),
                    }
                }
                _ => return Err(resp.error()),
            },
        };
        let elapsed = jiff::Timestamp::now().duration_since(token.started_at);
        let elapsed = Duration::try_from(elapsed).unwrap_or_default();
        self.metrics()
            .record_lro(elapsed, matches!(outcome, Poll::Done(_)));
        Ok(outcome)
    }

    /// After success: PUT/PATCH return the resource (a final GET unless the Location body holds
    /// it); DELETE returns the Location body if any.
    async fn final_result(
        &self,
        token: &OperationToken,
        location_body: Option<serde_json::Value>,
    ) -> Result<Poll, ArmError> {
        if token.is_delete() {
            return Ok(Poll::Done(location_body));
        }
        if let Some(body) = location_body.filter(|b| b.get("id").is_some()) {
            return Ok(Poll::Done(Some(body)));
        }
        match self.get_json(&token.resource_id).await? {
            Some(body) => Ok(Poll::Done(Some(body))),
            None => Err(ArmError::NotFound {
                code: "ResourceNotFound".to_string(),
                message: format!(
                    "{} {} succeeded but the resource is not found",
                    token.method, token.resource_id
                ),
            }),
        }
    }

    /// Polls until the operation is done, sleeping as ARM advises between polls.
    pub async fn wait(
        &self,
        token: &OperationToken,
    ) -> Result<Option<serde_json::Value>, ArmError> {
        loop {
            match self.poll(token).await? {
                Poll::Done(v) => return Ok(v),
                Poll::Failed(e) => return Err(e),
                Poll::InProgress { retry_after } => tokio::time::sleep(retry_after).await,
            }
        }
    }

    /// PUT or PATCH and wait for completion; returns the resource.
    pub async fn write_and_wait<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        id: &ResourceId,
        body: &B,
    ) -> Result<T, ArmError> {
        match self.write(method, id, body, None).await? {
            Write::Done(v) => Ok(v),
            Write::Pending(token) => self.wait_for_resource(&token).await,
        }
    }

    /// [`ArmClient::write_and_wait`] with PUT.
    pub async fn put_and_wait<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<T, ArmError> {
        self.write_and_wait(Method::Put, id, body).await
    }

    /// [`ArmClient::write_and_wait`] with PATCH.
    pub async fn patch_and_wait<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &ResourceId,
        body: &B,
    ) -> Result<T, ArmError> {
        self.write_and_wait(Method::Patch, id, body).await
    }

    /// DELETE and wait until the resource is gone.
    pub async fn delete_and_wait(&self, id: &ResourceId) -> Result<(), ArmError> {
        match self.delete(id).await? {
            Deleted::Gone => Ok(()),
            Deleted::Pending(token) => self.wait(&token).await.map(|_| ()),
        }
    }

    async fn wait_for_resource<T: DeserializeOwned>(
        &self,
        token: &OperationToken,
    ) -> Result<T, ArmError> {
        let what = format!("{} {}", token.method, token.resource_id);
        match self.wait(token).await? {
            Some(v) => decode(v, &what),
            None => Err(ArmError::InvalidResponse(format!(
                "{what}: finished without a resource"
            ))),
        }
    }
}
