//! Audit, improvement and review repositories: internal audit programmes, audits and their
//! findings (9.2), nonconformities and corrective actions (10.2), management reviews and their
//! actions (9.3), and what the certification readiness view needs from them.
//!
//! Writes take whole rows (the API validates them against the domain rules first); the tenant
//! column is always this transaction's, whatever the row says.

use super::isms::sql;
use super::ops::{opt_eq, page_of, row_ops};
use crate::entity::audits::{
    audit_finding, audit_programme, internal_audit, management_review, nonconformity, review_action,
};
use crate::{Page, PageRequest, StoreError, TenantTx};
use chrono::{Months, NaiveDate};
use grc_domain::isms::DocumentState;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Statement,
};
use uuid::Uuid;

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub programme_id: Option<Uuid>,
    pub isms_id: Option<Uuid>,
    pub status: Option<String>,
}

/// Filters of the nonconformity register.
#[derive(Debug, Clone, Default)]
pub struct NonconformityFilter {
    pub isms_id: Option<Uuid>,
    pub status: Option<String>,
    pub owner_id: Option<Uuid>,
    /// Overdue (`true`) or not (`false`) on `today`: not closed and due before today.
    pub overdue: Option<(bool, NaiveDate)>,
}

/// Filters of the management review list.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub isms_id: Option<Uuid>,
    pub status: Option<String>,
}

impl TenantTx {
    row_ops!(
        audit_programme,
        insert_audit_programme,
        update_audit_programme,
        audit_programme
    );
    row_ops!(
        internal_audit,
        insert_internal_audit,
        update_internal_audit,
        internal_audit
    );
    row_ops!(
        audit_finding,
        insert_audit_finding,
        update_audit_finding,
        audit_finding
    );
    row_ops!(
        nonconformity,
        insert_nonconformity,
        update_nonconformity,
        nonconformity
    );
    row_ops!(
        management_review,
        insert_management_review,
        update_management_review,
        management_review
    );
    row_ops!(
        review_action,
        insert_review_action,
        update_review_action,
        review_action
    );

    /// A page of audit programmes (optionally of one ISMS), oldest first, and the total.
    pub async fn audit_programmes(
        &self,
        isms_id: Option<Uuid>,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<audit_programme::Model>, u64), StoreError> {
        let cond = opt_eq(Condition::all(), audit_programme::Column::IsmsId, isms_id);
        page_of!(self, audit_programme, cond, req, want_total)
    }

    /// A page of internal audits, oldest first, and the total.
    pub async fn internal_audits(
        &self,
        f: &AuditFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<internal_audit::Model>, u64), StoreError> {
        let mut cond = opt_eq(
            Condition::all(),
            internal_audit::Column::ProgrammeId,
            f.programme_id,
        );
        cond = opt_eq(cond, internal_audit::Column::Status, f.status.clone());
        if let Some(isms) = f.isms_id {
            let programmes: Vec<Uuid> = audit_programme::Entity::find()
                .filter(audit_programme::Column::TenantId.eq(self.tenant_uuid()))
                .filter(audit_programme::Column::IsmsId.eq(isms))
                .all(&self.tx)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            cond = cond.add(internal_audit::Column::ProgrammeId.is_in(programmes));
        }
        page_of!(self, internal_audit, cond, req, want_total)
    }

    /// The findings of several audits in one query, oldest first, each with the id of the
    /// nonconformity it raised (a second query), for a whole page of audits.
    pub async fn findings_of_audits(
        &self,
        audits: &[Uuid],
    ) -> Result<Vec<(audit_finding::Model, Option<Uuid>)>, StoreError> {
        if audits.is_empty() {
            return Ok(Vec::new());
        }
        let findings = audit_finding::Entity::find()
            .filter(audit_finding::Column::TenantId.eq(self.tenant_uuid()))
            .filter(audit_finding::Column::AuditId.is_in(audits.iter().copied()))
            .order_by_asc(audit_finding::Column::Id)
            .all(&self.tx)
            .await?;
        let raised = self
            .nonconformities_of_findings(&findings.iter().map(|f| f.id).collect::<Vec<_>>())
            .await?;
        Ok(findings
            .into_iter()
            .map(|f| {
                let nc = raised.iter().find(|(fid, _)| *fid == f.id).map(|(_, n)| *n);
                (f, nc)
            })
            .collect())
    }

    /// `(finding id, nonconformity id)` for the nonconformities these findings raised.
    pub async fn nonconformities_of_findings(
        &self,
        findings: &[Uuid],
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        if findings.is_empty() {
            return Ok(Vec::new());
        }
        Ok(nonconformity::Entity::find()
            .filter(nonconformity::Column::TenantId.eq(self.tenant_uuid()))
            .filter(nonconformity::Column::FindingId.is_in(findings.iter().copied()))
            .all(&self.tx)
            .await?
            .into_iter()
            .filter_map(|n| n.finding_id.map(|f| (f, n.id)))
            .collect())
    }

