//! The shipped catalogs: the files under `data/`, compiled in, parsed and checked.
//!
//! A bundle is built from source texts, so tests can build one from altered files and check that
//! an upgrade touches only what changed.

use crate::model::{
    Control, ControlStatus, Crosswalk, Framework, Group, Link, Method, Relationship, Requirement,
    control_id, crosswalk_id, framework_id, link_id,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// Why a catalog file was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {message}")]
pub struct BundleError {
    pub file: String,
    pub message: String,
}

fn fail(file: &str, message: impl Into<String>) -> BundleError {
    BundleError {
        file: file.to_owned(),
        message: message.into(),
    }
}

/// One source file of a bundle.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

macro_rules! data_file {
    ($path:literal) => {
        SourceFile {
            name: $path,
            text: include_str!(concat!("../data/", $path)),
        }
    };
}

/// The framework files shipped with this build.
pub const FRAMEWORK_FILES: &[SourceFile<'static>] = &[
    data_file!("frameworks/iso27001-2022.toml"),
    data_file!("frameworks/iso27001-2013.toml"),
    data_file!("frameworks/iso27701-2019.toml"),
    data_file!("frameworks/iso27701-2025.toml"),
    data_file!("frameworks/hipaa-sr.toml"),
    data_file!("frameworks/nist-sp800-53r5.toml"),
    data_file!("frameworks/nist-csf-2.0.toml"),
];

/// The crosswalk files shipped with this build (headers, then link files).
pub const CROSSWALK_FILES: &[SourceFile<'static>] = &[
    data_file!("crosswalks/hipaa-sr_to_sp800-53r5.toml"),
    data_file!("crosswalks/sp800-53r5_to_iso27001-2022.toml"),
    data_file!("crosswalks/hipaa-sr_to_iso27001-2022_derived.toml"),
];

/// The link files the crosswalk headers name.
pub const LINK_FILES: &[SourceFile<'static>] = &[
    data_file!("crosswalks/hipaa-sr_to_sp800-53r5.csv"),
    data_file!("crosswalks/sp800-53r5_to_iso27001-2022.csv"),
];

/// Frameworks and crosswalks, checked and resolved.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub frameworks: Vec<Framework>,
    pub crosswalks: Vec<Crosswalk>,
}

impl Bundle {
    /// The catalogs compiled into this build.
    pub fn shipped() -> Result<Self, BundleError> {
        Self::from_sources(FRAMEWORK_FILES, CROSSWALK_FILES, LINK_FILES)
    }

