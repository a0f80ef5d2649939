//! The tenant's own ISO certificates through the API, on both backends: the ISO/IEC 17021-1
//! cycle from stage 1 to recertification with its status and due events at chosen dates
//! (computed by hand in the comments, each citing its rule), suspension, withdrawal,
//! restoration, the end of the 27001:2013 transition, the certificate document stored like
//! evidence, bad input that changes nothing, the role matrix, and tenant isolation.

use chrono::{Days, Utc};
use grc_domain::tenancy::Role;
use grc_e2e::gql::{ok, run, top_code};
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

both_backends! {
    a_certificate_runs_its_cycle_from_stage_1_to_recertification => lifecycle;
    suspensions_are_lifted_or_end_in_withdrawal => suspension;
    an_expired_certificate_is_restored_only_within_6_months => restoration;
    a_2013_certificate_lapses_after_2025_10_31 => transition_2013;
    bad_certificate_input_is_refused_and_changes_nothing => bad_input;
    the_certificate_document_is_stored_like_evidence => documents;
    readers_read_and_only_managers_write_certificates => roles;
    another_tenant_neither_sees_nor_changes_certificates => isolation;
}

const CERT_FIELDS: &str = "id ismsId soaVersionNumber soaVersion { id number } standard edition
  certificateNumber certificationBody accreditationBody accredited accreditationWarning scope
  sites notes ownerId document { id sha256 sizeBytes filename mediaType }
  firstSurveillanceOnTime
  audits { id certificateId kind startDate endDate auditors majorFindings minorFindings
           observations summary }
  decisions { id certificateId kind decidedOn expiresOn scope reason createdBy }
  createdAt updatedAt";

const STATE: &str =
    "status expiryReason valid cycleStart validUntil restorableUntil since restored";
const DUE: &str = "kind opens due year overdue";

fn create_q() -> String {
    format!(
        "mutation($i: CreateCertificateInput!) {{ createCertificate(input: $i) {{
           certificate {{ {CERT_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn update_q() -> String {
    format!(
        "mutation($i: UpdateCertificateInput!) {{ updateCertificate(input: $i) {{
           certificate {{ {CERT_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

const DELETE_Q: &str = "mutation($i: DeleteCertificateInput!) { deleteCertificate(input: $i) {
  deletedCertificateId userErrors { field message code } } }";

const AUDIT_Q: &str = "mutation($i: RecordCertificationAuditInput!) {
  recordCertificationAudit(input: $i) { audit { id kind startDate endDate majorFindings }
    certificate { id audits { id } } userErrors { field message code } } }";

const UPDATE_AUDIT_Q: &str = "mutation($i: UpdateCertificationAuditInput!) {
  updateCertificationAudit(input: $i) { audit { id kind startDate endDate }
    userErrors { field message code } } }";

const DELETE_AUDIT_Q: &str = "mutation($i: DeleteCertificationAuditInput!) {
  deleteCertificationAudit(input: $i) { deletedAuditId certificate { id audits { id } }
    userErrors { field message code } } }";

const DECISION_Q: &str = "mutation($i: RecordCertificationDecisionInput!) {
  recordCertificationDecision(input: $i) { decision { id kind decidedOn expiresOn scope }
    certificate { id scope decisions { id } } userErrors { field message code } } }";

const DELETE_DECISION_Q: &str = "mutation($i: DeleteCertificationDecisionInput!) {
  deleteCertificationDecision(input: $i) { deletedDecisionId certificate { id decisions { id } }
    userErrors { field message code } } }";

const UPLOAD_Q: &str = "mutation($input: UploadCertificateDocumentInput!) {
  uploadCertificateDocument(input: $input) {
    certificate { id document { id title sha256 sizeBytes filename mediaType downloadPath } }
    userErrors { field message code } } }";

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

/// A mutation that must be refused: its first user error's code and field (after `input`).
async fn refused(
    app: &TestApp,
    token: &str,
    name: &str,
    query: &str,
    vars: Value,
) -> (String, String, String) {
    let p = run(app, token, name, query, vars).await;
    let e = &p["userErrors"][0];
    assert!(!e.is_null(), "{name}: expected a user error: {p:?}");
    (
        e["code"].as_str().unwrap().to_owned(),
        e["field"][1].as_str().unwrap_or("").to_owned(),
        e["message"].as_str().unwrap().to_owned(),
    )
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    ok(
        app,
        token,
        "createCertificate",
        &create_q(),
        json!({ "i": input }),
    )
    .await["certificate"]
        .clone()
}

fn iso27001(number: &str) -> Value {
    json!({ "standard": "ISO27001", "edition": "E2022", "certificateNumber": number,
            "certificationBody": "Example Certification Ltd", "accreditationBody": "UKAS",
            "scope": "The ISMS of the hospital's clinical systems",
            "sites": ["Main campus", "Data centre"] })
}

async fn audit(
    app: &TestApp,
    token: &str,
    cert: &Value,
    kind: &str,
    start: &str,
    end: &str,
) -> Value {
    ok(
        app,
        token,
        "recordCertificationAudit",
        AUDIT_Q,
        json!({ "i": { "certificateId": cert, "kind": kind, "startDate": start, "endDate": end,
                 "auditors": ["A. Auditor", "B. Auditor"], "minorFindings": 1,
                 "observations": 2, "summary": "No major nonconformity" } }),
    )
    .await["audit"]
        .clone()
}

async fn decide(
    app: &TestApp,
    token: &str,
    cert: &Value,
    kind: &str,
    on: &str,
    expires: Option<&str>,
) -> Value {
    ok(
        app,
        token,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": cert, "kind": kind, "decidedOn": on,
                 "expiresOn": expires, "reason": "Certification body decision" } }),
    )
    .await["decision"]
        .clone()
}

/// Everything stored about a certificate (for "nothing changed" comparisons).
async fn read(app: &TestApp, token: &str, id: &Value) -> Value {
    let a = app
        .gql(
            token,
            None,
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ ... on Certificate {{ {CERT_FIELDS} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data()["node"].clone()
}

/// The status and due events on `on`.
async fn state_on(app: &TestApp, token: &str, id: &Value, on: &str) -> (Value, Value) {
    let a = app
        .gql(
            token,
            None,
            &format!(
                "query($id: ID!, $on: NaiveDate!) {{ node(id: $id) {{ ... on Certificate {{
                   status(on: $on) {{ {STATE} }} nextDueEvents(on: $on) {{ {DUE} }} }} }} }}"
            ),
            json!({ "id": id, "on": on }),
        )
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    let n = &a.data()["node"];
    (n["status"].clone(), n["nextDueEvents"].clone())
}

