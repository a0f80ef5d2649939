//! Fan-out and delivery (issue 7, "Queue and delivery"), the embedded mode: without Redis the
//! same process that serves the API (or `grc worker`) reads the outbox from the database.
//!
//! **Fan-out.** An unrelayed outbox event of a tenant becomes its deliveries in one tenant
//! transaction, then is marked relayed in the same transaction: a crash before the commit
//! leaves the event unrelayed and nothing written; a crash after it leaves the deliveries, and
//! fanning out again writes none twice (`add_deliveries` is idempotent by delivery key,
//! `{event key}:{channel}:{target}`, the shape of `reminders::delivery_key`).
//!
//! - `reminder.due` (written by the scheduler) names its policy's `recipients` and `channels`
//!   in its payload (see [`ReminderDue`]).
//! - `share.*` events (written into the grantee's outbox by the sharing code) carry no policy:
//!   they use the tenant's default policy for share events, [`share_event_policy`]: the
//!   tenant's owners and compliance managers, by e-mail, webhook and in-app. Owners, because a
//!   peer's change to what the tenant relies on (a grant revoked, an NDA changed) is a business
//!   decision; compliance managers, because they use the shared evidence. A tenant-editable
//!   policy for share events is a later step.
//! - Any other topic gets the same default.
//!
//! Targets: e-mail to each recipient's address (members by their account address, users named
//! by id, external addresses), once per address (lower-cased); webhook to each enabled
//! endpoint whose event types match the topic (an empty list matches all; an entry ending in
//! `.*` matches a prefix); in-app to each recipient member.
//!
//! Events are fanned out per tenant in chunks of [`FAN_OUT_CHUNK`], one transaction each, with
//! [`FAN_OUT_PARALLEL`] transactions at once (at most half the pool).
//!
//! **Delivery.** [`run_embedded`] runs rounds every second, or back to back while a round
//! finds a full batch: it fans out new events, then takes the
//! due deliveries (`Store::due_deliveries`), each in its own tenant transaction with
//! `lease_delivery` (of two workers one gets it), sends it with at most
//! [`DeliveryConfig::concurrency`] in flight, and records the attempt with
//! `record_delivery_attempt`: delivered; failed with the next attempt from [`RetryPolicy`]
//! (the Standard Webhooks schedule, `reminders::next_retry`); or dead after the last attempt
//! or a 410. No transaction is held across a network call: lease and read in one, send,
//! record in another. A worker that dies mid-attempt leaves the delivery leased until
//! [`DeliveryConfig::lease`] has passed; another attempt follows then (at least once; the
//! webhook receiver deduplicates on `webhook-id`, the mail on `Message-ID`).
//!
//! After each webhook attempt the endpoint's failure run is updated
//! (`EndpointHealth::record`); an endpoint disabled (410, or the long failure run) gets an
//! audit event and an in-app notice to each of the tenant's owners, and its remaining
//! deliveries are dead-lettered when their turn comes.

use crate::channels::{ChannelResult, EventMessage, email::Mailer, in_app, webhook};
use crate::metrics::WorkerMetrics;
use chrono::{DateTime, TimeDelta, Utc};
use grc_domain::audit::Actor;
use grc_domain::ids::{TenantId, UserId};
use grc_domain::reminders::{Channel, DeliveryTarget, RecipientRole, Recipients, next_retry_after};
use grc_domain::tenancy::Role;
use grc_domain::webhooks::{DeliveryOutcome, EndpointHealth, WebhookSecret};
use grc_store::entity::reminders::{delivery, webhook_endpoint};
use grc_store::{
    AttemptRecord, AuditEntry, DeliveryStatus, MemberRecord, NewDelivery, NotificationPing,
    PageRequest, Store, StoreError, TenantScope, TenantTx,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

/// The topic the scheduler writes.
pub const REMINDER_DUE: &str = "reminder.due";

/// When the next attempt goes: the Standard Webhooks schedule (`reminders::next_retry`), its
/// delays multiplied by `time_scale` (1 in production; tests shrink it so that a run of
/// retries takes seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    time_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryPolicy {
    /// The Standard Webhooks schedule as it is.
    pub fn standard() -> Self {
        Self { time_scale: 1.0 }
    }

    /// The schedule with every delay multiplied by `time_scale` (clamped to 0..=1), for tests.
    pub fn scaled(time_scale: f64) -> Self {
        let time_scale = if time_scale.is_finite() {
            time_scale.clamp(0.0, 1.0)
        } else {
            1.0
        };
        Self { time_scale }
    }

    /// The next attempt after attempt `attempt_number` (1 = the first) ended at `at`; `None`
    /// after the last one (`reminders::MAX_ATTEMPTS`): dead-letter.
    pub fn next_attempt(&self, attempt_number: u32, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_attempt_after(attempt_number, at, None)
    }

    /// [`RetryPolicy::next_attempt`], not before a receiver's `Retry-After`
    /// (`reminders::next_retry_after`, capped at a day).
    pub fn next_attempt_after(
        &self,
        attempt_number: u32,
        at: DateTime<Utc>,
        retry_after_seconds: Option<i64>,
    ) -> Option<DateTime<Utc>> {
        let scheduled = next_retry_after(attempt_number, at, retry_after_seconds)?;
        let delay = (scheduled - at).num_milliseconds();
        // The scale is at most 1, so the product fits; rounding to whole milliseconds.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let scaled = (delay as f64 * self.time_scale).round() as i64;
        at.checked_add_signed(TimeDelta::milliseconds(scaled))
    }
}

