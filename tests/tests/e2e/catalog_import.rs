//! Catalogs end to end: the shipped bundle synced into the database (idempotent, only what
//! changed, removed rows retired), OSCAL imports through GraphQL (a tenant's own, an operator's
//! shared), refused documents that leave nothing behind, and the OSCAL mapping export read back.

use grc_catalog::bundle::{CROSSWALK_FILES, FRAMEWORK_FILES, LINK_FILES, SourceFile};
use grc_catalog::model::control_id;
use grc_catalog::oscal::{self, Document};
use grc_catalog::{Bundle, Relationship};
use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use grc_store::SyncReport;
use grc_store::entity::catalog::{control, crosswalk, framework, mapping};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

both_backends! {
    shipped_catalogs_sync_only_what_changed => catalog_sync;
    tenants_import_oscal_catalogs_and_profiles => tenant_import;
    bad_oscal_is_refused_and_leaves_nothing => bad_oscal;
    operators_import_shared_frameworks_for_every_tenant => shared_import;
    crosswalks_export_as_oscal_and_import_back => oscal_round_trip;
    files_removed_from_the_bundle_are_retired => removed_files;
}

/// A crosswalk file and a framework file (with the crosswalks that need it) leave the bundle:
/// the sync retires them with their rows, the server stops serving them, and the shipped
/// bundle brings them back.
async fn removed_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let shipped = Bundle::shipped_static().unwrap();
    let rev0 = app.store.catalog_revision().await.unwrap();

    // Without the derived crosswalk.
    let walks: Vec<SourceFile<'_>> = CROSSWALK_FILES
        .iter()
        .copied()
        .filter(|f| !f.name.contains("_derived"))
        .collect();
    let fewer = Bundle::from_sources(FRAMEWORK_FILES, &walks, LINK_FILES).unwrap();
    let r = app.store.sync_catalogs(&fewer).await.unwrap();
    assert_eq!((r.crosswalks_retired, r.links_retired), (1, 419), "{r:?}");
    assert_eq!((r.frameworks_retired, r.controls_retired), (0, 0), "{r:?}");
    assert_eq!(r.revision, rev0 + 1);
    let live = |table: &'static str| async move {
        count(db, &format!("{table} WHERE retired = false")).await
    };
    assert_eq!(live("catalog_mappings").await, 1339 - 419);
    let q = r#"{ frameworks { key } crosswalk(from: "iso27001-2022", to: "hipaa-sr") { count } }"#;
    let d = ok(&app, alpha.token("owner"), None, q, json!({})).await;
    assert_eq!(d["crosswalk"]["count"], 0, "{d}");

    // Without CSF 2.0 (no crosswalk names it).
    let frameworks: Vec<SourceFile<'_>> = FRAMEWORK_FILES
        .iter()
        .copied()
        .filter(|f| !f.name.contains("csf"))
        .collect();
    let fewer = Bundle::from_sources(&frameworks, &walks, LINK_FILES).unwrap();
    let r = app.store.sync_catalogs(&fewer).await.unwrap();
    assert_eq!(
        (r.frameworks_retired, r.controls_retired),
        (1, 128),
        "{r:?}"
    );
    let d = ok(&app, alpha.token("owner"), None, q, json!({})).await;
    let keys: Vec<&str> = d["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(!keys.contains(&"nist-csf-2.0"), "{keys:?}");
    assert_eq!(keys.len(), 6);

    // The shipped bundle restores both, row for row.
    let r = app.store.sync_catalogs(shipped).await.unwrap();
    assert_eq!((r.frameworks_loaded, r.crosswalks_loaded), (1, 1), "{r:?}");
    assert_eq!(live("catalog_mappings").await, 1339);
    assert_eq!(live("catalog_controls").await, 1741);
    assert_rows_are(db, shipped).await;
    let d = ok(&app, alpha.token("owner"), None, q, json!({})).await;
    assert_eq!(d["crosswalk"]["count"], 419, "{d}");
    assert_eq!(live("catalog_frameworks").await, 7);
    assert_eq!(live("catalog_crosswalks").await, 3);
    assert_eq!(d["frameworks"].as_array().unwrap().len(), 7);
}

const MIB: usize = 1024 * 1024;
const HIGH: &str =
    "nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json";
const LOW: &str = "nist-sp800-53r5/NIST_SP-800-53_rev5_LOW-baseline_profile.json";
const BASIC_CATALOG: &str = "nist-oscal-content/examples/basic-catalog.json";
const BASIC_PROFILE: &str = "nist-oscal-content/examples/basic-profile.json";
const BASIC_RESOLVED: &str = "nist-oscal-content/examples/basic-profile-resolved.json";
/// The back-matter resource the NIST baseline profiles import.
const LOW_IMPORT: &str = "84cbf061-eb87-4ec1-8112-1f529232e907";

const IMPORT: &str = "mutation($input: ImportOscalInput!) { importOscal(input: $input) { \
    framework { key controlCount custom } controlCount mappingsAdded \
    userErrors { field message code } } }";

