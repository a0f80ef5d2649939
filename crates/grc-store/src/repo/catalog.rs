//! Catalogs in the database.
//!
//! Shared side: [`Store::sync_catalogs`] loads the shipped bundle idempotently (a framework or
//! crosswalk whose checksum is unchanged is not touched; inside a changed one only the rows whose
//! content hash changed are written; rows that left the bundle are retired, never deleted, since
//! tenants' records point at them) and bumps the catalog revision, which replicas compare to
//! reload their in-memory index. Operators may add shared frameworks from OSCAL.
//!
//! Tenant side (through [`TenantTx`]): a tenant's own frameworks and controls, its own links,
//! its reviews of shared links, and licensed text it attached to shared controls.

use crate::entity::catalog::{
    control, control_text, crosswalk, custom_control, custom_framework, framework, mapping,
    mapping_review, state, tenant_mapping,
};
use crate::{Store, StoreError, TenantScope, TenantTx};
use chrono::{DateTime, Utc};
use grc_catalog::model::{ControlStatus, Requirement};
use grc_catalog::{
    Bundle, CatalogIndex, Control, Crosswalk, Framework, Group, Link, MappingState, Method,
    Relationship,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The control fields that live in the `attributes` JSON column.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Attributes {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requirement: Option<Requirement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    citation: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    documented_information: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    baselines: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(default = "yes")]
    confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

fn yes() -> bool {
    true
}

fn attributes(c: &Control) -> String {
    serde_json::to_string(&Attributes {
        tags: c.tags.clone(),
        requirement: c.requirement,
        citation: c.citation.clone(),
        documented_information: c.documented_information,
        baselines: c.baselines.clone(),
        aliases: c.aliases.clone(),
        confirmed: c.confirmed,
        note: c.note.clone(),
        text: c.text.clone(),
    })
    .unwrap_or_else(|_| "{}".into())
}

#[allow(clippy::too_many_arguments)]
fn control_from(
    id: Uuid,
    reference: String,
    title: String,
    kind: String,
    group: Option<String>,
    parent: Option<String>,
    status: &str,
    sort: i32,
    attrs: &str,
) -> Result<Control, StoreError> {
    let a: Attributes = serde_json::from_str(attrs)
        .map_err(|e| StoreError::Invalid(format!("control {reference}: attributes: {e}")))?;
    Ok(Control {
        id,
        status: ControlStatus::parse(status)
            .ok_or_else(|| StoreError::Invalid(format!("control {reference}: status {status}")))?,
        reference,
        title,
        kind,
        group,
        parent,
        tags: a.tags,
        requirement: a.requirement,
        citation: a.citation,
        documented_information: a.documented_information,
        baselines: a.baselines,
        aliases: a.aliases,
        confirmed: a.confirmed,
        note: a.note,
        text: a.text,
        sort,
    })
}

fn shared_control(m: control::Model) -> Result<Control, StoreError> {
    control_from(
        m.id,
        m.reference,
        m.title,
        m.kind,
        m.group_ref,
        m.parent_ref,
        &m.status,
        m.sort,
        &m.attributes,
    )
}

fn custom_control_from(m: custom_control::Model) -> Result<Control, StoreError> {
    control_from(
        m.id,
        m.reference,
        m.title,
        m.kind,
        m.group_ref,
        m.parent_ref,
        &m.status,
        m.sort,
        &m.attributes,
    )
}

fn groups_json(groups: &[Group]) -> String {
    serde_json::to_string(groups).unwrap_or_else(|_| "[]".into())
}

fn groups_from(text: &str) -> Result<Vec<Group>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Invalid(format!("framework groups: {e}")))
}

fn parse_relationship(s: &str) -> Result<Relationship, StoreError> {
    Relationship::parse(s).ok_or_else(|| StoreError::Invalid(format!("relationship {s}")))
}

/// What a catalog sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub frameworks_loaded: usize,
    pub frameworks_unchanged: usize,
    pub controls_inserted: usize,
    pub controls_updated: usize,
    pub controls_retired: usize,
    pub crosswalks_loaded: usize,
    pub crosswalks_unchanged: usize,
    pub links_inserted: usize,
    pub links_updated: usize,
    pub links_retired: usize,
    /// Shipped frameworks and crosswalks that left the bundle, retired with their rows.
    pub frameworks_retired: usize,
    pub crosswalks_retired: usize,
    /// The catalog revision after the sync.
    pub revision: i64,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.frameworks_loaded
            + self.crosswalks_loaded
            + self.frameworks_retired
            + self.crosswalks_retired
            > 0
    }
}

/// Where a framework came from, for OSCAL imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOrigin {
    /// The document's file name without extension (how profiles name their catalogs).
    pub name: Option<String>,
    /// The OSCAL document's uuid.
    pub uuid: Uuid,
}

const INSERT_CHUNK: usize = 200;

