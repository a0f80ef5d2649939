//! Reminders and notifications (issue 7): the tenant's reminder settings and policies, members'
//! digest preferences, the reminders the scheduler writes, deliveries and their attempts,
//! webhook endpoints and secrets, in-app notifications, calendar feeds, the scheduler's lease,
//! and the worker's two scans across tenants.
//!
//! What counts as a change of the tenant's data (and so must be matched by an audit event
//! before [`TenantTx::commit`]): settings, policies, digest preferences, endpoints and their
//! secrets, calendar feeds, a dead delivery retried by hand. What is the machinery's own
//! bookkeeping (no audit event, like an API key's `last_used_at`): reminders, the tenant's own
//! outbox rows, deliveries and their attempts, an endpoint's failure run, notifications and
//! their read marks. The scheduler and the worker write those in volume; the delivery log is
//! their trace.

use super::isms::sql;
use super::ops::{delete_op, row_ops};
use crate::entity::reminders::{
    calendar_feed, delivery, delivery_attempt, digest_preference, notification, reminder,
    reminder_policy, reminder_settings, scheduler_lease, webhook_endpoint, webhook_secret,
};
use crate::entity::sharing::outbox_event;
use crate::repo::sharing::PeerEvent;
use crate::{Page, PageRequest, Store, StoreError, TenantScope, TenantTx};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use grc_domain::ids::TenantId;
use grc_domain::reminders::{
    Channel, DigestOption, DueKind, Escalation, Occurrence, Recipients, ReminderPolicy,
};
use grc_domain::webhooks::{DeliveryOutcome, DisableReason, EndpointHealth, WebhookSecret};
use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use subtle::ConstantTimeEq;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    grc_domain::audit::truncate_to_micros(Utc::now())
}

/// The most rows one batched `INSERT` writes: 12 parameters a reminder, well within
/// PostgreSQL's 65,535 and SQLite's 32,766 bound parameters.
const BATCH_ROWS: usize = 500;

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    grc_domain::audit::truncate_to_micros(t)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Invalid(format!("stored {what} {s:?}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Types callers use
// ---------------------------------------------------------------------------------------------

/// A reminder's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderStatus {
    /// Written; its deliveries are not yet fanned out.
    Pending,
    /// Its outbox rows or deliveries exist.
    Queued,
    /// Superseded by a later occurrence after an outage (`reminders::catch_up`): recorded so the
    /// log shows it, never sent.
    Skipped,
    /// Its item's due date changed (or the item went away) before it was sent.
    Retired,
}

impl ReminderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Skipped => "skipped",
            Self::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "queued" => Self::Queued,
            "skipped" => Self::Skipped,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

/// A delivery's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not yet attempted (or retried by hand); due at `next_attempt_at`.
    Pending,
    Delivered,
    /// Failed, to be retried at `next_attempt_at`.
    Failed,
    /// Out of retries, or refused for good (410): dead-lettered, retried only by hand.
    Dead,
    /// Its reminder was retired before it went out.
    Cancelled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

/// Rows per multi-row delivery insert ([`TenantTx::add_deliveries`]): 16 parameters a row stays
/// far below PostgreSQL's 65,535 bind parameters and SQLite's 32,766.
pub(crate) const DELIVERY_INSERT_CHUNK: usize = 500;

/// A delivery to write: one channel, one target, of a reminder or an outbox event (or both).
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Unique in the tenant (`reminders::delivery_key` for a reminder's).
    pub delivery_key: String,
    pub outbox_event_id: Option<Uuid>,
    pub reminder_id: Option<Uuid>,
    pub channel: Channel,
    /// An address, an endpoint id or a user id (`DeliveryTarget`'s id).
    pub target: String,
    /// When it is first due.
    pub due_at: DateTime<Utc>,
}

/// One attempt's record, and what follows from it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempted_at: DateTime<Utc>,
    /// `webhooks::classify`'s outcome (e-mail and in-app: `Delivered`, or `Failed` /
    /// `ConnectionFailed` / `TimedOut`).
    pub outcome: DeliveryOutcome,
    pub status_code: Option<i32>,
    /// Truncated to 2,000 characters.
    pub error: Option<String>,
    pub duration_ms: Option<i32>,
    /// The next attempt (`reminders::next_retry`), for a failure that retries; `None` after a
    /// failure dead-letters the delivery.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub channel: Option<Channel>,
    pub reminder_id: Option<Uuid>,
    pub outbox_event_id: Option<Uuid>,
}

/// A bearer token that names its tenant and row, so that checking it is one tenant-scoped
/// lookup and no query across tenants (the API keys' scheme): `{prefix}{tenant, 32
/// hex}_{id, 32 hex}_{secret, 64 hex}`. Only the SHA-256 of the whole token is stored. Shown
/// once; its `Debug` hides it.
pub struct ScopedToken(String);

impl ScopedToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ScopedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScopedToken(***)")
    }
}

/// The prefix of calendar feed tokens.
pub const CALENDAR_TOKEN_PREFIX: &str = "grccal_";

fn new_token(prefix: &str, tenant: Uuid, id: Uuid) -> ScopedToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    ScopedToken(format!(
        "{prefix}{}_{}_{}",
        tenant.simple(),
        id.simple(),
        hex::encode(bytes)
    ))
}

/// The tenant and row a token names, if it has the token format.
fn parse_token(prefix: &str, token: &str) -> Option<(Uuid, Uuid)> {
    let rest = token.strip_prefix(prefix)?;
    let mut parts = rest.split('_');
    let (t, k, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || t.len() != 32 || k.len() != 32 || s.len() != 64 {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((Uuid::try_parse(t).ok()?, Uuid::try_parse(k).ok()?))
}

/// An endpoint's secret, without the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecretInfo {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// `None`: the current secret.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&webhook_secret::Model> for WebhookSecretInfo {
    fn from(m: &webhook_secret::Model) -> Self {
        Self {
            id: m.id,
            endpoint_id: m.endpoint_id,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }
    }
}

/// "A new in-app notification was written" (after its commit): what the worker tells the API
/// so that `notificationReceived` subscribers get it. Ids only; the subscriber reads the row in
/// its own tenant transaction. Across processes it travels on the Redis channel
/// [`NotificationPing::channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPing {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub notification_id: Uuid,
}

impl NotificationPing {
    /// The pub/sub channel under a deployment's Redis key prefix.
    pub fn channel(prefix: &str) -> String {
        format!("{prefix}:notifications")
    }

    /// The ping of a notification row.
    pub fn of(row: &notification::Model) -> Self {
        Self {
            tenant_id: row.tenant_id,
            user_id: row.user_id,
            notification_id: row.id,
        }
    }
}

/// A scheduler lease held: the fencing token to carry, and when it lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerLease {
    pub fencing_token: i64,
    pub expires_at: DateTime<Utc>,
    /// The end of the last window the scheduler committed for every tenant (whoever held the
    /// lease then); `None` before the first.
    pub scheduled_until: Option<DateTime<Utc>>,
}

fn check_send_time(hour: i32, minute: i32) -> Result<(), StoreError> {
    if (0..=23).contains(&hour) && (0..=59).contains(&minute) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "send time {hour}:{minute} is not a time of day"
        )))
    }
}