fn fixture(rel: &str) -> String {
    let path = format!(
        "{}/fixtures/reference-data/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Reading the database behind the application's back

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Rows of the tables an import may write (tenant side, and the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TenantRows {
    frameworks: i64,
    controls: i64,
    links: i64,
    audit: i64,
}

async fn tenant_rows(db: &DatabaseConnection) -> TenantRows {
    TenantRows {
        frameworks: count(db, "custom_frameworks").await,
        controls: count(db, "custom_controls").await,
        links: count(db, "tenant_mappings").await,
        audit: count(db, "audit_events").await,
    }
}

async fn control_rows(db: &DatabaseConnection) -> BTreeMap<Uuid, control::Model> {
    control::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m))
        .collect()
}

async fn mapping_rows(db: &DatabaseConnection) -> BTreeMap<Uuid, mapping::Model> {
    mapping::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// GraphQL helpers

/// Runs `query` and returns `data`, failing on any error.
async fn ok(app: &TestApp, token: &str, tenant: Option<&str>, query: &str, vars: Value) -> Value {
    let r = app.gql(token, tenant, query, vars).await;
    assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    assert!(r.body.get("errors").is_none(), "{query}: {:?}", r.body);
    r.body["data"].clone()
}

/// `importOscal` with `input`; returns the payload (top-level errors fail the test).
async fn import(app: &TestApp, token: &str, tenant: Option<&str>, input: Value) -> Value {
    ok(app, token, tenant, IMPORT, json!({ "input": input })).await["importOscal"].clone()
}

/// An import that succeeded.
fn imported(payload: &Value, case: &str) -> i64 {
    assert_eq!(payload["userErrors"], json!([]), "{case}: {payload}");
    payload["controlCount"].as_i64().unwrap()
}

/// One user error on `field` with `code` whose message contains `needle`, and no framework.
fn refused(payload: &Value, field: &[&str], code: &str, needle: &str, case: &str) {
    let errors = payload["userErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{case}: {payload}");
    assert_eq!(errors[0]["field"], json!(field), "{case}: {payload}");
    assert_eq!(errors[0]["code"], code, "{case}: {payload}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{case}: {needle:?} not in {message:?}"
    );
    assert!(payload["framework"].is_null(), "{case}: {payload}");
    assert_eq!(payload["controlCount"], 0, "{case}: {payload}");
    assert_eq!(payload["mappingsAdded"], 0, "{case}: {payload}");
}

/// The frameworks a member sees: key -> (custom, control count).
async fn frameworks(app: &TestApp, f: &Fixture) -> BTreeMap<String, (bool, i64)> {
    let d = ok(
        app,
        f.token("owner"),
        None,
        "{ frameworks { key custom controlCount } }",
        json!({}),
    )
    .await;
    d["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_owned(),
                (
                    f["custom"].as_bool().unwrap(),
                    f["controlCount"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

/// The refs of a framework's controls, in order (at most 100).
async fn control_refs(app: &TestApp, f: &Fixture, key: &str) -> Vec<String> {
    let d = ok(
        app,
        f.token("owner"),
        None,
        "query($k: String!) { framework(key: $k) { controls(first: 100) { edges { node { ref } } } } }",
        json!({ "k": key }),
    )
    .await;
    d["framework"]["controls"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["ref"].as_str().unwrap().to_owned())
        .collect()
}

/// A relationship as GraphQL writes it (`SUBSET_OF`) in the data files' spelling (`subset-of`).
fn relationship(gql: &Value) -> String {
    let r = gql.as_str().unwrap().to_ascii_lowercase().replace('_', "-");
    assert!(Relationship::parse(&r).is_some(), "{r}");
    r
}

/// The (source ref, target ref, relationship) of every path of a crosswalk, and its count.
async fn crosswalk_pairs(
    app: &TestApp,
    f: &Fixture,
    from: &str,
    to: &str,
) -> (i64, BTreeSet<(String, String, String)>) {
    let d = ok(
        app,
        f.token("owner"),
        None,
        "query($from: String!, $to: String!) { crosswalk(from: $from, to: $to) { count entries { source { ref } target { ref } relationship length } } }",
        json!({ "from": from, "to": to }),
    )
    .await;
    let entries = d["crosswalk"]["entries"].as_array().unwrap();
    let pairs: BTreeSet<_> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["length"], 1, "{e}");
            (
                e["source"]["ref"].as_str().unwrap().to_owned(),
                e["target"]["ref"].as_str().unwrap().to_owned(),
                relationship(&e["relationship"]),
            )
        })
        .collect();
    assert_eq!(pairs.len(), entries.len(), "a pair appears twice");
    (d["crosswalk"]["count"].as_i64().unwrap(), pairs)
}

async fn crosswalk_oscal(app: &TestApp, f: &Fixture, from: &str, to: &str) -> String {
    let d = ok(
        app,
        f.token("owner"),
        None,
        "query($from: String!, $to: String!) { crosswalkOscal(from: $from, to: $to) }",
        json!({ "from": from, "to": to }),
    )
    .await;
    d["crosswalkOscal"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Altered bundles

/// The framework files with `edit` applied to the one named `name`.
fn frameworks_with(name: &str, edit: impl Fn(&str) -> String) -> Vec<(String, String)> {
    let mut found = false;
    let files = FRAMEWORK_FILES
        .iter()
        .map(|f| {
            let text = if f.name == name {
                found = true;
                edit(f.text)
            } else {
                f.text.to_owned()
            };
            (f.name.to_owned(), text)
        })
        .collect();
    assert!(found, "no framework file {name}");
    files
}

/// The link files with `edit` applied to the one named `name`.
fn links_with(name: &str, edit: impl Fn(&str) -> String) -> Vec<(String, String)> {
    let files: Vec<(String, String)> = LINK_FILES
        .iter()
        .map(|f| {
            let text = if f.name == name {
                edit(f.text)
            } else {
                f.text.to_owned()
            };
            (f.name.to_owned(), text)
        })
        .collect();
    assert!(files.iter().any(|(n, _)| n == name), "no link file {name}");
    files
}

fn sources(files: &[(String, String)]) -> Vec<SourceFile<'_>> {
    files
        .iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect()
}

fn bundle(frameworks: &[(String, String)], links: &[(String, String)]) -> Bundle {
    Bundle::from_sources(&sources(frameworks), CROSSWALK_FILES, &sources(links)).unwrap()
}

/// `text` without the `[[control]]` table whose ref is `reference`.
fn without_control(text: &str, reference: &str) -> String {
    let marker = format!("ref = \"{reference}\"\n");
    assert_eq!(text.matches(&marker).count(), 1, "{reference}");
    let at = text.find(&marker).unwrap();
    let start = text[..at].rfind("[[control]]").unwrap();
    let end = text[at..]
        .find("[[control]]")
        .map_or(text.len(), |i| at + i);
    format!("{}{}", &text[..start], &text[end..])
}

/// `text` with `from` (which must occur exactly once) replaced by `to`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?}");
    text.replace(from, to)
}

const ISO: &str = "frameworks/iso27001-2022.toml";
const ISO_LINKS: &str = "crosswalks/sp800-53r5_to_iso27001-2022.csv";

// ---------------------------------------------------------------------------------------------
// 1. The shipped catalogs in the database

/// The database holds exactly the bundle: every framework, control, crosswalk and link, with the
/// same content, none retired.
async fn assert_rows_are(db: &DatabaseConnection, b: &Bundle) {
    let fws = framework::Entity::find().all(db).await.unwrap();
    assert_eq!(fws.len(), b.frameworks.len());
    for f in &b.frameworks {
        let row = fws.iter().find(|r| r.id == f.id).unwrap();
        assert_eq!(
            (row.key.as_str(), row.origin.as_str()),
            (f.key.as_str(), "bundle")
        );
        assert_eq!(row.checksum, f.checksum(), "{}", f.key);
    }
    let controls = control_rows(db).await;
    assert_eq!(
        controls.len(),
        b.frameworks.iter().map(|f| f.controls.len()).sum::<usize>()
    );
    for f in &b.frameworks {
        for c in &f.controls {
            let row = &controls[&c.id];
            assert_eq!(row.framework_id, f.id);
            assert_eq!(
                (
                    row.reference.as_str(),
                    row.title.as_str(),
                    row.kind.as_str()
                ),
                (c.reference.as_str(), c.title.as_str(), c.kind.as_str())
            );
            assert_eq!(
                (row.group_ref.as_ref(), row.parent_ref.as_ref()),
                (c.group.as_ref(), c.parent.as_ref())
            );
            assert_eq!((row.status.as_str(), row.sort), (c.status.as_str(), c.sort));
            assert_eq!(row.content_hash, c.content_hash(), "{}", c.reference);
            assert!(!row.retired, "{} {}", f.key, c.reference);
        }
    }
    let walks = crosswalk::Entity::find().all(db).await.unwrap();
    assert_eq!(walks.len(), b.crosswalks.len());
    let links = mapping_rows(db).await;
    assert_eq!(
        links.len(),
        b.crosswalks.iter().map(|w| w.links.len()).sum::<usize>(),
        "a link row that is not in the data files, or one lost"
    );
    for w in &b.crosswalks {
        let row = walks.iter().find(|r| r.id == w.id).unwrap();
        assert_eq!(row.checksum, w.checksum(), "{}", w.key);
        for l in &w.links {
            let row = links
                .get(&l.id)
                .unwrap_or_else(|| panic!("{}: link {} lost", w.key, l.id));
            assert_eq!(row.crosswalk_id, w.id);
            assert_eq!(
                (row.source_control_id, row.target_control_id),
                (l.source, l.target)
            );
            assert_eq!(row.relationship, l.relationship.as_str());
            assert_eq!(
                serde_json::from_str::<Vec<Uuid>>(&row.via).unwrap(),
                l.via,
                "{}",
                w.key
            );
            assert!(!row.retired);
        }
    }
}

const ISO_VIEW: &str = "query($r: String!) { framework(key: \"iso27001-2022\") { controlCount control(ref: $r) { title } } }";

async fn catalog_sync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let owner = alpha.token("owner");
    let shipped = Bundle::shipped_static().unwrap();

    // A fresh database holds the shipped catalogs, row for row.
    assert_eq!(count(db, "catalog_frameworks").await, 7);
    assert_eq!(count(db, "catalog_controls").await, 1741);
    assert_eq!(count(db, "catalog_crosswalks").await, 3);
    assert_eq!(count(db, "catalog_mappings").await, 1339);
    assert_rows_are(db, shipped).await;
    let controls0 = control_rows(db).await;
    let links0 = mapping_rows(db).await;

    // Again: nothing changes, the revision stays.
    let rev0 = app.store.catalog_revision().await.unwrap();
    let r = app.store.sync_catalogs(shipped).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_unchanged: 7,
            crosswalks_unchanged: 3,
            revision: rev0,
            ..SyncReport::default()
        }
    );
    assert!(!r.changed());
    assert_eq!(app.store.catalog_revision().await.unwrap(), rev0);
    assert_eq!(control_rows(db).await, controls0);
    assert_eq!(mapping_rows(db).await, links0);

    // The server's index is at this revision.
    let d = ok(&app, owner, None, ISO_VIEW, json!({ "r": "A.8.33" })).await;
    assert_eq!(d["framework"]["controlCount"], 134);
    assert_eq!(d["framework"]["control"]["title"], "Test information");

    // One title changed: one framework loaded, one row written, the crosswalks untouched.
    let retitled = frameworks_with(ISO, |t| {
        replace_once(
            t,
            "title = \"Test information\"\n",
            "title = \"Test information (revised)\"\n",
        )
    });
    let links_shipped = links_with(ISO_LINKS, str::to_owned);
    let b = bundle(&retitled, &links_shipped);
    let a833 = control_id("iso27001-2022", "A.8.33");
    let r = app.store.sync_catalogs(&b).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_loaded: 1,
            frameworks_unchanged: 6,
            controls_updated: 1,
            crosswalks_unchanged: 3,
            revision: rev0 + 1,
            ..SyncReport::default()
        }
    );
    assert_eq!(app.store.catalog_revision().await.unwrap(), rev0 + 1);
    let controls1 = control_rows(db).await;
    for (id, before) in &controls0 {
        let after = &controls1[id];
        if *id == a833 {
            assert_eq!(after.title, "Test information (revised)");
            assert_ne!(after.content_hash, before.content_hash);
            let mut same = after.clone();
            same.title.clone_from(&before.title);
            same.content_hash.clone_from(&before.content_hash);
            assert_eq!(&same, before, "only the title changed");
        } else {
            assert_eq!(after, before, "{} changed", before.reference);
        }
    }
    assert_eq!(controls1.len(), controls0.len());
    assert_eq!(mapping_rows(db).await, links0);
    assert_rows_are(db, &b).await;
    // The running server reloads: the next request sees the new title.
    let d = ok(&app, owner, None, ISO_VIEW, json!({ "r": "A.8.33" })).await;
    assert_eq!(
        d["framework"]["control"]["title"],
        "Test information (revised)"
    );
    // The same bundle again changes nothing.
    let again = app.store.sync_catalogs(&b).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(again.revision, rev0 + 1);
    // Back to the shipped files: the title is restored.
    let r = app.store.sync_catalogs(shipped).await.unwrap();
    assert_eq!(
        (r.frameworks_loaded, r.controls_updated, r.revision),
        (1, 1, rev0 + 2)
    );
    assert_eq!(control_rows(db).await, controls0);

    // The last ISO control (no links) removed: retired, not deleted; nothing else written.
    let a834 = control_id("iso27001-2022", "A.8.34");
    let b = bundle(
        &frameworks_with(ISO, |t| without_control(t, "A.8.34")),
        &links_shipped,
    );
    let r = app.store.sync_catalogs(&b).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_loaded: 1,
            frameworks_unchanged: 6,
            controls_retired: 1,
            crosswalks_unchanged: 3,
            revision: rev0 + 3,
            ..SyncReport::default()
        }
    );
    let controls2 = control_rows(db).await;
    assert_eq!(controls2.len(), controls0.len(), "a row was deleted");
    for (id, before) in &controls0 {
        let after = &controls2[id];
        assert_eq!(after.retired, *id == a834, "{}", after.reference);
        assert_eq!(after.content_hash, before.content_hash);
    }
    assert_eq!(mapping_rows(db).await, links0);
    let d = ok(&app, owner, None, ISO_VIEW, json!({ "r": "A.8.34" })).await;
    assert_eq!(d["framework"]["controlCount"], 133);
    assert!(d["framework"]["control"].is_null(), "{d}");
    let r = app.store.sync_catalogs(shipped).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_loaded: 1,
            frameworks_unchanged: 6,
            controls_updated: 1,
            crosswalks_unchanged: 3,
            revision: rev0 + 4,
            ..SyncReport::default()
        }
    );
    assert_eq!(control_rows(db).await, controls0);

    // A control with links cannot leave the framework file alone: the bundle is refused.
    let err = Bundle::from_sources(
        &sources(&frameworks_with(ISO, |t| without_control(t, "A.8.33"))),
        CROSSWALK_FILES,
        LINK_FILES,
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("A.8.33 is not a control of iso27001-2022"),
        "{err}"
    );

    // The tenant links a control of its own to A.8.33 before it is removed.
    ok(
        &app,
        owner,
        None,
        "mutation { createFramework(input: {key: \"own\", name: \"Own\", version: \"1\", controls: [{ref: \"X-1\", title: \"One\"}]}) { userErrors { code } } }",
        json!({}),
    )
    .await;
    let ids = ok(
        &app,
        owner,
        None,
        "{ o: framework(key: \"own\") { control(ref: \"X-1\") { id } } i: framework(key: \"iso27001-2022\") { control(ref: \"A.8.33\") { id } } }",
        json!({}),
    )
    .await;
    let d = ok(
        &app,
        owner,
        None,
        "mutation($s: ID!, $t: ID!) { addMapping(input: {sourceControlId: $s, targetControlId: $t, relationship: EQUAL_TO}) { userErrors { code message } } }",
        json!({ "s": ids["o"]["control"]["id"], "t": ids["i"]["control"]["id"] }),
    )
    .await;
    assert_eq!(d["addMapping"]["userErrors"], json!([]));
    let (n, _) = crosswalk_pairs(&app, &alpha, "own", "iso27001-2022").await;
    assert_eq!(n, 1);
    let tenant_links = count(db, "tenant_mappings").await;
    assert_eq!(tenant_links, 1);

    // A.8.33 and its one published link removed (the derived crosswalk follows): the control
    // and exactly the links that named it are retired, A.8.34 moves up one place.
    let removed = bundle(
        &frameworks_with(ISO, |t| without_control(t, "A.8.33")),
        &links_with(ISO_LINKS, |t| replace_once(t, "SA-3(2),A.8.33,\n", "")),
    );
    let kept: HashSet<Uuid> = removed
        .crosswalks
        .iter()
        .flat_map(|w| w.links.iter().map(|l| l.id))
        .collect();
    let gone: BTreeSet<Uuid> = links0
        .keys()
        .filter(|id| !kept.contains(id))
        .copied()
        .collect();
    let derived_to_a833 = shipped
        .crosswalk("hipaa-sr_to_iso27001-2022_derived")
        .unwrap()
        .links
        .iter()
        .filter(|l| l.target == a833)
        .count();
    assert_eq!(gone.len(), 1 + derived_to_a833);
    assert!(
        gone.iter()
            .all(|id| links0[id].target_control_id == a833 || links0[id].source_control_id == a833)
    );
    let walks_changed = shipped
        .crosswalks
        .iter()
        .filter(|w| removed.crosswalk(&w.key).unwrap().checksum() != w.checksum())
        .count();
    assert_eq!(walks_changed, 1 + usize::from(derived_to_a833 > 0));
    let r = app.store.sync_catalogs(&removed).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_loaded: 1,
            frameworks_unchanged: 6,
            controls_updated: 1,
            controls_retired: 1,
            crosswalks_loaded: walks_changed,
            crosswalks_unchanged: 3 - walks_changed,
            links_retired: gone.len(),
            revision: rev0 + 5,
            ..SyncReport::default()
        }
    );
    let controls3 = control_rows(db).await;
    assert_eq!(controls3.len(), controls0.len());
    for (id, before) in &controls0 {
        let after = &controls3[id];
        assert_eq!(after.retired, *id == a833, "{}", after.reference);
        if *id == a834 {
            assert_eq!(after.sort, before.sort - 1);
        } else {
            assert_eq!(after, &{
                let mut b = before.clone();
                b.retired = *id == a833;
                b
            });
        }
    }
    let links3 = mapping_rows(db).await;
    assert_eq!(links3.len(), links0.len(), "a link row was deleted");
    for (id, before) in &links0 {
        let after = &links3[id];
        assert_eq!(after.retired, gone.contains(id));
        assert_eq!(
            (after.source_control_id, after.target_control_id),
            (before.source_control_id, before.target_control_id)
        );
    }
    // No live link names a retired control.
    let retired: HashSet<Uuid> = controls3
        .values()
        .filter(|c| c.retired)
        .map(|c| c.id)
        .collect();
    for l in links3.values().filter(|l| !l.retired) {
        assert!(
            !retired.contains(&l.source_control_id) && !retired.contains(&l.target_control_id),
            "live link {} names a retired control",
            l.id
        );
    }
    // The server's view: A.8.33 gone, the derived crosswalk shorter, the tenant's row kept but
    // its link to the retired control no longer answered as a path.
    let d = ok(&app, owner, None, ISO_VIEW, json!({ "r": "A.8.33" })).await;
    assert_eq!(d["framework"]["controlCount"], 133);
    assert!(d["framework"]["control"].is_null(), "{d}");
    let (n, _) = crosswalk_pairs(&app, &alpha, "hipaa-sr", "iso27001-2022").await;
    assert_eq!(
        usize::try_from(n).unwrap(),
        419 - derived_to_a833,
        "hipaa-sr to iso27001-2022"
    );
    let (n, pairs) = crosswalk_pairs(&app, &alpha, "own", "iso27001-2022").await;
    assert_eq!((n, pairs.len()), (0, 0), "{pairs:?}");
    assert_eq!(count(db, "tenant_mappings").await, tenant_links);

    // Back to the shipped files: every retired row lives again, exactly as before.
    let r = app.store.sync_catalogs(shipped).await.unwrap();
    assert_eq!(
        r,
        SyncReport {
            frameworks_loaded: 1,
            frameworks_unchanged: 6,
            controls_updated: 2,
            crosswalks_loaded: walks_changed,
            crosswalks_unchanged: 3 - walks_changed,
            links_updated: gone.len(),
            revision: rev0 + 6,
            ..SyncReport::default()
        }
    );
    assert_eq!(control_rows(db).await, controls0);
    assert_eq!(mapping_rows(db).await, links0);
    assert_rows_are(db, shipped).await;
    let (n, _) = crosswalk_pairs(&app, &alpha, "hipaa-sr", "iso27001-2022").await;
    assert_eq!(n, 419);
    let (_, pairs) = crosswalk_pairs(&app, &alpha, "own", "iso27001-2022").await;
    assert_eq!(
        pairs,
        BTreeSet::from([("X-1".to_owned(), "A.8.33".to_owned(), "equal-to".to_owned())])
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A tenant imports catalogs and profiles

/// Every control id of an OSCAL catalog, in document order.
fn catalog_ids(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        for g in v["groups"].as_array().into_iter().flatten() {
            walk(g, out);
        }
        for c in v["controls"].as_array().into_iter().flatten() {
            out.push(c["id"].as_str().unwrap().to_owned());
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&doc["catalog"], &mut out);
    out
}

async fn tenant_import(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_body_bytes = 8 * MIB).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let beta = app.tenant("beta", &[("owner", Role::Owner)]).await;
    let owner = alpha.token("owner");
    let shared_before = frameworks(&app, &beta).await;
    assert_eq!(shared_before.len(), 7);

    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(BASIC_CATALOG), "key": "basic", "fileName": "basic-catalog.json" }),
    )
    .await;
    assert_eq!(imported(&p, "basic catalog"), 4);
    assert_eq!(
        p["framework"],
        json!({ "key": "basic", "controlCount": 4, "custom": true })
    );
    assert_eq!(
        control_refs(&app, &alpha, "basic").await,
        catalog_ids(&serde_json::from_str(&fixture(BASIC_CATALOG)).unwrap())
    );

    // The profile names ../../catalog/xml/basic-catalog.xml: found by the file name it was
    // imported under; the result is NIST's resolved profile.
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(BASIC_PROFILE), "key": "basic-prof", "fileName": "basic-profile.json" }),
    )
    .await;
    assert_eq!(imported(&p, "basic profile"), 3);
    let resolved: Value = serde_json::from_str(&fixture(BASIC_RESOLVED)).unwrap();
    assert_eq!(
        control_refs(&app, &alpha, "basic-prof").await,
        catalog_ids(&resolved)
    );

    // The NIST HIGH baseline, resolved (2.1 MB: over the default body limit, under 8 MiB).
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(HIGH), "key": "nist-high", "fileName": "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json" }),
    )
    .await;
    assert_eq!(imported(&p, "HIGH"), 370);

    // The LOW profile imports the SP 800-53 catalog, which is not here: refused by name, and
    // nothing is stored.
    let before = tenant_rows(db).await;
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(LOW), "key": "nist-low", "fileName": "NIST_SP-800-53_rev5_LOW-baseline_profile.json" }),
    )
    .await;
    refused(
        &p,
        &["input", "document"],
        "BAD_USER_INPUT",
        LOW_IMPORT,
        "LOW without resolveAgainst",
    );
    assert_eq!(tenant_rows(db).await, before);

    // Resolved against the HIGH catalog it selects its 149 controls.
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(LOW), "key": "nist-low", "resolveAgainst": "nist-high" }),
    )
    .await;
    assert_eq!(imported(&p, "LOW against HIGH"), 149);
    let after = tenant_rows(db).await;
    assert_eq!(after.frameworks, before.frameworks + 1);
    assert_eq!(after.controls, before.controls + 149);
    assert_eq!(after.audit, before.audit + 1);

    let seen = frameworks(&app, &alpha).await;
    for (key, n) in [
        ("basic", 4),
        ("basic-prof", 3),
        ("nist-high", 370),
        ("nist-low", 149),
    ] {
        assert_eq!(seen.get(key), Some(&(true, n)), "{key}: {seen:?}");
    }
    assert_eq!(seen.len(), 11);
    // The other tenant sees none of them.
    assert_eq!(frameworks(&app, &beta).await, shared_before);
    let d = ok(
        &app,
        beta.token("owner"),
        None,
        "{ framework(key: \"nist-high\") { key } }",
        json!({}),
    )
    .await;
    assert!(d["framework"].is_null(), "{d}");
    // Nor anything in the shared tables.
    assert_eq!(count(db, "catalog_frameworks").await, 7);
    assert_eq!(count(db, "catalog_controls").await, 1741);
}

