//! ISMS GraphQL: management systems with scope, context and risk criteria; the asset
//! inventory; risks and dated assessments; the Statement of Applicability draft, its approved
//! versions and their comparison; HIPAA determinations; and the derived views (HIPAA coverage,
//! certification readiness, heat map, SoA progress), computed on every read.
//!
//! Nested lists are loaded for a whole page at once ([`RiskPage`], [`Owners`]): a page of risks
//! with their assets, controls and owners costs the same number of queries for 1 risk or 100.

use super::catalog::{Control, view};
use super::common::{
    actor_user, checked_date, checked_text, conflict, free_text, invalid, member_owner, not_found,
    optional_text, require_edit, saved_owner, settle,
};
use super::connection::{ConnectionFields, DEFAULT_PAGE, MAX_PAGE};
use super::ids::{Kind, cursor, decode_cursor, decode_kind, encode};
use super::mutation::{commit, record};
use super::types::User;
use super::{Authorized, authorize, store};
use crate::catalog::CatalogView;
use crate::errors::{ErrorCode, MutationError, UserError, gql_error};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_catalog::{MappingState, Method, Requirement};
use grc_domain::authz::Operation;
use grc_domain::isms as dom;
use grc_store::{
    AssetFields, AssetFilter, AssetRecord, ContextItemFields, ContextItemRecord, IsmsFields,
    IsmsRecord, RiskAssessmentRecord, RiskFields, RiskFilter, RiskRecord, SoaControl,
    SoaEntryPatch, SoaEntryRecord, SoaVersionRecord, Store, TenantScope,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The ISO/IEC 27001 edition every ISMS follows (Annex A of the 2022 edition).
pub const BASE_FRAMEWORK: &str = "iso27001-2022";
/// The HIPAA Security Rule catalog.
pub const HIPAA_FRAMEWORK: &str = "hipaa-sr";
/// ISO/IEC 27701 editions an ISMS may be extended with.
pub const PRIVACY_FRAMEWORKS: [&str; 2] = ["iso27701-2019", "iso27701-2025"];
/// Coverage follows crosswalk paths of at most this many links (HIPAA → SP 800-53 → ISO).
pub const COVERAGE_HOPS: usize = 2;
/// At most this many SoA entries in one `updateSoaEntries` call.
pub const MAX_SOA_CHANGES: usize = 200;

const MAX_NAME: usize = 200;
const MAX_TITLE: usize = 300;
const MAX_TEXT: usize = 20_000;
const MAX_SHORT: usize = 2_000;
const MAX_LINKS: usize = 200;

macro_rules! gql_enum {
    ($(#[$m:meta])* $name:ident => $dom:ident { $($v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($v),+ }
        impl From<dom::$dom> for $name {
            fn from(v: dom::$dom) -> Self { match v { $(dom::$dom::$v => Self::$v),+ } }
        }
        impl From<$name> for dom::$dom {
            fn from(v: $name) -> Self { match v { $($name::$v => Self::$v),+ } }
        }
    };
}

gql_enum!(
    /// How a risk is treated (6.1.3 a).
    RiskTreatment => Treatment { Modify, Retain, Avoid, Share }
);
gql_enum!(
    /// An SoA entry's implementation status.
    ImplementationStatus => ImplementationStatus { NotStarted, Planned, Partial, Implemented }
);
gql_enum!(
    /// What kind of asset.
    AssetKind => AssetKind { Information, System, Application, Device, Service, Site, People }
);
gql_enum!(
    /// An asset's information classification.
    Classification => Classification { Public, Internal, Confidential, Restricted }
);
gql_enum!(
    /// A clause 4 context item.
    ContextKind => ContextKind { InternalIssue, ExternalIssue, InterestedParty }
);
gql_enum!(
    /// How an ISMS extended to privacy acts on personal data (ISO/IEC 27701).
    PrivacyRole => PrivacyRole { Controller, Processor, Both }
);
gql_enum!(
    /// A decision on an addressable HIPAA specification (164.306(d)(3)).
    AddressableDecision => AddressableDecision { Implemented, Alternative, NotReasonable }
);

fn internal() -> async_graphql::Error {
    gql_error(ErrorCode::Internal, "internal error")
}

fn decode_isms(id: &ID, field: &str) -> Result<Uuid, MutationError> {
    decode_kind(id, Kind::Isms).ok_or_else(|| not_found("management system", field))
}

async fn load_isms(
    tx: &grc_store::TenantTx,
    id: &ID,
    field: &str,
) -> Result<IsmsRecord, MutationError> {
    let uuid = decode_isms(id, field)?;
    tx.isms(uuid)
        .await?
        .ok_or_else(|| not_found("management system", field))
}

// ---------------------------------------------------------------------------------------------
// Page-wide loaders

/// Members by user id, loaded once per page for every owner the page shows.
#[derive(Debug, Default)]
pub struct Owners {
    ids: Vec<Uuid>,
    loaded: OnceCell<Arc<HashMap<Uuid, User>>>,
}

impl Owners {
    fn new(ids: impl IntoIterator<Item = Option<Uuid>>) -> Arc<Self> {
        let mut ids: Vec<Uuid> = ids.into_iter().flatten().collect();
        ids.sort();
        ids.dedup();
        Arc::new(Self {
            ids,
            loaded: OnceCell::new(),
        })
    }

    /// Owners already loaded (from the ISMS cache).
    fn filled(map: Arc<HashMap<Uuid, User>>) -> Arc<Self> {
        Arc::new(Self {
            ids: Vec::new(),
            loaded: OnceCell::new_with(Some(map)),
        })
    }

    async fn get(
        &self,
        ctx: &Context<'_>,
        scope: TenantScope,
        id: Option<Uuid>,
    ) -> Result<Option<User>> {
        let Some(id) = id else { return Ok(None) };
        let map = self
            .loaded
            .get_or_try_init(|| async {
                let tx = store(ctx).tenant_tx(scope).await?;
                let members = tx.members_by_ids(&self.ids).await?;
                tx.commit().await?;
                Ok::<_, grc_store::StoreError>(Arc::new(
                    members
                        .into_iter()
                        .map(|m| {
                            (
                                m.user_id.0,
                                User {
                                    id: m.user_id,
                                    email: m.email,
                                    display_name: m.display_name,
                                },
                            )
                        })
                        .collect(),
                ))
            })
            .await
            .map_err(|e| crate::errors::internal(&e))?;
        Ok(map.get(&id).cloned())
    }
}

/// Assets by risk, and controls by risk.
type LinkMaps = (HashMap<Uuid, Vec<Uuid>>, HashMap<Uuid, Vec<Uuid>>);

/// What a page of risks shares: its ISMS's criteria, and each risk's assets and controls,
/// loaded for the whole page on first use.
#[derive(Debug)]
pub struct RiskPage {
    scope: TenantScope,
    criteria: HashMap<Uuid, dom::RiskCriteria>,
    ids: Vec<Uuid>,
    links: OnceCell<LinkMaps>,
    assets: OnceCell<HashMap<Uuid, AssetRecord>>,
    owners: Arc<Owners>,
}

impl RiskPage {
    fn new(
        scope: TenantScope,
        criteria: HashMap<Uuid, dom::RiskCriteria>,
        risks: &[RiskRecord],
    ) -> Arc<Self> {
        Arc::new(Self {
            scope,
            criteria,
            ids: risks.iter().map(|r| r.id).collect(),
            links: OnceCell::new(),
            assets: OnceCell::new(),
            owners: Owners::new(risks.iter().flat_map(|r| [r.owner_id, r.accepted_by])),
        })
    }

    async fn links(&self, store: &Store) -> Result<&LinkMaps> {
        self.links
            .get_or_try_init(|| async {
                let tx = store.tenant_tx(self.scope).await?;
                let mut assets: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                for (r, a) in tx.risk_assets_of(&self.ids).await? {
                    assets.entry(r).or_default().push(a);
                }
                let mut controls: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                for (r, c) in tx.risk_controls_of(&self.ids).await? {
                    controls.entry(r).or_default().push(c);
                }
                tx.commit().await?;
                Ok::<_, grc_store::StoreError>((assets, controls))
            })
            .await
            .map_err(|e| crate::errors::internal(&e))
    }

    async fn assets(&self, store: &Store) -> Result<&HashMap<Uuid, AssetRecord>> {
        let (by_risk, _) = self.links(store).await?;
        self.assets
            .get_or_try_init(|| async {
                let mut ids: Vec<Uuid> = by_risk.values().flatten().copied().collect();
                ids.sort();
                ids.dedup();
                let tx = store.tenant_tx(self.scope).await?;
                let assets = tx.assets_by_ids(&ids).await?;
                tx.commit().await?;
                Ok::<_, grc_store::StoreError>(assets.into_iter().map(|a| (a.id, a)).collect())
            })
            .await
            .map_err(|e| crate::errors::internal(&e))
    }
}

// ---------------------------------------------------------------------------------------------
// Output types

/// An information security management system (ISO/IEC 27001 clause 4): its scope, context,
/// risk criteria, risks, Statement of Applicability and derived views.
#[derive(Debug, Clone)]
pub struct Isms {
    pub(crate) r: IsmsRecord,
    pub(crate) scope: TenantScope,
    /// The tenant's cached ISMS data and catalog view, when read through [`IsmsCache`].
    pub(crate) cached: Option<(Arc<TenantIsms>, Arc<CatalogView>)>,
}

impl Isms {
    pub(crate) fn new(r: IsmsRecord, scope: TenantScope) -> Self {
        Self {
            r,
            scope,
            cached: None,
        }
    }

    /// The catalog view: the one the cached read already checked, else a fresh read.
    async fn catalog_view(&self, ctx: &Context<'_>) -> Result<Arc<CatalogView>> {
        if let Some((_, v)) = &self.cached {
            return Ok(v.clone());
        }
        let az = authorize(ctx, Operation::ReadIsms)?;
        view(ctx, &az).await
    }
}

/// ISMS reads cached per tenant for one audit sequence, like the catalog's tenant side: every
/// change to a tenant's rows appends an audit event in the same transaction, so an entry whose
/// sequence is the tenant's current one is current. The sequence comes with the catalog
/// freshness check every read makes anyway: a cached SoA page costs one round trip.
#[derive(Debug)]
pub struct IsmsCache {
    tenants: moka::future::Cache<Uuid, Arc<TenantIsms>>,
}

impl Default for IsmsCache {
    fn default() -> Self {
        Self {
            tenants: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

/// One tenant's management systems and the SoA pages read so far, at one audit sequence.
#[derive(Debug)]
pub struct TenantIsms {
    seq: i64,
    systems: Vec<IsmsRecord>,
    soa: tokio::sync::Mutex<HashMap<Uuid, Arc<SoaPageData>>>,
}

/// An SoA draft's entries with their counts, and their owners.
#[derive(Debug)]
pub struct SoaPageData {
    entries: Arc<Vec<SoaEntryRecord>>,
    owners: Arc<HashMap<Uuid, User>>,
}

fn isms_cache<'a>(ctx: &Context<'a>) -> Result<&'a Arc<IsmsCache>> {
    ctx.data_opt::<Arc<IsmsCache>>().ok_or_else(internal)
}

impl IsmsCache {
    /// The tenant's ISMS data current at `seq` (read by the caller's freshness check), and the
    /// catalog view.
    async fn tenant(
        &self,
        ctx: &Context<'_>,
        az: &Authorized,
    ) -> Result<(Arc<TenantIsms>, Arc<CatalogView>)> {
        let catalog = ctx
            .data_opt::<Arc<crate::catalog::CatalogCache>>()
            .ok_or_else(internal)?;
        let (v, seq) = catalog.read_view_seq(store(ctx), az.scope).await?;
        let key = az.scope.tenant_id().0;
        if let Some(t) = self.tenants.get(&key).await
            && t.seq == seq
        {
            return Ok((t, Arc::new(v)));
        }
        let tx = store(ctx).tenant_tx(az.scope).await?;
        let at = tx.audit_seq().await?;
        let systems = tx.isms_list().await?;
        tx.commit().await?;
        let t = Arc::new(TenantIsms {
            seq: at,
            systems,
            soa: tokio::sync::Mutex::new(HashMap::new()),
        });
        self.tenants.insert(key, t.clone()).await;
        Ok((t, Arc::new(v)))
    }
}

impl TenantIsms {
    /// The SoA page of one ISMS: from the cache, or read (with its owners) in one transaction
    /// and kept if the tenant's sequence did not move meanwhile.
    async fn soa_page(
        &self,
        ctx: &Context<'_>,
        scope: TenantScope,
        isms: Uuid,
    ) -> Result<Arc<SoaPageData>> {
        let mut pages = self.soa.lock().await;
        if let Some(p) = pages.get(&isms) {
            return Ok(p.clone());
        }
        let tx = store(ctx).tenant_tx(scope).await?;
        let at = tx.audit_seq().await?;
        let entries = tx.soa_entries(isms).await?;
        let mut ids: Vec<Uuid> = entries.iter().filter_map(|e| e.owner_id).collect();
        ids.sort();
        ids.dedup();
        let members = tx.members_by_ids(&ids).await?;
        tx.commit().await?;
        let owners = members
            .into_iter()
            .map(|m| {
                (
                    m.user_id.0,
                    User {
                        id: m.user_id,
                        email: m.email,
                        display_name: m.display_name,
                    },
                )
            })
            .collect();
        let page = Arc::new(SoaPageData {
            entries: Arc::new(entries),
            owners: Arc::new(owners),
        });
        if at == self.seq {
            pages.insert(isms, page.clone());
        }
        Ok(page)
    }
}

/// Risk criteria (6.1.2 a).
#[derive(Debug, SimpleObject)]
pub struct RiskCriteria {
    pub likelihood_levels: i32,
    pub impact_levels: i32,
    /// Scores (likelihood × impact) up to this value meet the acceptance criteria.
    pub acceptance_threshold: i32,
    pub likelihood_labels: Vec<String>,
    pub impact_labels: Vec<String>,
    pub max_score: i32,
}

impl From<&dom::RiskCriteria> for RiskCriteria {
    fn from(c: &dom::RiskCriteria) -> Self {
        Self {
            likelihood_levels: c.likelihood_levels.into(),
            impact_levels: c.impact_levels.into(),
            acceptance_threshold: c.acceptance_threshold.into(),
            likelihood_labels: c.likelihood_labels.clone(),
            impact_labels: c.impact_labels.clone(),
            max_score: c.max_score().into(),
        }
    }
}

/// The SoA draft: the working copy compliance managers edit before an approval freezes it.
#[derive(Debug)]
pub struct SoaDraft {
    isms: Uuid,
    revision: i64,
    scope: TenantScope,
    entries: Arc<Vec<SoaEntryRecord>>,
    view: Arc<CatalogView>,
    owners: Arc<Owners>,
}

/// An entry of the SoA draft.
#[derive(Debug)]
pub struct SoaDraftEntry {
    page: Arc<Vec<SoaEntryRecord>>,
    i: usize,
    scope: TenantScope,
    view: Arc<CatalogView>,
    owners: Arc<Owners>,
}

/// Counts per implementation status among applicable controls.
#[derive(Debug, SimpleObject)]
pub struct SoaProgress {
    pub total: i32,
    pub applicable: i32,
    pub excluded: i32,
    pub not_started: i32,
    pub planned: i32,
    pub partial: i32,
    pub implemented: i32,
    /// Implemented applicable controls, per cent (rounded down).
    pub percent_implemented: i32,
}

impl From<dom::SoaProgress> for SoaProgress {
    fn from(p: dom::SoaProgress) -> Self {
        let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            total: n(p.total),
            applicable: n(p.applicable),
            excluded: n(p.excluded),
            not_started: n(p.not_started),
            planned: n(p.planned),
            partial: n(p.partial),
            implemented: n(p.implemented),
            percent_implemented: n(p.percent_implemented()),
        }
    }
}

/// An approved, immutable SoA version.
#[derive(Debug)]
pub struct SoaVersion {
    v: SoaVersionRecord,
    view: Option<Arc<CatalogView>>,
}

/// An entry as frozen in an approved version.
#[derive(Debug)]
pub struct SoaVersionEntry {
    e: dom::SoaEntry,
    view: Option<Arc<CatalogView>>,
}

/// What changed for one control between two versions.
#[derive(Debug, SimpleObject)]
pub struct SoaChange {
    pub control_id: ID,
    pub control_ref: String,
    pub kind: SoaChangeKind,
    /// For a changed entry: the fields that differ.
    pub fields: Vec<String>,
    pub before: Option<SoaVersionEntry>,
    pub after: Option<SoaVersionEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SoaChangeKind {
    Added,
    Removed,
    Changed,
}

/// A context issue (4.1) or interested party (4.2).
#[derive(Debug, Clone)]
pub struct ContextItem(pub(crate) ContextItemRecord);

/// An asset of the inventory.
#[derive(Debug, Clone)]
pub struct Asset {
    pub(crate) a: AssetRecord,
    pub(crate) scope: TenantScope,
    pub(crate) owners: Arc<Owners>,
}

/// A risk of an ISMS's register.
#[derive(Debug, Clone)]
pub struct Risk {
    pub(crate) r: RiskRecord,
    pub(crate) page: Arc<RiskPage>,
}

/// A likelihood × impact rating.
#[derive(Debug, SimpleObject)]
pub struct RiskRating {
    pub likelihood: i32,
    pub impact: i32,
    pub score: i32,
    /// Within the ISMS's acceptance criteria.
    pub acceptable: bool,
}

fn rating_of(r: dom::Rating, c: Option<&dom::RiskCriteria>) -> RiskRating {
    RiskRating {
        likelihood: r.likelihood.into(),
        impact: r.impact.into(),
        score: r.score().into(),
        acceptable: c.is_some_and(|c| c.acceptable(r)),
    }
}

/// A dated risk assessment: the register as it stood when recorded (8.2, 8.3).
#[derive(Debug)]
pub struct RiskAssessment {
    a: RiskAssessmentRecord,
    criteria: Option<dom::RiskCriteria>,
}

/// A risk as recorded in an assessment.
#[derive(Debug, SimpleObject)]
pub struct AssessedRisk {
    pub risk_id: ID,
    #[graphql(name = "ref")]
    pub reference: String,
    pub title: String,
    pub threat: String,
    pub vulnerability: String,
    pub owner_id: Option<ID>,
    pub inherent: RiskRating,
    pub residual: Option<RiskRating>,
    pub treatment: Option<RiskTreatment>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub asset_ids: Vec<ID>,
    pub control_ids: Vec<ID>,
}

/// Counts of risks per likelihood × impact cell.
#[derive(Debug, SimpleObject)]
pub struct HeatMap {
    pub likelihood_levels: i32,
    pub impact_levels: i32,
    /// `cells[l - 1][i - 1]`: risks rated likelihood `l`, impact `i`.
    pub cells: Vec<Vec<i32>>,
    /// Ratings outside the current scales (rated before the criteria were narrowed).
    pub outside: i32,
    /// Risks counted (for residual: only risks with a residual rating).
    pub total: i32,
}

fn heat_map(c: &dom::RiskCriteria, ratings: Vec<dom::Rating>) -> HeatMap {
    let total = ratings.len();
    let m = dom::HeatMap::of(c, ratings);
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    HeatMap {
        likelihood_levels: m.likelihood_levels.into(),
        impact_levels: m.impact_levels.into(),
        cells: m
            .cells
            .iter()
            .map(|row| row.iter().map(|v| n(*v)).collect())
            .collect(),
        outside: n(m.outside),
        total: i32::try_from(total).unwrap_or(i32::MAX),
    }
}

/// Inherent and residual heat maps.
#[derive(Debug, SimpleObject)]
pub struct RiskHeatMaps {
    pub inherent: HeatMap,
    pub residual: HeatMap,
}

/// Coverage of one HIPAA Security Rule standard or implementation specification.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct HipaaCoverageItem {
    #[graphql(skip)]
    spec: Uuid,
    #[graphql(skip)]
    view: Arc<CatalogView>,
    /// Required or addressable; a standard without specifications is required.
    pub required: bool,
    pub state: CoverageState,
    /// The ISMS's controls that reach this specification through counted crosswalk links.
    pub controls: Vec<ReachingControl>,
    pub determination: Option<HipaaDetermination>,
}

#[ComplexObject]
impl HipaaCoverageItem {
    /// The standard or implementation specification.
    async fn specification(&self) -> Control {
        Control {
            view: self.view.clone(),
            id: self.spec,
        }
    }
}

/// A control reaching a HIPAA specification, with its SoA standing.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct ReachingControl {
    #[graphql(skip)]
    id: Uuid,
    #[graphql(skip)]
    view: Arc<CatalogView>,
    pub applicable: bool,
    pub status: ImplementationStatus,
}

#[ComplexObject]
impl ReachingControl {
    async fn control(&self) -> Control {
        Control {
            view: self.view.clone(),
            id: self.id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CoverageState {
    /// An implemented, applicable control reaches it.
    Covered,
    /// Applicable controls reach it; none implemented yet.
    InProgress,
    /// An addressable specification met by a documented alternative.
    Alternative,
    /// An addressable specification documented as not reasonable and appropriate.
    NotReasonable,
    /// Nothing reaches it and nothing was decided.
    Gap,
}

/// The tenant's determination on an addressable specification.
#[derive(Debug, SimpleObject)]
pub struct HipaaDetermination {
    pub decision: AddressableDecision,
    pub rationale: String,
    pub alternative: Option<String>,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// HIPAA Security Rule coverage of an ISMS.
#[derive(Debug, SimpleObject)]
pub struct HipaaCoverage {
    pub items: Vec<HipaaCoverageItem>,
    pub covered: i32,
    pub in_progress: i32,
    pub determined: i32,
    pub gaps: i32,
}

/// One piece of mandatory documented information and whether it is ready for audit.
#[derive(Debug, SimpleObject)]
pub struct ReadinessItem {
    pub key: String,
    pub clause: String,
    pub title: String,
    pub state: ReadinessState,
    pub next_review: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReadinessState {
    Ready,
    Missing,
    NotApproved,
    ReviewOverdue,
}

/// Certification readiness: every mandatory documented information of clauses 4–10.
#[derive(Debug, SimpleObject)]
pub struct Readiness {
    pub ready: bool,
    pub items: Vec<ReadinessItem>,
    /// The items not ready, named.
    pub missing: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Resolvers

#[Object]
impl Isms {
    pub async fn id(&self) -> ID {
        encode(Kind::Isms, self.r.id)
    }
    async fn name(&self) -> &str {
        &self.r.name
    }
    /// The ISMS scope (4.3).
    async fn scope_statement(&self) -> &str {
        &self.r.scope_statement
    }
    async fn boundaries(&self) -> &str {
        &self.r.boundaries
    }
    async fn sites(&self) -> &[String] {
        &self.r.sites
    }
    /// The catalog key of the ISO/IEC 27001 edition followed.
    async fn base_framework(&self) -> &str {
        &self.r.base_framework
    }
    /// The catalog key of the ISO/IEC 27701 edition, when extended to privacy.
    async fn privacy_framework(&self) -> Option<&str> {
        self.r.privacy_framework.as_deref()
    }
    async fn privacy_role(&self) -> Option<PrivacyRole> {
        self.r.privacy_role.map(Into::into)
    }
    /// Whether climate change is a relevant issue (4.1 as amended in 2024), once determined.
    async fn climate_relevant(&self) -> Option<bool> {
        self.r.climate_relevant
    }
    async fn climate_rationale(&self) -> Option<&str> {
        self.r.climate_rationale.as_deref()
    }
    async fn risk_criteria(&self) -> RiskCriteria {
        (&self.r.criteria).into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.r.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.r.updated_at
    }

    /// Context issues and interested parties, optionally of one kind.
    async fn context(
        &self,
        ctx: &Context<'_>,
        kind: Option<ContextKind>,
    ) -> Result<Vec<ContextItem>> {
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let items = tx.context_items(self.r.id).await?;
        tx.commit().await?;
        let kind = kind.map(dom::ContextKind::from);
        Ok(items
            .into_iter()
            .filter(|i| kind.is_none_or(|k| i.kind == k))
            .map(ContextItem)
            .collect())
    }

    /// The SoA draft, in catalog order. Filters narrow the entries, never the progress.
    async fn soa(&self, ctx: &Context<'_>) -> Result<SoaDraft> {
        if let Some((t, v)) = &self.cached {
            let page = t.soa_page(ctx, self.scope, self.r.id).await?;
            return Ok(SoaDraft {
                isms: self.r.id,
                revision: self.r.soa_revision,
                scope: self.scope,
                owners: Owners::filled(page.owners.clone()),
                entries: page.entries.clone(),
                view: v.clone(),
            });
        }
        let az = authorize(ctx, Operation::ReadIsms)?;
        let v = view(ctx, &az).await?;
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let entries = tx.soa_entries(self.r.id).await?;
        tx.commit().await?;
        Ok(SoaDraft {
            isms: self.r.id,
            revision: self.r.soa_revision,
            scope: self.scope,
            owners: Owners::new(entries.iter().map(|e| e.owner_id)),
            entries: Arc::new(entries),
            view: v,
        })
    }

    /// Approved SoA versions, newest first.
    async fn soa_versions(&self, ctx: &Context<'_>) -> Result<Vec<SoaVersion>> {
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let vs = tx.soa_versions(self.r.id).await?;
        tx.commit().await?;
        Ok(vs
            .into_iter()
            .map(|v| SoaVersion { v, view: None })
            .collect())
    }

    /// One approved version by number.
    async fn soa_version(&self, ctx: &Context<'_>, number: i32) -> Result<Option<SoaVersion>> {
        let v = self.catalog_view(ctx).await?;
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let id = tx
            .soa_versions(self.r.id)
            .await?
            .into_iter()
            .find(|x| x.number == number)
            .map(|x| x.id);
        let version = match id {
            Some(id) => tx.soa_version(id).await?,
            None => None,
        };
        tx.commit().await?;
        Ok(version.map(|x| SoaVersion {
            v: x,
            view: Some(v),
        }))
    }

    /// What changed between two approved versions (by number), entry by entry.
    async fn compare_soa_versions(
        &self,
        ctx: &Context<'_>,
        from: i32,
        to: i32,
    ) -> Result<Vec<SoaChange>> {
        let v = self.catalog_view(ctx).await?;
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let all = tx.soa_versions(self.r.id).await?;
        let find = |n: i32| {
            all.iter()
                .find(|x| x.number == n)
                .map(|x| x.id)
                .ok_or_else(|| {
                    gql_error(ErrorCode::NotFound, format!("no approved SoA version {n}"))
                })
        };
        let (a, b) = (find(from)?, find(to)?);
        let a = tx.soa_version(a).await?.ok_or_else(internal)?;
        let b = tx.soa_version(b).await?.ok_or_else(internal)?;
        tx.commit().await?;
        Ok(dom::compare_soa(&a.entries, &b.entries)
            .into_iter()
            .map(|c| SoaChange {
                control_id: encode(Kind::Control, c.control_id),
                control_ref: c.control_ref,
                kind: match c.kind {
                    dom::SoaChangeKind::Added => SoaChangeKind::Added,
                    dom::SoaChangeKind::Removed => SoaChangeKind::Removed,
                    dom::SoaChangeKind::Changed => SoaChangeKind::Changed,
                },
                fields: c.fields.iter().map(|f| (*f).to_owned()).collect(),
                before: c.before.map(|e| SoaVersionEntry {
                    e,
                    view: Some(v.clone()),
                }),
                after: c.after.map(|e| SoaVersionEntry {
                    e,
                    view: Some(v.clone()),
                }),
            })
            .collect())
    }

    /// The risk register, by reference.
    #[graphql(complexity = "super::query::page_cost(first, None, child_complexity)")]
    async fn risks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<RiskFilterInput>,
        #[graphql(default)] order_by: RiskOrder,
    ) -> Result<Connection<String, Risk, ConnectionFields>> {
        let (limit, after) = page_args(first, after)?;
        let f = risk_filter(filter)?;
        let order = grc_store::RiskOrder::from(order_by);
        // By reference the cursor is the last reference (keyset); in the other orders, the
        // position ("#n").
        let (after_ref, offset) = match (&after, order) {
            (None, _) => (None, 0),
            (Some(a), grc_store::RiskOrder::Reference) if !a.starts_with('#') => {
                (Some(a.as_str()), 0)
            }
            (Some(a), o) if o != grc_store::RiskOrder::Reference => (
                None,
                a.strip_prefix('#')
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(|| {
                        gql_error(
                            ErrorCode::BadUserInput,
                            "after is not a cursor of this order",
                        )
                    })?,
            ),
            _ => {
                return Err(gql_error(
                    ErrorCode::BadUserInput,
                    "after is not a cursor of this order",
                ));
            }
        };
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let mut rows = tx
            .risks(self.r.id, &f, order, after_ref, offset, limit + 1)
            .await?;
        let total = if super::connection::wants_total(ctx) {
            tx.risk_count(self.r.id, &f).await?
        } else {
            0
        };
        tx.commit().await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let page = RiskPage::new(
            self.scope,
            HashMap::from([(self.r.id, self.r.criteria.clone())]),
            &rows,
        );
        let mut c = Connection::with_additional_fields(
            after.is_some(),
            more,
            ConnectionFields { total_count: total },
        );
        c.edges.extend(rows.into_iter().enumerate().map(|(i, r)| {
            let key = if order == grc_store::RiskOrder::Reference {
                r.reference.clone()
            } else {
                format!("#{}", offset + i as u64 + 1)
            };
            Edge::new(
                cursor(&key),
                Risk {
                    r,
                    page: page.clone(),
                },
            )
        }));
        Ok(c)
    }

    /// Dated risk assessments, newest first (without their snapshots).
    async fn risk_assessments(&self, ctx: &Context<'_>) -> Result<Vec<RiskAssessment>> {
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let list = tx.risk_assessments(self.r.id).await?;
        tx.commit().await?;
        Ok(list
            .into_iter()
            .map(|a| RiskAssessment {
                a,
                criteria: Some(self.r.criteria.clone()),
            })
            .collect())
    }

    /// The results of risk assessment as they stood on a date: the latest assessment
    /// performed on or before it (8.2: "results of risk assessments" for any past date).
    async fn risk_assessment_as_of(
        &self,
        ctx: &Context<'_>,
        date: NaiveDate,
    ) -> Result<Option<RiskAssessment>> {
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let a = tx.risk_assessment_as_of(self.r.id, date).await?;
        tx.commit().await?;
        Ok(a.map(|a| RiskAssessment {
            a,
            criteria: Some(self.r.criteria.clone()),
        }))
    }

    /// Risks per likelihood × impact cell, inherent and residual, on the current criteria.
    async fn heat_map(&self, ctx: &Context<'_>) -> Result<RiskHeatMaps> {
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let risks = tx.all_risks(self.r.id).await?;
        tx.commit().await?;
        let c = &self.r.criteria;
        Ok(RiskHeatMaps {
            inherent: heat_map(c, risks.iter().map(|r| r.inherent).collect()),
            residual: heat_map(c, risks.iter().filter_map(|r| r.residual).collect()),
        })
    }

    /// HIPAA Security Rule coverage: for each standard and implementation specification, the
    /// ISMS's SoA controls that reach it through crosswalk paths whose every link counts (the
    /// tenant confirmed it, or it is published and not rejected), and the tenant's
    /// determination for addressable ones (164.306(d)).
    async fn hipaa_coverage(&self, ctx: &Context<'_>) -> Result<HipaaCoverage> {
        let v = self.catalog_view(ctx).await?;
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let entries = tx.soa_entries(self.r.id).await?;
        let determinations = tx.hipaa_determinations(self.r.id).await?;
        tx.commit().await?;
        Ok(hipaa_coverage(&v, &entries, determinations))
    }

    /// Certification readiness on today's date (UTC): every mandatory documented information of
    /// clauses 4–10 present, approved and within its review date.
    async fn readiness(&self, ctx: &Context<'_>, on: Option<NaiveDate>) -> Result<Readiness> {
        let today = on.unwrap_or_else(|| Utc::now().date_naive());
        let tx = store(ctx).tenant_tx(self.scope).await?;
        let versions = tx.soa_versions(self.r.id).await?;
        let assessments = tx.risk_assessments(self.r.id).await?;
        let mut states: HashMap<&'static str, dom::DocumentState> = HashMap::new();
        for (k, s) in tx.readiness_records(self.r.id, today).await? {
            states.insert(k, s);
        }
        for (k, s) in tx.readiness_audits(self.r.id, today).await? {
            states.insert(k, s);
        }
        tx.commit().await?;
        let latest_soa = versions.first();
        states.insert(
            "statement-of-applicability",
            dom::DocumentState {
                present: latest_soa.is_some(),
                approved: latest_soa.is_some_and(|v| v.intact),
                next_review: None,
            },
        );
        let latest_assessment = assessments.iter().find(|a| a.performed_on <= today);
        states.insert(
            "risk-assessment-results",
            dom::DocumentState {
                present: latest_assessment.is_some(),
                approved: true,
                // Assessments at planned intervals: a year after the last one.
                next_review: latest_assessment
                    .and_then(|a| a.performed_on.checked_add_months(chrono::Months::new(12))),
            },
        );
        Ok(readiness(&states, today))
    }

    /// The assets of this ISMS's inventory.
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AssetFilterInput>,
    ) -> Result<Connection<String, Asset, ConnectionFields>> {
        let mut f = asset_filter(filter)?;
        f.isms_id = Some(self.r.id);
        asset_page(ctx, self.scope, &f, first, after).await
    }
}

/// A forward page's size and decoded `after` cursor.
fn page_args(first: Option<i32>, after: Option<String>) -> Result<(u64, Option<String>)> {
    let after = after
        .map(|c| {
            decode_cursor(&c).ok_or_else(|| {
                gql_error(
                    ErrorCode::BadUserInput,
                    "after is not a cursor of this connection",
                )
            })
        })
        .transpose()?;
    Ok((page_size(first)?, after))
}

fn page_size(first: Option<i32>) -> Result<u64> {
    let n = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&n) {
        return Err(gql_error(
            ErrorCode::BadUserInput,
            format!("first must be between 0 and {MAX_PAGE}"),
        ));
    }
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Coverage of every HIPAA standard and specification from the SoA draft.
fn hipaa_coverage(
    v: &Arc<CatalogView>,
    entries: &[SoaEntryRecord],
    determinations: Vec<grc_store::DeterminationRecord>,
) -> HipaaCoverage {
    let Some(hipaa) = v.index.framework_by_key(HIPAA_FRAMEWORK) else {
        return HipaaCoverage {
            items: Vec::new(),
            covered: 0,
            in_progress: 0,
            determined: 0,
            gaps: 0,
        };
    };
    let by_control: HashMap<Uuid, &SoaEntryRecord> =
        entries.iter().map(|e| (e.control_id, e)).collect();
    let mut decided: HashMap<Uuid, grc_store::DeterminationRecord> = determinations
        .into_iter()
        .map(|d| (d.control_id, d))
        .collect();
    let overlay = &v.tenant.overlay;
    let counts = |p: &grc_catalog::MappingPath| {
        p.hops
            .iter()
            .all(|h| match v.index.state_of(h.link, overlay) {
                MappingState::Confirmed => true,
                MappingState::Rejected => false,
                MappingState::Informative => v.index.method_of(h.link) == Method::Published,
            })
    };
    let (mut covered, mut in_progress, mut determined, mut gaps) = (0, 0, 0, 0);
    let mut items = Vec::new();
    for spec in &hipaa.controls {
        let required = spec.requirement != Some(Requirement::Addressable);
        let mut reaching: Vec<Uuid> = v
            .index
            .paths_from(spec.id, None, COVERAGE_HOPS, false, overlay)
            .into_iter()
            .filter(|p| by_control.contains_key(&p.target) && counts(p))
            .map(|p| p.target)
            .collect();
        reaching.sort();
        reaching.dedup();
        let controls: Vec<ReachingControl> = reaching
            .iter()
            .filter_map(|c| by_control.get(c))
            .map(|e| ReachingControl {
                id: e.control_id,
                view: v.clone(),
                applicable: e.applicable,
                status: e.status.into(),
            })
            .collect();
        let det = decided.remove(&spec.id);
        let state = dom::coverage(
            required,
            &controls
                .iter()
                .map(|c| dom::ReachingControl {
                    applicable: c.applicable,
                    status: c.status.into(),
                })
                .collect::<Vec<_>>(),
            det.as_ref().map(|d| d.decision),
        );
        let state = match state {
            dom::CoverageState::Covered => {
                covered += 1;
                CoverageState::Covered
            }
            dom::CoverageState::InProgress => {
                in_progress += 1;
                CoverageState::InProgress
            }
            dom::CoverageState::Determined(d) => {
                determined += 1;
                if d == dom::AddressableDecision::Alternative {
                    CoverageState::Alternative
                } else {
                    CoverageState::NotReasonable
                }
            }
            dom::CoverageState::Gap => {
                gaps += 1;
                CoverageState::Gap
            }
        };
        items.push(HipaaCoverageItem {
            spec: spec.id,
            view: v.clone(),
            required,
            state,
            controls,
            determination: det.map(|d| HipaaDetermination {
                decision: d.decision.into(),
                rationale: d.rationale,
                alternative: d.alternative,
                decided_by: d.decided_by,
                decided_at: d.decided_at,
            }),
        });
    }
    HipaaCoverage {
        items,
        covered,
        in_progress,
        determined,
        gaps,
    }
}

fn readiness(states: &HashMap<&'static str, dom::DocumentState>, today: NaiveDate) -> Readiness {
    let mut items = Vec::new();
    let mut missing = Vec::new();
    for d in dom::MANDATORY_DOCUMENTS {
        let s = states.get(d.key).copied().unwrap_or_default();
        let state = match dom::readiness_gap(s, today) {
            None => ReadinessState::Ready,
            Some(dom::ReadinessGap::Missing) => ReadinessState::Missing,
            Some(dom::ReadinessGap::NotApproved) => ReadinessState::NotApproved,
            Some(dom::ReadinessGap::ReviewOverdue(_)) => ReadinessState::ReviewOverdue,
        };
        if state != ReadinessState::Ready {
            missing.push(format!("{} {}", d.clause, d.title));
        }
        items.push(ReadinessItem {
            key: d.key.to_owned(),
            clause: d.clause.to_owned(),
            title: d.title.to_owned(),
            state,
            next_review: s.next_review,
        });
    }
    Readiness {
        ready: missing.is_empty(),
        items,
        missing,
    }
}

#[Object]
impl SoaDraft {
    /// Bumped by every change; pass it to `approveSoa` to approve exactly what you reviewed.
    async fn revision(&self) -> i64 {
        self.revision
    }
    async fn management_system_id(&self) -> ID {
        encode(Kind::Isms, self.isms)
    }
    /// The entries, in catalog order, optionally filtered.
    async fn entries(
        &self,
        applicable: Option<bool>,
        status: Option<ImplementationStatus>,
        owner_id: Option<ID>,
        framework: Option<String>,
    ) -> Vec<SoaDraftEntry> {
        let owner = owner_id.map(|o| decode_kind(&o, Kind::User));
        let framework =
            framework.and_then(|k| self.view.framework_by_key(&k).map(|f| f.framework().id));
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| applicable.is_none_or(|a| e.applicable == a))
            .filter(|(_, e)| status.is_none_or(|s| e.status == s.into()))
            .filter(|(_, e)| owner.is_none_or(|o| o.is_some() && e.owner_id == o))
            .filter(|(_, e)| {
                framework.is_none_or(|f| {
                    self.view
                        .index
                        .control(e.control_id)
                        .is_some_and(|(fw, _)| fw.id == f)
                })
            })
            .map(|(i, _)| SoaDraftEntry {
                page: self.entries.clone(),
                i,
                scope: self.scope,
                view: self.view.clone(),
                owners: self.owners.clone(),
            })
            .collect()
    }
    async fn progress(&self) -> SoaProgress {
        dom::SoaProgress::of(self.entries.iter().map(|e| (e.applicable, e.status))).into()
    }
    /// Entries that block approval: no justification for their inclusion or exclusion.
    async fn unjustified(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.justification.trim().is_empty())
            .map(|e| e.control_ref.clone())
            .collect()
    }
}

impl SoaDraftEntry {
    fn e(&self) -> &SoaEntryRecord {
        &self.page[self.i]
    }
}

#[Object]
impl SoaDraftEntry {
    async fn control(&self) -> Control {
        Control {
            view: self.view.clone(),
            id: self.e().control_id,
        }
    }
    async fn control_ref(&self) -> &str {
        &self.e().control_ref
    }
    async fn applicable(&self) -> bool {
        self.e().applicable
    }
    /// Why the control is included, or why it is excluded (6.1.3 d).
    async fn justification(&self) -> &str {
        &self.e().justification
    }
    async fn status(&self) -> ImplementationStatus {
        self.e().status.into()
    }
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        self.owners.get(ctx, self.scope, self.e().owner_id).await
    }
    /// The vendor the control is inherited from (`setSoaEntryInheritance` sets it).
    async fn inherited_from(&self) -> Option<ID> {
        self.e()
            .inherited_from
            .map(|v| super::ids::encode(super::ids::Kind::Vendor, v))
    }
    /// Whether the inheritance still rests on the vendor's shared SoA summary, judged now:
    /// a revoked share or a changed vendor entry shows here at once. Null when not inherited.
    async fn inheritance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::sharing::SoaInheritance>> {
        let Some(vendor) = self.e().inherited_from else {
            return Ok(None);
        };
        let tx = store(ctx)
            .tenant_tx(self.scope)
            .await
            .map_err(crate::errors::StoreErrorExt)?;
        let inh = super::sharing::inheritance(&tx, self.scope, vendor, self.e().control_id)
            .await
            .map_err(crate::errors::StoreErrorExt)?;
        tx.commit().await.map_err(crate::errors::StoreErrorExt)?;
        Ok(Some(inh))
    }
    async fn notes(&self) -> Option<&str> {
        self.e().notes.as_deref()
    }
    /// Risks of this ISMS treated by the control.
    async fn risk_count(&self) -> i64 {
        self.e().risk_count
    }
    /// Current (not archived) evidence linked to the control.
    async fn evidence_count(&self) -> i64 {
        self.e().evidence_count
    }
    async fn updated_by(&self) -> &str {
        &self.e().updated_by
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.e().updated_at
    }
}

#[Object]
impl SoaVersion {
    pub async fn id(&self) -> ID {
        encode(Kind::SoaVersion, self.v.id)
    }
    async fn management_system_id(&self) -> ID {
        encode(Kind::Isms, self.v.isms_id)
    }
    async fn number(&self) -> i32 {
        self.v.number
    }
    /// The draft revision this version froze.
    async fn draft_revision(&self) -> i64 {
        self.v.draft_revision
    }
    async fn approved_by(&self) -> &str {
        &self.v.approved_by
    }
    async fn approved_at(&self) -> DateTime<Utc> {
        self.v.approved_at
    }
    async fn note(&self) -> Option<&str> {
        self.v.note.as_deref()
    }
    async fn entry_count(&self) -> i32 {
        self.v.entry_count
    }
    /// SHA-256 of the frozen entries, taken at approval.
    async fn digest(&self) -> &str {
        &self.v.digest
    }
    /// Whether the stored entries still match the digest (false means the row was altered
    /// outside grc).
    async fn intact(&self) -> bool {
        self.v.intact
    }
    /// The frozen entries (loaded when the version is fetched alone).
    async fn entries(&self, ctx: &Context<'_>) -> Result<Vec<SoaVersionEntry>> {
        let (entries, view) = if self.v.entries.is_empty() && self.v.entry_count > 0 {
            let az = authorize(ctx, Operation::ReadIsms)?;
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let full = tx.soa_version(self.v.id).await?.ok_or_else(internal)?;
            tx.commit().await?;
            (full.entries, Some(view(ctx, &az).await?))
        } else {
            (self.v.entries.clone(), self.view.clone())
        };
        Ok(entries
            .into_iter()
            .map(|e| SoaVersionEntry {
                e,
                view: view.clone(),
            })
            .collect())
    }
    async fn progress(&self, ctx: &Context<'_>) -> Result<SoaProgress> {
        let entries = self.entries(ctx).await?;
        Ok(dom::SoaProgress::of(entries.iter().map(|e| (e.e.applicable, e.e.status))).into())
    }
}

#[Object]
impl SoaVersionEntry {
    /// The control, if still in the catalog (versions keep their frozen reference either way).
    async fn control(&self) -> Option<Control> {
        let v = self.view.as_ref()?;
        v.control(self.e.control_id)?;
        Some(Control {
            view: v.clone(),
            id: self.e.control_id,
        })
    }
    async fn control_id(&self) -> ID {
        encode(Kind::Control, self.e.control_id)
    }
    async fn control_ref(&self) -> &str {
        &self.e.control_ref
    }
    async fn applicable(&self) -> bool {
        self.e.applicable
    }
    async fn justification(&self) -> &str {
        &self.e.justification
    }
    async fn status(&self) -> ImplementationStatus {
        self.e.status.into()
    }
    async fn owner_id(&self) -> Option<ID> {
        self.e.owner.map(|o| encode(Kind::User, o))
    }
    async fn risk_ids(&self) -> Vec<ID> {
        self.e
            .risks
            .iter()
            .map(|r| encode(Kind::Risk, *r))
            .collect()
    }
    async fn evidence_ids(&self) -> Vec<ID> {
        self.e
            .evidence
            .iter()
            .map(|r| encode(Kind::Evidence, *r))
            .collect()
    }
}

#[Object]
impl ContextItem {
    pub async fn id(&self) -> ID {
        encode(Kind::ContextItem, self.0.id)
    }
    async fn kind(&self) -> ContextKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// For an interested party: its relevant requirements (4.2 b).
    async fn requirements(&self) -> Option<&str> {
        self.0.requirements.as_deref()
    }
    /// For an interested party: whether the ISMS addresses its requirements (4.2 c).
    async fn addressed_by_isms(&self) -> Option<bool> {
        self.0.addressed_by_isms
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[Object]
impl Asset {
    pub async fn id(&self) -> ID {
        encode(Kind::Asset, self.a.id)
    }
    async fn name(&self) -> &str {
        &self.a.name
    }
    async fn kind(&self) -> AssetKind {
        self.a.kind.into()
    }
    async fn classification(&self) -> Classification {
        self.a.classification.into()
    }
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        self.owners.get(ctx, self.scope, self.a.owner_id).await
    }
    async fn location(&self) -> Option<&str> {
        self.a.location.as_deref()
    }
    async fn description(&self) -> &str {
        &self.a.description
    }
    /// Whether the asset creates, receives, maintains or transmits ePHI (the HIPAA inventory).
    async fn ephi(&self) -> bool {
        self.a.ephi
    }
    async fn management_system_id(&self) -> Option<ID> {
        self.a.isms_id.map(|i| encode(Kind::Isms, i))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.a.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.a.updated_at
    }
}

#[Object]
impl Risk {
    pub async fn id(&self) -> ID {
        encode(Kind::Risk, self.r.id)
    }
    #[graphql(name = "ref")]
    async fn reference(&self) -> &str {
        &self.r.reference
    }
    async fn title(&self) -> &str {
        &self.r.title
    }
    async fn description(&self) -> &str {
        &self.r.description
    }
    async fn threat(&self) -> &str {
        &self.r.threat
    }
    async fn vulnerability(&self) -> &str {
        &self.r.vulnerability
    }
    async fn management_system_id(&self) -> ID {
        encode(Kind::Isms, self.r.isms_id)
    }
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        self.page
            .owners
            .get(ctx, self.page.scope, self.r.owner_id)
            .await
    }
    async fn inherent(&self) -> RiskRating {
        rating_of(self.r.inherent, self.page.criteria.get(&self.r.isms_id))
    }
    async fn residual(&self) -> Option<RiskRating> {
        self.r
            .residual
            .map(|r| rating_of(r, self.page.criteria.get(&self.r.isms_id)))
    }
    async fn treatment(&self) -> Option<RiskTreatment> {
        self.r.treatment.map(Into::into)
    }
    async fn treatment_plan(&self) -> Option<&str> {
        self.r.treatment_plan.as_deref()
    }
    /// Who accepted the residual risk (the risk owner, 6.1.3 f), and when.
    async fn accepted_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        self.page
            .owners
            .get(ctx, self.page.scope, self.r.accepted_by)
            .await
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.r.accepted_at
    }
    async fn review_date(&self) -> Option<NaiveDate> {
        self.r.review_date
    }
    /// The assets the risk concerns (loaded for the whole page at once).
    async fn assets(&self, ctx: &Context<'_>) -> Result<Vec<Asset>> {
        let st = store(ctx);
        let (by_risk, _) = self.page.links(st).await?;
        let assets = self.page.assets(st).await?;
        let mut out: Vec<Asset> = by_risk
            .get(&self.r.id)
            .into_iter()
            .flatten()
            .filter_map(|a| assets.get(a))
            .map(|a| Asset {
                a: a.clone(),
                scope: self.page.scope,
                owners: self.page.owners.clone(),
            })
            .collect();
        out.sort_by(|x, y| x.a.name.cmp(&y.a.name));
        Ok(out)
    }
    /// The controls that treat the risk (loaded for the whole page at once).
    async fn controls(&self, ctx: &Context<'_>) -> Result<Vec<Control>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let v = view(ctx, &az).await?;
        let (_, by_risk) = self.page.links(store(ctx)).await?;
        let mut out: Vec<(String, Control)> = by_risk
            .get(&self.r.id)
            .into_iter()
            .flatten()
            .filter_map(|c| v.control(*c).map(|(_, ctl)| (ctl.reference.clone(), *c)))
            .map(|(r, id)| {
                (
                    r,
                    Control {
                        view: v.clone(),
                        id,
                    },
                )
            })
            .collect();
        out.sort_by(|a, b| dom::natural_ref_cmp(&a.0, &b.0));
        Ok(out.into_iter().map(|(_, c)| c).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.r.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.r.updated_at
    }
}

#[Object]
impl RiskAssessment {
    pub async fn id(&self) -> ID {
        encode(Kind::RiskAssessment, self.a.id)
    }
    async fn number(&self) -> i32 {
        self.a.number
    }
    async fn title(&self) -> &str {
        &self.a.title
    }
    async fn performed_on(&self) -> NaiveDate {
        self.a.performed_on
    }
    async fn recorded_by(&self) -> &str {
        &self.a.recorded_by
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.a.recorded_at
    }
    async fn risk_count(&self) -> i32 {
        self.a.risk_count
    }
    async fn digest(&self) -> &str {
        &self.a.digest
    }
    /// Whether the stored snapshot still matches its digest.
    async fn intact(&self) -> bool {
        self.a.intact
    }
    /// The register as recorded (ratings judged against today's criteria).
    async fn risks(&self, ctx: &Context<'_>) -> Result<Vec<AssessedRisk>> {
        let risks = if self.a.risks.is_empty() && self.a.risk_count > 0 {
            let az = authorize(ctx, Operation::ReadIsms)?;
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let full = tx.risk_assessment(self.a.id).await?.ok_or_else(internal)?;
            tx.commit().await?;
            full.risks
        } else {
            self.a.risks.clone()
        };
        let c = self.criteria.as_ref();
        Ok(risks
            .into_iter()
            .map(|s| AssessedRisk {
                risk_id: encode(Kind::Risk, s.risk.id),
                reference: s.risk.reference,
                title: s.risk.title,
                threat: s.risk.threat,
                vulnerability: s.risk.vulnerability,
                owner_id: s.risk.owner_id.map(|o| encode(Kind::User, o)),
                inherent: rating_of(s.risk.inherent, c),
                residual: s.risk.residual.map(|r| rating_of(r, c)),
                treatment: s.risk.treatment.map(Into::into),
                accepted_at: s.risk.accepted_at,
                asset_ids: s.assets.iter().map(|a| encode(Kind::Asset, *a)).collect(),
                control_ids: s
                    .controls
                    .iter()
                    .map(|a| encode(Kind::Control, *a))
                    .collect(),
            })
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct IsmsQuery;

/// Orders of the risk register (ties by reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum RiskOrder {
    /// By reference (the default).
    #[default]
    Ref,
    /// Highest inherent score first.
    InherentScore,
    /// Highest residual score first; unrated risks last.
    ResidualScore,
    /// Earliest review date first; risks without one last.
    ReviewDate,
}

impl From<RiskOrder> for grc_store::RiskOrder {
    fn from(o: RiskOrder) -> Self {
        match o {
            RiskOrder::Ref => Self::Reference,
            RiskOrder::InherentScore => Self::InherentScore,
            RiskOrder::ResidualScore => Self::ResidualScore,
            RiskOrder::ReviewDate => Self::ReviewDate,
        }
    }
}

/// Filters for the risk register.
#[derive(Debug, InputObject)]
pub struct RiskFilterInput {
    pub owner_id: Option<ID>,
    pub treatment: Option<RiskTreatment>,
    /// Risks treated by this control.
    pub control_id: Option<ID>,
    /// Risks concerning this asset.
    pub asset_id: Option<ID>,
    pub accepted: Option<bool>,
    /// Risks whose review date is before this date (overdue reviews: today).
    pub review_before: Option<NaiveDate>,
}

fn bad_filter(field: &str) -> async_graphql::Error {
    gql_error(
        ErrorCode::BadUserInput,
        format!("filter.{field} is not an id of the right kind"),
    )
}

fn risk_filter(f: Option<RiskFilterInput>) -> Result<RiskFilter> {
    let Some(f) = f else {
        return Ok(RiskFilter::default());
    };
    Ok(RiskFilter {
        owner_id: f
            .owner_id
            .map(|o| decode_kind(&o, Kind::User).ok_or_else(|| bad_filter("ownerId")))
            .transpose()?,
        treatment: f.treatment.map(Into::into),
        control_id: f
            .control_id
            .map(|o| decode_kind(&o, Kind::Control).ok_or_else(|| bad_filter("controlId")))
            .transpose()?,
        asset_id: f
            .asset_id
            .map(|o| decode_kind(&o, Kind::Asset).ok_or_else(|| bad_filter("assetId")))
            .transpose()?,
        accepted: f.accepted,
        review_before: f.review_before,
    })
}

/// Filters for the asset inventory.
#[derive(Debug, InputObject)]
pub struct AssetFilterInput {
    pub ephi: Option<bool>,
    pub kind: Option<AssetKind>,
    pub owner_id: Option<ID>,
}

fn asset_filter(f: Option<AssetFilterInput>) -> Result<AssetFilter> {
    let Some(f) = f else {
        return Ok(AssetFilter::default());
    };
    Ok(AssetFilter {
        ephi: f.ephi,
        kind: f.kind.map(Into::into),
        owner_id: f
            .owner_id
            .map(|o| decode_kind(&o, Kind::User).ok_or_else(|| bad_filter("ownerId")))
            .transpose()?,
        isms_id: None,
    })
}

async fn asset_page(
    ctx: &Context<'_>,
    scope: TenantScope,
    f: &AssetFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, Asset, ConnectionFields>> {
    let (limit, after) = page_args(first, after)?;
    let tx = store(ctx).tenant_tx(scope).await?;
    let mut rows = tx.assets(f, after.as_deref(), limit + 1).await?;
    let total = if super::connection::wants_total(ctx) {
        tx.asset_count(f).await?
    } else {
        0
    };
    tx.commit().await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let owners = Owners::new(rows.iter().map(|a| a.owner_id));
    let mut c = Connection::with_additional_fields(
        after.is_some(),
        more,
        ConnectionFields { total_count: total },
    );
    c.edges.extend(rows.into_iter().map(|a| {
        Edge::new(
            cursor(&a.name),
            Asset {
                a,
                scope,
                owners: owners.clone(),
            },
        )
    }));
    Ok(c)
}

#[Object]
impl IsmsQuery {
    /// The tenant's management systems, by name.
    async fn management_systems(&self, ctx: &Context<'_>) -> Result<Vec<Isms>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let (t, v) = isms_cache(ctx)?.tenant(ctx, &az).await?;
        Ok(t.systems
            .iter()
            .map(|r| Isms {
                r: r.clone(),
                scope: az.scope,
                cached: Some((t.clone(), v.clone())),
            })
            .collect())
    }

    /// One management system; null if it is not the tenant's.
    async fn management_system(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Isms>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let Some(uuid) = decode_kind(&id, Kind::Isms) else {
            return Ok(None);
        };
        let (t, v) = isms_cache(ctx)?.tenant(ctx, &az).await?;
        Ok(t.systems.iter().find(|r| r.id == uuid).map(|r| Isms {
            r: r.clone(),
            scope: az.scope,
            cached: Some((t.clone(), v)),
        }))
    }

    /// The tenant's asset inventory (all management systems), by name.
    #[graphql(complexity = "super::query::page_cost(first, None, child_complexity)")]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AssetFilterInput>,
    ) -> Result<Connection<String, Asset, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let f = asset_filter(filter)?;
        asset_page(ctx, az.scope, &f, first, after).await
    }

    async fn asset(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Asset>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        node_asset(ctx, &az, decode_kind(&id, Kind::Asset)).await
    }

    async fn risk(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Risk>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        node_risk(ctx, &az, decode_kind(&id, Kind::Risk)).await
    }
}

pub(crate) async fn node_asset(
    ctx: &Context<'_>,
    az: &Authorized,
    id: Option<Uuid>,
) -> Result<Option<Asset>> {
    let Some(id) = id else { return Ok(None) };
    let tx = store(ctx).tenant_tx(az.scope).await?;
    let a = tx.assets_by_ids(&[id]).await?.pop();
    tx.commit().await?;
    Ok(a.map(|a| Asset {
        owners: Owners::new([a.owner_id]),
        a,
        scope: az.scope,
    }))
}

pub(crate) async fn node_risk(
    ctx: &Context<'_>,
    az: &Authorized,
    id: Option<Uuid>,
) -> Result<Option<Risk>> {
    let Some(id) = id else { return Ok(None) };
    let tx = store(ctx).tenant_tx(az.scope).await?;
    let Some(r) = tx.risk(id).await? else {
        return Ok(None);
    };
    let isms = tx.isms(r.isms_id).await?.ok_or_else(internal)?;
    tx.commit().await?;
    let page = RiskPage::new(
        az.scope,
        HashMap::from([(isms.id, isms.criteria)]),
        std::slice::from_ref(&r),
    );
    Ok(Some(Risk { r, page }))
}

/// Resolves ISMS node kinds (called by the node resolver).
pub(crate) async fn node(
    ctx: &Context<'_>,
    az: &Authorized,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    Ok(match kind {
        Kind::Isms => {
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let r = tx.isms(id).await?;
            tx.commit().await?;
            r.map(|r| Node::Isms(Isms::new(r, az.scope)))
        }
        Kind::Asset => node_asset(ctx, az, Some(id)).await?.map(Node::Asset),
        Kind::Risk => node_risk(ctx, az, Some(id)).await?.map(Node::Risk),
        Kind::ContextItem => {
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let r = tx.context_item(id).await?;
            tx.commit().await?;
            r.map(|r| Node::ContextItem(ContextItem(r)))
        }
        Kind::SoaVersion => {
            let v = view(ctx, az).await?;
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let r = tx.soa_version(id).await?;
            tx.commit().await?;
            r.map(|r| {
                Node::SoaVersion(SoaVersion {
                    v: r,
                    view: Some(v),
                })
            })
        }
        Kind::RiskAssessment => {
            let tx = store(ctx).tenant_tx(az.scope).await?;
            let r = tx.risk_assessment(id).await?;
            let criteria = match &r {
                Some(a) => tx.isms(a.isms_id).await?.map(|i| i.criteria),
                None => None,
            };
            tx.commit().await?;
            r.map(|a| Node::RiskAssessment(RiskAssessment { a, criteria }))
        }
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct IsmsMutation;

/// The privacy extension of an ISMS (ISO/IEC 27701).
#[derive(Debug, InputObject)]
pub struct PrivacyInput {
    /// `iso27701-2019` or `iso27701-2025`.
    pub framework: String,
    pub role: PrivacyRole,
}

#[derive(Debug, InputObject)]
pub struct RiskCriteriaInput {
    pub likelihood_levels: i32,
    pub impact_levels: i32,
    pub acceptance_threshold: i32,
    #[graphql(default)]
    pub likelihood_labels: Vec<String>,
    #[graphql(default)]
    pub impact_labels: Vec<String>,
}

fn criteria_from(input: &RiskCriteriaInput) -> Result<dom::RiskCriteria, MutationError> {
    let level = |field: &str, v: i32| {
        u8::try_from(v).map_err(|_| {
            invalid(
                field,
                format!(
                    "a scale has {} to {} levels",
                    dom::MIN_SCALE,
                    dom::MAX_SCALE
                ),
            )
        })
    };
    let c = dom::RiskCriteria {
        likelihood_levels: level("riskCriteria.likelihoodLevels", input.likelihood_levels)?,
        impact_levels: level("riskCriteria.impactLevels", input.impact_levels)?,
        acceptance_threshold: u16::try_from(input.acceptance_threshold).map_err(|_| {
            invalid(
                "riskCriteria.acceptanceThreshold",
                "the threshold is a positive score",
            )
        })?,
        likelihood_labels: input
            .likelihood_labels
            .iter()
            .map(|l| l.trim().to_owned())
            .collect(),
        impact_labels: input
            .impact_labels
            .iter()
            .map(|l| l.trim().to_owned())
            .collect(),
    };
    c.validate().map_err(|e| match e {
        grc_domain::DomainError::Invalid(f) => {
            let field = format!("riskCriteria.{}", f.field.join("."));
            invalid(&field, f.message)
        }
        other => other.into(),
    })?;
    Ok(c)
}

#[derive(Debug, InputObject)]
pub struct CreateManagementSystemInput {
    pub name: String,
    pub scope_statement: String,
    #[graphql(default)]
    pub boundaries: String,
    #[graphql(default)]
    pub sites: Vec<String>,
    pub privacy: Option<PrivacyInput>,
    pub climate_relevant: Option<bool>,
    pub climate_rationale: Option<String>,
    /// Defaults to a 5 × 5 matrix accepting scores up to 6.
    pub risk_criteria: Option<RiskCriteriaInput>,
}

#[derive(Debug, InputObject)]
pub struct UpdateManagementSystemInput {
    pub id: ID,
    pub name: Option<String>,
    pub scope_statement: Option<String>,
    pub boundaries: Option<String>,
    pub sites: Option<Vec<String>>,
    /// Set to change the privacy extension; `removePrivacy` drops it.
    pub privacy: Option<PrivacyInput>,
    #[graphql(default)]
    pub remove_privacy: bool,
    pub climate_relevant: Option<bool>,
    pub climate_rationale: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct ManagementSystemPayload {
    pub management_system: Option<Isms>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct SetRiskCriteriaInput {
    pub management_system_id: ID,
    pub criteria: RiskCriteriaInput,
}

#[derive(Debug, InputObject)]
pub struct ContextItemInput {
    /// For a new item: the ISMS. Ignored on update.
    pub management_system_id: Option<ID>,
    /// For an update: the item.
    pub id: Option<ID>,
    pub kind: ContextKind,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub requirements: Option<String>,
    pub addressed_by_isms: Option<bool>,
}

#[derive(Debug, SimpleObject)]
pub struct ContextItemPayload {
    pub item: Option<ContextItem>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AssetInput {
    /// For an update: the asset.
    pub id: Option<ID>,
    pub management_system_id: Option<ID>,
    pub name: String,
    pub kind: AssetKind,
    pub classification: Classification,
    /// A member; a contributor's new asset is its own.
    pub owner_id: Option<ID>,
    pub location: Option<String>,
    #[graphql(default)]
    pub description: String,
    #[graphql(default)]
    pub ephi: bool,
}

#[derive(Debug, SimpleObject)]
pub struct AssetPayload {
    pub asset: Option<Asset>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RatingInput {
    pub likelihood: i32,
    pub impact: i32,
}

#[derive(Debug, InputObject)]
pub struct RiskInput {
    /// For an update: the risk.
    pub id: Option<ID>,
    /// For a new risk: its ISMS.
    pub management_system_id: Option<ID>,
    /// The register's reference, e.g. `R-001`, unique within the ISMS.
    #[graphql(name = "ref")]
    pub reference: String,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    #[graphql(default)]
    pub threat: String,
    #[graphql(default)]
    pub vulnerability: String,
    pub owner_id: Option<ID>,
    pub inherent: RatingInput,
    pub residual: Option<RatingInput>,
    pub treatment: Option<RiskTreatment>,
    pub treatment_plan: Option<String>,
    pub review_date: Option<NaiveDate>,
    /// Replaces the assets when given.
    pub asset_ids: Option<Vec<ID>>,
    /// Replaces the treating controls when given (SoA controls of the ISMS).
    pub control_ids: Option<Vec<ID>>,
}

#[derive(Debug, SimpleObject)]
pub struct RiskPayload {
    pub risk: Option<Risk>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RecordRiskAssessmentInput {
    pub management_system_id: ID,
    pub title: String,
    pub performed_on: NaiveDate,
}

#[derive(Debug, SimpleObject)]
pub struct RiskAssessmentPayload {
    pub assessment: Option<RiskAssessment>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct SoaEntryInput {
    pub control_id: ID,
    pub applicable: Option<bool>,
    pub justification: Option<String>,
    pub status: Option<ImplementationStatus>,
    /// A member, or null to clear (omit to keep).
    pub owner_id: Option<Option<ID>>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, InputObject)]
pub struct UpdateSoaEntriesInput {
    pub management_system_id: ID,
    pub entries: Vec<SoaEntryInput>,
}

#[derive(Debug, SimpleObject)]
pub struct SoaPayload {
    /// The draft's revision after the change.
    pub revision: Option<i64>,
    pub changed: i32,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ApproveSoaInput {
    pub management_system_id: ID,
    /// The draft revision you reviewed (`soa.revision`): approval is refused if the draft
    /// changed since, or if that revision was already approved.
    pub revision: i64,
    pub note: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct ApproveSoaPayload {
    pub version: Option<SoaVersion>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct HipaaDeterminationInput {
    pub management_system_id: ID,
    /// An addressable HIPAA implementation specification.
    pub specification_id: ID,
    pub decision: AddressableDecision,
    #[graphql(default)]
    pub rationale: String,
    /// For an alternative: the equivalent measure implemented.
    pub alternative: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct HipaaDeterminationPayload {
    pub determination: Option<HipaaDetermination>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeletePayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

fn sites(input: &[String]) -> Result<Vec<String>, MutationError> {
    if input.len() > 100 {
        return Err(invalid("sites", "at most 100 sites"));
    }
    input
        .iter()
        .map(|s| checked_text("sites", s, MAX_TITLE))
        .collect()
}

/// The SoA controls of an ISMS: Annex A of the base edition, plus the 27701 controls of its
/// privacy role.
fn soa_controls(
    v: &CatalogView,
    privacy: Option<(&str, dom::PrivacyRole)>,
) -> Result<Vec<SoaControl>, MutationError> {
    let base = v
        .index
        .framework_by_key(BASE_FRAMEWORK)
        .ok_or_else(|| MutationError::from(internal()))?;
    let mut out: Vec<SoaControl> = base
        .controls
        .iter()
        .filter(|c| c.kind == "control" && c.status == grc_catalog::ControlStatus::Active)
        .map(|c| SoaControl {
            control_id: c.id,
            control_ref: c.reference.clone(),
            sort: c.sort,
        })
        .collect();
    if let Some((key, role)) = privacy {
        let f = v
            .index
            .framework_by_key(key)
            .filter(|_| PRIVACY_FRAMEWORKS.contains(&key))
            .ok_or_else(|| {
                invalid(
                    "privacy.framework",
                    format!("must be one of {}", PRIVACY_FRAMEWORKS.join(", ")),
                )
            })?;
        let wants = |tags: &[String]| match role {
            dom::PrivacyRole::Both => true,
            dom::PrivacyRole::Controller => tags.iter().any(|t| t == "controller"),
            dom::PrivacyRole::Processor => tags.iter().any(|t| t == "processor"),
        };
        out.extend(
            f.controls
                .iter()
                .filter(|c| {
                    c.kind == "control"
                        && c.status == grc_catalog::ControlStatus::Active
                        && wants(&c.tags)
                })
                .map(|c| SoaControl {
                    control_id: c.id,
                    control_ref: c.reference.clone(),
                    sort: 100_000 + c.sort,
                }),
        );
    }
    Ok(out)
}

fn isms_payload(
    r: Option<IsmsRecord>,
    scope: TenantScope,
    errors: Vec<UserError>,
) -> ManagementSystemPayload {
    ManagementSystemPayload {
        management_system: r.map(|r| Isms::new(r, scope)),
        user_errors: errors,
    }
}

#[Object]
impl IsmsMutation {
    /// Creates an ISMS with its scope and risk criteria, and an SoA draft with one entry per
    /// Annex A control (and the ISO/IEC 27701 controls of its privacy role).
    async fn create_management_system(
        &self,
        ctx: &Context<'_>,
        input: CreateManagementSystemInput,
    ) -> Result<ManagementSystemPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let v = view(ctx, &az).await?;
                let criteria = match input.risk_criteria {
                    Some(c) => criteria_from(&c)?,
                    None => dom::RiskCriteria::default(),
                };
                let privacy = input.privacy.as_ref().map(|p| {
                    (
                        p.framework.trim().to_owned(),
                        dom::PrivacyRole::from(p.role),
                    )
                });
                let fields = IsmsFields {
                    name: checked_text("name", &input.name, MAX_NAME)?,
                    scope_statement: checked_text(
                        "scopeStatement",
                        &input.scope_statement,
                        MAX_TEXT,
                    )?,
                    boundaries: free_text("boundaries", Some(&input.boundaries), MAX_TEXT)?,
                    sites: sites(&input.sites)?,
                    privacy_framework: privacy.as_ref().map(|p| p.0.clone()),
                    privacy_role: privacy.as_ref().map(|p| p.1),
                    climate_relevant: input.climate_relevant,
                    climate_rationale: optional_text(
                        "climateRationale",
                        input.climate_rationale.as_deref(),
                        MAX_TEXT,
                    )?,
                };
                let controls = soa_controls(&v, privacy.as_ref().map(|(k, r)| (k.as_str(), *r)))?;
                let id = Uuid::now_v7();
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                tx.create_isms(
                    id,
                    BASE_FRAMEWORK,
                    &fields,
                    &criteria,
                    &controls,
                    &az.actor.to_stored(),
                )
                .await
                .map_err(|e| match e {
                    grc_store::StoreError::Conflict(_) => {
                        conflict("name", "a management system with this name exists")
                    }
                    other => other.into(),
                })?;
                record(
                    &mut tx,
                    &az,
                    "isms.create",
                    "Isms",
                    id.to_string(),
                    json!({"name": fields.name, "controls": controls.len()}),
                )
                .await?;
                let r = tx.isms(id).await?;
                commit(ctx, tx).await?;
                Ok(r)
            }
            .await,
        )?;
        Ok(isms_payload(r.flatten(), az.scope, errors))
    }

    /// Changes an ISMS's scope, sites and context settings. Changing the privacy extension
    /// adds or removes the ISO/IEC 27701 entries of the SoA draft.
    async fn update_management_system(
        &self,
        ctx: &Context<'_>,
        input: UpdateManagementSystemInput,
    ) -> Result<ManagementSystemPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let v = view(ctx, &az).await?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let cur = load_isms(&tx, &input.id, "id").await?;
                let privacy = if input.remove_privacy {
                    if input.privacy.is_some() {
                        return Err(invalid(
                            "privacy",
                            "give privacy or removePrivacy, not both",
                        ));
                    }
                    None
                } else {
                    match &input.privacy {
                        Some(p) => Some((
                            p.framework.trim().to_owned(),
                            dom::PrivacyRole::from(p.role),
                        )),
                        None => cur.privacy_framework.clone().zip(cur.privacy_role),
                    }
                };
                let fields = IsmsFields {
                    name: match &input.name {
                        Some(n) => checked_text("name", n, MAX_NAME)?,
                        None => cur.name.clone(),
                    },
                    scope_statement: match &input.scope_statement {
                        Some(s) => checked_text("scopeStatement", s, MAX_TEXT)?,
                        None => cur.scope_statement.clone(),
                    },
                    boundaries: match &input.boundaries {
                        Some(b) => free_text("boundaries", Some(b), MAX_TEXT)?,
                        None => cur.boundaries.clone(),
                    },
                    sites: match input.sites {
                        Some(s) => sites(&s)?,
                        None => cur.sites.clone(),
                    },
                    privacy_framework: privacy.as_ref().map(|p| p.0.clone()),
                    privacy_role: privacy.as_ref().map(|p| p.1),
                    climate_relevant: input.climate_relevant.or(cur.climate_relevant),
                    climate_rationale: match &input.climate_rationale {
                        Some(c) => optional_text("climateRationale", Some(c), MAX_TEXT)?,
                        None => cur.climate_rationale.clone(),
                    },
                };
                let before: HashSet<Uuid> =
                    soa_controls(&v, cur.privacy_framework.as_deref().zip(cur.privacy_role))?
                        .into_iter()
                        .map(|c| c.control_id)
                        .collect();
                let after = soa_controls(&v, privacy.as_ref().map(|(k, r)| (k.as_str(), *r)))?;
                let after_ids: HashSet<Uuid> = after.iter().map(|c| c.control_id).collect();
                let add: Vec<SoaControl> = after
                    .into_iter()
                    .filter(|c| !before.contains(&c.control_id))
                    .collect();
                let remove: Vec<Uuid> = before.difference(&after_ids).copied().collect();
                tx.update_isms(cur.id, &fields, &add, &remove, &az.actor.to_stored())
                    .await
                    .map_err(|e| match e {
                        grc_store::StoreError::Conflict(_) => {
                            conflict("name", "a management system with this name exists")
                        }
                        other => other.into(),
                    })?;
                record(
                    &mut tx,
                    &az,
                    "isms.update",
                    "Isms",
                    cur.id.to_string(),
                    json!({"name": fields.name, "soaAdded": add.len(), "soaRemoved": remove.len()}),
                )
                .await?;
                let r = tx.isms(cur.id).await?;
                commit(ctx, tx).await?;
                Ok(r)
            }
            .await,
        )?;
        Ok(isms_payload(r.flatten(), az.scope, errors))
    }

    /// Replaces an ISMS's risk criteria. Refused while a risk is rated outside the new scales.
    async fn set_risk_criteria(
        &self,
        ctx: &Context<'_>,
        input: SetRiskCriteriaInput,
    ) -> Result<ManagementSystemPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let c = criteria_from(&input.criteria)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let cur = load_isms(&tx, &input.management_system_id, "managementSystemId").await?;
                let risks = tx.all_risks(cur.id).await?;
                if !c.fits(risks.iter().flat_map(|r| std::iter::once(r.inherent).chain(r.residual))) {
                    return Err(conflict("criteria", "some risks are rated outside the new scales: re-rate them first"));
                }
                tx.set_risk_criteria(cur.id, &c).await?;
                record(&mut tx, &az, "isms.set_risk_criteria", "Isms", cur.id.to_string(), json!({"likelihoodLevels": c.likelihood_levels, "impactLevels": c.impact_levels, "acceptanceThreshold": c.acceptance_threshold})).await?;
                let r = tx.isms(cur.id).await?;
                commit(ctx, tx).await?;
                Ok(r)
            }
            .await,
        )?;
        Ok(isms_payload(r.flatten(), az.scope, errors))
    }

    /// Adds (without `id`) or changes (with `id`) a context issue or interested party.
    async fn save_context_item(
        &self,
        ctx: &Context<'_>,
        input: ContextItemInput,
    ) -> Result<ContextItemPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let f = ContextItemFields {
                    kind: input.kind.into(),
                    title: checked_text("title", &input.title, MAX_TITLE)?,
                    description: free_text("description", Some(&input.description), MAX_TEXT)?,
                    requirements: optional_text(
                        "requirements",
                        input.requirements.as_deref(),
                        MAX_TEXT,
                    )?,
                    addressed_by_isms: input.addressed_by_isms,
                };
                if f.kind != dom::ContextKind::InterestedParty
                    && (f.requirements.is_some() || f.addressed_by_isms.is_some())
                {
                    return Err(invalid(
                        "requirements",
                        "requirements and addressedByIsms belong to interested parties",
                    ));
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (id, isms_id, create) = match &input.id {
                    Some(id) => {
                        let cur = decode_kind(id, Kind::ContextItem)
                            .ok_or_else(|| not_found("context item", "id"))?;
                        let item = tx
                            .context_item(cur)
                            .await?
                            .ok_or_else(|| not_found("context item", "id"))?;
                        (item.id, item.isms_id, false)
                    }
                    None => {
                        let isms = load_isms(
                            &tx,
                            input.management_system_id.as_ref().ok_or_else(|| {
                                invalid("managementSystemId", "required for a new item")
                            })?,
                            "managementSystemId",
                        )
                        .await?;
                        (Uuid::now_v7(), isms.id, true)
                    }
                };
                tx.save_context_item(id, isms_id, &f, create).await?;
                record(
                    &mut tx,
                    &az,
                    if create {
                        "isms.context.add"
                    } else {
                        "isms.context.update"
                    },
                    "ContextItem",
                    id.to_string(),
                    json!({"kind": f.kind.as_str(), "title": f.title}),
                )
                .await?;
                let r = tx.context_item(id).await?;
                commit(ctx, tx).await?;
                Ok(r)
            }
            .await,
        )?;
        Ok(ContextItemPayload {
            item: r.flatten().map(ContextItem),
            user_errors: errors,
        })
    }

    async fn delete_context_item(&self, ctx: &Context<'_>, id: ID) -> Result<DeletePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let uuid = decode_kind(&id, Kind::ContextItem)
                    .ok_or_else(|| not_found("context item", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                if !tx.delete_context_item(uuid).await? {
                    return Err(not_found("context item", "id"));
                }
                record(
                    &mut tx,
                    &az,
                    "isms.context.delete",
                    "ContextItem",
                    uuid.to_string(),
                    json!({}),
                )
                .await?;
                commit(ctx, tx).await?;
                Ok(id.clone())
            }
            .await,
        )?;
        Ok(DeletePayload {
            deleted_id: r,
            user_errors: errors,
        })
    }

    /// Adds (without `id`) or changes (with `id`) an asset. Contributors change only their own.
    async fn save_asset(&self, ctx: &Context<'_>, input: AssetInput) -> Result<AssetPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let existing = match &input.id {
                    Some(id) => {
                        let uuid = decode_kind(id, Kind::Asset).ok_or_else(|| not_found("asset", "id"))?;
                        let a = tx.assets_by_ids(&[uuid]).await?.pop().ok_or_else(|| not_found("asset", "id"))?;
                        require_edit(&az, a.owner_id)?;
                        Some(a)
                    }
                    None => None,
                };
                let owner = saved_owner(
                    &tx,
                    &az,
                    "ownerId",
                    input.owner_id.as_ref(),
                    existing.as_ref().map(|a| a.owner_id),
                )
                .await?;
                let isms_id = match &input.management_system_id {
                    Some(i) => Some(load_isms(&tx, i, "managementSystemId").await?.id),
                    None => existing.as_ref().and_then(|a| a.isms_id),
                };
                let f = AssetFields {
                    isms_id,
                    name: checked_text("name", &input.name, MAX_TITLE)?,
                    kind: input.kind.into(),
                    classification: input.classification.into(),
                    owner_id: owner,
                    location: optional_text("location", input.location.as_deref(), MAX_TITLE)?,
                    description: free_text("description", Some(&input.description), MAX_TEXT)?,
                    ephi: input.ephi,
                };
                let (id, create) = match &existing { Some(a) => (a.id, false), None => (Uuid::now_v7(), true) };
                tx.save_asset(id, &f, create).await.map_err(|e| match e {
                    grc_store::StoreError::Conflict(_) => conflict("name", "an asset with this name exists"),
                    other => other.into(),
                })?;
                record(&mut tx, &az, if create { "asset.create" } else { "asset.update" }, "Asset", id.to_string(), json!({"name": f.name, "ephi": f.ephi, "classification": f.classification.as_str()})).await?;
                let a = tx.assets_by_ids(&[id]).await?.pop();
                commit(ctx, tx).await?;
                Ok(a)
            }
            .await,
        )?;
        Ok(AssetPayload {
            asset: r.flatten().map(|a| Asset {
                owners: Owners::new([a.owner_id]),
                a,
                scope: az.scope,
            }),
            user_errors: errors,
        })
    }

    async fn delete_asset(&self, ctx: &Context<'_>, id: ID) -> Result<DeletePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                let uuid = decode_kind(&id, Kind::Asset).ok_or_else(|| not_found("asset", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let a = tx
                    .assets_by_ids(&[uuid])
                    .await?
                    .pop()
                    .ok_or_else(|| not_found("asset", "id"))?;
                require_edit(&az, a.owner_id)?;
                tx.delete_asset(uuid).await?;
                record(
                    &mut tx,
                    &az,
                    "asset.delete",
                    "Asset",
                    uuid.to_string(),
                    json!({"name": a.name}),
                )
                .await?;
                commit(ctx, tx).await?;
                Ok(id.clone())
            }
            .await,
        )?;
        Ok(DeletePayload {
            deleted_id: r,
            user_errors: errors,
        })
    }

    /// Adds (without `id`) or changes (with `id`) a risk. Ratings must be on the ISMS's scales;
    /// any change withdraws an earlier acceptance. Contributors change only risks they own.
    async fn save_risk(&self, ctx: &Context<'_>, input: RiskInput) -> Result<RiskPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                let v = view(ctx, &az).await?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let existing = match &input.id {
                    Some(id) => {
                        let uuid =
                            decode_kind(id, Kind::Risk).ok_or_else(|| not_found("risk", "id"))?;
                        let r = tx
                            .risk(uuid)
                            .await?
                            .ok_or_else(|| not_found("risk", "id"))?;
                        require_edit(&az, r.owner_id)?;
                        Some(r)
                    }
                    None => None,
                };
                let isms = match (&existing, &input.management_system_id) {
                    (Some(r), _) => tx.isms(r.isms_id).await?.ok_or_else(internal)?,
                    (None, Some(i)) => load_isms(&tx, i, "managementSystemId").await?,
                    (None, None) => {
                        return Err(invalid("managementSystemId", "required for a new risk"));
                    }
                };
                let c = &isms.criteria;
                let inherent =
                    c.rate("inherent", input.inherent.likelihood, input.inherent.impact)?;
                let residual = input
                    .residual
                    .as_ref()
                    .map(|r| c.rate("residual", r.likelihood, r.impact))
                    .transpose()?;
                let owner = saved_owner(
                    &tx,
                    &az,
                    "ownerId",
                    input.owner_id.as_ref(),
                    existing.as_ref().map(|r| r.owner_id),
                )
                .await?;
                let reference = checked_text("ref", &input.reference, 40)?;
                if let Some(d) = input.review_date {
                    checked_date("reviewDate", d)?;
                }
                let assets = match &input.asset_ids {
                    Some(ids) => {
                        if ids.len() > MAX_LINKS {
                            return Err(invalid("assetIds", format!("at most {MAX_LINKS}")));
                        }
                        let mut uuids: Vec<Uuid> = ids
                            .iter()
                            .map(|i| {
                                decode_kind(i, Kind::Asset)
                                    .ok_or_else(|| not_found("asset", "assetIds"))
                            })
                            .collect::<Result<_, _>>()?;
                        uuids.sort();
                        uuids.dedup();
                        if tx.assets_by_ids(&uuids).await?.len() != uuids.len() {
                            return Err(not_found("asset", "assetIds"));
                        }
                        Some(uuids)
                    }
                    None => None,
                };
                let controls = match &input.control_ids {
                    Some(ids) => {
                        if ids.len() > MAX_LINKS {
                            return Err(invalid("controlIds", format!("at most {MAX_LINKS}")));
                        }
                        let mut uuids: Vec<Uuid> = ids
                            .iter()
                            .map(|i| {
                                decode_kind(i, Kind::Control)
                                    .filter(|c| v.control(*c).is_some())
                                    .ok_or_else(|| not_found("control", "controlIds"))
                            })
                            .collect::<Result<_, _>>()?;
                        uuids.sort();
                        uuids.dedup();
                        Some(uuids)
                    }
                    None => None,
                };
                let f = RiskFields {
                    reference,
                    title: checked_text("title", &input.title, MAX_TITLE)?,
                    description: free_text("description", Some(&input.description), MAX_TEXT)?,
                    threat: free_text("threat", Some(&input.threat), MAX_SHORT)?,
                    vulnerability: free_text(
                        "vulnerability",
                        Some(&input.vulnerability),
                        MAX_SHORT,
                    )?,
                    owner_id: owner,
                    inherent,
                    residual,
                    treatment: input.treatment.map(Into::into),
                    treatment_plan: optional_text(
                        "treatmentPlan",
                        input.treatment_plan.as_deref(),
                        MAX_TEXT,
                    )?,
                    review_date: input.review_date,
                };
                let (id, create) = match &existing {
                    Some(r) => (r.id, false),
                    None => (Uuid::now_v7(), true),
                };
                tx.save_risk(
                    id,
                    isms.id,
                    &f,
                    assets.as_deref(),
                    controls.as_deref(),
                    create,
                )
                .await
                .map_err(|e| match e {
                    grc_store::StoreError::Conflict(_) => conflict(
                        "ref",
                        "a risk with this reference exists in the management system",
                    ),
                    other => other.into(),
                })?;
                record(
                    &mut tx,
                    &az,
                    if create { "risk.create" } else { "risk.update" },
                    "Risk",
                    id.to_string(),
                    json!({
                        "ref": f.reference, "inherent": [f.inherent.likelihood, f.inherent.impact],
                        "residual": f.residual.map(|r| [r.likelihood, r.impact]),
                        "treatment": f.treatment.map(|t| t.as_str()),
                    }),
                )
                .await?;
                let r = tx.risk(id).await?.ok_or_else(internal)?;
                commit(ctx, tx).await?;
                Ok((r, isms.criteria))
            }
            .await,
        )?;
        Ok(RiskPayload {
            risk: r.map(|(r, c)| {
                let page = RiskPage::new(
                    az.scope,
                    HashMap::from([(r.isms_id, c)]),
                    std::slice::from_ref(&r),
                );
                Risk { r, page }
            }),
            user_errors: errors,
        })
    }

    async fn delete_risk(&self, ctx: &Context<'_>, id: ID) -> Result<DeletePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                let uuid = decode_kind(&id, Kind::Risk).ok_or_else(|| not_found("risk", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let r = tx
                    .risk(uuid)
                    .await?
                    .ok_or_else(|| not_found("risk", "id"))?;
                require_edit(&az, r.owner_id)?;
                tx.delete_risk(uuid).await?;
                record(
                    &mut tx,
                    &az,
                    "risk.delete",
                    "Risk",
                    uuid.to_string(),
                    json!({"ref": r.reference}),
                )
                .await?;
                commit(ctx, tx).await?;
                Ok(id.clone())
            }
            .await,
        )?;
        Ok(DeletePayload {
            deleted_id: r,
            user_errors: errors,
        })
    }

    /// The risk owner accepts the residual risk (6.1.3 f). Only the owner, as themselves.
    async fn accept_risk(&self, ctx: &Context<'_>, risk_id: ID) -> Result<RiskPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                let uuid = decode_kind(&risk_id, Kind::Risk).ok_or_else(|| not_found("risk", "riskId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let r = tx.risk(uuid).await?.ok_or_else(|| not_found("risk", "riskId"))?;
                dom::check_acceptance(r.owner_id, actor_user(&az), r.residual)?;
                let user = actor_user(&az).ok_or_else(internal)?;
                tx.accept_risk(uuid, user).await?;
                let isms = tx.isms(r.isms_id).await?.ok_or_else(internal)?;
                let residual = r.residual.ok_or_else(internal)?;
                record(&mut tx, &az, "risk.accept", "Risk", uuid.to_string(), json!({"ref": r.reference, "residual": [residual.likelihood, residual.impact], "withinCriteria": isms.criteria.acceptable(residual)})).await?;
                let r = tx.risk(uuid).await?.ok_or_else(internal)?;
                commit(ctx, tx).await?;
                Ok((r, isms.criteria))
            }
            .await,
        )?;
        Ok(RiskPayload {
            risk: r.map(|(r, c)| {
                let page = RiskPage::new(
                    az.scope,
                    HashMap::from([(r.isms_id, c)]),
                    std::slice::from_ref(&r),
                );
                Risk { r, page }
            }),
            user_errors: errors,
        })
    }

    /// Records a dated risk assessment: a snapshot of the whole register as it is now.
    async fn record_risk_assessment(
        &self,
        ctx: &Context<'_>,
        input: RecordRiskAssessmentInput,
    ) -> Result<RiskAssessmentPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let title = checked_text("title", &input.title, MAX_TITLE)?;
                let on = checked_date("performedOn", input.performed_on)?;
                if on > Utc::now().date_naive() {
                    return Err(invalid("performedOn", "an assessment cannot be performed in the future"));
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = load_isms(&tx, &input.management_system_id, "managementSystemId").await?;
                let a = tx.record_risk_assessment(Uuid::now_v7(), isms.id, &title, on, &az.actor.to_stored()).await?;
                record(&mut tx, &az, "risk_assessment.record", "RiskAssessment", a.id.to_string(), json!({"number": a.number, "performedOn": on, "risks": a.risk_count, "digest": a.digest})).await?;
                commit(ctx, tx).await?;
                Ok(RiskAssessment { a, criteria: Some(isms.criteria) })
            }
            .await,
        )?;
        Ok(RiskAssessmentPayload {
            assessment: r,
            user_errors: errors,
        })
    }

    /// Changes entries of the SoA draft. Each entry must keep to 6.1.3 d (an excluded control
    /// has no implementation status). Contributors change only entries they own, and cannot
    /// reassign them.
    async fn update_soa_entries(
        &self,
        ctx: &Context<'_>,
        input: UpdateSoaEntriesInput,
    ) -> Result<SoaPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (r, errors) = settle(
            async {
                if input.entries.is_empty() || input.entries.len() > MAX_SOA_CHANGES {
                    return Err(invalid("entries", format!("give 1 to {MAX_SOA_CHANGES} entries")));
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = load_isms(&tx, &input.management_system_id, "managementSystemId").await?;
                let current: HashMap<Uuid, SoaEntryRecord> = tx.soa_entries(isms.id).await?.into_iter().map(|e| (e.control_id, e)).collect();
                let mut changes = Vec::with_capacity(input.entries.len());
                let mut seen = HashSet::new();
                for (i, e) in input.entries.iter().enumerate() {
                    let field = format!("entries.{i}");
                    let control = decode_kind(&e.control_id, Kind::Control)
                        .ok_or_else(|| not_found("control", &format!("{field}.controlId")))?;
                    let Some(cur) = current.get(&control) else {
                        return Err(invalid(&format!("{field}.controlId"), "the control is not in this management system's Statement of Applicability (Annex A, and the ISO/IEC 27701 controls of its privacy role)"));
                    };
                    if !seen.insert(control) {
                        return Err(invalid(&format!("{field}.controlId"), "the control appears twice"));
                    }
                    require_edit(&az, cur.owner_id)?;
                    let owner = match &e.owner_id {
                        None => None,
                        Some(o) => {
                            let named = member_owner(&tx, &format!("{field}.ownerId"), o.as_ref()).await?;
                            if named != cur.owner_id {
                                require_edit(&az, None).map_err(|_| invalid(&format!("{field}.ownerId"), "a contributor cannot reassign an entry"))?;
                            }
                            Some(named)
                        }
                    };
                    let justification = e.justification.as_deref().map(|j| free_text(&format!("{field}.justification"), Some(j), 5000)).transpose()?;
                    let notes = match &e.notes {
                        None => None,
                        Some(n) => Some(optional_text(&format!("{field}.notes"), n.as_deref(), 5000)?),
                    };
                    let status: Option<dom::ImplementationStatus> = e.status.map(Into::into);
                    // The entry as it would stand, checked against 6.1.3 d (an empty
                    // justification is allowed while drafting; approval requires it).
                    let applicable = e.applicable.unwrap_or(cur.applicable);
                    let resulting = status.unwrap_or(if applicable { cur.status } else { dom::ImplementationStatus::NotStarted });
                    if !applicable && resulting != dom::ImplementationStatus::NotStarted {
                        return Err(invalid(&format!("{field}.status"), "an excluded control has no implementation status (use NOT_STARTED)"));
                    }
                    changes.push((control, SoaEntryPatch {
                        applicable: e.applicable,
                        justification,
                        status: Some(resulting).filter(|s| *s != cur.status || status.is_some()),
                        owner_id: owner,
                        notes,
                        inherited_from: None,
                    }));
                }
                let n = tx.update_soa_entries(isms.id, &changes, &az.actor.to_stored()).await?;
                let revision = tx.isms(isms.id).await?.ok_or_else(internal)?.soa_revision;
                record(&mut tx, &az, "soa.update", "Isms", isms.id.to_string(), json!({
                    "revision": revision,
                    "entries": changes.iter().map(|(c, p)| json!({
                        "control": c, "applicable": p.applicable, "status": p.status.map(|s| s.as_str()),
                        "justification": p.justification, "owner": p.owner_id,
                    })).collect::<Vec<_>>(),
                })).await?;
                commit(ctx, tx).await?;
                Ok((revision, i32::try_from(n).unwrap_or(i32::MAX)))
            }
            .await,
        )?;
        Ok(SoaPayload {
            revision: r.map(|x| x.0),
            changed: r.map_or(0, |x| x.1),
            user_errors: errors,
        })
    }

    /// Approves the SoA draft at the revision you reviewed: freezes it as the next numbered,
    /// immutable version. Every entry must carry its justification (6.1.3 d).
    async fn approve_soa(
        &self,
        ctx: &Context<'_>,
        input: ApproveSoaInput,
    ) -> Result<ApproveSoaPayload> {
        let az = authorize(ctx, Operation::ApproveIsms)?;
        let (r, errors) = settle(
            async {
                let note = optional_text("note", input.note.as_deref(), 5000)?;
                let v = view(ctx, &az).await?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = load_isms(&tx, &input.management_system_id, "managementSystemId").await?;
                if let Some(prev) = tx.soa_versions(isms.id).await?.into_iter().find(|x| x.draft_revision == input.revision) {
                    return Err(conflict("revision", format!("this draft revision was already approved as version {}", prev.number)));
                }
                if isms.soa_revision != input.revision {
                    return Err(conflict("revision", format!("the draft changed since revision {} (now {}): review it again", input.revision, isms.soa_revision)));
                }
                let entries = tx.soa_draft_entries(isms.id).await?;
                let unjustified: Vec<&str> = entries.iter().filter(|e| e.validate("entry").is_err()).map(|e| e.control_ref.as_str()).collect();
                if !unjustified.is_empty() {
                    let shown: Vec<&str> = unjustified.iter().take(10).copied().collect();
                    return Err(invalid("managementSystemId", format!(
                        "{} entries lack the justification for their inclusion or exclusion (6.1.3 d): {}{}",
                        unjustified.len(), shown.join(", "), if unjustified.len() > 10 { ", ..." } else { "" }
                    )));
                }
                let version = tx
                    .approve_soa(
                        isms.id,
                        &entries,
                        grc_store::SoaApproval {
                            id: Uuid::now_v7(),
                            draft_revision: isms.soa_revision,
                            actor: az.actor.to_stored(),
                            approver: actor_user(&az),
                            note,
                        },
                    )
                    .await
                    .map_err(|e| match e {
                        grc_store::StoreError::Conflict(_) => conflict("revision", "this draft revision was just approved"),
                        other => other.into(),
                    })?;
                record(&mut tx, &az, "soa.approve", "SoaVersion", version.id.to_string(), json!({"isms": isms.id, "number": version.number, "revision": version.draft_revision, "digest": version.digest, "entries": version.entry_count})).await?;
                commit(ctx, tx).await?;
                Ok(SoaVersion { v: version, view: Some(v) })
            }
            .await,
        )?;
        Ok(ApproveSoaPayload {
            version: r,
            user_errors: errors,
        })
    }

    /// Records the determination on an addressable HIPAA specification (164.306(d)(3)):
    /// implemented, an equivalent alternative, or not reasonable and appropriate; the last two
    /// with their documented rationale.
    async fn set_hipaa_determination(
        &self,
        ctx: &Context<'_>,
        input: HipaaDeterminationInput,
    ) -> Result<HipaaDeterminationPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (r, errors) = settle(
            async {
                let v = view(ctx, &az).await?;
                let spec = decode_kind(&input.specification_id, Kind::Control).ok_or_else(|| not_found("specification", "specificationId"))?;
                let Some((fw, c)) = v.control(spec) else { return Err(not_found("specification", "specificationId")) };
                if fw.framework().key != HIPAA_FRAMEWORK {
                    return Err(invalid("specificationId", "not a HIPAA Security Rule specification"));
                }
                if c.requirement != Some(Requirement::Addressable) {
                    return Err(invalid("specificationId", "only addressable specifications take a determination: required ones must be implemented (164.306(d)(2))"));
                }
                let decision: dom::AddressableDecision = input.decision.into();
                let rationale = free_text("rationale", Some(&input.rationale), 10_000)?;
                if decision.needs_rationale() && rationale.is_empty() {
                    return Err(invalid("rationale", "document why (164.306(d)(3)(ii)(B)(1))"));
                }
                let alternative = optional_text("alternative", input.alternative.as_deref(), 10_000)?;
                if decision == dom::AddressableDecision::Alternative && alternative.is_none() {
                    return Err(invalid("alternative", "describe the equivalent alternative measure"));
                }
                if decision != dom::AddressableDecision::Alternative && alternative.is_some() {
                    return Err(invalid("alternative", "only an alternative decision describes an alternative measure"));
                }
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let isms = load_isms(&tx, &input.management_system_id, "managementSystemId").await?;
                tx.set_hipaa_determination(isms.id, spec, decision, &rationale, alternative, &az.actor.to_stored()).await?;
                record(&mut tx, &az, "hipaa.determine", "Isms", isms.id.to_string(), json!({"specification": c.reference, "decision": decision.as_str()})).await?;
                let d = tx.hipaa_determinations(isms.id).await?.into_iter().find(|d| d.control_id == spec).ok_or_else(internal)?;
                commit(ctx, tx).await?;
                Ok(HipaaDetermination { decision: d.decision.into(), rationale: d.rationale, alternative: d.alternative, decided_by: d.decided_by, decided_at: d.decided_at })
            }
            .await,
        )?;
        Ok(HipaaDeterminationPayload {
            determination: r,
            user_errors: errors,
        })
    }
}
