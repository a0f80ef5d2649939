//! ISMS entities (tenant-owned: `tenant_id` first in every key).

/// An ISMS: scope, context settings and risk criteria.
pub mod system {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "isms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub scope_statement: String,
        pub boundaries: String,
        pub sites: String,
        pub base_framework: String,
        pub privacy_framework: Option<String>,
        pub privacy_role: Option<String>,
        pub climate_relevant: Option<bool>,
        pub climate_rationale: Option<String>,
        pub likelihood_levels: i16,
        pub impact_levels: i16,
        pub acceptance_threshold: i16,
        pub likelihood_labels: String,
        pub impact_labels: String,
        pub soa_revision: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A context issue (4.1) or interested party (4.2).
pub mod context_item {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "isms_context")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub kind: String,
        pub title: String,
        pub description: String,
        pub requirements: Option<String>,
        pub addressed_by_isms: Option<bool>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An asset of the inventory.
pub mod asset {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "assets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Option<Uuid>,
        pub name: String,
        pub kind: String,
        pub classification: String,
        pub owner_id: Option<Uuid>,
        pub location: Option<String>,
        pub description: String,
        pub ephi: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A risk of an ISMS's register.
pub mod risk {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "risks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        #[sea_orm(column_name = "ref")]
        pub reference: String,
        pub title: String,
        pub description: String,
        pub threat: String,
        pub vulnerability: String,
        pub owner_id: Option<Uuid>,
        pub inherent_likelihood: i16,
        pub inherent_impact: i16,
        pub residual_likelihood: Option<i16>,
        pub residual_impact: Option<i16>,
        pub treatment: Option<String>,
        pub treatment_plan: Option<String>,
        pub accepted_by: Option<Uuid>,
        pub accepted_at: Option<DateTimeUtc>,
        pub review_date: Option<Date>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An asset a risk concerns.
pub mod risk_asset {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "risk_assets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub risk_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub asset_id: Uuid,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A control that treats a risk.
pub mod risk_control {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "risk_controls")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub risk_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub control_id: Uuid,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A dated snapshot of an ISMS's risk register (append-only).
pub mod risk_assessment {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "risk_assessments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub number: i32,
        pub title: String,
        pub performed_on: Date,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
        pub risk_count: i32,
        pub snapshot: String,
        pub digest: String,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An entry of an ISMS's SoA draft.
pub mod soa_entry {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "soa_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub isms_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub control_id: Uuid,
        pub control_ref: String,
        pub sort: i32,
        pub applicable: bool,
        pub justification: String,
        pub status: String,
        pub owner_id: Option<Uuid>,
        pub inherited_from: Option<Uuid>,
        pub notes: Option<String>,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An approved, frozen SoA version (append-only).
pub mod soa_version {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "soa_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub number: i32,
        pub draft_revision: i64,
        pub approved_by: String,
        pub approver_id: Option<Uuid>,
        pub approved_at: DateTimeUtc,
        pub note: Option<String>,
        pub entry_count: i32,
        pub entries: String,
        pub digest: String,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A 164.306(d)(3) determination on an addressable specification.
pub mod hipaa_determination {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "hipaa_determinations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub isms_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub control_id: Uuid,
        pub decision: String,
        pub rationale: String,
        pub alternative: Option<String>,
        pub decided_by: String,
        pub decided_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
