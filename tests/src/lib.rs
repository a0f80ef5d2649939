//! The end-to-end harness: the real server on port 0, over a fresh SQLite file or a fresh
//! PostgreSQL database (owner and application roles, row-level security on), and Redis when a
//! test asks for it. PostgreSQL and Redis must be running: the tests fail, never skip, without
//! them. `GRC_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! `GRC_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) point elsewhere.

#![allow(clippy::unwrap_used, missing_debug_implementations, unreachable_pub)]

use grc_api::auth::TokenIssuer;
use grc_api::config::Settings;
use grc_domain::audit::Actor;
use grc_domain::tenancy::{Email, Name, Role, Slug, TenantKind};
use grc_store::{NewTenant, Store, StoreOptions, TenantRecord, TenantScope};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;
use tokio::sync::OnceCell;

pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("GRC_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// An S3-compatible server for the object store's S3 backend (`scripts/test` starts one and
/// sets test credentials in `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`).
pub fn s3_endpoint() -> String {
    let endpoint =
        std::env::var("GRC_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5005".into());
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
            && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some(),
        "the S3 test needs credentials for {endpoint}: run scripts/test, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    endpoint
}

pub fn redis_url() -> String {
    std::env::var("GRC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

fn with_user(url: &str, user: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_username(user).unwrap();
    u.set_password(None).unwrap();
    u.to_string()
}

static PG_ROLES: OnceCell<()> = OnceCell::const_new();

/// Creates the test roles once per process (idempotent) and removes test databases left over
/// from earlier runs.
async fn pg_prepare(admin: &DatabaseConnection) {
    PG_ROLES
        .get_or_init(|| async {
            admin
                .execute_unprepared(
                    "DO $$ BEGIN
                       CREATE ROLE grc_test_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
                     EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                     DO $$ BEGIN
                       CREATE ROLE grc_test_app LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
                     EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
                )
                .await
                .expect("PostgreSQL must be running for the tests (see README): cannot create roles");
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT datname FROM pg_database WHERE datname LIKE 'grc\\_t\\_%' AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)",
                ))
                .await
                .unwrap();
            // Only databases left over from runs at least an hour old: another test process
            // (nextest runs one per test) may have just created its own and not yet connected.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            for r in rows {
                let name: String = r.try_get("", "datname").unwrap();
                let created = name
                    .strip_prefix("grc_t_")
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|secs| secs.parse::<u64>().ok())
                    .unwrap_or(0);
                if created + 3600 < now {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
                }
            }
        })
        .await;
}

/// A fresh database for one test, and the settings that point at it.
pub struct TestDb {
    pub backend: Backend,
    pub settings: Settings,
    /// A superuser (PostgreSQL) or plain (SQLite) connection that sees past every wall: for
    /// tampering with rows and checking what is stored.
    pub admin: DatabaseConnection,
    _dir: tempdir::TempDir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p =
                std::env::temp_dir().join(format!("grc-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempdir::TempDir::new();
        let mut settings = Settings {
            data_dir: dir.0.clone(),
            jwt_secret: Some(SecretString::from(TEST_SECRET.to_owned())),
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Settings::default()
        };
        let admin = match backend {
            Backend::Sqlite => {
                grc_api::migrate(&settings).await.unwrap();
                Database::connect(settings.effective_database_url())
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let root = Database::connect(pg_admin_url())
                    .await
                    .expect("PostgreSQL must be running for the tests (see README)");
                pg_prepare(&root).await;
                // Named with its creation time, so that clean-up leaves young databases alone.
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let db = format!("grc_t_{secs}_{}", uuid::Uuid::new_v4().simple());
                root.execute_unprepared(&format!("CREATE DATABASE \"{db}\" OWNER grc_test_owner"))
                    .await
                    .unwrap();
                root.close().await.unwrap();
                let base = with_db(&pg_admin_url(), &db);
                settings.database_url = Some(SecretString::from(with_user(&base, "grc_test_app")));
                settings.migration_database_url =
                    Some(SecretString::from(with_user(&base, "grc_test_owner")));
                settings.database_pool_size = 4;
                grc_api::migrate(&settings).await.unwrap();
                Database::connect(base).await.unwrap()
            }
        };
        Self {
            backend,
            settings,
            admin,
            _dir: dir,
        }
    }

    /// Another handle on the same database and settings, for a second server (a replica).
    pub async fn sibling(&self) -> Self {
        let admin = match self.backend {
            Backend::Sqlite => Database::connect(self.settings.effective_database_url())
                .await
                .unwrap(),
            Backend::Postgres => {
                let url = secrecy::ExposeSecret::expose_secret(
                    self.settings.migration_database_url.as_ref().unwrap(),
                )
                .to_owned();
                let db = url::Url::parse(&url)
                    .unwrap()
                    .path()
                    .trim_start_matches('/')
                    .to_owned();
                Database::connect(with_db(&pg_admin_url(), &db))
                    .await
                    .unwrap()
            }
        };
        Self {
            backend: self.backend,
            settings: self.settings.clone(),
            admin,
            _dir: tempdir::TempDir::new(),
        }
    }

    /// The server's store (on PostgreSQL: the application role).
    pub async fn store(&self) -> Store {
        Store::connect(
            &self.settings.effective_database_url(),
            &StoreOptions {
                max_connections: 4,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    }
}

/// The opaque global id the API gives an object of `kind` (`User`, `ApiKey`, ...): for tests
/// that must name an object they did not read from the API, such as a stranger.
pub fn global_id(kind: &str, id: uuid::Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{}", id.simple()))
}

/// The uuid inside a global id (the inverse of [`global_id`]).
pub fn decode_global_id(id: &str) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap();
    let s = String::from_utf8(raw).unwrap();
    uuid::Uuid::try_parse(s.split(':').nth(1).unwrap()).unwrap()
}

/// A running server over a [`TestDb`].
pub struct TestApp {
    pub db: TestDb,
    pub store: Store,
    pub base: String,
    pub client: reqwest::Client,
    pub issuer: TokenIssuer,
    /// The server's live-event bus (a test hands it the delivery worker's notification pings).
    pub bus: grc_api::events::EventBus,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let h = self.handle.clone();
        drop(tokio::spawn(async move { h.stop(false).await }));
    }
}

/// A tenant made for a test, with a token per member.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub tenant: TenantRecord,
    /// By e-mail local part (`owner`, `auditor`, ...).
    pub tokens: HashMap<String, String>,
    pub user_ids: HashMap<String, uuid::Uuid>,
}

