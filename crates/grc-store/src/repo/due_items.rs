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
//! Not tracked: breach-notification deadlines (no incidents table yet).

use crate::entity::audits::{internal_audit, management_review, nonconformity, review_action};
use crate::entity::evidence::evidence;
use crate::entity::isms::risk;
use crate::entity::records::{document, training_assignment, training_course};
use crate::entity::reminders::reminder;
use crate::entity::sharing::share_grant;
use crate::entity::vendors::{
    attestation, baa, certificate, certificate_audit, certificate_decision, vendor_policy,
};
use crate::{StoreError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::DomainError;
use grc_domain::certification::{
    self as cdom, AttestationFacts, AttestationPolicy, CertDueKind, CertificateStatus, Edition,
};
use grc_domain::reminders::{DueItem, DueKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
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

/// A certificate's stored history as the domain's lifecycle (`Certificate::new` validates it):
/// the one mapping from rows, used by the API and the scheduler alike.
pub fn certificate_lifecycle(
    row: &certificate::Model,
    audits: &[certificate_audit::Model],
    decisions: &[certificate_decision::Model],
) -> Result<cdom::Certificate, DomainError> {
    let standard = cdom::Standard::parse(&row.standard)
        .ok_or_else(|| DomainError::invalid("standard", "unknown standard"))?;
    let edition = Edition::parse(&row.edition)
        .ok_or_else(|| DomainError::invalid("edition", "unknown edition"))?;
    let audits = audits
        .iter()
        .map(|a| {
            Ok(cdom::CertAudit {
                kind: cdom::CertAuditKind::parse(&a.kind)
                    .ok_or_else(|| DomainError::invalid("kind", "unknown stored audit kind"))?,
                start: a.start_date,
                end: a.end_date,
                major_findings: count(a.major_findings),
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    let decisions = decisions
        .iter()
        .map(|d| {
            Ok(cdom::CertDecision {
                kind: cdom::CertDecisionKind::parse(&d.kind)
                    .ok_or_else(|| DomainError::invalid("kind", "unknown stored decision kind"))?,
                on: d.decided_on,
                expires: d.expires_on,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    cdom::Certificate::new(standard, edition, &audits, &decisions)
}

/// The attestation policy of a stored vendor policy row (the default without one); a stored
/// value out of range falls back to the default, as in the API.
fn attestation_policy(row: Option<&vendor_policy::Model>) -> AttestationPolicy {
    let d = AttestationPolicy::default();
    let months = |v: i32, default: u32| u32::try_from(v).unwrap_or(default);
    match row {
        None => d,
        Some(r) => AttestationPolicy {
            soc2_current_months: months(r.soc2_current_months, d.soc2_current_months),
            soc2_bridge_max_months: months(r.soc2_bridge_max_months, d.soc2_bridge_max_months),
            pen_test_months: months(r.pen_test_months, d.pen_test_months),
            questionnaire_months: months(r.questionnaire_months, d.questionnaire_months),
        },
    }
}

fn attestation_facts(a: &attestation::Model) -> Option<AttestationFacts> {
    Some(AttestationFacts {
        kind: cdom::AttestationKind::parse(&a.kind)?,
        issued_on: a.issued_on,
        expires_on: a.expires_on,
        edition: match a.edition.as_deref() {
            Some(e) => Some(Edition::parse(e)?),
            None => None,
        },
        period_start: a.period_start,
        period_end: a.period_end,
        opinion: match a.opinion.as_deref() {
            Some(o) => Some(cdom::Opinion::parse(o)?),
            None => None,
        },
        bridge_through: a.bridge_through,
        interim_submitted_on: a.interim_submitted_on,
        hitrust_bridge_on: a.hitrust_bridge_on,
        suspended_on: a.suspended_on,
        withdrawn_on: a.withdrawn_on,
    })
}

impl TenantTx {
    /// Every tracked due item of the tenant as of `today` (see the module doc for what is
    /// tracked and when an item counts as resolved), ordered by due date, kind and subject.
    /// A constant number of statements (one per source table), whatever the number of rows.
    /// A certificate whose stored history the lifecycle rules refuse is left out (and logged).
    pub async fn due_items(&self, today: NaiveDate) -> Result<Vec<TrackedDue>, StoreError> {
        let t = self.tenant_uuid();
        let mut out = Vec::new();
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
        let certs = certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?;
        if !certs.is_empty() {
            let mut audits: HashMap<Uuid, Vec<certificate_audit::Model>> = HashMap::new();
            for a in certificate_audit::Entity::find()
                .filter(certificate_audit::Column::TenantId.eq(t))
                .all(&self.tx)
                .await?
            {
                audits.entry(a.certificate_id).or_default().push(a);
            }
            let mut decisions: HashMap<Uuid, Vec<certificate_decision::Model>> = HashMap::new();
            for d in certificate_decision::Entity::find()
                .filter(certificate_decision::Column::TenantId.eq(t))
                .all(&self.tx)
                .await?
            {
                decisions.entry(d.certificate_id).or_default().push(d);
            }
            for c in &certs {
                let life = match certificate_lifecycle(
                    c,
                    audits.get(&c.id).map_or(&[], Vec::as_slice),
                    decisions.get(&c.id).map_or(&[], Vec::as_slice),
                ) {
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
                    c.certificate_number
                );
                let state = life.status_on(today);
                let tracked = match state.status {
                    CertificateStatus::Active | CertificateStatus::Suspended => true,
                    CertificateStatus::Expired => {
                        state.restorable_until.is_some_and(|r| r >= today)
                    }
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
        }

        // ---- attestations and BAAs ----
        let atts = attestation::Entity::find()
            .filter(attestation::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?;
        if !atts.is_empty() {
            let vp = vendor_policy::Entity::find()
                .filter(vendor_policy::Column::TenantId.eq(t))
                .one(&self.tx)
                .await?;
            let policy = attestation_policy(vp.as_ref());
            for a in &atts {
                let withdrawn = a.withdrawn_on.is_some_and(|w| w <= today);
                if let Some(f) = attestation_facts(a)
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
        }
        for b in baa::Entity::find()
            .filter(baa::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?
        {
            let terminated = b.terminated_on.is_some_and(|d| d <= today);
            if let Some(end) = b.ends_on {
                push(
                    "Baa",
                    b.id,
                    DueKind::BaaEnd,
                    end,
                    &b.title,
                    None,
                    terminated,
                );
            }
            if let Some(review) = b.review_on {
                push(
                    "Baa",
                    b.id,
                    DueKind::BaaReview,
                    review,
                    &b.title,
                    None,
                    terminated,
                );
            }
        }

        // ---- documents, risks, evidence ----
        for d in document::Entity::find()
            .filter(document::Column::TenantId.eq(t))
            .filter(document::Column::NextReviewDate.is_not_null())
            .all(&self.tx)
            .await?
        {
            let kind = if d.kind == "policy" {
                DueKind::PolicyReview
            } else {
                DueKind::DocumentReview
            };
            if let Some(on) = d.next_review_date {
                push("Document", d.id, kind, on, &d.title, d.owner_id, false);
            }
        }
        for r in risk::Entity::find()
            .filter(risk::Column::TenantId.eq(t))
            .filter(risk::Column::ReviewDate.is_not_null())
            .all(&self.tx)
            .await?
        {
            if let Some(on) = r.review_date {
                let title = format!("{} {}", r.reference, r.title);
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
        for e in evidence::Entity::find()
            .filter(evidence::Column::TenantId.eq(t))
            .filter(evidence::Column::ExpiresOn.is_not_null())
            .all(&self.tx)
            .await?
        {
            if let Some(on) = e.expires_on {
                push(
                    "Evidence",
                    e.id,
                    DueKind::EvidenceExpiry,
                    on,
                    &e.title,
                    e.uploader_id,
                    e.archived_at.is_some(),
                );
            }
        }

        // ---- corrective actions, internal audits, management reviews ----
        for n in nonconformity::Entity::find()
            .filter(nonconformity::Column::TenantId.eq(t))
            .filter(nonconformity::Column::DueDate.is_not_null())
            .all(&self.tx)
            .await?
        {
            if let Some(on) = n.due_date {
                push(
                    "Nonconformity",
                    n.id,
                    DueKind::CorrectiveActionDue,
                    on,
                    &n.title,
                    n.owner_id,
                    n.status == "closed",
                );
            }
        }
        for a in review_action::Entity::find()
            .filter(review_action::Column::TenantId.eq(t))
            .filter(review_action::Column::DueDate.is_not_null())
            .all(&self.tx)
            .await?
        {
            if let Some(on) = a.due_date {
                push(
                    "ManagementReviewAction",
                    a.id,
                    DueKind::CorrectiveActionDue,
                    on,
                    &a.title,
                    a.owner_id,
                    a.done_on.is_some(),
                );
            }
        }
        for a in internal_audit::Entity::find()
            .filter(internal_audit::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?
        {
            push(
                "InternalAudit",
                a.id,
                DueKind::InternalAuditDue,
                a.planned_start,
                &a.title,
                a.lead_auditor_id,
                a.status != "planned",
            );
        }
        for m in management_review::Entity::find()
            .filter(management_review::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?
        {
            let title = format!("Management review of {}", m.held_on.format("%Y-%m-%d"));
            push(
                "ManagementReview",
                m.id,
                DueKind::ManagementReviewDue,
                m.held_on,
                &title,
                m.chair_id,
                m.status == "completed",
            );
        }

        // ---- training ----
        let assignments = training_assignment::Entity::find()
            .filter(training_assignment::Column::TenantId.eq(t))
            .all(&self.tx)
            .await?;
        if !assignments.is_empty() {
            let courses: HashMap<Uuid, String> = training_course::Entity::find()
                .filter(training_course::Column::TenantId.eq(t))
                .all(&self.tx)
                .await?
                .into_iter()
                .map(|c| (c.id, c.title))
                .collect();
            for a in &assignments {
                let title = courses.get(&a.course_id).map_or("Training", String::as_str);
                push(
                    "TrainingAssignment",
                    a.id,
                    DueKind::TrainingDue,
                    a.due_date,
                    title,
                    Some(a.user_id),
                    a.completed_on.is_some(),
                );
            }
        }

        // ---- share grants this tenant made ----
        for g in share_grant::Entity::find()
            .filter(share_grant::Column::TenantId.eq(t))
            .filter(share_grant::Column::ExpiresAt.is_not_null())
            .all(&self.tx)
            .await?
        {
            if let Some(at) = g.expires_at {
                let title = format!("Share of {}", g.artifact_kind);
                push(
                    "ShareGrant",
                    g.id,
                    DueKind::ShareGrantExpiry,
                    at.date_naive(),
                    &title,
                    None,
                    g.revoked_at.is_some(),
                );
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
