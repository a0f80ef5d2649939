//! The ISMS's internal audit programmes, audits, findings, nonconformities and corrective actions, management reviews.

use super::shared::{render, tenant_policies};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &[];

pub(crate) struct Audits;

impl MigrationName for Audits {
    fn name(&self) -> &str {
        "m0006_audits"
    }
}

const SQL: &str = r#"
SELECT 1;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Audits {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        if backend == DbBackend::Postgres && !TABLES.is_empty() {
            sql.push_str(&tenant_policies(TABLES));
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
