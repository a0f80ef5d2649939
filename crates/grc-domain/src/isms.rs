//! The ISMS rules (ISO/IEC 27001:2022 clauses 4–10, HIPAA 164.306(d)): risk criteria and
//! ratings, treatments, Statement of Applicability entries and version comparison, the
//! nonconformity life cycle, the documented information a certification auditor asks for,
//! and the heat map. Pure functions; callers pass in today's date.
//!
//! Clause numbers and the list of mandatory documented information follow
//! `../shared/domain/PRIMER.md` section 1.2 (numbers and our own short titles only: ISO text is
//! copyrighted).

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The largest scale a risk criterion may use (likelihood or impact levels).
pub const MAX_SCALE: u8 = 10;
/// The smallest meaningful scale.
pub const MIN_SCALE: u8 = 2;

/// An ISMS's risk criteria (6.1.2 a): the likelihood and impact scales, and the acceptance
/// threshold: a risk whose score (likelihood × impact) is at most the threshold may be
/// accepted without treatment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskCriteria {
    pub likelihood_levels: u8,
    pub impact_levels: u8,
    pub acceptance_threshold: u16,
    /// One label per likelihood level, lowest first (e.g. "rare" … "almost certain").
    pub likelihood_labels: Vec<String>,
    /// One label per impact level, lowest first.
    pub impact_labels: Vec<String>,
}

impl Default for RiskCriteria {
    /// A common 5 × 5 matrix accepting scores up to 6.
    fn default() -> Self {
        Self {
            likelihood_levels: 5,
            impact_levels: 5,
            acceptance_threshold: 6,
            likelihood_labels: ["rare", "unlikely", "possible", "likely", "almost certain"]
                .map(String::from)
                .to_vec(),
            impact_labels: ["negligible", "minor", "moderate", "major", "severe"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl RiskCriteria {
    /// Checks the criteria themselves.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (field, levels, labels) in [
            (
                "likelihoodLevels",
                self.likelihood_levels,
                &self.likelihood_labels,
            ),
            ("impactLevels", self.impact_levels, &self.impact_labels),
        ] {
            if !(MIN_SCALE..=MAX_SCALE).contains(&levels) {
                return Err(DomainError::invalid(
                    field,
                    format!("a scale has {MIN_SCALE} to {MAX_SCALE} levels, not {levels}"),
                ));
            }
            if !labels.is_empty() && labels.len() != usize::from(levels) {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "{} labels given for {levels} levels: give one per level, or none",
                        labels.len()
                    ),
                ));
            }
            if labels.iter().any(|l| l.trim().is_empty() || l.len() > 60) {
                return Err(DomainError::invalid(
                    field,
                    "each label is 1 to 60 characters",
                ));
            }
        }
        let max = self.max_score();
        if self.acceptance_threshold < 1 || self.acceptance_threshold > max {
            return Err(DomainError::invalid(
                "acceptanceThreshold",
                format!("the threshold is a score from 1 to {max}"),
            ));
        }
        Ok(())
    }

    pub fn max_score(&self) -> u16 {
        u16::from(self.likelihood_levels) * u16::from(self.impact_levels)
    }

    /// Checks a rating against the scales; `field` names the input for the error.
    pub fn rate(&self, field: &str, likelihood: i32, impact: i32) -> Result<Rating, DomainError> {
        let check = |name: &str, v: i32, levels: u8| {
            if v < 1 || v > i32::from(levels) {
                Err(DomainError::invalid(
                    &format!("{field}.{name}"),
                    format!("{name} {v} is outside the scale 1 to {levels}"),
                ))
            } else {
                Ok(v as u8)
            }
        };
        Ok(Rating {
            likelihood: check("likelihood", likelihood, self.likelihood_levels)?,
            impact: check("impact", impact, self.impact_levels)?,
        })
    }

    /// Whether a rating falls within the acceptance criteria.
    pub fn acceptable(&self, r: Rating) -> bool {
        r.score() <= self.acceptance_threshold
    }

    /// Whether narrowing the scales to `new` would leave `ratings` outside them.
    pub fn fits(&self, ratings: impl IntoIterator<Item = Rating>) -> bool {
        ratings
            .into_iter()
            .all(|r| r.likelihood <= self.likelihood_levels && r.impact <= self.impact_levels)
    }
}

/// A likelihood × impact rating, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rating {
    pub likelihood: u8,
    pub impact: u8,
}

impl Rating {
    pub fn score(self) -> u16 {
        u16::from(self.likelihood) * u16::from(self.impact)
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The value stored in the database and exported.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parses a stored value.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// Risk treatment options (6.1.3 a).
    Treatment {
        Modify = "modify",
        Retain = "retain",
        Avoid = "avoid",
        Share = "share",
    }
);

text_enum!(
    /// An SoA entry's implementation status.
    ImplementationStatus {
        NotStarted = "not-started",
        Planned = "planned",
        Partial = "partial",
        Implemented = "implemented",
    }
);

text_enum!(
    /// An asset's kind (the HIPAA inventory takes systems and devices too).
    AssetKind {
        Information = "information",
        System = "system",
        Application = "application",
        Device = "device",
        Service = "service",
        Site = "site",
        People = "people",
    }
);

text_enum!(
    /// An asset's information classification.
    Classification {
        Public = "public",
        Internal = "internal",
        Confidential = "confidential",
        Restricted = "restricted",
    }
);

text_enum!(
    /// A clause 4 context item: an issue (4.1) or an interested party (4.2).
    ContextKind {
        InternalIssue = "internal-issue",
        ExternalIssue = "external-issue",
        InterestedParty = "interested-party",
    }
);

text_enum!(
    /// How an ISMS extended to privacy (ISO/IEC 27701) acts on personal data.
    PrivacyRole {
        Controller = "controller",
        Processor = "processor",
        Both = "both",
    }
);

text_enum!(
    /// HIPAA 164.306(d)(3): the covered entity's decision on an addressable specification.
    AddressableDecision {
        /// Implemented as specified.
        Implemented = "implemented",
        /// An equivalent alternative measure implemented (rationale required).
        Alternative = "alternative",
        /// Not reasonable and appropriate, documented why (rationale required).
        NotReasonable = "not-reasonable",
    }
);

impl AddressableDecision {
    /// 164.306(d)(3)(ii): the two decisions other than implementing must be documented.
    pub fn needs_rationale(self) -> bool {
        !matches!(self, Self::Implemented)
    }
}

/// One SoA entry as frozen in a version (6.1.3 d): the control, whether it applies, why, its
/// implementation status, its owner and what it was linked to when approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoaEntry {
    pub control_id: Uuid,
    /// The control's reference, e.g. "A.5.1" (frozen with the version).
    pub control_ref: String,
    pub applicable: bool,
    pub justification: String,
    pub status: ImplementationStatus,
    pub owner: Option<Uuid>,
    /// Risks treated by the control, sorted.
    pub risks: Vec<Uuid>,
    /// Evidence linked to the control, sorted.
    pub evidence: Vec<Uuid>,
    /// The vendor the control is inherited from, if any.
    pub inherited_from: Option<Uuid>,
}

