//! Object types. Every persistent object is a `Node` with an opaque global id.

use super::ids::{Kind, encode, encode2};
use async_graphql::{Enum, ID, Interface, Json, Object};
use chrono::{DateTime, Utc};
use grc_domain::audit::AuditRecord;
use grc_domain::tenancy;
use grc_store::{ApiKeyRecord, MemberRecord, TenantRecord, UserMembership, UserRecord};

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_domain::tenancy::Role")]
pub enum Role {
    /// Everything, including members and API keys.
    Owner,
    /// Runs the ISMS.
    ComplianceManager,
    /// Contributes evidence and records.
    Contributor,
    /// Reads everything, writes nothing.
    Auditor,
    /// Reads the tenant and its members.
    Viewer,
}

/// What a tenant is under HIPAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_domain::tenancy::TenantKind")]
pub enum TenantKind {
    CoveredEntity,
    BusinessAssociate,
    /// Both a covered entity and a business associate.
    Hybrid,
}

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Debug, Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's opaque global id."))]
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Tenant(Tenant),
    User(User),
    Membership(Membership),
    ApiKey(ApiKey),
    AuditEvent(AuditEvent),
    Framework(super::catalog::Framework),
    Control(super::catalog::Control),
    Mapping(super::catalog::Mapping),
    Isms(super::isms::Isms),
    ContextItem(super::isms::ContextItem),
    Asset(super::isms::Asset),
    Risk(super::isms::Risk),
    RiskAssessment(super::isms::RiskAssessment),
    SoaVersion(super::isms::SoaVersion),
    Evidence(super::evidence::Evidence),
    AuditProgramme(super::audits::AuditProgramme),
    InternalAudit(super::audits::InternalAudit),
    AuditFinding(super::audits::AuditFinding),
    Nonconformity(super::audits::Nonconformity),
    ManagementReview(super::audits::ManagementReview),
    Document(super::records::Document),
    DocumentVersion(super::records::DocumentVersion),
    Objective(super::records::Objective),
    ObjectiveResult(super::records::ObjectiveResult),
    TrainingCourse(super::records::TrainingCourse),
    TrainingAssignment(super::records::TrainingAssignment),
    Vendor(super::vendors::Vendor),
    Attestation(super::attestations::Attestation),
    Baa(super::attestations::Baa),
    Certificate(super::certificates::Certificate),
    CertificationAudit(super::certificates::CertificationAudit),
    CertificationDecision(super::certificates::CertificationDecision),
    TenantConnection(super::sharing::TenantConnection),
    ShareListing(super::sharing::ShareListing),
    ShareGrant(super::sharing::ShareGrant),
    Nda(super::sharing::Nda),
    AccessRequest(super::sharing::AccessRequest),
    AccessReceipt(super::sharing::AccessReceipt),
}

/// A covered entity, business associate, or hybrid entity running its ISMS on grc.
#[derive(Debug, Clone)]
pub struct Tenant(pub TenantRecord);

#[Object]
impl Tenant {
    async fn id(&self) -> ID {
        encode(Kind::Tenant, self.0.id.0)
    }
    /// The short name used in the `X-Tenant` header.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> TenantKind {
        self.0.kind.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person.
#[derive(Debug, Clone)]
pub struct User {
    pub id: grc_domain::ids::UserId,
    pub email: String,
    pub display_name: String,
}

impl From<&UserRecord> for User {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        encode(Kind::User, self.id.0)
    }
    async fn email(&self) -> &str {
        &self.email
    }
    async fn display_name(&self) -> &str {
        &self.display_name
    }
}

/// A user's role in a tenant.
#[derive(Debug, Clone)]
pub struct Membership {
    pub tenant: TenantRecord,
    pub user: User,
    pub role: tenancy::Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Membership {
    pub fn of_member(tenant: &TenantRecord, m: MemberRecord) -> Self {
        Self {
            tenant: tenant.clone(),
            user: User {
                id: m.user_id,
                email: m.email,
                display_name: m.display_name,
            },
            role: m.role,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }

    pub fn of_user(user: &UserRecord, m: &UserMembership) -> Self {
        Self {
            tenant: m.tenant.clone(),
            user: user.into(),
            role: m.role,
            created_at: m.since,
            updated_at: m.updated_at,
        }
    }
}

#[Object]
impl Membership {
    async fn id(&self) -> ID {
        encode2(Kind::Membership, self.tenant.id.0, self.user.id.0)
    }
    async fn tenant(&self) -> Tenant {
        Tenant(self.tenant.clone())
    }
    async fn user(&self) -> &User {
        &self.user
    }
    async fn role(&self) -> Role {
        self.role.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// A service API key. Its secret is shown once, when it is created, and never again.
#[derive(Debug, Clone)]
pub struct ApiKey(pub ApiKeyRecord);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        encode(Kind::ApiKey, self.0.id.0)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The role the key acts with in its tenant.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Who created it (`user:<id>` or `api_key:<id>`).
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When the key was last used (recorded at most once a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked(&self) -> bool {
        self.0.revoked_at.is_some()
    }
}

/// One link of the tenant's hash-chained audit trail.
#[derive(Debug, Clone)]
pub struct AuditEvent(pub AuditRecord);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        encode(Kind::AuditEvent, self.0.id)
    }
    /// 1, 2, 3, ... within the tenant, without gaps.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// `user:<id>`, `api_key:<id>` or `system:<name>`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// `noun.verb`, e.g. `member.add`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }
    async fn subject_id(&self) -> &str {
        &self.0.subject_id
    }
    /// The change that was recorded.
    async fn change(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.change).unwrap_or(serde_json::Value::Null))
    }
    /// SHA-256 of the change's canonical JSON, hex.
    async fn change_digest(&self) -> &str {
        &self.0.change_digest
    }
    /// The previous event's hash (64 zeros for the first event).
    async fn prev_hash(&self) -> &str {
        &self.0.prev_hash
    }
    /// SHA-256 over the previous hash and this event's canonical form, hex.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}
