//! The reminder scheduler (issue 7, "Scheduler"): on each tick, under a lease that one worker
//! replica holds at a time, it finds the reminders due in the window since the last tick and
//! writes each once, with its outbox event, in the tenant's own transaction.
//!
//! One tick:
//!
//! 1. takes (or renews) the lease [`LEASE_NAME`] for [`LEASE_TTL`]; without it, returns (another
//!    replica schedules);
//! 2. per tenant, in one transaction: reads the tenant's settings and policies and its tracked
//!    due items (computed from the live rows, `TenantTx::due_items`); for each item takes the
//!    occurrences whose send instant lies in the window `[from, now)` and applies the domain's
//!    catch-up rule (`reminders::catch_up`: the latest one is sent, older ones are recorded as
//!    skipped); writes the occurrences with `insert_reminders` (unique idempotency keys) and, for
//!    each new reminder to send, one `reminder.due` outbox event (deduplicated on the same key);
//!    retires the unsent reminders of items whose due date moved, which were resolved or which
//!    went away; then checks the lease is still held under its fencing token
//!    (`hold_scheduler_lease`) and commits. A scheduler that lost its lease commits nothing.
//!
//! Tenants are independent (each has its own transaction, writes and fence), so a tick runs
//! [`TickOptions::concurrency`] of them at a time on as many pooled connections. Each costs a
//! constant number of statements whatever its size: the transaction's tenant setting, the
//! settings with the policies, the due items (three: certificates with their history,
//! attestations with the vendor policy, every other source), the unsent reminders, the fence,
//! and, when the window holds occurrences, one batched insert of the reminders and one of their
//! outbox events (plus three statements per (subject, kind) with reminders to retire). The
//! figures are in docs/BENCHMARKS.md ("Reminder scheduler tick").
//!
//! The window starts where the last complete tick ended, whoever ran it: the lease row keeps
//! that instant (`scheduled_until`), moved forward under the fencing token after a tick in which
//! every tenant committed. So a scheduler that was down for a day or a month (or a replica that
//! takes the lease over from one that died) covers exactly the time missed, and the catch-up
//! rule sends the latest missed occurrence of each item. Before the very first tick there is no
//! such instant and the window starts [`FIRST_TICK_LOOKBACK`] back. A tick that fails for one
//! tenant does not move the instant: the next covers the window again, which the idempotency
//! keys make harmless (nothing is written twice).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use grc_domain::ids::TenantId;
use grc_domain::reminders::{
    DueKind, Occurrence, RecipientRole, Schedule, catch_up, parse_time_zone,
};
use grc_store::{PeerEvent, ReminderStatus, Store, StoreError, TenantScope, TenantTx, TrackedDue};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use tracing::Instrument;

/// The lease the scheduler holds.
pub const LEASE_NAME: &str = "scheduler";
/// How long a lease lasts without renewal: well above the tick (30 s) and any clock skew, short
/// enough that a dead replica's successor takes over within minutes.
pub const LEASE_TTL: TimeDelta = TimeDelta::minutes(5);
/// The window of the very first tick (no `scheduled_until` recorded yet): a week back.
pub const FIRST_TICK_LOOKBACK: TimeDelta = TimeDelta::days(7);
/// Unsent reminders sent this long ago or later are compared with the items for retirement:
/// longer than the whole retry schedule (about 3 days 3 hours), so that no delivery that may
/// still be attempted escapes it.
pub const RETIRE_HORIZON: TimeDelta = TimeDelta::days(4);
/// The outbox topic of a reminder to deliver.
pub const TOPIC: &str = "reminder.due";

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Whether this holder had the lease (nothing else happens without it).
    pub leased: bool,
    /// The lease's fencing token, when held.
    pub fencing_token: Option<i64>,
    /// The window's start (its end is the tick's `now`).
    pub from: Option<DateTime<Utc>>,
    /// Tenants whose transaction committed.
    pub tenants: u64,
    /// Tenants whose transaction failed (rolled back; their window is covered again).
    pub failed_tenants: u64,
    /// Tracked due items seen, resolved ones included.
    pub items: u64,
    /// New reminders written to be sent (each with its outbox event).
    pub new_reminders: u64,
    /// New reminders recorded as skipped by the catch-up rule.
    pub skipped: u64,
    /// Occurrences already written (by an earlier tick or another scheduler).
    pub duplicates: u64,
    /// Unsent reminders retired.
    pub retired: u64,
}

