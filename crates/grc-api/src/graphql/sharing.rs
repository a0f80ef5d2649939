//! Sharing between tenants through the API: connections, listings, grants, access requests,
//! NDAs, receipts, the outbox, live reads of shared artifacts, change announcements to
//! grantees, and inherited SoA controls. See docs/SHARING.md and ADR 0014.
//!
//! Every cross-tenant read starts from a grant of the current tenant ([`grc_store::LiveGrant`],
//! built by the store only from a grant live at the time of the read); PostgreSQL's
//! `grantee_reads` policies check the same thing again.

use super::common::{
    checked_text, conflict, free_text, invalid, not_found, settle, stored_enum, today,
};
use super::connection::{ConnectionFields, build, wants_total};
use super::ids::{Kind, decode_kind, encode};
use super::vendors::{Policy, Vendor, page_args};
use super::{Authorized, authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use crate::http::ClientInfo;
use async_graphql::connection::Connection;
use async_graphql::{
    Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject, Subscription,
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{Stream, StreamExt, stream};
use grc_domain::audit::{Actor, AuditRecord};
use grc_domain::authz::Operation;
use grc_domain::certification::AttestationPolicy;
use grc_domain::isms::ImplementationStatus;
use grc_domain::sharing as dom;
use grc_store::entity::sharing::{
    access_receipt, access_request, access_request_event, connection, nda, nda_acceptance,
    nda_version, outbox_event, share_grant, share_listing,
};
use grc_store::entity::vendors::{attestation, baa, certificate};
use grc_store::{
    AuditEntry, GrantFilter, LiveGrant, PeerEvent, Store, StoreError, TenantRecord, TenantScope,
    TenantTx,
};
use serde::Serialize;
use serde_json::json;
use sha2::Digest;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

stored_enum!(
    /// A connection's state.
    ConnectionStatus {
        Invited = "invited",
        Active = "active",
        Declined = "declined",
        Cancelled = "cancelled",
        Ended = "ended",
    }
);

stored_enum!(
    /// What a grant shares.
    ArtifactKind {
        /// One of the owner's own ISO certificates, with its audits and decisions.
        Certificate = "certificate",
        /// Every ISO certificate the owner holds now or records later.
        AllIsoCertificates = "all-iso-certificates",
        /// One attestation of the owner's vendor register.
        Attestation = "attestation",
        /// One business associate agreement of the owner's register.
        Baa = "baa",
        /// An ISMS's latest approved SoA: applicability and status per control.
        SoaSummary = "soa-summary",
    }
);

stored_enum!(
    /// How much of an artifact a grant opens.
    ShareAccess {
        Metadata = "metadata",
        /// The data and the document (behind the grant's NDA, if any).
        Document = "document",
    }
);

stored_enum!(
    /// A grant's state now.
    GrantState {
        Live = "live",
        Expired = "expired",
        Revoked = "revoked",
    }
);

stored_enum!(
    /// An access request's state.
    RequestStatus {
        Pending = "pending",
        Approved = "approved",
        Denied = "denied",
        Withdrawn = "withdrawn",
    }
);

stored_enum!(
    /// A step of an access request's history.
    RequestAction {
        Requested = "requested",
        Approved = "approved",
        Denied = "denied",
        Withdrawn = "withdrawn",
    }
);

stored_enum!(
    /// Why a shared document does not open.
    DocumentClosed {
        MetadataOnly = "metadata-only",
        NdaNotAccepted = "nda-not-accepted",
        NoDocument = "no-document",
        NotLive = "not-live",
    }
);

stored_enum!(
    /// What a receipt records.
    ReceiptView {
        /// The artifact's data was read.
        Metadata = "metadata",
        /// Its document was downloaded.
        Document = "document",
    }
);

stored_enum!(
    /// Whether an inherited SoA entry still rests on the vendor's shared SoA.
    InheritanceState {
        Supported = "supported",
        NotConnected = "not-connected",
        NotShared = "not-shared",
        NoApprovedSoa = "no-approved-soa",
        NotApplicable = "not-applicable",
        NotImplemented = "not-implemented",
    }
);

/// The current tenant's side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConnectionSide {
    /// It invited the provider to link with one of its vendor records.
    Customer,
    /// It is the vendor.
    Provider,
}

/// Which side's records a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ShareDirection {
    /// About the current tenant's artifacts (it is the owner).
    Incoming,
    /// By the current tenant (it is the requester or grantee).
    Outgoing,
}

/// The audit action of an announcement in a grantee's chain (the subscription's signal).
const CHANGED: &str = "share.changed";

// ---------------------------------------------------------------------------------------------
// Peers

/// Another tenant, as its peers see it.
#[derive(Debug, Clone, SimpleObject)]
pub struct PeerTenant {
    /// The same id as `Tenant.id`.
    pub id: ID,
    pub slug: String,
    pub name: String,
}

/// Tenants by id, for the rows of a page.
#[derive(Debug, Default)]
pub(crate) struct Peers(HashMap<Uuid, TenantRecord>);

impl Peers {
    async fn load(tx: &TenantTx, ids: impl IntoIterator<Item = Uuid>) -> Result<Arc<Self>> {
        let ids: Vec<Uuid> = ids
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = tx.tenants_by_ids(&ids).await.map_err(StoreErrorExt)?;
        Ok(Arc::new(Self(
            rows.into_iter().map(|t| (t.id.0, t)).collect(),
        )))
    }
    fn get(&self, id: Uuid) -> PeerTenant {
        match self.0.get(&id) {
            Some(t) => PeerTenant {
                id: encode(Kind::Tenant, id),
                slug: t.slug.clone(),
                name: t.name.clone(),
            },
            None => PeerTenant {
                id: encode(Kind::Tenant, id),
                slug: String::new(),
                name: String::new(),
            },
        }
    }
}

fn internal() -> async_graphql::Error {
    gql_error(ErrorCode::Internal, "internal error")
}

fn store_err(e: StoreError) -> async_graphql::Error {
    StoreErrorExt(e).into()
}

// ---------------------------------------------------------------------------------------------
// Connections

/// A covered entity's vendor record linked to the vendor's tenant.
#[derive(Debug, Clone)]
pub struct TenantConnection {
    pub(crate) row: connection::Model,
    me: Uuid,
    peers: Arc<Peers>,
    scope: TenantScope,
}

#[Object]
impl TenantConnection {
    pub async fn id(&self) -> ID {
        encode(Kind::TenantConnection, self.row.id)
    }
    async fn status(&self) -> Result<ConnectionStatus> {
        ConnectionStatus::of(&self.row.status)
    }
    /// The current tenant's side.
    async fn side(&self) -> ConnectionSide {
        if self.row.tenant_id == self.me {
            ConnectionSide::Customer
        } else {
            ConnectionSide::Provider
        }
    }
    /// The tenant that invited (it keeps the vendor record).
    async fn customer(&self) -> PeerTenant {
        self.peers.get(self.row.tenant_id)
    }
    /// The vendor's tenant.
    async fn provider(&self) -> PeerTenant {
        self.peers.get(self.row.provider_tenant_id)
    }
    /// The other side.
    async fn peer(&self) -> PeerTenant {
        self.peers.get(if self.row.tenant_id == self.me {
            self.row.provider_tenant_id
        } else {
            self.row.tenant_id
        })
    }
    /// The customer's vendor record (on the customer's side only).
    async fn vendor(&self, ctx: &Context<'_>) -> Result<Option<Vendor>> {
        if self.row.tenant_id != self.me {
            return Ok(None);
        }
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        let row = tx.vendor(self.row.vendor_id).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(row.map(|row| Vendor::single(self.scope, row)))
    }
    async fn message(&self) -> &str {
        &self.row.message
    }
    async fn invited_at(&self) -> DateTime<Utc> {
        self.row.invited_at
    }
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.row.responded_at
    }
    async fn response_reason(&self) -> Option<&str> {
        self.row.response_reason.as_deref()
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.row.ended_at
    }
    async fn end_reason(&self) -> Option<&str> {
        self.row.end_reason.as_deref()
    }
    /// Which side ended it, if it ended.
    async fn ended_by(&self) -> Option<PeerTenant> {
        self.row.ended_by_tenant.map(|t| self.peers.get(t))
    }
}

// ---------------------------------------------------------------------------------------------
// Listings

/// An artifact its owner lists as shareable: connected tenants see the title and may ask.
#[derive(Debug, Clone)]
pub struct ShareListing {
    row: share_listing::Model,
    peers: Arc<Peers>,
}

#[Object]
impl ShareListing {
    pub async fn id(&self) -> ID {
        encode(Kind::ShareListing, self.row.id)
    }
    async fn owner(&self) -> PeerTenant {
        self.peers.get(self.row.tenant_id)
    }
    async fn artifact_kind(&self) -> Result<ArtifactKind> {
        ArtifactKind::of(&self.row.artifact_kind)
    }
    /// The artifact's id (null for all ISO certificates).
    async fn artifact_id(&self) -> Option<ID> {
        artifact_gid(&self.row.artifact_kind, self.row.artifact_id)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn description(&self) -> &str {
        &self.row.description
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

/// The global id of an owner's artifact.
fn artifact_gid(kind: &str, id: Option<Uuid>) -> Option<ID> {
    let id = id?;
    Some(match kind {
        "certificate" => encode(Kind::Certificate, id),
        "attestation" => encode(Kind::Attestation, id),
        "baa" => encode(Kind::Baa, id),
        "soa-summary" => encode(Kind::Isms, id),
        _ => return None,
    })
}

impl ArtifactKind {
    /// The stored kind of the single artifacts a grant of this kind covers.
    fn item_kind_str(self) -> &'static str {
        match self {
            Self::AllIsoCertificates => "certificate",
            k => k.as_str(),
        }
    }
}

/// Decodes an artifact id of `kind`.
fn artifact_uuid(kind: ArtifactKind, id: &ID) -> Option<Uuid> {
    match kind {
        ArtifactKind::Certificate | ArtifactKind::AllIsoCertificates => {
            decode_kind(id, Kind::Certificate)
        }
        ArtifactKind::Attestation => decode_kind(id, Kind::Attestation),
        ArtifactKind::Baa => decode_kind(id, Kind::Baa),
        ArtifactKind::SoaSummary => decode_kind(id, Kind::Isms),
    }
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/// One shared artifact, live: its status is computed now from the owner's current rows.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct SharedArtifact {
    pub grant_id: ID,
    /// Never ALL_ISO_CERTIFICATES: each certificate under such a grant is one artifact.
    pub kind: ArtifactKind,
    /// The owner's id of the artifact (Certificate, Attestation, Baa or, for an SoA summary,
    /// Isms).
    pub id: ID,
    pub title: String,
    /// Certificate: pending, active, suspended, expired or withdrawn. Attestation: pending,
    /// valid, expired, suspended, withdrawn or unacceptable (judged with the reader's vendor
    /// policy). BAA: in-effect or not-in-effect. SoA summary: approved or
    /// no-approved-version.
    pub status: String,
    pub valid_until: Option<NaiveDate>,
    /// Whether the document opens for the grantee now.
    pub document_available: bool,
    /// Why it does not, when it does not.
    pub document_closed: Option<DocumentClosed>,
    #[graphql(skip)]
    pub(crate) owner: Uuid,
    #[graphql(skip)]
    pub(crate) uuid: Uuid,
    #[graphql(skip)]
    pub(crate) grant: Uuid,
    #[graphql(skip)]
    pub(crate) document: Option<Uuid>,
    #[graphql(skip)]
    pub(crate) stored_kind: &'static str,
    #[graphql(skip)]
    pub(crate) valid: bool,
    /// A certificate's standard, edition and state on the day (what compliance reads).
    #[graphql(skip)]
    pub(crate) cert: Option<(String, String, grc_domain::certification::CertificateState)>,
}

impl SharedArtifact {
    pub(crate) fn is_certificate(&self) -> bool {
        self.cert.is_some()
    }
}

/// A shared certificate as the vendor register's compliance reads an ISO attestation: the
/// facts that give the same status on the day it was computed for (a pending certificate
/// counts as none).
pub(crate) fn slim_of(vendor: Uuid, a: &SharedArtifact) -> Option<grc_store::AttestationSlim> {
    use grc_domain::certification::CertificateStatus as S;
    let (standard, _edition, st) = a.cert.as_ref()?;
    let issued = st.cycle_start?;
    let expires = st.valid_until?;
    let (suspended_on, withdrawn_on) = match st.status {
        S::Suspended => (st.since, None),
        S::Withdrawn => (None, st.since),
        _ => (None, None),
    };
    Some(grc_store::AttestationSlim {
        id: a.uuid,
        vendor_id: vendor,
        kind: standard.clone(),
        issued_on: issued,
        expires_on: Some(expires),
        period_start: None,
        period_end: None,
        opinion: None,
        bridge_through: None,
        interim_submitted_on: None,
        hitrust_bridge_on: None,
        suspended_on,
        withdrawn_on,
        // The state's validity already includes any 2013-edition cut-off (and a transition
        // lifts it): the edition is not applied a second time.
        edition: None,
    })
}

/// Adds the certificates each vendor's connected tenant shares with the current tenant to the
/// compliance inputs, as ISO attestations of that vendor judged on `on`.
pub(crate) async fn add_shared_certificates(
    tx: &TenantTx,
    inputs: &mut grc_store::ComplianceInputs,
    on: NaiveDate,
) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = inputs.vendors.iter().map(|v| v.id).collect();
    let shares = vendor_shares(tx, &ids, on, true).await?;
    for (vendor, list) in shares {
        inputs
            .attestations
            .extend(list.iter().filter_map(|a| slim_of(vendor, a)));
    }
    Ok(())
}

#[async_graphql::ComplexObject]
impl SharedArtifact {
    /// The owner's tenant id.
    async fn owner_tenant_id(&self) -> ID {
        encode(Kind::Tenant, self.owner)
    }
}

/// What a page of grants' artifacts is computed from, loaded in a few queries for all of them.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    certificates: Vec<certificate::Model>,
    /// By (owner, certificate): the lifecycle replayed.
    lives: HashMap<(Uuid, Uuid), Option<grc_domain::certification::Certificate>>,
    audits: HashMap<(Uuid, Uuid), Vec<grc_store::entity::vendors::certificate_audit::Model>>,
    decisions: HashMap<(Uuid, Uuid), Vec<grc_store::entity::vendors::certificate_decision::Model>>,
    attestations: HashMap<(Uuid, Uuid), attestation::Model>,
    baas: HashMap<(Uuid, Uuid), baa::Model>,
    isms: HashMap<(Uuid, Uuid), grc_store::entity::isms::system::Model>,
    soas: HashMap<(Uuid, Uuid), grc_store::entity::isms::soa_version::Model>,
    /// (owner, nda) → whether the grantee of the grant accepted its current version.
    nda_ok: HashMap<(Uuid, Uuid, Uuid), bool>,
}

impl Loaded {
    /// How many rows it holds (a cache's weight).
    fn rows(&self) -> usize {
        self.certificates.len()
            + self.audits.values().map(Vec::len).sum::<usize>()
            + self.decisions.values().map(Vec::len).sum::<usize>()
            + self.attestations.len()
            + self.baas.len()
            + self.isms.len()
            + self.soas.len()
            + self.nda_ok.len()
    }

