//! Oversized and abusive requests: each is answered with a 4xx and a stable code, never a 5xx,
//! and changes nothing (the members and the audit trail stay as they were).

use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends! {
    query_limits_refuse_before_execution => query_limits;
    malformed_requests_are_refused_and_change_nothing => malformed_requests;
}

const MIB: usize = 1024 * 1024;
const GQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

/// A mutation that would add an owner, and its payload selection.
fn add_member(email: &str, selection: &str) -> String {
    format!("addMember(input: {{email: \"{email}\", role: OWNER}}) {{ {selection} }}")
}

fn intruder_mutation() -> String {
    format!(
        "mutation {{ {} }}",
        add_member(
            "intruder@alpha.test",
            "membership { id } userErrors { code }"
        )
    )
}

// ---------------------------------------------------------------------------------------------
// The tenant under attack, and the check that nothing changed

struct Target {
    app: TestApp,
    alpha: Fixture,
    before: (u64, u64),
}

impl Target {
    async fn new(app: TestApp) -> Self {
        let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
        let mut t = Self {
            app,
            alpha,
            before: (0, 0),
        };
        t.before = t.counts().await;
        assert_eq!(t.before.0, 1);
        t
    }

    fn token(&self) -> &str {
        self.alpha.token("owner")
    }

    /// (members, audit events) of alpha, read from the store (the limited servers some tests
    /// start could refuse the query that would read them).
    async fn counts(&self) -> (u64, u64) {
        let tx = self
            .app
            .store
            .tenant_tx(grc_store::TenantScope::new(self.alpha.tenant.id))
            .await
            .unwrap();
        let counts = (
            tx.member_count().await.unwrap(),
            tx.audit_event_count().await.unwrap(),
        );
        tx.commit().await.unwrap();
        counts
    }

    async fn assert_unchanged(&self) {
        assert_eq!(
            self.counts().await,
            self.before,
            "(members, audit events) changed"
        );
    }

    async fn post(&self, query: &str) -> Answer {
        self.app.gql(self.token(), None, query, json!({})).await
    }

    /// POSTs `body` as is, with `content_type`.
    async fn post_raw(&self, content_type: &str, body: impl Into<reqwest::Body>) -> Answer {
        let resp = self
            .app
            .client
            .post(format!("{}/graphql", self.app.base))
            .bearer_auth(self.token())
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        TestApp::answer(resp).await
    }

    /// `GET /graphql` with `params`, and the response headers.
    async fn get(&self, params: &[(&str, &str)]) -> (Answer, HeaderMap) {
        let resp = self
            .app
            .client
            .get(format!("{}/graphql", self.app.base))
            .bearer_auth(self.token())
            .query(params)
            .send()
            .await
            .unwrap();
        let headers = resp.headers().clone();
        (TestApp::answer(resp).await, headers)
    }
}

/// Refused with `status` and `code`, and nothing executed.
fn assert_refused(r: &Answer, status: u16, code: &str, case: &str) {
    assert!(r.status < 500, "{case}: a server error: {r:?}");
    assert_eq!(r.status, status, "{case}: {:?}", r.body);
    assert_eq!(r.code(), Some(code), "{case}: {:?}", r.body);
    assert!(
        r.body.get("data").is_none_or(Value::is_null),
        "{case}: something executed: {:?}",
        r.body
    );
}

/// Refused with 400 `QUERY_TOO_COMPLEX`, and the message says why.
fn assert_too_complex(r: &Answer, reason: &str, case: &str) {
    assert_refused(r, 400, "QUERY_TOO_COMPLEX", case);
    let message = r.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "{case}: expected {reason:?} in {message:?}"
    );
}

fn assert_ok(r: &Answer, case: &str) {
    assert_eq!(r.status, 200, "{case}: {:?}", r.body);
    assert!(r.body.get("errors").is_none(), "{case}: {:?}", r.body);
}

// ---------------------------------------------------------------------------------------------
// Documents

/// An introspection query `ofTypes` levels of `ofType` deep: its depth is 4 + ofTypes + 1.
fn introspection(of_types: usize) -> String {
    let mut inner = "name".to_owned();
    for _ in 0..of_types {
        inner = format!("ofType {{ {inner} }}");
    }
    format!("{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}")
}

