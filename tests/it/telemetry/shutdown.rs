use std::time::{Duration, Instant};

use arclink::telemetry::{
    ShutdownArgs, TelemetryError,
    shutdown::{Signal, bounded, signal},
};
use clap::Parser;

#[tokio::test]
async fn a_future_that_never_finishes_is_cut_at_the_bound() {
    let started = Instant::now();
    let result = bounded(
        "controller shutdown",
        Duration::from_millis(200),
        std::future::pending::<()>(),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(&result, Err(TelemetryError::ShutdownTimeout { what, .. }) if what == "controller shutdown"),
        "{result:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_future_finishing_within_the_bound_returns_its_output() {
    let result = bounded("drain", Duration::from_secs(5), async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        7
    })
    .await;
    assert_eq!(result.unwrap(), 7);
}

#[tokio::test]
async fn sigterm_resolves_the_shutdown_signal() {
    let received = signal().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let got = tokio::time::timeout(Duration::from_secs(5), received)
        .await
        .unwrap();
    assert_eq!(got, Signal::Terminate);
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    shutdown: ShutdownArgs,
}

#[test]
fn shutdown_timeout_defaults_to_20s_and_parses_units() {
    let cli = Cli::try_parse_from(["arclink"]).unwrap();
    assert_eq!(cli.shutdown.shutdown_timeout, Duration::from_secs(20));
    let cli = Cli::try_parse_from(["arclink", "--shutdown-timeout", "1m"]).unwrap();
    assert_eq!(cli.shutdown.shutdown_timeout, Duration::from_secs(60));
    assert_eq!(
        arclink::api::parse_duration("500ms"),
        Ok(Duration::from_millis(500))
    );
    assert!(Cli::try_parse_from(["arclink", "--shutdown-timeout", "15x"]).is_err());
    assert!(Cli::try_parse_from(["arclink", "--shutdown-timeout", "s"]).is_err());
    for absurd in ["2h", "99999999999999999999h"] {
        let err = Cli::try_parse_from(["arclink", "--shutdown-timeout", absurd])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("--shutdown-timeout"), "{absurd}: {err}");
    }
}
