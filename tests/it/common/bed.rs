//! The test bed: an in-process ARM emulator holding subscription `SUB` with resource group
//! `rg-arc` (plus what a test adds), an ARM client trusting it, and a controller `Context`
//! whose Kubernetes API is the API-server verifier.
//!
//! `Bed::new().fixtures(yaml).lro(d).client(|o| ...).await`

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arclink::azure::{ArmClient, ArmClientOptions};
use arclink::connect::credentials::{ArmConfig, ArmPool};
use arclink::controller::{Context, Stores};
use arclink::emulator::{Admin, Emulator, EmulatorConfig, Fixtures};
use arclink::reconcile::engine::Managed;
use arclink::reconcile::{self, Outcome, Settings};
use arclink::telemetry::Metrics;
use kube::core::object::HasStatus;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use serde_json::Value;

use super::api_server::{self, ApiServer};
use super::fixtures::{arm_client, fixtures, scope_id};

pub struct Bed {
    pub emu: Emulator,
    pub admin: Admin,
    /// For driving the reconcile cores directly; see [`arm_client`].
    pub arm: ArmClient,
    pub settings: Settings,
    /// The controller's context: Azure is `emu`, Kubernetes is `api`.
    pub ctx: Arc<Context>,
    pub api: ApiServer,
}

pub struct BedBuilder {
    fixtures: Fixtures,
    emulator: EmulatorConfig,
    client: Box<dyn FnOnce(&mut ArmClientOptions)>,
}

const BASE: &str = "
subscriptions: [{id: $SUB, displayName: test}]
resourceGroups:
  - {subscriptionId: $SUB, name: rg-arc, location: eastus}
";

impl Bed {
    #[expect(
        clippy::new_ret_no_self,
        reason = "awaiting the builder starts the bed"
    )]
    pub fn new() -> BedBuilder {
        BedBuilder {
            fixtures: fixtures(BASE),
            emulator: EmulatorConfig::default(),
            client: Box::new(|_| {}),
        }
    }
}

impl BedBuilder {
    /// Adds the resources of fixture YAML (`$SUB` standing for `SUB`).
    pub fn fixtures(self, yaml: &str) -> Self {
        let more = fixtures(yaml);
        self.edit_fixtures(|f| *f = merge(f, more))
    }

    /// Changes the fixtures in code (machines or principals a test builds).
    pub fn edit_fixtures(mut self, edit: impl FnOnce(&mut Fixtures)) -> Self {
        edit(&mut self.fixtures);
        self
    }

    /// Long-running operations stay InProgress for `lro`.
    pub fn lro(self, lro: Duration) -> Self {
        self.emulator(|c| c.lro_duration = lro)
    }

    /// Any other emulator setting.
    pub fn emulator(mut self, edit: impl FnOnce(&mut EmulatorConfig)) -> Self {
        edit(&mut self.emulator);
        self
    }

    /// Options of the bed's ARM client (api-versions, rate limits).
    pub fn client(mut self, adjust: impl FnOnce(&mut ArmClientOptions) + 'static) -> Self {
        self.client = Box::new(adjust);
        self
    }

    pub async fn start(self) -> Bed {
        let emu = Emulator::start(EmulatorConfig {
            fixtures: Some(self.fixtures),
            ..self.emulator
        })
        .await
        .unwrap();
        let arm = arm_client(&emu, self.client);
        let (ctx, api) = controller(&emu);
        Bed {
            admin: emu.admin(),
            emu,
            arm,
            settings: Settings::new("test-cluster"),
            ctx,
            api,
        }
    }
}

impl Bed {
    /// Someone enables public network access of scope `name` in the portal: drift.
    pub fn enable_public_access(&self, name: &str) {
        let change = serde_json::json!({"properties": {"publicNetworkAccess": "Enabled"}});
        self.admin
            .patch_out_of_band(&scope_id(name), change)
            .unwrap();
    }
}

impl IntoFuture for BedBuilder {
    type Output = Bed;
    type IntoFuture = Pin<Box<dyn Future<Output = Bed>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.start())
    }
}

/// `base` with the resources of `more` added to each list.
fn merge(base: &Fixtures, more: Fixtures) -> Fixtures {
    let mut merged = serde_json::to_value(base).unwrap();
    let Value::Object(more) = serde_json::to_value(more).unwrap() else {
        unreachable!("fixtures serialise to an object")
    };
    for (list, items) in more {
        if let (Some(Value::Array(to)), Value::Array(items)) = (merged.get_mut(&list), items) {
            to.extend(items);
        }
    }
    serde_json::from_value(merged).unwrap()
}

/// A controller context for `emu` whose caches of declared objects are synced and empty.
fn controller(emu: &Emulator) -> (Arc<Context>, ApiServer) {
    let (client, api) = api_server::client();
    let config = ArmConfig::emulator(&emu.endpoint(), emu.ca_pem()).unwrap();
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "arclink".into(),
            instance: Some("arclink-test".into()),
        },
    );
    let ctx = Context::new(
        client,
        Settings::new("test-cluster"),
        ArmPool::new(config),
        Metrics::new(),
        recorder,
        Stores {
            scopes: synced_store(),
            monitor_scopes: synced_store(),
            endpoints: synced_store(),
            associations: synced_store(),
            management_links: synced_store(),
        },
    );
    (Arc::new(ctx), api)
}

/// A cache whose first (empty) list is done.
fn synced_store<K: kube::Resource<DynamicType = ()> + Clone>() -> Store<K> {
    let (store, mut writer) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::InitDone);
    store
}

/// Reconciles once and stores the status on the object, as the controller would (with the
/// controller's per-kind state).
pub async fn step<K>(
    b: &Bed,
    obj: &mut K,
    deps: &<K as Managed>::Deps,
) -> Outcome<<K as Managed>::Status>
where
    K: Managed + HasStatus<Status = <K as Managed>::Status>,
{
    let state = b.ctx.states.of::<K>();
    let out = reconcile::reconcile(&b.arm, &b.settings, &*state, obj, deps).await;
    *obj.status_mut() = Some(out.status.clone());
    out
}
