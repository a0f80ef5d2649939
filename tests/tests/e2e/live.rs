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
