//! ISMS: internal audits (9.2), findings, nonconformities and corrective actions (10.2),
//! management reviews (9.3), through the API on both backends: the flows, the role matrix,
//! bad input that changes nothing, overdue computed against today, the readiness inputs, and
//! tenant isolation.

use chrono::{Days, NaiveDate, Utc};
use grc_domain::isms::DocumentState;
use grc_domain::tenancy::Role;
use grc_e2e::gql::{code, ok, run, top_code};
use grc_e2e::{Backend, Fixture, TestApp, both_backends, global_id};
use grc_store::TenantScope;
use serde_json::{Value, json};
use uuid::Uuid;

both_backends! {
    an_audit_runs_from_programme_to_findings => audit_flow;
    a_nonconformity_closes_only_after_independent_verification => nonconformity_lifecycle;
    a_management_review_completes_with_every_input => review_flow;
    bad_audit_input_is_refused_and_changes_nothing => bad_input;
    another_tenant_neither_sees_nor_changes_audits => isolation;
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A management system created through the API.
async fn insert_isms(app: &TestApp, token: &str, name: &str) -> Uuid {
    let (id, _) = super::isms::create_isms(app, token, name, None).await;
    grc_e2e::decode_global_id(&id)
}

const PROGRAMME: &str =
    "mutation($i: CreateAuditProgrammeInput!) { createAuditProgramme(input: $i) {
    auditProgramme { id title periodStart periodEnd } userErrors { field message code } } }";
const UPDATE_PROGRAMME: &str =
    "mutation($i: UpdateAuditProgrammeInput!) { updateAuditProgramme(input: $i) {
    auditProgramme { id } userErrors { field message code } } }";
const AUDIT_FIELDS: &str = "id title status plannedStart plannedEnd actualStart actualEnd leadAuditorId
    auditorIds conclusion independenceNote findings { id kind controlRef statement nonconformityId }";
const CREATE_NC: &str = "mutation($i: CreateNonconformityInput!) { createNonconformity(input: $i) {
    nonconformity { id status ownerId dueDate overdue } userErrors { field message code } } }";
const UPDATE_NC: &str = "mutation($i: UpdateNonconformityInput!) { updateNonconformity(input: $i) {
    nonconformity { id status correctiveAction } userErrors { field message code } } }";
const VERIFY_NC: &str = "mutation($i: VerifyNonconformityInput!) { verifyNonconformity(input: $i) {
    nonconformity { id status effective verifiedOn verifierId } userErrors { field message code } } }";
const CLOSE_NC: &str = "mutation($id: ID!) { closeNonconformity(input: {id: $id}) {
    nonconformity { id status closedAt } userErrors { field message code } } }";
const NC_FIELDS: &str = "id status title description rootCause correction correctiveAction ownerId
    dueDate overdue verifierId verifiedOn verificationNote effective closedAt updatedAt";

fn audit_mutation(name: &str, input: &str) -> String {
    format!(
        "mutation($i: {input}!) {{ {name}(input: $i) {{ internalAudit {{ {AUDIT_FIELDS} }}
           userErrors {{ field message code }} }} }}"
    )
}

fn finding_mutation() -> String {
    "mutation($i: AddAuditFindingInput!) { addAuditFinding(input: $i) {
       finding { id kind controlRef nonconformityId auditId }
       nonconformity { id source status ownerId dueDate findingId ismsId title }
       userErrors { field message code } } }"
        .to_owned()
}

/// The global id of an ISO/IEC 27001:2022 clause or control.
async fn iso_control(app: &TestApp, token: &str, reference: &str) -> Value {
    let a = app
        .gql(
            token,
            None,
            r#"query($r: String!) { framework(key: "iso27001-2022") { control(ref: $r) { id } } }"#,
            json!({ "r": reference }),
        )
        .await;
    let id = a.data()["framework"]["control"]["id"].clone();
    assert!(id.is_string(), "{reference}: {:?}", a.body);
    id
}

