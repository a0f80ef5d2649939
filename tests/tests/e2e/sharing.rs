//! Sharing between tenants (issue 6) through the API, on both backends: a covered entity (the
//! customer, `clinic`) links its vendor record to the vendor's tenant (the provider, `cloudco`)
//! by an invitation the provider's owner accepts; the provider grants it live access to its
//! certificates, attestations, BAAs and SoA summary. The tests prove that a grantee sees exactly
//! what was granted and nothing else (another artifact, a document under a metadata grant or
//! before the NDA, anything after revocation or expiry, anything through a third tenant), that
//! nothing of the grantee leaks to the owner beyond receipts, that a suspension reaches the
//! customer's vendor record, compliance and outbox in the same request cycle, that an "all ISO
//! certificates" grant covers a certificate recorded later, that receipts carry the SHA-256 of
//! the version read, the access-request flow, bad input refused with nothing stored, and
//! inherited SoA controls.

use chrono::{Days, NaiveDate, Utc};
use grc_domain::tenancy::Role;
use grc_e2e::gql::{code, ok, run, top_code};
use grc_e2e::{Backend, Fixture, TestApp, both_backends, global_id};
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

both_backends! {
    a_connection_is_invited_accepted_by_the_owner_and_ended => connection_flow;
    a_grantee_sees_exactly_what_was_granted => exactly_what_was_granted;
    a_suspension_reaches_the_customer_in_the_same_request_cycle => suspension_propagates;
    an_all_iso_grant_covers_a_certificate_recorded_later => all_iso_certificates;
    receipts_carry_the_sha256_of_the_version_read => receipt_digests;
    access_requests_are_denied_or_approved_with_their_history => access_requests;
    bad_sharing_input_is_refused_and_stores_nothing => bad_input;
    an_inherited_control_rests_on_the_live_soa_share => inherited_controls;
    concurrent_decisions_leave_one_winner => concurrent_decisions;
    a_transitioned_2013_certificate_counts_as_valid_in_compliance => transitioned_2013;
}

// --- Queries and mutations -------------------------------------------------------------------

const CONN_FIELDS: &str = "id status side customer { id slug } provider { id slug }
  peer { id slug name } vendor { id name } message invitedAt respondedAt responseReason
  endedAt endReason";

const ART_FIELDS: &str = "grantId kind id title status validUntil documentAvailable documentClosed";

fn grant_fields() -> String {
    format!(
        "id owner {{ id slug }} grantee {{ id slug }} connectionId artifactKind artifactId access
         expiresAt nda {{ id currentVersion }} ndaAccepted state note revokedAt revokeReason
         requestId artifacts {{ {ART_FIELDS} }}"
    )
}

fn invite_q() -> String {
    format!(
        "mutation($i: InviteConnectionInput!) {{ inviteConnection(input: $i) {{
           connection {{ {CONN_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn answer_q() -> String {
    format!(
        "mutation($i: AnswerConnectionInput!) {{ answerConnection(input: $i) {{
           connection {{ {CONN_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn end_q() -> String {
    format!(
        "mutation($i: EndConnectionInput!) {{ endConnection(input: $i) {{
           connection {{ {CONN_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn grant_q() -> String {
    format!(
        "mutation($i: GrantShareInput!) {{ grantShare(input: $i) {{
           grant {{ {} }} userErrors {{ field message code }} }} }}",
        grant_fields()
    )
}

fn revoke_q() -> String {
    format!(
        "mutation($i: RevokeShareInput!) {{ revokeShare(input: $i) {{
           grant {{ {} }} userErrors {{ field message code }} }} }}",
        grant_fields()
    )
}

const LIST_ARTIFACT: &str = "mutation($i: ListArtifactInput!) { listArtifact(input: $i) {
  listing { id owner { slug } artifactKind artifactId title description }
  userErrors { field message code } } }";

const REQUEST_FIELDS: &str = "id owner { slug } requester { slug } connectionId listingId
  artifactKind artifactId title access message status decidedAt reason grantId
  history { seq action actorTenant { slug } }";

fn request_q() -> String {
    format!(
        "mutation($i: RequestAccessInput!) {{ requestAccess(input: $i) {{
           request {{ {REQUEST_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn approve_q() -> String {
    format!(
        "mutation($i: ApproveAccessRequestInput!) {{ approveAccessRequest(input: $i) {{
           request {{ {REQUEST_FIELDS} }} grant {{ {} }} userErrors {{ field message code }} }} }}",
        grant_fields()
    )
}

fn deny_q() -> String {
    format!(
        "mutation($i: DenyAccessRequestInput!) {{ denyAccessRequest(input: $i) {{
           request {{ {REQUEST_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

const NDA_FIELDS: &str = "id title currentVersion current { version sha256 }
  versions { version sha256 } acceptances { version sha256 grantee { slug } userId }";

fn create_nda_q() -> String {
    format!(
        "mutation($i: CreateNdaInput!) {{ createNda(input: $i) {{
           nda {{ {NDA_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

fn publish_nda_q() -> String {
    format!(
        "mutation($i: PublishNdaVersionInput!) {{ publishNdaVersion(input: $i) {{
           nda {{ {NDA_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

const ACCEPT_NDA: &str = "mutation($i: AcceptNdaInput!) { acceptNda(input: $i) {
  acceptance { id ndaId version sha256 grantee { slug } userId }
  userErrors { field message code } } }";

const VIEW_Q: &str = "query($g: ID!, $a: ID) { sharedArtifact(grantId: $g, artifactId: $a) {
  sha256 receiptId
  artifact { grantId kind id title status validUntil documentAvailable documentClosed }
  certificate { standard certificateNumber status validUntil decisions { kind decidedOn } }
  attestation { kind title status }
  baa { title inEffect }
  soaSummary { ismsName version entries { controlRef applicable status } }
  document { filename mediaType sizeBytes sha256 url } } }";

const RECEIPTS_Q: &str = "query($d: ShareDirection!) { accessReceipts(direction: $d, first: 100) {
  totalCount edges { node { id owner { slug } grantee { slug } grantId artifactKind artifactId
  view sha256 actor userId occurredAt } } } }";

const OUTBOX_Q: &str = "{ outboxEvents(first: 100) { totalCount edges { node {
  id topic source { slug } subjectType subjectId payload createdAt } } } }";

const CREATE_VENDOR: &str = "mutation($i: CreateVendorInput!) { createVendor(input: $i) {
  vendor { id } userErrors { field message code } } }";

const CREATE_CERT: &str = "mutation($i: CreateCertificateInput!) { createCertificate(input: $i) {
  certificate { id } userErrors { field message code } } }";

const DECISION_Q: &str = "mutation($i: RecordCertificationDecisionInput!) {
  recordCertificationDecision(input: $i) { decision { id kind }
  userErrors { field message code } } }";

const UPLOAD_Q: &str = "mutation($input: UploadCertificateDocumentInput!) {
  uploadCertificateDocument(input: $input) { certificate { id document { sha256 } }
  userErrors { field message code } } }";

const CREATE_ATT: &str = "mutation($i: CreateAttestationInput!) { createAttestation(input: $i) {
  attestation { id } userErrors { field message code } } }";

const CREATE_BAA: &str = "mutation($i: CreateBaaInput!) { createBaa(input: $i) {
  baa { id } userErrors { field message code } } }";

const SET_POLICY: &str = "mutation($i: SetVendorPolicyInput!) { setVendorPolicy(input: $i) {
  vendorPolicy { tiers { tier requirements { anyOf } } } userErrors { field message code } } }";

// --- Helpers ---------------------------------------------------------------------------------

/// A tenant with one member per role.
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

/// The tenant's global id (as `PeerTenant.id` and `granteeTenantId` carry it).
fn tid(f: &Fixture) -> String {
    global_id("Tenant", f.tenant.id.0)
}

/// A query that must succeed; its data.
async fn read(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let a = app.gql(token, None, query, vars).await;
    assert!(a.body["errors"].is_null(), "{query}: {:?}", a.body);
    a.data().clone()
}

