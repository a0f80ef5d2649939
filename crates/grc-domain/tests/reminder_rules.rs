//! The reminder rules, computed by hand from issue 7 ("Reminders and the notification worker")
//! and the IANA time zone rules, against `grc_domain::reminders`.
//!
//! Time zone facts used (tz database):
//! - America/New_York: EST = UTC−5, EDT = UTC−4; in 2026 clocks go 02:00 EST → 03:00 EDT on
//!   Sunday 2026-03-08 (second Sunday of March: 2026-03-01 is a Sunday) and 02:00 EDT → 01:00
//!   EST on Sunday 2026-11-01 (first Sunday of November). In 2027/2028 March dates before the
//!   second Sunday are EST.
//! - Asia/Kolkata: IST = UTC+05:30 all year, no daylight saving.
//! - Pacific/Auckland: NZDT = UTC+13 in the southern summer, NZST = UTC+12 in winter; in 2026
//!   03:00 NZDT → 02:00 NZST on Sunday 2026-04-05 (first Sunday of April) and 02:00 NZST →
//!   03:00 NZDT on Sunday 2026-09-27 (last Sunday of September).
//!
//! The zone conversions below were also cross-checked with Python's `zoneinfo` (which agrees
//! on every unambiguous time, and on the earlier instant of an ambiguous one).

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use grc_domain::DomainError;
use grc_domain::reminders::{
    CatchUp, Channel, DeliveryTarget, DigestOption, DueItem, DueKind, EmailProblem, Escalation,
    MAX_ATTEMPTS, Occurrence, PolicyError, REMINDER_NAMESPACE, RETRY_DELAYS_SECONDS, RecipientRole,
    Recipients, ReminderPolicy, Schedule, Step, calendar_uid, catch_up, check_email_address,
    delivery_key, digest_key, due_between, lead_occurrences, local_instant, next_occurrence,
    next_retry, next_retry_after, overdue_occurrence, parse_time_zone,
};
use proptest::prelude::*;
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn tz(name: &str) -> Tz {
    parse_time_zone(name).unwrap()
}

fn tenant() -> Uuid {
    Uuid::from_u128(1)
}

fn subject() -> Uuid {
    Uuid::from_u128(2)
}

fn item(kind: DueKind, due: &str) -> DueItem {
    DueItem {
        tenant_id: tenant(),
        subject_id: subject(),
        kind,
        due_on: date(due),
        resolved: false,
    }
}

/// A certificate-expiry policy in `zone` with the given lead times and cadence, sent at 09:00.
fn policy(zone: &str, leads: &[i32], every: Option<i32>) -> ReminderPolicy {
    let mut p = DueKind::CertificateExpiry.default_policy(zone);
    p.lead_days = leads.to_vec();
    p.overdue_every_days = every;
    p
}

fn schedule(zone: &str, leads: &[i32], every: Option<i32>) -> Schedule {
    policy(zone, leads, every).check().unwrap()
}

fn sends(occurrences: &[Occurrence]) -> Vec<DateTime<Utc>> {
    occurrences.iter().map(|o| o.send_at).collect()
}

fn steps(occurrences: &[Occurrence]) -> Vec<Step> {
    occurrences.iter().map(|o| o.step).collect()
}

fn lead(days: u16) -> Step {
    Step::Lead { days }
}

fn overdue(n: u32) -> Step {
    Step::Overdue { n }
}

// ---------------------------------------------------------------------------------------------
// Kinds and defaults
// ---------------------------------------------------------------------------------------------