async fn node(app: &TestApp, token: &str, id: &Value, fields: &str) -> Value {
    let a = app
        .gql(
            token,
            None,
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ __typename
                   ... on AuditProgramme {{ id title periodStart periodEnd objectives }}
                   ... on InternalAudit {{ {AUDIT_FIELDS} }}
                   ... on AuditFinding {{ id kind controlRef statement evidenceNote nonconformityId }}
                   ... on Nonconformity {{ {NC_FIELDS} }}
                   ... on ManagementReview {{ {fields} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data()["node"].clone()
}

const REVIEW_FIELDS: &str = "id status heldOn chairId attendees decisions missingInputs completedAt
    inputs { input { key clause } notes } actions { id title ownerId dueDate doneOn overdue }";

async fn read(app: &TestApp, token: &str, id: &Value) -> Value {
    node(app, token, id, REVIEW_FIELDS).await
}

fn uid(f: &Fixture, who: &str) -> String {
    global_id("User", f.user_ids[who])
}

async fn fixture(app: &TestApp, slug: &str) -> (Fixture, Uuid) {
    let f = app
        .tenant(
            slug,
            &[
                ("owner", Role::Owner),
                ("cm", Role::ComplianceManager),
                ("contrib", Role::Contributor),
                ("other", Role::Contributor),
                ("auditor", Role::Auditor),
                ("viewer", Role::Viewer),
            ],
        )
        .await;
    let isms = insert_isms(app, f.token("owner"), "Hospital ISMS").await;
    (f, isms)
}

async fn readiness(app: &TestApp, f: &Fixture, isms: Uuid) -> Vec<(&'static str, DocumentState)> {
    let tx = app
        .store
        .tenant_tx(TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let r = tx.readiness_audits(isms, today()).await.unwrap();
    tx.commit().await.unwrap();
    r
}

fn state<'a>(r: &'a [(&'static str, DocumentState)], key: &str) -> &'a DocumentState {
    &r.iter().find(|(k, _)| *k == key).unwrap().1
}

/// Creates a programme and an audit led by `lead`, started today; returns (programme, audit).
async fn running_audit(app: &TestApp, f: &Fixture, isms: Uuid, lead: &str) -> (Value, Value) {
    let cm = f.token("cm");
    let p = ok(
        app,
        cm,
        "createAuditProgramme",
        PROGRAMME,
        json!({ "i": { "ismsId": global_id("Isms", isms), "title": "2025 programme",
                 "periodStart": "2025-01-01", "periodEnd": "2025-12-31",
                 "objectives": "Cover every clause and theme once" } }),
    )
    .await;
    let programme = p["auditProgramme"]["id"].clone();
    let a = ok(
        app,
        cm,
        "createInternalAudit",
        &audit_mutation("createInternalAudit", "CreateInternalAuditInput"),
        json!({ "i": { "programmeId": programme, "title": "Access control audit",
                 "scope": "Clinical systems", "criteria": "A.5.15 to A.5.18, 9.2",
                 "plannedStart": day(today()), "plannedEnd": day(today() + Days::new(5)),
                 "leadAuditorId": uid(f, lead), "auditorIds": [uid(f, "auditor")],
                 "independenceNote": "Lead auditor does not operate clinical systems" } }),
    )
    .await;
    let audit = a["internalAudit"]["id"].clone();
    let started = ok(
        app,
        f.token(lead),
        "updateInternalAudit",
        &audit_mutation("updateInternalAudit", "UpdateInternalAuditInput"),
        json!({ "i": { "id": audit, "status": "IN_PROGRESS", "actualStart": day(today()) } }),
    )
    .await;
    assert_eq!(started["internalAudit"]["status"], "IN_PROGRESS");
    (programme, audit)
}

/// Writes a row in each of this feature's tables, through the API, as the tenant whose owner
/// token is given.
pub async fn populate(app: &TestApp, token: &str) {
    let isms = insert_isms(app, token, "Audits ISMS").await;
    let p = ok(
        app,
        token,
        "createAuditProgramme",
        PROGRAMME,
        json!({ "i": { "ismsId": global_id("Isms", isms), "title": "Programme",
                 "periodStart": "2025-01-01", "periodEnd": "2025-12-31" } }),
    )
    .await;
    let a = ok(
        app,
        token,
        "createInternalAudit",
        &audit_mutation("createInternalAudit", "CreateInternalAuditInput"),
        json!({ "i": { "programmeId": p["auditProgramme"]["id"], "title": "Audit",
                 "plannedStart": "2025-02-01", "plannedEnd": "2025-02-03" } }),
    )
    .await;
    let audit = a["internalAudit"]["id"].clone();
    ok(
        app,
        token,
        "updateInternalAudit",
        &audit_mutation("updateInternalAudit", "UpdateInternalAuditInput"),
        json!({ "i": { "id": audit, "status": "IN_PROGRESS", "actualStart": "2025-02-01" } }),
    )
    .await;
    let control = iso_control(app, token, "9.2.2").await;
    let f = ok(
        app,
        token,
        "addAuditFinding",
        &finding_mutation(),
        json!({ "i": { "auditId": audit, "kind": "MINOR_NONCONFORMITY", "controlId": control,
                 "statement": "Audit results not retained" } }),
    )
    .await;
    assert!(f["nonconformity"]["id"].is_string());
    let r = ok(
        app,
        token,
        "createManagementReview",
        "mutation($i: CreateManagementReviewInput!) { createManagementReview(input: $i) {
           managementReview { id } userErrors { message } } }",
        json!({ "i": { "ismsId": global_id("Isms", isms), "heldOn": "2025-03-01" } }),
    )
    .await;
    ok(
        app,
        token,
        "addManagementReviewAction",
        "mutation($i: AddManagementReviewActionInput!) { addManagementReviewAction(input: $i) {
           action { id } userErrors { message } } }",
        json!({ "i": { "reviewId": r["managementReview"]["id"], "title": "Budget a SIEM" } }),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------

async fn audit_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (f, isms) = fixture(&app, "acme").await;
    let contrib = f.token("contrib");

    // Nothing yet: no completed audit, no review, an empty register is in order.
    let r = readiness(&app, &f, isms).await;
    assert_eq!(
        *state(&r, "audit-programme"),
        DocumentState {
            present: false,
            approved: true,
            next_review: None
        }
    );
    assert!(!state(&r, "management-review-results").present);
    assert_eq!(
        *state(&r, "nonconformities"),
        DocumentState {
            present: true,
            approved: true,
            next_review: None
        }
    );

    // The compliance manager plans; the contributor leads the audit and records findings.
    let (programme, audit) = running_audit(&app, &f, isms, "contrib").await;
    let a = node(&app, contrib, &audit, REVIEW_FIELDS).await;
    assert_eq!(a["__typename"], "InternalAudit");
    assert_eq!(a["leadAuditorId"], uid(&f, "contrib"));
    assert_eq!(a["auditorIds"], json!([uid(&f, "auditor")]));
    assert_eq!(a["actualStart"], day(today()));
    assert_eq!(
        a["independenceNote"],
        "Lead auditor does not operate clinical systems"
    );

    let clause = iso_control(&app, contrib, "9.2.2").await;
    let control = iso_control(&app, contrib, "A.5.15").await;
    let due = today() + Days::new(30);
    let major = ok(
        &app,
        contrib,
        "addAuditFinding",
        &finding_mutation(),
        json!({ "i": { "auditId": audit, "kind": "MAJOR_NONCONFORMITY", "controlId": clause,
                 "statement": "No audit programme records for 2024",
                 "evidenceNote": "Interview with the ISMS manager",
                 "nonconformityDueDate": day(due) } }),
    )
    .await;
    let nc = &major["nonconformity"];
    assert_eq!(major["finding"]["controlRef"], "9.2.2");
    assert_eq!(major["finding"]["nonconformityId"], nc["id"]);
    assert_eq!(nc["findingId"], major["finding"]["id"]);
    assert_eq!(nc["source"], "INTERNAL_AUDIT");
    assert_eq!(nc["status"], "OPEN");
    assert_eq!(nc["ismsId"], global_id("Isms", isms));
    assert_eq!(nc["dueDate"], day(due));
    // A contributor owns what it raises.
    assert_eq!(nc["ownerId"], uid(&f, "contrib"));
    let obs = ok(
        &app,
        contrib,
        "addAuditFinding",
        &finding_mutation(),
        json!({ "i": { "auditId": audit, "kind": "OBSERVATION", "controlId": control,
                 "statement": "Access reviews are quarterly, policy says monthly" } }),
    )
    .await;
    assert!(
        obs["nonconformity"].is_null(),
        "an observation raises nothing"
    );
    assert!(obs["finding"]["nonconformityId"].is_null());

    // Completing needs the actual end and a conclusion.
    let upd = audit_mutation("updateInternalAudit", "UpdateInternalAuditInput");
    let p = run(
        &app,
        contrib,
        "updateInternalAudit",
        &upd,
        json!({ "i": { "id": audit, "status": "COMPLETED", "actualEnd": day(today()) } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "conclusion"]));
    let done = ok(
        &app,
        contrib,
        "updateInternalAudit",
        &upd,
        json!({ "i": { "id": audit, "status": "COMPLETED", "actualEnd": day(today()),
                 "conclusion": "One major nonconformity, one observation" } }),
    )
    .await;
    assert_eq!(done["internalAudit"]["status"], "COMPLETED");
    assert_eq!(
        done["internalAudit"]["findings"].as_array().unwrap().len(),
        2
    );
    // A completed audit is a record.
    let p = run(
        &app,
        contrib,
        "updateInternalAudit",
        &upd,
        json!({ "i": { "id": audit, "title": "Renamed" } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");
    let p = run(
        &app,
        contrib,
        "addAuditFinding",
        &finding_mutation(),
        json!({ "i": { "auditId": audit, "kind": "OBSERVATION", "controlId": control,
                 "statement": "Late" } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");

    // A second, planned audit; then the list: findings of the whole page in order.
    ok(
        &app,
        f.token("cm"),
        "createInternalAudit",
        &audit_mutation("createInternalAudit", "CreateInternalAuditInput"),
        json!({ "i": { "programmeId": programme, "title": "Physical security audit",
                 "plannedStart": "2025-06-01", "plannedEnd": "2025-06-02" } }),
    )
    .await;
    let list = app
        .gql(
            f.token("auditor"),
            None,
            &format!(
                "query($isms: ID!) {{ internalAudits(ismsId: $isms) {{ totalCount
                   edges {{ node {{ {AUDIT_FIELDS} }} }} }}
                   completed: internalAudits(status: COMPLETED) {{ totalCount }}
                   auditProgrammes(ismsId: $isms) {{ totalCount edges {{ node {{ id title }} }} }} }}"
            ),
            json!({ "isms": global_id("Isms", isms) }),
        )
        .await;
    let d = list.data();
    assert_eq!(d["internalAudits"]["totalCount"], 2, "{:?}", list.body);
    assert_eq!(d["completed"]["totalCount"], 1);
    assert_eq!(d["auditProgrammes"]["totalCount"], 1);
    let first = &d["internalAudits"]["edges"][0]["node"];
    assert_eq!(first["id"], audit);
    let kinds: Vec<&str> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["MAJOR_NONCONFORMITY", "OBSERVATION"]);
    assert_eq!(
        d["internalAudits"]["edges"][1]["node"]["findings"],
        json!([])
    );

    // Every object is a node.
    for (id, ty) in [
        (&programme, "AuditProgramme"),
        (&audit, "InternalAudit"),
        (&major["finding"]["id"], "AuditFinding"),
        (&nc["id"], "Nonconformity"),
    ] {
        assert_eq!(
            node(&app, f.token("viewer"), id, REVIEW_FIELDS).await["__typename"],
            ty
        );
    }

    // Readiness: a completed audit; the programme is reviewed at its period end.
    let r = readiness(&app, &f, isms).await;
    assert_eq!(
        *state(&r, "audit-programme"),
        DocumentState {
            present: true,
            approved: true,
            next_review: NaiveDate::from_ymd_opt(2025, 12, 31)
        }
    );

    // Each change left its audit event.
    let ev = app
        .gql(
            f.token("owner"),
            None,
            "{ auditEvents(last: 50) { edges { node { action subjectType } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = ev.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    for a in [
        "audit_programme.create",
        "internal_audit.create",
        "internal_audit.update",
        "audit_finding.create",
        "nonconformity.create",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "audit_finding.create")
            .count(),
        2
    );
}

async fn nonconformity_lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (f, isms) = fixture(&app, "acme").await;
    let (owner, cm, contrib) = (f.token("owner"), f.token("cm"), f.token("contrib"));
    let isms_id = global_id("Isms", isms);
    let yesterday = today() - Days::new(1);

    // The contributor records one (it owns it), due today; the manager one of its own, due
    // yesterday.
    let mine = ok(
        &app,
        contrib,
        "createNonconformity",
        CREATE_NC,
        json!({ "i": { "ismsId": isms_id, "source": "INCIDENT", "title": "USB stick lost",
                 "dueDate": day(today()) } }),
    )
    .await["nonconformity"]
        .clone();
    assert_eq!(mine["ownerId"], uid(&f, "contrib"));
    assert_eq!(mine["status"], "OPEN");
    assert_eq!(mine["overdue"], false, "due today is not overdue");
    let theirs = ok(
        &app,
        cm,
        "createNonconformity",
        CREATE_NC,
        json!({ "i": { "ismsId": isms_id, "source": "COMPLAINT", "title": "Patient complaint",
                 "ownerId": uid(&f, "cm"), "dueDate": day(yesterday),
                 "correctiveAction": "Retrain front desk" } }),
    )
    .await["nonconformity"]
        .clone();
    assert_eq!(theirs["overdue"], true, "due yesterday is overdue");
    assert_eq!(theirs["status"], "ACTION_PLANNED");
    // A contributor does not create records owned by others.
    let p = app
        .gql(
            contrib,
            None,
            CREATE_NC,
            json!({ "i": { "ismsId": isms_id, "source": "OTHER", "title": "x",
                     "ownerId": uid(&f, "cm") } }),
        )
        .await;
    assert_eq!(p.code(), Some("FORBIDDEN"), "{:?}", p.body);

    // Overdue, computed against today, by filter and by field.
    let q = app
        .gql(
            f.token("viewer"),
            None,
            "{ late: nonconformities(overdue: true) { totalCount edges { node { id overdue } } }
               onTime: nonconformities(overdue: false) { totalCount edges { node { id } } }
               planned: nonconformities(status: ACTION_PLANNED) { totalCount } }",
            json!({}),
        )
        .await;
    let d = q.data();
    assert_eq!(d["late"]["totalCount"], 1, "{:?}", q.body);
    assert_eq!(d["late"]["edges"][0]["node"]["id"], theirs["id"]);
    assert_eq!(d["onTime"]["totalCount"], 1);
    assert_eq!(d["onTime"]["edges"][0]["node"]["id"], mine["id"]);
    assert_eq!(d["planned"]["totalCount"], 1);
    let r = readiness(&app, &f, isms).await;
    assert!(!state(&r, "nonconformities").approved, "one is overdue");

    // The contributor edits its own, not the manager's.
    let p = ok(
        &app,
        contrib,
        "updateNonconformity",
        UPDATE_NC,
        json!({ "i": { "id": mine["id"], "rootCause": "No device register",
                 "correctiveAction": "Encrypt all removable media" } }),
    )
    .await;
    assert_eq!(p["nonconformity"]["status"], "ACTION_PLANNED");
    let before = node(&app, owner, &theirs["id"], REVIEW_FIELDS).await;
    let p = app
        .gql(
            contrib,
            None,
            UPDATE_NC,
            json!({ "i": { "id": theirs["id"], "title": "Mine now" } }),
        )
        .await;
    assert_eq!(p.code(), Some("FORBIDDEN"));
    // It cannot verify or close anything; auditors and viewers change nothing.
    for token in [contrib, f.token("auditor"), f.token("viewer")] {
        for (q, v) in [
            (
                VERIFY_NC,
                json!({ "i": { "id": mine["id"], "verifiedOn": day(today()), "effective": true } }),
            ),
            (CLOSE_NC, json!({ "id": mine["id"] })),
        ] {
            assert_eq!(top_code(&app, token, q, v).await, "FORBIDDEN");
        }
    }
    for token in [f.token("auditor"), f.token("viewer")] {
        assert_eq!(
            top_code(
                &app,
                token,
                UPDATE_NC,
                json!({ "i": { "id": mine["id"], "title": "x" } })
            )
            .await,
            "FORBIDDEN"
        );
        assert_eq!(
            top_code(
                &app,
                token,
                CREATE_NC,
                json!({ "i": { "ismsId": isms_id, "source": "OTHER", "title": "x" } })
            )
            .await,
            "FORBIDDEN"
        );
    }
    assert_eq!(
        node(&app, owner, &theirs["id"], REVIEW_FIELDS).await,
        before
    );

    // Closing without a verification is refused, and changes nothing.
    let before = node(&app, owner, &mine["id"], REVIEW_FIELDS).await;
    let p = run(
        &app,
        cm,
        "closeNonconformity",
        CLOSE_NC,
        json!({ "id": mine["id"] }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "verification"])
    );
    assert_eq!(node(&app, owner, &mine["id"], REVIEW_FIELDS).await, before);

    // The owner of an action may not verify it, even as a compliance manager.
    let before = node(&app, owner, &theirs["id"], REVIEW_FIELDS).await;
    let p = run(
        &app,
        cm,
        "verifyNonconformity",
        VERIFY_NC,
        json!({ "i": { "id": theirs["id"], "verifiedOn": day(today()), "effective": true } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("owner"),
        "{p:?}"
    );
    // Nor verify on a future date.
    let p = run(
        &app,
        owner,
        "verifyNonconformity",
        VERIFY_NC,
        json!({ "i": { "id": theirs["id"], "verifiedOn": day(today() + Days::new(1)),
                 "effective": true } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    assert_eq!(
        node(&app, owner, &theirs["id"], REVIEW_FIELDS).await,
        before
    );

    // Verified not effective: no closing; a new action clears the verification.
    let p = ok(
        &app,
        owner,
        "verifyNonconformity",
        VERIFY_NC,
        json!({ "i": { "id": theirs["id"], "verifiedOn": day(yesterday), "effective": false,
                 "note": "Complaints continue" } }),
    )
    .await;
    assert_eq!(p["nonconformity"]["status"], "ACTION_PLANNED");
    assert_eq!(p["nonconformity"]["verifierId"], uid(&f, "owner"));
    let p = run(
        &app,
        owner,
        "closeNonconformity",
        CLOSE_NC,
        json!({ "id": theirs["id"] }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "effective"]));
    ok(
        &app,
        cm,
        "updateNonconformity",
        UPDATE_NC,
        json!({ "i": { "id": theirs["id"], "correctiveAction": "Script and coach the front desk" } }),
    )
    .await;
    let n = node(&app, owner, &theirs["id"], REVIEW_FIELDS).await;
    assert!(
        n["verifiedOn"].is_null() && n["effective"].is_null(),
        "{n:?}"
    );

    // Verified effective by someone else, then closed.
    let p = ok(
        &app,
        owner,
        "verifyNonconformity",
        VERIFY_NC,
        json!({ "i": { "id": theirs["id"], "verifiedOn": day(today()), "effective": true } }),
    )
    .await;
    assert_eq!(p["nonconformity"]["status"], "VERIFYING");
    let p = ok(
        &app,
        owner,
        "closeNonconformity",
        CLOSE_NC,
        json!({ "id": theirs["id"] }),
    )
    .await;
    assert_eq!(p["nonconformity"]["status"], "CLOSED");
    assert!(p["nonconformity"]["closedAt"].is_string());
    let n = node(&app, owner, &theirs["id"], REVIEW_FIELDS).await;
    assert_eq!(n["overdue"], false, "closed ones are never overdue");
    // Closed is closed.
    let p = run(
        &app,
        owner,
        "closeNonconformity",
        CLOSE_NC,
        json!({ "id": theirs["id"] }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");
    let p = run(
        &app,
        cm,
        "updateNonconformity",
        UPDATE_NC,
        json!({ "i": { "id": theirs["id"], "title": "Reopen" } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");
    assert_eq!(node(&app, owner, &theirs["id"], REVIEW_FIELDS).await, n);

    // The contributor's own one: the manager verifies it (not the owner), then closes it.
    ok(
        &app,
        cm,
        "verifyNonconformity",
        VERIFY_NC,
        json!({ "i": { "id": mine["id"], "verifiedOn": day(today()), "effective": true } }),
    )
    .await;
    ok(
        &app,
        cm,
        "closeNonconformity",
        CLOSE_NC,
        json!({ "id": mine["id"] }),
    )
    .await;
    let r = readiness(&app, &f, isms).await;
    assert!(state(&r, "nonconformities").approved, "nothing overdue now");
}

const CREATE_REVIEW: &str =
    "mutation($i: CreateManagementReviewInput!) { createManagementReview(input: $i) {
    managementReview { id status missingInputs } userErrors { field message code } } }";
const UPDATE_REVIEW: &str =
    "mutation($i: UpdateManagementReviewInput!) { updateManagementReview(input: $i) {
    managementReview { id status missingInputs } userErrors { field message code } } }";
const COMPLETE_REVIEW: &str = "mutation($id: ID!) { completeManagementReview(input: {id: $id}) {
    managementReview { id status completedAt } userErrors { field message code } } }";
const ADD_ACTION: &str =
    "mutation($i: AddManagementReviewActionInput!) { addManagementReviewAction(input: $i) {
    action { id title ownerId dueDate doneOn overdue } userErrors { field message code } } }";
const UPDATE_ACTION: &str =
    "mutation($i: UpdateManagementReviewActionInput!) { updateManagementReviewAction(input: $i) {
    action { id doneOn overdue } userErrors { field message code } } }";

