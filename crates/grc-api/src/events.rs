//! Live events for subscriptions: committed audit events, fanned out in-process. With Redis
//! configured, events also travel over Redis pub/sub so that every API replica sees every
//! other replica's commits.

use futures_util::{Stream, StreamExt};
use grc_domain::audit::AuditRecord;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// The in-process fan-out of committed events.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<AuditRecord>>,
    redis: Option<crate::redis_support::RedisEvents>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(None)
    }
}

impl EventBus {
    pub fn new(redis: Option<crate::redis_support::RedisEvents>) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx, redis }
    }

    /// Publishes a committed event: through Redis when configured (every replica, this one
    /// included, receives it from there), else in-process.
    pub async fn publish(&self, event: AuditRecord) {
        match &self.redis {
            Some(r) => r.publish(&event).await,
            None => self.deliver(Arc::new(event)),
        }
    }

    /// Hands an event to this process's subscribers.
    pub(crate) fn deliver(&self, event: Arc<AuditRecord>) {
        // No subscribers is not an error.
        let _ = self.tx.send(event);
    }

    /// Every event from now on. A subscriber that falls more than 1024 events behind skips
    /// the ones it missed (subscriptions are live views; the audit trail is the record).
    pub fn subscribe(&self) -> impl Stream<Item = Arc<AuditRecord>> + use<> {
        BroadcastStream::new(self.tx.subscribe()).filter_map(|r| std::future::ready(r.ok()))
    }
}
