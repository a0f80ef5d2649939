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
use grc_store::entity::vendors::{attestation, baa, certificate, certificate_decision, vendor};
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store, tenant};
use grc_store::{NewEvidence, Store, TenantScope};
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

#[tokio::test]
async fn due_items_on_sqlite() {
    let (store, dir) = sqlite_store("grc-store-due").await;
    exercise(&store).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_items_on_postgres() {
    let db = PgTestDb::create("grc_store_due_owner", "grc_store_due_app", "grc_due_").await;
    let store = db.app_store().await;
    exercise(&store).await;
    drop(store);
    db.drop().await;
}