impl SoaEntry {
    /// Checks the rules of one entry: an applicable control is justified (inclusion), an
    /// excluded one too (exclusion), and an excluded control has no implementation to report.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.justification.trim().is_empty() {
            return Err(DomainError::invalid(
                &format!("{field}.justification"),
                if self.applicable {
                    "an applicable control needs the justification for its inclusion"
                } else {
                    "an excluded control needs the justification for its exclusion"
                },
            ));
        }
        if !self.applicable && self.status != ImplementationStatus::NotStarted {
            return Err(DomainError::invalid(
                &format!("{field}.status"),
                "an excluded control has no implementation status (use not-started)",
            ));
        }
        Ok(())
    }
}

/// The digest of a set of SoA entries: SHA-256 of their canonical JSON, sorted by control.
/// Stored with each version, so a changed row is detected even where a trigger was bypassed.
pub fn soa_digest(entries: &[SoaEntry]) -> String {
    let mut sorted: Vec<&SoaEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.control_id);
    let json = serde_json::to_vec(&sorted).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

/// What changed for one control between two SoA versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaChange {
    pub control_id: Uuid,
    pub control_ref: String,
    pub kind: SoaChangeKind,
    /// The fields that differ, for `Changed` (e.g. "applicable", "status").
    pub fields: Vec<&'static str>,
    pub before: Option<SoaEntry>,
    pub after: Option<SoaEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoaChangeKind {
    Added,
    Removed,
    Changed,
}

/// Compares two SoA versions entry by entry, in control reference order. Unchanged entries are
/// left out.
pub fn compare_soa(before: &[SoaEntry], after: &[SoaEntry]) -> Vec<SoaChange> {
    let a: BTreeMap<Uuid, &SoaEntry> = before.iter().map(|e| (e.control_id, e)).collect();
    let b: BTreeMap<Uuid, &SoaEntry> = after.iter().map(|e| (e.control_id, e)).collect();
    let mut out = Vec::new();
    for (id, x) in &a {
        match b.get(id) {
            None => out.push(SoaChange {
                control_id: *id,
                control_ref: x.control_ref.clone(),
                kind: SoaChangeKind::Removed,
                fields: Vec::new(),
                before: Some((*x).clone()),
                after: None,
            }),
            Some(y) => {
                let mut fields = Vec::new();
                if x.applicable != y.applicable {
                    fields.push("applicable");
                }
                if x.justification != y.justification {
                    fields.push("justification");
                }
                if x.status != y.status {
                    fields.push("status");
                }
                if x.owner != y.owner {
                    fields.push("owner");
                }
                if x.risks != y.risks {
                    fields.push("risks");
                }
                if x.evidence != y.evidence {
                    fields.push("evidence");
                }
                if x.inherited_from != y.inherited_from {
                    fields.push("inheritedFrom");
                }
                if !fields.is_empty() {
                    out.push(SoaChange {
                        control_id: *id,
                        control_ref: y.control_ref.clone(),
                        kind: SoaChangeKind::Changed,
                        fields,
                        before: Some((*x).clone()),
                        after: Some((*y).clone()),
                    });
                }
            }
        }
    }
    for (id, y) in &b {
        if !a.contains_key(id) {
            out.push(SoaChange {
                control_id: *id,
                control_ref: y.control_ref.clone(),
                kind: SoaChangeKind::Added,
                fields: Vec::new(),
                before: None,
                after: Some((*y).clone()),
            });
        }
    }
    out.sort_by(|x, y| natural_ref_cmp(&x.control_ref, &y.control_ref));
    out
}

/// Orders control references the way people read them: "A.5.2" before "A.5.10".
pub fn natural_ref_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', '(', ')', '-', ' '])
            .filter(|p| !p.is_empty())
            .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_owned()))
            .collect()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Counts per SoA status among applicable entries, and the share implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SoaProgress {
    pub total: u32,
    pub applicable: u32,
    pub excluded: u32,
    pub not_started: u32,
    pub planned: u32,
    pub partial: u32,
    pub implemented: u32,
}

impl SoaProgress {
    pub fn of(entries: impl IntoIterator<Item = (bool, ImplementationStatus)>) -> Self {
        let mut p = Self::default();
        for (applicable, status) in entries {
            p.total += 1;
            if !applicable {
                p.excluded += 1;
                continue;
            }
            p.applicable += 1;
            match status {
                ImplementationStatus::NotStarted => p.not_started += 1,
                ImplementationStatus::Planned => p.planned += 1,
                ImplementationStatus::Partial => p.partial += 1,
                ImplementationStatus::Implemented => p.implemented += 1,
            }
        }
        p
    }

