//! Resource providers: the kinds the emulator knows, request dispatch, and the rules every kind
//! shares (resource group checks, read-only fields, location, paging, long-running
//! operations).
//!
//! Adding a provider: a file of handlers (`fn(&Call) -> Result<Reply, ApiError>`) and type-key
//! constants, built on the steps in [`call`] (`Call::put`, `child_put`, `update`,
//! `accepted_delete`, `Put::provisioning`) and the rules in [`rules`]; its rows in the route
//! table ([`routes::KINDS`]: path, api-version family, naming rule, handlers, how GET renders
//! it and what goes with it when it is deleted); and, for a namespace or api-versions not
//! served yet, an [`ApiSet`](super::versions::ApiSet) in `versions.rs`. Operations a handler
//! asks for are started, settled and polled in [`operations`].

mod call;
mod endpoints;
mod listing;
mod machines;
mod nsg;
mod operations;
mod privatedns;
mod resources;
mod routes;
mod rules;
mod scopes;
mod vnets;
mod zonegroups;

use http::Method;

use super::http::{ApiError, ArmResponse};
use super::ids;

pub use call::{Call, Conditions, Kind, View};
pub use listing::list_subscription;
pub use machines::machine_value as hybridcompute_machine;
pub use nsg::{
    nsg_value as network_nsg, rule_value as network_security_rule,
    validate_rule as validate_security_rule,
};
pub use operations::{delete_cascade, poll_operation, settle, type_key_of};
pub use resources::{
    get_resource_group, get_subscription, list_resource_groups, put_resource_group,
    resource_group_value as resource_group, subscription_value as subscription,
};
pub use routes::{KINDS, kind_for, render};
pub use scopes::is_scope_id as hybridcompute_is_scope_id;
pub use vnets::{subnet_value as network_subnet, vnet_value as network_vnet};
#[cfg(test)]
pub use {
    endpoints::ENDPOINTS,
    machines::MACHINES,
    privatedns::{A_RECORDS, ZONE_LINKS, ZONES},
    scopes::SCOPES,
    vnets::{SUBNETS, VNETS},
    zonegroups::ZONE_GROUPS,
};

/// Serves one request below a resource group: the resource group and the parent must exist,
/// then the kind's route answers (or the store, for a GET it does not route), and the
/// operation the handler asked for starts once the store is released.
pub fn dispatch(call: &Call) -> Result<ArmResponse, ApiError> {
    {
        let map = call.shared.store.read();
        rules::require_resource_group(&map, &call.rid.subscription, &call.rid.resource_group)?;
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
    let Some(handler) = call.kind.handler(&call.method, call.collection) else {
        return match call.method {
            Method::GET if call.collection => listing::list_children(call),
            Method::GET => get_item(call),
            _ => Err(call.method_not_allowed()),
        };
    };
    let reply = handler(call)?;
    let mut response = reply.response;
    if let Some(new) = reply.operation {
        response
            .headers
            .extend(operations::start_operation(call, new));
    }
    Ok(response)
}

fn get_item(call: &Call) -> Result<ArmResponse, ApiError> {
    let map = call.shared.store.read();
    let v = map.get(&call.key()).ok_or_else(|| call.not_found())?;
    let view = View::new(call.shared, &call.api_version);
    Ok(ArmResponse::json(200, call.kind.render(&map, v, &view)))
}
