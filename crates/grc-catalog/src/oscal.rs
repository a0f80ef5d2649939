//! OSCAL in and out: catalogs and profiles (OSCAL 1.1.x and 1.2.x JSON) become frameworks;
//! crosswalks leave as OSCAL 1.2 `mapping-collection` documents and can be read back.
//!
//! The checks are the OSCAL rules that matter for an import: one known root key, a `uuid`, the
//! required `metadata` fields, an OSCAL version this reader knows, unique control ids, and size
//! and nesting bounds. A document is parsed whole before anything is stored, so an import is
//! all or nothing.

use crate::bundle::check_framework;
use crate::model::{Control, ControlStatus, Framework, Group, Relationship};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// The largest document accepted (the full SP 800-53r5 catalog is about 10 MB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// The deepest group/control nesting accepted (JSON nesting is bounded by the parser at 128).
pub const MAX_NESTING: usize = 32;
/// The most controls one import may carry.
pub const MAX_CONTROLS: usize = 20_000;
/// The OSCAL version written on exported documents.
pub const EXPORT_OSCAL_VERSION: &str = "1.2.0";

/// Why a document was refused. Each names the problem; nothing is stored for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OscalError {
    #[error("the document is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the document is not JSON: {0}")]
    NotJson(String),
    #[error("the document nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("the document's root must be one of {expected}; found {found}")]
    WrongRoot { expected: String, found: String },
    #[error("{path} is missing")]
    Missing { path: String },
    #[error("{path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
    #[error("control id {0} appears more than once")]
    DuplicateControlId(String),
    #[error("the profile imports {href}, which is not an imported catalog")]
    UnknownImport { href: String },
    #[error("the profile selects controls the catalog does not have: {0}")]
    UnknownControls(String),
    #[error("the document has {0} controls; the limit is {MAX_CONTROLS}")]
    TooManyControls(usize),
}

impl OscalError {
    fn invalid(path: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The metadata every OSCAL document carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub uuid: Uuid,
    pub title: String,
    pub version: String,
    pub oscal_version: String,
    pub last_modified: String,
}

/// A parsed catalog: metadata, groups and controls (ids as refs, labels as aliases).
#[derive(Debug, Clone)]
pub struct CatalogDocument {
    pub metadata: Metadata,
    pub groups: Vec<Group>,
    pub controls: Vec<Control>,
}

/// One import of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileImport {
    pub href: String,
    /// The names the import may be known by: the href's file name (without extension) and, for
    /// a `#uuid` href, the back-matter resource's rlink file names and uuid.
    pub names: Vec<String>,
    pub include_all: bool,
    pub include_ids: Vec<String>,
    pub include_patterns: Vec<String>,
    pub with_children: bool,
    pub exclude_ids: Vec<String>,
}

/// A parsed profile.
#[derive(Debug, Clone)]
pub struct ProfileDocument {
    pub metadata: Metadata,
    pub imports: Vec<ProfileImport>,
}

/// A link read from a mapping collection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MappedPair {
    pub source: String,
    pub target: String,
    pub relationship: Relationship,
}

/// A parsed mapping collection.
#[derive(Debug, Clone)]
pub struct MappingDocument {
    pub metadata: Metadata,
    pub source_href: String,
    pub target_href: String,
    pub pairs: Vec<MappedPair>,
}

/// Any document this reader accepts.
#[derive(Debug, Clone)]
pub enum Document {
    Catalog(CatalogDocument),
    Profile(ProfileDocument),
    Mappings(MappingDocument),
}

const ROOTS: &str = "catalog, profile, mapping-collection";

