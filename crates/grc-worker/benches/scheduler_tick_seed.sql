-- Bulk data for the scheduler tick benchmark (benches/scheduler_tick.rs), run as the tables'
-- owner after the tenants were created through the store. Straight SQL, not the API: fast and
-- deterministic (setseed), but it writes no audit events and skips the API's validation, so
-- this database is a benchmark fixture only. Row-level security is forced for the owner too:
-- each tenant's rows are written with app.tenant_id set to that tenant.
--
-- `{today}` is the benchmark's local date (every tenant sends at 09:00 in a Central European
-- zone). Open items fall due uniformly from 60 days before it to a year after it, so about one
-- in seven is overdue; a few are resolved. Per tenant (about 100 tracked due items):
--   1 ISO 27001 certificate, decided 0 to 1,000 days ago for three years (its expiry,
--     surveillance and recertification items);
--   6 vendors with 8 attestations (4 SOC 2 type 2, 2 of them with a bridge letter; 2 ISO 27001
--     certificate copies; 2 penetration tests) and 4 BAAs (end date and review date each);
--   15 documents with a review date (10 policies, 5 procedures), 27 risks with a review date,
--   15 evidence records with an expiry (1 in 15 archived);
--   1 audit programme with 2 planned internal audits, 6 nonconformities with a due date (1 in
--     6 closed), 1 draft management review with 3 actions (1 done);
--   1 training course with 8 assignments (1 in 4 completed).
SELECT setseed(0.7);

DO $$
DECLARE
  t record;
  today date := DATE '{today}';
  owner uuid;
  v_isms uuid := gen_random_uuid();
  v_cert uuid;
  v_prog uuid;
  v_review uuid;
  v_course uuid;
  vendors uuid[];
  decided date;
  zones text[] := ARRAY['Europe/Berlin', 'Europe/Paris', 'Europe/Madrid', 'Europe/Rome',
                        'Europe/Amsterdam', 'Europe/Vienna', 'Europe/Warsaw', 'Europe/Stockholm'];
