//! Catalog services shared by GraphQL and the `grc` command: the in-memory catalog index (kept in
//! step with the database's catalog revision, so every replica sees an operator's import), the
//! per-request view that adds one tenant's own frameworks, links and reviews, and OSCAL import.

use grc_catalog::model::{control_id, framework_id};
use grc_catalog::oscal::{self, Document, OscalError};
use grc_catalog::{CatalogIndex, Control, Framework, Link, MappingState, Overlay, Relationship};
use grc_store::{
    ControlTextRecord, CustomFrameworkRecord, ImportOrigin, LinkEnd, NewCustomFramework,
    ReviewRecord, Store, StoreError, TenantLinkRecord, TenantScope, TenantTx,
};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

/// The shared catalog index, reloaded when the database's catalog revision moves, and each
/// tenant's catalog side, reloaded when the tenant's audit sequence moves (every change to a
/// tenant's rows appends an audit event in the same transaction).
#[derive(Debug)]
pub struct CatalogCache {
    current: RwLock<Option<Arc<CatalogIndex>>>,
    reload: Mutex<()>,
    tenants: moka::future::Cache<Uuid, (i64, Arc<TenantCatalog>)>,
}

impl Default for CatalogCache {
    fn default() -> Self {
        Self {
            current: RwLock::new(None),
            reload: Mutex::new(()),
            tenants: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

impl CatalogCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The catalog as the tenant of `tx` sees it: `index` (from [`Self::current`], taken before
    /// the transaction: SQLite has one connection) and the tenant's side, read inside `tx` at
    /// its current audit sequence.
    pub async fn view(
        &self,
        index: Arc<CatalogIndex>,
        tx: &TenantTx,
    ) -> Result<CatalogView, StoreError> {
        let tenant = tx.scope().tenant_id().0;
        let seq = tx.audit_seq().await?;
        if let Some((at, part)) = self.tenants.get(&tenant).await
            && at == seq
        {
            return Ok(CatalogView {
                index,
                tenant: part,
            });
        }
        let part = Arc::new(TenantCatalog::load(tx).await?);
        self.tenants.insert(tenant, (seq, part.clone())).await;
        Ok(CatalogView {
            index,
            tenant: part,
        })
    }

    /// The catalog as `scope`'s tenant sees it, for reads: one round trip checks that the
    /// cached shared index and tenant side are current; only what moved is read again.
    pub async fn read_view(
        &self,
        store: &Store,
        scope: TenantScope,
    ) -> Result<CatalogView, StoreError> {
        Ok(self.read_view_seq(store, scope).await?.0)
    }

    /// [`Self::read_view`], with the tenant's audit sequence the check read (other per-tenant
    /// caches use it to know whether they are current, without another round trip).
    pub async fn read_view_seq(
        &self,
        store: &Store,
        scope: TenantScope,
    ) -> Result<(CatalogView, i64), StoreError> {
        let (revision, seq) = store.catalog_versions(scope).await?;
        let index = self.at_revision(store, revision).await?;
        let tenant = scope.tenant_id().0;
        if let Some((at, part)) = self.tenants.get(&tenant).await
            && at == seq
        {
            return Ok((
                CatalogView {
                    index,
                    tenant: part,
                },
                seq,
            ));
        }
        let tx = store.tenant_tx(scope).await?;
        let view = self.view(index, &tx).await?;
        tx.commit().await?;
        Ok((view, seq))
    }

    /// The index at the database's current revision (one indexed read when nothing changed).
    pub async fn current(&self, store: &Store) -> Result<Arc<CatalogIndex>, StoreError> {
        let revision = store.catalog_revision().await?;
        self.at_revision(store, revision).await
    }

    async fn at_revision(
        &self,
        store: &Store,
        revision: i64,
    ) -> Result<Arc<CatalogIndex>, StoreError> {
        if let Some(idx) = self.current.read().await.as_ref()
            && idx.revision == revision
        {
            return Ok(idx.clone());
        }
        let _one_loader = self.reload.lock().await;
        if let Some(idx) = self.current.read().await.as_ref()
            && idx.revision >= revision
        {
            return Ok(idx.clone());
        }
        let idx = Arc::new(store.load_catalog().await?);
        *self.current.write().await = Some(idx.clone());
        Ok(idx)
    }
}

/// A framework as one tenant sees it: shared, or its own.
#[derive(Debug, Clone, Copy)]
pub enum FrameworkRef<'a> {
    Shared(&'a Framework),
    Custom(&'a CustomFrameworkRecord),
}

impl<'a> FrameworkRef<'a> {
    pub fn framework(self) -> &'a Framework {
        match self {
            Self::Shared(f) => f,
            Self::Custom(c) => &c.framework,
        }
    }
    pub fn is_custom(self) -> bool {
        matches!(self, Self::Custom(_))
    }
}

/// The catalog as one tenant sees it during one request: the shared index and the tenant's side.
#[derive(Debug)]
pub struct CatalogView {
    pub index: Arc<CatalogIndex>,
    pub tenant: Arc<TenantCatalog>,
}

impl std::ops::Deref for CatalogView {
    type Target = TenantCatalog;
    fn deref(&self) -> &TenantCatalog {
        &self.tenant
    }
}

/// One tenant's side of the catalog: its links, reviews and frameworks.
#[derive(Debug)]
pub struct TenantCatalog {
    pub overlay: Overlay,
    pub links: Vec<TenantLinkRecord>,
    pub reviews: HashMap<Uuid, ReviewRecord>,
    pub custom: Vec<CustomFrameworkRecord>,
    /// Licensed text the tenant attached to shared controls, by control.
    pub texts: HashMap<Uuid, ControlTextRecord>,
    custom_controls: HashMap<Uuid, (usize, usize)>,
    custom_by_id: HashMap<Uuid, usize>,
}

impl CatalogView {
    /// Reads the tenant's side inside `tx` (no cache) and joins it to the shared index.
    pub async fn load(index: Arc<CatalogIndex>, tx: &TenantTx) -> Result<Self, StoreError> {
        Ok(Self {
            index,
            tenant: Arc::new(TenantCatalog::load(tx).await?),
        })
    }
}

impl TenantCatalog {
    async fn load(tx: &TenantTx) -> Result<Self, StoreError> {
        let links = tx.tenant_links().await?;
        let reviews: HashMap<Uuid, ReviewRecord> = tx
            .reviews()
            .await?
            .into_iter()
            .map(|r| (r.mapping_id, r))
            .collect();
        let custom = tx.custom_frameworks_with_controls().await?;
        let mut this = Self::assemble(links, reviews, custom);
        this.texts = tx
            .control_texts()
            .await?
            .into_iter()
            .map(|t| (t.control_id, t))
            .collect();
        Ok(this)
    }

    fn assemble(
        links: Vec<TenantLinkRecord>,
        reviews: HashMap<Uuid, ReviewRecord>,
        custom: Vec<CustomFrameworkRecord>,
    ) -> Self {
        let mut custom_controls = HashMap::new();
        let mut custom_by_id = HashMap::new();
        let mut framework_of = HashMap::new();
        for (fi, f) in custom.iter().enumerate() {
            custom_by_id.insert(f.framework.id, fi);
            for (ci, c) in f.framework.controls.iter().enumerate() {
                custom_controls.insert(c.id, (fi, ci));
                framework_of.insert(c.id, f.framework.id);
            }
        }
        let overlay = Overlay {
            links: links
                .iter()
                .map(|l| Link {
                    id: l.id,
                    source: l.source.id(),
                    target: l.target.id(),
                    relationship: l.relationship,
                    via: Vec::new(),
                })
                .collect(),
            reviews: reviews.iter().map(|(k, r)| (*k, r.state)).collect(),
            custom_controls: framework_of,
        };
        Self {
            texts: HashMap::new(),
            overlay,
            links,
            reviews,
            custom,
            custom_controls,
            custom_by_id,
        }
    }
}

impl CatalogView {
    /// A framework by id, shared or the tenant's own.
    pub fn framework(&self, id: Uuid) -> Option<FrameworkRef<'_>> {
        if let Some(f) = self.index.framework(id) {
            return Some(FrameworkRef::Shared(f));
        }
        self.custom_by_id
            .get(&id)
            .map(|i| FrameworkRef::Custom(&self.custom[*i]))
    }

    /// A framework by key: the tenant's own first (its keys are its own namespace), then shared.
    pub fn framework_by_key(&self, key: &str) -> Option<FrameworkRef<'_>> {
        self.custom
            .iter()
            .find(|c| c.framework.key == key)
            .map(FrameworkRef::Custom)
            .or_else(|| self.index.framework_by_key(key).map(FrameworkRef::Shared))
    }

    /// Every framework the tenant sees: shared ones in key order, then its own.
    pub fn frameworks(&self) -> Vec<FrameworkRef<'_>> {
        self.index
            .frameworks()
            .iter()
            .map(FrameworkRef::Shared)
            .chain(self.custom.iter().map(FrameworkRef::Custom))
            .collect()
    }

