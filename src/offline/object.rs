//! A declared object of one of the arclink kinds, as `plan`/`apply` hold it: typed from a
//! manifest, with its status kept in memory (there is no Kubernetes to store it).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::ObjectMeta;
use kube::core::object::HasStatus;
use serde::Serialize;
use serde_json::Value;

use crate::api::ScopeRef;
use crate::api::{
    ArcMonitorPrivateLinkScope, ArcPrivateEndpoint, ArcPrivateLinkScope,
    ArcResourceManagementPrivateLink, ArcServerAssociation, KINDS, ManagedStatus,
};
use crate::azure::ResourceId;
use crate::reconcile::declared::Dependent;
use crate::reconcile::endpoint::reference::Referable;
use crate::reconcile::engine::Managed;
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

/// An object of the manifests that another one refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    /// Its kind.
    pub kind: &'static str,
    /// The referring field of the spec (`scopeRef`).
    pub field: &'static str,
    /// Its name, in the referring object's namespace.
    pub name: &'a str,
}

/// What `plan`/`apply` need to know of a kind besides its reconcile; a kind states only what
/// differs from the defaults.
pub trait OfflineKind:
    Dependent
    + HasStatus<Status = <Self as Managed>::Status>
    + Clone
    + fmt::Debug
    + serde::de::DeserializeOwned
    + 'static
{
    /// Whether objects of other kinds wait for this one to be Ready: `plan` then evaluates them
    /// as if a planned update of it were applied.
    const DEPENDED_ON: bool = false;

    /// The object (same namespace, of a kind [`Self::DEPENDED_ON`]) this one refers to and
    /// waits for (`spec.scopeRef`, an endpoint's `monitorScopeRef`).
    fn reference(&self) -> Option<Reference<'_>> {
        None
    }

    /// The ARM id of the Azure resource the object creates, when its subscription is known.
    fn azure_id(&self, _settings: &Settings) -> Option<ResourceId> {
        None
    }

    /// A field the controller honours by writing into the cluster, which `plan`/`apply`
    /// therefore do not honour, with what happens instead.
    fn cluster_only(&self) -> Option<&'static str> {
        None
    }

    /// What the controller would write into the object's onboarding ConfigMap, from its
    /// in-memory status.
    fn onboarding(&self, _settings: &Settings) -> Option<Onboarding> {
        None
    }
}

impl OfflineKind for ArcPrivateLinkScope {
    const DEPENDED_ON: bool = true;

    fn azure_id(&self, settings: &Settings) -> Option<ResourceId> {
        reconcile::scope::scope_id(self, settings).ok()
    }

    fn cluster_only(&self) -> Option<&'static str> {
        self.spec.onboarding.as_ref().map(|_| {
            "spec.onboarding is not written offline (no cluster to hold the ConfigMap): its commands are printed instead"
        })
    }

    fn onboarding(&self, settings: &Settings) -> Option<Onboarding> {
        let name = self.spec.onboarding.as_ref()?.config_map_name.clone();
        match onboarding::Connect::of(self, settings) {
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
}

impl OfflineKind for ArcPrivateEndpoint {
    fn reference(&self) -> Option<Reference<'_>> {
        scope_reference(&self.spec.scope_ref)
            .or_else(|| declared_reference::<ArcMonitorPrivateLinkScope>(self))
            .or_else(|| declared_reference::<ArcResourceManagementPrivateLink>(self))
    }

    fn azure_id(&self, settings: &Settings) -> Option<ResourceId> {
        reconcile::endpoint::endpoint_id(self, settings).ok()
    }

    fn cluster_only(&self) -> Option<&'static str> {
        self.spec.dns_export.as_ref().map(|_| {
            "spec.dnsExport is not written offline (no cluster to hold the ConfigMap): the DNS records are shown in the status instead"
        })
    }
}

/// Endpoints wait for it (`resourceManagementLinkRef`): plan evaluates them as after its
/// update.
impl OfflineKind for ArcResourceManagementPrivateLink {
    const DEPENDED_ON: bool = true;

    fn azure_id(&self, settings: &Settings) -> Option<ResourceId> {
        reconcile::management_link::link_id(self, settings).ok()
    }
}