/// Parses and checks a document.
pub fn parse(bytes: &[u8]) -> Result<Document, OscalError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(OscalError::TooLarge {
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            OscalError::TooDeep(128)
        } else {
            OscalError::NotJson(e.to_string())
        }
    })?;
    let Value::Object(top) = value else {
        return Err(OscalError::WrongRoot {
            expected: ROOTS.into(),
            found: "a value that is not an object".into(),
        });
    };
    let keys: Vec<&String> = top.keys().filter(|k| k.as_str() != "$schema").collect();
    let [root] = keys.as_slice() else {
        return Err(OscalError::WrongRoot {
            expected: ROOTS.into(),
            found: if keys.is_empty() {
                "no root key".into()
            } else {
                format!("{} root keys", keys.len())
            },
        });
    };
    let body = top
        .get(root.as_str())
        .and_then(Value::as_object)
        .ok_or_else(|| OscalError::invalid(root, "must be an object"))?;
    match root.as_str() {
        "catalog" => parse_catalog(body).map(Document::Catalog),
        "profile" => parse_profile(body).map(Document::Profile),
        "mapping-collection" => parse_mappings(body).map(Document::Mappings),
        other => Err(OscalError::WrongRoot {
            expected: ROOTS.into(),
            found: other.to_owned(),
        }),
    }
}

fn string(obj: &Map<String, Value>, key: &str, path: &str) -> Result<String, OscalError> {
    match obj.get(key) {
        None => Err(OscalError::Missing {
            path: format!("{path}.{key}"),
        }),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(_) => Err(OscalError::invalid(
            &format!("{path}.{key}"),
            "must be a non-empty string",
        )),
    }
}