/// `n` aliases of `field`, as a selection.
fn aliased(n: usize, field: impl Fn(usize) -> String) -> String {
    (0..n)
        .map(|i| format!("a{i}: {}", field(i)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fragments on `on` that spread each other `fanout` times over `levels` levels, the last
/// selecting `leaf` `fanout` times: a few hundred bytes whose inlined size is `fanout^levels`.
fn fragment_fan(on: &str, levels: usize, fanout: usize, leaf: &str) -> String {
    (0..levels)
        .map(|l| {
            let item = if l + 1 == levels {
                leaf.to_owned()
            } else {
                format!("...F{}", l + 1)
            };
            format!(
                "fragment F{l} on {on} {{ {} }}\n",
                vec![item; fanout].join(" ")
            )
        })
        .collect()
}

/// The complexity the server computes for each query, read from its refusal by a server whose
/// complexity limit is 1 (and depth limit out of the way).
async fn complexities(queries: &[&str]) -> Vec<usize> {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.max_query_complexity = 1;
        s.max_query_depth = 1000;
    })
    .await;
    let probe = app.tenant("probe", &[("owner", Role::Owner)]).await;
    let mut out = Vec::new();
    for query in queries {
        let r = app.gql(probe.token("owner"), None, query, json!({})).await;
        let message = r.body["errors"][0]["message"].as_str().unwrap_or_default();
        out.push(
            message
                .strip_prefix("the query's complexity is ")
                .and_then(|rest| rest.split(';').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no complexity for {query}: {:?}", r.body)),
        );
    }
    out
}

fn tokens(query: &str) -> usize {
    grc_api::limits::count_tokens(query, usize::MAX).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Depth, aliases, complexity and tokens, with the default limits (12, 30, 2000, 5000)

async fn query_limits(backend: Backend) {
    let t = Target::new(TestApp::spawn(backend).await).await;

    // Depth: 13 levels of introspection are refused; 12 pass.
    let r = t.post(&introspection(8)).await;
    assert_too_complex(&r, "13 levels deep", "introspection 13 deep");
    let r = t.post(&introspection(7)).await;
    assert_ok(&r, "introspection 12 deep");
    assert!(r.data()["__schema"]["types"].is_array());

    // Aliases: 40 are refused, in a query or a mutation (so no member is added); 30 pass.
    let r = t
        .post(&format!(
            "{{ {} }}",
            aliased(40, |_| "viewer { role }".into())
        ))
        .await;
    assert_too_complex(&r, "40 aliases", "40 aliased viewers");
    let mutation = format!(
        "mutation {{ {} }}",
        aliased(31, |i| add_member(
            &format!("m{i}@alpha.test"),
            "userErrors { code }"
        ))
    );
    let r = t.post(&mutation).await;
    assert_too_complex(&r, "31 aliases", "31 aliased addMember");
    let r = t
        .post(&format!(
            "{{ ...Q }} fragment Q on Query {{ {} }}",
            aliased(31, |_| "viewer { role }".into())
        ))
        .await;
    assert_too_complex(&r, "31 aliases", "31 aliases in a fragment");
    let r = t
        .post(&format!(
            "{{ {} }}",
            aliased(30, |_| "viewer { role }".into())
        ))
        .await;
    assert_ok(&r, "30 aliases");
    assert_eq!(r.data()["a29"]["role"], "OWNER");

    // Complexity: fragments spread 15 × 15 × 15 times in a mutation's payload (complexity
    // over 3 000 from a ~150-token document) are refused before the mutation runs.
    let bomb = format!(
        "mutation {{ {} }}\n{}",
        add_member("bomb@alpha.test", "membership { ...F0 }"),
        fragment_fan("Membership", 3, 15, "role")
    );
    let complexity = complexities(&[&bomb]).await[0];
    assert!(complexity > 2000, "complexity {complexity}");
    assert!(tokens(&bomb) < 200);
    let r = t.post(&bomb).await;
    assert_too_complex(
        &r,
        &format!("complexity is {complexity}"),
        "fragment fan-out",
    );

    // Tokens: 6000 are refused before parsing, in a query and in a mutation.
    let query = format!("{{ viewer {{ {} }} }}", vec!["role"; 5995].join(" "));
    assert_eq!(tokens(&query), 6000);
    let r = t.post(&query).await;
    assert_too_complex(&r, "more than 5000 tokens", "6000-token query");
    let mutation = format!(
        "mutation {{ {} }}",
        add_member(
            "tokens@alpha.test",
            &format!("membership {{ {} }}", vec!["role"; 6000].join(" "))
        )
    );
    let r = t.post(&mutation).await;
    assert_too_complex(&r, "more than 5000 tokens", "6000-token mutation");

    t.assert_unchanged().await;
}

// ---------------------------------------------------------------------------------------------
// Limits set through the settings: refused just past them, accepted at them

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_depth_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.max_query_depth = 3).await;
    let t = Target::new(app).await;
    let r = t
        .post("{ members { edges { node { user { id } } } } }")
        .await;
    assert_too_complex(&r, "5 levels deep; at most 3", "depth 5");
    let r = t.post("{ viewer { memberships { role } } }").await;
    assert_ok(&r, "depth 3");
    let r = t
        .post(&format!(
            "mutation {{ {} }}",
            add_member("deep@alpha.test", "membership { user { id } }")
        ))
        .await;
    assert_too_complex(&r, "4 levels deep", "a mutation 4 deep");
    t.assert_unchanged().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_complexity_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.max_query_complexity = 5).await;
    let t = Target::new(app).await;
    let six = "{ viewer { role platformOperator user { id email } } }";
    let five = "{ viewer { role user { id email } } }";
    assert_eq!(complexities(&[six, five]).await, [6, 5]);
    let r = t.post(six).await;
    assert_too_complex(&r, "complexity is 6; at most 5", "complexity 6");
    let r = t.post(five).await;
    assert_ok(&r, "complexity 5");
    assert_eq!(r.data()["viewer"]["role"], "OWNER");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_token_and_alias_limits() {
    // 11 tokens: exactly what `Target::counts` sends.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.max_query_tokens = 11;
        s.max_query_aliases = 1;
    })
    .await;
    let t = Target::new(app).await;
    let twelve = "{ viewer { platformOperator user { id email displayName } } }";
    assert_eq!(tokens(twelve), 12);
    let r = t.post(twelve).await;
    assert_too_complex(&r, "more than 11 tokens", "12 tokens");
    // Comments and commas are not tokens.
    let eleven = "# a comment\n{ viewer, { user, { id, email, displayName, } } }";
    assert_eq!(tokens(eleven), 11);
    let r = t.post(eleven).await;
    assert_ok(&r, "11 tokens");
    let r = t.post("{ a: viewer { b: role } }").await;
    assert_too_complex(&r, "2 aliases", "2 aliases");
    let r = t.post("{ a: viewer { role } }").await;
    assert_ok(&r, "1 alias");
    t.assert_unchanged().await;
}

