//! The spec and status fields the kinds share, each written once and pulled into every kind's
//! spec and status with `#[serde(flatten)]` (the CRD lists them as the kind's own fields).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::common::*;

/// The spec fields of every kind that owns an Azure resource: its tags, how arclink treats it,
/// and how to reach Azure.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonSpec {
    /// Azure tags for the resource. arclink adds `managed-by` and `arclink-owner` itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = MAX_USER_TAGS, "additionalProperties" = {"type": "string", "maxLength": 256}))]
    #[x_kube(
        validation = Rule::new(RESERVED_TAGS_RULE).message(RESERVED_TAGS_MESSAGE),
        validation = Rule::new(TAG_KEYS_RULE).message(TAG_KEYS_MESSAGE)
    )]
    pub tags: BTreeMap<String, String>,
    /// Drift, deletion and adoption policy.
    #[serde(default)]
    pub policy: Policy,
    /// Do nothing at all while true (no Azure calls).
    #[serde(default)]
    pub suspend: bool,
    /// Secret with Azure credentials in this namespace; see the README for the lookup order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_ref: Option<CredentialRef>,
}

/// The status fields every kind has. `A` is what the status of a kind that writes ARM
/// resources adds ([`ArmStatus`]); the association, which only points machines at a scope,
/// adds nothing ([`NoArmStatus`]).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus<A = ArmStatus> {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When a reconcile that read Azure last changed this status (RFC 3339); not rewritten in
    /// steady state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    /// Reconciles in a row that failed with a transient ARM error (reset when Ready or when the
    /// spec changes); at 6 the object is `Stalled` until the next drift check.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_attempts: u32,
    /// `Ready`, `Reconciling`, `Stalled` and `Drifted` (kstatus-compatible).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(flatten)]
    pub arm: A,
}

/// What the status of a kind that writes ARM resources keeps besides [`CommonStatus`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArmStatus {
    /// ARM operation in flight on the object's own resource, resumed after a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<PendingOperation>,
    /// ARM operations in flight on the resources the object manages besides its own (an
    /// endpoint's private DNS zones, virtual network links, zone group, security rules and
    /// connection approval, and their deletions), resumed after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<PendingOperation>,
    /// Fields where Azure differs from the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftEntry>,
    /// Fields arclink corrected lately, with how many drift checks in a row found them changed
    /// to the same value; after 3 corrections another writer is taken to set them too, and
    /// arclink stops writing them (`Drifted/FightingAnotherWriter`) until the spec changes or
    /// Azure shows the desired value again. At most 16, those left alone and the most recent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<Correction>,
}

/// A field arclink corrected, from which value, and how often in a row.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    /// The drift path, as in `drift`.
    pub path: String,
    /// The value arclink writes.
    pub desired: String,
    /// The value Azure showed each time.
    pub actual: String,
    /// Drift checks in a row that found it changed from `desired` to `actual`: corrected up
    /// to 3, left alone beyond.
    pub count: u32,
    /// When it was last found so (RFC 3339).
    pub last_seen: String,
}

/// No [`ArmStatus`]: for a kind that keeps no operation and lists no drift field by field.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct NoArmStatus {}

/// Whether a status keeps [`ArmStatus`].
pub trait ArmFields {
    fn arm(&mut self) -> Option<&mut ArmStatus>;
}

impl ArmFields for ArmStatus {
    fn arm(&mut self) -> Option<&mut ArmStatus> {
        Some(self)
    }
}

impl ArmFields for NoArmStatus {
    fn arm(&mut self) -> Option<&mut ArmStatus> {
        None
    }
}

impl<A: ArmFields> CommonStatus<A> {
    /// The operation kept so that a restarted controller resumes it, for kinds that keep one.
    pub fn operation(&mut self) -> Option<&mut Option<PendingOperation>> {
        self.arm.arm().map(|arm| &mut arm.operation)
    }

    /// The operations of writes of the resources the object manages besides its own.
    pub fn operations(&mut self) -> Option<&mut Vec<PendingOperation>> {
        self.arm.arm().map(|arm| &mut arm.operations)
    }

    /// `status.drift`, for kinds that list differences field by field.
    pub fn drift(&mut self) -> Option<&mut Vec<DriftEntry>> {
        self.arm.arm().map(|arm| &mut arm.drift)
    }

