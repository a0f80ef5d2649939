//! The tenant's own ISO certificates with the certification body's audits and decisions (the
//! certificate lifecycle), and its vendors: their subcontractors, attestations (ISO
//! certificates, SOC 2 reports, HITRUST assessments, penetration tests, questionnaires),
//! business associate agreements (HIPAA 164.308(b), 164.314(a)) and the tenant's vendor policy.
//!
//! Lists that are only read as a whole with their row (a certificate's sites, an audit's
//! auditors, a vendor's services and contacts, a BAA's parties and terms, the policy's
//! requirements) are JSON text columns. A certificate's status is not stored: it follows from
//! its decisions and the date, so it can never disagree with them.

use super::shared::{render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "certificates",
    "certificate_audits",
    "certificate_decisions",
    "vendors",
    "vendor_subcontractors",
    "vendor_policies",
    "attestations",
    "baas",
];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct Vendors;

impl MigrationName for Vendors {
    fn name(&self) -> &str {
        "m0007_vendors"
    }
}

const SQL: &str = r#"
CREATE TABLE certificates (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  isms_id {uuid},
  soa_version integer,
  standard text NOT NULL CHECK (standard IN ('iso27001', 'iso27701')),
  edition text NOT NULL,
  certificate_number text NOT NULL CHECK (length(certificate_number) BETWEEN 1 AND 100),
  certification_body text NOT NULL CHECK (length(certification_body) BETWEEN 1 AND 300),
  accreditation_body text CHECK (length(accreditation_body) BETWEEN 1 AND 100),
  scope text NOT NULL CHECK (length(scope) <= 20000),
  sites text NOT NULL,
  document_id {uuid},
  notes text NOT NULL CHECK (length(notes) <= 20000),
  owner_id {uuid},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, certification_body, certificate_number),
  FOREIGN KEY (tenant_id, isms_id) REFERENCES isms (tenant_id, id),
  FOREIGN KEY (tenant_id, document_id) REFERENCES evidence (tenant_id, id),
  CHECK (soa_version IS NULL OR (isms_id IS NOT NULL AND soa_version >= 1)),
  CHECK ((standard = 'iso27001' AND edition IN ('2013', '2022'))
      OR (standard = 'iso27701' AND edition IN ('2019', '2025')))
){rowid};
CREATE INDEX certificates_by_isms ON certificates (tenant_id, isms_id);

CREATE TABLE certificate_audits (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  certificate_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('stage1', 'stage2', 'surveillance', 'recertification', 'special', 'transition')),
  start_date {date} NOT NULL,
  end_date {date} NOT NULL,
  auditors text NOT NULL,
  major_findings integer NOT NULL CHECK (major_findings >= 0),
  minor_findings integer NOT NULL CHECK (minor_findings >= 0),
  observations integer NOT NULL CHECK (observations >= 0),
  summary text NOT NULL CHECK (length(summary) <= 20000),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, certificate_id) REFERENCES certificates (tenant_id, id),
  CHECK (end_date >= start_date)
){rowid};
CREATE INDEX certificate_audits_by_certificate ON certificate_audits (tenant_id, certificate_id);

CREATE TABLE certificate_decisions (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  certificate_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('certification', 'recertification', 'suspension', 'suspension-lifted', 'withdrawal', 'scope-reduction', 'transition')),
  decided_on {date} NOT NULL,
  expires_on {date},
  scope text CHECK (length(scope) <= 20000),
  reason text NOT NULL CHECK (length(reason) <= 5000),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, certificate_id) REFERENCES certificates (tenant_id, id),
  CHECK ((kind IN ('certification', 'recertification')) = (expires_on IS NOT NULL))
){rowid};
CREATE INDEX certificate_decisions_by_certificate ON certificate_decisions (tenant_id, certificate_id);

