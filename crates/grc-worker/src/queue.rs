//! The Redis Streams queue (issue 7, "Queue and delivery", with `GRC_REDIS_URL` set).
//!
//! The database stays the record of every delivery (its status, next attempt, attempts); the
//! stream only carries "this delivery is due" to the worker replicas, so that many workers share
//! the sending without polling the database for it, and so that an entry a dead worker took is
//! handed to another.
//!
//! **Relay** ([`relay_round`], every worker runs it; running it twice at once is harmless):
//! 1. fans out new outbox events into deliveries, as the embedded loop does
//!    (`deliver::relay_outbox`);
//! 2. sweeps the due deliveries that are not on the stream (`Store::due_deliveries`: new ones,
//!    retries whose time came, ones whose worker died mid-attempt, ones whose stream entry was
//!    lost), marks them queued for [`StreamConfig::queue_ttl`] in their tenant's transaction
//!    (`TenantTx::mark_deliveries_queued`, a conditional update: of two relays one marks each),
//!    and then adds one entry per marked delivery with `XADD ... MAXLEN ~`. When the `XADD`
//!    fails (Redis down) the marks are taken back, so the next sweep tries again at once; if
//!    that fails too, the mark lapses after `queue_ttl`.
//!
//! **Consumers** ([`run_streams`]): `XREADGROUP` in the group [`GROUP`] as a consumer named per
//! process, at most [`crate::DeliveryConfig::concurrency`] entries in flight. Each entry is one
//! attempt of `Deliverer::deliver` (lease in the database, send, record the attempt); then
//! `XACK`. An entry whose delivery is not due any more (done, leased by another worker, its next
//! attempt later) is acknowledged without sending. An entry whose attempt could not be recorded
//! (the database is down) is not acknowledged. Every [`StreamConfig::claim_idle`] / 3 a consumer
//! runs `XAUTOCLAIM` for entries pending longer than `claim_idle` (a consumer that died, or an
//! unrecorded attempt) and handles them like new ones. `claim_idle` is longer than the delivery
//! lease, so a claimed delivery's lease has lapsed and the claim can take it.
//!
//! **What survives what.** A worker killed between sending and recording: its lease lapses, and
//! the claim or the sweep sends again with the same `webhook-id` (the receiver deduplicates; at
//! least once). Redis restarted empty: the consumers recreate the group (`NOGROUP`), and the
//! sweep requeues every delivery whose mark lapsed. The database down: nothing is acknowledged
//! or marked until it is back.

use crate::deliver::{Deliverer, FAN_OUT_PARALLEL, NotifyHook, relay_outbox};
use crate::metrics::WorkerMetrics;
use chrono::{TimeDelta, Utc};
use grc_domain::ids::TenantId;
use grc_store::{NotificationPing, Store, StoreError, TenantScope};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamMaxlen, StreamReadOptions,
    StreamReadReply,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

/// The consumer group every worker joins.
pub const GROUP: &str = "grc-workers";

/// The stream's settings.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// `GRC_REDIS_URL`.
    pub url: String,
    /// `GRC_REDIS_PREFIX`: the stream is `{prefix}:deliveries`.
    pub prefix: String,
    /// This process's consumer name in the group.
    pub consumer: String,
    /// How long a delivery marked queued is left to the stream before the sweep queues it
    /// again (an entry lost with Redis costs at most this).
    pub queue_ttl: Duration,
    /// An entry pending this long with its consumer is claimed by another (longer than the
    /// delivery lease).
    pub claim_idle: Duration,
    /// How long one `XREADGROUP` blocks.
    pub block: Duration,
    /// The stream's approximate cap (`MAXLEN ~`); entries trimmed unread are requeued by the
    /// sweep after `queue_ttl`.
    pub max_len: usize,
    /// Due deliveries swept per round.
    pub sweep_batch: u32,
}

