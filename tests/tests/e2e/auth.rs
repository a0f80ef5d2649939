//! Authentication: every bad credential is answered 401 `UNAUTHENTICATED` with the one generic
//! message (no detail, `WWW-Authenticate: Bearer`, a request id), and a good one is accepted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TEST_SECRET, TestApp, both_backends};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

both_backends! {
    a_good_token_is_accepted_and_unknown_subjects_are_not => subjects;
    revoked_and_malformed_api_keys_are_unauthenticated => api_keys;
    x_tenant_without_membership_is_unauthenticated => no_membership;
}

const VIEWER: &str = "{ viewer { role user { id } apiKey { name } } }";
const RSA1_PRIVATE: &[u8] = include_bytes!("../../fixtures/rsa-private.pem");
const RSA1_PUBLIC: &[u8] = include_bytes!("../../fixtures/rsa-public.pem");
const RSA2_PRIVATE: &[u8] = include_bytes!("../../fixtures/rsa2-private.pem");
const JWK1: &str = include_str!("../../fixtures/jwk1.json");
const JWK2: &str = include_str!("../../fixtures/jwk2.json");

// ---------------------------------------------------------------------------------------------
// Tokens

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims the default server accepts, for `sub`.
fn claims(sub: &str) -> Value {
    let now = now();
    json!({ "sub": sub, "iss": "grc", "aud": "grc", "exp": now + 3600, "iat": now, "nbf": now })
}

/// `claims(sub)` with `key` set to `value` (or removed, for `Value::Null`).
fn claims_with(sub: &str, key: &str, value: Value) -> Value {
    let mut c = claims(sub);
    if value.is_null() {
        c.as_object_mut().unwrap().remove(key);
    } else {
        c[key] = value;
    }
    c
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

fn rs256(kid: Option<&str>, claims: &Value, private_pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(private_pem).unwrap(),
    )
    .unwrap()
}

fn b64_json(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap())
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// Requests

/// POSTs the viewer query with a raw `Authorization` header value.
async fn send(
    app: &TestApp,
    authorization: Option<&str>,
    tenant: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": VIEWER }));
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    if let Some(t) = tenant {
        req = req.header("X-Tenant", t);
    }
    req.send().await
}

/// The request is answered 401 with exactly the generic body and the expected headers.
async fn assert_refused(
    app: &TestApp,
    authorization: Option<&str>,
    tenant: Option<&str>,
    case: &str,
) {
    let resp = send(app, authorization, tenant)
        .await
        .unwrap_or_else(|e| panic!("{case}: no response: {e:?}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 401, "{case}: expected 401, got {status}: {text}");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{case}: the 401 body is not JSON ({e}): {text}"));
    assert_eq!(
        body,
        json!({ "errors": [{ "message": "authentication required", "extensions": { "code": "UNAUTHENTICATED" } }] }),
        "{case}: the 401 body must be the generic one"
    );
    assert_eq!(
        headers.get("www-authenticate").map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{case}: WWW-Authenticate"
    );
    assert!(
        headers.get("x-request-id").is_some_and(|v| !v.is_empty()),
        "{case}: no x-request-id in {headers:?}"
    );
}

async fn assert_bearer_refused(app: &TestApp, token: &str, tenant: Option<&str>, case: &str) {
    assert_refused(app, Some(&format!("Bearer {token}")), tenant, case).await;
}

/// The bearer credential is accepted: 200, no errors, the viewer is answered.
async fn assert_accepted(app: &TestApp, token: &str, tenant: Option<&str>, case: &str) -> Value {
    let r = app.gql(token, tenant, VIEWER, json!({})).await;
    assert_eq!(r.status, 200, "{case}: {:?}", r.body);
    assert!(r.body.get("errors").is_none(), "{case}: {:?}", r.body);
    r.data()["viewer"].clone()
}

/// Creates tenant `alpha` with an owner; returns it and the owner's subject.
async fn alpha_owner(app: &TestApp) -> (grc_e2e::Fixture, String) {
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let sub = a.user_ids["owner"].to_string();
    (a, sub)
}

