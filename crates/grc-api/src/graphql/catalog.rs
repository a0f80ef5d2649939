//! Catalogs over GraphQL: frameworks, controls (a connection with filters), links with their
//! provenance and the tenant's state, chains with their path, crosswalks (also as OSCAL), and the
//! mutations for a tenant's own frameworks, links, reviews, licensed text and OSCAL imports.

use super::common::{checked_text, invalid, not_found, optional_text, settle};
use super::connection::{ConnectionFields, DEFAULT_PAGE, MAX_PAGE};
use super::ids::{Kind, cursor, decode, decode_cursor, encode};
use super::{Authorized, auth, authorize, store};
use crate::auth::Principal;
use crate::catalog::{
    CatalogCache, CatalogView, FrameworkRef, ImportError, ImportRequest, import_for_tenant,
    import_shared, oscal_method,
};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use grc_catalog::graph::{Hop, LinkRef, MAX_HOPS, MappingPath as Path};
use grc_catalog::model::ControlStatus as Status;
use grc_catalog::oscal::{ExportHeader, ExportLink};
use grc_catalog::{Control as CatControl, MappingState as State};
use grc_domain::DomainError;
use grc_domain::authz::Operation;
use grc_store::{LinkEnd, NewCustomFramework, TenantTx};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// The OSCAL control-mapping relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_catalog::Relationship")]
pub enum Relationship {
    EquivalentTo,
    EqualTo,
    SubsetOf,
    SupersetOf,
    IntersectsWith,
}

/// How a link came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_catalog::Method")]
pub enum MappingMethod {
    /// Published by the source's author (NIST OLIR).
    Published,
    /// Composed from published links; see `via`.
    Derived,
    /// Added by this tenant.
    Tenant,
}

/// A link's standing for the current tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_catalog::MappingState")]
pub enum MappingState {
    /// Reference only; not coverage until confirmed.
    Informative,
    Confirmed,
    Rejected,
}

/// Whether a control is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_catalog::model::ControlStatus")]
pub enum ControlStatus {
    Active,
    Withdrawn,
}

/// HIPAA implementation specifications: Required or Addressable (45 CFR 164.306(d)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_catalog::model::Requirement")]
pub enum Requirement {
    Required,
    Addressable,
}

pub(crate) async fn view(ctx: &Context<'_>, az: &Authorized) -> Result<Arc<CatalogView>> {
    let cache = ctx
        .data_opt::<Arc<CatalogCache>>()
        .ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))?;
    let v = cache
        .read_view(store(ctx), az.scope)
        .await
        .map_err(StoreErrorExt)?;
    Ok(Arc::new(v))
}

/// A framework id argument: a global id or a framework key.
fn framework_arg(v: &CatalogView, arg: &str) -> Option<Uuid> {
    match decode(arg) {
        Some(g) if g.kind == Kind::Framework => v.framework(g.id).map(|f| f.framework().id),
        Some(_) => None,
        None => v.framework_by_key(arg).map(|f| f.framework().id),
    }
}

/// A framework: shared (ISO, HIPAA, NIST, an operator's import) or the tenant's own.
#[derive(Clone)]
pub struct Framework {
    pub(crate) view: Arc<CatalogView>,
    pub(crate) id: Uuid,
}

impl std::fmt::Debug for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framework").field("id", &self.id).finish()
    }
}

impl Framework {
    fn get(&self) -> Result<FrameworkRef<'_>> {
        self.view
            .framework(self.id)
            .ok_or_else(|| gql_error(ErrorCode::NotFound, "framework not found"))
    }
}

/// A group of controls: a theme, domain, family, section or function.
#[derive(Debug, SimpleObject)]
pub struct ControlGroup {
    #[graphql(name = "ref")]
    pub reference: String,
    pub title: String,
    pub kind: String,
    pub parent_ref: Option<String>,
}

impl From<&grc_catalog::Group> for ControlGroup {
    fn from(g: &grc_catalog::Group) -> Self {
        Self {
            reference: g.reference.clone(),
            title: g.title.clone(),
            kind: g.kind.clone(),
            parent_ref: g.parent.clone(),
        }
    }
}

/// Filters on a framework's controls; all given filters must match.
#[derive(Debug, Default, InputObject)]
pub struct ControlFilter {
    /// In this group or any group inside it (a theme, family, section).
    pub group: Option<String>,
    /// Case-insensitive text in the ref, title or aliases.
    pub text: Option<String>,
    /// Carries this tag (e.g. `new-in-2022`, `controller`, `processor`, `amd1-2024`).
    pub tag: Option<String>,
    /// Of this kind (`control`, `clause`, `standard`, `implementation-specification`, ...).
    pub kind: Option<String>,
    pub status: Option<ControlStatus>,
    pub requirement: Option<Requirement>,
    /// In this SP 800-53 baseline (`low`, `moderate`, `high`, `privacy`).
    pub baseline: Option<String>,
    /// Only controls without a parent (no enhancements or implementation specifications).
    pub top_level: Option<bool>,
    /// Only controls whose identifier is confirmed against the source (false: unconfirmed only).
    pub confirmed: Option<bool>,
}

fn in_group(f: &grc_catalog::Framework, control_group: Option<&str>, wanted: &str) -> bool {
    let mut cur = control_group;
    let mut steps = 0;
    while let Some(g) = cur {
        if g == wanted {
            return true;
        }
        steps += 1;
        if steps > f.groups.len() {
            return false;
        }
        cur = f
            .groups
            .iter()
            .find(|x| x.reference == g)
            .and_then(|x| x.parent.as_deref());
    }
    false
}

fn matches(
    f: &grc_catalog::Framework,
    c: &CatControl,
    filter: &ControlFilter,
    needle: Option<&str>,
) -> bool {
    filter
        .group
        .as_deref()
        .is_none_or(|g| in_group(f, c.group.as_deref(), g))
        && needle.is_none_or(|n| c.matches_text(n))
        && filter
            .tag
            .as_deref()
            .is_none_or(|t| c.tags.iter().any(|x| x == t))
        && filter.kind.as_deref().is_none_or(|k| c.kind == k)
        && filter.status.is_none_or(|s| Status::from(s) == c.status)
        && filter
            .requirement
            .is_none_or(|r| c.requirement == Some(r.into()))
        && filter
            .baseline
            .as_deref()
            .is_none_or(|b| c.baselines.iter().any(|x| x == b))
        && filter.top_level.is_none_or(|t| t == c.parent.is_none())
        && filter.confirmed.is_none_or(|x| x == c.confirmed)
}

