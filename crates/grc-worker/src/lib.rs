//! The notification worker: it connects to the store and runs its tick loop until a shutdown
//! signal. Each tick runs the reminder scheduler ([`scheduler::tick`]) under its lease. Next to
//! it runs the delivery side: [`run_embedded`] (fed from the database outbox, no Redis) or
//! [`queue::run_streams`] (the Redis Streams queue).

pub mod scheduler;

pub mod channels;
pub mod deliver;
pub mod metrics;
pub mod queue;
pub mod trace;

pub use deliver::{DeliveryConfig, NotifyHook, RetryPolicy, run_embedded, run_embedded_with};
pub use metrics::WorkerMetrics;
pub use queue::{RedisNotifier, StreamConfig, run_streams};

use grc_store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// How often the worker wakes up.
pub const TICK: Duration = Duration::from_secs(30);

/// Runs the worker loop until `shutdown` turns true. Returns the number of ticks run.
pub async fn run(
    store: Store,
    metrics: std::sync::Arc<WorkerMetrics>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    store.ping().await?;
    tracing::info!("worker started");
    let holder = format!(
        "worker-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    );
    let mut ticks = 0u64;
    let mut interval = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                ticks += 1;
                let now = chrono::Utc::now();
                // The window starts where the last complete tick ended (kept on the lease).
                let started = std::time::Instant::now();
                match scheduler::tick(&store, &holder, now, None).await {
                    Ok(r) if r.leased => {
                        metrics.tick(started.elapsed().as_secs_f64(), r.new_reminders);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "worker: scheduler tick failed"),
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    tracing::info!(ticks, "worker stopping");
                    // Hand the lease over at once rather than at its expiry.
                    if let Err(e) = store
                        .release_scheduler_lease(scheduler::LEASE_NAME, &holder, chrono::Utc::now())
                        .await
                    {
                        tracing::warn!(error = %e, "worker: could not release the scheduler lease");
                    }
                    return Ok(ticks);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_until_told_to_stop() {
        let store = Store::connect("sqlite::memory:", &grc_store::StoreOptions::default())
            .await
            .expect("in-memory database");
        let (tx, rx) = watch::channel(false);
        let worker = tokio::spawn(run(store, Default::default(), rx));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!worker.is_finished(), "the worker stopped on its own");
        tx.send(true).expect("worker listening");
        let ticks = tokio::time::timeout(Duration::from_secs(5), worker)
            .await
            .expect("stops promptly")
            .expect("no panic")
            .expect("no error");
        // The interval's first tick is immediate.
        assert_eq!(ticks, 1);
    }
}
