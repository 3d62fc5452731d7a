//! What a provider is given and gives back: the resource type it serves ([`Kind`]), one request
//! ([`Call`]) with the steps every write starts or ends with, and its answer ([`Reply`]).

use std::sync::Arc;

use http::Method;
use parking_lot::RwLockWriteGuard;
use serde_json::{Map as JsonMap, Value};

use super::super::config::Behaviours;
use super::super::http::{ApiError, ArmResponse};
use super::super::ids::{self, ResourceId};
use super::super::lro::{Effect, Poll};
use super::super::names::NameRule;
use super::super::shared::Shared;
use super::super::state::Map;
use super::super::versions::ApiSet;
use super::rules::{require_idle, set_provisioning_state, stored_id, tags};

/// A request method as the route table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// GET of one resource (served from the store unless a kind routes it).
    Get,
    /// GET of a collection (the children, paged, unless a kind routes it).
    List,
    Put,
    Patch,
    Delete,
    /// Any method but GET, for a kind that refuses every write the same way.
    AnyWrite,
}

pub type Handler = fn(&Call) -> Result<Reply, ApiError>;
/// The resource as GET returns it, when that is more than what is stored.
pub type Render = fn(&Map, &Arc<Value>, &View) -> Value;
/// What goes with a resource when it is deleted, besides what is stored below it.
pub type Cascade = fn(&mut Map, &str, &Value);

/// A resource type the emulator serves: its path, its api-versions, its naming rule and what
/// each method does to it.
#[derive(Debug)]
pub struct Kind {
    /// Lower-cased `namespace/type[/childType]`.
    pub key: &'static str,
    pub namespace: &'static str,
    /// Canonical casing of each type segment.
    pub types: &'static [&'static str],
    pub api: ApiSet,
    /// The rule for a new resource's name; `None`: only the checks every segment gets.
    pub name_rule: Option<NameRule>,
    pub routes: &'static [(Verb, Handler)],
    pub render: Option<Render>,
    pub on_delete: Option<Cascade>,
}

impl Kind {
    /// A kind that answers GET only.
    pub const fn new(
        key: &'static str,
        namespace: &'static str,
        types: &'static [&'static str],
        api: ApiSet,
    ) -> Kind {
        Kind {
            key,
            namespace,
            types,
            api,
            name_rule: None,
            routes: &[],
            render: None,
            on_delete: None,
        }
    }

    pub const fn named(self, rule: NameRule) -> Kind {
        Kind {
            name_rule: Some(rule),
            ..self
        }
    }

    pub const fn serve(self, routes: &'static [(Verb, Handler)]) -> Kind {
        Kind { routes, ..self }
    }

    pub const fn rendered(self, render: Render) -> Kind {
        Kind {
            render: Some(render),
            ..self
        }
    }

    pub const fn on_delete(self, cascade: Cascade) -> Kind {
        Kind {
            on_delete: Some(cascade),
            ..self
        }
    }

    pub fn type_name(&self) -> String {
        format!("{}/{}", self.namespace, self.types.join("/"))
    }

    /// The handler routed for `method`; `None` for a GET the store answers and for a method
    /// the kind does not serve.
    pub fn handler(&self, method: &Method, collection: bool) -> Option<Handler> {
        let verb = match *method {
            Method::GET if collection => Verb::List,
            Method::GET => Verb::Get,
            _ if collection => return None,
            Method::PUT => Verb::Put,
            Method::PATCH => Verb::Patch,
            Method::DELETE => Verb::Delete,
            _ => Verb::AnyWrite,
        };
        let routed = |v: Verb| self.routes.iter().find(|(r, _)| *r == v).map(|(_, h)| *h);
        match verb {
            Verb::Put | Verb::Patch | Verb::Delete => {
                routed(verb).or_else(|| routed(Verb::AnyWrite))
            }
            _ => routed(verb),
        }
    }

    pub fn render(&self, map: &Map, v: &Arc<Value>, view: &View) -> Value {
        match self.render {
            Some(render) => render(map, v, view),
            None => Value::clone(v),
        }
    }
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

/// A handler's answer: the response, and the long-running operation that follows it, if any
/// (started once the handler has released the store).
pub struct Reply {
    pub response: ArmResponse,
    pub operation: Option<NewOperation>,
}

pub struct NewOperation {
    pub location: String,
    pub effect: Effect,
    pub poll: Poll,
}

impl From<ArmResponse> for Reply {
    fn from(response: ArmResponse) -> Reply {
        Reply {
            response,
            operation: None,
        }
    }
}

impl Reply {
    pub fn with_operation(
        response: ArmResponse,
        location: &str,
        effect: Effect,
        poll: Poll,
    ) -> Reply {
        Reply {
            response,
            operation: Some(NewOperation {
                location: location.to_string(),
                effect,
                poll,
            }),
        }
    }

