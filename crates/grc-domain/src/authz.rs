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
}

impl Operation {
    pub const ALL: [Operation; 8] = [
        Self::ReadTenant,
        Self::ReadMembers,
        Self::ManageMembers,
        Self::ReadApiKeys,
        Self::ManageApiKeys,
        Self::ReadAuditEvents,
        Self::ReadCatalog,
        Self::ManageCatalog,
    ];

    /// Whether the operation changes anything (auditors and viewers never may).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Self::ManageMembers | Self::ManageApiKeys | Self::ManageCatalog
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
        }
    }
}

/// Whether `role` may perform `op` in its tenant.
pub fn permits(role: Role, op: Operation) -> bool {
    use Operation::*;
    use Role::*;
    match op {
        ReadTenant | ReadMembers | ReadCatalog => true,
        // Which links count as coverage is a compliance judgement.
        ManageCatalog => matches!(role, Owner | ComplianceManager),
        ManageMembers | ManageApiKeys => role == Owner,
        ReadApiKeys | ReadAuditEvents => matches!(role, Owner | Auditor),
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
                ],
            ),
            (
                ComplianceManager,
                &[ReadTenant, ReadMembers, ReadCatalog, ManageCatalog],
            ),
            (Contributor, &[ReadTenant, ReadMembers, ReadCatalog]),
            (
                Auditor,
                &[
                    ReadTenant,
                    ReadMembers,
                    ReadApiKeys,
                    ReadAuditEvents,
                    ReadCatalog,
                ],
            ),
            (Viewer, &[ReadTenant, ReadMembers, ReadCatalog]),
        ];
        for (role, allowed) in expected {
            for op in Operation::ALL {
                assert_eq!(permits(*role, op), allowed.contains(&op), "{role} {op:?}");
            }
        }
    }

    #[test]
    fn auditors_and_viewers_never_write() {
        for op in Operation::ALL.into_iter().filter(|o| o.is_write()) {
            assert!(!permits(Auditor, op));
            assert!(!permits(Viewer, op));
        }
    }
}
