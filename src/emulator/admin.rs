//! The admin handle (in-process) and its HTTPS twin under `/_emulator/` (which needs the admin
//! token or an access token the emulator issued): fixtures, out-of-band changes (drift), faults,
//! rate limits, counters, state dumps and federated assertions for workload identity.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::auth;
use super::config::{Behaviours, RateLimits};
use super::counters::Counters;
use super::error::EmulatorError;
use super::faults::Fault;
use super::fixtures::Fixtures;
use super::http::{self as h, ApiError, Response};
use super::ids;
use super::json::merge;
use super::providers::{
    self, hybridcompute_machine, network_nsg, network_security_rule, network_subnet, network_vnet,
    resource_group, subscription, validate_security_rule,
};
use super::shared::Shared;

/// A cheap, cloneable handle to a running emulator's state.
#[derive(Clone)]
pub struct Admin {
    pub(crate) shared: Arc<Shared>,
}

impl Admin {
    /// Adds (or replaces) the fixtures' resources.
    pub fn load_fixtures(&self, f: &Fixtures) -> Result<(), EmulatorError> {
        load_fixtures(&self.shared, f, true)
    }

    /// The resource as a GET returns it (id compared case-insensitively).
    pub fn get(&self, id: &str) -> Option<Value> {
        let map = self.shared.store.read();
        let v = map.get(&ids::key(id))?;
        let type_key = providers::type_key_of(v);
        let newest = providers::kind_for(&type_key).map_or("", |k| k.api.newest());
        let view = providers::View::new(&self.shared, newest);
        Some(providers::render(&map, &type_key, v, &view))
    }

    /// Applies a JSON merge patch (RFC 7396) to a resource, as a person in the portal would.
    pub fn patch_out_of_band(&self, id: &str, merge_patch: Value) -> Result<(), EmulatorError> {
        if !merge_patch.is_object() {
            return Err(EmulatorError::InvalidPatch {
                id: id.to_string(),
                reason: "a merge patch must be a JSON object".into(),
            });
        }
        let mut map = self.shared.store.write();
        let v = map
            .get_mut(&ids::key(id))
            .ok_or_else(|| EmulatorError::NotFound { id: id.to_string() })?;
        let v = Arc::make_mut(v);
        let stored_id = v["id"].clone();
        merge(v, &merge_patch);
        v["id"] = stored_id;
        Ok(())
    }

    /// Deletes a resource (and what depends on it) without going through ARM.
    pub fn delete_out_of_band(&self, id: &str) -> Result<(), EmulatorError> {
        let mut map = self.shared.store.write();
        let key = ids::key(id);
        if !map.contains_key(&key) {
            return Err(EmulatorError::NotFound { id: id.to_string() });
        }
        providers::delete_cascade(&mut map, &key);
        Ok(())
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Switches between the shapes of reported behaviours.
    pub fn set_behaviours(&self, behaviours: Behaviours) {
        self.shared.settings.write().behaviours = behaviours;
    }

    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        self.shared.throttle.set_limits(limits);
    }

    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    /// A federated assertion for `subject` that the token endpoint accepts from principals
    /// without a secret (workload identity): write it where `AZURE_FEDERATED_TOKEN_FILE` points.
    pub fn federated_token(&self, subject: &str) -> String {
        auth::federated_token(&self.shared.keys, &self.shared.endpoint, subject)
    }

    /// Every resource (as stored) and every operation.
    pub fn dump(&self) -> Value {
        let resources: Vec<Value> = self
            .shared
            .store
            .read()
            .values()
            .map(|v| Value::clone(v))
            .collect();
        let operations: Vec<Value> = self
            .shared
            .ops
            .ops
            .lock()
            .values()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect();
        json!({"resources": resources, "operations": operations})
    }
}

