//! Webhooks (issue 7, "Channels"): a POST of the typed JSON event body with the Standard
//! Webhooks headers. `webhook-id` is the event's own key, the same on every retry and for every
//! endpoint, so a receiver deduplicates on it; `webhook-timestamp` is the attempt's time;
//! `webhook-signature` carries one signature per active secret (`webhooks::signature_header`).
//! A 2xx is delivered; the rest is classified by `webhooks::classify` (410 disables the
//! endpoint). Redirects are not followed (the spec: update the URL instead).

use super::{ChannelResult, EventMessage};
use chrono::{DateTime, SecondsFormat, Utc};
use grc_domain::webhooks::{
    AttemptResult, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret, check_message_id,
    classify, signature_header,
};
use std::time::Duration;

/// The request timeout of a webhook call (issue 7: "a timeout").
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The one HTTP client the worker shares: `timeout` per request, no redirects.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("grc-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The `webhook-id` of an event: its key when that is a valid message id (a reminder's
/// `rem:...` key, a share event's `{grant}:{change}`), else `evt_{outbox id}`. Stable: derived
/// from the stored event only.
pub fn message_id(event: &EventMessage) -> String {
    if check_message_id(&event.dedupe_key).is_ok() {
        event.dedupe_key.clone()
    } else {
        format!("evt_{}", event.id.simple())
    }
}

/// The typed body: `{"type": topic, "timestamp": the event's creation (RFC 3339), "data":
/// payload}`. The same bytes on every retry.
pub fn body(event: &EventMessage) -> Vec<u8> {
    // The trace context is ours (it links the scheduler's span to the attempts), not the
    // receiver's.
    let mut data = event.payload.clone();
    if let Some(m) = data.as_object_mut() {
        m.remove("traceparent");
    }
    let v = serde_json::json!({
        "type": event.topic,
        "timestamp": event.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    });
    v.to_string().into_bytes()
}

/// Sends one signed call to `url` at `now` and classifies the answer.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    secrets: &[WebhookSecret],
    msg_id: &str,
    body: Vec<u8>,
    now: DateTime<Utc>,
) -> ChannelResult {
    let timestamp = now.timestamp();
    let signature = match signature_header(secrets, msg_id, timestamp, &body) {
        Ok(s) => s,
        Err(e) => {
            return ChannelResult::failed(
                grc_domain::webhooks::DeliveryOutcome::Failed,
                None,
                format!("cannot sign: {} ({})", e, e.code()),
            );
        }
    };
    let response = client
        .post(url)
        .header(HEADER_ID, msg_id)
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            let outcome = classify(AttemptResult::Response { status });
            if outcome.is_failure() {
                let retry_after = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                let text = r.text().await.unwrap_or_default();
                let snippet: String = text.chars().take(200).collect();
                ChannelResult {
                    retry_after_seconds: retry_after,
                    ..ChannelResult::failed(
                        outcome,
                        Some(i32::from(status)),
                        format!("HTTP {status}: {snippet}"),
                    )
                }
            } else {
                ChannelResult::delivered(Some(i32::from(status)))
            }
        }
        Err(e) => {
            let result = if e.is_timeout() {
                AttemptResult::Timeout
            } else {
                AttemptResult::ConnectionError
            };
            ChannelResult::failed(classify(result), None, e.to_string())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(key: &str) -> EventMessage {
        EventMessage {
            id: Uuid::from_u128(7),
            tenant_id: Uuid::nil(),
            topic: "share.revoked".into(),
            subject_type: "ShareGrant".into(),
            subject_id: "g".into(),
            dedupe_key: key.into(),
            created_at: DateTime::UNIX_EPOCH,
            payload: serde_json::json!({"title": "t"}),
        }
    }

    #[test]
    fn message_id_is_the_key_unless_the_key_holds_a_full_stop() {
        assert_eq!(message_id(&event("g-1:revoked")), "g-1:revoked");
        // webhooks.rs `check_message_id` refuses a `.`: the outbox id stands in.
        assert_eq!(
            message_id(&event("a.b")),
            "evt_00000000000000000000000000000007"
        );
    }

    #[test]
    fn body_is_the_typed_event() {
        let v: serde_json::Value = serde_json::from_slice(&body(&event("k"))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "share.revoked",
                "timestamp": "1970-01-01T00:00:00.000000Z",
                "data": {"title": "t"},
            })
        );
    }
}
