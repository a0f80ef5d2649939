//! Webhooks as the Standard Webhooks specification (v1.0.0) describes them: endpoint secrets,
//! the HMAC-SHA256 signature and its verification, how an attempt's result is classified, and
//! when an endpoint is disabled (issue 7, "Channels": webhooks). Pure: the caller supplies the
//! random bytes of a new secret, the current time and the HTTP result.
//!
//! The signature (spec, "Signature scheme"): the content signed is `{msg_id}.{timestamp}.{body}`
//! with the raw body bytes as sent; the signature is HMAC-SHA256 with the secret's key bytes,
//! base64-encoded (standard alphabet, padded) and rendered `v1,<base64>`. The
//! `webhook-signature` header holds one or more such signatures separated by spaces, so that
//! during a secret rotation a message can be signed with the old and the new secret and a
//! receiver holding either verifies it.

use crate::isms::text_enum;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// The header carrying the message id (our reminder's idempotency key), the same on every
/// retry.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's Unix time in seconds, fresh on every retry.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How a symmetric secret is shown (spec: "base64 encoded, prefixed with `whsec_`").
pub const SECRET_PREFIX: &str = "whsec_";
/// The signature version of HMAC-SHA256 (spec: "Signature identifier: v1").
pub const SIGNATURE_VERSION: &str = "v1";
/// The shortest key: the spec's "At least 24 bytes (192 bits...)".
pub const MIN_SECRET_BYTES: usize = 24;
/// The longest key: the spec's "512 maximum" (bits), 64 bytes.
pub const MAX_SECRET_BYTES: usize = 64;
/// What a new endpoint's secret gets: 32 bytes, SHA-256's block-sized-enough key.
pub const NEW_SECRET_BYTES: usize = 32;
/// The tolerance between `webhook-timestamp` and the verifier's clock, either way: 5 minutes,
/// what the reference libraries use, against replays.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;
/// The longest message id signed (ours are about 130 bytes).
pub const MAX_MESSAGE_ID_LEN: usize = 255;

/// A webhook, its secret or its signature refused. [`WebhookError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("a webhook secret starts with {SECRET_PREFIX:?}")]
    SecretMissingPrefix,
    #[error("the webhook secret after {SECRET_PREFIX:?} is not standard base64")]
    SecretNotBase64,
    #[error("a webhook secret key is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {bytes}")]
    SecretLength { bytes: usize },
    #[error("no secret to sign with")]
    NoSecrets,
    #[error(
        "a message id is 1 to {MAX_MESSAGE_ID_LEN} visible ASCII characters without a full stop"
    )]
    InvalidMessageId,
    #[error("the webhook timestamp is not a whole number of seconds")]
    MalformedTimestamp,
    #[error("the webhook timestamp is {seconds} s old, beyond the tolerance")]
    TimestampTooOld { seconds: i64 },
    #[error("the webhook timestamp is {seconds} s in the future, beyond the tolerance")]
    TimestampTooNew { seconds: i64 },
    #[error("the signature header holds no v1 signature")]
    NoSignatures,
    #[error("no signature matches")]
    SignatureMismatch,
}

impl WebhookError {
    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SecretMissingPrefix => "secret-missing-prefix",
            Self::SecretNotBase64 => "secret-not-base64",
            Self::SecretLength { .. } => "secret-length",
            Self::NoSecrets => "no-secrets",
            Self::InvalidMessageId => "invalid-message-id",
            Self::MalformedTimestamp => "malformed-timestamp",
            Self::TimestampTooOld { .. } => "timestamp-too-old",
            Self::TimestampTooNew { .. } => "timestamp-too-new",
            Self::NoSignatures => "no-signatures",
            Self::SignatureMismatch => "signature-mismatch",
        }
    }
}

/// An endpoint's signing secret: the key bytes. Its `Debug` shows nothing of the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({} bytes, redacted)", self.key.len())
    }
}

fn check_key_length(bytes: usize) -> Result<(), WebhookError> {
    if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes) {
        Ok(())
    } else {
        Err(WebhookError::SecretLength { bytes })
    }
}

impl WebhookSecret {
    /// A new secret from random bytes the caller drew from a cryptographic RNG (the domain has
    /// none): [`NEW_SECRET_BYTES`] is the size to draw; 24 to 64 bytes are accepted.
    pub fn from_random_bytes(bytes: &[u8]) -> Result<Self, WebhookError> {
        check_key_length(bytes.len())?;
        Ok(Self {
            key: bytes.to_vec(),
        })
    }

