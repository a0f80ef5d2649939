-- Bulk data for the vendor compliance benchmark (scripts/bench/vendors.sh), run as the tables'
-- owner with row-level security forced: one tenant (slug vendor-bench) with 2,000 vendors in
-- four tiers (a third without ePHI access), 5 attestations each (ISO/IEC 27001, SOC 2 Type II,
-- HITRUST r2, penetration test, questionnaire; 10,000 in all) dated so that every compliance
-- outcome occurs, and a BAA with every vendor that has ePHI access (1 in 7 ending soon, 1 in 11
-- missing a required term). Straight SQL: no audit events, no API validation; a benchmark
-- fixture only.
DO $$
DECLARE
  t uuid;
  v uuid;
  i int;
  k int;
  issued date;
  all_terms text := '{"permitted-uses":true,"no-other-use":true,"safeguards":true,"report-disclosures":true,"subcontractors":true,"access":true,"amendment":true,"accounting":true,"subpart-e-obligations":true,"books-and-records":true,"return-or-destroy":true,"termination":true,"security-rule":true,"security-subcontractors":true,"security-incidents":true}';
BEGIN
  SELECT id INTO STRICT t FROM tenants WHERE slug = 'vendor-bench';
  PERFORM set_config('app.tenant_id', t::text, true);
  FOR i IN 0..1999 LOOP
    v := gen_random_uuid();
    INSERT INTO vendors (tenant_id, id, name, description, services, ephi_access, tier, status,
                         contacts, created_at, updated_at)
    VALUES (t, v, format('Vendor %s', lpad(i::text, 4, '0')), '', '["hosting"]',
            (ARRAY['none', 'limited', 'full'])[i % 3 + 1], i % 4 + 1, 'active', '[]', now(), now());
    FOR k IN 0..4 LOOP
      issued := date '2024-01-01' + ((i * 7 + k * 31) % 700);
      INSERT INTO attestations (tenant_id, id, vendor_id, kind, title, issuer, issued_on, expires_on,
                                period_start, period_end, opinion, interim_submitted_on, notes,
                                created_at, updated_at)
      VALUES (t, gen_random_uuid(), v, (ARRAY['iso27001', 'soc2-type2', 'hitrust-r2', 'pen-test', 'questionnaire'])[k + 1],
              format('Attestation %s/%s', i, k), 'Bench Assurance LLP', 
              CASE WHEN k = 1 THEN issued + 45 ELSE issued END,
              CASE WHEN k = 0 THEN issued + 1000 END,
              CASE WHEN k = 1 THEN issued - 364 END,
              CASE WHEN k = 1 THEN issued END,
              CASE WHEN k = 1 THEN 'unmodified' END,
              CASE WHEN k = 2 AND i % 2 = 0 THEN issued + 330 END,
              '', now(), now());
    END LOOP;
    IF i % 3 <> 0 THEN
      INSERT INTO baas (tenant_id, id, vendor_id, title, parties, effective_on, ends_on,
                        breach_notice_days, subcontractor_flow_down, terms, notes, created_at, updated_at)
      VALUES (t, gen_random_uuid(), v, 'Business associate agreement', '[]', date '2023-01-01',
              CASE WHEN i % 7 = 0 THEN date '2026-06-20' END, 30, true,
              CASE WHEN i % 11 = 0 THEN replace(all_terms, '"security-incidents":true', '"security-incidents":false') ELSE all_terms END,
              '', now(), now());
    END IF;
  END LOOP;
END $$;
