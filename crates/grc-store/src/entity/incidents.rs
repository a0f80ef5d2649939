//! Incident and breach-notification entities (issue 8). Tenant-owned: `tenant_id` first in every
//! key. Stored kinds are the domain's text values (`grc_domain::incidents`); JSON lists are text
//! columns, read through the repository (`repo::incidents`).

/// An incident of the register. `affected_systems` is a JSON array of names,
/// `affected_asset_ids` a JSON array of asset ids; `affected_total` the total of affected
/// individuals when counted (the per-State counts are `incident_affected_count` rows).
pub mod incident {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incidents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub description: String,
        pub severity: String,
        pub status: String,
        pub discovered_at: Option<DateTimeUtc>,
        pub discovered_on: Date,
        pub occurred_from: Option<Date>,
        pub occurred_until: Option<Date>,
        pub reporter: String,
        pub reporter_id: Option<Uuid>,
        pub owner_id: Option<Uuid>,
        pub affected_systems: String,
        pub affected_asset_ids: String,
        pub ephi_involved: bool,
        pub lessons_learned: String,
        pub affected_total: Option<i64>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One entry of an incident's timeline (append-only).
pub mod incident_timeline {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_timeline")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub incident_id: Uuid,
        pub occurred_at: DateTimeUtc,
        pub kind: String,
        pub body: String,
        pub actor: String,
        pub recorded_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Evidence linked to an incident.
pub mod incident_evidence {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_evidence")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub incident_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub evidence_id: Uuid,
        pub linked_by: String,
        pub linked_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A breach risk assessment. `factors` is the JSON array of the domain's `FactorAssessment`s;
/// the current assessment of an incident has no `superseded_at`.
pub mod breach_assessment {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "breach_assessments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub incident_id: Uuid,
        pub phi_security: String,
        pub factors: String,
        pub decision: String,
        pub exception: Option<String>,
        pub rationale: Option<String>,
        pub decided_on: Date,
        pub decided_by: String,
        pub decider_id: Option<Uuid>,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
        pub superseded_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Individuals affected in one State or jurisdiction (USPS code, or `unknown`).
pub mod incident_affected_count {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_affected_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub incident_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub jurisdiction: String,
        pub individuals: i64,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A law-enforcement statement delaying the notices (164.412).
pub mod law_enforcement_delay {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "law_enforcement_delays")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub incident_id: Uuid,
        pub form: String,
        pub stated_on: Date,
        pub ends_on: Option<Date>,
        pub agency: String,
        pub official: String,
        pub notes: String,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
        pub ended_by: Option<String>,
        pub ended_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A notice recorded as sent (append-only).
pub mod breach_notification {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "breach_notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub incident_id: Uuid,
        pub recipient: String,
        pub jurisdiction: Option<String>,
        pub sent_on: Date,
        pub method: String,
        pub recipient_detail: String,
        pub individuals: Option<i64>,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One side of a business associate's breach notice to its covered entity (164.410): the
/// sender's row (`direction` = `sent`, `incident_id` the business associate's incident) or the
/// receiver's (`received`, `peer_incident_id` the business associate's incident, `incident_id`
/// the covered entity's once it accepted the notice). Both rows share the notice's id.
pub mod ba_breach_notice {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ba_breach_notices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub direction: String,
        pub peer_tenant_id: Uuid,
        pub incident_id: Option<Uuid>,
        pub peer_incident_id: Option<Uuid>,
        pub connection_id: Uuid,
        pub vendor_id: Option<Uuid>,
        pub ba_discovered_on: Date,
        pub notice_on: Date,
        pub method: String,
        pub summary: String,
        pub affected_total: Option<i64>,
        pub sent_by: String,
        pub created_at: DateTimeUtc,
        pub discovery_basis: Option<String>,
        pub accepted_by: Option<String>,
        pub accepted_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
