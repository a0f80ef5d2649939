//! ISMS records through GraphQL: controlled documents with versions and approval (ISO/IEC 27001
//! 5.2, 7.5), information security objectives with measured results (6.2, 9.1), workforce
//! training (7.2, HIPAA 164.308(a)(5)).
//!
//! Who may do what: everyone reads (`ReadIsms`). Documents and objectives are owned records:
//! contributors create them for themselves and change only their own (`ManageIsms` +
//! [`require_edit`]); approving a document version needs `ApproveIsms` (owners and compliance
//! managers). Training courses and assignments belong to no one: only owners and compliance
//! managers set them up, while the assignee (a contributor included) records their own
//! completion. Auditors and viewers change nothing.

use super::catalog::Control;
use super::common::{
    actor_user, checked_date, checked_text, conflict, free_text, invalid, member_owner, new_owner,
    not_found, require_edit, settle, today, user_id,
};
use super::connection::{ConnectionFields, PageArgs, build, wants_total};
use super::ids::{Kind, cursor, decode_cursor, decode_kind, encode};
use super::types::Node;
use super::{Authorized, authorize, store};
use crate::catalog::CatalogView;
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_domain::isms::{self as rules, VersionState};
use grc_store::entity::records::{
    document, document_version, objective, objective_result, training_assignment, training_course,
};
use grc_store::{StoreError, TenantTx};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A controlled document's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_domain::isms::DocumentKind")]
pub enum DocumentKind {
    Policy,
    Procedure,
    Standard,
    Plan,
    Record,
    Other,
}

/// Which side of the target a measured value must land on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_domain::isms::ObjectiveDirection")]
pub enum ObjectiveDirection {
    /// The value must reach the target or exceed it.
    AtLeast,
    /// The value must stay at or under the target.
    AtMost,
}

/// A training assignment's state today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_domain::isms::TrainingStatus")]
pub enum TrainingStatus {
    /// Not completed; due today or later.
    Open,
    /// Not completed; the due date has passed.
    Overdue,
    Completed,
}

/// Whether an objective's latest result meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ObjectiveStatus {
    NoResult,
    Met,
    NotMet,
}

/// A document version's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DocumentVersionStatus {
    /// Editable; not in effect.
    Draft,
    /// Frozen: never changes again.
    Approved,
}

fn stored_kind(s: &str) -> DocumentKind {
    rules::DocumentKind::parse(s)
        .unwrap_or(rules::DocumentKind::Other)
        .into()
}

fn stored_direction(s: &str) -> rules::ObjectiveDirection {
    rules::ObjectiveDirection::parse(s).unwrap_or(rules::ObjectiveDirection::AtLeast)
}

/// The catalog view, loaded at most once for a page of documents.
type ViewCell = Arc<tokio::sync::OnceCell<Arc<CatalogView>>>;

// ---------------------------------------------------------------------------------------------
// Documents

/// A controlled document (policy, procedure, standard, plan, record) with its versions.
#[derive(Clone)]
pub struct Document {
    m: document::Model,
    versions: Vec<document_version::Model>,
    controls: Vec<Uuid>,
    view: ViewCell,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document").field("id", &self.m.id).finish()
    }
}

impl Document {
    fn version_states(&self) -> Vec<VersionState> {
        self.versions
            .iter()
            .map(|v| VersionState {
                number: v.number,
                approved_at: v.approved_at,
                effective_date: v.effective_date,
            })
            .collect()
    }
}

#[Object]
impl Document {
    pub async fn id(&self) -> ID {
        encode(Kind::Document, self.m.id)
    }
    async fn isms_id(&self) -> ID {
        encode(Kind::Isms, self.m.isms_id)
    }
    async fn kind(&self) -> DocumentKind {
        stored_kind(&self.m.kind)
    }
    async fn title(&self) -> &str {
        &self.m.title
    }
    /// The mandatory documented information this document fulfils (e.g. `security-policy`).
    async fn fulfils(&self) -> Option<&str> {
        self.m.fulfils.as_deref()
    }
    /// The clause of the documented information it fulfils (e.g. "5.2").
    async fn fulfils_clause(&self) -> Option<&str> {
        self.m
            .fulfils
            .as_deref()
            .and_then(rules::mandatory_document)
            .map(|d| d.clause)
    }
    /// The member who owns the document.
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.m.owner_id)
    }
    /// The last day the document is within review.
    async fn next_review_date(&self) -> Option<NaiveDate> {
        self.m.next_review_date
    }
    /// Whether the next review date has passed.
    async fn review_overdue(&self) -> bool {
        self.m.next_review_date.is_some_and(|d| d < today())
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.m.reviewed_at
    }
    async fn reviewed_by(&self) -> Option<&str> {
        self.m.reviewed_by.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.m.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.m.updated_at
    }
    /// Every version, oldest first.
    async fn versions(&self) -> Vec<DocumentVersion> {
        self.versions.iter().cloned().map(DocumentVersion).collect()
    }
    /// The version in effect today: the latest approved version whose effective date has come.
    async fn current_version(&self) -> Option<DocumentVersion> {
        let n = rules::current_version(&self.version_states(), today())?;
        self.versions
            .iter()
            .find(|v| v.number == n)
            .cloned()
            .map(DocumentVersion)
    }
    /// The newest version, draft or approved.
    async fn latest_version(&self) -> Option<DocumentVersion> {
        self.versions.last().cloned().map(DocumentVersion)
    }
    /// The catalog controls the document supports.
    async fn controls(&self, ctx: &Context<'_>) -> Result<Vec<Control>> {
        if self.controls.is_empty() {
            return Ok(Vec::new());
        }
        let az = authorize(ctx, Operation::ReadIsms)?;
        let view = self
            .view
            .get_or_try_init(|| async { super::catalog::view(ctx, &az).await })
            .await?
            .clone();
        Ok(self
            .controls
            .iter()
            .filter(|c| view.control(**c).is_some())
            .map(|c| Control {
                view: view.clone(),
                id: *c,
            })
            .collect())
    }
}

/// One version of a document. A draft until approved; an approved version never changes.
#[derive(Debug, Clone)]
pub struct DocumentVersion(document_version::Model);

#[Object]
impl DocumentVersion {
    pub async fn id(&self) -> ID {
        encode(Kind::DocumentVersion, self.0.id)
    }
    async fn document_id(&self) -> ID {
        encode(Kind::Document, self.0.document_id)
    }
    /// 1, 2, 3, ... within the document.
    async fn number(&self) -> i32 {
        self.0.number
    }
    /// What changed in this version.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The text, when kept in grc.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// The evidence file holding the document, when kept as a file.
    async fn evidence_id(&self) -> Option<ID> {
        self.0.evidence_id.map(|e| encode(Kind::Evidence, e))
    }
    async fn effective_date(&self) -> Option<NaiveDate> {
        self.0.effective_date
    }
    async fn status(&self) -> DocumentVersionStatus {
        if self.0.approved_at.is_some() {
            DocumentVersionStatus::Approved
        } else {
            DocumentVersionStatus::Draft
        }
    }
    /// Who wrote it (`user:<id>` or `api_key:<id>`).
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who approved it (`user:<id>` or `api_key:<id>`).
    async fn approved_by(&self) -> Option<&str> {
        self.0.approved_by.as_deref()
    }
    /// The approving user.
    async fn approver_id(&self) -> Option<ID> {
        user_id(self.0.approver_id)
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.approved_at
    }
}

