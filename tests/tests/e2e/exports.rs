//! Exports: an approved SoA version and the risk register (current and as of a date) as CSV
//! and XLSX, read back with a CSV parser and an XLSX reader and compared with values worked
//! out by hand; roles, tenant isolation, formula injection, a tampered version.

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use grc_api::graphql::ids::{Kind, encode};
use grc_catalog::model::control_id;
use grc_domain::audit::Actor;
use grc_domain::isms::{
    AssetKind, Classification, ImplementationStatus, Rating, RiskCriteria, Treatment,
};
use grc_domain::tenancy::Role;
use grc_e2e::{Backend, Fixture, TestApp, both_backends};
use grc_store::{
    AssetFields, AuditEntry, IsmsFields, PageRequest, RiskFields, SoaApproval, SoaControl,
    SoaEntryPatch, TenantScope, TenantTx,
};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::io::Read;
use uuid::Uuid;

const FW: &str = "iso27001-2022";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

both_backends! {
    soa_version_as_csv_and_xlsx => soa_version_as_csv_and_xlsx;
    risk_register_current_and_as_of => risk_register_current_and_as_of;
    roles_isolation_and_bad_requests => roles_isolation_and_bad_requests;
    tampered_version_is_refused => tampered_version_is_refused;
}

/// What [`seed`] made.
struct Seed {
    isms: Uuid,
    version: Uuid,
    risks: [Uuid; 3],
}

fn ctl(r: &str) -> Uuid {
    control_id(FW, r)
}

/// The id of a control the catalog does not have.
fn retired() -> Uuid {
    control_id(FW, "A.99.1")
}

async fn audit(tx: &mut TenantTx, what: &str) {
    tx.append_audit(AuditEntry {
        actor: Actor::System("test".into()),
        action: what.into(),
        subject_type: "Test".into(),
        subject_id: "seed".into(),
        change: serde_json::json!({}),
    })
    .await
    .unwrap();
}

