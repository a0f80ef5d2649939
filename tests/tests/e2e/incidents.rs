//! Incidents and breach notification through the API on both backends (issue 8): the register,
//! the assessment, the counts and the clocks computed by hand; bad input refused with its
//! stable rule code and nothing stored; tenant isolation for every query and mutation; a
//! business associate's notice through the platform, seen only by the covered entity named.
//!
//! The dates are in 2025, a past year whatever the real "today" of the run (2026 or later):
//! every deadline below has passed, so a clock reads met or missed, never due.

use grc_domain::tenancy::Role;
use grc_e2e::gql::{ok, run};
use grc_e2e::{Backend, Fixture, TestApp, both_backends, global_id};
use serde_json::{Value, json};

both_backends! {
    an_incident_runs_its_clocks_through_the_api => happy_path;
    bad_incident_input_is_refused_with_its_rule_and_changes_nothing => bad_input;
    another_tenant_neither_sees_nor_changes_incidents => isolation;
    a_ba_notice_reaches_only_the_covered_entity_named => ba_notice;
}

const ERRS: &str = "userErrors { field message code rule }";

fn create_q() -> String {
    format!(
        "mutation($i: IncidentFieldsInput!) {{ createIncident(input: $i) {{
           incident {{ id status discoveredOn }} {ERRS} }} }}"
    )
}

const INCIDENT_FIELDS: &str = "id title status discoveredOn ephiInvolved affectedTotal
    timeline { kind body }
    breachAssessment { decision decidedOn factors { factor level } }
    breachAssessmentHistory { decision supersededAt }
    affected { total unplaced byJurisdiction { jurisdiction individuals } }
    lawEnforcementDelays { id form statedOn endsOn }
    notifications { recipient sentOn method }
    clocks { kind recipient citation jurisdiction required startsOn dueOn state sentOn daysLate }
    baNotices { id direction noticeOn }";

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
        slug,
        &[
            ("owner", Role::Owner),
            ("cm", Role::ComplianceManager),
            ("contrib", Role::Contributor),
            ("viewer", Role::Viewer),
        ],
    )
    .await
}

fn fields(title: &str, discovered_on: &str) -> Value {
    json!({ "title": title, "severity": "HIGH", "discoveredOn": discovered_on,
            "reporter": "Help desk", "ephiInvolved": true,
            "description": "Misdirected statements" })
}

async fn create(app: &TestApp, token: &str, title: &str, discovered_on: &str) -> Value {
    let p = ok(
        app,
        token,
        "createIncident",
        &create_q(),
        json!({ "i": fields(title, discovered_on) }),
    )
    .await;
    assert_eq!(p["incident"]["status"], "TRIAGE");
    p["incident"]["id"].clone()
}

async fn incident(app: &TestApp, token: &str, id: &Value) -> Value {
    let q = format!("query($id: ID!) {{ incident(id: $id) {{ {INCIDENT_FIELDS} }} }}");
    run(app, token, "incident", &q, json!({ "id": id })).await
}

async fn count(app: &TestApp, token: &str) -> u64 {
    run(
        app,
        token,
        "incidents",
        "{ incidents { totalCount } }",
        json!({}),
    )
    .await["totalCount"]
        .as_u64()
        .unwrap()
}

fn four_factors() -> Value {
    json!([
        { "factor": "NATURE_AND_EXTENT", "level": "MEDIUM", "rationale": "names and dates" },
        { "factor": "UNAUTHORIZED_PERSON", "level": "MEDIUM", "rationale": "another patient" },
        { "factor": "ACQUIRED_OR_VIEWED", "level": "HIGH", "rationale": "opened" },
        { "factor": "MITIGATION", "level": "LOW", "rationale": "returned" }
    ])
}

const ASSESS: &str =
    "mutation($i: RecordBreachAssessmentInput!) { recordBreachAssessment(input: $i) {
    assessment { decision decidedOn } userErrors { field message code rule } } }";
const COUNTS: &str = "mutation($i: SetAffectedCountsInput!) { setAffectedCounts(input: $i) {
    affected { total unplaced byJurisdiction { jurisdiction individuals } }
    userErrors { field message code rule } } }";
const NOTIFY: &str =
    "mutation($i: RecordBreachNotificationInput!) { recordBreachNotification(input: $i) {
    notification { recipient sentOn } userErrors { field message code rule } } }";