    /// The shipped catalogs, parsed once per process.
    pub fn shipped_static() -> Result<&'static Self, BundleError> {
        static SHIPPED: std::sync::OnceLock<Result<Bundle, BundleError>> =
            std::sync::OnceLock::new();
        SHIPPED
            .get_or_init(Self::shipped)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Builds a bundle from source texts.
    pub fn from_sources(
        frameworks: &[SourceFile<'_>],
        crosswalks: &[SourceFile<'_>],
        links: &[SourceFile<'_>],
    ) -> Result<Self, BundleError> {
        let mut parsed = Vec::new();
        let mut keys = HashSet::new();
        for file in frameworks {
            let fw = parse_framework(file)?;
            if !keys.insert(fw.key.clone()) {
                return Err(fail(
                    file.name,
                    format!("framework key {} used twice", fw.key),
                ));
            }
            parsed.push(fw);
        }
        let index: HashMap<&str, &Framework> = parsed.iter().map(|f| (f.key.as_str(), f)).collect();
        let link_files: HashMap<&str, &str> = links
            .iter()
            .map(|f| (f.name.rsplit('/').next().unwrap_or(f.name), f.text))
            .collect();
        let mut walks: Vec<Crosswalk> = Vec::new();
        for file in crosswalks {
            let walk = parse_crosswalk(file, &index, &link_files, &walks)?;
            if walks.iter().any(|w| w.key == walk.key) {
                return Err(fail(
                    file.name,
                    format!("crosswalk key {} used twice", walk.key),
                ));
            }
            walks.push(walk);
        }
        Ok(Self {
            frameworks: parsed,
            crosswalks: walks,
        })
    }

    pub fn framework(&self, key: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.key == key)
    }

    pub fn crosswalk(&self, key: &str) -> Option<&Crosswalk> {
        self.crosswalks.iter().find(|c| c.key == key)
    }

    /// The catalog version: a digest over every framework's and crosswalk's checksum.
    pub fn version(&self) -> String {
        let mut hasher = Sha256::new();
        for f in &self.frameworks {
            hasher.update(f.key.as_bytes());
            hasher.update(f.checksum().as_bytes());
        }
        for c in &self.crosswalks {
            hasher.update(c.key.as_bytes());
            hasher.update(c.checksum().as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFile {
    framework: FrameworkHeader,
    #[serde(default)]
    group: Vec<Group>,
    #[serde(default)]
    control: Vec<ControlEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkHeader {
    key: String,
    name: String,
    version: String,
    publisher: String,
    kind: String,
    licence: String,
    source: String,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlEntry {
    #[serde(rename = "ref")]
    reference: String,
    title: String,
    kind: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default)]
    citation: Option<String>,
    #[serde(default)]
    documented_information: bool,
    #[serde(default)]
    baselines: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default = "yes")]
    confirmed: bool,
    #[serde(default)]
    note: Option<String>,
}

fn yes() -> bool {
    true
}

const LICENCES: &[&str] = &["identifiers-only", "public-domain", "tenant", "imported"];
const BASELINES: &[&str] = &["low", "moderate", "high", "privacy"];

fn parse_framework(file: &SourceFile<'_>) -> Result<Framework, BundleError> {
    let raw: FrameworkFile =
        toml::from_str(file.text).map_err(|e| fail(file.name, e.to_string()))?;
    let h = raw.framework;
    if !LICENCES.contains(&h.licence.as_str()) {
        return Err(fail(file.name, format!("unknown licence {}", h.licence)));
    }
    let mut controls = Vec::with_capacity(raw.control.len());
    for (i, c) in raw.control.into_iter().enumerate() {
        let status = match c.status.as_deref() {
            None => ControlStatus::Active,
            Some(s) => ControlStatus::parse(s)
                .ok_or_else(|| fail(file.name, format!("{}: unknown status {s}", c.reference)))?,
        };
        let requirement = c
            .requirement
            .as_deref()
            .map(|r| {
                Requirement::parse(r).ok_or_else(|| {
                    fail(
                        file.name,
                        format!("{}: unknown requirement {r}", c.reference),
                    )
                })
            })
            .transpose()?;
        if let Some(b) = c
            .baselines
            .iter()
            .find(|b| !BASELINES.contains(&b.as_str()))
        {
            return Err(fail(
                file.name,
                format!("{}: unknown baseline {b}", c.reference),
            ));
        }
        controls.push(Control {
            id: control_id(&h.key, &c.reference),
            reference: c.reference,
            title: c.title,
            kind: c.kind,
            group: c.group,
            parent: c.parent,
            tags: c.tags,
            status,
            requirement,
            citation: c.citation,
            documented_information: c.documented_information,
            baselines: c.baselines,
            aliases: c.aliases,
            confirmed: c.confirmed,
            note: c.note,
            text: None,
            sort: i32::try_from(i).unwrap_or(i32::MAX),
        });
    }
    let framework = Framework {
        id: framework_id(&h.key),
        key: h.key,
        name: h.name,
        version: h.version,
        publisher: h.publisher,
        kind: h.kind,
        licence: h.licence,
        source: h.source,
        notes: h.notes,
        groups: raw.group,
        controls,
    };
    check_framework(&framework).map_err(|m| fail(file.name, m))?;
    Ok(framework)
}

/// The longest framework name, control ref and control title stored (the database checks the
/// same bounds).
pub const MAX_NAME: usize = 300;
pub const MAX_REF: usize = 100;
pub const MAX_TITLE: usize = 500;

/// The structural rules every framework obeys, shipped, imported or a tenant's own: refs and
/// aliases unique, groups and parents that exist, no cycles.
pub fn check_framework(f: &Framework) -> Result<(), String> {
    if f.key.is_empty() || f.name.trim().is_empty() {
        return Err("a framework needs a key and a name".into());
    }
    if f.name.chars().count() > MAX_NAME {
        return Err(format!(
            "the framework's name is longer than {MAX_NAME} characters"
        ));
    }
    if let Some(c) = f
        .controls
        .iter()
        .find(|c| c.reference.chars().count() > MAX_REF || c.title.chars().count() > MAX_TITLE)
    {
        return Err(format!(
            "control {} has a ref over {MAX_REF} or a title over {MAX_TITLE} characters",
            c.reference.chars().take(MAX_REF).collect::<String>()
        ));
    }
    let mut labels: HashSet<&str> = HashSet::new();
    for c in &f.controls {
        if c.reference.trim().is_empty() || c.title.trim().is_empty() {
            return Err(format!("control #{} needs a ref and a title", c.sort + 1));
        }
        if !labels.insert(&c.reference) {
            return Err(format!("control ref {} appears twice", c.reference));
        }
    }
    for c in &f.controls {
        for a in &c.aliases {
            if !labels.insert(a) {
                return Err(format!(
                    "alias {a} of {} is already a ref or alias",
                    c.reference
                ));
            }
        }
    }
    let groups: HashSet<&str> = f.groups.iter().map(|g| g.reference.as_str()).collect();
    if groups.len() != f.groups.len() {
        return Err("a group ref appears twice".into());
    }
    for g in &f.groups {
        if let Some(p) = &g.parent
            && !groups.contains(p.as_str())
        {
            return Err(format!(
                "group {} names a missing parent group {p}",
                g.reference
            ));
        }
    }
    let refs: HashMap<&str, &Control> = f
        .controls
        .iter()
        .map(|c| (c.reference.as_str(), c))
        .collect();
    for c in &f.controls {
        if let Some(g) = &c.group
            && !groups.contains(g.as_str())
        {
            return Err(format!("control {} names a missing group {g}", c.reference));
        }
        if let Some(p) = &c.parent
            && !refs.contains_key(p.as_str())
        {
            return Err(format!(
                "control {} names a missing parent {p}",
                c.reference
            ));
        }
        // Walk up: a chain longer than the framework means a cycle.
        let mut seen = 0usize;
        let mut cur = c.parent.as_deref();
        while let Some(p) = cur {
            seen += 1;
            if seen > f.controls.len() {
                return Err(format!("control {} is its own ancestor", c.reference));
            }
            cur = refs.get(p).and_then(|pc| pc.parent.as_deref());
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CrosswalkFile {
    crosswalk: CrosswalkHeader,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CrosswalkHeader {
    key: String,
    source_framework: String,
    target_framework: String,
    method: String,
    relationship: String,
    source: String,
    #[serde(default)]
    retrieved: Option<String>,
    #[serde(default)]
    comprehensive: bool,
    #[serde(default)]
    links: Option<String>,
    #[serde(default)]
    compose: Vec<String>,
    #[serde(default)]
    source_rollup: Option<String>,
}

/// Resolves a control label (ref or alias) in a framework.
fn resolver(f: &Framework) -> HashMap<&str, &Control> {
    let mut map = HashMap::new();
    for c in &f.controls {
        map.insert(c.reference.as_str(), c);
        for a in &c.aliases {
            map.insert(a.as_str(), c);
        }
    }
    map
}

fn parse_crosswalk(
    file: &SourceFile<'_>,
    frameworks: &HashMap<&str, &Framework>,
    link_files: &HashMap<&str, &str>,
    earlier: &[Crosswalk],
) -> Result<Crosswalk, BundleError> {
    let raw: CrosswalkFile =
        toml::from_str(file.text).map_err(|e| fail(file.name, e.to_string()))?;
    let h = raw.crosswalk;
    let src = frameworks.get(h.source_framework.as_str()).ok_or_else(|| {
        fail(
            file.name,
            format!("unknown source framework {}", h.source_framework),
        )
    })?;
    let tgt = frameworks.get(h.target_framework.as_str()).ok_or_else(|| {
        fail(
            file.name,
            format!("unknown target framework {}", h.target_framework),
        )
    })?;
    let method = Method::parse(&h.method)
        .filter(|m| *m != Method::Tenant)
        .ok_or_else(|| {
            fail(
                file.name,
                format!("method must be published or derived, not {}", h.method),
            )
        })?;
    let default_rel = Relationship::parse(&h.relationship).ok_or_else(|| {
        fail(
            file.name,
            format!("unknown relationship {}", h.relationship),
        )
    })?;
    let links = match method {
        Method::Published => {
            let name = h
                .links
                .as_deref()
                .ok_or_else(|| fail(file.name, "a published crosswalk names its links file"))?;
            let text = link_files.get(name).ok_or_else(|| {
                fail(file.name, format!("links file {name} is not in the bundle"))
            })?;
            read_links(name, text, &h.key, src, tgt, default_rel)?
        }
        _ => compose_links(file.name, &h, src, default_rel, earlier)?,
    };
    Ok(Crosswalk {
        id: crosswalk_id(&h.key),
        key: h.key,
        source_framework: h.source_framework,
        target_framework: h.target_framework,
        method,
        source: h.source,
        retrieved: h.retrieved,
        comprehensive: h.comprehensive,
        links,
    })
}

fn read_links(
    name: &str,
    text: &str,
    key: &str,
    src: &Framework,
    tgt: &Framework,
    default_rel: Relationship,
) -> Result<Vec<Link>, BundleError> {
    let sources = resolver(src);
    let targets = resolver(tgt);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| fail(name, format!("line {line}: {e}")))?;
        let s = row.get(0).unwrap_or("").trim();
        let t = row.get(1).unwrap_or("").trim();
        let rel = match row.get(2).map(str::trim).filter(|r| !r.is_empty()) {
            None => default_rel,
            Some(r) => Relationship::parse(r)
                .ok_or_else(|| fail(name, format!("line {line}: unknown relationship {r}")))?,
        };
        let sc = sources.get(s).ok_or_else(|| {
            fail(
                name,
                format!("line {line}: {s} is not a control of {}", src.key),
            )
        })?;
        let tc = targets.get(t).ok_or_else(|| {
            fail(
                name,
                format!("line {line}: {t} is not a control of {}", tgt.key),
            )
        })?;
        if !seen.insert((sc.id, tc.id)) {
            return Err(fail(
                name,
                format!("line {line}: link {s} -> {t} appears twice"),
            ));
        }
        out.push(Link {
            id: link_id(key, sc.id, tc.id),
            source: sc.id,
            target: tc.id,
            relationship: rel,
            via: Vec::new(),
        });
    }
    Ok(out)
}

/// A derived crosswalk: the composition of published ones, each link with the intermediate
/// controls that produced it.
fn compose_links(
    file: &str,
    h: &CrosswalkHeader,
    src: &Framework,
    default_rel: Relationship,
    earlier: &[Crosswalk],
) -> Result<Vec<Link>, BundleError> {
    let [first, second] = h.compose.as_slice() else {
        return Err(fail(
            file,
            "a derived crosswalk composes exactly two crosswalks",
        ));
    };
    let find = |k: &str| {
        earlier
            .iter()
            .find(|c| c.key == k)
            .ok_or_else(|| fail(file, format!("composes {k}, which is not listed before it")))
    };
    let (a, b) = (find(first)?, find(second)?);
    if a.source_framework != h.source_framework
        || b.target_framework != h.target_framework
        || a.target_framework != b.source_framework
    {
        return Err(fail(
            file,
            "the composed crosswalks do not chain source -> target",
        ));
    }
    let rollup = match h.source_rollup.as_deref() {
        None => false,
        Some("top") => true,
        Some(other) => return Err(fail(file, format!("unknown source_rollup {other}"))),
    };
    let by_ref: HashMap<&str, &Control> = src
        .controls
        .iter()
        .map(|c| (c.reference.as_str(), c))
        .collect();
    let by_id: HashMap<Uuid, &Control> = src.controls.iter().map(|c| (c.id, c)).collect();
    let top = |id: Uuid| -> Uuid {
        let mut c = by_id[&id];
        while let Some(p) = c.parent.as_deref().and_then(|p| by_ref.get(p)) {
            c = p;
        }
        c.id
    };
    let mut second_by_source: HashMap<Uuid, Vec<&Link>> = HashMap::new();
    for l in &b.links {
        second_by_source.entry(l.source).or_default().push(l);
    }
    // (source, target) -> (relationship, via)
    let mut composed: BTreeMap<(Uuid, Uuid), (Relationship, BTreeSet<Uuid>)> = BTreeMap::new();
    let mut order: Vec<(Uuid, Uuid)> = Vec::new();
    for l1 in &a.links {
        let s = if rollup { top(l1.source) } else { l1.source };
        let rel1 = if rollup && s != l1.source {
            // An element stands for part of its standard.
            Relationship::IntersectsWith
        } else {
            l1.relationship
        };
        for l2 in second_by_source.get(&l1.target).into_iter().flatten() {
            let rel = default_rel.compose(rel1.compose(l2.relationship));
            let entry = composed.entry((s, l2.target)).or_insert_with(|| {
                order.push((s, l2.target));
                (rel, BTreeSet::new())
            });
            if entry.0 != rel {
                entry.0 = Relationship::IntersectsWith;
            }
            entry.1.insert(l1.target);
        }
    }
    Ok(order
        .into_iter()
        .map(|(s, t)| {
            let (rel, via) = composed
                .remove(&(s, t))
                .unwrap_or((default_rel, BTreeSet::new()));
            Link {
                id: link_id(&h.key, s, t),
                source: s,
                target: t,
                relationship: rel,
                via: via.into_iter().collect(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Control;

    fn framework(controls: Vec<Control>) -> Framework {
        Framework {
            id: framework_id("t"),
            key: "t".into(),
            name: "T".into(),
            version: "1".into(),
            publisher: String::new(),
            kind: "custom".into(),
            licence: "tenant".into(),
            source: String::new(),
            notes: None,
            groups: Vec::new(),
            controls,
        }
    }

    fn control(reference: &str, title: &str) -> Control {
        Control::new(
            control_id("t", reference),
            reference.into(),
            title.into(),
            "control".into(),
        )
    }

    /// The bounds the database checks are checked first, so an import fails with a message
    /// instead of a constraint error.
    #[test]
    fn refs_titles_and_names_are_bounded() {
        assert_eq!(
            check_framework(&framework(vec![control(&"r".repeat(MAX_REF), "x")])),
            Ok(())
        );
        let long_ref = check_framework(&framework(vec![control(&"r".repeat(MAX_REF + 1), "x")]));
        assert!(long_ref.is_err_and(|e| e.contains("a ref over 100")));
        let long_title =
            check_framework(&framework(vec![control("a", &"t".repeat(MAX_TITLE + 1))]));
        assert!(long_title.is_err());
        let mut f = framework(Vec::new());
        f.name = "n".repeat(MAX_NAME + 1);
        assert!(check_framework(&f).is_err_and(|e| e.contains("name")));
    }

    #[test]
    fn parents_must_exist_and_not_loop() {
        let mut a = control("a", "A");
        let mut b = control("b", "B");
        a.parent = Some("b".into());
        b.parent = Some("a".into());
        assert!(
            check_framework(&framework(vec![a.clone(), b]))
                .is_err_and(|e| e.contains("own ancestor"))
        );
        a.parent = Some("zz".into());
        assert!(check_framework(&framework(vec![a])).is_err_and(|e| e.contains("missing parent")));
    }
}