fn control_row(framework_id: Uuid, c: &Control) -> control::ActiveModel {
    control::ActiveModel {
        id: Set(c.id),
        framework_id: Set(framework_id),
        reference: Set(c.reference.clone()),
        title: Set(c.title.clone()),
        kind: Set(c.kind.clone()),
        group_ref: Set(c.group.clone()),
        parent_ref: Set(c.parent.clone()),
        status: Set(c.status.as_str().to_owned()),
        sort: Set(c.sort),
        attributes: Set(attributes(c)),
        content_hash: Set(c.content_hash()),
        retired: Set(false),
    }
}

fn framework_row(
    f: &Framework,
    origin: &str,
    import: Option<&ImportOrigin>,
) -> framework::ActiveModel {
    framework::ActiveModel {
        id: Set(f.id),
        key: Set(f.key.clone()),
        name: Set(f.name.clone()),
        version: Set(f.version.clone()),
        publisher: Set(f.publisher.clone()),
        kind: Set(f.kind.clone()),
        licence: Set(f.licence.clone()),
        source: Set(f.source.clone()),
        notes: Set(f.notes.clone()),
        groups: Set(groups_json(&f.groups)),
        origin: Set(origin.to_owned()),
        import_name: Set(import.and_then(|i| i.name.clone())),
        import_uuid: Set(import.map(|i| i.uuid)),
        checksum: Set(f.checksum()),
        loaded_at: Set(Utc::now()),
        retired: Set(false),
    }
}

async fn insert_controls(
    tx: &DatabaseTransaction,
    framework_id: Uuid,
    controls: &[&Control],
) -> Result<(), StoreError> {
    for chunk in controls.chunks(INSERT_CHUNK) {
        control::Entity::insert_many(chunk.iter().map(|c| control_row(framework_id, c)))
            .exec(tx)
            .await?;
    }
    Ok(())
}

/// Loads a framework's rows, writing only what changed.
async fn sync_framework(
    tx: &DatabaseTransaction,
    f: &Framework,
    report: &mut SyncReport,
) -> Result<(), StoreError> {
    let existing = framework::Entity::find_by_id(f.id).one(tx).await?;
    let checksum = f.checksum();
    match existing {
        Some(e) if e.checksum == checksum && !e.retired => {
            report.frameworks_unchanged += 1;
            return Ok(());
        }
        Some(e) if e.origin != "bundle" => {
            return Err(StoreError::Conflict(format!(
                "framework key {} is taken by an imported framework",
                f.key
            )));
        }
        Some(_) => {
            framework_row(f, "bundle", None).update(tx).await?;
        }
        None => {
            framework::Entity::insert(framework_row(f, "bundle", None))
                .exec(tx)
                .await?;
        }
    }
    report.frameworks_loaded += 1;
    let stored: HashMap<Uuid, (String, bool)> = control::Entity::find()
        .filter(control::Column::FrameworkId.eq(f.id))
        .all(tx)
        .await?
        .into_iter()
        .map(|m| (m.id, (m.content_hash, m.retired)))
        .collect();
    let mut new = Vec::new();
    for c in &f.controls {
        match stored.get(&c.id) {
            None => new.push(c),
            Some((hash, retired)) if *hash != c.content_hash() || *retired => {
                control_row(f.id, c).update(tx).await?;
                report.controls_updated += 1;
            }
            Some(_) => {}
        }
    }
    report.controls_inserted += new.len();
    insert_controls(tx, f.id, &new).await?;
    let keep: HashSet<Uuid> = f.controls.iter().map(|c| c.id).collect();
    let gone: Vec<Uuid> = stored
        .iter()
        .filter(|(id, (_, retired))| !keep.contains(id) && !retired)
        .map(|(id, _)| *id)
        .collect();
    if !gone.is_empty() {
        report.controls_retired += gone.len();
        control::Entity::update_many()
            .col_expr(
                control::Column::Retired,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(control::Column::Id.is_in(gone))
            .exec(tx)
            .await?;
    }
    Ok(())
}

fn mapping_row(crosswalk_id: Uuid, l: &Link) -> mapping::ActiveModel {
    mapping::ActiveModel {
        id: Set(l.id),
        crosswalk_id: Set(crosswalk_id),
        source_control_id: Set(l.source),
        target_control_id: Set(l.target),
        relationship: Set(l.relationship.as_str().to_owned()),
        via: Set(serde_json::to_string(&l.via).unwrap_or_else(|_| "[]".into())),
        retired: Set(false),
    }
}

async fn sync_crosswalk(
    tx: &DatabaseTransaction,
    w: &Crosswalk,
    report: &mut SyncReport,
) -> Result<(), StoreError> {
    let checksum = w.checksum();
    let existing = crosswalk::Entity::find_by_id(w.id).one(tx).await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.checksum == checksum && !e.retired)
    {
        report.crosswalks_unchanged += 1;
        return Ok(());
    }
    let row = crosswalk::ActiveModel {
        id: Set(w.id),
        key: Set(w.key.clone()),
        source_framework_id: Set(grc_catalog::model::framework_id(&w.source_framework)),
        target_framework_id: Set(grc_catalog::model::framework_id(&w.target_framework)),
        method: Set(w.method.as_str().to_owned()),
        source: Set(w.source.clone()),
        retrieved: Set(w.retrieved.clone()),
        comprehensive: Set(w.comprehensive),
        checksum: Set(checksum),
        loaded_at: Set(Utc::now()),
        retired: Set(false),
    };
    if existing.is_some() {
        row.update(tx).await?;
    } else {
        crosswalk::Entity::insert(row).exec(tx).await?;
    }
    report.crosswalks_loaded += 1;
    let stored: HashMap<Uuid, mapping::Model> = mapping::Entity::find()
        .filter(mapping::Column::CrosswalkId.eq(w.id))
        .all(tx)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut new = Vec::new();
    for l in &w.links {
        match stored.get(&l.id) {
            None => new.push(mapping_row(w.id, l)),
            Some(m) => {
                let via = serde_json::to_string(&l.via).unwrap_or_default();
                if m.relationship != l.relationship.as_str() || m.via != via || m.retired {
                    mapping_row(w.id, l).update(tx).await?;
                    report.links_updated += 1;
                }
            }
        }
    }
    report.links_inserted += new.len();
    let mut rows = new.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        mapping::Entity::insert_many(chunk).exec(tx).await?;
    }
    let keep: HashSet<Uuid> = w.links.iter().map(|l| l.id).collect();
    let gone: Vec<Uuid> = stored
        .values()
        .filter(|m| !keep.contains(&m.id) && !m.retired)
        .map(|m| m.id)
        .collect();
    if !gone.is_empty() {
        report.links_retired += gone.len();
        mapping::Entity::update_many()
            .col_expr(
                mapping::Column::Retired,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(mapping::Column::Id.is_in(gone))
            .exec(tx)
            .await?;
    }
    Ok(())
}

