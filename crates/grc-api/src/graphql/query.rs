//! Queries.

use super::connection::{ConnectionFields, PageArgs, build, wants_total};
use super::ids::{GlobalId, Kind, decode};
use super::types::{ApiKey, AuditEvent, Membership, Node, Role, Tenant, User};
use super::{auth, authorize, store};
use crate::auth::Principal;
use crate::errors::{ErrorCode, StoreErrorExt, gql_error};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use grc_domain::authz::Operation;
use grc_domain::ids::{ApiKeyId, UserId};
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Query;

/// Who is calling, and where.
#[derive(Debug)]
pub struct Viewer;

#[Object]
impl Viewer {
    /// The signed-in user (null when the caller is an API key).
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(match &auth(ctx)?.principal {
            Principal::User { user, .. } => Some(user.into()),
            Principal::ApiKey(_) => None,
        })
    }
    /// The API key making the request (null for users).
    async fn api_key(&self, ctx: &Context<'_>) -> Result<Option<ApiKey>> {
        Ok(match &auth(ctx)?.principal {
            Principal::ApiKey(k) => Some(ApiKey(k.clone())),
            Principal::User { .. } => None,
        })
    }
    /// The user's memberships in every tenant (for an API key: its one tenant's role).
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        Ok(match &auth(ctx)?.principal {
            Principal::User { user, memberships } => memberships
                .iter()
                .map(|m| Membership::of_user(user, m))
                .collect(),
            Principal::ApiKey(_) => Vec::new(),
        })
    }
    /// The tenant this request acts in: the `X-Tenant` header's, or the only one.
    async fn current_tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        Ok(auth(ctx)?.tenant.as_ref().map(|(t, _)| Tenant(t.clone())))
    }
    /// The caller's role in the current tenant.
    async fn role(&self, ctx: &Context<'_>) -> Result<Option<Role>> {
        Ok(auth(ctx)?.tenant.as_ref().map(|(_, r)| (*r).into()))
    }
    /// Whether the user may create tenants.
    async fn platform_operator(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(matches!(&auth(ctx)?.principal, Principal::User { user, .. } if user.platform_operator))
    }
}

/// A connection costs its page size times what each item selects.
pub(crate) fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = first
        .or(last)
        .unwrap_or(super::connection::DEFAULT_PAGE)
        .clamp(1, super::connection::MAX_PAGE);
    usize::try_from(page)
        .unwrap_or(1)
        .saturating_mul(child_complexity)
}

fn parse_uuid_key(s: &str) -> Option<Uuid> {
    Uuid::try_parse(s).ok()
}