    async fn load(tx: &TenantTx, grants: &[LiveGrant]) -> Result<Self, StoreError> {
        let mut l = Loaded::default();
        if grants.is_empty() {
            return Ok(l);
        }
        l.certificates = tx.shared_certificates(grants).await?;
        let pairs: Vec<(Uuid, Uuid)> = l.certificates.iter().map(|c| (c.tenant_id, c.id)).collect();
        let (audits, decisions) = tx.shared_certificate_history(&pairs).await?;
        for a in audits {
            l.audits
                .entry((a.tenant_id, a.certificate_id))
                .or_default()
                .push(a);
        }
        for d in decisions {
            l.decisions
                .entry((d.tenant_id, d.certificate_id))
                .or_default()
                .push(d);
        }
        for c in &l.certificates {
            let key = (c.tenant_id, c.id);
            let life = super::certificates::lifecycle(
                c,
                l.audits.get(&key).map(Vec::as_slice).unwrap_or(&[]),
                l.decisions.get(&key).map(Vec::as_slice).unwrap_or(&[]),
            )
            .ok();
            l.lives.insert(key, life);
        }
        for a in tx.shared_attestations(grants).await? {
            l.attestations.insert((a.tenant_id, a.id), a);
        }
        for b in tx.shared_baas(grants).await? {
            l.baas.insert((b.tenant_id, b.id), b);
        }
        let (isms, versions) = tx.shared_soas(grants).await?;
        for i in isms {
            l.isms.insert((i.tenant_id, i.id), i);
        }
        for v in versions {
            l.soas.insert((v.tenant_id, v.isms_id), v);
        }
        let mut ndas: BTreeSet<(Uuid, Uuid, Uuid)> = BTreeSet::new();
        for g in grants {
            if let Some(n) = g.row().nda_id {
                ndas.insert((g.owner(), n, g.row().grantee_tenant_id));
            }
        }
        for (owner, n, grantee) in ndas {
            let ok = tx.accepted_current_nda(owner, n, grantee).await?;
            l.nda_ok.insert((owner, n, grantee), ok);
        }
        Ok(l)
    }

    /// The artifacts of `g` on `on`, judged with `policy`.
    fn artifacts(
        &self,
        g: &LiveGrant,
        on: NaiveDate,
        now: DateTime<Utc>,
        policy: &AttestationPolicy,
    ) -> Vec<SharedArtifact> {
        let row = g.row();
        let state = dom::grant_state(row.revoked_at, row.expires_at, now);
        let access = dom::ShareAccess::parse(&row.access).unwrap_or(dom::ShareAccess::Metadata);
        let nda_ok = row
            .nda_id
            .map(|n| {
                self.nda_ok
                    .get(&(g.owner(), n, row.grantee_tenant_id))
                    .copied()
                    .unwrap_or(false)
            })
            .unwrap_or(true);
        let open = |doc: Option<Uuid>| {
            dom::opening(state, access, row.nda_id.is_some(), nda_ok, doc.is_some())
        };
        let make = |kind: ArtifactKind,
                    stored: &'static str,
                    gid: ID,
                    uuid: Uuid,
                    title: String,
                    status: String,
                    valid_until: Option<NaiveDate>,
                    valid: bool,
                    doc: Option<Uuid>| {
            let o = open(doc);
            SharedArtifact {
                grant_id: encode(Kind::ShareGrant, row.id),
                kind,
                id: gid,
                title,
                status,
                valid_until,
                document_available: o.document,
                document_closed: o
                    .document_closed
                    .and_then(|c| DocumentClosed::parse(c.as_str())),
                owner: g.owner(),
                uuid,
                grant: row.id,
                document: doc,
                stored_kind: stored,
                valid,
                cert: None,
            }
        };
        let mut out = Vec::new();
        match row.artifact_kind.as_str() {
            "certificate" | "all-iso-certificates" => {
                for c in self
                    .certificates
                    .iter()
                    .filter(|c| c.tenant_id == g.owner() && g.covers("certificate", c.id))
                {
                    let life = self
                        .lives
                        .get(&(c.tenant_id, c.id))
                        .and_then(Option::as_ref);
                    let st = life.map(|l| l.status_on(on));
                    let mut a = make(
                        ArtifactKind::Certificate,
                        "certificate",
                        encode(Kind::Certificate, c.id),
                        c.id,
                        certificate_title(c),
                        st.map_or_else(|| "invalid-history".into(), |s| s.status.as_str().into()),
                        st.and_then(|s| s.valid_until),
                        st.is_some_and(|s| s.is_valid()),
                        c.document_id,
                    );
                    a.cert = st.map(|st| (c.standard.clone(), c.edition.clone(), st));
                    out.push(a);
                }
            }
            "attestation" => {
                if let Some(a) = row
                    .artifact_id
                    .and_then(|id| self.attestations.get(&(g.owner(), id)))
                {
                    let st = super::attestations::attestation_state(
                        super::attestations::dates_of(a),
                        policy,
                        on,
                    );
                    out.push(make(
                        ArtifactKind::Attestation,
                        "attestation",
                        encode(Kind::Attestation, a.id),
                        a.id,
                        a.title.clone(),
                        st.map_or_else(|| "unacceptable".into(), |s| s.1.status.as_str().into()),
                        st.and_then(|s| s.1.valid_until),
                        st.is_some_and(|s| {
                            s.1.status == grc_domain::certification::AttestationStatus::Valid
                        }),
                        a.document_id,
                    ));
                }
            }
            "baa" => {
                if let Some(b) = row
                    .artifact_id
                    .and_then(|id| self.baas.get(&(g.owner(), id)))
                {
                    let d = super::attestations::domain_baa(
                        b.effective_on,
                        b.ends_on,
                        b.terminated_on,
                        &b.terms,
                    );
                    let in_effect = d.in_effect(on);
                    let until = match (b.terminated_on.and_then(|t| t.pred_opt()), b.ends_on) {
                        (Some(t), Some(e)) => Some(t.min(e)),
                        (t, e) => t.or(e),
                    };
                    out.push(make(
                        ArtifactKind::Baa,
                        "baa",
                        encode(Kind::Baa, b.id),
                        b.id,
                        b.title.clone(),
                        if in_effect {
                            "in-effect"
                        } else {
                            "not-in-effect"
                        }
                        .into(),
                        until,
                        in_effect,
                        b.document_id,
                    ));
                }
            }
            "soa-summary" => {
                if let Some(i) = row
                    .artifact_id
                    .and_then(|id| self.isms.get(&(g.owner(), id)))
                {
                    let v = self.soas.get(&(g.owner(), i.id));
                    out.push(make(
                        ArtifactKind::SoaSummary,
                        "soa-summary",
                        encode(Kind::Isms, i.id),
                        i.id,
                        format!("{}: Statement of Applicability", i.name),
                        if v.is_some() {
                            "approved"
                        } else {
                            "no-approved-version"
                        }
                        .into(),
                        None,
                        v.is_some(),
                        None,
                    ));
                }
            }
            _ => {}
        }
        out
    }
}

/// "ISO/IEC 27001:2022 certificate 12345 (BSI)".
fn certificate_title(c: &certificate::Model) -> String {
    let standard = grc_domain::certification::Standard::parse(&c.standard)
        .map_or("ISO/IEC 27001", |st| st.label());
    format!(
        "{standard}:{} certificate {} ({})",
        c.edition, c.certificate_number, c.certification_body
    )
}

/// The reader's attestation policy (its own vendor policy judges attestations shared with it).
async fn reader_policy(tx: &TenantTx) -> Result<AttestationPolicy, StoreError> {
    let row = tx.vendor_policy().await?;
    Ok(Policy::of(row.as_ref()).attestation)
}

/// [`reader_policy`], read only when one of `grants` shares an attestation (nothing else is
/// judged with it).
async fn policy_for(tx: &TenantTx, grants: &[LiveGrant]) -> Result<AttestationPolicy, StoreError> {
    if grants
        .iter()
        .any(|g| g.row().artifact_kind == "attestation")
    {
        reader_policy(tx).await
    } else {
        Ok(AttestationPolicy::default())
    }
}

// ---------------------------------------------------------------------------------------------
// Grants

/// What the grants of one page share: the peers, and their artifacts loaded once for all.
#[derive(Debug)]
pub(crate) struct GrantPage {
    scope: TenantScope,
    peers: Arc<Peers>,
    rows: Vec<share_grant::Model>,
    /// When the page was read: liveness is judged at this instant for the whole page.
    now: DateTime<Utc>,
    loaded: OnceCell<Arc<(Loaded, AttestationPolicy, Vec<LiveGrant>)>>,
}

impl GrantPage {
    fn new(
        scope: TenantScope,
        peers: Arc<Peers>,
        rows: Vec<share_grant::Model>,
        now: DateTime<Utc>,
    ) -> Arc<Self> {
        Arc::new(Self {
            scope,
            peers,
            rows,
            now,
            loaded: OnceCell::new(),
        })
    }

