//! Framework catalogs and crosswalks through the API: the shipped catalogs read as the regulations
//! and NIST's reference data say they should, derived links carry their path, and everything a
//! tenant adds or decides (reviews, its own frameworks and links, licensed text) stays with that
//! tenant. Expected values are computed from `tests/fixtures/reference-data` where possible.

use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use grc_store::TenantScope;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

both_backends! {
    shared_catalogs_read_as_published => catalog_reads;
    derived_links_carry_their_path => derived_paths;
    crosswalk_entries_list_every_path => crosswalk_entries;
    reviews_belong_to_one_tenant => review_isolation;
    custom_frameworks_belong_to_one_tenant => custom_isolation;
    custom_framework_input_is_checked => custom_validation;
    licensed_text_belongs_to_one_tenant => licensed_text;
    only_managers_change_the_catalog => roles;
    bad_arguments_are_refused_and_change_nothing => bad_input;
    every_catalog_mutation_is_audited => audit_trail;
    concurrent_catalog_reads_all_answer => concurrent_reads;
}

const ISO: &str = "iso27001-2022";
const HIPAA: &str = "hipaa-sr";
const NIST: &str = "nist-sp800-53r5";
const DERIVED: &str = "hipaa-sr_to_iso27001-2022_derived";
const HIPAA_TO_NIST: &str = "hipaa-sr_to_sp800-53r5";
const NIST_TO_ISO: &str = "sp800-53r5_to_iso27001-2022";

const SHARED_KEYS: [&str; 7] = [
    "hipaa-sr",
    "iso27001-2013",
    "iso27001-2022",
    "iso27701-2019",
    "iso27701-2025",
    "nist-csf-2.0",
    "nist-sp800-53r5",
];

/// ISO/IEC 27001:2022: clauses 4-10 with their sub-clauses (41 entries).
const ISO_CLAUSES: [&str; 41] = [
    "4", "4.1", "4.2", "4.3", "4.4", "5", "5.1", "5.2", "5.3", "6", "6.1", "6.1.1", "6.1.2",
    "6.1.3", "6.2", "6.3", "7", "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3", "8",
    "8.1", "8.2", "8.3", "9", "9.1", "9.2", "9.2.1", "9.2.2", "9.3", "9.3.1", "9.3.2", "9.3.3",
    "10", "10.1", "10.2",
];

/// ISO/IEC 27001:2022 Annex A themes and their control counts (5: 37, 6: 8, 7: 14, 8: 34).
const ANNEX_A: [(u32, u32); 4] = [(5, 37), (6, 8), (7, 14), (8, 34)];

/// The 11 controls new in ISO/IEC 27001:2022 Annex A.
const NEW_IN_2022: [&str; 11] = [
    "A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10", "A.8.11", "A.8.12", "A.8.16",
    "A.8.23", "A.8.28",
];

fn annex_a(theme: Option<u32>) -> Vec<String> {
    ANNEX_A
        .iter()
        .filter(|(t, _)| theme.is_none_or(|x| x == *t))
        .flat_map(|(t, n)| (1..=*n).map(move |i| format!("A.{t}.{i}")))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reference data (NIST, public domain)

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/reference-data/derived-from-nist/"
);

/// A CSV file as rows keyed by the header (fields trimmed; quoted fields and CRLF handled).
fn csv(name: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(format!("{REFERENCE}{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut rows: Vec<Vec<String>> = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    let header: Vec<String> = rows.remove(0).iter().map(|h| h.trim().to_owned()).collect();
    rows.into_iter()
        .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.iter().map(|f| f.trim().to_owned()))
                .collect()
        })
        .collect()
}

/// One row of NIST's derived HIPAA standard -> ISO/IEC 27001:2022 composition.
#[derive(Debug, Clone)]
struct DerivedRow {
    hipaa: String,
    iso: String,
    via: BTreeSet<String>,
}

fn derived_rows() -> Vec<DerivedRow> {
    csv("DERIVED_hipaa_standard_to_iso27001-2022_via_sp800-53r5.csv")
        .into_iter()
        .map(|r| DerivedRow {
            hipaa: r["hipaa_standard"].clone(),
            iso: r["iso27001_2022_ref"].clone(),
            via: r["via_sp800_53r5_controls"]
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}

/// (SP 800-53 control, ISO ref) pairs of NIST OLIR #155.
fn nist_to_iso() -> Vec<(String, String)> {
    csv("sp800-53r5_to_iso27001-2022_olir155.csv")
        .into_iter()
        .map(|r| {
            (
                r["sp800_53r5_control"].clone(),
                r["iso27001_2022_ref"].clone(),
            )
        })
        .collect()
}

/// (HIPAA element label, SP 800-53 control) pairs of NIST's SP 800-66r2 mapping.
fn hipaa_to_nist() -> Vec<(String, String)> {
    csv("hipaa_sr_to_sp800-53r5.csv")
        .into_iter()
        .map(|r| (r["hipaa_element"].clone(), r["sp800_53r5_control"].clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// GraphQL helpers

/// The data of an answer that must have no errors.
fn ok(r: &Answer, what: &str) -> Value {
    assert!(
        r.body["errors"].is_null() && r.status == 200,
        "{what}: {} {:?}",
        r.status,
        r.body
    );
    r.data().clone()
}

async fn data(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let r = app.gql(token, None, query, vars).await;
    ok(&r, query)
}

/// Runs a mutation and returns its payload (`field`), whatever its user errors.
async fn payload(app: &TestApp, token: &str, field: &str, query: &str, vars: Value) -> Value {
    data(app, token, query, vars).await[field].clone()
}

/// Runs a mutation that must succeed and returns its payload.
async fn mutate(app: &TestApp, token: &str, field: &str, query: &str, vars: Value) -> Value {
    let p = payload(app, token, field, query, vars).await;
    assert_eq!(p["userErrors"], json!([]), "{field}: {p}");
    p
}

/// Runs a mutation that must be refused with one user error; returns the error's code and the
/// payload.
async fn refused(
    app: &TestApp,
    token: &str,
    field: &str,
    query: &str,
    vars: Value,
) -> (String, Value) {
    let p = payload(app, token, field, query, vars).await;
    let errors = p["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("{field}: {p}"));
    assert_eq!(errors.len(), 1, "{field}: {p}");
    let code = errors[0]["code"].as_str().unwrap().to_owned();
    (code, p)
}

/// The top-level error code of a request that must fail as a whole.
async fn top_error(app: &TestApp, token: &str, query: &str, vars: Value) -> String {
    let r = app.gql(token, None, query, vars).await;
    r.code()
        .unwrap_or_else(|| panic!("expected an error: {query}: {:?}", r.body))
        .to_owned()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn refs(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| s(&c["ref"]).to_owned())
        .collect()
}

/// The uuid (hyphenated) inside an API global id.
fn uuid_of(gid: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(gid)
        .unwrap_or_else(|_| panic!("not a global id: {gid}"));
    let text = String::from_utf8(raw).unwrap();
    let (_, id) = text.split_once(':').unwrap();
    uuid::Uuid::parse_str(id).unwrap().to_string()
}

const CONTROLS_PAGE: &str = "query($k: String!, $f: ControlFilter, $n: Int!, $a: String) {
  framework(key: $k) { controls(first: $n, after: $a, filter: $f) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { ref aliases tags requirement baselines } } } } }";

/// Every control of a framework matching `filter`, read `page` at a time with `first`/`after`;
/// checks the pages fit together (same total, cursors, no repeats).
async fn all_controls(
    app: &TestApp,
    token: &str,
    key: &str,
    filter: &Value,
    page: i64,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    loop {
        let d = data(
            app,
            token,
            CONTROLS_PAGE,
            json!({ "k": key, "f": filter, "n": page, "a": after }),
        )
        .await;
        let c = &d["framework"]["controls"];
        let t = c["totalCount"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(t), t, "totalCount moved between pages");
        let edges = c["edges"].as_array().unwrap();
        let left = t - out.len() as u64;
        assert_eq!(edges.len() as u64, left.min(page as u64), "{key} page size");
        assert_eq!(c["pageInfo"]["hasPreviousPage"], json!(!out.is_empty()));
        let more = c["pageInfo"]["hasNextPage"].as_bool().unwrap();
        assert_eq!(more, left > page as u64, "{key} hasNextPage");
        if let Some(last) = edges.last() {
            assert_eq!(last["cursor"], c["pageInfo"]["endCursor"]);
        }
        out.extend(edges.iter().map(|e| e["node"].clone()));
        if !more {
            break;
        }
        after = Some(s(&c["pageInfo"]["endCursor"]).to_owned());
    }
    let distinct: BTreeSet<&str> = out.iter().map(|c| s(&c["ref"])).collect();
    assert_eq!(distinct.len(), out.len(), "{key}: a control came twice");
    assert_eq!(out.len() as u64, total.unwrap_or(0));
    out
}

/// Label (ref or alias) -> ref, over a framework's controls as the API shows them.
async fn labels(app: &TestApp, token: &str, key: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for c in all_controls(app, token, key, &Value::Null, 100).await {
        let r = s(&c["ref"]).to_owned();
        for a in c["aliases"].as_array().unwrap() {
            assert!(
                map.insert(s(a).to_owned(), r.clone()).is_none(),
                "alias {a}"
            );
        }
        assert!(map.insert(r.clone(), r).is_none());
    }
    map
}

fn label<'a>(map: &'a HashMap<String, String>, l: &str) -> &'a str {
    map.get(l)
        .unwrap_or_else(|| panic!("{l} is neither a ref nor an alias"))
}

async fn framework_id(app: &TestApp, token: &str, key: &str) -> Option<String> {
    let d = data(
        app,
        token,
        "query($k: String!) { framework(key: $k) { id } }",
        json!({ "k": key }),
    )
    .await;
    d["framework"]["id"].as_str().map(str::to_owned)
}

async fn control_id(app: &TestApp, token: &str, key: &str, reference: &str) -> String {
    let d = data(
        app,
        token,
        "query($k: String!, $r: String!) { framework(key: $k) { control(ref: $r) { id } } }",
        json!({ "k": key, "r": reference }),
    )
    .await;
    s(&d["framework"]["control"]["id"]).to_owned()
}

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
  ... on Framework { key controlCount }
  ... on Control { ref title }
  ... on Mapping { method state defaultState relationship note review { state note reviewedBy }
                   source { ref } target { ref } } } }";

async fn node(app: &TestApp, token: &str, id: &str) -> Value {
    data(app, token, NODE, json!({ "id": id })).await["node"].clone()
}

/// What a path shows: its ends, relationship, state and every hop with its link.
const PATH: &str = "length relationship state source { ref } target { ref }
  through { ref framework { key } }
  hops { reversed mapping { id method state defaultState source { ref } target { ref }
         via { ref } provenance { crosswalk } review { state } } }";

async fn mappings(
    app: &TestApp,
    token: &str,
    key: &str,
    reference: &str,
    to: Option<&str>,
    hops: i64,
    rejected: bool,
) -> Vec<Value> {
    let q = format!(
        "query($k: String!, $r: String!, $to: String, $h: Int!, $x: Boolean!) {{
           framework(key: $k) {{ control(ref: $r) {{
             mappings(toFramework: $to, maxHops: $h, includeRejected: $x) {{ {PATH} }} }} }} }}"
    );
    let d = data(
        app,
        token,
        &q,
        json!({ "k": key, "r": reference, "to": to, "h": hops, "x": rejected }),
    )
    .await;
    d["framework"]["control"]["mappings"]
        .as_array()
        .unwrap_or_else(|| panic!("{d}"))
        .clone()
}

