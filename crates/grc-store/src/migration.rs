//! Migrations. Each is written as SQL for each backend, so that the schema a reviewer reads is the
//! schema the database holds: composite tenant keys, check constraints and, on PostgreSQL,
//! row-level security (ENABLE and FORCE) on every tenant-owned table.
//!
//! Every migration runs in a transaction on both backends: all or nothing.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

mod m0003_isms;
mod m0004_evidence;
mod m0005_records;
mod m0006_audits;
mod m0007_vendors;
mod m0008_sharing;
mod m0009_share_versions;
mod m0010_reminders;
mod m0011_delivery_queue;
mod m0012_incidents;
mod shared;

/// The tenant-owned tables of the first two migrations (see [`tenant_owned_tables`]).
const FOUNDATION_TENANT_TABLES: &[&str] = &[
    "memberships",
    "api_keys",
    "audit_events",
    "audit_heads",
    "custom_frameworks",
    "custom_controls",
    "tenant_mappings",
    "mapping_reviews",
    "control_texts",
];

/// The tenant-owned tables: each has `tenant_id` in its primary key and a row-level security
/// policy on PostgreSQL. A test checks this list against the database's catalog.
pub fn tenant_owned_tables() -> Vec<&'static str> {
    [
        FOUNDATION_TENANT_TABLES,
        m0003_isms::TABLES,
        m0004_evidence::TABLES,
        m0005_records::TABLES,
        m0006_audits::TABLES,
        m0007_vendors::TABLES,
        m0008_sharing::TABLES,
        m0009_share_versions::TABLES,
        m0010_reminders::TABLES,
        m0011_delivery_queue::TABLES,
        m0012_incidents::TABLES,
    ]
    .concat()
}

/// Tenant-owned tables whose rows are never updated or deleted: the application role is granted
/// only SELECT and INSERT on them, and (except the hash-chained audit events) triggers refuse
/// changes on both backends.
pub fn append_only_tables() -> Vec<&'static str> {
    [
        &["audit_events"][..],
        m0003_isms::APPEND_ONLY,
        m0004_evidence::APPEND_ONLY,
        m0005_records::APPEND_ONLY,
        m0006_audits::APPEND_ONLY,
        m0007_vendors::APPEND_ONLY,
        m0008_sharing::APPEND_ONLY,
        m0009_share_versions::APPEND_ONLY,
        m0010_reminders::APPEND_ONLY,
        m0011_delivery_queue::APPEND_ONLY,
        m0012_incidents::APPEND_ONLY,
    ]
    .concat()
}

/// The platform tables: shared by all tenants, no tenant column (Citus reference tables).
pub const PLATFORM_TABLES: &[&str] = &[
    "tenants",
    "users",
    "catalog_state",
    "catalog_frameworks",
    "catalog_controls",
    "catalog_crosswalks",
    "catalog_mappings",
    "scheduler_leases",
];

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Foundation),
            Box::new(Catalogs),
            Box::new(m0003_isms::Isms),
            Box::new(m0004_evidence::Evidence),
            Box::new(m0005_records::Records),
            Box::new(m0006_audits::Audits),
            Box::new(m0007_vendors::Vendors),
            Box::new(m0008_sharing::Sharing),
            Box::new(m0009_share_versions::ShareVersions),
            Box::new(m0010_reminders::Reminders),
            Box::new(m0011_delivery_queue::DeliveryQueue),
            Box::new(m0012_incidents::Incidents),
        ]
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

struct Catalogs;

impl MigrationName for Catalogs {
    fn name(&self) -> &str {
        "m0002_catalogs"
    }
}

/// Shared catalogs (frameworks, controls, crosswalks, links) and each tenant's own frameworks,
/// links, reviews of shared links and licensed control text. Control attributes that are only
/// read (tags, citation, baselines, ...) are one JSON text column; everything that is joined on,
/// filtered by the database or constrained has its own column.
const CATALOGS_POSTGRES: &str = r#"
CREATE TABLE catalog_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  revision bigint NOT NULL,
  bundle_version text NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE catalog_frameworks (
  id uuid PRIMARY KEY,
  key text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,79}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
  version text NOT NULL,
  publisher text NOT NULL,
  kind text NOT NULL,
  licence text NOT NULL,
  source text NOT NULL,
  notes text,
  groups text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('bundle', 'oscal')),
  import_name text,
  import_uuid uuid,
  checksum text NOT NULL,
  loaded_at timestamptz NOT NULL,
  retired boolean NOT NULL DEFAULT false
);

CREATE TABLE catalog_controls (
  id uuid PRIMARY KEY,
  framework_id uuid NOT NULL REFERENCES catalog_frameworks (id),
  ref text NOT NULL,
  title text NOT NULL,
  kind text NOT NULL,
  group_ref text,
  parent_ref text,
  status text NOT NULL CHECK (status IN ('active', 'withdrawn')),
  sort integer NOT NULL,
  attributes text NOT NULL,
  content_hash text NOT NULL,
  retired boolean NOT NULL DEFAULT false,
  UNIQUE (framework_id, ref)
);

