//! Authentication: bearer JWTs (HS256 secret; RS256/ES256 from a JWKS URL or a PEM key) and
//! service API keys. The token names the user; the membership row names the role.

use crate::config::Settings;
use grc_domain::tenancy::Role;
use grc_store::{ApiKeyRecord, Store, StoreError, TenantRecord, UserMembership, UserRecord};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// A credential longer than this is refused before any parsing.
pub const MAX_CREDENTIAL_LEN: usize = 8 * 1024;
/// How often an unknown `kid` may trigger a JWKS refresh.
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);

/// Parses `GRC_JWT_ALGORITHMS`.
pub fn parse_algorithms(s: &str) -> Result<Vec<Algorithm>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let alg = match part {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" => Algorithm::EdDSA,
            other => {
                return Err(format!(
                    "GRC_JWT_ALGORITHMS: {other:?} is not an accepted algorithm (HS256, HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384, EdDSA)"
                ));
            }
        };
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    if out.is_empty() {
        return Err("GRC_JWT_ALGORITHMS must name at least one algorithm".into());
    }
    Ok(out)
}

fn is_hmac(a: Algorithm) -> bool {
    matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Why a credential was refused. Never sent to the client (which sees only UNAUTHENTICATED);
/// logged at debug level.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no credential")]
    Missing,
    #[error("credential too long")]
    TooLong,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("unknown key id")]
    UnknownKid,
    #[error("unknown user")]
    UnknownUser,
    #[error("invalid or revoked API key")]
    InvalidApiKey,
    #[error("not a member of the requested tenant")]
    NotAMember,
    #[error("the X-Tenant header is malformed")]
    BadTenantHeader,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A failure shared by requests that waited for the same lookup.
    #[error("{0}")]
    Shared(Arc<AuthError>),
}

impl AuthError {
    /// Whether the failure is ours (the database), not the caller's.
    pub fn is_internal(&self) -> bool {
        match self {
            Self::Store(_) => true,
            Self::Shared(e) => e.is_internal(),
            _ => false,
        }
    }
}

/// The claims grc reads. `exp`, `iss`, `aud` and `sub` are required by the validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

enum KeySource {
    Static(DecodingKey),
    Jwks(JwksCache),
}

struct JwksCache {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: Mutex<Option<Instant>>,
}

impl JwksCache {
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        self.refresh().await;
        self.keys
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or(AuthError::UnknownKid)
    }

    /// Fetches the key set, at most once per interval whatever the number of unknown kids.
    async fn refresh(&self) {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH_MIN_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => *self.keys.write().await = keys,
            Err(e) => tracing::warn!(error = %e, url = %self.url, "JWKS refresh failed"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(k) => {
                    keys.insert(kid, k);
                }
                Err(e) => tracing::warn!(kid, error = %e, "JWKS key skipped"),
            }
        }
        Ok(keys)
    }
}

