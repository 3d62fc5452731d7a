//! Entra ID stand-in: the client-credentials token endpoint and bearer-token checks on ARM
//! requests. Tokens are JWT-shaped; their third part is the emulator's secret, so any token this
//! emulator (or an earlier run sharing its state file) issued is accepted until it expires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::fixtures::PrincipalFixture;
use super::http::ApiError;

pub const TOKEN_LIFETIME_SECS: i64 = 3599;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An Entra error: `(status, body)`.
pub type EntraError = (u16, Value);

fn entra_error(status: u16, error: &str, code: u32, description: &str) -> EntraError {
    let trace = uuid::Uuid::new_v4().to_string();
    let now = jiff::Timestamp::now();
    (
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now.to_string(),
            "trace_id": trace,
            "correlation_id": trace,
        }),
    )
}

/// Handles `POST /{tenant}/oauth2/v2.0/token` with a form body.
pub fn issue_token(
    tenant: &str,
    form: &[(String, String)],
    principals: &[PrincipalFixture],
    secret: &str,
) -> Result<Value, EntraError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if field("grant_type") != Some("client_credentials") {
        return Err(entra_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ));
    }
    let Some(client_id) = field("client_id") else {
        return Err(entra_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    };
    let Some(scope) = field("scope") else {
        return Err(entra_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        ));
    };
    let client_secret = field("client_secret");
    let assertion = field("client_assertion");
    if let Some(a) = assertion {
        if field("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(entra_error(
                400,
                "invalid_request",
                50027,
                "Invalid client_assertion_type.",
            ));
        }
        if a.split('.').count() != 3 {
            return Err(entra_error(
                400,
                "invalid_request",
                50027,
                "JWT token is invalid or malformed.",
            ));
        }
    } else if client_secret.is_none() {
        return Err(entra_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    if !principals.is_empty() {
        let Some(p) = principals.iter().find(|p| {
            p.client_id.eq_ignore_ascii_case(client_id) && p.tenant_id.eq_ignore_ascii_case(tenant)
        }) else {
            return Err(entra_error(
                401,
                "invalid_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                ),
            ));
        };
        if assertion.is_none() && p.client_secret.as_deref() != client_secret {
            return Err(entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ));
        }
    }
    let now = jiff::Timestamp::now().as_second();
    let audience = scope
        .split_whitespace()
        .next()
        .unwrap_or(scope)
        .trim_end_matches("/.default");
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "tid": tenant,
        "appid": client_id,
        "oid": client_id,
        "sub": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": format!("{header}.{payload}.{secret}"),
    }))
}

/// Checks an ARM request's `Authorization` header; returns the caller's client id.
pub fn check_bearer(header: Option<&str>, secret: &str) -> Result<String, ApiError> {
    let Some(h) = header else {
        return Err(ApiError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let Some(token) = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
    else {
        return Err(ApiError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        ));
    };
    let invalid = || {
        ApiError::new(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )
    };
    let mut parts = token.trim().split('.');
    let (Some(_), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if sig != secret {
        return Err(invalid());
    }
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    let exp = claims["exp"].as_i64().ok_or_else(invalid)?;
    if exp <= jiff::Timestamp::now().as_second() {
        return Err(ApiError::new(
            401,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        ));
    }
    Ok(claims["appid"].as_str().unwrap_or("unknown").to_string())
}

pub fn openid_configuration(endpoint: &str, tenant: &str) -> Value {
    json!({
        "token_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "issuer": format!("{endpoint}/{tenant}/v2.0"),
        "authorization_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/authorize"),
        "jwks_uri": format!("{endpoint}/{tenant}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn issued_tokens_are_accepted_and_foreign_ones_refused() {
        let secret = new_secret();
        let body = issue_token(
            "t1",
            &form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", "s"),
                ("scope", "https://management.azure.com/.default"),
            ]),
            &[],
            &secret,
        )
        .unwrap();
        let token = body["access_token"].as_str().unwrap();
        let auth = format!("Bearer {token}");
        assert_eq!(check_bearer(Some(&auth), &secret).unwrap(), "app");
        let other = check_bearer(Some(&auth), &new_secret()).unwrap_err();
        assert_eq!(other.code, "InvalidAuthenticationToken");
        assert_eq!(
            check_bearer(None, &secret).unwrap_err().code,
            "AuthenticationFailed"
        );
    }

    #[test]
    fn principals_restrict_clients_and_secrets() {
        let principals = vec![PrincipalFixture {
            tenant_id: "t1".into(),
            client_id: "app".into(),
            client_secret: Some("right".into()),
        }];
        let req = |id: &str, secret: &str| {
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "x/.default"),
            ])
        };
        assert!(issue_token("t1", &req("app", "right"), &principals, "k").is_ok());
        let (status, body) = issue_token("t1", &req("app", "wrong"), &principals, "k").unwrap_err();
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_client");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS7000215")
        );
        let (status, _) = issue_token("t1", &req("other", "right"), &principals, "k").unwrap_err();
        assert_eq!(status, 401);
    }
}
