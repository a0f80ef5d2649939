//! The tenant's tracked due items (issue 7, "Scheduler"): every date something falls due,
//! computed from the live rows on each call and never from a stored copy, so that a changed
//! row (a renewed certificate, a rescheduled review) changes what the scheduler sees at once.
//!
//! Where a date is a rule's result rather than a column, the rule is the domain's, the one the
//! API shows: a certificate's expiry and audits come from `certification::Certificate`
//! (`status_on`, `due_events`), an attestation's validity from `AttestationFacts::state_on` with
//! the tenant's vendor policy. The row-to-domain mapping of a certificate lives here
//! ([`certificate_lifecycle`]) and the API's `lifecycle` calls it.
//!
//! What is tracked, by [`DueKind`] (subject type in brackets):
//!
//! - certificate expiry (`Certificate`): the last valid day of the cycle in effect, while the
//!   certificate is active or suspended, or expired and still restorable;
//! - surveillance audit (`Certificate`): each first or annual surveillance `due_events` lists;
//! - recertification audit (`Certificate`): the recertification `due_events` lists (by expiry);
//! - attestation expiry (`Attestation`): the computed `valid_until`; resolved once withdrawn;
//! - bridge-letter end (`Attestation`): a SOC 2 report's `bridge_through`; resolved once withdrawn;
//! - BAA end and BAA review (`Baa`): `ends_on`, `review_on`; resolved once terminated;
//! - policy review and document review (`Document`): `next_review_date`, policy review for the
//!   documents of kind `policy`;
//! - risk review (`Risk`): `review_date`;
//! - evidence expiry (`Evidence`): `expires_on`; resolved once archived;
//! - corrective action due (`Nonconformity`, `ManagementReviewAction`): a nonconformity's
//!   `due_date` (resolved once closed) and a management review action's (resolved once done);
//! - training due (`TrainingAssignment`): `due_date`, owned by the assignee; resolved once done;
//! - internal audit due (`InternalAudit`): `planned_start`; resolved once started or cancelled;
//! - management review due (`ManagementReview`): `held_on` of a draft review; resolved once
//!   completed;
//! - share grant expiry (`ShareGrant`, grants this tenant made): the UTC date of `expires_at`;
//!   resolved once revoked.
//!
//! - breach-notification deadline (`Incident`, incidents involving ePHI): the covered entity's
//!   clocks (`incidents::covered_entity_clocks`) computed from the stored discovery date,
//!   current breach decision, affected counts and law-enforcement delays; an item per incident,
//!   due on the earliest deadline among its required clocks not yet met by a recorded notice
//!   (`incidents::sent_on_for`); resolved once every required clock has its notice; no item
//!   when no notice is required (a "not a breach" decision).

use super::isms::sql;
use crate::entity::reminders::reminder;
use crate::entity::vendors::{certificate, certificate_audit, certificate_decision};
use crate::{StoreError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::DomainError;
use grc_domain::certification::{
    self as cdom, AttestationFacts, AttestationPolicy, CertDueKind, CertificateStatus, Edition,
};
use grc_domain::incidents::{
    AffectedCounts, Clock, DecisionKind, Jurisdiction, LawEnforcementDelay, Notification,
    NotificationMethod, Recipient, StatementForm, covered_entity_clocks, sent_on_for,
};
use grc_domain::reminders::{DueItem, DueKind};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult,
    Statement,
};
use std::collections::HashMap;
use std::num::ParseIntError;
use uuid::Uuid;

/// One tracked due item of the tenant, as computed now from its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedDue {
    /// The subject's type, as stored on its reminders (`Certificate`, `Risk`, ...).
    pub subject_type: &'static str,
    pub subject_id: Uuid,
    pub kind: DueKind,
    pub due_on: NaiveDate,
    /// A short human title (the row's title, or one made from its identifying fields).
    pub title: String,
    /// The member named responsible on the row, when it names one.
    pub owner_id: Option<Uuid>,
    /// Done: nothing more is owed (reminders stop; pending ones are retired).
    pub resolved: bool,
}

impl TrackedDue {
    /// The domain's view of the item, for `reminders::due_between` and `catch_up`.
    pub fn item(&self, tenant_id: Uuid) -> DueItem {
        DueItem {
            tenant_id,
            subject_id: self.subject_id,
            kind: self.kind,
            due_on: self.due_on,
            resolved: self.resolved,
        }
    }
}