const TRANSITION: &str = "mutation($i: TransitionIncidentInput!) { transitionIncident(input: $i) {
    incident { status } userErrors { field message code rule } } }";
const TIMELINE: &str =
    "mutation($i: AddIncidentTimelineEntryInput!) { addIncidentTimelineEntry(input: $i) {
    incident { id } userErrors { field message code rule } } }";
const UPDATE: &str = "mutation($i: UpdateIncidentInput!) { updateIncident(input: $i) {
    incident { id title } userErrors { field message code rule } } }";
const DELAY: &str =
    "mutation($i: AddLawEnforcementDelayInput!) { addLawEnforcementDelay(input: $i) {
    delay { id endsOn } userErrors { field message code rule } } }";
const END_DELAY: &str =
    "mutation($i: EndLawEnforcementDelayInput!) { endLawEnforcementDelay(input: $i) {
    delay { id endsOn } userErrors { field message code rule } } }";
const DELETE: &str = "mutation($i: DeleteIncidentInput!) { deleteIncident(input: $i) {
    deletedId userErrors { field message code rule } } }";
const SEND: &str = "mutation($i: SendBaBreachNoticeInput!) { sendBaBreachNotice(input: $i) {
    notice { id direction noticeOn affectedTotal } userErrors { field message code rule } } }";
const ACCEPT: &str = "mutation($i: AcceptBaBreachNoticeInput!) { acceptBaBreachNotice(input: $i) {
    notice { id acceptedBy discoveryBasis incidentId }
    incident { id discoveredOn ephiInvolved } userErrors { field message code rule } } }";

/// The clock of `kind` in an incident.
fn clock<'a>(inc: &'a Value, kind: &str) -> &'a Value {
    inc["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {inc:?}"))
}

