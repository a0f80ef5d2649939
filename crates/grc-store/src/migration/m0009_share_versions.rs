//! The freshness check of a grantee's cached `sharedWithMe` pages in one round trip: the
//! tenant's audit sequence and its newest outbox event. Everything that changes what a tenant
//! sees shared with it moves one of the two: an owner's grant, revocation or connection change
//! writes into the grantee's audit chain in the owner's transaction, and a change to a shared
//! artifact queues an outbox event for each grantee in the owner's transaction (and writes into
//! the grantee's chain just after it). No table changes.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

pub(crate) struct ShareVersions;

impl MigrationName for ShareVersions {
    fn name(&self) -> &str {
        "m0009_share_versions"
    }
}

/// Like `grc_catalog_versions`: scopes only its own statement and runs with the caller's rights,
/// so row-level security still admits only the tenant's own head and outbox rows.
const POSTGRES: &str = r#"
CREATE FUNCTION grc_share_versions(p_tenant uuid)
RETURNS TABLE (last_seq bigint, last_event uuid)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT (SELECT h.last_seq FROM audit_heads h WHERE h.tenant_id = p_tenant),
           (SELECT o.id FROM outbox_events o WHERE o.tenant_id = p_tenant
             ORDER BY o.id DESC LIMIT 1);
END $$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for ShareVersions {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES)
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