#[Object(name = "FoundationQuery")]
impl Query {
    /// Fetches any object by its global id. Objects of other tenants are null.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some(gid) = decode(&id) else {
            return Ok(None);
        };
        let mut lookup = Lookup::default();
        let node = resolve_node(ctx, gid, &mut lookup).await?;
        lookup.finish().await?;
        Ok(node)
    }

    /// Fetches up to 100 objects by global id, in order; unknown or foreign ones are null.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(gql_error(ErrorCode::BadUserInput, "at most 100 ids"));
        }
        // One transaction for all of them, opened at the first id that needs it.
        let mut lookup = Lookup::default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(match decode(&id) {
                Some(gid) => resolve_node(ctx, gid, &mut lookup).await?,
                None => None,
            });
        }
        lookup.finish().await?;
        Ok(out)
    }

    /// The caller.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        auth(ctx)?;
        Ok(Viewer)
    }

    /// The current tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let a = authorize(ctx, Operation::ReadTenant)?;
        Ok(Tenant(a.tenant))
    }

    /// The current tenant's members, in the order they joined.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Membership, ConnectionFields>> {
        let a = authorize(ctx, Operation::ReadMembers)?;
        let req = PageArgs {
            first,
            after,
            last,
            before,
        }
        .into_request(|k| parse_uuid_key(k).map(UserId))?;
        let tx = store(ctx).tenant_tx(a.scope).await.map_err(StoreErrorExt)?;
        let page = tx.members(&req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.member_count().await.map_err(StoreErrorExt)?
        } else {
            0
        };
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = page.map(|m| Membership::of_member(&a.tenant, m));
        Ok(build(page, total, |m| m.user.id.to_string()))
    }

    /// The current tenant's API keys (owners and auditors).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ApiKey, ConnectionFields>> {
        let a = authorize(ctx, Operation::ReadApiKeys)?;
        let req = PageArgs {
            first,
            after,
            last,
            before,
        }
        .into_request(|k| parse_uuid_key(k).map(ApiKeyId))?;
        let tx = store(ctx).tenant_tx(a.scope).await.map_err(StoreErrorExt)?;
        let page = tx.api_keys(&req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.api_key_count().await.map_err(StoreErrorExt)?
        } else {
            0
        };
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = page.map(ApiKey);
        Ok(build(page, total, |k| k.0.id.to_string()))
    }

    /// The current tenant's audit trail, oldest first (owners and auditors).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AuditEvent, ConnectionFields>> {
        let a = authorize(ctx, Operation::ReadAuditEvents)?;
        let req = PageArgs {
            first,
            after,
            last,
            before,
        }
        .into_request(|k| k.parse::<i64>().ok())?;
        let tx = store(ctx).tenant_tx(a.scope).await.map_err(StoreErrorExt)?;
        let page = tx.audit_events(&req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.audit_event_count().await.map_err(StoreErrorExt)?
        } else {
            0
        };
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = page.map(AuditEvent);
        Ok(build(page, total, |e| e.0.seq.to_string()))
    }
}

/// A tenant transaction opened on first use and shared by the lookups of one field.
#[derive(Default)]
struct Lookup {
    tx: Option<grc_store::TenantTx>,
}

impl Lookup {
    async fn tx(
        &mut self,
        ctx: &Context<'_>,
        scope: grc_store::TenantScope,
    ) -> Result<&grc_store::TenantTx> {
        if self.tx.as_ref().is_some_and(|t| t.scope() != scope) {
            self.finish().await?;
        }
        if self.tx.is_none() {
            self.tx = Some(store(ctx).tenant_tx(scope).await.map_err(StoreErrorExt)?);
        }
        self.tx
            .as_ref()
            .ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))
    }

    async fn finish(&mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await.map_err(StoreErrorExt)?;
        }
        Ok(())
    }
}

