//! The tenant's tracked due items (`TenantTx::due_items`) on both backends: computed from the
//! live rows with the domain's rules (certificate cycle, SOC 2 currency and bridge letters),
//! with owners and resolved flags, and only the tenant's own. PostgreSQL must be running
//! (`GRC_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`): the test fails,
//! never skips, without it; it runs as an application role that cannot bypass row-level
//! security.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use chrono::{NaiveDate, Utc};
use grc_domain::reminders::DueKind;
use grc_store::entity::records::{training_assignment, training_course};
use grc_store::entity::vendors::{
    attestation, baa, certificate, certificate_audit, certificate_decision, vendor, vendor_policy,
};
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store, tenant};
use grc_store::{NewEvidence, Store, TenantScope, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

struct Ids {
    cert: Uuid,
    soc2: Uuid,
    baa: Uuid,
    ended_baa: Uuid,
    evidence: Uuid,
    open_training: Uuid,
    done_training: Uuid,
}

async fn seed(store: &Store, a: TenantScope, owner: Uuid) -> Ids {
    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let mut tx = store.tenant_tx(a).await.unwrap();
    let cert = tx
        .insert_certificate(certificate::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            isms_id: None,
            soa_version: None,
            standard: "iso27001".into(),
            edition: "2022".into(),
            certificate_number: "C-7".into(),
            certification_body: "Body".into(),
            accreditation_body: None,
            scope: "All".into(),
            sites: "[\"HQ\"]".into(),
            document_id: None,
            notes: String::new(),
            owner_id: Some(owner),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap()
        .id;
    tx.insert_certificate_decision(certificate_decision::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        certificate_id: cert,
        kind: "certification".into(),
        decided_on: day("2025-06-01"),
        expires_on: Some(day("2028-05-31")),
        scope: None,
        reason: String::new(),
        created_by: "user:test".into(),
        created_at: now,
    })
    .await
    .unwrap();
    let v = tx
        .insert_vendor(vendor::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            name: "Acme".into(),
            legal_name: None,
            website: None,
            description: String::new(),
            services: "[]".into(),
            ephi_access: "none".into(),
            phi_records: None,
            tier: 1,
            status: "active".into(),
            contacts: "[]".into(),
            owner_id: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap()
        .id;
    let soc2 = tx
        .insert_attestation(attestation::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            vendor_id: v,
            kind: "soc2-type2".into(),
            title: "SOC 2 Type II".into(),
            issuer: "Auditor LLP".into(),
            accreditation_body: None,
            certificate_number: None,
            edition: None,
            issued_on: day("2026-01-20"),
            expires_on: None,
            period_start: Some(day("2025-01-01")),
            period_end: Some(day("2025-12-31")),
            opinion: Some("unmodified".into()),
            bridge_issued_on: Some(day("2026-01-20")),
            bridge_through: Some(day("2026-02-28")),
            interim_submitted_on: None,
            hitrust_bridge_on: None,
            suspended_on: None,
            withdrawn_on: None,
            document_id: None,
            notes: String::new(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap()
        .id;
    let baa_row =
        |title: &str, ends: &str, review: Option<&str>, terminated: Option<&str>| baa::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            vendor_id: v,
            title: title.into(),
            parties: "[]".into(),
            effective_on: day("2025-02-01"),
            ends_on: Some(day(ends)),
            review_on: review.map(day),
            terminated_on: terminated.map(day),
            breach_notice_days: 30,
            subcontractor_flow_down: true,
            terms: "{}".into(),
            document_id: None,
            notes: String::new(),
            created_at: now,
            updated_at: now,
        };
    let baa = tx
        .insert_baa(baa_row("BAA", "2027-01-31", Some("2026-07-01"), None))
        .await
        .unwrap()
        .id;
    let ended_baa = tx
        .insert_baa(baa_row("Old BAA", "2026-06-30", None, Some("2026-02-15")))
        .await
        .unwrap()
        .id;
    let evidence = Uuid::now_v7();
    tx.insert_evidence(
        &NewEvidence {
            id: evidence,
            title: "Pen test".into(),
            description: String::new(),
            filename: "pt.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 1,
            sha256: "0".repeat(64),
            object_key: format!("k/{evidence}"),
            effective_date: day("2025-10-01"),
            expires_on: Some(day("2026-09-30")),
            uploaded_by: "user:test".into(),
            uploader_id: Some(owner),
            uploaded_at: now,
        },
        &[],
    )
    .await
    .unwrap();
    let course = Uuid::now_v7();
    tx.insert_training_course(training_course::Model {
        tenant_id: Uuid::nil(),
        id: course,
        title: "Security awareness".into(),
        description: String::new(),
        hipaa_security_awareness: true,
        recurrence_months: None,
        created_at: now,
        updated_at: now,
    })
    .await
    .unwrap();
    let assignment = |due: &str, done: Option<&str>| training_assignment::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        course_id: course,
        user_id: owner,
        assigned_by: "user:test".into(),
        assigned_at: now,
        due_date: day(due),
        completed_on: done.map(day),
        evidence: None,
        completion_recorded_by: done.map(|_| "user:test".into()),
    };
    let open = assignment("2026-04-30", None);
    let done = assignment("2026-01-31", Some("2026-01-20"));
    let (open_training, done_training) = (open.id, done.id);
    tx.insert_training_assignment(open).await.unwrap();
    tx.insert_training_assignment(done).await.unwrap();
    audited_commit(tx, "seed").await;
    Ids {
        cert,
        soc2,
        baa,
        ended_baa,
        evidence,
        open_training,
        done_training,
    }
}

async fn exercise(store: &Store) {
    let (a, owner) = tenant(store, "due-a").await;
    let (b, _) = tenant(store, "due-b").await;
    let ids = seed(store, a, owner).await;
    let today = day("2026-03-01");
    let tx = store.tenant_tx(a).await.unwrap();
    let items = tx.due_items(today).await.unwrap();
    tx.rollback().await.unwrap();
    let got: Vec<_> = items
        .iter()
        .map(|i| (i.subject_id, i.kind, i.due_on, i.owner_id, i.resolved))
        .collect();
    let has = |subject, kind, due: &str, owner_id, resolved| {
        assert!(
            got.contains(&(subject, kind, day(due), owner_id, resolved)),
            "{kind:?} {due} missing from {got:#?}"
        );
    };
    // Certificate decided 2025-06-01, printed expiry 2028-05-31: active on 2026-03-01, valid
    // until its expiry; the recertification is due by the expiry (17021-1 9.6.3); the first
    // surveillance within 12 months of the decision: 2025-06-01 + 12 months = 2026-06-01
    // (9.6.2.2). Owned by the certificate's owner.
    has(
        ids.cert,
        DueKind::CertificateExpiry,
        "2028-05-31",
        Some(owner),
        false,
    );
    has(
        ids.cert,
        DueKind::RecertificationAudit,
        "2028-05-31",
        Some(owner),
        false,
    );
    has(
        ids.cert,
        DueKind::SurveillanceAudit,
        "2026-06-01",
        Some(owner),
        false,
    );
    // SOC 2 Type II, period to 2025-12-31, bridge letter through 2026-02-28: coverage ends at
    // the bridge (within the default 3-month cap, 2026-03-31), and the report is current 12
    // months after its coverage: 2027-02-28. The bridge letter ends 2026-02-28.
    has(
        ids.soc2,
        DueKind::AttestationExpiry,
        "2027-02-28",
        None,
        false,
    );
    has(
        ids.soc2,
        DueKind::BridgeLetterEnd,
        "2026-02-28",
        None,
        false,
    );
    // BAAs: end and review dates as recorded; the one terminated on 2026-02-15 is resolved.
    has(ids.baa, DueKind::BaaEnd, "2027-01-31", None, false);
    has(ids.baa, DueKind::BaaReview, "2026-07-01", None, false);
    has(ids.ended_baa, DueKind::BaaEnd, "2026-06-30", None, true);
    // Evidence expiry, owned by its uploader; training owned by the assignee, the completed
    // assignment resolved.
    has(
        ids.evidence,
        DueKind::EvidenceExpiry,
        "2026-09-30",
        Some(owner),
        false,
    );
    has(
        ids.open_training,
        DueKind::TrainingDue,
        "2026-04-30",
        Some(owner),
        false,
    );
    has(
        ids.done_training,
        DueKind::TrainingDue,
        "2026-01-31",
        Some(owner),
        true,
    );
    // Subject types and titles.
    let t = |id: Uuid, kind: DueKind| {
        items
            .iter()
            .find(|i| i.subject_id == id && i.kind == kind)
            .map(|i| (i.subject_type, i.title.as_str()))
            .unwrap()
    };
    assert_eq!(
        t(ids.cert, DueKind::CertificateExpiry),
        ("Certificate", "ISO/IEC 27001 certificate C-7")
    );
    assert_eq!(
        t(ids.soc2, DueKind::AttestationExpiry),
        ("Attestation", "SOC 2 Type II")
    );
    assert_eq!(t(ids.baa, DueKind::BaaReview), ("Baa", "BAA"));
    assert_eq!(
        t(ids.evidence, DueKind::EvidenceExpiry),
        ("Evidence", "Pen test")
    );
    assert_eq!(
        t(ids.open_training, DueKind::TrainingDue),
        ("TrainingAssignment", "Security awareness")
    );
    // Ordered by due date.
    assert!(items.windows(2).all(|w| w[0].due_on <= w[1].due_on));
    // Nothing of A's in B.
    let tx = store.tenant_tx(b).await.unwrap();
    assert!(tx.due_items(today).await.unwrap().is_empty());
    tx.rollback().await.unwrap();
}

/// Runs `sql` (PostgreSQL placeholders; `?n` on SQLite) with `values` in `tx`.
async fn exec(tx: &TenantTx, sql: &str, values: Vec<sea_orm::Value>) {
    let backend = tx.raw_connection().get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    tx.raw_connection()
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap();
}

/// Every source of the one-statement part of `due_items` (BAAs, documents, risks, evidence,
/// nonconformities, management review actions, internal audits, management reviews, training,
/// share grants), rows with and without a date, resolved and not: the items of those sources
/// are exactly the expected ones, with their subject types, titles, owners and resolved flags.
/// The rows go in as raw SQL (the rules under test are `due_items`', not the repositories').
async fn every_source(store: &Store) {
    let (a, owner) = tenant(store, "src-a").await;
    let (b, _) = tenant(store, "src-b").await;
    let (ta, tb) = (a.tenant_id().0, b.tenant_id().0);
    let ids = seed(store, a, owner).await;
    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let id = |_: &str| Uuid::now_v7();
    let (isms, programme, review, done_review, connection, vendor) = (
        id("isms"),
        id("programme"),
        id("review"),
        id("done review"),
        id("connection"),
        id("vendor"),
    );
    let d = |s: &str| sea_orm::Value::from(day(s));
    let none_date = sea_orm::Value::from(Option::<NaiveDate>::None);
    let u = |v: Uuid| sea_orm::Value::from(v);
    let t = |v: chrono::DateTime<Utc>| sea_orm::Value::from(v);
    let tx = store.tenant_tx(a).await.unwrap();
    exec(
        &tx,
        "INSERT INTO isms (tenant_id, id, name, scope_statement, boundaries, sites, base_framework,
           likelihood_levels, impact_levels, acceptance_threshold, likelihood_labels, impact_labels,
           created_at, updated_at)
         VALUES ($1, $2, 'ISMS', '', '', '[]', 'iso27001-2022', 3, 3, 4, '[]', '[]', $3, $3)",
        vec![u(ta), u(isms), t(now)],
    )
    .await;
    // Documents: a policy and a procedure with review dates, a policy without one.
    let (policy, procedure, undated_policy) = (id("p"), id("q"), id("r"));
    for (doc, kind, title, owner_id, next) in [
        (
            policy,
            "policy",
            "Access policy",
            Some(owner),
            d("2026-05-01"),
        ),
        (
            procedure,
            "procedure",
            "Backup procedure",
            None,
            d("2026-04-01"),
        ),
        (
            undated_policy,
            "policy",
            "Old policy",
            Some(owner),
            none_date.clone(),
        ),
    ] {
        exec(
            &tx,
            "INSERT INTO documents (tenant_id, id, isms_id, kind, title, owner_id, next_review_date,
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            vec![u(ta), u(doc), u(isms), kind.into(), title.into(), owner_id.into(), next, t(now)],
        )
        .await;
    }
    // Risks: one with a review date, one without.
    let (risk, undated_risk) = (id("k"), id("l"));
    for (r, reference, review) in [
        (risk, "R-1", d("2026-06-30")),
        (undated_risk, "R-2", none_date.clone()),
    ] {
        exec(
            &tx,
            "INSERT INTO risks (tenant_id, id, isms_id, ref, title, description, threat,
               vulnerability, owner_id, inherent_likelihood, inherent_impact, review_date,
               created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'Ransomware', '', '', '', $5, 2, 2, $6, $7, $7)",
            vec![
                u(ta),
                u(r),
                u(isms),
                reference.into(),
                u(owner),
                review,
                t(now),
            ],
        )
        .await;
    }
    // Archived evidence with an expiry: resolved.
    let archived = id("archived");
    exec(
        &tx,
        "INSERT INTO evidence (tenant_id, id, title, description, filename, media_type, size_bytes,
           sha256, object_key, effective_date, expires_on, uploaded_by, uploader_id, uploaded_at,
           archived_at)
         VALUES ($1, $2, 'Old scan', '', 's.pdf', 'application/pdf', 1, $3, $4, $5, $6,
           'user:test', NULL, $7, $7)",
        vec![
            u(ta),
            u(archived),
            "1".repeat(64).into(),
            format!("k/{archived}").into(),
            d("2025-01-01"),
            d("2026-03-31"),
            t(now),
        ],
    )
    .await;
    // Nonconformities: open with a due date, closed with one, open without one.
    let (open_nc, closed_nc, undated_nc) = (id("n1"), id("n2"), id("n3"));
    for (nc, status, due) in [
        (open_nc, "action-planned", d("2026-03-15")),
        (closed_nc, "closed", d("2026-02-01")),
        (undated_nc, "open", none_date.clone()),
    ] {
        let closed = status == "closed";
        exec(
            &tx,
            "INSERT INTO nonconformities (tenant_id, id, isms_id, source, title, description,
               root_cause, correction, corrective_action, owner_id, due_date, status, verified_by,
               verified_on, effective, closed_at, created_at, updated_at)
             VALUES ($1, $2, $3, 'internal-audit', 'Missing review', '', '', '', 'Review', $4, $5,
               $6, $7, $8, $9, $10, $11, $11)",
            vec![
                u(ta),
                u(nc),
                u(isms),
                u(owner),
                due,
                status.into(),
                closed.then_some("user:test").into(),
                if closed {
                    d("2026-02-02")
                } else {
                    none_date.clone()
                },
                closed.then_some(true).into(),
                closed.then_some(now).into(),
                t(now),
            ],
        )
        .await;
    }
    // Management reviews: a draft (its actions: open, done, undated) and a completed one.
    for (r, held, status) in [
        (review, "2026-09-01", "draft"),
        (done_review, "2026-01-10", "completed"),
    ] {
        let completed = status == "completed";
        exec(
            &tx,
            "INSERT INTO management_reviews (tenant_id, id, isms_id, held_on, chair_id, attendees,
               inputs, decisions, status, completed_by, completed_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, '[]', '{}', '', $6, $7, $8, $9, $9)",
            vec![
                u(ta),
                u(r),
                u(isms),
                d(held),
                u(owner),
                status.into(),
                completed.then_some("user:test").into(),
                completed.then_some(now).into(),
                t(now),
            ],
        )
        .await;
    }
    let (open_action, done_action, undated_action) = (id("a1"), id("a2"), id("a3"));
    for (act, due, done) in [
        (open_action, d("2026-04-15"), none_date.clone()),
        (done_action, d("2026-02-20"), d("2026-02-18")),
        (undated_action, none_date.clone(), none_date.clone()),
    ] {
        exec(
            &tx,
            "INSERT INTO management_review_actions (tenant_id, id, review_id, title, owner_id,
               due_date, done_on, created_at, updated_at)
             VALUES ($1, $2, $3, 'Fund the backup site', $4, $5, $6, $7, $7)",
            vec![u(ta), u(act), u(review), u(owner), due, done, t(now)],
        )
        .await;
    }
    // Internal audits: a planned one and one in progress.
    exec(
        &tx,
        "INSERT INTO audit_programmes (tenant_id, id, isms_id, title, period_start, period_end,
           objectives, created_at, updated_at)
         VALUES ($1, $2, $3, 'Programme', $4, $5, '', $6, $6)",
        vec![
            u(ta),
            u(programme),
            u(isms),
            d("2026-01-01"),
            d("2026-12-31"),
            t(now),
        ],
    )
    .await;
    let (planned_audit, started_audit) = (id("ia1"), id("ia2"));
    for (ia, start, status) in [
        (planned_audit, "2026-05-10", "planned"),
        (started_audit, "2026-02-01", "in-progress"),
    ] {
        exec(
            &tx,
            "INSERT INTO internal_audits (tenant_id, id, programme_id, title, scope, criteria,
               planned_start, planned_end, actual_start, lead_auditor_id, auditors, status,
               conclusion, created_at, updated_at)
             VALUES ($1, $2, $3, 'Access control audit', '', '', $4, $4, $5, $6, '[]', $7, '', $8,
               $8)",
            vec![
                u(ta),
                u(ia),
                u(programme),
                d(start),
                if status == "planned" {
                    none_date.clone()
                } else {
                    d(start)
                },
                u(owner),
                status.into(),
                t(now),
            ],
        )
        .await;
    }
    // A BAA terminated after today: not resolved yet.
    let later_baa = id("later baa");
    exec(
        &tx,
        "INSERT INTO baas (tenant_id, id, vendor_id, title, parties, effective_on, ends_on,
           review_on, terminated_on, breach_notice_days, subcontractor_flow_down, terms, notes,
           created_at, updated_at)
         SELECT $1, $2, vendor_id, 'Winding-down BAA', '[]', $3, NULL, $4, $5, 30, true, '{}', '',
           $6, $6 FROM baas WHERE tenant_id = $1 AND id = $7",
        vec![
            u(ta),
            u(later_baa),
            d("2025-01-01"),
            d("2026-04-01"),
            d("2026-05-01"),
            t(now),
            u(ids.baa),
        ],
    )
    .await;
    // Share grants A made to B (through a connection of A's): one live with an expiry late on
    // 2026-06-30 UTC, one revoked.
    exec(
        &tx,
        "INSERT INTO vendors (tenant_id, id, name, description, services, ephi_access, tier,
           status, contacts, created_at, updated_at)
         VALUES ($1, $2, 'Provider B', '', '[]', 'none', 1, 'active', '[]', $3, $3)",
        vec![u(ta), u(vendor), t(now)],
    )
    .await;
    exec(
        &tx,
        "INSERT INTO connections (tenant_id, id, vendor_id, provider_tenant_id, status, message,
           invited_by, invited_at)
         VALUES ($1, $2, $3, $4, 'active', '', 'user:test', $5)",
        vec![u(ta), u(connection), u(vendor), u(tb), t(now)],
    )
    .await;
    let (live_grant, revoked_grant, received_grant) = (id("g1"), id("g2"), id("g3"));
    let grant = "INSERT INTO share_grants (tenant_id, id, grantee_tenant_id, connection_tenant_id,
           connection_id, artifact_kind, artifact_id, access, expires_at, note, created_by,
           created_at, revoked_by, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'metadata', $8, '', 'user:test', $9, $10, $11)";
    let expires = chrono::DateTime::parse_from_rfc3339("2026-06-30T22:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for (g, kind, revoked) in [
        (live_grant, "soa-summary", false),
        (revoked_grant, "certificate", true),
    ] {
        exec(
            &tx,
            grant,
            vec![
                u(ta),
                u(g),
                u(tb),
                u(ta),
                u(connection),
                kind.into(),
                u(ids.cert),
                t(expires),
                t(now),
                revoked.then_some("user:test").into(),
                revoked.then_some(now).into(),
            ],
        )
        .await;
    }
    audited_commit(tx, "sources").await;
    // A grant B made to A over the same connection: A reads it (as the grantee) but it is
    // B's item, not A's.
    let tx = store.tenant_tx(b).await.unwrap();
    exec(
        &tx,
        grant,
        vec![
            u(tb),
            u(received_grant),
            u(ta),
            u(ta),
            u(connection),
            "soa-summary".into(),
            u(ids.cert),
            t(expires),
            t(now),
            Option::<&str>::None.into(),
            Option::<chrono::DateTime<Utc>>::None.into(),
        ],
    )
    .await;
    audited_commit(tx, "received grant").await;

    let today = day("2026-03-01");
    let tx = store.tenant_tx(a).await.unwrap();
    let items = tx.due_items(today).await.unwrap();
    tx.rollback().await.unwrap();
    let mut got: Vec<_> = items
        .iter()
        .filter(|i| !matches!(i.subject_type, "Certificate" | "Attestation"))
        .map(|i| {
            (
                i.subject_type,
                i.subject_id,
                i.kind,
                i.due_on,
                i.title.clone(),
                i.owner_id,
                i.resolved,
            )
        })
        .collect();
    let item = |st, sid, kind, due: &str, title: &str, owner_id, resolved| {
        (
            st,
            sid,
            kind,
            day(due),
            title.to_owned(),
            owner_id,
            resolved,
        )
    };
    let o = Some(owner);
    let mut want = vec![
        // From `seed`: the BAAs (the one terminated on 2026-02-15 resolved), evidence, training.
        item(
            "Baa",
            ids.baa,
            DueKind::BaaEnd,
            "2027-01-31",
            "BAA",
            None,
            false,
        ),
        item(
            "Baa",
            ids.baa,
            DueKind::BaaReview,
            "2026-07-01",
            "BAA",
            None,
            false,
        ),
        item(
            "Baa",
            ids.ended_baa,
            DueKind::BaaEnd,
            "2026-06-30",
            "Old BAA",
            None,
            true,
        ),
        item(
            "Evidence",
            ids.evidence,
            DueKind::EvidenceExpiry,
            "2026-09-30",
            "Pen test",
            o,
            false,
        ),
        item(
            "TrainingAssignment",
            ids.open_training,
            DueKind::TrainingDue,
            "2026-04-30",
            "Security awareness",
            o,
            false,
        ),
        item(
            "TrainingAssignment",
            ids.done_training,
            DueKind::TrainingDue,
            "2026-01-31",
            "Security awareness",
            o,
            true,
        ),
        // Terminated on 2026-05-01, after today: not resolved; no end date, so no end item.
        item(
            "Baa",
            later_baa,
            DueKind::BaaReview,
            "2026-04-01",
            "Winding-down BAA",
            None,
            false,
        ),
        item(
            "Document",
            policy,
            DueKind::PolicyReview,
            "2026-05-01",
            "Access policy",
            o,
            false,
        ),
        item(
            "Document",
            procedure,
            DueKind::DocumentReview,
            "2026-04-01",
            "Backup procedure",
            None,
            false,
        ),
        item(
            "Risk",
            risk,
            DueKind::RiskReview,
            "2026-06-30",
            "R-1 Ransomware",
            o,
            false,
        ),
        item(
            "Evidence",
            archived,
            DueKind::EvidenceExpiry,
            "2026-03-31",
            "Old scan",
            None,
            true,
        ),
        item(
            "Nonconformity",
            open_nc,
            DueKind::CorrectiveActionDue,
            "2026-03-15",
            "Missing review",
            o,
            false,
        ),
        item(
            "Nonconformity",
            closed_nc,
            DueKind::CorrectiveActionDue,
            "2026-02-01",
            "Missing review",
            o,
            true,
        ),
        item(
            "ManagementReviewAction",
            open_action,
            DueKind::CorrectiveActionDue,
            "2026-04-15",
            "Fund the backup site",
            o,
            false,
        ),
        item(
            "ManagementReviewAction",
            done_action,
            DueKind::CorrectiveActionDue,
            "2026-02-20",
            "Fund the backup site",
            o,
            true,
        ),
        item(
            "InternalAudit",
            planned_audit,
            DueKind::InternalAuditDue,
            "2026-05-10",
            "Access control audit",
            o,
            false,
        ),
        item(
            "InternalAudit",
            started_audit,
            DueKind::InternalAuditDue,
            "2026-02-01",
            "Access control audit",
            o,
            true,
        ),
        item(
            "ManagementReview",
            review,
            DueKind::ManagementReviewDue,
            "2026-09-01",
            "Management review of 2026-09-01",
            o,
            false,
        ),
        item(
            "ManagementReview",
            done_review,
            DueKind::ManagementReviewDue,
            "2026-01-10",
            "Management review of 2026-01-10",
            o,
            true,
        ),
        item(
            "ShareGrant",
            live_grant,
            DueKind::ShareGrantExpiry,
            "2026-06-30",
            "Share of soa-summary",
            None,
            false,
        ),
        item(
            "ShareGrant",
            revoked_grant,
            DueKind::ShareGrantExpiry,
            "2026-06-30",
            "Share of certificate",
            None,
            true,
        ),
    ];
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // B's own grant is B's item only.
    let tx = store.tenant_tx(b).await.unwrap();
    let items = tx.due_items(today).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| (i.subject_id, i.kind, i.resolved))
            .collect::<Vec<_>>(),
        vec![(received_grant, DueKind::ShareGrantExpiry, false)]
    );
}

