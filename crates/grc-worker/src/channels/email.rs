//! E-mail over SMTP (issue 7, "Channels"), with `lettre` (docs/adr/0016-lettre-smtp.md).
//!
//! The relay is `GRC_SMTP_URL`, parsed by `lettre`'s `AsyncSmtpTransport::from_url`:
//! `smtp://host:port` (plain, for a local sink), `smtps://user:pass@host:465` (TLS),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS required) or `?tls=opportunistic`. The
//! sender is `GRC_SMTP_FROM`. Each message is `multipart/alternative` (plain text, then HTML,
//! both from the templates below), and its `Message-ID` is derived from the delivery id, so a
//! re-sent message (a retry after a lost reply) carries the same id and mail clients and
//! receivers can tell it is the same message.
//!
//! A `List-Unsubscribe` header belongs on digests only (issue 7); digests are not built yet,
//! so no message here carries one (docs/adr/0016-lettre-smtp.md, "Digests").

use super::{ChannelResult, EventMessage};
use grc_domain::webhooks::DeliveryOutcome;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use uuid::Uuid;

/// The default sender when `GRC_SMTP_FROM` is unset.
pub const DEFAULT_FROM: &str = "grc <noreply@localhost>";

/// How long one SMTP exchange may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A configured SMTP relay and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the sender is shown.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// A relay URL or sender refused.
#[derive(Debug)]
pub enum MailerError {
    Url(String),
    From(String),
}

impl std::fmt::Display for MailerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(e) => write!(f, "GRC_SMTP_URL: {e}"),
            Self::From(e) => write!(f, "GRC_SMTP_FROM: {e}"),
        }
    }
}

impl std::error::Error for MailerError {}

impl Mailer {
    /// A mailer for the relay at `url` sending as `from` (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::Url(e.to_string()))?
            .timeout(Some(TIMEOUT))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailerError::From(e.to_string()))?;
        Ok(Self { transport, from })
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Builds the message of delivery `delivery_id` of `event` to `to`.
    pub fn message(
        &self,
        event: &EventMessage,
        delivery_id: Uuid,
        to: &str,
    ) -> Result<Message, String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| format!("recipient {to:?}: {e}"))?;
        let r = render(event);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(r.subject)
            .message_id(Some(message_id(delivery_id, &self.from)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(r.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(r.html),
                    ),
            )
            .map_err(|e| e.to_string())
    }

    /// Sends one message and classifies the result: a refusal with a reply code (4xx
    /// transient, 5xx permanent: both retried on the schedule, the code recorded), a timeout,
    /// or no connection.
    pub async fn send(&self, message: Message) -> ChannelResult {
        match self.transport.send(message).await {
            Ok(reply) => ChannelResult::delivered(Some(i32::from(u16::from(reply.code())))),
            Err(e) => {
                let code = e.status().map(|c| i32::from(u16::from(c)));
                let outcome = if e.is_timeout() {
                    DeliveryOutcome::TimedOut
                } else if code.is_some() {
                    DeliveryOutcome::Failed
                } else {
                    DeliveryOutcome::ConnectionFailed
                };
                ChannelResult::failed(outcome, code, e.to_string())
            }
        }
    }
}