fn array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], OscalError> {
    match obj.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(OscalError::invalid(
            &format!("{path}.{key}"),
            "must be an array",
        )),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, OscalError> {
    v.as_object()
        .ok_or_else(|| OscalError::invalid(path, "must be an object"))
}

fn metadata(root: &str, body: &Map<String, Value>) -> Result<Metadata, OscalError> {
    let uuid_text = string(body, "uuid", root)?;
    let uuid = Uuid::parse_str(&uuid_text).map_err(|_| {
        OscalError::invalid(
            &format!("{root}.uuid"),
            format!("{uuid_text} is not a UUID"),
        )
    })?;
    let path = format!("{root}.metadata");
    let meta = body
        .get("metadata")
        .ok_or_else(|| OscalError::Missing { path: path.clone() })?;
    let meta = object(meta, &path)?;
    let written = string(meta, "oscal-version", &path)?;
    // NIST's CPRT exports (the CSF 2.0 catalog among them) write "v1.1.3"; the number is the same.
    let oscal_version = written.strip_prefix('v').unwrap_or(&written).to_owned();
    if !(oscal_version.starts_with("1.1.") || oscal_version.starts_with("1.2.")) {
        return Err(OscalError::invalid(
            &format!("{path}.oscal-version"),
            format!("{written} is not OSCAL 1.1.x or 1.2.x"),
        ));
    }
    let last_modified = string(meta, "last-modified", &path)?;
    if chrono::DateTime::parse_from_rfc3339(&last_modified).is_err() {
        return Err(OscalError::invalid(
            &format!("{path}.last-modified"),
            format!("{last_modified} is not a date-time with a time zone"),
        ));
    }
    Ok(Metadata {
        uuid,
        title: string(meta, "title", &path)?,
        version: string(meta, "version", &path)?,
        oscal_version,
        last_modified,
    })
}

struct CatalogWalk {
    groups: Vec<Group>,
    controls: Vec<Control>,
    ids: HashSet<String>,
    next_group: usize,
}

fn parse_catalog(body: &Map<String, Value>) -> Result<CatalogDocument, OscalError> {
    let metadata = metadata("catalog", body)?;
    let mut walk = CatalogWalk {
        groups: Vec::new(),
        controls: Vec::new(),
        ids: HashSet::new(),
        next_group: 0,
    };
    walk_container(&mut walk, body, "catalog", None, None, 0)?;
    if walk.controls.is_empty() {
        return Err(OscalError::Missing {
            path: "catalog.controls (the catalog has no controls)".into(),
        });
    }
    // Labels become aliases where they are unambiguous.
    let mut label_count: HashMap<String, usize> = HashMap::new();
    for c in &walk.controls {
        for a in &c.aliases {
            *label_count.entry(a.clone()).or_default() += 1;
        }
    }
    for c in &mut walk.controls {
        c.aliases
            .retain(|a| label_count.get(a) == Some(&1) && !walk.ids.contains(a));
    }
    Ok(CatalogDocument {
        metadata,
        groups: walk.groups,
        controls: walk.controls,
    })
}

fn walk_container(
    walk: &mut CatalogWalk,
    obj: &Map<String, Value>,
    path: &str,
    group: Option<&str>,
    parent: Option<&str>,
    depth: usize,
) -> Result<(), OscalError> {
    if depth > MAX_NESTING {
        return Err(OscalError::TooDeep(MAX_NESTING));
    }
    for (i, g) in array(obj, "groups", path)?.iter().enumerate() {
        let gpath = format!("{path}.groups[{i}]");
        let g = object(g, &gpath)?;
        let reference = match g.get("id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => {
                walk.next_group += 1;
                format!("group-{}", walk.next_group)
            }
        };
        if walk.groups.iter().any(|x| x.reference == reference) {
            return Err(OscalError::invalid(
                &gpath,
                format!("group id {reference} appears twice"),
            ));
        }
        walk.groups.push(Group {
            reference: reference.clone(),
            title: string(g, "title", &gpath)?,
            kind: g
                .get("class")
                .and_then(Value::as_str)
                .unwrap_or("group")
                .to_owned(),
            parent: group.map(str::to_owned),
        });
        walk_container(walk, g, &gpath, Some(&reference), None, depth + 1)?;
    }
    for (i, c) in array(obj, "controls", path)?.iter().enumerate() {
        let cpath = format!("{path}.controls[{i}]");
        let c = object(c, &cpath)?;
        let id = string(c, "id", &cpath)?;
        if !walk.ids.insert(id.clone()) {
            return Err(OscalError::DuplicateControlId(id));
        }
        if walk.controls.len() >= MAX_CONTROLS {
            return Err(OscalError::TooManyControls(walk.controls.len() + 1));
        }
        let props = array(c, "props", &cpath)?;
        let prop = |name: &'static str| {
            props
                .iter()
                .filter_map(Value::as_object)
                .filter(move |p| p.get("name").and_then(Value::as_str) == Some(name))
        };
        // Prefer the plain label (NIST also carries zero-padded and 800-53A variants).
        let label = prop("label")
            .find(|p| p.get("class").is_none())
            .or_else(|| prop("label").next())
            .and_then(|p| p.get("value").and_then(Value::as_str))
            .map(str::to_owned);
        let withdrawn =
            prop("status").any(|p| p.get("value").and_then(Value::as_str) == Some("withdrawn"));
        let mut text = String::new();
        for part in array(c, "parts", &cpath)? {
            if part.get("name").and_then(Value::as_str) == Some("statement") {
                collect_prose(part, &mut text, 0);
            }
        }
        let sort = i32::try_from(walk.controls.len()).unwrap_or(i32::MAX);
        walk.controls.push(Control {
            id: Uuid::nil(),
            reference: id.clone(),
            title: string(c, "title", &cpath)?,
            kind: if parent.is_some() {
                "enhancement"
            } else {
                "control"
            }
            .to_owned(),
            group: group.map(str::to_owned),
            parent: parent.map(str::to_owned),
            tags: c
                .get("class")
                .and_then(Value::as_str)
                .map(|s| vec![s.to_owned()])
                .unwrap_or_default(),
            status: if withdrawn {
                ControlStatus::Withdrawn
            } else {
                ControlStatus::Active
            },
            requirement: None,
            citation: None,
            documented_information: false,
            baselines: Vec::new(),
            aliases: label.into_iter().filter(|l| *l != id).collect(),
            confirmed: true,
            note: None,
            text: (!text.is_empty()).then_some(text),
            sort,
        });
        walk_container(walk, c, &cpath, group, Some(&id), depth + 1)?;
    }
    Ok(())
}

