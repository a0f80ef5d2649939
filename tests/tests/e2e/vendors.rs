//! Vendor register through the API on both backends: vendors and their filters, subcontractor
//! chains with cycles refused, attestation validity (SOC 2 with and without a bridge letter,
//! HITRUST r2's interim window, a penetration test), vendor compliance per vendor and
//! tenant-wide on chosen dates, bad input that changes nothing, the role matrix, and tenant
//! isolation for every query, mutation and node kind.

use grc_domain::tenancy::Role;
use grc_e2e::gql::{code, ok, run, top_code};
use grc_e2e::{Backend, Fixture, TestApp, both_backends, global_id};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

both_backends! {
    vendors_are_registered_filtered_and_chained_without_cycles => vendor_flow;
    attestation_validity_follows_the_rules => attestation_validity;
    vendor_compliance_is_computed_on_any_date => compliance;
    a_2013_certificate_lapses_in_every_view => transition_2013;
    bad_vendor_input_is_refused_and_changes_nothing => bad_input;
    vendor_roles_are_enforced => roles;
    another_tenant_neither_sees_nor_changes_vendors => isolation;
}

/// A query that must succeed; its data.
async fn read(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let a = app.gql(token, None, query, vars).await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data().clone()
}

const CREATE_VENDOR: &str = "mutation($i: CreateVendorInput!) { createVendor(input: $i) {
    vendor { id name tier ephiAccess status ownerId services contacts { name email role } }
    userErrors { field message code } } }";
const UPDATE_VENDOR: &str = "mutation($i: UpdateVendorInput!) { updateVendor(input: $i) {
    vendor { id name tier status legalName } userErrors { field message code } } }";
const DELETE_VENDOR: &str = "mutation($id: ID!) { deleteVendor(input: {id: $id}) {
    deletedVendorId userErrors { field message code } } }";
const ADD_SUB: &str = "mutation($v: ID!, $s: ID!, $service: String) {
    addSubcontractor(input: {vendorId: $v, subcontractorId: $s, service: $service}) {
    vendor { id subcontractors { vendor { name } service } } userErrors { field message code } } }";
const REMOVE_SUB: &str = "mutation($v: ID!, $s: ID!) {
    removeSubcontractor(input: {vendorId: $v, subcontractorId: $s}) {
    vendor { id } userErrors { field message code } } }";
const CREATE_ATT: &str = "mutation($i: CreateAttestationInput!) { createAttestation(input: $i) {
    attestation { id kind validity: status(on: \"2025-06-01\") { status validUntil } }
    userErrors { field message code } } }";
const UPDATE_ATT: &str = "mutation($i: UpdateAttestationInput!) { updateAttestation(input: $i) {
    attestation { id title } userErrors { field message code } } }";
const DELETE_ATT: &str = "mutation($id: ID!) { deleteAttestation(input: {id: $id}) {
    deletedAttestationId userErrors { field message code } } }";
const CREATE_BAA: &str = "mutation($i: CreateBaaInput!) { createBaa(input: $i) {
    baa { id missingTerms inEffect(on: \"2025-06-01\") lastDay } userErrors { field message code } } }";
const UPDATE_BAA: &str = "mutation($i: UpdateBaaInput!) { updateBaa(input: $i) {
    baa { id title } userErrors { field message code } } }";
const DELETE_BAA: &str = "mutation($id: ID!) { deleteBaa(input: {id: $id}) {
    deletedBaaId userErrors { field message code } } }";
const SET_POLICY: &str = "mutation($i: SetVendorPolicyInput!) { setVendorPolicy(input: $i) {
    vendorPolicy { isDefault expiringWindowDays soc2CurrentMonths tiers { tier requirements { anyOf } } }
    userErrors { field message code } } }";

/// Every required BAA term marked present, but those in `missing`.
fn terms_but(missing: &[&str]) -> Value {
    let keys = [
        "permitted-uses",
        "no-other-use",
        "safeguards",
        "report-disclosures",
        "subcontractors",
        "access",
        "amendment",
        "accounting",
        "subpart-e-obligations",
        "books-and-records",
        "return-or-destroy",
        "termination",
        "security-rule",
        "security-subcontractors",
        "security-incidents",
    ];
    Value::Array(
        keys.iter()
            .map(|k| json!({ "key": k, "present": !missing.contains(k) }))
            .collect(),
    )
}

async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    app.tenant(
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
    .await
}

/// Creates a vendor; its id.
async fn vendor(app: &TestApp, token: &str, name: &str, tier: i32, ephi: &str) -> Value {
    let p = ok(
        app,
        token,
        "createVendor",
        CREATE_VENDOR,
        json!({ "i": { "name": name, "tier": tier, "ephiAccess": ephi,
                 "services": ["hosting"],
                 "contacts": [{ "name": "Sam Lee", "email": "sam@example.com", "role": "security" }] } }),
    )
    .await;
    p["vendor"]["id"].clone()
}

/// Creates an attestation; its id.
async fn attest(app: &TestApp, token: &str, input: Value) -> Value {
    ok(
        app,
        token,
        "createAttestation",
        CREATE_ATT,
        json!({ "i": input }),
    )
    .await["attestation"]["id"]
        .clone()
}

fn soc2(vendor: &Value, start: &str, end: &str, issued: &str) -> Value {
    json!({ "vendorId": vendor, "kind": "SOC2_TYPE2", "title": "SOC 2 Type II",
            "issuer": "Audit LLP", "periodStart": start, "periodEnd": end, "issuedOn": issued,
            "opinion": "UNMODIFIED" })
}

async fn node(app: &TestApp, token: &str, id: &Value) -> Value {
    read(
        app,
        token,
        "query($id: ID!) { node(id: $id) { __typename
           ... on Vendor { id name tier status }
           ... on Attestation { id title kind issuedOn }
           ... on Baa { id title effectiveOn missingTerms } } }",
        json!({ "id": id }),
    )
    .await["node"]
        .clone()
}

/// Validity of an attestation on a date: (status, validUntil).
async fn validity(app: &TestApp, token: &str, id: &Value, on: &str) -> (String, Value) {
    let n = read(
        app,
        token,
        "query($id: ID!, $on: NaiveDate!) { node(id: $id) { ... on Attestation {
           status(on: $on) { status validUntil } } } }",
        json!({ "id": id, "on": on }),
    )
    .await;
    let s = &n["node"]["status"];
    (
        s["status"].as_str().unwrap_or("").to_owned(),
        s["validUntil"].clone(),
    )
}

