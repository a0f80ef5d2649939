//! Incident and breach-notification repositories (issue 8): the incident register, its timeline
//! and evidence, the breach risk assessments, the affected counts, law-enforcement delays, the
//! notices sent, and business-associate breach notices between two tenants.
//!
//! Unlike the repositories that take whole rows validated by the API, these methods take the
//! facts and check them with the domain's rules (`grc_domain::incidents`) before writing
//! anything: a refused input is a [`StoreError::Rule`] with the rule's stable code, and nothing
//! is stored. Dates that the rules bound by "today" take `today`, the calendar date in the
//! tenant's time zone (the caller's, as the rules say: the store reads no clock for dates).
//!
//! Every method that changes the tenant's data counts as a write ([`TenantTx::commit`] then
//! needs the caller's audit event). Timeline entries the methods add themselves (a status
//! change, an assessment, counts, a delay, a notice) are part of the change they record.
//!
//! A business associate's notice to its covered entity is the one write into another tenant:
//! [`TenantTx::send_ba_notice`] writes the receiver's row and appends the receiver's audit
//! event with the transaction switched into the receiver for those statements only (as
//! `repo/sharing.rs` does for a peer's outbox and chain), so that the receiver's row-level
//! security policy checks them; the receiver must be the customer of an active connection whose
//! provider is the sender (the connection names the customer's vendor record of the sender).

use super::ops::{opt_eq, page_of};
use crate::entity::evidence::evidence;
use crate::entity::incidents::{
    ba_breach_notice, breach_assessment, breach_notification, incident, incident_affected_count,
    incident_evidence, incident_timeline, law_enforcement_delay,
};
use crate::entity::sharing::connection;
use crate::scope::set_local;
use crate::{AuditEntry, Page, PageRequest, StoreError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::DomainError;
use grc_domain::audit::AuditRecord;
use grc_domain::incidents::{
    AffectedCounts, BaRelation, BreachAssessment, BreachClocks, BreachDecision, BreachException,
    DecisionKind, FactorAssessment, IncidentError, IncidentStatus, LawEnforcementDelay,
    MAX_AFFECTED, Notification, NotificationMethod, PhiSecurity, Recipient, Severity,
    StatementForm, TransitionKind, check_assessment, check_delay, check_incident_dates,
    check_notification, covered_entity_clocks, covered_entity_discovery,
};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    grc_domain::audit::truncate_to_micros(Utc::now())
}

/// The longest title, reporter, agency or official name, in characters.
const MAX_NAME: usize = 300;
/// The longest description, lessons learned, timeline entry, rationale or summary.
const MAX_TEXT: usize = grc_domain::incidents::MAX_TEXT;
/// The longest note on a notice's recipient.
const MAX_DETAIL: usize = 2000;
/// The most affected systems or assets listed on an incident.
const MAX_LISTED: usize = 200;

/// A refused input that no domain rule names (a blank or too long text): the store's own codes,
/// `text-blank` and `text-too-long` (the domain's code for the same fault).
fn text_rule(field: &str, code: &'static str, message: String) -> StoreError {
    StoreError::Rule {
        code,
        error: DomainError::invalid(field, message),
    }
}

fn check_text(field: &str, s: &str, required: bool, max: usize) -> Result<(), StoreError> {
    if required && s.trim().is_empty() {
        return Err(text_rule(field, "text-blank", format!("{field} is blank")));
    }
    if s.chars().count() > max {
        return Err(text_rule(
            field,
            "text-too-long",
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// A count of individuals, when given: 0 to the domain's maximum.
fn check_count(field: &str, value: Option<i64>) -> Result<(), StoreError> {
    match value {
        Some(v) if u64::try_from(v).is_err() || v.unsigned_abs() > MAX_AFFECTED => {
            Err(IncidentError::CountOutOfRange {
                field: field.to_owned(),
                value: v,
            }
            .into())
        }
        _ => Ok(()),
    }
}

fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Invalid(format!("stored {what} {s:?}: {e}")))
}

fn stored<T>(what: &str, s: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(s).ok_or_else(|| StoreError::Invalid(format!("stored {what} {s:?}")))
}

// ---------------------------------------------------------------------------------------------
// Types callers use
// ---------------------------------------------------------------------------------------------

/// An incident's fields, as created or updated. The status is not one of them: it changes only
/// through [`TenantTx::transition_incident`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// When it was discovered, if the instant is known.
    pub discovered_at: Option<DateTime<Utc>>,
    /// The discovery date in the tenant's time zone: the date the clocks count from.
    pub discovered_on: NaiveDate,
    /// When it began, if known.
    pub occurred_from: Option<NaiveDate>,
    /// When it ended, if known.
    pub occurred_until: Option<NaiveDate>,
    /// Who reported it (a name or address), and the member if the reporter is one.
    pub reporter: String,
    pub reporter_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub affected_systems: Vec<String>,
    pub affected_asset_ids: Vec<Uuid>,
    /// Whether electronic protected health information is involved (the breach rules apply).
    pub ephi_involved: bool,
    pub lessons_learned: String,
}

/// Filters of the incident list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub severity: Option<Severity>,
    pub ephi_involved: Option<bool>,
}

/// What a caller may add to a timeline; the other kinds (`status`, `assessment`, `counts`,
/// `delay`, `notification`, `evidence`, `ba-notice`) are written by the methods that make those
/// changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    /// An observation.
    Note,
    /// An action taken (containment, eradication, recovery steps).
    Action,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Action => "action",
        }
    }
}

