//! Tenant-owned: the last link of a tenant's audit chain. Its row lock serializes appends.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub last_seq: i64,
    pub last_hash: String,
}

impl ActiveModelBehavior for ActiveModel {}
