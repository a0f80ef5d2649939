//! Certificate and vendor entities (tenant-owned: `tenant_id` first in every key).

/// One of the tenant's own ISO certificates. `sites` is a JSON array of site names;
/// `soa_version` the number of the approved SoA version the certificate rests on.
pub mod certificate {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub isms_id: Option<Uuid>,
        pub soa_version: Option<i32>,
        pub standard: String,
        pub edition: String,
        pub certificate_number: String,
        pub certification_body: String,
        pub accreditation_body: Option<String>,
        pub scope: String,
        pub sites: String,
        pub document_id: Option<Uuid>,
        pub notes: String,
        pub owner_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An audit of a certificate by its certification body. `auditors` is a JSON array of names.
pub mod certificate_audit {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_audits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub certificate_id: Uuid,
        pub kind: String,
        pub start_date: Date,
        pub end_date: Date,
        pub auditors: String,
        pub major_findings: i32,
        pub minor_findings: i32,
        pub observations: i32,
        pub summary: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A decision of the certification body on a certificate (certification, suspension, ...).
/// `expires_on` is set exactly for certification and recertification decisions.
pub mod certificate_decision {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_decisions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub certificate_id: Uuid,
        pub kind: String,
        pub decided_on: Date,
        pub expires_on: Option<Date>,
        pub scope: Option<String>,
        pub reason: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A vendor. `services` is a JSON array of strings, `contacts` a JSON array of objects.
pub mod vendor {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub legal_name: Option<String>,
        pub website: Option<String>,
        pub description: String,
        pub services: String,
        pub ephi_access: String,
        pub phi_records: Option<i64>,
        pub tier: i32,
        pub status: String,
        pub contacts: String,
        pub owner_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A vendor's subcontractor (another of the tenant's vendors) and the service it provides.
pub mod vendor_subcontractor {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendor_subcontractors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub vendor_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subcontractor_id: Uuid,
        pub service: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The tenant's vendor policy (one row per tenant). `requirements` is JSON.
pub mod vendor_policy {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendor_policies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        pub requirements: String,
        pub soc2_current_months: i32,
        pub soc2_bridge_max_months: i32,
        pub pen_test_months: i32,
        pub questionnaire_months: i32,
        pub expiring_window_days: i32,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A vendor's attestation: an ISO certificate, a SOC 2 report, a HITRUST assessment, a
/// penetration test or a questionnaire.
pub mod attestation {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attestations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Uuid,
        pub kind: String,
        pub title: String,
        pub issuer: String,
        pub accreditation_body: Option<String>,
        pub certificate_number: Option<String>,
        pub edition: Option<String>,
        pub issued_on: Date,
        pub expires_on: Option<Date>,
        pub period_start: Option<Date>,
        pub period_end: Option<Date>,
        pub opinion: Option<String>,
        pub bridge_issued_on: Option<Date>,
        pub bridge_through: Option<Date>,
        pub interim_submitted_on: Option<Date>,
        pub hitrust_bridge_on: Option<Date>,
        pub suspended_on: Option<Date>,
        pub withdrawn_on: Option<Date>,
        pub document_id: Option<Uuid>,
        pub notes: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A business associate agreement with a vendor. `parties` is a JSON array of
/// `{name, role}`, `terms` a JSON object.
pub mod baa {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "baas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Uuid,
        pub title: String,
        pub parties: String,
        pub effective_on: Date,
        pub ends_on: Option<Date>,
        pub review_on: Option<Date>,
        pub terminated_on: Option<Date>,
        pub breach_notice_days: i32,
        pub subcontractor_flow_down: bool,
        pub terms: String,
        pub document_id: Option<Uuid>,
        pub notes: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
