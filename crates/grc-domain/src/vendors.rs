//! The vendor register's rules: criticality tiers and the attestations each tier requires,
//! business associate agreements and their required terms, subcontractor chains without
//! cycles, and vendor compliance computed on a date.
//!
//! HIPAA requires a business associate agreement with every vendor that creates, receives,
//! maintains or transmits ePHI for a covered entity (45 CFR 164.308(b)(1), 164.502(e)); its
//! terms are listed in 164.504(e)(2) and 164.314(a)(2) (primer §5.2). Which attestations a
//! vendor owes is the tenant's own policy, per tier.

use crate::DomainError;
use crate::certification::{AttestationKind, AttestationState, AttestationStatus};
use crate::isms::text_enum;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;

text_enum!(
    /// How much of the tenant's ePHI a vendor can reach.
    EphiAccess {
        None = "none",
        /// Some ePHI, e.g. support access or a narrow data set.
        Limited = "limited",
        /// Creates, receives, maintains or transmits ePHI as part of its service.
        Full = "full",
    }
);

text_enum!(
    /// What a requirement can ask for: an attestation kind, or a BAA.
    RequirementKind {
        Iso27001 = "iso27001",
        Iso27701 = "iso27701",
        Soc2Type1 = "soc2-type1",
        Soc2Type2 = "soc2-type2",
        HitrustR2 = "hitrust-r2",
        HitrustI1 = "hitrust-i1",
        HitrustE1 = "hitrust-e1",
        PenTest = "pen-test",
        Questionnaire = "questionnaire",
        Baa = "baa",
    }
);

impl RequirementKind {
    /// The attestation kind this requirement is met by (`None` for a BAA).
    pub fn attestation(self) -> Option<AttestationKind> {
        AttestationKind::parse(self.as_str())
    }
}

/// The criticality tiers: 1 is the most critical.
pub const TIERS: std::ops::RangeInclusive<u8> = 1..=4;

/// One requirement: any one of the listed kinds, valid on the date, meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    #[serde(rename = "anyOf")]
    pub any_of: Vec<RequirementKind>,
}

/// What each tier requires (index 0 is tier 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRequirements {
    pub tiers: [Vec<Requirement>; 4],
}

impl Default for TierRequirements {
    /// Tier 1: an ISO/IEC 27001 certificate, a SOC 2 Type II or a HITRUST r2, plus a
    /// penetration test; tier 2: any of those certifications or a HITRUST i1; tier 3: any
    /// certification or report, or a questionnaire; tier 4: nothing. A BAA is required of every
    /// vendor with ePHI access whatever its tier.
    fn default() -> Self {
        use RequirementKind as K;
        let req = |k: &[K]| Requirement { any_of: k.to_vec() };
        Self {
            tiers: [
                vec![
                    req(&[K::Iso27001, K::Soc2Type2, K::HitrustR2]),
                    req(&[K::PenTest]),
                ],
                vec![req(&[
                    K::Iso27001,
                    K::Soc2Type2,
                    K::HitrustR2,
                    K::HitrustI1,
                ])],
                vec![req(&[
                    K::Iso27001,
                    K::Soc2Type1,
                    K::Soc2Type2,
                    K::HitrustR2,
                    K::HitrustI1,
                    K::HitrustE1,
                    K::Questionnaire,
                ])],
                Vec::new(),
            ],
        }
    }
}

impl TierRequirements {
    /// Checks the requirements: at most 10 per tier, each with 1 to 10 distinct kinds.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (t, reqs) in self.tiers.iter().enumerate() {
            check_requirements(&format!("tiers.{t}"), reqs)?;
        }
        Ok(())
    }

    /// The requirements of `tier` (1–4); none for a tier out of range.
    pub fn of(&self, tier: u8) -> &[Requirement] {
        match tier {
            1..=4 => &self.tiers[usize::from(tier - 1)],
            _ => &[],
        }
    }
}