    /// A page of the nonconformity register, oldest first, and the total.
    pub async fn nonconformities(
        &self,
        f: &NonconformityFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<nonconformity::Model>, u64), StoreError> {
        use nonconformity::Column as C;
        let mut cond = opt_eq(Condition::all(), C::IsmsId, f.isms_id);
        cond = opt_eq(cond, C::Status, f.status.clone());
        cond = opt_eq(cond, C::OwnerId, f.owner_id);
        if let Some((overdue, today)) = f.overdue {
            cond = cond.add(if overdue {
                Condition::all()
                    .add(C::Status.ne("closed"))
                    .add(C::DueDate.lt(today))
            } else {
                Condition::any()
                    .add(C::Status.eq("closed"))
                    .add(C::DueDate.is_null())
                    .add(C::DueDate.gte(today))
            });
        }
        page_of!(self, nonconformity, cond, req, want_total)
    }

    /// A page of management reviews, oldest first, and the total.
    pub async fn management_reviews(
        &self,
        f: &ReviewFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<management_review::Model>, u64), StoreError> {
        let cond = opt_eq(
            Condition::all(),
            management_review::Column::IsmsId,
            f.isms_id,
        );
        let cond = opt_eq(cond, management_review::Column::Status, f.status.clone());
        page_of!(self, management_review, cond, req, want_total)
    }

    /// The actions of several reviews in one query, oldest first.
    pub async fn actions_of_reviews(
        &self,
        reviews: &[Uuid],
    ) -> Result<Vec<review_action::Model>, StoreError> {
        if reviews.is_empty() {
            return Ok(Vec::new());
        }
        Ok(review_action::Entity::find()
            .filter(review_action::Column::TenantId.eq(self.tenant_uuid()))
            .filter(review_action::Column::ReviewId.is_in(reviews.iter().copied()))
            .order_by_asc(review_action::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// Readiness of the audit, review and improvement records of an ISMS on `today` (one
    /// query): "audit-programme" (present with at least one completed audit; next review at
    /// the latest programme's period end), "management-review-results" (present with a
    /// completed review; next review twelve months after the latest one was held) and
    /// "nonconformities" (the register always exists; approved when nothing is overdue).
    pub async fn readiness_audits(
        &self,
        isms_id: Uuid,
        today: NaiveDate,
    ) -> Result<Vec<(&'static str, DocumentState)>, StoreError> {
        let backend = self.tx.get_database_backend();
        let row = self
            .tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(
                    backend,
                    "SELECT
                       (SELECT CAST(max(p.period_end) AS text) FROM audit_programmes p
                          WHERE p.tenant_id = $1 AND p.isms_id = $2) AS programme_end,
                       (SELECT count(*) FROM internal_audits a JOIN audit_programmes p
                          ON p.tenant_id = a.tenant_id AND p.id = a.programme_id
                          WHERE a.tenant_id = $1 AND p.isms_id = $2 AND a.status = 'completed') AS completed_audits,
                       (SELECT CAST(max(r.held_on) AS text) FROM management_reviews r
                          WHERE r.tenant_id = $1 AND r.isms_id = $2 AND r.status = 'completed') AS last_review,
                       (SELECT count(*) FROM nonconformities n
                          WHERE n.tenant_id = $1 AND n.isms_id = $2 AND n.status <> 'closed'
                            AND n.due_date < $3) AS overdue",
                ),
                [self.tenant_uuid().into(), isms_id.into(), today.into()],
            ))
            .await?
            .ok_or_else(|| StoreError::Invalid("readiness query returned no row".into()))?;
        let date = |col: &str| -> Result<Option<NaiveDate>, StoreError> {
            row.try_get::<Option<String>>("", col)?
                .map(|s| {
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                        .map_err(|e| StoreError::Invalid(format!("{col}: {s:?}: {e}")))
                })
                .transpose()
        };
        let programme_end = date("programme_end")?;
        let last_review = date("last_review")?;
        let completed: i64 = row.try_get("", "completed_audits")?;
        let overdue: i64 = row.try_get("", "overdue")?;
        Ok(vec![
            (
                "audit-programme",
                DocumentState {
                    present: completed > 0,
                    approved: true,
                    next_review: programme_end,
                },
            ),
            (
                "management-review-results",
                DocumentState {
                    present: last_review.is_some(),
                    approved: true,
                    next_review: last_review.and_then(|d| d.checked_add_months(Months::new(12))),
                },
            ),
            (
                "nonconformities",
                DocumentState {
                    present: true,
                    approved: overdue == 0,
                    next_review: None,
                },
            ),
        ])
    }
}
