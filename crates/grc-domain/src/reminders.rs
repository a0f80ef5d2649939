//! Reminders: the kinds of due items, the per-tenant reminder policies, the schedule of each
//! item's reminders in the tenant's time zone, the idempotency keys that make every reminder
//! written once, and the retry schedule of a delivery. Everything here is pure: the scheduler
//! passes the time in, and reads due dates from where they are computed (issue 7, "Scheduler").
//!
//! The model, in the words of issue 7: for each kind of due item a tenant has a policy with lead
//! times (days before the due date), an overdue cadence (every N days after it while it stays
//! unresolved), channels, recipients, a time zone and a local send hour (default 09:00). One
//! reminder *occurrence* is one (item, lead time) or (item, N-th overdue repetition); it is sent
//! at the local send hour of its local calendar date, turned into a UTC instant with the IANA
//! rules of the tenant's zone ([`local_instant`] documents the daylight-saving rule).

use crate::DomainError;
use crate::isms::text_enum;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Kinds, channels and recipient roles
// ---------------------------------------------------------------------------------------------

text_enum!(
    /// A kind of due item (issue 7, "What to build" 1). The strings are stable: they are stored
    /// in policies and reminders and are part of every idempotency key.
    DueKind {
        /// An ISO certificate's expiry date.
        CertificateExpiry = "certificate-expiry",
        /// A planned surveillance audit of a certificate cycle.
        SurveillanceAudit = "surveillance-audit",
        /// The recertification audit that must happen before a certificate expires.
        RecertificationAudit = "recertification-audit",
        /// The end of a vendor attestation's validity (a SOC 2 report, a certificate copy...).
        AttestationExpiry = "attestation-expiry",
        /// The end of the period a vendor's bridge letter covers.
        BridgeLetterEnd = "bridge-letter-end",
        /// The end date of a business associate agreement.
        BaaEnd = "baa-end",
        /// A business associate agreement's periodic review.
        BaaReview = "baa-review",
        /// A policy's next review date.
        PolicyReview = "policy-review",
        /// A controlled document's next review date.
        DocumentReview = "document-review",
        /// A risk's next review date.
        RiskReview = "risk-review",
        /// The date a piece of evidence stops being current.
        EvidenceExpiry = "evidence-expiry",
        /// A corrective action's due date.
        CorrectiveActionDue = "corrective-action-due",
        /// A person's training due date.
        TrainingDue = "training-due",
        /// A planned internal audit.
        InternalAuditDue = "internal-audit-due",
        /// A planned management review.
        ManagementReviewDue = "management-review-due",
        /// A breach-notification deadline (from the incidents issue, once it lands).
        BreachNotificationDeadline = "breach-notification-deadline",
        /// A share grant's expiry.
        ShareGrantExpiry = "share-grant-expiry",
    }
);

/// Lead times of the defaults, in days before the due date (see [`DueKind::default_lead_days`]).
const LEAD_CERTIFICATE: &[u16] = &[90, 60, 30, 7, 1];
const LEAD_RECERTIFICATION: &[u16] = &[180, 90, 60, 30, 7];
const LEAD_SURVEILLANCE: &[u16] = &[90, 30, 14, 7, 1];
const LEAD_CONTRACT_END: &[u16] = &[90, 60, 30, 7, 1];
const LEAD_BRIDGE_LETTER: &[u16] = &[30, 14, 7, 1];
const LEAD_REVIEW: &[u16] = &[30, 7, 1];
const LEAD_EVIDENCE: &[u16] = &[30, 7, 1];
const LEAD_CORRECTIVE_ACTION: &[u16] = &[14, 7, 3, 1];
const LEAD_TRAINING: &[u16] = &[30, 14, 7, 1];
const LEAD_PLANNED_EVENT: &[u16] = &[60, 30, 14, 7];
const LEAD_BREACH: &[u16] = &[30, 14, 7, 3, 1];