impl Fixture {
    pub fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }
}

/// A GraphQL answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl Answer {
    /// The first error's code, if any.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> Self {
        let mut db = TestDb::new(backend).await;
        customize(&mut db.settings);
        Self::on(db).await
    }

    /// Starts a server over an existing test database.
    pub async fn on(db: TestDb) -> Self {
        let store = grc_api::open_store(&db.settings).await.unwrap();
        let services = grc_api::Services::new(&db.settings, store.clone())
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app = grc_api::Application::bind(listener, &services).unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let issuer =
            TokenIssuer::new(&db.settings, &SecretString::from(TEST_SECRET.to_owned())).unwrap();
        Self {
            db,
            store,
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            issuer,
            bus: services.bus.clone(),
            handle,
        }
    }

    pub fn token(&self, subject: &str) -> String {
        self.issuer
            .issue(subject, Duration::from_secs(3600))
            .unwrap()
    }

    /// Creates a tenant with members `(local part, role)`; e-mails are `<local>@<slug>.test`.
    pub async fn tenant(&self, slug: &str, members: &[(&str, Role)]) -> Fixture {
        let new = NewTenant {
            slug: Slug::parse(slug).unwrap(),
            name: Name::parse("name", &format!("Tenant {slug}")).unwrap(),
            kind: TenantKind::CoveredEntity,
        };
        let actor = Actor::System("test".into());
        let (tenant, _, _) = self.store.create_tenant(&new, None, &actor).await.unwrap();
        let mut tokens = HashMap::new();
        let mut user_ids = HashMap::new();
        for (local, role) in members {
            let email = Email::parse(&format!("{local}@{slug}.test")).unwrap();
            let ptx = self.store.platform_tx().await.unwrap();
            let (user, _) = ptx.ensure_user(&email, None).await.unwrap();
            let mut tx = ptx.enter_tenant(TenantScope::new(tenant.id)).await.unwrap();
            tx.add_member_recorded(user.id, *role, &actor)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            tokens.insert((*local).to_owned(), self.token(&user.subject));
            user_ids.insert((*local).to_owned(), user.id.0);
        }
        Fixture {
            tenant,
            tokens,
            user_ids,
        }
    }

    /// POSTs a GraphQL request with a bearer credential and an optional `X-Tenant`.
    pub async fn gql(
        &self,
        token: &str,
        tenant: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Answer {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = tenant {
            req = req.header("X-Tenant", t);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            content_type,
        }
    }
}

/// Runs a test body once per database backend (SQLite, then PostgreSQL).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$body($crate::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$body($crate::Backend::Postgres).await }
            )*
        }
    };
}

/// What the feature modules' tests share for GraphQL mutations and their payloads.
pub mod gql {
    use super::TestApp;
    use serde_json::{Value, json};

    /// Runs a mutation and returns its payload, asserting there was no top-level error.
    pub async fn run(app: &TestApp, token: &str, name: &str, query: &str, vars: Value) -> Value {
        let a = app.gql(token, None, query, vars).await;
        assert!(a.body["errors"].is_null(), "{name}: {:?}", a.body);
        a.data()[name].clone()
    }

    /// Runs a mutation that must succeed and returns its payload.
    pub async fn ok(app: &TestApp, token: &str, name: &str, query: &str, vars: Value) -> Value {
        let p = run(app, token, name, query, vars).await;
        assert_eq!(p["userErrors"], json!([]), "{name}: {p:?}");
        p
    }

    /// The first user error's code.
    pub fn code(p: &Value) -> &str {
        p["userErrors"][0]["code"].as_str().unwrap_or("none")
    }

    /// The top-level error code of a request.
    pub async fn top_code(app: &TestApp, token: &str, query: &str, vars: Value) -> String {
        let a = app.gql(token, None, query, vars).await;
        a.code().unwrap_or("none").to_owned()
    }
}
