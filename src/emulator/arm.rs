//! The ARM request pipeline: authentication, faults, throttling, api-version, routing.

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::auth;
use super::faults::InjectedStatus;
use super::http::{ApiError, ArmResponse};
use super::ids::ResourceId;
use super::names;
use super::providers::{self, Call, Kind};
use super::shared::Shared;
use super::throttle::{Class, Taken};
use super::versions::ApiSet;

/// Where an ARM path points.
enum Route {
    Subscriptions,
    Tenants,
    Subscription {
        sub: String,
    },
    Providers {
        sub: String,
    },
    Provider {
        sub: String,
        ns: String,
    },
    /// Every top-level resource of a subscription, or of one of its resource groups.
    Resources {
        sub: String,
        rg: Option<String>,
    },
    ResourceGroups {
        sub: String,
    },
    ResourceGroup {
        sub: String,
        rg: String,
    },
    Operation {
        sub: String,
        ns: String,
        name: String,
        results: bool,
    },
    SubscriptionList {
        sub: String,
        kind: &'static Kind,
    },
    Resource {
        rid: ResourceId,
        kind: &'static Kind,
        collection: bool,
    },
    /// `/providers/Microsoft.Management/managementGroups/{group}/providers/{ns}/{type}[/{name}]`.
    ManagementGroup {
        group: String,
        type_key: String,
        name: Option<String>,
    },
}

/// The namespace and type segments of the part of a path after `providers/{ns}`: an extension
/// resource's (after a second `providers/{ns}`) are its own; also where that second part
/// starts, in type segments.
fn types_of<'a>(ns: &'a str, rest: &'a [&'a str]) -> (&'a str, Vec<&'a str>, Option<usize>) {
    let mut ns = ns;
    let mut types = Vec::new();
    let mut extension_at = None;
    for (i, pair) in rest.chunks(2).enumerate() {
        if pair[0] == "providers" && i > 0 {
            ns = pair.get(1).copied().unwrap_or_default();
            types.clear();
            extension_at = Some(i);
        } else {
            types.push(pair[0]);
        }
    }
    (ns, types, extension_at)
}

fn unknown_type(ns: &str, ty: &str) -> ApiError {
    ApiError::new(
        404,
        "InvalidResourceType",
        format!("The resource type '{ty}' could not be found in the namespace '{ns}'."),
    )
}

