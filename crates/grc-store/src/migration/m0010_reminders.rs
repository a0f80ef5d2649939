//! Reminders and notifications (issue 7): the tenant's reminder settings (time zone, local send
//! time), its reminder policies per kind of due item, members' digest preferences, the
//! reminders the scheduler writes (once each: a unique idempotency key), the deliveries of each
//! reminder or outbox event per channel and target with their attempts (append-only), webhook
//! endpoints and their secrets, in-app notifications, calendar feeds, and the scheduler's lease
//! (a platform table: it names no tenant).
//!
//! Lists that are only read as a whole with their row (lead days, channels, recipients,
//! escalation, an endpoint's event types) are JSON text columns.
//!
//! On PostgreSQL every tenant-owned table has the tenant policy. Two narrow policies more admit
//! the worker's scans across tenants, each only while a function of this migration runs and
//! only for the rows that function needs (see [`POSTGRES`]).

use super::shared::{append_only, render, tenant_policies_once};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "reminder_settings",
    "reminder_policies",
    "digest_preferences",
    "reminders",
    "deliveries",
    "delivery_attempts",
    "webhook_endpoints",
    "webhook_secrets",
    "notifications",
    "calendar_feeds",
];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &["delivery_attempts"];

/// The kinds of due items, as `grc_domain::reminders::DueKind` spells them (a unit test keeps
/// the two lists equal: a new kind needs a migration of its own).
pub(super) const DUE_KINDS: &[&str] = &[
    "certificate-expiry",
    "surveillance-audit",
    "recertification-audit",
    "attestation-expiry",
    "bridge-letter-end",
    "baa-end",
    "baa-review",
    "policy-review",
    "document-review",
    "risk-review",
    "evidence-expiry",
    "corrective-action-due",
    "training-due",
    "internal-audit-due",
    "management-review-due",
    "breach-notification-deadline",
    "share-grant-expiry",
];

pub(crate) struct Reminders;

impl MigrationName for Reminders {
    fn name(&self) -> &str {
        "m0010_reminders"
    }
}

const SQL: &str = r#"
CREATE TABLE reminder_settings (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
  send_hour integer NOT NULL DEFAULT 9 CHECK (send_hour BETWEEN 0 AND 23),
  send_minute integer NOT NULL DEFAULT 0 CHECK (send_minute BETWEEN 0 AND 59),
  updated_by text NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id)
){rowid};

CREATE TABLE reminder_policies (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  kind text NOT NULL CHECK (kind IN ({due_kinds})),
  enabled boolean NOT NULL,
  lead_days text NOT NULL,
  overdue_every_days integer CHECK (overdue_every_days BETWEEN 1 AND 90),
  channels text NOT NULL,
  recipients text NOT NULL,
  escalation text,
  updated_by text NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, kind)
){rowid};

CREATE TABLE digest_preferences (
  tenant_id {uuid} NOT NULL,
  user_id {uuid} NOT NULL,
  enabled boolean NOT NULL,
  send_hour integer NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
  send_minute integer NOT NULL CHECK (send_minute BETWEEN 0 AND 59),
  time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
  channels text NOT NULL,
  skip_when_empty boolean NOT NULL,
  unsubscribe_sha256 text CHECK (length(unsubscribe_sha256) = 64),
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
){rowid};
CREATE UNIQUE INDEX digest_preferences_unsubscribe ON digest_preferences (tenant_id, unsubscribe_sha256);

CREATE TABLE reminders (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 300),
  subject_type text NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 100),
  subject_id {uuid} NOT NULL,
  kind text NOT NULL CHECK (kind IN ({due_kinds})),
  due_on {date} NOT NULL,
  lead text NOT NULL CHECK (length(lead) BETWEEN 1 AND 40),
  send_at {ts} NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'queued', 'skipped', 'retired')),
  retired_reason text CHECK (length(retired_reason) <= 2000),
  created_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, idempotency_key),
  CHECK ((status = 'retired') = (retired_reason IS NOT NULL))
){rowid};
CREATE INDEX reminders_by_subject ON reminders (tenant_id, subject_type, subject_id, kind);

CREATE TABLE deliveries (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  delivery_key text NOT NULL CHECK (length(delivery_key) BETWEEN 1 AND 600),
  outbox_event_id {uuid},
  reminder_id {uuid},
  channel text NOT NULL CHECK (channel IN ('email', 'webhook', 'in-app')),
  target text NOT NULL CHECK (length(target) BETWEEN 1 AND 300),
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at {ts},
  last_attempt_at {ts},
  last_status_code integer,
  last_error text CHECK (length(last_error) <= 2000),
  created_at {ts} NOT NULL,
  delivered_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, delivery_key),
  FOREIGN KEY (tenant_id, outbox_event_id) REFERENCES outbox_events (tenant_id, id),
  FOREIGN KEY (tenant_id, reminder_id) REFERENCES reminders (tenant_id, id),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
  CHECK (status NOT IN ('pending', 'failed') OR next_attempt_at IS NOT NULL)
){rowid};
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_by_reminder ON deliveries (tenant_id, reminder_id);
CREATE INDEX deliveries_by_status ON deliveries (tenant_id, status, id);

