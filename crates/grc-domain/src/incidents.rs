//! Incidents and HIPAA breach notification: the incident lifecycle, the breach risk assessment,
//! the notification clocks, business-associate notices, and the HHS report and annual-log rows.
//!
//! The rules are 45 CFR 164.400–414 (the Breach Notification Rule, primer §5.1). Everything here
//! is pure: callers pass `today` (a calendar date in the entity's own time zone) and the recorded
//! facts; nothing reads a clock, a file or a database.
//!
//! Days are calendar days (164.404(b): "60 calendar days after discovery of a breach"). A
//! deadline "N days after" a date is that date plus N days; a notice sent on the deadline day is
//! on time. Instants (a discovery at 23:30 local time, say) are turned into dates by the caller,
//! in the entity's time zone, before they reach these rules.
//!
//! Every rule failure is an [`IncidentError`] with a stable [`IncidentError::code`] and the input
//! field at fault ([`IncidentError::field`]); it converts into [`DomainError`] for the API's
//! `userErrors`.

use crate::DomainError;
use crate::isms::text_enum;
use crate::vendors::{Baa, MAX_BREACH_NOTICE_DAYS, check_breach_notice_days};
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Constants of the rule

/// Individuals, the media, HHS (large breaches) and a business associate's notice to its covered
/// entity are all due no later than 60 calendar days after discovery (164.404(b), 164.406(b),
/// 164.408(b), 164.410(b)); the annual log is due 60 days after the end of the calendar year
/// (164.408(c)).
pub const NOTICE_DAYS: u32 = 60;

/// HHS is notified contemporaneously with the individuals when a breach involves 500 or more
/// residents in total (164.408(b)): the threshold is inclusive.
pub const HHS_IMMEDIATE_THRESHOLD: u64 = 500;

/// The media of a State or jurisdiction are notified when a breach involves **more than** 500 of
/// its residents (164.406(a)): a count must exceed this number.
pub const MEDIA_THRESHOLD: u64 = 500;

/// An oral law-enforcement statement delays notice no longer than 30 days from the date of the
/// statement, unless a written statement is submitted during that time (164.412(b)).
pub const ORAL_DELAY_MAX_DAYS: u32 = 30;

/// The largest count of affected individuals accepted: above the population of the United
/// States (about 340 million), so any larger figure is a typing error.
pub const MAX_AFFECTED: u64 = 400_000_000;

/// The longest free text accepted in a rationale or description, in characters.
pub const MAX_TEXT: usize = 20_000;

/// Default reminder lead times for breach deadlines, in days before the deadline (issue 8, item
/// 5): the reminders policy may override them.
pub const DEFAULT_REMINDER_LEAD_DAYS: [u32; 5] = [30, 14, 7, 3, 1];

// ---------------------------------------------------------------------------------------------
// Errors

/// A breach-notification rule that the input broke. Each variant has a stable
/// [`code`](Self::code) (kebab-case, never renamed) and names the input [`field`](Self::field)
/// at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// The discovery date is after today: a breach cannot be discovered in the future.
    #[error("the discovery date {discovered_on} is after today ({today})")]
    DiscoveryInFuture {
        discovered_on: NaiveDate,
        today: NaiveDate,
    },
    /// The incident is said to have begun after it was discovered.
    #[error("the incident cannot begin ({occurred_on}) after its discovery ({discovered_on})")]
    OccurrenceAfterDiscovery {
        occurred_on: NaiveDate,
        discovered_on: NaiveDate,
    },
    /// The incident's period ends before it begins.
    #[error("the incident's period ends ({until}) before it begins ({from})")]
    OccurrenceEndsBeforeStart { from: NaiveDate, until: NaiveDate },
    /// A notification is dated before the discovery of the breach it notifies.
    #[error(
        "a notification to {recipient} dated {sent_on} cannot precede the discovery ({discovered_on})"
    )]
    NotificationBeforeDiscovery {
        recipient: Recipient,
        sent_on: NaiveDate,
        discovered_on: NaiveDate,
    },
    /// A notification is recorded as sent on a date after today.
    #[error("a notification to {recipient} dated {sent_on} is after today ({today})")]
    NotificationInFuture {
        recipient: Recipient,
        sent_on: NaiveDate,
        today: NaiveDate,
    },
    /// A notification method that the rule does not allow for the recipient.
    #[error("{method} is not a way to notify {recipient}")]
    MethodNotAllowed {
        recipient: Recipient,
        method: NotificationMethod,
    },
    /// A media notice names no State or jurisdiction, or another notice names one.
    #[error("a notice to the media names its State or jurisdiction; other notices name none")]
    JurisdictionMismatch { recipient: Recipient },
    /// A "not a breach (low probability of compromise)" decision without all four factors of
    /// 164.402(2).
    #[error(
        "a low-probability decision needs all four factors of 45 CFR 164.402(2); missing: {}",
        list(missing)
    )]
    FactorsMissing { missing: Vec<RiskFactor> },
    /// A factor assessed twice.
    #[error("the factor {factor} is assessed twice")]
    FactorRepeated { factor: RiskFactor },
    /// A factor without its rationale.
    #[error("the factor {factor} needs a rationale")]
    FactorRationaleMissing { factor: RiskFactor },
    /// A decision that needs a rationale (low probability, an exception, secured PHI) has none.
    #[error("the decision {decision} needs a rationale (45 CFR 164.414: the burden of proof)")]
    DecisionRationaleMissing { decision: DecisionKind },
    /// A text longer than [`MAX_TEXT`].
    #[error("{field} is longer than {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    /// A breach decision on PHI secured per the HHS guidance: by definition it is not a breach
    /// of unsecured PHI.
    #[error(
        "PHI secured by {security} is not unsecured PHI (45 CFR 164.402): it cannot be a breach"
    )]
    SecuredPhiDecidedBreach { security: PhiSecurity },
    /// A "secured PHI" decision on PHI recorded as unsecured.
    #[error("the PHI was unsecured: the encryption/destruction safe harbour does not apply")]
    SafeHarbourNotMet,
    /// The decision is dated after today.
    #[error("the decision date {decided_on} is after today ({today})")]
    DecisionInFuture {
        decided_on: NaiveDate,
        today: NaiveDate,
    },
    /// The decision is dated before the discovery.
    #[error("the decision date {decided_on} precedes the discovery ({discovered_on})")]
    DecisionBeforeDiscovery {
        decided_on: NaiveDate,
        discovered_on: NaiveDate,
    },
    /// A count that is negative or above [`MAX_AFFECTED`].
    #[error("{field} must be between 0 and {MAX_AFFECTED}, not {value}")]
    CountOutOfRange { field: String, value: i64 },
    /// The total count of affected individuals is below the sum of the per-jurisdiction counts.
    #[error("the total ({total}) is below the sum of the per-State counts ({state_sum})")]
    CountBelowStateSum { total: u64, state_sum: u64 },
    /// A State or jurisdiction code that is not a USPS code of a State (164.406 and the
    /// definition of "State" in 160.103) nor `unknown`.
    #[error("{code:?} is not a USPS code of a State, DC or a territory, nor \"unknown\"")]
    UnknownJurisdiction { code: String },
    /// A jurisdiction listed twice in the per-State counts.
    #[error("{jurisdiction} is listed twice")]
    JurisdictionRepeated { jurisdiction: Jurisdiction },
    /// A status change the lifecycle does not allow.
    #[error("an incident cannot go from {from} to {to}")]
    InvalidTransition {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    /// A status change to the current status.
    #[error("the incident is already {status}")]
    NoChange { status: IncidentStatus },
    /// Closing an incident that involves PHI before its breach decision is recorded.
    #[error(
        "an incident involving PHI closes only with its breach decision recorded (45 CFR 164.414)"
    )]
    ClosedWithoutDecision,
    /// A law-enforcement delay whose last day is not after the statement's date.
    #[error("the delay must end after the statement ({stated_on}), not on {ends_on}")]
    DelayPeriodInvalid {
        stated_on: NaiveDate,
        ends_on: NaiveDate,
    },
    /// A written law-enforcement statement that specifies no period (164.412(a)).
    #[error("a written statement specifies the time for which the delay is required")]
    WrittenDelayWithoutPeriod,
    /// A law-enforcement statement dated after today.
    #[error("the statement date {stated_on} is after today ({today})")]
    StatementInFuture {
        stated_on: NaiveDate,
        today: NaiveDate,
    },
    /// A BAA's breach-notice window out of 1–60 days (164.410(b), vendors module).
    #[error("a BAA's breach-notice window is 1 to 60 days, not {days}")]
    BaaWindowOutOfRange { days: i32 },
    /// A date computation that leaves chrono's calendar (dates near year 262,000).
    #[error("{field} is out of the calendar's range")]
    DateOutOfRange { field: &'static str },
    /// An HHS report field that contradicts another or is missing.
    #[error("{field}: {reason}")]
    ReportInvalid {
        field: &'static str,
        reason: &'static str,
    },
}