/// A law-enforcement statement to record (164.412): the domain's facts and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelay {
    pub delay: LawEnforcementDelay,
    pub agency: String,
    /// The official's identity (required for an oral statement by 164.412(b); kept for both).
    pub official: String,
    pub notes: String,
}

/// A notice to record as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub notification: Notification,
    /// Who exactly was notified (an outlet, a portal confirmation number), free text.
    pub recipient_detail: String,
    /// How many individuals the notice reached, where it is a count.
    pub individuals: Option<i64>,
}

/// A business associate's notice to its covered entity (164.410), as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBaNotice {
    pub notice_on: NaiveDate,
    pub method: NotificationMethod,
    /// What the notice says (the identification of individuals and the facts of 164.410(c)).
    pub summary: String,
    pub affected_total: Option<i64>,
}

/// The stored facts of an incident that the clocks are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachFacts {
    pub discovered_on: NaiveDate,
    /// The current decision, if one is recorded.
    pub decision: Option<DecisionKind>,
    /// The counts; none recorded reads as zero individuals.
    pub affected: AffectedCounts,
    pub delays: Vec<LawEnforcementDelay>,
    pub notifications: Vec<Notification>,
}

impl BreachFacts {
    /// The covered entity's clocks from these facts (`covered_entity_clocks`).
    pub fn clocks(&self) -> Result<BreachClocks, StoreError> {
        Ok(covered_entity_clocks(
            self.discovered_on,
            self.decision,
            &self.affected,
            &self.delays,
        )?)
    }
}

/// The domain's assessment of a stored row.
pub fn assessment_of(m: &breach_assessment::Model) -> Result<BreachAssessment, StoreError> {
    let decision = match stored("decision", &m.decision, DecisionKind::parse)? {
        DecisionKind::Breach => BreachDecision::Breach,
        DecisionKind::LowProbability => BreachDecision::LowProbability {
            rationale: m.rationale.clone().unwrap_or_default(),
        },
        DecisionKind::Exception => BreachDecision::Exception {
            exception: stored(
                "exception",
                m.exception.as_deref().unwrap_or_default(),
                BreachException::parse,
            )?,
            rationale: m.rationale.clone().unwrap_or_default(),
        },
        DecisionKind::SecuredPhi => BreachDecision::SecuredPhi {
            rationale: m.rationale.clone().unwrap_or_default(),
        },
    };
    Ok(BreachAssessment {
        phi_security: stored("PHI security", &m.phi_security, PhiSecurity::parse)?,
        factors: from_json::<Vec<FactorAssessment>>("factors", &m.factors)?,
        decision,
        decided_on: m.decided_on,
    })
}

/// The domain's statement of a stored delay.
pub fn delay_of(m: &law_enforcement_delay::Model) -> Result<LawEnforcementDelay, StoreError> {
    Ok(LawEnforcementDelay {
        form: stored("statement form", &m.form, StatementForm::parse)?,
        stated_on: m.stated_on,
        ends_on: m.ends_on,
    })
}

/// The domain's notice of a stored row.
pub fn notification_of(m: &breach_notification::Model) -> Result<Notification, StoreError> {
    Ok(Notification {
        recipient: stored("recipient", &m.recipient, Recipient::parse)?,
        jurisdiction: match &m.jurisdiction {
            Some(j) => Some(stored(
                "jurisdiction",
                j,
                grc_domain::incidents::Jurisdiction::parse,
            )?),
            None => None,
        },
        sent_on: m.sent_on,
        method: stored("method", &m.method, NotificationMethod::parse)?,
    })
}

/// The domain's counts from the stored total and rows (none without a total).
pub(crate) fn counts_of(
    total: Option<i64>,
    rows: &[(String, i64)],
) -> Result<Option<AffectedCounts>, StoreError> {
    match total {
        None => Ok(None),
        Some(t) => AffectedCounts::new(t, rows.iter().map(|(j, n)| (j.as_str(), *n)))
            .map(Some)
            .map_err(|e| StoreError::Invalid(format!("stored affected counts: {e}"))),
    }
}

/// The status of a stored incident.
pub fn status_of(m: &incident::Model) -> Result<IncidentStatus, StoreError> {
    stored("status", &m.status, IncidentStatus::parse)
}

fn check_fields(f: &IncidentFields, today: NaiveDate) -> Result<(), StoreError> {
    check_text("title", &f.title, true, MAX_NAME)?;
    check_text("description", &f.description, false, MAX_TEXT)?;
    check_text("reporter", &f.reporter, true, MAX_NAME)?;
    check_text("lessonsLearned", &f.lessons_learned, false, MAX_TEXT)?;
    if f.affected_systems.len() > MAX_LISTED || f.affected_asset_ids.len() > MAX_LISTED {
        return Err(text_rule(
            "affectedSystems",
            "too-many-items",
            format!("at most {MAX_LISTED} affected systems and {MAX_LISTED} assets"),
        ));
    }
    for s in &f.affected_systems {
        check_text("affectedSystems", s, true, MAX_NAME)?;
    }
    check_incident_dates(f.discovered_on, f.occurred_from, f.occurred_until, today)?;
    Ok(())
}