    /// 202, with an operation polled through `Location` (and `Azure-AsyncOperation`).
    pub fn accepted(location: &str, effect: Effect) -> Reply {
        Reply::with_operation(ArmResponse::empty(202), location, effect, Poll::Location)
    }
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
    pub conditions: Conditions,
}

/// A request's `If-Match` and `If-None-Match` headers, which Private DNS honours on its zones,
/// virtual network links and record sets (its spec: `If-None-Match: *` creates but never
/// updates, `If-Match: <etag>` writes only the version read); other providers ignore them.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl Conditions {
    pub fn of(headers: &http::HeaderMap) -> Conditions {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        Conditions {
            if_match: header("if-match"),
            if_none_match: header("if-none-match"),
        }
    }

    /// 412 `PreconditionFailed` when the resource as stored (`existing`) is not what the
    /// headers ask for (the messages are the emulator's own: no source gives Azure's).
    fn check(&self, existing: Option<&Arc<Value>>) -> Result<(), ApiError> {
        let failed = |message: String| ApiError::new(412, "PreconditionFailed", message);
        if self.if_none_match.as_deref() == Some("*")
            && let Some(e) = existing
        {
            return Err(failed(format!(
                "The resource '{}' already exists: If-None-Match: * allows only its creation.",
                e["name"].as_str().unwrap_or_default()
            )));
        }
        let Some(wanted) = self.if_match.as_deref() else {
            return Ok(());
        };
        let current = existing.and_then(|e| e["etag"].as_str());
        match current {
            Some(_) if wanted == "*" => Ok(()),
            Some(etag) if unquoted(etag) == unquoted(wanted) => Ok(()),
            Some(etag) => Err(failed(format!(
                "The etag '{wanted}' in the If-Match header does not match the resource's current etag '{etag}'."
            ))),
            None => Err(failed(format!(
                "The If-Match header names etag '{wanted}', but the resource does not exist."
            ))),
        }
    }
}

/// An etag without its weak marker and quotes.
fn unquoted(etag: &str) -> &str {
    etag.trim_start_matches("W/").trim_matches('"')
}

/// What a PUT starts with: the body, the store locked for writing, the resource as it is
/// (which must not be in the middle of an operation) and its id: as stored, else new.
pub struct Put<'c> {
    pub body: &'c JsonMap<String, Value>,
    pub key: String,
    pub map: RwLockWriteGuard<'c, Map>,
    pub existing: Option<Arc<Value>>,
    pub id: String,
}

impl Put<'_> {
    /// Stores what the PUT wrote and answers it, 201 when new and 200 when replaced, with an
    /// operation that provisions it, polled through `Azure-AsyncOperation` (Network's way).
    pub fn provisioning(mut self, v: Value, location: &str) -> Reply {
        self.map.insert(self.key.clone(), Arc::new(v.clone()));
        let status = if self.existing.is_some() { 200 } else { 201 };
        Reply::with_operation(
            ArmResponse::json(status, v),
            location,
            Effect::Provision { key: self.key },
            Poll::AsyncOperation,
        )
    }
}

/// The parent of a child resource being written, as stored.
pub struct Parent {
    pub key: String,
    pub value: Arc<Value>,
}

/// What a PATCH starts with: the body (its tags checked), the store locked for writing, the
/// resource, which must exist, and a copy of it carrying the new tags.
pub struct Update<'c> {
    pub body: &'c JsonMap<String, Value>,
    pub key: String,
    pub map: RwLockWriteGuard<'c, Map>,
    pub existing: Arc<Value>,
    pub value: Value,
}

impl Update<'_> {
    /// Stores the updated copy.
    pub fn store(&mut self) -> Arc<Value> {
        let v = Arc::new(self.value.clone());
        self.map.insert(self.key.clone(), v.clone());
        v
    }
}

/// Whether a DELETE is refused while another operation runs on the resource.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WhileBusy {
    Refuse,
    Accept,
}