/// Endpoints will wait for it (`monitorScopeRef`): plan evaluates them as after its update.
impl OfflineKind for ArcMonitorPrivateLinkScope {
    const DEPENDED_ON: bool = true;

    fn azure_id(&self, settings: &Settings) -> Option<ResourceId> {
        reconcile::monitor_scope::scope_id(self, settings).ok()
    }
}

/// Associations only point machines at a scope: they create no Azure resource of their own.
impl OfflineKind for ArcServerAssociation {
    fn reference(&self) -> Option<Reference<'_>> {
        scope_reference(&self.spec.scope_ref)
    }
}

/// `spec.scopeRef`.
fn scope_reference(scope_ref: &Option<ScopeRef>) -> Option<Reference<'_>> {
    scope_ref.as_ref().map(|r| Reference {
        kind: reconcile::scope::KIND,
        field: "scopeRef",
        name: &r.name,
    })
}

/// An endpoint's reference to a `K` (`spec.monitorScopeRef.name`).
fn declared_reference<K: Referable>(endpoint: &ArcPrivateEndpoint) -> Option<Reference<'_>> {
    K::reference(endpoint).map(|r| Reference {
        kind: K::KIND,
        field: K::FIELD,
        name: &r.name,
    })
}

macro_rules! object {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// A declared object of one of the kinds.
        #[derive(Clone, Debug)]
        pub enum Object {
            $($variant(Arc<crate::api::$kind>),)*
        }

        impl Object {
            /// Types a validated document of `kind`.
            pub fn from_value(kind: &str, value: Value) -> Result<Object, String> {
                match kind {
                    $(stringify!($kind) => serde_json::from_value(value)
                        .map(|o| Object::$variant(Arc::new(o)))
                        .map_err(|e| e.to_string()),)*
                    other => Err(format!("kind {other:?} is not an arclink kind")),
                }
            }

            fn get(&self) -> &dyn AnyObject {
                match self {
                    $(Object::$variant(o) => o,)*
                }
            }

            fn get_mut(&mut self) -> &mut dyn AnyObject {
                match self {
                    $(Object::$variant(o) => o,)*
                }
            }
        }
    };
}
crate::kinds::kinds!(object);

impl Object {
    /// The object if it is of kind `K`.
    pub fn downcast<K: OfflineKind>(&self) -> Option<&Arc<K>> {
        self.get().as_any().downcast_ref()
    }

    /// The object if it is of kind `K`, to store its status.
    pub fn downcast_mut<K: OfflineKind>(&mut self) -> Option<&mut Arc<K>> {
        self.get_mut().as_any_mut().downcast_mut()
    }

