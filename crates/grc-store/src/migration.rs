//! Migrations. Each is written as SQL for each backend, so that the schema a reviewer reads is the
//! schema the database holds: composite tenant keys, check constraints and, on PostgreSQL,
//! row-level security (ENABLE and FORCE) on every tenant-owned table.
//!
//! Every migration runs in a transaction on both backends: all or nothing.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

/// The tenant-owned tables: each has `tenant_id` in its primary key and a row-level security
/// policy on PostgreSQL. A test checks this list against the database's catalog.
pub const TENANT_OWNED_TABLES: &[&str] =
    &["memberships", "api_keys", "audit_events", "audit_heads"];

/// The platform tables: shared by all tenants, no tenant column (Citus reference tables).
pub const PLATFORM_TABLES: &[&str] = &["tenants", "users"];

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Foundation)]
    }
}

struct Foundation;

impl MigrationName for Foundation {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

const FOUNDATION_POSTGRES: &str = r#"
CREATE FUNCTION grc_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION grc_current_user() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{0,61}[a-z0-9]$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('covered-entity', 'business-associate', 'hybrid')),
  created_at timestamptz NOT NULL
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  subject text NOT NULL UNIQUE,
  email text NOT NULL UNIQUE,
  display_name text NOT NULL,
  platform_operator boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);

CREATE TABLE memberships (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  user_id uuid NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('owner', 'compliance_manager', 'contributor', 'auditor', 'viewer')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE api_keys (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'compliance_manager', 'contributor', 'auditor', 'viewer')),
  secret_hash text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE audit_events (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  seq bigint NOT NULL CHECK (seq > 0),
  id uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  change text NOT NULL,
  change_digest text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, id)
);

CREATE TABLE audit_heads (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  last_seq bigint NOT NULL,
  last_hash text NOT NULL,
  PRIMARY KEY (tenant_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['memberships', 'api_keys', 'audit_events', 'audit_heads'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = grc_current_tenant()) WITH CHECK (tenant_id = grc_current_tenant())',
      t);
  END LOOP;
END $$;

-- A user may read their own memberships in every tenant (to list them and pick one);
-- writing a membership still takes the tenant's scope.
CREATE POLICY member_reads_own ON memberships FOR SELECT USING (user_id = grc_current_user());

-- Authentication's hot path in one round trip: scope the statement to the user (the setting is
-- transaction-local, so outside an explicit transaction it ends with this statement), then read
-- that user's memberships under the policies above. Runs with the caller's rights.
CREATE FUNCTION grc_user_memberships(p_user uuid)
RETURNS TABLE (tenant_id uuid, role text, created_at timestamptz, updated_at timestamptz,
               slug text, name text, kind text, tenant_created_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.user_id', p_user::text, true);
  RETURN QUERY
    SELECT m.tenant_id, m.role, m.created_at, m.updated_at, t.slug, t.name, t.kind, t.created_at
    FROM memberships m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.user_id = p_user
    ORDER BY t.slug;
END $$;
"#;

const FOUNDATION_SQLITE: &str = r#"
CREATE TABLE tenants (
  id blob PRIMARY KEY NOT NULL,
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('covered-entity', 'business-associate', 'hybrid')),
  created_at text NOT NULL
);
CREATE TABLE users (
  id blob PRIMARY KEY NOT NULL,
  subject text NOT NULL UNIQUE,
  email text NOT NULL UNIQUE,
  display_name text NOT NULL,
  platform_operator boolean NOT NULL DEFAULT false,
  created_at text NOT NULL
);
CREATE TABLE memberships (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  user_id blob NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('owner', 'compliance_manager', 'contributor', 'auditor', 'viewer')),
  created_at text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id);
CREATE TABLE api_keys (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  id blob NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'compliance_manager', 'contributor', 'auditor', 'viewer')),
  secret_hash text NOT NULL,
  created_by text NOT NULL,
  created_at text NOT NULL,
  revoked_at text,
  last_used_at text,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE TABLE audit_events (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  seq integer NOT NULL CHECK (seq > 0),
  id blob NOT NULL,
  occurred_at text NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  change text NOT NULL,
  change_digest text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, id)
) WITHOUT ROWID;
CREATE TABLE audit_heads (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  last_seq integer NOT NULL,
  last_hash text NOT NULL,
  PRIMARY KEY (tenant_id)
) WITHOUT ROWID;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Foundation {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => FOUNDATION_POSTGRES,
            DbBackend::Sqlite => FOUNDATION_SQLITE,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
