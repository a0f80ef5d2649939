//! The reminder and notification store (issue 7) on both backends: reminders written once under
//! their idempotency key, retirement when a due date changes, deliveries and their attempts,
//! the scheduler's lease with its fencing token, the worker's scan across tenants, tokens, and
//! tenant isolation (on PostgreSQL also below the repositories: row-level security as the
//! application role). PostgreSQL must be running (`GRC_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`): the test fails, never skips, without it.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use grc_domain::reminders::{
    Channel, DeliveryTarget, DigestOption, DueKind, Occurrence, RecipientRole, Step, delivery_key,
};
use grc_domain::webhooks::{DeliveryOutcome, EndpointHealth, WebhookSecret};
use grc_store::entity::reminders::{notification, webhook_endpoint};
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store, tenant};
use grc_store::{
    AttemptRecord, DeliveryFilter, DeliveryStatus, NewDelivery, PageRequest, PeerEvent,
    ReminderStatus, Store, StoreError, TenantScope,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn first(n: u64) -> PageRequest<Uuid> {
    PageRequest::Forward {
        first: n,
        after: None,
    }
}

/// A certificate-expiry occurrence of `subject` due on `due`, `days` ahead, sent at 09:00 UTC.
fn occurrence(tenant: TenantScope, subject: Uuid, due: &str, days: u16) -> Occurrence {
    let due_on = day(due);
    let local_date = due_on - TimeDelta::days(i64::from(days));
    Occurrence {
        tenant_id: tenant.tenant_id().0,
        subject_id: subject,
        kind: DueKind::CertificateExpiry,
        due_on,
        step: Step::Lead { days },
        local_date,
        send_at: local_date.and_hms_opt(9, 0, 0).unwrap().and_utc(),
        escalated: false,
    }
}

/// A new enabled endpoint for every event type, created at `now`.
fn endpoint_row(url: &str, now: DateTime<Utc>) -> webhook_endpoint::Model {
    webhook_endpoint::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        url: url.into(),
        description: String::new(),
        event_types: "[]".into(),
        enabled: true,
        disabled_reason: None,
        disabled_at: None,
        consecutive_failures: 0,
        first_failure_at: None,
        created_by: "user:test".into(),
        created_at: now,
        updated_at: now,
    }
}

fn email_delivery(o: &Occurrence, to: &str, due_at: DateTime<Utc>) -> NewDelivery {
    NewDelivery {
        delivery_key: delivery_key(o, Channel::Email, &DeliveryTarget::Email(to.into())),
        outbox_event_id: None,
        reminder_id: Some(o.idempotency_uuid()),
        channel: Channel::Email,
        target: to.into(),
        due_at,
    }
}

