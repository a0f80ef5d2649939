//! The scheduler tick benchmark (issue 7: "a scheduler tick over 1,000 tenants with 100,000
//! tracked due items in under 2 s on PostgreSQL").
//!
//! ```sh
//! cargo bench -p grc-worker --bench scheduler_tick
//! ```
//!
//! Creates a fresh PostgreSQL database (`grc_store::testing::PgTestDb`: migrated by an owner
//! role, used through an application role that cannot bypass row-level security), creates the
//! tenants through the store, seeds their due items with bulk SQL as the owner
//! (`scheduler_tick_seed.sql`), then times `scheduler::tick` as the application role:
//!
//! - **cold**: the very first tick (no `scheduled_until`), covering the 7-day lookback;
//! - **worst**: a 30 s window holding every tenant's local send instant (all tenants send at
//!   09:00 in a Central European zone, UTC+1 on the benchmark's date), on an empty reminder
//!   table: every occurrence of that day is written;
//! - **typical**: the next 30 s window ten minutes later, holding no send instant;
//! - **repeat**: the worst window again (a retried tick): every occurrence is a duplicate.
//!
//! The reminders and outbox events are emptied (and the lease row removed) before each cold
//! and worst tick, as the owner. Environment: `GRC_TEST_PG_URL` (the server, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), `SCHED_BENCH_TENANTS` (default 1000),
//! `SCHED_BENCH_RUNS` (rounds of the four ticks, default 3), `SCHED_BENCH_CONCURRENCY` (tenants
//! scheduled at once, a comma-separated list to compare; default the scheduler's default),
//! `SCHED_BENCH_KEEP=1` to keep the database (its URL is printed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{DateTime, TimeDelta, Utc};
use grc_domain::audit::Actor;
use grc_domain::tenancy::{Email, Name, Slug, TenantKind};
use grc_store::testing::PgTestDb;
use grc_store::{NewTenant, Store};
use grc_worker::scheduler::{DEFAULT_CONCURRENCY, TickOptions, TickReport, tick_with};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SEED: &str = include_str!("scheduler_tick_seed.sql");
/// The benchmark's local date; the worst window holds 09:00 CET (08:00Z) on it.
const TODAY: &str = "2027-03-10";
const OWNER: &str = "grc_sched_bench_owner";
const APP: &str = "grc_sched_bench_app";
const HOLDER: &str = "bench";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The process's peak resident set since the last [`reset_peak_rss`], in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak resident set to the current one (Linux: `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// User and system CPU time of a process, in seconds (`/proc/PID/stat`, 100 ticks a second).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command (in parentheses, which may hold spaces): utime is the 14th
    // field of the line, stime the 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The server processes serving the application role's connections to this database.
async fn backend_pids(owner: &DatabaseConnection) -> Vec<String> {
    owner
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND usename = '{APP}'"
            ),
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// The CPU seconds the database's application connections have used so far.
async fn server_cpu(owner: &DatabaseConnection) -> f64 {
    backend_pids(owner)
        .await
        .iter()
        .map(|p| cpu_seconds(p))
        .sum()
}