fn route(segs: &[String]) -> Result<Route, ApiError> {
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["subscriptions"] => Ok(Route::Subscriptions),
        ["tenants"] => Ok(Route::Tenants),
        ["subscriptions", _] => Ok(Route::Subscription {
            sub: segs[1].clone(),
        }),
        ["subscriptions", _, "providers"] => Ok(Route::Providers {
            sub: segs[1].clone(),
        }),
        ["subscriptions", _, "providers", _] => Ok(Route::Provider {
            sub: segs[1].clone(),
            ns: segs[3].clone(),
        }),
        ["subscriptions", _, "resources"] => Ok(Route::Resources {
            sub: segs[1].clone(),
            rg: None,
        }),
        ["subscriptions", _, "resourcegroups", _, "resources"] => Ok(Route::Resources {
            sub: segs[1].clone(),
            rg: Some(segs[3].clone()),
        }),
        ["subscriptions", _, "resourcegroups"] => Ok(Route::ResourceGroups {
            sub: segs[1].clone(),
        }),
        ["subscriptions", _, "resourcegroups", _] => Ok(Route::ResourceGroup {
            sub: segs[1].clone(),
            rg: segs[3].clone(),
        }),
        [
            "subscriptions",
            _,
            "providers",
            _,
            "locations",
            _,
            kind @ ("operationstatuses" | "operationresults" | "operations"),
            _,
        ] => Ok(Route::Operation {
            sub: segs[1].clone(),
            ns: segs[3].clone(),
            name: segs[7].clone(),
            results: *kind == "operationresults",
        }),
        ["subscriptions", _, "providers", ns, ty] => {
            let kind = providers::kind_for(&format!("{ns}/{ty}"))
                .ok_or_else(|| unknown_type(&segs[3], &segs[4]))?;
            Ok(Route::SubscriptionList {
                sub: segs[1].clone(),
                kind,
            })
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            ns,
            rest @ ..,
        ] if !rest.is_empty() => {
            let collection = rest.len() % 2 == 1;
            let (kind_ns, types, extension_at) = types_of(ns, rest);
            let type_key = format!("{kind_ns}/{}", types.join("/"));
            let named_ns = extension_at
                .and_then(|at| segs.get(6 + 2 * at + 1))
                .unwrap_or(&segs[5]);
            let kind = providers::kind_for(&type_key)
                .filter(|k| k.extension == extension_at.is_some())
                .ok_or_else(|| unknown_type(named_ns, &types.join("/")))?;
            if let Some(at) = extension_at {
                // The resource extended must be of a type the emulator serves.
                let base: Vec<&str> = rest[..2 * at].iter().step_by(2).copied().collect();
                providers::kind_for(&format!("{ns}/{}", base.join("/")))
                    .ok_or_else(|| unknown_type(&segs[5], &base.join("/")))?;
            }
            let mut segments: Vec<(String, String)> = segs[6..]
                .chunks(2)
                .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
                .collect();
            if segments.is_empty() {
                segments.push((String::new(), String::new()));
            }
            Ok(Route::Resource {
                rid: ResourceId {
                    subscription: segs[1].clone(),
                    resource_group: segs[3].clone(),
                    namespace: segs[5].clone(),
                    segments,
                },
                kind,
                collection,
            })
        }
        [
            "providers",
            "microsoft.management",
            "managementgroups",
            _,
            "providers",
            ns,
            ty,
            name @ ..,
        ] if name.len() <= 1 => Ok(Route::ManagementGroup {
            group: segs[3].clone(),
            type_key: format!("{ns}/{ty}"),
            name: segs.get(7).cloned(),
        }),
        _ => Err(ApiError::new(
            404,
            "NotFound",
            "The requested path is not served by the ARM emulator.",
        )),
    }
}

/// The resource type a request counts under (see `Counters::count_for`).
pub fn counted_type(segs: &[String]) -> String {
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    match l.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["subscriptions"] | ["subscriptions", _] => "Microsoft.Resources/subscriptions".into(),
        ["tenants"] => "Microsoft.Resources/tenants".into(),
        ["subscriptions", _, "providers"] | ["subscriptions", _, "providers", _] => {
            "Microsoft.Resources/providers".into()
        }
        ["subscriptions", _, "resources"]
        | ["subscriptions", _, "resourcegroups", _, "resources"] => {
            "Microsoft.Resources/resources".into()
        }
        ["subscriptions", _, "resourcegroups", ..] if !l.iter().any(|s| s == "providers") => {
            "Microsoft.Resources/resourceGroups".into()
        }
        [
            "subscriptions",
            _,
            "providers",
            _,
            "locations",
            _,
            "operationresults",
            _,
        ] => "operationResults".into(),
        ["subscriptions", _, "providers", _, "locations", _, _, _] => "operationStatuses".into(),
        ["subscriptions", _, "providers", ns, ty] => canonical(ns, &[ty]),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            ns,
            rest @ ..,
        ] => {
            let (ns, types, _) = types_of(ns, rest);
            canonical(ns, &types)
        }
        [
            "providers",
            "microsoft.management",
            "managementgroups",
            _,
            "providers",
            ns,
            ty,
            ..,
        ] => providers::management_group_type(&format!("{ns}/{ty}"))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{ns}/{ty}")),
        _ => "unknown".into(),
    }
}

fn canonical(ns: &str, types: &[&str]) -> String {
    let key = format!("{ns}/{}", types.join("/"));
    providers::kind_for(&key)
        .map(|k| k.type_name())
        .unwrap_or(key)
}