/// Retires the shipped frameworks and crosswalks that left the bundle, with their rows
/// (operators' imports are never touched).
async fn retire_missing(
    tx: &DatabaseTransaction,
    bundle: &Bundle,
    report: &mut SyncReport,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::Expr;
    let keep_w: HashSet<Uuid> = bundle.crosswalks.iter().map(|w| w.id).collect();
    let gone_w: Vec<Uuid> = crosswalk::Entity::find()
        .filter(crosswalk::Column::Retired.eq(false))
        .all(tx)
        .await?
        .into_iter()
        .map(|w| w.id)
        .filter(|id| !keep_w.contains(id))
        .collect();
    let keep_f: HashSet<Uuid> = bundle.frameworks.iter().map(|f| f.id).collect();
    let gone_f: Vec<Uuid> = framework::Entity::find()
        .filter(framework::Column::Origin.eq("bundle"))
        .filter(framework::Column::Retired.eq(false))
        .all(tx)
        .await?
        .into_iter()
        .map(|f| f.id)
        .filter(|id| !keep_f.contains(id))
        .collect();
    if !gone_w.is_empty() {
        report.crosswalks_retired += gone_w.len();
        report.links_retired += mapping::Entity::update_many()
            .col_expr(mapping::Column::Retired, Expr::value(true))
            .filter(mapping::Column::CrosswalkId.is_in(gone_w.clone()))
            .filter(mapping::Column::Retired.eq(false))
            .exec(tx)
            .await?
            .rows_affected as usize;
        crosswalk::Entity::update_many()
            .col_expr(crosswalk::Column::Retired, Expr::value(true))
            .filter(crosswalk::Column::Id.is_in(gone_w))
            .exec(tx)
            .await?;
    }
    if !gone_f.is_empty() {
        report.frameworks_retired += gone_f.len();
        report.controls_retired += control::Entity::update_many()
            .col_expr(control::Column::Retired, Expr::value(true))
            .filter(control::Column::FrameworkId.is_in(gone_f.clone()))
            .filter(control::Column::Retired.eq(false))
            .exec(tx)
            .await?
            .rows_affected as usize;
        framework::Entity::update_many()
            .col_expr(framework::Column::Retired, Expr::value(true))
            .filter(framework::Column::Id.is_in(gone_f))
            .exec(tx)
            .await?;
    }
    Ok(())
}

async fn lock_state(tx: &DatabaseTransaction) -> Result<state::Model, StoreError> {
    let mut q = state::Entity::find_by_id(1i16);
    if tx.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(tx)
        .await?
        .ok_or_else(|| StoreError::Invalid("catalog_state has no row; run the migrations".into()))
}

async fn bump(
    tx: &DatabaseTransaction,
    st: state::Model,
    bundle_version: Option<String>,
) -> Result<i64, StoreError> {
    let revision = st.revision + 1;
    let mut row: state::ActiveModel = st.into();
    row.revision = Set(revision);
    if let Some(v) = bundle_version {
        row.bundle_version = Set(v);
    }
    row.updated_at = Set(Utc::now());
    row.update(tx).await?;
    Ok(revision)
}

