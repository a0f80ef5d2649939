//! Hand-computed lifecycle cases for ISO/IEC 27001/27701 certificates (ISO/IEC 17021-1:2015,
//! IAF MD 26), SOC 2 and HITRUST, each citing the rule it checks (facts: primer §1.5, §6).
//! The expected dates were counted on a calendar, not computed by the code under test.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use grc_domain::certification::{
    AttestationPolicy, AttestationStatus, CertAudit, CertAuditKind as A, CertDecision,
    CertDecisionKind as D, CertDueKind, Certificate, CertificateStatus as S, Edition, ExpiryReason,
    Hitrust, HitrustKind, Opinion, Soc2Report, Standard, accreditation_body, dated_report_state,
    hitrust_interim_window,
};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(kind: D, on: &str, expires: Option<&str>) -> CertDecision {
    CertDecision {
        kind,
        on: d(on),
        expires: expires.map(d),
    }
}

fn certify(on: &str, expires: &str) -> CertDecision {
    dec(D::Certification, on, Some(expires))
}

fn audit(kind: A, start: &str, end: &str, majors: u32) -> CertAudit {
    CertAudit {
        kind,
        start: d(start),
        end: d(end),
        major_findings: majors,
    }
}

fn surv(end: &str) -> CertAudit {
    audit(A::Surveillance, end, end, 0)
}

fn iso(audits: &[CertAudit], decisions: &[CertDecision]) -> Certificate {
    Certificate::new(Standard::Iso27001, Edition::E2022, audits, decisions).unwrap()
}

fn iso_err(audits: &[CertAudit], decisions: &[CertDecision]) -> String {
    Certificate::new(Standard::Iso27001, Edition::E2022, audits, decisions)
        .unwrap_err()
        .to_string()
}

fn status(c: &Certificate, on: &str) -> S {
    c.status_on(d(on)).status
}

/// (kind, due, overdue) of the due events on `on`.
fn due(c: &Certificate, on: &str) -> Vec<(CertDueKind, NaiveDate, bool)> {
    c.due_events(d(on))
        .into_iter()
        .map(|e| (e.kind, e.due, e.overdue))
        .collect()
}

/// The reference certificate: decided 2023-03-15, printed expiry 2026-03-14 (3 years less a
/// day, as most certification bodies print it).
fn reference() -> Vec<CertDecision> {
    vec![certify("2023-03-15", "2026-03-14")]
}

// --- The initial cycle (17021-1 9.1.3.2: the cycle begins with the certification decision) ---

#[test]
fn c01_active_from_the_decision_day_and_pending_before() {
    // 9.1.3.2: the first 3-year cycle begins with the certification decision.
    let c = iso(&[], &reference());
    assert_eq!(status(&c, "2023-03-14"), S::Pending);
    let s = c.status_on(d("2023-03-15"));
    assert_eq!(s.status, S::Active);
    assert_eq!(s.since, Some(d("2023-03-15")));
    assert_eq!(s.valid_until, Some(d("2026-03-14")));
}

#[test]
fn c02_first_surveillance_due_exactly_12_months_after_the_decision() {
    // 9.6.2.2: the first surveillance no later than 12 months from the decision date.
    let c = iso(&[], &reference());
    let e = c.due_events(d("2023-04-01"));
    assert_eq!(e[0].kind, CertDueKind::FirstSurveillance);
    assert_eq!(e[0].opens, Some(d("2023-03-15")));
    assert_eq!(e[0].due, d("2024-03-15"));
    assert!(!e[0].overdue);
    // On the due day itself it is not yet overdue; the day after it is.
    assert!(!c.due_events(d("2024-03-15"))[0].overdue);
    assert!(c.due_events(d("2024-03-16"))[0].overdue);
}

#[test]
fn c03_first_surveillance_after_a_leap_day_decision_is_due_on_february_28() {
    // 9.6.2.2 with calendar months: 2024-02-29 + 12 months has no Feb 29 → 2025-02-28.
    let c = iso(&[], &[certify("2024-02-29", "2027-02-28")]);
    assert_eq!(c.due_events(d("2024-03-01"))[0].due, d("2025-02-28"));
}

#[test]
fn c04_first_surveillance_after_a_month_end_decision() {
    // 9.6.2.2: 2023-01-31 + 12 months = 2024-01-31; 2023-02-28 + 12 months = 2024-02-28
    // (not the 29th: the month's last day is not carried).
    let a = iso(&[], &[certify("2023-01-31", "2026-01-30")]);
    assert_eq!(a.due_events(d("2023-02-01"))[0].due, d("2024-01-31"));
    let b = iso(&[], &[certify("2023-02-28", "2026-02-27")]);
    assert_eq!(b.due_events(d("2023-03-01"))[0].due, d("2024-02-28"));
}

