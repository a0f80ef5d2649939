//! Sharing between tenants: connections, share grants, access requests, NDAs and the rules that
//! decide what a grantee may see. Everything here is pure: callers pass the time in.
//!
//! A share is a live link. The owner's artifact is read where it lives, through a grant that is
//! live at the moment of the read; there is never a copy that could go stale. A grant names the
//! owner (the tenant whose rows are read), the grantee, one artifact (or "all current and future
//! ISO certificates" of the owner), metadata or document access, an optional expiry and an
//! optional NDA whose current version the grantee must have accepted before a document opens.

use crate::DomainError;
use crate::isms::{ImplementationStatus, text_enum};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum!(
    /// A connection between a covered entity's vendor record and the vendor's tenant.
    ConnectionStatus {
        /// The customer invited the provider; the provider's owner has not answered.
        Invited = "invited",
        Active = "active",
        Declined = "declined",
        /// The customer withdrew the invitation before an answer.
        Cancelled = "cancelled",
        /// Ended by either side; every grant between the two tenants was revoked with it.
        Ended = "ended",
    }
);

impl ConnectionStatus {
    /// Whether the connection still counts (an open invitation or an active link): at most one
    /// per vendor record and per pair of tenants.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Invited | Self::Active)
    }
}

text_enum!(
    /// What a grant shares.
    ArtifactKind {
        /// One of the owner's own ISO certificates, with its audits and decisions.
        Certificate = "certificate",
        /// Every ISO certificate the owner holds now or records later.
        AllIsoCertificates = "all-iso-certificates",
        /// One attestation in the owner's vendor register.
        Attestation = "attestation",
        /// One business associate agreement in the owner's register.
        Baa = "baa",
        /// An ISMS's Statement of Applicability as approved: applicability and implementation
        /// status per control, never evidence.
        SoaSummary = "soa-summary",
    }
);

impl ArtifactKind {
    /// Whether the kind names one artifact by id (all but "all ISO certificates").
    pub fn has_id(self) -> bool {
        self != Self::AllIsoCertificates
    }

    /// Whether an artifact of this kind can carry a document.
    pub fn has_document(self) -> bool {
        !matches!(self, Self::SoaSummary)
    }

    /// The kind of a single artifact a grant of this kind opens (a certificate under "all ISO
    /// certificates").
    pub fn item_kind(self) -> Self {
        match self {
            Self::AllIsoCertificates => Self::Certificate,
            k => k,
        }
    }

    /// Whether a grant of this kind covers an artifact of kind `item`.
    pub fn covers(self, item: Self) -> bool {
        self == item || (self == Self::AllIsoCertificates && item == Self::Certificate)
    }
}

text_enum!(
    /// How much of an artifact a grant opens.
    ShareAccess {
        /// The artifact's data (and its live status), not its document.
        Metadata = "metadata",
        /// The data and the document (behind the grant's NDA, if any).
        Document = "document",
    }
);

text_enum!(
    /// A grant's state at a moment.
    GrantState {
        Live = "live",
        Expired = "expired",
        Revoked = "revoked",
    }
);

/// A grant's state at `now`: revoked from its revocation, expired from its expiry (the expiry
/// instant itself is no longer live), live otherwise.
pub fn grant_state(
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> GrantState {
    match (revoked_at, expires_at) {
        (Some(r), _) if r <= now => GrantState::Revoked,
        (_, Some(e)) if e <= now => GrantState::Expired,
        _ => GrantState::Live,
    }
}

text_enum!(
    /// An access request's state.
    RequestStatus {
        Pending = "pending",
        Approved = "approved",
        Denied = "denied",
        /// Withdrawn by the requester before a decision.
        Withdrawn = "withdrawn",
    }
);

text_enum!(
    /// What happened to an access request, in its history.
    RequestAction {
        Requested = "requested",
        Approved = "approved",
        Denied = "denied",
        Withdrawn = "withdrawn",
    }
);

/// Checks that a request in `status` may take `action` (only a pending request is decided or
/// withdrawn, once).
pub fn check_request_transition(
    status: RequestStatus,
    action: RequestAction,
) -> Result<RequestStatus, DomainError> {
    let next = match action {
        RequestAction::Requested => {
            return Err(DomainError::conflict(
                "requestId",
                "the request already exists",
            ));
        }
        RequestAction::Approved => RequestStatus::Approved,
        RequestAction::Denied => RequestStatus::Denied,
        RequestAction::Withdrawn => RequestStatus::Withdrawn,
    };
    if status != RequestStatus::Pending {
        return Err(DomainError::conflict(
            "requestId",
            format!(
                "the request is already {}; only a pending request can be {}",
                status.as_str(),
                next.as_str()
            ),
        ));
    }
    Ok(next)
}

/// What a grantee may read of one artifact right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The artifact's data.
    pub metadata: bool,
    /// Its document.
    pub document: bool,
    /// Why the document stays closed, when it does.
    pub document_closed: Option<DocumentClosed>,
}