fn apply_fields(m: &mut incident::Model, f: &IncidentFields) -> Result<(), StoreError> {
    m.title = f.title.trim().to_owned();
    m.description = f.description.clone();
    m.severity = f.severity.as_str().to_owned();
    m.discovered_at = f.discovered_at.map(grc_domain::audit::truncate_to_micros);
    m.discovered_on = f.discovered_on;
    m.occurred_from = f.occurred_from;
    m.occurred_until = f.occurred_until;
    m.reporter = f.reporter.trim().to_owned();
    m.reporter_id = f.reporter_id;
    m.owner_id = f.owner_id;
    m.affected_systems = to_json("affected systems", &f.affected_systems)?;
    m.affected_asset_ids = to_json("affected assets", &f.affected_asset_ids)?;
    m.ephi_involved = f.ephi_involved;
    m.lessons_learned = f.lessons_learned.clone();
    Ok(())
}

impl TenantTx {
    // ---- incidents ---------------------------------------------------------------------------

    /// Records a new incident, in triage. Refused (nothing stored) when a text is blank or too
    /// long or the dates break `check_incident_dates` (a discovery after `today`, an occurrence
    /// after the discovery).
    pub async fn create_incident(
        &mut self,
        f: &IncidentFields,
        actor: &str,
        today: NaiveDate,
    ) -> Result<incident::Model, StoreError> {
        check_fields(f, today)?;
        let at = now();
        let mut m = incident::Model {
            tenant_id: self.tenant_uuid(),
            id: Uuid::now_v7(),
            title: String::new(),
            description: String::new(),
            severity: String::new(),
            status: IncidentStatus::Triage.as_str().to_owned(),
            discovered_at: None,
            discovered_on: f.discovered_on,
            occurred_from: None,
            occurred_until: None,
            reporter: String::new(),
            reporter_id: None,
            owner_id: None,
            affected_systems: String::new(),
            affected_asset_ids: String::new(),
            ephi_involved: false,
            lessons_learned: String::new(),
            affected_total: None,
            created_by: actor.to_owned(),
            created_at: at,
            updated_at: at,
            closed_at: None,
        };
        apply_fields(&mut m, f)?;
        let m = m.into_active_model().reset_all().insert(&self.tx).await?;
        self.wrote();
        Ok(m)
    }

    /// Replaces an incident's fields. Refused as [`TenantTx::create_incident`] is, and when the
    /// new discovery date would follow a recorded notice or decision (the rules' "not before the
    /// discovery"). [`StoreError::NotFound`] when the tenant has no such incident.
    pub async fn update_incident(
        &mut self,
        id: Uuid,
        f: &IncidentFields,
        today: NaiveDate,
    ) -> Result<incident::Model, StoreError> {
        check_fields(f, today)?;
        let mut m = self.lock_incident(id).await?;
        if f.discovered_on != m.discovered_on {
            if let Some(n) = self
                .breach_notifications(id)
                .await?
                .into_iter()
                .find(|n| n.sent_on < f.discovered_on)
            {
                return Err(IncidentError::NotificationBeforeDiscovery {
                    recipient: stored("recipient", &n.recipient, Recipient::parse)?,
                    sent_on: n.sent_on,
                    discovered_on: f.discovered_on,
                }
                .into());
            }
            if let Some(a) = self.breach_assessment(id).await?
                && a.decided_on < f.discovered_on
            {
                return Err(IncidentError::DecisionBeforeDiscovery {
                    decided_on: a.decided_on,
                    discovered_on: f.discovered_on,
                }
                .into());
            }
        }
        apply_fields(&mut m, f)?;
        m.updated_at = now();
        let m = m.into_active_model().reset_all().update(&self.tx).await?;
        self.wrote();
        Ok(m)
    }

