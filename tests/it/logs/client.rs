//! The ARM client's logs carry request ids but never a secret or a token.

use crate::azure_client::common::*;
use arclink::azure::models::Machine;
use arclink::azure::{ArmClient, ArmClientOptions, CredentialCache};
use arclink::emulator::EmulatorConfig;
use std::sync::{Arc, Mutex};

const SCOPE: &str = "https://management.azure.com/.default";

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
    let _one = super::ONE_AT_A_TIME.lock().await;
    super::capture_from_every_thread();
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
    let _: Machine = client
        .patch_and_wait(&machine(1), &serde_json::json!({"tags": {"team": "a"}}))
        .await
        .unwrap();
    let token = cred.get_token(&[SCOPE], None).await.unwrap();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("ARM request"), "nothing was logged:\n{logs}");
    // Each request carried an x-ms-client-request-id (the emulator echoes it back).
    let ids = regex::Regex::new(r#"client_request_id="?([0-9a-f-]{36})"#).unwrap();
    let seen: std::collections::HashSet<&str> = ids
        .captures_iter(&logs)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    // The read of the api-versions Azure serves, two GETs and a PATCH.
    assert_eq!(seen.len(), 4, "client request ids: {seen:?}");
    // Reads at debug, writes at info with the resource and the ids Azure support asks for.
    let write = logs
        .lines()
        .find(|l| l.contains("ARM write"))
        .unwrap_or_else(|| panic!("the write was not logged:\n{logs}"));
    assert!(write.contains("INFO"), "{write}");
    assert!(write.contains(&machine(1).to_string()), "{write}");
    assert!(
        write.contains("request_id=") && write.contains("correlation_id="),
        "{write}"
    );
    assert!(
        logs.lines()
            .filter(|l| l.contains("ARM request"))
            .all(|l| l.contains("DEBUG")),
        "{logs}"
    );
    let token = token.token.secret().to_string();
    let signature = token.rsplit('.').next().unwrap();
    for secret in [CLIENT_SECRET, token.as_str(), signature] {
        assert!(!logs.contains(secret), "a secret appeared in the logs");
    }
}
