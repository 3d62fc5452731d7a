//! Resource providers: the kinds the emulator knows, request dispatch, and the rules every kind
//! shares (resource group checks, read-only fields, location, paging, long-running operations).

mod hybridcompute;
mod network;
mod nsg;
mod privatedns;
mod resources;

use std::sync::Arc;

use http::Method;
use jiff::Timestamp;
use serde_json::{Map as JsonMap, Value, json};

use super::config::Behaviours;
use super::faults::FaultAction;
use super::http::{ApiError, ArmResponse};
use super::ids::{self, ResourceId};
use super::lro::{Effect, OpStatus, Operation, Outcome};
use super::shared::Shared;
use super::state::{self, Map};
use super::versions::ApiSet;

pub use resources::{
    get_resource_group, get_subscription, list_resource_groups, put_resource_group,
};

/// A resource type the emulator serves.
#[derive(Debug)]
pub struct Kind {
    /// Lower-cased `namespace/type[/childType]`.
    pub key: &'static str,
    pub namespace: &'static str,
    /// Canonical casing of each type segment.
    pub types: &'static [&'static str],
    pub api: ApiSet,
}

impl Kind {
    pub fn type_name(&self) -> String {
        format!("{}/{}", self.namespace, self.types.join("/"))
    }
}

macro_rules! kind {
    ($key:literal, $ns:literal, [$($t:literal),+], $api:ident) => {
        Kind { key: $key, namespace: $ns, types: &[$($t),+], api: ApiSet::$api }
    };
}

pub const SCOPES: &str = "microsoft.hybridcompute/privatelinkscopes";
pub const CONNECTIONS: &str =
    "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections";
pub const LINK_RESOURCES: &str = "microsoft.hybridcompute/privatelinkscopes/privatelinkresources";
pub const MACHINES: &str = "microsoft.hybridcompute/machines";
pub const VNETS: &str = "microsoft.network/virtualnetworks";
pub const SUBNETS: &str = "microsoft.network/virtualnetworks/subnets";
pub const ENDPOINTS: &str = "microsoft.network/privateendpoints";
pub const ZONE_GROUPS: &str = "microsoft.network/privateendpoints/privatednszonegroups";
pub const ZONES: &str = "microsoft.network/privatednszones";
pub const ZONE_LINKS: &str = "microsoft.network/privatednszones/virtualnetworklinks";
pub const A_RECORDS: &str = "microsoft.network/privatednszones/a";
pub const NICS: &str = "microsoft.network/networkinterfaces";
pub const NSGS: &str = "microsoft.network/networksecuritygroups";
pub const SECURITY_RULES: &str = "microsoft.network/networksecuritygroups/securityrules";

pub static KINDS: &[Kind] = &[
    kind!(
        "microsoft.hybridcompute/privatelinkscopes",
        "Microsoft.HybridCompute",
        ["privateLinkScopes"],
        HybridCompute
    ),
    kind!(
        "microsoft.hybridcompute/privatelinkscopes/privateendpointconnections",
        "Microsoft.HybridCompute",
        ["privateLinkScopes", "privateEndpointConnections"],
        HybridCompute
    ),
    kind!(
        "microsoft.hybridcompute/privatelinkscopes/privatelinkresources",
        "Microsoft.HybridCompute",
        ["privateLinkScopes", "privateLinkResources"],
        HybridCompute
    ),
    kind!(
        "microsoft.hybridcompute/machines",
        "Microsoft.HybridCompute",
        ["machines"],
        HybridCompute
    ),
    kind!(
        "microsoft.network/virtualnetworks",
        "Microsoft.Network",
        ["virtualNetworks"],
        Network
    ),
    kind!(
        "microsoft.network/virtualnetworks/subnets",
        "Microsoft.Network",
        ["virtualNetworks", "subnets"],
        Network
    ),
    kind!(
        "microsoft.network/networkinterfaces",
        "Microsoft.Network",
        ["networkInterfaces"],
        Network
    ),
    kind!(
        "microsoft.network/networksecuritygroups",
        "Microsoft.Network",
        ["networkSecurityGroups"],
        Network
    ),
    kind!(
        "microsoft.network/networksecuritygroups/securityrules",
        "Microsoft.Network",
        ["networkSecurityGroups", "securityRules"],
        Network
    ),
    kind!(
        "microsoft.network/privateendpoints",
        "Microsoft.Network",
        ["privateEndpoints"],
        Network
    ),
    kind!(
        "microsoft.network/privateendpoints/privatednszonegroups",
        "Microsoft.Network",
        ["privateEndpoints", "privateDnsZoneGroups"],
        Network
    ),
    kind!(
        "microsoft.network/privatednszones",
        "Microsoft.Network",
        ["privateDnsZones"],
        PrivateDns
    ),
    kind!(
        "microsoft.network/privatednszones/virtualnetworklinks",
        "Microsoft.Network",
        ["privateDnsZones", "virtualNetworkLinks"],
        PrivateDns
    ),
    kind!(
        "microsoft.network/privatednszones/a",
        "Microsoft.Network",
        ["privateDnsZones", "A"],
        PrivateDns
    ),
];

