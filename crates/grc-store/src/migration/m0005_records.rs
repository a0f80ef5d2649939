//! The ISMS's controlled documents with versions (5.2, 7.5), objectives with measured results
//! (6.2, 9.1), workforce training (7.2, HIPAA 164.308(a)(5)).
//!
//! An approved document version is frozen: triggers on both backends refuse to UPDATE or DELETE
//! a `document_versions` row once `approved_at` is set (the approval itself is the last update).

use super::shared::{render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "documents",
    "document_versions",
    "document_controls",
    "objectives",
    "objective_results",
    "training_courses",
    "training_assignments",
];

/// Tables whose rows never change once written (the application role may only insert).
/// (Approved document versions are frozen row by row, by trigger: drafts stay editable.)
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct Records;

impl MigrationName for Records {
    fn name(&self) -> &str {
        "m0005_records"
    }
}

const SQL: &str = r#"
CREATE TABLE documents (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('policy', 'procedure', 'standard', 'plan', 'record', 'other')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  fulfils text CHECK (length(fulfils) BETWEEN 1 AND 60),
  owner_id {uuid},
  next_review_date {date},
  reviewed_at {ts},
  reviewed_by text,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX documents_by_isms ON documents (tenant_id, isms_id, id);

CREATE TABLE document_versions (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  document_id {uuid} NOT NULL,
  number integer NOT NULL CHECK (number >= 1),
  summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
  body text CHECK (length(body) <= 200000),
  evidence_id {uuid},
  effective_date {date},
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  approved_by text,
  approver_id {uuid},
  approved_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, document_id, number),
  FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE,
  CHECK ((body IS NULL) <> (evidence_id IS NULL)),
  CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
  CHECK (approved_at IS NULL OR effective_date IS NOT NULL)
){rowid};

CREATE TABLE document_controls (
  tenant_id {uuid} NOT NULL,
  document_id {uuid} NOT NULL,
  control_id {uuid} NOT NULL,
  PRIMARY KEY (tenant_id, document_id, control_id),
  FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX document_controls_by_control ON document_controls (tenant_id, control_id);

CREATE TABLE objectives (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  measure text NOT NULL CHECK (length(measure) BETWEEN 1 AND 2000),
  target double precision NOT NULL,
  unit text NOT NULL CHECK (length(unit) <= 40),
  direction text NOT NULL CHECK (direction IN ('at-least', 'at-most')),
  owner_id {uuid},
  due_date {date},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX objectives_by_isms ON objectives (tenant_id, isms_id, id);

CREATE TABLE objective_results (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  objective_id {uuid} NOT NULL,
  measured_on {date} NOT NULL,
  value double precision NOT NULL,
  note text NOT NULL CHECK (length(note) <= 2000),
  recorded_by text NOT NULL,
  recorded_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, objective_id) REFERENCES objectives (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX objective_results_by_objective ON objective_results (tenant_id, objective_id, measured_on);

CREATE TABLE training_courses (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  hipaa_security_awareness boolean NOT NULL,
  recurrence_months integer CHECK (recurrence_months BETWEEN 1 AND 120),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, title)
){rowid};

CREATE TABLE training_assignments (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  course_id {uuid} NOT NULL,
  user_id {uuid} NOT NULL,
  assigned_by text NOT NULL,
  assigned_at {ts} NOT NULL,
  due_date {date} NOT NULL,
  completed_on {date},
  evidence text CHECK (length(evidence) <= 2000),
  completion_recorded_by text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, course_id) REFERENCES training_courses (tenant_id, id) ON DELETE CASCADE,
  CHECK ((completed_on IS NULL) = (completion_recorded_by IS NULL))
){rowid};
CREATE INDEX training_assignments_by_user ON training_assignments (tenant_id, user_id);
CREATE INDEX training_assignments_by_course ON training_assignments (tenant_id, course_id);
"#;

/// PostgreSQL: approved versions are frozen (the function comes from m0003).
const FROZEN_POSTGRES: &str = r#"
CREATE TRIGGER document_versions_frozen BEFORE UPDATE OR DELETE ON document_versions
  FOR EACH ROW WHEN (OLD.approved_at IS NOT NULL) EXECUTE FUNCTION grc_refuse_change();
"#;

/// SQLite: the same.
const FROZEN_SQLITE: &str = r#"
CREATE TRIGGER document_versions_frozen_update BEFORE UPDATE ON document_versions
  FOR EACH ROW WHEN OLD.approved_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'grc: approved document versions are immutable'); END;
CREATE TRIGGER document_versions_frozen_delete BEFORE DELETE ON document_versions
  FOR EACH ROW WHEN OLD.approved_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'grc: approved document versions are immutable'); END;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Records {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        if backend == DbBackend::Postgres {
            sql.push_str(&tenant_policies(TABLES));
            sql.push_str(FROZEN_POSTGRES);
        } else {
            sql.push_str(FROZEN_SQLITE);
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