#[Object]
impl Framework {
    pub async fn id(&self) -> ID {
        encode(Kind::Framework, self.id)
    }
    /// Stable key, e.g. `iso27001-2022`, `hipaa-sr`, `nist-sp800-53r5`.
    async fn key(&self) -> Result<String> {
        Ok(self.get()?.framework().key.clone())
    }
    async fn name(&self) -> Result<String> {
        Ok(self.get()?.framework().name.clone())
    }
    /// The content version of the catalog.
    async fn version(&self) -> Result<String> {
        Ok(self.get()?.framework().version.clone())
    }
    async fn publisher(&self) -> Result<String> {
        Ok(self.get()?.framework().publisher.clone())
    }
    /// `standard`, `regulation`, `control-catalog`, `framework`, `profile`, `custom`.
    async fn kind(&self) -> Result<String> {
        Ok(self.get()?.framework().kind.clone())
    }
    /// `identifiers-only` (ISO: identifiers and our own short titles, no ISO text),
    /// `public-domain`, `imported`, `tenant`.
    async fn licence(&self) -> Result<String> {
        Ok(self.get()?.framework().licence.clone())
    }
    /// Where the identifiers come from, and how they were checked.
    async fn source(&self) -> Result<String> {
        Ok(self.get()?.framework().source.clone())
    }
    async fn notes(&self) -> Result<Option<String>> {
        Ok(self.get()?.framework().notes.clone())
    }
    /// Whether this is the tenant's own framework.
    async fn custom(&self) -> Result<bool> {
        Ok(self.get()?.is_custom())
    }
    async fn groups(&self) -> Result<Vec<ControlGroup>> {
        Ok(self
            .get()?
            .framework()
            .groups
            .iter()
            .map(Into::into)
            .collect())
    }
    async fn control_count(&self) -> Result<i32> {
        Ok(i32::try_from(self.get()?.framework().controls.len()).unwrap_or(i32::MAX))
    }
    /// One control by its ref (or one of its aliases).
    async fn control(&self, #[graphql(name = "ref")] reference: String) -> Result<Option<Control>> {
        let f = self.get()?.framework();
        Ok(f.controls
            .iter()
            .find(|c| c.reference == reference || c.aliases.contains(&reference))
            .map(|c| Control {
                view: self.view.clone(),
                id: c.id,
            }))
    }
    /// The framework's controls in the framework's own order.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    async fn controls(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ControlFilter>,
    ) -> Result<Connection<String, Control, ConnectionFields>> {
        let f = self.get()?.framework();
        let filter = filter.unwrap_or_default();
        if filter.text.as_deref().is_some_and(|t| t.len() > 200) {
            return Err(gql_error(
                ErrorCode::BadUserInput,
                "text is at most 200 characters",
            ));
        }
        let needle = filter.text.as_deref().map(str::to_lowercase);
        let all: Vec<&CatControl> = f
            .controls
            .iter()
            .filter(|c| matches(f, c, &filter, needle.as_deref()))
            .collect();
        let position = |c: &str, name: &str| -> Result<usize> {
            decode_cursor(c)
                .and_then(|r| all.iter().position(|x| x.reference == r))
                .ok_or_else(|| {
                    gql_error(
                        ErrorCode::BadUserInput,
                        format!("{name} is not a cursor of this connection"),
                    )
                })
        };
        let size = |n: i32, name: &str| -> Result<usize> {
            if (0..=MAX_PAGE).contains(&n) {
                Ok(usize::try_from(n).unwrap_or(0))
            } else {
                Err(gql_error(
                    ErrorCode::BadUserInput,
                    format!("{name} must be between 0 and {MAX_PAGE}"),
                ))
            }
        };
        if (first.is_some() && before.is_some()) || (last.is_some() && after.is_some()) {
            return Err(gql_error(
                ErrorCode::BadUserInput,
                "after goes with first; before goes with last",
            ));
        }
        let (start, end) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(gql_error(
                    ErrorCode::BadUserInput,
                    "give first or last, not both",
                ));
            }
            (None, Some(n)) => {
                let end = before
                    .as_deref()
                    .map(|c| position(c, "before"))
                    .transpose()?
                    .unwrap_or(all.len());
                (end.saturating_sub(size(n, "last")?), end)
            }
            (n, None) => {
                let start = after
                    .as_deref()
                    .map(|c| position(c, "after").map(|p| p + 1))
                    .transpose()?
                    .unwrap_or(0);
                (
                    start,
                    (start + size(n.unwrap_or(DEFAULT_PAGE), "first")?).min(all.len()),
                )
            }
        };
        let mut conn = Connection::with_additional_fields(
            start > 0,
            end < all.len(),
            ConnectionFields {
                total_count: all.len() as u64,
            },
        );
        conn.edges
            .extend(all[start..end.max(start)].iter().map(|c| {
                Edge::new(
                    cursor(&c.reference),
                    Control {
                        view: self.view.clone(),
                        id: c.id,
                    },
                )
            }));
        Ok(conn)
    }
}

/// A control, clause, standard, implementation specification, enhancement or subcategory.
#[derive(Clone)]
pub struct Control {
    pub(crate) view: Arc<CatalogView>,
    pub(crate) id: Uuid,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").field("id", &self.id).finish()
    }
}

impl Control {
    fn get(&self) -> Result<(FrameworkRef<'_>, &CatControl)> {
        self.view
            .control(self.id)
            .ok_or_else(|| gql_error(ErrorCode::NotFound, "control not found"))
    }
}

/// Licensed text a tenant attached to a shared control (visible to that tenant only).
#[derive(Debug, SimpleObject)]
pub struct LicensedText {
    pub text: String,
    pub source: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[Object]
impl Control {
    pub async fn id(&self) -> ID {
        encode(Kind::Control, self.id)
    }
    /// The identifier within its framework (`A.5.7`, `164.308(a)(1)(ii)(A)`, `AC-2(1)`).
    #[graphql(name = "ref")]
    async fn reference(&self) -> Result<String> {
        Ok(self.get()?.1.reference.clone())
    }
    /// Our own short title (for ISO: never the standard's text).
    async fn title(&self) -> Result<String> {
        Ok(self.get()?.1.title.clone())
    }
    async fn kind(&self) -> Result<String> {
        Ok(self.get()?.1.kind.clone())
    }
    async fn framework(&self) -> Result<Framework> {
        Ok(Framework {
            view: self.view.clone(),
            id: self.get()?.0.framework().id,
        })
    }
    async fn group(&self) -> Result<Option<ControlGroup>> {
        let (f, c) = self.get()?;
        Ok(c.group.as_ref().and_then(|g| {
            f.framework()
                .groups
                .iter()
                .find(|x| &x.reference == g)
                .map(Into::into)
        }))
    }
    async fn parent(&self) -> Result<Option<Control>> {
        let (f, c) = self.get()?;
        Ok(c.parent.as_ref().and_then(|p| {
            f.framework().control(p).map(|pc| Control {
                view: self.view.clone(),
                id: pc.id,
            })
        }))
    }
    /// Sub-clauses, enhancements or implementation specifications.
    async fn children(&self) -> Result<Vec<Control>> {
        let (f, c) = self.get()?;
        Ok(f.framework()
            .controls
            .iter()
            .filter(|x| x.parent.as_deref() == Some(c.reference.as_str()))
            .map(|x| Control {
                view: self.view.clone(),
                id: x.id,
            })
            .collect())
    }
    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self.get()?.1.tags.clone())
    }
    async fn status(&self) -> Result<ControlStatus> {
        Ok(self.get()?.1.status.into())
    }
    /// HIPAA: Required or Addressable (implementation specifications only).
    async fn requirement(&self) -> Result<Option<Requirement>> {
        Ok(self.get()?.1.requirement.map(Into::into))
    }
    /// The legal citation (HIPAA: `45 CFR 164.308(a)(1)(ii)(A)`).
    async fn citation(&self) -> Result<Option<String>> {
        Ok(self.get()?.1.citation.clone())
    }
    /// ISO clauses: whether the clause requires documented information.
    async fn documented_information(&self) -> Result<bool> {
        Ok(self.get()?.1.documented_information)
    }
    /// SP 800-53: the baselines the control is in.
    async fn baselines(&self) -> Result<Vec<String>> {
        Ok(self.get()?.1.baselines.clone())
    }
    /// Other labels sources use for this control.
    async fn aliases(&self) -> Result<Vec<String>> {
        Ok(self.get()?.1.aliases.clone())
    }
    /// False when the identifier is inferred and not yet confirmed against the source.
    async fn confirmed(&self) -> Result<bool> {
        Ok(self.get()?.1.confirmed)
    }
    async fn note(&self) -> Result<Option<String>> {
        Ok(self.get()?.1.note.clone())
    }
    /// Control text that may be shown to everyone (public-domain or the tenant's own).
    async fn text(&self) -> Result<Option<String>> {
        Ok(self.get()?.1.text.clone())
    }
    /// The tenant's licensed text for this control, if it attached any.
    async fn licensed_text(&self) -> Option<LicensedText> {
        self.view.texts.get(&self.id).map(|t| LicensedText {
            text: t.text.clone(),
            source: t.source.clone(),
            updated_at: t.updated_at,
        })
    }
    /// Links from this control, direct (`maxHops: 1`) or through other frameworks (up to 3),
    /// each with its path; rejected links are left out unless asked for.
    #[graphql(complexity = "10 * child_complexity")]
    async fn mappings(
        &self,
        to_framework: Option<String>,
        #[graphql(default = 1)] max_hops: i32,
        #[graphql(default = false)] include_rejected: bool,
    ) -> Result<Vec<MappingPath>> {
        self.get()?;
        let hops = hops_arg(max_hops)?;
        let target =
            match to_framework {
                Some(t) => Some(framework_arg(&self.view, &t).ok_or_else(|| {
                    gql_error(ErrorCode::NotFound, "toFramework is not a framework")
                })?),
                None => None,
            };
        let paths =
            self.view
                .index
                .paths_from(self.id, target, hops, include_rejected, &self.view.overlay);
        Ok(paths
            .into_iter()
            .map(|p| MappingPath {
                view: self.view.clone(),
                path: p,
            })
            .collect())
    }
}