/// The ref of a HIPAA control named by its ref or an alias (NIST's labels).
async fn hipaa_ref(app: &TestApp, token: &str, label: &str) -> String {
    let d = data(
        app,
        token,
        "query($r: String!) { framework(key: \"hipaa-sr\") { control(ref: $r) { ref } } }",
        json!({ "r": label }),
    )
    .await;
    s(&d["framework"]["control"]["ref"]).to_owned()
}

/// The id of the shared link between an ISO control and a HIPAA control (by ref or alias).
async fn shared_link(app: &TestApp, token: &str, iso_ref: &str, hipaa_label: &str) -> String {
    let hipaa = hipaa_ref(app, token, hipaa_label).await;
    mappings(app, token, ISO, iso_ref, Some(HIPAA), 1, true)
        .await
        .iter()
        .find(|p| p["target"]["ref"] == hipaa.as_str())
        .map(|p| s(&p["hops"][0]["mapping"]["id"]).to_owned())
        .unwrap_or_else(|| panic!("no link {iso_ref} - {hipaa}"))
}

/// A crosswalk's count and the state of each entry.
async fn crosswalk(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    hops: i64,
    rejected: bool,
    group: Option<&str>,
) -> (u64, BTreeMap<String, usize>) {
    let d = data(
        app,
        token,
        "query($f: String!, $t: String!, $h: Int!, $x: Boolean!, $g: String) {
           crosswalk(from: $f, to: $t, maxHops: $h, includeRejected: $x, group: $g) {
             count entries { state } } }",
        json!({ "f": from, "t": to, "h": hops, "x": rejected, "g": group }),
    )
    .await;
    let cw = &d["crosswalk"];
    let mut states = BTreeMap::new();
    for e in cw["entries"].as_array().unwrap() {
        *states.entry(s(&e["state"]).to_owned()).or_default() += 1;
    }
    let count = cw["count"].as_u64().unwrap();
    assert_eq!(count as usize, states.values().sum::<usize>());
    (count, states)
}

async fn crosswalk_count(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    group: Option<&str>,
) -> u64 {
    crosswalk(app, token, from, to, 1, false, group).await.0
}

/// The (source ref, target ref) pairs of a crosswalk's OSCAL export.
async fn oscal_pairs(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
) -> (Value, BTreeSet<(String, String)>) {
    let d = data(
        app,
        token,
        "query($f: String!, $t: String!) { crosswalkOscal(from: $f, to: $t) }",
        json!({ "f": from, "t": to }),
    )
    .await;
    let doc: Value = serde_json::from_str(s(&d["crosswalkOscal"])).unwrap();
    let maps = doc["mapping-collection"]["mappings"][0]["maps"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .clone();
    let pairs: BTreeSet<(String, String)> = maps
        .iter()
        .map(|m| {
            (
                s(&m["sources"][0]["id-ref"]).to_owned(),
                s(&m["targets"][0]["id-ref"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), maps.len(), "an OSCAL pair came twice");
    (doc, pairs)
}

async fn audit_events(app: &TestApp, token: &str) -> Vec<Value> {
    let d = data(
        app,
        token,
        "{ auditEvents(first: 100) { edges { node { seq action actor subjectType subjectId change } } } }",
        json!({}),
    )
    .await;
    d["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// What a tenant has stored on the catalog side, read from the store: audit events, reviews,
/// its own links, frameworks and controls.
#[derive(Debug, PartialEq, Eq)]
struct Stored {
    audit: u64,
    reviews: BTreeSet<(uuid::Uuid, String)>,
    links: BTreeSet<uuid::Uuid>,
    frameworks: BTreeMap<String, (String, Vec<String>)>,
}

async fn stored(app: &TestApp, f: &Fixture) -> Stored {
    let tx = app
        .store
        .tenant_tx(TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let mut frameworks = BTreeMap::new();
    for h in tx.custom_frameworks().await.unwrap() {
        let full = tx.custom_framework(h.framework.id).await.unwrap().unwrap();
        frameworks.insert(
            full.framework.key.clone(),
            (
                full.framework.name.clone(),
                full.framework
                    .controls
                    .iter()
                    .map(|c| format!("{}={}", c.reference, c.title))
                    .collect(),
            ),
        );
    }
    let out = Stored {
        audit: tx.audit_event_count().await.unwrap(),
        reviews: tx
            .reviews()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.mapping_id, r.state.as_str().to_owned()))
            .collect(),
        links: tx
            .tenant_links()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect(),
        frameworks,
    };
    tx.commit().await.unwrap();
    out
}

// ---------------------------------------------------------------------------------------------
// Mutations

const CONFIRM: &str = "mutation($id: ID!, $note: String) {
  confirmMapping(input: {mappingId: $id, note: $note}) {
    mapping { id state defaultState review { state note reviewedBy } }
    userErrors { field message code } } }";
const REJECT: &str = "mutation($id: ID!, $note: String) {
  rejectMapping(input: {mappingId: $id, note: $note}) {
    mapping { id state review { state note reviewedBy } }
    userErrors { field message code } } }";
const CLEAR_REVIEW: &str = "mutation($id: ID!) {
  clearMappingReview(input: {mappingId: $id}) {
    mapping { id state review { state } } userErrors { field message code } } }";
const ADD_MAPPING: &str = "mutation($s: ID!, $t: ID!, $rel: Relationship!, $note: String) {
  addMapping(input: {sourceControlId: $s, targetControlId: $t, relationship: $rel, note: $note}) {
    mapping { id method state defaultState relationship note source { ref } target { ref }
              provenance { crosswalk source } review { state } }
    userErrors { field message code } } }";
const REMOVE_MAPPING: &str = "mutation($id: ID!) {
  removeMapping(input: {mappingId: $id}) { removedMappingId userErrors { field message code } } }";
const CREATE_FRAMEWORK: &str = "mutation($input: CreateFrameworkInput!) {
  createFramework(input: $input) {
    framework { id key name version publisher custom kind controlCount
      controls(first: 100) { edges { node { id ref title parent { ref } children { ref } group { ref } } } } }
    userErrors { field message code } } }";
const UPDATE_FRAMEWORK: &str = "mutation($id: ID!, $name: String) {
  updateFramework(input: {frameworkId: $id, name: $name}) {
    framework { name } userErrors { field message code } } }";
const DELETE_FRAMEWORK: &str = "mutation($id: ID!) {
  deleteFramework(input: {frameworkId: $id}) { deletedFrameworkId userErrors { field message code } } }";
const ADD_CONTROL: &str = "mutation($id: ID!, $c: ControlInput!) {
  addControl(input: {frameworkId: $id, control: $c}) {
    control { id ref parent { ref } } userErrors { field message code } } }";
const UPDATE_CONTROL: &str = "mutation($id: ID!, $title: String) {
  updateControl(input: {controlId: $id, title: $title}) {
    control { ref title } userErrors { field message code } } }";
const REMOVE_CONTROL: &str = "mutation($id: ID!) {
  removeControl(input: {controlId: $id}) { removedControlId userErrors { field message code } } }";
const SET_TEXT: &str = "mutation($id: ID!, $text: String!, $source: String) {
  setLicensedText(input: {controlId: $id, text: $text, source: $source}) {
    control { ref licensedText { text source } } userErrors { field message code } } }";
const CLEAR_TEXT: &str = "mutation($id: ID!) {
  clearLicensedText(input: {controlId: $id}) {
    control { ref licensedText { text } } userErrors { field message code } } }";
const IMPORT: &str = "mutation($doc: String!, $key: String) {
  importOscal(input: {document: $doc, key: $key}) {
    framework { key custom controlCount } controlCount mappingsAdded
    userErrors { field message code } } }";

/// A contract's security schedule: two top-level controls, one with a child.
fn acme_schedule(key: &str) -> Value {
    json!({
        "key": key,
        "name": "Acme security schedule",
        "version": "2024-1",
        "publisher": "Acme Health Plans",
        "groups": [{ "ref": "S", "title": "Schedule 3" }],
        "controls": [
            { "ref": "S-1", "title": "Access control", "groupRef": "S", "tags": ["access"] },
            { "ref": "S-1.1", "title": "Quarterly access reviews", "parentRef": "S-1", "groupRef": "S" },
            { "ref": "S-2", "title": "Incident notice", "text": "Notify Acme within 24 hours." }
        ]
    })
}

/// A framework created through the API: its id and its controls' ids by ref.
struct Created {
    id: String,
    controls: HashMap<String, String>,
}

async fn create_framework(app: &TestApp, token: &str, input: Value) -> Created {
    let p = mutate(
        app,
        token,
        "createFramework",
        CREATE_FRAMEWORK,
        json!({ "input": input }),
    )
    .await;
    let f = &p["framework"];
    Created {
        id: s(&f["id"]).to_owned(),
        controls: f["controls"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    s(&e["node"]["ref"]).to_owned(),
                    s(&e["node"]["id"]).to_owned(),
                )
            })
            .collect(),
    }
}

/// A createFramework that must be refused with `code` on `field`, creating nothing.
async fn create_refused(app: &TestApp, token: &str, input: Value, code: &str, field: &[&str]) {
    let (got, p) = refused(
        app,
        token,
        "createFramework",
        CREATE_FRAMEWORK,
        json!({ "input": input }),
    )
    .await;
    assert_eq!(got, code, "{p}");
    assert_eq!(p["framework"], Value::Null);
    assert_eq!(p["userErrors"][0]["field"], json!(field), "{p}");
}

async fn add_mapping(app: &TestApp, token: &str, source: &str, target: &str, rel: &str) -> Value {
    mutate(
        app,
        token,
        "addMapping",
        ADD_MAPPING,
        json!({ "s": source, "t": target, "rel": rel }),
    )
    .await["mapping"]
        .clone()
}

