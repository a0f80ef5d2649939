//! Property tests of the lifecycle rules: no status without the events that cause it, dates
//! that only move forward, order independence, and no panic on any input.

#![allow(clippy::unwrap_used)]

use chrono::{Days, NaiveDate};
use grc_domain::certification::{
    AttestationPolicy, CertAudit, CertAuditKind, CertDecision, CertDecisionKind, Certificate,
    CertificateStatus, Edition, Hitrust, HitrustKind, Soc2Report, Standard,
    certificate_attestation_state, observed_iso_state, plus_months,
};
use proptest::prelude::*;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .checked_add_days(Days::new(u64::from(n)))
        .unwrap()
}

/// A valid history built by construction: a decision, an expiry within 3 years, surveillances
/// after the decision, and optionally a suspension (lifted or not), a recertification and a
/// withdrawal, in date order.
#[derive(Debug, Clone)]
struct History {
    audits: Vec<CertAudit>,
    decisions: Vec<CertDecision>,
}

fn history() -> impl Strategy<Value = History> {
    (
        0u32..2000,                                                         // decision day
        1u32..=1095,                                 // expiry offset (days, ≤ 3 years)
        proptest::collection::vec(0u32..1200, 0..4), // surveillance offsets
        proptest::option::of((1u32..400, proptest::option::of(1u32..200))), // suspension
        proptest::option::of((0u32..150, 1u32..=1000)), // recert: days before expiry, extension
        proptest::option::of(1u32..1500),            // withdrawal offset
    )
        .prop_map(|(dec, exp, survs, susp, recert, withdraw)| {
            let decided = day(dec);
            let expires = decided
                .checked_add_days(Days::new(u64::from(exp)))
                .unwrap()
                .min(plus_months(decided, 36).unwrap());
            let mut decisions = vec![CertDecision {
                kind: CertDecisionKind::Certification,
                on: decided,
                expires: Some(expires),
            }];
            let audits = survs
                .into_iter()
                .map(|o| {
                    let e = decided.checked_add_days(Days::new(u64::from(o))).unwrap();
                    CertAudit {
                        kind: CertAuditKind::Surveillance,
                        start: e,
                        end: e,
                        major_findings: 0,
                    }
                })
                .collect();
            let mut last = decided;
            let mut open_suspension = false;
            if let Some((s, lift)) = susp {
                let on = decided.checked_add_days(Days::new(u64::from(s))).unwrap();
                if on <= expires {
                    decisions.push(CertDecision {
                        kind: CertDecisionKind::Suspension,
                        on,
                        expires: None,
                    });
                    last = on;
                    if let Some(l) = lift {
                        let lifted = on.checked_add_days(Days::new(u64::from(l))).unwrap();
                        if lifted <= expires {
                            decisions.push(CertDecision {
                                kind: CertDecisionKind::SuspensionLifted,
                                on: lifted,
                                expires: None,
                            });
                            last = lifted;
                        } else {
                            open_suspension = true;
                        }
                    } else {
                        open_suspension = true;
                    }
                }
            }
            if let Some((before, ext)) = recert
                && !open_suspension
            {
                let on = expires
                    .checked_sub_days(Days::new(u64::from(before)))
                    .unwrap();
                let new_expiry = expires
                    .checked_add_days(Days::new(u64::from(ext)))
                    .unwrap()
                    .min(plus_months(expires, 36).unwrap());
                if on > last && on > decided {
                    decisions.push(CertDecision {
                        kind: CertDecisionKind::Recertification,
                        on,
                        expires: Some(new_expiry),
                    });
                    last = on;
                }
            }
            if let Some(w) = withdraw {
                let on = decided.checked_add_days(Days::new(u64::from(w))).unwrap();
                if on > last {
                    decisions.push(CertDecision {
                        kind: CertDecisionKind::Withdrawal,
                        on,
                        expires: None,
                    });
                }
            }
            History { audits, decisions }
        })
}

