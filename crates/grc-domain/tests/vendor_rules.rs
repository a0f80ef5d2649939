//! Vendor compliance, BAAs and subcontractor chains, computed by hand from the rules:
//! 45 CFR 164.308(b)(1) and 164.502(e) (a BAA with every vendor handling ePHI), 164.504(e)(2) and
//! 164.314(a)(2)(i) (its required terms), 164.410(b) (breach notice within 60 days), and the
//! tenant's own tier requirements.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use grc_domain::certification::{AttestationKind, AttestationState, AttestationStatus};
use grc_domain::vendors::{
    BAA_TERMS, Baa, ComplianceStatus, ComplianceSummary, EphiAccess, HeldAttestation, Requirement,
    RequirementKind as K, RequirementState as R, TierRequirements, check_breach_notice_days,
    subcontractor_chain, subcontractor_cycle, vendor_compliance,
};
use std::collections::HashSet;
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn held(
    kind: AttestationKind,
    status: AttestationStatus,
    until: &str,
    index: usize,
) -> HeldAttestation {
    HeldAttestation {
        kind,
        state: AttestationState {
            status,
            valid_until: Some(d(until)),
        },
        index,
    }
}

fn full_baa(effective: &str, ends: Option<&str>) -> Baa {
    Baa {
        effective_on: d(effective),
        ends_on: ends.map(d),
        terminated_on: None,
        present_terms: BAA_TERMS.iter().map(|t| t.key.to_owned()).collect(),
    }
}

/// Tier 1 as the example: ISO 27001 or SOC 2 Type II, plus a BAA.
fn tier1() -> Vec<Requirement> {
    vec![
        Requirement {
            any_of: vec![K::Iso27001, K::Soc2Type2],
        },
        Requirement {
            any_of: vec![K::Baa],
        },
    ]
}

const ON: &str = "2026-06-01";

#[test]
fn a_valid_certificate_and_a_baa_make_a_compliant_vendor() {
    // ISO valid to 2027-04-30 (beyond 2026-07-01, the 30-day window), open-ended BAA.
    let baa = full_baa("2024-01-01", None);
    let c = vendor_compliance(
        &tier1(),
        EphiAccess::Full,
        false,
        &[held(
            AttestationKind::Iso27001,
            AttestationStatus::Valid,
            "2027-04-30",
            0,
        )],
        &[(0, &baa)],
        d(ON),
        30,
    );
    assert_eq!(c.status, ComplianceStatus::Compliant);
    assert_eq!(c.requirements[0].state, R::Valid);
    assert_eq!(c.requirements[0].best, Some(0));
    assert_eq!(c.requirements[1].state, R::Valid);
    assert!(c.baa.required);
}

#[test]
fn validity_ending_within_the_window_is_expiring_and_the_edge_day_counts() {
    // 2026-06-01 + 30 days = 2026-07-01: valid until 2026-07-01 is expiring; 2026-07-02 is not.
    let baa = full_baa("2024-01-01", None);
    let at = |until| {
        vendor_compliance(
            &tier1(),
            EphiAccess::Full,
            false,
            &[held(
                AttestationKind::Soc2Type2,
                AttestationStatus::Valid,
                until,
                0,
            )],
            &[(0, &baa)],
            d(ON),
            30,
        )
    };
    let edge = at("2026-07-01");
    assert_eq!(edge.requirements[0].state, R::Expiring);
    assert_eq!(edge.status, ComplianceStatus::AtRisk);
    assert_eq!(at("2026-07-02").status, ComplianceStatus::Compliant);
}

