//! ISMS GraphQL: internal audit programmes and audits (ISO/IEC 27001:2022 9.2) with their
//! findings, nonconformities and corrective actions (10.2), management reviews and the actions
//! they decide (9.3).
//!
//! Roles: planning the audit programme and holding management reviews are compliance
//! judgements (`ConfigureIsms`); audits, findings, nonconformities and review actions are
//! records (`ManageIsms`: a contributor leads its own audits and edits the nonconformities and
//! actions it owns); verifying and closing a corrective action and completing a review are
//! approvals (`ApproveIsms`), and the owner of a corrective action may not verify it.
//!
//! Lists load their children for the whole page in one query (an audit page's findings, a
//! review page's actions), never one query per parent.

use super::common::{
    actor_user, checked_date, checked_text, conflict, free_text, invalid, member_owner, new_owner,
    not_found, optional_text, record, require_edit, settle, stored_enum, today, user_id,
};
use super::connection::{ConnectionFields, PageArgs, build, wants_total};
use super::ids::{Kind, decode_kind, encode};
use super::query::page_cost;
use super::{authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_domain::isms as dom;
use grc_store::entity::audits::{
    audit_finding, audit_programme, internal_audit, management_review, nonconformity, review_action,
};
use grc_store::{AuditFilter, NonconformityFilter, ReviewFilter, TenantTx};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

const TEXT: usize = 20_000;
const MAX_AUDITORS: usize = 20;
const MAX_ATTENDEES: usize = 50;

stored_enum!(
    /// An internal audit's state.
    InternalAuditStatus {
        Planned = "planned",
        /// Under way: the actual start date is recorded.
        InProgress = "in-progress",
        /// Done: actual dates and the conclusion are recorded; the audit no longer changes.
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

stored_enum!(
    /// What an audit found (9.2, 10.2). Nonconformities raise a nonconformity record.
    AuditFindingKind {
        MajorNonconformity = "major-nonconformity",
        MinorNonconformity = "minor-nonconformity",
        Observation = "observation",
        OpportunityForImprovement = "opportunity-for-improvement",
    }
);

stored_enum!(
    /// A nonconformity's life cycle (10.2).
    NonconformityStatus {
        /// Recorded; no corrective action yet.
        Open = "open",
        /// A corrective action is recorded.
        ActionPlanned = "action-planned",
        /// The corrective action was verified effective; ready to close.
        Verifying = "verifying",
        Closed = "closed",
    }
);

stored_enum!(
    /// Where a nonconformity was found.
    NonconformitySource {
        InternalAudit = "internal-audit",
        ExternalAudit = "external-audit",
        Incident = "incident",
        Complaint = "complaint",
        Other = "other",
    }
);

stored_enum!(
    /// A management review's state.
    ManagementReviewStatus {
        Draft = "draft",
        /// Every 9.3.2 input and the decisions are recorded; the review no longer changes.
        Completed = "completed",
    }
);

// ---------------------------------------------------------------------------------------------
// Object types

/// An internal audit programme (9.2.2): the audits planned over a period.
#[derive(Debug, Clone)]
pub struct AuditProgramme(pub audit_programme::Model);

#[Object]
impl AuditProgramme {
    pub async fn id(&self) -> ID {
        encode(Kind::AuditProgramme, self.0.id)
    }
    async fn isms_id(&self) -> ID {
        encode(Kind::Isms, self.0.isms_id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn objectives(&self) -> &str {
        &self.0.objectives
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// An internal audit (9.2) with its findings.
#[derive(Debug, Clone)]
pub struct InternalAudit {
    pub(crate) row: internal_audit::Model,
    /// The findings, loaded with the page (or the node) this audit came in.
    pub(crate) findings: Arc<Vec<AuditFinding>>,
}

fn auditors_of(text: &str) -> Vec<Uuid> {
    serde_json::from_str(text).unwrap_or_default()
}

#[Object]
impl InternalAudit {
    pub async fn id(&self) -> ID {
        encode(Kind::InternalAudit, self.row.id)
    }
    async fn programme_id(&self) -> ID {
        encode(Kind::AuditProgramme, self.row.programme_id)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn scope(&self) -> &str {
        &self.row.scope
    }
    /// The audit criteria (e.g. the clauses, controls and policies audited against).
    async fn criteria(&self) -> &str {
        &self.row.criteria
    }
    async fn planned_start(&self) -> NaiveDate {
        self.row.planned_start
    }
    async fn planned_end(&self) -> NaiveDate {
        self.row.planned_end
    }
    async fn actual_start(&self) -> Option<NaiveDate> {
        self.row.actual_start
    }
    async fn actual_end(&self) -> Option<NaiveDate> {
        self.row.actual_end
    }
    /// The lead auditor (a member; `User` id).
    async fn lead_auditor_id(&self) -> Option<ID> {
        user_id(self.row.lead_auditor_id)
    }
    /// The audit team (members; `User` ids).
    async fn auditor_ids(&self) -> Vec<ID> {
        auditors_of(&self.row.auditors)
            .into_iter()
            .map(|u| encode(Kind::User, u))
            .collect()
    }
    /// How the auditors' objectivity and impartiality is assured (9.2.2 c): recorded, not
    /// enforced.
    async fn independence_note(&self) -> Option<&str> {
        self.row.independence_note.as_deref()
    }
    async fn status(&self) -> Result<InternalAuditStatus> {
        InternalAuditStatus::of(&self.row.status)
    }
    async fn conclusion(&self) -> &str {
        &self.row.conclusion
    }
    /// The findings, oldest first.
    async fn findings(&self) -> Vec<AuditFinding> {
        self.findings.as_ref().clone()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// A finding of an internal audit, against a clause or control of the catalog.
#[derive(Debug, Clone)]
pub struct AuditFinding {
    pub(crate) row: audit_finding::Model,
    pub(crate) nonconformity: Option<Uuid>,
}

#[Object]
impl AuditFinding {
    pub async fn id(&self) -> ID {
        encode(Kind::AuditFinding, self.row.id)
    }
    async fn audit_id(&self) -> ID {
        encode(Kind::InternalAudit, self.row.audit_id)
    }
    async fn kind(&self) -> Result<AuditFindingKind> {
        AuditFindingKind::of(&self.row.kind)
    }
    /// The clause or control found against (a catalog `Control` id).
    async fn control_id(&self) -> ID {
        encode(Kind::Control, self.row.control_id)
    }
    /// Its reference, e.g. "9.2.2" or "A.5.15".
    async fn control_ref(&self) -> &str {
        &self.row.control_ref
    }
    async fn statement(&self) -> &str {
        &self.row.statement
    }
    async fn evidence_note(&self) -> &str {
        &self.row.evidence_note
    }
    /// The nonconformity this finding raised, if any.
    async fn nonconformity_id(&self) -> Option<ID> {
        self.nonconformity.map(|n| encode(Kind::Nonconformity, n))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

/// A nonconformity and its corrective action (10.2).
#[derive(Debug, Clone)]
pub struct Nonconformity {
    pub(crate) row: nonconformity::Model,
    pub(crate) today: NaiveDate,
}

fn is_overdue(status: &str, due: Option<NaiveDate>, today: NaiveDate) -> bool {
    status != NonconformityStatus::Closed.as_str() && due.is_some_and(|d| d < today)
}

#[Object]
impl Nonconformity {
    pub async fn id(&self) -> ID {
        encode(Kind::Nonconformity, self.row.id)
    }
    async fn isms_id(&self) -> ID {
        encode(Kind::Isms, self.row.isms_id)
    }
    /// The audit finding that raised it, if any.
    async fn finding_id(&self) -> Option<ID> {
        self.row.finding_id.map(|f| encode(Kind::AuditFinding, f))
    }
    async fn source(&self) -> Result<NonconformitySource> {
        NonconformitySource::of(&self.row.source)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn description(&self) -> &str {
        &self.row.description
    }
    async fn root_cause(&self) -> &str {
        &self.row.root_cause
    }
    /// The immediate correction (10.2 a).
    async fn correction(&self) -> &str {
        &self.row.correction
    }
    /// The action against the cause (10.2 c).
    async fn corrective_action(&self) -> &str {
        &self.row.corrective_action
    }
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.row.owner_id)
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.row.due_date
    }
    async fn status(&self) -> Result<NonconformityStatus> {
        NonconformityStatus::of(&self.row.status)
    }
    /// Not closed and due before today (a due date of today is not overdue).
    async fn overdue(&self) -> bool {
        is_overdue(&self.row.status, self.row.due_date, self.today)
    }
    /// Who verified the corrective action's effectiveness (`User` id).
    async fn verifier_id(&self) -> Option<ID> {
        user_id(self.row.verifier_id)
    }
    async fn verified_on(&self) -> Option<NaiveDate> {
        self.row.verified_on
    }
    async fn verification_note(&self) -> Option<&str> {
        self.row.verification_note.as_deref()
    }
    /// Whether the verified action was effective (null until verified).
    async fn effective(&self) -> Option<bool> {
        self.row.effective
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.row.closed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// One of the inputs a management review considers (9.3.2).
#[derive(Debug, Clone, SimpleObject)]
pub struct ManagementReviewInputInfo {
    /// Stable key, e.g. "audit-results".
    pub key: String,
    /// The clause reference, e.g. "9.3.2 d 3".
    pub clause: String,
    pub title: String,
}

impl From<&dom::ReviewInput> for ManagementReviewInputInfo {
    fn from(i: &dom::ReviewInput) -> Self {
        Self {
            key: i.key.into(),
            clause: i.clause.into(),
            title: i.title.into(),
        }
    }
}

/// What a review recorded for one 9.3.2 input.
#[derive(Debug, Clone, SimpleObject)]
pub struct ManagementReviewInputEntry {
    pub input: ManagementReviewInputInfo,
    /// What was considered; null when not recorded yet.
    pub notes: Option<String>,
}

/// A management review (9.3) and the actions it decided.
#[derive(Debug, Clone)]
pub struct ManagementReview {
    pub(crate) row: management_review::Model,
    pub(crate) actions: Arc<Vec<review_action::Model>>,
    pub(crate) today: NaiveDate,
}

fn inputs_of(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn attendees_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[Object]
impl ManagementReview {
    pub async fn id(&self) -> ID {
        encode(Kind::ManagementReview, self.row.id)
    }
    async fn isms_id(&self) -> ID {
        encode(Kind::Isms, self.row.isms_id)
    }
    async fn held_on(&self) -> NaiveDate {
        self.row.held_on
    }
    async fn chair_id(&self) -> Option<ID> {
        user_id(self.row.chair_id)
    }
    async fn attendees(&self) -> Vec<String> {
        attendees_of(&self.row.attendees)
    }
    /// One entry per 9.3.2 input, in clause order.
    async fn inputs(&self) -> Vec<ManagementReviewInputEntry> {
        let recorded = inputs_of(&self.row.inputs);
        dom::REVIEW_INPUTS
            .iter()
            .map(|i| ManagementReviewInputEntry {
                input: i.into(),
                notes: recorded.get(i.key).cloned(),
            })
            .collect()
    }
    /// The keys of the 9.3.2 inputs not recorded yet (completion needs none missing).
    async fn missing_inputs(&self) -> Vec<String> {
        let recorded = inputs_of(&self.row.inputs);
        dom::missing_review_inputs(|k| recorded.get(k).is_some_and(|v| !v.trim().is_empty()))
            .into_iter()
            .map(String::from)
            .collect()
    }
    /// Decisions on improvement and changes to the ISMS (9.3.3).
    async fn decisions(&self) -> &str {
        &self.row.decisions
    }
    async fn status(&self) -> Result<ManagementReviewStatus> {
        ManagementReviewStatus::of(&self.row.status)
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.row.completed_at
    }
    /// The actions decided, oldest first.
    async fn actions(&self) -> Vec<ManagementReviewAction> {
        self.actions
            .iter()
            .map(|a| ManagementReviewAction {
                row: a.clone(),
                today: self.today,
            })
            .collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// An action a management review decided.
#[derive(Debug, Clone)]
pub struct ManagementReviewAction {
    pub(crate) row: review_action::Model,
    pub(crate) today: NaiveDate,
}

#[Object]
impl ManagementReviewAction {
    /// The action's id (pass it to `updateManagementReviewAction`).
    pub async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    async fn review_id(&self) -> ID {
        encode(Kind::ManagementReview, self.row.review_id)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.row.owner_id)
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.row.due_date
    }
    async fn done_on(&self) -> Option<NaiveDate> {
        self.row.done_on
    }
    /// Not done and due before today.
    async fn overdue(&self) -> bool {
        self.row.done_on.is_none() && self.row.due_date.is_some_and(|d| d < self.today)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Audits with their findings: one query for all the audits' findings.
async fn with_findings(
    tx: &TenantTx,
    audits: Vec<internal_audit::Model>,
) -> Result<Vec<InternalAudit>, grc_store::StoreError> {
    let ids: Vec<Uuid> = audits.iter().map(|a| a.id).collect();
    let mut by_audit: HashMap<Uuid, Vec<AuditFinding>> = HashMap::new();
    for (row, nonconformity) in tx.findings_of_audits(&ids).await? {
        by_audit
            .entry(row.audit_id)
            .or_default()
            .push(AuditFinding { row, nonconformity });
    }
    Ok(audits
        .into_iter()
        .map(|row| {
            let findings = Arc::new(by_audit.remove(&row.id).unwrap_or_default());
            InternalAudit { row, findings }
        })
        .collect())
}

/// Reviews with their actions: one query for all the reviews' actions.
async fn with_actions(
    tx: &TenantTx,
    reviews: Vec<management_review::Model>,
) -> Result<Vec<ManagementReview>, grc_store::StoreError> {
    let ids: Vec<Uuid> = reviews.iter().map(|r| r.id).collect();
    let mut by_review: HashMap<Uuid, Vec<review_action::Model>> = HashMap::new();
    for a in tx.actions_of_reviews(&ids).await? {
        by_review.entry(a.review_id).or_default().push(a);
    }
    let today = today();
    Ok(reviews
        .into_iter()
        .map(|row| {
            let actions = Arc::new(by_review.remove(&row.id).unwrap_or_default());
            ManagementReview {
                row,
                actions,
                today,
            }
        })
        .collect())
}

async fn audit_object(
    tx: &TenantTx,
    row: internal_audit::Model,
) -> Result<InternalAudit, grc_store::StoreError> {
    Ok(with_findings(tx, vec![row]).await?.remove(0))
}

async fn review_object(
    tx: &TenantTx,
    row: management_review::Model,
) -> Result<ManagementReview, grc_store::StoreError> {
    Ok(with_actions(tx, vec![row]).await?.remove(0))
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
        Ok::<_, grc_store::StoreError>(match kind {
            Kind::AuditProgramme => tx
                .audit_programme(id)
                .await?
                .map(|m| Node::AuditProgramme(AuditProgramme(m))),
            Kind::InternalAudit => match tx.internal_audit(id).await? {
                Some(m) => Some(Node::InternalAudit(audit_object(tx, m).await?)),
                None => None,
            },
            Kind::AuditFinding => match tx.audit_finding(id).await? {
                Some(row) => {
                    let nonconformity = tx
                        .nonconformities_of_findings(&[id])
                        .await?
                        .first()
                        .map(|(_, n)| *n);
                    Some(Node::AuditFinding(AuditFinding { row, nonconformity }))
                }
                None => None,
            },
            Kind::Nonconformity => tx.nonconformity(id).await?.map(|row| {
                Node::Nonconformity(Nonconformity {
                    row,
                    today: today(),
                })
            }),
            Kind::ManagementReview => match tx.management_review(id).await? {
                Some(m) => Some(Node::ManagementReview(review_object(tx, m).await?)),
                None => None,
            },
            _ => None,
        })
    }
    .await
    .map_err(StoreErrorExt)?;
    Ok(node)
}

/// A filter argument naming an object of `kind`: malformed ids are refused.
fn filter_id(id: Option<&ID>, kind: Kind, arg: &str) -> Result<Option<Uuid>> {
    id.map(|i| {
        decode_kind(i, kind).ok_or_else(|| {
            gql_error(
                ErrorCode::BadUserInput,
                format!("{arg} is not an id of the expected kind"),
            )
        })
    })
    .transpose()
}

fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<grc_store::PageRequest<Uuid>> {
    PageArgs {
        first,
        after,
        last,
        before,
    }
    .into_request(|k| Uuid::try_parse(k).ok())
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct AuditsQuery;

#[Object]
impl AuditsQuery {
    /// The internal audit programmes, oldest first.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_programmes(
        &self,
        ctx: &Context<'_>,
        isms_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AuditProgramme, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let isms = filter_id(isms_id.as_ref(), Kind::Isms, "ismsId")?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let (page, total) = tx
            .audit_programmes(isms, &req, wants_total(ctx))
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(build(page.map(AuditProgramme), total, |p| {
            p.0.id.to_string()
        }))
    }

    /// Internal audits, oldest first, with their findings (loaded for the whole page at once).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn internal_audits(
        &self,
        ctx: &Context<'_>,
        programme_id: Option<ID>,
        isms_id: Option<ID>,
        status: Option<InternalAuditStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, InternalAudit, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let filter = AuditFilter {
            programme_id: filter_id(programme_id.as_ref(), Kind::AuditProgramme, "programmeId")?,
            isms_id: filter_id(isms_id.as_ref(), Kind::Isms, "ismsId")?,
            status: status.map(|s| s.as_str().to_owned()),
        };
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let (page, total) = tx
            .internal_audits(&filter, &req, wants_total(ctx))
            .await
            .map_err(StoreErrorExt)?;
        let grc_store::Page {
            items,
            has_next_page,
            has_previous_page,
        } = page;
        let items = with_findings(&tx, items).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items,
            has_next_page,
            has_previous_page,
        };
        Ok(build(page, total, |a| a.row.id.to_string()))
    }

    /// The nonconformity register, oldest first. `overdue` compares due dates with today: a
    /// nonconformity due today is not overdue; closed ones never are.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn nonconformities(
        &self,
        ctx: &Context<'_>,
        isms_id: Option<ID>,
        status: Option<NonconformityStatus>,
        overdue: Option<bool>,
        owner_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Nonconformity, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let today = today();
        let filter = NonconformityFilter {
            isms_id: filter_id(isms_id.as_ref(), Kind::Isms, "ismsId")?,
            status: status.map(|s| s.as_str().to_owned()),
            owner_id: filter_id(owner_id.as_ref(), Kind::User, "ownerId")?,
            overdue: overdue.map(|o| (o, today)),
        };
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let (page, total) = tx
            .nonconformities(&filter, &req, wants_total(ctx))
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(build(
            page.map(|row| Nonconformity { row, today }),
            total,
            |n| n.row.id.to_string(),
        ))
    }

    /// Management reviews, oldest first, with their actions (loaded for the whole page).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn management_reviews(
        &self,
        ctx: &Context<'_>,
        isms_id: Option<ID>,
        status: Option<ManagementReviewStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ManagementReview, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let filter = ReviewFilter {
            isms_id: filter_id(isms_id.as_ref(), Kind::Isms, "ismsId")?,
            status: status.map(|s| s.as_str().to_owned()),
        };
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let (page, total) = tx
            .management_reviews(&filter, &req, wants_total(ctx))
            .await
            .map_err(StoreErrorExt)?;
        let grc_store::Page {
            items,
            has_next_page,
            has_previous_page,
        } = page;
        let items = with_actions(&tx, items).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items,
            has_next_page,
            has_previous_page,
        };
        Ok(build(page, total, |r| r.row.id.to_string()))
    }

    /// The inputs every management review considers (9.3.2), in clause order.
    async fn management_review_inputs(&self) -> Vec<ManagementReviewInputInfo> {
        dom::REVIEW_INPUTS.iter().map(Into::into).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations: inputs and payloads

#[derive(Debug, InputObject)]
pub struct CreateAuditProgrammeInput {
    pub isms_id: ID,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub objectives: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct UpdateAuditProgrammeInput {
    pub id: ID,
    pub title: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub objectives: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct AuditProgrammePayload {
    pub audit_programme: Option<AuditProgramme>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateInternalAuditInput {
    pub programme_id: ID,
    pub title: String,
    pub scope: Option<String>,
    pub criteria: Option<String>,
    pub planned_start: NaiveDate,
    pub planned_end: NaiveDate,
    /// A member; a contributor leads its own audits (the default for one).
    pub lead_auditor_id: Option<ID>,
    #[graphql(default)]
    pub auditor_ids: Vec<ID>,
    pub independence_note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct UpdateInternalAuditInput {
    pub id: ID,
    pub title: Option<String>,
    pub scope: Option<String>,
    pub criteria: Option<String>,
    pub planned_start: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    /// Not in the future.
    pub actual_start: Option<NaiveDate>,
    /// Not in the future, not before the actual start.
    pub actual_end: Option<NaiveDate>,
    pub lead_auditor_id: Option<ID>,
    pub auditor_ids: Option<Vec<ID>>,
    pub independence_note: Option<String>,
    pub conclusion: Option<String>,
    /// planned → in progress (needs the actual start) → completed (needs the actual dates and
    /// the conclusion); planned or in progress → cancelled.
    pub status: Option<InternalAuditStatus>,
}

#[derive(Debug, SimpleObject)]
pub struct InternalAuditPayload {
    pub internal_audit: Option<InternalAudit>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddAuditFindingInput {
    /// An audit in progress.
    pub audit_id: ID,
    pub kind: AuditFindingKind,
    /// A catalog `Control` id: an ISO/IEC 27001 clause (4–10) or Annex A control, or any
    /// control of a framework the tenant sees.
    pub control_id: ID,
    pub statement: String,
    pub evidence_note: Option<String>,
    /// For a nonconformity: the owner of the nonconformity it raises (a contributor: itself).
    pub nonconformity_owner_id: Option<ID>,
    /// For a nonconformity: when its corrective action is due.
    pub nonconformity_due_date: Option<NaiveDate>,
}

#[derive(Debug, SimpleObject)]
pub struct AuditFindingPayload {
    pub finding: Option<AuditFinding>,
    /// The nonconformity raised by a major or minor nonconformity finding.
    pub nonconformity: Option<Nonconformity>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateNonconformityInput {
    pub isms_id: ID,
    pub source: NonconformitySource,
    pub title: String,
    pub description: Option<String>,
    pub root_cause: Option<String>,
    pub correction: Option<String>,
    pub corrective_action: Option<String>,
    /// A member; a contributor owns what it creates (the default for one).
    pub owner_id: Option<ID>,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct UpdateNonconformityInput {
    pub id: ID,
    pub title: Option<String>,
    pub description: Option<String>,
    pub root_cause: Option<String>,
    pub correction: Option<String>,
    /// Changing the corrective action clears an earlier verification.
    pub corrective_action: Option<String>,
    pub owner_id: Option<ID>,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct VerifyNonconformityInput {
    pub id: ID,
    /// Not in the future.
    pub verified_on: NaiveDate,
    pub effective: bool,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct CloseNonconformityInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct NonconformityPayload {
    pub nonconformity: Option<Nonconformity>,
    pub user_errors: Vec<UserError>,
}

/// What a review recorded for one 9.3.2 input.
#[derive(Debug, InputObject)]
pub struct ReviewInputNotes {
    /// A key of `managementReviewInputs`.
    pub key: String,
    /// What was considered; empty removes the entry.
    pub notes: String,
}

#[derive(Debug, InputObject)]
pub struct CreateManagementReviewInput {
    pub isms_id: ID,
    pub held_on: NaiveDate,
    pub chair_id: Option<ID>,
    #[graphql(default)]
    pub attendees: Vec<String>,
    #[graphql(default)]
    pub inputs: Vec<ReviewInputNotes>,
    pub decisions: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct UpdateManagementReviewInput {
    pub id: ID,
    pub held_on: Option<NaiveDate>,
    pub chair_id: Option<ID>,
    pub attendees: Option<Vec<String>>,
    /// Entries set or (with empty notes) removed; other inputs keep what they had.
    #[graphql(default)]
    pub inputs: Vec<ReviewInputNotes>,
    pub decisions: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct CompleteManagementReviewInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct ManagementReviewPayload {
    pub management_review: Option<ManagementReview>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddManagementReviewActionInput {
    pub review_id: ID,
    pub title: String,
    pub owner_id: Option<ID>,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct UpdateManagementReviewActionInput {
    /// The action's id.
    pub id: ID,
    pub title: Option<String>,
    pub due_date: Option<NaiveDate>,
    /// When the action was done (not in the future).
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, SimpleObject)]
pub struct ManagementReviewActionPayload {
    pub action: Option<ManagementReviewAction>,
    pub user_errors: Vec<UserError>,
}

// ---------------------------------------------------------------------------------------------
// Mutations: rules

fn not_future(field: &str, d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, MutationError> {
    let d = checked_date(field, d)?;
    if d > today {
        return Err(invalid(field, format!("{d} is in the future")));
    }
    Ok(d)
}

fn check_period(
    start_field: &str,
    end_field: &str,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<(), MutationError> {
    checked_date(start_field, start)?;
    checked_date(end_field, end)?;
    if end < start {
        return Err(invalid(
            end_field,
            format!("the end ({end}) is before the start ({start})"),
        ));
    }
    Ok(())
}

/// The rules of an audit row as it would be written.
fn check_audit(a: &internal_audit::Model, today: NaiveDate) -> Result<(), MutationError> {
    check_period("plannedStart", "plannedEnd", a.planned_start, a.planned_end)?;
    if let Some(s) = a.actual_start {
        not_future("actualStart", s, today)?;
    }
    if let Some(e) = a.actual_end {
        not_future("actualEnd", e, today)?;
        let Some(s) = a.actual_start else {
            return Err(invalid(
                "actualStart",
                "record the actual start with the actual end",
            ));
        };
        if e < s {
            return Err(invalid(
                "actualEnd",
                format!("the actual end ({e}) is before the actual start ({s})"),
            ));
        }
    }
    let status = InternalAuditStatus::parse(&a.status);
    if matches!(
        status,
        Some(InternalAuditStatus::InProgress | InternalAuditStatus::Completed)
    ) && a.actual_start.is_none()
    {
        return Err(invalid(
            "actualStart",
            "an audit under way or completed needs its actual start date",
        ));
    }
    if status == Some(InternalAuditStatus::Completed) {
        if a.actual_end.is_none() {
            return Err(invalid(
                "actualEnd",
                "completing an audit needs its actual end date",
            ));
        }
        if a.conclusion.trim().is_empty() {
            return Err(invalid(
                "conclusion",
                "completing an audit needs its conclusion (the audit results, 9.2.2)",
            ));
        }
    }
    Ok(())
}

fn check_transition(
    from: InternalAuditStatus,
    to: InternalAuditStatus,
) -> Result<(), MutationError> {
    use InternalAuditStatus::*;
    let ok = from == to
        || matches!(
            (from, to),
            (Planned, InProgress | Completed | Cancelled) | (InProgress, Completed | Cancelled)
        );
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "status",
            format!("an audit {} cannot become {}", from.as_str(), to.as_str()),
        ))
    }
}

async fn audit_team(tx: &TenantTx, ids: &[ID]) -> Result<String, MutationError> {
    if ids.len() > MAX_AUDITORS {
        return Err(invalid(
            "auditorIds",
            format!("at most {MAX_AUDITORS} auditors"),
        ));
    }
    let mut team: Vec<Uuid> = Vec::new();
    for id in ids {
        if let Some(u) = member_owner(tx, "auditorIds", Some(id)).await?
            && !team.contains(&u)
        {
            team.push(u);
        }
    }
    Ok(serde_json::to_string(&team).unwrap_or_else(|_| "[]".into()))
}

fn attendee_list(attendees: &[String]) -> Result<String, MutationError> {
    if attendees.len() > MAX_ATTENDEES {
        return Err(invalid(
            "attendees",
            format!("at most {MAX_ATTENDEES} attendees"),
        ));
    }
    let list = attendees
        .iter()
        .map(|a| checked_text("attendees", a, 200))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

/// Applies input notes to a review's recorded inputs: unknown keys refused, empty notes remove.
fn apply_inputs(
    recorded: &mut BTreeMap<String, String>,
    entries: &[ReviewInputNotes],
) -> Result<(), MutationError> {
    for e in entries {
        let Some(input) = dom::review_input(&e.key) else {
            return Err(invalid(
                "inputs",
                format!(
                    "{:?} is not a management review input (9.3.2); see managementReviewInputs",
                    e.key
                ),
            ));
        };
        let notes = free_text("inputs", Some(&e.notes), TEXT)?;
        if notes.is_empty() {
            recorded.remove(input.key);
        } else {
            recorded.insert(input.key.to_owned(), notes);
        }
    }
    Ok(())
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

async fn isms_of(tx: &TenantTx, id: &ID) -> Result<Uuid, MutationError> {
    let id = decode_kind(id, Kind::Isms).ok_or_else(|| not_found("ISMS", "ismsId"))?;
    if !tx.isms_exists(id).await? {
        return Err(not_found("ISMS", "ismsId"));
    }
    Ok(id)
}

async fn programme_of(
    tx: &TenantTx,
    id: &ID,
    field: &str,
) -> Result<audit_programme::Model, MutationError> {
    let id =
        decode_kind(id, Kind::AuditProgramme).ok_or_else(|| not_found("audit programme", field))?;
    tx.audit_programme(id)
        .await?
        .ok_or_else(|| not_found("audit programme", field))
}

async fn audit_of(
    tx: &TenantTx,
    id: &ID,
    field: &str,
) -> Result<internal_audit::Model, MutationError> {
    let id =
        decode_kind(id, Kind::InternalAudit).ok_or_else(|| not_found("internal audit", field))?;
    tx.internal_audit(id)
        .await?
        .ok_or_else(|| not_found("internal audit", field))
}

async fn nonconformity_of(tx: &TenantTx, id: &ID) -> Result<nonconformity::Model, MutationError> {
    let id =
        decode_kind(id, Kind::Nonconformity).ok_or_else(|| not_found("nonconformity", "id"))?;
    tx.nonconformity(id)
        .await?
        .ok_or_else(|| not_found("nonconformity", "id"))
}

async fn review_of(
    tx: &TenantTx,
    id: &ID,
    field: &str,
) -> Result<management_review::Model, MutationError> {
    let id = decode_kind(id, Kind::ManagementReview)
        .ok_or_else(|| not_found("management review", field))?;
    tx.management_review(id)
        .await?
        .ok_or_else(|| not_found("management review", field))
}

fn open_closed(n: &nonconformity::Model) -> Result<(), MutationError> {
    if n.status == NonconformityStatus::Closed.as_str() {
        return Err(conflict(
            "id",
            "the nonconformity is closed: it is a record and no longer changes",
        ));
    }
    Ok(())
}

fn draft_only(r: &management_review::Model) -> Result<(), MutationError> {
    if r.status != ManagementReviewStatus::Draft.as_str() {
        return Err(conflict(
            "id",
            "the management review is completed: it is a record and no longer changes",
        ));
    }
    Ok(())
}

/// The status a nonconformity has after its corrective action text changed.
fn status_for_action(current: &str, action: &str) -> &'static str {
    if action.trim().is_empty() {
        NonconformityStatus::Open.as_str()
    } else if current == NonconformityStatus::Verifying.as_str() {
        NonconformityStatus::Verifying.as_str()
    } else {
        NonconformityStatus::ActionPlanned.as_str()
    }
}

fn nc_change(n: &nonconformity::Model) -> serde_json::Value {
    json!({
        "title": n.title,
        "status": n.status,
        "source": n.source,
        "ownerId": n.owner_id,
        "dueDate": n.due_date,
        "correctiveAction": n.corrective_action,
        "findingId": n.finding_id,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct AuditsMutation;

#[Object]
impl AuditsMutation {
    /// Plans an internal audit programme (9.2.2) for an ISMS over a period.
    async fn create_audit_programme(
        &self,
        ctx: &Context<'_>,
        input: CreateAuditProgrammeInput,
    ) -> Result<AuditProgrammePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (audit_programme, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                check_period(
                    "periodStart",
                    "periodEnd",
                    input.period_start,
                    input.period_end,
                )?;
                let objectives = free_text("objectives", input.objectives.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms_id = isms_of(&tx, &input.isms_id).await?;
                let now = Utc::now();
                let row = tx
                    .insert_audit_programme(audit_programme::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        isms_id,
                        title,
                        period_start: input.period_start,
                        period_end: input.period_end,
                        objectives,
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "audit_programme.create",
                    "audit_programme",
                    row.id,
                    json!({ "isms": isms_id, "title": row.title,
                            "periodStart": row.period_start, "periodEnd": row.period_end }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(AuditProgramme(row))
            }
            .await,
        )?;
        Ok(AuditProgrammePayload {
            audit_programme,
            user_errors,
        })
    }

    /// Changes an audit programme's title, period or objectives.
    async fn update_audit_programme(
        &self,
        ctx: &Context<'_>,
        input: UpdateAuditProgrammeInput,
    ) -> Result<AuditProgrammePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (audit_programme, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = programme_of(&tx, &input.id, "id").await?;
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 300)?;
                }
                row.period_start = input.period_start.unwrap_or(row.period_start);
                row.period_end = input.period_end.unwrap_or(row.period_end);
                check_period("periodStart", "periodEnd", row.period_start, row.period_end)?;
                if input.objectives.is_some() {
                    row.objectives = free_text("objectives", input.objectives.as_deref(), TEXT)?;
                }
                row.updated_at = Utc::now();
                let row = tx.update_audit_programme(row).await?;
                record(
                    &mut tx,
                    &az,
                    "audit_programme.update",
                    "audit_programme",
                    row.id,
                    json!({ "title": row.title, "periodStart": row.period_start,
                            "periodEnd": row.period_end }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(AuditProgramme(row))
            }
            .await,
        )?;
        Ok(AuditProgrammePayload {
            audit_programme,
            user_errors,
        })
    }

    /// Plans an internal audit in a programme.
    async fn create_internal_audit(
        &self,
        ctx: &Context<'_>,
        input: CreateInternalAuditInput,
    ) -> Result<InternalAuditPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (internal_audit, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let scope = free_text("scope", input.scope.as_deref(), TEXT)?;
                let criteria = free_text("criteria", input.criteria.as_deref(), TEXT)?;
                let independence_note =
                    optional_text("independenceNote", input.independence_note.as_deref(), 5000)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let programme = programme_of(&tx, &input.programme_id, "programmeId").await?;
                let lead =
                    new_owner(&tx, &az, "leadAuditorId", input.lead_auditor_id.as_ref()).await?;
                let auditors = audit_team(&tx, &input.auditor_ids).await?;
                let now = Utc::now();
                let row = internal_audit::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    programme_id: programme.id,
                    title,
                    scope,
                    criteria,
                    planned_start: input.planned_start,
                    planned_end: input.planned_end,
                    actual_start: None,
                    actual_end: None,
                    lead_auditor_id: lead,
                    auditors,
                    independence_note,
                    status: InternalAuditStatus::Planned.as_str().into(),
                    conclusion: String::new(),
                    created_at: now,
                    updated_at: now,
                };
                check_audit(&row, today())?;
                let row = tx.insert_internal_audit(row).await?;
                record(
                    &mut tx,
                    &az,
                    "internal_audit.create",
                    "internal_audit",
                    row.id,
                    json!({ "programme": row.programme_id, "title": row.title,
                            "plannedStart": row.planned_start, "plannedEnd": row.planned_end,
                            "leadAuditor": row.lead_auditor_id,
                            "auditors": auditors_of(&row.auditors) }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(InternalAudit {
                    row,
                    findings: Arc::default(),
                })
            }
            .await,
        )?;
        Ok(InternalAuditPayload {
            internal_audit,
            user_errors,
        })
    }

    /// Changes an audit: its plan, team, actual dates, conclusion and status. Completed and
    /// cancelled audits no longer change.
    async fn update_internal_audit(
        &self,
        ctx: &Context<'_>,
        input: UpdateInternalAuditInput,
    ) -> Result<InternalAuditPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (internal_audit, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = audit_of(&tx, &input.id, "id").await?;
                require_edit(&az, row.lead_auditor_id)?;
                let from = InternalAuditStatus::of(&row.status)?;
                if matches!(
                    from,
                    InternalAuditStatus::Completed | InternalAuditStatus::Cancelled
                ) {
                    return Err(conflict(
                        "id",
                        format!("the audit is {}: it no longer changes", from.as_str()),
                    ));
                }
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 300)?;
                }
                if input.scope.is_some() {
                    row.scope = free_text("scope", input.scope.as_deref(), TEXT)?;
                }
                if input.criteria.is_some() {
                    row.criteria = free_text("criteria", input.criteria.as_deref(), TEXT)?;
                }
                if input.conclusion.is_some() {
                    row.conclusion = free_text("conclusion", input.conclusion.as_deref(), TEXT)?;
                }
                if input.independence_note.is_some() {
                    row.independence_note = optional_text(
                        "independenceNote",
                        input.independence_note.as_deref(),
                        5000,
                    )?;
                }
                row.planned_start = input.planned_start.unwrap_or(row.planned_start);
                row.planned_end = input.planned_end.unwrap_or(row.planned_end);
                row.actual_start = input.actual_start.or(row.actual_start);
                row.actual_end = input.actual_end.or(row.actual_end);
                if let Some(to) = input.status {
                    check_transition(from, to)?;
                    row.status = to.as_str().into();
                }
                if input.lead_auditor_id.is_some() {
                    row.lead_auditor_id =
                        new_owner(&tx, &az, "leadAuditorId", input.lead_auditor_id.as_ref())
                            .await?;
                }
                if let Some(ids) = &input.auditor_ids {
                    row.auditors = audit_team(&tx, ids).await?;
                }
                check_audit(&row, today())?;
                row.updated_at = Utc::now();
                let row = tx.update_internal_audit(row).await?;
                record(
                    &mut tx,
                    &az,
                    "internal_audit.update",
                    "internal_audit",
                    row.id,
                    json!({ "status": row.status, "actualStart": row.actual_start,
                            "actualEnd": row.actual_end, "leadAuditor": row.lead_auditor_id,
                            "auditors": auditors_of(&row.auditors) }),
                )
                .await?;
                let audit = audit_object(&tx, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(audit)
            }
            .await,
        )?;
        Ok(InternalAuditPayload {
            internal_audit,
            user_errors,
        })
    }

    /// Records a finding of an audit in progress. A major or minor nonconformity raises a
    /// nonconformity record (source: internal audit) in the same change.
    async fn add_audit_finding(
        &self,
        ctx: &Context<'_>,
        input: AddAuditFindingInput,
    ) -> Result<AuditFindingPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let r = settle(
            async {
                let statement = checked_text("statement", &input.statement, TEXT)?;
                let evidence_note =
                    free_text("evidenceNote", input.evidence_note.as_deref(), TEXT)?;
                if let Some(d) = input.nonconformity_due_date {
                    checked_date("nonconformityDueDate", d)?;
                }
                // The catalog view reads before the tenant transaction (one SQLite connection).
                let view = super::catalog::view(ctx, &az).await?;
                let (control_id, control_ref) = decode_kind(&input.control_id, Kind::Control)
                    .and_then(|id| view.control(id))
                    .map(|(_, c)| (c.id, c.reference.clone()))
                    .ok_or_else(|| not_found("clause or control", "controlId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let audit = audit_of(&tx, &input.audit_id, "auditId").await?;
                require_edit(&az, audit.lead_auditor_id)?;
                if audit.status != InternalAuditStatus::InProgress.as_str() {
                    return Err(conflict(
                        "auditId",
                        format!(
                            "findings are recorded while the audit is in progress; it is {}",
                            audit.status
                        ),
                    ));
                }
                let kind = dom::FindingKind::parse(input.kind.as_str())
                    .ok_or_else(|| invalid("kind", "unknown finding kind"))?;
                let owner = if kind.is_nonconformity() {
                    new_owner(
                        &tx,
                        &az,
                        "nonconformityOwnerId",
                        input.nonconformity_owner_id.as_ref(),
                    )
                    .await?
                } else {
                    None
                };
                let programme = tx
                    .audit_programme(audit.programme_id)
                    .await?
                    .ok_or_else(|| not_found("audit programme", "auditId"))?;
                let now = Utc::now();
                let finding = tx
                    .insert_audit_finding(audit_finding::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        audit_id: audit.id,
                        kind: kind.as_str().into(),
                        control_id,
                        control_ref,
                        statement,
                        evidence_note,
                        created_by: az.actor.to_stored(),
                        created_at: now,
                    })
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "audit_finding.create",
                    "audit_finding",
                    finding.id,
                    json!({ "audit": audit.id, "kind": finding.kind,
                            "control": finding.control_id, "ref": finding.control_ref }),
                )
                .await?;
                let mut raised = None;
                if kind.is_nonconformity() {
                    let title: String = format!(
                        "{} against {}: {}",
                        if kind == dom::FindingKind::MajorNonconformity {
                            "Major nonconformity"
                        } else {
                            "Minor nonconformity"
                        },
                        finding.control_ref,
                        finding.statement
                    )
                    .chars()
                    .take(300)
                    .collect();
                    let nc = tx
                        .insert_nonconformity(nonconformity::Model {
                            tenant_id: Uuid::nil(),
                            id: Uuid::now_v7(),
                            isms_id: programme.isms_id,
                            finding_id: Some(finding.id),
                            source: NonconformitySource::InternalAudit.as_str().into(),
                            title: title.trim().to_owned(),
                            description: finding.statement.clone(),
                            root_cause: String::new(),
                            correction: String::new(),
                            corrective_action: String::new(),
                            owner_id: owner,
                            due_date: input.nonconformity_due_date,
                            status: NonconformityStatus::Open.as_str().into(),
                            verified_by: None,
                            verifier_id: None,
                            verified_on: None,
                            verification_note: None,
                            effective: None,
                            closed_at: None,
                            created_at: now,
                            updated_at: now,
                        })
                        .await?;
                    record(
                        &mut tx,
                        &az,
                        "nonconformity.create",
                        "nonconformity",
                        nc.id,
                        nc_change(&nc),
                    )
                    .await?;
                    raised = Some(nc);
                }
                super::mutation::commit(ctx, tx).await?;
                let today = today();
                Ok((
                    AuditFinding {
                        row: finding,
                        nonconformity: raised.as_ref().map(|n| n.id),
                    },
                    raised.map(|row| Nonconformity { row, today }),
                ))
            }
            .await,
        )?;
        let (found, user_errors) = r;
        let (finding, nonconformity) = match found {
            Some((f, n)) => (Some(f), n),
            None => (None, None),
        };
        Ok(AuditFindingPayload {
            finding,
            nonconformity,
            user_errors,
        })
    }

    /// Records a nonconformity found elsewhere than in an internal audit (or by hand).
    async fn create_nonconformity(
        &self,
        ctx: &Context<'_>,
        input: CreateNonconformityInput,
    ) -> Result<NonconformityPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (nonconformity, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let description = free_text("description", input.description.as_deref(), TEXT)?;
                let root_cause = free_text("rootCause", input.root_cause.as_deref(), TEXT)?;
                let correction = free_text("correction", input.correction.as_deref(), TEXT)?;
                let corrective_action =
                    free_text("correctiveAction", input.corrective_action.as_deref(), TEXT)?;
                if let Some(d) = input.due_date {
                    checked_date("dueDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms_id = isms_of(&tx, &input.isms_id).await?;
                let owner = new_owner(&tx, &az, "ownerId", input.owner_id.as_ref()).await?;
                let now = Utc::now();
                let status = status_for_action("open", &corrective_action);
                let row = tx
                    .insert_nonconformity(nonconformity::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        isms_id,
                        finding_id: None,
                        source: input.source.as_str().into(),
                        title,
                        description,
                        root_cause,
                        correction,
                        corrective_action,
                        owner_id: owner,
                        due_date: input.due_date,
                        status: status.into(),
                        verified_by: None,
                        verifier_id: None,
                        verified_on: None,
                        verification_note: None,
                        effective: None,
                        closed_at: None,
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "nonconformity.create",
                    "nonconformity",
                    row.id,
                    nc_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Nonconformity {
                    row,
                    today: today(),
                })
            }
            .await,
        )?;
        Ok(NonconformityPayload {
            nonconformity,
            user_errors,
        })
    }

    /// Changes a nonconformity: its analysis (root cause), correction, corrective action,
    /// owner or due date. A contributor changes only the nonconformities it owns.
    async fn update_nonconformity(
        &self,
        ctx: &Context<'_>,
        input: UpdateNonconformityInput,
    ) -> Result<NonconformityPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (nonconformity, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = nonconformity_of(&tx, &input.id).await?;
                require_edit(&az, row.owner_id)?;
                open_closed(&row)?;
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 300)?;
                }
                if input.description.is_some() {
                    row.description = free_text("description", input.description.as_deref(), TEXT)?;
                }
                if input.root_cause.is_some() {
                    row.root_cause = free_text("rootCause", input.root_cause.as_deref(), TEXT)?;
                }
                if input.correction.is_some() {
                    row.correction = free_text("correction", input.correction.as_deref(), TEXT)?;
                }
                if let Some(d) = input.due_date {
                    row.due_date = Some(checked_date("dueDate", d)?);
                }
                if input.corrective_action.is_some() {
                    let action =
                        free_text("correctiveAction", input.corrective_action.as_deref(), TEXT)?;
                    if action != row.corrective_action {
                        // A verification was of the earlier action.
                        row.verified_by = None;
                        row.verifier_id = None;
                        row.verified_on = None;
                        row.verification_note = None;
                        row.effective = None;
                        row.status = status_for_action("open", &action).into();
                        row.corrective_action = action;
                    }
                }
                if input.owner_id.is_some() {
                    row.owner_id = new_owner(&tx, &az, "ownerId", input.owner_id.as_ref()).await?;
                }
                row.updated_at = Utc::now();
                let row = tx.update_nonconformity(row).await?;
                record(
                    &mut tx,
                    &az,
                    "nonconformity.update",
                    "nonconformity",
                    row.id,
                    nc_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Nonconformity {
                    row,
                    today: today(),
                })
            }
            .await,
        )?;
        Ok(NonconformityPayload {
            nonconformity,
            user_errors,
        })
    }

    /// Records the verification of a corrective action's effectiveness (10.2 d). Needs an
    /// approver (owner, compliance manager) who is not the nonconformity's owner.
    async fn verify_nonconformity(
        &self,
        ctx: &Context<'_>,
        input: VerifyNonconformityInput,
    ) -> Result<NonconformityPayload> {
        let az = authorize(ctx, Operation::ApproveIsms)?;
        let (nonconformity, user_errors) = settle(
            async {
                let today = today();
                let verified_on = not_future("verifiedOn", input.verified_on, today)?;
                let note = optional_text("note", input.note.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = nonconformity_of(&tx, &input.id).await?;
                open_closed(&row)?;
                dom::check_verifier(row.owner_id, actor_user(&az))?;
                if row.corrective_action.trim().is_empty() {
                    return Err(invalid(
                        "correctiveAction",
                        "record the corrective action before verifying it",
                    ));
                }
                row.verified_by = Some(az.actor.to_stored());
                row.verifier_id = actor_user(&az);
                row.verified_on = Some(verified_on);
                row.verification_note = note;
                row.effective = Some(input.effective);
                row.status = if input.effective {
                    NonconformityStatus::Verifying
                } else {
                    NonconformityStatus::ActionPlanned
                }
                .as_str()
                .into();
                row.updated_at = Utc::now();
                let row = tx.update_nonconformity(row).await?;
                record(
                    &mut tx,
                    &az,
                    "nonconformity.verify",
                    "nonconformity",
                    row.id,
                    json!({ "verifiedOn": verified_on, "effective": input.effective,
                            "status": row.status }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Nonconformity { row, today })
            }
            .await,
        )?;
        Ok(NonconformityPayload {
            nonconformity,
            user_errors,
        })
    }

    /// Closes a nonconformity whose corrective action was verified effective (10.2).
    async fn close_nonconformity(
        &self,
        ctx: &Context<'_>,
        input: CloseNonconformityInput,
    ) -> Result<NonconformityPayload> {
        let az = authorize(ctx, Operation::ApproveIsms)?;
        let (nonconformity, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = nonconformity_of(&tx, &input.id).await?;
                let status = dom::NonconformityStatus::parse(&row.status)
                    .ok_or_else(|| invalid("id", "unknown stored status"))?;
                dom::check_closure(
                    status,
                    Some(row.corrective_action.as_str()),
                    row.verified_on,
                    row.effective,
                )?;
                let now = Utc::now();
                row.status = NonconformityStatus::Closed.as_str().into();
                row.closed_at = Some(now);
                row.updated_at = now;
                let row = tx.update_nonconformity(row).await?;
                record(
                    &mut tx,
                    &az,
                    "nonconformity.close",
                    "nonconformity",
                    row.id,
                    json!({ "verifiedOn": row.verified_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Nonconformity {
                    row,
                    today: today(),
                })
            }
            .await,
        )?;
        Ok(NonconformityPayload {
            nonconformity,
            user_errors,
        })
    }

    /// Records a management review (a draft until completed).
    async fn create_management_review(
        &self,
        ctx: &Context<'_>,
        input: CreateManagementReviewInput,
    ) -> Result<ManagementReviewPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (management_review, user_errors) = settle(
            async {
                let held_on = checked_date("heldOn", input.held_on)?;
                let attendees = attendee_list(&input.attendees)?;
                let mut inputs = BTreeMap::new();
                apply_inputs(&mut inputs, &input.inputs)?;
                let decisions = free_text("decisions", input.decisions.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms_id = isms_of(&tx, &input.isms_id).await?;
                let chair = member_owner(&tx, "chairId", input.chair_id.as_ref()).await?;
                let now = Utc::now();
                let row = tx
                    .insert_management_review(management_review::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        isms_id,
                        held_on,
                        chair_id: chair,
                        attendees,
                        inputs: json_text(&inputs),
                        decisions,
                        status: ManagementReviewStatus::Draft.as_str().into(),
                        completed_by: None,
                        completed_at: None,
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "management_review.create",
                    "management_review",
                    row.id,
                    json!({ "isms": isms_id, "heldOn": held_on,
                            "inputs": inputs.keys().collect::<Vec<_>>() }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(ManagementReview {
                    row,
                    actions: Arc::default(),
                    today: today(),
                })
            }
            .await,
        )?;
        Ok(ManagementReviewPayload {
            management_review,
            user_errors,
        })
    }

    /// Changes a draft management review.
    async fn update_management_review(
        &self,
        ctx: &Context<'_>,
        input: UpdateManagementReviewInput,
    ) -> Result<ManagementReviewPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (management_review, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = review_of(&tx, &input.id, "id").await?;
                draft_only(&row)?;
                if let Some(d) = input.held_on {
                    row.held_on = checked_date("heldOn", d)?;
                }
                if let Some(a) = &input.attendees {
                    row.attendees = attendee_list(a)?;
                }
                let mut inputs = inputs_of(&row.inputs);
                apply_inputs(&mut inputs, &input.inputs)?;
                row.inputs = json_text(&inputs);
                if input.decisions.is_some() {
                    row.decisions = free_text("decisions", input.decisions.as_deref(), TEXT)?;
                }
                if input.chair_id.is_some() {
                    row.chair_id = member_owner(&tx, "chairId", input.chair_id.as_ref()).await?;
                }
                row.updated_at = Utc::now();
                let row = tx.update_management_review(row).await?;
                record(
                    &mut tx,
                    &az,
                    "management_review.update",
                    "management_review",
                    row.id,
                    json!({ "heldOn": row.held_on,
                            "inputs": inputs.keys().collect::<Vec<_>>() }),
                )
                .await?;
                let review = review_object(&tx, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(review)
            }
            .await,
        )?;
        Ok(ManagementReviewPayload {
            management_review,
            user_errors,
        })
    }

    /// Completes a management review: every 9.3.2 input and the decisions must be recorded,
    /// and the review held (not in the future). A completed review is kept as 9.3.3 evidence.
    async fn complete_management_review(
        &self,
        ctx: &Context<'_>,
        input: CompleteManagementReviewInput,
    ) -> Result<ManagementReviewPayload> {
        let az = authorize(ctx, Operation::ApproveIsms)?;
        let (management_review, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = review_of(&tx, &input.id, "id").await?;
                draft_only(&row)?;
                dom::check_review_completion(&inputs_of(&row.inputs), &row.decisions)?;
                not_future("heldOn", row.held_on, today())?;
                let now = Utc::now();
                row.status = ManagementReviewStatus::Completed.as_str().into();
                row.completed_by = Some(az.actor.to_stored());
                row.completed_at = Some(now);
                row.updated_at = now;
                let row = tx.update_management_review(row).await?;
                record(
                    &mut tx,
                    &az,
                    "management_review.complete",
                    "management_review",
                    row.id,
                    json!({ "heldOn": row.held_on }),
                )
                .await?;
                let review = review_object(&tx, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(review)
            }
            .await,
        )?;
        Ok(ManagementReviewPayload {
            management_review,
            user_errors,
        })
    }

    /// Adds an action a management review decided (a completed review still takes its
    /// follow-up actions).
    async fn add_management_review_action(
        &self,
        ctx: &Context<'_>,
        input: AddManagementReviewActionInput,
    ) -> Result<ManagementReviewActionPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (action, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 500)?;
                if let Some(d) = input.due_date {
                    checked_date("dueDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let review = review_of(&tx, &input.review_id, "reviewId").await?;
                let owner = member_owner(&tx, "ownerId", input.owner_id.as_ref()).await?;
                let now = Utc::now();
                let row = tx
                    .insert_review_action(review_action::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        review_id: review.id,
                        title,
                        owner_id: owner,
                        due_date: input.due_date,
                        done_on: None,
                        created_at: now,
                        updated_at: now,
                    })
                    .await?;
                record(
                    &mut tx,
                    &az,
                    "management_review_action.create",
                    "management_review_action",
                    row.id,
                    json!({ "review": review.id, "title": row.title, "owner": row.owner_id,
                            "dueDate": row.due_date }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(ManagementReviewAction {
                    row,
                    today: today(),
                })
            }
            .await,
        )?;
        Ok(ManagementReviewActionPayload {
            action,
            user_errors,
        })
    }

    /// Changes a review action or records it done. A contributor changes only its own.
    async fn update_management_review_action(
        &self,
        ctx: &Context<'_>,
        input: UpdateManagementReviewActionInput,
    ) -> Result<ManagementReviewActionPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (action, user_errors) = settle(
            async {
                let today = today();
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let id = Uuid::try_parse(input.id.as_str())
                    .map_err(|_| not_found("management review action", "id"))?;
                let mut row = tx
                    .review_action(id)
                    .await?
                    .ok_or_else(|| not_found("management review action", "id"))?;
                require_edit(&az, row.owner_id)?;
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 500)?;
                }
                if let Some(d) = input.due_date {
                    row.due_date = Some(checked_date("dueDate", d)?);
                }
                if let Some(d) = input.done_on {
                    row.done_on = Some(not_future("doneOn", d, today)?);
                }
                row.updated_at = Utc::now();
                let row = tx.update_review_action(row).await?;
                record(
                    &mut tx,
                    &az,
                    "management_review_action.update",
                    "management_review_action",
                    row.id,
                    json!({ "title": row.title, "dueDate": row.due_date, "doneOn": row.done_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(ManagementReviewAction { row, today })
            }
            .await,
        )?;
        Ok(ManagementReviewActionPayload {
            action,
            user_errors,
        })
    }
}