/// A reminder not yet sent (pending or queued): what the scheduler compares with the items to
/// find the ones whose due date moved or whose item went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsentReminder {
    pub id: Uuid,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub kind: String,
    pub due_on: NaiveDate,
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn audit_of(
    kind: &str,
    start: NaiveDate,
    end: NaiveDate,
    majors: i32,
) -> Result<cdom::CertAudit, DomainError> {
    Ok(cdom::CertAudit {
        kind: cdom::CertAuditKind::parse(kind)
            .ok_or_else(|| DomainError::invalid("kind", "unknown stored audit kind"))?,
        start,
        end,
        major_findings: count(majors),
    })
}

fn decision_of(
    kind: &str,
    on: NaiveDate,
    expires: Option<NaiveDate>,
) -> Result<cdom::CertDecision, DomainError> {
    Ok(cdom::CertDecision {
        kind: cdom::CertDecisionKind::parse(kind)
            .ok_or_else(|| DomainError::invalid("kind", "unknown stored decision kind"))?,
        on,
        expires,
    })
}

/// The lifecycle of a certificate of `standard` and `edition` (as stored) with its history.
fn lifecycle_of(
    standard: &str,
    edition: &str,
    audits: &[cdom::CertAudit],
    decisions: &[cdom::CertDecision],
) -> Result<cdom::Certificate, DomainError> {
    let standard = cdom::Standard::parse(standard)
        .ok_or_else(|| DomainError::invalid("standard", "unknown standard"))?;
    let edition = Edition::parse(edition)
        .ok_or_else(|| DomainError::invalid("edition", "unknown edition"))?;
    cdom::Certificate::new(standard, edition, audits, decisions)
}

/// A certificate's stored history as the domain's lifecycle (`Certificate::new` validates it):
/// the one mapping from rows, used by the API and the scheduler alike.
pub fn certificate_lifecycle(
    row: &certificate::Model,
    audits: &[certificate_audit::Model],
    decisions: &[certificate_decision::Model],
) -> Result<cdom::Certificate, DomainError> {
    let audits = audits
        .iter()
        .map(|a| audit_of(&a.kind, a.start_date, a.end_date, a.major_findings))
        .collect::<Result<Vec<_>, DomainError>>()?;
    let decisions = decisions
        .iter()
        .map(|d| decision_of(&d.kind, d.decided_on, d.expires_on))
        .collect::<Result<Vec<_>, DomainError>>()?;
    lifecycle_of(&row.standard, &row.edition, &audits, &decisions)
}

/// The attestation policy of a stored vendor policy's four periods, in months (the default
/// without a stored policy); a stored value out of range falls back to the default, as in the
/// API.
fn attestation_policy(row: Option<[i32; 4]>) -> AttestationPolicy {
    let d = AttestationPolicy::default();
    let months = |v: i32, default: u32| u32::try_from(v).unwrap_or(default);
    match row {
        None => d,
        Some([soc2, bridge, pen_test, questionnaire]) => AttestationPolicy {
            soc2_current_months: months(soc2, d.soc2_current_months),
            soc2_bridge_max_months: months(bridge, d.soc2_bridge_max_months),
            pen_test_months: months(pen_test, d.pen_test_months),
            questionnaire_months: months(questionnaire, d.questionnaire_months),
        },
    }
}

/// The columns of an attestation the due items need (the first columns of
/// [`ATTESTATIONS_SQL`]).
#[derive(Debug)]
struct AttestationRow {
    id: Uuid,
    title: String,
    kind: String,
    issued_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    edition: Option<String>,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    opinion: Option<String>,
    bridge_through: Option<NaiveDate>,
    interim_submitted_on: Option<NaiveDate>,
    hitrust_bridge_on: Option<NaiveDate>,
    suspended_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
}

impl AttestationRow {
    fn facts(&self) -> Option<AttestationFacts> {
        Some(AttestationFacts {
            kind: cdom::AttestationKind::parse(&self.kind)?,
            issued_on: self.issued_on,
            expires_on: self.expires_on,
            edition: match self.edition.as_deref() {
                Some(e) => Some(Edition::parse(e)?),
                None => None,
            },
            period_start: self.period_start,
            period_end: self.period_end,
            opinion: match self.opinion.as_deref() {
                Some(o) => Some(cdom::Opinion::parse(o)?),
                None => None,
            },
            bridge_through: self.bridge_through,
            interim_submitted_on: self.interim_submitted_on,
            hitrust_bridge_on: self.hitrust_bridge_on,
            suspended_on: self.suspended_on,
            withdrawn_on: self.withdrawn_on,
        })
    }
}

/// The tenant's attestations, each with the tenant's vendor policy periods (null without a
/// stored policy): one statement.
const ATTESTATIONS_SQL: &str = "\
SELECT a.id, a.title, a.kind, a.issued_on, a.expires_on, a.edition, a.period_start, a.period_end,
       a.opinion, a.bridge_through, a.interim_submitted_on, a.hitrust_bridge_on, a.suspended_on,
       a.withdrawn_on, p.soc2_current_months, p.soc2_bridge_max_months, p.pen_test_months,
       p.questionnaire_months
  FROM attestations a
  LEFT JOIN vendor_policies p ON p.tenant_id = a.tenant_id
  WHERE a.tenant_id = $1";

