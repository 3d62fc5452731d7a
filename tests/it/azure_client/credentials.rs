//! Credentials against the emulator's token endpoint, and no secrets in logs.

use super::common::*;
use crate::common::sandbox::Sandbox;
use arclink::azure::credentials::CredentialSource;
use arclink::azure::models::Machine;
use arclink::azure::{ArmClient, ArmClientOptions, ArmError, CredentialCache};
use arclink::emulator::EmulatorConfig;
use std::io::Write as _;
use std::sync::Arc;

const SCOPE: &str = "https://management.azure.com/.default";

#[tokio::test]
async fn client_secret_obtains_a_token_and_calls_arm() {
    let emu = emulator(EmulatorConfig::default()).await;
    let cache = CredentialCache::new();
    let cred = cache
        .get_or_create(&secret_source(), &cloud(&emu), Some(emu.ca_pem()))
        .unwrap();
    let token = cred.get_token(&[SCOPE], None).await.unwrap();
    assert_eq!(token.token.secret().split('.').count(), 3);
    let again = cache
        .get_or_create(&secret_source(), &cloud(&emu), Some(emu.ca_pem()))
        .unwrap();
    assert!(Arc::ptr_eq(&cred, &again));
    let client = client(&emu);
    assert!(client.get::<Machine>(&machine(0)).await.unwrap().is_some());
}

#[tokio::test]
async fn client_assertion_from_a_token_file_obtains_a_token() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = std::env::temp_dir().join(format!("arclink-wi-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    // A projected service-account token is a JWT; the emulator checks its shape.
    std::fs::File::create(&file)
        .unwrap()
        .write_all(
            b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXJjbGluayJ9.c2ln",
        )
        .unwrap();
    let src = CredentialSource::WorkloadIdentity {
        tenant_id: TENANT.into(),
        client_id: CLIENT_ID.into(),
        token_file: file,
    };
    let cred = CredentialCache::new()
        .get_or_create(&src, &cloud(&emu), Some(emu.ca_pem()))
        .unwrap();
    let token = cred.get_token(&[SCOPE], None).await.unwrap();
    assert_eq!(token.token.secret().split('.').count(), 3);
    let mut options = ArmClientOptions::new(cred);
    options.cloud = cloud(&emu);
    options.ca_pem = Some(emu.ca_pem().to_string());
    let client = ArmClient::new(options).unwrap();
    assert!(client.get::<Machine>(&machine(0)).await.unwrap().is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A client for `emu` whose credential reads its assertion from `token_file`.
fn workload_identity_client(emu: &arclink::emulator::Emulator, token_file: &str) -> ArmClient {
    let src = CredentialSource::WorkloadIdentity {
        tenant_id: TENANT.into(),
        client_id: CLIENT_ID.into(),
        token_file: token_file.into(),
    };
    let cred = CredentialCache::new()
        .get_or_create(&src, &cloud(emu), Some(emu.ca_pem()))
        .unwrap();
    let mut options = ArmClientOptions::new(cred);
    options.cloud = cloud(emu);
    options.ca_pem = Some(emu.ca_pem().to_string());
    ArmClient::new(options).unwrap()
}

#[tokio::test]
async fn a_workload_identity_principal_needs_an_assertion_the_emulator_signed() {
    let emu =
        emulator_with_principals(&format!("[{{tenantId: {TENANT}, clientId: {CLIENT_ID}}}]")).await;
    // The token files live as long as the sandbox, whatever the outcome.
    let tokens = Sandbox::new("workload-identity");
    let unsigned = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXJjbGluayJ9.c2ln";
    let err = workload_identity_client(&emu, &tokens.write("unsigned", unsigned))
        .get::<Machine>(&machine(0))
        .await
        .unwrap_err();
    assert!(matches!(err, ArmError::Credential(_)), "{err:?}");

    let signed = emu
        .admin()
        .federated_token("system:serviceaccount:arclink-system:arclink");
    let client = workload_identity_client(&emu, &tokens.write("signed", &signed));
    assert!(client.get::<Machine>(&machine(0)).await.unwrap().is_some());
}

#[tokio::test]
async fn wrong_secret_is_a_credential_error() {
    let emu = emulator_with_principals(&format!(
        "[{{tenantId: {TENANT}, clientId: {CLIENT_ID}, clientSecret: the-right-one}}]"
    ))
    .await;
    let client = client(&emu);
    let err = client.get::<Machine>(&machine(0)).await.unwrap_err();
    assert!(matches!(err, ArmError::Credential(_)), "{err:?}");
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn without_the_ca_the_emulator_is_not_trusted() {
    let emu = emulator(EmulatorConfig::default()).await;
    let mut options = options(&emu);
    options.ca_pem = None;
    let client = ArmClient::new(options).unwrap();
    let err = client.get::<Machine>(&machine(0)).await.unwrap_err();
    // The token request (same transport settings in `options`) or the ARM call fails on TLS.
    assert!(
        matches!(err, ArmError::Transient { .. } | ArmError::Credential(_)),
        "{err:?}"
    );
}
