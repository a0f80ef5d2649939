//! ISMS repositories: evidence metadata and its links. The files are in the object store
//! ([`crate::objects`]); the API writes the object before the row and removes it if the row's
//! transaction fails.

use super::isms::sql;
use crate::entity::evidence::{evidence, link};
use crate::{Page, PageRequest, StoreError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use std::collections::HashMap;
use uuid::Uuid;

/// What evidence supports. Stored as `control`, `requirement`, `risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceTargetKind {
    /// A catalog control (Annex A, ISO 27701, a tenant's own control).
    Control,
    /// A catalog requirement (ISO 27001 clauses 4–10, HIPAA standards and specifications).
    Requirement,
    /// A risk of the tenant's register.
    Risk,
}

impl EvidenceTargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Control => "control",
            Self::Requirement => "requirement",
            Self::Risk => "risk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "control" => Some(Self::Control),
            "requirement" => Some(Self::Requirement),
            "risk" => Some(Self::Risk),
            _ => None,
        }
    }
}

/// One link of an evidence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EvidenceLink {
    pub kind: EvidenceTargetKind,
    pub target: Uuid,
}

/// An evidence file's metadata as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub object_key: String,
    pub effective_date: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// The actor, stored form (`user:<id>`, `api_key:<id>`).
    pub uploaded_by: String,
    /// The uploading user (the record's owner); `None` for an API key.
    pub uploader_id: Option<Uuid>,
    pub uploaded_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<evidence::Model> for EvidenceRecord {
    fn from(m: evidence::Model) -> Self {
        Self {
            id: m.id,
            title: m.title,
            description: m.description,
            filename: m.filename,
            media_type: m.media_type,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            object_key: m.object_key,
            effective_date: m.effective_date,
            expires_on: m.expires_on,
            uploaded_by: m.uploaded_by,
            uploader_id: m.uploader_id,
            uploaded_at: m.uploaded_at,
            archived_at: m.archived_at,
        }
    }
}

/// Which evidence a list shows.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFilter {
    /// Linked to this catalog control or requirement.
    pub control: Option<Uuid>,
    /// Linked to this risk.
    pub risk: Option<Uuid>,
    /// `Some(true)`: only evidence whose expiry date lies before `today`; `Some(false)`: only
    /// evidence still valid (no expiry date, or one on or after `today`).
    pub expired: Option<bool>,
    /// The date `expired` is judged against.
    pub today: Option<NaiveDate>,
    pub include_archived: bool,
}

impl EvidenceFilter {
    fn condition(&self, tenant: Uuid) -> Condition {
        let mut c = Condition::all().add(evidence::Column::TenantId.eq(tenant));
        if !self.include_archived {
            c = c.add(evidence::Column::ArchivedAt.is_null());
        }
        let linked = |kinds: &[&str], target: Uuid| {
            evidence::Column::Id.in_subquery(
                Query::select()
                    .column(link::Column::EvidenceId)
                    .from(link::Entity)
                    .and_where(link::Column::TenantId.eq(tenant))
                    .and_where(link::Column::TargetId.eq(target))
                    .and_where(link::Column::TargetKind.is_in(kinds.iter().copied()))
                    .to_owned(),
            )
        };
        if let Some(control) = self.control {
            c = c.add(linked(&["control", "requirement"], control));
        }
        if let Some(risk) = self.risk {
            c = c.add(linked(&["risk"], risk));
        }
        if let (Some(expired), Some(today)) = (self.expired, self.today) {
            c = c.add(if expired {
                Condition::all()
                    .add(evidence::Column::ExpiresOn.is_not_null())
                    .add(evidence::Column::ExpiresOn.lt(today))
            } else {
                Condition::any()
                    .add(evidence::Column::ExpiresOn.is_null())
                    .add(evidence::Column::ExpiresOn.gte(today))
            });
        }
        c
    }
}

/// The fields of a new evidence row (the object is already stored under `object_key`).
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub object_key: String,
    pub effective_date: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub uploaded_by: String,
    pub uploader_id: Option<Uuid>,
    pub uploaded_at: DateTime<Utc>,
}

