//! ISMS core through the API: management systems and their SoA drafts, approved versions that
//! never change, risks on the ISMS's scales accepted only by their owners, dated assessments,
//! HIPAA coverage computed from the crosswalk (expected sets computed here from NIST's
//! reference data), the role matrix, tenant isolation, and the SoA page's statement count.

use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use grc_store::TenantScope;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

both_backends! {
    a_management_system_gets_its_soa_draft => soa_draft;
    approved_soa_versions_never_change => soa_versions;
    soa_entries_keep_to_6_1_3_d => soa_bad_input;
    risks_stay_on_the_scales_and_only_owners_accept => risks;
    assessments_show_the_register_on_a_past_date => assessments;
    hipaa_coverage_follows_status_and_reviews => hipaa_coverage;
    roles_hold_for_the_isms => roles;
    another_tenant_sees_and_changes_nothing => isolation;
    the_soa_page_costs_a_constant_number_of_statements => statement_count;
    readiness_names_every_missing_document => readiness;
}

fn ok(a: &Answer, field: &str) -> Value {
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    assert_eq!(
        a.data()[field]["userErrors"],
        json!([]),
        "{field}: {:?}",
        a.body
    );
    a.data()[field].clone()
}

fn user_error(a: &Answer, field: &str) -> String {
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    let e = &a.data()[field]["userErrors"][0];
    assert!(!e.is_null(), "{field}: expected a user error: {:?}", a.body);
    e["code"].as_str().unwrap().to_owned()
}

const CREATE: &str = "mutation($input: CreateManagementSystemInput!) {
  createManagementSystem(input: $input) {
    managementSystem { id name privacyFramework riskCriteria { likelihoodLevels impactLevels acceptanceThreshold }
      soa { revision progress { total applicable } } }
    userErrors { field message code } } }";

pub async fn create_isms(
    app: &TestApp,
    token: &str,
    name: &str,
    privacy: Option<Value>,
) -> (String, i64) {
    let a = app
        .gql(
            token,
            None,
            CREATE,
            json!({ "input": { "name": name, "scopeStatement": "All ePHI systems of the main campus", "privacy": privacy } }),
        )
        .await;
    let m = ok(&a, "createManagementSystem")["managementSystem"].clone();
    (
        m["id"].as_str().unwrap().to_owned(),
        m["soa"]["revision"].as_i64().unwrap(),
    )
}

const SOA: &str = "query($id: ID!) { managementSystem(id: $id) { soa { revision
  progress { total applicable excluded notStarted planned partial implemented percentImplemented }
  unjustified
  entries { control { id ref } controlRef applicable justification status owner { email } riskCount evidenceCount } } } }";

async fn soa(app: &TestApp, token: &str, isms: &str) -> Value {
    let a = app.gql(token, None, SOA, json!({ "id": isms })).await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data()["managementSystem"]["soa"].clone()
}

const UPDATE_SOA: &str = "mutation($input: UpdateSoaEntriesInput!) {
  updateSoaEntries(input: $input) { revision changed userErrors { field message code } } }";

async fn update_soa(app: &TestApp, token: &str, isms: &str, entries: Value) -> Answer {
    app.gql(
        token,
        None,
        UPDATE_SOA,
        json!({ "input": { "managementSystemId": isms, "entries": entries } }),
    )
    .await
}

/// Justifies every entry (applicable, planned) and returns the new revision.
async fn justify_all(app: &TestApp, token: &str, isms: &str) -> i64 {
    let s = soa(app, token, isms).await;
    let entries: Vec<Value> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({ "controlId": e["control"]["id"], "justification": "Needed for ePHI protection", "status": "PLANNED" }))
        .collect();
    let a = update_soa(app, token, isms, json!(entries)).await;
    ok(&a, "updateSoaEntries")["revision"].as_i64().unwrap()
}

fn entry_id(s: &Value, r: &str) -> Value {
    s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["controlRef"] == r)
        .unwrap_or_else(|| panic!("no entry {r}"))["control"]["id"]
        .clone()
}

const APPROVE: &str = "mutation($input: ApproveSoaInput!) {
  approveSoa(input: $input) { version { id number draftRevision entryCount digest intact
    entries { controlRef applicable status justification } }
    userErrors { field message code } } }";

async fn approve(app: &TestApp, token: &str, isms: &str, revision: i64) -> Answer {
    app.gql(
        token,
        None,
        APPROVE,
        json!({ "input": { "managementSystemId": isms, "revision": revision, "note": "Management approval" } }),
    )
    .await
}

async fn control_id(app: &TestApp, token: &str, framework: &str, r: &str) -> Value {
    let a = app
        .gql(
            token,
            None,
            "query($f: String!, $r: String!) { framework(key: $f) { control(ref: $r) { id } } }",
            json!({ "f": framework, "r": r }),
        )
        .await;
    let id = a.data()["framework"]["control"]["id"].clone();
    assert!(!id.is_null(), "{framework} {r}: {:?}", a.body);
    id
}

const SAVE_RISK: &str = "mutation($input: RiskInput!) { saveRisk(input: $input) {
  risk { id ref owner { email } inherent { likelihood impact score acceptable }
         residual { score acceptable } treatment acceptedAt
         assets { name } controls { ref } }
  userErrors { field message code } } }";

const SAVE_ASSET: &str = "mutation($input: AssetInput!) { saveAsset(input: $input) {
  asset { id name ephi owner { email } } userErrors { field message code } } }";

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db.admin.get_database_backend();
    let row = app
        .db
        .admin
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// One row in each ISMS core table, for the row-level security test.
pub async fn populate(app: &TestApp, token: &str) {
    let (isms, _) = create_isms(app, token, "Main campus", None).await;
    let a = app
        .gql(
            token,
            None,
            "mutation($id: ID!) { saveContextItem(input: {managementSystemId: $id, kind: INTERESTED_PARTY,
               title: \"Patients\", requirements: \"HIPAA privacy\", addressedByIsms: true}) { userErrors { message } } }",
            json!({ "id": isms }),
        )
        .await;
    assert_eq!(
        a.data()["saveContextItem"]["userErrors"],
        json!([]),
        "{:?}",
        a.body
    );
    let asset = ok(
        &app.gql(token, None, SAVE_ASSET, json!({ "input": { "name": "EHR", "kind": "SYSTEM", "classification": "RESTRICTED", "ephi": true } })).await,
        "saveAsset",
    )["asset"]["id"]
        .clone();
    let a513 = control_id(app, token, "iso27001-2022", "A.5.13").await;
    ok(
        &app.gql(token, None, SAVE_RISK, json!({ "input": {
            "managementSystemId": isms, "ref": "R-001", "title": "Ransomware",
            "inherent": { "likelihood": 4, "impact": 5 }, "assetIds": [asset], "controlIds": [a513] } })).await,
        "saveRisk",
    );
    ok(
        &app.gql(token, None, "mutation($id: ID!) { recordRiskAssessment(input: {managementSystemId: $id, title: \"Annual\", performedOn: \"2026-01-15\"}) { userErrors { message code field } } }", json!({ "id": isms })).await,
        "recordRiskAssessment",
    );
    let rev = justify_all(app, token, &isms).await;
    ok(&approve(app, token, &isms, rev).await, "approveSoa");
    let enc = control_id(app, token, "hipaa-sr", "164.312(a)(2)(iv)").await;
    ok(
        &app.gql(token, None, "mutation($i: ID!, $s: ID!) { setHipaaDetermination(input: {managementSystemId: $i, specificationId: $s, decision: IMPLEMENTED}) { userErrors { message code field } } }", json!({ "i": isms, "s": enc })).await,
        "setHipaaDetermination",
    );
}

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
        slug,
        &[
            ("owner", Role::Owner),
            ("manager", Role::ComplianceManager),
            ("contributor", Role::Contributor),
            ("other", Role::Contributor),
            ("auditor", Role::Auditor),
            ("viewer", Role::Viewer),
        ],
    )
    .await
}

