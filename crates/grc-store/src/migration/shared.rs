//! Helpers for migrations written once for both backends: the SQL uses `{uuid}`, `{ts}`,
//! `{date}` and `{rowid}` placeholders that [`render`] fills per backend, and the row-level
//! security and append-only clauses are added on the backends that have them.

use sea_orm::{DbBackend, DbErr};

/// Fills the type placeholders of `sql` for `backend`.
pub(crate) fn render(sql: &str, backend: DbBackend) -> Result<String, DbErr> {
    let (uuid, ts, date, rowid) = match backend {
        DbBackend::Postgres => ("uuid", "timestamptz", "date", ""),
        DbBackend::Sqlite => ("blob", "text", "text", " WITHOUT ROWID"),
        other => {
            return Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}"
            )));
        }
    };
    Ok(sql
        .replace("{uuid}", uuid)
        .replace("{ts}", ts)
        .replace("{date}", date)
        .replace("{rowid}", rowid))
}

/// PostgreSQL: enables and forces row-level security on `tables`, with the tenant policy.
pub(crate) fn tenant_policies(tables: &[&str]) -> String {
    let list = tables
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[{list}] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = grc_current_tenant()) WITH CHECK (tenant_id = grc_current_tenant())',
      t);
  END LOOP;
END $$;
"
    )
}

/// As [`tenant_policies`], with the current tenant read once per statement (an InitPlan,
/// `(SELECT grc_current_tenant())`) instead of once per row: the same rule, cheaper on large
/// scans. Used from migration 0008 on.
pub(crate) fn tenant_policies_once(tables: &[&str]) -> String {
    tenant_policies(tables).replace(
        "tenant_id = grc_current_tenant()",
        "tenant_id = (SELECT grc_current_tenant())",
    )
}

/// Triggers that refuse any UPDATE or DELETE of `table`'s rows (and, on PostgreSQL, TRUNCATE):
/// rows that are records of what was approved or assessed never change.
pub(crate) fn append_only(table: &str, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION grc_refuse_change();
             CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
               FOR EACH STATEMENT EXECUTE FUNCTION grc_refuse_change();\n"
        ),
        _ => format!(
            "CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, 'grc: {table} rows are immutable'); END;
             CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, 'grc: {table} rows are immutable'); END;\n"
        ),
    }
}