fn list(factors: &[RiskFactor]) -> String {
    factors
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl IncidentError {
    /// The stable code of the error, for clients to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::DiscoveryInFuture { .. } => "discovery-in-future",
            Self::OccurrenceAfterDiscovery { .. } => "occurrence-after-discovery",
            Self::OccurrenceEndsBeforeStart { .. } => "occurrence-ends-before-start",
            Self::NotificationBeforeDiscovery { .. } => "notification-before-discovery",
            Self::NotificationInFuture { .. } => "notification-in-future",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::JurisdictionMismatch { .. } => "jurisdiction-mismatch",
            Self::FactorsMissing { .. } => "factors-missing",
            Self::FactorRepeated { .. } => "factor-repeated",
            Self::FactorRationaleMissing { .. } => "factor-rationale-missing",
            Self::DecisionRationaleMissing { .. } => "decision-rationale-missing",
            Self::TextTooLong { .. } => "text-too-long",
            Self::SecuredPhiDecidedBreach { .. } => "secured-phi-decided-breach",
            Self::SafeHarbourNotMet => "safe-harbour-not-met",
            Self::DecisionInFuture { .. } => "decision-in-future",
            Self::DecisionBeforeDiscovery { .. } => "decision-before-discovery",
            Self::CountOutOfRange { .. } => "count-out-of-range",
            Self::CountBelowStateSum { .. } => "count-below-state-sum",
            Self::UnknownJurisdiction { .. } => "unknown-jurisdiction",
            Self::JurisdictionRepeated { .. } => "jurisdiction-repeated",
            Self::InvalidTransition { .. } => "invalid-transition",
            Self::NoChange { .. } => "no-change",
            Self::ClosedWithoutDecision => "closed-without-decision",
            Self::DelayPeriodInvalid { .. } => "delay-period-invalid",
            Self::WrittenDelayWithoutPeriod => "written-delay-without-period",
            Self::StatementInFuture { .. } => "statement-in-future",
            Self::BaaWindowOutOfRange { .. } => "baa-window-out-of-range",
            Self::DateOutOfRange { .. } => "date-out-of-range",
            Self::ReportInvalid { .. } => "report-invalid",
        }
    }

    /// The input field at fault (camelCase, dotted), as the API names it.
    pub fn field(&self) -> String {
        match self {
            Self::DiscoveryInFuture { .. } => "discoveredOn".into(),
            Self::OccurrenceAfterDiscovery { .. } => "occurredFrom".into(),
            Self::OccurrenceEndsBeforeStart { .. } => "occurredUntil".into(),
            Self::NotificationBeforeDiscovery { .. } | Self::NotificationInFuture { .. } => {
                "sentOn".into()
            }
            Self::MethodNotAllowed { .. } => "method".into(),
            Self::JurisdictionMismatch { .. } => "jurisdiction".into(),
            Self::FactorsMissing { .. } | Self::FactorRepeated { .. } => "factors".into(),
            Self::FactorRationaleMissing { factor } => format!("factors.{factor}.rationale"),
            Self::DecisionRationaleMissing { .. } => "rationale".into(),
            Self::TextTooLong { field, .. } => (*field).into(),
            Self::SecuredPhiDecidedBreach { .. } | Self::SafeHarbourNotMet => "decision".into(),
            Self::DecisionInFuture { .. } | Self::DecisionBeforeDiscovery { .. } => {
                "decidedOn".into()
            }
            Self::CountOutOfRange { field, .. } => field.clone(),
            Self::CountBelowStateSum { .. } => "affected.total".into(),
            Self::UnknownJurisdiction { .. } | Self::JurisdictionRepeated { .. } => {
                "affected.byJurisdiction".into()
            }
            Self::InvalidTransition { .. }
            | Self::NoChange { .. }
            | Self::ClosedWithoutDecision => "status".into(),
            Self::DelayPeriodInvalid { .. } | Self::WrittenDelayWithoutPeriod => "endsOn".into(),
            Self::StatementInFuture { .. } => "statedOn".into(),
            Self::BaaWindowOutOfRange { .. } => "breachNoticeDays".into(),
            Self::DateOutOfRange { field } | Self::ReportInvalid { field, .. } => (*field).into(),
        }
    }
}

impl From<IncidentError> for DomainError {
    /// Lifecycle errors are conflicts with the incident's state; all others are invalid input.
    /// The message carries the rule; the stable code stays on [`IncidentError::code`].
    fn from(e: IncidentError) -> Self {
        let field = e.field();
        match e {
            IncidentError::InvalidTransition { .. }
            | IncidentError::NoChange { .. }
            | IncidentError::ClosedWithoutDecision => DomainError::conflict(&field, e.to_string()),
            _ => DomainError::invalid(&field, e.to_string()),
        }
    }
}

fn add_days(d: NaiveDate, n: u64, field: &'static str) -> Result<NaiveDate, IncidentError> {
    d.checked_add_days(Days::new(n))
        .ok_or(IncidentError::DateOutOfRange { field })
}

/// Days from `a` to `b` (negative when `b` is earlier).
fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    b.signed_duration_since(a).num_days()
}

