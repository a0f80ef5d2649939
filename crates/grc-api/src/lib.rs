//! The grc API: actix-web + async-graphql, authentication, limits, telemetry.
//!
//! Architecture invariant: this is the only crate that knows HTTP and GraphQL.

pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod errors;
pub mod events;
pub mod exports;
pub mod graphql;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod redis_support;
pub mod telemetry;

use crate::auth::{AuthCache, Authenticator, JwtVerifier, TokenIssuer};
use crate::config::Settings;
use crate::events::EventBus;
use crate::graphql::SchemaLimits;
use crate::http::AppState;
use crate::metrics::Metrics;
use crate::redis_support::{RateLimiter, Redis, RedisEvents};
use actix_web::dev::{Server, Service};
use actix_web::http::header::HeaderValue;
use actix_web::{App, HttpServer, web};
use anyhow::{Context as _, bail};
use grc_store::{Store, StoreOptions};
use opentelemetry::propagation::TextMapPropagator as _;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Connects the store for the server: migrates the embedded SQLite database; on PostgreSQL,
/// migrates as the owner when `GRC_MIGRATION_DATABASE_URL` is set, else requires the schema to
/// be current. Refuses a role that bypasses row-level security unless allowed.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.effective_database_url();
    if settings.uses_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("GRC_DATA_DIR {}", settings.data_dir.display()))?;
    }
    let opts = StoreOptions {
        max_connections: settings.database_pool_size,
        ..StoreOptions::default()
    };
    let store = Store::connect(&url, &opts)
        .await
        .context("GRC_DATABASE_URL: cannot connect to the database")?;
    if settings.uses_sqlite() {
        store
            .migrate()
            .await
            .context("migrating the embedded database")?;
        return Ok(store);
    }
    if settings.migration_database_url.is_some() {
        migrate(settings).await?;
    } else if store.has_pending_migrations().await? {
        bail!(
            "the database schema is not current: run `grc migrate` (as the tables' owner, GRC_MIGRATION_DATABASE_URL)"
        );
    }
    if let Ok(shipped) = grc_catalog::Bundle::shipped_static()
        && store.catalog_bundle_version().await? != shipped.version()
    {
        tracing::warn!(
            "the database holds another version of the shipped catalogs than this build: run `grc migrate` to load this build's"
        );
    }
    if store.role_bypasses_rls().await? && !settings.allow_rls_bypass {
        bail!(
            "GRC_DATABASE_URL connects as a role that bypasses row-level security (a superuser or BYPASSRLS); \
             connect as the application role (see docs/DATABASE.md) or set GRC_ALLOW_RLS_BYPASS=true for development"
        );
    }
    Ok(store)
}

/// `grc migrate`: applies migrations as the owner and grants the application role (the user of
/// `GRC_DATABASE_URL`, when it differs) what it needs.
pub async fn migrate(settings: &Settings) -> anyhow::Result<grc_store::SyncReport> {
    if settings.uses_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("GRC_DATA_DIR {}", settings.data_dir.display()))?;
    }
    let owner_url = settings.effective_migration_url();
    let owner = Store::connect(
        &owner_url,
        &StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        },
    )
    .await
    .context("GRC_MIGRATION_DATABASE_URL: cannot connect to the database")?;
    let report = owner.migrate().await.context("running migrations")?;
    let app_url = settings.effective_database_url();
    if let (Some(app_user), Some(owner_user)) = (pg_user(&app_url), pg_user(&owner_url))
        && app_user != owner_user
    {
        owner
            .grant_app_role(&app_user)
            .await
            .context("granting the application role")?;
    }
    Ok(report)
}

fn pg_user(url: &str) -> Option<String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let u = url::Url::parse(url).ok()?;
    let name = u.username();
    let name = if name.is_empty() {
        std::env::var("USER").ok()?
    } else {
        name.to_owned()
    };
    Some(name)
}

/// Everything a running server holds.
#[derive(Debug)]
pub struct Services {
    pub state: web::Data<AppState>,
    pub issuer: Option<TokenIssuer>,
    /// The live-event bus (`grc serve` hands the embedded worker's notification pings to it).
    pub bus: EventBus,
}

