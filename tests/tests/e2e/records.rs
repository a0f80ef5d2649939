//! ISMS records: controlled documents with versions and approval (ISO/IEC 27001 5.2, 7.5),
//! objectives with results (6.2, 9.1), workforce training (7.2, HIPAA 164.308(a)(5)); the role
//! matrix, frozen approved versions (in the API and in the database), bad input that changes
//! nothing, and tenant isolation. Dates computed by hand.

use base64::Engine;
use chrono::{Duration, NaiveDate, Utc};
use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends, global_id};
use grc_store::TenantScope;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

both_backends! {
    documents_are_versioned_approved_and_frozen => documents_flow;
    objectives_track_results_over_time => objectives_flow;
    training_assignments_follow_the_calendar => training_flow;
    roles_decide_who_changes_records => role_matrix;
    bad_input_is_refused_and_changes_nothing => bad_input;
    other_tenants_neither_see_nor_change_records => isolation;
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A management system created through the API (as the given member): its global id.
async fn new_isms(app: &TestApp, token: &str) -> String {
    let name = format!("Records ISMS {}", Uuid::now_v7().simple());
    super::isms::create_isms(app, token, &name, None).await.0
}

fn ok(r: &Answer, field: &str) -> Value {
    assert!(r.body["errors"].is_null(), "{field}: {:?}", r.body);
    let p = &r.data()[field];
    assert_eq!(p["userErrors"], json!([]), "{field}: {:?}", r.body);
    p.clone()
}

/// The first user error's code; the answer must have no top-level error.
fn err(r: &Answer, field: &str) -> String {
    assert!(
        r.body["errors"].is_null(),
        "{field}: a user error, not a top-level one: {:?}",
        r.body
    );
    r.data()[field]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: expected an error: {:?}", r.body))
        .to_owned()
}

async fn iso_control(app: &TestApp, token: &str, reference: &str) -> String {
    let r = app
        .gql(
            token,
            None,
            r#"query($r: String!) { framework(key: "iso27001-2022") { control(ref: $r) { id } } }"#,
            json!({ "r": reference }),
        )
        .await;
    r.data()["framework"]["control"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const DOC: &str = r#"id kind title fulfils fulfilsClause ownerId nextReviewDate reviewOverdue
    versions { id number status effectiveDate approvedBy summary body }
    currentVersion { number } latestVersion { number } controls { ref }"#;

async fn create_document(app: &TestApp, token: &str, input: Value) -> Answer {
    app.gql(
        token,
        None,
        &format!(
            "mutation($i: CreateDocumentInput!) {{ createDocument(input: $i) {{ document {{ {DOC} }} userErrors {{ code field message }} }} }}"
        ),
        json!({ "i": input }),
    )
    .await
}

async fn add_version(app: &TestApp, token: &str, input: Value) -> Answer {
    app.gql(
        token,
        None,
        "mutation($i: AddDocumentVersionInput!) { addDocumentVersion(input: $i) { version { id number status } userErrors { code field message } } }",
        json!({ "i": input }),
    )
    .await
}

async fn approve(
    app: &TestApp,
    token: &str,
    version: &str,
    effective: Option<NaiveDate>,
) -> Answer {
    app.gql(
        token,
        None,
        "mutation($i: ApproveDocumentVersionInput!) { approveDocumentVersion(input: $i) { version { number status effectiveDate approverId } document { currentVersion { number } } userErrors { code field message } } }",
        json!({ "i": { "versionId": version, "effectiveDate": effective } }),
    )
    .await
}

async fn document(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app
        .gql(
            token,
            None,
            &format!("query($id: ID!) {{ document(id: $id) {{ {DOC} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{:?}", r.body);
    r.data()["document"].clone()
}

async fn audit_count(app: &TestApp, f: &Fixture) -> usize {
    let r = app
        .gql(
            f.token("owner"),
            None,
            "{ auditEvents(first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    r.data()["auditEvents"]["totalCount"].as_u64().unwrap() as usize
}

async fn audit_actions(app: &TestApp, f: &Fixture) -> Vec<String> {
    let r = app
        .gql(
            f.token("owner"),
            None,
            "{ auditEvents(first: 100) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    r.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Raw SQL as the database's owner/admin (past the repositories), on either backend.
async fn raw(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> Result<u64, sea_orm::DbErr> {
    let backend = app.db.admin.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    app.db
        .admin
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map(|r| r.rows_affected())
}

fn uuid_of(global: &str) -> Uuid {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .unwrap();
    let s = String::from_utf8(raw).unwrap();
    Uuid::try_parse(s.split(':').nth(1).unwrap()).unwrap()
}

/// Writes at least one row in each of this feature's tenant-owned tables, through the API, as
/// the tenant whose owner token is given (the row-level security test calls it for two tenants).
pub async fn populate(app: &TestApp, token: &str) {
    let t = app
        .gql(token, None, "{ viewer { user { id } } }", json!({}))
        .await;
    let me = t.data()["viewer"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let isms = new_isms(app, token).await;
    let control = iso_control(app, token, "A.5.1").await;
    let doc = ok(
        &create_document(
            app,
            token,
            json!({ "ismsId": isms, "kind": "POLICY", "title": "Information security policy",
                    "fulfils": "security-policy", "controlIds": [control] }),
        )
        .await,
        "createDocument",
    );
    let v = ok(
        &add_version(
            app,
            token,
            json!({ "documentId": doc["document"]["id"], "summary": "First issue", "body": "We protect information." }),
        )
        .await,
        "addDocumentVersion",
    );
    ok(
        &approve(app, token, v["version"]["id"].as_str().unwrap(), None).await,
        "approveDocumentVersion",
    );
    let o = app
        .gql(
            token,
            None,
            r#"mutation($isms: ID!) { createObjective(input: {ismsId: $isms, title: "Patch on time",
                 measure: "share of critical patches applied within 14 days", target: 95, unit: "%",
                 direction: AT_LEAST}) { objective { id } userErrors { message } } }"#,
            json!({ "isms": isms }),
        )
        .await;
    let o = ok(&o, "createObjective");
    let r = app
        .gql(
            token,
            None,
            r#"mutation($o: ID!) { recordObjectiveResult(input: {objectiveId: $o, measuredOn: "2026-01-31", value: 96}) { userErrors { message } } }"#,
            json!({ "o": o["objective"]["id"] }),
        )
        .await;
    ok(&r, "recordObjectiveResult");
    let c = app
        .gql(
            token,
            None,
            r#"mutation { createTrainingCourse(input: {title: "Security awareness", hipaaSecurityAwareness: true, recurrenceMonths: 12}) { course { id } userErrors { message } } }"#,
            json!({}),
        )
        .await;
    let c = ok(&c, "createTrainingCourse");
    let a = app
        .gql(
            token,
            None,
            r#"mutation($c: ID!, $u: ID!) { assignTraining(input: {courseId: $c, userId: $u, dueDate: "2026-12-31"}) { assignment { id } userErrors { message } } }"#,
            json!({ "c": c["course"]["id"], "u": me }),
        )
        .await;
    ok(&a, "assignTraining");
}

async fn documents_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "acme",
            &[("owner", Role::Owner), ("cm", Role::ComplianceManager)],
        )
        .await;
    let cm = f.token("cm");
    let isms = new_isms(&app, f.token("owner")).await;
    let a51 = iso_control(&app, cm, "A.5.1").await;
    let a515 = iso_control(&app, cm, "A.5.15").await;
    let created = ok(
        &create_document(
            &app,
            cm,
            json!({ "ismsId": isms, "kind": "POLICY", "title": "Information security policy",
                    "fulfils": "security-policy", "controlIds": [a51, a515, a51] }),
        )
        .await,
        "createDocument",
    );
    let doc = created["document"].clone();
    let doc_id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(doc["fulfilsClause"], "5.2");
    assert_eq!(
        doc["ownerId"],
        Value::Null,
        "a compliance manager's document has no owner unless named"
    );
    let mut refs: Vec<_> = doc["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ref"].as_str().unwrap().to_owned())
        .collect();
    refs.sort();
    assert_eq!(refs, ["A.5.1", "A.5.15"], "duplicates count once");
    assert_eq!(doc["currentVersion"], Value::Null);

    // v1: a draft, then approved with the default effective date (today).
    let v1 = ok(
        &add_version(
            &app,
            cm,
            json!({ "documentId": doc_id, "summary": "First issue", "body": "Policy text v1" }),
        )
        .await,
        "addDocumentVersion",
    )["version"]
        .clone();
    assert_eq!(
        (v1["number"].as_i64(), v1["status"].as_str()),
        (Some(1), Some("DRAFT"))
    );
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    assert_eq!(
        document(&app, cm, &doc_id).await["currentVersion"],
        Value::Null,
        "a draft is never current"
    );
    // A draft changes.
    let r = app
        .gql(
            cm,
            None,
            "mutation($v: ID!) { updateDocumentVersion(input: {versionId: $v, body: \"Policy text v1, corrected\"}) { version { body } userErrors { code } } }",
            json!({ "v": v1_id }),
        )
        .await;
    assert_eq!(
        ok(&r, "updateDocumentVersion")["version"]["body"],
        "Policy text v1, corrected"
    );
    // An effective date before the approval is refused.
    let r = approve(&app, cm, &v1_id, Some(today() - Duration::days(1))).await;
    assert_eq!(err(&r, "approveDocumentVersion"), "BAD_USER_INPUT");
    let r = approve(&app, cm, &v1_id, None).await;
    let p = ok(&r, "approveDocumentVersion");
    assert_eq!(p["version"]["status"], "APPROVED");
    assert_eq!(p["version"]["effectiveDate"], today().to_string());
    assert_eq!(
        p["version"]["approverId"],
        global_id("User", f.user_ids["cm"])
    );
    assert_eq!(p["document"]["currentVersion"]["number"], 1);
    // Approving again is a conflict.
    assert_eq!(
        err(
            &approve(&app, cm, &v1_id, None).await,
            "approveDocumentVersion"
        ),
        "CONFLICT"
    );

    // The approved version never changes: update, delete, and the document's deletion.
    let before = document(&app, cm, &doc_id).await;
    let r = app
        .gql(
            cm,
            None,
            "mutation($v: ID!) { updateDocumentVersion(input: {versionId: $v, summary: \"rewritten\"}) { userErrors { code } } }",
            json!({ "v": v1_id }),
        )
        .await;
    assert_eq!(err(&r, "updateDocumentVersion"), "CONFLICT");
    let r = app
        .gql(
            cm,
            None,
            "mutation($v: ID!) { deleteDocumentVersion(input: {versionId: $v}) { deletedId userErrors { code } } }",
            json!({ "v": v1_id }),
        )
        .await;
    assert_eq!(err(&r, "deleteDocumentVersion"), "CONFLICT");
    let r = app
        .gql(
            f.token("owner"),
            None,
            "mutation($d: ID!) { deleteDocument(input: {documentId: $d}) { deletedId userErrors { code } } }",
            json!({ "d": doc_id }),
        )
        .await;
    assert_eq!(err(&r, "deleteDocument"), "CONFLICT");
    assert_eq!(document(&app, cm, &doc_id).await, before);

    // And the database refuses a raw UPDATE or DELETE of the approved row; a draft's passes.
    let v1_uuid = uuid_of(&v1_id);
    let e = raw(
        &app,
        "UPDATE document_versions SET summary = 'tampered' WHERE id = $1",
        vec![v1_uuid.into()],
    )
    .await;
    assert!(e.is_err(), "the trigger refuses: {e:?}");
    let e = raw(
        &app,
        "DELETE FROM document_versions WHERE id = $1",
        vec![v1_uuid.into()],
    )
    .await;
    assert!(e.is_err(), "the trigger refuses: {e:?}");
    assert_eq!(document(&app, cm, &doc_id).await, before);

    // v2 approved to take effect in ten days: v1 stays current until then.
    let v2 = ok(
        &add_version(
            &app,
            cm,
            json!({ "documentId": doc_id, "summary": "Annual update",
            "evidenceId": global_id("Evidence", Uuid::now_v7()) }),
        )
        .await,
        "addDocumentVersion",
    )["version"]
        .clone();
    assert_eq!(v2["number"], 2);
    let v2_uuid = uuid_of(v2["id"].as_str().unwrap());
    assert_eq!(
        raw(
            &app,
            "UPDATE document_versions SET summary = 'Annual update.' WHERE id = $1",
            vec![v2_uuid.into()]
        )
        .await
        .unwrap(),
        1,
        "a draft row is not frozen"
    );
    let later = today() + Duration::days(10);
    let p = ok(
        &approve(&app, cm, v2["id"].as_str().unwrap(), Some(later)).await,
        "approveDocumentVersion",
    );
    assert_eq!(p["version"]["effectiveDate"], later.to_string());
    assert_eq!(
        p["document"]["currentVersion"]["number"], 1,
        "v2 takes effect later"
    );
    let now = document(&app, cm, &doc_id).await;
    assert_eq!(now["latestVersion"]["number"], 2);

    // Review: the next date must be after today.
    let review = |date: NaiveDate| {
        let app = &app;
        let doc_id = doc_id.clone();
        async move {
            app.gql(
                cm,
                None,
                "mutation($d: ID!, $n: NaiveDate!) { markDocumentReviewed(input: {documentId: $d, nextReviewDate: $n}) { document { nextReviewDate reviewOverdue } userErrors { code field } } }",
                json!({ "d": doc_id, "n": date }),
            )
            .await
        }
    };
    assert_eq!(
        err(&review(today()).await, "markDocumentReviewed"),
        "BAD_USER_INPUT"
    );
    let next = today() + Duration::days(365);
    let p = ok(&review(next).await, "markDocumentReviewed");
    assert_eq!(p["document"]["nextReviewDate"], next.to_string());
    assert_eq!(p["document"]["reviewOverdue"], false);

    // A second document, a procedure with an overdue review (set in the past by hand).
    let proc = ok(
        &create_document(
            &app,
            cm,
            json!({ "ismsId": isms, "kind": "PROCEDURE", "title": "Access control procedure" }),
        )
        .await,
        "createDocument",
    )["document"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    raw(
        &app,
        "UPDATE documents SET next_review_date = $1 WHERE id = $2",
        vec![d(2026, 2, 28).into(), uuid_of(&proc).into()],
    )
    .await
    .unwrap();

    // The list, filtered, with versions and controls loaded for the page.
    let list = |filter: Value| {
        let app = &app;
        let isms = isms.clone();
        async move {
            let r = app
                .gql(
                    cm,
                    None,
                    "query($i: ID!, $f: DocumentFilter) { documents(ismsId: $i, first: 10, filter: $f) { totalCount edges { node { title versions { number } controls { ref } currentVersion { number } } } } }",
                    json!({ "i": isms, "f": filter }),
                )
                .await;
            assert!(r.body["errors"].is_null(), "{:?}", r.body);
            r.data()["documents"].clone()
        }
    };
    let all = list(json!({})).await;
    assert_eq!(all["totalCount"], 2);
    assert_eq!(
        all["edges"][0]["node"]["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(all["edges"][0]["node"]["currentVersion"]["number"], 1);
    assert_eq!(all["edges"][1]["node"]["versions"], json!([]));
    let overdue = list(json!({ "reviewOverdue": true })).await;
    assert_eq!(
        overdue["edges"][0]["node"]["title"],
        "Access control procedure"
    );
    assert_eq!(overdue["totalCount"], 1);
    assert_eq!(
        list(json!({ "reviewOverdue": false })).await["totalCount"],
        1
    );
    assert_eq!(list(json!({ "kind": "POLICY" })).await["totalCount"], 1);
    assert_eq!(
        list(json!({ "fulfils": "isms-scope" })).await["totalCount"],
        0
    );

    // A draft of the procedure can be deleted, and the procedure with it.
    let pv = ok(
        &add_version(
            &app,
            cm,
            json!({ "documentId": proc, "summary": "Draft", "body": "x" }),
        )
        .await,
        "addDocumentVersion",
    );
    let r = app
        .gql(cm, None, "mutation($v: ID!) { deleteDocumentVersion(input: {versionId: $v}) { deletedId userErrors { code } } }", json!({ "v": pv["version"]["id"] }))
        .await;
    ok(&r, "deleteDocumentVersion");
    let r = app
        .gql(cm, None, "mutation($d: ID!) { deleteDocument(input: {documentId: $d}) { deletedId userErrors { code } } }", json!({ "d": proc }))
        .await;
    assert_eq!(ok(&r, "deleteDocument")["deletedId"], proc);

    // node() finds documents and versions.
    let r = app
        .gql(cm, None, "query($a: ID!, $b: ID!) { a: node(id: $a) { id ... on Document { title } } b: node(id: $b) { ... on DocumentVersion { number } } }", json!({ "a": doc_id, "b": v1_id }))
        .await;
    assert_eq!(r.data()["a"]["title"], "Information security policy");
    assert_eq!(r.data()["b"]["number"], 1);

    // Readiness inputs: the policy is present, approved, reviewed; the scope is missing.
    let tx = app
        .store
        .tenant_tx(TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let ready = tx.readiness_records(uuid_of(&isms), today()).await.unwrap();
    tx.commit().await.unwrap();
    let get = |k: &str| ready.iter().find(|(key, _)| *key == k).unwrap().1;
    assert!(get("security-policy").present && get("security-policy").approved);
    assert_eq!(get("security-policy").next_review, Some(next));
    assert!(!get("isms-scope").present);
    assert!(
        !get("objectives").present
            && !get("monitoring-results").present
            && !get("competence").present
    );
    assert!(
        ready
            .iter()
            .all(|(k, _)| *k != "statement-of-applicability")
    );

    let actions = audit_actions(&app, &f).await;
    for a in [
        "document.create",
        "document_version.add",
        "document_version.update",
        "document_version.approve",
        "document.review",
        "document_version.delete",
        "document.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

const OBJ: &str =
    "id title target unit direction status targetMet latestResult { measuredOn value metTarget }
    results(first: 10) { totalCount edges { cursor node { measuredOn value } } }";

async fn objectives_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "acme",
            &[("owner", Role::Owner), ("cm", Role::ComplianceManager)],
        )
        .await;
    let cm = f.token("cm");
    let isms = new_isms(&app, f.token("owner")).await;
    let create = |title: &str, target: f64, direction: &str| {
        let app = &app;
        let v = json!({ "i": { "ismsId": isms, "title": title, "measure": "measured monthly", "target": target, "unit": "%", "direction": direction } });
        async move {
            app.gql(cm, None, &format!("mutation($i: CreateObjectiveInput!) {{ createObjective(input: $i) {{ objective {{ {OBJ} }} userErrors {{ code }} }} }}"), v).await
        }
    };
    let patch = ok(
        &create("Patch on time", 95.0, "AT_LEAST").await,
        "createObjective",
    )["objective"]
        .clone();
    assert_eq!(patch["status"], "NO_RESULT");
    assert_eq!(patch["targetMet"], Value::Null);
    let record = |o: &Value, on: &str, value: f64| {
        let app = &app;
        let v = json!({ "i": { "objectiveId": o["id"], "measuredOn": on, "value": value } });
        async move {
            app.gql(cm, None, &format!("mutation($i: RecordObjectiveResultInput!) {{ recordObjectiveResult(input: $i) {{ result {{ id metTarget }} objective {{ {OBJ} }} userErrors {{ code field }} }} }}"), v).await
        }
    };
    // Recorded out of order: the results read by date measured.
    let p = ok(
        &record(&patch, "2026-02-28", 97.0).await,
        "recordObjectiveResult",
    );
    assert_eq!(p["result"]["metTarget"], true);
    let p = ok(
        &record(&patch, "2026-01-31", 90.0).await,
        "recordObjectiveResult",
    );
    assert_eq!(p["result"]["metTarget"], false);
    let o = &p["objective"];
    assert_eq!(
        o["latestResult"]["measuredOn"], "2026-02-28",
        "latest by date, not by entry"
    );
    assert_eq!(
        (o["status"].as_str(), o["targetMet"].as_bool()),
        (Some("MET"), Some(true))
    );
    let dates: Vec<_> = o["results"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["measuredOn"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates, ["2026-01-31", "2026-02-28"]);
    // The target itself meets an at-least objective: 95 on 2026-03-31.
    let p = ok(
        &record(&patch, "2026-03-31", 95.0).await,
        "recordObjectiveResult",
    );
    assert_eq!(p["objective"]["status"], "MET");
    let p = ok(
        &record(&patch, "2026-04-30", 94.5).await,
        "recordObjectiveResult",
    );
    assert_eq!(p["objective"]["status"], "NOT_MET");
    // Paging the results.
    let first = p["objective"]["results"]["edges"][0]["cursor"].clone();
    let r = app
        .gql(cm, None, "query($o: ID!, $a: String) { objective(id: $o) { results(first: 2, after: $a) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { measuredOn } } } } }", json!({ "o": patch["id"], "a": first }))
        .await;
    let res = &r.data()["objective"]["results"];
    assert_eq!(res["totalCount"], 4);
    assert_eq!(res["edges"][0]["node"]["measuredOn"], "2026-02-28");
    assert_eq!(res["edges"][1]["node"]["measuredOn"], "2026-03-31");
    assert_eq!(res["pageInfo"]["hasNextPage"], true);
    assert_eq!(res["pageInfo"]["hasPreviousPage"], true);

    // At most: 4 incidents a quarter; 4 meets, 5 does not.
    let inc = ok(
        &create("Few incidents", 4.0, "AT_MOST").await,
        "createObjective",
    )["objective"]
        .clone();
    assert_eq!(
        ok(
            &record(&inc, "2026-03-31", 4.0).await,
            "recordObjectiveResult"
        )["objective"]["status"],
        "MET"
    );
    assert_eq!(
        ok(
            &record(&inc, "2026-06-30", 5.0).await,
            "recordObjectiveResult"
        )["objective"]["status"],
        "NOT_MET"
    );

    // A change of direction changes the verdict on the same result.
    let r = app
        .gql(cm, None, "mutation($o: ID!) { updateObjective(input: {objectiveId: $o, direction: AT_LEAST}) { objective { status direction } userErrors { code } } }", json!({ "o": inc["id"] }))
        .await;
    assert_eq!(ok(&r, "updateObjective")["objective"]["status"], "MET");

    // The list.
    let r = app
        .gql(cm, None, "query($i: ID!) { objectives(ismsId: $i, first: 10) { totalCount edges { node { title latestResult { value } } } } }", json!({ "i": isms }))
        .await;
    assert_eq!(r.data()["objectives"]["totalCount"], 2);
    assert_eq!(
        r.data()["objectives"]["edges"][0]["node"]["latestResult"]["value"],
        94.5
    );

    // Deleting a result, then the objective.
    let res_id = ok(
        &record(&inc, "2026-09-30", 1.0).await,
        "recordObjectiveResult",
    )["result"]["id"]
        .clone();
    let r = app.gql(cm, None, "mutation($r: ID!) { deleteObjectiveResult(input: {resultId: $r}) { deletedId userErrors { code } } }", json!({ "r": res_id })).await;
    ok(&r, "deleteObjectiveResult");
    let r = app.gql(cm, None, "mutation($o: ID!) { deleteObjective(input: {objectiveId: $o}) { deletedId userErrors { code } } }", json!({ "o": inc["id"] })).await;
    ok(&r, "deleteObjective");

    let tx = app
        .store
        .tenant_tx(TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let ready = tx.readiness_records(uuid_of(&isms), today()).await.unwrap();
    tx.commit().await.unwrap();
    let get = |k: &str| ready.iter().find(|(key, _)| *key == k).unwrap().1;
    assert!(get("objectives").present && get("objectives").approved);
    assert!(get("monitoring-results").present);
    assert!(!get("competence").present);
    let actions = audit_actions(&app, &f).await;
    for a in [
        "objective.create",
        "objective.update",
        "objective.delete",
        "objective_result.record",
        "objective_result.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

const ASSIGNMENT: &str =
    "id status dueDate completedOn nextDueDate evidence userId course { title recurrenceMonths }";

async fn training_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "acme",
            &[
                ("owner", Role::Owner),
                ("cm", Role::ComplianceManager),
                ("dev", Role::Contributor),
                ("ops", Role::Contributor),
            ],
        )
        .await;
    let cm = f.token("cm");
    let course = |title: &str, months: Option<i32>| {
        let app = &app;
        let v = json!({ "i": { "title": title, "hipaaSecurityAwareness": true, "recurrenceMonths": months } });
        async move {
            let r = app.gql(cm, None, "mutation($i: CreateTrainingCourseInput!) { createTrainingCourse(input: $i) { course { id title } userErrors { code } } }", v).await;
            ok(&r, "createTrainingCourse")["course"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let yearly = course("Security awareness", Some(12)).await;
    let monthly = course("Phishing drill", Some(1)).await;
    let once = course("Onboarding", None).await;
    let assign = |c: &str, who: &str, due: NaiveDate| {
        let app = &app;
        let v = json!({ "i": { "courseId": c, "userId": global_id("User", f.user_ids[who]), "dueDate": due } });
        async move {
            let r = app.gql(cm, None, &format!("mutation($i: AssignTrainingInput!) {{ assignTraining(input: $i) {{ assignment {{ {ASSIGNMENT} }} userErrors {{ code field }} }} }}"), v).await;
            ok(&r, "assignTraining")["assignment"].clone()
        }
    };
    let a1 = assign(&yearly, "dev", d(2028, 3, 31)).await;
    assert_eq!(a1["status"], "OPEN");
    let a2 = assign(&monthly, "dev", d(2026, 1, 31)).await;
    assert_eq!(a2["status"], "OVERDUE", "due 2026-01-31, today is later");
    let a3 = assign(&once, "ops", today()).await;
    assert_eq!(a3["status"], "OPEN", "due today is still open");

    let complete = |token: &str, a: &Value, on: NaiveDate| {
        let app = &app;
        let v = json!({ "i": { "assignmentId": a["id"], "completedOn": on, "evidence": "certificate 42" } });
        let token = token.to_owned();
        async move {
            app.gql(&token, None, &format!("mutation($i: RecordTrainingCompletionInput!) {{ recordTrainingCompletion(input: $i) {{ assignment {{ {ASSIGNMENT} }} userErrors {{ code field }} }} }}"), v).await
        }
    };
    // The assignee records its own completion; month ends and leap days by hand.
    let p = ok(
        &complete(f.token("dev"), &a2, d(2026, 1, 31)).await,
        "recordTrainingCompletion",
    );
    assert_eq!(p["assignment"]["status"], "COMPLETED");
    assert_eq!(
        p["assignment"]["nextDueDate"], "2026-02-28",
        "31 January + 1 month"
    );
    // Completed again: a conflict, nothing changes.
    assert_eq!(
        err(
            &complete(f.token("dev"), &a2, d(2026, 2, 1)).await,
            "recordTrainingCompletion"
        ),
        "CONFLICT"
    );
    // A leap-day completion (recorded for the member by the compliance manager).
    let a4 = assign(&yearly, "ops", d(2024, 3, 31)).await;
    let p = ok(
        &complete(cm, &a4, d(2024, 2, 29)).await,
        "recordTrainingCompletion",
    );
    assert_eq!(
        p["assignment"]["nextDueDate"], "2025-02-28",
        "29 February + 12 months"
    );
    assert_eq!(p["assignment"]["completedOn"], "2024-02-29");
    // A course that does not recur has no next due date.
    let p = ok(
        &complete(f.token("ops"), &a3, today()).await,
        "recordTrainingCompletion",
    );
    assert_eq!(p["assignment"]["nextDueDate"], Value::Null);
    // In the future: refused.
    assert_eq!(
        err(
            &complete(f.token("dev"), &a1, today() + Duration::days(1)).await,
            "recordTrainingCompletion"
        ),
        "BAD_USER_INPUT"
    );

    // Filters.
    let list = |filter: Value| {
        let app = &app;
        async move {
            let r = app.gql(cm, None, "query($f: TrainingAssignmentFilter) { trainingAssignments(first: 50, filter: $f) { totalCount edges { node { id status course { title } } } } }", json!({ "f": filter })).await;
            assert!(r.body["errors"].is_null(), "{:?}", r.body);
            r.data()["trainingAssignments"].clone()
        }
    };
    assert_eq!(list(json!({})).await["totalCount"], 4);
    assert_eq!(
        list(json!({ "status": "COMPLETED" })).await["totalCount"],
        3
    );
    let open = list(json!({ "status": "OPEN" })).await;
    assert_eq!(open["totalCount"], 1);
    assert_eq!(open["edges"][0]["node"]["id"], a1["id"]);
    assert_eq!(list(json!({ "status": "OVERDUE" })).await["totalCount"], 0);
    assert_eq!(
        list(json!({ "userId": global_id("User", f.user_ids["dev"]) })).await["totalCount"],
        2
    );
    assert_eq!(
        list(json!({ "userId": global_id("User", f.user_ids["dev"]), "status": "OPEN" })).await["totalCount"],
        1
    );

    // Courses: a duplicate title is a conflict; recurrence can be changed.
    let r = app.gql(cm, None, r#"mutation { createTrainingCourse(input: {title: "Onboarding", hipaaSecurityAwareness: false}) { course { id } userErrors { code field } } }"#, json!({})).await;
    assert_eq!(err(&r, "createTrainingCourse"), "CONFLICT");
    let r = app.gql(cm, None, "mutation($c: ID!) { updateTrainingCourse(input: {courseId: $c, recurrenceMonths: 24}) { course { recurrenceMonths } userErrors { code } } }", json!({ "c": once })).await;
    assert_eq!(
        ok(&r, "updateTrainingCourse")["course"]["recurrenceMonths"],
        24
    );
    let r = app.gql(cm, None, "{ trainingCourses(first: 10) { totalCount edges { node { title hipaaSecurityAwareness } } } }", json!({})).await;
    assert_eq!(r.data()["trainingCourses"]["totalCount"], 3);
    let r = app.gql(cm, None, "mutation($a: ID!) { deleteTrainingAssignment(input: {assignmentId: $a}) { deletedId userErrors { code } } }", json!({ "a": a1["id"] })).await;
    ok(&r, "deleteTrainingAssignment");
    let r = app.gql(cm, None, "mutation($c: ID!) { deleteTrainingCourse(input: {courseId: $c}) { deletedId userErrors { code } } }", json!({ "c": monthly })).await;
    ok(&r, "deleteTrainingCourse");
    assert_eq!(
        list(json!({})).await["totalCount"],
        2,
        "the course's assignment went with it"
    );

    let tx = app
        .store
        .tenant_tx(TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let any_isms = Uuid::now_v7();
    let ready = tx.readiness_records(any_isms, today()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        ready
            .iter()
            .find(|(k, _)| *k == "competence")
            .unwrap()
            .1
            .present
    );
    let actions = audit_actions(&app, &f).await;
    for a in [
        "training_course.create",
        "training_course.update",
        "training_course.delete",
        "training.assign",
        "training.complete",
        "training.unassign",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

async fn role_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "acme",
            &[
                ("owner", Role::Owner),
                ("cm", Role::ComplianceManager),
                ("dev", Role::Contributor),
                ("aud", Role::Auditor),
                ("view", Role::Viewer),
            ],
        )
        .await;
    let cm = f.token("cm");
    let dev = f.token("dev");
    let isms = new_isms(&app, f.token("owner")).await;
    let me = |who: &str| global_id("User", f.user_ids[who]);

    // A contributor creates its own document (owned by itself), not one owned by someone else.
    let own = ok(
        &create_document(
            &app,
            dev,
            json!({ "ismsId": isms, "kind": "PROCEDURE", "title": "Backup procedure" }),
        )
        .await,
        "createDocument",
    )["document"]
        .clone();
    assert_eq!(own["ownerId"], me("dev"));
    let r = create_document(
        &app,
        dev,
        json!({ "ismsId": isms, "kind": "PROCEDURE", "title": "x", "ownerId": me("cm") }),
    )
    .await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    let theirs = ok(
        &create_document(
            &app,
            cm,
            json!({ "ismsId": isms, "kind": "POLICY", "title": "Policy", "ownerId": me("cm") }),
        )
        .await,
        "createDocument",
    )["document"]
        .clone();

    // It edits and versions its own, not the compliance manager's.
    let v = ok(
        &add_version(
            &app,
            dev,
            json!({ "documentId": own["id"], "summary": "Draft", "body": "text" }),
        )
        .await,
        "addDocumentVersion",
    )["version"]
        .clone();
    let r = add_version(
        &app,
        dev,
        json!({ "documentId": theirs["id"], "summary": "Draft", "body": "text" }),
    )
    .await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    let r = app.gql(dev, None, "mutation($d: ID!) { updateDocument(input: {documentId: $d, title: \"Mine now\"}) { userErrors { code } } }", json!({ "d": theirs["id"] })).await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    // Nor does it give its document away.
    let r = app.gql(dev, None, "mutation($d: ID!, $o: ID!) { updateDocument(input: {documentId: $d, ownerId: $o}) { userErrors { code } } }", json!({ "d": own["id"], "o": me("cm") })).await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    // It cannot approve, even its own document's version.
    let r = approve(&app, dev, v["id"].as_str().unwrap(), None).await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    assert_eq!(
        document(&app, cm, own["id"].as_str().unwrap()).await["versions"][0]["status"],
        "DRAFT"
    );
    // The owner approves.
    ok(
        &approve(&app, f.token("owner"), v["id"].as_str().unwrap(), None).await,
        "approveDocumentVersion",
    );

    // Objectives: the contributor records results on its own objectives only.
    let obj = |token: &str, owner: Option<String>| {
        let app = &app;
        let v = json!({ "i": { "ismsId": isms, "title": "Objective", "measure": "m", "target": 1, "direction": "AT_LEAST", "ownerId": owner } });
        let token = token.to_owned();
        async move {
            app.gql(&token, None, "mutation($i: CreateObjectiveInput!) { createObjective(input: $i) { objective { id ownerId } userErrors { code } } }", v).await
        }
    };
    let mine = ok(&obj(dev, None).await, "createObjective")["objective"].clone();
    assert_eq!(mine["ownerId"], me("dev"));
    let cms = ok(&obj(cm, Some(me("cm"))).await, "createObjective")["objective"].clone();
    let result = |token: &str, o: &Value| {
        let app = &app;
        let v = json!({ "o": o["id"] });
        let token = token.to_owned();
        async move {
            app.gql(&token, None, r#"mutation($o: ID!) { recordObjectiveResult(input: {objectiveId: $o, measuredOn: "2026-01-31", value: 2}) { userErrors { code } } }"#, v).await
        }
    };
    ok(&result(dev, &mine).await, "recordObjectiveResult");
    assert_eq!(result(dev, &cms).await.code(), Some("FORBIDDEN"));

    // Training: only owners and compliance managers set it up; the assignee completes its own.
    let r = app.gql(dev, None, r#"mutation { createTrainingCourse(input: {title: "Mine", hipaaSecurityAwareness: false}) { userErrors { code } } }"#, json!({})).await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    let course = ok(&app.gql(cm, None, r#"mutation { createTrainingCourse(input: {title: "Awareness", hipaaSecurityAwareness: true}) { course { id } userErrors { code } } }"#, json!({})).await, "createTrainingCourse")["course"]["id"].clone();
    let assign = |token: &str, who: &str| {
        let app = &app;
        let v = json!({ "c": course, "u": me(who) });
        let token = token.to_owned();
        async move {
            app.gql(&token, None, r#"mutation($c: ID!, $u: ID!) { assignTraining(input: {courseId: $c, userId: $u, dueDate: "2027-01-31"}) { assignment { id } userErrors { code } } }"#, v).await
        }
    };
    assert_eq!(assign(dev, "dev").await.code(), Some("FORBIDDEN"));
    let for_dev = ok(&assign(cm, "dev").await, "assignTraining")["assignment"]["id"].clone();
    let for_cm = ok(&assign(cm, "cm").await, "assignTraining")["assignment"]["id"].clone();
    let complete = |token: &str, a: &Value| {
        let app = &app;
        let v = json!({ "a": a });
        let token = token.to_owned();
        async move {
            app.gql(&token, None, r#"mutation($a: ID!) { recordTrainingCompletion(input: {assignmentId: $a, completedOn: "2026-03-01"}) { assignment { status } userErrors { code } } }"#, v).await
        }
    };
    assert_eq!(complete(dev, &for_cm).await.code(), Some("FORBIDDEN"));
    assert_eq!(
        ok(&complete(dev, &for_dev).await, "recordTrainingCompletion")["assignment"]["status"],
        "COMPLETED"
    );

    // Auditors and viewers read everything and change nothing.
    let events = audit_count(&app, &f).await;
    for who in ["aud", "view"] {
        let t = f.token(who);
        let r = app.gql(t, None, "query($i: ID!) { documents(ismsId: $i) { totalCount } objectives(ismsId: $i) { totalCount } trainingCourses { totalCount } trainingAssignments { totalCount } }", json!({ "i": isms })).await;
        assert!(r.body["errors"].is_null(), "{who}: {:?}", r.body);
        assert_eq!(r.data()["documents"]["totalCount"], 2);
        assert_eq!(r.data()["trainingAssignments"]["totalCount"], 2);
        for (q, vars) in [
            (
                "mutation($i: ID!) { createDocument(input: {ismsId: $i, kind: OTHER, title: \"t\"}) { userErrors { code } } }",
                json!({ "i": isms }),
            ),
            (
                "mutation($d: ID!) { updateDocument(input: {documentId: $d, title: \"t\"}) { userErrors { code } } }",
                json!({ "d": own["id"] }),
            ),
            (
                "mutation($d: ID!) { deleteDocument(input: {documentId: $d}) { userErrors { code } } }",
                json!({ "d": theirs["id"] }),
            ),
            (
                "mutation($d: ID!) { markDocumentReviewed(input: {documentId: $d, nextReviewDate: \"2030-01-01\"}) { userErrors { code } } }",
                json!({ "d": own["id"] }),
            ),
            (
                "mutation($d: ID!) { addDocumentVersion(input: {documentId: $d, summary: \"s\", body: \"b\"}) { userErrors { code } } }",
                json!({ "d": own["id"] }),
            ),
            (
                "mutation($v: ID!) { approveDocumentVersion(input: {versionId: $v}) { userErrors { code } } }",
                json!({ "v": v["id"] }),
            ),
            (
                "mutation($o: ID!) { recordObjectiveResult(input: {objectiveId: $o, measuredOn: \"2026-01-01\", value: 1}) { userErrors { code } } }",
                json!({ "o": mine["id"] }),
            ),
            (
                "mutation($o: ID!) { deleteObjective(input: {objectiveId: $o}) { userErrors { code } } }",
                json!({ "o": mine["id"] }),
            ),
            (
                "mutation { createTrainingCourse(input: {title: \"x\", hipaaSecurityAwareness: false}) { userErrors { code } } }",
                json!({}),
            ),
            (
                "mutation($a: ID!) { recordTrainingCompletion(input: {assignmentId: $a, completedOn: \"2026-01-01\"}) { userErrors { code } } }",
                json!({ "a": for_cm }),
            ),
        ] {
            let r = app.gql(t, None, q, vars).await;
            assert_eq!(r.code(), Some("FORBIDDEN"), "{who}: {q}");
        }
    }
    assert_eq!(audit_count(&app, &f).await, events, "nothing was written");
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "acme",
            &[("owner", Role::Owner), ("cm", Role::ComplianceManager)],
        )
        .await;
    let other = app.tenant("other", &[("owner", Role::Owner)]).await;
    let cm = f.token("cm");
    let isms = new_isms(&app, f.token("owner")).await;
    let doc = ok(
        &create_document(
            &app,
            cm,
            json!({ "ismsId": isms, "kind": "POLICY", "title": "Policy" }),
        )
        .await,
        "createDocument",
    )["document"]
        .clone();
    let events = audit_count(&app, &f).await;
    let snapshot = document(&app, cm, doc["id"].as_str().unwrap()).await;

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": isms, "kind": "POLICY", "title": "x", "fulfils": "no-such-document" } }),
            "BAD_USER_INPUT",
        ),
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": isms, "kind": "POLICY", "title": "x", "fulfils": "statement-of-applicability" } }),
            "BAD_USER_INPUT",
        ),
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": isms, "kind": "POLICY", "title": "x", "nextReviewDate": today() - Duration::days(1) } }),
            "BAD_USER_INPUT",
        ),
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": isms, "kind": "POLICY", "title": "x", "controlIds": [global_id("Control", Uuid::now_v7())] } }),
            "NOT_FOUND",
        ),
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": global_id("Isms", Uuid::now_v7()), "kind": "POLICY", "title": "x" } }),
            "NOT_FOUND",
        ),
        (
            "createDocument",
            "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "ismsId": isms, "kind": "POLICY", "title": "   " } }),
            "BAD_USER_INPUT",
        ),
        (
            "updateDocument",
            "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "documentId": doc["id"], "title": "Renamed", "fulfils": "objectives" } }),
            "BAD_USER_INPUT",
        ),
        (
            "markDocumentReviewed",
            "mutation($i: MarkDocumentReviewedInput!) { markDocumentReviewed(input: $i) { document { id } userErrors { code field message } } }",
            json!({ "i": { "documentId": doc["id"], "nextReviewDate": "2026-01-31" } }),
            "BAD_USER_INPUT",
        ),
        (
            "addDocumentVersion",
            "mutation($i: AddDocumentVersionInput!) { addDocumentVersion(input: $i) { version { id } userErrors { code field message } } }",
            json!({ "i": { "documentId": doc["id"], "summary": "s", "body": "b", "evidenceId": global_id("Evidence", Uuid::now_v7()) } }),
            "BAD_USER_INPUT",
        ),
        (
            "addDocumentVersion",
            "mutation($i: AddDocumentVersionInput!) { addDocumentVersion(input: $i) { version { id } userErrors { code field message } } }",
            json!({ "i": { "documentId": doc["id"], "summary": "s" } }),
            "BAD_USER_INPUT",
        ),
        (
            "assignTraining",
            "mutation($i: AssignTrainingInput!) { assignTraining(input: $i) { assignment { id } userErrors { code field message } } }",
            json!({ "i": { "courseId": global_id("TrainingCourse", Uuid::now_v7()), "userId": global_id("User", f.user_ids["cm"]), "dueDate": "2027-01-01" } }),
            "NOT_FOUND",
        ),
        (
            "createTrainingCourse",
            "mutation($i: CreateTrainingCourseInput!) { createTrainingCourse(input: $i) { course { id } userErrors { code field message } } }",
            json!({ "i": { "title": "Course", "hipaaSecurityAwareness": true, "recurrenceMonths": 0 } }),
            "BAD_USER_INPUT",
        ),
    ];
    for (field, q, vars, code) in &cases {
        let r = app.gql(cm, None, q, vars.clone()).await;
        assert_eq!(&err(&r, field), code, "{field} {vars}: {:?}", r.body);
        assert!(
            r.body["errors"].is_null(),
            "a user error, not a top-level one: {:?}",
            r.body
        );
        let msg = r.data()[*field]["userErrors"][0]["message"]
            .as_str()
            .unwrap();
        assert!(!msg.is_empty());
    }
    assert_eq!(audit_count(&app, &f).await, events, "nothing was written");
    assert_eq!(
        document(&app, cm, doc["id"].as_str().unwrap()).await,
        snapshot
    );

    // Assigning to a non-member (a member of another tenant), and a result for another tenant's
    // objective: NOT_FOUND, nothing written.
    let course = ok(&app.gql(cm, None, r#"mutation { createTrainingCourse(input: {title: "Awareness", hipaaSecurityAwareness: true}) { course { id } userErrors { code } } }"#, json!({})).await, "createTrainingCourse")["course"]["id"].clone();
    let events = audit_count(&app, &f).await;
    let r = app.gql(cm, None, r#"mutation($c: ID!, $u: ID!) { assignTraining(input: {courseId: $c, userId: $u, dueDate: "2027-01-31"}) { assignment { id } userErrors { code field } } }"#,
        json!({ "c": course, "u": global_id("User", other.user_ids["owner"]) })).await;
    assert_eq!(err(&r, "assignTraining"), "NOT_FOUND");
    assert_eq!(
        r.data()["assignTraining"]["userErrors"][0]["field"],
        json!(["input", "userId"])
    );
    let other_isms = new_isms(&app, other.token("owner")).await;
    let theirs = ok(&app.gql(other.token("owner"), None, r#"mutation($i: ID!) { createObjective(input: {ismsId: $i, title: "Theirs", measure: "m", target: 1, direction: AT_MOST}) { objective { id } userErrors { code } } }"#, json!({ "i": other_isms })).await, "createObjective")["objective"]["id"].clone();
    let r = app.gql(cm, None, r#"mutation($o: ID!) { recordObjectiveResult(input: {objectiveId: $o, measuredOn: "2026-01-31", value: 1}) { result { id } userErrors { code field } } }"#, json!({ "o": theirs })).await;
    assert_eq!(err(&r, "recordObjectiveResult"), "NOT_FOUND");
    // A result measured in the future, on our own objective.
    let mine = ok(&app.gql(cm, None, r#"mutation($i: ID!) { createObjective(input: {ismsId: $i, title: "Ours", measure: "m", target: 1, direction: AT_MOST}) { objective { id } userErrors { code } } }"#, json!({ "i": isms })).await, "createObjective")["objective"]["id"].clone();
    let events_after_objective = audit_count(&app, &f).await;
    assert_eq!(events_after_objective, events + 1);
    let r = app.gql(cm, None, r#"mutation($o: ID!, $d: NaiveDate!) { recordObjectiveResult(input: {objectiveId: $o, measuredOn: $d, value: 1}) { result { id } userErrors { code field } } }"#, json!({ "o": mine, "d": today() + Duration::days(1) })).await;
    assert_eq!(err(&r, "recordObjectiveResult"), "BAD_USER_INPUT");
    assert_eq!(audit_count(&app, &f).await, events_after_objective);
    let r = app
        .gql(
            other.token("owner"),
            None,
            "query($o: ID!) { objective(id: $o) { results { totalCount } } }",
            json!({ "o": theirs }),
        )
        .await;
    assert_eq!(r.data()["objective"]["results"]["totalCount"], 0);
    let r = app
        .gql(
            cm,
            None,
            "{ trainingAssignments { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["trainingAssignments"]["totalCount"], 0);
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    populate(&app, a.token("owner")).await;
    let ta = a.token("owner");
    let tb = b.token("owner");
    // What alpha has.
    let r = app.gql(ta, None, "{ trainingCourses { edges { node { id } } } trainingAssignments { edges { node { id } } } }", json!({})).await;
    let course = r.data()["trainingCourses"]["edges"][0]["node"]["id"].clone();
    let assignment = r.data()["trainingAssignments"]["edges"][0]["node"]["id"].clone();
    let backend_isms = {
        // The ISMS of alpha, read from its document.
        let tx = app
            .store
            .tenant_tx(TenantScope::new(a.tenant.id))
            .await
            .unwrap();
        let rows = tx
            .raw_connection()
            .query_all_raw(Statement::from_string(
                app.db.admin.get_database_backend(),
                "SELECT id FROM isms".to_owned(),
            ))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let id: Uuid = rows[0].try_get("", "id").unwrap();
        global_id("Isms", id)
    };
    let r = app.gql(ta, None, "query($i: ID!) { documents(ismsId: $i) { edges { node { id versions { id } } } } objectives(ismsId: $i) { edges { node { id latestResult { id } } } } }", json!({ "i": backend_isms })).await;
    let doc = r.data()["documents"]["edges"][0]["node"]["id"].clone();
    let version = r.data()["documents"]["edges"][0]["node"]["versions"][0]["id"].clone();
    let objective = r.data()["objectives"]["edges"][0]["node"]["id"].clone();
    let result = r.data()["objectives"]["edges"][0]["node"]["latestResult"]["id"].clone();
    let snapshot = |token: &str| {
        let app = &app;
        let token = token.to_owned();
        let i = backend_isms.clone();
        async move {
            app.gql(&token, None, "query($i: ID!) { documents(ismsId: $i) { edges { node { title fulfils nextReviewDate versions { number status summary effectiveDate } controls { ref } } } } objectives(ismsId: $i) { edges { node { title target results { totalCount } } } } trainingCourses { edges { node { title recurrenceMonths } } } trainingAssignments { edges { node { status completedOn } } } }", json!({ "i": i })).await.body
        }
    };
    let before = snapshot(ta).await;
    let events = audit_count(&app, &a).await;

    // Bravo sees nothing.
    let r = app
        .gql(
            tb,
            None,
            "query($i: ID!) { documents(ismsId: $i) { totalCount } }",
            json!({ "i": backend_isms }),
        )
        .await;
    assert_eq!(r.code(), Some("NOT_FOUND"));
    let r = app
        .gql(
            tb,
            None,
            "query($i: ID!) { objectives(ismsId: $i) { totalCount } }",
            json!({ "i": backend_isms }),
        )
        .await;
    assert_eq!(r.code(), Some("NOT_FOUND"));
    let r = app.gql(tb, None, "query($d: ID!, $o: ID!) { document(id: $d) { id } objective(id: $o) { id } trainingCourses { totalCount } trainingAssignments { totalCount } }", json!({ "d": doc, "o": objective })).await;
    assert_eq!(r.data()["document"], Value::Null);
    assert_eq!(r.data()["objective"], Value::Null);
    assert_eq!(r.data()["trainingCourses"]["totalCount"], 0);
    assert_eq!(r.data()["trainingAssignments"]["totalCount"], 0);
    let r = app
        .gql(
            tb,
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [doc, version, objective, result, course, assignment] }),
        )
        .await;
    assert_eq!(
        r.data()["nodes"],
        json!([null, null, null, null, null, null]),
        "{:?}",
        r.body
    );
    // ... while alpha does.
    let r = app
        .gql(
            ta,
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [doc, version, objective, result, course, assignment] }),
        )
        .await;
    assert!(
        r.data()["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n.is_null()),
        "{:?}",
        r.body
    );

    // Bravo changes nothing.
    let attempts: Vec<(&str, String, Value)> = vec![
        ("updateDocument", "mutation($x: ID!) { updateDocument(input: {documentId: $x, title: \"stolen\"}) { userErrors { code } } }".into(), doc.clone()),
        ("deleteDocument", "mutation($x: ID!) { deleteDocument(input: {documentId: $x}) { userErrors { code } } }".into(), doc.clone()),
        ("markDocumentReviewed", "mutation($x: ID!) { markDocumentReviewed(input: {documentId: $x, nextReviewDate: \"2030-01-01\"}) { userErrors { code } } }".into(), doc.clone()),
        ("addDocumentVersion", "mutation($x: ID!) { addDocumentVersion(input: {documentId: $x, summary: \"s\", body: \"b\"}) { userErrors { code } } }".into(), doc.clone()),
        ("updateDocumentVersion", "mutation($x: ID!) { updateDocumentVersion(input: {versionId: $x, summary: \"s\"}) { userErrors { code } } }".into(), version.clone()),
        ("deleteDocumentVersion", "mutation($x: ID!) { deleteDocumentVersion(input: {versionId: $x}) { userErrors { code } } }".into(), version.clone()),
        ("approveDocumentVersion", "mutation($x: ID!) { approveDocumentVersion(input: {versionId: $x}) { userErrors { code } } }".into(), version.clone()),
        ("updateObjective", "mutation($x: ID!) { updateObjective(input: {objectiveId: $x, target: 1}) { userErrors { code } } }".into(), objective.clone()),
        ("deleteObjective", "mutation($x: ID!) { deleteObjective(input: {objectiveId: $x}) { userErrors { code } } }".into(), objective.clone()),
        ("recordObjectiveResult", "mutation($x: ID!) { recordObjectiveResult(input: {objectiveId: $x, measuredOn: \"2026-01-01\", value: 1}) { userErrors { code } } }".into(), objective.clone()),
        ("deleteObjectiveResult", "mutation($x: ID!) { deleteObjectiveResult(input: {resultId: $x}) { userErrors { code } } }".into(), result.clone()),
        ("updateTrainingCourse", "mutation($x: ID!) { updateTrainingCourse(input: {courseId: $x, title: \"stolen\"}) { userErrors { code } } }".into(), course.clone()),
        ("deleteTrainingCourse", "mutation($x: ID!) { deleteTrainingCourse(input: {courseId: $x}) { userErrors { code } } }".into(), course.clone()),
        ("assignTraining", "mutation($x: ID!) { assignTraining(input: {courseId: $x, userId: \"x\", dueDate: \"2027-01-01\"}) { userErrors { code } } }".into(), course.clone()),
        ("recordTrainingCompletion", "mutation($x: ID!) { recordTrainingCompletion(input: {assignmentId: $x, completedOn: \"2026-01-01\"}) { userErrors { code } } }".into(), assignment.clone()),
        ("deleteTrainingAssignment", "mutation($x: ID!) { deleteTrainingAssignment(input: {assignmentId: $x}) { userErrors { code } } }".into(), assignment.clone()),
        ("createDocument", "mutation($x: ID!) { createDocument(input: {ismsId: $x, kind: OTHER, title: \"t\"}) { userErrors { code } } }".into(), json!(backend_isms)),
        ("createObjective", "mutation($x: ID!) { createObjective(input: {ismsId: $x, title: \"t\", measure: \"m\", target: 1, direction: AT_LEAST}) { userErrors { code } } }".into(), json!(backend_isms)),
    ];
    for (field, q, x) in &attempts {
        let r = app.gql(tb, None, q, json!({ "x": x })).await;
        assert_eq!(err(&r, field), "NOT_FOUND", "{field}: {:?}", r.body);
    }
    assert_eq!(snapshot(ta).await, before, "alpha's records are unchanged");
    assert_eq!(audit_count(&app, &a).await, events);
}