fn collect_prose(part: &Value, out: &mut String, depth: usize) {
    if depth > MAX_NESTING {
        return;
    }
    if let Some(p) = part.get("prose").and_then(Value::as_str) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(p);
    }
    if let Some(parts) = part.get("parts").and_then(Value::as_array) {
        for p in parts {
            collect_prose(p, out, depth + 1);
        }
    }
}

fn ids_of(list: &[Value], path: &str) -> Result<(Vec<String>, Vec<String>, bool), OscalError> {
    let mut ids = Vec::new();
    let mut patterns = Vec::new();
    let mut children = false;
    for (i, sel) in list.iter().enumerate() {
        let spath = format!("{path}[{i}]");
        let sel = object(sel, &spath)?;
        for id in array(sel, "with-ids", &spath)? {
            ids.push(
                id.as_str()
                    .ok_or_else(|| OscalError::invalid(&spath, "with-ids holds strings"))?
                    .to_owned(),
            );
        }
        for m in array(sel, "matching", &spath)? {
            if let Some(p) = m.get("pattern").and_then(Value::as_str) {
                patterns.push(p.to_owned());
            }
        }
        if sel.get("with-child-controls").and_then(Value::as_str) == Some("yes") {
            children = true;
        }
    }
    Ok((ids, patterns, children))
}

