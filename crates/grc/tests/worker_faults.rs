//! `grc worker` as processes against PostgreSQL and Redis, through faults (issue 7, "nothing
//! lost"): two replicas start together (each reminder is scheduled once); the receiver fails its
//! first three calls; both replicas are killed with SIGKILL while the receiver holds a call it
//! has received (between delivery and its record and acknowledgement); Redis is stopped for a
//! minute and comes back empty; the database refuses every connection for 10 s and drops the
//! open ones; two fresh replicas finish the work. Every reminder still arrives on every channel,
//! and after deduplication (the receiver's on `webhook-id`, the mailbox's on `Message-ID`)
//! exactly once.
//!
//! Real parts: the `grc` binary, the machine's PostgreSQL (a fresh database, the application
//! role under row-level security), a private `redis-server` on a free port (so that stopping
//! it disturbs no other test), `aiosmtpd` and the `standardwebhooks` receiver
//! (tests/receivers). `GRC_DELIVERY_TIME_SCALE=0.001` shrinks the retry schedule (5 s, 5 min,
//! 30 min → 5 ms, 0.3 s, 1.8 s); the lease keeps its floor of the longest send plus 5 s (15 s),
//! the stream's claim time 16 s and its requeue time 17 s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, NaiveDate, Utc};
use grc_domain::reminders::{DueKind, RecipientRole};
use grc_domain::webhooks::WebhookSecret;
use grc_store::entity::reminders::webhook_endpoint;
use grc_store::entity::vendors::{certificate, certificate_decision};
use grc_store::testing::{PgTestDb, audited_commit, tenant};
use grc_store::{Store, TenantScope};
use sea_orm::{ConnectionTrait, Database};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Certificates, each with one reminder due now.
const CERTS: usize = 10;
/// How long Redis stays down.
const REDIS_DOWN: Duration = Duration::from_secs(60);

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn receivers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/receivers")
}

/// Starts a receiver script; the process and the port it printed.
fn helper(script: &str, args: &[&str]) -> (Proc, u16) {
    let mut child = Command::new("python3")
        .arg(receivers_dir().join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("{script} did not start (pip install aiosmtpd standardwebhooks)"))
        .parse()
        .unwrap();
    (Proc(child), port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private Redis without persistence: stopping it loses the stream and the group.
fn redis(port: u16, dir: &Path) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--dir", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Proc(child)
}

/// A `grc worker` process; its metrics URL (printed on stdout).
fn worker(env: &[(&str, String)], log: &Path) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_grc"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("GRC_WORKER_BIND", "127.0.0.1:0")
        .env("GRC_DELIVERY_TIME_SCALE", "0.001")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("grc worker: metrics on ")
        .unwrap_or_else(|| {
            panic!(
                "grc worker did not start: {line:?}\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
        .to_owned();
    (Proc(child), addr)
}

fn sigkill(p: &mut Proc) {
    p.0.kill().unwrap();
    p.0.wait().unwrap();
}

/// The receiver's log: (webhook-id, verified, status) per call.
fn calls(log: &Path) -> Vec<(String, bool, String)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["verified"].as_bool().unwrap(),
                v["status"].to_string(),
            )
        })
        .collect()
}

/// The Message-ID of every mail the sink received.
fn message_ids(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter_map(|mail| {
            mail.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("message-id")
                    .then(|| v.trim().to_owned())
            })
        })
        .collect()
}

