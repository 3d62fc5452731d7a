//! The one list of arclink kinds. What is kept per kind is derived from it where it is used:
//! the kind names ([`crate::api::KINDS`]), the CRDs ([`crate::api::crds::all`]), the
//! controllers' caches ([`crate::controller::Stores`]) and the controllers started
//! (`controller/run.rs`), and the declared object of `plan`/`apply` ([`crate::offline::object::Object`]
//! and its reconcile step).
//!
//! A kind is its API type (`api/`), its reconcile module (`reconcile/`, the engine's `Managed`),
//! its controller hooks (`controller::kind::Kind`), what `plan`/`apply` need to know of it
//! (`offline::object::OfflineKind`), and one line here.

/// Calls `$then!` with one `Variant(Type) field,` per kind, in dependency order (a kind before
/// the kinds that refer to it): `Type` is the kind's API type in [`crate::api`] (its name is the
/// kind), `Variant` its variant of [`crate::offline::object::Object`], `field` its cache in
/// [`crate::controller::Stores`].
macro_rules! kinds {
    ($then:ident) => {
        $then! {
            Scope(ArcPrivateLinkScope) scopes,
            MonitorScope(ArcMonitorPrivateLinkScope) monitor_scopes,
            ManagementLink(ArcResourceManagementPrivateLink) management_links,
            Endpoint(ArcPrivateEndpoint) endpoints,
            Association(ArcServerAssociation) associations,
        }
    };
}

pub(crate) use kinds;

#[cfg(test)]
mod tests {
    use kube::Resource;

    use crate::api::KINDS;
    use crate::reconcile::engine::Managed;

    /// Each kind's name, taken from its type's name, is what kube and the engine call it.
    #[test]
    fn names_are_the_kinds() {
        macro_rules! check {
            ($($variant:ident($kind:ident) $field:ident,)*) => {
                let kinds = [$(
                    (crate::api::$kind::kind(&()), <crate::api::$kind as Managed>::KIND)
                ),*];
                assert_eq!(kinds.len(), KINDS.len());
                for ((kube, engine), name) in kinds.into_iter().zip(KINDS) {
                    assert_eq!((kube.as_ref(), engine), (name, name));
                }
            };
        }
        kinds!(check);
    }
}