/// Verifies bearer JWTs against the configured key and pinned algorithms.
pub struct JwtVerifier {
    validation: Validation,
    source: KeySource,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Builds the verifier from the settings. `secret` is the resolved HS256 secret, if any.
    pub fn new(settings: &Settings, secret: Option<&SecretString>) -> Result<Self, String> {
        let algorithms = parse_algorithms(&settings.jwt_algorithms)?;
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms.clone();
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = settings.jwt_leeway_secs;
        validation.set_issuer(&[settings.jwt_issuer.as_str()]);
        validation.set_audience(&[settings.jwt_audience.as_str()]);

        let hmac = algorithms.iter().all(|a| is_hmac(*a));
        let asymmetric = algorithms.iter().all(|a| !is_hmac(*a));
        let source = if let Some(url) = &settings.jwt_jwks_url {
            if !asymmetric {
                return Err("GRC_JWT_ALGORITHMS must name only asymmetric algorithms (RS256, ES256, ...) with GRC_JWT_JWKS_URL".into());
            }
            KeySource::Jwks(JwksCache {
                url: url.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|e| format!("GRC_JWT_JWKS_URL: {e}"))?,
                keys: RwLock::new(HashMap::new()),
                last_refresh: Mutex::new(None),
            })
        } else if let Some(path) = &settings.jwt_public_key_file {
            if !asymmetric {
                return Err("GRC_JWT_ALGORITHMS must name only asymmetric algorithms with GRC_JWT_PUBLIC_KEY_FILE".into());
            }
            let pem = std::fs::read(path)
                .map_err(|e| format!("GRC_JWT_PUBLIC_KEY_FILE {}: {e}", path.display()))?;
            let key = if algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::ES256 | Algorithm::ES384))
            {
                DecodingKey::from_ec_pem(&pem)
            } else if algorithms.contains(&Algorithm::EdDSA) {
                DecodingKey::from_ed_pem(&pem)
            } else {
                DecodingKey::from_rsa_pem(&pem)
            }
            .map_err(|e| {
                format!(
                    "GRC_JWT_PUBLIC_KEY_FILE {}: not a usable public key: {e}",
                    path.display()
                )
            })?;
            KeySource::Static(key)
        } else {
            let secret = secret.ok_or("GRC_JWT_SECRET is not set")?;
            if !hmac {
                return Err(
                    "GRC_JWT_ALGORITHMS must name only HS256/HS384/HS512 with GRC_JWT_SECRET"
                        .into(),
                );
            }
            KeySource::Static(
                DecodingKey::from_secret(secret.expose_secret().as_bytes())
                    .map_err(|e| format!("GRC_JWT_SECRET: {e}"))?,
            )
        };
        Ok(Self { validation, source })
    }

    /// Verifies a token's signature and claims. The algorithm comes from configuration: a
    /// token whose header names another is refused.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_CREDENTIAL_LEN {
            return Err(AuthError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(AuthError::InvalidToken("algorithm not accepted".into()));
        }
        let key = match &self.source {
            KeySource::Static(k) => k.clone(),
            KeySource::Jwks(cache) => {
                let kid = header.kid.as_deref().ok_or(AuthError::UnknownKid)?;
                cache.key(kid).await?
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        if data.claims.sub.trim().is_empty() {
            return Err(AuthError::InvalidToken("empty sub".into()));
        }
        Ok(data.claims)
    }
}

/// Signs HS256 tokens for `grc token` and the demo.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(settings: &Settings, secret: &SecretString) -> Result<Self, String> {
        Ok(Self {
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes())
                .map_err(|e| format!("GRC_JWT_SECRET: {e}"))?,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        })
    }

    /// A token for `subject`, valid from now for `ttl`.
    pub fn issue(&self, subject: &str, ttl: Duration) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl.as_secs(),
            nbf: Some(now),
            iat: Some(now),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            email: None,
            email_verified: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|e| e.to_string())
    }
}