pub fn kind_for(type_key: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.key.eq_ignore_ascii_case(type_key))
}

/// One ARM request addressed to a resource or a collection below a resource group.
pub struct Call<'a> {
    pub shared: &'a Shared,
    pub method: Method,
    pub kind: &'static Kind,
    /// For a collection, the last segment's name is empty.
    pub rid: ResourceId,
    pub collection: bool,
    pub body: Option<Value>,
    pub api_version: String,
    pub skip_token: Option<String>,
    pub path: String,
    pub caller: String,
}

impl Call<'_> {
    pub fn key(&self) -> String {
        ids::key(&self.rid.to_id())
    }

    /// The id with the provider's canonical casing for namespace and types and the caller's
    /// casing for names (used when a resource is created).
    pub fn canonical_id(&self) -> String {
        let mut rid = self.rid.clone();
        rid.namespace = self.kind.namespace.to_string();
        for (seg, t) in rid.segments.iter_mut().zip(self.kind.types) {
            seg.0 = t.to_string();
        }
        rid.to_id()
    }

    pub fn body(&self) -> Result<&JsonMap<String, Value>, ApiError> {
        match &self.body {
            Some(Value::Object(o)) => Ok(o),
            Some(_) => Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the body must be a JSON object.",
            )),
            None => Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the request body is missing.",
            )),
        }
    }

    fn not_found(&self) -> ApiError {
        ApiError::not_found(
            &self.kind.type_name(),
            &self
                .rid
                .segments
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join("/"),
            &self.rid.resource_group,
        )
    }
}

pub fn dispatch(call: &Call) -> Result<ArmResponse, ApiError> {
    {
        let map = call.shared.store.read();
        require_resource_group(&map, &call.rid.subscription, &call.rid.resource_group)?;
        if let Some(parent) = call.rid.parent()
            && !map.contains_key(&ids::key(&parent.to_id()))
        {
            return Err(ApiError::new(
                404,
                "ParentResourceNotFound",
                format!(
                    "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                    parent.name()
                ),
            ));
        }
    }
    if call.collection {
        return if call.method == Method::GET {
            list_children(call)
        } else {
            Err(method_not_allowed(call))
        };
    }
    match (call.kind.key, &call.method) {
        (_, &Method::GET) if call.kind.key != LINK_RESOURCES => get_item(call),
        (SCOPES | CONNECTIONS | LINK_RESOURCES | MACHINES, _) => hybridcompute::handle(call),
        (ENDPOINTS | ZONE_GROUPS | VNETS | SUBNETS | NICS, _) => network::handle(call),
        (NSGS | SECURITY_RULES, _) => nsg::handle(call),
        (ZONES | ZONE_LINKS | A_RECORDS, _) => privatedns::handle(call),
        _ => Err(method_not_allowed(call)),
    }
}

pub fn method_not_allowed(call: &Call) -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        format!(
            "The requested method '{}' is not allowed for resource type '{}' in the emulator.",
            call.method,
            call.kind.type_name()
        ),
    )
}