fn hops_arg(max_hops: i32) -> Result<usize> {
    hops_arg_up_to(max_hops, MAX_HOPS)
}

/// A whole framework's crosswalk walks at most this many links per path (three would touch
/// millions of paths from SP 800-53's 1,196 controls).
const MAX_CROSSWALK_HOPS: usize = 2;
/// The most paths one crosswalk answer carries.
const MAX_CROSSWALK_PATHS: usize = 20_000;

fn hops_arg_up_to(max_hops: i32, limit: usize) -> Result<usize> {
    let max = i32::try_from(limit).unwrap_or(3);
    if (1..=max).contains(&max_hops) {
        Ok(usize::try_from(max_hops).unwrap_or(1))
    } else {
        Err(gql_error(
            ErrorCode::BadUserInput,
            format!("maxHops must be between 1 and {max}"),
        ))
    }
}

/// Where a link comes from.
#[derive(Debug, SimpleObject)]
pub struct Provenance {
    /// The crosswalk's key (null for the tenant's own links).
    pub crosswalk: Option<String>,
    /// Who published it, which document and version.
    pub source: String,
    pub retrieved: Option<String>,
    /// Whether the publisher calls the crosswalk comprehensive.
    pub comprehensive: bool,
}

/// A tenant's review of a shared link.
#[derive(Debug, SimpleObject)]
pub struct MappingReview {
    pub state: MappingState,
    pub note: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// A link between two controls.
#[derive(Clone)]
pub struct Mapping {
    pub(crate) view: Arc<CatalogView>,
    pub(crate) link: LinkRef,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("link", &self.link).finish()
    }
}

impl Mapping {
    fn link(&self) -> Result<&grc_catalog::Link> {
        self.view
            .index
            .link_of(self.link, &self.view.overlay)
            .ok_or_else(|| gql_error(ErrorCode::NotFound, "mapping not found"))
    }

    /// Finds a link (shared or the tenant's own) by id.
    pub(crate) fn find(view: &Arc<CatalogView>, id: Uuid) -> Option<Self> {
        let link = match view.index.link_ref(id) {
            Some(r) => r,
            None => LinkRef::Tenant(view.tenant_link(id)?.0),
        };
        Some(Self {
            view: view.clone(),
            link,
        })
    }

    fn control(&self, id: Uuid) -> Control {
        Control {
            view: self.view.clone(),
            id,
        }
    }
}

#[Object]
impl Mapping {
    pub async fn id(&self) -> ID {
        encode(Kind::Mapping, self.link().map(|l| l.id).unwrap_or_default())
    }
    async fn source(&self) -> Result<Control> {
        Ok(self.control(self.link()?.source))
    }
    async fn target(&self) -> Result<Control> {
        Ok(self.control(self.link()?.target))
    }
    async fn relationship(&self) -> Result<Relationship> {
        Ok(self.link()?.relationship.into())
    }
    async fn method(&self) -> MappingMethod {
        self.view.index.method_of(self.link).into()
    }
    /// The link's standing for the current tenant (its review, or the default).
    async fn state(&self) -> MappingState {
        self.view
            .index
            .state_of(self.link, &self.view.overlay)
            .into()
    }
    /// The standing before any review: informative for shared links, confirmed for the
    /// tenant's own.
    async fn default_state(&self) -> MappingState {
        match self.link {
            LinkRef::Shared { .. } => MappingState::Informative,
            LinkRef::Tenant(_) => MappingState::Confirmed,
        }
    }
    /// For derived links: the intermediate controls that produced the link.
    async fn via(&self) -> Result<Vec<Control>> {
        Ok(self.link()?.via.iter().map(|v| self.control(*v)).collect())
    }
    async fn provenance(&self) -> Result<Provenance> {
        Ok(match self.link {
            LinkRef::Shared { crosswalk, .. } => {
                let w = &self.view.index.crosswalks()[crosswalk];
                Provenance {
                    crosswalk: Some(w.key.clone()),
                    source: w.source.clone(),
                    retrieved: w.retrieved.clone(),
                    comprehensive: w.comprehensive,
                }
            }
            LinkRef::Tenant(i) => {
                let l = self
                    .view
                    .links
                    .get(i)
                    .ok_or_else(|| gql_error(ErrorCode::NotFound, "mapping not found"))?;
                Provenance {
                    crosswalk: None,
                    source: format!("added by {} on {}", l.created_by, l.created_at.date_naive()),
                    retrieved: None,
                    comprehensive: false,
                }
            }
        })
    }
    /// The tenant's review of this shared link, if any.
    async fn review(&self) -> Result<Option<MappingReview>> {
        let id = self.link()?.id;
        Ok(self.view.reviews.get(&id).map(|r| MappingReview {
            state: r.state.into(),
            note: r.note.clone(),
            reviewed_by: r.reviewed_by.clone(),
            reviewed_at: r.reviewed_at,
        }))
    }
    /// The tenant's note on its own link.
    async fn note(&self) -> Option<String> {
        match self.link {
            LinkRef::Tenant(i) => self.view.links.get(i).and_then(|l| l.note.clone()),
            LinkRef::Shared { .. } => None,
        }
    }
}

/// One step of a path.
#[derive(Clone)]
pub struct MappingHop {
    view: Arc<CatalogView>,
    hop: Hop,
}

impl std::fmt::Debug for MappingHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappingHop")
            .field("hop", &self.hop)
            .finish()
    }
}