fn due(kind: &str, opens: Option<&str>, due: &str, year: Option<i32>, overdue: bool) -> Value {
    json!({ "kind": kind, "opens": opens, "due": due, "year": year, "overdue": overdue })
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let r = app
        .gql(
            token,
            None,
            "{ auditEvents(last: 100) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    r.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .filter(|a| a.starts_with("certificate"))
        .collect()
}

async fn row_count(app: &TestApp, table: &str) -> i64 {
    let r = app
        .db
        .admin
        .query_one_raw(Statement::from_string(
            app.db.admin.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    r.try_get::<i64>("", "n").unwrap()
}

/// Writes a row in each of this feature's tables (a certificate, an audit, a decision),
/// through the API, as the tenant whose owner token is given.
pub async fn populate(app: &TestApp, token: &str) {
    let c = create(app, token, iso27001("POP-1")).await;
    let id = c["id"].clone();
    audit(app, token, &id, "STAGE2", "2024-01-08", "2024-01-10").await;
    decide(
        app,
        token,
        &id,
        "CERTIFICATION",
        "2024-02-01",
        Some("2027-01-31"),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------

async fn lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let c = create(&app, cm, iso27001("C-27001-001")).await;
    let id = c["id"].clone();
    assert_eq!(c["standard"], "ISO27001");
    assert_eq!(c["edition"], "E2022");
    assert_eq!(c["accredited"], true);
    assert_eq!(c["accreditationWarning"], Value::Null);
    assert_eq!(c["sites"], json!(["Main campus", "Data centre"]));

    // Stage 1 and stage 2 (17021-1 9.3.1), then the certification decision.
    audit(&app, cm, &id, "STAGE1", "2022-01-10", "2022-01-11").await;
    audit(&app, cm, &id, "STAGE2", "2022-02-14", "2022-02-16").await;
    // Before any decision the certificate is pending, and a stage 2 without major
    // nonconformities owes nothing yet (9.4: only majors start the 6-month clock).
    let (s, d) = state_on(&app, cm, &id, "2022-03-14").await;
    assert_eq!(s["status"], "PENDING");
    assert_eq!(s["valid"], false);
    assert_eq!(d, json!([]));

    // The first cycle begins with the certification decision and lasts at most 3 years
    // (9.1.3.2): decided 2022-03-15, printed expiry 2025-03-14.
    decide(
        &app,
        cm,
        &id,
        "CERTIFICATION",
        "2022-03-15",
        Some("2025-03-14"),
    )
    .await;
    let (s, at_decision) = state_on(&app, cm, &id, "2022-03-15").await;
    assert_eq!(
        s,
        json!({ "status": "ACTIVE", "expiryReason": null, "valid": true,
                "cycleStart": "2022-03-15", "validUntil": "2025-03-14",
                "restorableUntil": null, "since": "2022-03-15", "restored": false })
    );
    // Due on 2022-06-01: the first surveillance by the decision + 12 months = 2023-03-15
    // (9.6.2.2); one surveillance in each calendar year after the decision's and before the
    // expiry's (2023, 2024; 9.1.3.3); the recertification by the expiry (9.6.3).
    let (_, d) = state_on(&app, cm, &id, "2022-06-01").await;
    assert_eq!(
        d,
        json!([
            due(
                "FIRST_SURVEILLANCE",
                Some("2022-03-15"),
                "2023-03-15",
                None,
                false
            ),
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2023-01-01"),
                "2023-12-31",
                Some(2023),
                false
            ),
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2024-01-01"),
                "2024-12-31",
                Some(2024),
                false
            ),
            due("RECERTIFICATION", None, "2025-03-14", None, false),
        ])
    );
    // The same obligations from the decision day on.
    assert_eq!(at_decision, d);

    // The first surveillance on 2023-02-21 (≤ 2023-03-15: on time) also covers 2023.
    audit(&app, cm, &id, "SURVEILLANCE", "2023-02-20", "2023-02-21").await;
    let (_, d) = state_on(&app, cm, &id, "2023-06-01").await;
    assert_eq!(
        d,
        json!([
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2024-01-01"),
                "2024-12-31",
                Some(2024),
                false
            ),
            due("RECERTIFICATION", None, "2025-03-14", None, false),
        ])
    );
    // Without a 2024 surveillance, on 2025-01-05 the 2024 one is overdue (due < the date).
    let (s, d) = state_on(&app, cm, &id, "2025-01-05").await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(
        d[0],
        due(
            "ANNUAL_SURVEILLANCE",
            Some("2024-01-01"),
            "2024-12-31",
            Some(2024),
            true
        )
    );
    audit(&app, cm, &id, "SURVEILLANCE", "2024-03-11", "2024-03-12").await;
    let (_, d) = state_on(&app, cm, &id, "2025-01-05").await;
    assert_eq!(
        d,
        json!([due("RECERTIFICATION", None, "2025-03-14", None, false)])
    );

    // Recertification before expiry keeps the cycle dates: the new expiry may be at most 3
    // years after the existing expiry, 2025-03-14 + 36 months = 2028-03-14 (9.6.3.2.3).
    audit(&app, cm, &id, "RECERTIFICATION", "2025-01-20", "2025-01-22").await;
    decide(
        &app,
        cm,
        &id,
        "RECERTIFICATION",
        "2025-02-20",
        Some("2028-03-14"),
    )
    .await;
    // The day before the decision the first cycle is still in effect.
    let (s, _) = state_on(&app, cm, &id, "2025-02-19").await;
    assert_eq!(s["cycleStart"], "2022-03-15");
    assert_eq!(s["validUntil"], "2025-03-14");
    let (s, d) = state_on(&app, cm, &id, "2025-03-01").await;
    assert_eq!(
        s,
        json!({ "status": "ACTIVE", "expiryReason": null, "valid": true,
                "cycleStart": "2025-02-20", "validUntil": "2028-03-14",
                "restorableUntil": null, "since": "2025-02-20", "restored": false })
    );
    // The second cycle owes surveillance in 2026 and 2027 (not in 2025, the year it began,
    // nor in 2028, its recertification year) and no "first surveillance" (only the initial
    // cycle has one).
    assert_eq!(
        d,
        json!([
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2026-01-01"),
                "2026-12-31",
                Some(2026),
                false
            ),
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2027-01-01"),
                "2027-12-31",
                Some(2027),
                false
            ),
            due("RECERTIFICATION", None, "2028-03-14", None, false),
        ])
    );
    // The printed expiry is inclusive: valid on 2028-03-14, expired on 2028-03-15 with 6
    // months to restore (9.6.3.2.5): 2028-09-14.
    let (s, _) = state_on(&app, cm, &id, "2028-03-14").await;
    assert_eq!(s["status"], "ACTIVE");
    let (s, d) = state_on(&app, cm, &id, "2028-03-15").await;
    assert_eq!(s["status"], "EXPIRED");
    assert_eq!(s["expiryReason"], "PRINTED_EXPIRY");
    assert_eq!(s["since"], "2028-03-15");
    assert_eq!(s["restorableUntil"], "2028-09-14");
    assert_eq!(
        d,
        json!([due(
            "RESTORATION",
            Some("2028-03-15"),
            "2028-09-14",
            None,
            false
        )])
    );

    // The whole record, oldest first, and the timeline as of 2025-03-01.
    let c = read(&app, f.token("viewer"), &id).await;
    assert_eq!(c["firstSurveillanceOnTime"], true);
    let kinds: Vec<&str> = c["audits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "STAGE1",
            "STAGE2",
            "SURVEILLANCE",
            "SURVEILLANCE",
            "RECERTIFICATION"
        ]
    );
    assert_eq!(
        c["audits"][0]["auditors"],
        json!(["A. Auditor", "B. Auditor"])
    );
    assert_eq!(c["decisions"][0]["kind"], "CERTIFICATION");
    assert_eq!(
        c["decisions"][0]["createdBy"],
        format!("user:{}", f.user_ids["cm"])
    );
    let t = app
        .gql(
            cm,
            None,
            "query($id: ID!) { node(id: $id) { ... on Certificate {
               timeline(on: \"2025-03-01\") { date kind title eventId dueKind } } } }",
            json!({ "id": id }),
        )
        .await;
    let t = t.data()["node"]["timeline"].as_array().unwrap().clone();
    let got: Vec<(String, String)> = t
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("2022-01-10", "AUDIT"),
        ("2022-02-14", "AUDIT"),
        ("2022-03-15", "DECISION"),
        ("2023-02-20", "AUDIT"),
        ("2024-03-11", "AUDIT"),
        ("2025-01-20", "AUDIT"),
        ("2025-02-20", "DECISION"),
        ("2026-12-31", "DUE"),
        ("2027-12-31", "DUE"),
        ("2028-03-14", "DUE"),
    ]
    .iter()
    .map(|(d, k)| ((*d).to_owned(), (*k).to_owned()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(t[0]["eventId"], c["audits"][0]["id"]);
    assert_eq!(t[2]["eventId"], c["decisions"][0]["id"]);
    assert_eq!(t[9]["eventId"], Value::Null);
    assert_eq!(t[9]["dueKind"], "RECERTIFICATION");
    assert!(
        t[2]["title"].as_str().unwrap().contains("2025-03-14"),
        "{:?}",
        t[2]
    );

    // Lists: filters by status and expiry, judged on `on`.
    let other = create(&app, cm, iso27001("C-27001-002")).await;
    let l = app
        .gql(
            cm,
            None,
            "{ all: certificates { totalCount edges { node { id } } }
               active: certificates(status: ACTIVE, on: \"2025-03-01\") { totalCount }
               pending: certificates(status: PENDING) { totalCount edges { node { id } } }
               expiring: certificates(expiringBefore: \"2028-04-01\", on: \"2025-03-01\") { totalCount }
               notYet: certificates(expiringBefore: \"2028-03-14\", on: \"2025-03-01\") { totalCount }
               privacy: certificates(standard: ISO27701) { totalCount }
               page: certificates(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage } }
               bodies: accreditationBodies { code name country } }",
            json!({}),
        )
        .await;
    assert!(l.body["errors"].is_null(), "{:?}", l.body);
    let d = l.data();
    assert_eq!(d["all"]["totalCount"], 2);
    assert_eq!(d["active"]["totalCount"], 1);
    assert_eq!(d["pending"]["totalCount"], 1);
    assert_eq!(d["pending"]["edges"][0]["node"]["id"], other["id"]);
    assert_eq!(d["expiring"]["totalCount"], 1);
    assert_eq!(d["notYet"]["totalCount"], 0);
    assert_eq!(d["privacy"]["totalCount"], 0);
    assert_eq!(d["page"]["edges"][0]["node"]["id"], id);
    assert_eq!(d["page"]["pageInfo"]["hasNextPage"], true);
    let cursor = d["page"]["edges"][0]["cursor"].clone();
    let n = app
        .gql(
            cm,
            None,
            "query($c: String!) { certificates(first: 5, after: $c) { edges { node { id } }
               pageInfo { hasNextPage hasPreviousPage } } }",
            json!({ "c": cursor }),
        )
        .await;
    assert_eq!(
        n.data()["certificates"]["edges"],
        json!([{ "node": { "id": other["id"] } }])
    );
    assert_eq!(
        n.data()["certificates"]["pageInfo"]["hasPreviousPage"],
        true
    );
    assert!(
        d["bodies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["code"] == "UKAS" && b["country"] == "GB")
    );

    // Corrections: an audit moved, one deleted, a decision deleted; each audited.
    let surv = c["audits"][2]["id"].clone();
    ok(
        &app,
        cm,
        "updateCertificationAudit",
        UPDATE_AUDIT_Q,
        json!({ "i": { "id": surv, "startDate": "2023-02-27", "endDate": "2023-02-28" } }),
    )
    .await;
    let p = ok(
        &app,
        cm,
        "deleteCertificationAudit",
        DELETE_AUDIT_Q,
        json!({ "i": { "id": c["audits"][4]["id"] } }),
    )
    .await;
    assert_eq!(p["certificate"]["audits"].as_array().unwrap().len(), 4);
    let p = ok(
        &app,
        cm,
        "deleteCertificationDecision",
        DELETE_DECISION_Q,
        json!({ "i": { "id": c["decisions"][1]["id"] } }),
    )
    .await;
    assert_eq!(p["certificate"]["decisions"].as_array().unwrap().len(), 1);
    let (s, _) = state_on(&app, cm, &id, "2025-03-01").await;
    assert_eq!(s["validUntil"], "2025-03-14");

    // Deleting the certificate deletes its audits and decisions too.
    let p = ok(
        &app,
        cm,
        "deleteCertificate",
        DELETE_Q,
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(p["deletedCertificateId"], id);
    assert!(read(&app, cm, &id).await.is_null());
    assert!(read(&app, cm, &surv).await.is_null());
    assert_eq!(row_count(&app, "certificate_audits").await, 0);
    assert_eq!(row_count(&app, "certificate_decisions").await, 0);
    assert_eq!(row_count(&app, "certificates").await, 1);
    let actions = audit_actions(&app, f.token("owner")).await;
    for a in [
        "certificate.create",
        "certificate_audit.create",
        "certificate_audit.update",
        "certificate_audit.delete",
        "certificate_decision.create",
        "certificate_decision.delete",
        "certificate.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
}

async fn suspension(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");

    // Lifted: certified 2021-06-01 until 2024-05-31, surveillance 2022-05-10, suspended
    // 2022-09-01, lifted 2022-11-15.
    let a = create(&app, cm, iso27001("S-1")).await["id"].clone();
    decide(
        &app,
        cm,
        &a,
        "CERTIFICATION",
        "2021-06-01",
        Some("2024-05-31"),
    )
    .await;
    audit(&app, cm, &a, "SURVEILLANCE", "2022-05-09", "2022-05-10").await;
    decide(&app, cm, &a, "SUSPENSION", "2022-09-01", None).await;
    // Suspended: temporarily invalid (17021-1 9.6.5); resolving it is due within 6 months
    // (2022-09-01 + 6 months = 2023-03-01); 2022's surveillance is done, 2023's is owed, and
    // the recertification by 2024-05-31.
    let (s, d) = state_on(&app, cm, &a, "2022-10-01").await;
    assert_eq!(s["status"], "SUSPENDED");
    assert_eq!(s["valid"], false);
    assert_eq!(s["since"], "2022-09-01");
    assert_eq!(s["validUntil"], "2024-05-31");
    assert_eq!(
        d,
        json!([
            due(
                "SUSPENSION_RESOLUTION",
                Some("2022-09-01"),
                "2023-03-01",
                None,
                false
            ),
            due(
                "ANNUAL_SURVEILLANCE",
                Some("2023-01-01"),
                "2023-12-31",
                Some(2023),
                false
            ),
            due("RECERTIFICATION", None, "2024-05-31", None, false),
        ])
    );
    decide(&app, cm, &a, "SUSPENSION_LIFTED", "2022-11-15", None).await;
    // Valid again from the lifting day, the suspension day itself was invalid.
    let (s, _) = state_on(&app, cm, &a, "2022-11-14").await;
    assert_eq!(s["status"], "SUSPENDED");
    let (s, d) = state_on(&app, cm, &a, "2022-11-15").await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["since"], "2022-11-15");
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .all(|x| x["kind"] != "SUSPENSION_RESOLUTION")
    );
    // Lifting twice is refused (the certificate is not suspended).
    let before = read(&app, cm, &a).await;
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": a, "kind": "SUSPENSION_LIFTED", "decidedOn": "2022-12-01" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "decidedOn")
    );
    assert_eq!(read(&app, cm, &a).await, before);

    // Withdrawn: suspended 2022-09-01 and withdrawn 2023-02-15 (9.6.5: unresolved
    // suspensions end in withdrawal).
    let b = create(&app, cm, iso27001("S-2")).await["id"].clone();
    decide(
        &app,
        cm,
        &b,
        "CERTIFICATION",
        "2021-06-01",
        Some("2024-05-31"),
    )
    .await;
    decide(&app, cm, &b, "SUSPENSION", "2022-09-01", None).await;
    decide(&app, cm, &b, "WITHDRAWAL", "2023-02-15", None).await;
    let (s, _) = state_on(&app, cm, &b, "2023-02-14").await;
    assert_eq!(s["status"], "SUSPENDED");
    let (s, d) = state_on(&app, cm, &b, "2023-02-15").await;
    assert_eq!(s["status"], "WITHDRAWN");
    assert_eq!(s["since"], "2023-02-15");
    assert_eq!(s["valid"], false);
    // Nothing falls due for a withdrawn certificate, and nothing follows a withdrawal.
    assert_eq!(d, json!([]));
    let before = read(&app, cm, &b).await;
    let (code, _, message) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": b, "kind": "SUSPENSION_LIFTED", "decidedOn": "2023-03-01" } }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("withdrawal"), "{message}");
    assert_eq!(read(&app, cm, &b).await, before);
    // A withdrawn certificate is not "expiring".
    let l = app
        .gql(
            cm,
            None,
            "{ certificates(expiringBefore: \"2030-01-01\", on: \"2023-06-01\") { edges { node { id } } }
               withdrawn: certificates(status: WITHDRAWN, on: \"2023-06-01\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        l.data()["certificates"]["edges"],
        json!([{ "node": { "id": a } }])
    );
    assert_eq!(
        l.data()["withdrawn"]["edges"],
        json!([{ "node": { "id": b } }])
    );

    // A scope reduction ends a suspension and reduces the certificate's scope (9.6.5).
    let c = create(&app, cm, iso27001("S-3")).await["id"].clone();
    decide(
        &app,
        cm,
        &c,
        "CERTIFICATION",
        "2021-06-01",
        Some("2024-05-31"),
    )
    .await;
    decide(&app, cm, &c, "SUSPENSION", "2022-09-01", None).await;
    let p = ok(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": c, "kind": "SCOPE_REDUCTION", "decidedOn": "2022-12-01",
                 "scope": "Clinical systems of the main campus only" } }),
    )
    .await;
    assert_eq!(
        p["certificate"]["scope"],
        "Clinical systems of the main campus only"
    );
    let (s, _) = state_on(&app, cm, &c, "2022-12-01").await;
    assert_eq!(s["status"], "ACTIVE");
}