impl DueKind {
    /// What an item of this kind is about, after its title and before its date: our short
    /// wording for calendars and messages ("expires", "BAA review due").
    pub fn phrase(self) -> &'static str {
        match self {
            DueKind::CertificateExpiry | DueKind::AttestationExpiry | DueKind::EvidenceExpiry => {
                "expires"
            }
            DueKind::ShareGrantExpiry => "share expires",
            DueKind::SurveillanceAudit => "surveillance audit due",
            DueKind::RecertificationAudit => "recertification due",
            DueKind::BridgeLetterEnd => "bridge letter ends",
            DueKind::BaaEnd => "BAA ends",
            DueKind::BaaReview => "BAA review due",
            DueKind::PolicyReview | DueKind::DocumentReview | DueKind::RiskReview => "review due",
            DueKind::CorrectiveActionDue => "corrective action due",
            DueKind::TrainingDue => "training due",
            DueKind::InternalAuditDue => "internal audit due",
            DueKind::ManagementReviewDue => "management review due",
            DueKind::BreachNotificationDeadline => "breach notification deadline",
        }
    }

    /// The default lead times, in days before the due date, largest first.
    ///
    /// - Certificate expiry: 90, 60, 30, 7, 1 (issue 7 names these).
    /// - Recertification audit: 180, 90, 60, 30, 7. The audit has to be booked with the
    ///   certification body and completed before the certificate expires, so the first reminder
    ///   comes half a year ahead; the last at a week, when only the audit itself is left.
    /// - Surveillance audit: 90, 30, 14, 7, 1. Booking and preparing (internal audit and
    ///   management review done, evidence current) takes a quarter; the last reminders are for
    ///   the audit days themselves.
    /// - Attestation expiry and BAA end: 90, 60, 30, 7, 1, the certificate's series: a new vendor
    ///   report or a renegotiated agreement takes months to obtain.
    /// - Bridge-letter end: 30, 14, 7, 1. A bridge letter covers a short gap (typically until the
    ///   next report), so a quarter's lead would often come before the letter itself.
    /// - Policy, document, risk and BAA review, evidence expiry, share grant expiry: 30, 7, 1.
    ///   Routine work a month's notice covers, plus a last call.
    /// - Corrective action due: 14, 7, 3, 1. Actions are short-lived; a month's notice would often
    ///   come before the action was raised.
    /// - Training due: 30, 14, 7, 1. People need two reminders to fit a course in.
    /// - Internal audit and management review due: 60, 30, 14, 7. Both need scheduling with
    ///   several people and their inputs gathered; a day's notice is of no use.
    /// - Breach notification deadline: 30, 14, 7, 3, 1 (the brief of issue 7's domain work),
    ///   escalating to the tenant's owners from 7 days out (see [`DueKind::default_escalation`]).
    pub fn default_lead_days(self) -> &'static [u16] {
        match self {
            Self::CertificateExpiry => LEAD_CERTIFICATE,
            Self::RecertificationAudit => LEAD_RECERTIFICATION,
            Self::SurveillanceAudit => LEAD_SURVEILLANCE,
            Self::AttestationExpiry | Self::BaaEnd => LEAD_CONTRACT_END,
            Self::BridgeLetterEnd => LEAD_BRIDGE_LETTER,
            Self::PolicyReview
            | Self::DocumentReview
            | Self::RiskReview
            | Self::BaaReview
            | Self::ShareGrantExpiry => LEAD_REVIEW,
            Self::EvidenceExpiry => LEAD_EVIDENCE,
            Self::CorrectiveActionDue => LEAD_CORRECTIVE_ACTION,
            Self::TrainingDue => LEAD_TRAINING,
            Self::InternalAuditDue | Self::ManagementReviewDue => LEAD_PLANNED_EVENT,
            Self::BreachNotificationDeadline => LEAD_BREACH,
        }
    }

    /// The default overdue cadence in days: weekly until resolved (issue 7), except
    ///
    /// - a breach-notification deadline: daily, because a missed statutory deadline gets worse
    ///   every day and the notification is still owed;
    /// - a share grant's expiry: none, because an expired grant is the normal end of a share and
    ///   nothing is left to do (renewing it is a new grant).
    pub fn default_overdue_every_days(self) -> Option<u16> {
        match self {
            Self::BreachNotificationDeadline => Some(1),
            Self::ShareGrantExpiry => None,
            _ => Some(7),
        }
    }

    /// The default recipients: the item's own owner (the person named responsible on it) and
    /// the tenant's compliance managers, for every kind; a tenant owner is added only through
    /// escalation. Certificates, audits and attestations are the compliance manager's work and
    /// usually have no named owner, which is why the role is always there.
    pub fn default_recipient_roles(self) -> &'static [RecipientRole] {
        &[
            RecipientRole::SubjectOwner,
            RecipientRole::ComplianceManager,
        ]
    }

    /// The default escalation: a breach-notification deadline reaches the tenant's owners from
    /// 7 days out and while overdue (issue 7's breach defaults "escalating to owners"); no other
    /// kind escalates by default.
    pub fn default_escalation(self) -> Option<Escalation> {
        match self {
            Self::BreachNotificationDeadline => Some(Escalation {
                within_days: 7,
                roles: vec![RecipientRole::Owner],
            }),
            _ => None,
        }
    }

    /// The default channels: e-mail, webhook and in-app, for every kind (issue 7, "Channels";
    /// the iCalendar feed is read by calendar apps, not pushed, so it is not a channel).
    pub fn default_channels(self) -> &'static [Channel] {
        &[Channel::Email, Channel::Webhook, Channel::InApp]
    }

    /// The default policy of this kind in a tenant whose zone is `time_zone` (an IANA name):
    /// enabled, the default lead times, cadence, channels, recipients and escalation, sent at
    /// 09:00 local time (issue 7).
    pub fn default_policy(self, time_zone: &str) -> ReminderPolicy {
        ReminderPolicy {
            kind: self,
            enabled: true,
            lead_days: self
                .default_lead_days()
                .iter()
                .map(|&d| i32::from(d))
                .collect(),
            overdue_every_days: self.default_overdue_every_days().map(i32::from),
            time_zone: time_zone.to_owned(),
            send_hour: DEFAULT_SEND_HOUR,
            send_minute: 0,
            channels: self.default_channels().to_vec(),
            recipients: Recipients {
                roles: self.default_recipient_roles().to_vec(),
                user_ids: Vec::new(),
                emails: Vec::new(),
            },
            escalation: self.default_escalation(),
        }
    }
}

text_enum!(
    /// A way a reminder reaches someone (issue 7, "Channels").
    Channel {
        /// E-mail over SMTP, to members (by their address) and to external addresses.
        Email = "email",
        /// A signed Standard Webhooks call to each of the tenant's enabled endpoints. Recipients
        /// do not apply: the tenant's endpoints are the recipients.
        Webhook = "webhook",
        /// An in-app notification, to members only (an external address has no inbox).
        InApp = "in-app",
    }
);

text_enum!(
    /// Who, by role, receives a reminder. The tenant roles use the strings of
    /// [`crate::tenancy::Role`] so the store can match memberships directly.
    RecipientRole {
        /// The tenant's owners.
        Owner = "owner",
        ComplianceManager = "compliance_manager",
        Contributor = "contributor",
        Auditor = "auditor",
        Viewer = "viewer",
        /// The member named responsible on the item itself (a risk's owner, a corrective
        /// action's assignee, a policy's owner, a grant's creator); nobody when the item has none.
        SubjectOwner = "subject_owner",
    }
);