/// The tenant's certificates and their history, in one statement: a row per certificate
/// (`certificate`: id, standard, edition, number, owner), per audit (`audit`: certificate,
/// kind, start, end, major findings) and per decision (`decision`: certificate, kind, date,
/// printed expiry). `{uuid}` and `{date}` as in [`SIMPLE_DUE_SQL`].
const CERTIFICATES_SQL: &str = "\
SELECT 'certificate' AS what, id AS certificate_id, standard AS kind, edition, certificate_number,
       owner_id, CAST(NULL AS {date}) AS d1, CAST(NULL AS {date}) AS d2,
       CAST(NULL AS integer) AS majors
  FROM certificates WHERE tenant_id = $1
UNION ALL
SELECT 'audit', certificate_id, kind, CAST(NULL AS text), CAST(NULL AS text),
       CAST(NULL AS {uuid}), start_date, end_date, major_findings
  FROM certificate_audits WHERE tenant_id = $1
UNION ALL
SELECT 'decision', certificate_id, kind, CAST(NULL AS text), CAST(NULL AS text),
       CAST(NULL AS {uuid}), decided_on, expires_on, CAST(NULL AS integer)
  FROM certificate_decisions WHERE tenant_id = $1";

/// A stored certificate with its history, as read by [`CERTIFICATES_SQL`]: the history as the
/// domain's audits and decisions, or the first stored kind the domain does not know.
#[derive(Debug)]
struct CertificateRows {
    id: Uuid,
    standard: String,
    edition: String,
    number: String,
    owner_id: Option<Uuid>,
    audits: Result<Vec<cdom::CertAudit>, DomainError>,
    decisions: Result<Vec<cdom::CertDecision>, DomainError>,
}

/// One row of [`SIMPLE_DUE_SQL`]: a source row's identity, title and the raw columns its items
/// and their resolution come from (which column is which depends on `source`; the rules are in
/// [`TenantTx::due_items`]).
#[derive(Debug)]
struct SimpleDueRow {
    source: String,
    id: Uuid,
    title: Option<String>,
    /// A document's kind, a risk's reference, a status, a grant's artifact kind.
    extra: Option<String>,
    owner_id: Option<Uuid>,
    /// The due date (a BAA's end).
    d1: Option<NaiveDate>,
    /// A BAA's review date; the date an action or a training assignment was done.
    d2: Option<NaiveDate>,
    /// A BAA's termination date.
    d3: Option<NaiveDate>,
    /// A share grant's expiry.
    t1: Option<DateTime<Utc>>,
    /// When evidence was archived or a grant revoked.
    t2: Option<DateTime<Utc>>,
}

/// The due-date sources without a rule of their own (BAAs, documents, risks, evidence,
/// nonconformities, management review actions, internal audits, management reviews, training
/// assignments, share grants this tenant made), and the stored facts of the breach clocks
/// (incidents involving ePHI, their current decisions, counts, delays and notices: the rule is
/// applied to them in [`TenantTx::due_items`]), in one statement: one `SELECT` per table,
/// each with the tenant's predicate (row-level security also admits a grantee's rows), joined
/// with `UNION ALL`. The columns: source, id, title, extra, owner, d1, d2, d3, t1, t2 (see
/// [`SimpleDueRow`]). `{uuid}`, `{date}` and `{ts}` are the backend's types of the typed nulls
/// (PostgreSQL types a `UNION` column from its first branches).
const SIMPLE_DUE_SQL: &str = "\
SELECT 'baa' AS source, id, title, CAST(NULL AS text) AS extra, CAST(NULL AS {uuid}) AS owner_id,
       ends_on AS d1, review_on AS d2, terminated_on AS d3, CAST(NULL AS {ts}) AS t1,
       CAST(NULL AS {ts}) AS t2
  FROM baas WHERE tenant_id = $1 AND (ends_on IS NOT NULL OR review_on IS NOT NULL)
UNION ALL
SELECT 'document', id, title, kind, owner_id, next_review_date, CAST(NULL AS {date}),
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM documents WHERE tenant_id = $1 AND next_review_date IS NOT NULL
UNION ALL
SELECT 'risk', id, title, ref, owner_id, review_date, CAST(NULL AS {date}),
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM risks WHERE tenant_id = $1 AND review_date IS NOT NULL
UNION ALL
SELECT 'evidence', id, title, CAST(NULL AS text), uploader_id, expires_on, CAST(NULL AS {date}),
       CAST(NULL AS {date}), CAST(NULL AS {ts}), archived_at
  FROM evidence WHERE tenant_id = $1 AND expires_on IS NOT NULL