impl TickReport {
    /// Whether the window may be advanced: the lease was held and every tenant committed.
    pub fn complete(&self) -> bool {
        self.leased && self.failed_tenants == 0
    }
}

impl TickReport {
    /// Adds a committed tenant's counts.
    fn add_tenant(&mut self, counts: &TickReport) {
        self.tenants += 1;
        self.items += counts.items;
        self.new_reminders += counts.new_reminders;
        self.skipped += counts.skipped;
        self.duplicates += counts.duplicates;
        self.retired += counts.retired;
    }

    /// Adds the counts of another part of the same tick.
    fn merge(&mut self, other: &TickReport) {
        self.tenants += other.tenants;
        self.failed_tenants += other.failed_tenants;
        self.items += other.items;
        self.new_reminders += other.new_reminders;
        self.skipped += other.skipped;
        self.duplicates += other.duplicates;
        self.retired += other.retired;
    }
}

/// The tenants scheduled at once by default (see [`TickOptions::concurrency`]).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How a tick runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickOptions {
    /// How many tenants are scheduled at once, each in its own transaction and so on its own
    /// pooled connection: keep it below the pool's size, so that the rest of the process (the
    /// delivery loop, the API when embedded) still gets connections during a tick. At least
    /// one, at most half the pool's size (so one on SQLite). Which tenant runs when does not
    /// matter: each tenant's writes are its own, and a tick is complete only once all have
    /// committed.
    pub concurrency: usize,
}

impl Default for TickOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Runs one scheduler tick as `holder` at `now`, covering `[from, now)`: `from` is `window_start`
/// when given (tests pick their windows), else the lease's `scheduled_until`, else the
/// first-tick window (see the module doc). A complete tick records `now` as the new
/// `scheduled_until`. An error is returned only when the
/// lease or the tenant list cannot be read, or the lease was lost mid-tick; a tenant's own
/// failure is logged and counted. With the default [`TickOptions`].
pub async fn tick(
    store: &Store,
    holder: &str,
    now: DateTime<Utc>,
    window_start: Option<DateTime<Utc>>,
) -> Result<TickReport, StoreError> {
    tick_with(store, holder, now, window_start, &TickOptions::default()).await
}

