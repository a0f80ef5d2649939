//! The breach-notification rules, computed by hand from 45 CFR 164.400–414 (primer §5.1):
//! thresholds (164.406, 164.408), deadlines in calendar days (164.404(b), 164.408(c), 164.410(b)),
//! the law-enforcement delay (164.412), business-associate notices, the risk assessment
//! (164.402), the incident lifecycle, and every validation error with its stable code.
//!
//! Date arithmetic is shown in each comment; month lengths: Jan 31, Feb 28 (29 in 2028), Mar 31,
//! Apr 30, May 31, Jun 30, Dec 31.

#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Days, NaiveDate};
use grc_domain::DomainError;
use grc_domain::incidents::{
    AffectedCounts, AnnualLogRow, BaRelation, BreachAssessment, BreachDecision, BreachException,
    ClockKind, ClockState, CoveredEntityType, DecisionKind, FactorAssessment, FactorLevel,
    HhsBreachReport, HhsBreachType, HhsContact, HhsLocation, HhsReportSize, HhsReportType,
    HhsSafeguard, IncidentError, IncidentStatus as S, Jurisdiction as J, LawEnforcementDelay,
    MAX_AFFECTED, MAX_TEXT, Notification, NotificationMethod as M, PhiSecurity, PhiType, Recipient,
    RiskFactor, StatementForm, TransitionKind, WindowSource, annual_log, annual_log_due,
    ba_notice_window, business_associate_clock, check_assessment, check_delay,
    check_incident_dates, check_notification, check_transition, covered_entity_clocks,
    covered_entity_discovery, read_clocks, suspended_periods,
};
use grc_domain::vendors::Baa;
use std::collections::HashSet;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The discovery date most tests use: 2026-03-10. 60 days later: Mar 10 + 21 = Mar 31,
/// + 30 = Apr 30 (51), + 9 = May 9 (60) → 2026-05-09.
const DISCOVERY: &str = "2026-03-10";
const DUE_60: &str = "2026-05-09";

fn counts(total: i64, states: &[(&str, i64)]) -> AffectedCounts {
    AffectedCounts::new(total, states.iter().copied()).unwrap()
}

fn clocks(total: i64, states: &[(&str, i64)]) -> Vec<grc_domain::incidents::Clock> {
    covered_entity_clocks(d(DISCOVERY), None, &counts(total, states), &[])
        .unwrap()
        .clocks
}

fn clock(
    cs: &[grc_domain::incidents::Clock],
    kind: ClockKind,
    j: Option<J>,
) -> grc_domain::incidents::Clock {
    cs.iter()
        .find(|c| c.kind == kind && c.jurisdiction == j)
        .unwrap_or_else(|| panic!("no {kind} clock for {j:?}"))
        .clone()
}

fn written(stated: &str, ends: &str) -> LawEnforcementDelay {
    LawEnforcementDelay {
        form: StatementForm::Written,
        stated_on: d(stated),
        ends_on: Some(d(ends)),
    }
}

fn oral(stated: &str, ends: Option<&str>) -> LawEnforcementDelay {
    LawEnforcementDelay {
        form: StatementForm::Oral,
        stated_on: d(stated),
        ends_on: ends.map(d),
    }
}

/// The individuals' deadline with these delays, for a breach of 10 people discovered on
/// [`DISCOVERY`].
fn individuals_due(delays: &[LawEnforcementDelay]) -> (u32, NaiveDate) {
    let cs = covered_entity_clocks(d(DISCOVERY), None, &counts(10, &[]), delays).unwrap();
    let c = clock(&cs.clocks, ClockKind::Individuals, None);
    (c.suspended_days, c.due_on)
}

// ---------------------------------------------------------------------------------------------
// Thresholds: 164.408(b) (HHS, 500 or more in total) and 164.406(a) (media, more than 500
// residents of one State)
// ---------------------------------------------------------------------------------------------

#[test]
fn four_hundred_ninety_nine_go_to_the_annual_log_with_no_media() {
    // 499 < 500: HHS in the annual log (164.408(c)), not immediately; 499 ≤ 500: no media.
    let cs = clocks(499, &[("TX", 499)]);
    assert!(clock(&cs, ClockKind::Individuals, None).required);
    assert!(!clock(&cs, ClockKind::Hhs, None).required);
    let log = clock(&cs, ClockKind::HhsAnnualLog, None);
    assert!(log.required);
    // 2026-12-31 + 60: Jan 31 (+31), Feb 28 (+59), Mar 1 (+60).
    assert_eq!(log.due_on, d("2027-03-01"));
    assert!(!clock(&cs, ClockKind::Media, Some(J::Texas)).required);
}

#[test]
fn five_hundred_notify_hhs_with_the_individuals_but_not_the_media() {
    // 500 ≥ 500: HHS contemporaneously (164.408(b)), same deadline as individuals; 500 is not
    // "more than 500" (164.406(a)): no media.
    let cs = clocks(500, &[("TX", 500)]);
    let hhs = clock(&cs, ClockKind::Hhs, None);
    assert!(hhs.required);
    assert_eq!(hhs.due_on, d(DUE_60));
    assert_eq!(hhs.due_on, clock(&cs, ClockKind::Individuals, None).due_on);
    assert!(!clock(&cs, ClockKind::HhsAnnualLog, None).required);
    assert!(!clock(&cs, ClockKind::Media, Some(J::Texas)).required);
}

#[test]
fn five_hundred_one_in_one_state_notify_its_media() {
    // 501 > 500 residents of Texas: media of Texas within 60 days (164.406(b)): 2026-05-09.
    let cs = clocks(501, &[("TX", 501)]);
    assert!(clock(&cs, ClockKind::Hhs, None).required);
    let media = clock(&cs, ClockKind::Media, Some(J::Texas));
    assert!(media.required);
    assert_eq!(media.due_on, d(DUE_60));
}

#[test]
fn media_notice_is_owed_only_in_the_state_above_500() {
    // 164.406: per State. Texas 501 > 500 → media; Oklahoma 199 → none. Total 700 ≥ 500 → HHS.
    let cs = clocks(700, &[("TX", 501), ("OK", 199)]);
    assert!(clock(&cs, ClockKind::Media, Some(J::Texas)).required);
    assert!(!clock(&cs, ClockKind::Media, Some(J::Oklahoma)).required);
    assert!(clock(&cs, ClockKind::Hhs, None).required);
}

#[test]
fn five_hundred_one_over_two_states_notify_hhs_but_no_media() {
    // Total 300 + 201 = 501 ≥ 500 → HHS immediately (164.408(b) counts the total); neither
    // State has more than 500 residents affected → no media (164.406(a) counts per State).
    let cs = clocks(501, &[("TX", 300), ("OK", 201)]);
    assert!(clock(&cs, ClockKind::Hhs, None).required);
    assert!(!clock(&cs, ClockKind::HhsAnnualLog, None).required);
    assert!(!clock(&cs, ClockKind::Media, Some(J::Texas)).required);
    assert!(!clock(&cs, ClockKind::Media, Some(J::Oklahoma)).required);
    assert_eq!(
        cs.iter().filter(|c| c.kind == ClockKind::Media).count(),
        2,
        "one media clock per listed State"
    );
}

#[test]
fn unknown_residents_never_trigger_media_but_are_flagged_above_500() {
    // 600 of unknown State: counted in the total (600 ≥ 500 → HHS), no State's media clock;
    // more than 500 unplaced → media_undetermined.
    let bc =
        covered_entity_clocks(d(DISCOVERY), None, &counts(600, &[("unknown", 600)]), &[]).unwrap();
    assert!(bc.clocks.iter().all(|c| c.kind != ClockKind::Media));
    assert!(bc.media_undetermined);
    assert!(clock(&bc.clocks, ClockKind::Hhs, None).required);
    // 700 total with 300 in TX: unplaced 700 − 300 = 400 ≤ 500 → not flagged.
    let bc = covered_entity_clocks(d(DISCOVERY), None, &counts(700, &[("TX", 300)]), &[]).unwrap();
    assert!(!bc.media_undetermined);
    // 900 total with 300 in TX: unplaced 600 > 500 → flagged.
    let bc = covered_entity_clocks(d(DISCOVERY), None, &counts(900, &[("TX", 300)]), &[]).unwrap();
    assert!(bc.media_undetermined);
}