// ---------------------------------------------------------------------------------------------
// Pure token checks (SQLite: the backend plays no part)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_non_bearer_credentials_are_unauthenticated() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (a, _) = alpha_owner(&app).await;
    let good = a.token("owner");
    assert_accepted(&app, good, None, "the fixture's own token").await;

    assert_refused(&app, None, None, "no Authorization header").await;
    assert_refused(&app, Some(""), None, "an empty Authorization header").await;
    assert_refused(&app, Some("Bearer"), None, "Bearer without a token").await;
    assert_refused(&app, Some("Bearer "), None, "Bearer with a blank token").await;
    assert_refused(&app, Some("Basic dXNlcjpwYXNz"), None, "Basic").await;
    assert_refused(
        &app,
        Some(&format!("Token {good}")),
        None,
        "a good token under another scheme",
    )
    .await;
    assert_refused(&app, Some(good), None, "a good token with no scheme").await;
    assert_refused(&app, Some("Bearer not-a-jwt"), None, "junk").await;
    assert_refused(&app, Some("Bearer a.b.c"), None, "three junk segments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_and_forged_tokens_are_unauthenticated() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (a, sub) = alpha_owner(&app).await;
    let payload = b64_json(&claims(&sub));

    for alg in ["none", "None", "NONE"] {
        let header = b64_json(&json!({ "alg": alg, "typ": "JWT" }));
        let token = format!("{header}.{payload}.");
        assert_bearer_refused(&app, &token, None, &format!("alg {alg}, empty signature")).await;
    }
    // An accepted algorithm with the signature left off.
    let header = b64_json(&json!({ "alg": "HS256", "typ": "JWT" }));
    assert_bearer_refused(
        &app,
        &format!("{header}.{payload}."),
        None,
        "HS256, empty signature",
    )
    .await;
    assert_bearer_refused(
        &app,
        &format!("{header}.{payload}"),
        None,
        "HS256, two segments",
    )
    .await;

    // A valid token whose payload is swapped for another user's claims (same signature).
    let good = a.token("owner");
    let parts: Vec<&str> = good.split('.').collect();
    assert_eq!(parts.len(), 3);
    let forged_payload = b64_json(&json!({
        "sub": uuid::Uuid::new_v4().to_string(), "iss": "grc", "aud": "grc", "exp": now() + 3600,
    }));
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_bearer_refused(&app, &tampered, None, "tampered payload (other subject)").await;
    // The same claims re-encoded (a longer exp) with the original signature.
    let extended = b64_json(&claims_with(&sub, "exp", json!(now() + 365 * 86400)));
    let tampered = format!("{}.{extended}.{}", parts[0], parts[2]);
    assert_bearer_refused(&app, &tampered, None, "tampered payload (exp extended)").await;
    // An altered signature (the first character: every bit of it is signature data).
    let first = if parts[2].starts_with('A') { "B" } else { "A" };
    let sig = format!("{first}{}", &parts[2][1..]);
    assert_bearer_refused(
        &app,
        &format!("{}.{}.{sig}", parts[0], parts[1]),
        None,
        "altered signature",
    )
    .await;

    let other = hs256(&claims(&sub), b"another-secret-0123456789abcdef0123456789");
    assert_bearer_refused(&app, &other, None, "signed with another secret").await;

    // Control: the same claims signed with the server's secret pass.
    let proper = hs256(&claims(&sub), TEST_SECRET.as_bytes());
    assert_accepted(&app, &proper, None, "hand-built HS256 token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_validated() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, sub) = alpha_owner(&app).await;
    let secret = TEST_SECRET.as_bytes();
    let t = now();

    let cases = [
        (
            "expired 10 minutes ago",
            claims_with(&sub, "exp", json!(t - 600)),
        ),
        (
            "nbf 10 minutes ahead",
            claims_with(&sub, "nbf", json!(t + 600)),
        ),
        ("wrong iss", claims_with(&sub, "iss", json!("someone-else"))),
        ("no iss", claims_with(&sub, "iss", Value::Null)),
        ("wrong aud", claims_with(&sub, "aud", json!("another-api"))),
        ("no aud", claims_with(&sub, "aud", Value::Null)),
        ("no exp", claims_with(&sub, "exp", Value::Null)),
        ("no sub", claims_with(&sub, "sub", Value::Null)),
        ("empty sub", claims_with(&sub, "sub", json!(""))),
        ("blank sub", claims_with(&sub, "sub", json!("   "))),
        ("numeric sub", claims_with(&sub, "sub", json!(42))),
    ];
    for (case, c) in &cases {
        assert_bearer_refused(&app, &hs256(c, secret), None, case).await;
    }

    // Within the 30 s leeway both are still fine, so the refusals above are the claims' doing.
    let c = claims_with(&sub, "exp", json!(t - 5));
    assert_accepted(&app, &hs256(&c, secret), None, "expired 5 s ago (leeway)").await;
    let c = claims_with(&sub, "nbf", json!(t + 5));
    assert_accepted(&app, &hs256(&c, secret), None, "nbf 5 s ahead (leeway)").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_credentials_are_unauthenticated() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, sub) = alpha_owner(&app).await;

    // A properly signed token, but 100 KB long.
    // A properly signed token of about 100 KB (the claim is base64url-encoded: 4/3 larger).
    let big = hs256(
        &claims_with(&sub, "pad", json!("x".repeat(75 * 1024))),
        TEST_SECRET.as_bytes(),
    );
    assert!(
        (100 * 1024..110 * 1024).contains(&big.len()),
        "{}",
        big.len()
    );
    assert_bearer_refused(&app, &big, None, "100 KB signed token").await;
    assert_bearer_refused(&app, &"a".repeat(100 * 1024), None, "100 KB of junk").await;
    // Past the HTTP parser's 128 KiB request-head buffer, actix may answer 431 itself or reset
    // the connection (depending on how the head arrives), or pass it on (401): never anything
    // else.
    let own_connection = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let huge = own_connection
        .post(format!("{}/graphql", app.base))
        .bearer_auth("a".repeat(200 * 1024))
        .json(&json!({ "query": VIEWER }))
        .send()
        .await;
    if let Ok(resp) = huge {
        let status = resp.status().as_u16();
        assert!(matches!(status, 401 | 431), "200 KB credential: {status}");
    }
    // Just over the 8 KiB credential limit, still signed.
    let over = hs256(
        &claims_with(&sub, "pad", json!("x".repeat(8 * 1024))),
        TEST_SECRET.as_bytes(),
    );
    assert_bearer_refused(&app, &over, None, "9 KB signed token").await;

    for junk in [
        "grck_".to_owned(),
        "grck_junk".to_owned(),
        "grck_____".to_owned(),
        format!("grck_{}", "z".repeat(130)),
        format!(
            "grck_{}_{}_{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple(),
            "0".repeat(64)
        ),
    ] {
        assert_bearer_refused(&app, &junk, None, &format!("malformed API key {junk:?}")).await;
    }
}