    /// Implemented applicable controls, in per cent rounded down (0 when none apply).
    pub fn percent_implemented(&self) -> u32 {
        (self.implemented * 100)
            .checked_div(self.applicable)
            .unwrap_or(0)
    }
}

/// Counts of risks per likelihood × impact cell: `cells[l-1][i-1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatMap {
    pub likelihood_levels: u8,
    pub impact_levels: u8,
    pub cells: Vec<Vec<u32>>,
    /// Ratings outside the scales (criteria narrowed after rating); counted, never dropped.
    pub outside: u32,
}

impl HeatMap {
    pub fn of(criteria: &RiskCriteria, ratings: impl IntoIterator<Item = Rating>) -> Self {
        let mut cells = vec![
            vec![0u32; usize::from(criteria.impact_levels)];
            usize::from(criteria.likelihood_levels)
        ];
        let mut outside = 0;
        for r in ratings {
            match cells
                .get_mut(usize::from(r.likelihood).wrapping_sub(1))
                .and_then(|row| row.get_mut(usize::from(r.impact).wrapping_sub(1)))
            {
                Some(c) => *c += 1,
                None => outside += 1,
            }
        }
        Self {
            likelihood_levels: criteria.likelihood_levels,
            impact_levels: criteria.impact_levels,
            cells,
            outside,
        }
    }
}

/// Who may accept a risk's residual level (6.1.3 f: the risk owner), and whether it may be.
pub fn check_acceptance(
    risk_owner: Option<Uuid>,
    accepting_user: Option<Uuid>,
    residual: Option<Rating>,
) -> Result<(), DomainError> {
    let Some(owner) = risk_owner else {
        return Err(DomainError::invalid(
            "riskId",
            "the risk has no owner: assign its owner before accepting the residual risk",
        ));
    };
    if accepting_user != Some(owner) {
        return Err(DomainError::invalid(
            "riskId",
            "only the risk owner may accept the residual risk (ISO/IEC 27001 6.1.3 f)",
        ));
    }
    if residual.is_none() {
        return Err(DomainError::invalid(
            "riskId",
            "rate the residual likelihood and impact before accepting them",
        ));
    }
    Ok(())
}

text_enum!(
    /// An internal audit finding's kind (9.2, 10.2).
    FindingKind {
        MajorNonconformity = "major-nonconformity",
        MinorNonconformity = "minor-nonconformity",
        Observation = "observation",
        Improvement = "opportunity-for-improvement",
    }
);

impl FindingKind {
    /// Whether the finding is a nonconformity (and so calls for corrective action).
    pub fn is_nonconformity(self) -> bool {
        matches!(self, Self::MajorNonconformity | Self::MinorNonconformity)
    }
}

text_enum!(
    /// A nonconformity's life cycle (10.2).
    NonconformityStatus {
        Open = "open",
        ActionPlanned = "action-planned",
        Verifying = "verifying",
        Closed = "closed",
    }
);

/// What closing a nonconformity needs (10.2 d–g): a corrective action taken, and its
/// effectiveness verified (by someone, on a date, with the result). An ineffective action
/// does not close it.
pub fn check_closure(
    status: NonconformityStatus,
    corrective_action: Option<&str>,
    verified_on: Option<NaiveDate>,
    effective: Option<bool>,
) -> Result<(), DomainError> {
    if status == NonconformityStatus::Closed {
        return Err(DomainError::conflict(
            "id",
            "the nonconformity is already closed",
        ));
    }
    if corrective_action.is_none_or(|a| a.trim().is_empty()) {
        return Err(DomainError::invalid(
            "correctiveAction",
            "record the corrective action before closing",
        ));
    }
    match (verified_on, effective) {
        (Some(_), Some(true)) => Ok(()),
        (Some(_), Some(false)) => Err(DomainError::invalid(
            "effective",
            "the corrective action was verified as not effective: plan a new action instead of closing",
        )),
        _ => Err(DomainError::invalid(
            "verification",
            "verify the corrective action's effectiveness before closing (ISO/IEC 27001 10.2 d)",
        )),
    }
}

/// A piece of mandatory documented information (clauses 4–10) a certification audit asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MandatoryDocument {
    /// Stable key (documents declare which they fulfil).
    pub key: &'static str,
    pub clause: &'static str,
    /// Our own short title.
    pub title: &'static str,
    /// Where grc finds it: a document the tenant maintains, or records grc keeps.
    pub source: DocumentSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentSource {
    /// A controlled document (policy, procedure, record) with versions and approval.
    Document,
    /// The approved SoA version.
    SoaVersion,
    /// Risk assessment snapshots.
    RiskAssessment,
    /// Records kept in grc (objectives, audits, reviews, nonconformities, training).
    Records,
}

