//! Authorization: which role may perform which operation. This table is the one place where
//! that is decided; every resolver asks it through the API crate's single guard.

use crate::tenancy::Role;

/// Every tenant-scoped operation the API offers. Adding an operation means adding a row here,
/// and the exhaustive match below makes the compiler ask who may perform it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read the current tenant's profile.
    ReadTenant,
    /// List the tenant's members and their roles.
    ReadMembers,
    /// Add a member, change a member's role, remove a member.
    ManageMembers,
    /// List the tenant's API keys (never their secrets).
    ReadApiKeys,
    /// Create and revoke API keys.
    ManageApiKeys,
    /// Read the tenant's audit trail.
    ReadAuditEvents,
    /// Read the framework catalogs, crosswalks, and the tenant's own frameworks, links, reviews
    /// and licensed text.
    ReadCatalog,
    /// Add and change the tenant's own frameworks and links, confirm or reject shared links for
    /// the tenant, attach licensed text, import OSCAL as the tenant's own.
    ManageCatalog,
    /// Read the tenant's ISMS records: scope, context, assets, risks, SoA, documents, evidence
    /// metadata, objectives, audits, nonconformities, reviews, training, derived views.
    ReadIsms,
    /// Create an ISMS, set its scope, risk criteria and context, record HIPAA determinations
    /// (compliance judgements).
    ConfigureIsms,
    /// Create and edit ISMS records. Contributors may change only the records they own
    /// (see [`may_edit_owned`]).
    ManageIsms,
    /// Approve: freeze an SoA version, approve a document version, verify and close a
    /// corrective action.
    ApproveIsms,
    /// Download evidence files (viewers see evidence metadata, never the files).
    DownloadEvidence,
    /// Record the tenant's own certificates and the certification body's audits and decisions
    /// (what a certificate's status is computed from).
    ManageCertificates,
    /// Read the vendor register: vendors, subcontractors, attestations, BAAs, compliance.
    ReadVendors,
    /// Create and edit vendors, attestations and BAAs. Contributors may change only the vendors
    /// they own, and what belongs to them.
    ManageVendors,
    /// Set the attestation requirements per tier and the validity policy (a compliance
    /// judgement).
    ConfigureVendors,
    /// Read connections, shares given and received, access requests, NDAs and receipts, and
    /// read artifacts shared with the tenant (every read leaves a receipt).
    ReadSharing,
    /// Invite and end connections, list artifacts, grant and revoke shares, decide access
    /// requests, keep NDAs (what the tenant lets others see: a compliance judgement).
    ManageSharing,
    /// Accept or decline a connection invitation (the tenant's owner: nobody is made someone's
    /// vendor unasked).
    AnswerConnections,
    /// Request access to a connected tenant's artifact, accept an NDA on the tenant's behalf.
    RequestShares,
    /// Download a document shared with the tenant.
    DownloadShared,
    /// Read the tenant's reminder settings and policies, its webhook endpoints (never their
    /// secrets) and the delivery log (issue 7).
    ReadReminders,
    /// Set the tenant's reminder time zone, send time and policies, and retry a dead-lettered
    /// delivery (who is reminded of what, and when: a compliance judgement).
    ManageReminders,
    /// Add, change, rotate the secret of and delete webhook endpoints (where the tenant's
    /// events go).
    ManageWebhooks,
    /// Read and mark one's own in-app notifications, set one's own daily digest, create and
    /// revoke one's own calendar feeds: every member, about themselves only (a user's own
    /// inbox, not the tenant's data).
    ManageOwnNotifications,
}

impl Operation {
    pub const ALL: [Operation; 26] = [
        Self::ReadTenant,
        Self::ReadMembers,
        Self::ManageMembers,
        Self::ReadApiKeys,
        Self::ManageApiKeys,
        Self::ReadAuditEvents,
        Self::ReadCatalog,
        Self::ManageCatalog,
        Self::ReadIsms,
        Self::ConfigureIsms,
        Self::ManageIsms,
        Self::ApproveIsms,
        Self::DownloadEvidence,
        Self::ManageCertificates,
        Self::ReadVendors,
        Self::ManageVendors,
        Self::ConfigureVendors,
        Self::ReadSharing,
        Self::ManageSharing,
        Self::AnswerConnections,
        Self::RequestShares,
        Self::DownloadShared,
        Self::ReadReminders,
        Self::ManageReminders,
        Self::ManageWebhooks,
        Self::ManageOwnNotifications,
    ];

