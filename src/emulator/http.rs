//! Response building: ARM error bodies and JSON responses.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

pub type Body = Full<Bytes>;
pub type Response = http::Response<Body>;

/// An error as ARM returns it: `{"error":{"code","message","details"}}` with a status code.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
    /// `(code, message)` of each entry of `error.details` (left out when empty).
    pub details: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            details: Vec::new(),
        }
    }

    /// The same error with one more entry in `error.details`.
    pub fn with_detail(mut self, code: &str, message: impl Into<String>) -> ApiError {
        self.details.push((code.to_string(), message.into()));
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }

    pub fn not_found(type_name: &str, name: &str, rg: &str) -> ApiError {
        ApiError::new(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{type_name}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn body(&self) -> Value {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if !self.details.is_empty() {
            body["error"]["details"] = self
                .details
                .iter()
                .map(|(code, message)| json!({"code": code, "message": message}))
                .collect();
        }
        body
    }
}

/// A successful ARM answer before the common headers are added.
#[derive(Debug)]
pub struct ArmResponse {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl ArmResponse {
    pub fn json(status: u16, body: Value) -> ArmResponse {
        ArmResponse {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn empty(status: u16) -> ArmResponse {
        ArmResponse {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: String) -> ArmResponse {
        self.headers.push((name, value));
        self
    }
}

pub fn build(status: u16, body: Option<&Value>, headers: &[(&'static str, String)]) -> Response {
    let bytes = match body {
        Some(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        None => Bytes::new(),
    };
    let mut resp = http::Response::new(Full::new(bytes));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if body.is_some() {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.append(HeaderName::from_static(name), v);
        }
    }
    resp
}

pub fn error_response(e: &ApiError) -> Response {
    let mut headers = Vec::new();
    if let Some(s) = e.retry_after {
        headers.push(("retry-after", s.to_string()));
    }
    build(e.status, Some(&e.body()), &headers)
}