/// The certificate's audits and the vendor policy reach the items. The certificate of `seed`
/// (decided 2025-06-01, expiring 2028-05-31) owes, on 2026-03-01, its first surveillance by
/// 2026-06-01 and an annual surveillance in 2026 and in 2027 (by December 31; 2028 is the
/// recertification year). A surveillance audit on 2026-05-04/05 meets the first surveillance
/// and 2026's: only 2027's is left. The SOC 2 report's coverage ends with its bridge letter
/// on 2026-02-28; with a stored vendor policy of 6 months' currency instead of the default 12,
/// it is current until 2026-08-28 (not 2027-02-28).
async fn history_and_policy(store: &Store) {
    let (a, owner) = tenant(store, "hist-a").await;
    let ids = seed(store, a, owner).await;
    let today = day("2026-03-01");
    let surveillance = |items: &[grc_store::TrackedDue]| {
        let mut d: Vec<_> = items
            .iter()
            .filter(|i| i.subject_id == ids.cert && i.kind == DueKind::SurveillanceAudit)
            .map(|i| i.due_on)
            .collect();
        d.sort();
        d
    };
    let soc2_expiry = |items: &[grc_store::TrackedDue]| {
        items
            .iter()
            .filter(|i| i.subject_id == ids.soc2 && i.kind == DueKind::AttestationExpiry)
            .map(|i| i.due_on)
            .collect::<Vec<_>>()
    };
    let tx = store.tenant_tx(a).await.unwrap();
    let items = tx.due_items(today).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        surveillance(&items),
        vec![day("2026-06-01"), day("2026-12-31"), day("2027-12-31")]
    );
    assert_eq!(soc2_expiry(&items), vec![day("2027-02-28")]);

    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.insert_certificate_audit(certificate_audit::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        certificate_id: ids.cert,
        kind: "surveillance".into(),
        start_date: day("2026-05-04"),
        end_date: day("2026-05-05"),
        auditors: "[]".into(),
        major_findings: 0,
        minor_findings: 1,
        observations: 0,
        summary: String::new(),
        created_at: now,
        updated_at: now,
    })
    .await
    .unwrap();
    tx.save_vendor_policy(vendor_policy::Model {
        tenant_id: Uuid::nil(),
        requirements: "{}".into(),
        soc2_current_months: 6,
        soc2_bridge_max_months: 3,
        pen_test_months: 12,
        questionnaire_months: 12,
        expiring_window_days: 60,
        updated_by: "user:test".into(),
        updated_at: now,
    })
    .await
    .unwrap();
    audited_commit(tx, "history").await;
    let tx = store.tenant_tx(a).await.unwrap();
    let items = tx.due_items(today).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(surveillance(&items), vec![day("2027-12-31")]);
    assert_eq!(soc2_expiry(&items), vec![day("2026-08-28")]);
}