#[test]
fn every_kind_issue_7_lists_has_a_stable_kebab_case_name() {
    // Issue 7, "What to build" 1: the seventeen kinds of due item, in the issue's order.
    let names = [
        "certificate-expiry",
        "surveillance-audit",
        "recertification-audit",
        "attestation-expiry",
        "bridge-letter-end",
        "baa-end",
        "baa-review",
        "policy-review",
        "document-review",
        "risk-review",
        "evidence-expiry",
        "corrective-action-due",
        "training-due",
        "internal-audit-due",
        "management-review-due",
        "breach-notification-deadline",
        "share-grant-expiry",
    ];
    assert_eq!(DueKind::ALL.len(), names.len());
    for (kind, name) in DueKind::ALL.iter().zip(names) {
        assert_eq!(kind.as_str(), name);
        assert_eq!(DueKind::parse(name), Some(*kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(name));
    }
    assert_eq!(DueKind::parse("Certificate-Expiry"), None);
    assert_eq!(DueKind::parse("certificate_expiry"), None);
}

#[test]
fn the_certificate_default_is_90_60_30_7_1_days_weekly_overdue_at_nine() {
    // Issue 7: "default for a certificate: 90, 60, 30, 7 and 1 days", "the overdue cadence
    // (default weekly until resolved)", "the local hour to send (default 09:00)".
    let p = DueKind::CertificateExpiry.default_policy("Europe/Berlin");
    assert_eq!(p.lead_days, vec![90, 60, 30, 7, 1]);
    assert_eq!(p.overdue_every_days, Some(7));
    assert_eq!((p.send_hour, p.send_minute), (9, 0));
    assert!(p.enabled);
    assert_eq!(
        p.channels,
        vec![Channel::Email, Channel::Webhook, Channel::InApp]
    );
    assert_eq!(p.escalation, None);
}

#[test]
fn breach_deadlines_default_to_30_14_7_3_1_days_daily_escalating_to_owners() {
    // The domain brief of issue 7: breach deadlines 30, 14, 7, 3, 1 escalating to owners;
    // the module documents daily overdue repetitions and escalation from 7 days out.
    let k = DueKind::BreachNotificationDeadline;
    assert_eq!(k.default_lead_days(), &[30, 14, 7, 3, 1]);
    assert_eq!(k.default_overdue_every_days(), Some(1));
    assert_eq!(
        k.default_escalation(),
        Some(Escalation {
            within_days: 7,
            roles: vec![RecipientRole::Owner]
        })
    );
}

#[test]
fn every_kind_has_a_valid_default_policy_with_weekly_overdue_unless_documented() {
    for &kind in DueKind::ALL {
        for zone in ["UTC", "America/New_York", "Pacific/Auckland"] {
            let p = kind.default_policy(zone);
            assert_eq!(p.problems(), vec![], "{kind} in {zone}");
            assert!(p.check().is_ok());
        }
        // Lead times: largest first, within 0..=730, at most 10.
        let leads = kind.default_lead_days();
        assert!(!leads.is_empty() && leads.len() <= 10, "{kind}");
        assert!(leads.windows(2).all(|w| w[0] > w[1]), "{kind}");
        assert!(leads.iter().all(|&d| d <= 730), "{kind}");
        // Weekly overdue for all but the two documented exceptions.
        let expected = match kind {
            DueKind::BreachNotificationDeadline => Some(1),
            DueKind::ShareGrantExpiry => None,
            _ => Some(7),
        };
        assert_eq!(kind.default_overdue_every_days(), expected, "{kind}");
        assert_eq!(
            kind.default_recipient_roles(),
            &[
                RecipientRole::SubjectOwner,
                RecipientRole::ComplianceManager
            ]
        );
    }
}

#[test]
fn recipient_roles_use_the_tenant_role_strings() {
    use grc_domain::tenancy::Role;
    for (r, s, role) in [
        (RecipientRole::Owner, "owner", Some(Role::Owner)),
        (
            RecipientRole::ComplianceManager,
            "compliance_manager",
            Some(Role::ComplianceManager),
        ),
        (
            RecipientRole::Contributor,
            "contributor",
            Some(Role::Contributor),
        ),
        (RecipientRole::Auditor, "auditor", Some(Role::Auditor)),
        (RecipientRole::Viewer, "viewer", Some(Role::Viewer)),
        (RecipientRole::SubjectOwner, "subject_owner", None),
    ] {
        assert_eq!(r.as_str(), s);
        assert_eq!(r.tenant_role(), role);
        if let Some(role) = role {
            assert_eq!(role.as_str(), s);
        }
    }
    assert_eq!(Channel::InApp.as_str(), "in-app");
    assert_eq!(Channel::parse("webhook"), Some(Channel::Webhook));
}

// ---------------------------------------------------------------------------------------------
// Validation: every error, with its code and field
// ---------------------------------------------------------------------------------------------

fn first_problem(p: &ReminderPolicy) -> PolicyError {
    p.check().unwrap_err()
}

#[test]
fn lead_times_must_lie_in_0_to_730_days() {
    // 0 ("on the due date") and 730 (two years) are the bounds and pass.
    assert!(policy("UTC", &[730, 0], Some(7)).check().is_ok());
    for bad in [-1, 731, i32::MIN, i32::MAX] {
        let e = first_problem(&policy("UTC", &[30, bad], Some(7)));
        assert_eq!(e, PolicyError::LeadTimeOutOfRange { days: bad });
        assert_eq!(e.code(), "lead-time-out-of-range");
        assert_eq!(e.field(), "leadDays");
    }
}

#[test]
fn a_lead_time_listed_twice_is_refused() {
    let e = first_problem(&policy("UTC", &[30, 7, 30], Some(7)));
    assert_eq!(e, PolicyError::DuplicateLeadTime { days: 30 });
    assert_eq!(e.code(), "duplicate-lead-time");
}

#[test]
fn at_most_ten_lead_times() {
    let ten: Vec<i32> = (1..=10).collect();
    assert!(policy("UTC", &ten, Some(7)).check().is_ok());
    let eleven: Vec<i32> = (1..=11).collect();
    let e = first_problem(&policy("UTC", &eleven, Some(7)));
    assert_eq!(e, PolicyError::TooManyLeadTimes { count: 11 });
    assert_eq!(e.code(), "too-many-lead-times");
}

#[test]
fn the_overdue_cadence_is_1_to_90_days_or_none() {
    assert!(policy("UTC", &[7], Some(1)).check().is_ok());
    assert!(policy("UTC", &[7], Some(90)).check().is_ok());
    assert!(policy("UTC", &[7], None).check().is_ok());
    for bad in [0, -7, 91] {
        let e = first_problem(&policy("UTC", &[7], Some(bad)));
        assert_eq!(e, PolicyError::OverdueCadenceOutOfRange { days: bad });
        assert_eq!(e.code(), "overdue-cadence-out-of-range");
        assert_eq!(e.field(), "overdueEveryDays");
    }
}

#[test]
fn an_enabled_policy_must_send_something_a_disabled_one_need_not() {
    let mut p = policy("UTC", &[], None);
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::NothingToSend);
    assert_eq!(e.code(), "nothing-to-send");
    p.enabled = false;
    assert!(p.check().is_ok());
    // Only an overdue cadence is enough.
    assert!(policy("UTC", &[], Some(7)).check().is_ok());
}

#[test]
fn the_send_time_is_an_hour_0_to_23_and_a_minute_0_to_59() {
    let mut p = policy("UTC", &[7], Some(7));
    for (h, m) in [(0, 0), (23, 59)] {
        p.send_hour = h;
        p.send_minute = m;
        assert!(p.check().is_ok(), "{h}:{m}");
    }
    for h in [-1, 24] {
        p.send_hour = h;
        p.send_minute = 0;
        let e = first_problem(&p);
        assert_eq!(e, PolicyError::SendHourOutOfRange { hour: h });
        assert_eq!(
            (e.code(), e.field()),
            ("send-hour-out-of-range", "sendHour")
        );
    }
    p.send_hour = 9;
    for m in [-1, 60] {
        p.send_minute = m;
        let e = first_problem(&p);
        assert_eq!(e, PolicyError::SendMinuteOutOfRange { minute: m });
        assert_eq!(
            (e.code(), e.field()),
            ("send-minute-out-of-range", "sendMinute")
        );
    }
}

#[test]
fn the_time_zone_must_be_an_iana_name_as_spelled_in_the_database() {
    for good in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] {
        assert!(policy(good, &[7], Some(7)).check().is_ok(), "{good}");
    }
    for bad in [
        "",
        "Mars/Olympus_Mons",
        "EST5EDT6",
        "america/new_york",
        "+05:30",
    ] {
        let e = first_problem(&policy(bad, &[7], Some(7)));
        assert_eq!(
            e,
            PolicyError::UnknownTimeZone {
                name: bad.to_owned()
            }
        );
        assert_eq!((e.code(), e.field()), ("unknown-time-zone", "timeZone"));
    }
}

#[test]
fn a_policy_needs_a_channel_and_duplicates_collapse() {
    let mut p = policy("UTC", &[7], Some(7));
    p.channels = vec![];
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::NoChannels);
    assert_eq!((e.code(), e.field()), ("no-channels", "channels"));
    p.channels = vec![Channel::InApp, Channel::Email, Channel::InApp];
    assert_eq!(
        p.check().unwrap().channels(),
        &[Channel::Email, Channel::InApp]
    );
}