#[test]
fn c05_a_surveillance_is_owed_in_each_calendar_year_but_the_recertification_year() {
    // 9.1.3.3 / 9.6.2.2: at least once a calendar year except recertification years. Cycle
    // 2023-03-15 → 2026-03-14: 2024 and 2025 owe one; 2023 is the certification year, 2026 the
    // recertification year.
    let c = iso(&[], &reference());
    assert_eq!(
        due(&c, "2023-04-01"),
        vec![
            (CertDueKind::FirstSurveillance, d("2024-03-15"), false),
            (CertDueKind::AnnualSurveillance, d("2024-12-31"), false),
            (CertDueKind::AnnualSurveillance, d("2025-12-31"), false),
            (CertDueKind::Recertification, d("2026-03-14"), false),
        ]
    );
}

#[test]
fn c06_one_surveillance_meets_the_first_and_its_calendar_year() {
    // 9.6.2.2: a surveillance on 2024-02-20 is within 12 months and in 2024.
    let c = iso(&[surv("2024-02-20")], &reference());
    assert_eq!(
        due(&c, "2024-03-01"),
        vec![
            (CertDueKind::AnnualSurveillance, d("2025-12-31"), false),
            (CertDueKind::Recertification, d("2026-03-14"), false),
        ]
    );
    assert_eq!(c.first_surveillance_on_time(), Some(true));
}

#[test]
fn c07_a_surveillance_in_the_certification_year_still_leaves_the_next_year_owed() {
    // 9.1.3.3: a surveillance in December 2023 meets the 12-month rule but not the 2024 one.
    let c = iso(&[surv("2023-12-05")], &reference());
    assert_eq!(
        due(&c, "2024-01-05"),
        vec![
            (CertDueKind::AnnualSurveillance, d("2024-12-31"), false),
            (CertDueKind::AnnualSurveillance, d("2025-12-31"), false),
            (CertDueKind::Recertification, d("2026-03-14"), false),
        ]
    );
}

#[test]
fn c08_a_late_first_surveillance_is_overdue_then_recorded_as_late() {
    // 9.6.2.2: none by 2024-03-15 → overdue on 2024-03-16; one on 2024-04-02 is late.
    let c = iso(&[], &reference());
    assert_eq!(
        due(&c, "2024-03-16")[0],
        (CertDueKind::FirstSurveillance, d("2024-03-15"), true)
    );
    let late = iso(&[surv("2024-04-02")], &reference());
    assert_eq!(late.first_surveillance_on_time(), Some(false));
    assert_eq!(status(&late, "2024-04-02"), S::Active);
}

#[test]
fn c09_a_recertification_year_owes_no_surveillance() {
    // 9.1.3.3: cycle 2023-01-10 → 2026-01-09; surveillance in 2024; the recertification audit
    // ends 2025-11-20, so 2025 is a recertification year and owes none.
    let decisions = [certify("2023-01-10", "2026-01-09")];
    let c = iso(
        &[
            surv("2024-01-08"),
            audit(A::Recertification, "2025-11-18", "2025-11-20", 0),
        ],
        &decisions,
    );
    assert_eq!(
        due(&c, "2025-12-01"),
        vec![(CertDueKind::Recertification, d("2026-01-09"), false)]
    );
}

#[test]
fn c10_the_expiry_date_is_the_last_valid_day() {
    // 9.6.3: not recertified by expiry → the certification expires.
    let c = iso(&[], &reference());
    assert_eq!(status(&c, "2026-03-14"), S::Active);
    let s = c.status_on(d("2026-03-15"));
    assert_eq!(s.status, S::Expired);
    assert_eq!(s.expiry_reason, Some(ExpiryReason::PrintedExpiry));
    assert_eq!(s.since, Some(d("2026-03-15")));
}

#[test]
fn c11_an_expired_certificate_is_restorable_for_6_months() {
    // 9.6.3.2.5: restorable within 6 months: 2026-03-14 + 6 months = 2026-09-14.
    let c = iso(&[], &reference());
    assert_eq!(
        c.status_on(d("2026-03-15")).restorable_until,
        Some(d("2026-09-14"))
    );
    assert_eq!(
        due(&c, "2026-09-14"),
        vec![(CertDueKind::Restoration, d("2026-09-14"), false)]
    );
    // The day after the window closes nothing can restore it and nothing is due.
    assert_eq!(c.status_on(d("2026-09-15")).restorable_until, None);
    assert!(due(&c, "2026-09-15").is_empty());
}

// --- Recertification (9.6.3) ---

