//! Records repositories: controlled documents with versions and the controls they support,
//! objectives with measured results, training courses and assignments, and the readiness
//! inputs they give the certification view. Every query filters `tenant_id` explicitly.

use crate::entity::records::{
    document, document_control, document_version, objective, objective_result, training_assignment,
    training_course,
};
use crate::{Page, PageRequest, StoreError, TenantTx};
use chrono::NaiveDate;
use grc_domain::isms::{
    DocumentSource, DocumentState, MANDATORY_DOCUMENTS, TrainingStatus, VersionState,
    current_version,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Which documents of an ISMS to list.
#[derive(Debug, Clone)]
pub struct DocumentFilter {
    pub kind: Option<String>,
    pub fulfils: Option<String>,
    /// `Some(true)`: only documents whose next review date is before `today`; `Some(false)`:
    /// only the others (no date, or on or after `today`).
    pub review_overdue: Option<bool>,
    pub today: NaiveDate,
}

/// Which training assignments to list.
#[derive(Debug, Clone)]
pub struct AssignmentFilter {
    pub user_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub status: Option<TrainingStatus>,
    pub today: NaiveDate,
}

/// Approval of a draft version.
#[derive(Debug, Clone)]
pub struct VersionApproval {
    pub approved_by: String,
    pub approver_id: Option<Uuid>,
    pub approved_at: chrono::DateTime<chrono::Utc>,
    pub effective_date: NaiveDate,
}

fn not_updated(e: DbErr, what: &str) -> StoreError {
    match e {
        DbErr::RecordNotUpdated => StoreError::Conflict(format!("{what} cannot be changed")),
        other => other.into(),
    }
}

impl TenantTx {
    // ---- documents ----------------------------------------------------------------------

    fn documents_query(&self, isms_id: Uuid, f: &DocumentFilter) -> Select<document::Entity> {
        let mut q = document::Entity::find()
            .filter(document::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document::Column::IsmsId.eq(isms_id));
        if let Some(k) = &f.kind {
            q = q.filter(document::Column::Kind.eq(k.clone()));
        }
        if let Some(x) = &f.fulfils {
            q = q.filter(document::Column::Fulfils.eq(x.clone()));
        }
        match f.review_overdue {
            Some(true) => q.filter(document::Column::NextReviewDate.lt(f.today)),
            Some(false) => q.filter(
                Condition::any()
                    .add(document::Column::NextReviewDate.is_null())
                    .add(document::Column::NextReviewDate.gte(f.today)),
            ),
            None => q,
        }
    }

    /// A page of an ISMS's documents, in creation order.
    pub async fn documents(
        &self,
        isms_id: Uuid,
        f: &DocumentFilter,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<document::Model>, StoreError> {
        let q = req.apply(
            self.documents_query(isms_id, f),
            document::Column::Id,
            |k| (*k).into(),
        );
        Ok(req.finish(q.all(&self.tx).await?))
    }

    pub async fn document_count(
        &self,
        isms_id: Uuid,
        f: &DocumentFilter,
    ) -> Result<u64, StoreError> {
        Ok(self.documents_query(isms_id, f).count(&self.tx).await?)
    }

    pub async fn document(&self, id: Uuid) -> Result<Option<document::Model>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The versions of the given documents, in one query, by document then number.
    pub async fn document_versions_of(
        &self,
        documents: &[Uuid],
    ) -> Result<Vec<document_version::Model>, StoreError> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        Ok(document_version::Entity::find()
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::DocumentId.is_in(documents.iter().copied()))
            .order_by_asc(document_version::Column::DocumentId)
            .order_by_asc(document_version::Column::Number)
            .all(&self.tx)
            .await?)
    }

    /// The controls the given documents support, in one query.
    pub async fn document_controls_of(
        &self,
        documents: &[Uuid],
    ) -> Result<Vec<document_control::Model>, StoreError> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        Ok(document_control::Entity::find()
            .filter(document_control::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_control::Column::DocumentId.is_in(documents.iter().copied()))
            .all(&self.tx)
            .await?)
    }

    /// Inserts a document (its `tenant_id` is this transaction's) with the controls it supports.
    pub async fn insert_document(
        &mut self,
        mut m: document::Model,
        controls: &[Uuid],
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        let id = m.id;
        document::Entity::insert(document::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        self.set_document_controls(id, controls).await
    }

    pub async fn update_document(&mut self, mut m: document::Model) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        document::ActiveModel::from(m)
            .reset_all()
            .update(&self.tx)
            .await
            .map_err(|e| not_updated(e, "the document"))?;
        self.wrote();
        Ok(())
    }

    /// Replaces the controls a document supports.
    pub async fn set_document_controls(
        &mut self,
        document_id: Uuid,
        controls: &[Uuid],
    ) -> Result<(), StoreError> {
        let t = self.tenant_uuid();
        document_control::Entity::delete_many()
            .filter(document_control::Column::TenantId.eq(t))
            .filter(document_control::Column::DocumentId.eq(document_id))
            .exec(&self.tx)
            .await?;
        let mut unique: Vec<Uuid> = controls.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if !unique.is_empty() {
            document_control::Entity::insert_many(unique.into_iter().map(|c| {
                document_control::ActiveModel {
                    tenant_id: Set(t),
                    document_id: Set(document_id),
                    control_id: Set(c),
                }
            }))
            .exec_without_returning(&self.tx)
            .await?;
        }
        self.wrote();
        Ok(())
    }

    /// Deletes a document with its draft versions and control links. The database refuses
    /// when an approved version exists (callers check first).
    pub async fn delete_document(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let r = document::Entity::delete_many()
            .filter(document::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(r.rows_affected > 0)
    }

    pub async fn document_version(
        &self,
        id: Uuid,
    ) -> Result<Option<document_version::Model>, StoreError> {
        Ok(document_version::Entity::find()
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The number a new version of the document gets (1 for the first).
    pub async fn next_document_version_number(&self, document_id: Uuid) -> Result<i32, StoreError> {
        let last = document_version::Entity::find()
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::DocumentId.eq(document_id))
            .order_by_desc(document_version::Column::Number)
            .one(&self.tx)
            .await?;
        Ok(last.map_or(1, |v| v.number + 1))
    }

    pub async fn insert_document_version(
        &mut self,
        mut m: document_version::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        document_version::Entity::insert(document_version::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Rewrites a draft version. An approved version is never changed: `Conflict`.
    pub async fn update_document_version(
        &mut self,
        mut m: document_version::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        m.approved_at = None;
        m.approved_by = None;
        m.approver_id = None;
        let id = m.id;
        let r = document_version::Entity::update_many()
            .set(document_version::ActiveModel::from(m).reset_all())
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::Id.eq(id))
            .filter(document_version::Column::ApprovedAt.is_null())
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "an approved version is never changed".into(),
            ));
        }
        self.wrote();
        Ok(())
    }

    /// Deletes a draft version. An approved version is never deleted: `Conflict`.
    pub async fn delete_document_version(&mut self, id: Uuid) -> Result<(), StoreError> {
        let r = document_version::Entity::delete_many()
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::Id.eq(id))
            .filter(document_version::Column::ApprovedAt.is_null())
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "an approved version cannot be deleted".into(),
            ));
        }
        self.wrote();
        Ok(())
    }

    /// Approves a draft: the one change an approved version ever sees. `Conflict` when it was
    /// already approved (a concurrent approval included).
    pub async fn approve_document_version(
        &mut self,
        id: Uuid,
        a: &VersionApproval,
    ) -> Result<(), StoreError> {
        let r = document_version::Entity::update_many()
            .col_expr(
                document_version::Column::ApprovedBy,
                a.approved_by.clone().into(),
            )
            .col_expr(document_version::Column::ApproverId, a.approver_id.into())
            .col_expr(document_version::Column::ApprovedAt, a.approved_at.into())
            .col_expr(document_version::Column::UpdatedAt, a.approved_at.into())
            .col_expr(
                document_version::Column::EffectiveDate,
                a.effective_date.into(),
            )
            .filter(document_version::Column::TenantId.eq(self.tenant_uuid()))
            .filter(document_version::Column::Id.eq(id))
            .filter(document_version::Column::ApprovedAt.is_null())
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "the version is already approved".into(),
            ));
        }
        self.wrote();
        Ok(())
    }

    // ---- objectives ---------------------------------------------------------------------

    fn objectives_query(&self, isms_id: Uuid) -> Select<objective::Entity> {
        objective::Entity::find()
            .filter(objective::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective::Column::IsmsId.eq(isms_id))
    }

    pub async fn objectives(
        &self,
        isms_id: Uuid,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<objective::Model>, StoreError> {
        let q = req.apply(self.objectives_query(isms_id), objective::Column::Id, |k| {
            (*k).into()
        });
        Ok(req.finish(q.all(&self.tx).await?))
    }

    pub async fn objective_count(&self, isms_id: Uuid) -> Result<u64, StoreError> {
        Ok(self.objectives_query(isms_id).count(&self.tx).await?)
    }

    pub async fn objective(&self, id: Uuid) -> Result<Option<objective::Model>, StoreError> {
        Ok(objective::Entity::find()
            .filter(objective::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    pub async fn insert_objective(&mut self, mut m: objective::Model) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        objective::Entity::insert(objective::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    pub async fn update_objective(&mut self, mut m: objective::Model) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        objective::ActiveModel::from(m)
            .reset_all()
            .update(&self.tx)
            .await
            .map_err(|e| not_updated(e, "the objective"))?;
        self.wrote();
        Ok(())
    }

    /// Deletes an objective and its results.
    pub async fn delete_objective(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let r = objective::Entity::delete_many()
            .filter(objective::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(r.rows_affected > 0)
    }

    /// The results of the given objectives, in one query, by objective then date measured.
    pub async fn objective_results_of(
        &self,
        objectives: &[Uuid],
    ) -> Result<Vec<objective_result::Model>, StoreError> {
        if objectives.is_empty() {
            return Ok(Vec::new());
        }
        Ok(objective_result::Entity::find()
            .filter(objective_result::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective_result::Column::ObjectiveId.is_in(objectives.iter().copied()))
            .order_by_asc(objective_result::Column::ObjectiveId)
            .order_by_asc(objective_result::Column::MeasuredOn)
            .order_by_asc(objective_result::Column::RecordedAt)
            .order_by_asc(objective_result::Column::Id)
            .all(&self.tx)
            .await?)
    }

    pub async fn objective_result(
        &self,
        id: Uuid,
    ) -> Result<Option<objective_result::Model>, StoreError> {
        Ok(objective_result::Entity::find()
            .filter(objective_result::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective_result::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    pub async fn insert_objective_result(
        &mut self,
        mut m: objective_result::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        objective_result::Entity::insert(objective_result::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    pub async fn delete_objective_result(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let r = objective_result::Entity::delete_many()
            .filter(objective_result::Column::TenantId.eq(self.tenant_uuid()))
            .filter(objective_result::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(r.rows_affected > 0)
    }

    // ---- training -----------------------------------------------------------------------

    fn courses_query(&self) -> Select<training_course::Entity> {
        training_course::Entity::find()
            .filter(training_course::Column::TenantId.eq(self.tenant_uuid()))
    }

    pub async fn training_courses(
        &self,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<training_course::Model>, StoreError> {
        let q = req.apply(self.courses_query(), training_course::Column::Id, |k| {
            (*k).into()
        });
        Ok(req.finish(q.all(&self.tx).await?))
    }

    pub async fn training_course_count(&self) -> Result<u64, StoreError> {
        Ok(self.courses_query().count(&self.tx).await?)
    }

    pub async fn training_course(
        &self,
        id: Uuid,
    ) -> Result<Option<training_course::Model>, StoreError> {
        Ok(self
            .courses_query()
            .filter(training_course::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The given courses, in one query.
    pub async fn training_courses_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<training_course::Model>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .courses_query()
            .filter(training_course::Column::Id.is_in(ids.iter().copied()))
            .all(&self.tx)
            .await?)
    }

    /// Inserts a course; a title the tenant already uses is a `Conflict`.
    pub async fn insert_training_course(
        &mut self,
        mut m: training_course::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        training_course::Entity::insert(training_course::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    pub async fn update_training_course(
        &mut self,
        mut m: training_course::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        training_course::ActiveModel::from(m)
            .reset_all()
            .update(&self.tx)
            .await
            .map_err(|e| not_updated(e, "the course"))?;
        self.wrote();
        Ok(())
    }

    /// Deletes a course and its assignments.
    pub async fn delete_training_course(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let r = training_course::Entity::delete_many()
            .filter(training_course::Column::TenantId.eq(self.tenant_uuid()))
            .filter(training_course::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(r.rows_affected > 0)
    }

    fn assignments_query(&self, f: &AssignmentFilter) -> Select<training_assignment::Entity> {
        use training_assignment::Column as C;
        let mut q = training_assignment::Entity::find().filter(C::TenantId.eq(self.tenant_uuid()));
        if let Some(u) = f.user_id {
            q = q.filter(C::UserId.eq(u));
        }
        if let Some(c) = f.course_id {
            q = q.filter(C::CourseId.eq(c));
        }
        // The same rule as `grc_domain::isms::training_status`.
        match f.status {
            Some(TrainingStatus::Completed) => q.filter(C::CompletedOn.is_not_null()),
            Some(TrainingStatus::Overdue) => q
                .filter(C::CompletedOn.is_null())
                .filter(C::DueDate.lt(f.today)),
            Some(TrainingStatus::Open) => q
                .filter(C::CompletedOn.is_null())
                .filter(C::DueDate.gte(f.today)),
            None => q,
        }
    }

    pub async fn training_assignments(
        &self,
        f: &AssignmentFilter,
        req: &PageRequest<Uuid>,
    ) -> Result<Page<training_assignment::Model>, StoreError> {
        let q = req.apply(
            self.assignments_query(f),
            training_assignment::Column::Id,
            |k| (*k).into(),
        );
        Ok(req.finish(q.all(&self.tx).await?))
    }

    pub async fn training_assignment_count(&self, f: &AssignmentFilter) -> Result<u64, StoreError> {
        Ok(self.assignments_query(f).count(&self.tx).await?)
    }

    pub async fn training_assignment(
        &self,
        id: Uuid,
    ) -> Result<Option<training_assignment::Model>, StoreError> {
        Ok(training_assignment::Entity::find()
            .filter(training_assignment::Column::TenantId.eq(self.tenant_uuid()))
            .filter(training_assignment::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    pub async fn insert_training_assignment(
        &mut self,
        mut m: training_assignment::Model,
    ) -> Result<(), StoreError> {
        m.tenant_id = self.tenant_uuid();
        training_assignment::Entity::insert(training_assignment::ActiveModel::from(m).reset_all())
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Records a completion on an open assignment; `Conflict` when one is recorded already.
    pub async fn complete_training_assignment(
        &mut self,
        id: Uuid,
        completed_on: NaiveDate,
        evidence: Option<String>,
        recorded_by: String,
    ) -> Result<(), StoreError> {
        use training_assignment::Column as C;
        let r = training_assignment::Entity::update_many()
            .col_expr(C::CompletedOn, completed_on.into())
            .col_expr(C::Evidence, evidence.into())
            .col_expr(C::CompletionRecordedBy, Some(recorded_by).into())
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::Id.eq(id))
            .filter(C::CompletedOn.is_null())
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "the training is already completed".into(),
            ));
        }
        self.wrote();
        Ok(())
    }

    pub async fn delete_training_assignment(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let r = training_assignment::Entity::delete_many()
            .filter(training_assignment::Column::TenantId.eq(self.tenant_uuid()))
            .filter(training_assignment::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(r.rows_affected > 0)
    }

    // ---- readiness ----------------------------------------------------------------------

    /// The readiness inputs this feature holds for an ISMS on `today`: for every mandatory
    /// documented information kept as a document, the state of the best document fulfilling
    /// it (approved in effect first, then review not overdue, then the latest review date);
    /// then `objectives` (present when the ISMS has one), `monitoring-results` (present when an
    /// objective has a result) and `competence` (present when a training was completed). Five
    /// queries, whatever the data.
    pub async fn readiness_records(
        &self,
        isms_id: Uuid,
        today: NaiveDate,
    ) -> Result<Vec<(&'static str, DocumentState)>, StoreError> {
        let t = self.tenant_uuid();
        let docs = document::Entity::find()
            .filter(document::Column::TenantId.eq(t))
            .filter(document::Column::IsmsId.eq(isms_id))
            .filter(document::Column::Fulfils.is_not_null())
            .all(&self.tx)
            .await?;
        let ids: Vec<Uuid> = docs.iter().map(|d| d.id).collect();
        let mut versions: HashMap<Uuid, Vec<VersionState>> = HashMap::new();
        if !ids.is_empty() {
            let rows = document_version::Entity::find()
                .filter(document_version::Column::TenantId.eq(t))
                .filter(document_version::Column::DocumentId.is_in(ids))
                .filter(document_version::Column::ApprovedAt.is_not_null())
                .filter(document_version::Column::EffectiveDate.lte(today))
                .all(&self.tx)
                .await?;
            for v in rows {
                versions
                    .entry(v.document_id)
                    .or_default()
                    .push(VersionState {
                        number: v.number,
                        approved_at: v.approved_at,
                        effective_date: v.effective_date,
                    });
            }
        }
        let mut out = Vec::new();
        for m in MANDATORY_DOCUMENTS
            .iter()
            .filter(|m| m.source == DocumentSource::Document)
        {
            let best = docs
                .iter()
                .filter(|d| d.fulfils.as_deref() == Some(m.key))
                .map(|d| DocumentState {
                    present: true,
                    approved: versions
                        .get(&d.id)
                        .is_some_and(|v| current_version(v, today).is_some()),
                    next_review: d.next_review_date,
                })
                .max_by_key(|s| {
                    (
                        s.approved,
                        s.next_review.is_none_or(|r| r >= today),
                        s.next_review,
                    )
                });
            out.push((m.key, best.unwrap_or_default()));
        }
        let objective_ids: Vec<Uuid> = self
            .objectives_query(isms_id)
            .select_only()
            .column(objective::Column::Id)
            .into_tuple::<Uuid>()
            .all(&self.tx)
            .await?;
        let has_result = !objective_ids.is_empty()
            && objective_result::Entity::find()
                .filter(objective_result::Column::TenantId.eq(t))
                .filter(objective_result::Column::ObjectiveId.is_in(objective_ids.iter().copied()))
                .one(&self.tx)
                .await?
                .is_some();
        let completed = training_assignment::Entity::find()
            .filter(training_assignment::Column::TenantId.eq(t))
            .filter(training_assignment::Column::CompletedOn.is_not_null())
            .one(&self.tx)
            .await?
            .is_some();
        let record = |present: bool| DocumentState {
            present,
            approved: present,
            next_review: None,
        };
        out.push(("objectives", record(!objective_ids.is_empty())));
        out.push(("monitoring-results", record(has_result)));
        out.push(("competence", record(completed)));
        Ok(out)
    }
}