/// The mandatory documented information of ISO/IEC 27001:2022 clauses 4–10 (PRIMER 1.2).
pub const MANDATORY_DOCUMENTS: &[MandatoryDocument] = &[
    MandatoryDocument {
        key: "isms-scope",
        clause: "4.3",
        title: "ISMS scope",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "security-policy",
        clause: "5.2",
        title: "Information security policy",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "risk-assessment-process",
        clause: "6.1.2",
        title: "Risk assessment process",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "risk-treatment-process",
        clause: "6.1.3",
        title: "Risk treatment process",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "statement-of-applicability",
        clause: "6.1.3 d",
        title: "Statement of Applicability",
        source: DocumentSource::SoaVersion,
    },
    MandatoryDocument {
        key: "risk-treatment-plan",
        clause: "6.1.3 e",
        title: "Risk treatment plan",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "objectives",
        clause: "6.2",
        title: "Information security objectives",
        source: DocumentSource::Records,
    },
    MandatoryDocument {
        key: "competence",
        clause: "7.2",
        title: "Evidence of competence",
        source: DocumentSource::Records,
    },
    MandatoryDocument {
        key: "operational-planning",
        clause: "8.1",
        title: "Operational planning and control records",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "risk-assessment-results",
        clause: "8.2",
        title: "Results of risk assessments",
        source: DocumentSource::RiskAssessment,
    },
    MandatoryDocument {
        key: "risk-treatment-results",
        clause: "8.3",
        title: "Results of risk treatment",
        source: DocumentSource::Document,
    },
    MandatoryDocument {
        key: "monitoring-results",
        clause: "9.1",
        title: "Monitoring and measurement results",
        source: DocumentSource::Records,
    },
    MandatoryDocument {
        key: "audit-programme",
        clause: "9.2.2",
        title: "Internal audit programme and results",
        source: DocumentSource::Records,
    },
    MandatoryDocument {
        key: "management-review-results",
        clause: "9.3.3",
        title: "Results of management reviews",
        source: DocumentSource::Records,
    },
    MandatoryDocument {
        key: "nonconformities",
        clause: "10.2",
        title: "Nonconformities and corrective actions",
        source: DocumentSource::Records,
    },
];

pub fn mandatory_document(key: &str) -> Option<&'static MandatoryDocument> {
    MANDATORY_DOCUMENTS.iter().find(|d| d.key == key)
}

/// The state of one piece of documented information, as gathered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DocumentState {
    /// Something exists (a document, a version, a record).
    pub present: bool,
    /// It is approved (for documents: an approved version in effect; for records: true).
    pub approved: bool,
    /// When it must next be reviewed, if a date was set.
    pub next_review: Option<NaiveDate>,
}

/// Why an item is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessGap {
    Missing,
    NotApproved,
    ReviewOverdue(NaiveDate),
}

/// Readiness of one item on `today`: `None` when ready. The review date is the last day the
/// item is within review: overdue from the day after.
pub fn readiness_gap(state: DocumentState, today: NaiveDate) -> Option<ReadinessGap> {
    if !state.present {
        return Some(ReadinessGap::Missing);
    }
    if !state.approved {
        return Some(ReadinessGap::NotApproved);
    }
    match state.next_review {
        Some(d) if d < today => Some(ReadinessGap::ReviewOverdue(d)),
        _ => None,
    }
}

/// HIPAA coverage of one standard or implementation specification (164.306(d)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageState {
    /// At least one implemented, applicable control reaches it.
    Covered,
    /// Controls reach it, applicable, but none is implemented yet.
    InProgress,
    /// An addressable specification the tenant decided on (alternative or not reasonable and
    /// appropriate), with its rationale: met by documentation.
    Determined(AddressableDecision),
    /// Nothing reaches it and no determination: a gap.
    Gap,
}

/// One control that reaches a HIPAA specification through the crosswalk, as the caller found
/// it in the tenant's SoA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReachingControl {
    pub applicable: bool,
    pub status: ImplementationStatus,
}

