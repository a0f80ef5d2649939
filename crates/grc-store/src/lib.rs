//! Persistence for grc: sea-orm entities, migrations, tenant-scoped repositories, row-level
//! security, the audit chain.
//!
//! Architecture invariant: every query on a tenant-owned table goes through a [`TenantTx`],
//! which can only be opened with a [`TenantScope`]: a repository call without a tenant does not
//! compile. On PostgreSQL the transaction also sets `app.tenant_id`, which row-level security
//! policies check, so a query that forgot its `tenant_id` predicate still sees only its tenant.

pub mod entity;
mod error;
pub mod migration;
pub mod objects;
mod page;
mod repo;
mod scope;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::StoreError;
pub use page::{Page, PageRequest};
pub use repo::api_keys::{ApiKeyRecord, ApiKeySecret, NewApiKey, is_api_key};
pub use repo::audit::{AuditEntry, AuditVerification};
pub use repo::audits::{AuditFilter, NonconformityFilter, ReviewFilter};
pub use repo::catalog::{
    ControlTextRecord, CustomFrameworkRecord, ImportOrigin, LinkEnd, NewCustomFramework,
    ReviewRecord, SyncReport, TenantLinkRecord,
};
pub use repo::due_items::{TrackedDue, UnsentReminder, certificate_lifecycle};
pub use repo::evidence::{
    EvidenceFilter, EvidenceLink, EvidenceRecord, EvidenceTargetKind, NewEvidence,
};
pub use repo::incidents::{
    BreachFacts, IncidentFields, IncidentFilter, NewBaNotice, NewDelay, NewNotification,
    TimelineKind, assessment_of, delay_of, notification_of, status_of,
};
pub use repo::isms::{
    AssetFields, AssetFilter, AssetRecord, ContextItemFields, ContextItemRecord,
    DeterminationRecord, IsmsFields, IsmsRecord, RiskAssessmentRecord, RiskFields, RiskFilter,
    RiskOrder, RiskRecord, SnapshotRisk, SoaApproval, SoaControl, SoaEntryPatch, SoaEntryRecord,
    SoaVersionRecord,
};
pub use repo::members::MemberRecord;
pub use repo::platform::{NewTenant, TenantRecord, UserMembership, UserRecord};
pub use repo::records::{AssignmentFilter, DocumentFilter, VersionApproval};
pub use repo::reminders::{
    AttemptRecord, CALENDAR_TOKEN_PREFIX, DeliveryFilter, DeliveryStatus, NewDelivery,
    NotificationPing, ReminderStatus, SchedulerLease, ScopedToken, WebhookSecretInfo,
};
pub use repo::sharing::{GrantFilter, LiveGrant, PeerEvent};
pub use repo::vendors::{
    AttestationFilter, AttestationSlim, BaaFilter, BaaSlim, ComplianceInputs, VendorFilter,
    VendorSlim,
};
pub use scope::{PlatformTx, TenantScope, TenantTx, UserTx};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool (PostgreSQL; SQLite always uses one writer connection).
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The database: a pool of connections and the backend it speaks.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Statements executed through this pool (a metric, and how tests prove a page costs a
    /// constant number of queries).
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The pool's size.
    max_connections: u32,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://...`).
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let sqlite = url.starts_with("sqlite:");
        let max_connections = if sqlite { 1 } else { options.max_connections };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(if sqlite { 1 } else { 2 })
            .connect_timeout(options.connect_timeout)
            .acquire_timeout(options.connect_timeout)
            // A pooled connection is pinged before use only after sitting idle: a ping per
            // acquire was a round trip per transaction (ADR 0011's benchmark).
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false);
        let mut db = Database::connect(opts).await?;
        let statements = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        if db.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
            )
            .await?;
        }
        Ok(Self {
            db,
            statements,
            max_connections,
        })
    }

    /// The pool's size: how many transactions can be open at once (one on SQLite).
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// How many SQL statements this store's pool has executed since it connected.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Applies pending migrations. On PostgreSQL, run this as the tables' owner.
    /// Applies the schema migrations, then loads the shipped catalogs (only what changed since
    /// the last load; see [`Store::sync_catalogs`]).
    pub async fn migrate(&self) -> Result<SyncReport, StoreError> {
        migration::Migrator::up(&self.db, None).await?;
        let bundle = grc_catalog::Bundle::shipped_static()
            .map_err(|e| StoreError::Invalid(format!("the shipped catalogs do not load: {e}")))?;
        self.sync_catalogs(bundle).await
    }

    /// Whether migrations are waiting to be applied. Reads the migration table only (the
    /// application role may not create it, as sea-orm's own check would try to).
    pub async fn has_pending_migrations(&self) -> Result<bool, StoreError> {
        let rows = match self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.backend(),
                "SELECT version FROM seaql_migrations",
            ))
            .await
        {
            Ok(rows) => rows,
            // No migration table: nothing was ever applied.
            Err(_) => return Ok(true),
        };
        let applied = rows
            .iter()
            .map(|r| r.try_get::<String>("", "version"))
            .collect::<Result<std::collections::HashSet<_>, _>>()?;
        Ok(migration::Migrator::migrations()
            .iter()
            .any(|m| !applied.contains(m.name())))
    }

    /// PostgreSQL: grants the application role what it needs on the tables, and no more
    /// (audit events are insert-only). Run as the owner after [`Store::migrate`].
    pub async fn grant_app_role(&self, role: &str) -> Result<(), StoreError> {
        if self.backend() != DbBackend::Postgres {
            return Ok(());
        }
        if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!(
                "application role name {role:?} must be letters, digits and underscores"
            )));
        }
        let append_only = migration::append_only_tables();
        let writable: Vec<&str> = migration::tenant_owned_tables()
            .into_iter()
            .filter(|t| !append_only.contains(t))
            .collect();
        let mut sql = format!(
            "GRANT USAGE ON SCHEMA public TO \"{role}\";
             GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users TO \"{role}\";
             GRANT SELECT, INSERT, UPDATE, DELETE ON catalog_frameworks, catalog_controls, catalog_crosswalks, catalog_mappings TO \"{role}\";
             GRANT SELECT, UPDATE ON catalog_state TO \"{role}\";
             GRANT SELECT, INSERT, UPDATE ON scheduler_leases TO \"{role}\";
             GRANT SELECT ON seaql_migrations TO \"{role}\";
             GRANT EXECUTE ON FUNCTION grc_current_tenant(), grc_current_user(), grc_user_memberships(uuid), grc_catalog_versions(uuid), grc_share_versions(uuid), grc_connected(uuid, uuid), grc_granted(uuid, text, uuid), grc_granted_document(uuid, uuid), grc_due_deliveries(timestamptz, integer), grc_delivery_backlog(timestamptz), grc_unrelayed_outbox(integer) TO \"{role}\";"
        );
        sql.push_str(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO \"{role}\";
             GRANT SELECT, INSERT ON {} TO \"{role}\";",
            writable.join(", "),
            append_only.join(", ")
        ));
        self.db.execute_unprepared(&sql).await?;
        Ok(())
    }

    /// PostgreSQL: whether the connected role would bypass row-level security (a superuser, a
    /// role with BYPASSRLS). The server refuses to start as such a role unless told otherwise.
    pub async fn role_bypasses_rls(&self) -> Result<bool, StoreError> {
        if self.backend() != DbBackend::Postgres {
            return Ok(false);
        }
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "SELECT (rolsuper OR rolbypassrls) AS bypass FROM pg_roles WHERE rolname = current_user",
            ))
            .await?
            .ok_or_else(|| StoreError::Invalid("current role not found".into()))?;
        Ok(row.try_get::<bool>("", "bypass")?)
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    /// The raw connection, for tests and operator tools that must see past the repositories.
    /// Application code never calls this.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &DatabaseConnection {
        &self.db
    }
}
