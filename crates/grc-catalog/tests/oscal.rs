//! OSCAL import and export against NIST's own documents in `tests/fixtures/reference-data`:
//! the expected values are read out of the fixture files with `serde_json`, not written down, so
//! the tests check the reader against the documents rather than against a second guess.

use grc_catalog::model::{ControlStatus, Relationship};
use grc_catalog::oscal::{
    self, CatalogDocument, Document, ExportHeader, ExportLink, MAX_DOCUMENT_BYTES, MAX_NESTING,
    MappedPair, OscalError, ProfileDocument,
};
use grc_catalog::{Control, Framework};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use uuid::Uuid;

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference-data/nist-oscal-content/examples"
);
const SP800_53: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference-data/nist-sp800-53r5"
);
const CSF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference-data/nist-csf-2.0/NIST_CSF_v2.0_catalog.json"
);
const HIGH_CATALOG: &str = "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json";

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example(name: &str) -> Vec<u8> {
    read(&format!("{EXAMPLES}/{name}"))
}

fn sp800_53(name: &str) -> Vec<u8> {
    read(&format!("{SP800_53}/{name}"))
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the fixture is JSON")
}

fn catalog_of(bytes: &[u8]) -> CatalogDocument {
    match oscal::parse(bytes).expect("the catalog parses") {
        Document::Catalog(c) => c,
        other => panic!("expected a catalog, got {other:?}"),
    }
}

fn profile_of(bytes: &[u8]) -> ProfileDocument {
    match oscal::parse(bytes).expect("the profile parses") {
        Document::Profile(p) => p,
        other => panic!("expected a profile, got {other:?}"),
    }
}

fn id_scheme(reference: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, reference.as_bytes())
}

fn framework_of(doc: &CatalogDocument, key: &str) -> Framework {
    oscal::catalog_framework(
        doc,
        key,
        "imported",
        id_scheme,
        Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes()),
    )
    .expect("the catalog makes a valid framework")
}

/// A control as read straight out of the JSON: where it sits and what it says.
#[derive(Debug, Clone)]
struct RawControl {
    id: String,
    title: String,
    class: Option<String>,
    group: Option<String>,
    parent: Option<String>,
    /// The label without a class (NIST's plain label), else the first label.
    label: Option<String>,
    statement: String,
}

fn prose_of(part: &Value, out: &mut String) {
    if let Some(p) = part.get("prose").and_then(Value::as_str) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(p);
    }
    for p in part
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        prose_of(p, out);
    }
}

/// Every control of a catalog (or of a group, or every enhancement of a control), depth first,
/// groups before controls as OSCAL lists them.
fn raw_controls(
    node: &Value,
    group: Option<&str>,
    parent: Option<&str>,
    out: &mut Vec<RawControl>,
) {
    for g in node
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let gid = g.get("id").and_then(Value::as_str);
        raw_controls(g, gid, None, out);
    }
    for c in node
        .get("controls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = c["id"].as_str().expect("control id").to_owned();
        let labels: Vec<&Value> = c
            .get("props")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p["name"] == "label")
            .collect();
        let label = labels
            .iter()
            .find(|p| p.get("class").is_none())
            .or_else(|| labels.first())
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned);
        let mut statement = String::new();
        for part in c
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if part["name"] == "statement" {
                prose_of(part, &mut statement);
            }
        }
        out.push(RawControl {
            id: id.clone(),
            title: c["title"].as_str().expect("control title").to_owned(),
            class: c.get("class").and_then(Value::as_str).map(str::to_owned),
            group: group.map(str::to_owned),
            parent: parent.map(str::to_owned),
            label,
            statement,
        });
        raw_controls(c, group, Some(&id), out);
    }
}

fn raw_catalog(json: &Value) -> Vec<RawControl> {
    let mut out = Vec::new();
    raw_controls(&json["catalog"], None, None, &mut out);
    out
}

fn refs(controls: &[Control]) -> Vec<String> {
    controls.iter().map(|c| c.reference.clone()).collect()
}

fn parse_err(bytes: &[u8]) -> OscalError {
    match oscal::parse(bytes) {
        Ok(doc) => panic!("expected the document to be refused, got {doc:?}"),
        Err(e) => e,
    }
}

fn parse_value_err(value: &Value) -> OscalError {
    parse_err(&serde_json::to_vec(value).expect("serialises"))
}

// ---------------------------------------------------------------------------------------------
// 1. The basic catalog
// ---------------------------------------------------------------------------------------------