#[Object]
impl MappingHop {
    async fn mapping(&self) -> Mapping {
        Mapping {
            view: self.view.clone(),
            link: self.hop.link,
        }
    }
    /// Whether the link is read from its target to its source on this path.
    async fn reversed(&self) -> bool {
        self.hop.reversed
    }
}

/// A way from one control to another: one link, or a chain through other frameworks.
#[derive(Clone)]
pub struct MappingPath {
    view: Arc<CatalogView>,
    path: Path,
}

impl std::fmt::Debug for MappingPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappingPath")
            .field("source", &self.path.source)
            .field("target", &self.path.target)
            .finish()
    }
}

#[Object]
impl MappingPath {
    async fn source(&self) -> Control {
        Control {
            view: self.view.clone(),
            id: self.path.source,
        }
    }
    async fn target(&self) -> Control {
        Control {
            view: self.view.clone(),
            id: self.path.target,
        }
    }
    /// The relationship along the whole path (a chain keeps only what set theory guarantees).
    async fn relationship(&self) -> Relationship {
        self.path.relationship.into()
    }
    /// Confirmed when every link is confirmed, rejected when any is, else informative.
    async fn state(&self) -> MappingState {
        self.path.state.into()
    }
    /// How many links the path takes.
    async fn length(&self) -> i32 {
        i32::try_from(self.path.hops.len()).unwrap_or(i32::MAX)
    }
    /// The links, in order from source to target.
    async fn hops(&self) -> Vec<MappingHop> {
        self.path
            .hops
            .iter()
            .map(|h| MappingHop {
                view: self.view.clone(),
                hop: *h,
            })
            .collect()
    }
    /// The controls the path passes through (for a derived link: the controls that produced it).
    async fn through(&self) -> Vec<Control> {
        let mut out = Vec::new();
        for h in &self.path.hops {
            let l = self.view.index.link_of(h.link, &self.view.overlay);
            let Some(l) = l else { continue };
            if l.via.len() == 1 || (!l.via.is_empty() && self.path.hops.len() == 1) {
                out.extend(l.via.iter().map(|v| Control {
                    view: self.view.clone(),
                    id: *v,
                }));
            }
            let (at, _) = l.read(h.reversed);
            if at != self.path.target {
                out.push(Control {
                    view: self.view.clone(),
                    id: at,
                });
            }
        }
        out
    }
}

/// Every path from one framework's controls to another's.
#[derive(Clone)]
pub struct Crosswalk {
    view: Arc<CatalogView>,
    from: Uuid,
    to: Uuid,
    paths: Arc<Vec<Path>>,
    sources: Arc<Vec<Uuid>>,
}

impl std::fmt::Debug for Crosswalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crosswalk")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

#[Object]
impl Crosswalk {
    async fn from(&self) -> Framework {
        Framework {
            view: self.view.clone(),
            id: self.from,
        }
    }
    async fn to(&self) -> Framework {
        Framework {
            view: self.view.clone(),
            id: self.to,
        }
    }
    /// How many paths the crosswalk holds.
    async fn count(&self) -> i32 {
        i32::try_from(self.paths.len()).unwrap_or(i32::MAX)
    }
    /// The paths, grouped by source control in the source framework's order.
    #[graphql(complexity = "10 * child_complexity")]
    async fn entries(&self) -> Vec<MappingPath> {
        self.paths
            .iter()
            .map(|p| MappingPath {
                view: self.view.clone(),
                path: p.clone(),
            })
            .collect()
    }
    /// Source controls with no path to the target framework.
    #[graphql(complexity = "10 * child_complexity")]
    async fn unmapped(&self) -> Vec<Control> {
        let mapped: HashSet<Uuid> = self.paths.iter().map(|p| p.source).collect();
        self.sources
            .iter()
            .filter(|s| !mapped.contains(s))
            .map(|s| Control {
                view: self.view.clone(),
                id: *s,
            })
            .collect()
    }
}

/// Catalog queries.
#[derive(Debug, Default)]
pub struct CatalogQuery;

fn compute_crosswalk(
    v: &Arc<CatalogView>,
    from: &str,
    to: &str,
    max_hops: i32,
    include_rejected: bool,
    group: Option<&str>,
) -> Result<Crosswalk> {
    let hops = hops_arg_up_to(max_hops, MAX_CROSSWALK_HOPS)?;
    let from_id = framework_arg(v, from)
        .ok_or_else(|| gql_error(ErrorCode::NotFound, "from is not a framework"))?;
    let to_id = framework_arg(v, to)
        .ok_or_else(|| gql_error(ErrorCode::NotFound, "to is not a framework"))?;
    if from_id == to_id {
        return Err(gql_error(
            ErrorCode::BadUserInput,
            "from and to must be different frameworks",
        ));
    }
    let f = v
        .framework(from_id)
        .ok_or_else(|| gql_error(ErrorCode::NotFound, "from is not a framework"))?
        .framework();
    let sources: Vec<Uuid> = f
        .controls
        .iter()
        .filter(|c| group.is_none_or(|g| in_group(f, c.group.as_deref(), g)))
        .map(|c| c.id)
        .collect();
    let paths = v
        .index
        .crosswalk(&sources, to_id, hops, include_rejected, &v.overlay);
    if paths.len() > MAX_CROSSWALK_PATHS {
        return Err(gql_error(
            ErrorCode::BadUserInput,
            format!(
                "the crosswalk has {} paths, more than {MAX_CROSSWALK_PATHS}: narrow it with group or maxHops: 1",
                paths.len()
            ),
        ));
    }
    Ok(Crosswalk {
        view: v.clone(),
        from: from_id,
        to: to_id,
        paths: Arc::new(paths),
        sources: Arc::new(sources),
    })
}

#[Object]
impl CatalogQuery {
    /// Every framework: the shared catalogs, then the tenant's own.
    async fn frameworks(&self, ctx: &Context<'_>) -> Result<Vec<Framework>> {
        let az = authorize(ctx, Operation::ReadCatalog)?;
        let v = view(ctx, &az).await?;
        Ok(v.frameworks()
            .into_iter()
            .map(|f| Framework {
                view: v.clone(),
                id: f.framework().id,
            })
            .collect())
    }

    /// One framework, by global id or key.
    async fn framework(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        key: Option<String>,
    ) -> Result<Option<Framework>> {
        let az = authorize(ctx, Operation::ReadCatalog)?;
        let v = view(ctx, &az).await?;
        let found = match (id, key) {
            (Some(id), None) => decode(&id)
                .filter(|g| g.kind == Kind::Framework)
                .and_then(|g| v.framework(g.id)),
            (None, Some(k)) => v.framework_by_key(&k),
            _ => return Err(gql_error(ErrorCode::BadUserInput, "give id or key")),
        };
        let id = found.map(|f| f.framework().id);
        Ok(id.map(|id| Framework { view: v, id }))
    }