// ---------------------------------------------------------------------------------------------
// RS256 with a PEM public key: no algorithm confusion

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_public_key_refuses_hs256_signed_with_the_public_key() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.jwt_public_key_file = Some(fixture_path("rsa-public.pem"));
        s.jwt_algorithms = "RS256".into();
    })
    .await;
    let (a, sub) = alpha_owner(&app).await;

    // The classic confusion: HS256 with the public key's PEM bytes as the HMAC secret.
    let confused = hs256(&claims(&sub), RSA1_PUBLIC);
    assert_bearer_refused(
        &app,
        &confused,
        None,
        "HS256 signed with the RS256 public key",
    )
    .await;
    // The server's configured HS256 secret no longer counts either.
    assert_bearer_refused(
        &app,
        a.token("owner"),
        None,
        "HS256 token with the test secret",
    )
    .await;
    let wrong_key = rs256(None, &claims(&sub), RSA2_PRIVATE);
    assert_bearer_refused(
        &app,
        &wrong_key,
        None,
        "RS256 signed with another private key",
    )
    .await;
    let expired = rs256(
        None,
        &claims_with(&sub, "exp", json!(now() - 600)),
        RSA1_PRIVATE,
    );
    assert_bearer_refused(&app, &expired, None, "RS256, expired").await;

    let good = rs256(None, &claims(&sub), RSA1_PRIVATE);
    let viewer = assert_accepted(&app, &good, None, "RS256 signed with rsa-private.pem").await;
    assert_eq!(viewer["role"], "OWNER");
    let kid = rs256(Some("whatever"), &claims(&sub), RSA1_PRIVATE);
    assert_accepted(&app, &kid, None, "RS256 with a kid (ignored for a PEM key)").await;
}

