//! Sharing entities (tenant-owned: `tenant_id` first in every key; a peer column names the
//! other tenant of a row two tenants see).

/// A customer's vendor record linked to the vendor's tenant (the provider).
pub mod connection {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "connections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Uuid,
        pub provider_tenant_id: Uuid,
        pub status: String,
        pub message: String,
        pub invited_by: String,
        pub invited_at: DateTimeUtc,
        pub responded_by: Option<String>,
        pub responded_at: Option<DateTimeUtc>,
        pub response_reason: Option<String>,
        pub ended_by_tenant: Option<Uuid>,
        pub ended_by: Option<String>,
        pub ended_at: Option<DateTimeUtc>,
        pub end_reason: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An artifact the owner lists as shareable: connected tenants see its title and may ask for it.
pub mod share_listing {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_listings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub artifact_kind: String,
        pub artifact_id: Option<Uuid>,
        pub title: String,
        pub description: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An NDA the owner keeps; its texts are versions.
pub mod nda {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ndas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub current_version: i32,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One published text of an NDA (never changed).
pub mod nda_version {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nda_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub nda_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub body: String,
        pub sha256: String,
        pub published_by: String,
        pub published_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A grantee's user accepting one version of an NDA (owner's row, written by the grantee).
pub mod nda_acceptance {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nda_acceptances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub nda_id: Uuid,
        pub version: i32,
        pub sha256: String,
        pub grantee_tenant_id: Uuid,
        pub actor: String,
        pub user_id: Option<Uuid>,
        pub address: Option<String>,
        pub user_agent: Option<String>,
        pub accepted_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A grant of one artifact (or of all ISO certificates) by the owner to a grantee.
pub mod share_grant {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "share_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub grantee_tenant_id: Uuid,
        pub connection_tenant_id: Uuid,
        pub connection_id: Uuid,
        pub artifact_kind: String,
        pub artifact_id: Option<Uuid>,
        pub access: String,
        pub expires_at: Option<DateTimeUtc>,
        pub nda_id: Option<Uuid>,
        pub request_id: Option<Uuid>,
        pub note: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub revoked_by: Option<String>,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoke_reason: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A connected tenant's request for one of the owner's artifacts (owner's row).
pub mod access_request {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub requester_tenant_id: Uuid,
        pub connection_tenant_id: Uuid,
        pub connection_id: Uuid,
        pub listing_id: Option<Uuid>,
        pub artifact_kind: String,
        pub artifact_id: Option<Uuid>,
        pub access: String,
        pub message: String,
        pub status: String,
        pub requested_by: String,
        pub created_at: DateTimeUtc,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeUtc>,
        pub reason: Option<String>,
        pub grant_id: Option<Uuid>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One step of an access request's history (never changed).
pub mod access_request_event {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_request_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub action: String,
        pub actor_tenant_id: Uuid,
        pub actor: String,
        pub detail: String,
        pub occurred_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A grantee's read of a shared artifact: who, when, what, which version (never changed).
pub mod access_receipt {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_receipts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub grantee_tenant_id: Uuid,
        pub grant_id: Uuid,
        pub artifact_kind: String,
        pub artifact_id: Uuid,
        pub view: String,
        pub sha256: String,
        pub actor: String,
        pub user_id: Option<Uuid>,
        pub address: Option<String>,
        pub occurred_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An event for the recipient tenant (`tenant_id`), waiting for delivery.
pub mod outbox_event {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub topic: String,
        pub source_tenant_id: Uuid,
        pub subject_type: String,
        pub subject_id: String,
        pub payload: String,
        pub dedupe_key: String,
        pub created_at: DateTimeUtc,
        pub relayed_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