pub fn require_resource_group(map: &Map, sub: &str, rg: &str) -> Result<(), ApiError> {
    if !map.contains_key(&ids::key(&ids::subscription_id(sub))) {
        return Err(ApiError::new(
            404,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ));
    }
    if !map.contains_key(&ids::key(&ids::resource_group_id(sub, rg))) {
        return Err(ApiError::new(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        ));
    }
    Ok(())
}

fn get_item(call: &Call) -> Result<ArmResponse, ApiError> {
    let map = call.shared.store.read();
    let v = map.get(&call.key()).ok_or_else(|| call.not_found())?;
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(
        200,
        render(&map, call.kind.key, v, &view),
    ))
}

/// What shapes a response besides the stored resource: the api-version asked for (newer
/// versions carry more properties) and the switchable behaviours.
pub struct View<'a> {
    pub api_version: &'a str,
    pub behaviours: Behaviours,
}

impl<'a> View<'a> {
    pub fn new(shared: &Shared, api_version: &'a str) -> View<'a> {
        View {
            api_version,
            behaviours: shared.settings().behaviours,
        }
    }
}

/// The resource as GET returns it: some properties are views of other resources.
pub fn render(map: &Map, kind_key: &str, v: &Arc<Value>, view: &View) -> Value {
    match kind_key {
        SCOPES => hybridcompute::render_scope(map, v, view.api_version),
        MACHINES => hybridcompute::render_machine(v),
        VNETS => network::render_vnet(map, v),
        ENDPOINTS => network::render_endpoint(map, v, view.behaviours),
        NSGS => nsg::render_nsg(map, v),
        ZONES => privatedns::render_zone(map, v),
        _ => Value::clone(v),
    }
}

fn list_children(call: &Call) -> Result<ArmResponse, ApiError> {
    if call.kind.key == LINK_RESOURCES {
        return hybridcompute::list_link_resources(call);
    }
    let prefix = format!("{}/", call.key());
    let map = call.shared.store.read();
    let plen = prefix.len();
    page(call, &map, &prefix, |k| !k[plen..].contains('/'))
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
    if !map.contains_key(&ids::key(&ids::subscription_id(sub))) {
        return Err(ApiError::new(
            404,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ));
    }
    let prefix = format!(
        "/subscriptions/{}/resourcegroups/",
        sub.to_ascii_lowercase()
    );
    let ns = kind.namespace.to_ascii_lowercase();
    let ty = kind.types[0].to_ascii_lowercase();
    let plen = prefix.len();
    let call_like = ListCtx {
        shared,
        api_version,
        skip_token,
        path,
        kind_key: kind.key,
    };
    page_inner(&call_like, &map, &prefix, |k| {
        let mut parts = k[plen..].split('/');
        matches!(
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
            (Some(_), Some("providers"), Some(n), Some(t), Some(_), None) if n == ns && t == ty
        )
    })
}

struct ListCtx<'a> {
    shared: &'a Shared,
    api_version: &'a str,
    skip_token: Option<String>,
    path: &'a str,
    kind_key: &'a str,
}

