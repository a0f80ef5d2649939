//! The freshness check of a grantee's cached `sharedWithMe` pages in one round trip: the
//! tenant's audit sequence and its share version. Everything that changes what a tenant sees
//! shared with it moves one of the two in the owner's own transaction: a grant, a revocation, a
//! connection change or a new NDA version writes into the grantee's audit chain; a change to a
//! shared artifact bumps the grantee's row in `share_heads` (after the outbox events, in
//! grantee order). A row lock orders the bumps as the transactions commit, which the newest
//! outbox id (a time-ordered UUID made before commit) would not.

use super::shared::{render, tenant_policies_once};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &["share_heads"];

/// Tables whose rows never change once written.
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct ShareVersions;

impl MigrationName for ShareVersions {
    fn name(&self) -> &str {
        "m0009_share_versions"
    }
}

const SQL: &str = r#"
CREATE TABLE share_heads (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  version bigint NOT NULL CHECK (version > 0),
  PRIMARY KEY (tenant_id)
);
"#;

/// Like `grc_catalog_versions`: scopes only its own statement and runs with the caller's rights,
/// so row-level security still admits only the tenant's own rows.
const POSTGRES: &str = r#"
CREATE FUNCTION grc_share_versions(p_tenant uuid)
RETURNS TABLE (last_seq bigint, share_version bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT (SELECT h.last_seq FROM audit_heads h WHERE h.tenant_id = p_tenant),
           (SELECT s.version FROM share_heads s WHERE s.tenant_id = p_tenant);
END $$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for ShareVersions {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
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
