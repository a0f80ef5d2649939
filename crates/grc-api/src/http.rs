//! The HTTP edge: GraphQL over HTTP (POST, and GET for queries and GraphiQL), the websocket
//! transport, health, readiness and metrics, the request-id and trace-context middleware.

use crate::auth::{AuthContext, AuthError, Authenticator};
use crate::errors::ErrorCode;
use crate::graphql::GrcSchema;
use crate::limits::RequestPhase;
use crate::metrics::Metrics;
use crate::redis_support::{RateDecision, RateLimiter, Redis};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use futures_util::StreamExt;
use grc_store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";

/// What the handlers share.
pub struct AppState {
    pub schema: GrcSchema,
    pub auth: Authenticator,
    pub store: Store,
    pub redis: Option<Redis>,
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
    pub max_body_bytes: usize,
    pub rate_limit_per_minute: u32,
    /// The evidence object store and upload limit (multipart uploads, downloads).
    pub evidence: crate::graphql::evidence::EvidenceFiles,
}

/// Whether the client accepts the GraphQL response media type (it then gets it).
fn accepts_graphql_response(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/graphql-response+json"))
}

fn content_type(gql: bool) -> &'static str {
    if gql {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    }
}

/// A response carrying one top-level error with its code.
pub fn error_response(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    gql: bool,
) -> HttpResponse {
    let mut b = HttpResponse::build(status);
    b.content_type(content_type(gql));
    if status == StatusCode::UNAUTHORIZED {
        b.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    b.json(json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] }))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn tenant_header(req: &HttpRequest) -> Result<Option<&str>, ()> {
    match req.headers().get("x-tenant") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim())).map_err(|_| ()),
    }
}

fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".into(), |a| a.ip().to_string())
}

/// Where a request came from, for records that name it (an NDA acceptance).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer's IP address (the proxy's, behind one).
    pub address: String,
    /// The `User-Agent` header, at most 500 characters.
    pub user_agent: Option<String>,
}

pub(crate) fn client_info(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        address: client_addr(req),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(500).collect()),
    }
}

/// Authenticates the request and applies the rate limit; the error is the response to send.
/// Plain HTTP routes use it too (`crate::exports::authorize_request`).
pub(crate) async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    gql: bool,
) -> Result<AuthContext, HttpResponse> {
    let result = match tenant_header(req) {
        Ok(tenant) => state.auth.authenticate(bearer(req), tenant).await,
        Err(()) => Err(AuthError::BadTenantHeader),
    };
    match result {
        Ok(ctx) => {
            if let RateDecision::Limit { retry_after_secs } = state
                .limiter
                .check(&ctx.rate_key(), state.rate_limit_per_minute)
                .await
            {
                return Err(rate_limited(state, retry_after_secs, gql));
            }
            Ok(ctx)
        }
        Err(e) if e.is_internal() => {
            tracing::error!(error = %e, "authentication failed on our side");
            state.metrics.error(ErrorCode::Internal.as_str());
            Err(error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                "internal error",
                gql,
            ))
        }
        Err(e) => {
            tracing::debug!(reason = %e, "authentication refused");
            // Failed attempts are limited per client address.
            let key = format!("ip:{}", client_addr(req));
            if let RateDecision::Limit { retry_after_secs } =
                state.limiter.check(&key, state.rate_limit_per_minute).await
            {
                return Err(rate_limited(state, retry_after_secs, gql));
            }
            state.metrics.error(ErrorCode::Unauthenticated.as_str());
            Err(error_response(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "authentication required",
                gql,
            ))
        }
    }
}

fn rate_limited(state: &AppState, retry_after_secs: u64, gql: bool) -> HttpResponse {
    state.metrics.error(ErrorCode::RateLimited.as_str());
    let mut r = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        "too many requests",
        gql,
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Reads the body, refusing more than `max` bytes without reading them all.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
    gql: bool,
) -> Result<web::Bytes, HttpResponse> {
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            &format!("the request body is larger than {max} bytes"),
            gql,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(max));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the request body could not be read",
                gql,
            )
        })?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// `POST /graphql`.