impl RecipientRole {
    /// The tenant role this stands for, `None` for the item's own owner.
    pub fn tenant_role(self) -> Option<crate::tenancy::Role> {
        use crate::tenancy::Role;
        match self {
            Self::Owner => Some(Role::Owner),
            Self::ComplianceManager => Some(Role::ComplianceManager),
            Self::Contributor => Some(Role::Contributor),
            Self::Auditor => Some(Role::Auditor),
            Self::Viewer => Some(Role::Viewer),
            Self::SubjectOwner => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Policies and their validation
// ---------------------------------------------------------------------------------------------

/// The largest lead time: two years, enough for a three-year certificate's recertification
/// planning and small enough to catch a typo of days for hours.
pub const MAX_LEAD_DAYS: i32 = 730;
/// At most this many lead times per policy: more is noise, not a reminder.
pub const MAX_LEAD_TIMES: usize = 10;
/// The overdue cadence is 1 to 90 days (or none).
pub const MAX_OVERDUE_EVERY_DAYS: i32 = 90;
/// The default local send hour (issue 7: "default 09:00").
pub const DEFAULT_SEND_HOUR: i32 = 9;
/// At most this many recipients (roles, users and addresses together) per policy.
pub const MAX_RECIPIENTS: usize = 50;
/// The longest e-mail address accepted (RFC 5321's path limit, less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Who receives a policy's reminders on the e-mail and in-app channels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipients {
    /// Every member holding one of these roles (or the item's owner).
    pub roles: Vec<RecipientRole>,
    /// These members, whatever their role.
    pub user_ids: Vec<Uuid>,
    /// External addresses (e-mail only), checked by [`check_email_address`].
    pub emails: Vec<String>,
}

impl Recipients {
    /// Whether nobody is named.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.user_ids.is_empty() && self.emails.is_empty()
    }

    fn len(&self) -> usize {
        self.roles.len() + self.user_ids.len() + self.emails.len()
    }
}

/// Extra recipients for the last stretch: occurrences `within_days` or fewer days before the due
/// date, and every overdue occurrence, also go to these roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Escalation {
    /// 0 to [`MAX_LEAD_DAYS`]: from this many days before the due date on.
    pub within_days: i32,
    /// Non-empty.
    pub roles: Vec<RecipientRole>,
}

/// A tenant's reminder policy for one kind of due item, as entered (numbers are `i32` so that
/// any input, negative included, gets a typed error rather than a parse failure). Check it
/// with [`ReminderPolicy::check`] to get the [`Schedule`] the scheduler works with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderPolicy {
    pub kind: DueKind,
    /// A disabled policy is still checked (so enabling it cannot fail) but schedules nothing.
    pub enabled: bool,
    /// Days before the due date, each 0 to [`MAX_LEAD_DAYS`], no duplicates, at most
    /// [`MAX_LEAD_TIMES`]; 0 is "on the due date". Order does not matter.
    pub lead_days: Vec<i32>,
    /// Repeat every this many days after the due date while unresolved (1 to
    /// [`MAX_OVERDUE_EVERY_DAYS`]), or never.
    pub overdue_every_days: Option<i32>,
    /// The tenant's IANA time zone name, e.g. `Europe/Berlin` (case-sensitive, as in the tz
    /// database).
    pub time_zone: String,
    /// The local hour to send, 0 to 23.
    pub send_hour: i32,
    /// The local minute to send, 0 to 59.
    pub send_minute: i32,
    /// Non-empty; duplicates are ignored.
    pub channels: Vec<Channel>,
    pub recipients: Recipients,
    pub escalation: Option<Escalation>,
}

text_enum!(
    /// Why an e-mail address was refused. The check is deliberately loose (delivery is what
    /// proves an address) but refuses what would break an SMTP envelope or a header.
    EmailProblem {
        /// Longer than [`MAX_EMAIL_LEN`] bytes.
        TooLong = "too-long",
        /// Not exactly one `@`.
        NotOneAt = "not-one-at",
        /// Nothing before the `@`.
        EmptyLocalPart = "empty-local-part",
        /// Nothing after the `@`.
        EmptyDomain = "empty-domain",
        /// Whitespace or a control character (a line break would inject a mail header).
        ForbiddenCharacter = "forbidden-character",
    }
);

/// Checks an external e-mail address loosely: at most [`MAX_EMAIL_LEN`] bytes, exactly one `@`
/// with something on both sides, and no whitespace or control character anywhere. Looser than
/// [`crate::tenancy::Email`] on purpose (no dotted domain required, so `ops@localhost` on a
/// test mail sink is accepted).
pub fn check_email_address(address: &str) -> Result<(), EmailProblem> {
    if address.len() > MAX_EMAIL_LEN {
        return Err(EmailProblem::TooLong);
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmailProblem::ForbiddenCharacter);
    }
    let mut parts = address.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(EmailProblem::NotOneAt);
    };
    if local.is_empty() {
        return Err(EmailProblem::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailProblem::EmptyDomain);
    }
    Ok(())
}

/// A reminder policy or digest option that breaks a rule. [`PolicyError::code`] is stable and
/// [`PolicyError::field`] names the input field (camelCase, as in the GraphQL input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("lead time {days} is outside 0 to {MAX_LEAD_DAYS} days")]
    LeadTimeOutOfRange { days: i32 },
    #[error("lead time {days} is listed twice")]
    DuplicateLeadTime { days: i32 },
    #[error("{count} lead times: at most {MAX_LEAD_TIMES}")]
    TooManyLeadTimes { count: usize },
    #[error("an overdue cadence of {days} days is outside 1 to {MAX_OVERDUE_EVERY_DAYS}")]
    OverdueCadenceOutOfRange { days: i32 },
    #[error("an enabled policy needs a lead time or an overdue cadence")]
    NothingToSend,
    #[error("send hour {hour} is outside 0 to 23")]
    SendHourOutOfRange { hour: i32 },
    #[error("send minute {minute} is outside 0 to 59")]
    SendMinuteOutOfRange { minute: i32 },
    #[error("{name:?} is not an IANA time zone name")]
    UnknownTimeZone { name: String },
    #[error("at least one channel is needed")]
    NoChannels,
    #[error("the {channel} channel is not available here")]
    ChannelNotAllowed { channel: Channel },
    #[error("e-mail and in-app reminders need at least one recipient")]
    NoRecipients,
    #[error("{count} recipients: at most {MAX_RECIPIENTS}")]
    TooManyRecipients { count: usize },
    #[error("{address:?} is not a usable e-mail address ({problem})")]
    InvalidEmail {
        address: String,
        problem: EmailProblem,
    },
    #[error("escalation from {days} days is outside 0 to {MAX_LEAD_DAYS}")]
    EscalationOutOfRange { days: i32 },
    #[error("an escalation needs at least one role")]
    EscalationWithoutRoles,
}