/// Checks one tier's requirements (at most 10, each with 1 to 10 distinct kinds); `field` names
/// the list in errors, its items are `field.N`.
pub fn check_requirements(field: &str, reqs: &[Requirement]) -> Result<(), DomainError> {
    if reqs.len() > 10 {
        return Err(DomainError::invalid(
            field,
            "at most 10 requirements per tier",
        ));
    }
    for (r, req) in reqs.iter().enumerate() {
        let at = format!("{field}.{r}");
        if req.any_of.is_empty() || req.any_of.len() > 10 {
            return Err(DomainError::invalid(
                &at,
                "a requirement lists 1 to 10 kinds",
            ));
        }
        let distinct: HashSet<_> = req.any_of.iter().collect();
        if distinct.len() != req.any_of.len() {
            return Err(DomainError::invalid(&at, "a kind is listed twice"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// BAAs

/// A term a business associate agreement must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaaTerm {
    /// Stable identifier, stored and used in the API.
    pub key: &'static str,
    /// The paragraph of 45 CFR that requires it.
    pub citation: &'static str,
    /// Our short title.
    pub title: &'static str,
}

/// The required terms of a BAA: 45 CFR 164.504(e)(2) (Privacy Rule) and 164.314(a)(2)(i)
/// (Security Rule), primer §5.2.
pub const BAA_TERMS: &[BaaTerm] = &[
    BaaTerm {
        key: "permitted-uses",
        citation: "164.504(e)(2)(i)",
        title: "Permitted and required uses and disclosures",
    },
    BaaTerm {
        key: "no-other-use",
        citation: "164.504(e)(2)(ii)(A)",
        title: "No other use or disclosure",
    },
    BaaTerm {
        key: "safeguards",
        citation: "164.504(e)(2)(ii)(B)",
        title: "Appropriate safeguards; Subpart C for ePHI",
    },
    BaaTerm {
        key: "report-disclosures",
        citation: "164.504(e)(2)(ii)(C)",
        title: "Report improper uses, disclosures and breaches (164.410)",
    },
    BaaTerm {
        key: "subcontractors",
        citation: "164.504(e)(2)(ii)(D)",
        title: "Subcontractors agree to the same restrictions",
    },
    BaaTerm {
        key: "access",
        citation: "164.504(e)(2)(ii)(E)",
        title: "Individuals' access (164.524)",
    },
    BaaTerm {
        key: "amendment",
        citation: "164.504(e)(2)(ii)(F)",
        title: "Amendment (164.526)",
    },
    BaaTerm {
        key: "accounting",
        citation: "164.504(e)(2)(ii)(G)",
        title: "Accounting of disclosures (164.528)",
    },
    BaaTerm {
        key: "subpart-e-obligations",
        citation: "164.504(e)(2)(ii)(H)",
        title: "Covered entity obligations carried out under Subpart E",
    },
    BaaTerm {
        key: "books-and-records",
        citation: "164.504(e)(2)(ii)(I)",
        title: "Practices, books and records available to the Secretary",
    },
    BaaTerm {
        key: "return-or-destroy",
        citation: "164.504(e)(2)(ii)(J)",
        title: "Return or destroy PHI at termination",
    },
    BaaTerm {
        key: "termination",
        citation: "164.504(e)(2)(iii)",
        title: "Termination for material breach",
    },
    BaaTerm {
        key: "security-rule",
        citation: "164.314(a)(2)(i)(A)",
        title: "Comply with the Security Rule",
    },
    BaaTerm {
        key: "security-subcontractors",
        citation: "164.314(a)(2)(i)(B)",
        title: "Subcontractors comply with the Security Rule",
    },
    BaaTerm {
        key: "security-incidents",
        citation: "164.314(a)(2)(i)(C)",
        title: "Report security incidents, including breaches",
    },
];

/// The required term `key`.
pub fn baa_term(key: &str) -> Option<&'static BaaTerm> {
    BAA_TERMS.iter().find(|t| t.key == key)
}

/// A business associate must notify a breach within 60 days of discovery (164.410(b)); a BAA
/// may agree a shorter window, never a longer one.
pub const MAX_BREACH_NOTICE_DAYS: u32 = 60;

/// A BAA as compliance needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baa {
    pub effective_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    /// The keys of the required terms marked present.
    pub present_terms: HashSet<String>,
}

impl Baa {
    /// Checks the dates: the end and termination not before the start.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(e) = self.ends_on
            && e < self.effective_on
        {
            return Err(DomainError::invalid(
                "endsOn",
                "cannot precede the effective date",
            ));
        }
        if let Some(t) = self.terminated_on
            && t < self.effective_on
        {
            return Err(DomainError::invalid(
                "terminatedOn",
                "cannot precede the effective date",
            ));
        }
        Ok(())
    }

    /// In force on `on`: effective, not ended, not terminated (a termination takes effect on
    /// its date).
    pub fn in_effect(&self, on: NaiveDate) -> bool {
        self.effective_on <= on
            && self.ends_on.is_none_or(|e| on <= e)
            && self.terminated_on.is_none_or(|t| on < t)
    }

    /// The last day it is in force, if bounded.
    pub fn last_day(&self) -> Option<NaiveDate> {
        let terminated = self.terminated_on.and_then(|t| t.pred_opt());
        match (self.ends_on, terminated) {
            (Some(e), Some(t)) => Some(e.min(t)),
            (e, t) => e.or(t),
        }
    }

    /// The required terms not marked present, in the order of [`BAA_TERMS`].
    pub fn missing_terms(&self) -> Vec<&'static BaaTerm> {
        BAA_TERMS
            .iter()
            .filter(|t| !self.present_terms.contains(t.key))
            .collect()
    }
}

