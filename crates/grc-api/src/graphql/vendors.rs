//! Vendor register GraphQL: vendors with their services, ePHI access, criticality tier,
//! contacts and subcontractors (to any depth, cycles refused); the tenant's vendor policy (what
//! each tier requires, how long reports stay current); and vendor compliance computed on any
//! date, per vendor and tenant-wide. Attestations and BAAs are in [`super::attestations`].
//!
//! Roles: every member reads the register (`ReadVendors`); vendors, their subcontractor links,
//! attestations and BAAs are records (`ManageVendors`: a contributor changes only the vendors it
//! owns and what belongs to them); the policy is a compliance judgement (`ConfigureVendors`).
//!
//! Loading: the objects one root field hands out share a loader. A vendor's attestations, BAAs
//! and subcontractor links are loaded for every vendor of the page at once, on first use (one
//! query each), and vendors referred to from a page (subcontractors, chains, parents) form the
//! next such set: the number of queries grows with the nesting depth, never with the number of
//! vendors.

use super::attestations::{Attestation, Baa, Docs, attestation_state, domain_baa, load_docs};
use super::common::{
    checked_text, conflict, free_text, invalid, not_found, optional_text, record, require_edit,
    saved_owner, settle, stored_enum, today, user_id,
};
use super::connection::{ConnectionFields, PageArgs, build, page_in_memory, wants_total};
use super::ids::{Kind, decode_kind, encode};
use super::query::page_cost;
use super::sharing::{SharedArtifact, TenantConnection};
use super::{Authorized, authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_domain::certification::AttestationPolicy;
use grc_domain::vendors as vdom;
use grc_store::entity::vendors::{attestation, baa, vendor, vendor_policy};
use grc_store::{ComplianceInputs, PageRequest, StoreError, TenantScope, TenantTx, VendorFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

pub(crate) const TEXT: usize = 20_000;
const MAX_SERVICES: usize = 50;
const MAX_CONTACTS: usize = 20;
/// The expiring window when the tenant has not set one.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;
const MAX_WINDOW_DAYS: i32 = 365;

stored_enum!(
    /// How much of the tenant's ePHI a vendor can reach.
    EphiAccess {
        None = "none",
        /// Some ePHI, e.g. support access or a narrow data set.
        Limited = "limited",
        /// Creates, receives, maintains or transmits ePHI as part of its service.
        Full = "full",
    }
);

stored_enum!(
    /// Whether the vendor is in use.
    VendorStatus {
        Active = "active",
        /// No longer used: kept for the record, not assessed.
        Offboarded = "offboarded",
    }
);

stored_enum!(
    /// What a requirement asks for: an attestation kind, or a BAA.
    RequirementKind {
        #[graphql(name = "ISO27001")]
        Iso27001 = "iso27001",
        #[graphql(name = "ISO27701")]
        Iso27701 = "iso27701",
        #[graphql(name = "SOC2_TYPE1")]
        Soc2Type1 = "soc2-type1",
        #[graphql(name = "SOC2_TYPE2")]
        Soc2Type2 = "soc2-type2",
        HitrustR2 = "hitrust-r2",
        HitrustI1 = "hitrust-i1",
        HitrustE1 = "hitrust-e1",
        PenTest = "pen-test",
        Questionnaire = "questionnaire",
        Baa = "baa",
    }
);

stored_enum!(
    /// Where one requirement stands on a date.
    RequirementState {
        /// Met by an attestation valid beyond the expiring window.
        Valid = "valid",
        /// Met, but its validity ends within the window.
        Expiring = "expiring",
        /// Only expired attestations of the required kinds.
        Expired = "expired",
        /// Only suspended, withdrawn, unacceptable or not yet valid attestations.
        Invalid = "invalid",
        /// Nothing of the required kinds.
        Missing = "missing",
    }
);

stored_enum!(
    /// A vendor's overall standing on a date.
    ComplianceStatus {
        /// Every requirement valid beyond the window, and a BAA where one is needed.
        Compliant = "compliant",
        /// Every requirement met, but something lapses within the window.
        AtRisk = "at-risk",
        /// A requirement or a needed BAA is not met (or the BAA lacks a required term).
        NonCompliant = "non-compliant",
        /// Offboarded: not assessed.
        NotAssessed = "not-assessed",
    }
);

// ---------------------------------------------------------------------------------------------
// The policy

/// The tenant's vendor policy, or the defaults when it has not set one.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) requirements: vdom::TierRequirements,
    pub(crate) attestation: AttestationPolicy,
    pub(crate) window_days: u32,
    pub(crate) is_default: bool,
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

fn months(v: i32, default: u32) -> u32 {
    u32::try_from(v).unwrap_or(default)
}

impl Policy {
    pub(crate) fn of(row: Option<&vendor_policy::Model>) -> Self {
        let d = AttestationPolicy::default();
        match row {
            None => Self {
                requirements: vdom::TierRequirements::default(),
                attestation: d,
                window_days: DEFAULT_WINDOW_DAYS,
                is_default: true,
                updated_at: None,
            },
            Some(r) => Self {
                requirements: serde_json::from_str(&r.requirements).unwrap_or_default(),
                attestation: AttestationPolicy {
                    soc2_current_months: months(r.soc2_current_months, d.soc2_current_months),
                    soc2_bridge_max_months: months(
                        r.soc2_bridge_max_months,
                        d.soc2_bridge_max_months,
                    ),
                    pen_test_months: months(r.pen_test_months, d.pen_test_months),
                    questionnaire_months: months(r.questionnaire_months, d.questionnaire_months),
                },
                window_days: months(r.expiring_window_days, DEFAULT_WINDOW_DAYS),
                is_default: false,
                updated_at: Some(r.updated_at),
            },
        }
    }

    /// The window asked for, or the policy's; 0 to 365 days.
    fn window(&self, asked: Option<i32>) -> Result<u32> {
        match asked {
            None => Ok(self.window_days),
            Some(w) if (0..=MAX_WINDOW_DAYS).contains(&w) => Ok(u32::try_from(w).unwrap_or(0)),
            Some(_) => Err(gql_error(
                ErrorCode::BadUserInput,
                "windowDays must be between 0 and 365",
            )),
        }
    }
}

/// One requirement of a tier.
#[derive(Debug, Clone, SimpleObject)]
pub struct TierRequirement {
    /// Any one of these kinds, valid on the date, meets the requirement.
    pub any_of: Vec<RequirementKind>,
}

/// What one criticality tier requires.
#[derive(Debug, Clone, SimpleObject)]
pub struct TierPolicy {
    /// 1 (most critical) to 4.
    pub tier: i32,
    pub requirements: Vec<TierRequirement>,
}

/// The tenant's vendor policy: what each tier requires and how long reports stay current.
#[derive(Debug, Clone)]
pub struct VendorPolicy(pub(crate) Policy);

fn kinds_out(r: &vdom::Requirement) -> Vec<RequirementKind> {
    r.any_of
        .iter()
        .filter_map(|k| RequirementKind::parse(k.as_str()))
        .collect()
}

#[Object]
impl VendorPolicy {
    /// True while the tenant has not set a policy: these are the product's defaults.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    /// Tiers 1 to 4, each with its requirements. A BAA is required of every vendor with ePHI
    /// access whatever its tier (45 CFR 164.308(b)(1), 164.502(e)).
    async fn tiers(&self) -> Vec<TierPolicy> {
        (1..=4u8)
            .map(|t| TierPolicy {
                tier: i32::from(t),
                requirements: self
                    .0
                    .requirements
                    .of(t)
                    .iter()
                    .map(|r| TierRequirement {
                        any_of: kinds_out(r),
                    })
                    .collect(),
            })
            .collect()
    }
    /// A SOC 2 report is current this many months after its period end (or as-of date).
    async fn soc2_current_months(&self) -> u32 {
        self.0.attestation.soc2_current_months
    }
    /// A bridge letter extends a SOC 2 report by its coverage, at most this many months.
    async fn soc2_bridge_max_months(&self) -> u32 {
        self.0.attestation.soc2_bridge_max_months
    }
    /// A penetration test is valid this many months after its report date.
    async fn pen_test_months(&self) -> u32 {
        self.0.attestation.pen_test_months
    }
    /// A questionnaire is valid this many months after its date.
    async fn questionnaire_months(&self) -> u32 {
        self.0.attestation.questionnaire_months
    }
    /// Validity ending within this many days counts as expiring (compliance's default window).
    async fn expiring_window_days(&self) -> u32 {
        self.0.window_days
    }
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// What every object handed out by one root field shares: the tenant, its policy and its
/// subcontractor graph (each loaded once, on first use).
#[derive(Debug)]
pub(crate) struct Shared {
    scope: TenantScope,
    policy: OnceCell<Arc<Policy>>,
    graph: OnceCell<Arc<Graph>>,
    /// The date and window a compliance-filtered list was judged on: the vendors' own
    /// `compliance` field defaults to them, so it shows what the filter saw.
    judged: Option<(NaiveDate, u32)>,
}

/// The tenant's subcontractor edges with the services.
#[derive(Debug, Default)]
struct Graph {
    edges: Vec<(Uuid, Uuid)>,
    services: HashMap<(Uuid, Uuid), String>,
}

impl Shared {
    pub(crate) fn new(scope: TenantScope, policy: Option<Policy>) -> Arc<Self> {
        let p = OnceCell::new();
        if let Some(policy) = policy {
            // A fresh cell is empty: this cannot fail.
            let _ = p.set(Arc::new(policy));
        }
        Arc::new(Self {
            scope,
            policy: p,
            graph: OnceCell::new(),
            judged: None,
        })
    }

    /// As [`Shared::new`], for a list filtered on compliance judged on `on` with `window`.
    fn judged(scope: TenantScope, policy: Policy, on: NaiveDate, window: u32) -> Arc<Self> {
        let p = OnceCell::new();
        let _ = p.set(Arc::new(policy));
        Arc::new(Self {
            scope,
            policy: p,
            graph: OnceCell::new(),
            judged: Some((on, window)),
        })
    }

    async fn tx(&self, ctx: &Context<'_>) -> Result<TenantTx> {
        Ok(store(ctx)
            .tenant_tx(self.scope)
            .await
            .map_err(StoreErrorExt)?)
    }

    pub(crate) async fn policy(&self, ctx: &Context<'_>) -> Result<Arc<Policy>> {
        let p = self
            .policy
            .get_or_try_init(|| async {
                let tx = self.tx(ctx).await?;
                let row = tx.vendor_policy().await.map_err(StoreErrorExt)?;
                tx.commit().await.map_err(StoreErrorExt)?;
                Ok::<_, async_graphql::Error>(Arc::new(Policy::of(row.as_ref())))
            })
            .await?;
        Ok(p.clone())
    }

    async fn graph(&self, ctx: &Context<'_>) -> Result<Arc<Graph>> {
        let g = self
            .graph
            .get_or_try_init(|| async {
                // One query: the edges and their services together.
                let tx = self.tx(ctx).await?;
                let rows = tx.subcontractors_all().await.map_err(StoreErrorExt)?;
                tx.commit().await.map_err(StoreErrorExt)?;
                let edges = rows
                    .iter()
                    .map(|r| (r.vendor_id, r.subcontractor_id))
                    .collect();
                let services = rows
                    .into_iter()
                    .map(|r| ((r.vendor_id, r.subcontractor_id), r.service))
                    .collect();
                Ok::<_, async_graphql::Error>(Arc::new(Graph { edges, services }))
            })
            .await?;
        Ok(g.clone())
    }
}

/// What vendors' connected tenants share, by vendor.
type Shares = Arc<HashMap<Uuid, Vec<SharedArtifact>>>;

/// A set of vendors whose children are loaded together.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) shared: Arc<Shared>,
    rows: HashMap<Uuid, vendor::Model>,
    children: OnceCell<Arc<Children>>,
    next: OnceCell<Arc<Group>>,
    /// What the vendors' connected tenants share with this one, per date.
    shares: tokio::sync::Mutex<HashMap<NaiveDate, Shares>>,
}

/// The attestations and BAAs of a set of vendors, by vendor, with their documents.
#[derive(Debug, Default)]
struct Children {
    attestations: HashMap<Uuid, Vec<attestation::Model>>,
    baas: HashMap<Uuid, Vec<baa::Model>>,
    docs: Arc<Docs>,
}

impl Group {
    pub(crate) fn new(
        shared: Arc<Shared>,
        rows: impl IntoIterator<Item = vendor::Model>,
    ) -> Arc<Self> {
        Arc::new(Self {
            shared,
            rows: rows.into_iter().map(|r| (r.id, r)).collect(),
            children: OnceCell::new(),
            next: OnceCell::new(),
            shares: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The artifacts the vendors' connected tenants share with this tenant, live on `on`,
    /// loaded once per date for the whole set.
    async fn shares(&self, ctx: &Context<'_>, on: NaiveDate) -> Result<Shares> {
        let mut cache = self.shares.lock().await;
        if let Some(s) = cache.get(&on) {
            return Ok(s.clone());
        }
        let ids: Vec<Uuid> = self.rows.keys().copied().collect();
        let tx = self.shared.tx(ctx).await?;
        let s = super::sharing::vendor_shares(&tx, &ids, on, false)
            .await
            .map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let s = Arc::new(s);
        cache.insert(on, s.clone());
        Ok(s)
    }

    /// The vendor `id` of this set, as an object.
    pub(crate) fn vendor(self: &Arc<Self>, id: Uuid) -> Option<Vendor> {
        self.rows.get(&id).map(|row| Vendor {
            row: row.clone(),
            group: self.clone(),
        })
    }

    async fn children(&self, ctx: &Context<'_>) -> Result<Arc<Children>> {
        let c = self
            .children
            .get_or_try_init(|| async {
                let ids: Vec<Uuid> = self.rows.keys().copied().collect();
                let tx = self.shared.tx(ctx).await?;
                let load = async {
                    let atts = tx.attestations_of(&ids).await?;
                    let baas = tx.baas_of(&ids).await?;
                    let doc_ids: Vec<Uuid> = atts
                        .iter()
                        .filter_map(|a| a.document_id)
                        .chain(baas.iter().filter_map(|b| b.document_id))
                        .collect();
                    let docs = load_docs(&tx, &doc_ids).await?;
                    Ok::<_, StoreError>((atts, baas, docs))
                };
                let (atts, baas, docs) = load.await.map_err(StoreErrorExt)?;
                tx.commit().await.map_err(StoreErrorExt)?;
                let mut c = Children {
                    docs: Arc::new(docs),
                    ..Children::default()
                };
                for a in atts {
                    c.attestations.entry(a.vendor_id).or_default().push(a);
                }
                for b in baas {
                    c.baas.entry(b.vendor_id).or_default().push(b);
                }
                Ok::<_, async_graphql::Error>(Arc::new(c))
            })
            .await?;
        Ok(c.clone())
    }

    /// The vendors this set refers to (direct subcontractors, chains, parents), as a set.
    async fn next(&self, ctx: &Context<'_>) -> Result<Arc<Group>> {
        let graph = self.shared.graph(ctx).await?;
        let n = self
            .next
            .get_or_try_init(|| async {
                let mut wanted: HashSet<Uuid> = HashSet::new();
                for &id in self.rows.keys() {
                    for &(a, b) in &graph.edges {
                        if b == id {
                            wanted.insert(a);
                        }
                    }
                    for (v, _) in vdom::subcontractor_chain(&graph.edges, id) {
                        wanted.insert(v);
                    }
                }
                let ids: Vec<Uuid> = wanted.into_iter().collect();
                let tx = self.shared.tx(ctx).await?;
                let rows = tx.vendors_by_ids(&ids).await.map_err(StoreErrorExt)?;
                tx.commit().await.map_err(StoreErrorExt)?;
                Ok::<_, async_graphql::Error>(Group::new(self.shared.clone(), rows))
            })
            .await?;
        Ok(n.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Vendor

/// A person to contact at a vendor.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct VendorContact {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// E.g. "account manager", "security contact", "privacy officer".
    #[serde(default)]
    pub role: Option<String>,
}

/// A vendor: a supplier of services to the tenant, possibly with access to its ePHI.
#[derive(Debug, Clone)]
pub struct Vendor {
    pub(crate) row: vendor::Model,
    pub(crate) group: Arc<Group>,
}

impl Vendor {
    /// One vendor as an object of its own.
    pub(crate) fn single(scope: TenantScope, row: vendor::Model) -> Self {
        let group = Group::new(Shared::new(scope, None), [row.clone()]);
        Vendor { row, group }
    }
}

/// A direct subcontractor of a vendor and what it provides.
#[derive(Debug, Clone, SimpleObject)]
pub struct Subcontractor {
    pub vendor: Vendor,
    pub service: String,
}

/// A subcontractor at any depth below a vendor.
#[derive(Debug, Clone, SimpleObject)]
pub struct ChainLink {
    pub vendor: Vendor,
    /// 1 for a direct subcontractor, 2 for its subcontractor, and so on (the shallowest).
    pub depth: u32,
}

fn services_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn contacts_of(text: &str) -> Vec<VendorContact> {
    serde_json::from_str(text).unwrap_or_default()
}

#[Object]
impl Vendor {
    pub async fn id(&self) -> ID {
        encode(Kind::Vendor, self.row.id)
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn legal_name(&self) -> Option<&str> {
        self.row.legal_name.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    async fn description(&self) -> &str {
        &self.row.description
    }
    /// The services the vendor provides.
    async fn services(&self) -> Vec<String> {
        services_of(&self.row.services)
    }
    async fn ephi_access(&self) -> Result<EphiAccess> {
        EphiAccess::of(&self.row.ephi_access)
    }
    /// About how many individuals' records of PHI the vendor holds or reaches.
    async fn phi_records(&self) -> Option<i64> {
        self.row.phi_records
    }
    /// 1 (most critical) to 4.
    async fn tier(&self) -> i32 {
        self.row.tier
    }
    async fn status(&self) -> Result<VendorStatus> {
        VendorStatus::of(&self.row.status)
    }
    async fn contacts(&self) -> Vec<VendorContact> {
        contacts_of(&self.row.contacts)
    }
    /// The member responsible for the vendor (`User` id); a contributor edits only its own.
    async fn owner_id(&self) -> Option<ID> {
        user_id(self.row.owner_id)
    }
    /// The vendor's direct subcontractors (its own vendors among the tenant's).
    async fn subcontractors(&self, ctx: &Context<'_>) -> Result<Vec<Subcontractor>> {
        let graph = self.group.shared.graph(ctx).await?;
        let next = self.group.next(ctx).await?;
        let mut out: Vec<Subcontractor> = graph
            .edges
            .iter()
            .filter(|e| e.0 == self.row.id)
            .filter_map(|&(a, b)| {
                next.vendor(b).map(|vendor| Subcontractor {
                    vendor,
                    service: graph.services.get(&(a, b)).cloned().unwrap_or_default(),
                })
            })
            .collect();
        out.sort_by(|x, y| x.vendor.row.name.cmp(&y.vendor.row.name));
        Ok(out)
    }
    /// Every subcontractor below the vendor, to any depth, each once at its shallowest depth
    /// (breadth-first).
    async fn subcontractor_chain(&self, ctx: &Context<'_>) -> Result<Vec<ChainLink>> {
        let graph = self.group.shared.graph(ctx).await?;
        let next = self.group.next(ctx).await?;
        Ok(vdom::subcontractor_chain(&graph.edges, self.row.id)
            .into_iter()
            .filter_map(|(id, depth)| next.vendor(id).map(|vendor| ChainLink { vendor, depth }))
            .collect())
    }
    /// The vendors that list this one as their subcontractor.
    async fn subcontractor_of(&self, ctx: &Context<'_>) -> Result<Vec<Vendor>> {
        let graph = self.group.shared.graph(ctx).await?;
        let next = self.group.next(ctx).await?;
        let mut out: Vec<Vendor> = graph
            .edges
            .iter()
            .filter(|e| e.1 == self.row.id)
            .filter_map(|e| next.vendor(e.0))
            .collect();
        out.sort_by(|x, y| x.row.name.cmp(&y.row.name));
        Ok(out)
    }
    /// The vendor's attestations, by issue date.
    async fn attestations(&self, ctx: &Context<'_>) -> Result<Vec<Attestation>> {
        let c = self.group.children(ctx).await?;
        Ok(c.attestations
            .get(&self.row.id)
            .map(|v| {
                v.iter()
                    .map(|row| Attestation::new(row.clone(), self.group.clone(), c.docs.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The vendor's business associate agreements, by effective date.
    async fn baas(&self, ctx: &Context<'_>) -> Result<Vec<Baa>> {
        let c = self.group.children(ctx).await?;
        Ok(c.baas
            .get(&self.row.id)
            .map(|v| {
                v.iter()
                    .map(|row| Baa::new(row.clone(), self.group.clone(), c.docs.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The link of this vendor record to the vendor's tenant on grc: the open connection, or
    /// else the latest.
    async fn connection(&self, ctx: &Context<'_>) -> Result<Option<TenantConnection>> {
        let tx = self.group.shared.tx(ctx).await?;
        let c =
            super::sharing::vendor_connection(&tx, self.group.shared.scope, self.row.id).await?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(c)
    }
    /// What the vendor's connected tenant shares with this tenant now, live on `on` (default
    /// today): its certificates (with their current status), attestations, BAAs and SoA
    /// summary. Listing them leaves no receipt; opening one (`sharedArtifact`) does.
    async fn shared_artifacts(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<Vec<SharedArtifact>> {
        let on = on
            .or(self.group.shared.judged.map(|j| j.0))
            .unwrap_or_else(today);
        let shares = self.group.shares(ctx, on).await?;
        Ok(shares.get(&self.row.id).cloned().unwrap_or_default())
    }
    /// The vendor's compliance on `on` (default today) with the tenant's policy: each
    /// requirement of its tier met by its best attestation, and a BAA in force where the
    /// vendor has ePHI access. Validity ending within `windowDays` (default: the policy's)
    /// counts as expiring.
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
        window_days: Option<i32>,
    ) -> Result<VendorCompliance> {
        let c = self.group.children(ctx).await?;
        let policy = self.group.shared.policy(ctx).await?;
        let judged = self.group.shared.judged;
        let on = on.or(judged.map(|j| j.0)).unwrap_or_else(today);
        let window = match (window_days, judged) {
            (None, Some((_, w))) => w,
            _ => policy.window(window_days)?,
        };
        let atts: &[attestation::Model] = c
            .attestations
            .get(&self.row.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let baas: &[baa::Model] = c.baas.get(&self.row.id).map(Vec::as_slice).unwrap_or(&[]);
        let held: Vec<vdom::HeldAttestation> = atts
            .iter()
            .enumerate()
            .filter_map(|(index, a)| {
                attestation_state(super::attestations::dates_of(a), &policy.attestation, on)
                    .map(|(kind, state)| vdom::HeldAttestation { kind, state, index })
            })
            .collect();
        let domain_baas: Vec<vdom::Baa> = baas
            .iter()
            .map(|b| domain_baa(b.effective_on, b.ends_on, b.terminated_on, &b.terms))
            .collect();
        let refs: Vec<(usize, &vdom::Baa)> = domain_baas
            .iter()
            .enumerate()
            .map(|(i, b)| (atts.len() + i, b))
            .collect();
        // Certificates the vendor's connected tenant shares with this one count as its ISO
        // attestations, with their live status.
        let shares = self.group.shares(ctx, on).await?;
        let shared: Vec<SharedArtifact> = shares
            .get(&self.row.id)
            .map(|v| v.iter().filter(|a| a.is_certificate()).cloned().collect())
            .unwrap_or_default();
        let first_shared = atts.len() + baas.len();
        let mut held = held;
        held.extend(shared.iter().enumerate().filter_map(|(k, a)| {
            super::sharing::slim_of(self.row.id, a).and_then(|slim| {
                attestation_state(
                    super::attestations::dates_of_slim(&slim),
                    &policy.attestation,
                    on,
                )
                .map(|(kind, state)| vdom::HeldAttestation {
                    kind,
                    state,
                    index: first_shared + k,
                })
            })
        }));
        let ephi = ephi_of(&self.row.ephi_access);
        let r = vdom::vendor_compliance(
            policy.requirements.of(tier_of(self.row.tier)),
            ephi,
            self.row.status == VendorStatus::Offboarded.as_str(),
            &held,
            &refs,
            on,
            window,
        );
        let shared_at = |i: Option<usize>| -> Option<SharedArtifact> {
            i.and_then(|i| i.checked_sub(first_shared))
                .and_then(|k| shared.get(k))
                .cloned()
        };
        let att = |i: Option<usize>| -> Option<Attestation> {
            i.and_then(|i| atts.get(i))
                .map(|row| Attestation::new(row.clone(), self.group.clone(), c.docs.clone()))
        };
        let agreement = |i: Option<usize>| -> Option<Baa> {
            i.filter(|i| *i < atts.len() + baas.len())
                .and_then(|i| i.checked_sub(atts.len()))
                .and_then(|i| baas.get(i))
                .map(|row| Baa::new(row.clone(), self.group.clone(), c.docs.clone()))
        };
        Ok(VendorCompliance {
            status: status_out(r.status),
            requirements: r
                .requirements
                .iter()
                .map(|x| RequirementOutcome {
                    any_of: kinds_out(&x.requirement),
                    state: state_out(x.state),
                    attestation: att(x.best),
                    baa: agreement(x.best),
                    shared_artifact: shared_at(x.best),
                    valid_until: x.valid_until,
                })
                .collect(),
            baa: BaaCoverage {
                required: r.baa.required,
                state: state_out(r.baa.state),
                baa: agreement(r.baa.baa),
                valid_until: r.baa.valid_until,
                missing_terms: r
                    .baa
                    .missing_terms
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
            },
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

pub(crate) fn ephi_of(s: &str) -> vdom::EphiAccess {
    vdom::EphiAccess::parse(s).unwrap_or(vdom::EphiAccess::Full)
}

fn tier_of(t: i32) -> u8 {
    u8::try_from(t).unwrap_or(0)
}

fn state_out(s: vdom::RequirementState) -> RequirementState {
    RequirementState::parse(s.as_str()).unwrap_or(RequirementState::Missing)
}

fn status_out(s: vdom::ComplianceStatus) -> ComplianceStatus {
    ComplianceStatus::parse(s.as_str()).unwrap_or(ComplianceStatus::NonCompliant)
}

/// One requirement's outcome for a vendor.
#[derive(Debug, Clone, SimpleObject)]
pub struct RequirementOutcome {
    /// The kinds that meet the requirement.
    pub any_of: Vec<RequirementKind>,
    pub state: RequirementState,
    /// The attestation that decides the state (the best of the listed kinds), if any.
    pub attestation: Option<Attestation>,
    /// The BAA that decides it, when the requirement lists a BAA and one is in force.
    pub baa: Option<Baa>,
    /// The certificate the vendor's tenant shares with this one that decides it, if it is one.
    pub shared_artifact: Option<SharedArtifact>,
    /// The last day the requirement stays met by it.
    pub valid_until: Option<NaiveDate>,
}

/// Whether a vendor's BAA obligation is met.
#[derive(Debug, Clone, SimpleObject)]
pub struct BaaCoverage {
    /// A BAA is required: the vendor has ePHI access (164.308(b)(1), 164.502(e)) or its tier
    /// asks for one.
    pub required: bool,
    pub state: RequirementState,
    /// The BAA in force that lasts longest.
    pub baa: Option<Baa>,
    pub valid_until: Option<NaiveDate>,
    /// Keys of the required terms (164.504(e), 164.314(a)) missing from the BAA in force.
    pub missing_terms: Vec<String>,
}

/// A vendor's compliance on a date.
#[derive(Debug, Clone, SimpleObject)]
pub struct VendorCompliance {
    pub status: ComplianceStatus,
    /// One per requirement of the vendor's tier, in the policy's order.
    pub requirements: Vec<RequirementOutcome>,
    pub baa: BaaCoverage,
}

/// The compliance counts of one tier.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct TierCompliance {
    pub tier: i32,
    pub vendors: u32,
    pub compliant: u32,
    pub at_risk: u32,
    pub non_compliant: u32,
}

/// The tenant's vendor compliance on a date.
#[derive(Debug, Clone, SimpleObject)]
pub struct VendorComplianceSummary {
    pub on: NaiveDate,
    pub window_days: u32,
    /// Every vendor, offboarded ones included (as not assessed).
    pub vendors: u32,
    pub compliant: u32,
    pub at_risk: u32,
    pub non_compliant: u32,
    pub not_assessed: u32,
    /// Assessed vendors with ePHI access and no BAA in force.
    pub ephi_without_baa: u32,
    /// Assessed vendors whose BAA in force lacks a required term.
    pub baa_missing_terms: u32,
    /// Required attestations by state, over all assessed vendors.
    pub requirements_valid: u32,
    pub requirements_expiring: u32,
    pub requirements_expired: u32,
    pub requirements_invalid: u32,
    pub requirements_missing: u32,
    /// Per tier, 1 to 4 (assessed vendors only count as compliant, at risk or non-compliant).
    pub by_tier: Vec<TierCompliance>,
}

/// Computes every vendor's compliance in one pass over the slim rows: attestations and BAAs
/// are grouped by vendor once (a sort and a map of index ranges), then each vendor is judged
/// with reused buffers. `each` sees every vendor's outcome.
pub(crate) fn compute_all(
    inputs: &ComplianceInputs,
    policy: &Policy,
    on: NaiveDate,
    window: u32,
    mut each: impl FnMut(&grc_store::VendorSlim, vdom::EphiAccess, &vdom::VendorCompliance),
) {
    // Attestation states, computed once each, grouped by vendor.
    let mut atts: Vec<(Uuid, vdom::HeldAttestation)> = inputs
        .attestations
        .iter()
        .enumerate()
        .filter_map(|(index, a)| {
            attestation_state(
                super::attestations::dates_of_slim(a),
                &policy.attestation,
                on,
            )
            .map(|(kind, state)| (a.vendor_id, vdom::HeldAttestation { kind, state, index }))
        })
        .collect();
    atts.sort_unstable_by_key(|a| a.0);
    let att_ranges = ranges(&atts, |a| a.0);
    let held: Vec<vdom::HeldAttestation> = atts.iter().map(|a| a.1).collect();

    let mut baas: Vec<(Uuid, usize, vdom::Baa)> = inputs
        .baas
        .iter()
        .enumerate()
        .map(|(i, b)| {
            (
                b.vendor_id,
                inputs.attestations.len() + i,
                domain_baa(b.effective_on, b.ends_on, b.terminated_on, &b.terms),
            )
        })
        .collect();
    baas.sort_unstable_by_key(|b| b.0);
    let baa_ranges = ranges(&baas, |b| b.0);
    let mut baa_buf: Vec<(usize, &vdom::Baa)> = Vec::new();

    for v in &inputs.vendors {
        let a = att_ranges
            .get(&v.id)
            .map(|r| &held[r.clone()])
            .unwrap_or(&[]);
        baa_buf.clear();
        if let Some(r) = baa_ranges.get(&v.id) {
            baa_buf.extend(baas[r.clone()].iter().map(|(_, i, b)| (*i, b)));
        }
        let ephi = ephi_of(&v.ephi_access);
        let c = vdom::vendor_compliance(
            policy.requirements.of(tier_of(v.tier)),
            ephi,
            v.status == VendorStatus::Offboarded.as_str(),
            a,
            &baa_buf,
            on,
            window,
        );
        each(v, ephi, &c);
    }
}

/// The index range of each key in a slice sorted by that key.
fn ranges<T>(sorted: &[T], key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, std::ops::Range<usize>> {
    let mut out = HashMap::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || key(&sorted[i]) != key(&sorted[start]) {
            out.insert(key(&sorted[start]), start..i);
            start = i;
        }
    }
    out
}

/// The tenant-wide summary (see [`compute_all`]).
pub(crate) fn summarize(
    inputs: &ComplianceInputs,
    policy: &Policy,
    on: NaiveDate,
    window: u32,
) -> VendorComplianceSummary {
    let mut s = vdom::ComplianceSummary::default();
    let mut tiers: [TierCompliance; 4] = Default::default();
    compute_all(inputs, policy, on, window, |v, ephi, c| {
        s.add(ephi, c);
        if let Some(t) = usize::try_from(v.tier - 1)
            .ok()
            .and_then(|i| tiers.get_mut(i))
        {
            t.vendors += 1;
            match c.status {
                vdom::ComplianceStatus::Compliant => t.compliant += 1,
                vdom::ComplianceStatus::AtRisk => t.at_risk += 1,
                vdom::ComplianceStatus::NonCompliant => t.non_compliant += 1,
                vdom::ComplianceStatus::NotAssessed => {}
            }
        }
    });
    for (i, t) in tiers.iter_mut().enumerate() {
        t.tier = i32::try_from(i + 1).unwrap_or(0);
    }
    VendorComplianceSummary {
        on,
        window_days: window,
        vendors: s.vendors,
        compliant: s.compliant,
        at_risk: s.at_risk,
        non_compliant: s.non_compliant,
        not_assessed: s.not_assessed,
        ephi_without_baa: s.ephi_without_baa,
        baa_missing_terms: s.baa_missing_terms,
        requirements_valid: s.requirements_valid,
        requirements_expiring: s.requirements_expiring,
        requirements_expired: s.requirements_expired,
        requirements_invalid: s.requirements_invalid,
        requirements_missing: s.requirements_missing,
        by_tier: tiers.into_iter().collect(),
    }
}

/// Resolves a `Vendor` node in the current tenant (the caller authorized `ReadVendors`).
pub(crate) async fn resolve_node(
    ctx: &Context<'_>,
    az: &Authorized,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    match kind {
        Kind::Vendor => {
            let tx = store(ctx)
                .tenant_tx(az.scope)
                .await
                .map_err(StoreErrorExt)?;
            let row = tx.vendor(id).await.map_err(StoreErrorExt)?;
            tx.commit().await.map_err(StoreErrorExt)?;
            Ok(row.map(|row| {
                let group = Group::new(Shared::new(az.scope, None), [row.clone()]);
                Node::Vendor(Vendor { row, group })
            }))
        }
        Kind::Attestation | Kind::Baa => super::attestations::resolve_node(ctx, az, kind, id).await,
        _ => Ok(None),
    }
}

/// A filter argument naming an object of `kind`: malformed ids are refused.
pub(crate) fn filter_id(id: Option<&ID>, kind: Kind, arg: &str) -> Result<Option<Uuid>> {
    id.map(|i| {
        decode_kind(i, kind).ok_or_else(|| {
            gql_error(
                ErrorCode::BadUserInput,
                format!("{arg} is not an id of the expected kind"),
            )
        })
    })
    .transpose()
}

pub(crate) fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest<Uuid>> {
    PageArgs {
        first,
        after,
        last,
        before,
    }
    .into_request(|k| Uuid::try_parse(k).ok())
}

/// Whether a name matches a search the way the store's does (case-insensitive substring).
fn name_matches(name: &str, search: &str) -> bool {
    name.to_lowercase().contains(&search.to_lowercase())
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct VendorsQuery;

#[Object]
impl VendorsQuery {
    /// The vendor register, oldest first. `compliance` keeps the vendors with that status on
    /// `on` (default today), computed with the tenant's policy and `windowDays` (default the
    /// policy's); the listed vendors' `compliance` field then defaults to the same date and
    /// window.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn vendors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        tier: Option<i32>,
        ephi_access: Option<EphiAccess>,
        status: Option<VendorStatus>,
        search: Option<String>,
        compliance: Option<ComplianceStatus>,
        on: Option<NaiveDate>,
        window_days: Option<i32>,
    ) -> Result<Connection<String, Vendor, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadVendors)?;
        let req = page_args(first, after, last, before)?;
        if tier.is_some_and(|t| !(1..=4).contains(&t)) {
            return Err(gql_error(ErrorCode::BadUserInput, "tier must be 1 to 4"));
        }
        let search = search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 300) {
            return Err(gql_error(
                ErrorCode::BadUserInput,
                "search is at most 300 characters",
            ));
        }
        let filter = VendorFilter {
            tier,
            ephi_access: ephi_access.map(|e| e.as_str().to_owned()),
            status: status.map(|s| s.as_str().to_owned()),
            search,
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let Some(wanted) = compliance else {
            let (page, total) = tx
                .vendors_page(&filter, &req, wants_total(ctx))
                .await
                .map_err(StoreErrorExt)?;
            tx.commit().await.map_err(StoreErrorExt)?;
            let group = Group::new(Shared::new(az.scope, None), page.items.iter().cloned());
            return Ok(build(
                page.map(|row| Vendor {
                    row,
                    group: group.clone(),
                }),
                total,
                |v| v.row.id.to_string(),
            ));
        };
        let on = on.unwrap_or_else(today);
        let load = async {
            let policy = tx.vendor_policy().await?;
            let mut inputs = tx.compliance_inputs().await?;
            super::sharing::add_shared_certificates(&tx, &mut inputs, on).await?;
            let all = tx.vendors_all().await?;
            Ok::<_, StoreError>((policy, inputs, all))
        };
        let (policy, inputs, all) = load.await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let policy = Policy::of(policy.as_ref());
        let window = policy.window(window_days)?;
        let mut keep: HashSet<Uuid> = HashSet::new();
        compute_all(&inputs, &policy, on, window, |v, _, c| {
            if status_out(c.status) == wanted {
                keep.insert(v.id);
            }
        });
        let mut rows: Vec<vendor::Model> = all
            .into_iter()
            .filter(|v| keep.contains(&v.id))
            .filter(|v| filter.tier.is_none_or(|t| v.tier == t))
            .filter(|v| {
                filter
                    .ephi_access
                    .as_ref()
                    .is_none_or(|e| &v.ephi_access == e)
            })
            .filter(|v| filter.status.as_ref().is_none_or(|s| &v.status == s))
            .filter(|v| {
                filter
                    .search
                    .as_ref()
                    .is_none_or(|s| name_matches(&v.name, s))
            })
            .collect();
        rows.sort_by_key(|v| v.id);
        let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        let page = page_in_memory(rows, |v| v.id, &req);
        let group = Group::new(
            Shared::judged(az.scope, policy, on, window),
            page.items.iter().cloned(),
        );
        Ok(build(
            page.map(|row| Vendor {
                row,
                group: group.clone(),
            }),
            total,
            |v| v.row.id.to_string(),
        ))
    }

    /// The tenant's vendor policy (the defaults, with `isDefault`, until it sets one).
    async fn vendor_policy(&self, ctx: &Context<'_>) -> Result<VendorPolicy> {
        let az = authorize(ctx, Operation::ReadVendors)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let row = tx.vendor_policy().await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(VendorPolicy(Policy::of(row.as_ref())))
    }

    /// Every vendor's compliance on `on` (default today), counted tenant-wide and per tier.
    /// Validity ending within `windowDays` (default: the policy's) counts as expiring.
    async fn vendor_compliance(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
        window_days: Option<i32>,
    ) -> Result<VendorComplianceSummary> {
        let az = authorize(ctx, Operation::ReadVendors)?;
        let on = on.unwrap_or_else(today);
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let load = async {
            let policy = tx.vendor_policy().await?;
            let mut inputs = tx.compliance_inputs().await?;
            super::sharing::add_shared_certificates(&tx, &mut inputs, on).await?;
            Ok::<_, StoreError>((policy, inputs))
        };
        let (policy, inputs) = load.await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let policy = Policy::of(policy.as_ref());
        let window = policy.window(window_days)?;
        Ok(summarize(&inputs, &policy, on, window))
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations: inputs and payloads

/// A contact person, as given.
#[derive(Debug, InputObject)]
pub struct VendorContactInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct CreateVendorInput {
    /// Unique in the tenant.
    pub name: String,
    pub legal_name: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    #[graphql(default)]
    pub services: Vec<String>,
    pub ephi_access: EphiAccess,
    pub phi_records: Option<i64>,
    /// 1 (most critical) to 4.
    pub tier: i32,
    #[graphql(default)]
    pub contacts: Vec<VendorContactInput>,
    /// A member; a contributor owns the vendors it creates (the default for one).
    pub owner_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct UpdateVendorInput {
    pub id: ID,
    pub name: Option<String>,
    /// null clears it.
    pub legal_name: MaybeUndefined<String>,
    /// null clears it.
    pub website: MaybeUndefined<String>,
    pub description: Option<String>,
    pub services: Option<Vec<String>>,
    pub ephi_access: Option<EphiAccess>,
    /// null clears it.
    pub phi_records: MaybeUndefined<i64>,
    pub tier: Option<i32>,
    pub contacts: Option<Vec<VendorContactInput>>,
    /// OFFBOARDED to offboard the vendor (it is then no longer assessed); ACTIVE to bring it
    /// back.
    pub status: Option<VendorStatus>,
    /// Reassigning takes an owner or compliance manager.
    pub owner_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct DeleteVendorInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct VendorPayload {
    pub vendor: Option<Vendor>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteVendorPayload {
    pub deleted_vendor_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddSubcontractorInput {
    /// The vendor that uses the subcontractor.
    pub vendor_id: ID,
    /// Another of the tenant's vendors.
    pub subcontractor_id: ID,
    /// What the subcontractor provides to the vendor.
    pub service: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct RemoveSubcontractorInput {
    pub vendor_id: ID,
    pub subcontractor_id: ID,
}

/// One requirement of a tier, as given.
#[derive(Debug, InputObject)]
pub struct TierRequirementInput {
    /// 1 to 10 distinct kinds; any one of them meets the requirement.
    pub any_of: Vec<RequirementKind>,
}

/// A tier's requirements, as given (they replace the tier's current ones).
#[derive(Debug, InputObject)]
pub struct TierPolicyInput {
    /// 1 to 4.
    pub tier: i32,
    /// At most 10.
    pub requirements: Vec<TierRequirementInput>,
}

#[derive(Debug, InputObject)]
pub struct SetVendorPolicyInput {
    /// Tiers not listed keep their requirements.
    #[graphql(default)]
    pub tiers: Vec<TierPolicyInput>,
    /// 1 to 36.
    pub soc2_current_months: Option<i32>,
    /// 0 to 12.
    pub soc2_bridge_max_months: Option<i32>,
    /// 1 to 60.
    pub pen_test_months: Option<i32>,
    /// 1 to 60.
    pub questionnaire_months: Option<i32>,
    /// 0 to 365.
    pub expiring_window_days: Option<i32>,
}

#[derive(Debug, SimpleObject)]
pub struct VendorPolicyPayload {
    pub vendor_policy: Option<VendorPolicy>,
    pub user_errors: Vec<UserError>,
}

// ---------------------------------------------------------------------------------------------
// Mutations: rules

fn check_tier(t: i32) -> Result<i32, MutationError> {
    if (1..=4).contains(&t) {
        Ok(t)
    } else {
        Err(invalid("tier", "a tier is 1 (most critical) to 4"))
    }
}

fn service_list(services: &[String]) -> Result<String, MutationError> {
    if services.len() > MAX_SERVICES {
        return Err(invalid(
            "services",
            format!("at most {MAX_SERVICES} services"),
        ));
    }
    let mut list: Vec<String> = Vec::with_capacity(services.len());
    for s in services {
        let s = checked_text("services", s, 300)?;
        if !list.contains(&s) {
            list.push(s);
        }
    }
    Ok(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

fn contact_list(contacts: &[VendorContactInput]) -> Result<String, MutationError> {
    if contacts.len() > MAX_CONTACTS {
        return Err(invalid(
            "contacts",
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    let list = contacts
        .iter()
        .map(|c| {
            let email = optional_text("contacts.email", c.email.as_deref(), 320)?;
            if email.as_ref().is_some_and(|e| !e.contains('@')) {
                return Err(invalid("contacts.email", "not an e-mail address"));
            }
            Ok(VendorContact {
                name: checked_text("contacts.name", &c.name, 200)?,
                email,
                phone: optional_text("contacts.phone", c.phone.as_deref(), 50)?,
                role: optional_text("contacts.role", c.role.as_deref(), 200)?,
            })
        })
        .collect::<Result<Vec<_>, MutationError>>()?;
    Ok(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

fn phi_records(n: Option<i64>) -> Result<Option<i64>, MutationError> {
    match n {
        Some(n) if n < 0 => Err(invalid("phiRecords", "cannot be negative")),
        n => Ok(n),
    }
}

fn website(w: Option<&str>) -> Result<Option<String>, MutationError> {
    let w = optional_text("website", w, 500)?;
    if let Some(u) = &w
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(invalid("website", "an http(s) address"));
    }
    Ok(w)
}

/// The tenant's vendor `id` (NOT_FOUND for anything else, other tenants' included).
pub(crate) async fn vendor_of(
    tx: &TenantTx,
    id: &ID,
    field: &str,
) -> Result<vendor::Model, MutationError> {
    let id = decode_kind(id, Kind::Vendor).ok_or_else(|| not_found("vendor", field))?;
    tx.vendor(id)
        .await?
        .ok_or_else(|| not_found("vendor", field))
}

fn name_taken(e: StoreError) -> MutationError {
    match e {
        StoreError::Conflict(_) => conflict("name", "a vendor with this name exists"),
        other => other.into(),
    }
}

fn vendor_change(v: &vendor::Model) -> serde_json::Value {
    json!({
        "name": v.name, "tier": v.tier, "ephiAccess": v.ephi_access, "status": v.status,
        "ownerId": v.owner_id, "services": services_of(&v.services),
    })
}

/// A vendor object for a mutation's payload (its children load on first use).
pub(crate) fn vendor_object(az: &Authorized, row: vendor::Model) -> Vendor {
    let group = Group::new(Shared::new(az.scope, None), [row.clone()]);
    Vendor { row, group }
}

fn path_names(path: &[Uuid], vendor: Uuid, names: &HashMap<Uuid, String>) -> String {
    std::iter::once(vendor)
        .chain(path.iter().copied())
        .map(|id| names.get(&id).cloned().unwrap_or_else(|| id.to_string()))
        .collect::<Vec<_>>()
        .join(" → ")
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct VendorsMutation;

#[Object]
impl VendorsMutation {
    /// Adds a vendor to the register.
    async fn create_vendor(
        &self,
        ctx: &Context<'_>,
        input: CreateVendorInput,
    ) -> Result<VendorPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (vendor, user_errors) = settle(
            async {
                let name = checked_text("name", &input.name, 300)?;
                let legal_name = optional_text("legalName", input.legal_name.as_deref(), 300)?;
                let website = website(input.website.as_deref())?;
                let description = free_text("description", input.description.as_deref(), TEXT)?;
                let services = service_list(&input.services)?;
                let contacts = contact_list(&input.contacts)?;
                let tier = check_tier(input.tier)?;
                let phi_records = phi_records(input.phi_records)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let owner = saved_owner(&tx, &az, "ownerId", input.owner_id.as_ref(), None).await?;
                let now = Utc::now();
                let row = tx
                    .insert_vendor(vendor::Model {
                        tenant_id: Uuid::nil(),
                        id: Uuid::now_v7(),
                        name,
                        legal_name,
                        website,
                        description,
                        services,
                        ephi_access: input.ephi_access.as_str().into(),
                        phi_records,
                        tier,
                        status: VendorStatus::Active.as_str().into(),
                        contacts,
                        owner_id: owner,
                        created_at: now,
                        updated_at: now,
                    })
                    .await
                    .map_err(name_taken)?;
                record(
                    &mut tx,
                    &az,
                    "vendor.create",
                    "vendor",
                    row.id,
                    vendor_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(vendor_object(&az, row))
            }
            .await,
        )?;
        Ok(VendorPayload {
            vendor,
            user_errors,
        })
    }

    /// Changes a vendor; `status: OFFBOARDED` offboards it. A contributor changes only the
    /// vendors it owns.
    async fn update_vendor(
        &self,
        ctx: &Context<'_>,
        input: UpdateVendorInput,
    ) -> Result<VendorPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (vendor, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = vendor_of(&tx, &input.id, "id").await?;
                require_edit(&az, row.owner_id)?;
                if let Some(n) = &input.name {
                    row.name = checked_text("name", n, 300)?;
                }
                match &input.legal_name {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.legal_name = None,
                    MaybeUndefined::Value(v) => {
                        row.legal_name = optional_text("legalName", Some(v), 300)?;
                    }
                }
                match &input.website {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.website = None,
                    MaybeUndefined::Value(v) => row.website = website(Some(v))?,
                }
                if input.description.is_some() {
                    row.description = free_text("description", input.description.as_deref(), TEXT)?;
                }
                if let Some(s) = &input.services {
                    row.services = service_list(s)?;
                }
                if let Some(c) = &input.contacts {
                    row.contacts = contact_list(c)?;
                }
                if let Some(e) = input.ephi_access {
                    row.ephi_access = e.as_str().into();
                }
                match input.phi_records {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.phi_records = None,
                    MaybeUndefined::Value(n) => row.phi_records = phi_records(Some(n))?,
                }
                if let Some(t) = input.tier {
                    row.tier = check_tier(t)?;
                }
                if let Some(s) = input.status {
                    row.status = s.as_str().into();
                }
                row.owner_id = saved_owner(
                    &tx,
                    &az,
                    "ownerId",
                    input.owner_id.as_ref(),
                    Some(row.owner_id),
                )
                .await?;
                row.updated_at = Utc::now();
                let row = tx.update_vendor(row).await.map_err(name_taken)?;
                record(
                    &mut tx,
                    &az,
                    "vendor.update",
                    "vendor",
                    row.id,
                    vendor_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(vendor_object(&az, row))
            }
            .await,
        )?;
        Ok(VendorPayload {
            vendor,
            user_errors,
        })
    }

    /// Deletes a vendor entered by mistake. A vendor with attestations, BAAs or subcontractor
    /// links is a record: offboard it instead (CONFLICT).
    async fn delete_vendor(
        &self,
        ctx: &Context<'_>,
        input: DeleteVendorInput,
    ) -> Result<DeleteVendorPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (deleted_vendor_id, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = vendor_of(&tx, &input.id, "id").await?;
                require_edit(&az, row.owner_id)?;
                if !tx.attestations_of(&[row.id]).await?.is_empty()
                    || !tx.baas_of(&[row.id]).await?.is_empty()
                {
                    return Err(conflict(
                        "id",
                        "the vendor has attestations or BAAs: offboard it instead",
                    ));
                }
                tx.lock_vendor_graph().await?;
                if tx
                    .subcontractor_edges()
                    .await?
                    .iter()
                    .any(|&(a, b)| a == row.id || b == row.id)
                {
                    return Err(conflict(
                        "id",
                        "the vendor has subcontractor links: remove them or offboard it",
                    ));
                }
                if !tx.delete_vendor(row.id).await? {
                    return Err(not_found("vendor", "id"));
                }
                record(
                    &mut tx,
                    &az,
                    "vendor.delete",
                    "vendor",
                    row.id,
                    vendor_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Vendor, row.id))
            }
            .await,
        )?;
        Ok(DeleteVendorPayload {
            deleted_vendor_id,
            user_errors,
        })
    }

    /// Records that a vendor uses another of the tenant's vendors as its subcontractor. A
    /// link that would make a vendor its own subcontractor, at any depth, is refused with the
    /// path it would close; an existing link is a CONFLICT.
    async fn add_subcontractor(
        &self,
        ctx: &Context<'_>,
        input: AddSubcontractorInput,
    ) -> Result<VendorPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (vendor, user_errors) = settle(
            async {
                let service = free_text("service", input.service.as_deref(), 500)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let v = vendor_of(&tx, &input.vendor_id, "vendorId").await?;
                let sub = vendor_of(&tx, &input.subcontractor_id, "subcontractorId").await?;
                require_edit(&az, v.owner_id)?;
                // Serializes graph changes (PostgreSQL) before reading the edges.
                tx.lock_vendor_graph().await?;
                let edges = tx.subcontractor_edges().await?;
                if edges.contains(&(v.id, sub.id)) {
                    return Err(conflict(
                        "subcontractorId",
                        format!("{} is already a subcontractor of {}", sub.name, v.name),
                    ));
                }
                if let Some(path) = vdom::subcontractor_cycle(&edges, v.id, sub.id) {
                    let names: HashMap<Uuid, String> = tx
                        .vendors_by_ids(&path)
                        .await?
                        .into_iter()
                        .map(|r| (r.id, r.name))
                        .collect();
                    return Err(invalid(
                        "subcontractorId",
                        format!(
                            "a vendor cannot be its own subcontractor: this link would close \
                             the cycle {}",
                            path_names(&path, v.id, &names)
                        ),
                    ));
                }
                tx.add_subcontractor(v.id, sub.id, &service)
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => {
                            conflict("subcontractorId", "already a subcontractor")
                        }
                        other => other.into(),
                    })?;
                record(
                    &mut tx,
                    &az,
                    "vendor.add_subcontractor",
                    "vendor",
                    v.id,
                    json!({ "subcontractor": sub.id, "service": service }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(vendor_object(&az, v))
            }
            .await,
        )?;
        Ok(VendorPayload {
            vendor,
            user_errors,
        })
    }

    /// Removes a subcontractor link.
    async fn remove_subcontractor(
        &self,
        ctx: &Context<'_>,
        input: RemoveSubcontractorInput,
    ) -> Result<VendorPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (vendor, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let v = vendor_of(&tx, &input.vendor_id, "vendorId").await?;
                let sub = decode_kind(&input.subcontractor_id, Kind::Vendor)
                    .ok_or_else(|| not_found("subcontractor link", "subcontractorId"))?;
                require_edit(&az, v.owner_id)?;
                tx.lock_vendor_graph().await?;
                if !tx.remove_subcontractor(v.id, sub).await? {
                    return Err(not_found("subcontractor link", "subcontractorId"));
                }
                record(
                    &mut tx,
                    &az,
                    "vendor.remove_subcontractor",
                    "vendor",
                    v.id,
                    json!({ "subcontractor": sub }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(vendor_object(&az, v))
            }
            .await,
        )?;
        Ok(VendorPayload {
            vendor,
            user_errors,
        })
    }

    /// Sets the tenant's vendor policy (owners and compliance managers): the requirements of
    /// the tiers given, and any of the validity periods and the expiring window. What is not
    /// given keeps its current (or default) value.
    async fn set_vendor_policy(
        &self,
        ctx: &Context<'_>,
        input: SetVendorPolicyInput,
    ) -> Result<VendorPolicyPayload> {
        let az = authorize(ctx, Operation::ConfigureVendors)?;
        let (vendor_policy, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let current = tx.vendor_policy().await?;
                let mut p = Policy::of(current.as_ref());
                let mut seen = HashSet::new();
                for (i, t) in input.tiers.iter().enumerate() {
                    if !(1..=4).contains(&t.tier) || !seen.insert(t.tier) {
                        return Err(invalid(
                            &format!("tiers.{i}.tier"),
                            "each tier (1 to 4) at most once",
                        ));
                    }
                    let reqs = t
                        .requirements
                        .iter()
                        .map(|r| vdom::Requirement {
                            any_of: r
                                .any_of
                                .iter()
                                .filter_map(|k| vdom::RequirementKind::parse(k.as_str()))
                                .collect(),
                        })
                        .collect::<Vec<_>>();
                    // Errors name the input's position, not the tier number.
                    vdom::check_requirements(&format!("tiers.{i}.requirements"), &reqs)?;
                    let idx = usize::try_from(t.tier - 1).unwrap_or(0);
                    if let Some(slot) = p.requirements.tiers.get_mut(idx) {
                        *slot = reqs;
                    }
                }
                p.requirements.validate()?;
                let num = |field: &str, v: Option<i32>, cur: u32| -> Result<u32, MutationError> {
                    match v {
                        None => Ok(cur),
                        Some(v) => {
                            u32::try_from(v).map_err(|_| invalid(field, "cannot be negative"))
                        }
                    }
                };
                p.attestation.soc2_current_months = num(
                    "soc2CurrentMonths",
                    input.soc2_current_months,
                    p.attestation.soc2_current_months,
                )?;
                p.attestation.soc2_bridge_max_months = num(
                    "soc2BridgeMaxMonths",
                    input.soc2_bridge_max_months,
                    p.attestation.soc2_bridge_max_months,
                )?;
                p.attestation.pen_test_months = num(
                    "penTestMonths",
                    input.pen_test_months,
                    p.attestation.pen_test_months,
                )?;
                p.attestation.questionnaire_months = num(
                    "questionnaireMonths",
                    input.questionnaire_months,
                    p.attestation.questionnaire_months,
                )?;
                p.attestation.validate()?;
                if let Some(w) = input.expiring_window_days {
                    if !(0..=MAX_WINDOW_DAYS).contains(&w) {
                        return Err(invalid("expiringWindowDays", "must be 0 to 365 days"));
                    }
                    p.window_days = u32::try_from(w).unwrap_or(DEFAULT_WINDOW_DAYS);
                }
                let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
                let now = Utc::now();
                let row = vendor_policy::Model {
                    tenant_id: Uuid::nil(),
                    requirements: serde_json::to_string(&p.requirements)
                        .unwrap_or_else(|_| "{}".into()),
                    soc2_current_months: to_i32(p.attestation.soc2_current_months),
                    soc2_bridge_max_months: to_i32(p.attestation.soc2_bridge_max_months),
                    pen_test_months: to_i32(p.attestation.pen_test_months),
                    questionnaire_months: to_i32(p.attestation.questionnaire_months),
                    expiring_window_days: to_i32(p.window_days),
                    updated_by: az.actor.to_stored(),
                    updated_at: now,
                };
                tx.save_vendor_policy(row.clone()).await?;
                record(
                    &mut tx,
                    &az,
                    "vendor_policy.set",
                    "vendor_policy",
                    az.scope.tenant_id().0,
                    json!({ "requirements": p.requirements,
                            "soc2CurrentMonths": row.soc2_current_months,
                            "soc2BridgeMaxMonths": row.soc2_bridge_max_months,
                            "penTestMonths": row.pen_test_months,
                            "questionnaireMonths": row.questionnaire_months,
                            "expiringWindowDays": row.expiring_window_days }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(VendorPolicy(Policy::of(Some(&row))))
            }
            .await,
        )?;
        Ok(VendorPolicyPayload {
            vendor_policy,
            user_errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grc_store::{AttestationSlim, BaaSlim, VendorSlim};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    /// 2,000 vendors with 10,000 attestations of every kind and 1,000 BAAs.
    fn big() -> ComplianceInputs {
        let kinds = [
            "iso27001",
            "soc2-type2",
            "hitrust-r2",
            "pen-test",
            "questionnaire",
        ];
        let vendors: Vec<VendorSlim> = (0..2000)
            .map(|i| VendorSlim {
                id: Uuid::now_v7(),
                tier: 1 + i % 4,
                ephi_access: if i % 2 == 0 { "full" } else { "none" }.into(),
                status: "active".into(),
            })
            .collect();
        let attestations = (0..10_000)
            .map(|i| {
                let kind = kinds[i % kinds.len()];
                AttestationSlim {
                    id: Uuid::now_v7(),
                    vendor_id: vendors[i % vendors.len()].id,
                    kind: kind.into(),
                    issued_on: d("2025-02-15"),
                    expires_on: (kind == "iso27001").then(|| d("2028-02-14")),
                    period_start: (kind == "soc2-type2").then(|| d("2024-01-01")),
                    period_end: (kind == "soc2-type2").then(|| d("2024-12-31")),
                    opinion: None,
                    bridge_through: None,
                    interim_submitted_on: (kind == "hitrust-r2").then(|| d("2026-02-01")),
                    hitrust_bridge_on: None,
                    suspended_on: None,
                    withdrawn_on: None,
                    edition: None,
                }
            })
            .collect();
        let baas = (0..1000)
            .map(|i| BaaSlim {
                id: Uuid::now_v7(),
                vendor_id: vendors[i * 2].id,
                effective_on: d("2025-01-01"),
                ends_on: None,
                terminated_on: None,
                terms: r#"{"safeguards": true, "access": true}"#.into(),
            })
            .collect();
        ComplianceInputs {
            vendors,
            attestations,
            baas,
        }
    }

    #[test]
    fn the_summary_of_a_large_tenant_is_one_fast_pass() {
        let inputs = big();
        let policy = Policy::of(None);
        let on = d("2025-12-01");
        let mut best = std::time::Duration::MAX;
        let mut s = summarize(&inputs, &policy, on, 30);
        for _ in 0..5 {
            let t = std::time::Instant::now();
            s = summarize(&inputs, &policy, on, 30);
            best = best.min(t.elapsed());
        }
        eprintln!("vendor compliance summary, 2,000 vendors / 10,000 attestations: {best:?}");
        assert_eq!(s.vendors, 2000);
        assert_eq!(
            s.compliant + s.at_risk + s.non_compliant + s.not_assessed,
            2000
        );
        // Every vendor with ePHI has a BAA in force, each missing 13 of the 15 terms.
        assert_eq!((s.ephi_without_baa, s.baa_missing_terms), (0, 1000));
        assert_eq!(s.by_tier.iter().map(|t| t.vendors).sum::<u32>(), 2000);
    }

    #[test]
    fn paging_in_memory_matches_the_store() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let p = page_in_memory(
            ids.clone(),
            |u| *u,
            &PageRequest::Forward {
                first: 2,
                after: Some(ids[0]),
            },
        );
        assert_eq!(p.items, ids[1..3]);
        assert!(p.has_next_page && p.has_previous_page);
        let p = page_in_memory(
            ids.clone(),
            |u| *u,
            &PageRequest::Backward {
                last: 2,
                before: Some(ids[4]),
            },
        );
        assert_eq!(p.items, ids[2..4]);
        assert!(p.has_next_page && p.has_previous_page);
        let p = page_in_memory(
            ids.clone(),
            |u| *u,
            &PageRequest::Backward {
                last: 10,
                before: None,
            },
        );
        assert_eq!(p.items, ids);
        assert!(!p.has_next_page && !p.has_previous_page);
    }
}