/// Inserts the fixtures' resources; with `overwrite` false, existing resources are kept (a
/// restart from a state file must not undo drift).
pub fn load_fixtures(shared: &Shared, f: &Fixtures, overwrite: bool) -> Result<(), EmulatorError> {
    let mut map = shared.store.write();
    let put = |map: &mut super::state::Map, id: String, v: Value| {
        let key = ids::key(&id);
        if overwrite || !map.contains_key(&key) {
            map.insert(key, Arc::new(v));
        }
    };
    let tenant = f
        .principals
        .first()
        .map(|p| p.tenant_id.clone())
        .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
    let mut subs: Vec<(String, String, String)> = f
        .subscriptions
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                s.display_name.clone().unwrap_or_else(|| s.id.clone()),
                s.tenant_id.clone().unwrap_or_else(|| tenant.clone()),
            )
        })
        .collect();
    for rg in &f.resource_groups {
        if !subs
            .iter()
            .any(|(id, _, _)| id.eq_ignore_ascii_case(&rg.subscription_id))
        {
            subs.push((
                rg.subscription_id.clone(),
                rg.subscription_id.clone(),
                tenant.clone(),
            ));
        }
    }
    for (id, name, t) in &subs {
        put(
            &mut map,
            ids::subscription_id(id),
            subscription(id, name, t),
        );
    }
    let declared = |map: &super::state::Map, sub: &str, rg: &str, what: &str| {
        if map.contains_key(&ids::key(&ids::resource_group_id(sub, rg))) {
            Ok(())
        } else {
            Err(EmulatorError::Fixtures(format!(
                "{what} is in resource group '{rg}' of subscription '{sub}', which neither the fixtures nor the emulator's state have"
            )))
        }
    };
    for rg in &f.resource_groups {
        let id = ids::resource_group_id(&rg.subscription_id, &rg.name);
        let tags = serde_json::to_value(&rg.tags).unwrap_or(json!({}));
        put(
            &mut map,
            id.clone(),
            resource_group(&id, &rg.location, tags),
        );
    }
    for nsg in &f.network_security_groups {
        declared(
            &map,
            &nsg.subscription_id,
            &nsg.resource_group,
            &format!("network security group '{}'", nsg.name),
        )?;
        let id = format!(
            "{}/providers/Microsoft.Network/networkSecurityGroups/{}",
            ids::resource_group_id(&nsg.subscription_id, &nsg.resource_group),
            nsg.name
        );
        let tags = serde_json::to_value(&nsg.tags).unwrap_or(json!({}));
        put(&mut map, id.clone(), network_nsg(&id, &nsg.location, tags));
        let mut seeded: Vec<Arc<Value>> = Vec::new();
        for r in &nsg.security_rules {
            let rid = format!("{id}/securityRules/{}", r.name);
            let mut props = r.properties.clone();
            providers::check_security_rule_name(&r.name)
                .and_then(|()| validate_security_rule(&mut props, &rid, &r.name, &seeded))
                .map_err(|e| {
                    EmulatorError::Fixtures(format!(
                        "network security group '{}', rule '{}': {}: {}",
                        nsg.name, r.name, e.code, e.message
                    ))
                })?;
            let v = network_security_rule(&rid, props, "Succeeded");
            seeded.push(Arc::new(v.clone()));
            put(&mut map, rid, v);
        }
    }
    for vnet in &f.virtual_networks {
        declared(
            &map,
            &vnet.subscription_id,
            &vnet.resource_group,
            &format!("virtual network '{}'", vnet.name),
        )?;
        let id = format!(
            "{}/providers/Microsoft.Network/virtualNetworks/{}",
            ids::resource_group_id(&vnet.subscription_id, &vnet.resource_group),
            vnet.name
        );
        put(
            &mut map,
            id.clone(),
            network_vnet(&id, &vnet.location, &vnet.address_prefixes),
        );
        for s in &vnet.subnets {
            let sid = format!("{id}/subnets/{}", s.name);
            let nsg = match s.network_security_group.as_deref() {
                None => None,
                Some(n) if n.starts_with('/') => Some(n.to_string()),
                Some(n) => Some(format!(
                    "{}/providers/Microsoft.Network/networkSecurityGroups/{n}",
                    ids::resource_group_id(&vnet.subscription_id, &vnet.resource_group)
                )),
            };
            if let Some(n) = &nsg
                && !map.contains_key(&ids::key(n))
            {
                return Err(EmulatorError::Fixtures(format!(
                    "subnet '{}' of virtual network '{}': network security group {n} is neither in the fixtures nor in the emulator's state",
                    s.name, vnet.name
                )));
            }
            put(
                &mut map,
                sid.clone(),
                network_subnet(&sid, &s.address_prefix, nsg.as_deref()),
            );
        }
    }
    for m in f.all_machines() {
        declared(
            &map,
            &m.subscription_id,
            &m.resource_group,
            &format!("machine '{}'", m.name),
        )?;
        if let Some(scope) = &m.private_link_scope_resource_id
            && providers::hybridcompute_is_scope_id(scope).is_none()
        {
            return Err(EmulatorError::Fixtures(format!(
                "machine '{}': privateLinkScopeResourceId '{scope}' is not a Microsoft.HybridCompute/privateLinkScopes id",
                m.name
            )));
        }
        let id = format!(
            "{}/providers/Microsoft.HybridCompute/machines/{}",
            ids::resource_group_id(&m.subscription_id, &m.resource_group),
            m.name
        );
        let tags = serde_json::to_value(&m.tags).unwrap_or(json!({}));
        let machine_tenant = map
            .get(&ids::key(&ids::subscription_id(&m.subscription_id)))
            .and_then(|s| s["tenantId"].as_str().map(str::to_string))
            .unwrap_or_else(|| tenant.clone());
        let mut machine = hybridcompute_machine(
            &id,
            &m.location,
            &tags,
            &m.status,
            m.private_link_scope_resource_id.as_deref(),
            &machine_tenant,
        );
        if let Some(props) = machine["properties"].as_object_mut() {
            props.extend(m.properties.clone());
        }
        put(&mut map, id.clone(), machine);
    }
    super::seed::load(&mut map, f, &tenant, overwrite)?;
    drop(map);
    if !f.principals.is_empty() {
        let mut p = shared.principals.write();
        for new in &f.principals {
            p.retain(|old| {
                !(old.client_id.eq_ignore_ascii_case(&new.client_id)
                    && old.tenant_id.eq_ignore_ascii_case(&new.tenant_id))
            });
            p.push(new.clone());
        }
    }
    Ok(())
}