impl PolicyError {
    /// The stable code of the rule broken.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LeadTimeOutOfRange { .. } => "lead-time-out-of-range",
            Self::DuplicateLeadTime { .. } => "duplicate-lead-time",
            Self::TooManyLeadTimes { .. } => "too-many-lead-times",
            Self::OverdueCadenceOutOfRange { .. } => "overdue-cadence-out-of-range",
            Self::NothingToSend => "nothing-to-send",
            Self::SendHourOutOfRange { .. } => "send-hour-out-of-range",
            Self::SendMinuteOutOfRange { .. } => "send-minute-out-of-range",
            Self::UnknownTimeZone { .. } => "unknown-time-zone",
            Self::NoChannels => "no-channels",
            Self::ChannelNotAllowed { .. } => "channel-not-allowed",
            Self::NoRecipients => "no-recipients",
            Self::TooManyRecipients { .. } => "too-many-recipients",
            Self::InvalidEmail { .. } => "invalid-email",
            Self::EscalationOutOfRange { .. } => "escalation-out-of-range",
            Self::EscalationWithoutRoles => "escalation-without-roles",
        }
    }

    /// The input field at fault, dot-separated.
    pub fn field(&self) -> &'static str {
        match self {
            Self::LeadTimeOutOfRange { .. }
            | Self::DuplicateLeadTime { .. }
            | Self::TooManyLeadTimes { .. }
            | Self::NothingToSend => "leadDays",
            Self::OverdueCadenceOutOfRange { .. } => "overdueEveryDays",
            Self::SendHourOutOfRange { .. } => "sendHour",
            Self::SendMinuteOutOfRange { .. } => "sendMinute",
            Self::UnknownTimeZone { .. } => "timeZone",
            Self::NoChannels | Self::ChannelNotAllowed { .. } => "channels",
            Self::NoRecipients | Self::TooManyRecipients { .. } => "recipients",
            Self::InvalidEmail { .. } => "recipients.emails",
            Self::EscalationOutOfRange { .. } => "escalation.withinDays",
            Self::EscalationWithoutRoles => "escalation.roles",
        }
    }
}

impl From<PolicyError> for DomainError {
    fn from(e: PolicyError) -> Self {
        DomainError::invalid(e.field(), e.to_string())
    }
}

/// Parses an IANA time zone name (`Europe/Berlin`, `UTC`), exactly as the tz database spells it.
pub fn parse_time_zone(name: &str) -> Result<Tz, PolicyError> {
    name.parse::<Tz>()
        .map_err(|_| PolicyError::UnknownTimeZone {
            name: name.to_owned(),
        })
}

fn check_send_time(hour: i32, minute: i32) -> Result<NaiveTime, PolicyError> {
    if !(0..=23).contains(&hour) {
        return Err(PolicyError::SendHourOutOfRange { hour });
    }
    if !(0..=59).contains(&minute) {
        return Err(PolicyError::SendMinuteOutOfRange { minute });
    }
    let (h, m) = (hour.unsigned_abs(), minute.unsigned_abs());
    NaiveTime::from_hms_opt(h, m, 0).ok_or(PolicyError::SendHourOutOfRange { hour })
}

fn dedup_channels(channels: &[Channel]) -> Vec<Channel> {
    let mut out = channels.to_vec();
    out.sort();
    out.dedup();
    out
}

impl ReminderPolicy {
    /// Every rule this policy breaks, in field order (lead times, cadence, send time, zone,
    /// channels, recipients, escalation). Empty when the policy is valid.
    pub fn problems(&self) -> Vec<PolicyError> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for &d in &self.lead_days {
            if !(0..=MAX_LEAD_DAYS).contains(&d) {
                out.push(PolicyError::LeadTimeOutOfRange { days: d });
            } else if seen.contains(&d) {
                out.push(PolicyError::DuplicateLeadTime { days: d });
            } else {
                seen.push(d);
            }
        }
        if self.lead_days.len() > MAX_LEAD_TIMES {
            out.push(PolicyError::TooManyLeadTimes {
                count: self.lead_days.len(),
            });
        }
        if let Some(days) = self.overdue_every_days
            && !(1..=MAX_OVERDUE_EVERY_DAYS).contains(&days)
        {
            out.push(PolicyError::OverdueCadenceOutOfRange { days });
        }
        if self.enabled && self.lead_days.is_empty() && self.overdue_every_days.is_none() {
            out.push(PolicyError::NothingToSend);
        }
        if let Err(e) = check_send_time(self.send_hour, self.send_minute) {
            out.push(e);
        }
        if let Err(e) = parse_time_zone(&self.time_zone) {
            out.push(e);
        }
        if self.channels.is_empty() {
            out.push(PolicyError::NoChannels);
        }
        let needs_people = self.channels.iter().any(|&c| c != Channel::Webhook);
        if needs_people && self.recipients.is_empty() {
            out.push(PolicyError::NoRecipients);
        }
        if self.recipients.len() > MAX_RECIPIENTS {
            out.push(PolicyError::TooManyRecipients {
                count: self.recipients.len(),
            });
        }
        for address in &self.recipients.emails {
            if let Err(problem) = check_email_address(address) {
                out.push(PolicyError::InvalidEmail {
                    address: address.clone(),
                    problem,
                });
            }
        }
        if let Some(esc) = &self.escalation {
            if !(0..=MAX_LEAD_DAYS).contains(&esc.within_days) {
                out.push(PolicyError::EscalationOutOfRange {
                    days: esc.within_days,
                });
            }
            if esc.roles.is_empty() {
                out.push(PolicyError::EscalationWithoutRoles);
            }
        }
        out
    }

    /// Checks the policy and compiles it into the [`Schedule`] the scheduling functions use.
    /// Fails with the first of [`ReminderPolicy::problems`].
    pub fn check(&self) -> Result<Schedule, PolicyError> {
        if let Some(first) = self.problems().into_iter().next() {
            return Err(first);
        }
        let tz = parse_time_zone(&self.time_zone)?;
        let send_time = check_send_time(self.send_hour, self.send_minute)?;
        let mut lead_days: Vec<u16> = self
            .lead_days
            .iter()
            .filter_map(|&d| u16::try_from(d).ok())
            .collect();
        lead_days.sort_unstable_by(|a, b| b.cmp(a));
        lead_days.dedup();
        let overdue_every_days = self
            .overdue_every_days
            .and_then(|d| u16::try_from(d).ok())
            .filter(|&d| d > 0);
        let escalation = self
            .escalation
            .as_ref()
            .and_then(|e| Some((u16::try_from(e.within_days).ok()?, e.roles.clone())));
        Ok(Schedule {
            kind: self.kind,
            enabled: self.enabled,
            lead_days,
            overdue_every_days,
            tz,
            send_time,
            channels: dedup_channels(&self.channels),
            recipients: self.recipients.clone(),
            escalation,
        })
    }
}

