//! The ISMS's evidence files and their links. The files themselves live in the object store
//! (`tenants/<tenant>/evidence/<id>`); a row holds what was stored: name, media type, size,
//! SHA-256, the dates the evidence is valid for, who uploaded it. Evidence is never deleted (an
//! approved SoA version may cite it): archiving sets `archived_at`.

use super::shared::{render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &["evidence", "evidence_links"];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct Evidence;

impl MigrationName for Evidence {
    fn name(&self) -> &str {
        "m0004_evidence"
    }
}

const SQL: &str = r#"
CREATE TABLE evidence (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 5000),
  filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
  media_type text NOT NULL CHECK (length(media_type) BETWEEN 3 AND 255),
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  object_key text NOT NULL CHECK (length(object_key) BETWEEN 1 AND 500),
  effective_date {date} NOT NULL,
  expires_on {date},
  uploaded_by text NOT NULL,
  uploader_id {uuid},
  uploaded_at {ts} NOT NULL,
  archived_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, object_key),
  CHECK (expires_on IS NULL OR expires_on >= effective_date)
){rowid};

CREATE TABLE evidence_links (
  tenant_id {uuid} NOT NULL,
  evidence_id {uuid} NOT NULL,
  target_kind text NOT NULL CHECK (target_kind IN ('control', 'requirement', 'risk')),
  target_id {uuid} NOT NULL,
  PRIMARY KEY (tenant_id, evidence_id, target_kind, target_id),
  FOREIGN KEY (tenant_id, evidence_id) REFERENCES evidence (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX evidence_links_by_target ON evidence_links (tenant_id, target_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Evidence {
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