// ---------------------------------------------------------------------------------------------
// Deadlines: 164.404(b) (60 days after discovery), 164.408(c) (60 days after the year's end)
// ---------------------------------------------------------------------------------------------

#[test]
fn december_discovery_under_500_is_logged_by_march_1() {
    // Discovered 2026-12-15, 20 individuals. Annual log: 2026-12-31 + 60 = Jan 31 (+31),
    // Feb 28 (+59), 2027-03-01 (+60). Individuals: Dec 15 + 16 = Dec 31, + 31 = Jan 31 (47),
    // + 13 = 2027-02-13 (60).
    let bc = covered_entity_clocks(d("2026-12-15"), None, &counts(20, &[]), &[]).unwrap();
    let log = clock(&bc.clocks, ClockKind::HhsAnnualLog, None);
    assert!(log.required);
    assert_eq!(log.starts_on, d("2026-12-31"));
    assert_eq!(log.due_on, d("2027-03-01"));
    assert_eq!(
        clock(&bc.clocks, ClockKind::Individuals, None).due_on,
        d("2027-02-13")
    );
    assert_eq!(annual_log_due(2026), Some(d("2027-03-01")));
}

#[test]
fn december_discovery_before_a_leap_year_is_logged_by_february_29() {
    // Discovered 2027-12-15. 2027-12-31 + 31 = 2028-01-31; 2028 is a leap year (divisible by 4,
    // not by 100): Feb has 29 days, + 29 = 2028-02-29 (60).
    let bc = covered_entity_clocks(d("2027-12-15"), None, &counts(20, &[]), &[]).unwrap();
    assert_eq!(
        clock(&bc.clocks, ClockKind::HhsAnnualLog, None).due_on,
        d("2028-02-29")
    );
    assert_eq!(annual_log_due(2027), Some(d("2028-02-29")));
    // A century year that is not a leap year: 2099-12-31 + 31 = 2100-01-31; 2100 is divisible
    // by 100 but not 400: Feb has 28 days, + 28 = Feb 28 (59), + 1 = 2100-03-01 (60).
    assert_eq!(annual_log_due(2099), Some(d("2100-03-01")));
}

#[test]
fn discovery_on_january_31_is_due_april_1() {
    // 164.404(b): 2026-01-31 + 28 = Feb 28 (28, 2026 not a leap year), + 31 = Mar 31 (59),
    // + 1 = 2026-04-01 (60).
    let bc = covered_entity_clocks(d("2026-01-31"), None, &counts(10, &[]), &[]).unwrap();
    let c = clock(&bc.clocks, ClockKind::Individuals, None);
    assert_eq!(c.base_due_on, d("2026-04-01"));
    assert_eq!(c.due_on, d("2026-04-01"));
    assert_eq!(c.days, 60);
}

#[test]
fn discovery_on_the_leap_day_counts_february_29() {
    // 2028-02-29 + 1 = Mar 1 (1), + 30 = Mar 31 (31), + 29 = 2028-04-29 (60).
    let bc = covered_entity_clocks(d("2028-02-29"), None, &counts(10, &[]), &[]).unwrap();
    assert_eq!(
        clock(&bc.clocks, ClockKind::Individuals, None).due_on,
        d("2028-04-29")
    );
}

// ---------------------------------------------------------------------------------------------
// Law-enforcement delay: 164.412
// ---------------------------------------------------------------------------------------------

#[test]
fn a_written_delay_of_30_days_moves_the_deadline_30_days() {
    // 164.412(a): stated 2026-03-20, ends 2026-04-19: Mar 20 + 11 = Mar 31, + 19 = Apr 19 →
    // 30 days. Base 2026-05-09 + 30: May 31 (+22), Jun 8 (+30) → 2026-06-08.
    assert_eq!(
        individuals_due(&[written("2026-03-20", "2026-04-19")]),
        (30, d("2026-06-08"))
    );
}

#[test]
fn the_delay_moves_every_clock_of_the_60_days() {
    // The same 30-day delay moves the individuals', HHS's and the media's deadlines alike
    // (164.412: "a notification, notice, or posting").
    let bc = covered_entity_clocks(
        d(DISCOVERY),
        None,
        &counts(600, &[("TX", 600)]),
        &[written("2026-03-20", "2026-04-19")],
    )
    .unwrap();
    for kind in [ClockKind::Individuals, ClockKind::Hhs] {
        assert_eq!(clock(&bc.clocks, kind, None).due_on, d("2026-06-08"));
    }
    assert_eq!(
        clock(&bc.clocks, ClockKind::Media, Some(J::Texas)).due_on,
        d("2026-06-08")
    );
}

#[test]
fn an_oral_delay_is_capped_at_30_days() {
    // 164.412(b): no longer than 30 days from the oral statement. Asked for 45 days
    // (Mar 20 → May 4: +11 Mar 31, +30 Apr 30, +4 May 4 = 45); capped at Mar 20 + 30 = Apr 19:
    // 30 days → 2026-06-08.
    assert_eq!(
        individuals_due(&[oral("2026-03-20", Some("2026-05-04"))]),
        (30, d("2026-06-08"))
    );
    // With no period stated: 30 days as well.
    assert_eq!(
        individuals_due(&[oral("2026-03-20", None)]),
        (30, d("2026-06-08"))
    );
    // An oral delay asked for 5 days (Mar 20 → Mar 25) is 5 days: May 9 + 5 = May 14.
    assert_eq!(
        individuals_due(&[oral("2026-03-20", Some("2026-03-25"))]),
        (5, d("2026-05-14"))
    );
}

#[test]
fn a_written_statement_within_the_oral_period_takes_over() {
    // Oral on Mar 20, written on Apr 1 (within Mar 20 + 30 = Apr 19) ending May 1.
    // Oral part: Mar 20 → Apr 1 = 12 days; written part: Apr 1 → May 1 = 30 days; 42 in all.
    // May 9 + 42: May 31 (+22), Jun 20 (+42) → 2026-06-20.
    assert_eq!(
        individuals_due(&[
            oral("2026-03-20", None),
            written("2026-04-01", "2026-05-01")
        ]),
        (42, d("2026-06-20"))
    );
    // A shorter written statement also governs: oral Mar 20, written Mar 25 ending Mar 30:
    // 5 + 5 = 10 days (not the oral 30): May 9 + 10 = May 19.
    assert_eq!(
        individuals_due(&[
            oral("2026-03-20", None),
            written("2026-03-25", "2026-03-30")
        ]),
        (10, d("2026-05-19"))
    );
    // A written statement after the oral period lapsed is a new delay: oral Mar 20 → Apr 19
    // (30), written May 1 → May 11 (10): 40 days. May 9 + 30 = Jun 8 (the written one, stated
    // May 1, is before it), + 10 = Jun 18.
    assert_eq!(
        individuals_due(&[
            oral("2026-03-20", None),
            written("2026-05-01", "2026-05-11")
        ]),
        (40, d("2026-06-18"))
    );
}

#[test]
fn a_delay_stated_after_the_deadline_changes_nothing() {
    // Decision: a statement made after the running deadline does not revive the clock; the
    // notice was already due. Stated 2026-05-10 (deadline + 1): no effect.
    assert_eq!(
        individuals_due(&[written("2026-05-10", "2026-06-09")]),
        (0, d(DUE_60))
    );
    // Stated on the deadline day itself (2026-05-09), for 30 days (→ Jun 8): the notice was
    // still timely that day, so the clock stops: 2026-05-09 + 30 = 2026-06-08.
    assert_eq!(
        individuals_due(&[written("2026-05-09", "2026-06-08")]),
        (30, d("2026-06-08"))
    );
}