#[test]
fn the_best_of_the_listed_kinds_meets_a_requirement() {
    // An expired ISO certificate and a valid SOC 2 Type II: the SOC 2 decides.
    let baa = full_baa("2024-01-01", None);
    let c = vendor_compliance(
        &tier1(),
        EphiAccess::None,
        false,
        &[
            held(
                AttestationKind::Iso27001,
                AttestationStatus::Expired,
                "2026-05-31",
                0,
            ),
            held(
                AttestationKind::Soc2Type2,
                AttestationStatus::Valid,
                "2026-12-31",
                1,
            ),
        ],
        &[(0, &baa)],
        d(ON),
        30,
    );
    assert_eq!(c.requirements[0].state, R::Valid);
    assert_eq!(c.requirements[0].best, Some(1));
    assert_eq!(c.requirements[0].valid_until, Some(d("2026-12-31")));
}

#[test]
fn expired_invalid_and_missing_are_told_apart() {
    let reqs = vec![Requirement {
        any_of: vec![K::Iso27001],
    }];
    let run = |atts: &[HeldAttestation]| {
        vendor_compliance(&reqs, EphiAccess::None, false, atts, &[], d(ON), 30)
    };
    let expired = run(&[held(
        AttestationKind::Iso27001,
        AttestationStatus::Expired,
        "2026-05-31",
        0,
    )]);
    assert_eq!(expired.requirements[0].state, R::Expired);
    assert_eq!(expired.status, ComplianceStatus::NonCompliant);
    let suspended = run(&[held(
        AttestationKind::Iso27001,
        AttestationStatus::Suspended,
        "2027-01-01",
        0,
    )]);
    assert_eq!(suspended.requirements[0].state, R::Invalid);
    let missing = run(&[held(
        AttestationKind::PenTest,
        AttestationStatus::Valid,
        "2027-01-01",
        0,
    )]);
    assert_eq!(missing.requirements[0].state, R::Missing);
    assert_eq!(missing.requirements[0].best, None);
    // No ePHI and no BAA requirement: no BAA is needed.
    assert!(!missing.baa.required);
}

#[test]
fn an_ephi_vendor_without_a_baa_is_non_compliant_whatever_its_tier() {
    // 164.308(b)(1) / 164.502(e): a BAA with every vendor handling ePHI. Tier 4 asks nothing.
    let c = vendor_compliance(&[], EphiAccess::Limited, false, &[], &[], d(ON), 30);
    assert!(c.baa.required);
    assert_eq!(c.baa.state, R::Missing);
    assert_eq!(c.status, ComplianceStatus::NonCompliant);
    // The same vendor without ePHI access owes nothing.
    let none = vendor_compliance(&[], EphiAccess::None, false, &[], &[], d(ON), 30);
    assert_eq!(none.status, ComplianceStatus::Compliant);
}

#[test]
fn a_baa_in_force_with_missing_terms_does_not_cover() {
    // 164.504(e)(2)(ii)(C): reporting breaches is a required term.
    let mut baa = full_baa("2024-01-01", None);
    baa.present_terms.remove("report-disclosures");
    let c = vendor_compliance(&[], EphiAccess::Full, false, &[], &[(7, &baa)], d(ON), 30);
    assert_eq!(c.baa.baa, Some(7));
    assert_eq!(c.baa.missing_terms, vec!["report-disclosures"]);
    assert_eq!(c.status, ComplianceStatus::NonCompliant);
}

#[test]
fn a_baa_ended_or_terminated_has_lapsed() {
    // Ended 2026-05-31: not in force on 2026-06-01 → expired. Terminated on 2026-06-01 takes
    // effect that day.
    let ended = full_baa("2023-06-01", Some("2026-05-31"));
    assert!(ended.in_effect(d("2026-05-31")));
    assert!(!ended.in_effect(d(ON)));
    let c = vendor_compliance(&[], EphiAccess::Full, false, &[], &[(0, &ended)], d(ON), 30);
    assert_eq!(c.baa.state, R::Expired);
    let mut terminated = full_baa("2023-06-01", None);
    terminated.terminated_on = Some(d(ON));
    assert!(!terminated.in_effect(d(ON)));
    assert_eq!(terminated.last_day(), Some(d("2026-05-31")));
    // Ending within the window: expiring.
    let ending = full_baa("2023-06-01", Some("2026-06-20"));
    let c = vendor_compliance(
        &[],
        EphiAccess::Full,
        false,
        &[],
        &[(0, &ending)],
        d(ON),
        30,
    );
    assert_eq!(c.baa.state, R::Expiring);
    assert_eq!(c.status, ComplianceStatus::AtRisk);
}

