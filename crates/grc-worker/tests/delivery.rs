//! The embedded delivery loop against real services (issue 7, "What must show"): a real SMTP
//! server (`aiosmtpd`, tests/receivers/smtp_sink.py) and a real HTTP receiver that verifies
//! every call with the independent `standardwebhooks` package
//! (tests/receivers/webhook_receiver.py), on SQLite and on PostgreSQL (`GRC_TEST_PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`, as the application role that cannot
//! bypass row-level security). Python 3 with `aiosmtpd` and `standardwebhooks` must be
//! installed (`pip install aiosmtpd standardwebhooks`, done by .ci/run): the test fails, never
//! skips, without them.
//!
//! The retry delays are the Standard Webhooks schedule times [`SCALE`], so that a whole run of
//! ten attempts (5 s + 5 min + 30 min + 2 h + 5 h + 10 h + 14 h + 20 h + 24 h = 272,105 s,
//! reminders.rs `RETRY_DELAYS_SECONDS`) takes 272,105 s × 1e-5 ≈ 2.7 s.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use chrono::Utc;
use grc_domain::tenancy::{Email, Role};
use grc_domain::webhooks::WebhookSecret;
use grc_store::entity::reminders::{delivery, webhook_endpoint};
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store, tenant};
use grc_store::{DeliveryFilter, PageRequest, PeerEvent, Store, TenantScope};
use grc_worker::{DeliveryConfig, RetryPolicy, run_embedded};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The factor on the retry schedule's delays (see the module doc).
const SCALE: f64 = 1e-5;

// ---------------------------------------------------------------------------------------------
// The receivers
// ---------------------------------------------------------------------------------------------

/// A Python helper process, killed when dropped.
struct Helper {
    child: Child,
    port: u16,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receivers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/receivers")
}

fn start(script: &str, args: &[&str]) -> Helper {
    let mut child = Command::new("python3")
        .arg(receivers_dir().join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| {
            panic!("{script} did not start (pip install aiosmtpd standardwebhooks): {line:?}")
        })
        .parse()
        .unwrap();
    Helper { child, port }
}

fn temp_dir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grc-delivery-{what}-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One recorded webhook call.
#[derive(Debug, serde::Deserialize)]
struct Call {
    id: Option<String>,
    verified: bool,
    status: u16,
    body: String,
}

fn calls(log: &Path) -> Vec<Call> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

struct Receiver {
    helper: Helper,
    log: PathBuf,
    secret: WebhookSecret,
}

impl Receiver {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.helper.port)
    }
}

fn receiver(flags: &[&str]) -> Receiver {
    let secret =
        WebhookSecret::from_random_bytes(Uuid::now_v7().as_bytes().repeat(2).as_slice()).unwrap();
    let log = temp_dir("hooks").join("calls.jsonl");
    let whsec = secret.to_whsec();
    let log_s = log.to_str().unwrap().to_owned();
    let mut args = vec![whsec.as_str(), log_s.as_str()];
    args.extend_from_slice(flags);
    let helper = start("webhook_receiver.py", &args);
    Receiver {
        helper,
        log,
        secret,
    }
}

// ---------------------------------------------------------------------------------------------
// Tenants, endpoints and events
// ---------------------------------------------------------------------------------------------

