-- Bulk data for the SoA page benchmark (scripts/bench/soa.sh), run as the tables' owner after
-- every tenant has one ISMS created through the API (which wrote its 93 SoA entries). Straight
-- SQL, not the API: fast, deterministic (setseed) and fine for a read benchmark, but it writes no
-- audit events and skips the API's validation, so this database is a benchmark fixture only.
-- Row-level security is forced for the owner too: each tenant's rows are written with
-- app.tenant_id set to that tenant.
--
-- Per tenant: 3 more members (contributors), 200 risks (ratings 1..5, 3 Annex A controls and 2
-- assets each), 300 assets, 500 evidence records (1 in 20 archived) each linked to 2 controls (1
-- in 5 also to a risk), and an owner from the tenant's 4 members on every SoA entry, with
-- statuses spread over the four values.
SELECT setseed(0.42);

DO $$
DECLARE
  t record;
  members uuid[];
  controls uuid[];
  risk_ids uuid[];
  v_isms uuid;
  i int;
BEGIN
  FOR t IN SELECT id AS tenant_id, row_number() OVER (ORDER BY slug) AS n
           FROM tenants WHERE slug LIKE 'soa-bench-%' LOOP
    PERFORM set_config('app.tenant_id', t.tenant_id::text, true);
    SELECT id INTO STRICT v_isms FROM isms WHERE tenant_id = t.tenant_id;

    FOR i IN 1..3 LOOP
      WITH u AS (
        INSERT INTO users (id, subject, email, display_name, platform_operator, created_at)
        VALUES (gen_random_uuid(), gen_random_uuid()::text,
                format('contributor%s@t%s.bench.example', i, t.n),
                format('Contributor %s of tenant %s', i, t.n), false, now())
        RETURNING id)
      INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at)
      SELECT t.tenant_id, u.id, 'contributor', now(), now() FROM u;
    END LOOP;
    SELECT array_agg(user_id ORDER BY user_id) INTO members
      FROM memberships WHERE tenant_id = t.tenant_id;
    SELECT array_agg(control_id ORDER BY sort) INTO controls
      FROM soa_entries WHERE tenant_id = t.tenant_id AND isms_id = v_isms;

    -- Owners on every entry; 1 in 12 excluded (status not-started), the rest spread.
    UPDATE soa_entries e SET
      owner_id = members[1 + (e.sort % array_length(members, 1))],
      applicable = (e.sort % 12 <> 5),
      status = CASE WHEN e.sort % 12 = 5 THEN 'not-started'
                    ELSE (ARRAY['not-started', 'planned', 'partial', 'implemented'])[1 + (e.sort % 4)] END,
      justification = CASE WHEN e.sort % 12 = 5 THEN 'Excluded: no such activity in scope'
                           ELSE 'Treats risks in the register' END
    WHERE e.tenant_id = t.tenant_id AND e.isms_id = v_isms;

    INSERT INTO assets (tenant_id, id, isms_id, name, kind, classification, owner_id, location,
                        description, ephi, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_isms, format('Asset %s', lpad(g::text, 3, '0')),
           (ARRAY['information', 'system', 'application', 'device', 'service', 'site', 'people'])[1 + g % 7],
           (ARRAY['public', 'internal', 'confidential', 'restricted'])[1 + g % 4],
           members[1 + g % array_length(members, 1)], 'Main site', 'Benchmark asset', g % 3 = 0,
           now(), now()
    FROM generate_series(1, 300) g;

    WITH r AS (
      INSERT INTO risks (tenant_id, id, isms_id, ref, title, description, threat, vulnerability,
                         owner_id, inherent_likelihood, inherent_impact, residual_likelihood,
                         residual_impact, treatment, treatment_plan, review_date, created_at,
                         updated_at)
      SELECT t.tenant_id, gen_random_uuid(), v_isms, format('R-%s', lpad(g::text, 3, '0')),
             format('Benchmark risk %s', g), 'Benchmark risk', 'A threat', 'A vulnerability',
             members[1 + g % array_length(members, 1)],
             1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int,
             CASE WHEN g % 2 = 0 THEN 1 + floor(random() * 3)::int END,
             CASE WHEN g % 2 = 0 THEN 1 + floor(random() * 3)::int END,
             CASE WHEN g % 2 = 0 THEN 'modify' END,
             CASE WHEN g % 2 = 0 THEN 'Apply the linked controls' END,
             current_date + 180, now(), now()
      FROM generate_series(1, 200) g
      RETURNING id)
    SELECT array_agg(id) INTO risk_ids FROM r;

    -- 3 distinct controls per risk (600 links: about 6.5 risks per control).
    INSERT INTO risk_controls (tenant_id, risk_id, control_id)
    SELECT DISTINCT t.tenant_id, risk_ids[g], controls[1 + floor(random() * array_length(controls, 1))::int]
    FROM generate_series(1, 200) g, generate_series(1, 3) k
    ON CONFLICT DO NOTHING;

    INSERT INTO risk_assets (tenant_id, risk_id, asset_id)
    SELECT DISTINCT t.tenant_id, risk_ids[g], a.id
    FROM generate_series(1, 200) g
    JOIN assets a ON a.tenant_id = t.tenant_id AND a.name IN (format('Asset %s', lpad(g::text, 3, '0')),
                                                             format('Asset %s', lpad((g + 100)::text, 3, '0')));

    INSERT INTO evidence (tenant_id, id, title, description, filename, media_type, size_bytes,
                          sha256, object_key, effective_date, expires_on, uploaded_by, uploader_id,
                          uploaded_at, archived_at)
    SELECT t.tenant_id, gen_random_uuid(), format('Evidence %s', g), 'Benchmark evidence',
           format('evidence-%s.pdf', g), 'application/pdf', 100000 + g,
           encode(sha256(convert_to(format('%s/%s', t.tenant_id, g), 'UTF8')), 'hex'),
           format('tenants/%s/evidence/bench-%s', t.tenant_id, g),
           current_date - 30, current_date + 335, 'bench', members[1], now(),
           CASE WHEN g % 20 = 0 THEN now() END
    FROM generate_series(1, 500) g;

    -- 2 controls per evidence record (about 10.8 per control), 1 in 5 also to a risk.
    INSERT INTO evidence_links (tenant_id, evidence_id, target_kind, target_id)
    SELECT DISTINCT t.tenant_id, v.id, 'control', controls[1 + floor(random() * array_length(controls, 1))::int]
    FROM evidence v, generate_series(1, 2) k
    WHERE v.tenant_id = t.tenant_id
    ON CONFLICT DO NOTHING;
    INSERT INTO evidence_links (tenant_id, evidence_id, target_kind, target_id)
    SELECT t.tenant_id, v.id, 'risk', risk_ids[1 + floor(random() * 200)::int]
    FROM evidence v
    WHERE v.tenant_id = t.tenant_id AND v.size_bytes % 5 = 0;
  END LOOP;
END $$;

-- Statistics and the visibility map as autovacuum would leave them after such a load (its insert
-- threshold is passed many times over); without VACUUM, index-only scans visit the heap too.
VACUUM (ANALYZE) soa_entries, risks, risk_controls, risk_assets, assets, evidence, evidence_links,
  memberships, users, isms;
