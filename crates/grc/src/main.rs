//! The `grc` command: a thin layer over the library crates.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use grc_api::config::Settings;
use grc_domain::audit::Actor;
use grc_domain::tenancy::{Email, Name, Role, Slug, TenantKind};
use grc_store::{NewTenant, Store, StoreOptions, TenantScope};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "grc",
    version,
    about = "Multi-tenant GRC API service for healthcare (ISO/IEC 27001, HIPAA)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve {
        /// Address to listen on (overrides GRC_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Seed a demo world on first start and print a token for each demo user.
        #[arg(long)]
        demo: bool,
    },
    /// Run the notification worker.
    Worker,
    /// Apply database migrations (as the tables' owner: GRC_MIGRATION_DATABASE_URL).
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage platform operators (who may create tenants through the API).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Print a JWT for a member of a tenant, signed with the configured HS256 secret.
    Token {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Lifetime: a number with s, m, h or d (default 12h, at most 30d).
        #[arg(long, default_value = "12h")]
        ttl: String,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Framework catalogs: list them, import OSCAL.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// List the frameworks (shared, and a tenant's own with --tenant).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Import an OSCAL catalog or profile (JSON, OSCAL 1.1.x or 1.2.x): as a shared framework,
    /// or with --tenant as that tenant's own; a mapping-collection adds the tenant's own links.
    /// All or nothing.
    Import {
        /// The OSCAL JSON file.
        file: std::path::PathBuf,
        /// The new framework's key (default: the file name, lower-cased).
        #[arg(long)]
        key: Option<String>,
        /// Import for this tenant only.
        #[arg(long)]
        tenant: Option<String>,
        /// For a profile: the framework key to resolve it against.
        #[arg(long)]
        against: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// covered-entity, business-associate or hybrid.
        #[arg(long)]
        kind: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user (created if new) to a tenant with a role.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// owner, compliance_manager, contributor, auditor or viewer.
        #[arg(long)]
        role: String,
        /// Display name, for a new user.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// Make a user (created if new) a platform operator.
    Add {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain of one tenant's audit trail, or of every tenant's.
    Verify {
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// Parses `90s`, `15m`, `12h`, `7d` (or plain seconds).
fn parse_ttl(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("--ttl {s:?}: expected a number with s, m, h or d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => bail!("--ttl {s:?}: the unit must be s, m, h or d"),
    };
    if secs == 0 || secs > 30 * 86_400 {
        bail!("--ttl {s:?}: must be between 1 second and 30 days");
    }
    Ok(Duration::from_secs(secs))
}

fn user_input<T>(r: Result<T, grc_domain::DomainError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

fn default_key(file: &std::path::Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let key: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    key.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

async fn catalog_command(settings: &Settings, command: CatalogCommand) -> anyhow::Result<ExitCode> {
    let store = store_for_commands(settings).await?;
    let cache = grc_api::catalog::CatalogCache::new();
    match command {
        CatalogCommand::List { tenant } => {
            let index = cache.current(&store).await?;
            for f in index.frameworks() {
                println!(
                    "{:<24} {:>5} controls  {} ({})",
                    f.key,
                    f.controls.len(),
                    f.name,
                    f.version
                );
            }
            if let Some(slug) = tenant {
                let t = tenant_by_slug(&store, &slug).await?;
                let tx = store.tenant_tx(TenantScope::new(t.id)).await?;
                for c in tx.custom_frameworks_with_controls().await? {
                    let f = &c.framework;
                    println!(
                        "{:<24} {:>5} controls  {} ({}) [{slug}]",
                        f.key,
                        f.controls.len(),
                        f.name,
                        f.version
                    );
                }
                tx.commit().await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Import {
            file,
            key,
            tenant,
            against,
        } => {
            let meta = std::fs::metadata(&file).with_context(|| format!("{}", file.display()))?;
            let limit = grc_catalog::oscal::MAX_DOCUMENT_BYTES;
            if meta.len() > limit as u64 {
                bail!(
                    "{}: the document is {} bytes; the limit is {limit} bytes",
                    file.display(),
                    meta.len()
                );
            }
            let bytes = std::fs::read(&file).with_context(|| format!("{}", file.display()))?;
            let key = key.unwrap_or_else(|| default_key(&file));
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let req = grc_api::catalog::ImportRequest {
                bytes: &bytes,
                key: &key,
                file_name: file_name.as_deref(),
                resolve_against: against.as_deref(),
            };
            let fail =
                |e: grc_api::catalog::ImportError| anyhow::anyhow!("{}: {e}", file.display());
            match tenant {
                None => {
                    let imported = grc_api::catalog::import_shared(&store, &req)
                        .await
                        .map_err(fail)?;
                    println!(
                        "imported shared framework {} ({} controls)",
                        imported.framework.key,
                        imported.framework.controls.len()
                    );
                }
                Some(slug) => {
                    let t = tenant_by_slug(&store, &slug).await?;
                    let index = cache.current(&store).await?;
                    let shared_names = store.shared_import_names().await?;
                    let mut tx = store.tenant_tx(TenantScope::new(t.id)).await?;
                    let imported =
                        grc_api::catalog::import_for_tenant(&mut tx, index, &shared_names, &req)
                            .await
                            .map_err(fail)?;
                    tx.append_audit(grc_store::AuditEntry {
                        actor: Actor::System("cli".into()),
                        action: if imported.links_only {
                            "mapping.import"
                        } else {
                            "framework.import"
                        }
                        .into(),
                        subject_type: "framework".into(),
                        subject_id: imported.framework.id.to_string(),
                        change: serde_json::json!({
                            "key": imported.framework.key,
                            "controls": imported.framework.controls.len(),
                            "links": imported.links_added,
                        }),
                    })
                    .await?;
                    tx.commit().await?;
                    if imported.links_added > 0 {
                        println!("added {} links for tenant {slug}", imported.links_added);
                    } else {
                        println!(
                            "imported framework {} ({} controls) for tenant {slug}",
                            imported.framework.key,
                            imported.framework.controls.len()
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn store_for_commands(settings: &Settings) -> anyhow::Result<Store> {
    if settings.uses_sqlite() {
        // The embedded database is migrated on first use, as `serve` would.
        grc_api::migrate(settings).await?;
    }
    let store = Store::connect(&settings.effective_database_url(), &StoreOptions::default())
        .await
        .context("GRC_DATABASE_URL: cannot connect to the database")?;
    if store.has_pending_migrations().await? {
        bail!("the database schema is not current: run `grc migrate`");
    }
    Ok(store)
}

async fn tenant_by_slug(store: &Store, slug: &str) -> anyhow::Result<grc_store::TenantRecord> {
    let ptx = store.platform_tx().await?;
    let t = ptx.tenant_by_slug(slug).await?;
    ptx.commit().await?;
    t.with_context(|| format!("no tenant with slug {slug:?}"))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Schema = cli.command {
        print!("{}", grc_api::graphql::sdl());
        return Ok(ExitCode::SUCCESS);
    }
    let mut settings = Settings::load()?;
    let _telemetry =
        grc_api::telemetry::init(settings.otel_endpoint.as_deref()).map_err(anyhow::Error::msg)?;
    let actor = Actor::System("cli".into());
    match cli.command {
        Command::Schema => unreachable!("handled above"),
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            // Checked before anything starts: a malformed relay URL stops `serve` here.
            let delivery = match settings.redis_url {
                None => Some(delivery_config(&settings)?),
                Some(_) => None,
            };
            let store = grc_api::open_store(&settings).await?;
            let services = grc_api::Services::new(&settings, store.clone()).await?;
            // Seed before listening, so that the first answered request sees the demo world.
            let logins = if demo {
                let issuer = services.issuer.as_ref().context(
                    "--demo needs the HS256 secret (GRC_JWT_SECRET or the generated one)",
                )?;
                grc_api::demo::seed(&store, issuer, Duration::from_secs(12 * 3600)).await?
            } else {
                Vec::new()
            };
            let listener = std::net::TcpListener::bind(settings.bind)
                .with_context(|| format!("GRC_BIND {}: cannot listen", settings.bind))?;
            let addr = listener.local_addr()?;
            let app = grc_api::Application::bind(listener, &services)?;
            println!("grc is listening on http://{addr}  (GraphiQL: http://{addr}/graphql)");
            if demo {
                println!(
                    "\nDemo users (tokens valid 12 hours; send X-Tenant: <slug> for the tenant):"
                );
                for l in &logins {
                    let role = l
                        .role
                        .map_or("platform operator".to_owned(), |r| r.to_string());
                    println!(
                        "\n  {} — {} — {}\n  {}",
                        l.tenant.as_deref().unwrap_or("(no tenant)"),
                        l.email,
                        role,
                        l.token
                    );
                }
                if let Some(first) = logins.first() {
                    println!(
                        "\nTry:\n  curl -s http://{addr}/graphql -H 'Content-Type: application/json' \\\n    -H 'Authorization: Bearer {}' \\\n    -d '{{\"query\":\"{{ viewer {{ user {{ email }} memberships {{ role tenant {{ slug name }} }} }} }}\"}}'",
                        first.token
                    );
                }
            }
            // Without Redis the reminder scheduler and the notification deliveries run in this
            // process, the deliveries fed from the outbox in the database (issue 7, the
            // embedded default). The scheduler's lease keeps it to one replica at a time.
            let (stop_delivery, stop_rx) = tokio::sync::watch::channel(false);
            let embedded = match delivery {
                Some(config) => {
                    let metrics = Arc::new(grc_worker::WorkerMetrics::default());
                    services.state.metrics.attach(worker_registry(&metrics));
                    // In-app notifications reach `notificationReceived` subscribers at once.
                    let bus = services.bus.clone();
                    let deliverer = Arc::new(
                        grc_worker::deliver::Deliverer::new(store.clone(), config)?
                            .with_metrics(metrics.clone())
                            .on_notification(grc_worker::NotifyHook::new(move |p| bus.notify(p))),
                    );
                    Some((
                        tokio::spawn(grc_worker::run(store.clone(), metrics, stop_rx.clone())),
                        tokio::spawn(grc_worker::run_embedded_with(deliverer, stop_rx)),
                    ))
                }
                None => None,
            };
            app.run_until_stopped().await?;
            let _ = stop_delivery.send(true);
            if let Some((scheduler, delivery)) = embedded {
                let stopped = async { (scheduler.await, delivery.await) };
                match tokio::time::timeout(Duration::from_secs(15), stopped).await {
                    Ok((Ok(Err(e)), _)) => tracing::warn!(error = %e, "scheduler failed"),
                    Ok((_, Ok(Err(e)))) => tracing::warn!(error = %e, "delivery loop failed"),
                    Ok(_) => {}
                    Err(_) => tracing::warn!("scheduler and delivery did not stop within 15 s"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker => {
            // The same checks as `serve`: schema current, no role that bypasses row-level security.
            let store = grc_api::open_store(&settings).await?;
            let (tx, rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = tx.send(true);
            });
            let config = delivery_config(&settings)?;
            let metrics = Arc::new(grc_worker::WorkerMetrics::default());
            // `/metrics` and `/healthz` on GRC_WORKER_BIND.
            let exposition = Arc::new(grc_api::metrics::Metrics::default());
            exposition.attach(worker_registry(&metrics));
            let listener =
                std::net::TcpListener::bind(settings.worker_bind).with_context(|| {
                    format!("GRC_WORKER_BIND {}: cannot listen", settings.worker_bind)
                })?;
            println!(
                "grc worker: metrics on http://{}/metrics",
                listener.local_addr()?
            );
            let server = grc_api::Application::metrics_only(listener, exposition)?;
            let server_handle = server.handle();
            let server = tokio::spawn(server.run_until_stopped());
            // The delivery side next to the scheduler's tick: the Redis Streams queue when
            // GRC_REDIS_URL is set, else fed from the database outbox.
            let delivery = match &settings.redis_url {
                Some(url) => {
                    use secrecy::ExposeSecret;
                    let streams =
                        grc_worker::StreamConfig::new(url.expose_secret(), &settings.redis_prefix)
                            .with_time_scale(settings.delivery_time_scale, config.lease);
                    // In-app notifications reach the API replicas' subscribers through Redis.
                    let notifier = grc_worker::RedisNotifier::new(
                        url.expose_secret(),
                        &settings.redis_prefix,
                    )?;
                    let deliverer = Arc::new(
                        grc_worker::deliver::Deliverer::new(store.clone(), config)?
                            .with_metrics(metrics.clone())
                            .on_notification(notifier.hook()),
                    );
                    tokio::spawn(grc_worker::run_streams(
                        deliverer,
                        streams,
                        metrics.clone(),
                        rx.clone(),
                    ))
                }
                None => tokio::spawn(grc_worker::run_embedded(
                    store.clone(),
                    config,
                    metrics.clone(),
                    rx.clone(),
                )),
            };
            grc_worker::run(store, metrics, rx).await?;
            delivery.await??;
            server_handle.stop(true).await;
            let _ = server.await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog { command } => catalog_command(&settings, command).await,
        Command::Migrate => {
            let r = grc_api::migrate(&settings).await?;
            println!("migrations applied");
            println!(
                "catalogs: {} frameworks loaded, {} unchanged, {} retired; controls {} added, {} changed, {} retired; \
                 crosswalks {} loaded, {} unchanged, {} retired; links {} added, {} changed, {} retired; revision {}",
                r.frameworks_loaded,
                r.frameworks_unchanged,
                r.frameworks_retired,
                r.controls_inserted,
                r.controls_updated,
                r.controls_retired,
                r.crosswalks_loaded,
                r.crosswalks_unchanged,
                r.crosswalks_retired,
                r.links_inserted,
                r.links_updated,
                r.links_retired,
                r.revision
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant {
            command: TenantCommand::Create { slug, name, kind },
        } => {
            let new = NewTenant {
                slug: user_input(Slug::parse(&slug))?,
                name: user_input(Name::parse("name", &name))?,
                kind: user_input(kind.parse::<TenantKind>())?,
            };
            let store = store_for_commands(&settings).await?;
            let (t, _, _) = store
                .create_tenant(&new, None, &actor)
                .await
                .map_err(|e| match e {
                    grc_store::StoreError::Conflict(_) => {
                        anyhow::anyhow!("a tenant with slug {slug:?} exists")
                    }
                    other => other.into(),
                })?;
            println!(
                "created tenant {} ({}, {}) id {}",
                t.slug,
                t.name,
                t.kind.as_str(),
                t.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    tenant,
                    email,
                    role,
                    name,
                },
        } => {
            let email = user_input(Email::parse(&email))?;
            let role: Role = user_input(role.parse())?;
            let name = name
                .as_deref()
                .map(|n| user_input(Name::parse("name", n)))
                .transpose()?;
            let store = store_for_commands(&settings).await?;
            let t = tenant_by_slug(&store, &tenant).await?;
            let ptx = store.platform_tx().await?;
            let (user, _) = ptx.ensure_user(&email, name.as_ref()).await?;
            let mut tx = ptx.enter_tenant(TenantScope::new(t.id)).await?;
            if tx.member(user.id).await?.is_some() {
                bail!("{email} is already a member of {tenant}");
            }
            tx.add_member_recorded(user.id, role, &actor).await?;
            tx.commit().await?;
            println!("added {email} to {tenant} as {role}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Operator {
            command: OperatorCommand::Add { email },
        } => {
            let email = user_input(Email::parse(&email))?;
            let store = store_for_commands(&settings).await?;
            let ptx = store.platform_tx().await?;
            let (user, _) = ptx.ensure_user(&email, None).await?;
            ptx.set_platform_operator(user.id, true).await?;
            ptx.commit().await?;
            println!("{email} is a platform operator");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { tenant, email, ttl } => {
            let ttl = parse_ttl(&ttl)?;
            let email = user_input(Email::parse(&email))?;
            let secret = grc_api::auth::resolve_secret(&settings)
                .map_err(anyhow::Error::msg)?
                .context("grc token signs with the HS256 secret: set GRC_JWT_SECRET")?;
            let issuer =
                grc_api::auth::TokenIssuer::new(&settings, &secret).map_err(anyhow::Error::msg)?;
            let store = store_for_commands(&settings).await?;
            let t = tenant_by_slug(&store, &tenant).await?;
            let ptx = store.platform_tx().await?;
            let user = ptx
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            ptx.commit().await?;
            let tx = store.tenant_tx(TenantScope::new(t.id)).await?;
            let member = tx.member(user.id).await?;
            tx.commit().await?;
            if member.is_none() {
                bail!("{email} is not a member of {tenant}");
            }
            println!(
                "{}",
                issuer
                    .issue(&user.subject, ttl)
                    .map_err(anyhow::Error::msg)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { tenant },
        } => {
            let store = store_for_commands(&settings).await?;
            let (ids, names) = match tenant {
                Some(slug) => {
                    let t = tenant_by_slug(&store, &slug).await?;
                    (Some(vec![t.id]), vec![(t.id, t.slug)])
                }
                None => {
                    let ptx = store.platform_tx().await?;
                    let all = ptx.all_tenants().await?;
                    ptx.commit().await?;
                    (None, all.into_iter().map(|t| (t.id, t.slug)).collect())
                }
            };
            let results = store.verify_audit(ids).await?;
            let mut broken = 0;
            for r in results {
                let slug = names
                    .iter()
                    .find(|(id, _)| *id == r.tenant_id)
                    .map_or("?", |(_, s)| s.as_str());
                match r.result {
                    Ok(s) => println!("{slug}: ok, {} events", s.events),
                    Err(b) => {
                        broken += 1;
                        println!("{slug}: BROKEN: {b}");
                    }
                }
            }
            Ok(if broken == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

/// The delivery loop's settings from the configuration (`GRC_SMTP_URL`, `GRC_SMTP_FROM`,
/// `GRC_DELIVERY_CONCURRENCY`, `GRC_DELIVERY_TIME_SCALE`).
/// A malformed relay URL or sender stops the command at start, not at the first e-mail.
fn delivery_config(settings: &Settings) -> anyhow::Result<grc_worker::DeliveryConfig> {
    use secrecy::ExposeSecret;
    let config = grc_worker::DeliveryConfig {
        smtp_url: settings
            .smtp_url
            .as_ref()
            .map(|u| u.expose_secret().to_owned()),
        smtp_from: settings.smtp_from.clone(),
        concurrency: settings.delivery_concurrency,
        ..grc_worker::DeliveryConfig::default()
    }
    .with_time_scale(settings.delivery_time_scale);
    config.check()?;
    Ok(config)
}

/// The worker's metrics in a registry of their own, for the process's `/metrics`.
fn worker_registry(metrics: &grc_worker::WorkerMetrics) -> prometheus_client::registry::Registry {
    let mut registry = prometheus_client::registry::Registry::with_prefix("grc");
    metrics.register(&mut registry);
    registry
}

/// SIGINT or SIGTERM (what a container runtime sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// mimalloc: GraphQL answers are built from many small allocations (a crosswalk answer holds
/// about 5,000 values), where it is markedly faster than the system allocator (ADR 0008).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl() {
        assert_eq!(parse_ttl("90").ok(), Some(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m").ok(), Some(Duration::from_secs(900)));
        assert_eq!(parse_ttl("12h").ok(), Some(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("30d").ok(), Some(Duration::from_secs(2_592_000)));
        for bad in ["", "0", "31d", "1w", "h", "-1h", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
