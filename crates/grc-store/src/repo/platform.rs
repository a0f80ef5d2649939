//! Tenants and users: the platform tables.

use super::parse_role;
use crate::entity::{audit_head, membership, tenant, user};
use crate::{PlatformTx, Store, StoreError, UserTx};
use chrono::{DateTime, Utc};
use grc_domain::audit::GENESIS_HASH;
use grc_domain::ids::{TenantId, UserId};
use grc_domain::tenancy::{Email, Name, Role, Slug, TenantKind};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<tenant::Model> for TenantRecord {
    type Error = StoreError;
    fn try_from(m: tenant::Model) -> Result<Self, StoreError> {
        Ok(Self {
            id: TenantId(m.id),
            kind: m
                .kind
                .parse()
                .map_err(|_| StoreError::Invalid(format!("stored kind {:?}", m.kind)))?,
            slug: m.slug,
            name: m.name,
            created_at: m.created_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub subject: String,
    pub email: String,
    pub display_name: String,
    pub platform_operator: bool,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for UserRecord {
    fn from(m: user::Model) -> Self {
        Self {
            id: UserId(m.id),
            subject: m.subject,
            email: m.email,
            display_name: m.display_name,
            platform_operator: m.platform_operator,
            created_at: m.created_at,
        }
    }
}

/// One of a user's memberships, with its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMembership {
    pub tenant: TenantRecord,
    pub role: Role,
    pub since: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: Slug,
    pub name: Name,
    pub kind: TenantKind,
}

impl PlatformTx {
    /// Creates a tenant and the head of its audit chain. A taken slug is a `Conflict`.
    pub async fn insert_tenant(&self, new: &NewTenant) -> Result<TenantRecord, StoreError> {
        let now = grc_domain::audit::truncate_to_micros(Utc::now());
        let id = TenantId::generate();
        let model = tenant::ActiveModel {
            id: Set(id.0),
            slug: Set(new.slug.as_str().to_owned()),
            name: Set(new.name.as_str().to_owned()),
            kind: Set(new.kind.as_str().to_owned()),
            created_at: Set(now),
        }
        .insert(&self.tx)
        .await?;
        TenantRecord::try_from(model)
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<TenantRecord>, StoreError> {
        tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug))
            .one(&self.tx)
            .await?
            .map(TenantRecord::try_from)
            .transpose()
    }

    pub async fn tenant_by_id(&self, id: TenantId) -> Result<Option<TenantRecord>, StoreError> {
        tenant::Entity::find_by_id(id.0)
            .one(&self.tx)
            .await?
            .map(TenantRecord::try_from)
            .transpose()
    }

    pub async fn all_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        tenant::Entity::find()
            .order_by_asc(tenant::Column::Slug)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(TenantRecord::try_from)
            .collect()
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.tx)
            .await?
            .map(UserRecord::from))
    }

    pub async fn user_by_subject(&self, subject: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Subject.eq(subject))
            .one(&self.tx)
            .await?
            .map(UserRecord::from))
    }

    /// The user with this e-mail address, created (with its id as its subject) when new.
    /// Returns the user and whether it was created.
    pub async fn ensure_user(
        &self,
        email: &Email,
        display_name: Option<&Name>,
    ) -> Result<(UserRecord, bool), StoreError> {
        if let Some(u) = self.user_by_email(email).await? {
            return Ok((u, false));
        }
        let id = UserId::generate();
        let name = display_name.map_or_else(
            || {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            },
            |n| n.as_str().to_owned(),
        );
        let model = user::ActiveModel {
            id: Set(id.0),
            subject: Set(id.to_string()),
            email: Set(email.as_str().to_owned()),
            display_name: Set(name),
            platform_operator: Set(false),
            created_at: Set(grc_domain::audit::truncate_to_micros(Utc::now())),
        }
        .insert(&self.tx)
        .await?;
        Ok((model.into(), true))
    }

    /// Binds an identity provider's subject to a user (first sign-in through OIDC).
    pub async fn set_subject(&self, user: UserId, subject: &str) -> Result<(), StoreError> {
        user::ActiveModel {
            id: Set(user.0),
            subject: Set(subject.to_owned()),
            ..Default::default()
        }
        .update(&self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_platform_operator(&self, user: UserId, on: bool) -> Result<(), StoreError> {
        user::ActiveModel {
            id: Set(user.0),
            platform_operator: Set(on),
            ..Default::default()
        }
        .update(&self.tx)
        .await?;
        Ok(())
    }
}

impl crate::TenantTx {
    /// The tenant this transaction is scoped to.
    pub async fn tenant(&self) -> Result<TenantRecord, StoreError> {
        tenant::Entity::find_by_id(self.tenant_uuid())
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(TenantRecord::try_from)
    }

    /// Creates the head of the tenant's audit chain (once, with the tenant).
    pub(crate) async fn init_audit_head(&self) -> Result<(), StoreError> {
        audit_head::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            last_seq: Set(0),
            last_hash: Set(GENESIS_HASH.to_owned()),
        }
        .insert(&self.tx)
        .await?;
        Ok(())
    }
}

