//! An API-server verifier in the style of kube-rs's controller-rs example: the controller's
//! `kube::Client` talks to a `tower_test` mock, and the test takes each request in turn, checks
//! method, path and body, and answers it. A request the script does not expect fails the test.

use std::time::Duration;

use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tower_test::mock::{Handle, SendResponse};

const WAIT: Duration = Duration::from_secs(20);

pub struct ApiServer {
    handle: Handle<Request<Body>, Response<Body>>,
}

/// One request the controller made, waiting for its answer.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Value,
    send: SendResponse<Response<Body>>,
}

/// A client whose every request goes to the returned verifier.
pub fn client() -> (kube::Client, ApiServer) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(service, "default"), ApiServer { handle })
}

impl Call {
    pub fn respond(self, status: u16, body: &Value) {
        let response = Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap();
        self.send.send_response(response);
    }

    pub fn ok(self, body: &Value) {
        self.respond(200, body);
    }

    /// Answers 404 the way the API server does (a `Status` object).
    pub fn not_found(self, resource: &str, name: &str) {
        let body = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("{resource} \"{name}\" not found"), "reason": "NotFound",
            "details": {"name": name, "kind": resource}, "code": 404,
        });
        self.respond(404, &body);
    }

    /// Whether the query string carries `key=value`.
    pub fn has_param(&self, key: &str, value: &str) -> bool {
        form_urlencoded::parse(self.query.as_bytes()).any(|(k, v)| k == key && v == value)
    }
}

impl ApiServer {
    /// The next request, whatever it is.
    pub async fn next(&mut self) -> Call {
        let (request, send) = tokio::time::timeout(WAIT, self.handle.next_request())
            .await
            .expect("the controller made no further API request")
            .expect("the client was dropped");
        call(request, send).await
    }

    /// The next request, which must be `method path`.
    pub async fn expect(&mut self, method: Method, path: &str) -> Call {
        let call = self.next().await;
        assert_eq!(
            (&call.method, call.path.as_str()),
            (&method, path),
            "unexpected API request (body {})",
            call.body
        );
        call
    }

    /// Waits for `task` (a reconcile) to finish, failing on any request it still makes.
    pub async fn finish<T>(&mut self, task: JoinHandle<T>) -> T {
        tokio::select! {
            result = tokio::time::timeout(WAIT, task) => result.expect("reconcile did not finish").unwrap(),
            request = self.handle.next_request() => {
                let (request, send) = request.expect("the client was dropped");
                let call = call(request, send).await;
                panic!("unexpected API request {} {}?{} body {}", call.method, call.path, call.query, call.body);
            }
        }
    }
}

async fn call(request: Request<Body>, send: SendResponse<Response<Body>>) -> Call {
    let (parts, body) = request.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let body = crate::common::fixtures::json_or_null(&bytes);
    Call {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        content_type: parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body,
        send,
    }
}
