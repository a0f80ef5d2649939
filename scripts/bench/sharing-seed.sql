-- Bulk data for the sharing benchmark (scripts/bench/sharing.sh), run as the tables' owner with
-- row-level security forced: the covered entity `share-bench` (made beforehand with
-- `grc tenant create`) with 500 vendor records, each connected (status active) to its own
-- provider tenant (`provider-000` .. `provider-499`, business associates, each with its audit
-- chain head), and 3,000 live share grants from the providers to the covered entity.
--
-- Each provider holds 2 ISO certificates (ISO/IEC 27001:2022 and ISO/IEC 27701:2019), each with
-- a certification decision and a surveillance audit (1 in 10 of the 27701 certificates also
-- suspended; the earliest ones have expired), one vendor of its own ("Upstream Cloud") with 4
-- attestations (SOC 2 Type II, ISO/IEC 27001, penetration test, HITRUST r2) and a BAA. It grants:
--   * 4 providers in 5 (i % 5 <> 0): each certificate (2 grants), 3 attestations, the BAA: 6;
--   * 1 provider in 5 (i % 5 = 0): all ISO certificates (1 grant, no artifact id, 2 artifacts),
--     4 attestations, the BAA: 6.
-- 400 * 6 + 100 * 6 = 3,000 grants, 1 in 3 with document access (no NDA), 1 in 8 expiring in
-- 180 days. Ids are md5-based uuids of a readable key, so every run builds the same rows (the
-- covered entity's own id comes from `grc tenant create`). Straight SQL: no audit events, no
-- outbox, no API validation; a benchmark fixture only.
DO $$
DECLARE
  c uuid;             -- the covered entity (customer)
  p uuid;             -- the provider of this iteration
  up uuid;            -- the provider's own vendor
  i int;
  seeded timestamptz := now() - interval '30 days';
  all_terms text := '{"permitted-uses":true,"no-other-use":true,"safeguards":true,"report-disclosures":true,"subcontractors":true,"access":true,"amendment":true,"accounting":true,"subpart-e-obligations":true,"books-and-records":true,"return-or-destroy":true,"termination":true,"security-rule":true,"security-subcontractors":true,"security-incidents":true}';
BEGIN
  SELECT id INTO STRICT c FROM tenants WHERE slug = 'share-bench';

  -- The providers (a platform table: no row-level security).
  INSERT INTO tenants (id, slug, name, kind, created_at)
  SELECT md5('share-bench/provider/' || n)::uuid, format('provider-%s', lpad(n::text, 3, '0')),
         format('Provider %s Health IT', lpad(n::text, 3, '0')), 'business-associate', seeded
  FROM generate_series(0, 499) AS n;

  -- The covered entity's side: a vendor record per provider and the accepted connection.
  PERFORM set_config('app.tenant_id', c::text, true);
  INSERT INTO vendors (tenant_id, id, name, description, services, ephi_access, tier, status,
                       contacts, created_at, updated_at)
  SELECT c, md5('share-bench/vendor/' || n)::uuid,
         format('Provider %s Health IT', lpad(n::text, 3, '0')), '', '["hosting"]',
         (ARRAY['none', 'limited', 'full'])[n % 3 + 1], n % 4 + 1, 'active', '[]', seeded, seeded
  FROM generate_series(0, 499) AS n;
  INSERT INTO connections (tenant_id, id, vendor_id, provider_tenant_id, status, message,
                           invited_by, invited_at, responded_by, responded_at)
  SELECT c, md5('share-bench/connection/' || n)::uuid, md5('share-bench/vendor/' || n)::uuid,
         md5('share-bench/provider/' || n)::uuid, 'active', 'Please connect for vendor review.',
         'system:bench-seed', seeded, 'system:bench-seed', seeded + interval '1 hour'
  FROM generate_series(0, 499) AS n;

  -- Each provider's artifacts and grants, under its own tenant setting.
  FOR i IN 0..499 LOOP
    p := md5('share-bench/provider/' || i)::uuid;
    up := md5('share-bench/provider/' || i || '/upstream')::uuid;
    PERFORM set_config('app.tenant_id', p::text, true);
    INSERT INTO audit_heads (tenant_id, last_seq, last_hash) VALUES (p, 0, repeat('0', 64));

    -- Certificates k = 0 (27001) and 1 (27701), each certified and audited once.
    INSERT INTO certificates (tenant_id, id, standard, edition, certificate_number,
                              certification_body, accreditation_body, scope, sites, notes,
                              created_at, updated_at)
    SELECT p, md5(format('share-bench/provider/%s/certificate/%s', i, k))::uuid,
           (ARRAY['iso27001', 'iso27701'])[k + 1], (ARRAY['2022', '2019'])[k + 1],
           format('BENCH-%s-%s', lpad(i::text, 3, '0'), k), 'Bench Certification Ltd', 'UKAS',
           'Hosting and support of the clinical data platform', '["Main office","Data centre"]',
           '', seeded, seeded
    FROM generate_series(0, 1) AS k;
    INSERT INTO certificate_decisions (tenant_id, id, certificate_id, kind, decided_on,
                                       expires_on, reason, created_by, created_at)
    SELECT p, md5(format('share-bench/provider/%s/certificate/%s/certification', i, k))::uuid,
           md5(format('share-bench/provider/%s/certificate/%s', i, k))::uuid, 'certification',
           d.day, (d.day + interval '3 years' - interval '1 day')::date, '',
           'system:bench-seed', seeded
    FROM generate_series(0, 1) AS k,
         LATERAL (SELECT CASE k WHEN 0 THEN date '2024-03-01' + (i * 7) % 600
                                ELSE date '2023-01-01' + (i * 11) % 900 END AS day) AS d;
    INSERT INTO certificate_audits (tenant_id, id, certificate_id, kind, start_date, end_date,
                                    auditors, major_findings, minor_findings, observations,
                                    summary, created_at, updated_at)
    SELECT p, md5(format('share-bench/provider/%s/certificate/%s/surveillance', i, k))::uuid,
           md5(format('share-bench/provider/%s/certificate/%s', i, k))::uuid, 'surveillance',
           d.day + 330, d.day + 332, '["Lead Auditor"]', 0, (i + k) % 3, (i + k) % 5, '',
           seeded, seeded
    FROM generate_series(0, 1) AS k,
         LATERAL (SELECT CASE k WHEN 0 THEN date '2024-03-01' + (i * 7) % 600
                                ELSE date '2023-01-01' + (i * 11) % 900 END AS day) AS d;
    IF i % 10 = 3 THEN
      INSERT INTO certificate_decisions (tenant_id, id, certificate_id, kind, decided_on,
                                         reason, created_by, created_at)
      SELECT p, md5(format('share-bench/provider/%s/certificate/1/suspension', i))::uuid,
             d.certificate_id, 'suspension', d.decided_on + 400,
             'Surveillance audit not held in time', 'system:bench-seed', seeded
      FROM certificate_decisions d
      WHERE d.tenant_id = p AND d.certificate_id = md5(format('share-bench/provider/%s/certificate/1', i))::uuid;
    END IF;

    -- The provider's own vendor, its attestations a = 0..3 and its BAA.
    INSERT INTO vendors (tenant_id, id, name, description, services, ephi_access, tier, status,
                         contacts, created_at, updated_at)
    VALUES (p, up, 'Upstream Cloud', '', '["hosting"]', 'full', 1, 'active', '[]', seeded, seeded);
    INSERT INTO attestations (tenant_id, id, vendor_id, kind, title, issuer, accreditation_body,
                              certificate_number, edition, issued_on, expires_on, period_start,
                              period_end, opinion, interim_submitted_on, notes, created_at,
                              updated_at)
    SELECT p, md5(format('share-bench/provider/%s/attestation/%s', i, a))::uuid, up,
           (ARRAY['soc2-type2', 'iso27001', 'pen-test', 'hitrust-r2'])[a + 1],
           (ARRAY['SOC 2 Type II report', 'ISO/IEC 27001 certificate', 'Penetration test',
                  'HITRUST r2 assessment'])[a + 1],
           'Bench Assurance LLP',
           CASE WHEN a = 1 THEN 'UKAS' END,
           CASE WHEN a = 1 THEN format('UP-%s', lpad(i::text, 3, '0')) END,
           CASE WHEN a = 1 THEN '2022' END,
           CASE WHEN a = 0 THEN s.issued + 45 ELSE s.issued END,
           CASE WHEN a = 1 THEN s.issued + 1095 WHEN a = 3 THEN s.issued + 730 END,
           CASE WHEN a = 0 THEN s.issued - 364 END,
           CASE WHEN a = 0 THEN s.issued END,
           CASE WHEN a = 0 THEN 'unmodified' END,
           CASE WHEN a = 3 AND i % 2 = 0 THEN s.issued + 330 END,
           '', seeded, seeded
    FROM generate_series(0, 3) AS a,
         LATERAL (SELECT date '2024-06-01' + (i * 5 + a * 37) % 600 AS issued) AS s;
    INSERT INTO baas (tenant_id, id, vendor_id, title, parties, effective_on, ends_on,
                      breach_notice_days, subcontractor_flow_down, terms, notes, created_at,
                      updated_at)
    VALUES (p, md5(format('share-bench/provider/%s/baa', i))::uuid, up,
            'Subcontractor business associate agreement', '["Upstream Cloud"]', date '2023-01-01',
            CASE WHEN i % 7 = 0 THEN date '2027-01-31' END, 30, true, all_terms, '', seeded, seeded);

    -- Six grants to the covered entity over the connection it made.
    INSERT INTO share_grants (tenant_id, id, grantee_tenant_id, connection_tenant_id,
                              connection_id, artifact_kind, artifact_id, access, expires_at,
                              note, created_by, created_at)
    SELECT p, md5(format('share-bench/provider/%s/grant/%s', i, g.slot))::uuid, c, c,
           md5('share-bench/connection/' || i)::uuid, g.kind, g.artifact,
           CASE WHEN (i + g.slot) % 3 = 0 THEN 'document' ELSE 'metadata' END,
           CASE WHEN (i + g.slot) % 8 = 0 THEN now() + interval '180 days' END,
           '', 'system:bench-seed', seeded + interval '2 hours'
    FROM (
      SELECT slot, kind, artifact FROM (VALUES
        (0, 'certificate', md5(format('share-bench/provider/%s/certificate/0', i))::uuid),
        (1, 'certificate', md5(format('share-bench/provider/%s/certificate/1', i))::uuid),
        (2, 'all-iso-certificates', NULL::uuid),
        (3, 'attestation', md5(format('share-bench/provider/%s/attestation/0', i))::uuid),
        (4, 'attestation', md5(format('share-bench/provider/%s/attestation/1', i))::uuid),
        (5, 'attestation', md5(format('share-bench/provider/%s/attestation/2', i))::uuid),
        (6, 'attestation', md5(format('share-bench/provider/%s/attestation/3', i))::uuid),
        (7, 'baa', md5(format('share-bench/provider/%s/baa', i))::uuid)
      ) AS all_slots (slot, kind, artifact)
      WHERE CASE WHEN i % 5 = 0 THEN slot NOT IN (0, 1) ELSE slot NOT IN (2, 6) END
    ) AS g;
  END LOOP;
END $$;