fn check_text(field: &'static str, text: &str) -> Result<(), IncidentError> {
    if text.chars().count() > MAX_TEXT {
        return Err(IncidentError::TextTooLong {
            field,
            max: MAX_TEXT,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Incident lifecycle

text_enum!(
    /// Where an incident stands in its handling (ISO/IEC 27001 A.5.24–A.5.28; HIPAA
    /// 164.308(a)(6)(ii): identify, respond, mitigate, document).
    ///
    /// The statuses follow each other in this order. An incident moves **forward** only, and may
    /// skip steps that do not apply (a misdirected letter has nothing to eradicate: triage →
    /// contained → closed). The only move back is a **reopening**: a closed incident returns to
    /// triage (new facts, more records found). An open incident never moves back; a recurrence
    /// is recorded in its timeline and handled forward.
    IncidentStatus {
        /// Reported and being triaged: the initial status.
        Triage = "triage",
        /// The harm is stopped from spreading.
        Contained = "contained",
        /// The cause is removed.
        Eradicated = "eradicated",
        /// Systems and data are back to normal operation.
        Recovered = "recovered",
        /// Handling is complete; lessons learned recorded.
        Closed = "closed",
    }
);

impl IncidentStatus {
    fn rank(self) -> u8 {
        match self {
            Self::Triage => 0,
            Self::Contained => 1,
            Self::Eradicated => 2,
            Self::Recovered => 3,
            Self::Closed => 4,
        }
    }

    /// Every status but closed.
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

text_enum!(
    /// The tenant's triage rating of an incident. No regulation sets it; it orders the register
    /// and chooses who is told. Whether an incident is a *breach* is decided separately, by the
    /// breach risk assessment.
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
);

text_enum!(
    /// What kind of status change a transition is.
    TransitionKind {
        /// A move forward (possibly skipping steps).
        Advance = "advance",
        /// A closed incident back to triage.
        Reopen = "reopen",
    }
);

/// Checks a status change. Forward moves are allowed, skipping steps included; a closed
/// incident may only reopen to triage; nothing else moves back. Closing an incident that
/// involves PHI needs its breach decision on record (`phi_decision_pending` = true blocks it):
/// the entity bears the burden of showing that notices were made or that there was no breach
/// (164.414(b)), and an open question cannot be closed over.
pub fn check_transition(
    from: IncidentStatus,
    to: IncidentStatus,
    phi_decision_pending: bool,
) -> Result<TransitionKind, IncidentError> {
    if from == to {
        return Err(IncidentError::NoChange { status: from });
    }
    if from == IncidentStatus::Closed {
        return if to == IncidentStatus::Triage {
            Ok(TransitionKind::Reopen)
        } else {
            Err(IncidentError::InvalidTransition { from, to })
        };
    }
    if to.rank() < from.rank() {
        return Err(IncidentError::InvalidTransition { from, to });
    }
    if to == IncidentStatus::Closed && phi_decision_pending {
        return Err(IncidentError::ClosedWithoutDecision);
    }
    Ok(TransitionKind::Advance)
}

/// Checks an incident's dates: discovered no later than `today`, and not begun after its
/// discovery; an occurrence period, when both ends are known, does not end before it begins.
/// (An incident may go on after its discovery: only its start is bounded by it.)
pub fn check_incident_dates(
    discovered_on: NaiveDate,
    occurred_from: Option<NaiveDate>,
    occurred_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), IncidentError> {
    if discovered_on > today {
        return Err(IncidentError::DiscoveryInFuture {
            discovered_on,
            today,
        });
    }
    if let Some(o) = occurred_from
        && o > discovered_on
    {
        return Err(IncidentError::OccurrenceAfterDiscovery {
            occurred_on: o,
            discovered_on,
        });
    }
    if let (Some(from), Some(until)) = (occurred_from, occurred_until)
        && until < from
    {
        return Err(IncidentError::OccurrenceEndsBeforeStart { from, until });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Breach risk assessment (164.402)

text_enum!(
    /// The four factors of the risk assessment of 164.402(2): an entity that claims a low
    /// probability that the PHI was compromised must have weighed at least these.
    RiskFactor {
        /// (2)(i) The nature and extent of the PHI, including the types of identifiers and the
        /// likelihood of re-identification.
        NatureAndExtent = "nature-and-extent",
        /// (2)(ii) The unauthorized person who used the PHI or to whom it was disclosed.
        UnauthorizedPerson = "unauthorized-person",
        /// (2)(iii) Whether the PHI was actually acquired or viewed.
        AcquiredOrViewed = "acquired-or-viewed",
        /// (2)(iv) The extent to which the risk to the PHI has been mitigated.
        Mitigation = "mitigation",
    }
);

text_enum!(
    /// How far one factor points to a compromise of the PHI.
    FactorLevel {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
);

/// One factor weighed, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactorAssessment {
    pub factor: RiskFactor,
    pub level: FactorLevel,
    pub rationale: String,
}

text_enum!(
    /// The three exceptions of 164.402(1): uses and disclosures that are not a breach at all.
    BreachException {
        /// (1)(i) Unintentional acquisition, access or use by a workforce member or person
        /// acting under the authority of the entity, in good faith, within the scope of
        /// authority, and not further used or disclosed impermissibly.
        UnintentionalWorkforceAccess = "unintentional-workforce-access",
        /// (1)(ii) Inadvertent disclosure by a person authorized to access PHI to another
        /// person authorized at the same entity, business associate or organized health care
        /// arrangement, not further used or disclosed impermissibly.
        InadvertentAuthorizedDisclosure = "inadvertent-authorized-disclosure",
        /// (1)(iii) A disclosure where the entity has a good-faith belief that the recipient
        /// would not reasonably have been able to retain the information.
        UnableToRetain = "unable-to-retain",
    }
);

text_enum!(
    /// Whether the PHI involved was "unsecured" (164.402): not rendered unusable, unreadable or
    /// indecipherable to unauthorized persons by a technology or method in the Secretary's
    /// guidance (74 FR 19006, 27 April 2009, updated 74 FR 42740). Secured PHI is outside the
    /// Breach Notification Rule by definition: its loss is never a breach of unsecured PHI.
    PhiSecurity {
        /// Neither encrypted per the guidance nor destroyed.
        Unsecured = "unsecured",
        /// Encrypted consistently with the guidance (NIST SP 800-111 at rest; FIPS 140
        /// validated modules in transit), and the decryption key or process was not breached
        /// (a compromised key makes the PHI unsecured: record `unsecured`).
        Encrypted = "encrypted",
        /// The media were destroyed per the guidance (paper shredded or destroyed so it cannot
        /// be reconstructed; electronic media cleared, purged or destroyed per NIST SP 800-88).
        Destroyed = "destroyed",
    }
);

impl PhiSecurity {
    /// Within the safe harbour (encrypted or destroyed per the guidance).
    pub fn is_secured(self) -> bool {
        self != Self::Unsecured
    }
}

/// The decision recorded at the end of the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum BreachDecision {
    /// A breach of unsecured PHI: notices are due. The entity may decide this without weighing
    /// the factors (the 2013 Omnibus Rule preamble, 78 FR 5566: an entity may notify without
    /// performing a risk assessment), so no factors are required; any that are given are
    /// checked.
    Breach,
    /// Not a breach: the assessment of at least the four factors shows a low probability that
    /// the PHI was compromised (164.402(2)). All four factors and a rationale are required.
    LowProbability { rationale: String },
    /// Not a breach: one of the exceptions of 164.402(1) applies, with the reasons.
    Exception {
        exception: BreachException,
        rationale: String,
    },
    /// Not a breach: the PHI was secured per the HHS guidance (see [`PhiSecurity`]), with the
    /// reasons (which encryption, where the keys were).
    SecuredPhi { rationale: String },
}

text_enum!(
    /// The kind of a [`BreachDecision`], as stored.
    DecisionKind {
        Breach = "breach",
        LowProbability = "low-probability",
        Exception = "exception",
        SecuredPhi = "secured-phi",
    }
);

impl DecisionKind {
    /// Whether notices are due: only for a breach.
    pub fn is_breach(self) -> bool {
        self == Self::Breach
    }
}

impl BreachDecision {
    pub fn kind(&self) -> DecisionKind {
        match self {
            Self::Breach => DecisionKind::Breach,
            Self::LowProbability { .. } => DecisionKind::LowProbability,
            Self::Exception { .. } => DecisionKind::Exception,
            Self::SecuredPhi { .. } => DecisionKind::SecuredPhi,
        }
    }

    fn rationale(&self) -> Option<&str> {
        match self {
            Self::Breach => None,
            Self::LowProbability { rationale }
            | Self::Exception { rationale, .. }
            | Self::SecuredPhi { rationale } => Some(rationale),
        }
    }
}

/// A breach risk assessment as recorded: the state of the PHI, the factors weighed, the
/// decision and its date. (Who decided is the store's to record.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreachAssessment {
    pub phi_security: PhiSecurity,
    pub factors: Vec<FactorAssessment>,
    pub decision: BreachDecision,
    pub decided_on: NaiveDate,
}

/// Checks an assessment and returns its decision's kind.
///
/// - The decision is dated no earlier than the discovery and no later than `today`.
/// - Each factor appears at most once, with a rationale (not blank).
/// - A low-probability decision weighs all four factors of 164.402(2); every "not a breach"
///   decision has a rationale (164.414(b), the burden of proof).
/// - Secured PHI is not unsecured PHI: a breach decision on it is refused, and the secured-PHI
///   decision is refused when the PHI was unsecured.
pub fn check_assessment(
    a: &BreachAssessment,
    discovered_on: NaiveDate,
    today: NaiveDate,
) -> Result<DecisionKind, IncidentError> {
    if a.decided_on > today {
        return Err(IncidentError::DecisionInFuture {
            decided_on: a.decided_on,
            today,
        });
    }
    if a.decided_on < discovered_on {
        return Err(IncidentError::DecisionBeforeDiscovery {
            decided_on: a.decided_on,
            discovered_on,
        });
    }
    let mut seen = Vec::with_capacity(4);
    for f in &a.factors {
        if seen.contains(&f.factor) {
            return Err(IncidentError::FactorRepeated { factor: f.factor });
        }
        seen.push(f.factor);
        if f.rationale.trim().is_empty() {
            return Err(IncidentError::FactorRationaleMissing { factor: f.factor });
        }
        check_text("factors.rationale", &f.rationale)?;
    }
    let kind = a.decision.kind();
    if let Some(r) = a.decision.rationale() {
        if r.trim().is_empty() {
            return Err(IncidentError::DecisionRationaleMissing { decision: kind });
        }
        check_text("rationale", r)?;
    }
    match kind {
        DecisionKind::Breach if a.phi_security.is_secured() => {
            return Err(IncidentError::SecuredPhiDecidedBreach {
                security: a.phi_security,
            });
        }
        DecisionKind::SecuredPhi if !a.phi_security.is_secured() => {
            return Err(IncidentError::SafeHarbourNotMet);
        }
        DecisionKind::LowProbability => {
            let missing: Vec<RiskFactor> = RiskFactor::ALL
                .iter()
                .copied()
                .filter(|f| !seen.contains(f))
                .collect();
            if !missing.is_empty() {
                return Err(IncidentError::FactorsMissing { missing });
            }
        }
        _ => {}
    }
    Ok(kind)
}

// ---------------------------------------------------------------------------------------------
// Jurisdictions and counts

text_enum!(
    /// A State or jurisdiction whose residents are counted, by USPS code: the 50 States, the
    /// District of Columbia and the five territories that 45 CFR 160.103 counts as States
    /// (Puerto Rico, the U.S. Virgin Islands, Guam, American Samoa and the Northern Mariana
    /// Islands); plus `unknown` for individuals whose State is not known (or who live outside
    /// every State), who count toward the total but never toward a media notice.
    Jurisdiction {
        Alabama = "AL",
        Alaska = "AK",
        Arizona = "AZ",
        Arkansas = "AR",
        California = "CA",
        Colorado = "CO",
        Connecticut = "CT",
        Delaware = "DE",
        Florida = "FL",
        Georgia = "GA",
        Hawaii = "HI",
        Idaho = "ID",
        Illinois = "IL",
        Indiana = "IN",
        Iowa = "IA",
        Kansas = "KS",
        Kentucky = "KY",
        Louisiana = "LA",
        Maine = "ME",
        Maryland = "MD",
        Massachusetts = "MA",
        Michigan = "MI",
        Minnesota = "MN",
        Mississippi = "MS",
        Missouri = "MO",
        Montana = "MT",
        Nebraska = "NE",
        Nevada = "NV",
        NewHampshire = "NH",
        NewJersey = "NJ",
        NewMexico = "NM",
        NewYork = "NY",
        NorthCarolina = "NC",
        NorthDakota = "ND",
        Ohio = "OH",
        Oklahoma = "OK",
        Oregon = "OR",
        Pennsylvania = "PA",
        RhodeIsland = "RI",
        SouthCarolina = "SC",
        SouthDakota = "SD",
        Tennessee = "TN",
        Texas = "TX",
        Utah = "UT",
        Vermont = "VT",
        Virginia = "VA",
        Washington = "WA",
        WestVirginia = "WV",
        Wisconsin = "WI",
        Wyoming = "WY",
        DistrictOfColumbia = "DC",
        AmericanSamoa = "AS",
        Guam = "GU",
        NorthernMarianaIslands = "MP",
        PuertoRico = "PR",
        VirginIslands = "VI",
        /// Residents whose State or jurisdiction is not known.
        Unknown = "unknown",
    }
);

impl Jurisdiction {
    /// Parses input leniently: surrounding spaces and letter case are ignored (`" ca "` is
    /// California, `"UNKNOWN"` is unknown).
    pub fn from_input(code: &str) -> Result<Self, IncidentError> {
        let t = code.trim();
        let parsed = if t.eq_ignore_ascii_case("unknown") {
            Some(Self::Unknown)
        } else {
            Self::parse(&t.to_ascii_uppercase())
        };
        parsed.ok_or_else(|| IncidentError::UnknownJurisdiction {
            code: code.chars().take(40).collect(),
        })
    }

    /// A State whose media can be notified (every jurisdiction but `unknown`).
    pub fn is_known(self) -> bool {
        self != Self::Unknown
    }
}

/// Checks a count: 0 to [`MAX_AFFECTED`].
fn count(field: String, value: i64) -> Result<u64, IncidentError> {
    match u64::try_from(value) {
        Ok(v) if v <= MAX_AFFECTED => Ok(v),
        _ => Err(IncidentError::CountOutOfRange { field, value }),
    }
}

/// The individuals affected by a breach: the total, and the residents of each State or
/// jurisdiction where known. The total may exceed the sum of the per-State counts (the
/// difference is individuals not yet placed), never fall below it. Built only through
/// [`AffectedCounts::new`], so a value is always valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AffectedCounts {
    total: u64,
    by_jurisdiction: BTreeMap<Jurisdiction, u64>,
}

impl AffectedCounts {
    /// Checks and builds the counts: each count between 0 and [`MAX_AFFECTED`], each code a
    /// known jurisdiction (see [`Jurisdiction::from_input`]) listed once, and the total not
    /// below the sum of the per-jurisdiction counts.
    pub fn new<I, S>(total: i64, by_jurisdiction: I) -> Result<Self, IncidentError>
    where
        I: IntoIterator<Item = (S, i64)>,
        S: AsRef<str>,
    {
        let total = count("affected.total".into(), total)?;
        let mut map = BTreeMap::new();
        let mut sum = 0u64;
        for (code, n) in by_jurisdiction {
            let j = Jurisdiction::from_input(code.as_ref())?;
            let n = count(format!("affected.byJurisdiction.{j}"), n)?;
            if map.insert(j, n).is_some() {
                return Err(IncidentError::JurisdictionRepeated { jurisdiction: j });
            }
            // At most 57 distinct entries of at most 4e8 each: no overflow.
            sum += n;
        }
        if total < sum {
            return Err(IncidentError::CountBelowStateSum {
                total,
                state_sum: sum,
            });
        }
        Ok(Self {
            total,
            by_jurisdiction: map,
        })
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn by_jurisdiction(&self) -> &BTreeMap<Jurisdiction, u64> {
        &self.by_jurisdiction
    }

    /// Individuals whose State is not known: the `unknown` entry plus the part of the total
    /// not placed in any jurisdiction.
    pub fn unplaced(&self) -> u64 {
        let placed: u64 = self
            .by_jurisdiction
            .iter()
            .filter(|(j, _)| j.is_known())
            .map(|(_, n)| n)
            .sum();
        self.total.saturating_sub(placed)
    }

    /// HHS is notified with the individuals (500 or more in total, 164.408(b)); otherwise the
    /// breach goes in the annual log (164.408(c)).
    pub fn hhs_immediate(&self) -> bool {
        self.total >= HHS_IMMEDIATE_THRESHOLD
    }

    /// Whether the media of `j` must be notified: more than 500 of its residents (164.406(a)).
    pub fn media_required(&self, j: Jurisdiction) -> bool {
        j.is_known()
            && self
                .by_jurisdiction
                .get(&j)
                .is_some_and(|&n| n > MEDIA_THRESHOLD)
    }
}

// ---------------------------------------------------------------------------------------------
// Law-enforcement delay (164.412)

text_enum!(
    /// How a law-enforcement official asked for the delay.
    StatementForm {
        /// 164.412(a): in writing, specifying the time for which a delay is required; the
        /// notices are delayed for that period.
        Written = "written",
        /// 164.412(b): orally; documented with the official's identity; the notices are
        /// delayed temporarily, no longer than 30 days from the date of the statement unless a
        /// written statement is submitted during that time.
        Oral = "oral",
    }
);

/// A law-enforcement official's statement that a notice would impede a criminal investigation
/// or damage national security (164.412). It delays every notice, notification and posting of
/// the breach.
///
/// Its period is the days **after** `stated_on` through `ends_on` (the last day of the delay),
/// counted like the 60-day clock itself: a statement on day 10 ending on day 40 is a delay of
/// 30 days. A written statement's `ends_on` is required; an oral one's is what the official
/// asked for, if anything, and is capped at 30 days after the statement (164.412(b)). An oral
/// statement followed, within its period, by a written one ends on the written statement's date,
/// from which the written statement governs (longer or shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LawEnforcementDelay {
    pub form: StatementForm,
    pub stated_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Checks a statement as recorded: dated no later than `today`; a written one specifies its
/// period; the period ends after the statement's date.
pub fn check_delay(d: &LawEnforcementDelay, today: NaiveDate) -> Result<(), IncidentError> {
    if d.stated_on > today {
        return Err(IncidentError::StatementInFuture {
            stated_on: d.stated_on,
            today,
        });
    }
    match (d.form, d.ends_on) {
        (StatementForm::Written, None) => Err(IncidentError::WrittenDelayWithoutPeriod),
        (_, Some(e)) if e <= d.stated_on => Err(IncidentError::DelayPeriodInvalid {
            stated_on: d.stated_on,
            ends_on: e,
        }),
        _ => Ok(()),
    }
}

/// One stretch of days during which the clocks stand still: the days after `after` through
/// `through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspendedPeriod {
    pub after: NaiveDate,
    pub through: NaiveDate,
}

impl SuspendedPeriod {
    pub fn days(&self) -> i64 {
        days_between(self.after, self.through)
    }
}

/// The periods for which the statements suspend the clocks, sorted and merged (overlapping or
/// touching periods become one): written periods as stated; oral periods capped at 30 days and
/// cut short by a written statement made within them. Statements are checked with
/// [`check_delay`] without a `today` bound (that is the recording's concern).
pub fn suspended_periods(
    delays: &[LawEnforcementDelay],
) -> Result<Vec<SuspendedPeriod>, IncidentError> {
    let mut raw = Vec::with_capacity(delays.len());
    for d in delays {
        check_delay(d, NaiveDate::MAX)?;
        let end = match d.form {
            StatementForm::Written => d.ends_on.ok_or(IncidentError::WrittenDelayWithoutPeriod)?,
            StatementForm::Oral => {
                let cap = add_days(d.stated_on, u64::from(ORAL_DELAY_MAX_DAYS), "endsOn")?;
                let mut end = d.ends_on.map_or(cap, |e| e.min(cap));
                // A written statement submitted during the oral period takes over from its date.
                if let Some(w) = delays
                    .iter()
                    .filter(|w| {
                        w.form == StatementForm::Written
                            && w.stated_on >= d.stated_on
                            && w.stated_on <= end
                    })
                    .map(|w| w.stated_on)
                    .min()
                {
                    end = w;
                }
                end
            }
        };
        if end > d.stated_on {
            raw.push(SuspendedPeriod {
                after: d.stated_on,
                through: end,
            });
        }
    }
    raw.sort_by_key(|p| (p.after, p.through));
    let mut merged: Vec<SuspendedPeriod> = Vec::with_capacity(raw.len());
    for p in raw {
        match merged.last_mut() {
            Some(last) if p.after <= last.through => last.through = last.through.max(p.through),
            _ => merged.push(p),
        }
    }
    Ok(merged)
}

/// Applies the suspension to a clock counting from `starts_on` with base deadline `base_due`:
/// returns (days suspended, deadline).
///
/// The rule: a delay stated no later than the clock's running deadline suspends the clock for
/// each of its days that falls after the clock's start, and the deadline moves by that many
/// days. Periods are taken in order, each against the deadline as moved by those before it (a
/// second delay stated after the base deadline but before the moved one still counts). A delay
/// stated after the running deadline changes nothing: the notice was already due (and, if not
/// sent, late) before law enforcement spoke. Days of a delay before the clock's start (a
/// statement made before discovery, or before the end of the year for the annual log) do not
/// count.
fn suspend(
    starts_on: NaiveDate,
    base_due: NaiveDate,
    periods: &[SuspendedPeriod],
) -> Result<(u32, NaiveDate), IncidentError> {
    let mut due = base_due;
    let mut total: u64 = 0;
    for p in periods {
        if p.after > due {
            break;
        }
        let from = p.after.max(starts_on);
        if p.through > from {
            let n = u64::try_from(days_between(from, p.through)).unwrap_or(0);
            due = add_days(due, n, "dueOn")?;
            total += n;
        }
    }
    let total =
        u32::try_from(total).map_err(|_| IncidentError::DateOutOfRange { field: "dueOn" })?;
    Ok((total, due))
}

// ---------------------------------------------------------------------------------------------
// Clocks

text_enum!(
    /// Who a notice goes to.
    Recipient {
        /// The affected individuals (164.404).
        Individuals = "individuals",
        /// Prominent media outlets serving a State or jurisdiction (164.406).
        Media = "media",
        /// The Secretary of HHS, through the OCR breach portal (164.408).
        Hhs = "hhs",
        /// A business associate's notice to its covered entity (164.410).
        CoveredEntity = "covered-entity",
    }
);

text_enum!(
    /// A notification deadline.
    ClockKind {
        /// 164.404(b): individuals, ≤ 60 days after discovery.
        Individuals = "individuals",
        /// 164.406(b): the media of one State or jurisdiction, ≤ 60 days after discovery, when
        /// more than 500 of its residents are affected.
        Media = "media",
        /// 164.408(b): HHS, contemporaneously with the individuals (the same deadline), when 500
        /// or more individuals are affected.
        Hhs = "hhs",
        /// 164.408(c): HHS, in the log of breaches under 500, ≤ 60 days after the end of the
        /// calendar year of discovery.
        HhsAnnualLog = "hhs-annual-log",
        /// 164.410(b): a business associate to its covered entity, ≤ 60 days after the business
        /// associate's discovery, or the BAA's shorter window.
        CoveredEntity = "covered-entity",
    }
);

impl ClockKind {
    /// Who a notice meeting this clock goes to (both HHS clocks are met by a notice to HHS).
    pub fn recipient(self) -> Recipient {
        match self {
            Self::Individuals => Recipient::Individuals,
            Self::Media => Recipient::Media,
            Self::Hhs | Self::HhsAnnualLog => Recipient::Hhs,
            Self::CoveredEntity => Recipient::CoveredEntity,
        }
    }

    /// The paragraph of 45 CFR that sets the deadline.
    pub fn citation(self) -> &'static str {
        match self {
            Self::Individuals => "164.404(b)",
            Self::Media => "164.406(b)",
            Self::Hhs => "164.408(b)",
            Self::HhsAnnualLog => "164.408(c)",
            Self::CoveredEntity => "164.410(b)",
        }
    }
}

/// One deadline, computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Clock {
    pub kind: ClockKind,
    /// The State or jurisdiction of a media clock; none for the others.
    pub jurisdiction: Option<Jurisdiction>,
    /// Whether the notice is required at all (a breach, and the threshold met). A clock that is
    /// not required still shows its would-be deadline.
    pub required: bool,
    /// The day the clock counts from: the discovery, or December 31 for the annual log.
    pub starts_on: NaiveDate,
    /// The number of days it allows after `starts_on` (60, or a BAA's shorter window).
    pub days: u32,
    /// `starts_on` + `days`.
    pub base_due_on: NaiveDate,
    /// Days of law-enforcement delay that moved the deadline (164.412).
    pub suspended_days: u32,
    /// The deadline: `base_due_on` + `suspended_days`. A notice sent on this day is on time.
    pub due_on: NaiveDate,
}

text_enum!(
    /// Where a clock stands on a day.
    ClockState {
        /// Sent on or before the deadline.
        Met = "met",
        /// Sent after the deadline, or not sent and the deadline has passed.
        Missed = "missed",
        /// Not sent, and the deadline has not passed (the deadline day itself is still due).
        Due = "due",
        /// The notice is not required.
        NotRequired = "not-required",
    }
);

/// A clock read on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockReading {
    pub state: ClockState,
    /// The date the notice went out, if it had by the reading day.
    pub sent_on: Option<NaiveDate>,
    /// While due: days left until the deadline (0 on the deadline day).
    pub days_remaining: Option<i64>,
    /// When missed: days past the deadline (the sending day's, or the reading day's if unsent).
    pub days_late: Option<i64>,
}

impl Clock {
    /// Builds a clock of `days` days from `starts_on`, with the law-enforcement suspension.
    fn new(
        kind: ClockKind,
        jurisdiction: Option<Jurisdiction>,
        required: bool,
        starts_on: NaiveDate,
        days: u32,
        periods: &[SuspendedPeriod],
    ) -> Result<Self, IncidentError> {
        let base_due_on = add_days(starts_on, u64::from(days), "dueOn")?;
        let (suspended_days, due_on) = suspend(starts_on, base_due_on, periods)?;
        Ok(Self {
            kind,
            jurisdiction,
            required,
            starts_on,
            days,
            base_due_on,
            suspended_days,
            due_on,
        })
    }

    /// Reads the clock on `today`, given the date the notice went out (if it did). A sending
    /// date after `today` is not yet a sending: the reading is as of `today`, so past days can be
    /// replayed.
    pub fn reading(&self, sent_on: Option<NaiveDate>, today: NaiveDate) -> ClockReading {
        let sent_on = sent_on.filter(|s| *s <= today);
        if !self.required {
            return ClockReading {
                state: ClockState::NotRequired,
                sent_on,
                days_remaining: None,
                days_late: None,
            };
        }
        match sent_on {
            Some(s) if s <= self.due_on => ClockReading {
                state: ClockState::Met,
                sent_on,
                days_remaining: None,
                days_late: None,
            },
            Some(s) => ClockReading {
                state: ClockState::Missed,
                sent_on,
                days_remaining: None,
                days_late: Some(days_between(self.due_on, s)),
            },
            None if today <= self.due_on => ClockReading {
                state: ClockState::Due,
                sent_on,
                days_remaining: Some(days_between(today, self.due_on)),
                days_late: None,
            },
            None => ClockReading {
                state: ClockState::Missed,
                sent_on,
                days_remaining: None,
                days_late: Some(days_between(self.due_on, today)),
            },
        }
    }
}

/// The annual log's deadline for breaches discovered in `year`: 60 days after December 31 of
/// that year (164.408(c)), i.e. March 1 of the next year, or February 29 when it is a leap year.
/// Computed, not special-cased. `None` out of the calendar's range.
pub fn annual_log_due(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 12, 31)?.checked_add_days(Days::new(u64::from(NOTICE_DAYS)))
}

