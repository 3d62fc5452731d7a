//! Classification of ARM failures by status and code.

use super::*;

fn body(code: &str, message: &str) -> Vec<u8> {
    serde_json::json!({"error": {"code": code, "message": message, "target": "properties.subnet", "details": []}})
        .to_string()
        .into_bytes()
}

#[test]
fn blank_codes_and_messages_fall_back() {
    let e = ArmError::from_response(400, &body(" ", ""), None);
    assert_eq!(e.code(), "BadRequest");
    assert!(
        matches!(&e, ArmError::Terminal { message, .. } if !message.trim().is_empty()),
        "{e:?}"
    );
}

#[test]
fn classifies_statuses_and_codes() {
    let e = ArmError::from_response(404, &body("ResourceNotFound", "gone"), None);
    assert!(
        matches!(&e, ArmError::NotFound { code, message } if code == "ResourceNotFound" && message == "gone")
    );
    assert!(!e.is_retryable());

    let e = ArmError::from_response(429, b"", Some(Duration::from_secs(3)));
    assert_eq!(
        e,
        ArmError::Throttled {
            retry_after: Duration::from_secs(3)
        }
    );
    assert!(e.is_retryable());
    assert_eq!(
        ArmError::from_response(429, b"", None),
        ArmError::Throttled {
            retry_after: DEFAULT_THROTTLE_DELAY
        }
    );

    for status in [408, 500, 502, 503, 504] {
        let e = ArmError::from_response(status, b"", None);
        assert!(
            matches!(e, ArmError::Transient { status: Some(s), .. } if s == status),
            "{status}"
        );
        assert!(e.is_retryable());
    }
    let e = ArmError::from_response(409, &body("AnotherOperationInProgress", "busy"), None);
    assert_eq!(e.metric_label(), "transient");
    let e = ArmError::from_response(400, &body("RetryableErrorDueToNetwork", "x"), None);
    assert_eq!(e.metric_label(), "transient");

    let e = ArmError::from_response(412, &body("PreconditionFailed", "etag"), None);
    assert_eq!(e.metric_label(), "transient");
    assert!(e.is_retryable());

    let e = ArmError::from_response(403, &body("AuthorizationFailed", "no rights"), None);
    assert_eq!(
        e,
        ArmError::Auth {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "no rights".into()
        }
    );
    assert!(!e.is_retryable());

    let e = ArmError::from_response(
        400,
        &body("LinkedInvalidPropertyId", "Property id 'x' is invalid"),
        None,
    );
    assert_eq!(
        e,
        ArmError::Terminal {
            status: 400,
            code: "LinkedInvalidPropertyId".into(),
            message: "Property id 'x' is invalid".into(),
            target: Some("properties.subnet".into())
        }
    );
    assert_eq!(e.code(), "LinkedInvalidPropertyId");
    assert!(!e.is_retryable());
}

/// Issue 20, item 8: who the caller is (401, a refused token) against what it may do (403).
#[test]
fn authentication_and_authorization_are_told_apart() {
    for (status, code, authentication) in [
        (401, "InvalidAuthenticationToken", true),
        (401, "ExpiredAuthenticationToken", true),
        (401, "Unauthorized", true),
        (403, "InvalidAuthenticationTokenTenant", true),
        (403, "AuthorizationFailed", false),
        (403, "LinkedAuthorizationFailed", false),
        (400, "LinkedAccessCheckFailed", false),
        (403, "Forbidden", false),
    ] {
        let e = ArmError::from_response(status, &body(code, "m"), None);
        assert_eq!(e.is_authentication(), authentication, "{status} {code}");
    }
    assert!(ArmError::Credential("no token".into()).is_authentication());
    let e = ArmError::from_response(
        400,
        &body(
            "LinkedAccessCheckFailed",
            "The client with object id 'o' does not have authorization to perform action 'Microsoft.Network/publicIPAddresses/join/action' over scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/p' or the scope is invalid",
        ),
        None,
    );
    assert_eq!(
        e.denied(),
        Some(Denied {
            actions: "Microsoft.Network/publicIPAddresses/join/action".into(),
            scope:
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/p"
                    .into()
        })
    );
    assert_eq!(
        ArmError::from_response(403, &body("Forbidden", "no"), None).denied(),
        None
    );
}

