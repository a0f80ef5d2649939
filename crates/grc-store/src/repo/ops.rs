//! What the tenant repositories of whole rows share: insert, update, get and delete by id in
//! the transaction's tenant, keyset pages with an optional total, and optional equality
//! filters. The macros expand inside `impl TenantTx`; the caller imports the sea-orm traits,
//! `StoreError` and `Uuid` they name.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::Condition;

macro_rules! row_ops {
    ($m:ident, $insert:ident, $update:ident, $get:ident) => {
        /// Inserts a row in this tenant.
        pub async fn $insert(&mut self, mut row: $m::Model) -> Result<$m::Model, StoreError> {
            row.tenant_id = self.tenant_uuid();
            let m = row.into_active_model().reset_all().insert(&self.tx).await?;
            self.wrote();
            Ok(m)
        }

        /// Writes every column of a row of this tenant (found by its key).
        pub async fn $update(&mut self, mut row: $m::Model) -> Result<$m::Model, StoreError> {
            row.tenant_id = self.tenant_uuid();
            let m = row.into_active_model().reset_all().update(&self.tx).await?;
            self.wrote();
            Ok(m)
        }

        /// One row of this tenant.
        pub async fn $get(&self, id: Uuid) -> Result<Option<$m::Model>, StoreError> {
            Ok($m::Entity::find()
                .filter($m::Column::TenantId.eq(self.tenant_uuid()))
                .filter($m::Column::Id.eq(id))
                .one(&self.tx)
                .await?)
        }
    };
}

pub(crate) use row_ops;

macro_rules! delete_op {
    ($m:ident, $delete:ident) => {
        /// Deletes a row of this tenant; whether there was one.
        pub async fn $delete(&mut self, id: Uuid) -> Result<bool, StoreError> {
            let n = $m::Entity::delete_many()
                .filter($m::Column::TenantId.eq(self.tenant_uuid()))
                .filter($m::Column::Id.eq(id))
                .exec(&self.tx)
                .await?;
            if n.rows_affected == 0 {
                return Ok(false);
            }
            self.wrote();
            Ok(true)
        }
    };
}

pub(crate) use delete_op;

macro_rules! page_of {
    ($self:ident, $m:ident, $cond:expr, $req:expr, $want_total:expr) => {{
        let base = $m::Entity::find()
            .filter($m::Column::TenantId.eq($self.tenant_uuid()))
            .filter($cond);
        let total = if $want_total {
            base.clone().count(&$self.tx).await?
        } else {
            0
        };
        let rows = $req
            .apply(base, $m::Column::Id, |k: &Uuid| (*k).into())
            .all(&$self.tx)
            .await?;
        Ok(($req.finish(rows), total))
    }};
}

pub(crate) use page_of;

/// `c` and, when `v` is given, `col = v`.
pub(crate) fn opt_eq<C: ColumnTrait, V: Into<sea_orm::Value>>(
    c: Condition,
    col: C,
    v: Option<V>,
) -> Condition {
    match v {
        Some(v) => c.add(col.eq(v)),
        None => c,
    }
}