async fn soa_draft(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, rev) = create_isms(&app, cm, "Main campus", None).await;
    assert_eq!(rev, 0);
    let s = soa(&app, cm, &isms).await;
    // Annex A of ISO/IEC 27001:2022 has 93 controls: 37 + 8 + 14 + 34.
    assert_eq!(s["progress"]["total"], 93);
    assert_eq!(s["progress"]["notStarted"], 93);
    assert_eq!(s["unjustified"].as_array().unwrap().len(), 93);
    let refs: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["controlRef"].as_str().unwrap())
        .collect();
    assert_eq!(refs.first(), Some(&"A.5.1"));
    assert_eq!(refs.last(), Some(&"A.8.34"));
    assert_eq!(refs.iter().filter(|r| r.starts_with("A.6.")).count(), 8);

    // Extending to privacy as a PII controller (27701:2019 Annex A: 31 controls) adds entries;
    // removing the extension takes them away again.
    let a = app
        .gql(cm, None, "mutation($id: ID!) { updateManagementSystem(input: {id: $id, privacy: {framework: \"iso27701-2019\", role: CONTROLLER}}) { managementSystem { privacyFramework privacyRole soa { progress { total } } } userErrors { message code } } }", json!({ "id": isms }))
        .await;
    let m = ok(&a, "updateManagementSystem")["managementSystem"].clone();
    assert_eq!(m["privacyRole"], "CONTROLLER");
    assert_eq!(m["soa"]["progress"]["total"], 93 + 31);
    let a = app
        .gql(cm, None, "mutation($id: ID!) { updateManagementSystem(input: {id: $id, privacy: {framework: \"iso27701-2019\", role: BOTH}}) { managementSystem { soa { progress { total } } } userErrors { message code } } }", json!({ "id": isms }))
        .await;
    assert_eq!(
        ok(&a, "updateManagementSystem")["managementSystem"]["soa"]["progress"]["total"],
        93 + 31 + 18
    );
    let a = app
        .gql(cm, None, "mutation($id: ID!) { updateManagementSystem(input: {id: $id, removePrivacy: true}) { managementSystem { privacyFramework soa { progress { total } } } userErrors { message code } } }", json!({ "id": isms }))
        .await;
    let m = ok(&a, "updateManagementSystem")["managementSystem"].clone();
    assert!(m["privacyFramework"].is_null());
    assert_eq!(m["soa"]["progress"]["total"], 93);

    // An unknown privacy framework is refused, and nothing is created.
    let a = app
        .gql(cm, None, CREATE, json!({ "input": { "name": "Bad", "scopeStatement": "x", "privacy": { "framework": "iso27001-2013", "role": "CONTROLLER" } } }))
        .await;
    assert_eq!(user_error(&a, "createManagementSystem"), "BAD_USER_INPUT");
    let a = app
        .gql(cm, None, "{ managementSystems { name } }", json!({}))
        .await;
    assert_eq!(
        a.data()["managementSystems"],
        json!([{ "name": "Main campus" }])
    );
    // A duplicate name is a conflict.
    let a = app
        .gql(
            cm,
            None,
            CREATE,
            json!({ "input": { "name": "Main campus", "scopeStatement": "x" } }),
        )
        .await;
    assert_eq!(user_error(&a, "createManagementSystem"), "CONFLICT");
    // Criteria off the scale.
    let a = app
        .gql(cm, None, CREATE, json!({ "input": { "name": "Other", "scopeStatement": "x", "riskCriteria": { "likelihoodLevels": 5, "impactLevels": 5, "acceptanceThreshold": 26 } } }))
        .await;
    assert_eq!(user_error(&a, "createManagementSystem"), "BAD_USER_INPUT");
    assert_eq!(
        a.data()["createManagementSystem"]["userErrors"][0]["field"],
        json!(["input", "riskCriteria", "acceptanceThreshold"])
    );
}