#[test]
fn a_second_delay_counts_against_the_moved_deadline() {
    // First: Mar 20 → Apr 19 (30) moves the deadline to Jun 8. Second: stated May 20 (after the
    // base deadline May 9, before the moved one Jun 8) → May 30 (10): Jun 8 + 10 = Jun 18.
    assert_eq!(
        individuals_due(&[
            written("2026-03-20", "2026-04-19"),
            written("2026-05-20", "2026-05-30")
        ]),
        (40, d("2026-06-18"))
    );
    // Overlapping statements are not counted twice: Mar 20 → Apr 19 and Apr 9 → Apr 29 merge
    // to Mar 20 → Apr 29: Mar 20 + 11 = Mar 31, + 29 = Apr 29 → 40 days. May 9 + 40: May 31
    // (+22), Jun 18 (+40).
    assert_eq!(
        individuals_due(&[
            written("2026-03-20", "2026-04-19"),
            written("2026-04-09", "2026-04-29")
        ]),
        (40, d("2026-06-18"))
    );
}

#[test]
fn delay_days_before_the_clock_starts_do_not_count() {
    // Stated 2026-03-01 (before the Mar 10 discovery), ending Mar 31: only the days after the
    // discovery count, Mar 10 → Mar 31 = 21. May 9 + 21 = May 30.
    assert_eq!(
        individuals_due(&[written("2026-03-01", "2026-03-31")]),
        (21, d("2026-05-30"))
    );
    // Ending before the discovery: nothing.
    assert_eq!(
        individuals_due(&[written("2026-02-01", "2026-03-05")]),
        (0, d(DUE_60))
    );
}

#[test]
fn the_annual_log_counts_only_delay_days_after_the_year_end() {
    // The annual log's clock runs from 2026-12-31 (60 days after the end of the year). A spring
    // delay (Mar 20 → Apr 19) ends before that: the log stays due 2027-03-01. A delay stated
    // 2026-12-20 ending 2027-01-19 has 19 days after Dec 31 (Jan 1..Jan 19): Mar 1 + 19 =
    // 2027-03-20. The individuals' clock (due May 9 + 30 = Jun 8 after the spring delay) is not
    // touched by the December one, stated long after its deadline.
    let bc = covered_entity_clocks(
        d(DISCOVERY),
        None,
        &counts(20, &[]),
        &[
            written("2026-03-20", "2026-04-19"),
            written("2026-12-20", "2027-01-19"),
        ],
    )
    .unwrap();
    let log = clock(&bc.clocks, ClockKind::HhsAnnualLog, None);
    assert_eq!((log.suspended_days, log.due_on), (19, d("2027-03-20")));
    let ind = clock(&bc.clocks, ClockKind::Individuals, None);
    assert_eq!((ind.suspended_days, ind.due_on), (30, d("2026-06-08")));
}

#[test]
fn suspended_periods_are_merged_and_sorted() {
    // Given out of order: Apr 9 → Apr 29 and Mar 20 → Apr 19 overlap → one period Mar 20 →
    // Apr 29 (40 days); Jun 1 → Jun 11 stays apart (10 days).
    let ps = suspended_periods(&[
        written("2026-06-01", "2026-06-11"),
        written("2026-04-09", "2026-04-29"),
        written("2026-03-20", "2026-04-19"),
    ])
    .unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(
        (ps[0].after, ps[0].through, ps[0].days()),
        (d("2026-03-20"), d("2026-04-29"), 40)
    );
    assert_eq!(
        (ps[1].after, ps[1].through, ps[1].days()),
        (d("2026-06-01"), d("2026-06-11"), 10)
    );
}

// ---------------------------------------------------------------------------------------------
// Business associates: 164.410, 164.404(a)(2)
// ---------------------------------------------------------------------------------------------

fn baa() -> Baa {
    Baa {
        effective_on: d("2025-01-01"),
        ends_on: None,
        terminated_on: None,
        present_terms: HashSet::new(),
    }
}

#[test]
fn a_business_associate_notifying_on_day_45_meets_its_deadline() {
    // BA discovers 2026-03-10 (day 0); no BAA window: 60 days (164.410(b)) → 2026-05-09.
    // Notice on day 45: Mar 10 + 21 = Mar 31, + 24 = Apr 24 → 2026-04-24 ≤ May 9: met.
    let w = ba_notice_window(None, d(DISCOVERY)).unwrap();
    assert_eq!((w.days, w.source), (60, WindowSource::Regulation));
    let c = business_associate_clock(d(DISCOVERY), None, w, &[]).unwrap();
    assert_eq!(c.kind, ClockKind::CoveredEntity);
    assert_eq!(c.due_on, d(DUE_60));
    let notice = d("2026-04-24");
    let r = c.reading(Some(notice), notice);
    assert_eq!(r.state, ClockState::Met);

    // The covered entity's clocks. Agent (164.404(a)(2), federal common law of agency): the
    // BA's knowledge is the CE's → discovery day 0 → individuals due day 60 = 2026-05-09.
    let agent = covered_entity_discovery(BaRelation::Agent, d(DISCOVERY), notice).unwrap();
    assert_eq!(agent, d(DISCOVERY));
    let bc = covered_entity_clocks(agent, None, &counts(10, &[]), &[]).unwrap();
    assert_eq!(
        clock(&bc.clocks, ClockKind::Individuals, None).due_on,
        d(DUE_60)
    );
    // Independent contractor: the CE discovers on the notice, day 45 → due day 105:
    // Apr 24 + 6 = Apr 30, + 31 = May 31 (37), + 23 = Jun 23 (60) → 2026-06-23
    // (check: Mar 10 + 105 = Mar 31 (21), Apr 30 (51), May 31 (82), Jun 23 (105)).
    let ic =
        covered_entity_discovery(BaRelation::IndependentContractor, d(DISCOVERY), notice).unwrap();
    assert_eq!(ic, notice);
    let bc = covered_entity_clocks(ic, None, &counts(10, &[]), &[]).unwrap();
    assert_eq!(
        clock(&bc.clocks, ClockKind::Individuals, None).due_on,
        d("2026-06-23")
    );
}

#[test]
fn a_baa_window_of_10_days_is_missed_by_a_notice_on_day_11() {
    // BAA in force on 2026-03-10 with a 10-day window: due Mar 10 + 10 = Mar 20. Notice on day
    // 11 (Mar 21): missed, 1 day late.
    let b = baa();
    let w = ba_notice_window(Some((&b, 10)), d(DISCOVERY)).unwrap();
    assert_eq!((w.days, w.source), (10, WindowSource::Baa));
    let c = business_associate_clock(d(DISCOVERY), None, w, &[]).unwrap();
    assert_eq!(c.due_on, d("2026-03-20"));
    let r = c.reading(Some(d("2026-03-21")), d("2026-03-21"));
    assert_eq!((r.state, r.days_late), (ClockState::Missed, Some(1)));
    // On day 10 (Mar 20) it is met.
    assert_eq!(
        c.reading(Some(d("2026-03-20")), d("2026-03-21")).state,
        ClockState::Met
    );
}

#[test]
fn a_baa_not_in_force_on_discovery_leaves_the_60_days() {
    // The BAA ended 2026-02-28, before the Mar 10 discovery: its 10 days do not apply; 60 do.
    let mut b = baa();
    b.ends_on = Some(d("2026-02-28"));
    let w = ba_notice_window(Some((&b, 10)), d(DISCOVERY)).unwrap();
    assert_eq!((w.days, w.source), (60, WindowSource::Regulation));
}