/// The delivery loop's settings.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// `GRC_SMTP_URL`; without it e-mail deliveries fail (and retry, then dead-letter: visible
    /// in the delivery log, retryable by hand once a relay is configured).
    pub smtp_url: Option<String>,
    /// `GRC_SMTP_FROM`.
    pub smtp_from: String,
    pub retry: RetryPolicy,
    /// Deliveries in flight at most.
    pub concurrency: usize,
    /// How often the loop wakes.
    pub poll_interval: Duration,
    /// A webhook call's timeout.
    pub http_timeout: Duration,
    /// How long a taken delivery stays with its worker before another may take it.
    pub lease: Duration,
    /// Outbox events fanned out, and due deliveries taken, per round.
    pub batch: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            smtp_from: crate::channels::email::DEFAULT_FROM.to_owned(),
            retry: RetryPolicy::standard(),
            concurrency: 32,
            poll_interval: Duration::from_secs(1),
            http_timeout: webhook::TIMEOUT,
            lease: Duration::from_secs(60),
            batch: 1_000,
        }
    }
}

/// `d` × `scale`, at least `floor`.
pub(crate) fn scale_duration(d: Duration, scale: f64, floor: Duration) -> Duration {
    let scale = if scale.is_finite() {
        scale.clamp(0.0, 1.0)
    } else {
        1.0
    };
    d.mul_f64(scale).max(floor)
}

impl DeliveryConfig {
    /// The waits multiplied by `scale` (`GRC_DELIVERY_TIME_SCALE`, in (0, 1]): the retry
    /// schedule, and the lease, which stays 5 s above the longest send (the webhook timeout, or
    /// the SMTP one, whichever is longer), so that no lease lapses while its attempt is still
    /// sending and a second attempt never runs beside it.
    #[must_use]
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.retry = RetryPolicy::scaled(scale);
        let longest_send = self.http_timeout.max(crate::channels::email::TIMEOUT);
        self.lease = scale_duration(self.lease, scale, longest_send + Duration::from_secs(5));
        self
    }

    /// Checks the relay URL and the sender (`GRC_SMTP_URL`, `GRC_SMTP_FROM`) without
    /// connecting.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.smtp_url {
            Mailer::new(url, &self.smtp_from)?;
        } else {
            self.smtp_from
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| anyhow::anyhow!("GRC_SMTP_FROM: {e}"))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------------------------

/// The recipients and channels of a `reminder.due` event, read from its payload:
/// `recipients` (`{"roles": [...], "userIds": [...], "emails": [...]}`, the policy's
/// `Recipients` with its escalation roles added), `channels` (`["email", "webhook",
/// "in-app"]`, all three when absent), and `subjectOwnerId` (the member the role
/// `subject_owner` stands for, if the item has one). The rest (`title`, `dueOn`, `daysUntilDue`,
/// `kind`) is only shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDue {
    pub recipients: Recipients,
    pub channels: Vec<Channel>,
    pub subject_owner: Option<Uuid>,
}