async fn restoration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let id = create(&app, cm, iso27001("R-1")).await["id"].clone();
    decide(
        &app,
        cm,
        &id,
        "CERTIFICATION",
        "2020-01-15",
        Some("2023-01-14"),
    )
    .await;
    audit(&app, cm, &id, "SURVEILLANCE", "2020-11-02", "2020-11-03").await;
    audit(&app, cm, &id, "SURVEILLANCE", "2021-10-04", "2021-10-05").await;
    audit(&app, cm, &id, "SURVEILLANCE", "2022-10-03", "2022-10-04").await;

    // Not recertified by 2023-01-14: expired from 2023-01-15, restorable until 2023-01-14 +
    // 6 months = 2023-07-14 (17021-1 9.6.3.2.5).
    let (s, d) = state_on(&app, cm, &id, "2023-02-01").await;
    assert_eq!(
        s,
        json!({ "status": "EXPIRED", "expiryReason": "PRINTED_EXPIRY", "valid": false,
                "cycleStart": "2020-01-15", "validUntil": "2023-01-14",
                "restorableUntil": "2023-07-14", "since": "2023-01-15", "restored": false })
    );
    assert_eq!(
        d,
        json!([due(
            "RESTORATION",
            Some("2023-01-15"),
            "2023-07-14",
            None,
            false
        )])
    );
    // After the window nothing can be restored any more.
    let (s, d) = state_on(&app, cm, &id, "2023-07-15").await;
    assert_eq!(s["restorableUntil"], Value::Null);
    assert_eq!(d, json!([]));

    // A recertification one day after the window is refused: a new certification is needed.
    let before = read(&app, cm, &id).await;
    let (code, field, message) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": id, "kind": "RECERTIFICATION",
                 "decidedOn": "2023-07-15", "expiresOn": "2026-01-14" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "decidedOn")
    );
    assert!(message.contains("2023-07-14"), "{message}");
    assert_eq!(read(&app, cm, &id).await, before);

    // On the last day of the window it restores the certification; the new expiry is based
    // on the prior cycle: at most 2023-01-14 + 36 months = 2026-01-14.
    audit(&app, cm, &id, "RECERTIFICATION", "2023-06-05", "2023-06-07").await;
    decide(
        &app,
        cm,
        &id,
        "RECERTIFICATION",
        "2023-07-14",
        Some("2026-01-14"),
    )
    .await;
    let (s, _) = state_on(&app, cm, &id, "2023-07-14").await;
    assert_eq!(
        s,
        json!({ "status": "ACTIVE", "expiryReason": null, "valid": true,
                "cycleStart": "2023-07-14", "validUntil": "2026-01-14",
                "restorableUntil": null, "since": "2023-07-14", "restored": true })
    );
    // The gap stays a gap: on 2023-03-01 the certification was expired.
    let (s, _) = state_on(&app, cm, &id, "2023-03-01").await;
    assert_eq!(s["status"], "EXPIRED");
}

