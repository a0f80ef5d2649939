//! The webhook rules, against `grc_domain::webhooks`, from the Standard Webhooks specification
//! v1.0.0 (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md) and
//! issue 7 ("Channels": webhooks).
//!
//! The published test vector (secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
//! `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, body `{"test": 2432232314}`, signature
//! `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`) is the one the reference libraries test
//! their `sign` with (e.g. the Svix PHP library's `testSignFunctionWorks`), and was recomputed
//! independently with Python's `hmac`/`hashlib`/`base64`. The other expected signatures were
//! computed the same way:
//! `base64.b64encode(hmac.new(key, b"{id}.{ts}.{body}", hashlib.sha256).digest())`.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, Utc};
use grc_domain::webhooks::{
    AttemptResult, DEFAULT_TOLERANCE_SECONDS, DISABLE_AFTER_DAYS, DISABLE_AFTER_FAILURES,
    DeliveryOutcome, DisableReason, EndpointHealth, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    NEW_SECRET_BYTES, WebhookError, WebhookSecret, check_message_id, classify, rotation_ends_at,
    signature_header, signs_at, verify,
};

const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: i64 = 1_614_265_330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/// Our own message: an idempotency-key-like id, a JSON body, at 1780000000 (2026-05-28
/// 20:26:40Z).
const OUR_ID: &str = "rem:abc:lead-30";
const OUR_TS: i64 = 1_780_000_000;
const OUR_BODY: &[u8] = br#"{"type":"reminder.due"}"#;
/// HMAC-SHA256 of `rem:abc:lead-30.1780000000.{"type":"reminder.due"}` under the key bytes
/// 0, 1, ..., 31 (Python).
const OUR_SIG_COUNTING_KEY: &str = "v1,2yqeXd12xQdFEM4Q/GtM2lZTgiwIH9Ksn+Bayo3Q1GA=";
/// The same content under the spec's secret (Python).
const OUR_SIG_SPEC_KEY: &str = "v1,MBNnxxDve36zyRst8o3IaeCNN/cZ1kn2M3D9KBbgOF0=";

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap()
}

fn spec_secret() -> WebhookSecret {
    WebhookSecret::parse(SPEC_SECRET).unwrap()
}

fn counting_secret() -> WebhookSecret {
    let bytes: Vec<u8> = (0u8..32).collect();
    WebhookSecret::from_random_bytes(&bytes).unwrap()
}

#[test]
fn the_header_names_are_the_specs() {
    // Spec, "Webhook headers": webhook-id, webhook-timestamp, webhook-signature.
    assert_eq!(
        [HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE],
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

#[test]
fn the_spec_secret_parses_to_24_bytes_and_renders_back() {
    // "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" is 32 base64 characters, no padding: 32 × 6 / 8 = 24
    // bytes, the spec's minimum.
    let s = spec_secret();
    assert_eq!(s.key_bytes().len(), 24);
    assert_eq!(s.to_whsec(), SPEC_SECRET);
}

#[test]
fn a_new_secret_comes_from_caller_supplied_random_bytes() {
    // Bytes 0..=31: base64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" (Python).
    let s = counting_secret();
    assert_eq!(NEW_SECRET_BYTES, 32);
    assert_eq!(
        s.to_whsec(),
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    );
    assert_eq!(WebhookSecret::parse(&s.to_whsec()).unwrap(), s);
    // Spec: "At least 24 bytes (192 bits, 512 maximum)": 24 and 64 pass, 23 and 65 do not.
    assert!(WebhookSecret::from_random_bytes(&[7; 24]).is_ok());
    assert!(WebhookSecret::from_random_bytes(&[7; 64]).is_ok());
    for n in [0, 23, 65] {
        let e = WebhookSecret::from_random_bytes(&vec![7; n]).unwrap_err();
        assert_eq!(e, WebhookError::SecretLength { bytes: n });
        assert_eq!(e.code(), "secret-length");
    }
}

#[test]
fn a_malformed_secret_is_refused_with_its_reason() {
    for (text, err) in [
        // No prefix (the bare base64 the reference libraries also accept: not ours).
        (
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            WebhookError::SecretMissingPrefix,
        ),
        (
            "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            WebhookError::SecretMissingPrefix,
        ),
        // Not base64: '!' is outside the alphabet; a URL-safe '-' too.
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw",
            WebhookError::SecretNotBase64,
        ),
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-aSw",
            WebhookError::SecretNotBase64,
        ),
        // Zero bytes in base64: 23 bytes are 7 groups of 3 (28 "A") and 2 bytes ("AAA=") =
        // 31 "A" and "="; 65 bytes are 21 groups (84 "A") and "AAA=" = 87 "A" and "=".
        // Too short, too long; and nothing at all is 0 bytes.
        (
            format!("whsec_{}=", "A".repeat(31)).leak(),
            WebhookError::SecretLength { bytes: 23 },
        ),
        (
            format!("whsec_{}=", "A".repeat(87)).leak(),
            WebhookError::SecretLength { bytes: 65 },
        ),
        ("whsec_", WebhookError::SecretLength { bytes: 0 }),
    ] {
        assert_eq!(WebhookSecret::parse(text).unwrap_err(), err, "{text}");
    }
    assert_eq!(
        WebhookError::SecretMissingPrefix.code(),
        "secret-missing-prefix"
    );
    assert_eq!(WebhookError::SecretNotBase64.code(), "secret-not-base64");
}