pub async fn graphql_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let gql = accepts_graphql_response(&req);
    if is_multipart(&req) {
        return graphql_multipart(req, payload, state, gql, started).await;
    }
    let body = match read_body(&req, payload, state.max_body_bytes, gql).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let auth = match authenticate(&req, &state, gql).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send the request as application/json (or multipart/form-data for uploads)",
            gql,
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            state.metrics.error(ErrorCode::BadUserInput.as_str());
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL request: a JSON object with a \"query\" string",
                gql,
            );
        }
    };
    execute(&state, request, auth, client_info(&req), gql, started).await
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `POST /graphql` as `multipart/form-data`: the GraphQL multipart request spec (an
/// `operations` part, a `map` part, one file part). Authenticated and rate-limited before the
/// body is read; the whole request may be `GRC_MAX_UPLOAD_BYTES` plus `GRC_MAX_BODY_BYTES`
/// (413 past it), and the upload mutation refuses a file over `GRC_MAX_UPLOAD_BYTES` itself.
/// Everything after parsing (limits, spans, metrics) is the JSON path's.
///
/// Cross-site request forgery: a browser may send a multipart form cross-site without a
/// preflight, but grc takes credentials only from the `Authorization` header (or an API key
/// in it), never from cookies, so such a form arrives without credentials and is refused 401.
async fn graphql_multipart(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
    gql: bool,
    started: Instant,
) -> HttpResponse {
    let max = state
        .evidence
        .max_upload_bytes
        .saturating_add(state.max_body_bytes);
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            &format!("the request body is larger than {max} bytes"),
            gql,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return too_large();
    }
    let auth = match authenticate(&req, &state, gql).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The payload is not Send: a local task forwards its chunks.
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<web::Bytes>>(16);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let item = chunk.map_err(std::io::Error::other);
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    let body = futures_util::TryStreamExt::into_async_read(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    );
    // One file; multer bounds each part and the whole stream by `max`.
    let opts = async_graphql::http::MultipartOptions::default()
        .max_file_size(max)
        .max_num_files(1);
    let request = match async_graphql::http::receive_body(content_type, body, opts).await {
        Ok(r) => r,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
            state.metrics.error(ErrorCode::BadUserInput.as_str());
            return too_large();
        }
        Err(e) => {
            tracing::debug!(error = %e, "multipart request refused");
            state.metrics.error(ErrorCode::BadUserInput.as_str());
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL multipart request (operations, map, one file)",
                gql,
            );
        }
    };
    execute(&state, request, auth, client_info(&req), gql, started).await
}

/// `GET /evidence/{id}/content`: an evidence file, with the same authentication as
/// `/graphql` (see [`crate::graphql::evidence::prepare_download`] for the rest).
pub async fn evidence_content(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let auth = match authenticate(&req, &state, false).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let d = match crate::graphql::evidence::prepare_download(
        &state.store,
        &state.evidence,
        &auth,
        &path,
    )
    .await
    {
        Ok(d) => d,
        Err(r) => {
            state.metrics.error(r.code.as_str());
            let status =
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_response(status, r.code, r.message, false);
        }
    };
    let content_type = if d.media_type.starts_with("text/") {
        format!("{}; charset=utf-8", d.media_type)
    } else {
        d.media_type.clone()
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(attachment(&d.filename))
        .insert_header((header::ETAG, format!("\"{}\"", d.sha256)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .body(d.content)
}

/// `GET /shared/{grant}/{artifact}/document`: a document shared with the current tenant, with
/// the same authentication as `/graphql`; each download leaves a receipt on both sides (see
/// [`crate::graphql::sharing::prepare_shared_download`]).
pub async fn shared_document(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let auth = match authenticate(&req, &state, false).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (grant, artifact) = path.into_inner();
    let d = match crate::graphql::sharing::prepare_shared_download(
        &state.store,
        &state.evidence,
        &auth,
        &grant,
        &artifact,
        client_addr(&req),
    )
    .await
    {
        Ok(d) => d,
        Err(r) => {
            state.metrics.error(r.code.as_str());
            let status =
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_response(status, r.code, r.message, false);
        }
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, d.media_type.clone()))
        .insert_header(attachment(&d.filename))
        .insert_header((header::ETAG, format!("\"{}\"", d.sha256)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .body(d.content)
}

/// `GET /calendar/{token}.ics`: a member's iCalendar feed. The token is the credential (calendar
/// apps send no headers): it names its tenant and feed, is checked in that tenant's transaction
/// against the stored SHA-256 in constant time, and must not be revoked. Anything else is a
/// bare 404, the same for a malformed, unknown, forged or revoked token.
pub async fn calendar_feed(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let not_found = || {
        HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    };
    let failed = |e: &dyn std::error::Error| {
        tracing::error!(error = %e, "calendar feed failed");
        state.metrics.error(ErrorCode::Internal.as_str());
        HttpResponse::InternalServerError()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    };
    let Some(token) = path.strip_suffix(".ics") else {
        return not_found();
    };
    let feed = match state.store.calendar_feed_for_token(token).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(),
        Err(e) => return failed(&e),
    };
    let scope = grc_store::TenantScope::new(grc_domain::ids::TenantId(feed.tenant_id));
    let tx = match state.store.tenant_tx(scope).await {
        Ok(tx) => tx,
        Err(e) => return failed(&e),
    };
    let today = chrono::Utc::now().date_naive();
    let events = match crate::calendar::due_events_for_calendar(&tx, today).await {
        Ok(ev) => ev,
        Err(e) => return failed(&e),
    };
    if let Err(e) = tx.commit().await {
        return failed(&e);
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(crate::calendar::render("grc due dates", &events))
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the UTF-8 name.
fn attachment(filename: &str) -> header::ContentDisposition {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | ';' | '%')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![
            header::DispositionParam::Filename(ascii),
            header::DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: filename.as_bytes().to_vec(),
            }),
        ],
    }
}

/// `GET /graphql`: GraphiQL for a browser; a query (never a mutation) with `?query=`.
pub async fn graphql_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let gql = accepts_graphql_response(&req);
    if req.query_string().is_empty() {
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .subscription_endpoint("/graphql/ws")
                    .title("grc GraphiQL")
                    .finish(),
            );
    }
    let auth = match authenticate(&req, &state, gql).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(request) = async_graphql::http::parse_query_string(req.query_string()) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "malformed query string",
            gql,
        );
    };
    // A GET may only read: a document holding any mutation or subscription is refused, whatever
    // operation name it asks for.
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query)
        && doc.operations.iter().any(|(_, o)| {
            matches!(
                o.node.ty,
                OperationType::Mutation | OperationType::Subscription
            )
        })
    {
        let mut r = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "mutations and subscriptions are not allowed over GET; use POST",
            gql,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    execute(&state, request, auth, client_info(&req), gql, started).await
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    auth: AuthContext,
    client: ClientInfo,
    gql: bool,
    started: Instant,
) -> HttpResponse {
    let operation = request.operation_name.clone();
    let phase = Arc::new(RequestPhase::default());
    let request = request
        .data(auth)
        .data(client)
        .data(phase.clone())
        .data(state.evidence.clone());
    let response = state.schema.execute(request).await;
    let codes: Vec<&str> = response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code"))
        .filter_map(|v| match v {
            async_graphql::Value::String(s) => ErrorCode::ALL
                .iter()
                .find(|c| c.as_str() == s)
                .map(|c| c.as_str()),
            _ => None,
        })
        .collect();
    state.metrics.graphql(
        operation.as_deref(),
        started.elapsed().as_secs_f64(),
        &codes,
    );
    let status = if phase.rejected() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status)
        .content_type(content_type(gql))
        .json(&response)
}