fn page(
    call: &Call,
    map: &Map,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<ArmResponse, ApiError> {
    let ctx = ListCtx {
        shared: call.shared,
        api_version: &call.api_version,
        skip_token: call.skip_token.clone(),
        path: &call.path,
        kind_key: call.kind.key,
    };
    page_inner(&ctx, map, prefix, keep)
}

/// One page of a key range; the skip token is the last key of the previous page, so a page costs
/// a range seek plus the page, however large the collection.
fn page_inner(
    ctx: &ListCtx,
    map: &Map,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<ArmResponse, ApiError> {
    let page_size = ctx.shared.settings().page_size.max(1);
    let mut items = Vec::with_capacity(page_size.min(1024));
    let mut last: Option<&str> = None;
    let mut more = false;
    for (k, v) in state::range_after(map, prefix, ctx.skip_token.as_deref()) {
        if !keep(k) {
            continue;
        }
        if items.len() == page_size {
            more = true;
            break;
        }
        items.push(render(
            map,
            ctx.kind_key,
            v,
            &View::new(ctx.shared, ctx.api_version),
        ));
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

pub fn now() -> String {
    Timestamp::now().to_string()
}

/// `systemData` as ARM maintains it: creation fields kept from `existing`.
pub fn system_data(existing: Option<&Value>, caller: &str) -> Value {
    let now = now();
    let created = existing.and_then(|e| e.get("systemData"));
    json!({
        "createdBy": created.and_then(|c| c.get("createdBy")).cloned().unwrap_or(json!(caller)),
        "createdByType": "Application",
        "createdAt": created.and_then(|c| c.get("createdAt")).cloned().unwrap_or(json!(now)),
        "lastModifiedBy": caller,
        "lastModifiedByType": "Application",
        "lastModifiedAt": now,
    })
}

/// Location of a tracked resource on PUT: required, and immutable once the resource exists.
pub fn tracked_location(
    body: &JsonMap<String, Value>,
    existing: Option<&Value>,
    name: &str,
) -> Result<String, ApiError> {
    let Some(loc) = body
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.trim().is_empty())
    else {
        return Err(ApiError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let loc = ids::normalize_location(loc);
    check_location_unchanged(existing, &loc, name)?;
    Ok(loc)
}

pub fn check_location_unchanged(
    existing: Option<&Value>,
    loc: &str,
    name: &str,
) -> Result<(), ApiError> {
    if let Some(old) = existing.and_then(|e| e["location"].as_str())
        && ids::normalize_location(old) != ids::normalize_location(loc)
    {
        return Err(ApiError::bad_request(
            "InvalidResourceLocation",
            format!(
                "The resource '{name}' already exists in location '{old}'. A resource with the same name cannot be created in location '{loc}'. Please select a new resource name."
            ),
        ));
    }
    Ok(())
}

/// Azure's tag limits (reference/arm-behaviours.md 13).
const MAX_TAGS: usize = 50;
const MAX_TAG_NAME: usize = 512;
const MAX_TAG_VALUE: usize = 256;

/// `tags` from a request body: an object of at most 50 strings, names of at most 512
/// characters without `<>%&\?/` or control characters, values of at most 256.
pub fn tags(body: &JsonMap<String, Value>) -> Result<Option<Value>, ApiError> {
    let tags = match body.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) if o.values().all(Value::is_string) => o,
        Some(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'tags' must be an object of strings.",
            ));
        }
    };
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(
            "InvalidTagCount",
            format!(
                "The resource has {} tags; the maximum is {MAX_TAGS}.",
                tags.len()
            ),
        ));
    }
    for (name, value) in tags {
        if name
            .chars()
            .any(|c| "<>%&\\?/".contains(c) || c.is_control())
        {
            return Err(ApiError::bad_request(
                "InvalidTagNameCharacters",
                format!(
                    "The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or control characters."
                ),
            ));
        }
        if name.is_empty() || name.chars().count() > MAX_TAG_NAME {
            return Err(ApiError::bad_request(
                "InvalidTagNameLength",
                format!("Tag name must be 1 to {MAX_TAG_NAME} characters long."),
            ));
        }
        if value.as_str().unwrap_or_default().chars().count() > MAX_TAG_VALUE {
            return Err(ApiError::bad_request(
                "InvalidTagValueLength",
                format!(
                    "Tag value too long for tag '{name}'. The maximum length for a tag value is {MAX_TAG_VALUE} characters."
                ),
            ));
        }
    }
    Ok(Some(Value::Object(tags.clone())))
}

/// The writable properties of a request body: `properties` minus the read-only fields.
pub fn writable_properties(
    body: &JsonMap<String, Value>,
    read_only: &[&str],
) -> Result<JsonMap<String, Value>, ApiError> {
    match body.get("properties") {
        None | Some(Value::Null) => Ok(JsonMap::new()),
        Some(Value::Object(p)) => Ok(p
            .iter()
            .filter(|(k, _)| !read_only.iter().any(|r| r.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()),
        Some(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'properties' must be an object.",
        )),
    }
}

/// A resource id in a request body: well-formed and of the expected type, else
/// `LinkedInvalidPropertyId` as ARM answers.
pub fn linked_id(value: &Value, path: &str, type_key: &str) -> Result<ResourceId, ApiError> {
    let s = value.as_str().unwrap_or_default();
    ResourceId::parse(s)
        .filter(|r| r.is_type(type_key))
        .ok_or_else(|| invalid_linked_id(s, path))
}

pub fn invalid_linked_id(s: &str, path: &str) -> ApiError {
    ApiError::bad_request(
        "LinkedInvalidPropertyId",
        format!(
            "Property id '{s}' at path '{path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
        ),
    )
}

/// A referenced resource that must exist (Network answers `InvalidResourceReference`).
pub fn referenced<'m>(map: &'m Map, id: &ResourceId, by: &str) -> Result<&'m Arc<Value>, ApiError> {
    map.get(&ids::key(&id.to_id())).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidResourceReference",
            format!("Resource {} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", id.to_id()),
        )
    })
}

