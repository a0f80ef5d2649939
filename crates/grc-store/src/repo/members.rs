//! A tenant's members.

use super::parse_role;
use crate::entity::{membership, user};
use crate::{Page, PageRequest, StoreError, TenantTx};
use chrono::{DateTime, Utc};
use grc_domain::ids::UserId;
use grc_domain::tenancy::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

/// A member of the scoped tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn record(m: &membership::Model, u: Option<user::Model>) -> Result<MemberRecord, StoreError> {
    let u = u.ok_or_else(|| StoreError::Invalid("membership without a user".into()))?;
    Ok(MemberRecord {
        user_id: UserId(m.user_id),
        email: u.email,
        display_name: u.display_name,
        role: parse_role(&m.role)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl TenantTx {
    fn members_query(&self) -> sea_orm::Select<membership::Entity> {
        membership::Entity::find().filter(membership::Column::TenantId.eq(self.tenant_uuid()))
    }

    /// One page of members, ordered by user id (creation order).
    pub async fn members(
        &self,
        page: &PageRequest<UserId>,
    ) -> Result<Page<MemberRecord>, StoreError> {
        let q = page.apply(self.members_query(), membership::Column::UserId, |k| {
            k.0.into()
        });
        let rows = q.find_also_related(user::Entity).all(&self.tx).await?;
        let rows = rows
            .into_iter()
            .map(|(m, u)| record(&m, u))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(rows))
    }

    pub async fn member_count(&self) -> Result<u64, StoreError> {
        Ok(self.members_query().count(&self.tx).await?)
    }

    /// The members among `ids` (one query; ids that are not members are left out).
    pub async fn members_by_ids(
        &self,
        ids: &[uuid::Uuid],
    ) -> Result<Vec<MemberRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.members_query()
            .filter(membership::Column::UserId.is_in(ids.iter().copied()))
            .find_also_related(user::Entity)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|(m, u)| record(&m, u))
            .collect()
    }

    pub async fn member(&self, user_id: UserId) -> Result<Option<MemberRecord>, StoreError> {
        self.members_query()
            .filter(membership::Column::UserId.eq(user_id.0))
            .find_also_related(user::Entity)
            .one(&self.tx)
            .await?
            .map(|(m, u)| record(&m, u))
            .transpose()
    }

    /// Adds `user_id` with `role`. An existing member is a `Conflict`.
    pub async fn add_member(
        &mut self,
        user_id: UserId,
        role: Role,
    ) -> Result<MemberRecord, StoreError> {
        let now = grc_domain::audit::truncate_to_micros(Utc::now());
        membership::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            user_id: Set(user_id.0),
            role: Set(role.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.tx)
        .await?;
        self.wrote();
        self.member(user_id).await?.ok_or(StoreError::NotFound)
    }

    /// Adds `user_id` with `role` and records `member.add` in the audit chain.
    pub async fn add_member_recorded(
        &mut self,
        user_id: UserId,
        role: Role,
        actor: &grc_domain::audit::Actor,
    ) -> Result<MemberRecord, StoreError> {
        let m = self.add_member(user_id, role).await?;
        self.append_audit(crate::AuditEntry {
            actor: actor.clone(),
            action: "member.add".into(),
            subject_type: "Membership".into(),
            subject_id: user_id.to_string(),
            change: serde_json::json!({ "email": m.email, "role": role.as_str() }),
        })
        .await?;
        Ok(m)
    }

    pub async fn set_member_role(
        &mut self,
        user_id: UserId,
        role: Role,
    ) -> Result<MemberRecord, StoreError> {
        let res = membership::Entity::update_many()
            .col_expr(membership::Column::Role, role.as_str().into())
            .col_expr(
                membership::Column::UpdatedAt,
                grc_domain::audit::truncate_to_micros(Utc::now()).into(),
            )
            .filter(membership::Column::TenantId.eq(self.tenant_uuid()))
            .filter(membership::Column::UserId.eq(user_id.0))
            .exec(&self.tx)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.wrote();
        self.member(user_id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn remove_member(&mut self, user_id: UserId) -> Result<(), StoreError> {
        let res = membership::Entity::delete_many()
            .filter(membership::Column::TenantId.eq(self.tenant_uuid()))
            .filter(membership::Column::UserId.eq(user_id.0))
            .exec(&self.tx)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.wrote();
        Ok(())
    }

    /// The tenant's owners, locked until the transaction ends (on PostgreSQL), so that two
    /// concurrent changes cannot both remove "the other" last owner.
    pub async fn lock_owners(&self) -> Result<Vec<UserId>, StoreError> {
        let mut q = self
            .members_query()
            .filter(membership::Column::Role.eq(Role::Owner.as_str()));
        if self.tx.get_database_backend() == sea_orm::DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        Ok(q.all(&self.tx)
            .await?
            .into_iter()
            .map(|m| UserId(m.user_id))
            .collect())
    }
}
