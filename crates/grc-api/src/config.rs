//! Settings: defaults, then an optional TOML file (`GRC_CONFIG`), then `GRC_*` environment
//! variables (and `OTEL_EXPORTER_OTLP_ENDPOINT`), then command-line flags. Secrets are
//! `SecretString`s: they never print in `Debug` output or logs.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the settings could not be loaded. The message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn default_data_dir() -> PathBuf {
    PathBuf::from("./grc-data")
}
fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_worker_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}
fn default_issuer() -> String {
    "grc".into()
}
fn default_audience() -> String {
    "grc".into()
}
fn default_algorithms() -> String {
    "HS256".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_time_scale() -> f64 {
    1.0
}
fn default_delivery_concurrency() -> usize {
    64
}
fn default_smtp_from() -> String {
    "grc <noreply@localhost>".into()
}

fn default_redis_prefix() -> String {
    "grc".into()
}
fn default_max_depth() -> usize {
    12
}
fn default_max_complexity() -> usize {
    2000
}
fn default_max_aliases() -> usize {
    30
}
fn default_max_tokens() -> usize {
    5000
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_rate_limit() -> u32 {
    6000
}
fn default_pool() -> u32 {
    16
}
fn default_auth_cache() -> u64 {
    10
}
fn default_object_store() -> String {
    "file".into()
}
fn default_max_upload() -> usize {
    25 * 1024 * 1024
}

/// Every setting of the server, worker and command line.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `GRC_DATA_DIR`: where the embedded SQLite database and the generated JWT secret live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `GRC_DATABASE_URL`: the server's connection (PostgreSQL: the application role).
    /// Unset: `sqlite://<data_dir>/grc.db?mode=rwc`.
    #[serde(default)]
    pub database_url: Option<SecretString>,
    /// `GRC_MIGRATION_DATABASE_URL`: the tables' owner, for `grc migrate` (defaults to
    /// `GRC_DATABASE_URL`).
    #[serde(default)]
    pub migration_database_url: Option<SecretString>,
    /// `GRC_DATABASE_POOL_SIZE`.
    #[serde(default = "default_pool")]
    pub database_pool_size: u32,
    /// `GRC_ALLOW_RLS_BYPASS`: let the server run as a role that bypasses row-level security
    /// (a superuser). Off by default; for development only.
    #[serde(default)]
    pub allow_rls_bypass: bool,
    /// `GRC_REDIS_URL`: unset means the embedded queue and in-process limits.
    #[serde(default)]
    pub redis_url: Option<SecretString>,
    /// `GRC_REDIS_PREFIX`: the key prefix, so several deployments can share one Redis.
    #[serde(default = "default_redis_prefix")]
    pub redis_prefix: String,
    /// `GRC_BIND`.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// `GRC_WORKER_BIND`: where `grc worker` serves `/metrics` and `/healthz`.
    #[serde(default = "default_worker_bind")]
    pub worker_bind: SocketAddr,
    /// `GRC_JWT_SECRET`: the HS256 secret (at least 32 bytes). Unset, with no JWKS URL or
    /// public key either: generated into `<data_dir>/jwt-secret` on first start.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// `GRC_JWT_JWKS_URL`: an identity provider's JWKS (RS256/ES256).
    #[serde(default)]
    pub jwt_jwks_url: Option<String>,
    /// `GRC_JWT_PUBLIC_KEY_FILE`: a PEM public key (RS256/ES256), instead of a JWKS URL.
    #[serde(default)]
    pub jwt_public_key_file: Option<PathBuf>,
    /// `GRC_JWT_ISSUER`: the required `iss`.
    #[serde(default = "default_issuer")]
    pub jwt_issuer: String,
    /// `GRC_JWT_AUDIENCE`: the required `aud`.
    #[serde(default = "default_audience")]
    pub jwt_audience: String,
    /// `GRC_JWT_ALGORITHMS`: the accepted algorithms, comma-separated (HS256, RS256, ES256).
    #[serde(default = "default_algorithms")]
    pub jwt_algorithms: String,
    /// `GRC_JWT_LEEWAY_SECS`: clock skew allowed on `exp` and `nbf`.
    #[serde(default = "default_leeway")]
    pub jwt_leeway_secs: u64,
    /// `GRC_SMTP_URL`: the mail relay for notifications (the delivery loop): `smtp://host:port`,
    /// `smtps://user:pass@host`, `smtp://user:pass@host:587?tls=required` (STARTTLS).
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// `GRC_SMTP_FROM`: the sender of notification e-mail, `Name <address>` or an address.
    #[serde(default = "default_smtp_from")]
    pub smtp_from: String,
    /// `GRC_DELIVERY_TIME_SCALE`: multiplies the delivery's waits (the retry schedule, the
    /// delivery lease, the stream's claim and requeue times), in `(0, 1]`. 1 in production;
    /// drills and tests shrink it so that a run of retries takes seconds.
    #[serde(default = "default_time_scale")]
    pub delivery_time_scale: f64,
    /// `GRC_DELIVERY_CONCURRENCY`: delivery attempts a worker (or the embedded loop) has in
    /// flight at most.
    #[serde(default = "default_delivery_concurrency")]
    pub delivery_concurrency: usize,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: export traces over OTLP/gRPC when set.
    #[serde(default)]
    pub otel_endpoint: Option<String>,
    /// `GRC_MAX_QUERY_DEPTH`.
    #[serde(default = "default_max_depth")]
    pub max_query_depth: usize,
    /// `GRC_MAX_QUERY_COMPLEXITY`.
    #[serde(default = "default_max_complexity")]
    pub max_query_complexity: usize,
    /// `GRC_MAX_QUERY_ALIASES`.
    #[serde(default = "default_max_aliases")]
    pub max_query_aliases: usize,
    /// `GRC_MAX_QUERY_TOKENS`.
    #[serde(default = "default_max_tokens")]
    pub max_query_tokens: usize,
    /// `GRC_MAX_BODY_BYTES`.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// `GRC_AUTH_CACHE_SECS`: how long a resolved credential (user and memberships, API key)
    /// is reused without reading the database; changes through the API apply at once on every
    /// replica, changes from the `grc` command within this time. 0 turns the cache off.
    #[serde(default = "default_auth_cache")]
    pub auth_cache_secs: u64,
    /// `GRC_RATE_LIMIT_PER_MINUTE`: requests per principal (or per client address for failed
    /// authentication) per minute.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_minute: u32,
    /// `GRC_OBJECT_STORE`: where evidence files are kept: `file` (a local directory, the
    /// default) or `s3` (an S3-compatible bucket).
    #[serde(default = "default_object_store")]
    pub object_store: String,
    /// `GRC_OBJECT_DIR`: the directory of the `file` store. Unset: `<data_dir>/objects`.
    #[serde(default)]
    pub object_dir: Option<PathBuf>,
    /// `GRC_S3_BUCKET`: the bucket of the `s3` store (required with it).
    #[serde(default)]
    pub s3_bucket: Option<String>,
    /// `GRC_S3_ENDPOINT`: an S3-compatible endpoint (MinIO, Ceph, R2, ...); unset: AWS.
    /// Credentials come from the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// (and `AWS_SESSION_TOKEN`) variables.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// `GRC_S3_REGION`: unset: `AWS_DEFAULT_REGION`, else `us-east-1`.
    #[serde(default)]
    pub s3_region: Option<String>,
    /// `GRC_MAX_UPLOAD_BYTES`: the largest evidence file accepted (default 25 MiB). A
    /// multipart request may be this much plus `GRC_MAX_BODY_BYTES` in all.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        // An empty figment gives every default.
        Figment::new()
            .extract()
            .unwrap_or_else(|e| unreachable!("defaults always extract: {e}"))
    }
}