#[test]
fn basic_catalog_parses_with_groups_controls_and_label_aliases() {
    let bytes = example("basic-catalog.json");
    let json = json_of(&bytes);
    let doc = catalog_of(&bytes);

    let meta = &json["catalog"]["metadata"];
    assert_eq!(
        doc.metadata.uuid.to_string(),
        json["catalog"]["uuid"].as_str().expect("uuid")
    );
    assert_eq!(doc.metadata.title, meta["title"].as_str().expect("title"));
    assert_eq!(
        doc.metadata.version,
        meta["version"].as_str().expect("version")
    );
    assert_eq!(
        doc.metadata.oscal_version,
        meta["oscal-version"].as_str().expect("oscal-version")
    );
    assert_eq!(
        doc.metadata.last_modified,
        meta["last-modified"].as_str().expect("last-modified")
    );

    // Groups: every group of the file, with its parent group.
    let mut want_groups = Vec::new();
    fn groups(node: &Value, parent: Option<&str>, out: &mut Vec<(String, String, Option<String>)>) {
        for g in node
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = g["id"].as_str().expect("group id");
            out.push((
                id.to_owned(),
                g["title"].as_str().expect("group title").to_owned(),
                parent.map(str::to_owned),
            ));
            groups(g, Some(id), out);
        }
    }
    groups(&json["catalog"], None, &mut want_groups);
    let got_groups: Vec<(String, String, Option<String>)> = doc
        .groups
        .iter()
        .map(|g| (g.reference.clone(), g.title.clone(), g.parent.clone()))
        .collect();
    assert_eq!(got_groups, want_groups);
    // The nesting the tutorial catalog is known for: s1 > s1.1 > s1.1.1, s1.1.2.
    let s1_1 = doc
        .groups
        .iter()
        .find(|g| g.reference == "s1.1")
        .expect("group s1.1");
    assert_eq!(s1_1.parent.as_deref(), Some("s1"));
    assert!(
        doc.groups
            .iter()
            .any(|g| g.reference == "s1" && g.parent.is_none())
    );
    assert!(
        doc.groups.iter().all(|g| g.kind == "group"),
        "groups without a class are plain groups"
    );

    let raw = raw_catalog(&json);
    assert!(!raw.is_empty());
    assert_eq!(
        refs(&doc.controls),
        raw.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    );
    for (c, r) in doc.controls.iter().zip(&raw) {
        assert_eq!(c.title, r.title, "{}", r.id);
        assert_eq!(c.group, r.group, "{} sits in its innermost group", r.id);
        assert_eq!(c.parent, None);
        assert_eq!(c.kind, "control");
        assert_eq!(c.status, ControlStatus::Active);
        assert!(c.id.is_nil(), "ids are the caller's to fill in");
        let label = r
            .label
            .clone()
            .expect("every basic-catalog control has a label");
        assert_ne!(label, r.id, "the tutorial's labels differ from its ids");
        assert_eq!(
            c.aliases,
            vec![label],
            "{}: the label becomes an alias",
            r.id
        );
        let text = c.text.as_deref().expect("the statement prose is kept");
        assert_eq!(text, r.statement);
    }
    let s111 = doc
        .controls
        .iter()
        .find(|c| c.reference == "s1.1.1")
        .expect("s1.1.1");
    assert_eq!(s111.group.as_deref(), Some("s1.1"));
    assert_eq!(s111.aliases, ["1.1.1"]);
    assert_eq!(s111.sort, 0);
    let sorts: Vec<i32> = doc.controls.iter().map(|c| c.sort).collect();
    assert!(
        sorts.windows(2).all(|w| w[0] < w[1]),
        "sort follows the document order"
    );

    // And the framework built from it is valid and carries the caller's ids.
    let f = framework_of(&doc, "basic");
    assert_eq!(f.licence, "imported");
    assert_eq!(f.name, doc.metadata.title);
    assert!(f.source.contains(&doc.metadata.uuid.to_string()));
    for c in &f.controls {
        assert_eq!(c.id, id_scheme(&c.reference));
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The basic profile
// ---------------------------------------------------------------------------------------------

#[test]
fn basic_profile_resolves_to_the_published_resolved_catalog() {
    let bytes = example("basic-profile.json");
    let json = json_of(&bytes);
    let profile = profile_of(&bytes);
    assert_eq!(
        profile.metadata.title,
        json["profile"]["metadata"]["title"]
            .as_str()
            .expect("title")
    );
    assert_eq!(profile.imports.len(), 1);
    let import = &profile.imports[0];
    assert_eq!(
        import.href,
        json["profile"]["imports"][0]["href"]
            .as_str()
            .expect("href")
    );
    assert!(
        import.names.iter().any(|n| n == "basic-catalog"),
        "{:?}",
        import.names
    );
    assert!(!import.include_all);
    assert_eq!(import.include_ids, ["s2.1.1"]);
    assert_eq!(import.include_patterns, ["s1.1.*"]);
    assert_eq!(import.exclude_ids, ["s2.1.2"]);

    let catalog = catalog_of(&example("basic-catalog.json"));
    let framework = framework_of(&catalog, "basic-catalog");
    let (groups, controls) = oscal::resolve(import, &framework).expect("the profile resolves");

    let resolved = json_of(&example("basic-profile-resolved.json"));
    let want: Vec<String> = raw_catalog(&resolved).into_iter().map(|r| r.id).collect();
    assert!(!want.is_empty());
    assert_eq!(refs(&controls), want);
    for c in &controls {
        assert_eq!(c.id, id_scheme(&c.reference));
        assert_eq!(
            Some(c),
            framework.control(&c.reference),
            "resolved controls are the catalog's"
        );
    }

    // The groups are those the chosen controls use, and their ancestors.
    let mut used: BTreeSet<String> = controls.iter().filter_map(|c| c.group.clone()).collect();
    loop {
        let parents: Vec<String> = framework
            .groups
            .iter()
            .filter(|g| used.contains(&g.reference))
            .filter_map(|g| g.parent.clone())
            .filter(|p| !used.contains(p))
            .collect();
        if parents.is_empty() {
            break;
        }
        used.extend(parents);
    }
    let got: BTreeSet<String> = groups.iter().map(|g| g.reference.clone()).collect();
    assert_eq!(got, used);
}

// ---------------------------------------------------------------------------------------------
// 3. The SP 800-53r5 HIGH resolved catalog and the baselines
// ---------------------------------------------------------------------------------------------

#[test]
fn high_resolved_catalog_parses_with_enhancements_aliases_and_statements() {
    let bytes = sp800_53(HIGH_CATALOG);
    let json = json_of(&bytes);
    let doc = catalog_of(&bytes);
    assert_eq!(
        doc.controls.len(),
        370,
        "NIST's HIGH baseline has 370 controls and enhancements"
    );
    assert_eq!(doc.metadata.oscal_version, "1.1.3");
    assert_eq!(
        doc.metadata.version,
        json["catalog"]["metadata"]["version"]
            .as_str()
            .expect("version")
    );
    assert_eq!(
        doc.metadata.uuid.to_string(),
        json["catalog"]["uuid"].as_str().expect("uuid")
    );

    let want_groups: Vec<&str> = json["catalog"]["groups"]
        .as_array()
        .expect("families")
        .iter()
        .map(|g| g["id"].as_str().expect("family id"))
        .collect();
    assert_eq!(
        doc.groups
            .iter()
            .map(|g| g.reference.as_str())
            .collect::<Vec<_>>(),
        want_groups
    );

    let raw = raw_catalog(&json);
    assert_eq!(raw.len(), 370);
    assert_eq!(
        refs(&doc.controls),
        raw.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    );
    let mut enhancements = 0;
    for (c, r) in doc.controls.iter().zip(&raw) {
        assert_eq!(c.title, r.title, "{}", r.id);
        assert_eq!(c.group, r.group, "{}", r.id);
        assert_eq!(c.parent, r.parent, "{}", r.id);
        if r.parent.is_some() {
            enhancements += 1;
            assert_eq!(c.kind, "enhancement", "{}", r.id);
        } else {
            assert_eq!(c.kind, "control", "{}", r.id);
        }
        assert_eq!(
            c.tags,
            r.class.iter().cloned().collect::<Vec<_>>(),
            "{}: the class becomes a tag",
            r.id
        );
        let label = r
            .label
            .clone()
            .expect("every 800-53 control has a plain label");
        assert_eq!(
            c.aliases,
            vec![label],
            "{}: the plain label is the alias",
            r.id
        );
        assert!(
            !r.statement.is_empty(),
            "{} has a statement in the file",
            r.id
        );
        assert_eq!(c.text.as_deref(), Some(r.statement.as_str()), "{}", r.id);
    }
    assert!(enhancements > 0, "the HIGH baseline has enhancements");

    let ac2 = doc
        .controls
        .iter()
        .find(|c| c.reference == "ac-2")
        .expect("ac-2");
    assert_eq!(ac2.aliases, ["AC-2"]);
    assert_eq!(ac2.group.as_deref(), Some("ac"));
    let ac2_1 = doc
        .controls
        .iter()
        .find(|c| c.reference == "ac-2.1")
        .expect("ac-2.1");
    assert_eq!(ac2_1.aliases, ["AC-2(1)"]);
    assert_eq!(ac2_1.parent.as_deref(), Some("ac-2"));
    assert_eq!(ac2_1.kind, "enhancement");
    assert_eq!(
        ac2_1.group.as_deref(),
        Some("ac"),
        "an enhancement stays in its control's family"
    );
    let ac1 = doc
        .controls
        .iter()
        .find(|c| c.reference == "ac-1")
        .expect("ac-1");
    let text = ac1.text.as_deref().expect("ac-1 statement");
    assert!(
        text.contains("Develop, document, and disseminate"),
        "{text}"
    );
    assert!(
        text.contains('\n'),
        "nested statement items are joined line by line"
    );

    let f = framework_of(&doc, "sp800-53r5-high");
    assert_eq!(f.controls.len(), 370);
    assert_eq!(f.groups.len(), want_groups.len());
}

fn with_ids(profile_json: &Value) -> Vec<String> {
    profile_json["profile"]["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .flat_map(|i| i["include-controls"].as_array().into_iter().flatten())
        .flat_map(|sel| sel["with-ids"].as_array().into_iter().flatten())
        .map(|id| id.as_str().expect("with-id").to_owned())
        .collect()
}

#[test]
fn low_moderate_and_high_profiles_resolve_against_the_high_catalog() {
    let high = framework_of(&catalog_of(&sp800_53(HIGH_CATALOG)), "sp800-53r5-high");
    let catalog_order: Vec<&str> = high.controls.iter().map(|c| c.reference.as_str()).collect();
    for (level, count) in [("LOW", 149), ("MODERATE", 287), ("HIGH", 370)] {
        let bytes = sp800_53(&format!(
            "NIST_SP-800-53_rev5_{level}-baseline_profile.json"
        ));
        let json = json_of(&bytes);
        let profile = profile_of(&bytes);
        assert_eq!(profile.metadata.oscal_version, "1.1.3");
        let [import] = profile.imports.as_slice() else {
            panic!("{level}: one import expected, got {:?}", profile.imports);
        };
        // The import is a back-matter reference; its rlinks name the 800-53 catalog.
        let href = json["profile"]["imports"][0]["href"]
            .as_str()
            .expect("href");
        assert_eq!(import.href, href);
        assert!(
            import
                .names
                .iter()
                .any(|n| Some(n.as_str()) == href.strip_prefix('#')),
            "{level}: {:?}",
            import.names
        );
        assert!(
            import
                .names
                .iter()
                .any(|n| n == "NIST_SP-800-53_rev5_catalog"),
            "{level}: {:?}",
            import.names
        );

        let want: BTreeSet<String> = with_ids(&json).into_iter().collect();
        assert_eq!(want.len(), count, "{level} lists {count} controls");
        let (groups, controls) = oscal::resolve(import, &high).expect("the baseline resolves");
        assert_eq!(controls.len(), count, "{level}");
        let got: BTreeSet<String> = refs(&controls).into_iter().collect();
        assert_eq!(got, want, "{level}");

        // In catalog order, parents outside the selection cut off, only the families used.
        let positions: Vec<usize> = controls
            .iter()
            .map(|c| {
                catalog_order
                    .iter()
                    .position(|r| *r == c.reference)
                    .expect("a catalog control")
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{level}: catalog order"
        );
        for c in &controls {
            if let Some(p) = &c.parent {
                assert!(
                    got.contains(p),
                    "{level}: {} keeps parent {p} only if selected",
                    c.reference
                );
            }
            let original = high.control(&c.reference).expect("in the catalog");
            if original.parent.as_ref().is_some_and(|p| got.contains(p)) {
                assert_eq!(c.parent, original.parent, "{level}: {}", c.reference);
            }
        }
        let families: BTreeSet<String> = controls.iter().filter_map(|c| c.group.clone()).collect();
        let got_groups: BTreeSet<String> = groups.iter().map(|g| g.reference.clone()).collect();
        assert_eq!(got_groups, families, "{level}");
    }
}

#[test]
fn privacy_profile_names_the_controls_the_high_catalog_lacks() {
    let catalog_json = json_of(&sp800_53(HIGH_CATALOG));
    let high_ids: HashSet<String> = raw_catalog(&catalog_json)
        .into_iter()
        .map(|r| r.id)
        .collect();
    let bytes = sp800_53("NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json");
    let wanted = with_ids(&json_of(&bytes));
    let missing: Vec<&String> = wanted.iter().filter(|id| !high_ids.contains(*id)).collect();
    // The privacy baseline has PT and PM controls that no security baseline carries.
    assert!(!missing.is_empty(), "some privacy controls are not in HIGH");
    assert!(missing.len() < wanted.len());

    let high = framework_of(&catalog_of(&sp800_53(HIGH_CATALOG)), "sp800-53r5-high");
    let profile = profile_of(&bytes);
    let err = oscal::resolve(&profile.imports[0], &high)
        .expect_err("the privacy baseline is not a subset of HIGH");
    let OscalError::UnknownControls(list) = &err else {
        panic!("expected UnknownControls, got {err:?}");
    };
    // The first ten, in the profile's order, then a count of the rest.
    let shown: Vec<&str> = missing.iter().take(10).map(|s| s.as_str()).collect();
    let mut want = shown.join(", ");
    if missing.len() > 10 {
        want.push_str(&format!(" and {} more", missing.len() - 10));
    }
    assert_eq!(list, &want);
    assert!(
        err.to_string().contains("the catalog does not have"),
        "{err}"
    );
    for id in shown {
        assert!(err.to_string().contains(id), "{err} names {id}");
    }

    // With the missing ids taken out, the rest resolves to exactly the ones HIGH has.
    let mut import = profile.imports[0].clone();
    import.include_ids.retain(|id| high_ids.contains(id));
    let (_, controls) =
        oscal::resolve(&import, &high).expect("the privacy controls HIGH has resolve");
    let want: BTreeSet<String> = wanted
        .iter()
        .filter(|id| high_ids.contains(*id))
        .cloned()
        .collect();
    assert_eq!(refs(&controls).into_iter().collect::<BTreeSet<_>>(), want);
}

#[test]
fn resolve_follows_aliases_children_and_exclusions() {
    let high = framework_of(&catalog_of(&sp800_53(HIGH_CATALOG)), "sp800-53r5-high");
    let children_of_ac2: BTreeSet<String> = high
        .controls
        .iter()
        .filter(|c| c.parent.as_deref() == Some("ac-2"))
        .map(|c| c.reference.clone())
        .collect();
    assert!(children_of_ac2.len() > 1);
    let excluded = children_of_ac2
        .iter()
        .next()
        .expect("an enhancement")
        .clone();
    let import = oscal::ProfileImport {
        href: "#x".into(),
        names: vec!["x".into()],
        include_all: false,
        // A plain label selects the same control as its id.
        include_ids: vec!["AC-2".into()],
        include_patterns: Vec::new(),
        with_children: true,
        exclude_ids: vec![excluded.clone()],
    };
    let (groups, controls) = oscal::resolve(&import, &high).expect("resolves");
    let got: BTreeSet<String> = refs(&controls).into_iter().collect();
    let mut want = children_of_ac2.clone();
    want.remove(&excluded);
    want.insert("ac-2".into());
    assert_eq!(got, want);
    assert_eq!(
        groups
            .iter()
            .map(|g| g.reference.as_str())
            .collect::<Vec<_>>(),
        ["ac"]
    );

    // Without ac-2 itself the enhancements lose their parent.
    let import = oscal::ProfileImport {
        include_ids: Vec::new(),
        include_patterns: vec!["ac-2.*".into()],
        with_children: false,
        exclude_ids: Vec::new(),
        ..import
    };
    let (_, controls) = oscal::resolve(&import, &high).expect("resolves");
    assert_eq!(
        refs(&controls).into_iter().collect::<BTreeSet<_>>(),
        children_of_ac2
    );
    assert!(controls.iter().all(|c| c.parent.is_none()));
}

// ---------------------------------------------------------------------------------------------
// 4. CSF 2.0
// ---------------------------------------------------------------------------------------------

#[test]
fn csf_2_catalog_parses_with_every_category_and_subcategory() {
    let bytes = read(CSF);
    let json = json_of(&bytes);
    // NIST's CPRT export writes its OSCAL version with a leading "v".
    let written = json["catalog"]["metadata"]["oscal-version"]
        .as_str()
        .expect("oscal-version");
    assert_eq!(written.trim_start_matches('v'), "1.1.3");
    let doc = catalog_of(&bytes);
    assert_eq!(doc.metadata.oscal_version, "1.1.3");

    let raw = raw_catalog(&json);
    // 22 categories + 106 subcategories, plus the withdrawn CSF 1.1 entries the file still lists
    // (12 categories and 79 subcategories, see the fixtures' README).
    assert_eq!(raw.len(), 22 + 106 + 12 + 79);
    assert_eq!(doc.controls.len(), raw.len());
    assert_eq!(
        refs(&doc.controls),
        raw.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    );

    let functions: Vec<&str> = json["catalog"]["groups"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|g| g["id"].as_str().expect("function id"))
        .collect();
    assert_eq!(functions, ["GV", "ID", "PR", "DE", "RS", "RC"]);
    assert_eq!(
        doc.groups
            .iter()
            .map(|g| g.reference.as_str())
            .collect::<Vec<_>>(),
        functions
    );
    assert!(doc.groups.iter().all(|g| g.kind == "function"));

    for (c, r) in doc.controls.iter().zip(&raw) {
        assert_eq!(c.parent, r.parent, "{}", r.id);
        assert_eq!(c.group, r.group, "{}", r.id);
        assert_eq!(
            c.kind,
            if r.parent.is_some() {
                "enhancement"
            } else {
                "control"
            }
        );
        // Labels equal to the id are not aliases; different ones are.
        match &r.label {
            Some(l) if *l != r.id => assert_eq!(c.aliases, std::slice::from_ref(l), "{}", r.id),
            _ => assert!(c.aliases.is_empty(), "{}: {:?}", r.id, c.aliases),
        }
    }
    let sub = doc
        .controls
        .iter()
        .find(|c| c.reference == "GV.OC-01")
        .expect("GV.OC-01");
    assert_eq!(sub.parent.as_deref(), Some("GV.OC"));
    assert!(sub.aliases.is_empty(), "GV.OC-01's label is its id");
    let cat = doc
        .controls
        .iter()
        .find(|c| c.reference == "GV.OC")
        .expect("GV.OC");
    assert_eq!(cat.group.as_deref(), Some("GV"));
    assert_eq!(cat.tags, ["category"]);
    assert!(!cat.aliases.is_empty());

    let f = framework_of(&doc, "csf-2.0");
    assert_eq!(f.controls.len(), raw.len());
}

// ---------------------------------------------------------------------------------------------
// 5. Refused documents
// ---------------------------------------------------------------------------------------------

fn minimal_catalog() -> Value {
    json!({
        "catalog": {
            "uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724",
            "metadata": {
                "title": "A catalog",
                "last-modified": "2024-02-01T10:00:00Z",
                "version": "1.0",
                "oscal-version": "1.1.2"
            },
            "controls": [{"id": "c-1", "title": "One"}]
        }
    })
}

fn minimal_profile() -> Value {
    json!({
        "profile": {
            "uuid": "0f8b8b34-7d4e-4b4e-8d2e-2a1c9c3b5d60",
            "metadata": {
                "title": "A profile",
                "last-modified": "2024-02-01T10:00:00+01:00",
                "version": "1.0",
                "oscal-version": "1.1.2"
            },
            "imports": [{"href": "catalog.json", "include-all": {}}]
        }
    })
}

fn minimal_mappings() -> Value {
    json!({
        "mapping-collection": {
            "uuid": "1c3f9a8e-2b1d-4c5e-9f6a-7b8c9d0e1f2a",
            "metadata": {
                "title": "A mapping",
                "last-modified": "2024-02-01T10:00:00Z",
                "version": "1.0",
                "oscal-version": "1.2.0"
            },
            "provenance": {
                "method": "human",
                "matching-rationale": "semantic",
                "status": "complete",
                "mapping-description": "test"
            },
            "mappings": [{
                "uuid": "2c3f9a8e-2b1d-4c5e-9f6a-7b8c9d0e1f2a",
                "source-resource": {"type": "catalog", "href": "a.json"},
                "target-resource": {"type": "catalog", "href": "b.json"},
                "maps": [{
                    "uuid": "3c3f9a8e-2b1d-4c5e-9f6a-7b8c9d0e1f2a",
                    "relationship": "subset-of",
                    "sources": [{"type": "control", "id-ref": "A.5.1"}],
                    "targets": [{"type": "control", "id-ref": "AC-1"}]
                }]
            }]
        }
    })
}

#[test]
fn the_minimal_documents_are_accepted() {
    // The refusal tests below each break one thing in these.
    assert!(matches!(
        oscal::parse(&serde_json::to_vec(&minimal_catalog()).expect("json")),
        Ok(Document::Catalog(_))
    ));
    assert!(matches!(
        oscal::parse(&serde_json::to_vec(&minimal_profile()).expect("json")),
        Ok(Document::Profile(_))
    ));
    let Ok(Document::Mappings(m)) =
        oscal::parse(&serde_json::to_vec(&minimal_mappings()).expect("json"))
    else {
        panic!("the minimal mapping collection parses");
    };
    assert_eq!(
        m.pairs,
        [MappedPair {
            source: "A.5.1".into(),
            target: "AC-1".into(),
            relationship: Relationship::SubsetOf
        }]
    );
    // A "$schema" key beside the root is allowed.
    let mut with_schema = minimal_catalog();
    with_schema["$schema"] = json!("https://example.org/oscal_catalog_schema.json");
    assert!(matches!(
        oscal::parse(&serde_json::to_vec(&with_schema).expect("json")),
        Ok(Document::Catalog(_))
    ));
}

#[test]
fn text_that_is_not_json_is_refused() {
    let err = parse_err(b"{nope");
    assert!(matches!(err, OscalError::NotJson(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("the document is not JSON"),
        "{err}"
    );
    assert!(
        err.to_string().contains("line 1"),
        "the parser's position is kept: {err}"
    );

    let err = parse_err(b"");
    assert!(matches!(err, OscalError::NotJson(_)), "{err:?}");
    assert!(err.to_string().contains("EOF"), "{err}");

    let err = parse_err(b"   \n ");
    assert!(matches!(err, OscalError::NotJson(_)), "{err:?}");
}

#[test]
fn roots_other_than_one_known_object_are_refused() {
    let err = parse_err(b"[]");
    assert!(matches!(err, OscalError::WrongRoot { .. }), "{err:?}");
    assert!(err.to_string().contains("not an object"), "{err}");
    assert!(
        err.to_string()
            .contains("catalog, profile, mapping-collection"),
        "{err}"
    );

    let err = parse_value_err(
        &json!({"component-definition": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724"}}),
    );
    let OscalError::WrongRoot { found, .. } = &err else {
        panic!("expected WrongRoot, got {err:?}");
    };
    assert_eq!(found, "component-definition");
    assert!(
        err.to_string().contains("found component-definition"),
        "{err}"
    );

    let mut two = minimal_catalog();
    two["profile"] = minimal_profile()["profile"].clone();
    let err = parse_value_err(&two);
    assert!(matches!(err, OscalError::WrongRoot { .. }), "{err:?}");
    assert!(err.to_string().contains("2 root keys"), "{err}");

    let err = parse_value_err(&json!({}));
    assert!(err.to_string().contains("no root key"), "{err}");

    let err = parse_value_err(&json!({"catalog": []}));
    assert!(
        matches!(&err, OscalError::Invalid { path, .. } if path == "catalog"),
        "{err:?}"
    );
    assert!(err.to_string().contains("must be an object"), "{err}");
}

#[test]
fn metadata_problems_are_named() {
    let mut doc = minimal_catalog();
    doc["catalog"]
        .as_object_mut()
        .expect("object")
        .remove("metadata");
    let err = parse_value_err(&doc);
    assert_eq!(
        err,
        OscalError::Missing {
            path: "catalog.metadata".into()
        }
    );
    assert_eq!(err.to_string(), "catalog.metadata is missing");

    let mut doc = minimal_catalog();
    doc["catalog"]["metadata"]
        .as_object_mut()
        .expect("object")
        .remove("oscal-version");
    let err = parse_value_err(&doc);
    assert_eq!(
        err,
        OscalError::Missing {
            path: "catalog.metadata.oscal-version".into()
        }
    );
    assert!(
        err.to_string().contains("oscal-version is missing"),
        "{err}"
    );

    for refused in ["1.0.4", "2.0.0", "1.1", "latest"] {
        let mut doc = minimal_catalog();
        doc["catalog"]["metadata"]["oscal-version"] = json!(refused);
        let err = parse_value_err(&doc);
        let OscalError::Invalid { path, reason } = &err else {
            panic!("{refused}: expected Invalid, got {err:?}");
        };
        assert_eq!(path, "catalog.metadata.oscal-version");
        assert!(
            reason.contains(refused) && reason.contains("1.1.x or 1.2.x"),
            "{reason}"
        );
    }
    for accepted in ["1.1.0", "1.1.3", "1.2.2", "v1.1.3"] {
        let mut doc = minimal_catalog();
        doc["catalog"]["metadata"]["oscal-version"] = json!(accepted);
        let Ok(Document::Catalog(c)) = oscal::parse(&serde_json::to_vec(&doc).expect("json"))
        else {
            panic!("oscal-version {accepted} is accepted");
        };
        assert_eq!(c.metadata.oscal_version, accepted.trim_start_matches('v'));
    }

    let mut doc = minimal_catalog();
    doc["catalog"]["uuid"] = json!("not-a-uuid");
    let err = parse_value_err(&doc);
    assert!(
        matches!(&err, OscalError::Invalid { path, .. } if path == "catalog.uuid"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not-a-uuid is not a UUID"),
        "{err}"
    );

    let mut doc = minimal_catalog();
    doc["catalog"]["metadata"]["last-modified"] = json!("2024-02-01T10:00:00");
    let err = parse_value_err(&doc);
    assert!(
        matches!(&err, OscalError::Invalid { path, .. } if path == "catalog.metadata.last-modified"),
        "{err:?}"
    );
    assert!(err.to_string().contains("time zone"), "{err}");

    let mut doc = minimal_catalog();
    doc["catalog"]["metadata"]["title"] = json!("   ");
    let err = parse_value_err(&doc);
    assert!(
        matches!(&err, OscalError::Invalid { path, .. } if path == "catalog.metadata.title"),
        "{err:?}"
    );
    assert!(err.to_string().contains("non-empty string"), "{err}");
}

#[test]
fn a_control_id_used_twice_is_refused() {
    let mut doc = minimal_catalog();
    doc["catalog"]["groups"] = json!([{
        "id": "g1",
        "title": "Group",
        "groups": [{"id": "g2", "title": "Inner", "controls": [{"id": "c-1", "title": "Nested one"}]}]
    }]);
    let err = parse_value_err(&doc);
    assert_eq!(err, OscalError::DuplicateControlId("c-1".into()));
    assert_eq!(err.to_string(), "control id c-1 appears more than once");

    // Also as an enhancement of another control.
    let mut doc = minimal_catalog();
    doc["catalog"]["controls"] = json!([
        {"id": "c-1", "title": "One", "controls": [{"id": "c-2", "title": "Enhancement"}]},
        {"id": "c-2", "title": "Two"}
    ]);
    assert_eq!(
        parse_value_err(&doc),
        OscalError::DuplicateControlId("c-2".into())
    );
}

#[test]
fn a_profile_must_import_something() {
    let mut doc = minimal_profile();
    doc["profile"]["imports"] = json!([]);
    let err = parse_value_err(&doc);
    assert_eq!(
        err,
        OscalError::Missing {
            path: "profile.imports".into()
        }
    );

    let mut doc = minimal_profile();
    doc["profile"]
        .as_object_mut()
        .expect("object")
        .remove("imports");
    assert_eq!(
        parse_value_err(&doc),
        OscalError::Missing {
            path: "profile.imports".into()
        }
    );

    let mut doc = minimal_profile();
    doc["profile"]["imports"] = json!([{"href": "catalog.json"}]);
    let err = parse_value_err(&doc);
    assert!(matches!(err, OscalError::Missing { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("profile.imports[0].include-all or include-controls"),
        "{err}"
    );

    // An include-controls selector that selects nothing is no selection either.
    let mut doc = minimal_profile();
    doc["profile"]["imports"] =
        json!([{"href": "catalog.json", "include-controls": [{"with-ids": []}]}]);
    assert!(matches!(parse_value_err(&doc), OscalError::Missing { .. }));
}

#[test]
fn documents_over_the_size_limit_are_refused_before_parsing() {
    // A plausible prefix, then 50 MB of spaces: never valid JSON, so only the size check can
    // produce TooLarge.
    let mut bytes =
        br#"{"catalog": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724", "metadata": "#.to_vec();
    bytes.resize(50 * 1024 * 1024, b' ');
    let err = parse_err(&bytes);
    assert_eq!(
        err,
        OscalError::TooLarge {
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES
        }
    );
    assert!(
        err.to_string().contains(&MAX_DOCUMENT_BYTES.to_string()),
        "{err}"
    );

    // One byte over the limit is too large, whatever it holds.
    let mut just_over = serde_json::to_vec(&minimal_catalog()).expect("json");
    just_over.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    assert!(matches!(parse_err(&just_over), OscalError::TooLarge { .. }));
    // And exactly at the limit the document is read.
    just_over.truncate(MAX_DOCUMENT_BYTES);
    assert!(matches!(oscal::parse(&just_over), Ok(Document::Catalog(_))));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = vec![b'['; 100_000];
    let err = parse_err(&deep);
    assert!(matches!(err, OscalError::TooDeep(_)), "{err:?}");
    assert!(err.to_string().contains("nests deeper than"), "{err}");

    // Groups 40 deep: fine for the JSON parser, too deep for a catalog.
    let err = parse_value_err(&nested_groups(40));
    assert_eq!(err, OscalError::TooDeep(MAX_NESTING));
    assert!(err.to_string().contains(&MAX_NESTING.to_string()), "{err}");

    // A control counts as a level: inside MAX_NESTING - 1 groups it is at the limit, inside
    // MAX_NESTING groups it is one level over.
    let Ok(Document::Catalog(c)) =
        oscal::parse(&serde_json::to_vec(&nested_groups(MAX_NESTING - 1)).expect("json"))
    else {
        panic!("{MAX_NESTING} levels are accepted");
    };
    assert_eq!(c.groups.len(), MAX_NESTING - 1);
    assert_eq!(
        c.controls[0].group.as_deref(),
        Some(format!("g{}", MAX_NESTING - 1).as_str())
    );
    assert_eq!(
        parse_value_err(&nested_groups(MAX_NESTING)),
        OscalError::TooDeep(MAX_NESTING)
    );
}

/// A catalog whose one control sits inside `depth` nested groups.
fn nested_groups(depth: usize) -> Value {
    let mut group = json!({"id": format!("g{depth}"), "title": "Innermost", "controls": [{"id": "c-1", "title": "Deep"}]});
    for level in (1..depth).rev() {
        group = json!({"id": format!("g{level}"), "title": format!("Level {level}"), "groups": [group]});
    }
    let mut doc = minimal_catalog();
    doc["catalog"]
        .as_object_mut()
        .expect("object")
        .remove("controls");
    doc["catalog"]["groups"] = json!([group]);
    doc
}

#[test]
fn a_catalog_without_controls_is_refused() {
    let mut doc = minimal_catalog();
    doc["catalog"]
        .as_object_mut()
        .expect("object")
        .remove("controls");
    doc["catalog"]["groups"] = json!([{"id": "g1", "title": "Empty group"}]);
    let err = parse_value_err(&doc);
    assert!(matches!(err, OscalError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("no controls"), "{err}");
}

#[test]
fn mapping_collection_problems_are_named() {
    let mut doc = minimal_mappings();
    doc["mapping-collection"]
        .as_object_mut()
        .expect("object")
        .remove("provenance");
    let err = parse_value_err(&doc);
    assert_eq!(
        err,
        OscalError::Missing {
            path: "mapping-collection.provenance".into()
        }
    );
    assert_eq!(err.to_string(), "mapping-collection.provenance is missing");

    let mut doc = minimal_mappings();
    doc["mapping-collection"]["provenance"]
        .as_object_mut()
        .expect("object")
        .remove("matching-rationale");
    let err = parse_value_err(&doc);
    assert!(
        err.to_string()
            .contains("provenance.matching-rationale is missing"),
        "{err}"
    );

    let mut doc = minimal_mappings();
    doc["mapping-collection"]["mappings"][0]["maps"][0]["relationship"] = json!("related-to");
    let err = parse_value_err(&doc);
    let OscalError::Invalid { path, reason } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(path, "mapping-collection.mappings[0].maps[0].relationship");
    assert_eq!(reason, "unknown relationship related-to");

    let mut doc = minimal_mappings();
    let map = doc["mapping-collection"]["mappings"][0]["maps"][0].clone();
    doc["mapping-collection"]["mappings"][0]["maps"] = json!([map.clone(), map]);
    let err = parse_value_err(&doc);
    assert!(err.to_string().contains("appears twice"), "{err}");

    let mut doc = minimal_mappings();
    doc["mapping-collection"]["mappings"][0]["maps"][0]["targets"] = json!([]);
    let err = parse_value_err(&doc);
    assert_eq!(
        err,
        OscalError::Missing {
            path: "mapping-collection.mappings[0].maps[0].targets".into()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Export and import of mapping collections
// ---------------------------------------------------------------------------------------------

fn header() -> ExportHeader<'static> {
    ExportHeader {
        title: "ISO/IEC 27001:2022 to NIST SP 800-53r5".into(),
        version: "2025.1",
        description: "A test crosswalk".into(),
        source_href: "https://example.org/catalogs/iso27001-2022.json".into(),
        target_href: "https://example.org/catalogs/nist-sp800-53r5.json".into(),
        method: "human",
        last_modified: chrono::DateTime::parse_from_rfc3339("2025-03-04T05:06:07Z")
            .expect("a date")
            .with_timezone(&chrono::Utc),
    }
}

fn export_links() -> Vec<ExportLink<'static>> {
    let pairs: [(&str, &str, Relationship, Option<&str>); 4] = [
        (
            "A.5.1",
            "PL-1",
            Relationship::SupersetOf,
            Some("Policies for information security"),
        ),
        ("A.5.1", "AC-1", Relationship::IntersectsWith, None),
        ("164.308(a)(1)(i)", "RA-3", Relationship::SubsetOf, None),
        ("A.5.15", "AC-2(1)", Relationship::EquivalentTo, None),
    ];
    pairs
        .into_iter()
        .map(|(source, target, relationship, remarks)| ExportLink {
            id: Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("{source}->{target}").as_bytes(),
            ),
            source,
            target,
            relationship,
            remarks: remarks.map(str::to_owned),
        })
        .collect()
}

fn uuid_at(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_else(|| panic!("{v} is a string"))).expect("a UUID")
}

#[test]
fn export_writes_an_oscal_1_2_mapping_collection() {
    let header = header();
    let links = export_links();
    let doc = oscal::export_mappings(&header, &links);

    let root = doc.as_object().expect("an object");
    assert_eq!(root.keys().collect::<Vec<_>>(), ["mapping-collection"]);
    let mc = &doc["mapping-collection"];
    let doc_uuid = uuid_at(&mc["uuid"]);

    let meta = &mc["metadata"];
    assert_eq!(meta["title"], header.title.as_str());
    assert_eq!(meta["version"], header.version);
    assert_eq!(meta["oscal-version"], "1.2.0");
    assert_eq!(meta["oscal-version"], oscal::EXPORT_OSCAL_VERSION);
    let modified = chrono::DateTime::parse_from_rfc3339(
        meta["last-modified"].as_str().expect("last-modified"),
    )
    .expect("an RFC 3339 date-time");
    assert_eq!(modified, header.last_modified);

    let prov = &mc["provenance"];
    assert_eq!(prov["method"], "human");
    assert_eq!(prov["matching-rationale"], "semantic");
    assert_eq!(prov["status"], "not-complete");
    assert_eq!(prov["mapping-description"], header.description.as_str());

    let mappings = mc["mappings"].as_array().expect("mappings");
    assert_eq!(mappings.len(), 1);
    let mapping = &mappings[0];
    let mapping_uuid = uuid_at(&mapping["uuid"]);
    assert_ne!(mapping_uuid, doc_uuid);
    assert_eq!(
        mapping["source-resource"],
        json!({"type": "catalog", "href": header.source_href})
    );
    assert_eq!(
        mapping["target-resource"],
        json!({"type": "catalog", "href": header.target_href})
    );

    let maps = mapping["maps"].as_array().expect("maps");
    assert_eq!(maps.len(), links.len());
    let mut uuids = HashSet::new();
    for (m, l) in maps.iter().zip(&links) {
        let id = uuid_at(&m["uuid"]);
        assert_eq!(id, l.id, "map uuids are the link ids");
        assert!(uuids.insert(id), "map uuid {id} is unique");
        assert_eq!(m["relationship"], l.relationship.as_str());
        assert_eq!(
            m["sources"],
            json!([{"type": "control", "id-ref": l.source}])
        );
        assert_eq!(
            m["targets"],
            json!([{"type": "control", "id-ref": l.target}])
        );
        // id-ref is a plain string, whatever punctuation the reference has.
        assert!(m["targets"][0]["id-ref"].is_string());
        match &l.remarks {
            Some(r) => assert_eq!(m["remarks"], r.as_str()),
            None => assert!(m.get("remarks").is_none()),
        }
    }
    assert!(!uuids.contains(&doc_uuid) && !uuids.contains(&mapping_uuid));

    // The same links give the same document; other links give another document.
    assert_eq!(oscal::export_mappings(&header, &links), doc);
    let fewer = oscal::export_mappings(&header, &links[..2]);
    assert_ne!(fewer["mapping-collection"]["uuid"], mc["uuid"]);
}

#[test]
fn exported_mappings_read_back_as_the_same_pairs() {
    let header = header();
    let links = export_links();
    let doc = oscal::export_mappings(&header, &links);
    let bytes = serde_json::to_vec_pretty(&doc).expect("serialises");
    let Document::Mappings(read) = oscal::parse(&bytes).expect("the export is a valid document")
    else {
        panic!("the export reads back as a mapping collection");
    };
    assert_eq!(read.metadata.title, header.title);
    assert_eq!(read.metadata.version, header.version);
    assert_eq!(read.metadata.oscal_version, "1.2.0");
    assert_eq!(
        read.metadata.uuid,
        uuid_at(&doc["mapping-collection"]["uuid"])
    );
    assert_eq!(
        read.metadata.last_modified,
        doc["mapping-collection"]["metadata"]["last-modified"]
            .as_str()
            .expect("last-modified")
    );
    assert_eq!(read.source_href, header.source_href);
    assert_eq!(read.target_href, header.target_href);
    let want: Vec<MappedPair> = links
        .iter()
        .map(|l| MappedPair {
            source: l.source.to_owned(),
            target: l.target.to_owned(),
            relationship: l.relationship,
        })
        .collect();
    assert_eq!(read.pairs, want);

    // Every relationship survives the trip.
    let all: Vec<ExportLink<'_>> = Relationship::ALL
        .iter()
        .enumerate()
        .map(|(i, r)| ExportLink {
            id: Uuid::from_u128(i as u128 + 1),
            source: "A.5.1",
            target: "AC-2(1)",
            relationship: *r,
            remarks: None,
        })
        .collect();
    let bytes = serde_json::to_vec(&oscal::export_mappings(&header, &all)).expect("serialises");
    let Ok(Document::Mappings(read)) = oscal::parse(&bytes) else {
        panic!("reads back");
    };
    let got: BTreeMap<usize, Relationship> = read
        .pairs
        .iter()
        .map(|p| p.relationship)
        .enumerate()
        .collect();
    let want: BTreeMap<usize, Relationship> =
        Relationship::ALL.iter().copied().enumerate().collect();
    assert_eq!(got, want);

    // An empty crosswalk exports and reads back as an empty one.
    let bytes = serde_json::to_vec(&oscal::export_mappings(&header, &[])).expect("serialises");
    let Ok(Document::Mappings(read)) = oscal::parse(&bytes) else {
        panic!("an empty export reads back");
    };
    assert!(read.pairs.is_empty());
}
