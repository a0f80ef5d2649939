//! Sharing between tenants: connections (a customer's vendor record linked to the vendor's
//! tenant by an accepted invitation), the owner's listing of shareable artifacts, share grants,
//! access requests with their history, versioned NDAs and their acceptances, access receipts,
//! and the outbox of events for delivery.
//!
//! A row that two tenants see belongs to one of them (`tenant_id`, first in every key) and names
//! the other in a peer column. On PostgreSQL each table keeps the tenant policy, and a few
//! narrow policies admit the peer: to read its side of a connection, grant, request, NDA or
//! receipt, to answer an invitation, to request, to accept an NDA, to leave a receipt. The
//! owner's shared rows (certificates with their audits and decisions, attestations, BAAs, SoA
//! versions, the ISMS name, documents) get a policy that admits a grantee's read of exactly the
//! rows a live grant covers (`grc_granted`, `grc_granted_document`).

use super::shared::{append_only, render, tenant_policies_once};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The tenant-owned tables this migration adds.
pub(super) const TABLES: &[&str] = &[
    "connections",
    "share_listings",
    "ndas",
    "nda_versions",
    "nda_acceptances",
    "share_grants",
    "access_requests",
    "access_request_events",
    "access_receipts",
    "outbox_events",
];

/// Tables whose rows never change once written (the application role may only insert).
pub(super) const APPEND_ONLY: &[&str] = &[
    "nda_versions",
    "nda_acceptances",
    "access_request_events",
    "access_receipts",
];

pub(crate) struct Sharing;

impl MigrationName for Sharing {
    fn name(&self) -> &str {
        "m0008_sharing"
    }
}

const SQL: &str = r#"
CREATE TABLE connections (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  vendor_id {uuid} NOT NULL,
  provider_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  status text NOT NULL CHECK (status IN ('invited', 'active', 'declined', 'cancelled', 'ended')),
  message text NOT NULL CHECK (length(message) <= 2000),
  invited_by text NOT NULL,
  invited_at {ts} NOT NULL,
  responded_by text,
  responded_at {ts},
  response_reason text CHECK (length(response_reason) <= 2000),
  ended_by_tenant {uuid},
  ended_by text,
  ended_at {ts},
  end_reason text CHECK (length(end_reason) <= 2000),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
  CHECK (provider_tenant_id <> tenant_id)
){rowid};
CREATE UNIQUE INDEX connections_open_vendor ON connections (tenant_id, vendor_id)
  WHERE status IN ('invited', 'active');
CREATE UNIQUE INDEX connections_open_pair ON connections (tenant_id, provider_tenant_id)
  WHERE status IN ('invited', 'active');
CREATE INDEX connections_by_provider ON connections (provider_tenant_id, status);

CREATE TABLE share_listings (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  artifact_kind text NOT NULL CHECK (artifact_kind IN ('certificate', 'all-iso-certificates', 'attestation', 'baa', 'soa-summary')),
  artifact_id {uuid},
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text NOT NULL CHECK (length(description) <= 2000),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK ((artifact_kind = 'all-iso-certificates') = (artifact_id IS NULL))
){rowid};
CREATE UNIQUE INDEX share_listings_artifact ON share_listings (tenant_id, artifact_kind, COALESCE(artifact_id, tenant_id));

CREATE TABLE ndas (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  current_version integer NOT NULL CHECK (current_version >= 1),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  updated_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, title)
){rowid};

CREATE TABLE nda_versions (
  tenant_id {uuid} NOT NULL,
  nda_id {uuid} NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  published_by text NOT NULL,
  published_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, nda_id, version),
  FOREIGN KEY (tenant_id, nda_id) REFERENCES ndas (tenant_id, id)
){rowid};

CREATE TABLE nda_acceptances (
  tenant_id {uuid} NOT NULL,
  id {uuid} NOT NULL,
  nda_id {uuid} NOT NULL,
  version integer NOT NULL,
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  grantee_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  actor text NOT NULL,
  user_id {uuid},
  address text CHECK (length(address) <= 100),
  user_agent text CHECK (length(user_agent) <= 500),
  accepted_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, nda_id, version, grantee_tenant_id, actor),
  FOREIGN KEY (tenant_id, nda_id, version) REFERENCES nda_versions (tenant_id, nda_id, version)
){rowid};
CREATE INDEX nda_acceptances_by_grantee ON nda_acceptances (grantee_tenant_id, tenant_id, nda_id, version);

