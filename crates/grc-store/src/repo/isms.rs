//! ISMS repositories: management systems, context, assets, risks, risk assessments, the SoA
//! draft and its versions, HIPAA determinations.

use crate::{StoreError, TenantTx};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

impl TenantTx {
    /// Whether the tenant has an ISMS with this id.
    pub async fn isms_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        let backend = self.tx.get_database_backend();
        let row = self
            .tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, "SELECT 1 AS one FROM isms WHERE tenant_id = $1 AND id = $2"),
                [self.tenant_uuid().into(), id.into()],
            ))
            .await?;
        Ok(row.is_some())
    }

    /// Whether the tenant has a risk with this id.
    pub async fn risk_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        let backend = self.tx.get_database_backend();
        let row = self
            .tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, "SELECT 1 AS one FROM risks WHERE tenant_id = $1 AND id = $2"),
                [self.tenant_uuid().into(), id.into()],
            ))
            .await?;
        Ok(row.is_some())
    }
}

/// Raw SQL is written with PostgreSQL's numbered placeholders (`$1`); SQLite gets the same
/// numbers as `?1`. (No statement here has a `$` anywhere else.)
pub(crate) fn sql(backend: sea_orm::DbBackend, s: &str) -> String {
    if backend == sea_orm::DbBackend::Postgres {
        s.to_owned()
    } else {
        s.replace('$', "?")
    }
}
