//! In-app notifications (issue 7, "Channels"): one row per in-app delivery
//! (`TenantTx::insert_notification`, unique per delivery, so a retried attempt writes none
//! twice). Pushing it on a live subscription needs a notification stream in the API's event
//! bus (which carries audit records today); until then members see it by querying.

use super::EventMessage;
use chrono::{DateTime, Utc};
use grc_store::entity::reminders::notification;
use uuid::Uuid;

/// The notification of `event` for `user_id`, from delivery `delivery_id` (`None` for the
/// worker's own notices, such as an endpoint disabled).
pub fn notification(
    event: &EventMessage,
    user_id: Uuid,
    delivery_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> notification::Model {
    let r = super::email::render(event);
    notification::Model {
        tenant_id: event.tenant_id,
        id: Uuid::now_v7(),
        user_id,
        delivery_id,
        topic: event.topic.clone(),
        title: r.subject,
        body: r.text,
        subject_type: Some(event.subject_type.clone()),
        subject_id: Some(event.subject_id.clone()),
        link: None,
        created_at: now,
        read_at: None,
    }
}

/// The notice to a tenant's owner that an endpoint was disabled.
pub fn endpoint_disabled(
    tenant_id: Uuid,
    owner: Uuid,
    endpoint_id: Uuid,
    url: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> notification::Model {
    notification::Model {
        tenant_id,
        id: Uuid::now_v7(),
        user_id: owner,
        delivery_id: None,
        topic: "webhook.endpoint_disabled".into(),
        title: format!("Webhook endpoint disabled: {url}"),
        body: format!(
            "The webhook endpoint {url} was disabled ({reason}). Its pending deliveries are \
             dead-lettered; re-enable it and retry them once the receiver is fixed."
        ),
        subject_type: Some("WebhookEndpoint".into()),
        subject_id: Some(endpoint_id.to_string()),
        link: None,
        created_at: now,
        read_at: None,
    }
}
