//! Which Azure identity an object uses (DESIGN.md section 4), and one ARM client per identity.
//!
//! Order: `spec.credentialRef` Secret (same namespace) -> Secret `arclink-credential` in the
//! object's namespace -> the controller's own identity. Secrets are read with `get` only; their
//! values never reach logs, status or events.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::api::CredentialRef;
use crate::azure::{
    ApiVersions, ArmClient, ArmClientOptions, ArmError, Cloud, CredentialCache, CredentialSource,
    RateLimits,
};

/// Secret consulted when an object names none.
pub const DEFAULT_SECRET: &str = "arclink-credential";

/// Why no ARM client could be made for an object.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialError {
    /// Reason `CredentialsNotFound`.
    #[error("{0}")]
    NotFound(String),
    /// Reason `AuthenticationFailed`.
    #[error("{0}")]
    Invalid(String),
    /// The Secret could not be read for a passing reason (API server unavailable, throttled):
    /// retry later rather than report the object or fall back to another identity.
    #[error("{0}")]
    Unavailable(String),
}

/// Everything needed to build ARM clients.
#[derive(Clone)]
pub struct ArmConfig {
    pub cloud: Cloud,
    pub ca_pem: Option<String>,
    pub api_versions: ApiVersions,
    pub rate_limits: RateLimits,
    /// The controller's own identity; `None` when it has none (then objects need a Secret).
    pub default_identity: Option<CredentialSource>,
}

impl ArmConfig {
    /// ARM and Entra ID served by an arclink emulator at `endpoint`, trusted through its CA.
    /// The identity is a fixed client id and secret: an emulator without configured principals
    /// accepts any (it is not a credential for Azure).
    pub fn emulator(endpoint: &str, ca_pem: &str) -> Result<ArmConfig, String> {
        let url =
            url::Url::parse(endpoint).map_err(|e| format!("emulator endpoint {endpoint}: {e}"))?;
        Ok(ArmConfig {
            cloud: Cloud::custom("arclink-emulator", url.clone(), url, endpoint),
            ca_pem: Some(ca_pem.to_string()),
            api_versions: ApiVersions::default(),
            rate_limits: RateLimits::default(),
            default_identity: Some(CredentialSource::ClientSecret {
                tenant_id: EMULATOR_TENANT.to_string(),
                client_id: "arclink-emulator".to_string(),
                secret: "emulator".to_string(),
            }),
        })
    }
}

/// Tenant id used against the emulator.
pub const EMULATOR_TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

/// One ARM client (with its token cache and rate-limit buckets) per identity.
pub struct ArmPool {
    config: ArmConfig,
    metrics: Option<crate::telemetry::Metrics>,
    credentials: CredentialCache,
    clients: Mutex<HashMap<String, ArmClient>>,
}