#[test]
fn c12_recertification_before_expiry_keeps_the_cycle_dates() {
    // 9.6.3.2.3: decided before expiry, the new expiry is based on the existing one:
    // 2026-03-14 + 3 years = 2029-03-14.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-02-01", Some("2029-03-14")));
    let c = iso(&[], &ds);
    let s = c.status_on(d("2026-03-15"));
    assert_eq!(s.status, S::Active);
    assert_eq!(s.cycle_start, Some(d("2026-02-01")));
    assert_eq!(s.valid_until, Some(d("2029-03-14")));
    assert!(!c.restored_on(d("2026-03-15")));
    // The new cycle owes surveillances in 2027 and 2028 (2026 began it, 2029 recertifies).
    assert_eq!(
        due(&c, "2026-03-15"),
        vec![
            (CertDueKind::AnnualSurveillance, d("2027-12-31"), false),
            (CertDueKind::AnnualSurveillance, d("2028-12-31"), false),
            (CertDueKind::Recertification, d("2029-03-14"), false),
        ]
    );
}

#[test]
fn c13_recertification_cannot_stretch_the_cycle_past_3_years_from_the_old_expiry() {
    // 9.6.3.2.3 / 9.1.3.2: 2026-03-14 + 36 months = 2029-03-14; 2029-03-15 is refused.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-02-01", Some("2029-03-15")));
    assert!(iso_err(&[], &ds).contains("3 years"));
}

#[test]
fn c14_recertification_decided_after_expiry_within_6_months_restores() {
    // 9.6.3.2.5: expired 2026-03-15; decided 2026-06-01 (inside the window) → restored,
    // effective from the decision; the gap stays expired; expiry based on the prior cycle.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-06-01", Some("2029-03-14")));
    let c = iso(&[], &ds);
    assert_eq!(status(&c, "2026-05-31"), S::Expired);
    assert_eq!(status(&c, "2026-06-01"), S::Active);
    assert!(c.restored_on(d("2026-06-01")));
    assert_eq!(
        c.status_on(d("2026-06-01")).valid_until,
        Some(d("2029-03-14"))
    );
}

#[test]
fn c15_restoration_on_the_last_day_of_the_window_is_accepted() {
    // 9.6.3.2.5: 2026-09-14 is the last day of the 6 months.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-09-14", Some("2029-03-14")));
    assert_eq!(status(&iso(&[], &ds), "2026-09-14"), S::Active);
}

#[test]
fn c16_recertification_decided_more_than_6_months_after_expiry_is_refused() {
    // 9.6.3.2.5: after 2026-09-14 a new certification with at least a stage 2 is needed.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-09-15", Some("2029-03-14")));
    let e = iso_err(&[], &ds);
    assert!(e.contains("2026-09-14") && e.contains("stage 2"), "{e}");
}

#[test]
fn c17_a_restored_cycle_keeps_the_prior_cycle_dates() {
    // 9.6.3.2.5: the restored expiry is based on the prior cycle (≤ 2029-03-14), even though
    // the decision is later.
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-06-01", Some("2029-06-01")));
    assert!(iso_err(&[], &ds).contains("2029-03-14"));
}

#[test]
fn c18_recertification_must_extend_the_expiry() {
    let mut ds = reference();
    ds.push(dec(D::Recertification, "2026-02-01", Some("2026-03-14")));
    assert!(iso_err(&[], &ds).contains("extend"));
}

// --- Suspension, withdrawal, reduction of scope (9.6.5) ---

fn suspended_2024_06_01() -> Vec<CertDecision> {
    let mut ds = reference();
    ds.push(dec(D::Suspension, "2024-06-01", None));
    ds
}

#[test]
fn c19_a_suspended_certificate_is_temporarily_invalid_with_a_6_month_horizon() {
    // 9.6.5: suspended → temporarily invalid; "in most cases would not exceed 6 months":
    // 2024-06-01 + 6 months = 2024-12-01.
    let c = iso(&[], &suspended_2024_06_01());
    assert_eq!(status(&c, "2024-05-31"), S::Active);
    let s = c.status_on(d("2024-06-01"));
    assert_eq!(s.status, S::Suspended);
    assert!(!s.is_valid());
    assert_eq!(s.since, Some(d("2024-06-01")));
    let e = c.due_events(d("2024-06-02"));
    let r = e
        .iter()
        .find(|e| e.kind == CertDueKind::SuspensionResolution)
        .unwrap();
    assert_eq!(r.due, d("2024-12-01"));
    assert!(!r.overdue);
    let late = c.due_events(d("2024-12-02"));
    assert!(
        late.iter()
            .any(|e| e.kind == CertDueKind::SuspensionResolution && e.overdue)
    );
}

#[test]
fn c20_a_lifted_suspension_restores_validity_on_the_lifting_day() {
    // 9.6.5: the suspension ends when the issue is resolved.
    let mut ds = suspended_2024_06_01();
    ds.push(dec(D::SuspensionLifted, "2024-08-15", None));
    let c = iso(&[], &ds);
    assert_eq!(status(&c, "2024-08-14"), S::Suspended);
    let s = c.status_on(d("2024-08-15"));
    assert_eq!(s.status, S::Active);
    assert_eq!(s.since, Some(d("2024-08-15")));
}

