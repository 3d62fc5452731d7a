//! A declared object of one of the arclink kinds, as `plan`/`apply` hold it: typed from a
//! manifest, with its status kept in memory (there is no Kubernetes to store it).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;
use serde_json::Value;

use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation, KINDS};
use crate::reconcile::phase::write_conditions;
use crate::reconcile::scope::onboarding;
use crate::reconcile::{self, Drift, Phase, Settings};

/// kind, namespace and name of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// A scope's onboarding commands, as the controller writes them into its ConfigMap.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Onboarding {
    /// `spec.onboarding.configMapName` (not written offline).
    pub config_map_name: String,
    /// The ConfigMap's data: `connect-linux.sh`, `connect-windows.ps1`, `README.md`.
    pub data: BTreeMap<String, String>,
}

impl Onboarding {
    /// The two scripts for people, indented.
    pub fn render(&self, indent: &str) -> String {
        let mut out = format!(
            "{indent}onboarding commands (spec.onboarding.configMapName {}, printed instead of written offline):\n",
            self.config_map_name
        );
        for key in [onboarding::LINUX_KEY, onboarding::WINDOWS_KEY] {
            let Some(text) = self.data.get(key) else {
                continue;
            };
            out.push_str(&format!("{indent}  --- {key}\n"));
            for line in text.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{indent}  {line}\n"));
                }
            }
        }
        out
    }
}

/// A declared object of one of the kinds.
#[derive(Clone, Debug)]
pub enum Object {
    Scope(Arc<ArcPrivateLinkScope>),
    Endpoint(Arc<ArcPrivateEndpoint>),
    Association(Arc<ArcServerAssociation>),
}