// ---------------------------------------------------------------------------------------------
// JWKS

/// A JWKS endpoint the test controls: what it serves, and how often it was fetched.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

impl JwksServer {
    async fn start(jwks: Value) -> Self {
        let keys = Arc::new(Mutex::new(jwks));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/.well-known/jwks.json",
            listener.local_addr().unwrap().port()
        );
        let (k, f) = (keys.clone(), fetches.clone());
        let server = actix_web::HttpServer::new(move || {
            let (k, f) = (k.clone(), f.clone());
            actix_web::App::new().route(
                "/.well-known/jwks.json",
                actix_web::web::get().to(move || {
                    let (k, f) = (k.clone(), f.clone());
                    async move {
                        f.fetch_add(1, Ordering::SeqCst);
                        let body = k.lock().unwrap().clone();
                        actix_web::HttpResponse::Ok().json(body)
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url,
            keys,
            fetches,
            handle,
        }
    }

    fn serve(&self, jwks: Value) {
        *self.keys.lock().unwrap() = jwks;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        let h = self.handle.clone();
        drop(tokio::spawn(async move { h.stop(false).await }));
    }
}

fn jwks(keys: &[&str]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| serde_json::from_str(k).unwrap())
        .collect();
    json!({ "keys": keys })
}

async fn jwks_app(jwks: &JwksServer) -> TestApp {
    let url = jwks.url.clone();
    TestApp::spawn_with(Backend::Sqlite, move |s| {
        s.jwt_jwks_url = Some(url);
        s.jwt_algorithms = "RS256".into();
    })
    .await
}

/// Key 1 is served and accepted; a kid the set lacks is refused without another fetch (the
/// refresh is rate-limited), and so are tokens without a kid or signed by the wrong key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_accepts_its_keys_and_refuses_unknown_kids() {
    let server = JwksServer::start(jwks(&[JWK1])).await;
    let app = jwks_app(&server).await;
    let (a, sub) = alpha_owner(&app).await;
    assert_eq!(server.fetches(), 0, "the key set is fetched on first use");

    let good = rs256(Some("test-key-1"), &claims(&sub), RSA1_PRIVATE);
    let viewer = assert_accepted(&app, &good, None, "kid test-key-1").await;
    assert_eq!(viewer["role"], "OWNER");
    assert_eq!(server.fetches(), 1);
    assert_accepted(&app, &good, None, "kid test-key-1, cached").await;
    assert_eq!(server.fetches(), 1, "a known kid is served from the cache");

    let cases = [
        (
            "unknown kid",
            rs256(Some("test-key-9"), &claims(&sub), RSA1_PRIVATE),
        ),
        ("no kid", rs256(None, &claims(&sub), RSA1_PRIVATE)),
        (
            "kid test-key-1 signed by key 2",
            rs256(Some("test-key-1"), &claims(&sub), RSA2_PRIVATE),
        ),
        (
            "kid test-key-2 (not served)",
            rs256(Some("test-key-2"), &claims(&sub), RSA2_PRIVATE),
        ),
        (
            "kid test-key-1, wrong aud",
            rs256(
                Some("test-key-1"),
                &claims_with(&sub, "aud", json!("x")),
                RSA1_PRIVATE,
            ),
        ),
        (
            "HS256 with the JWK's public key PEM",
            hs256(&claims(&sub), RSA1_PUBLIC),
        ),
        ("HS256 with the test secret", a.token("owner").to_owned()),
    ];
    for (case, token) in &cases {
        assert_bearer_refused(&app, token, None, case).await;
    }
    // Unknown kids within 30 s of the last fetch do not reach the identity provider again.
    assert_eq!(
        server.fetches(),
        1,
        "unknown kids must not hammer the JWKS endpoint"
    );
}

/// Key rotation: the identity provider replaces key 1 by key 2. Once the refresh interval
/// (30 s) since the last fetch has passed, the first token with the new kid refreshes the set:
/// key 2 is accepted and key 1, no longer published, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_key_rotation_is_picked_up_on_an_unknown_kid() {
    let server = JwksServer::start(jwks(&[JWK1])).await;
    let app = jwks_app(&server).await;
    let (_, sub) = alpha_owner(&app).await;

    let key1 = rs256(Some("test-key-1"), &claims(&sub), RSA1_PRIVATE);
    assert_accepted(&app, &key1, None, "kid test-key-1 before rotation").await;
    let first_fetch = Instant::now();
    assert_eq!(server.fetches(), 1);

    server.serve(jwks(&[JWK2]));
    let refresh_interval = Duration::from_secs(31);
    tokio::time::sleep(refresh_interval.saturating_sub(first_fetch.elapsed())).await;

    let key2 = rs256(Some("test-key-2"), &claims(&sub), RSA2_PRIVATE);
    let viewer = assert_accepted(&app, &key2, None, "kid test-key-2 after rotation").await;
    assert_eq!(viewer["role"], "OWNER");
    assert_eq!(
        server.fetches(),
        2,
        "the unknown kid refreshed the key set once"
    );
    assert_accepted(&app, &key2, None, "kid test-key-2, cached").await;
    assert_bearer_refused(&app, &key1, None, "kid test-key-1 after it was rotated out").await;
    let unknown = rs256(Some("test-key-3"), &claims(&sub), RSA2_PRIVATE);
    assert_bearer_refused(&app, &unknown, None, "unknown kid after rotation").await;
    assert_eq!(server.fetches(), 2);
}

/// A rotation published before the server's first fetch: key 2 is there from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_serves_both_keys_during_a_rotation() {
    let server = JwksServer::start(jwks(&[JWK1])).await;
    let app = jwks_app(&server).await;
    let (_, sub) = alpha_owner(&app).await;
    server.serve(jwks(&[JWK1, JWK2]));