CREATE TABLE share_grants (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  grantee_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  connection_tenant_id {uuid} NOT NULL,
  connection_id {uuid} NOT NULL,
  artifact_kind text NOT NULL CHECK (artifact_kind IN ('certificate', 'all-iso-certificates', 'attestation', 'baa', 'soa-summary')),
  artifact_id {uuid},
  access text NOT NULL CHECK (access IN ('metadata', 'document')),
  expires_at {ts},
  nda_id {uuid},
  request_id {uuid},
  note text NOT NULL CHECK (length(note) <= 2000),
  created_by text NOT NULL,
  created_at {ts} NOT NULL,
  revoked_by text,
  revoked_at {ts},
  revoke_reason text CHECK (length(revoke_reason) <= 2000),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (connection_tenant_id, connection_id) REFERENCES connections (tenant_id, id),
  FOREIGN KEY (tenant_id, nda_id) REFERENCES ndas (tenant_id, id),
  CHECK (grantee_tenant_id <> tenant_id),
  CHECK (connection_tenant_id IN (tenant_id, grantee_tenant_id)),
  CHECK ((artifact_kind = 'all-iso-certificates') = (artifact_id IS NULL)),
  CHECK (nda_id IS NULL OR access = 'document'),
  CHECK (access = 'metadata' OR artifact_kind <> 'soa-summary')
){rowid};
CREATE UNIQUE INDEX share_grants_open ON share_grants (tenant_id, grantee_tenant_id, artifact_kind, COALESCE(artifact_id, tenant_id))
  WHERE revoked_at IS NULL;
CREATE INDEX share_grants_by_grantee ON share_grants (grantee_tenant_id, tenant_id, artifact_kind, artifact_id);
CREATE INDEX share_grants_to_grantee ON share_grants (grantee_tenant_id, id);
CREATE INDEX share_grants_by_owner ON share_grants (tenant_id, artifact_kind, artifact_id);

CREATE TABLE access_requests (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  requester_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  connection_tenant_id {uuid} NOT NULL,
  connection_id {uuid} NOT NULL,
  listing_id {uuid},
  artifact_kind text NOT NULL CHECK (artifact_kind IN ('certificate', 'all-iso-certificates', 'attestation', 'baa', 'soa-summary')),
  artifact_id {uuid},
  access text NOT NULL CHECK (access IN ('metadata', 'document')),
  message text NOT NULL CHECK (length(message) <= 2000),
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn')),
  requested_by text NOT NULL,
  created_at {ts} NOT NULL,
  decided_by text,
  decided_at {ts},
  reason text CHECK (length(reason) <= 2000),
  grant_id {uuid},
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (connection_tenant_id, connection_id) REFERENCES connections (tenant_id, id),
  CHECK (requester_tenant_id <> tenant_id),
  CHECK ((artifact_kind = 'all-iso-certificates') = (artifact_id IS NULL)),
  CHECK (status <> 'denied' OR reason IS NOT NULL),
  CHECK (status <> 'approved' OR grant_id IS NOT NULL)
){rowid};
CREATE UNIQUE INDEX access_requests_pending ON access_requests (tenant_id, requester_tenant_id, artifact_kind, COALESCE(artifact_id, tenant_id))
  WHERE status = 'pending';
CREATE INDEX access_requests_by_requester ON access_requests (requester_tenant_id, created_at);

CREATE TABLE access_request_events (
  tenant_id {uuid} NOT NULL,
  request_id {uuid} NOT NULL,
  seq integer NOT NULL CHECK (seq >= 1),
  action text NOT NULL CHECK (action IN ('requested', 'approved', 'denied', 'withdrawn')),
  actor_tenant_id {uuid} NOT NULL,
  actor text NOT NULL,
  detail text NOT NULL,
  occurred_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, request_id, seq),
  FOREIGN KEY (tenant_id, request_id) REFERENCES access_requests (tenant_id, id)
){rowid};

