//! Incidents and breach notification (issue 8): the incident register, its timeline and
//! evidence, the breach risk assessment, the affected counts, law-enforcement delays, the
//! notices sent with their clocks (45 CFR 164.404–164.412), and business associates' breach
//! notices between two tenants. The rules are the domain's (`grc_domain::incidents`), checked by
//! the store: a broken one is a `userErrors` entry with its stable code, and nothing is stored.
//!
//! Reading needs `read_isms` (every role); recording and changing incidents `manage_isms`
//! (contributors and above); the breach decision, business associates' notices and deleting an
//! incident are compliance judgements, `configure_isms` (owners and compliance managers).

use super::common::{record, settle, stored_enum};
use super::connection::{ConnectionFields, PageArgs, build, wants_total};
use super::ids::{Kind, decode_kind, encode};
use super::query::page_cost;
use super::{Authorized, authorize, store};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::DomainError;
use grc_domain::authz::Operation;
use grc_domain::incidents as dom;
use grc_store::entity::incidents::{
    ba_breach_notice, breach_assessment, breach_notification, incident, incident_timeline,
    law_enforcement_delay,
};
use grc_store::{
    AuditEntry, IncidentFields, IncidentFilter, NewBaNotice, NewDelay, NewNotification,
    PageRequest, StoreError, TenantScope, TenantTx, TimelineKind,
};
use serde_json::json;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Enums (the domain's stored values)

stored_enum!(
    /// Where an incident stands in its handling.
    IncidentStatus { Triage = "triage", Contained = "contained", Eradicated = "eradicated",
        Recovered = "recovered", Closed = "closed" }
);
stored_enum!(
    /// How severe an incident is.
    IncidentSeverity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
);
stored_enum!(
    /// What a caller adds to an incident's timeline.
    IncidentTimelineInputKind { Note = "note", Action = "action" }
);
stored_enum!(
    /// Whether the PHI was secured (164.402 safe harbour).
    PhiSecurity { Unsecured = "unsecured", Encrypted = "encrypted", Destroyed = "destroyed" }
);
stored_enum!(
    /// The four factors of the risk assessment of 164.402(2).
    BreachRiskFactor { NatureAndExtent = "nature-and-extent",
        UnauthorizedPerson = "unauthorized-person", AcquiredOrViewed = "acquired-or-viewed",
        Mitigation = "mitigation" }
);
stored_enum!(
    /// How far one factor points to a compromise.
    BreachFactorLevel { Low = "low", Medium = "medium", High = "high" }
);
stored_enum!(
    /// The exceptions of 164.402(1).
    BreachException { UnintentionalWorkforceAccess = "unintentional-workforce-access",
        InadvertentAuthorizedDisclosure = "inadvertent-authorized-disclosure",
        UnableToRetain = "unable-to-retain" }
);
stored_enum!(
    /// The breach decision.
    BreachDecisionKind { Breach = "breach", LowProbability = "low-probability",
        Exception = "exception", SecuredPhi = "secured-phi" }
);
stored_enum!(
    /// A law-enforcement statement's form (164.412).
    DelayStatementForm { Written = "written", Oral = "oral" }
);
stored_enum!(
    /// Who a breach notice goes to.
    BreachNoticeRecipient { Individuals = "individuals", Media = "media", Hhs = "hhs",
        CoveredEntity = "covered-entity" }
);
stored_enum!(
    /// How a breach notice was sent.
    BreachNoticeMethod { FirstClassMail = "first-class-mail", Email = "email",
        Telephone = "telephone", SubstituteWebPosting = "substitute-web-posting",
        SubstituteMedia = "substitute-media", SubstituteOther = "substitute-other",
        MediaOutlet = "media-outlet", HhsPortal = "hhs-portal", Platform = "platform",
        Other = "other" }
);
stored_enum!(
    /// How a business associate stands to the covered entity (whose discovery date follows).
    BaRelation { Agent = "agent", IndependentContractor = "independent-contractor" }
);
stored_enum!(
    /// A notification deadline.
    BreachClockKind { Individuals = "individuals", Media = "media", Hhs = "hhs",
        HhsAnnualLog = "hhs-annual-log", CoveredEntity = "covered-entity" }
);
stored_enum!(
    /// Where a clock stands today.
    BreachClockState { Met = "met", Missed = "missed", Due = "due",
        NotRequired = "not-required" }
);
stored_enum!(
    /// Whether a business associate's notice was sent or received by this tenant.
    BaNoticeDirection { Sent = "sent", Received = "received" }
);

/// The domain's value of an API enum (the same stored strings).
fn to_dom<T>(parsed: Option<T>) -> Result<T, MutationError> {
    parsed.ok_or_else(|| MutationError::Top(gql_error(ErrorCode::Internal, "internal error")))
}

fn gql<T>(parsed: Option<T>) -> Result<T> {
    parsed.ok_or_else(|| gql_error(ErrorCode::Internal, "internal error"))
}

fn store_err(e: StoreError) -> async_graphql::Error {
    StoreErrorExt(e).into()
}

/// Today in the tenant's time zone (its reminder settings' zone; UTC without settings): the
/// "today" the rules bound dates by and the clocks are read on.
pub(crate) async fn tenant_today(tx: &TenantTx) -> Result<NaiveDate, StoreError> {
    let settings = tx.reminder_settings().await?;
    let zone = settings.as_ref().map_or("UTC", |s| s.time_zone.as_str());
    Ok(match grc_domain::reminders::parse_time_zone(zone) {
        Ok(tz) => Utc::now().with_timezone(&tz).date_naive(),
        Err(_) => Utc::now().date_naive(),
    })
}

// ---------------------------------------------------------------------------------------------
// Objects

/// An incident in the register.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Incident {
    pub id: ID,
    pub title: String,
    pub description: String,
    pub severity: IncidentSeverity,
    pub status: IncidentStatus,
    pub discovered_at: Option<DateTime<Utc>>,
    /// The discovery date in the tenant's time zone: the clocks count from it.
    pub discovered_on: NaiveDate,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_until: Option<NaiveDate>,
    pub reporter: String,
    pub affected_systems: Vec<String>,
    pub ephi_involved: bool,
    pub lessons_learned: String,
    /// The total of affected individuals, once counted.
    pub affected_total: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub(crate) uuid: Uuid,
    #[graphql(skip)]
    pub(crate) scope: TenantScope,
}