/// A covered entity's clocks for one breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreachClocks {
    /// Individuals; HHS (immediate); the HHS annual log; then one media clock per listed State
    /// (not `unknown`), in code order. Exactly one of the two HHS clocks is required for a
    /// breach.
    pub clocks: Vec<Clock>,
    /// More than 500 affected individuals are not placed in any State: a media notice may be
    /// due somewhere that the counts cannot tell.
    pub media_undetermined: bool,
    /// The law-enforcement suspension applied.
    pub suspended: Vec<SuspendedPeriod>,
}

/// A covered entity's notification clocks, from its discovery date (164.404(a)(2)).
///
/// `decision` is the breach decision if one is recorded. While none is (`None`), the incident
/// is **presumed** a breach (164.402(2): an impermissible use or disclosure is presumed a breach
/// unless shown otherwise) and the clocks run; a "not a breach" decision makes every clock not
/// required. For a breach:
/// - individuals: discovery + 60 days (164.404(b));
/// - HHS: the same deadline, required when 500 or more in total (164.408(b));
/// - HHS annual log: December 31 of the discovery year + 60 days, required when fewer than 500
///   (164.408(c));
/// - media, per State: discovery + 60 days, required when more than 500 of its residents
///   (164.406).
///
/// Every clock is suspended by the law-enforcement delays (164.412) as [`suspended_periods`]
/// and the suspension rule describe. For a breach reported by a business associate, pass the
/// date from [`covered_entity_discovery`].
pub fn covered_entity_clocks(
    discovered_on: NaiveDate,
    decision: Option<DecisionKind>,
    affected: &AffectedCounts,
    delays: &[LawEnforcementDelay],
) -> Result<BreachClocks, IncidentError> {
    let breach = decision.is_none_or(DecisionKind::is_breach);
    let periods = suspended_periods(delays)?;
    let mut clocks = Vec::with_capacity(3 + affected.by_jurisdiction.len());
    clocks.push(Clock::new(
        ClockKind::Individuals,
        None,
        breach,
        discovered_on,
        NOTICE_DAYS,
        &periods,
    )?);
    clocks.push(Clock::new(
        ClockKind::Hhs,
        None,
        breach && affected.hhs_immediate(),
        discovered_on,
        NOTICE_DAYS,
        &periods,
    )?);
    let year_end = NaiveDate::from_ymd_opt(discovered_on.year(), 12, 31).ok_or(
        IncidentError::DateOutOfRange {
            field: "discoveredOn",
        },
    )?;
    clocks.push(Clock::new(
        ClockKind::HhsAnnualLog,
        None,
        breach && !affected.hhs_immediate(),
        year_end,
        NOTICE_DAYS,
        &periods,
    )?);
    for &j in affected.by_jurisdiction.keys().filter(|j| j.is_known()) {
        clocks.push(Clock::new(
            ClockKind::Media,
            Some(j),
            breach && affected.media_required(j),
            discovered_on,
            NOTICE_DAYS,
            &periods,
        )?);
    }
    Ok(BreachClocks {
        clocks,
        media_undetermined: breach && affected.unplaced() > MEDIA_THRESHOLD,
        suspended: periods,
    })
}