async fn endpoint(store: &Store, t: TenantScope, r: &Receiver) -> Uuid {
    let mut tx = store.tenant_tx(t).await.unwrap();
    let now = Utc::now();
    let ep = tx
        .insert_webhook_endpoint(webhook_endpoint::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            url: r.url(),
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
    tx.add_webhook_secret(ep.id, &r.secret, now).await.unwrap();
    audited_commit(tx, "endpoint").await;
    ep.id
}

/// Queues a `reminder.due` event (the scheduler's shape) to `emails` on `channels`; its key.
async fn reminder_event(
    store: &Store,
    t: TenantScope,
    emails: &[&str],
    channels: &[&str],
) -> String {
    let subject = Uuid::now_v7();
    let key = format!(
        "rem:{}:{subject}:certificate-expiry:2027-02-28:lead-30",
        t.tenant_id().0
    );
    let mut tx = store.tenant_tx(t).await.unwrap();
    tx.queue_event(PeerEvent {
        topic: "reminder.due".into(),
        subject_type: "Certificate".into(),
        subject_id: subject.to_string(),
        payload: serde_json::json!({
            "tenantId": t.tenant_id().0,
            "subjectType": "Certificate",
            "subjectId": subject,
            "kind": "certificate-expiry",
            "dueOn": "2027-02-28",
            "leadDays": 30,
            "title": "ISO/IEC 27001 certificate C-1",
            "recipients": {"roles": [], "userIds": [], "emails": emails},
            "channels": channels,
        }),
        dedupe_key: key.clone(),
    })
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    key
}

async fn deliveries(store: &Store, t: TenantScope) -> Vec<delivery::Model> {
    let tx = store.tenant_tx(t).await.unwrap();
    let page = tx
        .deliveries_page(
            &DeliveryFilter::default(),
            &PageRequest::Forward {
                first: 500,
                after: None,
            },
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    page.items
}

/// Waits until `t` has `n` deliveries, all delivered or dead.
async fn settled(store: &Store, t: TenantScope, n: usize) -> Vec<delivery::Model> {
    let start = Instant::now();
    loop {
        let ds = deliveries(store, t).await;
        if ds.len() == n
            && ds
                .iter()
                .all(|d| d.status == "delivered" || d.status == "dead")
        {
            return ds;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not settled: {ds:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let head = mail.split("\r\n\r\n").next().unwrap_or(mail);
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

// ---------------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------------

async fn exercise(store: &Store, tag: &str) {
    let mail_dir = temp_dir("mail");
    let smtp = start("smtp_sink.py", &[mail_dir.to_str().unwrap()]);
    let ok = receiver(&[]);
    let flaky = receiver(&["--fail-first", "3"]);
    let gone = receiver(&["--gone"]);
    let down = receiver(&["--fail-first", "1000"]);

    let (t_ok, _) = tenant(store, &format!("{tag}-ok")).await;
    let (t_flaky, _) = tenant(store, &format!("{tag}-flaky")).await;
    let (t_gone, gone_owner) = tenant(store, &format!("{tag}-gone")).await;
    let (t_down, _) = tenant(store, &format!("{tag}-down")).await;
    endpoint(store, t_ok, &ok).await;
    endpoint(store, t_flaky, &flaky).await;
    let gone_ep = endpoint(store, t_gone, &gone).await;
    let down_ep = endpoint(store, t_down, &down).await;

    let key_ok = reminder_event(store, t_ok, &["Ops@Example.com"], &["email", "webhook"]).await;
    let key_flaky = reminder_event(store, t_flaky, &[], &["webhook"]).await;
    reminder_event(store, t_gone, &[], &["webhook"]).await;
    let key_down = reminder_event(store, t_down, &[], &["webhook"]).await;

    let config = DeliveryConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{}", smtp.port)),
        smtp_from: "grc <noreply@grc.example>".into(),
        retry: RetryPolicy::scaled(SCALE),
        poll_interval: Duration::from_millis(50),
        ..DeliveryConfig::default()
    };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(run_embedded(
        store.clone(),
        config,
        Default::default(),
        stop_rx,
    ));

    // 1. One e-mail and one verified webhook.
    let ds = settled(store, t_ok, 2).await;
    assert!(ds.iter().all(|d| d.status == "delivered"), "{ds:#?}");
    let email = ds.iter().find(|d| d.channel == "email").unwrap();
    // The address as written in the policy is the target; the key lower-cases it
    // (reminders.rs `DeliveryTarget::key`).
    assert_eq!(email.target, "Ops@Example.com");
    assert_eq!(
        email.delivery_key,
        format!("{key_ok}:email:email-ops@example.com")
    );

    // 2. The mail as the SMTP server received it.
    let start_wait = Instant::now();
    let mails = loop {
        let mut files: Vec<_> = std::fs::read_dir(&mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        if !files.is_empty() || start_wait.elapsed() > Duration::from_secs(10) {
            break files;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mails.len(), 1, "exactly one e-mail");
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    assert_eq!(header(&mail, "From"), Some("grc <noreply@grc.example>"));
    assert_eq!(header(&mail, "To"), Some("Ops@Example.com"));
    // email.rs `render`: the title, then the kind in words and the due date.
    assert_eq!(
        header(&mail, "Subject"),
        Some("ISO/IEC 27001 certificate C-1: expires on 2027-02-28")
    );
    // email.rs `message_id`: the delivery id at the sender's domain.
    assert_eq!(
        header(&mail, "Message-ID"),
        Some(format!("<delivery-{}@grc.example>", email.id).as_str())
    );
    assert!(
        header(&mail, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{mail}"
    );
    assert!(
        mail.contains("Content-Type: text/plain; charset=utf-8"),
        "{mail}"
    );
    assert!(
        mail.contains("Content-Type: text/html; charset=utf-8"),
        "{mail}"
    );
    assert!(mail.contains("Expires on 2027-02-28"), "{mail}");
    assert!(mail.contains("Days left: 30"), "{mail}");
    assert!(
        mail.contains("<h1>ISO/IEC 27001 certificate C-1</h1>"),
        "{mail}"
    );
    // No digest, so no List-Unsubscribe.
    assert_eq!(header(&mail, "List-Unsubscribe"), None);

    let got = calls(&ok.log);
    assert_eq!(got.len(), 1, "exactly one webhook: {got:?}");
    assert!(got[0].verified, "{got:?}");
    assert_eq!(got[0].status, 204);
    assert_eq!(got[0].id.as_deref(), Some(key_ok.as_str()));
    let body: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "reminder.due");
    assert_eq!(body["data"]["dueOn"], "2027-02-28");
    assert!(body["timestamp"].is_string());

    // 3. A tampered body, sent by the test with a signature of the original: refused.
    let ts = Utc::now().timestamp();
    let signature = ok.secret.sign(&key_ok, ts, got[0].body.as_bytes()).unwrap();
    let tampered = got[0].body.replace("2027-02-28", "2099-02-28");
    let client = reqwest::Client::new();
    let send = |body: String| {
        client
            .post(ok.url())
            .header("webhook-id", key_ok.as_str())
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature.as_str())
            .body(body)
            .send()
    };
    assert_eq!(send(tampered).await.unwrap().status().as_u16(), 401);
    // The same request with the body as signed verifies (the check is not vacuous).
    assert_eq!(
        send(got[0].body.clone()).await.unwrap().status().as_u16(),
        204
    );
    let got = calls(&ok.log);
    assert_eq!(got.len(), 3);
    assert!(!got[1].verified && got[2].verified, "{got:?}");

    // 4. Failing its first three calls, the receiver still gets the event: four attempts, one
    // webhook-id, every call verified; deduplicated by id, one event.
    let ds = settled(store, t_flaky, 1).await;
    assert_eq!(ds[0].status, "delivered");
    assert_eq!(ds[0].attempts, 4);
    let got = calls(&flaky.log);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().all(|c| c.verified), "{got:?}");
    assert_eq!(
        got.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![500, 500, 500, 204]
    );
    let ids: std::collections::BTreeSet<_> = got.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        ids.into_iter().next().unwrap().as_deref(),
        Some(key_flaky.as_str())
    );
    let tx = store.tenant_tx(t_flaky).await.unwrap();
    let attempts = tx.delivery_attempts(ds[0].id).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>(),
        vec!["failed", "failed", "failed", "delivered"]
    );

    // 5. 410 Gone: dead at once, the endpoint disabled, the owner told.
    let ds = settled(store, t_gone, 1).await;
    assert_eq!(ds[0].status, "dead");
    assert_eq!(ds[0].attempts, 1);
    assert_eq!(ds[0].last_status_code, Some(410));
    assert_eq!(calls(&gone.log).len(), 1);
    let tx = store.tenant_tx(t_gone).await.unwrap();
    let ep = tx.webhook_endpoint(gone_ep).await.unwrap().unwrap();
    assert!(!ep.enabled);
    assert_eq!(ep.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(tx.unread_notification_count(gone_owner).await.unwrap(), 1);
    tx.rollback().await.unwrap();

    // 6. A receiver that always fails: ten attempts (reminders.rs MAX_ATTEMPTS), then dead;
    // every try carried the same webhook-id. The endpoint stays enabled: ten failures, but
    // over seconds, not DISABLE_AFTER_DAYS (5 days).
    let ds = settled(store, t_down, 1).await;
    assert_eq!(ds[0].status, "dead");
    assert_eq!(ds[0].attempts, 10);
    assert_eq!(ds[0].next_attempt_at, None);
    let got = calls(&down.log);
    assert_eq!(got.len(), 10);
    assert!(
        got.iter()
            .all(|c| c.id.as_deref() == Some(key_down.as_str()) && c.verified)
    );
    let tx = store.tenant_tx(t_down).await.unwrap();
    let ep = tx.webhook_endpoint(down_ep).await.unwrap().unwrap();
    assert!(ep.enabled);
    assert_eq!(ep.consecutive_failures, 10);
    tx.rollback().await.unwrap();

    // Nothing more arrives afterwards: still one mail and one webhook of the first tenant.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(calls(&ok.log).len(), 3);
    assert_eq!(std::fs::read_dir(&mail_dir).unwrap().count(), 1);

    // 7. A share event (no policy of its own): deliver.rs `share_event_policy`, the owners and
    // compliance managers on every channel. The tenant has one member, its owner, and no
    // endpoint: one e-mail to the owner's address and one in-app notification.
    let (t_share, share_owner) = tenant(store, &format!("{tag}-share")).await;
    let grant = Uuid::now_v7();
    let mut tx = store.tenant_tx(t_share).await.unwrap();
    let event_id = tx
        .queue_event(PeerEvent {
            topic: "share.revoked".into(),
            subject_type: "ShareGrant".into(),
            subject_id: grant.to_string(),
            payload: serde_json::json!({"grantId": grant, "change": "revoked", "title": "SOC 2 report"}),
            dedupe_key: format!("{grant}:revoked"),
        })
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let ds = settled(store, t_share, 2).await;
    let mut channels: Vec<_> = ds
        .iter()
        .map(|d| (d.channel.as_str(), d.status.as_str()))
        .collect();
    channels.sort_unstable();
    assert_eq!(
        channels,
        vec![("email", "delivered"), ("in-app", "delivered")]
    );
    let in_app = ds.iter().find(|d| d.channel == "in-app").unwrap();
    assert_eq!(in_app.target, share_owner.to_string());
    let owner_address = format!("owner@{tag}-share.example");
    assert_eq!(
        ds.iter().find(|d| d.channel == "email").unwrap().target,
        owner_address
    );
    let tx = store.tenant_tx(t_share).await.unwrap();
    assert_eq!(tx.unread_notification_count(share_owner).await.unwrap(), 1);
    tx.rollback().await.unwrap();
    // Fanning the event out again writes nothing (it is relayed; and the keys are taken).
    let again = grc_worker::deliver::fan_out(store, t_share.tenant_id(), event_id, Utc::now())
        .await
        .unwrap();
    assert_eq!(again, grc_worker::deliver::FanOut::default());
    assert_eq!(deliveries(store, t_share).await.len(), 2);
    let start_wait = Instant::now();
    while std::fs::read_dir(&mail_dir).unwrap().count() < 2 {
        assert!(start_wait.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mail = std::fs::read_to_string(&files[1]).unwrap();
    assert_eq!(header(&mail, "To"), Some(owner_address.as_str()));
    // No due date in a share event: the subject is the title alone (email.rs `render`).
    assert_eq!(header(&mail, "Subject"), Some("SOC 2 report"));

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(15), worker)
        .await
        .expect("the loop stops")
        .unwrap()
        .unwrap();
    drop(smtp);
    let _ = std::fs::remove_dir_all(&mail_dir);
}

/// Who a `reminder.due` reaches (deliver.rs `fan_out`): the members holding a named role, the
/// item's owner for `subject_owner`, members named by id, and external addresses; one e-mail
/// per address whatever its case; in-app to members only; nobody else. Run with no delivery
/// loop, so the deliveries stay pending.
async fn recipients(store: &Store, tag: &str) {
    let slug = format!("{tag}-rcpt");
    let (t, _owner) = tenant(store, &slug).await;
    let ptx = store.platform_tx().await.unwrap();
    let mut users = Vec::new();
    for local in ["cm", "contrib", "viewer", "itemowner"] {
        let email = Email::parse(&format!("{local}@{slug}.example")).unwrap();
        users.push(ptx.ensure_user(&email, None).await.unwrap().0.id);
    }
    let mut tx = ptx.enter_tenant(t).await.unwrap();
    let [cm, contrib, viewer, item_owner] = users.try_into().unwrap();
    tx.add_member(cm, Role::ComplianceManager).await.unwrap();
    tx.add_member(contrib, Role::Contributor).await.unwrap();
    tx.add_member(viewer, Role::Viewer).await.unwrap();
    tx.add_member(item_owner, Role::Contributor).await.unwrap();
    audited_commit(tx, "members").await;

    let mut tx = store.tenant_tx(t).await.unwrap();
    let event_id = tx
        .queue_event(PeerEvent {
            topic: "reminder.due".into(),
            subject_type: "Risk".into(),
            subject_id: "r-1".into(),
            payload: serde_json::json!({
                "title": "Risk review",
                "dueOn": "2027-03-01",
                "recipients": {
                    "roles": ["compliance_manager", "subject_owner"],
                    "userIds": [viewer.0],
                    "emails": [format!("CM@{slug}.example"), "ext@partner.example"],
                },
                "channels": ["email", "in-app"],
                "subjectOwnerId": item_owner.0,
            }),
            dedupe_key: "rem:test:r-1".into(),
        })
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let f = grc_worker::deliver::fan_out(store, t.tenant_id(), event_id, Utc::now())
        .await
        .unwrap();
    // E-mail: cm (named by role and, upper-cased, as an address: once), viewer (by id), the
    // item's owner, ext = 4; in-app: cm, viewer, item owner = 3. The tenant owner and the other
    // contributor are not named.
    assert_eq!((f.created, f.existing, f.relayed), (7, 0, true));
    let mut got: Vec<(String, String)> = deliveries(store, t)
        .await
        .into_iter()
        .map(|d| (d.channel, d.target))
        .collect();
    got.sort();
    let mut want = vec![
        ("email".to_owned(), format!("cm@{slug}.example")),
        ("email".to_owned(), format!("viewer@{slug}.example")),
        ("email".to_owned(), format!("itemowner@{slug}.example")),
        ("email".to_owned(), "ext@partner.example".to_owned()),
        ("in-app".to_owned(), cm.0.to_string()),
        ("in-app".to_owned(), viewer.0.to_string()),
        ("in-app".to_owned(), item_owner.0.to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// The relay's batches (deliver.rs `relay_outbox`): 120 events of one tenant (three chunks of
/// at most `FAN_OUT_CHUNK` = 50) and 3 of another, fanned out in one call, each into its one
/// e-mail to the tenant's owner; every event relayed once, nothing written twice when it runs
/// again, and each tenant's deliveries only its own.
async fn relay_batches(store: &Store, tag: &str) {
    let (t, _) = tenant(store, &format!("{tag}-batch-a")).await;
    let (u, _) = tenant(store, &format!("{tag}-batch-b")).await;
    let mut events = Vec::new();
    for (scope, n) in [(t, 120), (u, 3)] {
        let mut tx = store.tenant_tx(scope).await.unwrap();
        let batch = (0..n)
            .map(|i| PeerEvent {
                topic: "reminder.due".into(),
                subject_type: "Risk".into(),
                subject_id: format!("r-{i}"),
                payload: serde_json::json!({
                    "title": format!("Risk review {i}"),
                    "recipients": {"roles": ["owner"], "userIds": [], "emails": []},
                    "channels": ["email"],
                }),
                dedupe_key: format!("rem:batch:{i}"),
            })
            .collect();
        let ids: Vec<Uuid> = tx
            .queue_events(batch)
            .await
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
        tx.commit().await.unwrap();
        events.push((scope, ids));
    }
    let relayed = grc_worker::deliver::relay_outbox(store, 1000)
        .await
        .unwrap();
    assert!(relayed >= 123, "{relayed}");
    for ((scope, ids), n) in events.iter().zip([120usize, 3]) {
        let ds = deliveries(store, *scope).await;
        assert_eq!(ds.len(), n);
        let owner = format!(
            "owner@{tag}-batch-{}.example",
            if n == 120 { "a" } else { "b" }
        );
        assert!(ds.iter().all(|d| d.channel == "email" && d.target == owner));
        let mut from: Vec<Uuid> = ds.iter().filter_map(|d| d.outbox_event_id).collect();
        from.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(from, want);
        // Again: relayed already, nothing written.
        let again = grc_worker::deliver::fan_out_events(store, scope.tenant_id(), ids, Utc::now())
            .await
            .unwrap();
        assert_eq!(again, grc_worker::deliver::FanOutBatch::default());
        // Another tenant's ids fan out nothing in this tenant.
        let other = if n == 120 { &events[1].1 } else { &events[0].1 };
        let cross =
            grc_worker::deliver::fan_out_events(store, scope.tenant_id(), other, Utc::now())
                .await
                .unwrap();
        assert_eq!(cross, grc_worker::deliver::FanOutBatch::default());
    }
    assert_eq!(
        grc_worker::deliver::relay_outbox(store, 1000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliveries(store, t).await.len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_on_sqlite() {
    let (store, dir) = sqlite_store("grc-delivery-sqlite").await;
    exercise(&store, "lite").await;
    recipients(&store, "lite").await;
    relay_batches(&store, "lite").await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database, an owner that migrates, an application role that cannot
// bypass row-level security (as in grc-store's tests).
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_on_postgres() {
    let db = PgTestDb::create("grc_worker_test_owner", "grc_worker_test_app", "grc_wk_").await;
    let store = db.app_store().await;
    exercise(&store, "pg").await;
    recipients(&store, "pg").await;
    relay_batches(&store, "pg").await;
    drop(store);
    db.drop().await;
}