/// [`tick`], with `options`. Tenants are scheduled [`TickOptions::concurrency`] at a time; once
/// one finds the lease lost, no further tenant starts, the ones under way fail their own fence
/// and roll back, and the tick returns the error.
#[tracing::instrument(name = "scheduler.tick", skip(store, options), fields(now = %now))]
pub async fn tick_with(
    store: &Store,
    holder: &str,
    now: DateTime<Utc>,
    window_start: Option<DateTime<Utc>>,
    options: &TickOptions,
) -> Result<TickReport, StoreError> {
    let started = Instant::now();
    let mut report = TickReport::default();
    let Some(lease) = store
        .acquire_scheduler_lease(LEASE_NAME, holder, LEASE_TTL, now)
        .await?
    else {
        return Ok(report);
    };
    report.leased = true;
    report.fencing_token = Some(lease.fencing_token);
    let from = match window_start.or(lease.scheduled_until) {
        Some(t) if t < now => t,
        Some(_) => now,
        None => now - FIRST_TICK_LOOKBACK,
    };
    report.from = Some(from);
    let ptx = store.platform_tx().await?;
    let tenants: Arc<Vec<TenantId>> =
        Arc::new(ptx.all_tenants().await?.into_iter().map(|t| t.id).collect());
    ptx.commit().await?;
    let pool = usize::try_from(store.max_connections()).unwrap_or(1).max(1);
    let concurrency = options.concurrency.clamp(1, (pool / 2).max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(tenants.len()) {
        let (store, tenants, next, stop) =
            (store.clone(), tenants.clone(), next.clone(), stop.clone());
        let token = lease.fencing_token;
        workers.spawn(
            async move {
                let mut part = TickReport::default();
                while !stop.load(Ordering::Relaxed) {
                    let Some(&id) = tenants.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    match run_tenant(&store, id, from, now, token, started).await {
                        Ok(counts) => part.add_tenant(&counts),
                        Err(TenantFailure::Tenant(e)) => {
                            tracing::warn!(tenant = %id.0, error = %e, "scheduler: tenant failed; its window is covered again next tick");
                            part.failed_tenants += 1;
                        }
                        Err(TenantFailure::LeaseLost(e)) => {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                }
                Ok(part)
            }
            .instrument(tracing::Span::current()),
        );
    }
    let mut lost = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(part)) => report.merge(&part),
            Ok(Err(e)) => {
                lost.get_or_insert(e);
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => {
                lost.get_or_insert(StoreError::Invalid(format!(
                    "a scheduler task was cancelled: {e}"
                )));
            }
        }
    }
    if let Some(e) = lost {
        // Lost the lease: the new holder covers the window again.
        return Err(e);
    }
    // An explicit window (tests) may leave a gap after `scheduled_until`: the recorded instant
    // moves only after a tick of the recorded window.
    if report.complete() && window_start.is_none() {
        store
            .advance_scheduled_until(LEASE_NAME, lease.fencing_token, now)
            .await?;
    }
    tracing::info!(
        tenants = report.tenants,
        failed = report.failed_tenants,
        items = report.items,
        new = report.new_reminders,
        skipped = report.skipped,
        duplicates = report.duplicates,
        retired = report.retired,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "scheduler tick"
    );
    Ok(report)
}

/// Why a tenant's part of a tick did not commit.
enum TenantFailure {
    /// The tenant's own failure: counted, and its window covered again next tick.
    Tenant(StoreError),
    /// The lease is no longer held: the whole tick stops.
    LeaseLost(StoreError),
}

/// One tenant's part of a tick, in its own transaction: its counts once committed.
async fn run_tenant(
    store: &Store,
    id: TenantId,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    fencing_token: i64,
    started: Instant,
) -> Result<TickReport, TenantFailure> {
    let mut tx = store
        .tenant_tx(TenantScope::new(id))
        .await
        .map_err(TenantFailure::Tenant)?;
    let mut counts = TickReport::default();
    if let Err(e) = schedule_tenant(&mut tx, from, now, &mut counts).await {
        let _ = tx.rollback().await;
        return Err(TenantFailure::Tenant(e));
    }
    // The fence, just before committing: the clock of the caller, moved on by the time the
    // tick has taken, so that a tick paused past its lease cannot commit.
    let fence_at = now + TimeDelta::from_std(started.elapsed()).unwrap_or(TimeDelta::zero());
    if let Err(e) = tx
        .hold_scheduler_lease(LEASE_NAME, fencing_token, fence_at)
        .await
    {
        let _ = tx.rollback().await;
        return Err(TenantFailure::LeaseLost(e));
    }
    tx.commit().await.map_err(TenantFailure::Tenant)?;
    Ok(counts)
}

/// The tenant's part of a tick, in its transaction (see the module doc).
async fn schedule_tenant(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    counts: &mut TickReport,
) -> Result<(), StoreError> {
    let tenant_id = tx.scope().tenant_id().0;
    let policies = tx.reminder_policies().await?;
    // Every policy carries the tenant's zone (its settings', `UTC` without them).
    let zone = policies
        .first()
        .map_or("UTC", |(p, _)| p.time_zone.as_str());
    let tz = parse_time_zone(zone).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let today = now.with_timezone(&tz).date_naive();
    let mut schedules: HashMap<DueKind, Schedule> = HashMap::new();
    for (policy, _) in &policies {
        match policy.check() {
            Ok(s) => {
                schedules.insert(policy.kind, s);
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant_id, kind = policy.kind.as_str(), error = %e, "scheduler: stored policy fails its checks; kind not scheduled");
            }
        }
    }
    let items = tx.due_items(today).await?;
    counts.items = items.len() as u64;
    // The due dates each (subject, kind) has now, unresolved items only; and the occurrences
    // to write (item, occurrence, status), written together below.
    let mut current: HashMap<(&str, uuid::Uuid, &str), Vec<NaiveDate>> = HashMap::new();
    let mut writes: Vec<(&TrackedDue, Occurrence, ReminderStatus)> = Vec::new();
    for item in &items {
        if !item.resolved {
            current
                .entry((item.subject_type, item.subject_id, item.kind.as_str()))
                .or_default()
                .push(item.due_on);
        }
        let Some(schedule) = schedules.get(&item.kind) else {
            continue;
        };
        let caught = catch_up(&item.item(tenant_id), schedule, from, now);
        for o in caught.skipped {
            writes.push((item, o, ReminderStatus::Skipped));
        }
        if let Some(o) = caught.send {
            writes.push((item, o, ReminderStatus::Queued));
        }
    }
    let rows: Vec<_> = writes
        .iter()
        .map(|(item, o, status)| (o, item.subject_type, *status))
        .collect();
    let new = tx.insert_reminders(&rows).await?;
    let mut events = Vec::new();
    for ((item, o, status), new) in writes.iter().zip(new) {
        match (status, new) {
            (_, false) => counts.duplicates += 1,
            (ReminderStatus::Skipped, true) => counts.skipped += 1,
            (_, true) => {
                if let Some(schedule) = schedules.get(&item.kind) {
                    events.push(event(tenant_id, item, o, schedule));
                }
                counts.new_reminders += 1;
            }
        }
    }
    if !events.is_empty() {
        tx.queue_events(events).await?;
    }
    // Retirement: unsent reminders whose (subject, kind) has no unresolved item with their due
    // date any more.
    let mut stale: BTreeMap<(String, uuid::Uuid, String), ()> = BTreeMap::new();
    for r in tx.unsent_reminders(now - RETIRE_HORIZON).await? {
        let key = (r.subject_type.as_str(), r.subject_id, r.kind.as_str());
        if !current.get(&key).is_some_and(|d| d.contains(&r.due_on)) {
            stale.insert((r.subject_type, r.subject_id, r.kind), ());
        }
    }
    for (subject_type, subject_id, kind) in stale.into_keys() {
        let Some(kind) = DueKind::parse(&kind) else {
            continue;
        };
        let dates = current
            .get(&(subject_type.as_str(), subject_id, kind.as_str()))
            .cloned()
            .unwrap_or_default();
        let (keep, reason) = match dates.as_slice() {
            [] => (None, "the item was resolved or went away".to_owned()),
            [d] => (Some(*d), format!("the due date moved to {d}")),
            _ => {
                // Two current dates for one subject and kind (an overdue and a current annual
                // surveillance): retiring "every date but one" would retire a current one.
                tracing::debug!(tenant = %tenant_id, subject = %subject_id, kind = kind.as_str(), "scheduler: several due dates; stale reminders left");
                continue;
            }
        };
        counts.retired += tx
            .retire_pending_reminders(&subject_type, subject_id, kind, keep, &reason)
            .await?;
    }
    Ok(())
}

