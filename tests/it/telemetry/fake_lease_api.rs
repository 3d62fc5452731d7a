//! An in-process stand-in for the Kubernetes Lease API, faithful to what the elector relies on:
//! GET, POST (AlreadyExists), server-side apply that conflicts when another holder owns
//! `spec.holderIdentity`, merge patches where null deletes a field and a `resourceVersion` that
//! no longer matches conflicts, DELETE.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU8, Ordering},
    },
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

type Key = (String, String);

#[derive(Clone, Default)]
pub struct FakeLeaseApi {
    state: Arc<Mutex<Stored>>,
}

#[derive(Default)]
struct Stored {
    leases: HashMap<Key, Value>,
    version: u64,
}

impl Stored {
    fn store(&mut self, key: Key, mut lease: Value) -> Value {
        self.version += 1;
        lease["metadata"]["resourceVersion"] = json!(self.version.to_string());
        lease["metadata"]["namespace"] = json!(key.0);
        lease["metadata"]["name"] = json!(key.1);
        lease["apiVersion"] = json!("coordination.k8s.io/v1");
        lease["kind"] = json!("Lease");
        self.leases.insert(key, lease.clone());
        lease
    }
}

const UP: u8 = 0;
const FAILING: u8 = 1;
const HANGING: u8 = 2;

/// One listener onto the shared state, which can be cut off like an instance partitioned from
/// the API server.
#[derive(Clone)]
pub struct Frontend {
    pub url: String,
    mode: Arc<AtomicU8>,
}

impl Frontend {
    /// Every request fails with 500 (not 503: kube's client may retry 503 by itself).
    pub fn fail(&self) {
        self.mode.store(FAILING, Ordering::SeqCst);
    }

    /// Every request hangs without an answer.
    pub fn hang(&self) {
        self.mode.store(HANGING, Ordering::SeqCst);
    }

    /// Requests are answered again.
    pub fn restore(&self) {
        self.mode.store(UP, Ordering::SeqCst);
    }

    pub fn config(&self) -> kube::Config {
        kube::Config::new(self.url.parse().unwrap())
    }
}

#[derive(Clone)]
struct AppState {
    api: FakeLeaseApi,
    mode: Arc<AtomicU8>,
}

impl FakeLeaseApi {
    pub async fn frontend(&self) -> Frontend {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(UP));
        let state = AppState {
            api: self.clone(),
            mode: mode.clone(),
        };
        let base = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases";
        let app = Router::new()
            .route(base, post(create))
            .route(
                &format!("{base}/{{name}}"),
                get(read).patch(patch).delete(delete),
            )
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Frontend { url, mode }
    }

    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        let stored = self.state.lock().unwrap();
        stored
            .leases
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    pub fn holder(&self, namespace: &str, name: &str) -> Option<String> {
        self.lease(namespace, name)
            .and_then(|l| l.pointer("/spec/holderIdentity").cloned())
            .and_then(|h| h.as_str().map(str::to_owned))
    }
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    (
        code,
        Json(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code.as_u16(),
        })),
    )
        .into_response()
}

async fn unavailable(state: &AppState) -> Option<Response> {
    match state.mode.load(Ordering::SeqCst) {
        FAILING => Some(status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "partitioned".into(),
        )),
        HANGING => std::future::pending().await,
        _ => None,
    }
}

async fn read(State(state): State<AppState>, Path((ns, name)): Path<(String, String)>) -> Response {
    if let Some(down) = unavailable(&state).await {
        return down;
    }
    match state.api.lease(&ns, &name) {
        Some(lease) => Json(lease).into_response(),
        None => not_found(&name),
    }
}

fn not_found(name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("leases.coordination.k8s.io \"{name}\" not found"),
    )
}

async fn create(
    State(state): State<AppState>,
    Path(ns): Path<String>,
    Json(lease): Json<Value>,
) -> Response {
    if let Some(down) = unavailable(&state).await {
        return down;
    }
    let name = lease["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = (ns, name.clone());
    let mut stored = state.api.state.lock().unwrap();
    if stored.leases.contains_key(&key) {
        return status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("leases.coordination.k8s.io \"{name}\" already exists"),
        );
    }
    (StatusCode::CREATED, Json(stored.store(key, lease))).into_response()
}

async fn patch(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(down) = unavailable(&state).await {
        return down;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "patch is not JSON".into(),
        );
    };
    let key = (ns, name.clone());
    // Check-and-write under one lock, as etcd does with resourceVersion.
    let mut stored = state.api.state.lock().unwrap();
    let current = stored.leases.get(&key).cloned();
    let is_apply = content_type.starts_with("application/apply-patch");
    let mut lease = match current {
        Some(lease) => lease,
        None if is_apply => json!({"metadata": {}}),
        None => return not_found(&name),
    };
    // An update that names the version it read fails once the Lease has changed since.
    if let Some(read) = patch
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && lease
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            != Some(read)
    {
        return status(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified"
            ),
        );
    }
    if is_apply {
        let held = lease
            .pointer("/spec/holderIdentity")
            .and_then(Value::as_str);
        let wanted = patch
            .pointer("/spec/holderIdentity")
            .and_then(Value::as_str);
        if let (Some(held), Some(wanted)) = (held, wanted)
            && held != wanted
        {
            return status(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Apply failed with 1 conflict: conflict with \"{held}\": .spec.holderIdentity"
                ),
            );
        }
    }
    merge(&mut lease, &patch);
    Json(stored.store(key, lease)).into_response()
}

async fn delete(
    State(state): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    if let Some(down) = unavailable(&state).await {
        return down;
    }
    let removed = state
        .api
        .state
        .lock()
        .unwrap()
        .leases
        .remove(&(ns, name.clone()));
    match removed {
        Some(lease) => Json(lease).into_response(),
        None => not_found(&name),
    }
}

/// JSON merge patch (RFC 7386); for a Lease's scalar fields this is also what strategic merge
/// and apply do.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            let Some(object) = target.as_object_mut() else {
                return;
            };
            for (key, value) in fields {
                if value.is_null() {
                    object.remove(key);
                } else {
                    merge(object.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}