impl StreamConfig {
    /// The defaults for `url` and `prefix`, with a consumer name unique to this process.
    pub fn new(url: &str, prefix: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            consumer: format!("worker-{}-{}", std::process::id(), Uuid::now_v7().simple()),
            queue_ttl: Duration::from_secs(300),
            claim_idle: Duration::from_secs(90),
            block: Duration::from_secs(1),
            max_len: 100_000,
            sweep_batch: 1_000,
        }
    }

    /// The claim and requeue times multiplied by `scale` (`GRC_DELIVERY_TIME_SCALE`), kept
    /// above the delivery `lease` (a claimed entry's lease must have lapsed) and in order
    /// (`queue_ttl` above `claim_idle`).
    #[must_use]
    pub fn with_time_scale(mut self, scale: f64, lease: Duration) -> Self {
        use crate::deliver::scale_duration;
        self.claim_idle = scale_duration(self.claim_idle, scale, lease + Duration::from_secs(1));
        self.queue_ttl = scale_duration(
            self.queue_ttl,
            scale,
            self.claim_idle + Duration::from_secs(1),
        );
        self
    }

    fn key(&self) -> String {
        format!("{}:deliveries", self.prefix)
    }
}

/// One stream entry: a delivery of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stream_id: String,
    /// `None` for an entry this version cannot read (acknowledged and dropped: the sweep covers
    /// its delivery).
    pub delivery: Option<(TenantId, Uuid)>,
}

impl Entry {
    fn from_stream(s: &StreamId) -> Self {
        let field = |k: &str| s.get::<String>(k).and_then(|v| Uuid::try_parse(&v).ok());
        Self {
            stream_id: s.id.clone(),
            delivery: field("tenant")
                .zip(field("delivery"))
                .map(|(t, d)| (TenantId(t), d)),
        }
    }
}

/// The stream's figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Entries in the stream (acknowledged ones too, until trimmed).
    pub length: u64,
    /// Entries handed to a consumer and not acknowledged.
    pub pending: u64,
    /// Entries not yet handed to any consumer.
    pub lag: u64,
}

/// The delivery stream.
#[derive(Clone)]
pub struct DeliveryStream {
    conn: ConnectionManager,
    config: StreamConfig,
    key: String,
}

impl std::fmt::Debug for DeliveryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryStream")
            .field("key", &self.key)
            .field("consumer", &self.config.consumer)
            .finish_non_exhaustive()
    }
}