    let key2 = rs256(Some("test-key-2"), &claims(&sub), RSA2_PRIVATE);
    assert_accepted(&app, &key2, None, "kid test-key-2").await;
    let key1 = rs256(Some("test-key-1"), &claims(&sub), RSA1_PRIVATE);
    assert_accepted(&app, &key1, None, "kid test-key-1").await;
    assert_eq!(server.fetches(), 1);
    // Each kid's key is its own: key 1's kid with key 2's signature is refused.
    let crossed = rs256(Some("test-key-1"), &claims(&sub), RSA2_PRIVATE);
    assert_bearer_refused(&app, &crossed, None, "kid test-key-1 signed by key 2").await;
}

// ---------------------------------------------------------------------------------------------
// Checks that reach the database (both backends)

async fn subjects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, sub) = alpha_owner(&app).await;
    let viewer = assert_accepted(&app, a.token("owner"), None, "the owner's token").await;
    assert_eq!(
        viewer["user"]["id"].as_str().map(str::is_empty),
        Some(false)
    );
    assert_eq!(viewer["role"], "OWNER");
    let viewer = assert_accepted(&app, &app.token(&sub), Some("alpha"), "with X-Tenant").await;
    assert_eq!(viewer["role"], "OWNER");

    let secret = TEST_SECRET.as_bytes();
    let not_users = [
        ("a random uuid", uuid::Uuid::new_v4().to_string()),
        ("an e-mail address", "owner@alpha.test".to_owned()),
        ("an OIDC-style subject", "auth0|0123456789".to_owned()),
        ("the tenant's id", a.tenant.id.to_string()),
        ("the subject in upper case", sub.to_uppercase()),
    ];
    for (case, s) in &not_users {
        assert_bearer_refused(&app, &hs256(&claims(s), secret), None, case).await;
    }
    // An unknown subject claiming a member's e-mail, unverified, is not bound to that member.
    let mut c = claims("idp|stranger");
    c["email"] = json!("owner@alpha.test");
    c["email_verified"] = json!(false);
    assert_bearer_refused(
        &app,
        &hs256(&c, secret),
        None,
        "unverified e-mail of a member",
    )
    .await;
    c["email"] = json!("nobody@alpha.test");
    c["email_verified"] = json!(true);
    assert_bearer_refused(&app, &hs256(&c, secret), None, "verified e-mail of no user").await;
    // The owner is still the owner's.
    assert_accepted(&app, a.token("owner"), None, "the owner's token, again").await;
}