#[test]
fn a_secrets_debug_output_hides_the_key() {
    let shown = format!("{:?}", spec_secret());
    assert_eq!(shown, "WebhookSecret(24 bytes, redacted)");
    assert!(!shown.contains("MfKQ"));
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

#[test]
fn signing_reproduces_the_published_test_vector() {
    assert_eq!(
        spec_secret().sign(SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(),
        SPEC_SIGNATURE
    );
}

#[test]
fn signing_our_own_message_matches_an_independent_computation() {
    assert_eq!(
        counting_secret().sign(OUR_ID, OUR_TS, OUR_BODY).unwrap(),
        OUR_SIG_COUNTING_KEY
    );
    assert_eq!(
        spec_secret().sign(OUR_ID, OUR_TS, OUR_BODY).unwrap(),
        OUR_SIG_SPEC_KEY
    );
}

#[test]
fn during_a_rotation_the_header_carries_one_signature_per_secret() {
    // Spec: "the webhook is signed both using the current key, and using an old key ... both
    // signatures are sent, space delimited".
    let header = signature_header(
        &[counting_secret(), spec_secret()],
        OUR_ID,
        OUR_TS,
        OUR_BODY,
    )
    .unwrap();
    assert_eq!(header, format!("{OUR_SIG_COUNTING_KEY} {OUR_SIG_SPEC_KEY}"));
    // A receiver holding either secret accepts it.
    for s in [counting_secret(), spec_secret()] {
        assert_eq!(
            verify(&s, OUR_ID, "1780000000", &header, OUR_BODY, at(OUR_TS), 300),
            Ok(())
        );
    }
    assert_eq!(
        signature_header(&[], OUR_ID, OUR_TS, OUR_BODY).unwrap_err(),
        WebhookError::NoSecrets
    );
}

#[test]
fn message_ids_with_a_full_stop_or_a_space_are_not_signed() {
    // Spec: the id and timestamp must not "include any `.`" (it delimits the signed content).
    for bad in ["", "msg.1", "msg 1", "msg\r\n1", "é"] {
        assert_eq!(
            check_message_id(bad),
            Err(WebhookError::InvalidMessageId),
            "{bad:?}"
        );
        assert_eq!(
            spec_secret()
                .sign(bad, SPEC_TS, SPEC_BODY)
                .unwrap_err()
                .code(),
            "invalid-message-id"
        );
    }
    assert_eq!(check_message_id(&"x".repeat(255)), Ok(()));
    assert_eq!(
        check_message_id(&"x".repeat(256)),
        Err(WebhookError::InvalidMessageId)
    );
    assert_eq!(check_message_id(SPEC_ID), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------------------------

#[test]
fn the_test_vector_verifies_at_its_own_time() {
    assert_eq!(DEFAULT_TOLERANCE_SECONDS, 300);
    assert_eq!(
        verify(
            &spec_secret(),
            SPEC_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY,
            at(SPEC_TS),
            DEFAULT_TOLERANCE_SECONDS
        ),
        Ok(())
    );
}

#[test]
fn a_tampered_body_id_or_timestamp_does_not_verify() {
    let s = spec_secret();
    let now = at(SPEC_TS);
    // One digit of the body changed.
    let e = verify(
        &s,
        SPEC_ID,
        "1614265330",
        SPEC_SIGNATURE,
        br#"{"test": 2432232315}"#,
        now,
        300,
    )
    .unwrap_err();
    assert_eq!(e, WebhookError::SignatureMismatch);
    assert_eq!(e.code(), "signature-mismatch");
    // Re-serialized JSON (no space after the colon): the spec's common failure mode.
    assert_eq!(
        verify(
            &s,
            SPEC_ID,
            "1614265330",
            SPEC_SIGNATURE,
            br#"{"test":2432232314}"#,
            now,
            300
        ),
        Err(WebhookError::SignatureMismatch)
    );
    // Another id, another timestamp (one second later, within tolerance): signed content
    // differs.
    assert_eq!(
        verify(
            &s,
            "msg_other",
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY,
            now,
            300
        ),
        Err(WebhookError::SignatureMismatch)
    );
    assert_eq!(
        verify(
            &s,
            SPEC_ID,
            "1614265331",
            SPEC_SIGNATURE,
            SPEC_BODY,
            now,
            300
        ),
        Err(WebhookError::SignatureMismatch)
    );
}

#[test]
fn a_wrong_secret_does_not_verify() {
    assert_eq!(
        verify(
            &counting_secret(),
            SPEC_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY,
            at(SPEC_TS),
            300
        ),
        Err(WebhookError::SignatureMismatch)
    );
}

#[test]
fn the_timestamp_must_be_within_five_minutes_either_way() {
    let s = spec_secret();
    let check = |now: i64| {
        verify(
            &s,
            SPEC_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY,
            at(now),
            300,
        )
    };
    // Exactly 300 s either way: accepted (both bounds included).
    assert_eq!(check(SPEC_TS + 300), Ok(()));
    assert_eq!(check(SPEC_TS - 300), Ok(()));
    // 301 s: refused, with the age.
    let e = check(SPEC_TS + 301).unwrap_err();
    assert_eq!(e, WebhookError::TimestampTooOld { seconds: 301 });
    assert_eq!(e.code(), "timestamp-too-old");
    let e = check(SPEC_TS - 301).unwrap_err();
    assert_eq!(e, WebhookError::TimestampTooNew { seconds: 301 });
    assert_eq!(e.code(), "timestamp-too-new");
    // The replay of the published vector today (2026) is far too old.
    assert!(matches!(
        check(OUR_TS),
        Err(WebhookError::TimestampTooOld { .. })
    ));
}

#[test]
fn a_malformed_timestamp_or_signature_header_is_refused() {
    let s = spec_secret();
    let now = at(SPEC_TS);
    for ts in ["", "abc", "1614265330.5", "1e9"] {
        let e = verify(&s, SPEC_ID, ts, SPEC_SIGNATURE, SPEC_BODY, now, 300).unwrap_err();
        assert_eq!(e, WebhookError::MalformedTimestamp, "{ts:?}");
        assert_eq!(e.code(), "malformed-timestamp");
    }
    // No v1 entry at all: an empty header, only a v1a (asymmetric) entry, entries without a
    // comma, a v1 whose value is not base64.
    for header in [
        "",
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw==",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,not*base64",
    ] {
        let e = verify(&s, SPEC_ID, "1614265330", header, SPEC_BODY, now, 300).unwrap_err();
        assert_eq!(e, WebhookError::NoSignatures, "{header:?}");
        assert_eq!(e.code(), "no-signatures");
    }
    // A bad entry next to the good one does not hurt; extra spaces neither.
    let header = format!("v1,bm9wZQ==  v1a,xyz  {SPEC_SIGNATURE} ");
    assert_eq!(
        verify(&s, SPEC_ID, "1614265330", &header, SPEC_BODY, now, 300),
        Ok(())
    );
}

#[test]
fn an_old_secret_signs_for_a_day_after_the_rotation() {
    // ROTATION_OVERLAP_HOURS = 24: rotated 2026-06-01T12:00Z, the old secret signs until (not
    // at) 2026-06-02T12:00Z; the current one (no end) always.
    let rotated = "2026-06-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let end = rotation_ends_at(rotated);
    assert_eq!(end, rotated + TimeDelta::hours(24));
    assert!(signs_at(Some(end), end - TimeDelta::seconds(1)));
    assert!(!signs_at(Some(end), end));
    assert!(signs_at(None, end + TimeDelta::days(365)));
}

// ---------------------------------------------------------------------------------------------
// Outcomes and endpoint health
// ---------------------------------------------------------------------------------------------

#[test]
fn attempt_results_are_classified_as_the_spec_suggests() {
    use AttemptResult::{ConnectionError, Response, Timeout};
    use DeliveryOutcome as O;
    // Spec, "Delivery success and failure": 2xx success; 3xx failure; 410 disable; 429, 502,
    // 504 throttle; the rest failure. Issue 7: "an endpoint disabled on 410".
    for (result, outcome, retries, disables) in [
        (Response { status: 200 }, O::Delivered, false, false),
        (Response { status: 204 }, O::Delivered, false, false),
        (Response { status: 299 }, O::Delivered, false, false),
        (Response { status: 410 }, O::Gone, false, true),
        (Response { status: 429 }, O::Throttled, true, false),
        (Response { status: 502 }, O::Throttled, true, false),
        (Response { status: 504 }, O::Throttled, true, false),
        (Response { status: 500 }, O::Failed, true, false),
        (Response { status: 503 }, O::Failed, true, false),
        (Response { status: 301 }, O::Failed, true, false),
        (Response { status: 400 }, O::Failed, true, false),
        (Response { status: 401 }, O::Failed, true, false),
        (Response { status: 404 }, O::Failed, true, false),
        (Response { status: 100 }, O::Failed, true, false),
        (Response { status: 300 }, O::Failed, true, false),
        (Response { status: 199 }, O::Failed, true, false),
        (Timeout, O::TimedOut, true, false),
        (ConnectionError, O::ConnectionFailed, true, false),
    ] {
        let o = classify(result);
        assert_eq!(o, outcome, "{result:?}");
        assert_eq!(o.retries(), retries, "{result:?}");
        assert_eq!(o.disables_endpoint(), disables, "{result:?}");
        assert_eq!(o.is_failure(), o != O::Delivered);
    }
    assert_eq!(O::TimedOut.as_str(), "timed-out");
    assert_eq!(O::parse("connection-failed"), Some(O::ConnectionFailed));
}

#[test]
fn an_endpoint_is_disabled_at_once_on_410() {
    let t = at(OUR_TS);
    let (h, reason) = EndpointHealth::default().record(DeliveryOutcome::Gone, t);
    assert_eq!(reason, Some(DisableReason::Gone));
    assert_eq!(h.consecutive_failures, 1);
    assert_eq!(DisableReason::Gone.as_str(), "gone");
}

#[test]
fn an_endpoint_is_disabled_after_ten_failures_over_five_days_and_not_before() {
    assert_eq!((DISABLE_AFTER_FAILURES, DISABLE_AFTER_DAYS), (10, 5));
    let start = at(OUR_TS);
    // One message's full retry run: 10 failures over 75 h 35 min 5 s (< 5 days): enabled.
    let mut h = EndpointHealth::default();
    let mut t = start;
    let delays = [
        0, 5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400,
    ];
    for d in delays {
        t += TimeDelta::seconds(d);
        let (next, reason) = h.record(DeliveryOutcome::Failed, t);
        assert_eq!(reason, None, "at {t}");
        h = next;
    }
    assert_eq!(h.consecutive_failures, 10);
    assert_eq!(h.failing_since, Some(start));
    assert_eq!(t - start, TimeDelta::seconds(272_105));
    // A failure 5 days minus a second after the first: still enabled.
    let (h2, reason) = h.record(
        DeliveryOutcome::TimedOut,
        start + TimeDelta::days(5) - TimeDelta::seconds(1),
    );
    assert_eq!(reason, None);
    assert_eq!(h2.consecutive_failures, 11);
    // At exactly 5 days: disabled.
    let (_, reason) = h2.record(DeliveryOutcome::Throttled, start + TimeDelta::days(5));
    assert_eq!(reason, Some(DisableReason::FailingTooLong));
    assert_eq!(DisableReason::FailingTooLong.as_str(), "failing-too-long");
    // Two failures 6 days apart (a quiet endpoint): only 2 consecutive, enabled.
    let (q, _) = EndpointHealth::default().record(DeliveryOutcome::Failed, start);
    let (q, reason) = q.record(DeliveryOutcome::Failed, start + TimeDelta::days(6));
    assert_eq!((q.consecutive_failures, reason), (2, None));
    // A success clears the run.
    let (cleared, reason) = h2.record(DeliveryOutcome::Delivered, start + TimeDelta::days(6));
    assert_eq!((cleared, reason), (EndpointHealth::default(), None));
}