/// Loads the versions and controls of a page of documents: two queries for the whole page.
async fn with_children(
    tx: &TenantTx,
    models: Vec<document::Model>,
) -> Result<Vec<Document>, StoreError> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut versions: HashMap<Uuid, Vec<document_version::Model>> = HashMap::new();
    for v in tx.document_versions_of(&ids).await? {
        versions.entry(v.document_id).or_default().push(v);
    }
    let mut controls: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for c in tx.document_controls_of(&ids).await? {
        controls
            .entry(c.document_id)
            .or_default()
            .push(c.control_id);
    }
    let view = ViewCell::default();
    Ok(models
        .into_iter()
        .map(|m| Document {
            versions: versions.remove(&m.id).unwrap_or_default(),
            controls: controls.remove(&m.id).unwrap_or_default(),
            view: view.clone(),
            m,
        })
        .collect())
}

async fn load_document(tx: &TenantTx, id: Uuid) -> Result<Option<Document>, StoreError> {
    match tx.document(id).await? {
        Some(m) => Ok(with_children(tx, vec![m]).await?.pop()),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Objectives

/// An information security objective (6.2): what is measured, the target, and the results.
#[derive(Debug, Clone)]
pub struct Objective {
    m: objective::Model,
    /// Oldest first (by date measured, then when recorded).
    results: Vec<objective_result::Model>,
}

impl Objective {
    fn dir(&self) -> rules::ObjectiveDirection {
        stored_direction(&self.m.direction)
    }
    fn result(&self, r: &objective_result::Model) -> ObjectiveResult {
        ObjectiveResult {
            m: r.clone(),
            direction: self.dir(),
            target: self.m.target,
        }
    }
    fn latest(&self) -> Option<&objective_result::Model> {
        self.results.last()
    }
}

#[Object]
impl Objective {
    pub async fn id(&self) -> ID {
        encode(Kind::Objective, self.m.id)
    }
    async fn isms_id(&self) -> ID {
        encode(Kind::Isms, self.m.isms_id)
    }
    async fn title(&self) -> &str {
        &self.m.title
    }
    /// How it is measured.
    async fn measure(&self) -> &str {
        &self.m.measure
    }
    async fn target(&self) -> f64 {
        self.m.target
    }
    async fn unit(&self) -> &str {
        &self.m.unit
    }
    async fn direction(&self) -> ObjectiveDirection {
        self.dir().into()
    }
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.m.owner_id)
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.m.due_date
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.m.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.m.updated_at
    }
    /// The most recent result (by the date measured).
    async fn latest_result(&self) -> Option<ObjectiveResult> {
        self.latest().map(|r| self.result(r))
    }
    /// Whether the latest result meets the target (null without a result).
    async fn target_met(&self) -> Option<bool> {
        self.latest()
            .map(|r| rules::objective_met(self.dir(), self.m.target, r.value))
    }
    async fn status(&self) -> ObjectiveStatus {
        match self
            .latest()
            .map(|r| rules::objective_met(self.dir(), self.m.target, r.value))
        {
            None => ObjectiveStatus::NoResult,
            Some(true) => ObjectiveStatus::Met,
            Some(false) => ObjectiveStatus::NotMet,
        }
    }
    /// The results over time, oldest first.
    async fn results(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ObjectiveResult, ConnectionFields>> {
        let first = first.unwrap_or(super::connection::DEFAULT_PAGE);
        if !(0..=super::connection::MAX_PAGE).contains(&first) {
            return Err(gql_error(
                ErrorCode::BadUserInput,
                "first must be between 0 and 100",
            ));
        }
        let start = match after {
            None => 0,
            Some(c) => {
                let id = decode_cursor(&c)
                    .and_then(|k| Uuid::try_parse(&k).ok())
                    .and_then(|id| self.results.iter().position(|r| r.id == id))
                    .ok_or_else(|| {
                        gql_error(
                            ErrorCode::BadUserInput,
                            "after is not a cursor of this connection",
                        )
                    })?;
                id + 1
            }
        };
        let end = (start + usize::try_from(first).unwrap_or(0)).min(self.results.len());
        let mut conn = Connection::with_additional_fields(
            start > 0,
            end < self.results.len(),
            ConnectionFields {
                total_count: self.results.len() as u64,
            },
        );
        conn.edges.extend(
            self.results[start..end]
                .iter()
                .map(|r| Edge::new(cursor(&r.id.to_string()), self.result(r))),
        );
        Ok(conn)
    }
}

/// One measured result of an objective (9.1).
#[derive(Debug, Clone)]
pub struct ObjectiveResult {
    m: objective_result::Model,
    direction: rules::ObjectiveDirection,
    target: f64,
}

#[Object]
impl ObjectiveResult {
    pub async fn id(&self) -> ID {
        encode(Kind::ObjectiveResult, self.m.id)
    }
    async fn objective_id(&self) -> ID {
        encode(Kind::Objective, self.m.objective_id)
    }
    async fn measured_on(&self) -> NaiveDate {
        self.m.measured_on
    }
    async fn value(&self) -> f64 {
        self.m.value
    }
    async fn note(&self) -> &str {
        &self.m.note
    }
    /// Whether this value meets the objective's target.
    async fn met_target(&self) -> bool {
        rules::objective_met(self.direction, self.target, self.m.value)
    }
    async fn recorded_by(&self) -> &str {
        &self.m.recorded_by
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.m.recorded_at
    }
}

/// Loads the results of a page of objectives in one query.
async fn objectives_with_results(
    tx: &TenantTx,
    models: Vec<objective::Model>,
) -> Result<Vec<Objective>, StoreError> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut results: HashMap<Uuid, Vec<objective_result::Model>> = HashMap::new();
    for r in tx.objective_results_of(&ids).await? {
        results.entry(r.objective_id).or_default().push(r);
    }
    Ok(models
        .into_iter()
        .map(|m| Objective {
            results: results.remove(&m.id).unwrap_or_default(),
            m,
        })
        .collect())
}