/// The tenant: send time 00:00 UTC (so today's occurrences are in the first tick's window),
/// certificate expiry reminders to the owners by every channel (the other certificate kinds
/// off), a webhook endpoint for `reminder.due`, and [`CERTS`] certificates expiring in 30 days:
/// one lead-30 reminder each, due today at 00:00Z.
async fn seed(store: &Store, hook_url: &str, secret: &WebhookSecret) -> TenantScope {
    let (scope, _) = tenant(store, "faults").await;
    let mut tx = store.tenant_tx(scope).await.unwrap();
    tx.put_reminder_settings("UTC", 0, 0, "user:test")
        .await
        .unwrap();
    for kind in [DueKind::SurveillanceAudit, DueKind::RecertificationAudit] {
        let (mut p, _) = tx.reminder_policy(kind).await.unwrap();
        p.enabled = false;
        tx.put_reminder_policy(&p, "user:test").await.unwrap();
    }
    let (mut p, _) = tx
        .reminder_policy(DueKind::CertificateExpiry)
        .await
        .unwrap();
    p.recipients.roles = vec![RecipientRole::Owner];
    tx.put_reminder_policy(&p, "user:test").await.unwrap();
    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let ep = tx
        .insert_webhook_endpoint(webhook_endpoint::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            url: hook_url.to_owned(),
            description: String::new(),
            event_types: r#"["reminder.due"]"#.into(),
            enabled: true,
            disabled_reason: None,
            disabled_at: None,
            consecutive_failures: 0,
            first_failure_at: None,
            created_by: "user:test".into(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    tx.add_webhook_secret(ep.id, secret, now).await.unwrap();
    let today = now.date_naive();
    let expires: NaiveDate = today.checked_add_days(Days::new(30)).unwrap();
    for i in 0..CERTS {
        let c = tx
            .insert_certificate(certificate::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                isms_id: None,
                soa_version: None,
                standard: "iso27001".into(),
                edition: "2022".into(),
                certificate_number: format!("C-{i}"),
                certification_body: "Body".into(),
                accreditation_body: None,
                scope: "All".into(),
                sites: "[\"HQ\"]".into(),
                document_id: None,
                notes: String::new(),
                owner_id: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        tx.insert_certificate_decision(certificate_decision::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            certificate_id: c.id,
            kind: "certification".into(),
            decided_on: expires.checked_sub_days(Days::new(3 * 365)).unwrap(),
            expires_on: Some(expires),
            scope: None,
            reason: String::new(),
            created_by: "user:test".into(),
            created_at: now,
        })
        .await
        .unwrap();
    }
    audited_commit(tx, "seed").await;
    scope
}

/// (channel, status) → count of the tenant's deliveries.
async fn delivery_states(store: &Store, t: TenantScope) -> BTreeMap<(String, String), usize> {
    let tx = store.tenant_tx(t).await.unwrap();
    let rows = tx
        .raw_connection()
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT channel, status FROM deliveries WHERE tenant_id = $1",
            [t.tenant_id().0.into()],
        ))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let k = (
            r.try_get::<String>("", "channel").unwrap(),
            r.try_get::<String>("", "status").unwrap(),
        );
        *out.entry(k).or_default() += 1;
    }
    out
}