/// Writing the same occurrence twice writes one reminder; a delivery, an outbox event and a
/// notification are written once per key too.
async fn idempotency(store: &Store, a: TenantScope, owner: Uuid) {
    let subject = Uuid::now_v7();
    let o = occurrence(a, subject, "2027-01-31", 30);
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert!(
        tx.insert_reminder(&o, "Certificate", ReminderStatus::Pending)
            .await
            .unwrap()
    );
    // The same occurrence again (a second scheduler, a retried tick): not new.
    assert!(
        !tx.insert_reminder(&o, "Certificate", ReminderStatus::Pending)
            .await
            .unwrap()
    );
    // Recomputed from scratch (a new value, equal): still the same key, still not new.
    let again = occurrence(a, subject, "2027-01-31", 30);
    assert!(
        !tx.insert_reminder(&again, "Certificate", ReminderStatus::Queued)
            .await
            .unwrap()
    );
    let rows = tx.reminders_of("Certificate", subject).await.unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    // The key of reminders.rs `Occurrence::idempotency_key`: rem:{tenant}:{subject}:{kind}:{due}:{step}.
    assert_eq!(
        r.idempotency_key,
        format!(
            "rem:{}:{subject}:certificate-expiry:2027-01-31:lead-30",
            a.tenant_id().0
        )
    );
    assert_eq!(r.id, o.idempotency_uuid());
    // The first write stands: pending, not the second's queued.
    assert_eq!(r.status, "pending");
    assert_eq!(r.lead, "lead-30");
    // 2027-01-31 − 30 days = 2027-01-01, at 09:00 UTC.
    assert_eq!(r.send_at, at("2027-01-01T09:00:00Z"));
    assert_eq!(
        tx.reminder_by_key(&o.idempotency_key())
            .await
            .unwrap()
            .unwrap()
            .id,
        r.id
    );

    // The outbox row of the same reminder, once.
    let event = || PeerEvent {
        topic: "reminder.due".into(),
        subject_type: "Certificate".into(),
        subject_id: subject.to_string(),
        payload: serde_json::json!({"reminder": o.idempotency_key()}),
        dedupe_key: o.idempotency_key(),
    };
    let ev = tx.queue_event(event()).await.unwrap();
    assert!(ev.is_some());
    assert_eq!(tx.queue_event(event()).await.unwrap(), None);

    // Its delivery, once; the second write returns the first row.
    let mut nd = email_delivery(&o, "Ops@Example.com", at("2027-01-01T09:00:00Z"));
    nd.outbox_event_id = ev;
    let (d1, new1) = tx.insert_delivery(&nd).await.unwrap();
    let (d2, new2) = tx.insert_delivery(&nd).await.unwrap();
    assert!(new1 && !new2);
    assert_eq!(d1, d2);
    assert_eq!(d1.status, "pending");
    assert_eq!(d1.attempts, 0);
    // delivery_key lower-cases the address (reminders.rs `DeliveryTarget::key`).
    assert!(
        d1.delivery_key
            .ends_with(":lead-30:email:email-ops@example.com")
    );
    assert!(
        tx.set_reminder_status(r.id, ReminderStatus::Pending, ReminderStatus::Queued)
            .await
            .unwrap()
    );
    // A second move from pending finds it queued already.
    assert!(
        !tx.set_reminder_status(r.id, ReminderStatus::Pending, ReminderStatus::Queued)
            .await
            .unwrap()
    );

    // An in-app notification of one delivery, once.
    let n = |id: Uuid| notification::Model {
        tenant_id: Uuid::nil(),
        id,
        user_id: owner,
        delivery_id: Some(d1.id),
        topic: "reminder.due".into(),
        title: "Certificate expires in 30 days".into(),
        body: String::new(),
        subject_type: Some("Certificate".into()),
        subject_id: Some(subject.to_string()),
        link: None,
        created_at: Utc::now(),
        read_at: None,
    };
    assert!(tx.insert_notification(n(Uuid::now_v7())).await.unwrap());
    assert!(!tx.insert_notification(n(Uuid::now_v7())).await.unwrap());
    assert_eq!(tx.unread_notification_count(owner).await.unwrap(), 1);
    assert_eq!(
        tx.mark_notifications_read(owner, None, Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(tx.unread_notification_count(owner).await.unwrap(), 0);
    // Bookkeeping only: commits without an audit event.
    tx.commit().await.unwrap();

    // Committed, and once: a fresh transaction still finds one row per key.
    let tx = store.tenant_tx(a).await.unwrap();
    assert_eq!(
        tx.reminders_of("Certificate", subject).await.unwrap().len(),
        1
    );
    let page = tx
        .deliveries_page(
            &DeliveryFilter {
                reminder_id: Some(o.idempotency_uuid()),
                ..Default::default()
            },
            &first(10),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    tx.rollback().await.unwrap();
}

/// Two schedulers write the same occurrence at once: the second waits for the first's commit
/// (PostgreSQL: on the unique key; SQLite: on the single writer) and reports it not new.
async fn concurrent_insert(store: &Store, a: TenantScope) {
    let subject = Uuid::now_v7();
    let o = occurrence(a, subject, "2027-02-28", 7);
    let mut first = store.tenant_tx(a).await.unwrap();
    assert!(
        first
            .insert_reminder(&o, "Certificate", ReminderStatus::Pending)
            .await
            .unwrap()
    );
    let (store2, o2) = (store.clone(), o.clone());
    let second = tokio::spawn(async move {
        let mut tx = store2.tenant_tx(a).await.unwrap();
        let new = tx
            .insert_reminder(&o2, "Certificate", ReminderStatus::Pending)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        new
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second write waits for the first"
    );
    first.commit().await.unwrap();
    assert!(!second.await.unwrap());
    let tx = store.tenant_tx(a).await.unwrap();
    assert_eq!(
        tx.reminders_of("Certificate", subject).await.unwrap().len(),
        1
    );
    tx.rollback().await.unwrap();
}

/// A renewed certificate: the reminders of the old due date retire, their unsent deliveries are
/// cancelled; the new due date's reminders and what was already sent stay.
async fn retire(store: &Store, a: TenantScope) {
    let subject = Uuid::now_v7();
    let old90 = occurrence(a, subject, "2027-03-31", 90);
    let old30 = occurrence(a, subject, "2027-03-31", 30);
    let old60 = occurrence(a, subject, "2027-03-31", 60);
    let new90 = occurrence(a, subject, "2030-03-31", 90);
    let mut tx = store.tenant_tx(a).await.unwrap();
    for (o, s) in [
        (&old90, ReminderStatus::Queued),
        (&old60, ReminderStatus::Skipped),
        (&old30, ReminderStatus::Pending),
        (&new90, ReminderStatus::Pending),
    ] {
        assert!(tx.insert_reminder(o, "Certificate", s).await.unwrap());
    }
    // old90 went out by e-mail to one address and is still pending to another.
    let (sent, _) = tx
        .insert_delivery(&email_delivery(
            &old90,
            "a@example.com",
            at("2027-01-01T09:00:00Z"),
        ))
        .await
        .unwrap();
    let (unsent, _) = tx
        .insert_delivery(&email_delivery(
            &old90,
            "b@example.com",
            at("2027-01-01T09:00:00Z"),
        ))
        .await
        .unwrap();
    tx.record_delivery_attempt(
        sent.id,
        &AttemptRecord {
            attempted_at: at("2027-01-01T09:00:01Z"),
            outcome: DeliveryOutcome::Delivered,
            status_code: Some(250),
            error: None,
            duration_ms: Some(12),
            next_attempt_at: None,
        },
    )
    .await
    .unwrap();

    let n = tx
        .retire_pending_reminders(
            "Certificate",
            subject,
            DueKind::CertificateExpiry,
            Some(day("2030-03-31")),
            "renewed",
        )
        .await
        .unwrap();
    // old90 (queued) and old30 (pending); not old60 (skipped), not new90 (kept due date).
    assert_eq!(n, 2);
    let status = |rows: &[grc_store::entity::reminders::reminder::Model], id: Uuid| {
        let r = rows.iter().find(|r| r.id == id).unwrap();
        (r.status.clone(), r.retired_reason.clone())
    };
    let rows = tx.reminders_of("Certificate", subject).await.unwrap();
    assert_eq!(rows.len(), 4);
    let retired = ("retired".to_owned(), Some("renewed".to_owned()));
    assert_eq!(status(&rows, old90.idempotency_uuid()), retired);
    assert_eq!(status(&rows, old30.idempotency_uuid()), retired);
    assert_eq!(
        status(&rows, old60.idempotency_uuid()),
        ("skipped".into(), None)
    );
    assert_eq!(
        status(&rows, new90.idempotency_uuid()),
        ("pending".into(), None)
    );
    assert_eq!(
        tx.delivery(sent.id).await.unwrap().unwrap().status,
        "delivered"
    );
    let cancelled = tx.delivery(unsent.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(cancelled.next_attempt_at, None);
    // Retiring again finds nothing left to retire; another kind of the subject is untouched.
    assert_eq!(
        tx.retire_pending_reminders(
            "Certificate",
            subject,
            DueKind::CertificateExpiry,
            Some(day("2030-03-31")),
            "renewed"
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        tx.retire_pending_reminders("Certificate", subject, DueKind::BaaEnd, None, "gone")
            .await
            .unwrap(),
        0
    );
    // Without a date to keep (the item went away), the new due date's go too.
    assert_eq!(
        tx.retire_pending_reminders(
            "Certificate",
            subject,
            DueKind::CertificateExpiry,
            None,
            "deleted"
        )
        .await
        .unwrap(),
        1
    );
    tx.rollback().await.unwrap();
}

/// Attempts: a failure with a retry, a success, nothing after delivery; dead-lettering and a
/// retry by hand; attempts are append-only.
async fn attempts(store: &Store, a: TenantScope) {
    let o = occurrence(a, Uuid::now_v7(), "2027-05-31", 7);
    let t0 = at("2027-05-24T09:00:00Z");
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.insert_reminder(&o, "Certificate", ReminderStatus::Queued)
        .await
        .unwrap();
    let (d, _) = tx
        .insert_delivery(&email_delivery(&o, "x@example.com", t0))
        .await
        .unwrap();
    // Not due a second early; due at its time; leased for a minute, so not again meanwhile.
    assert!(
        tx.lease_delivery(d.id, t0 - TimeDelta::seconds(1), t0 + TimeDelta::minutes(1))
            .await
            .unwrap()
            .is_none()
    );
    let leased = tx
        .lease_delivery(d.id, t0, t0 + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.next_attempt_at, Some(t0 + TimeDelta::minutes(1)));
    assert!(
        tx.lease_delivery(
            d.id,
            t0 + TimeDelta::seconds(30),
            t0 + TimeDelta::minutes(2)
        )
        .await
        .unwrap()
        .is_none()
    );
    // First attempt fails; the retry schedule's first delay is 5 s (reminders.rs
    // RETRY_DELAYS_SECONDS[0]).
    let next = grc_domain::reminders::next_retry(1, t0).unwrap();
    assert_eq!(next, t0 + TimeDelta::seconds(5));
    let after = tx
        .record_delivery_attempt(
            d.id,
            &AttemptRecord {
                attempted_at: t0,
                outcome: DeliveryOutcome::Failed,
                status_code: Some(451),
                error: Some("mailbox unavailable".into()),
                duration_ms: Some(40),
                next_attempt_at: Some(next),
            },
        )
        .await
        .unwrap();
    assert_eq!(after.status, "failed");
    assert_eq!(after.attempts, 1);
    assert_eq!(after.next_attempt_at, Some(next));
    assert_eq!(after.last_status_code, Some(451));
    let done = tx
        .record_delivery_attempt(
            d.id,
            &AttemptRecord {
                attempted_at: next,
                outcome: DeliveryOutcome::Delivered,
                status_code: Some(250),
                error: None,
                duration_ms: Some(30),
                next_attempt_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(done.status, "delivered");
    assert_eq!(done.attempts, 2);
    assert_eq!(done.delivered_at, Some(next));
    assert_eq!(done.next_attempt_at, None);
    // Nothing more is recorded on a delivered delivery.
    let err = tx
        .record_delivery_attempt(
            d.id,
            &AttemptRecord {
                attempted_at: next,
                outcome: DeliveryOutcome::Delivered,
                status_code: Some(250),
                error: None,
                duration_ms: None,
                next_attempt_at: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let log = tx.delivery_attempts(d.id).await.unwrap();
    assert_eq!(
        log.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>(),
        ["failed", "delivered"]
    );

    // A webhook answered 410: dead at once (no retry), whatever next attempt was offered.
    let (w, _) = tx
        .insert_delivery(&NewDelivery {
            delivery_key: format!("{}:webhook:endpoint-x", o.idempotency_key()),
            outbox_event_id: None,
            reminder_id: Some(o.idempotency_uuid()),
            channel: Channel::Webhook,
            target: Uuid::now_v7().to_string(),
            due_at: t0,
        })
        .await
        .unwrap();
    let dead = tx
        .record_delivery_attempt(
            w.id,
            &AttemptRecord {
                attempted_at: t0,
                outcome: DeliveryOutcome::Gone,
                status_code: Some(410),
                error: None,
                duration_ms: Some(5),
                next_attempt_at: Some(next),
            },
        )
        .await
        .unwrap();
    assert_eq!(dead.status, "dead");
    assert_eq!(dead.next_attempt_at, None);
    let page = tx
        .deliveries_page(
            &DeliveryFilter {
                status: Some(DeliveryStatus::Dead),
                ..Default::default()
            },
            &first(10),
        )
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|d| d.id).collect::<Vec<_>>(), [w.id]);
    // Retried by hand: pending again (an audited change).
    let later = t0 + TimeDelta::hours(1);
    assert!(tx.retry_dead_delivery(w.id, later).await.unwrap());
    assert!(!tx.retry_dead_delivery(w.id, later).await.unwrap());
    let again = tx.delivery(w.id).await.unwrap().unwrap();
    assert_eq!(
        (again.status.as_str(), again.next_attempt_at),
        ("pending", Some(later))
    );
    audited_commit(tx, "attempts").await;

    // Attempts never change (triggers on both backends; on PostgreSQL the application role
    // also lacks the grant).
    let tx = store.tenant_tx(a).await.unwrap();
    let err = tx
        .raw_connection()
        .execute_unprepared("UPDATE delivery_attempts SET outcome = 'delivered'")
        .await
        .expect_err("attempts are append-only");
    let msg = err.to_string();
    assert!(
        msg.contains("immutable") || msg.contains("permission denied"),
        "{msg}"
    );
    tx.rollback().await.unwrap();
}

/// Two holders: one wins; the other waits for the expiry and then gets a larger fencing token;
/// the first's fence no longer holds.
async fn lease(store: &Store) {
    let t0 = at("2027-01-01T00:00:00Z");
    let ttl = TimeDelta::seconds(60);
    let a = store
        .acquire_scheduler_lease("scheduler", "worker-a", ttl, t0)
        .await
        .unwrap()
        .expect("a free lease is taken");
    assert_eq!(a.fencing_token, 1);
    assert_eq!(a.expires_at, t0 + ttl);
    // B, 10 s later, while A's lease runs: refused.
    assert!(
        store
            .acquire_scheduler_lease("scheduler", "worker-b", ttl, t0 + TimeDelta::seconds(10))
            .await
            .unwrap()
            .is_none()
    );
    // A renews at +20 s: same token, expiry +80 s.
    let renewed = store
        .acquire_scheduler_lease("scheduler", "worker-a", ttl, t0 + TimeDelta::seconds(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.fencing_token, 1);
    assert_eq!(renewed.expires_at, t0 + TimeDelta::seconds(80));
    // B at +79 s: still A's. At +80 s the lease has lapsed (expires_at <= now): B takes it.
    assert!(
        store
            .acquire_scheduler_lease("scheduler", "worker-b", ttl, t0 + TimeDelta::seconds(79))
            .await
            .unwrap()
            .is_none()
    );
    let b = store
        .acquire_scheduler_lease("scheduler", "worker-b", ttl, t0 + TimeDelta::seconds(80))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.fencing_token, 2);
    assert_eq!(b.expires_at, t0 + TimeDelta::seconds(140));
    // A comes back at +90 s: refused; its token no longer fences anything, B's does.
    assert!(
        store
            .acquire_scheduler_lease("scheduler", "worker-a", ttl, t0 + TimeDelta::seconds(90))
            .await
            .unwrap()
            .is_none()
    );
    let (scope, _) = tenant(store, "lease-fence").await;
    let tx = store.tenant_tx(scope).await.unwrap();
    let err = tx
        .hold_scheduler_lease("scheduler", 1, t0 + TimeDelta::seconds(90))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    tx.rollback().await.unwrap();
    let tx = store.tenant_tx(scope).await.unwrap();
    tx.hold_scheduler_lease("scheduler", 2, t0 + TimeDelta::seconds(90))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    // Another lease name is independent.
    assert_eq!(
        store
            .acquire_scheduler_lease("digest", "worker-a", ttl, t0)
            .await
            .unwrap()
            .unwrap()
            .fencing_token,
        1
    );
    // B lets go at +100 s; A takes it at once, token 3. B's own lapsed lease taken again by B
    // would also count as a new holding (covered by the CASE: expired ⇒ +1).
    assert!(
        !store
            .release_scheduler_lease("scheduler", "worker-a", t0 + TimeDelta::seconds(100))
            .await
            .unwrap()
    );
    assert!(
        store
            .release_scheduler_lease("scheduler", "worker-b", t0 + TimeDelta::seconds(100))
            .await
            .unwrap()
    );
    let a2 = store
        .acquire_scheduler_lease("scheduler", "worker-a", ttl, t0 + TimeDelta::seconds(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.fencing_token, 3);
    // A lets it lapse and takes it again later: a new holding, token 4.
    let a3 = store
        .acquire_scheduler_lease("scheduler", "worker-a", ttl, t0 + TimeDelta::seconds(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a3.fencing_token, 4);
}

/// Two contenders at the same instant, concurrently: exactly one gets the lease.
async fn lease_race(store: &Store) {
    let t0 = at("2028-01-01T00:00:00Z");
    let ttl = TimeDelta::seconds(30);
    let (x, y) = tokio::join!(
        store.acquire_scheduler_lease("race", "x", ttl, t0),
        store.acquire_scheduler_lease("race", "y", ttl, t0)
    );
    let won = [x.unwrap(), y.unwrap()]
        .into_iter()
        .filter(Option::is_some)
        .count();
    assert_eq!(won, 1);
}

/// Settings, policies, digests, endpoints, secrets, feeds.
async fn configuration(store: &Store, a: TenantScope, owner: Uuid) {
    let mut tx = store.tenant_tx(a).await.unwrap();
    // No row: the default policy in UTC at 09:00 (reminders.rs `default_policy`).
    let (p, stored) = tx
        .reminder_policy(DueKind::CertificateExpiry)
        .await
        .unwrap();
    assert!(!stored);
    assert_eq!(p.lead_days, [90, 60, 30, 7, 1]);
    assert_eq!(
        (p.time_zone.as_str(), p.send_hour, p.send_minute),
        ("UTC", 9, 0)
    );
    tx.put_reminder_settings("America/New_York", 8, 30, "user:test")
        .await
        .unwrap();
    assert!(
        tx.put_reminder_settings("Mars/Olympus", 8, 30, "user:test")
            .await
            .is_err()
    );
    let mut custom = p.clone();
    custom.lead_days = vec![14, 45];
    custom.overdue_every_days = Some(3);
    custom.recipients.roles = vec![RecipientRole::ComplianceManager];
    custom.recipients.emails = vec!["audit@example.com".into()];
    tx.put_reminder_policy(&custom, "user:test").await.unwrap();
    let (p2, stored) = tx
        .reminder_policy(DueKind::CertificateExpiry)
        .await
        .unwrap();
    assert!(stored);
    // The schedule keeps lead days largest first (reminders.rs `Schedule::lead_days`).
    assert_eq!(p2.lead_days, [45, 14]);
    assert_eq!(p2.overdue_every_days, Some(3));
    assert_eq!(p2.recipients, custom.recipients);
    assert_eq!(
        (p2.time_zone.as_str(), p2.send_hour, p2.send_minute),
        ("America/New_York", 8, 30)
    );
    let all = tx.reminder_policies().await.unwrap();
    assert_eq!(all.len(), DueKind::ALL.len());
    assert_eq!(all.iter().filter(|(_, s)| *s).count(), 1);
    let mut bad = p.clone();
    bad.lead_days = vec![-1];
    assert!(tx.put_reminder_policy(&bad, "user:test").await.is_err());
    assert!(
        tx.reset_reminder_policy(DueKind::CertificateExpiry)
            .await
            .unwrap()
    );
    assert!(
        !tx.reset_reminder_policy(DueKind::CertificateExpiry)
            .await
            .unwrap()
    );

    let digest = DigestOption {
        enabled: true,
        send_hour: 7,
        ..DigestOption::default()
    };
    tx.put_digest_preference(owner, &digest).await.unwrap();
    assert_eq!(
        tx.digest_preference(owner).await.unwrap(),
        Some(digest.clone())
    );
    assert_eq!(tx.digest_preferences().await.unwrap(), [(owner, digest)]);
    tx.set_digest_unsubscribe_token(owner, "unsubscribe-me")
        .await
        .unwrap();
    assert_eq!(
        tx.digest_user_for_unsubscribe_token("unsubscribe-me")
            .await
            .unwrap(),
        Some(owner)
    );
    assert_eq!(
        tx.digest_user_for_unsubscribe_token("other").await.unwrap(),
        None
    );
    audited_commit(tx, "configuration").await;
    // Not a member: the foreign key refuses it.
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert!(
        tx.put_digest_preference(Uuid::now_v7(), &DigestOption::default())
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();

    let mut tx = store.tenant_tx(a).await.unwrap();
    let now = Utc::now();
    let ep = tx
        .insert_webhook_endpoint(endpoint_row("https://hooks.example.com/grc", now))
        .await
        .unwrap();
    let t0 = at("2027-02-01T12:00:00Z");
    let s1 = WebhookSecret::from_random_bytes(&[1u8; 32]).unwrap();
    let s2 = WebhookSecret::from_random_bytes(&[2u8; 32]).unwrap();
    tx.add_webhook_secret(ep.id, &s1, t0).await.unwrap();
    // Rotated an hour later: s1 signs until t0 + 1 h + 24 h (webhooks.rs ROTATION_OVERLAP_HOURS).
    tx.add_webhook_secret(ep.id, &s2, t0 + TimeDelta::hours(1))
        .await
        .unwrap();
    let infos = tx.webhook_secret_infos(ep.id).await.unwrap();
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[0].expires_at, None);
    assert_eq!(infos[1].expires_at, Some(t0 + TimeDelta::hours(25)));
    let signing = |n: i64| t0 + TimeDelta::hours(n);
    assert_eq!(
        tx.webhook_signing_secrets(ep.id, signing(2)).await.unwrap(),
        [s2.clone(), s1.clone()]
    );
    // At exactly the end the old one no longer signs (webhooks.rs `signs_at`: now < end).
    assert_eq!(
        tx.webhook_signing_secrets(ep.id, signing(25))
            .await
            .unwrap(),
        [s2]
    );
    // Health: ten failures over five days disable it (the caller decides, the store records).
    let health = EndpointHealth {
        consecutive_failures: 10,
        failing_since: Some(t0),
    };
    assert!(
        tx.record_endpoint_health(
            ep.id,
            health,
            Some((
                grc_domain::webhooks::DisableReason::FailingTooLong,
                t0 + TimeDelta::days(5)
            ))
        )
        .await
        .unwrap()
    );
    let ep2 = tx.webhook_endpoint(ep.id).await.unwrap().unwrap();
    assert!(!ep2.enabled);
    assert_eq!(ep2.consecutive_failures, 10);
    assert_eq!(ep2.disabled_reason.as_deref(), Some("failing-too-long"));

    let (feed, token) = tx.create_calendar_feed(owner).await.unwrap();
    assert_eq!(feed.token_sha256.len(), 64);
    assert!(!feed.token_sha256.contains(token.expose()));
    audited_commit(tx, "endpoints").await;

    let found = store
        .calendar_feed_for_token(token.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.user_id), (feed.id, owner));
    // Same tenant and id, another secret: nothing.
    let mut forged = token.expose().to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert!(
        store
            .calendar_feed_for_token(&forged)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .calendar_feed_for_token("grccal_")
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.revoke_calendar_feed(feed.id).await.unwrap();
    assert!(matches!(
        tx.revoke_calendar_feed(feed.id).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    audited_commit(tx, "revoke").await;
    assert!(
        store
            .calendar_feed_for_token(token.expose())
            .await
            .unwrap()
            .is_none()
    );
}

/// The worker's scan sees due deliveries of every tenant (keys only), oldest first.
async fn due_scan(store: &Store, a: TenantScope, b: TenantScope) -> (Uuid, Uuid) {
    let t = at("2031-06-01T09:00:00Z");
    let mut ids = Vec::new();
    for (scope, minutes) in [(a, 2), (b, 1)] {
        let o = occurrence(scope, Uuid::now_v7(), "2031-06-08", 7);
        let mut tx = store.tenant_tx(scope).await.unwrap();
        tx.insert_reminder(&o, "Certificate", ReminderStatus::Queued)
            .await
            .unwrap();
        let (d, _) = tx
            .insert_delivery(&email_delivery(
                &o,
                "due@example.com",
                t + TimeDelta::minutes(minutes),
            ))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push((scope.tenant_id(), d.id));
    }
    // Before either is due: only what earlier steps left due (nothing from 2031).
    let before: Vec<_> = store
        .due_deliveries(t, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| ids.contains(k))
        .collect();
    assert!(before.is_empty());
    let later = t + TimeDelta::minutes(5);
    let due: Vec<_> = store
        .due_deliveries(later, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| ids.contains(k))
        .collect();
    // B's is due a minute before A's.
    assert_eq!(due, [ids[1], ids[0]]);
    // The worker takes B's in B's transaction: no longer due until its lease ends.
    let mut tx = store.tenant_tx(b).await.unwrap();
    assert!(
        tx.lease_delivery(ids[1].1, later, later + TimeDelta::minutes(10))
            .await
            .unwrap()
            .is_some()
    );
    tx.commit().await.unwrap();
    let due: Vec<_> = store
        .due_deliveries(later, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| ids.contains(k))
        .collect();
    assert_eq!(due, [ids[0]]);
    // The unrelayed outbox across tenants holds A's event from `idempotency`.
    let unrelayed = store.unrelayed_outbox_events(100).await.unwrap();
    assert!(unrelayed.iter().any(|(t, _)| *t == a.tenant_id()));
    let (_, ev) = *unrelayed.iter().find(|(t, _)| *t == a.tenant_id()).unwrap();
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert!(tx.mark_outbox_relayed(ev, Utc::now()).await.unwrap());
    assert!(!tx.mark_outbox_relayed(ev, Utc::now()).await.unwrap());
    tx.commit().await.unwrap();
    assert!(
        !store
            .unrelayed_outbox_events(100)
            .await
            .unwrap()
            .contains(&(a.tenant_id(), ev))
    );
    (ids[0].1, ids[1].1)
}

/// Nothing of A's is seen or changed from B's transactions through the repositories.
async fn isolation(store: &Store, a: TenantScope, a_owner: Uuid, b: TenantScope, a_delivery: Uuid) {
    let mut tx = store.tenant_tx(b).await.unwrap();
    let d = tx.delivery(a_delivery).await.unwrap();
    assert!(d.is_none(), "B reads A's delivery");
    assert!(tx.delivery_attempts(a_delivery).await.unwrap().is_empty());
    let later = at("2031-06-01T10:00:00Z");
    assert!(
        tx.lease_delivery(a_delivery, later, later)
            .await
            .unwrap()
            .is_none()
    );
    let err = tx
        .record_delivery_attempt(
            a_delivery,
            &AttemptRecord {
                attempted_at: later,
                outcome: DeliveryOutcome::Delivered,
                status_code: None,
                error: None,
                duration_ms: None,
                next_attempt_at: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
    assert!(tx.webhook_endpoints().await.unwrap().is_empty());
    assert!(tx.reminder_settings().await.unwrap().is_none());
    assert!(
        !tx.reminder_policies()
            .await
            .unwrap()
            .iter()
            .any(|(_, s)| *s)
    );
    assert_eq!(tx.digest_preference(a_owner).await.unwrap(), None);
    assert!(tx.calendar_feeds(a_owner).await.unwrap().is_empty());
    assert_eq!(tx.unread_notification_count(a_owner).await.unwrap(), 0);
    assert_eq!(
        tx.mark_notifications_read(a_owner, None, later)
            .await
            .unwrap(),
        0
    );
    assert!(
        tx.notifications_page(a_owner, false, &first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let page = tx
        .deliveries_page(&DeliveryFilter::default(), &first(100))
        .await
        .unwrap();
    assert!(page.items.iter().all(|d| d.tenant_id == b.tenant_id().0));
    // An occurrence of A's cannot be written from B's transaction.
    let o = occurrence(a, Uuid::now_v7(), "2031-01-01", 1);
    assert!(matches!(
        tx.insert_reminder(&o, "Certificate", ReminderStatus::Pending)
            .await
            .unwrap_err(),
        StoreError::Invalid(_)
    ));
    tx.rollback().await.unwrap();
    let tx = store.tenant_tx(a).await.unwrap();
    assert!(tx.delivery(a_delivery).await.unwrap().is_some());
    tx.rollback().await.unwrap();
}

/// A member's digest option, calendar feeds and notifications go with their membership.
async fn member_removal(store: &Store) {
    let (c, owner) = tenant(store, "reminders-c").await;
    let mut tx = store.tenant_tx(c).await.unwrap();
    tx.put_digest_preference(owner, &DigestOption::default())
        .await
        .unwrap();
    tx.create_calendar_feed(owner).await.unwrap();
    assert!(
        tx.insert_notification(notification::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            user_id: owner,
            delivery_id: None,
            topic: "t".into(),
            title: "t".into(),
            body: String::new(),
            subject_type: None,
            subject_id: None,
            link: None,
            created_at: Utc::now(),
            read_at: None,
        })
        .await
        .unwrap()
    );
    tx.remove_member(grc_domain::ids::UserId(owner))
        .await
        .unwrap();
    assert_eq!(tx.digest_preference(owner).await.unwrap(), None);
    assert!(tx.calendar_feeds(owner).await.unwrap().is_empty());
    assert_eq!(tx.unread_notification_count(owner).await.unwrap(), 0);
    tx.rollback().await.unwrap();
}

/// The batched writes (`insert_reminders`, `queue_events`): one answer per input in order;
/// an occurrence already written, or given twice in the batch, is not new (the first of the
/// two is); each row is written as `insert_reminder` would write it; more than one statement's
/// worth (500 rows) is written whole. Another tenant's occurrence is refused.
async fn batches(store: &Store, a: TenantScope, b: TenantScope) {
    let subject = Uuid::now_v7();
    let o = |days: u16| occurrence(a, subject, "2028-06-30", days);
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert!(
        tx.insert_reminder(&o(60), "Certificate", ReminderStatus::Queued)
            .await
            .unwrap()
    );
    let (o90, o60, o30) = (o(90), o(60), o(30));
    let new = tx
        .insert_reminders(&[
            (&o90, "Certificate", ReminderStatus::Skipped),
            (&o60, "Certificate", ReminderStatus::Skipped),
            (&o30, "Certificate", ReminderStatus::Queued),
            (&o90, "Certificate", ReminderStatus::Queued),
        ])
        .await
        .unwrap();
    assert_eq!(new, vec![true, false, true, false]);
    let rows: Vec<_> = tx
        .reminders_of("Certificate", subject)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.lead, r.status, r.send_at, r.kind, r.due_on))
        .collect();
    let row = |o: &Occurrence, status: &str| {
        (
            o.idempotency_uuid(),
            o.step.key(),
            status.to_owned(),
            o.send_at,
            "certificate-expiry".to_owned(),
            day("2028-06-30"),
        )
    };
    // By send time: 90, 60 (the single write's), 30 days ahead.
    assert_eq!(
        rows,
        vec![
            row(&o90, "skipped"),
            row(&o60, "queued"),
            row(&o30, "queued")
        ]
    );
    assert_eq!(
        tx.reminder_by_key(&o30.idempotency_key())
            .await
            .unwrap()
            .unwrap()
            .idempotency_key,
        o30.idempotency_key()
    );
    assert_eq!(tx.insert_reminders(&[]).await.unwrap(), Vec::<bool>::new());

    // 600 occurrences (two statements), one of them written before: 599 new.
    let many: Vec<Occurrence> = (0..600u16)
        .map(|i| occurrence(a, Uuid::now_v7(), "2029-01-31", i % 7))
        .collect();
    assert!(
        tx.insert_reminder(&many[550], "Evidence", ReminderStatus::Queued)
            .await
            .unwrap()
    );
    let rows: Vec<_> = many
        .iter()
        .map(|o| (o, "Evidence", ReminderStatus::Queued))
        .collect();
    let new = tx.insert_reminders(&rows).await.unwrap();
    assert_eq!(new.len(), 600);
    assert_eq!(new.iter().filter(|n| **n).count(), 599);
    assert!(!new[550] && new[0] && new[599]);

    // Events: one answer per input; a key queued before or twice in the batch gets none.
    let event = |key: &str| PeerEvent {
        topic: "reminder.due".into(),
        subject_type: "Certificate".into(),
        subject_id: subject.to_string(),
        payload: serde_json::json!({"key": key}),
        dedupe_key: key.to_owned(),
    };
    let before = tx.queue_event(event("k-1")).await.unwrap().unwrap();
    let ids = tx
        .queue_events(vec![event("k-1"), event("k-2"), event("k-2"), event("k-3")])
        .await
        .unwrap();
    assert_eq!(ids.len(), 4);
    assert!(ids[0].is_none() && ids[1].is_some() && ids[2].is_none() && ids[3].is_some());
    for (id, key) in [
        (before, "k-1"),
        (ids[1].unwrap(), "k-2"),
        (ids[3].unwrap(), "k-3"),
    ] {
        let e = tx.outbox_event(id).await.unwrap().unwrap();
        assert_eq!(
            (e.dedupe_key.as_str(), e.topic.as_str()),
            (key, "reminder.due")
        );
        assert_eq!(e.payload, serde_json::json!({"key": key}).to_string());
        assert_eq!(e.source_tenant_id, a.tenant_id().0);
    }
    // Another tenant's occurrence is refused, and nothing of the batch is written.
    let theirs = occurrence(b, subject, "2028-06-30", 7);
    let ours = o(1);
    assert!(
        tx.insert_reminders(&[
            (&ours, "Certificate", ReminderStatus::Queued),
            (&theirs, "Certificate", ReminderStatus::Queued),
        ])
        .await
        .is_err()
    );
    assert!(
        tx.reminder_by_key(&ours.idempotency_key())
            .await
            .unwrap()
            .is_none()
    );
    tx.rollback().await.unwrap();
}

/// The worker's batched fan-out writes (deliver.rs `fan_out_events`): deliveries in multi-row
/// inserts that skip existing keys, events marked relayed once, reminders looked up by id, an
/// endpoint's failure run ended without touching a healthy row; none of it reaches another
/// tenant.
async fn batch_fan_out(store: &Store) {
    let (a, _) = tenant(store, "reminders-fan-a").await;
    let (b, _) = tenant(store, "reminders-fan-b").await;
    let subject = Uuid::now_v7();
    let o = occurrence(a, subject, "2029-05-31", 30);
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert!(
        tx.insert_reminder(&o, "Certificate", ReminderStatus::Queued)
            .await
            .unwrap()
    );
    let event = |key: &str| PeerEvent {
        topic: "reminder.due".into(),
        subject_type: "Certificate".into(),
        subject_id: subject.to_string(),
        payload: serde_json::json!({"key": key}),
        dedupe_key: key.to_owned(),
    };
    let ids: Vec<Uuid> = tx
        .queue_events(vec![event("fan-1"), event("fan-2"), event("fan-3")])
        .await
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    // 1,200 deliveries: three statements of at most 500 rows; one key written before. Due in
    // 2099, so that the scans of the later steps do not meet them.
    let due = at("2099-05-01T09:00:00Z");
    let many: Vec<NewDelivery> = (0..1200)
        .map(|i| email_delivery(&o, &format!("user{i}@example.com"), due))
        .collect();
    assert!(tx.insert_delivery(&many[700]).await.unwrap().1);
    assert_eq!(tx.add_deliveries(&many).await.unwrap(), 1199);
    assert_eq!(tx.add_deliveries(&many).await.unwrap(), 0);
    assert_eq!(tx.add_deliveries(&[]).await.unwrap(), 0);
    let stored = tx
        .deliveries_page(
            &DeliveryFilter {
                reminder_id: Some(o.idempotency_uuid()),
                ..DeliveryFilter::default()
            },
            &first(2000),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(stored.len(), 1200);
    assert!(
        stored.iter().all(|d| d.status == "pending"
            && d.next_attempt_at == Some(due)
            && d.channel == "email")
    );
    // The reminder looked up among unknown ids.
    let stranger = Uuid::now_v7();
    assert_eq!(
        tx.existing_reminder_ids(&[o.idempotency_uuid(), stranger])
            .await
            .unwrap(),
        [o.idempotency_uuid()].into_iter().collect()
    );
    // Events: marked once; the unrelayed among them shrink.
    let marked = tx.mark_outbox_events_relayed(&ids[..2], due).await.unwrap();
    assert_eq!(marked.len(), 2);
    assert!(
        tx.mark_outbox_events_relayed(&ids[..2], due)
            .await
            .unwrap()
            .is_empty()
    );
    let left: Vec<Uuid> = tx
        .unrelayed_outbox_events_in(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, vec![ids[2]]);
    // An endpoint's failure run: nothing to end on a healthy one; a run ended once.
    let now = at("2029-05-01T09:00:00Z");
    let ep = tx
        .insert_webhook_endpoint(endpoint_row("https://hooks.example.com/fan", now))
        .await
        .unwrap();
    assert!(!tx.clear_endpoint_failures(ep.id).await.unwrap());
    let failing = EndpointHealth {
        consecutive_failures: 3,
        failing_since: Some(now),
    };
    assert!(
        tx.record_endpoint_health(ep.id, failing, None)
            .await
            .unwrap()
    );
    audited_commit(tx, "batch_fan_out").await;
    // Tenant b sees none of it and changes none of it.
    let mut tb = store.tenant_tx(b).await.unwrap();
    assert!(
        tb.unrelayed_outbox_events_in(&ids)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tb.existing_reminder_ids(&[o.idempotency_uuid()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tb.mark_outbox_events_relayed(&ids, due)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!tb.clear_endpoint_failures(ep.id).await.unwrap());
    tb.commit().await.unwrap();
    let mut tx = store.tenant_tx(a).await.unwrap();
    assert_eq!(tx.unrelayed_outbox_events_in(&ids).await.unwrap().len(), 1);
    let row = tx.webhook_endpoint(ep.id).await.unwrap().unwrap();
    assert_eq!(row.consecutive_failures, 3);
    assert!(tx.clear_endpoint_failures(ep.id).await.unwrap());
    assert!(!tx.clear_endpoint_failures(ep.id).await.unwrap());
    let row = tx.webhook_endpoint(ep.id).await.unwrap().unwrap();
    assert_eq!((row.consecutive_failures, row.first_failure_at), (0, None));
    // The last event relayed too (the later steps scan the outbox).
    assert_eq!(
        tx.mark_outbox_events_relayed(&ids, due).await.unwrap(),
        vec![ids[2]]
    );
    tx.commit().await.unwrap();
}

async fn exercise(store: &Store) -> (TenantScope, TenantScope, Uuid) {
    let (a, a_owner) = tenant(store, "reminders-a").await;
    let (b, _) = tenant(store, "reminders-b").await;
    idempotency(store, a, a_owner).await;
    batches(store, a, b).await;
    batch_fan_out(store).await;
    concurrent_insert(store, a).await;
    retire(store, a).await;
    attempts(store, a).await;
    lease(store).await;
    lease_race(store).await;
    configuration(store, a, a_owner).await;
    let (a_delivery, _) = due_scan(store, a, b).await;
    isolation(store, a, a_owner, b, a_delivery).await;
    member_removal(store).await;
    (a, b, a_owner)
}

#[tokio::test]
async fn reminder_store_on_sqlite() {
    // A file, not `:memory:`, so that the store's pool and the race share one database.
    let (store, dir) = sqlite_store("grc-store-rem").await;
    exercise(&store).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database, an owner that migrates, an application role that cannot
// bypass row-level security.
// ---------------------------------------------------------------------------------------------

/// The fresh database and a connection to it as the server's administrator (to check rows
/// below row-level security).
struct Pg {
    db: PgTestDb,
    admin: DatabaseConnection,
}

async fn pg() -> Pg {
    let db = PgTestDb::create("grc_store_test_owner", "grc_store_test_app", "grc_st_").await;
    let admin = Database::connect(db.url_as("postgres")).await.unwrap();
    Pg { db, admin }
}

async fn count(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Row-level security below the repositories: in B's transaction, raw SQL without any tenant
/// predicate sees none of A's rows in any of the new tables, changes none, and cannot write one
/// in A's name; outside a tenant the application role sees nothing; the due scan's policy
/// admits rows only inside its function's own statement.
async fn rls(pg: &Pg, store: &Store, a: TenantScope, b: TenantScope, a_owner: Uuid) {
    let tables = [
        "reminder_settings",
        "reminder_policies",
        "digest_preferences",
        "reminders",
        "deliveries",
        "delivery_attempts",
        "webhook_endpoints",
        "webhook_secrets",
        "notifications",
        "calendar_feeds",
    ];
    let a_id = a.tenant_id().0;
    // The exercise left rows of A in every table (a policy so that the checks are not
    // vacuous); reminder_policies was reset, so one is put back here.
    let mut tx = store.tenant_tx(a).await.unwrap();
    let (p, _) = tx.reminder_policy(DueKind::BaaEnd).await.unwrap();
    tx.put_reminder_policy(&p, "user:test").await.unwrap();
    audited_commit(tx, "policy").await;
    for t in tables {
        let n = count(
            &pg.admin,
            &format!("SELECT count(*) FROM {t} WHERE tenant_id = '{a_id}'"),
        )
        .await;
        assert!(n > 0, "{t}: no row of A to check against");
    }
    let tx = store.tenant_tx(b).await.unwrap();
    let conn = tx.raw_connection();
    for t in tables {
        assert_eq!(
            count(
                conn,
                &format!("SELECT count(*) FROM {t} WHERE tenant_id = '{a_id}'")
            )
            .await,
            0,
            "{t}: B sees A's rows"
        );
        if t != "delivery_attempts" {
            let r = conn
                .execute_unprepared(&format!("DELETE FROM {t} WHERE tenant_id = '{a_id}'"))
                .await
                .unwrap();
            assert_eq!(r.rows_affected(), 0, "{t}: B deletes A's rows");
        }
    }
    tx.rollback().await.unwrap();
    // Writing in A's name from B's transaction: refused by the policy's WITH CHECK.
    for sql in [
        format!(
            "INSERT INTO reminder_settings (tenant_id, updated_by, updated_at) VALUES ('{a_id}', 'x', now())"
        ),
        format!(
            "INSERT INTO notifications (tenant_id, id, user_id, topic, title, body, created_at) \
             VALUES ('{a_id}', gen_random_uuid(), '{a_owner}', 't', 't', '', now())"
        ),
    ] {
        let tx = store.tenant_tx(b).await.unwrap();
        let err = tx
            .raw_connection()
            .execute_unprepared(&sql)
            .await
            .expect_err("a write in another tenant's name");
        assert!(err.to_string().contains("row-level security"), "{err}");
        tx.rollback().await.unwrap();
    }
    // B cannot move A's reminders either (an UPDATE sees no row of A's).
    let tx = store.tenant_tx(b).await.unwrap();
    let r = tx
        .raw_connection()
        .execute_unprepared(&format!(
            "UPDATE reminders SET status = 'retired', retired_reason = 'x' WHERE tenant_id = '{a_id}'"
        ))
        .await
        .unwrap();
    assert_eq!(r.rows_affected(), 0);
    tx.rollback().await.unwrap();

    // Outside a tenant: nothing. One connection, so that the scan function's setting would
    // show if it leaked into the next statement.
    let mut one = sea_orm::ConnectOptions::new(pg.db.app_url());
    one.max_connections(1).min_connections(1);
    let one = Database::connect(one).await.unwrap();
    for t in tables {
        assert_eq!(
            count(&one, &format!("SELECT count(*) FROM {t}")).await,
            0,
            "{t}"
        );
    }
    let due = count(
        &one,
        "SELECT count(*) FROM grc_due_deliveries('2100-01-01T00:00:00Z', 100000)",
    )
    .await;
    let expected = count(
        &pg.admin,
        "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'failed')",
    )
    .await;
    assert!(expected > 0);
    assert_eq!(due, expected);
    assert_eq!(count(&one, "SELECT count(*) FROM deliveries").await, 0);
    assert_eq!(
        count(&one, "SELECT count(*) FROM grc_unrelayed_outbox(1000)").await,
        count(
            &pg.admin,
            "SELECT count(*) FROM outbox_events WHERE relayed_at IS NULL"
        )
        .await
    );
    assert_eq!(count(&one, "SELECT count(*) FROM outbox_events").await, 0);
    // Inside a tenant, the scan's setting set by hand still admits only due rows, never a
    // delivered one, and never for writing.
    let tx = store.tenant_tx(b).await.unwrap();
    let conn = tx.raw_connection();
    conn.execute_unprepared("SELECT set_config('app.due_scan', 'on', true)")
        .await
        .unwrap();
    assert_eq!(
        count(
            conn,
            &format!("SELECT count(*) FROM deliveries WHERE tenant_id = '{a_id}' AND status NOT IN ('pending', 'failed')")
        )
        .await,
        0
    );
    let r = conn
        .execute_unprepared(&format!(
            "UPDATE deliveries SET attempts = 99 WHERE tenant_id = '{a_id}'"
        ))
        .await
        .unwrap();
    assert_eq!(r.rows_affected(), 0);
    tx.rollback().await.unwrap();
    // The lease table is the application role's to use; the attempts only to insert.
    assert_eq!(
        count(
            &pg.admin,
            "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = 'grc_store_test_app' AND table_name = 'delivery_attempts' AND privilege_type IN ('UPDATE', 'DELETE')"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminder_store_on_postgres() {
    let pg = pg().await;
    let store = pg.db.app_store().await;
    let (a, b, a_owner) = exercise(&store).await;
    rls(&pg, &store, a, b, a_owner).await;
    drop(store);
    let Pg { db, admin } = pg;
    admin.close().await.unwrap();
    db.drop().await;
}
