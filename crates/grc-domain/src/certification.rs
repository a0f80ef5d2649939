//! Certification and attestation lifecycles: the status on any date and the next due events of
//! an ISO/IEC 27001 or 27701 certificate, and the validity of SOC 2 reports, HITRUST
//! certifications, penetration tests and other dated reports.
//!
//! Every rule cites its source; the facts and their confidence are in the product's domain
//! primer (`shared/domain/PRIMER.md` §6 and §1.5). Dates are calendar dates with no time zone:
//! a certificate is valid through its expiry date, inclusive. Month arithmetic is calendar
//! arithmetic that clamps to the month's last day (a decision on 2024-02-29 plus 12 months is
//! 2025-02-28), the way a certification body counts "12 months after" a date.
//!
//! The lifecycle functions are pure and allocation-free on the hot path: a [`Certificate`] is
//! validated and compacted once from its recorded events, and [`Certificate::status_on`] is a
//! few comparisons (see the criterion benchmark `certificate_status`).

use crate::DomainError;
use crate::isms::text_enum;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

/// The last day on which an ISO/IEC 27001:2013 certificate can be valid: the end of the
/// three-year transition period of IAF MD 26:2023 (primer §1.5). Product rule: a 2013-edition
/// certificate is invalid after this date whatever its printed expiry.
pub const ISO27001_2013_LAST_VALID_DAY: NaiveDate = ymd(2025, 10, 31);

/// From this date no initial or recertification audit may be conducted against
/// ISO/IEC 27001:2013 (IAF MD 26:2023, 18 months into the transition; primer §1.5).
pub const ISO27001_2013_NO_AUDITS_FROM: NaiveDate = ymd(2024, 5, 1);

/// The length of a certification cycle: three years from the certification (or
/// recertification) decision (ISO/IEC 17021-1:2015 9.1.3.2).
pub const CYCLE_MONTHS: u32 = 36;

/// The first surveillance audit is due no later than 12 months after the initial certification
/// decision (ISO/IEC 17021-1:2015 9.6.2.2).
pub const FIRST_SURVEILLANCE_MONTHS: u32 = 12;

/// The longest an observed certificate (a vendor's) may run from its issue date to its expiry:
/// a 3-year cycle, plus up to a year when it was reissued on a recertification decided before
/// the previous expiry, whose dates it keeps (product rule, ISO/IEC 17021-1 9.6.3.2.3).
pub const OBSERVED_MAX_MONTHS: u32 = 48;

/// After expiry, the certification body may restore the certification within 6 months if the
/// outstanding recertification activities are completed (ISO/IEC 17021-1:2015 9.6.3.2.5).
pub const RESTORE_MONTHS: u32 = 6;

/// A suspension "in most cases would not exceed 6 months" before withdrawal or reduction of
/// scope (ISO/IEC 17021-1:2015 9.6.5).
pub const SUSPENSION_HORIZON_MONTHS: u32 = 6;

/// Major nonconformities of an initial audit must be verified closed within 6 months after the
/// last day of stage 2, or another stage 2 is needed (ISO/IEC 17021-1:2015 9.4 / 9.5).
pub const MAJOR_CLOSURE_MONTHS: u32 = 6;

/// `date` plus `months` calendar months, clamped to the month's end; `None` only past year
/// 262,143.
pub fn plus_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

fn months_or_max(date: NaiveDate, months: u32) -> NaiveDate {
    plus_months(date, months).unwrap_or(NaiveDate::MAX)
}

fn days_or_max(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

fn days_back(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days))
        .unwrap_or(NaiveDate::MIN)
}

// ---------------------------------------------------------------------------------------------
// ISO/IEC 27001 and 27701 certificates

text_enum!(
    /// The certified standard.
    Standard {
        Iso27001 = "iso27001",
        Iso27701 = "iso27701",
    }
);

text_enum!(
    /// The edition of the certified standard.
    Edition {
        E2013 = "2013",
        E2022 = "2022",
        E2019 = "2019",
        E2025 = "2025",
    }
);

impl Standard {
    /// Our short display name of the standard ("ISO/IEC 27001"): the identifier only.
    pub fn label(self) -> &'static str {
        match self {
            Standard::Iso27001 => "ISO/IEC 27001",
            Standard::Iso27701 => "ISO/IEC 27701",
        }
    }

    /// Whether `edition` is an edition of this standard (27001: 2013, 2022; 27701: 2019, 2025).
    pub fn has_edition(self, edition: Edition) -> bool {
        matches!(
            (self, edition),
            (Standard::Iso27001, Edition::E2013 | Edition::E2022)
                | (Standard::Iso27701, Edition::E2019 | Edition::E2025)
        )
    }
}

text_enum!(
    /// A certification body's audit (ISO/IEC 17021-1:2015 9.1.3, 9.3, 9.6).
    CertAuditKind {
        /// Initial audit, stage 1: documented information, readiness, planning (9.3.1.2).
        Stage1 = "stage1",
        /// Initial audit, stage 2: implementation and effectiveness (9.3.1.3).
        Stage2 = "stage2",
        Surveillance = "surveillance",
        Recertification = "recertification",
        /// Scope extension, short-notice or unannounced audit (9.6.4).
        Special = "special",
        /// The 2013 → 2022 transition audit (IAF MD 26).
        Transition = "transition",
    }
);

text_enum!(
    /// A certification body's decision about a certificate.
    CertDecisionKind {
        /// The initial certification decision: starts the first 3-year cycle (9.1.3.2).
        Certification = "certification",
        /// Recertification: before expiry keeps the cycle dates; after expiry, within 6
        /// months, restores the certification (9.6.3).
        Recertification = "recertification",
        /// Temporarily invalid (9.6.5).
        Suspension = "suspension",
        SuspensionLifted = "suspension-lifted",
        /// Terminal (9.6.5).
        Withdrawal = "withdrawal",
        /// Parts that persistently failed are excluded; ends a suspension (9.6.5).
        ScopeReduction = "scope-reduction",
        /// A 2013-edition certificate moved to the 2022 edition (IAF MD 26).
        Transition = "transition",
    }
);

/// One certification body audit as the lifecycle needs it: its kind, its dates (the last day
/// counts) and whether it raised major nonconformities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertAudit {
    pub kind: CertAuditKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub major_findings: u32,
}

/// One certification body decision: its kind, its date and, for a certification or
/// recertification, the expiry printed on the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertDecision {
    pub kind: CertDecisionKind,
    pub on: NaiveDate,
    pub expires: Option<NaiveDate>,
}