    /// One control by global id.
    async fn control(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Control>> {
        let az = authorize(ctx, Operation::ReadCatalog)?;
        let v = view(ctx, &az).await?;
        let Some(g) = decode(&id).filter(|g| g.kind == Kind::Control) else {
            return Ok(None);
        };
        Ok(v.control(g.id).is_some().then(|| Control {
            view: v.clone(),
            id: g.id,
        }))
    }

    /// Every path from `from`'s controls to `to`'s (frameworks by global id or key): direct
    /// links with `maxHops: 1`, chains through another framework with 2, each with
    /// the path that produced it and the tenant's state. `group` limits the source controls.
    #[graphql(complexity = "10 + child_complexity")]
    async fn crosswalk(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default = 1)] max_hops: i32,
        #[graphql(default = false)] include_rejected: bool,
        group: Option<String>,
    ) -> Result<Crosswalk> {
        let az = authorize(ctx, Operation::ReadCatalog)?;
        let v = view(ctx, &az).await?;
        compute_crosswalk(&v, &from, &to, max_hops, include_rejected, group.as_deref())
    }

    /// A crosswalk as an OSCAL 1.2 mapping-collection (JSON text). Paths longer than one link
    /// are exported as single maps from source to target with the path in `remarks`.
    async fn crosswalk_oscal(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default = 1)] max_hops: i32,
        #[graphql(default = false)] include_rejected: bool,
    ) -> Result<String> {
        let az = authorize(ctx, Operation::ReadCatalog)?;
        let v = view(ctx, &az).await?;
        let cw = compute_crosswalk(&v, &from, &to, max_hops, include_rejected, None)?;
        export_oscal(&v, &cw)
    }
}

fn export_oscal(v: &Arc<CatalogView>, cw: &Crosswalk) -> Result<String> {
    let name = |id: Uuid| {
        v.control(id)
            .map(|(_, c)| c.reference.clone())
            .unwrap_or_default()
    };
    let fw = |id: Uuid| v.framework(id).map(|f| f.framework().clone());
    let (Some(from), Some(to)) = (fw(cw.from), fw(cw.to)) else {
        return Err(gql_error(ErrorCode::NotFound, "framework not found"));
    };
    let mut seen = HashSet::new();
    let mut refs: Vec<(
        Uuid,
        String,
        String,
        grc_catalog::Relationship,
        Option<String>,
    )> = Vec::new();
    for p in cw.paths.iter() {
        if !seen.insert((p.source, p.target)) {
            continue;
        }
        let id = match (p.hops.as_slice(), p.hops.first()) {
            ([only], _) => v.index.link_of(only.link, &v.overlay).map(|l| l.id),
            _ => None,
        }
        .unwrap_or_else(|| {
            Uuid::new_v5(
                &grc_catalog::model::ID_NAMESPACE,
                format!("path\u{1f}{}\u{1f}{}", p.source, p.target).as_bytes(),
            )
        });
        let remarks = (p.hops.len() > 1).then(|| {
            let mut through = Vec::new();
            for h in &p.hops {
                let l = v.index.link_of(h.link, &v.overlay);
                if let Some(l) = l {
                    let (at, _) = l.read(h.reversed);
                    if at != p.target {
                        through.push(name(at));
                    }
                }
            }
            format!("chain through {}", through.join(", "))
        });
        refs.push((id, name(p.source), name(p.target), p.relationship, remarks));
    }
    let links: Vec<ExportLink<'_>> = refs
        .iter()
        .map(|(id, s, t, r, remarks)| ExportLink {
            id: *id,
            source: s,
            target: t,
            relationship: *r,
            remarks: remarks.clone(),
        })
        .collect();
    let methods = cw
        .paths
        .iter()
        .flat_map(|p| p.hops.iter().map(|h| v.index.method_of(h.link)));
    let header = ExportHeader {
        title: format!("{} to {}", from.name, to.name),
        version: &v.index.revision.to_string(),
        description: format!(
            "Links from {} ({}) to {} ({}) as the tenant sees them: published links, links derived by composing published ones (informative until reviewed), and the tenant's own.",
            from.name, from.version, to.name, to.version
        ),
        source_href: from.key.clone(),
        target_href: to.key.clone(),
        method: oscal_method(methods),
        last_modified: Utc::now(),
    };
    serde_json::to_string_pretty(&grc_catalog::oscal::export_mappings(&header, &links))
        .map_err(|_| gql_error(ErrorCode::Internal, "internal error"))
}

/// Resolves a node of a catalog kind for the current tenant.
pub(crate) async fn resolve_node(
    ctx: &Context<'_>,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    if auth(ctx)?.tenant.is_none() {
        return Ok(None);
    }
    let az = authorize(ctx, Operation::ReadCatalog)?;
    let v = view(ctx, &az).await?;
    Ok(match kind {
        Kind::Framework => v.framework(id).is_some().then(|| {
            Node::Framework(Framework {
                view: v.clone(),
                id,
            })
        }),
        Kind::Control => v.control(id).is_some().then(|| {
            Node::Control(Control {
                view: v.clone(),
                id,
            })
        }),
        Kind::Mapping => Mapping::find(&v, id).map(Node::Mapping),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, InputObject)]
