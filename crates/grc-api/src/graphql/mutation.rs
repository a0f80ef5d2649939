//! Mutations. Each returns a payload with `userErrors` for input and business-rule failures;
//! authentication, authorization and internal failures are top-level errors. Every change
//! writes its audit event in the same transaction, and a failed mutation changes nothing.

use super::common::settle;
use super::ids::{Kind, decode_kind};
use super::types::{ApiKey, Membership, Role, Tenant, TenantKind};
use super::{auth, authorize, store};
use crate::auth::Principal;
use crate::errors::{ErrorCode, MutationError, UserError, gql_error};
use crate::events::EventBus;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use grc_domain::DomainError;
use grc_domain::audit::Actor;
use grc_domain::authz::Operation;
use grc_domain::ids::{ApiKeyId, UserId};
use grc_domain::tenancy::{self, Email, Name, Slug};
use grc_store::{AuditEntry, NewApiKey, NewTenant, StoreError, TenantTx};
use serde_json::json;

#[derive(Debug, Default)]
pub struct Mutation;

/// Appends the audit event of a change made through the API.
pub(crate) async fn record(
    tx: &mut TenantTx,
    az: &super::Authorized,
    action: &str,
    subject_type: &str,
    subject_id: String,
    change: serde_json::Value,
) -> Result<(), MutationError> {
    tx.append_audit(AuditEntry {
        actor: az.actor.clone(),
        action: action.to_owned(),
        subject_type: subject_type.to_owned(),
        subject_id,
        change,
    })
    .await?;
    Ok(())
}

/// Commits, drops this replica's cached credentials the change made stale (before the answer
/// goes out, so the caller's next request sees the change), and tells live subscribers and the
/// other replicas about the audit events the transaction wrote.
///
/// A change to an artifact shared with other tenants is announced to them here: an outbox
/// event per grantee in the same transaction, then (after the commit) an event in each
/// grantee's audit chain for their live subscribers (see `sharing::share_changes`).
pub(crate) async fn commit(ctx: &Context<'_>, mut tx: TenantTx) -> Result<(), MutationError> {
    let scope = tx.scope();
    let shared = super::sharing::share_changes(&mut tx).await?;
    let events = tx.commit().await?;
    announce(ctx, events).await;
    if !shared.is_empty() {
        let events = super::sharing::tell_grantees(super::store(ctx), scope, shared).await;
        announce(ctx, events).await;
    }
    Ok(())
}

async fn announce(ctx: &Context<'_>, events: Vec<grc_domain::audit::AuditRecord>) {
    if let Some(cache) = ctx.data_opt::<std::sync::Arc<crate::auth::AuthCache>>() {
        for e in &events {
            cache.on_event(e);
        }
    }
    if let Some(bus) = ctx.data_opt::<EventBus>() {
        for e in events {
            bus.publish(e).await;
        }
    }
}

fn conflict_as(field: &str, message: &str) -> impl Fn(StoreError) -> MutationError {
    let (field, message) = (field.to_owned(), message.to_owned());
    move |e| match e {
        StoreError::Conflict(_) => DomainError::conflict(&field, message.clone()).into(),
        StoreError::NotFound => DomainError::not_found("object", &field).into(),
        other => other.into(),
    }
}

