//! The delivery channels (issue 7, "Channels"): e-mail over SMTP, signed Standard Webhooks
//! calls, and in-app notifications. Each turns one outbox event into what its channel sends;
//! the delivery loop ([`crate::deliver`]) records the attempt.

pub mod email;
pub mod in_app;
pub mod webhook;

use chrono::{DateTime, Utc};
use grc_domain::webhooks::DeliveryOutcome;
use grc_store::entity::sharing::outbox_event;
use uuid::Uuid;

/// An outbox event as the channels read it.
#[derive(Debug, Clone)]
pub struct EventMessage {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub topic: String,
    pub subject_type: String,
    pub subject_id: String,
    /// The event's own key, unique in the tenant (for a reminder, its idempotency key).
    pub dedupe_key: String,
    pub created_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

impl EventMessage {
    /// Reads a stored outbox row; a payload that is not JSON is carried as a string.
    pub fn from_row(row: &outbox_event::Model) -> Self {
        let payload = serde_json::from_str(&row.payload)
            .unwrap_or_else(|_| serde_json::Value::String(row.payload.clone()));
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            topic: row.topic.clone(),
            subject_type: row.subject_type.clone(),
            subject_id: row.subject_id.clone(),
            dedupe_key: row.dedupe_key.clone(),
            created_at: row.created_at,
            payload,
        }
    }

    /// A text field of the payload.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.payload.get(name).and_then(serde_json::Value::as_str)
    }

    /// The event's headline: the payload's `title`, else the topic and subject.
    pub fn title(&self) -> String {
        match self.field("title") {
            Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => format!("{} ({} {})", self.topic, self.subject_type, self.subject_id),
        }
    }

    /// The due date of a reminder (`dueOn`, or `dueDate`), as written.
    pub fn due_on(&self) -> Option<&str> {
        self.field("dueOn").or_else(|| self.field("dueDate"))
    }
}

/// What one attempt on a channel came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelResult {
    pub outcome: DeliveryOutcome,
    /// The HTTP status, or the SMTP reply code of a refusal.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// A receiver's `Retry-After`, in seconds (webhooks only).
    pub retry_after_seconds: Option<i64>,
}

impl ChannelResult {
    pub fn delivered(status_code: Option<i32>) -> Self {
        Self {
            outcome: DeliveryOutcome::Delivered,
            status_code,
            error: None,
            retry_after_seconds: None,
        }
    }

    pub fn failed(outcome: DeliveryOutcome, status_code: Option<i32>, error: String) -> Self {
        Self {
            outcome,
            status_code,
            error: Some(error),
            retry_after_seconds: None,
        }
    }
}
