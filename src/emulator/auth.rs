//! Entra ID stand-in: the client-credentials token endpoint and bearer-token checks on ARM and
//! admin requests. Tokens are JWTs signed with HMAC-SHA256 under keys derived from the
//! emulator's secret: any token this emulator (or an earlier run sharing its state file) issued
//! is accepted until it expires, and a token whose header or claims were edited is not.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::fixtures::PrincipalFixture;
use super::http::ApiError;

pub const TOKEN_LIFETIME_SECS: i64 = 3599;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Entra expects in federated (workload identity) assertions.
pub const FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Keys derived from the emulator's secret, one per purpose so that no kind of token passes for
/// another: access tokens, federated assertions, and the admin token.
pub struct Keys {
    access: hmac::Key,
    assertion: hmac::Key,
    admin_token: String,
}

impl Keys {
    pub fn new(secret: &str) -> Keys {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let derive = |purpose: &str| hmac::sign(&root, purpose.as_bytes());
        Keys {
            access: hmac::Key::new(hmac::HMAC_SHA256, derive("access-token").as_ref()),
            assertion: hmac::Key::new(hmac::HMAC_SHA256, derive("federated-assertion").as_ref()),
            admin_token: URL_SAFE_NO_PAD.encode(derive("admin-token")),
        }
    }

    /// The bearer token that opens `/_emulator/*`; stable for as long as the secret is (the state
    /// file keeps it across restarts).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }
}

fn sign_jwt(key: &hmac::Key, claims: &Value) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(JWT_HEADER),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(key, signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The claims of a JWT signed with `key`; `None` when it is malformed or its signature does not
/// verify (checked in constant time).
fn verified_claims(key: &hmac::Key, token: &str) -> Option<Value> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (_, payload) = signed.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    hmac::verify(key, signed.as_bytes(), &signature).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.is_object().then_some(claims)
}

fn equal_in_constant_time(a: &str, b: &str) -> bool {
    constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
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
    keys: &Keys,
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
        authenticate(p, client_secret, assertion, keys)?;
    }
    let now = jiff::Timestamp::now().as_second();
    let audience = scope
        .split_whitespace()
        .next()
        .unwrap_or(scope)
        .trim_end_matches("/.default");
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
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": sign_jwt(&keys.access, &claims),
    }))
}

/// A configured principal proves itself with its secret or, when it has none (workload
/// identity), with a federated assertion that this emulator signed (see [`federated_token`]).
fn authenticate(
    principal: &PrincipalFixture,
    secret: Option<&str>,
    assertion: Option<&str>,
    keys: &Keys,
) -> Result<(), EntraError> {
    if let Some(expected) = &principal.client_secret {
        return if equal_in_constant_time(expected, secret.unwrap_or_default()) {
            Ok(())
        } else {
            Err(entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ))
        };
    }
    let Some(claims) = assertion.and_then(|a| verified_claims(&keys.assertion, a)) else {
        return Err(entra_error(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.",
        ));
    };
    let now = jiff::Timestamp::now().as_second();
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err(entra_error(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    let audiences = match &claims["aud"] {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        other => other.as_str().into_iter().collect::<Vec<_>>(),
    };
    if !audiences.contains(&FEDERATION_AUDIENCE) {
        return Err(entra_error(
            401,
            "invalid_client",
            700212,
            "No matching federated identity record found for presented assertion audience.",
        ));
    }
    Ok(())
}

/// A federated assertion for `subject` (what Kubernetes projects into a workload identity token
/// file), signed by this emulator so that principals without a secret can be tested.
pub fn federated_token(keys: &Keys, issuer: &str, subject: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    sign_jwt(
        &keys.assertion,
        &json!({
            "iss": issuer,
            "sub": subject,
            "aud": [FEDERATION_AUDIENCE],
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_SECS,
        }),
    )
}

fn bearer(header: Option<&str>) -> Result<&str, ApiError> {
    let Some(h) = header else {
        return Err(ApiError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    h.strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        })
}

/// Checks an access token; returns the caller's client id.
fn check_token(token: &str, keys: &Keys) -> Result<String, ApiError> {
    let claims = verified_claims(&keys.access, token).ok_or_else(|| {
        ApiError::new(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )
    })?;
    if claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp <= jiff::Timestamp::now().as_second())
    {
        return Err(ApiError::new(
            401,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        ));
    }
    Ok(claims["appid"].as_str().unwrap_or("unknown").to_string())
}

/// Checks an ARM request's `Authorization` header; returns the caller's client id.
pub fn check_bearer(header: Option<&str>, keys: &Keys) -> Result<String, ApiError> {
    check_token(bearer(header)?, keys)
}