    /// `status.corrections`, for kinds that list differences field by field.
    pub fn corrections(&mut self) -> Option<&mut Vec<Correction>> {
        self.arm.arm().map(|arm| &mut arm.corrections)
    }
}

/// A kind's status, as the reconcile engine and the controller see it: its [`CommonStatus`].
pub trait ManagedStatus:
    Default + Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    type Arm: ArmFields;

    fn common(&self) -> &CommonStatus<Self::Arm>;
    fn common_mut(&mut self) -> &mut CommonStatus<Self::Arm>;
}

/// Implements [`ManagedStatus`] for a status that keeps its [`CommonStatus<$arm>`] in `common`.
macro_rules! managed_status {
    ($status:ty, $arm:ty) => {
        impl $crate::api::ManagedStatus for $status {
            type Arm = $arm;

            fn common(&self) -> &$crate::api::CommonStatus<$arm> {
                &self.common
            }

            fn common_mut(&mut self) -> &mut $crate::api::CommonStatus<$arm> {
                &mut self.common
            }
        }
    };
}
pub(crate) use managed_status;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{
        ArcPrivateEndpoint, ArcPrivateLinkScope, ArcPrivateLinkScopeStatus, ArcServerAssociation,
        ArcServerAssociationStatus,
    };

    fn example<T: DeserializeOwned>(file: &str) -> T {
        let path = format!("{}/deploy/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// serde buffers flattened fields: YAML read straight into the kinds still fills them.
    #[test]
    fn the_examples_read_into_the_common_blocks() {
        let scope: ArcPrivateLinkScope = example("01-scope.yaml");
        let common = &scope.spec.common;
        assert_eq!(
            common.tags.get("team").map(String::as_str),
            Some("platform")
        );
        assert_eq!(common.policy.drift_check_interval.as_deref(), Some("10m"));
        assert!(!common.policy.adopt && !common.suspend);
        let endpoint: ArcPrivateEndpoint = example("02-endpoint.yaml");
        assert!(endpoint.spec.common.credential_ref.is_none());
        let association: ArcServerAssociation = example("03-association.yaml");
        assert!(association.spec.scope_ref.is_some());
        let monitor: crate::api::ArcMonitorPrivateLinkScope = example("04-monitor-scope.yaml");
        assert_eq!(monitor.spec.scoped_resources.len(), 2);
        assert_eq!(
            monitor.spec.common.tags.get("team").map(String::as_str),
            Some("platform")
        );
    }

    /// The common fields are the status's own fields on the wire; the association has no
    /// `operation` or `drift`.
    #[test]
    fn status_fields_round_trip_flat() {
        let scope = json!({
            "resourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/p",
            "observedGeneration": 3,
            "lastSyncTime": "2025-01-01T00:00:00Z",
            "failedAttempts": 2,
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "", "lastTransitionTime": "2025-01-01T00:00:00Z"}],
            "operation": {"action": "Create", "resourceId": "x", "token": "t", "startedAt": "2025-01-01T00:00:00Z"},
            "drift": [{"path": "tags.team", "desired": "a", "actual": "b"}],
        });
        let mut typed: ArcPrivateLinkScopeStatus = serde_json::from_value(scope.clone()).unwrap();
        assert_eq!(typed.common().observed_generation, Some(3));
        assert_eq!(typed.common().failed_attempts, 2);
        assert!(
            typed
                .common_mut()
                .operation()
                .is_some_and(|op| op.is_some())
        );
        assert_eq!(typed.common_mut().drift().map(|d| d.len()), Some(1));
        assert_eq!(serde_json::to_value(&typed).unwrap(), scope);

        let association = json!({"summary": {"matched": 1, "associated": 1, "pending": 0, "conflict": 0, "regionMismatch": 0, "notFound": 0, "failed": 0}, "observedGeneration": 1});
        let mut typed: ArcServerAssociationStatus =
            serde_json::from_value(association.clone()).unwrap();
        assert!(typed.common_mut().operation().is_none());
        assert!(typed.common_mut().drift().is_none());
        assert_eq!(serde_json::to_value(&typed).unwrap(), association);
    }
}