async fn api_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let owner = a.token("owner");

    let r = app
        .gql(
            owner,
            None,
            "mutation { createApiKey(input: {name: \"ci\", role: VIEWER}) { apiKey { id } secret userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["createApiKey"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    let key_id = r.data()["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = r.data()["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("grck_"), "{secret}");

    let viewer = assert_accepted(&app, &secret, None, "the new API key").await;
    assert_eq!(
        viewer,
        json!({ "role": "VIEWER", "user": null, "apiKey": { "name": "ci" } })
    );
    assert_accepted(
        &app,
        &secret,
        Some("alpha"),
        "the API key with its own X-Tenant",
    )
    .await;
    assert_bearer_refused(
        &app,
        &secret,
        Some("bravo"),
        "the API key with another X-Tenant",
    )
    .await;

    // The right key id with a wrong secret.
    let mut wrong = secret.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.pop();
    wrong.push(last);
    assert_bearer_refused(&app, &wrong, None, "the key id with a wrong secret").await;
    assert_bearer_refused(
        &app,
        &secret[..secret.len() - 1],
        None,
        "the key, truncated",
    )
    .await;
    assert_bearer_refused(&app, &format!("{secret}0"), None, "the key, extended").await;
    let parts: Vec<&str> = secret.split('_').collect();
    assert_eq!(parts.len(), 4, "{secret}");
    let unknown_key = format!(
        "grck_{}_{}_{}",
        parts[1],
        uuid::Uuid::new_v4().simple(),
        parts[3]
    );
    assert_bearer_refused(
        &app,
        &unknown_key,
        None,
        "an unknown key id in the right tenant",
    )
    .await;
    let unknown_tenant = format!(
        "grck_{}_{}_{}",
        uuid::Uuid::new_v4().simple(),
        parts[2],
        parts[3]
    );
    assert_bearer_refused(
        &app,
        &unknown_tenant,
        None,
        "the key under an unknown tenant",
    )
    .await;

    let r = app
        .gql(
            owner,
            None,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revoked } userErrors { code } } }",
            json!({ "id": key_id }),
        )
        .await;
    assert_eq!(
        r.data()["revokeApiKey"]["apiKey"]["revoked"],
        true,
        "{:?}",
        r.body
    );
    assert_bearer_refused(&app, &secret, None, "the revoked API key").await;
    assert_bearer_refused(
        &app,
        &secret,
        Some("alpha"),
        "the revoked API key with X-Tenant",
    )
    .await;
}

async fn no_membership(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    // A user with no membership at all: bound to no tenant.
    let c = app
        .tenant("charlie", &[("gone", Role::Viewer), ("owner", Role::Owner)])
        .await;
    let gone_viewer = assert_accepted(&app, c.token("gone"), None, "charlie's viewer").await;
    assert_eq!(gone_viewer["role"], "VIEWER");
    let r = app
        .gql(
            c.token("owner"),
            None,
            "mutation($u: ID!) { removeMember(input: {userId: $u}) { removedUserId userErrors { code } } }",
            json!({ "u": gone_viewer["user"]["id"] }),
        )
        .await;
    assert_eq!(
        r.data()["removeMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );

    for (token, who) in [
        (a.token("owner"), "alpha's owner"),
        (a.token("viewer"), "alpha's viewer"),
    ] {
        assert_accepted(&app, token, Some("alpha"), who).await;
        for slug in [
            "bravo",
            "charlie",
            "nonexistent",
            "BAD SLUG",
            "alpha,bravo",
            "",
        ] {
            assert_bearer_refused(
                &app,
                token,
                Some(slug),
                &format!("{who} with X-Tenant {slug:?}"),
            )
            .await;
        }
    }
    assert_accepted(&app, b.token("owner"), Some("bravo"), "bravo's owner").await;
    assert_bearer_refused(
        &app,
        b.token("owner"),
        Some("alpha"),
        "bravo's owner in alpha",
    )
    .await;

    // The removed member authenticates (the user exists) but may act in no tenant.
    let gone = c.token("gone");
    let viewer = assert_accepted(&app, gone, None, "a user without memberships").await;
    assert_eq!(viewer["role"], Value::Null);
    assert_bearer_refused(
        &app,
        gone,
        Some("charlie"),
        "a removed member with X-Tenant",
    )
    .await;
}