/// A checked reminder policy, ready to schedule with. Built only by [`ReminderPolicy::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: DueKind,
    enabled: bool,
    lead_days: Vec<u16>,
    overdue_every_days: Option<u16>,
    tz: Tz,
    send_time: NaiveTime,
    channels: Vec<Channel>,
    recipients: Recipients,
    escalation: Option<(u16, Vec<RecipientRole>)>,
}

impl Schedule {
    pub fn kind(&self) -> DueKind {
        self.kind
    }
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    /// The lead times, largest first (so their occurrences come in time order).
    pub fn lead_days(&self) -> &[u16] {
        &self.lead_days
    }
    pub fn overdue_every_days(&self) -> Option<u16> {
        self.overdue_every_days
    }
    pub fn time_zone(&self) -> Tz {
        self.tz
    }
    /// The local time of day reminders are sent at.
    pub fn send_time(&self) -> NaiveTime {
        self.send_time
    }
    /// The channels, without duplicates, in a fixed order.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }
    pub fn recipients(&self) -> &Recipients {
        &self.recipients
    }

    /// The roles one occurrence goes to: the policy's roles, plus the escalation roles when
    /// the occurrence is escalated; each role once, in the policy's order.
    pub fn recipient_roles(&self, occurrence: &Occurrence) -> Vec<RecipientRole> {
        let mut out = self.recipients.roles.clone();
        if let (true, Some((_, extra))) = (occurrence.escalated, &self.escalation) {
            out.extend(extra.iter().copied());
        }
        let mut seen = Vec::with_capacity(out.len());
        out.retain(|r| {
            let new = !seen.contains(r);
            seen.push(*r);
            new
        });
        out
    }

    fn escalates(&self, step: Step) -> bool {
        match (step, &self.escalation) {
            (_, None) => false,
            (Step::Overdue { .. }, Some(_)) => true,
            (Step::Lead { days }, Some((within, _))) => days <= *within,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Local time to UTC
// ---------------------------------------------------------------------------------------------

/// The UTC instant of the local wall-clock time `time` on `date` in `tz`.
///
/// The IANA rules decide the offset. Two local times need a rule of ours:
///
/// - **A time that does not exist** (it falls in a spring-forward gap, e.g. 02:30 on
///   2026-03-08 in America/New_York, where clocks jump from 02:00 EST to 03:00 EDT) is moved to
///   the first instant that exists after it: the end of the gap, 03:00 EDT = 07:00Z. Not "the
///   same time shifted by the gap length" (that would be 03:30): a reminder is never sent later
///   than it must be.
/// - **A time that happens twice** (it falls in a fall-back overlap, e.g. 01:30 on 2026-11-01
///   in America/New_York, first in EDT and then in EST) takes the earlier instant (05:30Z, not
///   06:30Z): a reminder is sent at the first moment the local clock shows its time, once.
///
/// `None` only when the date is at the edge of what chrono represents.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let local = date.and_time(time);
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => Some(t.with_timezone(&Utc)),
        None => end_of_gap(tz, local),
    }
}

/// The first instant whose local time in `tz` is after `local`, which lies in a gap: the
/// instant the clocks jumped. Found by stepping forward a minute at a time to the first local
/// time that exists (gaps in the tz database last at most a day), then back a second at a time
/// to the exact end of the gap (for the few historical offsets with seconds).
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let exists = |t: NaiveDateTime| tz.from_local_datetime(&t).earliest();
    for minutes in 1..=(48 * 60) {
        let candidate = local.checked_add_signed(TimeDelta::minutes(minutes))?;
        if let Some(mut first) = exists(candidate) {
            for seconds in 1..60 {
                let earlier = candidate.checked_sub_signed(TimeDelta::seconds(seconds))?;
                if earlier <= local {
                    break;
                }
                match exists(earlier) {
                    Some(t) => first = t,
                    None => break,
                }
            }
            return Some(first.with_timezone(&Utc));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Due items and occurrences
// ---------------------------------------------------------------------------------------------

/// One tracked due item, as computed from its source (issue 7: "from the computed due dates,
/// never from copies that can go stale").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueItem {
    pub tenant_id: Uuid,
    /// The certificate, audit, agreement, risk... the item is about.
    pub subject_id: Uuid,
    pub kind: DueKind,
    /// The due date, a calendar date in the tenant's zone.
    pub due_on: NaiveDate,
    /// Done (renewed, reviewed, closed): nothing more is scheduled, overdue reminders stop.
    pub resolved: bool,
}

/// Which reminder of an item an occurrence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Step {
    /// `days` before the due date (0: on the due date).
    Lead { days: u16 },
    /// The `n`-th overdue repetition (n ≥ 1): on the due date + n × the cadence.
    Overdue { n: u32 },
}

impl Step {
    /// The step's part of the idempotency key: `lead-30`, `overdue-2`.
    pub fn key(self) -> String {
        match self {
            Self::Lead { days } => format!("lead-{days}"),
            Self::Overdue { n } => format!("overdue-{n}"),
        }
    }
}

/// One reminder of one item: when it goes out and the key that makes it written once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Occurrence {
    pub tenant_id: Uuid,
    pub subject_id: Uuid,
    pub kind: DueKind,
    pub due_on: NaiveDate,
    pub step: Step,
    /// The local calendar date it is sent on.
    pub local_date: NaiveDate,
    /// The UTC instant of the local send time on `local_date` ([`local_instant`]).
    pub send_at: DateTime<Utc>,
    /// Whether the policy's escalation roles receive it too.
    pub escalated: bool,
}

