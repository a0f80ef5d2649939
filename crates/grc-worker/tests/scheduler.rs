//! The reminder scheduler on both backends (issue 7, "Scheduler"): the send instant in the
//! tenant's zone across a daylight-saving change, a due date of February 29, consecutive
//! windows, idempotent re-runs, two schedulers racing for the lease, a renewed certificate's
//! reminders retired, and tenant isolation. Each scenario gets a fresh database, so that the
//! tick's counts (which cover every tenant) are exactly the scenario's. PostgreSQL must be
//! running (`GRC_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`): the
//! test fails, never skips, without it; the scheduler runs there as an application role that
//! cannot bypass row-level security.
//!
//! Every expected date and instant is computed by hand in the comments, from the rules in
//! `grc_domain::reminders` (default certificate lead times 90, 60, 30, 7, 1 days; 09:00 local;
//! half-open windows; catch-up sends the latest missed occurrence and skips the older ones).

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use grc_domain::audit::Actor;
use grc_domain::reminders::DueKind;
use grc_domain::tenancy::{Email, Name, Slug, TenantKind};
use grc_store::entity::vendors::{certificate, certificate_decision};
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store};
use grc_store::{NewTenant, Store, TenantScope};
use grc_worker::scheduler::{LEASE_TTL, TOPIC, TickOptions, TickReport, tick, tick_with};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A tenant in `zone` whose only enabled certificate policy is the expiry's (the surveillance
/// and recertification policies are disabled, so that the counts are the expiry's alone).
async fn tenant(store: &Store, slug: &str, zone: &str) -> TenantScope {
    let new = NewTenant {
        slug: Slug::parse(slug).unwrap(),
        name: Name::parse("name", slug).unwrap(),
        kind: TenantKind::CoveredEntity,
    };
    let email = Email::parse(&format!("owner@{slug}.example")).unwrap();
    let (t, _, _) = store
        .create_tenant(&new, Some((&email, None)), &Actor::System("test".into()))
        .await
        .unwrap();
    let scope = TenantScope::new(t.id);
    let mut tx = store.tenant_tx(scope).await.unwrap();
    tx.put_reminder_settings(zone, 9, 0, "user:test")
        .await
        .unwrap();
    for kind in [DueKind::SurveillanceAudit, DueKind::RecertificationAudit] {
        let (mut p, _) = tx.reminder_policy(kind).await.unwrap();
        p.enabled = false;
        tx.put_reminder_policy(&p, "user:test").await.unwrap();
    }
    audited_commit(tx, "settings").await;
    scope
}

fn decision(cert: Uuid, kind: &str, on: &str, expires: &str) -> certificate_decision::Model {
    certificate_decision::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        certificate_id: cert,
        kind: kind.into(),
        decided_on: day(on),
        expires_on: Some(day(expires)),
        scope: None,
        reason: String::new(),
        created_by: "user:test".into(),
        created_at: Utc::now(),
    }
}