fn has(h: &History, kind: CertDecisionKind, on: NaiveDate) -> bool {
    h.decisions.iter().any(|d| d.kind == kind && d.on <= on)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every status is explained by the events on or before the date.
    #[test]
    fn no_status_without_its_events(h in history(), probe in 0u32..4000) {
        let c = Certificate::new(Standard::Iso27001, Edition::E2022, &h.audits, &h.decisions)
            .unwrap();
        let on = day(probe);
        let s = c.status_on(on);
        let certified = has(&h, CertDecisionKind::Certification, on);
        match s.status {
            CertificateStatus::Pending => prop_assert!(!certified),
            CertificateStatus::Active => {
                prop_assert!(certified);
                prop_assert!(on <= s.valid_until.unwrap());
                prop_assert!(s.since.unwrap() <= on);
            }
            CertificateStatus::Suspended => {
                prop_assert!(has(&h, CertDecisionKind::Suspension, on));
                prop_assert!(on <= s.valid_until.unwrap());
            }
            CertificateStatus::Expired => {
                prop_assert!(certified);
                prop_assert!(on > s.valid_until.unwrap());
            }
            CertificateStatus::Withdrawn => {
                prop_assert!(has(&h, CertDecisionKind::Withdrawal, on));
            }
        }
        if let Some(start) = s.cycle_start
            && s.status != CertificateStatus::Withdrawn
        {
            prop_assert!(start <= on && start < s.valid_until.unwrap());
        }
    }

    /// Withdrawal is terminal, and once expired without a later recertification a certificate
    /// never becomes active again.
    #[test]
    fn statuses_only_move_forward(h in history(), a in 0u32..4000, b in 0u32..4000) {
        let c = Certificate::new(Standard::Iso27001, Edition::E2022, &h.audits, &h.decisions)
            .unwrap();
        let (x, y) = (day(a.min(b)), day(a.max(b)));
        let (sx, sy) = (c.status_on(x), c.status_on(y));
        if sx.status == CertificateStatus::Withdrawn {
            prop_assert_eq!(sy.status, CertificateStatus::Withdrawn);
        }
        if sx.status != CertificateStatus::Pending {
            prop_assert!(sy.status != CertificateStatus::Pending);
        }
        let recert_between = h.decisions.iter().any(|d| {
            d.kind == CertDecisionKind::Recertification && x < d.on && d.on <= y
        });
        if sx.status == CertificateStatus::Expired && !recert_between {
            prop_assert!(matches!(
                sy.status,
                CertificateStatus::Expired | CertificateStatus::Withdrawn
            ));
        }
    }

    /// Due events are sorted, their windows open before they close, and nothing is due for a
    /// withdrawn certificate.
    #[test]
    fn due_events_are_ordered_windows(h in history(), probe in 0u32..4000) {
        let c = Certificate::new(Standard::Iso27001, Edition::E2022, &h.audits, &h.decisions)
            .unwrap();
        let on = day(probe);
        let events = c.due_events(on);
        for w in events.windows(2) {
            prop_assert!(w[0].due <= w[1].due);
        }
        for e in &events {
            if let Some(o) = e.opens {
                prop_assert!(o <= e.due);
            }
            prop_assert_eq!(e.overdue, e.due < on);
        }
        if c.status_on(on).status == CertificateStatus::Withdrawn {
            prop_assert!(events.is_empty());
        }
    }

    /// The order in which events are recorded does not matter.
    #[test]
    fn recording_order_does_not_matter(h in history(), seed in any::<u64>()) {
        let a = Certificate::new(Standard::Iso27001, Edition::E2022, &h.audits, &h.decisions)
            .unwrap();
        let mut ds = h.decisions.clone();
        let mut au = h.audits.clone();
        let n = ds.len();
        ds.rotate_left((seed as usize) % n);
        au.reverse();
        let b = Certificate::new(Standard::Iso27001, Edition::E2022, &au, &ds).unwrap();
        prop_assert_eq!(a, b);
    }

    /// Arbitrary events never panic: they are accepted or refused.
    #[test]
    fn any_input_is_accepted_or_refused(
        events in proptest::collection::vec((0usize..7, 0u32..3000, proptest::option::of(0u32..3000)), 0..8),
        audits in proptest::collection::vec((0usize..6, 0u32..3000, 0u32..10, 0u32..3), 0..6),
        probe in 0u32..4000,
    ) {
        let kinds = CertDecisionKind::ALL;
        let decisions: Vec<CertDecision> = events
            .iter()
            .map(|&(k, on, exp)| CertDecision {
                kind: kinds[k],
                on: day(on),
                expires: exp.map(day),
            })
            .collect();
        let audits: Vec<CertAudit> = audits
            .iter()
            .map(|&(k, start, len, majors)| CertAudit {
                kind: CertAuditKind::ALL[k],
                start: day(start),
                end: day(start + len),
                major_findings: majors,
            })
            .collect();
        for edition in [Edition::E2013, Edition::E2022] {
            if let Ok(c) = Certificate::new(Standard::Iso27001, edition, &audits, &decisions) {
                let _ = c.status_on(day(probe));
                let _ = c.due_events(day(probe));
            }
        }
    }

    /// A SOC 2 report stays current at least until its period end and never longer than the
    /// bridge cap plus the currency; a longer bridge never shortens it.
    #[test]
    fn soc2_validity_is_bounded_and_monotone(
        start in 0u32..2000, len in 0u32..400, b1 in 1u32..200, b2 in 1u32..200,
    ) {
        let p = AttestationPolicy::default();
        let period_end = day(start + len);
        let report = |b: Option<u32>| Soc2Report {
            period_start: Some(day(start)),
            period_end,
            opinion: None,
            bridge_through: b.map(|b| period_end.checked_add_days(Days::new(u64::from(b))).unwrap()),
        };
        let until = |r: &Soc2Report| r.state_on(day(start), &p, period_end).valid_until.unwrap();
        let plain = until(&report(None));
        let (lo, hi) = (b1.min(b2), b1.max(b2));
        let (short, long) = (until(&report(Some(lo))), until(&report(Some(hi))));
        prop_assert!(plain >= period_end);
        prop_assert!(plain <= short && short <= long);
        let cap = plus_months(plus_months(period_end, 3).unwrap(), 12).unwrap();
        prop_assert!(long <= cap);
    }

    /// A HITRUST r2 is valid at least to its first anniversary, two years only with the
    /// interim in its window.
    #[test]
    fn hitrust_validity_follows_the_interim(cert in 0u32..2000, interim in proptest::option::of(0u32..500)) {
        let certified_on = day(cert);
        let h = Hitrust {
            kind: HitrustKind::R2,
            certified_on,
            interim_submitted: interim.map(|i| certified_on.checked_add_days(Days::new(u64::from(i))).unwrap()),
            bridge_on: None,
            revoked_on: None,
        };
        let anniversary = plus_months(certified_on, 12).unwrap();
        prop_assert!(h.valid_until() >= anniversary);
        prop_assert_eq!(h.valid_until() > anniversary, h.interim_in_window());
    }

    /// The fast observed-certificate state agrees with the full lifecycle on every date.
    #[test]
    fn observed_state_matches_the_lifecycle(
        issued in 1500u32..2500, len in 1u32..1100,
        susp in proptest::option::of(0u32..1200), wd in proptest::option::of(0u32..1200),
        e2013 in any::<bool>(), probe in 1400u32..4000,
    ) {
        let issued_on = day(issued);
        let expires = issued_on
            .checked_add_days(Days::new(u64::from(len)))
            .unwrap()
            .min(plus_months(issued_on, 36).unwrap());
        let at = |o: u32| issued_on.checked_add_days(Days::new(u64::from(o))).unwrap();
        let edition = if e2013 { Edition::E2013 } else { Edition::E2022 };
        let (s, w) = (susp.map(at), wd.map(at));
        if let Ok(c) = Certificate::observed(Standard::Iso27001, edition, issued_on, expires, s, w) {
            let on = day(probe);
            prop_assert_eq!(
                observed_iso_state(Standard::Iso27001, edition, issued_on, expires, s, w, on),
                certificate_attestation_state(&c, on)
            );
        }
    }
}
