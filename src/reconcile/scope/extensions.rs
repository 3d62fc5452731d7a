//! `spec.serviceExtensions`: public network access per Azure Arc extension, each a field of the
//! scope like `publicNetworkAccess`. Only the extensions the spec lists are managed; the others
//! stay as Azure has them, and an empty list manages none.

use crate::api::scope::ServiceExtension as Declared;
use crate::azure::models::{PrivateLinkScope, PrivateLinkScopeProperties, ServiceExtension};
use crate::reconcile::resource::Field;

use super::properties;

/// The drift path of one extension's access, e.g.
/// `properties.serviceExtensions[SQL].serviceExtensionPublicNetworkAccess`.
pub fn path(type_: &str) -> String {
    format!("properties.serviceExtensions[{type_}].serviceExtensionPublicNetworkAccess")
}

/// Azure's entry for an extension type (compared without case).
fn find<'a>(actual: &'a [ServiceExtension], type_: &str) -> Option<&'a ServiceExtension> {
    actual.iter().find(|e| {
        e.service_extension_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(type_))
    })
}

/// A declared extension as a field of the scope: its access compared with Azure's entry
/// (missing in Azure: empty), and written into Azure's list, which keeps its order, its other
/// entries and Azure's spelling of the type (an extension Azure does not have yet is added).
pub fn field(d: &Declared) -> Field<PrivateLinkScopeProperties> {
    let (read_type, write_type) = (d.type_.clone(), d.type_.clone());
    Field::new(
        path(&d.type_),
        d.public_network_access.as_str(),
        move |s: &PrivateLinkScope| {
            let actual = s.properties.as_ref()?.service_extensions.as_deref()?;
            find(actual, &read_type)?
                .service_extension_public_network_access
                .as_deref()
        },
        move |s, access| {
            let list = properties(s)
                .service_extensions
                .get_or_insert_with(Vec::new);
            let existing = list.iter_mut().find(|e| {
                e.service_extension_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(&write_type))
            });
            match existing {
                Some(e) => e.service_extension_public_network_access = Some(access.to_string()),
                None => list.push(ServiceExtension {
                    service_extension_type: Some(write_type.clone()),
                    service_extension_public_network_access: Some(access.to_string()),
                    ..ServiceExtension::default()
                }),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DriftEntry;
    use crate::api::scope::PublicNetworkAccess;

    fn scope(actual: Option<&[ServiceExtension]>) -> PrivateLinkScope {
        PrivateLinkScope {
            properties: Some(PrivateLinkScopeProperties {
                service_extensions: actual.map(<[ServiceExtension]>::to_vec),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Each declared extension whose access differs from Azure's.
    fn drift(desired: &[Declared], actual: Option<&[ServiceExtension]>) -> Vec<DriftEntry> {
        let actual = scope(actual);
        desired
            .iter()
            .filter_map(|d| field(d).difference(&actual))
            .collect()
    }

    /// The list the declared extensions write over Azure's.
    fn merged(desired: &[Declared], actual: Option<&[ServiceExtension]>) -> Vec<ServiceExtension> {
        let mut body = scope(actual);
        for d in desired {
            field(d).apply(&mut body);
        }
        body.properties
            .and_then(|p| p.service_extensions)
            .unwrap_or_default()
    }

    fn declared(type_: &str, access: PublicNetworkAccess) -> Declared {
        Declared {
            type_: type_.into(),
            public_network_access: access,
        }
    }

    fn azure(type_: &str, access: &str) -> ServiceExtension {
        ServiceExtension {
            service_extension_type: Some(type_.into()),
            service_extension_public_network_access: Some(access.into()),
            ..ServiceExtension::default()
        }
    }

    #[test]
    fn nothing_declared_leaves_azure_alone() {
        let actual = [azure("SQL", "Enabled"), azure("Other", "Disabled")];
        assert!(drift(&[], Some(&actual)).is_empty());
        assert!(drift(&[], None).is_empty());
        assert_eq!(merged(&[], Some(&actual)), actual.to_vec());
    }

    #[test]
    fn a_declared_extension_is_compared_field_by_field_without_case() {
        let want = [declared("sql", PublicNetworkAccess::Disabled)];
        let d = drift(&want, Some(&[azure("SQL", "Enabled")]));
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].path,
            "properties.serviceExtensions[sql].serviceExtensionPublicNetworkAccess"
        );
        assert_eq!(
            (d[0].desired.as_str(), d[0].actual.as_str()),
            ("Disabled", "Enabled")
        );
        assert!(drift(&want, Some(&[azure("SQL", "disabled")])).is_empty());
    }

    #[test]
    fn a_declared_extension_missing_in_azure_is_drift() {
        let want = [declared("SQL", PublicNetworkAccess::Disabled)];
        let d = drift(&want, None);
        assert_eq!(
            (d[0].desired.as_str(), d[0].actual.as_str()),
            ("Disabled", "")
        );
        let d = drift(&want, Some(&[azure("Other", "Disabled")]));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn the_written_list_keeps_undeclared_extensions_and_unknown_fields() {
        let mut sql = azure("SQL", "Enabled");
        sql.extra.insert("future".into(), serde_json::json!(1));
        let actual = [azure("Other", "Enabled"), sql];
        let want = [
            declared("sql", PublicNetworkAccess::Disabled),
            declared("New", PublicNetworkAccess::Enabled),
        ];
        let out = merged(&want, Some(&actual));
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            serde_json::json!([
                {"serviceExtensionType": "Other", "serviceExtensionPublicNetworkAccess": "Enabled"},
                {"serviceExtensionType": "SQL", "serviceExtensionPublicNetworkAccess": "Disabled", "future": 1},
                {"serviceExtensionType": "New", "serviceExtensionPublicNetworkAccess": "Enabled"}
            ])
        );
        assert!(
            drift(&want, Some(&out)).is_empty(),
            "what is written is in sync"
        );
    }
}