text_enum!(
    /// Why a shared document does not open.
    DocumentClosed {
        /// The grant is for metadata only.
        MetadataOnly = "metadata-only",
        /// The grant needs the current version of its NDA accepted first.
        NdaNotAccepted = "nda-not-accepted",
        /// The artifact has no document.
        NoDocument = "no-document",
        /// The grant is not live.
        NotLive = "not-live",
    }
);

/// The opening rule: nothing through a grant that is not live; the data through a live grant;
/// the document only through a live document grant whose NDA (if any) was accepted in its
/// current version, and only when there is a document.
pub fn opening(
    state: GrantState,
    access: ShareAccess,
    nda_required: bool,
    nda_current_accepted: bool,
    has_document: bool,
) -> Opening {
    let closed = if state != GrantState::Live {
        Some(DocumentClosed::NotLive)
    } else if access == ShareAccess::Metadata {
        Some(DocumentClosed::MetadataOnly)
    } else if nda_required && !nda_current_accepted {
        Some(DocumentClosed::NdaNotAccepted)
    } else if !has_document {
        Some(DocumentClosed::NoDocument)
    } else {
        None
    };
    Opening {
        metadata: state == GrantState::Live,
        document: closed.is_none(),
        document_closed: closed,
    }
}

/// Checks a new grant before it is stored: never to oneself, an expiry in the future, a
/// document grant only of a kind that has documents, an NDA only with document access.
pub fn check_new_grant(
    owner: uuid::Uuid,
    grantee: uuid::Uuid,
    kind: ArtifactKind,
    access: ShareAccess,
    expires_at: Option<DateTime<Utc>>,
    nda: bool,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if owner == grantee {
        return Err(DomainError::invalid(
            "granteeTenantId",
            "a tenant cannot share with itself",
        ));
    }
    if let Some(e) = expires_at
        && e <= now
    {
        return Err(DomainError::invalid(
            "expiresAt",
            "the expiry must be in the future",
        ));
    }
    if access == ShareAccess::Document && !kind.has_document() {
        return Err(DomainError::invalid(
            "access",
            "an SoA summary has no document: share it with metadata access",
        ));
    }
    if nda && access != ShareAccess::Document {
        return Err(DomainError::invalid(
            "ndaId",
            "an NDA guards documents: a metadata grant cannot require one",
        ));
    }
    Ok(())
}

text_enum!(
    /// Whether an SoA entry inherited from a vendor still rests on something.
    InheritanceState {
        /// The vendor's shared SoA summary marks the control implemented.
        Supported = "supported",
        /// The vendor's record is not connected to a tenant (any more).
        NotConnected = "not-connected",
        /// No live SoA summary share from the vendor: revoked, expired or never granted.
        NotShared = "not-shared",
        /// The vendor has no approved SoA version (in the shared ISMS).
        NoApprovedSoa = "no-approved-soa",
        /// The vendor's approved SoA does not list the control, or lists it as not applicable.
        NotApplicable = "not-applicable",
        /// The vendor's approved SoA lists the control as applicable but not implemented.
        NotImplemented = "not-implemented",
    }
);

/// The inheritance rule for one control: supported only while connected, shared, and the
/// vendor's latest approved SoA marks the control applicable and implemented.
pub fn inheritance_state(
    connected: bool,
    shared: bool,
    vendor_entry: Option<Option<(bool, ImplementationStatus)>>,
) -> InheritanceState {
    if !connected {
        return InheritanceState::NotConnected;
    }
    if !shared {
        return InheritanceState::NotShared;
    }
    match vendor_entry {
        None => InheritanceState::NoApprovedSoa,
        Some(None) | Some(Some((false, _))) => InheritanceState::NotApplicable,
        Some(Some((true, ImplementationStatus::Implemented))) => InheritanceState::Supported,
        Some(Some((true, _))) => InheritanceState::NotImplemented,
    }
}

/// A version of an NDA text: its SHA-256 (hex) of the UTF-8 text, which an acceptance records.
pub fn nda_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The SHA-256 (hex) of an artifact's metadata as served to a grantee: its canonical JSON
/// (sorted keys, no whitespace), so that two reads of unchanged data carry the same digest and
/// a changed artifact a new one.
pub fn metadata_digest(value: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(canonical(value).as_bytes()))
}

fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::String(k.clone()),
                        canonical(&m[k])
                    )
                })
                .collect();
            format!("{{{}}}", body.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// A change to a shared artifact that its grantees are told about (the outbox topic is
/// `share.<as_str>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareChange {
    /// The artifact's data changed (an audit, a decision, a new document version, ...).
    Updated,
    /// The artifact's computed status changed (suspended, withdrawn, expired, renewed, ...).
    StatusChanged,
    /// A new artifact came under an "all ISO certificates" grant.
    Added,
    /// The artifact was deleted by its owner.
    Removed,
    /// The grant was revoked or ended with its connection.
    Revoked,
    /// A grant was made to the tenant.
    Granted,
}

impl ShareChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Updated => "updated",
            Self::StatusChanged => "status-changed",
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Revoked => "revoked",
            Self::Granted => "granted",
        }
    }
}