impl UserTx {
    /// The user's memberships in every tenant, with the tenants, ordered by tenant slug.
    pub async fn memberships(&self) -> Result<Vec<UserMembership>, StoreError> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(self.user.0))
            .find_also_related(tenant::Entity)
            .order_by_asc(tenant::Column::Slug)
            .all(&self.tx)
            .await?;
        rows.into_iter()
            .filter_map(|(m, t)| t.map(|t| (m, t)))
            .map(|(m, t)| {
                Ok(UserMembership {
                    tenant: t.try_into()?,
                    role: parse_role(&m.role)?,
                    since: m.created_at,
                    updated_at: m.updated_at,
                })
            })
            .collect()
    }
}

impl Store {
    /// Resolves a token's subject: the user and their memberships in every tenant. This is
    /// the hot path of every request: two statements and no explicit transaction (on
    /// PostgreSQL the memberships come through `grc_user_memberships`, which scopes its own
    /// statement to the user for row-level security).
    pub async fn user_with_memberships(
        &self,
        subject: &str,
    ) -> Result<Option<(UserRecord, Vec<UserMembership>)>, StoreError> {
        let Some(user) = user::Entity::find()
            .filter(user::Column::Subject.eq(subject))
            .one(&self.db)
            .await?
            .map(UserRecord::from)
        else {
            return Ok(None);
        };
        let memberships = if self.backend() == DbBackend::Postgres {
            let rows = self
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT * FROM grc_user_memberships($1)",
                    [user.id.0.into()],
                ))
                .await?;
            rows.into_iter()
                .map(|r| {
                    let kind: String = r.try_get("", "kind")?;
                    Ok(UserMembership {
                        tenant: TenantRecord {
                            id: TenantId(r.try_get("", "tenant_id")?),
                            slug: r.try_get("", "slug")?,
                            name: r.try_get("", "name")?,
                            kind: kind.parse().map_err(|_| {
                                StoreError::Invalid(format!("stored kind {kind:?}"))
                            })?,
                            created_at: r.try_get("", "tenant_created_at")?,
                        },
                        role: parse_role(&r.try_get::<String>("", "role")?)?,
                        since: r.try_get("", "created_at")?,
                        updated_at: r.try_get("", "updated_at")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        } else {
            let utx = self.user_tx(user.id).await?;
            let ms = utx.memberships().await?;
            utx.commit().await?;
            ms
        };
        Ok(Some((user, memberships)))
    }

    /// Creates a tenant, its audit chain, and (when given) its first owner, in one
    /// transaction, with an audit event for each change.
    pub async fn create_tenant(
        &self,
        new: &NewTenant,
        owner: Option<(&Email, Option<&Name>)>,
        actor: &grc_domain::audit::Actor,
    ) -> Result<
        (
            TenantRecord,
            Option<crate::MemberRecord>,
            Vec<grc_domain::audit::AuditRecord>,
        ),
        StoreError,
    > {
        let ptx = self.platform_tx().await?;
        let record = ptx.insert_tenant(new).await?;
        let owner_user = match owner {
            Some((email, name)) => Some(ptx.ensure_user(email, name).await?),
            None => None,
        };
        let mut tx = ptx.enter_tenant(crate::TenantScope::new(record.id)).await?;
        tx.init_audit_head().await?;
        tx.wrote();
        tx.append_audit(crate::AuditEntry {
            actor: actor.clone(),
            action: "tenant.create".into(),
            subject_type: "Tenant".into(),
            subject_id: record.id.to_string(),
            change: serde_json::json!({
                "slug": record.slug, "name": record.name, "kind": record.kind.as_str()
            }),
        })
        .await?;
        let member = match owner_user {
            Some((user, _)) => Some(tx.add_member_recorded(user.id, Role::Owner, actor).await?),
            None => None,
        };
        let events = tx.commit().await?;
        Ok((record, member, events))
    }
}