fn is_nogroup(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

async fn manager(url: &str, response_timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    client.get_connection_manager_with_config(config).await
}

impl DeliveryStream {
    /// Connects (writes and acknowledgements share one multiplexed connection; each reader
    /// gets its own, [`DeliveryStream::reader`], since a blocking read holds its connection).
    pub async fn connect(config: StreamConfig) -> redis::RedisResult<Self> {
        let conn = manager(&config.url, Duration::from_secs(5)).await?;
        let key = config.key();
        Ok(Self { conn, config, key })
    }

    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    /// A connection for blocking reads.
    pub async fn reader(&self) -> redis::RedisResult<ConnectionManager> {
        manager(&self.config.url, self.config.block + Duration::from_secs(5)).await
    }

    /// Creates the group (and the stream) if missing; reading from the stream's start, so
    /// that entries added before the group existed are read too.
    pub async fn ensure_group(&self) -> redis::RedisResult<()> {
        let mut c = self.conn.clone();
        match c
            .xgroup_create_mkstream::<_, _, _, ()>(&self.key, GROUP, "0")
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds one entry per delivery, in one pipeline.
    pub async fn add(&self, deliveries: &[(TenantId, Uuid)]) -> redis::RedisResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (tenant, id) in deliveries {
            pipe.xadd_maxlen(
                &self.key,
                StreamMaxlen::Approx(self.config.max_len),
                "*",
                &[
                    ("tenant", tenant.0.to_string()),
                    ("delivery", id.to_string()),
                ],
            )
            .ignore();
        }
        let mut c = self.conn.clone();
        pipe.query_async::<()>(&mut c).await
    }

    /// Reads up to `count` new entries for this consumer, blocking up to the configured time.
    pub async fn read(
        &self,
        reader: &mut ConnectionManager,
        count: usize,
    ) -> redis::RedisResult<Vec<Entry>> {
        let block = usize::try_from(self.config.block.as_millis()).unwrap_or(1000);
        let opts = StreamReadOptions::default()
            .group(GROUP, &self.config.consumer)
            .count(count.max(1))
            .block(block);
        let reply: Option<StreamReadReply> =
            reader.xread_options(&[&self.key], &[">"], &opts).await?;
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(|s| Entry::from_stream(&s))
            .collect())
    }

    /// Claims up to `count` entries pending longer than `claim_idle` with any consumer.
    pub async fn claim(&self, count: usize) -> redis::RedisResult<Vec<Entry>> {
        let idle = usize::try_from(self.config.claim_idle.as_millis()).unwrap_or(usize::MAX);
        let mut c = self.conn.clone();
        let mut out = Vec::new();
        let mut start = "0-0".to_owned();
        // XAUTOCLAIM scans a bounded part of the pending list per call; follow its cursor
        // until it wraps to 0-0 or enough were claimed.
        for _ in 0..16 {
            let reply: StreamAutoClaimReply = c
                .xautoclaim_options(
                    &self.key,
                    GROUP,
                    &self.config.consumer,
                    idle,
                    &start,
                    StreamAutoClaimOptions::default().count(count.saturating_sub(out.len()).max(1)),
                )
                .await?;
            out.extend(reply.claimed.iter().map(Entry::from_stream));
            if reply.next_stream_id == "0-0" || out.len() >= count {
                break;
            }
            start = reply.next_stream_id;
        }
        Ok(out)
    }

    /// Acknowledges entries.
    pub async fn ack(&self, ids: &[String]) -> redis::RedisResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut c = self.conn.clone();
        c.xack::<_, _, _, usize>(&self.key, GROUP, ids).await?;
        Ok(())
    }

    /// Length, pending and lag of the group.
    pub async fn stats(&self) -> redis::RedisResult<StreamStats> {
        let mut c = self.conn.clone();
        let length: u64 = c.xlen(&self.key).await?;
        let groups: redis::streams::StreamInfoGroupsReply = c.xinfo_groups(&self.key).await?;
        let g = groups.groups.iter().find(|g| g.name == GROUP);
        Ok(StreamStats {
            length,
            pending: g.map_or(0, |g| g.pending as u64),
            lag: g.and_then(|g| g.lag).unwrap_or(0) as u64,
        })
    }
}

/// Publishes [`NotificationPing`]s on the deployment's Redis channel, where every API replica's
/// subscriber forwarder picks them up (`grc worker` runs apart from the API). Best effort: a
/// ping lost with Redis only delays the member's view to their next `notifications` query.
#[derive(Clone)]
pub struct RedisNotifier {
    client: redis::Client,
    conn: Arc<tokio::sync::OnceCell<ConnectionManager>>,
    channel: String,
}

impl std::fmt::Debug for RedisNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNotifier")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisNotifier {
    pub fn new(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            conn: Arc::new(tokio::sync::OnceCell::new()),
            channel: NotificationPing::channel(prefix),
        })
    }

    /// Publishes one ping (connecting on first use, with the stream's timeouts).
    pub async fn publish(&self, ping: NotificationPing) -> redis::RedisResult<()> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(Duration::from_secs(5)))
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_secs(2));
                self.client.get_connection_manager_with_config(config).await
            })
            .await?;
        let payload = serde_json::to_string(&ping).map_err(|e| {
            redis::RedisError::from(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })?;
        let mut c = conn.clone();
        c.publish::<_, _, i64>(&self.channel, payload).await?;
        Ok(())
    }

    /// The hook for a [`Deliverer`]: each ping published from a task of its own.
    pub fn hook(self) -> NotifyHook {
        NotifyHook::new(move |ping| {
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.publish(ping).await {
                    tracing::warn!(error = %e, "publishing a notification ping failed");
                }
            });
        })
    }
}

/// What one relay round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayRound {
    /// Outbox events fanned out.
    pub fanned_out: usize,
    /// Deliveries added to the stream.
    pub queued: usize,
}