async fn soa_versions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, rev0) = create_isms(&app, cm, "Main campus", None).await;

    // Unjustified entries block approval (6.1.3 d), and nothing is frozen.
    let a = approve(&app, cm, &isms, rev0).await;
    assert_eq!(user_error(&a, "approveSoa"), "BAD_USER_INPUT");
    assert!(
        a.data()["approveSoa"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("93 entries")
    );

    let rev1 = justify_all(&app, cm, &isms).await;
    assert_eq!(rev1, rev0 + 1);
    // A stale revision is refused.
    let a = approve(&app, cm, &isms, rev0).await;
    assert_eq!(user_error(&a, "approveSoa"), "CONFLICT");
    let a = approve(&app, cm, &isms, rev1).await;
    let v1 = ok(&a, "approveSoa")["version"].clone();
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["entryCount"], 93);
    assert_eq!(v1["intact"], true);
    // Approving the same revision twice is refused.
    let a = approve(&app, cm, &isms, rev1).await;
    assert_eq!(user_error(&a, "approveSoa"), "CONFLICT");
    assert!(
        a.data()["approveSoa"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("version 1")
    );

    // Changing the draft leaves version 1 as it was.
    let s = soa(&app, cm, &isms).await;
    let a51 = entry_id(&s, "A.5.1");
    let a77 = entry_id(&s, "A.7.7");
    let a = update_soa(&app, cm, &isms, json!([
        { "controlId": a51, "status": "IMPLEMENTED" },
        { "controlId": a77, "applicable": false, "status": "NOT_STARTED", "justification": "No physical desks: fully remote" },
    ])).await;
    let rev2 = ok(&a, "updateSoaEntries")["revision"].as_i64().unwrap();
    let v2 = ok(&approve(&app, cm, &isms, rev2).await, "approveSoa")["version"].clone();
    assert_eq!(v2["number"], 2);
    let a = app
        .gql(cm, None, "query($id: ID!) { managementSystem(id: $id) {
            v1: soaVersion(number: 1) { digest entries { controlRef status applicable } }
            versions: soaVersions { number }
            diff: compareSoaVersions(from: 1, to: 2) { controlRef kind fields before { status applicable } after { status applicable justification } } } }", json!({ "id": isms }))
        .await;
    let m = &a.data()["managementSystem"];
    assert_eq!(m["versions"], json!([{ "number": 2 }, { "number": 1 }]));
    assert_eq!(m["v1"]["digest"], v1["digest"]);
    let e51 = m["v1"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["controlRef"] == "A.5.1")
        .unwrap();
    assert_eq!(e51["status"], "PLANNED");
    assert_eq!(
        m["diff"],
        json!([
            { "controlRef": "A.5.1", "kind": "CHANGED", "fields": ["status"],
              "before": { "status": "PLANNED", "applicable": true },
              "after": { "status": "IMPLEMENTED", "applicable": true, "justification": "Needed for ePHI protection" } },
            { "controlRef": "A.7.7", "kind": "CHANGED", "fields": ["applicable", "justification", "status"],
              "before": { "status": "PLANNED", "applicable": true },
              "after": { "status": "NOT_STARTED", "applicable": false, "justification": "No physical desks: fully remote" } },
        ])
    );

    // Raw SQL cannot change or delete an approved version (triggers on both backends).
    for sql in [
        "UPDATE soa_versions SET note = 'changed'",
        "UPDATE soa_versions SET entries = '[]', entry_count = 0",
        "DELETE FROM soa_versions",
    ] {
        let err = app.db.admin.execute_unprepared(sql).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM soa_versions").await,
        2
    );
    if backend == Backend::Postgres {
        // The application role may only insert and read.
        let tx = app
            .store
            .tenant_tx(TenantScope::new(f.tenant.id))
            .await
            .unwrap();
        let err = tx
            .raw_connection()
            .execute_unprepared("UPDATE soa_versions SET note = 'x'")
            .await
            .expect_err("the app role has no UPDATE");
        assert!(
            err.to_string().contains("permission denied") || err.to_string().contains("immutable"),
            "{err}"
        );
        drop(tx);
        // Even the owner of the tables, bypassing the trigger, is detected by the digest.
        app.db
            .admin
            .execute_unprepared(
                "ALTER TABLE soa_versions DISABLE TRIGGER ALL;
                 UPDATE soa_versions SET entries = replace(entries, 'not-started', 'implemented') WHERE number = 2;
                 ALTER TABLE soa_versions ENABLE TRIGGER ALL;",
            )
            .await
            .unwrap();
        let a = app
            .gql(
                cm,
                None,
                "query($id: ID!) { managementSystem(id: $id) { soaVersions { number intact } } }",
                json!({ "id": isms }),
            )
            .await;
        assert_eq!(
            a.data()["managementSystem"]["soaVersions"],
            json!([{ "number": 2, "intact": false }, { "number": 1, "intact": true }])
        );
    }
    // Every mutation of this test left its audit event.
    let approvals = count_rows(
        &app,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'soa.approve'",
    )
    .await;
    assert_eq!(approvals, 2);
}

async fn soa_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    let before = soa(&app, cm, &isms).await;
    let a51 = entry_id(&before, "A.5.1");
    let hipaa = control_id(&app, cm, "hipaa-sr", "164.308(a)(1)(ii)(A)").await;
    let clause = control_id(&app, cm, "iso27001-2022", "6.1.3").await;
    let cases = [
        // A control outside Annex A: a HIPAA specification, an ISO clause.
        (
            json!([{ "controlId": hipaa, "status": "PLANNED" }]),
            "BAD_USER_INPUT",
        ),
        (
            json!([{ "controlId": a51, "justification": "ok" }, { "controlId": clause, "status": "PLANNED" }]),
            "BAD_USER_INPUT",
        ),
        // Excluded, yet implemented.
        (
            json!([{ "controlId": a51, "applicable": false, "status": "IMPLEMENTED", "justification": "x" }]),
            "BAD_USER_INPUT",
        ),
        // The same control twice.
        (
            json!([{ "controlId": a51, "status": "PLANNED" }, { "controlId": a51, "status": "PARTIAL" }]),
            "BAD_USER_INPUT",
        ),
        // Not a control id at all.
        (
            json!([{ "controlId": "bm9wZQ", "status": "PLANNED" }]),
            "NOT_FOUND",
        ),
        // An owner who is not a member.
        (
            json!([{ "controlId": a51, "ownerId": grc_e2e::global_id("User", uuid::Uuid::from_u128(9)) }]),
            "NOT_FOUND",
        ),
        // Too many at once, or none.
        (json!([]), "BAD_USER_INPUT"),
    ];
    for (entries, code) in cases {
        let a = update_soa(&app, cm, &isms, entries.clone()).await;
        assert_eq!(user_error(&a, "updateSoaEntries"), code, "{entries}");
    }
    // Nothing changed: same revision, same entries.
    assert_eq!(soa(&app, cm, &isms).await, before);
}