impl ReminderDue {
    /// Reads the payload; missing or malformed parts fall back to the defaults above.
    pub fn from_payload(payload: &serde_json::Value) -> Self {
        let recipients = payload
            .get("recipients")
            .and_then(|v| serde_json::from_value::<Recipients>(v.clone()).ok())
            .unwrap_or_default();
        let channels = payload
            .get("channels")
            .and_then(|v| serde_json::from_value::<Vec<Channel>>(v.clone()).ok())
            .unwrap_or_else(|| all_channels().to_vec());
        let subject_owner = ["subjectOwnerId", "ownerId"]
            .iter()
            .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
            .and_then(|s| Uuid::try_parse(s).ok());
        Self {
            recipients,
            channels,
            subject_owner,
        }
    }
}

fn all_channels() -> &'static [Channel] {
    &[Channel::Email, Channel::Webhook, Channel::InApp]
}

/// The default policy of events that carry none (`share.*` and any other topic): the owners
/// and compliance managers, on every channel.
pub fn share_event_policy() -> ReminderDue {
    ReminderDue {
        recipients: Recipients {
            roles: vec![RecipientRole::Owner, RecipientRole::ComplianceManager],
            user_ids: Vec::new(),
            emails: Vec::new(),
        },
        channels: all_channels().to_vec(),
        subject_owner: None,
    }
}

/// Whether an endpoint subscribed to `topic`: its list is empty (all), names the topic, or
/// holds a `prefix.*` that matches.
pub fn endpoint_matches(event_types: &[String], topic: &str) -> bool {
    event_types.is_empty()
        || event_types.iter().any(|t| {
            t == topic
                || t == "*"
                || t.strip_suffix('*')
                    .is_some_and(|p| p.ends_with('.') && topic.starts_with(p))
        })
}

/// What one fan-out wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Deliveries written.
    pub created: usize,
    /// Deliveries that existed already (a fan-out repeated after a crash).
    pub existing: usize,
    /// Whether this call marked the event relayed (false: it was already, or is gone).
    pub relayed: bool,
}

async fn all_members(tx: &TenantTx) -> Result<Vec<MemberRecord>, StoreError> {
    let mut out = Vec::new();
    let mut after: Option<UserId> = None;
    loop {
        let page = tx
            .members(&PageRequest::Forward { first: 500, after })
            .await?;
        after = page.items.last().map(|m| m.user_id);
        let more = page.has_next_page;
        out.extend(page.items);
        if !more || after.is_none() {
            return Ok(out);
        }
    }
}

fn role_matches(role: RecipientRole, member: Role) -> bool {
    role.tenant_role() == Some(member)
}

/// What fanning out a batch of one tenant's events wrote ([`fan_out_events`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutBatch {
    /// Events this call marked relayed.
    pub relayed: usize,
    /// Deliveries written.
    pub created: u64,
    /// Deliveries that existed already.
    pub existing: u64,
}

/// Outbox events of one tenant fanned out in one transaction ([`relay_outbox`]): the
/// transaction's statements are the same for 1 event or 50 (the members and endpoints read
/// once, the deliveries written in multi-row inserts), and 50 keeps a transaction short.
pub const FAN_OUT_CHUNK: usize = 50;

/// Fan-out transactions run at once by [`relay_outbox`], each on its own pooled connection.
pub const FAN_OUT_PARALLEL: usize = 8;

/// The targets `policy` names for an event of `topic`: e-mail, then webhook, then in-app.
fn targets_of(
    policy: &ReminderDue,
    topic: &str,
    members: &[MemberRecord],
    endpoints: &[webhook_endpoint::Model],
) -> Vec<(Channel, DeliveryTarget, String)> {
    // The members the policy names: by role, the item's owner, by id.
    let mut users: BTreeSet<Uuid> = BTreeSet::new();
    for m in members {
        let by_role = policy
            .recipients
            .roles
            .iter()
            .any(|r| role_matches(*r, m.role));
        let as_owner = policy.subject_owner == Some(m.user_id.0)
            && policy
                .recipients
                .roles
                .contains(&RecipientRole::SubjectOwner);
        if by_role || as_owner || policy.recipients.user_ids.contains(&m.user_id.0) {
            users.insert(m.user_id.0);
        }
    }
    let mut targets: Vec<(Channel, DeliveryTarget, String)> = Vec::new();
    if policy.channels.contains(&Channel::Email) {
        let mut addresses: BTreeSet<String> = BTreeSet::new();
        let member_addresses = members
            .iter()
            .filter(|m| users.contains(&m.user_id.0))
            .map(|m| m.email.clone());
        for a in member_addresses.chain(policy.recipients.emails.iter().cloned()) {
            let a = a.trim().to_owned();
            if grc_domain::reminders::check_email_address(&a).is_ok()
                && addresses.insert(a.to_lowercase())
            {
                targets.push((Channel::Email, DeliveryTarget::Email(a.clone()), a));
            }
        }
    }
    if policy.channels.contains(&Channel::Webhook) {
        for ep in endpoints {
            let types: Vec<String> = serde_json::from_str(&ep.event_types).unwrap_or_default();
            if ep.enabled && endpoint_matches(&types, topic) {
                targets.push((
                    Channel::Webhook,
                    DeliveryTarget::Endpoint(ep.id),
                    ep.id.to_string(),
                ));
            }
        }
    }
    if policy.channels.contains(&Channel::InApp) {
        for u in &users {
            targets.push((Channel::InApp, DeliveryTarget::User(*u), u.to_string()));
        }
    }
    targets
}

