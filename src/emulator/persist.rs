//! The optional state file: resources, operations, principals, the token secret and the CA, so
//! that a restarted emulator loses nothing and its clients keep working.
//!
//! The file holds the CA's private key and secrets: it is written 0600, through a temporary file
//! of its own (never through a symbolic link), and locked while an emulator uses it, since two
//! emulators sharing it would each overwrite what the other wrote.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::EmulatorError;
use super::fixtures::PrincipalFixture;
use super::lro::Operation;
use super::shared::Shared;
use super::tls::CaMaterial;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFile {
    pub version: u32,
    pub token_secret: String,
    pub ca: CaMaterial,
    pub principals: Vec<PrincipalFixture>,
    pub resources: BTreeMap<String, Value>,
    pub operations: Vec<Operation>,
}

pub fn load(path: &Path) -> Result<Option<StateFile>, EmulatorError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmulatorError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let state: StateFile = serde_json::from_str(&text).map_err(|e| EmulatorError::StateFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if state.version != 1 {
        return Err(EmulatorError::StateFile {
            path: path.to_path_buf(),
            message: format!("unsupported version {}", state.version),
        });
    }
    Ok(Some(state))
}

pub fn restore(shared: &Shared, state: StateFile) {
    {
        let mut map = shared.store.write();
        for (k, v) in state.resources {
            map.insert(k, Arc::new(v));
        }
    }
    *shared.principals.write() = state.principals;
    for op in state.operations {
        shared.ops.insert(op);
    }
}

/// Writes the state file atomically: a new file next to it, synced, then renamed over it, and
/// only when this version reads the new content back (a state that would not load, say one
/// nested beyond serde_json's recursion limit, must not replace one that does). On error the
/// previous file is left as it was and the temporary file is removed.
pub fn save(shared: &Shared, path: &Path) -> Result<(), EmulatorError> {
    let resources: BTreeMap<String, Value> = shared
        .store
        .read()
        .iter()
        .map(|(k, v)| (k.clone(), Value::clone(v)))
        .collect();
    let operations: Vec<Operation> = shared.ops.ops.lock().values().cloned().collect();
    let state = StateFile {
        version: 1,
        token_secret: shared.token_secret.clone(),
        ca: shared.ca.clone(),
        principals: shared.principals.read().clone(),
        resources,
        operations,
    };
    let write_err = |source| EmulatorError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text =
        serde_json::to_vec_pretty(&state).map_err(|e| write_err(std::io::Error::other(e)))?;
    reads_back(&text).map_err(|message| EmulatorError::StateNotSaved {
        path: path.to_path_buf(),
        message,
    })?;
    write_atomically(path, &text).map_err(write_err)
}

/// Whether `text` loads as a state file, as [`load`] reads it.
fn reads_back(text: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<StateFile>(text)
        .map(drop)
        .map_err(|e| format!("this version could not read it back ({e})"))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, name) = dir_and_name(path)?;
    // Unique, so that two writers never share it; `create_new` (O_EXCL) refuses to follow a
    // symbolic link planted under that name.
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // The rename itself survives a crash once the directory is synced.
    File::open(&dir)?.sync_all()
}

/// The directory of `path` (`.` for a bare file name) and its file name.
fn dir_and_name(path: &Path) -> std::io::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_string_lossy()
        .into_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// The exclusive lock on a state file, held as long as this value lives. It is a lock on
/// `<state file>.lock`, a file that is never replaced (the state file itself is, on every
/// write, which would leave a lock on it behind with the old file).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Locks the state file `path` for this process, or fails at once naming the file and the
/// process holding it.
pub fn lock(path: &Path) -> Result<StateLock, EmulatorError> {
    let lock_err = |message: String| EmulatorError::Lock {
        path: path.to_path_buf(),
        message,
    };
    let (dir, name) = dir_and_name(path).map_err(|e| lock_err(e.to_string()))?;
    let lock_path = dir.join(format!("{name}.lock"));
    let mut file = open_lock_file(&lock_path)
        .map_err(|e| lock_err(format!("cannot open {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = (&file).take(256).read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(lock_err(format!(
                "in use by another emulator ({}); wait for it to finish or use another state file",
                if holder.is_empty() {
                    "unknown process"
                } else {
                    holder
                }
            )));
        }
        Err(TryLockError::Error(e)) => {
            return Err(lock_err(format!(
                "cannot lock {}: {e}",
                lock_path.display()
            )));
        }
    }
    // Who holds it, for the message of the next one; the lock holds without it.
    let _ = file
        .set_len(0)
        .and_then(|()| write!(file, "pid {}", std::process::id()));
    Ok(StateLock { _file: file })
}

/// Opens (or creates, 0600) the lock file, refusing a symbolic link or anything but a regular
/// file, so that writing the holder's pid never lands elsewhere.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => return other,
    }
    let named = std::fs::symlink_metadata(path)?;
    if !named.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    let opened = file.metadata()?;
    if (opened.dev(), opened.ino()) != (named.dev(), named.ino()) {
        return Err(std::io::Error::other("replaced while being opened"));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_nested_beyond_the_parser_limit_does_not_read_back() {
        let state = |levels: usize| {
            let value = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            format!(
                r#"{{"version":1,"tokenSecret":"s","ca":{{"certPem":"","keyPem":""}},"principals":[],"resources":{{"k":{value}}},"operations":[]}}"#
            )
        };
        assert_eq!(reads_back(state(100).as_bytes()), Ok(()));
        let e = reads_back(state(126).as_bytes()).unwrap_err();
        assert!(e.contains("recursion limit"), "{e}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("arclink-persist-{}", uuid::Uuid::new_v4()));
        let path = dir.join("state.json");
        // A non-empty directory where the file goes: the final rename fails.
        std::fs::create_dir_all(path.join("occupied")).unwrap();
        assert!(write_atomically(&path, b"{}").is_err());
        assert!(path.join("occupied").is_dir());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["state.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
