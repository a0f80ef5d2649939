//! The GraphQL schema: Relay nodes and connections, mutation payloads with `userErrors`, and the
//! single authorization guard every tenant-scoped resolver calls.

pub mod attestations;
pub mod audits;
pub mod catalog;
pub mod certificates;
pub mod common;
pub mod connection;
pub mod evidence;
pub mod ids;
pub mod incidents;
pub mod isms;
pub mod mutation;
pub mod query;
pub mod records;
pub mod reminders;
pub mod sharing;
pub mod spans;
pub mod subscription;
pub mod types;
pub mod vendors;

use crate::auth::{AuthContext, Principal};
use crate::errors::{ErrorCode, gql_error};
use crate::events::EventBus;
use async_graphql::{Context, Schema};
use grc_domain::audit::Actor;
use grc_domain::authz::{Operation, permits};
use grc_domain::tenancy::Role;
use grc_store::{Store, TenantRecord, TenantScope};

pub type GrcSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The subscription root.
#[derive(Debug, Default, async_graphql::MergedSubscription)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    subscription::Subscription,
    sharing::SharingSubscription,
    reminders::RemindersSubscription,
);

/// The query root: the foundation's fields and the catalogs'.
#[derive(Debug, Default, async_graphql::MergedObject)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::Query,
    catalog::CatalogQuery,
    isms::IsmsQuery,
    audits::AuditsQuery,
    records::RecordsQuery,
    evidence::EvidenceQuery,
    vendors::VendorsQuery,
    attestations::AttestationsQuery,
    certificates::CertificatesQuery,
    sharing::SharingQuery,
    reminders::RemindersQuery,
    incidents::IncidentsQuery,
);

/// The mutation root.
#[derive(Debug, Default, async_graphql::MergedObject)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::Mutation,
    catalog::CatalogMutation,
    isms::IsmsMutation,
    audits::AuditsMutation,
    records::RecordsMutation,
    evidence::EvidenceMutation,
    vendors::VendorsMutation,
    attestations::AttestationsMutation,
    certificates::CertificatesMutation,
    sharing::SharingMutation,
    sharing::InheritanceMutation,
    reminders::RemindersMutation,
    incidents::IncidentsMutation,
);

/// Limits the schema enforces (checked by [`crate::limits::Limits`]).
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_tokens: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 2000,
            max_aliases: 30,
            max_tokens: 5000,
        }
    }
}

/// Builds the schema. `store`, `bus` and `cache` are `None` only for printing the SDL.
pub fn build_schema(
    store: Option<Store>,
    bus: Option<EventBus>,
    cache: Option<std::sync::Arc<crate::auth::AuthCache>>,
    limits: SchemaLimits,
) -> GrcSchema {
    let mut b = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .extension(crate::limits::Limits::new(limits))
    .extension(spans::RequestSpans)
    // Parser recursion (nested lists and objects in values) is bounded as well. Directives
    // are limited by our extension: async-graphql's check expands fragment spreads.
    .limit_recursive_depth(64);
    if let Some(store) = store {
        b = b.data(store);
    }
    if let Some(bus) = bus {
        b = b.data(bus);
    }
    if let Some(cache) = cache {
        b = b.data(cache);
    }
    b = b.data(std::sync::Arc::new(crate::catalog::CatalogCache::new()));
    b = b.data(std::sync::Arc::new(isms::IsmsCache::default()));
    b = b.data(std::sync::Arc::new(sharing::SharedPageCache::default()));
    b.finish()
}

/// The SDL, as `grc schema` prints it and `schema/schema.graphql` holds it.
pub fn sdl() -> String {
    build_schema(None, None, None, SchemaLimits::default()).sdl()
}

/// What an authorized tenant-scoped operation may use.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub scope: TenantScope,
    pub tenant: TenantRecord,
    pub role: Role,
    pub actor: Actor,
}

/// The caller (every request that reaches the schema is authenticated).
pub fn auth<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AuthContext> {
    ctx.data_opt::<AuthContext>()
        .ok_or_else(|| gql_error(ErrorCode::Unauthenticated, "authentication required"))
}

/// The one authorization check: the caller's role in the current tenant must permit `op`.
pub fn authorize(ctx: &Context<'_>, op: Operation) -> async_graphql::Result<Authorized> {
    authorize_caller(auth(ctx)?, op)
}

/// [`authorize`] for an authenticated caller, as a GraphQL error.
pub fn authorize_caller(a: &AuthContext, op: Operation) -> async_graphql::Result<Authorized> {
    check_caller(a, op).map_err(|(code, message)| gql_error(code, message))
}

/// The authorization check itself, for GraphQL and plain HTTP routes alike: the caller must act
/// in one tenant (`BAD_USER_INPUT` otherwise) with a role that permits `op` (`FORBIDDEN`).
pub fn check_caller(a: &AuthContext, op: Operation) -> Result<Authorized, (ErrorCode, String)> {
    let Some((tenant, role)) = &a.tenant else {
        return Err((
            ErrorCode::BadUserInput,
            "this operation acts in one tenant: send the X-Tenant header with the tenant's slug"
                .into(),
        ));
    };
    if !permits(*role, op) {
        return Err((
            ErrorCode::Forbidden,
            format!("the {role} role may not {}", op.as_str().replace('_', " ")),
        ));
    }
    let actor = match &a.principal {
        Principal::User { user, .. } => Actor::User(user.id.0),
        Principal::ApiKey(k) => Actor::ApiKey(k.id.0),
    };
    Ok(Authorized {
        scope: TenantScope::new(tenant.id),
        tenant: tenant.clone(),
        role: *role,
        actor,
    })
}

pub fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}
