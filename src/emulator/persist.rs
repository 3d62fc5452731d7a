//! The optional state file: resources, operations, principals, the token secret and the CA, so
//! that a restarted emulator loses nothing and its clients keep working.

use std::collections::BTreeMap;
use std::path::Path;
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

/// Writes the state file atomically (temporary file, then rename).
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
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)?;
    Ok(())
}
