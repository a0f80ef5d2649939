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
        title: clip(&r.subject, MAX_TITLE),
        body: clip(&r.text, MAX_BODY),
        subject_type: Some(event.subject_type.clone()),
        subject_id: Some(event.subject_id.clone()),
        link: None,
        created_at: now,
        read_at: None,
    }
}

/// The longest title and body the table holds (migration m0010), in characters.
pub const MAX_TITLE: usize = 300;
pub const MAX_BODY: usize = 5000;

/// `s` cut to at most `max` characters (an ellipsis marks a cut), never mid-character: a
/// notification that does not fit must not make its delivery's record fail.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
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
        title: clip(&format!("Webhook endpoint disabled: {url}"), MAX_TITLE),
        body: clip(
            &format!(
                "The webhook endpoint {url} was disabled ({reason}). Its pending deliveries are \
                 dead-lettered; re-enable it and retry them once the receiver is fixed."
            ),
            MAX_BODY,
        ),
        subject_type: Some("WebhookEndpoint".into()),
        subject_id: Some(endpoint_id.to_string()),
        link: None,
        created_at: now,
        read_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_to_the_table() {
        let url = format!("https://hooks.example/{}", "é".repeat(3000));
        let n = endpoint_disabled(
            Uuid::nil(),
            Uuid::nil(),
            Uuid::nil(),
            &url,
            "gone",
            Utc::now(),
        );
        assert_eq!(n.title.chars().count(), MAX_TITLE);
        assert!(n.title.ends_with('…'));
        assert!(n.body.chars().count() <= MAX_BODY);
        assert_eq!(clip("short", MAX_TITLE), "short");
        // Exactly at the limit: unchanged.
        let at = "x".repeat(MAX_TITLE);
        assert_eq!(clip(&at, MAX_TITLE), at);
    }
}