#[allow(clippy::too_many_arguments)]
fn risk_fields(
    reference: &str,
    title: &str,
    threat: &str,
    vulnerability: &str,
    owner: Option<Uuid>,
    inherent: (u8, u8),
    residual: Option<(u8, u8)>,
    treatment: Option<Treatment>,
    plan: Option<&str>,
    review: Option<NaiveDate>,
) -> RiskFields {
    let rating = |(likelihood, impact)| Rating { likelihood, impact };
    RiskFields {
        reference: reference.into(),
        title: title.into(),
        description: String::new(),
        threat: threat.into(),
        vulnerability: vulnerability.into(),
        owner_id: owner,
        inherent: rating(inherent),
        residual: residual.map(rating),
        treatment,
        treatment_plan: plan.map(str::to_owned),
        review_date: review,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An ISMS over four Annex A controls (5×5 criteria, acceptance up to 6), two assets, three
/// risks (R-1 accepted, R-2, R-10), an approved SoA version 1, and a risk assessment performed
/// on 2026-01-15. Several texts start like formulas.
async fn seed(app: &TestApp, fx: &Fixture) -> Seed {
    let cm = fx.user_ids["cm"];
    let owner = fx.user_ids["owner"];
    let contrib = fx.user_ids["contrib"];
    let isms = Uuid::now_v7();
    let version = Uuid::now_v7();
    let (a1, a2) = (Uuid::now_v7(), Uuid::now_v7());
    let risks = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let mut tx = app
        .store
        .tenant_tx(TenantScope::new(fx.tenant.id))
        .await
        .unwrap();
    // Inserted out of catalog order: the export follows the catalog.
    let controls: Vec<SoaControl> = ["A.8.24", "A.5.23", "A.7.4", "A.5.1"]
        .iter()
        .enumerate()
        .map(|(i, r)| SoaControl {
            control_id: ctl(r),
            control_ref: (*r).into(),
            sort: i as i32,
        })
        // A control that is not (or no longer) in the catalog keeps its frozen reference.
        .chain([SoaControl {
            control_id: retired(),
            control_ref: "A.99.1".into(),
            sort: -1,
        }])
        .collect();
    tx.create_isms(
        isms,
        FW,
        &IsmsFields {
            name: "Acme ISMS / HQ".into(),
            scope_statement: "All of Acme".into(),
            boundaries: String::new(),
            sites: vec!["HQ".into()],
            privacy_framework: None,
            privacy_role: None,
            climate_relevant: None,
            climate_rationale: None,
        },
        &RiskCriteria::default(),
        &controls,
        "test",
    )
    .await
    .unwrap();
    for (id, name) in [(a1, "Customer DB"), (a2, "Laptop fleet")] {
        tx.save_asset(
            id,
            &AssetFields {
                isms_id: Some(isms),
                name: name.into(),
                kind: AssetKind::Information,
                classification: Classification::Confidential,
                owner_id: None,
                location: None,
                description: String::new(),
                ephi: false,
            },
            true,
        )
        .await
        .unwrap();
    }
    let [r1, r2, r10] = risks;
    tx.save_risk(
        r1,
        isms,
        &risk_fields(
            "R-1",
            "Cloud misconfiguration",
            "@attacker",
            "Weak IAM",
            Some(owner),
            (2, 2),
            Some((2, 2)),
            Some(Treatment::Retain),
            None,
            None,
        ),
        Some(&[]),
        Some(&[]),
        true,
    )
    .await
    .unwrap();
    tx.save_risk(
        r2,
        isms,
        &risk_fields(
            "R-2",
            "Ransomware",
            "=HYPERLINK(\"http://x.test\",\"click\")",
            "Unpatched servers",
            Some(cm),
            (4, 5),
            Some((2, 3)),
            Some(Treatment::Modify),
            Some("+patch weekly"),
            Some(date(2026, 6, 30)),
        ),
        Some(&[a1]),
        Some(&[ctl("A.8.24"), ctl("A.5.1")]),
        true,
    )
    .await
    .unwrap();
    tx.save_risk(
        r10,
        isms,
        &risk_fields(
            "R-10",
            "Lost laptop",
            "Theft",
            "-no disk encryption",
            Some(owner),
            (3, 3),
            None,
            None,
            None,
            None,
        ),
        Some(&[a2, a1]),
        Some(&[ctl("A.8.24")]),
        true,
    )
    .await
    .unwrap();
    tx.accept_risk(r1, owner).await.unwrap();
    let patch = |applicable, justification: &str, status, owner| SoaEntryPatch {
        applicable: Some(applicable),
        justification: Some(justification.into()),
        status: Some(status),
        owner_id: Some(owner),
        notes: None,
        inherited_from: None,
    };
    tx.update_soa_entries(
        isms,
        &[
            (
                ctl("A.5.1"),
                patch(
                    true,
                    "=Required by management",
                    ImplementationStatus::Implemented,
                    Some(cm),
                ),
            ),
            (
                ctl("A.5.23"),
                patch(
                    false,
                    "No cloud services used",
                    ImplementationStatus::NotStarted,
                    None,
                ),
            ),
            (
                ctl("A.7.4"),
                patch(
                    true,
                    "-Site, \"monitored\"\nby guards",
                    ImplementationStatus::Planned,
                    None,
                ),
            ),
            (
                ctl("A.8.24"),
                patch(
                    true,
                    "Encryption at rest",
                    ImplementationStatus::Partial,
                    Some(contrib),
                ),
            ),
            (
                retired(),
                patch(
                    true,
                    "Kept from the earlier SoA",
                    ImplementationStatus::Implemented,
                    None,
                ),
            ),
        ],
        "test",
    )
    .await
    .unwrap();
    let revision = tx.isms(isms).await.unwrap().unwrap().soa_revision;
    let entries = tx.soa_draft_entries(isms).await.unwrap();
    tx.approve_soa(
        isms,
        &entries,
        SoaApproval {
            id: version,
            draft_revision: revision,
            actor: format!("user:{cm}"),
            approver: Some(cm),
            note: Some("Q1 review".into()),
        },
    )
    .await
    .unwrap();
    tx.record_risk_assessment(Uuid::now_v7(), isms, "Q1", date(2026, 1, 15), "test")
        .await
        .unwrap();
    audit(&mut tx, "test.seed").await;
    tx.commit().await.unwrap();
    Seed {
        isms,
        version,
        risks,
    }
}

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
        slug,
        &[
            ("owner", Role::Owner),
            ("cm", Role::ComplianceManager),
            ("contrib", Role::Contributor),
            ("auditor", Role::Auditor),
            ("viewer", Role::Viewer),
        ],
    )
    .await
}