/// Uploads a small PDF as evidence; its id.
async fn evidence(app: &TestApp, token: &str) -> Value {
    let query = "mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) {
        evidence { id } userErrors { message } } }";
    let operations = json!({ "query": query, "variables": { "input": {
        "title": "SOC 2 report", "effectiveDate": "2025-02-15", "file": null } } });
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.extend((0u16..300).map(|i| (i % 251) as u8));
    bytes.extend_from_slice(b"\n%%EOF\n");
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            Part::bytes(bytes)
                .file_name("soc2.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let a = TestApp::answer(resp).await;
    let id = a.data()["uploadEvidence"]["evidence"]["id"].clone();
    assert!(id.is_string(), "{:?}", a.body);
    id
}

/// Writes at least one row in each of this feature's tables (vendors, subcontractor links,
/// the policy, attestations, BAAs), through the API, as the tenant whose owner token is given.
pub async fn populate(app: &TestApp, token: &str) {
    let a = vendor(app, token, "Populate Cloud", 1, "FULL").await;
    let b = vendor(app, token, "Populate Backup", 2, "NONE").await;
    ok(
        app,
        token,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": a, "s": b, "service": "backup" }),
    )
    .await;
    ok(
        app,
        token,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "expiringWindowDays": 45 } }),
    )
    .await;
    attest(
        app,
        token,
        soc2(&a, "2025-01-01", "2025-06-30", "2025-08-01"),
    )
    .await;
    ok(
        app,
        token,
        "createBaa",
        CREATE_BAA,
        json!({ "i": { "vendorId": a, "title": "BAA", "effectiveOn": "2025-01-01",
                 "breachNoticeDays": 30, "terms": terms_but(&[]) } }),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------

async fn vendor_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let a = vendor(&app, cm, "Acme Cloud", 1, "FULL").await;
    let b = vendor(&app, cm, "Beta Backup", 2, "LIMITED").await;
    let c = vendor(&app, cm, "Gamma Mail", 3, "NONE").await;
    let d = vendor(&app, cm, "Delta Print", 4, "NONE").await;

    // Filters and search.
    let names = |v: &Value, k: &str| -> Vec<String> {
        v[k]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let l = read(
        &app,
        f.token("viewer"),
        "{ all: vendors { totalCount edges { node { name } } }
           t1: vendors(tier: 1) { totalCount edges { node { name } } }
           none: vendors(ephiAccess: NONE) { totalCount edges { node { name } } }
           ma: vendors(search: \"MA\") { totalCount edges { node { name } } }
           p1: vendors(first: 2) { pageInfo { hasNextPage endCursor } edges { node { name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(l["all"]["totalCount"], 4);
    assert_eq!(names(&l, "t1"), ["Acme Cloud"]);
    assert_eq!(names(&l, "none"), ["Gamma Mail", "Delta Print"]);
    assert_eq!(names(&l, "ma"), ["Gamma Mail"]);
    assert_eq!(names(&l, "p1"), ["Acme Cloud", "Beta Backup"]);
    let after = l["p1"]["pageInfo"]["endCursor"].clone();
    let l2 = read(
        &app,
        cm,
        "query($a: String) { vendors(first: 2, after: $a) { pageInfo { hasNextPage }
           edges { node { name } } } }",
        json!({ "a": after }),
    )
    .await;
    assert_eq!(names(&l2, "vendors"), ["Gamma Mail", "Delta Print"]);

    // A duplicate name is a conflict; offboarding and back.
    let dup = run(
        &app,
        cm,
        "createVendor",
        CREATE_VENDOR,
        json!({ "i": { "name": "Acme Cloud", "tier": 1, "ephiAccess": "FULL" } }),
    )
    .await;
    assert_eq!(code(&dup), "CONFLICT", "{dup:?}");
    let off = ok(
        &app,
        cm,
        "updateVendor",
        UPDATE_VENDOR,
        json!({ "i": { "id": a, "status": "OFFBOARDED", "legalName": "Acme Cloud Inc." } }),
    )
    .await;
    assert_eq!(off["vendor"]["status"], "OFFBOARDED");
    assert_eq!(off["vendor"]["legalName"], "Acme Cloud Inc.");
    let l = read(
        &app,
        cm,
        "{ vendors(status: OFFBOARDED) { totalCount edges { node { name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(names(&l, "vendors"), ["Acme Cloud"]);
    ok(
        &app,
        cm,
        "updateVendor",
        UPDATE_VENDOR,
        json!({ "i": { "id": a, "status": "ACTIVE", "legalName": null } }),
    )
    .await;

    // Subcontractors a → b → c → d: the chain to depth 3.
    for (v, s, service) in [
        (&a, &b, "backup"),
        (&b, &c, "mail relay"),
        (&c, &d, "printing"),
    ] {
        ok(
            &app,
            cm,
            "addSubcontractor",
            ADD_SUB,
            json!({ "v": v, "s": s, "service": service }),
        )
        .await;
    }
    let chain_q = "query($id: ID!) { node(id: $id) { ... on Vendor { name
        subcontractors { vendor { name } service }
        subcontractorChain { vendor { name subcontractorOf { name } } depth }
        subcontractorOf { name } } } }";
    let before = read(&app, cm, chain_q, json!({ "id": a })).await["node"].clone();
    assert_eq!(
        before["subcontractors"],
        json!([{ "vendor": { "name": "Beta Backup" }, "service": "backup" }])
    );
    assert_eq!(
        before["subcontractorChain"],
        json!([
            { "vendor": { "name": "Beta Backup", "subcontractorOf": [{ "name": "Acme Cloud" }] }, "depth": 1 },
            { "vendor": { "name": "Gamma Mail", "subcontractorOf": [{ "name": "Beta Backup" }] }, "depth": 2 },
            { "vendor": { "name": "Delta Print", "subcontractorOf": [{ "name": "Gamma Mail" }] }, "depth": 3 },
        ])
    );
    assert_eq!(before["subcontractorOf"], json!([]));

    // d → a would close d → a → b → c → d; a → a is a cycle of one; a → b exists.
    let cyc = run(
        &app,
        cm,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": d, "s": a }),
    )
    .await;
    assert_eq!(code(&cyc), "BAD_USER_INPUT", "{cyc:?}");
    let msg = cyc["userErrors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("Delta Print → Acme Cloud → Beta Backup → Gamma Mail → Delta Print"),
        "{msg}"
    );
    let selfish = run(
        &app,
        cm,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": a, "s": a }),
    )
    .await;
    assert_eq!(code(&selfish), "BAD_USER_INPUT", "{selfish:?}");
    let again = run(
        &app,
        cm,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": a, "s": b }),
    )
    .await;
    assert_eq!(code(&again), "CONFLICT", "{again:?}");
    // Nothing stored.
    assert_eq!(
        read(&app, cm, chain_q, json!({ "id": a })).await["node"],
        before
    );
    let dn = read(&app, cm, chain_q, json!({ "id": d })).await["node"].clone();
    assert_eq!(dn["subcontractors"], json!([]));

    // A vendor with links cannot be deleted; one without can.
    let del = run(&app, cm, "deleteVendor", DELETE_VENDOR, json!({ "id": b })).await;
    assert_eq!(code(&del), "CONFLICT", "{del:?}");
    let e = vendor(&app, cm, "Epsilon Temp", 4, "NONE").await;
    let del = ok(&app, cm, "deleteVendor", DELETE_VENDOR, json!({ "id": e })).await;
    assert_eq!(del["deletedVendorId"], e);
    assert!(node(&app, cm, &e).await.is_null());

    // Removing c → d shortens a's chain.
    ok(
        &app,
        cm,
        "removeSubcontractor",
        REMOVE_SUB,
        json!({ "v": c, "s": d }),
    )
    .await;
    let gone = run(
        &app,
        cm,
        "removeSubcontractor",
        REMOVE_SUB,
        json!({ "v": c, "s": d }),
    )
    .await;
    assert_eq!(code(&gone), "NOT_FOUND");
    let after = read(&app, cm, chain_q, json!({ "id": a })).await["node"].clone();
    assert_eq!(after["subcontractorChain"].as_array().unwrap().len(), 2);

    // A vendor with an attestation cannot be deleted either.
    attest(&app, cm, soc2(&d, "2025-01-01", "2025-06-30", "2025-08-01")).await;
    let del = run(&app, cm, "deleteVendor", DELETE_VENDOR, json!({ "id": d })).await;
    assert_eq!(code(&del), "CONFLICT", "{del:?}");
}

async fn attestation_validity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let v = vendor(&app, cm, "Acme Cloud", 1, "FULL").await;
    let doc = evidence(&app, cm).await;

    // SOC 2 Type II, period 2024, report 2025-02-15, no bridge: current 12 months after the
    // period end (policy default), i.e. through 2025-12-31; pending before its report date.
    let mut input = soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15");
    input["documentId"] = doc.clone();
    let plain = attest(&app, cm, input).await;
    assert_eq!(validity(&app, cm, &plain, "2025-02-14").await.0, "PENDING");
    assert_eq!(
        validity(&app, cm, &plain, "2025-12-31").await,
        ("VALID".into(), json!("2025-12-31"))
    );
    assert_eq!(validity(&app, cm, &plain, "2026-01-01").await.0, "EXPIRED");
    let n = read(
        &app,
        cm,
        "query($id: ID!) { node(id: $id) { ... on Attestation { bridgeCapped document { id }
           vendor { name } } } }",
        json!({ "id": plain }),
    )
    .await;
    assert_eq!(n["node"]["bridgeCapped"], false);
    assert_eq!(n["node"]["document"]["id"], doc);
    assert_eq!(n["node"]["vendor"]["name"], "Acme Cloud");

    // The same with a bridge letter through 2025-03-31 (3 months, the cap): coverage ends
    // 2025-03-31, current through 2026-03-31.
    let mut input = soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15");
    input["bridgeIssuedOn"] = json!("2025-01-10");
    input["bridgeThrough"] = json!("2025-03-31");
    let bridged = attest(&app, cm, input).await;
    assert_eq!(
        validity(&app, cm, &bridged, "2026-03-31").await,
        ("VALID".into(), json!("2026-03-31"))
    );
    assert_eq!(
        validity(&app, cm, &bridged, "2026-04-01").await.0,
        "EXPIRED"
    );
    // A bridge letter through 2025-05-31 is credited only to 2025-03-31 (capped).
    let mut input = soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15");
    input["bridgeIssuedOn"] = json!("2025-01-10");
    input["bridgeThrough"] = json!("2025-05-31");
    let capped = attest(&app, cm, input).await;
    assert_eq!(validity(&app, cm, &capped, "2026-04-01").await.0, "EXPIRED");
    let n = read(
        &app,
        cm,
        "query($id: ID!) { node(id: $id) { ... on Attestation { bridgeCapped } } }",
        json!({ "id": capped }),
    )
    .await;
    assert_eq!(n["node"]["bridgeCapped"], true);

    // HITRUST r2 certified 2024-03-15: first anniversary 2025-03-15, the interim window the 90
    // days ending on it (15 in March, 28 in February, 31 in January, 16 in December):
    // 2024-12-16 to 2025-03-15. Submitted on the last day: valid the 2 years,
    // through 2026-03-15. One day late: valid only through the anniversary.
    let r2 = |interim: &str| {
        json!({ "vendorId": v, "kind": "HITRUST_R2", "title": "HITRUST r2", "issuer": "HITRUST",
                "issuedOn": "2024-03-15", "interimSubmittedOn": interim })
    };
    let on_time = attest(&app, cm, r2("2025-03-15")).await;
    let late = attest(&app, cm, r2("2025-03-16")).await;
    let q = "query($id: ID!) { node(id: $id) { ... on Attestation { interimInWindow
        interimWindow { opens closes } } } }";
    let n = read(&app, cm, q, json!({ "id": on_time })).await;
    assert_eq!(n["node"]["interimInWindow"], true);
    assert_eq!(
        n["node"]["interimWindow"],
        json!({ "opens": "2024-12-16", "closes": "2025-03-15" })
    );
    assert_eq!(
        validity(&app, cm, &on_time, "2026-03-15").await,
        ("VALID".into(), json!("2026-03-15"))
    );
    assert_eq!(
        validity(&app, cm, &on_time, "2026-03-16").await.0,
        "EXPIRED"
    );
    let n = read(&app, cm, q, json!({ "id": late })).await;
    assert_eq!(n["node"]["interimInWindow"], false);
    assert_eq!(
        validity(&app, cm, &late, "2025-03-15").await,
        ("VALID".into(), json!("2025-03-15"))
    );
    assert_eq!(validity(&app, cm, &late, "2025-03-16").await.0, "EXPIRED");

    // A penetration test of 2025-03-31: valid 12 months (policy default), through 2026-03-31.
    let pen = attest(
        &app,
        cm,
        json!({ "vendorId": v, "kind": "PEN_TEST", "title": "External pen test",
                "issuer": "Red Team Ltd", "issuedOn": "2025-03-31" }),
    )
    .await;
    assert_eq!(
        validity(&app, cm, &pen, "2026-03-31").await,
        ("VALID".into(), json!("2026-03-31"))
    );
    assert_eq!(validity(&app, cm, &pen, "2026-04-01").await.0, "EXPIRED");
    // A policy of 6 months for pen tests: through 2025-09-30.
    ok(
        &app,
        cm,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "penTestMonths": 6 } }),
    )
    .await;
    assert_eq!(
        validity(&app, cm, &pen, "2025-09-30").await,
        ("VALID".into(), json!("2025-09-30"))
    );

    // An ISO certificate from an unrecognized accreditation body: accepted, flagged.
    let iso = attest(
        &app,
        cm,
        json!({ "vendorId": v, "kind": "ISO27001", "title": "ISO/IEC 27001", "issuer": "Cert Co",
                "edition": "2022", "accreditationBody": "XYZ", "issuedOn": "2024-01-10",
                "expiresOn": "2027-01-09", "certificateNumber": "IS 123" }),
    )
    .await;
    let n = read(
        &app,
        cm,
        "query($id: ID!) { node(id: $id) { ... on Attestation { accredited accreditationWarning } } }",
        json!({ "id": iso }),
    )
    .await;
    assert_eq!(n["node"]["accredited"], false);
    assert!(n["node"]["accreditationWarning"].is_string());
    assert_eq!(
        validity(&app, cm, &iso, "2027-01-09").await,
        ("VALID".into(), json!("2027-01-09"))
    );

    // Lists with computed filters.
    let l = read(
        &app,
        cm,
        "query($v: ID!) {
           all: attestations(vendorId: $v) { totalCount }
           soc2: attestations(kind: SOC2_TYPE2) { totalCount }
           valid: attestations(status: VALID, on: \"2026-02-01\") { totalCount }
           soon: attestations(expiringBefore: \"2025-04-01\") { totalCount } }",
        json!({ "v": v }),
    )
    .await;
    assert_eq!(l["all"]["totalCount"], 7);
    assert_eq!(l["soc2"]["totalCount"], 3);
    // On 2026-02-01: bridged and capped SOC 2 (to 2026-03-31), HITRUST on time (2026-03-15),
    // ISO (2027-01-09); the pen test (now 6 months) and the late HITRUST have lapsed.
    assert_eq!(l["valid"]["totalCount"], 4);
    // Valid until before 2025-04-01: the late HITRUST only (2025-03-15).
    assert_eq!(l["soon"]["totalCount"], 1);
}

async fn compliance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    // Default policy: tier 2 needs ISO 27001, SOC 2 Type II, HITRUST r2 or i1; tier 3 also
    // accepts Type I, e1 and a questionnaire; tier 4 needs nothing; ePHI access needs a BAA.
    // Judged on 2025-12-01 with the default 30-day window (to 2025-12-31).
    let valid = vendor(&app, cm, "Valid Co", 2, "NONE").await;
    let expiring = vendor(&app, cm, "Expiring Co", 2, "NONE").await;
    let expired = vendor(&app, cm, "Expired Co", 3, "NONE").await;
    let missing = vendor(&app, cm, "Missing Co", 2, "NONE").await;
    let ephi = vendor(&app, cm, "Ephi Co", 4, "FULL").await;
    let partial = vendor(&app, cm, "Partial BAA Co", 4, "LIMITED").await;
    let full = vendor(&app, cm, "Full BAA Co", 4, "FULL").await;
    let gone = vendor(&app, cm, "Gone Co", 1, "FULL").await;
    // Period to 2025-06-30: current to 2026-06-30, beyond the window: valid.
    attest(
        &app,
        cm,
        soc2(&valid, "2025-01-01", "2025-06-30", "2025-08-01"),
    )
    .await;
    // Period to 2024-12-31: current to 2025-12-31, the window's last day: expiring.
    let exp_att = attest(
        &app,
        cm,
        soc2(&expiring, "2024-01-01", "2024-12-31", "2025-02-15"),
    )
    .await;
    // A questionnaire of 2024-06-30: valid to 2025-06-30: expired.
    attest(
        &app,
        cm,
        json!({ "vendorId": expired, "kind": "QUESTIONNAIRE", "title": "SIG Lite",
                "issuedOn": "2024-06-30" }),
    )
    .await;
    // Partial: a BAA in force without the accounting term; full: every term.
    for (v, miss) in [(&partial, vec!["accounting"]), (&full, vec![])] {
        ok(
            &app,
            cm,
            "createBaa",
            CREATE_BAA,
            json!({ "i": { "vendorId": v, "title": "BAA", "effectiveOn": "2025-01-01",
                     "breachNoticeDays": 30, "subcontractorFlowDown": true,
                     "parties": [{ "name": "Acme Health", "role": "covered entity" }],
                     "terms": terms_but(&miss) } }),
        )
        .await;
    }
    ok(
        &app,
        cm,
        "updateVendor",
        UPDATE_VENDOR,
        json!({ "i": { "id": gone, "status": "OFFBOARDED" } }),
    )
    .await;

    let status_q = "query($id: ID!, $on: NaiveDate) { node(id: $id) { ... on Vendor {
        compliance(on: $on) { status requirements { anyOf state validUntil attestation { id } }
          baa { required state missingTerms validUntil baa { id } } } } } }";
    let st = |v: Value| v["node"]["compliance"].clone();
    let on = json!("2025-12-01");
    let c = st(read(&app, cm, status_q, json!({ "id": valid, "on": on })).await);
    assert_eq!(c["status"], "COMPLIANT");
    assert_eq!(c["requirements"][0]["state"], "VALID");
    assert_eq!(c["requirements"][0]["validUntil"], "2026-06-30");
    let c = st(read(&app, cm, status_q, json!({ "id": expiring, "on": on })).await);
    assert_eq!(c["status"], "AT_RISK");
    assert_eq!(c["requirements"][0]["state"], "EXPIRING");
    assert_eq!(c["requirements"][0]["attestation"]["id"], exp_att);
    let c = st(read(&app, cm, status_q, json!({ "id": expired, "on": on })).await);
    assert_eq!(
        (c["status"].clone(), c["requirements"][0]["state"].clone()),
        (json!("NON_COMPLIANT"), json!("EXPIRED"))
    );
    let c = st(read(&app, cm, status_q, json!({ "id": missing, "on": on })).await);
    assert_eq!(
        (c["status"].clone(), c["requirements"][0]["state"].clone()),
        (json!("NON_COMPLIANT"), json!("MISSING"))
    );
    let c = st(read(&app, cm, status_q, json!({ "id": ephi, "on": on })).await);
    assert_eq!(c["status"], "NON_COMPLIANT");
    assert_eq!(c["requirements"], json!([]));
    assert_eq!(
        (c["baa"]["required"].clone(), c["baa"]["state"].clone()),
        (json!(true), json!("MISSING"))
    );
    let c = st(read(&app, cm, status_q, json!({ "id": partial, "on": on })).await);
    assert_eq!(c["status"], "NON_COMPLIANT");
    assert_eq!(c["baa"]["state"], "VALID");
    assert_eq!(c["baa"]["missingTerms"], json!(["accounting"]));
    let c = st(read(&app, cm, status_q, json!({ "id": full, "on": on })).await);
    assert_eq!(c["status"], "COMPLIANT");
    let c = st(read(&app, cm, status_q, json!({ "id": gone, "on": on })).await);
    assert_eq!(c["status"], "NOT_ASSESSED");
    // A month later the expiring report has expired.
    let c = st(read(
        &app,
        cm,
        status_q,
        json!({ "id": expiring, "on": "2026-01-01" }),
    )
    .await);
    assert_eq!(c["status"], "NON_COMPLIANT");

    // The summary: compliant valid + full; at risk expiring; non-compliant expired, missing,
    // ephi, partial; gone not assessed. Requirements: one each valid, expiring, expired,
    // missing (tier 4 has none).
    let summary_q = "query($on: NaiveDate, $w: Int) { vendorCompliance(on: $on, windowDays: $w) {
        on windowDays vendors compliant atRisk nonCompliant notAssessed ephiWithoutBaa
        baaMissingTerms requirementsValid requirementsExpiring requirementsExpired
        requirementsInvalid requirementsMissing
        byTier { tier vendors compliant atRisk nonCompliant } } }";
    let s = read(
        &app,
        f.token("viewer"),
        summary_q,
        json!({ "on": "2025-12-01" }),
    )
    .await["vendorCompliance"]
        .clone();
    assert_eq!(
        s,
        json!({ "on": "2025-12-01", "windowDays": 30, "vendors": 8, "compliant": 2,
                "atRisk": 1, "nonCompliant": 4, "notAssessed": 1, "ephiWithoutBaa": 1,
                "baaMissingTerms": 1, "requirementsValid": 1, "requirementsExpiring": 1,
                "requirementsExpired": 1, "requirementsInvalid": 0, "requirementsMissing": 1,
                "byTier": [
                    { "tier": 1, "vendors": 1, "compliant": 0, "atRisk": 0, "nonCompliant": 0 },
                    { "tier": 2, "vendors": 3, "compliant": 1, "atRisk": 1, "nonCompliant": 1 },
                    { "tier": 3, "vendors": 1, "compliant": 0, "atRisk": 0, "nonCompliant": 1 },
                    { "tier": 4, "vendors": 3, "compliant": 1, "atRisk": 0, "nonCompliant": 2 },
                ] })
    );
    // With no window, the report valid to 2025-12-31 is simply valid.
    let s =
        read(&app, cm, summary_q, json!({ "on": "2025-12-01", "w": 0 })).await["vendorCompliance"]
            .clone();
    assert_eq!(
        (s["compliant"].clone(), s["atRisk"].clone()),
        (json!(3), json!(0))
    );
    // The compliance filter of the vendor list.
    let l = read(
        &app,
        cm,
        "{ nc: vendors(compliance: NON_COMPLIANT, on: \"2025-12-01\") { totalCount
             edges { node { name } } }
           t2: vendors(compliance: NON_COMPLIANT, on: \"2025-12-01\", tier: 2, first: 1) {
             totalCount pageInfo { hasNextPage } edges { node { name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(l["nc"]["totalCount"], 4);
    assert_eq!(l["t2"]["totalCount"], 1);
    assert_eq!(l["t2"]["edges"][0]["node"]["name"], "Missing Co");

    // A tenant policy: tier 4 now needs a questionnaire, the window is 60 days.
    let p = ok(
        &app,
        cm,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "tiers": [{ "tier": 4, "requirements": [{ "anyOf": ["QUESTIONNAIRE"] }] }],
                 "expiringWindowDays": 60 } }),
    )
    .await;
    assert_eq!(p["vendorPolicy"]["isDefault"], false);
    assert_eq!(
        p["vendorPolicy"]["tiers"][3]["requirements"][0]["anyOf"],
        json!(["QUESTIONNAIRE"])
    );
    let s =
        read(&app, cm, summary_q, json!({ "on": "2025-12-01" })).await["vendorCompliance"].clone();
    // Full BAA Co now misses its questionnaire: compliant is valid only.
    assert_eq!(
        (
            s["windowDays"].clone(),
            s["compliant"].clone(),
            s["requirementsMissing"].clone()
        ),
        (json!(60), json!(1), json!(4))
    );
}

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let v = vendor(&app, cm, "Acme Cloud", 1, "FULL").await;
    let w = vendor(&app, cm, "Beta Backup", 2, "NONE").await;
    ok(
        &app,
        cm,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": v, "s": w }),
    )
    .await;
    let counts_q = "{ vendors { totalCount } attestations { totalCount } baas { totalCount }
        vendorPolicy { isDefault } }";
    let counts = read(&app, cm, counts_q, json!({})).await;

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "createAttestation",
            CREATE_ATT,
            soc2(&v, "2025-01-01", "2024-12-31", "2025-02-15"),
            "periodEnd",
        ),
        (
            "createAttestation",
            CREATE_ATT,
            json!({ "vendorId": v, "kind": "ISO27001", "title": "ISO", "edition": "2022",
                    "issuedOn": "2024-01-10", "expiresOn": "2028-01-11" }),
            "expiresOn",
        ),
        (
            "createAttestation",
            CREATE_ATT,
            json!({ "vendorId": v, "kind": "ISO27001", "title": "ISO", "edition": "2019",
                    "issuedOn": "2024-01-10", "expiresOn": "2027-01-09" }),
            "edition",
        ),
        (
            "createAttestation",
            CREATE_ATT,
            {
                let mut i = soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15");
                i["interimSubmittedOn"] = json!("2025-03-01");
                i
            },
            "interimSubmittedOn",
        ),
        (
            "createAttestation",
            CREATE_ATT,
            json!({ "vendorId": v, "kind": "PEN_TEST", "title": "Pen", "issuedOn": "2025-01-01",
                    "bridgeIssuedOn": "2025-02-01", "bridgeThrough": "2025-03-01" }),
            "bridgeIssuedOn",
        ),
        (
            "createBaa",
            CREATE_BAA,
            json!({ "vendorId": v, "title": "BAA", "effectiveOn": "2025-01-01",
                    "breachNoticeDays": 30, "terms": [{ "key": "be-nice", "present": true }] }),
            "terms",
        ),
        (
            "createBaa",
            CREATE_BAA,
            json!({ "vendorId": v, "title": "BAA", "effectiveOn": "2025-01-01",
                    "breachNoticeDays": 61 }),
            "breachNoticeDays",
        ),
        (
            "createBaa",
            CREATE_BAA,
            json!({ "vendorId": v, "title": "BAA", "effectiveOn": "2025-01-01",
                    "endsOn": "2024-12-31", "breachNoticeDays": 30 }),
            "endsOn",
        ),
        (
            "addSubcontractor",
            ADD_SUB,
            json!({ "v": w, "s": v }),
            "subcontractorId",
        ),
        (
            "setVendorPolicy",
            SET_POLICY,
            json!({ "soc2BridgeMaxMonths": 13 }),
            "soc2BridgeMaxMonths",
        ),
    ];
    for (name, q, input, field) in cases {
        let vars = if name == "addSubcontractor" {
            input
        } else {
            json!({ "i": input })
        };
        let p = run(&app, cm, name, q, vars).await;
        assert_eq!(code(&p), "BAD_USER_INPUT", "{name}: {p:?}");
        assert_eq!(p["userErrors"][0]["field"][1], field, "{name}: {p:?}");
        assert_eq!(
            read(&app, cm, counts_q, json!({})).await,
            counts,
            "{name} changed data"
        );
    }
    // A kind listed twice in a tier's requirement: the error names the input's position (the
    // one tier given, its second requirement), not the tier's number, and nothing is saved.
    let p = run(
        &app,
        cm,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "tiers": [{ "tier": 3, "requirements": [
            { "anyOf": ["QUESTIONNAIRE"] }, { "anyOf": ["PEN_TEST", "PEN_TEST"] }] }] } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "tiers", "0", "requirements", "1"]),
        "{p:?}"
    );
    assert_eq!(read(&app, cm, counts_q, json!({})).await, counts);
    // An ISO expiry 4 years after the issue date is accepted (the most a certificate reissued on
    // an early recertification can run, keeping the old cycle's dates: 17021-1 9.6.3.2.3).
    attest(
        &app,
        cm,
        json!({ "vendorId": v, "kind": "ISO27001", "title": "ISO", "edition": "2022",
                "issuedOn": "2024-01-10", "expiresOn": "2028-01-10" }),
    )
    .await;
    // An update breaking a rule changes nothing either.
    let att = attest(&app, cm, soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15")).await;
    let before = node(&app, cm, &att).await;
    let p = run(
        &app,
        cm,
        "updateAttestation",
        UPDATE_ATT,
        json!({ "i": { "id": att, "title": "Changed", "periodStart": "2025-06-01" } }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "{p:?}");
    assert_eq!(node(&app, cm, &att).await, before);
    // A document that is not an evidence id of the tenant.
    let mut i = soc2(&v, "2024-01-01", "2024-12-31", "2025-02-15");
    i["documentId"] = json!(global_id("Evidence", uuid::Uuid::now_v7()));
    let p = run(&app, cm, "createAttestation", CREATE_ATT, json!({ "i": i })).await;
    assert_eq!(code(&p), "NOT_FOUND", "{p:?}");
}

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm_vendor = vendor(&app, f.token("cm"), "Acme Cloud", 1, "FULL").await;
    let mine = ok(
        &app,
        f.token("contrib"),
        "createVendor",
        CREATE_VENDOR,
        json!({ "i": { "name": "Contrib Co", "tier": 3, "ephiAccess": "NONE" } }),
    )
    .await["vendor"]
        .clone();
    assert_eq!(mine["ownerId"], global_id("User", f.user_ids["contrib"]));
    let mine = mine["id"].clone();

    // Every role reads.
    for who in ["owner", "cm", "contrib", "auditor", "viewer"] {
        let d = read(
            &app,
            f.token(who),
            "{ vendors { totalCount } attestations { totalCount } baas { totalCount }
               vendorPolicy { isDefault } vendorCompliance { vendors } baaTerms { key } }",
            json!({}),
        )
        .await;
        assert_eq!(d["vendors"]["totalCount"], 2, "{who}");
        assert_eq!(d["baaTerms"].as_array().unwrap().len(), 15);
    }
    // The contributor edits its own vendor and its attestations, nothing else.
    ok(
        &app,
        f.token("contrib"),
        "updateVendor",
        UPDATE_VENDOR,
        json!({ "i": { "id": mine, "tier": 2 } }),
    )
    .await;
    let att = attest(
        &app,
        f.token("contrib"),
        soc2(&mine, "2025-01-01", "2025-06-30", "2025-08-01"),
    )
    .await;
    let forbidden: Vec<(&str, &str, String, Value)> = vec![
        (
            "contrib",
            "updateVendor",
            UPDATE_VENDOR.into(),
            json!({ "i": { "id": cm_vendor, "tier": 2 } }),
        ),
        (
            "contrib",
            "deleteVendor",
            DELETE_VENDOR.into(),
            json!({ "id": cm_vendor }),
        ),
        (
            "contrib",
            "createAttestation",
            CREATE_ATT.into(),
            json!({ "i": soc2(&cm_vendor, "2025-01-01", "2025-06-30", "2025-08-01") }),
        ),
        (
            "contrib",
            "addSubcontractor",
            ADD_SUB.into(),
            json!({ "v": cm_vendor, "s": mine }),
        ),
        (
            "contrib",
            "createBaa",
            CREATE_BAA.into(),
            json!({ "i": { "vendorId": cm_vendor, "title": "BAA", "effectiveOn": "2025-01-01",
                    "breachNoticeDays": 30 } }),
        ),
        (
            "other",
            "updateVendor",
            UPDATE_VENDOR.into(),
            json!({ "i": { "id": mine, "tier": 1 } }),
        ),
        (
            "other",
            "updateAttestation",
            UPDATE_ATT.into(),
            json!({ "i": { "id": att, "title": "x" } }),
        ),
        (
            "other",
            "deleteAttestation",
            DELETE_ATT.into(),
            json!({ "id": att }),
        ),
        (
            "contrib",
            "updateVendor",
            UPDATE_VENDOR.into(),
            json!({ "i": { "id": mine, "ownerId": global_id("User", f.user_ids["other"]) } }),
        ),
        (
            "auditor",
            "createVendor",
            CREATE_VENDOR.into(),
            json!({ "i": { "name": "Nope", "tier": 1, "ephiAccess": "NONE" } }),
        ),
        (
            "auditor",
            "updateVendor",
            UPDATE_VENDOR.into(),
            json!({ "i": { "id": mine, "tier": 1 } }),
        ),
        (
            "viewer",
            "createVendor",
            CREATE_VENDOR.into(),
            json!({ "i": { "name": "Nope", "tier": 1, "ephiAccess": "NONE" } }),
        ),
        (
            "viewer",
            "deleteAttestation",
            DELETE_ATT.into(),
            json!({ "id": att }),
        ),
        (
            "contrib",
            "setVendorPolicy",
            SET_POLICY.into(),
            json!({ "i": { "expiringWindowDays": 10 } }),
        ),
        (
            "auditor",
            "setVendorPolicy",
            SET_POLICY.into(),
            json!({ "i": { "expiringWindowDays": 10 } }),
        ),
        (
            "viewer",
            "setVendorPolicy",
            SET_POLICY.into(),
            json!({ "i": { "expiringWindowDays": 10 } }),
        ),
    ];
    for (who, name, q, vars) in &forbidden {
        assert_eq!(
            top_code(&app, f.token(who), q, vars.clone()).await,
            "FORBIDDEN",
            "{who} {name}"
        );
    }
    let d = read(
        &app,
        f.token("owner"),
        "{ vendorPolicy { isDefault expiringWindowDays } attestations { totalCount }
           vendors(tier: 1) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["vendorPolicy"],
        json!({ "isDefault": true, "expiringWindowDays": 30 })
    );
    assert_eq!(d["attestations"]["totalCount"], 1);
    assert_eq!(d["vendors"]["totalCount"], 1);
    // Owners and compliance managers set the policy.
    for who in ["owner", "cm"] {
        let p = ok(
            &app,
            f.token(who),
            "setVendorPolicy",
            SET_POLICY,
            json!({ "i": { "expiringWindowDays": 10 } }),
        )
        .await;
        assert_eq!(p["vendorPolicy"]["expiringWindowDays"], 10);
    }
    // A compliance manager edits the contributor's vendor.
    ok(
        &app,
        f.token("cm"),
        "updateVendor",
        UPDATE_VENDOR,
        json!({ "i": { "id": mine, "tier": 1 } }),
    )
    .await;
}