CREATE TABLE access_receipts (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  grantee_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  grant_id {uuid} NOT NULL,
  artifact_kind text NOT NULL CHECK (artifact_kind IN ('certificate', 'attestation', 'baa', 'soa-summary')),
  artifact_id {uuid} NOT NULL,
  view text NOT NULL CHECK (view IN ('metadata', 'document')),
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  actor text NOT NULL,
  user_id {uuid},
  address text CHECK (length(address) <= 100),
  occurred_at {ts} NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, grant_id) REFERENCES share_grants (tenant_id, id)
){rowid};
CREATE INDEX access_receipts_by_grant ON access_receipts (tenant_id, grant_id);
CREATE INDEX access_receipts_by_grantee ON access_receipts (grantee_tenant_id, id);

CREATE TABLE outbox_events (
  tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  id {uuid} NOT NULL,
  topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 100),
  source_tenant_id {uuid} NOT NULL REFERENCES tenants (id),
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  payload text NOT NULL,
  dedupe_key text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 300),
  created_at {ts} NOT NULL,
  relayed_at {ts},
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, dedupe_key)
){rowid};
CREATE INDEX outbox_events_unrelayed ON outbox_events (created_at) WHERE relayed_at IS NULL;
"#;

/// PostgreSQL: the functions and the policies that admit a peer.
const POSTGRES_POLICIES: &str = r#"
-- Whether the two tenants have an active connection, either way round. Runs with the caller's
-- rights: it sees only connections the current tenant is a side of.
CREATE FUNCTION grc_connected(p_a uuid, p_b uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM connections c
    WHERE c.status = 'active'
      AND ((c.tenant_id = p_a AND c.provider_tenant_id = p_b)
        OR (c.tenant_id = p_b AND c.provider_tenant_id = p_a)))
$$;

-- Whether a live grant from p_owner to the current tenant covers the artifact (a certificate is
-- also covered by an "all ISO certificates" grant).
CREATE FUNCTION grc_granted(p_owner uuid, p_kind text, p_artifact uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM share_grants g
    WHERE g.grantee_tenant_id = grc_current_tenant()
      AND g.tenant_id = p_owner
      AND g.revoked_at IS NULL
      AND (g.expires_at IS NULL OR g.expires_at > now())
      AND EXISTS (SELECT 1 FROM connections c WHERE c.tenant_id = g.connection_tenant_id
        AND c.id = g.connection_id AND c.status = 'active')
      AND ((g.artifact_kind = p_kind AND g.artifact_id = p_artifact)
        OR (p_kind = 'certificate' AND g.artifact_kind = 'all-iso-certificates')))
$$;

-- Whether a live document grant from p_owner to the current tenant opens the evidence row
-- p_evidence: the grant's artifact holds it as its document, and the grant's NDA (if any) was
-- accepted by the current tenant in its current version.
CREATE FUNCTION grc_granted_document(p_owner uuid, p_evidence uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM share_grants g
    WHERE g.grantee_tenant_id = grc_current_tenant()
      AND g.tenant_id = p_owner
      AND g.access = 'document'
      AND g.revoked_at IS NULL
      AND (g.expires_at IS NULL OR g.expires_at > now())
      AND EXISTS (SELECT 1 FROM connections c WHERE c.tenant_id = g.connection_tenant_id
        AND c.id = g.connection_id AND c.status = 'active')
      AND (g.nda_id IS NULL OR EXISTS (
        SELECT 1 FROM ndas n JOIN nda_acceptances a
          ON a.tenant_id = n.tenant_id AND a.nda_id = n.id AND a.version = n.current_version
        WHERE n.tenant_id = p_owner AND n.id = g.nda_id
          AND a.grantee_tenant_id = grc_current_tenant()))
      AND ((g.artifact_kind IN ('certificate', 'all-iso-certificates') AND EXISTS (
              SELECT 1 FROM certificates c WHERE c.tenant_id = p_owner
                AND c.document_id = p_evidence
                AND (g.artifact_id IS NULL OR c.id = g.artifact_id)))
        OR (g.artifact_kind = 'attestation' AND EXISTS (
              SELECT 1 FROM attestations a WHERE a.tenant_id = p_owner
                AND a.id = g.artifact_id AND a.document_id = p_evidence))
        OR (g.artifact_kind = 'baa' AND EXISTS (
              SELECT 1 FROM baas b WHERE b.tenant_id = p_owner
                AND b.id = g.artifact_id AND b.document_id = p_evidence))))