// ---------------------------------------------------------------------------------------------
// 3. Documents that are refused

fn minimal_catalog(oscal_version: &str, controls: &Value) -> String {
    json!({
        "catalog": {
            "uuid": "6f0c0f5e-4e3b-4c3a-9d8e-0b7d1c2a3b4c",
            "metadata": {
                "title": "Small",
                "last-modified": "2024-01-01T00:00:00Z",
                "version": "1",
                "oscal-version": oscal_version,
            },
            "controls": controls,
        }
    })
    .to_string()
}

/// A request body of at least `len` bytes importing a huge document.
fn huge_import(len: usize) -> Vec<u8> {
    let head = format!(
        "{{\"query\":{},\"variables\":{{\"input\":{{\"key\":\"huge\",\"document\":\"",
        serde_json::to_string(IMPORT).unwrap()
    );
    let mut body = head.into_bytes();
    body.resize(len - 4, b' ');
    body.extend_from_slice(b"\"}}}");
    body
}

/// POSTs `body` with a `Content-Length` over a plain socket, reading the response while still
/// sending (the server may answer and close before reading the rest).
async fn post_big(app: &TestApp, token: &str, body: Vec<u8>) -> Answer {
    let host = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            wr.write_all(chunk).await?;
        }
        wr.flush().await
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, body) = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length in the response");
            if buf.len() >= end + 4 + length {
                break (head, buf[end + 4..end + 4 + length].to_vec());
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(30), rd.read(&mut chunk))
            .await
            .expect("the server answers while the body is still coming")
            .expect("the response is readable");
        assert!(n > 0, "the connection closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    writer.abort();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    Answer {
        status,
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).to_string())),
        content_type: String::new(),
    }
}

