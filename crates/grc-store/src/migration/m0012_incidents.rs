//! Incidents and HIPAA breach notification (issue 8): the incident register (ISO/IEC 27001
//! A.5.24–A.5.28, HIPAA 164.308(a)(6)), its timeline (append-only) and linked evidence, the
//! breach risk assessments (the current one and those it replaced), the affected individuals per
//! State or jurisdiction, law-enforcement delays (164.412), the notices sent (164.404–410), and
//! business-associate breach notices (164.410) as two rows that share one id: the sender's
//! (`sent`, in the business associate's tenant, on its incident) and the receiver's
//! (`received`, in the covered entity's tenant, naming the business associate's incident and,
//! once accepted, the covered entity's own incident).
//!
//! The store persists the facts; the rules (`grc_domain::incidents`) check them before they are
//! written and compute the clocks from them. Lists read only as a whole with their row (an
//! incident's affected systems and assets, an assessment's factors) are JSON text columns.
//!
//! On PostgreSQL every table has the tenant policy, and nothing more: the receiver's row of a
//! business-associate notice is written by the sender's transaction switched into the receiver
//! (as `repo/sharing.rs` writes a peer's outbox and audit chain), so the receiver's own policy
//! checks it.

use super::shared::{append_only, render, tenant_policies_once};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "incidents",
    "incident_timeline",
    "incident_evidence",
    "breach_assessments",
    "incident_affected_counts",
    "law_enforcement_delays",
    "breach_notifications",
    "ba_breach_notices",
];

/// Tables whose rows never change once written (the application role may only insert): the
/// timeline, and the notices recorded as sent (the burden of proof of 164.414(b)).
pub(super) const APPEND_ONLY: &[&str] = &["incident_timeline", "breach_notifications"];

pub(crate) struct Incidents;

impl MigrationName for Incidents {
    fn name(&self) -> &str {
        "m0012_incidents"
    }
}

const SQL: &str = r#"
CREATE TABLE incidents (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 20000),
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status text NOT NULL CHECK (status IN ('triage', 'contained', 'eradicated', 'recovered', 'closed')),
  discovered_at {ts},
  discovered_on {date} NOT NULL,
  occurred_from {date},
  occurred_until {date},
  reporter text NOT NULL CHECK (length(reporter) BETWEEN 1 AND 300),
  reporter_id {uuid},
  owner_id {uuid},
  affected_systems text NOT NULL,
  affected_asset_ids text NOT NULL,
  ephi_involved boolean NOT NULL,
  lessons_learned text NOT NULL CHECK (length(lessons_learned) <= 20000),
  affected_total bigint CHECK (affected_total BETWEEN 0 AND 400000000),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  closed_at {ts},
  PRIMARY KEY (tenant_id, id),
  CHECK (occurred_from IS NULL OR occurred_from <= discovered_on),
  CHECK (occurred_until IS NULL OR occurred_from IS NULL OR occurred_until >= occurred_from),
  CHECK ((status = 'closed') = (closed_at IS NOT NULL))
){rowid};
CREATE INDEX incidents_by_status ON incidents (tenant_id, status, id);

CREATE TABLE incident_timeline (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  occurred_at {ts} NOT NULL,
  kind text NOT NULL CHECK (kind IN ('note', 'action', 'status', 'assessment', 'counts', 'delay', 'notification', 'evidence', 'ba-notice')),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  actor text NOT NULL,
  recorded_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
){rowid};
CREATE INDEX incident_timeline_by_incident ON incident_timeline (tenant_id, incident_id, id);

CREATE TABLE incident_evidence (
  tenant_id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  evidence_id {uuid} NOT NULL,
  linked_by text NOT NULL,
  linked_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, incident_id, evidence_id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
  FOREIGN KEY (tenant_id, evidence_id) REFERENCES evidence (tenant_id, id)
){rowid};
CREATE INDEX incident_evidence_by_evidence ON incident_evidence (tenant_id, evidence_id);

CREATE TABLE breach_assessments (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  phi_security text NOT NULL CHECK (phi_security IN ('unsecured', 'encrypted', 'destroyed')),
  factors text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('breach', 'low-probability', 'exception', 'secured-phi')),
  exception text CHECK (exception IN ('unintentional-workforce-access', 'inadvertent-authorized-disclosure', 'unable-to-retain')),
  rationale text CHECK (length(rationale) <= 20000),
  decided_on {date} NOT NULL,
  decided_by text NOT NULL CHECK (length(decided_by) BETWEEN 1 AND 300),
  decider_id {uuid},
  recorded_by text NOT NULL,
  recorded_at {ts} NOT NULL,
  superseded_at {ts},
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
  CHECK ((decision = 'exception') = (exception IS NOT NULL)),
  CHECK ((decision = 'breach') = (rationale IS NULL))
){rowid};
CREATE UNIQUE INDEX breach_assessments_current ON breach_assessments (tenant_id, incident_id)
  WHERE superseded_at IS NULL;