    pub fn kind(&self) -> &'static str {
        self.get().kind()
    }

    pub fn key(&self) -> ObjectKey {
        let meta = self.get().meta();
        ObjectKey {
            kind: self.kind().to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        }
    }

    /// Dependency order first ([`KINDS`]: what is referred to before what refers to it), then
    /// namespace and name.
    pub fn sort_key(&self) -> (usize, String, String) {
        let key = self.key();
        let rank = KINDS
            .iter()
            .position(|k| *k == key.kind)
            .unwrap_or(KINDS.len());
        (rank, key.namespace, key.name)
    }

    /// The object of the same namespace this one refers to and waits for.
    pub fn reference(&self) -> Option<Reference<'_>> {
        self.get().reference()
    }

    /// Whether this object is the one `other` refers to ([`Self::reference`]).
    pub fn is_referred_to_by(&self, other: &Object) -> bool {
        let (me, them) = (self.key(), other.key());
        other.reference().is_some_and(|r| {
            r.kind == me.kind && r.name == me.name && them.namespace == me.namespace
        })
    }

    /// The ARM id of the Azure resource the object creates (scopes and endpoints; associations
    /// only point machines at a scope), when its subscription is known.
    pub fn azure_id(&self, default_subscription: Option<&str>) -> Option<String> {
        let settings = Settings {
            default_subscription: default_subscription.map(str::to_string),
            ..Settings::new("")
        };
        self.get().azure_id(&settings).map(|id| id.to_string())
    }

    /// Fields that need a cluster and are therefore not honoured offline, with what happens
    /// instead.
    pub fn offline_limits(&self) -> Vec<&'static str> {
        self.get().offline_limits()
    }

    /// What the controller would write into a scope's `spec.onboarding` ConfigMap, from the
    /// in-memory status (`None` for other kinds, or without `spec.onboarding`).
    pub fn onboarding(&self, settings: &Settings) -> Option<Onboarding> {
        self.get().onboarding(settings)
    }

    /// Sets a creation time from the declaration order, unless the manifest has one, so that
    /// conflicts between associations are decided as in a cluster where the objects were
    /// created in that order: the earlier one wins.
    pub fn set_declared(&mut self, order: usize) {
        let meta = self.get_mut().meta_mut();
        if meta.creation_timestamp.is_none() {
            let offset = jiff::SignedDuration::from_secs(i64::try_from(order).unwrap_or(i64::MAX));
            let at = jiff::Timestamp::UNIX_EPOCH
                .checked_add(offset)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            meta.creation_timestamp = Some(Time(at));
        }
    }

    /// Marks the object as being deleted (`metadata.deletionTimestamp`), as `arclink delete`
    /// deletes every object of the manifests: none of them keeps machines for another.
    pub fn mark_deleted(&mut self) {
        self.get_mut().meta_mut().deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    }

    /// Marks an object that others depend on (a scope) Ready as it will be once a planned
    /// update is applied, so that plan evaluates the objects referring to it (other kinds:
    /// unchanged, nothing refers to them).
    pub fn project_ready(&mut self, settings: &Settings) {
        self.get_mut().project_ready(settings);
    }

    /// The conditions of the in-memory status.
    pub fn conditions(&self) -> &[Condition] {
        self.get().conditions()
    }

    /// The in-memory status as JSON (what `kubectl get -o yaml` would show).
    pub fn status(&self) -> Value {
        self.get().status()
    }
}

/// An [`Object`] whatever its kind.
trait AnyObject {
    fn kind(&self) -> &'static str;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    fn reference(&self) -> Option<Reference<'_>>;
    fn azure_id(&self, settings: &Settings) -> Option<ResourceId>;
    fn offline_limits(&self) -> Vec<&'static str>;
    fn onboarding(&self, settings: &Settings) -> Option<Onboarding>;
    fn project_ready(&mut self, settings: &Settings);
    fn conditions(&self) -> &[Condition];
    fn status(&self) -> Value;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K: OfflineKind> AnyObject for Arc<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn meta(&self) -> &ObjectMeta {
        self.as_ref().meta()
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        Arc::make_mut(self).meta_mut()
    }

    fn reference(&self) -> Option<Reference<'_>> {
        self.as_ref().reference()
    }

    fn azure_id(&self, settings: &Settings) -> Option<ResourceId> {
        self.as_ref().azure_id(settings)
    }

    fn offline_limits(&self) -> Vec<&'static str> {
        let mut limits = Vec::new();
        if self.common().credential_ref.is_some() {
            limits.push("spec.credentialRef is ignored offline (no cluster to read the Secret from): this command's own identity is used");
        }
        limits.extend(self.cluster_only());
        limits
    }

    fn onboarding(&self, settings: &Settings) -> Option<Onboarding> {
        self.as_ref().onboarding(settings)
    }

    fn project_ready(&mut self, settings: &Settings) {
        if !K::DEPENDED_ON {
            return;
        }
        let o = Arc::make_mut(self);
        let generation = o.meta().generation;
        let common = o
            .status_mut()
            .get_or_insert_with(Default::default)
            .common_mut();
        common.observed_generation = generation;
        write_conditions(
            &mut common.conditions,
            &Phase::ready("Succeeded", "after the planned update"),
            &Drift::default(),
            generation,
            jiff::Timestamp::now(),
            settings.note.as_deref(),
        );
    }

    fn conditions(&self) -> &[Condition] {
        HasStatus::status(self.as_ref()).map_or(&[], |s| &s.common().conditions)
    }

    fn status(&self) -> Value {
        serde_json::to_value(HasStatus::status(self.as_ref())).unwrap_or(Value::Null)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
