//! Credentials: one azure_identity credential (hence one token cache) per identity, shared by all
//! resources using that identity. Secrets never appear in keys, logs or `Debug` output.

pub use crate::azure::cloud::Cloud;
use crate::azure::error::ArmError;
use crate::azure::transport;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration as CoreDuration, OffsetDateTime};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where a credential comes from (DESIGN.md section 4).
#[derive(Clone, PartialEq, Eq)]
pub enum CredentialSource {
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: String,
    },
    /// Federated token file (Kubernetes workload identity, or any client assertion in a file).
    WorkloadIdentity {
        tenant_id: String,
        client_id: String,
        token_file: PathBuf,
    },
    ManagedIdentity {
        client_id: Option<String>,
    },
    /// Developer use: `az account get-access-token`.
    AzureCli,
    /// A fixed bearer token (tests).
    Static(String),
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            CredentialSource::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => f
                .debug_struct("WorkloadIdentity")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("token_file", token_file)
                .finish(),
            CredentialSource::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            CredentialSource::AzureCli => f.write_str("AzureCli"),
            CredentialSource::Static(_) => f.write_str("Static(..)"),
        }
    }
}

impl CredentialSource {
    /// A cache key that identifies the identity without holding the secret: secrets are hashed.
    fn cache_key(&self, cloud: &Cloud, ca_pem: Option<&str>) -> String {
        let identity = match self {
            CredentialSource::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => format!("secret|{tenant_id}|{client_id}|{}", sha256_hex(secret)),
            CredentialSource::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => format!("wi|{tenant_id}|{client_id}|{}", token_file.display()),
            CredentialSource::ManagedIdentity { client_id } => {
                format!("mi|{}", client_id.as_deref().unwrap_or(""))
            }
            CredentialSource::AzureCli => "cli".to_string(),
            CredentialSource::Static(token) => format!("static|{}", sha256_hex(token)),
        };
        format!(
            "{identity}|{}|{}|{}",
            cloud.name,
            cloud.authority_host,
            ca_pem.map(sha256_hex).unwrap_or_default()
        )
    }
}

pub(crate) fn sha256_hex(s: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fixed token, for tests against the emulator.
pub struct StaticTokenCredential {
    token: Secret,
}

impl StaticTokenCredential {
    pub fn new(token: impl Into<String>) -> Arc<StaticTokenCredential> {
        Arc::new(StaticTokenCredential {
            token: Secret::new(token.into()),
        })
    }
}

impl fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticTokenCredential(..)")
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            self.token.clone(),
            OffsetDateTime::now_utc() + CoreDuration::hours(1),
        ))
    }
}

/// Builds a credential for `source` in `cloud`, its token requests sent through a transport
/// trusting `ca_pem` in addition to the system roots.
pub fn build_credential(
    source: &CredentialSource,
    cloud: &Cloud,
    ca_pem: Option<&str>,
) -> Result<Arc<dyn TokenCredential>, ArmError> {
    let client = transport::http_client(ca_pem)?;
    let mut client_options = transport::client_options(&client);
    let mut custom = CustomConfiguration::default();
    custom.authority_host = cloud
        .authority_host
        .as_str()
        .trim_end_matches('/')
        .to_string();
    client_options.cloud = Some(Arc::new(CloudConfiguration::Custom(custom)));
    let cred_err = |what: &str, e: azure_core::Error| {
        ArmError::Credential(format!("creating the {what} credential: {e}"))
    };
    Ok(match source {
        CredentialSource::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => ClientSecretCredential::new(
            tenant_id,
            client_id.clone(),
            Secret::new(secret.clone()),
            Some(ClientSecretCredentialOptions { client_options }),
        )
        .map_err(|e| cred_err("client secret", e))?,
        CredentialSource::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file,
        } => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                tenant_id: Some(tenant_id.clone()),
                client_id: Some(client_id.clone()),
                token_file_path: Some(token_file.clone()),
            };
            WorkloadIdentityCredential::new(Some(options))
                .map_err(|e| cred_err("workload identity", e))?
        }
        CredentialSource::ManagedIdentity { client_id } => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options,
            };
            ManagedIdentityCredential::new(Some(options))
                .map_err(|e| cred_err("managed identity", e))?
        }
        CredentialSource::AzureCli => {
            AzureCliCredential::new(Some(AzureCliCredentialOptions::default()))
                .map_err(|e| cred_err("Azure CLI", e))?
        }
        CredentialSource::Static(token) => StaticTokenCredential::new(token.clone()),
    })
}

/// One credential instance per identity (and cloud and CA), created on first use.
#[derive(Default)]
pub struct CredentialCache {
    credentials: Mutex<HashMap<String, Arc<dyn TokenCredential>>>,
}

impl fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCache").finish_non_exhaustive()
    }
}

impl CredentialCache {
    pub fn new() -> CredentialCache {
        CredentialCache::default()
    }

    pub fn get_or_create(
        &self,
        src: &CredentialSource,
        cloud: &Cloud,
        ca_pem: Option<&str>,
    ) -> Result<Arc<dyn TokenCredential>, ArmError> {
        let key = src.cache_key(cloud, ca_pem);
        let mut map = self.credentials.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
        let credential = build_credential(src, cloud, ca_pem)?;
        map.insert(key, credential.clone());
        Ok(credential)
    }

    pub fn len(&self) -> usize {
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> CredentialSource {
        CredentialSource::ClientSecret {
            tenant_id: "11111111-1111-1111-1111-111111111111".into(),
            client_id: "22222222-2222-2222-2222-222222222222".into(),
            secret: s.into(),
        }
    }

    #[test]
    fn one_instance_per_identity_and_no_secret_in_keys() {
        let cache = CredentialCache::new();
        let cloud = Cloud::AzurePublicCloud();
        let a = cache
            .get_or_create(&secret("hunter2-secret"), &cloud, None)
            .unwrap();
        let b = cache
            .get_or_create(&secret("hunter2-secret"), &cloud, None)
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = cache
            .get_or_create(&secret("rotated-secret"), &cloud, None)
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        let d = cache
            .get_or_create(&secret("hunter2-secret"), &Cloud::AzureChinaCloud(), None)
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &d));
        assert_eq!(cache.len(), 3);
        let keys: Vec<String> = cache.credentials.lock().unwrap().keys().cloned().collect();
        assert!(
            keys.iter()
                .all(|k| !k.contains("hunter2") && !k.contains("rotated"))
        );
        assert!(!format!("{:?}", secret("hunter2-secret")).contains("hunter2"));
        assert!(!format!("{:?}", CredentialSource::Static("tok-xyz".into())).contains("tok-xyz"));
    }

    #[tokio::test]
    async fn static_token() {
        let cred = CredentialCache::new()
            .get_or_create(
                &CredentialSource::Static("abc".into()),
                &Cloud::AzurePublicCloud(),
                None,
            )
            .unwrap();
        let token = cred.get_token(&["x/.default"], None).await.unwrap();
        assert_eq!(token.token.secret(), "abc");
    }

    #[test]
    fn invalid_tenant_is_a_credential_error() {
        let src = CredentialSource::ClientSecret {
            tenant_id: "not a tenant/..".into(),
            client_id: "c".into(),
            secret: "s".into(),
        };
        let err = build_credential(&src, &Cloud::AzurePublicCloud(), None).unwrap_err();
        assert_eq!(err.metric_label(), "credential");
    }
}
