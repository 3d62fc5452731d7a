//! `If-Match` / `If-None-Match` on Private DNS writes (the spec's headers on zones, virtual
//! network links and record sets), answered as Azure PowerShell's recorded tests against Azure
//! show it: 412 `PreconditionFailed`, "The Zone {name} exists already and hence cannot be created
//! again." and "The Zone {name} has been modified (etag mismatch)." (Azure/azure-powershell,
//! `src/PrivateDns/PrivateDns.Test/ScenarioTests/*.ps1`).

use serde_json::Value;

use super::super::http::ApiError;
use super::call::Call;

/// What a message calls the resource: `Zone`, `Record set`, `Virtual network link` (the last
/// one's wording is not in the recorded tests, which match only the rest of the message).
pub struct Named<'a> {
    pub what: &'static str,
    pub name: &'a str,
}

fn failed(message: String) -> ApiError {
    ApiError::new(412, "PreconditionFailed", message)
}

/// An etag as sent or stored, without quotes or a weak marker.
fn bare(etag: &str) -> &str {
    etag.trim().trim_start_matches("W/").trim_matches('"')
}

/// Checks the request's conditions against the resource as it is (`None`: absent).
/// `If-None-Match: *` refuses an existing resource (other values are ignored, as the spec
/// says); `If-Match` refuses an absent resource and, unless it is `*`, one whose etag differs.
pub fn check(call: &Call, existing: Option<&Value>, named: Named) -> Result<(), ApiError> {
    let Named { what, name } = named;
    if existing.is_some() && call.if_none_match.as_deref().map(str::trim) == Some("*") {
        return Err(failed(format!(
            "The {what} {name} exists already and hence cannot be created again."
        )));
    }
    let Some(wanted) = call.if_match.as_deref() else {
        return Ok(());
    };
    let matches = existing.is_some_and(|e| {
        bare(wanted) == "*"
            || e["etag"]
                .as_str()
                .is_some_and(|etag| bare(etag) == bare(wanted))
    });
    if matches {
        Ok(())
    } else {
        Err(failed(format!(
            "The {what} {name} has been modified (etag mismatch)."
        )))
    }
}
