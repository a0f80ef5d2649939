//! Records entities (tenant-owned: `tenant_id` first in every key): controlled documents and
//! their versions and controls, objectives and results, training courses and assignments.

/// A controlled document (policy, procedure, ...) of an ISMS.
pub mod document {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub kind: String,
        pub title: String,
        pub fulfils: Option<String>,
        pub owner_id: Option<Uuid>,
        pub next_review_date: Option<Date>,
        pub reviewed_at: Option<DateTimeUtc>,
        pub reviewed_by: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One version of a document: a draft until approved, then frozen.
pub mod document_version {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "document_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub document_id: Uuid,
        pub number: i32,
        pub summary: String,
        pub body: Option<String>,
        pub evidence_id: Option<Uuid>,
        pub effective_date: Option<Date>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub approved_by: Option<String>,
        pub approver_id: Option<Uuid>,
        pub approved_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A catalog control a document supports.
pub mod document_control {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "document_controls")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub document_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub control_id: Uuid,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An information security objective (6.2) with its measure and target.
pub mod objective {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "objectives")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Uuid,
        pub title: String,
        pub measure: String,
        pub target: f64,
        pub unit: String,
        pub direction: String,
        pub owner_id: Option<Uuid>,
        pub due_date: Option<Date>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One measured result of an objective (9.1).
pub mod objective_result {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "objective_results")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub objective_id: Uuid,
        pub measured_on: Date,
        pub value: f64,
        pub note: String,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A training course (security awareness and others).
pub mod training_course {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_courses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub description: String,
        pub hipaa_security_awareness: bool,
        pub recurrence_months: Option<i32>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A course assigned to a member, with its completion.
pub mod training_assignment {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_assignments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub course_id: Uuid,
        pub user_id: Uuid,
        pub assigned_by: String,
        pub assigned_at: DateTimeUtc,
        pub due_date: Date,
        pub completed_on: Option<Date>,
        pub evidence: Option<String>,
        pub completion_recorded_by: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
