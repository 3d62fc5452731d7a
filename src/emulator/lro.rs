//! Long-running operations: status resources (`operationStatuses`, polled via
//! `Azure-AsyncOperation`) and result resources (`operationResults`, polled via `Location`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl OpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::InProgress => "InProgress",
            OpStatus::Succeeded => "Succeeded",
            OpStatus::Failed => "Failed",
            OpStatus::Canceled => "Canceled",
        }
    }
}

/// How an operation will end, decided when it starts (faults can make it fail or cancel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Succeed,
    Fail { code: String, message: String },
    Cancel,
}

/// How a client follows an operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Poll {
    /// `Azure-AsyncOperation` (status resource) — Network PUTs.
    AsyncOperation,
    /// `Location` (result resource) — deletes, HybridCompute and Private DNS operations.
    Location,
    /// `Location` only, pointing at a status resource of this type in the request's resource
    /// group, which answers 200 with the operation's `status` (Insights'
    /// `privateLinkScopeOperationStatuses`).
    LocationAt(&'static str),
}

/// What completing the operation does to the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// The resource (lower-cased key) leaves its transitional provisioning state.
    Provision { key: String },
    /// The resource and what hangs off it are removed.
    Delete { key: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    pub subscription: String,
    pub namespace: String,
    pub location: String,
    pub api_version: String,
    pub start: Timestamp,
    pub due: Timestamp,
    pub end: Option<Timestamp>,
    pub status: OpStatus,
    pub outcome: Outcome,
    pub effect: Effect,
    /// Resources the operation holds busy besides its own (a security rule's group): they are
    /// `Succeeded` again when it ends, however it ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<String>,
}

impl Operation {
    pub fn status_path(&self, kind: &str) -> String {
        format!(
            "/subscriptions/{}/providers/{}/locations/{}/{kind}/{}",
            self.subscription, self.namespace, self.location, self.name
        )
    }

    pub fn status_body(&self) -> Value {
        let mut body = json!({
            "id": self.status_path("operationStatuses"),
            "name": self.name,
            "status": self.status.as_str(),
            "startTime": self.start.to_string(),
        });
        if let Some(end) = self.end {
            body["endTime"] = json!(end.to_string());
        }
        match (&self.status, &self.outcome) {
            (OpStatus::Failed, Outcome::Fail { code, message }) => {
                body["error"] = json!({"code": code, "message": message});
            }
            (OpStatus::Canceled, _) => {
                body["error"] =
                    json!({"code": "OperationCanceled", "message": "The operation was canceled."});
            }
            _ => {}
        }
        body
    }
}

#[derive(Default)]
pub struct Operations {
    pub ops: Mutex<HashMap<String, Operation>>,
    pub pending: AtomicUsize,
}

impl Operations {
    pub fn insert(&self, op: Operation) {
        let mut ops = self.ops.lock();
        if op.status == OpStatus::InProgress {
            self.pending.fetch_add(1, Ordering::Relaxed);
        }
        ops.insert(op.name.to_ascii_lowercase(), op);
    }

    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Relaxed) > 0
    }
}
