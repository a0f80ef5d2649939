//! ISMS: evidence files. Real multipart requests (the GraphQL multipart request spec) against
//! the real server, the local-directory object store under the test's data directory, and
//! downloads over `GET /evidence/{id}/content`. Hashes are computed here from the bytes sent.

use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends, global_id};
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

both_backends! {
    upload_and_download_round_trip => round_trip;
    roles_decide_who_uploads_edits_and_downloads => roles;
    another_tenant_neither_sees_nor_changes_evidence => isolation;
    bad_uploads_store_nothing => bad_uploads;
    evidence_is_updated_linked_filtered_and_archived => lifecycle;
}

const UPLOAD: &str = "mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) {
  evidence { id title description filename mediaType sizeBytes sha256 effectiveDate expiresOn
             expired uploaderId uploadedBy archivedAt downloadPath links { kind targetId } }
  userErrors { field message code } } }";

const FIELDS: &str = "id title description filename mediaType sizeBytes sha256 effectiveDate
  expiresOn expired archivedAt downloadPath links { kind targetId }";

/// A small PDF (the signature is what matters to the type check).
fn pdf_bytes() -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    v.extend((0u16..600).map(|i| (i % 251) as u8));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// POSTs `uploadEvidence` as a multipart request: `input` without its `file`, and the file.
async fn upload_as(
    app: &TestApp,
    token: Option<&str>,
    input: Value,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Answer {
    let mut input = input;
    input["file"] = Value::Null;
    let operations = json!({ "query": UPLOAD, "variables": { "input": input } });
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
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::answer(req.send().await.unwrap()).await
}

async fn upload(
    app: &TestApp,
    token: &str,
    input: Value,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Answer {
    upload_as(app, Some(token), input, name, mime, bytes).await
}

/// The uploaded evidence, asserting there were no errors.
fn uploaded(a: &Answer) -> Value {
    let p = &a.data()["uploadEvidence"];
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(p["userErrors"], json!([]), "{:?}", a.body);
    p["evidence"].clone()
}

/// The first user error's code of a mutation payload.
fn user_code<'a>(a: &'a Answer, field: &str) -> &'a str {
    a.data()[field]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no user error in {:?}", a.body))
}

