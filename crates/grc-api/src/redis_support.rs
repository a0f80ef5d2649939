//! Redis, when `GRC_REDIS_URL` is set: rate-limit counters shared by every replica, pub/sub for
//! live events, and a readiness ping. Unset, the same work happens in-process.

use crate::events::EventBus;
use futures_util::StreamExt;
use grc_domain::audit::AuditRecord;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A connection to Redis with the deployment's key prefix.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
            .await
            .map_err(|_| {
                redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting to Redis timed out",
                ))
            })??;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
        })
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await?;
        Ok(())
    }

    fn key(&self, parts: &str) -> String {
        format!("{}:{parts}", self.prefix)
    }
}

/// Live events over Redis pub/sub.
#[derive(Clone, Debug)]
pub struct RedisEvents {
    redis: Redis,
}

impl RedisEvents {
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn channel(&self) -> String {
        self.redis.key("events")
    }

    pub async fn publish(&self, event: &AuditRecord) {
        let Ok(payload) = serde_json::to_string(event) else {
            return;
        };
        let mut c = self.redis.conn.clone();
        if let Err(e) = c.publish::<_, _, i64>(self.channel(), payload).await {
            tracing::warn!(error = %e, "publishing a live event to Redis failed");
        }
    }

    /// Forwards events from Redis to this process's subscribers until the process ends,
    /// reconnecting with backoff.
    pub fn spawn_forwarder(&self, bus: EventBus) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            loop {
                match this.forward(&bus).await {
                    Ok(()) => backoff = Duration::from_millis(200),
                    Err(e) => tracing::warn!(error = %e, "Redis event subscription lost; retrying"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
    }

    async fn forward(&self, bus: &EventBus) -> Result<(), redis::RedisError> {
        let mut pubsub = self.redis.client.get_async_pubsub().await?;
        let events = self.channel();
        let pings = grc_store::NotificationPing::channel(&self.redis.prefix);
        pubsub.subscribe(&events).await?;
        pubsub.subscribe(&pings).await?;
        let mut stream = pubsub.on_message();
        while let Some(msg) = stream.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if msg.get_channel_name() == pings {
                match serde_json::from_str::<grc_store::NotificationPing>(&payload) {
                    Ok(p) => bus.notify(p),
                    Err(e) => tracing::warn!(error = %e, "malformed notification ping from Redis"),
                }
                continue;
            }
            match serde_json::from_str::<AuditRecord>(&payload) {
                Ok(e) => bus.deliver(Arc::new(e)),
                Err(e) => tracing::warn!(error = %e, "malformed live event from Redis"),
            }
        }
        Ok(())
    }
}

/// The outcome of a rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Over the limit; try again after this many seconds.
    Limit {
        retry_after_secs: u64,
    },
}

const WINDOW_SECS: u64 = 60;

/// A fixed-window limiter: N requests per key per minute, counted in Redis when configured
/// (shared by all replicas) or in this process.
#[derive(Debug)]
pub enum RateLimiter {
    Memory(std::sync::Mutex<HashMap<String, (u64, u32)>>),
    Redis(Redis, redis::Script),
}

impl RateLimiter {
    pub fn memory() -> Self {
        Self::Memory(std::sync::Mutex::new(HashMap::new()))
    }

    pub fn redis(redis: Redis) -> Self {
        let script = redis::Script::new(
            "local c = redis.call('INCR', KEYS[1]) \
             if c == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end \
             return c",
        );
        Self::Redis(redis, script)
    }

    pub async fn check(&self, key: &str, limit: u32) -> RateDecision {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let window = now / WINDOW_SECS;
        let retry_after_secs = (window + 1) * WINDOW_SECS - now;
        let count = match self {
            Self::Memory(m) => {
                let mut map = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() > 100_000 {
                    map.retain(|_, (w, _)| *w == window);
                }
                let e = map.entry(key.to_owned()).or_insert((window, 0));
                if e.0 != window {
                    *e = (window, 0);
                }
                e.1 = e.1.saturating_add(1);
                e.1
            }
            Self::Redis(r, script) => {
                let mut c = r.conn.clone();
                let k = r.key(&format!("rl:{key}:{window}"));
                match script
                    .key(k)
                    .arg(WINDOW_SECS * 2)
                    .invoke_async::<u32>(&mut c)
                    .await
                {
                    Ok(n) => n,
                    Err(e) => {
                        // Fail open: an outage of Redis must not take the API down with it.
                        tracing::warn!(error = %e, "rate limit check failed; allowing");
                        return RateDecision::Allow;
                    }
                }
            }
        };
        if count > limit {
            RateDecision::Limit { retry_after_secs }
        } else {
            RateDecision::Allow
        }
    }
}