/// The reminder a `reminder.due` payload names, if any.
fn payload_reminder(event: &EventMessage) -> Option<Uuid> {
    event
        .payload
        .get("reminderId")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::try_parse(s).ok())
}

/// Fans out the unrelayed events among `event_ids` of `tenant` at `now`, in one transaction
/// (see the module doc): their deliveries written, the events marked relayed.
pub async fn fan_out_events(
    store: &Store,
    tenant: TenantId,
    event_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<FanOutBatch, StoreError> {
    let mut tx = store.tenant_tx(TenantScope::new(tenant)).await?;
    let rows = tx.unrelayed_outbox_events_in(event_ids).await?;
    if rows.is_empty() {
        tx.rollback().await?;
        return Ok(FanOutBatch::default());
    }
    let events: Vec<(EventMessage, ReminderDue)> = rows
        .iter()
        .map(|row| {
            let event = EventMessage::from_row(row);
            let policy = if event.topic == REMINDER_DUE {
                ReminderDue::from_payload(&event.payload)
            } else {
                share_event_policy()
            };
            (event, policy)
        })
        .collect();
    let needs = |c: Channel| events.iter().any(|(_, p)| p.channels.contains(&c));
    let members = if needs(Channel::Email) || needs(Channel::InApp) {
        all_members(&tx).await?
    } else {
        Vec::new()
    };
    let endpoints = if needs(Channel::Webhook) {
        tx.webhook_endpoints().await?
    } else {
        Vec::new()
    };
    // The reminder rows the payloads name that exist (their deliveries then show in their
    // log).
    let named: Vec<Uuid> = events
        .iter()
        .filter_map(|(e, _)| payload_reminder(e))
        .collect();
    let reminders = tx.existing_reminder_ids(&named).await?;
    let mut new = Vec::new();
    for (event, policy) in &events {
        let reminder_id = payload_reminder(event).filter(|id| reminders.contains(id));
        for (channel, target, text) in targets_of(policy, &event.topic, &members, &endpoints) {
            new.push(NewDelivery {
                delivery_key: format!("{}:{}:{}", event.dedupe_key, channel.as_str(), target.key()),
                outbox_event_id: Some(event.id),
                reminder_id,
                channel,
                target: text,
                due_at: now,
            });
        }
    }
    let created = tx.add_deliveries(&new).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let relayed = tx.mark_outbox_events_relayed(&ids, now).await?;
    tx.commit().await?;
    Ok(FanOutBatch {
        relayed: relayed.len(),
        created,
        existing: u64::try_from(new.len())
            .unwrap_or(u64::MAX)
            .saturating_sub(created),
    })
}

/// Fans out one outbox event of `tenant` at `now` (see the module doc).
pub async fn fan_out(
    store: &Store,
    tenant: TenantId,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> Result<FanOut, StoreError> {
    let b = fan_out_events(store, tenant, &[event_id], now).await?;
    Ok(FanOut {
        created: usize::try_from(b.created).unwrap_or(usize::MAX),
        existing: usize::try_from(b.existing).unwrap_or(usize::MAX),
        relayed: b.relayed > 0,
    })
}

/// Fans out up to `limit` unrelayed events across tenants: per tenant in chunks of
/// [`FAN_OUT_CHUNK`], [`FAN_OUT_PARALLEL`] chunks at once. The number fanned out. A chunk that
/// fails is logged and left for the next round.
pub async fn relay_outbox(store: &Store, limit: u32) -> Result<usize, StoreError> {
    let mut by_tenant: BTreeMap<TenantId, Vec<Uuid>> = BTreeMap::new();
    for (tenant, id) in store.unrelayed_outbox_events(limit).await? {
        by_tenant.entry(tenant).or_default().push(id);
    }
    let mut chunks: Vec<(TenantId, Vec<Uuid>)> = Vec::new();
    for (tenant, ids) in by_tenant {
        chunks.extend(ids.chunks(FAN_OUT_CHUNK).map(|c| (tenant, c.to_vec())));
    }
    let parallel = FAN_OUT_PARALLEL
        .min(usize::try_from(store.max_connections() / 2).unwrap_or(1))
        .max(1);
    let mut n = 0;
    let mut tasks = JoinSet::new();
    let mut chunks = chunks.into_iter();
    loop {
        while tasks.len() < parallel {
            let Some((tenant, ids)) = chunks.next() else {
                break;
            };
            let store = store.clone();
            tasks.spawn(async move {
                let r = fan_out_events(&store, tenant, &ids, Utc::now()).await;
                (tenant, ids.len(), r)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            return Ok(n);
        };
        match joined {
            Ok((tenant, _, Ok(b))) => {
                n += b.relayed;
                tracing::debug!(%tenant, relayed = b.relayed, created = b.created, "outbox events fanned out");
            }
            Ok((tenant, events, Err(e))) => {
                tracing::warn!(%tenant, events, error = %e, "fan-out failed");
            }
            Err(e) => tracing::warn!(error = %e, "fan-out task failed"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

/// Told of each in-app notification after its commit (the API's `notificationReceived`): in
/// `grc serve` its event bus, in `grc worker` a Redis publisher
/// ([`crate::queue::RedisNotifier`]).
#[derive(Clone)]
pub struct NotifyHook(Arc<dyn Fn(NotificationPing) + Send + Sync>);

impl NotifyHook {
    pub fn new(f: impl Fn(NotificationPing) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl std::fmt::Debug for NotifyHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotifyHook")
    }
}

/// What sends: the store, the shared HTTP client, the mailer, the settings.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Store,
    http: reqwest::Client,
    mailer: Option<Mailer>,
    config: DeliveryConfig,
    metrics: Arc<WorkerMetrics>,
    notify: Option<NotifyHook>,
}

/// What a delivery needs, read in the lease transaction.
enum Plan {
    Email {
        event: EventMessage,
        to: String,
    },
    Webhook {
        event: EventMessage,
        endpoint: Box<webhook_endpoint::Model>,
        secrets: Vec<WebhookSecret>,
    },
    InApp {
        event: EventMessage,
        user: Uuid,
    },
    /// Not sendable: recorded as a failure without a retry.
    Refuse(String),
}

impl Deliverer {
    /// A deliverer; fails on a malformed `GRC_SMTP_URL` or `GRC_SMTP_FROM`.
    pub fn new(store: Store, config: DeliveryConfig) -> anyhow::Result<Self> {
        let http = webhook::client(config.http_timeout)?;
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::new(url, &config.smtp_from)?),
            None => None,
        };
        Ok(Self {
            store,
            http,
            mailer,
            config,
            metrics: Arc::new(WorkerMetrics::default()),
            notify: None,
        })
    }

    /// Tells `hook` of each in-app notification written (after the commit).
    #[must_use]
    pub fn on_notification(mut self, hook: NotifyHook) -> Self {
        self.notify = Some(hook);
        self
    }

    /// Counts attempts into `metrics` (shared with the process's `/metrics`).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<WorkerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Arc<WorkerMetrics> {
        &self.metrics
    }

    /// One attempt of one delivery: lease it, send it, record the outcome. The delivery as it
    /// stands afterwards, or `None` when it was not due or another worker took it. Its span
    /// links to the scheduler tick that wrote the reminder (`crate::trace`).
    #[tracing::instrument(name = "delivery.attempt", skip(self), fields(tenant = %tenant.0))]
    pub async fn deliver(
        &self,
        tenant: TenantId,
        delivery_id: Uuid,
    ) -> Result<Option<delivery::Model>, StoreError> {
        let scope = TenantScope::new(tenant);
        let now = Utc::now();
        let lease_until =
            now + TimeDelta::from_std(self.config.lease).unwrap_or_else(|_| TimeDelta::seconds(60));
        let mut tx = self.store.tenant_tx(scope).await?;
        let Some(d) = tx.lease_delivery(delivery_id, now, lease_until).await? else {
            return Ok(None);
        };
        let plan = self.plan(&tx, &d, now).await?;
        tx.commit().await?;
        if let Plan::Email { event, .. } | Plan::Webhook { event, .. } | Plan::InApp { event, .. } =
            &plan
            && let Some(tp) = event.payload.get("traceparent").and_then(|v| v.as_str())
        {
            crate::trace::link_current(tp);
        }

        let started = Instant::now();
        let mut tx_notice = None;
        let result = match &plan {
            Plan::Email { event, to } => match &self.mailer {
                None => ChannelResult::failed(
                    DeliveryOutcome::ConnectionFailed,
                    None,
                    "no SMTP relay configured (GRC_SMTP_URL)".into(),
                ),
                Some(m) => match m.message(event, d.id, to) {
                    Ok(msg) => m.send(msg).await,
                    Err(e) => ChannelResult::failed(DeliveryOutcome::Failed, None, e),
                },
            },
            Plan::Webhook {
                event,
                endpoint,
                secrets,
            } => {
                webhook::send(
                    &self.http,
                    &endpoint.url,
                    secrets,
                    &webhook::message_id(event),
                    webhook::body(event),
                    Utc::now(),
                )
                .await
            }
            Plan::InApp { event, user } => {
                tx_notice = Some(in_app::notification(event, *user, Some(d.id), Utc::now()));
                ChannelResult::delivered(None)
            }
            Plan::Refuse(why) => ChannelResult::failed(DeliveryOutcome::Failed, None, why.clone()),
        };
        let ended = Utc::now();
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let attempt_number = u32::try_from(d.attempts).unwrap_or(0).saturating_add(1);
        let refused = matches!(plan, Plan::Refuse(_));
        let next_attempt_at = if refused || !result.outcome.retries() {
            None
        } else {
            self.config
                .retry
                .next_attempt_after(attempt_number, ended, result.retry_after_seconds)
        };
        let record = AttemptRecord {
            attempted_at: now,
            outcome: result.outcome,
            status_code: result.status_code,
            error: result.error.clone(),
            duration_ms: Some(duration_ms),
            next_attempt_at,
        };
        let mut tx = self.store.tenant_tx(scope).await?;
        let mut pings = Vec::new();
        if let Some(n) = tx_notice {
            let ping = NotificationPing::of(&n);
            if tx.insert_notification(n).await? {
                pings.push(ping);
            }
        }
        let updated = tx.record_delivery_attempt(d.id, &record).await?;
        if let Plan::Webhook {
            endpoint, event, ..
        } = &plan
        {
            pings.extend(
                self.endpoint_health(&mut tx, endpoint, event.tenant_id, result.outcome, ended)
                    .await?,
            );
        }
        tx.commit().await?;
        if let Some(hook) = &self.notify {
            for p in pings {
                (hook.0)(p);
            }
        }
        let dead = updated.status == DeliveryStatus::Dead.as_str();
        self.metrics.attempt(
            &d.channel,
            result.outcome.as_str(),
            started.elapsed().as_secs_f64(),
            dead,
        );
        if dead {
            tracing::warn!(%tenant, delivery = %d.id, channel = %d.channel, error = ?result.error, "delivery dead-lettered");
        }
        Ok(Some(updated))
    }

    async fn plan(
        &self,
        tx: &TenantTx,
        d: &delivery::Model,
        now: DateTime<Utc>,
    ) -> Result<Plan, StoreError> {
        let Some(event_id) = d.outbox_event_id else {
            return Ok(Plan::Refuse("a delivery without an outbox event".into()));
        };
        let Some(row) = tx.outbox_event(event_id).await? else {
            return Ok(Plan::Refuse(format!("outbox event {event_id} is gone")));
        };
        let event = EventMessage::from_row(&row);
        Ok(match Channel::parse(&d.channel) {
            Some(Channel::Email) => Plan::Email {
                event,
                to: d.target.clone(),
            },
            Some(Channel::InApp) => match Uuid::try_parse(&d.target) {
                Ok(user) if tx.member(UserId(user)).await?.is_some() => Plan::InApp { event, user },
                _ => Plan::Refuse(format!("{} is not a member", d.target)),
            },
            Some(Channel::Webhook) => {
                let Ok(id) = Uuid::try_parse(&d.target) else {
                    return Ok(Plan::Refuse(format!("bad endpoint id {}", d.target)));
                };
                match tx.webhook_endpoint(id).await? {
                    None => Plan::Refuse(format!("endpoint {id} was deleted")),
                    Some(e) if !e.enabled => Plan::Refuse(format!(
                        "endpoint {id} is disabled ({})",
                        e.disabled_reason.as_deref().unwrap_or("by its owner")
                    )),
                    Some(endpoint) => {
                        let secrets = tx.webhook_signing_secrets(id, now).await?;
                        if secrets.is_empty() {
                            Plan::Refuse(format!("endpoint {id} has no signing secret"))
                        } else {
                            Plan::Webhook {
                                event,
                                endpoint: Box::new(endpoint),
                                secrets,
                            }
                        }
                    }
                }
            }
            None => Plan::Refuse(format!("unknown channel {}", d.channel)),
        })
    }

    /// Updates an endpoint's failure run after an attempt; when that disables it, writes the
    /// audit event and notifies the tenant's owners. The notifications written (none unless it
    /// was disabled now).
    async fn endpoint_health(
        &self,
        tx: &mut TenantTx,
        endpoint: &webhook_endpoint::Model,
        tenant: Uuid,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> Result<Vec<NotificationPing>, StoreError> {
        if outcome == DeliveryOutcome::Delivered {
            // A success ends any failure run; a healthy endpoint's row is not written at all.
            tx.clear_endpoint_failures(endpoint.id).await?;
            return Ok(Vec::new());
        }
        // The stored run as it is now (other attempts may have moved it since the lease).
        let Some(current) = tx.webhook_endpoint(endpoint.id).await? else {
            return Ok(Vec::new());
        };
        let health = EndpointHealth {
            consecutive_failures: u32::try_from(current.consecutive_failures).unwrap_or(0),
            failing_since: current.first_failure_at,
        };
        let (next, reason) = health.record(outcome, at);
        let reason = reason.filter(|_| current.enabled);
        tx.record_endpoint_health(endpoint.id, next, reason.map(|r| (r, at)))
            .await?;
        let Some(reason) = reason else {
            return Ok(Vec::new());
        };
        tx.append_audit(AuditEntry {
            actor: Actor::System("worker".into()),
            action: "webhook_endpoint.disable".into(),
            subject_type: "WebhookEndpoint".into(),
            subject_id: endpoint.id.to_string(),
            change: serde_json::json!({
                "enabled": false,
                "disabledReason": reason.as_str(),
                "consecutiveFailures": next.consecutive_failures,
            }),
        })
        .await?;
        let mut pings = Vec::new();
        for owner in all_members(tx)
            .await?
            .iter()
            .filter(|m| m.role == Role::Owner)
        {
            let n = in_app::endpoint_disabled(
                tenant,
                owner.user_id.0,
                endpoint.id,
                &endpoint.url,
                reason.as_str(),
                at,
            );
            let ping = NotificationPing::of(&n);
            if tx.insert_notification(n).await? {
                pings.push(ping);
            }
        }
        tracing::warn!(%tenant, endpoint = %endpoint.id, reason = reason.as_str(), "webhook endpoint disabled");
        Ok(pings)
    }

    /// One round: fan out new events, then attempt up to [`DeliveryConfig::batch`] due
    /// deliveries, at most [`DeliveryConfig::concurrency`] in flight (it waits for a free slot
    /// before each). Whether the round was full (a full batch of events or of deliveries: more
    /// is likely waiting, and the loop goes again at once).
    pub async fn round(
        self: &Arc<Self>,
        permits: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        shutdown: &watch::Receiver<bool>,
    ) -> bool {
        let batch = self.config.batch.max(1);
        let fanned = match relay_outbox(&self.store, batch).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox scan failed");
                0
            }
        };
        let due = match self.store.due_deliveries(Utc::now(), batch).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "due deliveries scan failed");
                return false;
            }
        };
        let n = due.len();
        for (tenant, id) in due {
            // Told to stop: the rest stays due for the next worker.
            if *shutdown.borrow() {
                return false;
            }
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            while tasks.try_join_next().is_some() {}
            let me = self.clone();
            tasks.spawn(async move {
                if let Err(e) = me.deliver(tenant, id).await {
                    tracing::warn!(%tenant, delivery = %id, error = %e, "delivery attempt failed to record");
                }
                drop(permit);
            });
        }
        let batch = usize::try_from(batch).unwrap_or(usize::MAX);
        fanned >= batch || n >= batch
    }
}