impl TenantTx {
    /// Adds an evidence row and its links.
    pub async fn insert_evidence(
        &mut self,
        e: &NewEvidence,
        links: &[EvidenceLink],
    ) -> Result<EvidenceRecord, StoreError> {
        let tenant = self.tenant_uuid();
        let row = evidence::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(e.id),
            title: Set(e.title.clone()),
            description: Set(e.description.clone()),
            filename: Set(e.filename.clone()),
            media_type: Set(e.media_type.clone()),
            size_bytes: Set(e.size_bytes),
            sha256: Set(e.sha256.clone()),
            object_key: Set(e.object_key.clone()),
            effective_date: Set(e.effective_date),
            expires_on: Set(e.expires_on),
            uploaded_by: Set(e.uploaded_by.clone()),
            uploader_id: Set(e.uploader_id),
            uploaded_at: Set(e.uploaded_at),
            archived_at: Set(None),
        };
        evidence::Entity::insert(row).exec(&self.tx).await?;
        self.wrote();
        self.link_evidence(e.id, links).await?;
        self.evidence(e.id).await?.ok_or(StoreError::NotFound)
    }

    /// One evidence row of the tenant (archived ones too).
    pub async fn evidence(&self, id: Uuid) -> Result<Option<EvidenceRecord>, StoreError> {
        Ok(evidence::Entity::find()
            .filter(evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(evidence::Column::Id.eq(id))
            .one(&self.tx)
            .await?
            .map(Into::into))
    }

    /// Several evidence rows by id (for `node` and loaders); missing ids are left out.
    pub async fn evidence_by_ids(&self, ids: &[Uuid]) -> Result<Vec<EvidenceRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(evidence::Entity::find()
            .filter(evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(evidence::Column::Id.is_in(ids.iter().copied()))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A page of evidence, newest upload first (ids are UUIDv7, so id order is upload order).
    /// `Forward` pages walk towards older uploads; cursors are ids.
    pub async fn evidence_page(
        &self,
        filter: &EvidenceFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<EvidenceRecord>, StoreError> {
        let q = evidence::Entity::find().filter(filter.condition(self.tenant_uuid()));
        let q = match page {
            PageRequest::Forward { after, .. } => match after {
                Some(a) => q.filter(evidence::Column::Id.lt(*a)),
                None => q,
            }
            .order_by_desc(evidence::Column::Id),
            PageRequest::Backward { before, .. } => match before {
                Some(b) => q.filter(evidence::Column::Id.gt(*b)),
                None => q,
            }
            .order_by_asc(evidence::Column::Id),
        };
        let rows = q.limit(page.limit() + 1).all(&self.tx).await?;
        Ok(page.finish(rows).map(EvidenceRecord::from))
    }

    /// How many evidence rows the filter matches.
    pub async fn evidence_count(&self, filter: &EvidenceFilter) -> Result<u64, StoreError> {
        Ok(evidence::Entity::find()
            .filter(filter.condition(self.tenant_uuid()))
            .count(&self.tx)
            .await?)
    }

    /// The links of several evidence rows in one query, sorted per row.
    pub async fn evidence_links_of(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<EvidenceLink>>, StoreError> {
        let mut out: HashMap<Uuid, Vec<EvidenceLink>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = link::Entity::find()
            .filter(link::Column::TenantId.eq(self.tenant_uuid()))
            .filter(link::Column::EvidenceId.is_in(ids.iter().copied()))
            .all(&self.tx)
            .await?;
        for r in rows {
            let kind = EvidenceTargetKind::parse(&r.target_kind).ok_or_else(|| {
                StoreError::Invalid(format!("stored evidence link kind {:?}", r.target_kind))
            })?;
            out.entry(r.evidence_id).or_default().push(EvidenceLink {
                kind,
                target: r.target_id,
            });
        }
        for v in out.values_mut() {
            v.sort();
        }
        Ok(out)
    }

    /// Adds links (those already there are kept); returns how many were new.
    pub async fn link_evidence(
        &mut self,
        id: Uuid,
        links: &[EvidenceLink],
    ) -> Result<usize, StoreError> {
        if links.is_empty() {
            return Ok(0);
        }
        let tenant = self.tenant_uuid();
        let existing = self.evidence_links_of(&[id]).await?;
        let have = existing.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let mut new: Vec<EvidenceLink> = links
            .iter()
            .filter(|l| !have.contains(l))
            .copied()
            .collect();
        new.sort();
        new.dedup();
        if new.is_empty() {
            return Ok(0);
        }
        link::Entity::insert_many(new.iter().map(|l| link::ActiveModel {
            tenant_id: Set(tenant),
            evidence_id: Set(id),
            target_kind: Set(l.kind.as_str().to_owned()),
            target_id: Set(l.target),
        }))
        .on_conflict(
            OnConflict::columns([
                link::Column::TenantId,
                link::Column::EvidenceId,
                link::Column::TargetKind,
                link::Column::TargetId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&self.tx)
        .await?;
        self.wrote();
        Ok(new.len())
    }

    /// Removes links; returns how many there were.
    pub async fn unlink_evidence(
        &mut self,
        id: Uuid,
        links: &[EvidenceLink],
    ) -> Result<u64, StoreError> {
        let backend = self.tx.get_database_backend();
        let mut removed = 0;
        for l in links {
            let r = self
                .tx
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql(
                        backend,
                        "DELETE FROM evidence_links WHERE tenant_id = $1 AND evidence_id = $2 AND target_kind = $3 AND target_id = $4",
                    ),
                    [
                        self.tenant_uuid().into(),
                        id.into(),
                        l.kind.as_str().into(),
                        l.target.into(),
                    ],
                ))
                .await?;
            removed += r.rows_affected();
        }
        if removed > 0 {
            self.wrote();
        }
        Ok(removed)
    }

    /// Changes an evidence row's title, description and dates.
    pub async fn update_evidence(
        &mut self,
        id: Uuid,
        title: &str,
        description: &str,
        effective_date: NaiveDate,
        expires_on: Option<NaiveDate>,
    ) -> Result<(), StoreError> {
        let r = evidence::Entity::update_many()
            .col_expr(evidence::Column::Title, Expr::value(title))
            .col_expr(evidence::Column::Description, Expr::value(description))
            .col_expr(evidence::Column::EffectiveDate, Expr::value(effective_date))
            .col_expr(evidence::Column::ExpiresOn, Expr::value(expires_on))
            .filter(evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(evidence::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.wrote();
        Ok(())
    }

    /// Archives an evidence row (it stays, with its file, for what cites it).
    pub async fn archive_evidence(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let r = evidence::Entity::update_many()
            .col_expr(evidence::Column::ArchivedAt, Expr::value(at))
            .filter(evidence::Column::TenantId.eq(self.tenant_uuid()))
            .filter(evidence::Column::Id.eq(id))
            .filter(evidence::Column::ArchivedAt.is_null())
            .exec(&self.tx)
            .await?;
        if r.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.wrote();
        Ok(())
    }
}
