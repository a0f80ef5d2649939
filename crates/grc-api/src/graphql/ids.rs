//! Opaque global ids (`node(id:)`) and cursors: base64url of `Type:key`. Clients must treat
//! both as opaque; the encoding may change.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tenant,
    User,
    Membership,
    ApiKey,
    AuditEvent,
    Framework,
    Control,
    Mapping,
    Isms,
    ContextItem,
    Asset,
    Risk,
    RiskAssessment,
    SoaVersion,
    Evidence,
    Document,
    DocumentVersion,
    Objective,
    ObjectiveResult,
    TrainingCourse,
    TrainingAssignment,
    AuditProgramme,
    InternalAudit,
    AuditFinding,
    Nonconformity,
    ManagementReview,
    Certificate,
    CertificationAudit,
    CertificationDecision,
    Vendor,
    Attestation,
    Baa,
    TenantConnection,
    ShareListing,
    ShareGrant,
    Nda,
    AccessRequest,
    AccessReceipt,
    WebhookEndpoint,
    WebhookSecret,
    Notification,
    CalendarFeed,
    Delivery,
    Incident,
    LawEnforcementDelay,
    BaBreachNotice,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "Tenant",
            Self::User => "User",
            Self::Membership => "Membership",
            Self::ApiKey => "ApiKey",
            Self::AuditEvent => "AuditEvent",
            Self::Framework => "Framework",
            Self::Control => "Control",
            Self::Mapping => "Mapping",
            Self::Isms => "Isms",
            Self::ContextItem => "ContextItem",
            Self::Asset => "Asset",
            Self::Risk => "Risk",
            Self::RiskAssessment => "RiskAssessment",
            Self::SoaVersion => "SoaVersion",
            Self::Evidence => "Evidence",
            Self::Document => "Document",
            Self::DocumentVersion => "DocumentVersion",
            Self::Objective => "Objective",
            Self::ObjectiveResult => "ObjectiveResult",
            Self::TrainingCourse => "TrainingCourse",
            Self::TrainingAssignment => "TrainingAssignment",
            Self::AuditProgramme => "AuditProgramme",
            Self::InternalAudit => "InternalAudit",
            Self::AuditFinding => "AuditFinding",
            Self::Nonconformity => "Nonconformity",
            Self::ManagementReview => "ManagementReview",
            Self::Certificate => "Certificate",
            Self::CertificationAudit => "CertificationAudit",
            Self::CertificationDecision => "CertificationDecision",
            Self::Vendor => "Vendor",
            Self::Attestation => "Attestation",
            Self::Baa => "Baa",
            Self::TenantConnection => "TenantConnection",
            Self::ShareListing => "ShareListing",
            Self::ShareGrant => "ShareGrant",
            Self::Nda => "Nda",
            Self::AccessRequest => "AccessRequest",
            Self::AccessReceipt => "AccessReceipt",
            Self::WebhookEndpoint => "WebhookEndpoint",
            Self::WebhookSecret => "WebhookSecret",
            Self::Notification => "Notification",
            Self::CalendarFeed => "CalendarFeed",
            Self::Delivery => "Delivery",
            Self::Incident => "Incident",
            Self::LawEnforcementDelay => "LawEnforcementDelay",
            Self::BaBreachNotice => "BaBreachNotice",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [
            Self::Tenant,
            Self::User,
            Self::Membership,
            Self::ApiKey,
            Self::AuditEvent,
            Self::Framework,
            Self::Control,
            Self::Mapping,
            Self::Isms,
            Self::ContextItem,
            Self::Asset,
            Self::Risk,
            Self::RiskAssessment,
            Self::SoaVersion,
            Self::Evidence,
            Self::Document,
            Self::DocumentVersion,
            Self::Objective,
            Self::ObjectiveResult,
            Self::TrainingCourse,
            Self::TrainingAssignment,
            Self::AuditProgramme,
            Self::InternalAudit,
            Self::AuditFinding,
            Self::Nonconformity,
            Self::ManagementReview,
            Self::Certificate,
            Self::CertificationAudit,
            Self::CertificationDecision,
            Self::Vendor,
            Self::Attestation,
            Self::Baa,
            Self::TenantConnection,
            Self::ShareListing,
            Self::ShareGrant,
            Self::Nda,
            Self::AccessRequest,
            Self::AccessReceipt,
            Self::WebhookEndpoint,
            Self::WebhookSecret,
            Self::Notification,
            Self::CalendarFeed,
            Self::Delivery,
            Self::Incident,
            Self::LawEnforcementDelay,
            Self::BaBreachNotice,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A global id's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalId {
    pub kind: Kind,
    /// The object's id; for memberships, the tenant.
    pub id: Uuid,
    /// For memberships, the user.
    pub second: Option<Uuid>,
}

pub fn encode(kind: Kind, id: Uuid) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.as_str(), id.simple())))
}

pub fn encode2(kind: Kind, id: Uuid, second: Uuid) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!(
        "{}:{}:{}",
        kind.as_str(),
        id.simple(),
        second.simple()
    )))
}

/// Decodes a global id; `None` for anything malformed (callers answer NOT_FOUND or null).
pub fn decode(id: &str) -> Option<GlobalId> {
    if id.len() > 200 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let s = std::str::from_utf8(&raw).ok()?;
    let mut parts = s.split(':');
    let kind = Kind::parse(parts.next()?)?;
    let id = Uuid::try_parse(parts.next()?).ok()?;
    let second = parts.next().map(Uuid::try_parse).transpose().ok()?;
    if parts.next().is_some() || (kind == Kind::Membership) != second.is_some() {
        return None;
    }
    Some(GlobalId { kind, id, second })
}

/// Decodes a global id that must be of `kind`.
pub fn decode_kind(id: &str, kind: Kind) -> Option<Uuid> {
    decode(id).filter(|g| g.kind == kind).map(|g| g.id)
}

pub fn cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{key}"))
}

pub fn decode_cursor(c: &str) -> Option<String> {
    if c.len() > 200 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("c1:")
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let id = encode(Kind::ApiKey, a);
        assert_eq!(
            decode(&id),
            Some(GlobalId {
                kind: Kind::ApiKey,
                id: a,
                second: None
            })
        );
        assert_eq!(decode_kind(&id, Kind::ApiKey), Some(a));
        assert_eq!(decode_kind(&id, Kind::User), None);
        let m = encode2(Kind::Membership, a, b);
        assert_eq!(
            decode(&m),
            Some(GlobalId {
                kind: Kind::Membership,
                id: a,
                second: Some(b)
            })
        );
        for bad in [
            "",
            "!!!",
            "VXNlcjo",
            &URL_SAFE_NO_PAD.encode("User:xyz"),
            &URL_SAFE_NO_PAD.encode(format!("Membership:{}", a.simple())),
            &URL_SAFE_NO_PAD.encode(format!("Nope:{}", a.simple())),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode_cursor(&cursor("42")), Some("42".into()));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