fn incident_object(scope: TenantScope, m: incident::Model) -> Result<Incident> {
    Ok(Incident {
        id: encode(Kind::Incident, m.id),
        severity: gql(IncidentSeverity::parse(&m.severity))?,
        status: gql(IncidentStatus::parse(&m.status))?,
        affected_systems: serde_json::from_str(&m.affected_systems).unwrap_or_default(),
        title: m.title,
        description: m.description,
        discovered_at: m.discovered_at,
        discovered_on: m.discovered_on,
        occurred_from: m.occurred_from,
        occurred_until: m.occurred_until,
        reporter: m.reporter,
        ephi_involved: m.ephi_involved,
        lessons_learned: m.lessons_learned,
        affected_total: m.affected_total,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        closed_at: m.closed_at,
        uuid: m.id,
        scope,
    })
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, SimpleObject)]
pub struct IncidentTimelineEntry {
    pub occurred_at: DateTime<Utc>,
    /// `note`, `action`, or the kind of change recorded (`status`, `assessment`, `counts`,
    /// `delay`, `notification`, `evidence`, `ba-notice`).
    pub kind: String,
    pub body: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
}

fn timeline_object(m: incident_timeline::Model) -> IncidentTimelineEntry {
    IncidentTimelineEntry {
        occurred_at: m.occurred_at,
        kind: m.kind,
        body: m.body,
        actor: m.actor,
        recorded_at: m.recorded_at,
    }
}

/// One factor weighed in a risk assessment.
#[derive(Debug, Clone, SimpleObject)]
pub struct BreachFactor {
    pub factor: BreachRiskFactor,
    pub level: BreachFactorLevel,
    pub rationale: String,
}

/// A breach risk assessment (164.402): the current one, or one superseded.
#[derive(Debug, Clone, SimpleObject)]
pub struct BreachAssessment {
    pub phi_security: PhiSecurity,
    pub factors: Vec<BreachFactor>,
    pub decision: BreachDecisionKind,
    pub exception: Option<BreachException>,
    pub rationale: Option<String>,
    pub decided_on: NaiveDate,
    pub decided_by: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// When a later assessment replaced it; null for the current one.
    pub superseded_at: Option<DateTime<Utc>>,
}

