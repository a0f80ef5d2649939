//! Live events for subscriptions: committed audit events, fanned out in-process. With Redis
//! configured, events also travel over Redis pub/sub so that every API replica sees every
//! other replica's commits. Next to them, notification pings (a new in-app notification was
//! written by the delivery worker: in this process when embedded, else from `grc worker`
//! through Redis).

use futures_util::{Stream, StreamExt};
use grc_domain::audit::AuditRecord;
use grc_store::NotificationPing;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// The in-process fan-out of committed events.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<AuditRecord>>,
    pings: broadcast::Sender<NotificationPing>,
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
        let (pings, _) = broadcast::channel(1024);
        Self { tx, pings, redis }
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

    /// Hands a notification ping to this process's `notificationReceived` subscribers (the
    /// embedded worker's hook, and the Redis forwarder).
    pub fn notify(&self, ping: NotificationPing) {
        let _ = self.pings.send(ping);
    }

    /// Every notification ping from now on (lagging subscribers skip, as for events).
    pub fn subscribe_notifications(&self) -> impl Stream<Item = NotificationPing> + use<> {
        BroadcastStream::new(self.pings.subscribe()).filter_map(|r| std::future::ready(r.ok()))
    }

    /// Every event from now on. A subscriber that falls more than 1024 events behind skips
    /// the ones it missed (subscriptions are live views; the audit trail is the record).
    pub fn subscribe(&self) -> impl Stream<Item = Arc<AuditRecord>> + use<> {
        BroadcastStream::new(self.tx.subscribe()).filter_map(|r| std::future::ready(r.ok()))
    }
}