/// The `reminder.due` outbox event of a new reminder: what the delivery side needs to fan it
/// out (channels and recipients from the policy, the item's owner when the policy names the
/// subject's owner), deduplicated on the reminder's idempotency key.
fn event(
    tenant_id: uuid::Uuid,
    item: &TrackedDue,
    o: &Occurrence,
    schedule: &Schedule,
) -> PeerEvent {
    let roles = schedule.recipient_roles(o);
    let owner = roles
        .contains(&RecipientRole::SubjectOwner)
        .then_some(item.owner_id)
        .flatten();
    let recipients = schedule.recipients();
    PeerEvent {
        topic: TOPIC.to_owned(),
        subject_type: item.subject_type.to_owned(),
        subject_id: item.subject_id.to_string(),
        payload: json!({
            "tenantId": tenant_id,
            "reminderId": o.idempotency_uuid(),
            "idempotencyKey": o.idempotency_key(),
            "subjectType": item.subject_type,
            "subjectId": item.subject_id,
            "kind": item.kind.as_str(),
            "dueOn": o.due_on,
            "lead": o.step.key(),
            "daysUntilDue": o.days_until_due(),
            "sendAt": o.send_at,
            "localDate": o.local_date,
            "escalated": o.escalated,
            "title": item.title,
            "channels": schedule.channels(),
            // The tick's trace context: each delivery attempt's span links to it.
            "traceparent": crate::trace::current_traceparent(),
            "recipients": {
                "roles": roles,
                "subjectOwnerId": owner,
                "userIds": recipients.user_ids,
                "emails": recipients.emails,
            },
        }),
        dedupe_key: o.idempotency_key(),
    }
}