// ---------------------------------------------------------------------------------------------
// Business associates (164.410)

text_enum!(
    /// Where a business associate's breach-notice window comes from.
    WindowSource {
        /// 164.410(b): 60 days after discovery.
        Regulation = "regulation",
        /// The BAA in force on the business associate's discovery date.
        Baa = "baa",
    }
);

/// How many days a business associate has to notify its covered entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoticeWindow {
    pub days: u32,
    pub source: WindowSource,
}

/// The business associate's notice window: the agreed `breach_notice_days` of the BAA in force
/// on its discovery date (checked by [`check_breach_notice_days`]: 1 to 60 days), else the 60
/// days of 164.410(b). A BAA not in force that day (not yet effective, ended, terminated) does
/// not shorten the window.
pub fn ba_notice_window(
    baa: Option<(&Baa, i32)>,
    ba_discovered_on: NaiveDate,
) -> Result<NoticeWindow, IncidentError> {
    match baa {
        Some((b, days)) if b.in_effect(ba_discovered_on) => {
            let days = check_breach_notice_days(days)
                .map_err(|_| IncidentError::BaaWindowOutOfRange { days })?;
            Ok(NoticeWindow {
                days,
                source: WindowSource::Baa,
            })
        }
        _ => Ok(NoticeWindow {
            days: MAX_BREACH_NOTICE_DAYS,
            source: WindowSource::Regulation,
        }),
    }
}