/// Checks a BAA's agreed breach-notification window (1 to 60 days, 164.410(b)).
pub fn check_breach_notice_days(days: i32) -> Result<u32, DomainError> {
    match u32::try_from(days) {
        Ok(d) if (1..=MAX_BREACH_NOTICE_DAYS).contains(&d) => Ok(d),
        _ => Err(DomainError::invalid(
            "breachNoticeDays",
            "a business associate notifies a breach within 1 to 60 days of discovery \
             (45 CFR 164.410(b))",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Subcontractors

/// If adding the edge `vendor → subcontractor` to `edges` would close a cycle, the path that
/// closes it (`subcontractor`, ..., `vendor`). A vendor is never its own subcontractor, at any
/// depth.
pub fn subcontractor_cycle(
    edges: &[(Uuid, Uuid)],
    vendor: Uuid,
    subcontractor: Uuid,
) -> Option<Vec<Uuid>> {
    if vendor == subcontractor {
        return Some(vec![vendor]);
    }
    let mut next: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // Breadth-first from the subcontractor: reaching the vendor closes the cycle.
    let mut came_from: HashMap<Uuid, Uuid> = HashMap::new();
    let mut queue = VecDeque::from([subcontractor]);
    let mut seen = HashSet::from([subcontractor]);
    while let Some(n) = queue.pop_front() {
        if n == vendor {
            let mut path = vec![n];
            let mut cur = n;
            while let Some(&p) = came_from.get(&cur) {
                path.push(p);
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for &m in next.get(&n).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(m) {
                came_from.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

/// Every subcontractor below `vendor`, to any depth, with its depth (1 = direct), each once at
/// its shallowest depth, in breadth-first order.
pub fn subcontractor_chain(edges: &[(Uuid, Uuid)], vendor: Uuid) -> Vec<(Uuid, u32)> {
    let mut next: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::from([vendor]);
    let mut queue = VecDeque::from([(vendor, 0u32)]);
    while let Some((n, depth)) = queue.pop_front() {
        for &m in next.get(&n).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(m) {
                out.push((m, depth + 1));
                queue.push_back((m, depth + 1));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Compliance

text_enum!(
    /// Where one requirement stands on a date.
    RequirementState {
        /// Met by an attestation valid beyond the expiring window.
        Valid = "valid",
        /// Met, but the best attestation's validity ends within the window.
        Expiring = "expiring",
        /// Only expired attestations of the required kinds.
        Expired = "expired",
        /// Only attestations that are suspended, withdrawn, unacceptable or not yet in force.
        Invalid = "invalid",
        /// No attestation of the required kinds.
        Missing = "missing",
    }
);

impl RequirementState {
    fn rank(self) -> u8 {
        match self {
            RequirementState::Valid => 4,
            RequirementState::Expiring => 3,
            RequirementState::Invalid => 2,
            RequirementState::Expired => 1,
            RequirementState::Missing => 0,
        }
    }

    /// Met on the date (valid or expiring).
    pub fn met(self) -> bool {
        matches!(self, RequirementState::Valid | RequirementState::Expiring)
    }
}

text_enum!(
    /// A vendor's overall standing on a date.
    ComplianceStatus {
        /// Every requirement valid beyond the window, and a BAA where one is needed.
        Compliant = "compliant",
        /// Every requirement met, but something lapses within the window.
        AtRisk = "at-risk",
        /// A requirement or a needed BAA is not met.
        NonCompliant = "non-compliant",
        /// Offboarded: not assessed.
        NotAssessed = "not-assessed",
    }
);

/// One attestation as compliance sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldAttestation {
    pub kind: AttestationKind,
    pub state: AttestationState,
    /// The caller's handle for it (its position or id).
    pub index: usize,
}

/// One requirement's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementResult {
    pub requirement: Requirement,
    pub state: RequirementState,
    /// The attestation or BAA that decides the state (its caller handle).
    pub best: Option<usize>,
    /// The last day the requirement stays met by `best`.
    pub valid_until: Option<NaiveDate>,
}

/// Whether the vendor's BAA obligation is met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaaCoverage {
    /// A BAA is required: the vendor has ePHI access (164.308(b)(1), 164.502(e)).
    pub required: bool,
    pub state: RequirementState,
    /// The BAA in force (its caller handle).
    pub baa: Option<usize>,
    pub valid_until: Option<NaiveDate>,
    /// Required terms missing from the BAA in force.
    pub missing_terms: Vec<&'static str>,
}

/// A vendor's compliance on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorCompliance {
    pub status: ComplianceStatus,
    pub requirements: Vec<RequirementResult>,
    pub baa: BaaCoverage,
}

fn state_of(s: AttestationState, window_end: NaiveDate) -> RequirementState {
    match s.status {
        AttestationStatus::Valid => match s.valid_until {
            Some(u) if u <= window_end => RequirementState::Expiring,
            _ => RequirementState::Valid,
        },
        AttestationStatus::Expired => RequirementState::Expired,
        AttestationStatus::Pending
        | AttestationStatus::Suspended
        | AttestationStatus::Withdrawn
        | AttestationStatus::Unacceptable => RequirementState::Invalid,
    }
}

/// Whether `a` beats `b` for meeting a requirement: the better state, then the later validity.
fn better(
    a: (RequirementState, Option<NaiveDate>),
    b: (RequirementState, Option<NaiveDate>),
) -> bool {
    (a.0.rank(), a.1) > (b.0.rank(), b.1)
}

/// A vendor's compliance on `on` with the tenant's `requirements` for its `tier`: each
/// requirement is met by the best of the vendor's attestations of the listed kinds; a BAA is
/// needed when the vendor has ePHI access or the tier asks for one. Anything whose validity
/// ends within `window_days` of `on` (inclusive) is expiring.
pub fn vendor_compliance(
    requirements: &[Requirement],
    ephi: EphiAccess,
    offboarded: bool,
    attestations: &[HeldAttestation],
    baas: &[(usize, &Baa)],
    on: NaiveDate,
    window_days: u32,
) -> VendorCompliance {
    let window_end = on
        .checked_add_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MAX);
    let baa = baa_coverage(
        ephi != EphiAccess::None
            || requirements
                .iter()
                .any(|r| r.any_of.contains(&RequirementKind::Baa)),
        baas,
        on,
        window_end,
    );
    let mut results = Vec::with_capacity(requirements.len());
    for r in requirements {
        let mut best: (RequirementState, Option<NaiveDate>) = (RequirementState::Missing, None);
        let mut best_index = None;
        for kind in &r.any_of {
            if *kind == RequirementKind::Baa {
                if better((baa.state, baa.valid_until), best) {
                    best = (baa.state, baa.valid_until);
                    best_index = baa.baa;
                }
                continue;
            }
            let Some(kind) = kind.attestation() else {
                continue;
            };
            for a in attestations.iter().filter(|a| a.kind == kind) {
                let cand = (state_of(a.state, window_end), a.state.valid_until);
                if best_index.is_none() || better(cand, best) {
                    best = cand;
                    best_index = Some(a.index);
                }
            }
        }
        results.push(RequirementResult {
            requirement: r.clone(),
            state: best.0,
            best: best_index,
            valid_until: best.1,
        });
    }
    let status = if offboarded {
        ComplianceStatus::NotAssessed
    } else {
        let states = results
            .iter()
            .map(|r| r.state)
            .chain(baa.required.then_some(baa.state));
        let mut status = ComplianceStatus::Compliant;
        for s in states {
            match s {
                RequirementState::Valid => {}
                RequirementState::Expiring => status = ComplianceStatus::AtRisk,
                _ => status = ComplianceStatus::NonCompliant,
            }
        }
        if baa.required && !baa.missing_terms.is_empty() {
            status = ComplianceStatus::NonCompliant;
        }
        status
    };
    VendorCompliance {
        status,
        requirements: results,
        baa,
    }
}

fn baa_coverage(
    required: bool,
    baas: &[(usize, &Baa)],
    on: NaiveDate,
    window_end: NaiveDate,
) -> BaaCoverage {
    // The BAA in force that lasts longest (an open-ended one lasts longest of all).
    let mut best: Option<(usize, &Baa)> = None;
    for &(i, b) in baas {
        if !b.in_effect(on) {
            continue;
        }
        let longer = match best {
            None => true,
            Some((_, cur)) => match (b.last_day(), cur.last_day()) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => x > y,
                _ => false,
            },
        };
        if longer {
            best = Some((i, b));
        }
    }
    match best {
        Some((i, b)) => {
            let until = b.last_day();
            let state = match until {
                Some(u) if u <= window_end => RequirementState::Expiring,
                _ => RequirementState::Valid,
            };
            BaaCoverage {
                required,
                state,
                baa: Some(i),
                valid_until: until,
                missing_terms: b.missing_terms().iter().map(|t| t.key).collect(),
            }
        }
        None => {
            let lapsed = baas.iter().any(|(_, b)| b.effective_on <= on);
            BaaCoverage {
                required,
                state: if lapsed {
                    RequirementState::Expired
                } else {
                    RequirementState::Missing
                },
                baa: None,
                valid_until: None,
                missing_terms: Vec::new(),
            }
        }
    }
}

/// Tenant-wide counts of vendor compliance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceSummary {
    pub vendors: u32,
    pub compliant: u32,
    pub at_risk: u32,
    pub non_compliant: u32,
    pub not_assessed: u32,
    /// Vendors with ePHI access and no BAA in force.
    pub ephi_without_baa: u32,
    /// Vendors that need a BAA and whose BAA in force lacks a required term.
    pub baa_missing_terms: u32,
    /// Required attestations by state, over all assessed vendors.
    pub requirements_valid: u32,
    pub requirements_expiring: u32,
    pub requirements_expired: u32,
    pub requirements_invalid: u32,
    pub requirements_missing: u32,
}

impl ComplianceSummary {
    /// Adds one vendor's outcome.
    pub fn add(&mut self, ephi: EphiAccess, c: &VendorCompliance) {
        self.vendors += 1;
        match c.status {
            ComplianceStatus::Compliant => self.compliant += 1,
            ComplianceStatus::AtRisk => self.at_risk += 1,
            ComplianceStatus::NonCompliant => self.non_compliant += 1,
            ComplianceStatus::NotAssessed => {
                self.not_assessed += 1;
                return;
            }
        }
        if ephi != EphiAccess::None && !c.baa.state.met() {
            self.ephi_without_baa += 1;
        }
        if c.baa.required && c.baa.state.met() && !c.baa.missing_terms.is_empty() {
            self.baa_missing_terms += 1;
        }
        for r in &c.requirements {
            match r.state {
                RequirementState::Valid => self.requirements_valid += 1,
                RequirementState::Expiring => self.requirements_expiring += 1,
                RequirementState::Expired => self.requirements_expired += 1,
                RequirementState::Invalid => self.requirements_invalid += 1,
                RequirementState::Missing => self.requirements_missing += 1,
            }
        }
    }
}