CREATE TABLE delivery_attempts (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  delivery_id {uuid} NOT NULL,
  attempted_at {ts} NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'gone', 'throttled', 'failed', 'timed-out', 'connection-failed')),
  status_code integer,
  error text CHECK (length(error) <= 2000),
  duration_ms integer CHECK (duration_ms >= 0),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES deliveries (tenant_id, id)
){rowid};
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (tenant_id, delivery_id, id);

CREATE TABLE webhook_endpoints (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
  description text NOT NULL CHECK (length(description) <= 2000),
  event_types text NOT NULL,
  enabled boolean NOT NULL,
  disabled_reason text CHECK (length(disabled_reason) <= 2000),
  disabled_at {ts},
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  first_failure_at {ts},
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK (enabled OR disabled_at IS NOT NULL)
){rowid};

CREATE TABLE webhook_secrets (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  endpoint_id {uuid} NOT NULL,
  secret text NOT NULL CHECK (length(secret) BETWEEN 10 AND 200),
  created_at {ts} NOT NULL,
  expires_at {ts},
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
){rowid};
CREATE UNIQUE INDEX webhook_secrets_current ON webhook_secrets (tenant_id, endpoint_id) WHERE expires_at IS NULL;

CREATE TABLE notifications (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  user_id {uuid} NOT NULL,
  delivery_id {uuid},
  topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 100),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  body text NOT NULL CHECK (length(body) <= 5000),
  subject_type text,
  subject_id text,
  link text CHECK (length(link) <= 2000),
  created_at {ts} NOT NULL,
  read_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, delivery_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES deliveries (tenant_id, id)
){rowid};
CREATE INDEX notifications_by_user ON notifications (tenant_id, user_id, id);

CREATE TABLE calendar_feeds (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  user_id {uuid} NOT NULL,
  token_sha256 text NOT NULL CHECK (length(token_sha256) = 64),
  created_at {ts} NOT NULL,
  revoked_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_sha256),
  FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
){rowid};
CREATE INDEX calendar_feeds_by_user ON calendar_feeds (tenant_id, user_id);

CREATE TABLE scheduler_leases (
  name text NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  holder text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
  fencing_token bigint NOT NULL CHECK (fencing_token >= 1),
  expires_at {ts} NOT NULL
);
"#;

/// PostgreSQL: the worker's scans across tenants. Each policy admits a row only while its
/// setting is `on`, which only the function below it sets (for its own statement, and clears
/// again), and only the rows the scan is for; the functions run with the caller's rights and
/// return keys only. The worker then opens a tenant transaction per row.
const POSTGRES: &str = r#"
CREATE POLICY worker_scans_due ON deliveries FOR SELECT
  USING ((SELECT current_setting('app.due_scan', true)) = 'on' AND status IN ('pending', 'failed'));

CREATE FUNCTION grc_due_deliveries(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, next_attempt_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('app.due_scan', 'on', true);
  RETURN QUERY
    SELECT d.tenant_id, d.id, d.next_attempt_at FROM deliveries d
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= p_now
    ORDER BY d.next_attempt_at, d.tenant_id, d.id
    LIMIT p_limit;
  PERFORM set_config('app.due_scan', '', true);
END $$;

CREATE POLICY relay_scans_unrelayed ON outbox_events FOR SELECT
  USING ((SELECT current_setting('app.outbox_scan', true)) = 'on' AND relayed_at IS NULL);

CREATE FUNCTION grc_unrelayed_outbox(p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, created_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('app.outbox_scan', 'on', true);
  RETURN QUERY
    SELECT o.tenant_id, o.id, o.created_at FROM outbox_events o
    WHERE o.relayed_at IS NULL
    ORDER BY o.created_at, o.tenant_id, o.id
    LIMIT p_limit;
  PERFORM set_config('app.outbox_scan', '', true);
END $$;
"#;

fn due_kind_list() -> String {
    DUE_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Reminders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(&SQL.replace("{due_kinds}", &due_kind_list()), backend)?;
        for t in APPEND_ONLY {
            sql.push_str(&append_only(t, backend));
        }
        if backend == DbBackend::Postgres {
            sql.push_str(&tenant_policies_once(TABLES));
            sql.push_str(POSTGRES);
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::DUE_KINDS;
    use grc_domain::reminders::DueKind;

    #[test]
    fn the_check_lists_every_due_kind() {
        let domain: Vec<&str> = DueKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(DUE_KINDS, domain.as_slice());
    }
}