struct Got {
    status: u16,
    content_type: String,
    disposition: String,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn error_code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn get(app: &TestApp, token: Option<&str>, tenant: Option<&str>, path: &str) -> Got {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(t) = tenant {
        req = req.header("X-Tenant", t);
    }
    let resp = req.send().await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    Got {
        status: resp.status().as_u16(),
        content_type: header("content-type"),
        disposition: header("content-disposition"),
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Days since Excel's epoch (1899-12-30 for dates after February 1900).
fn excel_serial(d: NaiveDate) -> f64 {
    (d - date(1899, 12, 30)).num_days() as f64
}

/// A cell as the CSV writes it: integers plain, dates ISO, date-times ISO in UTC.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::DateTime(t) => {
            let serial = t.as_f64();
            let day = date(1899, 12, 30) + chrono::Duration::days(serial.floor() as i64);
            let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
            if serial.fract() == 0.0 {
                day.format("%Y-%m-%d").to_string()
            } else {
                (day.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::seconds(secs))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            }
        }
        other => panic!("unexpected cell {other:?}"),
    }
}

struct Book {
    xlsx: Xlsx<std::io::Cursor<Vec<u8>>>,
    bytes: Vec<u8>,
}

impl Book {
    fn open(bytes: &[u8]) -> Self {
        Self {
            xlsx: Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap(),
            bytes: bytes.to_vec(),
        }
    }
    fn cells(&mut self, sheet: &str) -> Vec<Vec<Data>> {
        let range = self.xlsx.worksheet_range(sheet).unwrap();
        // The range starts at the first used cell: A1 on both sheets.
        assert_eq!(range.start(), Some((0, 0)));
        range.rows().map(<[Data]>::to_vec).collect()
    }
    fn texts(&mut self, sheet: &str) -> Vec<Vec<String>> {
        self.cells(sheet)
            .iter()
            .map(|r| r.iter().map(cell_text).collect())
            .collect()
    }
    /// No cell of `sheet` holds a formula.
    fn assert_no_formulas(&mut self, sheet: &str) {
        let f = self.xlsx.worksheet_formula(sheet).unwrap();
        assert!(
            f.rows().flatten().all(String::is_empty),
            "{sheet} has formulas"
        );
    }
    /// The XML of the first worksheet.
    fn sheet1_xml(&self) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(self.bytes.clone())).unwrap();
        let mut s = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }
}