/// A business associate's clock for notifying its covered entity (164.410(b)): its own
/// discovery date (164.410(a)(2)) + the window, suspended by law-enforcement delays (164.412
/// applies to business associates too). Required unless a "not a breach" decision is recorded.
pub fn business_associate_clock(
    ba_discovered_on: NaiveDate,
    decision: Option<DecisionKind>,
    window: NoticeWindow,
    delays: &[LawEnforcementDelay],
) -> Result<Clock, IncidentError> {
    let periods = suspended_periods(delays)?;
    Clock::new(
        ClockKind::CoveredEntity,
        None,
        decision.is_none_or(DecisionKind::is_breach),
        ba_discovered_on,
        window.days.min(MAX_BREACH_NOTICE_DAYS),
        &periods,
    )
}

text_enum!(
    /// Whether a business associate acts as the covered entity's agent, which decides when the
    /// covered entity is deemed to have discovered a breach the business associate reports.
    ///
    /// A breach is discovered by a covered entity on the first day it is known (or by reasonable
    /// diligence would have been known) to any workforce member or **agent** of the covered
    /// entity, agency being determined by the federal common law of agency (164.404(a)(2)).
    BaRelation {
        /// The business associate is the covered entity's agent (the covered entity controls
        /// the conduct of its work): its knowledge is the covered entity's, and the covered
        /// entity's clocks start from the date the business associate discovered the breach.
        Agent = "agent",
        /// The business associate is an independent contractor: the covered entity discovers
        /// the breach when the business associate notifies it, and its clocks start from the
        /// notice's date.
        IndependentContractor = "independent-contractor",
    }
);

