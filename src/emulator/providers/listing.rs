//! Collections: the children of a resource and every resource of a type in a subscription,
//! one page at a time.

use serde_json::json;

use super::super::http::{ApiError, ArmResponse};
use super::super::shared::Shared;
use super::super::state::{self, Map};
use super::call::{Call, Kind, View};
use super::rules::require_subscription;

/// What a page is cut from besides the key range.
struct ListCtx<'a> {
    shared: &'a Shared,
    api_version: &'a str,
    skip_token: Option<&'a str>,
    path: &'a str,
    kind: &'static Kind,
}

/// `GET .../{type}`: the direct children of one type below the parent.
pub fn list_children(call: &Call) -> Result<ArmResponse, ApiError> {
    let prefix = format!("{}/", call.key());
    let map = call.shared.store.read();
    let plen = prefix.len();
    let ctx = ListCtx {
        shared: call.shared,
        api_version: &call.api_version,
        skip_token: call.skip_token.as_deref(),
        path: &call.path,
        kind: call.kind,
    };
    page(&ctx, &map, &prefix, |k| !k[plen..].contains('/'))
}

/// `GET /subscriptions/{s}/providers/{ns}/{type}`: every resource of a type in a subscription.
pub fn list_subscription(
    shared: &Shared,
    sub: &str,
    kind: &'static Kind,
    api_version: &str,
    skip_token: Option<String>,
    path: &str,
) -> Result<ArmResponse, ApiError> {
    let map = shared.store.read();
    require_subscription(&map, sub)?;
    let prefix = format!(
        "/subscriptions/{}/resourcegroups/",
        sub.to_ascii_lowercase()
    );
    let ns = kind.namespace.to_ascii_lowercase();
    let ty = kind.types[0].to_ascii_lowercase();
    let plen = prefix.len();
    let ctx = ListCtx {
        shared,
        api_version,
        skip_token: skip_token.as_deref(),
        path,
        kind,
    };
    page(&ctx, &map, &prefix, |k| {
        let mut parts = k[plen..].split('/');
        matches!(
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
            (Some(_), Some("providers"), Some(n), Some(t), Some(_), None) if n == ns && t == ty
        )
    })
}

/// One page of a key range; the skip token is the last key of the previous page, so a page costs
/// a range seek plus the page, however large the collection.
fn page(
    ctx: &ListCtx,
    map: &Map,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<ArmResponse, ApiError> {
    let page_size = ctx.shared.settings().page_size.max(1);
    let mut items = Vec::with_capacity(page_size.min(1024));
    let mut last: Option<&str> = None;
    let mut more = false;
    for (k, v) in state::range_after(map, prefix, ctx.skip_token) {
        if !keep(k) {
            continue;
        }
        if items.len() == page_size {
            more = true;
            break;
        }
        items.push(
            ctx.kind
                .render(map, v, &View::new(ctx.shared, ctx.api_version)),
        );
        last = Some(k);
    }
    let mut body = json!({ "value": items });
    if let (true, Some(last)) = (more, last) {
        let token: String =
            percent_encoding::utf8_percent_encode(last, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        body["nextLink"] = json!(format!(
            "{}{}?api-version={}&$skipToken={token}",
            ctx.shared.endpoint, ctx.path, ctx.api_version
        ));
    }
    Ok(ArmResponse::json(200, body))
}
