use arclink::telemetry::{
    TelemetryArgs,
    logging::{LogFormat, capture},
    redact::Secret,
};
use clap::Parser;

const CLIENT_SECRET: &str = "s3cr3t-Value~from.the_Secret";

/// Shaped like a credential loaded from a Kubernetes Secret.
#[derive(Debug)]
struct Credential {
    tenant_id: String,
    client_id: String,
    client_secret: Secret<String>,
}

fn credential() -> Credential {
    Credential {
        tenant_id: "tenant-1".into(),
        client_id: "client-1".into(),
        client_secret: Secret::new(CLIENT_SECRET.into()),
    }
}

fn log_a_reconcile(credential: &Credential) {
    let span = tracing::info_span!(
        "reconcile",
        kind = "ArcPrivateLinkScope",
        namespace = "team-a",
        // Not `name`: the JSON formatter writes the span's own name under that key.
        object = "scope-1",
        arm_request_id = tracing::field::Empty,
    );
    let _entered = span.enter();
    span.record("arm_request_id", "0f8fad5b-d9cb-469f-a165-70867728950e");
    tracing::info!(?credential, secret = %credential.client_secret, "resolved credentials");
    tracing::debug!("not shown at info");
}

#[test]
fn json_logs_carry_span_fields_and_never_the_secret() {
    let (dispatch, buffer) = capture(LogFormat::Json, "info").unwrap();
    tracing::dispatcher::with_default(&dispatch, || log_a_reconcile(&credential()));
    let logs = buffer.contents();

    let line: serde_json::Value = serde_json::from_str(logs.lines().next().unwrap()).unwrap();
    assert_eq!(line["message"], "resolved credentials");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["kind"], "ArcPrivateLinkScope");
    assert_eq!(line["span"]["namespace"], "team-a");
    assert_eq!(line["span"]["object"], "scope-1");
    assert_eq!(line["span"]["name"], "reconcile");
    assert_eq!(
        line["span"]["arm_request_id"],
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    assert!(line["credential"].as_str().unwrap().contains("client-1"));
    assert_eq!(logs.lines().count(), 1, "debug is filtered at info: {logs}");
    assert!(!logs.contains(CLIENT_SECRET), "secret leaked: {logs}");
    assert!(logs.contains("[REDACTED]"), "{logs}");
}

#[test]
fn text_logs_never_contain_the_secret() {
    let (dispatch, buffer) = capture(LogFormat::Text, "debug").unwrap();
    tracing::dispatcher::with_default(&dispatch, || log_a_reconcile(&credential()));
    let logs = buffer.contents();
    assert!(logs.contains("resolved credentials"), "{logs}");
    assert!(logs.contains("kind=\"ArcPrivateLinkScope\""), "{logs}");
    assert!(
        logs.contains("not shown at info"),
        "debug level enabled: {logs}"
    );
    assert!(!logs.contains(CLIENT_SECRET), "secret leaked: {logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "no ANSI colours in captured text: {logs:?}"
    );
}

#[test]
fn secret_is_redacted_in_debug_and_display_but_usable() {
    let credential = credential();
    assert!(!format!("{credential:?}").contains(CLIENT_SECRET));
    assert!(!format!("{credential:#?}").contains(CLIENT_SECRET));
    assert_eq!(credential.client_secret.to_string(), "[REDACTED]");
    assert_eq!(credential.client_secret.expose(), CLIENT_SECRET);
    assert_eq!(credential.tenant_id, "tenant-1");
    assert_eq!(credential.client_id, "client-1");
}

#[test]
fn an_invalid_filter_is_reported_with_the_flag() {
    let error = capture(LogFormat::Json, "arclink=notalevel").unwrap_err();
    assert!(error.to_string().contains("--log-level"), "{error}");
    assert!(error.to_string().contains("arclink=notalevel"), "{error}");
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

#[test]
fn telemetry_flags_have_defaults_and_values() {
    let cli =
        Cli::try_parse_from(["arclink", "--log-format", "json", "--log-level", "debug"]).unwrap();
    assert_eq!(cli.telemetry.log_format, LogFormat::Json);
    assert_eq!(cli.telemetry.log_level, "debug");
    let cli = Cli::try_parse_from(["arclink", "--metrics-addr", "127.0.0.1:9090"]).unwrap();
    assert_eq!(cli.telemetry.metrics_addr.port(), 9090);
    assert!(Cli::try_parse_from(["arclink", "--log-format", "xml"]).is_err());
}