BEGIN
  FOR t IN SELECT id AS tenant_id, row_number() OVER (ORDER BY slug) AS n
           FROM tenants WHERE slug LIKE 'sched-bench-%' LOOP
    PERFORM set_config('app.tenant_id', t.tenant_id::text, true);
    SELECT user_id INTO STRICT owner FROM memberships WHERE tenant_id = t.tenant_id;
    v_isms := gen_random_uuid();

    INSERT INTO reminder_settings (tenant_id, time_zone, send_hour, send_minute, updated_by, updated_at)
    VALUES (t.tenant_id, zones[1 + t.n % 8], 9, 0, 'bench', now());

    INSERT INTO isms (tenant_id, id, name, scope_statement, boundaries, sites, base_framework,
                      likelihood_levels, impact_levels, acceptance_threshold, likelihood_labels,
                      impact_labels, created_at, updated_at)
    VALUES (t.tenant_id, v_isms, 'ISMS', 'All systems', '', '["HQ"]', 'iso27001-2022', 5, 5, 6,
            '["1","2","3","4","5"]', '["1","2","3","4","5"]', now(), now());

    -- The certificate.
    v_cert := gen_random_uuid();
    decided := today - (random() * 1000)::int;
    INSERT INTO certificates (tenant_id, id, standard, edition, certificate_number,
                              certification_body, scope, sites, notes, owner_id, created_at, updated_at)
    VALUES (t.tenant_id, v_cert, 'iso27001', '2022', format('C-%s', t.n), 'Body', 'All', '["HQ"]',
            '', owner, now(), now());
    INSERT INTO certificate_decisions (tenant_id, id, certificate_id, kind, decided_on, expires_on,
                                       reason, created_by, created_at)
    VALUES (t.tenant_id, gen_random_uuid(), v_cert, 'certification', decided,
            (decided + interval '3 years' - interval '1 day')::date, '', 'bench', now());

    -- Vendors, attestations, BAAs.
    WITH v AS (
      INSERT INTO vendors (tenant_id, id, name, description, services, ephi_access, tier, status,
                           contacts, owner_id, created_at, updated_at)
      SELECT t.tenant_id, gen_random_uuid(), format('Vendor %s', g), '', '[]', 'limited',
             1 + g % 4, 'active', '[]', owner, now(), now()
      FROM generate_series(1, 6) g
      RETURNING id)
    SELECT array_agg(id ORDER BY id) INTO vendors FROM v;
    -- SOC 2 type 2 reports: period ending 0 to 12 months ago (current for 12 months after it);
    -- two of them with a bridge letter to 1 to 90 days from now.
    INSERT INTO attestations (tenant_id, id, vendor_id, kind, title, issuer, issued_on,
                              period_start, period_end, opinion, bridge_issued_on, bridge_through,
                              notes, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), vendors[1 + g % 6], 'soc2-type2',
           format('SOC 2 report %s', g), 'Auditor', p.pe + 45, p.pe - 365, p.pe, 'unmodified',
           CASE WHEN g <= 2 THEN today - 10 END,
           CASE WHEN g <= 2 THEN today + 1 + (random() * 89)::int END, '', now(), now()
    FROM generate_series(1, 4) g,
         LATERAL (SELECT today - (random() * 365)::int + 0 * g AS pe) p;
    INSERT INTO attestations (tenant_id, id, vendor_id, kind, title, issuer, edition, issued_on,
                              expires_on, notes, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), vendors[1 + (g + 3) % 6], 'iso27001',
           format('ISO 27001 certificate %s', g), 'Body', '2022', e.ex - 1095, e.ex, '', now(), now()
    FROM generate_series(1, 2) g,
         LATERAL (SELECT today - 60 + (random() * 425)::int + 0 * g AS ex) e;
    INSERT INTO attestations (tenant_id, id, vendor_id, kind, title, issuer, issued_on, notes,
                              created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), vendors[1 + (g + 5) % 6], 'pen-test',
           format('Penetration test %s', g), 'Testers', today - (random() * 420)::int, '', now(), now()
    FROM generate_series(1, 2) g;
    INSERT INTO baas (tenant_id, id, vendor_id, title, parties, effective_on, ends_on, review_on,
                      breach_notice_days, subcontractor_flow_down, terms, notes, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), vendors[g], format('BAA %s', g), '[]', today - 700,
           today - 60 + (random() * 425)::int, today - 60 + (random() * 425)::int, 30, true, '{}',
           '', now(), now()
    FROM generate_series(1, 4) g;

    -- Documents, risks, evidence.
    INSERT INTO documents (tenant_id, id, isms_id, kind, title, owner_id, next_review_date,
                           created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_isms, CASE WHEN g <= 10 THEN 'policy' ELSE 'procedure' END,
           format('Document %s', g), owner, today - 60 + (random() * 425)::int, now(), now()
    FROM generate_series(1, 15) g;
    INSERT INTO risks (tenant_id, id, isms_id, ref, title, description, threat, vulnerability,
                       owner_id, inherent_likelihood, inherent_impact, review_date, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_isms, format('R-%s', g), format('Risk %s', g), '', '',
           '', owner, 1 + g % 5, 1 + g % 4, today - 60 + (random() * 425)::int, now(), now()
    FROM generate_series(1, 27) g;
    INSERT INTO evidence (tenant_id, id, title, description, filename, media_type, size_bytes,
                          sha256, object_key, effective_date, expires_on, uploaded_by, uploader_id,
                          uploaded_at, archived_at)
    SELECT t.tenant_id, gen_random_uuid(), format('Evidence %s', g), '', 'e.pdf', 'application/pdf',
           1000, repeat('0', 64), format('bench/%s/%s', t.n, g), today - 400,
           today - 60 + (random() * 425)::int, 'bench', owner, now(),
           CASE WHEN g = 15 THEN now() END
    FROM generate_series(1, 15) g;

    -- Internal audits, nonconformities, management review.
    v_prog := gen_random_uuid();
    INSERT INTO audit_programmes (tenant_id, id, isms_id, title, period_start, period_end,
                                  objectives, created_at, updated_at)
    VALUES (t.tenant_id, v_prog, v_isms, 'Programme', today - 100, today + 265, '', now(), now());
    INSERT INTO internal_audits (tenant_id, id, programme_id, title, scope, criteria, planned_start,
                                 planned_end, lead_auditor_id, auditors, status, conclusion,
                                 created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_prog, format('Internal audit %s', g), '', '', s.d,
           s.d + 2, owner, '[]', 'planned', '', now(), now()
    FROM generate_series(1, 2) g,
         LATERAL (SELECT today - 60 + (random() * 425)::int + 0 * g AS d) s;
    INSERT INTO nonconformities (tenant_id, id, isms_id, source, title, description, root_cause,
                                 correction, corrective_action, owner_id, due_date, status,
                                 verified_by, verified_on, effective, closed_at, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_isms, 'internal-audit', format('Nonconformity %s', g),
           '', '', '', 'Fix it', owner, today - 60 + (random() * 425)::int,
           CASE WHEN g = 6 THEN 'closed' ELSE 'action-planned' END,
           CASE WHEN g = 6 THEN 'bench' END, CASE WHEN g = 6 THEN today - 1 END,
           CASE WHEN g = 6 THEN true END, CASE WHEN g = 6 THEN now() END, now(), now()
    FROM generate_series(1, 6) g;
    v_review := gen_random_uuid();
    INSERT INTO management_reviews (tenant_id, id, isms_id, held_on, chair_id, attendees, inputs,
                                    decisions, status, created_at, updated_at)
    VALUES (t.tenant_id, v_review, v_isms, today - 60 + (random() * 425)::int, owner, '[]', '{}',
            '', 'draft', now(), now());
    INSERT INTO management_review_actions (tenant_id, id, review_id, title, owner_id, due_date,
                                           done_on, created_at, updated_at)
    SELECT t.tenant_id, gen_random_uuid(), v_review, format('Action %s', g), owner,
           today - 60 + (random() * 425)::int, CASE WHEN g = 3 THEN today - 2 END, now(), now()
    FROM generate_series(1, 3) g;

    -- Training.
    v_course := gen_random_uuid();
    INSERT INTO training_courses (tenant_id, id, title, description, hipaa_security_awareness,
                                  recurrence_months, created_at, updated_at)
    VALUES (t.tenant_id, v_course, 'Security awareness', '', true, 12, now(), now());
    INSERT INTO training_assignments (tenant_id, id, course_id, user_id, assigned_by, assigned_at,
                                      due_date, completed_on, completion_recorded_by)
    SELECT t.tenant_id, gen_random_uuid(), v_course, owner, 'bench', now(),
           today - 60 + (random() * 425)::int, CASE WHEN g % 4 = 0 THEN today - 3 END,
           CASE WHEN g % 4 = 0 THEN 'bench' END
    FROM generate_series(1, 8) g;
  END LOOP;
END $$;
