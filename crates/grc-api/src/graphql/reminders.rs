//! Reminders and notifications GraphQL (issue 7): the tenant's reminder settings and policies,
//! a member's own digest, webhook endpoints and their secrets, a member's in-app notifications,
//! calendar feeds, and the delivery log.
//!
//! Roles: every member reads the settings, policies, endpoints (never their secrets) and the
//! delivery log (`ReadReminders`); setting the time zone, send time and policies and retrying a
//! dead-lettered delivery is a compliance judgement (`ManageReminders`); endpoints are managed
//! by owners and compliance managers (`ManageWebhooks`); every member reads and marks their own
//! notifications, sets their own digest and keeps their own calendar feeds
//! (`ManageOwnNotifications`, a user's own inbox: an API key has none).
//!
//! Secrets are shown once: `createWebhookEndpoint` and `rotateWebhookSecret` return the new
//! `whsec_` secret in their payload, `createCalendarFeed` the feed's URL with its token; neither
//! is ever readable again (the audit trail records that they were made, not what they are).
//! Every change but marking notifications read (the reader's own bookkeeping) is audited.

use super::common::{
    actor_user, conflict, free_text, invalid, not_found, record, settle, stored_enum,
};
use super::ids::{Kind, decode_kind, encode};
use super::query::page_cost;
use super::{Authorized, authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_domain::ids::UserId;
use grc_domain::reminders::{self as rdom, PolicyError};
use grc_domain::webhooks::WebhookSecret;
use grc_store::entity::reminders::{
    calendar_feed, delivery, delivery_attempt, notification, reminder, webhook_endpoint,
};
use grc_store::{
    DeliveryFilter, DeliveryStatus as StoreDeliveryStatus, Page, StoreError, TenantTx,
};
use rand::RngCore;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The longest webhook URL accepted (the table's limit).
const MAX_URL: usize = 2000;
/// The longest endpoint description.
const MAX_DESCRIPTION: usize = 2000;
/// At most this many event types per endpoint.
const MAX_EVENT_TYPES: usize = 50;
/// The longest event type name.
const MAX_EVENT_TYPE: usize = 100;
/// At most this many notification ids in one `markNotificationsRead`.
const MAX_MARK_IDS: usize = 500;

stored_enum!(
    /// A kind of due item a reminder policy is for.
    ReminderKind {
        CertificateExpiry = "certificate-expiry",
        SurveillanceAudit = "surveillance-audit",
        RecertificationAudit = "recertification-audit",
        AttestationExpiry = "attestation-expiry",
        BridgeLetterEnd = "bridge-letter-end",
        BaaEnd = "baa-end",
        BaaReview = "baa-review",
        PolicyReview = "policy-review",
        DocumentReview = "document-review",
        RiskReview = "risk-review",
        EvidenceExpiry = "evidence-expiry",
        CorrectiveActionDue = "corrective-action-due",
        TrainingDue = "training-due",
        InternalAuditDue = "internal-audit-due",
        ManagementReviewDue = "management-review-due",
        BreachNotificationDeadline = "breach-notification-deadline",
        ShareGrantExpiry = "share-grant-expiry",
    }
);

stored_enum!(
    /// A way a reminder reaches someone.
    ReminderChannel {
        /// E-mail over SMTP.
        Email = "email",
        /// A signed Standard Webhooks call to each of the tenant's enabled endpoints.
        Webhook = "webhook",
        /// An in-app notification (members only).
        InApp = "in-app",
    }
);

stored_enum!(
    /// Who, by role, receives a reminder.
    ReminderRecipientRole {
        Owner = "owner",
        ComplianceManager = "compliance_manager",
        Contributor = "contributor",
        Auditor = "auditor",
        Viewer = "viewer",
        /// The member responsible for the item itself (a risk's owner, an action's assignee).
        SubjectOwner = "subject_owner",
    }
);

stored_enum!(
    /// Where a delivery stands.
    DeliveryStatus {
        /// Not yet attempted (or retried by hand).
        Pending = "pending",
        Delivered = "delivered",
        /// Failed, to be retried on the schedule.
        Failing = "failed",
        /// Out of retries or refused for good: dead-lettered, retried only by hand.
        Dead = "dead",
        /// Its reminder was retired before it went out.
        Cancelled = "cancelled",
    }
);

stored_enum!(
    /// What one delivery attempt came back with.
    DeliveryOutcome {
        /// A 2xx answer (or the message accepted).
        Delivered = "delivered",
        /// 410 Gone: no retry, the endpoint is disabled.
        Gone = "gone",
        /// 429, 502 or 504: retried.
        Throttled = "throttled",
        /// Any other answer: retried.
        Failed = "failed",
        /// No answer in time: retried.
        TimedOut = "timed-out",
        /// No connection: retried.
        ConnectionFailed = "connection-failed",
    }
);

fn kind_dom(k: ReminderKind) -> Result<rdom::DueKind> {
    rdom::DueKind::parse(k.as_str()).ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))
}

fn kind_out(k: rdom::DueKind) -> Result<ReminderKind> {
    ReminderKind::of(k.as_str())
}

fn channels_out(cs: &[rdom::Channel]) -> Result<Vec<ReminderChannel>> {
    cs.iter().map(|c| ReminderChannel::of(c.as_str())).collect()
}

fn channels_dom(cs: &[ReminderChannel]) -> Vec<rdom::Channel> {
    cs.iter()
        .filter_map(|c| rdom::Channel::parse(c.as_str()))
        .collect()
}

fn roles_out(rs: &[rdom::RecipientRole]) -> Result<Vec<ReminderRecipientRole>> {
    rs.iter()
        .map(|r| ReminderRecipientRole::of(r.as_str()))
        .collect()
}

fn roles_dom(rs: &[ReminderRecipientRole]) -> Vec<rdom::RecipientRole> {
    rs.iter()
        .filter_map(|r| rdom::RecipientRole::parse(r.as_str()))
        .collect()
}

/// A domain rule broken, as a user error with the rule's stable code.
fn rule_error(e: &PolicyError) -> UserError {
    UserError::broken_rule(e.field(), e.code(), e.to_string())
}

