//! The CustomResourceDefinitions of the kinds, as `arclink crds` prints them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

macro_rules! all {
    ($($variant:ident($kind:ident) $field:ident,)*) => {
        /// The CRDs, in dependency order.
        pub fn all() -> Vec<CustomResourceDefinition> {
            vec![$(super::$kind::crd()),*]
        }
    };
}
crate::kinds::kinds!(all);

/// All CRDs as one multi-document YAML stream.
pub fn render() -> Result<String, serde_saphyr::SerializeError> {
    let mut out = String::new();
    for crd in all() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}

/// The CRD's openAPIV3Schema as JSON, for validation.
pub fn schema_of(crd: &CustomResourceDefinition) -> serde_json::Value {
    crd.spec
        .versions
        .first()
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(serde_json::Value::Null)
}