async fn bad_oscal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let owner = alpha.token("owner");
    let control = |id: &str| json!({ "id": id, "title": format!("Control {id}") });
    let good = minimal_catalog("1.1.2", &json!([control("c-1"), control("c-2")]));

    let deep = format!(
        "{{\"catalog\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let no_metadata = json!({
        "catalog": { "uuid": "6f0c0f5e-4e3b-4c3a-9d8e-0b7d1c2a3b4c", "controls": [control("c-1")] }
    })
    .to_string();
    // 40 groups inside each other (about 120 JSON levels: within what JSON may nest).
    let mut group = json!({ "id": "g-40", "title": "G", "controls": [control("c-1")] });
    for i in (1..40).rev() {
        group = json!({ "id": format!("g-{i}"), "title": "G", "groups": [group] });
    }
    let nested_groups = json!({
        "catalog": {
            "uuid": "6f0c0f5e-4e3b-4c3a-9d8e-0b7d1c2a3b4c",
            "metadata": {
                "title": "Deep",
                "last-modified": "2024-01-01T00:00:00Z",
                "version": "1",
                "oscal-version": "1.1.2",
            },
            "groups": [group],
        }
    })
    .to_string();
    let nested_duplicate = json!({ "id": "c-2", "title": "Parent", "controls": [control("c-1")] });
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "{\"catalog\": {".to_owned(), "not JSON"),
        ("plain text", "catalog".to_owned(), "not JSON"),
        (
            "wrong root key",
            good.replacen("\"catalog\"", "\"kitten\"", 1),
            "root must be one of catalog, profile, mapping-collection; found kitten",
        ),
        (
            "a root that is not an object",
            "[1, 2]".to_owned(),
            "root must be one of",
        ),
        ("no metadata", no_metadata, "catalog.metadata is missing"),
        (
            "duplicate control id",
            minimal_catalog("1.1.2", &json!([control("c-1"), control("c-1")])),
            "control id c-1 appears more than once",
        ),
        (
            "duplicate control id in an enhancement",
            minimal_catalog("1.1.2", &json!([control("c-1"), nested_duplicate])),
            "control id c-1 appears more than once",
        ),
        (
            "a profile whose catalog is not here",
            fixture(BASIC_PROFILE),
            "basic-catalog",
        ),
        ("10,000 nested arrays", deep, "nests deeper than 128 levels"),
        (
            "groups nested 40 deep",
            nested_groups,
            "nests deeper than 32 levels",
        ),
        (
            "OSCAL 1.0.0",
            minimal_catalog("1.0.0", &json!([control("c-1")])),
            "1.0.0 is not OSCAL 1.1.x or 1.2.x",
        ),
        (
            "no controls",
            minimal_catalog("1.1.2", &json!([])),
            "no controls",
        ),
    ];
    let before = tenant_rows(db).await;
    for (case, document, needle) in &cases {
        let p = import(
            &app,
            owner,
            None,
            json!({ "document": document, "key": "bad", "fileName": "bad.json" }),
        )
        .await;
        refused(&p, &["input", "document"], "BAD_USER_INPUT", needle, case);
        assert_eq!(tenant_rows(db).await, before, "{case}: rows were added");
    }

    // A key that is not a key: refused, nothing stored.
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": good, "key": "Not A Key" }),
    )
    .await;
    assert_eq!(p["userErrors"][0]["code"], "BAD_USER_INPUT", "{p}");
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("must be 1-80 lower-case letters"),
        "{p}"
    );
    assert!(p["framework"].is_null(), "{p}");
    refused(
        &p,
        &["input", "key"],
        "BAD_USER_INPUT",
        "must be 1-80 lower-case letters",
        "bad key",
    );
    assert_eq!(tenant_rows(db).await, before);

    // 50 MB over HTTP: 413 with the server's code before anything runs.
    let r = post_big(&app, owner, huge_import(50 * 1_000_000)).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(r.code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    assert_eq!(tenant_rows(db).await, before);

    // The same key twice: the second is a conflict, and only the first is stored.
    let p = import(&app, owner, None, json!({ "document": good, "key": "dup" })).await;
    assert_eq!(imported(&p, "first dup"), 2);
    let once = tenant_rows(db).await;
    assert_eq!(
        once,
        TenantRows {
            frameworks: before.frameworks + 1,
            controls: before.controls + 2,
            links: before.links,
            audit: before.audit + 1,
        }
    );
    let p = import(
        &app,
        owner,
        None,
        json!({ "document": fixture(BASIC_CATALOG), "key": "dup" }),
    )
    .await;
    refused(&p, &["input", "key"], "CONFLICT", "dup", "second dup");
    assert_eq!(tenant_rows(db).await, once);
    assert_eq!(count(db, "catalog_frameworks").await, 7);
}