/// The "About" sheet as key → value.
fn about(book: &mut Book) -> std::collections::HashMap<String, String> {
    book.texts("About")
        .into_iter()
        .skip(1)
        .filter(|r| r.len() >= 2 && !r[0].is_empty())
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

async fn last_event(app: &TestApp, fx: &Fixture) -> grc_domain::audit::AuditRecord {
    let tx = app
        .store
        .tenant_tx(TenantScope::new(fx.tenant.id))
        .await
        .unwrap();
    let page = tx
        .audit_events(&PageRequest::Backward {
            last: 1,
            before: None,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    page.items.into_iter().next().unwrap()
}

async fn event_count(app: &TestApp, fx: &Fixture) -> u64 {
    let tx = app
        .store
        .tenant_tx(TenantScope::new(fx.tenant.id))
        .await
        .unwrap();
    let n = tx.audit_event_count().await.unwrap();
    tx.commit().await.unwrap();
    n
}

fn soa_expected(fx: &Fixture) -> Vec<Vec<String>> {
    let cm = format!("cm <cm@{}.test>", fx.tenant.slug.as_str());
    let contrib = format!("contrib <contrib@{}.test>", fx.tenant.slug.as_str());
    let rows: [[&str; 11]; 6] = [
        [
            "Control",
            "Title",
            "Theme",
            "Applicable",
            "Justification",
            "Implementation status",
            "Owner",
            "Linked risks",
            "Risk references",
            "Linked evidence",
            "Inherited from",
        ],
        [
            "A.5.1",
            "Policies for information security",
            "A.5 Organizational controls",
            "Yes",
            "'=Required by management",
            "implemented",
            &cm,
            "1",
            "R-2",
            "0",
            "",
        ],
        [
            "A.5.23",
            "Information security for use of cloud services",
            "A.5 Organizational controls",
            "No",
            "No cloud services used",
            "not-started",
            "",
            "0",
            "",
            "0",
            "",
        ],
        [
            "A.7.4",
            "Physical security monitoring",
            "A.7 Physical controls",
            "Yes",
            "'-Site, \"monitored\"\nby guards",
            "planned",
            "",
            "0",
            "",
            "0",
            "",
        ],
        [
            "A.8.24",
            "Use of cryptography",
            "A.8 Technological controls",
            "Yes",
            "Encryption at rest",
            "partial",
            &contrib,
            "2",
            "R-2; R-10",
            "0",
            "",
        ],
        [
            "A.99.1",
            "",
            "",
            "Yes",
            "Kept from the earlier SoA",
            "implemented",
            "",
            "0",
            "",
            "0",
            "",
        ],
    ];
    rows.iter()
        .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

async fn soa_version_as_csv_and_xlsx(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fx = fixture(&app, "acme").await;
    let s = seed(&app, &fx).await;
    let slug = Some(fx.tenant.slug.as_str());
    let gid = encode(Kind::SoaVersion, s.version).0;

    // CSV by global id, as the compliance manager.
    let before = event_count(&app, &fx).await;
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &format!("/exports/soa-versions/{gid}.csv"),
    )
    .await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        got.disposition,
        "attachment; filename=\"soa-acme-isms-hq-v1.csv\""
    );
    let text = String::from_utf8(got.body.clone()).unwrap();
    // RFC 4180: CRLF between records, quotes doubled inside a quoted field.
    assert!(text.starts_with("Control,Title,Theme,Applicable,"));
    assert!(text.contains("\r\n"));
    assert!(text.contains("\"'-Site, \"\"monitored\"\"\nby guards\""));
    let expected = soa_expected(&fx);
    assert_eq!(csv_rows(&got.body), expected);

    // The export is on the audit trail, with its subject and format.
    assert_eq!(event_count(&app, &fx).await, before + 1);
    let e = last_event(&app, &fx).await;
    assert_eq!(e.action, "isms.export");
    assert_eq!(e.subject_type, "SoaVersion");
    assert_eq!(e.subject_id, s.version.to_string());
    assert_eq!(e.actor, format!("user:{}", fx.user_ids["cm"]));
    let change: Value = serde_json::from_str(&e.change).unwrap();
    assert_eq!(change["format"], "csv");
    assert_eq!(change["version"], 1);
    assert_eq!(change["rows"], 5);

    // XLSX by raw UUID: the same values, typed; an "About" sheet; no formula anywhere.
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &format!("/exports/soa-versions/{}.xlsx", s.version),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, XLSX);
    assert_eq!(
        got.disposition,
        "attachment; filename=\"soa-acme-isms-hq-v1.xlsx\""
    );
    let mut book = Book::open(&got.body);
    assert_eq!(
        book.xlsx.sheet_names(),
        vec!["Statement of Applicability".to_owned(), "About".to_owned()]
    );
    assert_eq!(book.texts("Statement of Applicability"), expected);
    let cells = book.cells("Statement of Applicability");
    assert_eq!(cells[1][4], Data::String("'=Required by management".into()));
    assert_eq!(cells[4][7], Data::Float(2.0));
    book.assert_no_formulas("Statement of Applicability");
    book.assert_no_formulas("About");
    let xml = book.sheet1_xml();
    assert!(xml.contains("<autoFilter ref=\"A1:K6\"/>"), "{xml}");
    assert!(xml.contains("ySplit=\"1\""), "frozen header row: {xml}");

    let stored = {
        let tx = app
            .store
            .tenant_tx(TenantScope::new(fx.tenant.id))
            .await
            .unwrap();
        let v = tx.soa_version(s.version).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        v
    };
    let a = about(&mut book);
    assert_eq!(a["ISMS"], "Acme ISMS / HQ");
    assert_eq!(a["Version"], "1");
    assert_eq!(a["Approved by"], "cm <cm@acme.test>");
    assert_eq!(
        a["Approved at"],
        stored.approved_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(a["Approval note"], "Q1 review");
    assert_eq!(a["Digest (SHA-256)"], stored.digest);
    assert_eq!(a["Intact"], "Yes");
    assert_eq!(a["Entries"], "5");
    let e = last_event(&app, &fx).await;
    assert_eq!(e.action, "isms.export");
    assert_eq!(
        serde_json::from_str::<Value>(&e.change).unwrap()["format"],
        "xlsx"
    );
}

fn register_header() -> Vec<String> {
    [
        "Reference",
        "Title",
        "Threat",
        "Vulnerability",
        "Owner",
        "Assets",
        "Inherent likelihood",
        "Inherent impact",
        "Inherent score",
        "Residual likelihood",
        "Residual impact",
        "Residual score",
        "Within acceptance",
        "Treatment",
        "Treatment plan",
        "Controls",
        "Accepted by",
        "Accepted at",
        "Review date",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_owned()).collect()
}

async fn risk_register_current_and_as_of(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fx = fixture(&app, "acme").await;
    let s = seed(&app, &fx).await;
    let slug = Some(fx.tenant.slug.as_str());
    let [r1, r2, r10] = s.risks;
    let cm = "cm <cm@acme.test>".to_owned();
    let owner = "owner <owner@acme.test>".to_owned();
    let accepted_at = {
        let tx = app
            .store
            .tenant_tx(TenantScope::new(fx.tenant.id))
            .await
            .unwrap();
        let r = tx.risk(r1).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        r.accepted_at
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };

    // By hand, criteria 5×5 accepting scores up to 6; the level that counts is the residual
    // one where assessed: R-1 4 (residual) yes, R-2 6 (residual, at the threshold) yes,
    // R-10 9 (inherent) no. Natural order.
    let r1_row = row(&[
        "R-1",
        "Cloud misconfiguration",
        "'@attacker",
        "Weak IAM",
        &owner,
        "",
        "2",
        "2",
        "4",
        "2",
        "2",
        "4",
        "Yes",
        "retain",
        "",
        "",
        &owner,
        &accepted_at,
        "",
    ]);
    let r2_row = |title: &str| {
        row(&[
            "R-2",
            title,
            "'=HYPERLINK(\"http://x.test\",\"click\")",
            "Unpatched servers",
            &cm,
            "Customer DB",
            "4",
            "5",
            "20",
            "2",
            "3",
            "6",
            "Yes",
            "modify",
            "'+patch weekly",
            "A.5.1; A.8.24",
            "",
            "",
            "2026-06-30",
        ])
    };
    let r10_q1 = row(&[
        "R-10",
        "Lost laptop",
        "Theft",
        "'-no disk encryption",
        &owner,
        "Customer DB; Laptop fleet",
        "3",
        "3",
        "9",
        "",
        "",
        "",
        "No",
        "",
        "",
        "A.8.24",
        "",
        "",
        "",
    ]);
    let q1 = vec![
        register_header(),
        r1_row.clone(),
        r2_row("Ransomware"),
        r10_q1.clone(),
    ];

    // The register changes after the Q1 assessment: R-10 treated (residual 1×3 = 3, within),
    // R-3 added (5×2 = 10, not within); a second assessment on 2026-03-31; then R-2 renamed.
    let r3 = Uuid::now_v7();
    {
        let mut tx = app
            .store
            .tenant_tx(TenantScope::new(fx.tenant.id))
            .await
            .unwrap();
        tx.save_risk(
            r10,
            s.isms,
            &risk_fields(
                "R-10",
                "Lost laptop",
                "Theft",
                "-no disk encryption",
                Some(fx.user_ids["owner"]),
                (3, 3),
                Some((1, 3)),
                Some(Treatment::Modify),
                Some("Full-disk encryption"),
                Some(date(2028, 2, 29)),
            ),
            None,
            None,
            false,
        )
        .await
        .unwrap();
        tx.save_risk(
            r3,
            s.isms,
            &risk_fields(
                "R-3",
                "Supplier outage",
                "Outage",
                "Single supplier",
                None,
                (5, 2),
                None,
                Some(Treatment::Share),
                Some("Second supplier"),
                None,
            ),
            None,
            None,
            true,
        )
        .await
        .unwrap();
        tx.record_risk_assessment(Uuid::now_v7(), s.isms, "Q2", date(2026, 3, 31), "test")
            .await
            .unwrap();
        let mut f = risk_fields(
            "R-2",
            "Ransomware attack",
            "=HYPERLINK(\"http://x.test\",\"click\")",
            "Unpatched servers",
            Some(fx.user_ids["cm"]),
            (4, 5),
            Some((2, 3)),
            Some(Treatment::Modify),
            Some("+patch weekly"),
            Some(date(2026, 6, 30)),
        );
        f.description = "renamed".into();
        tx.save_risk(r2, s.isms, &f, None, None, false)
            .await
            .unwrap();
        audit(&mut tx, "test.change").await;
        tx.commit().await.unwrap();
    }
    let r10_q2 = row(&[
        "R-10",
        "Lost laptop",
        "Theft",
        "'-no disk encryption",
        &owner,
        "Customer DB; Laptop fleet",
        "3",
        "3",
        "9",
        "1",
        "3",
        "3",
        "Yes",
        "modify",
        "Full-disk encryption",
        "A.8.24",
        "",
        "",
        "2028-02-29",
    ]);
    let r3_row = row(&[
        "R-3",
        "Supplier outage",
        "Outage",
        "Single supplier",
        "",
        "",
        "5",
        "2",
        "10",
        "",
        "",
        "",
        "No",
        "share",
        "Second supplier",
        "",
        "",
        "",
        "",
    ]);
    let q2 = vec![
        register_header(),
        r1_row.clone(),
        r2_row("Ransomware"),
        r3_row.clone(),
        r10_q2.clone(),
    ];
    let current = vec![
        register_header(),
        r1_row.clone(),
        r2_row("Ransomware attack"),
        r3_row.clone(),
        r10_q2.clone(),
    ];

    let gid = encode(Kind::Isms, s.isms).0;
    let path = |q: &str, ext: &str| format!("/exports/risk-register/{gid}.{ext}{q}");

    // The current register.
    let got = get(&app, Some(fx.token("cm")), slug, &path("", "csv")).await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        got.disposition,
        "attachment; filename=\"risk-register-acme-isms-hq.csv\""
    );
    assert_eq!(csv_rows(&got.body), current);
    let e = last_event(&app, &fx).await;
    assert_eq!(
        (e.action.as_str(), e.subject_type.as_str()),
        ("isms.export", "Isms")
    );
    assert_eq!(e.subject_id, s.isms.to_string());
    let change: Value = serde_json::from_str(&e.change).unwrap();
    assert_eq!(change["format"], "csv");
    assert_eq!(change["asOf"], Value::Null);

    // As of a date between the assessments: the Q1 snapshot (R-10 untreated, no R-3).
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &path("?asOf=2026-02-28", "csv"),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.disposition,
        "attachment; filename=\"risk-register-acme-isms-hq-2026-02-28.csv\""
    );
    assert_eq!(csv_rows(&got.body), q1);
    let change: Value = serde_json::from_str(&last_event(&app, &fx).await.change).unwrap();
    assert_eq!(change["asOf"], "2026-02-28");
    assert_eq!(change["assessmentNumber"], 1);
    // On the day of the second assessment: that one (the date is inclusive).
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &path("?asOf=2026-03-31", "csv"),
    )
    .await;
    assert_eq!(csv_rows(&got.body), q2);
    // The day before the first assessment: none in effect.
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &path("?asOf=2026-01-14", "csv"),
    )
    .await;
    assert_eq!(got.status, 404);
    assert_eq!(got.error_code(), "NOT_FOUND");
    assert!(
        got.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2026-01-14")
    );
    for bad in ["?asOf=2026-02-30", "?asOf=31.03.2026", "?asOf="] {
        let got = get(&app, Some(fx.token("cm")), slug, &path(bad, "csv")).await;
        assert_eq!(got.status, 400, "{bad}");
        assert_eq!(got.error_code(), "BAD_USER_INPUT");
    }

    // XLSX of the Q1 snapshot: the same values, typed, with an About sheet.
    let got = get(
        &app,
        Some(fx.token("cm")),
        slug,
        &path("?asOf=2026-02-28", "xlsx"),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, XLSX);
    let mut book = Book::open(&got.body);
    assert_eq!(book.texts("Risk register"), q1);
    let cells = book.cells("Risk register");
    // scores are numbers, the review date a real date, the threat plain text.
    assert_eq!(cells[2][8], Data::Float(20.0));
    match &cells[2][18] {
        Data::DateTime(d) => assert_eq!(d.as_f64(), excel_serial(date(2026, 6, 30))),
        other => panic!("review date is not a date: {other:?}"),
    }
    assert!(matches!(&cells[1][17], Data::DateTime(_)), "accepted at");
    assert_eq!(
        cells[2][2],
        Data::String("'=HYPERLINK(\"http://x.test\",\"click\")".into())
    );
    book.assert_no_formulas("Risk register");
    let xml = book.sheet1_xml();
    assert!(xml.contains("<autoFilter ref=\"A1:S4\"/>"), "{xml}");
    assert!(xml.contains("ySplit=\"1\""), "frozen header row");
    // Score cells filled by the acceptance threshold (6): over it, and from 1 to it.
    for range in ["I2:I4", "L2:L4"] {
        assert!(
            xml.contains(&format!("<conditionalFormatting sqref=\"{range}\">")),
            "{range}: {xml}"
        );
    }
    assert!(xml.contains("operator=\"greaterThan\""), "{xml}");
    assert!(xml.contains("<formula>6</formula>"), "{xml}");
    let a = about(&mut book);
    assert_eq!(a["ISMS"], "Acme ISMS / HQ");
    assert_eq!(a["Register as of"], "2026-02-28");
    assert_eq!(a["Assessment"], "1");
    assert_eq!(a["Performed on"], "2026-01-15");
    assert_eq!(a["Intact"], "Yes");
    assert_eq!(a["Risks"], "3");

    // The current register as XLSX has the renamed risk.
    let got = get(&app, Some(fx.token("cm")), slug, &path("", "xlsx")).await;
    let mut book = Book::open(&got.body);
    assert_eq!(book.texts("Risk register"), current);
}