async fn risks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    let owner_id = grc_e2e::global_id("User", f.user_ids["contributor"]);
    let input = |l: i64, i: i64| {
        json!({ "input": {
        "managementSystemId": isms, "ref": "R-001", "title": "Ransomware on the EHR",
        "threat": "Ransomware", "vulnerability": "Unpatched servers", "ownerId": owner_id,
        "inherent": { "likelihood": l, "impact": i } } })
    };

    // Likelihood 6 on the default 5-level scale: refused, nothing written.
    let a = app.gql(cm, None, SAVE_RISK, input(6, 3)).await;
    assert_eq!(user_error(&a, "saveRisk"), "BAD_USER_INPUT");
    assert_eq!(
        a.data()["saveRisk"]["userErrors"][0]["field"],
        json!(["input", "inherent", "likelihood"])
    );
    let a = app.gql(cm, None, SAVE_RISK, input(3, 0)).await;
    assert_eq!(user_error(&a, "saveRisk"), "BAD_USER_INPUT");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM risks").await, 0);

    let r = ok(&app.gql(cm, None, SAVE_RISK, input(4, 5)).await, "saveRisk")["risk"].clone();
    assert_eq!(
        r["inherent"],
        json!({ "likelihood": 4, "impact": 5, "score": 20, "acceptable": false })
    );
    assert_eq!(r["owner"]["email"], "contributor@alpha.test");
    let rid = r["id"].clone();
    // A duplicate reference in the same ISMS is a conflict.
    let a = app.gql(cm, None, SAVE_RISK, input(1, 1)).await;
    assert_eq!(user_error(&a, "saveRisk"), "CONFLICT");

    const ACCEPT: &str = "mutation($id: ID!) { acceptRisk(riskId: $id) { risk { acceptedAt acceptedBy { email } residual { score acceptable } } userErrors { field message code } } }";
    // Without a residual rating: refused.
    let a = app
        .gql(f.token("contributor"), None, ACCEPT, json!({ "id": rid }))
        .await;
    assert_eq!(user_error(&a, "acceptRisk"), "BAD_USER_INPUT");
    // The owner (a contributor) rates the residual risk: 2 × 3 = 6, at the threshold.
    let a = app
        .gql(f.token("contributor"), None, SAVE_RISK, json!({ "input": {
            "id": rid, "ref": "R-001", "title": "Ransomware on the EHR",
            "inherent": { "likelihood": 4, "impact": 5 }, "residual": { "likelihood": 2, "impact": 3 },
            "treatment": "MODIFY" } }))
        .await;
    assert_eq!(
        ok(&a, "saveRisk")["risk"]["residual"],
        json!({ "score": 6, "acceptable": true })
    );
    // Someone who is not the owner cannot accept, however senior.
    for who in ["manager", "owner", "other"] {
        let a = app
            .gql(f.token(who), None, ACCEPT, json!({ "id": rid }))
            .await;
        assert_eq!(user_error(&a, "acceptRisk"), "BAD_USER_INPUT", "{who}");
    }
    let a = app
        .gql(f.token("contributor"), None, ACCEPT, json!({ "id": rid }))
        .await;
    let accepted = ok(&a, "acceptRisk")["risk"].clone();
    assert_eq!(accepted["acceptedBy"]["email"], "contributor@alpha.test");
    assert!(accepted["acceptedAt"].is_string());
    // Changing the risk withdraws the acceptance.
    let a = app
        .gql(cm, None, SAVE_RISK, json!({ "input": { "id": rid, "ref": "R-001", "title": "Ransomware",
            "inherent": { "likelihood": 4, "impact": 5 }, "residual": { "likelihood": 3, "impact": 3 } } }))
        .await;
    assert!(ok(&a, "saveRisk")["risk"]["acceptedAt"].is_null());

    // Narrowing the scales below a rating is refused; the heat map counts by hand.
    let a = app
        .gql(cm, None, "mutation($id: ID!) { setRiskCriteria(input: {managementSystemId: $id, criteria: {likelihoodLevels: 3, impactLevels: 3, acceptanceThreshold: 3}}) { userErrors { code } } }", json!({ "id": isms }))
        .await;
    assert_eq!(user_error(&a, "setRiskCriteria"), "CONFLICT");
    for (n, l, i) in [("R-002", 1, 1), ("R-003", 4, 5)] {
        ok(&app.gql(cm, None, SAVE_RISK, json!({ "input": { "managementSystemId": isms, "ref": n, "title": n, "inherent": { "likelihood": l, "impact": i } } })).await, "saveRisk");
    }
    let a = app
        .gql(cm, None, "query($id: ID!) { managementSystem(id: $id) { heatMap { inherent { cells total } residual { cells total } }
            risks(first: 2) { totalCount edges { node { ref } } pageInfo { hasNextPage endCursor } } } }", json!({ "id": isms }))
        .await;
    let m = &a.data()["managementSystem"];
    let inherent = &m["heatMap"]["inherent"];
    assert_eq!(inherent["total"], 3);
    assert_eq!(
        inherent["cells"][3][4], 2,
        "two risks at likelihood 4, impact 5"
    );
    assert_eq!(inherent["cells"][0][0], 1);
    assert_eq!(m["heatMap"]["residual"]["total"], 1);
    assert_eq!(m["heatMap"]["residual"]["cells"][2][2], 1);
    assert_eq!(m["risks"]["totalCount"], 3);
    assert_eq!(m["risks"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(m["risks"]["pageInfo"]["hasNextPage"], true);

    // Sorted by score (ties by reference), paged by position.
    const SORTED: &str = "query($id: ID!, $o: RiskOrder!, $after: String) { managementSystem(id: $id) {
        risks(first: 2, orderBy: $o, after: $after) { edges { node { ref } } pageInfo { hasNextPage endCursor } } } }";
    let page = |o: &'static str, after: Value| {
        let app = &app;
        let isms = isms.clone();
        async move {
            let a = app
                .gql(
                    cm,
                    None,
                    SORTED,
                    json!({ "id": isms, "o": o, "after": after }),
                )
                .await;
            assert!(a.body["errors"].is_null(), "{:?}", a.body);
            a.data()["managementSystem"]["risks"].clone()
        }
    };
    let refs_of = |p: &Value| -> Vec<String> {
        p["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["ref"].as_str().unwrap().to_owned())
            .collect()
    };
    // Inherent: R-001 4×5 = 20, R-003 4×5 = 20, R-002 1×1 = 1.
    let p1 = page("INHERENT_SCORE", Value::Null).await;
    assert_eq!(refs_of(&p1), ["R-001", "R-003"]);
    let p2 = page("INHERENT_SCORE", p1["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(refs_of(&p2), ["R-002"]);
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    // Residual: only R-001 is rated (3×3); the unrated follow by reference.
    let p1 = page("RESIDUAL_SCORE", Value::Null).await;
    assert_eq!(refs_of(&p1), ["R-001", "R-002"]);
    // A reference cursor is not a position.
    let a = app
        .gql(cm, None, SORTED, json!({ "id": isms, "o": "INHERENT_SCORE", "after": m["risks"]["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(a.code(), Some("BAD_USER_INPUT"));
}

async fn assessments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    let r = ok(&app.gql(cm, None, SAVE_RISK, json!({ "input": { "managementSystemId": isms, "ref": "R-001", "title": "Lost laptop", "inherent": { "likelihood": 3, "impact": 4 } } })).await, "saveRisk")["risk"]["id"].clone();
    const RECORD: &str = "mutation($id: ID!, $on: NaiveDate!) { recordRiskAssessment(input: {managementSystemId: $id, title: \"Assessment\", performedOn: $on}) { assessment { number riskCount intact } userErrors { code field } } }";
    let a = app
        .gql(cm, None, RECORD, json!({ "id": isms, "on": "2024-01-31" }))
        .await;
    assert_eq!(
        ok(&a, "recordRiskAssessment")["assessment"],
        json!({ "number": 1, "riskCount": 1, "intact": true })
    );
    // The register changes: the risk is re-rated and another is added.
    ok(&app.gql(cm, None, SAVE_RISK, json!({ "input": { "id": r, "ref": "R-001", "title": "Lost laptop", "inherent": { "likelihood": 2, "impact": 4 } } })).await, "saveRisk");
    ok(&app.gql(cm, None, SAVE_RISK, json!({ "input": { "managementSystemId": isms, "ref": "R-002", "title": "Phishing", "inherent": { "likelihood": 5, "impact": 3 } } })).await, "saveRisk");
    let a = app
        .gql(cm, None, RECORD, json!({ "id": isms, "on": "2024-02-29" }))
        .await;
    assert_eq!(ok(&a, "recordRiskAssessment")["assessment"]["riskCount"], 2);
    // A future date is refused.
    let a = app
        .gql(cm, None, RECORD, json!({ "id": isms, "on": "2199-01-01" }))
        .await;
    assert_eq!(user_error(&a, "recordRiskAssessment"), "BAD_USER_INPUT");

    const AS_OF: &str = "query($id: ID!, $d: NaiveDate!) { managementSystem(id: $id) { riskAssessmentAsOf(date: $d) { number performedOn risks { ref inherent { likelihood impact score } } } } }";
    let at = |d: &'static str| {
        let app = &app;
        let isms = isms.clone();
        async move {
            app.gql(cm, None, AS_OF, json!({ "id": isms, "d": d }))
                .await
                .data()["managementSystem"]["riskAssessmentAsOf"]
                .clone()
        }
    };
    // Before the first: nothing. On 2024-02-28 (the day before the leap day): the first.
    assert!(at("2024-01-30").await.is_null());
    let first = at("2024-02-28").await;
    assert_eq!(first["number"], 1);
    assert_eq!(
        first["risks"],
        json!([{ "ref": "R-001", "inherent": { "likelihood": 3, "impact": 4, "score": 12 } }])
    );
    let second = at("2024-02-29").await;
    assert_eq!(second["number"], 2);
    assert_eq!(second["risks"].as_array().unwrap().len(), 2);
    assert_eq!(second["risks"][0]["inherent"]["score"], 8);
    // Snapshots cannot be altered.
    let err = app
        .db
        .admin
        .execute_unprepared("UPDATE risk_assessments SET risk_count = 0")
        .await
        .expect_err("immutable");
    assert!(err.to_string().contains("immutable"), "{err}");
}

/// Annex A controls reaching a HIPAA element through NIST's published crosswalks (OLIR for
/// SP 800-66r2 and OLIR #155), computed from the reference data, not from our catalog.
fn expected_reach(element: &str) -> BTreeSet<String> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/reference-data/derived-from-nist"
    );
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
    let mut nist: BTreeSet<String> = BTreeSet::new();
    for line in read("hipaa_sr_to_sp800-53r5.csv").lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[1] == element {
            nist.insert(cols[3].to_owned());
        }
    }
    let mut iso = BTreeSet::new();
    for line in read("sp800-53r5_to_iso27001-2022_olir155.csv")
        .lines()
        .skip(1)
    {
        let (c, r) = line.split_once(',').unwrap();
        if nist.contains(c) && r.starts_with("A.") {
            iso.insert(r.to_owned());
        }
    }
    iso
}

const COVERAGE: &str = "query($id: ID!) { managementSystem(id: $id) { hipaaCoverage { covered inProgress determined gaps
  items { specification { ref } required state controls { control { ref } status } determination { decision } } } } }";

