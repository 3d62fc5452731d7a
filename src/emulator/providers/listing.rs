//! Collections: the children of a resource, every resource of a type in a subscription, and
//! every top-level resource of a subscription or resource group, one page at a time.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::http::{ApiError, ArmResponse};
use super::super::ids;
use super::super::shared::Shared;
use super::super::state::{self, Map};
use super::call::{Call, Kind, Reply, View};
use super::datacollection;
use super::privatedns::RECORD_TYPES;
use super::routes;
use super::rules::{require_resource_group, require_subscription};

/// What a page is cut from besides the key range.
struct ListCtx<'a> {
    shared: &'a Shared,
    api_version: &'a str,
    skip_token: Option<&'a str>,
    path: &'a str,
}

impl ListCtx<'_> {
    fn of<'c>(call: &'c Call) -> ListCtx<'c> {
        ListCtx {
            shared: call.shared,
            api_version: &call.api_version,
            skip_token: call.skip_token.as_deref(),
            path: &call.path,
        }
    }

    /// Renders an item as GET returns one of `kind`.
    fn as_kind(&self, kind: &'static Kind) -> impl Fn(&Map, &Arc<Value>) -> Value + '_ {
        move |map, v| kind.render(map, v, &View::new(self.shared, self.api_version))
    }
}

/// `GET .../{type}`: the direct children of one type below the parent.
pub fn list_children(call: &Call) -> Result<ArmResponse, ApiError> {
    let prefix = format!("{}/", call.key());
    let map = call.shared.store.read();
    let plen = prefix.len();
    let ctx = ListCtx::of(call);
    page(
        &ctx,
        &map,
        &prefix,
        |k, _| !k[plen..].contains('/'),
        ctx.as_kind(call.kind),
    )
}

/// `GET .../privateDnsZones/{zone}/ALL` (RecordSets_List): the zone's record sets of every type.
pub fn list_record_sets(call: &Call) -> Result<ArmResponse, ApiError> {
    let zone = call
        .rid
        .parent()
        .map(|p| ids::key(&p.to_id()))
        .unwrap_or_default();
    let prefix = format!("{zone}/");
    let plen = prefix.len();
    let map = call.shared.store.read();
    let ctx = ListCtx::of(call);
    let record_set = |k: &str| {
        let mut parts = k[plen..].split('/');
        matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(t), Some(_), None) if RECORD_TYPES.contains(&t)
        )
    };
    page(
        &ctx,
        &map,
        &prefix,
        |k, _| record_set(k),
        |map, v| {
            routes::render(
                map,
                &super::type_key_of(v),
                v,
                &View::new(ctx.shared, ctx.api_version),
            )
        },
    )
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
    };
    let of_type = |k: &str| {
        let mut parts = k[plen..].split('/');
        matches!(
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
            (Some(_), Some("providers"), Some(n), Some(t), Some(_), None) if n == ns && t == ty
        )
    };
    page(&ctx, &map, &prefix, |k, _| of_type(k), ctx.as_kind(kind))
}

/// `GET …/dataCollectionEndpoints/{name}/associations`
/// (`DataCollectionRuleAssociations_ListByDataCollectionEndpoint`): the associations with the
/// endpoint, on whatever resource they are; 404 when the endpoint does not exist.
pub fn list_endpoint_associations(call: &Call) -> Result<Reply, ApiError> {
    let map = call.shared.store.read();
    let endpoint = call.rid.parent().map(|p| p.to_id()).unwrap_or_default();
    let key = ids::key(&endpoint);
    if !map.contains_key(&key) {
        return Err(ApiError::new(
            404,
            "ResourceNotFound",
            format!("The Resource '{endpoint}' was not found."),
        ));
    }
    let ctx = ListCtx::of(call);
    let extension = format!("/providers/{}/", datacollection::ASSOCIATIONS);
    let with_endpoint = |k: &str, v: &Value| {
        k.contains(&extension)
            && v["properties"]["dataCollectionEndpointId"]
                .as_str()
                .is_some_and(|e| ids::key(e) == key)
    };
    let kind = routes::kind_for(datacollection::ASSOCIATIONS).unwrap_or(call.kind);
    page(
        &ctx,
        &map,
        "/subscriptions/",
        with_endpoint,
        ctx.as_kind(kind),
    )
    .map(Reply::from)
}

/// A generic resource list: `GET /subscriptions/{s}[/resourceGroups/{rg}]/resources`.
pub struct ResourceList<'a> {
    pub shared: &'a Shared,
    pub sub: String,
    pub rg: Option<String>,
    pub skip_token: Option<String>,
    pub path: String,
    pub api_version: String,
}

/// Every top-level resource (not the resources below them, as ARM lists them) in the
/// `GenericResourceExpanded` shape: id, name, type, location, tags and, where the resource has
/// them, kind and identity.
pub fn list_resources(list: &ResourceList) -> Result<ArmResponse, ApiError> {
    let map = list.shared.store.read();
    let prefix = match &list.rg {
        Some(rg) => {
            require_resource_group(&map, &list.sub, rg)?;
            format!(
                "{}/providers/",
                ids::key(&ids::resource_group_id(&list.sub, rg))
            )
        }
        None => {
            require_subscription(&map, &list.sub)?;
            format!(
                "/subscriptions/{}/resourcegroups/",
                list.sub.to_ascii_lowercase()
            )
        }
    };
    let ctx = ListCtx {
        shared: list.shared,
        api_version: &list.api_version,
        skip_token: list.skip_token.as_deref(),
        path: &list.path,
    };
    let top_level = |k: &str| ids::ResourceId::parse(k).is_some_and(|r| r.segments.len() == 1);
    page(
        &ctx,
        &map,
        &prefix,
        |k, _| top_level(k),
        |_, v| {
            let mut item = json!({"id": v["id"], "name": v["name"], "type": v["type"]});
            for field in ["location", "tags", "kind", "identity", "sku"] {
                if let Some(x) = v.get(field).filter(|x| !x.is_null()) {
                    item[field] = x.clone();
                }
            }
            item
        },
    )
}

/// One page of a key range; the skip token is the last key of the previous page, so a page costs
/// a range seek plus the page, however large the collection.
fn page(
    ctx: &ListCtx,
    map: &Map,
    prefix: &str,
    keep: impl Fn(&str, &Value) -> bool,
    render: impl Fn(&Map, &Arc<Value>) -> Value,
) -> Result<ArmResponse, ApiError> {
    let page_size = ctx.shared.settings().page_size.max(1);
    let mut items = Vec::with_capacity(page_size.min(1024));
    let mut last: Option<&str> = None;
    let mut more = false;
    for (k, v) in state::range_after(map, prefix, ctx.skip_token) {
        if !keep(k, v) {
            continue;
        }
        if items.len() == page_size {
            more = true;
            break;
        }
        items.push(render(map, v));
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