text_enum!(
    /// A certificate's status on a date.
    CertificateStatus {
        /// No certification decision yet (audits may be under way).
        Pending = "pending",
        /// Certified and valid.
        Active = "active",
        /// Temporarily invalid (ISO/IEC 17021-1:2015 9.6.5).
        Suspended = "suspended",
        /// Past its expiry (printed, or the 2013 transition end), possibly restorable.
        Expired = "expired",
        /// Withdrawn by the certification body: terminal.
        Withdrawn = "withdrawn",
    }
);

text_enum!(
    /// Why a certificate is expired.
    ExpiryReason {
        /// Its cycle's printed expiry passed without a recertification decision.
        PrintedExpiry = "printed-expiry",
        /// A 2013-edition ISO/IEC 27001 certificate after 2025-10-31 (IAF MD 26).
        TransitionEnd = "transition-end",
    }
);

/// What a certificate is on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateState {
    pub status: CertificateStatus,
    /// Why it is expired (only for [`CertificateStatus::Expired`]).
    pub expiry_reason: Option<ExpiryReason>,
    /// The first day of the certification cycle in effect (or that lapsed).
    pub cycle_start: Option<NaiveDate>,
    /// The last valid day of that cycle: the printed expiry, or 2025-10-31 for a 2013
    /// certificate not transitioned by then, whichever is earlier.
    pub valid_until: Option<NaiveDate>,
    /// While expired by its printed expiry: the last day a recertification decision can
    /// restore it (expiry + 6 months, 17021-1 9.6.3.2.5).
    pub restorable_until: Option<NaiveDate>,
    /// The day the current status began.
    pub since: Option<NaiveDate>,
}

impl CertificateState {
    /// Valid on the date: active (suspended certificates are temporarily invalid).
    pub fn is_valid(&self) -> bool {
        self.status == CertificateStatus::Active
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cycle {
    /// The decision that started it (initial certification, recertification or restoration).
    start: NaiveDate,
    /// The printed expiry.
    expires: NaiveDate,
    initial: bool,
    /// Decided after the previous cycle expired (a restoration).
    restored: bool,
}

/// A certificate's recorded history, validated and compacted for evaluation on any date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    standard: Standard,
    edition: Edition,
    stage2_end: Option<NaiveDate>,
    stage2_majors: bool,
    cycles: Vec<Cycle>,
    /// (from, until exclusive): suspended on `from`, valid again on the lifting day.
    suspensions: Vec<(NaiveDate, Option<NaiveDate>)>,
    withdrawn: Option<NaiveDate>,
    transitioned: Option<NaiveDate>,
    /// Last days of the surveillance audits, ascending.
    surveillance: Vec<NaiveDate>,
    /// Last days of the recertification audits, ascending.
    recertification_audits: Vec<NaiveDate>,
}

text_enum!(
    /// What falls due for a certificate.
    CertDueKind {
        /// The certification decision after a stage 2 with major nonconformities (9.4/9.5).
        CertificationDecision = "certification-decision",
        /// The first surveillance, at most 12 months after the initial decision (9.6.2.2).
        FirstSurveillance = "first-surveillance",
        /// A surveillance in a calendar year of the cycle that is not a recertification year
        /// (9.1.3.3 / 9.6.2.2).
        AnnualSurveillance = "annual-surveillance",
        /// The recertification decision, by the cycle's expiry (9.6.3).
        Recertification = "recertification",
        /// Restoration after expiry, at most 6 months after it (9.6.3.2.5).
        Restoration = "restoration",
        /// Resolving a suspension, normally within 6 months (9.6.5).
        SuspensionResolution = "suspension-resolution",
        /// Transition of a 2013 certificate to the 2022 edition, by 2025-10-31 (IAF MD 26).
        Transition = "transition",
    }
);

/// One event that falls due, with its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertDue {
    pub kind: CertDueKind,
    /// The first day it may be done, where a rule sets one.
    pub opens: Option<NaiveDate>,
    /// The last day it may be done.
    pub due: NaiveDate,
    /// For an annual surveillance, the calendar year it is owed for.
    pub year: Option<i32>,
    /// Due before the evaluation date.
    pub overdue: bool,
}

fn bad(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(field, message)
}

/// The state a certificate is in while its history is replayed for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    Pending,
    Active,
    Suspended,
    Withdrawn,
}