#[test]
fn c21_a_suspension_ending_in_withdrawal() {
    // 9.6.5: unresolved → withdrawal; withdrawn is terminal and owes nothing.
    let mut ds = suspended_2024_06_01();
    ds.push(dec(D::Withdrawal, "2024-11-30", None));
    let c = iso(&[], &ds);
    assert_eq!(status(&c, "2024-11-29"), S::Suspended);
    assert_eq!(status(&c, "2024-11-30"), S::Withdrawn);
    assert_eq!(status(&c, "2030-01-01"), S::Withdrawn);
    // Valid at most until the day before the withdrawal.
    assert_eq!(
        c.status_on(d("2024-12-01")).valid_until,
        Some(d("2024-11-29"))
    );
    assert!(due(&c, "2024-12-01").is_empty());
    // Nothing can follow a withdrawal.
    ds.push(dec(D::SuspensionLifted, "2024-12-10", None));
    assert!(iso_err(&[], &ds).contains("withdrawal"));
}

#[test]
fn c22_a_reduction_of_scope_ends_a_suspension() {
    // 9.6.5: unresolved → withdrawal or reduction of scope; the reduced scope is certified.
    let mut ds = suspended_2024_06_01();
    ds.push(dec(D::ScopeReduction, "2024-09-01", None));
    let c = iso(&[], &ds);
    assert_eq!(status(&c, "2024-08-31"), S::Suspended);
    assert_eq!(status(&c, "2024-09-01"), S::Active);
}

#[test]
fn c23_a_suspension_does_not_stop_the_expiry() {
    // 9.6.3: expiry applies whatever else happens; a suspended certificate still expires.
    let c = iso(&[], &suspended_2024_06_01());
    assert_eq!(status(&c, "2026-03-14"), S::Suspended);
    assert_eq!(status(&c, "2026-03-15"), S::Expired);
}

#[test]
fn c24_suspension_rules_refuse_impossible_sequences() {
    // 9.6.5: only an active certificate is suspended; only a suspended one is lifted.
    let mut lift = reference();
    lift.push(dec(D::SuspensionLifted, "2024-01-01", None));
    assert!(iso_err(&[], &lift).contains("not suspended"));
    let mut twice = suspended_2024_06_01();
    twice.push(dec(D::Suspension, "2024-07-01", None));
    assert!(iso_err(&[], &twice).contains("only an active"));
    let mut recert = suspended_2024_06_01();
    recert.push(dec(D::Recertification, "2026-01-10", Some("2029-03-14")));
    assert!(iso_err(&[], &recert).contains("lift the suspension"));
}

// --- The 2013 → 2022 transition (IAF MD 26:2023, primer §1.5) ---

fn iso2013(audits: &[CertAudit], decisions: &[CertDecision]) -> Result<Certificate, String> {
    Certificate::new(Standard::Iso27001, Edition::E2013, audits, decisions)
        .map_err(|e| e.to_string())
}

#[test]
fn c25_a_2013_certificate_is_valid_on_2025_10_31_and_invalid_on_2025_11_01() {
    // IAF MD 26: the transition ended 2025-10-31; product rule: invalid after it whatever the
    // printed expiry (2026-01-09 here).
    let c = iso2013(&[], &[certify("2023-01-10", "2026-01-09")]).unwrap();
    let on = c.status_on(d("2025-10-31"));
    assert_eq!(on.status, S::Active);
    assert_eq!(on.valid_until, Some(d("2025-10-31")));
    let after = c.status_on(d("2025-11-01"));
    assert_eq!(after.status, S::Expired);
    assert_eq!(after.expiry_reason, Some(ExpiryReason::TransitionEnd));
    // Not restorable: the edition itself is gone.
    assert_eq!(after.restorable_until, None);
    assert!(due(&c, "2025-11-01").is_empty());
}

#[test]
fn c26_a_2013_certificate_owes_its_transition_by_2025_10_31() {
    // IAF MD 26: the transition replaces recertification as the deadline, and the 2025
    // surveillance is owed while the certificate can still be valid (by 2025-10-31). Nothing
    // recorded since the 2023-01-10 decision: the first surveillance (2024-01-10) and the
    // 2024 one are overdue on 2025-06-01.
    let c = iso2013(&[], &[certify("2023-01-10", "2026-01-09")]).unwrap();
    assert_eq!(
        due(&c, "2025-06-01"),
        vec![
            (CertDueKind::FirstSurveillance, d("2024-01-10"), true),
            (CertDueKind::AnnualSurveillance, d("2024-12-31"), true),
            (CertDueKind::AnnualSurveillance, d("2025-10-31"), false),
            (CertDueKind::Transition, d("2025-10-31"), false),
        ]
    );
}

