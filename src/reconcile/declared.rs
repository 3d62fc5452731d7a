//! What the other declared objects mean for one object: the scope it refers to, the endpoints
//! declared before it in its virtual network, the associations that claim its machines. Each
//! kind says so once, next to its reconcile ([`Dependent`]), with the helpers here; the
//! controller (its caches of the cluster) and `plan`/`apply` (the manifests) only say what is
//! declared, so the two cannot disagree.

use std::sync::Arc;

use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};

use super::Settings;
use super::scope;
use super::scope_ref::ScopeSource;
use crate::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation, ScopeRef};

/// The declared objects of kind `K`, in every namespace.
pub trait Declares<K> {
    fn all(&self) -> Vec<Arc<K>>;
}

macro_rules! declared {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// The arclink objects declared besides the one being reconciled: every kind of
        /// [`crate::kinds`].
        pub trait Declared: $(Declares<crate::api::$kind> +)* {
            /// The ArcPrivateLinkScope `name` in `namespace`, if declared.
            fn scope(&self, namespace: &str, name: &str) -> Option<Arc<ArcPrivateLinkScope>> {
                self.named(namespace, name)
            }

            /// The object of kind `K` named `name` in `namespace`, if declared.
            fn named<K>(&self, namespace: &str, name: &str) -> Option<Arc<K>>
            where
                Self: Declares<K>,
                K: Resource,
            {
                Declares::<K>::all(self)
                    .into_iter()
                    .find(|o| o.namespace().as_deref() == Some(namespace) && o.name_any() == name)
            }

            fn endpoints(&self) -> Vec<Arc<ArcPrivateEndpoint>> {
                self.all()
            }

            fn associations(&self) -> Vec<Arc<ArcServerAssociation>> {
                self.all()
            }
        }

        impl<T> Declared for T where T: $(Declares<crate::api::$kind> +)* {}
    };
}
crate::kinds::kinds!(declared);

/// What an object needs to know about the others to be reconciled.
pub trait Dependent: super::engine::Managed {
    fn deps(&self, declared: &impl Declared, settings: &Settings) -> Self::Deps;
}