/// Breach-notification deadlines, computed from the stored incident facts with the domain's
/// clocks: an item per incident involving ePHI, due on the earliest required deadline without a
/// notice; moved by a law-enforcement delay; resolved once every required notice is recorded;
/// gone with a "not a breach" decision; none for an incident without ePHI, none in another
/// tenant.
async fn breach_deadlines(store: &Store) {
    use grc_domain::incidents::{
        BreachAssessment, BreachDecision, FactorAssessment, FactorLevel, LawEnforcementDelay,
        Notification, NotificationMethod, PhiSecurity, Recipient, RiskFactor, Severity,
        StatementForm,
    };
    use grc_store::{IncidentFields, NewDelay, NewNotification};
    let (a, owner) = tenant(store, "breach-a").await;
    let (b, _) = tenant(store, "breach-b").await;
    let today = day("2026-07-05");
    let fields = |title: &str, ephi: bool| IncidentFields {
        title: title.into(),
        description: String::new(),
        severity: Severity::High,
        discovered_at: None,
        discovered_on: day("2026-05-01"),
        occurred_from: None,
        occurred_until: None,
        reporter: "it@example.org".into(),
        reporter_id: None,
        owner_id: Some(owner),
        affected_systems: vec![],
        affected_asset_ids: vec![],
        ephi_involved: ephi,
        lessons_learned: String::new(),
    };
    let breaches = |items: Vec<grc_store::TrackedDue>| -> Vec<grc_store::TrackedDue> {
        items
            .into_iter()
            .filter(|i| i.kind == DueKind::BreachNotificationDeadline)
            .collect()
    };
    let mut tx = store.tenant_tx(a).await.unwrap();
    let x = tx
        .create_incident(&fields("Stolen laptop", true), "user:test", today)
        .await
        .unwrap();
    tx.create_incident(&fields("Phishing", false), "user:test", today)
        .await
        .unwrap();
    audited_commit(tx, "incidents").await;

    // No decision: presumed a breach; under 500 (none counted): individuals by discovery + 60.
    let tx = store.tenant_tx(a).await.unwrap();
    let items = breaches(tx.due_items(today).await.unwrap());
    tx.rollback().await.unwrap();
    assert_eq!(items.len(), 1);
    let i = &items[0];
    assert_eq!(
        (
            i.subject_type,
            i.subject_id,
            i.due_on,
            i.owner_id,
            i.resolved
        ),
        ("Incident", x.id, day("2026-06-30"), Some(owner), false)
    );
    assert_eq!(i.title, "Breach notice to individuals for Stolen laptop");

    // 600 affected, 501 in California: HHS and the Californian media on the same day; a
    // written delay of 30 days moves them all.
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.set_affected_counts(x.id, 600, &[("CA", 501)], "user:test")
        .await
        .unwrap();
    tx.add_law_enforcement_delay(
        x.id,
        &NewDelay {
            delay: LawEnforcementDelay {
                form: StatementForm::Written,
                stated_on: day("2026-05-10"),
                ends_on: Some(day("2026-06-09")),
            },
            agency: "FBI".into(),
            official: "SA Jones".into(),
            notes: String::new(),
        },
        "user:test",
        today,
    )
    .await
    .unwrap();
    let items = breaches(tx.due_items(today).await.unwrap());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].due_on, day("2026-07-30"));
    assert_eq!(
        items[0].title,
        "Breach notice to individuals, hhs, media (CA) for Stolen laptop"
    );
    // Individuals and HHS notified: the media notice is still owed.
    for (r, m) in [
        (Recipient::Individuals, NotificationMethod::FirstClassMail),
        (Recipient::Hhs, NotificationMethod::HhsPortal),
    ] {
        tx.record_breach_notification(
            x.id,
            &NewNotification {
                notification: Notification {
                    recipient: r,
                    jurisdiction: None,
                    sent_on: day("2026-07-01"),
                    method: m,
                },
                recipient_detail: String::new(),
                individuals: None,
            },
            "user:test",
            today,
        )
        .await
        .unwrap();
    }
    let items = breaches(tx.due_items(today).await.unwrap());
    assert_eq!(
        (items[0].due_on, items[0].title.as_str(), items[0].resolved),
        (
            day("2026-07-30"),
            "Breach notice to media (CA) for Stolen laptop",
            false
        )
    );
    // The media notified: resolved.
    tx.record_breach_notification(
        x.id,
        &NewNotification {
            notification: Notification {
                recipient: Recipient::Media,
                jurisdiction: Some(grc_domain::incidents::Jurisdiction::California),
                sent_on: day("2026-07-02"),
                method: NotificationMethod::MediaOutlet,
            },
            recipient_detail: String::new(),
            individuals: None,
        },
        "user:test",
        today,
    )
    .await
    .unwrap();
    let items = breaches(tx.due_items(today).await.unwrap());
    assert_eq!(items.len(), 1);
    assert!(items[0].resolved);
    assert_eq!(items[0].due_on, day("2026-07-30"));
    // Nothing in B.
    audited_commit(tx, "facts").await;
    let tx = store.tenant_tx(b).await.unwrap();
    assert!(breaches(tx.due_items(today).await.unwrap()).is_empty());
    tx.rollback().await.unwrap();

    // A "not a breach" decision: no notice is required, the item goes away.
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.put_breach_assessment(
        x.id,
        &BreachAssessment {
            phi_security: PhiSecurity::Unsecured,
            factors: RiskFactor::ALL
                .iter()
                .map(|&f| FactorAssessment {
                    factor: f,
                    level: FactorLevel::Low,
                    rationale: "weighed".into(),
                })
                .collect(),
            decision: BreachDecision::LowProbability {
                rationale: "recovered unopened".into(),
            },
            decided_on: day("2026-05-20"),
        },
        "Privacy Officer",
        None,
        "user:test",
        today,
    )
    .await
    .unwrap();
    assert!(breaches(tx.due_items(today).await.unwrap()).is_empty());
    audited_commit(tx, "decision").await;
}

#[tokio::test]
async fn due_items_on_sqlite() {
    let (store, dir) = sqlite_store("grc-store-due").await;
    exercise(&store).await;
    every_source(&store).await;
    history_and_policy(&store).await;
    breach_deadlines(&store).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_items_on_postgres() {
    let db = PgTestDb::create("grc_store_due_owner", "grc_store_due_app", "grc_due_").await;
    let store = db.app_store().await;
    exercise(&store).await;
    every_source(&store).await;
    history_and_policy(&store).await;
    breach_deadlines(&store).await;
    drop(store);
    db.drop().await;
}