impl Object {
    /// Types a validated document of `kind`.
    pub fn from_value(kind: &str, value: Value) -> Result<Object, String> {
        let typed = match kind {
            "ArcPrivateLinkScope" => {
                serde_json::from_value(value).map(|o| Object::Scope(Arc::new(o)))
            }
            "ArcPrivateEndpoint" => {
                serde_json::from_value(value).map(|o| Object::Endpoint(Arc::new(o)))
            }
            "ArcServerAssociation" => {
                serde_json::from_value(value).map(|o| Object::Association(Arc::new(o)))
            }
            other => return Err(format!("kind {other:?} is not an arclink kind")),
        };
        typed.map_err(|e| e.to_string())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Object::Scope(_) => KINDS[0],
            Object::Endpoint(_) => KINDS[1],
            Object::Association(_) => KINDS[2],
        }
    }

    fn meta(&self) -> &kube::api::ObjectMeta {
        match self {
            Object::Scope(o) => &o.metadata,
            Object::Endpoint(o) => &o.metadata,
            Object::Association(o) => &o.metadata,
        }
    }

    pub fn key(&self) -> ObjectKey {
        let meta = self.meta();
        ObjectKey {
            kind: self.kind().to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        }
    }

    /// Dependency order first (scopes, endpoints, associations), then namespace and name.
    pub fn sort_key(&self) -> (usize, String, String) {
        let key = self.key();
        let rank = KINDS
            .iter()
            .position(|k| *k == key.kind)
            .unwrap_or(KINDS.len());
        (rank, key.namespace, key.name)
    }

    /// `spec.scopeRef.name`, for kinds that point at a scope.
    pub fn scope_ref(&self) -> Option<&str> {
        match self {
            Object::Scope(_) => None,
            Object::Endpoint(o) => o.spec.scope_ref.as_ref().map(|r| r.name.as_str()),
            Object::Association(o) => o.spec.scope_ref.as_ref().map(|r| r.name.as_str()),
        }
    }

    /// The ARM id of the Azure resource the object creates (scopes and endpoints; associations
    /// only point machines at a scope), when its subscription is known.
    pub fn azure_id(&self, default_subscription: Option<&str>) -> Option<String> {
        let settings = Settings {
            default_subscription: default_subscription.map(str::to_string),
            ..Settings::new("")
        };
        let id = match self {
            Object::Scope(o) => reconcile::scope::scope_id(o, &settings),
            Object::Endpoint(o) => reconcile::endpoint::endpoint_id(o, &settings),
            Object::Association(_) => return None,
        };
        id.ok().map(|id| id.to_string())
    }

    /// Fields that need a cluster and are therefore not honoured offline, with what happens
    /// instead.
    pub fn offline_limits(&self) -> Vec<&'static str> {
        let mut limits = Vec::new();
        let (credential_ref, dns_export) = match self {
            Object::Scope(o) => (o.spec.credential_ref.is_some(), false),
            Object::Endpoint(o) => (o.spec.credential_ref.is_some(), o.spec.dns_export.is_some()),
            Object::Association(o) => (o.spec.credential_ref.is_some(), false),
        };
        if credential_ref {
            limits.push("spec.credentialRef is ignored offline (no cluster to read the Secret from): this command's own identity is used");
        }
        if dns_export {
            limits.push("spec.dnsExport is not written offline (no cluster to hold the ConfigMap): the DNS records are shown in the status instead");
        }
        if let Object::Scope(o) = self
            && o.spec.onboarding.is_some()
        {
            limits.push("spec.onboarding is not written offline (no cluster to hold the ConfigMap): its commands are printed instead");
        }
        limits
    }

    /// What the controller would write into a scope's `spec.onboarding` ConfigMap, from the
    /// in-memory status (`None` for other kinds, or without `spec.onboarding`).
    pub fn onboarding(&self, settings: &Settings) -> Option<Onboarding> {
        let Object::Scope(o) = self else {
            return None;
        };
        let name = o.spec.onboarding.as_ref()?.config_map_name.clone();
        match onboarding::Connect::of(o, settings) {
            Ok(connect) => Some(Onboarding {
                config_map_name: name,
                data: onboarding::config_map_data(&connect),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "onboarding commands not shown");
                None
            }
        }
    }

    /// Sets a creation time from the declaration order, unless the manifest has one, so that
    /// conflicts between associations are decided as in a cluster where the objects were
    /// created in that order: the earlier one wins.
    pub fn set_declared(&mut self, order: usize) {
        let meta = match self {
            Object::Scope(o) => &mut Arc::make_mut(o).metadata,
            Object::Endpoint(o) => &mut Arc::make_mut(o).metadata,
            Object::Association(o) => &mut Arc::make_mut(o).metadata,
        };
        if meta.creation_timestamp.is_none() {
            let offset = jiff::SignedDuration::from_secs(i64::try_from(order).unwrap_or(i64::MAX));
            let at = jiff::Timestamp::UNIX_EPOCH
                .checked_add(offset)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            meta.creation_timestamp = Some(Time(at));
        }
    }

    /// Marks a scope Ready as it will be once a planned update is applied, so that plan
    /// evaluates the objects referring to it (other kinds: unchanged, nothing refers to them).
    pub fn project_ready(&mut self, settings: &Settings) {
        if let Object::Scope(o) = self {
            let o = Arc::make_mut(o);
            let generation = o.metadata.generation;
            let status = o.status.get_or_insert_with(Default::default);
            status.observed_generation = generation;
            write_conditions(
                &mut status.conditions,
                &Phase::ready("Succeeded", "after the planned update"),
                &Drift::default(),
                generation,
                jiff::Timestamp::now(),
                settings.note.as_deref(),
            );
        }
    }

    /// The conditions of the in-memory status.
    pub fn conditions(&self) -> &[Condition] {
        let conds = match self {
            Object::Scope(o) => o.status.as_ref().map(|s| &s.conditions),
            Object::Endpoint(o) => o.status.as_ref().map(|s| &s.conditions),
            Object::Association(o) => o.status.as_ref().map(|s| &s.conditions),
        };
        conds.map(Vec::as_slice).unwrap_or_default()
    }

    /// The in-memory status as JSON (what `kubectl get -o yaml` would show).
    pub fn status(&self) -> Value {
        let status = match self {
            Object::Scope(o) => serde_json::to_value(&o.status),
            Object::Endpoint(o) => serde_json::to_value(&o.status),
            Object::Association(o) => serde_json::to_value(&o.status),
        };
        status.unwrap_or(Value::Null)
    }
}