// ---------------------------------------------------------------------------------------------
// 4. Shared imports

async fn shared_import(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let beta = app.tenant("beta", &[("owner", Role::Owner)]).await;
    let basic = fixture(BASIC_CATALOG);
    let input = json!({ "document": basic, "key": "basic-shared", "fileName": "basic-catalog.json", "shared": true });
    // Both servers' views are loaded at the current revision.
    assert_eq!(frameworks(&app, &alpha).await.len(), 7);
    assert_eq!(frameworks(&app, &beta).await.len(), 7);
    let rev0 = app.store.catalog_revision().await.unwrap();

    // A tenant owner is not an operator.
    let r = app
        .gql(
            alpha.token("owner"),
            None,
            IMPORT,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);
    assert!(r.data().is_null(), "{:?}", r.body);
    assert_eq!(count(db, "catalog_frameworks").await, 7);
    assert_eq!(count(db, "custom_frameworks").await, 0);
    assert_eq!(app.store.catalog_revision().await.unwrap(), rev0);

    let ptx = app.store.platform_tx().await.unwrap();
    let (op, _) = ptx
        .ensure_user(
            &grc_domain::tenancy::Email::parse("ops@grc.test").unwrap(),
            None,
        )
        .await
        .unwrap();
    ptx.set_platform_operator(op.id, true).await.unwrap();
    ptx.commit().await.unwrap();
    let op_token = app.token(&op.subject);

    let p = import(&app, &op_token, None, input.clone()).await;
    assert_eq!(imported(&p, "shared basic"), 4);
    assert_eq!(count(db, "catalog_frameworks").await, 8);
    assert_eq!(count(db, "catalog_controls").await, 1741 + 4);
    assert_eq!(count(db, "custom_frameworks").await, 0);
    assert_eq!(app.store.catalog_revision().await.unwrap(), rev0 + 1);
    // Every tenant sees it at once, as a shared framework.
    for f in [&alpha, &beta] {
        let seen = frameworks(&app, f).await;
        assert_eq!(seen.len(), 8, "{seen:?}");
        assert_eq!(seen.get("basic-shared"), Some(&(false, 4)), "{seen:?}");
    }
    assert_eq!(
        control_refs(&app, &beta, "basic-shared").await,
        ["s1.1.1", "s1.1.2", "s2.1.1", "s2.1.2"]
    );

    // Its key is taken, as are the shipped ones.
    for key in ["basic-shared", "iso27001-2022"] {
        let mut again = input.clone();
        again["key"] = json!(key);
        let p = import(&app, &op_token, None, again).await;
        refused(&p, &["input", "key"], "CONFLICT", key, key);
    }
    // Refused documents change nothing shared either.
    let mut bad = input.clone();
    bad["document"] = json!("{");
    bad["key"] = json!("bad-shared");
    let p = import(&app, &op_token, None, bad).await;
    refused(
        &p,
        &["input", "document"],
        "BAD_USER_INPUT",
        "not JSON",
        "bad shared",
    );
    assert_eq!(count(db, "catalog_frameworks").await, 8);
    assert_eq!(app.store.catalog_revision().await.unwrap(), rev0 + 1);

    // A profile naming basic-catalog resolves against the shared import (by the file name it was
    // imported under), as it would against a tenant's own.
    let p = import(
        &app,
        alpha.token("owner"),
        None,
        json!({ "document": fixture(BASIC_PROFILE), "key": "prof", "resolveAgainst": "basic-shared" }),
    )
    .await;
    assert_eq!(imported(&p, "profile against the shared catalog"), 3);
    // Without resolveAgainst, the profile finds the shared catalog by the file name the
    // operator imported it under.
    let p = import(
        &app,
        beta.token("owner"),
        None,
        json!({ "document": fixture(BASIC_PROFILE), "key": "prof" }),
    )
    .await;
    assert_eq!(imported(&p, "profile naming the shared catalog"), 3);
}

