//! Subscriptions over `/graphql/ws` (graphql-transport-ws), authenticated in `connection_init`.
//!
//! A socket outlives the checks made when it opened, so the socket carries its credential and
//! every event is delivered only after the credential is checked again (through the short
//! credential cache, which changes to keys and memberships clear at once). A revoked key, a
//! removed member or a demoted one stops receiving with an `UNAUTHENTICATED` or `FORBIDDEN`
//! error that ends the stream. Queries and mutations are not served over the socket (the
//! limits extension refuses them): they go to `POST /graphql`, which authenticates each one.

use super::authorize;
use super::types::AuditEvent;
use crate::auth::Authenticator;
use crate::errors::{ErrorCode, gql_error};
use crate::events::EventBus;
use async_graphql::{Context, Result, Subscription as GqlSubscription};
use futures_util::{Stream, StreamExt, stream};
use grc_domain::authz::{Operation, permits};

/// The credential a websocket connected with.
#[derive(Clone)]
pub struct SocketCredential {
    pub credential: String,
    pub tenant: Option<String>,
    pub authenticator: Authenticator,
}

impl std::fmt::Debug for SocketCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketCredential")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl SocketCredential {
    /// Whether the credential may still perform `op` in `tenant`; the error to send if not.
    pub(crate) async fn still_permits(&self, op: Operation, tenant: uuid::Uuid) -> Result<()> {
        let auth = self
            .authenticator
            .authenticate(Some(&self.credential), self.tenant.as_deref())
            .await
            .map_err(|_| gql_error(ErrorCode::Unauthenticated, "authentication required"))?;
        match auth.tenant {
            Some((t, role)) if t.id.0 == tenant && permits(role, op) => Ok(()),
            Some((t, _)) if t.id.0 == tenant => Err(gql_error(
                ErrorCode::Forbidden,
                "the role no longer allows this subscription",
            )),
            _ => Err(gql_error(
                ErrorCode::Unauthenticated,
                "authentication required",
            )),
        }
    }
}

#[derive(Debug, Default)]
pub struct Subscription;

#[GqlSubscription(name = "AuditSubscription")]
impl Subscription {
    /// Each audit event of the current tenant as it is committed (owners and auditors).
    async fn audit_event_appended(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<AuditEvent>> + use<>> {
        let az = authorize(ctx, Operation::ReadAuditEvents)?;
        let tenant = az.scope.tenant_id().0;
        let socket = ctx.data_opt::<SocketCredential>().cloned();
        let events = ctx
            .data_unchecked::<EventBus>()
            .subscribe()
            .filter(move |e| std::future::ready(e.tenant_id == tenant));
        // Deliver while the credential still holds; the first refusal is sent and ends it.
        Ok(stream::unfold(
            (Box::pin(events), socket, false),
            move |(mut events, socket, ended)| async move {
                if ended {
                    return None;
                }
                let event = events.next().await?;
                let verdict = match &socket {
                    Some(s) => s.still_permits(Operation::ReadAuditEvents, tenant).await,
                    None => Ok(()),
                };
                let ended = verdict.is_err();
                Some((
                    verdict.map(|()| AuditEvent((*event).clone())),
                    (events, socket, ended),
                ))
            },
        ))
    }
}