async fn coverage_of(app: &TestApp, token: &str, isms: &str) -> (Value, HashMap<String, Value>) {
    let a = app.gql(token, None, COVERAGE, json!({ "id": isms })).await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    let c = a.data()["managementSystem"]["hipaaCoverage"].clone();
    let items = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["specification"]["ref"].as_str().unwrap().to_owned(),
                i.clone(),
            )
        })
        .collect();
    (c, items)
}

fn refs(item: &Value) -> BTreeSet<String> {
    item["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["control"]["ref"].as_str().unwrap().to_owned())
        .collect()
}

async fn hipaa_coverage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    let (c, items) = coverage_of(&app, cm, &isms).await;
    // 22 standards + 46 specifications; nothing implemented yet.
    assert_eq!(items.len(), 68);
    assert_eq!(c["covered"], 0);
    const RISK_ANALYSIS: &str = "164.308(a)(1)(ii)(A)";
    const ENCRYPTION: &str = "164.312(a)(2)(iv)";
    const TRAINING: &str = "164.308(a)(5)(ii)(D)";
    for spec in [RISK_ANALYSIS, ENCRYPTION, TRAINING] {
        assert_eq!(refs(&items[spec]), expected_reach(spec), "{spec}");
        assert_eq!(items[spec]["state"], "IN_PROGRESS", "{spec}");
    }
    assert_eq!(items[RISK_ANALYSIS]["required"], true);
    assert_eq!(items[ENCRYPTION]["required"], false);

    // Implementing A.8.24 (cryptography) covers the encryption specification, and only the
    // specifications that A.8.24 reaches.
    let s = soa(&app, cm, &isms).await;
    let a824 = entry_id(&s, "A.8.24");
    ok(&update_soa(&app, cm, &isms, json!([{ "controlId": a824, "status": "IMPLEMENTED", "justification": "Encryption at rest and in transit" }])).await, "updateSoaEntries");
    let (c, items) = coverage_of(&app, cm, &isms).await;
    assert_eq!(items[ENCRYPTION]["state"], "COVERED");
    assert_eq!(items[RISK_ANALYSIS]["state"], "IN_PROGRESS");
    let covered_by_hand = items
        .keys()
        .filter(|k| expected_reach(k).contains("A.8.24"))
        .count();
    assert_eq!(c["covered"], covered_by_hand);

    // Rejecting the published link SC-13 → A.8.24 takes A.8.24 off the encryption
    // specification (the derived HIPAA → ISO link is informative and does not count) ...
    let nist_a824 = app
        .gql(cm, None, "{ framework(key: \"iso27001-2022\") { control(ref: \"A.8.24\") { mappings(toFramework: \"nist-sp800-53r5\") { target { ref } hops { mapping { id } } } } } }", json!({}))
        .await;
    let link = nist_a824.data()["framework"]["control"]["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"]["ref"] == "SC-13")
        .expect("SC-13 link")["hops"][0]["mapping"]["id"]
        .clone();
    ok(&app.gql(cm, None, "mutation($id: ID!) { rejectMapping(input: {mappingId: $id, note: \"not our reading\"}) { userErrors { code message } } }", json!({ "id": link })).await, "rejectMapping");
    let (_, items) = coverage_of(&app, cm, &isms).await;
    let mut without: BTreeSet<String> = expected_reach(ENCRYPTION);
    without.remove("A.8.24");
    assert_eq!(refs(&items[ENCRYPTION]), without);
    assert_eq!(items[ENCRYPTION]["state"], "IN_PROGRESS");
    // ... and confirming it brings it back.
    ok(&app.gql(cm, None, "mutation($id: ID!) { confirmMapping(input: {mappingId: $id}) { userErrors { code message } } }", json!({ "id": link })).await, "confirmMapping");
    let (_, items) = coverage_of(&app, cm, &isms).await;
    assert_eq!(refs(&items[ENCRYPTION]), expected_reach(ENCRYPTION));
    assert_eq!(items[ENCRYPTION]["state"], "COVERED");

    // Excluding a control takes it out of coverage.
    ok(&update_soa(&app, cm, &isms, json!([{ "controlId": a824, "applicable": false, "status": "NOT_STARTED", "justification": "No cryptography (test)" }])).await, "updateSoaEntries");
    let (_, items) = coverage_of(&app, cm, &isms).await;
    assert_eq!(items[ENCRYPTION]["state"], "IN_PROGRESS");

    // Determinations: only addressable specifications, with rationale.
    const DET: &str = "mutation($i: ID!, $s: ID!, $d: AddressableDecision!, $r: String!, $alt: String) { setHipaaDetermination(input: {managementSystemId: $i, specificationId: $s, decision: $d, rationale: $r, alternative: $alt}) { determination { decision } userErrors { code field } } }";
    let ra = control_id(&app, cm, "hipaa-sr", RISK_ANALYSIS).await;
    let a = app
        .gql(
            cm,
            None,
            DET,
            json!({ "i": isms, "s": ra, "d": "NOT_REASONABLE", "r": "small practice" }),
        )
        .await;
    assert_eq!(
        user_error(&a, "setHipaaDetermination"),
        "BAD_USER_INPUT",
        "required spec"
    );
    let enc = control_id(&app, cm, "hipaa-sr", ENCRYPTION).await;
    let a = app
        .gql(
            cm,
            None,
            DET,
            json!({ "i": isms, "s": enc, "d": "ALTERNATIVE", "r": "" }),
        )
        .await;
    assert_eq!(
        user_error(&a, "setHipaaDetermination"),
        "BAD_USER_INPUT",
        "no rationale"
    );
    let a = app.gql(cm, None, DET, json!({ "i": isms, "s": enc, "d": "ALTERNATIVE", "r": "Devices never leave the secure room", "alt": "Physical isolation" })).await;
    ok(&a, "setHipaaDetermination");
    // With the only implemented control excluded, the alternative carries the specification.
    let (c, items) = coverage_of(&app, cm, &isms).await;
    assert_eq!(items[ENCRYPTION]["state"], "ALTERNATIVE");
    assert_eq!(c["determined"], 1);
}

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    let asset_of = |who: &'static str, name: &'static str| {
        let app = &app;
        let f = &f;
        async move {
            app.gql(f.token(who), None, SAVE_ASSET, json!({ "input": { "name": name, "kind": "DEVICE", "classification": "CONFIDENTIAL", "ephi": true } })).await
        }
    };
    // A contributor creates its own asset and edits it; another contributor cannot.
    let mine = ok(&asset_of("contributor", "Laptop 1").await, "saveAsset")["asset"].clone();
    assert_eq!(mine["owner"]["email"], "contributor@alpha.test");
    let edit = json!({ "input": { "id": mine["id"], "name": "Laptop 1b", "kind": "DEVICE", "classification": "CONFIDENTIAL", "ephi": true } });
    let a = app
        .gql(f.token("other"), None, SAVE_ASSET, edit.clone())
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    ok(
        &app.gql(f.token("contributor"), None, SAVE_ASSET, edit)
            .await,
        "saveAsset",
    );
    // ... nor give it away.
    let give = json!({ "input": { "id": mine["id"], "name": "Laptop 1b", "kind": "DEVICE", "classification": "CONFIDENTIAL",
        "ownerId": grc_e2e::global_id("User", f.user_ids["other"]) } });
    let a = app
        .gql(f.token("contributor"), None, SAVE_ASSET, give)
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    // A contributor cannot create records owned by someone else.
    let a = app
        .gql(f.token("contributor"), None, SAVE_ASSET, json!({ "input": { "name": "X", "kind": "DEVICE", "classification": "PUBLIC", "ownerId": grc_e2e::global_id("User", f.user_ids["other"]) } }))
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));

    // SoA: a contributor edits entries it owns, not others, and never approves.
    let s = soa(&app, cm, &isms).await;
    let a51 = entry_id(&s, "A.5.1");
    let a52 = entry_id(&s, "A.5.2");
    ok(&update_soa(&app, cm, &isms, json!([{ "controlId": a51, "ownerId": grc_e2e::global_id("User", f.user_ids["contributor"]) }])).await, "updateSoaEntries");
    ok(
        &update_soa(
            &app,
            f.token("contributor"),
            &isms,
            json!([{ "controlId": a51, "status": "PARTIAL" }]),
        )
        .await,
        "updateSoaEntries",
    );
    let a = update_soa(
        &app,
        f.token("contributor"),
        &isms,
        json!([{ "controlId": a52, "status": "PARTIAL" }]),
    )
    .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    let rev = justify_all(&app, cm, &isms).await;
    let a = approve(&app, f.token("contributor"), &isms, rev).await;
    assert_eq!(a.code(), Some("FORBIDDEN"));

    // Auditors and viewers read everything and change nothing.
    for who in ["auditor", "viewer"] {
        let t = f.token(who);
        let s = soa(&app, t, &isms).await;
        assert_eq!(s["progress"]["total"], 93, "{who}");
        let a = app
            .gql(t, None, "{ assets(first: 5) { totalCount } }", json!({}))
            .await;
        assert_eq!(a.data()["assets"]["totalCount"], 1, "{who}");
        for (q, v) in [
            (
                UPDATE_SOA,
                json!({ "input": { "managementSystemId": isms, "entries": [{ "controlId": a52, "status": "PLANNED" }] } }),
            ),
            (
                APPROVE,
                json!({ "input": { "managementSystemId": isms, "revision": rev } }),
            ),
            (
                SAVE_ASSET,
                json!({ "input": { "name": "Y", "kind": "DEVICE", "classification": "PUBLIC" } }),
            ),
            (
                CREATE,
                json!({ "input": { "name": "Z", "scopeStatement": "z" } }),
            ),
        ] {
            let a = app.gql(t, None, q, v).await;
            assert_eq!(a.code(), Some("FORBIDDEN"), "{who}: {q}");
        }
    }
    // Contributors do not configure the ISMS.
    let a = app
        .gql(
            f.token("contributor"),
            None,
            CREATE,
            json!({ "input": { "name": "Z", "scopeStatement": "z" } }),
        )
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    ok(
        &approve(&app, f.token("owner"), &isms, rev).await,
        "approveSoa",
    );
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "beta").await;
    let (isms, _) = create_isms(&app, a.token("manager"), "Alpha ISMS", None).await;
    populate(&app, a.token("owner")).await;
    let s = soa(&app, a.token("manager"), &isms).await;
    let a51 = entry_id(&s, "A.5.1");
    let risk = app
        .gql(
            a.token("owner"),
            None,
            "{ managementSystems { name risks { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    let risk_id = risk.data()["managementSystems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["risks"]["edges"].as_array().unwrap().len() == 1)
        .unwrap()["risks"]["edges"][0]["node"]["id"]
        .clone();
    let asset = app
        .gql(
            a.token("owner"),
            None,
            "{ assets(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let asset_id = asset.data()["assets"]["edges"][0]["node"]["id"].clone();

    // Mixed kinds in one `nodes` call (a shared lookup transaction and the ISMS's own ones
    // must not wait on each other on SQLite's single connection).
    let other_member = grc_e2e::global_id("User", a.user_ids["auditor"]);
    let r = app
        .gql(
            a.token("owner"),
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [other_member, isms, risk_id, other_member, asset_id] }),
        )
        .await;
    let got = r.data()["nodes"].as_array().unwrap();
    assert_eq!(got.len(), 5, "{:?}", r.body);
    assert!(got.iter().all(|n| n["id"].is_string()), "{:?}", r.body);

    let bt = b.token("owner");
    // Reads: nothing of A's.
    let r = app
        .gql(
            bt,
            None,
            "{ managementSystems { id } assets(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["managementSystems"], json!([]));
    assert_eq!(r.data()["assets"]["totalCount"], 0);
    for id in [json!(isms), risk_id.clone(), asset_id.clone()] {
        let r = app
            .gql(
                bt,
                None,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(r.data()["node"].is_null(), "{id}");
    }
    let r = app
        .gql(
            bt,
            None,
            "query($id: ID!) { managementSystem(id: $id) { id } risk(id: $id) { id } }",
            json!({ "id": isms }),
        )
        .await;
    assert!(r.data()["managementSystem"].is_null());
    // Writes: NOT_FOUND, and A's data unchanged.
    let before = soa(&app, a.token("manager"), &isms).await;
    let r = update_soa(
        &app,
        bt,
        &isms,
        json!([{ "controlId": a51, "status": "IMPLEMENTED" }]),
    )
    .await;
    assert_eq!(user_error(&r, "updateSoaEntries"), "NOT_FOUND");
    let r = approve(&app, bt, &isms, 1).await;
    assert_eq!(user_error(&r, "approveSoa"), "NOT_FOUND");
    let r = app.gql(bt, None, SAVE_RISK, json!({ "input": { "managementSystemId": isms, "ref": "R-9", "title": "x", "inherent": { "likelihood": 1, "impact": 1 } } })).await;
    assert_eq!(user_error(&r, "saveRisk"), "NOT_FOUND");
    let r = app.gql(bt, None, SAVE_RISK, json!({ "input": { "id": risk_id, "ref": "R-9", "title": "x", "inherent": { "likelihood": 1, "impact": 1 } } })).await;
    assert_eq!(user_error(&r, "saveRisk"), "NOT_FOUND");
    let (bisms, _) = create_isms(&app, bt, "Beta ISMS", None).await;
    let r = app.gql(bt, None, SAVE_RISK, json!({ "input": { "managementSystemId": bisms, "ref": "R-9", "title": "x", "inherent": { "likelihood": 1, "impact": 1 }, "assetIds": [asset_id] } })).await;
    assert_eq!(
        user_error(&r, "saveRisk"),
        "NOT_FOUND",
        "A's asset linked from B"
    );
    let r = app
        .gql(
            bt,
            None,
            "mutation($id: ID!) { deleteAsset(id: $id) { userErrors { code } } }",
            json!({ "id": asset_id }),
        )
        .await;
    assert_eq!(user_error(&r, "deleteAsset"), "NOT_FOUND");
    let r = app
        .gql(
            bt,
            None,
            "mutation($id: ID!) { acceptRisk(riskId: $id) { userErrors { code } } }",
            json!({ "id": risk_id }),
        )
        .await;
    assert_eq!(user_error(&r, "acceptRisk"), "NOT_FOUND");
    let r = app.gql(bt, None, "mutation($id: ID!) { updateManagementSystem(input: {id: $id, name: \"stolen\"}) { userErrors { code } } }", json!({ "id": isms })).await;
    assert_eq!(user_error(&r, "updateManagementSystem"), "NOT_FOUND");
    let r = app.gql(bt, None, "mutation($id: ID!) { recordRiskAssessment(input: {managementSystemId: $id, title: \"x\", performedOn: \"2026-01-01\"}) { userErrors { code } } }", json!({ "id": isms })).await;
    assert_eq!(user_error(&r, "recordRiskAssessment"), "NOT_FOUND");
    // The configuration mutations, A's context items, determinations, versions and
    // assessments: all out of B's reach.
    let ctx_items = app
        .gql(
            a.token("owner"),
            None,
            "{ managementSystems { context { id } soaVersions { id } riskAssessments { id } } }",
            json!({}),
        )
        .await;
    let systems = ctx_items.data()["managementSystems"]
        .as_array()
        .unwrap()
        .clone();
    let with_data = systems
        .iter()
        .find(|m| !m["context"].as_array().unwrap().is_empty())
        .unwrap();
    let item = with_data["context"][0]["id"].clone();
    let version = with_data["soaVersions"][0]["id"].clone();
    let assessment = with_data["riskAssessments"][0]["id"].clone();
    let enc = control_id(&app, bt, "hipaa-sr", "164.312(a)(2)(iv)").await;
    let cases = [
        (
            "saveContextItem",
            "mutation($i: ID!) { saveContextItem(input: {managementSystemId: $i, kind: EXTERNAL_ISSUE, title: \"x\"}) { userErrors { code } } }",
            json!({ "i": isms }),
        ),
        (
            "saveContextItem",
            "mutation($i: ID!) { saveContextItem(input: {id: $i, kind: EXTERNAL_ISSUE, title: \"x\"}) { userErrors { code } } }",
            json!({ "i": item }),
        ),
        (
            "deleteContextItem",
            "mutation($i: ID!) { deleteContextItem(id: $i) { userErrors { code } } }",
            json!({ "i": item }),
        ),
        (
            "setRiskCriteria",
            "mutation($i: ID!) { setRiskCriteria(input: {managementSystemId: $i, criteria: {likelihoodLevels: 5, impactLevels: 5, acceptanceThreshold: 1}}) { userErrors { code } } }",
            json!({ "i": isms }),
        ),
        (
            "setHipaaDetermination",
            "mutation($i: ID!, $s: ID!) { setHipaaDetermination(input: {managementSystemId: $i, specificationId: $s, decision: IMPLEMENTED}) { userErrors { code } } }",
            json!({ "i": isms, "s": enc }),
        ),
        (
            "deleteRisk",
            "mutation($i: ID!) { deleteRisk(id: $i) { userErrors { code } } }",
            json!({ "i": risk_id }),
        ),
    ];
    for (field, q, v) in cases {
        let r = app.gql(bt, None, q, v).await;
        assert_eq!(user_error(&r, field), "NOT_FOUND", "{field}");
    }
    for id in [item, version, assessment] {
        let r = app
            .gql(
                bt,
                None,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(r.data()["node"].is_null(), "{id}");
    }
    assert_eq!(soa(&app, a.token("manager"), &isms).await, before);
    let after = app
        .gql(a.token("owner"), None, "{ managementSystems { context { id } soaVersions { id } riskAssessments { id } riskCriteria { acceptanceThreshold } risks { totalCount } } }", json!({}))
        .await;
    assert_eq!(
        after.data()["managementSystems"].as_array().unwrap().len(),
        systems.len()
    );
    for m in after.data()["managementSystems"].as_array().unwrap() {
        assert_eq!(m["riskCriteria"]["acceptanceThreshold"], 6);
    }
    assert!(
        after.data()["managementSystems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["risks"]["totalCount"] == 1 && m["context"].as_array().unwrap().len() == 1)
    );
}

async fn statement_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (full, _) = create_isms(&app, cm, "Full", None).await;
    let (small, _) = create_isms(&app, cm, "Small", None).await;
    // Owners, risks and evidence counts on every entry of both.
    for isms in [&full, &small] {
        let s = soa(&app, cm, isms).await;
        let owners = ["contributor", "other", "manager"];
        let entries: Vec<Value> = s["entries"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({
                    "controlId": e["control"]["id"], "justification": "j", "status": "PARTIAL",
                    "ownerId": grc_e2e::global_id("User", f.user_ids[owners[i % 3]]),
                })
            })
            .collect();
        ok(
            &update_soa(&app, cm, isms, json!(entries)).await,
            "updateSoaEntries",
        );
    }
    // The small one keeps 10 entries.
    let small_uuid = grc_e2e::decode_global_id(&small);
    let backend_kind = app.db.admin.get_database_backend();
    let sql = match backend_kind {
        DbBackend::Postgres => format!(
            "DELETE FROM soa_entries WHERE isms_id = '{small_uuid}' AND sort > (SELECT MIN(sort) + 9 FROM soa_entries WHERE isms_id = '{small_uuid}')"
        ),
        _ => format!(
            "DELETE FROM soa_entries WHERE isms_id = X'{}' AND sort > (SELECT MIN(sort) + 9 FROM soa_entries WHERE isms_id = X'{}')",
            small_uuid.simple(),
            small_uuid.simple()
        ),
    };
    app.db.admin.execute_unprepared(&sql).await.unwrap();
    let mut counts = Vec::new();
    for (isms, n) in [(&small, 10), (&full, 93)] {
        // Warm the caches (credentials, catalog), then count.
        let s = soa(&app, cm, isms).await;
        assert_eq!(s["entries"].as_array().unwrap().len(), n);
        assert!(
            s["entries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["owner"]["email"].is_string())
        );
        let before = app.store.statements_executed();
        let _ = soa(&app, cm, isms).await;
        counts.push(app.store.statements_executed() - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 and for 93 entries: {counts:?}"
    );
    assert!(counts[0] > 0 && counts[0] <= 16, "{counts:?}");
    // The page is served from memory while nothing changed, and never after a change.
    let s = soa(&app, cm, &full).await;
    let first = entry_id(&s, "A.5.1");
    assert_eq!(s["entries"][0]["status"], "PARTIAL");
    ok(
        &update_soa(
            &app,
            f.token("owner"),
            &full,
            json!([{ "controlId": first, "status": "IMPLEMENTED" }]),
        )
        .await,
        "updateSoaEntries",
    );
    let s = soa(&app, cm, &full).await;
    assert_eq!(s["entries"][0]["status"], "IMPLEMENTED");
    assert_eq!(s["progress"]["implemented"], 1);
}

const READINESS: &str = "query($id: ID!, $on: NaiveDate) { managementSystem(id: $id) { readiness(on: $on) { ready missing items { key clause state nextReview } } } }";

async fn readiness_on(
    app: &TestApp,
    token: &str,
    isms: &str,
    on: &str,
) -> (Value, HashMap<String, String>) {
    let a = app
        .gql(token, None, READINESS, json!({ "id": isms, "on": on }))
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    let r = a.data()["managementSystem"]["readiness"].clone();
    let states = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (r, states)
}

async fn readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "alpha").await;
    let cm = f.token("manager");
    let (isms, _) = create_isms(&app, cm, "Main campus", None).await;
    const TODAY: &str = "2026-11-29";

    // A new ISMS: everything missing but the nonconformity register (empty, nothing overdue).
    let (r, states) = readiness_on(&app, cm, &isms, TODAY).await;
    assert_eq!(r["ready"], false);
    assert_eq!(states.len(), 15);
    assert_eq!(states["nonconformities"], "READY");
    assert_eq!(states.values().filter(|s| *s == "MISSING").count(), 14);
    assert_eq!(r["missing"].as_array().unwrap().len(), 14);
    assert!(
        r["missing"]
            .as_array()
            .unwrap()
            .contains(&json!("5.2 Information security policy"))
    );

    // A policy with an approved version, to be reviewed by 2027-03-01.
    let doc = ok(
        &app.gql(cm, None, "mutation($i: ID!) { createDocument(input: {ismsId: $i, kind: POLICY, title: \"Information security policy\", fulfils: \"security-policy\", nextReviewDate: \"2027-03-01\"}) { document { id } userErrors { code field message } } }", json!({ "i": isms })).await,
        "createDocument",
    )["document"]["id"].clone();
    let version = ok(
        &app.gql(cm, None, "mutation($d: ID!) { addDocumentVersion(input: {documentId: $d, summary: \"First issue\", body: \"We protect ePHI.\"}) { version { id } userErrors { code field message } } }", json!({ "d": doc })).await,
        "addDocumentVersion",
    )["version"]["id"].clone();
    // A scope document with only a draft.
    let scope = ok(
        &app.gql(cm, None, "mutation($i: ID!) { createDocument(input: {ismsId: $i, kind: OTHER, title: \"ISMS scope\", fulfils: \"isms-scope\"}) { document { id } userErrors { code field message } } }", json!({ "i": isms })).await,
        "createDocument",
    )["document"]["id"].clone();
    ok(
        &app.gql(cm, None, "mutation($d: ID!) { addDocumentVersion(input: {documentId: $d, summary: \"Draft\", body: \"All campuses\"}) { version { id } userErrors { code field message } } }", json!({ "d": scope })).await,
        "addDocumentVersion",
    );
    let (_, states) = readiness_on(&app, cm, &isms, TODAY).await;
    assert_eq!(states["security-policy"], "NOT_APPROVED");
    assert_eq!(states["isms-scope"], "NOT_APPROVED");
    ok(
        &app.gql(cm, None, "mutation($v: ID!) { approveDocumentVersion(input: {versionId: $v}) { userErrors { code field message } } }", json!({ "v": version })).await,
        "approveDocumentVersion",
    );
    // The approval takes effect on its own date (today's date on the server).
    let server_today = chrono::Utc::now().date_naive().to_string();
    let (_, states) = readiness_on(&app, cm, &isms, &server_today).await;
    assert_eq!(states["security-policy"], "READY");
    assert_eq!(states["isms-scope"], "NOT_APPROVED");
    // The review date is still within review; the day after is overdue.
    let (_, states) = readiness_on(&app, cm, &isms, "2027-03-01").await;
    assert_eq!(states["security-policy"], "READY");
    let (r, states) = readiness_on(&app, cm, &isms, "2027-03-02").await;
    assert_eq!(states["security-policy"], "REVIEW_OVERDUE");
    let item = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "security-policy")
        .unwrap()
        .clone();
    assert_eq!(item["nextReview"], "2027-03-01");

    // An approved SoA version; a risk assessment performed on 2026-02-28 is due again a year
    // later, 2027-02-28 (no leap day in 2027), overdue from 2027-03-01.
    let rev = justify_all(&app, cm, &isms).await;
    ok(&approve(&app, cm, &isms, rev).await, "approveSoa");
    ok(
        &app.gql(cm, None, "mutation($i: ID!) { recordRiskAssessment(input: {managementSystemId: $i, title: \"Annual\", performedOn: \"2026-02-28\"}) { userErrors { code field } } }", json!({ "i": isms })).await,
        "recordRiskAssessment",
    );
    let (_, states) = readiness_on(&app, cm, &isms, "2027-02-28").await;
    assert_eq!(states["statement-of-applicability"], "READY");
    assert_eq!(states["risk-assessment-results"], "READY");
    let (_, states) = readiness_on(&app, cm, &isms, "2027-03-01").await;
    assert_eq!(states["risk-assessment-results"], "REVIEW_OVERDUE");
    // Before the assessment was performed, it did not exist yet.
    let (_, states) = readiness_on(&app, cm, &isms, "2026-02-27").await;
    assert_eq!(states["risk-assessment-results"], "MISSING");
}