CREATE TABLE catalog_crosswalks (
  id uuid PRIMARY KEY,
  key text NOT NULL UNIQUE,
  source_framework_id uuid NOT NULL REFERENCES catalog_frameworks (id),
  target_framework_id uuid NOT NULL REFERENCES catalog_frameworks (id),
  method text NOT NULL CHECK (method IN ('published', 'derived')),
  source text NOT NULL,
  retrieved text,
  comprehensive boolean NOT NULL,
  checksum text NOT NULL,
  loaded_at timestamptz NOT NULL,
  retired boolean NOT NULL DEFAULT false
);

CREATE TABLE catalog_mappings (
  id uuid PRIMARY KEY,
  crosswalk_id uuid NOT NULL REFERENCES catalog_crosswalks (id),
  source_control_id uuid NOT NULL REFERENCES catalog_controls (id),
  target_control_id uuid NOT NULL REFERENCES catalog_controls (id),
  relationship text NOT NULL CHECK (relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of', 'intersects-with')),
  via text NOT NULL,
  retired boolean NOT NULL DEFAULT false,
  UNIQUE (crosswalk_id, source_control_id, target_control_id)
);

INSERT INTO catalog_state (id, revision, bundle_version, updated_at) VALUES (1, 0, '', now());

CREATE TABLE custom_frameworks (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,79}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
  version text NOT NULL,
  publisher text NOT NULL,
  kind text NOT NULL,
  source text NOT NULL,
  notes text,
  groups text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('manual', 'oscal')),
  import_name text,
  import_uuid uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key)
);

CREATE TABLE custom_controls (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  framework_id uuid NOT NULL,
  ref text NOT NULL CHECK (length(ref) BETWEEN 1 AND 100),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  kind text NOT NULL,
  group_ref text,
  parent_ref text,
  status text NOT NULL CHECK (status IN ('active', 'withdrawn')),
  sort integer NOT NULL,
  attributes text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, framework_id, ref),
  FOREIGN KEY (tenant_id, framework_id) REFERENCES custom_frameworks (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE tenant_mappings (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  source_catalog_control uuid REFERENCES catalog_controls (id),
  source_custom_control uuid,
  target_catalog_control uuid REFERENCES catalog_controls (id),
  target_custom_control uuid,
  relationship text NOT NULL CHECK (relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of', 'intersects-with')),
  note text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK ((source_catalog_control IS NULL) <> (source_custom_control IS NULL)),
  CHECK ((target_catalog_control IS NULL) <> (target_custom_control IS NULL)),
  FOREIGN KEY (tenant_id, source_custom_control) REFERENCES custom_controls (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, target_custom_control) REFERENCES custom_controls (tenant_id, id) ON DELETE CASCADE
);

-- One link of a tenant's own per pair of controls, whichever way round.
CREATE UNIQUE INDEX tenant_mappings_ends ON tenant_mappings (tenant_id,
  LEAST(COALESCE(source_catalog_control, source_custom_control),
        COALESCE(target_catalog_control, target_custom_control)),
  GREATEST(COALESCE(source_catalog_control, source_custom_control),
           COALESCE(target_catalog_control, target_custom_control)));

CREATE TABLE mapping_reviews (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  mapping_id uuid NOT NULL REFERENCES catalog_mappings (id),
  state text NOT NULL CHECK (state IN ('confirmed', 'rejected')),
  note text,
  reviewed_by text NOT NULL,
  reviewed_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mapping_id)
);

CREATE TABLE control_texts (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  control_id uuid NOT NULL REFERENCES catalog_controls (id),
  text text NOT NULL CHECK (length(text) BETWEEN 1 AND 100000),
  source text,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, control_id)
);