/// The namespace of the name-based (v5) UUIDs of reminders: the v5 UUID of the URL
/// `urn:grc:reminder` in the RFC 9562 URL namespace, written out.
pub const REMINDER_NAMESPACE: Uuid = Uuid::from_u128(0x6c8a_8588_8ec9_53de_8cbe_b6a7_c047_c00d);

impl Occurrence {
    /// The idempotency key of issue 7, (tenant, subject, kind, due date, lead time or overdue
    /// repetition), as one stable string:
    /// `rem:{tenant}:{subject}:{kind}:{due date}:{step}`, e.g.
    /// `rem:…:…:certificate-expiry:2026-12-31:lead-30`. It holds no `.`, so it can be the
    /// Standard Webhooks `webhook-id` as it is (the signed content is `{id}.{timestamp}.{body}`).
    /// A changed due date (a renewed certificate) gives new keys; reminders under the old ones
    /// are the ones to retire.
    pub fn idempotency_key(&self) -> String {
        format!(
            "rem:{}:{}:{}:{}:{}",
            self.tenant_id,
            self.subject_id,
            self.kind.as_str(),
            self.due_on.format("%Y-%m-%d"),
            self.step.key()
        )
    }

    /// The same key as a name-based UUID (v5, SHA-1, in [`REMINDER_NAMESPACE`]): a fixed-size
    /// primary key for the reminder row.
    pub fn idempotency_uuid(&self) -> Uuid {
        Uuid::new_v5(&REMINDER_NAMESPACE, self.idempotency_key().as_bytes())
    }

    /// Days from the local send date to the due date: the lead time, or minus the days overdue.
    pub fn days_until_due(&self) -> i64 {
        (self.due_on - self.local_date).num_days()
    }
}

/// The stable UID of an item's event in the iCalendar feed: the same for every due date of the
/// same (tenant, subject, kind), so a renewed certificate updates its event instead of adding
/// one (issue 7, "iCalendar": "stable UIDs").
pub fn calendar_uid(tenant_id: Uuid, subject_id: Uuid, kind: DueKind) -> String {
    let name = format!("cal:{tenant_id}:{subject_id}:{}", kind.as_str());
    format!(
        "{}@grc",
        Uuid::new_v5(&REMINDER_NAMESPACE, name.as_bytes()).hyphenated()
    )
}

fn occurrence(
    item: &DueItem,
    schedule: &Schedule,
    step: Step,
    local_date: NaiveDate,
) -> Option<Occurrence> {
    Some(Occurrence {
        tenant_id: item.tenant_id,
        subject_id: item.subject_id,
        kind: item.kind,
        due_on: item.due_on,
        step,
        local_date,
        send_at: local_instant(schedule.tz, local_date, schedule.send_time)?,
        escalated: schedule.escalates(step),
    })
}

fn schedules(item: &DueItem, schedule: &Schedule) -> bool {
    !item.resolved && schedule.enabled
}

/// Every lead-time occurrence of an unresolved item under an enabled schedule, in time order
/// (largest lead first); nothing for a resolved item or a disabled policy.
pub fn lead_occurrences(item: &DueItem, schedule: &Schedule) -> Vec<Occurrence> {
    if !schedules(item, schedule) {
        return Vec::new();
    }
    schedule
        .lead_days
        .iter()
        .filter_map(|&days| {
            let date = item.due_on.checked_sub_days(Days::new(u64::from(days)))?;
            occurrence(item, schedule, Step::Lead { days }, date)
        })
        .collect()
}

/// The `n`-th overdue occurrence (n ≥ 1) of an unresolved item: on the due date + n × the
/// cadence. `None` for n = 0, without a cadence, for a resolved item or a disabled policy.
pub fn overdue_occurrence(item: &DueItem, schedule: &Schedule, n: u32) -> Option<Occurrence> {
    let every = schedule.overdue_every_days?;
    if n == 0 || !schedules(item, schedule) {
        return None;
    }
    let offset = u64::from(n).checked_mul(u64::from(every))?;
    let date = item.due_on.checked_add_days(Days::new(offset))?;
    occurrence(item, schedule, Step::Overdue { n }, date)
}

/// The overdue repetitions whose local date could give a send instant in `[from, to)`. A send
/// instant and its local date are less than two days apart (UTC offsets lie within −12:00 to
/// +14:00 and a gap moves a time forward by at most a day), so the dates from `from`'s UTC date
/// − 2 to `to`'s + 2 cover them all.
fn overdue_range(item: &DueItem, every: u16, from: DateTime<Utc>, to: DateTime<Utc>) -> (u32, u32) {
    let every = i64::from(every);
    let first = (from.date_naive() - item.due_on).num_days() - 2;
    let last = (to.date_naive() - item.due_on).num_days() + 2;
    if last < every {
        return (1, 0);
    }
    let lo = if first <= every {
        1
    } else {
        (first + every - 1) / every
    };
    let hi = last / every;
    (
        u32::try_from(lo).unwrap_or(u32::MAX),
        u32::try_from(hi).unwrap_or(u32::MAX),
    )
}

