//! The worker's Prometheus metrics (issue 7, "Operations"): deliveries and failures by channel,
//! the queue's depth and lag, the stream's figures, and the scheduler's ticks. Registered into
//! the `/metrics` registry of the process that runs the worker: `grc serve` (embedded) or
//! `grc worker` (its own listener).

use crate::queue::StreamStats;
use chrono::Utc;
use grc_store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    channel: String,
    /// `webhooks::DeliveryOutcome` as text: `delivered`, `failed`, `gone`, ...
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

/// The worker's metrics (cheap to clone: every metric is shared).
#[derive(Debug, Clone)]
pub struct WorkerMetrics {
    attempts: Family<AttemptLabels, Counter>,
    failures: Family<ChannelLabels, Counter>,
    dead: Family<ChannelLabels, Counter>,
    attempt_seconds: Family<ChannelLabels, Histogram, fn() -> Histogram>,
    queue_depth: Gauge,
    queue_lag_seconds: Gauge<f64, AtomicU64>,
    stream_length: Gauge,
    stream_pending: Gauge,
    stream_lag: Gauge,
    claimed: Counter,
    ticks: Counter,
    tick_seconds: Histogram,
    reminders: Counter,
}

fn attempt_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self {
            attempts: Family::default(),
            failures: Family::default(),
            dead: Family::default(),
            attempt_seconds: Family::new_with_constructor(attempt_histogram as fn() -> Histogram),
            queue_depth: Gauge::default(),
            queue_lag_seconds: Gauge::default(),
            stream_length: Gauge::default(),
            stream_pending: Gauge::default(),
            stream_lag: Gauge::default(),
            claimed: Counter::default(),
            ticks: Counter::default(),
            tick_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 12)),
            reminders: Counter::default(),
        }
    }
}

impl WorkerMetrics {
    /// Registers every metric into `registry` (whose prefix, `grc`, they take).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "delivery_attempts",
            "Delivery attempts by channel and outcome",
            self.attempts.clone(),
        );
        registry.register(
            "delivery_failures",
            "Failed delivery attempts by channel",
            self.failures.clone(),
        );
        registry.register(
            "deliveries_dead_lettered",
            "Deliveries dead-lettered by channel",
            self.dead.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "Time to send one delivery attempt, by channel",
            self.attempt_seconds.clone(),
        );
        registry.register(
            "delivery_queue_depth",
            "Deliveries due now and not yet attempted (all tenants)",
            self.queue_depth.clone(),
        );
        registry.register(
            "delivery_queue_lag_seconds",
            "Age of the oldest due delivery",
            self.queue_lag_seconds.clone(),
        );
        registry.register(
            "delivery_stream_length",
            "Entries in the Redis delivery stream",
            self.stream_length.clone(),
        );
        registry.register(
            "delivery_stream_pending",
            "Stream entries handed to a consumer and not acknowledged",
            self.stream_pending.clone(),
        );
        registry.register(
            "delivery_stream_lag",
            "Stream entries not yet read by the consumer group",
            self.stream_lag.clone(),
        );
        registry.register(
            "delivery_stream_claimed",
            "Stream entries claimed from consumers that stopped acknowledging",
            self.claimed.clone(),
        );
        registry.register(
            "scheduler_ticks",
            "Scheduler ticks run under the lease",
            self.ticks.clone(),
        );
        registry.register(
            "scheduler_tick_duration_seconds",
            "Duration of a scheduler tick",
            self.tick_seconds.clone(),
        );
        registry.register(
            "reminders_scheduled",
            "Reminders written to be sent",
            self.reminders.clone(),
        );
    }

    /// One attempt on `channel` with `outcome`, taking `seconds`; `dead` when it dead-lettered
    /// the delivery.
    pub fn attempt(&self, channel: &str, outcome: &str, seconds: f64, dead: bool) {
        let channel = channel.to_owned();
        self.attempts
            .get_or_create(&AttemptLabels {
                channel: channel.clone(),
                outcome: outcome.to_owned(),
            })
            .inc();
        let labels = ChannelLabels { channel };
        if outcome != "delivered" {
            self.failures.get_or_create(&labels).inc();
        }
        if dead {
            self.dead.get_or_create(&labels).inc();
        }
        self.attempt_seconds.get_or_create(&labels).observe(seconds);
    }

    pub fn claimed(&self, n: usize) {
        self.claimed.inc_by(n as u64);
    }

    pub fn tick(&self, seconds: f64, new_reminders: u64) {
        self.ticks.inc();
        self.tick_seconds.observe(seconds);
        self.reminders.inc_by(new_reminders);
    }

    pub fn stream(&self, s: StreamStats) {
        self.stream_length
            .set(i64::try_from(s.length).unwrap_or(i64::MAX));
        self.stream_pending
            .set(i64::try_from(s.pending).unwrap_or(i64::MAX));
        self.stream_lag
            .set(i64::try_from(s.lag).unwrap_or(i64::MAX));
    }

    /// Reads the queue's depth and lag from the database (`Store::delivery_backlog`).
    pub async fn refresh_backlog(&self, store: &Store) {
        let now = Utc::now();
        match store.delivery_backlog(now).await {
            Ok((waiting, oldest)) => {
                self.queue_depth
                    .set(i64::try_from(waiting).unwrap_or(i64::MAX));
                let lag =
                    oldest.map_or(0.0, |o| (now - o).num_milliseconds().max(0) as f64 / 1000.0);
                self.queue_lag_seconds.set(lag);
            }
            Err(e) => tracing::debug!(error = %e, "metrics: backlog not read"),
        }
    }
}