/// The embedded delivery loop (no Redis): a [`Deliverer::round`] every `poll_interval`, or at
/// once after a full one, until `shutdown` turns true; then waits for the attempts in flight.
/// Returns the rounds run.
pub async fn run_embedded(
    store: Store,
    config: DeliveryConfig,
    metrics: Arc<WorkerMetrics>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    let me = Arc::new(Deliverer::new(store, config)?.with_metrics(metrics));
    run_embedded_with(me, shutdown).await
}

/// How often the queue gauges are refreshed at most (a count over the due index).
const GAUGE_EVERY: Duration = Duration::from_secs(1);

/// [`run_embedded`] with a deliverer built by the caller (with a [`NotifyHook`], say).
pub async fn run_embedded_with(
    me: Arc<Deliverer>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    let permits = Arc::new(Semaphore::new(me.config.concurrency.max(1)));
    let poll = me.config.poll_interval;
    let mut tasks = JoinSet::new();
    let mut rounds = 0u64;
    let mut gauges_at: Option<Instant> = None;
    tracing::info!("embedded delivery loop started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        rounds += 1;
        let full = me.round(&permits, &mut tasks, &shutdown).await;
        if gauges_at.is_none_or(|t| t.elapsed() >= GAUGE_EVERY) {
            me.metrics.refresh_backlog(&me.store).await;
            gauges_at = Some(Instant::now());
        }
        while tasks.try_join_next().is_some() {}
        if full {
            // More is waiting; but stop promptly when told to.
            if shutdown.has_changed().is_err() {
                break;
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    tracing::info!(rounds, "embedded delivery loop stopping");
    Ok(rounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_retry_keeps_the_schedule_shape() {
        let at = DateTime::UNIX_EPOCH;
        // reminders::RETRY_DELAYS_SECONDS[0] = 5 s after the first attempt.
        assert_eq!(
            RetryPolicy::standard().next_attempt(1, at),
            Some(at + TimeDelta::seconds(5))
        );
        // The third delay is 30 min = 1,800,000 ms; × 0.001 = 1,800 ms.
        assert_eq!(
            RetryPolicy::scaled(0.001).next_attempt(3, at),
            Some(at + TimeDelta::milliseconds(1800))
        );
        // After the tenth attempt (MAX_ATTEMPTS) there is none.
        assert_eq!(RetryPolicy::scaled(0.001).next_attempt(10, at), None);
        // A Retry-After of 60 s after the first attempt is later than its 5 s: 60 s, scaled
        // × 0.5 = 30 s.
        assert_eq!(
            RetryPolicy::scaled(0.5).next_attempt_after(1, at, Some(60)),
            Some(at + TimeDelta::seconds(30))
        );
    }

    #[test]
    fn endpoint_event_types() {
        let t = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(endpoint_matches(&[], "share.revoked"));
        assert!(endpoint_matches(&t(&["reminder.due"]), "reminder.due"));
        assert!(!endpoint_matches(&t(&["reminder.due"]), "share.revoked"));
        assert!(endpoint_matches(&t(&["share.*"]), "share.revoked"));
        assert!(!endpoint_matches(&t(&["share.*"]), "shared.x"));
    }

    #[test]
    fn reminder_payload_defaults() {
        let r = ReminderDue::from_payload(&serde_json::json!({
            "recipients": {"roles": ["owner"], "userIds": [], "emails": ["a@b.example"]},
            "channels": ["email"],
        }));
        assert_eq!(r.channels, vec![Channel::Email]);
        assert_eq!(r.recipients.roles, vec![RecipientRole::Owner]);
        assert_eq!(r.recipients.emails, vec!["a@b.example".to_owned()]);
        let d = ReminderDue::from_payload(&serde_json::json!({}));
        assert_eq!(d.channels, all_channels().to_vec());
        assert!(d.recipients.is_empty());
    }
}