fn parse_profile(body: &Map<String, Value>) -> Result<ProfileDocument, OscalError> {
    let metadata = metadata("profile", body)?;
    let imports = array(body, "imports", "profile")?;
    if imports.is_empty() {
        return Err(OscalError::Missing {
            path: "profile.imports".into(),
        });
    }
    let resources: HashMap<String, &Map<String, Value>> = body
        .get("back-matter")
        .and_then(|b| b.get("resources"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter_map(|r| {
            r.get("uuid")
                .and_then(Value::as_str)
                .map(|u| (u.to_owned(), r))
        })
        .collect();
    let mut out = Vec::new();
    for (i, imp) in imports.iter().enumerate() {
        let ipath = format!("profile.imports[{i}]");
        let imp = object(imp, &ipath)?;
        let href = string(imp, "href", &ipath)?;
        let mut names = Vec::new();
        if let Some(uuid) = href.strip_prefix('#') {
            names.push(uuid.to_owned());
            if let Some(r) = resources.get(uuid) {
                for link in r
                    .get("rlinks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(h) = link.get("href").and_then(Value::as_str) {
                        names.push(file_stem(h));
                    }
                }
            }
        } else {
            names.push(file_stem(&href));
        }
        names.sort();
        names.dedup();
        let (include_ids, include_patterns, with_children) = ids_of(
            array(imp, "include-controls", &ipath)?,
            &format!("{ipath}.include-controls"),
        )?;
        let (exclude_ids, _, _) = ids_of(
            array(imp, "exclude-controls", &ipath)?,
            &format!("{ipath}.exclude-controls"),
        )?;
        let include_all = imp.contains_key("include-all");
        if !include_all && include_ids.is_empty() && include_patterns.is_empty() {
            return Err(OscalError::Missing {
                path: format!("{ipath}.include-all or include-controls"),
            });
        }
        out.push(ProfileImport {
            href,
            names,
            include_all,
            include_ids,
            include_patterns,
            with_children,
            exclude_ids,
        });
    }
    Ok(ProfileDocument {
        metadata,
        imports: out,
    })
}

/// The name a document is known by: its file name without directories or extension.
pub fn file_stem(href: &str) -> String {
    let name = href.rsplit(['/', '\\']).next().unwrap_or(href);
    let name = name.split(['?', '#']).next().unwrap_or(name);
    match name.rsplit_once('.') {
        Some((stem, ext)) if ["json", "xml", "yaml", "yml"].contains(&ext) => stem.to_owned(),
        _ => name.to_owned(),
    }
}

/// A glob with `*` and `?`, as OSCAL profiles' `matching` patterns use.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// Resolves one profile import against a catalog: the selected controls, in catalog order, with
/// parents outside the selection cut off and the groups they use.
pub fn resolve(
    import: &ProfileImport,
    catalog: &Framework,
) -> Result<(Vec<Group>, Vec<Control>), OscalError> {
    let lookup: HashMap<&str, &Control> = catalog
        .controls
        .iter()
        .flat_map(|c| {
            std::iter::once((c.reference.as_str(), c))
                .chain(c.aliases.iter().map(move |a| (a.as_str(), c)))
        })
        .collect();
    let missing: Vec<&str> = import
        .include_ids
        .iter()
        .chain(&import.exclude_ids)
        .filter(|id| !lookup.contains_key(id.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).copied().collect();
        let more = if missing.len() > 10 {
            format!(" and {} more", missing.len() - 10)
        } else {
            String::new()
        };
        return Err(OscalError::UnknownControls(format!(
            "{}{more}",
            shown.join(", ")
        )));
    }
    let wanted: HashSet<Uuid> = import
        .include_ids
        .iter()
        .filter_map(|id| lookup.get(id.as_str()).map(|x| x.id))
        .collect();
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    for c in &catalog.controls {
        let selected = import.include_all
            || wanted.contains(&c.id)
            || import
                .include_patterns
                .iter()
                .any(|p| glob(p.as_bytes(), c.reference.as_bytes()));
        if selected {
            chosen.insert(c.reference.clone());
        }
    }
    if import.with_children {
        let mut grew = true;
        while grew {
            grew = false;
            for c in &catalog.controls {
                if c.parent.as_ref().is_some_and(|p| chosen.contains(p))
                    && chosen.insert(c.reference.clone())
                {
                    grew = true;
                }
            }
        }
    }
    for id in &import.exclude_ids {
        if let Some(c) = lookup.get(id.as_str()) {
            chosen.remove(&c.reference);
        }
    }
    let controls: Vec<Control> = catalog
        .controls
        .iter()
        .filter(|c| chosen.contains(&c.reference))
        .map(|c| {
            let mut c = c.clone();
            if c.parent.as_ref().is_some_and(|p| !chosen.contains(p)) {
                c.parent = None;
            }
            c
        })
        .collect();
    let mut used: HashSet<String> = controls.iter().filter_map(|c| c.group.clone()).collect();
    // Keep ancestors of used groups.
    let mut grew = true;
    while grew {
        grew = false;
        for g in &catalog.groups {
            if used.contains(&g.reference)
                && let Some(p) = &g.parent
            {
                grew |= used.insert(p.clone());
            }
        }
    }
    let groups = catalog
        .groups
        .iter()
        .filter(|g| used.contains(&g.reference))
        .cloned()
        .collect();
    Ok((groups, controls))
}

/// Builds a framework from a parsed catalog (ids are filled in by the caller's id scheme).
pub fn catalog_framework(
    doc: &CatalogDocument,
    key: &str,
    licence: &str,
    id_of_control: impl Fn(&str) -> Uuid,
    id: Uuid,
) -> Result<Framework, OscalError> {
    let controls = doc
        .controls
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.id = id_of_control(&c.reference);
            c
        })
        .collect();
    let f = Framework {
        id,
        key: key.to_owned(),
        name: doc.metadata.title.clone(),
        version: doc.metadata.version.clone(),
        publisher: String::new(),
        kind: "control-catalog".into(),
        licence: licence.to_owned(),
        source: format!(
            "OSCAL {} catalog {} (document {}, last modified {})",
            doc.metadata.oscal_version,
            doc.metadata.title,
            doc.metadata.uuid,
            doc.metadata.last_modified
        ),
        notes: None,
        groups: doc.groups.clone(),
        controls,
    };
    check_framework(&f).map_err(|e| OscalError::invalid("catalog", e))?;
    Ok(f)
}