    /// Whether the operation changes anything (auditors and viewers never may).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Self::ManageMembers
                | Self::ManageApiKeys
                | Self::ManageCatalog
                | Self::ConfigureIsms
                | Self::ManageIsms
                | Self::ApproveIsms
                | Self::ManageCertificates
                | Self::ManageVendors
                | Self::ConfigureVendors
                | Self::ManageSharing
                | Self::AnswerConnections
                | Self::RequestShares
                | Self::ManageReminders
                | Self::ManageWebhooks
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadTenant => "read_tenant",
            Self::ReadMembers => "read_members",
            Self::ManageMembers => "manage_members",
            Self::ReadApiKeys => "read_api_keys",
            Self::ManageApiKeys => "manage_api_keys",
            Self::ReadAuditEvents => "read_audit_events",
            Self::ReadCatalog => "read_catalog",
            Self::ManageCatalog => "manage_catalog",
            Self::ReadIsms => "read_isms",
            Self::ConfigureIsms => "configure_isms",
            Self::ManageIsms => "manage_isms",
            Self::ApproveIsms => "approve_isms",
            Self::DownloadEvidence => "download_evidence",
            Self::ManageCertificates => "manage_certificates",
            Self::ReadVendors => "read_vendors",
            Self::ManageVendors => "manage_vendors",
            Self::ConfigureVendors => "configure_vendors",
            Self::ReadSharing => "read_sharing",
            Self::ManageSharing => "manage_sharing",
            Self::AnswerConnections => "answer_connections",
            Self::RequestShares => "request_shares",
            Self::DownloadShared => "download_shared",
            Self::ReadReminders => "read_reminders",
            Self::ManageReminders => "manage_reminders",
            Self::ManageWebhooks => "manage_webhooks",
            Self::ManageOwnNotifications => "manage_own_notifications",
        }
    }
}

/// Whether `role` may perform `op` in its tenant.
pub fn permits(role: Role, op: Operation) -> bool {
    use Operation::*;
    use Role::*;
    match op {
        ReadTenant
        | ReadMembers
        | ReadCatalog
        | ReadIsms
        | ReadVendors
        | ReadSharing
        | ReadReminders
        | ManageOwnNotifications => true,
        // Which links count as coverage is a compliance judgement; so are an ISMS's scope and
        // criteria, and approvals.
        ManageCatalog | ConfigureIsms | ApproveIsms | ManageCertificates | ConfigureVendors
        | ManageSharing | ManageReminders | ManageWebhooks => {
            matches!(role, Owner | ComplianceManager)
        }
        ManageIsms | ManageVendors | RequestShares => {
            matches!(role, Owner | ComplianceManager | Contributor)
        }
        DownloadEvidence | DownloadShared => {
            matches!(role, Owner | ComplianceManager | Contributor | Auditor)
        }
        ManageMembers | ManageApiKeys | AnswerConnections => role == Owner,
        ReadApiKeys | ReadAuditEvents => matches!(role, Owner | Auditor),
    }
}