impl Store {
    /// Loads the shipped catalogs: idempotent, writes only what changed, all in one transaction.
    pub async fn sync_catalogs(&self, bundle: &Bundle) -> Result<SyncReport, StoreError> {
        let tx = self.db.begin().await?;
        let st = lock_state(&tx).await?;
        let mut report = SyncReport::default();
        for f in &bundle.frameworks {
            sync_framework(&tx, f, &mut report).await?;
        }
        for w in &bundle.crosswalks {
            sync_crosswalk(&tx, w, &mut report).await?;
        }
        retire_missing(&tx, bundle, &mut report).await?;
        let version = bundle.version();
        report.revision = if report.changed() || st.bundle_version != version {
            bump(&tx, st, Some(version)).await?
        } else {
            st.revision
        };
        tx.commit().await?;
        Ok(report)
    }

    /// The catalog revision: one indexed read, for deciding whether to reload the index.
    pub async fn catalog_revision(&self) -> Result<i64, StoreError> {
        Ok(state::Entity::find_by_id(1i16)
            .one(&self.db)
            .await?
            .map(|s| s.revision)
            .unwrap_or(0))
    }

    /// The shared catalog's revision and `scope`'s audit sequence, in one round trip on
    /// PostgreSQL (a function that scopes only its own statement), for deciding whether cached
    /// catalog data is current.
    pub async fn catalog_versions(&self, scope: TenantScope) -> Result<(i64, i64), StoreError> {
        let tenant = scope.tenant_id().0;
        let stmt = match self.db.get_database_backend() {
            DbBackend::Postgres => Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT revision, last_seq FROM grc_catalog_versions($1)",
                [tenant.into()],
            ),
            backend => Statement::from_sql_and_values(
                backend,
                "SELECT (SELECT revision FROM catalog_state WHERE id = 1) AS revision, \
                        (SELECT last_seq FROM audit_heads WHERE tenant_id = ?) AS last_seq",
                [tenant.into()],
            ),
        };
        let row = self
            .db
            .query_one_raw(stmt)
            .await?
            .ok_or_else(|| StoreError::Invalid("no catalog state".into()))?;
        let revision: Option<i64> = row.try_get("", "revision")?;
        let seq: Option<i64> = row.try_get("", "last_seq")?;
        Ok((revision.unwrap_or(0), seq.unwrap_or(0)))
    }

    /// What a tenant's cached `sharedWithMe` pages depend on, in one round trip outside any
    /// transaction: its audit sequence and its share version (see migration m0009).
    pub async fn share_versions(&self, scope: TenantScope) -> Result<(i64, i64), StoreError> {
        let tenant = scope.tenant_id().0;
        let stmt = match self.db.get_database_backend() {
            DbBackend::Postgres => Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT last_seq, share_version FROM grc_share_versions($1)",
                [tenant.into()],
            ),
            backend => Statement::from_sql_and_values(
                backend,
                "SELECT (SELECT last_seq FROM audit_heads WHERE tenant_id = ?) AS last_seq, \
                        (SELECT version FROM share_heads WHERE tenant_id = ?) AS share_version",
                [tenant.into(), tenant.into()],
            ),
        };
        let row = self
            .db
            .query_one_raw(stmt)
            .await?
            .ok_or_else(|| StoreError::Invalid("no share versions".into()))?;
        let seq: Option<i64> = row.try_get("", "last_seq")?;
        let version: Option<i64> = row.try_get("", "share_version")?;
        Ok((seq.unwrap_or(0), version.unwrap_or(0)))
    }

    /// The version of the bundle last loaded (empty before the first sync).
    pub async fn catalog_bundle_version(&self) -> Result<String, StoreError> {
        Ok(state::Entity::find_by_id(1i16)
            .one(&self.db)
            .await?
            .map(|s| s.bundle_version)
            .unwrap_or_default())
    }

    /// Reads the whole shared catalog (retired rows left out) into an index.
    pub async fn load_catalog(&self) -> Result<CatalogIndex, StoreError> {
        let tx = self.db.begin().await?;
        let revision = lock_free_revision(&tx).await?;
        let fws = framework::Entity::find()
            .filter(framework::Column::Retired.eq(false))
            .order_by_asc(framework::Column::Key)
            .all(&tx)
            .await?;
        let mut controls: HashMap<Uuid, Vec<Control>> = HashMap::new();
        for m in control::Entity::find()
            .filter(control::Column::Retired.eq(false))
            .order_by_asc(control::Column::Sort)
            .all(&tx)
            .await?
        {
            let fid = m.framework_id;
            controls.entry(fid).or_default().push(shared_control(m)?);
        }
        let mut frameworks = Vec::with_capacity(fws.len());
        let mut key_of = HashMap::new();
        for m in fws {
            key_of.insert(m.id, m.key.clone());
            frameworks.push(Framework {
                id: m.id,
                groups: groups_from(&m.groups)?,
                controls: controls.remove(&m.id).unwrap_or_default(),
                key: m.key,
                name: m.name,
                version: m.version,
                publisher: m.publisher,
                kind: m.kind,
                licence: m.licence,
                source: m.source,
                notes: m.notes,
            });
        }
        let mut links: HashMap<Uuid, Vec<Link>> = HashMap::new();
        for m in mapping::Entity::find()
            .filter(mapping::Column::Retired.eq(false))
            .all(&tx)
            .await?
        {
            links.entry(m.crosswalk_id).or_default().push(Link {
                id: m.id,
                source: m.source_control_id,
                target: m.target_control_id,
                relationship: parse_relationship(&m.relationship)?,
                via: serde_json::from_str(&m.via)
                    .map_err(|e| StoreError::Invalid(format!("mapping via: {e}")))?,
            });
        }
        let mut crosswalks = Vec::new();
        for m in crosswalk::Entity::find()
            .filter(crosswalk::Column::Retired.eq(false))
            .order_by_asc(crosswalk::Column::Key)
            .all(&tx)
            .await?
        {
            let mut ls = links.remove(&m.id).unwrap_or_default();
            ls.sort_by_key(|l| (l.source, l.target));
            crosswalks.push(Crosswalk {
                id: m.id,
                key: m.key,
                source_framework: key_of
                    .get(&m.source_framework_id)
                    .cloned()
                    .unwrap_or_default(),
                target_framework: key_of
                    .get(&m.target_framework_id)
                    .cloned()
                    .unwrap_or_default(),
                method: Method::parse(&m.method)
                    .ok_or_else(|| StoreError::Invalid(format!("crosswalk method {}", m.method)))?,
                source: m.source,
                retrieved: m.retrieved,
                comprehensive: m.comprehensive,
                links: ls,
            });
        }
        tx.commit().await?;
        Ok(CatalogIndex::new(revision, frameworks, crosswalks))
    }

    /// Adds a shared framework from an OSCAL import (operators only; the API checks).
    pub async fn import_shared_framework(
        &self,
        f: &Framework,
        origin: &ImportOrigin,
    ) -> Result<i64, StoreError> {
        let tx = self.db.begin().await?;
        let st = lock_state(&tx).await?;
        if framework::Entity::find()
            .filter(framework::Column::Key.eq(f.key.as_str()))
            .one(&tx)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "framework key {} is taken",
                f.key
            )));
        }
        framework::Entity::insert(framework_row(f, "oscal", Some(origin)))
            .exec(&tx)
            .await?;
        let controls: Vec<&Control> = f.controls.iter().collect();
        insert_controls(&tx, f.id, &controls).await?;
        let revision = bump(&tx, st, None).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Shared frameworks imported from OSCAL, with the names their documents are known by.
    pub async fn shared_import_names(
        &self,
    ) -> Result<Vec<(Uuid, Option<String>, Option<Uuid>)>, StoreError> {
        Ok(framework::Entity::find()
            .filter(framework::Column::Origin.eq("oscal"))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.import_name, m.import_uuid))
            .collect())
    }
}