impl ArmPool {
    pub fn new(config: ArmConfig) -> ArmPool {
        ArmPool {
            config,
            metrics: None,
            credentials: CredentialCache::new(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Exports the metrics of every client this pool makes.
    pub fn with_metrics(mut self, metrics: crate::telemetry::Metrics) -> ArmPool {
        self.metrics = Some(metrics);
        self
    }

    /// The client for an object in `namespace` naming `credential_ref`.
    pub async fn for_object(
        &self,
        kube: &kube::Client,
        namespace: &str,
        credential_ref: Option<&CredentialRef>,
    ) -> Result<ArmClient, CredentialError> {
        let secrets: Api<Secret> = Api::namespaced(kube.clone(), namespace);
        let source = match credential_ref {
            Some(r) => {
                let secret = secrets.get_opt(&r.name).await.map_err(|e| {
                    let m = format!("reading Secret {namespace}/{} (spec.credentialRef): {e}", r.name);
                    if forbidden(&e) { CredentialError::NotFound(m) } else { CredentialError::Unavailable(m) }
                })?;
                let secret = secret.ok_or_else(|| CredentialError::NotFound(format!("Secret {namespace}/{} named by spec.credentialRef does not exist", r.name)))?;
                from_secret(&secret, namespace, &r.name)?
            }
            None => match secrets.get_opt(DEFAULT_SECRET).await {
                Ok(Some(secret)) => from_secret(&secret, namespace, DEFAULT_SECRET)?,
                // A Secret that may exist but cannot be read right now must not silently swap
                // the identity an object uses.
                Err(e) if !forbidden(&e) => {
                    return Err(CredentialError::Unavailable(format!(
                        "reading Secret {namespace}/{DEFAULT_SECRET}: {e}"
                    )));
                }
                // No namespace Secret (or no permission to read it): the controller's identity.
                Ok(None) | Err(_) => self.config.default_identity.clone().ok_or_else(|| {
                    CredentialError::NotFound(format!(
                        "no credentials: set spec.credentialRef, create Secret {namespace}/{DEFAULT_SECRET}, or give the controller an identity (workload identity or managed identity)"
                    ))
                })?,
            },
        };
        self.client_for(&source)
            .map_err(|e| CredentialError::Invalid(e.to_string()))
    }

    /// The client for `source`, created on first use.
    pub fn client_for(&self, source: &CredentialSource) -> Result<ArmClient, ArmError> {
        let key = source_key(source);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let credential = self.credentials.get_or_create(
            source,
            &self.config.cloud,
            self.config.ca_pem.as_deref(),
        )?;
        let mut options = ArmClientOptions::new(credential);
        options.cloud = self.config.cloud.clone();
        options.ca_pem = self.config.ca_pem.clone();
        options.api_versions = self.config.api_versions.clone();
        options.rate_limits = self.config.rate_limits;
        let client = ArmClient::new(options)?;
        if let Some(metrics) = &self.metrics {
            metrics.track_arm_client(&client);
        }
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// The client for the controller's own identity.
    pub fn default_client(&self) -> Result<ArmClient, ArmError> {
        let source = self
            .config
            .default_identity
            .clone()
            .ok_or_else(|| ArmError::Credential("the controller has no identity".into()))?;
        self.client_for(&source)
    }

    /// Every client made so far (for metrics).
    pub fn clients(&self) -> Vec<ArmClient> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

fn forbidden(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 403)
}

/// A key identifying the identity without holding its secret in clear.
fn source_key(source: &CredentialSource) -> String {
    use std::hash::{Hash, Hasher};
    match source {
        CredentialSource::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            secret.hash(&mut h);
            format!("secret/{tenant_id}/{client_id}/{:x}", h.finish())
        }
        other => format!("{other:?}"),
    }
}

fn from_secret(
    secret: &Secret,
    namespace: &str,
    name: &str,
) -> Result<CredentialSource, CredentialError> {
    let get = |key: &str| -> Option<String> {
        let data = secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|b| String::from_utf8(b.0.clone()).ok());
        data.or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key).cloned())
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    };
    let missing =
        |key: &str| CredentialError::NotFound(format!("Secret {namespace}/{name} has no {key}"));
    let tenant_id = get("AZURE_TENANT_ID").ok_or_else(|| missing("AZURE_TENANT_ID"))?;
    let client_id = get("AZURE_CLIENT_ID").ok_or_else(|| missing("AZURE_CLIENT_ID"))?;
    if let Some(secret) = get("AZURE_CLIENT_SECRET") {
        return Ok(CredentialSource::ClientSecret {
            tenant_id,
            client_id,
            secret,
        });
    }
    if let Some(file) = get("AZURE_FEDERATED_TOKEN_FILE") {
        return Ok(CredentialSource::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file: PathBuf::from(file),
        });
    }
    Err(CredentialError::NotFound(format!(
        "Secret {namespace}/{name} has neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE"
    )))
}

/// The controller's own identity from its environment: a client secret, then workload identity
/// (`AZURE_FEDERATED_TOKEN_FILE`), then managed identity.
pub fn identity_from_env() -> Option<CredentialSource> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (tenant, client) = (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID"));
    if let (Some(tenant_id), Some(client_id), Some(secret)) =
        (tenant.clone(), client.clone(), var("AZURE_CLIENT_SECRET"))
    {
        return Some(CredentialSource::ClientSecret {
            tenant_id,
            client_id,
            secret,
        });
    }
    if let (Some(tenant_id), Some(client_id), Some(file)) =
        (tenant, client.clone(), var("AZURE_FEDERATED_TOKEN_FILE"))
    {
        return Some(CredentialSource::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file: PathBuf::from(file),
        });
    }
    Some(CredentialSource::ManagedIdentity { client_id: client })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn secret_keys_select_the_credential_kind() {
        let s = secret(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "shh"),
        ]);
        assert!(matches!(
            from_secret(&s, "ns", "cred"),
            Ok(CredentialSource::ClientSecret { .. })
        ));
        let s = secret(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]);
        assert!(matches!(
            from_secret(&s, "ns", "cred"),
            Ok(CredentialSource::WorkloadIdentity { .. })
        ));
        let err = from_secret(&secret(&[("AZURE_TENANT_ID", "t")]), "ns", "cred").unwrap_err();
        assert_eq!(err.to_string(), "Secret ns/cred has no AZURE_CLIENT_ID");
    }

    #[test]
    fn cache_keys_do_not_contain_the_secret() {
        let src = CredentialSource::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            secret: "hunter2".into(),
        };
        assert!(!source_key(&src).contains("hunter2"));
    }
}