/// The acting member (a user's own inbox, digest and feeds: an API key has none).
fn me(az: &Authorized) -> Result<Uuid> {
    actor_user(az).ok_or_else(|| {
        gql_error(
            ErrorCode::Forbidden,
            "notifications, digests and calendar feeds belong to a user: an API key has none",
        )
    })
}

async fn tx_of(ctx: &Context<'_>, az: &Authorized) -> Result<TenantTx> {
    Ok(store(ctx)
        .tenant_tx(az.scope)
        .await
        .map_err(StoreErrorExt)?)
}

fn page_req(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<grc_store::PageRequest<Uuid>> {
    super::connection::PageArgs {
        first,
        after,
        last,
        before,
    }
    .into_request(|k| Uuid::try_parse(k).ok())
}

/// A connection without a total (the log and the inbox are not counted on every page).
fn connection<T: OutputType>(page: Page<T>, key: impl Fn(&T) -> Uuid) -> Connection<String, T> {
    let mut c =
        Connection::<String, T, EmptyFields>::new(page.has_previous_page, page.has_next_page);
    c.edges.extend(page.items.into_iter().map(|i| {
        let k = key(&i).to_string();
        Edge::new(super::ids::cursor(&k), i)
    }));
    c
}

// ---------------------------------------------------------------------------------------------
// Object types

/// The tenant's reminder time zone and local send time.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReminderSettings {
    /// An IANA time zone name, e.g. `Europe/Berlin` (default `UTC`).
    pub time_zone: String,
    /// The local hour reminders are sent at, 0 to 23 (default 9).
    pub send_hour: i32,
    /// 0 to 59 (default 0).
    pub send_minute: i32,
    /// True while the tenant has not set them: these are the defaults.
    pub is_default: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

fn settings_out(
    row: Option<grc_store::entity::reminders::reminder_settings::Model>,
) -> ReminderSettings {
    match row {
        None => ReminderSettings {
            time_zone: "UTC".into(),
            send_hour: rdom::DEFAULT_SEND_HOUR,
            send_minute: 0,
            is_default: true,
            updated_at: None,
        },
        Some(r) => ReminderSettings {
            time_zone: r.time_zone,
            send_hour: r.send_hour,
            send_minute: r.send_minute,
            is_default: false,
            updated_at: Some(r.updated_at),
        },
    }
}

/// Who receives a policy's e-mail and in-app reminders.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReminderRecipients {
    pub roles: Vec<ReminderRecipientRole>,
    /// Members named individually.
    pub user_ids: Vec<ID>,
    /// External addresses (e-mail only).
    pub emails: Vec<String>,
}

/// Extra recipients for the last stretch before the due date, and when overdue.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReminderEscalation {
    /// From this many days before the due date on.
    pub within_days: i32,
    pub roles: Vec<ReminderRecipientRole>,
}

/// The reminder policy in force for one kind of due item.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReminderPolicy {
    pub kind: ReminderKind,
    /// True when this is the product's default (the tenant stored none for this kind).
    pub is_default: bool,
    pub enabled: bool,
    /// Days before the due date a reminder is sent (0: on the day).
    pub lead_days: Vec<i32>,
    /// Repeat every this many days after the due date while unresolved; null: never.
    pub overdue_every_days: Option<i32>,
    pub channels: Vec<ReminderChannel>,
    pub recipients: ReminderRecipients,
    pub escalation: Option<ReminderEscalation>,
    /// The tenant's time zone and send time (from its reminder settings).
    pub time_zone: String,
    pub send_hour: i32,
    pub send_minute: i32,
}

fn policy_out(p: &rdom::ReminderPolicy, stored: bool) -> Result<ReminderPolicy> {
    let mut lead_days = p.lead_days.clone();
    lead_days.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ReminderPolicy {
        kind: kind_out(p.kind)?,
        is_default: !stored,
        enabled: p.enabled,
        lead_days,
        overdue_every_days: p.overdue_every_days,
        channels: channels_out(&p.channels)?,
        recipients: ReminderRecipients {
            roles: roles_out(&p.recipients.roles)?,
            user_ids: p
                .recipients
                .user_ids
                .iter()
                .map(|u| encode(Kind::User, *u))
                .collect(),
            emails: p.recipients.emails.clone(),
        },
        escalation: p
            .escalation
            .as_ref()
            .map(|e| {
                Ok::<_, async_graphql::Error>(ReminderEscalation {
                    within_days: e.within_days,
                    roles: roles_out(&e.roles)?,
                })
            })
            .transpose()?,
        time_zone: p.time_zone.clone(),
        send_hour: p.send_hour,
        send_minute: p.send_minute,
    })
}

/// A member's daily digest: their e-mail reminders held and sent together once a day.
#[derive(Debug, Clone, SimpleObject)]
pub struct DigestPreference {
    pub enabled: bool,
    pub send_hour: i32,
    pub send_minute: i32,
    /// The member's own IANA zone; null: the tenant's.
    pub time_zone: Option<String>,
    pub channels: Vec<ReminderChannel>,
    /// Nothing is sent on a day with nothing to report.
    pub skip_when_empty: bool,
    /// True while the member has not set one (the default: off).
    pub is_default: bool,
}

fn digest_out(d: &rdom::DigestOption, is_default: bool) -> Result<DigestPreference> {
    Ok(DigestPreference {
        enabled: d.enabled,
        send_hour: d.send_hour,
        send_minute: d.send_minute,
        time_zone: d.time_zone.clone(),
        channels: channels_out(&d.channels)?,
        skip_when_empty: d.skip_when_empty,
        is_default,
    })
}

