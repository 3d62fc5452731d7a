//! Credentials against the emulator's token endpoint, and no secrets in logs.

use crate::common::*;
use arclink::azure::credentials::CredentialSource;
use arclink::azure::models::Machine;
use arclink::azure::{ArmClient, ArmClientOptions, ArmError, CredentialCache};
use arclink::emulator::{EmulatorConfig, Fixtures};
use std::io::Write as _;
use std::sync::{Arc, Mutex};

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

#[tokio::test]
async fn wrong_secret_is_a_credential_error() {
    let mut fixtures = fixtures();
    fixtures.principals = Fixtures::from_yaml(&format!(
        "principals:\n  - tenantId: {TENANT}\n    clientId: {CLIENT_ID}\n    clientSecret: the-right-one\n"
    ))
    .unwrap()
    .principals;
    let emu = arclink::emulator::Emulator::start(EmulatorConfig {
        fixtures: Some(fixtures),
        ..Default::default()
    })
    .await
    .unwrap();
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

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_and_secrets_never_appear_in_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator(EmulatorConfig::default()).await;
    let cloud = cloud(&emu);
    let cred = CredentialCache::new()
        .get_or_create(&secret_source(), &cloud, Some(emu.ca_pem()))
        .unwrap();
    let mut options = ArmClientOptions::new(cred.clone());
    options.cloud = cloud;
    options.ca_pem = Some(emu.ca_pem().to_string());
    let client = ArmClient::new(options).unwrap();
    assert!(client.get::<Machine>(&machine(0)).await.unwrap().is_some());
    assert!(client.get::<Machine>(&machine(99)).await.unwrap().is_none());
    let token = cred.get_token(&[SCOPE], None).await.unwrap();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("ARM request"), "nothing was logged:\n{logs}");
    // Each request carried an x-ms-client-request-id (the emulator echoes it back).
    let ids = regex::Regex::new(r#"client_request_id="?([0-9a-f-]{36})"#).unwrap();
    let seen: std::collections::HashSet<&str> = ids
        .captures_iter(&logs)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(seen.len(), 2, "client request ids: {seen:?}");
    let token = token.token.secret().to_string();
    let signature = token.rsplit('.').next().unwrap();
    for secret in [CLIENT_SECRET, token.as_str(), signature] {
        assert!(!logs.contains(secret), "a secret appeared in the logs");
    }
}