async fn isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = fixture(&app, "alpha").await;
    let b = fixture(&app, "bravo").await;
    let ac = a.token("cm");
    let va = vendor(&app, ac, "Alpha Cloud", 1, "FULL").await;
    let vb = vendor(&app, ac, "Alpha Backup", 2, "NONE").await;
    ok(
        &app,
        ac,
        "addSubcontractor",
        ADD_SUB,
        json!({ "v": va, "s": vb }),
    )
    .await;
    let doc = evidence(&app, ac).await;
    let mut i = soc2(&va, "2025-01-01", "2025-06-30", "2025-08-01");
    i["documentId"] = doc.clone();
    let att = attest(&app, ac, i).await;
    let agreement = ok(
        &app,
        ac,
        "createBaa",
        CREATE_BAA,
        json!({ "i": { "vendorId": va, "title": "Alpha BAA", "effectiveOn": "2025-01-01",
                 "breachNoticeDays": 30, "terms": terms_but(&[]) } }),
    )
    .await["baa"]["id"]
        .clone();
    ok(
        &app,
        ac,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "expiringWindowDays": 90 } }),
    )
    .await;
    let ids = [va.clone(), vb.clone(), att.clone(), agreement.clone()];
    let mut before = Vec::new();
    for id in &ids {
        before.push(node(&app, a.token("owner"), id).await);
    }
    let lists_q = "query($v: ID!) { vendors { totalCount }
        nc: vendors(compliance: NON_COMPLIANT) { totalCount }
        attestations { totalCount } byVendor: attestations(vendorId: $v) { totalCount }
        valid: attestations(status: VALID) { totalCount }
        baas { totalCount } baasOfVendor: baas(vendorId: $v) { totalCount }
        inEffect: baas(inEffectOn: \"2025-06-01\") { totalCount }
        vendorCompliance { vendors } vendorPolicy { isDefault expiringWindowDays } }";
    let a_lists = read(&app, a.token("owner"), lists_q, json!({ "v": va })).await;

    // Bravo sees none of it.
    let bo = b.token("owner");
    for id in ids.iter().chain([&doc]) {
        assert!(node(&app, bo, id).await.is_null(), "{id}");
    }
    let l = read(&app, bo, lists_q, json!({ "v": va })).await;
    for k in [
        "vendors",
        "nc",
        "attestations",
        "byVendor",
        "valid",
        "baas",
        "baasOfVendor",
        "inEffect",
    ] {
        assert_eq!(l[k]["totalCount"], 0, "{k}: {l:?}");
    }
    assert_eq!(l["vendorCompliance"]["vendors"], 0);
    assert_eq!(
        l["vendorPolicy"],
        json!({ "isDefault": true, "expiringWindowDays": 30 })
    );

    // Nor changes any of it: every mutation answers NOT_FOUND, also with bravo's own vendor.
    let own = vendor(&app, b.token("cm"), "Bravo Own", 1, "FULL").await;
    let attempts: Vec<(&str, &str, Value)> = vec![
        (
            "updateVendor",
            UPDATE_VENDOR,
            json!({ "i": { "id": va, "name": "Hijacked" } }),
        ),
        ("deleteVendor", DELETE_VENDOR, json!({ "id": vb })),
        ("addSubcontractor", ADD_SUB, json!({ "v": own, "s": va })),
        ("addSubcontractor", ADD_SUB, json!({ "v": va, "s": own })),
        (
            "removeSubcontractor",
            REMOVE_SUB,
            json!({ "v": va, "s": vb }),
        ),
        (
            "createAttestation",
            CREATE_ATT,
            json!({ "i": soc2(&va, "2025-01-01", "2025-06-30", "2025-08-01") }),
        ),
        ("createAttestation", CREATE_ATT, {
            let mut i = soc2(&own, "2025-01-01", "2025-06-30", "2025-08-01");
            i["documentId"] = doc.clone();
            json!({ "i": i })
        }),
        (
            "updateAttestation",
            UPDATE_ATT,
            json!({ "i": { "id": att, "title": "Hijacked" } }),
        ),
        ("deleteAttestation", DELETE_ATT, json!({ "id": att })),
        (
            "createBaa",
            CREATE_BAA,
            json!({ "i": { "vendorId": va, "title": "x", "effectiveOn": "2025-01-01",
                     "breachNoticeDays": 30 } }),
        ),
        (
            "updateBaa",
            UPDATE_BAA,
            json!({ "i": { "id": agreement, "title": "Hijacked" } }),
        ),
        ("deleteBaa", DELETE_BAA, json!({ "id": agreement })),
    ];
    for (name, q, v) in &attempts {
        let p = run(&app, bo, name, q, v.clone()).await;
        assert_eq!(code(&p), "NOT_FOUND", "{name}: {p:?}");
    }
    // Bravo's own policy leaves alpha's alone.
    ok(
        &app,
        bo,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "expiringWindowDays": 5 } }),
    )
    .await;
    for (id, was) in ids.iter().zip(&before) {
        assert_eq!(&node(&app, a.token("owner"), id).await, was);
    }
    assert_eq!(
        read(&app, a.token("owner"), lists_q, json!({ "v": va })).await,
        a_lists
    );
    let chain = read(
        &app,
        a.token("owner"),
        "query($id: ID!) { node(id: $id) { ... on Vendor { subcontractors { vendor { name } } } } }",
        json!({ "id": va }),
    )
    .await;
    assert_eq!(
        chain["node"]["subcontractors"],
        json!([{ "vendor": { "name": "Alpha Backup" } }])
    );
}