/// An ISO 27001:2022 certificate decided on `decided` and expiring on `expires`.
async fn cert(store: &Store, scope: TenantScope, decided: &str, expires: &str) -> Uuid {
    let mut tx = store.tenant_tx(scope).await.unwrap();
    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let c = tx
        .insert_certificate(certificate::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            isms_id: None,
            soa_version: None,
            standard: "iso27001".into(),
            edition: "2022".into(),
            certificate_number: "C-1".into(),
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
    let mut d = decision(c.id, "certification", decided, expires);
    d.created_at = now;
    tx.insert_certificate_decision(d).await.unwrap();
    audited_commit(tx, "certificate").await;
    c.id
}

/// The certificate-expiry reminders of a certificate: (due date, lead, send instant, status).
async fn expiry_reminders(
    store: &Store,
    scope: TenantScope,
    cert: Uuid,
) -> Vec<(NaiveDate, String, DateTime<Utc>, String)> {
    let tx = store.tenant_tx(scope).await.unwrap();
    let rows = tx.reminders_of("Certificate", cert).await.unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter()
        .filter(|r| r.kind == "certificate-expiry")
        .map(|r| (r.due_on, r.lead, r.send_at, r.status))
        .collect()
}

/// The tenant's `reminder.due` outbox events (by its id: SQLite has no row-level security).
async fn events(store: &Store, scope: TenantScope) -> i64 {
    let tx = store.tenant_tx(scope).await.unwrap();
    let backend = tx.raw_connection().get_database_backend();
    let p = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let row = tx
        .raw_connection()
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT count(*) AS n FROM outbox_events WHERE topic = '{TOPIC}' AND tenant_id = {p}"),
            [scope.tenant_id().0.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn counts(r: &TickReport) -> (u64, u64, u64, u64) {
    (r.new_reminders, r.skipped, r.duplicates, r.retired)
}

const HOLDER: &str = "scheduler-a";

/// New York across the spring-forward change. US DST 2026 begins on the second Sunday of March:
/// March 1, 2026 is a Sunday, so the change is on Sunday 2026-03-08 (02:00 EST → 03:00 EDT).
/// A certificate expiring on 2026-04-08 has its 30-day reminder on 2026-04-08 − 30 days =
/// 2026-03-09 (March has 31 days: April 8 − 8 days = March 31, − 22 more = March 9), a Monday
/// in EDT (UTC−4): 09:00 local = 13:00Z, not the 14:00Z that EST (UTC−5) would give.
async fn dst(store: &Store) {
    let a = tenant(store, "ny", "America/New_York").await;
    let c = cert(store, a, "2023-04-09", "2026-04-08").await;
    // [12:00Z, 13:00Z): 13:00Z is the window's excluded end, so nothing yet.
    let r = tick(
        store,
        HOLDER,
        at("2026-03-09T13:00:00Z"),
        Some(at("2026-03-09T12:00:00Z")),
    )
    .await
    .unwrap();
    assert!(r.leased);
    assert_eq!(r.tenants, 1);
    assert_eq!(counts(&r), (0, 0, 0, 0));
    // [13:00Z, 13:01Z): the reminder, sent at exactly 13:00Z.
    let r = tick(
        store,
        HOLDER,
        at("2026-03-09T13:01:00Z"),
        Some(at("2026-03-09T13:00:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (1, 0, 0, 0));
    assert_eq!(
        expiry_reminders(store, a, c).await,
        vec![(
            day("2026-04-08"),
            "lead-30".to_owned(),
            at("2026-03-09T13:00:00Z"),
            "queued".to_owned()
        )]
    );
    assert_eq!(events(store, a).await, 1);
    // The same window again (a retried tick): nothing new, one duplicate, still one event.
    let r = tick(
        store,
        HOLDER,
        at("2026-03-09T13:01:00Z"),
        Some(at("2026-03-09T13:00:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (0, 0, 1, 0));
    assert_eq!(events(store, a).await, 1);
    // [13:01Z, 14:01Z) holds 14:00Z, where an EST reading would have put it: nothing.
    let r = tick(
        store,
        HOLDER,
        at("2026-03-09T14:01:00Z"),
        Some(at("2026-03-09T13:01:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (0, 0, 0, 0));

    // Renewed: the 7-day reminder (2026-04-08 − 7 = 2026-04-01, EDT, 13:00Z) is written...
    let r = tick(
        store,
        HOLDER,
        at("2026-04-01T13:30:00Z"),
        Some(at("2026-04-01T12:30:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (1, 0, 0, 0));
    // ... then a recertification decided on 2026-04-02 moves the expiry to 2029-04-08. The next
    // tick finds an unsent reminder of 2026-04-08 (the 7-day one, within the 4-day horizon)
    // and retires every unsent reminder of the old date: the 7-day one and the 30-day one
    // (both still "queued": the delivery side has not moved them).
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.insert_certificate_decision(decision(c, "recertification", "2026-04-02", "2029-04-08"))
        .await
        .unwrap();
    audited_commit(tx, "renewal").await;
    let r = tick(
        store,
        HOLDER,
        at("2026-04-02T13:00:00Z"),
        Some(at("2026-04-02T12:00:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (0, 0, 0, 2));
    let rows = expiry_reminders(store, a, c).await;
    assert_eq!(
        rows.iter()
            .map(|(d, l, _, s)| (*d, l.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (day("2026-04-08"), "lead-30", "retired"),
            (day("2026-04-08"), "lead-7", "retired"),
        ]
    );
    let tx = store.tenant_tx(a).await.unwrap();
    let reasons: Vec<_> = tx
        .reminders_of("Certificate", c)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.retired_reason)
        .collect();
    tx.rollback().await.unwrap();
    assert_eq!(
        reasons,
        vec![Some("the due date moved to 2029-04-08".to_owned()); 2]
    );
    // Retiring again finds nothing; the new expiry's first reminder (90 days before
    // 2029-04-08 = 2029-01-08) is years away.
    let r = tick(
        store,
        HOLDER,
        at("2026-04-02T14:00:00Z"),
        Some(at("2026-04-02T13:00:00Z")),
    )
    .await
    .unwrap();
    assert_eq!(counts(&r), (0, 0, 0, 0));
}

/// A due date of 2028-02-29 (2028 is a leap year), in UTC, ticked once a day from 2027-11-30
/// to 2028-03-01. The lead dates, counted back day by day:
/// − 1 = 2028-02-28; − 7 = 2028-02-22; − 30 = 2028-01-30 (Feb 29 − 29 days = Jan 31, − 1);
/// − 60 = 2027-12-31 (Jan 30 − 30 days: Jan has 31, so Dec 31); − 90 = 2027-12-01 (Dec 31 − 30).
/// Each at 09:00Z; the first overdue repetition, 2028-03-07, is after the last window. Each is
/// written once, in the daily window that holds it, and nothing is skipped.
async fn leap_day(store: &Store) {
    let a = tenant(store, "leap", "UTC").await;
    let c = cert(store, a, "2027-03-01", "2028-02-29").await;
    let mut from = at("2027-11-30T00:00:00Z");
    let end = at("2028-03-01T00:00:00Z");
    let mut total = TickReport::default();
    let mut ticks = 0;
    while from < end {
        let to = from + TimeDelta::days(1);
        let r = tick(store, HOLDER, to, Some(from)).await.unwrap();
        assert!(r.leased);
        total.new_reminders += r.new_reminders;
        total.skipped += r.skipped;
        total.duplicates += r.duplicates;
        ticks += 1;
        from = to;
    }
    // 2027-11-30 to 2028-03-01: 1 + 31 + 31 + 29 = 92 days.
    assert_eq!(ticks, 92);
    assert_eq!(counts(&total), (5, 0, 0, 0));
    let lead = |d: &str, l: &str, s: &str| (day("2028-02-29"), l.to_owned(), at(s), d.to_owned());
    assert_eq!(
        expiry_reminders(store, a, c).await,
        vec![
            lead("queued", "lead-90", "2027-12-01T09:00:00Z"),
            lead("queued", "lead-60", "2027-12-31T09:00:00Z"),
            lead("queued", "lead-30", "2028-01-30T09:00:00Z"),
            lead("queued", "lead-7", "2028-02-22T09:00:00Z"),
            lead("queued", "lead-1", "2028-02-28T09:00:00Z"),
        ]
    );
    assert_eq!(events(store, a).await, 5);
}

/// A scheduler starting cold (no previous tick) on 2028-02-28T10:00Z covers the week before
/// (the first-tick lookback): [2028-02-21T10:00Z, 2028-02-28T10:00Z) holds the 7-day reminder
/// (2028-02-22T09:00Z) and the 1-day one (2028-02-28T09:00Z): catch-up sends the latest and
/// records the 7-day one as skipped. The 30-day one (2028-01-30) is older than the lookback.
async fn first_tick(store: &Store) {
    let a = tenant(store, "cold", "UTC").await;
    let c = cert(store, a, "2027-03-01", "2028-02-29").await;
    let r = tick(store, HOLDER, at("2028-02-28T10:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(r.from, Some(at("2028-02-21T10:00:00Z")));
    assert_eq!(counts(&r), (1, 1, 0, 0));
    let rows = expiry_reminders(store, a, c).await;
    assert_eq!(
        rows.iter()
            .map(|(_, l, t, s)| (l.as_str(), *t, s.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("lead-7", at("2028-02-22T09:00:00Z"), "skipped"),
            ("lead-1", at("2028-02-28T09:00:00Z"), "queued"),
        ]
    );
    // Only the sent one has an event.
    assert_eq!(events(store, a).await, 1);
    // The next tick starts where the first ended (`scheduled_until` on the lease), not a week
    // back: nothing is seen again.
    let r = tick(store, HOLDER, at("2028-02-28T10:00:30Z"), None)
        .await
        .unwrap();
    assert_eq!(r.from, Some(at("2028-02-28T10:00:00Z")));
    assert_eq!(counts(&r), (0, 0, 0, 0));
}

/// An outage longer than the first-tick lookback loses nothing: the window starts where the
/// last complete tick ended. The certificate expires 2028-02-29 (overdue from 2028-03-01); the
/// weekly overdue reminders go on due + 7 = 2028-03-07 and due + 14 = 2028-03-14, each at
/// 09:00Z. A tick at 2028-02-28T10:00Z, then nothing until 2028-03-20T10:00Z (21 days, three
/// times the 7-day lookback): the window [2028-02-28T10:00Z, 2028-03-20T10:00Z) holds both;
/// catch-up sends the latest (overdue-2, 2028-03-14) and records overdue-1 as skipped.
async fn long_outage(store: &Store) {
    let a = tenant(store, "outage", "UTC").await;
    let c = cert(store, a, "2027-03-01", "2028-02-29").await;
    let r = tick(store, HOLDER, at("2028-02-28T10:00:00Z"), None)
        .await
        .unwrap();
    assert!(r.complete());
    // Another replica after the first's lease lapsed (5 minutes): a new fencing token, the
    // window still from the recorded instant.
    let r = tick(store, "scheduler-b", at("2028-03-20T10:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(r.fencing_token, Some(2));
    assert_eq!(r.from, Some(at("2028-02-28T10:00:00Z")));
    let overdue: Vec<_> = expiry_reminders(store, a, c)
        .await
        .into_iter()
        .filter(|(_, l, _, _)| l.starts_with("overdue"))
        .map(|(_, l, t, s)| (l, t, s))
        .collect();
    assert_eq!(
        overdue,
        vec![
            (
                "overdue-1".to_owned(),
                at("2028-03-07T09:00:00Z"),
                "skipped".to_owned()
            ),
            (
                "overdue-2".to_owned(),
                at("2028-03-14T09:00:00Z"),
                "queued".to_owned()
            ),
        ]
    );
}

/// Two schedulers tick concurrently over the same window: one holds the lease and writes the
/// reminder, the other does nothing. After the winner's lease lapses (5 minutes), the other
/// takes it over with the next fencing token and, covering the window again, writes nothing.
/// Tenant B sees none of A's reminders.
async fn race_and_isolation(store: &Store) {
    let a = tenant(store, "race-a", "America/New_York").await;
    let b = tenant(store, "race-b", "America/New_York").await;
    let c = cert(store, a, "2023-04-09", "2026-04-08").await;
    let now = at("2026-03-09T13:01:00Z");
    let last = Some(at("2026-03-09T13:00:00Z"));
    let (x, y) = tokio::join!(
        tick(store, "replica-x", now, last),
        tick(store, "replica-y", now, last)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x.leased != y.leased, "exactly one holds the lease");
    let (won, lost, loser) = if x.leased {
        (x, y, "replica-y")
    } else {
        (y, x, "replica-x")
    };
    assert_eq!(won.fencing_token, Some(1));
    assert_eq!(counts(&won), (1, 0, 0, 0));
    assert_eq!(won.tenants, 2);
    assert_eq!(lost, TickReport::default());
    assert_eq!(expiry_reminders(store, a, c).await.len(), 1);
    assert_eq!(events(store, a).await, 1);
    // The lease runs to now + 5 minutes; at that instant it has lapsed (expires_at <= now).
    let later = now + LEASE_TTL;
    let r = tick(store, loser, later, last).await.unwrap();
    assert!(r.leased);
    assert_eq!(r.fencing_token, Some(2));
    assert_eq!(counts(&r), (0, 0, 1, 0));
    assert_eq!(events(store, a).await, 1);

    let tx = store.tenant_tx(b).await.unwrap();
    assert!(tx.reminders_of("Certificate", c).await.unwrap().is_empty());
    assert!(tx.due_items(day("2026-03-09")).await.unwrap().is_empty());
    assert!(
        tx.unsent_reminders(at("2000-01-01T00:00:00Z"))
            .await
            .unwrap()
            .is_empty()
    );
    // On PostgreSQL below the repositories too: raw SQL without a tenant predicate in B's
    // transaction sees no reminder and no outbox event (row-level security).
    if tx.raw_connection().get_database_backend() == DbBackend::Postgres {
        for table in ["reminders", "outbox_events"] {
            let row = tx
                .raw_connection()
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT count(*) AS n FROM {table}"),
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "{table}");
        }
    }
    tx.rollback().await.unwrap();
    assert_eq!(events(store, b).await, 0);
    // A's own view has the certificate's items: expiry and recertification on 2026-04-08 (the
    // surveillance items depend on the audits recorded; none are, so they are there too).
    let tx = store.tenant_tx(a).await.unwrap();
    let items = tx.due_items(day("2026-03-09")).await.unwrap();
    tx.rollback().await.unwrap();
    let expiry: Vec<_> = items
        .iter()
        .filter(|i| i.kind == DueKind::CertificateExpiry)
        .map(|i| (i.subject_type, i.subject_id, i.due_on, i.resolved))
        .collect();
    assert_eq!(expiry, vec![("Certificate", c, day("2026-04-08"), false)]);
    assert!(
        items
            .iter()
            .any(|i| i.kind == DueKind::RecertificationAudit && i.due_on == day("2026-04-08"))
    );
}

/// Several tenants scheduled at once (`tick_with`, 4 at a time; on SQLite the pool's one
/// connection makes it one at a time): each tenant's 30-day reminder is written once, in its
/// own tenant, with its one event, exactly as one at a time; the same window again writes
/// nothing. Tenant `i`'s certificate expires on 2026-04-08 + i days, so its 30-day reminder is
/// sent on 2026-03-09 + i days at 09:00 UTC: a window over the six days holds all six (each is
/// the only occurrence of its item there: the 7-day ones come from 2026-04-01 on).
async fn concurrent_tenants(store: &Store) {
    let mut tenants = Vec::new();
    for i in 0..6i64 {
        let a = tenant(store, &format!("many-{i}"), "UTC").await;
        let expires = day("2026-04-08") + TimeDelta::days(i);
        let decided = expires - TimeDelta::days(3 * 365);
        let c = cert(
            store,
            a,
            &decided.format("%Y-%m-%d").to_string(),
            &expires.format("%Y-%m-%d").to_string(),
        )
        .await;
        tenants.push((a, c, expires));
    }
    let options = TickOptions { concurrency: 4 };
    let (from, now) = (at("2026-03-09T00:00:00Z"), at("2026-03-15T00:00:00Z"));
    let r = tick_with(store, HOLDER, now, Some(from), &options)
        .await
        .unwrap();
    assert!(r.complete());
    assert_eq!((r.tenants, r.failed_tenants), (6, 0));
    assert_eq!(counts(&r), (6, 0, 0, 0));
    for (i, (a, c, expires)) in tenants.iter().enumerate() {
        let send = (*expires - TimeDelta::days(30))
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc();
        assert_eq!(
            expiry_reminders(store, *a, *c).await,
            vec![(*expires, "lead-30".to_owned(), send, "queued".to_owned())],
            "tenant {i}"
        );
        assert_eq!(events(store, *a).await, 1, "tenant {i}");
        // No other tenant's certificate has reminders in this tenant.
        for (j, (_, other, _)) in tenants.iter().enumerate() {
            if i != j {
                assert!(expiry_reminders(store, *a, *other).await.is_empty());
            }
        }
    }
    let r = tick_with(store, HOLDER, now, Some(from), &options)
        .await
        .unwrap();
    assert_eq!((r.tenants, r.failed_tenants), (6, 0));
    assert_eq!(counts(&r), (0, 0, 6, 0));
}

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_on_sqlite() {
    for scenario in 0..6 {
        // A file, not `:memory:`, so that the pool's connections and the race share one
        // database.
        let (store, dir) = sqlite_store("grc-worker-sched").await;
        match scenario {
            0 => dst(&store).await,
            1 => leap_day(&store).await,
            2 => first_tick(&store).await,
            3 => long_outage(&store).await,
            4 => race_and_isolation(&store).await,
            _ => concurrent_tenants(&store).await,
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Each scenario: a fresh database migrated by an owner; the store connects as an application
/// role that cannot bypass row-level security.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_on_postgres() {
    for scenario in 0..6 {
        let db = PgTestDb::create("grc_worker_test_owner", "grc_worker_test_app", "grc_wk_").await;
        let store = db.app_store().await;
        match scenario {
            0 => dst(&store).await,
            1 => leap_day(&store).await,
            2 => first_tick(&store).await,
            3 => long_outage(&store).await,
            4 => race_and_isolation(&store).await,
            _ => concurrent_tenants(&store).await,
        }
        drop(store);
        db.drop().await;
    }
}
