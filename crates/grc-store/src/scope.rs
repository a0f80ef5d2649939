//! Scoped transactions. A tenant-owned table is reachable only through a [`TenantTx`].

use crate::{Store, StoreError};
use grc_domain::audit::AuditRecord;
use grc_domain::ids::{TenantId, UserId};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait};

/// The tenant a request acts in. The API builds one only from a verified membership or API key,
/// and operator commands from a tenant slug they looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantScope {
    tenant_id: TenantId,
}

impl TenantScope {
    pub fn new(tenant_id: TenantId) -> Self {
        Self { tenant_id }
    }
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }
}

/// Sets a transaction-local setting that row-level security policies read (PostgreSQL only).
pub(crate) async fn set_local(
    tx: &DatabaseTransaction,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config($1, $2, true)",
            [key.into(), value.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A transaction inside one tenant. Every write must be matched by an audit event before
/// [`TenantTx::commit`], or the commit is refused and the transaction rolled back.
#[derive(Debug)]
pub struct TenantTx {
    pub(crate) tx: DatabaseTransaction,
    scope: TenantScope,
    writes: u32,
    audited: bool,
    pub(crate) appended: Vec<AuditRecord>,
}

impl TenantTx {
    pub fn scope(&self) -> TenantScope {
        self.scope
    }
    pub(crate) fn tenant_uuid(&self) -> uuid::Uuid {
        self.scope.tenant_id.0
    }
    pub(crate) fn wrote(&mut self) {
        self.writes += 1;
    }
    pub(crate) fn audited(&mut self) {
        self.audited = true;
    }

    /// Commits, and returns the audit events the transaction appended (for live subscribers).
    /// Refuses (and rolls back) a transaction that changed something without writing an audit
    /// event: every change leaves its trace in the same transaction.
    pub async fn commit(self) -> Result<Vec<AuditRecord>, StoreError> {
        if self.writes > 0 && !self.audited {
            self.tx.rollback().await?;
            return Err(StoreError::Invalid(
                "a change was made without an audit event; rolled back".into(),
            ));
        }
        self.tx.commit().await?;
        Ok(self.appended)
    }

    /// Rolls back explicitly (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// The audit events appended so far in this transaction (its own and its peers').
    pub fn appended(&self) -> &[AuditRecord] {
        &self.appended
    }

    /// For tests: the transaction's connection, to check what raw SQL sees inside the scope.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// A transaction that reads one user's memberships across tenants (and nothing else
/// tenant-owned).
#[derive(Debug)]
pub struct UserTx {
    pub(crate) tx: DatabaseTransaction,
    pub(crate) user: UserId,
}

impl UserTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A transaction on the platform tables (tenants, users). It can enter one tenant, for
/// operations that create a tenant and its first rows together.
#[derive(Debug)]
pub struct PlatformTx {
    pub(crate) tx: DatabaseTransaction,
}

impl PlatformTx {
    /// Continues this transaction inside `scope`.
    pub async fn enter_tenant(self, scope: TenantScope) -> Result<TenantTx, StoreError> {
        set_local(&self.tx, "app.tenant_id", &scope.tenant_id.to_string()).await?;
        Ok(TenantTx {
            tx: self.tx,
            scope,
            writes: 0,
            audited: false,
            appended: Vec::new(),
        })
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Opens a transaction inside one tenant.
    pub async fn tenant_tx(&self, scope: TenantScope) -> Result<TenantTx, StoreError> {
        self.platform_tx().await?.enter_tenant(scope).await
    }

    /// Opens a transaction that may read `user`'s memberships in every tenant.
    pub async fn user_tx(&self, user: UserId) -> Result<UserTx, StoreError> {
        let tx = self.db.begin().await?;
        set_local(&tx, "app.user_id", &user.to_string()).await?;
        Ok(UserTx { tx, user })
    }

    /// Opens a transaction on the platform tables.
    pub async fn platform_tx(&self) -> Result<PlatformTx, StoreError> {
        Ok(PlatformTx {
            tx: self.db.begin().await?,
        })
    }
}