impl Certificate {
    /// Validates a certificate's recorded audits and decisions and compacts them.
    ///
    /// The order in which events were recorded does not matter (an event recorded late is
    /// placed at its date); on one day, audits come before decisions. Each refusal names the
    /// rule it applies; the field is `audits` or `decisions` with the event's position in the
    /// given slice.
    pub fn new(
        standard: Standard,
        edition: Edition,
        audits: &[CertAudit],
        decisions: &[CertDecision],
    ) -> Result<Self, DomainError> {
        if !standard.has_edition(edition) {
            return Err(bad(
                "edition",
                format!("{edition} is not an edition of {standard}"),
            ));
        }
        let mut a_order: Vec<usize> = (0..audits.len()).collect();
        a_order.sort_by_key(|&i| (audits[i].end, audits[i].start, i));
        let mut d_order: Vec<usize> = (0..decisions.len()).collect();
        d_order.sort_by_key(|&i| (decisions[i].on, decision_rank(decisions[i].kind), i));

        let mut cert = Certificate {
            standard,
            edition,
            stage2_end: None,
            stage2_majors: false,
            cycles: Vec::new(),
            suspensions: Vec::new(),
            withdrawn: None,
            transitioned: None,
            surveillance: Vec::new(),
            recertification_audits: Vec::new(),
        };
        let is_2013 = standard == Standard::Iso27001 && edition == Edition::E2013;

        // The initial decision anchors every other rule.
        let initial = d_order
            .iter()
            .copied()
            .find(|&i| decisions[i].kind == CertDecisionKind::Certification);
        let initial_on = initial.map(|i| decisions[i].on);

        for &i in &a_order {
            let a = audits[i];
            let field = format!("audits.{i}");
            if a.end < a.start {
                return Err(bad(&field, "an audit cannot end before it starts"));
            }
            match a.kind {
                CertAuditKind::Stage1 | CertAuditKind::Stage2 => {
                    if let Some(d) = initial_on
                        && a.end > d
                    {
                        return Err(bad(
                            &field,
                            format!(
                                "a {} audit belongs to the initial audit, before the \
                                 certification decision of {d} (ISO/IEC 17021-1 9.3)",
                                a.kind
                            ),
                        ));
                    }
                    if a.kind == CertAuditKind::Stage2 {
                        if let Some(s1) = audits
                            .iter()
                            .filter(|x| x.kind == CertAuditKind::Stage1)
                            .map(|x| x.end)
                            .min()
                            && a.start < s1
                        {
                            return Err(bad(
                                &field,
                                format!("stage 2 cannot start before stage 1 ended ({s1})"),
                            ));
                        }
                        // The last stage 2 counts (a repeated stage 2 replaces the first).
                        cert.stage2_end = Some(a.end);
                        cert.stage2_majors = a.major_findings > 0;
                    }
                    if is_2013 && a.end >= ISO27001_2013_NO_AUDITS_FROM {
                        return Err(bad(
                            &field,
                            "no initial audit against ISO/IEC 27001:2013 from 2024-05-01 \
                             (IAF MD 26)",
                        ));
                    }
                }
                CertAuditKind::Surveillance
                | CertAuditKind::Recertification
                | CertAuditKind::Special
                | CertAuditKind::Transition => {
                    let Some(d) = initial_on else {
                        return Err(bad(
                            &field,
                            format!(
                                "a {} audit needs the certification decision recorded first",
                                a.kind
                            ),
                        ));
                    };
                    if a.end < d {
                        return Err(bad(
                            &field,
                            format!(
                                "a {} audit cannot end before the certification decision of {d}",
                                a.kind
                            ),
                        ));
                    }
                    match a.kind {
                        CertAuditKind::Surveillance => cert.surveillance.push(a.end),
                        CertAuditKind::Recertification => {
                            if is_2013 && a.end >= ISO27001_2013_NO_AUDITS_FROM {
                                // A recertification audit from 2024-05-01 is against 2022; it
                                // must come with (or after) the transition.
                                let transitioned = decisions.iter().any(|x| {
                                    x.kind == CertDecisionKind::Transition && x.on <= a.end
                                });
                                if !transitioned {
                                    return Err(bad(
                                        &field,
                                        "no recertification audit against ISO/IEC 27001:2013 \
                                         from 2024-05-01 (IAF MD 26): record the transition",
                                    ));
                                }
                            }
                            cert.recertification_audits.push(a.end);
                        }
                        _ => {}
                    }
                }
            }
        }

        let mut state = Replay::Pending;
        for &i in &d_order {
            let d = decisions[i];
            let field = format!("decisions.{i}");
            if state == Replay::Withdrawn {
                return Err(bad(
                    &field,
                    "nothing follows a withdrawal: the certificate ended (17021-1 9.6.5)",
                ));
            }
            if d.kind != CertDecisionKind::Certification && cert.cycles.is_empty() {
                return Err(bad(
                    &field,
                    format!("a {} needs the certification decision before it", d.kind),
                ));
            }
            match d.kind {
                CertDecisionKind::Certification => {
                    if !cert.cycles.is_empty() {
                        return Err(bad(
                            &field,
                            "a certificate has one initial certification decision; a new \
                             certification after a lapse is a new certificate",
                        ));
                    }
                    // (Stage audits ending after the decision were refused above.)
                    if let Some(s2) = cert.stage2_end {
                        let limit = months_or_max(s2, MAJOR_CLOSURE_MONTHS);
                        if cert.stage2_majors && d.on > limit {
                            return Err(bad(
                                &field,
                                format!(
                                    "major nonconformities of stage 2 must be closed and \
                                     decided by {limit} (6 months after stage 2); after that \
                                     another stage 2 is needed (17021-1 9.4)"
                                ),
                            ));
                        }
                    }
                    let expires = check_expiry(&field, d, d.on, d.on)?;
                    cert.cycles.push(Cycle {
                        start: d.on,
                        expires,
                        initial: true,
                        restored: false,
                    });
                    state = Replay::Active;
                }
                CertDecisionKind::Recertification => {
                    if state == Replay::Suspended {
                        return Err(bad(
                            &field,
                            "lift the suspension before recording a recertification",
                        ));
                    }
                    let prev = cert.cycles[cert.cycles.len() - 1];
                    let valid_until = cert.effective_expiry(prev, d.on);
                    if is_2013 && cert.transitioned.is_none() && d.on > ISO27001_2013_LAST_VALID_DAY
                    {
                        return Err(bad(
                            &field,
                            "a 2013-edition certificate lapsed on 2025-10-31 and cannot be \
                             recertified (IAF MD 26): certify against 2022 as a new certificate",
                        ));
                    }
                    if is_2013
                        && d.on >= ISO27001_2013_NO_AUDITS_FROM
                        && cert.transitioned.is_none_or(|t| t > d.on)
                    {
                        return Err(bad(
                            &field,
                            "no recertification against ISO/IEC 27001:2013 from 2024-05-01 \
                             (IAF MD 26): record the transition first",
                        ));
                    }
                    let restore_until = months_or_max(prev.expires, RESTORE_MONTHS);
                    if d.on > restore_until {
                        return Err(bad(
                            &field,
                            format!(
                                "the certificate expired on {} and could be restored only \
                                 until {restore_until} (6 months, 17021-1 9.6.3.2.5); after \
                                 that a new certification with at least a stage 2 is needed",
                                prev.expires
                            ),
                        ));
                    }
                    let restored = d.on > valid_until;
                    // The new cycle is based on the existing expiry, whether decided before
                    // expiry (9.6.3.2.3) or restored after it (9.6.3.2.5).
                    let expires = check_expiry(&field, d, prev.expires, d.on)?;
                    if expires <= prev.expires {
                        return Err(bad(
                            &field,
                            format!(
                                "a recertification must extend the expiry beyond {}",
                                prev.expires
                            ),
                        ));
                    }
                    cert.cycles.push(Cycle {
                        start: d.on,
                        expires,
                        initial: false,
                        restored,
                    });
                    state = Replay::Active;
                }
                CertDecisionKind::Suspension => {
                    if state != Replay::Active || cert.expired_on(d.on) {
                        return Err(bad(&field, "only an active certificate can be suspended"));
                    }
                    cert.suspensions.push((d.on, None));
                    state = Replay::Suspended;
                }
                CertDecisionKind::SuspensionLifted | CertDecisionKind::ScopeReduction => {
                    if d.kind == CertDecisionKind::SuspensionLifted && state != Replay::Suspended {
                        return Err(bad(&field, "the certificate is not suspended"));
                    }
                    if cert.expired_on(d.on) {
                        return Err(bad(
                            &field,
                            format!("the certificate had expired by {}", d.on),
                        ));
                    }
                    if state == Replay::Suspended
                        && let Some(last) = cert.suspensions.last_mut()
                    {
                        last.1 = Some(d.on);
                    }
                    state = Replay::Active;
                }
                CertDecisionKind::Withdrawal => {
                    cert.withdrawn = Some(d.on);
                    state = Replay::Withdrawn;
                }
                CertDecisionKind::Transition => {
                    if !is_2013 {
                        return Err(bad(
                            &field,
                            "only an ISO/IEC 27001:2013 certificate transitions to 2022",
                        ));
                    }
                    if cert.transitioned.is_some() {
                        return Err(bad(&field, "the certificate has already transitioned"));
                    }
                    if d.on > ISO27001_2013_LAST_VALID_DAY {
                        return Err(bad(
                            &field,
                            "the transition period ended on 2025-10-31 (IAF MD 26)",
                        ));
                    }
                    cert.transitioned = Some(d.on);
                }
            }
        }
        Ok(cert)
    }