/// The nodes of a Relay connection.
fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {conn:?}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// `node(id:)` as the token's tenant: only whether it is there (its `__typename`).
async fn node_type(app: &TestApp, token: &str, id: &Value) -> Value {
    read(
        app,
        token,
        "query($id: ID!) { node(id: $id) { __typename } }",
        json!({ "id": id }),
    )
    .await["node"]
        .clone()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Today plus (or minus) `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let t = today();
    let d = if days >= 0 {
        t.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        t.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    d.unwrap().to_string()
}

/// Creates a vendor of the given tier without ePHI access; its id.
async fn create_vendor(app: &TestApp, token: &str, name: &str, tier: i32) -> Value {
    ok(
        app,
        token,
        "createVendor",
        CREATE_VENDOR,
        json!({ "i": { "name": name, "tier": tier, "ephiAccess": "NONE" } }),
    )
    .await["vendor"]["id"]
        .clone()
}

/// The customer's `token` invites the tenant `slug` to link with `vendor`; the connection.
async fn invite(app: &TestApp, token: &str, vendor: &Value, slug: &str) -> Value {
    ok(
        app,
        token,
        "inviteConnection",
        &invite_q(),
        json!({ "i": { "vendorId": vendor, "providerSlug": slug,
                 "message": "Please link your certificates" } }),
    )
    .await["connection"]
        .clone()
}

/// The provider's owner accepts an invitation; the connection.
async fn accept(app: &TestApp, owner_token: &str, conn: &Value) -> Value {
    ok(
        app,
        owner_token,
        "answerConnection",
        &answer_q(),
        json!({ "i": { "connectionId": conn, "accept": true } }),
    )
    .await["connection"]
        .clone()
}

/// Links a new vendor record `vendor_name` of the customer to the provider: (vendor id,
/// connection id).
async fn connect(
    app: &TestApp,
    customer: &Fixture,
    provider: &Fixture,
    vendor_name: &str,
) -> (Value, Value) {
    let vendor = create_vendor(app, customer.token("cm"), vendor_name, 2).await;
    let c = invite(app, customer.token("cm"), &vendor, &provider.tenant.slug).await;
    let c = accept(app, provider.token("owner"), &c["id"]).await;
    assert_eq!(c["status"], "ACTIVE", "{c:?}");
    (vendor, c["id"].clone())
}

/// The customer (`clinic`) and the provider (`cloudco`), connected through the customer's
/// vendor record "CloudCo".
struct Pair {
    cust: Fixture,
    prov: Fixture,
    vendor: Value,
    conn: Value,
}

async fn pair(app: &TestApp) -> Pair {
    let cust = fixture(app, "clinic").await;
    let prov = fixture(app, "cloudco").await;
    let (vendor, conn) = connect(app, &cust, &prov, "CloudCo").await;
    Pair {
        cust,
        prov,
        vendor,
        conn,
    }
}

/// An ISO/IEC 27001 certificate of the token's tenant, certified 100 days ago until 900 days
/// from now: active today. Its id.
async fn certificate(app: &TestApp, token: &str, number: &str) -> Value {
    let id = ok(
        app,
        token,
        "createCertificate",
        CREATE_CERT,
        json!({ "i": { "standard": "ISO27001", "edition": "E2022", "certificateNumber": number,
                 "certificationBody": "Example Certification Ltd", "accreditationBody": "UKAS",
                 "scope": "Hosting of clinical systems", "sites": ["Data centre"] } }),
    )
    .await["certificate"]["id"]
        .clone();
    decide(
        app,
        token,
        &id,
        "CERTIFICATION",
        &day(-100),
        Some(&day(900)),
    )
    .await;
    id
}

async fn decide(
    app: &TestApp,
    token: &str,
    cert: &Value,
    kind: &str,
    on: &str,
    expires: Option<&str>,
) {
    ok(
        app,
        token,
        "recordCertificationDecision",
        DECISION_Q,
        json!({ "i": { "certificateId": cert, "kind": kind, "decidedOn": on,
                 "expiresOn": expires, "reason": "Certification body decision" } }),
    )
    .await;
}

/// A small PDF whose bytes depend on `tag`.
fn pdf(tag: &str) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    v.extend_from_slice(format!("% {tag}\n").as_bytes());
    v.resize(600, b' ');
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Uploads `bytes` as the certificate's document; the document's SHA-256 as the API reports it.
async fn upload(app: &TestApp, token: &str, cert: &Value, name: &str, bytes: Vec<u8>) -> Value {
    let operations = json!({ "query": UPLOAD_Q, "variables": { "input": {
        "certificateId": cert, "title": "ISO/IEC 27001 certificate", "file": null } } });
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            Part::bytes(bytes)
                .file_name(name.to_owned())
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
    let p = &a.data()["uploadCertificateDocument"];
    assert_eq!(p["userErrors"], json!([]), "{:?}", a.body);
    p["certificate"]["document"]["sha256"].clone()
}

/// A `grantShare` input.
fn share(grantee: &Fixture, kind: &str, artifact: Option<&Value>, access: &str) -> Value {
    json!({ "granteeTenantId": tid(grantee), "kind": kind, "artifactId": artifact,
            "access": access, "note": "For the vendor review" })
}

/// Grants; the grant.
async fn grant(app: &TestApp, token: &str, input: Value) -> Value {
    ok(app, token, "grantShare", &grant_q(), json!({ "i": input })).await["grant"].clone()
}

/// Revokes; the grant.
async fn revoke(app: &TestApp, token: &str, grant: &Value) -> Value {
    ok(
        app,
        token,
        "revokeShare",
        &revoke_q(),
        json!({ "i": { "grantId": grant, "reason": "No longer needed" } }),
    )
    .await["grant"]
        .clone()
}

/// The grants to the token's tenant (`includeInactive` as given).
async fn shared_with_me(app: &TestApp, token: &str, inactive: bool) -> Vec<Value> {
    let d = read(
        app,
        token,
        &format!(
            "query($x: Boolean!) {{ sharedWithMe(first: 100, includeInactive: $x) {{ totalCount
               edges {{ node {{ {} }} }} }} }}",
            grant_fields()
        ),
        json!({ "x": inactive }),
    )
    .await;
    let list = nodes(&d["sharedWithMe"]);
    assert_eq!(d["sharedWithMe"]["totalCount"], list.len(), "{d:?}");
    list
}

/// The grants the token's tenant made (inactive ones included).
async fn shared_by_me(app: &TestApp, token: &str) -> Vec<Value> {
    let d = read(
        app,
        token,
        &format!(
            "{{ sharedByMe(first: 100, includeInactive: true) {{ edges {{ node {{ {} }} }} }} }}",
            grant_fields()
        ),
        json!({}),
    )
    .await;
    nodes(&d["sharedByMe"])
}

/// The ids of the artifacts listed under each live grant to the token's tenant, by grant.
async fn visible(app: &TestApp, token: &str) -> Vec<(Value, Vec<Value>)> {
    shared_with_me(app, token, false)
        .await
        .iter()
        .map(|g| {
            (
                g["id"].clone(),
                g["artifacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["id"].clone())
                    .collect(),
            )
        })
        .collect()
}

/// No grant visible (for comparisons with [`visible`]).
const NOTHING: Vec<(Value, Vec<Value>)> = Vec::new();

/// A mutation that must be refused with a user error; its payload.
async fn refused(app: &TestApp, token: &str, name: &str, query: &str, vars: Value) -> Value {
    let p = run(app, token, name, query, vars).await;
    assert!(
        !p["userErrors"][0].is_null(),
        "{name}: expected a user error: {p:?}"
    );
    p
}

/// `sharedArtifact(grant, artifact)`: `Some(view)` when it opens, `None` when it is null or
/// refused as NOT_FOUND (any other error fails the test).
async fn view(app: &TestApp, token: &str, grant: &Value, artifact: &Value) -> Option<Value> {
    let a = app
        .gql(token, None, VIEW_Q, json!({ "g": grant, "a": artifact }))
        .await;
    if !a.body["errors"].is_null() {
        assert_eq!(a.code(), Some("NOT_FOUND"), "{:?}", a.body);
        return None;
    }
    let v = a.data()["sharedArtifact"].clone();
    if v.is_null() { None } else { Some(v) }
}

/// GETs the shared document route: (status, body).
async fn fetch_doc(app: &TestApp, token: &str, grant: &Value, artifact: &Value) -> (u16, Vec<u8>) {
    let r = app
        .client
        .get(format!(
            "{}/shared/{}/{}/document",
            app.base,
            grant.as_str().unwrap(),
            artifact.as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Asserts that neither the artifact's data nor its document opens through the grant for the
/// token's tenant, and that the refusals left no receipt.
async fn assert_closed(app: &TestApp, token: &str, grant: &Value, artifact: &Value, what: &str) {
    let before = count(app, "access_receipts").await;
    assert_eq!(view(app, token, grant, artifact).await, None, "{what}");
    assert_eq!(
        fetch_doc(app, token, grant, artifact).await.0,
        404,
        "{what}"
    );
    assert_eq!(
        count(app, "access_receipts").await,
        before,
        "{what}: a receipt"
    );
}

/// Rows in a table, whichever tenant they belong to (the admin connection sees past every wall).
async fn count(app: &TestApp, table: &str) -> i64 {
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

/// The token's tenant's audit actions, oldest first.
async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let d = read(
        app,
        token,
        "{ auditEvents(last: 100) { edges { node { action } } } }",
        json!({}),
    )
    .await;
    nodes(&d["auditEvents"])
        .iter()
        .map(|n| n["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn receipts(app: &TestApp, token: &str, direction: &str) -> Vec<Value> {
    let d = read(app, token, RECEIPTS_Q, json!({ "d": direction })).await;
    nodes(&d["accessReceipts"])
}

async fn outbox(app: &TestApp, token: &str) -> Vec<Value> {
    let d = read(app, token, OUTBOX_Q, json!({})).await;
    nodes(&d["outboxEvents"])
}

/// The token's tenant's connections.
async fn connections(app: &TestApp, token: &str, filter: &str) -> Vec<Value> {
    let d = read(
        app,
        token,
        &format!("{{ connections{filter} {{ {CONN_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    d["connections"].as_array().unwrap().clone()
}

/// Creates an NDA of the token's tenant; the NDA.
async fn create_nda(app: &TestApp, token: &str, text: &str) -> Value {
    ok(
        app,
        token,
        "createNda",
        &create_nda_q(),
        json!({ "i": { "title": "Mutual NDA", "text": text } }),
    )
    .await["nda"]
        .clone()
}

async fn publish_nda(app: &TestApp, token: &str, nda: &Value, text: &str) -> Value {
    ok(
        app,
        token,
        "publishNdaVersion",
        &publish_nda_q(),
        json!({ "i": { "ndaId": nda, "text": text } }),
    )
    .await["nda"]
        .clone()
}

/// A provider vendor ("Colo DC") with a SOC 2 Type II attestation and a BAA: (attestation id,
/// BAA id).
async fn attestation_and_baa(app: &TestApp, token: &str) -> (Value, Value) {
    let v = create_vendor(app, token, "Colo DC", 3).await;
    let att = ok(
        app,
        token,
        "createAttestation",
        CREATE_ATT,
        json!({ "i": { "vendorId": v, "kind": "SOC2_TYPE2", "title": "SOC 2 Type II",
                 "issuer": "Audit LLP", "periodStart": day(-200), "periodEnd": day(-20),
                 "issuedOn": day(-10), "opinion": "UNMODIFIED" } }),
    )
    .await["attestation"]["id"]
        .clone();
    let baa = ok(
        app,
        token,
        "createBaa",
        CREATE_BAA,
        json!({ "i": { "vendorId": v, "title": "Hosting BAA", "effectiveOn": day(-30),
                 "breachNoticeDays": 30 } }),
    )
    .await["baa"]["id"]
        .clone();
    (att, baa)
}

// --- 1. Connections --------------------------------------------------------------------------

async fn connection_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cust = fixture(&app, "clinic").await;
    let prov = fixture(&app, "cloudco").await;
    let vendor = create_vendor(&app, cust.token("cm"), "CloudCo", 2).await;

    // The customer invites the provider by slug for its vendor record.
    let c = invite(&app, cust.token("cm"), &vendor, "cloudco").await;
    let conn = c["id"].clone();
    assert_eq!(c["status"], "INVITED");
    assert_eq!(c["side"], "CUSTOMER");
    assert_eq!(c["customer"]["id"], tid(&cust));
    assert_eq!(c["provider"]["id"], tid(&prov));
    assert_eq!(c["peer"]["id"], tid(&prov));
    assert_eq!(c["peer"]["slug"], "cloudco");
    assert_eq!(c["vendor"]["id"], vendor);
    assert_eq!(c["respondedAt"], Value::Null);

    // The provider sees the invitation from its side, without the customer's vendor record.
    let pc = connections(&app, prov.token("viewer"), "").await;
    assert_eq!(pc.len(), 1, "{pc:?}");
    assert_eq!(pc[0]["id"], conn);
    assert_eq!(pc[0]["status"], "INVITED");
    assert_eq!(pc[0]["side"], "PROVIDER");
    assert_eq!(pc[0]["peer"]["id"], tid(&cust));
    assert_eq!(pc[0]["message"], "Please link your certificates");
    assert_eq!(pc[0]["vendor"], Value::Null);

    // Nobody but the provider's owner answers: not its compliance manager, nor anyone else of
    // the provider, nor the customer's owner.
    let answer = answer_q();
    let vars = json!({ "i": { "connectionId": conn, "accept": true } });
    for who in ["cm", "contrib", "auditor", "viewer"] {
        assert_eq!(
            top_code(&app, prov.token(who), &answer, vars.clone()).await,
            "FORBIDDEN",
            "{who}"
        );
    }
    let by_customer = app.gql(cust.token("owner"), None, &answer, vars).await;
    assert!(
        by_customer.data()["answerConnection"]["connection"].is_null()
            || !by_customer.body["errors"].is_null(),
        "the customer answered its own invitation: {:?}",
        by_customer.body
    );
    assert_eq!(
        connections(&app, cust.token("cm"), "").await[0]["status"],
        "INVITED"
    );

    // The provider's owner accepts.
    let a = accept(&app, prov.token("owner"), &conn).await;
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["side"], "PROVIDER");
    assert!(a["respondedAt"].is_string(), "{a:?}");

    // Both sides see it, each with its own side and the other as the peer.
    let cc = connections(&app, cust.token("viewer"), "(status: ACTIVE)").await;
    assert_eq!(cc.len(), 1, "{cc:?}");
    assert_eq!(
        (&cc[0]["id"], &cc[0]["side"], &cc[0]["peer"]["slug"]),
        (&conn, &json!("CUSTOMER"), &json!("cloudco"))
    );
    assert_eq!(cc[0]["vendor"]["id"], vendor);
    let pc = connections(&app, prov.token("viewer"), "(side: PROVIDER)").await;
    assert_eq!(pc.len(), 1, "{pc:?}");
    assert_eq!(
        (&pc[0]["id"], &pc[0]["status"], &pc[0]["peer"]["slug"]),
        (&conn, &json!("ACTIVE"), &json!("clinic"))
    );
    assert_eq!(pc[0]["vendor"], Value::Null);
    // The customer is no provider in this connection, and the provider no customer.
    assert_eq!(
        connections(&app, cust.token("cm"), "(side: PROVIDER)").await,
        Vec::<Value>::new()
    );
    assert_eq!(
        connections(&app, prov.token("cm"), "(side: CUSTOMER)").await,
        Vec::<Value>::new()
    );
    // The vendor record shows its connection.
    let v = read(
        &app,
        cust.token("viewer"),
        "query($id: ID!) { node(id: $id) { ... on Vendor { connection { id status } } } }",
        json!({ "id": vendor }),
    )
    .await;
    assert_eq!(
        v["node"]["connection"],
        json!({ "id": conn, "status": "ACTIVE" })
    );

    // A grant across the connection, then the customer ends it: the grant is revoked with it.
    let cert = certificate(&app, prov.token("cm"), "CC-1").await;
    let g = grant(
        &app,
        prov.token("cm"),
        share(&cust, "CERTIFICATE", Some(&cert), "METADATA"),
    )
    .await;
    assert_eq!(g["state"], "LIVE");
    assert_eq!(g["connectionId"], conn);
    assert_eq!(
        visible(&app, cust.token("viewer")).await,
        [(g["id"].clone(), vec![cert.clone()])]
    );
    let e = ok(
        &app,
        cust.token("cm"),
        "endConnection",
        &end_q(),
        json!({ "i": { "connectionId": conn, "reason": "Contract ended" } }),
    )
    .await["connection"]
        .clone();
    assert_eq!(e["status"], "ENDED");
    assert_eq!(e["endReason"], "Contract ended");
    assert!(e["endedAt"].is_string(), "{e:?}");
    assert_eq!(visible(&app, cust.token("viewer")).await, NOTHING);
    assert_closed(&app, cust.token("cm"), &g["id"], &cert, "after the end").await;
    let by_me = shared_by_me(&app, prov.token("cm")).await;
    assert_eq!(by_me.len(), 1);
    assert_eq!(by_me[0]["state"], "REVOKED");
    assert_eq!(
        connections(&app, prov.token("cm"), "").await[0]["status"],
        "ENDED"
    );
    // Without the connection, no new grant.
    let p = run(
        &app,
        prov.token("cm"),
        "grantShare",
        &grant_q(),
        json!({ "i": share(&cust, "CERTIFICATE", Some(&cert), "METADATA") }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "{p:?}");
}

// --- 2. Exactly what was granted -------------------------------------------------------------

async fn exactly_what_was_granted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust,
        prov,
        vendor,
        conn: _,
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    // The provider has two certificates (the first with a document), an attestation and a BAA.
    let a = certificate(&app, pm, "CC-A").await;
    let b = certificate(&app, pm, "CC-B").await;
    let doc = pdf("certificate A");
    let doc_sha = upload(&app, pm, &a, "cc-a.pdf", doc.clone()).await;
    assert_eq!(doc_sha, sha256(&doc));
    let (att, baa) = attestation_and_baa(&app, pm).await;

    // One certificate, metadata only.
    let g1 = grant(&app, pm, share(&cust, "CERTIFICATE", Some(&a), "METADATA")).await;
    assert_eq!(g1["state"], "LIVE");
    assert_eq!(g1["owner"]["slug"], "cloudco");
    assert_eq!(g1["grantee"]["slug"], "clinic");
    let g1id = g1["id"].clone();

    // sharedWithMe lists exactly that grant with exactly that certificate.
    let l = shared_with_me(&app, cust.token("viewer"), false).await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["id"], g1id);
    assert_eq!(l[0]["artifactKind"], "CERTIFICATE");
    assert_eq!(l[0]["artifactId"], a);
    assert_eq!(l[0]["access"], "METADATA");
    let arts = l[0]["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0]["id"], a);
    assert_eq!(arts[0]["kind"], "CERTIFICATE");
    assert_eq!(arts[0]["status"], "active");
    assert_eq!(arts[0]["validUntil"], day(900));
    assert_eq!(arts[0]["documentAvailable"], false);
    assert_eq!(arts[0]["documentClosed"], "METADATA_ONLY");
    // The customer's vendor record shows it too.
    let v = read(
        &app,
        cm,
        "query($id: ID!) { node(id: $id) { ... on Vendor { sharedArtifacts { id status } } } }",
        json!({ "id": vendor }),
    )
    .await;
    assert_eq!(
        v["node"]["sharedArtifacts"],
        json!([{ "id": a, "status": "active" }])
    );

    // The granted certificate's data opens, without its document.
    let s = view(&app, cm, &g1id, &a)
        .await
        .expect("the granted certificate");
    assert_eq!(s["certificate"]["certificateNumber"], "CC-A");
    assert_eq!(s["certificate"]["status"], "active");
    assert_eq!(s["artifact"]["id"], a);
    assert_eq!(s["document"], Value::Null);
    assert_eq!(s["artifact"]["documentClosed"], "METADATA_ONLY");
    assert_eq!(fetch_doc(&app, cm, &g1id, &a).await.0, 404);
    // Nothing else of the owner opens through the grant, nor directly by id.
    for (other, what) in [
        (&b, "other certificate"),
        (&att, "attestation"),
        (&baa, "BAA"),
    ] {
        assert_closed(&app, cm, &g1id, other, what).await;
        assert_eq!(node_type(&app, cm, other).await, Value::Null, "{what}");
    }
    assert_eq!(
        node_type(&app, cm, &a).await,
        Value::Null,
        "the owner's row by id"
    );

    // Revoked: the very next request sees nothing.
    let r = revoke(&app, pm, &g1id).await;
    assert_eq!(r["state"], "REVOKED");
    assert_eq!(visible(&app, cm).await, NOTHING);
    assert_closed(&app, cm, &g1id, &a, "after revocation").await;
    let inactive = shared_with_me(&app, cm, true).await;
    assert_eq!(inactive.len(), 1);
    assert_eq!(inactive[0]["state"], "REVOKED");
    assert_eq!(inactive[0]["artifacts"], json!([]));

    // A document grant behind an NDA: closed until the current version is accepted.
    let nda = create_nda(&app, pm, "Version 1: keep it confidential.").await;
    assert_eq!(nda["currentVersion"], 1);
    let mut input = share(&cust, "CERTIFICATE", Some(&a), "DOCUMENT");
    input["ndaId"] = nda["id"].clone();
    let g2 = grant(&app, pm, input).await;
    let g2id = g2["id"].clone();
    assert_eq!(g2["ndaAccepted"], false);
    let s = view(&app, cm, &g2id, &a)
        .await
        .expect("the data opens before the NDA");
    assert_eq!(s["artifact"]["documentClosed"], "NDA_NOT_ACCEPTED");
    assert_eq!(s["document"], Value::Null);
    assert_eq!(fetch_doc(&app, cm, &g2id, &a).await.0, 404);

    let acc = ok(
        &app,
        cm,
        "acceptNda",
        ACCEPT_NDA,
        json!({ "i": { "ndaId": nda["id"], "version": 1 } }),
    )
    .await["acceptance"]
        .clone();
    assert_eq!(acc["version"], 1);
    assert_eq!(acc["sha256"], sha256(b"Version 1: keep it confidential."));
    assert_eq!(acc["grantee"]["slug"], "clinic");
    let s = view(&app, cm, &g2id, &a).await.expect("after the NDA");
    assert_eq!(s["artifact"]["documentClosed"], Value::Null);
    assert_eq!(s["artifact"]["documentAvailable"], true);
    assert_eq!(s["document"]["sha256"], sha256(&doc));
    assert_eq!(
        s["document"]["url"],
        format!(
            "/shared/{}/{}/document",
            g2id.as_str().unwrap(),
            a.as_str().unwrap()
        )
    );
    let (status, body) = fetch_doc(&app, cm, &g2id, &a).await;
    assert_eq!(status, 200);
    assert_eq!(body, doc);

    // Accepted: the list says so (and keeps the page in memory until something moves).
    assert_eq!(
        shared_with_me(&app, cm, false).await[0]["ndaAccepted"],
        true
    );

    // A new NDA version closes the document again until it is accepted.
    let nda2 = publish_nda(&app, pm, &nda["id"], "Version 2: stricter terms.").await;
    assert_eq!(nda2["currentVersion"], 2);
    let s = view(&app, cm, &g2id, &a)
        .await
        .expect("the data still opens");
    assert_eq!(s["artifact"]["documentClosed"], "NDA_NOT_ACCEPTED");
    assert_eq!(s["document"], Value::Null);
    assert_eq!(fetch_doc(&app, cm, &g2id, &a).await.0, 404);
    let l = shared_with_me(&app, cm, false).await;
    assert_eq!(l[0]["ndaAccepted"], false);
    // The grantee is told: an event naming the NDA's new version and the grant.
    let told: Vec<Value> = outbox(&app, cm)
        .await
        .into_iter()
        .filter(|e| e["topic"] == "share.nda_updated")
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["payload"]["version"], 2);
    assert_eq!(
        told[0]["payload"]["grantIds"],
        json!([grc_e2e::decode_global_id(g2id.as_str().unwrap()).to_string()])
    );

    // Revoked again: nothing, at once.
    revoke(&app, pm, &g2id).await;
    assert_eq!(visible(&app, cm).await, NOTHING);
    assert_closed(&app, cm, &g2id, &a, "after the second revocation").await;

    // A grant that expires in a few seconds: live now, gone once its expiry passes.
    let expires = Utc::now() + chrono::Duration::seconds(5);
    let mut input = share(&cust, "ATTESTATION", Some(&att), "METADATA");
    input["expiresAt"] = json!(expires.to_rfc3339());
    let g3 = grant(&app, pm, input).await;
    let g3id = g3["id"].clone();
    assert_eq!(visible(&app, cm).await, [(g3id.clone(), vec![att.clone()])]);
    let s = view(&app, cm, &g3id, &att)
        .await
        .expect("before the expiry");
    assert_eq!(s["attestation"]["kind"], "soc2-type2");
    let wait = (expires - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    assert_eq!(visible(&app, cm).await, NOTHING);
    assert_closed(&app, cm, &g3id, &att, "after the expiry").await;
    let inactive = shared_with_me(&app, cm, true).await;
    let expired: Vec<&Value> = inactive.iter().filter(|g| g["id"] == g3id).collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["state"], "EXPIRED");

    // A live grant again, then a third tenant (connected to the customer, not to the provider)
    // sees nothing of it.
    let g4 = grant(&app, pm, share(&cust, "BAA", Some(&baa), "METADATA")).await;
    let g4id = g4["id"].clone();
    assert!(view(&app, cm, &g4id, &baa).await.is_some());
    let third = fixture(&app, "outsider").await;
    connect(&app, &cust, &third, "Outsider Inc").await;
    let t = third.token("owner");
    assert_eq!(visible(&app, t).await, NOTHING);
    assert_eq!(shared_with_me(&app, t, true).await, Vec::<Value>::new());
    assert_closed(&app, t, &g4id, &baa, "third tenant").await;
    assert_closed(&app, t, &g2id, &a, "third tenant, revoked grant").await;
    assert_eq!(node_type(&app, t, &g4id).await, Value::Null);
    assert_eq!(node_type(&app, t, &baa).await, Value::Null);
    assert_eq!(receipts(&app, t, "OUTGOING").await, Vec::<Value>::new());
    assert_eq!(receipts(&app, t, "INCOMING").await, Vec::<Value>::new());

    // The owner sees nothing of the grantee's own data beyond the receipts: nothing shared
    // with it, not the customer's vendor record, not its connection to the third tenant.
    assert_eq!(shared_with_me(&app, pm, true).await, Vec::<Value>::new());
    assert_eq!(node_type(&app, pm, &vendor).await, Value::Null);
    let pc = connections(&app, prov.token("owner"), "").await;
    assert_eq!(pc.len(), 1);
    assert_eq!(pc[0]["vendor"], Value::Null);
    assert_eq!(pc[0]["peer"]["slug"], "clinic");
    let pv = read(&app, pm, "{ vendors { totalCount } }", json!({})).await;
    assert_eq!(pv["vendors"]["totalCount"], 1, "only its own Colo DC");
    // What it does see: the receipts of the customer's reads of its artifacts.
    let incoming = receipts(&app, pm, "INCOMING").await;
    assert!(!incoming.is_empty());
    assert!(
        incoming.iter().all(|r| r["grantee"]["slug"] == "clinic"),
        "{incoming:?}"
    );
}

// --- 3. Suspension reaches the customer at once ----------------------------------------------

async fn suspension_propagates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust,
        prov,
        vendor,
        conn: _,
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    let cert = certificate(&app, pm, "CC-S").await;
    let g = grant(
        &app,
        pm,
        share(&cust, "CERTIFICATE", Some(&cert), "METADATA"),
    )
    .await;
    // The customer's policy: a tier 2 vendor needs an ISO/IEC 27001 certificate, nothing else.
    ok(
        &app,
        cm,
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "tiers": [{ "tier": 2, "requirements": [{ "anyOf": ["ISO27001"] }] }] } }),
    )
    .await;
    let q = "{ vendors { edges { node { id name sharedArtifacts { id kind status }
        compliance { status requirements { anyOf state sharedArtifact { id status } } } } } } }";
    let vendor_node = |d: &Value| -> Value {
        nodes(&d["vendors"])
            .into_iter()
            .find(|n| n["id"] == vendor)
            .unwrap_or_else(|| panic!("no vendor: {d:?}"))
    };
    // Before: the shared certificate is active and meets the requirement.
    let before = vendor_node(&read(&app, cm, q, json!({})).await);
    assert_eq!(
        before["sharedArtifacts"],
        json!([{ "id": cert, "kind": "CERTIFICATE", "status": "active" }])
    );
    assert_eq!(before["compliance"]["status"], "COMPLIANT", "{before:?}");
    assert_eq!(before["compliance"]["requirements"][0]["state"], "VALID");
    assert_eq!(
        before["compliance"]["requirements"][0]["sharedArtifact"]["id"],
        cert
    );
    let events_before = outbox(&app, cm).await.len();
    let status_in_list = |l: Vec<Value>| -> Value {
        assert_eq!(l.len(), 1, "{l:?}");
        assert_eq!(l[0]["id"], g["id"]);
        l[0]["artifacts"][0]["status"].clone()
    };
    assert_eq!(
        status_in_list(shared_with_me(&app, cm, false).await),
        "active"
    );

    // The certification body suspends the provider's certificate today.
    decide(&app, pm, &cert, "SUSPENSION", &day(0), None).await;
    // The grantee's list (served from memory while nothing moved) shows it at once.
    assert_eq!(
        status_in_list(shared_with_me(&app, cm, false).await),
        "suspended"
    );

    // The very next request of the customer: suspended, non-compliant, an event in its outbox.
    let after = vendor_node(&read(&app, cm, q, json!({})).await);
    assert_eq!(
        after["sharedArtifacts"],
        json!([{ "id": cert, "kind": "CERTIFICATE", "status": "suspended" }])
    );
    assert_eq!(after["compliance"]["status"], "NON_COMPLIANT", "{after:?}");
    assert_eq!(after["compliance"]["requirements"][0]["state"], "INVALID");
    assert_eq!(
        after["compliance"]["requirements"][0]["sharedArtifact"]["status"],
        "suspended"
    );
    let events = outbox(&app, cm).await;
    assert!(events.len() > events_before, "{events:?}");
    let cert_uuid = grc_e2e::decode_global_id(cert.as_str().unwrap()).to_string();
    let changed: Vec<&Value> = events
        .iter()
        .filter(|e| {
            (e["topic"] == "share.status-changed" || e["topic"] == "share.updated")
                && e["payload"]["artifactId"] == cert_uuid.as_str()
                && e["payload"]["status"] == "suspended"
        })
        .collect();
    assert!(!changed.is_empty(), "no suspension event: {events:?}");
    assert_eq!(changed[0]["source"]["slug"], "cloudco");
    assert_eq!(
        changed[0]["payload"]["grantId"],
        json!(grc_e2e::decode_global_id(g["id"].as_str().unwrap()).to_string())
    );
    // The provider's outbox holds no event about its own certificate for itself.
    assert!(
        outbox(&app, pm)
            .await
            .iter()
            .all(|e| e["payload"]["artifactId"] != cert_uuid.as_str()),
    );
}

// --- 4. All ISO certificates -----------------------------------------------------------------

async fn all_iso_certificates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair { cust, prov, .. } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    let first = certificate(&app, pm, "CC-2023").await;
    let g = grant(
        &app,
        pm,
        share(&cust, "ALL_ISO_CERTIFICATES", None, "METADATA"),
    )
    .await;
    let gid = g["id"].clone();
    assert_eq!(g["artifactId"], Value::Null);
    assert_eq!(
        visible(&app, cm).await,
        [(gid.clone(), vec![first.clone()])]
    );

    // The renewal is recorded as a new certificate: the customer sees it under the same grant.
    let renewal = certificate(&app, pm, "CC-2026").await;
    let v = visible(&app, cm).await;
    assert_eq!(v.len(), 1, "still one grant: {v:?}");
    assert_eq!(v[0].0, gid);
    let mut ids = v[0].1.clone();
    ids.sort_by_key(|i| i.as_str().unwrap().to_owned());
    let mut expected = vec![first.clone(), renewal.clone()];
    expected.sort_by_key(|i| i.as_str().unwrap().to_owned());
    assert_eq!(ids, expected);
    let s = view(&app, cm, &gid, &renewal)
        .await
        .expect("the renewal opens");
    assert_eq!(s["certificate"]["certificateNumber"], "CC-2026");
    assert_eq!(s["artifact"]["kind"], "CERTIFICATE");
    assert_eq!(s["artifact"]["grantId"], gid);
    // No new grant was made, and the customer was told.
    assert_eq!(shared_by_me(&app, pm).await.len(), 1);
    let renewal_uuid = grc_e2e::decode_global_id(renewal.as_str().unwrap()).to_string();
    let events = outbox(&app, cm).await;
    assert!(
        events
            .iter()
            .any(|e| e["topic"] == "share.added"
                && e["payload"]["artifactId"] == renewal_uuid.as_str()),
        "{events:?}"
    );
    // An "all ISO certificates" grant opens certificates only.
    let (att, _) = attestation_and_baa(&app, pm).await;
    assert_closed(
        &app,
        cm,
        &gid,
        &att,
        "an attestation under an all-ISO grant",
    )
    .await;
}

// --- 5. Receipts -----------------------------------------------------------------------------

async fn receipt_digests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair { cust, prov, .. } = pair(&app).await;
    let pm = prov.token("cm");
    let reader = cust.token("auditor");
    let reader_id = global_id("User", cust.user_ids["auditor"]);
    let cert = certificate(&app, pm, "CC-R").await;
    let v1 = pdf("version 1");
    upload(&app, pm, &cert, "v1.pdf", v1.clone()).await;
    let g = grant(
        &app,
        pm,
        share(&cust, "CERTIFICATE", Some(&cert), "DOCUMENT"),
    )
    .await;
    let gid = g["id"].clone();

    // Lists show the live status and leave no receipt.
    shared_with_me(&app, reader, false).await;
    assert_eq!(
        receipts(&app, reader, "OUTGOING").await,
        Vec::<Value>::new()
    );

    // Reading the document records a DOCUMENT receipt with the file's SHA-256.
    let (status, body) = fetch_doc(&app, reader, &gid, &cert).await;
    assert_eq!(status, 200);
    assert_eq!(body, v1);
    let out = receipts(&app, reader, "OUTGOING").await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["view"], "DOCUMENT");
    assert_eq!(out[0]["sha256"], sha256(&v1));
    assert_eq!(out[0]["grantId"], gid);
    assert_eq!(out[0]["artifactId"], cert);
    assert_eq!(out[0]["artifactKind"], "CERTIFICATE");
    assert_eq!(out[0]["userId"], reader_id);
    assert_eq!(out[0]["owner"]["slug"], "cloudco");
    assert_eq!(out[0]["grantee"]["slug"], "clinic");

    // A new document version: the next read carries the new digest.
    let v2 = pdf("version 2, after the surveillance audit");
    assert_ne!(sha256(&v1), sha256(&v2));
    upload(&app, pm, &cert, "v2.pdf", v2.clone()).await;
    let (status, body) = fetch_doc(&app, reader, &gid, &cert).await;
    assert_eq!(status, 200);
    assert_eq!(body, v2);
    // And a metadata view, whose receipt carries the digest the view reports.
    let s = view(&app, reader, &gid, &cert)
        .await
        .expect("the data opens");
    assert_eq!(s["document"]["sha256"], sha256(&v2));
    assert_eq!(s["sha256"].as_str().map(str::len), Some(64));

    let mut out: Vec<(Value, Value)> = receipts(&app, reader, "OUTGOING")
        .await
        .iter()
        .map(|r| (r["view"].clone(), r["sha256"].clone()))
        .collect();
    out.sort_by_key(|(v, s)| format!("{v}{s}"));
    let mut expected = vec![
        (json!("DOCUMENT"), json!(sha256(&v1))),
        (json!("DOCUMENT"), json!(sha256(&v2))),
        (json!("METADATA"), s["sha256"].clone()),
    ];
    expected.sort_by_key(|(v, s)| format!("{v}{s}"));
    assert_eq!(out, expected);
    let ids = |list: &[Value]| -> Vec<String> {
        let mut v: Vec<String> = list
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let outgoing = receipts(&app, reader, "OUTGOING").await;
    assert!(
        outgoing.iter().any(|r| r["id"] == s["receiptId"]),
        "the view's receipt: {outgoing:?}"
    );
    // The owner sees the same receipts as incoming; neither side sees them the other way.
    let incoming = receipts(&app, pm, "INCOMING").await;
    assert_eq!(ids(&incoming), ids(&outgoing));
    assert_eq!(receipts(&app, pm, "OUTGOING").await, Vec::<Value>::new());
    assert_eq!(
        receipts(&app, reader, "INCOMING").await,
        Vec::<Value>::new()
    );

    // Both tenants' audit chains record the reads.
    for (who, token) in [("grantee", reader), ("owner", prov.token("owner"))] {
        let actions = audit_actions(&app, token).await;
        assert_eq!(
            actions.iter().filter(|a| *a == "share.downloaded").count(),
            2,
            "{who}: {actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "share.viewed").count(),
            1,
            "{who}: {actions:?}"
        );
    }
}

// --- 6. Access requests ----------------------------------------------------------------------

async fn access_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust, prov, conn, ..
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    let cert = certificate(&app, pm, "CC-Q").await;
    let unlisted = certificate(&app, pm, "CC-UNLISTED").await;
    let listing = ok(
        &app,
        pm,
        "listArtifact",
        LIST_ARTIFACT,
        json!({ "i": { "kind": "CERTIFICATE", "artifactId": cert,
                 "title": "ISO/IEC 27001 certificate", "description": "Hosting platform" } }),
    )
    .await["listing"]
        .clone();

    // The customer sees the provider's listings, titles only; never the unlisted certificate.
    let d = read(
        &app,
        cust.token("contrib"),
        "query($c: ID!) { shareableArtifacts(connectionId: $c) { id owner { slug }
           artifactKind title description } }",
        json!({ "c": conn }),
    )
    .await;
    assert_eq!(
        d["shareableArtifacts"],
        json!([{ "id": listing["id"], "owner": { "slug": "cloudco" }, "artifactKind": "CERTIFICATE",
                 "title": "ISO/IEC 27001 certificate", "description": "Hosting platform" }])
    );
    assert_closed(&app, cm, &listing["id"], &unlisted, "a listing is no grant").await;

    // A request, denied with a reason.
    let req_vars = json!({ "i": { "connectionId": conn, "listingId": listing["id"],
                                  "access": "DOCUMENT", "message": "For our annual review" } });
    let r1 = ok(&app, cm, "requestAccess", &request_q(), req_vars.clone()).await["request"].clone();
    assert_eq!(r1["status"], "PENDING");
    assert_eq!(r1["requester"]["slug"], "clinic");
    assert_eq!(r1["owner"]["slug"], "cloudco");
    assert_eq!(r1["title"], "ISO/IEC 27001 certificate");
    let incoming = read(
        &app,
        pm,
        "{ accessRequests(direction: INCOMING) { edges { node { id status } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        nodes(&incoming["accessRequests"]),
        [json!({ "id": r1["id"], "status": "PENDING" })]
    );
    let denied = ok(
        &app,
        pm,
        "denyAccessRequest",
        &deny_q(),
        json!({ "i": { "requestId": r1["id"], "reason": "Send us your NDA first" } }),
    )
    .await["request"]
        .clone();
    assert_eq!(denied["status"], "DENIED");
    assert_eq!(denied["reason"], "Send us your NDA first");
    assert!(denied["decidedAt"].is_string());

    // Approving the denied request is a conflict, and makes no grant.
    let grants = count(&app, "share_grants").await;
    let p = run(
        &app,
        pm,
        "approveAccessRequest",
        &approve_q(),
        json!({ "i": { "requestId": r1["id"] } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "{p:?}");
    assert_eq!(p["grant"], Value::Null);
    assert_eq!(count(&app, "share_grants").await, grants);
    assert_eq!(visible(&app, cm).await, NOTHING);

    // A new request, approved with metadata access: a grant.
    let r2 = ok(&app, cm, "requestAccess", &request_q(), req_vars).await["request"].clone();
    assert_ne!(r2["id"], r1["id"]);
    let approved = ok(
        &app,
        pm,
        "approveAccessRequest",
        &approve_q(),
        json!({ "i": { "requestId": r2["id"], "access": "METADATA" } }),
    )
    .await;
    assert_eq!(approved["request"]["status"], "APPROVED");
    let g = approved["grant"].clone();
    assert_eq!(approved["request"]["grantId"], g["id"]);
    assert_eq!(g["access"], "METADATA");
    assert_eq!(g["requestId"], r2["id"]);
    assert_eq!(g["artifactId"], cert);
    assert_eq!(
        visible(&app, cm).await,
        [(g["id"].clone(), vec![cert.clone()])]
    );

    // Both sides read both requests' histories, in order.
    let history_q = "query($d: ShareDirection!) { accessRequests(direction: $d) { edges { node {
        id status reason history { seq action actorTenant { slug } } } } } }";
    let history = |d: &Value, id: &Value| -> Value {
        nodes(&d["accessRequests"])
            .into_iter()
            .find(|n| n["id"] == *id)
            .unwrap_or_else(|| panic!("no request {id}: {d:?}"))
    };
    let mine = read(
        &app,
        cust.token("viewer"),
        history_q,
        json!({ "d": "OUTGOING" }),
    )
    .await;
    let theirs = read(
        &app,
        prov.token("viewer"),
        history_q,
        json!({ "d": "INCOMING" }),
    )
    .await;
    for side in [&mine, &theirs] {
        assert_eq!(
            history(side, &r1["id"]),
            json!({ "id": r1["id"], "status": "DENIED", "reason": "Send us your NDA first",
                    "history": [
                        { "seq": 1, "action": "REQUESTED", "actorTenant": { "slug": "clinic" } },
                        { "seq": 2, "action": "DENIED", "actorTenant": { "slug": "cloudco" } },
                    ] })
        );
        assert_eq!(
            history(side, &r2["id"]),
            json!({ "id": r2["id"], "status": "APPROVED", "reason": null,
                    "history": [
                        { "seq": 1, "action": "REQUESTED", "actorTenant": { "slug": "clinic" } },
                        { "seq": 2, "action": "APPROVED", "actorTenant": { "slug": "cloudco" } },
                    ] })
        );
    }
    // Nobody sees them from the wrong side.
    let wrong = read(&app, cm, history_q, json!({ "d": "INCOMING" })).await;
    assert_eq!(nodes(&wrong["accessRequests"]), Vec::<Value>::new());
}

// --- 7. Bad input ----------------------------------------------------------------------------

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust, prov, conn, ..
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    // A third tenant, connected to the customer only, with its own certificate.
    let third = fixture(&app, "outsider").await;
    connect(&app, &cust, &third, "Outsider Inc").await;
    let cert = certificate(&app, pm, "CC-X").await;
    let foreign = certificate(&app, third.token("cm"), "OUT-1").await;
    let g = grant(
        &app,
        pm,
        share(&cust, "CERTIFICATE", Some(&cert), "METADATA"),
    )
    .await;
    let nda = create_nda(&app, pm, "Version 1").await;
    let (att, _) = attestation_and_baa(&app, pm).await;
    let mut input = share(&cust, "ATTESTATION", Some(&att), "DOCUMENT");
    input["ndaId"] = nda["id"].clone();
    let nda_grant = grant(&app, pm, input).await;
    publish_nda(&app, pm, &nda["id"], "Version 2").await;
    let listing = ok(
        &app,
        pm,
        "listArtifact",
        LIST_ARTIFACT,
        json!({ "i": { "kind": "CERTIFICATE", "artifactId": cert, "title": "ISO certificate" } }),
    )
    .await["listing"]
        .clone();
    let req = ok(
        &app,
        cm,
        "requestAccess",
        &request_q(),
        json!({ "i": { "connectionId": conn, "listingId": listing["id"], "access": "DOCUMENT" } }),
    )
    .await["request"]
        .clone();
    ok(
        &app,
        pm,
        "denyAccessRequest",
        &deny_q(),
        json!({ "i": { "requestId": req["id"], "reason": "Not now" } }),
    )
    .await;

    let tables = [
        "share_grants",
        "access_requests",
        "access_request_events",
        "nda_acceptances",
        "outbox_events",
        "access_receipts",
    ];
    let mut stored = Vec::new();
    for t in tables {
        stored.push(count(&app, t).await);
    }
    let prov_by_me = shared_by_me(&app, pm).await;
    let cust_by_me = shared_by_me(&app, cm).await;
    let third_with_me = shared_with_me(&app, third.token("cm"), true).await;
    let cust_with_me = shared_with_me(&app, cm, true).await;
    assert_eq!(prov_by_me.len(), 2);

    // A grant to oneself.
    let p = refused(
        &app,
        pm,
        "grantShare",
        &grant_q(),
        json!({ "i": share(&prov, "CERTIFICATE", Some(&cert), "METADATA") }),
    )
    .await;
    assert_eq!(code(&p), "BAD_USER_INPUT", "to oneself: {p:?}");
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "granteeTenantId"])
    );
    // A grant of another tenant's certificate.
    let p = refused(
        &app,
        pm,
        "grantShare",
        &grant_q(),
        json!({ "i": share(&cust, "CERTIFICATE", Some(&foreign), "METADATA") }),
    )
    .await;
    assert_eq!(code(&p), "NOT_FOUND", "not the owner's: {p:?}");
    // A grant to a tenant without a connection.
    let p = refused(
        &app,
        pm,
        "grantShare",
        &grant_q(),
        json!({ "i": share(&third, "CERTIFICATE", Some(&cert), "METADATA") }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "no connection: {p:?}");
    // Approving the denied request.
    let p = refused(
        &app,
        pm,
        "approveAccessRequest",
        &approve_q(),
        json!({ "i": { "requestId": req["id"] } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "approving a denied request: {p:?}");
    // Accepting an NDA version that is no longer current (the grantee's own mutation).
    let p = run(
        &app,
        cm,
        "acceptNda",
        ACCEPT_NDA,
        json!({ "i": { "ndaId": nda["id"], "version": 1 } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "a stale NDA version: {p:?}");
    assert_eq!(p["acceptance"], Value::Null);
    // Resharing: the customer passes the provider's certificate on to the third tenant, to
    // which it is connected.
    let p = run(
        &app,
        cm,
        "grantShare",
        &grant_q(),
        json!({ "i": share(&third, "CERTIFICATE", Some(&cert), "METADATA") }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "resharing: {p:?}");
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot pass a share on"),
        "{p:?}"
    );
    assert_eq!(p["grant"], Value::Null);

    // Nothing stored: rows, lists, the request and the NDA grant as they were.
    let mut after = Vec::new();
    for t in tables {
        after.push(count(&app, t).await);
    }
    assert_eq!(after, stored, "{tables:?}");
    assert_eq!(shared_by_me(&app, pm).await, prov_by_me);
    assert_eq!(shared_by_me(&app, cm).await, cust_by_me);
    assert_eq!(
        shared_with_me(&app, third.token("cm"), true).await,
        third_with_me
    );
    assert_eq!(shared_with_me(&app, cm, true).await, cust_with_me);
    assert_eq!(third_with_me, Vec::<Value>::new());
    assert_eq!(cust_by_me, Vec::<Value>::new());
    let r = read(
        &app,
        cm,
        "{ accessRequests(direction: OUTGOING) { edges { node { id status grantId
           history { action } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        nodes(&r["accessRequests"]),
        [
            json!({ "id": req["id"], "status": "DENIED", "grantId": null,
                 "history": [{ "action": "REQUESTED" }, { "action": "DENIED" }] })
        ]
    );
    let l = shared_with_me(&app, cm, false).await;
    let ng = l.iter().find(|x| x["id"] == nda_grant["id"]).unwrap();
    assert_eq!(ng["ndaAccepted"], false);
    assert_eq!(ng["artifacts"][0]["documentClosed"], "NDA_NOT_ACCEPTED");
    assert!(l.iter().any(|x| x["id"] == g["id"]));
    let n = read(
        &app,
        pm,
        &format!("{{ ndas {{ {NDA_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(n["ndas"][0]["acceptances"], json!([]));
    assert_eq!(n["ndas"][0]["currentVersion"], 2);
}

// --- 8. Inherited controls -------------------------------------------------------------------

const CREATE_ISMS: &str = "mutation($input: CreateManagementSystemInput!) {
  createManagementSystem(input: $input) { managementSystem { id soa { revision } }
  userErrors { field message code } } }";

const SOA_Q: &str = "query($id: ID!) { managementSystem(id: $id) { soa { revision
  entries { control { id } controlRef applicable status
    inheritance { vendor { id } state vendorStatus vendorSoaVersion } } } } }";

const UPDATE_SOA: &str = "mutation($input: UpdateSoaEntriesInput!) {
  updateSoaEntries(input: $input) { revision userErrors { field message code } } }";

const APPROVE_SOA: &str = "mutation($input: ApproveSoaInput!) {
  approveSoa(input: $input) { version { number } userErrors { field message code } } }";

const INHERIT: &str = "mutation($i: SetSoaEntryInheritanceInput!) {
  setSoaEntryInheritance(input: $i) {
    inheritance { vendor { id } state vendorStatus vendorSoaVersion }
    userErrors { field message code } } }";

/// Creates an ISMS; its id.
async fn isms(app: &TestApp, token: &str, name: &str) -> Value {
    ok(
        app,
        token,
        "createManagementSystem",
        CREATE_ISMS,
        json!({ "input": { "name": name, "scopeStatement": "All hosting systems" } }),
    )
    .await["managementSystem"]["id"]
        .clone()
}

async fn soa(app: &TestApp, token: &str, isms: &Value) -> Value {
    read(app, token, SOA_Q, json!({ "id": isms })).await["managementSystem"]["soa"].clone()
}

fn entry<'a>(soa: &'a Value, r: &str) -> &'a Value {
    soa["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["controlRef"] == r)
        .unwrap_or_else(|| panic!("no entry {r}"))
}

async fn inherited_controls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust, prov, vendor, ..
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");

    // The provider approves an SoA: every control applicable and planned, but A.8.13
    // (information backup) implemented.
    let p_isms = isms(&app, pm, "Hosting platform").await;
    let s = soa(&app, pm, &p_isms).await;
    let entries: Vec<Value> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let status = if e["controlRef"] == "A.8.13" {
                "IMPLEMENTED"
            } else {
                "PLANNED"
            };
            json!({ "controlId": e["control"]["id"], "justification": "Needed for hosting",
                    "status": status })
        })
        .collect();
    let rev = ok(
        &app,
        pm,
        "updateSoaEntries",
        UPDATE_SOA,
        json!({ "input": { "managementSystemId": p_isms, "entries": entries } }),
    )
    .await["revision"]
        .clone();
    ok(
        &app,
        pm,
        "approveSoa",
        APPROVE_SOA,
        json!({ "input": { "managementSystemId": p_isms, "revision": rev, "note": "Approved" } }),
    )
    .await;
    let g = grant(
        &app,
        pm,
        share(&cust, "SOA_SUMMARY", Some(&p_isms), "METADATA"),
    )
    .await;
    let v = view(&app, cm, &g["id"], &p_isms)
        .await
        .expect("the SoA summary");
    assert_eq!(v["soaSummary"]["version"], 1);
    assert_eq!(v["soaSummary"]["ismsName"], "Hosting platform");
    let backup = v["soaSummary"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["controlRef"] == "A.8.13")
        .cloned()
        .unwrap();
    assert_eq!(
        backup,
        json!({ "controlRef": "A.8.13", "applicable": true, "status": "implemented" })
    );
    // The summary's title is the ISMS's name: a rename shows in the customer's list at once.
    let title = |l: Vec<Value>| l[0]["artifacts"][0]["title"].clone();
    assert_eq!(
        title(shared_with_me(&app, cm, false).await),
        "Hosting platform: Statement of Applicability"
    );
    ok(
        &app,
        pm,
        "updateManagementSystem",
        "mutation($i: UpdateManagementSystemInput!) { updateManagementSystem(input: $i) {
           managementSystem { id } userErrors { field message code } } }",
        json!({ "i": { "id": p_isms, "name": "Hosting platform EU" } }),
    )
    .await;
    assert_eq!(
        title(shared_with_me(&app, cm, false).await),
        "Hosting platform EU: Statement of Applicability"
    );

    // The customer marks its A.8.13 inherited from the vendor: supported.
    let c_isms = isms(&app, cm, "Clinic").await;
    let cs = soa(&app, cm, &c_isms).await;
    let a813 = entry(&cs, "A.8.13")["control"]["id"].clone();
    let a812 = entry(&cs, "A.8.12")["control"]["id"].clone();
    assert_eq!(entry(&cs, "A.8.13")["inheritance"], Value::Null);
    let e = ok(
        &app,
        cm,
        "setSoaEntryInheritance",
        INHERIT,
        json!({ "i": { "ismsId": c_isms, "controlId": a813, "vendorId": vendor } }),
    )
    .await["inheritance"]
        .clone();
    assert_eq!(
        e,
        json!({ "vendor": { "id": vendor }, "state": "SUPPORTED", "vendorStatus": "implemented",
                "vendorSoaVersion": 1 })
    );
    // A control the vendor only plans is refused, and stays not inherited.
    let p = run(
        &app,
        cm,
        "setSoaEntryInheritance",
        INHERIT,
        json!({ "i": { "ismsId": c_isms, "controlId": a812, "vendorId": vendor } }),
    )
    .await;
    assert_eq!(code(&p), "CONFLICT", "{p:?}");
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "vendorId"]));
    assert_eq!(p["inheritance"], Value::Null);
    let cs = soa(&app, cm, &c_isms).await;
    assert_eq!(entry(&cs, "A.8.12")["inheritance"], Value::Null);
    assert_eq!(entry(&cs, "A.8.13")["inheritance"]["state"], "SUPPORTED");

    // The provider revokes the share: the customer's entry shows it on the next read.
    revoke(&app, pm, &g["id"]).await;
    let cs = soa(&app, cm, &c_isms).await;
    assert_eq!(entry(&cs, "A.8.13")["inheritance"]["state"], "NOT_SHARED");
    assert_eq!(entry(&cs, "A.8.13")["inheritance"]["vendor"]["id"], vendor);
}

/// Two decisions on one request, and an acceptance against a cancellation, sent at the same
/// time: exactly one of each pair wins, the other is a CONFLICT, and the stored state and
/// history agree with the winner (on PostgreSQL the requests really run in parallel).
async fn concurrent_decisions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair {
        cust, prov, conn, ..
    } = pair(&app).await;
    let pm = prov.token("cm");
    let cm = cust.token("cm");
    let (approve_m, deny_m, answer_m, end_m) = (approve_q(), deny_q(), answer_q(), end_q());
    for round in 0..5 {
        let cert = certificate(&app, pm, &format!("RACE-{round}")).await;
        let listing = ok(
            &app,
            pm,
            "listArtifact",
            LIST_ARTIFACT,
            json!({ "i": { "kind": "CERTIFICATE", "artifactId": cert, "title": format!("Cert {round}") } }),
        )
        .await["listing"]["id"]
            .clone();
        let r = ok(
            &app,
            cm,
            "requestAccess",
            &request_q(),
            json!({ "i": { "connectionId": conn, "listingId": listing, "access": "METADATA" } }),
        )
        .await["request"]["id"]
            .clone();
        let approve = run(
            &app,
            pm,
            "approveAccessRequest",
            &approve_m,
            json!({ "i": { "requestId": r } }),
        );
        let deny = run(
            &app,
            pm,
            "denyAccessRequest",
            &deny_m,
            json!({ "i": { "requestId": r, "reason": "no" } }),
        );
        let (a, d) = tokio::join!(approve, deny);
        let approved = a["userErrors"] == json!([]);
        let denied = d["userErrors"] == json!([]);
        assert!(approved != denied, "exactly one decision wins: {a:?} {d:?}");
        let loser = if approved { &d } else { &a };
        assert_eq!(code(loser), "CONFLICT", "{loser:?}");
        let state = read(
            &app,
            cm,
            "query($id: ID!) { node(id: $id) { ... on AccessRequest { status grantId history { action } } } }",
            json!({ "id": r }),
        )
        .await;
        let n = &state["node"];
        let actions: Vec<&str> = n["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        let live = shared_with_me(&app, cm, false)
            .await
            .iter()
            .filter(|g| g["artifactId"] == cert)
            .count();
        if approved {
            assert_eq!(n["status"], "APPROVED");
            assert!(n["grantId"].is_string());
            assert_eq!(actions, ["REQUESTED", "APPROVED"]);
            assert_eq!(live, 1);
        } else {
            assert_eq!(n["status"], "DENIED");
            assert!(n["grantId"].is_null());
            assert_eq!(actions, ["REQUESTED", "DENIED"]);
            assert_eq!(live, 0, "a denied request leaves no grant");
        }
    }

    // An invitation accepted while the customer withdraws it: never both "accepted" and
    // "cancelled". Either the cancellation wins (the acceptance is a CONFLICT), or the
    // acceptance wins and the customer's request then ends the active connection (or loses
    // the race and is a CONFLICT); the stored state is the last winner's.
    for round in 0..3 {
        let vendor = create_vendor(&app, cm, &format!("Race vendor {round}"), 2).await;
        let other = fixture(&app, &format!("racer{round}")).await;
        let c = invite(&app, cm, &vendor, &other.tenant.slug).await;
        let accept = run(
            &app,
            other.token("owner"),
            "answerConnection",
            &answer_m,
            json!({ "i": { "connectionId": c["id"], "accept": true } }),
        );
        let cancel = run(
            &app,
            cm,
            "endConnection",
            &end_m,
            json!({ "i": { "connectionId": c["id"] } }),
        );
        let (a, e) = tokio::join!(accept, cancel);
        let accepted = a["userErrors"] == json!([]);
        let ended = e["connection"]["status"].as_str();
        let expected = match ended {
            Some("CANCELLED") => {
                assert_eq!(
                    code(&a),
                    "CONFLICT",
                    "a cancelled invitation cannot be accepted: {a:?}"
                );
                "CANCELLED"
            }
            Some("ENDED") => {
                assert!(accepted, "only an accepted connection can end: {a:?}");
                "ENDED"
            }
            _ => {
                assert!(accepted, "one of the two wins: {a:?} {e:?}");
                assert_eq!(code(&e), "CONFLICT", "{e:?}");
                "ACTIVE"
            }
        };
        let state = read(
            &app,
            cm,
            "query($id: ID!) { node(id: $id) { ... on TenantConnection { status } } }",
            json!({ "id": c["id"] }),
        )
        .await;
        assert_eq!(state["node"]["status"], expected);
    }
}

/// A 2013-edition certificate transitioned to 2022 before 2025-10-31 and recertified stays
/// valid after that date (IAF MD 26): the customer's compliance, judged on 2026-06-01, counts
/// the shared certificate as valid, as its status says.
async fn transitioned_2013(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Pair { cust, prov, .. } = pair(&app).await;
    let pm = prov.token("cm");
    let id = ok(
        &app,
        pm,
        "createCertificate",
        CREATE_CERT,
        json!({ "i": { "standard": "ISO27001", "edition": "E2013", "certificateNumber": "OLD-1",
                 "certificationBody": "Example Certification Ltd", "accreditationBody": "UKAS",
                 "scope": "Hosting", "sites": ["Data centre"] } }),
    )
    .await["certificate"]["id"]
        .clone();
    decide(
        &app,
        pm,
        &id,
        "CERTIFICATION",
        "2022-12-01",
        Some("2025-11-30"),
    )
    .await;
    decide(&app, pm, &id, "TRANSITION", "2024-06-01", None).await;
    decide(
        &app,
        pm,
        &id,
        "RECERTIFICATION",
        "2025-10-15",
        Some("2028-11-30"),
    )
    .await;
    grant(&app, pm, share(&cust, "CERTIFICATE", Some(&id), "METADATA")).await;
    ok(
        &app,
        cust.token("cm"),
        "setVendorPolicy",
        SET_POLICY,
        json!({ "i": { "tiers": [{ "tier": 2, "requirements": [{ "anyOf": ["ISO27001"] }] }] } }),
    )
    .await;
    let d = read(
        &app,
        cust.token("cm"),
        "{ vendors { edges { node { sharedArtifacts(on: \"2026-06-01\") { status validUntil }
             compliance(on: \"2026-06-01\") { status requirements { state validUntil sharedArtifact { status } } } } } }
           vendorCompliance(on: \"2026-06-01\") { compliant nonCompliant } }",
        json!({}),
    )
    .await;
    let v = &nodes(&d["vendors"])[0];
    assert_eq!(
        v["sharedArtifacts"],
        json!([{ "status": "active", "validUntil": "2028-11-30" }])
    );
    assert_eq!(v["compliance"]["status"], "COMPLIANT", "{v:?}");
    assert_eq!(v["compliance"]["requirements"][0]["state"], "VALID");
    assert_eq!(
        v["compliance"]["requirements"][0]["validUntil"],
        "2028-11-30"
    );
    assert_eq!(
        v["compliance"]["requirements"][0]["sharedArtifact"]["status"],
        "active"
    );
    assert_eq!(d["vendorCompliance"]["compliant"], 1);
    assert_eq!(d["vendorCompliance"]["nonCompliant"], 0);
}