/// One relay round (see the module doc).
pub async fn relay_round(
    store: &Store,
    stream: &DeliveryStream,
    outbox_batch: u32,
) -> Result<RelayRound, StoreError> {
    let mut round = RelayRound {
        fanned_out: relay_outbox(store, outbox_batch).await?,
        ..RelayRound::default()
    };
    let now = Utc::now();
    let ttl = TimeDelta::from_std(stream.config.queue_ttl).unwrap_or(TimeDelta::minutes(5));
    let due = store.due_deliveries(now, stream.config.sweep_batch).await?;
    let mut by_tenant: BTreeMap<TenantId, Vec<Uuid>> = BTreeMap::new();
    for (tenant, id) in due {
        by_tenant.entry(tenant).or_default().push(id);
    }
    // Marked per tenant, FAN_OUT_PARALLEL tenants at once (each on its own connection).
    let parallel = FAN_OUT_PARALLEL
        .min(usize::try_from(store.max_connections() / 2).unwrap_or(1))
        .max(1);
    let mut pending = by_tenant.into_iter();
    let mut tasks: JoinSet<(TenantId, Result<Vec<Uuid>, StoreError>)> = JoinSet::new();
    let mut marked: Vec<(TenantId, Uuid)> = Vec::new();
    let mut failed: Option<StoreError> = None;
    loop {
        while tasks.len() < parallel {
            let Some((tenant, ids)) = pending.next() else {
                break;
            };
            let store = store.clone();
            tasks.spawn(async move {
                let r = async {
                    let mut tx = store.tenant_tx(TenantScope::new(tenant)).await?;
                    let m = tx.mark_deliveries_queued(&ids, now, now + ttl).await?;
                    tx.commit().await?;
                    Ok(m)
                }
                .await;
                (tenant, r)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok((tenant, Ok(ids))) => marked.extend(ids.into_iter().map(|id| (tenant, id))),
            Ok((tenant, Err(e))) => {
                tracing::warn!(%tenant, error = %e, "relay: marking deliveries queued failed");
                failed.get_or_insert(e);
            }
            Err(e) => tracing::warn!(error = %e, "relay: marking task failed"),
        }
    }
    if let Err(e) = stream.add(&marked).await {
        tracing::warn!(error = %e, "relay: adding to the stream failed; unmarking");
        // Take the marks back so the next sweep tries again at once; failing that, they lapse
        // after queue_ttl.
        let mut by_tenant: BTreeMap<TenantId, Vec<Uuid>> = BTreeMap::new();
        for (tenant, id) in &marked {
            by_tenant.entry(*tenant).or_default().push(*id);
        }
        for (tenant, ids) in by_tenant {
            if let Ok(mut tx) = store.tenant_tx(TenantScope::new(tenant)).await
                && tx.unmark_deliveries_queued(&ids).await.is_ok()
            {
                let _ = tx.commit().await;
            }
        }
        return Err(StoreError::Invalid(format!("stream unavailable: {e}")));
    }
    round.queued += marked.len();
    match failed {
        // What was marked is on the stream; the error still ends the round.
        Some(e) if marked.is_empty() => Err(e),
        _ => Ok(round),
    }
}

/// Handles one entry: one attempt, then the acknowledgement unless the attempt could not be
/// recorded. Whether it was acknowledged.
async fn handle(deliverer: &Deliverer, stream: &DeliveryStream, entry: Entry) -> bool {
    if let Some((tenant, id)) = entry.delivery
        && let Err(e) = deliverer.deliver(tenant, id).await
    {
        tracing::warn!(%tenant, delivery = %id, error = %e, "stream: attempt not recorded; entry left pending");
        return false;
    }
    match stream.ack(std::slice::from_ref(&entry.stream_id)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(entry = %entry.stream_id, error = %e, "stream: acknowledgement failed");
            false
        }
    }
}

/// The worker's delivery side with Redis: the relay loop and the consumers, until `shutdown`
/// turns true (then waits for the attempts in flight). Returns the entries handled.
pub async fn run_streams(
    deliverer: Arc<Deliverer>,
    config: StreamConfig,
    metrics: Arc<WorkerMetrics>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    let stream = loop {
        match DeliveryStream::connect(config.clone()).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, "stream: cannot connect to Redis; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return Ok(0),
                }
            }
        }
    };
    tracing::info!(consumer = %config.consumer, "stream delivery started");
    let relay = tokio::spawn(relay_loop(
        deliverer.store().clone(),
        stream.clone(),
        deliverer.config().batch,
        deliverer.config().poll_interval,
        metrics.clone(),
        shutdown.clone(),
    ));
    let permits = Arc::new(Semaphore::new(deliverer.config().concurrency.max(1)));
    let mut tasks: JoinSet<bool> = JoinSet::new();
    let mut reader: Option<ConnectionManager> = None;
    let mut handled = 0u64;
    let mut next_claim = tokio::time::Instant::now();
    let mut backoff = Duration::from_millis(200);
    let claim_every = (config.claim_idle / 3).max(Duration::from_millis(100));
    let mut group_ready = false;
    loop {
        if *shutdown.borrow() || shutdown.has_changed().is_err() {
            break;
        }
        while let Some(r) = tasks.try_join_next() {
            handled += u64::from(r.unwrap_or(false));
        }
        let free = permits.available_permits();
        if free == 0 {
            tokio::select! {
                r = tasks.join_next() => { handled += u64::from(matches!(r, Some(Ok(true)))); }
                _ = shutdown.changed() => {}
            }
            continue;
        }
        if !group_ready {
            match stream.ensure_group().await {
                Ok(()) => group_ready = true,
                Err(e) => {
                    tracing::warn!(error = %e, "stream: cannot create the consumer group; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
        }
        let got = if tokio::time::Instant::now() >= next_claim {
            next_claim = tokio::time::Instant::now() + claim_every;
            let r = stream.claim(free).await;
            if let Ok(e) = &r
                && !e.is_empty()
            {
                tracing::info!(
                    claimed = e.len(),
                    "stream: claimed entries left pending by others"
                );
                metrics.claimed(e.len());
            }
            r
        } else {
            let r = match reader.as_mut() {
                Some(r) => Ok(r),
                None => stream.reader().await.map(|r| reader.insert(r)),
            };
            match r {
                Ok(r) => {
                    tokio::select! {
                        res = stream.read(r, free) => res,
                        _ = shutdown.changed() => continue,
                    }
                }
                Err(e) => Err(e),
            }
        };
        let entries = match got {
            Ok(e) => {
                backoff = Duration::from_millis(200);
                e
            }
            Err(e) => {
                if is_nogroup(&e) {
                    // Redis lost the stream (restarted empty): recreate the group; the sweep
                    // requeues what was on it.
                    group_ready = false;
                }
                tracing::warn!(error = %e, "stream: read failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        for entry in entries {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let d = deliverer.clone();
            let s = stream.clone();
            tasks.spawn(async move {
                let acked = handle(&d, &s, entry).await;
                drop(permit);
                acked
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        handled += u64::from(matches!(r, Ok(true)));
    }
    let _ = relay.await;
    tracing::info!(handled, "stream delivery stopping");
    Ok(handled)
}

/// Relay rounds until shutdown: back to back while a round finds a full batch, else every
/// `poll`. Also refreshes the queue gauges.
async fn relay_loop(
    store: Store,
    stream: DeliveryStream,
    outbox_batch: u32,
    poll: Duration,
    metrics: Arc<WorkerMetrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let full = match relay_round(&store, &stream, outbox_batch).await {
            Ok(r) => {
                if r.queued > 0 || r.fanned_out > 0 {
                    tracing::debug!(fanned_out = r.fanned_out, queued = r.queued, "relay round");
                }
                r.queued >= stream.config.sweep_batch as usize
                    || r.fanned_out >= outbox_batch as usize
            }
            Err(e) => {
                tracing::warn!(error = %e, "relay round failed");
                false
            }
        };
        metrics.refresh_backlog(&store).await;
        if let Ok(s) = stream.stats().await {
            metrics.stream(s);
        }
        if full {
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            changed = shutdown.changed() => {
                // A dropped sender means shutdown too.
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