/// The api-version families of a namespace's kinds, in the route table's order (operations
/// of a namespace are polled with the api-version of the request that started them).
fn api_sets_of_namespace(ns: &str) -> Vec<ApiSet> {
    let mut sets = Vec::new();
    for kind in providers::KINDS {
        if kind.namespace.eq_ignore_ascii_case(ns) && !sets.contains(&kind.api) {
            sets.push(kind.api);
        }
    }
    sets
}

/// The api-version of a request, which one of `sets` must accept (the first names the
/// supported versions in the error).
fn check_api_version(sets: &[ApiSet], v: Option<&str>) -> Result<String, ApiError> {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return Err(ApiError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    if sets.iter().any(|s| s.accepts(v)) {
        return Ok(v.to_string());
    }
    Err(ApiError::bad_request(
        "InvalidApiVersionParameter",
        format!(
            "The api-version '{v}' is invalid. The supported versions are '{}'.",
            sets.first()
                .map(|s| s.versions().join(","))
                .unwrap_or_default()
        ),
    ))
}

pub struct Incoming<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub segs: &'a [String],
    pub query: &'a [(String, String)],
    pub authorization: Option<&'a str>,
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub body: Bytes,
}

/// Handles one ARM request; returns the response or the error, plus throttle headers.
pub async fn handle(
    shared: &Shared,
    req: Incoming<'_>,
) -> (Result<ArmResponse, ApiError>, Vec<(&'static str, String)>) {
    let mut extra = Vec::new();
    let caller = match auth::check_bearer(req.authorization, &shared.keys) {
        Ok(c) => c,
        Err(e) => return (Err(e), extra),
    };
    let mut injected = None;
    if !shared.faults.is_empty() {
        let f = shared.faults.for_request(req.method.as_str(), req.path);
        if !f.latency.is_zero() {
            tokio::time::sleep(f.latency).await;
        }
        if let Some(fault) = f.status {
            let applied = fault.applied;
            let e = injected_error(fault, shared.settings().retry_after_secs);
            if !applied {
                return (Err(e), extra);
            }
            injected = Some(e);
        }
    }
    if let Some(sub) = req.segs.get(1) {
        let class = Class::for_method(req.method);
        match shared.throttle.take(sub, &caller, class) {
            Taken::Unlimited => {}
            Taken::Remaining { principal, global } => {
                extra.push((class.header(), principal.to_string()));
                extra.push((class.global_header(), global.to_string()));
            }
            Taken::RetryAfter(secs) => {
                let mut e = ApiError::new(
                    429,
                    "SubscriptionRequestsThrottled",
                    format!(
                        "Number of '{}' requests for subscription '{sub}' exceeded the limit. Please try again after '{secs}' seconds.",
                        match class {
                            Class::Reads => "read",
                            Class::Writes => "write",
                            Class::Deletes => "delete",
                        }
                    ),
                );
                e.retry_after = Some(secs);
                extra.push((class.header(), "0".to_string()));
                return (Err(e), extra);
            }
        }
    }
    let result = dispatch(shared, req, caller);
    match injected {
        Some(e) => (Err(e), extra),
        None => (result, extra),
    }
}

/// The ARM error an injected status fault answers.
fn injected_error(fault: InjectedStatus, default_retry: u64) -> ApiError {
    let (code, message) = match fault.status {
        429 => (
            "SubscriptionRequestsThrottled",
            "Number of requests for subscription exceeded the limit (injected fault).",
        ),
        500 => (
            "InternalServerError",
            "Encountered internal server error (injected fault).",
        ),
        503 => (
            "ServiceUnavailable",
            "The service is temporarily unavailable (injected fault).",
        ),
        _ => ("InjectedFault", "Injected fault."),
    };
    let mut e = ApiError::new(
        fault.status,
        fault.code.as_deref().unwrap_or(code),
        fault.message.as_deref().unwrap_or(message),
    );
    e.retry_after = Some(fault.retry_after.unwrap_or(default_retry));
    e
}

fn dispatch(shared: &Shared, req: Incoming<'_>, caller: String) -> Result<ArmResponse, ApiError> {
    let route = route(req.segs)?;
    let q = |name: &str| {
        req.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let api_version = q("api-version");
    let skip_token = q("$skipToken").map(str::to_string);
    let body = if req.body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(&req.body).map_err(|e| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{e}'."),
            )
        })?)
    };
    providers::settle(shared);
    match route {
        Route::Subscriptions => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::list_subscriptions(shared)
        }
        Route::Tenants => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::list_tenants(shared)
        }
        Route::Providers { sub } => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::list_providers(shared, &sub)
        }
        Route::Provider { sub, ns } => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::get_provider(shared, &sub, &ns)
        }
        Route::Resources { sub, rg } => {
            let api_version = check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            // Answering a filtered list unfiltered would be wrong in a way a client cannot see.
            if q("$filter").is_some() {
                return Err(ApiError::bad_request(
                    "BadRequest",
                    "The ARM emulator does not evaluate $filter on resource lists.",
                ));
            }
            providers::list_resources(&providers::ResourceList {
                shared,
                sub,
                rg,
                skip_token,
                path: req.path.to_string(),
                api_version,
            })
        }
        Route::Subscription { sub } => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::get_subscription(shared, &sub)
        }
        Route::ResourceGroups { sub } => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            only_get(req.method)?;
            providers::list_resource_groups(shared, &sub)
        }
        Route::ResourceGroup { sub, rg } => {
            check_api_version(&[ApiSet::Resources], api_version)?;
            match *req.method {
                Method::GET => providers::get_resource_group(shared, &sub, &rg),
                Method::PUT => {
                    names::check_resource_group(&rg)?;
                    providers::put_resource_group(shared, &sub, &rg, body.as_ref())
                }
                _ => Err(ApiError::new(
                    405,
                    "MethodNotAllowed",
                    "Only GET and PUT are served for resource groups.",
                )),
            }
        }
        Route::Operation {
            sub,
            ns,
            name,
            results,
        } => {
            let sets = api_sets_of_namespace(&ns);
            if sets.is_empty() {
                return Err(unknown_type(&ns, "locations"));
            }
            check_api_version(&sets, api_version)?;
            only_get(req.method)?;
            providers::poll_operation(shared, &sub, &name, results)
        }
        Route::SubscriptionList { sub, kind } => {
            let v = check_api_version(&[kind.api], api_version)?;
            only_get(req.method)?;
            providers::list_subscription(shared, &sub, kind, &v, skip_token, req.path)
        }
        Route::Resource {
            rid,
            kind,
            collection,
        } => {
            let api_version = check_api_version(&[kind.api], api_version)?;
            if *req.method == Method::PUT && !collection {
                names::check_resource(kind.name_rule, rid.name())?;
            }
            let call = Call {
                shared,
                method: req.method.clone(),
                kind,
                rid,
                collection,
                body,
                api_version,
                skip_token,
                path: req.path.to_string(),
                caller,
                if_match: req.if_match.map(str::to_string),
                if_none_match: req.if_none_match.map(str::to_string),
            };
            providers::dispatch(&call)
        }
        Route::ManagementGroup {
            group,
            type_key,
            name,
        } => {
            check_api_version(&[ApiSet::PrivateLinks], api_version)?;
            providers::dispatch_management_group(
                shared,
                &providers::GroupCall {
                    method: req.method.clone(),
                    group,
                    type_key,
                    name,
                    body,
                    caller,
                },
            )
        }
    }
}

fn only_get(m: &Method) -> Result<(), ApiError> {
    if *m == Method::GET {
        Ok(())
    } else {
        Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!("The requested method '{m}' is not allowed."),
        ))
    }
}

#[cfg(test)]
mod tests;
