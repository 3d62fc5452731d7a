//! The embedded emulator's state file: private, written atomically through a temporary file of
//! its own, locked while a command uses it, and a write failure fails the command.

use std::os::unix::fs::PermissionsExt;

use arclink::emulator::{Emulator, EmulatorConfig, Fixtures};

use crate::common::sandbox::Sandbox;

const EXAMPLE: &str = "deploy/examples/01-scope.yaml";

#[test]
fn the_state_file_is_private_and_its_temporary_file_never_follows_a_link() {
    let sb = Sandbox::new("state-private");
    // Where the temporary file used to be written: a link planted there must not be followed.
    let victim = sb.write("victim.txt", "unrelated\n");
    std::os::unix::fs::symlink(&victim, sb.dir.join("state.tmp")).unwrap();

    let apply = sb.arclink(&["apply", "-f", EXAMPLE]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let mode = std::fs::metadata(sb.state()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "state file mode {mode:o}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "unrelated\n");
    let mut left: Vec<String> = std::fs::read_dir(&sb.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["state.json", "state.json.lock", "state.tmp", "victim.txt"],
        "no temporary file is left behind"
    );
}

#[tokio::test]
async fn a_state_file_in_use_fails_the_command_naming_the_file_and_the_holder() {
    let sb = Sandbox::new("state-locked");
    let holder = Emulator::start(EmulatorConfig {
        state_file: Some(sb.state()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let before = std::fs::read(sb.state()).unwrap();

    for command in ["plan", "apply"] {
        let run = sb.arclink(&[command, "-f", EXAMPLE]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("state file <tmp>/state.json: in use by another emulator")
                && run.stderr.contains(&format!("pid {}", std::process::id())),
            "{}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read(sb.state()).unwrap(), before);

    holder.shutdown().await.unwrap();
    let after = sb.arclink(&["apply", "-f", EXAMPLE]);
    assert_eq!(after.code, 0, "the lock goes with its holder: {after:?}");
}

#[test]
fn a_state_file_that_cannot_be_written_fails_the_command_naming_it() {
    let sb = Sandbox::new("state-unwritable");
    let missing = sb.dir.join("no-such-dir/state.json");
    for command in ["plan", "apply"] {
        let run = sb.arclink_with_state(&[command, "-f", EXAMPLE], &missing);
        run.exited(1)
            .stderr(|e| e.contains("state file <tmp>/no-such-dir/state.json: cannot open"));
        assert!(run.stdout.is_empty(), "nothing was planned or applied");
    }
    assert!(!sb.dir.join("no-such-dir").exists());
}

#[tokio::test]
async fn a_state_file_that_can_no_longer_be_written_fails_the_shutdown_naming_it() {
    let sb = Sandbox::new("state-gone");
    let dir = sb.dir.join("gone");
    std::fs::create_dir(&dir).unwrap();
    let state = dir.join("state.json");
    let emulator = Emulator::start(EmulatorConfig {
        state_file: Some(state.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let change = Fixtures::from_yaml(&format!(
        "resourceGroups: [{{subscriptionId: {}, name: rg-new, location: eastus}}]",
        crate::common::fixtures::SUB
    ))
    .unwrap();
    emulator.admin().load_fixtures(&change).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let err = emulator.shutdown().await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("cannot write {}: ", state.display())),
        "{err}"
    );
}
