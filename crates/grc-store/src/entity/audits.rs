//! Audit, improvement and review entities (tenant-owned: `tenant_id` first in every key).

/// An internal audit programme (9.2.2).
pub mod audit_programme {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_programmes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub title: String,
        pub period_start: Date,
        pub period_end: Date,
        pub objectives: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An internal audit (9.2). `auditors` is a JSON array of member ids.
pub mod internal_audit {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "internal_audits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub programme_id: Uuid,
        pub title: String,
        pub scope: String,
        pub criteria: String,
        pub planned_start: Date,
        pub planned_end: Date,
        pub actual_start: Option<Date>,
        pub actual_end: Option<Date>,
        pub lead_auditor_id: Option<Uuid>,
        pub auditors: String,
        pub independence_note: Option<String>,
        pub status: String,
        pub conclusion: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A finding of an internal audit.
pub mod audit_finding {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_findings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub audit_id: Uuid,
        pub kind: String,
        pub control_id: Uuid,
        pub control_ref: String,
        pub statement: String,
        pub evidence_note: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A nonconformity and its corrective action (10.2).
pub mod nonconformity {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nonconformities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub finding_id: Option<Uuid>,
        pub source: String,
        pub title: String,
        pub description: String,
        pub root_cause: String,
        pub correction: String,
        pub corrective_action: String,
        pub owner_id: Option<Uuid>,
        pub due_date: Option<Date>,
        pub status: String,
        pub verified_by: Option<String>,
        pub verifier_id: Option<Uuid>,
        pub verified_on: Option<Date>,
        pub verification_note: Option<String>,
        pub effective: Option<bool>,
        pub closed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A management review (9.3). `attendees` is a JSON array of names, `inputs` a JSON object from 9.3.2 input key to what was considered.
pub mod management_review {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "management_reviews")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub held_on: Date,
        pub chair_id: Option<Uuid>,
        pub attendees: String,
        pub inputs: String,
        pub decisions: String,
        pub status: String,
        pub completed_by: Option<String>,
        pub completed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An action decided by a management review.
pub mod review_action {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "management_review_actions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub review_id: Uuid,
        pub title: String,
        pub owner_id: Option<Uuid>,
        pub due_date: Option<Date>,
        pub done_on: Option<Date>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