#[test]
fn c27_a_transitioned_certificate_keeps_its_printed_expiry() {
    // IAF MD 26: a certificate transitioned in time runs to its printed expiry.
    let c = iso2013(
        &[],
        &[
            certify("2023-01-10", "2026-01-09"),
            dec(D::Transition, "2025-03-01", None),
        ],
    )
    .unwrap();
    assert_eq!(status(&c, "2025-11-01"), S::Active);
    assert_eq!(
        c.status_on(d("2025-11-01")).valid_until,
        Some(d("2026-01-09"))
    );
    // Before the transition day the cut-off was still what applied.
    assert_eq!(
        c.status_on(d("2025-02-28")).valid_until,
        Some(d("2025-10-31"))
    );
}

#[test]
fn c28_no_transition_after_2025_10_31_and_none_for_a_2022_certificate() {
    // IAF MD 26: the period ended; a 2022 certificate has nothing to transition.
    let late = iso2013(
        &[],
        &[
            certify("2023-01-10", "2026-01-09"),
            dec(D::Transition, "2025-11-01", None),
        ],
    );
    assert!(late.unwrap_err().contains("2025-10-31"));
    let mut ds = reference();
    ds.push(dec(D::Transition, "2024-01-01", None));
    assert!(iso_err(&[], &ds).contains("2013"));
}

#[test]
fn c29_no_initial_audit_against_2013_from_2024_05_01() {
    // IAF MD 26: 18 months in (2024-05-01) no initial or recertification audit against 2013.
    let ok = iso2013(
        &[audit(A::Stage2, "2024-04-29", "2024-04-30", 0)],
        &[certify("2024-04-30", "2027-04-29")],
    );
    assert!(ok.is_ok());
    let refused = iso2013(
        &[audit(A::Stage2, "2024-04-30", "2024-05-01", 0)],
        &[certify("2024-05-02", "2027-05-01")],
    );
    assert!(refused.unwrap_err().contains("2024-05-01"));
    // Nor a recertification decision against 2013 from that day, unless transitioned first.
    let recert = iso2013(
        &[],
        &[
            certify("2022-06-01", "2025-05-31"),
            dec(D::Recertification, "2025-05-01", Some("2028-05-31")),
        ],
    );
    assert!(recert.unwrap_err().contains("transition"));
    let transitioned = iso2013(
        &[],
        &[
            certify("2022-06-01", "2025-05-31"),
            dec(D::Transition, "2025-04-01", None),
            dec(D::Recertification, "2025-05-01", Some("2028-05-31")),
        ],
    );
    assert!(transitioned.is_ok());
}

// --- The initial audit and the decision (9.3, 9.4, 9.1.3.2) ---

#[test]
fn c30_an_expiry_more_than_3_years_after_the_decision_is_refused() {
    // 9.1.3.2: 2023-03-15 + 36 months = 2026-03-15 is the latest expiry.
    assert!(
        iso(&[], &[certify("2023-03-15", "2026-03-15")])
            .status_on(d("2026-03-15"))
            .is_valid()
    );
    let e = iso_err(&[], &[certify("2023-03-15", "2026-03-16")]);
    assert!(e.contains("2026-03-15"), "{e}");
}

#[test]
fn c31_the_latest_expiry_after_a_leap_day_decision_is_february_28() {
    // 9.1.3.2: 2024-02-29 + 36 months = 2027-02-28 (no Feb 29 in 2027).
    assert!(
        Certificate::new(
            Standard::Iso27001,
            Edition::E2022,
            &[],
            &[certify("2024-02-29", "2027-02-28")]
        )
        .is_ok()
    );
    assert!(iso_err(&[], &[certify("2024-02-29", "2027-03-01")]).contains("2027-02-28"));
}

#[test]
fn c32_an_expiry_on_or_before_the_decision_is_refused() {
    assert!(iso_err(&[], &[certify("2023-03-15", "2023-03-15")]).contains("after the decision"));
}

#[test]
fn c33_a_surveillance_before_the_certification_decision_is_refused() {
    // 9.6.2: surveillance follows certification.
    let e = iso_err(&[surv("2023-03-14")], &reference());
    assert!(e.contains("before the certification decision"), "{e}");
    // Without any decision, a surveillance has nothing to follow.
    let none = iso_err(&[surv("2023-03-14")], &[]);
    assert!(
        none.contains("certification decision recorded first"),
        "{none}"
    );
}

#[test]
fn c34_the_decision_follows_stage_2() {
    // 9.3 / 9.4: the decision is taken on the audit's results.
    let e = iso_err(
        &[audit(A::Stage2, "2023-03-13", "2023-03-16", 0)],
        &reference(),
    );
    assert!(e.contains("before the certification decision"), "{e}");
    // Stage 2 cannot start before stage 1 ended.
    let e = iso_err(
        &[
            audit(A::Stage1, "2023-01-10", "2023-01-12", 0),
            audit(A::Stage2, "2023-01-11", "2023-01-13", 0),
        ],
        &reference(),
    );
    assert!(e.contains("stage 1"), "{e}");
}