    /// A certificate observed from outside (a vendor's, as printed and as seen in the
    /// certification body's register): issued on `issued`, expiring on `expires`, possibly
    /// suspended or withdrawn since.
    pub fn observed(
        standard: Standard,
        edition: Edition,
        issued: NaiveDate,
        expires: NaiveDate,
        suspended: Option<NaiveDate>,
        withdrawn: Option<NaiveDate>,
    ) -> Result<Self, DomainError> {
        let mut decisions = vec![CertDecision {
            kind: CertDecisionKind::Certification,
            on: issued,
            expires: Some(expires),
        }];
        if let Some(s) = suspended {
            decisions.push(CertDecision {
                kind: CertDecisionKind::Suspension,
                on: s,
                expires: None,
            });
        }
        if let Some(w) = withdrawn {
            decisions.push(CertDecision {
                kind: CertDecisionKind::Withdrawal,
                on: w,
                expires: None,
            });
        }
        Self::new(standard, edition, &[], &decisions)
    }

    pub fn standard(&self) -> Standard {
        self.standard
    }

    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// The cycle's last valid day as known on `on`: the printed expiry, cut to 2025-10-31 for
    /// a 2013 certificate not transitioned by `on`.
    fn effective_expiry(&self, c: Cycle, on: NaiveDate) -> NaiveDate {
        let lapses_2013 = self.standard == Standard::Iso27001
            && self.edition == Edition::E2013
            && self.transitioned.is_none_or(|t| t > on);
        if lapses_2013 {
            c.expires.min(ISO27001_2013_LAST_VALID_DAY)
        } else {
            c.expires
        }
    }

    fn expired_on(&self, on: NaiveDate) -> bool {
        match self.cycle_at(on) {
            Some(c) => on > self.effective_expiry(c, on),
            None => false,
        }
    }

    fn cycle_at(&self, on: NaiveDate) -> Option<Cycle> {
        self.cycles.iter().rev().find(|c| c.start <= on).copied()
    }

    /// The status on `on`, from the recorded events only.
    pub fn status_on(&self, on: NaiveDate) -> CertificateState {
        let mut s = CertificateState {
            status: CertificateStatus::Pending,
            expiry_reason: None,
            cycle_start: None,
            valid_until: None,
            restorable_until: None,
            since: None,
        };
        let Some(cycle) = self.cycle_at(on) else {
            return s;
        };
        let until = self.effective_expiry(cycle, on);
        s.cycle_start = Some(cycle.start);
        s.valid_until = Some(until);
        if let Some(w) = self.withdrawn
            && w <= on
        {
            s.status = CertificateStatus::Withdrawn;
            s.since = Some(w);
            // Valid at most until the day before the withdrawal.
            s.valid_until = w.pred_opt().map(|p| p.min(until));
            return s;
        }
        if on > until {
            s.status = CertificateStatus::Expired;
            s.since = until.succ_opt();
            if until < cycle.expires {
                s.expiry_reason = Some(ExpiryReason::TransitionEnd);
            } else {
                s.expiry_reason = Some(ExpiryReason::PrintedExpiry);
                let r = months_or_max(until, RESTORE_MONTHS);
                if on <= r {
                    s.restorable_until = Some(r);
                }
            }
            return s;
        }
        for &(from, lifted) in &self.suspensions {
            if from <= on && lifted.is_none_or(|l| on < l) {
                s.status = CertificateStatus::Suspended;
                s.since = Some(from);
                return s;
            }
        }
        s.status = CertificateStatus::Active;
        let lifted = self
            .suspensions
            .iter()
            .filter_map(|&(_, l)| l)
            .filter(|&l| l <= on && l > cycle.start)
            .max();
        s.since = Some(lifted.unwrap_or(cycle.start));
        s
    }

    /// What falls due, as of `on`: every obligation of the cycle in effect not yet met, the
    /// overdue ones first among equals by date. Empty for a withdrawn certificate and for an
    /// expired one past its restore window.
    pub fn due_events(&self, on: NaiveDate) -> Vec<CertDue> {
        let mut out = Vec::new();
        let state = self.status_on(on);
        let due = |kind, opens, due: NaiveDate, year| CertDue {
            kind,
            opens,
            due,
            year,
            overdue: due < on,
        };
        match state.status {
            CertificateStatus::Withdrawn => return out,
            CertificateStatus::Pending => {
                if let Some(s2) = self.stage2_end
                    && self.stage2_majors
                {
                    out.push(due(
                        CertDueKind::CertificationDecision,
                        Some(s2),
                        months_or_max(s2, MAJOR_CLOSURE_MONTHS),
                        None,
                    ));
                }
                return out;
            }
            CertificateStatus::Expired => {
                if let Some(r) = state.restorable_until
                    && let Some(until) = state.valid_until
                {
                    out.push(due(CertDueKind::Restoration, until.succ_opt(), r, None));
                }
                return out;
            }
            CertificateStatus::Active | CertificateStatus::Suspended => {}
        }
        let Some(cycle) = self.cycle_at(on) else {
            return out;
        };
        if state.status == CertificateStatus::Suspended
            && let Some(since) = state.since
        {
            out.push(due(
                CertDueKind::SuspensionResolution,
                Some(since),
                months_or_max(since, SUSPENSION_HORIZON_MONTHS),
                None,
            ));
        }
        if cycle.initial {
            let by = months_or_max(cycle.start, FIRST_SURVEILLANCE_MONTHS);
            if !self.surveillance.iter().any(|&a| a >= cycle.start) {
                out.push(due(
                    CertDueKind::FirstSurveillance,
                    Some(cycle.start),
                    by,
                    None,
                ));
            }
        }
        let until = self.effective_expiry(cycle, on);
        for year in surveillance_years(cycle).take_while(|&y| y <= until.year()) {
            let exempt = self.recertification_audits.iter().any(|a| a.year() == year);
            let done = self
                .surveillance
                .iter()
                .any(|a| a.year() == year && *a >= cycle.start);
            if !exempt && !done {
                // Never later than the certificate can be valid (a 2013 certificate's
                // transition end).
                out.push(due(
                    CertDueKind::AnnualSurveillance,
                    Some(ymd(year, 1, 1)),
                    ymd(year, 12, 31).min(until),
                    Some(year),
                ));
            }
        }
        let transition_cut = until < cycle.expires;
        if transition_cut {
            out.push(due(CertDueKind::Transition, None, until, None));
        } else if !self.cycles.iter().any(|c| c.start > cycle.start) {
            out.push(due(CertDueKind::Recertification, None, until, None));
        }
        out.sort_by_key(|d| (d.due, d.kind));
        out
    }