#[test]
fn people_channels_need_recipients_webhooks_alone_do_not() {
    let mut p = policy("UTC", &[7], Some(7));
    p.recipients = Recipients::default();
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::NoRecipients);
    assert_eq!((e.code(), e.field()), ("no-recipients", "recipients"));
    // A webhook goes to the tenant's endpoints: no people needed.
    p.channels = vec![Channel::Webhook];
    assert!(p.check().is_ok());
    // One external address is enough for e-mail.
    p.channels = vec![Channel::Email];
    p.recipients.emails = vec!["auditor@example.org".into()];
    assert!(p.check().is_ok());
}

#[test]
fn at_most_fifty_recipients() {
    let mut p = policy("UTC", &[7], Some(7));
    // The default policy names 2 roles; 48 users make 50.
    p.recipients.user_ids = (0..48).map(Uuid::from_u128).collect();
    assert!(p.check().is_ok());
    p.recipients.user_ids.push(Uuid::from_u128(48));
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::TooManyRecipients { count: 51 });
    assert_eq!(e.code(), "too-many-recipients");
}

#[test]
fn external_addresses_are_checked_loosely() {
    // Brief: one @, non-empty parts, at most 254 characters; and no whitespace or control
    // characters (a CR/LF would inject an SMTP header).
    for good in ["a@b", "ops@localhost", "first.last+tag@example.co.uk"] {
        assert_eq!(check_email_address(good), Ok(()), "{good}");
    }
    // 254 bytes pass, 255 do not: "x"×(254−12) + "@example.org" (12 bytes).
    let at_limit = format!("{}@example.org", "x".repeat(242));
    assert_eq!(at_limit.len(), 254);
    assert_eq!(check_email_address(&at_limit), Ok(()));
    let over = format!("x{at_limit}");
    for (bad, problem) in [
        (over.as_str(), EmailProblem::TooLong),
        ("no-at-sign", EmailProblem::NotOneAt),
        ("two@at@signs", EmailProblem::NotOneAt),
        ("@example.org", EmailProblem::EmptyLocalPart),
        ("someone@", EmailProblem::EmptyDomain),
        ("a b@example.org", EmailProblem::ForbiddenCharacter),
        (
            "a@example.org\r\nBcc: x@y",
            EmailProblem::ForbiddenCharacter,
        ),
        (" a@example.org", EmailProblem::ForbiddenCharacter),
    ] {
        assert_eq!(check_email_address(bad), Err(problem), "{bad:?}");
    }
    let mut p = policy("UTC", &[7], Some(7));
    p.recipients.emails = vec!["ok@example.org".into(), "broken".into()];
    let e = first_problem(&p);
    assert_eq!(
        e,
        PolicyError::InvalidEmail {
            address: "broken".into(),
            problem: EmailProblem::NotOneAt
        }
    );
    assert_eq!(
        (e.code(), e.field()),
        ("invalid-email", "recipients.emails")
    );
}

#[test]
fn an_escalation_needs_a_range_and_roles() {
    let mut p = policy("UTC", &[7], Some(7));
    p.escalation = Some(Escalation {
        within_days: 731,
        roles: vec![RecipientRole::Owner],
    });
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::EscalationOutOfRange { days: 731 });
    assert_eq!(
        (e.code(), e.field()),
        ("escalation-out-of-range", "escalation.withinDays")
    );
    p.escalation = Some(Escalation {
        within_days: 7,
        roles: vec![],
    });
    let e = first_problem(&p);
    assert_eq!(e, PolicyError::EscalationWithoutRoles);
    assert_eq!(
        (e.code(), e.field()),
        ("escalation-without-roles", "escalation.roles")
    );
}