CREATE TABLE incident_affected_counts (
  tenant_id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  jurisdiction text NOT NULL CHECK (length(jurisdiction) BETWEEN 2 AND 7),
  individuals bigint NOT NULL CHECK (individuals BETWEEN 0 AND 400000000),
  PRIMARY KEY (tenant_id, incident_id, jurisdiction),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
){rowid};

CREATE TABLE law_enforcement_delays (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  form text NOT NULL CHECK (form IN ('written', 'oral')),
  stated_on {date} NOT NULL,
  ends_on {date},
  agency text NOT NULL CHECK (length(agency) BETWEEN 1 AND 300),
  official text NOT NULL CHECK (length(official) BETWEEN 1 AND 300),
  notes text NOT NULL CHECK (length(notes) <= 20000),
  recorded_by text NOT NULL,
  recorded_at {ts} NOT NULL,
  ended_by text,
  ended_at {ts},
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
  CHECK (ends_on IS NULL OR ends_on > stated_on),
  CHECK (form = 'oral' OR ends_on IS NOT NULL),
  CHECK ((ended_at IS NULL) = (ended_by IS NULL))
){rowid};
CREATE INDEX law_enforcement_delays_by_incident ON law_enforcement_delays (tenant_id, incident_id);

CREATE TABLE breach_notifications (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  incident_id {uuid} NOT NULL,
  recipient text NOT NULL CHECK (recipient IN ('individuals', 'media', 'hhs', 'covered-entity')),
  jurisdiction text CHECK (length(jurisdiction) = 2),
  sent_on {date} NOT NULL,
  method text NOT NULL CHECK (method IN ('first-class-mail', 'email', 'telephone', 'substitute-web-posting', 'substitute-media', 'substitute-other', 'media-outlet', 'hhs-portal', 'platform', 'other')),
  recipient_detail text NOT NULL CHECK (length(recipient_detail) <= 2000),
  individuals bigint CHECK (individuals BETWEEN 0 AND 400000000),
  recorded_by text NOT NULL,
  recorded_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
  CHECK ((recipient = 'media') = (jurisdiction IS NOT NULL))
){rowid};
CREATE INDEX breach_notifications_by_incident ON breach_notifications (tenant_id, incident_id);

CREATE TABLE ba_breach_notices (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  direction text NOT NULL CHECK (direction IN ('sent', 'received')),
  peer_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  incident_id {uuid},
  peer_incident_id {uuid},
  connection_id {uuid} NOT NULL,
  vendor_id {uuid},
  ba_discovered_on {date} NOT NULL,
  notice_on {date} NOT NULL,
  method text NOT NULL CHECK (method IN ('platform', 'email', 'first-class-mail', 'telephone', 'other')),
  summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
  affected_total bigint CHECK (affected_total BETWEEN 0 AND 400000000),
  sent_by text NOT NULL,
  created_at {ts} NOT NULL,
  discovery_basis text CHECK (discovery_basis IN ('agent-knowledge', 'notice-received')),
  accepted_by text,
  accepted_at {ts},
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
  CHECK (peer_tenant_id <> tenant_id),
  CHECK (notice_on >= ba_discovered_on),
  CHECK (direction = 'received' OR (incident_id IS NOT NULL AND peer_incident_id IS NULL
    AND vendor_id IS NULL AND discovery_basis IS NULL AND accepted_at IS NULL)),
  CHECK (direction = 'sent' OR (peer_incident_id IS NOT NULL
    AND (accepted_at IS NULL) = (incident_id IS NULL)
    AND (accepted_at IS NULL) = (discovery_basis IS NULL)
    AND (accepted_at IS NULL) = (accepted_by IS NULL)))
){rowid};
CREATE INDEX ba_breach_notices_by_incident ON ba_breach_notices (tenant_id, incident_id);
CREATE INDEX ba_breach_notices_by_direction ON ba_breach_notices (tenant_id, direction, id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Incidents {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        for t in APPEND_ONLY {
            sql.push_str(&append_only(t, backend));
        }
        if backend == DbBackend::Postgres {
            sql.push_str(&tenant_policies_once(TABLES));
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