fn admin_error(status: u16, message: impl Into<String>) -> Response {
    h::error_response(&ApiError::new(
        status,
        if status == 404 {
            "NotFound"
        } else {
            "BadRequest"
        },
        message,
    ))
}

fn from_emulator_error(e: EmulatorError) -> Response {
    match e {
        EmulatorError::NotFound { .. } => admin_error(404, e.to_string()),
        _ => admin_error(400, e.to_string()),
    }
}

pub async fn handle_http(
    shared: &Arc<Shared>,
    method: &http::Method,
    segs: &[String],
    body: &Bytes,
) -> Response {
    use http::Method;
    let admin = Admin {
        shared: shared.clone(),
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let json_body = || {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| Box::new(admin_error(400, format!("invalid JSON body: {e}"))))
    };
    match (method, s.as_slice()) {
        (&Method::POST, ["fixtures"]) => {
            let text = String::from_utf8_lossy(body);
            match Fixtures::from_yaml(&text).and_then(|f| admin.load_fixtures(&f)) {
                Ok(()) => h::build(204, None, &[]),
                Err(e) => from_emulator_error(e),
            }
        }
        (&Method::GET, ["state"]) => h::build(200, Some(&admin.dump()), &[]),
        (m, ["resources", rest @ ..]) if !rest.is_empty() => {
            let id = format!("/{}", rest.join("/"));
            match *m {
                Method::GET => match admin.get(&id) {
                    Some(v) => h::build(200, Some(&v), &[]),
                    None => admin_error(404, format!("resource {id} not found")),
                },
                Method::PATCH => match json_body() {
                    Ok(patch) => match admin.patch_out_of_band(&id, patch) {
                        Ok(()) => h::build(200, admin.get(&id).as_ref(), &[]),
                        Err(e) => from_emulator_error(e),
                    },
                    Err(r) => *r,
                },
                Method::DELETE => match admin.delete_out_of_band(&id) {
                    Ok(()) => h::build(204, None, &[]),
                    Err(e) => from_emulator_error(e),
                },
                _ => admin_error(405, "use GET, PATCH or DELETE"),
            }
        }
        (&Method::POST, ["faults"]) => match serde_json::from_slice::<Fault>(body)
            .map_err(|e| e.to_string())
            .and_then(|f| f.check().map(|()| f))
        {
            Ok(f) => {
                admin.inject(f);
                h::build(204, None, &[])
            }
            Err(e) => admin_error(400, format!("invalid fault: {e}")),
        },
        (&Method::DELETE, ["faults"]) => {
            admin.clear_faults();
            h::build(204, None, &[])
        }
        (&Method::PUT, ["rate-limits"]) => match serde_json::from_slice::<Option<RateLimits>>(body)
        {
            Ok(l) => {
                admin.set_rate_limits(l);
                h::build(204, None, &[])
            }
            Err(e) => admin_error(400, format!("invalid rate limits: {e}")),
        },
        (&Method::PUT, ["behaviours"]) => match serde_json::from_slice::<Behaviours>(body) {
            Ok(b) => {
                admin.set_behaviours(b);
                h::build(204, None, &[])
            }
            Err(e) => admin_error(400, format!("invalid behaviours: {e}")),
        },
        (&Method::POST, ["federated-tokens"]) => match json_body() {
            Ok(v) => match v["subject"].as_str().filter(|s| !s.is_empty()) {
                Some(subject) => h::build(
                    200,
                    Some(&json!({"token": admin.federated_token(subject)})),
                    &[],
                ),
                None => admin_error(400, "the body must be {\"subject\": \"...\"}"),
            },
            Err(r) => *r,
        },
        (&Method::GET, ["counters"]) => h::build(200, Some(&admin.counters().to_json()), &[]),
        (&Method::POST, ["counters", "reset"]) => {
            admin.reset_counters();
            h::build(204, None, &[])
        }
        _ => admin_error(404, "unknown admin route"),
    }
}