#[test]
fn c35_majors_at_stage_2_must_be_decided_within_6_months() {
    // 9.4/9.5: stage 2 ended 2023-08-31; + 6 months = 2024-02-29 (a leap year's month end).
    let s2 = [audit(A::Stage2, "2023-08-28", "2023-08-31", 2)];
    assert!(
        Certificate::new(
            Standard::Iso27001,
            Edition::E2022,
            &s2,
            &[certify("2024-02-29", "2027-02-28")]
        )
        .is_ok()
    );
    let e = iso_err(&s2, &[certify("2024-03-01", "2027-02-28")]);
    assert!(e.contains("2024-02-29") && e.contains("stage 2"), "{e}");
    // Without majors there is no such limit.
    let minor = [audit(A::Stage2, "2023-08-28", "2023-08-31", 0)];
    assert!(
        iso(&minor, &[certify("2024-03-01", "2027-02-28")])
            .status_on(d("2024-03-01"))
            .is_valid()
    );
}

#[test]
fn c36_while_pending_with_majors_the_decision_is_due() {
    // 9.4/9.5: pending after a stage 2 with majors ending 2023-08-31 → due 2024-02-29.
    let c = iso(&[audit(A::Stage2, "2023-08-28", "2023-08-31", 1)], &[]);
    assert_eq!(status(&c, "2023-09-01"), S::Pending);
    assert_eq!(
        due(&c, "2024-03-01"),
        vec![(CertDueKind::CertificationDecision, d("2024-02-29"), true)]
    );
}

#[test]
fn c37_events_recorded_late_or_out_of_order_give_the_same_history() {
    // The status depends on the events' dates, not on when they were recorded.
    let audits = [surv("2024-02-20"), surv("2025-02-10")];
    let ds = [
        dec(D::SuspensionLifted, "2024-08-15", None),
        certify("2023-03-15", "2026-03-14"),
        dec(D::Suspension, "2024-06-01", None),
    ];
    let a = iso(&audits, &ds);
    let mut ds2 = ds;
    ds2.reverse();
    let mut audits2 = audits;
    audits2.reverse();
    let b = iso(&audits2, &ds2);
    assert_eq!(a, b);
    assert_eq!(status(&a, "2024-07-01"), S::Suspended);
}

#[test]
fn c38_one_initial_decision_and_nothing_before_it() {
    let mut two = reference();
    two.push(certify("2024-01-01", "2026-12-31"));
    assert!(iso_err(&[], &two).contains("one initial"));
    let before = iso_err(
        &[],
        &[
            dec(D::Suspension, "2023-03-01", None),
            certify("2023-03-15", "2026-03-14"),
        ],
    );
    assert!(
        before.contains("needs the certification decision"),
        "{before}"
    );
}

#[test]
fn c39_standard_and_edition_must_match() {
    let e = Certificate::new(Standard::Iso27701, Edition::E2022, &[], &reference());
    assert!(e.unwrap_err().to_string().contains("not an edition"));
    let ok = Certificate::new(Standard::Iso27701, Edition::E2019, &[], &reference()).unwrap();
    assert_eq!(ok.status_on(d("2024-01-01")).status, S::Active);
}

