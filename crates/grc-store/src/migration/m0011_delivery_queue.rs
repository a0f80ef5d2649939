//! The Redis Streams queue and the scheduler's persisted window (issue 7).
//!
//! - `deliveries.queued_until`: when a delivery was put on the Redis stream, until when the
//!   stream is trusted to hand it to a consumer. A due delivery with no live `queued_until` is
//!   (re)queued by the relay's sweep, so a stream entry lost with Redis (or trimmed) costs at
//!   most that long; taking a delivery (`lease_delivery`) clears it. The embedded queue never
//!   sets it.
//! - `scheduler_leases.scheduled_until`: the end of the last window the scheduler committed for
//!   every tenant, so that a scheduler that starts (or takes the lease over) after an outage of
//!   any length covers exactly the time it missed.
//! - `grc_due_deliveries` leaves queued deliveries out; `grc_delivery_backlog` reads the queue
//!   depth and the oldest due instant for `/metrics` (on PostgreSQL, with the same narrow scan
//!   policy as the due scan).

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::shared::render;

/// This migration adds no table.
pub(super) const TABLES: &[&str] = &[];
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct DeliveryQueue;

impl MigrationName for DeliveryQueue {
    fn name(&self) -> &str {
        "m0011_delivery_queue"
    }
}

const SQL: &str = r#"
ALTER TABLE deliveries ADD COLUMN queued_until {ts} NULL;
ALTER TABLE scheduler_leases ADD COLUMN scheduled_until {ts} NULL;
"#;

const POSTGRES: &str = r#"
DROP FUNCTION grc_due_deliveries(timestamptz, integer);
CREATE FUNCTION grc_due_deliveries(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, next_attempt_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('app.due_scan', 'on', true);
  RETURN QUERY
    SELECT d.tenant_id, d.id, d.next_attempt_at FROM deliveries d
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= p_now
      AND (d.queued_until IS NULL OR d.queued_until <= p_now)
    ORDER BY d.next_attempt_at, d.tenant_id, d.id
    LIMIT p_limit;
  PERFORM set_config('app.due_scan', '', true);
END $$;

CREATE FUNCTION grc_delivery_backlog(p_now timestamptz)
RETURNS TABLE (waiting bigint, oldest timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.due_scan', 'on', true);
  RETURN QUERY
    SELECT count(*), min(d.next_attempt_at) FROM deliveries d
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= p_now;
  PERFORM set_config('app.due_scan', '', true);
END $$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for DeliveryQueue {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        if backend == DbBackend::Postgres {
            sql.push_str(POSTGRES);
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
