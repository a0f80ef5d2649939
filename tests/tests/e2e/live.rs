//! Subscriptions over `/graphql/ws` (graphql-transport-ws): authenticated in `connection_init`,
//! scoped to the subscriber's tenant, and fanned out across replicas through Redis.

use futures_util::{SinkExt, StreamExt};
use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TestApp, both_backends, redis_url};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

both_backends! {
    subscribers_see_only_their_tenants_events => tenant_scoped;
    bad_credentials_and_roles_are_refused => refusals;
    a_socket_loses_what_its_credential_loses => standing_rechecked;
    a_shared_certificates_suspension_and_revocation_reach_only_its_grantee => shared_changes;
    an_in_app_notification_reaches_only_its_member => notification_push;
}

async fn connect(app: &TestApp) -> Ws {
    let mut req = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next protocol message (pings answered, skipped), or `None` at close or timeout.
async fn next(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ping" {
                    send(ws, json!({ "type": "pong" })).await;
                    continue;
                }
                return Some(v);
            }
            Message::Close(frame) => {
                return Some(json!({
                    "type": "close",
                    "code": frame.as_ref().map(|f| u16::from(f.code)),
                    "reason": frame.as_ref().map(|f| f.reason.to_string()),
                }));
            }
            _ => {}
        }
    }
}

/// Connects and authenticates; the server must acknowledge.
async fn connect_as(app: &TestApp, token: &str) -> Ws {
    let mut ws = connect(app).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    let ack = next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(
        ack.as_ref().map(|v| v["type"].clone()),
        Some(json!("connection_ack")),
        "{ack:?}"
    );
    ws
}

/// Connects, authenticates and subscribes to the tenant's audit events.
async fn subscribe(app: &TestApp, token: &str) -> Ws {
    let mut ws = connect_as(app, token).await;
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { auditEventAppended { action subjectType change } }" } })).await;
    // Give the server a moment to register the subscription before events are produced.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws
}

