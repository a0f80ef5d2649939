//! Certificates GraphQL: the tenant's own ISO/IEC 27001 and 27701 certificates, the audits of
//! their certification body and its decisions, and the status and due events computed from
//! them on any date (the ISO/IEC 17021-1 certificate cycle of `grc_domain::certification`).
//!
//! Roles: every member reads certificates (`ReadIsms`); recording them, their audits and
//! decisions and their documents takes an owner or compliance manager (`ManageCertificates`).
//!
//! Every change to a certificate's audits or decisions is applied in memory to the whole
//! history first and validated with [`dom::Certificate::new`]; a history the rules refuse is
//! answered `BAD_USER_INPUT` with the rule's message, and nothing is stored. A certificate's
//! status is never stored: it follows from the history and the date asked about.
//!
//! A tenant has few certificates: lists load them all with their audits and decisions (one
//! query each) and filter and page in memory.

use super::common::{
    checked_date, checked_text, conflict, free_text, invalid, member_owner, not_found,
    optional_text, record, settle, stored_enum, today, user_id,
};
use super::connection::{ConnectionFields, PageArgs, build, page_in_memory};
use super::evidence::{Evidence, check_upload, store_upload};
use super::ids::{Kind, decode_kind, encode};
use super::isms::SoaVersion;
use super::query::page_cost;
use super::{Authorized, authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::Connection;
use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use chrono::{DateTime, Days, NaiveDate, Utc};
use grc_domain::DomainError;
use grc_domain::authz::Operation;
use grc_domain::certification as dom;
use grc_store::entity::vendors::{certificate, certificate_audit, certificate_decision};
use grc_store::{StoreError, TenantTx};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

const TEXT: usize = 20_000;
const MAX_SITES: usize = 100;
const MAX_AUDITORS: usize = 20;
const MAX_FINDINGS: i32 = 10_000;

stored_enum!(
    /// The certified standard.
    CertificateStandard {
        /// ISO/IEC 27001 (information security management systems).
        #[graphql(name = "ISO27001")]
        Iso27001 = "iso27001",
        /// ISO/IEC 27701 (privacy information management systems).
        #[graphql(name = "ISO27701")]
        Iso27701 = "iso27701",
    }
);

stored_enum!(
    /// The edition of the certified standard: 2013 and 2022 for ISO/IEC 27001, 2019 and 2025
    /// for ISO/IEC 27701.
    CertificateEdition {
        #[graphql(name = "E2013")]
        E2013 = "2013",
        #[graphql(name = "E2022")]
        E2022 = "2022",
        #[graphql(name = "E2019")]
        E2019 = "2019",
        #[graphql(name = "E2025")]
        E2025 = "2025",
    }
);

stored_enum!(
    /// An audit of the certification body (ISO/IEC 17021-1:2015 9.1.3, 9.3, 9.6).
    CertificationAuditKind {
        /// Initial audit, stage 1: documented information, readiness, planning of stage 2.
        #[graphql(name = "STAGE1")]
        Stage1 = "stage1",
        /// Initial audit, stage 2: implementation and effectiveness.
        #[graphql(name = "STAGE2")]
        Stage2 = "stage2",
        /// At least once each calendar year but the recertification year; the first no later
        /// than 12 months after the certification decision.
        Surveillance = "surveillance",
        /// Before the cycle's expiry.
        Recertification = "recertification",
        /// Scope extension, short-notice or unannounced audit.
        Special = "special",
        /// The ISO/IEC 27001:2013 to 2022 transition audit (IAF MD 26).
        Transition = "transition",
    }
);

stored_enum!(
    /// A decision of the certification body.
    CertificationDecisionKind {
        /// The initial certification: starts the first 3-year cycle (17021-1 9.1.3.2).
        Certification = "certification",
        /// Before expiry: keeps the cycle dates; after expiry, within 6 months: restores the
        /// certification (17021-1 9.6.3).
        Recertification = "recertification",
        /// The certification is temporarily invalid (17021-1 9.6.5).
        Suspension = "suspension",
        SuspensionLifted = "suspension-lifted",
        /// The certification ends; nothing follows (17021-1 9.6.5).
        Withdrawal = "withdrawal",
        /// Parts that persistently failed are excluded; ends a suspension (17021-1 9.6.5).
        ScopeReduction = "scope-reduction",
        /// A 2013-edition certificate moved to the 2022 edition (IAF MD 26).
        Transition = "transition",
    }
);

stored_enum!(
    /// A certificate's status on a date.
    CertificateStatus {
        /// No certification decision yet (audits may be under way).
        Pending = "pending",
        /// Certified and valid.
        Active = "active",
        /// Temporarily invalid (17021-1 9.6.5).
        Suspended = "suspended",
        /// Past its expiry (printed, or the end of the 2013 transition), possibly restorable.
        Expired = "expired",
        /// Withdrawn by the certification body.
        Withdrawn = "withdrawn",
    }
);

stored_enum!(
    /// Why a certificate is expired.
    CertificateExpiryReason {
        /// The cycle's printed expiry passed without a recertification decision.
        PrintedExpiry = "printed-expiry",
        /// An ISO/IEC 27001:2013 certificate after 2025-10-31 (IAF MD 26).
        TransitionEnd = "transition-end",
    }
);

stored_enum!(
    /// What falls due for a certificate.
    CertificateDueKind {
        /// The certification decision after a stage 2 with major nonconformities, at most 6
        /// months after stage 2 (17021-1 9.4/9.5).
        CertificationDecision = "certification-decision",
        /// The first surveillance audit, at most 12 months after the initial certification
        /// decision (17021-1 9.6.2.2).
        FirstSurveillance = "first-surveillance",
        /// A surveillance audit in a calendar year of the cycle that is not its
        /// recertification year (17021-1 9.1.3.3).
        AnnualSurveillance = "annual-surveillance",
        /// The recertification decision, by the cycle's expiry (17021-1 9.6.3).
        Recertification = "recertification",
        /// Restoration after expiry, at most 6 months after it (17021-1 9.6.3.2.5).
        Restoration = "restoration",
        /// Resolving a suspension, normally within 6 months (17021-1 9.6.5).
        SuspensionResolution = "suspension-resolution",
        /// The transition of an ISO/IEC 27001:2013 certificate, by 2025-10-31 (IAF MD 26).
        Transition = "transition",
    }
);

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CertificateTimelineKind {
    Audit,
    Decision,
    /// An obligation that falls due (from `nextDueEvents`).
    Due,
}

fn strings_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

// ---------------------------------------------------------------------------------------------
// The lifecycle from stored rows

/// Validates a certificate's history (as it is, or as a change would make it) with the
/// lifecycle rules: the store's one mapping from rows, which the reminder scheduler uses too.
pub(crate) fn lifecycle(
    row: &certificate::Model,
    audits: &[certificate_audit::Model],
    decisions: &[certificate_decision::Model],
) -> Result<dom::Certificate, DomainError> {
    grc_store::certificate_lifecycle(row, audits, decisions)
}

/// [`lifecycle`] for a change: a refusal names the input field of the change (`field`, or
/// `expires_field` when the rule is about a printed expiry, `edition` for an edition that does
/// not belong to the standard) with the rule's message.
fn check_history(
    row: &certificate::Model,
    audits: &[certificate_audit::Model],
    decisions: &[certificate_decision::Model],
    field: &str,
    expires_field: Option<&str>,
) -> Result<dom::Certificate, MutationError> {
    lifecycle(row, audits, decisions).map_err(|e| match e {
        DomainError::Invalid(f) => {
            let at = if f.field.first().is_some_and(|x| x == "edition") {
                "edition"
            } else if f.field.last().is_some_and(|x| x == "expires") {
                expires_field.unwrap_or(field)
            } else {
                field
            };
            invalid(at, f.message)
        }
        other => other.into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Object types

/// A recognized accreditation body: an IAF MLA signatory for ISMS certification.
#[derive(Debug, Clone, SimpleObject)]
pub struct AccreditationBody {
    /// Its usual acronym, e.g. "UKAS" (what `accreditationBody` takes).
    pub code: String,
    pub name: String,
    /// The economies it serves (ISO 3166 codes).
    pub country: String,
}

impl From<&dom::AccreditationBody> for AccreditationBody {
    fn from(b: &dom::AccreditationBody) -> Self {
        Self {
            code: b.code.into(),
            name: b.name.into(),
            country: b.country.into(),
        }
    }
}

/// What a certificate is on one date.
#[derive(Debug, Clone, SimpleObject)]
pub struct CertificateState {
    pub status: CertificateStatus,
    /// Why it is expired (only when expired).
    pub expiry_reason: Option<CertificateExpiryReason>,
    /// Active on the date (a suspended certificate is temporarily invalid).
    pub valid: bool,
    /// The first day of the certification cycle in effect (or that lapsed).
    pub cycle_start: Option<NaiveDate>,
    /// The last valid day of that cycle: the printed expiry, or 2025-10-31 for an
    /// ISO/IEC 27001:2013 certificate not transitioned by then, whichever is earlier.
    pub valid_until: Option<NaiveDate>,
    /// While expired by its printed expiry: the last day a recertification decision can
    /// restore it (expiry + 6 months, 17021-1 9.6.3.2.5).
    pub restorable_until: Option<NaiveDate>,
    /// The day the current status began.
    pub since: Option<NaiveDate>,
    /// Whether the cycle in effect began with a restoration after expiry.
    pub restored: bool,
}

/// An obligation that falls due, with its window.
#[derive(Debug, Clone, SimpleObject)]
pub struct CertificateDueEvent {
    pub kind: CertificateDueKind,
    /// The first day it may be done, where a rule sets one.
    pub opens: Option<NaiveDate>,
    /// The last day it may be done.
    pub due: NaiveDate,
    /// For an annual surveillance, the calendar year it is owed for.
    pub year: Option<i32>,
    /// Due before the date asked about.
    pub overdue: bool,
}

/// One entry of a certificate's timeline.
#[derive(Debug, Clone, SimpleObject)]
pub struct CertificateTimelineEntry {
    /// An audit's first day, a decision's date, a due event's last day.
    pub date: NaiveDate,
    pub kind: CertificateTimelineKind,
    pub title: String,
    /// The audit (`CertificationAudit`) or decision (`CertificationDecision`); null for a due
    /// event.
    pub event_id: Option<ID>,
    /// For a due event, what falls due.
    pub due_kind: Option<CertificateDueKind>,
}

/// One of the tenant's own ISO/IEC 27001 or 27701 certificates, with its history.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub(crate) row: certificate::Model,
    /// Oldest first, loaded with the page (or the node) this certificate came in.
    pub(crate) audits: Arc<Vec<certificate_audit::Model>>,
    /// Oldest first.
    pub(crate) decisions: Arc<Vec<certificate_decision::Model>>,
    pub(crate) life: Arc<Result<dom::Certificate, DomainError>>,
    /// The date a list judged it on (its `on`): the computed fields default to it, so they
    /// show what the list's filters saw.
    pub(crate) judged_on: Option<NaiveDate>,
    /// The document, when loaded with the page (`None`: not loaded, looked up on demand).
    pub(crate) document: Option<Option<Evidence>>,
}

impl Certificate {
    fn new(
        row: certificate::Model,
        audits: Vec<certificate_audit::Model>,
        decisions: Vec<certificate_decision::Model>,
    ) -> Self {
        let life = lifecycle(&row, &audits, &decisions);
        Self {
            row,
            audits: Arc::new(audits),
            decisions: Arc::new(decisions),
            life: Arc::new(life),
            judged_on: None,
            document: None,
        }
    }

    fn life(&self) -> Result<&dom::Certificate> {
        self.life.as_ref().as_ref().map_err(|e| {
            tracing::error!(certificate = %self.row.id, error = %e, "stored certificate history fails the lifecycle rules");
            gql_error(ErrorCode::Internal, "internal error")
        })
    }

    fn state_on(&self, on: NaiveDate) -> Result<CertificateState> {
        let life = self.life()?;
        let s = life.status_on(on);
        Ok(CertificateState {
            status: CertificateStatus::of(s.status.as_str())?,
            expiry_reason: s
                .expiry_reason
                .map(|r| CertificateExpiryReason::of(r.as_str()))
                .transpose()?,
            valid: s.is_valid(),
            cycle_start: s.cycle_start,
            valid_until: s.valid_until,
            restorable_until: s.restorable_until,
            since: s.since,
            restored: life.restored_on(on),
        })
    }

    fn due_on(&self, on: NaiveDate) -> Result<Vec<CertificateDueEvent>> {
        self.life()?
            .due_events(on)
            .into_iter()
            .map(|d| {
                Ok(CertificateDueEvent {
                    kind: CertificateDueKind::of(d.kind.as_str())?,
                    opens: d.opens,
                    due: d.due,
                    year: d.year,
                    overdue: d.overdue,
                })
            })
            .collect()
    }

    fn is_accredited(&self) -> bool {
        self.row
            .accreditation_body
            .as_deref()
            .is_some_and(|b| dom::accreditation_body(b).is_some())
    }
}

fn audit_label(kind: &str) -> &'static str {
    match CertificationAuditKind::parse(kind) {
        Some(CertificationAuditKind::Stage1) => "Stage 1 audit",
        Some(CertificationAuditKind::Stage2) => "Stage 2 audit",
        Some(CertificationAuditKind::Surveillance) => "Surveillance audit",
        Some(CertificationAuditKind::Recertification) => "Recertification audit",
        Some(CertificationAuditKind::Special) => "Special audit",
        Some(CertificationAuditKind::Transition) => "Transition audit",
        None => "Audit",
    }
}

fn audit_title(a: &certificate_audit::Model) -> String {
    let dates = if a.start_date == a.end_date {
        format!("on {}", a.start_date)
    } else {
        format!("from {} to {}", a.start_date, a.end_date)
    };
    format!(
        "{} {dates}: {} major and {} minor nonconformities, {} observations",
        audit_label(&a.kind),
        a.major_findings,
        a.minor_findings,
        a.observations
    )
}

fn decision_title(d: &certificate_decision::Model) -> String {
    let until = |what: &str| match d.expires_on {
        Some(x) => format!("{what}, valid until {x}"),
        None => what.to_owned(),
    };
    match CertificationDecisionKind::parse(&d.kind) {
        Some(CertificationDecisionKind::Certification) => until("Certification decision"),
        Some(CertificationDecisionKind::Recertification) => until("Recertification decision"),
        Some(CertificationDecisionKind::Suspension) => "Certification suspended".into(),
        Some(CertificationDecisionKind::SuspensionLifted) => "Suspension lifted".into(),
        Some(CertificationDecisionKind::Withdrawal) => "Certification withdrawn".into(),
        Some(CertificationDecisionKind::ScopeReduction) => "Scope reduced".into(),
        Some(CertificationDecisionKind::Transition) => "Transitioned to the 2022 edition".into(),
        None => "Decision".into(),
    }
}

fn due_title(d: &CertificateDueEvent) -> String {
    let what = match d.kind {
        CertificateDueKind::CertificationDecision => {
            "Certification decision (stage 2 major nonconformities closed)".to_owned()
        }
        CertificateDueKind::FirstSurveillance => "First surveillance audit".to_owned(),
        CertificateDueKind::AnnualSurveillance => match d.year {
            Some(y) => format!("Surveillance audit for {y}"),
            None => "Surveillance audit".to_owned(),
        },
        CertificateDueKind::Recertification => "Recertification decision".to_owned(),
        CertificateDueKind::Restoration => "Restoration by recertification".to_owned(),
        CertificateDueKind::SuspensionResolution => "Resolution of the suspension".to_owned(),
        CertificateDueKind::Transition => "Transition to ISO/IEC 27001:2022".to_owned(),
    };
    let window = match d.opens {
        Some(o) => format!(" (window {o} to {})", d.due),
        None => String::new(),
    };
    let late = if d.overdue { ": overdue" } else { "" };
    format!("{what} due by {}{window}{late}", d.due)
}

#[Object]
impl Certificate {
    pub async fn id(&self) -> ID {
        encode(Kind::Certificate, self.row.id)
    }
    /// The management system it certifies, if recorded.
    async fn isms_id(&self) -> Option<ID> {
        self.row.isms_id.map(|i| encode(Kind::Isms, i))
    }
    /// The number of the approved SoA version the certificate rests on (ISO/IEC 27006-1
    /// 8.2.2: the certification documents reference the SoA version).
    async fn soa_version_number(&self) -> Option<i32> {
        self.row.soa_version
    }
    /// That SoA version of the ISMS, if recorded.
    async fn soa_version(&self, ctx: &Context<'_>) -> Result<Option<SoaVersion>> {
        let (Some(isms), Some(number)) = (self.row.isms_id, self.row.soa_version) else {
            return Ok(None);
        };
        let az = authorize(ctx, Operation::ReadIsms)?;
        let id = {
            let tx = store(ctx)
                .tenant_tx(az.scope)
                .await
                .map_err(StoreErrorExt)?;
            let versions = tx.soa_versions(isms).await.map_err(StoreErrorExt)?;
            tx.commit().await.map_err(StoreErrorExt)?;
            versions
                .into_iter()
                .find(|v| v.number == number)
                .map(|v| v.id)
        };
        let Some(id) = id else { return Ok(None) };
        Ok(
            match super::isms::node(ctx, &az, Kind::SoaVersion, id).await? {
                Some(super::types::Node::SoaVersion(v)) => Some(v),
                _ => None,
            },
        )
    }
    async fn standard(&self) -> Result<CertificateStandard> {
        CertificateStandard::of(&self.row.standard)
    }
    async fn edition(&self) -> Result<CertificateEdition> {
        CertificateEdition::of(&self.row.edition)
    }
    async fn certificate_number(&self) -> &str {
        &self.row.certificate_number
    }
    async fn certification_body(&self) -> &str {
        &self.row.certification_body
    }
    /// The accreditation body as recorded (a recognized one by its code).
    async fn accreditation_body(&self) -> Option<&str> {
        self.row.accreditation_body.as_deref()
    }
    /// Whether the accreditation body is an IAF MLA signatory for ISMS certification (see
    /// `accreditationBodies`).
    async fn accredited(&self) -> bool {
        self.is_accredited()
    }
    /// Why the certificate counts as unaccredited; null when the accreditation body is
    /// recognized. Unaccredited certificates are accepted and flagged, never refused.
    async fn accreditation_warning(&self) -> Option<String> {
        if self.is_accredited() {
            return None;
        }
        Some(match &self.row.accreditation_body {
            Some(b) => {
                format!("{b} is not an IAF MLA signatory for ISMS: the certificate is unaccredited")
            }
            None => "no accreditation body is recorded: the certificate is unaccredited".into(),
        })
    }
    /// The scope statement (as reduced by a scope-reduction decision).
    async fn scope(&self) -> &str {
        &self.row.scope
    }
    /// The certified sites.
    async fn sites(&self) -> Vec<String> {
        strings_of(&self.row.sites)
    }
    async fn notes(&self) -> &str {
        &self.row.notes
    }
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.row.owner_id)
    }
    /// The certificate document (an evidence file, stored with its SHA-256).
    async fn document(&self, ctx: &Context<'_>) -> Result<Option<Evidence>> {
        let Some(id) = self.row.document_id else {
            return Ok(None);
        };
        if let Some(loaded) = &self.document {
            return Ok(loaded.clone());
        }
        let az = authorize(ctx, Operation::ReadIsms)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let e = super::evidence::resolve_node(&tx, id).await?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(e)
    }
    /// The status on `on` (default: the list's `on`, else today, UTC), computed from the recorded audits and
    /// decisions.
    async fn status(&self, on: Option<NaiveDate>) -> Result<CertificateState> {
        self.state_on(on.or(self.judged_on).unwrap_or_else(today))
    }
    /// What falls due as of `on` (default: the list's `on`, else today, UTC), by due date: every obligation of the
    /// cycle in effect not yet met. Empty once withdrawn, or expired past the restore window.
    async fn next_due_events(&self, on: Option<NaiveDate>) -> Result<Vec<CertificateDueEvent>> {
        self.due_on(on.or(self.judged_on).unwrap_or_else(today))
    }
    /// Whether the first surveillance audit ended by the initial decision + 12 months
    /// (17021-1 9.6.2.2); null while none is recorded.
    async fn first_surveillance_on_time(&self) -> Result<Option<bool>> {
        Ok(self.life()?.first_surveillance_on_time())
    }
    /// The certification body's audits, oldest first.
    async fn audits(&self) -> Vec<CertificationAudit> {
        self.audits
            .iter()
            .cloned()
            .map(CertificationAudit)
            .collect()
    }
    /// The certification body's decisions, oldest first.
    async fn decisions(&self) -> Vec<CertificationDecision> {
        self.decisions
            .iter()
            .cloned()
            .map(CertificationDecision)
            .collect()
    }
    /// The audits, the decisions and what falls due as of `on` (default: the list's `on`, else
    /// today), by date
    /// (audits before decisions before due events on one day).
    async fn timeline(&self, on: Option<NaiveDate>) -> Result<Vec<CertificateTimelineEntry>> {
        let mut out: Vec<(u8, CertificateTimelineEntry)> = Vec::new();
        for a in self.audits.iter() {
            out.push((
                0,
                CertificateTimelineEntry {
                    date: a.start_date,
                    kind: CertificateTimelineKind::Audit,
                    title: audit_title(a),
                    event_id: Some(encode(Kind::CertificationAudit, a.id)),
                    due_kind: None,
                },
            ));
        }
        for d in self.decisions.iter() {
            out.push((
                1,
                CertificateTimelineEntry {
                    date: d.decided_on,
                    kind: CertificateTimelineKind::Decision,
                    title: decision_title(d),
                    event_id: Some(encode(Kind::CertificationDecision, d.id)),
                    due_kind: None,
                },
            ));
        }
        for d in self.due_on(on.or(self.judged_on).unwrap_or_else(today))? {
            out.push((
                2,
                CertificateTimelineEntry {
                    date: d.due,
                    kind: CertificateTimelineKind::Due,
                    title: due_title(&d),
                    event_id: None,
                    due_kind: Some(d.kind),
                },
            ));
        }
        // Stable: within a rank, entries keep their (oldest first) order.
        out.sort_by_key(|(rank, e)| (e.date, *rank));
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// An audit of a certificate by its certification body.
#[derive(Debug, Clone)]
pub struct CertificationAudit(pub(crate) certificate_audit::Model);

#[Object]
impl CertificationAudit {
    pub async fn id(&self) -> ID {
        encode(Kind::CertificationAudit, self.0.id)
    }
    async fn certificate_id(&self) -> ID {
        encode(Kind::Certificate, self.0.certificate_id)
    }
    async fn kind(&self) -> Result<CertificationAuditKind> {
        CertificationAuditKind::of(&self.0.kind)
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    /// The last day of the audit (the day the rules count).
    async fn end_date(&self) -> NaiveDate {
        self.0.end_date
    }
    /// The certification body's auditors, by name.
    async fn auditors(&self) -> Vec<String> {
        strings_of(&self.0.auditors)
    }
    async fn major_findings(&self) -> i32 {
        self.0.major_findings
    }
    async fn minor_findings(&self) -> i32 {
        self.0.minor_findings
    }
    async fn observations(&self) -> i32 {
        self.0.observations
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A decision of the certification body on a certificate.
#[derive(Debug, Clone)]
pub struct CertificationDecision(pub(crate) certificate_decision::Model);

#[Object]
impl CertificationDecision {
    pub async fn id(&self) -> ID {
        encode(Kind::CertificationDecision, self.0.id)
    }
    async fn certificate_id(&self) -> ID {
        encode(Kind::Certificate, self.0.certificate_id)
    }
    async fn kind(&self) -> Result<CertificationDecisionKind> {
        CertificationDecisionKind::of(&self.0.kind)
    }
    async fn decided_on(&self) -> NaiveDate {
        self.0.decided_on
    }
    /// The expiry printed by a certification or recertification decision.
    async fn expires_on(&self) -> Option<NaiveDate> {
        self.0.expires_on
    }
    /// The scope the decision granted or reduced to, if recorded.
    async fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Who recorded it, as the audit trail names actors (`user:<uuid>`, `api_key:<uuid>`).
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Certificates with their audits and decisions: one query for all the audits, one for all
/// the decisions.
async fn with_history(
    tx: &TenantTx,
    rows: Vec<certificate::Model>,
) -> Result<Vec<Certificate>, StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut audits: HashMap<Uuid, Vec<certificate_audit::Model>> = HashMap::new();
    for a in tx.certificate_audits_of(&ids).await? {
        audits.entry(a.certificate_id).or_default().push(a);
    }
    let mut decisions: HashMap<Uuid, Vec<certificate_decision::Model>> = HashMap::new();
    for d in tx.certificate_decisions_of(&ids).await? {
        decisions.entry(d.certificate_id).or_default().push(d);
    }
    // The page's documents in one load (none when no certificate has one).
    let doc_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.document_id).collect();
    let docs = super::attestations::load_docs(tx, &doc_ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let a = audits.remove(&row.id).unwrap_or_default();
            let d = decisions.remove(&row.id).unwrap_or_default();
            let document = row.document_id.map(|id| docs.get(&id).cloned());
            let mut c = Certificate::new(row, a, d);
            c.document = Some(document.flatten());
            c
        })
        .collect())
}

async fn certificate_object(
    tx: &TenantTx,
    row: certificate::Model,
) -> Result<Certificate, StoreError> {
    let mut v = with_history(tx, vec![row]).await?;
    v.pop().ok_or(StoreError::NotFound)
}

/// Resolves a node of one of this module's kinds in the current tenant, inside the node
/// resolver's transaction (the caller authorized `ReadIsms`). Other tenants' objects are null.
pub(crate) async fn resolve_node(
    tx: &TenantTx,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    let node = async {
        Ok::<_, StoreError>(match kind {
            Kind::Certificate => match tx.certificate(id).await? {
                Some(row) => Some(Node::Certificate(certificate_object(tx, row).await?)),
                None => None,
            },
            Kind::CertificationAudit => tx
                .certificate_audit(id)
                .await?
                .map(|m| Node::CertificationAudit(CertificationAudit(m))),
            Kind::CertificationDecision => tx
                .certificate_decision(id)
                .await?
                .map(|m| Node::CertificationDecision(CertificationDecision(m))),
            _ => None,
        })
    }
    .await
    .map_err(StoreErrorExt)?;
    Ok(node)
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct CertificatesQuery;

#[Object]
impl CertificatesQuery {
    /// The tenant's own certificates, oldest first, with their audits and decisions. `status`
    /// and `expiringBefore` are judged on `on` (default today, UTC): `expiringBefore` keeps
    /// the certificates whose `validUntil` lies before that date and that are not withdrawn.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn certificates(
        &self,
        ctx: &Context<'_>,
        isms_id: Option<ID>,
        standard: Option<CertificateStandard>,
        status: Option<CertificateStatus>,
        on: Option<NaiveDate>,
        expiring_before: Option<NaiveDate>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Certificate, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let isms = isms_id
            .as_ref()
            .map(|i| {
                decode_kind(i, Kind::Isms).ok_or_else(|| {
                    gql_error(
                        ErrorCode::BadUserInput,
                        "ismsId is not an id of the expected kind",
                    )
                })
            })
            .transpose()?;
        let req = PageArgs {
            first,
            after,
            last,
            before,
        }
        .into_request(|k| Uuid::try_parse(k).ok())?;
        let on = on.unwrap_or_else(today);
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let mut rows = tx.certificates_all().await.map_err(StoreErrorExt)?;
        rows.retain(|r| {
            isms.is_none_or(|i| r.isms_id == Some(i))
                && standard.is_none_or(|s| r.standard == s.as_str())
        });
        let all = with_history(&tx, rows).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let mut kept = Vec::with_capacity(all.len());
        for mut c in all {
            c.judged_on = Some(on);
            if status.is_some() || expiring_before.is_some() {
                let s = c.state_on(on)?;
                if status.is_some_and(|x| x != s.status) {
                    continue;
                }
                if let Some(by) = expiring_before {
                    let expiring = s.status != CertificateStatus::Withdrawn
                        && s.valid_until.is_some_and(|u| u < by);
                    if !expiring {
                        continue;
                    }
                }
            }
            kept.push(c);
        }
        kept.sort_by_key(|c| c.row.id);
        let total = u64::try_from(kept.len()).unwrap_or(u64::MAX);
        let page = page_in_memory(kept, |c| c.row.id, &req);
        Ok(build(page, total, |c| c.row.id.to_string()))
    }

    /// The accreditation bodies recognized as IAF MLA signatories for ISMS certification. A
    /// certificate accredited by another body is accepted and flagged unaccredited.
    async fn accreditation_bodies(&self) -> Vec<AccreditationBody> {
        dom::ACCREDITATION_BODIES.iter().map(Into::into).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations: inputs and payloads

#[derive(Debug, InputObject)]
pub struct CreateCertificateInput {
    /// The management system it certifies.
    pub isms_id: Option<ID>,
    /// The number of an approved SoA version of that ISMS.
    pub soa_version: Option<i32>,
    pub standard: CertificateStandard,
    /// An edition of the standard (27001: 2013, 2022; 27701: 2019, 2025).
    pub edition: CertificateEdition,
    pub certificate_number: String,
    pub certification_body: String,
    /// The accreditation body's code (see `accreditationBodies`); any other is accepted and
    /// flagged unaccredited.
    pub accreditation_body: Option<String>,
    pub scope: Option<String>,
    #[graphql(default)]
    pub sites: Vec<String>,
    pub notes: Option<String>,
    /// A member.
    pub owner_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct UpdateCertificateInput {
    pub id: ID,
    /// An ISMS, or null to detach (which clears the SoA version); absent leaves it.
    pub isms_id: MaybeUndefined<ID>,
    /// An approved SoA version number of the ISMS, or null; absent leaves it.
    pub soa_version: MaybeUndefined<i32>,
    /// The recorded history is checked again against a changed standard or edition.
    pub standard: Option<CertificateStandard>,
    pub edition: Option<CertificateEdition>,
    pub certificate_number: Option<String>,
    pub certification_body: Option<String>,
    /// A code, or null to remove; absent leaves it.
    pub accreditation_body: MaybeUndefined<String>,
    pub scope: Option<String>,
    pub sites: Option<Vec<String>>,
    pub notes: Option<String>,
    /// A member, or null; absent leaves it.
    pub owner_id: MaybeUndefined<ID>,
}

#[derive(Debug, InputObject)]
pub struct DeleteCertificateInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct CertificatePayload {
    pub certificate: Option<Certificate>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteCertificatePayload {
    pub deleted_certificate_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RecordCertificationAuditInput {
    pub certificate_id: ID,
    pub kind: CertificationAuditKind,
    pub start_date: NaiveDate,
    /// Not after tomorrow (UTC): audits are recorded once held.
    pub end_date: NaiveDate,
    /// The certification body's auditors, by name.
    #[graphql(default)]
    pub auditors: Vec<String>,
    #[graphql(default)]
    pub major_findings: i32,
    #[graphql(default)]
    pub minor_findings: i32,
    #[graphql(default)]
    pub observations: i32,
    pub summary: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct UpdateCertificationAuditInput {
    pub id: ID,
    pub kind: Option<CertificationAuditKind>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub auditors: Option<Vec<String>>,
    pub major_findings: Option<i32>,
    pub minor_findings: Option<i32>,
    pub observations: Option<i32>,
    pub summary: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct DeleteCertificationAuditInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct CertificationAuditPayload {
    pub audit: Option<CertificationAudit>,
    /// The certificate with its history as changed.
    pub certificate: Option<Certificate>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteCertificationAuditPayload {
    pub deleted_audit_id: Option<ID>,
    pub certificate: Option<Certificate>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RecordCertificationDecisionInput {
    pub certificate_id: ID,
    pub kind: CertificationDecisionKind,
    /// Not after tomorrow (UTC).
    pub decided_on: NaiveDate,
    /// The printed expiry: required for a certification or recertification decision (at most
    /// 3 years after the decision, or after the existing expiry for a recertification), and
    /// only for those.
    pub expires_on: Option<NaiveDate>,
    /// Required for a scope reduction; allowed with a certification or recertification. The
    /// certificate's scope becomes this.
    pub scope: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct DeleteCertificationDecisionInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct CertificationDecisionPayload {
    pub decision: Option<CertificationDecision>,
    /// The certificate with its history as changed.
    pub certificate: Option<Certificate>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteCertificationDecisionPayload {
    pub deleted_decision_id: Option<ID>,
    pub certificate: Option<Certificate>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct UploadCertificateDocumentInput {
    pub certificate_id: ID,
    /// The file: a multipart request part (GraphQL multipart request spec), stored as evidence
    /// (size limit, media type checked against the content, SHA-256).
    pub file: Upload,
    /// The evidence title.
    pub title: String,
}

// ---------------------------------------------------------------------------------------------
// Mutations: rules

/// The latest day an audit may end or a decision be dated: tomorrow (UTC), which leaves room
/// for time zones ahead of UTC.
fn latest_day() -> NaiveDate {
    today()
        .checked_add_days(Days::new(1))
        .unwrap_or(NaiveDate::MAX)
}

fn not_future(field: &str, d: NaiveDate) -> Result<NaiveDate, MutationError> {
    let d = checked_date(field, d)?;
    if d > latest_day() {
        return Err(invalid(
            field,
            format!("{d} is in the future: record audits and decisions once they happened"),
        ));
    }
    Ok(d)
}

fn findings(field: &str, n: i32) -> Result<i32, MutationError> {
    if !(0..=MAX_FINDINGS).contains(&n) {
        return Err(invalid(field, format!("must be 0 to {MAX_FINDINGS}")));
    }
    Ok(n)
}

fn name_list(field: &str, names: &[String], max: usize) -> Result<String, MutationError> {
    if names.len() > max {
        return Err(invalid(field, format!("at most {max} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        let n = checked_text(field, n, 300)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(json_text(&out))
}

fn check_edition(
    standard: CertificateStandard,
    edition: CertificateEdition,
) -> Result<(), MutationError> {
    let s = dom::Standard::parse(standard.as_str())
        .ok_or_else(|| invalid("standard", "unknown standard"))?;
    let e = dom::Edition::parse(edition.as_str())
        .ok_or_else(|| invalid("edition", "unknown edition"))?;
    if !s.has_edition(e) {
        return Err(invalid(
            "edition",
            format!("{} is not an edition of {}", e.as_str(), s.as_str()),
        ));
    }
    Ok(())
}

/// A recognized accreditation body is stored by its code; any other name as given.
fn accreditation(value: Option<&str>) -> Result<Option<String>, MutationError> {
    let v = optional_text("accreditationBody", value, 100)?;
    Ok(v.map(|b| match dom::accreditation_body(&b) {
        Some(known) => known.code.to_owned(),
        None => b,
    }))
}

async fn isms_of(tx: &TenantTx, id: &ID) -> Result<Uuid, MutationError> {
    let id = decode_kind(id, Kind::Isms).ok_or_else(|| not_found("ISMS", "ismsId"))?;
    if !tx.isms_exists(id).await? {
        return Err(not_found("ISMS", "ismsId"));
    }
    Ok(id)
}

/// An approved SoA version number of `isms`.
async fn soa_version_of(
    tx: &TenantTx,
    isms: Option<Uuid>,
    number: i32,
) -> Result<i32, MutationError> {
    let Some(isms) = isms else {
        return Err(invalid(
            "soaVersion",
            "an SoA version belongs to an ISMS: give ismsId",
        ));
    };
    if number < 1 {
        return Err(invalid("soaVersion", "SoA versions are numbered from 1"));
    }
    if !tx
        .soa_versions(isms)
        .await?
        .iter()
        .any(|v| v.number == number)
    {
        return Err(not_found("approved SoA version", "soaVersion"));
    }
    Ok(number)
}

/// Refuses a second certificate with the same number from the same certification body.
async fn unique_number(tx: &TenantTx, row: &certificate::Model) -> Result<(), MutationError> {
    let clash = tx.certificates_all().await?.into_iter().any(|c| {
        c.id != row.id
            && c.certification_body == row.certification_body
            && c.certificate_number == row.certificate_number
    });
    if clash {
        return Err(conflict(
            "certificateNumber",
            format!(
                "{} already issued a certificate numbered {}",
                row.certification_body, row.certificate_number
            ),
        ));
    }
    Ok(())
}

fn store_conflict(e: StoreError) -> MutationError {
    match e {
        StoreError::Conflict(_) => conflict(
            "certificateNumber",
            "the certification body already issued a certificate with this number",
        ),
        other => other.into(),
    }
}

async fn certificate_of(
    tx: &TenantTx,
    id: &ID,
    field: &str,
) -> Result<certificate::Model, MutationError> {
    let id = decode_kind(id, Kind::Certificate).ok_or_else(|| not_found("certificate", field))?;
    tx.certificate(id)
        .await?
        .ok_or_else(|| not_found("certificate", field))
}

async fn audit_row_of(tx: &TenantTx, id: &ID) -> Result<certificate_audit::Model, MutationError> {
    let id = decode_kind(id, Kind::CertificationAudit)
        .ok_or_else(|| not_found("certification audit", "id"))?;
    tx.certificate_audit(id)
        .await?
        .ok_or_else(|| not_found("certification audit", "id"))
}

async fn decision_row_of(
    tx: &TenantTx,
    id: &ID,
) -> Result<certificate_decision::Model, MutationError> {
    let id = decode_kind(id, Kind::CertificationDecision)
        .ok_or_else(|| not_found("certification decision", "id"))?;
    tx.certificate_decision(id)
        .await?
        .ok_or_else(|| not_found("certification decision", "id"))
}

/// A certificate's recorded history.
async fn history_of(
    tx: &TenantTx,
    id: Uuid,
) -> Result<
    (
        Vec<certificate_audit::Model>,
        Vec<certificate_decision::Model>,
    ),
    MutationError,
> {
    Ok((
        tx.certificate_audits_of(&[id]).await?,
        tx.certificate_decisions_of(&[id]).await?,
    ))
}

fn certificate_change(c: &certificate::Model) -> serde_json::Value {
    json!({
        "isms": c.isms_id,
        "soaVersion": c.soa_version,
        "standard": c.standard,
        "edition": c.edition,
        "certificateNumber": c.certificate_number,
        "certificationBody": c.certification_body,
        "accreditationBody": c.accreditation_body,
        "sites": strings_of(&c.sites),
        "owner": c.owner_id,
        "document": c.document_id,
    })
}

fn audit_change(a: &certificate_audit::Model) -> serde_json::Value {
    json!({
        "certificate": a.certificate_id,
        "kind": a.kind,
        "startDate": a.start_date,
        "endDate": a.end_date,
        "auditors": strings_of(&a.auditors),
        "majorFindings": a.major_findings,
        "minorFindings": a.minor_findings,
        "observations": a.observations,
    })
}

fn decision_change(d: &certificate_decision::Model) -> serde_json::Value {
    json!({
        "certificate": d.certificate_id,
        "kind": d.kind,
        "decidedOn": d.decided_on,
        "expiresOn": d.expires_on,
        "scope": d.scope,
        "reason": d.reason,
    })
}

/// Which part of a certificate's history a deletion removes.
#[derive(Debug, Clone, Copy)]
enum HistoryPart {
    Audit,
    Decision,
}

/// Deletes one audit or decision recorded in error, if the certificate's history stays valid
/// without it; returns its id and the certificate as it now stands.
async fn delete_history_event(
    ctx: &Context<'_>,
    az: &Authorized,
    id: &ID,
    part: HistoryPart,
) -> Result<(ID, Certificate), MutationError> {
    let mut tx = store(ctx).tenant_tx(az.scope).await?;
    let (certificate_id, row_id, change) = match part {
        HistoryPart::Audit => {
            let r = audit_row_of(&tx, id).await?;
            (r.certificate_id, r.id, audit_change(&r))
        }
        HistoryPart::Decision => {
            let r = decision_row_of(&tx, id).await?;
            (r.certificate_id, r.id, decision_change(&r))
        }
    };
    let cert = tx
        .certificate(certificate_id)
        .await?
        .ok_or_else(|| not_found("certificate", "id"))?;
    let (mut audits, mut decisions) = history_of(&tx, cert.id).await?;
    audits.retain(|a| a.id != row_id);
    decisions.retain(|d| d.id != row_id);
    check_history(&cert, &audits, &decisions, "id", None)?;
    let (deleted, what, action, subject, kind) = match part {
        HistoryPart::Audit => (
            tx.delete_certificate_audit(row_id).await?,
            "certification audit",
            "certificate_audit.delete",
            "certificate_audit",
            Kind::CertificationAudit,
        ),
        HistoryPart::Decision => (
            tx.delete_certificate_decision(row_id).await?,
            "certification decision",
            "certificate_decision.delete",
            "certificate_decision",
            Kind::CertificationDecision,
        ),
    };
    if !deleted {
        return Err(not_found(what, "id"));
    }
    record(&mut tx, az, action, subject, row_id, change).await?;
    super::mutation::commit(ctx, tx).await?;
    Ok((
        encode(kind, row_id),
        Certificate::new(cert, audits, decisions),
    ))
}

/// Checks an audit row as it would be written.
fn check_audit_row(a: &certificate_audit::Model) -> Result<(), MutationError> {
    checked_date("startDate", a.start_date)?;
    not_future("endDate", a.end_date)?;
    if a.end_date < a.start_date {
        return Err(invalid(
            "endDate",
            format!(
                "the audit cannot end ({}) before it starts ({})",
                a.end_date, a.start_date
            ),
        ));
    }
    findings("majorFindings", a.major_findings)?;
    findings("minorFindings", a.minor_findings)?;
    findings("observations", a.observations)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct CertificatesMutation;

#[Object]
impl CertificatesMutation {
    /// Records one of the tenant's own certificates. An accreditation body that is not an
    /// IAF MLA signatory is accepted and the certificate flagged unaccredited.
    async fn create_certificate(
        &self,
        ctx: &Context<'_>,
        input: CreateCertificateInput,
    ) -> Result<CertificatePayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (certificate, user_errors) = settle(
            async {
                check_edition(input.standard, input.edition)?;
                let certificate_number =
                    checked_text("certificateNumber", &input.certificate_number, 100)?;
                let certification_body =
                    checked_text("certificationBody", &input.certification_body, 300)?;
                let accreditation_body = accreditation(input.accreditation_body.as_deref())?;
                let scope = free_text("scope", input.scope.as_deref(), TEXT)?;
                let sites = name_list("sites", &input.sites, MAX_SITES)?;
                let notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms_id = match &input.isms_id {
                    Some(i) => Some(isms_of(&tx, i).await?),
                    None => None,
                };
                let soa_version = match input.soa_version {
                    Some(n) => Some(soa_version_of(&tx, isms_id, n).await?),
                    None => None,
                };
                let owner_id = member_owner(&tx, "ownerId", input.owner_id.as_ref()).await?;
                let now = Utc::now();
                let row = certificate::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    isms_id,
                    soa_version,
                    standard: input.standard.as_str().into(),
                    edition: input.edition.as_str().into(),
                    certificate_number,
                    certification_body,
                    accreditation_body,
                    scope,
                    sites,
                    document_id: None,
                    notes,
                    owner_id,
                    created_at: now,
                    updated_at: now,
                };
                unique_number(&tx, &row).await?;
                let row = tx.insert_certificate(row).await.map_err(store_conflict)?;
                record(
                    &mut tx,
                    &az,
                    "certificate.create",
                    "certificate",
                    row.id,
                    certificate_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Certificate::new(row, Vec::new(), Vec::new()))
            }
            .await,
        )?;
        Ok(CertificatePayload {
            certificate,
            user_errors,
        })
    }

    /// Changes a certificate's details. A changed standard or edition is checked against the
    /// recorded history again.
    async fn update_certificate(
        &self,
        ctx: &Context<'_>,
        input: UpdateCertificateInput,
    ) -> Result<CertificatePayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (certificate, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = certificate_of(&tx, &input.id, "id").await?;
                let standard = input
                    .standard
                    .unwrap_or(CertificateStandard::of(&row.standard)?);
                let edition = input
                    .edition
                    .unwrap_or(CertificateEdition::of(&row.edition)?);
                check_edition(standard, edition)?;
                row.standard = standard.as_str().into();
                row.edition = edition.as_str().into();
                if let Some(n) = &input.certificate_number {
                    row.certificate_number = checked_text("certificateNumber", n, 100)?;
                }
                if let Some(b) = &input.certification_body {
                    row.certification_body = checked_text("certificationBody", b, 300)?;
                }
                match &input.accreditation_body {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.accreditation_body = None,
                    MaybeUndefined::Value(b) => row.accreditation_body = accreditation(Some(b))?,
                }
                if input.scope.is_some() {
                    row.scope = free_text("scope", input.scope.as_deref(), TEXT)?;
                }
                if let Some(s) = &input.sites {
                    row.sites = name_list("sites", s, MAX_SITES)?;
                }
                if input.notes.is_some() {
                    row.notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                }
                match &input.isms_id {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => {
                        row.isms_id = None;
                        row.soa_version = None;
                    }
                    MaybeUndefined::Value(i) => {
                        let isms = isms_of(&tx, i).await?;
                        if row.isms_id != Some(isms) {
                            // A version number of another ISMS means nothing here.
                            row.soa_version = None;
                        }
                        row.isms_id = Some(isms);
                    }
                }
                match &input.soa_version {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.soa_version = None,
                    MaybeUndefined::Value(n) => {
                        row.soa_version = Some(soa_version_of(&tx, row.isms_id, *n).await?);
                    }
                }
                match &input.owner_id {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.owner_id = None,
                    MaybeUndefined::Value(o) => {
                        row.owner_id = member_owner(&tx, "ownerId", Some(o)).await?;
                    }
                }
                let (audits, decisions) = history_of(&tx, row.id).await?;
                check_history(&row, &audits, &decisions, "edition", None)?;
                unique_number(&tx, &row).await?;
                row.updated_at = Utc::now();
                let row = tx.update_certificate(row).await.map_err(store_conflict)?;
                record(
                    &mut tx,
                    &az,
                    "certificate.update",
                    "certificate",
                    row.id,
                    certificate_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Certificate::new(row, audits, decisions))
            }
            .await,
        )?;
        Ok(CertificatePayload {
            certificate,
            user_errors,
        })
    }

    /// Deletes a certificate with its audits and decisions (its document stays, as evidence
    /// is never deleted). Every deletion is in the audit trail.
    async fn delete_certificate(
        &self,
        ctx: &Context<'_>,
        input: DeleteCertificateInput,
    ) -> Result<DeleteCertificatePayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (deleted_certificate_id, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = certificate_of(&tx, &input.id, "id").await?;
                let (audits, decisions) = history_of(&tx, row.id).await?;
                tx.delete_certificate_history(row.id).await?;
                if !tx.delete_certificate(row.id).await? {
                    return Err(not_found("certificate", "id"));
                }
                let mut change = certificate_change(&row);
                change["audits"] = json!(audits.iter().map(audit_change).collect::<Vec<_>>());
                change["decisions"] =
                    json!(decisions.iter().map(decision_change).collect::<Vec<_>>());
                record(
                    &mut tx,
                    &az,
                    "certificate.delete",
                    "certificate",
                    row.id,
                    change,
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Certificate, row.id))
            }
            .await,
        )?;
        Ok(DeleteCertificatePayload {
            deleted_certificate_id,
            user_errors,
        })
    }

    /// Records an audit of the certification body. The whole history is checked with it
    /// (e.g. a surveillance audit needs the certification decision before it).
    async fn record_certification_audit(
        &self,
        ctx: &Context<'_>,
        input: RecordCertificationAuditInput,
    ) -> Result<CertificationAuditPayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let r = settle(
            async {
                let auditors = name_list("auditors", &input.auditors, MAX_AUDITORS)?;
                let summary = free_text("summary", input.summary.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let cert = certificate_of(&tx, &input.certificate_id, "certificateId").await?;
                let now = Utc::now();
                let row = certificate_audit::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    certificate_id: cert.id,
                    kind: input.kind.as_str().into(),
                    start_date: input.start_date,
                    end_date: input.end_date,
                    auditors,
                    major_findings: input.major_findings,
                    minor_findings: input.minor_findings,
                    observations: input.observations,
                    summary,
                    created_at: now,
                    updated_at: now,
                };
                check_audit_row(&row)?;
                let (mut audits, decisions) = history_of(&tx, cert.id).await?;
                audits.push(row.clone());
                check_history(&cert, &audits, &decisions, "endDate", None)?;
                let row = tx.insert_certificate_audit(row).await?;
                record(
                    &mut tx,
                    &az,
                    "certificate_audit.create",
                    "certificate_audit",
                    row.id,
                    audit_change(&row),
                )
                .await?;
                let certificate = certificate_object(&tx, cert).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((CertificationAudit(row), certificate))
            }
            .await,
        )?;
        let (done, user_errors) = r;
        let (audit, certificate) = match done {
            Some((a, c)) => (Some(a), Some(c)),
            None => (None, None),
        };
        Ok(CertificationAuditPayload {
            audit,
            certificate,
            user_errors,
        })
    }

    /// Corrects a recorded audit; the whole history is checked again.
    async fn update_certification_audit(
        &self,
        ctx: &Context<'_>,
        input: UpdateCertificationAuditInput,
    ) -> Result<CertificationAuditPayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let r = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = audit_row_of(&tx, &input.id).await?;
                let cert = tx
                    .certificate(row.certificate_id)
                    .await?
                    .ok_or_else(|| not_found("certificate", "id"))?;
                if let Some(k) = input.kind {
                    row.kind = k.as_str().into();
                }
                row.start_date = input.start_date.unwrap_or(row.start_date);
                row.end_date = input.end_date.unwrap_or(row.end_date);
                if let Some(a) = &input.auditors {
                    row.auditors = name_list("auditors", a, MAX_AUDITORS)?;
                }
                row.major_findings = input.major_findings.unwrap_or(row.major_findings);
                row.minor_findings = input.minor_findings.unwrap_or(row.minor_findings);
                row.observations = input.observations.unwrap_or(row.observations);
                if input.summary.is_some() {
                    row.summary = free_text("summary", input.summary.as_deref(), TEXT)?;
                }
                check_audit_row(&row)?;
                let (mut audits, decisions) = history_of(&tx, cert.id).await?;
                for a in &mut audits {
                    if a.id == row.id {
                        *a = row.clone();
                    }
                }
                check_history(&cert, &audits, &decisions, "endDate", None)?;
                row.updated_at = Utc::now();
                let row = tx.update_certificate_audit(row).await?;
                record(
                    &mut tx,
                    &az,
                    "certificate_audit.update",
                    "certificate_audit",
                    row.id,
                    audit_change(&row),
                )
                .await?;
                let certificate = certificate_object(&tx, cert).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((CertificationAudit(row), certificate))
            }
            .await,
        )?;
        let (done, user_errors) = r;
        let (audit, certificate) = match done {
            Some((a, c)) => (Some(a), Some(c)),
            None => (None, None),
        };
        Ok(CertificationAuditPayload {
            audit,
            certificate,
            user_errors,
        })
    }

    /// Deletes a recorded audit, if the history stays valid without it.
    async fn delete_certification_audit(
        &self,
        ctx: &Context<'_>,
        input: DeleteCertificationAuditInput,
    ) -> Result<DeleteCertificationAuditPayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (done, user_errors) =
            settle(delete_history_event(ctx, &az, &input.id, HistoryPart::Audit).await)?;
        let (deleted_audit_id, certificate) =
            done.map_or((None, None), |(a, c)| (Some(a), Some(c)));
        Ok(DeleteCertificationAuditPayload {
            deleted_audit_id,
            certificate,
            user_errors,
        })
    }

    /// Records a decision of the certification body. The whole history is checked with it:
    /// e.g. an expiry at most 3 years after the certification decision (17021-1 9.1.3.2), a
    /// recertification within 6 months of expiry (9.6.3.2.5), nothing after a withdrawal. A
    /// scope reduction (or a (re)certification given a scope) sets the certificate's scope.
    async fn record_certification_decision(
        &self,
        ctx: &Context<'_>,
        input: RecordCertificationDecisionInput,
    ) -> Result<CertificationDecisionPayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let r = settle(
            async {
                use CertificationDecisionKind as K;
                let decided_on = not_future("decidedOn", input.decided_on)?;
                let prints_expiry = matches!(input.kind, K::Certification | K::Recertification);
                let expires_on = match input.expires_on {
                    Some(x) if prints_expiry => Some(checked_date("expiresOn", x)?),
                    Some(_) => {
                        return Err(invalid(
                            "expiresOn",
                            "only a certification or recertification decision prints an expiry",
                        ));
                    }
                    None if prints_expiry => {
                        return Err(invalid(
                            "expiresOn",
                            "a certification or recertification decision prints an expiry date",
                        ));
                    }
                    None => None,
                };
                let scope = match (&input.scope, input.kind) {
                    (Some(s), K::ScopeReduction | K::Certification | K::Recertification) => {
                        Some(checked_text("scope", s, TEXT)?)
                    }
                    (None, K::ScopeReduction) => {
                        return Err(invalid(
                            "scope",
                            "a scope reduction states the reduced scope",
                        ));
                    }
                    (Some(_), _) => {
                        return Err(invalid(
                            "scope",
                            "only a scope reduction or a (re)certification states a scope",
                        ));
                    }
                    (None, _) => None,
                };
                let reason = free_text("reason", input.reason.as_deref(), 5000)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut cert = certificate_of(&tx, &input.certificate_id, "certificateId").await?;
                let now = Utc::now();
                let row = certificate_decision::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    certificate_id: cert.id,
                    kind: input.kind.as_str().into(),
                    decided_on,
                    expires_on,
                    scope,
                    reason,
                    created_by: az.actor.to_stored(),
                    created_at: now,
                };
                let (audits, mut decisions) = history_of(&tx, cert.id).await?;
                decisions.push(row.clone());
                check_history(&cert, &audits, &decisions, "decidedOn", Some("expiresOn"))?;
                let row = tx.insert_certificate_decision(row).await?;
                record(
                    &mut tx,
                    &az,
                    "certificate_decision.create",
                    "certificate_decision",
                    row.id,
                    decision_change(&row),
                )
                .await?;
                if let Some(s) = &row.scope
                    && *s != cert.scope
                {
                    let old = std::mem::replace(&mut cert.scope, s.clone());
                    cert.updated_at = now;
                    cert = tx.update_certificate(cert).await?;
                    record(
                        &mut tx,
                        &az,
                        "certificate.scope",
                        "certificate",
                        cert.id,
                        json!({ "decision": row.id, "kind": row.kind, "scope": cert.scope,
                                "old": old }),
                    )
                    .await?;
                }
                let certificate = certificate_object(&tx, cert).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((CertificationDecision(row), certificate))
            }
            .await,
        )?;
        let (done, user_errors) = r;
        let (decision, certificate) = match done {
            Some((d, c)) => (Some(d), Some(c)),
            None => (None, None),
        };
        Ok(CertificationDecisionPayload {
            decision,
            certificate,
            user_errors,
        })
    }

    /// Deletes a recorded decision (one recorded in error), if the history stays valid
    /// without it. The certificate's scope is left as it is.
    async fn delete_certification_decision(
        &self,
        ctx: &Context<'_>,
        input: DeleteCertificationDecisionInput,
    ) -> Result<DeleteCertificationDecisionPayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (done, user_errors) =
            settle(delete_history_event(ctx, &az, &input.id, HistoryPart::Decision).await)?;
        let (deleted_decision_id, certificate) =
            done.map_or((None, None), |(d, c)| (Some(d), Some(c)));
        Ok(DeleteCertificationDecisionPayload {
            deleted_decision_id,
            certificate,
            user_errors,
        })
    }

    /// Uploads the certificate document (a multipart request). It is stored exactly like
    /// evidence (object store, SHA-256, `GRC_MAX_UPLOAD_BYTES`, media type checked against the
    /// content), effective today without expiry (the certificate's validity is computed from
    /// its history), and replaces the certificate's document (the previous file stays as
    /// evidence).
    async fn upload_certificate_document(
        &self,
        ctx: &Context<'_>,
        input: UploadCertificateDocumentInput,
    ) -> Result<CertificatePayload> {
        let az = authorize(ctx, Operation::ManageCertificates)?;
        let (certificate, user_errors) = settle(
            async {
                let checked = check_upload(ctx, &input.file, &input.title, None, today(), None)?;
                // The certificate is checked before the object is written, and again in the
                // writing transaction.
                let id = {
                    let tx = store(ctx).tenant_tx(az.scope).await?;
                    let cert = certificate_of(&tx, &input.certificate_id, "certificateId").await?;
                    tx.rollback().await?;
                    cert.id
                };
                let who = az.clone();
                let (_, certificate) = store_upload(ctx, &az, checked, &[], move |tx, rec| {
                    Box::pin(async move {
                        let mut cert = tx
                            .certificate(id)
                            .await?
                            .ok_or_else(|| not_found("certificate", "certificateId"))?;
                        let previous = cert.document_id.replace(rec.id);
                        cert.updated_at = Utc::now();
                        let cert = tx.update_certificate(cert).await?;
                        record(
                            tx,
                            &who,
                            "certificate.document",
                            "certificate",
                            cert.id,
                            json!({ "document": rec.id, "previous": previous,
                                    "sha256": rec.sha256, "sizeBytes": rec.size_bytes,
                                    "filename": rec.filename }),
                        )
                        .await?;
                        Ok(certificate_object(tx, cert).await?)
                    })
                })
                .await?;
                Ok(certificate)
            }
            .await,
        )?;
        Ok(CertificatePayload {
            certificate,
            user_errors,
        })
    }
}