CREATE TABLE vendors (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
  legal_name text CHECK (length(legal_name) <= 300),
  website text CHECK (length(website) <= 500),
  description text NOT NULL CHECK (length(description) <= 20000),
  services text NOT NULL,
  ephi_access text NOT NULL CHECK (ephi_access IN ('none', 'limited', 'full')),
  phi_records bigint CHECK (phi_records >= 0),
  tier integer NOT NULL CHECK (tier BETWEEN 1 AND 4),
  status text NOT NULL CHECK (status IN ('active', 'offboarded')),
  contacts text NOT NULL,
  owner_id {uuid},
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
){rowid};
CREATE INDEX vendors_by_tier ON vendors (tenant_id, tier);

CREATE TABLE vendor_subcontractors (
  tenant_id {uuid} NOT NULL,
  vendor_id {uuid} NOT NULL,
  subcontractor_id {uuid} NOT NULL,
  service text NOT NULL CHECK (length(service) <= 500),
  created_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, vendor_id, subcontractor_id),
  FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
  FOREIGN KEY (tenant_id, subcontractor_id) REFERENCES vendors (tenant_id, id),
  CHECK (vendor_id <> subcontractor_id)
){rowid};
CREATE INDEX vendor_subcontractors_by_subcontractor ON vendor_subcontractors (tenant_id, subcontractor_id);

CREATE TABLE vendor_policies (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  requirements text NOT NULL,
  soc2_current_months integer NOT NULL CHECK (soc2_current_months BETWEEN 1 AND 36),
  soc2_bridge_max_months integer NOT NULL CHECK (soc2_bridge_max_months BETWEEN 0 AND 12),
  pen_test_months integer NOT NULL CHECK (pen_test_months BETWEEN 1 AND 60),
  questionnaire_months integer NOT NULL CHECK (questionnaire_months BETWEEN 1 AND 60),
  expiring_window_days integer NOT NULL CHECK (expiring_window_days BETWEEN 0 AND 365),
  updated_by text NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id)
){rowid};

CREATE TABLE attestations (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  vendor_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('iso27001', 'iso27701', 'soc2-type1', 'soc2-type2', 'hitrust-r2', 'hitrust-i1', 'hitrust-e1', 'pen-test', 'questionnaire')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  issuer text NOT NULL CHECK (length(issuer) <= 300),
  accreditation_body text CHECK (length(accreditation_body) <= 100),
  certificate_number text CHECK (length(certificate_number) <= 100),
  edition text CHECK (length(edition) <= 10),
  issued_on {date} NOT NULL,
  expires_on {date},
  period_start {date},
  period_end {date},
  opinion text CHECK (opinion IN ('unmodified', 'qualified', 'adverse', 'disclaimer')),
  bridge_issued_on {date},
  bridge_through {date},
  interim_submitted_on {date},
  hitrust_bridge_on {date},
  suspended_on {date},
  withdrawn_on {date},
  document_id {uuid},
  notes text NOT NULL CHECK (length(notes) <= 20000),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
  FOREIGN KEY (tenant_id, document_id) REFERENCES evidence (tenant_id, id),
  CHECK (period_start IS NULL OR period_end IS NULL OR period_end >= period_start),
  CHECK (kind <> 'soc2-type2' OR (period_start IS NOT NULL AND period_end IS NOT NULL)),
  CHECK (kind NOT IN ('iso27001', 'iso27701') OR expires_on IS NOT NULL),
  CHECK ((bridge_through IS NULL) = (bridge_issued_on IS NULL))
){rowid};
CREATE INDEX attestations_by_vendor ON attestations (tenant_id, vendor_id);
CREATE INDEX attestations_by_kind ON attestations (tenant_id, kind);

CREATE TABLE baas (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  vendor_id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  parties text NOT NULL,
  effective_on {date} NOT NULL,
  ends_on {date},
  review_on {date},
  terminated_on {date},
  breach_notice_days integer NOT NULL CHECK (breach_notice_days BETWEEN 1 AND 60),
  subcontractor_flow_down boolean NOT NULL,
  terms text NOT NULL,
  document_id {uuid},
  notes text NOT NULL CHECK (length(notes) <= 20000),
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
  FOREIGN KEY (tenant_id, document_id) REFERENCES evidence (tenant_id, id),
  CHECK (ends_on IS NULL OR ends_on >= effective_on)
){rowid};
CREATE INDEX baas_by_vendor ON baas (tenant_id, vendor_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Vendors {
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