impl Services {
    /// Builds the services from settings and an opened store.
    pub async fn new(settings: &Settings, store: Store) -> anyhow::Result<Self> {
        anyhow::ensure!(
            jsonwebtoken::crypto::CryptoProvider::try_get_default().is_some(),
            "no JWT crypto provider is compiled in"
        );
        let secret = auth::resolve_secret(settings).map_err(anyhow::Error::msg)?;
        let verifier = JwtVerifier::new(settings, secret.as_ref()).map_err(anyhow::Error::msg)?;
        let issuer = secret
            .as_ref()
            .map(|s| TokenIssuer::new(settings, s))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let redis = match &settings.redis_url {
            Some(url) => Some(
                Redis::connect(url.expose_secret(), &settings.redis_prefix)
                    .await
                    .context("GRC_REDIS_URL: cannot connect to Redis")?,
            ),
            None => None,
        };
        let bus = match &redis {
            Some(r) => {
                let events = RedisEvents::new(r.clone());
                let bus = EventBus::new(Some(events.clone()));
                events.spawn_forwarder(bus.clone());
                bus
            }
            None => EventBus::new(None),
        };
        let limiter = match &redis {
            Some(r) => RateLimiter::redis(r.clone()),
            None => RateLimiter::memory(),
        };
        let limits = SchemaLimits {
            max_depth: settings.max_query_depth,
            max_complexity: settings.max_query_complexity,
            max_aliases: settings.max_query_aliases,
            max_tokens: settings.max_query_tokens,
        };
        let cache = Arc::new(AuthCache::new(std::time::Duration::from_secs(
            settings.auth_cache_secs,
        )));
        cache.watch(&bus);
        let evidence = graphql::evidence::EvidenceFiles {
            objects: grc_store::objects::Objects::open(
                &settings.object_store_config().map_err(anyhow::Error::msg)?,
            )
            .context("GRC_OBJECT_STORE: cannot open the evidence object store")?,
            max_upload_bytes: settings.max_upload_bytes,
            bus: Some(bus.clone()),
        };
        let schema = graphql::build_schema(
            Some(store.clone()),
            Some(bus.clone()),
            Some(cache.clone()),
            limits,
        );
        let state = web::Data::new(AppState {
            schema,
            auth: Authenticator::new(store.clone(), verifier, cache),
            store,
            redis,
            limiter,
            metrics: Arc::new(Metrics::default()),
            max_body_bytes: settings.max_body_bytes,
            rate_limit_per_minute: settings.rate_limit_per_minute,
            evidence,
        });
        Ok(Self { state, issuer, bus })
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `listener` and builds the server over `services`.
    pub fn bind(listener: TcpListener, services: &Services) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = services.state.clone();
        let exports = web::Data::new(exports::Exports::default());
        let server = HttpServer::new(move || {
            let metrics = state.metrics.clone();
            App::new()
                .app_data(state.clone())
                .wrap_fn(move |req, srv| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| http::valid_request_id(v))
                        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
                    let parent = opentelemetry_sdk::propagation::TraceContextPropagator::new()
                        .extract(&http::HeaderExtractor(req.headers()));
                    let span = tracing::info_span!(
                        "http_request",
                        request_id = %request_id,
                        method = %req.method(),
                        path = %req.path(),
                        status = tracing::field::Empty,
                    );
                    if let Err(e) = span.set_parent(parent) {
                        tracing::debug!(error = ?e, "trace context not applied");
                    }
                    let started = std::time::Instant::now();
                    let fut = span.in_scope(|| srv.call(req));
                    let metrics = metrics.clone();
                    async move {
                        let mut res = fut.await?;
                        let status = res.status().as_u16();
                        tracing::Span::current().record("status", status);
                        metrics.http_status(status);
                        tracing::info!(
                            status,
                            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                            "request finished"
                        );
                        if let Ok(v) = HeaderValue::from_str(&request_id) {
                            res.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static("x-request-id"),
                                v,
                            );
                        }
                        Ok(res)
                    }
                    .instrument(span)
                })
                .route("/graphql", web::post().to(http::graphql_post))
                .route("/graphql", web::get().to(http::graphql_get))
                .route("/graphql/ws", web::get().to(http::graphql_ws))
                .route(
                    "/evidence/{id}/content",
                    web::get().to(http::evidence_content),
                )
                .route(
                    "/shared/{grant}/{artifact}/document",
                    web::get().to(http::shared_document),
                )
                .route("/calendar/{file}", web::get().to(http::calendar_feed))
                .configure(|c| exports::routes(c, exports.clone()))
                .route("/healthz", web::get().to(http::healthz))
                .route("/readyz", web::get().to(http::readyz))
                .route("/metrics", web::get().to(http::metrics))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until a shutdown signal (SIGINT/SIGTERM), finishing in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// `grc worker`'s listener: `GET /metrics` (the registries attached to `metrics`) and
    /// `GET /healthz`, nothing else.
    pub fn metrics_only(listener: TcpListener, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            App::new()
                .route("/healthz", web::get().to(http::healthz))
                .route(
                    "/metrics",
                    web::get().to(move || {
                        let metrics = metrics.clone();
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type(
                                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                )
                                .body(metrics.encode())
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// A handle to stop the server (tests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
