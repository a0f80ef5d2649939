//! Operations: health, readiness, metrics, request ids, and Redis-backed rate limits.

use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TestApp, redis_url};
use serde_json::{Value, json};

async fn get(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_request_ids() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let (s, h, body) = get(&app, "/healthz", &[]).await;
    assert_eq!((s, body.as_str()), (200, r#"{"status":"ok"}"#));
    assert_eq!(h["x-request-id"].to_str().unwrap().len(), 36);
    let (s, _, body) = get(&app, "/readyz", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "status": "ready", "database": "ok", "redis": "not configured" })
    );

    // Request ids: a valid incoming one is kept, anything else replaced.
    let (_, h, _) = get(&app, "/healthz", &[("X-Request-Id", "abc-123")]).await;
    assert_eq!(h["x-request-id"], "abc-123");
    for bad in ["has spaces", &"x".repeat(100), "semi;colon"] {
        let (_, h, _) = get(&app, "/healthz", &[("X-Request-Id", bad)]).await;
        let id = h["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }

    // A named operation, a trace context, then a refusal, all counted.
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(a.token("owner"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({ "query": "query Viewer { viewer { role } }", "operationName": "Viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .gql("nope", None, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
    let (s, h, metrics) = get(&app, "/metrics", &[]).await;
    assert_eq!(s, 200);
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    for line in [
        "grc_graphql_requests_total{operation=\"Viewer\"} 1",
        "grc_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1",
        "grc_http_responses_total{status=\"401\"} 1",
        "grc_graphql_request_duration_seconds_count{operation=\"Viewer\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    // GraphiQL for a browser.
    let (s, h, page) = get(&app, "/graphql", &[("Accept", "text/html")]).await;
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.to_lowercase().contains("graphiql"));
}

/// Sleeps into the next minute window when fewer than 15 s of this one remain, so that a test's
/// requests fall into one window (the limiter's windows are aligned to the minute).
async fn wait_for_window_slack() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into = now.as_secs_f64() % 60.0;
    if into > 45.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(60.5 - into)).await;
    }
}

fn unique_prefix() -> String {
    format!("grc-test-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_shared_through_redis() {
    let prefix = unique_prefix();
    let app1 = TestApp::spawn_with(Backend::Postgres, |s| {
        s.redis_url = Some(redis_url().into());
        s.redis_prefix = prefix.clone();
        s.rate_limit_per_minute = 5;
    })
    .await;
    let app2 = TestApp::on(app1.db.sibling().await).await;
    let a = app1
        .tenant("alpha", &[("owner", Role::Owner), ("other", Role::Viewer)])
        .await;
    let q = "{ viewer { role } }";
    // Five requests between the two replicas pass; the sixth, on either, is limited.
    wait_for_window_slack().await;
    let mut answers = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &app1 } else { &app2 };
        answers.push(app.gql(a.token("owner"), None, q, json!({})).await);
    }
    let codes: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(codes, [200, 200, 200, 200, 200, 429]);
    assert_eq!(answers[5].code(), Some("RATE_LIMITED"));
    // Retry-After is within the window.
    let resp = app1
        .client
        .post(format!("{}/graphql", app1.base))
        .bearer_auth(a.token("owner"))
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another user has a budget of their own.
    let r = app2.gql(a.token("other"), None, q, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The counters live in Redis, under this deployment's prefix.
    let (_, _, body) = get(&app1, "/readyz", &[]).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["redis"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_is_limited_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.redis_url = Some(redis_url().into());
        s.redis_prefix = unique_prefix();
        s.rate_limit_per_minute = 3;
    })
    .await;
    // Three refusals, then limited.
    wait_for_window_slack().await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(
            app.gql("bad-token", None, "{ viewer { role } }", json!({}))
                .await
                .status,
        );
    }
    assert_eq!(codes, [401, 401, 401, 429]);
}
