//! The ISMS's performance evaluation and improvement records: internal audit programmes and
//! audits (ISO/IEC 27001:2022 9.2), their findings, nonconformities and corrective actions
//! (10.2), management reviews and the actions they decide (9.3).
//!
//! An audit's team (`auditors`) is a JSON array of member ids, not a join table: it is read
//! only as a whole with its audit, never searched by auditor, and it is a historical record
//! (an auditor who later leaves the tenant is still named), so a foreign key to memberships
//! would be wrong anyway. The API checks each id is a member when the team is set.

use super::shared::{render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "audit_programmes",
    "internal_audits",
    "audit_findings",
    "nonconformities",
    "management_reviews",
    "management_review_actions",
];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct Audits;

impl MigrationName for Audits {
    fn name(&self) -> &str {
        "m0006_audits"
    }
}

const SQL: &str = r#"
CREATE TABLE audit_programmes (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  period_start {date} NOT NULL,
  period_end {date} NOT NULL,
  objectives text NOT NULL CHECK (length(objectives) <= 20000),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id),
  CHECK (period_end >= period_start)
){rowid};
CREATE INDEX audit_programmes_by_isms ON audit_programmes (tenant_id, isms_id);

CREATE TABLE internal_audits (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  programme_id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  scope text NOT NULL CHECK (length(scope) <= 20000),
  criteria text NOT NULL CHECK (length(criteria) <= 20000),
  planned_start {date} NOT NULL,
  planned_end {date} NOT NULL,
  actual_start {date},
  actual_end {date},
  lead_auditor_id {uuid},
  auditors text NOT NULL,
  independence_note text CHECK (length(independence_note) <= 5000),
  status text NOT NULL CHECK (status IN ('planned', 'in-progress', 'completed', 'cancelled')),
  conclusion text NOT NULL CHECK (length(conclusion) <= 20000),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, programme_id) REFERENCES audit_programmes (tenant_id, id),
  CHECK (planned_end >= planned_start),
  CHECK (actual_end IS NULL OR (actual_start IS NOT NULL AND actual_end >= actual_start)),
  CHECK (status NOT IN ('in-progress', 'completed') OR actual_start IS NOT NULL),
  CHECK (status <> 'completed' OR actual_end IS NOT NULL)
){rowid};
CREATE INDEX internal_audits_by_programme ON internal_audits (tenant_id, programme_id);

CREATE TABLE audit_findings (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  audit_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('major-nonconformity', 'minor-nonconformity', 'observation', 'opportunity-for-improvement')),
  control_id {uuid} NOT NULL,
  control_ref text NOT NULL,
  statement text NOT NULL CHECK (length(statement) BETWEEN 1 AND 20000),
  evidence_note text NOT NULL CHECK (length(evidence_note) <= 20000),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, audit_id) REFERENCES internal_audits (tenant_id, id)
){rowid};
CREATE INDEX audit_findings_by_audit ON audit_findings (tenant_id, audit_id);

CREATE TABLE nonconformities (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  finding_id {uuid},
  source text NOT NULL CHECK (source IN ('internal-audit', 'external-audit', 'incident', 'complaint', 'other')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  root_cause text NOT NULL CHECK (length(root_cause) <= 20000),
  correction text NOT NULL CHECK (length(correction) <= 20000),
  corrective_action text NOT NULL CHECK (length(corrective_action) <= 20000),
  owner_id {uuid},
  due_date {date},
  status text NOT NULL CHECK (status IN ('open', 'action-planned', 'verifying', 'closed')),
  verified_by text,
  verifier_id {uuid},
  verified_on {date},
  verification_note text CHECK (length(verification_note) <= 20000),
  effective boolean,
  closed_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, finding_id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id),
  FOREIGN KEY (tenant_id, finding_id) REFERENCES audit_findings (tenant_id, id),
  CHECK ((verified_on IS NULL) = (verified_by IS NULL)),
  CHECK ((verified_on IS NULL) = (effective IS NULL)),
  CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
  CHECK (status <> 'closed' OR (verified_on IS NOT NULL AND effective AND length(corrective_action) > 0))
){rowid};
CREATE INDEX nonconformities_by_isms ON nonconformities (tenant_id, isms_id);

CREATE TABLE management_reviews (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  held_on {date} NOT NULL,
  chair_id {uuid},
  attendees text NOT NULL,
  inputs text NOT NULL,
  decisions text NOT NULL CHECK (length(decisions) <= 20000),
  status text NOT NULL CHECK (status IN ('draft', 'completed')),
  completed_by text,
  completed_at {ts},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id),
  CHECK ((status = 'completed') = (completed_at IS NOT NULL))
){rowid};
CREATE INDEX management_reviews_by_isms ON management_reviews (tenant_id, isms_id);

CREATE TABLE management_review_actions (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  review_id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  owner_id {uuid},
  due_date {date},
  done_on {date},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, review_id) REFERENCES management_reviews (tenant_id, id)
){rowid};
CREATE INDEX management_review_actions_by_review ON management_review_actions (tenant_id, review_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Audits {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        if backend == DbBackend::Postgres {
            sql.push_str(&tenant_policies(TABLES));
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