-- A catalog read's freshness check in one round trip: the shared catalog's revision and the
-- tenant's audit sequence (every change to a tenant's rows appends an audit event). Scopes only
-- its own statement, like grc_user_memberships; runs with the caller's rights.
CREATE FUNCTION grc_catalog_versions(p_tenant uuid)
RETURNS TABLE (revision bigint, last_seq bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT (SELECT s.revision FROM catalog_state s WHERE s.id = 1),
           (SELECT h.last_seq FROM audit_heads h WHERE h.tenant_id = p_tenant);
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['custom_frameworks', 'custom_controls', 'tenant_mappings', 'mapping_reviews', 'control_texts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = grc_current_tenant()) WITH CHECK (tenant_id = grc_current_tenant())',
      t);
  END LOOP;
END $$;
"#;

const CATALOGS_SQLITE: &str = r#"
CREATE TABLE catalog_state (
  id integer PRIMARY KEY NOT NULL CHECK (id = 1),
  revision integer NOT NULL,
  bundle_version text NOT NULL,
  updated_at text NOT NULL
);
CREATE TABLE catalog_frameworks (
  id blob PRIMARY KEY NOT NULL,
  key text NOT NULL UNIQUE,
  name text NOT NULL,
  version text NOT NULL,
  publisher text NOT NULL,
  kind text NOT NULL,
  licence text NOT NULL,
  source text NOT NULL,
  notes text,
  groups text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('bundle', 'oscal')),
  import_name text,
  import_uuid blob,
  checksum text NOT NULL,
  loaded_at text NOT NULL,
  retired boolean NOT NULL DEFAULT false
);
CREATE TABLE catalog_controls (
  id blob PRIMARY KEY NOT NULL,
  framework_id blob NOT NULL REFERENCES catalog_frameworks (id),
  ref text NOT NULL,
  title text NOT NULL,
  kind text NOT NULL,
  group_ref text,
  parent_ref text,
  status text NOT NULL CHECK (status IN ('active', 'withdrawn')),
  sort integer NOT NULL,
  attributes text NOT NULL,
  content_hash text NOT NULL,
  retired boolean NOT NULL DEFAULT false,
  UNIQUE (framework_id, ref)
);
CREATE TABLE catalog_crosswalks (
  id blob PRIMARY KEY NOT NULL,
  key text NOT NULL UNIQUE,
  source_framework_id blob NOT NULL REFERENCES catalog_frameworks (id),
  target_framework_id blob NOT NULL REFERENCES catalog_frameworks (id),
  method text NOT NULL CHECK (method IN ('published', 'derived')),
  source text NOT NULL,
  retrieved text,
  comprehensive boolean NOT NULL,
  checksum text NOT NULL,
  loaded_at text NOT NULL,
  retired boolean NOT NULL DEFAULT false
);
CREATE TABLE catalog_mappings (
  id blob PRIMARY KEY NOT NULL,
  crosswalk_id blob NOT NULL REFERENCES catalog_crosswalks (id),
  source_control_id blob NOT NULL REFERENCES catalog_controls (id),
  target_control_id blob NOT NULL REFERENCES catalog_controls (id),
  relationship text NOT NULL CHECK (relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of', 'intersects-with')),
  via text NOT NULL,
  retired boolean NOT NULL DEFAULT false,
  UNIQUE (crosswalk_id, source_control_id, target_control_id)
);
INSERT INTO catalog_state (id, revision, bundle_version, updated_at) VALUES (1, 0, '', '1970-01-01T00:00:00Z');
CREATE TABLE custom_frameworks (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  id blob NOT NULL,
  key text NOT NULL,
  name text NOT NULL,
  version text NOT NULL,
  publisher text NOT NULL,
  kind text NOT NULL,
  source text NOT NULL,
  notes text,
  groups text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('manual', 'oscal')),
  import_name text,
  import_uuid blob,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key)
) WITHOUT ROWID;
CREATE TABLE custom_controls (
  tenant_id blob NOT NULL,
  id blob NOT NULL,
  framework_id blob NOT NULL,
  ref text NOT NULL CHECK (length(ref) BETWEEN 1 AND 100),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  kind text NOT NULL,
  group_ref text,
  parent_ref text,
  status text NOT NULL CHECK (status IN ('active', 'withdrawn')),
  sort integer NOT NULL,
  attributes text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, framework_id, ref),
  FOREIGN KEY (tenant_id, framework_id) REFERENCES custom_frameworks (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE tenant_mappings (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  id blob NOT NULL,
  source_catalog_control blob REFERENCES catalog_controls (id),
  source_custom_control blob,
  target_catalog_control blob REFERENCES catalog_controls (id),
  target_custom_control blob,
  relationship text NOT NULL CHECK (relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of', 'intersects-with')),
  note text,
  created_by text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK ((source_catalog_control IS NULL) <> (source_custom_control IS NULL)),
  CHECK ((target_catalog_control IS NULL) <> (target_custom_control IS NULL)),
  FOREIGN KEY (tenant_id, source_custom_control) REFERENCES custom_controls (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, target_custom_control) REFERENCES custom_controls (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX tenant_mappings_ends ON tenant_mappings (tenant_id,
  min(COALESCE(source_catalog_control, source_custom_control),
      COALESCE(target_catalog_control, target_custom_control)),
  max(COALESCE(source_catalog_control, source_custom_control),
      COALESCE(target_catalog_control, target_custom_control)));
CREATE TABLE mapping_reviews (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  mapping_id blob NOT NULL REFERENCES catalog_mappings (id),
  state text NOT NULL CHECK (state IN ('confirmed', 'rejected')),
  note text,
  reviewed_by text NOT NULL,
  reviewed_at text NOT NULL,
  PRIMARY KEY (tenant_id, mapping_id)
) WITHOUT ROWID;
CREATE TABLE control_texts (
  tenant_id blob NOT NULL REFERENCES tenants (id),
  control_id blob NOT NULL REFERENCES catalog_controls (id),
  text text NOT NULL CHECK (length(text) BETWEEN 1 AND 100000),
  source text,
  updated_by text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (tenant_id, control_id)
) WITHOUT ROWID;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Catalogs {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => CATALOGS_POSTGRES,
            DbBackend::Sqlite => CATALOGS_SQLITE,
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
