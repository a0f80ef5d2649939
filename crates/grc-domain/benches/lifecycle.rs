//! The lifecycle functions at register scale: a certificate's status on a date (target: over
//! a million evaluations per second), and vendor compliance for a tenant with 2,000 vendors and
//! 10,000 attestations (target: under 50 ms including the API's loading; this is the
//! computation alone). Figures and machine: docs/BENCHMARKS.md.

use chrono::{Days, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use grc_domain::certification::{
    AttestationFacts, AttestationKind, AttestationPolicy, CertAudit, CertAuditKind, CertDecision,
    CertDecisionKind, Certificate, Edition, Opinion, Standard,
};
use grc_domain::vendors::{
    BAA_TERMS, Baa, ComplianceSummary, EphiAccess, HeldAttestation, TierRequirements,
    vendor_compliance,
};
use std::collections::HashMap;
use std::hint::black_box;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a date")
}

fn plus(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).expect("in range")
}

/// A certificate with a realistic history: stage audits, two surveillances, a suspension
/// lifted, a recertification.
fn certificate() -> Certificate {
    let audit = |kind, s: NaiveDate, e: NaiveDate| CertAudit {
        kind,
        start: s,
        end: e,
        major_findings: 0,
    };
    let dec = |kind, on, expires| CertDecision { kind, on, expires };
    Certificate::new(
        Standard::Iso27001,
        Edition::E2022,
        &[
            audit(CertAuditKind::Stage1, d(2023, 1, 9), d(2023, 1, 10)),
            audit(CertAuditKind::Stage2, d(2023, 2, 20), d(2023, 2, 23)),
            audit(CertAuditKind::Surveillance, d(2024, 2, 12), d(2024, 2, 13)),
            audit(CertAuditKind::Surveillance, d(2025, 2, 10), d(2025, 2, 11)),
            audit(
                CertAuditKind::Recertification,
                d(2026, 1, 19),
                d(2026, 1, 22),
            ),
        ],
        &[
            dec(
                CertDecisionKind::Certification,
                d(2023, 3, 15),
                Some(d(2026, 3, 14)),
            ),
            dec(CertDecisionKind::Suspension, d(2024, 6, 1), None),
            dec(CertDecisionKind::SuspensionLifted, d(2024, 7, 1), None),
            dec(
                CertDecisionKind::Recertification,
                d(2026, 2, 10),
                Some(d(2029, 3, 14)),
            ),
        ],
    )
    .expect("a valid history")
}

fn certificate_status(c: &mut Criterion) {
    let cert = certificate();
    // 1,024 dates spread over the certificate's life and beyond.
    let dates: Vec<NaiveDate> = (0..1024).map(|i| plus(d(2022, 12, 1), i * 3)).collect();
    let mut g = c.benchmark_group("certificate_status");
    g.throughput(Throughput::Elements(dates.len() as u64));
    g.bench_function("status_on x1024", |b| {
        b.iter(|| {
            for &on in &dates {
                black_box(cert.status_on(black_box(on)));
            }
        })
    });
    g.finish();
    c.bench_function("certificate_due_events", |b| {
        b.iter(|| black_box(cert.due_events(black_box(d(2026, 6, 1)))))
    });
}

/// 2,000 vendors in four tiers, five attestations each of mixed kinds, one BAA per ePHI vendor.
struct Register {
    vendors: Vec<(u8, EphiAccess)>,
    attestations: Vec<(usize, AttestationFacts)>,
    baas: Vec<(usize, Baa)>,
}

fn register() -> Register {
    let kinds = [
        AttestationKind::Iso27001,
        AttestationKind::Soc2Type2,
        AttestationKind::HitrustR2,
        AttestationKind::PenTest,
        AttestationKind::Questionnaire,
    ];
    let mut r = Register {
        vendors: Vec::new(),
        attestations: Vec::new(),
        baas: Vec::new(),
    };
    for v in 0..2000usize {
        let ephi = [EphiAccess::None, EphiAccess::Limited, EphiAccess::Full][v % 3];
        r.vendors.push(((v % 4) as u8 + 1, ephi));
        for (k, kind) in kinds.iter().enumerate() {
            let issued = plus(d(2024, 1, 1), ((v * 7 + k * 31) % 700) as u64);
            let mut f = AttestationFacts {
                kind: *kind,
                issued_on: issued,
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
            };
            match kind {
                AttestationKind::Iso27001 => f.expires_on = Some(plus(issued, 1000)),
                AttestationKind::Soc2Type2 => {
                    f.period_end = Some(plus(issued, 0));
                    f.period_start = Some(plus(d(2023, 1, 1), ((v * 7) % 300) as u64));
                    f.opinion = Some(Opinion::Unmodified);
                    if v % 5 == 0 {
                        f.bridge_through = Some(plus(issued, 60));
                    }
                }
                AttestationKind::HitrustR2 if v % 2 == 0 => {
                    f.interim_submitted_on = Some(plus(issued, 330));
                }
                _ => {}
            }
            r.attestations.push((v, f));
        }
        if ephi != EphiAccess::None {
            r.baas.push((
                v,
                Baa {
                    effective_on: d(2023, 1, 1),
                    ends_on: (v % 7 == 0).then(|| d(2026, 6, 20)),
                    terminated_on: None,
                    present_terms: BAA_TERMS.iter().map(|t| t.key.to_owned()).collect(),
                },
            ));
        }
    }
    r
}

/// The whole computation the API does after loading: every attestation's state, grouped by
/// vendor, each vendor's compliance, the tenant summary.
fn compliance(r: &Register, on: NaiveDate) -> ComplianceSummary {
    let policy = AttestationPolicy::default();
    let reqs = TierRequirements::default();
    let mut held: HashMap<usize, Vec<HeldAttestation>> = HashMap::with_capacity(r.vendors.len());
    for (i, (v, f)) in r.attestations.iter().enumerate() {
        held.entry(*v).or_default().push(HeldAttestation {
            kind: f.kind,
            state: f.state_on(&policy, on),
            index: i,
        });
    }
    let mut baas: HashMap<usize, Vec<(usize, &Baa)>> = HashMap::new();
    for (i, (v, b)) in r.baas.iter().enumerate() {
        baas.entry(*v).or_default().push((i, b));
    }
    let mut sum = ComplianceSummary::default();
    for (v, (tier, ephi)) in r.vendors.iter().enumerate() {
        let c = vendor_compliance(
            reqs.of(*tier),
            *ephi,
            false,
            held.get(&v).map(Vec::as_slice).unwrap_or(&[]),
            baas.get(&v).map(Vec::as_slice).unwrap_or(&[]),
            on,
            30,
        );
        sum.add(*ephi, &c);
    }
    sum
}

fn vendor_register(c: &mut Criterion) {
    let r = register();
    assert_eq!(r.attestations.len(), 10_000);
    // The mix is not degenerate: every outcome occurs.
    let s = compliance(&r, d(2026, 6, 1));
    eprintln!("register on 2026-06-01: {s:?}");
    assert!(s.compliant > 0 && s.at_risk > 0 && s.non_compliant > 0);
    c.bench_function("vendor_compliance 2000 vendors / 10000 attestations", |b| {
        b.iter(|| black_box(compliance(&r, black_box(d(2026, 6, 1)))))
    });
}

criterion_group!(benches, certificate_status, vendor_register);
criterion_main!(benches);
