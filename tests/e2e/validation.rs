//! The table of names and ids of `tests/it/crds/cases.rs` through a real API server (issue 22
//! items 5 and 6): its patterns are RE2 and its CEL cel-go, where `plan`/`apply` run Rust's
//! regex and kube's CEL; each case must be accepted or refused here exactly as there, the
//! refusal naming the field. Objects are only validated (server-side dry run), never stored.

use arclink::api::{ArcPrivateEndpoint, ArcPrivateLinkScope, ArcServerAssociation};
use futures::FutureExt;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use serde_json::json;

use crate::cases::{self, Base};
use crate::support::{Env, connect, delete_namespace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ARCLINK_E2E_KUBECONFIG"]
async fn the_api_server_accepts_and_refuses_names_and_ids_as_plan_does() {
    let env = connect("arclink-e2e-names").await;
    let result = std::panic::AssertUnwindSafe(check(&env))
        .catch_unwind()
        .await;
    delete_namespace(&env).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn check(env: &Env) {
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let mut disagreements = Vec::new();
    let all = cases::cases();
    for case in &all {
        let mut obj = case.object();
        obj["metadata"]["namespace"] = json!(env.namespace);
        let resource = match case.base {
            Base::Scope => ApiResource::erase::<ArcPrivateLinkScope>(&()),
            Base::Endpoint => ApiResource::erase::<ArcPrivateEndpoint>(&()),
            Base::Association => ApiResource::erase::<ArcServerAssociation>(&()),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(env.client.clone(), &env.namespace, &resource);
        let dynamic: DynamicObject = serde_json::from_value(obj).unwrap();
        let outcome = api
            .create(&dry_run, &dynamic)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        let agrees = match (&outcome, case.refused) {
            (Ok(()), None) => true,
            (Err(message), Some(field)) => message.contains(field),
            _ => false,
        };
        if !agrees {
            disagreements.push(format!("{case:?}: the API server answered {outcome:?}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases: {disagreements:#?}",
        disagreements.len(),
        all.len()
    );
}