    /// Parses the `whsec_<base64>` form. The prefix is required (every secret we hand out has
    /// it; the reference libraries also take the bare base64, we do not need to) and the key
    /// must be 24 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let b64 = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::SecretMissingPrefix)?;
        let key = BASE64
            .decode(b64)
            .map_err(|_| WebhookError::SecretNotBase64)?;
        check_key_length(key.len())?;
        Ok(Self { key })
    }

    /// The `whsec_<base64>` form, shown once to the endpoint's owner.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.key))
    }

    /// The key bytes.
    pub fn key_bytes(&self) -> &[u8] {
        &self.key
    }

    fn tag(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it. Should it ever,
        // an empty tag matches no signature and signs nothing a receiver accepts.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return Vec::new();
        };
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    /// The signature `v1,<base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"))>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
        check_message_id(msg_id)?;
        Ok(format!(
            "{SIGNATURE_VERSION},{}",
            BASE64.encode(self.tag(msg_id, timestamp, body))
        ))
    }
}

/// Checks a message id: 1 to [`MAX_MESSAGE_ID_LEN`] visible ASCII characters, no `.` (the spec:
/// the id and timestamp must not hold a full stop, which delimits the signed content) and no
/// space or line break (it travels in a header).
pub fn check_message_id(msg_id: &str) -> Result<(), WebhookError> {
    let ok = !msg_id.is_empty()
        && msg_id.len() <= MAX_MESSAGE_ID_LEN
        && msg_id.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if ok {
        Ok(())
    } else {
        Err(WebhookError::InvalidMessageId)
    }
}

/// The `webhook-signature` value: one signature per active secret, space-separated, in the
/// order given (during a rotation, the new secret and the old one).
pub fn signature_header(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    if secrets.is_empty() {
        return Err(WebhookError::NoSecrets);
    }
    let signatures = secrets
        .iter()
        .map(|s| s.sign(msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// Verifies a webhook as a receiver does: the timestamp header is a whole number of seconds
/// within `tolerance_seconds` of `now` either way (both bounds included), then at least one of
/// the header's `v1` signatures is the HMAC of `{msg_id}.{timestamp}.{body}` under `secret`,
/// compared in constant time. Signatures of other versions (`v1a`, ed25519) and undecodable
/// entries are ignored.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance_seconds: i64,
) -> Result<(), WebhookError> {
    check_message_id(msg_id)?;
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| WebhookError::MalformedTimestamp)?;
    let age = now.timestamp().saturating_sub(timestamp);
    let tolerance = tolerance_seconds.max(0);
    if age > tolerance {
        return Err(WebhookError::TimestampTooOld { seconds: age });
    }
    if age < -tolerance {
        return Err(WebhookError::TimestampTooNew {
            seconds: age.saturating_neg(),
        });
    }
    let candidates: Vec<Vec<u8>> = signature_header
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == SIGNATURE_VERSION)
        .filter_map(|(_, b64)| BASE64.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(WebhookError::NoSignatures);
    }
    let expected = secret.tag(msg_id, timestamp, body);
    let mut matched = subtle::Choice::from(0u8);
    for c in &candidates {
        matched |= expected.as_slice().ct_eq(c.as_slice());
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(WebhookError::SignatureMismatch)
    }
}

/// How long an endpoint's previous secret keeps signing after a rotation: a day, so receivers
/// can switch over without a gap (issue 7: "secret rotation with an overlap").
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// When a secret replaced at `rotated_at` stops signing.
pub fn rotation_ends_at(rotated_at: DateTime<Utc>) -> DateTime<Utc> {
    rotated_at
        .checked_add_signed(TimeDelta::hours(ROTATION_OVERLAP_HOURS))
        .unwrap_or(rotated_at)
}

/// Whether a secret that stops signing at `ends_at` (`None`: the current secret) signs at
/// `now`: up to, not including, its end.
pub fn signs_at(ends_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    ends_at.is_none_or(|end| now < end)
}

// ---------------------------------------------------------------------------------------------
// Attempts and endpoint health
// ---------------------------------------------------------------------------------------------

/// What one delivery attempt came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum AttemptResult {
    /// An HTTP response with this status (redirects are not followed).
    Response { status: u16 },
    /// No response within the request timeout.
    Timeout,
    /// No connection: refused, reset, DNS or TLS failure.
    ConnectionError,
}