fn assessment_object(m: &breach_assessment::Model) -> Result<BreachAssessment> {
    let a = grc_store::assessment_of(m).map_err(store_err)?;
    let factors = a
        .factors
        .iter()
        .map(|f| {
            Ok(BreachFactor {
                factor: gql(BreachRiskFactor::parse(f.factor.as_str()))?,
                level: gql(BreachFactorLevel::parse(f.level.as_str()))?,
                rationale: f.rationale.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BreachAssessment {
        phi_security: gql(PhiSecurity::parse(&m.phi_security))?,
        factors,
        decision: gql(BreachDecisionKind::parse(&m.decision))?,
        exception: match &m.exception {
            Some(e) => Some(gql(BreachException::parse(e))?),
            None => None,
        },
        rationale: m.rationale.clone(),
        decided_on: m.decided_on,
        decided_by: m.decided_by.clone(),
        recorded_by: m.recorded_by.clone(),
        recorded_at: m.recorded_at,
        superseded_at: m.superseded_at,
    })
}

/// Affected individuals residing in one State or jurisdiction.
#[derive(Debug, Clone, SimpleObject)]
pub struct AffectedCount {
    /// The USPS code (`CA`), or `unknown`.
    pub jurisdiction: String,
    pub individuals: i64,
}

/// The affected individuals: the total and the per-jurisdiction counts.
#[derive(Debug, Clone, SimpleObject)]
pub struct AffectedCounts {
    pub total: i64,
    pub by_jurisdiction: Vec<AffectedCount>,
    /// Individuals counted in the total but in no listed jurisdiction.
    pub unplaced: i64,
}

fn counts_object(c: &dom::AffectedCounts) -> AffectedCounts {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    AffectedCounts {
        total: n(c.total()),
        by_jurisdiction: c
            .by_jurisdiction()
            .iter()
            .map(|(j, v)| AffectedCount {
                jurisdiction: j.as_str().to_owned(),
                individuals: n(*v),
            })
            .collect(),
        unplaced: n(c.unplaced()),
    }
}

/// A law-enforcement statement delaying the notices (164.412).
#[derive(Debug, Clone, SimpleObject)]
pub struct LawEnforcementDelay {
    pub id: ID,
    pub form: DelayStatementForm,
    pub stated_on: NaiveDate,
    /// The last day of the delay, if stated.
    pub ends_on: Option<NaiveDate>,
    pub agency: String,
    pub official: String,
    pub notes: String,
    pub recorded_by: String,
    pub ended_by: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

fn delay_object(m: law_enforcement_delay::Model) -> Result<LawEnforcementDelay> {
    Ok(LawEnforcementDelay {
        id: encode(Kind::LawEnforcementDelay, m.id),
        form: gql(DelayStatementForm::parse(&m.form))?,
        stated_on: m.stated_on,
        ends_on: m.ends_on,
        agency: m.agency,
        official: m.official,
        notes: m.notes,
        recorded_by: m.recorded_by,
        ended_by: m.ended_by,
        ended_at: m.ended_at,
    })
}

/// A breach notice sent.
#[derive(Debug, Clone, SimpleObject)]
pub struct BreachNotification {
    pub recipient: BreachNoticeRecipient,
    pub jurisdiction: Option<String>,
    pub sent_on: NaiveDate,
    pub method: BreachNoticeMethod,
    pub recipient_detail: String,
    pub individuals: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

fn notification_object(m: breach_notification::Model) -> Result<BreachNotification> {
    Ok(BreachNotification {
        recipient: gql(BreachNoticeRecipient::parse(&m.recipient))?,
        jurisdiction: m.jurisdiction,
        sent_on: m.sent_on,
        method: gql(BreachNoticeMethod::parse(&m.method))?,
        recipient_detail: m.recipient_detail,
        individuals: m.individuals,
        recorded_by: m.recorded_by,
        recorded_at: m.recorded_at,
    })
}

/// A notification deadline, read on the tenant's today.
#[derive(Debug, Clone, SimpleObject)]
pub struct BreachClock {
    pub kind: BreachClockKind,
    /// The recipient whose notice meets it.
    pub recipient: BreachNoticeRecipient,
    /// The paragraph of 45 CFR that sets it (`164.404(b)`).
    pub citation: String,
    /// The State of a media clock.
    pub jurisdiction: Option<String>,
    /// Whether the notice is required (a clock not required still shows its deadline).
    pub required: bool,
    pub starts_on: NaiveDate,
    pub days: i32,
    pub base_due_on: NaiveDate,
    /// Days of law-enforcement delay that moved the deadline.
    pub suspended_days: i32,
    pub due_on: NaiveDate,
    pub state: BreachClockState,
    /// The day the notice went out, if it did.
    pub sent_on: Option<NaiveDate>,
    pub days_remaining: Option<i64>,
    pub days_late: Option<i64>,
}

/// A business associate's breach notice (164.410), as sent or received by this tenant.
#[derive(Debug, Clone, SimpleObject)]
pub struct BaBreachNotice {
    pub id: ID,
    pub direction: BaNoticeDirection,
    /// The other tenant: the covered entity of a sent notice, the business associate of a
    /// received one.
    pub peer_tenant_id: ID,
    /// This tenant's incident: the business associate's of a sent notice, the one recorded on
    /// accepting a received notice.
    pub incident_id: Option<ID>,
    /// The business associate's discovery date.
    pub ba_discovered_on: NaiveDate,
    pub notice_on: NaiveDate,
    pub method: BreachNoticeMethod,
    pub summary: String,
    pub affected_total: Option<i64>,
    pub sent_by: String,
    pub created_at: DateTime<Utc>,
    /// On acceptance: `agent-knowledge` or `notice-received`.
    pub discovery_basis: Option<String>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The receiver's vendor record of the business associate (received notices).
    pub vendor_id: Option<ID>,
}

fn notice_object(m: ba_breach_notice::Model) -> Result<BaBreachNotice> {
    Ok(BaBreachNotice {
        id: encode(Kind::BaBreachNotice, m.id),
        direction: gql(BaNoticeDirection::parse(&m.direction))?,
        peer_tenant_id: encode(Kind::Tenant, m.peer_tenant_id),
        incident_id: m.incident_id.map(|i| encode(Kind::Incident, i)),
        ba_discovered_on: m.ba_discovered_on,
        notice_on: m.notice_on,
        method: gql(BreachNoticeMethod::parse(&m.method))?,
        summary: m.summary,
        affected_total: m.affected_total,
        sent_by: m.sent_by,
        created_at: m.created_at,
        discovery_basis: m.discovery_basis,
        accepted_by: m.accepted_by,
        accepted_at: m.accepted_at,
        vendor_id: m.vendor_id.map(|v| encode(Kind::Vendor, v)),
    })
}

#[ComplexObject]
impl Incident {
    /// The timeline, oldest first.
    async fn timeline(&self, ctx: &Context<'_>) -> Result<Vec<IncidentTimelineEntry>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        let rows = tx.incident_timeline(self.uuid).await.map_err(store_err)?;
        Ok(rows.into_iter().map(timeline_object).collect())
    }

    /// The ids of the evidence linked to the incident.
    async fn evidence_ids(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        let rows = tx.incident_evidence(self.uuid).await.map_err(store_err)?;
        Ok(rows
            .into_iter()
            .map(|r| encode(Kind::Evidence, r.evidence_id))
            .collect())
    }

    /// The current breach risk assessment, if one is recorded.
    async fn breach_assessment(&self, ctx: &Context<'_>) -> Result<Option<BreachAssessment>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        match tx.breach_assessment(self.uuid).await.map_err(store_err)? {
            Some(m) => Ok(Some(assessment_object(&m)?)),
            None => Ok(None),
        }
    }

    /// Every assessment recorded, oldest first (the last is the current one).
    async fn breach_assessment_history(&self, ctx: &Context<'_>) -> Result<Vec<BreachAssessment>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        tx.breach_assessment_history(self.uuid)
            .await
            .map_err(store_err)?
            .iter()
            .map(assessment_object)
            .collect()
    }

    /// The affected individuals, once counted.
    async fn affected(&self, ctx: &Context<'_>) -> Result<Option<AffectedCounts>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        Ok(tx
            .affected_counts(self.uuid)
            .await
            .map_err(store_err)?
            .as_ref()
            .map(counts_object))
    }

    /// The law-enforcement delays, oldest first.
    async fn law_enforcement_delays(&self, ctx: &Context<'_>) -> Result<Vec<LawEnforcementDelay>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        tx.law_enforcement_delays(self.uuid)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(delay_object)
            .collect()
    }

    /// The notices sent, by sending date.
    async fn notifications(&self, ctx: &Context<'_>) -> Result<Vec<BreachNotification>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        tx.breach_notifications(self.uuid)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(notification_object)
            .collect()
    }

    /// The covered entity's notification clocks (individuals, HHS, the HHS annual log, media
    /// per State), read on the tenant's today. While no decision is recorded the incident is
    /// presumed a breach. Empty when no ePHI is involved.
    async fn clocks(&self, ctx: &Context<'_>) -> Result<Vec<BreachClock>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        let Some(inc) = tx.incident(self.uuid).await.map_err(store_err)? else {
            return Ok(Vec::new());
        };
        if !inc.ephi_involved {
            return Ok(Vec::new());
        }
        let today = tenant_today(&tx).await.map_err(store_err)?;
        let facts = tx.breach_facts(self.uuid).await.map_err(store_err)?;
        let clocks = facts.clocks().map_err(store_err)?;
        clocks
            .clocks
            .iter()
            .map(|c| {
                let reading = c.reading(dom::sent_on_for(c, &facts.notifications), today);
                Ok(BreachClock {
                    kind: gql(BreachClockKind::parse(c.kind.as_str()))?,
                    recipient: gql(BreachNoticeRecipient::parse(c.kind.recipient().as_str()))?,
                    citation: c.kind.citation().to_owned(),
                    jurisdiction: c.jurisdiction.map(|j| j.as_str().to_owned()),
                    required: c.required,
                    starts_on: c.starts_on,
                    days: i32::try_from(c.days).unwrap_or(i32::MAX),
                    base_due_on: c.base_due_on,
                    suspended_days: i32::try_from(c.suspended_days).unwrap_or(i32::MAX),
                    due_on: c.due_on,
                    state: gql(BreachClockState::parse(reading.state.as_str()))?,
                    sent_on: reading.sent_on,
                    days_remaining: reading.days_remaining,
                    days_late: reading.days_late,
                })
            })
            .collect()
    }

    /// Business associates' notices linked to the incident (sent from it, or accepted into it).
    async fn ba_notices(&self, ctx: &Context<'_>) -> Result<Vec<BaBreachNotice>> {
        let tx = store(ctx).tenant_tx(self.scope).await.map_err(store_err)?;
        tx.ba_notices_of_incident(self.uuid)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(notice_object)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

fn page_args(
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

/// Filters of the incident register.
#[derive(Debug, Default, InputObject)]
pub struct IncidentFilterInput {
    pub status: Option<IncidentStatus>,
    pub severity: Option<IncidentSeverity>,
    pub ephi_involved: Option<bool>,
}

#[derive(Debug, Default)]
pub struct IncidentsQuery;

#[Object]
impl IncidentsQuery {
    /// The incident register, oldest first.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        filter: Option<IncidentFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Incident, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let f = IncidentFilter {
            status: match filter.status {
                Some(s) => Some(gql(dom::IncidentStatus::parse(s.as_str()))?),
                None => None,
            },
            severity: match filter.severity {
                Some(s) => Some(gql(dom::Severity::parse(s.as_str()))?),
                None => None,
            },
            ephi_involved: filter.ephi_involved,
        };
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let (page, total) = tx
            .incidents_page(&f, &req, wants_total(ctx))
            .await
            .map_err(store_err)?;
        let page = grc_store::Page {
            items: page
                .items
                .into_iter()
                .map(|m| incident_object(az.scope, m))
                .collect::<Result<Vec<_>>>()?,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(build(page, total, |i| i.uuid.to_string()))
    }

    /// One incident of the current tenant; null when there is none with this id.
    async fn incident(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Incident>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let Some(uuid) = decode_kind(&id, Kind::Incident) else {
            return Ok(None);
        };
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        match tx.incident(uuid).await.map_err(store_err)? {
            Some(m) => Ok(Some(incident_object(az.scope, m)?)),
            None => Ok(None),
        }
    }

    /// Business associates' breach notices this tenant sent (`received: false`, the default) or
    /// received, oldest first.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn ba_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] received: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, BaBreachNotice, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let req = page_args(first, after, last, before)?;
        let tx = store(ctx).tenant_tx(az.scope).await.map_err(store_err)?;
        let page = tx
            .ba_notices_page(received, &req)
            .await
            .map_err(store_err)?;
        let n = u64::try_from(page.items.len()).unwrap_or(0);
        let page = grc_store::Page {
            items: page
                .items
                .into_iter()
                .map(notice_object)
                .collect::<Result<Vec<_>>>()?,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        Ok(build(page, n, |b| {
            decode_kind(&b.id, Kind::BaBreachNotice)
                .map(|u| u.to_string())
                .unwrap_or_default()
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs and payloads

/// An incident's fields, as created or replaced.
#[derive(Debug, Clone, InputObject)]
pub struct IncidentFieldsInput {
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub severity: IncidentSeverity,
    pub discovered_at: Option<DateTime<Utc>>,
    /// The discovery date in the tenant's time zone; not after today.
    pub discovered_on: NaiveDate,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_until: Option<NaiveDate>,
    pub reporter: String,
    #[graphql(default)]
    pub affected_systems: Vec<String>,
    #[graphql(default)]
    pub ephi_involved: bool,
    #[graphql(default)]
    pub lessons_learned: String,
}

fn fields_of(i: &IncidentFieldsInput) -> Result<IncidentFields, MutationError> {
    Ok(IncidentFields {
        title: i.title.clone(),
        description: i.description.clone(),
        severity: to_dom(dom::Severity::parse(i.severity.as_str()))?,
        discovered_at: i.discovered_at,
        discovered_on: i.discovered_on,
        occurred_from: i.occurred_from,
        occurred_until: i.occurred_until,
        reporter: i.reporter.clone(),
        reporter_id: None,
        owner_id: None,
        affected_systems: i.affected_systems.clone(),
        affected_asset_ids: Vec::new(),
        ephi_involved: i.ephi_involved,
        lessons_learned: i.lessons_learned.clone(),
    })
}

#[derive(Debug, SimpleObject)]
pub struct IncidentPayload {
    pub incident: Option<Incident>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct UpdateIncidentInput {
    pub id: ID,
    pub fields: IncidentFieldsInput,
}

#[derive(Debug, InputObject)]
pub struct TransitionIncidentInput {
    pub id: ID,
    pub status: IncidentStatus,
    pub note: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct AddIncidentTimelineEntryInput {
    pub incident_id: ID,
    pub kind: IncidentTimelineInputKind,
    /// When it happened (default: now).
    pub occurred_at: Option<DateTime<Utc>>,
    pub body: String,
}

#[derive(Debug, InputObject)]
pub struct IncidentEvidenceInput {
    pub incident_id: ID,
    pub evidence_id: ID,
}

#[derive(Debug, InputObject)]
pub struct BreachFactorInput {
    pub factor: BreachRiskFactor,
    pub level: BreachFactorLevel,
    pub rationale: String,
}

#[derive(Debug, InputObject)]
pub struct RecordBreachAssessmentInput {
    pub incident_id: ID,
    pub phi_security: PhiSecurity,
    /// The four factors of 164.402(2), each once (required to find anything but a breach).
    #[graphql(default)]
    pub factors: Vec<BreachFactorInput>,
    pub decision: BreachDecisionKind,
    /// With `EXCEPTION`: which.
    pub exception: Option<BreachException>,
    /// Required for any decision but `BREACH`.
    pub rationale: Option<String>,
    pub decided_on: NaiveDate,
    pub decided_by: String,
}

#[derive(Debug, SimpleObject)]
pub struct BreachAssessmentPayload {
    pub assessment: Option<BreachAssessment>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AffectedCountInput {
    /// A USPS State or territory code (`CA`), or `unknown`.
    pub jurisdiction: String,
    pub individuals: i64,
}

#[derive(Debug, InputObject)]
pub struct SetAffectedCountsInput {
    pub incident_id: ID,
    pub total: i64,
    #[graphql(default)]
    pub by_jurisdiction: Vec<AffectedCountInput>,
}

#[derive(Debug, SimpleObject)]
pub struct AffectedCountsPayload {
    pub affected: Option<AffectedCounts>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct AddLawEnforcementDelayInput {
    pub incident_id: ID,
    pub form: DelayStatementForm,
    pub stated_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub agency: String,
    pub official: String,
    #[graphql(default)]
    pub notes: String,
}

#[derive(Debug, InputObject)]
pub struct EndLawEnforcementDelayInput {
    pub id: ID,
    pub ends_on: NaiveDate,
}

#[derive(Debug, SimpleObject)]
pub struct LawEnforcementDelayPayload {
    pub delay: Option<LawEnforcementDelay>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct RecordBreachNotificationInput {
    pub incident_id: ID,
    pub recipient: BreachNoticeRecipient,
    /// The State of a media notice.
    pub jurisdiction: Option<String>,
    pub sent_on: NaiveDate,
    pub method: BreachNoticeMethod,
    #[graphql(default)]
    pub recipient_detail: String,
    pub individuals: Option<i64>,
}

#[derive(Debug, SimpleObject)]
pub struct BreachNotificationPayload {
    pub notification: Option<BreachNotification>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct SendBaBreachNoticeInput {
    /// This tenant's (the business associate's) incident.
    pub incident_id: ID,
    /// The covered entity: a tenant connected to this one as its customer.
    pub covered_entity_tenant_id: ID,
    pub notice_on: NaiveDate,
    pub method: BreachNoticeMethod,
    pub summary: String,
    pub affected_total: Option<i64>,
}

#[derive(Debug, InputObject)]
pub struct AcceptBaBreachNoticeInput {
    /// A notice this tenant received.
    pub id: ID,
    pub relation: BaRelation,
    /// The incident to record (its discovery date and ePHI flag are set from the notice).
    pub fields: IncidentFieldsInput,
}

#[derive(Debug, SimpleObject)]
pub struct BaBreachNoticePayload {
    pub notice: Option<BaBreachNotice>,
    /// The incident recorded on accepting.
    pub incident: Option<Incident>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, InputObject)]
pub struct DeleteIncidentInput {
    pub id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct DeleteIncidentPayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, SimpleObject)]
pub struct IncidentEvidencePayload {
    pub incident: Option<Incident>,
    /// Whether the link was added or removed (false: it already was, or was not, there).
    pub changed: bool,
    pub user_errors: Vec<UserError>,
}

fn not_found(what: &'static str, field: &str) -> MutationError {
    DomainError::not_found(what, field).into()
}

/// The incident `id` of the current tenant, or not found at `field`.
fn incident_id(id: &ID, field: &str) -> Result<Uuid, MutationError> {
    decode_kind(id, Kind::Incident).ok_or_else(|| not_found("incident", field))
}

/// A store error whose not-found means `what` at `field`.
fn missing(what: &'static str, field: &'static str) -> impl Fn(StoreError) -> MutationError {
    move |e| match e {
        StoreError::NotFound => not_found(what, field),
        StoreError::Conflict(m) => DomainError::conflict(field, m).into(),
        other => other.into(),
    }
}

fn actor(az: &Authorized) -> String {
    az.actor.to_stored()
}

async fn reload(tx: &TenantTx, az: &Authorized, id: Uuid) -> Result<Incident, MutationError> {
    let m = tx
        .incident(id)
        .await?
        .ok_or_else(|| not_found("incident", "incidentId"))?;
    Ok(incident_object(az.scope, m)?)
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Default)]
pub struct IncidentsMutation;

#[Object]
impl IncidentsMutation {
    /// Records a new incident, in triage.
    async fn create_incident(
        &self,
        ctx: &Context<'_>,
        input: IncidentFieldsInput,
    ) -> Result<IncidentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (incident, user_errors) = settle(
            async {
                let f = fields_of(&input)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx.create_incident(&f, &actor(&az), today).await?;
                record(
                    &mut tx,
                    &az,
                    "incident.create",
                    "incident",
                    m.id,
                    json!({ "title": m.title, "severity": m.severity,
                        "discoveredOn": m.discovered_on, "ephiInvolved": m.ephi_involved }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(incident_object(az.scope, m)?)
            }
            .await,
        )?;
        Ok(IncidentPayload {
            incident,
            user_errors,
        })
    }

    /// Replaces an incident's fields (the status changes only through `transitionIncident`).
    async fn update_incident(
        &self,
        ctx: &Context<'_>,
        input: UpdateIncidentInput,
    ) -> Result<IncidentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (incident, user_errors) = settle(
            async {
                let id = incident_id(&input.id, "id")?;
                let f = fields_of(&input.fields)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx
                    .update_incident(id, &f, today)
                    .await
                    .map_err(missing("incident", "id"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.update",
                    "incident",
                    m.id,
                    json!({ "title": m.title, "severity": m.severity,
                        "discoveredOn": m.discovered_on, "ephiInvolved": m.ephi_involved }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(incident_object(az.scope, m)?)
            }
            .await,
        )?;
        Ok(IncidentPayload {
            incident,
            user_errors,
        })
    }

    /// Moves an incident forward (steps may be skipped) or reopens a closed one. Closing an
    /// ePHI incident needs a breach decision.
    async fn transition_incident(
        &self,
        ctx: &Context<'_>,
        input: TransitionIncidentInput,
    ) -> Result<IncidentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (incident, user_errors) = settle(
            async {
                let id = incident_id(&input.id, "id")?;
                let to = to_dom(dom::IncidentStatus::parse(input.status.as_str()))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let (m, kind) = tx
                    .transition_incident(id, to, input.note.as_deref(), &actor(&az))
                    .await
                    .map_err(missing("incident", "id"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.transition",
                    "incident",
                    m.id,
                    json!({ "status": m.status, "kind": kind.as_str() }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(incident_object(az.scope, m)?)
            }
            .await,
        )?;
        Ok(IncidentPayload {
            incident,
            user_errors,
        })
    }

    /// Adds a note or an action to an incident's timeline.
    async fn add_incident_timeline_entry(
        &self,
        ctx: &Context<'_>,
        input: AddIncidentTimelineEntryInput,
    ) -> Result<IncidentPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (incident, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let kind = match input.kind {
                    IncidentTimelineInputKind::Note => TimelineKind::Note,
                    IncidentTimelineInputKind::Action => TimelineKind::Action,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let e = tx
                    .append_incident_timeline(
                        id,
                        kind,
                        input.occurred_at.unwrap_or_else(Utc::now),
                        &input.body,
                        &actor(&az),
                    )
                    .await
                    .map_err(missing("incident", "incidentId"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.timeline",
                    "incident",
                    id,
                    json!({ "entry": e.id, "kind": e.kind }),
                )
                .await?;
                let inc = reload(&tx, &az, id).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(inc)
            }
            .await,
        )?;
        Ok(IncidentPayload {
            incident,
            user_errors,
        })
    }

    /// Links evidence of the current tenant to an incident (linking twice changes nothing).
    async fn link_incident_evidence(
        &self,
        ctx: &Context<'_>,
        input: IncidentEvidenceInput,
    ) -> Result<IncidentEvidencePayload> {
        evidence_link(ctx, input, true).await
    }

    /// Removes an evidence link.
    async fn unlink_incident_evidence(
        &self,
        ctx: &Context<'_>,
        input: IncidentEvidenceInput,
    ) -> Result<IncidentEvidencePayload> {
        evidence_link(ctx, input, false).await
    }

    /// Records the breach risk assessment (164.402); it supersedes the current one.
    async fn record_breach_assessment(
        &self,
        ctx: &Context<'_>,
        input: RecordBreachAssessmentInput,
    ) -> Result<BreachAssessmentPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (assessment, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let rationale = input.rationale.clone().unwrap_or_default();
                let decision = match input.decision {
                    BreachDecisionKind::Breach => dom::BreachDecision::Breach,
                    BreachDecisionKind::LowProbability => {
                        dom::BreachDecision::LowProbability { rationale }
                    }
                    BreachDecisionKind::SecuredPhi => dom::BreachDecision::SecuredPhi { rationale },
                    BreachDecisionKind::Exception => {
                        let Some(e) = input.exception else {
                            return Err(DomainError::invalid(
                                "exception",
                                "an EXCEPTION decision names its exception",
                            )
                            .into());
                        };
                        dom::BreachDecision::Exception {
                            exception: to_dom(dom::BreachException::parse(e.as_str()))?,
                            rationale,
                        }
                    }
                };
                let factors = input
                    .factors
                    .iter()
                    .map(|f| {
                        Ok(dom::FactorAssessment {
                            factor: to_dom(dom::RiskFactor::parse(f.factor.as_str()))?,
                            level: to_dom(dom::FactorLevel::parse(f.level.as_str()))?,
                            rationale: f.rationale.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, MutationError>>()?;
                let a = dom::BreachAssessment {
                    phi_security: to_dom(dom::PhiSecurity::parse(input.phi_security.as_str()))?,
                    factors,
                    decision,
                    decided_on: input.decided_on,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx
                    .put_breach_assessment(id, &a, &input.decided_by, None, &actor(&az), today)
                    .await
                    .map_err(missing("incident", "incidentId"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.assess",
                    "incident",
                    id,
                    json!({ "assessment": m.id, "decision": m.decision,
                        "decidedOn": m.decided_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(assessment_object(&m)?)
            }
            .await,
        )?;
        Ok(BreachAssessmentPayload {
            assessment,
            user_errors,
        })
    }

    /// Sets the affected individuals: the total and the per-jurisdiction counts (replacing the
    /// earlier ones). The total may not be below the per-State sum.
    async fn set_affected_counts(
        &self,
        ctx: &Context<'_>,
        input: SetAffectedCountsInput,
    ) -> Result<AffectedCountsPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (affected, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let rows: Vec<(String, i64)> = input
                    .by_jurisdiction
                    .iter()
                    .map(|c| (c.jurisdiction.clone(), c.individuals))
                    .collect();
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let c = tx
                    .set_affected_counts(id, input.total, &rows, &actor(&az))
                    .await
                    .map_err(missing("incident", "incidentId"))?;
                let out = counts_object(&c);
                record(
                    &mut tx,
                    &az,
                    "incident.counts",
                    "incident",
                    id,
                    json!({ "total": out.total, "byJurisdiction": rows }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(out)
            }
            .await,
        )?;
        Ok(AffectedCountsPayload {
            affected,
            user_errors,
        })
    }

    /// Records a law-enforcement statement delaying the notices (164.412).
    async fn add_law_enforcement_delay(
        &self,
        ctx: &Context<'_>,
        input: AddLawEnforcementDelayInput,
    ) -> Result<LawEnforcementDelayPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (delay, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let d = NewDelay {
                    delay: dom::LawEnforcementDelay {
                        form: to_dom(dom::StatementForm::parse(input.form.as_str()))?,
                        stated_on: input.stated_on,
                        ends_on: input.ends_on,
                    },
                    agency: input.agency.clone(),
                    official: input.official.clone(),
                    notes: input.notes.clone(),
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx
                    .add_law_enforcement_delay(id, &d, &actor(&az), today)
                    .await
                    .map_err(missing("incident", "incidentId"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.delay",
                    "incident",
                    id,
                    json!({ "delay": m.id, "form": m.form, "statedOn": m.stated_on,
                        "endsOn": m.ends_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(delay_object(m)?)
            }
            .await,
        )?;
        Ok(LawEnforcementDelayPayload { delay, user_errors })
    }

    /// Ends a law-enforcement delay on its last day (never later than stated).
    async fn end_law_enforcement_delay(
        &self,
        ctx: &Context<'_>,
        input: EndLawEnforcementDelayInput,
    ) -> Result<LawEnforcementDelayPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (delay, user_errors) = settle(
            async {
                let id = decode_kind(&input.id, Kind::LawEnforcementDelay)
                    .ok_or_else(|| not_found("law-enforcement delay", "id"))?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx
                    .end_law_enforcement_delay(id, input.ends_on, &actor(&az), today)
                    .await
                    .map_err(missing("law-enforcement delay", "id"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.delay.end",
                    "incident",
                    m.incident_id,
                    json!({ "delay": m.id, "endsOn": m.ends_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(delay_object(m)?)
            }
            .await,
        )?;
        Ok(LawEnforcementDelayPayload { delay, user_errors })
    }

    /// Records a breach notice as sent (individuals, media, HHS).
    async fn record_breach_notification(
        &self,
        ctx: &Context<'_>,
        input: RecordBreachNotificationInput,
    ) -> Result<BreachNotificationPayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (notification, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let jurisdiction = match input.jurisdiction.as_deref() {
                    Some(j) => Some(dom::Jurisdiction::from_input(j).map_err(StoreError::from)?),
                    None => None,
                };
                let n = NewNotification {
                    notification: dom::Notification {
                        recipient: to_dom(dom::Recipient::parse(input.recipient.as_str()))?,
                        jurisdiction,
                        sent_on: input.sent_on,
                        method: to_dom(dom::NotificationMethod::parse(input.method.as_str()))?,
                    },
                    recipient_detail: input.recipient_detail.clone(),
                    individuals: input.individuals,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let m = tx
                    .record_breach_notification(id, &n, &actor(&az), today)
                    .await
                    .map_err(missing("incident", "incidentId"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.notify",
                    "incident",
                    id,
                    json!({ "notification": m.id, "recipient": m.recipient,
                        "jurisdiction": m.jurisdiction, "sentOn": m.sent_on }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(notification_object(m)?)
            }
            .await,
        )?;
        Ok(BreachNotificationPayload {
            notification,
            user_errors,
        })
    }

    /// As a business associate, sends a breach notice (164.410) to a covered entity connected to
    /// this tenant as its customer: the notice is written into both tenants, with an audit event
    /// in each.
    async fn send_ba_breach_notice(
        &self,
        ctx: &Context<'_>,
        input: SendBaBreachNoticeInput,
    ) -> Result<BaBreachNoticePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (notice, user_errors) = settle(
            async {
                let id = incident_id(&input.incident_id, "incidentId")?;
                let ce = decode_kind(&input.covered_entity_tenant_id, Kind::Tenant)
                    .ok_or_else(|| not_found("covered entity", "coveredEntityTenantId"))?;
                let notice = NewBaNotice {
                    notice_on: input.notice_on,
                    method: to_dom(dom::NotificationMethod::parse(input.method.as_str()))?,
                    summary: input.summary.clone(),
                    affected_total: input.affected_total,
                };
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let change = json!({ "incident": id, "coveredEntity": ce,
                    "noticeOn": input.notice_on, "affectedTotal": input.affected_total });
                let peer_audit = AuditEntry {
                    actor: grc_domain::audit::Actor::System(format!(
                        "tenant:{}/{}",
                        az.scope.tenant_id(),
                        az.actor.to_stored()
                    )),
                    action: "incident.ba_notice.received".into(),
                    subject_type: "BaBreachNotice".into(),
                    subject_id: id.to_string(),
                    change: json!({ "businessAssociate": az.scope.tenant_id().0,
                        "noticeOn": input.notice_on, "affectedTotal": input.affected_total }),
                };
                let (m, _peer_record) = tx
                    .send_ba_notice(id, ce, &notice, &actor(&az), peer_audit, today)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => not_found(
                            "incident or covered entity connected as customer",
                            "coveredEntityTenantId",
                        ),
                        other => other.into(),
                    })?;
                record(
                    &mut tx,
                    &az,
                    "incident.ba_notice.send",
                    "incident",
                    id,
                    json!({ "notice": m.id, "change": change }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(notice_object(m)?)
            }
            .await,
        )?;
        Ok(BaBreachNoticePayload {
            notice,
            incident: None,
            user_errors,
        })
    }

    /// As a covered entity, records a received business associate's notice in the register:
    /// a new ePHI incident whose discovery date follows the relation (an agent's discovery is
    /// the covered entity's, 164.404(a)(2); else the notice's date).
    async fn accept_ba_breach_notice(
        &self,
        ctx: &Context<'_>,
        input: AcceptBaBreachNoticeInput,
    ) -> Result<BaBreachNoticePayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let r = settle(
            async {
                let id = decode_kind(&input.id, Kind::BaBreachNotice)
                    .ok_or_else(|| not_found("breach notice", "id"))?;
                let relation = to_dom(dom::BaRelation::parse(input.relation.as_str()))?;
                let f = fields_of(&input.fields)?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let today = tenant_today(&tx).await?;
                let (n, inc) = tx
                    .accept_ba_notice(id, relation, &f, &actor(&az), today)
                    .await
                    .map_err(missing("breach notice", "id"))?;
                record(
                    &mut tx,
                    &az,
                    "incident.ba_notice.accept",
                    "incident",
                    inc.id,
                    json!({ "notice": n.id, "discoveredOn": inc.discovered_on,
                        "discoveryBasis": n.discovery_basis }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
                Ok((notice_object(n)?, incident_object(az.scope, inc)?))
            }
            .await,
        )?;
        let (pair, user_errors) = r;
        let (notice, incident) = match pair {
            Some((n, i)) => (Some(n), Some(i)),
            None => (None, None),
        };
        Ok(BaBreachNoticePayload {
            notice,
            incident,
            user_errors,
        })
    }

    /// Deletes an incident with everything recorded under it.
    async fn delete_incident(
        &self,
        ctx: &Context<'_>,
        input: DeleteIncidentInput,
    ) -> Result<DeleteIncidentPayload> {
        let az = authorize(ctx, Operation::ConfigureIsms)?;
        let (deleted_id, user_errors) = settle(
            async {
                let id = incident_id(&input.id, "id")?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                if !tx
                    .delete_incident(id)
                    .await
                    .map_err(missing("incident", "id"))?
                {
                    return Err(not_found("incident", "id"));
                }
                record(&mut tx, &az, "incident.delete", "incident", id, json!({})).await?;
                super::mutation::commit(ctx, tx).await?;
                Ok(input.id.clone())
            }
            .await,
        )?;
        Ok(DeleteIncidentPayload {
            deleted_id,
            user_errors,
        })
    }
}

async fn evidence_link(
    ctx: &Context<'_>,
    input: IncidentEvidenceInput,
    link: bool,
) -> Result<IncidentEvidencePayload> {
    let az = authorize(ctx, Operation::ManageIsms)?;
    let (r, user_errors) = settle(
        async {
            let id = incident_id(&input.incident_id, "incidentId")?;
            let ev = decode_kind(&input.evidence_id, Kind::Evidence)
                .ok_or_else(|| not_found("evidence", "evidenceId"))?;
            let mut tx = store(ctx).tenant_tx(az.scope).await?;
            let changed = if link {
                tx.link_incident_evidence(id, ev, &actor(&az))
                    .await
                    .map_err(missing("incident or evidence", "evidenceId"))?
            } else {
                let inc = tx.incident(id).await?;
                if inc.is_none() {
                    return Err(not_found("incident", "incidentId"));
                }
                tx.unlink_incident_evidence(id, ev).await?
            };
            let inc = reload(&tx, &az, id).await?;
            if changed {
                record(
                    &mut tx,
                    &az,
                    if link {
                        "incident.evidence.link"
                    } else {
                        "incident.evidence.unlink"
                    },
                    "incident",
                    id,
                    json!({ "evidence": ev }),
                )
                .await?;
                super::mutation::commit(ctx, tx).await?;
            }
            Ok((inc, changed))
        }
        .await,
    )?;
    let (incident, changed) = match r {
        Some((i, c)) => (Some(i), c),
        None => (None, false),
    };
    Ok(IncidentEvidencePayload {
        incident,
        changed,
        user_errors,
    })
}