async fn lock_free_revision(tx: &DatabaseTransaction) -> Result<i64, StoreError> {
    Ok(state::Entity::find_by_id(1i16)
        .one(tx)
        .await?
        .map(|s| s.revision)
        .unwrap_or(0))
}

/// A tenant's own framework header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFrameworkRecord {
    pub framework: Framework,
    pub origin: String,
    pub import_name: Option<String>,
    pub import_uuid: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An end of a tenant's link: a shared control or one of the tenant's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkEnd {
    Shared(Uuid),
    Custom(Uuid),
}

impl LinkEnd {
    pub fn id(self) -> Uuid {
        match self {
            Self::Shared(u) | Self::Custom(u) => u,
        }
    }
}

/// A link a tenant added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantLinkRecord {
    pub id: Uuid,
    pub source: LinkEnd,
    pub target: LinkEnd,
    pub relationship: Relationship,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A tenant's review of a shared link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub mapping_id: Uuid,
    pub state: MappingState,
    pub note: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// Licensed text a tenant attached to a shared control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlTextRecord {
    pub control_id: Uuid,
    pub text: String,
    pub source: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn end(catalog: Option<Uuid>, custom: Option<Uuid>) -> Result<LinkEnd, StoreError> {
    match (catalog, custom) {
        (Some(c), None) => Ok(LinkEnd::Shared(c)),
        (None, Some(c)) => Ok(LinkEnd::Custom(c)),
        _ => Err(StoreError::Invalid(
            "a link end names exactly one control".into(),
        )),
    }
}

fn link_record(m: tenant_mapping::Model) -> Result<TenantLinkRecord, StoreError> {
    Ok(TenantLinkRecord {
        id: m.id,
        source: end(m.source_catalog_control, m.source_custom_control)?,
        target: end(m.target_catalog_control, m.target_custom_control)?,
        relationship: parse_relationship(&m.relationship)?,
        note: m.note,
        created_by: m.created_by,
        created_at: m.created_at,
    })
}