async fn create_tenants(store: &Store, n: usize) {
    let next = Arc::new(AtomicUsize::new(1));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i > n {
                    break;
                }
                let slug = format!("sched-bench-{i:04}");
                let new = NewTenant {
                    slug: Slug::parse(&slug).unwrap(),
                    name: Name::parse("name", &format!("Scheduler bench {i}")).unwrap(),
                    kind: TenantKind::CoveredEntity,
                };
                let email = Email::parse(&format!("owner@t{i}.bench.example")).unwrap();
                store
                    .create_tenant(&new, Some((&email, None)), &Actor::System("bench".into()))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Empties what the ticks write, tenant by tenant (row-level security is forced for the owner
/// too, and the append-only delivery attempts refuse a cascading TRUNCATE), and removes the
/// lease, so that the next tick is a first one.
async fn reset(owner: &DatabaseConnection) {
    owner
        .execute_unprepared(
            "DO $$ DECLARE t uuid; BEGIN
               FOR t IN SELECT id FROM tenants LOOP
                 PERFORM set_config('app.tenant_id', t::text, true);
                 DELETE FROM outbox_events;
                 DELETE FROM reminders;
               END LOOP;
             END $$;
             DELETE FROM scheduler_leases;",
        )
        .await
        .unwrap();
}

struct Row {
    kind: &'static str,
    concurrency: usize,
    report: TickReport,
    elapsed: Duration,
    statements: u64,
    peak_rss: Option<f64>,
    client_cpu: f64,
    server_cpu: f64,
}

async fn measure(
    store: &Store,
    owner: &DatabaseConnection,
    options: &TickOptions,
    kind: &'static str,
    now: DateTime<Utc>,
    window_start: Option<DateTime<Utc>>,
) -> Row {
    reset_peak_rss();
    let server_before = server_cpu(owner).await;
    let client_before = cpu_seconds("self");
    let before = store.statements_executed();
    let started = Instant::now();
    let report = tick_with(store, HOLDER, now, window_start, options)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let statements = store.statements_executed() - before;
    let client_cpu = cpu_seconds("self") - client_before;
    let server_cpu = server_cpu(owner).await - server_before;
    assert!(report.complete(), "{kind}: incomplete tick {report:?}");
    Row {
        kind,
        concurrency: options.concurrency,
        report,
        elapsed,
        statements,
        peak_rss: peak_rss_mib(),
        client_cpu,
        server_cpu,
    }
}

fn print_row(r: &Row) {
    let t = r.report.tenants.max(1);
    println!(
        "| {:<8} | {:>2} | {:>5} | {:>7} | {:>6} | {:>7} | {:>5} | {:>7} | {:>6.0} ms | {:>8} | {:>6.1} | {:>5.2} s | {:>5.2} s | {:>7} |",
        r.kind,
        r.concurrency,
        r.report.tenants,
        r.report.items,
        r.report.new_reminders,
        r.report.skipped,
        r.report.duplicates,
        r.report.retired,
        r.elapsed.as_secs_f64() * 1000.0,
        r.statements,
        r.statements as f64 / t as f64,
        r.client_cpu,
        r.server_cpu,
        r.peak_rss
            .map_or_else(|| "?".to_owned(), |m| format!("{m:.1}")),
    );
}

#[tokio::main]
async fn main() {
    let tenants = env_usize("SCHED_BENCH_TENANTS", 1000);
    let runs = env_usize("SCHED_BENCH_RUNS", 3);
    let concurrency: Vec<usize> = std::env::var("SCHED_BENCH_CONCURRENCY")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![DEFAULT_CONCURRENCY]);
    let started = Instant::now();
    let db = PgTestDb::create(OWNER, APP, "grc_sched_bench_").await;
    let store = db.app_store().await;
    println!("database: {}", db.app_url());
    create_tenants(&store, tenants).await;
    println!(
        "{tenants} tenants created through the store in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let owner = Database::connect(db.url_as(OWNER)).await.unwrap();
    let seeded = Instant::now();
    owner
        .execute_unprepared(&SEED.replace("{today}", TODAY))
        .await
        .unwrap();
    owner.execute_unprepared("VACUUM (ANALYZE)").await.unwrap();
    println!(
        "seeded (bulk SQL as the owner, then VACUUM (ANALYZE)) in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let send = at(&format!("{TODAY}T08:00:00Z"));
    let now = send + TimeDelta::seconds(15);
    let last = now - TimeDelta::seconds(30);
    let later = send + TimeDelta::minutes(10);
    println!(
        "\nticks: cold at {now} (window from {}), worst [{last}, {now}), typical [{}, {later}), repeat = worst again",
        now - grc_worker::scheduler::FIRST_TICK_LOOKBACK,
        later - TimeDelta::seconds(30)
    );
    println!(
        "| tick     | concurrency | tenants | items | new | skipped | dup | retired | elapsed | statements | per tenant | client CPU | server CPU | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "load average before the runs: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for c in &concurrency {
        let o = TickOptions { concurrency: *c };
        for _ in 0..runs {
            reset(&owner).await;
            print_row(&measure(&store, &owner, &o, "cold", now, None).await);
            reset(&owner).await;
            print_row(&measure(&store, &owner, &o, "worst", now, Some(last)).await);
            let typical = Some(later - TimeDelta::seconds(30));
            print_row(&measure(&store, &owner, &o, "typical", later, typical).await);
            print_row(&measure(&store, &owner, &o, "repeat", now, Some(last)).await);
        }
    }
    drop(store);
    drop(owner);
    if std::env::var("SCHED_BENCH_KEEP").is_ok_and(|v| v == "1") {
        println!("database kept: {}", db.url_as(OWNER));
    } else {
        db.drop().await;
    }
}