async fn happy_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "clinic").await;
    let contrib = f.token("contrib");
    let cm = f.token("cm");
    let id = create(
        &app,
        contrib,
        "Statements to the wrong patients",
        "2025-12-15",
    )
    .await;

    // Presumed a breach until decided: every clock runs from the discovery.
    let inc = incident(&app, f.token("viewer"), &id).await;
    assert_eq!(inc["discoveredOn"], "2025-12-15");
    assert_eq!(clock(&inc, "INDIVIDUALS")["dueOn"], "2026-02-13");
    assert_eq!(clock(&inc, "INDIVIDUALS")["citation"], "164.404(b)");

    ok(
        &app,
        contrib,
        "addIncidentTimelineEntry",
        TIMELINE,
        json!({ "i": { "incidentId": id, "kind": "ACTION", "body": "Mailing stopped" } }),
    )
    .await;
    let a = ok(
        &app,
        cm,
        "recordBreachAssessment",
        ASSESS,
        json!({ "i": { "incidentId": id, "phiSecurity": "UNSECURED", "factors": four_factors(),
                 "decision": "BREACH", "decidedOn": "2025-12-20", "decidedBy": "Privacy officer" } }),
    )
    .await;
    assert_eq!(a["assessment"]["decision"], "BREACH");
    let c = ok(
        &app,
        contrib,
        "setAffectedCounts",
        COUNTS,
        json!({ "i": { "incidentId": id, "total": 499,
                 "byJurisdiction": [ { "jurisdiction": "CA", "individuals": 300 },
                                     { "jurisdiction": "NV", "individuals": 150 } ] } }),
    )
    .await;
    assert_eq!(c["affected"]["total"], 499);
    assert_eq!(c["affected"]["unplaced"], 49);
    ok(
        &app,
        contrib,
        "recordBreachNotification",
        NOTIFY,
        json!({ "i": { "incidentId": id, "recipient": "INDIVIDUALS", "sentOn": "2026-02-10",
                 "method": "FIRST_CLASS_MAIL", "individuals": 499 } }),
    )
    .await;

    let inc = incident(&app, f.token("viewer"), &id).await;
    assert_eq!(inc["affectedTotal"], 499);
    // Individuals: 2025-12-15 + 60 days = 2026-02-13; sent 2026-02-10, met.
    let ind = clock(&inc, "INDIVIDUALS");
    assert_eq!(ind["required"], true);
    assert_eq!(ind["startsOn"], "2025-12-15");
    assert_eq!(ind["dueOn"], "2026-02-13");
    assert_eq!(ind["state"], "MET");
    assert_eq!(ind["sentOn"], "2026-02-10");
    // Under 500: HHS through the annual log for 2025, due 2025-12-31 + 60 = 2026-03-01; not
    // sent, missed (the run's today is later).
    let hhs = clock(&inc, "HHS");
    assert_eq!(hhs["required"], false);
    assert_eq!(hhs["state"], "NOT_REQUIRED");
    let log = clock(&inc, "HHS_ANNUAL_LOG");
    assert_eq!(log["required"], true);
    assert_eq!(log["citation"], "164.408(c)");
    assert_eq!(log["startsOn"], "2025-12-31");
    assert_eq!(log["dueOn"], "2026-03-01");
    assert_eq!(log["state"], "MISSED");
    assert_eq!(log["recipient"], "HHS");
    // Media per State: 300 and 150 residents, none above 500: not required.
    let media: Vec<&Value> = inc["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "MEDIA")
        .collect();
    assert_eq!(media.len(), 2);
    assert!(media.iter().all(|m| m["state"] == "NOT_REQUIRED"));
    assert_eq!(media[0]["citation"], "164.406(b)");

    // The log sent to HHS on 2026-02-20: met.
    ok(
        &app,
        contrib,
        "recordBreachNotification",
        NOTIFY,
        json!({ "i": { "incidentId": id, "recipient": "HHS", "sentOn": "2026-02-20",
                 "method": "HHS_PORTAL" } }),
    )
    .await;
    let inc = incident(&app, f.token("viewer"), &id).await;
    assert_eq!(clock(&inc, "HHS_ANNUAL_LOG")["state"], "MET");
    let kinds: Vec<&str> = inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for k in ["action", "assessment", "counts", "notification"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }

    // A law-enforcement delay recorded and ended.
    let d = ok(
        &app,
        contrib,
        "addLawEnforcementDelay",
        DELAY,
        json!({ "i": { "incidentId": id, "form": "WRITTEN", "statedOn": "2025-12-18",
                 "endsOn": "2026-01-10", "agency": "FBI", "official": "Agent Smith" } }),
    )
    .await;
    let e = ok(
        &app,
        contrib,
        "endLawEnforcementDelay",
        END_DELAY,
        json!({ "i": { "id": d["delay"]["id"], "endsOn": "2026-01-05" } }),
    )
    .await;
    assert_eq!(e["delay"]["endsOn"], "2026-01-05");

    // Forward through the lifecycle to closed.
    let t = ok(
        &app,
        contrib,
        "transitionIncident",
        TRANSITION,
        json!({ "i": { "id": id, "status": "CLOSED", "note": "done" } }),
    )
    .await;
    assert_eq!(t["incident"]["status"], "CLOSED");
    let l = run(
        &app,
        f.token("viewer"),
        "incidents",
        "{ incidents(filter: {status: CLOSED}) { totalCount edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(l["totalCount"], 1);

    // A viewer writes nothing; only a compliance judge deletes.
    let a = app
        .gql(
            f.token("viewer"),
            None,
            &create_q(),
            json!({ "i": fields("x", "2025-12-01") }),
        )
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    let a = app
        .gql(contrib, None, DELETE, json!({ "i": { "id": id } }))
        .await;
    assert_eq!(a.code(), Some("FORBIDDEN"));
    // An incident with notices recorded is kept (the store's foreign keys refuse it); a fresh
    // one is deleted.
    let e = refused(
        &app,
        cm,
        "deleteIncident",
        DELETE,
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(e["code"], "CONFLICT");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("closed, not deleted")),
        "{e}"
    );
    assert_eq!(count(&app, cm).await, 1);
    let fresh = create(&app, contrib, "Duplicate report", "2025-12-16").await;
    let p = ok(
        &app,
        cm,
        "deleteIncident",
        DELETE,
        json!({ "i": { "id": fresh } }),
    )
    .await;
    assert_eq!(p["deletedId"], fresh);
    assert_eq!(count(&app, cm).await, 1);
}

