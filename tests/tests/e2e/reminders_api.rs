//! Reminders and notifications through the API on both backends (issue 7): the tenant's
//! reminder settings and policies, a member's digest, webhook endpoints with secrets shown
//! once and rotated with an overlap, in-app notifications, the delivery log with its retry by
//! hand, calendar feeds fetched over HTTP; bad input that changes nothing, the role matrix of
//! the new operations, and tenant isolation for every new query and mutation.

use base64::Engine;
use chrono::{Days, Utc};
use grc_domain::reminders::{Channel, DueKind, calendar_uid};
use grc_domain::tenancy::Role;
use grc_domain::webhooks::DeliveryOutcome;
use grc_e2e::gql::{code, ok, run, top_code};
use grc_e2e::{Backend, Fixture, TestApp, both_backends, decode_global_id, global_id};
use grc_store::entity::reminders::notification;
use grc_store::{AttemptRecord, NewDelivery, TenantScope};
use serde_json::{Value, json};
use uuid::Uuid;

both_backends! {
    settings_policies_and_digest_are_set_and_reset => settings_flow;
    webhook_endpoints_show_secrets_once_and_rotate => webhooks_flow;
    notifications_and_the_delivery_log => inbox_and_log;
    bad_reminder_input_is_refused_and_changes_nothing => bad_input;
    reminder_roles_are_enforced => roles;
    another_tenant_neither_sees_nor_changes_reminders => isolation;
    a_calendar_feed_is_served_over_http_until_revoked => calendar_over_http;
}

const SETTINGS: &str = "{ reminderSettings { timeZone sendHour sendMinute isDefault } }";
const POLICIES: &str = "{ reminderPolicies { kind isDefault enabled leadDays overdueEveryDays
    channels recipients { roles userIds emails } escalation { withinDays roles }
    timeZone sendHour sendMinute } }";
const SET_SETTINGS: &str =
    "mutation($i: SetReminderSettingsInput!) { setReminderSettings(input: $i) {
    reminderSettings { timeZone sendHour sendMinute isDefault }
    userErrors { field message code rule } } }";
const SET_POLICY: &str = "mutation($i: SetReminderPolicyInput!) { setReminderPolicy(input: $i) {
    reminderPolicy { kind isDefault enabled leadDays overdueEveryDays channels
      recipients { roles userIds emails } timeZone sendHour }
    userErrors { field message code rule } } }";
const RESET_POLICY: &str = "mutation($k: ReminderKind!) { resetReminderPolicy(input: {kind: $k}) {
    reminderPolicy { kind isDefault leadDays } userErrors { field message code rule } } }";
const MY_DIGEST: &str =
    "{ myDigest { enabled sendHour sendMinute timeZone channels skipWhenEmpty isDefault } }";
const SET_DIGEST: &str = "mutation($i: SetMyDigestInput!) { setMyDigest(input: $i) {
    digest { enabled sendHour sendMinute timeZone channels skipWhenEmpty isDefault }
    userErrors { field message code rule } } }";
const ENDPOINTS: &str = "{ webhookEndpoints { id url description eventTypes enabled
    disabledReason disabledAt consecutiveFailures secrets { id createdAt expiresAt } } }";
const CREATE_EP: &str =
    "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
    webhookEndpoint { id url description eventTypes enabled secrets { id expiresAt } }
    secret userErrors { field message code } } }";
const UPDATE_EP: &str =
    "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) {
    webhookEndpoint { id url description eventTypes enabled disabledReason disabledAt }
    userErrors { field message code } } }";
const ROTATE_EP: &str = "mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) {
    webhookEndpoint { id secrets { id createdAt expiresAt } } secret
    userErrors { field message code } } }";
const DELETE_EP: &str = "mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) {
    deletedWebhookEndpointId userErrors { field message code } } }";
const NOTIFICATIONS: &str =
    "query($u: Boolean! = false) { notifications(unreadOnly: $u, first: 50) {
    edges { node { id topic title body readAt } } pageInfo { hasNextPage } }
    unreadNotificationCount }";
const MARK: &str = "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) {
    marked unreadCount userErrors { field message code } } }";
const FEEDS: &str = "{ calendarFeeds { id createdAt revokedAt } }";
const CREATE_FEED: &str = "mutation { createCalendarFeed {
    calendarFeed { id revokedAt } url userErrors { field message code } } }";
const REVOKE_FEED: &str = "mutation($id: ID!) { revokeCalendarFeed(input: {id: $id}) {
    calendarFeed { id revokedAt } userErrors { field message code } } }";
const DELIVERIES: &str = "query($s: DeliveryStatus, $c: ReminderChannel) {
    deliveries(status: $s, channel: $c, first: 50) { edges { node { id channel target status
      attemptCount lastStatusCode lastError
      attempts { attemptedAt outcome statusCode error durationMs } } } } }";
const RETRY: &str = "mutation($id: ID!) { retryDelivery(input: {id: $id}) {
    delivery { id status attemptCount attempts { outcome } } userErrors { field message code } } }";

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
        slug,
        &[
            ("owner", Role::Owner),
            ("cm", Role::ComplianceManager),
            ("contrib", Role::Contributor),
            ("auditor", Role::Auditor),
            ("viewer", Role::Viewer),
        ],
    )
    .await
}

/// A query that must succeed; its data.
async fn read(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let a = app.gql(token, None, query, vars).await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data().clone()
}