    /// Whether the first surveillance of the initial cycle was on time (by the decision + 12
    /// months); `None` while none is recorded.
    pub fn first_surveillance_on_time(&self) -> Option<bool> {
        let c = self.cycles.first()?;
        let first = self.surveillance.iter().find(|&&a| a >= c.start)?;
        Some(*first <= months_or_max(c.start, FIRST_SURVEILLANCE_MONTHS))
    }

    /// Whether the cycle in effect on `on` began with a restoration after expiry.
    pub fn restored_on(&self, on: NaiveDate) -> bool {
        self.cycle_at(on).is_some_and(|c| c.restored)
    }
}

/// The calendar years of a cycle that owe a surveillance audit: strictly after the year the
/// cycle began and before the year it expires (the recertification year); 17021-1 9.1.3.3
/// requires at least one surveillance each calendar year except recertification years.
fn surveillance_years(c: Cycle) -> std::ops::Range<i32> {
    (c.start.year() + 1)..c.expires.year()
}

fn decision_rank(k: CertDecisionKind) -> u8 {
    match k {
        CertDecisionKind::Certification => 0,
        CertDecisionKind::Transition => 1,
        CertDecisionKind::Recertification => 2,
        CertDecisionKind::SuspensionLifted => 3,
        CertDecisionKind::ScopeReduction => 4,
        CertDecisionKind::Suspension => 5,
        CertDecisionKind::Withdrawal => 6,
    }
}

/// A (re)certification decision's printed expiry: present, after the decision, and at most
/// 3 years after `base` (the decision for the initial cycle, the existing expiry for a
/// recertification: 17021-1 9.1.3.2 and 9.6.3.2.3).
fn check_expiry(
    field: &str,
    d: CertDecision,
    base: NaiveDate,
    decided: NaiveDate,
) -> Result<NaiveDate, DomainError> {
    let Some(expires) = d.expires else {
        return Err(bad(
            &format!("{field}.expires"),
            format!("a {} decision prints an expiry date", d.kind),
        ));
    };
    if expires <= decided {
        return Err(bad(
            &format!("{field}.expires"),
            "the expiry must come after the decision",
        ));
    }
    let limit = months_or_max(base, CYCLE_MONTHS);
    if expires > limit {
        return Err(bad(
            &format!("{field}.expires"),
            format!(
                "the expiry can be at most 3 years after {base}, i.e. {limit} \
                 (ISO/IEC 17021-1 9.1.3.2)"
            ),
        ));
    }
    Ok(expires)
}

// ---------------------------------------------------------------------------------------------
// Attestations: SOC 2, HITRUST, penetration tests and other dated reports

text_enum!(
    /// The kinds of attestation a vendor provides.
    AttestationKind {
        Iso27001 = "iso27001",
        Iso27701 = "iso27701",
        Soc2Type1 = "soc2-type1",
        Soc2Type2 = "soc2-type2",
        HitrustR2 = "hitrust-r2",
        HitrustI1 = "hitrust-i1",
        HitrustE1 = "hitrust-e1",
        PenTest = "pen-test",
        Questionnaire = "questionnaire",
    }
);

text_enum!(
    /// A SOC 2 auditor's opinion.
    Opinion {
        Unmodified = "unmodified",
        Qualified = "qualified",
        Adverse = "adverse",
        Disclaimer = "disclaimer",
    }
);

text_enum!(
    /// An attestation's validity on a date.
    AttestationStatus {
        /// Dated in the future (not yet in force).
        Pending = "pending",
        Valid = "valid",
        Expired = "expired",
        /// Suspended by its issuer (ISO certificates).
        Suspended = "suspended",
        /// Withdrawn or revoked by its issuer.
        Withdrawn = "withdrawn",
        /// Not relied on whatever the date: an adverse opinion or a disclaimer of opinion.
        Unacceptable = "unacceptable",
    }
);

/// An attestation's computed validity on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationState {
    pub status: AttestationStatus,
    /// The last day it can be relied on (`None` when it never can).
    pub valid_until: Option<NaiveDate>,
}

/// How long reports stay current, per tenant (defaults from the primer's proposed rules, §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationPolicy {
    /// A SOC 2 report is current this many months after its period end (or as-of date).
    pub soc2_current_months: u32,
    /// A bridge letter extends a SOC 2 report by its coverage, at most this many months.
    pub soc2_bridge_max_months: u32,
    /// A penetration test report is valid this many months after the test.
    pub pen_test_months: u32,
    /// A security questionnaire is valid this many months after completion.
    pub questionnaire_months: u32,
}

impl Default for AttestationPolicy {
    fn default() -> Self {
        Self {
            soc2_current_months: 12,
            soc2_bridge_max_months: 3,
            pen_test_months: 12,
            questionnaire_months: 12,
        }
    }
}

impl AttestationPolicy {
    /// Checks the policy's ranges (SOC 2 currency 1–36 months, bridge 0–12, reports 1–60).
    pub fn validate(&self) -> Result<(), DomainError> {
        let check = |field: &str, v: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(bad(field, format!("must be {lo} to {hi} months")))
            }
        };
        check("soc2CurrentMonths", self.soc2_current_months, 1, 36)?;
        check("soc2BridgeMaxMonths", self.soc2_bridge_max_months, 0, 12)?;
        check("penTestMonths", self.pen_test_months, 1, 60)?;
        check("questionnaireMonths", self.questionnaire_months, 1, 60)
    }
}

/// A SOC 2 report as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soc2Report {
    /// `None` for Type I (design as of `period_end`); the period's first day for Type II.
    pub period_start: Option<NaiveDate>,
    /// Type I: the as-of date. Type II: the period's last day.
    pub period_end: NaiveDate,
    pub opinion: Option<Opinion>,
    /// The last day a bridge (gap) letter from the service organization's management covers.
    pub bridge_through: Option<NaiveDate>,
}

