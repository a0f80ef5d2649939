//! The ISMS core: each tenant's management systems with scope, context and risk criteria, the
//! asset inventory, risks and their links, dated risk assessment snapshots, the Statement of
//! Applicability draft and its approved versions, and HIPAA determinations.

use super::shared::{append_only, render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "isms",
    "isms_context",
    "assets",
    "risks",
    "risk_assets",
    "risk_controls",
    "risk_assessments",
    "soa_entries",
    "soa_versions",
    "hipaa_determinations",
];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &["risk_assessments", "soa_versions"];

pub(crate) struct Isms;

impl MigrationName for Isms {
    fn name(&self) -> &str {
        "m0003_isms"
    }
}

const SQL: &str = r#"
CREATE TABLE isms (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope_statement text NOT NULL CHECK (length(scope_statement) <= 20000),
  boundaries text NOT NULL CHECK (length(boundaries) <= 20000),
  sites text NOT NULL,
  base_framework text NOT NULL,
  privacy_framework text,
  privacy_role text CHECK (privacy_role IN ('controller', 'processor', 'both')),
  climate_relevant boolean,
  climate_rationale text,
  likelihood_levels smallint NOT NULL CHECK (likelihood_levels BETWEEN 2 AND 10),
  impact_levels smallint NOT NULL CHECK (impact_levels BETWEEN 2 AND 10),
  acceptance_threshold smallint NOT NULL,
  likelihood_labels text NOT NULL,
  impact_labels text NOT NULL,
  soa_revision bigint NOT NULL DEFAULT 0,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name),
  CHECK (acceptance_threshold BETWEEN 1 AND likelihood_levels * impact_levels),
  CHECK ((privacy_framework IS NULL) = (privacy_role IS NULL))
){rowid};

CREATE TABLE isms_context (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('internal-issue', 'external-issue', 'interested-party')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  requirements text CHECK (length(requirements) <= 20000),
  addressed_by_isms boolean,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX isms_context_by_isms ON isms_context (tenant_id, isms_id);

CREATE TABLE assets (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  isms_id {uuid},
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
  kind text NOT NULL CHECK (kind IN ('information', 'system', 'application', 'device', 'service', 'site', 'people')),
  classification text NOT NULL CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),
  owner_id {uuid},
  location text CHECK (length(location) <= 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  ephi boolean NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id)
){rowid};

CREATE TABLE risks (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  ref text NOT NULL CHECK (length(ref) BETWEEN 1 AND 40),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  threat text NOT NULL CHECK (length(threat) <= 2000),
  vulnerability text NOT NULL CHECK (length(vulnerability) <= 2000),
  owner_id {uuid},
  inherent_likelihood smallint NOT NULL CHECK (inherent_likelihood >= 1),
  inherent_impact smallint NOT NULL CHECK (inherent_impact >= 1),
  residual_likelihood smallint CHECK (residual_likelihood >= 1),
  residual_impact smallint CHECK (residual_impact >= 1),
  treatment text CHECK (treatment IN ('modify', 'retain', 'avoid', 'share')),
  treatment_plan text CHECK (length(treatment_plan) <= 20000),
  accepted_by {uuid},
  accepted_at {ts},
  review_date {date},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, isms_id, ref),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE,
  CHECK ((residual_likelihood IS NULL) = (residual_impact IS NULL)),
  CHECK ((accepted_by IS NULL) = (accepted_at IS NULL)),
  CHECK (accepted_by IS NULL OR (residual_likelihood IS NOT NULL AND accepted_by = owner_id))
){rowid};
CREATE INDEX risks_by_isms ON risks (tenant_id, isms_id);

CREATE TABLE risk_assets (
  tenant_id {uuid} NOT NULL,
  risk_id {uuid} NOT NULL,
  asset_id {uuid} NOT NULL,
  PRIMARY KEY (tenant_id, risk_id, asset_id),
  FOREIGN KEY (tenant_id, risk_id) REFERENCES risks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX risk_assets_by_asset ON risk_assets (tenant_id, asset_id);

CREATE TABLE risk_controls (
  tenant_id {uuid} NOT NULL,
  risk_id {uuid} NOT NULL,
  control_id {uuid} NOT NULL,
  PRIMARY KEY (tenant_id, risk_id, control_id),
  FOREIGN KEY (tenant_id, risk_id) REFERENCES risks (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE INDEX risk_controls_by_control ON risk_controls (tenant_id, control_id);

CREATE TABLE risk_assessments (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  number integer NOT NULL CHECK (number >= 1),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  performed_on {date} NOT NULL,
  recorded_by text NOT NULL,
  recorded_at {ts} NOT NULL,
  risk_count integer NOT NULL,
  snapshot text NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, isms_id, number),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id)
){rowid};

CREATE TABLE soa_entries (
  tenant_id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  control_id {uuid} NOT NULL,
  control_ref text NOT NULL,
  sort integer NOT NULL,
  applicable boolean NOT NULL,
  justification text NOT NULL CHECK (length(justification) <= 5000),
  status text NOT NULL CHECK (status IN ('not-started', 'planned', 'partial', 'implemented')),
  owner_id {uuid},
  inherited_from {uuid},
  notes text CHECK (length(notes) <= 5000),
  updated_by text NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, isms_id, control_id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE,
  CHECK (applicable OR status = 'not-started')
){rowid};

CREATE TABLE soa_versions (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  number integer NOT NULL CHECK (number >= 1),
  draft_revision bigint NOT NULL,
  approved_by text NOT NULL,
  approver_id {uuid},
  approved_at {ts} NOT NULL,
  note text CHECK (length(note) <= 5000),
  entry_count integer NOT NULL,
  entries text NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, isms_id, number),
  UNIQUE (tenant_id, isms_id, draft_revision),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id)
){rowid};

CREATE TABLE hipaa_determinations (
  tenant_id {uuid} NOT NULL,
  isms_id {uuid} NOT NULL,
  control_id {uuid} NOT NULL,
  decision text NOT NULL CHECK (decision IN ('implemented', 'alternative', 'not-reasonable')),
  rationale text NOT NULL CHECK (length(rationale) <= 10000),
  alternative text CHECK (length(alternative) <= 10000),
  decided_by text NOT NULL,
  decided_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, isms_id, control_id),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id) ON DELETE CASCADE,
  CHECK (decision = 'implemented' OR length(rationale) > 0)
){rowid};
"#;

/// PostgreSQL: the trigger function append-only tables use.
const REFUSE_CHANGE_POSTGRES: &str = r#"
CREATE FUNCTION grc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'grc: % rows are immutable', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Isms {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        if backend == DbBackend::Postgres {
            sql.push_str(REFUSE_CHANGE_POSTGRES);
            sql.push_str(&tenant_policies(TABLES));
        }
        for t in APPEND_ONLY {
            sql.push_str(&append_only(t, backend));
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