text_enum!(
    /// An attempt's outcome, by the Standard Webhooks guidance ("Delivery success and
    /// failure"): a 2xx is a success and anything else a failure.
    DeliveryOutcome {
        /// 200 to 299.
        Delivered = "delivered",
        /// 410 Gone: the receiver wants no more; the endpoint is disabled, no retry.
        Gone = "gone",
        /// 429, 502 or 504: the receiver is overloaded. Retried on the schedule (and not before
        /// a `Retry-After`), and the worker should slow down on this endpoint.
        Throttled = "throttled",
        /// Any other status: 1xx, 3xx (redirects are not followed; the spec says to update the
        /// URL instead), other 4xx and other 5xx. Retried.
        Failed = "failed",
        /// No response in time. Retried.
        TimedOut = "timed-out",
        /// No connection. Retried.
        ConnectionFailed = "connection-failed",
    }
);

impl DeliveryOutcome {
    /// Whether the attempt failed.
    pub fn is_failure(self) -> bool {
        self != Self::Delivered
    }

    /// Whether another attempt follows on the retry schedule
    /// ([`crate::reminders::next_retry`]). Every failure but 410 is retried, other 4xx included:
    /// the spec treats them as plain failures, and a 401/403/404 is as often a receiver's
    /// deployment or configuration slip, fixed within the three days the schedule spans, as a
    /// permanent refusal. A receiver that means "stop" says 410.
    pub fn retries(self) -> bool {
        !matches!(self, Self::Delivered | Self::Gone)
    }

    /// Whether the endpoint is disabled at once.
    pub fn disables_endpoint(self) -> bool {
        self == Self::Gone
    }
}

/// Classifies an attempt's result.
pub fn classify(result: AttemptResult) -> DeliveryOutcome {
    match result {
        AttemptResult::Response { status } => match status {
            200..=299 => DeliveryOutcome::Delivered,
            410 => DeliveryOutcome::Gone,
            429 | 502 | 504 => DeliveryOutcome::Throttled,
            _ => DeliveryOutcome::Failed,
        },
        AttemptResult::Timeout => DeliveryOutcome::TimedOut,
        AttemptResult::ConnectionError => DeliveryOutcome::ConnectionFailed,
    }
}

/// An endpoint is disabled for failing only after at least this many consecutive failed
/// attempts: one message's full retry run (10 attempts), so one bad message never disables it.
pub const DISABLE_AFTER_FAILURES: u32 = 10;
/// ... and only when those failures span at least this many days: a receiver down for a long
/// weekend stays enabled (its deliveries retry and dead-letter, and can be replayed), a
/// receiver gone for good stops being called. Five days, longer than one message's retry run
/// (75 h 35 min 5 s), so it takes failures of more than one message.
pub const DISABLE_AFTER_DAYS: i64 = 5;

text_enum!(
    /// Why an endpoint was disabled (its owner is notified).
    DisableReason {
        /// It answered 410 Gone.
        Gone = "gone",
        /// [`DISABLE_AFTER_FAILURES`] consecutive failures over [`DISABLE_AFTER_DAYS`] days.
        FailingTooLong = "failing-too-long",
    }
);

/// An endpoint's run of failures, stored with the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointHealth {
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// When the first of them happened.
    pub failing_since: Option<DateTime<Utc>>,
}

impl EndpointHealth {
    /// The health after an attempt with `outcome` at `at`, and the reason to disable the
    /// endpoint now, if any: a success clears the run; a failure extends it; 410 disables at
    /// once; a run of at least [`DISABLE_AFTER_FAILURES`] failures whose first is at least
    /// [`DISABLE_AFTER_DAYS`] days before `at` disables.
    pub fn record(
        self,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> (EndpointHealth, Option<DisableReason>) {
        if !outcome.is_failure() {
            return (EndpointHealth::default(), None);
        }
        let next = EndpointHealth {
            consecutive_failures: self.consecutive_failures.saturating_add(1),
            failing_since: Some(self.failing_since.unwrap_or(at)),
        };
        if outcome.disables_endpoint() {
            return (next, Some(DisableReason::Gone));
        }
        let long_enough = next
            .failing_since
            .is_some_and(|since| at - since >= TimeDelta::days(DISABLE_AFTER_DAYS));
        let reason = (next.consecutive_failures >= DISABLE_AFTER_FAILURES && long_enough)
            .then_some(DisableReason::FailingTooLong);
        (next, reason)
    }
}