#[test]
fn problems_lists_every_broken_rule_in_field_order_and_maps_to_invalid_input() {
    let mut p = policy("Nowhere/Land", &[-3, 7, 7], Some(0));
    p.send_hour = 25;
    p.channels = vec![];
    let codes: Vec<&str> = p.problems().iter().map(PolicyError::code).collect();
    assert_eq!(
        codes,
        vec![
            "lead-time-out-of-range",
            "duplicate-lead-time",
            "overdue-cadence-out-of-range",
            "send-hour-out-of-range",
            "unknown-time-zone",
            "no-channels",
        ]
    );
    let d: DomainError = p.check().unwrap_err().into();
    match d {
        DomainError::Invalid(f) => assert_eq!(f.field, vec!["leadDays"]),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Local send time: the 09:00 rule and daylight saving
// ---------------------------------------------------------------------------------------------

#[test]
fn nine_oclock_in_new_york_before_and_after_the_spring_change() {
    // 2026-03-07 09:00 EST (UTC−5) = 14:00Z; 2026-03-09 09:00 EDT (UTC−4) = 13:00Z.
    let ny = tz("America/New_York");
    assert_eq!(
        local_instant(ny, date("2026-03-07"), hm(9, 0)),
        Some(utc("2026-03-07T14:00:00Z"))
    );
    assert_eq!(
        local_instant(ny, date("2026-03-09"), hm(9, 0)),
        Some(utc("2026-03-09T13:00:00Z"))
    );
    // On the change day itself 09:00 is after 03:00 EDT: 13:00Z.
    assert_eq!(
        local_instant(ny, date("2026-03-08"), hm(9, 0)),
        Some(utc("2026-03-08T13:00:00Z"))
    );
}

#[test]
fn a_send_time_in_the_spring_gap_moves_to_the_end_of_the_gap() {
    // 2026-03-08 in New York: local 02:00–02:59 does not exist (02:00 EST → 03:00 EDT). Rule
    // (local_instant): the first instant after it, 03:00 EDT = 03:00 + 4 h = 07:00Z. 01:59 EST
    // still exists: 01:59 + 5 h = 06:59Z.
    let ny = tz("America/New_York");
    let d = date("2026-03-08");
    assert_eq!(
        local_instant(ny, d, hm(2, 0)),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        local_instant(ny, d, hm(2, 30)),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        local_instant(ny, d, hm(1, 59)),
        Some(utc("2026-03-08T06:59:00Z"))
    );
    assert_eq!(
        local_instant(ny, d, hm(3, 0)),
        Some(utc("2026-03-08T07:00:00Z"))
    );
}

#[test]
fn an_ambiguous_send_time_in_the_fall_overlap_takes_the_earlier_instant() {
    // 2026-11-01 in New York: 01:00–01:59 happens twice, first in EDT (UTC−4) then in EST
    // (UTC−5). Rule: the earlier, 01:00 EDT = 05:00Z (not 01:00 EST = 06:00Z).
    let ny = tz("America/New_York");
    let d = date("2026-11-01");
    assert_eq!(
        local_instant(ny, d, hm(1, 0)),
        Some(utc("2026-11-01T05:00:00Z"))
    );
    assert_eq!(
        local_instant(ny, d, hm(1, 30)),
        Some(utc("2026-11-01T05:30:00Z"))
    );
    // 09:00 that day is EST: 14:00Z; the day before is EDT: 13:00Z.
    assert_eq!(
        local_instant(ny, d, hm(9, 0)),
        Some(utc("2026-11-01T14:00:00Z"))
    );
    assert_eq!(
        local_instant(ny, date("2026-10-31"), hm(9, 0)),
        Some(utc("2026-10-31T13:00:00Z"))
    );
}

#[test]
fn nine_oclock_in_kolkata_is_half_past_three_utc_all_year() {
    // IST = UTC+05:30, no DST: 09:00 − 05:30 = 03:30Z, in January as in July.
    let k = tz("Asia/Kolkata");
    for d in ["2026-01-15", "2026-06-01", "2026-07-15"] {
        let expected = utc(&format!("{d}T03:30:00Z"));
        assert_eq!(local_instant(k, date(d), hm(9, 0)), Some(expected), "{d}");
    }
}

#[test]
fn nine_oclock_in_auckland_falls_on_the_previous_utc_day() {
    // Southern summer, NZDT = UTC+13: 2026-01-15 09:00 − 13 h = 2026-01-14 20:00Z.
    // Winter, NZST = UTC+12: 2026-07-15 09:00 − 12 h = 2026-07-14 21:00Z.
    // Around the end of DST (2026-04-05 03:00 NZDT → 02:00 NZST): 04-04 09:00 NZDT = 04-03
    // 20:00Z, 04-05 09:00 NZST = 04-04 21:00Z.
    let a = tz("Pacific/Auckland");
    for (d, expected) in [
        ("2026-01-15", "2026-01-14T20:00:00Z"),
        ("2026-07-15", "2026-07-14T21:00:00Z"),
        ("2026-04-04", "2026-04-03T20:00:00Z"),
        ("2026-04-05", "2026-04-04T21:00:00Z"),
    ] {
        assert_eq!(
            local_instant(a, date(d), hm(9, 0)),
            Some(utc(expected)),
            "{d}"
        );
    }
    // Start of DST, 2026-09-27 02:00 NZST → 03:00 NZDT: 02:30 is in the gap and moves to
    // 03:00 NZDT = 03:00 − 13 h = 2026-09-26 14:00Z.
    assert_eq!(
        local_instant(a, date("2026-09-27"), hm(2, 30)),
        Some(utc("2026-09-26T14:00:00Z"))
    );
}

// ---------------------------------------------------------------------------------------------
// Occurrences
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_york_tenants_reminders_across_the_spring_change() {
    // Due 2026-03-09, leads 2, 1, 0 at 09:00 New York: 03-07 (EST) 14:00Z, 03-08 (EDT from
    // 03:00) 13:00Z, 03-09 (EDT) 13:00Z. Consecutive reminders 23 h apart across the change.
    let s = schedule("America/New_York", &[0, 2, 1], None);
    let occ = lead_occurrences(&item(DueKind::CertificateExpiry, "2026-03-09"), &s);
    assert_eq!(steps(&occ), vec![lead(2), lead(1), lead(0)]);
    assert_eq!(
        sends(&occ),
        vec![
            utc("2026-03-07T14:00:00Z"),
            utc("2026-03-08T13:00:00Z"),
            utc("2026-03-09T13:00:00Z"),
        ]
    );
    assert_eq!(occ[0].send_at + TimeDelta::hours(23), occ[1].send_at);
    assert_eq!(
        occ.iter().map(|o| o.local_date).collect::<Vec<_>>(),
        vec![date("2026-03-07"), date("2026-03-08"), date("2026-03-09")]
    );
}

#[test]
fn the_certificate_defaults_for_a_certificate_expiring_in_new_york() {
    // Due 2026-12-31, leads 90, 60, 30, 7, 1 (issue 7):
    //   90 days before: 2026-12-31 − 90 = 2026-10-02 (Dec 31 → Dec 1 is 30, → Nov 1 is 60,
    //   → Oct 2 is 90); EDT, 09:00 + 4 h = 13:00Z.
    //   60: 2026-11-01 (the fall-back day; 09:00 is EST): 14:00Z.
    //   30: 2026-12-01 EST: 14:00Z. 7: 2026-12-24: 14:00Z. 1: 2026-12-30: 14:00Z.
    let s = DueKind::CertificateExpiry
        .default_policy("America/New_York")
        .check()
        .unwrap();
    let occ = lead_occurrences(&item(DueKind::CertificateExpiry, "2026-12-31"), &s);
    assert_eq!(
        sends(&occ),
        vec![
            utc("2026-10-02T13:00:00Z"),
            utc("2026-11-01T14:00:00Z"),
            utc("2026-12-01T14:00:00Z"),
            utc("2026-12-24T14:00:00Z"),
            utc("2026-12-30T14:00:00Z"),
        ]
    );
    assert_eq!(
        occ.iter()
            .map(Occurrence::days_until_due)
            .collect::<Vec<_>>(),
        vec![90, 60, 30, 7, 1]
    );
}

#[test]
fn february_29_with_a_365_day_and_a_1_day_lead() {
    // Issue 7: "a due date of February 29". 2028-02-29 − 365 days: 2027-02-28 + 365 days is
    // 2028-02-28 (no Feb 29 in between), so − 365 days from Feb 29 is 2027-03-01. − 1 day is
    // 2028-02-28. Both before New York's second Sunday of March (EST): 09:00 + 5 h = 14:00Z.
    // Overdue by a week: 2028-02-29 + 7 = 2028-03-07, still EST (DST starts 2028-03-12).
    let s = schedule("America/New_York", &[365, 1], Some(7));
    let i = item(DueKind::CertificateExpiry, "2028-02-29");
    let occ = lead_occurrences(&i, &s);
    assert_eq!(
        occ.iter().map(|o| o.local_date).collect::<Vec<_>>(),
        vec![date("2027-03-01"), date("2028-02-28")]
    );
    assert_eq!(
        sends(&occ),
        vec![utc("2027-03-01T14:00:00Z"), utc("2028-02-28T14:00:00Z")]
    );
    let first_overdue = overdue_occurrence(&i, &s, 1).unwrap();
    assert_eq!(first_overdue.local_date, date("2028-03-07"));
    assert_eq!(first_overdue.send_at, utc("2028-03-07T14:00:00Z"));
    assert_eq!(first_overdue.days_until_due(), -7);
}

#[test]
fn lead_times_across_month_ends() {
    // In UTC, 09:00 local is 09:00Z.
    // Due 2026-03-31: − 30 = 2026-03-01; − 31 = 2026-02-28 (2026 is no leap year).
    // Due 2026-05-01: − 1 = 2026-04-30. Due 2026-01-01: − 1 = 2025-12-31.
    let s = schedule("UTC", &[31, 30], None);
    let occ = lead_occurrences(&item(DueKind::PolicyReview, "2026-03-31"), &s);
    assert_eq!(
        sends(&occ),
        vec![utc("2026-02-28T09:00:00Z"), utc("2026-03-01T09:00:00Z")]
    );
    let s = schedule("UTC", &[1], None);
    let occ = lead_occurrences(&item(DueKind::PolicyReview, "2026-05-01"), &s);
    assert_eq!(sends(&occ), vec![utc("2026-04-30T09:00:00Z")]);
    let occ = lead_occurrences(&item(DueKind::PolicyReview, "2026-01-01"), &s);
    assert_eq!(sends(&occ), vec![utc("2025-12-31T09:00:00Z")]);
}

#[test]
fn overdue_repetitions_follow_the_cadence_until_resolved() {
    // Due 2026-06-01 UTC, lead 0, weekly: 06-01 (lead 0), then overdue 1 on 06-08, 2 on 06-15,
    // 3 on 06-22, 4 on 06-29 — all at 09:00Z. The window [06-01, 07-01) holds five.
    let s = schedule("UTC", &[0], Some(7));
    let mut i = item(DueKind::CorrectiveActionDue, "2026-06-01");
    let occ = due_between(
        &i,
        &s,
        utc("2026-06-01T00:00:00Z"),
        utc("2026-07-01T00:00:00Z"),
    );
    assert_eq!(
        steps(&occ),
        vec![lead(0), overdue(1), overdue(2), overdue(3), overdue(4)]
    );
    assert_eq!(
        sends(&occ),
        vec![
            utc("2026-06-01T09:00:00Z"),
            utc("2026-06-08T09:00:00Z"),
            utc("2026-06-15T09:00:00Z"),
            utc("2026-06-22T09:00:00Z"),
            utc("2026-06-29T09:00:00Z"),
        ]
    );
    // A year later it still repeats: 2027-06-07 is 371 days = 53 weeks after 2026-06-01.
    let later = due_between(
        &i,
        &s,
        utc("2027-06-07T00:00:00Z"),
        utc("2027-06-08T00:00:00Z"),
    );
    assert_eq!(steps(&later), vec![overdue(53)]);
    // Resolved: nothing at all, not even the lead reminders.
    i.resolved = true;
    assert!(
        due_between(
            &i,
            &s,
            utc("2026-01-01T00:00:00Z"),
            utc("2028-01-01T00:00:00Z")
        )
        .is_empty()
    );
    assert_eq!(overdue_occurrence(&i, &s, 1), None);
    // No cadence: nothing after the due date.
    let s = schedule("UTC", &[0], None);
    let i = item(DueKind::CorrectiveActionDue, "2026-06-01");
    assert_eq!(
        steps(&due_between(
            &i,
            &s,
            utc("2026-06-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z")
        )),
        vec![lead(0)]
    );
    assert_eq!(overdue_occurrence(&i, &s, 1), None);
}

#[test]
fn overdue_repetitions_keep_the_local_hour_across_dst() {
    // Due 2026-10-25 in New York, weekly: overdue 1 on 2026-11-01 (the fall-back day, 09:00
    // EST = 14:00Z), while the due date itself is EDT (13:00Z).
    let s = schedule("America/New_York", &[0], Some(7));
    let i = item(DueKind::RiskReview, "2026-10-25");
    assert_eq!(
        sends(&lead_occurrences(&i, &s)),
        vec![utc("2026-10-25T13:00:00Z")]
    );
    assert_eq!(
        overdue_occurrence(&i, &s, 1).unwrap().send_at,
        utc("2026-11-01T14:00:00Z")
    );
    assert_eq!(overdue_occurrence(&i, &s, 0), None);
}

#[test]
fn a_disabled_policy_schedules_nothing() {
    let mut p = policy("UTC", &[7], Some(7));
    p.enabled = false;
    let s = p.check().unwrap();
    let i = item(DueKind::CertificateExpiry, "2026-06-01");
    assert!(lead_occurrences(&i, &s).is_empty());
    assert_eq!(next_occurrence(&i, &s, utc("2026-01-01T00:00:00Z")), None);
}

#[test]
fn the_window_is_half_open() {
    // Lead 7 on due 2026-06-08 UTC: 2026-06-01 09:00Z. A window ending at that instant excludes
    // it; one starting at it includes it; an empty or reversed window holds nothing.
    let s = schedule("UTC", &[7], None);
    let i = item(DueKind::CertificateExpiry, "2026-06-08");
    let t = utc("2026-06-01T09:00:00Z");
    let hour = TimeDelta::hours(1);
    assert!(due_between(&i, &s, t - hour, t).is_empty());
    assert_eq!(steps(&due_between(&i, &s, t, t + hour)), vec![lead(7)]);
    assert_eq!(
        steps(&due_between(
            &i,
            &s,
            t - TimeDelta::microseconds(1),
            t + TimeDelta::microseconds(1)
        )),
        vec![lead(7)]
    );
    assert!(due_between(&i, &s, t, t).is_empty());
    assert!(due_between(&i, &s, t + hour, t - hour).is_empty());
}

#[test]
fn minute_ticks_across_a_day_see_the_reminder_exactly_once() {
    // 1,440 one-minute ticks over 2026-03-08 in New York (the spring change): the lead-1
    // reminder of a 2026-03-09 due date, 13:00Z, is found by one tick only.
    let s = schedule("America/New_York", &[1], Some(7));
    let i = item(DueKind::CertificateExpiry, "2026-03-09");
    let start = utc("2026-03-08T00:00:00Z");
    let mut found = Vec::new();
    for m in 0..1440 {
        let from = start + TimeDelta::minutes(m);
        for o in due_between(&i, &s, from, from + TimeDelta::minutes(1)) {
            found.push((m, o.send_at));
        }
    }
    // 13:00Z is minute 13 × 60 = 780 of the day.
    assert_eq!(found, vec![(780, utc("2026-03-08T13:00:00Z"))]);
}

#[test]
fn next_occurrence_is_the_first_at_or_after_the_instant() {
    // Due 2026-06-08 UTC, leads 7, 1, weekly: 06-01, 06-07, then 06-15, 06-22 ... at 09:00Z.
    let s = schedule("UTC", &[7, 1], Some(7));
    let i = item(DueKind::CertificateExpiry, "2026-06-08");
    let at = |s: &str| utc(s);
    let next = |t: &str| next_occurrence(&i, &s, at(t)).map(|o| (o.step, o.send_at));
    assert_eq!(
        next("2026-01-01T00:00:00Z"),
        Some((lead(7), at("2026-06-01T09:00:00Z")))
    );
    assert_eq!(
        next("2026-06-01T09:00:00Z"),
        Some((lead(7), at("2026-06-01T09:00:00Z")))
    );
    assert_eq!(
        next("2026-06-01T09:00:01Z"),
        Some((lead(1), at("2026-06-07T09:00:00Z")))
    );
    assert_eq!(
        next("2026-06-07T10:00:00Z"),
        Some((overdue(1), at("2026-06-15T09:00:00Z")))
    );
    // 2026-09-01 is 85 days after the due date; the next multiple of 7 is 91 → 2026-09-07.
    assert_eq!(
        next("2026-09-01T00:00:00Z"),
        Some((overdue(13), at("2026-09-07T09:00:00Z")))
    );
}

// ---------------------------------------------------------------------------------------------
// Catch-up after an outage
// ---------------------------------------------------------------------------------------------

#[test]
fn after_an_outage_only_the_latest_missed_reminder_is_sent() {
    // Certificate due 2026-12-31 UTC, defaults 90, 60, 30, 7, 1: 10-02, 11-01, 12-01, 12-24,
    // 12-30 at 09:00Z. The scheduler was down from 2026-10-01 to 2026-12-10: the 90-, 60- and
    // 30-day reminders fell in the outage; only the 30-day one (the latest) is sent, the
    // others are reported as skipped.
    let s = DueKind::CertificateExpiry
        .default_policy("UTC")
        .check()
        .unwrap();
    let i = item(DueKind::CertificateExpiry, "2026-12-31");
    let CatchUp { send, skipped } = catch_up(
        &i,
        &s,
        utc("2026-10-01T00:00:00Z"),
        utc("2026-12-10T00:00:00Z"),
    );
    let send = send.unwrap();
    assert_eq!(
        (send.step, send.send_at),
        (lead(30), utc("2026-12-01T09:00:00Z"))
    );
    assert_eq!(steps(&skipped), vec![lead(90), lead(60)]);
    // An outage past the due date: the latest is the first weekly overdue one (2027-01-07);
    // the 7- and 1-day reminders are skipped.
    let c = catch_up(
        &i,
        &s,
        utc("2026-12-20T00:00:00Z"),
        utc("2027-01-10T00:00:00Z"),
    );
    assert_eq!(c.send.unwrap().step, overdue(1));
    assert_eq!(steps(&c.skipped), vec![lead(7), lead(1)]);
    // Nothing missed: nothing to send.
    assert_eq!(
        catch_up(
            &i,
            &s,
            utc("2026-12-02T00:00:00Z"),
            utc("2026-12-20T00:00:00Z")
        ),
        CatchUp::default()
    );
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

#[test]
fn the_idempotency_key_is_tenant_subject_kind_due_date_and_step() {
    // Issue 7: "its idempotency key is (tenant, subject, kind, due date, lead time)".
    let s = schedule("UTC", &[365], Some(7));
    let i = item(DueKind::CertificateExpiry, "2028-02-29");
    let o = &lead_occurrences(&i, &s)[0];
    let key = "rem:00000000-0000-0000-0000-000000000001:00000000-0000-0000-0000-000000000002:\
               certificate-expiry:2028-02-29:lead-365";
    assert_eq!(o.idempotency_key(), key);
    // No '.': usable as a Standard Webhooks webhook-id.
    assert!(!key.contains('.'));
    // v5 UUID of that key in the reminder namespace, computed with Python:
    // uuid.uuid5(UUID('6c8a8588-8ec9-53de-8cbe-b6a7c047c00d'), key).
    assert_eq!(
        o.idempotency_uuid(),
        Uuid::parse_str("550acec7-64d3-55c1-82e9-30fb852206cd").unwrap()
    );
    // The namespace is what its doc says: uuid5(NAMESPACE_URL, "urn:grc:reminder").
    assert_eq!(
        REMINDER_NAMESPACE,
        Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:grc:reminder")
    );
    let od = overdue_occurrence(&i, &s, 2).unwrap();
    assert!(od.idempotency_key().ends_with(":2028-02-29:overdue-2"));
    // A renewed certificate (new due date) gets new keys.
    let renewed = item(DueKind::CertificateExpiry, "2031-02-28");
    assert_ne!(
        lead_occurrences(&renewed, &s)[0].idempotency_key(),
        o.idempotency_key()
    );
}

#[test]
fn delivery_keys_add_channel_and_target_and_calendar_uids_ignore_the_due_date() {
    let s = schedule("UTC", &[7], None);
    let o = lead_occurrences(&item(DueKind::BaaEnd, "2026-06-08"), &s).remove(0);
    let base = o.idempotency_key();
    assert_eq!(
        delivery_key(
            &o,
            Channel::Email,
            &DeliveryTarget::Email("Ops@Example.ORG".into())
        ),
        format!("{base}:email:email-ops@example.org")
    );
    assert_eq!(
        delivery_key(
            &o,
            Channel::InApp,
            &DeliveryTarget::User(Uuid::from_u128(5))
        ),
        format!("{base}:in-app:user-00000000-0000-0000-0000-000000000005")
    );
    assert_eq!(
        delivery_key(
            &o,
            Channel::Webhook,
            &DeliveryTarget::Endpoint(Uuid::from_u128(6))
        ),
        format!("{base}:webhook:endpoint-00000000-0000-0000-0000-000000000006")
    );
    // uuid.uuid5(UUID('6c8a8588-...'), 'cal:<tenant>:<subject>:certificate-expiry') in Python.
    assert_eq!(
        calendar_uid(tenant(), subject(), DueKind::CertificateExpiry),
        "043462d0-cdac-5cd1-8b63-59b7844be80e@grc"
    );
}

#[test]
fn escalated_occurrences_add_the_escalation_roles() {
    // Breach deadline defaults: leads 30, 14, 7, 3, 1, escalation within 7 days to owners.
    let s = DueKind::BreachNotificationDeadline
        .default_policy("UTC")
        .check()
        .unwrap();
    let i = item(DueKind::BreachNotificationDeadline, "2026-06-30");
    let occ = lead_occurrences(&i, &s);
    assert_eq!(
        occ.iter().map(|o| o.escalated).collect::<Vec<_>>(),
        vec![false, false, true, true, true]
    );
    let base = vec![
        RecipientRole::SubjectOwner,
        RecipientRole::ComplianceManager,
    ];
    let mut escalated = base.clone();
    escalated.push(RecipientRole::Owner);
    assert_eq!(s.recipient_roles(&occ[1]), base);
    assert_eq!(s.recipient_roles(&occ[2]), escalated);
    // Overdue (daily): escalated too. 2026-06-30 + 1 day = 07-01.
    let od = overdue_occurrence(&i, &s, 1).unwrap();
    assert_eq!(od.local_date, date("2026-07-01"));
    assert!(od.escalated);
    assert_eq!(s.recipient_roles(&od), escalated);
}

// ---------------------------------------------------------------------------------------------
// Digest
// ---------------------------------------------------------------------------------------------

#[test]
fn the_digest_option_is_validated() {
    let ok = DigestOption {
        enabled: true,
        ..DigestOption::default()
    };
    assert!(ok.check("UTC").is_ok());
    let mut bad = ok.clone();
    bad.send_hour = 24;
    assert_eq!(
        bad.check("UTC").unwrap_err(),
        PolicyError::SendHourOutOfRange { hour: 24 }
    );
    let mut bad = ok.clone();
    bad.send_minute = 60;
    assert_eq!(
        bad.check("UTC").unwrap_err(),
        PolicyError::SendMinuteOutOfRange { minute: 60 }
    );
    let mut bad = ok.clone();
    bad.time_zone = Some("Atlantis/Capital".into());
    assert_eq!(bad.check("UTC").unwrap_err().code(), "unknown-time-zone");
    // The tenant's zone is checked when the member has none.
    assert_eq!(ok.check("Nowhere").unwrap_err().code(), "unknown-time-zone");
    let mut bad = ok.clone();
    bad.channels = vec![];
    assert_eq!(bad.check("UTC").unwrap_err(), PolicyError::NoChannels);
    let mut bad = ok.clone();
    bad.channels = vec![Channel::Email, Channel::Webhook];
    let e = bad.check("UTC").unwrap_err();
    assert_eq!(
        e,
        PolicyError::ChannelNotAllowed {
            channel: Channel::Webhook
        }
    );
    assert_eq!((e.code(), e.field()), ("channel-not-allowed", "channels"));
}

#[test]
fn daily_digests_at_the_members_local_time_cover_the_day_before() {
    // A member in Asia/Kolkata (own zone) at 08:00: 08:00 − 05:30 = 02:30Z each day. Over
    // [2026-06-01T00:00Z, 2026-06-03T00:00Z): digests of 06-01 and 06-02; each covers from the
    // previous day's 02:30Z.
    let d = DigestOption {
        enabled: true,
        send_hour: 8,
        time_zone: Some("Asia/Kolkata".into()),
        ..DigestOption::default()
    }
    .check("America/New_York")
    .unwrap();
    let runs = d.due_between(utc("2026-06-01T00:00:00Z"), utc("2026-06-03T00:00:00Z"));
    assert_eq!(
        runs.iter()
            .map(|r| (r.local_date, r.send_at, r.covers_from))
            .collect::<Vec<_>>(),
        vec![
            (
                date("2026-06-01"),
                utc("2026-06-01T02:30:00Z"),
                utc("2026-05-31T02:30:00Z")
            ),
            (
                date("2026-06-02"),
                utc("2026-06-02T02:30:00Z"),
                utc("2026-06-01T02:30:00Z")
            ),
        ]
    );
    assert!(d.holds(Channel::Email));
    assert!(!d.holds(Channel::InApp));
    assert_eq!(
        digest_key(tenant(), Uuid::from_u128(9), date("2026-06-02")),
        "digest:00000000-0000-0000-0000-000000000001:00000000-0000-0000-0000-000000000009:2026-06-02"
    );
    // Off: no runs, nothing held.
    let off = DigestOption::default().check("UTC").unwrap();
    assert!(
        off.due_between(utc("2026-06-01T00:00:00Z"), utc("2026-06-09T00:00:00Z"))
            .is_empty()
    );
    assert!(!off.holds(Channel::Email));
}

#[test]
fn a_new_york_digest_across_the_fall_change_is_25_hours_long() {
    // 09:00 New York in the tenant's zone: 10-31 EDT 13:00Z, 11-01 EST 14:00Z: the digest of
    // 11-01 covers 25 hours.
    let d = DigestOption {
        enabled: true,
        ..DigestOption::default()
    }
    .check("America/New_York")
    .unwrap();
    let runs = d.due_between(utc("2026-11-01T00:00:00Z"), utc("2026-11-02T00:00:00Z"));
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].send_at, utc("2026-11-01T14:00:00Z"));
    assert_eq!(runs[0].covers_from, utc("2026-10-31T13:00:00Z"));
    assert_eq!(runs[0].send_at - runs[0].covers_from, TimeDelta::hours(25));
}

// ---------------------------------------------------------------------------------------------
// Retry schedule
// ---------------------------------------------------------------------------------------------

#[test]
fn the_retry_schedule_is_the_standard_webhooks_one_then_dead_letter() {
    // Standard Webhooks, "Deliverability and reliability", example schedule: immediately, then
    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; time since start 00:00:05,
    // 00:05:05, 00:35:05, 02:35:05, 07:35:05, 17:35:05, 31:35:05, 51:35:05, 75:35:05.
    let cumulative_hms = [
        (0, 0, 5),
        (0, 5, 5),
        (0, 35, 5),
        (2, 35, 5),
        (7, 35, 5),
        (17, 35, 5),
        (31, 35, 5),
        (51, 35, 5),
        (75, 35, 5),
    ];
    assert_eq!(RETRY_DELAYS_SECONDS.len(), 9);
    assert_eq!(MAX_ATTEMPTS, 10);
    let start = utc("2026-06-01T00:00:00Z");
    // Attempts take no time here: each retry counts from the one before.
    let mut at = start;
    for (attempt, (h, m, s)) in (1..).zip(cumulative_hms) {
        at = next_retry(attempt, at).unwrap();
        assert_eq!(
            at - start,
            TimeDelta::seconds(h * 3600 + m * 60 + s),
            "after attempt {attempt}"
        );
    }
    // 75:35:05 after the start, attempt 10 failed: dead-letter.
    assert_eq!(at, utc("2026-06-04T03:35:05Z"));
    assert_eq!(next_retry(10, at), None);
    assert_eq!(next_retry(11, at), None);
    // Nothing tried yet: go now.
    assert_eq!(next_retry(0, start), Some(start));
}

#[test]
fn retry_after_delays_a_retry_but_never_advances_or_revives_one() {
    let t = utc("2026-06-01T00:00:00Z");
    // After attempt 1 the schedule says +5 s; Retry-After: 120 → +120 s.
    assert_eq!(
        next_retry_after(1, t, Some(120)),
        Some(t + TimeDelta::seconds(120))
    );
    // After attempt 3 the schedule says +30 min; Retry-After: 60 does not bring it forward.
    assert_eq!(
        next_retry_after(3, t, Some(60)),
        Some(t + TimeDelta::minutes(30))
    );
    // A week is capped at a day; a negative value counts as 0.
    assert_eq!(
        next_retry_after(1, t, Some(7 * 86_400)),
        Some(t + TimeDelta::days(1))
    );
    assert_eq!(
        next_retry_after(1, t, Some(-5)),
        Some(t + TimeDelta::seconds(5))
    );
    assert_eq!(
        next_retry_after(1, t, None),
        Some(t + TimeDelta::seconds(5))
    );
    assert_eq!(next_retry_after(10, t, Some(60)), None);
}

// ---------------------------------------------------------------------------------------------
// Property: consecutive ticks cover every occurrence exactly once
// ---------------------------------------------------------------------------------------------

/// Zones for the properties: no DST, one-hour DST both hemispheres, a half-hour offset, a
/// half-hour DST shift (Lord Howe), and the extreme offsets UTC+14 and UTC−11.
const ZONES: [&str; 7] = [
    "UTC",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Split a 120-day span into consecutive ticks of random lengths: the ticks together return
    /// exactly what one window over the whole span returns, each occurrence once, and each
    /// occurrence's send instant lies in the tick that returned it.
    #[test]
    fn consecutive_ticks_see_each_occurrence_once(
        zone in 0usize..ZONES.len(),
        due_offset in 0i64..120,
        leads in proptest::collection::btree_set(0i32..60, 1..6),
        every in proptest::option::of(1i32..15),
        hour in 0i32..24,
        minute in 0i32..60,
        ticks in proptest::collection::vec(1i64..(3 * 86_400), 1..200),
    ) {
        let mut p = policy(ZONES[zone], &leads.iter().copied().collect::<Vec<_>>(), every);
        p.send_hour = hour;
        p.send_minute = minute;
        let s = p.check().unwrap();
        let due = date("2026-02-01") + TimeDelta::days(due_offset);
        let i = DueItem { due_on: due, ..item(DueKind::CertificateExpiry, "2026-01-01") };
        let start = utc("2026-01-01T00:00:00Z");
        let end = start + TimeDelta::days(240);
        let whole = due_between(&i, &s, start, end);
        let mut seen = Vec::new();
        let mut from = start;
        let mut k = 0usize;
        while from < end {
            let step = TimeDelta::seconds(ticks[k % ticks.len()]);
            k += 1;
            let to = (from + step).min(end);
            for o in due_between(&i, &s, from, to) {
                prop_assert!(from <= o.send_at && o.send_at < to);
                seen.push(o);
            }
            from = to;
        }
        prop_assert_eq!(&seen, &whole);
        let mut keys: Vec<String> = seen.iter().map(Occurrence::idempotency_key).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), seen.len());
        // And the whole window is what brute force finds: every lead occurrence and the first
        // 300 overdue repetitions (the span is 240 days, the cadence at least 1), filtered.
        let mut brute: Vec<Occurrence> = lead_occurrences(&i, &s)
            .into_iter()
            .chain((1..=300).filter_map(|n| overdue_occurrence(&i, &s, n)))
            .filter(|o| o.send_at >= start && o.send_at < end)
            .collect();
        brute.sort_by_key(|o| o.send_at);
        prop_assert_eq!(&whole, &brute);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `next_occurrence(at)` is the first occurrence of a window starting at `at`. The window
    /// is 400 days long: `at` is at most 200 days after 2026-01-01 and an unresolved item with
    /// a cadence of at most 9 days has an occurrence within 9 days of any date after its due
    /// date (2026-03-01), so the window always holds the next one.
    #[test]
    fn next_occurrence_is_the_first_of_the_window_from_it(
        zone in 0usize..ZONES.len(),
        leads in proptest::collection::btree_set(0i32..30, 0..4),
        every in 1i32..10,
        hour in 0i32..24,
        at_seconds in 0i64..(200 * 86_400),
    ) {
        let mut p = policy(ZONES[zone], &leads.iter().copied().collect::<Vec<_>>(), Some(every));
        p.send_hour = hour;
        let s = p.check().unwrap();
        let i = item(DueKind::TrainingDue, "2026-03-01");
        let at = utc("2026-01-01T00:00:00Z") + TimeDelta::seconds(at_seconds);
        let expected = due_between(&i, &s, at, at + TimeDelta::days(400)).into_iter().next();
        prop_assert_eq!(next_occurrence(&i, &s, at), expected);
    }
}