async fn transition_2013(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let mut input = iso27001("T-2013");
    input["edition"] = json!("E2013");
    let id = create(&app, cm, input).await["id"].clone();
    decide(
        &app,
        cm,
        &id,
        "CERTIFICATION",
        "2023-03-01",
        Some("2026-02-28"),
    )
    .await;
    audit(&app, cm, &id, "SURVEILLANCE", "2024-02-08", "2024-02-09").await;
    audit(&app, cm, &id, "SURVEILLANCE", "2025-02-10", "2025-02-11").await;

    // IAF MD 26: a 27001:2013 certificate is valid until 2025-10-31 at the latest, whatever
    // its printed expiry (2026-02-28). On 2025-10-31 it is active, valid until that day, and
    // the transition is due that day (not overdue yet).
    let (s, d) = state_on(&app, cm, &id, "2025-10-31").await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["validUntil"], "2025-10-31");
    assert_eq!(
        d,
        json!([due("TRANSITION", None, "2025-10-31", None, false)])
    );
    // On 2025-11-01 it is expired by the transition's end: nothing restores it.
    let (s, d) = state_on(&app, cm, &id, "2025-11-01").await;
    assert_eq!(
        s,
        json!({ "status": "EXPIRED", "expiryReason": "TRANSITION_END", "valid": false,
                "cycleStart": "2023-03-01", "validUntil": "2025-10-31",
                "restorableUntil": null, "since": "2025-11-01", "restored": false })
    );
    assert_eq!(d, json!([]));
    // A list judged on 2025-10-31 shows it active, and its computed fields default to that
    // date (today it is expired): what the filter saw.
    let l = app
        .gql(
            cm,
            None,
            "{ certificates(status: ACTIVE, on: \"2025-10-31\") { nodes { id status { status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        l.data()["certificates"]["nodes"],
        json!([{ "id": id, "status": { "status": "ACTIVE" } }]),
        "{:?}",
        l.body
    );

    // A 2022 certificate with the same dates is unaffected.
    let other = create(&app, cm, iso27001("T-2022")).await["id"].clone();
    decide(
        &app,
        cm,
        &other,
        "CERTIFICATION",
        "2023-03-01",
        Some("2026-02-28"),
    )
    .await;
    let (s, _) = state_on(&app, cm, &other, "2025-11-01").await;
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["validUntil"], "2026-02-28");
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let id = create(&app, cm, iso27001("B-1")).await["id"].clone();
    audit(&app, cm, &id, "STAGE2", "2022-02-14", "2022-02-16").await;

    // An expiry more than 3 years after the decision: 2022-03-15 + 36 months = 2025-03-15 is
    // the latest (17021-1 9.1.3.2); 2025-03-16 is refused, nothing stored.
    let before = read(&app, cm, &id).await;
    let (code, field, message) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": id, "kind": "CERTIFICATION",
                 "decidedOn": "2022-03-15", "expiresOn": "2025-03-16" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "expiresOn")
    );
    assert!(message.contains("2025-03-15"), "{message}");
    assert_eq!(read(&app, cm, &id).await, before);
    // Exactly 3 years is accepted.
    decide(
        &app,
        cm,
        &id,
        "CERTIFICATION",
        "2022-03-15",
        Some("2025-03-15"),
    )
    .await;

    // A surveillance before the certification decision (9.6.2: surveillance follows the
    // certification).
    let before = read(&app, cm, &id).await;
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationAudit",
        AUDIT_Q,
        json!({ "i": { "certificateId": id, "kind": "SURVEILLANCE",
                 "startDate": "2022-03-01", "endDate": "2022-03-02" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "endDate")
    );
    assert_eq!(read(&app, cm, &id).await, before);

    // A surveillance on a certificate with no decision at all.
    let fresh = create(&app, cm, iso27001("B-2")).await["id"].clone();
    let fresh_before = read(&app, cm, &fresh).await;
    let (code, _, _) = refused(
        &app,
        cm,
        "recordCertificationAudit",
        AUDIT_Q,
        json!({ "i": { "certificateId": fresh, "kind": "SURVEILLANCE",
                 "startDate": "2023-03-01", "endDate": "2023-03-02" } }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(read(&app, cm, &fresh).await, fresh_before);

    // Moving the stage 2 after the decision, or deleting the certification decision under a
    // surveillance, breaks the history: refused.
    audit(&app, cm, &id, "SURVEILLANCE", "2023-02-01", "2023-02-02").await;
    let before = read(&app, cm, &id).await;
    let stage2 = before["audits"][0]["id"].clone();
    let (code, field, _) = refused(
        &app,
        cm,
        "updateCertificationAudit",
        UPDATE_AUDIT_Q,
        json!({ "i": { "id": stage2, "startDate": "2022-04-01", "endDate": "2022-04-02" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "endDate")
    );
    let (code, field, _) = refused(
        &app,
        cm,
        "deleteCertificationDecision",
        DELETE_DECISION_Q,
        json!({ "i": { "id": before["decisions"][0]["id"] } }),
    )
    .await;
    assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "id"));
    assert_eq!(read(&app, cm, &id).await, before);

    // Audits and decisions in the future (after tomorrow, UTC) are refused.
    let later = (Utc::now().date_naive() + Days::new(5))
        .format("%Y-%m-%d")
        .to_string();
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": id, "kind": "SUSPENSION", "decidedOn": later } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "decidedOn")
    );
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationAudit",
        AUDIT_Q,
        json!({ "i": { "certificateId": id, "kind": "SPECIAL", "startDate": "2024-01-01",
                 "endDate": later } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "endDate")
    );
    // An expiry on a suspension, and a (re)certification without one.
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": id, "kind": "SUSPENSION", "decidedOn": "2023-05-01",
                 "expiresOn": "2026-01-01" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "expiresOn")
    );
    let (code, field, _) = refused(
        &app,
        cm,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": id, "kind": "RECERTIFICATION", "decidedOn": "2023-05-01" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "expiresOn")
    );
    assert_eq!(read(&app, cm, &id).await, before);

    // Standard and edition must match (27701 has no 2022 edition), on create and update.
    let count = row_count(&app, "certificates").await;
    let mut mismatch = iso27001("B-3");
    mismatch["standard"] = json!("ISO27701");
    let (code, field, _) = refused(
        &app,
        cm,
        "createCertificate",
        &create_q(),
        json!({ "i": mismatch }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "edition")
    );
    let (code, field, _) = refused(
        &app,
        cm,
        "updateCertificate",
        &update_q(),
        json!({ "i": { "id": id, "edition": "E2019" } }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "edition")
    );
    // The same number from the same body twice.
    let (code, field, _) = refused(
        &app,
        cm,
        "createCertificate",
        &create_q(),
        json!({ "i": iso27001("B-1") }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("CONFLICT", "certificateNumber")
    );
    assert_eq!(row_count(&app, "certificates").await, count);
    assert_eq!(read(&app, cm, &id).await, before);

    // An accreditation body that is not an IAF MLA signatory: accepted, flagged.
    let mut unaccredited = iso27001("B-4");
    unaccredited["accreditationBody"] = json!("Acme Accreditation Council");
    let c = create(&app, cm, unaccredited).await;
    assert_eq!(c["accredited"], false);
    assert_eq!(c["accreditationBody"], "Acme Accreditation Council");
    assert_eq!(
        c["accreditationWarning"],
        "Acme Accreditation Council is not an IAF MLA signatory for ISMS: the certificate is unaccredited"
    );
    // A recognized one in any case is stored by its code.
    let p = ok(
        &app,
        cm,
        "updateCertificate",
        &update_q(),
        json!({ "i": { "id": c["id"], "accreditationBody": "dakks" } }),
    )
    .await;
    assert_eq!(p["certificate"]["accreditationBody"], "DAkkS");
    assert_eq!(p["certificate"]["accredited"], true);
    let p = ok(
        &app,
        cm,
        "updateCertificate",
        &update_q(),
        json!({ "i": { "id": c["id"], "accreditationBody": null } }),
    )
    .await;
    assert_eq!(p["certificate"]["accredited"], false);
    assert!(p["certificate"]["accreditationWarning"].is_string());

    // The SoA version: an approved version of the certificate's ISMS.
    let (isms, number) = approved_isms(&app, cm).await;
    let mut input = iso27001("B-5");
    input["ismsId"] = isms.clone();
    input["soaVersion"] = json!(number + 1);
    let (code, field, _) = refused(
        &app,
        cm,
        "createCertificate",
        &create_q(),
        json!({ "i": input.clone() }),
    )
    .await;
    assert_eq!((code.as_str(), field.as_str()), ("NOT_FOUND", "soaVersion"));
    let mut no_isms = iso27001("B-5");
    no_isms["soaVersion"] = json!(number);
    let (code, field, _) = refused(
        &app,
        cm,
        "createCertificate",
        &create_q(),
        json!({ "i": no_isms }),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_str()),
        ("BAD_USER_INPUT", "soaVersion")
    );
    input["soaVersion"] = json!(number);
    let c = create(&app, cm, input).await;
    assert_eq!(c["ismsId"], isms);
    assert_eq!(c["soaVersionNumber"], number);
    assert_eq!(c["soaVersion"]["number"], number);
}