/// `GET /graphql/ws`: graphql-transport-ws; the credential comes in `connection_init`
/// (`{"Authorization": "Bearer ...", "X-Tenant": "slug"}`), since browsers cannot set
/// headers on websockets.
pub async fn graphql_ws(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let auth = state.auth.clone();
    async_graphql_actix_web::GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |value| async move {
            let get = |k: &str| {
                value.as_object().and_then(|o| {
                    o.iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(k))
                        .and_then(|(_, v)| v.as_str().map(str::to_owned))
                })
            };
            let credential = get("authorization").map(|v| {
                v.split_once(' ')
                    .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
                    .map_or(v.clone(), |(_, t)| t.trim().to_owned())
            });
            let tenant = get("x-tenant");
            match auth
                .authenticate(credential.as_deref(), tenant.as_deref())
                .await
            {
                Ok(ctx) => {
                    let mut data = async_graphql::Data::default();
                    data.insert(ctx);
                    // Kept so that every event can be checked against the credential's
                    // current standing (revoked, removed, demoted), not its standing at connect.
                    data.insert(crate::graphql::subscription::SocketCredential {
                        credential: credential.unwrap_or_default(),
                        tenant,
                        authenticator: auth.clone(),
                    });
                    Ok(data)
                }
                Err(_) => Err(async_graphql::Error::new("UNAUTHENTICATED")),
            }
        })
        .start(&req, payload)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database (and Redis, when configured) answer.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.store.ping().await;
    let redis = match &state.redis {
        Some(r) => Some(r.ping().await),
        None => None,
    };
    let db_ok = db.is_ok();
    let redis_ok = redis.as_ref().is_none_or(Result::is_ok);
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: database unreachable");
    }
    if let Some(Err(e)) = &redis {
        tracing::warn!(error = %e, "readiness: Redis unreachable");
    }
    let body = json!({
        "status": if db_ok && redis_ok { "ready" } else { "unavailable" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "redis": match &redis { None => "not configured", Some(Ok(())) => "ok", Some(Err(_)) => "unreachable" },
    });
    if db_ok && redis_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}

/// Reads W3C trace context from request headers.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// A usable incoming request id: 1–64 characters of letters, digits, `-`, `_`, `.`.
pub fn valid_request_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