// ---------------------------------------------------------------------------------------------
// 5. OSCAL export and import back

async fn oscal_round_trip(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_query_complexity = 100_000).await;
    let db = &app.db.admin;
    let alpha = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let beta = app.tenant("beta", &[("owner", Role::Owner)]).await;
    let shipped = Bundle::shipped_static().unwrap();
    let hipaa = shipped.framework("hipaa-sr").unwrap();
    let iso = shipped.framework("iso27001-2022").unwrap();
    let derived = shipped
        .crosswalk("hipaa-sr_to_iso27001-2022_derived")
        .unwrap();
    let ref_of = |id: Uuid| {
        hipaa
            .controls
            .iter()
            .chain(&iso.controls)
            .find(|c| c.id == id)
            .map(|c| c.reference.clone())
            .unwrap()
    };
    let published: BTreeSet<(String, String, String)> = derived
        .links
        .iter()
        .map(|l| {
            (
                ref_of(l.source),
                ref_of(l.target),
                l.relationship.as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(published.len(), 419);

    let (n, pairs) = crosswalk_pairs(&app, &alpha, "hipaa-sr", "iso27001-2022").await;
    assert_eq!(n, 419);
    assert_eq!(pairs, published);

    // The export: an OSCAL 1.2 mapping collection, one map per path.
    let text = crosswalk_oscal(&app, &alpha, "hipaa-sr", "iso27001-2022").await;
    let doc: Value = serde_json::from_str(&text).unwrap();
    let top = doc.as_object().unwrap();
    assert_eq!(top.keys().collect::<Vec<_>>(), ["mapping-collection"]);
    let mc = &doc["mapping-collection"];
    assert!(Uuid::parse_str(mc["uuid"].as_str().unwrap()).is_ok());
    assert_eq!(mc["metadata"]["oscal-version"], "1.2.0");
    for key in ["title", "version", "last-modified"] {
        assert!(
            mc["metadata"][key].as_str().is_some_and(|s| !s.is_empty()),
            "metadata.{key}"
        );
    }
    assert!(
        chrono::DateTime::parse_from_rfc3339(mc["metadata"]["last-modified"].as_str().unwrap())
            .is_ok()
    );
    for key in [
        "method",
        "matching-rationale",
        "status",
        "mapping-description",
    ] {
        assert!(
            mc["provenance"][key]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "provenance.{key}"
        );
    }
    // Every link is derived: made by a program, not a person.
    assert_eq!(mc["provenance"]["method"], "automation");
    let mappings = mc["mappings"].as_array().unwrap();
    assert_eq!(mappings.len(), 1);
    assert_eq!(mappings[0]["source-resource"]["href"], "hipaa-sr");
    assert_eq!(mappings[0]["target-resource"]["href"], "iso27001-2022");
    let maps = mappings[0]["maps"].as_array().unwrap();
    assert_eq!(maps.len(), 419);
    let hipaa_refs: HashSet<&str> = hipaa
        .controls
        .iter()
        .map(|c| c.reference.as_str())
        .collect();
    let iso_refs: HashSet<&str> = iso.controls.iter().map(|c| c.reference.as_str()).collect();
    let mut uuids = HashSet::new();
    let mut exported = BTreeSet::new();
    for m in maps {
        let uuid = Uuid::parse_str(m["uuid"].as_str().unwrap()).unwrap();
        assert!(uuids.insert(uuid), "map uuid {uuid} twice");
        let rel = m["relationship"].as_str().unwrap();
        assert!(Relationship::parse(rel).is_some(), "{rel}");
        let s = m["sources"][0]["id-ref"].as_str().unwrap();
        let t = m["targets"][0]["id-ref"].as_str().unwrap();
        assert!(hipaa_refs.contains(s), "{s}");
        assert!(iso_refs.contains(t), "{t}");
        assert!(m.get("remarks").is_none(), "a one-link path has no remarks");
        exported.insert((s.to_owned(), t.to_owned(), rel.to_owned()));
    }
    assert_eq!(exported, published);
    // Map uuids are the published link ids.
    let link_ids: HashSet<Uuid> = derived.links.iter().map(|l| l.id).collect();
    assert_eq!(uuids, link_ids);
    // The same links give the same document (but for last-modified).
    let again: Value =
        serde_json::from_str(&crosswalk_oscal(&app, &beta, "hipaa-sr", "iso27001-2022").await)
            .unwrap();
    assert_eq!(again["mapping-collection"]["uuid"], mc["uuid"]);
    assert_eq!(again["mapping-collection"]["mappings"], mc["mappings"]);

    // Our own reader takes it back, pair for pair.
    let Document::Mappings(m) = oscal::parse(text.as_bytes()).unwrap() else {
        panic!("not read as a mapping collection")
    };
    assert_eq!(
        (m.source_href.as_str(), m.target_href.as_str()),
        ("hipaa-sr", "iso27001-2022")
    );
    assert_eq!(m.pairs.len(), 419);
    let read: BTreeSet<_> = m
        .pairs
        .iter()
        .map(|p| {
            (
                p.source.clone(),
                p.target.clone(),
                p.relationship.as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(read, published);

    // Imported back for a tenant: every link is already published, none is added.
    let before = tenant_rows(db).await;
    let p = import(
        &app,
        alpha.token("owner"),
        None,
        json!({ "document": text }),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    assert_eq!(p["mappingsAdded"], 0, "{p}");
    let after = tenant_rows(db).await;
    assert_eq!(after.links, before.links);
    assert_eq!(
        (after.frameworks, after.controls),
        (before.frameworks, before.controls)
    );
    let (n, again) = crosswalk_pairs(&app, &alpha, "hipaa-sr", "iso27001-2022").await;
    assert_eq!(
        (n, &again),
        (419, &published),
        "duplicates after the import"
    );

    // A tenant's own framework and two links of its own, exported ...
    let create = "mutation { createFramework(input: {key: \"own-fw\", name: \"Own\", version: \"1\", controls: [{ref: \"OWN-1\", title: \"One\"}, {ref: \"OWN-2\", title: \"Two\"}]}) { framework { key controlCount } userErrors { code message } } }";
    for f in [&alpha, &beta] {
        let d = ok(&app, f.token("owner"), None, create, json!({})).await;
        assert_eq!(d["createFramework"]["userErrors"], json!([]), "{d}");
        assert_eq!(d["createFramework"]["framework"]["controlCount"], 2);
    }
    let ids = ok(
        &app,
        alpha.token("owner"),
        None,
        "{ o: framework(key: \"own-fw\") { one: control(ref: \"OWN-1\") { id } two: control(ref: \"OWN-2\") { id } } i: framework(key: \"iso27001-2022\") { one: control(ref: \"A.5.1\") { id } two: control(ref: \"A.8.33\") { id } } }",
        json!({}),
    )
    .await;
    for (s, t, rel) in [
        (&ids["o"]["one"]["id"], &ids["i"]["one"]["id"], "SUBSET_OF"),
        (&ids["o"]["two"]["id"], &ids["i"]["two"]["id"], "EQUAL_TO"),
    ] {
        let d = ok(
            &app,
            alpha.token("owner"),
            None,
            "mutation($s: ID!, $t: ID!, $r: Relationship!) { addMapping(input: {sourceControlId: $s, targetControlId: $t, relationship: $r}) { userErrors { code message } } }",
            json!({ "s": s, "t": t, "r": rel }),
        )
        .await;
        assert_eq!(d["addMapping"]["userErrors"], json!([]), "{d}");
    }
    let own = BTreeSet::from([
        (
            "OWN-1".to_owned(),
            "A.5.1".to_owned(),
            "subset-of".to_owned(),
        ),
        (
            "OWN-2".to_owned(),
            "A.8.33".to_owned(),
            "equal-to".to_owned(),
        ),
    ]);
    assert_eq!(
        crosswalk_pairs(&app, &alpha, "own-fw", "iso27001-2022").await,
        (2, own.clone())
    );
    let text = crosswalk_oscal(&app, &alpha, "own-fw", "iso27001-2022").await;
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["mapping-collection"]["provenance"]["method"], "human");
    assert_eq!(
        doc["mapping-collection"]["mappings"][0]["maps"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // ... and imported by another tenant whose framework has the same key and refs.
    assert_eq!(
        crosswalk_pairs(&app, &beta, "own-fw", "iso27001-2022").await,
        (0, BTreeSet::new())
    );
    let before = tenant_rows(db).await;
    let p = import(&app, beta.token("owner"), None, json!({ "document": text })).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    assert_eq!(p["mappingsAdded"], 2, "{p}");
    assert_eq!(
        crosswalk_pairs(&app, &beta, "own-fw", "iso27001-2022").await,
        (2, own.clone())
    );
    let after = tenant_rows(db).await;
    assert_eq!(after.links, before.links + 2);
    assert_eq!(after.audit, before.audit + 1);
    // Again: already there, nothing added.
    let p = import(&app, beta.token("owner"), None, json!({ "document": text })).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    assert_eq!(p["mappingsAdded"], 0, "{p}");
    assert_eq!(tenant_rows(db).await.links, after.links);
    assert_eq!(
        crosswalk_pairs(&app, &beta, "own-fw", "iso27001-2022").await,
        (2, own)
    );
    // A tenant without such a framework is told which one is missing.
    let gamma = app.tenant("gamma", &[("owner", Role::Owner)]).await;
    let before = tenant_rows(db).await;
    let p = import(
        &app,
        gamma.token("owner"),
        None,
        json!({ "document": text }),
    )
    .await;
    refused(
        &p,
        &["input", "document"],
        "BAD_USER_INPUT",
        "own-fw",
        "no such framework",
    );
    assert_eq!(tenant_rows(db).await, before);
}