#[derive(Debug, InputObject)]
pub struct CreateTenantInput {
    /// 2–63 lower-case letters, digits and hyphens.
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    /// The first owner, created as a user if new.
    pub owner_email: String,
    pub owner_display_name: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct CreateTenantPayload {
    pub tenant: Option<Tenant>,
    pub owner: Option<Membership>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddMemberInput {
    pub email: String,
    pub role: Role,
    /// Used only when the e-mail address is new to grc.
    pub display_name: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct MembershipPayload {
    pub membership: Option<Membership>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ChangeMemberRoleInput {
    /// The member's user id.
    pub user_id: ID,
    pub role: Role,
}

#[derive(Debug, InputObject)]
pub struct RemoveMemberInput {
    pub user_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct RemoveMemberPayload {
    pub removed_user_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: Option<ApiKey>,
    /// The whole key, shown this once. Send it as `Authorization: Bearer <secret>`.
    pub secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RevokeApiKeyInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct ApiKeyPayload {
    pub api_key: Option<ApiKey>,
    pub user_errors: Vec<UserError>,
}

/// Opens the transaction for changing a member: the member as they are, and the tenant's owners
/// locked (PostgreSQL) so that two concurrent changes cannot both remove "the other" last owner.
async fn member_to_change(
    ctx: &Context<'_>,
    az: &super::Authorized,
    user_id: UserId,
) -> Result<(TenantTx, grc_store::MemberRecord, Vec<UserId>), MutationError> {
    let tx = store(ctx).tenant_tx(az.scope).await?;
    let owners = tx.lock_owners().await?;
    let member = tx
        .member(user_id)
        .await?
        .ok_or_else(|| DomainError::not_found("member", "userId"))?;
    Ok((tx, member, owners))
}

fn user_id_of(id: &ID) -> Result<UserId, MutationError> {
    decode_kind(id, Kind::User)
        .map(UserId)
        .ok_or_else(|| DomainError::not_found("member", "userId").into())
}

#[Object(name = "FoundationMutation")]
impl Mutation {
    /// Creates a tenant with its first owner (platform operators only).
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> Result<CreateTenantPayload> {
        let a = auth(ctx)?;
        let actor = match &a.principal {
            Principal::User { user, .. } if user.platform_operator => Actor::User(user.id.0),
            _ => {
                return Err(gql_error(
                    ErrorCode::Forbidden,
                    "only platform operators create tenants",
                ));
            }
        };
        let r = async {
            let new = NewTenant {
                slug: Slug::parse(&input.slug)?,
                name: Name::parse("name", &input.name)?,
                kind: input.kind.into(),
            };
            let email = Email::parse(&input.owner_email)
                .map_err(|_| DomainError::invalid("ownerEmail", "not a valid e-mail address"))?;
            let name = input
                .owner_display_name
                .as_deref()
                .map(|n| Name::parse("ownerDisplayName", n))
                .transpose()?;
            let (tenant, owner, events) = store(ctx)
                .create_tenant(&new, Some((&email, name.as_ref())), &actor)
                .await
                .map_err(conflict_as("slug", "a tenant with this slug exists"))?;
            announce(ctx, events).await;
            let owner = owner.map(|m| Membership::of_member(&tenant, m));
            Ok::<_, MutationError>((Tenant(tenant), owner))
        }
        .await;
        let (v, user_errors) = settle(r)?;
        let (tenant, owner) = v.map_or((None, None), |(t, o)| (Some(t), o));
        Ok(CreateTenantPayload {
            tenant,
            owner,
            user_errors,
        })
    }

    /// Adds a person to the current tenant with a role (owners only). Creates the user when the
    /// e-mail address is new.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        input: AddMemberInput,
    ) -> Result<MembershipPayload> {
        let az = authorize(ctx, Operation::ManageMembers)?;
        let r = async {
            let email = Email::parse(&input.email)?;
            let name = input
                .display_name
                .as_deref()
                .map(|n| Name::parse("displayName", n))
                .transpose()?;
            let role: tenancy::Role = input.role.into();
            let ptx = store(ctx).platform_tx().await?;
            let (user, _created) = ptx.ensure_user(&email, name.as_ref()).await?;
            let mut tx = ptx.enter_tenant(az.scope).await?;
            let m = tx
                .add_member_recorded(user.id, role, &az.actor)
                .await
                .map_err(conflict_as("email", "already a member of this tenant"))?;
            commit(ctx, tx).await?;
            Ok(Membership::of_member(&az.tenant, m))
        }
        .await;
        let (membership, user_errors) = settle(r)?;
        Ok(MembershipPayload {
            membership,
            user_errors,
        })
    }

    /// Changes a member's role (owners only). The last owner cannot be demoted.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeMemberRoleInput,
    ) -> Result<MembershipPayload> {
        let az = authorize(ctx, Operation::ManageMembers)?;
        let r = async {
            let user_id = user_id_of(&input.user_id)?;
            let role: tenancy::Role = input.role.into();
            let (mut tx, before, owners) = member_to_change(ctx, &az, user_id).await?;
            if before.role == tenancy::Role::Owner
                && role != tenancy::Role::Owner
                && owners.len() <= 1
            {
                return Err(DomainError::conflict(
                    "role",
                    "the tenant's last owner cannot be demoted; make another member owner first",
                )
                .into());
            }
            if before.role == role {
                return Ok(Membership::of_member(&az.tenant, before));
            }
            let m = tx.set_member_role(user_id, role).await?;
            record(
                &mut tx,
                &az,
                "member.change_role",
                "Membership",
                user_id.to_string(),
                json!({ "from": before.role.as_str(), "to": role.as_str() }),
            )
            .await?;
            commit(ctx, tx).await?;
            Ok(Membership::of_member(&az.tenant, m))
        }
        .await;
        let (membership, user_errors) = settle(r)?;
        Ok(MembershipPayload {
            membership,
            user_errors,
        })
    }

    /// Removes a member from the current tenant (owners only). The last owner stays.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> Result<RemoveMemberPayload> {
        let az = authorize(ctx, Operation::ManageMembers)?;
        let r = async {
            let user_id = user_id_of(&input.user_id)?;
            let (mut tx, before, owners) = member_to_change(ctx, &az, user_id).await?;
            if before.role == tenancy::Role::Owner && owners.len() <= 1 {
                return Err(DomainError::conflict(
                    "userId",
                    "the tenant's last owner cannot be removed",
                )
                .into());
            }
            tx.remove_member(user_id).await?;
            record(
                &mut tx,
                &az,
                "member.remove",
                "Membership",
                user_id.to_string(),
                json!({ "email": before.email, "role": before.role.as_str() }),
            )
            .await?;
            commit(ctx, tx).await?;
            Ok(super::ids::encode(Kind::User, user_id.0))
        }
        .await;
        let (removed_user_id, user_errors) = settle(r)?;
        Ok(RemoveMemberPayload {
            removed_user_id,
            user_errors,
        })
    }

    /// Creates a service API key with a role in the current tenant (owners only). The secret is
    /// in the payload, this once.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let az = authorize(ctx, Operation::ManageApiKeys)?;
        let r = async {
            let new = NewApiKey {
                name: Name::parse("name", &input.name)?,
                role: input.role.into(),
                created_by: az.actor.to_stored(),
            };
            let mut tx = store(ctx).tenant_tx(az.scope).await?;
            let (key, secret) = tx.create_api_key(&new).await?;
            record(
                &mut tx,
                &az,
                "api_key.create",
                "ApiKey",
                key.id.to_string(),
                json!({ "name": key.name, "role": key.role.as_str() }),
            )
            .await?;
            commit(ctx, tx).await?;
            Ok((ApiKey(key), secret.expose().to_owned()))
        }
        .await;
        let (v, user_errors) = settle(r)?;
        let (api_key, secret) = v.map_or((None, None), |(k, s)| (Some(k), Some(s)));
        Ok(CreateApiKeyPayload {
            api_key,
            secret,
            user_errors,
        })
    }

    /// Revokes an API key at once (owners only).
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> Result<ApiKeyPayload> {
        let az = authorize(ctx, Operation::ManageApiKeys)?;
        let r = async {
            let id = decode_kind(&input.id, Kind::ApiKey)
                .map(ApiKeyId)
                .ok_or_else(|| DomainError::not_found("API key", "id"))?;
            let mut tx = store(ctx).tenant_tx(az.scope).await?;
            let key = tx.revoke_api_key(id).await.map_err(|e| match e {
                StoreError::NotFound => DomainError::not_found("API key", "id").into(),
                StoreError::Conflict(_) => {
                    DomainError::conflict("id", "the key is already revoked").into()
                }
                other => MutationError::from(other),
            })?;
            record(
                &mut tx,
                &az,
                "api_key.revoke",
                "ApiKey",
                key.id.to_string(),
                json!({ "name": key.name }),
            )
            .await?;
            commit(ctx, tx).await?;
            Ok(ApiKey(key))
        }
        .await;
        let (api_key, user_errors) = settle(r)?;
        Ok(ApiKeyPayload {
            api_key,
            user_errors,
        })
    }
}