#[test]
fn an_offboarded_vendor_is_not_assessed_and_the_summary_counts_it_apart() {
    let c = vendor_compliance(&tier1(), EphiAccess::Full, true, &[], &[], d(ON), 30);
    assert_eq!(c.status, ComplianceStatus::NotAssessed);
    let mut sum = ComplianceSummary::default();
    sum.add(EphiAccess::Full, &c);
    let missing = vendor_compliance(&tier1(), EphiAccess::Full, false, &[], &[], d(ON), 30);
    sum.add(EphiAccess::Full, &missing);
    assert_eq!(
        (
            sum.vendors,
            sum.not_assessed,
            sum.non_compliant,
            sum.ephi_without_baa
        ),
        (2, 1, 1, 1)
    );
    // Two requirements missing (the certificate and the BAA).
    assert_eq!(sum.requirements_missing, 2);
}

#[test]
fn breach_notice_windows_are_1_to_60_days() {
    // 164.410(b): no later than 60 calendar days after discovery.
    assert_eq!(check_breach_notice_days(60).unwrap(), 60);
    assert_eq!(check_breach_notice_days(1).unwrap(), 1);
    assert!(check_breach_notice_days(61).is_err());
    assert!(check_breach_notice_days(0).is_err());
    assert!(check_breach_notice_days(-5).is_err());
}

