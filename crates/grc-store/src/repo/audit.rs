//! The audit chain: append (in the changing transaction), list, verify.

use crate::entity::{audit_event, audit_head};
use crate::{Page, PageRequest, Store, StoreError, TenantScope, TenantTx};
use chrono::Utc;
use grc_domain::audit::{
    Actor, AuditRecord, ChainBreak, ChainSummary, change_digest, event_hash, truncate_to_micros,
    verify_chain,
};
use grc_domain::ids::TenantId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

/// What a change records.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    /// `noun.verb`, e.g. `member.add`.
    pub action: String,
    /// The GraphQL type of the subject, e.g. `Membership`.
    pub subject_type: String,
    pub subject_id: String,
    /// The change: new values, and old ones where something was replaced.
    pub change: serde_json::Value,
}

/// The result of verifying one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    pub tenant_id: TenantId,
    pub result: Result<ChainSummary, ChainBreak>,
}

fn to_record(m: audit_event::Model) -> AuditRecord {
    AuditRecord {
        tenant_id: m.tenant_id,
        seq: m.seq,
        id: m.id,
        occurred_at: m.occurred_at,
        actor: m.actor,
        action: m.action,
        subject_type: m.subject_type,
        subject_id: m.subject_id,
        change: m.change,
        change_digest: m.change_digest,
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

impl TenantTx {
    /// Appends an event to the tenant's chain in this transaction. The chain head's row lock
    /// (PostgreSQL) or the single writer (SQLite) serializes concurrent appends.
    pub async fn append_audit(&mut self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        let tenant = self.tenant_uuid();
        self.append_audit_in(tenant, entry).await
    }

    /// Appends to `tenant`'s chain: this transaction's tenant, or (from
    /// [`TenantTx::notify_peer`] only, with the transaction switched into the peer) a peer's.
    pub(crate) async fn append_audit_in(
        &mut self,
        tenant: Uuid,
        entry: AuditEntry,
    ) -> Result<AuditRecord, StoreError> {
        let mut head_q = audit_head::Entity::find().filter(audit_head::Column::TenantId.eq(tenant));
        if self.tx.get_database_backend() == DbBackend::Postgres {
            head_q = head_q.lock_exclusive();
        }
        let head = head_q
            .one(&self.tx)
            .await?
            .ok_or_else(|| StoreError::Invalid("the tenant has no audit chain head".into()))?;
        let change = entry.change.to_string();
        let mut rec = AuditRecord {
            tenant_id: tenant,
            seq: head.last_seq + 1,
            id: Uuid::now_v7(),
            occurred_at: truncate_to_micros(Utc::now()),
            actor: entry.actor.to_stored(),
            action: entry.action,
            subject_type: entry.subject_type,
            subject_id: entry.subject_id,
            change_digest: change_digest(&change),
            change,
            prev_hash: head.last_hash,
            hash: String::new(),
        };
        rec.hash = event_hash(&rec);
        audit_event::ActiveModel {
            tenant_id: Set(rec.tenant_id),
            seq: Set(rec.seq),
            id: Set(rec.id),
            occurred_at: Set(rec.occurred_at),
            actor: Set(rec.actor.clone()),
            action: Set(rec.action.clone()),
            subject_type: Set(rec.subject_type.clone()),
            subject_id: Set(rec.subject_id.clone()),
            change: Set(rec.change.clone()),
            change_digest: Set(rec.change_digest.clone()),
            prev_hash: Set(rec.prev_hash.clone()),
            hash: Set(rec.hash.clone()),
        }
        .insert(&self.tx)
        .await?;
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::LastSeq, rec.seq.into())
            .col_expr(audit_head::Column::LastHash, rec.hash.clone().into())
            .filter(audit_head::Column::TenantId.eq(tenant))
            .exec(&self.tx)
            .await?;
        self.audited();
        self.appended.push(rec.clone());
        Ok(rec)
    }

    fn events_query(&self) -> sea_orm::Select<audit_event::Entity> {
        audit_event::Entity::find().filter(audit_event::Column::TenantId.eq(self.tenant_uuid()))
    }

    /// One page of events by `seq`.
    pub async fn audit_events(
        &self,
        page: &PageRequest<i64>,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let q = page.apply(self.events_query(), audit_event::Column::Seq, |k| {
            (*k).into()
        });
        let rows = q.all(&self.tx).await?;
        Ok(page.finish(rows.into_iter().map(to_record).collect()))
    }

    /// The sequence number of the tenant's latest audit event. Every change to a tenant's rows
    /// appends an event in the same transaction, so an unchanged number means unchanged rows:
    /// a cheap version for caches of tenant data.
    pub async fn audit_seq(&self) -> Result<i64, StoreError> {
        Ok(audit_head::Entity::find()
            .filter(audit_head::Column::TenantId.eq(self.tenant_uuid()))
            .one(&self.tx)
            .await?
            .map(|h| h.last_seq)
            .unwrap_or(0))
    }

    pub async fn audit_event_count(&self) -> Result<u64, StoreError> {
        Ok(self.events_query().count(&self.tx).await?)
    }

    pub async fn audit_event(&self, id: Uuid) -> Result<Option<AuditRecord>, StoreError> {
        Ok(self
            .events_query()
            .filter(audit_event::Column::Id.eq(id))
            .one(&self.tx)
            .await?
            .map(to_record))
    }

    /// Verifies the whole chain of this tenant.
    pub async fn verify_audit_chain(&self) -> Result<Result<ChainSummary, ChainBreak>, StoreError> {
        let events = self
            .events_query()
            .order_by_asc(audit_event::Column::Seq)
            .all(&self.tx)
            .await?;
        let head = audit_head::Entity::find()
            .filter(audit_head::Column::TenantId.eq(self.tenant_uuid()))
            .one(&self.tx)
            .await?;
        let head = head
            .as_ref()
            .and_then(|h| (h.last_seq > 0).then_some((h.last_seq, h.last_hash.as_str())));
        Ok(verify_chain(events.into_iter().map(to_record), head))
    }
}

impl Store {
    /// Verifies the audit chains of `tenants` (all tenants when `None`).
    pub async fn verify_audit(
        &self,
        tenants: Option<Vec<TenantId>>,
    ) -> Result<Vec<AuditVerification>, StoreError> {
        let ids = match tenants {
            Some(ids) => ids,
            None => {
                let ptx = self.platform_tx().await?;
                let all = ptx.all_tenants().await?;
                ptx.commit().await?;
                all.into_iter().map(|t| t.id).collect()
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for tenant_id in ids {
            let tx = self.tenant_tx(TenantScope::new(tenant_id)).await?;
            let result = tx.verify_audit_chain().await?;
            tx.commit().await?;
            out.push(AuditVerification { tenant_id, result });
        }
        Ok(out)
    }
}