/// A small OSCAL 1.1 catalog: a group with two controls, the second with an enhancement.
fn oscal_catalog() -> String {
    json!({ "catalog": {
        "uuid": "5b1f6d0e-3c1a-4d43-9a57-2f8f1d7a9c01",
        "metadata": {
            "title": "Acme baseline", "last-modified": "2024-05-01T00:00:00Z",
            "version": "1.0", "oscal-version": "1.1.2"
        },
        "groups": [{ "id": "ab", "title": "Acme baseline", "controls": [
            { "id": "ab-1", "title": "First" },
            { "id": "ab-2", "title": "Second", "controls": [{ "id": "ab-2.1", "title": "Sub" }] }
        ] }]
    } })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// 1. The shared catalogs

async fn catalog_reads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let t = a.token("viewer");

    // Every shared framework, in key order, with its size from the source.
    let d = data(
        &app,
        t,
        "{ frameworks { id key custom controlCount } }",
        json!({}),
    )
    .await;
    let list = d["frameworks"].as_array().unwrap();
    let keys: Vec<&str> = list.iter().map(|f| s(&f["key"])).collect();
    assert_eq!(keys, SHARED_KEYS);
    assert!(list.iter().all(|f| f["custom"] == false));
    let count = |k: &str| list.iter().find(|f| f["key"] == k).unwrap()["controlCount"].clone();
    let hipaa_rows = csv("hipaa_security_rule_elements.csv");
    let hipaa_elements = hipaa_rows
        .iter()
        .filter(|r| r["element_type"] != "section")
        .count();
    assert_eq!(hipaa_elements, 68);
    assert_eq!(count(HIPAA), json!(hipaa_elements));
    let nist_rows = csv("sp800-53r5_controls.csv");
    assert_eq!(count(NIST), json!(nist_rows.len()));
    assert_eq!(count(NIST), json!(1196));
    assert_eq!(count(ISO), json!(ISO_CLAUSES.len() + annex_a(None).len()));
    assert_eq!(count(ISO), json!(134));

    // Groups and themes, in order, every control once across pages of any size.
    let refs_of = |cs: &[Value]| {
        cs.iter()
            .map(|c| s(&c["ref"]).to_owned())
            .collect::<Vec<_>>()
    };
    let a5 = all_controls(&app, t, ISO, &json!({ "group": "A.5" }), 100).await;
    assert_eq!(refs_of(&a5), annex_a(Some(5)));
    assert_eq!(a5.len(), 37);
    for (theme, n) in ANNEX_A {
        let g = all_controls(&app, t, ISO, &json!({ "group": format!("A.{theme}") }), 100).await;
        assert_eq!(g.len() as u32, n, "A.{theme}");
    }
    let annex = all_controls(&app, t, ISO, &json!({ "group": "A" }), 100).await;
    assert_eq!(refs_of(&annex), annex_a(None));
    let clauses = all_controls(&app, t, ISO, &json!({ "group": "clauses" }), 100).await;
    assert_eq!(refs_of(&clauses), ISO_CLAUSES);
    let everything: Vec<String> = ISO_CLAUSES
        .iter()
        .map(|c| (*c).to_owned())
        .chain(annex_a(None))
        .collect();
    for page in [100, 25, 7, 1] {
        let all = all_controls(&app, t, ISO, &Value::Null, page).await;
        assert_eq!(refs_of(&all), everything, "pages of {page}");
    }

    // Backwards: the three controls before A.5.1 are the end of clause 10.
    let cursor = data(
        &app,
        t,
        "{ framework(key: \"iso27001-2022\") { controls(first: 1, filter: {group: \"A\"}) { edges { cursor } } } }",
        json!({}),
    )
    .await["framework"]["controls"]["edges"][0]["cursor"]
        .clone();
    let d = data(
        &app,
        t,
        "query($c: String!) { framework(key: \"iso27001-2022\") { controls(last: 3, before: $c) {
           totalCount pageInfo { hasPreviousPage hasNextPage } edges { node { ref } } } } }",
        json!({ "c": cursor }),
    )
    .await;
    let c = &d["framework"]["controls"];
    let back: Vec<&str> = c["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["node"]["ref"]))
        .collect();
    assert_eq!(back, ["10", "10.1", "10.2"]);
    assert_eq!(
        c["pageInfo"],
        json!({ "hasPreviousPage": true, "hasNextPage": true })
    );
    assert_eq!(c["totalCount"], 134);

    // The 11 new controls of the 2022 edition.
    let new = all_controls(
        &app,
        t,
        ISO,
        &json!({ "group": "A", "tag": "new-in-2022" }),
        100,
    )
    .await;
    assert_eq!(refs_of(&new), NEW_IN_2022);

    // HIPAA implementation specifications: Required and Addressable as in 45 CFR 164.308-316.
    let hipaa_labels = labels(&app, t, HIPAA).await;
    for (word, api) in [("Required", "REQUIRED"), ("Addressable", "ADDRESSABLE")] {
        let want: BTreeSet<String> = hipaa_rows
            .iter()
            .filter(|r| r["requirement"] == word)
            .map(|r| label(&hipaa_labels, &r["cfr_citation_45CFR"]).to_owned())
            .collect();
        let got = all_controls(&app, t, HIPAA, &json!({ "requirement": api }), 100).await;
        assert!(got.iter().all(|c| c["requirement"] == api));
        assert_eq!(
            refs_of(&got).into_iter().collect::<BTreeSet<_>>(),
            want,
            "{word}"
        );
    }
    assert_eq!(
        all_controls(&app, t, HIPAA, &json!({ "requirement": "REQUIRED" }), 100)
            .await
            .len(),
        24
    );
    assert_eq!(
        all_controls(
            &app,
            t,
            HIPAA,
            &json!({ "requirement": "ADDRESSABLE" }),
            100
        )
        .await
        .len(),
        22
    );

    // SP 800-53 high baseline: NIST's 370 controls and enhancements.
    let want_high: BTreeSet<String> = nist_rows
        .iter()
        .filter(|r| r["baseline_high"] == "x")
        .map(|r| r["id"].clone())
        .collect();
    let high = all_controls(&app, t, NIST, &json!({ "baseline": "high" }), 100).await;
    assert_eq!(high.len(), 370);
    assert!(
        high.iter()
            .all(|c| c["baselines"].as_array().unwrap().contains(&json!("high")))
    );
    assert_eq!(
        refs_of(&high).into_iter().collect::<BTreeSet<_>>(),
        want_high
    );

    // One HIPAA specification: citation, requirement, its standard and the standard's specs.
    let spec = "164.308(a)(1)(ii)(A)";
    let row = hipaa_rows
        .iter()
        .find(|r| r["cfr_citation_45CFR"] == spec)
        .unwrap();
    let standard = &row["parent_standard"];
    let siblings: Vec<String> = hipaa_rows
        .iter()
        .filter(|r| &r["parent_standard"] == standard)
        .map(|r| r["cfr_citation_45CFR"].clone())
        .collect();
    let d = data(
        &app,
        t,
        "query($r: String!) { framework(key: \"hipaa-sr\") { control(ref: $r) {
           id ref title kind citation requirement status framework { key }
           parent { ref kind citation requirement children { ref requirement } } children { ref } } } }",
        json!({ "r": spec }),
    )
    .await;
    let c = &d["framework"]["control"];
    assert_eq!(c["ref"], spec);
    assert_eq!(c["title"], row["title"].as_str());
    assert_eq!(c["kind"], "implementation-specification");
    assert_eq!(c["citation"], format!("45 CFR {spec}"));
    assert_eq!(c["requirement"], "REQUIRED");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["framework"]["key"], HIPAA);
    assert_eq!(c["children"], json!([]));
    assert_eq!(c["parent"]["ref"], standard.as_str());
    assert_eq!(standard, "164.308(a)(1)(i)");
    assert_eq!(c["parent"]["kind"], "standard");
    assert_eq!(c["parent"]["citation"], "45 CFR 164.308(a)(1)(i)");
    assert_eq!(c["parent"]["requirement"], Value::Null);
    assert_eq!(refs(&c["parent"]["children"]), siblings);
    assert_eq!(siblings.len(), 4);
    let spec_id = s(&c["id"]).to_owned();

    // A control named by an alias NIST's mapping data uses.
    let d = data(
        &app,
        t,
        "{ framework(key: \"hipaa-sr\") { control(ref: \"164.308(a)(3)\") { ref aliases } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["framework"]["control"]["ref"], "164.308(a)(3)(i)");

    // node(id) and control(id) resolve each catalog kind.
    let fw = framework_id(&app, t, HIPAA).await.unwrap();
    let link = shared_link(&app, t, "A.5.15", label(&hipaa_labels, "164.308(a)(3)")).await;
    let d = data(
        &app,
        t,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
           ... on Framework { key } ... on Control { ref } ... on Mapping { method } } }",
        json!({ "ids": [fw, spec_id, link, "not-an-id"] }),
    )
    .await;
    assert_eq!(
        d["nodes"],
        json!([
            { "__typename": "Framework", "id": fw, "key": HIPAA },
            { "__typename": "Control", "id": spec_id, "ref": spec },
            { "__typename": "Mapping", "id": link, "method": "DERIVED" },
            null
        ])
    );
    let d = data(
        &app,
        t,
        "query($a: ID!, $b: ID!) { a: control(id: $a) { ref } b: control(id: $b) { ref }
           c: framework(id: $b) { key } d: framework(id: $a) { key } }",
        json!({ "a": spec_id, "b": fw }),
    )
    .await;
    assert_eq!(
        d,
        json!({ "a": { "ref": spec }, "b": null, "c": { "key": HIPAA }, "d": null })
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Derived links and chains

async fn derived_paths(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let hipaa = labels(&app, t, HIPAA).await;
    let hipaa_order: Vec<String> = all_controls(&app, t, HIPAA, &Value::Null, 100)
        .await
        .iter()
        .map(|c| s(&c["ref"]).to_owned())
        .collect();
    let rows = derived_rows();
    let iso = "A.5.15";

    // Direct: exactly NIST's derived links whose ISO side is A.5.15, read backwards.
    let want: BTreeMap<String, BTreeSet<String>> = rows
        .iter()
        .filter(|r| r.iso == iso)
        .map(|r| (label(&hipaa, &r.hipaa).to_owned(), r.via.clone()))
        .collect();
    assert_eq!(want.len(), 5);
    let direct = mappings(&app, t, ISO, iso, Some(HIPAA), 1, false).await;
    let mut got = BTreeMap::new();
    for p in &direct {
        assert_eq!(p["length"], 1, "{p}");
        assert_eq!(p["source"]["ref"], iso);
        assert_eq!(p["state"], "INFORMATIVE");
        assert_eq!(p["relationship"], "INTERSECTS_WITH");
        let hop = &p["hops"][0];
        assert_eq!(hop["reversed"], true);
        let m = &hop["mapping"];
        assert_eq!(m["method"], "DERIVED");
        assert_eq!(m["state"], "INFORMATIVE");
        assert_eq!(m["defaultState"], "INFORMATIVE");
        assert_eq!(m["review"], Value::Null);
        assert_eq!(m["provenance"]["crosswalk"], DERIVED);
        assert_eq!(m["source"]["ref"], p["target"]["ref"]);
        assert_eq!(m["target"]["ref"], iso);
        let via: BTreeSet<String> = refs(&m["via"]).into_iter().collect();
        let through: BTreeSet<String> = refs(&p["through"]).into_iter().collect();
        assert_eq!(through, via, "a derived link's path is its via controls");
        assert!(
            p["through"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["framework"]["key"] == NIST)
        );
        got.insert(s(&p["target"]["ref"]).to_owned(), via);
    }
    assert_eq!(got, want);
    assert_eq!(direct.len(), want.len());
    // In the HIPAA framework's order.
    let pos = |r: &Value| hipaa_order.iter().position(|x| x == s(r)).unwrap();
    let order: Vec<usize> = direct.iter().map(|p| pos(&p["target"]["ref"])).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // Two hops: also A.5.15 <- SP 800-53 control <- HIPAA element, from the two NIST mappings.
    let nist: Vec<String> = nist_to_iso()
        .into_iter()
        .filter(|(_, i)| i == iso)
        .map(|(n, _)| n)
        .collect();
    let mut want2: Vec<(String, String)> = hipaa_to_nist()
        .into_iter()
        .filter(|(_, n)| nist.contains(n))
        .map(|(h, n)| (label(&hipaa, &h).to_owned(), n))
        .collect();
    want2.sort();
    assert_eq!(want2.len(), 19);
    // No target has more paths than the per-pair cap (5), so every chain is listed.
    for target in want2.iter().map(|(h, _)| h) {
        let n = want2.iter().filter(|(h, _)| h == target).count()
            + usize::from(want.contains_key(target));
        assert!(n <= 5, "{target}");
    }
    let chained = mappings(&app, t, ISO, iso, Some(HIPAA), 2, false).await;
    let lengths: Vec<i64> = chained
        .iter()
        .map(|p| p["length"].as_i64().unwrap())
        .collect();
    assert!(
        lengths.windows(2).all(|w| w[0] <= w[1]),
        "shortest first: {lengths:?}"
    );
    assert_eq!(chained[..direct.len()], direct[..]);
    let mut got2 = Vec::new();
    for p in &chained[direct.len()..] {
        assert_eq!(p["length"], 2, "{p}");
        assert_eq!(p["relationship"], "INTERSECTS_WITH");
        assert_eq!(p["state"], "INFORMATIVE");
        let (h0, h1) = (&p["hops"][0], &p["hops"][1]);
        assert_eq!(h0["reversed"], true);
        assert_eq!(h0["mapping"]["method"], "PUBLISHED");
        assert_eq!(h0["mapping"]["provenance"]["crosswalk"], NIST_TO_ISO);
        assert_eq!(h0["mapping"]["target"]["ref"], iso);
        assert_eq!(h1["reversed"], true);
        assert_eq!(h1["mapping"]["method"], "PUBLISHED");
        assert_eq!(h1["mapping"]["provenance"]["crosswalk"], HIPAA_TO_NIST);
        assert_eq!(h1["mapping"]["source"]["ref"], p["target"]["ref"]);
        assert_eq!(h1["mapping"]["target"], h0["mapping"]["source"]);
        let through = p["through"].as_array().unwrap();
        assert_eq!(through.len(), 1, "{p}");
        assert_eq!(through[0]["framework"]["key"], NIST);
        assert_eq!(through[0]["ref"], h0["mapping"]["source"]["ref"]);
        got2.push((
            s(&p["target"]["ref"]).to_owned(),
            s(&through[0]["ref"]).to_owned(),
        ));
    }
    got2.sort();
    assert_eq!(got2, want2);

    // Crosswalks count NIST's links.
    let annex_rows = rows.iter().filter(|r| r.iso.starts_with("A.")).count();
    assert_eq!(annex_rows, 307);
    assert_eq!(
        crosswalk_count(&app, t, ISO, HIPAA, Some("A")).await,
        annex_rows as u64
    );
    assert_eq!(
        crosswalk_count(&app, t, ISO, HIPAA, None).await,
        rows.len() as u64
    );
    assert_eq!(
        crosswalk_count(&app, t, HIPAA, ISO, None).await,
        rows.len() as u64
    );
    assert_eq!(rows.len(), 419);
    assert_eq!(
        crosswalk_count(&app, t, HIPAA, NIST, None).await,
        hipaa_to_nist().len() as u64
    );
    assert_eq!(
        crosswalk_count(&app, t, NIST, ISO, None).await,
        nist_to_iso().len() as u64
    );
    assert_eq!(nist_to_iso().len(), 642);
    let by_id = framework_id(&app, t, ISO).await.unwrap();
    assert_eq!(
        crosswalk_count(&app, t, &by_id, HIPAA, Some("A")).await,
        307
    );
    let (_, states) = crosswalk(&app, t, ISO, HIPAA, 1, false, Some("A")).await;
    assert_eq!(states, BTreeMap::from([("INFORMATIVE".to_owned(), 307)]));

    // Annex A controls with no derived link.
    let mapped: BTreeSet<&str> = rows.iter().map(|r| r.iso.as_str()).collect();
    let unmapped: Vec<String> = annex_a(None)
        .into_iter()
        .filter(|r| !mapped.contains(r.as_str()))
        .collect();
    let d = data(
        &app,
        t,
        "{ crosswalk(from: \"iso27001-2022\", to: \"hipaa-sr\", group: \"A\") { unmapped { ref } } }",
        json!({}),
    )
    .await;
    assert_eq!(refs(&d["crosswalk"]["unmapped"]), unmapped);

    // The OSCAL export holds NIST's pairs, marked as computed.
    let (doc, pairs) = oscal_pairs(&app, t, HIPAA, ISO).await;
    let want_pairs: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (label(&hipaa, &r.hipaa).to_owned(), r.iso.clone()))
        .collect();
    assert_eq!(pairs, want_pairs);
    let mc = &doc["mapping-collection"];
    assert_eq!(mc["provenance"]["method"], "automation");
    assert_eq!(mc["mappings"][0]["source-resource"]["href"], HIPAA);
    assert_eq!(mc["mappings"][0]["target-resource"]["href"], ISO);
    let rels: BTreeSet<&str> = mc["mappings"][0]["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(&m["relationship"]))
        .collect();
    assert_eq!(rels, BTreeSet::from(["intersects-with"]));
}

/// A crosswalk's entries name the controls they join, grouped by source control in the source
/// framework's order; with two hops it also holds every chain through SP 800-53 (up to the
/// per-pair cap of 5 paths, shortest first).
async fn crosswalk_entries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let hipaa = labels(&app, t, HIPAA).await;
    let rows = derived_rows();
    let want: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r.iso.starts_with("A.5."))
        .map(|r| (r.iso.clone(), label(&hipaa, &r.hipaa).to_owned()))
        .collect();
    let d = data(
        &app,
        t,
        "{ crosswalk(from: \"iso27001-2022\", to: \"hipaa-sr\", group: \"A.5\") {
             count entries { source { ref } target { ref } length relationship state
                             hops { reversed mapping { method } } } } }",
        json!({}),
    )
    .await;
    let entries = d["crosswalk"]["entries"].as_array().unwrap();
    let got: BTreeSet<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                s(&e["source"]["ref"]).to_owned(),
                s(&e["target"]["ref"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(entries.len(), want.len());
    assert_eq!(d["crosswalk"]["count"], json!(want.len()));
    for e in entries {
        assert_eq!(e["length"], 1);
        assert_eq!(e["relationship"], "INTERSECTS_WITH");
        assert_eq!(e["state"], "INFORMATIVE");
        assert_eq!(
            e["hops"],
            json!([{ "reversed": true, "mapping": { "method": "DERIVED" } }])
        );
    }
    let theme = annex_a(Some(5));
    let order: Vec<usize> = entries
        .iter()
        .map(|e| {
            theme
                .iter()
                .position(|r| e["source"]["ref"] == r.as_str())
                .unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");

    // Two hops over Annex A: per (ISO control, HIPAA control) pair, the derived link and the
    // chains ISO <- SP 800-53 <- HIPAA element, at most 5.
    let mut per_pair: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.iso.starts_with("A.")) {
        *per_pair
            .entry((r.iso.clone(), label(&hipaa, &r.hipaa).to_owned()))
            .or_default() += 1;
    }
    let hipaa_nist = hipaa_to_nist();
    for (n, i) in nist_to_iso().iter().filter(|(_, i)| i.starts_with("A.")) {
        for (h, _) in hipaa_nist.iter().filter(|(_, x)| x == n) {
            *per_pair
                .entry((i.clone(), label(&hipaa, h).to_owned()))
                .or_default() += 1;
        }
    }
    let want2: usize = per_pair.values().map(|n| (*n).min(5)).sum();
    let (count, states) = crosswalk(&app, t, ISO, HIPAA, 2, false, Some("A")).await;
    assert_eq!(count as usize, want2);
    assert_eq!(states.keys().collect::<Vec<_>>(), ["INFORMATIVE"]);
}

// ---------------------------------------------------------------------------------------------
// 3. Reviews are the tenant's own

async fn review_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let (ta, tb) = (a.token("owner"), b.token("owner"));
    let hipaa = labels(&app, ta, HIPAA).await;
    let iso = "A.5.15";
    let (h1, h2) = (
        label(&hipaa, "164.308(a)(3)").to_owned(),
        label(&hipaa, "164.310(b)").to_owned(),
    );
    let l1 = shared_link(&app, ta, iso, &h1).await;
    let l2 = shared_link(&app, ta, iso, &h2).await;
    let owner_actor = format!("user:{}", a.user_ids["owner"]);
    let b_before = stored(&app, &b).await;

    // A confirms one derived link and rejects another.
    let p = mutate(
        &app,
        ta,
        "confirmMapping",
        CONFIRM,
        json!({ "id": l1, "note": "matches our access policy" }),
    )
    .await;
    assert_eq!(
        p["mapping"],
        json!({ "id": l1, "state": "CONFIRMED", "defaultState": "INFORMATIVE",
                "review": { "state": "CONFIRMED", "note": "matches our access policy", "reviewedBy": owner_actor } })
    );
    let p = mutate(
        &app,
        ta,
        "rejectMapping",
        REJECT,
        json!({ "id": l2, "note": "not a physical control" }),
    )
    .await;
    assert_eq!(p["mapping"]["state"], "REJECTED");
    assert_eq!(p["mapping"]["review"]["reviewedBy"], owner_actor.as_str());

    // A sees its decisions everywhere: on the links, in paths and in crosswalks.
    for who in ["owner", "viewer"] {
        let n1 = node(&app, a.token(who), &l1).await;
        assert_eq!(n1["state"], "CONFIRMED");
        assert_eq!(n1["defaultState"], "INFORMATIVE");
        assert_eq!(n1["review"]["note"], "matches our access policy");
        let n2 = node(&app, a.token(who), &l2).await;
        assert_eq!(n2["state"], "REJECTED");
        assert_eq!(
            n2["review"],
            json!({ "state": "REJECTED", "note": "not a physical control", "reviewedBy": owner_actor })
        );
    }
    let visible = mappings(&app, ta, ISO, iso, Some(HIPAA), 1, false).await;
    let targets: Vec<&str> = visible.iter().map(|p| s(&p["target"]["ref"])).collect();
    assert_eq!(visible.len(), 4);
    assert!(!targets.contains(&h2.as_str()));
    let p1 = visible
        .iter()
        .find(|p| p["target"]["ref"] == h1.as_str())
        .unwrap();
    assert_eq!(p1["state"], "CONFIRMED");
    assert_eq!(p1["hops"][0]["mapping"]["review"]["state"], "CONFIRMED");
    let all = mappings(&app, ta, ISO, iso, Some(HIPAA), 1, true).await;
    assert_eq!(all.len(), 5);
    let p2 = all
        .iter()
        .find(|p| p["target"]["ref"] == h2.as_str())
        .unwrap();
    assert_eq!(p2["state"], "REJECTED");

    assert_eq!(crosswalk_count(&app, ta, ISO, HIPAA, Some("A")).await, 306);
    let (count, states) = crosswalk(&app, ta, ISO, HIPAA, 1, true, Some("A")).await;
    assert_eq!(count, 307);
    assert_eq!(
        states,
        BTreeMap::from([
            ("CONFIRMED".to_owned(), 1),
            ("INFORMATIVE".to_owned(), 305),
            ("REJECTED".to_owned(), 1)
        ])
    );
    let (_, pairs) = oscal_pairs(&app, ta, HIPAA, ISO).await;
    assert_eq!(pairs.len(), 418);
    assert!(!pairs.contains(&(h2.clone(), iso.to_owned())));
    assert!(pairs.contains(&(h1.clone(), iso.to_owned())));

    // B sees NIST's defaults, untouched.
    for l in [&l1, &l2] {
        let n = node(&app, tb, l).await;
        assert_eq!(n["state"], "INFORMATIVE", "{n}");
        assert_eq!(n["review"], Value::Null);
    }
    assert_eq!(crosswalk_count(&app, tb, ISO, HIPAA, Some("A")).await, 307);
    let (_, states) = crosswalk(&app, tb, ISO, HIPAA, 1, true, Some("A")).await;
    assert_eq!(states, BTreeMap::from([("INFORMATIVE".to_owned(), 307)]));
    assert!(
        mappings(&app, tb, ISO, iso, Some(HIPAA), 1, false)
            .await
            .iter()
            .all(|p| p["state"] == "INFORMATIVE")
    );
    assert_eq!(oscal_pairs(&app, tb, HIPAA, ISO).await.1.len(), 419);

    // B cannot clear A's review: it has none of its own.
    let (code, p) = refused(
        &app,
        tb,
        "clearMappingReview",
        CLEAR_REVIEW,
        json!({ "id": l1 }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(p["mapping"], Value::Null);
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "mappingId"]));
    assert_eq!(stored(&app, &b).await, b_before);
    assert_eq!(node(&app, ta, &l1).await["state"], "CONFIRMED");

    // B's own decision is B's: rejecting the link A confirmed leaves A's confirmation alone.
    mutate(&app, tb, "rejectMapping", REJECT, json!({ "id": l1 })).await;
    assert_eq!(node(&app, tb, &l1).await["state"], "REJECTED");
    assert_eq!(node(&app, ta, &l1).await["state"], "CONFIRMED");
    assert_eq!(crosswalk_count(&app, tb, ISO, HIPAA, Some("A")).await, 306);

    // A changes its mind (a review replaced), then clears both reviews.
    let p = mutate(&app, ta, "rejectMapping", REJECT, json!({ "id": l1 })).await;
    assert_eq!(
        p["mapping"]["review"],
        json!({ "state": "REJECTED", "note": null, "reviewedBy": owner_actor })
    );
    let p = mutate(&app, ta, "confirmMapping", CONFIRM, json!({ "id": l1 })).await;
    assert_eq!(p["mapping"]["state"], "CONFIRMED");
    assert_eq!(stored(&app, &a).await.reviews.len(), 2);
    for l in [&l1, &l2] {
        let p = mutate(
            &app,
            ta,
            "clearMappingReview",
            CLEAR_REVIEW,
            json!({ "id": l }),
        )
        .await;
        assert_eq!(
            p["mapping"],
            json!({ "id": l, "state": "INFORMATIVE", "review": null })
        );
    }
    assert_eq!(node(&app, ta, &l1).await["state"], "INFORMATIVE");
    assert_eq!(crosswalk_count(&app, ta, ISO, HIPAA, Some("A")).await, 307);
    assert_eq!(stored(&app, &a).await.reviews, BTreeSet::new());
    let (code, _) = refused(
        &app,
        ta,
        "clearMappingReview",
        CLEAR_REVIEW,
        json!({ "id": l1 }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    // ... and B keeps its rejection.
    assert_eq!(node(&app, tb, &l1).await["state"], "REJECTED");
    assert_eq!(crosswalk_count(&app, tb, ISO, HIPAA, Some("A")).await, 306);
}

// ---------------------------------------------------------------------------------------------
// 4. A tenant's own frameworks and links

async fn custom_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant(
            "alpha",
            &[("owner", Role::Owner), ("auditor", Role::Auditor)],
        )
        .await;
    let b = app
        .tenant(
            "bravo",
            &[("owner", Role::Owner), ("manager", Role::ComplianceManager)],
        )
        .await;
    let (ta, tb) = (a.token("owner"), b.token("owner"));
    let hipaa = labels(&app, ta, HIPAA).await;
    let rows = derived_rows();

    // A's schedule, with a parent and a child.
    let p = mutate(
        &app,
        ta,
        "createFramework",
        CREATE_FRAMEWORK,
        json!({ "input": acme_schedule("acme-schedule") }),
    )
    .await;
    let f = &p["framework"];
    assert_eq!(f["key"], "acme-schedule");
    assert_eq!(f["custom"], true);
    assert_eq!(f["kind"], "custom");
    assert_eq!(f["controlCount"], 3);
    let cs: Vec<Value> = f["controls"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(refs(&json!(cs)), ["S-1", "S-1.1", "S-2"]);
    assert_eq!(refs(&cs[0]["children"]), ["S-1.1"]);
    assert_eq!(cs[1]["parent"]["ref"], "S-1");
    assert_eq!(cs[0]["group"]["ref"], "S");
    assert_eq!(cs[2]["parent"], Value::Null);
    let acme = Created {
        id: s(&f["id"]).to_owned(),
        controls: cs
            .iter()
            .map(|c| (s(&c["ref"]).to_owned(), s(&c["id"]).to_owned()))
            .collect(),
    };

    // A's links: S-1 within ISO A.5.15, S-1.1 within A.5.18 and A.5.18 within a HIPAA
    // specification (both of its own), S-2 wider than a HIPAA specification.
    let a515 = control_id(&app, ta, ISO, "A.5.15").await;
    let a518 = control_id(&app, ta, ISO, "A.5.18").await;
    let spec_c = label(&hipaa, "164.308(a)(4)(ii)(C)").to_owned();
    let spec_6 = label(&hipaa, "164.308(a)(6)(ii)").to_owned();
    let m1 = add_mapping(&app, ta, &acme.controls["S-1"], &a515, "SUBSET_OF").await;
    assert_eq!(m1["method"], "TENANT");
    assert_eq!(m1["state"], "CONFIRMED");
    assert_eq!(m1["defaultState"], "CONFIRMED");
    assert_eq!(m1["provenance"]["crosswalk"], Value::Null);
    let added_by = format!("added by user:{}", a.user_ids["owner"]);
    assert!(
        s(&m1["provenance"]["source"]).starts_with(&added_by),
        "{m1}"
    );
    assert_eq!(m1["review"], Value::Null);
    assert_eq!(
        (&m1["source"]["ref"], &m1["target"]["ref"]),
        (&json!("S-1"), &json!("A.5.15"))
    );
    let m2 = add_mapping(&app, ta, &acme.controls["S-1.1"], &a518, "SUBSET_OF").await;
    let m3 = add_mapping(
        &app,
        ta,
        &a518,
        &control_id(&app, ta, HIPAA, &spec_c).await,
        "SUBSET_OF",
    )
    .await;
    let p = mutate(
        &app,
        ta,
        "addMapping",
        ADD_MAPPING,
        json!({ "s": acme.controls["S-2"], "t": control_id(&app, ta, HIPAA, &spec_6).await,
                "rel": "SUPERSET_OF", "note": "clause 7 asks for more than the specification" }),
    )
    .await;
    let m4 = p["mapping"].clone();
    assert_eq!(m4["note"], "clause 7 asks for more than the specification");
    assert_eq!(m4["relationship"], "SUPERSET_OF");
    let mapping_ids: Vec<String> = [&m1, &m2, &m3, &m4]
        .iter()
        .map(|m| s(&m["id"]).to_owned())
        .collect();

    // Chains from A's schedule to HIPAA run through ISO and compose relationships.
    let derived_from = |iso: &str| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| r.iso == iso)
            .map(|r| label(&hipaa, &r.hipaa).to_owned())
            .collect()
    };
    let s1 = mappings(&app, ta, "acme-schedule", "S-1", Some(HIPAA), 2, false).await;
    let targets: BTreeSet<String> = s1
        .iter()
        .map(|p| s(&p["target"]["ref"]).to_owned())
        .collect();
    assert_eq!(targets, derived_from("A.5.15"));
    assert_eq!(s1.len(), targets.len());
    for p in &s1 {
        assert_eq!(p["length"], 2, "{p}");
        // subset-of then (derived) intersects-with guarantees only intersects-with.
        assert_eq!(p["relationship"], "INTERSECTS_WITH");
        assert_eq!(p["state"], "INFORMATIVE");
        assert_eq!(p["through"][0]["ref"], "A.5.15");
        assert_eq!(p["through"][0]["framework"]["key"], ISO);
        assert_eq!(p["hops"][0]["mapping"]["method"], "TENANT");
        assert_eq!(p["hops"][0]["reversed"], false);
        assert_eq!(p["hops"][1]["mapping"]["method"], "DERIVED");
        assert_eq!(p["hops"][1]["reversed"], true);
    }
    let s11 = mappings(&app, ta, "acme-schedule", "S-1.1", Some(HIPAA), 2, false).await;
    let mut want11 = derived_from("A.5.18");
    want11.insert(spec_c.clone());
    let targets: BTreeSet<String> = s11
        .iter()
        .map(|p| s(&p["target"]["ref"]).to_owned())
        .collect();
    assert_eq!(targets, want11);
    assert_eq!(s11.len(), want11.len());
    let own = s11
        .iter()
        .find(|p| p["target"]["ref"] == spec_c.as_str())
        .unwrap();
    // Two subsets make a subset; two of the tenant's links are confirmed.
    assert_eq!(own["relationship"], "SUBSET_OF");
    assert_eq!(own["state"], "CONFIRMED");
    assert_eq!(refs(&own["through"]), ["A.5.18"]);
    let s2 = mappings(&app, ta, "acme-schedule", "S-2", Some(HIPAA), 2, false).await;
    assert_eq!(s2.len(), 1);
    assert_eq!(s2[0]["length"], 1);
    assert_eq!(s2[0]["relationship"], "SUPERSET_OF");
    assert_eq!(s2[0]["state"], "CONFIRMED");
    assert_eq!(s2[0]["target"]["ref"], spec_6.as_str());
    // Read backwards, the relationship inverts.
    let back = mappings(&app, ta, HIPAA, &spec_6, Some("acme-schedule"), 1, false).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["relationship"], "SUBSET_OF");
    assert_eq!(back[0]["hops"][0]["reversed"], true);
    // Confirming the derived link makes A's chain through it confirmed.
    let std3 = label(&hipaa, "164.308(a)(3)").to_owned();
    let derived = shared_link(&app, ta, "A.5.18", &std3).await;
    mutate(
        &app,
        ta,
        "confirmMapping",
        CONFIRM,
        json!({ "id": derived }),
    )
    .await;
    let s11 = mappings(&app, ta, "acme-schedule", "S-1.1", Some(HIPAA), 2, false).await;
    let p = s11
        .iter()
        .find(|p| p["target"]["ref"] == std3.as_str())
        .unwrap();
    assert_eq!(p["state"], "CONFIRMED");
    // The crosswalk holds every one of those chains; one hop reaches HIPAA from S-2 only and
    // ISO from S-1 and S-1.1.
    let total = (s1.len() + s11.len() + s2.len()) as u64;
    let (count, _) = crosswalk(&app, ta, "acme-schedule", HIPAA, 2, false, None).await;
    assert_eq!(count, total);
    assert_eq!(
        crosswalk_count(&app, ta, "acme-schedule", HIPAA, None).await,
        1
    );
    assert_eq!(
        crosswalk_count(&app, ta, "acme-schedule", ISO, None).await,
        2
    );
    let a_stored = stored(&app, &a).await;
    let b_before = stored(&app, &b).await;

    // B sees none of it.
    for who in ["owner", "manager"] {
        let t = b.token(who);
        let d = data(&app, t, "{ frameworks { key } }", json!({})).await;
        let keys: Vec<&str> = d["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| s(&f["key"]))
            .collect();
        assert_eq!(keys, SHARED_KEYS);
        let d = data(
            &app,
            t,
            "query($id: ID!, $c: ID!) { byKey: framework(key: \"acme-schedule\") { id }
               byId: framework(id: $id) { id } control(id: $c) { ref } }",
            json!({ "id": acme.id, "c": acme.controls["S-1"] }),
        )
        .await;
        assert_eq!(d, json!({ "byKey": null, "byId": null, "control": null }));
        let mut ids: Vec<String> = vec![acme.id.clone()];
        ids.extend(acme.controls.values().cloned());
        ids.extend(mapping_ids.iter().cloned());
        for id in &ids {
            assert_eq!(node(&app, t, id).await, Value::Null, "{who} saw {id}");
        }
        let d = data(
            &app,
            t,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
        assert_eq!(d["nodes"], json!(vec![Value::Null; ids.len()]));
        assert_eq!(
            top_error(
                &app,
                t,
                "{ crosswalk(from: \"acme-schedule\", to: \"hipaa-sr\") { count } }",
                json!({})
            )
            .await,
            "NOT_FOUND"
        );
        let q = "query($f: String!) { crosswalk(from: $f, to: \"hipaa-sr\") { count } }";
        assert_eq!(
            top_error(&app, t, q, json!({ "f": acme.id })).await,
            "NOT_FOUND"
        );
        // B's paths from the shared controls A linked show no link of A's.
        for (k, r) in [(ISO, "A.5.15"), (ISO, "A.5.18"), (HIPAA, spec_6.as_str())] {
            for p in mappings(&app, t, k, r, None, 2, true)
                .await
                .iter()
                .chain(mappings(&app, t, k, r, Some(HIPAA), 1, true).await.iter())
            {
                let text = p.to_string();
                assert!(!text.contains("TENANT"), "{p}");
                for id in &mapping_ids {
                    assert!(!text.contains(id.as_str()));
                }
            }
        }
    }

    // B's changes aimed at A's things are not found, and change nothing.
    let iso_a51 = control_id(&app, tb, ISO, "A.5.1").await;
    let tries: Vec<(&str, &str, Value, &str)> = vec![
        (
            "addMapping",
            ADD_MAPPING,
            json!({ "s": acme.controls["S-1"], "t": iso_a51, "rel": "SUBSET_OF" }),
            "sourceControlId",
        ),
        (
            "addMapping",
            ADD_MAPPING,
            json!({ "s": iso_a51, "t": acme.controls["S-2"], "rel": "SUBSET_OF" }),
            "targetControlId",
        ),
        (
            "removeMapping",
            REMOVE_MAPPING,
            json!({ "id": mapping_ids[0] }),
            "mappingId",
        ),
        (
            "confirmMapping",
            CONFIRM,
            json!({ "id": mapping_ids[0] }),
            "mappingId",
        ),
        (
            "updateFramework",
            UPDATE_FRAMEWORK,
            json!({ "id": acme.id, "name": "Hijacked" }),
            "frameworkId",
        ),
        (
            "deleteFramework",
            DELETE_FRAMEWORK,
            json!({ "id": acme.id }),
            "frameworkId",
        ),
        (
            "addControl",
            ADD_CONTROL,
            json!({ "id": acme.id, "c": { "ref": "X", "title": "Planted" } }),
            "frameworkId",
        ),
        (
            "updateControl",
            UPDATE_CONTROL,
            json!({ "id": acme.controls["S-2"], "title": "Hijacked" }),
            "controlId",
        ),
        (
            "removeControl",
            REMOVE_CONTROL,
            json!({ "id": acme.controls["S-2"] }),
            "controlId",
        ),
        (
            "setLicensedText",
            SET_TEXT,
            json!({ "id": acme.controls["S-2"], "text": "planted" }),
            "controlId",
        ),
    ];
    for (field, q, vars, input) in tries {
        let (code, p) = refused(&app, tb, field, q, vars).await;
        assert_eq!(code, "NOT_FOUND", "{field}: {p}");
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", input]),
            "{field}"
        );
    }
    assert_eq!(stored(&app, &b).await, b_before);
    assert_eq!(stored(&app, &a).await, a_stored);
    // A reads everything as it was.
    for who in ["owner", "auditor"] {
        let d = data(
            &app,
            a.token(who),
            "{ framework(key: \"acme-schedule\") { name controlCount controls { edges { node { ref title } } } } }",
            json!({}),
        )
        .await;
        assert_eq!(d["framework"]["name"], "Acme security schedule");
        assert_eq!(d["framework"]["controlCount"], 3);
        assert_eq!(
            d["framework"]["controls"]["edges"][2]["node"],
            json!({ "ref": "S-2", "title": "Incident notice" })
        );
        for id in &mapping_ids {
            assert_eq!(node(&app, a.token(who), id).await["state"], "CONFIRMED");
        }
    }

    // Keys are per tenant: B may have its own acme-schedule, and each sees its own.
    let theirs = create_framework(
        &app,
        b.token("manager"),
        json!({ "key": "acme-schedule", "name": "Bravo's Acme schedule", "version": "1",
                "controls": [{ "ref": "B-1", "title": "Bravo only" }] }),
    )
    .await;
    assert_ne!(theirs.id, acme.id);
    let q = "{ framework(key: \"acme-schedule\") { id name controlCount } }";
    let mine = data(&app, tb, q, json!({})).await;
    assert_eq!(
        mine["framework"],
        json!({ "id": theirs.id, "name": "Bravo's Acme schedule", "controlCount": 1 })
    );
    let d = data(&app, ta, q, json!({})).await;
    assert_eq!(
        d["framework"],
        json!({ "id": acme.id, "name": "Acme security schedule", "controlCount": 3 })
    );
    assert_eq!(node(&app, ta, &theirs.id).await, Value::Null);
    assert_eq!(node(&app, ta, &theirs.controls["B-1"]).await, Value::Null);
    assert_eq!(stored(&app, &a).await, a_stored);
}