#[test]
fn a_law_enforcement_delay_moves_the_business_associates_deadline() {
    // 164.412 applies to business associates: 10-day window, due Mar 20; an oral statement on
    // Mar 15 (before the deadline) with no period: 30 days → Mar 20 + 30 = Apr 19.
    let b = baa();
    let w = ba_notice_window(Some((&b, 10)), d(DISCOVERY)).unwrap();
    let c = business_associate_clock(d(DISCOVERY), None, w, &[oral("2026-03-15", None)]).unwrap();
    assert_eq!((c.suspended_days, c.due_on), (30, d("2026-04-19")));
}

// ---------------------------------------------------------------------------------------------
// Clock status at the edges
// ---------------------------------------------------------------------------------------------

#[test]
fn statuses_at_the_deadline_edges() {
    let cs = clocks(10, &[]);
    let c = clock(&cs, ClockKind::Individuals, None);
    assert_eq!(c.due_on, d(DUE_60));
    // Sent on the deadline day: met.
    let r = c.reading(Some(d("2026-05-09")), d("2026-06-01"));
    assert_eq!(r.state, ClockState::Met);
    assert_eq!((r.days_remaining, r.days_late), (None, None));
    // Sent the day after: missed by 1.
    let r = c.reading(Some(d("2026-05-10")), d("2026-06-01"));
    assert_eq!((r.state, r.days_late), (ClockState::Missed, Some(1)));
    // Not sent, read on the deadline day: due, 0 days left.
    let r = c.reading(None, d("2026-05-09"));
    assert_eq!((r.state, r.days_remaining), (ClockState::Due, Some(0)));
    // Not sent, read the day after: missed by 1.
    let r = c.reading(None, d("2026-05-10"));
    assert_eq!((r.state, r.days_late), (ClockState::Missed, Some(1)));
    // Not sent, read on the discovery day: 60 days left.
    let r = c.reading(None, d(DISCOVERY));
    assert_eq!((r.state, r.days_remaining), (ClockState::Due, Some(60)));
    // A sending dated after the reading day is not yet a sending: read on Apr 1, sent May 1:
    // due, Apr 1 → Apr 30 (29) → May 9 (38).
    let r = c.reading(Some(d("2026-05-01")), d("2026-04-01"));
    assert_eq!(
        (r.state, r.sent_on, r.days_remaining),
        (ClockState::Due, None, Some(38))
    );
    // Sent 20 days late (May 29): May 9 → May 29 = 20.
    let r = c.reading(Some(d("2026-05-29")), d("2026-07-01"));
    assert_eq!((r.state, r.days_late), (ClockState::Missed, Some(20)));
}

#[test]
fn a_clock_not_required_reads_not_required() {
    // 20 individuals: the HHS immediate clock is not required, whatever was sent.
    let cs = clocks(20, &[]);
    let c = clock(&cs, ClockKind::Hhs, None);
    assert_eq!(
        c.reading(None, d("2027-01-01")).state,
        ClockState::NotRequired
    );
    assert_eq!(
        c.reading(Some(d("2026-03-11")), d("2027-01-01")).state,
        ClockState::NotRequired
    );
}

#[test]
fn a_not_a_breach_decision_stops_every_clock_and_no_decision_presumes_a_breach() {
    // 164.402(2): presumed a breach until shown otherwise.
    let a = counts(600, &[("TX", 600)]);
    let pending = covered_entity_clocks(d(DISCOVERY), None, &a, &[]).unwrap();
    assert!(clock(&pending.clocks, ClockKind::Individuals, None).required);
    for k in [
        DecisionKind::LowProbability,
        DecisionKind::Exception,
        DecisionKind::SecuredPhi,
    ] {
        let bc = covered_entity_clocks(d(DISCOVERY), Some(k), &a, &[]).unwrap();
        assert!(bc.clocks.iter().all(|c| !c.required), "{k}");
        assert!(!bc.media_undetermined);
    }
    let bc = covered_entity_clocks(d(DISCOVERY), Some(DecisionKind::Breach), &a, &[]).unwrap();
    assert_eq!(bc.clocks.iter().filter(|c| c.required).count(), 3); // individuals, HHS, TX media
}

#[test]
fn read_clocks_matches_notices_to_their_clocks() {
    // 700 = TX 501 + OK 199. Individuals mailed Apr 20 (met), HHS Apr 25 and an addendum Jun 1
    // (the earliest counts: met), TX media May 12 (3 days late: May 9 → May 12), OK media not
    // required.
    let bc = covered_entity_clocks(
        d(DISCOVERY),
        None,
        &counts(700, &[("TX", 501), ("OK", 199)]),
        &[],
    )
    .unwrap();
    let n = |r, j, s: &str, m| Notification {
        recipient: r,
        jurisdiction: j,
        sent_on: d(s),
        method: m,
    };
    let sent = [
        n(
            Recipient::Individuals,
            None,
            "2026-04-20",
            M::FirstClassMail,
        ),
        n(Recipient::Hhs, None, "2026-06-01", M::HhsPortal),
        n(Recipient::Hhs, None, "2026-04-25", M::HhsPortal),
        n(
            Recipient::Media,
            Some(J::Texas),
            "2026-05-12",
            M::MediaOutlet,
        ),
    ];
    let rs = read_clocks(&bc.clocks, &sent, d("2026-07-01"));
    let by = |k: ClockKind, j: Option<J>| {
        let i = bc
            .clocks
            .iter()
            .position(|c| c.kind == k && c.jurisdiction == j)
            .unwrap();
        rs[i]
    };
    assert_eq!(by(ClockKind::Individuals, None).state, ClockState::Met);
    let hhs = by(ClockKind::Hhs, None);
    assert_eq!(
        (hhs.state, hhs.sent_on),
        (ClockState::Met, Some(d("2026-04-25")))
    );
    assert_eq!(
        by(ClockKind::HhsAnnualLog, None).state,
        ClockState::NotRequired
    );
    let tx = by(ClockKind::Media, Some(J::Texas));
    assert_eq!((tx.state, tx.days_late), (ClockState::Missed, Some(3)));
    assert_eq!(
        by(ClockKind::Media, Some(J::Oklahoma)).state,
        ClockState::NotRequired
    );
}

// ---------------------------------------------------------------------------------------------
// Risk assessment: 164.402
// ---------------------------------------------------------------------------------------------

fn factor(f: RiskFactor) -> FactorAssessment {
    FactorAssessment {
        factor: f,
        level: FactorLevel::Low,
        rationale: format!("{f}: weighed"),
    }
}

fn assessment(
    phi: PhiSecurity,
    factors: &[RiskFactor],
    decision: BreachDecision,
) -> BreachAssessment {
    BreachAssessment {
        phi_security: phi,
        factors: factors.iter().copied().map(factor).collect(),
        decision,
        decided_on: d("2026-03-20"),
    }
}

fn low(r: &str) -> BreachDecision {
    BreachDecision::LowProbability {
        rationale: r.into(),
    }
}

fn check(a: &BreachAssessment) -> Result<DecisionKind, IncidentError> {
    check_assessment(a, d(DISCOVERY), d("2026-04-01"))
}

#[test]
fn a_low_probability_decision_with_all_four_factors_stands() {
    let a = assessment(
        PhiSecurity::Unsecured,
        RiskFactor::ALL,
        low("recipient returned it"),
    );
    assert_eq!(check(&a).unwrap(), DecisionKind::LowProbability);
    assert!(!DecisionKind::LowProbability.is_breach());
}