// ---------------------------------------------------------------------------------------------
// Malformed requests

async fn malformed_requests(backend: Backend) {
    let t = Target::new(TestApp::spawn(backend).await).await;
    let mutation = intruder_mutation();
    let json_body = serde_json::to_vec(&json!({ "query": mutation })).unwrap();

    // Bodies that are not a GraphQL request.
    for (case, body) in [
        ("not JSON", b"query=mutation".to_vec()),
        ("truncated JSON", json_body[..json_body.len() - 2].to_vec()),
        ("a JSON array", b"[1, 2]".to_vec()),
        ("a non-string query", br#"{"query": 5}"#.to_vec()),
        ("an empty body", Vec::new()),
    ] {
        let r = t.post_raw("application/json", body).await;
        assert_refused(&r, 400, "BAD_USER_INPUT", case);
    }
    // Not sent as JSON (a browser may send these cross-site without a preflight).
    for ct in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
    ] {
        let r = t.post_raw(ct, json_body.clone()).await;
        assert_refused(&r, 415, "BAD_USER_INPUT", ct);
    }
    // Multipart is the GraphQL multipart request spec (evidence uploads): a body that is not
    // one is refused before anything runs. (A cross-site form cannot carry the bearer token.)
    let r = t
        .post_raw("multipart/form-data; boundary=x", json_body.clone())
        .await;
    assert_refused(&r, 400, "BAD_USER_INPUT", "a JSON body sent as multipart");

    // Documents that do not parse or do not validate.
    let documents = [
        ("does not parse", mutation[..mutation.len() - 2].to_owned()),
        ("does not parse (garbage)", "mutation { ! }".to_owned()),
        ("an empty document", String::new()),
        ("unknown field", "{ viewer { nope } }".to_owned()),
        (
            "unknown field in a mutation",
            format!("mutation {{ {} }}", add_member("v@alpha.test", "nope")),
        ),
        (
            "missing argument",
            "mutation { addMember(input: {email: \"v@alpha.test\"}) { userErrors { code } } }"
                .to_owned(),
        ),
        (
            "wrong argument type",
            "mutation { addMember(input: {email: 5, role: OWNER}) { userErrors { code } } }"
                .to_owned(),
        ),
    ];
    for (case, query) in &documents {
        let r = t.post(query).await;
        assert_refused(&r, 400, "BAD_USER_INPUT", case);
    }

    // Page sizes past 100 are an execution error (HTTP 200), with no data.
    for args in ["first: 101", "last: 101", "first: -1", "first: 1, last: 1"] {
        let r = t
            .post(&format!("{{ members({args}) {{ totalCount }} }}"))
            .await;
        assert_refused(&r, 200, "BAD_USER_INPUT", args);
    }

    // GET: never a mutation or subscription (405, Allow: POST); queries work.
    let two_ops = format!(
        "query Q {{ viewer {{ role }} }} {}",
        mutation.replacen("mutation", "mutation M", 1)
    );
    for (case, params) in [
        ("mutation over GET", vec![("query", mutation.as_str())]),
        (
            "named mutation over GET",
            vec![("query", two_ops.as_str()), ("operation_name", "M")],
        ),
        (
            "subscription over GET",
            vec![("query", "subscription { auditEventAppended { id } }")],
        ),
    ] {
        let (r, headers) = t.get(&params).await;
        assert_refused(&r, 405, "BAD_USER_INPUT", case);
        assert_eq!(
            headers.get("allow").map(|v| v.to_str().unwrap()),
            Some("POST"),
            "{case}"
        );
    }
    // `operationName` is not read over GET (async-graphql reads `operation_name`), so with two
    // operations the check above sees an arbitrary one: 405, or 200 with "Operation name
    // required". Either way the mutation must not run.
    for _ in 0..4 {
        let (r, _) = t
            .get(&[("query", two_ops.as_str()), ("operationName", "M")])
            .await;
        assert!(matches!(r.status, 200 | 405), "{r:?}");
        assert!(r.body.get("data").is_none_or(Value::is_null), "{r:?}");
    }
    let (r, _) = t.get(&[("query", "{viewer{role}}")]).await;
    assert_ok(&r, "query over GET");
    assert_eq!(r.data()["viewer"]["role"], "OWNER");
    let (r, _) = t.get(&[("query", "{ viewer { nope } }")]).await;
    assert_refused(&r, 400, "BAD_USER_INPUT", "invalid query over GET");

    t.assert_unchanged().await;

    // Control: the same mutation, sent properly, does change things.
    let r = t.post(&mutation).await;
    assert_eq!(
        r.data()["addMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    let (members, events) = t.counts().await;
    assert_eq!((members, events), (t.before.0 + 1, t.before.1 + 1));
}

// ---------------------------------------------------------------------------------------------
// Bodies over the limit (1 MiB)

/// A JSON request body of `len` bytes carrying the intruder mutation.
fn padded_body(len: usize) -> Vec<u8> {
    let head = format!(
        "{{\"query\":{},\"extensions\":{{\"pad\":\"",
        serde_json::to_string(&intruder_mutation()).unwrap()
    );
    let mut body = head.into_bytes();
    body.resize(len - 3, b'x');
    body.extend_from_slice(b"\"}}");
    assert_eq!(body.len(), len);
    body
}

/// POSTs `body` with a `Content-Length`, on a connection of its own (the server may close it
/// without reading the rest of the body, so it must not go back to a shared pool).
async fn post_sized(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> Answer {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut req = client
        .post(format!("{}/graphql", app.base))
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::answer(req.send().await.unwrap()).await
}

/// POSTs `body` in 64 KiB chunks (`Transfer-Encoding: chunked`, no `Content-Length`) over a
/// plain socket, reading the response while still sending.
async fn post_chunked(app: &TestApp, token: &str, body: Vec<u8>) -> Answer {
    let host = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            wr.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            wr.write_all(chunk).await?;
            wr.write_all(b"\r\n").await?;
        }
        wr.write_all(b"0\r\n\r\n").await?;
        wr.flush().await
    });

    // Read until the head and `Content-Length` bytes of body are in.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let response = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length in the response");
            if buf.len() >= end + 4 + length {
                break (head, buf[end + 4..end + 4 + length].to_vec());
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(30), rd.read(&mut chunk))
            .await
            .expect("the server answers while the body is still coming")
            .expect("the response is readable");
        assert!(n > 0, "the connection closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    writer.abort();

    let (head, body) = response;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).to_string())),
        content_type,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413() {
    let t = Target::new(TestApp::spawn(Backend::Sqlite).await).await;

    let r = post_sized(&t.app, Some(t.token()), padded_body(2 * MIB)).await;
    assert_refused(&r, 413, "BAD_USER_INPUT", "2 MiB with Content-Length");
    let r = post_sized(&t.app, Some(t.token()), padded_body(MIB + 1)).await;
    assert_refused(&r, 413, "BAD_USER_INPUT", "1 MiB + 1 with Content-Length");
    // Without a credential too: the size is checked first.
    let r = post_sized(&t.app, None, padded_body(2 * MIB)).await;
    assert_refused(&r, 413, "BAD_USER_INPUT", "2 MiB anonymous");
    let r = post_chunked(&t.app, t.token(), padded_body(2 * MIB)).await;
    assert_refused(&r, 413, "BAD_USER_INPUT", "2 MiB chunked");
    let r = post_chunked(&t.app, t.token(), padded_body(MIB + 1)).await;
    assert_refused(&r, 413, "BAD_USER_INPUT", "1 MiB + 1 chunked");
    t.assert_unchanged().await;

    // Control: exactly 1 MiB, in either form, is read and executed.
    let r = post_sized(&t.app, Some(t.token()), padded_body(MIB)).await;
    assert_eq!(
        r.data()["addMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    let r = post_chunked(&t.app, t.token(), padded_body(MIB)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["addMember"]["userErrors"][0]["code"], "CONFLICT");
    assert_eq!(t.counts().await.0, t.before.0 + 1);
}

// ---------------------------------------------------------------------------------------------
// Media types

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_response_media_type_is_negotiated() {
    let t = Target::new(TestApp::spawn(Backend::Sqlite).await).await;
    let send = |query: &'static str, accept: Option<&'static str>| {
        let mut req = t
            .app
            .client
            .post(format!("{}/graphql", t.app.base))
            .bearer_auth(t.token())
            .json(&json!({ "query": query }));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        async move { TestApp::answer(req.send().await.unwrap()).await }
    };

    let r = send("{ viewer { role } }", None).await;
    assert_ok(&r, "default");
    assert_eq!(r.content_type, "application/json");
    let r = send("{ viewer { role } }", Some("application/json")).await;
    assert_eq!(r.content_type, "application/json");
    for accept in [
        "application/graphql-response+json",
        "application/graphql-response+json, application/json;q=0.9",
    ] {
        let r = send("{ viewer { role } }", Some(accept)).await;
        assert_ok(&r, accept);
        assert_eq!(r.content_type, GQL_RESPONSE, "{accept}");
        assert_eq!(r.data()["viewer"]["role"], "OWNER");
    }
    // Refusals carry the negotiated type as well.
    let r = send(
        "{ viewer { nope } }",
        Some("application/graphql-response+json"),
    )
    .await;
    assert_refused(&r, 400, "BAD_USER_INPUT", "invalid, graphql-response");
    assert_eq!(r.content_type, GQL_RESPONSE);
    let r = send("{ viewer { nope } }", None).await;
    assert_refused(&r, 400, "BAD_USER_INPUT", "invalid, default");
    assert_eq!(r.content_type, "application/json");
}

// ---------------------------------------------------------------------------------------------
// Size bounds that async-graphql's own validation does not give.

/// Fragments spread 10 times per level are inlined by async-graphql's depth and complexity
/// visitors, so validation would cost 10^levels before the complexity limit is compared (~180
/// tokens kept a worker busy for 12 s, ~230 for hours). The limits extension counts the expanded
/// size first, each fragment once, and refuses at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_fan_out_is_refused_before_validation() {
    let t = Target::new(TestApp::spawn(Backend::Sqlite).await).await;
    let bomb = format!(
        "{{ viewer {{ ...F0 }} }}\n{}",
        fragment_fan("Viewer", 9, 10, "role")
    );
    assert!(tokens(&bomb) < 250);
    let r = tokio::time::timeout(Duration::from_secs(5), t.post(&bomb))
        .await
        .expect("a 230-token document must be refused in well under 5 s");
    assert_too_complex(&r, "complexity", "fragment fan-out, 9 levels");
}

/// Page sizes weigh in the complexity: 25 aliases of `members(first: 100)` reading each
/// member's user would load 2500 memberships and users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_size_counts_toward_complexity() {
    let t = Target::new(TestApp::spawn(Backend::Sqlite).await).await;
    let query = format!(
        "{{ {} }}",
        aliased(25, |_| {
            "members(first: 100) { edges { node { user { email } } } }".into()
        })
    );
    let complexity = complexities(&[&query]).await[0];
    assert!(complexity > 2000, "computed complexity {complexity}");
    let r = t.post(&query).await;
    assert_too_complex(&r, "complexity", "25 × members(first: 100)");
}