async fn roles_isolation_and_bad_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fx = fixture(&app, "acme").await;
    let other = fixture(&app, "other").await;
    let s = seed(&app, &fx).await;
    let o = seed(&app, &other).await;
    let slug = Some(fx.tenant.slug.as_str());
    let soa = format!("/exports/soa-versions/{}.csv", s.version);
    let register = format!("/exports/risk-register/{}.xlsx", s.isms);

    // Every role reads the SoA and the register (ReadIsms).
    for who in ["owner", "cm", "contrib", "auditor", "viewer"] {
        for p in [&soa, &register] {
            let got = get(&app, Some(fx.token(who)), slug, p).await;
            assert_eq!(got.status, 200, "{who} {p}");
        }
    }

    // Another tenant's members get 404 for this tenant's objects, by either id form, and
    // their own exports show only their own data.
    let before = event_count(&app, &fx).await;
    for p in [
        soa.clone(),
        register.clone(),
        format!(
            "/exports/soa-versions/{}.xlsx",
            encode(Kind::SoaVersion, s.version).0
        ),
        format!(
            "/exports/risk-register/{}.csv?asOf=2026-02-01",
            encode(Kind::Isms, s.isms).0
        ),
    ] {
        let got = get(
            &app,
            Some(other.token("cm")),
            Some(other.tenant.slug.as_str()),
            &p,
        )
        .await;
        assert_eq!(got.status, 404, "{p}");
        assert_eq!(got.error_code(), "NOT_FOUND");
        // Asking for the victim's tenant does not work either: not a member there.
        let got = get(&app, Some(other.token("cm")), slug, &p).await;
        assert_eq!(got.status, 401, "{p}");
    }
    assert_eq!(event_count(&app, &fx).await, before, "nothing disclosed");
    let got = get(
        &app,
        Some(other.token("viewer")),
        Some(other.tenant.slug.as_str()),
        &format!("/exports/soa-versions/{}.csv", o.version),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(csv_rows(&got.body), soa_expected(&other));

    // No credential: 401 in the plain-route error shape.
    for p in [&soa, &register] {
        let got = get(&app, None, slug, p).await;
        assert_eq!(got.status, 401);
        assert_eq!(got.error_code(), "UNAUTHENTICATED");
    }
    let got = get(&app, Some("not-a-token"), slug, &soa).await;
    assert_eq!(got.status, 401);

    // Unknown ids, ids of the wrong kind (the ISMS id names the draft, which is not an
    // approved SoA), unknown formats: 404.
    for p in [
        format!("/exports/soa-versions/{}.csv", Uuid::now_v7()),
        format!("/exports/soa-versions/{}.csv", s.isms),
        format!("/exports/soa-versions/{}.csv", encode(Kind::Isms, s.isms).0),
        format!("/exports/soa-versions/{}.pdf", s.version),
        format!("/exports/soa-versions/{}", s.version),
        "/exports/soa-versions/nonsense.csv".to_owned(),
        format!("/exports/risk-register/{}.csv", s.version),
        format!(
            "/exports/risk-register/{}.csv",
            encode(Kind::SoaVersion, s.version).0
        ),
    ] {
        let got = get(&app, Some(fx.token("cm")), slug, &p).await;
        assert_eq!(got.status, 404, "{p}");
        assert_eq!(got.error_code(), "NOT_FOUND", "{p}");
    }
    assert_eq!(
        event_count(&app, &fx).await,
        before,
        "failures are not exports"
    );
}