#[test]
fn unwrapped_and_non_json_bodies() {
    let e = ArmError::from_response(
        400,
        br#"{"code":"InvalidResourceName","message":"bad name"}"#,
        None,
    );
    assert_eq!(e.code(), "InvalidResourceName");
    assert_eq!(e.message(), "bad name");
    let e = ArmError::from_response(502, b"<html>bad gateway</html>", None);
    assert_eq!(e.code(), "BadGateway");
    assert_eq!(e.message(), "<html>bad gateway</html>");
    let e = ArmError::from_response(400, b"", None);
    assert_eq!(e.message(), "HTTP 400");
}

#[test]
fn operation_errors() {
    let e = ArmError::from_operation(
        200,
        "Failed",
        Some(ErrorDetail {
            code: Some("PrivateEndpointCreationFailed".into()),
            message: Some("boom".into()),
            target: None,
        }),
    );
    assert_eq!(e.code(), "PrivateEndpointCreationFailed");
    assert_eq!(e.metric_label(), "terminal");
    let e = ArmError::from_operation(200, "Canceled", None);
    assert_eq!(e.code(), "Canceled");
    assert!(
        e.is_retryable(),
        "a cancelled operation is re-read, not a stall"
    );
    let e = ArmError::from_operation(
        200,
        "Failed",
        Some(ErrorDetail {
            code: Some("RetryableError".into()),
            message: Some("A retryable error occurred.".into()),
            target: None,
        }),
    );
    assert_eq!(e.metric_label(), "transient");
    let e = ArmError::from_operation(
        200,
        "Canceled",
        Some(ErrorDetail {
            code: Some("CanceledAndSupersededDueToAnotherOperation".into()),
            message: None,
            target: None,
        }),
    );
    assert!(e.is_retryable());
}

/// Behaviour 10 of reference/arm-behaviours.md: the code decides, not only the status.
#[test]
fn codes_decide_between_transient_and_needs_a_person() {
    let cases: &[(u16, &str, &str)] = &[
        (409, "MissingSubscriptionRegistration", "terminal"),
        (409, "ScopeLocked", "terminal"),
        (409, "ResourceGroupBeingDeleted", "terminal"),
        (403, "RequestDisallowedByPolicy", "terminal"),
        (409, "QuotaExceeded", "terminal"),
        (400, "PublicIPCountLimitReachedQuota", "terminal"),
        (409, "OperationNotAllowed", "terminal"),
        (
            400,
            "PrivateEndpointCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled",
            "terminal",
        ),
        (
            400,
            "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
            "terminal",
        ),
        (
            400,
            "NameOfExistingPrivateEndpointNicCannotBeChanged",
            "terminal",
        ),
        (409, "SomethingUnknown", "terminal"),
        (409, "AnotherOperationInProgress", "transient"),
        (409, "Conflict", "transient"),
        (429, "RetryableError", "transient"),
        (400, "RetryableErrorDueToNetwork", "transient"),
        (
            409,
            "CanceledAndSupersededDueToAnotherOperation",
            "transient",
        ),
        (503, "ServiceUnavailable", "transient"),
        (429, "SubscriptionRequestsThrottled", "throttled"),
        (403, "AuthorizationFailed", "auth"),
        (403, "LinkedAuthorizationFailed", "auth"),
        (400, "LinkedAccessCheckFailed", "auth"),
        (401, "InvalidAuthenticationToken", "auth"),
    ];
    for (status, code, class) in cases {
        let e = ArmError::from_response(*status, &body(code, "m"), None);
        assert_eq!(e.metric_label(), *class, "{status} {code}");
        assert_eq!(
            e.code(),
            if *class == "throttled" {
                "TooManyRequests"
            } else {
                code
            }
        );
    }
    let e = ArmError::from_response(
        429,
        &body("RetryableError", "A retryable error occurred."),
        Some(Duration::from_secs(4)),
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert_eq!(
        ArmError::from_response(409, b"", None).metric_label(),
        "transient",
        "a bare 409 is ARM's generic Conflict"
    );
}