/// The HS256 secret: `GRC_JWT_SECRET`, or (with no JWKS URL or public key configured) the one
/// generated into `<data_dir>/jwt-secret` on first start.
pub fn resolve_secret(settings: &Settings) -> Result<Option<SecretString>, String> {
    if let Some(s) = &settings.jwt_secret {
        return Ok(Some(s.clone()));
    }
    if settings.jwt_jwks_url.is_some() || settings.jwt_public_key_file.is_some() {
        return Ok(None);
    }
    let path = settings.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(Some(SecretString::from(s.trim().to_owned()))),
        Ok(_) => {
            return Err(format!(
                "{} holds fewer than 32 bytes; delete it or set GRC_JWT_SECRET",
                path.display()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("GRC_DATA_DIR {}: {e}", settings.data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(SecretString::from(secret)))
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    User {
        user: UserRecord,
        memberships: Vec<UserMembership>,
    },
    ApiKey(ApiKeyRecord),
}

/// The caller and the tenant the request acts in, with the caller's role there.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub principal: Principal,
    pub tenant: Option<(TenantRecord, Role)>,
}

impl AuthContext {
    /// A stable key for rate limiting.
    pub fn rate_key(&self) -> String {
        match &self.principal {
            Principal::User { user, .. } => format!("u:{}", user.id),
            Principal::ApiKey(k) => format!("k:{}", k.id),
        }
    }
}

/// Resolved credentials, kept briefly so that the hot path (every request) does not go to the
/// database. Entries are dropped at once when a membership, tenant or API key changes through
/// the API (on every replica: the change's audit event reaches each one), and expire after
/// `GRC_AUTH_CACHE_SECS` (default 10) in any case, which bounds how long a change made outside
/// the API (the `grc` command) takes to apply. Only successful resolutions are kept.
/// A user with their memberships, as resolved from a token's subject.
type ResolvedUser = Arc<(UserRecord, Vec<UserMembership>)>;
/// An API key with its tenant.
type ResolvedKey = Arc<(ApiKeyRecord, TenantRecord)>;

pub struct AuthCache {
    /// Bumped on every invalidation: a lookup that began before one does not leave its
    /// (possibly stale) result in the cache.
    generation: std::sync::atomic::AtomicU64,
    users: Option<moka::future::Cache<String, ResolvedUser>>,
    keys: Option<moka::future::Cache<[u8; 32], ResolvedKey>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("enabled", &self.users.is_some())
            .finish()
    }
}

impl AuthCache {
    /// A cache whose entries live `ttl` (zero: no cache).
    pub fn new(ttl: Duration) -> Self {
        if ttl.is_zero() {
            return Self {
                generation: std::sync::atomic::AtomicU64::new(0),
                users: None,
                keys: None,
            };
        }
        Self {
            generation: std::sync::atomic::AtomicU64::new(0),
            users: Some(
                moka::future::Cache::builder()
                    .max_capacity(50_000)
                    .time_to_live(ttl)
                    .build(),
            ),
            keys: Some(
                moka::future::Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(ttl)
                    .build(),
            ),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops what a committed change may have made stale.
    pub fn on_event(&self, event: &grc_domain::audit::AuditRecord) {
        if matches!(
            event.subject_type.as_str(),
            "Membership" | "Tenant" | "User" | "ApiKey"
        ) {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        match event.subject_type.as_str() {
            "Membership" | "Tenant" | "User" => {
                if let Some(c) = &self.users {
                    c.invalidate_all();
                }
                if let Some(c) = &self.keys {
                    c.invalidate_all();
                }
            }
            "ApiKey" => {
                if let Some(c) = &self.keys {
                    c.invalidate_all();
                }
            }
            _ => {}
        }
    }

    /// Keeps the cache in step with changes committed anywhere (events from every replica).
    pub fn watch(self: &Arc<Self>, bus: &crate::events::EventBus) {
        use futures_util::StreamExt;
        let this = Arc::clone(self);
        let mut events = Box::pin(bus.subscribe());
        tokio::spawn(async move {
            while let Some(e) = events.next().await {
                this.on_event(&e);
            }
        });
    }
}

fn key_digest(key: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(key.as_bytes()).into()
}

/// Turns a bearer credential and an `X-Tenant` header into an [`AuthContext`].
#[derive(Clone)]
pub struct Authenticator {
    store: Store,
    jwt: Arc<JwtVerifier>,
    cache: Arc<AuthCache>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(store: Store, jwt: JwtVerifier, cache: Arc<AuthCache>) -> Self {
        Self {
            store,
            jwt: Arc::new(jwt),
            cache,
        }
    }

    /// The user and memberships for a subject, from the cache or the database. Concurrent
    /// requests for the same subject share one lookup; failures are not cached.
    async fn user(
        &self,
        subject: &str,
    ) -> Result<Option<Arc<(UserRecord, Vec<UserMembership>)>>, AuthError> {
        let lookup = async {
            self.store
                .user_with_memberships(subject)
                .await?
                .map(Arc::new)
                .ok_or(AuthError::UnknownUser)
        };
        let found = match &self.cache.users {
            Some(c) => {
                let before = self.cache.generation();
                let r = c
                    .try_get_with(subject.to_owned(), lookup)
                    .await
                    .map_err(AuthError::Shared);
                if self.cache.generation() != before {
                    c.invalidate(subject).await;
                }
                r
            }
            None => lookup.await,
        };
        match found {
            Ok(f) => Ok(Some(f)),
            Err(e)
                if matches!(&e, AuthError::UnknownUser)
                    || matches!(&e, AuthError::Shared(inner) if matches!(**inner, AuthError::UnknownUser)) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn authenticate(
        &self,
        credential: Option<&str>,
        tenant_slug: Option<&str>,
    ) -> Result<AuthContext, AuthError> {
        let credential = credential.ok_or(AuthError::Missing)?;
        if credential.len() > MAX_CREDENTIAL_LEN {
            return Err(AuthError::TooLong);
        }
        if let Some(slug) = tenant_slug
            && grc_domain::tenancy::Slug::parse(slug).is_err()
        {
            return Err(AuthError::BadTenantHeader);
        }
        if grc_store::is_api_key(credential) {
            return self.api_key(credential, tenant_slug).await;
        }
        let claims = self.jwt.verify(credential).await?;
        let found = match self.user(&claims.sub).await? {
            Some(found) => found,
            None => Arc::new(
                self.bind_subject(&claims)
                    .await?
                    .ok_or(AuthError::UnknownUser)?,
            ),
        };
        let (user, memberships) = (found.0.clone(), found.1.clone());
        let tenant = match tenant_slug {
            Some(slug) => Some(
                memberships
                    .iter()
                    .find(|m| m.tenant.slug == slug)
                    .map(|m| (m.tenant.clone(), m.role))
                    .ok_or(AuthError::NotAMember)?,
            ),
            None if memberships.len() == 1 => {
                memberships.first().map(|m| (m.tenant.clone(), m.role))
            }
            None => None,
        };
        Ok(AuthContext {
            principal: Principal::User { user, memberships },
            tenant,
        })
    }

    async fn api_key(
        &self,
        key: &str,
        tenant_slug: Option<&str>,
    ) -> Result<AuthContext, AuthError> {
        let digest = key_digest(key);
        let lookup = async {
            let record = self
                .store
                .authenticate_api_key(key)
                .await?
                .ok_or(AuthError::InvalidApiKey)?;
            let ptx = self.store.platform_tx().await?;
            let tenant = ptx
                .tenant_by_id(record.tenant_id)
                .await?
                .ok_or(AuthError::InvalidApiKey)?;
            ptx.commit().await?;
            Ok::<_, AuthError>(Arc::new((record, tenant)))
        };
        let found = match &self.cache.keys {
            Some(c) => c
                .try_get_with(digest, lookup)
                .await
                .map_err(AuthError::Shared)?,
            None => lookup.await?,
        };
        let (record, tenant) = (found.0.clone(), found.1.clone());
        if tenant_slug.is_some_and(|s| s != tenant.slug) {
            return Err(AuthError::NotAMember);
        }
        let role = record.role;
        Ok(AuthContext {
            principal: Principal::ApiKey(record),
            tenant: Some((tenant, role)),
        })
    }

    /// First sign-in through an identity provider: a user added by e-mail (whose subject is
    /// still its own id) is bound to the token's subject when the token carries that e-mail,
    /// verified.
    async fn bind_subject(
        &self,
        claims: &Claims,
    ) -> Result<Option<(UserRecord, Vec<UserMembership>)>, AuthError> {
        let (Some(email), Some(true)) = (&claims.email, claims.email_verified) else {
            return Ok(None);
        };
        let Ok(email) = grc_domain::tenancy::Email::parse(email) else {
            return Ok(None);
        };
        let ptx = self.store.platform_tx().await?;
        let Some(user) = ptx.user_by_email(&email).await? else {
            return Ok(None);
        };
        if user.subject != user.id.to_string() {
            // Already bound to another subject: never rebind.
            return Ok(None);
        }
        ptx.set_subject(user.id, &claims.sub).await?;
        ptx.commit().await?;
        Ok(self.store.user_with_memberships(&claims.sub).await?)
    }
}