impl Soc2Report {
    /// Checks the report's dates: a Type II period ends on or after it starts; a bridge letter
    /// covers days after the period.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(start) = self.period_start
            && self.period_end < start
        {
            return Err(bad(
                "periodEnd",
                "a SOC 2 Type II period cannot end before it starts",
            ));
        }
        if let Some(b) = self.bridge_through
            && b <= self.period_end
        {
            return Err(bad(
                "bridgeThrough",
                "a bridge letter covers the days after the report's period",
            ));
        }
        Ok(())
    }

    /// The last day the report's coverage reaches: the period end, or a bridge letter's
    /// coverage capped at `max_bridge_months` after the period end (primer §6.2: bridge letters
    /// typically cover at most 3 months).
    pub fn coverage_end(&self, policy: &AttestationPolicy) -> NaiveDate {
        match self.bridge_through {
            Some(b) => b.min(months_or_max(
                self.period_end,
                policy.soc2_bridge_max_months,
            )),
            None => self.period_end,
        }
    }

    /// Whether the bridge letter reaches past what the policy credits.
    pub fn bridge_capped(&self, policy: &AttestationPolicy) -> bool {
        self.bridge_through
            .is_some_and(|b| b > months_or_max(self.period_end, policy.soc2_bridge_max_months))
    }

    /// The validity on `on`: current from the report date (`issued`) until its coverage end
    /// plus the policy's currency (default 12 months, the market convention of primer §6.2,
    /// §6.4). An adverse opinion or a disclaimer is never relied on.
    pub fn state_on(
        &self,
        issued: NaiveDate,
        policy: &AttestationPolicy,
        on: NaiveDate,
    ) -> AttestationState {
        if matches!(self.opinion, Some(Opinion::Adverse | Opinion::Disclaimer)) {
            return AttestationState {
                status: AttestationStatus::Unacceptable,
                valid_until: None,
            };
        }
        let until = months_or_max(self.coverage_end(policy), policy.soc2_current_months);
        dated(issued, until, on)
    }
}

fn dated(from: NaiveDate, until: NaiveDate, on: NaiveDate) -> AttestationState {
    let status = if on < from {
        AttestationStatus::Pending
    } else if on > until {
        AttestationStatus::Expired
    } else {
        AttestationStatus::Valid
    };
    AttestationState {
        status,
        valid_until: Some(until),
    }
}

text_enum!(
    /// HITRUST CSF assessment types.
    HitrustKind {
        /// Risk-based, 2-year.
        R2 = "r2",
        /// Implemented, 1-year.
        I1 = "i1",
        /// Essentials, 1-year.
        E1 = "e1",
    }
);

/// The r2 interim assessment window is the 90 days before the first anniversary (primer §6.3).
pub const HITRUST_INTERIM_WINDOW_DAYS: u64 = 90;
/// A bridge assessment keeps r2 status for 90 days after the expiry (primer §6.3).
pub const HITRUST_BRIDGE_DAYS: u64 = 90;

/// A HITRUST certification as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hitrust {
    pub kind: HitrustKind,
    /// The certification date.
    pub certified_on: NaiveDate,
    /// r2: when the interim assessment was submitted.
    pub interim_submitted: Option<NaiveDate>,
    /// r2: when a bridge assessment was completed.
    pub bridge_on: Option<NaiveDate>,
    /// Revoked by HITRUST (after a security incident, primer §6.3).
    pub revoked_on: Option<NaiveDate>,
}

/// The r2 interim window: (opens, closes), both inclusive, 90 days long. It closes on the first
/// anniversary of the certification date (the interim is due "by" it, primer §6.4) and opens 89
/// days before.
pub fn hitrust_interim_window(certified_on: NaiveDate) -> (NaiveDate, NaiveDate) {
    let anniversary = months_or_max(certified_on, 12);
    (
        days_back(anniversary, HITRUST_INTERIM_WINDOW_DAYS - 1),
        anniversary,
    )
}

impl Hitrust {
    /// Checks the record: interim and bridge only for r2; nothing dated before certification.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.kind != HitrustKind::R2
            && (self.interim_submitted.is_some() || self.bridge_on.is_some())
        {
            return Err(bad(
                "interimSubmittedOn",
                "interim and bridge assessments apply to r2 certifications only",
            ));
        }
        for (field, d) in [
            ("interimSubmittedOn", self.interim_submitted),
            ("hitrustBridgeOn", self.bridge_on),
            ("withdrawnOn", self.revoked_on),
        ] {
            if let Some(d) = d
                && d < self.certified_on
            {
                return Err(bad(field, "cannot precede the certification date"));
            }
        }
        if let Some(b) = self.bridge_on
            && b > self.printed_expiry()
        {
            return Err(bad(
                "hitrustBridgeOn",
                "a bridge assessment is completed by the certification's expiry",
            ));
        }
        Ok(())
    }

    /// The expiry printed on the letter: 2 years after certification for r2, 1 year for i1
    /// and e1 (primer §6.3).
    pub fn printed_expiry(&self) -> NaiveDate {
        let months = if self.kind == HitrustKind::R2 { 24 } else { 12 };
        months_or_max(self.certified_on, months)
    }

    /// Whether the r2 interim was submitted inside its window.
    pub fn interim_in_window(&self) -> bool {
        let (opens, closes) = hitrust_interim_window(self.certified_on);
        self.interim_submitted
            .is_some_and(|d| opens <= d && d <= closes)
    }

    /// The last valid day: for r2, the first anniversary unless the interim was submitted in
    /// its window, then the 2-year expiry (plus 90 days with a bridge assessment); for i1 and
    /// e1 the 1-year expiry.
    pub fn valid_until(&self) -> NaiveDate {
        match self.kind {
            HitrustKind::R2 => {
                if !self.interim_in_window() {
                    return hitrust_interim_window(self.certified_on).1;
                }
                let expiry = self.printed_expiry();
                if self.bridge_on.is_some() {
                    days_or_max(expiry, HITRUST_BRIDGE_DAYS)
                } else {
                    expiry
                }
            }
            HitrustKind::I1 | HitrustKind::E1 => self.printed_expiry(),
        }
    }

    /// The validity on `on`. Before the first anniversary an r2 is valid on the condition that
    /// the interim follows, so `valid_until` shows the anniversary until it is submitted.
    pub fn state_on(&self, on: NaiveDate) -> AttestationState {
        if let Some(r) = self.revoked_on
            && r <= on
        {
            return AttestationState {
                status: AttestationStatus::Withdrawn,
                valid_until: r.pred_opt(),
            };
        }
        dated(self.certified_on, self.valid_until(), on)
    }
}

/// A penetration test, questionnaire or other dated report: valid `months` after its date.
pub fn dated_report_state(dated_on: NaiveDate, months: u32, on: NaiveDate) -> AttestationState {
    dated(dated_on, months_or_max(dated_on, months), on)
}