/// Coverage of a specification: `required` per the rule (addressable otherwise), the controls
/// reaching it (only links that count: published or confirmed by the tenant, never rejected),
/// and the tenant's determination for an addressable one. A determination does not apply to
/// a required specification: it must be implemented (164.306(d)(2)).
pub fn coverage(
    required: bool,
    reaching: &[ReachingControl],
    determination: Option<AddressableDecision>,
) -> CoverageState {
    let applicable = reaching.iter().filter(|c| c.applicable);
    let mut any = false;
    for c in applicable {
        any = true;
        if c.status == ImplementationStatus::Implemented {
            return CoverageState::Covered;
        }
    }
    if !required && let Some(d) = determination {
        return match d {
            // Declared implemented, but no implemented control shows it.
            AddressableDecision::Implemented if any => CoverageState::InProgress,
            AddressableDecision::Implemented => CoverageState::Gap,
            other => CoverageState::Determined(other),
        };
    }
    if any {
        CoverageState::InProgress
    } else {
        CoverageState::Gap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn ratings_stay_on_the_scale() {
        let c = RiskCriteria::default();
        assert_eq!(c.rate("inherent", 5, 5).map(Rating::score), Ok(25));
        let e = c
            .rate("inherent", 6, 1)
            .expect_err("6 is off a 5-level scale");
        assert!(matches!(e, DomainError::Invalid(ref f) if f.field == ["inherent", "likelihood"]));
        assert!(c.rate("residual", 1, 0).is_err());
        assert!(c.rate("residual", -1, 3).is_err());
        // 3 × 2 = 6 is at the threshold: acceptable; 7 is not.
        assert!(c.acceptable(Rating {
            likelihood: 3,
            impact: 2
        }));
        assert!(!c.acceptable(Rating {
            likelihood: 7,
            impact: 1
        }));
    }

    #[test]
    fn criteria_are_checked() {
        let mut c = RiskCriteria::default();
        assert!(c.validate().is_ok());
        c.acceptance_threshold = 26;
        assert!(c.validate().is_err(), "5 × 5 tops out at 25");
        c.acceptance_threshold = 25;
        assert!(c.validate().is_ok());
        c.likelihood_levels = 4;
        assert!(c.validate().is_err(), "five labels for four levels");
        c.likelihood_labels.clear();
        c.acceptance_threshold = 20;
        assert!(c.validate().is_ok());
        c.impact_levels = 11;
        assert!(c.validate().is_err());
        c.impact_levels = 1;
        assert!(c.validate().is_err());
    }

    #[test]
    fn only_the_owner_accepts_a_rated_residual_risk() {
        let owner = Uuid::from_u128(7);
        let other = Uuid::from_u128(8);
        let r = Some(Rating {
            likelihood: 1,
            impact: 2,
        });
        assert!(check_acceptance(Some(owner), Some(owner), r).is_ok());
        assert!(check_acceptance(Some(owner), Some(other), r).is_err());
        assert!(
            check_acceptance(Some(owner), None, r).is_err(),
            "an API key is nobody"
        );
        assert!(check_acceptance(None, Some(owner), r).is_err());
        assert!(check_acceptance(Some(owner), Some(owner), None).is_err());
    }

    fn entry(n: u128, r: &str, applicable: bool, status: ImplementationStatus) -> SoaEntry {
        SoaEntry {
            control_id: Uuid::from_u128(n),
            control_ref: r.into(),
            applicable,
            justification: "because".into(),
            status,
            owner: None,
            risks: vec![],
            evidence: vec![],
            inherited_from: None,
        }
    }

    #[test]
    fn soa_entries_follow_6_1_3_d() {
        let mut e = entry(1, "A.5.1", true, ImplementationStatus::Planned);
        assert!(e.validate("entry").is_ok());
        e.justification = "  ".into();
        assert!(e.validate("entry").is_err());
        let mut x = entry(2, "A.7.1", false, ImplementationStatus::Implemented);
        assert!(x.validate("entry").is_err(), "excluded yet implemented");
        x.status = ImplementationStatus::NotStarted;
        assert!(x.validate("entry").is_ok());
    }

    #[test]
    fn versions_compare_entry_by_entry() {
        use ImplementationStatus::*;
        let v1 = vec![
            entry(1, "A.5.1", true, Planned),
            entry(2, "A.5.10", true, Implemented),
            entry(3, "A.5.2", true, NotStarted),
        ];
        let mut changed = entry(3, "A.5.2", true, Partial);
        changed.justification = "new reason".into();
        let v2 = vec![
            entry(1, "A.5.1", true, Planned),
            changed,
            entry(4, "A.8.1", false, NotStarted),
        ];
        let diff = compare_soa(&v1, &v2);
        let got: Vec<_> = diff
            .iter()
            .map(|c| (c.control_ref.as_str(), c.kind, c.fields.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "A.5.2",
                    SoaChangeKind::Changed,
                    vec!["justification", "status"]
                ),
                ("A.5.10", SoaChangeKind::Removed, vec![]),
                ("A.8.1", SoaChangeKind::Added, vec![]),
            ]
        );
        assert!(compare_soa(&v2, &v2).is_empty());
    }

    #[test]
    fn digest_ignores_order_and_sees_every_change() {
        use ImplementationStatus::*;
        let a = vec![
            entry(1, "A.5.1", true, Planned),
            entry(2, "A.5.2", true, Partial),
        ];
        let b = vec![a[1].clone(), a[0].clone()];
        assert_eq!(soa_digest(&a), soa_digest(&b));
        let mut c = a.clone();
        c[0].status = Implemented;
        assert_ne!(soa_digest(&a), soa_digest(&c));
    }

    #[test]
    fn progress_counts_applicable_entries_only() {
        use ImplementationStatus::*;
        let p = SoaProgress::of([
            (true, Implemented),
            (true, Implemented),
            (true, Partial),
            (false, NotStarted),
            (true, NotStarted),
        ]);
        assert_eq!((p.total, p.applicable, p.excluded), (5, 4, 1));
        assert_eq!((p.implemented, p.partial, p.not_started), (2, 1, 1));
        assert_eq!(p.percent_implemented(), 50);
        assert_eq!(SoaProgress::default().percent_implemented(), 0);
    }

    #[test]
    fn heat_map_counts_every_rating() {
        let c = RiskCriteria::default();
        let m = HeatMap::of(
            &c,
            [
                Rating {
                    likelihood: 1,
                    impact: 1,
                },
                Rating {
                    likelihood: 5,
                    impact: 5,
                },
                Rating {
                    likelihood: 5,
                    impact: 5,
                },
                Rating {
                    likelihood: 6,
                    impact: 1,
                },
            ],
        );
        assert_eq!(m.cells[0][0], 1);
        assert_eq!(m.cells[4][4], 2);
        assert_eq!(m.outside, 1);
        assert_eq!(m.cells.iter().flatten().sum::<u32>(), 3);
    }

    #[test]
    fn closing_needs_an_effective_verified_action() {
        use NonconformityStatus::*;
        let day = Some(d(2026, 2, 28));
        assert!(check_closure(Verifying, Some("patched"), day, Some(true)).is_ok());
        assert!(check_closure(Verifying, Some("patched"), None, None).is_err());
        assert!(check_closure(Verifying, Some("patched"), day, None).is_err());
        assert!(check_closure(Verifying, Some("patched"), day, Some(false)).is_err());
        assert!(check_closure(Open, None, day, Some(true)).is_err());
        assert!(check_closure(Closed, Some("x"), day, Some(true)).is_err());
    }

    #[test]
    fn review_dates_are_inclusive() {
        let s = DocumentState {
            present: true,
            approved: true,
            next_review: Some(d(2028, 2, 29)),
        };
        assert_eq!(
            readiness_gap(s, d(2028, 2, 29)),
            None,
            "due today is still in review"
        );
        assert_eq!(
            readiness_gap(s, d(2028, 3, 1)),
            Some(ReadinessGap::ReviewOverdue(d(2028, 2, 29)))
        );
        assert_eq!(
            readiness_gap(DocumentState::default(), d(2028, 3, 1)),
            Some(ReadinessGap::Missing)
        );
        let unapproved = DocumentState {
            approved: false,
            ..s
        };
        assert_eq!(
            readiness_gap(unapproved, d(2026, 1, 1)),
            Some(ReadinessGap::NotApproved)
        );
    }

    #[test]
    fn mandatory_documents_are_unique_and_cover_4_to_10() {
        let mut keys: Vec<_> = MANDATORY_DOCUMENTS.iter().map(|d| d.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), MANDATORY_DOCUMENTS.len());
        for clause in [
            "4.3", "5.2", "6.1.2", "6.1.3 d", "6.2", "8.2", "9.2.2", "9.3.3", "10.2",
        ] {
            assert!(
                MANDATORY_DOCUMENTS.iter().any(|d| d.clause == clause),
                "{clause}"
            );
        }
    }

    #[test]
    fn coverage_follows_164_306_d() {
        use AddressableDecision as D;
        use ImplementationStatus::*;
        let done = ReachingControl {
            applicable: true,
            status: Implemented,
        };
        let partial = ReachingControl {
            applicable: true,
            status: Partial,
        };
        let excluded = ReachingControl {
            applicable: false,
            status: NotStarted,
        };
        assert_eq!(
            coverage(true, &[partial, done], None),
            CoverageState::Covered
        );
        assert_eq!(coverage(true, &[partial], None), CoverageState::InProgress);
        assert_eq!(coverage(true, &[excluded], None), CoverageState::Gap);
        assert_eq!(
            coverage(true, &[], Some(D::NotReasonable)),
            CoverageState::Gap,
            "required"
        );
        assert_eq!(
            coverage(false, &[], Some(D::Alternative)),
            CoverageState::Determined(D::Alternative)
        );
        assert_eq!(
            coverage(false, &[], Some(D::Implemented)),
            CoverageState::Gap
        );
        assert_eq!(
            coverage(false, &[partial], Some(D::Implemented)),
            CoverageState::InProgress
        );
        assert_eq!(
            coverage(false, &[done], Some(D::NotReasonable)),
            CoverageState::Covered
        );
        assert!(D::Alternative.needs_rationale() && !D::Implemented.needs_rationale());
    }

    #[test]
    fn references_sort_naturally() {
        let mut v = vec!["A.5.10", "A.5.2", "A.8.1", "A.5.1", "4.1", "10.2"];
        v.sort_by(|a, b| natural_ref_cmp(a, b));
        assert_eq!(v, ["4.1", "10.2", "A.5.1", "A.5.2", "A.5.10", "A.8.1"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Records: controlled documents (5.2, 7.5), objectives and their results (6.2, 9.1), workforce
// training (7.2, HIPAA 164.308(a)(5)).

text_enum!(
    /// A controlled document's kind.
    DocumentKind {
        Policy = "policy",
        Procedure = "procedure",
        Standard = "standard",
        Plan = "plan",
        Record = "record",
        Other = "other",
    }
);

text_enum!(
    /// Which side of its target an objective's measure must land on.
    ObjectiveDirection {
        /// The measured value must reach the target or exceed it.
        AtLeast = "at-least",
        /// The measured value must stay at or under the target.
        AtMost = "at-most",
    }
);

text_enum!(
    /// A training assignment's state on a given day.
    TrainingStatus {
        Open = "open",
        Overdue = "overdue",
        Completed = "completed",
    }
);

/// The mandatory documented information a controlled document may declare it fulfils: the keys
/// whose source is [`DocumentSource::Document`]. Refuses other keys with a message naming them.
pub fn document_fulfils(key: &str) -> Result<&'static MandatoryDocument, DomainError> {
    match mandatory_document(key) {
        Some(d) if d.source == DocumentSource::Document => Ok(d),
        Some(d) => Err(DomainError::invalid(
            "fulfils",
            format!(
                "{} (clause {}) is kept by grc itself, not by a document",
                d.key, d.clause
            ),
        )),
        None => Err(DomainError::invalid(
            "fulfils",
            format!(
                "unknown documented information {key:?}; one of: {}",
                MANDATORY_DOCUMENTS
                    .iter()
                    .filter(|d| d.source == DocumentSource::Document)
                    .map(|d| d.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A next review date must lie after `today` (a review sets the next one in the future).
pub fn check_next_review(next: NaiveDate, today: NaiveDate) -> Result<(), DomainError> {
    if next <= today {
        return Err(DomainError::invalid(
            "nextReviewDate",
            format!("the next review date must be after today ({today})"),
        ));
    }
    Ok(())
}

/// The effective date of a version approved on `approved_on`: the one asked for, or the
/// approval date. A version cannot take effect before it is approved.
pub fn effective_on_approval(
    asked: Option<NaiveDate>,
    approved_on: NaiveDate,
) -> Result<NaiveDate, DomainError> {
    match asked {
        None => Ok(approved_on),
        Some(d) if d < approved_on => Err(DomainError::invalid(
            "effectiveDate",
            format!("a version cannot take effect before its approval ({approved_on})"),
        )),
        Some(d) => Ok(d),
    }
}

/// One version as the current-version rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionState {
    pub number: i32,
    /// When it was approved (ordering only); `None` for a draft.
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub effective_date: Option<NaiveDate>,
}

/// The document's current version on `today`: the latest approved version (by approval, then
/// number) whose effective date is on or before `today`. Drafts and versions that take effect
/// later never count.
pub fn current_version(versions: &[VersionState], today: NaiveDate) -> Option<i32> {
    versions
        .iter()
        .filter(|v| v.approved_at.is_some() && v.effective_date.is_some_and(|d| d <= today))
        .max_by_key(|v| (v.approved_at, v.number))
        .map(|v| v.number)
}

/// Whether a measured value meets the target in the given direction (the target itself meets).
pub fn objective_met(direction: ObjectiveDirection, target: f64, value: f64) -> bool {
    match direction {
        ObjectiveDirection::AtLeast => value >= target,
        ObjectiveDirection::AtMost => value <= target,
    }
}

/// `date` plus `months` calendar months; a day past the target month's end becomes its last
/// day (31 January + 1 month = 28 or 29 February; 29 February + 12 months = 28 February).
pub fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(chrono::Months::new(months))
}

/// When a recurring course is next due after a completion (`None`: the course does not recur).
pub fn next_training_due(
    completed_on: NaiveDate,
    recurrence_months: Option<u32>,
) -> Option<NaiveDate> {
    recurrence_months
        .filter(|m| *m > 0)
        .and_then(|m| add_months(completed_on, m))
}

/// An assignment's state on `today`: completed once a completion is recorded; otherwise open
/// up to and including its due date, overdue from the day after.
pub fn training_status(
    due: NaiveDate,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> TrainingStatus {
    match completed_on {
        Some(_) => TrainingStatus::Completed,
        None if due < today => TrainingStatus::Overdue,
        None => TrainingStatus::Open,
    }
}

/// A date on which something was done (measured, completed) cannot be after `today`.
pub fn check_not_future(field: &str, d: NaiveDate, today: NaiveDate) -> Result<(), DomainError> {
    if d > today {
        return Err(DomainError::invalid(
            field,
            format!("{d} is in the future (today is {today})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod records_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn months_clamp_to_the_month_end() {
        assert_eq!(add_months(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
        assert_eq!(
            add_months(d(2028, 1, 31), 1),
            Some(d(2028, 2, 29)),
            "2028 is a leap year"
        );
        assert_eq!(add_months(d(2028, 2, 29), 12), Some(d(2029, 2, 28)));
        assert_eq!(add_months(d(2028, 2, 29), 48), Some(d(2032, 2, 29)));
        assert_eq!(add_months(d(2026, 3, 31), 1), Some(d(2026, 4, 30)));
        assert_eq!(add_months(d(2026, 8, 31), 6), Some(d(2027, 2, 28)));
        assert_eq!(add_months(d(2026, 11, 15), 3), Some(d(2027, 2, 15)));
        assert_eq!(
            next_training_due(d(2028, 2, 29), Some(12)),
            Some(d(2029, 2, 28))
        );
        assert_eq!(
            next_training_due(d(2026, 1, 31), Some(1)),
            Some(d(2026, 2, 28))
        );
        assert_eq!(next_training_due(d(2026, 1, 31), None), None);
        assert_eq!(next_training_due(d(2026, 1, 31), Some(0)), None);
    }

    #[test]
    fn training_is_due_through_its_due_date() {
        let due = d(2026, 2, 28);
        assert_eq!(
            training_status(due, None, d(2026, 2, 28)),
            TrainingStatus::Open
        );
        assert_eq!(
            training_status(due, None, d(2026, 3, 1)),
            TrainingStatus::Overdue
        );
        assert_eq!(
            training_status(due, Some(d(2026, 3, 5)), d(2026, 4, 1)),
            TrainingStatus::Completed,
            "late, but done"
        );
    }

    #[test]
    fn objectives_meet_their_target_by_direction() {
        use ObjectiveDirection::*;
        assert!(objective_met(AtLeast, 95.0, 95.0));
        assert!(objective_met(AtLeast, 95.0, 99.5));
        assert!(!objective_met(AtLeast, 95.0, 94.9));
        assert!(objective_met(AtMost, 4.0, 4.0));
        assert!(objective_met(AtMost, 4.0, 1.0));
        assert!(!objective_met(AtMost, 4.0, 4.5));
    }

    #[test]
    fn only_document_sourced_keys_are_fulfilled_by_documents() {
        assert_eq!(
            document_fulfils("security-policy").map(|d| d.clause),
            Ok("5.2")
        );
        assert_eq!(document_fulfils("isms-scope").map(|d| d.clause), Ok("4.3"));
        assert!(
            document_fulfils("statement-of-applicability").is_err(),
            "the SoA is kept by grc"
        );
        assert!(document_fulfils("objectives").is_err());
        assert!(document_fulfils("no-such-thing").is_err());
    }

    #[test]
    fn review_and_effective_dates() {
        let today = d(2026, 2, 28);
        assert!(
            check_next_review(d(2026, 2, 28), today).is_err(),
            "today is not after today"
        );
        assert!(check_next_review(d(2026, 3, 1), today).is_ok());
        assert_eq!(effective_on_approval(None, today), Ok(today));
        assert_eq!(
            effective_on_approval(Some(d(2026, 4, 1)), today),
            Ok(d(2026, 4, 1))
        );
        assert!(effective_on_approval(Some(d(2026, 2, 27)), today).is_err());
        assert!(check_not_future("measuredOn", d(2026, 3, 1), today).is_err());
        assert!(check_not_future("measuredOn", today, today).is_ok());
    }

    #[test]
    fn the_current_version_is_the_latest_approved_in_effect() {
        let at = |day: u32| {
            Some(
                d(2026, 1, day)
                    .and_hms_opt(12, 0, 0)
                    .expect("time")
                    .and_utc(),
            )
        };
        let v = [
            VersionState {
                number: 1,
                approved_at: at(1),
                effective_date: Some(d(2026, 1, 1)),
            },
            VersionState {
                number: 2,
                approved_at: at(10),
                effective_date: Some(d(2026, 2, 1)),
            },
            VersionState {
                number: 3,
                approved_at: None,
                effective_date: Some(d(2026, 1, 5)),
            },
        ];
        assert_eq!(
            current_version(&v, d(2025, 12, 31)),
            None,
            "nothing in effect yet"
        );
        assert_eq!(
            current_version(&v, d(2026, 1, 31)),
            Some(1),
            "v2 takes effect on 1 Feb"
        );
        assert_eq!(current_version(&v, d(2026, 2, 1)), Some(2));
        assert_eq!(
            current_version(&v[2..], d(2026, 3, 1)),
            None,
            "a draft is never current"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Management review (9.3)

/// One input a management review must consider (9.3.2): a stable key, the clause reference and
/// our own short title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewInput {
    pub key: &'static str,
    pub clause: &'static str,
    pub title: &'static str,
}

/// The management review inputs of ISO/IEC 27001:2022 9.3.2, in clause order.
pub const REVIEW_INPUTS: &[ReviewInput] = &[
    ReviewInput {
        key: "previous-actions",
        clause: "9.3.2 a",
        title: "Status of actions from previous reviews",
    },
    ReviewInput {
        key: "context-changes",
        clause: "9.3.2 b",
        title: "Changes in external and internal issues",
    },
    ReviewInput {
        key: "interested-party-changes",
        clause: "9.3.2 c",
        title: "Changes in interested parties' needs",
    },
    ReviewInput {
        key: "nonconformity-trends",
        clause: "9.3.2 d 1",
        title: "Nonconformities and corrective actions",
    },
    ReviewInput {
        key: "monitoring-results",
        clause: "9.3.2 d 2",
        title: "Monitoring and measurement results",
    },
    ReviewInput {
        key: "audit-results",
        clause: "9.3.2 d 3",
        title: "Audit results",
    },
    ReviewInput {
        key: "objectives-fulfilment",
        clause: "9.3.2 d 4",
        title: "Fulfilment of security objectives",
    },
    ReviewInput {
        key: "interested-party-feedback",
        clause: "9.3.2 e",
        title: "Feedback from interested parties",
    },
    ReviewInput {
        key: "risk-results",
        clause: "9.3.2 f",
        title: "Risk assessment results and treatment plan status",
    },
    ReviewInput {
        key: "improvement-opportunities",
        clause: "9.3.2 g",
        title: "Opportunities for continual improvement",
    },
];

pub fn review_input(key: &str) -> Option<&'static ReviewInput> {
    REVIEW_INPUTS.iter().find(|i| i.key == key)
}

/// The 9.3.2 inputs not yet recorded: `recorded` says whether a key has a (non-blank) entry.
pub fn missing_review_inputs(recorded: impl Fn(&str) -> bool) -> Vec<&'static str> {
    REVIEW_INPUTS
        .iter()
        .map(|i| i.key)
        .filter(|k| !recorded(k))
        .collect()
}

/// A management review may be completed (its results kept as 9.3.3 evidence) only when every
/// 9.3.2 input was considered and a decision recorded. `inputs` maps input keys to what was
/// considered; blank entries do not count. Unknown keys are refused.
pub fn check_review_completion(
    inputs: &BTreeMap<String, String>,
    decisions: &str,
) -> Result<(), DomainError> {
    if let Some(k) = inputs.keys().find(|k| review_input(k).is_none()) {
        return Err(DomainError::invalid(
            "inputs",
            format!("{k:?} is not a management review input (9.3.2)"),
        ));
    }
    let missing = missing_review_inputs(|k| inputs.get(k).is_some_and(|v| !v.trim().is_empty()));
    if !missing.is_empty() {
        return Err(DomainError::invalid(
            "inputs",
            format!(
                "record every management review input (9.3.2) before completing; missing: {}",
                missing.join(", ")
            ),
        ));
    }
    if decisions.trim().is_empty() {
        return Err(DomainError::invalid(
            "decisions",
            "record the review's decisions (9.3.3) before completing",
        ));
    }
    Ok(())
}

/// 10.2: a corrective action's effectiveness is verified by someone other than the person who
/// owns the action (an API key is nobody and cannot verify).
pub fn check_verifier(owner: Option<Uuid>, verifier: Option<Uuid>) -> Result<(), DomainError> {
    let Some(v) = verifier else {
        return Err(DomainError::invalid(
            "id",
            "verification is a person's judgement: sign in as a user to verify",
        ));
    };
    if owner == Some(v) {
        return Err(DomainError::invalid(
            "id",
            "the owner of a corrective action may not verify it: ask an independent verifier (ISO/IEC 27001 10.2)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod review_tests {
    use super::*;

    #[test]
    fn review_inputs_cover_9_3_2() {
        let clauses: Vec<_> = REVIEW_INPUTS.iter().map(|i| i.clause).collect();
        assert_eq!(
            clauses,
            [
                "9.3.2 a",
                "9.3.2 b",
                "9.3.2 c",
                "9.3.2 d 1",
                "9.3.2 d 2",
                "9.3.2 d 3",
                "9.3.2 d 4",
                "9.3.2 e",
                "9.3.2 f",
                "9.3.2 g"
            ]
        );
        let mut keys: Vec<_> = REVIEW_INPUTS.iter().map(|i| i.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 10);
    }

    #[test]
    fn a_review_completes_with_every_input_and_a_decision() {
        let mut inputs: BTreeMap<String, String> = REVIEW_INPUTS
            .iter()
            .map(|i| (i.key.to_owned(), "considered".to_owned()))
            .collect();
        assert!(check_review_completion(&inputs, "keep the scope").is_ok());
        assert!(check_review_completion(&inputs, "  ").is_err());
        inputs.insert("audit-results".into(), " ".into());
        inputs.remove("risk-results");
        let e = check_review_completion(&inputs, "keep the scope").expect_err("two missing");
        let DomainError::Invalid(f) = e else {
            panic!("invalid expected")
        };
        assert!(
            f.message.ends_with("missing: audit-results, risk-results"),
            "{}",
            f.message
        );
        inputs.insert("risk-results".into(), "x".into());
        inputs.insert("audit-results".into(), "x".into());
        inputs.insert("weather".into(), "x".into());
        assert!(
            check_review_completion(&inputs, "d").is_err(),
            "unknown key"
        );
    }

    #[test]
    fn the_owner_does_not_verify_its_own_action() {
        let owner = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        assert!(check_verifier(Some(owner), Some(other)).is_ok());
        assert!(check_verifier(None, Some(other)).is_ok());
        assert!(check_verifier(Some(owner), Some(owner)).is_err());
        assert!(check_verifier(Some(owner), None).is_err());
    }
}