UNION ALL
SELECT 'nonconformity', id, title, status, owner_id, due_date, CAST(NULL AS {date}),
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM nonconformities WHERE tenant_id = $1 AND due_date IS NOT NULL
UNION ALL
SELECT 'review-action', id, title, CAST(NULL AS text), owner_id, due_date, done_on,
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM management_review_actions WHERE tenant_id = $1 AND due_date IS NOT NULL
UNION ALL
SELECT 'internal-audit', id, title, status, lead_auditor_id, planned_start, CAST(NULL AS {date}),
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM internal_audits WHERE tenant_id = $1
UNION ALL
SELECT 'management-review', id, CAST(NULL AS text), status, chair_id, held_on,
       CAST(NULL AS {date}), CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM management_reviews WHERE tenant_id = $1
UNION ALL
SELECT 'training', a.id, c.title, CAST(NULL AS text), a.user_id, a.due_date, a.completed_on,
       CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM training_assignments a
  LEFT JOIN training_courses c ON c.tenant_id = a.tenant_id AND c.id = a.course_id
  WHERE a.tenant_id = $1
UNION ALL
SELECT 'share-grant', id, CAST(NULL AS text), artifact_kind, CAST(NULL AS {uuid}),
       CAST(NULL AS {date}), CAST(NULL AS {date}), CAST(NULL AS {date}), expires_at, revoked_at
  FROM share_grants WHERE tenant_id = $1 AND expires_at IS NOT NULL
UNION ALL
SELECT 'incident', id, title, CAST(affected_total AS text), owner_id, discovered_on,
       CAST(NULL AS {date}), CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM incidents WHERE tenant_id = $1 AND ephi_involved
UNION ALL
SELECT 'incident-decision', incident_id, CAST(NULL AS text), decision, CAST(NULL AS {uuid}),
       decided_on, CAST(NULL AS {date}), CAST(NULL AS {date}), CAST(NULL AS {ts}),
       CAST(NULL AS {ts})
  FROM breach_assessments WHERE tenant_id = $1 AND superseded_at IS NULL
UNION ALL
SELECT 'incident-count', incident_id, jurisdiction, CAST(individuals AS text),
       CAST(NULL AS {uuid}), CAST(NULL AS {date}), CAST(NULL AS {date}), CAST(NULL AS {date}),
       CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM incident_affected_counts WHERE tenant_id = $1
UNION ALL
SELECT 'incident-delay', incident_id, CAST(NULL AS text), form, CAST(NULL AS {uuid}), stated_on,
       ends_on, CAST(NULL AS {date}), CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM law_enforcement_delays WHERE tenant_id = $1
UNION ALL
SELECT 'incident-notice', incident_id, recipient || ':' || method, jurisdiction,
       CAST(NULL AS {uuid}), sent_on, CAST(NULL AS {date}), CAST(NULL AS {date}),
       CAST(NULL AS {ts}), CAST(NULL AS {ts})
  FROM breach_notifications WHERE tenant_id = $1";

/// The stored breach facts read by [`SIMPLE_DUE_SQL`], by incident: each incident involving
/// ePHI (id, title, owner, discovery date, affected total), and its current decision, per-State
/// counts, law-enforcement delays (form, stated, ends) and notices (`recipient:method`,
/// jurisdiction, sent).
/// An incident of [`BreachRows`]: id, title, owner, discovery date, affected total.
type IncidentRow = (
    Uuid,
    String,
    Option<Uuid>,
    NaiveDate,
    Result<Option<i64>, ParseIntError>,
);
/// A per-State count: jurisdiction, individuals.
type CountRow = (String, Result<i64, ParseIntError>);
/// A law-enforcement delay: form, stated, ends.
type DelayRow = (String, Option<NaiveDate>, Option<NaiveDate>);
/// A notice: `recipient:method`, jurisdiction, sent.
type NoticeRow = (String, Option<String>, Option<NaiveDate>);

#[derive(Debug, Default)]
struct BreachRows {
    incidents: Vec<IncidentRow>,
    decisions: HashMap<Uuid, String>,
    counts: HashMap<Uuid, Vec<CountRow>>,
    delays: HashMap<Uuid, Vec<DelayRow>>,
    notices: HashMap<Uuid, Vec<NoticeRow>>,
}