/// An ISMS with an approved SoA version: (its id, the version number).
async fn approved_isms(app: &TestApp, token: &str) -> (Value, i64) {
    let (isms, _) = super::isms::create_isms(app, token, "Certified ISMS", None).await;
    let a = app
        .gql(
            token,
            None,
            "query($id: ID!) { managementSystem(id: $id) { soa { entries { control { id } } } } }",
            json!({ "id": isms }),
        )
        .await;
    let entries: Vec<Value> = a.data()["managementSystem"]["soa"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!({ "controlId": e["control"]["id"], "justification": "Needed for ePHI",
                    "status": "PLANNED" })
        })
        .collect();
    let u = ok(
        app,
        token,
        "updateSoaEntries",
        "mutation($input: UpdateSoaEntriesInput!) { updateSoaEntries(input: $input) {
           revision userErrors { field message code } } }",
        json!({ "input": { "managementSystemId": isms, "entries": entries } }),
    )
    .await;
    let v = ok(
        app,
        token,
        "approveSoa",
        "mutation($input: ApproveSoaInput!) { approveSoa(input: $input) {
           version { number } userErrors { field message code } } }",
        json!({ "input": { "managementSystemId": isms, "revision": u["revision"] } }),
    )
    .await;
    (json!(isms), v["version"]["number"].as_i64().unwrap())
}