#[test]
fn a_low_probability_decision_without_the_four_factors_is_refused() {
    // 164.402(2): "at least the following factors"; two of four weighed: the other two named.
    let a = assessment(
        PhiSecurity::Unsecured,
        &[RiskFactor::NatureAndExtent, RiskFactor::Mitigation],
        low("looks fine"),
    );
    let e = check(&a).unwrap_err();
    assert_eq!(
        e,
        IncidentError::FactorsMissing {
            missing: vec![RiskFactor::UnauthorizedPerson, RiskFactor::AcquiredOrViewed]
        }
    );
    assert_eq!(e.code(), "factors-missing");
    // None at all: all four missing.
    let a = assessment(PhiSecurity::Unsecured, &[], low("looks fine"));
    assert_eq!(
        check(&a).unwrap_err(),
        IncidentError::FactorsMissing {
            missing: RiskFactor::ALL.to_vec()
        }
    );
}

#[test]
fn a_breach_decision_needs_no_factors() {
    // An entity may notify without a risk assessment (the presumption stands).
    let a = assessment(PhiSecurity::Unsecured, &[], BreachDecision::Breach);
    assert_eq!(check(&a).unwrap(), DecisionKind::Breach);
}

#[test]
fn an_exception_names_which_and_why() {
    for ex in BreachException::ALL {
        let a = assessment(
            PhiSecurity::Unsecured,
            &[],
            BreachDecision::Exception {
                exception: *ex,
                rationale: "good faith, within scope".into(),
            },
        );
        assert_eq!(check(&a).unwrap(), DecisionKind::Exception);
    }
    let a = assessment(
        PhiSecurity::Unsecured,
        &[],
        BreachDecision::Exception {
            exception: BreachException::UnableToRetain,
            rationale: "  ".into(),
        },
    );
    let e = check(&a).unwrap_err();
    assert_eq!(e.code(), "decision-rationale-missing");
}

#[test]
fn secured_phi_is_not_a_breach_by_definition() {
    // 164.402 "unsecured PHI" + HHS guidance: encrypted (key safe) or destroyed PHI is outside
    // the rule. A secured-PHI decision on encrypted PHI stands.
    let a = assessment(
        PhiSecurity::Encrypted,
        &[],
        BreachDecision::SecuredPhi {
            rationale: "AES-256 full-disk, key in HSM".into(),
        },
    );
    assert_eq!(check(&a).unwrap(), DecisionKind::SecuredPhi);
    // A breach decision on secured PHI is refused.
    let a = assessment(PhiSecurity::Destroyed, &[], BreachDecision::Breach);
    let e = check(&a).unwrap_err();
    assert_eq!(
        e,
        IncidentError::SecuredPhiDecidedBreach {
            security: PhiSecurity::Destroyed
        }
    );
    assert_eq!(e.code(), "secured-phi-decided-breach");
    // The safe harbour claimed for unsecured PHI is refused.
    let a = assessment(
        PhiSecurity::Unsecured,
        &[],
        BreachDecision::SecuredPhi {
            rationale: "we think so".into(),
        },
    );
    assert_eq!(check(&a).unwrap_err().code(), "safe-harbour-not-met");
}