$$;

-- Connections: the provider reads its side and answers (accepts, declines, ends).
CREATE POLICY provider_reads ON connections FOR SELECT
  USING (provider_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY provider_answers ON connections FOR UPDATE
  USING (provider_tenant_id = (SELECT grc_current_tenant()))
  WITH CHECK (provider_tenant_id = (SELECT grc_current_tenant()));

-- Listings and NDA texts: readable by connected tenants.
CREATE POLICY connected_reads ON share_listings FOR SELECT
  USING (grc_connected(tenant_id, (SELECT grc_current_tenant())));
CREATE POLICY connected_reads ON ndas FOR SELECT
  USING (grc_connected(tenant_id, (SELECT grc_current_tenant())));
CREATE POLICY connected_reads ON nda_versions FOR SELECT
  USING (grc_connected(tenant_id, (SELECT grc_current_tenant())));

-- NDA acceptances: the accepting tenant reads and writes its own, while connected.
CREATE POLICY grantee_reads ON nda_acceptances FOR SELECT
  USING (grantee_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY grantee_accepts ON nda_acceptances FOR INSERT
  WITH CHECK (grantee_tenant_id = (SELECT grc_current_tenant())
    AND grc_connected(tenant_id, (SELECT grc_current_tenant())));

-- Grants: the grantee reads its grants (ending a connection revokes them from either side).
CREATE POLICY grantee_reads ON share_grants FOR SELECT
  USING (grantee_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY grantee_revokes ON share_grants FOR UPDATE
  USING (grantee_tenant_id = (SELECT grc_current_tenant()))
  WITH CHECK (grantee_tenant_id = (SELECT grc_current_tenant()));

-- Access requests: the requester files, reads and withdraws its own, while connected.
CREATE POLICY requester_reads ON access_requests FOR SELECT
  USING (requester_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY requester_files ON access_requests FOR INSERT
  WITH CHECK (requester_tenant_id = (SELECT grc_current_tenant())
    AND grc_connected(tenant_id, (SELECT grc_current_tenant())));
CREATE POLICY requester_withdraws ON access_requests FOR UPDATE
  USING (requester_tenant_id = (SELECT grc_current_tenant()))
  WITH CHECK (requester_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY requester_reads ON access_request_events FOR SELECT
  USING (EXISTS (SELECT 1 FROM access_requests r
    WHERE r.tenant_id = access_request_events.tenant_id AND r.id = access_request_events.request_id
      AND r.requester_tenant_id = (SELECT grc_current_tenant())));
CREATE POLICY requester_writes ON access_request_events FOR INSERT
  WITH CHECK (actor_tenant_id = (SELECT grc_current_tenant()) AND action IN ('requested', 'withdrawn')
    AND EXISTS (SELECT 1 FROM access_requests r
    WHERE r.tenant_id = access_request_events.tenant_id AND r.id = access_request_events.request_id
      AND r.requester_tenant_id = (SELECT grc_current_tenant())));

-- Receipts: the grantee reads its own and leaves one only for an artifact a live grant covers.
CREATE POLICY grantee_reads ON access_receipts FOR SELECT
  USING (grantee_tenant_id = (SELECT grc_current_tenant()));
CREATE POLICY grantee_records ON access_receipts FOR INSERT
  WITH CHECK (grantee_tenant_id = (SELECT grc_current_tenant())
    AND grc_granted(tenant_id, artifact_kind, artifact_id));

-- The peer's UPDATE policies admit the row; this trigger admits only the peer's own step:
-- a grantee revokes a grant (when it ends the connection), a provider answers or ends a
-- connection, a requester withdraws a pending request. Every other column stays as it was.
CREATE FUNCTION grc_guard_peer_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  steps text[];
  ok boolean;
BEGIN
  IF grc_current_tenant() IS NULL OR NEW.tenant_id = grc_current_tenant() THEN
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'share_grants' THEN
    steps := ARRAY['revoked_at', 'revoked_by', 'revoke_reason'];
    ok := OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL;
  ELSIF TG_TABLE_NAME = 'connections' THEN
    steps := ARRAY['status', 'responded_by', 'responded_at', 'response_reason',
                   'ended_by_tenant', 'ended_by', 'ended_at', 'end_reason'];
    ok := (OLD.status = 'invited' AND NEW.status IN ('active', 'declined'))
       OR (OLD.status = 'active' AND NEW.status = 'ended');
  ELSIF TG_TABLE_NAME = 'access_requests' THEN
    steps := ARRAY['status', 'decided_by', 'decided_at', 'reason'];
    ok := OLD.status = 'pending' AND NEW.status = 'withdrawn';
  ELSE
    ok := false;
  END IF;
  IF ok AND (to_jsonb(NEW) - steps) = (to_jsonb(OLD) - steps) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'grc: tenant % may change only its own step of this % row',
    grc_current_tenant(), TG_TABLE_NAME USING ERRCODE = '42501';
END $$;
CREATE TRIGGER share_grants_peer_guard BEFORE UPDATE ON share_grants
  FOR EACH ROW EXECUTE FUNCTION grc_guard_peer_update();
CREATE TRIGGER connections_peer_guard BEFORE UPDATE ON connections
  FOR EACH ROW EXECUTE FUNCTION grc_guard_peer_update();
CREATE TRIGGER access_requests_peer_guard BEFORE UPDATE ON access_requests
  FOR EACH ROW EXECUTE FUNCTION grc_guard_peer_update();

-- The owner's shared rows: see `grantee_policies` (the rule written out in each policy, so
-- that the planner sees it: a function holding a sub-select is never inlined).
CREATE POLICY grantee_reads ON evidence FOR SELECT
  USING (grc_granted_document(tenant_id, id));
"#;

/// The `grantee_reads` policy of an owner's shared table: a row is admitted when a grant to the
/// current tenant from the row's tenant is live now (not revoked, not expired, the connection
/// it was made under active) and covers it (`kind` and the row's `id_col`; a certificate also under an "all ISO
/// certificates" grant). The same rule as `grc_granted`, written inline: PostgreSQL never
/// inlines a function holding a sub-select, and a function call per row costs about 0.1 ms.
fn grantee_policy(table: &str, kind: &str, id_col: &str) -> String {
    let all_iso = if kind == "certificate" {
        " OR g.artifact_kind = 'all-iso-certificates'"
    } else {
        ""
    };
    format!(
        "CREATE POLICY grantee_reads ON {table} FOR SELECT USING (EXISTS (
  SELECT 1 FROM share_grants g
  WHERE g.grantee_tenant_id = (SELECT grc_current_tenant())
    AND g.tenant_id = {table}.tenant_id
    AND g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > now())
    AND ((g.artifact_kind = '{kind}' AND g.artifact_id = {table}.{id_col}){all_iso})
    AND EXISTS (SELECT 1 FROM connections c WHERE c.tenant_id = g.connection_tenant_id
      AND c.id = g.connection_id AND c.status = 'active')));
"
    )
}

/// The `grantee_reads` policies of the owner's shared tables.
fn grantee_policies() -> String {
    [
        ("certificates", "certificate", "id"),
        ("certificate_audits", "certificate", "certificate_id"),
        ("certificate_decisions", "certificate", "certificate_id"),
        ("attestations", "attestation", "id"),
        ("baas", "baa", "id"),
        ("soa_versions", "soa-summary", "isms_id"),
        ("isms", "soa-summary", "id"),
    ]
    .iter()
    .map(|(t, k, c)| grantee_policy(t, k, c))
    .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Sharing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut sql = render(SQL, backend)?;
        for t in APPEND_ONLY {
            sql.push_str(&append_only(t, backend));
        }
        if backend == DbBackend::Postgres {
            sql.push_str(&tenant_policies_once(TABLES));
            sql.push_str(POSTGRES_POLICIES);
            sql.push_str(&grantee_policies());
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
