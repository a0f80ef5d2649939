//! Platform table: people. A user belongs to tenants only through memberships.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The identity provider's `sub` claim (for local tokens: the user's id).
    #[sea_orm(unique)]
    pub subject: String,
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub platform_operator: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
