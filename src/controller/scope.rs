//! `ArcPrivateLinkScope` in the controller.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::context::Context;
use super::kind::Kind;
use crate::api::{ArcPrivateLinkScope, ArcPrivateLinkScopeStatus, CredentialRef};
use crate::azure::ArmClient;
use crate::reconcile::{Cleanup, Outcome, scope};

impl Kind for ArcPrivateLinkScope {
    type Status = ArcPrivateLinkScopeStatus;
    const KIND: &'static str = scope::KIND;

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn conditions(status: &mut Self::Status) -> &mut Vec<Condition> {
        &mut status.conditions
    }
    fn set_observed_generation(status: &mut Self::Status, generation: Option<i64>) {
        status.observed_generation = generation;
    }
    fn credential_ref(&self) -> Option<&CredentialRef> {
        self.spec.credential_ref.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend
    }
    fn drift_interval(&self, ctx: &Context) -> Duration {
        scope::drift_interval(self, &ctx.settings)
    }
    fn reconcile(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Outcome<Self::Status>> {
        async move { scope::reconcile(&arm, &ctx.settings, &obj).await }.boxed()
    }
    fn cleanup(
        arm: ArmClient,
        ctx: Arc<Context>,
        obj: Arc<Self>,
    ) -> BoxFuture<'static, Cleanup<Self::Status>> {
        async move { scope::cleanup(&arm, &ctx.settings, &obj).await }.boxed()
    }
}