fn review_record(m: mapping_review::Model) -> Result<ReviewRecord, StoreError> {
    Ok(ReviewRecord {
        mapping_id: m.mapping_id,
        state: MappingState::parse(&m.state)
            .ok_or_else(|| StoreError::Invalid(format!("review state {}", m.state)))?,
        note: m.note,
        reviewed_by: m.reviewed_by,
        reviewed_at: m.reviewed_at,
    })
}

/// A new framework of a tenant's own.
#[derive(Debug, Clone)]
pub struct NewCustomFramework<'a> {
    pub framework: &'a Framework,
    /// `manual` or `oscal`.
    pub origin: &'a str,
    pub import: Option<&'a ImportOrigin>,
}

fn custom_control_row(
    tenant: Uuid,
    framework_id: Uuid,
    c: &Control,
) -> custom_control::ActiveModel {
    custom_control::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(c.id),
        framework_id: Set(framework_id),
        reference: Set(c.reference.clone()),
        title: Set(c.title.clone()),
        kind: Set(c.kind.clone()),
        group_ref: Set(c.group.clone()),
        parent_ref: Set(c.parent.clone()),
        status: Set(c.status.as_str().to_owned()),
        sort: Set(c.sort),
        attributes: Set(attributes(c)),
    }
}

impl TenantTx {
    fn custom_frameworks_query(&self) -> sea_orm::Select<custom_framework::Entity> {
        custom_framework::Entity::find()
            .filter(custom_framework::Column::TenantId.eq(self.tenant_uuid()))
    }

    fn custom_controls_query(&self) -> sea_orm::Select<custom_control::Entity> {
        custom_control::Entity::find()
            .filter(custom_control::Column::TenantId.eq(self.tenant_uuid()))
    }