/// Runs a mutation that must answer with one user error; that error.
async fn refused(app: &TestApp, token: &str, name: &str, q: &str, vars: Value) -> Value {
    let p = run(app, token, name, q, vars).await;
    let errs = p["userErrors"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{name}: {p:?}");
    errs[0].clone()
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "clinic").await;
    let cm = f.token("cm");

    // Discovery in the future.
    let e = refused(
        &app,
        cm,
        "createIncident",
        &create_q(),
        json!({ "i": fields("Later", "2099-01-01") }),
    )
    .await;
    assert_eq!(e["code"], "BAD_USER_INPUT");
    assert_eq!(e["rule"], "discovery-in-future");
    assert_eq!(e["field"], json!(["input", "discoveredOn"]));
    assert_eq!(count(&app, cm).await, 0);

    let id = create(&app, cm, "Lost laptop", "2025-12-15").await;
    let before = incident(&app, cm, &id).await;

    // A notice before the discovery.
    let e = refused(
        &app,
        cm,
        "recordBreachNotification",
        NOTIFY,
        json!({ "i": { "incidentId": id, "recipient": "INDIVIDUALS", "sentOn": "2025-12-01",
                 "method": "EMAIL" } }),
    )
    .await;
    assert_eq!(e["rule"], "notification-before-discovery");
    assert_eq!(e["field"], json!(["input", "sentOn"]));

    // A "low probability" decision without the four factors.
    let e = refused(
        &app,
        cm,
        "recordBreachAssessment",
        ASSESS,
        json!({ "i": { "incidentId": id, "phiSecurity": "UNSECURED", "factors": [],
                 "decision": "LOW_PROBABILITY", "rationale": "encrypted, probably",
                 "decidedOn": "2025-12-20", "decidedBy": "Privacy officer" } }),
    )
    .await;
    assert_eq!(e["rule"], "factors-missing");
    assert_eq!(e["field"], json!(["input", "factors"]));

    // A total below the per-State sum.
    let e = refused(
        &app,
        cm,
        "setAffectedCounts",
        COUNTS,
        json!({ "i": { "incidentId": id, "total": 10,
                 "byJurisdiction": [ { "jurisdiction": "CA", "individuals": 20 } ] } }),
    )
    .await;
    assert_eq!(e["rule"], "count-below-state-sum");
    assert_eq!(e["field"], json!(["input", "affected", "total"]));

    // A move back from an open status is a conflict with its rule.
    ok(
        &app,
        cm,
        "transitionIncident",
        TRANSITION,
        json!({ "i": { "id": id, "status": "CONTAINED" } }),
    )
    .await;
    let e = refused(
        &app,
        cm,
        "transitionIncident",
        TRANSITION,
        json!({ "i": { "id": id, "status": "TRIAGE" } }),
    )
    .await;
    assert_eq!(e["code"], "CONFLICT");
    assert_eq!(e["rule"], "invalid-transition");

    // Nothing of the refused changes was stored.
    let after = incident(&app, cm, &id).await;
    assert_eq!(after["notifications"], before["notifications"]);
    assert!(after["breachAssessment"].is_null());
    assert!(after["affected"].is_null());
    assert_eq!(after["notifications"], json!([]));
    assert_eq!(count(&app, cm).await, 1);
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "bravo").await;
    let ac = a.token("cm");
    let bc = b.token("cm");
    let id = create(&app, ac, "Alpha's incident", "2025-12-15").await;
    let d = ok(
        &app,
        ac,
        "addLawEnforcementDelay",
        DELAY,
        json!({ "i": { "incidentId": id, "form": "ORAL", "statedOn": "2025-12-18",
                 "agency": "FBI", "official": "Agent Smith" } }),
    )
    .await["delay"]["id"]
        .clone();
    let before = incident(&app, ac, &id).await;

    // Bravo sees nothing.
    let q = format!("query($id: ID!) {{ incident(id: $id) {{ {INCIDENT_FIELDS} }} }}");
    assert!(
        run(&app, bc, "incident", &q, json!({ "id": id }))
            .await
            .is_null()
    );
    assert_eq!(count(&app, bc).await, 0);
    let n = run(
        &app,
        bc,
        "baNotices",
        "{ baNotices(received: true) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(n["edges"], json!([]));

    // Bravo changes nothing: every mutation on Alpha's incident is not found.
    let evidence = json!(global_id("Evidence", uuid::Uuid::now_v7()));
    let attempts: Vec<(&str, String, Value)> = vec![
        (
            "updateIncident",
            UPDATE.into(),
            json!({ "i": { "id": id, "fields": fields("Taken", "2025-12-15") } }),
        ),
        (
            "transitionIncident",
            TRANSITION.into(),
            json!({ "i": { "id": id, "status": "CONTAINED" } }),
        ),
        (
            "addIncidentTimelineEntry",
            TIMELINE.into(),
            json!({ "i": { "incidentId": id, "kind": "NOTE", "body": "x" } }),
        ),
        (
            "linkIncidentEvidence",
            "mutation($i: IncidentEvidenceInput!) { linkIncidentEvidence(input: $i) {
               changed userErrors { field message code rule } } }"
                .into(),
            json!({ "i": { "incidentId": id, "evidenceId": evidence } }),
        ),
        (
            "unlinkIncidentEvidence",
            "mutation($i: IncidentEvidenceInput!) { unlinkIncidentEvidence(input: $i) {
               changed userErrors { field message code rule } } }"
                .into(),
            json!({ "i": { "incidentId": id, "evidenceId": evidence } }),
        ),
        (
            "recordBreachAssessment",
            ASSESS.into(),
            json!({ "i": { "incidentId": id, "phiSecurity": "UNSECURED", "factors": four_factors(),
                     "decision": "BREACH", "decidedOn": "2025-12-20", "decidedBy": "x" } }),
        ),
        (
            "setAffectedCounts",
            COUNTS.into(),
            json!({ "i": { "incidentId": id, "total": 5 } }),
        ),
        (
            "addLawEnforcementDelay",
            DELAY.into(),
            json!({ "i": { "incidentId": id, "form": "ORAL", "statedOn": "2025-12-18",
                     "agency": "x", "official": "y" } }),
        ),
        (
            "endLawEnforcementDelay",
            END_DELAY.into(),
            json!({ "i": { "id": d, "endsOn": "2025-12-20" } }),
        ),
        (
            "recordBreachNotification",
            NOTIFY.into(),
            json!({ "i": { "incidentId": id, "recipient": "INDIVIDUALS", "sentOn": "2026-01-10",
                     "method": "EMAIL" } }),
        ),
        (
            "sendBaBreachNotice",
            SEND.into(),
            json!({ "i": { "incidentId": id, "coveredEntityTenantId": global_id("Tenant", a.tenant.id.0),
                     "noticeOn": "2026-01-10", "method": "PLATFORM", "summary": "x" } }),
        ),
        (
            "acceptBaBreachNotice",
            ACCEPT.into(),
            json!({ "i": { "id": global_id("BaBreachNotice", uuid::Uuid::now_v7()),
                     "relation": "AGENT", "fields": fields("x", "2025-12-15") } }),
        ),
        (
            "deleteIncident",
            DELETE.into(),
            json!({ "i": { "id": id } }),
        ),
    ];
    for (name, q, vars) in attempts {
        let e = refused(&app, bc, name, &q, vars).await;
        assert_eq!(e["code"], "NOT_FOUND", "{name}: {e:?}");
    }
    // Alpha's incident is as it was.
    assert_eq!(incident(&app, ac, &id).await, before);
}