fn parse_mappings(body: &Map<String, Value>) -> Result<MappingDocument, OscalError> {
    let metadata = metadata("mapping-collection", body)?;
    let prov = body.get("provenance").ok_or_else(|| OscalError::Missing {
        path: "mapping-collection.provenance".into(),
    })?;
    let prov = object(prov, "mapping-collection.provenance")?;
    for key in [
        "method",
        "matching-rationale",
        "status",
        "mapping-description",
    ] {
        string(prov, key, "mapping-collection.provenance")?;
    }
    let mappings = array(body, "mappings", "mapping-collection")?;
    let [mapping] = mappings else {
        return Err(OscalError::invalid(
            "mapping-collection.mappings",
            format!(
                "this reader takes exactly one mapping; found {}",
                mappings.len()
            ),
        ));
    };
    let mpath = "mapping-collection.mappings[0]";
    let mapping = object(mapping, mpath)?;
    string(mapping, "uuid", mpath)?;
    let href = |key: &str| -> Result<String, OscalError> {
        let r = mapping.get(key).ok_or_else(|| OscalError::Missing {
            path: format!("{mpath}.{key}"),
        })?;
        string(
            object(r, &format!("{mpath}.{key}"))?,
            "href",
            &format!("{mpath}.{key}"),
        )
    };
    let (source_href, target_href) = (href("source-resource")?, href("target-resource")?);
    let mut pairs = Vec::new();
    let mut uuids = HashSet::new();
    for (i, m) in array(mapping, "maps", mpath)?.iter().enumerate() {
        let path = format!("{mpath}.maps[{i}]");
        let m = object(m, &path)?;
        let uuid = string(m, "uuid", &path)?;
        if !uuids.insert(uuid.clone()) {
            return Err(OscalError::invalid(
                &path,
                format!("map uuid {uuid} appears twice"),
            ));
        }
        let rel_text = string(m, "relationship", &path)?;
        let relationship = Relationship::parse(&rel_text).ok_or_else(|| {
            OscalError::invalid(
                &format!("{path}.relationship"),
                format!("unknown relationship {rel_text}"),
            )
        })?;
        let items = |key: &str| -> Result<Vec<String>, OscalError> {
            let list = array(m, key, &path)?;
            if list.is_empty() {
                return Err(OscalError::Missing {
                    path: format!("{path}.{key}"),
                });
            }
            list.iter()
                .enumerate()
                .map(|(j, it)| {
                    let ip = format!("{path}.{key}[{j}]");
                    string(object(it, &ip)?, "id-ref", &ip)
                })
                .collect()
        };
        let (sources, targets) = (items("sources")?, items("targets")?);
        if pairs
            .len()
            .saturating_add(sources.len().saturating_mul(targets.len()))
            > MAX_CONTROLS
        {
            return Err(OscalError::invalid(
                &path,
                format!("the mapping links more than {MAX_CONTROLS} pairs of controls"),
            ));
        }
        for s in &sources {
            for t in &targets {
                pairs.push(MappedPair {
                    source: s.clone(),
                    target: t.clone(),
                    relationship,
                });
            }
        }
    }
    Ok(MappingDocument {
        metadata,
        source_href,
        target_href,
        pairs,
    })
}

/// One link of an exported crosswalk.
#[derive(Debug, Clone)]
pub struct ExportLink<'a> {
    pub id: Uuid,
    pub source: &'a str,
    pub target: &'a str,
    pub relationship: Relationship,
    pub remarks: Option<String>,
}

/// What an exported mapping collection says about itself.
#[derive(Debug, Clone)]
pub struct ExportHeader<'a> {
    pub title: String,
    pub version: &'a str,
    pub description: String,
    pub source_href: String,
    pub target_href: String,
    /// human | automation | hybrid
    pub method: &'a str,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// An OSCAL 1.2 mapping collection for a crosswalk. Map uuids are the link ids, so an export of