/// An observed ISO certificate's state as an attestation.
pub fn certificate_attestation_state(cert: &Certificate, on: NaiveDate) -> AttestationState {
    let s = cert.status_on(on);
    let status = match s.status {
        CertificateStatus::Pending => AttestationStatus::Pending,
        CertificateStatus::Active => AttestationStatus::Valid,
        CertificateStatus::Suspended => AttestationStatus::Suspended,
        CertificateStatus::Expired => AttestationStatus::Expired,
        CertificateStatus::Withdrawn => AttestationStatus::Withdrawn,
    };
    AttestationState {
        status,
        valid_until: s.valid_until,
    }
}

// ---------------------------------------------------------------------------------------------
// Accreditation

/// An accreditation body that signed the IAF MLA for ISMS certification (primer §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccreditationBody {
    /// Its usual acronym, e.g. "UKAS".
    pub code: &'static str,
    pub name: &'static str,
    /// The economies it serves.
    pub country: &'static str,
}

/// The IAF MLA signatories for ISMS certification the product recognizes (primer §6.1). A
/// certificate from a body not accredited by one of them is accepted but flagged.
pub const ACCREDITATION_BODIES: &[AccreditationBody] = &[
    AccreditationBody {
        code: "ANAB",
        name: "ANSI National Accreditation Board",
        country: "US",
    },
    AccreditationBody {
        code: "IAS",
        name: "International Accreditation Service",
        country: "US",
    },
    AccreditationBody {
        code: "UKAS",
        name: "United Kingdom Accreditation Service",
        country: "GB",
    },
    AccreditationBody {
        code: "DAkkS",
        name: "Deutsche Akkreditierungsstelle",
        country: "DE",
    },
    AccreditationBody {
        code: "COFRAC",
        name: "Comité français d'accréditation",
        country: "FR",
    },
    AccreditationBody {
        code: "ACCREDIA",
        name: "ACCREDIA",
        country: "IT",
    },
    AccreditationBody {
        code: "ENAC",
        name: "Entidad Nacional de Acreditación",
        country: "ES",
    },
    AccreditationBody {
        code: "RvA",
        name: "Raad voor Accreditatie",
        country: "NL",
    },
    AccreditationBody {
        code: "SCC",
        name: "Standards Council of Canada",
        country: "CA",
    },
    AccreditationBody {
        code: "JAS-ANZ",
        name: "Joint Accreditation System of Australia and New Zealand",
        country: "AU/NZ",
    },
    AccreditationBody {
        code: "JAB",
        name: "Japan Accreditation Board",
        country: "JP",
    },
    AccreditationBody {
        code: "ISMS-AC",
        name: "Information Management System Promotion Center",
        country: "JP",
    },
    AccreditationBody {
        code: "CNAS",
        name: "China National Accreditation Service for Conformity Assessment",
        country: "CN",
    },
    AccreditationBody {
        code: "NABCB",
        name: "National Accreditation Board for Certification Bodies",
        country: "IN",
    },
    AccreditationBody {
        code: "SAC",
        name: "Singapore Accreditation Council",
        country: "SG",
    },
    AccreditationBody {
        code: "HKAS",
        name: "Hong Kong Accreditation Service",
        country: "HK",
    },
];

/// The recognized accreditation body named `code` (its acronym, any case, surrounding spaces
/// ignored).
pub fn accreditation_body(code: &str) -> Option<&'static AccreditationBody> {
    let code = code.trim();
    ACCREDITATION_BODIES
        .iter()
        .find(|b| b.code.eq_ignore_ascii_case(code))
}

// ---------------------------------------------------------------------------------------------
// One attestation record, whatever its kind

/// An attestation as recorded: the fields of every kind, each used only by the kinds it
/// belongs to (see [`AttestationFacts::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestationFacts {
    pub kind: AttestationKind,
    /// The certification decision (ISO), report date (SOC 2), certification date (HITRUST),
    /// test date (penetration test) or completion date (questionnaire).
    pub issued_on: NaiveDate,
    /// ISO: the printed expiry.
    pub expires_on: Option<NaiveDate>,
    /// ISO: the edition (27001: 2013 or 2022, 27701: 2019 or 2025; default the newest).
    pub edition: Option<Edition>,
    /// SOC 2 Type II: the period's first day.
    pub period_start: Option<NaiveDate>,
    /// SOC 2: the period's last day (Type II) or the as-of date (Type I).
    pub period_end: Option<NaiveDate>,
    pub opinion: Option<Opinion>,
    /// SOC 2: the last day a bridge letter covers.
    pub bridge_through: Option<NaiveDate>,
    /// HITRUST r2.
    pub interim_submitted_on: Option<NaiveDate>,
    /// HITRUST r2.
    pub hitrust_bridge_on: Option<NaiveDate>,
    /// ISO: suspended by the certification body.
    pub suspended_on: Option<NaiveDate>,
    /// ISO: withdrawn; HITRUST: revoked.
    pub withdrawn_on: Option<NaiveDate>,
}

impl AttestationFacts {
    fn iso_standard(&self) -> Option<Standard> {
        match self.kind {
            AttestationKind::Iso27001 => Some(Standard::Iso27001),
            AttestationKind::Iso27701 => Some(Standard::Iso27701),
            _ => None,
        }
    }

    /// The ISO edition, the newest when none is recorded.
    pub fn iso_edition(&self) -> Option<Edition> {
        match self.iso_standard()? {
            Standard::Iso27001 => Some(self.edition.unwrap_or(Edition::E2022)),
            Standard::Iso27701 => Some(self.edition.unwrap_or(Edition::E2025)),
        }
    }

    /// The HITRUST certification this record describes (HITRUST kinds only).
    pub fn hitrust(&self) -> Option<Hitrust> {
        let kind = match self.kind {
            AttestationKind::HitrustR2 => HitrustKind::R2,
            AttestationKind::HitrustI1 => HitrustKind::I1,
            AttestationKind::HitrustE1 => HitrustKind::E1,
            _ => return None,
        };
        Some(Hitrust {
            kind,
            certified_on: self.issued_on,
            interim_submitted: self.interim_submitted_on,
            bridge_on: self.hitrust_bridge_on,
            revoked_on: self.withdrawn_on,
        })
    }

    /// The SOC 2 report this record describes (SOC 2 kinds with a period end only).
    pub fn soc2_report(&self) -> Option<Soc2Report> {
        let start = match self.kind {
            AttestationKind::Soc2Type1 => None,
            AttestationKind::Soc2Type2 => self.period_start,
            _ => return None,
        };
        Some(Soc2Report {
            period_start: start,
            period_end: self.period_end?,
            opinion: self.opinion,
            bridge_through: self.bridge_through,
        })
    }