    /// One incident of this tenant.
    pub async fn incident(&self, id: Uuid) -> Result<Option<incident::Model>, StoreError> {
        Ok(incident::Entity::find()
            .filter(incident::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The incident, locked until the transaction ends (PostgreSQL), or `NotFound`.
    async fn lock_incident(&self, id: Uuid) -> Result<incident::Model, StoreError> {
        let mut q = incident::Entity::find()
            .filter(incident::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident::Column::Id.eq(id));
        if self.tx.get_database_backend() == DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        q.one(&self.tx).await?.ok_or(StoreError::NotFound)
    }

    /// A page of the tenant's incidents, oldest first (ids are time-ordered), and the total.
    pub async fn incidents_page(
        &self,
        f: &IncidentFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<incident::Model>, u64), StoreError> {
        use incident::Column as C;
        let cond = opt_eq(Condition::all(), C::Status, f.status.map(|s| s.as_str()));
        let cond = opt_eq(cond, C::Severity, f.severity.map(|s| s.as_str()));
        let cond = opt_eq(cond, C::EphiInvolved, f.ephi_involved);
        page_of!(self, incident, cond, req, want_total)
    }

    /// Deletes an incident recorded in error: only one with nothing recorded on it (no
    /// timeline entry, evidence, assessment, count, delay, notice); else `Conflict` (the rows
    /// that refer to it keep it). Whether there was one.
    pub async fn delete_incident(&mut self, id: Uuid) -> Result<bool, StoreError> {
        // In a savepoint: a refused delete (a row refers to the incident) leaves the
        // transaction usable (PostgreSQL aborts a transaction on a failed statement).
        let sp = self.tx.begin().await?;
        let r = incident::Entity::delete_many()
            .filter(incident::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident::Column::Id.eq(id))
            .exec(&sp)
            .await;
        let n = match r {
            Ok(n) => {
                sp.commit().await?;
                n
            }
            Err(e) => {
                sp.rollback().await?;
                return Err(match StoreError::from(e) {
                    // A notice recorded, or a BA notice, refers to it: that record stays.
                    StoreError::Conflict(_) => StoreError::Conflict(format!(
                        "incident {id} has notices or business-associate notices recorded; \
                         they are kept, so the incident is closed, not deleted"
                    )),
                    other => other,
                });
            }
        };
        if n.rows_affected == 0 {
            return Ok(false);
        }
        self.wrote();
        Ok(true)
    }

    /// Moves an incident to `to`, as `check_transition` allows (forward, or a closed incident
    /// back to triage; an incident involving ePHI closes only with its breach decision
    /// recorded), and records the change in its timeline (with `note`, if any).
    pub async fn transition_incident(
        &mut self,
        id: Uuid,
        to: IncidentStatus,
        note: Option<&str>,
        actor: &str,
    ) -> Result<(incident::Model, TransitionKind), StoreError> {
        if let Some(n) = note {
            check_text("note", n, false, MAX_TEXT)?;
        }
        let mut m = self.lock_incident(id).await?;
        let from = status_of(&m)?;
        let pending = m.ephi_involved && self.breach_assessment(id).await?.is_none();
        let kind = grc_domain::incidents::check_transition(from, to, pending)?;
        let at = now();
        m.status = to.as_str().to_owned();
        m.closed_at = (to == IncidentStatus::Closed).then_some(at);
        m.updated_at = at;
        let m = m.into_active_model().reset_all().update(&self.tx).await?;
        let mut body = format!("{} → {}", from.as_str(), to.as_str());
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            body.push_str(": ");
            body.push_str(n);
        }
        self.timeline_entry(id, at, "status", &body, actor).await?;
        self.wrote();
        Ok((m, kind))
    }

    // ---- timeline ----------------------------------------------------------------------------

    async fn timeline_entry(
        &mut self,
        incident_id: Uuid,
        occurred_at: DateTime<Utc>,
        kind: &str,
        body: &str,
        actor: &str,
    ) -> Result<incident_timeline::Model, StoreError> {
        let m = incident_timeline::Model {
            tenant_id: self.tenant_uuid(),
            id: Uuid::now_v7(),
            incident_id,
            occurred_at: grc_domain::audit::truncate_to_micros(occurred_at),
            kind: kind.to_owned(),
            body: body.chars().take(MAX_TEXT).collect(),
            actor: actor.to_owned(),
            recorded_at: now(),
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        self.wrote();
        Ok(m)
    }

    /// Appends a note or an action to an incident's timeline (entries are never changed).
    pub async fn append_incident_timeline(
        &mut self,
        incident_id: Uuid,
        kind: TimelineKind,
        occurred_at: DateTime<Utc>,
        body: &str,
        actor: &str,
    ) -> Result<incident_timeline::Model, StoreError> {
        check_text("body", body, true, MAX_TEXT)?;
        self.incident(incident_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.timeline_entry(incident_id, occurred_at, kind.as_str(), body, actor)
            .await
    }

    /// An incident's timeline, by the time each entry happened, then as recorded.
    pub async fn incident_timeline(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<incident_timeline::Model>, StoreError> {
        Ok(incident_timeline::Entity::find()
            .filter(incident_timeline::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident_timeline::Column::IncidentId.eq(incident_id))
            .order_by_asc(incident_timeline::Column::OccurredAt)
            .order_by_asc(incident_timeline::Column::Id)
            .all(&self.tx)
            .await?)
    }

    // ---- evidence ----------------------------------------------------------------------------

    /// Links one of the tenant's evidence files to an incident; whether the link is new.
    /// `NotFound` when either is not the tenant's.
    pub async fn link_incident_evidence(
        &mut self,
        incident_id: Uuid,
        evidence_id: Uuid,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let me = self.tenant_uuid();
        self.incident(incident_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        evidence::Entity::find()
            .filter(evidence::Column::TenantId.eq(me))
            .filter(evidence::Column::Id.eq(evidence_id))
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let exists = incident_evidence::Entity::find()
            .filter(incident_evidence::Column::TenantId.eq(me))
            .filter(incident_evidence::Column::IncidentId.eq(incident_id))
            .filter(incident_evidence::Column::EvidenceId.eq(evidence_id))
            .one(&self.tx)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        incident_evidence::Model {
            tenant_id: me,
            incident_id,
            evidence_id,
            linked_by: actor.to_owned(),
            linked_at: now(),
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        self.wrote();
        Ok(true)
    }

    /// Unlinks evidence from an incident; whether there was a link.
    pub async fn unlink_incident_evidence(
        &mut self,
        incident_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<bool, StoreError> {
        let n = incident_evidence::Entity::delete_many()
            .filter(incident_evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident_evidence::Column::IncidentId.eq(incident_id))
            .filter(incident_evidence::Column::EvidenceId.eq(evidence_id))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Ok(false);
        }
        self.wrote();
        Ok(true)
    }

    /// The evidence links of an incident, oldest first.
    pub async fn incident_evidence(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<incident_evidence::Model>, StoreError> {
        Ok(incident_evidence::Entity::find()
            .filter(incident_evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident_evidence::Column::IncidentId.eq(incident_id))
            .order_by_asc(incident_evidence::Column::LinkedAt)
            .order_by_asc(incident_evidence::Column::EvidenceId)
            .all(&self.tx)
            .await?)
    }

    // ---- breach assessment -------------------------------------------------------------------

    /// Records the incident's breach risk assessment, checked by `check_assessment` against its
    /// discovery date and `today`; it becomes the current one, and the one it replaces is kept
    /// (superseded). `decided_by` names who decided (`decider_id` when a member).
    #[allow(clippy::too_many_arguments)]
    pub async fn put_breach_assessment(
        &mut self,
        incident_id: Uuid,
        a: &BreachAssessment,
        decided_by: &str,
        decider_id: Option<Uuid>,
        actor: &str,
        today: NaiveDate,
    ) -> Result<breach_assessment::Model, StoreError> {
        check_text("decidedBy", decided_by, true, MAX_NAME)?;
        let inc = self.lock_incident(incident_id).await?;
        let kind = check_assessment(a, inc.discovered_on, today)?;
        let me = self.tenant_uuid();
        let at = now();
        breach_assessment::Entity::update_many()
            .col_expr(breach_assessment::Column::SupersededAt, Expr::value(at))
            .filter(breach_assessment::Column::TenantId.eq(me))
            .filter(breach_assessment::Column::IncidentId.eq(incident_id))
            .filter(breach_assessment::Column::SupersededAt.is_null())
            .exec(&self.tx)
            .await?;
        let (exception, rationale) = match &a.decision {
            BreachDecision::Breach => (None, None),
            BreachDecision::LowProbability { rationale }
            | BreachDecision::SecuredPhi { rationale } => (None, Some(rationale.clone())),
            BreachDecision::Exception {
                exception,
                rationale,
            } => (Some(exception.as_str().to_owned()), Some(rationale.clone())),
        };
        let m = breach_assessment::Model {
            tenant_id: me,
            id: Uuid::now_v7(),
            incident_id,
            phi_security: a.phi_security.as_str().to_owned(),
            factors: to_json("factors", &a.factors)?,
            decision: kind.as_str().to_owned(),
            exception,
            rationale,
            decided_on: a.decided_on,
            decided_by: decided_by.trim().to_owned(),
            decider_id,
            recorded_by: actor.to_owned(),
            recorded_at: at,
            superseded_at: None,
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        let body = format!(
            "breach decision: {} (decided {} by {})",
            kind.as_str(),
            a.decided_on,
            m.decided_by
        );
        self.timeline_entry(incident_id, at, "assessment", &body, actor)
            .await?;
        self.wrote();
        Ok(m)
    }

    /// The incident's current breach assessment, if any.
    pub async fn breach_assessment(
        &self,
        incident_id: Uuid,
    ) -> Result<Option<breach_assessment::Model>, StoreError> {
        Ok(breach_assessment::Entity::find()
            .filter(breach_assessment::Column::TenantId.eq(self.tenant_uuid()))
            .filter(breach_assessment::Column::IncidentId.eq(incident_id))
            .filter(breach_assessment::Column::SupersededAt.is_null())
            .one(&self.tx)
            .await?)
    }

    /// Every assessment of the incident, oldest first (the last is the current one).
    pub async fn breach_assessment_history(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<breach_assessment::Model>, StoreError> {
        Ok(breach_assessment::Entity::find()
            .filter(breach_assessment::Column::TenantId.eq(self.tenant_uuid()))
            .filter(breach_assessment::Column::IncidentId.eq(incident_id))
            .order_by_asc(breach_assessment::Column::Id)
            .all(&self.tx)
            .await?)
    }

    // ---- affected counts ---------------------------------------------------------------------

    /// Replaces the incident's affected counts: the total and the per-State counts, checked by
    /// `AffectedCounts::new` (known codes, each once, 0 to the maximum, the total not below the
    /// sum). Returns the counts as the domain reads them.
    pub async fn set_affected_counts<S: AsRef<str>>(
        &mut self,
        incident_id: Uuid,
        total: i64,
        by_jurisdiction: &[(S, i64)],
        actor: &str,
    ) -> Result<AffectedCounts, StoreError> {
        let counts =
            AffectedCounts::new(total, by_jurisdiction.iter().map(|(j, n)| (j.as_ref(), *n)))?;
        let mut inc = self.lock_incident(incident_id).await?;
        let me = self.tenant_uuid();
        incident_affected_count::Entity::delete_many()
            .filter(incident_affected_count::Column::TenantId.eq(me))
            .filter(incident_affected_count::Column::IncidentId.eq(incident_id))
            .exec(&self.tx)
            .await?;
        let rows: Vec<incident_affected_count::ActiveModel> = counts
            .by_jurisdiction()
            .iter()
            .map(|(j, n)| {
                incident_affected_count::Model {
                    tenant_id: me,
                    incident_id,
                    jurisdiction: j.as_str().to_owned(),
                    individuals: i64::try_from(*n).unwrap_or(i64::MAX),
                }
                .into_active_model()
                .reset_all()
            })
            .collect();
        if !rows.is_empty() {
            incident_affected_count::Entity::insert_many(rows)
                .exec_without_returning(&self.tx)
                .await?;
        }
        let at = now();
        inc.affected_total = Some(i64::try_from(counts.total()).unwrap_or(i64::MAX));
        inc.updated_at = at;
        inc.into_active_model().reset_all().update(&self.tx).await?;
        let body = format!(
            "affected individuals: {} in total, {} jurisdiction(s) listed",
            counts.total(),
            counts.by_jurisdiction().len()
        );
        self.timeline_entry(incident_id, at, "counts", &body, actor)
            .await?;
        self.wrote();
        Ok(counts)
    }

    /// The incident's affected counts; none until counted. `NotFound` without the incident.
    pub async fn affected_counts(
        &self,
        incident_id: Uuid,
    ) -> Result<Option<AffectedCounts>, StoreError> {
        let inc = self
            .incident(incident_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows: Vec<(String, i64)> = incident_affected_count::Entity::find()
            .filter(incident_affected_count::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident_affected_count::Column::IncidentId.eq(incident_id))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|r| (r.jurisdiction, r.individuals))
            .collect();
        counts_of(inc.affected_total, &rows)
    }

    // ---- law-enforcement delays --------------------------------------------------------------

    /// Records a law-enforcement statement delaying the notices, checked by `check_delay` (not
    /// after `today`; a written one states its period; the period ends after the statement).
    pub async fn add_law_enforcement_delay(
        &mut self,
        incident_id: Uuid,
        d: &NewDelay,
        actor: &str,
        today: NaiveDate,
    ) -> Result<law_enforcement_delay::Model, StoreError> {
        check_delay(&d.delay, today)?;
        check_text("agency", &d.agency, true, MAX_NAME)?;
        check_text("official", &d.official, true, MAX_NAME)?;
        check_text("notes", &d.notes, false, MAX_TEXT)?;
        self.lock_incident(incident_id).await?;
        let at = now();
        let m = law_enforcement_delay::Model {
            tenant_id: self.tenant_uuid(),
            id: Uuid::now_v7(),
            incident_id,
            form: d.delay.form.as_str().to_owned(),
            stated_on: d.delay.stated_on,
            ends_on: d.delay.ends_on,
            agency: d.agency.trim().to_owned(),
            official: d.official.trim().to_owned(),
            notes: d.notes.clone(),
            recorded_by: actor.to_owned(),
            recorded_at: at,
            ended_by: None,
            ended_at: None,
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        let body = format!(
            "{} law-enforcement delay stated {} by {} ({}){}",
            m.form,
            m.stated_on,
            m.official,
            m.agency,
            m.ends_on
                .map_or(String::new(), |e| format!(", through {e}"))
        );
        self.timeline_entry(incident_id, at, "delay", &body, actor)
            .await?;
        self.wrote();
        Ok(m)
    }

    /// Ends a delay early (the official lifted it): its last day becomes `ends_on`, checked as
    /// the statement was, and no later than the day it would have ended. A delay already ended
    /// is a `Conflict`.
    pub async fn end_law_enforcement_delay(
        &mut self,
        delay_id: Uuid,
        ends_on: NaiveDate,
        actor: &str,
        today: NaiveDate,
    ) -> Result<law_enforcement_delay::Model, StoreError> {
        let me = self.tenant_uuid();
        let mut m = law_enforcement_delay::Entity::find()
            .filter(law_enforcement_delay::Column::TenantId.eq(me))
            .filter(law_enforcement_delay::Column::Id.eq(delay_id))
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if m.ended_at.is_some() {
            return Err(StoreError::Conflict("the delay has already ended".into()));
        }
        let mut d = delay_of(&m)?;
        if let Some(old) = d.ends_on
            && ends_on > old
        {
            return Err(StoreError::Rule {
                code: "delay-extended",
                error: DomainError::invalid(
                    "endsOn",
                    format!(
                        "ending a delay cannot move its last day ({old}) later: record the new statement instead"
                    ),
                ),
            });
        }
        d.ends_on = Some(ends_on);
        check_delay(&d, today)?;
        let incident_id = m.incident_id;
        self.lock_incident(incident_id).await?;
        let at = now();
        m.ends_on = Some(ends_on);
        m.ended_by = Some(actor.to_owned());
        m.ended_at = Some(at);
        let m = m.into_active_model().reset_all().update(&self.tx).await?;
        let body = format!("law-enforcement delay ended: last day {ends_on}");
        self.timeline_entry(incident_id, at, "delay", &body, actor)
            .await?;
        self.wrote();
        Ok(m)
    }

    /// The incident's law-enforcement statements, in the order recorded.
    pub async fn law_enforcement_delays(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<law_enforcement_delay::Model>, StoreError> {
        Ok(law_enforcement_delay::Entity::find()
            .filter(law_enforcement_delay::Column::TenantId.eq(self.tenant_uuid()))
            .filter(law_enforcement_delay::Column::IncidentId.eq(incident_id))
            .order_by_asc(law_enforcement_delay::Column::Id)
            .all(&self.tx)
            .await?)
    }

    // ---- notifications -----------------------------------------------------------------------

    /// Records a notice as sent, checked by `check_notification` (not before the discovery, not
    /// after `today`, a method the rule allows for the recipient, a State for a media notice
    /// only). Notices are never changed: a correction is a later notice.
    pub async fn record_breach_notification(
        &mut self,
        incident_id: Uuid,
        n: &NewNotification,
        actor: &str,
        today: NaiveDate,
    ) -> Result<breach_notification::Model, StoreError> {
        check_text("recipientDetail", &n.recipient_detail, false, MAX_DETAIL)?;
        check_count("individuals", n.individuals)?;
        let inc = self.lock_incident(incident_id).await?;
        check_notification(&n.notification, inc.discovered_on, today)?;
        self.insert_breach_notice_row(incident_id, n, actor).await
    }

    async fn insert_breach_notice_row(
        &mut self,
        incident_id: Uuid,
        n: &NewNotification,
        actor: &str,
    ) -> Result<breach_notification::Model, StoreError> {
        let at = now();
        let m = breach_notification::Model {
            tenant_id: self.tenant_uuid(),
            id: Uuid::now_v7(),
            incident_id,
            recipient: n.notification.recipient.as_str().to_owned(),
            jurisdiction: n.notification.jurisdiction.map(|j| j.as_str().to_owned()),
            sent_on: n.notification.sent_on,
            method: n.notification.method.as_str().to_owned(),
            recipient_detail: n.recipient_detail.clone(),
            individuals: n.individuals,
            recorded_by: actor.to_owned(),
            recorded_at: at,
        }
        .into_active_model()
        .reset_all()
        .insert(&self.tx)
        .await?;
        let body = format!(
            "notice to {}{} sent {} by {}",
            m.recipient,
            m.jurisdiction
                .as_deref()
                .map_or(String::new(), |j| format!(" ({j})")),
            m.sent_on,
            m.method
        );
        self.timeline_entry(incident_id, at, "notification", &body, actor)
            .await?;
        self.wrote();
        Ok(m)
    }

    /// The notices recorded for an incident, by sending date.
    pub async fn breach_notifications(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<breach_notification::Model>, StoreError> {
        Ok(breach_notification::Entity::find()
            .filter(breach_notification::Column::TenantId.eq(self.tenant_uuid()))
            .filter(breach_notification::Column::IncidentId.eq(incident_id))
            .order_by_asc(breach_notification::Column::SentOn)
            .order_by_asc(breach_notification::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// The stored facts of an incident that its clocks are computed from (`NotFound` without
    /// it); [`BreachFacts::clocks`] computes them.
    pub async fn breach_facts(&self, incident_id: Uuid) -> Result<BreachFacts, StoreError> {
        let inc = self
            .incident(incident_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let decision = match self.breach_assessment(incident_id).await? {
            Some(a) => Some(stored("decision", &a.decision, DecisionKind::parse)?),
            None => None,
        };
        let affected = match self.affected_counts(incident_id).await? {
            Some(c) => c,
            None => AffectedCounts::new(0, std::iter::empty::<(&str, i64)>())?,
        };
        let delays = self
            .law_enforcement_delays(incident_id)
            .await?
            .iter()
            .map(delay_of)
            .collect::<Result<Vec<_>, _>>()?;
        let notifications = self
            .breach_notifications(incident_id)
            .await?
            .iter()
            .map(notification_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BreachFacts {
            discovered_on: inc.discovered_on,
            decision,
            affected,
            delays,
            notifications,
        })
    }

    // ---- business-associate notices ----------------------------------------------------------

    /// Sends a business associate's breach notice about its incident `incident_id` to the
    /// covered entity `covered_entity` (164.410): the current tenant is the business associate,
    /// and must be the provider of an active connection with the covered entity as customer
    /// (else `NotFound`: no such covered entity for this tenant). The notice is checked as a
    /// notice to the covered entity (`check_notification`: not before the business associate's
    /// discovery, not after `today`, a method allowed).
    ///
    /// Writes, in this transaction: the sender's row, the notice to the covered entity among the
    /// incident's notices (so the business associate's record shows it sent) and a timeline
    /// entry; and, with the transaction switched into the covered entity for those statements
    /// only, the receiver's row (naming the business associate's incident and the covered
    /// entity's vendor record of the connection) and `peer_audit` in the covered entity's audit
    /// chain. Returns the sender's row and the covered entity's audit event.
    ///
    /// It takes both audit chains' locks in order (`lock_chains`), so call it before the
    /// transaction's own audit event (which the caller appends afterwards, as for any write).
    pub async fn send_ba_notice(
        &mut self,
        incident_id: Uuid,
        covered_entity: Uuid,
        notice: &NewBaNotice,
        actor: &str,
        peer_audit: AuditEntry,
        today: NaiveDate,
    ) -> Result<(ba_breach_notice::Model, AuditRecord), StoreError> {
        check_text("summary", &notice.summary, true, MAX_TEXT)?;
        let me = self.tenant_uuid();
        let inc = self.lock_incident(incident_id).await?;
        let n = Notification {
            recipient: Recipient::CoveredEntity,
            jurisdiction: None,
            sent_on: notice.notice_on,
            method: notice.method,
        };
        check_count("affectedTotal", notice.affected_total)?;
        check_notification(&n, inc.discovered_on, today)?;
        // The covered entity's connection with this tenant as its provider (not one the other
        // way round: two tenants may each be the other's vendor).
        let connection = connection::Entity::find()
            .filter(connection::Column::TenantId.eq(covered_entity))
            .filter(connection::Column::ProviderTenantId.eq(me))
            .filter(connection::Column::Status.eq("active"))
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        // Two audit chains are written (ours by the caller, the covered entity's here): their
        // head locks in the global order first.
        self.lock_chains(&[covered_entity]).await?;
        let at = now();
        let sent = ba_breach_notice::Model {
            tenant_id: me,
            id: Uuid::now_v7(),
            direction: "sent".into(),
            peer_tenant_id: covered_entity,
            incident_id: Some(incident_id),
            peer_incident_id: None,
            connection_id: connection.id,
            vendor_id: None,
            ba_discovered_on: inc.discovered_on,
            notice_on: notice.notice_on,
            method: notice.method.as_str().to_owned(),
            summary: notice.summary.clone(),
            affected_total: notice.affected_total,
            sent_by: actor.to_owned(),
            created_at: at,
            discovery_basis: None,
            accepted_by: None,
            accepted_at: None,
        };
        let received = ba_breach_notice::Model {
            tenant_id: covered_entity,
            direction: "received".into(),
            peer_tenant_id: me,
            incident_id: None,
            peer_incident_id: Some(incident_id),
            vendor_id: Some(connection.vendor_id),
            ..sent.clone()
        };
        let sent = sent
            .into_active_model()
            .reset_all()
            .insert(&self.tx)
            .await?;
        self.wrote();
        self.insert_breach_notice_row(
            incident_id,
            &NewNotification {
                notification: n,
                recipient_detail: format!("covered entity {covered_entity} (notice {})", sent.id),
                individuals: notice.affected_total,
            },
            actor,
        )
        .await?;
        // The receiver's row, as the receiver: its tenant policy checks the insert.
        set_local(&self.tx, "app.tenant_id", &covered_entity.to_string()).await?;
        let r = received
            .into_active_model()
            .reset_all()
            .insert(&self.tx)
            .await;
        set_local(&self.tx, "app.tenant_id", &me.to_string()).await?;
        r?;
        let rec = self.notify_peer(covered_entity, peer_audit).await?;
        Ok((sent, rec))
    }

    /// Accepts a business associate's notice received by the current tenant (the covered
    /// entity): records a new incident in its register, linked to the notice, whose discovery
    /// date is `covered_entity_discovery` of the relation (`agent`: the business associate's
    /// discovery; `independent-contractor`: the notice's date) whatever `f` says, and which
    /// involves ePHI. A notice already accepted is a `Conflict`; one not received by this
    /// tenant is `NotFound`.
    pub async fn accept_ba_notice(
        &mut self,
        notice_id: Uuid,
        relation: BaRelation,
        f: &IncidentFields,
        actor: &str,
        today: NaiveDate,
    ) -> Result<(ba_breach_notice::Model, incident::Model), StoreError> {
        let me = self.tenant_uuid();
        let mut q = ba_breach_notice::Entity::find()
            .filter(ba_breach_notice::Column::TenantId.eq(me))
            .filter(ba_breach_notice::Column::Id.eq(notice_id))
            .filter(ba_breach_notice::Column::Direction.eq("received"));
        if self.tx.get_database_backend() == DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        let mut notice = q.one(&self.tx).await?.ok_or(StoreError::NotFound)?;
        if notice.accepted_at.is_some() {
            return Err(StoreError::Conflict(
                "the notice is already in the register".into(),
            ));
        }
        let discovered_on =
            covered_entity_discovery(relation, notice.ba_discovered_on, notice.notice_on)?;
        let mut fields = f.clone();
        fields.discovered_on = discovered_on;
        fields.ephi_involved = true;
        let inc = self.create_incident(&fields, actor, today).await?;
        let at = now();
        notice.incident_id = Some(inc.id);
        notice.discovery_basis = Some(
            match relation {
                BaRelation::Agent => "agent-knowledge",
                BaRelation::IndependentContractor => "notice-received",
            }
            .to_owned(),
        );
        notice.accepted_by = Some(actor.to_owned());
        notice.accepted_at = Some(at);
        let notice = notice
            .into_active_model()
            .reset_all()
            .update(&self.tx)
            .await?;
        let body = format!(
            "business associate's notice of {} received (discovered by the business associate {}); discovery basis: {}",
            notice.notice_on,
            notice.ba_discovered_on,
            notice.discovery_basis.as_deref().unwrap_or_default()
        );
        self.timeline_entry(inc.id, at, "ba-notice", &body, actor)
            .await?;
        self.wrote();
        Ok((notice, inc))
    }

    /// One business-associate notice of this tenant (its side: sent or received).
    pub async fn ba_notice(&self, id: Uuid) -> Result<Option<ba_breach_notice::Model>, StoreError> {
        Ok(ba_breach_notice::Entity::find()
            .filter(ba_breach_notice::Column::TenantId.eq(self.tenant_uuid()))
            .filter(ba_breach_notice::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// A page of this tenant's business-associate notices: those it `received` (as a covered
    /// entity) or `sent` (as a business associate), oldest first.
    pub async fn ba_notices_page(
        &self,
        received: bool,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<ba_breach_notice::Model>, StoreError> {
        use ba_breach_notice::Column as C;
        let q = ba_breach_notice::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::Direction.eq(if received { "received" } else { "sent" }));
        let rows = req
            .apply(q, C::Id, |k: &Uuid| (*k).into())
            .all(&self.tx)
            .await?;
        Ok(req.finish(rows))
    }

    /// The business-associate notices on one of this tenant's incidents (sent about it, or the
    /// received notice it was recorded from).
    pub async fn ba_notices_of_incident(
        &self,
        incident_id: Uuid,
    ) -> Result<Vec<ba_breach_notice::Model>, StoreError> {
        Ok(ba_breach_notice::Entity::find()
            .filter(ba_breach_notice::Column::TenantId.eq(self.tenant_uuid()))
            .filter(ba_breach_notice::Column::IncidentId.eq(incident_id))
            .order_by_asc(ba_breach_notice::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// How many incidents the tenant has open (not closed).
    pub async fn open_incident_count(&self) -> Result<u64, StoreError> {
        Ok(incident::Entity::find()
            .filter(incident::Column::TenantId.eq(self.tenant_uuid()))
            .filter(incident::Column::Status.ne(IncidentStatus::Closed.as_str()))
            .count(&self.tx)
            .await?)
    }
}