/// Whether `role`, acting as user `actor` (None for an API key), may change a record owned by
/// `owner`. Owners and compliance managers change any record; a contributor changes only the
/// records it owns (an unowned record is not its own). Auditors and viewers change nothing.
pub fn may_edit_owned(role: Role, owner: Option<uuid::Uuid>, actor: Option<uuid::Uuid>) -> bool {
    match role {
        Role::Owner | Role::ComplianceManager => true,
        Role::Contributor => owner.is_some() && owner == actor,
        Role::Auditor | Role::Viewer => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;
    use Role::*;

    /// The whole matrix, written out by hand from the product brief: owners do everything,
    /// auditors read everything and write nothing, compliance managers also manage the
    /// catalogs' tenant side, the others read the tenant, its members and the catalogs.
    #[test]
    fn matrix() {
        let expected: &[(Role, &[Operation])] = &[
            (
                Owner,
                &[
                    ReadTenant,
                    ReadMembers,
                    ManageMembers,
                    ReadApiKeys,
                    ManageApiKeys,
                    ReadAuditEvents,
                    ReadCatalog,
                    ManageCatalog,
                    ReadIsms,
                    ConfigureIsms,
                    ManageIsms,
                    ApproveIsms,
                    DownloadEvidence,
                    ManageCertificates,
                    ReadVendors,
                    ManageVendors,
                    ConfigureVendors,
                    ReadSharing,
                    ManageSharing,
                    AnswerConnections,
                    RequestShares,
                    DownloadShared,
                    ReadReminders,
                    ManageReminders,
                    ManageWebhooks,
                    ManageOwnNotifications,
                ],
            ),
            (
                ComplianceManager,
                &[
                    ReadTenant,
                    ReadMembers,
                    ReadCatalog,
                    ManageCatalog,
                    ReadIsms,
                    ConfigureIsms,
                    ManageIsms,
                    ApproveIsms,
                    DownloadEvidence,
                    ManageCertificates,
                    ReadVendors,
                    ManageVendors,
                    ConfigureVendors,
                    ReadSharing,
                    ManageSharing,
                    RequestShares,
                    DownloadShared,
                    ReadReminders,
                    ManageReminders,
                    ManageWebhooks,
                    ManageOwnNotifications,
                ],
            ),
            (
                Contributor,
                &[
                    ReadTenant,
                    ReadMembers,
                    ReadCatalog,
                    ReadIsms,
                    ManageIsms,
                    DownloadEvidence,
                    ReadVendors,
                    ManageVendors,
                    ReadSharing,
                    RequestShares,
                    DownloadShared,
                    ReadReminders,
                    ManageOwnNotifications,
                ],
            ),
            (
                Auditor,
                &[
                    ReadTenant,
                    ReadMembers,
                    ReadApiKeys,
                    ReadAuditEvents,
                    ReadCatalog,
                    ReadIsms,
                    DownloadEvidence,
                    ReadVendors,
                    ReadSharing,
                    DownloadShared,
                    ReadReminders,
                    ManageOwnNotifications,
                ],
            ),
            (
                Viewer,
                &[
                    ReadTenant,
                    ReadMembers,
                    ReadCatalog,
                    ReadIsms,
                    ReadVendors,
                    ReadSharing,
                    ReadReminders,
                    ManageOwnNotifications,
                ],
            ),
        ];
        for (role, allowed) in expected {
            for op in Operation::ALL {
                assert_eq!(permits(*role, op), allowed.contains(&op), "{role} {op:?}");
            }
        }
    }

    #[test]
    fn contributors_edit_only_what_they_own() {
        let me = uuid::Uuid::from_u128(1);
        let other = uuid::Uuid::from_u128(2);
        assert!(may_edit_owned(Contributor, Some(me), Some(me)));
        assert!(!may_edit_owned(Contributor, Some(other), Some(me)));
        assert!(!may_edit_owned(Contributor, None, Some(me)));
        // An API key acting as a contributor owns nothing.
        assert!(!may_edit_owned(Contributor, Some(me), None));
        assert!(may_edit_owned(ComplianceManager, Some(other), Some(me)));
        assert!(may_edit_owned(Owner, None, None));
        assert!(!may_edit_owned(Auditor, Some(me), Some(me)));
        assert!(!may_edit_owned(Viewer, Some(me), Some(me)));
    }

    #[test]
    fn auditors_and_viewers_never_write() {
        for op in Operation::ALL.into_iter().filter(|o| o.is_write()) {
            assert!(!permits(Auditor, op));
            assert!(!permits(Viewer, op));
        }
    }
}