    async fn loaded(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Arc<(Loaded, AttestationPolicy, Vec<LiveGrant>)>> {
        let l = self
            .loaded
            .get_or_try_init(|| async {
                let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
                let readable = tx.readable_grants(self.rows.clone(), self.now);
                let loaded = Loaded::load(&tx, &readable).await.map_err(store_err)?;
                let policy = policy_for(&tx, &readable).await.map_err(store_err)?;
                tx.commit().await.map_err(store_err)?;
                // Only the grants the store judged readable show artifacts.
                Ok::<_, async_graphql::Error>(Arc::new((loaded, policy, readable)))
            })
            .await?;
        Ok(l.clone())
    }
}

/// A grant of one artifact (or of all ISO certificates) by its owner to a grantee.
#[derive(Debug, Clone)]
pub struct ShareGrant {
    i: usize,
    page: Arc<GrantPage>,
}

impl ShareGrant {
    fn r(&self) -> &share_grant::Model {
        &self.page.rows[self.i]
    }
    fn all(page: &Arc<GrantPage>) -> Vec<Self> {
        (0..page.rows.len())
            .map(|i| ShareGrant {
                i,
                page: page.clone(),
            })
            .collect()
    }
}

#[Object]
impl ShareGrant {
    pub async fn id(&self) -> ID {
        encode(Kind::ShareGrant, self.r().id)
    }
    async fn owner(&self) -> PeerTenant {
        self.page.peers.get(self.r().tenant_id)
    }
    async fn grantee(&self) -> PeerTenant {
        self.page.peers.get(self.r().grantee_tenant_id)
    }
    async fn connection_id(&self) -> ID {
        encode(Kind::TenantConnection, self.r().connection_id)
    }
    async fn artifact_kind(&self) -> Result<ArtifactKind> {
        ArtifactKind::of(&self.r().artifact_kind)
    }
    /// The owner's artifact (null for all ISO certificates).
    async fn artifact_id(&self) -> Option<ID> {
        artifact_gid(&self.r().artifact_kind, self.r().artifact_id)
    }
    async fn access(&self) -> Result<ShareAccess> {
        ShareAccess::of(&self.r().access)
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.r().expires_at
    }
    /// The NDA the grantee must accept (in its current version) before the document opens.
    async fn nda(&self, ctx: &Context<'_>) -> Result<Option<Nda>> {
        let Some(n) = self.r().nda_id else {
            return Ok(None);
        };
        let tx = store(ctx)
            .tenant_tx(self.page.scope)
            .await
            .map_err(store_err)?;
        let row = tx.nda_of(self.r().tenant_id, n).await.map_err(store_err)?;
        let out = match row {
            Some(row) => Some(
                Nda::load(&tx, vec![row], self.page.peers.clone())
                    .await?
                    .remove(0),
            ),
            None => None,
        };
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }
    /// Whether the grantee accepted the NDA's current version (true without an NDA).
    async fn nda_accepted(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(n) = self.r().nda_id else {
            return Ok(true);
        };
        let l = self.page.loaded(ctx).await?;
        if let Some(ok) =
            l.0.nda_ok
                .get(&(self.r().tenant_id, n, self.r().grantee_tenant_id))
        {
            return Ok(*ok);
        }
        let tx = store(ctx)
            .tenant_tx(self.page.scope)
            .await
            .map_err(store_err)?;
        let ok = tx
            .accepted_current_nda(self.r().tenant_id, n, self.r().grantee_tenant_id)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(ok)
    }
    async fn state(&self) -> Result<GrantState> {
        GrantState::of(
            dom::grant_state(self.r().revoked_at, self.r().expires_at, self.page.now).as_str(),
        )
    }
    async fn note(&self) -> &str {
        &self.r().note
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.r().created_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.r().revoked_at
    }
    async fn revoke_reason(&self) -> Option<&str> {
        self.r().revoke_reason.as_deref()
    }
    async fn request_id(&self) -> Option<ID> {
        self.r().request_id.map(|r| encode(Kind::AccessRequest, r))
    }
    /// The artifacts the grant covers, live on `on` (default today). A grantee sees them only
    /// while the grant is live; the owner always sees its own.
    async fn artifacts(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<Vec<SharedArtifact>> {
        let l = self.page.loaded(ctx).await?;
        let (loaded, policy, readable) = &*l;
        Ok(readable
            .iter()
            .find(|g| g.row().id == self.r().id)
            .map(|g| loaded.artifacts(g, on.unwrap_or_else(today), self.page.now, policy))
            .unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------------
// NDAs

/// An NDA its owner keeps; its texts are versions that never change.
#[derive(Debug, Clone)]
pub struct Nda {
    row: nda::Model,
    versions: Arc<Vec<nda_version::Model>>,
    acceptances: Arc<Vec<nda_acceptance::Model>>,
    peers: Arc<Peers>,
}

impl Nda {
    /// One NDA with its versions and the acceptances the current tenant may see.
    async fn one(tx: &TenantTx, row: nda::Model) -> Result<Nda> {
        let peers = Peers::load(tx, [row.tenant_id]).await?;
        Ok(Nda::load(tx, vec![row], peers).await?.remove(0))
    }

    async fn load(tx: &TenantTx, rows: Vec<nda::Model>, peers: Arc<Peers>) -> Result<Vec<Nda>> {
        let keys: Vec<(Uuid, Uuid)> = rows.iter().map(|n| (n.tenant_id, n.id)).collect();
        let versions = tx.nda_versions_of(&keys).await.map_err(store_err)?;
        let acceptances = tx.nda_acceptances_of(&keys).await.map_err(store_err)?;
        let mut ids: BTreeSet<Uuid> = acceptances.iter().map(|a| a.grantee_tenant_id).collect();
        ids.extend(rows.iter().map(|n| n.tenant_id));
        let missing: Vec<Uuid> = ids
            .into_iter()
            .filter(|i| !peers.0.contains_key(i))
            .collect();
        let peers = if missing.is_empty() {
            peers
        } else {
            let more = Peers::load(tx, missing).await?;
            let mut all: HashMap<Uuid, TenantRecord> = peers.0.clone();
            all.extend(more.0.iter().map(|(k, v)| (*k, v.clone())));
            Arc::new(Peers(all))
        };
        Ok(rows
            .into_iter()
            .map(|row| {
                let v: Vec<nda_version::Model> = versions
                    .iter()
                    .filter(|v| v.tenant_id == row.tenant_id && v.nda_id == row.id)
                    .cloned()
                    .collect();
                let a: Vec<nda_acceptance::Model> = acceptances
                    .iter()
                    .filter(|a| a.tenant_id == row.tenant_id && a.nda_id == row.id)
                    .cloned()
                    .collect();
                Nda {
                    row,
                    versions: Arc::new(v),
                    acceptances: Arc::new(a),
                    peers: peers.clone(),
                }
            })
            .collect())
    }
}

/// One published text of an NDA.
#[derive(Debug, Clone, SimpleObject)]
pub struct NdaVersion {
    pub version: i32,
    pub text: String,
    /// SHA-256 of the text (UTF-8), which an acceptance records.
    pub sha256: String,
    pub published_at: DateTime<Utc>,
}

impl From<&nda_version::Model> for NdaVersion {
    fn from(v: &nda_version::Model) -> Self {
        Self {
            version: v.version,
            text: v.body.clone(),
            sha256: v.sha256.clone(),
            published_at: v.published_at,
        }
    }
}

/// A grantee's user accepting one version of an NDA.
#[derive(Debug, Clone)]
pub struct NdaAcceptance {
    row: nda_acceptance::Model,
    peers: Arc<Peers>,
}

#[Object]
impl NdaAcceptance {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    async fn nda_id(&self) -> ID {
        encode(Kind::Nda, self.row.nda_id)
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// SHA-256 of the accepted text.
    async fn sha256(&self) -> &str {
        &self.row.sha256
    }
    async fn grantee(&self) -> PeerTenant {
        self.peers.get(self.row.grantee_tenant_id)
    }
    /// Who accepted (`user:<id>` or `api_key:<id>` of the grantee).
    async fn actor(&self) -> &str {
        &self.row.actor
    }
    async fn user_id(&self) -> Option<ID> {
        self.row.user_id.map(|u| encode(Kind::User, u))
    }
    /// The address the acceptance came from.
    async fn address(&self) -> Option<&str> {
        self.row.address.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.row.user_agent.as_deref()
    }
    async fn accepted_at(&self) -> DateTime<Utc> {
        self.row.accepted_at
    }
}

#[Object]
impl Nda {
    pub async fn id(&self) -> ID {
        encode(Kind::Nda, self.row.id)
    }
    async fn owner(&self) -> PeerTenant {
        self.peers.get(self.row.tenant_id)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn current_version(&self) -> i32 {
        self.row.current_version
    }
    /// The text a grantee accepts now.
    async fn current(&self) -> Result<NdaVersion> {
        self.versions
            .iter()
            .find(|v| v.version == self.row.current_version)
            .map(NdaVersion::from)
            .ok_or_else(internal)
    }
    /// Every version, oldest first.
    async fn versions(&self) -> Vec<NdaVersion> {
        self.versions.iter().map(NdaVersion::from).collect()
    }
    /// Acceptances: all of them for the owner, the grantee's own for a grantee.
    async fn acceptances(&self) -> Vec<NdaAcceptance> {
        self.acceptances
            .iter()
            .map(|a| NdaAcceptance {
                row: a.clone(),
                peers: self.peers.clone(),
            })
            .collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

// ---------------------------------------------------------------------------------------------
// Access requests, receipts, outbox

/// A connected tenant's request for one of the owner's artifacts.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    row: access_request::Model,
    history: Arc<Vec<access_request_event::Model>>,
    title: String,
    peers: Arc<Peers>,
}

/// One step of a request's history.
#[derive(Debug, Clone, SimpleObject)]
pub struct AccessRequestEvent {
    pub seq: i32,
    pub action: RequestAction,
    /// The side that took the step.
    pub actor_tenant: PeerTenant,
    pub occurred_at: DateTime<Utc>,
    /// The step's details (access, expiry, reason, message).
    pub detail: Json<serde_json::Value>,
}

#[Object]
impl AccessRequest {
    pub async fn id(&self) -> ID {
        encode(Kind::AccessRequest, self.row.id)
    }
    async fn owner(&self) -> PeerTenant {
        self.peers.get(self.row.tenant_id)
    }
    async fn requester(&self) -> PeerTenant {
        self.peers.get(self.row.requester_tenant_id)
    }
    async fn connection_id(&self) -> ID {
        encode(Kind::TenantConnection, self.row.connection_id)
    }
    async fn listing_id(&self) -> Option<ID> {
        self.row.listing_id.map(|l| encode(Kind::ShareListing, l))
    }
    async fn artifact_kind(&self) -> Result<ArtifactKind> {
        ArtifactKind::of(&self.row.artifact_kind)
    }
    async fn artifact_id(&self) -> Option<ID> {
        artifact_gid(&self.row.artifact_kind, self.row.artifact_id)
    }
    /// The listing's title (or "All ISO certificates").
    async fn title(&self) -> &str {
        &self.title
    }
    async fn access(&self) -> Result<ShareAccess> {
        ShareAccess::of(&self.row.access)
    }
    async fn message(&self) -> &str {
        &self.row.message
    }
    async fn status(&self) -> Result<RequestStatus> {
        RequestStatus::of(&self.row.status)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.row.decided_at
    }
    /// The owner's reason for a denial.
    async fn reason(&self) -> Option<&str> {
        self.row.reason.as_deref()
    }
    /// The grant an approval made.
    async fn grant_id(&self) -> Option<ID> {
        self.row.grant_id.map(|g| encode(Kind::ShareGrant, g))
    }
    /// Every step, in order; both sides see it.
    async fn history(&self) -> Result<Vec<AccessRequestEvent>> {
        self.history
            .iter()
            .map(|e| {
                Ok(AccessRequestEvent {
                    seq: e.seq,
                    action: RequestAction::of(&e.action)?,
                    actor_tenant: self.peers.get(e.actor_tenant_id),
                    occurred_at: e.occurred_at,
                    detail: Json(serde_json::from_str(&e.detail).unwrap_or(json!({}))),
                })
            })
            .collect()
    }
}

impl AccessRequest {
    async fn load(tx: &TenantTx, rows: Vec<access_request::Model>) -> Result<Vec<AccessRequest>> {
        let keys: Vec<(Uuid, Uuid)> = rows.iter().map(|r| (r.tenant_id, r.id)).collect();
        let events = tx
            .access_request_events_of(&keys)
            .await
            .map_err(store_err)?;
        let peers = Peers::load(
            tx,
            rows.iter()
                .flat_map(|r| [r.tenant_id, r.requester_tenant_id]),
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let title = match row.listing_id {
                Some(l) => tx
                    .listing_of(row.tenant_id, l)
                    .await
                    .map_err(store_err)?
                    .map_or_else(|| "(unlisted)".to_owned(), |l| l.title),
                None => "All ISO certificates".to_owned(),
            };
            let h: Vec<access_request_event::Model> = events
                .iter()
                .filter(|e| e.tenant_id == row.tenant_id && e.request_id == row.id)
                .cloned()
                .collect();
            out.push(AccessRequest {
                row,
                history: Arc::new(h),
                title,
                peers: peers.clone(),
            });
        }
        Ok(out)
    }
}

/// A grantee's read of a shared artifact, visible to both sides.
#[derive(Debug, Clone)]
pub struct AccessReceipt {
    row: access_receipt::Model,
    peers: Arc<Peers>,
}

#[Object]
impl AccessReceipt {
    pub async fn id(&self) -> ID {
        encode(Kind::AccessReceipt, self.row.id)
    }
    async fn owner(&self) -> PeerTenant {
        self.peers.get(self.row.tenant_id)
    }
    async fn grantee(&self) -> PeerTenant {
        self.peers.get(self.row.grantee_tenant_id)
    }
    async fn grant_id(&self) -> ID {
        encode(Kind::ShareGrant, self.row.grant_id)
    }
    async fn artifact_kind(&self) -> Result<ArtifactKind> {
        ArtifactKind::of(&self.row.artifact_kind)
    }
    async fn artifact_id(&self) -> Option<ID> {
        artifact_gid(&self.row.artifact_kind, Some(self.row.artifact_id))
    }
    async fn view(&self) -> Result<ReceiptView> {
        ReceiptView::of(&self.row.view)
    }
    /// SHA-256 of the version read: the document's, or the served metadata's canonical JSON.
    async fn sha256(&self) -> &str {
        &self.row.sha256
    }
    /// The reader (`user:<id>` or `api_key:<id>` of the grantee).
    async fn actor(&self) -> &str {
        &self.row.actor
    }
    async fn user_id(&self) -> Option<ID> {
        self.row.user_id.map(|u| encode(Kind::User, u))
    }
    async fn address(&self) -> Option<&str> {
        self.row.address.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.row.occurred_at
    }
}

/// An event for the current tenant, waiting for delivery (the reminders issue delivers them).
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    row: outbox_event::Model,
    peers: Arc<Peers>,
}

#[Object]
impl OutboxEvent {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// `share.updated`, `share.status-changed`, `share.added`, `share.removed`,
    /// `share.revoked` or `share.granted`.
    async fn topic(&self) -> &str {
        &self.row.topic
    }
    /// The tenant whose change it announces.
    async fn source(&self) -> PeerTenant {
        self.peers.get(self.row.source_tenant_id)
    }
    async fn subject_type(&self) -> &str {
        &self.row.subject_type
    }
    async fn subject_id(&self) -> &str {
        &self.row.subject_id
    }
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.row.payload).unwrap_or(json!({})))
    }
    /// Unique per recipient: the same change is queued once.
    async fn dedupe_key(&self) -> &str {
        &self.row.dedupe_key
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn relayed_at(&self) -> Option<DateTime<Utc>> {
        self.row.relayed_at
    }
}

// ---------------------------------------------------------------------------------------------
// Opening an artifact: the metadata view (with its receipt)

/// A certificate audit as shared.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedCertificateAudit {
    pub kind: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub major_findings: i32,
    pub minor_findings: i32,
}

/// A certification body's decision as shared.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedCertificateDecision {
    pub kind: String,
    pub decided_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub reason: String,
}

/// A shared certificate's data, with its status computed on the day it is read.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedCertificateData {
    pub standard: String,
    pub edition: String,
    pub certificate_number: String,
    pub certification_body: String,
    pub accreditation_body: Option<String>,
    pub scope: String,
    pub sites: Vec<String>,
    pub status: String,
    pub valid_until: Option<NaiveDate>,
    pub cycle_start: Option<NaiveDate>,
    pub audits: Vec<SharedCertificateAudit>,
    pub decisions: Vec<SharedCertificateDecision>,
}

/// A shared attestation's data.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedAttestationData {
    pub kind: String,
    pub title: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub opinion: Option<String>,
    pub status: String,
    pub valid_until: Option<NaiveDate>,
}

/// A shared BAA's data.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedBaaData {
    pub title: String,
    pub effective_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    pub breach_notice_days: i32,
    pub in_effect: bool,
}

/// One control of a shared SoA summary: applicability and status, never evidence.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedSoaEntry {
    pub control_id: ID,
    pub control_ref: String,
    pub applicable: bool,
    pub status: String,
}

/// A shared SoA summary: the ISMS's latest approved version.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedSoaSummaryData {
    pub isms_name: String,
    pub version: i32,
    pub approved_at: DateTime<Utc>,
    pub entries: Vec<SharedSoaEntry>,
}

/// A shared document, when it opens.
#[derive(Debug, Clone, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct SharedDocument {
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `GET` it with the same credential; each download leaves a document receipt.
    pub url: String,
}

/// What a grantee reads of one shared artifact; reading it leaves a metadata receipt.
#[derive(Debug, Clone, SimpleObject)]
pub struct SharedArtifactView {
    pub artifact: SharedArtifact,
    /// SHA-256 of the canonical JSON of the data served (the receipt carries it).
    pub sha256: String,
    pub receipt_id: ID,
    pub certificate: Option<SharedCertificateData>,
    pub attestation: Option<SharedAttestationData>,
    pub baa: Option<SharedBaaData>,
    pub soa_summary: Option<SharedSoaSummaryData>,
    pub document: Option<SharedDocument>,
}

/// The data served of `a`, as JSON (what the digest covers) and typed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServedData {
    kind: &'static str,
    id: Uuid,
    owner: Uuid,
    title: String,
    status: String,
    valid_until: Option<NaiveDate>,
    certificate: Option<SharedCertificateData>,
    attestation: Option<SharedAttestationData>,
    baa: Option<SharedBaaData>,
    soa_summary: Option<SharedSoaSummaryData>,
    document: Option<SharedDocument>,
}