/// POSTs `uploadCertificateDocument` as a multipart request.
async fn upload(
    app: &TestApp,
    token: &str,
    certificate: &Value,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Answer {
    let operations = json!({ "query": UPLOAD_Q, "variables": { "input": {
        "certificateId": certificate, "title": "ISO/IEC 27001 certificate", "file": null } } });
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str(mime)
                .unwrap(),
        );
    let req = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .multipart(form);
    TestApp::answer(req.send().await.unwrap()).await
}

fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    v.resize(len, b' ');
    v
}

async fn documents(backend: Backend) {
    // A small limit, so that "over the limit" is cheap to send.
    let app = TestApp::spawn_with(backend, |s| {
        s.max_upload_bytes = 1024;
        s.max_body_bytes = 64 * 1024;
    })
    .await;
    let f = fixture(&app, "acme").await;
    let other = fixture(&app, "other").await;
    let cm = f.token("cm");
    let id = create(&app, cm, iso27001("D-1")).await["id"].clone();

    // At the limit: stored as evidence, with the SHA-256 of the bytes sent.
    let bytes = pdf(1024);
    let a = upload(
        &app,
        cm,
        &id,
        "certificate.pdf",
        "application/pdf",
        bytes.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let p = &a.data()["uploadCertificateDocument"];
    assert_eq!(p["userErrors"], json!([]), "{:?}", a.body);
    let doc = p["certificate"]["document"].clone();
    assert_eq!(doc["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(doc["sizeBytes"], 1024);
    assert_eq!(doc["mediaType"], "application/pdf");
    assert_eq!(doc["filename"], "certificate.pdf");
    let c = read(&app, f.token("viewer"), &id).await;
    assert_eq!(c["document"]["id"], doc["id"]);
    assert_eq!(row_count(&app, "evidence").await, 1);
    let download = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            doc["downloadPath"].as_str().unwrap()
        ))
        .bearer_auth(cm)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let check = |a: &Answer, what: &str, code: &str, field: &str| {
        assert_eq!(a.status, 200, "{what}: {:?}", a.body);
        let p = &a.data()["uploadCertificateDocument"];
        assert_eq!(p["userErrors"][0]["code"], code, "{what}: {:?}", a.body);
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", field]),
            "{what}"
        );
        assert_eq!(p["certificate"], Value::Null, "{what}");
    };
    let before = read(&app, cm, &id).await;
    // One byte over the limit.
    let a = upload(&app, cm, &id, "big.pdf", "application/pdf", pdf(1025)).await;
    check(&a, "over the limit", "BAD_USER_INPUT", "file");
    // Content that is not what it claims.
    let a = upload(
        &app,
        cm,
        &id,
        "fake.pdf",
        "application/pdf",
        b"not a pdf".to_vec(),
    )
    .await;
    check(&a, "not a PDF", "BAD_USER_INPUT", "file");
    // Another tenant's certificate (or no certificate): not found, no object stored.
    let a = upload(
        &app,
        other.token("cm"),
        &id,
        "c.pdf",
        "application/pdf",
        pdf(100),
    )
    .await;
    check(&a, "other tenant", "NOT_FOUND", "certificateId");
    assert_eq!(read(&app, cm, &id).await, before);
    assert_eq!(row_count(&app, "evidence").await, 1);
    let files = walk(&app.db.settings.data_dir.join("objects"));
    assert_eq!(
        files, 1,
        "only the accepted document is in the object store"
    );

    // A second upload replaces the document; the first stays as evidence.
    let a = upload(
        &app,
        f.token("owner"),
        &id,
        "renewed.pdf",
        "application/pdf",
        pdf(512),
    )
    .await;
    let p = &a.data()["uploadCertificateDocument"];
    assert_eq!(p["userErrors"], json!([]), "{:?}", a.body);
    assert_ne!(p["certificate"]["document"]["id"], doc["id"]);
    assert_eq!(row_count(&app, "evidence").await, 2);
    let actions = audit_actions(&app, f.token("owner")).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "certificate.document")
            .count(),
        2
    );

    // Contributors, auditors and viewers may not upload certificate documents.
    for who in ["contrib", "auditor", "viewer"] {
        let a = upload(
            &app,
            f.token(who),
            &id,
            "c.pdf",
            "application/pdf",
            pdf(100),
        )
        .await;
        assert_eq!(a.code(), Some("FORBIDDEN"), "{who}: {:?}", a.body);
    }
    assert_eq!(row_count(&app, "evidence").await, 2);
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { 1 }
        })
        .sum()
}

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    // The owner and the compliance manager write.
    let id = create(&app, f.token("owner"), iso27001("P-1")).await["id"].clone();
    decide(
        &app,
        f.token("cm"),
        &id,
        "CERTIFICATION",
        "2024-01-15",
        Some("2027-01-14"),
    )
    .await;
    let audit_id = audit(
        &app,
        f.token("owner"),
        &id,
        "SURVEILLANCE",
        "2024-10-01",
        "2024-10-02",
    )
    .await["id"]
        .clone();
    let before = read(&app, f.token("owner"), &id).await;
    let decision_id = before["decisions"][0]["id"].clone();

    // Everyone reads: the list, the node, the computed fields.
    for who in ["owner", "cm", "contrib", "auditor", "viewer"] {
        let a = app
            .gql(
                f.token(who),
                None,
                "query($a: ID!, $d: ID!) { certificates { totalCount edges { node { id
                   status { status } nextDueEvents { kind } timeline { kind } } } }
                   audit: node(id: $a) { ... on CertificationAudit { id kind certificateId } }
                   decision: node(id: $d) { ... on CertificationDecision { id kind } }
                   accreditationBodies { code } }",
                json!({ "a": audit_id, "d": decision_id }),
            )
            .await;
        assert!(a.body["errors"].is_null(), "{who}: {:?}", a.body);
        assert_eq!(a.data()["certificates"]["totalCount"], 1, "{who}");
        assert_eq!(a.data()["audit"]["certificateId"], id, "{who}");
        assert_eq!(a.data()["decision"]["kind"], "CERTIFICATION", "{who}");
        assert_eq!(read(&app, f.token(who), &id).await, before, "{who}");
    }

    // Contributors, auditors and viewers write nothing: FORBIDDEN.
    let attempts: Vec<(String, Value)> = vec![
        (create_q(), json!({ "i": iso27001("P-2") })),
        (update_q(), json!({ "i": { "id": id, "notes": "x" } })),
        (DELETE_Q.into(), json!({ "i": { "id": id } })),
        (
            AUDIT_Q.into(),
            json!({ "i": { "certificateId": id, "kind": "SPECIAL",
                     "startDate": "2024-11-01", "endDate": "2024-11-01" } }),
        ),
        (
            UPDATE_AUDIT_Q.into(),
            json!({ "i": { "id": audit_id, "summary": "x" } }),
        ),
        (DELETE_AUDIT_Q.into(), json!({ "i": { "id": audit_id } })),
        (
            DECISION_Q.into(),
            json!({ "i": { "certificateId": id, "kind": "SUSPENSION", "decidedOn": "2024-11-01" } }),
        ),
        (
            DELETE_DECISION_Q.into(),
            json!({ "i": { "id": decision_id } }),
        ),
    ];
    for who in ["contrib", "auditor", "viewer"] {
        for (q, v) in &attempts {
            assert_eq!(
                top_code(&app, f.token(who), q, v.clone()).await,
                "FORBIDDEN",
                "{who}: {q}"
            );
        }
    }
    assert_eq!(read(&app, f.token("owner"), &id).await, before);
    assert_eq!(row_count(&app, "certificates").await, 1);
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "bravo").await;
    let cm = a.token("cm");
    let (isms, _) = super::isms::create_isms(&app, cm, "Alpha ISMS", None).await;
    let mut input = iso27001("I-1");
    input["ismsId"] = json!(isms);
    let id = create(&app, cm, input).await["id"].clone();
    audit(&app, cm, &id, "STAGE2", "2024-01-08", "2024-01-10").await;
    decide(
        &app,
        cm,
        &id,
        "CERTIFICATION",
        "2024-02-01",
        Some("2027-01-31"),
    )
    .await;
    let before = read(&app, cm, &id).await;
    let audit_id = before["audits"][0]["id"].clone();
    let decision_id = before["decisions"][0]["id"].clone();

    // Bravo's owner sees none of it: not in the lists, not by node, of any kind.
    let bo = b.token("owner");
    for n in [&id, &audit_id, &decision_id] {
        let r = app
            .gql(
                bo,
                None,
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": n }),
            )
            .await;
        assert!(r.body["errors"].is_null(), "{:?}", r.body);
        assert!(r.data()["node"].is_null(), "{n}");
    }
    let l = app
        .gql(
            bo,
            None,
            "query($isms: ID!) { all: certificates { totalCount }
               byIsms: certificates(ismsId: $isms) { totalCount }
               active: certificates(status: ACTIVE) { totalCount }
               expiring: certificates(expiringBefore: \"2099-01-01\") { totalCount } }",
            json!({ "isms": isms }),
        )
        .await;
    for k in ["all", "byIsms", "active", "expiring"] {
        assert_eq!(l.data()[k]["totalCount"], 0, "{k}: {:?}", l.body);
    }

    // Nor changes any of it: every mutation answers NOT_FOUND.
    let mut with_alpha_isms = iso27001("I-2");
    with_alpha_isms["ismsId"] = json!(isms);
    let attempts: Vec<(&str, String, Value)> = vec![
        (
            "createCertificate",
            create_q(),
            json!({ "i": with_alpha_isms }),
        ),
        (
            "updateCertificate",
            update_q(),
            json!({ "i": { "id": id, "notes": "Hijacked" } }),
        ),
        (
            "deleteCertificate",
            DELETE_Q.into(),
            json!({ "i": { "id": id } }),
        ),
        (
            "recordCertificationAudit",
            AUDIT_Q.into(),
            json!({ "i": { "certificateId": id, "kind": "SURVEILLANCE",
                     "startDate": "2024-06-01", "endDate": "2024-06-02" } }),
        ),
        (
            "updateCertificationAudit",
            UPDATE_AUDIT_Q.into(),
            json!({ "i": { "id": audit_id, "summary": "Hijacked" } }),
        ),
        (
            "deleteCertificationAudit",
            DELETE_AUDIT_Q.into(),
            json!({ "i": { "id": audit_id } }),
        ),
        (
            "recordCertificationDecision",
            DECISION_Q.into(),
            json!({ "i": { "certificateId": id, "kind": "WITHDRAWAL", "decidedOn": "2024-06-01" } }),
        ),
        (
            "deleteCertificationDecision",
            DELETE_DECISION_Q.into(),
            json!({ "i": { "id": decision_id } }),
        ),
    ];
    for (name, q, v) in &attempts {
        let p = run(&app, bo, name, q, v.clone()).await;
        assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND", "{name}: {p:?}");
    }
    let up = upload(&app, bo, &id, "c.pdf", "application/pdf", pdf(100)).await;
    assert_eq!(
        up.data()["uploadCertificateDocument"]["userErrors"][0]["code"],
        "NOT_FOUND",
        "{:?}",
        up.body
    );
    assert_eq!(read(&app, cm, &id).await, before);
    assert_eq!(row_count(&app, "certificates").await, 1);
    assert_eq!(row_count(&app, "certificate_audits").await, 1);
    assert_eq!(row_count(&app, "certificate_decisions").await, 1);
    assert_eq!(row_count(&app, "evidence").await, 0);
    let t = app
        .gql(
            a.token("viewer"),
            None,
            "{ certificates { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(t.data()["certificates"]["totalCount"], 1);
}