async fn add_member(app: &TestApp, token: &str, email: &str) {
    let r = app
        .gql(token, None, "mutation($e: String!) { addMember(input: {email: $e, role: VIEWER}) { userErrors { code } } }", json!({ "e": email }))
        .await;
    assert_eq!(
        r.data()["addMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
}

async fn tenant_scoped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant(
            "alpha",
            &[("owner", Role::Owner), ("auditor", Role::Auditor)],
        )
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let mut a_auditor = subscribe(&app, a.token("auditor")).await;
    let mut b_owner = subscribe(&app, b.token("owner")).await;
    add_member(&app, a.token("owner"), "new@alpha.test").await;
    let got = next(&mut a_auditor, Duration::from_secs(5))
        .await
        .expect("A's subscriber gets the event");
    assert_eq!(got["type"], "next", "{got}");
    assert_eq!(
        got["payload"]["data"]["auditEventAppended"],
        json!({ "action": "member.add", "subjectType": "Membership", "change": { "email": "new@alpha.test", "role": "viewer" } })
    );
    assert_eq!(
        next(&mut b_owner, Duration::from_secs(1)).await,
        None,
        "B's subscriber saw A's event"
    );
    // And the other way round.
    add_member(&app, b.token("owner"), "new@bravo.test").await;
    let got = next(&mut b_owner, Duration::from_secs(5))
        .await
        .expect("B's subscriber gets B's event");
    assert_eq!(
        got["payload"]["data"]["auditEventAppended"]["change"]["email"],
        "new@bravo.test"
    );
    assert_eq!(
        next(&mut a_auditor, Duration::from_secs(1)).await,
        None,
        "A's subscriber saw B's event"
    );
}

async fn refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    for payload in [
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({}),
        json!({ "Authorization": format!("Bearer {}", a.token("owner")), "X-Tenant": "bravo" }),
    ] {
        let mut ws = connect(&app).await;
        send(
            &mut ws,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        let got = next(&mut ws, Duration::from_secs(5)).await;
        // No acknowledgement: async-graphql closes the socket (code 1002, our reason).
        let got = got.unwrap_or_else(|| panic!("{payload}: no answer"));
        assert_eq!(got["type"], "close", "{payload}: {got}");
        assert_eq!(got["reason"], "UNAUTHENTICATED", "{payload}: {got}");
    }
    // A viewer may not follow the audit trail.
    let mut ws = connect_as(&app, a.token("viewer")).await;
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { auditEventAppended { action } }" } })).await;
    let got = next(&mut ws, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert!(got.to_string().contains("FORBIDDEN"), "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_replicas_through_redis() {
    let prefix = format!("grc-test-{}", uuid::Uuid::new_v4().simple());
    let app1 = TestApp::spawn_with(Backend::Postgres, |s| {
        s.redis_url = Some(redis_url().into());
        s.redis_prefix = prefix.clone();
    })
    .await;
    let app2 = TestApp::on(app1.db.sibling().await).await;
    let a = app1.tenant("alpha", &[("owner", Role::Owner)]).await;
    let mut sub = subscribe(&app1, a.token("owner")).await;
    // Let both replicas' Redis subscriptions settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    add_member(&app2, a.token("owner"), "via-two@alpha.test").await;
    let got = next(&mut sub, Duration::from_secs(5))
        .await
        .expect("replica 1's subscriber gets replica 2's event");
    assert_eq!(
        got["payload"]["data"]["auditEventAppended"]["change"]["email"], "via-two@alpha.test",
        "{got}"
    );
    // Changes reach the other replica's credential cache: a role changed on replica 2 shows
    // on replica 1 (which had the member cached) right after the event arrives.
    let new = a_user(&app1, "via-two@alpha.test").await;
    let t_new = app1.token(&new);
    let r = app1
        .gql(&t_new, None, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(r.data()["viewer"]["role"], "VIEWER", "{:?}", r.body);
    let gid = grc_e2e::global_id("User", uuid::Uuid::parse_str(&new).unwrap());
    let r = app2
        .gql(a.token("owner"), None, "mutation($u: ID!) { changeMemberRole(input: {userId: $u, role: AUDITOR}) { userErrors { code } } }", json!({ "u": gid }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    assert!(next(&mut sub, Duration::from_secs(5)).await.is_some());
    // The cache watcher is a separate task beside the subscription: let it run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = app1
        .gql(&t_new, None, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(r.data()["viewer"]["role"], "AUDITOR", "{:?}", r.body);
}

/// The subject (for local users, the user id) of the user with this e-mail address.
async fn a_user(app: &TestApp, email: &str) -> String {
    let ptx = app.store.platform_tx().await.unwrap();
    let u = ptx
        .user_by_email(&grc_domain::tenancy::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    ptx.commit().await.unwrap();
    u.subject
}

/// Sends an operation on the socket and returns what the server answers for it.
async fn answer(ws: &mut Ws, id: &str, query: &str) -> Value {
    send(
        ws,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    // Everything the server says about this operation, up to its end.
    let mut said = Vec::new();
    while let Some(m) = next(ws, Duration::from_secs(5)).await {
        let done = m["id"] == id && (m["type"] == "complete" || m["type"] == "error");
        said.push(m);
        if done {
            break;
        }
    }
    Value::Array(said)
}

async fn member_count(app: &TestApp, token: &str) -> u64 {
    let r = app
        .gql(token, None, "{ members { totalCount } }", json!({}))
        .await;
    r.data()["members"]["totalCount"].as_u64().unwrap()
}

async fn standing_rechecked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant(
            "alpha",
            &[
                ("owner", Role::Owner),
                ("auditor", Role::Auditor),
                ("watcher", Role::Auditor),
            ],
        )
        .await;
    let before = member_count(&app, a.token("owner")).await;

    // Queries and mutations are not served over the socket: each goes to POST /graphql,
    // which authenticates it on its own.
    let mut ws = connect_as(&app, a.token("owner")).await;
    let got = answer(&mut ws, "m", "mutation { addMember(input: {email: \"sneaky@alpha.test\", role: OWNER}) { userErrors { code } } }").await;
    assert!(got.to_string().contains("BAD_USER_INPUT"), "{got}");
    let got = answer(&mut ws, "q", "{ viewer { role } }").await;
    assert!(got.to_string().contains("BAD_USER_INPUT"), "{got}");
    assert_eq!(member_count(&app, a.token("owner")).await, before);

    // A removed auditor's subscription ends at the next event, with UNAUTHENTICATED.
    let mut removed = subscribe(&app, a.token("auditor")).await;
    // A demoted one's ends with FORBIDDEN.
    let mut demoted = subscribe(&app, a.token("watcher")).await;
    let r = app
        .gql(
            a.token("owner"),
            None,
            "mutation($u: ID!) { removeMember(input: {userId: $u}) { userErrors { code } } }",
            json!({ "u": grc_e2e::global_id("User", a.user_ids["auditor"]) }),
        )
        .await;
    assert_eq!(
        r.data()["removeMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    let r = app
        .gql(a.token("owner"), None, "mutation($u: ID!) { changeMemberRole(input: {userId: $u, role: VIEWER}) { userErrors { code } } }", json!({ "u": grc_e2e::global_id("User", a.user_ids["watcher"]) }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    // The removed auditor's first event after removal (its own removal) is refused.
    let got = next(&mut removed, Duration::from_secs(5))
        .await
        .expect("the refusal");
    assert!(got.to_string().contains("UNAUTHENTICATED"), "{got}");
    assert!(
        !got.to_string().contains("member.remove"),
        "the event leaked: {got}"
    );
    // The watcher is checked as it stands when each event is delivered: it may see the
    // removal (if delivered before its demotion took effect), never its own demotion, and its
    // stream ends with FORBIDDEN.
    loop {
        let got = next(&mut demoted, Duration::from_secs(5))
            .await
            .expect("the refusal");
        if got.to_string().contains("FORBIDDEN") {
            break;
        }
        assert_eq!(
            got["payload"]["data"]["auditEventAppended"]["action"], "member.remove",
            "{got}"
        );
    }
    add_member(&app, a.token("owner"), "later@alpha.test").await;
    for ws in [&mut removed, &mut demoted] {
        let got = next(ws, Duration::from_secs(1)).await;
        assert!(
            got.as_ref().is_none_or(|v| v["type"] == "complete"),
            "{got:?}"
        );
    }
}

// --- sharedArtifactChanged (issue 6) ---------------------------------------------------------

/// The fields of `sharedArtifactChanged` the sharing test compares.
const SHARED_CHANGED: &str = "subscription { sharedArtifactChanged { grantId change status artifactKind artifactId owner { id } } }";

/// Connects, authenticates and subscribes to changes of artifacts shared with the tenant.
async fn subscribe_shared(app: &TestApp, token: &str) -> Ws {
    let mut ws = connect_as(app, token).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SHARED_CHANGED } }),
    )
    .await;
    // Give the server a moment to register the subscription before events are produced.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws
}

/// Runs a mutation that must succeed (no top-level error, no user error); its payload.
async fn must(app: &TestApp, token: &str, name: &str, query: &str, vars: Value) -> Value {
    let a = app.gql(token, None, query, vars).await;
    assert!(a.body["errors"].is_null(), "{name}: {:?}", a.body);
    let p = a.data()[name].clone();
    assert_eq!(p["userErrors"], json!([]), "{name}: {p:?}");
    p
}

/// Today plus (or minus) `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// The customer's compliance manager links a new vendor record to `provider` by invitation,
/// and the provider's owner accepts.
async fn link(app: &TestApp, customer: &grc_e2e::Fixture, provider: &grc_e2e::Fixture) {
    let vendor = must(
        app,
        customer.token("cm"),
        "createVendor",
        "mutation($i: CreateVendorInput!) { createVendor(input: $i) { vendor { id } userErrors { field message code } } }",
        json!({ "i": { "name": "CloudCo", "tier": 2, "ephiAccess": "NONE" } }),
    )
    .await["vendor"]["id"]
        .clone();
    let conn = must(
        app,
        customer.token("cm"),
        "inviteConnection",
        "mutation($i: InviteConnectionInput!) { inviteConnection(input: $i) { connection { id status } userErrors { field message code } } }",
        json!({ "i": { "vendorId": vendor, "providerSlug": provider.tenant.slug } }),
    )
    .await["connection"]["id"]
        .clone();
    let c = must(
        app,
        provider.token("owner"),
        "answerConnection",
        "mutation($i: AnswerConnectionInput!) { answerConnection(input: $i) { connection { id status } userErrors { field message code } } }",
        json!({ "i": { "connectionId": conn, "accept": true } }),
    )
    .await["connection"]
        .clone();
    assert_eq!(c["status"], "ACTIVE", "{c:?}");
}

const DECISION: &str = "mutation($i: RecordCertificationDecisionInput!) {
  recordCertificationDecision(input: $i) { decision { id kind } userErrors { field message code } } }";

/// An ISO/IEC 27001 certificate of the token's tenant with a stage 2 audit 110 days ago and
/// the certification decision 100 days ago, valid for 900 days more: active today. Its id.
async fn active_certificate(app: &TestApp, token: &str, number: &str) -> Value {
    let id = must(
        app,
        token,
        "createCertificate",
        "mutation($i: CreateCertificateInput!) { createCertificate(input: $i) { certificate { id } userErrors { field message code } } }",
        json!({ "i": { "standard": "ISO27001", "edition": "E2022", "certificateNumber": number,
                 "certificationBody": "Example Certification Ltd", "accreditationBody": "UKAS",
                 "scope": "Hosting of clinical systems", "sites": ["Data centre"] } }),
    )
    .await["certificate"]["id"]
        .clone();
    must(
        app,
        token,
        "recordCertificationAudit",
        "mutation($i: RecordCertificationAuditInput!) { recordCertificationAudit(input: $i) { audit { id } userErrors { field message code } } }",
        json!({ "i": { "certificateId": id, "kind": "STAGE2", "startDate": day(-112),
                 "endDate": day(-110), "auditors": ["A. Auditor"], "minorFindings": 0,
                 "observations": 1, "summary": "No major nonconformity" } }),
    )
    .await;
    must(
        app,
        token,
        "recordCertificationDecision",
        DECISION,
        json!({ "i": { "certificateId": id, "kind": "CERTIFICATION", "decidedOn": day(-100),
                 "expiresOn": day(900), "reason": "Certification body decision" } }),
    )
    .await;
    id
}

/// The provider grants `grantee` metadata access to `cert`; the grant's id.
async fn grant_metadata(
    app: &TestApp,
    token: &str,
    grantee: &grc_e2e::Fixture,
    cert: &Value,
) -> Value {
    must(
        app,
        token,
        "grantShare",
        "mutation($i: GrantShareInput!) { grantShare(input: $i) { grant { id } userErrors { field message code } } }",
        json!({ "i": { "granteeTenantId": grc_e2e::global_id("Tenant", grantee.tenant.id.0),
                 "kind": "CERTIFICATE", "artifactId": cert, "access": "METADATA" } }),
    )
    .await["grant"]["id"]
        .clone()
}

/// The `sharedArtifactChanged` payload of a `next` message, or a failure naming `what`.
fn shared_change(got: Option<Value>, what: &str) -> Value {
    let got = got.unwrap_or_else(|| panic!("{what}: no event"));
    assert_eq!(got["type"], "next", "{what}: {got}");
    assert!(got["payload"]["errors"].is_null(), "{what}: {got}");
    got["payload"]["data"]["sharedArtifactChanged"].clone()
}

/// A provider suspends a certificate it shares with a customer: the customer's subscriber
/// hears of it (status-changed, suspended) for that grant, then of the grant's revocation; the
/// provider's own subscriber and a third tenant's (connected to the provider and holding a
/// grant of another of its certificates) hear nothing of either.
async fn shared_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let members = [
        ("owner", Role::Owner),
        ("cm", Role::ComplianceManager),
        ("viewer", Role::Viewer),
    ];
    let cust = app.tenant("clinic", &members).await;
    let prov = app.tenant("cloudco", &members).await;
    let third = app.tenant("dentist", &members).await;
    link(&app, &cust, &prov).await;
    link(&app, &third, &prov).await;
    let pm = prov.token("cm");
    let cert = active_certificate(&app, pm, "ISO-LIVE-1").await;
    let other = active_certificate(&app, pm, "ISO-LIVE-2").await;
    let third_grant = grant_metadata(&app, pm, &third, &other).await;
    assert!(third_grant.is_string(), "{third_grant:?}");

    // Every member may subscribe: viewers of each tenant.
    let mut cust_sub = subscribe_shared(&app, cust.token("viewer")).await;
    let mut prov_sub = subscribe_shared(&app, prov.token("viewer")).await;
    let mut third_sub = subscribe_shared(&app, third.token("viewer")).await;

    // The grant itself reaches the customer, with no status (a grant is no status change).
    let grant = grant_metadata(&app, pm, &cust, &cert).await;
    let owner = json!({ "id": grc_e2e::global_id("Tenant", prov.tenant.id.0) });
    let expect = |change: &str, status: Value| {
        json!({ "grantId": grant, "change": change, "status": status,
                "artifactKind": "CERTIFICATE", "artifactId": cert, "owner": owner })
    };
    assert_eq!(
        shared_change(next(&mut cust_sub, Duration::from_secs(5)).await, "grant"),
        expect("granted", Value::Null)
    );

    // The provider suspends the certificate today: status "suspended" from today on.
    must(
        &app,
        pm,
        "recordCertificationDecision",
        DECISION,
        json!({ "i": { "certificateId": cert, "kind": "SUSPENSION", "decidedOn": day(0),
                 "reason": "Major nonconformity not closed" } }),
    )
    .await;
    assert_eq!(
        shared_change(
            next(&mut cust_sub, Duration::from_secs(5)).await,
            "suspension"
        ),
        expect("status-changed", json!("suspended"))
    );
    // Nobody else hears of the grant or the suspension: not the owner itself, not another
    // grantee of the owner's.
    assert_eq!(
        next(&mut prov_sub, Duration::from_secs(1)).await,
        None,
        "the provider's own subscriber"
    );
    assert_eq!(
        next(&mut third_sub, Duration::from_secs(1)).await,
        None,
        "the third tenant's subscriber"
    );

    // An audit of the suspended certificate reaches the customer as an update; its status
    // stays "suspended".
    surveillance(&app, pm, &cert, -60).await;
    assert_eq!(
        shared_change(next(&mut cust_sub, Duration::from_secs(5)).await, "audit"),
        expect("updated", json!("suspended"))
    );

    // The revocation reaches the customer, and only the customer.
    must(
        &app,
        prov.token("owner"),
        "revokeShare",
        "mutation($i: RevokeShareInput!) { revokeShare(input: $i) { grant { id revokedAt } userErrors { field message code } } }",
        json!({ "i": { "grantId": grant, "reason": "Contract ended" } }),
    )
    .await;
    assert_eq!(
        shared_change(
            next(&mut cust_sub, Duration::from_secs(5)).await,
            "revocation"
        ),
        expect("revoked", Value::Null)
    );
    assert_eq!(
        next(&mut prov_sub, Duration::from_secs(1)).await,
        None,
        "the provider's own subscriber saw the revocation"
    );
    assert_eq!(
        next(&mut third_sub, Duration::from_secs(1)).await,
        None,
        "the third tenant's subscriber saw the revocation"
    );

    // After revocation, a further change of the certificate (a surveillance audit) reaches
    // nobody.
    surveillance(&app, pm, &cert, -30).await;
    for (ws, who) in [
        (&mut cust_sub, "the former grantee"),
        (&mut prov_sub, "the provider"),
        (&mut third_sub, "the third tenant"),
    ] {
        assert_eq!(
            next(ws, Duration::from_secs(1)).await,
            None,
            "{who} heard of a change after revocation"
        );
    }

    // The silent subscribers were listening all along: the third tenant hears of the
    // revocation of its own grant, and the provider of a grant the customer makes to it.
    must(
        &app,
        prov.token("owner"),
        "revokeShare",
        "mutation($i: RevokeShareInput!) { revokeShare(input: $i) { grant { id } userErrors { field message code } } }",
        json!({ "i": { "grantId": third_grant, "reason": "Contract ended" } }),
    )
    .await;
    assert_eq!(
        shared_change(
            next(&mut third_sub, Duration::from_secs(5)).await,
            "the third tenant's revocation"
        ),
        json!({ "grantId": third_grant, "change": "revoked", "status": null,
                "artifactKind": "CERTIFICATE", "artifactId": other, "owner": owner })
    );
    let own = active_certificate(&app, cust.token("cm"), "ISO-CLINIC-1").await;
    let back = grant_metadata(&app, cust.token("cm"), &prov, &own).await;
    assert_eq!(
        shared_change(
            next(&mut prov_sub, Duration::from_secs(5)).await,
            "the provider's grant"
        ),
        json!({ "grantId": back, "change": "granted", "status": null,
                "artifactKind": "CERTIFICATE", "artifactId": own,
                "owner": { "id": grc_e2e::global_id("Tenant", cust.tenant.id.0) } })
    );
    assert_eq!(
        next(&mut cust_sub, Duration::from_secs(1)).await,
        None,
        "the customer heard of another tenant's grant or of its own"
    );
}

/// Records a two-day surveillance audit of `cert` ending on today plus `end` days (negative:
/// in the past).
async fn surveillance(app: &TestApp, token: &str, cert: &Value, end: i64) {
    must(
        app,
        token,
        "recordCertificationAudit",
        "mutation($i: RecordCertificationAuditInput!) { recordCertificationAudit(input: $i) { audit { id } userErrors { field message code } } }",
        json!({ "i": { "certificateId": cert, "kind": "SURVEILLANCE", "startDate": day(end - 1),
                 "endDate": day(end), "auditors": ["A. Auditor"], "minorFindings": 0,
                 "observations": 0, "summary": "Surveillance" } }),
    )
    .await;
}

// --- notificationReceived (issue 7) ----------------------------------------------------------

const RECEIVED: &str =
    "subscription { notificationReceived { id topic title subjectType readAt } }";

/// The delivery worker writes an in-app reminder for alpha's owner: only that member's
/// subscription gets it, pushed as it is written. On SQLite the worker runs in the server's
/// process (its hook is the server's bus, as in `grc serve`); on PostgreSQL it publishes on
/// Redis as `grc worker` does, and the server's forwarder relays it.
async fn notification_push(backend: Backend) {
    let prefix = format!("grc-push-{}", uuid::Uuid::now_v7().simple());
    let app = match backend {
        Backend::Sqlite => TestApp::spawn(backend).await,
        Backend::Postgres => {
            let p = prefix.clone();
            TestApp::spawn_with(backend, move |s| {
                s.redis_url = Some(redis_url().into());
                s.redis_prefix = p;
            })
            .await
        }
    };
    let a = app
        .tenant(
            "alpha",
            &[("owner", Role::Owner), ("auditor", Role::Auditor)],
        )
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let mut subs = Vec::new();
    for token in [a.token("owner"), a.token("auditor"), b.token("owner")] {
        let mut ws = connect_as(&app, token).await;
        send(
            &mut ws,
            json!({ "id": "1", "type": "subscribe", "payload": { "query": RECEIVED } }),
        )
        .await;
        subs.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A reminder for alpha's owner by in-app only (the scheduler's event shape).
    let scope = grc_store::TenantScope::new(a.tenant.id);
    let subject = uuid::Uuid::now_v7();
    let mut tx = app.store.tenant_tx(scope).await.unwrap();
    tx.queue_event(grc_store::PeerEvent {
        topic: "reminder.due".into(),
        subject_type: "Certificate".into(),
        subject_id: subject.to_string(),
        payload: json!({
            "tenantId": a.tenant.id.0, "subjectType": "Certificate", "subjectId": subject,
            "kind": "certificate-expiry", "dueOn": "2027-02-28", "daysUntilDue": 30,
            "title": "ISO/IEC 27001 certificate C-9",
            "recipients": {"roles": [], "userIds": [a.user_ids["owner"]], "emails": []},
            "channels": ["in-app"],
        }),
        dedupe_key: format!("rem:push:{subject}"),
    })
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    let hook = match backend {
        Backend::Sqlite => {
            let bus = app.bus.clone();
            grc_worker::NotifyHook::new(move |p| bus.notify(p))
        }
        Backend::Postgres => grc_worker::RedisNotifier::new(&redis_url(), &prefix)
            .unwrap()
            .hook(),
    };
    let deliverer = grc_worker::deliver::Deliverer::new(
        app.store.clone(),
        grc_worker::DeliveryConfig::default(),
    )
    .unwrap()
    .on_notification(hook);
    assert_eq!(
        grc_worker::deliver::relay_outbox(&app.store, 100)
            .await
            .unwrap(),
        1
    );
    let due = app
        .store
        .due_deliveries(chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "one in-app delivery: {due:?}");
    for (t, id) in due {
        let d = deliverer.deliver(t, id).await.unwrap().unwrap();
        assert_eq!(d.status, "delivered");
    }
    let got = next(&mut subs[0], Duration::from_secs(5))
        .await
        .expect("the owner's subscription gets the notification");
    assert_eq!(got["type"], "next", "{got}");
    let n = &got["payload"]["data"]["notificationReceived"];
    assert_eq!(n["topic"], "reminder.due", "{got}");
    assert_eq!(n["subjectType"], "Certificate");
    assert_eq!(n["readAt"], Value::Null);
    assert!(
        n["title"]
            .as_str()
            .unwrap()
            .contains("ISO/IEC 27001 certificate C-9"),
        "{got}"
    );
    // The same notification through the query.
    let listed = app
        .gql(
            a.token("owner"),
            None,
            "{ notifications(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.data()["notifications"]["edges"][0]["node"]["id"],
        n["id"],
        "{:?}",
        listed.body
    );
    // Another member of the tenant, and another tenant's owner, get nothing.
    for ws in &mut subs[1..] {
        assert_eq!(next(ws, Duration::from_secs(1)).await, None);
    }
}
