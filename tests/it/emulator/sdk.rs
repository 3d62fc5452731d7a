//! Microsoft's Python SDK and the Azure CLI against `arclink emulator` (tests/sdk/run.sh): the
//! flow arclink drives, as a user pointing them at the emulator would. Ignored by default: it
//! needs python3 and PyPI (two virtual environments, about 75 s to create the first time, then
//! about 45 s a run); see the README, "Microsoft's SDK and CLI against the emulator".

use std::process::Command;

#[test]
#[ignore = "needs Python and PyPI: cargo test --test it emulator::sdk -- --ignored (or tests/sdk/run.sh)"]
fn microsofts_sdk_and_cli_drive_the_emulator() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/run.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_arclink"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each step and the time each part took, for `-- --nocapture`.
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("sdk/cli flow passed"),
        "tests/sdk/run.sh failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for part in [
        "sdk: 15 steps passed",
        "ok az login --service-principal",
        "ok az resource create",
    ] {
        assert!(stdout.contains(part), "{part} missing:\n{stdout}");
    }
}