fn policy_of<'a>(policies: &'a Value, kind: &str) -> &'a Value {
    policies["reminderPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap()
}

/// The user errors' (field after `input`, code, rule).
fn errors(p: &Value) -> Vec<(String, String, String)> {
    p["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field: Vec<&str> = e["field"]
                .as_array()
                .unwrap()
                .iter()
                .skip(1)
                .map(|s| s.as_str().unwrap())
                .collect();
            (
                field.join("."),
                e["code"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn scope(f: &Fixture) -> TenantScope {
    TenantScope::new(f.tenant.id)
}

/// Writes in-app notifications for a member, as the worker would; their ids.
async fn notify(app: &TestApp, f: &Fixture, who: &str, titles: &[&str]) -> Vec<Uuid> {
    let mut tx = app.store.tenant_tx(scope(f)).await.unwrap();
    let mut ids = Vec::new();
    for t in titles {
        let id = Uuid::now_v7();
        let new = tx
            .insert_notification(notification::Model {
                tenant_id: Uuid::nil(),
                id,
                user_id: f.user_ids[who],
                delivery_id: None,
                topic: "reminder.certificate-expiry".into(),
                title: (*t).into(),
                body: format!("{t}: body"),
                subject_type: Some("certificate".into()),
                subject_id: Some(Uuid::nil().to_string()),
                link: None,
                created_at: Utc::now(),
                read_at: None,
            })
            .await
            .unwrap();
        assert!(new);
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

/// Writes an e-mail delivery and records one failed attempt on it, as the worker would: with a
/// next attempt it is failing, without one it is dead. Its id.
async fn failed_delivery(app: &TestApp, f: &Fixture, key: &str, retry: bool) -> Uuid {
    let mut tx = app.store.tenant_tx(scope(f)).await.unwrap();
    let now = Utc::now();
    let (d, new) = tx
        .insert_delivery(&NewDelivery {
            delivery_key: key.into(),
            outbox_event_id: None,
            reminder_id: None,
            channel: Channel::Email,
            target: "ops@example.com".into(),
            due_at: now,
        })
        .await
        .unwrap();
    assert!(new);
    tx.record_delivery_attempt(
        d.id,
        &AttemptRecord {
            attempted_at: now,
            outcome: DeliveryOutcome::Failed,
            status_code: Some(554),
            error: Some("554 transaction failed".into()),
            duration_ms: Some(12),
            next_attempt_at: retry.then(|| now + chrono::TimeDelta::minutes(5)),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    d.id
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let d = read(
        app,
        token,
        "{ auditEvents(last: 100) { edges { node { action } } } }",
        json!({}),
    )
    .await;
    d["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------

async fn settings_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");

    // Defaults (issue 7): UTC at 09:00; every one of the 17 kinds has its default policy.
    let s = read(&app, cm, SETTINGS, json!({})).await;
    assert_eq!(
        s["reminderSettings"],
        json!({ "timeZone": "UTC", "sendHour": 9, "sendMinute": 0, "isDefault": true })
    );
    let p = read(&app, cm, POLICIES, json!({})).await;
    assert_eq!(p["reminderPolicies"].as_array().unwrap().len(), 17);
    let cert = policy_of(&p, "CERTIFICATE_EXPIRY");
    // The certificate's default lead times are the ones issue 7 names: 90, 60, 30, 7 and 1.
    assert_eq!(cert["leadDays"], json!([90, 60, 30, 7, 1]));
    assert_eq!(cert["isDefault"], true);
    assert_eq!(cert["timeZone"], "UTC");

    // The tenant's zone and hour apply to every policy.
    let r = ok(
        &app,
        cm,
        "setReminderSettings",
        SET_SETTINGS,
        json!({ "i": { "timeZone": "America/New_York", "sendHour": 8, "sendMinute": 30 } }),
    )
    .await;
    assert_eq!(
        r["reminderSettings"],
        json!({ "timeZone": "America/New_York", "sendHour": 8, "sendMinute": 30,
                "isDefault": false })
    );
    let p = read(&app, cm, POLICIES, json!({})).await;
    let cert = policy_of(&p, "CERTIFICATE_EXPIRY");
    assert_eq!(cert["timeZone"], "America/New_York");
    assert_eq!(cert["sendHour"], 8);

    // A policy of the tenant's own, read back; the lead times come largest first.
    let r = ok(
        &app,
        cm,
        "setReminderPolicy",
        SET_POLICY,
        json!({ "i": { "kind": "CERTIFICATE_EXPIRY", "leadDays": [10, 45],
                 "overdueEveryDays": 7, "channels": ["EMAIL", "IN_APP"],
                 "recipients": { "roles": ["OWNER"],
                                 "userIds": [global_id("User", f.user_ids["contrib"])],
                                 "emails": ["ops@example.com"] } } }),
    )
    .await;
    let mine = &r["reminderPolicy"];
    assert_eq!(mine["isDefault"], false);
    assert_eq!(mine["leadDays"], json!([45, 10]));
    assert_eq!(mine["overdueEveryDays"], 7);
    assert_eq!(mine["channels"], json!(["EMAIL", "IN_APP"]));
    assert_eq!(
        mine["recipients"],
        json!({ "roles": ["OWNER"], "userIds": [global_id("User", f.user_ids["contrib"])],
                "emails": ["ops@example.com"] })
    );
    assert_eq!(mine["timeZone"], "America/New_York");
    let p = read(&app, f.token("viewer"), POLICIES, json!({})).await;
    assert_eq!(
        policy_of(&p, "CERTIFICATE_EXPIRY")["leadDays"],
        json!([45, 10])
    );
    assert_eq!(policy_of(&p, "BAA_END")["isDefault"], true);

    // Reset: the default again.
    let r = ok(
        &app,
        cm,
        "resetReminderPolicy",
        RESET_POLICY,
        json!({ "k": "CERTIFICATE_EXPIRY" }),
    )
    .await;
    assert_eq!(
        r["reminderPolicy"],
        json!({ "kind": "CERTIFICATE_EXPIRY", "isDefault": true, "leadDays": [90, 60, 30, 7, 1] })
    );

    // A member's digest: off by default (09:00, e-mail, nothing on empty days), then set.
    let d = read(&app, f.token("viewer"), MY_DIGEST, json!({})).await;
    assert_eq!(
        d["myDigest"],
        json!({ "enabled": false, "sendHour": 9, "sendMinute": 0, "timeZone": null,
                "channels": ["EMAIL"], "skipWhenEmpty": true, "isDefault": true })
    );
    ok(
        &app,
        f.token("viewer"),
        "setMyDigest",
        SET_DIGEST,
        json!({ "i": { "enabled": true, "sendHour": 7, "timeZone": "Europe/Berlin",
                 "channels": ["EMAIL", "IN_APP"], "skipWhenEmpty": false } }),
    )
    .await;
    let d = read(&app, f.token("viewer"), MY_DIGEST, json!({})).await;
    assert_eq!(
        d["myDigest"],
        json!({ "enabled": true, "sendHour": 7, "sendMinute": 0, "timeZone": "Europe/Berlin",
                "channels": ["EMAIL", "IN_APP"], "skipWhenEmpty": false, "isDefault": false })
    );
    // Another member's digest is untouched.
    let d = read(&app, cm, MY_DIGEST, json!({})).await;
    assert_eq!(d["myDigest"]["isDefault"], true);

    // Every change left its audit event.
    let actions = audit_actions(&app, f.token("owner")).await;
    for a in [
        "reminder_settings.set",
        "reminder_policy.set",
        "reminder_policy.reset",
        "digest_preference.set",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

async fn webhooks_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let p = ok(
        &app,
        cm,
        "createWebhookEndpoint",
        CREATE_EP,
        json!({ "i": { "url": "https://hooks.example.com/grc", "description": "SIEM",
                 "eventTypes": ["reminder.due"] } }),
    )
    .await;
    let ep = p["webhookEndpoint"].clone();
    let id = ep["id"].clone();
    assert_eq!(ep["url"], "https://hooks.example.com/grc");
    assert_eq!(ep["eventTypes"], json!(["reminder.due"]));
    assert_eq!(ep["enabled"], true);
    // The secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks).
    let secret = p["secret"].as_str().unwrap().to_owned();
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(ep["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(ep["secrets"][0]["expiresAt"], Value::Null);

    // http is accepted only to a loopback host (for tests).
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/",
    ] {
        ok(
            &app,
            cm,
            "createWebhookEndpoint",
            CREATE_EP,
            json!({ "i": { "url": url } }),
        )
        .await;
    }
    let list = read(&app, f.token("viewer"), ENDPOINTS, json!({})).await;
    assert_eq!(list["webhookEndpoints"].as_array().unwrap().len(), 4);
    // The secret is never readable again: not in the listing, not in any field.
    assert!(!list.to_string().contains(&secret));

    // Rotation: a new secret once; the old one expires 24 hours later (the overlap).
    let r = ok(
        &app,
        cm,
        "rotateWebhookSecret",
        ROTATE_EP,
        json!({ "id": id }),
    )
    .await;
    let second = r["secret"].as_str().unwrap();
    assert!(second.starts_with("whsec_") && second != secret);
    let secrets = r["webhookEndpoint"]["secrets"].as_array().unwrap().clone();
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        secrets[0]["expiresAt"],
        Value::Null,
        "the newest is current"
    );
    let created =
        chrono::DateTime::parse_from_rfc3339(secrets[0]["createdAt"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(secrets[1]["expiresAt"].as_str().unwrap()).unwrap();
    // Both are set from one `now` in one transaction: exactly 24 h apart.
    assert_eq!((expires - created).num_hours(), 24);

    // Disable by hand, then re-enable: the reason goes.
    let u = ok(
        &app,
        cm,
        "updateWebhookEndpoint",
        UPDATE_EP,
        json!({ "i": { "id": id, "enabled": false, "description": "SIEM (paused)" } }),
    )
    .await;
    assert_eq!(u["webhookEndpoint"]["enabled"], false);
    assert_eq!(u["webhookEndpoint"]["disabledReason"], "manual");
    assert!(u["webhookEndpoint"]["disabledAt"].is_string());
    let u = ok(
        &app,
        cm,
        "updateWebhookEndpoint",
        UPDATE_EP,
        json!({ "i": { "id": id, "enabled": true, "eventTypes": [],
                 "url": "https://hooks.example.com/v2" } }),
    )
    .await;
    assert_eq!(
        u["webhookEndpoint"],
        json!({ "id": id, "url": "https://hooks.example.com/v2", "description": "SIEM (paused)",
                "eventTypes": [], "enabled": true, "disabledReason": null, "disabledAt": null })
    );

    // Delete.
    let d = ok(
        &app,
        cm,
        "deleteWebhookEndpoint",
        DELETE_EP,
        json!({ "id": id }),
    )
    .await;
    assert_eq!(d["deletedWebhookEndpointId"], id);
    let list = read(&app, cm, ENDPOINTS, json!({})).await;
    assert_eq!(list["webhookEndpoints"].as_array().unwrap().len(), 3);
    let actions = audit_actions(&app, f.token("owner")).await;
    for a in [
        "webhook_endpoint.create",
        "webhook_endpoint.rotate_secret",
        "webhook_endpoint.update",
        "webhook_endpoint.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
    // No audit event carries a secret.
    let trail = read(
        &app,
        f.token("owner"),
        "{ auditEvents(last: 100) { edges { node { change } } } }",
        json!({}),
    )
    .await;
    assert!(!trail.to_string().contains("whsec_"));
}

async fn inbox_and_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let owner = f.token("owner");
    let mine = notify(&app, &f, "owner", &["one", "two", "three"]).await;
    let theirs = notify(&app, &f, "cm", &["cm's"]).await;

    let n = read(&app, owner, NOTIFICATIONS, json!({})).await;
    let titles: Vec<&str> = n["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["one", "two", "three"],
        "only one's own, oldest first"
    );
    assert_eq!(n["unreadNotificationCount"], 3);

    // Mark one read; another member's id changes nothing.
    let r = ok(
        &app,
        owner,
        "markNotificationsRead",
        MARK,
        json!({ "i": { "ids": [global_id("Notification", mine[0]),
                               global_id("Notification", theirs[0])] } }),
    )
    .await;
    assert_eq!(
        (r["marked"].clone(), r["unreadCount"].clone()),
        (json!(1), json!(2))
    );
    let n = read(&app, f.token("cm"), NOTIFICATIONS, json!({ "u": true })).await;
    assert_eq!(
        n["unreadNotificationCount"], 1,
        "cm's notification is still unread"
    );
    let n = read(&app, owner, NOTIFICATIONS, json!({ "u": true })).await;
    assert_eq!(n["notifications"]["edges"].as_array().unwrap().len(), 2);
    let r = ok(
        &app,
        owner,
        "markNotificationsRead",
        MARK,
        json!({ "i": { "all": true } }),
    )
    .await;
    assert_eq!(
        (r["marked"].clone(), r["unreadCount"].clone()),
        (json!(2), json!(0))
    );
    // Neither or both of ids and all: refused.
    for i in [json!({}), json!({ "ids": [], "all": true })] {
        let p = run(
            &app,
            owner,
            "markNotificationsRead",
            MARK,
            json!({ "i": i }),
        )
        .await;
        assert_eq!(code(&p), "BAD_USER_INPUT");
    }

    // The delivery log: a failing delivery and a dead one, each with its attempt.
    let failing = failed_delivery(&app, &f, "k-failing", true).await;
    let dead = failed_delivery(&app, &f, "k-dead", false).await;
    let all = read(&app, f.token("viewer"), DELIVERIES, json!({})).await;
    assert_eq!(all["deliveries"]["edges"].as_array().unwrap().len(), 2);
    let d = read(&app, owner, DELIVERIES, json!({ "s": "DEAD" })).await;
    let edges = d["deliveries"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    let node = &edges[0]["node"];
    assert_eq!(node["id"], global_id("Delivery", dead));
    assert_eq!(node["channel"], "EMAIL");
    assert_eq!(node["target"], "ops@example.com");
    assert_eq!(node["attemptCount"], 1);
    assert_eq!(node["lastStatusCode"], 554);
    assert_eq!(node["attempts"][0]["outcome"], "FAILED");
    assert_eq!(node["attempts"][0]["statusCode"], 554);
    assert_eq!(node["attempts"][0]["error"], "554 transaction failed");
    assert_eq!(node["attempts"][0]["durationMs"], 12);
    let d = read(&app, owner, DELIVERIES, json!({ "s": "FAILING" })).await;
    assert_eq!(
        d["deliveries"]["edges"][0]["node"]["id"],
        global_id("Delivery", failing)
    );
    let d = read(&app, owner, DELIVERIES, json!({ "c": "WEBHOOK" })).await;
    assert_eq!(d["deliveries"]["edges"], json!([]));

    // Retry by hand: the dead one is pending again, its attempts kept; a failing one is not
    // dead (CONFLICT), and retrying twice is a CONFLICT too.
    let r = ok(
        &app,
        f.token("cm"),
        "retryDelivery",
        RETRY,
        json!({ "id": global_id("Delivery", dead) }),
    )
    .await;
    assert_eq!(r["delivery"]["status"], "PENDING");
    assert_eq!(r["delivery"]["attempts"], json!([{ "outcome": "FAILED" }]));
    for id in [dead, failing] {
        let p = run(
            &app,
            owner,
            "retryDelivery",
            RETRY,
            json!({ "id": global_id("Delivery", id) }),
        )
        .await;
        assert_eq!(code(&p), "CONFLICT");
    }
    assert!(
        audit_actions(&app, owner)
            .await
            .iter()
            .any(|a| a == "delivery.retry")
    );
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let before_settings = read(&app, cm, SETTINGS, json!({})).await;
    let before_policies = read(&app, cm, POLICIES, json!({})).await;

    // Settings: an unknown zone, hour 24, minute 60: every rule broken is reported.
    let p = run(
        &app,
        cm,
        "setReminderSettings",
        SET_SETTINGS,
        json!({ "i": { "timeZone": "Mars/Olympus_Mons", "sendHour": 24, "sendMinute": 60 } }),
    )
    .await;
    assert_eq!(
        errors(&p),
        [
            (
                "timeZone".into(),
                "BAD_USER_INPUT".into(),
                "unknown-time-zone".into()
            ),
            (
                "sendHour".into(),
                "BAD_USER_INPUT".into(),
                "send-hour-out-of-range".into()
            ),
            (
                "sendMinute".into(),
                "BAD_USER_INPUT".into(),
                "send-minute-out-of-range".into()
            ),
        ]
    );
    // Zone names are case-sensitive, as in the tz database.
    let p = run(
        &app,
        cm,
        "setReminderSettings",
        SET_SETTINGS,
        json!({ "i": { "timeZone": "europe/berlin", "sendHour": 9 } }),
    )
    .await;
    assert_eq!(errors(&p)[0].2, "unknown-time-zone");

    // Policies: the domain's rules, each with its code and field.
    let cases = [
        (
            json!({ "leadDays": [30, 30], "channels": ["EMAIL"],
                    "recipients": { "roles": ["OWNER"] } }),
            vec![("leadDays", "duplicate-lead-time")],
        ),
        (
            json!({ "leadDays": [731], "overdueEveryDays": 0, "channels": [],
                    "recipients": {} }),
            vec![
                ("leadDays", "lead-time-out-of-range"),
                ("overdueEveryDays", "overdue-cadence-out-of-range"),
                ("channels", "no-channels"),
            ],
        ),
        (
            json!({ "leadDays": [7], "channels": ["EMAIL"], "recipients": {} }),
            vec![("recipients", "no-recipients")],
        ),
        (
            json!({ "leadDays": [7], "channels": ["EMAIL"],
                    "recipients": { "emails": ["not an address"] } }),
            vec![("recipients.emails", "invalid-email")],
        ),
        (
            json!({ "leadDays": [7], "channels": ["WEBHOOK"], "recipients": {},
                    "escalation": { "withinDays": 3, "roles": [] } }),
            vec![("escalation.roles", "escalation-without-roles")],
        ),
        (
            json!({ "leadDays": [], "channels": ["WEBHOOK"], "recipients": {} }),
            vec![("leadDays", "nothing-to-send")],
        ),
    ];
    for (mut input, expected) in cases {
        input["kind"] = json!("CERTIFICATE_EXPIRY");
        let p = run(
            &app,
            cm,
            "setReminderPolicy",
            SET_POLICY,
            json!({ "i": input }),
        )
        .await;
        let got: Vec<(String, String)> = errors(&p)
            .into_iter()
            .map(|(f, c, r)| {
                assert_eq!(c, "BAD_USER_INPUT");
                (f, r)
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, r)| ((*f).to_owned(), (*r).to_owned()))
            .collect();
        assert_eq!(got, expected, "{input}");
        assert_eq!(p["reminderPolicy"], Value::Null);
    }
    // A recipient who is not a member (here: a member of no tenant of ours).
    let p = run(
        &app,
        cm,
        "setReminderPolicy",
        SET_POLICY,
        json!({ "i": { "kind": "BAA_END", "leadDays": [7], "channels": ["EMAIL"],
                 "recipients": { "userIds": [global_id("User", Uuid::now_v7())] } } }),
    )
    .await;
    assert_eq!(
        errors(&p),
        [(
            "recipients.userIds.0".into(),
            "NOT_FOUND".into(),
            String::new()
        )]
    );

    // A digest by webhook, in an unknown zone.
    let p = run(
        &app,
        cm,
        "setMyDigest",
        SET_DIGEST,
        json!({ "i": { "enabled": true, "timeZone": "Nowhere/City",
                 "channels": ["WEBHOOK"] } }),
    )
    .await;
    assert_eq!(
        errors(&p),
        [
            (
                "timeZone".into(),
                "BAD_USER_INPUT".into(),
                "unknown-time-zone".into()
            ),
            (
                "channels".into(),
                "BAD_USER_INPUT".into(),
                "channel-not-allowed".into()
            ),
        ]
    );

    // Webhook URLs: https, or http to a loopback host only; nothing else.
    for url in [
        "http://hooks.example.com/grc",
        "http://10.0.0.5/hook",
        "ftp://hooks.example.com/",
        "https://user:secret@hooks.example.com/",
        "hooks.example.com/grc",
        "",
    ] {
        let p = run(
            &app,
            cm,
            "createWebhookEndpoint",
            CREATE_EP,
            json!({ "i": { "url": url } }),
        )
        .await;
        assert_eq!(errors(&p)[0].0, "url", "{url}");
        assert_eq!(errors(&p)[0].1, "BAD_USER_INPUT", "{url}");
        assert_eq!(p["secret"], Value::Null);
    }
    let p = run(
        &app,
        cm,
        "createWebhookEndpoint",
        CREATE_EP,
        json!({ "i": { "url": "https://ok.example.com", "eventTypes": ["a", "a"] } }),
    )
    .await;
    assert_eq!(errors(&p)[0].0, "eventTypes.1");

    // An unknown endpoint, and ids of the wrong kind.
    let unknown = global_id("WebhookEndpoint", Uuid::now_v7());
    let wrong_kind = global_id("Vendor", Uuid::now_v7());
    for id in [&unknown, &wrong_kind] {
        let p = run(
            &app,
            cm,
            "rotateWebhookSecret",
            ROTATE_EP,
            json!({ "id": id }),
        )
        .await;
        assert_eq!(code(&p), "NOT_FOUND");
        let p = run(
            &app,
            cm,
            "deleteWebhookEndpoint",
            DELETE_EP,
            json!({ "id": id }),
        )
        .await;
        assert_eq!(code(&p), "NOT_FOUND");
        let p = run(
            &app,
            cm,
            "updateWebhookEndpoint",
            UPDATE_EP,
            json!({ "i": { "id": id, "enabled": false } }),
        )
        .await;
        assert_eq!(code(&p), "NOT_FOUND");
    }
    let p = run(
        &app,
        cm,
        "retryDelivery",
        RETRY,
        json!({ "id": global_id("Delivery", Uuid::now_v7()) }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = run(
        &app,
        cm,
        "revokeCalendarFeed",
        REVOKE_FEED,
        json!({ "id": global_id("CalendarFeed", Uuid::now_v7()) }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");

    // A bad update leaves the endpoint as it was.
    let ep = ok(
        &app,
        cm,
        "createWebhookEndpoint",
        CREATE_EP,
        json!({ "i": { "url": "https://hooks.example.com/a" } }),
    )
    .await["webhookEndpoint"]["id"]
        .clone();
    let before_endpoints = read(&app, cm, ENDPOINTS, json!({})).await;
    let p = run(
        &app,
        cm,
        "updateWebhookEndpoint",
        UPDATE_EP,
        json!({ "i": { "id": ep, "url": "http://example.com/", "enabled": false } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");

    // Nothing changed.
    assert_eq!(read(&app, cm, SETTINGS, json!({})).await, before_settings);
    assert_eq!(read(&app, cm, POLICIES, json!({})).await, before_policies);
    assert_eq!(read(&app, cm, ENDPOINTS, json!({})).await, before_endpoints);
    assert_eq!(
        read(&app, cm, MY_DIGEST, json!({})).await["myDigest"]["isDefault"],
        true
    );
}

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let dead = failed_delivery(&app, &f, "k-roles", false).await;
    let ep = ok(
        &app,
        f.token("cm"),
        "createWebhookEndpoint",
        CREATE_EP,
        json!({ "i": { "url": "https://hooks.example.com/a" } }),
    )
    .await["webhookEndpoint"]["id"]
        .clone();

    // Every member reads, and keeps their own inbox, digest and feeds.
    for who in ["owner", "cm", "contrib", "auditor", "viewer"] {
        let t = f.token(who);
        let d = read(
            &app,
            t,
            "{ reminderSettings { timeZone } reminderPolicies { kind } myDigest { enabled }
               webhookEndpoints { id } calendarFeeds { id } unreadNotificationCount
               notifications { edges { node { id } } }
               deliveries { edges { node { id } } } }",
            json!({}),
        )
        .await;
        assert_eq!(d["webhookEndpoints"].as_array().unwrap().len(), 1, "{who}");
        assert_eq!(
            d["deliveries"]["edges"].as_array().unwrap().len(),
            1,
            "{who}"
        );
        ok(
            &app,
            t,
            "setMyDigest",
            SET_DIGEST,
            json!({ "i": { "enabled": true } }),
        )
        .await;
        let feed = ok(&app, t, "createCalendarFeed", CREATE_FEED, json!({})).await;
        ok(
            &app,
            t,
            "revokeCalendarFeed",
            REVOKE_FEED,
            json!({ "id": feed["calendarFeed"]["id"] }),
        )
        .await;
        ok(
            &app,
            t,
            "markNotificationsRead",
            MARK,
            json!({ "i": { "all": true } }),
        )
        .await;
    }

    // Only owners and compliance managers change settings, policies, endpoints, or retry.
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "setReminderSettings",
            SET_SETTINGS,
            json!({ "i": { "timeZone": "Europe/Paris", "sendHour": 9 } }),
        ),
        (
            "setReminderPolicy",
            SET_POLICY,
            json!({ "i": { "kind": "RISK_REVIEW", "leadDays": [3], "channels": ["IN_APP"],
                     "recipients": { "roles": ["SUBJECT_OWNER"] } } }),
        ),
        (
            "resetReminderPolicy",
            RESET_POLICY,
            json!({ "k": "RISK_REVIEW" }),
        ),
        (
            "createWebhookEndpoint",
            CREATE_EP,
            json!({ "i": { "url": "https://hooks.example.com/b" } }),
        ),
        (
            "updateWebhookEndpoint",
            UPDATE_EP,
            json!({ "i": { "id": ep, "description": "changed" } }),
        ),
        ("rotateWebhookSecret", ROTATE_EP, json!({ "id": ep })),
    ];
    for who in ["contrib", "auditor", "viewer"] {
        for (name, q, vars) in &writes {
            assert_eq!(
                top_code(&app, f.token(who), q, vars.clone()).await,
                "FORBIDDEN",
                "{who} {name}"
            );
        }
        for (q, vars) in [
            (RETRY, json!({ "id": global_id("Delivery", dead) })),
            (DELETE_EP, json!({ "id": ep })),
        ] {
            assert_eq!(
                top_code(&app, f.token(who), q, vars).await,
                "FORBIDDEN",
                "{who}"
            );
        }
    }
    for who in ["owner", "cm"] {
        for (name, q, vars) in &writes {
            ok(&app, f.token(who), name, q, vars.clone()).await;
        }
    }
    ok(
        &app,
        f.token("owner"),
        "retryDelivery",
        RETRY,
        json!({ "id": global_id("Delivery", dead) }),
    )
    .await;
    ok(
        &app,
        f.token("cm"),
        "deleteWebhookEndpoint",
        DELETE_EP,
        json!({ "id": ep }),
    )
    .await;

    // A member's feed is theirs: another member cannot revoke it (not found).
    let feed = ok(
        &app,
        f.token("viewer"),
        "createCalendarFeed",
        CREATE_FEED,
        json!({}),
    )
    .await;
    let p = run(
        &app,
        f.token("owner"),
        "revokeCalendarFeed",
        REVOKE_FEED,
        json!({ "id": feed["calendarFeed"]["id"] }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let feeds = read(&app, f.token("viewer"), FEEDS, json!({})).await;
    let live = feeds["calendarFeeds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["revokedAt"].is_null())
        .count();
    assert_eq!(live, 1);
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "beta").await;
    let ep = ok(
        &app,
        a.token("cm"),
        "createWebhookEndpoint",
        CREATE_EP,
        json!({ "i": { "url": "https://alpha.example.com/hook" } }),
    )
    .await["webhookEndpoint"]["id"]
        .clone();
    let feed = ok(
        &app,
        a.token("owner"),
        "createCalendarFeed",
        CREATE_FEED,
        json!({}),
    )
    .await;
    let feed_id = feed["calendarFeed"]["id"].clone();
    let notes = notify(&app, &a, "owner", &["alpha's"]).await;
    let dead = failed_delivery(&app, &a, "k-alpha", false).await;
    ok(
        &app,
        a.token("cm"),
        "setReminderSettings",
        SET_SETTINGS,
        json!({ "i": { "timeZone": "Asia/Tokyo", "sendHour": 10 } }),
    )
    .await;
    let a_endpoints = read(&app, a.token("owner"), ENDPOINTS, json!({})).await;
    let a_deliveries = read(&app, a.token("owner"), DELIVERIES, json!({})).await;

    // B sees none of it.
    let bo = b.token("owner");
    let d = read(
        &app,
        bo,
        "{ reminderSettings { timeZone isDefault } webhookEndpoints { id } calendarFeeds { id }
           unreadNotificationCount notifications { edges { node { id } } }
           deliveries { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d,
        json!({ "reminderSettings": { "timeZone": "UTC", "isDefault": true },
                "webhookEndpoints": [], "calendarFeeds": [], "unreadNotificationCount": 0,
                "notifications": { "edges": [] }, "deliveries": { "edges": [] } })
    );
    // Nor changes it: A's ids are not found in B.
    let p = run(
        &app,
        bo,
        "updateWebhookEndpoint",
        UPDATE_EP,
        json!({ "i": { "id": ep, "url": "https://evil.example.com/" } }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = run(
        &app,
        bo,
        "rotateWebhookSecret",
        ROTATE_EP,
        json!({ "id": ep }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    assert_eq!(p["secret"], Value::Null);
    let p = run(
        &app,
        bo,
        "deleteWebhookEndpoint",
        DELETE_EP,
        json!({ "id": ep }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = run(
        &app,
        bo,
        "revokeCalendarFeed",
        REVOKE_FEED,
        json!({ "id": feed_id }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = run(
        &app,
        bo,
        "retryDelivery",
        RETRY,
        json!({ "id": global_id("Delivery", dead) }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = ok(
        &app,
        bo,
        "markNotificationsRead",
        MARK,
        json!({ "i": { "ids": [global_id("Notification", notes[0])] } }),
    )
    .await;
    assert_eq!(p["marked"], 0);
    // B's own settings and policies are B's.
    ok(
        &app,
        b.token("cm"),
        "setReminderPolicy",
        SET_POLICY,
        json!({ "i": { "kind": "CERTIFICATE_EXPIRY", "leadDays": [5], "channels": ["EMAIL"],
                 "recipients": { "roles": ["OWNER"] } } }),
    )
    .await;

    // A's data is as it was.
    assert_eq!(
        read(&app, a.token("owner"), ENDPOINTS, json!({})).await,
        a_endpoints
    );
    assert_eq!(
        read(&app, a.token("owner"), DELIVERIES, json!({})).await,
        a_deliveries
    );
    let n = read(&app, a.token("owner"), NOTIFICATIONS, json!({})).await;
    assert_eq!(n["unreadNotificationCount"], 1);
    let feeds = read(&app, a.token("owner"), FEEDS, json!({})).await;
    assert_eq!(feeds["calendarFeeds"][0]["revokedAt"], Value::Null);
    let p = read(&app, a.token("owner"), POLICIES, json!({})).await;
    assert_eq!(policy_of(&p, "CERTIFICATE_EXPIRY")["isDefault"], true);
    assert_eq!(
        policy_of(&p, "CERTIFICATE_EXPIRY")["timeZone"],
        "Asia/Tokyo"
    );
}

const CREATE_CERT: &str = "mutation($i: CreateCertificateInput!) { createCertificate(input: $i) {
    certificate { id } userErrors { field message code } } }";
const AUDIT_Q: &str = "mutation($i: RecordCertificationAuditInput!) {
    recordCertificationAudit(input: $i) { audit { id } userErrors { field message code } } }";
const DECISION_Q: &str = "mutation($i: RecordCertificationDecisionInput!) {
    recordCertificationDecision(input: $i) { decision { id } userErrors { field message code } } }";

async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn calendar_over_http(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "beta").await;
    let cm = a.token("cm");
    // A certificate decided 30 days ago with a printed expiry two years from today: its
    // validity ends on the printed expiry (certificates' lifecycle: "validUntil" is the
    // printed expiry of the cycle in effect).
    let today = Utc::now().date_naive();
    let decided = today - Days::new(30);
    let expiry = today + Days::new(730);
    let cert = ok(
        &app,
        cm,
        "createCertificate",
        CREATE_CERT,
        json!({ "i": { "standard": "ISO27001", "edition": "E2022", "certificateNumber": "CAL-1",
                 "certificationBody": "Example Certification Ltd", "accreditationBody": "UKAS",
                 "scope": "Clinical systems", "sites": ["Main campus"] } }),
    )
    .await["certificate"]["id"]
        .clone();
    ok(
        &app,
        cm,
        "recordCertificationAudit",
        AUDIT_Q,
        json!({ "i": { "certificateId": cert, "kind": "STAGE2",
                 "startDate": (today - Days::new(60)).to_string(),
                 "endDate": (today - Days::new(58)).to_string(),
                 "auditors": ["A. Auditor"] } }),
    )
    .await;
    ok(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": cert, "kind": "CERTIFICATION",
                 "decidedOn": decided.to_string(), "expiresOn": expiry.to_string(),
                 "reason": "Certification body decision" } }),
    )
    .await;

    // Any member may have a feed; the URL is shown once.
    let feed = ok(
        &app,
        a.token("viewer"),
        "createCalendarFeed",
        CREATE_FEED,
        json!({}),
    )
    .await;
    let path = feed["url"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("/calendar/grccal_") && path.ends_with(".ics"),
        "{path}"
    );
    let listed = read(&app, a.token("viewer"), FEEDS, json!({})).await;
    assert!(!listed.to_string().contains("grccal_"));

    let (status, ct, body) = fetch(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/calendar; charset=utf-8");
    assert!(
        body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{body}"
    );
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    // The expiry as an all-day event: DTSTART is the date (RFC 5545 VALUE=DATE), DTEND the
    // next day, and the UID is the item's stable uid.
    let uid = calendar_uid(
        a.tenant.id.0,
        decode_global_id(cert.as_str().unwrap()),
        DueKind::CertificateExpiry,
    );
    let start = format!("DTSTART;VALUE=DATE:{}", expiry.format("%Y%m%d"));
    let end = format!(
        "DTEND;VALUE=DATE:{}",
        (expiry + Days::new(1)).format("%Y%m%d")
    );
    let event = body
        .split("BEGIN:VEVENT\r\n")
        .find(|e| e.contains(&format!("UID:{uid}\r\n")))
        .unwrap_or_else(|| panic!("no event with UID {uid} in {body}"));
    assert!(event.contains(&format!("{start}\r\n")), "{event}");
    assert!(event.contains(&format!("{end}\r\n")), "{event}");
    assert!(event.contains("SUMMARY:ISO/IEC 27001 certificate CAL-1 expires\r\n"));
    // Every line within 75 octets.
    assert!(body.split("\r\n").all(|l| l.len() <= 75));

    // A second fetch: the same events, the same UIDs (calendar apps update, not duplicate).
    let (status, _, again) = fetch(&app, &path).await;
    assert_eq!(status, 200);
    let uids = |b: &str| -> Vec<String> {
        b.split("\r\n")
            .filter(|l| l.starts_with("UID:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(uids(&body), uids(&again));
    assert!(!uids(&body).is_empty());

    // Forged tokens: A's tenant and feed with a wrong secret; B's tenant with A's feed and
    // secret; garbage. All a bare 404.
    let token = path
        .strip_prefix("/calendar/")
        .unwrap()
        .strip_suffix(".ics")
        .unwrap();
    let parts: Vec<&str> = token.strip_prefix("grccal_").unwrap().split('_').collect();
    let wrong_secret = format!("grccal_{}_{}_{}", parts[0], parts[1], "0".repeat(64));
    let other_tenant = format!(
        "grccal_{}_{}_{}",
        b.tenant.id.0.simple(),
        parts[1],
        parts[2]
    );
    for t in [
        wrong_secret.as_str(),
        other_tenant.as_str(),
        "grccal_nope",
        "nothing",
    ] {
        let (status, _, body) = fetch(&app, &format!("/calendar/{t}.ics")).await;
        assert_eq!((status, body.as_str()), (404, ""), "{t}");
    }
    let (status, _, _) = fetch(&app, &format!("/calendar/{token}")).await;
    assert_eq!(status, 404, "the .ics suffix is part of the URL");

    // Revoked: 404.
    ok(
        &app,
        a.token("viewer"),
        "revokeCalendarFeed",
        REVOKE_FEED,
        json!({ "id": feed["calendarFeed"]["id"] }),
    )
    .await;
    let (status, _, body) = fetch(&app, &path).await;
    assert_eq!((status, body.as_str()), (404, ""));
    // Revoking twice is a CONFLICT.
    let p = run(
        &app,
        a.token("viewer"),
        "revokeCalendarFeed",
        REVOKE_FEED,
        json!({ "id": feed["calendarFeed"]["id"] }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");
}