#[test]
fn assessment_errors() {
    let mut a = assessment(PhiSecurity::Unsecured, RiskFactor::ALL, low("ok"));
    // A factor twice.
    a.factors.push(factor(RiskFactor::Mitigation));
    assert_eq!(
        check(&a).unwrap_err(),
        IncidentError::FactorRepeated {
            factor: RiskFactor::Mitigation
        }
    );
    // A factor without rationale.
    let mut a = assessment(PhiSecurity::Unsecured, RiskFactor::ALL, low("ok"));
    a.factors[2].rationale = " ".into();
    let e = check(&a).unwrap_err();
    assert_eq!(e.code(), "factor-rationale-missing");
    assert_eq!(e.field(), "factors.acquired-or-viewed.rationale");
    // A low-probability decision without rationale.
    let a = assessment(PhiSecurity::Unsecured, RiskFactor::ALL, low(""));
    assert_eq!(
        check(&a).unwrap_err(),
        IncidentError::DecisionRationaleMissing {
            decision: DecisionKind::LowProbability
        }
    );
    // A rationale one character too long.
    let a = assessment(
        PhiSecurity::Unsecured,
        RiskFactor::ALL,
        low(&"x".repeat(MAX_TEXT + 1)),
    );
    assert_eq!(check(&a).unwrap_err().code(), "text-too-long");
    // Exactly MAX_TEXT is fine.
    let a = assessment(
        PhiSecurity::Unsecured,
        RiskFactor::ALL,
        low(&"x".repeat(MAX_TEXT)),
    );
    assert!(check(&a).is_ok());
    // Decided after today (2026-04-01) or before the discovery (2026-03-10).
    let mut a = assessment(PhiSecurity::Unsecured, &[], BreachDecision::Breach);
    a.decided_on = d("2026-04-02");
    assert_eq!(check(&a).unwrap_err().code(), "decision-in-future");
    a.decided_on = d("2026-03-09");
    assert_eq!(check(&a).unwrap_err().code(), "decision-before-discovery");
    // On the discovery day and on today: fine.
    a.decided_on = d(DISCOVERY);
    assert!(check(&a).is_ok());
    a.decided_on = d("2026-04-01");
    assert!(check(&a).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Counts and jurisdictions
// ---------------------------------------------------------------------------------------------

#[test]
fn count_validation() {
    // Total below the per-State sum: 300 + 201 = 501 > 500.
    let e = AffectedCounts::new(500, [("TX", 300), ("OK", 201)]).unwrap_err();
    assert_eq!(
        e,
        IncidentError::CountBelowStateSum {
            total: 500,
            state_sum: 501
        }
    );
    assert_eq!(e.code(), "count-below-state-sum");
    // Equal is fine; above is fine (the remainder is unplaced: 510 − 501 = 9).
    assert!(AffectedCounts::new(501, [("TX", 300), ("OK", 201)]).is_ok());
    assert_eq!(
        AffectedCounts::new(510, [("TX", 300), ("OK", 201)])
            .unwrap()
            .unplaced(),
        9
    );
    // Negative and absurd counts.
    let e = AffectedCounts::new(-1, Vec::<(&str, i64)>::new()).unwrap_err();
    assert_eq!(
        e,
        IncidentError::CountOutOfRange {
            field: "affected.total".into(),
            value: -1
        }
    );
    let too_many = i64::try_from(MAX_AFFECTED).unwrap() + 1;
    assert_eq!(
        AffectedCounts::new(too_many, Vec::<(&str, i64)>::new())
            .unwrap_err()
            .code(),
        "count-out-of-range"
    );
    assert!(AffectedCounts::new(i64::try_from(MAX_AFFECTED).unwrap(), [("CA", 1)]).is_ok());
    let e = AffectedCounts::new(10, [("CA", -3)]).unwrap_err();
    assert_eq!(e.field(), "affected.byJurisdiction.CA");
    assert_eq!(
        AffectedCounts::new(10, [("CA", i64::MIN)])
            .unwrap_err()
            .code(),
        "count-out-of-range"
    );
}

#[test]
fn jurisdiction_codes() {
    // USPS codes of the 50 States, DC and the 5 territories of 45 CFR 160.103, plus "unknown":
    // 50 + 1 + 5 + 1 = 57.
    assert_eq!(J::ALL.len(), 57);
    for code in ["PR", "VI", "GU", "AS", "MP", "DC", "WY", "unknown"] {
        assert!(J::parse(code).is_some(), "{code}");
    }
    // Lenient input: case and spaces.
    assert_eq!(J::from_input(" ca ").unwrap(), J::California);
    assert_eq!(J::from_input("UNKNOWN").unwrap(), J::Unknown);
    // Not States for this rule: military "states" and freely associated states, Canada.
    for bad in ["AA", "AE", "FM", "ON", "", "Texas", "XX"] {
        let e = J::from_input(bad).unwrap_err();
        assert_eq!(e.code(), "unknown-jurisdiction", "{bad}");
    }
    let e = AffectedCounts::new(10, [("ZZ", 1)]).unwrap_err();
    assert_eq!(e, IncidentError::UnknownJurisdiction { code: "ZZ".into() });
    // Listed twice (once in lower case).
    let e = AffectedCounts::new(10, [("TX", 1), ("tx", 2)]).unwrap_err();
    assert_eq!(
        e,
        IncidentError::JurisdictionRepeated {
            jurisdiction: J::Texas
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Incident dates, notifications, delays
// ---------------------------------------------------------------------------------------------

#[test]
fn incident_date_validation() {
    let today = d("2026-04-01");
    assert!(check_incident_dates(d(DISCOVERY), Some(d("2026-03-01")), None, today).is_ok());
    // Discovered today: fine; tomorrow: in the future.
    assert!(check_incident_dates(today, None, None, today).is_ok());
    let e = check_incident_dates(d("2026-04-02"), None, None, today).unwrap_err();
    assert_eq!(e.code(), "discovery-in-future");
    assert_eq!(e.field(), "discoveredOn");
    // Begun after the discovery.
    let e = check_incident_dates(d(DISCOVERY), Some(d("2026-03-11")), None, today).unwrap_err();
    assert_eq!(e.code(), "occurrence-after-discovery");
    // Begun on the discovery day, going on after it: fine.
    assert!(
        check_incident_dates(
            d(DISCOVERY),
            Some(d(DISCOVERY)),
            Some(d("2026-03-15")),
            today
        )
        .is_ok()
    );
    // Ending before it begins.
    let e = check_incident_dates(
        d(DISCOVERY),
        Some(d("2026-03-05")),
        Some(d("2026-03-04")),
        today,
    )
    .unwrap_err();
    assert_eq!(e.code(), "occurrence-ends-before-start");
}

#[test]
fn notification_validation() {
    let today = d("2026-04-01");
    let n = |r, j, s: &str, m| Notification {
        recipient: r,
        jurisdiction: j,
        sent_on: d(s),
        method: m,
    };
    assert!(
        check_notification(
            &n(Recipient::Individuals, None, DISCOVERY, M::Email),
            d(DISCOVERY),
            today
        )
        .is_ok()
    );
    // Before discovery.
    let e = check_notification(
        &n(
            Recipient::Individuals,
            None,
            "2026-03-09",
            M::FirstClassMail,
        ),
        d(DISCOVERY),
        today,
    )
    .unwrap_err();
    assert_eq!(
        e,
        IncidentError::NotificationBeforeDiscovery {
            recipient: Recipient::Individuals,
            sent_on: d("2026-03-09"),
            discovered_on: d(DISCOVERY)
        }
    );
    assert_eq!(e.code(), "notification-before-discovery");
    // After today.
    let e = check_notification(
        &n(Recipient::Hhs, None, "2026-04-02", M::HhsPortal),
        d(DISCOVERY),
        today,
    )
    .unwrap_err();
    assert_eq!(e.code(), "notification-in-future");
    // HHS only through its portal (164.408: the manner specified on the HHS web site).
    let e = check_notification(
        &n(Recipient::Hhs, None, "2026-03-20", M::Email),
        d(DISCOVERY),
        today,
    )
    .unwrap_err();
    assert_eq!(e.code(), "method-not-allowed");
    // Media notice names a known State; others name none.
    for bad in [
        n(Recipient::Media, None, "2026-03-20", M::MediaOutlet),
        n(
            Recipient::Media,
            Some(J::Unknown),
            "2026-03-20",
            M::MediaOutlet,
        ),
        n(
            Recipient::Individuals,
            Some(J::Texas),
            "2026-03-20",
            M::Email,
        ),
    ] {
        assert_eq!(
            check_notification(&bad, d(DISCOVERY), today)
                .unwrap_err()
                .code(),
            "jurisdiction-mismatch"
        );
    }
    // A business associate's notice through the platform is fine.
    assert!(
        check_notification(
            &n(Recipient::CoveredEntity, None, "2026-03-20", M::Platform),
            d(DISCOVERY),
            today
        )
        .is_ok()
    );
}

#[test]
fn delay_validation() {
    let today = d("2026-04-01");
    assert!(check_delay(&written("2026-03-20", "2026-04-19"), today).is_ok());
    let e = check_delay(&written("2026-04-02", "2026-05-01"), today).unwrap_err();
    assert_eq!(e.code(), "statement-in-future");
    let e = check_delay(&written("2026-03-20", "2026-03-20"), today).unwrap_err();
    assert_eq!(e.code(), "delay-period-invalid");
    let e = check_delay(&oral("2026-03-20", Some("2026-03-19")), today).unwrap_err();
    assert_eq!(e.code(), "delay-period-invalid");
    let e = check_delay(
        &LawEnforcementDelay {
            form: StatementForm::Written,
            stated_on: d("2026-03-20"),
            ends_on: None,
        },
        today,
    )
    .unwrap_err();
    assert_eq!(e.code(), "written-delay-without-period");
    // The clocks refuse a malformed delay as well.
    assert_eq!(
        covered_entity_clocks(
            d(DISCOVERY),
            None,
            &counts(1, &[]),
            &[written("2026-03-20", "2026-03-01")]
        )
        .unwrap_err()
        .code(),
        "delay-period-invalid"
    );
}

#[test]
fn business_associate_validation() {
    // A notice before the BA's own discovery.
    let e = covered_entity_discovery(BaRelation::Agent, d(DISCOVERY), d("2026-03-09")).unwrap_err();
    assert_eq!(e.code(), "notification-before-discovery");
    // A BAA window out of 1–60 (vendors::check_breach_notice_days).
    let b = baa();
    for days in [0, 61, -5] {
        let e = ba_notice_window(Some((&b, days)), d(DISCOVERY)).unwrap_err();
        assert_eq!(e, IncidentError::BaaWindowOutOfRange { days });
        assert_eq!(e.code(), "baa-window-out-of-range");
    }
}

#[test]
fn dates_at_the_end_of_the_calendar_are_errors_not_panics() {
    let e = covered_entity_clocks(NaiveDate::MAX, None, &counts(1, &[]), &[]).unwrap_err();
    assert_eq!(e.code(), "date-out-of-range");
    let late = NaiveDate::MAX.checked_sub_days(Days::new(10)).unwrap();
    assert!(
        business_associate_clock(late, None, ba_notice_window(None, late).unwrap(), &[]).is_err()
    );
    assert_eq!(annual_log_due(NaiveDate::MAX.year()), None);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

#[test]
fn the_lifecycle_moves_forward_and_reopens_only_from_closed() {
    // Forward, step by step and skipping.
    assert_eq!(
        check_transition(S::Triage, S::Contained, false).unwrap(),
        TransitionKind::Advance
    );
    assert_eq!(
        check_transition(S::Contained, S::Closed, false).unwrap(),
        TransitionKind::Advance
    );
    assert_eq!(
        check_transition(S::Triage, S::Recovered, false).unwrap(),
        TransitionKind::Advance
    );
    // Reopen: closed → triage only.
    assert_eq!(
        check_transition(S::Closed, S::Triage, false).unwrap(),
        TransitionKind::Reopen
    );
    for to in [S::Contained, S::Eradicated, S::Recovered] {
        assert_eq!(
            check_transition(S::Closed, to, false).unwrap_err(),
            IncidentError::InvalidTransition {
                from: S::Closed,
                to
            }
        );
    }
    // No move back while open.
    let e = check_transition(S::Recovered, S::Contained, false).unwrap_err();
    assert_eq!(e.code(), "invalid-transition");
    assert!(matches!(DomainError::from(e), DomainError::Conflict { .. }));
    // No change.
    assert_eq!(
        check_transition(S::Eradicated, S::Eradicated, false)
            .unwrap_err()
            .code(),
        "no-change"
    );
    // Closing with the PHI breach decision pending (164.414(b)).
    assert_eq!(
        check_transition(S::Recovered, S::Closed, true).unwrap_err(),
        IncidentError::ClosedWithoutDecision
    );
    // Reopening is not blocked by a pending decision.
    assert!(check_transition(S::Closed, S::Triage, true).is_ok());
    // Every pair: exactly 4 advances from triage, 3 from contained, 2, 1, and 1 reopen.
    let ok = S::ALL
        .iter()
        .flat_map(|a| S::ALL.iter().map(move |b| (*a, *b)))
        .filter(|(a, b)| check_transition(*a, *b, false).is_ok())
        .count();
    assert_eq!(ok, 4 + 3 + 2 + 1 + 1);
}

// ---------------------------------------------------------------------------------------------
// Errors: stable, distinct codes; conversion for the API
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_input_errors_convert_to_invalid_with_their_field() {
    let e = AffectedCounts::new(500, [("TX", 501)]).unwrap_err();
    match DomainError::from(e) {
        DomainError::Invalid(f) => {
            assert_eq!(f.field, ["affected", "total"]);
            assert!(f.message.contains("501"), "{}", f.message);
        }
        other => panic!("expected invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// HHS report and annual log
// ---------------------------------------------------------------------------------------------

fn contact() -> HhsContact {
    HhsContact {
        name: "Clinic".into(),
        street: "1 Main St".into(),
        city: "Austin".into(),
        state: J::Texas,
        zip: "78701".into(),
        contact_name: "Privacy Officer".into(),
        contact_phone: "512-555-0100".into(),
        contact_email: "privacy@example.org".into(),
    }
}

fn report(n: u64) -> HhsBreachReport {
    HhsBreachReport {
        report_type: HhsReportType::Initial,
        size: HhsReportSize::of(n),
        covered_entity: contact(),
        covered_entity_type: CoveredEntityType::HealthcareProvider,
        business_associate: None,
        breach_start: d("2026-03-01"),
        breach_end: Some(d("2026-03-05")),
        discovery_start: d(DISCOVERY),
        discovery_end: None,
        individuals_affected: n,
        breach_types: vec![HhsBreachType::Theft],
        breach_type_other: None,
        locations: vec![HhsLocation::Laptop],
        location_other: None,
        phi_types: vec![PhiType::Demographic, PhiType::Clinical],
        phi_type_other: None,
        description: "Unencrypted laptop stolen from a car.".into(),
        safeguards: vec![HhsSafeguard::PrivacyRuleSafeguards],
        individual_notice_from: Some(d("2026-04-01")),
        individual_notice_to: Some(d("2026-04-03")),
        substitute_notice_required: false,
        media_notice_required: false,
        actions_taken: vec!["Encrypted all laptops".into()],
    }
}

#[test]
fn hhs_report_validation() {
    // 164.408(b): 500 is "500 or more"; 499 is "fewer than 500".
    assert_eq!(HhsReportSize::of(500), HhsReportSize::FiveHundredOrMore);
    assert_eq!(HhsReportSize::of(499), HhsReportSize::FewerThanFiveHundred);
    assert!(report(499).validate().is_ok());
    assert!(report(500).validate().is_ok());
    let field = |r: HhsBreachReport| match r.validate().unwrap_err() {
        IncidentError::ReportInvalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let mut r = report(500);
    r.size = HhsReportSize::FewerThanFiveHundred;
    assert_eq!(field(r), "size");
    let mut r = report(10);
    r.discovery_start = d("2026-02-28");
    assert_eq!(field(r), "discoveryStart");
    let mut r = report(10);
    r.breach_types = vec![HhsBreachType::Other];
    assert_eq!(field(r), "breachTypeOther");
    let mut r = report(10);
    r.locations.clear();
    assert_eq!(field(r), "locations");
    let mut r = report(10);
    r.safeguards = vec![HhsSafeguard::None, HhsSafeguard::SecurityRuleTechnical];
    assert_eq!(field(r), "safeguards");
    // Media notice needs more than 500 (164.406): 500 → refused, 501 → fine.
    let mut r = report(500);
    r.media_notice_required = true;
    assert_eq!(field(r), "mediaNoticeRequired");
    let mut r = report(501);
    r.media_notice_required = true;
    assert!(r.validate().is_ok());
    let mut r = report(10);
    r.individual_notice_from = Some(d("2026-03-01"));
    assert_eq!(field(r), "individualNoticeFrom");
    assert_eq!(report(10).validate().map_err(|e| e.code()), Ok(()));
    let mut r = report(10);
    r.description = " ".into();
    assert_eq!(r.validate().unwrap_err().code(), "report-invalid");
}

fn row(reference: &str, discovered: &str, n: u64) -> AnnualLogRow {
    AnnualLogRow {
        reference: reference.into(),
        discovered_on: d(discovered),
        breach_start: None,
        breach_end: None,
        individuals_affected: n,
        breach_types: vec![HhsBreachType::Loss],
        locations: vec![HhsLocation::PaperFilms],
        description: "misfiled".into(),
        individuals_notified_on: None,
        reported_to_hhs_on: None,
    }
}

#[test]
fn the_annual_log_holds_the_years_breaches_under_500_in_discovery_order() {
    // 164.408(c): breaches discovered in 2026 affecting fewer than 500. INC-4 (500) was
    // reported on its own; INC-5 was discovered in 2027 (next year's log); INC-6 on Dec 31,
    // 2026 is in; INC-2 and INC-3 share a date and sort by reference.
    let log = annual_log(
        2026,
        vec![
            row("INC-6", "2026-12-31", 1),
            row("INC-3", "2026-05-01", 12),
            row("INC-4", "2026-02-01", 500),
            row("INC-1", "2026-01-01", 499),
            row("INC-5", "2027-01-01", 3),
            row("INC-2", "2026-05-01", 7),
        ],
    );
    let refs: Vec<&str> = log.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(refs, ["INC-1", "INC-2", "INC-3", "INC-6"]);
}

#[test]
fn error_codes_are_stable_and_distinct() {
    // The codes are a contract with clients: this table is their list, one per variant.
    let day = d(DISCOVERY);
    let table: Vec<(IncidentError, &str)> = vec![
        (
            IncidentError::DiscoveryInFuture {
                discovered_on: day,
                today: day,
            },
            "discovery-in-future",
        ),
        (
            IncidentError::OccurrenceAfterDiscovery {
                occurred_on: day,
                discovered_on: day,
            },
            "occurrence-after-discovery",
        ),
        (
            IncidentError::OccurrenceEndsBeforeStart {
                from: day,
                until: day,
            },
            "occurrence-ends-before-start",
        ),
        (
            IncidentError::NotificationBeforeDiscovery {
                recipient: Recipient::Hhs,
                sent_on: day,
                discovered_on: day,
            },
            "notification-before-discovery",
        ),
        (
            IncidentError::NotificationInFuture {
                recipient: Recipient::Hhs,
                sent_on: day,
                today: day,
            },
            "notification-in-future",
        ),
        (
            IncidentError::MethodNotAllowed {
                recipient: Recipient::Hhs,
                method: M::Email,
            },
            "method-not-allowed",
        ),
        (
            IncidentError::JurisdictionMismatch {
                recipient: Recipient::Media,
            },
            "jurisdiction-mismatch",
        ),
        (
            IncidentError::FactorsMissing {
                missing: vec![RiskFactor::Mitigation],
            },
            "factors-missing",
        ),
        (
            IncidentError::FactorRepeated {
                factor: RiskFactor::Mitigation,
            },
            "factor-repeated",
        ),
        (
            IncidentError::FactorRationaleMissing {
                factor: RiskFactor::Mitigation,
            },
            "factor-rationale-missing",
        ),
        (
            IncidentError::DecisionRationaleMissing {
                decision: DecisionKind::Exception,
            },
            "decision-rationale-missing",
        ),
        (
            IncidentError::TextTooLong {
                field: "rationale",
                max: MAX_TEXT,
            },
            "text-too-long",
        ),
        (
            IncidentError::SecuredPhiDecidedBreach {
                security: PhiSecurity::Encrypted,
            },
            "secured-phi-decided-breach",
        ),
        (IncidentError::SafeHarbourNotMet, "safe-harbour-not-met"),
        (
            IncidentError::DecisionInFuture {
                decided_on: day,
                today: day,
            },
            "decision-in-future",
        ),
        (
            IncidentError::DecisionBeforeDiscovery {
                decided_on: day,
                discovered_on: day,
            },
            "decision-before-discovery",
        ),
        (
            IncidentError::CountOutOfRange {
                field: "affected.total".into(),
                value: -1,
            },
            "count-out-of-range",
        ),
        (
            IncidentError::CountBelowStateSum {
                total: 0,
                state_sum: 1,
            },
            "count-below-state-sum",
        ),
        (
            IncidentError::UnknownJurisdiction { code: "X".into() },
            "unknown-jurisdiction",
        ),
        (
            IncidentError::JurisdictionRepeated {
                jurisdiction: J::Texas,
            },
            "jurisdiction-repeated",
        ),
        (
            IncidentError::InvalidTransition {
                from: S::Closed,
                to: S::Recovered,
            },
            "invalid-transition",
        ),
        (IncidentError::NoChange { status: S::Triage }, "no-change"),
        (
            IncidentError::ClosedWithoutDecision,
            "closed-without-decision",
        ),
        (
            IncidentError::DelayPeriodInvalid {
                stated_on: day,
                ends_on: day,
            },
            "delay-period-invalid",
        ),
        (
            IncidentError::WrittenDelayWithoutPeriod,
            "written-delay-without-period",
        ),
        (
            IncidentError::StatementInFuture {
                stated_on: day,
                today: day,
            },
            "statement-in-future",
        ),
        (
            IncidentError::BaaWindowOutOfRange { days: 0 },
            "baa-window-out-of-range",
        ),
        (
            IncidentError::DateOutOfRange { field: "dueOn" },
            "date-out-of-range",
        ),
        (
            IncidentError::ReportInvalid {
                field: "size",
                reason: "r",
            },
            "report-invalid",
        ),
    ];
    for (e, code) in &table {
        assert_eq!(e.code(), *code);
        assert!(!e.to_string().is_empty());
        assert!(!e.field().is_empty());
    }
    let codes: HashSet<&str> = table.iter().map(|(e, _)| e.code()).collect();
    assert_eq!(codes.len(), table.len());
    // Lifecycle errors are conflicts; the rest invalid input.
    for (e, code) in table {
        let conflict = matches!(DomainError::from(e), DomainError::Conflict { .. });
        assert_eq!(
            conflict,
            ["invalid-transition", "no-change", "closed-without-decision"].contains(&code),
            "{code}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Properties: no input panics; the deadline arithmetic holds for any input
// ---------------------------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A date: mostly 2020–2030, sometimes at the very end of chrono's calendar.
    fn date() -> impl Strategy<Value = NaiveDate> {
        prop_oneof![
            9 => (0u64..4000).prop_map(|n| d("2020-01-01").checked_add_days(Days::new(n)).unwrap()),
            1 => (0u64..200).prop_map(|n| NaiveDate::MAX.checked_sub_days(Days::new(n)).unwrap()),
        ]
    }

    fn delay() -> impl Strategy<Value = LawEnforcementDelay> {
        (any::<bool>(), date(), proptest::option::of(-5i64..120)).prop_map(|(w, s, len)| {
            LawEnforcementDelay {
                form: if w {
                    StatementForm::Written
                } else {
                    StatementForm::Oral
                },
                stated_on: s,
                ends_on: len.and_then(|l| {
                    if l >= 0 {
                        s.checked_add_days(Days::new(l.unsigned_abs()))
                    } else {
                        s.checked_sub_days(Days::new(l.unsigned_abs()))
                    }
                }),
            }
        })
    }

    fn code() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(J::ALL.to_vec()).prop_map(|j| j.as_str().to_owned()),
            "[a-zA-Z ]{0,4}",
        ]
    }

    fn decision() -> impl Strategy<Value = Option<DecisionKind>> {
        proptest::option::of(proptest::sample::select(DecisionKind::ALL.to_vec()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn counts_never_panic_and_hold_their_invariant(
            total in prop_oneof![any::<i64>(), -10i64..2000],
            states in proptest::collection::vec((code(), prop_oneof![any::<i64>(), -10i64..1200]), 0..8),
        ) {
            if let Ok(c) = AffectedCounts::new(total, states.iter().map(|(s, n)| (s.as_str(), *n))) {
                let sum: u64 = c.by_jurisdiction().values().sum();
                prop_assert!(c.total() >= sum);
                prop_assert!(c.total() <= MAX_AFFECTED);
                prop_assert_eq!(c.hhs_immediate(), c.total() >= 500);
            }
        }

        #[test]
        fn clocks_never_panic_and_add_up(
            discovered in date(),
            decision in decision(),
            total in 0i64..2000,
            tx in 0i64..1000,
            delays in proptest::collection::vec(delay(), 0..4),
            sent in proptest::option::of(date()),
            today in date(),
        ) {
            let Ok(counts) = AffectedCounts::new(total.max(tx), [("TX", tx)]) else {
                return Err(TestCaseError::fail("valid counts refused"));
            };
            let Ok(bc) = covered_entity_clocks(discovered, decision, &counts, &delays) else {
                return Ok(());
            };
            let breach = decision.is_none_or(DecisionKind::is_breach);
            let hhs = bc.clocks.iter().filter(|c| c.required && matches!(c.kind, ClockKind::Hhs | ClockKind::HhsAnnualLog)).count();
            prop_assert_eq!(hhs, usize::from(breach));
            for c in &bc.clocks {
                prop_assert_eq!(c.base_due_on, c.starts_on.checked_add_days(Days::new(u64::from(c.days))).unwrap());
                prop_assert_eq!(c.due_on, c.base_due_on.checked_add_days(Days::new(u64::from(c.suspended_days))).unwrap());
                let r = c.reading(sent, today);
                match r.state {
                    ClockState::Met => prop_assert!(r.sent_on.is_some_and(|s| s <= c.due_on && s <= today)),
                    ClockState::Missed => prop_assert!(r.days_late.is_some_and(|n| n >= 1)),
                    ClockState::Due => prop_assert!(r.sent_on.is_none() && today <= c.due_on),
                    ClockState::NotRequired => prop_assert!(!c.required),
                }
            }
            // A further delay never brings a deadline forward.
            let mut more = delays.clone();
            more.push(LawEnforcementDelay { form: StatementForm::Oral, stated_on: discovered, ends_on: None });
            if let Ok(bc2) = covered_entity_clocks(discovered, decision, &counts, &more) {
                for (a, b) in bc.clocks.iter().zip(&bc2.clocks) {
                    prop_assert!(b.due_on >= a.due_on);
                }
            }
        }

        #[test]
        fn checks_never_panic(
            discovered in date(),
            occurred in proptest::option::of(date()),
            until in proptest::option::of(date()),
            today in date(),
            d1 in delay(),
            from in proptest::sample::select(S::ALL.to_vec()),
            to in proptest::sample::select(S::ALL.to_vec()),
            pending in any::<bool>(),
            baa_days in any::<i32>(),
            notice in date(),
        ) {
            let _ = check_incident_dates(discovered, occurred, until, today);
            let _ = check_delay(&d1, today);
            let _ = check_transition(from, to, pending);
            let b = baa();
            if let Ok(w) = ba_notice_window(Some((&b, baa_days)), discovered) {
                prop_assert!((1..=60).contains(&w.days));
                let _ = business_associate_clock(discovered, None, w, &[d1]);
            }
            for rel in BaRelation::ALL {
                if let Ok(ce) = covered_entity_discovery(*rel, discovered, notice) {
                    prop_assert!(ce >= discovered && ce <= notice);
                }
            }
        }
    }
}