async fn review_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (f, isms) = fixture(&app, "acme").await;
    let (owner, cm, contrib) = (f.token("owner"), f.token("cm"), f.token("contrib"));
    let isms_id = global_id("Isms", isms);

    // The list of inputs is 9.3.2's, in clause order.
    let q = app
        .gql(
            contrib,
            None,
            "{ managementReviewInputs { key clause } }",
            json!({}),
        )
        .await;
    let clauses: Vec<&str> = q.data()["managementReviewInputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["clause"].as_str().unwrap())
        .collect();
    assert_eq!(
        clauses,
        [
            "9.3.2 a",
            "9.3.2 b",
            "9.3.2 c",
            "9.3.2 d 1",
            "9.3.2 d 2",
            "9.3.2 d 3",
            "9.3.2 d 4",
            "9.3.2 e",
            "9.3.2 f",
            "9.3.2 g"
        ]
    );

    // Holding a review is the managers' (a contributor may not).
    let vars = json!({ "i": { "ismsId": isms_id, "heldOn": "2024-02-29",
        "chairId": uid(&f, "owner"), "attendees": ["CEO", "CISO", "Head of nursing"],
        "inputs": [
            { "key": "previous-actions", "notes": "First review: none" },
            { "key": "context-changes", "notes": "New telehealth service" },
            { "key": "audit-results", "notes": "One major nonconformity on 9.2.2" } ] } });
    assert_eq!(
        top_code(&app, contrib, CREATE_REVIEW, vars.clone()).await,
        "FORBIDDEN"
    );
    let r = ok(&app, cm, "createManagementReview", CREATE_REVIEW, vars).await;
    let review = r["managementReview"]["id"].clone();
    assert_eq!(r["managementReview"]["status"], "DRAFT");
    let missing = [
        "interested-party-changes",
        "nonconformity-trends",
        "monitoring-results",
        "objectives-fulfilment",
        "interested-party-feedback",
        "risk-results",
        "improvement-opportunities",
    ];
    assert_eq!(r["managementReview"]["missingInputs"], json!(missing));

    // Completing with inputs missing is refused, naming them, and changes nothing.
    let before = read(&app, owner, &review).await;
    let p = run(
        &app,
        owner,
        "completeManagementReview",
        COMPLETE_REVIEW,
        json!({ "id": review }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    let msg = p["userErrors"][0]["message"].as_str().unwrap();
    assert!(
        msg.ends_with(&format!("missing: {}", missing.join(", "))),
        "{msg}"
    );
    assert_eq!(read(&app, owner, &review).await, before);
    // An unknown input is refused too.
    let p = run(
        &app,
        cm,
        "updateManagementReview",
        UPDATE_REVIEW,
        json!({ "i": { "id": review, "inputs": [{ "key": "weather", "notes": "sunny" }] } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    assert_eq!(read(&app, owner, &review).await, before);

    // Every input but no decision: still refused.
    let rest: Vec<Value> = missing
        .iter()
        .map(|k| json!({ "key": k, "notes": format!("considered {k}") }))
        .collect();
    let p = ok(
        &app,
        cm,
        "updateManagementReview",
        UPDATE_REVIEW,
        json!({ "i": { "id": review, "inputs": rest } }),
    )
    .await;
    assert_eq!(p["managementReview"]["missingInputs"], json!([]));
    let p = run(
        &app,
        owner,
        "completeManagementReview",
        COMPLETE_REVIEW,
        json!({ "id": review }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "decisions"]));
    // The contributor cannot complete it either.
    assert_eq!(
        top_code(&app, contrib, COMPLETE_REVIEW, json!({ "id": review })).await,
        "FORBIDDEN"
    );
    ok(
        &app,
        cm,
        "updateManagementReview",
        UPDATE_REVIEW,
        json!({ "i": { "id": review, "decisions": "Fund endpoint encryption; keep the scope" } }),
    )
    .await;
    let p = ok(
        &app,
        owner,
        "completeManagementReview",
        COMPLETE_REVIEW,
        json!({ "id": review }),
    )
    .await;
    assert_eq!(p["managementReview"]["status"], "COMPLETED");
    let p = run(
        &app,
        cm,
        "updateManagementReview",
        UPDATE_REVIEW,
        json!({ "i": { "id": review, "decisions": "Changed" } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");

    // Actions: one the contributor owns (due yesterday: overdue), one the manager owns.
    let yesterday = today() - Days::new(1);
    let a = ok(
        &app,
        cm,
        "addManagementReviewAction",
        ADD_ACTION,
        json!({ "i": { "reviewId": review, "title": "Encrypt laptops",
                 "ownerId": uid(&f, "contrib"), "dueDate": day(yesterday) } }),
    )
    .await["action"]
        .clone();
    assert_eq!(a["overdue"], true);
    let b = ok(
        &app,
        cm,
        "addManagementReviewAction",
        ADD_ACTION,
        json!({ "i": { "reviewId": review, "title": "Budget", "ownerId": uid(&f, "cm"),
                 "dueDate": day(today()) } }),
    )
    .await["action"]
        .clone();
    assert_eq!(b["overdue"], false);
    assert_eq!(
        top_code(
            &app,
            contrib,
            ADD_ACTION,
            json!({ "i": { "reviewId": review, "title": "Mine" } })
        )
        .await,
        "FORBIDDEN"
    );
    let p = app
        .gql(
            contrib,
            None,
            UPDATE_ACTION,
            json!({ "i": { "id": b["id"], "doneOn": day(today()) } }),
        )
        .await;
    assert_eq!(p.code(), Some("FORBIDDEN"));
    let p = run(
        &app,
        contrib,
        "updateManagementReviewAction",
        UPDATE_ACTION,
        json!({ "i": { "id": a["id"], "doneOn": day(today() + Days::new(1)) } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "done in the future");
    let p = ok(
        &app,
        contrib,
        "updateManagementReviewAction",
        UPDATE_ACTION,
        json!({ "i": { "id": a["id"], "doneOn": day(today()) } }),
    )
    .await;
    assert_eq!(p["action"]["overdue"], false);

    let r = read(&app, f.token("auditor"), &review).await;
    assert_eq!(r["__typename"], "ManagementReview");
    assert_eq!(r["heldOn"], "2024-02-29");
    assert_eq!(r["inputs"].as_array().unwrap().len(), 10);
    assert_eq!(r["inputs"][5]["input"]["key"], "audit-results");
    assert_eq!(r["inputs"][5]["notes"], "One major nonconformity on 9.2.2");
    let titles: Vec<&str> = r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Encrypt laptops", "Budget"]);
    let list = app
        .gql(
            owner,
            None,
            "{ managementReviews(status: COMPLETED) { totalCount edges { node { id actions { title } } } }
               drafts: managementReviews(status: DRAFT) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list.data()["managementReviews"]["totalCount"],
        1,
        "{:?}",
        list.body
    );
    assert_eq!(list.data()["drafts"]["totalCount"], 0);
    assert_eq!(
        list.data()["managementReviews"]["edges"][0]["node"]["actions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Readiness: held 2024-02-29, next review twelve months on: 2025-02-28 (no 29th).
    let st = readiness(&app, &f, isms).await;
    assert_eq!(
        *state(&st, "management-review-results"),
        DocumentState {
            present: true,
            approved: true,
            next_review: NaiveDate::from_ymd_opt(2025, 2, 28)
        }
    );
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (f, isms) = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let isms_id = global_id("Isms", isms);
    let totals = "{ auditProgrammes { totalCount } internalAudits { totalCount }
                    nonconformities { totalCount } managementReviews { totalCount } }";
    let snapshot = |v: Value| {
        json!([
            v["auditProgrammes"]["totalCount"],
            v["internalAudits"]["totalCount"],
            v["nonconformities"]["totalCount"],
            v["managementReviews"]["totalCount"]
        ])
    };

    // A period ending before it starts.
    let p = run(
        &app,
        cm,
        "createAuditProgramme",
        PROGRAMME,
        json!({ "i": { "ismsId": isms_id, "title": "Backwards",
                 "periodStart": "2025-12-31", "periodEnd": "2025-01-01" } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "periodEnd"]));
    // An ISMS that does not exist; a title that is blank.
    let p = run(
        &app,
        cm,
        "createAuditProgramme",
        PROGRAMME,
        json!({ "i": { "ismsId": global_id("Isms", Uuid::now_v7()), "title": "x",
                 "periodStart": "2025-01-01", "periodEnd": "2025-12-31" } }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");
    let p = run(
        &app,
        cm,
        "createAuditProgramme",
        PROGRAMME,
        json!({ "i": { "ismsId": isms_id, "title": "  ",
                 "periodStart": "2025-01-01", "periodEnd": "2025-12-31" } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    let t = app.gql(cm, None, totals, json!({})).await;
    assert_eq!(
        snapshot(t.data().clone()),
        json!([0, 0, 0, 0]),
        "{:?}",
        t.body
    );

    let (programme, audit) = running_audit(&app, &f, isms, "contrib").await;
    // The contributor cannot plan a programme; nor change it.
    assert_eq!(
        top_code(
            &app,
            f.token("contrib"),
            PROGRAMME,
            json!({ "i": { "ismsId": isms_id, "title": "x",
                     "periodStart": "2025-01-01", "periodEnd": "2025-12-31" } })
        )
        .await,
        "FORBIDDEN"
    );
    let p = run(
        &app,
        cm,
        "updateAuditProgramme",
        UPDATE_PROGRAMME,
        json!({ "i": { "id": programme, "periodEnd": "2024-12-31" } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    let prog = node(&app, cm, &programme, REVIEW_FIELDS).await;
    assert_eq!(prog["periodEnd"], "2025-12-31");

    // An audit planned to end before it starts.
    let create = audit_mutation("createInternalAudit", "CreateInternalAuditInput");
    let p = run(
        &app,
        cm,
        "createInternalAudit",
        &create,
        json!({ "i": { "programmeId": programme, "title": "Backwards",
                 "plannedStart": "2025-03-02", "plannedEnd": "2025-03-01" } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "plannedEnd"]));
    // A team member who is not a member of the tenant.
    let p = run(
        &app,
        cm,
        "createInternalAudit",
        &create,
        json!({ "i": { "programmeId": programme, "title": "Ghost team",
                 "plannedStart": "2025-03-01", "plannedEnd": "2025-03-02",
                 "auditorIds": [global_id("User", Uuid::now_v7())] } }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND");

    // The running audit: actual dates in the future, an end before the start, completion
    // without the actual end, going back to planned: each refused, nothing changed.
    let before = node(&app, cm, &audit, REVIEW_FIELDS).await;
    let upd = audit_mutation("updateInternalAudit", "UpdateInternalAuditInput");
    let tomorrow = today() + Days::new(1);
    let yesterday = today() - Days::new(1);
    for (input, field) in [
        (json!({ "actualStart": day(tomorrow) }), "actualStart"),
        (json!({ "actualEnd": day(tomorrow) }), "actualEnd"),
        (json!({ "actualEnd": day(yesterday) }), "actualEnd"),
        (
            json!({ "status": "COMPLETED", "conclusion": "Done" }),
            "actualEnd",
        ),
        (json!({ "status": "PLANNED" }), "status"),
        (json!({ "plannedEnd": "2000-01-01" }), "plannedEnd"),
    ] {
        let mut i = input.clone();
        i["id"] = audit.clone();
        let p = run(
            &app,
            f.token("contrib"),
            "updateInternalAudit",
            &upd,
            json!({ "i": i }),
        )
        .await;
        assert_eq!(code(&p), "BAD_USER_INPUT", "{input}: {p:?}");
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", field]),
            "{input}"
        );
        assert_eq!(
            node(&app, cm, &audit, REVIEW_FIELDS).await,
            before,
            "{input}"
        );
    }
    // Another contributor may not change an audit it does not lead.
    assert_eq!(
        top_code(
            &app,
            f.token("other"),
            &upd,
            json!({ "i": { "id": audit, "title": "Mine" } })
        )
        .await,
        "FORBIDDEN"
    );

    // Findings on controls that do not exist, or on something that is not a control.
    let add = finding_mutation();
    for control in [
        json!(global_id("Control", Uuid::now_v7())),
        json!(global_id("Isms", isms)),
        json!("garbage"),
    ] {
        let p = run(
            &app,
            f.token("contrib"),
            "addAuditFinding",
            &add,
            json!({ "i": { "auditId": audit, "kind": "MAJOR_NONCONFORMITY",
                     "controlId": control, "statement": "x" } }),
        )
        .await;
        assert_eq!(code(&p), "NOT_FOUND", "{control}: {p:?}");
        assert_eq!(p["userErrors"][0]["field"], json!(["input", "controlId"]));
    }
    assert_eq!(node(&app, cm, &audit, REVIEW_FIELDS).await, before);
    // A finding on a planned audit.
    let planned = ok(
        &app,
        cm,
        "createInternalAudit",
        &create,
        json!({ "i": { "programmeId": programme, "title": "Later",
                 "plannedStart": "2025-09-01", "plannedEnd": "2025-09-02" } }),
    )
    .await["internalAudit"]["id"]
        .clone();
    let clause = iso_control(&app, cm, "10.2").await;
    let p = run(
        &app,
        cm,
        "addAuditFinding",
        &add,
        json!({ "i": { "auditId": planned, "kind": "OBSERVATION", "controlId": clause,
                 "statement": "Too early" } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT");
    // The auditor on the team still changes nothing.
    assert_eq!(
        top_code(
            &app,
            f.token("auditor"),
            &add,
            json!({ "i": { "auditId": audit, "kind": "OBSERVATION", "controlId": clause,
                     "statement": "x" } })
        )
        .await,
        "FORBIDDEN"
    );
    let t = app.gql(cm, None, totals, json!({})).await;
    assert_eq!(
        snapshot(t.data().clone()),
        json!([1, 2, 0, 0]),
        "{:?}",
        t.body
    );
    // A review with an unknown input is not created.
    let p = run(
        &app,
        cm,
        "createManagementReview",
        CREATE_REVIEW,
        json!({ "i": { "ismsId": isms_id, "heldOn": "2025-01-10",
                 "inputs": [{ "key": "9.3.2 a", "notes": "x" }] } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT");
    let t = app.gql(cm, None, totals, json!({})).await;
    assert_eq!(snapshot(t.data().clone()), json!([1, 2, 0, 0]));
    // Filters with ids of the wrong kind are refused.
    let q = app
        .gql(
            cm,
            None,
            "query($id: ID!) { nonconformities(ismsId: $id) { totalCount } }",
            json!({ "id": programme }),
        )
        .await;
    assert_eq!(q.code(), Some("BAD_USER_INPUT"));
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, isms) = fixture(&app, "alpha").await;
    let (b, b_isms) = fixture(&app, "bravo").await;
    let (programme, audit) = running_audit(&app, &a, isms, "contrib").await;
    let clause = iso_control(&app, a.token("cm"), "9.2.2").await;
    let found = ok(
        &app,
        a.token("contrib"),
        "addAuditFinding",
        &finding_mutation(),
        json!({ "i": { "auditId": audit, "kind": "MINOR_NONCONFORMITY", "controlId": clause,
                 "statement": "Programme not approved" } }),
    )
    .await;
    let nc = found["nonconformity"]["id"].clone();
    let review = ok(
        &app,
        a.token("cm"),
        "createManagementReview",
        CREATE_REVIEW,
        json!({ "i": { "ismsId": global_id("Isms", isms), "heldOn": "2025-01-10" } }),
    )
    .await["managementReview"]["id"]
        .clone();
    let action = ok(
        &app,
        a.token("cm"),
        "addManagementReviewAction",
        ADD_ACTION,
        json!({ "i": { "reviewId": review, "title": "Hire a CISO" } }),
    )
    .await["action"]["id"]
        .clone();
    let ids = [
        programme.clone(),
        audit.clone(),
        found["finding"]["id"].clone(),
        nc.clone(),
        review.clone(),
    ];
    let mut before = Vec::new();
    for id in &ids {
        before.push(node(&app, a.token("owner"), id, REVIEW_FIELDS).await);
    }

    // Bravo's owner sees none of it.
    let bo = b.token("owner");
    for id in &ids {
        assert!(node(&app, bo, id, REVIEW_FIELDS).await.is_null(), "{id}");
    }
    let lists = app
        .gql(
            bo,
            None,
            "query($isms: ID!) { auditProgrammes { totalCount } internalAudits { totalCount }
               nonconformities { totalCount } managementReviews { totalCount }
               byIsms: nonconformities(ismsId: $isms) { totalCount } }",
            json!({ "isms": global_id("Isms", isms) }),
        )
        .await;
    for k in [
        "auditProgrammes",
        "internalAudits",
        "nonconformities",
        "managementReviews",
        "byIsms",
    ] {
        assert_eq!(lists.data()[k]["totalCount"], 0, "{k}: {:?}", lists.body);
    }

    // Nor changes any of it: every mutation answers NOT_FOUND.
    let attempts: Vec<(&str, String, Value)> = vec![
        (
            "createAuditProgramme",
            PROGRAMME.into(),
            json!({ "i": { "ismsId": global_id("Isms", isms), "title": "x",
                     "periodStart": "2025-01-01", "periodEnd": "2025-12-31" } }),
        ),
        (
            "updateAuditProgramme",
            UPDATE_PROGRAMME.into(),
            json!({ "i": { "id": programme, "title": "Hijacked" } }),
        ),
        (
            "createInternalAudit",
            audit_mutation("createInternalAudit", "CreateInternalAuditInput"),
            json!({ "i": { "programmeId": programme, "title": "x",
                     "plannedStart": "2025-01-01", "plannedEnd": "2025-01-02" } }),
        ),
        (
            "updateInternalAudit",
            audit_mutation("updateInternalAudit", "UpdateInternalAuditInput"),
            json!({ "i": { "id": audit, "status": "CANCELLED" } }),
        ),
        (
            "addAuditFinding",
            finding_mutation(),
            json!({ "i": { "auditId": audit, "kind": "OBSERVATION", "controlId": clause,
                     "statement": "x" } }),
        ),
        (
            "createNonconformity",
            CREATE_NC.into(),
            json!({ "i": { "ismsId": global_id("Isms", isms), "source": "OTHER", "title": "x" } }),
        ),
        (
            "updateNonconformity",
            UPDATE_NC.into(),
            json!({ "i": { "id": nc, "title": "Hijacked" } }),
        ),
        (
            "verifyNonconformity",
            VERIFY_NC.into(),
            json!({ "i": { "id": nc, "verifiedOn": day(today()), "effective": true } }),
        ),
        ("closeNonconformity", CLOSE_NC.into(), json!({ "id": nc })),
        (
            "updateManagementReview",
            UPDATE_REVIEW.into(),
            json!({ "i": { "id": review, "decisions": "Hijacked" } }),
        ),
        (
            "completeManagementReview",
            COMPLETE_REVIEW.into(),
            json!({ "id": review }),
        ),
        (
            "addManagementReviewAction",
            ADD_ACTION.into(),
            json!({ "i": { "reviewId": review, "title": "x" } }),
        ),
        (
            "updateManagementReviewAction",
            UPDATE_ACTION.into(),
            json!({ "i": { "id": action, "doneOn": day(today()) } }),
        ),
    ];
    for (name, q, v) in &attempts {
        let p = run(&app, bo, name, q, v.clone()).await;
        assert_eq!(code(&p), "NOT_FOUND", "{name}: {p:?}");
    }
    for (id, was) in ids.iter().zip(&before) {
        assert_eq!(&node(&app, a.token("owner"), id, REVIEW_FIELDS).await, was);
    }
    // Bravo's own ISMS cannot be fed alpha's records either, and its readiness sees nothing.
    let r = readiness(&app, &b, b_isms).await;
    assert!(!state(&r, "audit-programme").present);
    let r = readiness(&app, &b, isms).await;
    assert!(
        !state(&r, "audit-programme").present,
        "alpha's ISMS id in bravo"
    );
    let t = app
        .gql(
            a.token("owner"),
            None,
            "{ auditProgrammes { totalCount } nonconformities { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(t.data()["auditProgrammes"]["totalCount"], 1);
    assert_eq!(t.data()["nonconformities"]["totalCount"], 1);
}