    fn custom_record(
        &self,
        m: custom_framework::Model,
        controls: Vec<Control>,
    ) -> Result<CustomFrameworkRecord, StoreError> {
        Ok(CustomFrameworkRecord {
            framework: Framework {
                id: m.id,
                key: m.key,
                name: m.name,
                version: m.version,
                publisher: m.publisher,
                kind: m.kind,
                licence: "tenant".into(),
                source: m.source,
                notes: m.notes,
                groups: groups_from(&m.groups)?,
                controls,
            },
            origin: m.origin,
            import_name: m.import_name,
            import_uuid: m.import_uuid,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// The tenant's own frameworks, without their controls.
    pub async fn custom_frameworks(&self) -> Result<Vec<CustomFrameworkRecord>, StoreError> {
        let rows = self
            .custom_frameworks_query()
            .order_by_asc(custom_framework::Column::Key)
            .all(&self.tx)
            .await?;
        rows.into_iter()
            .map(|m| self.custom_record(m, Vec::new()))
            .collect()
    }

    /// The tenant's own frameworks with their controls, in two queries.
    pub async fn custom_frameworks_with_controls(
        &self,
    ) -> Result<Vec<CustomFrameworkRecord>, StoreError> {
        let mut by_framework: HashMap<Uuid, Vec<Control>> = HashMap::new();
        for m in self
            .custom_controls_query()
            .order_by_asc(custom_control::Column::Sort)
            .all(&self.tx)
            .await?
        {
            let fid = m.framework_id;
            by_framework
                .entry(fid)
                .or_default()
                .push(custom_control_from(m)?);
        }
        self.custom_frameworks_query()
            .order_by_asc(custom_framework::Column::Key)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|m| {
                let controls = by_framework.remove(&m.id).unwrap_or_default();
                self.custom_record(m, controls)
            })
            .collect()
    }

    /// One of the tenant's own frameworks, with its controls.
    pub async fn custom_framework(
        &self,
        id: Uuid,
    ) -> Result<Option<CustomFrameworkRecord>, StoreError> {
        let Some(m) = self
            .custom_frameworks_query()
            .filter(custom_framework::Column::Id.eq(id))
            .one(&self.tx)
            .await?
        else {
            return Ok(None);
        };
        let controls = self
            .custom_controls_query()
            .filter(custom_control::Column::FrameworkId.eq(id))
            .order_by_asc(custom_control::Column::Sort)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(custom_control_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.custom_record(m, controls).map(Some)
    }

    /// Adds a framework of the tenant's own with its controls (checked by the caller).
    pub async fn create_custom_framework(
        &mut self,
        new: &NewCustomFramework<'_>,
    ) -> Result<(), StoreError> {
        let f = new.framework;
        let now = Utc::now();
        let tenant = self.tenant_uuid();
        custom_framework::Entity::insert(custom_framework::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(f.id),
            key: Set(f.key.clone()),
            name: Set(f.name.clone()),
            version: Set(f.version.clone()),
            publisher: Set(f.publisher.clone()),
            kind: Set(f.kind.clone()),
            source: Set(f.source.clone()),
            notes: Set(f.notes.clone()),
            groups: Set(groups_json(&f.groups)),
            origin: Set(new.origin.to_owned()),
            import_name: Set(new.import.and_then(|i| i.name.clone())),
            import_uuid: Set(new.import.map(|i| i.uuid)),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&self.tx)
        .await?;
        for chunk in f.controls.chunks(INSERT_CHUNK) {
            custom_control::Entity::insert_many(
                chunk.iter().map(|c| custom_control_row(tenant, f.id, c)),
            )
            .exec(&self.tx)
            .await?;
        }
        self.wrote();
        Ok(())
    }

    /// Renames or re-versions a framework of the tenant's own.
    pub async fn update_custom_framework(
        &mut self,
        id: Uuid,
        name: Option<String>,
        version: Option<String>,
        notes: Option<Option<String>>,
    ) -> Result<(), StoreError> {
        let m = self
            .custom_frameworks_query()
            .filter(custom_framework::Column::Id.eq(id))
            .one(&self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut row: custom_framework::ActiveModel = m.into();
        if let Some(n) = name {
            row.name = Set(n);
        }
        if let Some(v) = version {
            row.version = Set(v);
        }
        if let Some(n) = notes {
            row.notes = Set(n);
        }
        row.updated_at = Set(Utc::now());
        row.update(&self.tx).await?;
        self.wrote();
        Ok(())
    }

    /// Deletes a framework of the tenant's own, its controls and the links that name them.
    pub async fn delete_custom_framework(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let tenant = self.tenant_uuid();
        let controls: Vec<Uuid> = self
            .custom_controls_query()
            .filter(custom_control::Column::FrameworkId.eq(id))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        self.delete_links_naming(&controls).await?;
        custom_control::Entity::delete_many()
            .filter(custom_control::Column::TenantId.eq(tenant))
            .filter(custom_control::Column::FrameworkId.eq(id))
            .exec(&self.tx)
            .await?;
        let res = custom_framework::Entity::delete_many()
            .filter(custom_framework::Column::TenantId.eq(tenant))
            .filter(custom_framework::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(res.rows_affected > 0)
    }

    async fn delete_links_naming(&mut self, controls: &[Uuid]) -> Result<(), StoreError> {
        if controls.is_empty() {
            return Ok(());
        }
        tenant_mapping::Entity::delete_many()
            .filter(tenant_mapping::Column::TenantId.eq(self.tenant_uuid()))
            .filter(
                sea_orm::Condition::any()
                    .add(tenant_mapping::Column::SourceCustomControl.is_in(controls.to_vec()))
                    .add(tenant_mapping::Column::TargetCustomControl.is_in(controls.to_vec())),
            )
            .exec(&self.tx)
            .await?;
        Ok(())
    }

    /// Adds a control to a framework of the tenant's own.
    pub async fn add_custom_control(
        &mut self,
        framework_id: Uuid,
        c: &Control,
    ) -> Result<(), StoreError> {
        let tenant = self.tenant_uuid();
        custom_control::Entity::insert(custom_control_row(tenant, framework_id, c))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Replaces a control of the tenant's own (same id and framework).
    pub async fn update_custom_control(
        &mut self,
        framework_id: Uuid,
        c: &Control,
    ) -> Result<(), StoreError> {
        let tenant = self.tenant_uuid();
        custom_control_row(tenant, framework_id, c)
            .update(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Deletes a control of the tenant's own and the links that name it.
    pub async fn delete_custom_control(&mut self, id: Uuid) -> Result<bool, StoreError> {
        self.delete_links_naming(&[id]).await?;
        let res = custom_control::Entity::delete_many()
            .filter(custom_control::Column::TenantId.eq(self.tenant_uuid()))
            .filter(custom_control::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(res.rows_affected > 0)
    }

    /// The tenant's own links.
    pub async fn tenant_links(&self) -> Result<Vec<TenantLinkRecord>, StoreError> {
        tenant_mapping::Entity::find()
            .filter(tenant_mapping::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(tenant_mapping::Column::Id)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(link_record)
            .collect()
    }

    /// Adds a link of the tenant's own; refuses a second link between the same two controls.
    pub async fn add_tenant_link(
        &mut self,
        source: LinkEnd,
        target: LinkEnd,
        relationship: Relationship,
        note: Option<String>,
        actor: &str,
    ) -> Result<TenantLinkRecord, StoreError> {
        if source == target {
            return Err(StoreError::Invalid(
                "a link joins two different controls".into(),
            ));
        }
        let existing = self.tenant_links().await?;
        if existing.iter().any(|l| {
            (l.source == source && l.target == target) || (l.source == target && l.target == source)
        }) {
            return Err(StoreError::Conflict(
                "the tenant already links these two controls".into(),
            ));
        }
        let split = |e: LinkEnd| match e {
            LinkEnd::Shared(u) => (Some(u), None),
            LinkEnd::Custom(u) => (None, Some(u)),
        };
        let (sc, su) = split(source);
        let (tc, tu) = split(target);
        let rec = TenantLinkRecord {
            id: Uuid::now_v7(),
            source,
            target,
            relationship,
            note,
            created_by: actor.to_owned(),
            created_at: Utc::now(),
        };
        tenant_mapping::Entity::insert(tenant_mapping::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            id: Set(rec.id),
            source_catalog_control: Set(sc),
            source_custom_control: Set(su),
            target_catalog_control: Set(tc),
            target_custom_control: Set(tu),
            relationship: Set(relationship.as_str().to_owned()),
            note: Set(rec.note.clone()),
            created_by: Set(rec.created_by.clone()),
            created_at: Set(rec.created_at),
        })
        .exec(&self.tx)
        .await?;
        self.wrote();
        Ok(rec)
    }

    /// Removes a link of the tenant's own.
    pub async fn remove_tenant_link(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let res = tenant_mapping::Entity::delete_many()
            .filter(tenant_mapping::Column::TenantId.eq(self.tenant_uuid()))
            .filter(tenant_mapping::Column::Id.eq(id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(res.rows_affected > 0)
    }

    /// The tenant's reviews of shared links.
    pub async fn reviews(&self) -> Result<Vec<ReviewRecord>, StoreError> {
        mapping_review::Entity::find()
            .filter(mapping_review::Column::TenantId.eq(self.tenant_uuid()))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(review_record)
            .collect()
    }

    /// Confirms or rejects a shared link for this tenant (replacing an earlier review).
    pub async fn set_review(
        &mut self,
        mapping_id: Uuid,
        state: MappingState,
        note: Option<String>,
        actor: &str,
    ) -> Result<ReviewRecord, StoreError> {
        if state == MappingState::Informative {
            return Err(StoreError::Invalid("a review confirms or rejects".into()));
        }
        let rec = ReviewRecord {
            mapping_id,
            state,
            note,
            reviewed_by: actor.to_owned(),
            reviewed_at: Utc::now(),
        };
        let row = mapping_review::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            mapping_id: Set(mapping_id),
            state: Set(state.as_str().to_owned()),
            note: Set(rec.note.clone()),
            reviewed_by: Set(rec.reviewed_by.clone()),
            reviewed_at: Set(rec.reviewed_at),
        };
        mapping_review::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    mapping_review::Column::TenantId,
                    mapping_review::Column::MappingId,
                ])
                .update_columns([
                    mapping_review::Column::State,
                    mapping_review::Column::Note,
                    mapping_review::Column::ReviewedBy,
                    mapping_review::Column::ReviewedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(rec)
    }

    /// Removes the tenant's review of a shared link (back to the link's default state).
    pub async fn clear_review(&mut self, mapping_id: Uuid) -> Result<bool, StoreError> {
        let res = mapping_review::Entity::delete_many()
            .filter(mapping_review::Column::TenantId.eq(self.tenant_uuid()))
            .filter(mapping_review::Column::MappingId.eq(mapping_id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(res.rows_affected > 0)
    }

    /// All the licensed text the tenant attached to shared controls.
    pub async fn control_texts(&self) -> Result<Vec<ControlTextRecord>, StoreError> {
        Ok(control_text::Entity::find()
            .filter(control_text::Column::TenantId.eq(self.tenant_uuid()))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|m| ControlTextRecord {
                control_id: m.control_id,
                text: m.text,
                source: m.source,
                updated_by: m.updated_by,
                updated_at: m.updated_at,
            })
            .collect())
    }

    /// Attaches (or replaces) licensed text on a shared control, for this tenant only.
    pub async fn set_control_text(
        &mut self,
        control_id: Uuid,
        text: String,
        source: Option<String>,
        actor: &str,
    ) -> Result<ControlTextRecord, StoreError> {
        let rec = ControlTextRecord {
            control_id,
            text,
            source,
            updated_by: actor.to_owned(),
            updated_at: Utc::now(),
        };
        let row = control_text::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            control_id: Set(control_id),
            text: Set(rec.text.clone()),
            source: Set(rec.source.clone()),
            updated_by: Set(rec.updated_by.clone()),
            updated_at: Set(rec.updated_at),
        };
        control_text::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    control_text::Column::TenantId,
                    control_text::Column::ControlId,
                ])
                .update_columns([
                    control_text::Column::Text,
                    control_text::Column::Source,
                    control_text::Column::UpdatedBy,
                    control_text::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        self.wrote();
        Ok(rec)
    }

    /// Removes the tenant's text from a shared control.
    pub async fn clear_control_text(&mut self, control_id: Uuid) -> Result<bool, StoreError> {
        let res = control_text::Entity::delete_many()
            .filter(control_text::Column::TenantId.eq(self.tenant_uuid()))
            .filter(control_text::Column::ControlId.eq(control_id))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(res.rows_affected > 0)
    }
}
