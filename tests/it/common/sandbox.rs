//! Runs the built `arclink` binary in a scratch directory against its embedded emulator, and
//! compares output with golden files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::fixtures::SUB;

/// The repository root: the binary resolves `deploy/...` paths from there, as a user would.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory with the emulator's state file.
pub struct Sandbox {
    pub dir: PathBuf,
}

/// What one run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code.
    pub fn exited(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "{self:?}");
        self
    }

    /// Asserts `check` of what the command printed on stderr.
    pub fn stderr(&self, check: impl Fn(&str) -> bool) -> &Run {
        assert!(check(&self.stderr), "{}", self.stderr);
        self
    }

    /// Asserts `check` of what the command printed on stdout.
    pub fn stdout(&self, check: impl Fn(&str) -> bool) -> &Run {
        assert!(check(&self.stdout), "{}", self.stdout);
        self
    }
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "arclink-offline-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Sandbox { dir }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Writes a manifest into the sandbox; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// `arclink <args> --emulator-state <sandbox>/state.json` with no Azure configuration in the
    /// environment, so the embedded emulator is the target.
    pub fn arclink(&self, args: &[&str]) -> Run {
        self.arclink_with_state(args, &self.state())
    }

    /// [`Sandbox::arclink`] with another state file.
    pub fn arclink_with_state(&self, args: &[&str], state: &Path) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_arclink"));
        cmd.current_dir(root())
            .args(args)
            .arg("--emulator-state")
            .arg(state)
            .args(["--emulator-lro-duration", "0s"]);
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_") || k.starts_with("ARCLINK_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        let (code, stdout, stderr) = run_bounded(cmd);
        Run {
            code,
            stdout: self.normalise(&String::from_utf8_lossy(&stdout)),
            stderr: self.normalise(&String::from_utf8_lossy(&stderr)),
        }
    }

    /// Output without what changes from run to run: the scratch directory, emulator-generated
    /// GUIDs and the emulator's port.
    pub fn normalise(&self, text: &str) -> String {
        let text = text.replace(&self.dir.display().to_string(), "<tmp>");
        let guid = regex::Regex::new(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        )
        .unwrap();
        let text = guid.replace_all(&text, |c: &regex::Captures| {
            if &c[0] == SUB {
                SUB.to_string()
            } else {
                "<guid>".to_string()
            }
        });
        let port = regex::Regex::new(r"https://127\.0\.0\.1:\d+").unwrap();
        port.replace_all(&text, "https://127.0.0.1:<port>")
            .into_owned()
    }

    /// The emulator's resources as saved in the state file (lower-cased id -> resource).
    pub fn resources(&self) -> serde_json::Map<String, Value> {
        let text = std::fs::read_to_string(self.state()).unwrap();
        let state: Value = serde_json::from_str(&text).unwrap();
        state["resources"].as_object().unwrap().clone()
    }

    /// How many scopes and endpoints the state file holds (a read-only command writes none).
    pub fn scopes_and_endpoints(&self) -> usize {
        self.resources()
            .keys()
            .filter(|k| k.contains("privatelinkscopes") || k.contains("privateendpoints"))
            .count()
    }

    /// Changes a resource in the state file, as someone in the portal would.
    pub fn edit(&self, id: &str, change: impl FnOnce(&mut Value)) {
        let text = std::fs::read_to_string(self.state()).unwrap();
        let mut state: Value = serde_json::from_str(&text).unwrap();
        let resource = state["resources"]
            .get_mut(id.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("{id} is not in the emulator state"));
        change(resource);
        std::fs::write(self.state(), serde_json::to_string_pretty(&state).unwrap()).unwrap();
    }
}

/// Runs `cmd` to its end, killing it after [`RUN_LIMIT`] (exit code -1) so that a command
/// that hangs fails its test instead of hanging it.
fn run_bounded(mut cmd: Command) -> (i32, Vec<u8>, Vec<u8>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + RUN_LIMIT;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, stdout.join().unwrap(), stderr.join().unwrap())
}

/// Longest run of the binary: minutes more than any test needs on a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(300);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Compares `actual` with `tests/golden/offline/<name>`; `UPDATE_GOLDEN=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden/offline").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "output differs from golden file {} (run with UPDATE_GOLDEN=1 if the change is intended)",
        path.display()
    );
}