#[test]
fn the_required_terms_are_the_fifteen_of_the_two_rules() {
    // 164.504(e)(2)(i), (ii)(A)–(J), (iii) and 164.314(a)(2)(i)(A)–(C): 1 + 10 + 1 + 3.
    assert_eq!(BAA_TERMS.len(), 15);
    let keys: HashSet<_> = BAA_TERMS.iter().map(|t| t.key).collect();
    assert_eq!(keys.len(), 15);
    assert_eq!(
        BAA_TERMS
            .iter()
            .filter(|t| t.citation.starts_with("164.314"))
            .count(),
        3
    );
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn subcontractor_cycles_are_found_at_any_depth() {
    // a → b → c: adding c → a closes a → b → c → a; the path runs from a back to c.
    let edges = [(id(1), id(2)), (id(2), id(3))];
    assert_eq!(
        subcontractor_cycle(&edges, id(3), id(1)),
        Some(vec![id(1), id(2), id(3)])
    );
    // A vendor is never its own subcontractor.
    assert_eq!(subcontractor_cycle(&edges, id(1), id(1)), Some(vec![id(1)]));
    // a → c is a shortcut, not a cycle.
    assert_eq!(subcontractor_cycle(&edges, id(1), id(3)), None);
}

#[test]
fn the_chain_lists_each_subcontractor_once_at_its_shallowest_depth() {
    // a → b, a → c, b → c, c → d: b and c at depth 1, d at 2.
    let edges = [
        (id(1), id(2)),
        (id(1), id(3)),
        (id(2), id(3)),
        (id(3), id(4)),
    ];
    assert_eq!(
        subcontractor_chain(&edges, id(1)),
        vec![(id(2), 1), (id(3), 1), (id(4), 2)]
    );
    assert!(subcontractor_chain(&edges, id(4)).is_empty());
}

#[test]
fn tier_requirements_are_checked() {
    let mut t = TierRequirements::default();
    assert!(t.validate().is_ok());
    assert_eq!(t.of(4).len(), 0);
    assert_eq!(t.of(9).len(), 0);
    t.tiers[0].push(Requirement {
        any_of: vec![K::PenTest, K::PenTest],
    });
    assert!(t.validate().unwrap_err().to_string().contains("twice"));
    t.tiers[0].pop();
    t.tiers[1].push(Requirement { any_of: vec![] });
    assert!(t.validate().is_err());
    // Stored as JSON and read back unchanged.
    let back: TierRequirements =
        serde_json::from_str(&serde_json::to_string(&TierRequirements::default()).unwrap())
            .unwrap();
    assert_eq!(back, TierRequirements::default());
}

mod facts {
    use super::d;
    use grc_domain::certification::{
        AttestationFacts, AttestationKind as AK, AttestationPolicy, AttestationStatus, Edition,
    };

    fn base(kind: AK, issued: &str) -> AttestationFacts {
        AttestationFacts {
            kind,
            issued_on: d(issued),
            expires_on: None,
            edition: None,
            period_start: None,
            period_end: None,
            opinion: None,
            bridge_through: None,
            interim_submitted_on: None,
            hitrust_bridge_on: None,
            suspended_on: None,
            withdrawn_on: None,
        }
    }

    #[test]
    fn an_iso_attestation_is_a_possible_certificate() {
        // 17021-1 9.1.3.2 and 9.6.3.2.3: a cycle is 3 years, and a certificate reissued on an
        // early recertification keeps the old dates: issued 2025-03-01 on a recertification,
        // expiring 2028-06-30 (3 years after the old expiry 2025-06-30) is possible. Product
        // rule: at most 4 years after issue (2024-05-01 → 2028-05-01).
        let mut f = base(AK::Iso27001, "2024-05-01");
        assert!(f.validate().unwrap_err().to_string().contains("expiry"));
        f.expires_on = Some(d("2028-05-02"));
        assert!(f.validate().unwrap_err().to_string().contains("2028-05-01"));
        f.expires_on = Some(d("2028-05-01"));
        f.validate().unwrap();
        let mut recertified = base(AK::Iso27001, "2025-03-01");
        recertified.expires_on = Some(d("2028-06-30"));
        recertified.validate().unwrap();
        f.expires_on = Some(d("2027-05-01"));
        let p = AttestationPolicy::default();
        assert_eq!(
            f.state_on(&p, d("2027-05-01")).status,
            AttestationStatus::Valid
        );
        // Withdrawn: valid until the day before.
        f.withdrawn_on = Some(d("2026-01-15"));
        f.validate().unwrap();
        let w = f.state_on(&p, d("2026-02-01"));
        assert_eq!(
            (w.status, w.valid_until),
            (AttestationStatus::Withdrawn, Some(d("2026-01-14")))
        );
        f.withdrawn_on = None;
        // A 2013 certificate observed after the transition end (IAF MD 26).
        f.edition = Some(Edition::E2013);
        f.issued_on = d("2023-01-10");
        f.expires_on = Some(d("2026-01-09"));
        assert_eq!(
            f.state_on(&p, d("2025-11-01")).status,
            AttestationStatus::Expired
        );
    }

    #[test]
    fn fields_of_another_kind_are_refused() {
        let mut f = base(AK::PenTest, "2024-05-01");
        f.interim_submitted_on = Some(d("2025-03-01"));
        assert!(
            f.validate()
                .unwrap_err()
                .to_string()
                .contains("does not apply")
        );
        let mut s = base(AK::Soc2Type1, "2024-08-01");
        s.period_end = Some(d("2024-06-30"));
        s.validate().unwrap();
        s.period_start = Some(d("2024-01-01"));
        assert!(s.validate().is_err());
    }

    #[test]
    fn a_soc2_report_is_dated_after_its_period() {
        let mut f = base(AK::Soc2Type2, "2024-12-30");
        f.period_start = Some(d("2024-01-01"));
        f.period_end = Some(d("2024-12-31"));
        assert!(
            f.validate()
                .unwrap_err()
                .to_string()
                .contains("on or after")
        );
        f.issued_on = d("2025-02-15");
        f.validate().unwrap();
        // Without a period start a Type II is refused.
        f.period_start = None;
        assert!(f.validate().is_err());
    }
}