/// The covered entity's discovery date for a breach a business associate reports: the business
/// associate's discovery when it is the covered entity's agent, the notice's date when it is an
/// independent contractor (see [`BaRelation`]). A notice before the business associate's own
/// discovery is refused.
pub fn covered_entity_discovery(
    relation: BaRelation,
    ba_discovered_on: NaiveDate,
    notice_on: NaiveDate,
) -> Result<NaiveDate, IncidentError> {
    if notice_on < ba_discovered_on {
        return Err(IncidentError::NotificationBeforeDiscovery {
            recipient: Recipient::CoveredEntity,
            sent_on: notice_on,
            discovered_on: ba_discovered_on,
        });
    }
    Ok(match relation {
        BaRelation::Agent => ba_discovered_on,
        BaRelation::IndependentContractor => notice_on,
    })
}

// ---------------------------------------------------------------------------------------------
// Notifications

text_enum!(
    /// How a notice went out.
    NotificationMethod {
        /// 164.404(d)(1)(i): first-class mail to the last known address.
        FirstClassMail = "first-class-mail",
        /// 164.404(d)(1)(i): electronic mail, when the individual agreed to it (also a usual way
        /// for a business associate to notify its covered entity).
        Email = "email",
        /// 164.404(d)(3): telephone in urgent cases, in addition to the written notice (also a
        /// way to reach a covered entity).
        Telephone = "telephone",
        /// 164.404(d)(2)(ii)(A): substitute notice, a conspicuous posting on the home page for
        /// 90 days (10 or more individuals without contact information).
        SubstituteWebPosting = "substitute-web-posting",
        /// 164.404(d)(2)(ii)(A): substitute notice in major print or broadcast media.
        SubstituteMedia = "substitute-media",
        /// 164.404(d)(2)(i): substitute notice by another written form or telephone (fewer than
        /// 10 individuals without contact information).
        SubstituteOther = "substitute-other",
        /// 164.406: a notice to prominent media outlets (a press release).
        MediaOutlet = "media-outlet",
        /// 164.408: the OCR breach portal, the manner specified on the HHS web site.
        HhsPortal = "hhs-portal",
        /// A business associate's notice delivered through this platform.
        Platform = "platform",
        /// Any other way, for a business associate's notice.
        Other = "other",
    }
);

impl NotificationMethod {
    /// Whether the rule allows this method for the recipient.
    pub fn allowed_for(self, r: Recipient) -> bool {
        use NotificationMethod as M;
        match r {
            Recipient::Individuals => matches!(
                self,
                M::FirstClassMail
                    | M::Email
                    | M::Telephone
                    | M::SubstituteWebPosting
                    | M::SubstituteMedia
                    | M::SubstituteOther
            ),
            Recipient::Media => self == M::MediaOutlet,
            Recipient::Hhs => self == M::HhsPortal,
            Recipient::CoveredEntity => matches!(
                self,
                M::Platform | M::Email | M::FirstClassMail | M::Telephone | M::Other
            ),
        }
    }
}

/// A notice recorded as sent. For individuals notified in batches, record the date the last
/// required notice went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub recipient: Recipient,
    /// The State whose media were notified (media notices only).
    pub jurisdiction: Option<Jurisdiction>,
    pub sent_on: NaiveDate,
    pub method: NotificationMethod,
}

/// Checks a notice before it is recorded: not before the discovery it notifies, not after
/// `today`, a method the rule allows for the recipient, and a known State for (only) a media
/// notice.
pub fn check_notification(
    n: &Notification,
    discovered_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), IncidentError> {
    if n.sent_on < discovered_on {
        return Err(IncidentError::NotificationBeforeDiscovery {
            recipient: n.recipient,
            sent_on: n.sent_on,
            discovered_on,
        });
    }
    if n.sent_on > today {
        return Err(IncidentError::NotificationInFuture {
            recipient: n.recipient,
            sent_on: n.sent_on,
            today,
        });
    }
    if !n.method.allowed_for(n.recipient) {
        return Err(IncidentError::MethodNotAllowed {
            recipient: n.recipient,
            method: n.method,
        });
    }
    let media = n.recipient == Recipient::Media;
    if media != n.jurisdiction.is_some_and(Jurisdiction::is_known) {
        return Err(IncidentError::JurisdictionMismatch {
            recipient: n.recipient,
        });
    }
    Ok(())
}

/// The date that meets a clock: the earliest notice to its recipient (and, for media, its
/// State). The earliest, because a later record is a follow-up (an addendum to HHS, a
/// supplementary letter) that does not make the first late. Individuals notified in batches are
/// recorded as one notice dated when the last batch went out (see [`Notification`]).
pub fn sent_on_for(clock: &Clock, notifications: &[Notification]) -> Option<NaiveDate> {
    notifications
        .iter()
        .filter(|n| {
            n.recipient == clock.kind.recipient()
                && (clock.kind != ClockKind::Media || n.jurisdiction == clock.jurisdiction)
        })
        .map(|n| n.sent_on)
        .min()
}

/// Reads every clock on `today` against the recorded notices.
pub fn read_clocks(
    clocks: &[Clock],
    notifications: &[Notification],
    today: NaiveDate,
) -> Vec<ClockReading> {
    clocks
        .iter()
        .map(|c| c.reading(sent_on_for(c, notifications), today))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// HHS report and annual log

text_enum!(
    /// The portal's "Report Type".
    HhsReportType {
        /// The first report of a breach.
        Initial = "initial",
        /// An addendum to a previous report (new facts, a revised count).
        Addendum = "addendum",
    }
);

text_enum!(
    /// The portal's "Breach Affecting" choice.
    HhsReportSize {
        /// 500 or more individuals: reported within 60 days of discovery (164.408(b)).
        FiveHundredOrMore = "500-or-more",
        /// Fewer than 500: reported within 60 days of the end of the year (164.408(c)).
        FewerThanFiveHundred = "fewer-than-500",
    }
);

impl HhsReportSize {
    /// The size for a total count.
    pub fn of(total: u64) -> Self {
        if total >= HHS_IMMEDIATE_THRESHOLD {
            Self::FiveHundredOrMore
        } else {
            Self::FewerThanFiveHundred
        }
    }
}

text_enum!(
    /// The portal's type of covered entity.
    CoveredEntityType {
        HealthPlan = "health-plan",
        HealthcareClearinghouse = "healthcare-clearinghouse",
        HealthcareProvider = "healthcare-provider",
    }
);

text_enum!(
    /// The portal's "Type of Breach" (several may apply).
    HhsBreachType {
        HackingItIncident = "hacking-it-incident",
        ImproperDisposal = "improper-disposal",
        Loss = "loss",
        Theft = "theft",
        UnauthorizedAccessDisclosure = "unauthorized-access-disclosure",
        /// Described in `breach_type_other`.
        Other = "other",
    }
);

text_enum!(
    /// The portal's "Location of Breached Information" (several may apply).
    HhsLocation {
        DesktopComputer = "desktop-computer",
        ElectronicMedicalRecord = "electronic-medical-record",
        Email = "email",
        Laptop = "laptop",
        NetworkServer = "network-server",
        OtherPortableElectronicDevice = "other-portable-electronic-device",
        PaperFilms = "paper-films",
        /// Described in `location_other`.
        Other = "other",
    }
);

text_enum!(
    /// The portal's "Type of Protected Health Information Involved" (several may apply).
    PhiType {
        Clinical = "clinical",
        Demographic = "demographic",
        Financial = "financial",
        /// Described in `phi_type_other`.
        Other = "other",
    }
);

text_enum!(
    /// The portal's "Safeguards in Place Prior to Breach" (several may apply).
    HhsSafeguard {
        None = "none",
        /// Training, policies and procedures.
        PrivacyRuleSafeguards = "privacy-rule-safeguards",
        SecurityRuleAdministrative = "security-rule-administrative",
        SecurityRulePhysical = "security-rule-physical",
        SecurityRuleTechnical = "security-rule-technical",
    }
);

/// One entity's contact block on the report (the covered entity's section 1, the business
/// associate's section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HhsContact {
    pub name: String,
    pub street: String,
    pub city: String,
    pub state: Jurisdiction,
    pub zip: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
}