impl BreachRows {
    /// The incident's covered-entity clocks from its stored facts (no counts read as none
    /// affected): `None` when no notice is required; else the earliest deadline among the
    /// required clocks without a notice, with their names, unresolved; or, when every required
    /// clock has its notice, the latest required deadline, resolved.
    fn open_clocks(
        &self,
        id: Uuid,
        discovered_on: NaiveDate,
        total: Result<Option<i64>, ParseIntError>,
    ) -> Result<Option<(NaiveDate, Vec<String>, bool)>, String> {
        let bad = |what: &str, e: &dyn std::fmt::Display| format!("stored {what}: {e}");
        let decision = match self.decisions.get(&id) {
            Some(d) => Some(DecisionKind::parse(d).ok_or_else(|| bad("decision", d))?),
            None => None,
        };
        let mut rows = Vec::new();
        for (j, n) in self.counts.get(&id).into_iter().flatten() {
            rows.push((j.clone(), n.clone().map_err(|e| bad("count", &e))?));
        }
        let affected = match total.map_err(|e| bad("total", &e))? {
            Some(t) => AffectedCounts::new(t, rows.iter().map(|(j, n)| (j.as_str(), *n))),
            None => AffectedCounts::new(0, std::iter::empty::<(&str, i64)>()),
        }
        .map_err(|e| bad("counts", &e))?;
        let mut delays = Vec::new();
        for (form, stated_on, ends_on) in self.delays.get(&id).into_iter().flatten() {
            delays.push(LawEnforcementDelay {
                form: StatementForm::parse(form).ok_or_else(|| bad("form", form))?,
                stated_on: stated_on.ok_or_else(|| bad("delay", &"no date"))?,
                ends_on: *ends_on,
            });
        }
        let mut notices = Vec::new();
        for (rm, jurisdiction, sent_on) in self.notices.get(&id).into_iter().flatten() {
            let (r, m) = rm.split_once(':').ok_or_else(|| bad("notice", rm))?;
            notices.push(Notification {
                recipient: Recipient::parse(r).ok_or_else(|| bad("recipient", &r))?,
                jurisdiction: match jurisdiction {
                    Some(j) => Some(Jurisdiction::parse(j).ok_or_else(|| bad("jurisdiction", j))?),
                    None => None,
                },
                sent_on: sent_on.ok_or_else(|| bad("notice", &"no date"))?,
                method: NotificationMethod::parse(m).ok_or_else(|| bad("method", &m))?,
            });
        }
        let clocks = covered_entity_clocks(discovered_on, decision, &affected, &delays)
            .map_err(|e| bad("facts", &e))?;
        let required: Vec<&Clock> = clocks.clocks.iter().filter(|c| c.required).collect();
        let Some(last) = required.iter().map(|c| c.due_on).max() else {
            return Ok(None);
        };
        let open: Vec<&Clock> = required
            .into_iter()
            .filter(|c| sent_on_for(c, &notices).is_none())
            .collect();
        let Some(first) = open.iter().map(|c| c.due_on).min() else {
            return Ok(Some((last, Vec::new(), true)));
        };
        let names = open
            .iter()
            .filter(|c| c.due_on == first)
            .map(|c| match c.jurisdiction {
                Some(j) => format!("{} ({j})", c.kind.as_str()),
                None => c.kind.as_str().to_owned(),
            })
            .collect();
        Ok(Some((first, names, false)))
    }
}

