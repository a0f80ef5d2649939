//! ISMS entities: evidence (tenant-owned: `tenant_id` first in every key).

/// An evidence file's metadata (the bytes live in the object store under `object_key`).
#[allow(clippy::module_inception)]
pub mod evidence {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evidence")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub description: String,
        pub filename: String,
        pub media_type: String,
        pub size_bytes: i64,
        pub sha256: String,
        pub object_key: String,
        pub effective_date: Date,
        pub expires_on: Option<Date>,
        pub uploaded_by: String,
        pub uploader_id: Option<Uuid>,
        pub uploaded_at: DateTimeUtc,
        pub archived_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// What an evidence file supports: a catalog control or requirement, or a risk.
pub mod link {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evidence_links")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub evidence_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub target_kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub target_id: Uuid,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