/// The notice to the Secretary of a breach of unsecured PHI, field by field as the OCR breach
/// portal asks (ocrportal.hhs.gov "Notice to the Secretary of HHS of Breach of Unsecured
/// Protected Health Information": report type and size; section 1, the covered entity; section
/// 2, the business associate, if the breach occurred at or by one; section 3, the breach;
/// section 4, the notice of breach and actions taken; section 5, the attestation, which the
/// person filing completes on the portal and is left out). Sources of the fixed choices: breach
/// types and locations as the portal's public breach report filters them; safeguards as the
/// portal's 2015 revision lists them (BakerHostetler's summary); PHI types as remembered from
/// the form, not checked against a copy. The portal's list of "actions taken in response"
/// could not be checked either, so actions are free text here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HhsBreachReport {
    pub report_type: HhsReportType,
    pub size: HhsReportSize,
    pub covered_entity: HhsContact,
    pub covered_entity_type: CoveredEntityType,
    pub business_associate: Option<HhsContact>,
    pub breach_start: NaiveDate,
    pub breach_end: Option<NaiveDate>,
    pub discovery_start: NaiveDate,
    pub discovery_end: Option<NaiveDate>,
    /// The number of individuals affected (an estimate while unknown).
    pub individuals_affected: u64,
    pub breach_types: Vec<HhsBreachType>,
    pub breach_type_other: Option<String>,
    pub locations: Vec<HhsLocation>,
    pub location_other: Option<String>,
    pub phi_types: Vec<PhiType>,
    pub phi_type_other: Option<String>,
    /// How the breach occurred, where, and what was involved.
    pub description: String,
    pub safeguards: Vec<HhsSafeguard>,
    /// The first and last day individuals were notified.
    pub individual_notice_from: Option<NaiveDate>,
    pub individual_notice_to: Option<NaiveDate>,
    /// Substitute notice (164.404(d)(2)) was required.
    pub substitute_notice_required: bool,
    /// Media notice (164.406) was required.
    pub media_notice_required: bool,
    /// Actions taken in response to the breach.
    pub actions_taken: Vec<String>,
}

fn need(ok: bool, field: &'static str, reason: &'static str) -> Result<(), IncidentError> {
    if ok {
        Ok(())
    } else {
        Err(IncidentError::ReportInvalid { field, reason })
    }
}

fn other_text(
    chosen: bool,
    text: Option<&String>,
    field: &'static str,
) -> Result<(), IncidentError> {
    need(
        !chosen || text.is_some_and(|t| !t.trim().is_empty()),
        field,
        "\"other\" is chosen: describe it",
    )
}

impl HhsBreachReport {
    /// Checks the report is consistent: the size matches the count (500 or more, 164.408(b)),
    /// discovery not before the breach began, periods not ending before they begin, at least
    /// one type, location and PHI type, each "other" described, a description, safeguards
    /// chosen ("none" alone if none), and media notice marked required only for a count above
    /// 500.
    pub fn validate(&self) -> Result<(), IncidentError> {
        need(
            self.individuals_affected <= MAX_AFFECTED,
            "individualsAffected",
            "above the population of the United States",
        )?;
        need(
            self.size == HhsReportSize::of(self.individuals_affected),
            "size",
            "500 or more individuals is a large breach (164.408(b)); fewer is a small one",
        )?;
        need(
            self.discovery_start >= self.breach_start,
            "discoveryStart",
            "a breach cannot be discovered before it began",
        )?;
        need(
            self.breach_end.is_none_or(|e| e >= self.breach_start),
            "breachEnd",
            "ends before it began",
        )?;
        need(
            self.discovery_end.is_none_or(|e| e >= self.discovery_start),
            "discoveryEnd",
            "ends before it began",
        )?;
        need(
            !self.breach_types.is_empty(),
            "breachTypes",
            "choose at least one",
        )?;
        need(
            !self.locations.is_empty(),
            "locations",
            "choose at least one",
        )?;
        need(
            !self.phi_types.is_empty(),
            "phiTypes",
            "choose at least one",
        )?;
        other_text(
            self.breach_types.contains(&HhsBreachType::Other),
            self.breach_type_other.as_ref(),
            "breachTypeOther",
        )?;
        other_text(
            self.locations.contains(&HhsLocation::Other),
            self.location_other.as_ref(),
            "locationOther",
        )?;
        other_text(
            self.phi_types.contains(&PhiType::Other),
            self.phi_type_other.as_ref(),
            "phiTypeOther",
        )?;
        need(
            !self.description.trim().is_empty(),
            "description",
            "describe the breach",
        )?;
        check_text("description", &self.description)?;
        need(
            !self.safeguards.is_empty()
                && (!self.safeguards.contains(&HhsSafeguard::None) || self.safeguards.len() == 1),
            "safeguards",
            "choose the safeguards in place, or \"none\" alone",
        )?;
        if let (Some(a), Some(b)) = (self.individual_notice_from, self.individual_notice_to) {
            need(b >= a, "individualNoticeTo", "ends before it began")?;
        }
        need(
            self.individual_notice_from
                .is_none_or(|n| n >= self.discovery_start),
            "individualNoticeFrom",
            "notice cannot precede the discovery",
        )?;
        need(
            !self.media_notice_required || self.individuals_affected > MEDIA_THRESHOLD,
            "mediaNoticeRequired",
            "media notice needs more than 500 residents of a State (164.406)",
        )?;
        Ok(())
    }
}

/// One row of the log of breaches affecting fewer than 500 individuals (164.408(c)), which HHS
/// receives within 60 days after the end of the calendar year of discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnualLogRow {
    /// The caller's reference for the breach (the incident's number or id).
    pub reference: String,
    pub discovered_on: NaiveDate,
    pub breach_start: Option<NaiveDate>,
    pub breach_end: Option<NaiveDate>,
    pub individuals_affected: u64,
    pub breach_types: Vec<HhsBreachType>,
    pub locations: Vec<HhsLocation>,
    pub description: String,
    /// When the individuals were notified (the last notice).
    pub individuals_notified_on: Option<NaiveDate>,
    /// When the breach was submitted to HHS, if it was.
    pub reported_to_hhs_on: Option<NaiveDate>,
}

/// The annual log for `year`: the rows of breaches discovered in that year affecting fewer than
/// 500 individuals (164.408(c)), ordered by discovery date then reference. Larger breaches were
/// reported on their own (164.408(b)) and are left out.
pub fn annual_log(year: i32, rows: impl IntoIterator<Item = AnnualLogRow>) -> Vec<AnnualLogRow> {
    let mut out: Vec<AnnualLogRow> = rows
        .into_iter()
        .filter(|r| {
            r.discovered_on.year() == year && r.individuals_affected < HHS_IMMEDIATE_THRESHOLD
        })
        .collect();
    out.sort_by(|a, b| (a.discovered_on, &a.reference).cmp(&(b.discovered_on, &b.reference)));
    out
}