/// The occurrences whose `send_at` lies in the half-open window `[from, to)`, in time order.
///
/// Half-open so that a scheduler whose ticks cover `[t0, t1)`, `[t1, t2)`, ... sees every
/// occurrence exactly once: never twice at a shared boundary, never skipped between ticks.
/// Nothing for a resolved item, a disabled policy or an empty window. Meant for tick-sized
/// windows: the work is proportional to the overdue repetitions the window spans.
pub fn due_between(
    item: &DueItem,
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Occurrence> {
    if from >= to || !schedules(item, schedule) {
        return Vec::new();
    }
    let in_window = |o: &Occurrence| from <= o.send_at && o.send_at < to;
    let mut out: Vec<Occurrence> = lead_occurrences(item, schedule)
        .into_iter()
        .filter(in_window)
        .collect();
    if let Some(every) = schedule.overdue_every_days {
        let (lo, hi) = overdue_range(item, every, from, to);
        let mut n = lo;
        while n <= hi {
            if let Some(o) = overdue_occurrence(item, schedule, n).filter(in_window) {
                out.push(o);
            }
            match n.checked_add(1) {
                Some(next) => n = next,
                None => break,
            }
        }
    }
    out.sort_by_key(|o| o.send_at);
    out
}

/// The first occurrence sent at or after `at`, if any: the scheduler's next wake-up for the
/// item, and the "next reminder" a user interface shows.
pub fn next_occurrence(
    item: &DueItem,
    schedule: &Schedule,
    at: DateTime<Utc>,
) -> Option<Occurrence> {
    if !schedules(item, schedule) {
        return None;
    }
    if let Some(o) = lead_occurrences(item, schedule)
        .into_iter()
        .find(|o| o.send_at >= at)
    {
        return Some(o);
    }
    let every = schedule.overdue_every_days?;
    let (lo, _) = overdue_range(item, every, at, at);
    // `lo` is the first repetition dated from `at`'s UTC date − 2 on. The local date of `at` is
    // at most a day after its UTC date, and the first repetition sent at or after `at` is dated
    // at most a day after that: within 4 days of `lo`'s date, so among the next 5 repetitions
    // (a cadence of 1 day is the worst case).
    (lo..lo.saturating_add(5))
        .filter_map(|n| overdue_occurrence(item, schedule, n))
        .find(|o| o.send_at >= at)
}

/// What to do about the occurrences a scheduler finds in `[since, now)` after it was down (or
/// on its first tick for an item).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatchUp {
    /// The one occurrence to send now.
    pub send: Option<Occurrence>,
    /// The older ones, superseded: record them as skipped (so the delivery log shows them),
    /// never send them.
    pub skipped: Vec<Occurrence>,
}

/// The catch-up rule for occurrences missed while the scheduler was not running: of the
/// occurrences with `send_at` in `[since, now)`, send only the most recent one, once, and skip
/// the rest.
///
/// Why: each reminder says how far off the due date is; after an outage only the latest one
/// is still true (its successor has not come yet), and a burst of "90 days", "60 days", "30
/// days" reminders at once is noise that teaches people to ignore them. The latest one is sent
/// even when the due date has since passed: a late "due in 1 day" is rendered from `now` by
/// the template and still tells someone what they missed, where skipping it would leave
/// nothing until the next overdue repetition, a week later.
///
/// On a normal tick the window holds at most one occurrence per item and this is the same as
/// [`due_between`]. For an item tracked for the first time (a certificate recorded 20 days
/// before it expires) a scheduler may call this with `since` = the moment of recording to send
/// the 30-day reminder at once rather than wait for the 7-day one.
pub fn catch_up(
    item: &DueItem,
    schedule: &Schedule,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CatchUp {
    let mut missed = due_between(item, schedule, since, now);
    let send = missed.pop();
    CatchUp {
        send,
        skipped: missed,
    }
}

// ---------------------------------------------------------------------------------------------
// Deliveries: keys, digests and retries
// ---------------------------------------------------------------------------------------------

/// Whom one delivery of an occurrence goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "id")]
pub enum DeliveryTarget {
    /// A member of the tenant (e-mail to their address, or in-app).
    User(Uuid),
    /// An external address (e-mail only).
    Email(String),
    /// One of the tenant's webhook endpoints.
    Endpoint(Uuid),
}

impl DeliveryTarget {
    /// The target's part of a delivery key: `user-{id}`, `email-{address, lower-cased}`,
    /// `endpoint-{id}`. Addresses are lower-cased so that two spellings of one mailbox give one
    /// delivery.
    pub fn key(&self) -> String {
        match self {
            Self::User(id) => format!("user-{id}"),
            Self::Email(a) => format!("email-{}", a.to_lowercase()),
            Self::Endpoint(id) => format!("endpoint-{id}"),
        }
    }
}

/// The key of one delivery (one occurrence, one channel, one target): the unique constraint that
/// makes each reminder reach each recipient once per channel (issue 7: "once per recipient and
/// channel"). `{occurrence key}:{channel}:{target}`.
pub fn delivery_key(occurrence: &Occurrence, channel: Channel, target: &DeliveryTarget) -> String {
    format!(
        "{}:{}:{}",
        occurrence.idempotency_key(),
        channel.as_str(),
        target.key()
    )
}

/// A member's daily digest option (issue 7: "A daily digest option per user"), as entered.
/// With a digest, the member's e-mail reminders are held and sent together once a day at the
/// digest's local time; in-app notifications still arrive one by one (they do not interrupt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestOption {
    pub enabled: bool,
    /// 0 to 23.
    pub send_hour: i32,
    /// 0 to 59.
    pub send_minute: i32,
    /// The member's own IANA zone; `None` uses the tenant's.
    pub time_zone: Option<String>,
    /// Non-empty; e-mail and in-app only (a digest is for a person, not a webhook endpoint).
    pub channels: Vec<Channel>,
    /// Send nothing on a day with nothing to report.
    pub skip_when_empty: bool,
}

impl Default for DigestOption {
    /// Off; when turned on: 09:00 in the tenant's zone, by e-mail, nothing on empty days.
    fn default() -> Self {
        Self {
            enabled: false,
            send_hour: DEFAULT_SEND_HOUR,
            send_minute: 0,
            time_zone: None,
            channels: vec![Channel::Email],
            skip_when_empty: true,
        }
    }
}