async fn load_objective(tx: &TenantTx, id: Uuid) -> Result<Option<Objective>, StoreError> {
    match tx.objective(id).await? {
        Some(m) => Ok(objectives_with_results(tx, vec![m]).await?.pop()),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Training

/// A training course, e.g. the HIPAA security awareness training (164.308(a)(5)).
#[derive(Debug, Clone)]
pub struct TrainingCourse {
    m: training_course::Model,
}

#[Object]
impl TrainingCourse {
    pub async fn id(&self) -> ID {
        encode(Kind::TrainingCourse, self.m.id)
    }
    async fn title(&self) -> &str {
        &self.m.title
    }
    async fn description(&self) -> &str {
        &self.m.description
    }
    /// Counts as the HIPAA security awareness and training programme (164.308(a)(5)).
    async fn hipaa_security_awareness(&self) -> bool {
        self.m.hipaa_security_awareness
    }
    /// Every how many months the course must be taken again (null: once).
    async fn recurrence_months(&self) -> Option<i32> {
        self.m.recurrence_months
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.m.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.m.updated_at
    }
}

/// A course assigned to a member.
#[derive(Debug, Clone)]
pub struct TrainingAssignment {
    m: training_assignment::Model,
    course: training_course::Model,
}

impl TrainingAssignment {
    fn next_due(&self) -> Option<NaiveDate> {
        let months = self
            .course
            .recurrence_months
            .and_then(|m| u32::try_from(m).ok());
        self.m
            .completed_on
            .and_then(|c| rules::next_training_due(c, months))
    }
}

#[Object]
impl TrainingAssignment {
    pub async fn id(&self) -> ID {
        encode(Kind::TrainingAssignment, self.m.id)
    }
    async fn course(&self) -> TrainingCourse {
        TrainingCourse {
            m: self.course.clone(),
        }
    }
    /// The member the course is assigned to.
    async fn user_id(&self) -> ID {
        encode(Kind::User, self.m.user_id)
    }
    async fn assigned_by(&self) -> &str {
        &self.m.assigned_by
    }
    async fn assigned_at(&self) -> DateTime<Utc> {
        self.m.assigned_at
    }
    async fn due_date(&self) -> NaiveDate {
        self.m.due_date
    }
    async fn completed_on(&self) -> Option<NaiveDate> {
        self.m.completed_on
    }
    /// What shows the completion (a certificate number, a quiz result).
    async fn evidence(&self) -> Option<&str> {
        self.m.evidence.as_deref()
    }
    async fn completion_recorded_by(&self) -> Option<&str> {
        self.m.completion_recorded_by.as_deref()
    }
    /// Completed once a completion is recorded; otherwise open through the due date, overdue
    /// from the day after.
    async fn status(&self) -> TrainingStatus {
        rules::training_status(self.m.due_date, self.m.completed_on, today()).into()
    }
    /// For a recurring course, when it is due again: completion plus the recurrence (a day past
    /// the month's end becomes its last day).
    async fn next_due_date(&self) -> Option<NaiveDate> {
        self.next_due()
    }
}

/// Loads the courses of a page of assignments in one query.
async fn assignments_with_courses(
    tx: &TenantTx,
    models: Vec<training_assignment::Model>,
) -> Result<Vec<TrainingAssignment>, StoreError> {
    let mut ids: Vec<Uuid> = models.iter().map(|m| m.course_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let courses: HashMap<Uuid, training_course::Model> = tx
        .training_courses_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    models
        .into_iter()
        .map(|m| {
            let course = courses
                .get(&m.course_id)
                .cloned()
                .ok_or_else(|| StoreError::Invalid("assignment without its course".into()))?;
            Ok(TrainingAssignment { m, course })
        })
        .collect()
}

async fn load_assignment(
    tx: &TenantTx,
    id: Uuid,
) -> Result<Option<TrainingAssignment>, StoreError> {
    match tx.training_assignment(id).await? {
        Some(m) => Ok(assignments_with_courses(tx, vec![m]).await?.pop()),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

/// Which documents to list.
#[derive(Debug, Default, InputObject)]
pub struct DocumentFilter {
    pub kind: Option<DocumentKind>,
    /// A mandatory documented information key, e.g. `security-policy`.
    pub fulfils: Option<String>,
    /// True: only documents whose review is overdue; false: only the others.
    pub review_overdue: Option<bool>,
}

/// Which training assignments to list.
#[derive(Debug, Default, InputObject)]
pub struct TrainingAssignmentFilter {
    pub user_id: Option<ID>,
    pub course_id: Option<ID>,
    pub status: Option<TrainingStatus>,
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

/// An ISMS id argument of the current tenant.
async fn isms_arg(tx: &TenantTx, id: &ID) -> Result<Uuid> {
    match decode_kind(id, Kind::Isms) {
        Some(i) if tx.isms_exists(i).await.map_err(StoreErrorExt)? => Ok(i),
        _ => Err(gql_error(ErrorCode::NotFound, "no such ISMS")),
    }
}

#[derive(Debug, Default)]
pub struct RecordsQuery;

#[Object]
impl RecordsQuery {
    /// An ISMS's controlled documents, in creation order.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn documents(
        &self,
        ctx: &Context<'_>,
        isms_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DocumentFilter>,
    ) -> Result<Connection<String, Document, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let f = grc_store::DocumentFilter {
            kind: filter
                .kind
                .map(|k| rules::DocumentKind::from(k).as_str().to_owned()),
            fulfils: filter.fulfils,
            review_overdue: filter.review_overdue,
            today: today(),
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let isms = isms_arg(&tx, &isms_id).await?;
        let page = tx.documents(isms, &f, &req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.document_count(isms, &f).await.map_err(StoreErrorExt)?
        } else {
            0
        };
        let docs = with_children(&tx, page.items.clone())
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items: docs,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(build(page, total, |d| d.m.id.to_string()))
    }

    /// One document.
    async fn document(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Document>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let Some(id) = decode_kind(&id, Kind::Document) else {
            return Ok(None);
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let d = load_document(&tx, id).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(d)
    }

    /// An ISMS's objectives with their results, in creation order.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    async fn objectives(
        &self,
        ctx: &Context<'_>,
        isms_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Objective, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let isms = isms_arg(&tx, &isms_id).await?;
        let page = tx.objectives(isms, &req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.objective_count(isms).await.map_err(StoreErrorExt)?
        } else {
            0
        };
        let items = objectives_with_results(&tx, page.items.clone())
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(build(page, total, |o| o.m.id.to_string()))
    }

    /// One objective.
    async fn objective(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Objective>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let Some(id) = decode_kind(&id, Kind::Objective) else {
            return Ok(None);
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let o = load_objective(&tx, id).await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(o)
    }

    /// The tenant's training courses, in creation order.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    async fn training_courses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, TrainingCourse, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let page = tx.training_courses(&req).await.map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.training_course_count().await.map_err(StoreErrorExt)?
        } else {
            0
        };
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(build(page.map(|m| TrainingCourse { m }), total, |c| {
            c.m.id.to_string()
        }))
    }

    /// Training assignments, in the order they were made.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    async fn training_assignments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TrainingAssignmentFilter>,
    ) -> Result<Connection<String, TrainingAssignment, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let bad = |what: &str| {
            gql_error(
                ErrorCode::BadUserInput,
                format!("{what} is not an id of its kind"),
            )
        };
        let f = grc_store::AssignmentFilter {
            user_id: filter
                .user_id
                .map(|u| decode_kind(&u, Kind::User).ok_or_else(|| bad("userId")))
                .transpose()?,
            course_id: filter
                .course_id
                .map(|c| decode_kind(&c, Kind::TrainingCourse).ok_or_else(|| bad("courseId")))
                .transpose()?,
            status: filter.status.map(Into::into),
            today: today(),
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let page = tx
            .training_assignments(&f, &req)
            .await
            .map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.training_assignment_count(&f)
                .await
                .map_err(StoreErrorExt)?
        } else {
            0
        };
        let items = assignments_with_courses(&tx, page.items.clone())
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(build(page, total, |a| a.m.id.to_string()))
    }
}

/// `node(id:)` for this module's kinds, inside the node lookup's transaction: the current
/// tenant's objects, null otherwise.
pub(crate) async fn resolve_node(tx: &TenantTx, kind: Kind, id: Uuid) -> Result<Option<Node>> {
    let node = async {
        Ok::<_, StoreError>(match kind {
            Kind::Document => load_document(tx, id).await?.map(Node::Document),
            Kind::DocumentVersion => tx
                .document_version(id)
                .await?
                .map(|v| Node::DocumentVersion(DocumentVersion(v))),
            Kind::Objective => load_objective(tx, id).await?.map(Node::Objective),
            Kind::ObjectiveResult => match tx.objective_result(id).await? {
                Some(r) => tx.objective(r.objective_id).await?.map(|o| {
                    Node::ObjectiveResult(ObjectiveResult {
                        direction: stored_direction(&o.direction),
                        target: o.target,
                        m: r,
                    })
                }),
                None => None,
            },
            Kind::TrainingCourse => tx
                .training_course(id)
                .await?
                .map(|m| Node::TrainingCourse(TrainingCourse { m })),
            Kind::TrainingAssignment => {
                load_assignment(tx, id).await?.map(Node::TrainingAssignment)
            }
            _ => None,
        })
    }
    .await
    .map_err(StoreErrorExt)?;
    Ok(node)
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, InputObject)]
pub struct CreateDocumentInput {
    pub isms_id: ID,
    pub kind: DocumentKind,
    pub title: String,
    /// The mandatory documented information it fulfils, e.g. `security-policy`.
    pub fulfils: Option<String>,
    /// A member; a contributor's documents are its own.
    pub owner_id: Option<ID>,
    /// Must be after today.
    pub next_review_date: Option<NaiveDate>,
    /// Catalog controls the document supports.
    pub control_ids: Option<Vec<ID>>,
}

#[derive(Debug, InputObject)]
pub struct UpdateDocumentInput {
    pub document_id: ID,
    pub kind: Option<DocumentKind>,
    pub title: Option<String>,
    /// Null clears it.
    pub fulfils: MaybeUndefined<String>,
    /// Null leaves the document without owner (owners and compliance managers only).
    pub owner_id: MaybeUndefined<ID>,
    /// Replaces the supported controls.
    pub control_ids: Option<Vec<ID>>,
}

#[derive(Debug, InputObject)]
pub struct DocumentIdInput {
    pub document_id: ID,
}

#[derive(Debug, InputObject)]
pub struct MarkDocumentReviewedInput {
    pub document_id: ID,
    /// The next review: after today.
    pub next_review_date: NaiveDate,
}

#[derive(Debug, SimpleObject)]
pub struct DocumentPayload {
    pub document: Option<Document>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddDocumentVersionInput {
    pub document_id: ID,
    /// What changed.
    pub summary: String,
    /// The text; or give `evidenceId` for a file (exactly one of the two).
    pub body: Option<String>,
    pub evidence_id: Option<ID>,
    pub effective_date: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct UpdateDocumentVersionInput {
    pub version_id: ID,
    pub summary: Option<String>,
    /// Replaces the content with this text (exclusive with `evidenceId`).
    pub body: Option<String>,
    /// Replaces the content with this file (exclusive with `body`).
    pub evidence_id: Option<ID>,
    pub effective_date: MaybeUndefined<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct DocumentVersionIdInput {
    pub version_id: ID,
}

#[derive(Debug, InputObject)]
pub struct ApproveDocumentVersionInput {
    pub version_id: ID,
    /// When it takes effect: on or after today; default the version's date, else today.
    pub effective_date: Option<NaiveDate>,
}

#[derive(Debug, SimpleObject)]
pub struct DocumentVersionPayload {
    pub version: Option<DocumentVersion>,
    pub document: Option<Document>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateObjectiveInput {
    pub isms_id: ID,
    pub title: String,
    /// How it is measured.
    pub measure: String,
    pub target: f64,
    /// E.g. "%", "days", "incidents".
    pub unit: Option<String>,
    pub direction: ObjectiveDirection,
    pub owner_id: Option<ID>,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct UpdateObjectiveInput {
    pub objective_id: ID,
    pub title: Option<String>,
    pub measure: Option<String>,
    pub target: Option<f64>,
    pub unit: Option<String>,
    pub direction: Option<ObjectiveDirection>,
    pub owner_id: MaybeUndefined<ID>,
    pub due_date: MaybeUndefined<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct ObjectiveIdInput {
    pub objective_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct ObjectivePayload {
    pub objective: Option<Objective>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RecordObjectiveResultInput {
    pub objective_id: ID,
    /// Not in the future.
    pub measured_on: NaiveDate,
    pub value: f64,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ObjectiveResultIdInput {
    pub result_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct ObjectiveResultPayload {
    pub result: Option<ObjectiveResult>,
    pub objective: Option<Objective>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateTrainingCourseInput {
    pub title: String,
    pub description: Option<String>,
    pub hipaa_security_awareness: bool,
    /// 1 to 120; null for a course taken once.
    pub recurrence_months: Option<i32>,
}

#[derive(Debug, InputObject)]
pub struct UpdateTrainingCourseInput {
    pub course_id: ID,
    pub title: Option<String>,
    pub description: Option<String>,
    pub hipaa_security_awareness: Option<bool>,
    pub recurrence_months: MaybeUndefined<i32>,
}

#[derive(Debug, InputObject)]
pub struct TrainingCourseIdInput {
    pub course_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct TrainingCoursePayload {
    pub course: Option<TrainingCourse>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AssignTrainingInput {
    pub course_id: ID,
    /// A member of the tenant.
    pub user_id: ID,
    pub due_date: NaiveDate,
}

#[derive(Debug, InputObject)]
pub struct RecordTrainingCompletionInput {
    pub assignment_id: ID,
    /// Not in the future.
    pub completed_on: NaiveDate,
    pub evidence: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct TrainingAssignmentIdInput {
    pub assignment_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct TrainingAssignmentPayload {
    pub assignment: Option<TrainingAssignment>,
    pub user_errors: Vec<UserError>,
}

/// A deletion's outcome.
#[derive(Debug, SimpleObject)]
pub struct DeleteRecordPayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

fn actor_text(az: &Authorized) -> String {
    az.actor.to_stored()
}

fn fulfils_key(value: &str) -> Result<String, MutationError> {
    Ok(rules::document_fulfils(value.trim())?.key.to_owned())
}

/// The controls named, each a control the tenant's catalog view knows.
fn control_ids(view: &CatalogView, ids: &[ID]) -> Result<Vec<Uuid>, MutationError> {
    if ids.len() > 200 {
        return Err(invalid("controlIds", "at most 200 controls"));
    }
    ids.iter()
        .map(|id| {
            decode_kind(id, Kind::Control)
                .filter(|c| view.control(*c).is_some())
                .ok_or_else(|| not_found("control", "controlIds"))
        })
        .collect()
}

/// The owner after a change: unchanged when not given; a contributor may not give its record
/// away (nor leave it without owner).
async fn changed_owner(
    tx: &TenantTx,
    az: &Authorized,
    current: Option<Uuid>,
    id: &MaybeUndefined<ID>,
) -> Result<Option<Uuid>, MutationError> {
    let next = match id {
        MaybeUndefined::Undefined => return Ok(current),
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(v) => member_owner(tx, "ownerId", Some(v)).await?,
    };
    if az.role == grc_domain::tenancy::Role::Contributor && next != actor_user(az) {
        return Err(gql_error(
            ErrorCode::Forbidden,
            "a contributor keeps the records it owns: ask a compliance manager to reassign",
        )
        .into());
    }
    Ok(next)
}

async fn document_of(tx: &TenantTx, id: &ID) -> Result<document::Model, MutationError> {
    let Some(i) = decode_kind(id, Kind::Document) else {
        return Err(not_found("document", "documentId"));
    };
    tx.document(i)
        .await?
        .ok_or_else(|| not_found("document", "documentId"))
}

async fn version_of(
    tx: &TenantTx,
    id: &ID,
) -> Result<(document_version::Model, document::Model), MutationError> {
    let v = match decode_kind(id, Kind::DocumentVersion) {
        Some(i) => tx.document_version(i).await?,
        None => None,
    }
    .ok_or_else(|| not_found("document version", "versionId"))?;
    let d = tx
        .document(v.document_id)
        .await?
        .ok_or_else(|| not_found("document", "versionId"))?;
    Ok((v, d))
}

async fn objective_of(tx: &TenantTx, id: &ID) -> Result<objective::Model, MutationError> {
    match decode_kind(id, Kind::Objective) {
        Some(i) => tx.objective(i).await?,
        None => None,
    }
    .ok_or_else(|| not_found("objective", "objectiveId"))
}

async fn course_of(tx: &TenantTx, id: &ID) -> Result<training_course::Model, MutationError> {
    match decode_kind(id, Kind::TrainingCourse) {
        Some(i) => tx.training_course(i).await?,
        None => None,
    }
    .ok_or_else(|| not_found("training course", "courseId"))
}

async fn assignment_of(
    tx: &TenantTx,
    id: &ID,
) -> Result<training_assignment::Model, MutationError> {
    match decode_kind(id, Kind::TrainingAssignment) {
        Some(i) => tx.training_assignment(i).await?,
        None => None,
    }
    .ok_or_else(|| not_found("training assignment", "assignmentId"))
}

/// Training is set up by owners and compliance managers: records nobody owns.
fn require_training_manager(az: &Authorized) -> Result<(), MutationError> {
    require_edit(az, None)
}

/// The content of a version: text or a file, exactly one.
fn content(
    body: Option<&str>,
    evidence: Option<&ID>,
) -> Result<(Option<String>, Option<Uuid>), MutationError> {
    match (body, evidence) {
        (Some(_), Some(_)) | (None, None) => Err(invalid(
            "body",
            "give the version's text (body) or its file (evidenceId), one of the two",
        )),
        (Some(b), None) => Ok((Some(checked_text("body", b, 200_000)?), None)),
        (None, Some(e)) => Ok((
            None,
            Some(
                decode_kind(e, Kind::Evidence)
                    .ok_or_else(|| invalid("evidenceId", "not an evidence id"))?,
            ),
        )),
    }
}

fn recurrence(months: Option<i32>) -> Result<Option<i32>, MutationError> {
    match months {
        Some(m) if !(1..=120).contains(&m) => Err(invalid(
            "recurrenceMonths",
            "a course recurs every 1 to 120 months",
        )),
        m => Ok(m),
    }
}

fn finite(field: &str, v: f64) -> Result<f64, MutationError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(invalid(field, "must be a finite number"))
    }
}

fn conflict_from(field: &str, message: &str) -> impl Fn(StoreError) -> MutationError {
    let (field, message) = (field.to_owned(), message.to_owned());
    move |e| match e {
        StoreError::Conflict(_) => conflict(&field, message.clone()),
        other => other.into(),
    }
}

#[derive(Debug, Default)]
pub struct RecordsMutation;

#[Object]
impl RecordsMutation {
    /// Creates a controlled document (without versions yet).
    async fn create_document(
        &self,
        ctx: &Context<'_>,
        input: CreateDocumentInput,
    ) -> Result<DocumentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (document, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let fulfils = input.fulfils.as_deref().map(fulfils_key).transpose()?;
                let now = Utc::now();
                if let Some(d) = input.next_review_date {
                    checked_date("nextReviewDate", d)?;
                    rules::check_next_review(d, now.date_naive())?;
                }
                let controls = match &input.control_ids {
                    Some(ids) if !ids.is_empty() => {
                        control_ids(&*super::catalog::view(ctx, &az).await?, ids)?
                    }
                    _ => Vec::new(),
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = decode_kind(&input.isms_id, Kind::Isms)
                    .ok_or_else(|| not_found("ISMS", "ismsId"))?;
                if !tx.isms_exists(isms).await? {
                    return Err(not_found("ISMS", "ismsId"));
                }
                let owner = new_owner(&tx, &az, "ownerId", input.owner_id.as_ref()).await?;
                let id = Uuid::now_v7();
                let kind = rules::DocumentKind::from(input.kind);
                tx.insert_document(
                    document::Model {
                        tenant_id: Uuid::nil(),
                        id,
                        isms_id: isms,
                        kind: kind.as_str().to_owned(),
                        title: title.clone(),
                        fulfils: fulfils.clone(),
                        owner_id: owner,
                        next_review_date: input.next_review_date,
                        reviewed_at: None,
                        reviewed_by: None,
                        created_at: now,
                        updated_at: now,
                    },
                    &controls,
                )
                .await?;
                let doc = load_document(&tx, id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document.create",
                    "document",
                    id.to_string(),
                    json!({ "isms": isms, "kind": kind.as_str(), "title": title,
                            "fulfils": fulfils, "owner": owner, "controls": controls }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(doc)
            }
            .await,
        )?;
        Ok(DocumentPayload {
            document: document.flatten(),
            user_errors,
        })
    }

    /// Changes a document's kind, title, fulfilled documented information, owner or controls.
    async fn update_document(
        &self,
        ctx: &Context<'_>,
        input: UpdateDocumentInput,
    ) -> Result<DocumentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (document, user_errors) = settle(
            async {
                let title = input
                    .title
                    .as_deref()
                    .map(|t| checked_text("title", t, 300))
                    .transpose()?;
                let fulfils = match &input.fulfils {
                    MaybeUndefined::Value(v) => MaybeUndefined::Value(fulfils_key(v)?),
                    MaybeUndefined::Null => MaybeUndefined::Null,
                    MaybeUndefined::Undefined => MaybeUndefined::Undefined,
                };
                let controls = match &input.control_ids {
                    Some(ids) if !ids.is_empty() => {
                        Some(control_ids(&*super::catalog::view(ctx, &az).await?, ids)?)
                    }
                    Some(_) => Some(Vec::new()),
                    None => None,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut d = document_of(&tx, &input.document_id).await?;
                require_edit(&az, d.owner_id)?;
                d.owner_id = changed_owner(&tx, &az, d.owner_id, &input.owner_id).await?;
                if let Some(k) = input.kind {
                    d.kind = rules::DocumentKind::from(k).as_str().to_owned();
                }
                if let Some(t) = title {
                    d.title = t;
                }
                match fulfils {
                    MaybeUndefined::Value(v) => d.fulfils = Some(v),
                    MaybeUndefined::Null => d.fulfils = None,
                    MaybeUndefined::Undefined => {}
                }
                d.updated_at = Utc::now();
                let id = d.id;
                let change = json!({ "kind": d.kind, "title": d.title, "fulfils": d.fulfils,
                                     "owner": d.owner_id, "controls": controls });
                tx.update_document(d).await?;
                if let Some(c) = &controls {
                    tx.set_document_controls(id, c).await?;
                }
                let doc = load_document(&tx, id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document.update",
                    "document",
                    id.to_string(),
                    change,
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(doc)
            }
            .await,
        )?;
        Ok(DocumentPayload {
            document: document.flatten(),
            user_errors,
        })
    }

    /// Deletes a document that was never approved (approved versions are kept for good:
    /// ISO/IEC 27001 7.5.3).
    async fn delete_document(
        &self,
        ctx: &Context<'_>,
        input: DocumentIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let d = document_of(&tx, &input.document_id).await?;
                require_edit(&az, d.owner_id)?;
                let versions = tx.document_versions_of(&[d.id]).await?;
                if versions.iter().any(|v| v.approved_at.is_some()) {
                    return Err(conflict(
                        "documentId",
                        "the document has an approved version: controlled documents are retained",
                    ));
                }
                tx.delete_document(d.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document.delete",
                    "document",
                    d.id.to_string(),
                    json!({ "title": d.title, "versions": versions.len() }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Document, d.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }

    /// Records a review of the document and sets the next review date (after today).
    async fn mark_document_reviewed(
        &self,
        ctx: &Context<'_>,
        input: MarkDocumentReviewedInput,
    ) -> Result<DocumentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (document, user_errors) = settle(
            async {
                let now = Utc::now();
                checked_date("nextReviewDate", input.next_review_date)?;
                rules::check_next_review(input.next_review_date, now.date_naive())?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut d = document_of(&tx, &input.document_id).await?;
                require_edit(&az, d.owner_id)?;
                let previous = d.next_review_date;
                d.next_review_date = Some(input.next_review_date);
                d.reviewed_at = Some(now);
                d.reviewed_by = Some(actor_text(&az));
                d.updated_at = now;
                let id = d.id;
                tx.update_document(d).await?;
                let doc = load_document(&tx, id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document.review",
                    "document",
                    id.to_string(),
                    json!({ "previous": previous, "next": input.next_review_date }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(doc)
            }
            .await,
        )?;
        Ok(DocumentPayload {
            document: document.flatten(),
            user_errors,
        })
    }

    /// Adds a draft version to a document (numbered after the last one).
    async fn add_document_version(
        &self,
        ctx: &Context<'_>,
        input: AddDocumentVersionInput,
    ) -> Result<DocumentVersionPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (out, user_errors) = settle(
            async {
                let summary = checked_text("summary", &input.summary, 2000)?;
                let (body, evidence) = content(input.body.as_deref(), input.evidence_id.as_ref())?;
                if let Some(d) = input.effective_date {
                    checked_date("effectiveDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let d = document_of(&tx, &input.document_id).await?;
                require_edit(&az, d.owner_id)?;
                let number = tx.next_document_version_number(d.id).await?;
                let now = Utc::now();
                let v = document_version::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    document_id: d.id,
                    number,
                    summary,
                    body,
                    evidence_id: evidence,
                    effective_date: input.effective_date,
                    created_by: actor_text(&az),
                    created_at: now,
                    updated_at: now,
                    approved_by: None,
                    approver_id: None,
                    approved_at: None,
                };
                tx.insert_document_version(v.clone())
                    .await
                    .map_err(conflict_from(
                        "documentId",
                        "another version was added at the same time: try again",
                    ))?;
                let doc = load_document(&tx, d.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document_version.add",
                    "document_version",
                    v.id.to_string(),
                    json!({ "document": d.id, "number": number, "summary": v.summary,
                            "evidence": evidence, "effectiveDate": v.effective_date }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((DocumentVersion(v), doc))
            }
            .await,
        )?;
        let (version, document) = out.map_or((None, None), |(v, d)| (Some(v), d));
        Ok(DocumentVersionPayload {
            version,
            document,
            user_errors,
        })
    }

    /// Changes a draft version. An approved version never changes (CONFLICT).
    async fn update_document_version(
        &self,
        ctx: &Context<'_>,
        input: UpdateDocumentVersionInput,
    ) -> Result<DocumentVersionPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (out, user_errors) = settle(
            async {
                let summary = input
                    .summary
                    .as_deref()
                    .map(|s| checked_text("summary", s, 2000))
                    .transpose()?;
                let content = if input.body.is_some() || input.evidence_id.is_some() {
                    Some(content(input.body.as_deref(), input.evidence_id.as_ref())?)
                } else {
                    None
                };
                if let MaybeUndefined::Value(d) = input.effective_date {
                    checked_date("effectiveDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (mut v, d) = version_of(&tx, &input.version_id).await?;
                require_edit(&az, d.owner_id)?;
                if v.approved_at.is_some() {
                    return Err(conflict(
                        "versionId",
                        "the version is approved: an approved version never changes; add a new version",
                    ));
                }
                if let Some(s) = summary {
                    v.summary = s;
                }
                if let Some((body, evidence)) = content {
                    v.body = body;
                    v.evidence_id = evidence;
                }
                match input.effective_date {
                    MaybeUndefined::Value(e) => v.effective_date = Some(e),
                    MaybeUndefined::Null => v.effective_date = None,
                    MaybeUndefined::Undefined => {}
                }
                v.updated_at = Utc::now();
                tx.update_document_version(v.clone())
                    .await
                    .map_err(conflict_from("versionId", "the version was approved meanwhile"))?;
                let doc = load_document(&tx, d.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document_version.update",
                    "document_version",
                    v.id.to_string(),
                    json!({ "document": d.id, "number": v.number, "summary": v.summary,
                            "evidence": v.evidence_id, "effectiveDate": v.effective_date }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((DocumentVersion(v), doc))
            }
            .await,
        )?;
        let (version, document) = out.map_or((None, None), |(v, d)| (Some(v), d));
        Ok(DocumentVersionPayload {
            version,
            document,
            user_errors,
        })
    }

    /// Deletes a draft version. An approved version is never deleted (CONFLICT).
    async fn delete_document_version(
        &self,
        ctx: &Context<'_>,
        input: DocumentVersionIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (v, d) = version_of(&tx, &input.version_id).await?;
                require_edit(&az, d.owner_id)?;
                if v.approved_at.is_some() {
                    return Err(conflict(
                        "versionId",
                        "the version is approved: approved versions are retained",
                    ));
                }
                tx.delete_document_version(v.id)
                    .await
                    .map_err(conflict_from(
                        "versionId",
                        "the version was approved meanwhile",
                    ))?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document_version.delete",
                    "document_version",
                    v.id.to_string(),
                    json!({ "document": d.id, "number": v.number }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::DocumentVersion, v.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }

    /// Approves a draft version (owners and compliance managers). From then on it never
    /// changes; it takes effect on its effective date (default: the approval date).
    async fn approve_document_version(
        &self,
        ctx: &Context<'_>,
        input: ApproveDocumentVersionInput,
    ) -> Result<DocumentVersionPayload> {
        let az = authorize(ctx, Operation::ApproveIsms)?;
        let (out, user_errors) = settle(
            async {
                if let Some(d) = input.effective_date {
                    checked_date("effectiveDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (v, d) = version_of(&tx, &input.version_id).await?;
                if v.approved_at.is_some() {
                    return Err(conflict("versionId", "the version is already approved"));
                }
                let now = Utc::now();
                let effective = rules::effective_on_approval(
                    input.effective_date.or(v.effective_date),
                    now.date_naive(),
                )?;
                let approval = grc_store::VersionApproval {
                    approved_by: actor_text(&az),
                    approver_id: actor_user(&az),
                    approved_at: now,
                    effective_date: effective,
                };
                tx.approve_document_version(v.id, &approval)
                    .await
                    .map_err(conflict_from(
                        "versionId",
                        "the version is already approved",
                    ))?;
                let version = tx
                    .document_version(v.id)
                    .await?
                    .ok_or_else(|| not_found("document version", "versionId"))?;
                let doc = load_document(&tx, d.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "document_version.approve",
                    "document_version",
                    v.id.to_string(),
                    json!({ "document": d.id, "number": v.number, "effectiveDate": effective }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((DocumentVersion(version), doc))
            }
            .await,
        )?;
        let (version, document) = out.map_or((None, None), |(v, d)| (Some(v), d));
        Ok(DocumentVersionPayload {
            version,
            document,
            user_errors,
        })
    }

    /// Sets an information security objective (6.2).
    async fn create_objective(
        &self,
        ctx: &Context<'_>,
        input: CreateObjectiveInput,
    ) -> Result<ObjectivePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (objective, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let measure = checked_text("measure", &input.measure, 2000)?;
                let unit = free_text("unit", input.unit.as_deref(), 40)?;
                let target = finite("target", input.target)?;
                if let Some(d) = input.due_date {
                    checked_date("dueDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = decode_kind(&input.isms_id, Kind::Isms)
                    .ok_or_else(|| not_found("ISMS", "ismsId"))?;
                if !tx.isms_exists(isms).await? {
                    return Err(not_found("ISMS", "ismsId"));
                }
                let owner = new_owner(&tx, &az, "ownerId", input.owner_id.as_ref()).await?;
                let now = Utc::now();
                let direction = rules::ObjectiveDirection::from(input.direction);
                let m = objective::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    isms_id: isms,
                    title,
                    measure,
                    target,
                    unit,
                    direction: direction.as_str().to_owned(),
                    owner_id: owner,
                    due_date: input.due_date,
                    created_at: now,
                    updated_at: now,
                };
                let id = m.id;
                let change = json!({ "isms": isms, "title": m.title, "measure": m.measure,
                    "target": target, "unit": m.unit, "direction": m.direction,
                    "owner": owner, "dueDate": m.due_date });
                tx.insert_objective(m).await?;
                let o = load_objective(&tx, id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "objective.create",
                    "objective",
                    id.to_string(),
                    change,
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(o)
            }
            .await,
        )?;
        Ok(ObjectivePayload {
            objective: objective.flatten(),
            user_errors,
        })
    }

    /// Changes an objective.
    async fn update_objective(
        &self,
        ctx: &Context<'_>,
        input: UpdateObjectiveInput,
    ) -> Result<ObjectivePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (objective, user_errors) = settle(
            async {
                let title = input
                    .title
                    .as_deref()
                    .map(|t| checked_text("title", t, 300))
                    .transpose()?;
                let measure = input
                    .measure
                    .as_deref()
                    .map(|t| checked_text("measure", t, 2000))
                    .transpose()?;
                let unit = input
                    .unit
                    .as_deref()
                    .map(|u| free_text("unit", Some(u), 40))
                    .transpose()?;
                let target = input.target.map(|t| finite("target", t)).transpose()?;
                if let MaybeUndefined::Value(d) = input.due_date {
                    checked_date("dueDate", d)?;
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut o = objective_of(&tx, &input.objective_id).await?;
                require_edit(&az, o.owner_id)?;
                o.owner_id = changed_owner(&tx, &az, o.owner_id, &input.owner_id).await?;
                if let Some(t) = title {
                    o.title = t;
                }
                if let Some(m) = measure {
                    o.measure = m;
                }
                if let Some(u) = unit {
                    o.unit = u;
                }
                if let Some(t) = target {
                    o.target = t;
                }
                if let Some(d) = input.direction {
                    o.direction = rules::ObjectiveDirection::from(d).as_str().to_owned();
                }
                match input.due_date {
                    MaybeUndefined::Value(d) => o.due_date = Some(d),
                    MaybeUndefined::Null => o.due_date = None,
                    MaybeUndefined::Undefined => {}
                }
                o.updated_at = Utc::now();
                let id = o.id;
                let change = json!({ "title": o.title, "measure": o.measure, "target": o.target,
                    "unit": o.unit, "direction": o.direction, "owner": o.owner_id,
                    "dueDate": o.due_date });
                tx.update_objective(o).await?;
                let out = load_objective(&tx, id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "objective.update",
                    "objective",
                    id.to_string(),
                    change,
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ObjectivePayload {
            objective: objective.flatten(),
            user_errors,
        })
    }

    /// Deletes an objective with its results.
    async fn delete_objective(
        &self,
        ctx: &Context<'_>,
        input: ObjectiveIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let o = objective_of(&tx, &input.objective_id).await?;
                require_edit(&az, o.owner_id)?;
                tx.delete_objective(o.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "objective.delete",
                    "objective",
                    o.id.to_string(),
                    json!({ "title": o.title }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Objective, o.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }

    /// Records a measured result of an objective (9.1).
    async fn record_objective_result(
        &self,
        ctx: &Context<'_>,
        input: RecordObjectiveResultInput,
    ) -> Result<ObjectiveResultPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (out, user_errors) = settle(
            async {
                let now = Utc::now();
                checked_date("measuredOn", input.measured_on)?;
                rules::check_not_future("measuredOn", input.measured_on, now.date_naive())?;
                let value = finite("value", input.value)?;
                let note = free_text("note", input.note.as_deref(), 2000)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let o = objective_of(&tx, &input.objective_id).await?;
                require_edit(&az, o.owner_id)?;
                let r = objective_result::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    objective_id: o.id,
                    measured_on: input.measured_on,
                    value,
                    note,
                    recorded_by: actor_text(&az),
                    recorded_at: now,
                };
                let id = r.id;
                tx.insert_objective_result(r.clone()).await?;
                let obj = load_objective(&tx, o.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "objective_result.record",
                    "objective_result",
                    id.to_string(),
                    json!({ "objective": o.id, "measuredOn": r.measured_on, "value": value }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                let result = obj.as_ref().map(|x| x.result(&r));
                Ok((result, obj))
            }
            .await,
        )?;
        let (result, objective) = out.unwrap_or((None, None));
        Ok(ObjectiveResultPayload {
            result,
            objective,
            user_errors,
        })
    }

    /// Deletes a result recorded by mistake.
    async fn delete_objective_result(
        &self,
        ctx: &Context<'_>,
        input: ObjectiveResultIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let r = match decode_kind(&input.result_id, Kind::ObjectiveResult) {
                    Some(i) => tx.objective_result(i).await?,
                    None => None,
                }
                .ok_or_else(|| not_found("objective result", "resultId"))?;
                let o = tx
                    .objective(r.objective_id)
                    .await?
                    .ok_or_else(|| not_found("objective", "resultId"))?;
                require_edit(&az, o.owner_id)?;
                tx.delete_objective_result(r.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "objective_result.delete",
                    "objective_result",
                    r.id.to_string(),
                    json!({ "objective": o.id, "measuredOn": r.measured_on, "value": r.value }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::ObjectiveResult, r.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }

    /// Creates a training course (owners and compliance managers).
    async fn create_training_course(
        &self,
        ctx: &Context<'_>,
        input: CreateTrainingCourseInput,
    ) -> Result<TrainingCoursePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (course, user_errors) = settle(
            async {
                require_training_manager(&az)?;
                let title = checked_text("title", &input.title, 300)?;
                let description = free_text("description", input.description.as_deref(), 20_000)?;
                let months = recurrence(input.recurrence_months)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let now = Utc::now();
                let m = training_course::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    title,
                    description,
                    hipaa_security_awareness: input.hipaa_security_awareness,
                    recurrence_months: months,
                    created_at: now,
                    updated_at: now,
                };
                tx.insert_training_course(m.clone())
                    .await
                    .map_err(conflict_from("title", "a course with this title exists"))?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training_course.create",
                    "training_course",
                    m.id.to_string(),
                    json!({ "title": m.title, "hipaaSecurityAwareness": m.hipaa_security_awareness,
                            "recurrenceMonths": months }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(TrainingCourse { m })
            }
            .await,
        )?;
        Ok(TrainingCoursePayload {
            course,
            user_errors,
        })
    }

    /// Changes a training course (owners and compliance managers).
    async fn update_training_course(
        &self,
        ctx: &Context<'_>,
        input: UpdateTrainingCourseInput,
    ) -> Result<TrainingCoursePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (course, user_errors) = settle(
            async {
                require_training_manager(&az)?;
                let title = input
                    .title
                    .as_deref()
                    .map(|t| checked_text("title", t, 300))
                    .transpose()?;
                let description = input
                    .description
                    .as_deref()
                    .map(|d| free_text("description", Some(d), 20_000))
                    .transpose()?;
                let months = match input.recurrence_months {
                    MaybeUndefined::Value(m) => Some(recurrence(Some(m))?),
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Undefined => None,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut m = course_of(&tx, &input.course_id).await?;
                if let Some(t) = title {
                    m.title = t;
                }
                if let Some(d) = description {
                    m.description = d;
                }
                if let Some(h) = input.hipaa_security_awareness {
                    m.hipaa_security_awareness = h;
                }
                if let Some(r) = months {
                    m.recurrence_months = r;
                }
                m.updated_at = Utc::now();
                tx.update_training_course(m.clone())
                    .await
                    .map_err(conflict_from("title", "a course with this title exists"))?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training_course.update",
                    "training_course",
                    m.id.to_string(),
                    json!({ "title": m.title, "hipaaSecurityAwareness": m.hipaa_security_awareness,
                            "recurrenceMonths": m.recurrence_months }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(TrainingCourse { m })
            }
            .await,
        )?;
        Ok(TrainingCoursePayload {
            course,
            user_errors,
        })
    }

    /// Deletes a course with its assignments (owners and compliance managers).
    async fn delete_training_course(
        &self,
        ctx: &Context<'_>,
        input: TrainingCourseIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                require_training_manager(&az)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let m = course_of(&tx, &input.course_id).await?;
                tx.delete_training_course(m.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training_course.delete",
                    "training_course",
                    m.id.to_string(),
                    json!({ "title": m.title }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::TrainingCourse, m.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }

    /// Assigns a course to a member (owners and compliance managers).
    async fn assign_training(
        &self,
        ctx: &Context<'_>,
        input: AssignTrainingInput,
    ) -> Result<TrainingAssignmentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (assignment, user_errors) = settle(
            async {
                require_training_manager(&az)?;
                checked_date("dueDate", input.due_date)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let course = course_of(&tx, &input.course_id).await?;
                let user = member_owner(&tx, "userId", Some(&input.user_id))
                    .await?
                    .ok_or_else(|| not_found("member", "userId"))?;
                let m = training_assignment::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    course_id: course.id,
                    user_id: user,
                    assigned_by: actor_text(&az),
                    assigned_at: Utc::now(),
                    due_date: input.due_date,
                    completed_on: None,
                    evidence: None,
                    completion_recorded_by: None,
                };
                tx.insert_training_assignment(m.clone()).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training.assign",
                    "training_assignment",
                    m.id.to_string(),
                    json!({ "course": course.id, "user": user, "dueDate": m.due_date }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(TrainingAssignment { m, course })
            }
            .await,
        )?;
        Ok(TrainingAssignmentPayload {
            assignment,
            user_errors,
        })
    }

    /// Records that the assignee completed the training: the assignee itself (a contributor
    /// included), or an owner or compliance manager for anyone.
    async fn record_training_completion(
        &self,
        ctx: &Context<'_>,
        input: RecordTrainingCompletionInput,
    ) -> Result<TrainingAssignmentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (assignment, user_errors) = settle(
            async {
                checked_date("completedOn", input.completed_on)?;
                rules::check_not_future("completedOn", input.completed_on, today())?;
                let evidence = input
                    .evidence
                    .as_deref()
                    .map(|e| checked_text("evidence", e, 2000))
                    .transpose()?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let a = assignment_of(&tx, &input.assignment_id).await?;
                require_edit(&az, Some(a.user_id))?;
                if a.completed_on.is_some() {
                    return Err(conflict(
                        "assignmentId",
                        "the training is already completed: assign it again for a refresher",
                    ));
                }
                tx.complete_training_assignment(
                    a.id,
                    input.completed_on,
                    evidence.clone(),
                    actor_text(&az),
                )
                .await
                .map_err(conflict_from(
                    "assignmentId",
                    "the training is already completed",
                ))?;
                let out = load_assignment(&tx, a.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training.complete",
                    "training_assignment",
                    a.id.to_string(),
                    json!({ "completedOn": input.completed_on, "evidence": evidence }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(TrainingAssignmentPayload {
            assignment: assignment.flatten(),
            user_errors,
        })
    }

    /// Withdraws an assignment (owners and compliance managers).
    async fn delete_training_assignment(
        &self,
        ctx: &Context<'_>,
        input: TrainingAssignmentIdInput,
    ) -> Result<DeleteRecordPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (deleted, user_errors) = settle(
            async {
                require_training_manager(&az)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let a = assignment_of(&tx, &input.assignment_id).await?;
                tx.delete_training_assignment(a.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "training.unassign",
                    "training_assignment",
                    a.id.to_string(),
                    json!({ "course": a.course_id, "user": a.user_id }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::TrainingAssignment, a.id))
            }
            .await,
        )?;
        Ok(DeleteRecordPayload {
            deleted_id: deleted,
            user_errors,
        })
    }
}