pub fn provisioning_state(v: &Value) -> &str {
    v["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
}

/// ARM refuses writes to a resource that is being deleted or is mid-update.
pub fn require_idle(existing: Option<&Arc<Value>>) -> Result<(), ApiError> {
    match existing.map(|v| provisioning_state(v)) {
        Some(s @ ("Deleting" | "Updating" | "Creating")) => Err(ApiError::new(
            409,
            "AnotherOperationInProgress",
            format!(
                "Another operation on this or a dependent resource is in progress (provisioningState '{s}'). Retry the request later."
            ),
        )),
        _ => Ok(()),
    }
}

pub fn set_provisioning_state(map: &mut Map, key: &str, state: &str) {
    if let Some(v) = map.get_mut(key) {
        let v = Arc::make_mut(v);
        if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("provisioningState".into(), json!(state));
        }
    }
}

pub fn new_etag() -> String {
    format!("W/\"{}\"", uuid::Uuid::new_v4())
}

/// How a long-running operation is polled.
pub enum Poll {
    /// `Azure-AsyncOperation` (status resource) — Network PUTs.
    AsyncOperation,
    /// `Location` (result resource) — deletes, HybridCompute and Private DNS operations.
    Location,
}

/// Starts an operation and returns the response headers that point to it.
pub fn start_operation(
    call: &Call,
    location: &str,
    effect: Effect,
    poll: Poll,
) -> Vec<(&'static str, String)> {
    let shared = call.shared;
    let settings = shared.settings();
    let start = Timestamp::now();
    let due = start
        .checked_add(jiff::SignedDuration::try_from(settings.lro_duration).unwrap_or_default())
        .unwrap_or(start);
    let outcome = match shared
        .faults
        .for_operation(call.method.as_str(), &call.path)
    {
        Some(FaultAction::LroFailure { code, message }) => Outcome::Fail { code, message },
        Some(FaultAction::LroCanceled) => Outcome::Cancel,
        _ => Outcome::Succeed,
    };
    let op = Operation {
        name: uuid::Uuid::new_v4().to_string(),
        subscription: call.rid.subscription.clone(),
        namespace: call.kind.namespace.to_string(),
        location: ids::normalize_location(location),
        api_version: call.api_version.clone(),
        start,
        due,
        end: None,
        status: OpStatus::InProgress,
        outcome,
        effect,
    };
    let base = &shared.endpoint;
    let status_url = format!(
        "{base}{}?api-version={}",
        op.status_path("operationStatuses"),
        op.api_version
    );
    let result_url = format!(
        "{base}{}?api-version={}",
        op.status_path("operationResults"),
        op.api_version
    );
    shared.ops.insert(op);
    shared.store.mark_dirty();
    let mut headers = vec![("retry-after", settings.retry_after_secs.to_string())];
    match poll {
        Poll::AsyncOperation => headers.push(("azure-asyncoperation", status_url)),
        Poll::Location => {
            headers.push(("location", result_url));
            headers.push(("azure-asyncoperation", status_url));
        }
    }
    headers
}