fn truncate(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

// ---------------------------------------------------------------------------------------------
// Tenant-scoped repository
// ---------------------------------------------------------------------------------------------

impl TenantTx {
    fn backend_of(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    // ---- settings and policies ---------------------------------------------------------------

    /// The tenant's reminder settings, if it ever set them (else: `UTC`, 09:00).
    pub async fn reminder_settings(&self) -> Result<Option<reminder_settings::Model>, StoreError> {
        Ok(reminder_settings::Entity::find()
            .filter(reminder_settings::Column::TenantId.eq(self.tenant_uuid()))
            .one(&self.tx)
            .await?)
    }

    /// Sets the tenant's time zone (an IANA name, checked) and local send time.
    pub async fn put_reminder_settings(
        &mut self,
        time_zone: &str,
        send_hour: i32,
        send_minute: i32,
        updated_by: &str,
    ) -> Result<reminder_settings::Model, StoreError> {
        grc_domain::reminders::parse_time_zone(time_zone)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        check_send_time(send_hour, send_minute)?;
        let row = reminder_settings::Model {
            tenant_id: self.tenant_uuid(),
            time_zone: time_zone.to_owned(),
            send_hour,
            send_minute,
            updated_by: updated_by.to_owned(),
            updated_at: now(),
        };
        reminder_settings::Entity::insert(row.clone().into_active_model())
            .on_conflict(
                OnConflict::column(reminder_settings::Column::TenantId)
                    .update_columns([
                        reminder_settings::Column::TimeZone,
                        reminder_settings::Column::SendHour,
                        reminder_settings::Column::SendMinute,
                        reminder_settings::Column::UpdatedBy,
                        reminder_settings::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(row)
    }

    /// The policy in force for `kind`: the stored one, or the domain default, with the tenant's
    /// time zone and send time; and whether it is a stored one.
    pub async fn reminder_policy(
        &self,
        kind: DueKind,
    ) -> Result<(ReminderPolicy, bool), StoreError> {
        let settings = self.reminder_settings().await?;
        let row = reminder_policy::Entity::find()
            .filter(reminder_policy::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder_policy::Column::Kind.eq(kind.as_str()))
            .one(&self.tx)
            .await?;
        let stored = row.is_some();
        Ok((policy_of(kind, row, settings.as_ref())?, stored))
    }

    /// The policy in force for every kind (see [`TenantTx::reminder_policy`]), in
    /// `DueKind::ALL` order: one statement (the settings joined with the stored policies).
    pub async fn reminder_policies(&self) -> Result<Vec<(ReminderPolicy, bool)>, StoreError> {
        let backend = self.backend_of();
        let uuid = if backend == DbBackend::Postgres {
            "uuid"
        } else {
            "blob"
        };
        let joined = self
            .tx
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, &POLICIES_SQL.replace("{uuid}", uuid)),
                [self.tenant_uuid().into()],
            ))
            .await?;
        let mut settings = None;
        let mut rows = Vec::new();
        for row in &joined {
            if settings.is_none() && row.try_get::<Option<Uuid>>("s_", "tenant_id")?.is_some() {
                settings = Some(reminder_settings::Model::from_query_result(row, "s_")?);
            }
            if row.try_get::<Option<Uuid>>("p_", "tenant_id")?.is_some() {
                rows.push(reminder_policy::Model::from_query_result(row, "p_")?);
            }
        }
        DueKind::ALL
            .iter()
            .map(|&kind| {
                let row = rows
                    .iter()
                    .position(|r| r.kind == kind.as_str())
                    .map(|i| rows.swap_remove(i));
                let stored = row.is_some();
                Ok((policy_of(kind, row, settings.as_ref())?, stored))
            })
            .collect()
    }

    /// Stores the tenant's policy for `policy.kind` (checked with `ReminderPolicy::check`). Its
    /// time zone and send time are not stored with it: they are the tenant's settings.
    pub async fn put_reminder_policy(
        &mut self,
        policy: &ReminderPolicy,
        updated_by: &str,
    ) -> Result<reminder_policy::Model, StoreError> {
        let schedule = policy
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let row = reminder_policy::Model {
            tenant_id: self.tenant_uuid(),
            kind: policy.kind.as_str().to_owned(),
            enabled: policy.enabled,
            lead_days: to_json("lead days", &schedule.lead_days())?,
            overdue_every_days: schedule.overdue_every_days().map(i32::from),
            channels: to_json("channels", &schedule.channels())?,
            recipients: to_json("recipients", &policy.recipients)?,
            escalation: policy
                .escalation
                .as_ref()
                .map(|e| to_json("escalation", e))
                .transpose()?,
            updated_by: updated_by.to_owned(),
            updated_at: now(),
        };
        reminder_policy::Entity::insert(row.clone().into_active_model())
            .on_conflict(
                OnConflict::columns([
                    reminder_policy::Column::TenantId,
                    reminder_policy::Column::Kind,
                ])
                .update_columns([
                    reminder_policy::Column::Enabled,
                    reminder_policy::Column::LeadDays,
                    reminder_policy::Column::OverdueEveryDays,
                    reminder_policy::Column::Channels,
                    reminder_policy::Column::Recipients,
                    reminder_policy::Column::Escalation,
                    reminder_policy::Column::UpdatedBy,
                    reminder_policy::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(row)
    }

    /// Goes back to the default policy for `kind`; whether a stored one was removed.
    pub async fn reset_reminder_policy(&mut self, kind: DueKind) -> Result<bool, StoreError> {
        let n = reminder_policy::Entity::delete_many()
            .filter(reminder_policy::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder_policy::Column::Kind.eq(kind.as_str()))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Ok(false);
        }
        self.wrote();
        Ok(true)
    }

    // ---- digest preferences ------------------------------------------------------------------

    /// A member's digest option, if they set one (else `DigestOption::default()`: off).
    pub async fn digest_preference(
        &self,
        user_id: Uuid,
    ) -> Result<Option<DigestOption>, StoreError> {
        digest_preference::Entity::find()
            .filter(digest_preference::Column::TenantId.eq(self.tenant_uuid()))
            .filter(digest_preference::Column::UserId.eq(user_id))
            .one(&self.tx)
            .await?
            .map(|m| digest_of(&m))
            .transpose()
    }

    /// Every member's stored digest option, by user id (for the scheduler).
    pub async fn digest_preferences(&self) -> Result<Vec<(Uuid, DigestOption)>, StoreError> {
        digest_preference::Entity::find()
            .filter(digest_preference::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(digest_preference::Column::UserId)
            .all(&self.tx)
            .await?
            .iter()
            .map(|m| Ok((m.user_id, digest_of(m)?)))
            .collect()
    }

    /// Sets a member's digest option (checked with `DigestOption::problems`); the member must
    /// belong to the tenant (a foreign key; removing the member removes it).
    pub async fn put_digest_preference(
        &mut self,
        user_id: Uuid,
        option: &DigestOption,
    ) -> Result<(), StoreError> {
        if let Some(p) = option.problems().into_iter().next() {
            return Err(StoreError::Invalid(p.to_string()));
        }
        let row = digest_preference::Model {
            tenant_id: self.tenant_uuid(),
            user_id,
            enabled: option.enabled,
            send_hour: option.send_hour,
            send_minute: option.send_minute,
            time_zone: option.time_zone.clone(),
            channels: to_json("channels", &option.channels)?,
            skip_when_empty: option.skip_when_empty,
            unsubscribe_sha256: None,
            updated_at: now(),
        };
        digest_preference::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([
                    digest_preference::Column::TenantId,
                    digest_preference::Column::UserId,
                ])
                .update_columns([
                    digest_preference::Column::Enabled,
                    digest_preference::Column::SendHour,
                    digest_preference::Column::SendMinute,
                    digest_preference::Column::TimeZone,
                    digest_preference::Column::Channels,
                    digest_preference::Column::SkipWhenEmpty,
                    digest_preference::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Records the token of a member's digest unsubscribe link (only its SHA-256 is stored; the
    /// link carries the tenant and the token). The member must have a digest option. Bookkeeping
    /// of the sender: no audit event.
    pub async fn set_digest_unsubscribe_token(
        &mut self,
        user_id: Uuid,
        token: &str,
    ) -> Result<(), StoreError> {
        let n = digest_preference::Entity::update_many()
            .col_expr(
                digest_preference::Column::UnsubscribeSha256,
                Expr::value(Some(sha256_hex(token))),
            )
            .filter(digest_preference::Column::TenantId.eq(self.tenant_uuid()))
            .filter(digest_preference::Column::UserId.eq(user_id))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The member whose digest unsubscribe link carries `token`, if any.
    pub async fn digest_user_for_unsubscribe_token(
        &self,
        token: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(digest_preference::Entity::find()
            .filter(digest_preference::Column::TenantId.eq(self.tenant_uuid()))
            .filter(digest_preference::Column::UnsubscribeSha256.eq(sha256_hex(token)))
            .one(&self.tx)
            .await?
            .map(|m| m.user_id))
    }

    // ---- reminders ---------------------------------------------------------------------------

    /// Writes the reminder of `occurrence` once: its id is `Occurrence::idempotency_uuid` and
    /// its key `Occurrence::idempotency_key`, unique in the tenant; a second write of the same
    /// occurrence changes nothing (`INSERT ... ON CONFLICT DO NOTHING` on the key). Whether it
    /// was new. Call in the transaction that writes its outbox rows or deliveries, and write
    /// those only when it was new. `status` is `Pending`, `Queued` or `Skipped`.
    pub async fn insert_reminder(
        &mut self,
        occurrence: &Occurrence,
        subject_type: &str,
        status: ReminderStatus,
    ) -> Result<bool, StoreError> {
        if occurrence.tenant_id != self.tenant_uuid() {
            return Err(StoreError::Invalid(format!(
                "the occurrence is of tenant {}, not of the transaction's",
                occurrence.tenant_id
            )));
        }
        if status == ReminderStatus::Retired {
            return Err(StoreError::Invalid(
                "a reminder is not written retired".into(),
            ));
        }
        let row = reminder::Model {
            tenant_id: self.tenant_uuid(),
            id: occurrence.idempotency_uuid(),
            idempotency_key: occurrence.idempotency_key(),
            subject_type: subject_type.to_owned(),
            subject_id: occurrence.subject_id,
            kind: occurrence.kind.as_str().to_owned(),
            due_on: occurrence.due_on,
            lead: occurrence.step.key(),
            send_at: micros(occurrence.send_at),
            status: status.as_str().to_owned(),
            retired_reason: None,
            created_at: now(),
        };
        let n = reminder::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([reminder::Column::TenantId, reminder::Column::IdempotencyKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok(n == 1)
    }

    /// [`TenantTx::insert_reminder`] for many occurrences at once: `INSERT ... ON CONFLICT DO
    /// NOTHING RETURNING id`, one statement per 500 reminders. For each input, in
    /// order, whether it was new; an occurrence given twice is new at most the first time.
    pub async fn insert_reminders(
        &mut self,
        reminders: &[(&Occurrence, &str, ReminderStatus)],
    ) -> Result<Vec<bool>, StoreError> {
        let tenant = self.tenant_uuid();
        let created_at = now();
        let mut first: HashMap<Uuid, usize> = HashMap::new();
        let mut rows = Vec::new();
        for (i, (occurrence, subject_type, status)) in reminders.iter().enumerate() {
            if occurrence.tenant_id != tenant {
                return Err(StoreError::Invalid(format!(
                    "the occurrence is of tenant {}, not of the transaction's",
                    occurrence.tenant_id
                )));
            }
            if *status == ReminderStatus::Retired {
                return Err(StoreError::Invalid(
                    "a reminder is not written retired".into(),
                ));
            }
            let id = occurrence.idempotency_uuid();
            if first.contains_key(&id) {
                continue;
            }
            first.insert(id, i);
            rows.push(reminder::Model {
                tenant_id: tenant,
                id,
                idempotency_key: occurrence.idempotency_key(),
                subject_type: (*subject_type).to_owned(),
                subject_id: occurrence.subject_id,
                kind: occurrence.kind.as_str().to_owned(),
                due_on: occurrence.due_on,
                lead: occurrence.step.key(),
                send_at: micros(occurrence.send_at),
                status: status.as_str().to_owned(),
                retired_reason: None,
                created_at,
            });
        }
        let mut new = vec![false; reminders.len()];
        for chunk in rows.chunks(BATCH_ROWS) {
            let mut insert = reminder::Entity::insert_many(
                chunk
                    .iter()
                    .cloned()
                    .map(IntoActiveModel::into_active_model),
            )
            .on_conflict(
                OnConflict::columns([reminder::Column::TenantId, reminder::Column::IdempotencyKey])
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
            insert.returning_col(reminder::Column::Id);
            let backend = self.backend_of();
            for row in self.tx.query_all_raw(backend.build(&insert)).await? {
                let id: Uuid = row.try_get_by_index(0)?;
                if let Some(&i) = first.get(&id) {
                    new[i] = true;
                }
            }
        }
        Ok(new)
    }

    /// One reminder of this tenant.
    pub async fn reminder(&self, id: Uuid) -> Result<Option<reminder::Model>, StoreError> {
        Ok(reminder::Entity::find()
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The reminder written under an idempotency key.
    pub async fn reminder_by_key(&self, key: &str) -> Result<Option<reminder::Model>, StoreError> {
        Ok(reminder::Entity::find()
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::IdempotencyKey.eq(key))
            .one(&self.tx)
            .await?)
    }

    /// An item's reminders, by send time.
    pub async fn reminders_of(
        &self,
        subject_type: &str,
        subject_id: Uuid,
    ) -> Result<Vec<reminder::Model>, StoreError> {
        Ok(reminder::Entity::find()
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::SubjectType.eq(subject_type))
            .filter(reminder::Column::SubjectId.eq(subject_id))
            .order_by_asc(reminder::Column::SendAt)
            .order_by_asc(reminder::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Moves a reminder from `from` to `to` (e.g. pending → queued); false when it is not in
    /// `from` (someone else moved it first).
    pub async fn set_reminder_status(
        &mut self,
        id: Uuid,
        from: ReminderStatus,
        to: ReminderStatus,
    ) -> Result<bool, StoreError> {
        if to == ReminderStatus::Retired {
            return Err(StoreError::Invalid(
                "retire reminders with retire_pending_reminders".into(),
            ));
        }
        let n = reminder::Entity::update_many()
            .col_expr(reminder::Column::Status, Expr::value(to.as_str()))
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::Id.eq(id))
            .filter(reminder::Column::Status.eq(from.as_str()))
            .exec(&self.tx)
            .await?;
        Ok(n.rows_affected == 1)
    }

    /// An item's due date changed (a renewed certificate) or the item went away: retires its
    /// unsent (pending or queued) reminders of `kind` for any other due date than `keep_due_on`
    /// (`None`: every due date), with `reason`, and cancels their deliveries that have not gone
    /// out (pending or failed). Returns how many reminders were retired.
    pub async fn retire_pending_reminders(
        &mut self,
        subject_type: &str,
        subject_id: Uuid,
        kind: DueKind,
        keep_due_on: Option<NaiveDate>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let tenant = self.tenant_uuid();
        let mut which = Condition::all()
            .add(reminder::Column::TenantId.eq(tenant))
            .add(reminder::Column::SubjectType.eq(subject_type))
            .add(reminder::Column::SubjectId.eq(subject_id))
            .add(reminder::Column::Kind.eq(kind.as_str()))
            .add(reminder::Column::Status.is_in(["pending", "queued"]));
        if let Some(keep) = keep_due_on {
            which = which.add(reminder::Column::DueOn.ne(keep));
        }
        let ids: Vec<Uuid> = reminder::Entity::find()
            .filter(which)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let reason: String = reason.chars().take(2000).collect();
        let retired = reminder::Entity::update_many()
            .col_expr(reminder::Column::Status, Expr::value("retired"))
            .col_expr(reminder::Column::RetiredReason, Expr::value(Some(reason)))
            .filter(reminder::Column::TenantId.eq(tenant))
            .filter(reminder::Column::Id.is_in(ids.clone()))
            .exec(&self.tx)
            .await?;
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value("cancelled"))
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::TenantId.eq(tenant))
            .filter(delivery::Column::ReminderId.is_in(ids))
            .filter(delivery::Column::Status.is_in(["pending", "failed"]))
            .exec(&self.tx)
            .await?;
        Ok(retired.rows_affected)
    }

    // ---- the tenant's own outbox -------------------------------------------------------------

    /// Queues an event in the tenant's own outbox (the source is the tenant itself), in this
    /// transaction; the same `dedupe_key` is queued once. The new row's id, or `None` when the
    /// key was queued before. (Events for a peer go through `queue_peer_event`.)
    pub async fn queue_event(&mut self, e: PeerEvent) -> Result<Option<Uuid>, StoreError> {
        let me = self.tenant_uuid();
        let id = Uuid::now_v7();
        let row = outbox_event::Model {
            tenant_id: me,
            id,
            topic: e.topic,
            source_tenant_id: me,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            payload: e.payload.to_string(),
            dedupe_key: e.dedupe_key,
            created_at: now(),
            relayed_at: None,
        };
        let n = outbox_event::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([
                    outbox_event::Column::TenantId,
                    outbox_event::Column::DedupeKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok((n == 1).then_some(id))
    }

    /// [`TenantTx::queue_event`] for many events at once, one statement per 500:
    /// for each input, in order, the new row's id, or `None` when its key was queued before
    /// (or earlier in the same input).
    pub async fn queue_events(
        &mut self,
        events: Vec<PeerEvent>,
    ) -> Result<Vec<Option<Uuid>>, StoreError> {
        let me = self.tenant_uuid();
        let created_at = now();
        let mut seen: HashSet<String> = HashSet::new();
        let mut rows: Vec<(usize, outbox_event::Model)> = Vec::new();
        let n = events.len();
        for (i, e) in events.into_iter().enumerate() {
            if !seen.insert(e.dedupe_key.clone()) {
                continue;
            }
            rows.push((
                i,
                outbox_event::Model {
                    tenant_id: me,
                    id: Uuid::now_v7(),
                    topic: e.topic,
                    source_tenant_id: me,
                    subject_type: e.subject_type,
                    subject_id: e.subject_id,
                    payload: e.payload.to_string(),
                    dedupe_key: e.dedupe_key,
                    created_at,
                    relayed_at: None,
                },
            ));
        }
        let mut out = vec![None; n];
        for chunk in rows.chunks(BATCH_ROWS) {
            let index: HashMap<Uuid, usize> = chunk.iter().map(|(i, m)| (m.id, *i)).collect();
            let mut insert = outbox_event::Entity::insert_many(
                chunk.iter().map(|(_, m)| m.clone().into_active_model()),
            )
            .on_conflict(
                OnConflict::columns([
                    outbox_event::Column::TenantId,
                    outbox_event::Column::DedupeKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .into_query();
            insert.returning_col(outbox_event::Column::Id);
            let backend = self.backend_of();
            for row in self.tx.query_all_raw(backend.build(&insert)).await? {
                let id: Uuid = row.try_get_by_index(0)?;
                if let Some(&i) = index.get(&id) {
                    out[i] = Some(id);
                }
            }
        }
        Ok(out)
    }

    /// One outbox event of this tenant.
    pub async fn outbox_event(&self, id: Uuid) -> Result<Option<outbox_event::Model>, StoreError> {
        Ok(outbox_event::Entity::find()
            .filter(outbox_event::Column::TenantId.eq(self.tenant_uuid()))
            .filter(outbox_event::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The outbox events of this tenant among `ids` that are not yet relayed (the worker's
    /// fan-out of a batch), by id.
    pub async fn unrelayed_outbox_events_in(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<outbox_event::Model>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(outbox_event::Entity::find()
            .filter(outbox_event::Column::TenantId.eq(self.tenant_uuid()))
            .filter(outbox_event::Column::Id.is_in(ids.iter().copied()))
            .filter(outbox_event::Column::RelayedAt.is_null())
            .order_by_asc(outbox_event::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Which of `ids` are reminders of this tenant.
    pub async fn existing_reminder_ids(&self, ids: &[Uuid]) -> Result<HashSet<Uuid>, StoreError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        Ok(reminder::Entity::find()
            .select_only()
            .column(reminder::Column::Id)
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::Id.is_in(ids.iter().copied()))
            .into_tuple::<Uuid>()
            .all(&self.tx)
            .await?
            .into_iter()
            .collect())
    }

    /// Marks outbox events relayed at `at` in one statement: the ids this call marked (those
    /// already relayed are left out).
    pub async fn mark_outbox_events_relayed(
        &mut self,
        ids: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = outbox_event::Entity::update_many()
            .col_expr(
                outbox_event::Column::RelayedAt,
                Expr::value(Some(micros(at))),
            )
            .filter(outbox_event::Column::TenantId.eq(self.tenant_uuid()))
            .filter(outbox_event::Column::Id.is_in(ids.iter().copied()))
            .filter(outbox_event::Column::RelayedAt.is_null())
            .exec_with_returning(&self.tx)
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Marks an outbox event relayed (moved to the queue, or fanned out into deliveries); false
    /// when it already was.
    pub async fn mark_outbox_relayed(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = outbox_event::Entity::update_many()
            .col_expr(
                outbox_event::Column::RelayedAt,
                Expr::value(Some(micros(at))),
            )
            .filter(outbox_event::Column::TenantId.eq(self.tenant_uuid()))
            .filter(outbox_event::Column::Id.eq(id))
            .filter(outbox_event::Column::RelayedAt.is_null())
            .exec(&self.tx)
            .await?;
        Ok(n.rows_affected == 1)
    }

    // ---- deliveries --------------------------------------------------------------------------

    /// Writes a delivery once (`ON CONFLICT DO NOTHING` on its key): the stored row, and
    /// whether it was new.
    pub async fn insert_delivery(
        &mut self,
        new: &NewDelivery,
    ) -> Result<(delivery::Model, bool), StoreError> {
        let row = delivery::Model {
            tenant_id: self.tenant_uuid(),
            id: Uuid::now_v7(),
            delivery_key: new.delivery_key.clone(),
            outbox_event_id: new.outbox_event_id,
            reminder_id: new.reminder_id,
            channel: new.channel.as_str().to_owned(),
            target: new.target.clone(),
            status: DeliveryStatus::Pending.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: Some(micros(new.due_at)),
            last_attempt_at: None,
            last_status_code: None,
            last_error: None,
            created_at: now(),
            delivered_at: None,
            queued_until: None,
        };
        let n = delivery::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([delivery::Column::TenantId, delivery::Column::DeliveryKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        let stored = delivery::Entity::find()
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::DeliveryKey.eq(new.delivery_key.as_str()))
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((stored, n == 1))
    }

    /// Writes deliveries once each (`ON CONFLICT DO NOTHING` on their keys), in multi-row
    /// statements of at most [`DELIVERY_INSERT_CHUNK`] rows, without reading them back: the
    /// number written (the rest existed already).
    pub async fn add_deliveries(&mut self, new: &[NewDelivery]) -> Result<u64, StoreError> {
        let tenant = self.tenant_uuid();
        let created_at = now();
        let mut written = 0;
        for chunk in new.chunks(DELIVERY_INSERT_CHUNK) {
            let rows = chunk.iter().map(|n| {
                delivery::Model {
                    tenant_id: tenant,
                    id: Uuid::now_v7(),
                    delivery_key: n.delivery_key.clone(),
                    outbox_event_id: n.outbox_event_id,
                    reminder_id: n.reminder_id,
                    channel: n.channel.as_str().to_owned(),
                    target: n.target.clone(),
                    status: DeliveryStatus::Pending.as_str().to_owned(),
                    attempts: 0,
                    next_attempt_at: Some(micros(n.due_at)),
                    last_attempt_at: None,
                    last_status_code: None,
                    last_error: None,
                    created_at,
                    delivered_at: None,
                    queued_until: None,
                }
                .into_active_model()
            });
            written += delivery::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        delivery::Column::TenantId,
                        delivery::Column::DeliveryKey,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(written)
    }

    /// One delivery of this tenant.
    pub async fn delivery(&self, id: Uuid) -> Result<Option<delivery::Model>, StoreError> {
        Ok(delivery::Entity::find()
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// A page of the delivery log, by id (creation order).
    pub async fn deliveries_page(
        &self,
        filter: &DeliveryFilter,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<delivery::Model>, StoreError> {
        use delivery::Column as C;
        let mut q = delivery::Entity::find().filter(C::TenantId.eq(self.tenant_uuid()));
        if let Some(s) = filter.status {
            q = q.filter(C::Status.eq(s.as_str()));
        }
        if let Some(c) = filter.channel {
            q = q.filter(C::Channel.eq(c.as_str()));
        }
        if let Some(r) = filter.reminder_id {
            q = q.filter(C::ReminderId.eq(r));
        }
        if let Some(o) = filter.outbox_event_id {
            q = q.filter(C::OutboxEventId.eq(o));
        }
        let rows = req
            .apply(q, C::Id, |k: &Uuid| (*k).into())
            .all(&self.tx)
            .await?;
        Ok(req.finish(rows))
    }

    /// Marks due deliveries as handed to the Redis stream until `until` (migration m0011):
    /// each that is pending or failed, due at `now` and not queued already (or whose queueing
    /// lapsed). The ids marked, which the caller then adds to the stream; one statement, so of
    /// two relays sweeping at once each delivery goes to one.
    pub async fn mark_deliveries_queued(
        &mut self,
        ids: &[Uuid],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = micros(now);
        let rows = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::QueuedUntil,
                Expr::value(Some(micros(until))),
            )
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::Id.is_in(ids.iter().copied()))
            .filter(delivery::Column::Status.is_in(["pending", "failed"]))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::QueuedUntil.is_null())
                    .add(delivery::Column::QueuedUntil.lte(now)),
            )
            .exec_with_returning(&self.tx)
            .await?;
        Ok(rows.into_iter().map(|d| d.id).collect())
    }

    /// Takes back [`TenantTx::mark_deliveries_queued`] for deliveries whose stream entry could
    /// not be added, so the next sweep queues them again at once.
    pub async fn unmark_deliveries_queued(&mut self, ids: &[Uuid]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let n = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::QueuedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::Id.is_in(ids.iter().copied()))
            .exec(&self.tx)
            .await?;
        Ok(n.rows_affected)
    }

    /// Takes a due delivery for one attempt: if it is pending or failed and due at `now`, moves
    /// its `next_attempt_at` to `until` (so no other worker takes it until then, and a worker
    /// that dies mid-attempt leaves it to be taken again at `until`) and returns it. One
    /// statement (`UPDATE ... RETURNING`): of two workers, one gets the row.
    pub async fn lease_delivery(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<delivery::Model>, StoreError> {
        let rows = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(Some(micros(until))),
            )
            .col_expr(
                delivery::Column::QueuedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::Id.eq(id))
            .filter(delivery::Column::Status.is_in(["pending", "failed"]))
            .filter(delivery::Column::NextAttemptAt.lte(micros(now)))
            .exec_with_returning(&self.tx)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Records an attempt (append-only) and its consequence on the delivery, in one step:
    /// delivered; failed with a next attempt; or dead (a failure without one, or 410 Gone).
    /// Returns the delivery as it now stands. A delivery already delivered, dead or cancelled
    /// is a `Conflict` (and nothing is recorded).
    pub async fn record_delivery_attempt(
        &mut self,
        delivery_id: Uuid,
        attempt: &AttemptRecord,
    ) -> Result<delivery::Model, StoreError> {
        let tenant = self.tenant_uuid();
        let at = micros(attempt.attempted_at);
        let error = truncate(attempt.error.clone(), 2000);
        let (status, next) = match attempt.outcome {
            DeliveryOutcome::Delivered => (DeliveryStatus::Delivered, None),
            o if o.retries() && attempt.next_attempt_at.is_some() => {
                (DeliveryStatus::Failed, attempt.next_attempt_at.map(micros))
            }
            _ => (DeliveryStatus::Dead, None),
        };
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).add(1),
            )
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(next))
            // Off the stream: a retry is queued again by the sweep when it is due.
            .col_expr(
                delivery::Column::QueuedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(delivery::Column::LastAttemptAt, Expr::value(Some(at)))
            .col_expr(
                delivery::Column::LastStatusCode,
                Expr::value(attempt.status_code),
            )
            .col_expr(delivery::Column::LastError, Expr::value(error.clone()));
        if status == DeliveryStatus::Delivered {
            update = update.col_expr(delivery::Column::DeliveredAt, Expr::value(Some(at)));
        }
        let rows = update
            .filter(delivery::Column::TenantId.eq(tenant))
            .filter(delivery::Column::Id.eq(delivery_id))
            .filter(delivery::Column::Status.is_in(["pending", "failed"]))
            .exec_with_returning(&self.tx)
            .await?;
        let Some(updated) = rows.into_iter().next() else {
            return match self.delivery(delivery_id).await? {
                None => Err(StoreError::NotFound),
                Some(d) => Err(StoreError::Conflict(format!(
                    "delivery {delivery_id} is {} already",
                    d.status
                ))),
            };
        };
        delivery_attempt::Entity::insert(
            delivery_attempt::Model {
                tenant_id: tenant,
                id: Uuid::now_v7(),
                delivery_id,
                attempted_at: at,
                outcome: attempt.outcome.as_str().to_owned(),
                status_code: attempt.status_code,
                error,
                duration_ms: attempt.duration_ms.map(|d| Ord::max(d, 0)),
            }
            .into_active_model(),
        )
        .exec_without_returning(&self.tx)
        .await?;
        Ok(updated)
    }

    /// A delivery's attempts, oldest first.
    pub async fn delivery_attempts(
        &self,
        delivery_id: Uuid,
    ) -> Result<Vec<delivery_attempt::Model>, StoreError> {
        Ok(delivery_attempt::Entity::find()
            .filter(delivery_attempt::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery_attempt::Column::DeliveryId.eq(delivery_id))
            .order_by_asc(delivery_attempt::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Retries a dead-lettered delivery by hand: pending again, due at `at`. False when it is
    /// not dead. A change someone made: audit it.
    pub async fn retry_dead_delivery(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value("pending"))
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(Some(micros(at))),
            )
            .filter(delivery::Column::TenantId.eq(self.tenant_uuid()))
            .filter(delivery::Column::Id.eq(id))
            .filter(delivery::Column::Status.eq("dead"))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Ok(false);
        }
        self.wrote();
        Ok(true)
    }

    // ---- webhook endpoints and secrets -------------------------------------------------------

    row_ops!(
        webhook_endpoint,
        insert_webhook_endpoint,
        update_webhook_endpoint,
        webhook_endpoint
    );
    delete_op!(webhook_endpoint, delete_webhook_endpoint);

    /// The tenant's endpoints, by id.
    pub async fn webhook_endpoints(&self) -> Result<Vec<webhook_endpoint::Model>, StoreError> {
        Ok(webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Stores an endpoint's failure run after an attempt (`EndpointHealth::record`), and
    /// disables it when `disable` says so (the worker's bookkeeping: the owner is notified, and
    /// an audit event is the caller's to add). False for an unknown endpoint.
    pub async fn record_endpoint_health(
        &mut self,
        id: Uuid,
        health: EndpointHealth,
        disable: Option<(DisableReason, DateTime<Utc>)>,
    ) -> Result<bool, StoreError> {
        let failures = i32::try_from(health.consecutive_failures).unwrap_or(i32::MAX);
        let mut update = webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::ConsecutiveFailures,
                Expr::value(failures),
            )
            .col_expr(
                webhook_endpoint::Column::FirstFailureAt,
                Expr::value(health.failing_since.map(micros)),
            );
        if let Some((reason, at)) = disable {
            update = update
                .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
                .col_expr(
                    webhook_endpoint::Column::DisabledReason,
                    Expr::value(Some(reason.as_str())),
                )
                .col_expr(
                    webhook_endpoint::Column::DisabledAt,
                    Expr::value(Some(micros(at))),
                )
                .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(micros(at)));
        }
        let n = update
            .filter(webhook_endpoint::Column::TenantId.eq(self.tenant_uuid()))
            .filter(webhook_endpoint::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        Ok(n.rows_affected == 1)
    }

    /// Ends an endpoint's failure run after a delivered attempt, in one statement that writes
    /// only when there is a run to end (a healthy endpoint's row is not touched, so attempts
    /// to one endpoint do not queue on its row lock). Whether it ended one.
    pub async fn clear_endpoint_failures(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let n = webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::ConsecutiveFailures,
                Expr::value(0),
            )
            .col_expr(
                webhook_endpoint::Column::FirstFailureAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_endpoint::Column::TenantId.eq(self.tenant_uuid()))
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(webhook_endpoint::Column::ConsecutiveFailures.gt(0))
                    .add(webhook_endpoint::Column::FirstFailureAt.is_not_null()),
            )
            .exec(&self.tx)
            .await?;
        Ok(n.rows_affected == 1)
    }

    /// Gives an endpoint a new current secret. The secret it replaces keeps signing for
    /// `webhooks::ROTATION_OVERLAP_HOURS` from `now` (its `expires_at` is set); older ones keep
    /// their expiry. Secrets are stored as their `whsec_` text (see the entity's note).
    pub async fn add_webhook_secret(
        &mut self,
        endpoint_id: Uuid,
        secret: &WebhookSecret,
        now: DateTime<Utc>,
    ) -> Result<WebhookSecretInfo, StoreError> {
        let tenant = self.tenant_uuid();
        let now = micros(now);
        webhook_secret::Entity::update_many()
            .col_expr(
                webhook_secret::Column::ExpiresAt,
                Expr::value(Some(micros(grc_domain::webhooks::rotation_ends_at(now)))),
            )
            .filter(webhook_secret::Column::TenantId.eq(tenant))
            .filter(webhook_secret::Column::EndpointId.eq(endpoint_id))
            .filter(webhook_secret::Column::ExpiresAt.is_null())
            .exec(&self.tx)
            .await?;
        let row = webhook_secret::Model {
            tenant_id: tenant,
            id: Uuid::now_v7(),
            endpoint_id,
            secret: secret.to_whsec(),
            created_at: now,
            expires_at: None,
        };
        let m = row.into_active_model().reset_all().insert(&self.tx).await?;
        self.wrote();
        Ok(WebhookSecretInfo::from(&m))
    }

    /// An endpoint's secrets (without the secrets), newest first.
    pub async fn webhook_secret_infos(
        &self,
        endpoint_id: Uuid,
    ) -> Result<Vec<WebhookSecretInfo>, StoreError> {
        Ok(webhook_secret::Entity::find()
            .filter(webhook_secret::Column::TenantId.eq(self.tenant_uuid()))
            .filter(webhook_secret::Column::EndpointId.eq(endpoint_id))
            .order_by_desc(webhook_secret::Column::Id)
            .all(&self.tx)
            .await?
            .iter()
            .map(WebhookSecretInfo::from)
            .collect())
    }

    /// The secrets that sign an endpoint's messages at `now` (`webhooks::signs_at`): the current
    /// one and any replaced less than the overlap ago, newest first.
    pub async fn webhook_signing_secrets(
        &self,
        endpoint_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookSecret>, StoreError> {
        webhook_secret::Entity::find()
            .filter(webhook_secret::Column::TenantId.eq(self.tenant_uuid()))
            .filter(webhook_secret::Column::EndpointId.eq(endpoint_id))
            .filter(
                Condition::any()
                    .add(webhook_secret::Column::ExpiresAt.is_null())
                    .add(webhook_secret::Column::ExpiresAt.gt(micros(now))),
            )
            .order_by_desc(webhook_secret::Column::Id)
            .all(&self.tx)
            .await?
            .iter()
            .map(|m| {
                WebhookSecret::parse(&m.secret)
                    .map_err(|e| StoreError::Invalid(format!("stored secret {}: {e}", m.id)))
            })
            .collect()
    }

    // ---- notifications -----------------------------------------------------------------------

    /// Writes an in-app notification; with a `delivery_id`, once per delivery (`ON CONFLICT DO
    /// NOTHING`). Whether it was new. The user must be a member of the tenant.
    pub async fn insert_notification(
        &mut self,
        mut row: notification::Model,
    ) -> Result<bool, StoreError> {
        row.tenant_id = self.tenant_uuid();
        row.created_at = micros(row.created_at);
        let n = notification::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([
                    notification::Column::TenantId,
                    notification::Column::DeliveryId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok(n == 1)
    }

    /// A page of a member's notifications, by id (creation order); only unread ones when
    /// `unread_only`.
    pub async fn notifications_page(
        &self,
        user_id: Uuid,
        unread_only: bool,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<notification::Model>, StoreError> {
        use notification::Column as C;
        let mut q = notification::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::UserId.eq(user_id));
        if unread_only {
            q = q.filter(C::ReadAt.is_null());
        }
        let rows = req
            .apply(q, C::Id, |k: &Uuid| (*k).into())
            .all(&self.tx)
            .await?;
        Ok(req.finish(rows))
    }

    /// One notification of a member (`None` for another member's or another tenant's).
    pub async fn notification_of(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Option<notification::Model>, StoreError> {
        Ok(notification::Entity::find()
            .filter(notification::Column::TenantId.eq(self.tenant_uuid()))
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// How many of a member's notifications are unread.
    pub async fn unread_notification_count(&self, user_id: Uuid) -> Result<u64, StoreError> {
        Ok(notification::Entity::find()
            .filter(notification::Column::TenantId.eq(self.tenant_uuid()))
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.tx)
            .await?)
    }

    /// Marks a member's notifications read at `at`: those in `ids`, or all (`None`). Only the
    /// member's own and only unread ones change; how many did.
    pub async fn mark_notifications_read(
        &mut self,
        user_id: Uuid,
        ids: Option<&[Uuid]>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut q = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Some(micros(at))))
            .filter(notification::Column::TenantId.eq(self.tenant_uuid()))
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::ReadAt.is_null());
        if let Some(ids) = ids {
            q = q.filter(notification::Column::Id.is_in(ids.to_vec()));
        }
        Ok(q.exec(&self.tx).await?.rows_affected)
    }

    // ---- calendar feeds ----------------------------------------------------------------------

    /// Creates a calendar feed for a member: the row, and its token (shown once; the feed URL
    /// carries it). Only the token's SHA-256 is stored.
    pub async fn create_calendar_feed(
        &mut self,
        user_id: Uuid,
    ) -> Result<(calendar_feed::Model, ScopedToken), StoreError> {
        let id = Uuid::now_v7();
        let token = new_token(CALENDAR_TOKEN_PREFIX, self.tenant_uuid(), id);
        let m = calendar_feed::Model {
            tenant_id: self.tenant_uuid(),
            id,
            user_id,
            token_sha256: sha256_hex(token.expose()),
            created_at: now(),
            revoked_at: None,
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        self.wrote();
        Ok((m, token))
    }

    /// A member's calendar feeds, revoked ones included, by id.
    pub async fn calendar_feeds(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<calendar_feed::Model>, StoreError> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TenantId.eq(self.tenant_uuid()))
            .filter(calendar_feed::Column::UserId.eq(user_id))
            .order_by_asc(calendar_feed::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Revokes a calendar feed: its URL stops working. `NotFound` for an unknown feed,
    /// `Conflict` for a revoked one.
    pub async fn revoke_calendar_feed(
        &mut self,
        id: Uuid,
    ) -> Result<calendar_feed::Model, StoreError> {
        let rows = calendar_feed::Entity::update_many()
            .col_expr(calendar_feed::Column::RevokedAt, Expr::value(Some(now())))
            .filter(calendar_feed::Column::TenantId.eq(self.tenant_uuid()))
            .filter(calendar_feed::Column::Id.eq(id))
            .filter(calendar_feed::Column::RevokedAt.is_null())
            .exec_with_returning(&self.tx)
            .await?;
        match rows.into_iter().next() {
            Some(m) => {
                self.wrote();
                Ok(m)
            }
            None => {
                let exists = calendar_feed::Entity::find()
                    .filter(calendar_feed::Column::TenantId.eq(self.tenant_uuid()))
                    .filter(calendar_feed::Column::Id.eq(id))
                    .one(&self.tx)
                    .await?
                    .is_some();
                Err(if exists {
                    StoreError::Conflict("the feed is already revoked".into())
                } else {
                    StoreError::NotFound
                })
            }
        }
    }

    // ---- the scheduler's fence ---------------------------------------------------------------

    /// The fence of a scheduler's writes: succeeds only while `name` is still held under
    /// `fencing_token` and unexpired at `now`, and (PostgreSQL) keeps the lease row share-locked
    /// until this transaction ends, so a takeover waits for it: a scheduler that lost its lease
    /// (paused past its expiry) cannot commit. Call just before committing a tick's writes.
    pub async fn hold_scheduler_lease(
        &self,
        name: &str,
        fencing_token: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let backend = self.backend_of();
        let lock = if backend == DbBackend::Postgres {
            " FOR SHARE"
        } else {
            ""
        };
        let row = self
            .tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(
                    backend,
                    &format!(
                        "SELECT fencing_token FROM scheduler_leases \
                         WHERE name = $1 AND fencing_token = $2 AND expires_at > $3{lock}"
                    ),
                ),
                [name.into(), fencing_token.into(), micros(now).into()],
            ))
            .await?;
        if row.is_none() {
            return Err(StoreError::Conflict(format!(
                "the scheduler lease {name:?} is no longer held under token {fencing_token}"
            )));
        }
        Ok(())
    }
}

/// The tenant's settings (columns `s_*`) and stored policies (`p_*`): a row per stored policy,
/// or one row without a policy; the settings' columns are null when the tenant has none.
const POLICIES_SQL: &str = "\
SELECT s.tenant_id AS s_tenant_id, s.time_zone AS s_time_zone, s.send_hour AS s_send_hour,
       s.send_minute AS s_send_minute, s.updated_by AS s_updated_by, s.updated_at AS s_updated_at,
       p.tenant_id AS p_tenant_id, p.kind AS p_kind, p.enabled AS p_enabled,
       p.lead_days AS p_lead_days, p.overdue_every_days AS p_overdue_every_days,
       p.channels AS p_channels, p.recipients AS p_recipients, p.escalation AS p_escalation,
       p.updated_by AS p_updated_by, p.updated_at AS p_updated_at
  FROM (SELECT CAST($1 AS {uuid}) AS tenant_id) t
  LEFT JOIN reminder_settings s ON s.tenant_id = t.tenant_id
  LEFT JOIN reminder_policies p ON p.tenant_id = t.tenant_id";

/// The policy of `kind` from its stored row (or the default), in the tenant's zone and hour.
fn policy_of(
    kind: DueKind,
    row: Option<reminder_policy::Model>,
    settings: Option<&reminder_settings::Model>,
) -> Result<ReminderPolicy, StoreError> {
    let zone = settings.map_or("UTC", |s| s.time_zone.as_str());
    let mut p = kind.default_policy(zone);
    if let Some(s) = settings {
        p.send_hour = s.send_hour;
        p.send_minute = s.send_minute;
    }
    if let Some(r) = row {
        p.enabled = r.enabled;
        p.lead_days = from_json::<Vec<i32>>("lead days", &r.lead_days)?;
        p.overdue_every_days = r.overdue_every_days;
        p.channels = from_json::<Vec<Channel>>("channels", &r.channels)?;
        p.recipients = from_json::<Recipients>("recipients", &r.recipients)?;
        p.escalation = r
            .escalation
            .as_deref()
            .map(|e| from_json::<Escalation>("escalation", e))
            .transpose()?;
    }
    Ok(p)
}

fn digest_of(m: &digest_preference::Model) -> Result<DigestOption, StoreError> {
    Ok(DigestOption {
        enabled: m.enabled,
        send_hour: m.send_hour,
        send_minute: m.send_minute,
        time_zone: m.time_zone.clone(),
        channels: from_json("channels", &m.channels)?,
        skip_when_empty: m.skip_when_empty,
    })
}

// ---------------------------------------------------------------------------------------------
// Store-level: token lookups, the lease, the worker's scans
// ---------------------------------------------------------------------------------------------

impl Store {
    /// The live calendar feed a presented token opens, if any. The token names its tenant and
    /// feed, so this is one tenant-scoped lookup (no query across tenants, no function that
    /// bypasses row-level security); the token's SHA-256 is compared in constant time.
    pub async fn calendar_feed_for_token(
        &self,
        token: &str,
    ) -> Result<Option<calendar_feed::Model>, StoreError> {
        let Some((tenant, id)) = parse_token(CALENDAR_TOKEN_PREFIX, token) else {
            return Ok(None);
        };
        let tx = self.tenant_tx(TenantScope::new(TenantId(tenant))).await?;
        let found = calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TenantId.eq(tenant))
            .filter(calendar_feed::Column::Id.eq(id))
            .one(&tx.tx)
            .await?;
        tx.commit().await?;
        Ok(found.filter(|m| {
            let same: bool = sha256_hex(token)
                .as_bytes()
                .ct_eq(m.token_sha256.as_bytes())
                .into();
            same && m.revoked_at.is_none()
        }))
    }

    /// Acquires or renews the lease `name` for `holder` until `now + ttl`, atomically (one
    /// `INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now OR holder = me RETURNING`
    /// on both backends). `None` while another holder's lease is unexpired. The fencing token
    /// starts at 1 and grows by one each time the lease changes hands or is taken again after
    /// it lapsed; a holder renewing its live lease keeps its token, so its writes in flight
    /// stay valid. Times are the callers' (`now` from one clock per deployment, a `ttl` well
    /// above the tick and the clocks' skew).
    pub async fn acquire_scheduler_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<SchedulerLease>, StoreError> {
        if ttl <= TimeDelta::zero() {
            return Err(StoreError::Invalid("a lease lasts a positive time".into()));
        }
        let now = micros(now);
        let until = now
            .checked_add_signed(ttl)
            .ok_or_else(|| StoreError::Invalid("lease expiry out of range".into()))?;
        let backend = self.backend();
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(
                    backend,
                    "INSERT INTO scheduler_leases (name, holder, fencing_token, expires_at) \
                     VALUES ($1, $2, 1, $3) \
                     ON CONFLICT (name) DO UPDATE SET \
                       fencing_token = CASE \
                         WHEN scheduler_leases.holder = excluded.holder \
                          AND scheduler_leases.expires_at > $4 \
                         THEN scheduler_leases.fencing_token \
                         ELSE scheduler_leases.fencing_token + 1 END, \
                       holder = excluded.holder, \
                       expires_at = excluded.expires_at \
                     WHERE scheduler_leases.expires_at <= $4 \
                        OR scheduler_leases.holder = excluded.holder \
                     RETURNING fencing_token, expires_at, scheduled_until",
                ),
                [name.into(), holder.into(), until.into(), now.into()],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(SchedulerLease {
            fencing_token: row.try_get("", "fencing_token")?,
            expires_at: row.try_get("", "expires_at")?,
            scheduled_until: row.try_get("", "scheduled_until")?,
        }))
    }

    /// Gives the lease up (a clean shutdown), so another holder takes it at once; false when
    /// `holder` did not hold it.
    pub async fn release_scheduler_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = scheduler_lease::Entity::update_many()
            .col_expr(scheduler_lease::Column::ExpiresAt, Expr::value(micros(now)))
            .filter(scheduler_lease::Column::Name.eq(name))
            .filter(scheduler_lease::Column::Holder.eq(holder))
            .filter(scheduler_lease::Column::ExpiresAt.gt(micros(now)))
            .exec(&self.db)
            .await?;
        Ok(n.rows_affected == 1)
    }

    /// The delivery queue across tenants at `now`, for `/metrics`: how many deliveries are
    /// due (pending or failed with `next_attempt_at <= now`, on the stream or not) and the
    /// oldest due instant (the lag is `now` minus it). On PostgreSQL through
    /// `grc_delivery_backlog`, with the due scan's policy.
    pub async fn delivery_backlog(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let backend = self.backend();
        let stmt = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT waiting, oldest FROM grc_delivery_backlog($1)",
                [micros(now).into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT count(*) AS waiting, min(next_attempt_at) AS oldest FROM deliveries \
                 WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?1",
                [micros(now).into()],
            ),
        };
        let Some(row) = self.db.query_one_raw(stmt).await? else {
            return Ok((0, None));
        };
        let waiting: i64 = row.try_get("", "waiting")?;
        let oldest: Option<DateTime<Utc>> = row.try_get("", "oldest")?;
        Ok((u64::try_from(waiting).unwrap_or(0), oldest))
    }

    /// Records that the scheduler holding the lease `name` under `fencing_token` has committed
    /// every tenant's window up to `until` (migration m0011). Only moves forward, and only
    /// under the token: a holder that lost the lease records nothing. Whether it moved.
    pub async fn advance_scheduled_until(
        &self,
        name: &str,
        fencing_token: i64,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let until = micros(until);
        let n = scheduler_lease::Entity::update_many()
            .col_expr(
                scheduler_lease::Column::ScheduledUntil,
                Expr::value(Some(until)),
            )
            .filter(scheduler_lease::Column::Name.eq(name))
            .filter(scheduler_lease::Column::FencingToken.eq(fencing_token))
            .filter(
                Condition::any()
                    .add(scheduler_lease::Column::ScheduledUntil.is_null())
                    .add(scheduler_lease::Column::ScheduledUntil.lt(until)),
            )
            .exec(&self.db)
            .await?;
        Ok(n.rows_affected == 1)
    }

    /// The deliveries due at `now` across tenants (pending or failed, `next_attempt_at <=
    /// now`), oldest first, at most `limit`: keys only. The worker then opens a tenant
    /// transaction per delivery and takes it with [`TenantTx::lease_delivery`]. On PostgreSQL
    /// through `grc_due_deliveries`, which admits (with the caller's rights) exactly the due
    /// rows for its own statement (docs/DATABASE.md).
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, Uuid)>, StoreError> {
        let backend = self.backend();
        let limit = i64::from(limit);
        let stmt = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT tenant_id, id FROM grc_due_deliveries($1, $2::integer)",
                [micros(now).into(), limit.into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT tenant_id, id FROM deliveries \
                 WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?1 \
                   AND (queued_until IS NULL OR queued_until <= ?1) \
                 ORDER BY next_attempt_at, tenant_id, id LIMIT ?2",
                [micros(now).into(), limit.into()],
            ),
        };
        self.keys(stmt).await
    }

    /// The outbox events not yet relayed, across tenants, oldest first, at most `limit`: keys
    /// only (the embedded relay's feed). On PostgreSQL through `grc_unrelayed_outbox`, like
    /// [`Store::due_deliveries`].
    pub async fn unrelayed_outbox_events(
        &self,
        limit: u32,
    ) -> Result<Vec<(TenantId, Uuid)>, StoreError> {
        let backend = self.backend();
        let limit = i64::from(limit);
        let stmt = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT tenant_id, id FROM grc_unrelayed_outbox($1::integer)",
                [limit.into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT tenant_id, id FROM outbox_events WHERE relayed_at IS NULL \
                 ORDER BY created_at, tenant_id, id LIMIT ?1",
                [limit.into()],
            ),
        };
        self.keys(stmt).await
    }

    async fn keys(&self, stmt: Statement) -> Result<Vec<(TenantId, Uuid)>, StoreError> {
        self.db
            .query_all_raw(stmt)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    TenantId(r.try_get::<Uuid>("", "tenant_id")?),
                    r.try_get::<Uuid>("", "id")?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_format() {
        let t = Uuid::now_v7();
        let id = Uuid::now_v7();
        let token = new_token(CALENDAR_TOKEN_PREFIX, t, id);
        assert_eq!(
            parse_token(CALENDAR_TOKEN_PREFIX, token.expose()),
            Some((t, id))
        );
        // 7 + 32 + 1 + 32 + 1 + 64 characters.
        assert_eq!(token.expose().len(), 137);
        assert!(parse_token(CALENDAR_TOKEN_PREFIX, &token.expose()[1..]).is_none());
        assert!(parse_token("grck_", token.expose()).is_none());
        assert!(format!("{token:?}").contains("***"));
    }
}
