//! Test support, not for production: compiled only with the `testing` feature, which the
//! workspace's own test builds enable through `[dev-dependencies]`.
//!
//! The harness the store's and the worker's integration tests share: a fresh migrated SQLite
//! file store, and a fresh PostgreSQL database migrated by an owner role and used through an
//! application role that cannot bypass row-level security. Everything here panics on failure
//! (a test's setup that fails must fail the test, never skip it).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test support: a failed setup must fail the test that called it"
)]

use crate::{AuditEntry, NewTenant, Store, StoreOptions, TenantScope, TenantTx};
use grc_domain::audit::Actor;
use grc_domain::tenancy::{Email, Name, Slug, TenantKind};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::path::PathBuf;
use uuid::Uuid;

/// A fresh, migrated SQLite store in a new directory `{prefix}-{uuid}` under the system's
/// temporary directory; the store and that directory (the caller removes it when done).
///
/// A file, not `:memory:`, so that the pool's connections and any concurrent task share one
/// database.
pub async fn sqlite_store(prefix: &str) -> (Store, PathBuf) {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("create the SQLite test directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("grc.db").display());
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .expect("connect to the SQLite test store");
    store
        .migrate()
        .await
        .expect("migrate the SQLite test store");
    (store, dir)
}

/// The PostgreSQL server's administrative URL: `GRC_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432/postgres`.
fn pg_admin_url() -> String {
    std::env::var("GRC_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url`'s scheme and host with `user` (no password) and database `db`.
fn with(url: &str, user: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("GRC_TEST_PG_URL has a scheme");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host.split('/').next().expect("GRC_TEST_PG_URL has a host");
    format!("{scheme}://{user}@{host}/{db}")
}

/// A fresh PostgreSQL database, owned and migrated by an owner role, with an application role
/// granted what the service needs and unable to bypass row-level security.
///
/// Each test binary passes its own role names, so that binaries running in parallel do not
/// race on the same roles. Remove the database with [`PgTestDb::drop`].
#[derive(Debug)]
pub struct PgTestDb {
    /// The administrative connection to the server's default database.
    root: DatabaseConnection,
    /// The database's name.
    db: String,
    app: String,
}

impl PgTestDb {
    /// Creates the roles `owner` and `app` if missing (login, no superuser, no role creation,
    /// no BYPASSRLS), a database `{db_prefix}{uuid}` owned by `owner`, migrates it as `owner`
    /// and grants `app` its privileges. Panics when PostgreSQL is not running.
    pub async fn create(owner: &str, app: &str, db_prefix: &str) -> Self {
        let root = Database::connect(pg_admin_url())
            .await
            .expect("PostgreSQL must be running for this test (GRC_TEST_PG_URL)");
        for role in [owner, app] {
            root.execute_unprepared(&format!(
                "DO $$ BEGIN
                   CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
            ))
            .await
            .expect("create the test role");
        }
        let db = format!("{db_prefix}{}", Uuid::now_v7().simple());
        root.execute_unprepared(&format!("CREATE DATABASE \"{db}\" OWNER {owner}"))
            .await
            .expect("create the test database");
        let owner_store =
            Store::connect(&with(&pg_admin_url(), owner, &db), &StoreOptions::default())
                .await
                .expect("connect as the owner");
        owner_store.migrate().await.expect("migrate as the owner");
        owner_store
            .grant_app_role(app)
            .await
            .expect("grant the application role");
        drop(owner_store);
        Self {
            root,
            db,
            app: app.to_owned(),
        }
    }

    /// The URL of this database as `user` (the server's host, no password).
    pub fn url_as(&self, user: &str) -> String {
        with(&pg_admin_url(), user, &self.db)
    }

    /// The URL of this database as the application role.
    pub fn app_url(&self) -> String {
        self.url_as(&self.app)
    }

    /// A store connected as the application role; asserts that the role cannot bypass
    /// row-level security.
    pub async fn app_store(&self) -> Store {
        let store = Store::connect(&self.app_url(), &StoreOptions::default())
            .await
            .expect("connect as the application role");
        assert!(
            !store
                .role_bypasses_rls()
                .await
                .expect("read the application role's attributes"),
            "the application role must not bypass row-level security"
        );
        store
    }

    /// Drops the database (forcing out any connection still open), ignoring a failure.
    pub async fn drop(self) {
        let _ = self
            .root
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.db
            ))
            .await;
    }
}

/// A new tenant `slug` (a covered entity) with an owner `owner@{slug}.example`, created by the
/// system actor; its scope and the owner's user id.
pub async fn tenant(store: &Store, slug: &str) -> (TenantScope, Uuid) {
    let new = NewTenant {
        slug: Slug::parse(slug).expect("a valid test slug"),
        name: Name::parse("name", slug).expect("a valid test name"),
        kind: TenantKind::CoveredEntity,
    };
    let email = Email::parse(&format!("owner@{slug}.example")).expect("a valid test email");
    let (t, member, _) = store
        .create_tenant(&new, Some((&email, None)), &Actor::System("test".into()))
        .await
        .expect("create the test tenant");
    (
        TenantScope::new(t.id),
        member.expect("the tenant's owner").user_id.0,
    )
}

/// Appends an audit event `test.{what}` (a tenant transaction that wrote must audit) and
/// commits `tx`.
pub async fn audited_commit(mut tx: TenantTx, what: &str) {
    tx.append_audit(AuditEntry {
        actor: Actor::System("test".into()),
        action: format!("test.{what}"),
        subject_type: "Test".into(),
        subject_id: what.into(),
        change: serde_json::json!({}),
    })
    .await
    .expect("append the test audit event");
    tx.commit().await.expect("commit the test transaction");
}