impl Call<'_> {
    /// The request's [`Conditions`] checked against the resource as stored, for the kinds
    /// that honour them (Private DNS).
    pub fn preconditions(&self, existing: Option<&Arc<Value>>) -> Result<(), ApiError> {
        match self.kind.api {
            ApiSet::PrivateDns => self.conditions.check(existing),
            _ => Ok(()),
        }
    }

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

    pub fn not_found(&self) -> ApiError {
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

    pub fn method_not_allowed(&self) -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!(
                "The requested method '{}' is not allowed for resource type '{}' in the emulator.",
                self.method,
                self.kind.type_name()
            ),
        )
    }

    /// [`Put`] with a new resource's id in the provider's casing (see [`Call::canonical_id`]).
    pub fn put(&self) -> Result<Put<'_>, ApiError> {
        self.put_with_id(|_| self.canonical_id())
    }

    fn put_with_id(&self, new_id: impl FnOnce(&Map) -> String) -> Result<Put<'_>, ApiError> {
        let body = self.body()?;
        let key = self.key();
        let map = self.shared.store.write();
        let existing = map.get(&key).cloned();
        self.preconditions(existing.as_ref())?;
        require_idle(existing.as_ref())?;
        let id = stored_id(existing.as_ref(), || new_id(&map));
        Ok(Put {
            body,
            key,
            map,
            existing,
            id,
        })
    }

    /// [`Put`] of a child resource, whose new id goes below its parent's stored id; with the
    /// parent (which `dispatch` found to exist).
    pub fn child_put(&self) -> Result<(Put<'_>, Parent), ApiError> {
        let parent_key = self
            .rid
            .parent()
            .map(|p| ids::key(&p.to_id()))
            .unwrap_or_default();
        let put = self.put_with_id(|map| {
            format!(
                "{}/{}/{}",
                map.get(&parent_key)
                    .and_then(|p| p["id"].as_str())
                    .unwrap_or_default(),
                self.kind.types.last().copied().unwrap_or_default(),
                self.rid.name()
            )
        })?;
        let value = put
            .map
            .get(&parent_key)
            .cloned()
            .ok_or_else(|| self.not_found())?;
        let parent = Parent {
            key: parent_key,
            value,
        };
        Ok((put, parent))
    }

    pub fn update(&self) -> Result<Update<'_>, ApiError> {
        let body = self.body()?;
        let new_tags = tags(body)?;
        let key = self.key();
        let map = self.shared.store.write();
        let existing = map.get(&key).cloned();
        self.preconditions(existing.as_ref())?;
        let existing = existing.ok_or_else(|| self.not_found())?;
        let mut value = Value::clone(&existing);
        if let Some(t) = new_tags {
            value["tags"] = t;
        }
        Ok(Update {
            body,
            key,
            map,
            existing,
            value,
        })
    }

    /// A DELETE that a long-running operation completes: 204 when the resource is absent,
    /// else the resource `Deleting` and 202 pointing at an operation in the location of the
    /// top-level resource.
    pub fn accepted_delete(&self, busy: WhileBusy) -> Result<Reply, ApiError> {
        let key = self.key();
        let location = {
            let mut map = self.shared.store.write();
            self.preconditions(map.get(&key))?;
            let Some(existing) = map.get(&key).cloned() else {
                return Ok(ArmResponse::empty(204).into());
            };
            if busy == WhileBusy::Refuse {
                require_idle(Some(&existing))?;
            }
            set_provisioning_state(&mut map, &key, "Deleting");
            let top = ResourceId {
                segments: self.rid.segments.iter().take(1).cloned().collect(),
                ..self.rid.clone()
            };
            map.get(&ids::key(&top.to_id()))
                .and_then(|v| v["location"].as_str().map(str::to_string))
                .unwrap_or_else(|| "global".into())
        };
        Ok(Reply::accepted(&location, Effect::Delete { key }))
    }
}

/// The DELETE of most kinds: [`Call::accepted_delete`], refused while the resource is busy.
pub fn delete(call: &Call) -> Result<Reply, ApiError> {
    call.accepted_delete(WhileBusy::Refuse)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conditions(if_match: Option<&str>, if_none_match: Option<&str>) -> Conditions {
        Conditions {
            if_match: if_match.map(str::to_string),
            if_none_match: if_none_match.map(str::to_string),
        }
    }

    #[test]
    fn if_none_match_creates_only_and_if_match_writes_only_the_version_read() {
        let zone = Arc::new(json!({"name": "z", "etag": "e1"}));
        let refused = |c: Conditions, existing: Option<&Arc<Value>>| {
            c.check(existing).err().map(|e| (e.status, e.code.clone()))
        };
        let failed = Some((412, "PreconditionFailed".to_string()));
        assert_eq!(refused(conditions(None, Some("*")), None), None);
        assert_eq!(refused(conditions(None, Some("*")), Some(&zone)), failed);
        assert_eq!(refused(conditions(Some("e1"), None), Some(&zone)), None);
        assert_eq!(refused(conditions(Some("\"e1\""), None), Some(&zone)), None);
        assert_eq!(refused(conditions(Some("e0"), None), Some(&zone)), failed);
        assert_eq!(refused(conditions(Some("e1"), None), None), failed);
        assert_eq!(refused(conditions(Some("*"), None), Some(&zone)), None);
        assert_eq!(refused(conditions(None, None), Some(&zone)), None);
    }
}