/// A signing secret of an endpoint, without the secret.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookSecretInfo {
    pub id: ID,
    pub created_at: DateTime<Utc>,
    /// Null for the current secret; a replaced one signs until then (24 h overlap).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A webhook endpoint of the tenant.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookEndpoint {
    pub id: ID,
    pub url: String,
    pub description: String,
    /// The event types sent to it; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it was disabled (`gone`, `failing-too-long`, `manual`); null while enabled.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// Newest first, without the secrets.
    pub secrets: Vec<WebhookSecretInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn endpoint_out(
    tx: &TenantTx,
    m: webhook_endpoint::Model,
) -> Result<WebhookEndpoint, StoreError> {
    let secrets = tx
        .webhook_secret_infos(m.id)
        .await?
        .into_iter()
        .map(|s| WebhookSecretInfo {
            id: encode(Kind::WebhookSecret, s.id),
            created_at: s.created_at,
            expires_at: s.expires_at,
        })
        .collect();
    Ok(WebhookEndpoint {
        id: encode(Kind::WebhookEndpoint, m.id),
        event_types: serde_json::from_str(&m.event_types).unwrap_or_default(),
        url: m.url,
        description: m.description,
        enabled: m.enabled,
        disabled_reason: m.disabled_reason,
        disabled_at: m.disabled_at,
        consecutive_failures: m.consecutive_failures,
        failing_since: m.first_failure_at,
        secrets,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// An in-app notification of the current member.
#[derive(Debug, Clone, SimpleObject)]
pub struct Notification {
    pub id: ID,
    /// What it is about, e.g. `reminder.certificate-expiry`.
    pub topic: String,
    pub title: String,
    pub body: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn notification_out(m: notification::Model) -> Notification {
    Notification {
        id: encode(Kind::Notification, m.id),
        topic: m.topic,
        title: m.title,
        body: m.body,
        subject_type: m.subject_type,
        subject_id: m.subject_id,
        link: m.link,
        created_at: m.created_at,
        read_at: m.read_at,
    }
}

/// A member's calendar feed (its URL, with the token, is shown only when it is created).
#[derive(Debug, Clone, SimpleObject)]
pub struct CalendarFeed {
    pub id: ID,
    pub created_at: DateTime<Utc>,
    /// Set once revoked: the URL no longer works.
    pub revoked_at: Option<DateTime<Utc>>,
}

fn feed_out(m: &calendar_feed::Model) -> CalendarFeed {
    CalendarFeed {
        id: encode(Kind::CalendarFeed, m.id),
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    pub outcome: DeliveryOutcome,
    /// The HTTP status (webhooks) or SMTP reply code, when there was one.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: Option<i32>,
}

fn attempt_out(m: delivery_attempt::Model) -> Result<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        attempted_at: m.attempted_at,
        outcome: DeliveryOutcome::of(&m.outcome)?,
        status_code: m.status_code,
        error: m.error,
        duration_ms: m.duration_ms,
    })
}

/// The reminder a delivery carries.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReminderInfo {
    pub kind: ReminderKind,
    /// The kind of record it is about (e.g. `certificate`) and the record's id.
    pub subject_type: String,
    pub subject_id: String,
    pub due_on: NaiveDate,
    /// Which step: `lead:30`, `overdue:1`, ...
    pub step: String,
    pub send_at: DateTime<Utc>,
}

fn reminder_out(m: reminder::Model) -> Result<ReminderInfo> {
    Ok(ReminderInfo {
        kind: ReminderKind::of(&m.kind)?,
        subject_type: m.subject_type,
        subject_id: m.subject_id.to_string(),
        due_on: m.due_on,
        step: m.lead,
        send_at: m.send_at,
    })
}

/// One delivery of the log: a reminder or event, on one channel, to one target.
#[derive(Debug, Clone, SimpleObject)]
pub struct Delivery {
    pub id: ID,
    pub channel: ReminderChannel,
    /// An e-mail address, a `WebhookEndpoint` id or a `User` id.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The reminder delivered, if it is one (else an event of the tenant).
    pub reminder: Option<ReminderInfo>,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// A delivery with its reminder and attempts, loaded in `tx`.
async fn delivery_out(
    tx: &TenantTx,
    m: delivery::Model,
    with_attempts: bool,
    with_reminder: bool,
) -> Result<Delivery> {
    let attempts = if with_attempts {
        tx.delivery_attempts(m.id)
            .await
            .map_err(StoreErrorExt)?
            .into_iter()
            .map(attempt_out)
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let reminder = match (with_reminder, m.reminder_id) {
        (true, Some(r)) => tx
            .reminder(r)
            .await
            .map_err(StoreErrorExt)?
            .map(reminder_out)
            .transpose()?,
        _ => None,
    };
    let target = match rdom::Channel::parse(&m.channel) {
        Some(rdom::Channel::Webhook) => Uuid::try_parse(&m.target)
            .map(|u| encode(Kind::WebhookEndpoint, u).0)
            .unwrap_or(m.target),
        Some(rdom::Channel::InApp) => Uuid::try_parse(&m.target)
            .map(|u| encode(Kind::User, u).0)
            .unwrap_or(m.target),
        _ => m.target,
    };
    Ok(Delivery {
        id: encode(Kind::Delivery, m.id),
        channel: ReminderChannel::of(&m.channel)?,
        target,
        status: DeliveryStatus::of(&m.status)?,
        attempt_count: m.attempts,
        next_attempt_at: m.next_attempt_at,
        last_attempt_at: m.last_attempt_at,
        last_status_code: m.last_status_code,
        last_error: m.last_error,
        created_at: m.created_at,
        delivered_at: m.delivered_at,
        reminder,
        attempts,
    })
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct RemindersQuery;

#[Object]
impl RemindersQuery {
    /// The tenant's reminder time zone and send time.
    async fn reminder_settings(&self, ctx: &Context<'_>) -> Result<ReminderSettings> {
        let az = authorize(ctx, Operation::ReadReminders)?;
        let tx = tx_of(ctx, &az).await?;
        let row = tx.reminder_settings().await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(settings_out(row))
    }

    /// The policy in force for every kind of due item (all 17, in a fixed order): the tenant's
    /// own, or the default (`isDefault`).
    async fn reminder_policies(&self, ctx: &Context<'_>) -> Result<Vec<ReminderPolicy>> {
        let az = authorize(ctx, Operation::ReadReminders)?;
        let tx = tx_of(ctx, &az).await?;
        let all = tx.reminder_policies().await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        all.iter()
            .map(|(p, stored)| policy_out(p, *stored))
            .collect()
    }

    /// The current member's daily digest (the default, off, until they set one).
    async fn my_digest(&self, ctx: &Context<'_>) -> Result<DigestPreference> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let tx = tx_of(ctx, &az).await?;
        let d = tx.digest_preference(user).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        match d {
            Some(d) => digest_out(&d, false),
            None => digest_out(&rdom::DigestOption::default(), true),
        }
    }

    /// The tenant's webhook endpoints, oldest first, with their secrets listed (never shown).
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let az = authorize(ctx, Operation::ReadReminders)?;
        let tx = tx_of(ctx, &az).await?;
        let mut out = Vec::new();
        for m in tx.webhook_endpoints().await.map_err(StoreErrorExt)? {
            out.push(endpoint_out(&tx, m).await.map_err(StoreErrorExt)?);
        }
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(out)
    }

    /// The current member's in-app notifications, oldest first; only unread ones with
    /// `unreadOnly`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] unread_only: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Notification>> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let req = page_req(first, after, last, before)?;
        let tx = tx_of(ctx, &az).await?;
        let page = tx
            .notifications_page(user, unread_only, &req)
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = page.map(|m| (m.id, notification_out(m)));
        let ids: HashMap<String, Uuid> = page
            .items
            .iter()
            .map(|(id, n)| (n.id.0.clone(), *id))
            .collect();
        Ok(connection(page.map(|(_, n)| n), |n| {
            ids.get(&n.id.0).copied().unwrap_or_default()
        }))
    }

    /// How many of the current member's notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let tx = tx_of(ctx, &az).await?;
        let n = tx
            .unread_notification_count(user)
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(n)
    }

    /// The current member's calendar feeds, revoked ones included (without their URLs).
    async fn calendar_feeds(&self, ctx: &Context<'_>) -> Result<Vec<CalendarFeed>> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let tx = tx_of(ctx, &az).await?;
        let feeds = tx.calendar_feeds(user).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(feeds.iter().map(feed_out).collect())
    }

    /// The delivery log, oldest first: each delivery with its attempts. `status: FAILING`
    /// lists those being retried, `DEAD` the dead-lettered ones (retry them with
    /// `retryDelivery`).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatus>,
        channel: Option<ReminderChannel>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Delivery>> {
        let az = authorize(ctx, Operation::ReadReminders)?;
        let req = page_req(first, after, last, before)?;
        let filter = DeliveryFilter {
            status: status.and_then(|s| StoreDeliveryStatus::parse(s.as_str())),
            channel: channel.and_then(|c| rdom::Channel::parse(c.as_str())),
            reminder_id: None,
            outbox_event_id: None,
        };
        let look = ctx.look_ahead().field("edges").field("node");
        let (with_attempts, with_reminder) = (
            look.field("attempts").exists(),
            look.field("reminder").exists(),
        );
        let tx = tx_of(ctx, &az).await?;
        let page = tx
            .deliveries_page(&filter, &req)
            .await
            .map_err(StoreErrorExt)?;
        let mut items = Vec::with_capacity(page.items.len());
        for m in page.items {
            let id = m.id;
            items.push((
                id,
                delivery_out(&tx, m, with_attempts, with_reminder).await?,
            ));
        }
        tx.commit().await.map_err(StoreErrorExt)?;
        let keys: HashMap<String, Uuid> =
            items.iter().map(|(id, d)| (d.id.0.clone(), *id)).collect();
        let page = Page {
            items: items.into_iter().map(|(_, d)| d).collect(),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(connection(page, |d| {
            keys.get(&d.id.0).copied().unwrap_or_default()
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs and payloads

#[derive(Debug, InputObject)]
pub struct SetReminderSettingsInput {
    /// An IANA time zone name, exactly as the tz database spells it (`America/New_York`).
    pub time_zone: String,
    /// 0 to 23.
    pub send_hour: i32,
    /// 0 to 59.
    #[graphql(default = 0)]
    pub send_minute: i32,
}

#[derive(Debug, SimpleObject)]
pub struct ReminderSettingsPayload {
    pub reminder_settings: Option<ReminderSettings>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ReminderRecipientsInput {
    #[graphql(default)]
    pub roles: Vec<ReminderRecipientRole>,
    /// Members of the tenant (`User` ids).
    #[graphql(default)]
    pub user_ids: Vec<ID>,
    /// External e-mail addresses.
    #[graphql(default)]
    pub emails: Vec<String>,
}

#[derive(Debug, InputObject)]
pub struct ReminderEscalationInput {
    pub within_days: i32,
    pub roles: Vec<ReminderRecipientRole>,
}

#[derive(Debug, InputObject)]
pub struct SetReminderPolicyInput {
    pub kind: ReminderKind,
    #[graphql(default = true)]
    pub enabled: bool,
    /// Days before the due date, each 0 to 730, no duplicates, at most 10.
    pub lead_days: Vec<i32>,
    /// 1 to 90, or null for no overdue reminders.
    pub overdue_every_days: Option<i32>,
    pub channels: Vec<ReminderChannel>,
    pub recipients: ReminderRecipientsInput,
    pub escalation: Option<ReminderEscalationInput>,
}

#[derive(Debug, SimpleObject)]
pub struct ReminderPolicyPayload {
    pub reminder_policy: Option<ReminderPolicy>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ResetReminderPolicyInput {
    pub kind: ReminderKind,
}

#[derive(Debug, InputObject)]
pub struct SetMyDigestInput {
    pub enabled: bool,
    #[graphql(default = 9)]
    pub send_hour: i32,
    #[graphql(default = 0)]
    pub send_minute: i32,
    /// The member's own IANA zone; null: the tenant's.
    pub time_zone: Option<String>,
    /// E-mail and in-app only.
    #[graphql(default_with = "vec![ReminderChannel::Email]")]
    pub channels: Vec<ReminderChannel>,
    #[graphql(default = true)]
    pub skip_when_empty: bool,
}

#[derive(Debug, SimpleObject)]
pub struct DigestPayload {
    pub digest: Option<DigestPreference>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateWebhookEndpointInput {
    /// `https://...`, or `http://` to a loopback host (127.0.0.1, ::1, localhost) for tests.
    pub url: String,
    pub description: Option<String>,
    /// Event types to send; empty (the default): every type.
    #[graphql(default)]
    pub event_types: Vec<String>,
}

#[derive(Debug, InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub id: ID,
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Re-enabling clears the disabled reason and the failure run.
    pub enabled: Option<bool>,
}

#[derive(Debug, InputObject)]
pub struct WebhookEndpointIdInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct WebhookEndpointPayload {
    pub webhook_endpoint: Option<WebhookEndpoint>,
    pub user_errors: Vec<UserError>,
}

/// An endpoint with a new secret: `secret` is shown here once and never again.
#[derive(Debug, SimpleObject)]
pub struct WebhookSecretPayload {
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// The `whsec_...` signing secret. Store it now: it cannot be read again.
    pub secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

impl WebhookSecretPayload {
    /// The payload of a settled mutation that made a secret: both or neither.
    fn settled(out: Option<(WebhookEndpoint, String)>, user_errors: Vec<UserError>) -> Self {
        let (webhook_endpoint, secret) = out.map_or((None, None), |(e, s)| (Some(e), Some(s)));
        Self {
            webhook_endpoint,
            secret,
            user_errors,
        }
    }
}

#[derive(Debug, SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    pub deleted_webhook_endpoint_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications (the member's own; others are ignored)...
    pub ids: Option<Vec<ID>>,
    /// ...or all of them.
    #[graphql(default = false)]
    pub all: bool,
}

#[derive(Debug, SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many went from unread to read.
    pub marked: Option<u64>,
    pub unread_count: Option<u64>,
    pub user_errors: Vec<UserError>,
}

/// A new calendar feed: `url` carries its token and is shown here once.
#[derive(Debug, SimpleObject)]
pub struct CalendarFeedPayload {
    pub calendar_feed: Option<CalendarFeed>,
    /// `/calendar/<token>.ics`, relative to the server's address (the server does not know
    /// its public URL). Store it now: it cannot be read again.
    pub url: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RevokeCalendarFeedInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct RevokeCalendarFeedPayload {
    pub calendar_feed: Option<CalendarFeed>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RetryDeliveryInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct DeliveryPayload {
    pub delivery: Option<Delivery>,
    pub user_errors: Vec<UserError>,
}

// ---------------------------------------------------------------------------------------------
// Checks

/// A webhook URL: `https://` to any host, or `http://` to a loopback host only (local tests);
/// no credentials in it, at most 2,000 characters.
pub(crate) fn check_webhook_url(field: &str, raw: &str) -> Result<String, MutationError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > MAX_URL {
        return Err(invalid(field, format!("must be 1 to {MAX_URL} characters")));
    }
    let u = url::Url::parse(t).map_err(|_| invalid(field, "is not a URL"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(invalid(field, "must not carry credentials"));
    }
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(a)) => a == std::net::Ipv6Addr::LOCALHOST,
        None => return Err(invalid(field, "must name a host")),
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(invalid(
                field,
                "must be an https URL (http only to 127.0.0.1, ::1 or localhost)",
            ));
        }
    }
    if u.fragment().is_some() {
        return Err(invalid(field, "must not have a fragment"));
    }
    Ok(t.to_owned())
}

/// Event type names: 1 to 100 of `a-z 0-9 . _ -`, no duplicates, at most 50.
fn check_event_types(field: &str, types: &[String]) -> Result<Vec<String>, MutationError> {
    if types.len() > MAX_EVENT_TYPES {
        return Err(invalid(
            field,
            format!("at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        let t = t.trim();
        let ok = !t.is_empty()
            && t.len() <= MAX_EVENT_TYPE
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-*".contains(&b));
        if !ok {
            return Err(invalid(
                &format!("{field}.{i}"),
                "an event type is 1 to 100 of a-z, 0-9, '.', '_', '-', '*'",
            ));
        }
        if out.iter().any(|o| o == t) {
            return Err(invalid(&format!("{field}.{i}"), "listed twice"));
        }
        out.push(t.to_owned());
    }
    Ok(out)
}

fn new_secret() -> Result<WebhookSecret, MutationError> {
    let mut bytes = [0u8; grc_domain::webhooks::NEW_SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    WebhookSecret::from_random_bytes(&bytes)
        .map_err(|e| MutationError::Top(crate::errors::internal(&e)))
}

/// The tenant's endpoint `id` (NOT_FOUND for anything else, other tenants' included).
async fn endpoint_of(tx: &TenantTx, id: &ID) -> Result<webhook_endpoint::Model, MutationError> {
    let id = decode_kind(id, Kind::WebhookEndpoint)
        .ok_or_else(|| not_found("webhook endpoint", "id"))?;
    tx.webhook_endpoint(id)
        .await?
        .ok_or_else(|| not_found("webhook endpoint", "id"))
}

fn endpoint_change(m: &webhook_endpoint::Model) -> serde_json::Value {
    json!({ "url": m.url, "description": m.description, "eventTypes": m.event_types,
            "enabled": m.enabled })
}

async fn finish_endpoint(
    ctx: &Context<'_>,
    tx: TenantTx,
    m: webhook_endpoint::Model,
) -> Result<WebhookEndpoint, MutationError> {
    let out = endpoint_out(&tx, m).await?;
    super::mutation::commit(ctx, tx).await?;
    Ok(out)
}

/// The digest option an input describes.
fn digest_of(input: &SetMyDigestInput) -> rdom::DigestOption {
    rdom::DigestOption {
        enabled: input.enabled,
        send_hour: input.send_hour,
        send_minute: input.send_minute,
        time_zone: input
            .time_zone
            .as_deref()
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .map(str::to_owned),
        channels: channels_dom(&input.channels),
        skip_when_empty: input.skip_when_empty,
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct RemindersMutation;

#[Object]
impl RemindersMutation {
    /// Sets the tenant's reminder time zone (an IANA name) and local send time (owners and
    /// compliance managers).
    async fn set_reminder_settings(
        &self,
        ctx: &Context<'_>,
        input: SetReminderSettingsInput,
    ) -> Result<ReminderSettingsPayload> {
        let az = authorize(ctx, Operation::ManageReminders)?;
        let zone = input.time_zone.trim().to_owned();
        let mut errors = Vec::new();
        if let Err(e) = rdom::parse_time_zone(&zone) {
            errors.push(rule_error(&e));
        }
        if !(0..=23).contains(&input.send_hour) {
            errors.push(rule_error(&PolicyError::SendHourOutOfRange {
                hour: input.send_hour,
            }));
        }
        if !(0..=59).contains(&input.send_minute) {
            errors.push(rule_error(&PolicyError::SendMinuteOutOfRange {
                minute: input.send_minute,
            }));
        }
        if !errors.is_empty() {
            return Ok(ReminderSettingsPayload {
                reminder_settings: None,
                user_errors: errors,
            });
        }
        let (reminder_settings, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = tx
                    .put_reminder_settings(
                        &zone,
                        input.send_hour,
                        input.send_minute,
                        &az.actor.to_stored(),
                    )
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "reminder_settings.set",
                    "reminder_settings",
                    az.scope.tenant_id().0,
                    json!({ "timeZone": row.time_zone, "sendHour": row.send_hour,
                            "sendMinute": row.send_minute }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(settings_out(Some(row)))
            }
            .await,
        )?;
        Ok(ReminderSettingsPayload {
            reminder_settings,
            user_errors,
        })
    }

    /// Stores the tenant's policy for one kind of due item. Every rule it breaks comes back as
    /// a user error with the rule's code in `rule` (e.g. `duplicate-lead-time`), and nothing
    /// is stored.
    async fn set_reminder_policy(
        &self,
        ctx: &Context<'_>,
        input: SetReminderPolicyInput,
    ) -> Result<ReminderPolicyPayload> {
        let az = authorize(ctx, Operation::ManageReminders)?;
        let kind = kind_dom(input.kind)?;
        let (reminder_policy, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut user_ids = Vec::with_capacity(input.recipients.user_ids.len());
                for (i, id) in input.recipients.user_ids.iter().enumerate() {
                    let field = format!("recipients.userIds.{i}");
                    let u =
                        decode_kind(id, Kind::User).ok_or_else(|| not_found("member", &field))?;
                    if tx.member(UserId(u)).await?.is_none() {
                        return Err(not_found("member", &field));
                    }
                    user_ids.push(u);
                }
                let settings = tx.reminder_settings().await?;
                let zone = settings.as_ref().map_or("UTC", |s| s.time_zone.as_str());
                let mut p = kind.default_policy(zone);
                if let Some(s) = &settings {
                    p.send_hour = s.send_hour;
                    p.send_minute = s.send_minute;
                }
                p.enabled = input.enabled;
                p.lead_days = input.lead_days.clone();
                p.overdue_every_days = input.overdue_every_days;
                p.channels = channels_dom(&input.channels);
                p.recipients = rdom::Recipients {
                    roles: roles_dom(&input.recipients.roles),
                    user_ids,
                    emails: input
                        .recipients
                        .emails
                        .iter()
                        .map(|e| e.trim().to_owned())
                        .collect(),
                };
                p.escalation = input.escalation.as_ref().map(|e| rdom::Escalation {
                    within_days: e.within_days,
                    roles: roles_dom(&e.roles),
                });
                let problems = p.problems();
                if !problems.is_empty() {
                    return Ok(Err(problems));
                }
                tx.put_reminder_policy(&p, &az.actor.to_stored()).await?;
                let (stored, _) = tx.reminder_policy(kind).await?;
                record(
                    &mut tx,
                    &az,
                    "reminder_policy.set",
                    "reminder_policy",
                    az.scope.tenant_id().0,
                    json!({ "kind": kind.as_str(), "enabled": stored.enabled,
                            "leadDays": stored.lead_days,
                            "overdueEveryDays": stored.overdue_every_days,
                            "channels": stored.channels, "recipients": stored.recipients,
                            "escalation": stored.escalation }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Ok(policy_out(&stored, true)?))
            }
            .await,
        )?;
        match reminder_policy {
            Some(Err(problems)) => Ok(ReminderPolicyPayload {
                reminder_policy: None,
                user_errors: problems.iter().map(rule_error).collect(),
            }),
            Some(Ok(p)) => Ok(ReminderPolicyPayload {
                reminder_policy: Some(p),
                user_errors,
            }),
            None => Ok(ReminderPolicyPayload {
                reminder_policy: None,
                user_errors,
            }),
        }
    }

    /// Goes back to the default policy for a kind (a no-op when the tenant has none stored).
    async fn reset_reminder_policy(
        &self,
        ctx: &Context<'_>,
        input: ResetReminderPolicyInput,
    ) -> Result<ReminderPolicyPayload> {
        let az = authorize(ctx, Operation::ManageReminders)?;
        let kind = kind_dom(input.kind)?;
        let (reminder_policy, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                if tx.reset_reminder_policy(kind).await? {
                    record(
                        &mut tx,
                        &az,
                        "reminder_policy.reset",
                        "reminder_policy",
                        az.scope.tenant_id().0,
                        json!({ "kind": kind.as_str() }),
                    )
                    .await?;
                }
                let (p, stored) = tx.reminder_policy(kind).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(policy_out(&p, stored)?)
            }
            .await,
        )?;
        Ok(ReminderPolicyPayload {
            reminder_policy,
            user_errors,
        })
    }

    /// Sets the current member's daily digest.
    async fn set_my_digest(
        &self,
        ctx: &Context<'_>,
        input: SetMyDigestInput,
    ) -> Result<DigestPayload> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let option = digest_of(&input);
        let problems = option.problems();
        if !problems.is_empty() {
            return Ok(DigestPayload {
                digest: None,
                user_errors: problems.iter().map(rule_error).collect(),
            });
        }
        let (digest, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                tx.put_digest_preference(user, &option).await?;
                record(
                    &mut tx,
                    &az,
                    "digest_preference.set",
                    "digest_preference",
                    user,
                    json!({ "enabled": option.enabled, "sendHour": option.send_hour,
                            "sendMinute": option.send_minute, "timeZone": option.time_zone,
                            "channels": option.channels,
                            "skipWhenEmpty": option.skip_when_empty }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(digest_out(&option, false)?)
            }
            .await,
        )?;
        Ok(DigestPayload {
            digest,
            user_errors,
        })
    }

    /// Adds a webhook endpoint with a new signing secret, returned here once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<WebhookSecretPayload> {
        let az = authorize(ctx, Operation::ManageWebhooks)?;
        let (out, user_errors) = settle(
            async {
                let url = check_webhook_url("url", &input.url)?;
                let description =
                    free_text("description", input.description.as_deref(), MAX_DESCRIPTION)?;
                let event_types = check_event_types("eventTypes", &input.event_types)?;
                let secret = new_secret()?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let now = Utc::now();
                let m = tx
                    .insert_webhook_endpoint(webhook_endpoint::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        url,
                        description,
                        event_types: serde_json::to_string(&event_types)
                            .unwrap_or_else(|_| "[]".into()),
                        enabled: true,
                        disabled_reason: None,
                        disabled_at: None,
                        consecutive_failures: 0,
                        first_failure_at: None,
                        created_by: az.actor.to_stored(),
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                tx.add_webhook_secret(m.id, &secret, now).await?;
                record(
                    &mut tx,
                    &az,
                    "webhook_endpoint.create",
                    "webhook_endpoint",
                    m.id,
                    endpoint_change(&m),
                )
                .await?;
                let e = finish_endpoint(ctx, tx, m).await?;
                Ok((e, secret.to_whsec()))
            }
            .await,
        )?;
        Ok(WebhookSecretPayload::settled(out, user_errors))
    }

    /// Changes an endpoint. Disabling records `manual` as the reason; re-enabling clears the
    /// reason and the failure run.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        let az = authorize(ctx, Operation::ManageWebhooks)?;
        let (webhook_endpoint, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut m = endpoint_of(&tx, &input.id).await?;
                if let Some(u) = &input.url {
                    m.url = check_webhook_url("url", u)?;
                }
                if input.description.is_some() {
                    m.description =
                        free_text("description", input.description.as_deref(), MAX_DESCRIPTION)?;
                }
                if let Some(t) = &input.event_types {
                    let t = check_event_types("eventTypes", t)?;
                    m.event_types = serde_json::to_string(&t).unwrap_or_else(|_| "[]".into());
                }
                let now = Utc::now();
                match input.enabled {
                    Some(true) if !m.enabled => {
                        m.enabled = true;
                        m.disabled_reason = None;
                        m.disabled_at = None;
                        m.consecutive_failures = 0;
                        m.first_failure_at = None;
                    }
                    Some(false) if m.enabled => {
                        m.enabled = false;
                        m.disabled_reason = Some("manual".into());
                        m.disabled_at = Some(now);
                    }
                    _ => {}
                }
                m.updated_at = now;
                let m = tx.update_webhook_endpoint(m).await?;
                record(
                    &mut tx,
                    &az,
                    "webhook_endpoint.update",
                    "webhook_endpoint",
                    m.id,
                    endpoint_change(&m),
                )
                .await?;
                finish_endpoint(ctx, tx, m).await
            }
            .await,
        )?;
        Ok(WebhookEndpointPayload {
            webhook_endpoint,
            user_errors,
        })
    }

    /// Gives an endpoint a new signing secret, returned here once; the one it replaces keeps
    /// signing for 24 hours (receivers accept either meanwhile).
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointIdInput,
    ) -> Result<WebhookSecretPayload> {
        let az = authorize(ctx, Operation::ManageWebhooks)?;
        let (out, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let m = endpoint_of(&tx, &input.id).await?;
                let secret = new_secret()?;
                let info = tx.add_webhook_secret(m.id, &secret, Utc::now()).await?;
                record(
                    &mut tx,
                    &az,
                    "webhook_endpoint.rotate_secret",
                    "webhook_endpoint",
                    m.id,
                    json!({ "secretId": info.id }),
                )
                .await?;
                let e = finish_endpoint(ctx, tx, m).await?;
                Ok((e, secret.to_whsec()))
            }
            .await,
        )?;
        Ok(WebhookSecretPayload::settled(out, user_errors))
    }

    /// Deletes an endpoint and its secrets (its past deliveries stay in the log).
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointIdInput,
    ) -> Result<DeleteWebhookEndpointPayload> {
        let az = authorize(ctx, Operation::ManageWebhooks)?;
        let (deleted_webhook_endpoint_id, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let m = endpoint_of(&tx, &input.id).await?;
                if !tx.delete_webhook_endpoint(m.id).await? {
                    return Err(not_found("webhook endpoint", "id"));
                }
                record(
                    &mut tx,
                    &az,
                    "webhook_endpoint.delete",
                    "webhook_endpoint",
                    m.id,
                    endpoint_change(&m),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::WebhookEndpoint, m.id))
            }
            .await,
        )?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_webhook_endpoint_id,
            user_errors,
        })
    }

    /// Marks the current member's notifications read: those in `ids` (others' ids change
    /// nothing), or `all`.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let (out, user_errors) = settle(
            async {
                let ids =
                    match (&input.ids, input.all) {
                        (Some(_), true) | (None, false) => {
                            return Err(invalid("ids", "give either ids or all: true"));
                        }
                        (None, true) => None,
                        (Some(ids), false) => {
                            if ids.len() > MAX_MARK_IDS {
                                return Err(invalid("ids", format!("at most {MAX_MARK_IDS} ids")));
                            }
                            let mut out = Vec::with_capacity(ids.len());
                            for (i, id) in ids.iter().enumerate() {
                                out.push(decode_kind(id, Kind::Notification).ok_or_else(|| {
                                    not_found("notification", &format!("ids.{i}"))
                                })?);
                            }
                            Some(out)
                        }
                    };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let marked = tx
                    .mark_notifications_read(user, ids.as_deref(), Utc::now())
                    .await?;
                let unread = tx.unread_notification_count(user).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((marked, unread))
            }
            .await,
        )?;
        Ok(MarkNotificationsReadPayload {
            marked: out.map(|o| o.0),
            unread_count: out.map(|o| o.1),
            user_errors,
        })
    }

    /// Creates a calendar feed for the current member; its URL (with the token) is returned
    /// here once.
    async fn create_calendar_feed(&self, ctx: &Context<'_>) -> Result<CalendarFeedPayload> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let (out, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (m, token) = tx.create_calendar_feed(user).await?;
                record(
                    &mut tx,
                    &az,
                    "calendar_feed.create",
                    "calendar_feed",
                    m.id,
                    json!({ "userId": user }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((feed_out(&m), format!("/calendar/{}.ics", token.expose())))
            }
            .await,
        )?;
        let (calendar_feed, url) = out.map_or((None, None), |(f, u)| (Some(f), Some(u)));
        Ok(CalendarFeedPayload {
            calendar_feed,
            url,
            user_errors,
        })
    }

    /// Revokes one of the current member's calendar feeds: its URL stops working.
    async fn revoke_calendar_feed(
        &self,
        ctx: &Context<'_>,
        input: RevokeCalendarFeedInput,
    ) -> Result<RevokeCalendarFeedPayload> {
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let (calendar_feed, user_errors) = settle(
            async {
                let id = decode_kind(&input.id, Kind::CalendarFeed)
                    .ok_or_else(|| not_found("calendar feed", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                // Only one's own feeds: another member's is not found.
                if !tx.calendar_feeds(user).await?.iter().any(|f| f.id == id) {
                    return Err(not_found("calendar feed", "id"));
                }
                let m = tx.revoke_calendar_feed(id).await.map_err(|e| match e {
                    StoreError::Conflict(_) => conflict("id", "the feed is already revoked"),
                    StoreError::NotFound => not_found("calendar feed", "id"),
                    other => other.into(),
                })?;
                record(
                    &mut tx,
                    &az,
                    "calendar_feed.revoke",
                    "calendar_feed",
                    m.id,
                    json!({ "userId": user }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(feed_out(&m))
            }
            .await,
        )?;
        Ok(RevokeCalendarFeedPayload {
            calendar_feed,
            user_errors,
        })
    }

    /// Puts a dead-lettered delivery back in the queue, due now (CONFLICT unless it is dead).
    async fn retry_delivery(
        &self,
        ctx: &Context<'_>,
        input: RetryDeliveryInput,
    ) -> Result<DeliveryPayload> {
        let az = authorize(ctx, Operation::ManageReminders)?;
        let (delivery, user_errors) = settle(
            async {
                let id = decode_kind(&input.id, Kind::Delivery).ok_or_else(|| not_found("delivery", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let Some(d) = tx.delivery(id).await? else {
                    return Err(not_found("delivery", "id"));
                };
                if !tx.retry_dead_delivery(id, Utc::now()).await? {
                    return Err(conflict(
                        "id",
                        format!("the delivery is {}, not dead: only dead deliveries are retried by hand", d.status),
                    ));
                }
                record(
                    &mut tx,
                    &az,
                    "delivery.retry",
                    "delivery",
                    id,
                    json!({ "channel": d.channel, "attempts": d.attempts }),
                )
                .await?;
                let m = tx.delivery(id).await?.ok_or_else(|| not_found("delivery", "id"))?;
                let out = delivery_out(&tx, m, true, true).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(DeliveryPayload {
            delivery,
            user_errors,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Subscription

#[derive(Debug, Default)]
pub struct RemindersSubscription;

#[async_graphql::Subscription]
impl RemindersSubscription {
    /// Each in-app notification to the current member (a reminder, a disabled webhook
    /// endpoint, a share event), as the delivery worker writes it. Every member may subscribe
    /// for themselves (an API key has no inbox); the credential is checked again before each
    /// notification.
    async fn notification_received(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl futures_util::Stream<Item = Result<Notification>> + use<>> {
        use futures_util::StreamExt;
        let az = authorize(ctx, Operation::ManageOwnNotifications)?;
        let user = me(&az)?;
        let scope = az.scope;
        let tenant = scope.tenant_id().0;
        let socket = ctx
            .data_opt::<super::subscription::SocketCredential>()
            .cloned();
        let store = store(ctx).clone();
        let pings = ctx
            .data_unchecked::<crate::events::EventBus>()
            .subscribe_notifications()
            .filter(move |p| std::future::ready(p.tenant_id == tenant && p.user_id == user));
        Ok(futures_util::stream::unfold(
            (Box::pin(pings), socket, store, false),
            move |(mut pings, socket, store, ended)| async move {
                if ended {
                    return None;
                }
                loop {
                    let ping = pings.next().await?;
                    if let Some(s) = &socket
                        && let Err(e) = s
                            .still_permits(Operation::ManageOwnNotifications, tenant)
                            .await
                    {
                        return Some((Err(e), (pings, socket, store, true)));
                    }
                    // The row, read in the member's own tenant transaction.
                    let row = async {
                        let tx = store.tenant_tx(scope).await?;
                        let row = tx.notification_of(user, ping.notification_id).await?;
                        tx.commit().await?;
                        Ok::<_, StoreError>(row)
                    }
                    .await;
                    match row {
                        Ok(Some(n)) => {
                            return Some((Ok(notification_out(n)), (pings, socket, store, false)));
                        }
                        // Gone already, or not this member's: nothing to show.
                        Ok(None) => {}
                        Err(e) => {
                            return Some((
                                Err(StoreErrorExt(e).into()),
                                (pings, socket, store, false),
                            ));
                        }
                    }
                }
            },
        ))
    }
}