impl Settings {
    /// Loads defaults < `GRC_CONFIG` TOML file < environment.
    pub fn load() -> Result<Self, ConfigError> {
        let mut fig = Figment::new();
        if let Ok(path) = std::env::var("GRC_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(ConfigError(format!(
                    "GRC_CONFIG names {path:?}, which is not a readable file"
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("GRC_").ignore(&["CONFIG"])).merge(
            Env::raw()
                .only(&["OTEL_EXPORTER_OTLP_ENDPOINT"])
                .map(|_| "otel_endpoint".into()),
        );
        Self::from_figment(&fig)
    }

    fn from_figment(fig: &Figment) -> Result<Self, ConfigError> {
        let s: Settings = fig.extract().map_err(|e| {
            let e = e.to_string();
            ConfigError(name_env_vars(&e))
        })?;
        s.validate()?;
        Ok(s)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError(m));
        if let Some(s) = &self.jwt_secret
            && s.expose_secret().len() < 32
        {
            return err("GRC_JWT_SECRET must be at least 32 bytes long".into());
        }
        if let Some(u) = &self.jwt_jwks_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return err("GRC_JWT_JWKS_URL must be an http(s) URL".into());
        }
        if self.jwt_issuer.trim().is_empty() {
            return err("GRC_JWT_ISSUER must not be empty".into());
        }
        if self.jwt_audience.trim().is_empty() {
            return err("GRC_JWT_AUDIENCE must not be empty".into());
        }
        crate::auth::parse_algorithms(&self.jwt_algorithms).map_err(ConfigError)?;
        if self.jwt_leeway_secs > 300 {
            return err("GRC_JWT_LEEWAY_SECS must be at most 300".into());
        }
        if let Some(u) = &self.database_url {
            let u = u.expose_secret();
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://"))
            {
                return err(
                    "GRC_DATABASE_URL must start with sqlite:, postgres:// or postgresql://".into(),
                );
            }
        }
        if let Some(u) = &self.redis_url {
            let u = u.expose_secret();
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return err("GRC_REDIS_URL must start with redis:// or rediss://".into());
            }
        }
        if !(self.delivery_time_scale > 0.0 && self.delivery_time_scale <= 1.0) {
            return err("GRC_DELIVERY_TIME_SCALE must be a number in (0, 1]".into());
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(char::is_whitespace) {
            return err("GRC_REDIS_PREFIX must be non-empty and hold no spaces".into());
        }
        if self.database_pool_size == 0 || self.database_pool_size > 1000 {
            return err("GRC_DATABASE_POOL_SIZE must be between 1 and 1000".into());
        }
        for (name, v, max) in [
            (
                "GRC_DELIVERY_CONCURRENCY",
                self.delivery_concurrency,
                10_000,
            ),
            ("GRC_MAX_QUERY_DEPTH", self.max_query_depth, 1000),
            (
                "GRC_MAX_QUERY_COMPLEXITY",
                self.max_query_complexity,
                1_000_000,
            ),
            ("GRC_MAX_QUERY_ALIASES", self.max_query_aliases, 10_000),
            ("GRC_MAX_QUERY_TOKENS", self.max_query_tokens, 1_000_000),
            ("GRC_MAX_BODY_BYTES", self.max_body_bytes, 1 << 30),
            ("GRC_MAX_UPLOAD_BYTES", self.max_upload_bytes, 1 << 30),
        ] {
            if v == 0 || v > max {
                return err(format!("{name} must be between 1 and {max}"));
            }
        }
        if self.auth_cache_secs > 300 {
            return err("GRC_AUTH_CACHE_SECS must be at most 300".into());
        }
        if self.rate_limit_per_minute == 0 {
            return err("GRC_RATE_LIMIT_PER_MINUTE must be at least 1".into());
        }
        self.object_store_config()?;
        Ok(())
    }

    /// The evidence object store these settings name.
    pub fn object_store_config(
        &self,
    ) -> Result<grc_store::objects::ObjectStoreConfig, ConfigError> {
        use grc_store::objects::ObjectStoreConfig;
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match self.object_store.as_str() {
            "file" => Ok(ObjectStoreConfig::File {
                dir: self
                    .object_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("objects")),
            }),
            "s3" => {
                let Some(bucket) = set(&self.s3_bucket) else {
                    return Err(ConfigError(
                        "GRC_S3_BUCKET must be set when GRC_OBJECT_STORE is s3".into(),
                    ));
                };
                let endpoint = set(&self.s3_endpoint);
                if let Some(e) = &endpoint
                    && !(e.starts_with("https://") || e.starts_with("http://"))
                {
                    return Err(ConfigError("GRC_S3_ENDPOINT must be an http(s) URL".into()));
                }
                Ok(ObjectStoreConfig::S3 {
                    bucket,
                    endpoint,
                    region: set(&self.s3_region),
                })
            }
            other => Err(ConfigError(format!(
                "GRC_OBJECT_STORE must be file or s3, not {other:?}"
            ))),
        }
    }

    /// The server's database URL: `GRC_DATABASE_URL`, or the embedded SQLite file.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.expose_secret().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("grc.db").display()
            ),
        }
    }

    /// The owner's URL for migrations.
    pub fn effective_migration_url(&self) -> String {
        match &self.migration_database_url {
            Some(u) => u.expose_secret().to_owned(),
            None => self.effective_database_url(),
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        self.effective_database_url().starts_with("sqlite:")
    }
}