#[test]
fn c40_an_observed_vendor_certificate() {
    // A certificate seen from outside: printed dates and the register's status.
    let ok = Certificate::observed(
        Standard::Iso27001,
        Edition::E2022,
        d("2024-05-01"),
        d("2027-04-30"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(status(&ok, "2027-04-30"), S::Active);
    assert_eq!(status(&ok, "2027-05-01"), S::Expired);
    let withdrawn = Certificate::observed(
        Standard::Iso27001,
        Edition::E2022,
        d("2024-05-01"),
        d("2027-04-30"),
        Some(d("2025-01-10")),
        Some(d("2025-03-01")),
    )
    .unwrap();
    assert_eq!(status(&withdrawn, "2025-02-01"), S::Suspended);
    assert_eq!(status(&withdrawn, "2025-03-01"), S::Withdrawn);
}

#[test]
fn c41_accreditation_bodies_are_matched_by_acronym() {
    // Primer §6.1: IAF MLA signatories; anything else is flagged by the caller.
    assert_eq!(accreditation_body(" ukas ").unwrap().code, "UKAS");
    assert_eq!(accreditation_body("ANAB").unwrap().country, "US");
    assert!(accreditation_body("Acme Accreditation").is_none());
}

// --- SOC 2 (primer §6.2, §6.4: current 12 months after the period; bridge ≤ 3 months) ---

fn policy() -> AttestationPolicy {
    AttestationPolicy::default()
}

fn type2(start: &str, end: &str, bridge: Option<&str>) -> Soc2Report {
    Soc2Report {
        period_start: Some(d(start)),
        period_end: d(end),
        opinion: Some(Opinion::Unmodified),
        bridge_through: bridge.map(d),
    }
}

#[test]
fn s01_type2_current_12_months_after_the_period_without_a_bridge_letter() {
    // Period 2024-01-01..2024-12-31, report dated 2025-02-15: valid from the report date to
    // 2024-12-31 + 12 months = 2025-12-31.
    let r = type2("2024-01-01", "2024-12-31", None);
    let issued = d("2025-02-15");
    assert_eq!(
        r.state_on(issued, &policy(), d("2025-02-14")).status,
        AttestationStatus::Pending
    );
    let s = r.state_on(issued, &policy(), d("2025-12-31"));
    assert_eq!(s.status, AttestationStatus::Valid);
    assert_eq!(s.valid_until, Some(d("2025-12-31")));
    assert_eq!(
        r.state_on(issued, &policy(), d("2026-01-01")).status,
        AttestationStatus::Expired
    );
}

#[test]
fn s02_a_bridge_letter_extends_by_its_own_coverage() {
    // Bridge through 2025-03-31 → coverage ends 2025-03-31 → current to 2026-03-31.
    let r = type2("2024-01-01", "2024-12-31", Some("2025-03-31"));
    let s = r.state_on(d("2025-02-15"), &policy(), d("2026-03-31"));
    assert_eq!(s.status, AttestationStatus::Valid);
    assert_eq!(s.valid_until, Some(d("2026-03-31")));
    assert!(!r.bridge_capped(&policy()));
}

#[test]
fn s03_a_bridge_letter_counts_for_at_most_3_months() {
    // Bridge through 2025-06-30 is capped at 2024-12-31 + 3 months = 2025-03-31.
    let r = type2("2024-01-01", "2024-12-31", Some("2025-06-30"));
    assert_eq!(r.coverage_end(&policy()), d("2025-03-31"));
    assert!(r.bridge_capped(&policy()));
    assert_eq!(
        r.state_on(d("2025-02-15"), &policy(), d("2026-04-01"))
            .status,
        AttestationStatus::Expired
    );
}

#[test]
fn s04_bridge_cap_and_currency_at_month_ends_and_leap_days() {
    // Period ends 2023-11-30: cap = 2024-02-29 (leap year); bridge to 2024-03-31 is capped
    // there; + 12 months = 2025-02-28 (no Feb 29 in 2025).
    let r = type2("2022-12-01", "2023-11-30", Some("2024-03-31"));
    assert_eq!(r.coverage_end(&policy()), d("2024-02-29"));
    assert_eq!(
        r.state_on(d("2024-01-15"), &policy(), d("2024-06-01"))
            .valid_until,
        Some(d("2025-02-28"))
    );
}

#[test]
fn s05_a_type2_period_that_ends_before_it_starts_is_refused() {
    let r = type2("2024-12-31", "2024-01-01", None);
    assert!(
        r.validate()
            .unwrap_err()
            .to_string()
            .contains("before it starts")
    );
    // A bridge letter must cover days after the period.
    let b = type2("2024-01-01", "2024-12-31", Some("2024-12-31"));
    assert!(b.validate().is_err());
}

#[test]
fn s06_type1_is_current_12_months_after_its_as_of_date() {
    let r = Soc2Report {
        period_start: None,
        period_end: d("2024-06-30"),
        opinion: None,
        bridge_through: None,
    };
    let s = r.state_on(d("2024-08-01"), &policy(), d("2025-06-30"));
    assert_eq!(
        (s.status, s.valid_until),
        (AttestationStatus::Valid, Some(d("2025-06-30")))
    );
}

#[test]
fn s07_adverse_and_disclaimed_reports_are_never_relied_on() {
    let mut r = type2("2024-01-01", "2024-12-31", None);
    r.opinion = Some(Opinion::Adverse);
    assert_eq!(
        r.state_on(d("2025-02-15"), &policy(), d("2025-03-01"))
            .status,
        AttestationStatus::Unacceptable
    );
    r.opinion = Some(Opinion::Qualified);
    assert_eq!(
        r.state_on(d("2025-02-15"), &policy(), d("2025-03-01"))
            .status,
        AttestationStatus::Valid
    );
}

#[test]
fn s08_the_currency_is_configurable() {
    // A tenant that accepts reports for 6 months after the period: 2024-12-31 + 6 = 2025-06-30.
    let p = AttestationPolicy {
        soc2_current_months: 6,
        ..policy()
    };
    let r = type2("2024-01-01", "2024-12-31", None);
    assert_eq!(
        r.state_on(d("2025-02-15"), &p, d("2025-03-01")).valid_until,
        Some(d("2025-06-30"))
    );
}

// --- HITRUST (primer §6.3) ---

fn r2(certified: &str, interim: Option<&str>, bridge: Option<&str>) -> Hitrust {
    Hitrust {
        kind: HitrustKind::R2,
        certified_on: d(certified),
        interim_submitted: interim.map(d),
        bridge_on: bridge.map(d),
        revoked_on: None,
    }
}

#[test]
fn h01_the_interim_window_is_the_90_days_ending_on_the_first_anniversary() {
    // Certified 2024-03-01: anniversary 2025-03-01. The 90 days ending on it (Feb 2025 has 28
    // days): 1 in March, 28 in February, 31 in January, 30 in December → from 2024-12-02.
    assert_eq!(
        hitrust_interim_window(d("2024-03-01")),
        (d("2024-12-02"), d("2025-03-01"))
    );
}

#[test]
fn h02_r2_with_the_interim_on_the_last_day_of_the_window_is_valid_2_years() {
    let h = r2("2024-03-01", Some("2025-03-01"), None);
    assert!(h.interim_in_window());
    assert_eq!(h.valid_until(), d("2026-03-01"));
    assert_eq!(h.state_on(d("2026-03-01")).status, AttestationStatus::Valid);
    assert_eq!(
        h.state_on(d("2026-03-02")).status,
        AttestationStatus::Expired
    );
}

#[test]
fn h03_r2_with_the_interim_one_day_late_lapses_after_the_anniversary() {
    let h = r2("2024-03-01", Some("2025-03-02"), None);
    assert!(!h.interim_in_window());
    assert_eq!(h.valid_until(), d("2025-03-01"));
    assert_eq!(h.state_on(d("2025-03-01")).status, AttestationStatus::Valid);
    assert_eq!(
        h.state_on(d("2025-03-02")).status,
        AttestationStatus::Expired
    );
}

#[test]
fn h04_an_interim_before_the_window_opens_does_not_count() {
    // Opens 2024-12-02: the day before is early.
    assert!(r2("2024-03-01", Some("2024-12-02"), None).interim_in_window());
    assert!(!r2("2024-03-01", Some("2024-12-01"), None).interim_in_window());
}

#[test]
fn h05_before_the_anniversary_an_r2_is_valid_on_condition() {
    let h = r2("2024-03-01", None, None);
    let s = h.state_on(d("2025-02-01"));
    assert_eq!(
        (s.status, s.valid_until),
        (AttestationStatus::Valid, Some(d("2025-03-01")))
    );
}

#[test]
fn h06_a_bridge_assessment_adds_90_days() {
    // 2026-03-01 + 90 days = 2026-05-30 (March 31, April 30, May 30).
    let h = r2("2024-03-01", Some("2025-01-15"), Some("2026-02-15"));
    assert_eq!(h.valid_until(), d("2026-05-30"));
    // A bridge after the expiry is refused.
    assert!(
        r2("2024-03-01", Some("2025-01-15"), Some("2026-03-02"))
            .validate()
            .is_err()
    );
}

#[test]
fn h07_r2_certified_on_a_leap_day() {
    // Anniversary 2025-02-28 (clamped); the 90 days ending on it: 28 in February, 31 in
    // January, 31 in December → from 2024-12-01; expiry 2026-02-28.
    assert_eq!(
        hitrust_interim_window(d("2024-02-29")),
        (d("2024-12-01"), d("2025-02-28"))
    );
    assert_eq!(
        r2("2024-02-29", Some("2025-02-28"), None).valid_until(),
        d("2026-02-28")
    );
}

#[test]
fn h08_i1_and_e1_are_valid_one_year_and_take_no_interim() {
    for kind in [HitrustKind::I1, HitrustKind::E1] {
        let h = Hitrust {
            kind,
            certified_on: d("2024-05-10"),
            interim_submitted: None,
            bridge_on: None,
            revoked_on: None,
        };
        assert_eq!(h.valid_until(), d("2025-05-10"));
        assert!(h.validate().is_ok());
        let with_interim = Hitrust {
            interim_submitted: Some(d("2025-03-01")),
            ..h
        };
        assert!(with_interim.validate().is_err());
    }
}

#[test]
fn h09_a_revoked_certification_is_withdrawn_from_the_revocation() {
    let h = Hitrust {
        revoked_on: Some(d("2024-09-01")),
        ..r2("2024-03-01", None, None)
    };
    assert_eq!(h.state_on(d("2024-08-31")).status, AttestationStatus::Valid);
    let s = h.state_on(d("2024-09-01"));
    assert_eq!(s.status, AttestationStatus::Withdrawn);
    assert_eq!(s.valid_until, Some(d("2024-08-31")));
}

// --- Penetration tests and other dated reports (primer §6.4, configurable period) ---

#[test]
fn p01_a_pen_test_is_valid_for_its_configured_months() {
    // 2024-01-31 + 12 months = 2025-01-31; + 1 month = 2024-02-29 (leap, clamped).
    let s = dated_report_state(d("2024-01-31"), 12, d("2025-01-31"));
    assert_eq!(
        (s.status, s.valid_until),
        (AttestationStatus::Valid, Some(d("2025-01-31")))
    );
    assert_eq!(
        dated_report_state(d("2024-01-31"), 1, d("2024-03-01")),
        grc_domain::certification::AttestationState {
            status: AttestationStatus::Expired,
            valid_until: Some(d("2024-02-29"))
        }
    );
}