/// `<delivery-{id}@{sender's domain}>`: the same for every attempt of one delivery.
pub fn message_id(delivery_id: Uuid, from: &Mailbox) -> String {
    format!("<delivery-{}@{}>", delivery_id, from.email.domain())
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders an event: the subject is the title and, for a reminder, its due date; the body
/// names the subject and, for a reminder, the days left.
pub fn render(event: &EventMessage) -> Rendered {
    let title = one_line(&event.title());
    let due = event.due_on().map(one_line);
    // A reminder's kind in words ("BAA review due"); an unknown kind keeps the plain form.
    let phrase = event
        .field("kind")
        .and_then(grc_domain::reminders::DueKind::parse)
        .map(grc_domain::reminders::DueKind::phrase);
    let subject = match (&due, phrase) {
        (Some(d), Some(p)) => format!("{title}: {p} on {d}"),
        (Some(d), None) => format!("{title} (due {d})"),
        (None, _) => title.clone(),
    };
    let mut lines = vec![title.clone(), String::new()];
    if let (Some(d), Some(p)) = (&due, phrase) {
        lines.push(format!("{}{} on {d}", p[..1].to_uppercase(), &p[1..]));
    } else if let Some(d) = &due {
        lines.push(format!("Due date: {d}"));
    }
    // The scheduler's `daysUntilDue` (negative once overdue); `leadDays` from older events.
    let days = ["daysUntilDue", "leadDays"]
        .iter()
        .find_map(|k| event.payload.get(*k).and_then(|v| v.as_i64()));
    match days {
        Some(days) if days >= 0 => lines.push(format!("Days left: {days}")),
        Some(days) => lines.push(format!("Overdue by {} days", -days)),
        None => {}
    }
    lines.push(format!(
        "Reference: {} {}",
        one_line(&event.subject_type),
        one_line(&event.subject_id)
    ));
    lines.push(format!("Event: {}", one_line(&event.topic)));
    lines.push(String::new());
    lines.push("-- \ngrc notifications".into());
    let text = lines.join("\n");
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    html.push_str(&format!("<h1>{}</h1>\n<ul>\n", escape(&title)));
    for l in lines.iter().skip(2) {
        if l.is_empty() {
            break;
        }
        html.push_str(&format!("<li>{}</li>\n", escape(l)));
    }
    html.push_str("</ul>\n<p>grc notifications</p>\n</body></html>\n");
    Rendered {
        subject,
        text,
        html,
    }
}

/// Collapses line breaks and control characters (no header injection through a title).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// HTML-escapes text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(payload: serde_json::Value) -> EventMessage {
        EventMessage {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            topic: "reminder.due".into(),
            subject_type: "Certificate".into(),
            subject_id: "c-1".into(),
            dedupe_key: "rem:x".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            payload,
        }
    }

    #[test]
    fn subject_has_title_and_due_date_and_html_is_escaped() {
        let e = event(serde_json::json!({
            "title": "ISO 27001 <cert>\r\nBcc: x@y", "dueOn": "2027-02-28", "leadDays": 30
        }));
        let r = render(&e);
        // The CR and LF each become a space (one_line), then the pieces join with " (due ...)".
        assert_eq!(r.subject, "ISO 27001 <cert>  Bcc: x@y (due 2027-02-28)");
        assert!(r.text.contains("Days left: 30"));
        assert!(r.html.contains("<h1>ISO 27001 &lt;cert&gt;  Bcc: x@y</h1>"));
        assert!(!r.html.contains("<cert>"));
    }

    /// A reminder with a known kind reads as words: "<title>: BAA review due on <date>".
    #[test]
    fn a_known_kind_reads_as_words() {
        let e = event(serde_json::json!({
            "title": "Business associate agreement", "dueOn": "2027-01-31", "daysUntilDue": 7,
            "kind": "baa-review"
        }));
        let r = render(&e);
        assert_eq!(
            r.subject,
            "Business associate agreement: BAA review due on 2027-01-31"
        );
        assert!(
            r.text.contains("\nBAA review due on 2027-01-31\n"),
            "{}",
            r.text
        );
        assert!(r.text.contains("\nDays left: 7\n"));
        assert!(r.text.contains("\nReference: Certificate c-1\n"));
        let late = render(&event(serde_json::json!({
            "title": "Policy", "dueOn": "2027-01-31", "daysUntilDue": -14, "kind": "policy-review"
        })));
        assert_eq!(late.subject, "Policy: review due on 2027-01-31");
        assert!(
            late.text.contains("\nOverdue by 14 days\n"),
            "{}",
            late.text
        );
    }

    #[test]
    fn message_id_names_the_delivery_and_the_sender_domain() {
        let from: Mailbox = "grc <noreply@grc.example>".parse().unwrap();
        let id = Uuid::from_u128(1);
        assert_eq!(
            message_id(id, &from),
            "<delivery-00000000-0000-0000-0000-000000000001@grc.example>"
        );
    }
}