pub struct ReviewMappingInput {
    /// A shared link's id (published or derived).
    pub mapping_id: ID,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ClearMappingReviewInput {
    pub mapping_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct MappingPayload {
    pub mapping: Option<Mapping>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddMappingInput {
    pub source_control_id: ID,
    pub target_control_id: ID,
    pub relationship: Relationship,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct RemoveMappingInput {
    pub mapping_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct RemoveMappingPayload {
    pub removed_mapping_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ControlInput {
    #[graphql(name = "ref")]
    pub reference: String,
    pub title: String,
    /// Defaults to `control`.
    pub kind: Option<String>,
    pub parent_ref: Option<String>,
    pub group_ref: Option<String>,
    pub text: Option<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, InputObject)]
pub struct GroupInput {
    #[graphql(name = "ref")]
    pub reference: String,
    pub title: String,
    pub kind: Option<String>,
    pub parent_ref: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct CreateFrameworkInput {
    /// The tenant's key for it: 1-80 lower-case letters, digits, `.`, `_`, `-`.
    pub key: String,
    pub name: String,
    pub version: String,
    pub publisher: Option<String>,
    pub notes: Option<String>,
    #[graphql(default)]
    pub groups: Vec<GroupInput>,
    #[graphql(default)]
    pub controls: Vec<ControlInput>,
}

#[derive(Debug, SimpleObject)]
pub struct FrameworkPayload {
    pub framework: Option<Framework>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct UpdateFrameworkInput {
    pub framework_id: ID,
    pub name: Option<String>,
    pub version: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct DeleteFrameworkInput {
    pub framework_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteFrameworkPayload {
    pub deleted_framework_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddControlInput {
    pub framework_id: ID,
    pub control: ControlInput,
}

#[derive(Debug, InputObject)]
pub struct UpdateControlInput {
    pub control_id: ID,
    pub title: Option<String>,
    pub text: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, InputObject)]
pub struct RemoveControlInput {
    pub control_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct ControlPayload {
    pub control: Option<Control>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct RemoveControlPayload {
    pub removed_control_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct SetLicensedTextInput {
    /// A shared control.
    pub control_id: ID,
    /// The text from the tenant's licensed copy (at most 100,000 characters).
    pub text: String,
    /// Where the text comes from (the tenant's licence, say).
    pub source: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ClearLicensedTextInput {
    pub control_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct LicensedTextPayload {
    pub control: Option<Control>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ImportOscalInput {
    /// The OSCAL JSON document (a catalog, a profile, or a mapping-collection).
    pub document: String,
    /// The new framework's key (catalogs and profiles).
    pub key: Option<String>,
    /// The document's file name, by which profiles may name it.
    pub file_name: Option<String>,
    /// For a profile: the framework (global id or key) to resolve it against when its import
    /// does not name an imported catalog.
    pub resolve_against: Option<String>,
    /// Import as a shared framework for every tenant (platform operators only).
    #[graphql(default = false)]
    pub shared: bool,
}

#[derive(Debug, SimpleObject)]
pub struct ImportOscalPayload {
    pub framework: Option<Framework>,
    pub control_count: i32,
    /// For a mapping collection: the tenant links added.
    pub mappings_added: i32,
    pub user_errors: Vec<UserError>,
}

fn actor_text(az: &Authorized) -> String {
    az.actor.to_stored()
}

async fn open(
    ctx: &Context<'_>,
    az: &Authorized,
) -> Result<(TenantTx, Arc<CatalogView>), MutationError> {
    let cache = ctx
        .data_opt::<Arc<CatalogCache>>()
        .ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))?;
    let index = cache.current(store(ctx)).await?;
    let tx = store(ctx).tenant_tx(az.scope).await?;
    let v = cache.view(index, &tx).await?;
    Ok((tx, Arc::new(v)))
}

/// Reloads the view after a change, for the payload.
async fn reload(ctx: &Context<'_>, az: &Authorized) -> Result<Arc<CatalogView>, MutationError> {
    Ok(view(ctx, az).await?)
}

fn shared_link_id(v: &CatalogView, id: &ID) -> Result<Uuid, MutationError> {
    decode(id)
        .filter(|g| g.kind == Kind::Mapping)
        .map(|g| g.id)
        .filter(|id| v.index.link(*id).is_some())
        .ok_or_else(|| not_found("shared mapping", "mappingId"))
}

fn shared_control_id(v: &CatalogView, id: &ID) -> Result<Uuid, MutationError> {
    decode(id)
        .filter(|g| g.kind == Kind::Control)
        .map(|g| g.id)
        .filter(|id| v.index.control(*id).is_some())
        .ok_or_else(|| not_found("shared control", "controlId"))
}

fn control_from_input(
    input: &ControlInput,
    field: &str,
    sort: usize,
) -> Result<CatControl, MutationError> {
    let tags = input
        .tags
        .iter()
        .map(|t| checked_text(&format!("{field}.tags"), t, 60))
        .collect::<Result<Vec<_>, _>>()?;
    if tags.len() > 20 {
        return Err(invalid(&format!("{field}.tags"), "at most 20 tags"));
    }
    let mut c = CatControl::new(
        Uuid::now_v7(),
        checked_text(&format!("{field}.ref"), &input.reference, 100)?,
        checked_text(&format!("{field}.title"), &input.title, 500)?,
        optional_text(&format!("{field}.kind"), input.kind.as_deref(), 60)?
            .unwrap_or_else(|| "control".into()),
    );
    c.group = optional_text(
        &format!("{field}.groupRef"),
        input.group_ref.as_deref(),
        100,
    )?;
    c.parent = optional_text(
        &format!("{field}.parentRef"),
        input.parent_ref.as_deref(),
        100,
    )?;
    c.tags = tags;
    c.text = optional_text(&format!("{field}.text"), input.text.as_deref(), 20_000)?;
    c.sort = i32::try_from(sort).unwrap_or(i32::MAX);
    Ok(c)
}

fn import_error(e: ImportError) -> MutationError {
    match e {
        ImportError::Oscal(o) => invalid("document", o.to_string()),
        ImportError::Input(m) => invalid("document", m),
        ImportError::Key(m) => invalid("key", m),
        ImportError::Conflict(m) => DomainError::conflict("key", m).into(),
        ImportError::Store(s) => s.into(),
    }
}

/// The custom framework a global id names, in this tenant.
fn custom_framework_of(v: &CatalogView, id: &ID) -> Result<Uuid, MutationError> {
    decode(id)
        .filter(|g| g.kind == Kind::Framework)
        .and_then(|g| v.framework(g.id))
        .filter(|f| f.is_custom())
        .map(|f| f.framework().id)
        .ok_or_else(|| not_found("framework of the tenant's own", "frameworkId"))
}

fn custom_control_of(v: &CatalogView, id: &ID) -> Result<(Uuid, CatControl), MutationError> {
    decode(id)
        .filter(|g| g.kind == Kind::Control)
        .and_then(|g| v.control(g.id))
        .filter(|(f, _)| f.is_custom())
        .map(|(f, c)| (f.framework().id, c.clone()))
        .ok_or_else(|| not_found("control of the tenant's own", "controlId"))
}

/// Catalog mutations.
#[derive(Debug, Default)]
pub struct CatalogMutation;

impl CatalogMutation {
    async fn review(
        &self,
        ctx: &Context<'_>,
        input: ReviewMappingInput,
        state: State,
    ) -> Result<MappingPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (mapping, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let id = shared_link_id(&v, &input.mapping_id)?;
                let note = optional_text("note", input.note.as_deref(), 2000)?;
                tx.set_review(id, state, note.clone(), &actor_text(&az))
                    .await?;
                let action = if state == State::Confirmed {
                    "mapping.confirm"
                } else {
                    "mapping.reject"
                };
                super::mutation::record(
                    &mut tx,
                    &az,
                    action,
                    "mapping",
                    id.to_string(),
                    json!({ "state": state.as_str(), "note": note }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                let v = reload(ctx, &az).await?;
                Mapping::find(&v, id).ok_or_else(|| not_found("mapping", "mappingId"))
            }
            .await,
        )?;
        Ok(MappingPayload {
            mapping,
            user_errors,
        })
    }
}

#[Object]
impl CatalogMutation {
    /// Confirms a shared link (published or derived) for the tenant: it counts as coverage in
    /// this tenant's views only.
    async fn confirm_mapping(
        &self,
        ctx: &Context<'_>,
        input: ReviewMappingInput,
    ) -> Result<MappingPayload> {
        self.review(ctx, input, State::Confirmed).await
    }

    /// Rejects a shared link for the tenant: its chains and crosswalks leave it out.
    async fn reject_mapping(
        &self,
        ctx: &Context<'_>,
        input: ReviewMappingInput,
    ) -> Result<MappingPayload> {
        self.review(ctx, input, State::Rejected).await
    }

    /// Returns a shared link to its default (informative) state for the tenant.
    async fn clear_mapping_review(
        &self,
        ctx: &Context<'_>,
        input: ClearMappingReviewInput,
    ) -> Result<MappingPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (mapping, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let id = shared_link_id(&v, &input.mapping_id)?;
                if !tx.clear_review(id).await? {
                    return Err(not_found("review of this mapping", "mappingId"));
                }
                super::mutation::record(
                    &mut tx,
                    &az,
                    "mapping.review_clear",
                    "mapping",
                    id.to_string(),
                    json!({}),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                let v = reload(ctx, &az).await?;
                Mapping::find(&v, id).ok_or_else(|| not_found("mapping", "mappingId"))
            }
            .await,
        )?;
        Ok(MappingPayload {
            mapping,
            user_errors,
        })
    }

    /// Adds a link of the tenant's own between two controls it can see (shared or its own).
    async fn add_mapping(
        &self,
        ctx: &Context<'_>,
        input: AddMappingInput,
    ) -> Result<MappingPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (mapping, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let end = |id: &ID, field: &str| -> Result<LinkEnd, MutationError> {
                    decode(id)
                        .filter(|g| g.kind == Kind::Control)
                        .and_then(|g| v.link_end(g.id))
                        .ok_or_else(|| not_found("control", field))
                };
                let source = end(&input.source_control_id, "sourceControlId")?;
                let target = end(&input.target_control_id, "targetControlId")?;
                if source == target {
                    return Err(invalid("targetControlId", "a link joins two different controls"));
                }
                let note = optional_text("note", input.note.as_deref(), 2000)?;
                let rec = tx
                    .add_tenant_link(source, target, input.relationship.into(), note, &actor_text(&az))
                    .await
                    .map_err(|e| match e {
                        grc_store::StoreError::Conflict(m) => DomainError::conflict("targetControlId", m).into(),
                        other => MutationError::from(other),
                    })?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "mapping.add",
                    "mapping",
                    rec.id.to_string(),
                    json!({ "source": source.id(), "target": target.id(), "relationship": rec.relationship.as_str() }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                let v = reload(ctx, &az).await?;
                Mapping::find(&v, rec.id).ok_or_else(|| not_found("mapping", "mappingId"))
            }
            .await,
        )?;
        Ok(MappingPayload {
            mapping,
            user_errors,
        })
    }

    /// Removes a link of the tenant's own (shared links are rejected, not removed).
    async fn remove_mapping(
        &self,
        ctx: &Context<'_>,
        input: RemoveMappingInput,
    ) -> Result<RemoveMappingPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (removed, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let id = decode(&input.mapping_id)
                    .filter(|g| g.kind == Kind::Mapping)
                    .map(|g| g.id)
                    .filter(|id| v.tenant_link(*id).is_some())
                    .ok_or_else(|| not_found("mapping of the tenant's own", "mappingId"))?;
                tx.remove_tenant_link(id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "mapping.remove",
                    "mapping",
                    id.to_string(),
                    json!({}),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Mapping, id))
            }
            .await,
        )?;
        Ok(RemoveMappingPayload {
            removed_mapping_id: removed,
            user_errors,
        })
    }

    /// Adds a framework of the tenant's own (a contract's security schedule, say) with its
    /// controls, to map like any other.
    async fn create_framework(
        &self,
        ctx: &Context<'_>,
        input: CreateFrameworkInput,
    ) -> Result<FrameworkPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (framework, user_errors) = settle(
            async {
                crate::catalog::check_key(&input.key).map_err(|e| invalid("key", e.to_string()))?;
                if input.controls.len() > 5000 {
                    return Err(invalid(
                        "controls",
                        "at most 5000 controls; import larger catalogs from OSCAL",
                    ));
                }
                let groups = input
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        let f = format!("groups.{i}");
                        Ok(grc_catalog::Group {
                            reference: checked_text(&format!("{f}.ref"), &g.reference, 100)?,
                            title: checked_text(&format!("{f}.title"), &g.title, 300)?,
                            kind: optional_text(&format!("{f}.kind"), g.kind.as_deref(), 60)?
                                .unwrap_or_else(|| "group".into()),
                            parent: optional_text(
                                &format!("{f}.parentRef"),
                                g.parent_ref.as_deref(),
                                100,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, MutationError>>()?;
                let controls = input
                    .controls
                    .iter()
                    .enumerate()
                    .map(|(i, c)| control_from_input(c, &format!("controls.{i}"), i))
                    .collect::<Result<Vec<_>, _>>()?;
                let f = grc_catalog::Framework {
                    id: Uuid::now_v7(),
                    key: input.key.clone(),
                    name: checked_text("name", &input.name, 300)?,
                    version: checked_text("version", &input.version, 100)?,
                    publisher: optional_text("publisher", input.publisher.as_deref(), 200)?
                        .unwrap_or_default(),
                    kind: "custom".into(),
                    licence: "tenant".into(),
                    source: "created by the tenant".into(),
                    notes: optional_text("notes", input.notes.as_deref(), 4000)?,
                    groups,
                    controls,
                };
                grc_catalog::bundle::check_framework(&f).map_err(|m| invalid("controls", m))?;
                let (mut tx, v) = open(ctx, &az).await?;
                if v.index.framework_by_key(&f.key).is_some() {
                    return Err(DomainError::conflict(
                        "key",
                        format!("{} is the key of a shared framework", f.key),
                    )
                    .into());
                }
                if v.custom.iter().any(|c| c.framework.key == f.key) {
                    return Err(DomainError::conflict(
                        "key",
                        format!("the tenant already has a framework with key {}", f.key),
                    )
                    .into());
                }
                tx.create_custom_framework(&NewCustomFramework {
                    framework: &f,
                    origin: "manual",
                    import: None,
                })
                .await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "framework.create",
                    "framework",
                    f.id.to_string(),
                    json!({ "key": f.key, "name": f.name, "controls": f.controls.len() }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Framework {
                    view: reload(ctx, &az).await?,
                    id: f.id,
                })
            }
            .await,
        )?;
        Ok(FrameworkPayload {
            framework,
            user_errors,
        })
    }

    /// Renames or re-versions a framework of the tenant's own.
    async fn update_framework(
        &self,
        ctx: &Context<'_>,
        input: UpdateFrameworkInput,
    ) -> Result<FrameworkPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (framework, user_errors) = settle(
            async {
                let name = optional_text("name", input.name.as_deref(), 300)?;
                let version = optional_text("version", input.version.as_deref(), 100)?;
                let notes = optional_text("notes", input.notes.as_deref(), 4000)?;
                let (mut tx, v) = open(ctx, &az).await?;
                let id = custom_framework_of(&v, &input.framework_id)?;
                tx.update_custom_framework(
                    id,
                    name.clone(),
                    version.clone(),
                    notes.clone().map(Some),
                )
                .await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "framework.update",
                    "framework",
                    id.to_string(),
                    json!({ "name": name, "version": version }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Framework {
                    view: reload(ctx, &az).await?,
                    id,
                })
            }
            .await,
        )?;
        Ok(FrameworkPayload {
            framework,
            user_errors,
        })
    }

    /// Deletes a framework of the tenant's own, its controls and the links that name them.
    async fn delete_framework(
        &self,
        ctx: &Context<'_>,
        input: DeleteFrameworkInput,
    ) -> Result<DeleteFrameworkPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (deleted, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let id = custom_framework_of(&v, &input.framework_id)?;
                tx.delete_custom_framework(id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "framework.delete",
                    "framework",
                    id.to_string(),
                    json!({}),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Framework, id))
            }
            .await,
        )?;
        Ok(DeleteFrameworkPayload {
            deleted_framework_id: deleted,
            user_errors,
        })
    }

    /// Adds a control to a framework of the tenant's own.
    async fn add_control(
        &self,
        ctx: &Context<'_>,
        input: AddControlInput,
    ) -> Result<ControlPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (control, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let fid = custom_framework_of(&v, &input.framework_id)?;
                let mut f = v
                    .framework(fid)
                    .map(|f| f.framework().clone())
                    .ok_or_else(|| not_found("framework", "frameworkId"))?;
                let c = control_from_input(&input.control, "control", f.controls.len())?;
                f.controls.push(c.clone());
                grc_catalog::bundle::check_framework(&f).map_err(|m| invalid("control", m))?;
                tx.add_custom_control(fid, &c).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "control.add",
                    "control",
                    c.id.to_string(),
                    json!({ "framework": fid, "ref": c.reference }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Control {
                    view: reload(ctx, &az).await?,
                    id: c.id,
                })
            }
            .await,
        )?;
        Ok(ControlPayload {
            control,
            user_errors,
        })
    }

    /// Changes a control of the tenant's own.
    async fn update_control(
        &self,
        ctx: &Context<'_>,
        input: UpdateControlInput,
    ) -> Result<ControlPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (control, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let (fid, mut c) = custom_control_of(&v, &input.control_id)?;
                if let Some(t) = &input.title {
                    c.title = checked_text("title", t, 500)?;
                }
                if let Some(t) = &input.text {
                    c.text = Some(checked_text("text", t, 20_000)?);
                }
                if let Some(tags) = &input.tags {
                    if tags.len() > 20 {
                        return Err(invalid("tags", "at most 20 tags"));
                    }
                    c.tags = tags
                        .iter()
                        .map(|t| checked_text("tags", t, 60))
                        .collect::<Result<_, _>>()?;
                }
                tx.update_custom_control(fid, &c).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "control.update",
                    "control",
                    c.id.to_string(),
                    json!({ "title": c.title }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Control {
                    view: reload(ctx, &az).await?,
                    id: c.id,
                })
            }
            .await,
        )?;
        Ok(ControlPayload {
            control,
            user_errors,
        })
    }

    /// Removes a control of the tenant's own and the links that name it.
    async fn remove_control(
        &self,
        ctx: &Context<'_>,
        input: RemoveControlInput,
    ) -> Result<RemoveControlPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (removed, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let (fid, c) = custom_control_of(&v, &input.control_id)?;
                let f = v
                    .framework(fid)
                    .map(|f| f.framework().clone())
                    .ok_or_else(|| not_found("framework", "controlId"))?;
                if f.controls
                    .iter()
                    .any(|x| x.parent.as_deref() == Some(c.reference.as_str()))
                {
                    return Err(DomainError::conflict(
                        "controlId",
                        "the control has children; remove them first",
                    )
                    .into());
                }
                tx.delete_custom_control(c.id).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "control.remove",
                    "control",
                    c.id.to_string(),
                    json!({ "ref": c.reference }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Control, c.id))
            }
            .await,
        )?;
        Ok(RemoveControlPayload {
            removed_control_id: removed,
            user_errors,
        })
    }

    /// Attaches the tenant's licensed text (an ISO standard's, say) to a shared control;
    /// only this tenant sees it. The audit trail records a digest, not the text.
    async fn set_licensed_text(
        &self,
        ctx: &Context<'_>,
        input: SetLicensedTextInput,
    ) -> Result<LicensedTextPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (control, user_errors) = settle(
            async {
                let text = checked_text("text", &input.text, 100_000)?;
                let source = optional_text("source", input.source.as_deref(), 500)?;
                let (mut tx, v) = open(ctx, &az).await?;
                let id = shared_control_id(&v, &input.control_id)?;
                let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
                tx.set_control_text(id, text, source, &actor_text(&az))
                    .await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "control.text_set",
                    "control",
                    id.to_string(),
                    json!({ "sha256": digest }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Control {
                    view: reload(ctx, &az).await?,
                    id,
                })
            }
            .await,
        )?;
        Ok(LicensedTextPayload {
            control,
            user_errors,
        })
    }

    /// Removes the tenant's licensed text from a shared control.
    async fn clear_licensed_text(
        &self,
        ctx: &Context<'_>,
        input: ClearLicensedTextInput,
    ) -> Result<LicensedTextPayload> {
        let az = authorize(ctx, Operation::ManageCatalog)?;
        let (control, user_errors) = settle(
            async {
                let (mut tx, v) = open(ctx, &az).await?;
                let id = shared_control_id(&v, &input.control_id)?;
                if !tx.clear_control_text(id).await? {
                    return Err(not_found("licensed text", "controlId"));
                }
                super::mutation::record(
                    &mut tx,
                    &az,
                    "control.text_clear",
                    "control",
                    id.to_string(),
                    json!({}),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(Control {
                    view: reload(ctx, &az).await?,
                    id,
                })
            }
            .await,
        )?;
        Ok(LicensedTextPayload {
            control,
            user_errors,
        })
    }

    /// Imports an OSCAL catalog or profile (1.1.x or 1.2.x JSON) as a framework of the tenant's
    /// own, or with `shared` (platform operators) for every tenant; or a mapping-collection as
    /// links of the tenant's own. All or nothing: a refused document leaves nothing behind.
    async fn import_oscal(
        &self,
        ctx: &Context<'_>,
        input: ImportOscalInput,
    ) -> Result<ImportOscalPayload> {
        let (out, user_errors) = if input.shared {
            let operator = matches!(&auth(ctx)?.principal, Principal::User { user, .. } if user.platform_operator);
            if !operator {
                return Err(gql_error(
                    ErrorCode::Forbidden,
                    "only platform operators import shared frameworks",
                ));
            }
            settle(
                async {
                    let key = input
                        .key
                        .as_deref()
                        .ok_or_else(|| invalid("key", "a key is required"))?;
                    let req = ImportRequest {
                        bytes: input.document.as_bytes(),
                        key,
                        file_name: input.file_name.as_deref(),
                        resolve_against: input.resolve_against.as_deref(),
                    };
                    let imported = import_shared(store(ctx), &req)
                        .await
                        .map_err(import_error)?;
                    Ok((imported, None))
                }
                .await,
            )?
        } else {
            let az = authorize(ctx, Operation::ManageCatalog)?;
            settle(
                async {
                    let cache = ctx
                        .data_opt::<Arc<CatalogCache>>()
                        .ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))?;
                    let index = cache.current(store(ctx)).await?;
                    let shared_names = store(ctx).shared_import_names().await?;
                    let mut tx = store(ctx).tenant_tx(az.scope).await?;
                    let key = input.key.clone().unwrap_or_default();
                    let req = ImportRequest {
                        bytes: input.document.as_bytes(),
                        key: &key,
                        file_name: input.file_name.as_deref(),
                        resolve_against: input.resolve_against.as_deref(),
                    };
                    let imported = import_for_tenant(&mut tx, index, &shared_names, &req).await.map_err(import_error)?;
                    let (action, subject) = if imported.links_only {
                        ("mapping.import", imported.framework.id.to_string())
                    } else {
                        ("framework.import", imported.framework.id.to_string())
                    };
                    super::mutation::record(
                        &mut tx,
                        &az,
                        action,
                        "framework",
                        subject,
                        json!({ "key": imported.framework.key, "controls": imported.framework.controls.len(), "links": imported.links_added }),
                    )
                    .await?;
                    super::mutation::commit(ctx, tx).await?;
                    Ok((imported, Some(az)))
                }
                .await,
            )?
        };
        let Some((imported, az)) = out else {
            return Ok(ImportOscalPayload {
                framework: None,
                control_count: 0,
                mappings_added: 0,
                user_errors,
            });
        };
        let framework = match az {
            Some(az) => Some(Framework {
                view: view(ctx, &az).await?,
                id: imported.framework.id,
            }),
            None => match auth(ctx)?.tenant.is_some() {
                true => {
                    let az = authorize(ctx, Operation::ReadCatalog)?;
                    Some(Framework {
                        view: view(ctx, &az).await?,
                        id: imported.framework.id,
                    })
                }
                false => None,
            },
        };
        Ok(ImportOscalPayload {
            framework,
            control_count: i32::try_from(imported.framework.controls.len()).unwrap_or(i32::MAX),
            mappings_added: i32::try_from(imported.links_added).unwrap_or(i32::MAX),
            user_errors,
        })
    }
}