impl TenantTx {
    /// The rows of `query` (one of this module's, with its typed nulls and `$1` for this
    /// tenant) in this tenant: one statement.
    async fn due_rows(&self, query: &str) -> Result<Vec<QueryResult>, StoreError> {
        let backend = self.tx.get_database_backend();
        let (uuid, date, ts) = match backend {
            DbBackend::Postgres => ("uuid", "date", "timestamptz"),
            _ => ("blob", "text", "text"),
        };
        let text = query
            .replace("{uuid}", uuid)
            .replace("{date}", date)
            .replace("{ts}", ts);
        Ok(self
            .tx
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, &text),
                [self.tenant_uuid().into()],
            ))
            .await?)
    }

    /// The tenant's certificates with their history ([`CERTIFICATES_SQL`]), in the order
    /// stored.
    async fn certificate_rows(&self) -> Result<Vec<CertificateRows>, StoreError> {
        let mut certs: Vec<CertificateRows> = Vec::new();
        let mut audits: HashMap<Uuid, Vec<Result<cdom::CertAudit, DomainError>>> = HashMap::new();
        let mut decisions: HashMap<Uuid, Vec<Result<cdom::CertDecision, DomainError>>> =
            HashMap::new();
        for r in self.due_rows(CERTIFICATES_SQL).await? {
            let what: String = r.try_get_by_index(0)?;
            let cert: Uuid = r.try_get_by_index(1)?;
            let kind: String = r.try_get_by_index(2)?;
            match what.as_str() {
                "certificate" => certs.push(CertificateRows {
                    id: cert,
                    standard: kind,
                    edition: r.try_get_by_index::<Option<String>>(3)?.unwrap_or_default(),
                    number: r.try_get_by_index::<Option<String>>(4)?.unwrap_or_default(),
                    owner_id: r.try_get_by_index(5)?,
                    audits: Ok(Vec::new()),
                    decisions: Ok(Vec::new()),
                }),
                "audit" => {
                    let start: Option<NaiveDate> = r.try_get_by_index(6)?;
                    let end: Option<NaiveDate> = r.try_get_by_index(7)?;
                    let majors: Option<i32> = r.try_get_by_index(8)?;
                    let audit = match (start, end) {
                        (Some(start), Some(end)) => {
                            audit_of(&kind, start, end, majors.unwrap_or_default())
                        }
                        _ => Err(DomainError::invalid("start", "an audit without dates")),
                    };
                    audits.entry(cert).or_default().push(audit);
                }
                _ => {
                    let on: Option<NaiveDate> = r.try_get_by_index(6)?;
                    let expires: Option<NaiveDate> = r.try_get_by_index(7)?;
                    let decision = match on {
                        Some(on) => decision_of(&kind, on, expires),
                        None => Err(DomainError::invalid("on", "a decision without a date")),
                    };
                    decisions.entry(cert).or_default().push(decision);
                }
            }
        }
        for c in &mut certs {
            c.audits = audits
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .collect();
            c.decisions = decisions
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .collect();
        }
        Ok(certs)
    }

    /// The tenant's attestations ([`ATTESTATIONS_SQL`]), each with the vendor policy's four
    /// periods when the tenant stored one.
    async fn attestation_rows(
        &self,
    ) -> Result<Vec<(AttestationRow, Option<[i32; 4]>)>, StoreError> {
        self.due_rows(ATTESTATIONS_SQL)
            .await?
            .iter()
            .map(|r| {
                let periods: [Option<i32>; 4] = [
                    r.try_get_by_index(14)?,
                    r.try_get_by_index(15)?,
                    r.try_get_by_index(16)?,
                    r.try_get_by_index(17)?,
                ];
                let periods = match periods {
                    [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
                    _ => None,
                };
                Ok((
                    AttestationRow {
                        id: r.try_get_by_index(0)?,
                        title: r.try_get_by_index(1)?,
                        kind: r.try_get_by_index(2)?,
                        issued_on: r.try_get_by_index(3)?,
                        expires_on: r.try_get_by_index(4)?,
                        edition: r.try_get_by_index(5)?,
                        period_start: r.try_get_by_index(6)?,
                        period_end: r.try_get_by_index(7)?,
                        opinion: r.try_get_by_index(8)?,
                        bridge_through: r.try_get_by_index(9)?,
                        interim_submitted_on: r.try_get_by_index(10)?,
                        hitrust_bridge_on: r.try_get_by_index(11)?,
                        suspended_on: r.try_get_by_index(12)?,
                        withdrawn_on: r.try_get_by_index(13)?,
                    },
                    periods,
                ))
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()
            .map_err(StoreError::from)
    }

    /// The rows of [`SIMPLE_DUE_SQL`] for this tenant: one statement.
    async fn simple_due_rows(&self) -> Result<Vec<SimpleDueRow>, StoreError> {
        self.due_rows(SIMPLE_DUE_SQL)
            .await?
            .iter()
            .map(|r| {
                Ok(SimpleDueRow {
                    source: r.try_get_by_index(0)?,
                    id: r.try_get_by_index(1)?,
                    title: r.try_get_by_index(2)?,
                    extra: r.try_get_by_index(3)?,
                    owner_id: r.try_get_by_index(4)?,
                    d1: r.try_get_by_index(5)?,
                    d2: r.try_get_by_index(6)?,
                    d3: r.try_get_by_index(7)?,
                    t1: r.try_get_by_index(8)?,
                    t2: r.try_get_by_index(9)?,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()
            .map_err(StoreError::from)
    }
}

impl TenantTx {
    /// Every tracked due item of the tenant as of `today` (see the module doc for what is
    /// tracked and when an item counts as resolved), ordered by due date, kind and subject.
    /// Three statements, whatever the number of rows: the certificates with their audits and
    /// decisions, the attestations with the vendor policy, and every other source.
    /// A certificate whose stored history the lifecycle rules refuse is left out (and logged).
    pub async fn due_items(&self, today: NaiveDate) -> Result<Vec<TrackedDue>, StoreError> {
        let mut out = Vec::new();
        let mut breaches = BreachRows::default();
        let mut push = |subject_type: &'static str,
                        subject_id: Uuid,
                        kind: DueKind,
                        due_on: NaiveDate,
                        title: &str,
                        owner_id: Option<Uuid>,
                        resolved: bool| {
            out.push(TrackedDue {
                subject_type,
                subject_id,
                kind,
                due_on,
                title: title.to_owned(),
                owner_id,
                resolved,
            });
        };

        // ---- certificates: expiry, surveillance, recertification ----
        for c in self.certificate_rows().await? {
            let life = match (c.audits, c.decisions) {
                (Ok(audits), Ok(decisions)) => {
                    lifecycle_of(&c.standard, &c.edition, &audits, &decisions)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            let life = match life {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(certificate = %c.id, error = %e, "stored certificate history fails the lifecycle rules; not tracked");
                    continue;
                }
            };
            let title = format!(
                "{} certificate {}",
                grc_domain::certification::Standard::parse(&c.standard)
                    .map_or(c.standard.as_str(), |st| st.label()),
                c.number
            );
            let state = life.status_on(today);
            let tracked = match state.status {
                CertificateStatus::Active | CertificateStatus::Suspended => true,
                CertificateStatus::Expired => state.restorable_until.is_some_and(|r| r >= today),
                _ => false,
            };
            if tracked && let Some(until) = state.valid_until {
                push(
                    "Certificate",
                    c.id,
                    DueKind::CertificateExpiry,
                    until,
                    &title,
                    c.owner_id,
                    false,
                );
            }
            for d in life.due_events(today) {
                let kind = match d.kind {
                    CertDueKind::FirstSurveillance | CertDueKind::AnnualSurveillance => {
                        DueKind::SurveillanceAudit
                    }
                    CertDueKind::Recertification => DueKind::RecertificationAudit,
                    _ => continue,
                };
                push("Certificate", c.id, kind, d.due, &title, c.owner_id, false);
            }
        }

        // ---- attestations ----
        for (a, periods) in self.attestation_rows().await? {
            let policy = attestation_policy(periods);
            let withdrawn = a.withdrawn_on.is_some_and(|w| w <= today);
            if let Some(f) = a.facts()
                && let Some(until) = f.state_on(&policy, today).valid_until
            {
                push(
                    "Attestation",
                    a.id,
                    DueKind::AttestationExpiry,
                    until,
                    &a.title,
                    None,
                    withdrawn,
                );
            }
            if let Some(b) = a.bridge_through {
                push(
                    "Attestation",
                    a.id,
                    DueKind::BridgeLetterEnd,
                    b,
                    &a.title,
                    None,
                    withdrawn,
                );
            }
        }

        // ---- every source without a rule of its own, in one statement ----
        for r in self.simple_due_rows().await? {
            let title = r.title.as_deref().unwrap_or_default();
            match r.source.as_str() {
                "baa" => {
                    let terminated = r.d3.is_some_and(|d| d <= today);
                    if let Some(end) = r.d1 {
                        push("Baa", r.id, DueKind::BaaEnd, end, title, None, terminated);
                    }
                    if let Some(review) = r.d2 {
                        push(
                            "Baa",
                            r.id,
                            DueKind::BaaReview,
                            review,
                            title,
                            None,
                            terminated,
                        );
                    }
                }
                "document" => {
                    let kind = if r.extra.as_deref() == Some("policy") {
                        DueKind::PolicyReview
                    } else {
                        DueKind::DocumentReview
                    };
                    if let Some(on) = r.d1 {
                        push("Document", r.id, kind, on, title, r.owner_id, false);
                    }
                }
                "risk" => {
                    if let Some(on) = r.d1 {
                        let title = format!("{} {}", r.extra.as_deref().unwrap_or_default(), title);
                        push(
                            "Risk",
                            r.id,
                            DueKind::RiskReview,
                            on,
                            &title,
                            r.owner_id,
                            false,
                        );
                    }
                }
                "evidence" => {
                    if let Some(on) = r.d1 {
                        push(
                            "Evidence",
                            r.id,
                            DueKind::EvidenceExpiry,
                            on,
                            title,
                            r.owner_id,
                            r.t2.is_some(),
                        );
                    }
                }
                "nonconformity" => {
                    if let Some(on) = r.d1 {
                        push(
                            "Nonconformity",
                            r.id,
                            DueKind::CorrectiveActionDue,
                            on,
                            title,
                            r.owner_id,
                            r.extra.as_deref() == Some("closed"),
                        );
                    }
                }
                "review-action" => {
                    if let Some(on) = r.d1 {
                        push(
                            "ManagementReviewAction",
                            r.id,
                            DueKind::CorrectiveActionDue,
                            on,
                            title,
                            r.owner_id,
                            r.d2.is_some(),
                        );
                    }
                }
                "internal-audit" => {
                    if let Some(on) = r.d1 {
                        push(
                            "InternalAudit",
                            r.id,
                            DueKind::InternalAuditDue,
                            on,
                            title,
                            r.owner_id,
                            r.extra.as_deref() != Some("planned"),
                        );
                    }
                }
                "management-review" => {
                    if let Some(on) = r.d1 {
                        let title = format!("Management review of {}", on.format("%Y-%m-%d"));
                        push(
                            "ManagementReview",
                            r.id,
                            DueKind::ManagementReviewDue,
                            on,
                            &title,
                            r.owner_id,
                            r.extra.as_deref() == Some("completed"),
                        );
                    }
                }
                "training" => {
                    if let Some(on) = r.d1 {
                        push(
                            "TrainingAssignment",
                            r.id,
                            DueKind::TrainingDue,
                            on,
                            r.title.as_deref().unwrap_or("Training"),
                            r.owner_id,
                            r.d2.is_some(),
                        );
                    }
                }
                "share-grant" => {
                    if let Some(at) = r.t1 {
                        let title = format!("Share of {}", r.extra.as_deref().unwrap_or_default());
                        push(
                            "ShareGrant",
                            r.id,
                            DueKind::ShareGrantExpiry,
                            at.date_naive(),
                            &title,
                            None,
                            r.t2.is_some(),
                        );
                    }
                }
                "incident" => {
                    if let Some(on) = r.d1 {
                        breaches.incidents.push((
                            r.id,
                            r.title.clone().unwrap_or_default(),
                            r.owner_id,
                            on,
                            r.extra.as_deref().map(str::parse::<i64>).transpose(),
                        ));
                    }
                }
                "incident-decision" => {
                    if let Some(d) = r.extra.as_deref() {
                        breaches.decisions.insert(r.id, d.to_owned());
                    }
                }
                "incident-count" => {
                    breaches.counts.entry(r.id).or_default().push((
                        r.title.clone().unwrap_or_default(),
                        r.extra.as_deref().unwrap_or_default().parse::<i64>(),
                    ));
                }
                "incident-delay" => {
                    breaches.delays.entry(r.id).or_default().push((
                        r.extra.clone().unwrap_or_default(),
                        r.d1,
                        r.d2,
                    ));
                }
                "incident-notice" => {
                    breaches.notices.entry(r.id).or_default().push((
                        r.title.clone().unwrap_or_default(),
                        r.extra.clone(),
                        r.d1,
                    ));
                }
                other => {
                    return Err(StoreError::Invalid(format!(
                        "due items: unknown source {other:?}"
                    )));
                }
            }
        }

        // ---- breach-notification deadlines ----
        for (id, title, owner_id, discovered_on, total) in std::mem::take(&mut breaches.incidents) {
            match breaches.open_clocks(id, discovered_on, total) {
                Ok(Some((due_on, open, resolved))) => {
                    let title = if open.is_empty() {
                        format!("Breach notices of {title}")
                    } else {
                        format!("Breach notice to {} for {title}", open.join(", "))
                    };
                    push(
                        "Incident",
                        id,
                        DueKind::BreachNotificationDeadline,
                        due_on,
                        &title,
                        owner_id,
                        resolved,
                    );
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(incident = %id, error = %e, "stored breach facts fail the notification rules; not tracked");
                }
            }
        }

        out.sort_by(|a, b| {
            (a.due_on, a.kind.as_str(), a.subject_id).cmp(&(
                b.due_on,
                b.kind.as_str(),
                b.subject_id,
            ))
        });
        Ok(out)
    }

    /// The tenant's reminders not yet sent (pending or queued) with `send_at` at or after
    /// `since`, by subject: one statement. (A queued reminder stays queued after delivery, so
    /// the scheduler bounds the scan to the reminders whose deliveries may still be pending.)
    pub async fn unsent_reminders(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<UnsentReminder>, StoreError> {
        Ok(reminder::Entity::find()
            .filter(reminder::Column::TenantId.eq(self.tenant_uuid()))
            .filter(reminder::Column::Status.is_in(["pending", "queued"]))
            .filter(reminder::Column::SendAt.gte(grc_domain::audit::truncate_to_micros(since)))
            .order_by_asc(reminder::Column::SubjectType)
            .order_by_asc(reminder::Column::SubjectId)
            .order_by_asc(reminder::Column::Kind)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|r| UnsentReminder {
                id: r.id,
                subject_type: r.subject_type,
                subject_id: r.subject_id,
                kind: r.kind,
                due_on: r.due_on,
            })
            .collect())
    }
}
