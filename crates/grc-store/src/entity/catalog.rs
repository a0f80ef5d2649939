//! Catalog entities: the shared catalog (platform tables, no tenant column) and each tenant's
//! own frameworks, links, reviews and licensed text (tenant-owned, `tenant_id` first in keys).

/// Shared: the catalog's revision, bumped by every change so replicas reload their index.
pub mod state {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_state")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i16,
        pub revision: i64,
        pub bundle_version: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shared: a framework.
pub mod framework {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_frameworks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key: String,
        pub name: String,
        pub version: String,
        pub publisher: String,
        pub kind: String,
        pub licence: String,
        pub source: String,
        pub notes: Option<String>,
        pub groups: String,
        pub origin: String,
        pub import_name: Option<String>,
        pub import_uuid: Option<Uuid>,
        pub checksum: String,
        pub loaded_at: DateTimeUtc,
        pub retired: bool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shared: a control of a framework.
pub mod control {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_controls")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub framework_id: Uuid,
        #[sea_orm(column_name = "ref")]
        pub reference: String,
        pub title: String,
        pub kind: String,
        pub group_ref: Option<String>,
        pub parent_ref: Option<String>,
        pub status: String,
        pub sort: i32,
        pub attributes: String,
        pub content_hash: String,
        pub retired: bool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shared: a crosswalk's provenance.
pub mod crosswalk {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_crosswalks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key: String,
        pub source_framework_id: Uuid,
        pub target_framework_id: Uuid,
        pub method: String,
        pub source: String,
        pub retrieved: Option<String>,
        pub comprehensive: bool,
        pub checksum: String,
        pub loaded_at: DateTimeUtc,
        pub retired: bool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Shared: a link of a crosswalk.
pub mod mapping {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_mappings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub crosswalk_id: Uuid,
        pub source_control_id: Uuid,
        pub target_control_id: Uuid,
        pub relationship: String,
        pub via: String,
        pub retired: bool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Tenant-owned: a tenant's own framework.
pub mod custom_framework {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "custom_frameworks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key: String,
        pub name: String,
        pub version: String,
        pub publisher: String,
        pub kind: String,
        pub source: String,
        pub notes: Option<String>,
        pub groups: String,
        pub origin: String,
        pub import_name: Option<String>,
        pub import_uuid: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Tenant-owned: a control of a tenant's own framework.
pub mod custom_control {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "custom_controls")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub framework_id: Uuid,
        #[sea_orm(column_name = "ref")]
        pub reference: String,
        pub title: String,
        pub kind: String,
        pub group_ref: Option<String>,
        pub parent_ref: Option<String>,
        pub status: String,
        pub sort: i32,
        pub attributes: String,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Tenant-owned: a link a tenant added.
pub mod tenant_mapping {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_mappings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub source_catalog_control: Option<Uuid>,
        pub source_custom_control: Option<Uuid>,
        pub target_catalog_control: Option<Uuid>,
        pub target_custom_control: Option<Uuid>,
        pub relationship: String,
        pub note: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Tenant-owned: a tenant's confirmation or rejection of a shared link.
pub mod mapping_review {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mapping_reviews")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub mapping_id: Uuid,
        pub state: String,
        pub note: Option<String>,
        pub reviewed_by: String,
        pub reviewed_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Tenant-owned: licensed control text a tenant attached to a shared control.
pub mod control_text {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "control_texts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub control_id: Uuid,
        pub text: String,
        pub source: Option<String>,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