/// Who came first: creation time, then namespace and name (an object the API server has not
/// stored yet has no creation time and counts as the newest).
pub(super) fn order(meta: &ObjectMeta) -> (bool, Option<jiff::Timestamp>, String, String) {
    let created = meta.creation_timestamp.as_ref().map(|t| t.0);
    (
        created.is_none(),
        created,
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// `spec.scopeRef` as the declared scope of the same namespace, or `spec.scopeId`.
pub(super) fn source(
    declared: &impl Declared,
    namespace: &str,
    scope_ref: &Option<ScopeRef>,
    scope_id: &Option<String>,
) -> ScopeSource {
    match (scope_ref, scope_id) {
        (Some(r), _) => ScopeSource::Ref {
            name: r.name.clone(),
            object: declared
                .scope(namespace, &r.name)
                .map(|s| Box::new(ArcPrivateLinkScope::clone(&s))),
        },
        (None, id) => ScopeSource::Id(id.clone().unwrap_or_default()),
    }
}

/// The ARM id of the scope an object points at, when it can be told without ARM.
pub(super) fn scope_id(
    declared: &impl Declared,
    settings: &Settings,
    namespace: &str,
    scope_ref: &Option<ScopeRef>,
    id: &Option<String>,
) -> Option<String> {
    match (scope_ref, id) {
        (Some(r), _) => declared
            .scope(namespace, &r.name)
            .and_then(|s| scope::scope_id(&s, settings).ok())
            .map(|id| id.to_string()),
        (None, id) => id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::api::{
        ArcMonitorPrivateLinkScope, ArcPrivateEndpointSpec, ArcPrivateLinkScopeSpec,
        ArcResourceManagementPrivateLink, AzureResource,
    };
    use crate::reconcile::endpoint::target::TargetSource;

    /// A declared set held in vectors.
    #[derive(Default)]
    struct Set {
        scopes: Vec<Arc<ArcPrivateLinkScope>>,
        endpoints: Vec<Arc<ArcPrivateEndpoint>>,
    }

    impl Declares<ArcPrivateLinkScope> for Set {
        fn all(&self) -> Vec<Arc<ArcPrivateLinkScope>> {
            self.scopes.clone()
        }
    }

    impl Declares<ArcPrivateEndpoint> for Set {
        fn all(&self) -> Vec<Arc<ArcPrivateEndpoint>> {
            self.endpoints.clone()
        }
    }

    impl Declares<ArcServerAssociation> for Set {
        fn all(&self) -> Vec<Arc<ArcServerAssociation>> {
            Vec::new()
        }
    }

    impl Declares<ArcMonitorPrivateLinkScope> for Set {
        fn all(&self) -> Vec<Arc<ArcMonitorPrivateLinkScope>> {
            Vec::new()
        }
    }

    impl Declares<ArcResourceManagementPrivateLink> for Set {
        fn all(&self) -> Vec<Arc<ArcResourceManagementPrivateLink>> {
            Vec::new()
        }
    }

    const VNET: &str =
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v";

    fn endpoint(
        name: &str,
        created: Option<i64>,
        vnet: &str,
        scope_ref: Option<&str>,
        scope_id: Option<&str>,
    ) -> ArcPrivateEndpoint {
        let mut e = ArcPrivateEndpoint::new(
            name,
            ArcPrivateEndpointSpec {
                azure: AzureResource {
                    subscription_id: Some("sub".into()),
                    resource_group: "rg".into(),
                    name: None,
                },
                location: "eastus".into(),
                subnet_id: format!("{vnet}/subnets/{name}"),
                scope_ref: scope_ref.map(|n| ScopeRef { name: n.into() }),
                scope_id: scope_id.map(str::to_string),
                ..Default::default()
            },
        );
        e.metadata.namespace = Some("ns".into());
        e.metadata.creation_timestamp =
            created.map(|s| Time(jiff::Timestamp::from_second(s).unwrap()));
        e
    }

    #[test]
    fn only_earlier_endpoints_of_the_vnet_with_a_known_scope_are_peers() {
        let mut scope = ArcPrivateLinkScope::new(
            "s1",
            ArcPrivateLinkScopeSpec {
                azure: AzureResource {
                    subscription_id: Some("sub".into()),
                    resource_group: "rg-arc".into(),
                    name: Some("azure-s1".into()),
                },
                location: "eastus".into(),
                ..Default::default()
            },
        );
        scope.metadata.namespace = Some("ns".into());
        let me = endpoint("me", Some(100), VNET, Some("s1"), None);
        let other_vnet = format!("{VNET}-2");
        let set = Set {
            scopes: vec![Arc::new(scope)],
            endpoints: [
                endpoint("old-ref", Some(50), VNET, Some("s1"), None),
                endpoint(
                    "old-id",
                    Some(60),
                    VNET,
                    None,
                    Some("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/x"),
                ),
                endpoint("old-other-vnet", Some(10), &other_vnet, Some("s1"), None),
                endpoint("old-missing-scope", Some(70), VNET, Some("nope"), None),
                endpoint("a-same-time", Some(100), VNET, Some("s1"), None),
                endpoint("z-same-time", Some(100), VNET, Some("s1"), None),
                endpoint("newer", Some(200), VNET, Some("s1"), None),
                endpoint("not-stored-yet", None, VNET, Some("s1"), None),
                me.clone(),
            ]
            .into_iter()
            .map(Arc::new)
            .collect(),
        };
        let deps = me.deps(&set, &Settings::new("c"));
        let names: Vec<&str> = deps.peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ns/old-ref", "ns/old-id", "ns/a-same-time"]);
        assert_eq!(
            deps.peers[0].scope_id,
            "/subscriptions/sub/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/azure-s1"
        );
        assert!(deps.peers[1].scope_id.ends_with("/privateLinkScopes/x"));
        assert!(
            matches!(deps.target, TargetSource::Scope(ScopeSource::Ref { ref name, object: Some(_) }) if name == "s1")
        );

        // An endpoint not stored yet comes after every stored one.
        let newcomer = endpoint("not-stored-yet", None, VNET, Some("s1"), None);
        assert_eq!(newcomer.deps(&set, &Settings::new("c")).peers.len(), 6);
    }
}