    /// A control by id with its framework.
    pub fn control(&self, id: Uuid) -> Option<(FrameworkRef<'_>, &Control)> {
        if let Some((f, c)) = self.index.control(id) {
            return Some((FrameworkRef::Shared(f), c));
        }
        self.custom_controls.get(&id).map(|(fi, ci)| {
            let f = &self.custom[*fi];
            (FrameworkRef::Custom(f), &f.framework.controls[*ci])
        })
    }

    /// Whether a control id names a shared control or one of the tenant's own.
    pub fn link_end(&self, control: Uuid) -> Option<LinkEnd> {
        if self.index.control(control).is_some() {
            Some(LinkEnd::Shared(control))
        } else if self.custom_controls.contains_key(&control) {
            Some(LinkEnd::Custom(control))
        } else {
            None
        }
    }

    /// The effective state of a shared link for this tenant.
    pub fn shared_state(&self, link: Uuid) -> MappingState {
        self.reviews
            .get(&link)
            .map(|r| r.state)
            .unwrap_or(MappingState::Informative)
    }

    pub fn tenant_link(&self, id: Uuid) -> Option<(usize, &TenantLinkRecord)> {
        self.links.iter().enumerate().find(|(_, l)| l.id == id)
    }
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Oscal(#[from] OscalError),
    #[error("{0}")]
    Input(String),
    /// The key is malformed.
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            other => Self::Store(other),
        }
    }
}