async fn count(store: &Store, t: TenantScope, sql: &str) -> i64 {
    let tx = store.tenant_tx(t).await.unwrap();
    let row = tx
        .raw_connection()
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            sql,
            [t.tenant_id().0.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_through_kills_and_outages() {
    let dir = std::env::temp_dir().join(format!("grc-faults-{}", Uuid::now_v7().simple()));
    let mails = dir.join("mail");
    std::fs::create_dir_all(&mails).unwrap();
    let hooks = dir.join("calls.jsonl");
    let secret =
        WebhookSecret::from_random_bytes(Uuid::now_v7().as_bytes().repeat(2).as_slice()).unwrap();
    let whsec = secret.to_whsec();
    // Calls 1-3 get 500; call 4 is received, recorded, and answered only after 120 s.
    let (_receiver, hook_port) = helper(
        "webhook_receiver.py",
        &[
            whsec.as_str(),
            hooks.to_str().unwrap(),
            "--fail-first",
            "3",
            "--hold-call",
            "4",
            "--hold-seconds",
            "120",
        ],
    );
    let (_smtp, smtp_port) = helper("smtp_sink.py", &[mails.to_str().unwrap()]);
    let redis_port = free_port();
    let mut redis_server = redis(redis_port, &dir);

    let db = PgTestDb::create("grc_faults_owner", "grc_faults_app", "grc_faults_").await;
    let store = db.app_store().await;
    let t = seed(
        &store,
        &format!("http://127.0.0.1:{hook_port}/hook"),
        &secret,
    )
    .await;
    let env = vec![
        ("GRC_DATABASE_URL", db.app_url()),
        ("GRC_REDIS_URL", format!("redis://127.0.0.1:{redis_port}")),
        (
            "GRC_REDIS_PREFIX",
            format!("faults-{}", Uuid::now_v7().simple()),
        ),
        ("GRC_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
        ("GRC_DATA_DIR", dir.to_str().unwrap().to_owned()),
        (
            "GRC_JWT_SECRET",
            "faults-test-secret-0123456789abcdef0123".to_owned(),
        ),
    ];

    // 1. Two replicas start together: one takes the scheduler's lease.
    let (mut a1, _) = worker(&env, &dir.join("a1.log"));
    let (mut a2, _) = worker(&env, &dir.join("a2.log"));
    // 2. Calls 1-3 fail and are retried; call 4 is held: the receiver has it, the sender waits.
    wait_for("the held call", Duration::from_secs(60), async || {
        calls(&hooks).iter().any(|(_, _, s)| s == "\"held\"")
    })
    .await;
    // 3. Both replicas die between delivery and record/acknowledgement.
    sigkill(&mut a1);
    sigkill(&mut a2);
    let (held_id, _, _) = calls(&hooks)
        .into_iter()
        .find(|(_, _, s)| s == "\"held\"")
        .unwrap();
    // 4. Redis goes down (and will come back empty).
    sigkill(&mut redis_server);
    let redis_down = Instant::now();
    let (mut b1, metrics_b1) = worker(&env, &dir.join("b1.log"));
    let (mut b2, metrics_b2) = worker(&env, &dir.join("b2.log"));
    // 5. Meanwhile the database refuses connections for 10 s and drops the open ones.
    let admin_url = std::env::var("GRC_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = Database::connect(admin_url).await.unwrap();
    let db_name = db.app_url().rsplit('/').next().unwrap().to_owned();
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{db_name}\" ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db_name}' AND pid <> pg_backend_pid();"
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{db_name}\" ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();
    // Nothing could be sent while Redis was down: every webhook call so far is from the first
    // replicas (the three failures and the held one, at most the few made before the kill).
    let before_redis = calls(&hooks).len();
    tokio::time::sleep(REDIS_DOWN.saturating_sub(redis_down.elapsed())).await;
    assert_eq!(
        calls(&hooks).len(),
        before_redis,
        "a call was made while Redis was down"
    );
    let _redis_again = redis(redis_port, &dir);

    // 6. Everything arrives.
    let store = db.app_store().await;
    wait_for(
        "every delivery delivered",
        Duration::from_secs(120),
        async || {
            let s = delivery_states(&store, t).await;
            s.values().sum::<usize>() == 3 * CERTS && s.keys().all(|(_, st)| st == "delivered")
        },
    )
    .await;

    // Each reminder scheduled once, despite four replicas and two cold starts.
    assert_eq!(
        count(
            &store,
            t,
            "SELECT count(*) AS n FROM reminders WHERE tenant_id = $1 AND status = 'queued'"
        )
        .await,
        CERTS as i64
    );
    assert_eq!(
        count(&store, t, "SELECT count(*) AS n FROM outbox_events WHERE tenant_id = $1 AND topic = 'reminder.due'").await,
        CERTS as i64
    );
    // One delivery per reminder and channel: e-mail to the owner, the endpoint, in-app.
    let states = delivery_states(&store, t).await;
    for channel in ["email", "webhook", "in-app"] {
        assert_eq!(
            states.get(&(channel.to_owned(), "delivered".to_owned())),
            Some(&CERTS),
            "{channel}: {states:?}"
        );
    }
    // The receiver: every call verified; after deduplication on webhook-id, one per reminder.
    let all = calls(&hooks);
    assert!(
        all.iter().all(|(_, v, _)| *v),
        "an unverified call: {all:?}"
    );
    let ids: BTreeSet<&str> = all.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids.len(), CERTS, "{all:?}");
    let delivered_ids: BTreeSet<&str> = all
        .iter()
        .filter(|(_, _, s)| s == "204" || s == "\"held\"")
        .map(|(id, _, _)| id.as_str())
        .collect();
    assert_eq!(delivered_ids, ids, "every reminder reached the receiver");
    // The held call was sent again after the kill, with the same webhook-id.
    assert!(
        all.iter().filter(|(id, _, _)| *id == held_id).count() >= 2,
        "the held call was not retried: {all:?}"
    );
    // The mailbox: one message per reminder after deduplication on Message-ID.
    let mids: BTreeSet<String> = message_ids(&mails).into_iter().collect();
    assert_eq!(mids.len(), CERTS);
    // In-app: one notification per reminder (written with the attempt's record: exactly once).
    assert_eq!(
        count(
            &store,
            t,
            "SELECT count(*) AS n FROM notifications WHERE tenant_id = $1"
        )
        .await,
        CERTS as i64
    );
    // The workers' metrics: each has the queue's gauges; the attempts are counted by whichever
    // of the two made them.
    let mut texts = Vec::new();
    for url in [&metrics_b1, &metrics_b2] {
        let text = reqwest::get(url.as_str())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for series in [
            "grc_delivery_queue_depth ",
            "grc_delivery_queue_lag_seconds ",
            "grc_delivery_stream_pending ",
        ] {
            assert!(text.contains(series), "{series} missing from:\n{text}");
        }
        texts.push(text);
    }
    assert!(
        texts.iter().any(|t| t
            .contains("grc_delivery_attempts_total{channel=\"webhook\",outcome=\"delivered\"}")),
        "no delivered webhook attempt counted: {texts:?}"
    );

    // Clean stops.
    for w in [&mut b1, &mut b2] {
        let _ = Command::new("kill")
            .args(["-TERM", &w.0.id().to_string()])
            .status();
    }
    for w in [&mut b1, &mut b2] {
        let start = Instant::now();
        while w.0.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "worker did not stop"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    drop(store);
    db.drop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