impl DigestOption {
    /// Every rule the option breaks: the send time, the zone (its own, if set), channels
    /// non-empty and without webhooks.
    pub fn problems(&self) -> Vec<PolicyError> {
        let mut out = Vec::new();
        if let Err(e) = check_send_time(self.send_hour, self.send_minute) {
            out.push(e);
        }
        if let Some(name) = &self.time_zone
            && let Err(e) = parse_time_zone(name)
        {
            out.push(e);
        }
        if self.channels.is_empty() {
            out.push(PolicyError::NoChannels);
        }
        if self.channels.contains(&Channel::Webhook) {
            out.push(PolicyError::ChannelNotAllowed {
                channel: Channel::Webhook,
            });
        }
        out
    }

    /// Checks the option and fixes its zone (`tenant_zone` when it has none of its own).
    pub fn check(&self, tenant_zone: &str) -> Result<DigestSchedule, PolicyError> {
        if let Some(first) = self.problems().into_iter().next() {
            return Err(first);
        }
        let tz = parse_time_zone(self.time_zone.as_deref().unwrap_or(tenant_zone))?;
        Ok(DigestSchedule {
            enabled: self.enabled,
            tz,
            send_time: check_send_time(self.send_hour, self.send_minute)?,
            channels: dedup_channels(&self.channels),
            skip_when_empty: self.skip_when_empty,
        })
    }
}

/// A checked digest option.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestSchedule {
    enabled: bool,
    tz: Tz,
    send_time: NaiveTime,
    channels: Vec<Channel>,
    skip_when_empty: bool,
}

/// One day's digest of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRun {
    /// The local date it is for.
    pub local_date: NaiveDate,
    /// When it is sent.
    pub send_at: DateTime<Utc>,
    /// It reports the reminders with `send_at` in `[covers_from, send_at)`: from the previous
    /// day's digest on, so consecutive digests neither repeat nor drop a reminder.
    pub covers_from: DateTime<Utc>,
}

impl DigestSchedule {
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }
    pub fn skip_when_empty(&self) -> bool {
        self.skip_when_empty
    }
    /// Whether a reminder on `channel` waits for the digest (e-mail, when the digest is on).
    pub fn holds(&self, channel: Channel) -> bool {
        self.enabled && channel == Channel::Email
    }

    fn run(&self, date: NaiveDate) -> Option<DigestRun> {
        let prev = date.pred_opt()?;
        Some(DigestRun {
            local_date: date,
            send_at: local_instant(self.tz, date, self.send_time)?,
            covers_from: local_instant(self.tz, prev, self.send_time)?,
        })
    }

    /// The digests sent in `[from, to)`, in time order (the same half-open rule as
    /// [`due_between`]); nothing when the digest is off.
    pub fn due_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DigestRun> {
        if !self.enabled || from >= to {
            return Vec::new();
        }
        let mut out = Vec::new();
        let (Some(mut date), Some(last)) = (
            from.date_naive().checked_sub_days(Days::new(2)),
            to.date_naive().checked_add_days(Days::new(2)),
        ) else {
            return out;
        };
        while date <= last {
            if let Some(run) = self.run(date)
                && from <= run.send_at
                && run.send_at < to
            {
                out.push(run);
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        out
    }
}

/// The idempotency key of one member's digest for one local date:
/// `digest:{tenant}:{user}:{date}`.
pub fn digest_key(tenant_id: Uuid, user_id: Uuid, local_date: NaiveDate) -> String {
    format!(
        "digest:{tenant_id}:{user_id}:{}",
        local_date.format("%Y-%m-%d")
    )
}

/// The Standard Webhooks retry schedule (its "Deliverability and reliability" section), used by
/// every channel (issue 7, "Queue and delivery"): the delays before attempts 2 to 10, each
/// counted from the attempt before it. 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
pub const RETRY_DELAYS_SECONDS: [i64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// The attempts a delivery gets before it is dead-lettered: the first and nine retries.
pub const MAX_ATTEMPTS: u32 = 10;

/// When to make the next attempt after attempt number `attempt_number` (1 = the first) failed
/// at `last_attempt_at` (pass the time the attempt ended, so a slow timeout does not eat into
/// the delay). `None` after the tenth attempt: the delivery is dead-lettered (visible, and
/// retryable by hand). `attempt_number` 0 means nothing was tried yet: now.
pub fn next_retry(attempt_number: u32, last_attempt_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if attempt_number == 0 {
        return Some(last_attempt_at);
    }
    let index = usize::try_from(attempt_number - 1).ok()?;
    let delay = RETRY_DELAYS_SECONDS.get(index)?;
    last_attempt_at.checked_add_signed(TimeDelta::seconds(*delay))
}

/// The longest `Retry-After` honoured: a day, the schedule's longest delay, so that a receiver
/// cannot park a delivery for ever.
pub const MAX_RETRY_AFTER_SECONDS: i64 = 24 * 3600;

/// [`next_retry`], taking a receiver's `Retry-After` into account (Standard Webhooks: it
/// "should be taken into consideration"): the later of the scheduled time and
/// `last_attempt_at + retry_after`, the latter capped at [`MAX_RETRY_AFTER_SECONDS`]. It never
/// brings a retry forward, and never revives a dead-lettered delivery.
pub fn next_retry_after(
    attempt_number: u32,
    last_attempt_at: DateTime<Utc>,
    retry_after_seconds: Option<i64>,
) -> Option<DateTime<Utc>> {
    let scheduled = next_retry(attempt_number, last_attempt_at)?;
    let asked = retry_after_seconds
        .map(|s| s.clamp(0, MAX_RETRY_AFTER_SECONDS))
        .and_then(|s| last_attempt_at.checked_add_signed(TimeDelta::seconds(s)));
    Some(asked.map_or(scheduled, |a| a.max(scheduled)))
}