/// Checks an admin request's `Authorization` header: the admin token or an access token this
/// emulator issued.
pub fn check_admin(header: Option<&str>, keys: &Keys) -> Result<(), ApiError> {
    let token = bearer(header)?;
    if equal_in_constant_time(token, &keys.admin_token) {
        return Ok(());
    }
    check_token(token, keys).map(drop)
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

    fn token_for(client_id: &str, keys: &Keys) -> String {
        let body = issue_token(
            "t1",
            &form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", "s"),
                ("scope", "https://management.azure.com/.default"),
            ]),
            &[],
            keys,
        )
        .unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    fn code(e: EntraError) -> String {
        e.1["error_description"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn issued_tokens_are_accepted_and_foreign_ones_refused() {
        let keys = Keys::new(&new_secret());
        let auth = format!("Bearer {}", token_for("app", &keys));
        assert_eq!(check_bearer(Some(&auth), &keys).unwrap(), "app");
        let other = check_bearer(Some(&auth), &Keys::new(&new_secret())).unwrap_err();
        assert_eq!(other.code, "InvalidAuthenticationToken");
        assert_eq!(
            check_bearer(None, &keys).unwrap_err().code,
            "AuthenticationFailed"
        );
    }

    #[test]
    fn edited_tokens_are_refused() {
        let secret = new_secret();
        let keys = Keys::new(&secret);
        let token = token_for("app", &keys);
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["appid"] = json!("admin");
        claims["exp"] = json!(i64::MAX);
        let edited = URL_SAFE_NO_PAD.encode(claims.to_string());
        let refused = |token: String| {
            check_bearer(Some(&format!("Bearer {token}")), &keys)
                .unwrap_err()
                .code
        };
        assert_eq!(
            refused(format!("{}.{edited}.{}", parts[0], parts[2])),
            "InvalidAuthenticationToken"
        );
        let none_alg = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#);
        assert_eq!(
            refused(format!("{none_alg}.{}.{}", parts[1], parts[2])),
            "InvalidAuthenticationToken"
        );
        // The old format: the emulator's secret in place of a signature.
        assert_eq!(
            refused(format!("{}.{edited}.{secret}", parts[0])),
            "InvalidAuthenticationToken"
        );
        assert_eq!(refused(format!("{token}.x")), "InvalidAuthenticationToken");
    }

    #[test]
    fn principals_restrict_clients_and_secrets() {
        let keys = Keys::new("k");
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
        assert!(issue_token("t1", &req("app", "right"), &principals, &keys).is_ok());
        let (status, body) =
            issue_token("t1", &req("app", "wrong"), &principals, &keys).unwrap_err();
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_client");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS7000215")
        );
        let (status, _) =
            issue_token("t1", &req("other", "right"), &principals, &keys).unwrap_err();
        assert_eq!(status, 401);
        // A principal with a secret cannot be passed off with an assertion instead.
        let assertion = federated_token(&keys, "https://issuer", "sa");
        let with_assertion = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_assertion", &assertion),
            ("client_assertion_type", ASSERTION_TYPE),
            ("scope", "x/.default"),
        ]);
        let refused = issue_token("t1", &with_assertion, &principals, &keys).unwrap_err();
        assert_eq!(code(refused), "AADSTS7000215");
    }

    #[test]
    fn principals_without_a_secret_need_an_assertion_signed_by_the_emulator() {
        let keys = Keys::new(&new_secret());
        let principals = vec![PrincipalFixture {
            tenant_id: "t1".into(),
            client_id: "wi".into(),
            client_secret: None,
        }];
        let with = |assertion: &str| {
            issue_token(
                "t1",
                &form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "wi"),
                    ("client_assertion", assertion),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("scope", "x/.default"),
                ]),
                &principals,
                &keys,
            )
        };
        let good = federated_token(&keys, "https://issuer", "system:serviceaccount:ns:sa");
        let token = with(&good).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            check_bearer(Some(&format!("Bearer {token}")), &keys).unwrap(),
            "wi"
        );
        assert_eq!(code(with("x.y.z").unwrap_err()), "AADSTS700027");
        let foreign = federated_token(&Keys::new(&new_secret()), "https://issuer", "sa");
        assert_eq!(code(with(&foreign).unwrap_err()), "AADSTS700027");
        // An access token is signed with another key: it is no assertion.
        assert_eq!(code(with(&token).unwrap_err()), "AADSTS700027");
        let now = jiff::Timestamp::now().as_second();
        let expired = sign_jwt(
            &keys.assertion,
            &json!({"sub": "sa", "aud": FEDERATION_AUDIENCE, "exp": now - 1}),
        );
        assert_eq!(code(with(&expired).unwrap_err()), "AADSTS700024");
        let elsewhere = sign_jwt(
            &keys.assertion,
            &json!({"sub": "sa", "aud": ["api://other"], "exp": now + 60}),
        );
        assert_eq!(code(with(&elsewhere).unwrap_err()), "AADSTS700212");
    }

    #[test]
    fn admin_requests_take_the_admin_token_or_an_access_token() {
        let keys = Keys::new(&new_secret());
        let bearer = |t: &str| format!("Bearer {t}");
        assert!(check_admin(Some(&bearer(keys.admin_token())), &keys).is_ok());
        assert!(check_admin(Some(&bearer(&token_for("app", &keys))), &keys).is_ok());
        let other = Keys::new(&new_secret());
        assert_eq!(
            check_admin(Some(&bearer(other.admin_token())), &keys)
                .unwrap_err()
                .code,
            "InvalidAuthenticationToken"
        );
        let assertion = federated_token(&keys, "https://issuer", "sa");
        assert!(check_admin(Some(&bearer(&assertion)), &keys).is_err());
        assert_eq!(
            check_admin(None, &keys).unwrap_err().code,
            "AuthenticationFailed"
        );
        assert_eq!(
            Keys::new("same").admin_token(),
            Keys::new("same").admin_token(),
            "a restart from the state file keeps the admin token"
        );
    }
}