async fn ba_notice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let clinic = fixture(&app, "clinic").await;
    let cloud = fixture(&app, "cloudco").await;
    let third = fixture(&app, "third").await;

    // The clinic (covered entity) lists CloudCo as a vendor and connects with it.
    let vendor = ok(
        &app,
        clinic.token("cm"),
        "createVendor",
        "mutation($i: CreateVendorInput!) { createVendor(input: $i) {
           vendor { id } userErrors { field message code } } }",
        json!({ "i": { "name": "CloudCo", "tier": 1, "ephiAccess": "FULL" } }),
    )
    .await["vendor"]["id"]
        .clone();
    let c = ok(
        &app,
        clinic.token("cm"),
        "inviteConnection",
        "mutation($i: InviteConnectionInput!) { inviteConnection(input: $i) {
           connection { id } userErrors { field message code } } }",
        json!({ "i": { "vendorId": vendor, "providerSlug": "cloudco", "message": "link" } }),
    )
    .await["connection"]["id"]
        .clone();
    let c = ok(
        &app,
        cloud.token("owner"),
        "answerConnection",
        "mutation($i: AnswerConnectionInput!) { answerConnection(input: $i) {
           connection { id status } userErrors { field message code } } }",
        json!({ "i": { "connectionId": c, "accept": true } }),
    )
    .await;
    assert_eq!(c["connection"]["status"], "ACTIVE");

    // CloudCo's incident and its notice to the clinic.
    let inc = create(&app, cloud.token("cm"), "Bucket left open", "2025-12-10").await;
    let clinic_id = global_id("Tenant", clinic.tenant.id.0);
    // Not to a tenant it is not connected with.
    let e = refused(
        &app,
        cloud.token("cm"),
        "sendBaBreachNotice",
        SEND,
        json!({ "i": { "incidentId": inc, "coveredEntityTenantId": global_id("Tenant", third.tenant.id.0),
                 "noticeOn": "2025-12-20", "method": "PLATFORM", "summary": "Records exposed" } }),
    )
    .await;
    assert_eq!(e["code"], "NOT_FOUND");
    let sent = ok(
        &app,
        cloud.token("cm"),
        "sendBaBreachNotice",
        SEND,
        json!({ "i": { "incidentId": inc, "coveredEntityTenantId": clinic_id,
                 "noticeOn": "2025-12-20", "method": "PLATFORM", "summary": "Records exposed",
                 "affectedTotal": 120 } }),
    )
    .await;
    assert_eq!(sent["notice"]["direction"], "SENT");

    let list = "query($r: Boolean!) { baNotices(received: $r) { edges { node {
        id direction noticeOn affectedTotal peerTenantId baDiscoveredOn vendorId } } } }";
    let nodes = |v: &Value| v["edges"].as_array().unwrap().clone();
    // The sender's receipt.
    let s = run(
        &app,
        cloud.token("viewer"),
        "baNotices",
        list,
        json!({ "r": false }),
    )
    .await;
    assert_eq!(nodes(&s).len(), 1);
    assert_eq!(nodes(&s)[0]["node"]["peerTenantId"], clinic_id);
    // The clinic's copy, naming its vendor record.
    let r = run(
        &app,
        clinic.token("viewer"),
        "baNotices",
        list,
        json!({ "r": true }),
    )
    .await;
    assert_eq!(nodes(&r).len(), 1);
    let received = nodes(&r)[0]["node"].clone();
    assert_eq!(received["baDiscoveredOn"], "2025-12-10");
    assert_eq!(received["affectedTotal"], 120);
    assert_eq!(received["vendorId"], vendor);
    // The third tenant sees nothing.
    for rec in [true, false] {
        let t = run(
            &app,
            third.token("viewer"),
            "baNotices",
            list,
            json!({ "r": rec }),
        )
        .await;
        assert_eq!(nodes(&t).len(), 0);
    }
    // The notice is among the sender's notices and on its incident.
    let sender_inc = incident(&app, cloud.token("cm"), &inc).await;
    assert_eq!(sender_inc["baNotices"].as_array().unwrap().len(), 1);
    assert!(
        sender_inc["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["recipient"] == "COVERED_ENTITY")
    );

    // The clinic accepts it: as the business associate is its agent, the discovery is the
    // business associate's.
    let acc = ok(
        &app,
        clinic.token("cm"),
        "acceptBaBreachNotice",
        ACCEPT,
        json!({ "i": { "id": received["id"], "relation": "AGENT",
                 "fields": fields("CloudCo bucket", "2025-12-25") } }),
    )
    .await;
    assert_eq!(acc["incident"]["discoveredOn"], "2025-12-10");
    assert_eq!(acc["incident"]["ephiInvolved"], true);
    assert_eq!(acc["notice"]["discoveryBasis"], "agent-knowledge");
    let ce_inc = incident(&app, clinic.token("viewer"), &acc["incident"]["id"]).await;
    assert_eq!(clock(&ce_inc, "INDIVIDUALS")["dueOn"], "2026-02-08");
    // Accepting twice is a conflict.
    let e = refused(
        &app,
        clinic.token("cm"),
        "acceptBaBreachNotice",
        ACCEPT,
        json!({ "i": { "id": received["id"], "relation": "AGENT",
                 "fields": fields("again", "2025-12-25") } }),
    )
    .await;
    assert_eq!(e["code"], "CONFLICT");
    // The clinic's audit trail records the notice received.
    let ev = run(
        &app,
        clinic.token("owner"),
        "auditEvents",
        "{ auditEvents(first: 50) { edges { node { action } } } }",
        json!({}),
    )
    .await;
    let actions: Vec<String> = ev["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.iter().any(|a| a == "incident.ba_notice.received"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "incident.ba_notice.accept"));
}