/// Resolves a node inside the caller's reach: the current tenant's objects (by role), the
/// caller's own user and memberships. Anything else is null.
async fn resolve_node(
    ctx: &Context<'_>,
    gid: GlobalId,
    lookup: &mut Lookup,
) -> Result<Option<Node>> {
    let a = auth(ctx)?;
    let own = match &a.principal {
        Principal::User { user, memberships } => Some((user, memberships)),
        Principal::ApiKey(_) => None,
    };
    let current = a.tenant.as_ref().map(|(t, _)| t.id.0);
    match gid.kind {
        Kind::Tenant => {
            if let Some((t, _)) = a.tenant.as_ref().filter(|(t, _)| t.id.0 == gid.id) {
                return Ok(Some(Node::Tenant(Tenant(t.clone()))));
            }
            Ok(own
                .and_then(|(_, ms)| ms.iter().find(|m| m.tenant.id.0 == gid.id))
                .map(|m| Node::Tenant(Tenant(m.tenant.clone()))))
        }
        Kind::User => {
            if let Some((u, _)) = own.filter(|(u, _)| u.id.0 == gid.id) {
                return Ok(Some(Node::User(u.into())));
            }
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadMembers)?;
            let m = lookup
                .tx(ctx, az.scope)
                .await?
                .member(UserId(gid.id))
                .await
                .map_err(StoreErrorExt)?;
            Ok(m.map(|m| Node::User(Membership::of_member(&az.tenant, m).user)))
        }
        Kind::Membership => {
            let user_id = gid.second.unwrap_or_default();
            if let Some((u, ms)) = own.filter(|(u, _)| u.id.0 == user_id)
                && let Some(m) = ms.iter().find(|m| m.tenant.id.0 == gid.id)
            {
                return Ok(Some(Node::Membership(Membership::of_user(u, m))));
            }
            if current != Some(gid.id) {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadMembers)?;
            let m = lookup
                .tx(ctx, az.scope)
                .await?
                .member(UserId(user_id))
                .await
                .map_err(StoreErrorExt)?;
            Ok(m.map(|m| Node::Membership(Membership::of_member(&az.tenant, m))))
        }
        Kind::ApiKey => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadApiKeys)?;
            let k = lookup
                .tx(ctx, az.scope)
                .await?
                .api_key(ApiKeyId(gid.id))
                .await
                .map_err(StoreErrorExt)?;
            Ok(k.map(|k| Node::ApiKey(ApiKey(k))))
        }
        Kind::Framework | Kind::Control | Kind::Mapping => {
            super::catalog::resolve_node(ctx, gid.kind, gid.id).await
        }
        Kind::Isms
        | Kind::ContextItem
        | Kind::Asset
        | Kind::Risk
        | Kind::RiskAssessment
        | Kind::SoaVersion => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadIsms)?;
            // These open their own transactions (and may read the catalog): end the shared
            // one first (SQLite has a single connection).
            lookup.finish().await?;
            super::isms::node(ctx, &az, gid.kind, gid.id).await
        }
        Kind::Evidence => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadIsms)?;
            let e = super::evidence::resolve_node(lookup.tx(ctx, az.scope).await?, gid.id).await?;
            Ok(e.map(Node::Evidence))
        }
        Kind::Certificate | Kind::CertificationAudit | Kind::CertificationDecision => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadIsms)?;
            super::certificates::resolve_node(lookup.tx(ctx, az.scope).await?, gid.kind, gid.id)
                .await
        }
        Kind::TenantConnection
        | Kind::ShareListing
        | Kind::ShareGrant
        | Kind::Nda
        | Kind::AccessRequest
        | Kind::AccessReceipt => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadSharing)?;
            lookup.finish().await?;
            super::sharing::resolve_node(ctx, &az, gid.kind, gid.id).await
        }
        Kind::Vendor | Kind::Attestation | Kind::Baa => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadVendors)?;
            // These open their own transactions: end the shared one first (SQLite has a
            // single connection).
            lookup.finish().await?;
            super::vendors::resolve_node(ctx, &az, gid.kind, gid.id).await
        }
        Kind::AuditProgramme
        | Kind::InternalAudit
        | Kind::AuditFinding
        | Kind::Nonconformity
        | Kind::ManagementReview => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadIsms)?;
            super::audits::resolve_node(lookup.tx(ctx, az.scope).await?, gid.kind, gid.id).await
        }
        Kind::Document
        | Kind::DocumentVersion
        | Kind::Objective
        | Kind::ObjectiveResult
        | Kind::TrainingCourse
        | Kind::TrainingAssignment => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadIsms)?;
            super::records::resolve_node(lookup.tx(ctx, az.scope).await?, gid.kind, gid.id).await
        }
        Kind::AuditEvent => {
            if current.is_none() {
                return Ok(None);
            }
            let az = authorize(ctx, Operation::ReadAuditEvents)?;
            let e = lookup
                .tx(ctx, az.scope)
                .await?
                .audit_event(gid.id)
                .await
                .map_err(StoreErrorExt)?;
            Ok(e.map(|e| Node::AuditEvent(AuditEvent(e))))
        }
        // Reminder and notification objects are reached through their own fields
        // (`webhookEndpoints`, `notifications`, `calendarFeeds`, `deliveries`), not as nodes.
        Kind::WebhookEndpoint
        | Kind::WebhookSecret
        | Kind::Notification
        | Kind::CalendarFeed
        | Kind::Delivery
        | Kind::Incident
        | Kind::LawEnforcementDelay
        | Kind::BaBreachNotice => Ok(None),
    }
}