/// Completes every due operation, applying its effect. Operations are locked before resources,
/// and request handlers never take the operations lock while holding the resources lock.
pub fn settle(shared: &Shared) {
    if !shared.ops.has_pending() {
        return;
    }
    let now = Timestamp::now();
    let mut ops = shared.ops.ops.lock();
    let mut due: Vec<&mut Operation> = ops
        .values_mut()
        .filter(|o| o.status == OpStatus::InProgress && o.due <= now)
        .collect();
    if due.is_empty() {
        return;
    }
    due.sort_by_key(|o| o.start);
    let mut map = shared.store.write();
    for op in due {
        op.status = match op.outcome {
            Outcome::Succeed => OpStatus::Succeeded,
            Outcome::Fail { .. } => OpStatus::Failed,
            Outcome::Cancel => OpStatus::Canceled,
        };
        op.end = Some(now);
        shared
            .ops
            .pending
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        match (&op.effect, op.status) {
            (Effect::Provision { key }, OpStatus::Succeeded) => {
                set_provisioning_state(&mut map, key, "Succeeded")
            }
            (Effect::Provision { key }, OpStatus::Canceled) => {
                set_provisioning_state(&mut map, key, "Canceled")
            }
            (Effect::Provision { key }, _) => set_provisioning_state(&mut map, key, "Failed"),
            (Effect::Delete { key }, OpStatus::Succeeded) => delete_cascade(&mut map, key),
            (Effect::Delete { key }, _) => set_provisioning_state(&mut map, key, "Succeeded"),
        }
    }
}

/// Removes a resource with what depends on it, the way the real providers do.
pub fn delete_cascade(map: &mut Map, key: &str) {
    let Some(v) = map.get(key).cloned() else {
        return;
    };
    let type_key = v["id"]
        .as_str()
        .and_then(ResourceId::parse)
        .map(|r| r.type_key())
        .unwrap_or_default();
    match type_key.as_str() {
        SCOPES => hybridcompute::on_scope_deleted(map, key),
        CONNECTIONS => hybridcompute::on_connection_deleted(map, &v),
        ENDPOINTS => network::on_endpoint_deleted(map, key),
        ZONE_GROUPS => network::on_zone_group_deleted(map, &v),
        _ => {}
    }
    state::remove_tree(map, key);
}

/// `operationStatuses` / `operationResults` polls.
pub fn poll_operation(
    shared: &Shared,
    sub: &str,
    name: &str,
    results: bool,
) -> Result<ArmResponse, ApiError> {
    let retry = shared.settings().retry_after_secs.to_string();
    let op = shared
        .ops
        .ops
        .lock()
        .get(&name.to_ascii_lowercase())
        .filter(|o| o.subscription.eq_ignore_ascii_case(sub))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                404,
                "OperationNotFound",
                format!("The operation '{name}' could not be found."),
            )
        })?;
    if !results {
        let resp = ArmResponse::json(200, op.status_body());
        return Ok(if op.status == OpStatus::InProgress {
            resp.header("retry-after", retry)
        } else {
            resp
        });
    }
    match (op.status, &op.outcome, &op.effect) {
        (OpStatus::InProgress, _, _) => {
            let url = format!(
                "{}{}?api-version={}",
                shared.endpoint,
                op.status_path("operationResults"),
                op.api_version
            );
            Ok(ArmResponse::empty(202)
                .header("location", url)
                .header("retry-after", retry))
        }
        (OpStatus::Succeeded, _, Effect::Delete { .. }) => Ok(ArmResponse::empty(204)),
        (OpStatus::Succeeded, _, Effect::Provision { key }) => {
            let map = shared.store.read();
            match map.get(key) {
                Some(v) => {
                    let kind_key = v["id"]
                        .as_str()
                        .and_then(ResourceId::parse)
                        .map(|r| r.type_key())
                        .unwrap_or_default();
                    let view = View::new(shared, &op.api_version);
                    Ok(ArmResponse::json(200, render(&map, &kind_key, v, &view)))
                }
                None => Ok(ArmResponse::empty(204)),
            }
        }
        (_, Outcome::Fail { code, message }, _) => {
            Err(ApiError::bad_request(code, message.clone()))
        }
        _ => Err(ApiError::bad_request(
            "OperationCanceled",
            "The operation was canceled.",
        )),
    }
}

pub use hybridcompute::{
    is_scope_id as hybridcompute_is_scope_id, machine_value as hybridcompute_machine,
};
pub use network::{subnet_value as network_subnet, vnet_value as network_vnet};
pub use nsg::{
    nsg_value as network_nsg, rule_value as network_security_rule,
    validate_rule as validate_security_rule,
};
pub use resources::{resource_group_value as resource_group, subscription_value as subscription};