async fn tampered_version_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fx = fixture(&app, "acme").await;
    let s = seed(&app, &fx).await;
    let slug = Some(fx.tenant.slug.as_str());
    let p = format!("/exports/soa-versions/{}.xlsx", s.version);
    assert_eq!(get(&app, Some(fx.token("cm")), slug, &p).await.status, 200);

    // Someone with the database's keys rewrites an exclusion's justification, past the
    // append-only trigger.
    // (The test database holds this one version.)
    let update = "UPDATE soa_versions SET entries = replace(entries, 'No cloud services used', \
                  'Cloud services excluded') WHERE entries LIKE '%No cloud services used%'";
    let admin = &app.db.admin;
    let (off, on) = match backend {
        Backend::Postgres => (
            "ALTER TABLE soa_versions DISABLE TRIGGER ALL",
            Some("ALTER TABLE soa_versions ENABLE TRIGGER ALL"),
        ),
        Backend::Sqlite => ("DROP TRIGGER soa_versions_no_update", None),
    };
    admin.execute_unprepared(off).await.unwrap();
    let changed = admin.execute_unprepared(update).await.unwrap();
    assert_eq!(changed.rows_affected(), 1);
    if let Some(on) = on {
        admin.execute_unprepared(on).await.unwrap();
    }
    let before = event_count(&app, &fx).await;
    for ext in ["csv", "xlsx"] {
        let got = get(
            &app,
            Some(fx.token("cm")),
            slug,
            &format!("/exports/soa-versions/{}.{ext}", s.version),
        )
        .await;
        assert_eq!(got.status, 409, "{ext}");
        assert!(got.content_type.starts_with("application/json"));
        assert_eq!(got.error_code(), "CONFLICT");
        assert!(got.disposition.is_empty());
    }
    assert_eq!(event_count(&app, &fx).await, before);
}