fn served(
    l: &Loaded,
    a: &SharedArtifact,
    on: NaiveDate,
    policy: &AttestationPolicy,
    docs: &HashMap<(Uuid, Uuid), grc_store::entity::evidence::evidence::Model>,
) -> ServedData {
    let key = (a.owner, a.uuid);
    let document = a
        .document
        .filter(|_| a.document_available)
        .and_then(|d| docs.get(&(a.owner, d)))
        .map(|e| SharedDocument {
            filename: e.filename.clone(),
            media_type: e.media_type.clone(),
            size_bytes: e.size_bytes,
            sha256: e.sha256.clone(),
            url: format!(
                "/shared/{}/{}/document",
                encode(Kind::ShareGrant, a.grant).0,
                a.id.0
            ),
        });
    let certificate = (a.stored_kind == "certificate")
        .then(|| {
            l.certificates
                .iter()
                .find(|c| c.tenant_id == a.owner && c.id == a.uuid)
        })
        .flatten()
        .map(|c| {
            let st = l
                .lives
                .get(&key)
                .and_then(Option::as_ref)
                .map(|x| x.status_on(on));
            SharedCertificateData {
                standard: c.standard.clone(),
                edition: c.edition.clone(),
                certificate_number: c.certificate_number.clone(),
                certification_body: c.certification_body.clone(),
                accreditation_body: c.accreditation_body.clone(),
                scope: c.scope.clone(),
                sites: serde_json::from_str(&c.sites).unwrap_or_default(),
                status: a.status.clone(),
                valid_until: st.and_then(|s| s.valid_until),
                cycle_start: st.and_then(|s| s.cycle_start),
                audits: l
                    .audits
                    .get(&key)
                    .map(|v| {
                        v.iter()
                            .map(|x| SharedCertificateAudit {
                                kind: x.kind.clone(),
                                start_date: x.start_date,
                                end_date: x.end_date,
                                major_findings: x.major_findings,
                                minor_findings: x.minor_findings,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                decisions: l
                    .decisions
                    .get(&key)
                    .map(|v| {
                        v.iter()
                            .map(|x| SharedCertificateDecision {
                                kind: x.kind.clone(),
                                decided_on: x.decided_on,
                                expires_on: x.expires_on,
                                reason: x.reason.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        });
    let attestation = (a.stored_kind == "attestation")
        .then(|| l.attestations.get(&key))
        .flatten()
        .map(|x| {
            let _ = policy;
            SharedAttestationData {
                kind: x.kind.clone(),
                title: x.title.clone(),
                issuer: x.issuer.clone(),
                issued_on: x.issued_on,
                expires_on: x.expires_on,
                period_start: x.period_start,
                period_end: x.period_end,
                opinion: x.opinion.clone(),
                status: a.status.clone(),
                valid_until: a.valid_until,
            }
        });
    let baa = (a.stored_kind == "baa")
        .then(|| l.baas.get(&key))
        .flatten()
        .map(|b| SharedBaaData {
            title: b.title.clone(),
            effective_on: b.effective_on,
            ends_on: b.ends_on,
            terminated_on: b.terminated_on,
            breach_notice_days: b.breach_notice_days,
            in_effect: a.valid,
        });
    let soa_summary = (a.stored_kind == "soa-summary")
        .then(|| l.soas.get(&key).zip(l.isms.get(&key)))
        .flatten()
        .map(|(v, i)| SharedSoaSummaryData {
            isms_name: i.name.clone(),
            version: v.number,
            approved_at: v.approved_at,
            entries: serde_json::from_str::<Vec<grc_domain::isms::SoaEntry>>(&v.entries)
                .unwrap_or_default()
                .into_iter()
                .map(|e| SharedSoaEntry {
                    control_id: encode(Kind::Control, e.control_id),
                    control_ref: e.control_ref,
                    applicable: e.applicable,
                    status: e.status.as_str().to_owned(),
                })
                .collect(),
        });
    ServedData {
        kind: a.stored_kind,
        id: a.uuid,
        owner: a.owner,
        title: a.title.clone(),
        status: a.status.clone(),
        valid_until: a.valid_until,
        certificate,
        attestation,
        baa,
        soa_summary,
        document,
    }
}

/// Where a grantee's read came from.
fn reader(az: &Authorized) -> Option<Uuid> {
    match &az.actor {
        Actor::User(u) => Some(*u),
        _ => None,
    }
}

/// Records a receipt of the current tenant's read of `a` through `grant` (the owner's row), and
/// the read in both tenants' audit chains (the owner's first: every transaction that writes two
/// chains takes their locks in one order). Returns the receipt's id.
async fn record_receipt(
    tx: &mut TenantTx,
    az: &Authorized,
    grant: &LiveGrant,
    a: &SharedArtifact,
    view: ReceiptView,
    sha256: &str,
    address: Option<String>,
) -> Result<Uuid, StoreError> {
    tx.lock_chains(&[grant.owner()]).await?;
    let row = tx
        .insert_access_receipt(
            grant,
            access_receipt::Model {
                tenant_id: grant.owner(),
                id: Uuid::now_v7(),
                grantee_tenant_id: az.scope.tenant_id().0,
                grant_id: grant.row().id,
                artifact_kind: a.stored_kind.to_owned(),
                artifact_id: a.uuid,
                view: view.as_str().to_owned(),
                sha256: sha256.to_owned(),
                actor: az.actor.to_stored(),
                user_id: reader(az),
                address,
                occurred_at: grc_domain::audit::truncate_to_micros(Utc::now()),
            },
        )
        .await?;
    let action = match view {
        ReceiptView::Metadata => "share.viewed",
        ReceiptView::Document => "share.downloaded",
    };
    let change = json!({
        "receipt": row.id, "grant": grant.row().id, "owner": grant.owner(),
        "grantee": az.scope.tenant_id().0, "artifactKind": a.stored_kind,
        "artifact": a.uuid, "sha256": sha256,
    });
    tx.notify_peer(
        grant.owner(),
        AuditEntry {
            actor: Actor::System(format!("tenant:{}", az.scope.tenant_id())),
            action: action.to_owned(),
            subject_type: "AccessReceipt".into(),
            subject_id: row.id.to_string(),
            change: json!({ "reader": az.actor.to_stored(), "receipt": change }),
        },
    )
    .await?;
    tx.append_audit(AuditEntry {
        actor: az.actor.clone(),
        action: action.to_owned(),
        subject_type: "AccessReceipt".into(),
        subject_id: row.id.to_string(),
        change,
    })
    .await?;
    Ok(row.id)
}

/// Publishes committed events to live subscribers (and drops stale cached credentials).
async fn announce_events(ctx: &Context<'_>, events: Vec<AuditRecord>) {
    if let Some(cache) = ctx.data_opt::<Arc<crate::auth::AuthCache>>() {
        for e in &events {
            cache.on_event(e);
        }
    }
    if let Some(bus) = ctx.data_opt::<crate::events::EventBus>() {
        for e in events {
            bus.publish(e).await;
        }
    }
}

/// The artifact `artifact` of `grant` as the current tenant may read it now, with what it is
/// computed from; `None` when the grant is not live or does not cover it.
async fn open_artifact(
    tx: &TenantTx,
    grant_id: Uuid,
    artifact: Option<&ID>,
    on: NaiveDate,
) -> Result<Option<(LiveGrant, Loaded, AttestationPolicy, SharedArtifact)>, StoreError> {
    let Some(grant) = tx.live_grant_to_me(grant_id, Utc::now()).await? else {
        return Ok(None);
    };
    let loaded = Loaded::load(tx, std::slice::from_ref(&grant)).await?;
    let policy = policy_for(tx, std::slice::from_ref(&grant)).await?;
    let artifacts = loaded.artifacts(&grant, on, Utc::now(), &policy);
    let chosen = match artifact {
        Some(id) => artifacts.into_iter().find(|a| a.id == *id),
        None if grant.row().artifact_kind != "all-iso-certificates" => artifacts.into_iter().next(),
        None => None,
    };
    Ok(chosen.map(|a| (grant, loaded, policy, a)))
}

// ---------------------------------------------------------------------------------------------
// Queries

async fn connection_objects(
    tx: &TenantTx,
    scope: TenantScope,
    rows: Vec<connection::Model>,
) -> Result<Vec<TenantConnection>> {
    let peers = Peers::load(
        tx,
        rows.iter()
            .flat_map(|c| [c.tenant_id, c.provider_tenant_id]),
    )
    .await?;
    let me = scope.tenant_id().0;
    Ok(rows
        .into_iter()
        .map(|row| TenantConnection {
            row,
            me,
            peers: peers.clone(),
            scope,
        })
        .collect())
}

async fn grant_page(
    tx: &TenantTx,
    scope: TenantScope,
    rows: Vec<share_grant::Model>,
    now: DateTime<Utc>,
) -> Result<Arc<GrantPage>> {
    let peers = Peers::load(
        tx,
        rows.iter().flat_map(|g| [g.tenant_id, g.grantee_tenant_id]),
    )
    .await?;
    Ok(GrantPage::new(scope, peers, rows, now))
}

#[derive(Debug, Default)]
pub struct SharingQuery;

#[Object]
impl SharingQuery {
    /// The connections the current tenant is a side of, newest invitation first.
    async fn connections(
        &self,
        ctx: &Context<'_>,
        status: Option<ConnectionStatus>,
        side: Option<ConnectionSide>,
    ) -> Result<Vec<TenantConnection>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let me = az.scope.tenant_id().0;
        let rows: Vec<connection::Model> = tx
            .connections_for_me(status.map(ConnectionStatus::as_str))
            .await
            .map_err(store_err)?
            .into_iter()
            .filter(|c| match side {
                Some(ConnectionSide::Customer) => c.tenant_id == me,
                Some(ConnectionSide::Provider) => c.provider_tenant_id == me,
                None => true,
            })
            .collect();
        let out = connection_objects(&tx, az.scope, rows).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }

    /// The current tenant's listings of shareable artifacts.
    async fn share_listings(&self, ctx: &Context<'_>) -> Result<Vec<ShareListing>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let rows = tx.my_listings().await.map_err(store_err)?;
        let peers = Peers::load(&tx, [az.scope.tenant_id().0]).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(rows
            .into_iter()
            .map(|row| ShareListing {
                row,
                peers: peers.clone(),
            })
            .collect())
    }

    /// A connected tenant's listed artifacts (titles only), to ask for one.
    async fn shareable_artifacts(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
    ) -> Result<Vec<ShareListing>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let nf = || gql_error(ErrorCode::NotFound, "no such connection");
        let id = decode_kind(&connection_id, Kind::TenantConnection).ok_or_else(nf)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let c = tx
            .connection_for_me(id)
            .await
            .map_err(store_err)?
            .ok_or_else(nf)?;
        if c.status != "active" {
            return Err(gql_error(
                ErrorCode::Conflict,
                "the connection is not active",
            ));
        }
        let me = az.scope.tenant_id().0;
        let peer = if c.tenant_id == me {
            c.provider_tenant_id
        } else {
            c.tenant_id
        };
        let rows = tx.peer_listings(peer).await.map_err(store_err)?;
        let peers = Peers::load(&tx, [peer]).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(rows
            .into_iter()
            .map(|row| ShareListing {
                row,
                peers: peers.clone(),
            })
            .collect())
    }

    /// Grants to the current tenant (live ones unless `includeInactive`), oldest first, each
    /// with its artifacts' live status.
    #[allow(clippy::too_many_arguments)]
    async fn shared_with_me(
        &self,
        ctx: &Context<'_>,
        owner_tenant_id: Option<ID>,
        kind: Option<ArtifactKind>,
        #[graphql(default = false)] include_inactive: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ShareGrant, ConnectionFields>> {
        grants(
            ctx,
            true,
            owner_tenant_id,
            kind,
            include_inactive,
            first,
            after,
            last,
            before,
        )
        .await
    }

    /// Grants by the current tenant (live ones unless `includeInactive`), oldest first.
    #[allow(clippy::too_many_arguments)]
    async fn shared_by_me(
        &self,
        ctx: &Context<'_>,
        grantee_tenant_id: Option<ID>,
        kind: Option<ArtifactKind>,
        #[graphql(default = false)] include_inactive: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, ShareGrant, ConnectionFields>> {
        grants(
            ctx,
            false,
            grantee_tenant_id,
            kind,
            include_inactive,
            first,
            after,
            last,
            before,
        )
        .await
    }

    /// Opens an artifact shared with the current tenant: its data as of now (status on `on`,
    /// default today), and its document's link when the document opens. Leaves a metadata
    /// receipt on both sides. `artifactId` picks a certificate under an "all ISO
    /// certificates" grant. Null when the grant is not live or does not cover the artifact.
    async fn shared_artifact(
        &self,
        ctx: &Context<'_>,
        grant_id: ID,
        artifact_id: Option<ID>,
        on: Option<NaiveDate>,
    ) -> Result<Option<SharedArtifactView>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let Some(gid) = decode_kind(&grant_id, Kind::ShareGrant) else {
            return Ok(None);
        };
        let on = on.unwrap_or_else(today);
        let mut tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let Some((grant, loaded, policy, artifact)) =
            open_artifact(&tx, gid, artifact_id.as_ref(), on)
                .await
                .map_err(store_err)?
        else {
            return Ok(None);
        };
        let docs = match artifact.document.filter(|_| artifact.document_available) {
            Some(d) => tx
                .shared_documents(&[(artifact.owner, d)])
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|e| ((e.tenant_id, e.id), e))
                .collect(),
            None => HashMap::new(),
        };
        let data = served(&loaded, &artifact, on, &policy, &docs);
        let value = serde_json::to_value(&data).map_err(|_| internal())?;
        let sha256 = dom::metadata_digest(&value);
        let address = ctx.data_opt::<ClientInfo>().map(|c| c.address.clone());
        let receipt = record_receipt(
            &mut tx,
            &az,
            &grant,
            &artifact,
            ReceiptView::Metadata,
            &sha256,
            address,
        )
        .await
        .map_err(store_err)?;
        let events = tx.commit().await.map_err(store_err)?;
        announce_events(ctx, events).await;
        Ok(Some(SharedArtifactView {
            artifact,
            sha256,
            receipt_id: encode(Kind::AccessReceipt, receipt),
            certificate: data.certificate,
            attestation: data.attestation,
            baa: data.baa,
            soa_summary: data.soa_summary,
            document: data.document,
        }))
    }

    /// Access requests for the current tenant's artifacts (`INCOMING`) or by it (`OUTGOING`).
    #[allow(clippy::too_many_arguments)]
    async fn access_requests(
        &self,
        ctx: &Context<'_>,
        direction: ShareDirection,
        status: Option<RequestStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AccessRequest, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let page = tx
            .access_requests_page(
                direction == ShareDirection::Incoming,
                status.map(|x| x.as_str().to_owned()),
                &req,
            )
            .await
            .map_err(store_err)?;
        let has_next = page.has_next_page;
        let has_prev = page.has_previous_page;
        let items = AccessRequest::load(&tx, page.items).await?;
        tx.commit().await.map_err(store_err)?;
        let page = grc_store::Page {
            items,
            has_next_page: has_next,
            has_previous_page: has_prev,
        };
        let n = page.items.len() as u64;
        Ok(build(page, n, |r| r.row.id.to_string()))
    }

    /// The current tenant's NDAs.
    async fn ndas(&self, ctx: &Context<'_>) -> Result<Vec<Nda>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let rows = tx.my_ndas().await.map_err(store_err)?;
        let peers = Peers::load(&tx, [az.scope.tenant_id().0]).await?;
        let out = Nda::load(&tx, rows, peers).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }

    /// Receipts of reads of the current tenant's artifacts (`INCOMING`) or by it
    /// (`OUTGOING`), oldest first (`last` for the newest).
    #[allow(clippy::too_many_arguments)]
    async fn access_receipts(
        &self,
        ctx: &Context<'_>,
        direction: ShareDirection,
        grant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AccessReceipt, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let grant = super::vendors::filter_id(grant_id.as_ref(), Kind::ShareGrant, "grantId")?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let page = tx
            .access_receipts_page(direction == ShareDirection::Incoming, grant, &req)
            .await
            .map_err(store_err)?;
        let peers = Peers::load(
            &tx,
            page.items
                .iter()
                .flat_map(|r| [r.tenant_id, r.grantee_tenant_id]),
        )
        .await?;
        tx.commit().await.map_err(store_err)?;
        let n = page.items.len() as u64;
        Ok(build(
            page.map(|row| AccessReceipt {
                row,
                peers: peers.clone(),
            }),
            n,
            |r| r.row.id.to_string(),
        ))
    }

    /// Events queued for the current tenant (changes to artifacts shared with it), oldest
    /// first; the reminders issue delivers them.
    async fn outbox_events(
        &self,
        ctx: &Context<'_>,
        topic: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, OutboxEvent, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let page = tx
            .outbox_page_of(true, topic, &req)
            .await
            .map_err(store_err)?;
        let peers = Peers::load(&tx, page.items.iter().map(|e| e.source_tenant_id)).await?;
        tx.commit().await.map_err(store_err)?;
        let n = page.items.len() as u64;
        Ok(build(
            page.map(|row| OutboxEvent {
                row,
                peers: peers.clone(),
            }),
            n,
            |e| e.row.id.to_string(),
        ))
    }
}

#[allow(clippy::too_many_arguments)]
async fn grants(
    ctx: &Context<'_>,
    to_me: bool,
    peer: Option<ID>,
    kind: Option<ArtifactKind>,
    include_inactive: bool,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Connection<String, ShareGrant, ConnectionFields>> {
    let az = authorize(ctx, Operation::ReadSharing)?;
    let peer = super::vendors::filter_id(
        peer.as_ref(),
        Kind::Tenant,
        if to_me {
            "ownerTenantId"
        } else {
            "granteeTenantId"
        },
    )?;
    let req = page_args(first, after, last, before)?;
    let now = Utc::now();
    let filter = GrantFilter {
        peer,
        kind: kind.map(|k| k.as_str().to_owned()),
        live_at: (!include_inactive).then_some(now),
    };
    let total_wanted = wants_total(ctx);
    let look = ctx.look_ahead();
    let with_artifacts = look
        .field("edges")
        .field("node")
        .field("artifacts")
        .exists()
        || look.field("nodes").field("artifacts").exists();
    // What the grantee sees shared with it: from memory while nothing it depends on moved.
    // Only first and last pages (no cursor): any cursor would make a key of its own.
    let cached = if to_me && after_or_before_absent(&req) {
        let cache = ctx
            .data_opt::<Arc<SharedPageCache>>()
            .ok_or_else(|| gql_error(ErrorCode::Internal, "no sharing cache"))?;
        let versions = store(ctx)
            .share_versions(az.scope)
            .await
            .map_err(store_err)?;
        let key = (
            az.scope.tenant_id().0,
            format!(
                "{:?}|{:?}|{include_inactive}|{req:?}|{total_wanted}|{with_artifacts}",
                filter.peer, filter.kind
            ),
        );
        if let Some(hit) = cache.pages.get(&key).await
            && hit.versions == versions
            && now < hit.fresh_until
        {
            return Ok(hit.connection());
        }
        Some((cache, key, versions))
    } else {
        None
    };
    let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
    let (page, total) = tx
        .grants_page(to_me, &filter, &req, total_wanted)
        .await
        .map_err(store_err)?;
    let gp = grant_page(&tx, az.scope, page.items, now).await?;
    // The artifacts, when asked for, in the same transaction (one snapshot, fewer round trips).
    if with_artifacts {
        let readable = tx.readable_grants(gp.rows.clone(), gp.now);
        let loaded = Loaded::load(&tx, &readable).await.map_err(store_err)?;
        let policy = policy_for(&tx, &readable).await.map_err(store_err)?;
        let _ = gp.loaded.set(Arc::new((loaded, policy, readable)));
    }
    let next_expiry = match cached {
        Some(_) => tx.next_grant_expiry_to_me(now).await.map_err(store_err)?,
        None => None,
    };
    tx.commit().await.map_err(store_err)?;
    let page = CachedGrants {
        versions: (0, 0),
        fresh_until: now,
        page: gp,
        total,
        has_next: page.has_next_page,
        has_prev: page.has_previous_page,
    };
    if let Some((cache, key, versions)) = cached {
        // Statuses are dates (UTC): the page holds until the next midnight, or until the next
        // grant to the tenant expires, whichever comes first.
        let midnight = (now.date_naive() + chrono::Days::new(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let page = Arc::new(CachedGrants {
            versions,
            fresh_until: next_expiry.map_or(midnight, |e| e.min(midnight)),
            ..page
        });
        cache.pages.insert(key, page.clone()).await;
        return Ok(page.connection());
    }
    Ok(page.connection())
}

fn after_or_before_absent(req: &grc_store::PageRequest<Uuid>) -> bool {
    matches!(
        req,
        grc_store::PageRequest::Forward { after: None, .. }
            | grc_store::PageRequest::Backward { before: None, .. }
    )
}

/// The grantee's `sharedWithMe` pages kept in memory, per tenant and arguments. A page is
/// current while the tenant's audit sequence and newest outbox event have not moved (the
/// owners' grants, revocations and connection changes write into the grantee's chain, and
/// changes to shared artifacts queue an outbox event for each grantee, both in the owner's
/// transaction) and until the next UTC midnight or grant expiry. One round trip checks it.
/// Tenant names come with the page: a rename (outside any chain) shows within the minute.
#[derive(Debug)]
pub struct SharedPageCache {
    pages: moka::future::Cache<(Uuid, String), Arc<CachedGrants>>,
}

impl Default for SharedPageCache {
    fn default() -> Self {
        Self {
            // Weighed in rows held (grants and loaded artifact rows): about 100,000 rows in all.
            pages: moka::future::Cache::builder()
                .max_capacity(100_000)
                .weigher(|_, v: &Arc<CachedGrants>| v.weight())
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
        }
    }
}

/// One computed page of grants with what it was computed at.
#[derive(Debug)]
struct CachedGrants {
    versions: (i64, i64),
    fresh_until: DateTime<Utc>,
    page: Arc<GrantPage>,
    total: u64,
    has_next: bool,
    has_prev: bool,
}

impl CachedGrants {
    fn weight(&self) -> u32 {
        let loaded = self.page.loaded.get().map_or(0, |l| l.0.rows());
        u32::try_from(1 + self.page.rows.len() + loaded).unwrap_or(u32::MAX)
    }

    fn connection(&self) -> Connection<String, ShareGrant, ConnectionFields> {
        let page = grc_store::Page {
            items: ShareGrant::all(&self.page),
            has_next_page: self.has_next,
            has_previous_page: self.has_prev,
        };
        build(page, self.total, |g| g.r().id.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, InputObject)]
pub struct InviteConnectionInput {
    /// The vendor record to link.
    pub vendor_id: ID,
    /// The vendor's tenant on grc.
    pub provider_slug: String,
    pub message: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct AnswerConnectionInput {
    pub connection_id: ID,
    pub accept: bool,
    pub reason: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct EndConnectionInput {
    pub connection_id: ID,
    pub reason: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct ConnectionPayload {
    pub connection: Option<TenantConnection>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct ListArtifactInput {
    pub kind: ArtifactKind,
    /// The artifact (omitted for ALL_ISO_CERTIFICATES).
    pub artifact_id: Option<ID>,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct ShareListingPayload {
    pub listing: Option<ShareListing>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct UnlistArtifactInput {
    pub listing_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct UnlistArtifactPayload {
    pub listing_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct GrantShareInput {
    pub grantee_tenant_id: ID,
    pub kind: ArtifactKind,
    /// The artifact (omitted for ALL_ISO_CERTIFICATES).
    pub artifact_id: Option<ID>,
    pub access: ShareAccess,
    pub expires_at: Option<DateTime<Utc>>,
    /// An NDA of the current tenant the grantee must accept before the document opens.
    pub nda_id: Option<ID>,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct RevokeShareInput {
    pub grant_id: ID,
    pub reason: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct ShareGrantPayload {
    pub grant: Option<ShareGrant>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RequestAccessInput {
    pub connection_id: ID,
    /// One of the peer's listings (see `shareableArtifacts`), or omit it and ask for
    /// `kind: ALL_ISO_CERTIFICATES`.
    pub listing_id: Option<ID>,
    pub kind: Option<ArtifactKind>,
    pub access: ShareAccess,
    pub message: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ApproveAccessRequestInput {
    pub request_id: ID,
    /// Default: the access asked for.
    pub access: Option<ShareAccess>,
    pub expires_at: Option<DateTime<Utc>>,
    pub nda_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct DenyAccessRequestInput {
    pub request_id: ID,
    pub reason: String,
}

#[derive(Debug, InputObject)]
pub struct WithdrawAccessRequestInput {
    pub request_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct AccessRequestPayload {
    pub request: Option<AccessRequest>,
    /// The grant an approval made.
    pub grant: Option<ShareGrant>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct CreateNdaInput {
    pub title: String,
    /// The first version's text.
    pub text: String,
}

#[derive(Debug, InputObject)]
pub struct PublishNdaVersionInput {
    pub nda_id: ID,
    pub text: String,
}

#[derive(Debug, SimpleObject)]
pub struct NdaPayload {
    pub nda: Option<Nda>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AcceptNdaInput {
    pub nda_id: ID,
    /// The version read; only the current one can be accepted.
    pub version: i32,
}

#[derive(Debug, SimpleObject)]
pub struct NdaAcceptancePayload {
    pub acceptance: Option<NdaAcceptance>,
    pub user_errors: Vec<UserError>,
}

const NOTE: usize = 2000;

/// A state change that lost a race with another one (the row is no longer in the state it
/// was read in): a conflict on `field`, nothing changed.
fn race(field: &'static str) -> impl Fn(StoreError) -> MutationError {
    move |e| match e {
        StoreError::Conflict(m) => conflict(field, m),
        other => other.into(),
    }
}

fn stamp() -> DateTime<Utc> {
    grc_domain::audit::truncate_to_micros(Utc::now())
}

/// The peer's actor in its own chain: which tenant acted, and who there.
fn peer_actor(az: &Authorized) -> Actor {
    Actor::System(format!(
        "tenant:{}/{}",
        az.scope.tenant_id(),
        az.actor.to_stored()
    ))
}

/// Tells `peer` of a change: an outbox event (when given) and an audit event in its chain.
#[allow(clippy::too_many_arguments)]
async fn tell_peer(
    tx: &mut TenantTx,
    az: &Authorized,
    peer: Uuid,
    action: &str,
    subject: &str,
    id: Uuid,
    change: serde_json::Value,
    event: Option<PeerEvent>,
) -> Result<(), MutationError> {
    if let Some(e) = event {
        tx.queue_peer_event(peer, e).await?;
    }
    tx.notify_peer(
        peer,
        AuditEntry {
            actor: peer_actor(az),
            action: action.to_owned(),
            subject_type: subject.to_owned(),
            subject_id: id.to_string(),
            change,
        },
    )
    .await?;
    Ok(())
}

/// Tells each grantee holding a live grant under `nda` that a new version is current: until it
/// accepts that version, the documents behind those grants stay closed.
async fn tell_nda_grantees(
    tx: &mut TenantTx,
    az: &Authorized,
    nda: &nda::Model,
    version: i32,
    grants: Vec<share_grant::Model>,
) -> Result<(), MutationError> {
    let mut by_grantee: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for g in grants {
        match by_grantee.last_mut() {
            Some((t, ids)) if *t == g.grantee_tenant_id => ids.push(g.id),
            _ => by_grantee.push((g.grantee_tenant_id, vec![g.id])),
        }
    }
    for (grantee, grant_ids) in by_grantee {
        let payload = json!({
            "ndaId": nda.id, "ownerTenantId": nda.tenant_id, "title": nda.title,
            "version": version, "grantIds": grant_ids,
        });
        let event = PeerEvent {
            topic: "share.nda_updated".into(),
            subject_type: "Nda".into(),
            subject_id: nda.id.to_string(),
            payload: payload.clone(),
            dedupe_key: format!("{}:{}:{}", nda.id, version, grantee),
        };
        tell_peer(
            tx,
            az,
            grantee,
            "share.nda_updated",
            "Nda",
            nda.id,
            payload,
            Some(event),
        )
        .await?;
    }
    Ok(())
}

/// The outbox event and audit change that tell a grantee about `grant`.
fn grant_event(
    g: &share_grant::Model,
    change: dom::ShareChange,
    status: Option<&str>,
    title: &str,
) -> (PeerEvent, serde_json::Value) {
    let payload = json!({
        "grantId": g.id, "ownerTenantId": g.tenant_id, "artifactKind": g.artifact_kind,
        "artifactId": g.artifact_id, "change": change.as_str(), "status": status,
        "title": title,
    });
    (
        PeerEvent {
            topic: format!("share.{}", change.as_str()),
            subject_type: "ShareGrant".into(),
            subject_id: g.id.to_string(),
            payload: payload.clone(),
            dedupe_key: format!("{}:{}", g.id, change.as_str()),
        },
        payload,
    )
}

async fn grant_object(
    tx: &TenantTx,
    scope: TenantScope,
    row: share_grant::Model,
) -> Result<ShareGrant, MutationError> {
    let gp = grant_page(tx, scope, vec![row], Utc::now()).await?;
    Ok(ShareGrant { i: 0, page: gp })
}

async fn connection_object(
    tx: &TenantTx,
    scope: TenantScope,
    row: connection::Model,
) -> Result<TenantConnection, MutationError> {
    Ok(connection_objects(tx, scope, vec![row]).await?.remove(0))
}

/// Checks that the current tenant owns the artifact, and names it. Another tenant's artifact
/// that a grant to the current tenant covers is a reshare: refused as such.
async fn own_artifact(
    tx: &TenantTx,
    kind: ArtifactKind,
    id: Option<&ID>,
) -> Result<(Option<Uuid>, String), MutationError> {
    if kind == ArtifactKind::AllIsoCertificates {
        if id.is_some() {
            return Err(invalid(
                "artifactId",
                "all ISO certificates names no single artifact",
            ));
        }
        return Ok((None, "All ISO certificates".into()));
    }
    let id = id.ok_or_else(|| invalid("artifactId", "name the artifact to share"))?;
    let uuid = artifact_uuid(kind, id).ok_or_else(|| not_found("artifact", "artifactId"))?;
    let title = match kind {
        ArtifactKind::Certificate => tx.certificate(uuid).await?.map(|c| certificate_title(&c)),
        ArtifactKind::Attestation => tx.attestation(uuid).await?.map(|a| a.title),
        ArtifactKind::Baa => tx.baa(uuid).await?.map(|b| b.title),
        ArtifactKind::SoaSummary => tx
            .isms(uuid)
            .await?
            .map(|i| format!("{}: Statement of Applicability", i.name)),
        ArtifactKind::AllIsoCertificates => None,
    };
    match title {
        Some(t) => Ok((Some(uuid), t)),
        None => {
            // Visible only through a grant to the current tenant: a grantee passing it on.
            let received = tx.received_artifact(kind.item_kind_str(), uuid).await?;
            if received {
                Err(conflict(
                    "artifactId",
                    "the artifact was shared with this tenant: a grantee cannot pass a share on",
                ))
            } else {
                Err(not_found("artifact", "artifactId"))
            }
        }
    }
}

/// The current tenant's NDA named by `id`.
async fn own_nda(tx: &TenantTx, id: &ID) -> Result<nda::Model, MutationError> {
    let uuid = decode_kind(id, Kind::Nda).ok_or_else(|| not_found("NDA", "ndaId"))?;
    tx.nda(uuid).await?.ok_or_else(|| not_found("NDA", "ndaId"))
}

/// Makes a grant (after every check) and tells the grantee.
#[allow(clippy::too_many_arguments)]
async fn make_grant(
    tx: &mut TenantTx,
    az: &Authorized,
    grantee: Uuid,
    kind: ArtifactKind,
    artifact_id: Option<&ID>,
    access: ShareAccess,
    expires_at: Option<DateTime<Utc>>,
    nda_id: Option<&ID>,
    note: String,
    request: Option<Uuid>,
) -> Result<share_grant::Model, MutationError> {
    let me = az.scope.tenant_id().0;
    let now = stamp();
    dom::check_new_grant(
        me,
        grantee,
        dom::ArtifactKind::parse(kind.as_str()).unwrap_or(dom::ArtifactKind::Certificate),
        dom::ShareAccess::parse(access.as_str()).unwrap_or(dom::ShareAccess::Metadata),
        expires_at,
        nda_id.is_some(),
        now,
    )?;
    let conn = tx
        .lock_active_connection_with(grantee)
        .await?
        .ok_or_else(|| {
            conflict(
                "granteeTenantId",
                "share only with a tenant connected to this one (an active connection)",
            )
        })?;
    let (artifact, title) = own_artifact(tx, kind, artifact_id).await?;
    let nda = match nda_id {
        Some(n) => Some(own_nda(tx, n).await?.id),
        None => None,
    };
    tx.lock_chains(&[grantee]).await?;
    if let Some(mut old) = tx.open_grant(grantee, kind.as_str(), artifact).await? {
        if dom::grant_state(None, old.expires_at, now) == dom::GrantState::Live {
            return Err(conflict(
                "artifactId",
                "the artifact is already shared with this tenant: revoke that grant first",
            ));
        }
        // An expired grant of the same artifact is replaced.
        old.revoked_at = old.expires_at.or(Some(now));
        old.revoked_by = Some(az.actor.to_stored());
        old.revoke_reason = Some("replaced by a new grant after its expiry".into());
        tx.update_share_grant(old).await?;
    }
    let row = tx
        .insert_share_grant(share_grant::Model {
            tenant_id: me,
            id: Uuid::now_v7(),
            grantee_tenant_id: grantee,
            connection_tenant_id: conn.tenant_id,
            connection_id: conn.id,
            artifact_kind: kind.as_str().to_owned(),
            artifact_id: artifact,
            access: access.as_str().to_owned(),
            expires_at,
            nda_id: nda,
            request_id: request,
            note,
            created_by: az.actor.to_stored(),
            created_at: now,
            revoked_by: None,
            revoked_at: None,
            revoke_reason: None,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => conflict(
                "artifactId",
                "the artifact is already shared with this tenant",
            ),
            other => other.into(),
        })?;
    let (event, change) = grant_event(&row, dom::ShareChange::Granted, None, &title);
    tell_peer(
        tx,
        az,
        grantee,
        "share.granted",
        "ShareGrant",
        row.id,
        change.clone(),
        Some(event),
    )
    .await?;
    super::common::record(tx, az, "share.grant", "ShareGrant", row.id, change).await?;
    Ok(row)
}

/// Revokes an unrevoked grant and tells the other side.
async fn revoke_grant(
    tx: &mut TenantTx,
    az: &Authorized,
    mut g: share_grant::Model,
    reason: Option<String>,
) -> Result<share_grant::Model, MutationError> {
    let me = az.scope.tenant_id().0;
    let peer = if g.tenant_id == me {
        g.grantee_tenant_id
    } else {
        g.tenant_id
    };
    g.revoked_at = Some(stamp());
    g.revoked_by = Some(az.actor.to_stored());
    g.revoke_reason = reason;
    let g = tx.update_share_grant(g).await?;
    let (event, change) = grant_event(&g, dom::ShareChange::Revoked, None, "");
    // Only the grantee needs an outbox event (the owner revoked, or ended the connection).
    let event = (peer == g.grantee_tenant_id).then_some(event);
    tell_peer(
        tx,
        az,
        peer,
        "share.revoked",
        "ShareGrant",
        g.id,
        change.clone(),
        event,
    )
    .await?;
    super::common::record(tx, az, "share.revoke", "ShareGrant", g.id, change).await?;
    Ok(g)
}

#[derive(Debug, Default)]
pub struct SharingMutation;

#[Object]
impl SharingMutation {
    /// Invites a tenant to link with one of the current tenant's vendor records; its owner
    /// accepts or declines.
    async fn invite_connection(
        &self,
        ctx: &Context<'_>,
        input: InviteConnectionInput,
    ) -> Result<ConnectionPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (connection, user_errors) = settle(
            async {
                let message = free_text("message", input.message.as_deref(), NOTE)?;
                let vendor = decode_kind(&input.vendor_id, Kind::Vendor).ok_or_else(|| not_found("vendor", "vendorId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let v = tx.vendor(vendor).await?.ok_or_else(|| not_found("vendor", "vendorId"))?;
                let provider = tx
                    .tenant_by_slug(input.provider_slug.trim())
                    .await?
                    .ok_or_else(|| not_found("tenant", "providerSlug"))?;
                let me = az.scope.tenant_id().0;
                if provider.id.0 == me {
                    return Err(invalid("providerSlug", "a tenant cannot be its own vendor"));
                }
                let row = tx
                    .insert_connection(connection::Model {
                        tenant_id: me,
                        id: Uuid::now_v7(),
                        vendor_id: v.id,
                        provider_tenant_id: provider.id.0,
                        status: "invited".into(),
                        message,
                        invited_by: az.actor.to_stored(),
                        invited_at: stamp(),
                        responded_by: None,
                        responded_at: None,
                        response_reason: None,
                        ended_by_tenant: None,
                        ended_by: None,
                        ended_at: None,
                        end_reason: None,
                    })
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => conflict("vendorId", "the vendor record or the tenant already has an open connection"),
                        other => other.into(),
                    })?;
                let change = json!({"vendor": v.id, "provider": provider.id.0, "customer": me, "status": "invited"});
                tx.lock_chains(&[provider.id.0]).await?;
                tell_peer(&mut tx, &az, provider.id.0, "connection.invited", "TenantConnection", row.id, change.clone(), None).await?;
                super::common::record(&mut tx, &az, "connection.invite", "TenantConnection", row.id, change).await?;
                let out = connection_object(&tx, az.scope, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ConnectionPayload {
            connection,
            user_errors,
        })
    }

    /// Accepts or declines an invitation (the provider's owner).
    async fn answer_connection(
        &self,
        ctx: &Context<'_>,
        input: AnswerConnectionInput,
    ) -> Result<ConnectionPayload> {
        let az = authorize(ctx, Operation::AnswerConnections)?;
        let (connection, user_errors) = settle(
            async {
                let reason = super::common::optional_text("reason", input.reason.as_deref(), NOTE)?;
                let id = decode_kind(&input.connection_id, Kind::TenantConnection).ok_or_else(|| not_found("connection", "connectionId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                let mut c = tx
                    .connection_for_me(id)
                    .await?
                    .filter(|c| c.provider_tenant_id == me)
                    .ok_or_else(|| not_found("connection", "connectionId"))?;
                if c.status != "invited" {
                    return Err(conflict("connectionId", format!("the connection is {}: only an invitation can be answered", c.status)));
                }
                c.status = if input.accept { "active" } else { "declined" }.into();
                c.responded_by = Some(az.actor.to_stored());
                c.responded_at = Some(stamp());
                c.response_reason = reason;
                let customer = c.tenant_id;
                tx.lock_chains(&[customer]).await?;
                let c = tx
                    .transition_connection(c, "invited")
                    .await
                    .map_err(race("connectionId"))?;
                let change = json!({"status": c.status, "reason": c.response_reason, "customer": customer, "provider": me});
                tell_peer(&mut tx, &az, customer, "connection.answered", "TenantConnection", c.id, change.clone(), None).await?;
                super::common::record(&mut tx, &az, "connection.answer", "TenantConnection", c.id, change).await?;
                let out = connection_object(&tx, az.scope, c).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ConnectionPayload {
            connection,
            user_errors,
        })
    }

    /// Ends a connection from either side (the customer's unanswered invitation is cancelled);
    /// every grant between the two tenants is revoked with it, both ways.
    async fn end_connection(
        &self,
        ctx: &Context<'_>,
        input: EndConnectionInput,
    ) -> Result<ConnectionPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (connection, user_errors) = settle(
            async {
                let reason = super::common::optional_text("reason", input.reason.as_deref(), NOTE)?;
                let id = decode_kind(&input.connection_id, Kind::TenantConnection)
                    .ok_or_else(|| not_found("connection", "connectionId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                let mut c = tx
                    .connection_for_me(id)
                    .await?
                    .ok_or_else(|| not_found("connection", "connectionId"))?;
                let peer = if c.tenant_id == me {
                    c.provider_tenant_id
                } else {
                    c.tenant_id
                };
                c.status = match (c.status.as_str(), c.tenant_id == me) {
                    ("active", _) => "ended".into(),
                    ("invited", true) => "cancelled".into(),
                    ("invited", false) => {
                        return Err(conflict(
                            "connectionId",
                            "answer the invitation instead (answerConnection)",
                        ));
                    }
                    (s, _) => {
                        return Err(conflict(
                            "connectionId",
                            format!("the connection is already {s}"),
                        ));
                    }
                };
                c.ended_by_tenant = Some(me);
                c.ended_by = Some(az.actor.to_stored());
                c.ended_at = Some(stamp());
                c.end_reason = reason.clone();
                tx.lock_chains(&[peer]).await?;
                let from = if c.status == "cancelled" {
                    "invited"
                } else {
                    "active"
                };
                let c = tx
                    .transition_connection(c, from)
                    .await
                    .map_err(race("connectionId"))?;
                for g in tx.open_grants_of_connection(c.id).await? {
                    revoke_grant(&mut tx, &az, g, Some("the connection ended".into())).await?;
                }
                let change = json!({"status": c.status, "reason": reason});
                tell_peer(
                    &mut tx,
                    &az,
                    peer,
                    "connection.ended",
                    "TenantConnection",
                    c.id,
                    change.clone(),
                    None,
                )
                .await?;
                super::common::record(
                    &mut tx,
                    &az,
                    "connection.end",
                    "TenantConnection",
                    c.id,
                    change,
                )
                .await?;
                let out = connection_object(&tx, az.scope, c).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ConnectionPayload {
            connection,
            user_errors,
        })
    }

    /// Lists one of the current tenant's artifacts as shareable: connected tenants see the
    /// title and may ask for it.
    async fn list_artifact(
        &self,
        ctx: &Context<'_>,
        input: ListArtifactInput,
    ) -> Result<ShareListingPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (listing, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let description = free_text("description", input.description.as_deref(), NOTE)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (artifact, _) = own_artifact(&tx, input.kind, input.artifact_id.as_ref()).await?;
                let now = stamp();
                let row = tx
                    .insert_share_listing(share_listing::Model {
                        tenant_id: az.scope.tenant_id().0,
                        id: Uuid::now_v7(),
                        artifact_kind: input.kind.as_str().into(),
                        artifact_id: artifact,
                        title,
                        description,
                        created_by: az.actor.to_stored(),
                        created_at: now,
                        updated_at: now,
                    })
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => conflict("artifactId", "the artifact is already listed"),
                        other => other.into(),
                    })?;
                super::common::record(&mut tx, &az, "share_listing.create", "ShareListing", row.id, json!({"kind": row.artifact_kind, "artifact": row.artifact_id, "title": row.title})).await?;
                let peers = Peers::load(&tx, [row.tenant_id]).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(ShareListing { row, peers })
            }
            .await,
        )?;
        Ok(ShareListingPayload {
            listing,
            user_errors,
        })
    }

    /// Removes a listing (grants already made stay).
    async fn unlist_artifact(
        &self,
        ctx: &Context<'_>,
        input: UnlistArtifactInput,
    ) -> Result<UnlistArtifactPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (listing_id, user_errors) = settle(
            async {
                let id = decode_kind(&input.listing_id, Kind::ShareListing)
                    .ok_or_else(|| not_found("listing", "listingId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                if !tx.delete_share_listing(id).await? {
                    return Err(not_found("listing", "listingId"));
                }
                super::common::record(
                    &mut tx,
                    &az,
                    "share_listing.delete",
                    "ShareListing",
                    id,
                    json!({}),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(input.listing_id.clone())
            }
            .await,
        )?;
        Ok(UnlistArtifactPayload {
            listing_id,
            user_errors,
        })
    }

    /// Shares one of the current tenant's artifacts with a connected tenant.
    async fn grant_share(
        &self,
        ctx: &Context<'_>,
        input: GrantShareInput,
    ) -> Result<ShareGrantPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (grant, user_errors) = settle(
            async {
                let note = free_text("note", input.note.as_deref(), NOTE)?;
                let grantee = decode_kind(&input.grantee_tenant_id, Kind::Tenant)
                    .ok_or_else(|| not_found("tenant", "granteeTenantId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = make_grant(
                    &mut tx,
                    &az,
                    grantee,
                    input.kind,
                    input.artifact_id.as_ref(),
                    input.access,
                    input.expires_at,
                    input.nda_id.as_ref(),
                    note,
                    None,
                )
                .await?;
                let out = grant_object(&tx, az.scope, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ShareGrantPayload { grant, user_errors })
    }

    /// Revokes a grant at once (its owner).
    async fn revoke_share(
        &self,
        ctx: &Context<'_>,
        input: RevokeShareInput,
    ) -> Result<ShareGrantPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (grant, user_errors) = settle(
            async {
                let reason = super::common::optional_text("reason", input.reason.as_deref(), NOTE)?;
                let id = decode_kind(&input.grant_id, Kind::ShareGrant)
                    .ok_or_else(|| not_found("grant", "grantId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                let g = tx
                    .grant_for_me(id)
                    .await?
                    .filter(|g| g.tenant_id == me)
                    .ok_or_else(|| not_found("grant", "grantId"))?;
                if g.revoked_at.is_some() {
                    return Err(conflict("grantId", "the grant is already revoked"));
                }
                tx.lock_chains(&[g.grantee_tenant_id]).await?;
                let g = revoke_grant(&mut tx, &az, g, reason).await?;
                let out = grant_object(&tx, az.scope, g).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(ShareGrantPayload { grant, user_errors })
    }

    /// Asks a connected tenant for one of its listed artifacts (or all its ISO certificates).
    async fn request_access(
        &self,
        ctx: &Context<'_>,
        input: RequestAccessInput,
    ) -> Result<AccessRequestPayload> {
        let az = authorize(ctx, Operation::RequestShares)?;
        let (request, user_errors) = settle(
            async {
                let message = free_text("message", input.message.as_deref(), NOTE)?;
                let cid = decode_kind(&input.connection_id, Kind::TenantConnection).ok_or_else(|| not_found("connection", "connectionId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                let c = tx.connection_for_me(cid).await?.ok_or_else(|| not_found("connection", "connectionId"))?;
                if c.status != "active" {
                    return Err(conflict("connectionId", "the connection is not active"));
                }
                let owner = if c.tenant_id == me { c.provider_tenant_id } else { c.tenant_id };
                let (listing, kind, artifact) = match (&input.listing_id, input.kind) {
                    (Some(l), None) => {
                        let lid = decode_kind(l, Kind::ShareListing).ok_or_else(|| not_found("listing", "listingId"))?;
                        let l = tx.listing_of(owner, lid).await?.ok_or_else(|| not_found("listing", "listingId"))?;
                        (Some(l.id), l.artifact_kind, l.artifact_id)
                    }
                    (None, Some(ArtifactKind::AllIsoCertificates)) => (None, "all-iso-certificates".to_owned(), None),
                    (None, Some(_)) => return Err(invalid("kind", "ask for a listed artifact (listingId), or for ALL_ISO_CERTIFICATES")),
                    (Some(_), Some(_)) => return Err(invalid("kind", "give a listing or a kind, not both")),
                    (None, None) => return Err(invalid("listingId", "name the listing asked for")),
                };
                if input.access == ShareAccess::Document && kind == "soa-summary" {
                    return Err(invalid("access", "an SoA summary has no document: ask for metadata access"));
                }
                let now = stamp();
                tx.lock_chains(&[owner]).await?;
                let row = tx
                    .insert_access_request(access_request::Model {
                        tenant_id: owner,
                        id: Uuid::now_v7(),
                        requester_tenant_id: me,
                        connection_tenant_id: c.tenant_id,
                        connection_id: c.id,
                        listing_id: listing,
                        artifact_kind: kind,
                        artifact_id: artifact,
                        access: input.access.as_str().into(),
                        message: message.clone(),
                        status: "pending".into(),
                        requested_by: az.actor.to_stored(),
                        created_at: now,
                        decided_by: None,
                        decided_at: None,
                        reason: None,
                        grant_id: None,
                    })
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => conflict("listingId", "a request for this artifact is already pending"),
                        other => other.into(),
                    })?;
                tx.insert_access_request_event(access_request_event::Model {
                    tenant_id: owner,
                    request_id: row.id,
                    seq: 1,
                    action: "requested".into(),
                    actor_tenant_id: me,
                    actor: az.actor.to_stored(),
                    detail: json!({"access": row.access, "message": message}).to_string(),
                    occurred_at: now,
                })
                .await?;
                let change = json!({"kind": row.artifact_kind, "artifact": row.artifact_id, "listing": row.listing_id, "access": row.access, "requester": me, "owner": owner});
                tell_peer(&mut tx, &az, owner, "access_request.received", "AccessRequest", row.id, change.clone(), None).await?;
                super::common::record(&mut tx, &az, "access_request.create", "AccessRequest", row.id, change).await?;
                let out = AccessRequest::load(&tx, vec![row]).await?.remove(0);
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(AccessRequestPayload {
            request,
            grant: None,
            user_errors,
        })
    }

    /// Approves a pending request: makes the grant (access defaults to what was asked).
    async fn approve_access_request(
        &self,
        ctx: &Context<'_>,
        input: ApproveAccessRequestInput,
    ) -> Result<AccessRequestPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let r = settle(
            async {
                let id = decode_kind(&input.request_id, Kind::AccessRequest).ok_or_else(|| not_found("request", "requestId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                let mut r = tx.access_request_for_me(id).await?.filter(|r| r.tenant_id == me).ok_or_else(|| not_found("request", "requestId"))?;
                let status = dom::RequestStatus::parse(&r.status).ok_or_else(internal)?;
                dom::check_request_transition(status, dom::RequestAction::Approved)?;
                let access = match input.access {
                    Some(a) => a,
                    None => ShareAccess::of(&r.access)?,
                };
                let kind = ArtifactKind::of(&r.artifact_kind)?;
                let artifact = artifact_gid(&r.artifact_kind, r.artifact_id);
                tx.lock_chains(&[r.requester_tenant_id]).await?;
                let g = make_grant(&mut tx, &az, r.requester_tenant_id, kind, artifact.as_ref(), access, input.expires_at, input.nda_id.as_ref(), String::new(), Some(r.id)).await?;
                let now = stamp();
                r.status = "approved".into();
                r.decided_by = Some(az.actor.to_stored());
                r.decided_at = Some(now);
                r.grant_id = Some(g.id);
                let r = tx
                    .transition_access_request(r)
                    .await
                    .map_err(race("requestId"))?;
                let seq = tx.access_request_events_of(&[(me, r.id)]).await?.len() as i32 + 1;
                tx.insert_access_request_event(access_request_event::Model {
                    tenant_id: me,
                    request_id: r.id,
                    seq,
                    action: "approved".into(),
                    actor_tenant_id: me,
                    actor: az.actor.to_stored(),
                    detail: json!({"access": g.access, "expiresAt": g.expires_at, "nda": g.nda_id, "grant": g.id}).to_string(),
                    occurred_at: now,
                })
                .await?;
                super::common::record(&mut tx, &az, "access_request.approve", "AccessRequest", r.id, json!({"grant": g.id})).await?;
                let req = AccessRequest::load(&tx, vec![r]).await?.remove(0);
                let grant = grant_object(&tx, az.scope, g).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((req, grant))
            }
            .await,
        )?;
        let (pair, user_errors) = r;
        let (request, grant) = pair.map_or((None, None), |(r, g)| (Some(r), Some(g)));
        Ok(AccessRequestPayload {
            request,
            grant,
            user_errors,
        })
    }

    /// Denies a pending request, with the reason the requester will read.
    async fn deny_access_request(
        &self,
        ctx: &Context<'_>,
        input: DenyAccessRequestInput,
    ) -> Result<AccessRequestPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (request, user_errors) = settle(
            decide(
                ctx,
                &az,
                &input.request_id,
                dom::RequestAction::Denied,
                Some(&input.reason),
            )
            .await,
        )?;
        Ok(AccessRequestPayload {
            request,
            grant: None,
            user_errors,
        })
    }

    /// Withdraws the current tenant's pending request.
    async fn withdraw_access_request(
        &self,
        ctx: &Context<'_>,
        input: WithdrawAccessRequestInput,
    ) -> Result<AccessRequestPayload> {
        let az = authorize(ctx, Operation::RequestShares)?;
        let (request, user_errors) = settle(
            decide(
                ctx,
                &az,
                &input.request_id,
                dom::RequestAction::Withdrawn,
                None,
            )
            .await,
        )?;
        Ok(AccessRequestPayload {
            request,
            grant: None,
            user_errors,
        })
    }

    /// Creates an NDA with its first version.
    async fn create_nda(&self, ctx: &Context<'_>, input: CreateNdaInput) -> Result<NdaPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (nda, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let text = checked_text("text", &input.text, 100_000)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let now = stamp();
                let row = tx
                    .insert_nda(nda::Model {
                        tenant_id: az.scope.tenant_id().0,
                        id: Uuid::now_v7(),
                        title,
                        current_version: 1,
                        created_by: az.actor.to_stored(),
                        created_at: now,
                        updated_at: now,
                    })
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => {
                            conflict("title", "an NDA with this title exists")
                        }
                        other => other.into(),
                    })?;
                let v = publish(&mut tx, &az, &row, 1, text).await?;
                super::common::record(
                    &mut tx,
                    &az,
                    "nda.create",
                    "Nda",
                    row.id,
                    json!({"title": row.title, "version": 1, "sha256": v.sha256}),
                )
                .await?;
                let out = Nda::one(&tx, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(NdaPayload { nda, user_errors })
    }

    /// Publishes a new version of an NDA: it becomes the one grantees accept, and documents
    /// behind it close until they do.
    async fn publish_nda_version(
        &self,
        ctx: &Context<'_>,
        input: PublishNdaVersionInput,
    ) -> Result<NdaPayload> {
        let az = authorize(ctx, Operation::ManageSharing)?;
        let (nda, user_errors) = settle(
            async {
                let text = checked_text("text", &input.text, 100_000)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = own_nda(&tx, &input.nda_id).await?;
                // The grantees under the NDA are told in this transaction: their chains are
                // locked with the tenant's own, in tenant order, before any audit event.
                let under = tx.my_live_grants_under_nda(row.id, Utc::now()).await?;
                let grantees: Vec<Uuid> = under.iter().map(|g| g.grantee_tenant_id).collect();
                tx.lock_chains(&grantees).await?;
                let version = row.current_version + 1;
                let v = publish(&mut tx, &az, &row, version, text).await?;
                row.current_version = version;
                row.updated_at = stamp();
                let row = tx.update_nda(row).await?;
                super::common::record(
                    &mut tx,
                    &az,
                    "nda.publish",
                    "Nda",
                    row.id,
                    json!({"version": version, "sha256": v.sha256}),
                )
                .await?;
                tell_nda_grantees(&mut tx, &az, &row, version, under).await?;
                let out = Nda::one(&tx, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(NdaPayload { nda, user_errors })
    }

    /// Accepts a connected tenant's NDA in its current version, on the current tenant's
    /// behalf; records who, when and from which address.
    async fn accept_nda(
        &self,
        ctx: &Context<'_>,
        input: AcceptNdaInput,
    ) -> Result<NdaAcceptancePayload> {
        let az = authorize(ctx, Operation::RequestShares)?;
        let (acceptance, user_errors) = settle(
            async {
                let id = decode_kind(&input.nda_id, Kind::Nda).ok_or_else(|| not_found("NDA", "ndaId"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let me = az.scope.tenant_id().0;
                // The NDA of a live grant to the current tenant (only those are its to accept).
                let owner = tx
                    .nda_owner_for_me(id, Utc::now())
                    .await?
                    .ok_or_else(|| not_found("NDA", "ndaId"))?;
                let n = tx.nda_of(owner, id).await?.ok_or_else(|| not_found("NDA", "ndaId"))?;
                if input.version != n.current_version {
                    return Err(conflict("version", format!("version {} is not the current version ({}) of this NDA", input.version, n.current_version)));
                }
                let v = tx
                    .nda_versions_of(&[(owner, id)])
                    .await?
                    .into_iter()
                    .find(|v| v.version == n.current_version)
                    .ok_or_else(internal)?;
                let client = ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default();
                tx.lock_chains(&[owner]).await?;
                let row = tx
                    .insert_nda_acceptance(nda_acceptance::Model {
                        tenant_id: owner,
                        id: Uuid::now_v7(),
                        nda_id: id,
                        version: v.version,
                        sha256: v.sha256.clone(),
                        grantee_tenant_id: me,
                        actor: az.actor.to_stored(),
                        user_id: reader(&az),
                        address: Some(client.address.chars().take(100).collect()),
                        user_agent: client.user_agent,
                        accepted_at: stamp(),
                    })
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => conflict("version", "this version was already accepted by this user"),
                        other => other.into(),
                    })?;
                let change = json!({"nda": id, "version": v.version, "sha256": v.sha256, "owner": owner, "grantee": me, "address": row.address});
                tell_peer(&mut tx, &az, owner, "nda.accepted", "NdaAcceptance", row.id, change.clone(), None).await?;
                super::common::record(&mut tx, &az, "nda.accept", "NdaAcceptance", row.id, change).await?;
                let peers = Peers::load(&tx, [owner, me]).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(NdaAcceptance { row, peers })
            }
            .await,
        )?;
        Ok(NdaAcceptancePayload {
            acceptance,
            user_errors,
        })
    }
}

/// Publishes version `version` of `n` (its text never changes afterwards).
async fn publish(
    tx: &mut TenantTx,
    az: &Authorized,
    n: &nda::Model,
    version: i32,
    text: String,
) -> Result<nda_version::Model, MutationError> {
    let sha256 = dom::nda_digest(&text);
    Ok(tx
        .insert_nda_version(nda_version::Model {
            tenant_id: n.tenant_id,
            nda_id: n.id,
            version,
            body: text,
            sha256,
            published_by: az.actor.to_stored(),
            published_at: stamp(),
        })
        .await?)
}

/// Denies (the owner) or withdraws (the requester) a pending request.
async fn decide(
    ctx: &Context<'_>,
    az: &Authorized,
    request: &ID,
    action: dom::RequestAction,
    reason: Option<&str>,
) -> Result<AccessRequest, MutationError> {
    let reason = match reason {
        Some(r) => Some(checked_text("reason", r, NOTE)?),
        None => None,
    };
    let id = decode_kind(request, Kind::AccessRequest)
        .ok_or_else(|| not_found("request", "requestId"))?;
    let mut tx = store(ctx).tenant_tx(az.scope).await?;
    let me = az.scope.tenant_id().0;
    let mut r = tx
        .access_request_for_me(id)
        .await?
        .filter(|r| match action {
            dom::RequestAction::Withdrawn => r.requester_tenant_id == me,
            _ => r.tenant_id == me,
        })
        .ok_or_else(|| not_found("request", "requestId"))?;
    let status = dom::RequestStatus::parse(&r.status).ok_or_else(internal)?;
    let next = dom::check_request_transition(status, action)?;
    let peer = if r.tenant_id == me {
        r.requester_tenant_id
    } else {
        r.tenant_id
    };
    let now = stamp();
    tx.lock_chains(&[peer]).await?;
    r.status = next.as_str().into();
    r.decided_by = Some(az.actor.to_stored());
    r.decided_at = Some(now);
    r.reason = reason.clone();
    let r = tx
        .transition_access_request(r)
        .await
        .map_err(race("requestId"))?;
    let seq = tx
        .access_request_events_of(&[(r.tenant_id, r.id)])
        .await?
        .len() as i32
        + 1;
    tx.insert_access_request_event(access_request_event::Model {
        tenant_id: r.tenant_id,
        request_id: r.id,
        seq,
        action: action.as_str().into(),
        actor_tenant_id: me,
        actor: az.actor.to_stored(),
        detail: json!({"reason": reason}).to_string(),
        occurred_at: now,
    })
    .await?;
    let change = json!({"status": r.status, "reason": r.reason});
    tell_peer(
        &mut tx,
        az,
        peer,
        &format!("access_request.{}", action.as_str()),
        "AccessRequest",
        r.id,
        change.clone(),
        None,
    )
    .await?;
    super::common::record(
        &mut tx,
        az,
        &format!("access_request.{}", next.as_str()),
        "AccessRequest",
        r.id,
        change,
    )
    .await?;
    let out = AccessRequest::load(&tx, vec![r]).await?.remove(0);
    super::mutation::commit(ctx, tx).await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Announcing changes of shared artifacts to their grantees

/// A change to announce to a grantee after the owner's transaction commits.
#[derive(Debug, Clone)]
pub(crate) struct Announcement {
    grantee: Uuid,
    grant: Uuid,
    payload: serde_json::Value,
}

/// Which shared artifact an audit event of the owner's is about, and how it changed.
fn artifact_of(r: &AuditRecord) -> Option<(&'static str, Uuid, dom::ShareChange)> {
    let change: serde_json::Value = serde_json::from_str(&r.change).unwrap_or_default();
    let field = |k: &str| {
        change
            .get(k)
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let subject = || Uuid::parse_str(&r.subject_id).ok();
    let verb = r.action.rsplit('.').next().unwrap_or("");
    let removal = verb == "delete";
    use dom::ShareChange as C;
    Some(match r.subject_type.as_str() {
        "certificate" => (
            "certificate",
            subject()?,
            match verb {
                "create" => C::Added,
                "delete" => C::Removed,
                _ => C::Updated,
            },
        ),
        "certificate_audit" => ("certificate", field("certificate")?, C::Updated),
        "certificate_decision" => ("certificate", field("certificate")?, C::StatusChanged),
        "attestation" => (
            "attestation",
            subject()?,
            if removal { C::Removed } else { C::Updated },
        ),
        "baa" => (
            "baa",
            subject()?,
            if removal { C::Removed } else { C::Updated },
        ),
        "SoaVersion" if r.action == "soa.approve" => ("soa-summary", field("isms")?, C::Updated),
        // The summary's title is the ISMS's name.
        "Isms" if r.action == "isms.update" => ("soa-summary", subject()?, C::Updated),
        _ => return None,
    })
}

fn rank(c: dom::ShareChange) -> u8 {
    use dom::ShareChange as C;
    match c {
        C::Removed => 4,
        C::StatusChanged => 3,
        C::Added => 2,
        _ => 1,
    }
}

/// Before the owner's transaction commits: queues an outbox event for every grantee of every
/// shared artifact the transaction changed (in the same transaction: the change and its
/// announcement commit together), revokes the grants of a deleted artifact, and returns what
/// to write into the grantees' audit chains once it has committed.
pub(crate) async fn share_changes(tx: &mut TenantTx) -> Result<Vec<Announcement>, StoreError> {
    let me = tx.scope().tenant_id().0;
    let mut changed: Vec<(&'static str, Uuid, dom::ShareChange, Uuid)> = Vec::new();
    for r in tx.appended().iter().filter(|r| r.tenant_id == me) {
        if let Some((kind, id, change)) = artifact_of(r) {
            match changed.iter_mut().find(|c| c.0 == kind && c.1 == id) {
                Some(c) if rank(change) > rank(c.2) => {
                    c.2 = change;
                    c.3 = r.id;
                }
                Some(_) => {}
                None => changed.push((kind, id, change, r.id)),
            }
        }
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let mut out = Vec::new();
    for (kind, id, change, event_id) in changed {
        let grants = tx.grants_covering(kind, Some(id), now).await?;
        if grants.is_empty() {
            continue;
        }
        let (status, title) = current_status(tx, kind, id).await?;
        for g in grants {
            let payload = json!({
                "grantId": g.id, "ownerTenantId": me, "artifactKind": kind,
                "artifactId": id, "change": change.as_str(), "status": status,
                "title": title,
            });
            tx.queue_peer_event(
                g.grantee_tenant_id,
                PeerEvent {
                    topic: format!("share.{}", change.as_str()),
                    subject_type: "ShareGrant".into(),
                    subject_id: g.id.to_string(),
                    payload: payload.clone(),
                    dedupe_key: format!("{}:{}:{}", g.id, id, event_id),
                },
            )
            .await?;
            let direct = g.artifact_kind == kind && g.artifact_id == Some(id);
            if change == dom::ShareChange::Removed && direct {
                let mut g2 = g.clone();
                g2.revoked_at = Some(stamp());
                g2.revoked_by = Some("system:sharing".into());
                g2.revoke_reason = Some("the artifact was deleted".into());
                tx.update_share_grant(g2).await?;
            }
            out.push(Announcement {
                grantee: g.grantee_tenant_id,
                grant: g.id,
                payload,
            });
        }
    }
    // Last: the grantees' cached views are stale from this commit on (in grantee order).
    let grantees: Vec<Uuid> = out.iter().map(|a| a.grantee).collect();
    tx.bump_share_versions(&grantees).await?;
    Ok(out)
}

/// The status (today) and title of one of the current tenant's own artifacts, for an
/// announcement; `None` status for a deleted one.
async fn current_status(
    tx: &TenantTx,
    kind: &str,
    id: Uuid,
) -> Result<(Option<String>, String), StoreError> {
    let on = today();
    Ok(match kind {
        "certificate" => match tx.certificate(id).await? {
            Some(c) => {
                let audits = tx.certificate_audits_of(&[id]).await?;
                let decisions = tx.certificate_decisions_of(&[id]).await?;
                let st = super::certificates::lifecycle(&c, &audits, &decisions)
                    .ok()
                    .map(|l| l.status_on(on).status.as_str().to_owned());
                (st, certificate_title(&c))
            }
            None => (None, String::new()),
        },
        "attestation" => match tx.attestation(id).await? {
            Some(a) => {
                let st = super::attestations::attestation_state(
                    super::attestations::dates_of(&a),
                    &AttestationPolicy::default(),
                    on,
                )
                .map(|s| s.1.status.as_str().to_owned());
                (st, a.title)
            }
            None => (None, String::new()),
        },
        "baa" => match tx.baa(id).await? {
            Some(b) => {
                let d = super::attestations::domain_baa(
                    b.effective_on,
                    b.ends_on,
                    b.terminated_on,
                    &b.terms,
                );
                let st = if d.in_effect(on) {
                    "in-effect"
                } else {
                    "not-in-effect"
                };
                (Some(st.to_owned()), b.title)
            }
            None => (None, String::new()),
        },
        "soa-summary" => match tx.isms(id).await? {
            Some(i) => (
                Some("approved".to_owned()),
                format!("{}: Statement of Applicability", i.name),
            ),
            None => (None, String::new()),
        },
        _ => (None, String::new()),
    })
}

/// After the owner's transaction committed: writes each announcement into its grantee's audit
/// chain (the `sharedArtifactChanged` subscription's signal), in one transaction that takes the
/// grantees' chain locks in order. The outbox events are already committed with the change;
/// a failure here is logged and loses only the live signal.
pub(crate) async fn tell_grantees(
    st: &Store,
    scope: TenantScope,
    items: Vec<Announcement>,
) -> Vec<AuditRecord> {
    let run = async {
        let mut tx = st.tenant_tx(scope).await?;
        let mut peers: Vec<Uuid> = items.iter().map(|a| a.grantee).collect();
        peers.sort_unstable();
        peers.dedup();
        tx.lock_chains(&peers).await?;
        for a in &items {
            tx.notify_peer(
                a.grantee,
                AuditEntry {
                    actor: Actor::System(format!("tenant:{}", scope.tenant_id())),
                    action: CHANGED.into(),
                    subject_type: "ShareGrant".into(),
                    subject_id: a.grant.to_string(),
                    change: a.payload.clone(),
                },
            )
            .await?;
        }
        tx.commit().await
    };
    match run.await {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, "announcing a shared artifact's change to its grantees' audit chains failed; the outbox has it");
            Vec::new()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The subscription

/// A change to an artifact shared with the current tenant.
#[derive(Debug, Clone, SimpleObject)]
pub struct SharedArtifactChange {
    pub grant_id: ID,
    pub owner: PeerTenant,
    pub artifact_kind: ArtifactKind,
    pub artifact_id: Option<ID>,
    /// updated, status-changed, added, removed, revoked or granted.
    pub change: String,
    /// The artifact's status today, when it has one.
    pub status: Option<String>,
    pub title: String,
    pub occurred_at: DateTime<Utc>,
}

fn change_of(e: &AuditRecord) -> Option<SharedArtifactChange> {
    if !matches!(
        e.action.as_str(),
        CHANGED | "share.granted" | "share.revoked"
    ) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&e.change).ok()?;
    let uuid = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let kind = ArtifactKind::parse(v.get("artifactKind")?.as_str()?)?;
    let owner = uuid("ownerTenantId")?;
    if owner == e.tenant_id {
        // The owner's record of its own grant's revocation (by the grantee ending the
        // connection) is not a change shared with it.
        return None;
    }
    Some(SharedArtifactChange {
        grant_id: encode(Kind::ShareGrant, uuid("grantId")?),
        owner: PeerTenant {
            id: encode(Kind::Tenant, owner),
            slug: String::new(),
            name: String::new(),
        },
        artifact_kind: kind,
        artifact_id: artifact_gid(kind.as_str(), uuid("artifactId")),
        change: v.get("change")?.as_str()?.to_owned(),
        status: v.get("status").and_then(|s| s.as_str()).map(str::to_owned),
        title: v
            .get("title")
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_owned(),
        occurred_at: e.occurred_at,
    })
}

#[derive(Debug, Default)]
pub struct SharingSubscription;

#[Subscription]
impl SharingSubscription {
    /// Each change to an artifact shared with the current tenant (a grant, a revocation, an
    /// audit or decision on a certificate, a new document, a renewal under an "all ISO
    /// certificates" grant, ...), as it is committed. Every member may subscribe; the
    /// credential is checked again before each event.
    async fn shared_artifact_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<SharedArtifactChange>> + use<>> {
        let az = authorize(ctx, Operation::ReadSharing)?;
        let tenant = az.scope.tenant_id().0;
        let socket = ctx
            .data_opt::<super::subscription::SocketCredential>()
            .cloned();
        let events = ctx
            .data_unchecked::<crate::events::EventBus>()
            .subscribe()
            .filter(move |e| std::future::ready(e.tenant_id == tenant && change_of(e).is_some()));
        Ok(stream::unfold(
            (Box::pin(events), socket, false),
            move |(mut events, socket, ended)| async move {
                if ended {
                    return None;
                }
                let event = events.next().await?;
                let verdict = match &socket {
                    Some(s) => s.still_permits(Operation::ReadSharing, tenant).await,
                    None => Ok(()),
                };
                let ended = verdict.is_err();
                Some((
                    verdict.and_then(|()| change_of(&event).ok_or_else(internal)),
                    (events, socket, ended),
                ))
            },
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Inherited SoA controls

/// Whether an SoA entry inherited from a vendor still rests on the vendor's shared SoA.
#[derive(Debug, Clone, SimpleObject)]
pub struct SoaInheritance {
    pub vendor: Option<Vendor>,
    pub state: InheritanceState,
    /// The vendor's status of the control in its latest approved SoA, if shared.
    pub vendor_status: Option<String>,
    /// That SoA version's number.
    pub vendor_soa_version: Option<i32>,
}

/// The inheritance of `control` from `vendor` as the current tenant sees it now.
pub(crate) async fn inheritance(
    tx: &TenantTx,
    scope: TenantScope,
    vendor: Uuid,
    control: Uuid,
) -> Result<SoaInheritance, StoreError> {
    let v = tx.vendor(vendor).await?;
    let conn = tx
        .connections_of_vendors(&[vendor])
        .await?
        .into_iter()
        .find(|c| c.status == "active");
    let mut vendor_status = None;
    let mut vendor_version = None;
    let mut shared = false;
    let mut entry: Option<Option<(bool, ImplementationStatus)>> = None;
    if let Some(c) = &conn {
        let grants: Vec<LiveGrant> = tx
            .live_grants_from(&[c.provider_tenant_id], Utc::now())
            .await?
            .into_iter()
            .filter(|g| g.row().artifact_kind == "soa-summary")
            .collect();
        shared = !grants.is_empty();
        if shared {
            let (_, versions) = tx.shared_soas(&grants).await?;
            // The newest approval among the shared ISMSs that lists the control.
            let mut best: Option<(DateTime<Utc>, i32, bool, ImplementationStatus)> = None;
            let mut any_version = false;
            for ver in &versions {
                any_version = true;
                let entries: Vec<grc_domain::isms::SoaEntry> =
                    serde_json::from_str(&ver.entries).unwrap_or_default();
                if let Some(e) = entries.iter().find(|e| e.control_id == control)
                    && best.is_none_or(|b| ver.approved_at > b.0)
                {
                    best = Some((ver.approved_at, ver.number, e.applicable, e.status));
                }
            }
            entry = match best {
                Some((_, n, applicable, status)) => {
                    vendor_status = Some(status.as_str().to_owned());
                    vendor_version = Some(n);
                    Some(Some((applicable, status)))
                }
                None if any_version => Some(None),
                None => None,
            };
        }
    }
    let state = dom::inheritance_state(conn.is_some(), shared, entry);
    Ok(SoaInheritance {
        vendor: v.map(|row| Vendor::single(scope, row)),
        state: InheritanceState::parse(state.as_str()).unwrap_or(InheritanceState::NotShared),
        vendor_status,
        vendor_soa_version: vendor_version,
    })
}

#[derive(Debug, InputObject)]
pub struct SetSoaEntryInheritanceInput {
    pub isms_id: ID,
    pub control_id: ID,
    /// The connected vendor the control is inherited from; null clears the inheritance.
    pub vendor_id: Option<ID>,
}

#[derive(Debug, SimpleObject)]
pub struct SoaEntryInheritancePayload {
    /// The inheritance now (null when cleared).
    pub inheritance: Option<SoaInheritance>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Default)]
pub struct InheritanceMutation;

#[Object]
impl InheritanceMutation {
    /// Marks an SoA draft entry as inherited from a connected vendor whose shared SoA summary
    /// marks the control applicable and implemented (or clears it). The entry keeps showing
    /// whether that still holds (`SoaDraftEntry.inheritance`).
    async fn set_soa_entry_inheritance(
        &self,
        ctx: &Context<'_>,
        input: SetSoaEntryInheritanceInput,
    ) -> Result<SoaEntryInheritancePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (inheritance, user_errors) = settle(
            async {
                let isms = decode_kind(&input.isms_id, Kind::Isms).ok_or_else(|| not_found("ISMS", "ismsId"))?;
                let control = decode_kind(&input.control_id, Kind::Control).ok_or_else(|| not_found("control", "controlId"))?;
                let vendor = match &input.vendor_id {
                    Some(v) => Some(decode_kind(v, Kind::Vendor).ok_or_else(|| not_found("vendor", "vendorId"))?),
                    None => None,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                tx.isms(isms).await?.ok_or_else(|| not_found("ISMS", "ismsId"))?;
                let out = match vendor {
                    Some(v) => {
                        tx.vendor(v).await?.ok_or_else(|| not_found("vendor", "vendorId"))?;
                        let inh = inheritance(&tx, az.scope, v, control).await?;
                        if inh.state != InheritanceState::Supported {
                            let why = match inh.state {
                                InheritanceState::NotConnected => "the vendor is not connected to its tenant",
                                InheritanceState::NotShared => "the vendor shares no SoA summary with this tenant",
                                InheritanceState::NoApprovedSoa => "the vendor's shared SoA has no approved version",
                                InheritanceState::NotApplicable => "the vendor's approved SoA does not apply the control",
                                _ => "the vendor's approved SoA does not mark the control implemented",
                            };
                            return Err(conflict("vendorId", why));
                        }
                        Some(inh)
                    }
                    None => None,
                };
                let n = tx
                    .update_soa_entries(
                        isms,
                        &[(control, grc_store::SoaEntryPatch { inherited_from: Some(vendor), ..Default::default() })],
                        &az.actor.to_stored(),
                    )
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => not_found("SoA entry", "controlId"),
                        other => other.into(),
                    })?;
                let _ = n;
                super::common::record(&mut tx, &az, "soa.inherit", "Isms", isms, json!({"control": control, "vendor": vendor})).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(SoaEntryInheritancePayload {
            inheritance: inheritance.flatten(),
            user_errors,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Vendor records: the connection and what the vendor shares

/// The customer's open connection of `vendor`, if any (else the latest).
pub(crate) async fn vendor_connection(
    tx: &TenantTx,
    scope: TenantScope,
    vendor: Uuid,
) -> Result<Option<TenantConnection>> {
    let rows = tx
        .connections_of_vendors(&[vendor])
        .await
        .map_err(store_err)?;
    let row = rows
        .iter()
        .find(|c| c.status == "active" || c.status == "invited")
        .or(rows.first())
        .cloned();
    Ok(match row {
        Some(r) => Some(connection_objects(tx, scope, vec![r]).await?.remove(0)),
        None => None,
    })
}

/// What the vendors' tenants share with the current tenant now, per vendor record: the live
/// grants from each vendor's actively connected tenant and their artifacts on `on`.
pub(crate) async fn vendor_shares(
    tx: &TenantTx,
    vendors: &[Uuid],
    on: NaiveDate,
    certificates_only: bool,
) -> Result<HashMap<Uuid, Vec<SharedArtifact>>, StoreError> {
    let conns: Vec<connection::Model> = tx
        .connections_of_vendors(vendors)
        .await?
        .into_iter()
        .filter(|c| c.status == "active")
        .collect();
    if conns.is_empty() {
        return Ok(HashMap::new());
    }
    let providers: Vec<Uuid> = conns.iter().map(|c| c.provider_tenant_id).collect();
    let now = Utc::now();
    let mut grants = tx.live_grants_from(&providers, now).await?;
    if certificates_only {
        grants.retain(|g| {
            matches!(
                g.row().artifact_kind.as_str(),
                "certificate" | "all-iso-certificates"
            )
        });
    }
    let loaded = Loaded::load(tx, &grants).await?;
    let policy = policy_for(tx, &grants).await?;
    let mut out: HashMap<Uuid, Vec<SharedArtifact>> = HashMap::new();
    for c in &conns {
        let list = out.entry(c.vendor_id).or_default();
        for g in grants.iter().filter(|g| g.owner() == c.provider_tenant_id) {
            list.extend(loaded.artifacts(g, on, now, &policy));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Shared document downloads

/// A shared document ready to send (its receipt is committed, its content verified).
#[derive(Debug)]
pub struct SharedDownload {
    pub filename: String,
    pub media_type: String,
    pub sha256: String,
    pub content: bytes::Bytes,
}

/// `GET /shared/{grant}/{artifact}/document` after authentication: the document of an
/// artifact a live document grant to the current tenant covers (NDA accepted in its current
/// version), read whole and checked against its SHA-256 and size before anything is sent;
/// then the document receipt is committed on both sides, and only then are the bytes handed
/// over. Anything the grant does not open is 404.
pub async fn prepare_shared_download(
    st: &Store,
    files: &super::evidence::EvidenceFiles,
    auth: &crate::auth::AuthContext,
    grant_id: &str,
    artifact_id: &str,
    address: String,
) -> Result<SharedDownload, super::evidence::DownloadRefusal> {
    use super::evidence::refuse;
    let az = super::authorize_caller(auth, Operation::DownloadShared).map_err(|_| {
        refuse(
            403,
            ErrorCode::Forbidden,
            "this role may not download shared documents",
        )
    })?;
    let not_found = || refuse(404, ErrorCode::NotFound, "no such shared document");
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "shared download: {what}");
        refuse(500, ErrorCode::Internal, "internal error")
    };
    let gid = decode_kind(grant_id, Kind::ShareGrant).ok_or_else(not_found)?;
    let artifact = ID(artifact_id.to_owned());
    let mut tx = st
        .tenant_tx(az.scope)
        .await
        .map_err(|e| internal("transaction", &e))?;
    let (grant, _, _, a) = open_artifact(&tx, gid, Some(&artifact), today())
        .await
        .map_err(|e| internal("grant", &e))?
        .ok_or_else(not_found)?;
    let doc = a
        .document
        .filter(|_| a.document_available)
        .ok_or_else(not_found)?;
    let rec = tx
        .shared_documents(&[(a.owner, doc)])
        .await
        .map_err(|e| internal("document row", &e))?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let owner_scope = TenantScope::new(grc_domain::ids::TenantId(a.owner));
    if rec.object_key != grc_store::objects::Objects::evidence_key(owner_scope, rec.id) {
        return Err(internal(
            "object key",
            &"the row names an object outside its tenant's keys",
        ));
    }
    let content = files
        .objects
        .get(&rec.object_key)
        .await
        .map_err(|e| internal("object", &e))?;
    let actual = hex::encode(sha2::Sha256::digest(&content));
    if actual != rec.sha256 || i64::try_from(content.len()).ok() != Some(rec.size_bytes) {
        return Err(internal(
            "integrity",
            &"the object does not match its recorded SHA-256 and size",
        ));
    }
    record_receipt(
        &mut tx,
        &az,
        &grant,
        &a,
        ReceiptView::Document,
        &rec.sha256,
        Some(address),
    )
    .await
    .map_err(|e| internal("receipt", &e))?;
    let events = tx.commit().await.map_err(|e| internal("commit", &e))?;
    if let Some(bus) = &files.bus {
        for e in events {
            bus.publish(e).await;
        }
    }
    Ok(SharedDownload {
        filename: rec.filename,
        media_type: rec.media_type,
        sha256: rec.sha256,
        content,
    })
}

/// `node(id:)` for the sharing kinds: objects the current tenant is a side of.
pub(crate) async fn resolve_node(
    ctx: &Context<'_>,
    az: &Authorized,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
    let node = match kind {
        Kind::TenantConnection => match tx.connection_for_me(id).await.map_err(store_err)? {
            Some(row) => Some(Node::TenantConnection(
                connection_objects(&tx, az.scope, vec![row])
                    .await?
                    .remove(0),
            )),
            None => None,
        },
        Kind::ShareGrant => match tx.grant_for_me(id).await.map_err(store_err)? {
            Some(row) => {
                let gp = grant_page(&tx, az.scope, vec![row], Utc::now()).await?;
                Some(Node::ShareGrant(ShareGrant { i: 0, page: gp }))
            }
            None => None,
        },
        Kind::ShareListing => match tx.share_listing(id).await.map_err(store_err)? {
            Some(row) => {
                let peers = Peers::load(&tx, [row.tenant_id]).await?;
                Some(Node::ShareListing(ShareListing { row, peers }))
            }
            None => None,
        },
        Kind::Nda => match tx.nda(id).await.map_err(store_err)? {
            Some(row) => Some(Node::Nda(Nda::one(&tx, row).await?)),
            None => None,
        },
        Kind::AccessRequest => match tx.access_request_for_me(id).await.map_err(store_err)? {
            Some(row) => Some(Node::AccessRequest(
                AccessRequest::load(&tx, vec![row]).await?.remove(0),
            )),
            None => None,
        },
        _ => None,
    };
    tx.commit().await.map_err(store_err)?;
    Ok(node)
}
