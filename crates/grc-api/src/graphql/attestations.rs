//! Vendor attestations (ISO certificates, SOC 2 reports, HITRUST certifications, penetration
//! tests, questionnaires) with their validity computed on any date, and business associate
//! agreements with the required terms of 45 CFR 164.504(e) and 164.314(a).
//!
//! Validity follows the domain rules of `grc_domain::certification` with the tenant's policy:
//! an ISO certificate as observed from outside (ISO/IEC 17021-1 9.1.3.2, 9.6.5, and the
//! 2013 → 2022 transition of IAF MD 26), SOC 2 currency after the period end with a bridge
//! letter's capped coverage, HITRUST r2's interim window, and dated reports. Writes need
//! `ManageVendors` (a contributor: only for the vendors it owns).

use super::common::{
    checked_date, checked_text, free_text, invalid, not_found, optional_text, record, require_edit,
    settle, stored_enum, today,
};
use super::connection::{ConnectionFields, build, page_in_memory, wants_total};
use super::evidence::Evidence;
use super::ids::{Kind, decode_kind, encode};
use super::query::page_cost;
use super::vendors::{Group, Shared, TEXT, Vendor, filter_id, page_args, vendor_of};
use super::{Authorized, authorize, store};
use crate::errors::{MutationError, StoreErrorExt, UserError};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_domain::certification::{
    self as cdom, AttestationFacts, AttestationPolicy, AttestationState, Edition, Standard,
};
use grc_domain::vendors as vdom;
use grc_store::entity::vendors::{attestation, baa, vendor};
use grc_store::{AttestationFilter, AttestationSlim, BaaFilter, StoreError, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

const MAX_PARTIES: usize = 10;

stored_enum!(
    /// The kinds of attestation a vendor provides.
    AttestationKind {
        /// An ISO/IEC 27001 certificate.
        #[graphql(name = "ISO27001")]
        Iso27001 = "iso27001",
        /// An ISO/IEC 27701 certificate.
        #[graphql(name = "ISO27701")]
        Iso27701 = "iso27701",
        /// SOC 2 Type I: design as of a date.
        #[graphql(name = "SOC2_TYPE1")]
        Soc2Type1 = "soc2-type1",
        /// SOC 2 Type II: operating effectiveness over a period.
        #[graphql(name = "SOC2_TYPE2")]
        Soc2Type2 = "soc2-type2",
        /// HITRUST r2 (risk-based, 2 years with the interim assessment).
        HitrustR2 = "hitrust-r2",
        /// HITRUST i1 (1 year).
        HitrustI1 = "hitrust-i1",
        /// HITRUST e1 (1 year).
        HitrustE1 = "hitrust-e1",
        PenTest = "pen-test",
        Questionnaire = "questionnaire",
    }
);

stored_enum!(
    /// A SOC 2 auditor's opinion.
    Soc2Opinion {
        Unmodified = "unmodified",
        Qualified = "qualified",
        /// Never relied on.
        Adverse = "adverse",
        /// Never relied on.
        Disclaimer = "disclaimer",
    }
);

stored_enum!(
    /// An attestation's validity on a date.
    AttestationStatus {
        /// Dated in the future: not yet in force.
        Pending = "pending",
        Valid = "valid",
        Expired = "expired",
        /// Suspended by its certification body (ISO certificates).
        Suspended = "suspended",
        /// Withdrawn or revoked by its issuer.
        Withdrawn = "withdrawn",
        /// An adverse opinion or a disclaimer: never relied on.
        Unacceptable = "unacceptable",
    }
);

/// The evidence files of a set of attestations and BAAs, by id.
pub(crate) type Docs = HashMap<Uuid, Evidence>;

/// Loads evidence files with their links (two queries; none for no ids).
pub(crate) async fn load_docs(tx: &TenantTx, ids: &[Uuid]) -> Result<Docs, StoreError> {
    if ids.is_empty() {
        return Ok(Docs::new());
    }
    let recs = tx.evidence_by_ids(ids).await?;
    let found: Vec<Uuid> = recs.iter().map(|r| r.id).collect();
    let mut links = tx.evidence_links_of(&found).await?;
    Ok(recs
        .into_iter()
        .map(|rec| {
            let l = links.remove(&rec.id).unwrap_or_default();
            (rec.id, Evidence { rec, links: l })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Validity

/// An attestation row as the domain evaluates it (`None` for an unknown stored kind or value).
pub(crate) fn dates_of(a: &attestation::Model) -> Option<AttestationFacts> {
    facts(
        &a.kind,
        a.edition.as_deref(),
        a.opinion.as_deref(),
        [
            Some(a.issued_on),
            a.expires_on,
            a.period_start,
            a.period_end,
            a.bridge_through,
            a.interim_submitted_on,
            a.hitrust_bridge_on,
            a.suspended_on,
            a.withdrawn_on,
        ],
    )
}

/// The same for the slim row the compliance computation loads.
pub(crate) fn dates_of_slim(a: &AttestationSlim) -> Option<AttestationFacts> {
    facts(
        &a.kind,
        a.edition.as_deref(),
        a.opinion.as_deref(),
        [
            Some(a.issued_on),
            a.expires_on,
            a.period_start,
            a.period_end,
            a.bridge_through,
            a.interim_submitted_on,
            a.hitrust_bridge_on,
            a.suspended_on,
            a.withdrawn_on,
        ],
    )
}

fn facts(
    kind: &str,
    edition: Option<&str>,
    opinion: Option<&str>,
    [
        issued_on,
        expires_on,
        period_start,
        period_end,
        bridge_through,
        interim_submitted_on,
        hitrust_bridge_on,
        suspended_on,
        withdrawn_on,
    ]: [Option<NaiveDate>; 9],
) -> Option<AttestationFacts> {
    Some(AttestationFacts {
        kind: cdom::AttestationKind::parse(kind)?,
        issued_on: issued_on?,
        expires_on,
        edition: match edition {
            Some(e) => Some(Edition::parse(e)?),
            None => None,
        },
        period_start,
        period_end,
        opinion: match opinion {
            Some(o) => Some(cdom::Opinion::parse(o)?),
            None => None,
        },
        bridge_through,
        interim_submitted_on,
        hitrust_bridge_on,
        suspended_on,
        withdrawn_on,
    })
}

fn standard_of(kind: cdom::AttestationKind) -> Option<Standard> {
    match kind {
        cdom::AttestationKind::Iso27001 => Some(Standard::Iso27001),
        cdom::AttestationKind::Iso27701 => Some(Standard::Iso27701),
        _ => None,
    }
}

const NEVER: AttestationState = AttestationState {
    status: cdom::AttestationStatus::Unacceptable,
    valid_until: None,
};

/// An attestation's kind and validity on `on` with the tenant's policy, by the domain's one
/// evaluation for every kind (`AttestationFacts::state_on`). `None` for an unreadable row.
pub(crate) fn attestation_state(
    f: Option<AttestationFacts>,
    policy: &AttestationPolicy,
    on: NaiveDate,
) -> Option<(cdom::AttestationKind, AttestationState)> {
    f.map(|f| (f.kind, f.state_on(policy, on)))
}

/// A BAA's stored terms: `{key: present}`.
fn terms_of(text: &str) -> BTreeMap<String, bool> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A BAA as the compliance rules need it.
pub(crate) fn domain_baa(
    effective_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    terminated_on: Option<NaiveDate>,
    terms: &str,
) -> vdom::Baa {
    vdom::Baa {
        effective_on,
        ends_on,
        terminated_on,
        present_terms: terms_of(terms)
            .into_iter()
            .filter_map(|(k, present)| present.then_some(k))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Attestation

/// An attestation's validity on a date.
#[derive(Debug, Clone, SimpleObject)]
pub struct AttestationValidity {
    pub status: AttestationStatus,
    /// The last day it can be relied on (null when it never can).
    pub valid_until: Option<NaiveDate>,
}

/// The HITRUST r2 interim assessment window: the 90 days before the first anniversary.
#[derive(Debug, Clone, SimpleObject)]
pub struct InterimWindow {
    pub opens: NaiveDate,
    pub closes: NaiveDate,
}

/// A vendor's attestation: an ISO certificate, a SOC 2 report, a HITRUST certification, a
/// penetration test or a questionnaire, with its validity computed on any date.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub(crate) row: attestation::Model,
    group: Arc<Group>,
    docs: Arc<Docs>,
}

impl Attestation {
    pub(crate) fn new(row: attestation::Model, group: Arc<Group>, docs: Arc<Docs>) -> Self {
        Self { row, group, docs }
    }

    fn domain_kind(&self) -> Option<cdom::AttestationKind> {
        cdom::AttestationKind::parse(&self.row.kind)
    }

    fn is_iso(&self) -> bool {
        self.domain_kind().and_then(standard_of).is_some()
    }
}

#[Object]
impl Attestation {
    pub async fn id(&self) -> ID {
        encode(Kind::Attestation, self.row.id)
    }
    async fn vendor(&self) -> Option<Vendor> {
        self.group.vendor(self.row.vendor_id)
    }
    async fn kind(&self) -> Result<AttestationKind> {
        AttestationKind::of(&self.row.kind)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// The certification body, auditor, assessor or tester.
    async fn issuer(&self) -> &str {
        &self.row.issuer
    }
    /// ISO certificates: the body that accredits the certification body (e.g. "UKAS").
    async fn accreditation_body(&self) -> Option<&str> {
        self.row.accreditation_body.as_deref()
    }
    /// ISO certificates: whether the accreditation body is an IAF MLA signatory the product
    /// recognizes (null for other kinds).
    async fn accredited(&self) -> Option<bool> {
        self.is_iso().then(|| {
            self.row
                .accreditation_body
                .as_deref()
                .and_then(cdom::accreditation_body)
                .is_some()
        })
    }
    /// ISO certificates not accredited by a recognized body: accepted, but flagged.
    async fn accreditation_warning(&self) -> Option<String> {
        if !self.is_iso() {
            return None;
        }
        match self.row.accreditation_body.as_deref() {
            Some(b) if cdom::accreditation_body(b).is_some() => None,
            Some(b) => Some(format!(
                "{b} is not an IAF MLA signatory for ISMS certification that grc recognizes: \
                 the certificate may not be accredited"
            )),
            None => {
                Some("no accreditation body recorded: the certificate may not be accredited".into())
            }
        }
    }
    async fn certificate_number(&self) -> Option<&str> {
        self.row.certificate_number.as_deref()
    }
    /// ISO certificates: the standard's edition ("2013", "2022"; 27701: "2019", "2025").
    async fn edition(&self) -> Option<&str> {
        self.row.edition.as_deref()
    }
    /// The certification decision, report or assessment date.
    async fn issued_on(&self) -> NaiveDate {
        self.row.issued_on
    }
    /// ISO certificates: the printed expiry.
    async fn expires_on(&self) -> Option<NaiveDate> {
        self.row.expires_on
    }
    /// SOC 2 Type II: the period's first day.
    async fn period_start(&self) -> Option<NaiveDate> {
        self.row.period_start
    }
    /// SOC 2: the period's last day (Type II) or the as-of date (Type I).
    async fn period_end(&self) -> Option<NaiveDate> {
        self.row.period_end
    }
    async fn opinion(&self) -> Result<Option<Soc2Opinion>> {
        self.row.opinion.as_deref().map(Soc2Opinion::of).transpose()
    }
    /// SOC 2: when the bridge (gap) letter was issued.
    async fn bridge_issued_on(&self) -> Option<NaiveDate> {
        self.row.bridge_issued_on
    }
    /// SOC 2: the last day the bridge letter covers.
    async fn bridge_through(&self) -> Option<NaiveDate> {
        self.row.bridge_through
    }
    /// SOC 2: whether the bridge letter reaches past what the policy credits (its coverage is
    /// capped at the policy's months after the period end).
    async fn bridge_capped(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let Some(kind) = self.domain_kind() else {
            return Ok(None);
        };
        let Some(report) = dates_of(&self.row)
            .filter(|_| {
                matches!(
                    kind,
                    cdom::AttestationKind::Soc2Type1 | cdom::AttestationKind::Soc2Type2
                )
            })
            .and_then(|f| f.soc2_report())
        else {
            return Ok(None);
        };
        let policy = self.group.shared.policy(ctx).await?;
        Ok(Some(report.bridge_capped(&policy.attestation)))
    }
    /// HITRUST r2: when the interim assessment was submitted.
    async fn interim_submitted_on(&self) -> Option<NaiveDate> {
        self.row.interim_submitted_on
    }
    /// HITRUST r2: the interim window (the 90 days before the first anniversary, inclusive).
    async fn interim_window(&self) -> Option<InterimWindow> {
        (self.row.kind == AttestationKind::HitrustR2.as_str()).then(|| {
            let (opens, closes) = cdom::hitrust_interim_window(self.row.issued_on);
            InterimWindow { opens, closes }
        })
    }
    /// HITRUST r2: whether the interim was submitted inside its window (keeping the 2 years).
    async fn interim_in_window(&self) -> Option<bool> {
        (self.row.kind == AttestationKind::HitrustR2.as_str()).then(|| {
            dates_of(&self.row)
                .and_then(|f| f.hitrust())
                .is_some_and(|h| h.interim_in_window())
        })
    }
    /// HITRUST r2: when a bridge assessment was completed (adds 90 days).
    async fn hitrust_bridge_on(&self) -> Option<NaiveDate> {
        self.row.hitrust_bridge_on
    }
    /// ISO certificates: suspended by the certification body on this date.
    async fn suspended_on(&self) -> Option<NaiveDate> {
        self.row.suspended_on
    }
    /// Withdrawn (ISO) or revoked (HITRUST) on this date.
    async fn withdrawn_on(&self) -> Option<NaiveDate> {
        self.row.withdrawn_on
    }
    /// The attestation's document, kept as evidence.
    async fn document(&self) -> Option<Evidence> {
        self.row
            .document_id
            .and_then(|d| self.docs.get(&d).cloned())
    }
    async fn notes(&self) -> &str {
        &self.row.notes
    }
    /// The validity on `on` (default today), with the tenant's policy.
    async fn status(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<AttestationValidity> {
        let policy = self.group.shared.policy(ctx).await?;
        let state = attestation_state(
            dates_of(&self.row),
            &policy.attestation,
            on.unwrap_or_else(today),
        )
        .map_or(NEVER, |(_, s)| s);
        Ok(validity(state))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

fn validity(s: AttestationState) -> AttestationValidity {
    AttestationValidity {
        status: AttestationStatus::parse(s.status.as_str())
            .unwrap_or(AttestationStatus::Unacceptable),
        valid_until: s.valid_until,
    }
}

// ---------------------------------------------------------------------------------------------
// BAA

/// A party to a BAA.
#[derive(Debug, Clone, SimpleObject, Serialize, Deserialize)]
pub struct BaaParty {
    pub name: String,
    /// E.g. "covered entity", "business associate".
    pub role: String,
}

/// One required term of a BAA and whether this BAA contains it.
#[derive(Debug, Clone, SimpleObject)]
pub struct BaaTermEntry {
    pub key: String,
    /// The paragraph of 45 CFR that requires it.
    pub citation: String,
    pub title: String,
    pub present: bool,
}

/// A required term of a BAA (45 CFR 164.504(e)(2), 164.314(a)(2)(i)).
#[derive(Debug, Clone, SimpleObject)]
pub struct BaaTermInfo {
    /// Stable key, used in `terms` inputs.
    pub key: String,
    pub citation: String,
    pub title: String,
}

/// A business associate agreement with a vendor (45 CFR 164.308(b), 164.504(e), 164.314(a)).
#[derive(Debug, Clone)]
pub struct Baa {
    pub(crate) row: baa::Model,
    group: Arc<Group>,
    docs: Arc<Docs>,
}

impl Baa {
    pub(crate) fn new(row: baa::Model, group: Arc<Group>, docs: Arc<Docs>) -> Self {
        Self { row, group, docs }
    }

    fn domain(&self) -> vdom::Baa {
        domain_baa(
            self.row.effective_on,
            self.row.ends_on,
            self.row.terminated_on,
            &self.row.terms,
        )
    }
}

#[Object]
impl Baa {
    pub async fn id(&self) -> ID {
        encode(Kind::Baa, self.row.id)
    }
    async fn vendor(&self) -> Option<Vendor> {
        self.group.vendor(self.row.vendor_id)
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn parties(&self) -> Vec<BaaParty> {
        serde_json::from_str(&self.row.parties).unwrap_or_default()
    }
    async fn effective_on(&self) -> NaiveDate {
        self.row.effective_on
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.row.ends_on
    }
    async fn review_on(&self) -> Option<NaiveDate> {
        self.row.review_on
    }
    /// Terminated on this date (no longer in force from it).
    async fn terminated_on(&self) -> Option<NaiveDate> {
        self.row.terminated_on
    }
    /// The breach-notification window the business associate agreed to (at most 60 days,
    /// 164.410(b)).
    async fn breach_notice_days(&self) -> i32 {
        self.row.breach_notice_days
    }
    /// Whether subcontractors must agree to the same restrictions (164.502(e)(1)(ii)).
    async fn subcontractor_flow_down(&self) -> bool {
        self.row.subcontractor_flow_down
    }
    /// Every required term, marked present or missing.
    async fn terms(&self) -> Vec<BaaTermEntry> {
        let t = terms_of(&self.row.terms);
        vdom::BAA_TERMS
            .iter()
            .map(|x| BaaTermEntry {
                key: x.key.into(),
                citation: x.citation.into(),
                title: x.title.into(),
                present: t.get(x.key).copied().unwrap_or(false),
            })
            .collect()
    }
    /// The keys of the required terms not marked present.
    async fn missing_terms(&self) -> Vec<String> {
        self.domain()
            .missing_terms()
            .iter()
            .map(|t| t.key.to_owned())
            .collect()
    }
    /// In force on `on` (default today): effective, not ended, not terminated.
    async fn in_effect(&self, on: Option<NaiveDate>) -> bool {
        self.domain().in_effect(on.unwrap_or_else(today))
    }
    /// The last day it is in force, if bounded.
    async fn last_day(&self) -> Option<NaiveDate> {
        self.domain().last_day()
    }
    async fn document(&self) -> Option<Evidence> {
        self.row
            .document_id
            .and_then(|d| self.docs.get(&d).cloned())
    }
    async fn notes(&self) -> &str {
        &self.row.notes
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Objects for attestations or BAAs of any vendors: their vendors and documents in one query
/// each.
async fn context_of(
    tx: &TenantTx,
    az: &Authorized,
    vendor_ids: impl Iterator<Item = Uuid>,
    doc_ids: impl Iterator<Item = Uuid>,
) -> Result<(Arc<Group>, Arc<Docs>), StoreError> {
    let mut v: Vec<Uuid> = vendor_ids.collect::<HashSet<_>>().into_iter().collect();
    v.sort_unstable();
    let d: Vec<Uuid> = doc_ids.collect::<HashSet<_>>().into_iter().collect();
    let rows = tx.vendors_by_ids(&v).await?;
    let docs = load_docs(tx, &d).await?;
    Ok((
        Group::new(Shared::new(az.scope, None), rows),
        Arc::new(docs),
    ))
}

/// Resolves an `Attestation` or `Baa` node in the current tenant (`ReadVendors` authorized).
pub(crate) async fn resolve_node(
    ctx: &Context<'_>,
    az: &Authorized,
    kind: Kind,
    id: Uuid,
) -> Result<Option<super::types::Node>> {
    use super::types::Node;
    let tx = store(ctx)
        .tenant_tx(az.scope)
        .await
        .map_err(StoreErrorExt)?;
    let node = async {
        Ok::<_, StoreError>(match kind {
            Kind::Attestation => match tx.attestation(id).await? {
                Some(row) => {
                    let (group, docs) = context_of(
                        &tx,
                        az,
                        [row.vendor_id].into_iter(),
                        row.document_id.into_iter(),
                    )
                    .await?;
                    Some(Node::Attestation(Attestation::new(row, group, docs)))
                }
                None => None,
            },
            Kind::Baa => match tx.baa(id).await? {
                Some(row) => {
                    let (group, docs) = context_of(
                        &tx,
                        az,
                        [row.vendor_id].into_iter(),
                        row.document_id.into_iter(),
                    )
                    .await?;
                    Some(Node::Baa(Baa::new(row, group, docs)))
                }
                None => None,
            },
            _ => None,
        })
    }
    .await
    .map_err(StoreErrorExt)?;
    tx.commit().await.map_err(StoreErrorExt)?;
    Ok(node)
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Default)]
pub struct AttestationsQuery;

#[Object]
impl AttestationsQuery {
    /// Attestations, oldest first. `status` (on `on`, default today) and `expiringBefore`
    /// (valid until a day before that date) are computed with the tenant's policy.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn attestations(
        &self,
        ctx: &Context<'_>,
        vendor_id: Option<ID>,
        kind: Option<AttestationKind>,
        status: Option<AttestationStatus>,
        on: Option<NaiveDate>,
        expiring_before: Option<NaiveDate>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Attestation, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadVendors)?;
        let vendor = filter_id(vendor_id.as_ref(), Kind::Vendor, "vendorId")?;
        let req = page_args(first, after, last, before)?;
        let filter = AttestationFilter {
            vendor_id: vendor,
            kind: kind.map(|k| k.as_str().to_owned()),
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let load = async {
            if status.is_none() && expiring_before.is_none() {
                let (page, total) = tx
                    .attestations_page(&filter, &req, wants_total(ctx))
                    .await?;
                let (group, docs) = context_of(
                    &tx,
                    &az,
                    page.items.iter().map(|a| a.vendor_id),
                    page.items.iter().filter_map(|a| a.document_id),
                )
                .await?;
                return Ok::<_, StoreError>((page, total, group, docs));
            }
            let rows = match vendor {
                Some(v) => tx.attestations_of(&[v]).await?,
                None => tx.attestations_all().await?,
            };
            let policy = super::vendors::Policy::of(tx.vendor_policy().await?.as_ref());
            let on = on.unwrap_or_else(today);
            let mut rows: Vec<attestation::Model> = rows
                .into_iter()
                .filter(|a| filter.kind.as_ref().is_none_or(|k| &a.kind == k))
                .filter(|a| {
                    let s = attestation_state(dates_of(a), &policy.attestation, on)
                        .map_or(NEVER, |(_, s)| s);
                    status.is_none_or(|st| st.as_str() == s.status.as_str())
                        && expiring_before.is_none_or(|d| s.valid_until.is_some_and(|u| u < d))
                })
                .collect();
            rows.sort_by_key(|a| a.id);
            let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
            let page = page_in_memory(rows, |a| a.id, &req);
            let (group, docs) = context_of(
                &tx,
                &az,
                page.items.iter().map(|a| a.vendor_id),
                page.items.iter().filter_map(|a| a.document_id),
            )
            .await?;
            Ok((page, total, group, docs))
        };
        let (page, total, group, docs) = load.await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(build(
            page.map(|row| Attestation::new(row, group.clone(), docs.clone())),
            total,
            |a| a.row.id.to_string(),
        ))
    }

    /// Business associate agreements, oldest first; `inEffectOn` keeps those in force on that
    /// date.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn baas(
        &self,
        ctx: &Context<'_>,
        vendor_id: Option<ID>,
        in_effect_on: Option<NaiveDate>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Baa, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadVendors)?;
        let vendor = filter_id(vendor_id.as_ref(), Kind::Vendor, "vendorId")?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let load = async {
            let (page, total) = match in_effect_on {
                None => {
                    tx.baas_page(&BaaFilter { vendor_id: vendor }, &req, wants_total(ctx))
                        .await?
                }
                Some(on) => {
                    let rows = match vendor {
                        Some(v) => tx.baas_of(&[v]).await?,
                        None => tx.baas_all().await?,
                    };
                    let mut rows: Vec<baa::Model> = rows
                        .into_iter()
                        .filter(|b| {
                            domain_baa(b.effective_on, b.ends_on, b.terminated_on, &b.terms)
                                .in_effect(on)
                        })
                        .collect();
                    rows.sort_by_key(|b| b.id);
                    let total = u64::try_from(rows.len()).unwrap_or(u64::MAX);
                    (page_in_memory(rows, |b| b.id, &req), total)
                }
            };
            let (group, docs) = context_of(
                &tx,
                &az,
                page.items.iter().map(|b| b.vendor_id),
                page.items.iter().filter_map(|b| b.document_id),
            )
            .await?;
            Ok::<_, StoreError>((page, total, group, docs))
        };
        let (page, total, group, docs) = load.await.map_err(StoreErrorExt)?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(build(
            page.map(|row| Baa::new(row, group.clone(), docs.clone())),
            total,
            |b| b.row.id.to_string(),
        ))
    }

    /// The terms every BAA must contain (45 CFR 164.504(e)(2), 164.314(a)(2)(i)).
    async fn baa_terms(&self) -> Vec<BaaTermInfo> {
        vdom::BAA_TERMS
            .iter()
            .map(|t| BaaTermInfo {
                key: t.key.into(),
                citation: t.citation.into(),
                title: t.title.into(),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations: inputs and payloads

#[derive(Debug, InputObject)]
pub struct CreateAttestationInput {
    pub vendor_id: ID,
    pub kind: AttestationKind,
    pub title: String,
    /// The certification body, auditor, assessor or tester.
    pub issuer: Option<String>,
    /// ISO only: the accreditation body's code (unrecognized ones are accepted, flagged).
    pub accreditation_body: Option<String>,
    pub certificate_number: Option<String>,
    /// ISO only, required: "2013" or "2022" (27001), "2019" or "2025" (27701).
    pub edition: Option<String>,
    /// The certification decision (ISO, HITRUST), report (SOC 2, pen test) or completion
    /// (questionnaire) date.
    pub issued_on: NaiveDate,
    /// ISO only, required: at most 3 years after `issuedOn` (ISO/IEC 17021-1 9.1.3.2).
    pub expires_on: Option<NaiveDate>,
    /// SOC 2 Type II only, required.
    pub period_start: Option<NaiveDate>,
    /// SOC 2, required: the period's last day (Type II) or the as-of date (Type I).
    pub period_end: Option<NaiveDate>,
    /// SOC 2 only.
    pub opinion: Option<Soc2Opinion>,
    /// SOC 2 only, with `bridgeThrough`.
    pub bridge_issued_on: Option<NaiveDate>,
    /// SOC 2 only: after the period end.
    pub bridge_through: Option<NaiveDate>,
    /// HITRUST r2 only.
    pub interim_submitted_on: Option<NaiveDate>,
    /// HITRUST r2 only: by the 2-year expiry.
    pub hitrust_bridge_on: Option<NaiveDate>,
    /// ISO only.
    pub suspended_on: Option<NaiveDate>,
    /// ISO (withdrawal) and HITRUST (revocation) only.
    pub withdrawn_on: Option<NaiveDate>,
    /// An `Evidence` id of the tenant.
    pub document_id: Option<ID>,
    pub notes: Option<String>,
}

/// Changes to an attestation: absent fields keep their value, null clears an optional one.
#[derive(Debug, InputObject)]
pub struct UpdateAttestationInput {
    pub id: ID,
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub accreditation_body: MaybeUndefined<String>,
    pub certificate_number: MaybeUndefined<String>,
    pub edition: MaybeUndefined<String>,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: MaybeUndefined<NaiveDate>,
    pub period_start: MaybeUndefined<NaiveDate>,
    pub period_end: MaybeUndefined<NaiveDate>,
    pub opinion: MaybeUndefined<Soc2Opinion>,
    pub bridge_issued_on: MaybeUndefined<NaiveDate>,
    pub bridge_through: MaybeUndefined<NaiveDate>,
    pub interim_submitted_on: MaybeUndefined<NaiveDate>,
    pub hitrust_bridge_on: MaybeUndefined<NaiveDate>,
    pub suspended_on: MaybeUndefined<NaiveDate>,
    pub withdrawn_on: MaybeUndefined<NaiveDate>,
    pub document_id: MaybeUndefined<ID>,
    pub notes: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct DeleteAttestationInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct AttestationPayload {
    pub attestation: Option<Attestation>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteAttestationPayload {
    pub deleted_attestation_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

/// A party to a BAA, as given.
#[derive(Debug, InputObject)]
pub struct BaaPartyInput {
    pub name: String,
    pub role: String,
}

/// A required term marked present or missing.
#[derive(Debug, InputObject)]
pub struct BaaTermInput {
    /// A key of `baaTerms`.
    pub key: String,
    pub present: bool,
}

#[derive(Debug, InputObject)]
pub struct CreateBaaInput {
    pub vendor_id: ID,
    pub title: String,
    #[graphql(default)]
    pub parties: Vec<BaaPartyInput>,
    pub effective_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub review_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    /// 1 to 60 days (164.410(b)).
    pub breach_notice_days: i32,
    #[graphql(default)]
    pub subcontractor_flow_down: bool,
    /// Terms not listed are missing.
    #[graphql(default)]
    pub terms: Vec<BaaTermInput>,
    /// An `Evidence` id of the tenant.
    pub document_id: Option<ID>,
    pub notes: Option<String>,
}

/// Changes to a BAA: absent fields keep their value, null clears an optional one.
#[derive(Debug, InputObject)]
pub struct UpdateBaaInput {
    pub id: ID,
    pub title: Option<String>,
    pub parties: Option<Vec<BaaPartyInput>>,
    pub effective_on: Option<NaiveDate>,
    pub ends_on: MaybeUndefined<NaiveDate>,
    pub review_on: MaybeUndefined<NaiveDate>,
    pub terminated_on: MaybeUndefined<NaiveDate>,
    pub breach_notice_days: Option<i32>,
    pub subcontractor_flow_down: Option<bool>,
    /// Terms given are set; the others keep their mark.
    #[graphql(default)]
    pub terms: Vec<BaaTermInput>,
    pub document_id: MaybeUndefined<ID>,
    pub notes: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct DeleteBaaInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct BaaPayload {
    pub baa: Option<Baa>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteBaaPayload {
    pub deleted_baa_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

// ---------------------------------------------------------------------------------------------
// Mutations: rules

fn apply<T: Clone>(slot: &mut Option<T>, v: &MaybeUndefined<T>) {
    match v {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *slot = None,
        MaybeUndefined::Value(x) => *slot = Some(x.clone()),
    }
}

fn refuse<T>(present: bool, v: &Option<T>, field: &str, kind: &str) -> Result<(), MutationError> {
    if !present && v.is_some() {
        return Err(invalid(
            field,
            format!("{field} does not apply to a {kind} attestation"),
        ));
    }
    Ok(())
}

/// The rules of an attestation row as it would be written (see the module doc).
fn check_attestation(a: &attestation::Model) -> Result<(), MutationError> {
    use cdom::AttestationKind as K;
    let kind = K::parse(&a.kind).ok_or_else(|| invalid("kind", "unknown kind"))?;
    for (field, d) in [
        ("issuedOn", Some(a.issued_on)),
        ("expiresOn", a.expires_on),
        ("periodStart", a.period_start),
        ("periodEnd", a.period_end),
        ("bridgeIssuedOn", a.bridge_issued_on),
        ("bridgeThrough", a.bridge_through),
        ("interimSubmittedOn", a.interim_submitted_on),
        ("hitrustBridgeOn", a.hitrust_bridge_on),
        ("suspendedOn", a.suspended_on),
        ("withdrawnOn", a.withdrawn_on),
    ] {
        if let Some(d) = d {
            checked_date(field, d)?;
        }
    }
    let iso = standard_of(kind);
    let soc2 = matches!(kind, K::Soc2Type1 | K::Soc2Type2);
    let name = kind.as_str();
    // What the domain's record does not carry: who accredited an ISO certification body, and
    // when a bridge letter was issued.
    refuse(
        iso.is_some(),
        &a.accreditation_body,
        "accreditationBody",
        name,
    )?;
    refuse(soc2, &a.bridge_issued_on, "bridgeIssuedOn", name)?;
    // An ISO attestation names its edition (the 2013 transition depends on it).
    if let Some(standard) = iso
        && a.edition.is_none()
    {
        return Err(invalid(
            "edition",
            format!(
                "the edition of {standard}: {}",
                if standard == Standard::Iso27001 {
                    "2013 or 2022"
                } else {
                    "2019 or 2025"
                }
            ),
        ));
    }
    // Every rule of the kind, in the domain (AttestationFacts::validate).
    let facts = dates_of(a).ok_or_else(|| invalid("edition", "not a known edition"))?;
    facts.validate()?;
    if soc2 {
        match (a.bridge_issued_on, a.bridge_through, a.period_end) {
            (None, None, _) => {}
            (Some(i), Some(_), Some(end)) => {
                if i < end {
                    return Err(invalid(
                        "bridgeIssuedOn",
                        "a bridge letter is issued after the report's period",
                    ));
                }
            }
            _ => {
                return Err(invalid(
                    "bridgeThrough",
                    "a bridge letter has its issue date and the last day it covers",
                ));
            }
        }
    }
    Ok(())
}

/// The document named by an `Evidence` id of the tenant.
async fn document_of(tx: &TenantTx, id: Option<&ID>) -> Result<Option<Uuid>, MutationError> {
    let Some(id) = id else { return Ok(None) };
    let e = decode_kind(id, Kind::Evidence).ok_or_else(|| not_found("evidence", "documentId"))?;
    if tx.evidence(e).await?.is_none() {
        return Err(not_found("evidence", "documentId"));
    }
    Ok(Some(e))
}

async fn attestation_of(tx: &TenantTx, id: &ID) -> Result<attestation::Model, MutationError> {
    let id = decode_kind(id, Kind::Attestation).ok_or_else(|| not_found("attestation", "id"))?;
    tx.attestation(id)
        .await?
        .ok_or_else(|| not_found("attestation", "id"))
}

async fn baa_of(tx: &TenantTx, id: &ID) -> Result<baa::Model, MutationError> {
    let id = decode_kind(id, Kind::Baa).ok_or_else(|| not_found("BAA", "id"))?;
    tx.baa(id).await?.ok_or_else(|| not_found("BAA", "id"))
}

/// The vendor an attestation or BAA belongs to, which the caller must be allowed to change.
async fn owning_vendor(
    tx: &TenantTx,
    az: &Authorized,
    id: Uuid,
) -> Result<vendor::Model, MutationError> {
    let v = tx
        .vendor(id)
        .await?
        .ok_or_else(|| not_found("vendor", "vendorId"))?;
    require_edit(az, v.owner_id)?;
    Ok(v)
}

fn attestation_change(a: &attestation::Model) -> serde_json::Value {
    json!({
        "vendor": a.vendor_id, "kind": a.kind, "title": a.title, "issuer": a.issuer,
        "issuedOn": a.issued_on, "expiresOn": a.expires_on, "periodStart": a.period_start,
        "periodEnd": a.period_end, "bridgeThrough": a.bridge_through,
        "interimSubmittedOn": a.interim_submitted_on, "suspendedOn": a.suspended_on,
        "withdrawnOn": a.withdrawn_on, "document": a.document_id,
    })
}

fn party_list(parties: &[BaaPartyInput]) -> Result<String, MutationError> {
    if parties.len() > MAX_PARTIES {
        return Err(invalid("parties", format!("at most {MAX_PARTIES} parties")));
    }
    let list = parties
        .iter()
        .map(|p| {
            Ok(BaaParty {
                name: checked_text("parties.name", &p.name, 300)?,
                role: checked_text("parties.role", &p.role, 200)?,
            })
        })
        .collect::<Result<Vec<_>, MutationError>>()?;
    Ok(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

/// Marks terms present or missing: every key must be one of [`vdom::BAA_TERMS`].
fn apply_terms(
    current: &mut BTreeMap<String, bool>,
    terms: &[BaaTermInput],
) -> Result<(), MutationError> {
    for t in terms {
        let Some(term) = vdom::baa_term(t.key.trim()) else {
            return Err(invalid(
                "terms",
                format!("{:?} is not a required BAA term; see baaTerms", t.key),
            ));
        };
        current.insert(term.key.to_owned(), t.present);
    }
    Ok(())
}

/// The rules of a BAA row as it would be written.
fn check_baa(b: &baa::Model) -> Result<(), MutationError> {
    for (field, d) in [
        ("effectiveOn", Some(b.effective_on)),
        ("endsOn", b.ends_on),
        ("reviewOn", b.review_on),
        ("terminatedOn", b.terminated_on),
    ] {
        if let Some(d) = d {
            checked_date(field, d)?;
        }
    }
    vdom::check_breach_notice_days(b.breach_notice_days)?;
    domain_baa(b.effective_on, b.ends_on, b.terminated_on, &b.terms).validate()?;
    if let Some(r) = b.review_on
        && r < b.effective_on
    {
        return Err(invalid("reviewOn", "cannot precede the effective date"));
    }
    Ok(())
}

fn baa_change(b: &baa::Model) -> serde_json::Value {
    json!({
        "vendor": b.vendor_id, "title": b.title, "effectiveOn": b.effective_on,
        "endsOn": b.ends_on, "reviewOn": b.review_on, "terminatedOn": b.terminated_on,
        "breachNoticeDays": b.breach_notice_days,
        "subcontractorFlowDown": b.subcontractor_flow_down,
        "terms": terms_of(&b.terms), "document": b.document_id,
    })
}

async fn attestation_object(
    tx: &TenantTx,
    az: &Authorized,
    v: vendor::Model,
    row: attestation::Model,
) -> Result<Attestation, StoreError> {
    let docs = load_docs(tx, &row.document_id.into_iter().collect::<Vec<_>>()).await?;
    Ok(Attestation::new(
        row,
        Group::new(Shared::new(az.scope, None), [v]),
        Arc::new(docs),
    ))
}

async fn baa_object(
    tx: &TenantTx,
    az: &Authorized,
    v: vendor::Model,
    row: baa::Model,
) -> Result<Baa, StoreError> {
    let docs = load_docs(tx, &row.document_id.into_iter().collect::<Vec<_>>()).await?;
    Ok(Baa::new(
        row,
        Group::new(Shared::new(az.scope, None), [v]),
        Arc::new(docs),
    ))
}

fn opt_text(
    field: &str,
    v: &MaybeUndefined<String>,
    max: usize,
) -> Result<MaybeUndefined<String>, MutationError> {
    Ok(match v {
        MaybeUndefined::Value(s) => MaybeUndefined::Value(checked_text(field, s, max)?),
        MaybeUndefined::Null => MaybeUndefined::Null,
        MaybeUndefined::Undefined => MaybeUndefined::Undefined,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct AttestationsMutation;

#[Object]
impl AttestationsMutation {
    /// Records a vendor's attestation; the per-kind rules are checked before anything is
    /// stored.
    async fn create_attestation(
        &self,
        ctx: &Context<'_>,
        input: CreateAttestationInput,
    ) -> Result<AttestationPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (attestation, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let issuer = free_text("issuer", input.issuer.as_deref(), 300)?;
                let accreditation_body = optional_text(
                    "accreditationBody",
                    input.accreditation_body.as_deref(),
                    100,
                )?;
                let certificate_number = optional_text(
                    "certificateNumber",
                    input.certificate_number.as_deref(),
                    100,
                )?;
                let edition = optional_text("edition", input.edition.as_deref(), 10)?;
                let notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let v = vendor_of(&tx, &input.vendor_id, "vendorId").await?;
                require_edit(&az, v.owner_id)?;
                let document_id = document_of(&tx, input.document_id.as_ref()).await?;
                let now = Utc::now();
                let row = attestation::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    vendor_id: v.id,
                    kind: input.kind.as_str().into(),
                    title,
                    issuer,
                    accreditation_body,
                    certificate_number,
                    edition,
                    issued_on: input.issued_on,
                    expires_on: input.expires_on,
                    period_start: input.period_start,
                    period_end: input.period_end,
                    opinion: input.opinion.map(|o| o.as_str().to_owned()),
                    bridge_issued_on: input.bridge_issued_on,
                    bridge_through: input.bridge_through,
                    interim_submitted_on: input.interim_submitted_on,
                    hitrust_bridge_on: input.hitrust_bridge_on,
                    suspended_on: input.suspended_on,
                    withdrawn_on: input.withdrawn_on,
                    document_id,
                    notes,
                    created_at: now,
                    updated_at: now,
                };
                check_attestation(&row)?;
                let row = tx.insert_attestation(row).await?;
                record(
                    &mut tx,
                    &az,
                    "attestation.create",
                    "attestation",
                    row.id,
                    attestation_change(&row),
                )
                .await?;
                let out = attestation_object(&tx, &az, v, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(AttestationPayload {
            attestation,
            user_errors,
        })
    }

    /// Changes an attestation (its kind stays); the whole record is checked again.
    async fn update_attestation(
        &self,
        ctx: &Context<'_>,
        input: UpdateAttestationInput,
    ) -> Result<AttestationPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (attestation, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = attestation_of(&tx, &input.id).await?;
                let v = owning_vendor(&tx, &az, row.vendor_id).await?;
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 300)?;
                }
                if input.issuer.is_some() {
                    row.issuer = free_text("issuer", input.issuer.as_deref(), 300)?;
                }
                if input.notes.is_some() {
                    row.notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                }
                apply(
                    &mut row.accreditation_body,
                    &opt_text("accreditationBody", &input.accreditation_body, 100)?,
                );
                apply(
                    &mut row.certificate_number,
                    &opt_text("certificateNumber", &input.certificate_number, 100)?,
                );
                apply(&mut row.edition, &opt_text("edition", &input.edition, 10)?);
                if let Some(d) = input.issued_on {
                    row.issued_on = d;
                }
                apply(&mut row.expires_on, &input.expires_on);
                apply(&mut row.period_start, &input.period_start);
                apply(&mut row.period_end, &input.period_end);
                let mut opinion = row.opinion.as_deref().and_then(Soc2Opinion::parse);
                apply(&mut opinion, &input.opinion);
                row.opinion = opinion.map(|o| o.as_str().to_owned());
                apply(&mut row.bridge_issued_on, &input.bridge_issued_on);
                apply(&mut row.bridge_through, &input.bridge_through);
                apply(&mut row.interim_submitted_on, &input.interim_submitted_on);
                apply(&mut row.hitrust_bridge_on, &input.hitrust_bridge_on);
                apply(&mut row.suspended_on, &input.suspended_on);
                apply(&mut row.withdrawn_on, &input.withdrawn_on);
                match &input.document_id {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.document_id = None,
                    MaybeUndefined::Value(d) => row.document_id = document_of(&tx, Some(d)).await?,
                }
                check_attestation(&row)?;
                row.updated_at = Utc::now();
                let row = tx.update_attestation(row).await?;
                record(
                    &mut tx,
                    &az,
                    "attestation.update",
                    "attestation",
                    row.id,
                    attestation_change(&row),
                )
                .await?;
                let out = attestation_object(&tx, &az, v, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(AttestationPayload {
            attestation,
            user_errors,
        })
    }

    /// Deletes an attestation recorded by mistake.
    async fn delete_attestation(
        &self,
        ctx: &Context<'_>,
        input: DeleteAttestationInput,
    ) -> Result<DeleteAttestationPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (deleted_attestation_id, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = attestation_of(&tx, &input.id).await?;
                owning_vendor(&tx, &az, row.vendor_id).await?;
                if !tx.delete_attestation(row.id).await? {
                    return Err(not_found("attestation", "id"));
                }
                record(
                    &mut tx,
                    &az,
                    "attestation.delete",
                    "attestation",
                    row.id,
                    attestation_change(&row),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Attestation, row.id))
            }
            .await,
        )?;
        Ok(DeleteAttestationPayload {
            deleted_attestation_id,
            user_errors,
        })
    }

    /// Records a business associate agreement with a vendor.
    async fn create_baa(&self, ctx: &Context<'_>, input: CreateBaaInput) -> Result<BaaPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (baa, user_errors) = settle(
            async {
                let title = checked_text("title", &input.title, 300)?;
                let parties = party_list(&input.parties)?;
                let mut terms = BTreeMap::new();
                apply_terms(&mut terms, &input.terms)?;
                let notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let v = vendor_of(&tx, &input.vendor_id, "vendorId").await?;
                require_edit(&az, v.owner_id)?;
                let document_id = document_of(&tx, input.document_id.as_ref()).await?;
                let now = Utc::now();
                let row = baa::Model {
                    tenant_id: Uuid::nil(),
                    id: Uuid::now_v7(),
                    vendor_id: v.id,
                    title,
                    parties,
                    effective_on: input.effective_on,
                    ends_on: input.ends_on,
                    review_on: input.review_on,
                    terminated_on: input.terminated_on,
                    breach_notice_days: input.breach_notice_days,
                    subcontractor_flow_down: input.subcontractor_flow_down,
                    terms: serde_json::to_string(&terms).unwrap_or_else(|_| "{}".into()),
                    document_id,
                    notes,
                    created_at: now,
                    updated_at: now,
                };
                check_baa(&row)?;
                let row = tx.insert_baa(row).await?;
                record(&mut tx, &az, "baa.create", "baa", row.id, baa_change(&row)).await?;
                let out = baa_object(&tx, &az, v, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(BaaPayload { baa, user_errors })
    }

    /// Changes a BAA: its dates, terms (marked present or missing), parties or document.
    async fn update_baa(&self, ctx: &Context<'_>, input: UpdateBaaInput) -> Result<BaaPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (baa, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let mut row = baa_of(&tx, &input.id).await?;
                let v = owning_vendor(&tx, &az, row.vendor_id).await?;
                if let Some(t) = &input.title {
                    row.title = checked_text("title", t, 300)?;
                }
                if let Some(p) = &input.parties {
                    row.parties = party_list(p)?;
                }
                if input.notes.is_some() {
                    row.notes = free_text("notes", input.notes.as_deref(), TEXT)?;
                }
                let mut terms = terms_of(&row.terms);
                apply_terms(&mut terms, &input.terms)?;
                row.terms = serde_json::to_string(&terms).unwrap_or_else(|_| "{}".into());
                if let Some(d) = input.effective_on {
                    row.effective_on = d;
                }
                apply(&mut row.ends_on, &input.ends_on);
                apply(&mut row.review_on, &input.review_on);
                apply(&mut row.terminated_on, &input.terminated_on);
                if let Some(n) = input.breach_notice_days {
                    row.breach_notice_days = n;
                }
                if let Some(f) = input.subcontractor_flow_down {
                    row.subcontractor_flow_down = f;
                }
                match &input.document_id {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => row.document_id = None,
                    MaybeUndefined::Value(d) => row.document_id = document_of(&tx, Some(d)).await?,
                }
                check_baa(&row)?;
                row.updated_at = Utc::now();
                let row = tx.update_baa(row).await?;
                record(&mut tx, &az, "baa.update", "baa", row.id, baa_change(&row)).await?;
                let out = baa_object(&tx, &az, v, row).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(BaaPayload { baa, user_errors })
    }

    /// Deletes a BAA recorded by mistake.
    async fn delete_baa(
        &self,
        ctx: &Context<'_>,
        input: DeleteBaaInput,
    ) -> Result<DeleteBaaPayload> {
        let az = authorize(ctx, Operation::ManageVendors)?;
        let (deleted_baa_id, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let row = baa_of(&tx, &input.id).await?;
                owning_vendor(&tx, &az, row.vendor_id).await?;
                if !tx.delete_baa(row.id).await? {
                    return Err(not_found("BAA", "id"));
                }
                record(&mut tx, &az, "baa.delete", "baa", row.id, baa_change(&row)).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(encode(Kind::Baa, row.id))
            }
            .await,
        )?;
        Ok(DeleteBaaPayload {
            deleted_baa_id,
            user_errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn unknown_term_keys_are_refused() {
        let mut t = BTreeMap::new();
        assert!(
            apply_terms(
                &mut t,
                &[BaaTermInput {
                    key: "safeguards".into(),
                    present: true
                }]
            )
            .is_ok()
        );
        assert!(
            apply_terms(
                &mut t,
                &[BaaTermInput {
                    key: "nope".into(),
                    present: true
                }]
            )
            .is_err()
        );
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn pen_test_valid_for_the_policy_months() {
        let row = dates_of_slim(&AttestationSlim {
            id: Uuid::nil(),
            vendor_id: Uuid::nil(),
            kind: "pen-test".into(),
            issued_on: d("2025-03-31"),
            expires_on: None,
            period_start: None,
            period_end: None,
            opinion: None,
            bridge_through: None,
            interim_submitted_on: None,
            hitrust_bridge_on: None,
            suspended_on: None,
            withdrawn_on: None,
            edition: None,
        });
        let p = AttestationPolicy::default();
        let s = attestation_state(row, &p, d("2026-03-31")).map(|x| x.1);
        assert_eq!(s.map(|s| s.valid_until), Some(Some(d("2026-03-31"))));
        let s = attestation_state(row, &p, d("2026-04-01")).map(|x| x.1.status);
        assert_eq!(s, Some(cdom::AttestationStatus::Expired));
    }
}