// ---------------------------------------------------------------------------------------------
// 4b. What a tenant may put in its own frameworks and links

async fn custom_validation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let acme = create_framework(&app, t, acme_schedule("acme-schedule")).await;
    let before = stored(&app, &a).await;

    // A second framework with the same key.
    let key = ["input", "key"];
    create_refused(&app, t, acme_schedule("acme-schedule"), "CONFLICT", &key).await;
    // Keys: lower-case letters, digits, '.', '_', '-'.
    for bad in ["Bad Key!", "", "-leading", "UPPER"] {
        create_refused(&app, t, acme_schedule(bad), "BAD_USER_INPUT", &key).await;
    }
    // A control naming a parent that is not there, a ref twice, a missing group, a blank title.
    let controls = ["input", "controls"];
    let mut broken = acme_schedule("broken");
    broken["controls"][1]["parentRef"] = json!("S-9");
    create_refused(&app, t, broken, "BAD_USER_INPUT", &controls).await;
    let mut twice = acme_schedule("twice");
    twice["controls"][2]["ref"] = json!("S-1");
    create_refused(&app, t, twice, "BAD_USER_INPUT", &controls).await;
    let mut nogroup = acme_schedule("nogroup");
    nogroup["controls"][0]["groupRef"] = json!("Z");
    create_refused(&app, t, nogroup, "BAD_USER_INPUT", &controls).await;
    let mut blank = acme_schedule("blank");
    blank["controls"][0]["title"] = json!("   ");
    let title = ["input", "controls", "0", "title"];
    create_refused(&app, t, blank, "BAD_USER_INPUT", &title).await;
    // Nothing was created.
    assert_eq!(stored(&app, &a).await, before);
    for key in ["broken", "twice", "nogroup", "blank"] {
        assert_eq!(framework_id(&app, t, key).await, None, "{key}");
    }

    // Links: one per pair of controls (either way round), never a control to itself.
    let a515 = control_id(&app, t, ISO, "A.5.15").await;
    let s1 = acme.controls["S-1"].clone();
    let m = add_mapping(&app, t, &s1, &a515, "EQUAL_TO").await;
    let before = stored(&app, &a).await;
    for (src, dst) in [(&s1, &a515), (&a515, &s1)] {
        let (code, _) = refused(
            &app,
            t,
            "addMapping",
            ADD_MAPPING,
            json!({ "s": src, "t": dst, "rel": "SUBSET_OF" }),
        )
        .await;
        assert_eq!(code, "CONFLICT");
    }
    for c in [&s1, &a515] {
        let (code, p) = refused(
            &app,
            t,
            "addMapping",
            ADD_MAPPING,
            json!({ "s": c, "t": c, "rel": "EQUAL_TO" }),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", "targetControlId"])
        );
    }
    // Shared links are rejected, not removed; shared frameworks and controls are not the
    // tenant's to change.
    let derived = shared_link(&app, t, "A.5.15", "164.310(b)").await;
    let (code, _) = refused(
        &app,
        t,
        "removeMapping",
        REMOVE_MAPPING,
        json!({ "id": derived }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    let iso_fw = framework_id(&app, t, ISO).await.unwrap();
    for (field, q, vars) in [
        ("deleteFramework", DELETE_FRAMEWORK, json!({ "id": iso_fw })),
        (
            "updateFramework",
            UPDATE_FRAMEWORK,
            json!({ "id": iso_fw, "name": "Mine now" }),
        ),
        (
            "addControl",
            ADD_CONTROL,
            json!({ "id": iso_fw, "c": { "ref": "A.9.1", "title": "Extra" } }),
        ),
        (
            "updateControl",
            UPDATE_CONTROL,
            json!({ "id": a515, "title": "Renamed" }),
        ),
        ("removeControl", REMOVE_CONTROL, json!({ "id": a515 })),
    ] {
        let (code, _) = refused(&app, t, field, q, vars).await;
        assert_eq!(code, "NOT_FOUND", "{field}");
    }
    // A control with children stays; a duplicate ref is refused.
    let (code, _) = refused(
        &app,
        t,
        "removeControl",
        REMOVE_CONTROL,
        json!({ "id": s1 }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = refused(
        &app,
        t,
        "addControl",
        ADD_CONTROL,
        json!({ "id": acme.id, "c": { "ref": "S-2", "title": "Again" } }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = refused(
        &app,
        t,
        "addControl",
        ADD_CONTROL,
        json!({ "id": acme.id, "c": { "ref": "S-3", "title": "Orphan", "parentRef": "S-9" } }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(stored(&app, &a).await, before);
    // The shared framework is as shipped.
    let d = data(
        &app,
        t,
        "{ framework(key: \"iso27001-2022\") { controlCount control(ref: \"A.5.15\") { title } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["framework"]["controlCount"], 134);
    assert_eq!(d["framework"]["control"]["title"], "Access control");

    // Changes that are allowed.
    let p = mutate(
        &app,
        t,
        "addControl",
        ADD_CONTROL,
        json!({ "id": acme.id, "c": { "ref": "S-1.2", "title": "Leavers", "parentRef": "S-1" } }),
    )
    .await;
    assert_eq!(p["control"]["parent"]["ref"], "S-1");
    let p = mutate(
        &app,
        t,
        "updateControl",
        UPDATE_CONTROL,
        json!({ "id": acme.controls["S-2"], "title": "Incident notice (24h)" }),
    )
    .await;
    assert_eq!(
        p["control"],
        json!({ "ref": "S-2", "title": "Incident notice (24h)" })
    );
    let p = mutate(
        &app,
        t,
        "updateFramework",
        UPDATE_FRAMEWORK,
        json!({ "id": acme.id, "name": "Acme schedule 3" }),
    )
    .await;
    assert_eq!(p["framework"]["name"], "Acme schedule 3");
    // Removing a control removes the links that name it.
    let on_child = add_mapping(&app, t, &acme.controls["S-1.1"], &a515, "SUBSET_OF").await;
    let p = mutate(
        &app,
        t,
        "removeControl",
        REMOVE_CONTROL,
        json!({ "id": acme.controls["S-1.1"] }),
    )
    .await;
    assert_eq!(p["removedControlId"], acme.controls["S-1.1"].as_str());
    assert_eq!(node(&app, t, &acme.controls["S-1.1"]).await, Value::Null);
    assert_eq!(node(&app, t, s(&on_child["id"])).await, Value::Null);
    // A removed link is gone; removing it again is not found.
    let m2 = add_mapping(&app, t, &acme.controls["S-2"], &a515, "INTERSECTS_WITH").await;
    let p = mutate(
        &app,
        t,
        "removeMapping",
        REMOVE_MAPPING,
        json!({ "id": m2["id"] }),
    )
    .await;
    assert_eq!(p["removedMappingId"], m2["id"]);
    assert_eq!(node(&app, t, s(&m2["id"])).await, Value::Null);
    let (code, _) = refused(
        &app,
        t,
        "removeMapping",
        REMOVE_MAPPING,
        json!({ "id": m2["id"] }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");

    // Deleting the framework takes its controls and the links naming them, and nothing else.
    let a518 = control_id(&app, t, ISO, "A.5.18").await;
    let shared_only = add_mapping(&app, t, &a515, &a518, "INTERSECTS_WITH").await;
    let p = mutate(
        &app,
        t,
        "deleteFramework",
        DELETE_FRAMEWORK,
        json!({ "id": acme.id }),
    )
    .await;
    assert_eq!(p["deletedFrameworkId"], acme.id.as_str());
    assert_eq!(framework_id(&app, t, "acme-schedule").await, None);
    assert_eq!(node(&app, t, &acme.id).await, Value::Null);
    assert_eq!(node(&app, t, &s1).await, Value::Null);
    assert_eq!(node(&app, t, s(&m["id"])).await, Value::Null);
    assert_eq!(
        node(&app, t, s(&shared_only["id"])).await["method"],
        "TENANT"
    );
    let left = stored(&app, &a).await;
    assert_eq!(left.frameworks, BTreeMap::new());
    assert_eq!(
        left.links,
        BTreeSet::from([uuid::Uuid::parse_str(&uuid_of(s(&shared_only["id"]))).unwrap()])
    );
    assert!(
        mappings(&app, t, ISO, "A.5.15", None, 1, true)
            .await
            .iter()
            .all(|p| p["target"]["ref"] != "S-1")
    );
    // The key is free again.
    create_framework(&app, t, acme_schedule("acme-schedule")).await;
}

// ---------------------------------------------------------------------------------------------
// 5. Licensed text

async fn licensed_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let (ta, tb) = (a.token("owner"), b.token("owner"));
    let a51 = control_id(&app, ta, ISO, "A.5.1").await;
    let text = "Licensed wording of control 5.1 from Alpha's purchased copy.";
    let read = "query($id: ID!) { control(id: $id) { ref text licensedText { text source } } }";

    // No ISO text is shipped.
    let d = data(&app, ta, read, json!({ "id": a51 })).await;
    assert_eq!(
        d["control"],
        json!({ "ref": "A.5.1", "text": null, "licensedText": null })
    );

    let p = mutate(
        &app,
        ta,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a51, "text": format!("  {text}\n"), "source": "ISO licence 4711" }),
    )
    .await;
    assert_eq!(
        p["control"]["licensedText"],
        json!({ "text": text, "source": "ISO licence 4711" })
    );
    for who in ["owner", "viewer"] {
        let d = data(&app, a.token(who), read, json!({ "id": a51 })).await;
        assert_eq!(
            d["control"]["licensedText"],
            json!({ "text": text, "source": "ISO licence 4711" })
        );
        assert_eq!(d["control"]["text"], Value::Null);
    }
    let d = data(&app, tb, read, json!({ "id": a51 })).await;
    assert_eq!(d["control"]["licensedText"], Value::Null);

    // The audit trail keeps a digest, never the text.
    let last = |events: &[Value]| events.last().unwrap().clone();
    let ev = last(&audit_events(&app, ta).await);
    assert_eq!(ev["action"], "control.text_set");
    assert_eq!(ev["subjectType"], "control");
    assert_eq!(ev["subjectId"], uuid_of(&a51));
    let digest = s(&ev["change"]["sha256"]).to_owned();
    assert_eq!(digest.len(), 64);
    assert!(
        digest
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
        "{digest}"
    );
    assert_eq!(ev["change"].as_object().unwrap().len(), 1, "{ev}");
    let all = serde_json::to_string(&audit_events(&app, ta).await).unwrap();
    assert!(
        !all.contains("Licensed wording"),
        "the text reached the audit trail"
    );
    assert!(!all.contains("4711"));
    // The digest is of the text: B's copy of the same words has the same one, other words not.
    mutate(
        &app,
        tb,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a51, "text": text }),
    )
    .await;
    assert_eq!(
        last(&audit_events(&app, tb).await)["change"]["sha256"],
        digest.as_str()
    );
    let other = "Alpha's updated wording.";
    mutate(
        &app,
        ta,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a51, "text": other }),
    )
    .await;
    let ev = last(&audit_events(&app, ta).await);
    assert_ne!(ev["change"]["sha256"], digest.as_str());
    assert_eq!(
        data(&app, ta, read, json!({ "id": a51 })).await["control"]["licensedText"],
        json!({ "text": other, "source": null })
    );
    assert_eq!(
        data(&app, tb, read, json!({ "id": a51 })).await["control"]["licensedText"]["text"],
        text
    );

    // Only shared controls take licensed text; empty text is refused.
    let acme = create_framework(&app, ta, acme_schedule("acme-schedule")).await;
    let (code, _) = refused(
        &app,
        ta,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": acme.controls["S-1"], "text": "x" }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = refused(
        &app,
        ta,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a51, "text": " \n " }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");

    // Clearing is A's alone.
    let p = mutate(
        &app,
        ta,
        "clearLicensedText",
        CLEAR_TEXT,
        json!({ "id": a51 }),
    )
    .await;
    assert_eq!(p["control"]["licensedText"], Value::Null);
    assert_eq!(
        data(&app, ta, read, json!({ "id": a51 })).await["control"]["licensedText"],
        Value::Null
    );
    assert_eq!(
        data(&app, tb, read, json!({ "id": a51 })).await["control"]["licensedText"]["text"],
        text
    );
    let (code, _) = refused(
        &app,
        ta,
        "clearLicensedText",
        CLEAR_TEXT,
        json!({ "id": a51 }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(
        last(&audit_events(&app, ta).await)["action"],
        "control.text_clear"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Roles

async fn roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant(
            "alpha",
            &[
                ("owner", Role::Owner),
                ("manager", Role::ComplianceManager),
                ("contributor", Role::Contributor),
                ("auditor", Role::Auditor),
                ("viewer", Role::Viewer),
            ],
        )
        .await;
    let owner = f.token("owner");
    let link = shared_link(&app, owner, "A.5.15", "164.310(b)").await;
    let acme = create_framework(&app, owner, acme_schedule("acme-schedule")).await;
    let a515 = control_id(&app, owner, ISO, "A.5.15").await;
    let own_link = add_mapping(&app, owner, &acme.controls["S-2"], &a515, "INTERSECTS_WITH").await;
    mutate(
        &app,
        owner,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a515, "text": "licensed" }),
    )
    .await;
    mutate(
        &app,
        owner,
        "rejectMapping",
        REJECT,
        json!({ "id": shared_link(&app, owner, "A.5.1", "164.310(a)(1)").await }),
    )
    .await;
    let before = stored(&app, &f).await;

    let attempts: Vec<(&str, Value)> = vec![
        (CONFIRM, json!({ "id": link })),
        (REJECT, json!({ "id": link })),
        (CLEAR_REVIEW, json!({ "id": link })),
        (
            ADD_MAPPING,
            json!({ "s": acme.controls["S-1"], "t": a515, "rel": "SUBSET_OF" }),
        ),
        (REMOVE_MAPPING, json!({ "id": own_link["id"] })),
        (CREATE_FRAMEWORK, json!({ "input": acme_schedule("other") })),
        (UPDATE_FRAMEWORK, json!({ "id": acme.id, "name": "x" })),
        (DELETE_FRAMEWORK, json!({ "id": acme.id })),
        (
            ADD_CONTROL,
            json!({ "id": acme.id, "c": { "ref": "S-9", "title": "x" } }),
        ),
        (
            UPDATE_CONTROL,
            json!({ "id": acme.controls["S-2"], "title": "x" }),
        ),
        (REMOVE_CONTROL, json!({ "id": acme.controls["S-2"] })),
        (SET_TEXT, json!({ "id": a515, "text": "x" })),
        (CLEAR_TEXT, json!({ "id": a515 })),
        (IMPORT, json!({ "doc": oscal_catalog(), "key": "imported" })),
    ];
    for who in ["viewer", "auditor", "contributor"] {
        let t = f.token(who);
        for (q, vars) in &attempts {
            let r = app.gql(t, None, q, vars.clone()).await;
            assert_eq!(r.code(), Some("FORBIDDEN"), "{who}: {q}: {:?}", r.body);
            assert_eq!(r.data(), &Value::Null, "{who}: {q}");
        }
        // Reading stays open to them.
        assert_eq!(crosswalk_count(&app, t, ISO, HIPAA, Some("A")).await, 306);
        assert_eq!(node(&app, t, &link).await["state"], "INFORMATIVE");
    }
    assert_eq!(stored(&app, &f).await, before);

    // A compliance manager manages the catalog.
    let m = f.token("manager");
    let p = mutate(&app, m, "confirmMapping", CONFIRM, json!({ "id": link })).await;
    assert_eq!(p["mapping"]["state"], "CONFIRMED");
    assert_eq!(
        p["mapping"]["review"]["reviewedBy"],
        format!("user:{}", f.user_ids["manager"])
    );
    assert_eq!(
        node(&app, f.token("viewer"), &link).await["state"],
        "CONFIRMED"
    );
    create_framework(&app, m, acme_schedule("manager-schedule")).await;
    let p = mutate(
        &app,
        m,
        "importOscal",
        IMPORT,
        json!({ "doc": oscal_catalog(), "key": "acme-baseline" }),
    )
    .await;
    assert_eq!(
        p["framework"],
        json!({ "key": "acme-baseline", "custom": true, "controlCount": 3 })
    );
    // Shared imports are for platform operators only, whatever the tenant role.
    let r = app
        .gql(owner, None, "mutation($d: String!) { importOscal(input: {document: $d, key: \"shared-one\", shared: true}) { controlCount } }", json!({ "d": oscal_catalog() }))
        .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);
    let d = data(&app, owner, "{ frameworks { key } }", json!({})).await;
    assert!(!d.to_string().contains("shared-one"));
}

// ---------------------------------------------------------------------------------------------
// 7. Bad arguments

async fn bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let acme = create_framework(&app, t, acme_schedule("acme-schedule")).await;
    let a515 = control_id(&app, t, ISO, "A.5.15").await;
    let own = add_mapping(&app, t, &acme.controls["S-1"], &a515, "SUBSET_OF").await;
    let link = shared_link(&app, t, "A.5.15", "164.310(b)").await;
    let iso_fw = framework_id(&app, t, ISO).await.unwrap();
    let before = stored(&app, &a).await;

    let cw = "query($f: String!, $t: String!, $h: Int = 1) { crosswalk(from: $f, to: $t, maxHops: $h) { count } }";
    let oscal = "query($f: String!, $t: String!, $h: Int = 1) { crosswalkOscal(from: $f, to: $t, maxHops: $h) }";
    let ctl = "query($n: Int, $l: Int, $a: String, $b: String, $f: ControlFilter) {
      framework(key: \"iso27001-2022\") { controls(first: $n, last: $l, after: $a, before: $b, filter: $f) { totalCount } } }";
    let maps = "query($to: String, $h: Int = 1) { framework(key: \"iso27001-2022\") { control(ref: \"A.5.15\") {
      mappings(toFramework: $to, maxHops: $h) { length } } } }";
    let other_cursor = data(
        &app,
        t,
        "{ framework(key: \"iso27001-2022\") { controls(first: 1) { edges { cursor } } } }",
        json!({}),
    )
    .await["framework"]["controls"]["edges"][0]["cursor"]
        .clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            cw,
            json!({ "f": ISO, "t": HIPAA, "h": 0 }),
            "BAD_USER_INPUT",
        ),
        (
            cw,
            json!({ "f": ISO, "t": HIPAA, "h": 4 }),
            "BAD_USER_INPUT",
        ),
        // Whole crosswalks walk at most two links.
        (
            cw,
            json!({ "f": ISO, "t": HIPAA, "h": 3 }),
            "BAD_USER_INPUT",
        ),
        (
            cw,
            json!({ "f": ISO, "t": HIPAA, "h": -1 }),
            "BAD_USER_INPUT",
        ),
        (
            cw,
            json!({ "f": "no-such-framework", "t": HIPAA }),
            "NOT_FOUND",
        ),
        (
            cw,
            json!({ "f": ISO, "t": "no-such-framework" }),
            "NOT_FOUND",
        ),
        (cw, json!({ "f": ISO, "t": ISO }), "BAD_USER_INPUT"),
        (cw, json!({ "f": iso_fw, "t": ISO }), "BAD_USER_INPUT"),
        (cw, json!({ "f": a515, "t": HIPAA }), "NOT_FOUND"),
        (
            oscal,
            json!({ "f": ISO, "t": HIPAA, "h": 4 }),
            "BAD_USER_INPUT",
        ),
        (oscal, json!({ "f": HIPAA, "t": HIPAA }), "BAD_USER_INPUT"),
        (ctl, json!({ "n": 101 }), "BAD_USER_INPUT"),
        (ctl, json!({ "n": -1 }), "BAD_USER_INPUT"),
        (ctl, json!({ "l": 101 }), "BAD_USER_INPUT"),
        (ctl, json!({ "n": 5, "l": 5 }), "BAD_USER_INPUT"),
        (
            ctl,
            json!({ "n": 5, "a": "not-a-cursor" }),
            "BAD_USER_INPUT",
        ),
        (
            ctl,
            json!({ "l": 5, "b": "not-a-cursor" }),
            "BAD_USER_INPUT",
        ),
        // A cursor of another filter's connection (clause 4 is not in Annex A).
        (
            ctl,
            json!({ "n": 5, "a": other_cursor, "f": { "group": "A" } }),
            "BAD_USER_INPUT",
        ),
        (
            ctl,
            json!({ "n": 5, "f": { "text": "x".repeat(201) } }),
            "BAD_USER_INPUT",
        ),
        (maps, json!({ "to": HIPAA, "h": 0 }), "BAD_USER_INPUT"),
        (maps, json!({ "to": HIPAA, "h": 4 }), "BAD_USER_INPUT"),
        (maps, json!({ "to": "no-such-framework" }), "NOT_FOUND"),
        ("{ framework { key } }", json!({}), "BAD_USER_INPUT"),
        (
            "{ framework(key: \"hipaa-sr\", id: \"x\") { key } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ];
    for (q, vars, code) in cases {
        assert_eq!(
            top_error(&app, t, q, vars.clone()).await,
            code,
            "{q} {vars}"
        );
    }
    // Unknown ids in mutations are user errors.
    let garbage = [
        "garbage",
        s(&own["id"]),
        acme.controls["S-1"].as_str(),
        iso_fw.as_str(),
    ];
    for id in garbage {
        for (field, q) in [
            ("confirmMapping", CONFIRM),
            ("rejectMapping", REJECT),
            ("clearMappingReview", CLEAR_REVIEW),
        ] {
            let (code, p) = refused(&app, t, field, q, json!({ "id": id })).await;
            assert_eq!(code, "NOT_FOUND", "{field} {id}");
            assert_eq!(p["userErrors"][0]["field"], json!(["input", "mappingId"]));
        }
    }
    let (code, _) = refused(
        &app,
        t,
        "addMapping",
        ADD_MAPPING,
        json!({ "s": "garbage", "t": a515, "rel": "EQUAL_TO" }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = refused(
        &app,
        t,
        "addMapping",
        ADD_MAPPING,
        json!({ "s": a515, "t": link, "rel": "EQUAL_TO" }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = refused(
        &app,
        t,
        "confirmMapping",
        CONFIRM,
        json!({ "id": link, "note": "x".repeat(2001) }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = refused(
        &app,
        t,
        "importOscal",
        IMPORT,
        json!({ "doc": "{\"catalog\": {}}", "key": "broken" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = refused(
        &app,
        t,
        "importOscal",
        IMPORT,
        json!({ "doc": oscal_catalog(), "key": "acme-schedule" }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = refused(
        &app,
        t,
        "importOscal",
        IMPORT,
        json!({ "doc": "not json", "key": "x" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");

    // Nothing changed.
    assert_eq!(stored(&app, &a).await, before);
    assert_eq!(node(&app, t, &link).await["state"], "INFORMATIVE");
    assert_eq!(crosswalk_count(&app, t, ISO, HIPAA, Some("A")).await, 307);
    assert_eq!(
        crosswalk_count(&app, t, "acme-schedule", ISO, None).await,
        1
    );
    assert_eq!(framework_id(&app, t, "broken").await, None);
}

// ---------------------------------------------------------------------------------------------
// 8. The audit trail

async fn audit_trail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let actor = format!("user:{}", a.user_ids["owner"]);
    let l1 = shared_link(&app, t, "A.5.15", "164.310(b)").await;
    let l2 = shared_link(&app, t, "A.5.1", "164.310(a)(1)").await;
    let a515 = control_id(&app, t, ISO, "A.5.15").await;
    let start = audit_events(&app, t).await.len();

    // One of every catalog mutation, each with the subject it changed.
    let mut want: Vec<(&str, &str, String)> = Vec::new();
    mutate(
        &app,
        t,
        "confirmMapping",
        CONFIRM,
        json!({ "id": l1, "note": "ok" }),
    )
    .await;
    want.push(("mapping.confirm", "mapping", uuid_of(&l1)));
    mutate(&app, t, "rejectMapping", REJECT, json!({ "id": l2 })).await;
    want.push(("mapping.reject", "mapping", uuid_of(&l2)));
    mutate(
        &app,
        t,
        "clearMappingReview",
        CLEAR_REVIEW,
        json!({ "id": l1 }),
    )
    .await;
    want.push(("mapping.review_clear", "mapping", uuid_of(&l1)));
    let acme = create_framework(&app, t, acme_schedule("acme-schedule")).await;
    want.push(("framework.create", "framework", uuid_of(&acme.id)));
    mutate(
        &app,
        t,
        "updateFramework",
        UPDATE_FRAMEWORK,
        json!({ "id": acme.id, "name": "Renamed" }),
    )
    .await;
    want.push(("framework.update", "framework", uuid_of(&acme.id)));
    let p = mutate(
        &app,
        t,
        "addControl",
        ADD_CONTROL,
        json!({ "id": acme.id, "c": { "ref": "S-3", "title": "Third" } }),
    )
    .await;
    let s3 = s(&p["control"]["id"]).to_owned();
    want.push(("control.add", "control", uuid_of(&s3)));
    mutate(
        &app,
        t,
        "updateControl",
        UPDATE_CONTROL,
        json!({ "id": s3, "title": "Third, renamed" }),
    )
    .await;
    want.push(("control.update", "control", uuid_of(&s3)));
    let m = add_mapping(&app, t, &s3, &a515, "SUPERSET_OF").await;
    want.push(("mapping.add", "mapping", uuid_of(s(&m["id"]))));
    mutate(
        &app,
        t,
        "removeMapping",
        REMOVE_MAPPING,
        json!({ "id": m["id"] }),
    )
    .await;
    want.push(("mapping.remove", "mapping", uuid_of(s(&m["id"]))));
    mutate(
        &app,
        t,
        "removeControl",
        REMOVE_CONTROL,
        json!({ "id": s3 }),
    )
    .await;
    want.push(("control.remove", "control", uuid_of(&s3)));
    mutate(
        &app,
        t,
        "setLicensedText",
        SET_TEXT,
        json!({ "id": a515, "text": "words" }),
    )
    .await;
    want.push(("control.text_set", "control", uuid_of(&a515)));
    mutate(
        &app,
        t,
        "clearLicensedText",
        CLEAR_TEXT,
        json!({ "id": a515 }),
    )
    .await;
    want.push(("control.text_clear", "control", uuid_of(&a515)));
    let p = mutate(
        &app,
        t,
        "importOscal",
        IMPORT,
        json!({ "doc": oscal_catalog(), "key": "acme-baseline" }),
    )
    .await;
    assert_eq!(p["controlCount"], 3);
    assert_eq!(p["mappingsAdded"], 0);
    let imported = framework_id(&app, t, "acme-baseline").await.unwrap();
    want.push(("framework.import", "framework", uuid_of(&imported)));
    mutate(
        &app,
        t,
        "deleteFramework",
        DELETE_FRAMEWORK,
        json!({ "id": acme.id }),
    )
    .await;
    want.push(("framework.delete", "framework", uuid_of(&acme.id)));

    // Refused ones write nothing.
    refused(
        &app,
        t,
        "clearMappingReview",
        CLEAR_REVIEW,
        json!({ "id": l1 }),
    )
    .await;
    refused(
        &app,
        t,
        "createFramework",
        CREATE_FRAMEWORK,
        json!({ "input": acme_schedule("Bad Key!") }),
    )
    .await;
    refused(
        &app,
        t,
        "removeMapping",
        REMOVE_MAPPING,
        json!({ "id": m["id"] }),
    )
    .await;

    let events = audit_events(&app, t).await;
    let got: Vec<(&str, &str, String)> = events[start..]
        .iter()
        .map(|e| {
            (
                s(&e["action"]),
                s(&e["subjectType"]),
                s(&e["subjectId"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(events[start..].iter().all(|e| e["actor"] == actor.as_str()));
    let change = |action: &str| {
        events[start..]
            .iter()
            .find(|e| e["action"] == action)
            .unwrap()["change"]
            .clone()
    };
    assert_eq!(
        change("mapping.confirm"),
        json!({ "state": "confirmed", "note": "ok" })
    );
    assert_eq!(
        change("mapping.reject"),
        json!({ "state": "rejected", "note": null })
    );
    assert_eq!(change("framework.create")["key"], "acme-schedule");
    assert_eq!(change("framework.create")["controls"], 3);
    assert_eq!(change("mapping.add")["relationship"], "superset-of");
    assert_eq!(change("framework.import")["key"], "acme-baseline");
    // The chain still verifies.
    let v = app
        .store
        .verify_audit(Some(vec![a.tenant.id]))
        .await
        .unwrap();
    assert_eq!(
        v[0].result.as_ref().map(|s| s.events),
        Ok(events.len() as u64)
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Many readers at once

/// More concurrent catalog requests than the pool has connections (4 on PostgreSQL, 1 on
/// SQLite) all answer. Regression: in 0e78d31 each request held its tenant transaction while
/// asking the pool for a second connection (the shared index's revision), so SQLite answered
/// every catalog request INTERNAL and PostgreSQL deadlocked under load until the acquire timeout.
async fn concurrent_reads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let t = a.token("owner");
    let q = "{ frameworks { key } crosswalk(from: \"iso27001-2022\", to: \"hipaa-sr\", group: \"A\") { count } }";
    let answers =
        futures_util::future::join_all((0..16).map(|_| app.gql(t, None, q, json!({})))).await;
    for r in &answers {
        let d = ok(r, "concurrent read");
        assert_eq!(d["crosswalk"]["count"], 307);
    }
}