/// figment names keys by their field (`bind`, `BIND`); lead with the variable a person sets
/// (`GRC_BIND`).
fn name_env_vars(message: &str) -> String {
    let Some(start) = message.find("for key \"") else {
        return message.to_owned();
    };
    let rest = &message[start + "for key \"".len()..];
    let Some(end) = rest.find('"') else {
        return message.to_owned();
    };
    let key = rest[..end].trim_start_matches("default.").to_uppercase();
    let var = if key == "OTEL_ENDPOINT" {
        "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned()
    } else {
        format!("GRC_{key}")
    };
    format!("{var}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut fig = Figment::new();
        for (k, v) in pairs {
            fig = fig.merge(Serialized::default(k, v));
        }
        Settings::from_figment(&fig)
    }

    #[test]
    fn defaults() {
        let s = Settings::default();
        assert_eq!(s.bind, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(s.worker_bind, "127.0.0.1:9464".parse().expect("addr"));
        assert!((s.delivery_time_scale - 1.0).abs() < f64::EPSILON);
        assert_eq!(s.data_dir, PathBuf::from("./grc-data"));
        assert!(s.uses_sqlite());
        assert_eq!(
            s.effective_database_url(),
            "sqlite://./grc-data/grc.db?mode=rwc"
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = with(&[("bind", "not-an-address")]).expect_err("bad bind");
        assert!(e.0.contains("GRC_BIND"), "{}", e.0);
        let e = with(&[("jwt_secret", "short")]).expect_err("short secret");
        assert!(e.0.contains("GRC_JWT_SECRET"), "{}", e.0);
        let e = with(&[("database_url", "mysql://x")]).expect_err("mysql");
        assert!(e.0.contains("GRC_DATABASE_URL"), "{}", e.0);
        let e = with(&[("jwt_algorithms", "none")]).expect_err("alg none");
        assert!(e.0.contains("GRC_JWT_ALGORITHMS"), "{}", e.0);
        let e = with(&[("max_query_depth", "0")]).expect_err("depth 0");
        assert!(e.0.contains("GRC_MAX_QUERY_DEPTH"), "{}", e.0);
        for scale in ["0", "1.5", "-1", "NaN"] {
            let e = with(&[("delivery_time_scale", scale)]).expect_err("bad scale");
            assert!(e.0.contains("GRC_DELIVERY_TIME_SCALE"), "{scale}: {}", e.0);
        }
        let e = with(&[("worker_bind", "nowhere")]).expect_err("bad worker bind");
        assert!(e.0.contains("GRC_WORKER_BIND"), "{}", e.0);
        let e = with(&[("object_store", "ftp")]).expect_err("ftp");
        assert!(e.0.contains("GRC_OBJECT_STORE"), "{}", e.0);
        let e = with(&[("object_store", "s3")]).expect_err("no bucket");
        assert!(e.0.contains("GRC_S3_BUCKET"), "{}", e.0);
        let e = with(&[
            ("object_store", "s3"),
            ("s3_bucket", "b"),
            ("s3_endpoint", "minio:9000"),
        ])
        .expect_err("endpoint without scheme");
        assert!(e.0.contains("GRC_S3_ENDPOINT"), "{}", e.0);
        let e = with(&[("max_upload_bytes", "0")]).expect_err("upload 0");
        assert!(e.0.contains("GRC_MAX_UPLOAD_BYTES"), "{}", e.0);
    }

    #[test]
    fn object_store_settings() {
        use grc_store::objects::ObjectStoreConfig;
        let s = Settings::default();
        assert_eq!(s.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(
            s.object_store_config().expect("default"),
            ObjectStoreConfig::File {
                dir: PathBuf::from("./grc-data/objects")
            }
        );
        let s = with(&[
            ("object_store", "s3"),
            ("s3_bucket", "evidence"),
            ("s3_endpoint", "http://127.0.0.1:9000"),
        ])
        .expect("s3");
        assert_eq!(
            s.object_store_config().expect("s3"),
            ObjectStoreConfig::S3 {
                bucket: "evidence".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: None
            }
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s =
            with(&[("jwt_secret", "0123456789abcdef0123456789abcdef-very-secret")]).expect("ok");
        let printed = format!("{s:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
    }
}