/// the same links is the same document.
pub fn export_mappings(header: &ExportHeader<'_>, links: &[ExportLink<'_>]) -> Value {
    let mut seed = String::new();
    for l in links {
        seed.push_str(&l.id.to_string());
    }
    let doc_uuid = Uuid::new_v5(
        &crate::model::ID_NAMESPACE,
        format!("mapping-collection\u{1f}{}\u{1f}{seed}", header.title).as_bytes(),
    );
    let maps: Vec<Value> = links
        .iter()
        .map(|l| {
            let mut m = json!({
                "uuid": l.id,
                "relationship": l.relationship.as_str(),
                "sources": [{"type": "control", "id-ref": l.source}],
                "targets": [{"type": "control", "id-ref": l.target}],
            });
            if let (Some(r), Some(obj)) = (&l.remarks, m.as_object_mut()) {
                obj.insert("remarks".into(), Value::String(r.clone()));
            }
            m
        })
        .collect();
    json!({
        "mapping-collection": {
            "uuid": doc_uuid,
            "metadata": {
                "title": header.title,
                "last-modified": header.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "version": header.version,
                "oscal-version": EXPORT_OSCAL_VERSION,
            },
            "provenance": {
                "method": header.method,
                "matching-rationale": "semantic",
                "status": "not-complete",
                "mapping-description": header.description,
            },
            "mappings": [{
                "uuid": Uuid::new_v5(&doc_uuid, b"mapping"),
                "source-resource": {"type": "catalog", "href": header.source_href},
                "target-resource": {"type": "catalog", "href": header.target_href},
                "maps": maps,
            }],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_oscal_patterns() {
        assert!(glob(b"s1.1.*", b"s1.1.2"));
        assert!(!glob(b"s1.1.*", b"s1.2.1"));
        assert!(glob(b"ac-?", b"ac-2"));
        assert!(!glob(b"ac-?", b"ac-22"));
        assert!(glob(b"*", b""));
    }

    /// One map naming 200 sources and 200 targets would be 40,000 pairs: refused before any
    /// pair is built.
    #[test]
    fn a_mapping_may_not_multiply_into_too_many_pairs() {
        let items = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"type": "control", "id-ref": format!("c{i}")}))
                .collect()
        };
        let doc = |n: usize| {
            json!({"mapping-collection": {
                "uuid": "6a0b1f2e-4c55-4a7e-9d1c-2b3a5e6f7081",
                "metadata": {"title": "t", "last-modified": "2026-11-29T00:00:00Z", "version": "1", "oscal-version": "1.2.0"},
                "provenance": {"method": "human", "matching-rationale": "semantic", "status": "draft", "mapping-description": "d"},
                "mappings": [{"uuid": "7a0b1f2e-4c55-4a7e-9d1c-2b3a5e6f7081",
                    "source-resource": {"type": "catalog", "href": "a"},
                    "target-resource": {"type": "catalog", "href": "b"},
                    "maps": [{"uuid": "8a0b1f2e-4c55-4a7e-9d1c-2b3a5e6f7081", "relationship": "equal-to",
                              "sources": items(n), "targets": items(n)}]}]
            }})
            .to_string()
        };
        let err = parse(doc(200).as_bytes()).expect_err("40,000 pairs");
        assert!(err.to_string().contains("more than 20000 pairs"), "{err}");
        match parse(doc(100).as_bytes()) {
            Ok(Document::Mappings(m)) => assert_eq!(m.pairs.len(), 10_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_stems_drop_directories_and_extensions() {
        assert_eq!(
            file_stem("../../catalog/xml/basic-catalog.xml"),
            "basic-catalog"
        );
        assert_eq!(
            file_stem("https://x/y/NIST_SP-800-53_rev5_catalog.json"),
            "NIST_SP-800-53_rev5_catalog"
        );
        assert_eq!(file_stem("plain"), "plain");
    }
}