async fn download(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn control_id(app: &TestApp, token: &str, framework: &str, reference: &str) -> String {
    let r = app
        .gql(
            token,
            None,
            "query($k: String!, $r: String!) { framework(key: $k) { control(ref: $r) { id } } }",
            json!({ "k": framework, "r": reference }),
        )
        .await;
    r.data()["framework"]["control"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{framework} {reference}: {:?}", r.body))
        .to_owned()
}

async fn evidence(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app
        .gql(
            token,
            None,
            &format!("query($id: ID!) {{ evidence(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{:?}", r.body);
    r.data()["evidence"].clone()
}

async fn list(app: &TestApp, token: &str, filter: Value) -> (u64, Vec<String>) {
    let r = app
        .gql(
            token,
            None,
            "query($f: EvidenceFilter) { evidences(first: 50, filter: $f) { totalCount edges { node { id } } } }",
            json!({ "f": filter }),
        )
        .await;
    let c = &r.data()["evidences"];
    let ids = c["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    (c["totalCount"].as_u64().unwrap(), ids)
}

async fn actions(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let r = app
        .gql(
            token,
            None,
            "{ auditEvents(last: 100) { edges { node { action actor } } } }",
            json!({}),
        )
        .await;
    r.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| {
            (
                e["node"]["action"].as_str().unwrap().to_owned(),
                e["node"]["actor"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(a, _)| a.starts_with("evidence."))
        .collect()
}

fn objects_dir(app: &TestApp) -> PathBuf {
    app.db.settings.data_dir.join("objects")
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
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

/// A risk in `tenant`, written past the API (the risk register is another module's): an ISMS
/// and one risk in it. Returns the risk's global id.
async fn seed_risk(app: &TestApp, tenant: uuid::Uuid) -> String {
    let db = &app.db.admin;
    let backend = db.get_database_backend();
    let q = |s: &str| {
        if backend == DbBackend::Postgres {
            s.to_owned()
        } else {
            s.replace('$', "?")
        }
    };
    let isms = uuid::Uuid::now_v7();
    let risk = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        q("INSERT INTO isms (tenant_id, id, name, scope_statement, boundaries, sites, base_framework,
             likelihood_levels, impact_levels, acceptance_threshold, likelihood_labels, impact_labels,
             soa_revision, created_at, updated_at)
           VALUES ($1, $2, $3, '', '', '[]', 'iso27001-2022', 5, 5, 6, '[]', '[]', 0, $4, $5)"),
        [
            tenant.into(),
            isms.into(),
            format!("ISMS {}", isms.simple()).into(),
            now.into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        q("INSERT INTO risks (tenant_id, id, isms_id, ref, title, description, threat, vulnerability,
             inherent_likelihood, inherent_impact, created_at, updated_at)
           VALUES ($1, $2, $3, 'R-1', 'Ransomware', '', '', '', 3, 4, $4, $5)"),
        [
            tenant.into(),
            risk.into(),
            isms.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    global_id("Risk", risk)
}

fn base_input(title: &str) -> Value {
    json!({ "title": title, "effectiveDate": "2025-01-15" })
}

/// Writes at least one row in each of this feature's tenant-owned tables, through the API, as
/// the tenant whose owner token is given (the row-level security test calls it for two tenants).
pub async fn populate(app: &TestApp, token: &str) {
    let control = control_id(app, token, "iso27001-2022", "A.5.1").await;
    let mut input = base_input("Information security policy, signed");
    input["controlIds"] = json!([control]);
    let a = upload(
        app,
        token,
        input,
        "policy.pdf",
        "application/pdf",
        pdf_bytes(),
    )
    .await;
    let e = uploaded(&a);
    assert_eq!(e["links"].as_array().map(Vec::len), Some(1), "{e}");
}

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
        slug,
        &[
            ("owner", Role::Owner),
            ("cm", Role::ComplianceManager),
            ("contrib", Role::Contributor),
            ("contrib2", Role::Contributor),
            ("auditor", Role::Auditor),
            ("viewer", Role::Viewer),
        ],
    )
    .await
}

async fn round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = fixture(&app, "acme").await;
    let cm = t.token("cm");
    let a51 = control_id(&app, cm, "iso27001-2022", "A.5.1").await;
    let clause = control_id(&app, cm, "iso27001-2022", "9.2").await;
    let hipaa = control_id(&app, cm, "hipaa-sr", "164.308(a)(1)(i)").await;
    let bytes = pdf_bytes();
    let mut input = base_input("Internal audit report 2025");
    input["description"] = json!("Signed by the audit lead");
    input["expiresOn"] = json!("2099-12-31");
    input["controlIds"] = json!([a51]);
    input["requirementIds"] = json!([clause, hipaa, clause]);
    let a = upload(
        &app,
        cm,
        input,
        "../reports/audit 2025 – final.pdf",
        "application/pdf",
        bytes.clone(),
    )
    .await;
    let e = uploaded(&a);
    let id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["title"], "Internal audit report 2025");
    assert_eq!(e["description"], "Signed by the audit lead");
    assert_eq!(e["filename"], "audit 2025 – final.pdf");
    assert_eq!(e["mediaType"], "application/pdf");
    assert_eq!(e["sizeBytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(e["sha256"], sha256_hex(&bytes));
    assert_eq!(e["effectiveDate"], "2025-01-15");
    assert_eq!(e["expiresOn"], "2099-12-31");
    assert_eq!(e["expired"], false);
    assert_eq!(e["archivedAt"], Value::Null);
    assert_eq!(
        e["uploaderId"].as_str(),
        Some(global_id("User", t.user_ids["cm"]).as_str())
    );
    assert_eq!(
        e["uploadedBy"].as_str(),
        Some(format!("user:{}", t.user_ids["cm"]).as_str())
    );
    let uuid = uuid::Uuid::parse_str(
        std::str::from_utf8(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &id)
                .unwrap(),
        )
        .unwrap()
        .trim_start_matches("Evidence:"),
    )
    .unwrap();
    assert_eq!(e["downloadPath"], format!("/evidence/{id}/content"));
    // Three links: the duplicate requirement counts once.
    let mut kinds: Vec<(String, String)> = e["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["targetId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    let mut want = vec![
        ("CONTROL".to_owned(), a51.clone()),
        ("REQUIREMENT".to_owned(), clause.clone()),
        ("REQUIREMENT".to_owned(), hipaa.clone()),
    ];
    want.sort();
    assert_eq!(kinds, want);

    // The object is where the key says, with the bytes sent.
    let object = objects_dir(&app).join(format!("tenants/{}/evidence/{uuid}", t.tenant.id.0));
    assert_eq!(std::fs::read(&object).unwrap(), bytes);

    // The same through the query, the list and node().
    assert_eq!(
        evidence(&app, t.token("viewer"), &id).await["sha256"],
        e["sha256"]
    );
    assert_eq!(list(&app, cm, json!(null)).await, (1, vec![id.clone()]));
    let n = app
        .gql(
            cm,
            None,
            "query($id: ID!) { node(id: $id) { id ... on Evidence { title } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        n.data()["node"]["title"],
        "Internal audit report 2025",
        "{:?}",
        n.body
    );

    // Download (as the auditor): the same bytes and the headers a browser must respect.
    let r = download(&app, t.token("auditor"), &format!("/evidence/{id}/content")).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(cd.contains("filename=\"audit 2025 _ final.pdf\""), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''audit%202025%20%E2%80%93%20final.pdf"),
        "{cd}"
    );
    assert_eq!(h["etag"], format!("\"{}\"", sha256_hex(&bytes)).as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    let owner = t.token("owner");
    assert_eq!(
        actions(&app, owner).await,
        vec![
            (
                "evidence.upload".into(),
                format!("user:{}", t.user_ids["cm"])
            ),
            (
                "evidence.download".into(),
                format!("user:{}", t.user_ids["auditor"])
            ),
        ]
    );

    // A text file: UTF-8 checked, served with its charset.
    let text = "Backup restore test: passed ✓\n".as_bytes().to_vec();
    let a = upload(
        &app,
        cm,
        base_input("Restore test log"),
        "restore.txt",
        "text/plain; charset=utf-8",
        text.clone(),
    )
    .await;
    let tx = uploaded(&a);
    assert_eq!(tx["mediaType"], "text/plain");
    let r = download(&app, cm, tx["downloadPath"].as_str().unwrap()).await;
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.bytes().await.unwrap().to_vec(), text);

    // An object altered at rest is not served, and no download is recorded for it.
    let before = actions(&app, owner).await.len();
    std::fs::write(&object, b"%PDF-1.7 forged").unwrap();
    let r = download(&app, cm, &format!("/evidence/{id}/content")).await;
    assert_eq!(r.status(), 500);
    assert_eq!(actions(&app, owner).await.len(), before);
    // A missing object likewise.
    std::fs::remove_file(&object).unwrap();
    let r = download(&app, cm, &format!("/evidence/{id}/content")).await;
    assert_eq!(r.status(), 500);
    assert_eq!(actions(&app, owner).await.len(), before);
}

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = fixture(&app, "acme").await;
    let a = upload(
        &app,
        t.token("cm"),
        base_input("Firewall review"),
        "fw.pdf",
        "application/pdf",
        pdf_bytes(),
    )
    .await;
    let theirs = uploaded(&a)["id"].as_str().unwrap().to_owned();
    let path = format!("/evidence/{theirs}/content");

    // Viewers see the metadata, never the file; they upload nothing.
    let v = t.token("viewer");
    assert_eq!(evidence(&app, v, &theirs).await["title"], "Firewall review");
    let r = download(&app, v, &path).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    for who in ["viewer", "auditor"] {
        let a = upload(
            &app,
            t.token(who),
            base_input("Not mine to add"),
            "x.pdf",
            "application/pdf",
            pdf_bytes(),
        )
        .await;
        assert_eq!(a.code(), Some("FORBIDDEN"), "{who}: {:?}", a.body);
    }
    // Auditors download.
    assert_eq!(
        download(&app, t.token("auditor"), &path).await.status(),
        200
    );

    // A multipart request without credentials is refused before anything is read or stored
    // (a cross-site form cannot carry the Authorization header).
    let a = upload_as(
        &app,
        None,
        base_input("Anonymous"),
        "a.pdf",
        "application/pdf",
        pdf_bytes(),
    )
    .await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    assert_eq!(a.code(), Some("UNAUTHENTICATED"));
    // Nor without a credential on the download.
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A contributor uploads and edits its own evidence, not another's.
    let c = t.token("contrib");
    let a = upload(
        &app,
        c,
        base_input("Training roster"),
        "roster.csv",
        "text/csv",
        b"name,date\nAda,2025-01-10\n".to_vec(),
    )
    .await;
    let mine = uploaded(&a)["id"].as_str().unwrap().to_owned();
    let upd = "mutation($i: UpdateEvidenceInput!) { updateEvidence(input: $i) { evidence { title } userErrors { code } } }";
    let r = app
        .gql(
            c,
            None,
            upd,
            json!({ "i": { "evidenceId": mine, "title": "Roster Q1" } }),
        )
        .await;
    assert_eq!(
        r.data()["updateEvidence"]["evidence"]["title"],
        "Roster Q1",
        "{:?}",
        r.body
    );
    let a51 = control_id(&app, c, "iso27001-2022", "A.5.1").await;
    for (q, vars) in [
        (
            upd,
            json!({ "i": { "evidenceId": theirs, "title": "Mine now" } }),
        ),
        (
            "mutation($i: EvidenceLinksInput!) { linkEvidence(input: $i) { userErrors { code } } }",
            json!({ "i": { "evidenceId": theirs, "controlIds": [a51] } }),
        ),
        (
            "mutation($i: ArchiveEvidenceInput!) { archiveEvidence(input: $i) { userErrors { code } } }",
            json!({ "i": { "evidenceId": theirs } }),
        ),
    ] {
        for who in ["contrib", "contrib2"] {
            let r = app.gql(t.token(who), None, q, vars.clone()).await;
            assert_eq!(r.code(), Some("FORBIDDEN"), "{who} {q}: {:?}", r.body);
        }
        // The second contributor cannot touch the first one's either.
        let mut other = vars.clone();
        other["i"]["evidenceId"] = json!(mine);
        let r = app.gql(t.token("contrib2"), None, q, other).await;
        assert_eq!(r.code(), Some("FORBIDDEN"), "{q}: {:?}", r.body);
    }
    let e = evidence(&app, t.token("cm"), &theirs).await;
    assert_eq!(e["title"], "Firewall review");
    assert_eq!(e["links"], json!([]));
    assert_eq!(e["archivedAt"], Value::Null);
    // The compliance manager may change the contributor's.
    let r = app
        .gql(
            t.token("cm"),
            None,
            upd,
            json!({ "i": { "evidenceId": mine, "title": "Roster checked" } }),
        )
        .await;
    assert_eq!(
        r.data()["updateEvidence"]["evidence"]["title"],
        "Roster checked"
    );
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "beta").await;
    let bytes = pdf_bytes();
    let up = upload(
        &app,
        a.token("cm"),
        base_input("Alpha's pen test"),
        "pentest.pdf",
        "application/pdf",
        bytes.clone(),
    )
    .await;
    let id = uploaded(&up)["id"].as_str().unwrap().to_owned();
    let a51 = control_id(&app, b.token("owner"), "iso27001-2022", "A.5.1").await;

    for who in ["owner", "cm", "auditor", "viewer"] {
        let tok = b.token(who);
        assert_eq!(evidence(&app, tok, &id).await, Value::Null, "{who}");
        assert_eq!(list(&app, tok, json!(null)).await, (0, vec![]), "{who}");
        let n = app
            .gql(
                tok,
                None,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n.data()["node"], Value::Null, "{who}: {:?}", n.body);
    }
    for who in ["owner", "auditor"] {
        let r = download(&app, b.token(who), &format!("/evidence/{id}/content")).await;
        assert_eq!(r.status(), 404, "{who}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    }
    for (field, q, vars) in [
        (
            "updateEvidence",
            "mutation($i: UpdateEvidenceInput!) { updateEvidence(input: $i) { evidence { id } userErrors { code field } } }",
            json!({ "i": { "evidenceId": id, "title": "Beta's now" } }),
        ),
        (
            "linkEvidence",
            "mutation($i: EvidenceLinksInput!) { linkEvidence(input: $i) { evidence { id } userErrors { code field } } }",
            json!({ "i": { "evidenceId": id, "controlIds": [a51] } }),
        ),
        (
            "unlinkEvidence",
            "mutation($i: EvidenceLinksInput!) { unlinkEvidence(input: $i) { evidence { id } userErrors { code field } } }",
            json!({ "i": { "evidenceId": id, "controlIds": [a51] } }),
        ),
        (
            "archiveEvidence",
            "mutation($i: ArchiveEvidenceInput!) { archiveEvidence(input: $i) { evidence { id } userErrors { code field } } }",
            json!({ "i": { "evidenceId": id } }),
        ),
    ] {
        let r = app.gql(b.token("owner"), None, q, vars).await;
        assert_eq!(user_code(&r, field), "NOT_FOUND", "{field}: {:?}", r.body);
        assert_eq!(r.data()[field]["evidence"], Value::Null);
    }
    // Alpha's evidence is as it was, and beta's trail records nothing of it.
    let e = evidence(&app, a.token("viewer"), &id).await;
    assert_eq!(e["title"], "Alpha's pen test");
    assert_eq!(e["links"], json!([]));
    assert_eq!(e["archivedAt"], Value::Null);
    assert_eq!(actions(&app, b.token("owner")).await, vec![]);
    assert_eq!(
        actions(&app, a.token("owner")).await,
        vec![(
            "evidence.upload".to_owned(),
            format!("user:{}", a.user_ids["cm"])
        )]
    );
}

async fn bad_uploads(backend: Backend) {
    // A small limit, so that "over the limit" is cheap to send.
    let app = TestApp::spawn_with(backend, |s| {
        s.max_upload_bytes = 1024;
        s.max_body_bytes = 64 * 1024;
    })
    .await;
    let t = fixture(&app, "acme").await;
    let other = fixture(&app, "other").await;
    let cm = t.token("cm");
    // Exactly at the limit.
    let mut pdf = pdf_bytes();
    pdf.resize(1024, b' ');
    let at_limit = upload(
        &app,
        cm,
        base_input("At the limit"),
        "a.pdf",
        "application/pdf",
        pdf.clone(),
    )
    .await;
    let ok_id = uploaded(&at_limit)["id"].as_str().unwrap().to_owned();
    assert_eq!(row_count(&app, "evidence").await, 1);
    let stored_before = files_under(&objects_dir(&app));
    assert_eq!(stored_before.len(), 1);

    let check = |a: &Answer, what: &str, code: &str, field: &str| {
        assert_eq!(a.status, 200, "{what}: {:?}", a.body);
        assert_eq!(user_code(a, "uploadEvidence"), code, "{what}: {:?}", a.body);
        assert_eq!(
            a.data()["uploadEvidence"]["userErrors"][0]["field"],
            json!(["input", field]),
            "{what}"
        );
        assert_eq!(
            a.data()["uploadEvidence"]["evidence"],
            Value::Null,
            "{what}"
        );
    };

    // One byte over the limit.
    let mut over = pdf.clone();
    over.push(b'\n');
    let a = upload(
        &app,
        cm,
        base_input("Too big"),
        "big.pdf",
        "application/pdf",
        over,
    )
    .await;
    check(&a, "over", "BAD_USER_INPUT", "file");
    // Far over: the request itself is refused.
    let a = upload(
        &app,
        cm,
        base_input("Far too big"),
        "huge.bin",
        "application/octet-stream",
        vec![7u8; 200 * 1024],
    )
    .await;
    assert_eq!(a.status, 413, "{:?}", a.body);
    assert_eq!(a.code(), Some("BAD_USER_INPUT"));
    // Declared types that the content contradicts.
    let a = upload(
        &app,
        cm,
        base_input("PNG as text"),
        "shot.txt",
        "text/plain",
        PNG.to_vec(),
    )
    .await;
    check(&a, "png as text", "BAD_USER_INPUT", "file");
    let a = upload(
        &app,
        cm,
        base_input("Binary as text"),
        "blob.txt",
        "text/plain",
        vec![0x00, 0xff, 0xfe, 0x10],
    )
    .await;
    check(&a, "binary as text", "BAD_USER_INPUT", "file");
    let a = upload(
        &app,
        cm,
        base_input("Text as PDF"),
        "fake.pdf",
        "application/pdf",
        b"not a pdf".to_vec(),
    )
    .await;
    check(&a, "text as pdf", "BAD_USER_INPUT", "file");
    let a = upload(
        &app,
        cm,
        base_input("PDF as PNG"),
        "fake.png",
        "image/png",
        pdf.clone(),
    )
    .await;
    check(&a, "pdf as png", "BAD_USER_INPUT", "file");
    let a = upload(
        &app,
        cm,
        base_input("Empty"),
        "empty.txt",
        "text/plain",
        vec![],
    )
    .await;
    check(&a, "empty", "BAD_USER_INPUT", "file");
    // Dates: expiry before the effective date (a leap day and the day before it).
    let mut input = base_input("Backwards");
    input["effectiveDate"] = json!("2024-02-29");
    input["expiresOn"] = json!("2024-02-28");
    let a = upload(&app, cm, input, "b.pdf", "application/pdf", pdf.clone()).await;
    check(&a, "dates", "BAD_USER_INPUT", "expiresOn");
    let mut input = base_input("Blank title");
    input["title"] = json!("   ");
    let a = upload(&app, cm, input, "b.pdf", "application/pdf", pdf.clone()).await;
    check(&a, "title", "BAD_USER_INPUT", "title");
    // Links: a control outside the catalog, a CSF subcategory (no control), a clause given as a
    // control, a control given as a requirement, another tenant's risk.
    let stranger = global_id("Control", uuid::Uuid::now_v7());
    let csf = control_id(&app, cm, "nist-csf-2.0", "GV.OC-01").await;
    let clause = control_id(&app, cm, "iso27001-2022", "9.2").await;
    let a51 = control_id(&app, cm, "iso27001-2022", "A.5.1").await;
    let foreign_risk = seed_risk(&app, other.tenant.id.0).await;
    for (what, field, ids, code) in [
        (
            "unknown control",
            "controlIds",
            json!([stranger]),
            "NOT_FOUND",
        ),
        (
            "csf subcategory",
            "controlIds",
            json!([csf]),
            "BAD_USER_INPUT",
        ),
        (
            "clause as control",
            "controlIds",
            json!([clause]),
            "BAD_USER_INPUT",
        ),
        (
            "control as requirement",
            "requirementIds",
            json!([a51]),
            "BAD_USER_INPUT",
        ),
        (
            "foreign risk",
            "riskIds",
            json!([foreign_risk]),
            "NOT_FOUND",
        ),
        ("not an id", "riskIds", json!(["nope"]), "NOT_FOUND"),
    ] {
        let mut input = base_input(what);
        input[field] = ids;
        let a = upload(&app, cm, input, "l.pdf", "application/pdf", pdf.clone()).await;
        check(&a, what, code, field);
    }

    // Nothing was stored: no row, no link, no object, no audit event beyond the first upload.
    assert_eq!(row_count(&app, "evidence").await, 1);
    assert_eq!(row_count(&app, "evidence_links").await, 0);
    assert_eq!(files_under(&objects_dir(&app)), stored_before);
    assert_eq!(actions(&app, t.token("owner")).await.len(), 1);

    // Updates are checked the same way and change nothing.
    let upd = "mutation($i: UpdateEvidenceInput!) { updateEvidence(input: $i) { evidence { id } userErrors { code field } } }";
    let r = app
        .gql(
            cm,
            None,
            upd,
            json!({ "i": { "evidenceId": ok_id, "expiresOn": "2025-01-14" } }),
        )
        .await;
    assert_eq!(
        user_code(&r, "updateEvidence"),
        "BAD_USER_INPUT",
        "{:?}",
        r.body
    );
    let link = "mutation($i: EvidenceLinksInput!) { linkEvidence(input: $i) { evidence { id } userErrors { code field } } }";
    let r = app
        .gql(
            cm,
            None,
            link,
            json!({ "i": { "evidenceId": ok_id, "riskIds": [foreign_risk] } }),
        )
        .await;
    assert_eq!(user_code(&r, "linkEvidence"), "NOT_FOUND", "{:?}", r.body);
    let r = app
        .gql(
            cm,
            None,
            link,
            json!({ "i": { "evidenceId": ok_id, "controlIds": [stranger] } }),
        )
        .await;
    assert_eq!(user_code(&r, "linkEvidence"), "NOT_FOUND", "{:?}", r.body);
    let e = evidence(&app, cm, &ok_id).await;
    assert_eq!(e["expiresOn"], Value::Null);
    assert_eq!(e["links"], json!([]));
    assert_eq!(actions(&app, t.token("owner")).await.len(), 1);

    // A malformed multipart request and another content type.
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(cm)
        .multipart(Form::new().text("operations", "{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(cm)
        .header("content-type", "text/plain")
        .body("{ __typename }")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

async fn lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = fixture(&app, "acme").await;
    let cm = t.token("cm");
    let a51 = control_id(&app, cm, "iso27001-2022", "A.5.1").await;
    let a812 = control_id(&app, cm, "iso27001-2022", "A.8.12").await;
    let risk = seed_risk(&app, t.tenant.id.0).await;

    let mut old = base_input("Last year's DR test");
    old["effectiveDate"] = json!("2020-01-01");
    old["expiresOn"] = json!("2020-12-31");
    old["riskIds"] = json!([risk]);
    let old = uploaded(&upload(&app, cm, old, "dr2020.pdf", "application/pdf", pdf_bytes()).await);
    assert_eq!(old["expired"], true);
    let mut cur = base_input("This year's DR test");
    cur["controlIds"] = json!([a51]);
    let cur = uploaded(&upload(&app, cm, cur, "dr.pdf", "application/pdf", pdf_bytes()).await);
    assert_eq!(cur["expired"], false);
    let (old_id, cur_id) = (
        old["id"].as_str().unwrap().to_owned(),
        cur["id"].as_str().unwrap().to_owned(),
    );

    // Newest upload first; paging walks towards older ones.
    assert_eq!(
        list(&app, cm, json!(null)).await,
        (2, vec![cur_id.clone(), old_id.clone()])
    );
    let p = app
        .gql(
            cm,
            None,
            "{ evidences(first: 1) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
            json!({}),
        )
        .await;
    let c = &p.data()["evidences"];
    assert_eq!(c["edges"][0]["node"]["id"], cur_id.as_str());
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let p = app
        .gql(
            cm,
            None,
            "query($a: String) { evidences(first: 1, after: $a) { pageInfo { hasNextPage } edges { node { id } } } }",
            json!({ "a": c["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        p.data()["evidences"]["edges"][0]["node"]["id"],
        old_id.as_str()
    );
    assert_eq!(p.data()["evidences"]["pageInfo"]["hasNextPage"], false);

    // Filters.
    assert_eq!(
        list(&app, cm, json!({ "expired": true })).await,
        (1, vec![old_id.clone()])
    );
    assert_eq!(
        list(&app, cm, json!({ "expired": false })).await,
        (1, vec![cur_id.clone()])
    );
    assert_eq!(
        list(&app, cm, json!({ "controlId": a51 })).await,
        (1, vec![cur_id.clone()])
    );
    assert_eq!(
        list(&app, cm, json!({ "riskId": risk })).await,
        (1, vec![old_id.clone()])
    );
    assert_eq!(
        list(&app, cm, json!({ "controlId": a812 })).await,
        (0, vec![])
    );

    // Update: new dates, then the expiry removed with null.
    let upd = format!(
        "mutation($i: UpdateEvidenceInput!) {{ updateEvidence(input: $i) {{ evidence {{ {FIELDS} }} userErrors {{ code field message }} }} }}"
    );
    let r = app
        .gql(cm, None, &upd, json!({ "i": { "evidenceId": old_id, "title": "DR test 2020", "effectiveDate": "2020-02-29", "expiresOn": "2021-02-28" } }))
        .await;
    let e = &r.data()["updateEvidence"]["evidence"];
    assert_eq!(e["title"], "DR test 2020", "{:?}", r.body);
    assert_eq!(e["effectiveDate"], "2020-02-29");
    assert_eq!(e["expiresOn"], "2021-02-28");
    assert_eq!(e["expired"], true);
    let r = app
        .gql(
            cm,
            None,
            &upd,
            json!({ "i": { "evidenceId": old_id, "expiresOn": null } }),
        )
        .await;
    let e = &r.data()["updateEvidence"]["evidence"];
    assert_eq!(e["expiresOn"], Value::Null, "{:?}", r.body);
    assert_eq!(e["expired"], false);
    assert_eq!(e["effectiveDate"], "2020-02-29");
    assert_eq!(e["sha256"], old["sha256"]);

    // Links: add (twice is once), remove.
    let link = format!(
        "mutation($i: EvidenceLinksInput!) {{ linkEvidence(input: $i) {{ evidence {{ {FIELDS} }} userErrors {{ code field }} }} }}"
    );
    let unlink = format!(
        "mutation($i: EvidenceLinksInput!) {{ unlinkEvidence(input: $i) {{ evidence {{ {FIELDS} }} userErrors {{ code field }} }} }}"
    );
    let r = app
        .gql(
            cm,
            None,
            &link,
            json!({ "i": { "evidenceId": cur_id, "controlIds": [a51, a812], "riskIds": [risk] } }),
        )
        .await;
    let links = r.data()["linkEvidence"]["evidence"]["links"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(links, 3, "{:?}", r.body);
    let r = app
        .gql(
            cm,
            None,
            &unlink,
            json!({ "i": { "evidenceId": cur_id, "controlIds": [a51], "riskIds": [risk] } }),
        )
        .await;
    assert_eq!(
        r.data()["unlinkEvidence"]["evidence"]["links"],
        json!([{ "kind": "CONTROL", "targetId": a812 }]),
        "{:?}",
        r.body
    );
    assert_eq!(
        list(&app, cm, json!({ "riskId": risk })).await,
        (1, vec![old_id.clone()])
    );

    // Archive: out of the default list, still readable and downloadable, frozen.
    let arch = "mutation($i: ArchiveEvidenceInput!) { archiveEvidence(input: $i) { evidence { archivedAt } userErrors { code } } }";
    let r = app
        .gql(cm, None, arch, json!({ "i": { "evidenceId": old_id } }))
        .await;
    assert!(
        r.data()["archiveEvidence"]["evidence"]["archivedAt"].is_string(),
        "{:?}",
        r.body
    );
    let r = app
        .gql(cm, None, arch, json!({ "i": { "evidenceId": old_id } }))
        .await;
    assert_eq!(user_code(&r, "archiveEvidence"), "CONFLICT");
    let r = app
        .gql(
            cm,
            None,
            &upd,
            json!({ "i": { "evidenceId": old_id, "title": "Changed" } }),
        )
        .await;
    assert_eq!(user_code(&r, "updateEvidence"), "CONFLICT");
    assert_eq!(list(&app, cm, json!(null)).await, (1, vec![cur_id.clone()]));
    assert_eq!(
        list(&app, cm, json!({ "includeArchived": true })).await,
        (2, vec![cur_id.clone(), old_id.clone()])
    );
    assert_eq!(evidence(&app, cm, &old_id).await["title"], "DR test 2020");
    let r = download(&app, cm, &format!("/evidence/{old_id}/content")).await;
    assert_eq!(r.status(), 200);

    let cmu = format!("user:{}", t.user_ids["cm"]);
    let got: Vec<String> = actions(&app, t.token("owner"))
        .await
        .into_iter()
        .map(|(a, actor)| {
            assert_eq!(actor, cmu);
            a
        })
        .collect();
    assert_eq!(
        got,
        [
            "evidence.upload",
            "evidence.upload",
            "evidence.update",
            "evidence.update",
            "evidence.link",
            "evidence.unlink",
            "evidence.archive",
            "evidence.download",
        ]
    );
}

/// The S3 backend against a real S3-compatible server over HTTP: `scripts/test` starts moto's
/// server (PyPI `moto[server]`) on 127.0.0.1:5005 unless `GRC_TEST_S3_ENDPOINT` names another
/// (a MinIO, say); credentials come from the `AWS_*` variables (moto accepts any). The bucket
/// is created with an unsigned PUT, which moto and MinIO in anonymous mode accept; otherwise
/// create it first and name it in `GRC_TEST_S3_BUCKET`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_round_trip() {
    let endpoint = grc_e2e::s3_endpoint();
    let bucket = std::env::var("GRC_TEST_S3_BUCKET")
        .unwrap_or_else(|_| format!("grc-test-{}", uuid::Uuid::new_v4().simple()));
    let _ = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.object_store = "s3".into();
        s.s3_bucket = Some(bucket.clone());
        s.s3_endpoint = Some(endpoint.clone());
        s.s3_region = Some("us-east-1".into());
    })
    .await;
    let t = fixture(&app, "acme").await;
    let bytes = pdf_bytes();
    let e = uploaded(
        &upload(
            &app,
            t.token("cm"),
            base_input("In the bucket"),
            "s3.pdf",
            "application/pdf",
            bytes.clone(),
        )
        .await,
    );
    assert_eq!(e["sha256"], sha256_hex(&bytes));
    // Nothing went to the local directory.
    assert_eq!(files_under(&objects_dir(&app)), Vec::<PathBuf>::new());
    let r = download(
        &app,
        t.token("auditor"),
        e["downloadPath"].as_str().unwrap(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}
