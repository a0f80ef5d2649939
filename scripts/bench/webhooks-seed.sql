-- Bulk data for the webhook delivery benchmark (scripts/bench/webhooks.sh), run as the tables'
-- owner with row-level security forced. Reads four settings the script sets first:
-- bench.tenants (how many tenants), bench.events (how many outbox events in all), bench.url
-- (the receiver) and bench.whsec (the signing secret every endpoint gets, so that one receiver
-- verifies them all).
--
-- Each tenant `hook-NN` gets its audit chain head, one enabled webhook endpoint subscribed to
-- `reminder.due` with a current secret, and its share of the `reminder.due` outbox events, in
-- the scheduler's shape: a payload naming no recipients and only the webhook channel, so that
-- fanning an event out (`deliver::fan_out`) makes exactly one webhook delivery. Event n belongs
-- to tenant n % tenants and is created n microseconds after the first, so the relay, which
-- takes the oldest first, interleaves the tenants. Ids are md5-based uuids of a readable key.
-- Straight SQL: no audit events, no API validation; a benchmark fixture only.
DO $$
DECLARE
  tenants int := current_setting('bench.tenants')::int;
  events int := current_setting('bench.events')::int;
  url text := current_setting('bench.url');
  whsec text := current_setting('bench.whsec');
  seeded timestamptz := now() - interval '1 hour';
  t uuid;
  ep uuid;
  i int;
BEGIN
  -- A platform table: no row-level security.
  INSERT INTO tenants (id, slug, name, kind, created_at)
  SELECT md5('hook-bench/tenant/' || n)::uuid, format('hook-%s', lpad(n::text, 3, '0')),
         format('Hook Bench %s', lpad(n::text, 3, '0')), 'covered-entity', seeded
  FROM generate_series(0, tenants - 1) AS n;

  FOR i IN 0..tenants - 1 LOOP
    t := md5('hook-bench/tenant/' || i)::uuid;
    ep := md5('hook-bench/endpoint/' || i)::uuid;
    PERFORM set_config('app.tenant_id', t::text, true);
    INSERT INTO audit_heads (tenant_id, last_seq, last_hash) VALUES (t, 0, repeat('0', 64));
    INSERT INTO webhook_endpoints (tenant_id, id, url, description, event_types, enabled,
                                   created_by, created_at, updated_at)
    VALUES (t, ep, url, 'benchmark receiver', '["reminder.due"]', true, 'system:bench-seed',
            seeded, seeded);
    INSERT INTO webhook_secrets (tenant_id, id, endpoint_id, secret, created_at)
    VALUES (t, md5('hook-bench/secret/' || i)::uuid, ep, whsec, seeded);
    INSERT INTO outbox_events (tenant_id, id, topic, source_tenant_id, subject_type, subject_id,
                               payload, dedupe_key, created_at)
    SELECT t, md5('hook-bench/event/' || n)::uuid, 'reminder.due', t, 'Certificate', s::text,
           json_build_object(
             'tenantId', t, 'subjectType', 'Certificate', 'subjectId', s,
             'kind', 'certificate-expiry', 'dueOn', '2027-02-28', 'leadDays', 30,
             'title', format('ISO/IEC 27001 certificate C-%s', n),
             'recipients', json_build_object('roles', '[]'::json, 'userIds', '[]'::json,
                                             'emails', '[]'::json),
             'channels', '["webhook"]'::json)::text,
           format('rem:%s:%s:certificate-expiry:2027-02-28:lead-30', t, s),
           seeded + n * interval '1 microsecond'
    FROM generate_series(i, events - 1, tenants) AS n,
         LATERAL (SELECT md5('hook-bench/subject/' || n)::uuid AS s) AS subject;
  END LOOP;
END $$;