/// IAF MD 26 (primer §1.5): an ISO/IEC 27001:2013 certificate is invalid after 2025-10-31
/// whatever its printed expiry (2026-01-09 here). The vendor's own compliance, the tenant
/// summary and the compliance filter must agree on both sides of that day.
async fn transition_2013(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app, "acme").await;
    let cm = f.token("cm");
    let v = vendor(&app, cm, "Legacy Certified Co", 2, "NONE").await;
    let att = attest(
        &app,
        cm,
        json!({ "vendorId": v, "kind": "ISO27001", "title": "ISO/IEC 27001:2013",
                "issuer": "Example CB", "accreditationBody": "UKAS", "edition": "2013",
                "issuedOn": "2023-01-10", "expiresOn": "2026-01-09" }),
    )
    .await;
    let q = "query($id: ID!, $att: ID!, $on: NaiveDate) {
        node(id: $id) { ... on Vendor { compliance(on: $on, windowDays: 0) { status requirements { state validUntil } } } }
        a: node(id: $att) { ... on Attestation { status(on: $on) { status validUntil } } }
        vendorCompliance(on: $on, windowDays: 0) { vendors compliant nonCompliant requirementsExpired }
        vendors(compliance: NON_COMPLIANT, on: $on, first: 10) { nodes { id } }
        ok: vendors(compliance: COMPLIANT, on: $on, windowDays: 0, first: 10) {
          nodes { compliance { status } } } }";
    // On 2025-10-30, with no expiring window, the vendor is compliant; the certificate is
    // valid through 2025-10-31 (its last day, when a window of 0 days already calls it
    // expiring).
    let before = read(
        &app,
        cm,
        q,
        json!({ "id": v, "att": att, "on": "2025-10-30" }),
    )
    .await;
    assert_eq!(before["a"]["status"]["status"], "VALID", "{before}");
    assert_eq!(before["a"]["status"]["validUntil"], "2025-10-31");
    assert_eq!(before["node"]["compliance"]["status"], "COMPLIANT");
    assert_eq!(before["vendorCompliance"]["compliant"], 1);
    assert_eq!(before["vendors"]["nodes"], json!([]));
    // The listed vendor's own compliance field is judged on the list's date and window, so it
    // shows what the filter saw (today it would be expired).
    assert_eq!(
        before["ok"]["nodes"],
        json!([{ "compliance": { "status": "COMPLIANT" } }])
    );
    let last = read(
        &app,
        cm,
        q,
        json!({ "id": v, "att": att, "on": "2025-10-31" }),
    )
    .await;
    assert_eq!(last["a"]["status"]["status"], "VALID", "{last}");
    assert_eq!(last["node"]["compliance"]["status"], "AT_RISK");
    // On 2025-11-01 it has lapsed, in every view.
    let after = read(
        &app,
        cm,
        q,
        json!({ "id": v, "att": att, "on": "2025-11-01" }),
    )
    .await;
    assert_eq!(after["a"]["status"]["status"], "EXPIRED", "{after}");
    assert_eq!(after["node"]["compliance"]["status"], "NON_COMPLIANT");
    assert_eq!(
        after["node"]["compliance"]["requirements"][0]["state"],
        "EXPIRED"
    );
    assert_eq!(after["vendorCompliance"]["nonCompliant"], 1);
    assert_eq!(after["vendorCompliance"]["requirementsExpired"], 1);
    assert_eq!(after["vendors"]["nodes"], json!([{ "id": v }]));
    assert_eq!(after["ok"]["nodes"], json!([]));
}