    /// Checks the record against its kind's rules; fields of other kinds are refused.
    pub fn validate(&self) -> Result<(), DomainError> {
        use AttestationKind as K;
        let k = self.kind;
        let iso = matches!(k, K::Iso27001 | K::Iso27701);
        let soc2 = matches!(k, K::Soc2Type1 | K::Soc2Type2);
        let r2 = k == K::HitrustR2;
        let hitrust = matches!(k, K::HitrustR2 | K::HitrustI1 | K::HitrustE1);
        let foreign = |field: &str, set: bool, allowed: bool| {
            if set && !allowed {
                Err(bad(field, format!("does not apply to a {k} attestation")))
            } else {
                Ok(())
            }
        };
        foreign("expiresOn", self.expires_on.is_some(), iso)?;
        foreign("edition", self.edition.is_some(), iso)?;
        foreign("suspendedOn", self.suspended_on.is_some(), iso)?;
        foreign("withdrawnOn", self.withdrawn_on.is_some(), iso || hitrust)?;
        foreign(
            "periodStart",
            self.period_start.is_some(),
            k == K::Soc2Type2,
        )?;
        foreign("periodEnd", self.period_end.is_some(), soc2)?;
        foreign("opinion", self.opinion.is_some(), soc2)?;
        foreign("bridgeThrough", self.bridge_through.is_some(), soc2)?;
        foreign(
            "interimSubmittedOn",
            self.interim_submitted_on.is_some(),
            r2,
        )?;
        foreign("hitrustBridgeOn", self.hitrust_bridge_on.is_some(), r2)?;
        if let Some(standard) = self.iso_standard() {
            let Some(expires) = self.expires_on else {
                return Err(bad("expiresOn", "an ISO certificate prints its expiry"));
            };
            let edition = self.iso_edition().unwrap_or(Edition::E2022);
            if !standard.has_edition(edition) {
                return Err(bad(
                    "edition",
                    format!("{edition} is not an edition of {standard}"),
                ));
            }
            if let Some(s) = self.suspended_on
                && let Some(w) = self.withdrawn_on
                && w < s
            {
                return Err(bad(
                    "suspendedOn",
                    "a withdrawn certificate is not suspended",
                ));
            }
            for (field, date) in [
                ("suspendedOn", self.suspended_on),
                ("withdrawnOn", self.withdrawn_on),
            ] {
                if let Some(x) = date
                    && (x < self.issued_on || x > expires)
                {
                    return Err(bad(
                        field,
                        "must fall between the certificate's issue and expiry",
                    ));
                }
            }
            // The issue and expiry must be a possible certificate. A cycle is at most 3 years
            // (17021-1 9.1.3.2), but a recertification keeps the previous cycle's dates
            // (9.6.3.2.3): a certificate reissued on a recertification decided before its old
            // expiry may run up to 3 years past that expiry. Product rule: such a decision is
            // taken in the last year of the old cycle, so an observed certificate expires at
            // most 4 years after its issue date.
            if expires <= self.issued_on {
                return Err(bad(
                    "expiresOn",
                    "the expiry must come after the issue date",
                ));
            }
            let limit = months_or_max(self.issued_on, OBSERVED_MAX_MONTHS);
            if expires > limit {
                return Err(bad(
                    "expiresOn",
                    format!(
                        "a certificate expires at most 3 years after its certification decision \
                         (4 after a recertification that kept the previous cycle's dates): \
                         {limit} at the latest (ISO/IEC 17021-1 9.1.3.2, 9.6.3.2.3)"
                    ),
                ));
            }
        }
        if soc2 {
            let Some(r) = self.soc2_report() else {
                return Err(bad(
                    "periodEnd",
                    "a SOC 2 report has a period end (Type II) or an as-of date (Type I)",
                ));
            };
            if k == K::Soc2Type2 && r.period_start.is_none() {
                return Err(bad("periodStart", "a SOC 2 Type II report covers a period"));
            }
            r.validate()?;
            if self.issued_on < r.period_end {
                return Err(bad(
                    "issuedOn",
                    "a SOC 2 report is dated on or after its period end",
                ));
            }
        }
        if let Some(h) = self.hitrust() {
            h.validate()?;
        }
        Ok(())
    }

    /// The validity on `on` under `policy`. Expects a record that passed [`Self::validate`];
    /// anything else is reported as unacceptable rather than guessed at.
    pub fn state_on(&self, policy: &AttestationPolicy, on: NaiveDate) -> AttestationState {
        use AttestationKind as K;
        match self.kind {
            K::Iso27001 | K::Iso27701 => {
                let (Some(standard), Some(edition), Some(expires)) =
                    (self.iso_standard(), self.iso_edition(), self.expires_on)
                else {
                    return unacceptable();
                };
                observed_iso_state(
                    standard,
                    edition,
                    self.issued_on,
                    expires,
                    self.suspended_on,
                    self.withdrawn_on,
                    on,
                )
            }
            K::Soc2Type1 | K::Soc2Type2 => match self.soc2_report() {
                Some(r) => r.state_on(self.issued_on, policy, on),
                None => unacceptable(),
            },
            K::HitrustR2 | K::HitrustI1 | K::HitrustE1 => match self.hitrust() {
                Some(h) => h.state_on(on),
                None => unacceptable(),
            },
            K::PenTest => dated_report_state(self.issued_on, policy.pen_test_months, on),
            K::Questionnaire => dated_report_state(self.issued_on, policy.questionnaire_months, on),
        }
    }
}

fn unacceptable() -> AttestationState {
    AttestationState {
        status: AttestationStatus::Unacceptable,
        valid_until: None,
    }
}

/// An observed ISO certificate's state on `on`, without building its history: the same
/// answer as [`certificate_attestation_state`] of [`Certificate::observed`] (a property test
/// checks it), at a fraction of the cost, for registers of thousands of vendors.
pub fn observed_iso_state(
    standard: Standard,
    edition: Edition,
    issued: NaiveDate,
    expires: NaiveDate,
    suspended: Option<NaiveDate>,
    withdrawn: Option<NaiveDate>,
    on: NaiveDate,
) -> AttestationState {
    let until = if standard == Standard::Iso27001 && edition == Edition::E2013 {
        expires.min(ISO27001_2013_LAST_VALID_DAY)
    } else {
        expires
    };
    let status = if on < issued {
        AttestationStatus::Pending
    } else if withdrawn.is_some_and(|w| w <= on) {
        AttestationStatus::Withdrawn
    } else if on > until {
        AttestationStatus::Expired
    } else if suspended.is_some_and(|s| s <= on) {
        AttestationStatus::Suspended
    } else {
        AttestationStatus::Valid
    };
    let valid_until = match status {
        AttestationStatus::Pending => None,
        // Valid at most until the day before the withdrawal.
        AttestationStatus::Withdrawn => withdrawn.and_then(|w| w.pred_opt()).map(|p| p.min(until)),
        _ => Some(until),
    };
    AttestationState {
        status,
        valid_until,
    }
}