/// What to import and as what.
#[derive(Debug, Clone)]
pub struct ImportRequest<'a> {
    pub bytes: &'a [u8],
    /// The new framework's key.
    pub key: &'a str,
    /// The document's file name, by which profiles may name it.
    pub file_name: Option<&'a str>,
    /// For a profile: the framework (id or key) to resolve it against, when its import href
    /// does not name an imported catalog.
    pub resolve_against: Option<&'a str>,
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// True when the document was a mapping collection (links were added, no framework).
    pub links_only: bool,
    pub framework: Framework,
    /// For a mapping collection: the links added.
    pub links_added: usize,
}

/// Checks a framework key (the same rule the database enforces).
pub fn check_key(key: &str) -> Result<(), ImportError> {
    let ok = !key.is_empty()
        && key.len() <= 80
        && key.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || (i > 0 && matches!(b, b'.' | b'_' | b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(ImportError::Key(format!(
            "framework key {key:?} must be 1-80 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )))
    }
}

fn origin_of(meta: &oscal::Metadata, file_name: Option<&str>) -> ImportOrigin {
    ImportOrigin {
        name: file_name.map(oscal::file_stem),
        uuid: meta.uuid,
    }
}

/// Finds the catalog a profile import names among `candidates` (id, import name, import uuid).
fn find_import<'a>(
    import: &oscal::ProfileImport,
    candidates: impl Iterator<Item = (&'a Framework, Option<&'a str>, Option<Uuid>)>,
) -> Option<&'a Framework> {
    let names = &import.names;
    candidates
        .filter(|(_, name, uuid)| {
            name.is_some_and(|n| names.iter().any(|x| x == n))
                || uuid.is_some_and(|u| names.iter().any(|x| *x == u.to_string()))
        })
        .map(|(f, _, _)| f)
        .next()
}

/// Builds the framework a document describes, resolving a profile against a catalog the
/// caller can see (`catalogs`: frameworks with their import name and uuid).
fn build_framework<'a>(
    doc: &Document,
    req: &ImportRequest<'_>,
    id: Uuid,
    id_of_control: &dyn Fn(&str) -> Uuid,
    licence: &str,
    catalogs: &[(&'a Framework, Option<&'a str>, Option<Uuid>)],
) -> Result<(Framework, ImportOrigin), ImportError> {
    match doc {
        Document::Catalog(c) => {
            let f = oscal::catalog_framework(c, req.key, licence, id_of_control, id)?;
            Ok((f, origin_of(&c.metadata, req.file_name)))
        }
        Document::Profile(p) => {
            let mut groups = Vec::new();
            let mut controls: Vec<Control> = Vec::new();
            let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
            let mut sources = Vec::new();
            for import in &p.imports {
                let base = match req.resolve_against {
                    Some(wanted) => catalogs
                        .iter()
                        .map(|(f, _, _)| *f)
                        .find(|f| f.key == wanted || f.id.to_string() == wanted),
                    None => find_import(import, catalogs.iter().copied()),
                }
                .ok_or_else(|| OscalError::UnknownImport {
                    href: req.resolve_against.unwrap_or(&import.href).to_owned(),
                })?;
                let (g, c) = oscal::resolve(import, base)?;
                sources.push(base.key.clone());
                for group in g {
                    if !groups
                        .iter()
                        .any(|x: &grc_catalog::Group| x.reference == group.reference)
                    {
                        groups.push(group);
                    }
                }
                for mut control in c {
                    if !seen.insert(control.reference.clone()) {
                        continue;
                    }
                    control.id = id_of_control(&control.reference);
                    control.sort = i32::try_from(controls.len()).unwrap_or(i32::MAX);
                    controls.push(control);
                }
            }
            let f = Framework {
                id,
                key: req.key.to_owned(),
                name: p.metadata.title.clone(),
                version: p.metadata.version.clone(),
                publisher: String::new(),
                kind: "profile".into(),
                licence: licence.to_owned(),
                source: format!(
                    "OSCAL {} profile {} (document {}), resolved against {}",
                    p.metadata.oscal_version,
                    p.metadata.title,
                    p.metadata.uuid,
                    sources.join(", ")
                ),
                notes: None,
                groups,
                controls,
            };
            grc_catalog::bundle::check_framework(&f).map_err(ImportError::Input)?;
            Ok((f, origin_of(&p.metadata, req.file_name)))
        }
        Document::Mappings(_) => Err(ImportError::Input(
            "a mapping collection adds links, not a framework".into(),
        )),
    }
}

/// Imports a catalog or profile as a shared framework (operators).
pub async fn import_shared(
    store: &Store,
    req: &ImportRequest<'_>,
) -> Result<Imported, ImportError> {
    check_key(req.key)?;
    let doc = oscal::parse(req.bytes)?;
    let index = store.load_catalog().await?;
    if index.framework_by_key(req.key).is_some() {
        return Err(ImportError::Conflict(format!(
            "framework key {} is taken",
            req.key
        )));
    }
    let names = store.shared_import_names().await?;
    let catalogs: Vec<(&Framework, Option<&str>, Option<Uuid>)> = index
        .frameworks()
        .iter()
        .map(|f| {
            let n = names.iter().find(|(id, _, _)| *id == f.id);
            (f, n.and_then(|x| x.1.as_deref()), n.and_then(|x| x.2))
        })
        .collect();
    let key = req.key.to_owned();
    let (f, origin) = build_framework(
        &doc,
        req,
        framework_id(req.key),
        &|r| control_id(&key, r),
        "imported",
        &catalogs,
    )?;
    store.import_shared_framework(&f, &origin).await?;
    Ok(Imported {
        links_only: false,
        framework: f,
        links_added: 0,
    })
}

/// Imports a catalog or profile as the tenant's own framework, or a mapping collection as the
/// tenant's own links, inside `tx` (the caller records the audit event and commits).
/// The names shared OSCAL imports are known by (`Store::shared_import_names`), read before the
/// tenant transaction opens.
pub type SharedImportNames = Vec<(Uuid, Option<String>, Option<Uuid>)>;

pub async fn import_for_tenant(
    tx: &mut TenantTx,
    index: Arc<CatalogIndex>,
    shared_names: &SharedImportNames,
    req: &ImportRequest<'_>,
) -> Result<Imported, ImportError> {
    let doc = oscal::parse(req.bytes)?;
    let view = CatalogView::load(index, tx).await?;
    if let Document::Mappings(m) = &doc {
        return import_links(tx, &view, m).await;
    }
    check_key(req.key)?;
    if view.index.framework_by_key(req.key).is_some() {
        return Err(ImportError::Conflict(format!(
            "{} is the key of a shared framework",
            req.key
        )));
    }
    if view.custom.iter().any(|c| c.framework.key == req.key) {
        return Err(ImportError::Conflict(format!(
            "the tenant already has a framework with key {}",
            req.key
        )));
    }
    let catalogs: Vec<(&Framework, Option<&str>, Option<Uuid>)> = view
        .custom
        .iter()
        .map(|c| (&c.framework, c.import_name.as_deref(), c.import_uuid))
        .chain(view.index.frameworks().iter().map(|f| {
            let n = shared_names.iter().find(|(id, _, _)| *id == f.id);
            (f, n.and_then(|x| x.1.as_deref()), n.and_then(|x| x.2))
        }))
        .collect();
    let (f, origin) = build_framework(
        &doc,
        req,
        Uuid::now_v7(),
        &|_| Uuid::now_v7(),
        "tenant",
        &catalogs,
    )?;
    tx.create_custom_framework(&NewCustomFramework {
        framework: &f,
        origin: "oscal",
        import: Some(&origin),
    })
    .await?;
    Ok(Imported {
        links_only: false,
        framework: f,
        links_added: 0,
    })
}

/// Adds a mapping collection's links as the tenant's own, resolving each side by the control
/// refs of the frameworks its source and target resources name (by key or file name).
async fn import_links(
    tx: &mut TenantTx,
    view: &CatalogView,
    m: &oscal::MappingDocument,
) -> Result<Imported, ImportError> {
    let resolve_fw = |href: &str| {
        let stem = oscal::file_stem(href);
        view.framework_by_key(&stem)
            .or_else(|| view.framework_by_key(href))
            .ok_or_else(|| {
                ImportError::Input(format!(
                    "the mapping names {href}, which is not a framework here"
                ))
            })
    };
    let src = resolve_fw(&m.source_href)?.framework();
    let tgt = resolve_fw(&m.target_href)?.framework();
    let lookup = |f: &Framework, r: &str| {
        f.controls
            .iter()
            .find(|c| c.reference == r || c.aliases.iter().any(|a| a == r))
            .map(|c| c.id)
            .ok_or_else(|| ImportError::Input(format!("{r} is not a control of {}", f.key)))
    };
    let mut added = 0;
    for pair in &m.pairs {
        let s = lookup(src, &pair.source)?;
        let t = lookup(tgt, &pair.target)?;
        let (Some(se), Some(te)) = (view.link_end(s), view.link_end(t)) else {
            return Err(ImportError::Input(
                "a mapped control is not visible here".into(),
            ));
        };
        // A pair already published in the shared catalog needs no tenant link.
        let shared = view
            .index
            .paths_from(s, Some(tgt.id), 1, true, &Overlay::default())
            .iter()
            .any(|p| p.target == t && p.relationship == pair.relationship);
        if shared {
            continue;
        }
        match tx
            .add_tenant_link(se, te, pair.relationship, None, "oscal-import")
            .await
        {
            Ok(_) => added += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Imported {
        links_only: true,
        framework: src.clone(),
        links_added: added,
    })
}

/// The OSCAL method word for a set of links.
pub fn oscal_method(methods: impl Iterator<Item = grc_catalog::Method>) -> &'static str {
    let mut human = false;
    let mut auto = false;
    for m in methods {
        match m {
            grc_catalog::Method::Derived => auto = true,
            _ => human = true,
        }
    }
    match (human, auto) {
        (true, true) => "hybrid",
        (false, true) => "automation",
        _ => "human",
    }
}

/// Parses a relationship name as the API and CLI accept it (`intersects-with` or
/// `INTERSECTS_WITH`).
pub fn parse_relationship(s: &str) -> Option<Relationship> {
    Relationship::parse(&s.to_ascii_lowercase().replace('_', "-"))
}
