//! Subscriptions over `/graphql/ws` (graphql-transport-ws), authenticated in `connection_init`.

use super::authorize;
use super::types::AuditEvent;
use crate::events::EventBus;
use async_graphql::{Context, Result, Subscription as GqlSubscription};
use futures_util::{Stream, StreamExt};
use grc_domain::authz::Operation;

#[derive(Debug, Default)]
pub struct Subscription;

#[GqlSubscription]
impl Subscription {
    /// Each audit event of the current tenant as it is committed (owners and auditors).
    async fn audit_event_appended(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = AuditEvent> + use<>> {
        let az = authorize(ctx, Operation::ReadAuditEvents)?;
        let tenant = az.scope.tenant_id().0;
        let bus = ctx.data_unchecked::<EventBus>();
        Ok(bus
            .subscribe()
            .filter(move |e| std::future::ready(e.tenant_id == tenant))
            .map(|e| AuditEvent((*e).clone())))
    }
}
